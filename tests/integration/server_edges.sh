#!/usr/bin/env bash
# fdtool server at its edges, as root on 127.0.0.3:53: an upstream that
# never answers, the hosts file re-read on SIGHUP (edited in place and
# replaced by rename), pipelined TCP queries, malformed queries, and the
# TCP limits (idle timeout, connection cap).
. "$(dirname "$0")/lib.sh"
need_root
need dig
need nsd
need python3
PROBE="python3 $(dirname "$0")/dnsprobe.py"

UP=5302
start_nsd $UP
# an upstream that takes queries and never answers
python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",5303)); time.sleep(120)' &
PIDS+=("$!")

mkdir -p "$WORK/etc"
HOSTS=$WORK/etc/hosts
printf '127.0.0.1 localhost\n192.0.2.50 first.lan\n' > "$HOSTS"
for i in $(seq 1 40); do printf '2001:db8::%x crowded.lan\n' "$i"; done >> "$HOSTS"
LOG=$WORK/server.log
"$FDTOOL" server --listen 127.0.0.3 --upstream 127.0.0.1:5303 --upstream 127.0.0.1:$UP \
	--upstream-timeout 300 --hosts "$HOSTS" --tcp-idle-timeout 700 --max-tcp 3 \
	--max-pending 24 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
q() { dig +time=3 +tries=1 @127.0.0.3 "$@"; }
wait_until 10 q localhost +short >/dev/null || { cat "$LOG"; exit 1; }

# a silent first upstream: the second one answers after the timeout
check "silent upstream skipped for the next one" test "$(q www.example.test +short)" = 192.0.2.1

# hosts file: in place, then replaced by rename (a new inode)
check "hosts answer" test "$(q first.lan +short)" = 192.0.2.50
check "a hosts answer too big for 512 bytes sets TC" sh -c "dig +time=3 +tries=1 +noedns +ignore @127.0.0.3 crowded.lan AAAA | grep -q 'flags:.* tc'"
check "and comes whole over TCP" test "$(q crowded.lan AAAA +tcp +short | wc -l)" -eq 40
printf '127.0.0.1 localhost\n192.0.2.51 first.lan\n' > "$HOSTS"
kill -HUP "$SERVER"
wait_until 5 test "$(q first.lan +short)" = 192.0.2.51
check "SIGHUP re-reads a hosts file edited in place" test "$(q first.lan +short)" = 192.0.2.51
printf '127.0.0.1 localhost\n192.0.2.52 second.lan\n' > "$HOSTS.new"
mv "$HOSTS.new" "$HOSTS"
kill -HUP "$SERVER"
wait_until 5 test "$(q second.lan +short)" = 192.0.2.52
check "SIGHUP re-reads a hosts file replaced by rename" test "$(q second.lan +short)" = 192.0.2.52
check "SIGHUP drops names no longer there" sh -c "! dig +time=3 +tries=1 @127.0.0.3 first.lan +short | grep -q 192.0.2.5"

# pipelined TCP: three queries in one write, three answers
out=$($PROBE pipeline 127.0.0.3 53 www.example.test localhost nope.example.test 2>&1)
check "pipelined TCP queries all answered ($(echo $out))" test "$(echo "$out" | wc -l)" -eq 3
check "pipelined answers carry their ids" sh -c "echo '$out' | grep -q '^4096 0 1' && echo '$out' | grep -q '^4097 0 1' && echo '$out' | grep -q '^4098 3 0'"

# malformed queries: FORMERR when the header parses, silence otherwise
# (header: id flags qdcount ancount nscount arcount; then the question)
H=01000001000000000000	# flags RD, qdcount 1, no records
check "qdcount 2 gets FORMERR" test "$($PROBE raw 127.0.0.3 53 123401000002000000000000 | awk '{print $1, $3}')" = "4660 1"
check "a compression loop gets FORMERR" test "$($PROBE raw 127.0.0.3 53 1235${H}c00c00010001 | awk '{print $1, $3}')" = "4661 1"
check "a pointer past the end gets FORMERR" test "$($PROBE raw 127.0.0.3 53 1236${H}03777777c0ff00010001 | awk '{print $3}')" = 1
check "a 64-byte label gets FORMERR" test "$($PROBE raw 127.0.0.3 53 1237${H}40616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161610000010001 | awk '{print $3}')" = 1
check "a response sent to us is dropped" test "$($PROBE raw 127.0.0.3 53 1238810000010000000000000000010001)" = timeout
check "11 bytes are dropped" test "$($PROBE raw 127.0.0.3 53 1239010000010000000000)" = timeout
check "NOTIFY gets NOTIMP" test "$($PROBE raw 127.0.0.3 53 123a200000010000000000000000060001 | awk '{print $3}')" = 4
check "the server survived it all" test "$(q www.example.test +short)" = 192.0.2.1

# more than 256 records: tracked, cached, counted down like any other
check "an answer of 300 records over TCP" test "$(q many.example.test +tcp +short | wc -l)" -eq 300

# a client that shuts down its sending side still gets its answer, then EOF
out=$($PROBE halfclose 127.0.0.3 53 halfclosed.gen.example.test)
check "half-closed TCP client answered ($out)" test "$(echo "$out" | cut -d' ' -f1-2)" = "0 1"
check "and closed as soon as it is answered" test "$(echo "$out" | cut -d' ' -f3)" -lt 500

# slowloris: a byte now and then is no progress; the idle timeout still holds
out=$($PROBE trickle 127.0.0.3 53 4)
check "a client trickling bytes is closed by the idle timeout ($out)" sh -c "echo '$out' | grep -q '^closed' && [ \$(echo '$out' | cut -d' ' -f2) -lt 2500 ]"

# one client pipelining many slow misses holds at most its share of the
# pending pool (--max-pending 24), is not timed out while it waits, and
# others still get answers
$PROBE flood 127.0.0.3 53 60 flood > "$WORK/flood.out" 2>&1 &
FLOOD=$!
sleep 0.2
check "UDP miss answered while one TCP client floods" test "$(q udpmiss.gen.example.test +short)" = 192.0.2.99
wait "$FLOOD"
check "the flooding client got all 60 answers: $(cat "$WORK/flood.out")" grep -q "^answered 60 rcodes 0:60" "$WORK/flood.out"

# TCP limits: an idle connection is closed; a fourth connection is refused.
# "closed" means EOF within the wait (exit 0), not the wait running out (124).
closed_within() { timeout "$1" cat <&"$2" >/dev/null; }
exec 7<>/dev/tcp/127.0.0.3/53
check "an idle TCP client is kept before --tcp-idle-timeout" sh -c "timeout 0.3 cat <&7 >/dev/null; [ \$? -eq 124 ]"
check "an idle TCP client is closed after --tcp-idle-timeout" closed_within 3 7
exec 7>&-
exec 3<>/dev/tcp/127.0.0.3/53 4<>/dev/tcp/127.0.0.3/53 5<>/dev/tcp/127.0.0.3/53
exec 6<>/dev/tcp/127.0.0.3/53
check "a TCP client past --max-tcp is turned away" closed_within 1 6
check "UDP still answered with TCP full" test "$(q www.example.test +short)" = 192.0.2.1
exec 3>&- 4>&- 5>&- 6>&-
wait_until 5 sh -c "dig +time=2 +tries=1 +tcp @127.0.0.3 www.example.test +short | grep -q 192.0.2.1"
check "TCP serves again once clients leave" test "$(q www.example.test +tcp +short)" = 192.0.2.1

# an upstream that never answers, and no other: SERVFAIL at --query-timeout
"$FDTOOL" server --listen 127.0.0.4 --upstream 127.0.0.1:5303 --no-hosts \
	--upstream-timeout 300 --query-timeout 1500 2>"$WORK/silent.log" &
PIDS+=("$!")
wait_until 10 sh -c "dig +time=2 +tries=1 @127.0.0.4 anything.test | grep -q status:"
start=$SECONDS
check "silent upstream: SERVFAIL" sh -c "dig +time=5 +tries=1 @127.0.0.4 www.example.test | grep -q 'status: SERVFAIL'"
check "SERVFAIL came by the query timeout" test $((SECONDS - start)) -le 3

# a hostile upstream: only a reply from the upstream's address and port,
# with our id and our question, is an answer; a TC reply cut mid-record is
# fetched again over TCP.  Then with NSD beside it (the fastest healthy
# upstream goes first, so either may be asked first): REFUSED and SERVFAIL
# move on to the next one
python3 "$(dirname "$0")/fakeupstream.py" 5305 60 &
PIDS+=("$!")
wait_until 10 sh -c "dig +time=1 +tries=1 @127.0.0.1 -p 5305 ready.test | grep -q 'status: REFUSED'"
"$FDTOOL" server --listen 127.0.0.9 --upstream 127.0.0.1:5305 \
	--no-hosts --control "$WORK/ctl9.sock" 2>"$WORK/hostile.log" &
PIDS+=("$!")
wait_until 10 test -S "$WORK/ctl9.sock"
d9() { dig +time=3 +tries=1 @127.0.0.9 "$@"; }
check "wrong id and wrong question ignored, the right answer taken" test "$(d9 spoof1.example.test +short)" = 192.0.2.77
check "... and counted" test "$("$FDTOOL" control --socket "$WORK/ctl9.sock" get upstream-mismatched)" -ge 2
check "TC with a body cut mid-record: fetched again over TCP" test "$(d9 cut1.example.test +short)" = 192.0.2.78
check "... counted as a TCP upstream query" test "$("$FDTOOL" control --socket "$WORK/ctl9.sock" get tcp-outqueries)" -ge 1
"$FDTOOL" server --listen 127.0.0.10 --upstream 127.0.0.1:5305 --upstream 127.0.0.1:$UP \
	--no-hosts --control "$WORK/ctl10.sock" 2>"$WORK/hostile2.log" &
PIDS+=("$!")
wait_until 10 test -S "$WORK/ctl10.sock"
for i in 1 2 3; do
	check "REFUSED from the hostile upstream: NSD answers ($i)" \
		test "$(dig +time=3 +tries=1 @127.0.0.10 r$i.gen.example.test +short)" = 192.0.2.99
	check "SERVFAIL from the hostile upstream: NSD answers, NXDOMAIN ($i)" \
		sh -c "dig +time=3 +tries=1 @127.0.0.10 fail$i.example.test | grep -q 'status: NXDOMAIN'"
done
check "... and the hostile one was asked" test "$("$FDTOOL" control --socket "$WORK/ctl10.sock" get upstream-refused)" -ge 1

# no resolv.conf at all, with --upstream and --no-hosts: still starts
"$FDTOOL" server --listen 127.0.0.5 --upstream 127.0.0.1:$UP --no-hosts \
	--resolv-conf "$WORK/none" 2>"$WORK/noresolv.log" &
PIDS+=("$!")
check "runs without a resolv.conf" wait_until 10 sh -c "dig +time=1 +tries=1 @127.0.0.5 www.example.test +short | grep -q 192.0.2.1"

# an --upstream that is the server itself is refused at start
timeout 10 "$FDTOOL" server --listen 127.0.0.6 --upstream 127.0.0.6 --no-hosts 2>"$WORK/self.log"
check "an upstream that is itself: exit 1" test $? -eq 1
check "and says why" grep -q "is this server itself" "$WORK/self.log"

# out of descriptors: TCP clients are turned away, the CPU is not burned
prlimit --nofile=48:48 "$FDTOOL" server --listen 127.0.0.7 --upstream 127.0.0.1:$UP \
	--no-hosts --max-pending 4 --max-tcp 64 2>"$WORK/emfile.log" &
EM=$!
PIDS+=("$EM")
wait_until 10 sh -c "dig +time=1 +tries=1 @127.0.0.7 www.example.test +short | grep -q 192.0.2.1"
for i in $(seq 20 79); do eval "exec $i<>/dev/tcp/127.0.0.7/53" 2>/dev/null; done
cpu() { awk '{ print $14 + $15 }' "/proc/$EM/stat"; }
c0=$(cpu)
sleep 1
c1=$(cpu)
check "no busy loop when descriptors run out ($((c1 - c0)) ticks in 1 s)" test $((c1 - c0)) -lt 20
check "UDP still answered when descriptors run out" test "$(dig +time=2 +tries=1 @127.0.0.7 www.example.test +short)" = 192.0.2.1
for i in $(seq 20 79); do eval "exec $i>&-"; done
finish
