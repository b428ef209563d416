#!/usr/bin/env bash
# fdtool server, each way it gets its listening sockets, against a real NSD
# on 127.0.0.1:5301, queried with dig over UDP and TCP:
#   1. unprivileged (as nobody), binding 127.0.0.1:5353 itself
#   2. from a separately running creator (127.0.0.1:5354), twice: a
#      restarted server gets the same sockets back
#   3. a port that creator's policy refuses (127.0.0.1:5355): exit 1
#   4. systemd socket activation, emulated by a launcher (127.0.0.1:5356)
#   5. bad invocations: exit 2
#   6. --no-sandbox is logged as a warning (127.0.0.1:5357)
. "$(dirname "$0")/lib.sh"
need_root
need dig
need nsd

UP=5301
NOBODY="65534	65534	65534	65534"
start_nsd $UP

q() {
	local port=$1
	shift
	dig +time=2 +tries=1 @127.0.0.1 -p "$port" "$@"
}

# answers PORT [dig options]: www.example.test is 192.0.2.1 there
answers() {
	local port=$1
	shift
	test "$(q "$port" www.example.test +short "$@")" = 192.0.2.1
}

# gone PID: exited (a zombie of ours counts) or never there
gone() {
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$state" ] || [ "$state" = Z ]
}

alive() {
	! gone "$1"
}

# up PID PORT: the process is alive and answers on PORT
up() {
	! gone "$1" && answers "$2"
}

# serving WHAT PID PORT LOG: wait for it, then UDP and TCP answers
serving() {
	local what=$1 pid=$2 port=$3 log=$4
	if ! wait_until 15 up "$pid" "$port"; then
		not_ok "$what: started and answering on 127.0.0.1:$port"
		echo "--- $log:"
		cat "$log"
		return 1
	fi
	check "$what: UDP answer (127.0.0.1:$port)" answers "$port"
	check "$what: TCP answer (127.0.0.1:$port)" answers "$port" +tcp
}

# stop WHAT PID: SIGTERM, bounded wait, exit status 0
stop() {
	local what=$1 pid=$2 rc
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until 10 gone "$pid"; then
		not_ok "$what: exits on SIGTERM (still running after 10s)"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	check "$what: exits 0 on SIGTERM (status $rc)" test "$rc" -eq 0
}

# exits WHAT PID STATUS: ends by itself within 15s with STATUS
exits() {
	local what=$1 pid=$2 want=$3 rc
	if ! wait_until 15 gone "$pid"; then
		not_ok "$what: exits by itself (still running after 15s)"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	check "$what: exits $want (status $rc)" test "$rc" -eq "$want"
}

as_nobody() {
	if command -v setpriv >/dev/null 2>&1; then
		exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	fi
	exec runuser -u nobody -- "$@"
}

# --- 1. unprivileged: binds 127.0.0.1:5353 itself -------------------------
LOG1=$WORK/direct.log
(as_nobody "$FDTOOL" server --listen 127.0.0.1:5353 --upstream 127.0.0.1:$UP \
	--no-hosts) 2>"$LOG1" &
S1=$!
PIDS+=("$S1")
if serving "unprivileged" "$S1" 5353 "$LOG1"; then
	check "unprivileged: Uid 65534" test "$(status_field "$S1" Uid)" = "$NOBODY"
	check "unprivileged: NoNewPrivs 1" test "$(status_field "$S1" NoNewPrivs)" = 1
	check "unprivileged: CapEff 0" test "$(status_field "$S1" CapEff)" = 0000000000000000
	check "unprivileged: no creator child" test -z "$(pgrep -P "$S1")"
	check "unprivileged: logs it was not started as root" \
		grep -q "not started as root: running as uid 65534" "$LOG1"
	check "unprivileged: logs it is sandboxed" grep -q "sandboxed (Landlock" "$LOG1"
fi
stop "unprivileged" "$S1"

# --- 2. a separately running creator, and a restarted server --------------
# in a directory that does not exist yet: the creator makes it, owned by
# nobody, so it can still remove the socket after dropping privilege
CSOCK=$WORK/run/creator.sock
CLOG=$WORK/creator.log
# its directory is its user's, as systemd's RuntimeDirectory= makes it, so
# it can remove its socket at exit (a directory it made itself is root's)
mkdir -p "$WORK/run" && chown nobody: "$WORK/run"
"$FDTOOL" creator --listen "$CSOCK" --user nobody --allow both:127.0.0.1:5354 \
	--allow-uid nobody 2>"$CLOG" &
CREATOR=$!
PIDS+=("$CREATOR")
if ! wait_until 10 test -S "$CSOCK"; then
	echo "creator did not start:"
	cat "$CLOG"
	exit 1
fi
check "creator runs as nobody" test "$(status_field "$CREATOR" Uid)" = "$NOBODY"

LOG2=$WORK/via-creator-1.log
"$FDTOOL" server --creator "$CSOCK" --listen 127.0.0.1:5354 --upstream 127.0.0.1:$UP \
	--no-hosts 2>"$LOG2" &
S2=$!
PIDS+=("$S2")
if serving "via creator" "$S2" 5354 "$LOG2"; then
	check "via creator: dropped to nobody" test "$(status_field "$S2" Uid)" = "$NOBODY"
	check "via creator: CapEff 0" test "$(status_field "$S2" CapEff)" = 0000000000000000
	check "via creator: NoNewPrivs 1" test "$(status_field "$S2" NoNewPrivs)" = 1
	check "via creator: spawned no creator of its own" test -z "$(pgrep -P "$S2")"
	check "via creator: sandboxed" grep -q "sandboxed (Landlock" "$LOG2"
	check "creator logs a new grant to the first server" \
		grep -q "granted both 127.0.0.1:5354 to pid $S2 uid 0 (new)" "$CLOG"
fi
stop "via creator, first server" "$S2"
check "creator still running after the server stopped" alive "$CREATOR"

LOG3=$WORK/via-creator-2.log
"$FDTOOL" server --creator "$CSOCK" --listen 127.0.0.1:5354 --upstream 127.0.0.1:$UP \
	--no-hosts 2>"$LOG3" &
S3=$!
PIDS+=("$S3")
if serving "via creator, restarted" "$S3" 5354 "$LOG3"; then
	check "via creator, restarted: no EADDRINUSE" sh -c "! grep -q 'in use' '$LOG3'"
	check "creator logs the second grant as (held)" \
		grep -q "granted both 127.0.0.1:5354 to pid $S3 uid 0 (held)" "$CLOG"
fi

# --- 3. a port the creator's policy does not allow ------------------------
LOG4=$WORK/refused.log
"$FDTOOL" server --creator "$CSOCK" --listen 127.0.0.1:5355 --upstream 127.0.0.1:$UP \
	--no-hosts 2>"$LOG4" &
S4=$!
PIDS+=("$S4")
exits "refused port" "$S4" 1
check "refused port: stderr says the creator refused it" \
	grep -q "creator at $CSOCK refused both:127.0.0.1:5355" "$LOG4"
check "refused port: stderr names the --allow the creator lacks" \
	grep -q -- "start it with --allow both:127.0.0.1:5355" "$LOG4"
check "refused port: stderr says it cannot get its sockets" \
	grep -q "cannot get the listening sockets: Permission denied" "$LOG4"
check "refused port: creator logs the refusal" \
	grep -q "refused both 127.0.0.1:5355 to pid $S4 .*not allowed by --allow" "$CLOG"
check "refused port: nothing listens on 127.0.0.1:5355" \
	sh -c "! dig +time=1 +tries=1 @127.0.0.1 -p 5355 www.example.test +tcp >/dev/null"
check "via creator, restarted: still answering after the refusal" answers 5354

stop "via creator, restarted server" "$S3"
stop "creator" "$CREATOR"
check "creator removed its socket" test ! -e "$CSOCK"

# --- 4. systemd socket activation, emulated -------------------------------
if command -v python3 >/dev/null 2>&1 && python3 -c 'import os, socket, fcntl' 2>/dev/null; then
	cat > "$WORK/sd-launch.py" <<'PY'
# sd-launch.py FDTOOL PORT PIDFILE ARGS...: bind UDP and TCP on
# 127.0.0.1:PORT, put them on fds 3 and 4, set LISTEN_PID (our pid, kept
# across exec) and LISTEN_FDS=2, and exec FDTOOL ARGS...
import fcntl, os, socket, sys
exe, port, pidfile, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", port))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port))
t.listen(64)
# out of the way first, so neither original sits on 3 or 4
uf = fcntl.fcntl(u.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
tf = fcntl.fcntl(t.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
u.close()
t.close()
os.dup2(uf, 3, inheritable=True)
os.dup2(tf, 4, inheritable=True)
os.close(uf)
os.close(tf)
env = dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS="2")
env.pop("LISTEN_FDNAMES", None)
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))
os.execve(exe, [exe] + args, env)
PY
	LOG5=$WORK/systemd.log
	python3 "$WORK/sd-launch.py" "$FDTOOL" 5356 "$WORK/sd.pid" \
		server --upstream 127.0.0.1:$UP --no-hosts --user nobody 2>"$LOG5" &
	S5=$!
	PIDS+=("$S5")
	wait_until 10 test -s "$WORK/sd.pid"
	SD=$(cat "$WORK/sd.pid" 2>/dev/null)
	if [ -n "$SD" ] && [ "$SD" != "$S5" ]; then
		PIDS+=("$SD")	# python3 is a wrapper that forked; stop the server too
	fi
	SD=${SD:-$S5}
	if serving "systemd" "$SD" 5356 "$LOG5"; then
		check "systemd: logs it used systemd sockets" \
			grep -q "using 2 socket(s) from systemd socket activation" "$LOG5"
		check "systemd: logs the sockets it really holds" \
			grep -q "listening on udp:127.0.0.1:5356" "$LOG5"
		check "systemd: does not claim the default addresses" \
			sh -c "! grep -q 'listening on .*:53\$' '$LOG5'"
		check "systemd: spawned no creator" sh -c "! grep -q 'spawned creator' '$LOG5'"
		check "systemd: no creator child" test -z "$(pgrep -P "$SD")"
		check "systemd: dropped to nobody" test "$(status_field "$SD" Uid)" = "$NOBODY"
		check "systemd: CapEff 0" test "$(status_field "$SD" CapEff)" = 0000000000000000
		check "systemd: NoNewPrivs 1" test "$(status_field "$SD" NoNewPrivs)" = 1
		check "systemd: sandboxed" grep -q "sandboxed (Landlock" "$LOG5"
	fi
	if [ "$SD" = "$S5" ]; then
		stop "systemd" "$SD"
	else
		kill -TERM "$SD" 2>/dev/null
		stop "systemd (launcher)" "$S5"
	fi
else
	echo "skip - systemd socket activation: python3 (with os, socket, fcntl) is not available for the launcher"
fi

# --- 5. bad invocations ---------------------------------------------------
# usage WHAT ARGS...: exits 2 with a message on stderr naming the problem
usage() {
	local what=$1 pattern=$2 err=$WORK/usage.err rc
	shift 2
	timeout 10 "$FDTOOL" server "$@" >/dev/null 2>"$err"
	rc=$?
	check "$what: exits 2 (status $rc)" test "$rc" -eq 2
	if grep -q -- "$pattern" "$err"; then
		ok "$what: says why ($(head -1 "$err"))"
	else
		not_ok "$what: says why (wanted '$pattern' on stderr, got: $(cat "$err"))"
	fi
}
usage "port 99999" "99999" --listen 127.0.0.1:99999 --upstream 127.0.0.1:$UP
usage "--cache-size lots" "cache-size" --cache-size lots --upstream 127.0.0.1:$UP
usage "--frobnicate" "frobnicate" --frobnicate --upstream 127.0.0.1:$UP

# --- 6. --no-sandbox is a warning -----------------------------------------
LOG6=$WORK/no-sandbox.log
(as_nobody "$FDTOOL" server --listen 127.0.0.1:5357 --upstream 127.0.0.1:$UP \
	--no-hosts --no-sandbox) 2>"$LOG6" &
S6=$!
PIDS+=("$S6")
if serving "--no-sandbox" "$S6" 5357 "$LOG6"; then
	check "--no-sandbox: logged as a warning" \
		grep -q "warning: --no-sandbox: running without the filesystem sandbox" "$LOG6"
	check "--no-sandbox: does not claim to be sandboxed" \
		sh -c "! grep -q 'sandboxed (Landlock' '$LOG6'"
fi
stop "--no-sandbox" "$S6"

finish
