#!/usr/bin/env bash
# The SVG plots of src/sim/tcpplot*.c are well-formed XML: the tcpplot unit
# tests write theirs into a temporary directory (TERN_PLOT_OUT) and xmllint
# parses each one; the scripted-loss graph carries its 3 retransmission
# marks, counted here by a tool that is not tern.
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
command -v xmllint >/dev/null || { echo "skip - plot_check: xmllint missing (libxml2-utils)"; exit 0; }
[ -x "$b/unit_tests" ] || { echo "not ok - plot_check: $b/unit_tests missing"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if TERN_PLOT_OUT=$tmp "$b/unit_tests" tcpplot_ >"$tmp/log" 2>&1 && grep -q '^ok - ' "$tmp/log"; then
    echo "ok - plot_check: tcpplot tests wrote their SVGs"
else
    echo "not ok - plot_check: tcpplot tests failed"
    sed 's/^/    /' "$tmp/log"
fi
n=0
for f in "$tmp"/*.svg; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    if xmllint --noout "$f" 2>"$tmp/err"; then
        echo "ok - plot_check: $(basename "$f") is well-formed XML"
    else
        echo "not ok - plot_check: $(basename "$f") is not well-formed"
        sed 's/^/    /' "$tmp/err" | head -20
    fi
done
[ "$n" -ge 6 ] && echo "ok - plot_check: $n SVGs checked" || echo "not ok - plot_check: only $n SVGs written"
# Count the marks with XPath: an independent reading of the document.
marks=$(xmllint --xpath 'count(//*[local-name()="path"][@class="rtx"])' "$tmp/loss_tsg.svg" 2>/dev/null)
if [ "$marks" = "3" ]; then
    echo "ok - plot_check: scripted loss graph has 3 retransmission marks"
else
    echo "not ok - plot_check: scripted loss graph has '$marks' retransmission marks, want 3"
fi
marks=$(xmllint --xpath 'count(//*[local-name()="path"][@class="rtx"])' "$tmp/loss_cwnd.svg" 2>/dev/null)
if [ "$marks" = "3" ]; then
    echo "ok - plot_check: scripted loss cwnd plot marks the same 3 retransmissions"
else
    echo "not ok - plot_check: scripted loss cwnd plot has '$marks' retransmission marks, want 3"
fi
# SACK blocks are painted before (under) the data bars (document order)
order=$(xmllint --xpath 'count(//*[local-name()="path"][@class="seg"][preceding::*[local-name()="path"][@class="sack"][not(contains(@d,"h18"))]])' "$tmp/loss_tsg.svg" 2>/dev/null)
if [ "$order" = "1" ]; then
    echo "ok - plot_check: SACK blocks are drawn under the data segments"
else
    echo "not ok - plot_check: the data segments' path does not follow the SACK blocks' ($order)"
fi
