#!/usr/bin/env python3
"""Raw DNS exchanges that dig cannot make, for the integration tests.

  dnsprobe.py pipeline HOST PORT NAME...   N queries in ONE TCP write; prints
                                           "id rcode ancount" per answer
  dnsprobe.py raw HOST PORT HEX            one UDP datagram; prints the reply
                                           header as "id flags rcode qd an ns ar"
                                           or "timeout"
  dnsprobe.py halfclose HOST PORT NAME     TCP query, then shutdown(SHUT_WR);
                                           prints "rcode ancount ms-until-EOF"
  dnsprobe.py trickle HOST PORT SECONDS    one byte of a query every 0.2 s;
                                           prints "closed MS" or "open"
  dnsprobe.py flood HOST PORT N PREFIX     N pipelined queries PREFIX-i; prints
                                           how many answers came and their
                                           rcodes as "answered N rcodes R..."
Loopback only; every wait is bounded.
"""
import socket
import struct
import sys
import time


def query(qid, name, qtype=1):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def pipeline(host, port, names):
    s = socket.create_connection((host, int(port)), timeout=5)
    msgs = [query(0x1000 + i, n) for i, n in enumerate(names)]
    s.sendall(b"".join(struct.pack(">H", len(m)) + m for m in msgs))
    for _ in names:
        (length,) = struct.unpack(">H", recv_exact(s, 2))
        reply = recv_exact(s, length)
        qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", reply[:12])
        print("%d %d %d" % (qid, flags & 0xF, an))
    s.close()


def raw(host, port, hexdata):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(bytes.fromhex(hexdata), (host, int(port)))
    try:
        reply, _ = s.recvfrom(65535)
    except socket.timeout:
        print("timeout")
        return
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", reply[:12])
    print("%d %d %d %d %d %d %d" % (qid, flags, flags & 0xF, qd, an, ns, ar))


def halfclose(host, port, name):
    s = socket.create_connection((host, int(port)), timeout=5)
    m = query(0x2000, name)
    s.sendall(struct.pack(">H", len(m)) + m)
    s.shutdown(socket.SHUT_WR)
    (length,) = struct.unpack(">H", recv_exact(s, 2))
    reply = recv_exact(s, length)
    t0 = time.monotonic()
    while s.recv(4096):
        pass
    ms = int((time.monotonic() - t0) * 1000)
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", reply[:12])
    print("%d %d %d" % (flags & 0xF, an, ms))


def trickle(host, port, seconds):
    s = socket.create_connection((host, int(port)), timeout=5)
    m = query(0x3000, "www.example.test")
    data = struct.pack(">H", len(m)) + m
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < float(seconds):
        try:
            s.send(data[i % len(data):i % len(data) + 1])
            s.settimeout(0.2)
            if s.recv(1) == b"":
                print("closed %d" % int((time.monotonic() - t0) * 1000))
                return
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            print("closed %d" % int((time.monotonic() - t0) * 1000))
            return
        i += 1
    print("open")


def flood(host, port, n, prefix):
    s = socket.create_connection((host, int(port)), timeout=20)
    msgs = [query(i, "%s-%d.gen.example.test" % (prefix, i)) for i in range(int(n))]
    s.sendall(b"".join(struct.pack(">H", len(m)) + m for m in msgs))
    rcodes = {}
    answered = 0
    try:
        for _ in msgs:
            (length,) = struct.unpack(">H", recv_exact(s, 2))
            reply = recv_exact(s, length)
            rc = struct.unpack(">H", reply[2:4])[0] & 0xF
            rcodes[rc] = rcodes.get(rc, 0) + 1
            answered += 1
    except (EOFError, socket.timeout, ConnectionResetError):
        pass
    print("answered %d rcodes %s" % (answered, " ".join("%d:%d" % kv for kv in sorted(rcodes.items()))))


if __name__ == "__main__":
    cmd, host, port = sys.argv[1:4]
    if cmd == "pipeline":
        pipeline(host, port, sys.argv[4:])
    elif cmd == "raw":
        raw(host, port, sys.argv[4])
    elif cmd == "halfclose":
        halfclose(host, port, sys.argv[4])
    elif cmd == "trickle":
        trickle(host, port, sys.argv[4])
    elif cmd == "flood":
        flood(host, port, sys.argv[4], sys.argv[5])
    else:
        sys.exit("unknown command " + cmd)
