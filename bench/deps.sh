#!/usr/bin/env bash
# bench/deps.sh - the peers `make bench` compares tern with, beyond the
# Linux kernel: liblwip-dev (lwIP's checksum and a TAP-attached lwIP), and
# ethtool (the TAP benchmark's veth rows with offloads off). As
# root, what is missing is installed with apt-get; otherwise the benchmarks
# print "n/a" for it. `make test` does not need it.
set -u
need=()
arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[ -e "/usr/lib/$arch/liblwip.so" ] || need+=(liblwip-dev)
command -v ethtool >/dev/null || [ -x /usr/sbin/ethtool ] || need+=(ethtool) # veth offloads off
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "bench/deps.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt or dpkg run (unattended-upgrades, a second make test)
    # holds the package manager's locks: wait for them, up to 10 minutes,
    # instead of failing.
    apt_wait=(-o DPkg::Lock::Timeout=600)
    apt-get "${apt_wait[@]}" update -qq >/dev/null &&
        apt-get "${apt_wait[@]}" install -y -qq "${need[@]}" >/dev/null ||
        echo "bench/deps.sh: apt-get failed; the lwIP figures will print n/a" >&2
else
    echo "bench/deps.sh: missing ${need[*]} (run as root to install); their figures print n/a" >&2
fi
exit 0
