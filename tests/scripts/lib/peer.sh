# tests/scripts/lib/peer.sh - the frame every peer test shares (sourced by
# tests/scripts/peer_*.sh from the repository root).
#
#   peer_setup NAME [--no-tun] CMD...
#       Prints "skip - NAME: WHY" and exits 0 unless the script runs as root,
#       /dev/net/tun exists (not checked with --no-tun) and ip and every CMD
#       are on PATH; a CMD written as an absolute path must be executable.
#       Then makes $tmp (a fresh directory) and the EXIT trap that stops
#       every pid in the pids array (SIGTERM), waits, deletes every namespace
#       made by peer_netns and removes $tmp; peer_cleanup_hook, if the
#       script defines it, runs first (KEEP=1 copies it to /tmp/NAME_keep first).
#   peer_netns NS...
#       Creates each namespace with its loopback up (exit 1 on failure);
#       the first one ever made becomes $ns (which inns uses) unless the
#       script set $ns itself.
#   ok NAME / nok NAME / check NAME CMD...
#       TAP-style result lines; nok also sets peer_failed=1.
#   inns CMD...   runs CMD in $ns.
#   stop_bg       SIGTERMs every pid in pids and waits (a non-interactive
#                 shell's background jobs ignore SIGINT).
#   same A B      true when files A and B have equal sha256 sums.

peer_name=
peer_ns_list=()
peer_failed=0
pids=()

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; peer_failed=1; }
check() { # name, command...
    local name=$1; shift
    if "$@"; then ok "$name"; else nok "$name"; fi
}
inns() { ip netns exec "$ns" "$@"; }
stop_bg() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait 2>/dev/null
    pids=()
}
same() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

peer_cleanup() {
    local p n
    if declare -F peer_cleanup_hook >/dev/null; then peer_cleanup_hook; fi
    for p in "${pids[@]}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
    wait 2>/dev/null
    for n in "${peer_ns_list[@]}"; do ip netns del "$n" 2>/dev/null; done
    if [ -n "${KEEP:-}" ] && [ -n "${tmp:-}" ]; then
        rm -rf "/tmp/${peer_name}_keep"
        cp -r "$tmp" "/tmp/${peer_name}_keep" && echo "# kept in /tmp/${peer_name}_keep"
    fi
    [ -n "${tmp:-}" ] && rm -rf "$tmp"
}

peer_setup() {
    peer_name=$1; shift
    local tun=1 c
    if [ "${1:-}" = --no-tun ]; then tun=0; shift; fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "skip - $peer_name: needs root for network namespaces"; exit 0
    fi
    for c in ip "$@"; do
        case $c in
        /*) [ -x "$c" ] || { echo "skip - $peer_name: $c missing"; exit 0; } ;;
        *) command -v "$c" >/dev/null || { echo "skip - $peer_name: $c missing"; exit 0; } ;;
        esac
    done
    if [ $tun -eq 1 ] && [ ! -c /dev/net/tun ]; then
        echo "skip - $peer_name: /dev/net/tun missing"; exit 0
    fi
    tmp=$(mktemp -d)
    trap peer_cleanup EXIT
}

peer_netns() {
    local n
    for n in "$@"; do
        ip netns add "$n" || { nok "create namespace $n"; exit 1; }
        peer_ns_list+=("$n")
        ip -n "$n" link set lo up
    done
    ns=${ns:-${peer_ns_list[0]}}
}
