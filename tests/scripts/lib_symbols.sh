#!/usr/bin/env bash
# libtern.so exports the public API and nothing else: every dynamic symbol
# it defines is named tern_* and is declared with TERN_API in include/tern/
# (tools/mark_api.py --list), and every such declaration is exported. The
# library is compiled with -fvisibility=hidden (docs/architecture.md, "The
# library's symbols"), so an internal name (ip_output, tcp_input, ...)
# never collides with an embedder's or another stack's (lwIP has both).
# Also: the soname and the version agree with include/tern/version.h.
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
so=$b/libtern.so
[ -e "$so" ] || { echo "not ok - lib_symbols: $so missing"; exit 0; }
command -v nm >/dev/null || { echo "skip - lib_symbols: nm missing (binutils)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{print $NF}' | sort -u >"$tmp/exported"
if [ ! -s "$tmp/exported" ]; then
    echo "not ok - lib_symbols: nm -D found no symbols in $so"
    exit 0
fi
# Sanitizer runtimes define their own interface symbols in an instrumented
# library (__asan_*, __ubsan_*, __tsan_*, __sanitizer_*); they are not tern's.
grep -vE '^__(asan|ubsan|tsan|lsan|sanitizer)_' "$tmp/exported" >"$tmp/ours"
bad=$(grep -v '^tern_' "$tmp/ours")
if [ -z "$bad" ]; then
    echo "ok - lib_symbols: all $(wc -l <"$tmp/ours") symbols libtern.so exports are named tern_*"
else
    echo "$bad" | head -n 40 | sed 's/^/    leaks: /'
    echo "not ok - lib_symbols: libtern.so exports $(echo "$bad" | wc -l) names not starting with tern_"
fi
if ! /usr/bin/env python3 tools/mark_api.py --list | sort -u >"$tmp/declared" || [ ! -s "$tmp/declared" ]; then
    echo "not ok - lib_symbols: tools/mark_api.py --list failed"
    exit 0
fi
missing=$(comm -23 "$tmp/declared" "$tmp/ours")
extra=$(comm -13 "$tmp/declared" "$tmp/ours")
if [ -z "$missing" ]; then
    echo "ok - lib_symbols: every function declared in include/tern/ ($(wc -l <"$tmp/declared")) is exported"
else
    echo "$missing" | sed 's/^/    not exported (TERN_API missing? tools\/mark_api.py adds it): /'
    echo "not ok - lib_symbols: $(echo "$missing" | wc -l) public functions are not exported"
fi
if [ -z "$extra" ]; then
    echo "ok - lib_symbols: libtern.so exports nothing that include/tern/ does not declare"
else
    echo "$extra" | sed 's/^/    exported, not declared in include\/tern\/: /'
    echo "not ok - lib_symbols: libtern.so exports $(echo "$extra" | wc -l) names include/tern/ does not declare"
fi
if out=$(/usr/bin/env python3 tools/mark_api.py --check); then
    echo "ok - lib_symbols: every public declaration carries TERN_API"
else
    echo "$out" | sed 's/^/    /'
    echo "not ok - lib_symbols: public declarations without TERN_API"
fi
major=$(sed -n 's/^#define TERN_VERSION_MAJOR \([0-9]*\)$/\1/p' include/tern/version.h)
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ -n "$major" ] && [ "$soname" = "libtern.so.$major" ]; then
    echo "ok - lib_symbols: soname $soname matches TERN_VERSION_MAJOR"
else
    echo "not ok - lib_symbols: soname '$soname', TERN_VERSION_MAJOR '$major'"
fi
