#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# The texts' story over TAP, in a namespace this script creates (removed on
# exit): POP3 reached by encrypted port forwarding.
#   - Debian's telnet against `tern serve --pop3`: RFC 1939 answers, the
#     message text, "Connection closed by foreign host.";
#   - `tern telnet` against a Linux POP3 stand-in (python3) that also
#     proposes TELNET options: the session works and every option is
#     refused (IAC WONT / IAC DONT seen by the server);
#   - telnet -> stunnel4 (client mode) -> tern forward --tls-accept ->
#     tern's POP3 (two tern stacks on two TAPs, Linux routing between);
#   - telnet -> tern forward --tls-connect -> stunnel4 (server mode) ->
#     the Linux POP3 stand-in: `ssh -L 12345:pop3-server:110` with TLS.
# A throw-away PKI is made with the openssl command (test-only keys).
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_pop3 openssl stunnel4 telnet timeout /usr/bin/python3

ns=tern-pop3-$$
nsx() { ip netns exec "$ns" "$@"; }

(cd "$tmp" &&
 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
     -subj "/CN=tern pop3 test CA" -addext basicConstraints=critical,CA:TRUE &&
 printf 'subjectAltName=DNS:pop3.test,IP:10.79.0.1,IP:10.79.1.3\nbasicConstraints=CA:FALSE\n' >ext &&
 openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr -subj "/CN=pop3.test" &&
 openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext -out srv.pem) \
    >"$tmp/pki.log" 2>&1 || { cat "$tmp/pki.log"; nok "test PKI"; exit 1; }

mkdir -p "$tmp/Maildir/cur" "$tmp/Maildir/new"
printf 'From: alice@example.test\nSubject: the plan\n\nMeet at the usual place at noon.\n' >"$tmp/Maildir/new/1.a.host"
printf 'From: bob@example.test\nSubject: re: the plan\n\nAgreed.\n' >"$tmp/Maildir/new/2.b.host"

peer_netns "$ns"
ip -n "$ns" tuntap add dev ttap0 mode tap
ip -n "$ns" addr add 10.79.0.1/24 dev ttap0
ip -n "$ns" link set ttap0 up
ip -n "$ns" tuntap add dev ttap1 mode tap
ip -n "$ns" addr add 10.79.1.1/24 dev ttap1
ip -n "$ns" link set ttap1 up
nsx sysctl -qw net.ipv4.ip_forward=1

# Lines end in LF: telnet sends each as CR LF (RFC 854's NVT end of line).
session='USER alice\nPASS secret\nSTAT\nLIST\nRETR 1\nTOP 2 0\nUIDL\nDELE 1\nNOOP\nRSET\nQUIT\n'
telnet_pop3() { # HOST PORT OUT
    (printf "$session"; sleep 3) | nsx timeout 10 telnet "$1" "$2" >"$3" 2>"$3.err"
}

# 1. Debian telnet -> tern serve --pop3
ip netns exec "$ns" "$tern" serve --tap ttap0 --addr 10.79.0.2/24 --gw 10.79.0.1 --pop3 "$tmp/Maildir" \
    --pop3-user alice:secret --for 60 >/dev/null 2>"$tmp/serve.err" &
pids+=($!)
sleep 1
telnet_pop3 10.79.0.2 110 "$tmp/t1"
tr -d '\r' <"$tmp/t1" >"$tmp/t1.txt"
check "telnet: connected to tern's POP3, greeting +OK" grep -q "^+OK tern POP3 server ready" "$tmp/t1.txt"
check "telnet: PASS -> +OK maildrop has 2 messages" grep -q "^+OK maildrop has 2 messages" "$tmp/t1.txt"
check "telnet: RETR 1 gives the message text" grep -q "^Meet at the usual place at noon.$" "$tmp/t1.txt"
check "telnet: TOP 2 0 gives the headers only" \
    bash -c 'grep -q "^Subject: re: the plan$" "$1" && ! grep -q "^Agreed.$" "$1"' _ "$tmp/t1.txt"
check "telnet: DELE, NOOP, RSET, QUIT answered +OK" \
    bash -c 'grep -q "^+OK message 1 deleted$" "$1" && grep -q "^+OK tern POP3 server signing off" "$1"' _ "$tmp/t1.txt"
check "telnet: Connection closed by foreign host." grep -q "^Connection closed by foreign host.$" "$tmp/t1.err"

# 2. telnet -> stunnel4 (client) -> tern forward --tls-accept (second stack) -> tern's POP3
ip netns exec "$ns" "$tern" forward --tap ttap1 --addr 10.79.1.3/24 --gw 10.79.1.1 -L 995:10.79.0.2:110 \
    --pcap "$tmp/fwd2.pcap" --tls-accept --cert "$tmp/srv.pem" --key "$tmp/srv.key" --for 60 2>"$tmp/fwd2.log" &
pids+=($!)
cat >"$tmp/stc.conf" <<EOF2
foreground = yes
pid =
client = yes
[pop3s]
accept = 127.0.0.1:12345
connect = 10.79.1.3:995
CAfile = $tmp/ca.pem
verifyChain = yes
checkHost = pop3.test
EOF2
ip netns exec "$ns" stunnel4 "$tmp/stc.conf" >"$tmp/stc.log" 2>&1 &
pids+=($!)
sleep 1
telnet_pop3 127.0.0.1 12345 "$tmp/t2"
tr -d '\r' <"$tmp/t2" >"$tmp/t2.txt"
check "telnet -> stunnel4 -> tern forward --tls-accept -> tern POP3: the message arrives" \
    grep -q "^Meet at the usual place at noon.$" "$tmp/t2.txt"
sleep 0.5
check "tern forward logged the session over TLS" grep -q "closed: .* bytes sent, .* bytes received (TLSv1" "$tmp/fwd2.log"
stop_bg
# The point of it all: on the wire, the forwarded (TLS) leg carries none of
# the mailbox's text; the plain leg beside it (forwarder -> POP3) does.
if command -v tcpdump >/dev/null; then
    tcpdump -r "$tmp/fwd2.pcap" -w "$tmp/tls-leg.pcap" tcp port 995 2>/dev/null
    tcpdump -r "$tmp/fwd2.pcap" -w "$tmp/plain-leg.pcap" tcp port 110 2>/dev/null
    n_tls=$(tcpdump -r "$tmp/tls-leg.pcap" 2>/dev/null | grep -c "Flags \[P")
    check "the TLS leg's pcap holds $n_tls data segments and not one copy of the mailbox text" \
        bash -c '[ "$1" -gt 0 ] && ! grep -aq "Meet at the usual place" "$2" && ! grep -aq "PASS secret" "$2"' _ "$n_tls" "$tmp/tls-leg.pcap"
    check "the plain leg's pcap (forwarder -> POP3) shows the mailbox text and the password" \
        bash -c 'grep -aq "Meet at the usual place" "$1" && grep -aq "PASS secret" "$1"' _ "$tmp/plain-leg.pcap"
else
    nok "tcpdump missing: the pcap check cannot run"
fi
ip -n "$ns" neigh flush dev ttap0

# 3. a Linux POP3 stand-in that also proposes TELNET options
cat >"$tmp/pop3.py" <<'PY'
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(4)
log = open(sys.argv[3], "ab")
while True:
    c, _ = l.accept()
    c.sendall(bytes([255, 253, 24, 255, 251, 1]) + b"+OK Linux stand-in ready\r\n")
    buf = b""
    while True:
        d = c.recv(4096)
        if not d:
            c.close()
            break
        log.write(d); log.flush()
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            line = line.lstrip(bytes([255, 252, 24, 255, 254, 1]))
            w = line.split(b" ")[0].upper()
            if w == b"RETR":
                c.sendall(b"+OK 40 octets\r\nSubject: stand-in\r\n\r\nsecret stand-in text\r\n.\r\n")
            elif w == b"QUIT":
                c.sendall(b"+OK bye\r\n"); c.close(); break
            else:
                c.sendall(b"+OK\r\n")
        else:
            continue
        break
PY
ip netns exec "$ns" /usr/bin/python3 "$tmp/pop3.py" 10.79.0.1 1110 "$tmp/pop3.log" &
pids+=($!)
sleep 0.5
# (input after the greeting, so the refusals go out before QUIT)
(sleep 1; printf 'USER x\nPASS y\nRETR 1\nQUIT\n'; sleep 2) |
    nsx timeout 15 "$tern" telnet --tap ttap0 --addr 10.79.0.2/24 10.79.0.1 1110 >"$tmp/t3" 2>"$tmp/t3.err"
rc=$?
tr -d '\r' <"$tmp/t3" >"$tmp/t3.txt"
check "tern telnet prints Trying / Connected to / Escape character as telnet does" \
    bash -c 'head -3 "$1" | tr "\n" "|" | grep -q "^Trying 10.79.0.1...|Connected to 10.79.0.1.|Escape character is .\^\]..|$"' _ "$tmp/t3.txt"
check "tern telnet: the stand-in's RETR text arrives, exit $rc = 0" \
    bash -c '[ "$1" = 0 ] && grep -q "^secret stand-in text$" "$2"' _ "$rc" "$tmp/t3.txt"
check "tern telnet: Connection closed by foreign host." grep -q "^Connection closed by foreign host.$" "$tmp/t3.err"
check "tern telnet refused both options (IAC WONT 24, IAC DONT 1) and sent CR LF lines" \
    /usr/bin/python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if bytes([255,252,24]) in d and bytes([255,254,1]) in d and b"USER x\r\n" in d else 1)' "$tmp/pop3.log"

# 4. telnet -> tern forward --tls-connect -> stunnel4 (server) -> the stand-in
cat >"$tmp/sts.conf" <<EOF2
foreground = yes
pid =
[pop3s]
accept = 10.79.0.1:995
connect = 10.79.0.1:1110
cert = $tmp/srv.pem
key = $tmp/srv.key
EOF2
ip netns exec "$ns" stunnel4 "$tmp/sts.conf" >"$tmp/sts.log" 2>&1 &
pids+=($!)
ip -n "$ns" neigh flush dev ttap0
ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.79.0.2/24 -L 12345:10.79.0.1:995 --tls-connect \
    --ca "$tmp/ca.pem" --sni pop3.test --for 60 2>"$tmp/fwd4.log" &
pids+=($!)
sleep 1
(sleep 1; printf 'USER x\nPASS y\nRETR 1\nQUIT\n'; sleep 3) | nsx timeout 10 telnet 10.79.0.2 12345 >"$tmp/t4" 2>"$tmp/t4.err"
tr -d '\r' <"$tmp/t4" >"$tmp/t4.txt"
check "telnet -> tern forward --tls-connect -> stunnel4 -> POP3: the message arrives" \
    grep -q "^secret stand-in text$" "$tmp/t4.txt"
sleep 0.5
check "tern forward logged it over TLS to stunnel" grep -q "closed: .* (TLSv1" "$tmp/fwd4.log"
stop_bg
exit 0
