#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# `tern get` against curl: the same URLs from the same namespace (a TAP
# device in a network namespace this script creates; no route out; removed
# on exit), served by python3's http.server and by canned replies from nc,
# must end with curl's exit status:
#   200 -> 0; 404 -> 0 (body written), with -f 22; a directory without its
#   slash (301) -> 0, with -L the listing, with -L --max-redirs 0 47; a
#   closed port 7; a body cut short (Content-Length larger) 18; a
#   connection closed without a reply 52. A name from /etc/hosts (ip netns
#   exec's /etc/netns/NS/hosts) works for both.
# And what curl does not do: `tern get -o FILE` stopped by SIGUSR1 or SIGINT
# mid-body exits 128+N (138, 130) and leaves no FILE.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_get curl nc timeout /usr/bin/python3

ns=tern-get-$$
peer_cleanup_hook() {
    rm -rf "/etc/netns/$ns"
}

peer_netns "$ns"
mkdir -p "/etc/netns/$ns"
printf '127.0.0.1 localhost\n10.76.0.1 web.test\n' >"/etc/netns/$ns/hosts"
ip -n "$ns" tuntap add dev tget0 mode tap
ip -n "$ns" addr add 10.76.0.1/24 dev tget0
ip -n "$ns" link set tget0 up
L=10.76.0.1
topts=(--tap tget0 --addr 10.76.0.2/24 --mac 02:7e:72:6e:00:76)
mkdir -p "$tmp/www/dir"
echo hello >"$tmp/www/index.html"
echo listing-me >"$tmp/www/dir/index.html"
(cd "$tmp/www" && exec ip netns exec "$ns" /usr/bin/python3 -m http.server -b $L 8000 \
    >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do inns curl -s -o /dev/null http://$L:8000/ && break; sleep 0.1; done

# same_exit NAME EXPECTED URL [flags...]: curl and tern get end alike
same_exit() {
    local name=$1 want=$2 url=$3; shift 3
    inns timeout 20 curl -s -o "$tmp/curl.out" "$@" "$url"
    local crc=$?
    inns timeout 20 "$tern" get -q "${topts[@]}" -o "$tmp/tern.out" "$@" "$url" 2>"$tmp/tern.err"
    local trc=$?
    if [ $crc -eq "$want" ] && [ $trc -eq $crc ]; then
        ok "$name: tern get exits $trc as curl does"
    else
        nok "$name: curl $crc, tern get $trc (expected $want)"
        sed 's/^/# /' "$tmp/tern.err"
    fi
}
# canned REPLY-FILE: one connection on port 8001 answered with the file
canned() {
    inns timeout 20 nc -l -N $L 8001 <"$1" >/dev/null 2>&1 &
    sleep 0.3
}

same_exit "200" 0 http://$L:8000/index.html
if cmp -s "$tmp/tern.out" "$tmp/www/index.html"; then ok "200: the body"; else nok "200: the body"; fi
same_exit "name from /etc/hosts" 0 http://web.test:8000/index.html
same_exit "404" 0 http://$L:8000/nope
same_exit "404 with -f" 22 http://$L:8000/nope -f
if [ ! -e "$tmp/tern.out" ]; then ok "404 with -f: no -o file left"; else nok "404 with -f: $tmp/tern.out left"; fi
same_exit "301 without -L" 0 http://$L:8000/dir
same_exit "301 with -L" 0 http://$L:8000/dir -L
if cmp -s "$tmp/tern.out" "$tmp/www/dir/index.html"; then ok "301 with -L: only the last body"; else nok "301 with -L: the body differs"; fi
same_exit "-L --max-redirs 0" 47 http://$L:8000/dir -L --max-redirs 0
same_exit "closed port" 7 http://$L:8009/

printf 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort' >"$tmp/short"
printf '' >"$tmp/empty"
canned "$tmp/short"; inns timeout 20 curl -s -o /dev/null http://$L:8001/; crc=$?
canned "$tmp/short"; inns timeout 20 "$tern" get -q "${topts[@]}" -o "$tmp/p.out" http://$L:8001/ 2>/dev/null; trc=$?
if [ $crc -eq 18 ] && [ $trc -eq 18 ] && [ ! -e "$tmp/p.out" ]; then
    ok "body cut short: exit 18 as curl, no partial file"
else
    nok "body cut short: curl $crc, tern get $trc"
fi
canned "$tmp/empty"; inns timeout 20 curl -s -o /dev/null http://$L:8001/; crc=$?
canned "$tmp/empty"; inns timeout 20 "$tern" get -q "${topts[@]}" http://$L:8001/ >/dev/null 2>&1; trc=$?
if [ $crc -eq 52 ] && [ $trc -eq 52 ]; then
    ok "empty reply: exit 52 as curl"
else
    nok "empty reply: curl $crc, tern get $trc"
fi

# a body that stalls: the signal arrives mid-transfer
for sig in USR1 INT; do
    { printf 'HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial'; sleep 8; } |
        inns timeout 20 nc -l -N $L 8002 >/dev/null 2>&1 &
    np=$!
    sleep 0.3
    ip netns exec "$ns" "$tern" get -q "${topts[@]}" -o "$tmp/stall.out" http://$L:8002/ \
        2>/dev/null &
    gp=$!
    for _ in $(seq 50); do [ -s "$tmp/stall.out" ] && break; sleep 0.1; done
    had=$([ -s "$tmp/stall.out" ] && echo yes || echo no)
    # the tool runs inside `ip netns exec`, which execs it: same pid
    kill -$sig $gp
    wait $gp
    rc=$?
    want=$((128 + $(kill -l $sig)))
    if [ "$had" = yes ] && [ $rc -eq $want ] && [ ! -e "$tmp/stall.out" ]; then
        ok "tern get -o stopped by SIG$sig mid-body: exit $rc, the partial file removed"
    else
        nok "tern get -o stopped by SIG$sig: partial seen $had, exit $rc (want $want), file $(ls "$tmp/stall.out" 2>/dev/null || echo gone)"
    fi
    kill $np 2>/dev/null
    wait $np 2>/dev/null
done
