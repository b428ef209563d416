#!/usr/bin/env python3
"""Scripted upstreams and a burst client for the integration tests.

  fakeup2.py serve [options]    a fake upstream on ADDR:PORT, UDP and TCP
    --addr A        listen address (default 127.0.0.1; loopback only)
    --port P        port (required)
    --mode M        silent      takes queries, never answers
                    ok          IN A: one A record (--answer, TTL --ttl);
                                IN PTR: one PTR "p<PORT>.fake.test.";
                                any other type or class: NOERROR, no
                                answer, an SOA in the authority section
                    refused     REFUSED with the question echoed
                    noquestion  REFUSED with qdcount 0 (same id)
                    servfail    SERVFAIL with the question echoed
                    pointers    like ok for IN A, with legal compression
                                pointers the cache must not trust: a
                                second A record (192.0.2.2) and an NS in
                                the authority section whose names point
                                into the first record's TTL field, which
                                holds the label "a" (TTL 0x3f016100)
    --delay S       answer S seconds after the query came (e.g. 2.5: "slow")
    --ttl N         TTL of the answer and of the SOA (default 300)
    --answer IP     the A record's address (default 192.0.2.1)
    --aa            set AA in every reply
    --count FILE    after every query, FILE (replaced by rename, so never
                    read half-written) holds "total N" and one line
                    "NAME TYPE CLASS N" per question seen (name lower
                    case, type and class as numbers)
    --ready FILE    created once both sockets are bound
    --lifetime S    exit after S seconds (default 60)
  Stop it answering at any time by killing its pid.

  fakeup2.py burst HOST PORT N NAME[/TYPE]...
                  for each NAME (TYPE a number, default 1 = A): N UDP
                  queries with distinct ids, all sent at once, each from a
                  socket of its own; waits at most 5 s for the replies
                  and prints one line per NAME/TYPE:
                    "NAME TYPE sent S answered A rcodes R:C... ids-ok K with-data D"
                  (ids-ok: replies whose id and question are that query's;
                  with-data: replies with ancount > 0)
Every wait is bounded.
"""
import os
import select
import socket
import struct
import sys
import threading
import time


def parse(q):
    """(id, flags, qname lower case, qtype, qclass, raw question) or None."""
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    if qd < 1:
        return None
    i, labels = 12, []
    try:
        while q[i]:
            if q[i] & 0xC0:
                return None
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace").lower())
            i += 1 + q[i]
        qtype, qclass = struct.unpack(">HH", q[i + 1:i + 5])
    except (IndexError, struct.error):
        return None
    return qid, flags, ".".join(labels) + ".", qtype, qclass, q[12:i + 5]


def name_wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"


class Fake:
    def __init__(self, opt):
        self.opt = opt
        self.lock = threading.Lock()
        self.total = 0
        self.seen = {}

    def count(self, p):
        path = self.opt["count"]
        if not path:
            return
        with self.lock:
            self.total += 1
            key = "%s %d %d" % (p[2], p[3], p[4])
            self.seen[key] = self.seen.get(key, 0) + 1
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "w") as f:
                f.write("total %d\n" % self.total)
                for k, v in sorted(self.seen.items()):
                    f.write("%s %d\n" % (k, v))
            os.rename(tmp, path)

    def reply(self, q):
        """The reply to q (bytes), or None for no reply."""
        p = parse(q)
        if p is None:
            return None
        self.count(p)
        mode = self.opt["mode"]
        if mode == "silent":
            return None
        qid, qflags, qname, qtype, qclass, question = p
        rd = qflags & 0x0100
        aa = 0x0400 if self.opt["aa"] else 0
        base = 0x8000 | rd | 0x0080 | aa	# QR, RD copied, RA, AA on request
        if mode == "noquestion":
            return struct.pack(">HHHHHH", qid, base | 5, 0, 0, 0, 0)
        if mode == "refused":
            return struct.pack(">HHHHHH", qid, base | 5, 1, 0, 0, 0) + question
        if mode == "servfail":
            return struct.pack(">HHHHHH", qid, base | 2, 1, 0, 0, 0) + question
        ttl = self.opt["ttl"]
        if mode == "pointers" and qclass == 1 and qtype == 1:
            ttl_at = 12 + len(question) + 6		# rec1: c00c, type, class, TTL
            a_name = struct.pack(">H", 0xC000 | (ttl_at + 1))
            rr1 = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0x3F016100, 4) + \
                socket.inet_aton(self.opt["answer"])
            rr2 = a_name + struct.pack(">HHIH", 1, 1, ttl, 4) + socket.inet_aton("192.0.2.2")
            ns = b"\xc0\x0c" + struct.pack(">HHIH", 2, 1, ttl, 2) + a_name
            return struct.pack(">HHHHHH", qid, base, 1, 2, 1, 0) + question + rr1 + rr2 + ns
        if qclass == 1 and qtype == 1:
            rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, ttl, 4) + socket.inet_aton(self.opt["answer"])
            return struct.pack(">HHHHHH", qid, base, 1, 1, 0, 0) + question + rr
        if qclass == 1 and qtype == 12:
            target = name_wire("p%d.fake.test." % self.opt["port"])
            rr = b"\xc0\x0c" + struct.pack(">HHIH", 12, 1, ttl, len(target)) + target
            return struct.pack(">HHHHHH", qid, base, 1, 1, 0, 0) + question + rr
        # NODATA with an SOA (owner: the question's name), so it is cacheable
        rdata = name_wire("ns.fake.test.") + name_wire("hostmaster.fake.test.") + \
            struct.pack(">IIIII", 1, 3600, 600, 86400, ttl)
        soa = b"\xc0\x0c" + struct.pack(">HHIH", 6, qclass, ttl, len(rdata)) + rdata
        return struct.pack(">HHHHHH", qid, base, 1, 0, 1, 0) + question + soa

    def later(self, fn):
        d = self.opt["delay"]
        if d > 0:
            t = threading.Timer(d, fn)
            t.daemon = True
            t.start()
        else:
            fn()

    def udp(self, u, q, peer):
        r = self.reply(q)
        if r is not None:
            def send():
                try:
                    u.sendto(r, peer)
                except OSError:
                    pass
            self.later(send)

    def tcp_client(self, c):
        c.settimeout(self.opt["delay"] + 5)
        try:
            while True:
                hdr = b""
                while len(hdr) < 2:
                    b = c.recv(2 - len(hdr))
                    if not b:
                        return
                    hdr += b
                n = struct.unpack(">H", hdr)[0]
                q = b""
                while len(q) < n:
                    b = c.recv(n - len(q))
                    if not b:
                        return
                    q += b
                r = self.reply(q)
                if r is None:
                    continue	# silent: keep the connection, never answer
                if self.opt["delay"] > 0:
                    time.sleep(self.opt["delay"])
                c.sendall(struct.pack(">H", len(r)) + r)
        except (OSError, struct.error):
            pass
        finally:
            c.close()


def serve(argv):
    opt = {"addr": "127.0.0.1", "port": None, "mode": "ok", "delay": 0.0, "ttl": 300,
           "answer": "192.0.2.1", "aa": False, "count": None, "ready": None,
           "lifetime": 60.0}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--aa":
            opt["aa"] = True
            i += 1
            continue
        if i + 1 >= len(argv):
            sys.exit("option %s needs a value" % a)
        v = argv[i + 1]
        key = a[2:]
        if key not in opt:
            sys.exit("unknown option " + a)
        if key in ("port", "ttl"):
            v = int(v)
        elif key in ("delay", "lifetime"):
            v = float(v)
        opt[key] = v
        i += 2
    if opt["port"] is None or opt["mode"] not in ("silent", "ok", "refused", "noquestion", "servfail",
                                                     "pointers"):
        sys.exit("usage: fakeup2.py serve --port P "
                 "[--mode silent|ok|refused|noquestion|servfail|pointers] ...")
    if not opt["addr"].startswith("127."):
        sys.exit("loopback addresses only")
    fake = Fake(opt)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((opt["addr"], opt["port"]))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((opt["addr"], opt["port"]))
    t.listen(64)
    if opt["ready"]:
        open(opt["ready"], "w").close()
    end = time.monotonic() + opt["lifetime"]
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([u, t], [], [], min(left, 0.5))
        if u in r:
            try:
                q, peer = u.recvfrom(65535)
            except OSError:
                q = None
            if q:
                fake.udp(u, q, peer)
        if t in r:
            try:
                c, _ = t.accept()
            except OSError:
                continue
            th = threading.Thread(target=fake.tcp_client, args=(c,), daemon=True)
            th.start()
    os._exit(0)	# daemon timers and TCP threads go with us


def query(qid, name, qtype):
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name_wire(name) + \
        struct.pack(">HH", qtype, 1)


def burst(host, port, n, specs):
    port, n = int(port), int(n)
    groups = []
    qid = 0x5000
    for spec in specs:
        name, _, qtype = spec.partition("/")
        qtype = int(qtype) if qtype else 1
        socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.connect((host, port))
            qid += 1
            socks.append((s, qid, query(qid, name, qtype)))
        groups.append((name, qtype, socks))
    sent = {}
    for name, qtype, socks in groups:	# everything built first, then sent at once
        for s, i, m in socks:
            try:
                s.send(m)
                sent[(name, qtype)] = sent.get((name, qtype), 0) + 1
            except OSError:
                pass
    owner = {}
    for name, qtype, socks in groups:
        for s, i, m in socks:
            owner[s.fileno()] = (name, qtype, s, i, m)
    results = {(name, qtype): {"answered": 0, "rcodes": {}, "ids": 0, "data": 0}
               for name, qtype, _ in groups}
    waiting = set(owner)
    end = time.monotonic() + 5
    while waiting and time.monotonic() < end:
        r, _, _ = select.select(list(waiting), [], [], max(0.0, end - time.monotonic()))
        for fd in r:
            name, qtype, s, i, m = owner[fd]
            try:
                rep = s.recv(65535)
            except OSError:
                waiting.discard(fd)	# e.g. ICMP refused: no answer
                continue
            waiting.discard(fd)
            res = results[(name, qtype)]
            res["answered"] += 1
            if len(rep) >= 12:
                rid, flags, qd, an = struct.unpack(">HHHH", rep[:8])
                rc = flags & 0xF
                res["rcodes"][rc] = res["rcodes"].get(rc, 0) + 1
                p = parse(rep)
                if rid == i and p and p[2] == name.lower().rstrip(".") + "." and p[3] == qtype:
                    res["ids"] += 1
                if an > 0:
                    res["data"] += 1
    for name, qtype, _ in groups:
        res = results[(name, qtype)]
        print("%s %d sent %d answered %d rcodes %s ids-ok %d with-data %d" % (
            name, qtype, sent.get((name, qtype), 0), res["answered"],
            " ".join("%d:%d" % kv for kv in sorted(res["rcodes"].items())) or "-",
            res["ids"], res["data"]))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) >= 6 and sys.argv[1] == "burst":
        burst(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)
