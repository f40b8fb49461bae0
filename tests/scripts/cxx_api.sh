#!/usr/bin/env bash
# The public API from C++: tests/cxx/api_test.cpp includes every header of
# include/tern/ (checked here against the directory), is compiled with
# -Wall -Wextra -Wpedantic -Werror (g++; clang++ with the sanitizer of an
# ASan or TSan build) against BUILD/libtern.so, and run: it makes two stacks
# on a virtual loop and sends UDP and TCP between them.
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
src=tests/cxx/api_test.cpp
[ -e "$b/libtern.so" ] || { echo "not ok - cxx_api: $b/libtern.so missing"; exit 0; }
missing=
for h in $(cd include && find tern -name '*.h' | sort); do
    grep -qx "#include <$h>" "$src" || missing="$missing $h"
done
if [ -z "$missing" ]; then
    echo "ok - cxx_api: $src includes every public header"
else
    echo "not ok - cxx_api: $src does not include:$missing"
fi
# Every public header that declares anything has its extern "C" block (a
# header missing it still compiles; only calls into it would fail to link).
noextern=
for h in $(find include/tern -name '*.h' | sort); do
    [ "$h" = include/tern/api.h ] && continue
    grep -q '^extern "C" {$' "$h" || noextern="$noextern $h"
done
if [ -z "$noextern" ]; then
    echo "ok - cxx_api: every public header has an extern \"C\" block"
else
    echo "not ok - cxx_api: no extern \"C\" block in:$noextern"
fi
cxx=(g++)
case "$(basename "$b")" in
    asan) cxx=(clang++ -fsanitize=address,undefined -fno-sanitize-recover=all) ;;
    tsan) cxx=(clang++ -fsanitize=thread) ;;
esac
command -v "${cxx[0]}" >/dev/null || { echo "skip - cxx_api: ${cxx[0]} missing"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abs=$(cd "$b" && pwd)
if ! "${cxx[@]}" -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iinclude "$src" \
        -L"$abs" -ltern -Wl,-rpath,"$abs" -o "$tmp/api_test" 2>"$tmp/err"; then
    sed 's/^/    /' "$tmp/err" | head -n 40
    echo "not ok - cxx_api: $src builds with ${cxx[0]} -Wall -Wextra -Wpedantic -Werror"
    exit 0
fi
echo "ok - cxx_api: $src builds with ${cxx[0]} -Wall -Wextra -Wpedantic -Werror against libtern.so"
if ldd "$tmp/api_test" | grep -q "$abs/libtern.so"; then
    echo "ok - cxx_api: the program runs with $b/libtern.so"
else
    echo "not ok - cxx_api: the program runs with $b/libtern.so"
fi
timeout 20 "$tmp/api_test" 2>&1
rc=$?
[ "$rc" -eq 0 ] || echo "not ok - cxx_api: api_test exited with status $rc"
