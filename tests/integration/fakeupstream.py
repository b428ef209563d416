#!/usr/bin/env python3
"""A hostile upstream for the integration tests, on 127.0.0.1:PORT (UDP+TCP).

By the first label of the question:
  spoof*  first a reply with the wrong id, then one for another question,
          then the right one (A 192.0.2.77)
  cut*    over UDP: TC set and the body cut mid-record; over TCP: A 192.0.2.78
  fail*   SERVFAIL
  other   REFUSED
Runs for at most SECONDS; loopback only.
"""
import select
import socket
import struct
import sys
import time


def parse(q):
    qid = struct.unpack(">H", q[:2])[0]
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += 1 + q[i]
    end = i + 5
    return qid, labels, q[12:end]


def reply(qid, question, rcode=0, addr=None, tc=False, cut=False):
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    an = 1 if addr else 0
    msg = struct.pack(">HHHHHH", qid, flags, 1, an, 0, 0) + question
    if addr:
        msg += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(addr)
    if cut:
        msg = msg[:-3]
    return msg


def answers(q, tcp):
    qid, labels, question = parse(q)
    first = labels[0] if labels else ""
    if first.startswith("spoof"):
        wrong_q = b"\x07decoyzz\x00" + question[-4:]
        return [reply(qid ^ 0xFFFF, question, addr="192.0.2.66"),
                reply(qid, wrong_q, addr="192.0.2.67"),
                reply(qid, question, addr="192.0.2.77")]
    if first.startswith("cut"):
        if tcp:
            return [reply(qid, question, addr="192.0.2.78")]
        return [reply(qid, question, addr="192.0.2.78", tc=True, cut=True)]
    if first.startswith("fail"):
        return [reply(qid, question, rcode=2)]
    return [reply(qid, question, rcode=5)]


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", port))
    t.listen(16)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([u, t], [], [], 0.5)
        if u in r:
            q, peer = u.recvfrom(4096)
            for a in answers(q, False):
                u.sendto(a, peer)
        if t in r:
            c, _ = t.accept()
            c.settimeout(2)
            try:
                n = struct.unpack(">H", c.recv(2))[0]
                q = b""
                while len(q) < n:
                    q += c.recv(n - len(q))
                for a in answers(q, True):
                    c.sendall(struct.pack(">H", len(a)) + a)
            except (OSError, struct.error):
                pass
            c.close()


main()
