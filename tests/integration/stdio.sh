#!/usr/bin/env bash
# fdtool control started with descriptor 0, 1 or 2 closed, as root, against
# a server on 127.0.0.13:53 (issue 10, defect 9).  Every role opens
# /dev/null on a missing 0-2 before anything else, so its control socket
# never lands there: `dump-cache - >&-` dumps into /dev/null (it used to
# pass the server its own control connection as the output), `load-cache
# - <&-` loads nothing and returns (it used to leave a loader child in the
# server), an error with 2 closed goes nowhere (not into the socket).
. "$(dirname "$0")/lib.sh"
need_root
need dig
need nsd

UP=5300
ADDR=127.0.0.13
SOCK=$WORK/run/control.sock
start_nsd $UP
LOG=$WORK/server.log
"$FDTOOL" server --listen $ADDR --upstream 127.0.0.1:$UP --control "$SOCK" 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
ctl() { "$FDTOOL" control --socket "$SOCK" --timeout 5 "$@"; }
pinged() { [ "$(ctl ping 2>/dev/null)" = pong ]; }
nchildren() { pgrep -P "$SERVER" | wc -l; }
dropped() { grep -c "control client .*dropped" "$LOG"; }
wait_until 10 pinged || { echo "server did not start:"; cat "$LOG"; exit 1; }
check "an answer to dump" test "$(dig +time=2 +tries=1 @$ADDR www.example.test +short)" = 192.0.2.1
children=$(nchildren)

# stdout closed: the dump goes to /dev/null, never into the control socket
ctl dump-cache - >&- 2>"$WORK/dump.err"
rc=$?
check "dump-cache - >&-: exit 0 ($rc: $(cat "$WORK/dump.err"))" test $rc -eq 0
check "dump-cache - >&-: it wrote the entries to /dev/null" grep -q "^dumped [1-9][0-9]* entries" "$WORK/dump.err"
check "the server's control channel got no dump text ($(dropped) clients dropped)" test "$(dropped)" -eq 0
check "ping after it" pinged

# stdin closed: nothing to load, and it returns
out=$(ctl load-cache - <&- 2>"$WORK/load.err")
rc=$?
check "load-cache - <&-: exit 0 ($rc: $(cat "$WORK/load.err"))" test $rc -eq 0
check "load-cache - <&-: loaded nothing ('$out')" sh -c 'printf "%s\n" "$1" | grep -q "^loaded 0 entries"' _ "$out"
wait_until 5 test "$(nchildren)" -le "$children"
check "no loader child left in the server ($(nchildren) children, $children before)" \
	test "$(nchildren)" -le "$children"

# stderr closed: the error goes to /dev/null, not into the control socket
ctl get no-such-counter >/dev/null 2>&-
rc=$?
check "an error with stderr closed: exit 1 ($rc)" test $rc -eq 1
sleep 0.3
check "... and the server got no error text ($(dropped) clients dropped)" test "$(dropped)" -eq 0
check "ping after it" pinged
check "DNS still answered" test "$(dig +time=2 +tries=1 @$ADDR www.example.test +short)" = 192.0.2.1
check "server still running" kill -0 "$SERVER"

# A server started with SIGCHLD ignored (a supervisor's disposition survives
# exec): the kernel would reap its children itself, so the seccomp probes
# could not be waited for (the creator refused to start) and a dump's pidfd
# would never be reaped -- a loop spinning on it.  The daemons set it back.
SOCK2=$WORK/run2/control.sock
python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$FDTOOL" server --listen 127.0.0.14 \
	--upstream 127.0.0.1:$UP --control "$SOCK2" 2>"$WORK/server2.log" &
SERVER2=$!
PIDS+=("$SERVER2")
wait_until 10 sh -c '[ "$("$1" control --socket "$2" ping 2>/dev/null)" = pong ]' _ "$FDTOOL" "$SOCK2"
out=$("$FDTOOL" control --socket "$SOCK2" --timeout 5 dump-cache - 2>&1 >/dev/null)
check "SIGCHLD ignored at start: a dump works ($out)" sh -c 'case "$1" in dumped*) ;; *) exit 1;; esac' _ "$out"
t0=$(awk '{ print $14 + $15 }' "/proc/$SERVER2/stat")
sleep 2
t1=$(awk '{ print $14 + $15 }' "/proc/$SERVER2/stat")
check "... and the server runs on, not spinning ($((t1 - t0)) ticks in 2 s)" \
	sh -c 'kill -0 "$1" && [ "$2" -lt 20 ]' _ "$SERVER2" $((t1 - t0))
finish
