#!/usr/bin/env python3
"""Telegraf's powerdns_recursor input, control_protocol_version = 3, as a test.

  telegraf_v3.py [--repeat N] [--need NAME]... SOCKET

does what Telegraf's plugins/inputs/powerdns_recursor (protocol_v3.go,
protocol_commons.go) does against a PowerDNS Recursor 4.6+ control socket,
byte for byte, and fails where Telegraf would lose data or fail:

  connect (AF_UNIX, SOCK_STREAM); one deadline of 5 s for the whole exchange
  write  int32 0                      (4 bytes; Telegraf writes {0,0,0,0})
  write  the length of "get-all"      (a native uint: size_t, host order)
  write  "get-all"                    (three separate writes, as Telegraf)
  read   the status                   ONE read of 4 bytes
  read   the reply's length           ONE read of sizeof(size_t) bytes
  read   the reply                    ONE read of that many bytes

Telegraf refuses a length of 0 or above 64 KiB, and a reply that does not
come whole in its one read.  It then splits the text on "\\n", drops the
last piece (so a reply not ending in "\\n" loses its last counter), splits
each line on "\\t" and keeps the values strconv.ParseInt(v, 10, 64) takes;
the others it drops without a word.  Here each of those is a failure:
a line that is not NAME<TAB>INTEGER (int64), a missing final newline, a
status other than 0, bytes beyond the announced length.

Prints "NAME VALUE" per counter on stdout (from the last exchange) and a
summary on stderr.  Exit 0 if every exchange was clean, 1 otherwise, 2 for
usage.  Every wait is bounded (5 s per exchange).
"""
import socket
import struct
import sys
import time

DEADLINE = 5.0          # Telegraf's defaultTimeout, set once with SetDeadline
MAX_REPLY = 64 * 1024   # "we only allow up to 64kb"
SIZE_T = struct.calcsize("@N")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class Failure(Exception):
    pass


def parse_int64(v):
    """strconv.ParseInt(v, 10, 64): optional sign, decimal digits, in range."""
    body = v[1:] if v[:1] in ("+", "-") else v
    if not body or not body.isascii() or not body.isdigit():
        raise Failure("value %r is not an integer" % v)
    n = int(v)
    if not INT64_MIN <= n <= INT64_MAX:
        raise Failure("value %r does not fit in int64 (Telegraf drops it)" % v)
    return n


def one_read(s, n, end, what):
    """One recv of at most n bytes, as one conn.Read, within the deadline."""
    left = end - time.monotonic()
    if left <= 0:
        raise Failure("5 s deadline passed before reading %s" % what)
    s.settimeout(left)
    try:
        return s.recv(n)
    except socket.timeout:
        raise Failure("no %s within the 5 s deadline" % what) from None
    except OSError as e:
        raise Failure("reading %s: %s" % (what, e)) from None


def exchange(path):
    end = time.monotonic() + DEADLINE
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(DEADLINE)
        try:
            s.connect(path)
            command = b"get-all"
            s.sendall(b"\0\0\0\0")
            s.sendall(struct.pack("@N", len(command)))
            s.sendall(command)
        except socket.timeout:
            raise Failure("connecting or writing took more than 5 s") from None
        except OSError as e:
            raise Failure("connecting or writing: %s" % e) from None
        status = one_read(s, 4, end, "status")
        if len(status) == 0:
            raise Failure("no status code received (connection closed)")
        if len(status) != 4:
            # Telegraf would go on misaligned; it is a broken reply either way
            raise Failure("the status came in %d bytes, not 4, in one read" % len(status))
        code = struct.unpack("@i", status)[0]
        if code != 0:
            raise Failure("status %d, not 0" % code)
        raw = one_read(s, SIZE_T, end, "length")
        if len(raw) != SIZE_T:
            raise Failure("did not read enough data for native uint: read %d bytes, "
                          "expected %d" % (len(raw), SIZE_T))
        length = struct.unpack("@N", raw)[0]
        if length == 0:
            raise Failure("received data length was 0")
        if length > MAX_REPLY:
            raise Failure("received data length was %d, Telegraf allows up to %d"
                          % (length, MAX_REPLY))
        data = one_read(s, length, end, "reply")
        took = DEADLINE - (end - time.monotonic())
        if len(data) != length:
            raise Failure("the reply did not come in one read: expected %d bytes, got %d"
                          % (length, len(data)))
        # nothing may follow what was announced
        s.settimeout(0.2)
        try:
            extra = s.recv(4096)
        except socket.timeout:
            extra = b""
        except OSError:
            extra = b""
        if extra:
            raise Failure("%d bytes beyond the announced length: %r" % (len(extra), extra[:40]))
    finally:
        s.close()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Failure("the reply is not UTF-8: %s" % e) from None
    lines = text.split("\n")
    if lines[-1] != "":
        raise Failure("the reply does not end in a newline: Telegraf loses %r" % lines[-1])
    fields = {}
    for line in lines[:-1]:
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0]:
            raise Failure("line %r is not NAME<TAB>VALUE" % line)
        if parts[0] in fields:
            raise Failure("counter %s twice" % parts[0])
        try:
            fields[parts[0]] = parse_int64(parts[1])
        except Failure as e:
            raise Failure("%s: %s" % (parts[0], e)) from None
    if not fields:
        raise Failure("no counters in the reply")
    return fields, length, took


def main(argv):
    repeat, need, path = 1, [], None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--repeat", "--need") and i + 1 < len(argv):
            if a == "--repeat":
                try:
                    repeat = int(argv[i + 1])
                except ValueError:
                    repeat = 0
                if not 1 <= repeat <= 1000:
                    print("telegraf_v3: --repeat takes 1..1000", file=sys.stderr)
                    return 2
            else:
                need.append(argv[i + 1])
            i += 2
        elif path is None and not a.startswith("-"):
            path = a
            i += 1
        else:
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 2
    if path is None:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    fields, longest, worst = {}, 0, 0.0
    for k in range(repeat):
        try:
            fields, length, took = exchange(path)
            missing = [n for n in need if n not in fields]
            if missing:
                raise Failure("no counter named %s" % ", ".join(missing))
        except Failure as e:
            print("telegraf_v3: exchange %d of %d: %s" % (k + 1, repeat, e), file=sys.stderr)
            return 1
        longest = max(longest, length)
        worst = max(worst, took)
    for name, value in fields.items():
        print("%s %d" % (name, value))
    print("telegraf_v3: %d exchanges ok, %d counters, largest reply %d bytes, slowest reply %.3f s"
          % (repeat, len(fields), longest, worst), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
