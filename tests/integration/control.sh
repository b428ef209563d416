#!/usr/bin/env bash
# fdtool control end to end, as root, against a sandboxed server on
# 127.0.0.8:53 forwarding to NSD on 127.0.0.1:5304: the commands, dumps
# through descriptors the client opens (as nobody, in nobody's directory),
# a never-reading and a vanishing reader while DNS keeps flowing, wipe,
# dump -> restart -> load with the upstream gone, refused peers, garbage
# and descriptors on the control socket, quit and quit-nicely, and the
# client's error reporting.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need nsd
need python3
need setpriv

UP=5304
ADDR=127.0.0.8
SOCK=$WORK/run/control.sock	# $WORK/run: made by the server
SERVER=
start_nsd $UP

ctl() { "$FDTOOL" control --socket "$SOCK" "$@"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
q() { dig +time=2 +tries=1 @$ADDR "$@"; }
ms() { date +%s%3N; }
pinged() { [ "$(ctl --timeout 1 ping 2>/dev/null)" = pong ]; }
nfds() { ls "/proc/$1/fd" | wc -l; }
nchildren() { pgrep -P "$1" | wc -l; }
# exited PID: gone or a zombie (our child, not yet waited for)
exited() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# start_server LOG [options]: sets SERVER
start_server() {
	local log=$1
	shift
	"$FDTOOL" server --listen $ADDR --upstream 127.0.0.1:$UP --control "$SOCK" "$@" 2>"$log" &
	SERVER=$!
	PIDS+=("$SERVER")
	wait_until 10 pinged && kill -0 "$SERVER" ||
		{ echo "server did not start:"; cat "$log"; exit 1; }
}

# reap_server: waits (bounded) for SERVER to end; its status, or 254 after
# SIGKILL when it would not go
reap_server() {
	wait_until 10 exited "$SERVER"
	if exited "$SERVER"; then
		wait "$SERVER"
		return
	fi
	kill -KILL "$SERVER"
	wait "$SERVER" 2>/dev/null
	return 254
}

# --- 11. error reporting (no server needed) ---------------------------------
"$FDTOOL" control --socket /nonexistent/x.sock ping >"$WORK/e.out" 2>"$WORK/e.err"
rc=$?
check "unreachable socket: exit 1 (got $rc)" test $rc -eq 1
check "unreachable socket: exactly the one stderr line" test "$(cat "$WORK/e.err")" = \
    "fdtool control: cannot connect to /nonexistent/x.sock: No such file or directory"
check "unreachable socket: nothing on stdout" test ! -s "$WORK/e.out"
"$FDTOOL" control bogus >/dev/null 2>&1
rc=$?
check "unknown command: exit 2 (got $rc)" test $rc -eq 2

# --- the server ---------------------------------------------------------
LOG=$WORK/server1.log
start_server "$LOG"
check "the server made its control socket directory: root's, 0755 (nobody cannot plant a socket there)" \
    test "$(stat -c '%u %a' "$WORK/run" 2>/dev/null)" = "0 755"
check "control socket mode 0660, owned by nobody" \
    test "$(stat -c '%a %u' "$SOCK" 2>/dev/null)" = "660 65534"
check "server runs as nobody" test "$(status_field "$SERVER" Uid)" = "65534	65534	65534	65534"
check "server is sandboxed" grep -q "sandboxed (Landlock" "$LOG"

# --- 1. ping, version, get, get-all -----------------------------------------
out=$(ctl ping)
rc=$?
check "ping -> pong, exit 0 (got '$out', $rc)" test "$out" = pong -a $rc -eq 0
out=$(ctl version)
rc=$?
check "version: '$out', exit $rc" sh -c '[ "$2" -eq 0 ] && printf "%s\n" "$1" | grep -q "^fdtool [0-9]"' _ "$out" $rc
q www.example.test +short >/dev/null
q www.example.test +short >/dev/null	# a cache hit
ctl get-all >"$WORK/getall.out" 2>"$WORK/getall.err"
rc=$?
check "get-all exits 0 ($rc)" test $rc -eq 0
check "get-all: every line is name<TAB>number (or upstream[ADDR].field<TAB>number)" \
    sh -c '[ -s "$1" ] && ! grep -qvP "^([a-z0-9-]+|upstream\[[^]\s]+\]\.[a-z-]+)\t[0-9]+$" "$1"' _ "$WORK/getall.out"
check "get-all: the upstream's health" grep -qP "^upstream\[127\.0\.0\.1:[0-9]+\]\.srtt-ms\t[0-9]+$" "$WORK/getall.out"
# PowerDNS Recursor's names, with its meanings (docs/metrics.md)
for c in questions tcp-questions packetcache-hits packetcache-misses packetcache-entries \
    noerror-answers nxdomain-answers servfail-answers all-outqueries tcp-outqueries \
    outgoing-timeouts answers0-1 answers1-10 answers10-100 answers100-1000 answers-slow \
    qa-latency uptime user-msec sys-msec real-memory-usage concurrent-queries tcp-clients \
    answer-latency-usec-sum answer-latency-count; do
	check "get-all has $c" grep -qP "^$c\t[0-9]+$" "$WORK/getall.out"
done
for c in queries-udp cache-hits cache-entries upstream-queries; do
	check "get-all has no $c any more" sh -c "! grep -q '^$c\t' \"\$1\"" _ "$WORK/getall.out"
done
gv() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$WORK/getall.out"; }
check "get-all: questions counts our 2 queries" test "$(gv questions)" -ge 2
check "get-all: a packet-cache hit counted" test "$(gv packetcache-hits)" -ge 1
check "get-all: both answered NOERROR" test "$(gv noerror-answers)" -ge 2
check "get-all: real-memory-usage is a resident set in bytes" test "$(gv real-memory-usage)" -gt 1000000
check "get-all: sys-msec and user-msec are numbers" test "$(( $(gv sys-msec) + $(gv user-msec) ))" -ge 0
check "get-all: pdns's identity, answers* + packetcache-hits = questions" \
    test $(( $(gv answers0-1) + $(gv answers1-10) + $(gv answers10-100) + $(gv answers100-1000) +
        $(gv answers-slow) + $(gv packetcache-hits) )) -eq "$(gv questions)"
check "get-all: the histogram's count is the buckets' sum" \
    test $(( $(gv answers0-1) + $(gv answers1-10) + $(gv answers10-100) + $(gv answers100-1000) +
        $(gv answers-slow) )) -eq "$(gv answer-latency-count)"
check "get-all: nothing in flight now" test "$(gv concurrent-queries)" -eq 0
out=$(ctl get questions packetcache-hits)
rc=$?
check "get questions packetcache-hits: two numbers, exit 0 (${out//$'\n'/ })" \
    sh -c '[ "$2" -eq 0 ] && [ "$(printf "%s\n" "$1" | grep -cE "^[0-9]+$")" -eq 2 ] &&
        [ "$(printf "%s\n" "$1" | wc -l)" -eq 2 ]' _ "$out" $rc
ctl get no-such-counter >"$WORK/get.out" 2>"$WORK/get.err"
rc=$?
check "get of an unknown counter: exit 1 ($rc)" test $rc -eq 1
check "get of an unknown counter: one line on stderr naming it ($(cat "$WORK/get.err"))" \
    sh -c '[ "$(wc -l < "$1")" -eq 1 ] && grep -q "^fdtool control: .*no-such-counter" "$1"' _ "$WORK/get.err"

# --- 2. dump-cache - | grep ---------------------------------------------
for i in 1 2; do
	q www.example.test +short >/dev/null
	q other.example.test +short >/dev/null
	q nope.example.test >/dev/null
done
check "nope.example.test is NXDOMAIN" sh -c "dig +time=2 +tries=1 @$ADDR nope.example.test | grep -q 'status: NXDOMAIN'"
out=$(ctl dump-cache - 2>/dev/null | grep www.example.test)
check "dump-cache - | grep www.example.test finds 192.0.2.1" \
    sh -c 'printf "%s\n" "$1" | grep -qP "^www\.example\.test\.\t[0-9]+\tIN\tA\t192\.0\.2\.1$"' _ "$out"
ctl dump-cache - >"$WORK/dump1.out" 2>"$WORK/dump1.err"
rc=$?
check "dump-cache - exits 0 ($rc)" test $rc -eq 0
check "dump starts with the '; fdtool cache dump' header" \
    test "$(head -1 "$WORK/dump1.out")" = "; fdtool cache dump"
check "dump has the record line of other.example.test" \
    grep -qP "^other\.example\.test\.\t[0-9]+\tIN\tA\t192\.0\.2\.4$" "$WORK/dump1.out"
check "the NXDOMAIN entry is marked negative" \
    grep -qE "^;entry nope\.example\.test\. IN A NXDOMAIN ttl=[0-9]+ negative$" "$WORK/dump1.out"
check "the positive entry is not marked negative" \
    sh -c 'grep "^;entry www\.example\.test\. IN A " "$1" | grep -qv negative' _ "$WORK/dump1.out"
check "'dumped N entries' on stderr ($(cat "$WORK/dump1.err"))" grep -qE "^dumped [0-9]+ entries$" "$WORK/dump1.err"
check "no summary in the dump itself" sh -c '! grep -q "dumped" "$1"' _ "$WORK/dump1.out"
hdr=$(sed -n 's/^; entries \([0-9]*\)$/\1/p' "$WORK/dump1.out")
sum=$(sed -n 's/^dumped \([0-9]*\) entries$/\1/p' "$WORK/dump1.err")
ent=$(grep -c '^;entry ' "$WORK/dump1.out")
check "header count = summary = ;entry lines ($hdr/$sum/$ent)" \
    test "${hdr:-x}" = "${sum:-y}" -a "${sum:-y}" = "$ent" -a "$ent" -ge 3

# --- 3. dump-cache FILE as nobody, in nobody's directory ------------------------
ND=$WORK/nobody
mkdir "$ND" && chown 65534:65534 "$ND"
(cd "$ND" && as_nobody "$FDTOOL" control --socket "$SOCK" dump-cache out.txt) \
    >"$WORK/n1.out" 2>"$WORK/n1.err"
rc=$?
check "dump-cache out.txt as nobody: exit 0 ($rc: $(cat "$WORK/n1.err"))" test $rc -eq 0
check "out.txt is owned by nobody" test "$(stat -c %u "$ND/out.txt" 2>/dev/null)" = 65534
check "out.txt has mode 0640" test "$(stat -c %a "$ND/out.txt" 2>/dev/null)" = 640
check "out.txt holds the dump" grep -qP "^www\.example\.test\.\t[0-9]+\tIN\tA\t192\.0\.2\.1$" "$ND/out.txt"
check "out.txt: the summary went to stderr" grep -qE "^dumped [0-9]+ entries$" "$WORK/n1.err"
check "out.txt ends with '; end'" test "$(tail -1 "$ND/out.txt" 2>/dev/null)" = "; end"
size1=$(stat -c %s "$ND/out.txt" 2>/dev/null)
(cd "$ND" && as_nobody "$FDTOOL" control --socket "$SOCK" dump-cache out.txt) \
    >"$WORK/n2.out" 2>"$WORK/n2.err"
rc=$?
check "dump-cache onto an existing file: exit 1 ($rc)" test $rc -eq 1
check "... saying the file exists ($(cat "$WORK/n2.err"))" grep -q "exists" "$WORK/n2.err"
check "... and leaving it alone" test "$(stat -c %s "$ND/out.txt" 2>/dev/null)" = "$size1"
cat "$ND/out.txt" "$ND/out.txt" > "$WORK/double"	# longer than any one dump
cp "$WORK/double" "$ND/out.txt" && chown 65534:65534 "$ND/out.txt"
(cd "$ND" && as_nobody "$FDTOOL" control --socket "$SOCK" --force dump-cache out.txt) \
    >"$WORK/n3.out" 2>"$WORK/n3.err"
rc=$?
check "--force overwrites: exit 0 ($rc: $(cat "$WORK/n3.err"))" test $rc -eq 0
check "--force: one dump, the old text gone (truncated)" \
    test "$(grep -c '^; fdtool cache dump$' "$ND/out.txt")" -eq 1
echo original > "$ND/target.txt"
chown 65534:65534 "$ND/target.txt"
ln -s "$ND/target.txt" "$ND/out2.txt"
(cd "$ND" && as_nobody "$FDTOOL" control --socket "$SOCK" dump-cache out2.txt) >/dev/null 2>"$WORK/n4.err"
rc=$?
check "symlink out2.txt refused: exit 1 ($rc: $(cat "$WORK/n4.err"))" test $rc -eq 1
(cd "$ND" && as_nobody "$FDTOOL" control --socket "$SOCK" --force dump-cache out2.txt) >/dev/null 2>"$WORK/n5.err"
rc=$?
check "symlink out2.txt refused with --force too (O_NOFOLLOW): exit 1 ($rc: $(cat "$WORK/n5.err"))" test $rc -eq 1
check "the symlink's target untouched" test "$(cat "$ND/target.txt")" = original
ln -s "$ND/dangling.txt" "$ND/out3.txt"
(cd "$ND" && as_nobody "$FDTOOL" control --socket "$SOCK" dump-cache out3.txt) >/dev/null 2>&1
rc=$?
check "dangling symlink refused ($rc) and nothing created through it" test $rc -eq 1 -a ! -e "$ND/dangling.txt"

# --- 4. a reader that never reads ---------------------------------------
# fill the cache: 3000 names under the zone's wildcard, sent quickly
filled=$(timeout 90 python3 - $ADDR 53 3000 <<'PY'
import select, socket, struct, sys, time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def query(qid, name):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", 1, 1)


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
answered = set()
pending = list(range(1, n + 1))
deadline = time.monotonic() + 60
while pending and time.monotonic() < deadline:
    batch = pending[:200]
    for i in batch:
        s.sendto(query(i, "n%d.gen.example.test" % i), (host, port))
    end = time.monotonic() + 3
    want = set(batch)
    while want and time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        data = s.recv(4096)
        if len(data) >= 12:
            qid = struct.unpack(">H", data[:2])[0]
            answered.add(qid)
            want.discard(qid)
    pending = [i for i in pending if i not in answered]
print(len(answered))
PY
)
check "3000 generated names answered ($filled)" test "${filled:-0}" -eq 3000
entries=$(ctl get packetcache-entries)
check "cache holds over 3000 entries ($entries)" test "${entries:-0}" -ge 3000
ctl dump-cache - >"$WORK/big.out" 2>"$WORK/big.err"
big=$(stat -c %s "$WORK/big.out")
check "a dump of the big cache is far larger than a pipe buffer ($big bytes)" test "$big" -gt 262144
check "big dump: header count = summary = ;entry lines" test \
    "$(sed -n 's/^; entries //p' "$WORK/big.out")" = "$(sed -n 's/^dumped \([0-9]*\) entries$/\1/p' "$WORK/big.err")" -a \
    "$(grep -c '^;entry ' "$WORK/big.out")" = "$(sed -n 's/^; entries //p' "$WORK/big.out")"

# the big dump's helper may still be exiting (slowly on a busy machine):
# count the children once it is gone, or it would hide the next one
helper=$(sed -n 's/.*written by pid \([0-9]*\)$/\1/p' "$LOG" | tail -1)
wait_until 5 test ! -e "/proc/${helper:-0}"
kids=$(nchildren "$SERVER")
rm -f "$WORK/stall.rc" "$WORK/stall.pid" "$WORK/stall.sub"
t0=$(ms)
( echo $BASHPID >"$WORK/stall.sub"
  "$FDTOOL" control --socket "$SOCK" --timeout 8 dump-cache - 2>"$WORK/stall.err" &
  echo $! >"$WORK/stall.pid"
  wait $!
  echo $? >"$WORK/stall.rc" ) | sleep 20 &
SLEEPER=$!
PIDS+=("$SLEEPER")
wait_until 5 test -s "$WORK/stall.pid"
STALLER=$(cat "$WORK/stall.pid" 2>/dev/null)
[ -n "$STALLER" ] && PIDS+=("$STALLER")
PIDS+=($(cat "$WORK/stall.sub" 2>/dev/null))	# the subshell that records its status
wait_until 5 test "$(nchildren "$SERVER")" -gt "$kids"
check "a dump child is writing into the unread pipe" test "$(nchildren "$SERVER")" -gt "$kids"
sleep 0.2
slow=0 lost=0 worst_q=0 worst_w=0
for i in $(seq 1 20); do
	if [ $((i % 2)) -eq 0 ]; then name=www.example.test; else name=stall$i.gen.example.test; fi
	a=$(ms)
	out=$(dig +time=1 +tries=1 @$ADDR "$name")
	b=$(ms)
	w=$((b - a))
	qt=$(printf '%s\n' "$out" | sed -n 's/^;; Query time: \([0-9]*\) msec.*/\1/p')
	if ! printf '%s\n' "$out" | grep -q 'status: NOERROR' || [ -z "$qt" ]; then
		lost=$((lost + 1))
		continue
	fi
	[ "$qt" -gt "$worst_q" ] && worst_q=$qt
	[ "$w" -gt "$worst_w" ] && worst_w=$w
	# a stalled loop would cost dig its whole 1 s timeout; the bounds are
	# far below that and far above a busy machine's process start-up
	[ "$qt" -gt 250 ] || [ "$w" -gt 900 ] && slow=$((slow + 1))
	sleep 0.1
done
check "while the dump sits unread, all 20 digs answered (lost $lost)" test $lost -eq 0
check "... none held up (query time <= 250 ms, wall clock <= 900 ms; worst $worst_q ms, $worst_w ms; $slow slow)" test $slow -eq 0
check "... and the dump was still stalled meanwhile" test ! -e "$WORK/stall.rc"
wait_until 15 test -s "$WORK/stall.rc"
t1=$(ms)
rc=$(cat "$WORK/stall.rc" 2>/dev/null)
check "the stalled client gave up by its --timeout, after $((t1 - t0)) ms (not sleep's 20 s)" \
    test -n "$rc" -a $((t1 - t0)) -lt 18000 -a $((t1 - t0)) -ge 7500
check "... with a non-zero status ($rc: $(cat "$WORK/stall.err"))" test "${rc:-0}" -ne 0
check "... and no 'dumped' claim" sh -c '! grep -q "^dumped" "$1"' _ "$WORK/stall.err"
check "the sleeping reader was still there (it never read)" kill -0 "$SLEEPER"
stop_pid "$SLEEPER"
wait_until 5 test "$(nchildren "$SERVER")" -le "$kids"
check "the dump child ended with its client" test "$(nchildren "$SERVER")" -le "$kids"
check "server fine after the stalled dump" test "$(q www.example.test +short)" = 192.0.2.1

# --- 5. a reader that goes away ---------------------------------------------
timeout 30 "$FDTOOL" control --socket "$SOCK" dump-cache - 2>"$WORK/head.err" | head -c 100 >/dev/null
st=("${PIPESTATUS[@]}")
check "reader gone early: dump-cache exits non-zero (${st[0]}: $(cat "$WORK/head.err"))" \
    test "${st[0]}" -ne 0 -a "${st[0]}" -ne 124
check "... with no 'dumped' claim" sh -c '! grep -q "^dumped" "$1"' _ "$WORK/head.err"
check "... one line on stderr" test "$(wc -l < "$WORK/head.err")" -eq 1
check "server answers dig after the vanished reader" test "$(q www.example.test +short)" = 192.0.2.1
check "control still answers after the vanished reader" test "$(ctl ping)" = pong
wait_until 5 test "$(nchildren "$SERVER")" -le "$kids"
check "no dump child left behind" test "$(nchildren "$SERVER")" -le "$kids"

# --- 6. wipe-cache ------------------------------------------------------------
out=$(ctl wipe-cache www.example.test)
rc=$?
n=$(printf '%s\n' "$out" | sed -n 's/^wiped \([0-9]*\) entries$/\1/p')
check "wipe-cache www.example.test: '$out', exit $rc" test $rc -eq 0 -a "${n:-0}" -ge 1
check "dump after the wipe: no www.example.test" \
    sh -c '! "$@" dump-cache - 2>/dev/null | grep -q "^www\.example\.test\." ' _ "$FDTOOL" control --socket "$SOCK"
check "other.example.test not wiped with it" \
    sh -c '"$@" dump-cache - 2>/dev/null | grep -q "^other\.example\.test\." ' _ "$FDTOOL" control --socket "$SOCK"
out=$(ctl wipe-cache 'gen.example.test$')
rc=$?
n=$(printf '%s\n' "$out" | sed -n 's/^wiped \([0-9]*\) entries$/\1/p')
check "wipe-cache gen.example.test\$ wipes the subtree: '$out', exit $rc" test $rc -eq 0 -a "${n:-0}" -ge 3000
check "dump after the subtree wipe: no gen.example.test names" \
    sh -c '! "$@" dump-cache - 2>/dev/null | grep -q "\.gen\.example\.test\." ' _ "$FDTOOL" control --socket "$SOCK"
entries=$(ctl get packetcache-entries)
check "packetcache-entries dropped below 100 ($entries)" test "${entries:-99999}" -lt 100
ctl wipe-cache 'bad..name' >/dev/null 2>"$WORK/wipe.err"
rc=$?
check "wipe-cache of a malformed name: exit 1 ($rc: $(cat "$WORK/wipe.err"))" test $rc -eq 1

# --- 7. dump, restart, load with the upstream gone ------------------------------
q other.example.test +short >/dev/null
q nope.example.test >/dev/null
SAVED=$WORK/saved.dump
ctl dump-cache "$SAVED" 2>"$WORK/save.err"
rc=$?
check "dump-cache $SAVED: exit 0 ($rc)" test $rc -eq 0
before=$(awk -F'\t' '$1 == "other.example.test." && $4 == "A" { print $2 }' "$SAVED")
check "saved dump has other.example.test (ttl $before)" test -n "$before"
kill -TERM "$SERVER"
reap_server
rc=$?
check "server exits 0 on SIGTERM ($rc)" test $rc -eq 0
stop_pid "$NSD_PID"
check "the upstream is gone" sh -c "! dig +time=1 +tries=1 @127.0.0.1 -p $UP www.example.test >/dev/null"
LOG=$WORK/server2.log
start_server "$LOG"
check "new server: empty cache" test "$(ctl get packetcache-entries)" = 0
out=$(ctl load-cache "$SAVED")
rc=$?
n=$(printf '%s\n' "$out" | sed -n 's/^loaded \([0-9]*\) entries.*/\1/p')
check "load-cache: '$out', exit $rc" test $rc -eq 0 -a "${n:-0}" -gt 0
check "packetcache-entries after the load ($(ctl get packetcache-entries)) >= $n" test "$(ctl get packetcache-entries)" -ge "${n:-1}"
ans=$(q other.example.test +noall +answer)
after=$(printf '%s\n' "$ans" | awk '$4 == "A" { print $2; exit }')
check "other.example.test answered from the loaded cache, upstream gone" \
    sh -c 'printf "%s\n" "$1" | grep -q "192\.0\.2\.4$"' _ "$ans"
check "... with a TTL no greater than before ($before -> $after)" \
    test -n "$after" -a "${after:-99999}" -le "${before:-0}"
check "NXDOMAIN loaded too" sh -c "dig +time=2 +tries=1 @$ADDR nope.example.test | grep -q 'status: NXDOMAIN'"
check "a name not in the dump: SERVFAIL (really no upstream)" \
    sh -c "dig +time=5 +tries=1 @$ADDR unseen.example.test | grep -q 'status: SERVFAIL'"
# garbage lines among good entries: counted, never fatal
{
	echo "this is not a record"
	cat "$SAVED"
	echo "www.example.test. abc IN A 192.0.2.1"
	printf '\001\002\377 binary junk\n'
	echo ";entry half.example.test. IN"
	echo "garbage.example.test.	300	IN	A	999.1.2.3"
} > "$WORK/garbage.dump"
out=$(ctl load-cache "$WORK/garbage.dump")
rc=$?
m=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) malformed.*/\1/p')
check "load-cache with garbage lines: exit 0 ($rc: '$out')" test $rc -eq 0
check "... reports the malformed lines ($m)" test "${m:-0}" -ge 3
ctl load-cache /dev/null >/dev/null 2>&1
rc=$?
check "load-cache of an empty file: exit 0 ($rc)" test $rc -eq 0
check "server fine after the loads" test "$(q other.example.test +short)" = 192.0.2.4

# --- 8. refusal ---------------------------------------------------------------
chmod 0666 "$SOCK"
setpriv --reuid=12345 --regid=12345 --clear-groups "$FDTOOL" control --socket "$SOCK" ping \
    >"$WORK/r.out" 2>"$WORK/r.err"
rc=$?
check "uid 12345 refused: exit 1 ($rc)" test $rc -eq 1
check "... saying so ($(cat "$WORK/r.err"))" grep -qE "refused|Permission denied" "$WORK/r.err"
check "... nothing on stdout" test ! -s "$WORK/r.out"
check "... and the server logged it" grep -q "refused control connection" "$LOG"
chmod 0660 "$SOCK"
out=$(as_nobody "$FDTOOL" control --socket "$SOCK" ping 2>&1)
check "the server's own uid (nobody) is let in ($out)" test "$out" = pong

# --- 9. garbage on the control socket -------------------------------------------
fds0=$(nfds "$SERVER")
out=$(timeout 60 python3 - "$SOCK" <<'PY'
import os, socket, sys

path = sys.argv[1]


def attempt(payload, nfds=0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(nfds)]
    try:
        s.connect(path)
        if fds:
            socket.send_fds(s, [payload], fds)
        else:
            s.send(payload)
        data = s.recv(4096)
        return "eof" if data == b"" else "data:%d" % len(data)
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%s" % e.strerror
    finally:
        s.close()
        for fd in fds:
            os.close(fd)


for size in (10, 1024, 2000):
    print("random-%d %s" % (size, attempt(os.urandom(size))))
print("random-1024+fd %s" % attempt(os.urandom(1024), 1))
print("random-10+fd %s" % attempt(os.urandom(10), 1))
print("random-1024+16fds %s" % attempt(os.urandom(1024), 16))
print("empty %s" % attempt(b""))
PY
)
while read -r what how; do
	check "control garbage $what: client dropped ($how)" \
	    sh -c '[ "$1" = eof ] || [ "$1" = reset ]' _ "$how"
done <<<"$out"
check "all 7 garbage clients reported" test "$(printf '%s\n' "$out" | grep -c .)" -eq 7
check "server answers dig after control garbage" test "$(q other.example.test +short)" = 192.0.2.4
check "ping after control garbage" test "$(ctl ping)" = pong
wait_until 5 test "$(nfds "$SERVER")" -le "$fds0"
check "server's descriptor count back to $fds0 ($(nfds "$SERVER"))" test "$(nfds "$SERVER")" -eq "$fds0"
check "the server logged dropping them" test "$(grep -c 'dropped' "$LOG")" -ge 5

# --- 9b. a descriptor opened the wrong way is refused, not used ----------------
# (fdtool control never does this; a hand-made client can.)
out=$(timeout 30 python3 - "$SOCK" <<'PY'
import os, socket, struct, sys

path = sys.argv[1]


def request(command, fd):
    # the 1024-byte fdtool message: magic, version 1, type CTL_REQ (6), id,
    # status 0; body: command, flags FD, reserved, value, text ""
    hdr = b"fdt1" + bytes([1, 6, 0, 0]) + struct.pack(">II", 77, 0)
    body = struct.pack(">HHIQ", command, 1, 0, 0)
    msg = (hdr + body).ljust(1024, b"\0")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    socket.send_fds(s, [msg], [fd])
    rep = s.recv(2048)
    s.close()
    status = struct.unpack(">I", rep[12:16])[0]
    text = rep[32:].split(b"\0")[0].decode()
    return "%d %s" % (status, text)


ro = os.open("/dev/null", os.O_RDONLY)
wo = os.open("/dev/null", os.O_WRONLY)
print("dump " + request(3, ro))
print("load " + request(4, wo))
PY
)
check "dump-cache into a read-only descriptor: EBADF ($(echo "$out" | head -1))" \
	sh -c 'echo "$1" | grep -q "^dump 9 .*not open for writing"' _ "$out"
check "load-cache from a write-only descriptor: EBADF ($(echo "$out" | tail -1))" \
	sh -c 'echo "$1" | grep -q "^load 9 .*not open for reading"' _ "$out"
check "ping after refused descriptors" test "$(ctl ping)" = pong

# --- 10. quit-nicely, quit (and --control-group) ------------------------------
out=$(ctl quit-nicely)
rc=$?
check "quit-nicely: exit 0 ($rc: $out)" test $rc -eq 0
a=$(ms)
reap_server
rc=$?
check "server gone within 10 s of quit-nicely, status 0 ($rc after $(($(ms) - a)) ms)" test $rc -eq 0
check "... and logged who asked" grep -q "quit-nicely, asked by pid" "$LOG"

LOG=$WORK/server3.log
if getent group daemon >/dev/null; then
	start_server "$LOG" --control-group daemon
	check "--control-group: socket group daemon, mode 0660" \
	    test "$(stat -c '%G %a' "$SOCK" 2>/dev/null)" = "daemon 660"
	out=$(setpriv --reuid=12345 --regid=12345 --groups=1 "$FDTOOL" control --socket "$SOCK" ping 2>&1)
	check "a member of the control group (supplementary) is let in ($out)" test "$out" = pong
	out=$(setpriv --reuid=12345 --regid=1 --clear-groups "$FDTOOL" control --socket "$SOCK" ping 2>&1)
	check "a member of the control group (primary) is let in ($out)" test "$out" = pong
	chmod 0666 "$SOCK"
	setpriv --reuid=12345 --regid=12345 --clear-groups "$FDTOOL" control --socket "$SOCK" ping \
	    >/dev/null 2>"$WORK/r2.err"
	rc=$?
	check "a non-member is still refused ($rc: $(cat "$WORK/r2.err"))" test $rc -eq 1
	chmod 0660 "$SOCK"
else
	start_server "$LOG"
	echo "# no group 'daemon': --control-group not tested"
fi
out=$(ctl quit)
rc=$?
check "quit: exit 0 ($rc: $out)" test $rc -eq 0
a=$(ms)
reap_server
rc=$?
check "server gone within 10 s of quit, status 0 ($rc after $(($(ms) - a)) ms)" test $rc -eq 0
finish
