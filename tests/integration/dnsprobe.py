#!/usr/bin/env python3
"""Raw DNS exchanges that dig cannot make, for the integration tests.

  dnsprobe.py pipeline HOST PORT NAME...   N queries in ONE TCP write; prints
                                           "id rcode ancount" per answer
  dnsprobe.py raw HOST PORT HEX            one UDP datagram; prints the reply
                                           header as "id flags rcode qd an ns ar"
                                           or "timeout"
Loopback only; every wait is bounded.
"""
import socket
import struct
import sys


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


if __name__ == "__main__":
    cmd, host, port = sys.argv[1:4]
    if cmd == "pipeline":
        pipeline(host, port, sys.argv[4:])
    elif cmd == "raw":
        raw(host, port, sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
