#!/usr/bin/env bash
# Installs tern into a temporary prefix with `make install PREFIX=...` and
# builds examples/build_packet.c against it through pkg-config, twice: linked
# to the shared library and statically. Both programs must run and print the
# frame they built and parsed back. Also: the manual pages and the example
# scenarios are installed, the installed `tern demo` points at the installed
# scenario, what `make install` says about finding the shared library works
# when followed, and the versions (tern --version, pkg-config, tern_version())
# agree with include/tern/version.h.
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
command -v pkg-config >/dev/null || { echo "skip - install_pkgconfig: pkg-config missing"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The variant's own flags, so an out-of-date object is rebuilt the way the
# build dir was made (never a gcc object in the ASan dir).
san=()
case "$(basename "$b")" in asan) san=(SAN=1) ;; tsan) san=(SAN=thread) ;; esac
if ! make --no-print-directory -s install "${san[@]}" BUILD="$b" PREFIX="$tmp/prefix" >"$tmp/log" 2>&1; then
    cat "$tmp/log"; echo "not ok - make install"; exit 1
fi
echo "ok - make install PREFIX=..."
for f in include/tern/err.h include/tern/wire/tcp.h include/tern/api.h include/tern/version.h lib/libtern.a \
         lib/libtern.so lib/pkgconfig/tern.pc bin/tern share/man/man1/tern.1 share/man/man3/tern.3 \
         share/tern/scenarios/demo.scn share/tern/scenarios/two-paths.scn; do
    if [ -e "$tmp/prefix/$f" ]; then echo "ok - installed $f"; else echo "not ok - installed $f"; fi
done
# A manual page for every command `tern --help` lists, readable by man(1).
cmds=$("$tmp/prefix/bin/tern" --help | awk '/^commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
missing=
for c in $cmds; do
    [ -s "$tmp/prefix/share/man/man1/tern-$c.1" ] || missing="$missing $c"
done
if [ -n "$cmds" ] && [ -z "$missing" ]; then
    echo "ok - installed share/man/man1/tern-COMMAND.1 for the $(echo "$cmds" | wc -w) commands"
else
    echo "not ok - manual pages missing for:${missing:- (no commands listed)}"
fi
if ! command -v man >/dev/null; then
    echo "skip - man -M PREFIX/share/man tern-ping: man missing"
elif MANWIDTH=80 man -M "$tmp/prefix/share/man" tern-ping 2>/dev/null | grep -q 'send ICMP echo requests'; then
    echo "ok - man -M PREFIX/share/man tern-ping shows the installed page"
else
    echo "not ok - man -M PREFIX/share/man tern-ping shows the installed page"
fi
# The scenarios are the repository's, byte for byte.
if cmp -s examples/scenarios/demo.scn "$tmp/prefix/share/tern/scenarios/demo.scn"; then
    echo "ok - installed scenarios are examples/scenarios/"
else
    echo "not ok - installed scenarios are examples/scenarios/"
fi
# The installed tern demo, run outside the source tree, points at the
# installed demo.scn, and that file runs.
real_prefix=$(cd "$tmp/prefix" && pwd -P)
hint=$(cd "$tmp" && "$tmp/prefix/bin/tern" demo --quiet --dir "$tmp/demo-out" 2>&1 | sed -n 's/^  tern sim \([^ ]*\) --seed 2 .*/\1/p')
if [ "$hint" = "$real_prefix/share/tern/scenarios/demo.scn" ]; then
    echo "ok - installed tern demo points at PREFIX/share/tern/scenarios/demo.scn"
else
    echo "not ok - installed tern demo points at '$hint', not $real_prefix/share/tern/scenarios/demo.scn"
fi
if [ -n "$hint" ] && (cd "$tmp" && timeout 60 "$tmp/prefix/bin/tern" sim "$hint" --quiet >"$tmp/sim.out" 2>&1); then
    echo "ok - tern sim runs the scenario the demo points at"
else
    sed 's/^/    /' "$tmp/sim.out" 2>/dev/null | tail -n 5; echo "not ok - tern sim runs the scenario the demo points at"
fi
# What make install says about the shared library, and that it is right:
# a temporary prefix is not searched by the dynamic linker, so it names
# rpath and LD_LIBRARY_PATH; a program linked as it says runs without
# LD_LIBRARY_PATH. For /usr (searched) it says ldconfig.
if grep -q "not searched by the dynamic linker" "$tmp/log" &&
   grep -qF -- "-Wl,-rpath,$tmp/prefix/lib" "$tmp/log" && grep -qF "LD_LIBRARY_PATH=$tmp/prefix/lib" "$tmp/log"; then
    echo "ok - make install names rpath and LD_LIBRARY_PATH for a private prefix"
else
    sed 's/^/    /' "$tmp/log" | tail -n 12; echo "not ok - make install names rpath and LD_LIBRARY_PATH for a private prefix"
fi
if sh tools/install_hint.sh /usr | grep -q "/usr/lib is searched by the dynamic linker; run 'ldconfig'"; then
    echo "ok - for PREFIX=/usr the hint is ldconfig"
else
    echo "not ok - for PREFIX=/usr the hint is ldconfig"
fi
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
san=""
case "$b" in *asan*) san="-fsanitize=address,undefined" ;; esac
cc_=${CC:-cc}
[ -n "$san" ] && cc_=clang
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror examples/build_packet.c $(pkg-config --cflags --libs tern) \
      -o "$tmp/ex_shared" 2>"$tmp/err" &&
   out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/ex_shared") &&
   [ "$out" = '53-byte frame: 192.0.2.1.40000 > 192.0.2.2.7 UDP "hello, tern"' ]; then
    echo "ok - example via pkg-config, shared library"
else
    cat "$tmp/err"; echo "got: ${out:-}"; echo "not ok - example via pkg-config, shared library"
fi
# Linked with the rpath make install suggests, it runs without LD_LIBRARY_PATH.
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror examples/build_packet.c $(pkg-config --cflags --libs tern) \
      -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/ex_rpath" 2>"$tmp/err" &&
   out=$(env -u LD_LIBRARY_PATH "$tmp/ex_rpath") && [ "${out%% *}" = "53-byte" ]; then
    echo "ok - example linked with -Wl,-rpath,PREFIX/lib runs without LD_LIBRARY_PATH"
else
    cat "$tmp/err"; echo "not ok - example linked with -Wl,-rpath,PREFIX/lib runs without LD_LIBRARY_PATH"
fi
# One version everywhere: tern/version.h, tern --version, pkg-config and the
# installed library's tern_version().
v=$(sed -n 's/^#define TERN_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/tern/version.h | paste -sd.)
printf '#include <stdio.h>\n#include <tern/version.h>\nint main(void) { puts(tern_version()); return 0; }\n' >"$tmp/v.c"
# shellcheck disable=SC2046
libv=$($cc_ $san -std=c11 "$tmp/v.c" $(pkg-config --cflags --libs tern) -o "$tmp/v" 2>&1 &&
       LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/v")
if [ -n "$v" ] && [ "$("$tmp/prefix/bin/tern" --version)" = "tern $v" ] &&
   [ "$(pkg-config --modversion tern)" = "$v" ] && [ "$libv" = "$v" ]; then
    echo "ok - version $v: tern/version.h, tern --version, pkg-config --modversion, tern_version()"
else
    echo "not ok - versions: header '$v', tern '$("$tmp/prefix/bin/tern" --version)'," \
         "pkg-config '$(pkg-config --modversion tern)', tern_version() '$libv'"
fi
# Make sure it really linked the installed shared library, not something else.
if LD_LIBRARY_PATH="$tmp/prefix/lib" ldd "$tmp/ex_shared" 2>/dev/null | grep -q "$tmp/prefix/lib/libtern.so"; then
    echo "ok - example resolves libtern.so from the install prefix"
else
    echo "not ok - example resolves libtern.so from the install prefix"
fi
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror examples/build_packet.c \
      $(pkg-config --cflags tern) "$tmp/prefix/lib/libtern.a" -o "$tmp/ex_static" 2>"$tmp/err" &&
   out=$("$tmp/ex_static") && [ "${out%% *}" = "53-byte" ]; then
    echo "ok - example via pkg-config, static library"
else
    cat "$tmp/err"; echo "not ok - example via pkg-config, static library"
fi
# examples/embed.c: two stacks in the embedder's own poll() loop.
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE examples/embed.c \
      $(pkg-config --cflags --libs tern) -o "$tmp/embed" 2>"$tmp/err" &&
   out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" timeout 10 "$tmp/embed") &&
   [ "$(printf '%s\n' "$out" | grep -cE '^reply from 192\.0\.2\.2: seq=[123] ttl=64 time=[0-9]+ us$')" -eq 3 ] &&
   [ "$(printf '%s\n' "$out" | tail -n 1)" = "3 replies" ]; then
    echo "ok - examples/embed.c: tern in the embedder's own loop, 3 echo replies"
else
    cat "$tmp/err"; echo "got: ${out:-}"; echo "not ok - examples/embed.c: tern in the embedder's own loop"
fi
# examples/posix_udp_echo.c: a BSD sockets program ported with tern_ prefixes,
# built through pkg-config against the installed library (shared and static:
# Libs.private carries -lpthread), then run on a TAP device in a namespace
# this script makes, with Linux's own UDP socket (python3) as the client.
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -Wall -Wextra -Werror examples/posix_udp_echo.c \
      $(pkg-config --cflags --libs tern) -o "$tmp/posix_udp_echo" 2>"$tmp/err" &&
   $cc_ $san -std=c11 -Wall -Wextra -Werror examples/posix_udp_echo.c \
      $(pkg-config --cflags tern) "$tmp/prefix/lib/libtern.a" $(pkg-config --static --libs-only-l tern | sed 's/-ltern //') \
      -o "$tmp/posix_udp_echo_static" 2>>"$tmp/err"; then
    echo "ok - examples/posix_udp_echo.c builds via pkg-config (shared and static)"
else
    cat "$tmp/err"; echo "not ok - examples/posix_udp_echo.c builds via pkg-config"
fi
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ] || [ ! -x /usr/bin/python3 ] || ! command -v ip >/dev/null; then
    echo "skip - posix_udp_echo against Linux: needs root, /dev/net/tun, ip and /usr/bin/python3"
elif [ -x "$tmp/posix_udp_echo" ]; then
    ns=tern-pxe-$$
    trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
    ip netns add "$ns" && ip -n "$ns" link set lo up &&
        ip -n "$ns" tuntap add dev tpxe0 mode tap && ip -n "$ns" addr add 10.81.0.1/24 dev tpxe0 &&
        ip -n "$ns" link set tpxe0 up
    LD_LIBRARY_PATH="$tmp/prefix/lib" ip netns exec "$ns" timeout 20 "$tmp/posix_udp_echo" tpxe0 10.81.0.2/24 7 3 \
        >"$tmp/pxe.out" 2>"$tmp/pxe.err" &
    pxe=$!
    sleep 0.5
    # Three datagrams from a Linux UDP socket: a line, 1000 and 8000 random
    # bytes (the last fragmented both ways); each must come back unchanged.
    if ip netns exec "$ns" /usr/bin/python3 - <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for msg in (b"hello through the BSD facade\n", os.urandom(1000), os.urandom(8000)):
    s.sendto(msg, ("10.81.0.2", 7))
    data, peer = s.recvfrom(65535)
    if data != msg or peer != ("10.81.0.2", 7):
        sys.exit(1)
PY
    then echo "ok - posix_udp_echo: Linux UDP socket gets 3 datagrams back (29, 1000, 8000 bytes)"
    else echo "not ok - posix_udp_echo: Linux UDP socket gets its datagrams back"; fi
    wait "$pxe"; rc=$?
    if [ "$rc" -eq 0 ] && [ "$(tail -n 1 "$tmp/pxe.out")" = "3 datagrams echoed" ] &&
       [ "$(grep -c ' from 10.81.0.1:[0-9]* echoed$' "$tmp/pxe.out")" -eq 3 ] && [ ! -s "$tmp/pxe.err" ]; then
        echo "ok - posix_udp_echo: exits 0 after COUNT datagrams, one line each, no sanitizer report"
    else
        cat "$tmp/pxe.out" "$tmp/pxe.err"; echo "not ok - posix_udp_echo: exit status $rc and output"
    fi
fi
# examples/posix_tcp_echo.c: a threaded TCP echo server and a client ported
# from BSD sockets by renaming calls; built through pkg-config, then run on
# a TAP device in a namespace: Linux clients (python3, two connections at
# once) against the tern server, and the tern client against a Linux echo
# server. Every echoed byte is compared.
# shellcheck disable=SC2046
if $cc_ $san -std=c11 -pthread -Wall -Wextra -Werror examples/posix_tcp_echo.c \
      $(pkg-config --cflags --libs tern) -o "$tmp/posix_tcp_echo" 2>"$tmp/err"; then
    echo "ok - examples/posix_tcp_echo.c builds via pkg-config"
else
    cat "$tmp/err"; echo "not ok - examples/posix_tcp_echo.c builds via pkg-config"
fi
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ] || [ ! -x /usr/bin/python3 ] || ! command -v ip >/dev/null; then
    echo "skip - posix_tcp_echo against Linux: needs root, /dev/net/tun, ip and /usr/bin/python3"
elif [ -x "$tmp/posix_tcp_echo" ]; then
    nst=tern-pxt-$$
    trap 'ip netns del "$nst" 2>/dev/null; ip netns del "tern-pxe-$$" 2>/dev/null; rm -rf "$tmp"' EXIT
    ip netns add "$nst" && ip -n "$nst" link set lo up &&
        ip -n "$nst" tuntap add dev tpxt0 mode tap && ip -n "$nst" addr add 10.82.0.1/24 dev tpxt0 &&
        ip -n "$nst" link set tpxt0 up
    LD_LIBRARY_PATH="$tmp/prefix/lib" ip netns exec "$nst" timeout 30 "$tmp/posix_tcp_echo" server tpxt0 10.82.0.2/24 7 2 \
        >"$tmp/pxt.out" 2>"$tmp/pxt.err" &
    pxt=$!
    sleep 0.5
    # Two Linux connections at once, 200000 random bytes each: both must
    # be served at the same time (one thread each) and come back unchanged.
    if ip netns exec "$nst" /usr/bin/python3 - <<'PY'
import os, socket, sys, threading
ok = []
def one():
    data = os.urandom(200000)
    s = socket.create_connection(("10.82.0.2", 7), timeout=10)
    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    t.join()
    s.close()
    ok.append(bytes(got) == data)
ts = [threading.Thread(target=one) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
sys.exit(0 if ok == [True, True] else 1)
PY
    then echo "ok - posix_tcp_echo server: 2 Linux connections at once, 200000 bytes each echoed unchanged"
    else echo "not ok - posix_tcp_echo server: Linux connections get their bytes back"; fi
    wait "$pxt"; rc=$?
    if [ "$rc" -eq 0 ] && [ "$(tail -n 1 "$tmp/pxt.out")" = "2 connections echoed" ] &&
       [ "$(grep -c '^200000 bytes from 10.82.0.1:[0-9]* echoed$' "$tmp/pxt.out")" -eq 2 ] && [ ! -s "$tmp/pxt.err" ]; then
        echo "ok - posix_tcp_echo server: exits 0 after COUNT connections, one line each"
    else
        cat "$tmp/pxt.out" "$tmp/pxt.err"; echo "not ok - posix_tcp_echo server: exit status $rc and output"
    fi
    # The tern client against a Linux echo server (a fresh tern MAC: forget the old one).
    ip -n "$nst" neigh flush dev tpxt0 2>/dev/null
    ip netns exec "$nst" timeout 30 /usr/bin/python3 - >"$tmp/lsrv.out" 2>&1 <<'PY' &
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.82.0.1", 7007))
l.listen(1)
l.settimeout(25)
c, _ = l.accept()
while True:
    b = c.recv(65536)
    if not b:
        break
    c.sendall(b)
c.close()
PY
    lsrv=$!
    sleep 0.5
    out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" ip netns exec "$nst" timeout 30 "$tmp/posix_tcp_echo" client tpxt0 10.82.0.2/24 10.82.0.1 7007 300000 2>"$tmp/pxc.err")
    rc=$?
    wait "$lsrv"
    if [ "$rc" -eq 0 ] && [ "$out" = "300000 bytes sent, 300000 bytes echoed back, equal" ] && [ ! -s "$tmp/pxc.err" ]; then
        echo "ok - posix_tcp_echo client: 300000 bytes through a Linux echo server, equal"
    else
        echo "got: $out"; cat "$tmp/pxc.err" "$tmp/lsrv.out"; echo "not ok - posix_tcp_echo client against Linux (exit $rc)"
    fi
fi
