#!/usr/bin/env bash
# tests/deps.sh - make sure the Debian packages the tests use are present.
# As root, missing ones are installed with apt-get; otherwise they are listed
# (tests that need them then report "skip", which CI=true counts as failure).
#
#   clang             sanitizer build (ASan+UBSan) and libFuzzer targets
#   tcpdump           the reference the printer must match line for line
#   libpcap-dev       linked into the tern command (not libtern): `tern dump` reads
#                     pcapng and compiles tcpdump filter expressions with libpcap
#   tshark            checks that every pcap tern writes is well-formed
#   python3-scapy     builds test frames independently of tern's own codecs
#   pkg-config        builds examples/ against the installed library
#   iproute2, iputils-ping   namespaces, TAP/TUN and Linux ping for peer tests
#   netcat-openbsd    Linux's UDP and TCP peer for tern's services and tern nc
#   dnsutils          dig and host, the DNS clients that query tern's server
#   dnsmasq-base      a DNS and DHCP server for tern's resolver and DHCP client
#   busybox           udhcpc, the Linux DHCP client that asks tern's DHCP server
#   curl              Linux's HTTP client against tern serve --http
#   traceroute        Linux traceroute through tern router; reference for tern traceroute
#   libxml2-utils     xmllint, which checks that tern's SVG plots are well-formed XML
#   iperf3            Linux's iperf3 client and server against tern perf (and tern run)
#   wget              Debian's wget over tern run (tests/scripts/peer_run.sh)
#   openssh-server    sshd (in the namespace only, its own config) for tern run -- ssh -L
#   openssh-client    ssh and ssh-keygen over tern run (tests/scripts/peer_run.sh)
#   libssl-dev        OpenSSL 3 headers and libraries: libtern-tls.a, the tern command
#   openssl           the openssl command (s_client, s_server) against tern's TLS
#   stunnel4          the TLS forwarder tern forward is matched against
#   telnet            Debian's telnet client against tern's POP3 server
#   coturn            turnserver as an RFC 5780 STUN server and turnutils_natdiscovery,
#                     which measure the mapping and filtering of tern router --nat
#                     (tests/scripts/peer_nat_stun.sh; its service is not started)
#   stun-client       stun, the RFC 3489 client that names tern's NAT's classic type
#   g++               builds tests/cxx/api_test.cpp: the public API from C++
#   radvd             Router Advertisements in a namespace: tern's SLAAC (peer_ipv6.sh)
#   groff-base, man-db   render the manual pages (tests/scripts/man_pages.sh,
#                     install_pkgconfig.sh)
set -u
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd clang || need+=(clang)
have_cmd tcpdump || need+=(tcpdump)
[ -e /usr/include/pcap/pcap.h ] || need+=(libpcap-dev)
have_cmd tshark || need+=(tshark)
have_cmd pkg-config || need+=(pkg-config)
have_cmd ip || need+=(iproute2)
have_cmd ping || need+=(iputils-ping)
/usr/bin/python3 -c 'import scapy' >/dev/null 2>&1 || need+=(python3-scapy)
nc -h 2>&1 | grep -qi openbsd || need+=(netcat-openbsd)
have_cmd dig && have_cmd host || need+=(dnsutils)
have_cmd dnsmasq || need+=(dnsmasq-base)
have_cmd busybox || need+=(busybox)
have_cmd curl || need+=(curl)
have_cmd traceroute || need+=(traceroute)
have_cmd xmllint || need+=(libxml2-utils)
have_cmd iperf3 || need+=(iperf3)
have_cmd wget || need+=(wget)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
have_cmd ssh && have_cmd ssh-keygen || need+=(openssh-client)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
have_cmd openssl || need+=(openssl)
have_cmd stunnel4 || need+=(stunnel4)
have_cmd telnet || need+=(telnet)
have_cmd turnutils_natdiscovery && have_cmd turnserver || need+=(coturn)
have_cmd stun || need+=(stun-client)
have_cmd g++ || need+=(g++)
have_cmd groff || need+=(groff-base)
have_cmd man || need+=(man-db)
have_cmd strace || need+=(strace)
have_cmd radvd || need+=(radvd)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && have_cmd apt-get; then
    echo "tests/deps.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt or dpkg run (unattended-upgrades, a second make test)
    # holds the package manager's locks: wait for them, up to 10 minutes,
    # instead of failing.
    apt_wait=(-o DPkg::Lock::Timeout=600)
    # Several of these packages are daemons (sshd, dnsmasq, radvd, coturn)
    # that Debian starts on install: the tests run their own copies inside
    # network namespaces and none may listen on this machine's interfaces.
    # policy-rc.d exit 101 ("action forbidden") keeps the services stopped;
    # an existing policy (a container's) is left alone.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d &&
            trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get "${apt_wait[@]}" update -qq >/dev/null &&
        apt-get "${apt_wait[@]}" install -y -qq "${need[@]}" >/dev/null ||
        echo "tests/deps.sh: apt-get failed; tests that need ${need[*]} will not run" >&2
else
    echo "tests/deps.sh: missing ${need[*]} (run as root to install); tests that need them will skip" >&2
fi
exit 0
