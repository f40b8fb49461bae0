#!/usr/bin/env bash
# The manual pages (BUILD/man/*.1, made by tools/gen_man.sh from the --help
# texts, installed by make install) are there for tern and for every
# command `tern --help` lists, render without a groff warning, and are true
# to --help: the options in each page's OPTIONS section, read from groff's
# rendering, are exactly the options `tern CMD --help` describes, and the
# NAME line carries the command's line from `tern --help`.
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
tern=$b/tern
[ -x "$tern" ] || { echo "not ok - man_pages: $tern missing"; exit 0; }
command -v groff >/dev/null || { echo "skip - man_pages: groff missing"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Option names from "  -x, --long ARG   text" entries: -x and --long.
opts_of_entries() { # reads entry lines on stdin
    sed -E 's/^ +//; s/  .*//' | tr ',' '\n' | sed -E 's/^ +//' | grep '^-' |
        sed -E 's/( |\[|=).*//' | sort -u
}
# The entries of the OPTIONS section of a page rendered by groff: tags start
# in column 8 (after 7 spaces).
man_opts() { # page
    groff -man -Tascii -P-cbou -rLL=300n -rHY=0 "$1" 2>/dev/null |
        awk '/^[A-Z]/ {on = ($0 == "OPTIONS")} on && /^       [^ ]/' | opts_of_entries
}

commands=$("$tern" --help | awk '/^commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
[ -n "$commands" ] || { echo "not ok - man_pages: no commands in tern --help"; exit 0; }
for page in tern $(for c in $commands; do echo "tern-$c"; done); do
    f=$b/man/$page.1
    if [ ! -s "$f" ]; then
        echo "not ok - man_pages: $f missing"
        continue
    fi
    if groff -man -Tascii -ww -z "$f" 2>"$tmp/warn" && [ ! -s "$tmp/warn" ]; then
        echo "ok - man_pages: $page.1 renders without warnings"
    else
        sed 's/^/    /' "$tmp/warn"; echo "not ok - man_pages: $page.1 renders without warnings"
    fi
    c=${page#tern-}
    if [ "$page" = tern ]; then
        "$tern" --help >"$tmp/help" 2>&1
        summary="a user-space TCP/IP stack"
    else
        "$tern" "$c" --help >"$tmp/help" 2>&1
        summary=$("$tern" --help | awk -v c="$c" '/^commands:/ {on = 1; next} on && $1 == c {sub(/^ *[^ ]+ +/, ""); print; exit}')
    fi
    grep -E '^ {1,4}-' "$tmp/help" | opts_of_entries >"$tmp/help.opts"
    man_opts "$f" >"$tmp/man.opts"
    if [ ! -s "$tmp/help.opts" ]; then
        echo "not ok - man_pages: no options found in the --help of $page"
    elif cmp -s "$tmp/help.opts" "$tmp/man.opts"; then
        echo "ok - man_pages: $page.1 OPTIONS = the $(wc -l <"$tmp/help.opts") options of --help"
    else
        diff "$tmp/help.opts" "$tmp/man.opts" | sed -n 's/^< /    only in --help: /p; s/^> /    only in the page: /p'
        echo "not ok - man_pages: $page.1 OPTIONS and --help name different options"
    fi
    name=$(groff -man -Tascii -P-cbou -rLL=300n -rHY=0 "$f" 2>/dev/null | awk '/^NAME/ {getline; sub(/^ +/, ""); print; exit}')
    if [ "$name" = "$page - $summary" ] || { [ "$page" = tern ] && [ "${name#"tern - $summary"}" != "$name" ]; }; then
        echo "ok - man_pages: $page.1 NAME line"
    else
        echo "    NAME: '$name'"; echo "not ok - man_pages: $page.1 NAME line is '$page - $summary'"
    fi
done
# tern.1 lists every command's page.
missing=
for c in $commands; do
    groff -man -Tascii -P-cbou -rLL=300n "$b/man/tern.1" 2>/dev/null | grep -q "^       tern-$c(1)" || missing="$missing $c"
done
if [ -z "$missing" ]; then echo "ok - man_pages: tern.1 lists every command's page"
else echo "not ok - man_pages: tern.1 does not list:$missing"; fi
# man/tern.3, the library's page (by hand): renders cleanly, names every
# public header and no other, and every tern_ function it names is public.
f3=man/tern.3
if groff -man -Tascii -ww -z "$f3" 2>"$tmp/warn" && [ ! -s "$tmp/warn" ]; then
    echo "ok - man_pages: tern.3 renders without warnings"
else
    sed 's/^/    /' "$tmp/warn"; echo "not ok - man_pages: tern.3 renders without warnings"
fi
groff -man -Tascii -P-cbou -rLL=300n "$f3" 2>/dev/null >"$tmp/tern3.txt"
(cd include && find tern -name '*.h' | sort) >"$tmp/headers"
grep -oE 'tern/(wire/)?[a-z0-9_]+\.h' "$tmp/tern3.txt" | sort -u >"$tmp/named"
if cmp -s "$tmp/headers" "$tmp/named"; then
    echo "ok - man_pages: tern.3 names the $(wc -l <"$tmp/headers") public headers"
else
    diff "$tmp/headers" "$tmp/named" | sed -n 's/^< /    not in tern.3: /p; s/^> /    not a public header: /p'
    echo "not ok - man_pages: tern.3 names exactly the public headers"
fi
/usr/bin/env python3 tools/mark_api.py --list | sort -u >"$tmp/public"
grep -oE 'tern_[a-z0-9_]+\(\)' "$tmp/tern3.txt" | tr -d '()' | sort -u >"$tmp/fns"
unknown=$(comm -23 "$tmp/fns" "$tmp/public")
if [ -s "$tmp/fns" ] && [ -z "$unknown" ]; then
    echo "ok - man_pages: the $(wc -l <"$tmp/fns") functions tern.3 names are public API"
else
    echo "not ok - man_pages: tern.3 names functions that are not public API:" $unknown
fi
# No stale page for a command tern no longer has.
for f in "$b"/man/tern-*.1; do
    [ -e "$f" ] || continue
    c=$(basename "$f" .1); c=${c#tern-}
    echo "$commands" | grep -qx "$c" || echo "not ok - man_pages: $f documents '$c', which tern --help does not list"
done
