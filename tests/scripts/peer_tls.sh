#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
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
#     reset, the log says which check failed; a good one still goes through;
#   - curl --cacert downloads 20 MB from tern serve --https byte-exact;
#     openssl s_client -verify_return_error GETs a file from it;
#   - tern get https:// from openssl s_server -www and from python3's
#     http.server wrapped in TLS (byte-exact); a wrong name, an unknown CA and
#     an expired certificate give exit statuses 51, 60 and 50 with a message.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_tls openssl stunnel4 timeout cmp /usr/bin/python3

ns=tern-tls-$$
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
    printf 'subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\n' >ext2
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext2 -out wrongname.pem || return 1
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

peer_netns "$ns"
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

# 5. tern serve --https: curl --cacert 20 MB, openssl s_client
mkdir -p "$tmp/www"
head -c 20000000 /dev/urandom >"$tmp/www/big.bin"
ip -n "$ns" neigh flush dev ttap0
ip netns exec "$ns" "$tern" serve --tap ttap0 --addr 10.78.0.2/24 --https "$tmp/www:8443" \
    --cert "$tmp/srv.pem" --key "$tmp/srv.key" --for 120 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
sleep 1
nsx timeout 100 curl -s --cacert "$tmp/ca.pem" -o "$tmp/curl.bin" https://10.78.0.2:8443/big.bin
check "curl --cacert downloads 20 MB from tern serve --https, byte-exact" cmp -s "$tmp/www/big.bin" "$tmp/curl.bin"
printf 'small\n' >"$tmp/www/small.txt"
out=$(printf 'GET /small.txt HTTP/1.1\r\nHost: tern.test\r\nConnection: close\r\n\r\n' |
      nsx timeout 10 openssl s_client -connect 10.78.0.2:8443 -CAfile "$tmp/ca.pem" -verify_return_error \
          -verify_hostname tern.test -servername tern.test -ign_eof 2>&1)
check "openssl s_client -verify_return_error against tern serve --https: verified" grep -q "Verify return code: 0 (ok)" <<<"$out"
check "openssl s_client: tern serve --https answers 200 with the file" \
    bash -c 'grep -q "^HTTP/1.1 200" <<<"$1" && grep -q "^small" <<<"$1"' _ "$out"
rc=0; nsx timeout 10 curl -s -o /dev/null https://10.78.0.2:8443/small.txt || rc=$?
check "curl without our CA refuses tern's certificate (exit $rc = 60)" [ "$rc" = 60 ]
stop_bg

# 6. tern get https:// from openssl s_server -www and python3's http.server in TLS
srv 4431 "$tmp/srv.pem" "$tmp/srv.key"
srv 4432 "$tmp/rogue.pem" "$tmp/srv.key"
srv 4433 "$tmp/expired.pem" "$tmp/srv.key"
srv 4434 "$tmp/wrongname.pem" "$tmp/srv.key"
head -c 3000000 /dev/urandom >"$tmp/www/py.bin"
cat >"$tmp/https.py" <<'PY'
import http.server, ssl, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.HTTPServer(("10.78.0.1", 4443), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
ip netns exec "$ns" /usr/bin/python3 "$tmp/https.py" "$tmp/www" "$tmp/srv.pem" "$tmp/srv.key" >/dev/null 2>&1 &
pids+=($!)
sleep 1
tget() { # URL OUT -> exit status
    ip -n "$ns" neigh flush dev ttap0
    nsx timeout 60 "$tern" get --tap ttap0 --addr 10.78.0.2/24 --cacert "$tmp/ca.pem" -q -o "$2" "$1" 2>"$2.err"
}
tget https://10.78.0.1:4431/ "$tmp/g1"; rc=$?
check "tern get https:// from openssl s_server -www (exit $rc)" \
    bash -c '[ "$1" = 0 ] && grep -q "s_server" "$2"' _ "$rc" "$tmp/g1"
tget https://10.78.0.1:4443/py.bin "$tmp/g2"; rc=$?
check "tern get https:// 3 MB from python3 http.server in TLS, byte-exact (exit $rc)" \
    bash -c '[ "$1" = 0 ] && cmp -s "$2" "$3"' _ "$rc" "$tmp/g2" "$tmp/www/py.bin"
tget https://10.78.0.1:4434/ "$tmp/g3"; rc=$?
check "tern get: wrong host name -> exit 51 and a message (got $rc: $(cat "$tmp/g3.err"))" \
    bash -c '[ "$1" = 51 ] && grep -q "certificate verify failed: IP address mismatch" "$2"' _ "$rc" "$tmp/g3.err"
tget https://10.78.0.1:4432/ "$tmp/g4"; rc=$?
check "tern get: untrusted CA -> exit 60 and a message (got $rc: $(cat "$tmp/g4.err"))" \
    bash -c '[ "$1" = 60 ] && grep -q "unable to get local issuer certificate" "$2"' _ "$rc" "$tmp/g4.err"
tget https://10.78.0.1:4433/ "$tmp/g5"; rc=$?
check "tern get: expired certificate -> exit 50 and a message (got $rc: $(cat "$tmp/g5.err"))" \
    bash -c '[ "$1" = 50 ] && grep -q "certificate has expired" "$2"' _ "$rc" "$tmp/g5.err"
stop_bg
exit 0
