#!/usr/bin/env bash
# Installs tern into a temporary prefix with `make install PREFIX=...` and
# builds examples/build_packet.c against it through pkg-config, twice: linked
# to the shared library and statically. Both programs must run and print the
# frame they built and parsed back.
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
command -v pkg-config >/dev/null || { echo "skip - install_pkgconfig: pkg-config missing"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! make --no-print-directory -s install BUILD="$b" PREFIX="$tmp/prefix" >"$tmp/log" 2>&1; then
    cat "$tmp/log"; echo "not ok - make install"; exit 1
fi
echo "ok - make install PREFIX=..."
for f in include/tern/err.h include/tern/wire/tcp.h lib/libtern.a lib/libtern.so lib/pkgconfig/tern.pc bin/tern; do
    if [ -e "$tmp/prefix/$f" ]; then echo "ok - installed $f"; else echo "not ok - installed $f"; fi
done
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
san=""
case "$b" in *asan*) san="-fsanitize=address,undefined" ;; esac
cc_=${CC:-cc}
[ -n "$san" ] && cc_=clang
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror examples/build_packet.c $(pkg-config --cflags --libs tern) \
      -o "$tmp/ex_shared" 2>"$tmp/err" &&
   out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/ex_shared") &&
   [ "$out" = '53-byte frame: 192.0.2.1.40000 > 192.0.2.2.7 UDP "hello, tern"' ]; then
    echo "ok - example via pkg-config, shared library"
else
    cat "$tmp/err"; echo "got: ${out:-}"; echo "not ok - example via pkg-config, shared library"
fi
# Make sure it really linked the installed shared library, not something else.
if LD_LIBRARY_PATH="$tmp/prefix/lib" ldd "$tmp/ex_shared" 2>/dev/null | grep -q "$tmp/prefix/lib/libtern.so"; then
    echo "ok - example resolves libtern.so from the install prefix"
else
    echo "not ok - example resolves libtern.so from the install prefix"
fi
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror examples/build_packet.c \
      $(pkg-config --cflags tern) "$tmp/prefix/lib/libtern.a" -o "$tmp/ex_static" 2>"$tmp/err" &&
   out=$("$tmp/ex_static") && [ "${out%% *}" = "53-byte" ]; then
    echo "ok - example via pkg-config, static library"
else
    cat "$tmp/err"; echo "not ok - example via pkg-config, static library"
fi
# examples/embed.c: two stacks in the embedder's own poll() loop.
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE examples/embed.c \
      $(pkg-config --cflags --libs tern) -o "$tmp/embed" 2>"$tmp/err" &&
   out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" timeout 10 "$tmp/embed") &&
   [ "$(printf '%s\n' "$out" | grep -cE '^reply from 192\.0\.2\.2: seq=[123] ttl=64 time=[0-9]+ us$')" -eq 3 ] &&
   [ "$(printf '%s\n' "$out" | tail -n 1)" = "3 replies" ]; then
    echo "ok - examples/embed.c: tern in the embedder's own loop, 3 echo replies"
else
    cat "$tmp/err"; echo "got: ${out:-}"; echo "not ok - examples/embed.c: tern in the embedder's own loop"
fi
