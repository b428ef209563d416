#!/usr/bin/env python3
"""Fake upstreams and a burst client for bench/run's issue-9 rows.  Loopback only.

  upstreams.py blackhole ADDR PORT COUNTFILE
      A dead upstream: a UDP socket on ADDR:PORT that reads every datagram and
      answers none (bound, so the kernel sends no ICMP port-unreachable either:
      the sender sees silence, as from a host that is down).  Writes how many
      it swallowed to COUNTFILE (rewritten at most every 0.2 s and at exit).

  upstreams.py proxy LISTEN_PORT UPSTREAM_PORT DELAY_MS LOGFILE
      A counting upstream on 127.0.0.1:LISTEN_PORT in front of NSD on
      127.0.0.1:UPSTREAM_PORT: every query received is logged to LOGFILE as
      "<monotonic time> <qname lowercased> <qtype>" (flushed at once), sent on to
      NSD at once, and NSD's answer is held DELAY_MS before it goes back, so
      that queries from a burst really overlap at the server under test.

  upstreams.py burst SERVER_PORT NAME N TIMEOUT_S [--do]
      N clients (N sockets, so N source ports, N ids) send the same question
      (NAME A) to 127.0.0.1:SERVER_PORT as close together as they can, then wait
      up to TIMEOUT_S for all answers.  Prints "answered=K noerror=J
      spread_ms=S": S is how long sending the N queries took.

  upstreams.py count LOGFILE NAME
      How many queries for NAME (any type, any case) LOGFILE holds.

  upstreams.py rrsig SERVER_PORT NAME
      Asks NAME A with DO set; prints "rrsig=1 size=B" if the answer section
      holds an RRSIG, "rrsig=0 size=B" if not, "rrsig=? size=0" on no answer.

Every loop here is bounded: the servers run until SIGTERM (bench/run stops them
by PID); the clients stop at their timeout.
"""
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time


def build_query(name, qtype=1, do=False, qid=None):
    qid = random.getrandbits(16) if qid is None else qid
    hdr = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if do else 0)
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    q += struct.pack("!HH", qtype, 1)
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000 if do else 0, 0) if do else b""
    return hdr + q + opt


def qname_of(msg):
    """(qname lowercased, qtype, offset after the question) or None."""
    if len(msg) < 12:
        return None
    off, labels = 12, []
    while off < len(msg):
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0:
            return None
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace").lower())
        off += 1 + n
    if off + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[off:off + 2])[0]
    return ".".join(labels), qtype, off + 4


def skip_name(msg, off):
    while off < len(msg):
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0:
            return off + 2
        off += 1 + n
    return off


def answer_types(msg):
    q = qname_of(msg)
    if q is None:
        return []
    ancount = struct.unpack("!H", msg[6:8])[0]
    off, types = q[2], []
    for _ in range(ancount):
        off = skip_name(msg, off)
        if off + 10 > len(msg):
            break
        t, _c, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        types.append(t)
        off += 10 + rdlen
    return types


# ------------------------------------------------------------------ servers
STOP = False


def on_term(_sig, _frm):
    global STOP
    STOP = True


def blackhole(addr, port, countfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    n, last = 0, 0.0

    def dump():
        with open(countfile + ".tmp", "w") as f:
            f.write(f"{n}\n")
        os.replace(countfile + ".tmp", countfile)

    dump()
    while not STOP:
        try:
            r, _, _ = select.select([s], [], [], 0.2)
        except InterruptedError:
            continue
        if r:
            try:
                s.recv(65535)
                n += 1
            except OSError:
                pass
        if time.monotonic() - last > 0.2:
            dump()
            last = time.monotonic()
    dump()


def proxy(listen_port, upstream_port, delay_ms, logfile):
    delay = float(delay_ms) / 1000
    up_addr = ("127.0.0.1", int(upstream_port))
    ls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    ls.bind(("127.0.0.1", int(listen_port)))
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    us.connect(up_addr)
    log = open(logfile, "a", buffering=1)
    owed = {}		# our id -> (client address, client's id, time sent)
    held = []		# heap of (due, seq, reply, client address)
    seq = 0
    next_id = random.getrandbits(16)
    while not STOP:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, reply, client = heapq.heappop(held)
            try:
                ls.sendto(reply, client)
            except OSError:
                pass
        timeout = max(0.0, held[0][0] - now) if held else 0.2
        try:
            r, _, _ = select.select([ls, us], [], [], min(timeout, 0.2))
        except InterruptedError:
            continue
        if ls in r:
            for _ in range(64):
                try:
                    msg, client = ls.recvfrom(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                q = qname_of(msg)
                log.write(f"{time.monotonic():.6f} {q[0] if q else '?'} {q[1] if q else 0}\n")
                if len(msg) < 12:
                    continue
                for _ in range(65536):	# a free id (bounded: at most 65,536 tries)
                    next_id = (next_id + 1) & 0xFFFF
                    if next_id not in owed:
                        break
                owed[next_id] = (client, msg[:2], now)
                try:
                    us.send(struct.pack("!H", next_id) + msg[2:])
                except OSError:
                    owed.pop(next_id, None)
        if us in r:
            for _ in range(64):
                try:
                    msg = us.recv(65535, socket.MSG_DONTWAIT)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                if len(msg) < 12:
                    continue
                o = owed.pop(struct.unpack("!H", msg[:2])[0], None)
                if o is None:
                    continue
                seq += 1
                heapq.heappush(held, (time.monotonic() + delay, seq, o[1] + msg[2:], o[0]))
        # forget what NSD never answered (bounded memory)
        if len(owed) > 4096:
            cut = now - 10
            for k in [k for k, v in owed.items() if v[2] < cut]:
                del owed[k]
    log.close()


# ------------------------------------------------------------------ clients
def burst(port, name, n, timeout_s, do=False):
    n, dest = int(n), ("127.0.0.1", int(port))
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    msgs = [build_query(name, do=do, qid=random.getrandbits(16)) for _ in range(n)]
    t0 = time.monotonic()
    for s, m in zip(socks, msgs):
        s.sendto(m, dest)
    spread = time.monotonic() - t0
    deadline = t0 + float(timeout_s)
    pending = {s.fileno(): (s, m[:2]) for s, m in zip(socks, msgs)}
    answered = noerror = 0
    while pending and time.monotonic() < deadline:
        r, _, _ = select.select([p[0] for p in pending.values()], [], [],
                                max(0.0, deadline - time.monotonic()))
        for s in r:
            try:
                msg = s.recv(65535)
            except OSError:
                continue
            ent = pending.get(s.fileno())
            if ent is None or msg[:2] != ent[1]:
                continue
            answered += 1
            noerror += (msg[3] & 0x0F) == 0
            del pending[s.fileno()]
    for s in socks:
        s.close()
    print(f"answered={answered} noerror={noerror} spread_ms={spread * 1000:.2f}")


def count(logfile, name):
    name = name.rstrip(".").lower()
    n = 0
    try:
        with open(logfile) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[1] == name:
                    n += 1
    except FileNotFoundError:
        pass
    print(n)


def rrsig(port, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    m = build_query(name, do=True)
    try:
        s.sendto(m, ("127.0.0.1", int(port)))
        for _ in range(10):
            msg = s.recv(65535)
            if msg[:2] == m[:2]:
                print(f"rrsig={int(46 in answer_types(msg))} size={len(msg)}")
                return
    except OSError:
        pass
    print("rrsig=? size=0")


def main():
    a = sys.argv[1:]
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if len(a) == 4 and a[0] == "blackhole":
        blackhole(*a[1:])
    elif len(a) == 5 and a[0] == "proxy":
        proxy(*a[1:])
    elif len(a) in (5, 6) and a[0] == "burst":
        burst(a[1], a[2], a[3], a[4], do=len(a) == 6 and a[5] == "--do")
    elif len(a) == 3 and a[0] == "count":
        count(a[1], a[2])
    elif len(a) == 3 and a[0] == "rrsig":
        rrsig(a[1], a[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
