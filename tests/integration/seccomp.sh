#!/usr/bin/env bash
# The system-call filters end to end, as root: a server and the creator it
# spawns run with `Seccomp: 2` and say so (their probes were killed by
# SIGSYS); every feature then runs under the filters without a kill --
# UDP, TCP, TC and the upstream over TCP, SIGHUP, control commands with
# dump and load children, resolv.conf re-read on inotify, a standalone
# creator and its peer, logging to a terminal and to journald, graceful
# quits; a creator killed by SIGSYS is reported by its server; and with
# --no-seccomp both run with `Seccomp: 0` and a warning.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need nsd
need script

start_nsd 53			# on 127.0.0.1:53, so resolv.conf can name it
SOCK=$WORK/run/control.sock
ctl() { "$FDTOOL" control --socket "$SOCK" "$@"; }
pinged() { [ "$(ctl --timeout 1 ping 2>/dev/null)" = pong ]; }
q() { dig +time=2 +tries=1 "$@"; }
seccomp_of() { status_field "$1" Seccomp; }
child_of() { pgrep -P "$1" | head -1; }
# answers ADDR NAME: the server at ADDR answers NAME with an address
answers() { q @"$1" "$2" +short 2>/dev/null | grep -q '^[0-9]'; }
# no_kill LOG: nothing in LOG but the probes' lines names SIGSYS
no_kill() { ! grep -v "a probe's execve was killed by SIGSYS" "$1" | grep -q SIGSYS; }

# --- 1. a server and its spawned creator under the filter -------------------
A=127.0.0.9
LOG=$WORK/a.log
"$FDTOOL" server --listen $A --upstream 127.0.0.1 --control "$SOCK" 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 pinged || { cat "$LOG"; exit 1; }
CREATOR=$(child_of "$SERVER")
check "server: Seccomp 2" test "$(seccomp_of "$SERVER")" = 2
check "creator: Seccomp 2" test "$(seccomp_of "${CREATOR:-0}")" = 2
check "server: its probe was killed by SIGSYS (log)" \
    grep -q "fdtool server: info: seccomp: [0-9]* system calls allowed; a probe's execve was killed by SIGSYS" "$LOG"
check "creator: its probe was killed by SIGSYS (log)" \
    grep -q "fdtool creator: info: seccomp: [0-9]* system calls allowed; a probe's execve was killed by SIGSYS" "$LOG"

check "UDP answer" test "$(q @$A www.example.test +short)" = 192.0.2.1
check "TCP answer" test "$(q @$A www.example.test +tcp +short)" = 192.0.2.1
check "TC over UDP" sh -c "dig +time=2 +tries=1 +ignore @$A big.example.test TXT | grep -q 'flags:.* tc'"
check "oversized answer over TCP (the upstream asked over TCP)" \
    test "$(q @$A big.example.test TXT +tcp +short | wc -l)" -eq 14
check "hosts file answer" test "$(q @$A localhost +short)" = 127.0.0.1
kill -HUP "$SERVER"
wait_until 5 grep -q "SIGHUP" "$LOG"
check "answers after SIGHUP" test "$(q @$A other.example.test +short)" = 192.0.2.4
check "control get-all" sh -c "\"$FDTOOL\" control --socket \"$SOCK\" get-all | grep -q '^questions'"
ctl dump-cache - >"$WORK/a.dump" 2>"$WORK/a.dump.err"
check "dump-cache (a forked, narrowed child) exits 0" test $? -eq 0
check "dump-cache wrote www.example.test" grep -q "www.example.test" "$WORK/a.dump"
ctl wipe-cache >/dev/null 2>&1
ctl load-cache - <"$WORK/a.dump" >"$WORK/a.load" 2>&1
check "load-cache (a forked, narrowed child) exits 0 ($(tr '\n' ' ' <"$WORK/a.load"))" test $? -eq 0
check "dump and load children ended normally" sh -c "! grep -q 'signal' \"$LOG\""

# the server reports a creator killed by SIGSYS (sent here by hand: the
# filter's kill looks the same to a parent) and serves on
kill -SYS "${CREATOR:-0}"
wait_until 15 grep -q "our creator (pid [0-9]*) was killed by SIGSYS" "$LOG"
check "server logs that its creator (pid ${CREATOR:-none}) was killed by SIGSYS" \
    grep -q "our creator (pid ${CREATOR:-0}) was killed by SIGSYS" "$LOG"
check "server answers on after its creator's death" test "$(q @$A www.example.test +short)" = 192.0.2.1
ctl quit-nicely >/dev/null 2>&1
wait_until 10 sh -c "! kill -0 $SERVER 2>/dev/null || [ \"\$(awk '{ print \$3 }' /proc/$SERVER/stat)\" = Z ]"
wait "$SERVER"
rc=$?
check "quit-nicely: server exits 0 under the filter ($rc)" test $rc -eq 0
grep -v "our creator (pid ${CREATOR:-0}) was killed by SIGSYS" "$LOG" >"$WORK/a.rest"
check "nothing else was killed by a filter" no_kill "$WORK/a.rest"

# --- 2. resolv.conf upstreams, re-read on inotify and SIGHUP; journald log ---
B=127.0.0.10
mkdir -p "$WORK/etc"
RC=$WORK/etc/resolv.conf
printf 'nameserver 127.0.0.1\n' >"$RC"
LOG=$WORK/b.log
: >"$LOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$LOG") "$FDTOOL" server --listen $B --no-control \
    --resolv-conf "$RC" 2>>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 answers $B www.example.test || { cat "$LOG"; exit 1; }
check "journald: priority prefixes" grep -q "^<6>fdtool server: info: seccomp:" "$LOG"
check "resolv.conf upstream answers" test "$(q @$B www.example.test +short)" = 192.0.2.1
printf '# replaced\nnameserver 127.0.0.1\n' >"$RC.new"
mv "$RC.new" "$RC"
wait_until 5 sh -c "[ \$(grep -c 'resolv.conf\|resolv-conf' \"$LOG\") -ge 2 ]"
check "answers after resolv.conf was replaced (inotify re-read)" \
    test "$(q @$B other.example.test +short)" = 192.0.2.4
kill -HUP "$SERVER"
wait_until 5 grep -q "SIGHUP" "$LOG"
check "answers after SIGHUP" test "$(q @$B short.example.test +short)" = 192.0.2.2
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
check "SIGTERM: server exits 0 under the filter ($rc)" test $rc -eq 0
check "no SIGSYS (resolv.conf, journald)" no_kill "$LOG"

# --- 3. a standalone creator, its peer, logging to a terminal -----------------
CSOCK=$WORK/creator/creator.sock
mkdir -p "$WORK/creator"
LOG=$WORK/c.log
script -qfec "\"$FDTOOL\" creator --listen \"$CSOCK\" --allow both:127.0.0.11:53" \
    "$LOG" >/dev/null 2>&1 &
SCRIPT=$!
PIDS+=("$SCRIPT")
wait_until 10 test -S "$CSOCK"
CREATOR=$(pgrep -f "creator --listen $CSOCK" | grep -v "^$SCRIPT\$" | tail -1)
check "standalone creator: Seccomp 2" test "$(seccomp_of "${CREATOR:-0}")" = 2
check "terminal: timestamped log lines" \
    grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[-+][0-9:]+ fdtool creator: info: seccomp:" "$LOG"
SLOG=$WORK/s.log
"$FDTOOL" server --listen 127.0.0.11 --upstream 127.0.0.1 --creator "$CSOCK" --no-control 2>"$SLOG" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 answers 127.0.0.11 www.example.test
check "a server got its sockets from the filtered creator" \
    test "$(q @127.0.0.11 www.example.test +tcp +short)" = 192.0.2.1
stop_pid "$SERVER"
kill -TERM "${CREATOR:-0}"
wait_until 5 sh -c "! kill -0 ${CREATOR:-0} 2>/dev/null"
wait "$SCRIPT"
rc=$?
check "creator exits 0 on SIGTERM under the filter ($rc)" test $rc -eq 0
check "no SIGSYS (creator on a terminal)" no_kill "$LOG"

# --- 4. --no-seccomp ------------------------------------------------------------
LOG=$WORK/d.log
"$FDTOOL" server --listen 127.0.0.12 --upstream 127.0.0.1 --no-control --no-seccomp 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 answers 127.0.0.12 www.example.test || cat "$LOG"
CREATOR=$(child_of "$SERVER")
check "--no-seccomp: server Seccomp 0" test "$(seccomp_of "$SERVER")" = 0
check "--no-seccomp: creator Seccomp 0" test "$(seccomp_of "${CREATOR:-0}")" = 0
check "--no-seccomp: the server warns" \
    grep -q "fdtool server: warning: --no-seccomp: running without the system-call filter" "$LOG"
check "--no-seccomp: the creator warns" \
    grep -q "fdtool creator: warning: --no-seccomp: running without the system-call filter" "$LOG"
stop_pid "$SERVER"
check "--no-seccomp in --check-config" \
    sh -c "\"$FDTOOL\" server --no-config --no-seccomp --check-config | grep -qx 'no-seccomp = yes'"
finish
