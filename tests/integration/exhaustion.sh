#!/usr/bin/env bash
# fdtool server out of descriptors, as root on 127.0.0.11:53 (issue 10):
# with its table full of held TCP clients, one more client is turned away
# at once, the CPU is not burned on the readable listener, the failures are
# logged a handful of times (rate-limited), UDP is still answered, and TCP
# answers again once clients leave.  (The creator's twin is
# tests/test_creator.c, out_of_descriptors_turns_a_peer_away_without_spinning.)
. "$(dirname "$0")/lib.sh"
need_root
need dig

ADDR=127.0.0.11
printf '192.0.2.7 full.test\n' > "$WORK/hosts"
LOG=$WORK/server.log
# a small table (ulimit in a subshell that becomes the server), more TCP
# slots than descriptors, and clients that do not time out while we look
(ulimit -n 48 && exec "$FDTOOL" server --listen $ADDR --upstream 127.0.0.1:5399 \
	--hosts "$WORK/hosts" --max-tcp 200 --max-pending 4 --tcp-idle-timeout 60000 \
	--no-control 2>"$LOG") &
SERVER=$!
PIDS+=("$SERVER")
q() { dig +time=2 +tries=1 @$ADDR "$@"; }
wait_until 10 sh -c "dig +time=1 +tries=1 @$ADDR full.test +short | grep -q 192.0.2.7" ||
	{ echo "server did not start:"; cat "$LOG"; exit 1; }
check "the server runs with 48 descriptors" \
	grep -q "^Max open files *48 " "/proc/$SERVER/limits"
check "TCP answers before" test "$(q full.test +tcp +short)" = 192.0.2.7

cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$SERVER/stat"; }
nfds() { ls "/proc/$SERVER/fd" | wc -l; }

# more clients than it has descriptors, held open
HELD=()
for i in $(seq 1 60); do
	exec {fd}<>/dev/tcp/$ADDR/53 || break
	HELD+=("$fd")
done
check "60 TCP clients connected" test "${#HELD[@]}" -eq 60
wait_until 5 test "$(nfds)" -ge 47
check "its descriptor table is full ($(nfds) open)" test "$(nfds)" -ge 47

# one more: turned away at once (end of stream), not left in the backlog
exec {late}<>/dev/tcp/$ADDR/53
read -r -t 3 -u "$late" _
rc=$?
check "one more client is closed at once, not left waiting (read: $rc)" test $rc -eq 1
exec {late}>&-

c0=$(cpu)
sleep 2
c1=$(cpu)
check "no busy loop while out of descriptors ($((c1 - c0)) ticks in 2 s)" test $((c1 - c0)) -lt 20
check "UDP still answered while out of descriptors" test "$(q full.test +short)" = 192.0.2.7
n=$(grep -c "accept" "$LOG")
check "accept failures logged, rate-limited ($n lines)" test "$n" -ge 1 -a "$n" -le 6

# the clients leave: TCP is served again
for fd in "${HELD[@]}"; do
	exec {fd}>&-
done
wait_until 5 sh -c "dig +time=1 +tries=1 +tcp @$ADDR full.test +short | grep -q 192.0.2.7"
check "TCP answers again once clients leave" test "$(q full.test +tcp +short)" = 192.0.2.7

# bounded: a server that would not stop fails here, not at ctest's timeout
kill -TERM "$SERVER"
if wait_until 10 sh -c "[ ! -e /proc/$SERVER ] || grep -qs '^State:.*Z' /proc/$SERVER/status"; then
	wait "$SERVER"
	rc=$?
else
	kill -KILL "$SERVER"
	wait "$SERVER" 2>/dev/null
	rc=254
fi
check "server exits 0 on SIGTERM ($rc)" test $rc -eq 0
finish
