# tests/scripts/lib/run_calls.py HOST PORT - run under `tern run` by
# tests/scripts/peer_run.sh: exercises the calls the preload shim interposes
# against a Linux echo server (HOST:PORT echoes each connection until the end
# of the stream, then closes). Prints one "ok - " / "not ok - " line each.
import errno, fcntl, os, select, socket, sys, termios, threading, time

host, port = sys.argv[1], int(sys.argv[2])
results = []


def check(name, cond):
    print(("ok - " if cond else "not ok - ") + "shim: " + name, flush=True)


def conn():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    return s


def recv_exact(s, n, timeout=5):
    s.settimeout(timeout)
    got = b""
    while len(got) < n:
        d = s.recv(n - len(got))
        if not d:
            break
        got += d
    s.settimeout(None)
    return got


# socket, connect (blocking), getsockname, getpeername, get/setsockopt
s = conn()
check("connect: getpeername is the server", s.getpeername() == (host, port))
check("getsockname: a port of tern's address", s.getsockname()[1] > 0 and s.getsockname()[0] != "0.0.0.0")
check("getsockopt SO_TYPE = SOCK_STREAM", s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
check("setsockopt/getsockopt TCP_NODELAY", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
check("getsockopt SO_ERROR = 0", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)

# send, recv with MSG_PEEK, poll, ioctl FIONREAD
s.sendall(b"hello")
p = select.poll()
p.register(s, select.POLLIN)
ev = p.poll(5000)
check("poll: POLLIN once the echo is back", ev and ev[0][1] & select.POLLIN)
time.sleep(0.05)
n = fcntl.ioctl(s, termios.FIONREAD, b"\0\0\0\0")
check("ioctl FIONREAD = 5", int.from_bytes(n, sys.byteorder) == 5)
check("recv MSG_PEEK", s.recv(5, socket.MSG_PEEK) == b"hello")
check("recv after peek", recv_exact(s, 5) == b"hello")

# select mixing a pipe and a tern socket: only the ready one is reported
r, w = os.pipe()
os.write(w, b"x")
rl, _, _ = select.select([r, s], [], [], 1)
check("select: the pipe ready, the idle tern socket not", rl == [r])
_, wl, _ = select.select([], [s], [], 1)
check("select: the tern socket writable", wl == [s])
os.read(r, 1)

# epoll: edge from the eventfd mirror
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN)
check("epoll_wait: nothing before data", ep.poll(0.1) == [])
s.sendall(b"epoll")
ev = ep.poll(5)
check("epoll_wait: EPOLLIN after the echo", ev and ev[0][0] == s.fileno())
check("epoll: data", recv_exact(s, 5) == b"epoll")
ep.close()

# non-blocking (ioctl FIONBIO from setblocking, fcntl F_GETFL/F_SETFL)
s.setblocking(False)
check("fcntl F_GETFL shows O_NONBLOCK", fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
try:
    s.recv(10)
    check("non-blocking recv with nothing queued: EAGAIN", False)
except BlockingIOError:
    check("non-blocking recv with nothing queued: EAGAIN", True)
fl = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
fcntl.fcntl(s.fileno(), fcntl.F_SETFL, fl & ~os.O_NONBLOCK)
check("fcntl F_SETFL clears O_NONBLOCK", not (fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK))

# read/write, readv/writev, sendmsg/recvmsg on the descriptor
fd = s.fileno()
os.write(fd, b"rw")
check("write/read", os.read(fd, 2) == b"rw")
os.writev(fd, [b"ab", b"cd"])
time.sleep(0.1)
b1, b2 = bytearray(2), bytearray(2)
check("writev/readv", os.readv(fd, [b1, b2]) == 4 and bytes(b1 + b2) == b"abcd")
s.sendmsg([b"m1", b"m2"])
data, anc, flags, addr = s.recvmsg(4)
check("sendmsg/recvmsg", data == b"m1m2" or data + recv_exact(s, 4 - len(data)) == b"m1m2")

# dup, dup2, F_DUPFD, close of one copy
d = os.dup(fd)
os.write(d, b"dup")
check("dup: the copy is the same socket", os.read(fd, 3) == b"dup")
os.dup2(fd, 77)
os.write(77, b"dup2")
check("dup2: the copy is the same socket", recv_exact(s, 4) == b"dup2")
d3 = fcntl.fcntl(fd, fcntl.F_DUPFD, 90)
check("fcntl F_DUPFD >= 90", d3 >= 90)
os.close(d)
os.close(77)
os.write(d3, b"still")
os.close(d3)
check("closing copies leaves the socket open", recv_exact(s, 5) == b"still")

# sendfile from a file; splice refused
path = "/tmp/tern_run_calls_%d" % os.getpid()
with open(path, "wb") as f:
    f.write(os.urandom(100000))
with open(path, "rb") as f:
    want = f.read()
    f.seek(0)
    sent = os.sendfile(fd, f.fileno(), 0, len(want))
check("sendfile file -> tern socket: 100000 bytes", sent == len(want))
check("sendfile: echoed byte-exact", recv_exact(s, len(want)) == want)
os.unlink(path)
try:
    os.splice(r, fd, 10)
    check("splice pipe -> tern socket: refused (EINVAL)", False)
except OSError as e:
    check("splice pipe -> tern socket: refused (EINVAL)", e.errno == errno.EINVAL)

# fork: the child keeps the socket (the daemon's, not the process's)
pid = os.fork()
if pid == 0:
    os.write(fd, b"from child")
    os._exit(0)
os.waitpid(pid, 0)
check("fork: the child's send on the inherited socket", recv_exact(s, 10) == b"from child")
s.sendall(b"parent")
check("fork: the parent's socket still works after the child exited", recv_exact(s, 6) == b"parent")

# shutdown(SHUT_WR): the server sees EOF, closes, recv returns b""
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
check("shutdown SHUT_WR: end of stream back from the server", s.recv(10) == b"")
s.close()

# threads: 8 connections at once
errs = []


def worker(i):
    try:
        c = conn()
        blob = os.urandom(200000)
        t = threading.Thread(target=c.sendall, args=(blob,))
        t.start()
        got = recv_exact(c, len(blob), 20)
        t.join()
        if got != blob:
            errs.append(i)
        c.close()
    except Exception as e:
        errs.append((i, e))


ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
check("threads: 8 connections x 200 kB echoed byte-exact (%s)" % errs, not errs)

# refused and passed-through families
try:
    socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    check("AF_INET6: EAFNOSUPPORT", False)
except OSError as e:
    check("AF_INET6: EAFNOSUPPORT", e.errno == errno.EAFNOSUPPORT)
a, b = socket.socketpair()
a.sendall(b"unix")
check("socketpair (AF_UNIX) passes to libc", b.recv(4) == b"unix")
fams = {ai[0] for ai in socket.getaddrinfo("localhost", 80)}
check("getaddrinfo: IPv4 only", fams == {socket.AF_INET})

# UDP connect + send/recv
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect((host, port + 1))
u.send(b"udp-connected")
u.settimeout(5)
check("udp connect/send/recv", u.recv(100) == b"UDP-CONNECTED")
