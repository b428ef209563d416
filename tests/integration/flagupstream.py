#!/usr/bin/env python3
"""An upstream that says how it was asked, for the DNSSEC integration test.

  flagupstream.py PORT SECONDS

On 127.0.0.1:PORT (UDP), every query gets NOERROR and one TXT record
(TTL 300) for its question, reading "edns=E do=D cd=C ad=A rd=R": the EDNS,
DO, CD, AD and RD bits of the query as it arrived (0 or 1).  A query with
an OPT gets an OPT back (DO echoed).  Runs for at most SECONDS; loopback
only; malformed datagrams are dropped.
"""
import select
import socket
import struct
import sys
import time


def skip_name(q, i):
    while True:
        n = q[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def answer(q):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", q[:12])
    if flags & 0x8000 or qd != 1:
        return None
    end = skip_name(q, 12) + 4
    question = q[12:end]
    if len(question) < 5:
        return None
    i, edns, do = end, 0, 0
    for _ in range(an + ns + ar):	# find the OPT, wherever it is
        j = skip_name(q, i)
        rtype, _, ttl, rdlen = struct.unpack(">HHIH", q[j:j + 10])
        if rtype == 41:
            edns, do = 1, (ttl >> 15) & 1
        i = j + 10 + rdlen
    text = ("edns=%d do=%d cd=%d ad=%d rd=%d" % (
        edns, do, (flags >> 4) & 1, (flags >> 5) & 1, (flags >> 8) & 1)).encode()
    rflags = 0x8080 | (flags & 0x0100)	# QR, RA, RD copied
    msg = struct.pack(">HHHHHH", qid, rflags, 1, 1, 0, edns) + question
    msg += b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 300, len(text) + 1)
    msg += bytes([len(text)]) + text
    if edns:
        msg += b"\x00" + struct.pack(">HHIH", 41, 1232, do << 15, 0)
    return msg


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([u], [], [], 0.5)
        if u in r:
            q, peer = u.recvfrom(4096)
            try:
                a = answer(q)
            except (IndexError, struct.error):
                a = None
            if a:
                u.sendto(a, peer)


main()
