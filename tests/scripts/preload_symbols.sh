#!/usr/bin/env bash
# libtern-preload.so (docs/run.md) exports exactly the libc functions it
# interposes and nothing else (it is built with -fvisibility=hidden): every
# dynamic symbol it defines is also defined by the C library, so no name of
# the shim's own can collide with a program's; and it links nothing but libc
# (and libdl/libpthread, which glibc 2.34+ folds into libc).
set -u
b=${1:?build dir}
so=$b/libtern-preload.so
[ -e "$so" ] || { echo "not ok - preload_symbols: $so missing"; exit 0; }
command -v nm >/dev/null || { echo "skip - preload_symbols: nm missing (binutils)"; exit 0; }
libc=$(ldd "$so" | awk '/libc\.so/ {print $3}')
[ -e "$libc" ] || { echo "not ok - preload_symbols: libc not found by ldd $so"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{print $NF}' | sort -u >"$tmp/shim"
nm -D --defined-only "$libc" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$tmp/libc"
extra=$(comm -23 "$tmp/shim" "$tmp/libc")
n=$(wc -l <"$tmp/shim")
if [ "$n" -ge 30 ] && [ -z "$extra" ]; then
    echo "ok - preload_symbols: all $n symbols libtern-preload.so exports are libc functions"
else
    echo "$extra" | sed 's/^/    not libc: /'
    echo "not ok - preload_symbols: libtern-preload.so exports $n symbols, $(echo -n "$extra" | grep -c .) not libc's"
fi
for f in socket connect accept4 read write poll ppoll getaddrinfo sendfile splice fcntl ioctl; do
    grep -qx "$f" "$tmp/shim" || echo "not ok - preload_symbols: $f is not interposed"
done
deps=$(ldd "$so" | awk '{print $1}' | grep -v -E '^(linux-vdso|/lib64/ld-linux|libc\.so|libdl\.so|libpthread\.so)')
if [ -z "$deps" ]; then
    echo "ok - preload_symbols: libtern-preload.so needs only libc"
else
    echo "not ok - preload_symbols: libtern-preload.so also needs: $deps"
fi
