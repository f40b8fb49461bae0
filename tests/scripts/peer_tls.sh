#!/usr/bin/env bash
# TLS through tern forward against Linux's TLS programs, over a TAP device
# in a namespace this script creates (removed on exit). A throw-away PKI is
# made here with the openssl command (test-only keys in a temp directory):
#   - tern forward --tls-connect (stunnel's client mode) -> Debian's stunnel4
#     (server mode) -> a Linux echo-after-EOF service: 1 MB byte-exact, the
#     client's half-close passed through both forwarders;
#   - stunnel4 (client mode) -> tern forward --tls-accept -> the Linux
#     service: the same, the other way round;
#   - openssl s_client -verify_return_error against tern forward
#     --tls-accept: the chain and the name verify, data goes through;
#   - tern forward --tls-connect against openssl s_server with a wrong
#     name, an untrusted CA and an expired certificate: each connection is
#     reset, the log says which check failed; a good one still goes through.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then echo "skip - peer_tls: needs root for namespaces and TAP"; exit 0; fi
for c in ip openssl stunnel4 timeout cmp; do
    command -v $c >/dev/null || { echo "skip - peer_tls: $c missing"; exit 0; }
done
[ -x /usr/bin/python3 ] || { echo "skip - peer_tls: /usr/bin/python3 missing"; exit 0; }
[ -c /dev/net/tun ] || { echo "skip - peer_tls: /dev/net/tun missing"; exit 0; }

ns=tern-tls-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
stop_bg() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; pids=(); }
nsx() { ip netns exec "$ns" "$@"; }

# --- the PKI (test-only keys, made now, removed on exit) ---
pki() {
    cd "$tmp" || return 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
        -days 2 -subj "/CN=tern peer test CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign || return 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.pem \
        -days 2 -subj "/CN=nobody's CA" -addext basicConstraints=critical,CA:TRUE || return 1
    printf 'subjectAltName=DNS:tern.test,IP:10.78.0.2,IP:10.78.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr -subj "/CN=tern.test" || return 1
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext -out srv.pem || return 1
    openssl x509 -req -in srv.csr -CA other.pem -CAkey other.key -CAcreateserial -days 2 -extfile ext -out rogue.pem || return 1
    # expired: `openssl ca` takes explicit dates
    mkdir -p ca.db && : >ca.db/index && echo 1000 >ca.db/serial
    cat >ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = ca.db/index
serial = ca.db/serial
new_certs_dir = ca.db
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
CNF
    openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in srv.csr -out expired.pem \
        -startdate 20200101000000Z -enddate 20200102000000Z -extfile ext -notext 2>/dev/null || return 1
    cd - >/dev/null
}
if pki >"$tmp/pki.log" 2>&1; then ok "test PKI made with the openssl command"; else cat "$tmp/pki.log"; nok "test PKI"; exit 1; fi

ip netns add "$ns" || { nok "create namespace"; exit 1; }
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev ttap0 mode tap
ip -n "$ns" addr add 10.78.0.1/24 dev ttap0
ip -n "$ns" link set ttap0 up

# A Linux service. eof mode: reads to EOF, then sends back what it read
# and closes (so the answer needs the client's half-close to have come
# through). echo mode: echoes as it reads, closes after EOF.
cat >"$tmp/eofecho.py" <<'PY'
import socket, sys, threading
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(8)
mode = sys.argv[3] if len(sys.argv) > 3 else "eof"
def serve(c):
    data = bytearray()
    while True:
        b = c.recv(65536)
        if not b:
            break
        if mode == "echo":
            c.sendall(b)
        else:
            data += b
    c.sendall(data)
    c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# A Linux client: sends FILE, shuts down its side, writes what comes back.
# With "wait" it reads all of FILE's length back before its half-close
# (for stunnel, which answers a close_notify with its own and ends both
# directions: no TLS half-close through stunnel).
cat >"$tmp/client.py" <<'PY'
import socket, sys, threading
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
data = open(sys.argv[3], "rb").read()
wait = len(sys.argv) > 5 and sys.argv[5] == "wait"
got = bytearray()
def rd(limit):
    while len(got) < limit:
        b = s.recv(65536)
        if not b:
            return False
        got.extend(b)
    return True
if wait:
    t = threading.Thread(target=rd, args=(len(data),))
    t.start()
    s.sendall(data)
    t.join()
else:
    s.sendall(data)
s.shutdown(socket.SHUT_WR)
rd(1 << 40)
open(sys.argv[4], "wb").write(got)
PY
head -c 1000000 /dev/urandom >"$tmp/up.bin"
svc() {
    ip netns exec "$ns" /usr/bin/python3 "$tmp/eofecho.py" 10.78.0.1 7007 eof &
    pids+=($!)
    ip netns exec "$ns" /usr/bin/python3 "$tmp/eofecho.py" 10.78.0.1 7008 echo &
    pids+=($!)
}
svc

# 1. tern forward --tls-connect -> stunnel4 server mode -> the service
cat >"$tmp/st-server.conf" <<EOF2
foreground = yes
pid =
[pop]
accept = 10.78.0.1:8443
connect = 10.78.0.1:7008
cert = $tmp/srv.pem
key = $tmp/srv.key
EOF2
ip netns exec "$ns" stunnel4 "$tmp/st-server.conf" >"$tmp/st1.log" 2>&1 &
pids+=($!)
ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.78.0.2/24 -L 8000:10.78.0.1:8443 --tls-connect \
    --ca "$tmp/ca.pem" --sni tern.test --for 60 2>"$tmp/fwd1.log" &
pids+=($!)
sleep 1
nsx timeout 30 /usr/bin/python3 "$tmp/client.py" 10.78.0.2 8000 "$tmp/up.bin" "$tmp/down1.bin" wait
check "tern forward --tls-connect -> stunnel4 -> Linux echo: 1 MB back byte-exact, then the end" \
    cmp -s "$tmp/up.bin" "$tmp/down1.bin"
sleep 0.3
check "tern forward logs the connection: 1000000 bytes each way over TLS" \
    grep -q "closed: 1000000 bytes sent, 1000000 bytes received (TLSv1.3 " "$tmp/fwd1.log"
stop_bg
svc
ip -n "$ns" neigh flush dev ttap0

# 1b. half-close through TLS over TAP: tern forward --tls-connect (one
#     tern stack on ttap0) -> tern forward --tls-accept (another on ttap1,
#     Linux routing between) -> the EOF service, which answers only after
#     the client's half-close came through both.
ip -n "$ns" tuntap add dev ttap1 mode tap
ip -n "$ns" addr add 10.78.1.1/24 dev ttap1
ip -n "$ns" link set ttap1 up
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.78.0.2/24 --gw 10.78.0.1 \
    -L 8000:10.78.1.3:8443 --tls-connect --ca "$tmp/ca.pem" --sni tern.test --for 60 2>"$tmp/fwd1a.log" &
pids+=($!)
ip netns exec "$ns" "$tern" forward --tap ttap1 --addr 10.78.1.3/24 --gw 10.78.1.1 \
    -L 8443:10.78.0.1:7007 --tls-accept --cert "$tmp/srv.pem" --key "$tmp/srv.key" --for 60 2>"$tmp/fwd1b.log" &
pids+=($!)
sleep 1
nsx timeout 30 /usr/bin/python3 "$tmp/client.py" 10.78.0.2 8000 "$tmp/up.bin" "$tmp/down1b.bin"
check "tern forward --tls-connect -> tern forward --tls-accept -> Linux: half-close through TLS, 1 MB back" \
    cmp -s "$tmp/up.bin" "$tmp/down1b.bin"
sleep 0.3
check "both forwarders log 1000000 bytes each way, closed" \
    grep -q "closed: 1000000 bytes sent, 1000000 bytes received (TLSv1.3 " "$tmp/fwd1a.log" "$tmp/fwd1b.log"
stop_bg
svc
ip -n "$ns" neigh flush dev ttap0

# 2. stunnel4 client mode -> tern forward --tls-accept -> the service
cat >"$tmp/st-client.conf" <<EOF2
foreground = yes
pid =
client = yes
[pop]
accept = 127.0.0.1:9000
connect = 10.78.0.2:9443
CAfile = $tmp/ca.pem
verifyChain = yes
checkHost = tern.test
EOF2
ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.78.0.2/24 -L 9443:10.78.0.1:7007 --tls-accept \
    --cert "$tmp/srv.pem" --key "$tmp/srv.key" --for 60 2>"$tmp/fwd2.log" &
pids+=($!)
ip netns exec "$ns" stunnel4 "$tmp/st-client.conf" >"$tmp/st2.log" 2>&1 &
pids+=($!)
sleep 1
nsx timeout 30 /usr/bin/python3 "$tmp/client.py" 127.0.0.1 9000 "$tmp/up.bin" "$tmp/down2.bin"
check "stunnel4 (client) -> tern forward --tls-accept -> Linux: 1 MB back byte-exact after the half-close" \
    cmp -s "$tmp/up.bin" "$tmp/down2.bin"

stop_bg
svc
ip -n "$ns" neigh flush dev ttap0

# 3. openssl s_client -verify_return_error against tern forward --tls-accept
#    (to the echo service)
ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.78.0.2/24 -L 9443:10.78.0.1:7008 --tls-accept \
    --cert "$tmp/srv.pem" --key "$tmp/srv.key" --for 60 2>"$tmp/fwd3.log" &
pids+=($!)
sleep 1
out=$(printf 'hello through s_client\n' | nsx timeout 10 openssl s_client -connect 10.78.0.2:9443 \
      -CAfile "$tmp/ca.pem" -verify_return_error -verify_hostname tern.test -servername tern.test \
      -ign_eof 2>&1)
check "openssl s_client -verify_return_error: chain and name verify against tern" \
    grep -q "Verify return code: 0 (ok)" <<<"$out"
check "openssl s_client: the line comes back through tern and the Linux service" \
    grep -q "^hello through s_client$" <<<"$out"
out=$(nsx timeout 10 openssl s_client -connect 10.78.0.2:9443 -CAfile "$tmp/ca.pem" \
      -verify_return_error -verify_hostname wrong.example </dev/null 2>&1)
check "openssl s_client -verify_return_error refuses tern's certificate for another name" \
    grep -q "hostname mismatch" <<<"$out"
stop_bg
ip -n "$ns" neigh flush dev ttap0

# 4. tern forward --tls-connect against openssl s_server: bad certificates
#    are refused (reset, logged), a good one works
srv() { # PORT CERT KEY
    ip netns exec "$ns" openssl s_server -accept "$1" -cert "$2" -key "$3" -www -quiet >/dev/null 2>&1 &
    pids+=($!)
}
srv 4431 "$tmp/srv.pem" "$tmp/srv.key"
srv 4432 "$tmp/rogue.pem" "$tmp/srv.key"
srv 4433 "$tmp/expired.pem" "$tmp/srv.key"
ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.78.0.2/24 -L 8001:10.78.0.1:4431 --tls-connect \
    --ca "$tmp/ca.pem" --sni wrong.example --for 30 2>"$tmp/f41.log" &
pids+=($!)
sleep 1
get() { printf 'GET / HTTP/1.0\r\n\r\n' | nsx timeout 10 /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=8)
s.sendall(sys.stdin.buffer.read())
d = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        d += b
    print("EOF", len(d)); print(d[:200].decode("latin-1"))
except ConnectionResetError:
    print("RESET", len(d))
' "$@"; }
r=$(get 10.78.0.2 8001)
check "wrong host name: the client is reset" grep -q "^RESET 0" <<<"$r"
check "wrong host name: logged as hostname mismatch" grep -q "reset: destination: certificate verify failed: hostname mismatch" "$tmp/f41.log"
stop_bg
# One forwarder at a time: the TAP device has one reader.
n=1
for what in "openssl s_server -www answers through tern forward --tls-connect" "untrusted CA" "expired certificate"; do
    port=443$n
    srv 4431 "$tmp/srv.pem" "$tmp/srv.key"
    srv 4432 "$tmp/rogue.pem" "$tmp/srv.key"
    srv 4433 "$tmp/expired.pem" "$tmp/srv.key"
    ip -n "$ns" neigh flush dev ttap0
    ip netns exec "$ns" "$tern" forward --tap ttap0 --addr 10.78.0.2/24 -L 8001:10.78.0.1:$port --tls-connect \
        --ca "$tmp/ca.pem" --sni tern.test --for 30 2>"$tmp/f5$n.log" &
    pids+=($!)
    sleep 1
    r=$(get 10.78.0.2 8001)
    case $n in
    1) check "$what" grep -q "HTTP/1.0 200 ok" <<<"$r" ;;
    2) check "untrusted CA: the client is reset" grep -q "^RESET 0" <<<"$r"
       check "untrusted CA: logged as such" grep -q "certificate verify failed: unable to get local issuer certificate" "$tmp/f52.log" ;;
    3) check "expired certificate: the client is reset" grep -q "^RESET 0" <<<"$r"
       check "expired certificate: logged as such" grep -q "certificate verify failed: certificate has expired" "$tmp/f53.log" ;;
    esac
    stop_bg
    n=$((n + 1))
done
stop_bg
exit 0
