#!/usr/bin/env bash
# The rec_control-compatible control socket (issue 11), end to end, as root:
# Debian's own rec_control (PowerDNS Recursor 4.x) against
# `fdtool server --rec-control DIR/pdns_recursor.controlsocket`, with a
# counting fake upstream (fakeup2.py):
#   ping, version, help; get-all (NAME<TAB>INTEGER, questions moving), get
#   (the same values as get-all and fdtool control), UNKNOWN; get-parameter;
#   dump-cache - and dump-cache FILE by a --control-group member (the file
#   its own); wipe-cache NAME, NAME$ (the packet cache shrinks, digs go
#   upstream again, other names stay), wipe-cache-typed; an unknown command
#   (pdns's text, exit 1); a uid outside the policy refused and logged;
#   Telegraf's powerdns_recursor v3 exchange (telegraf_v3.py); fdtool control
#   metrics through promtool; clients that send nothing, a dump-cache with
#   no descriptor, a length of 2^40 (one each, then 50): dropped in bounded
#   time while rec_control ping and dig answer at once, and the server's
#   descriptors back where they were; quit-nicely: exit 0.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
need setpriv
need rec_control
need promtool
. "$(dirname "$0")/upstreams_lib.sh"	# start_fake, count, now_ms

HERE=$(cd "$(dirname "$0")" && pwd)
ADDR=127.0.0.12
UPPORT=5401
RUN=$WORK/run
RSOCK=$RUN/pdns_recursor.controlsocket
NSOCK=$WORK/control.sock
RCCONF=$WORK/rc-conf	# empty: the host's /etc/powerdns/recursor.conf stays out
LOG=$WORK/server.log
COUNT=$WORK/up.count
IDLE=3			# --control-idle-timeout: the bound on a client that stalls
BOUND=10		# ... what we allow for it, with slack
MAXTTL=3600
UID_IN=12345		# a member of --control-group (daemon)
UID_OUT=12346		# in no group of the policy, not the server's uid (nobody)
GROUP=daemon
GID=$(getent group $GROUP | cut -d: -f3)
[ -n "$GID" ] || skip "no group $GROUP for the control-group member"
PY3=$(command -v /usr/bin/python3 /usr/local/bin/python3 | head -1)	# not one under /root
[ -n "$PY3" ] || skip "no python3 outside root's home for the control-group member"
mkdir -p "$RUN" "$RCCONF"
chmod 755 "$RUN" "$RCCONF"

# rec_control 4.8 takes --name=value only: "--socket-dir DIR" is ignored
# and it goes to /var/run/pdns-recursor.
rc() { timeout 15 rec_control --config-dir="$RCCONF" --socket-dir="$RUN" "$@"; }
nctl() { "$FDTOOL" control --socket "$NSOCK" --timeout 3 "$@"; }
as_member() { setpriv --reuid=$UID_IN --regid=$UID_IN --groups="$GID" "$@"; }
as_outsider() { setpriv --reuid=$UID_OUT --regid=$UID_OUT --clear-groups "$@"; }
nfds() { ls "/proc/$1/fd" | wc -l; }
fds_are() { [ "$(nfds "$SERVER")" -eq "$1" ]; }
rget() { rc get "$@" 2>/dev/null; }
# a dig with one try; prints the rcode ("none" without a reply)
q() {
	local s
	s=$(dig +time=2 +tries=1 @$ADDR "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -1)
	echo "${s:-none}"
}
# up NAME [TYPE]: how often the fake upstream was asked NAME (type number)
up() { count "$COUNT" "$1. ${2:-1} 1"; }
is_int() { case "$1" in '' | *[!0-9]*) return 1 ;; esac; }

start_fake up --port $UPPORT --mode ok --answer 192.0.2.77 --ttl 600 --count "$COUNT"
"$FDTOOL" server --no-config --listen $ADDR --no-hosts --upstream 127.0.0.1:$UPPORT \
    --control "$NSOCK" --rec-control "$RSOCK" --control-group $GROUP \
    --control-idle-timeout $IDLE --max-ttl $MAXTTL 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 sh -c '[ "$("$1" control --socket "$2" --timeout 1 ping 2>/dev/null)" = pong ]' _ "$FDTOOL" "$NSOCK" ||
	{ echo "server did not start:"; cat "$LOG"; exit 1; }
wait_until 3 test -S "$RSOCK"
check "--rec-control made a socket at $RSOCK" test -S "$RSOCK"
mode=$(stat -c %a "$RSOCK" 2>/dev/null)
check "... mode 0660 (${mode:-none}, owner $(stat -c %U:%G "$RSOCK" 2>/dev/null))" test "$mode" = 660

# --- ping, version, help ----------------------------------------------------
out=$(rc ping 2>&1)
st=$?
check "rec_control ping: pong, exit 0 ($st: $out)" sh -c '[ "$1" -eq 0 ] && case "$2" in pong*) ;; *) exit 1;; esac' _ $st "$out"
ver=$("$FDTOOL" --version | grep -Eo '[0-9]+(\.[0-9]+)+' | head -1)
out=$(rc version 2>&1)
st=$?
check "rec_control version: names fdtool's version ${ver:-?} ($st: $out)" \
    sh -c '[ "$1" -eq 0 ] && [ -n "$3" ] && printf "%s\n" "$2" | grep -qF "$3"' _ $st "$out" "$ver"
out=$(rc help 2>&1)
st=$?
check "rec_control help: exit 0, lists the commands ($st: $(printf '%s' "$out" | wc -l) lines)" \
    sh -c '[ "$1" -eq 0 ] && for c in ping get-all dump-cache wipe-cache wipe-cache-typed quit-nicely; do
	printf "%s\n" "$2" | grep -qw -- "$c" || exit 1; done' _ $st "$out"

# --- get-all, get ----------------------------------------------------------
rc get-all >"$WORK/all0" 2>&1
st=$?
q0=$(awk -F'\t' '$1 == "questions" { print $2 }' "$WORK/all0")
check "get-all: exit 0, at least one line ($st, $(wc -l <"$WORK/all0") lines)" \
    test $st -eq 0 -a -s "$WORK/all0"
bad=$(grep -cvP '^[^\t ]+\t-?[0-9]+$' "$WORK/all0")
check "get-all: every line NAME<TAB>INTEGER ($bad not: $(grep -vP '^[^\t ]+\t-?[0-9]+$' "$WORK/all0" | head -2 | tr '\t\n' '> '))" \
    test "$bad" -eq 0
check "get-all has questions (${q0:-none})" is_int "$q0"
for n in 1 2 3 4 5; do
	s=$(q n$n.q.test)
	[ "$s" = NOERROR ] || echo "# dig n$n.q.test: $s"
done
rc get-all >"$WORK/all1" 2>&1
q1=$(awk -F'\t' '$1 == "questions" { print $2 }' "$WORK/all1")
check "questions moves after 5 digs (${q0:-?} -> ${q1:-?})" \
    sh -c 'case "$1$2" in *[!0-9]*|"") exit 1;; esac; [ "$2" -ge $(($1 + 5)) ]' _ "$q0" "$q1"
# no traffic from here to the comparisons
g=$(rget questions)
n=$(nctl get questions 2>&1)
check "get questions = get-all's = fdtool control get questions (${g:-none} / ${q1:-none} / ${n:-none})" \
    sh -c 'is() { case "$1" in ""|*[!0-9]*) return 1;; esac; }; is "$1" && [ "$1" = "$2" ] && [ "$1" = "$3" ]' _ "$g" "$q1" "$n"
out=$(rc get nosuch 2>&1)
check "get nosuch: UNKNOWN ($out)" test "$out" = UNKNOWN
out=$(rc get questions nosuch packetcache-hits 2>&1)
three_lines() {
	printf '%s\n' "$1" | awk 'NR == 1 && /^[0-9]+$/ { a++ } NR == 2 && $0 == "UNKNOWN" { a++ }
	    NR == 3 && /^[0-9]+$/ { a++ } END { exit !(a == 3 && NR == 3) }'
}
check "get questions nosuch packetcache-hits: three lines, the middle one UNKNOWN ($(printf '%s' "$out" | tr '\n' ' '))" \
    three_lines "$out"
for c in packetcache-hits packetcache-entries all-outqueries; do
	v=$(awk -F'\t' -v c=$c '$1 == c { print $2 }' "$WORK/all1")
	check "get-all has $c (${v:-none})" is_int "$v"
done

# --- get-parameter --------------------------------------------------------------
out=$(rc get-parameter max-ttl 2>&1)
check "get-parameter max-ttl: max-ttl=\"$MAXTTL\" ($out)" test "$out" = "max-ttl=\"$MAXTTL\""
out=$(rc get-parameter max-ttl nosuch 2>&1)
check "get-parameter max-ttl nosuch: the value, then 'nosuch not known' ($(printf '%s' "$out" | tr '\n' ' '))" \
    test "$out" = "max-ttl=\"$MAXTTL\"
nosuch not known"

# --- dump-cache ---------------------------------------------------------------
rc dump-cache - >"$WORK/dash.dump" 2>"$WORK/dash.err"
st=$?
check "dump-cache -: exit 0, the dump on stdout has n1..n5.q.test ($st: $(tail -1 "$WORK/dash.dump"))" \
    sh -c '[ "$1" -eq 0 ] && for n in 1 2 3 4 5; do grep -qF "n$n.q.test." "$2" || exit 1; done' _ $st "$WORK/dash.dump"
check "dump-cache - piped to grep finds n3.q.test" \
    sh -c 'timeout 15 rec_control --config-dir="$1" --socket-dir="$2" dump-cache - | grep -qF n3.q.test.' _ "$RCCONF" "$RUN"
mkdir -p "$WORK/member"
chown $UID_IN:$UID_IN "$WORK/member"
chmod 700 "$WORK/member"
out=$(cd "$WORK/member" && as_member rec_control --config-dir="$RCCONF" --socket-dir="$RUN" \
    dump-cache "$WORK/member/cache.dump" 2>&1)
st=$?
said=$(printf '%s\n' "$out" | sed -n 's/^dumped \([0-9]*\) records$/\1/p')
entries=$(grep -c '^;entry ' "$WORK/member/cache.dump" 2>/dev/null)
check "dump-cache FILE by uid $UID_IN (a member of $GROUP): exit 0, 'dumped N records' ($st: $out)" \
    sh -c '[ "$1" -eq 0 ] && [ -n "$2" ]' _ $st "$said"
# (rec_control opens the file itself, before it connects: an empty one proves nothing)
check "... the file, entries in it, is uid $UID_IN's ($(stat -c %u:%g "$WORK/member/cache.dump" 2>&1), ${entries:-0} entries)" \
    test "$(stat -c %u "$WORK/member/cache.dump" 2>/dev/null)" = $UID_IN -a "${entries:-0}" -gt 0
check "... holds n1..n5.q.test as records ($(grep -c 'q\.test\.' "$WORK/member/cache.dump" 2>/dev/null) lines)" \
    sh -c 'for n in 1 2 3 4 5; do grep -qP "^n$n\.q\.test\.\t" "$1" || exit 1; done' _ "$WORK/member/cache.dump"
check "... N counts what the file holds (said ${said:-?}, ${entries:-0} ;entry lines)" \
    test -n "$said" -a "${said:-0}" = "${entries:-x}"
out=$(as_member rec_control --config-dir="$RCCONF" --socket-dir="$RUN" ping 2>&1)
check "the member's ping ($out)" sh -c 'case "$1" in pong*) ;; *) exit 1;; esac' _ "$out"

# --- who may connect --------------------------------------------------------------
out=$(as_outsider timeout 10 rec_control --config-dir="$RCCONF" --socket-dir="$RUN" ping 2>&1)
st=$?
# refused, and not merely because there is no socket to refuse it
refused() {
	[ "$1" -ne 0 ] && test -S "$RSOCK" || return 1
	case "$2" in *pong* | *"No such file"*) return 1 ;; esac
}
check "uid $UID_OUT, in no group of the policy: no pong, exit non-zero ($st: $out)" refused $st "$out"
# the file's mode keeps it out already; opened up, the server must refuse it
chmod 666 "$RSOCK" 2>/dev/null
out=$(as_outsider timeout 10 rec_control --config-dir="$RCCONF" --socket-dir="$RUN" ping 2>&1)
st=$?
chmod "${mode:-660}" "$RSOCK" 2>/dev/null
check "... with the socket made 0666, the server refuses it by SO_PEERCRED: exit non-zero ($st: $out)" \
    refused $st "$out"
check "... and logs the refusal with uid $UID_OUT ($(grep -i refus "$LOG" | tail -1))" \
    sh -c 'grep -i refus "$1" | grep -qw "$2"' _ "$LOG" $UID_OUT

# --- an unknown command -----------------------------------------------------------
out=$(rc bogus 2>&1)
st=$?
check "an unknown command: exit 1, pdns's text ($st: $out)" \
    sh -c '[ "$1" -eq 1 ] && [ "$2" = "Unknown command '\''bogus'\'', try '\''help'\''" ]' _ $st "$out"

# --- wipe-cache NAME$, NAME; wipe-cache-typed ------------------------------------------
for n in a.wipe.test b.sub.wipe.test keep.test exact.test below.exact.test; do
	s=$(q $n)
	[ "$s" = NOERROR ] || echo "# dig $n: $s"
done
s=$(q typed.test A)
s2=$(q typed.test AAAA)
echo "# typed.test A: $s, AAAA: $s2"
for n in a.wipe.test b.sub.wipe.test keep.test; do q $n >/dev/null; done	# from the cache
check "before wiping, each name went upstream once ($(up a.wipe.test) $(up b.sub.wipe.test) $(up keep.test))" \
    test "$(up a.wipe.test)$(up b.sub.wipe.test)$(up keep.test)" = 111
p0=$(rget packetcache-entries)
o0=$(rget all-outqueries)
out=$(rc wipe-cache 'wipe.test$' 2>&1)
st=$?
wiped=$(printf '%s\n' "$out" | sed -n 's/^wiped \([0-9]*\) records, \([0-9]*\) negative records, \([0-9]*\) packets$/\1 \2 \3/p')
check "wipe-cache wipe.test\$: exit 0, 'wiped N records, N negative records, N packets' ($st: $out)" \
    test $st -eq 0 -a -n "$wiped"
check "... at least 2 wiped (a.wipe.test, b.sub.wipe.test: ${wiped:-none})" \
    sh -c 'set -- $1; [ $(($1 + $2 + $3)) -ge 2 ]' _ "${wiped:-0 0 0}"
p1=$(rget packetcache-entries)
check "... packetcache-entries dropped (${p0:-?} -> ${p1:-?})" \
    sh -c 'case "$1$2" in *[!0-9]*|"") exit 1;; esac; [ "$2" -lt "$1" ]' _ "$p0" "$p1"
for n in a.wipe.test b.sub.wipe.test keep.test; do q $n >/dev/null; done
check "... a.wipe.test and b.sub.wipe.test go upstream again, keep.test does not ($(up a.wipe.test), $(up b.sub.wipe.test), $(up keep.test) times)" \
    test "$(up a.wipe.test)$(up b.sub.wipe.test)$(up keep.test)" = 221
o1=$(rget all-outqueries)
check "... all-outqueries moved by the two (${o0:-?} -> ${o1:-?})" \
    sh -c 'case "$1$2" in *[!0-9]*|"") exit 1;; esac; [ "$2" -ge $(($1 + 2)) ]' _ "$o0" "$o1"
out=$(rc wipe-cache exact.test 2>&1)
st=$?
q exact.test >/dev/null
q below.exact.test >/dev/null
check "wipe-cache exact.test (no \$): exact.test upstream again, below.exact.test not ($st: $out; $(up exact.test), $(up below.exact.test))" \
    test $st -eq 0 -a "$(up exact.test)$(up below.exact.test)" = 21
out=$(rc wipe-cache-typed A typed.test 2>&1)
st=$?
q typed.test A >/dev/null
q typed.test AAAA >/dev/null
check "wipe-cache-typed A typed.test: A upstream again, AAAA not ($st: $out; A $(up typed.test 1), AAAA $(up typed.test 28))" \
    test $st -eq 0 -a "$(up typed.test 1)$(up typed.test 28)" = 21

# --- Telegraf's powerdns_recursor input, protocol v3 --------------------------------
python3 "$HERE/telegraf_v3.py" --repeat 20 --need questions --need packetcache-hits "$RSOCK" \
    >"$WORK/telegraf.out" 2>"$WORK/telegraf.err"
st=$?
check "Telegraf v3 get-all, 20 times: one read each, within 5 s and 64 KiB, every value an integer ($(cat "$WORK/telegraf.err"))" \
    test $st -eq 0
tq=$(awk '$1 == "questions" { print $2 }' "$WORK/telegraf.out")
g=$(rget questions)
check "... its questions is rec_control's (${tq:-none} / ${g:-none})" sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$tq" "$g"

# --- fdtool control metrics | promtool check metrics -----------------------------------
nctl metrics >"$WORK/metrics.txt" 2>"$WORK/metrics.err"
st=$?
check "fdtool control metrics: exit 0, a # TYPE line and samples ($st: $(grep -c '^[a-z]' "$WORK/metrics.txt") samples; $(head -c 200 "$WORK/metrics.err"))" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^# TYPE " "$2" && grep -qE "^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+]+$" "$2"' _ $st "$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1
st=$?
check "... promtool check metrics passes ($st: $(head -3 "$WORK/promtool.out" | tr '\n' ' '))" test $st -eq 0

# --- clients that stall or lie ------------------------------------------------------
cat >"$WORK/abuse.py" <<'PY'
# abuse.py SOCKET KIND:N,... BOUND READY: opens the clients, says READY,
# waits (at most BOUND s) for the server to close each; one line per kind:
# "KIND N CLOSED SLOWEST_S CONNECT_FAILED REPLIES"
import select, socket, struct, sys, time

path, spec, bound, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
SZ = struct.calcsize("@N")
order, kinds = [], []
for part in spec.split(","):
    k, n = part.split(":")
    order.append(k)
    kinds += [k] * int(n)
conns, failed = [], {k: 0 for k in order}
for k in kinds:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    t0 = time.monotonic()
    try:
        s.connect(path)
    except OSError:
        failed[k] += 1
        s.close()
        continue
    try:
        if k == "nofd":      # what rec_control sends for dump-cache, less the descriptor
            s.sendall(struct.pack("@i", 0) + struct.pack("@N", 10) + b"dump-cache")
        elif k == "huge":    # a length of 2^40, and a little of it
            s.sendall(struct.pack("@i", 0) + struct.pack("@N", 1 << 40) + b"get-all")
    except OSError:
        pass                 # closed on us already
    s.setblocking(False)
    conns.append([k, s, t0, b"", None])
open(ready, "w").close()
end = time.monotonic() + bound
while time.monotonic() < end:
    live = [c for c in conns if c[4] is None]
    if not live:
        break
    r, _, _ = select.select([c[1] for c in live], [], [], 0.2)
    for c in live:
        if c[1] not in r:
            continue
        try:
            d = c[1].recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            d = b""
        if d:
            c[3] += d
        else:
            c[4] = time.monotonic() - c[2]


def describe(d):
    if not d:
        return "none"
    if len(d) < 4 + SZ:
        return "partial:%d" % len(d)
    st, n = struct.unpack("@i", d[:4])[0], struct.unpack("@N", d[4:4 + SZ])[0]
    return "status%d:%s" % (st, d[4 + SZ:4 + SZ + min(n, 60)].decode("ascii", "replace").strip().replace(" ", "_"))


for k in order:
    mine = [c for c in conns if c[0] == k]
    closed = [c[4] for c in mine if c[4] is not None]
    print(k, len(mine) + failed[k], len(closed), "%.1f" % max(closed, default=0.0), failed[k],
          ",".join(sorted(set(describe(c[3]) for c in mine))) or "-")
for c in conns:
    c[1].close()
PY
# by a member of --control-group: root's ping must still get in
rc ping >/dev/null 2>&1
q n1.q.test >/dev/null
FDS0=$(nfds "$SERVER")
# abuse TAG SPEC: the clients of SPEC (uid $UID_IN's) held while root's
# rec_control ping and dig must answer at once
abuse() {
	local tag=$1 spec=$2 t0 t1 out st s k total closed slowest cfail replies held
	rm -f "$WORK/member/$tag.ready"
	as_member timeout $((BOUND + 20)) "$PY3" "$WORK/abuse.py" "$RSOCK" "$spec" $((BOUND + 5)) \
	    "$WORK/member/$tag.ready" >"$WORK/$tag.out" 2>&1 &
	local helper=$!
	PIDS+=("$helper")
	wait_until 10 test -e "$WORK/member/$tag.ready"
	held=$(nfds "$SERVER")
	t0=$(now_ms)
	out=$(rc ping 2>&1)
	st=$?
	t1=$(now_ms)
	check "$tag: rec_control ping meanwhile: pong in $((t1 - t0)) ms (< 1000) ($st: $out)" \
	    sh -c '[ "$1" -eq 0 ] && [ "$2" -lt 1000 ] && case "$3" in pong*) ;; *) exit 1;; esac' _ $st $((t1 - t0)) "$out"
	t0=$(now_ms)
	s=$(q n2.q.test)
	t1=$(now_ms)
	check "$tag: dig meanwhile: $s in $((t1 - t0)) ms (< 1000)" test "$s" = NOERROR -a $((t1 - t0)) -lt 1000
	s=$(q fresh-$tag.q.test)
	check "$tag: a dig that goes upstream meanwhile: $s" test "$s" = NOERROR
	# (so that "back to" below means something: they were taken in)
	check "$tag: the clients were accepted: the server's descriptors rose ($FDS0 -> $held)" \
	    test "$held" -gt "$FDS0"
	wait "$helper"
	echo "# $tag: $(tr '\n' ';' <"$WORK/$tag.out")"
	while read -r k total closed slowest cfail replies; do
		check "$tag: $k: all $total dropped within $BOUND s (--control-idle-timeout $IDLE; $closed closed, slowest $slowest s, $cfail not accepted, replies $replies)" \
		    sh -c '[ "$1" -eq "$2" ] && [ "$3" -eq 0 ] && awk -v t="$4" -v b="$5" "BEGIN { exit !(t < b) }"' _ \
		    "$closed" "$total" "$cfail" "$slowest" $BOUND
	done <"$WORK/$tag.out"
	[ -s "$WORK/$tag.out" ] || not_ok "$tag: the client helper said nothing ($(cat "$WORK/$tag.out"))"
	wait_until 5 fds_are "$FDS0"
	check "$tag: the server's descriptors back to $FDS0 ($(nfds "$SERVER"))" fds_are "$FDS0"
}
abuse one silent:1,nofd:1,huge:1
abuse fifty silent:17,nofd:17,huge:16
out=$(rc get questions 2>&1)
check "get after the abuse ($out)" is_int "$out"

# --- quit-nicely ------------------------------------------------------------------
out=$(rc quit-nicely 2>&1)
st=$?
check "quit-nicely: exit 0, 'bye nicely' ($st: $out)" sh -c '[ "$1" -eq 0 ] && [ "$2" = "bye nicely" ]' _ $st "$out"
wait_until 10 sh -c '! kill -0 "$1" 2>/dev/null' _ "$SERVER"
if kill -0 "$SERVER" 2>/dev/null; then
	not_ok "... the server exits (still running after 10 s)"
else
	wait "$SERVER"
	st=$?
	check "... the server exits 0 ($st)" test $st -eq 0
fi
if [ "$failed" -ne 0 ]; then
	echo "--- server log (last 30 lines):"
	tail -30 "$LOG" | sed 's/^/    /'
fi
finish
