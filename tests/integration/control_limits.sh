#!/usr/bin/env bash
# The control socket's limits, end to end, as root, against sandboxed
# servers with no upstream (the cache is filled by load-cache): --max-ttl
# on loaded records, the count a dump cut short reports, dumps that never
# move ended by --control-job-timeout, idle clients closed, a readable
# refusal when every slot is taken and a slot kept for the operator, a
# load whose input is its own connection, a loader's client leaving,
# and running out of descriptors without spinning.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
need setpriv

ADDR=127.0.0.9
SOCK=$WORK/run/control.sock
SERVER=

ctl() { "$FDTOOL" control --socket "$SOCK" "$@"; }
q() { dig +time=2 +tries=1 @$ADDR "$@"; }
pinged() { [ "$(ctl --timeout 1 ping 2>/dev/null)" = pong ]; }
nchildren() { pgrep -P "$1" | wc -l; }
# the server's dump and load children (not its creator)
nhelpers() { ps --ppid "$1" -o comm= | grep -c '^fdtool-server$'; }
# for wait_until, which runs its command again each time
helpers_le() { [ "$(nhelpers "$SERVER")" -le "$1" ]; }
helpers_ge() { [ "$(nhelpers "$SERVER")" -ge "$1" ]; }
fds_ge() { [ "$(nfds "$SERVER")" -ge "$1" ]; }
fds_lt() { [ "$(nfds "$SERVER")" -lt "$1" ]; }
nfds() { ls "/proc/$1/fd" | wc -l; }
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ms() { date +%s%3N; }

# start_server LOG [options]: sets SERVER; nothing answers on the upstream
start_server() {
	local log=$1
	shift
	"$FDTOOL" server --no-config --listen $ADDR --upstream 127.0.0.1:5999 \
	    --control "$SOCK" "$@" 2>"$log" &
	SERVER=$!
	PIDS+=("$SERVER")
	wait_until 10 pinged && kill -0 "$SERVER" ||
		{ echo "server did not start:"; cat "$log"; exit 1; }
}

stop_server() {
	stop_pid "$SERVER"
}

# make_dump FILE N [TTL]: a dump of N names n1..nN.gen.example.test
make_dump() {
	awk -v n="$2" -v ttl="${3:-3000}" 'BEGIN {
		print "; fdtool cache dump"
		for (i = 1; i <= n; i++) {
			printf ";entry n%d.gen.example.test. IN A NOERROR ttl=%d\n", i, ttl
			printf "n%d.gen.example.test.\t%d\tIN\tA\t192.0.2.%d\n", i, ttl, i % 250 + 1
			printf ";authority example.test.\t%d\tIN\tNS\tns1.example.test.\n", ttl
		}
		print "; end"
	}' > "$1"
}

BIG=$WORK/big.dump
make_dump "$BIG" 3000

# --- --max-ttl applies to loaded records ------------------------------------
LOG=$WORK/maxttl.log
start_server "$LOG" --max-ttl 300
cat > "$WORK/huge.dump" <<'DUMP'
; fdtool cache dump
;entry forever.example.test. IN A NOERROR ttl=2147483647
forever.example.test.	2147483647	IN	A	192.0.2.7
;authority example.test.	2147483647	IN	NS	ns1.example.test.
; end
DUMP
out=$(ctl load-cache "$WORK/huge.dump")
check "load-cache of a record with TTL 2147483647 ($out)" test "$out" = \
    "loaded 1 entries (0 expired, 0 malformed lines skipped)"
ans=$(q forever.example.test +noall +answer +authority)
ttls=$(printf '%s\n' "$ans" | awk 'NF >= 5 { print $2 }' | sort -n | tail -1)
check "a loaded record is served with no TTL above --max-ttl 300 (largest: ${ttls:-none})" \
    test -n "$ttls" -a "${ttls:-99999}" -le 300
check "... the answer itself is there ($(printf '%s' "$ans" | head -1))" \
    sh -c 'printf "%s\n" "$1" | grep -q "192\.0\.2\.7$"' _ "$ans"
ctl dump-cache - 2>/dev/null | grep '^forever' > "$WORK/forever.line"
check "... and dumped again with it ($(cat "$WORK/forever.line"))" \
    awk '$2 > 300 { exit 1 }' "$WORK/forever.line"
stop_server

# --- a dump cut short counts the entries written -----------------------------
LOG=$WORK/jobs.log
start_server "$LOG" --control-job-timeout 3
out=$(ctl load-cache "$BIG")
check "3000 entries loaded ($out)" sh -c 'case "$1" in "loaded 3000 entries"*) ;; *) exit 1;; esac' _ "$out"
SMALL=$WORK/small
mkdir -p "$SMALL"
if mount -t tmpfs -o size=64k tmpfs "$SMALL" 2>/dev/null; then
	ctl dump-cache "$SMALL/d.txt" 2>"$WORK/enospc.err"
	rc=$?
	said=$(sed -n 's/^fdtool control: dump-cache: dump stopped after \([0-9]*\) entries: No space left on device$/\1/p' "$WORK/enospc.err")
	have=$(grep -c '^;entry ' "$SMALL/d.txt")
	check "a dump into a full file fails: exit 1 ($rc: $(cat "$WORK/enospc.err"))" test $rc -eq 1 -a -n "$said"
	# the last ";entry" in the file may be cut off: it does not count
	check "... and counts the entries in the file, not those formatted (said ${said:-?}, file has $have or $((have - 1)))" \
	    test -n "$said" -a "${said:-0}" -le "$have" -a "${said:-0}" -ge $((have - 1))
	umount "$SMALL"
else
	echo "# no tmpfs: the ENOSPC count is not tested"
fi
timeout 30 "$FDTOOL" control --socket "$SOCK" dump-cache - 2>"$WORK/head.err" | head -c 20000 >/dev/null
said=$(sed -n 's/.*dump stopped after \([0-9]*\) entries: the reader went away$/\1/p' "$WORK/head.err")
# a pipe takes 64 KiB besides what head read: about 1000 entries at most
check "a reader gone: 'stopped after N entries', N what the pipe took ($(cat "$WORK/head.err"))" \
    test -n "$said" -a "${said:-99999}" -lt 1500

# --- dumps that never move are ended ----------------------------------------
wait_until 5 helpers_le 0
for i in 1 2 3 4; do
	( "$FDTOOL" control --socket "$SOCK" --timeout 30 dump-cache - 2>"$WORK/stall$i.err"
	  echo $? >"$WORK/stall$i.rc" ) | sleep 30 &
	PIDS+=($!)
done
wait_until 5 helpers_ge 4
check "four dump children write into unread pipes" test "$(nhelpers "$SERVER")" -ge 4
ctl dump-cache - 2>"$WORK/busy.err" >/dev/null
check "a fifth dump meanwhile: EBUSY ($(cat "$WORK/busy.err"))" grep -q "too many dumps and loads" "$WORK/busy.err"
t0=$(ms)
wait_until 10 sh -c 'for i in 1 2 3 4; do [ -s "$1/stall$i.rc" ] || exit 1; done' _ "$WORK"
t1=$(ms)
check "all four ended by --control-job-timeout 3, not their --timeout 30 ($((t1 - t0)) ms)" \
    test $((t1 - t0)) -lt 8000 -a -s "$WORK/stall4.rc"
for i in 1 2 3 4; do
	check "... client $i told why, exit $(cat "$WORK/stall$i.rc" 2>/dev/null) ($(cat "$WORK/stall$i.err"))" \
	    sh -c '[ "$(cat "$1.rc")" = 1 ] && grep -q "nothing moved for 3 s" "$1.err"' _ "$WORK/stall$i"
done
wait_until 5 helpers_le 0
check "... and no dump child left" helpers_le 0
out=$(ctl dump-cache - 2>&1 >/dev/null)
check "a dump works again ($out)" test "$out" = "dumped 3000 entries"

# --- a load whose input is its own connection --------------------------------
out=$(timeout 20 python3 - "$SOCK" <<'PY'
import socket, struct, sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(3)
s.connect(sys.argv[1])
# the 1024-byte fdtool message: CTL_REQ (6), id 5, LOAD_CACHE (4), flag FD
msg = (b"fdt1" + bytes([1, 6, 0, 0]) + struct.pack(">II", 5, 0) +
       struct.pack(">HHIQ", 4, 1, 0, 0)).ljust(1024, b"\0")
socket.send_fds(s, [msg], [s.fileno()])
try:
    rep = s.recv(2048)
    print(struct.unpack(">I", rep[12:16])[0], rep[32:].split(b"\0")[0].decode())
except socket.timeout:
    print("timeout")
s.close()
PY
)
check "load-cache from the client's own connection: refused ($out)" \
    sh -c 'case "$1" in "22 "*connection*) ;; *) exit 1;; esac' _ "$out"
"$FDTOOL" control --socket "$SOCK" --timeout 3 load-cache - <&- >"$WORK/closed.out" 2>&1
sleep 1
wait_until 2 helpers_le 0
check "load-cache - with stdin closed leaves no child ($(cat "$WORK/closed.out"))" helpers_le 0

# --- a loader's client leaves: its job ends, the next client hears nothing of it
# The server is stopped while the client leaves and the next one connects
# and asks, so that it sees both in one batch of events: the slot freed and
# reused before any tick (how the loader's records once reached the next
# client, with its request id).
out=$(timeout 30 python3 - "$SOCK" "$SERVER" <<'PY'
import os, signal, socket, struct, sys, time

path, server = sys.argv[1], int(sys.argv[2])


def req(rid, command, flags=0):
    return (b"fdt1" + bytes([1, 6, 0, 0]) + struct.pack(">II", rid, 0) +
            struct.pack(">HHIQ", command, flags, 0, 0)).ljust(1024, b"\0")


r, w = os.pipe()
a = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
a.connect(path)
socket.send_fds(a, [req(1, 4, 1)], [r])
os.close(r)
for i in range(30):          # the loader is busy: entries keep coming
    os.write(w, b";entry x%d.gen.example.test. IN A NOERROR ttl=300\n"
             b"x%d.gen.example.test.\t300\tIN\tA\t192.0.2.1\n" % (i, i))
    time.sleep(0.05)
os.kill(server, signal.SIGSTOP)
a.close()                    # leave mid-load, and at once someone else comes
b = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
b.connect(path)
b.send(req(7, 1))
time.sleep(0.2)
os.kill(server, signal.SIGCONT)
b.settimeout(2.5)
got = []
end = time.monotonic() + 2.5
for i in range(30):          # the loader would still be fed meanwhile, then end
    try:
        os.write(w, b";entry y%d.gen.example.test. IN A NOERROR ttl=300\n" % i)
    except BrokenPipeError:
        break
    time.sleep(0.05)
try:
    os.close(w)
except OSError:
    pass
while time.monotonic() < end:
    try:
        rep = b.recv(2048)
    except socket.timeout:
        break
    if not rep:
        break
    rid, status = struct.unpack(">II", rep[8:16])
    flags = struct.unpack(">H", rep[18:20])[0]
    got.append("%d/%d/%d/%s" % (rid, status, flags, rep[32:].split(b"\0")[0].decode()))
print(" ".join(got))
PY
)
check "the next client gets its pong and nothing of the loader's ($out)" test "$out" = "7/0/0/pong"
wait_until 3 helpers_le 0
check "the loader of the client that left is gone" helpers_le 0
stop_server

# --- idle clients, a full house, the operator's slot ------------------------
LOG=$WORK/slots.log
start_server "$LOG" --control-group daemon --control-idle-timeout 4
GID=$(getent group daemon | cut -d: -f3)
member() { setpriv --reuid=12345 --regid=12345 --groups="$GID" "$@"; }
# a python3 that uid 12345 may run (not one under root's home)
PY3=$(command -v /usr/bin/python3 /usr/local/bin/python3 | head -1)
[ -n "$PY3" ] || skip "no python3 outside root's home for the control-group member"
mkdir -p "$WORK/member" && chown 12345 "$WORK/member"	# where it may say it is ready
member "$PY3" - "$SOCK" "$WORK/member/ready" >"$WORK/held.out" 2>&1 <<'PY' &
import select, socket, struct, sys, time

path, ready = sys.argv[1], sys.argv[2]


def ping(rid):
    return (b"fdt1" + bytes([1, 6, 0, 0]) + struct.pack(">II", rid, 0) +
            struct.pack(">HHIQ", 1, 0, 0, 0)).ljust(1024, b"\0")


held = []
for i in range(15):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(ping(i + 1))
    s.recv(2048)             # in a slot: answered
    held.append(s)
# more than there are slots: each told so, readably
statuses = set()
for i in range(30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    try:
        s.send(ping(100))
    except (BrokenPipeError, ConnectionResetError):
        pass                 # refused before it spoke: the record waits
    rep = s.recv(2048)
    statuses.add("type%d/status%d" % (rep[5], struct.unpack(">I", rep[12:16])[0]))
    s.close()
print("refused " + ",".join(sorted(statuses)))
sys.stdout.flush()
open(ready, "w").close()
t0 = time.monotonic()
closed = 0
while held and time.monotonic() - t0 < 15:
    r, _, _ = select.select(held, [], [], 15)
    for s in r:
        data = s.recv(2048)
        if data and len(data) >= 16:
            data = s.recv(2048)     # the closing ERROR record, then EOF
        if not data:
            held.remove(s)
            closed += 1
print("closed %d after %.1f s" % (closed, time.monotonic() - t0))
PY
HELD=$!
PIDS+=("$HELD")
wait_until 15 test -e "$WORK/member/ready"
check "held: 15 slots taken by a control-group member" test -e "$WORK/member/ready"
check "the 16th, 17th, ... get an ERROR record with EUSERS ($(head -1 "$WORK/held.out"))" \
    test "$(head -1 "$WORK/held.out")" = "refused type1/status87"
member "$FDTOOL" control --socket "$SOCK" ping >"$WORK/full.out" 2>"$WORK/full.err"
rc=$?
check "fdtool control, full house: exit 1, a clear error ($(cat "$WORK/full.err"))" \
    sh -c '[ "$1" -eq 1 ] && grep -q "too many control clients" "$2"' _ $rc "$WORK/full.err"
out=$(ctl ping 2>&1)
check "root still gets in: the operator's slot ($out)" test "$out" = pong
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$FDTOOL" control --socket "$SOCK" ping 2>&1)
check "so does the server's own uid ($out)" test "$out" = pong
n=$(grep -c "too many at once" "$LOG")
check "31 refusals, the log rate-limited ($n lines)" test "$n" -ge 1 -a "$n" -le 6
wait "$HELD"
closed=$(sed -n 's/^closed \([0-9]*\) after \([0-9.]*\) s$/\1 \2/p' "$WORK/held.out")
check "the idle ones were closed after --control-idle-timeout 4 ($closed)" \
    sh -c 'set -- $1; [ "${1:-0}" -eq 15 ] && awk -v t="$2" "BEGIN { exit !(t >= 2 && t < 9) }"' _ "$closed"
out=$(member "$FDTOOL" control --socket "$SOCK" ping 2>&1)
check "a member gets in again ($out)" test "$out" = pong
make_dump "$WORK/few.dump" 20
out=$({ cat "$WORK/few.dump"; sleep 6; } | ctl --timeout 30 load-cache - 2>&1)
check "a load waiting on its input is not idle: done after 6 s ($out)" \
    sh -c 'case "$1" in "loaded 20 entries"*) ;; *) exit 1;; esac' _ "$out"
# One connection, a load of 6 s: a request sent meanwhile is refused under
# its own id, the load's answer keeps the load's id, and the client, busy
# all along, may go on at once (not closed as idle once the job is over).
out=$(timeout 30 python3 - "$SOCK" <<'PY'
import os, socket, struct, sys, time


def req(rid, command, flags=0):
    return (b"fdt1" + bytes([1, 6, 0, 0]) + struct.pack(">II", rid, 0) +
            struct.pack(">HHIQ", command, flags, 0, 0)).ljust(1024, b"\0")


def replies(s, until):
    got = []
    while True:
        rep = s.recv(2048)
        rid, status = struct.unpack(">II", rep[8:16])
        flags = struct.unpack(">H", rep[18:20])[0]
        if flags & 2:
            continue            # progress
        got.append("%d/%d/%s" % (rid, status, rep[32:].split(b"\0")[0].decode()))
        if rid == until:
            return got


s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(sys.argv[1])
r, w = os.pipe()
socket.send_fds(s, [req(3, 4, 1)], [r])
os.close(r)
for i in range(60):
    os.write(w, b";entry b%d.gen.example.test. IN A NOERROR ttl=300\n"
             b"b%d.gen.example.test.\t300\tIN\tA\t192.0.2.1\n" % (i, i))
    if i == 10:
        s.send(req(9, 1))
    time.sleep(0.1)
os.close(w)
got = replies(s, 3)
s.send(req(11, 1))
got += replies(s, 11)
print(" ".join(got))
PY
)
check "a request during a load: EBUSY under its own id, the load's answer under the load's, then a ping ($out)" \
    sh -c 'case "$1" in "9/16/"*" 3/0/loaded 60 entries"*" 11/0/pong") ;; *) exit 1;; esac' _ "$out"
stop_server

# --- out of descriptors --------------------------------------------------------
LOG=$WORK/emfile.log
SERVER=
( ulimit -n 64
  exec "$FDTOOL" server --no-config --listen $ADDR --upstream 127.0.0.1:5999 --control "$SOCK" \
      --max-tcp 1000 --tcp-idle-timeout 3600000 ) 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 pinged || { echo "server did not start:"; cat "$LOG"; exit 1; }
TCP=()
for i in $(seq 1 80); do
	exec {fd}<>/dev/tcp/$ADDR/53 || break
	TCP+=("$fd")
done
wait_until 5 fds_ge 64
check "the server is out of descriptors ($(nfds "$SERVER") open)" test "$(nfds "$SERVER")" -ge 64
"$FDTOOL" control --socket "$SOCK" --timeout 4 ping >"$WORK/emfile.out" 2>"$WORK/emfile.err" &
CLIENT=$!
sleep 0.3
c0=$(cputicks "$SERVER")
sleep 2
c1=$(cputicks "$SERVER")
wait "$CLIENT"
rc=$?
check "a control client waiting to be accepted does not make it spin ($((c1 - c0)) ticks of CPU in 2 s)" \
    test $((c1 - c0)) -lt 40
check "... the client is told it is out of descriptors: exit 1 ($rc: $(cat "$WORK/emfile.err"))" \
    sh -c '[ "$1" -eq 1 ] && grep -q "out of descriptors" "$2"' _ $rc "$WORK/emfile.err"
check "... logged" grep -q "control connection refused: out of descriptors" "$LOG"
for fd in "${TCP[@]}"; do
	exec {fd}>&-
done
wait_until 5 fds_lt 40
out=$(ctl ping 2>&1)
check "once descriptors free, control works again ($out)" test "$out" = pong
check "and so does DNS" sh -c "dig +time=8 +tries=1 @$ADDR n1.gen.example.test | grep -q 'status:'"
stop_server
finish
