#!/usr/bin/env bash
# Devices and their errors, as a new user meets them, in a network namespace
# this script creates (removed on exit):
#   - `ip link del` of the TAP under a running `tern serve`: it exits 1 with
#     "tern: IF: device removed" within 2 s, using little CPU (it used to
#     spin at 100% forever: read() fails, epoll keeps reporting the fd);
#   - a missing --tap name is an error that creates nothing ("no such
#     device (use --create to make one)"); --create makes it and removes it
#     again at exit;
#   - a TUN given as --tap, an --mtu above the device's, no CAP_NET_ADMIN,
#     and a mistyped --impair key, each one line in plain words.
# KEEP=1 copies the temporary directory to /tmp/peer_devices_keep.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_devices timeout setpriv

ns=tern-dev-$$
chmod 755 "$tmp"
[ -n "${KEEP:-}" ] && echo "tmp: $tmp"
exists() { ip -n "$ns" link show "$1" >/dev/null 2>&1; }

peer_netns "$ns"
ip -n "$ns" tuntap add dev tdev0 mode tap
ip -n "$ns" addr add 10.84.0.1/24 dev tdev0
ip -n "$ns" link set tdev0 up
ip -n "$ns" tuntap add dev tdevtun mode tun

# 1. The TAP deleted under a running server.
# bash's `time` reports the wall clock and the CPU the server used.
(TIMEFORMAT='%R %U %S'; time inns "$tern" serve --tap tdev0 --addr 10.84.0.2/24 --for 60 \
    >/dev/null 2>"$tmp/serve.err"; echo "rc $?" >"$tmp/serve.rc") 2>"$tmp/serve.time" &
spid=$!
pids+=($spid)
for _ in $(seq 50); do grep -q running "$tmp/serve.err" 2>/dev/null && break; sleep 0.1; done
cp "$tmp/serve.err" "$tmp/err"
check "tern serve runs on tdev0" grep -q 'running' "$tmp/serve.err"
sleep 0.3
t0=$(date +%s.%N)
ip -n "$ns" link del tdev0
for _ in $(seq 40); do [ -s "$tmp/serve.rc" ] && break; sleep 0.1; done
t1=$(date +%s.%N)
# Still running (the old spin): kill tern itself (the subshell's child), by id.
for p in $(pgrep -P "$spid" 2>/dev/null); do kill "$p" 2>/dev/null; done
wait "$spid" 2>/dev/null
cp "$tmp/serve.err" "$tmp/err"
check "tern serve exits once its TAP is deleted (within 2 s)" \
    awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2.0) }'
check "... with status 1" grep -qx 'rc 1' "$tmp/serve.rc"
check "... saying 'tern: tdev0: device removed'" grep -qx 'tern: tdev0: device removed' "$tmp/serve.err"
# The whole run (about 0.8 s of it before the deletion) in CPU seconds.
read -r _ user sys <"$tmp/serve.time" 2>/dev/null
check "... having used little CPU (user $user s, sys $sys s)" \
    awk -v u="${user:-99}" -v s="${sys:-99}" 'BEGIN { exit !(u + s < 0.5) }'

# 2. A missing device: an error, and nothing created.
inns timeout 5 "$tern" ping -c 1 -W 0.2 --tap tdevX --addr 10.84.0.2/24 10.84.0.1 >/dev/null 2>"$tmp/err"
rc=$?
check "tern ping --tap MISSING exits 1" [ $rc -eq 1 ]
check "... saying 'tdevX: no such device (use --create to make one)'" \
    grep -qx 'tern ping: tdevX: no such device (use --create to make one)' "$tmp/err"
check "... and creates no tdevX" bash -c "! ip -n $ns link show tdevX >/dev/null 2>&1"
inns timeout 5 "$tern" router --tap tdevA 10.85.1.1/24 --tap tdevB 10.85.2.1/24 >/dev/null 2>"$tmp/err" &&
    rc=0 || rc=$?
check "tern router --tap MISSING exits 1 saying so" \
    bash -c "[ $rc -eq 1 ] && grep -qx 'tern router: tdevA: no such device (use --create to make one)' '$tmp/err'"

# 3. --create makes the device for the run and removes it afterwards.
inns "$tern" serve --create --tap tdevnew --addr 10.84.1.2/24 --for 1 >/dev/null 2>"$tmp/err" &
cpid=$!
pids+=($cpid)
seen=no
for _ in $(seq 20); do exists tdevnew && { seen=yes; break; }; sleep 0.05; done
wait "$cpid"
rc=$?
check "tern serve --create --tap NEW makes it and runs (status $rc)" \
    bash -c "[ $seen = yes ] && [ $rc -eq 0 ]"
check "... and it is gone after the run" bash -c "! ip -n $ns link show tdevnew >/dev/null 2>&1"

# 4. A TUN given as --tap.
ip -n "$ns" tuntap add dev tdev1 mode tap
inns "$tern" serve --tap tdevtun --addr 10.84.0.2/24 --for 1 >/dev/null 2>"$tmp/err"
rc=$?
check "--tap TUN exits 1 saying 'tdevtun is a TUN device, not TAP'" \
    bash -c "[ $rc -eq 1 ] && grep -qx 'tern serve: tdevtun is a TUN device, not TAP' '$tmp/err'"
inns "$tern" serve --tun tdev1 --addr 10.84.0.2/24 --for 1 >/dev/null 2>"$tmp/err"
rc=$?
check "--tun TAP exits 1 saying 'tdev1 is a TAP device, not TUN'" \
    bash -c "[ $rc -eq 1 ] && grep -qx 'tern serve: tdev1 is a TAP device, not TUN' '$tmp/err'"
inns "$tern" serve --tap lo --addr 10.84.0.2/24 --for 1 >/dev/null 2>"$tmp/err"
rc=$?
check "--tap lo exits 1 saying 'lo is not a TUN/TAP device'" \
    bash -c "[ $rc -eq 1 ] && grep -qx 'tern serve: lo is not a TUN/TAP device' '$tmp/err'"

# 5. An --mtu the device cannot carry.
inns "$tern" serve --tap tdev1 --addr 10.84.0.2/24 --mtu 1501 --for 1 >/dev/null 2>"$tmp/err"
rc=$?
check "--mtu 1501 on a 1500 TAP exits 2 saying 'MTU 1501 exceeds tdev1's MTU 1500'" \
    bash -c "[ $rc -eq 2 ] && grep -qx \"tern serve: MTU 1501 exceeds tdev1's MTU 1500\" '$tmp/err'"
inns "$tern" serve --tap tdev1 --addr 10.84.0.2/24 --mtu 1500 --for 0.2 >/dev/null 2>"$tmp/err"
check "--mtu 1500 on a 1500 TAP runs" [ $? -eq 0 ]

# 6. Without CAP_NET_ADMIN (user nobody; the TAP belongs to no user).
cp "$tern" "$tmp/tern"
chmod 755 "$tmp/tern"
inns setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/tern" serve --tap tdev1 \
    --addr 10.84.0.2/24 --for 1 >/dev/null 2>"$tmp/err"
rc=$?
check "no CAP_NET_ADMIN: exits 1 saying 'needs root or CAP_NET_ADMIN'" \
    bash -c "[ $rc -eq 1 ] && grep -qx 'tern serve: cannot open tdev1: needs root or CAP_NET_ADMIN' '$tmp/err'"

# 7. A mistyped --impair key is named, with the valid ones.
inns timeout 5 "$tern" ping --tap tdev1 --addr 10.84.0.2/24 --impair loss=1%,lose=5% 10.84.0.1 >/dev/null 2>"$tmp/err"
rc=$?
check "--impair lose=5% exits 2 naming 'lose' and the valid keys" \
    bash -c "[ $rc -eq 2 ] && grep -qx \"tern ping: --impair loss=1%,lose=5%: unknown key 'lose' (keys: loss, dup, reorder, corrupt, delay, jitter, reorder-delay, rate, seed)\" '$tmp/err'"
inns timeout 5 "$tern" ping --tap tdev1 --addr 10.84.0.2/24 --impair loss=500% 10.84.0.1 >/dev/null 2>"$tmp/err"
rc=$?
check "--impair loss=500% exits 2 naming the value" \
    bash -c "[ $rc -eq 2 ] && grep -q \"bad value '500%' for loss\" '$tmp/err'"
exit 0
