#!/usr/bin/env bash
# fdtool server taking its upstreams from --resolv-conf, as root, with
# fdtool on 127.0.0.1:53 and fake upstreams (fakeup2.py) on 127.0.0.2:53,
# 127.0.0.3:53 and 127.0.0.4:53 (resolv.conf has no ports):
#   - a resolv.conf that names only the server itself: it starts anyway
#     and answers SERVFAIL with EDE 22
#   - the file edited in place, then replaced by rename: the new
#     nameserver is used within about 2 s, with no signal
#   - SIGHUP re-reads it too (an edit that keeps the size and the mtime)
#   - a scoped IPv6 nameserver (fe80::1%nosuchif) is logged as skipped
#   - a resolv.conf that is a symlink into another directory (as
#     systemd-resolved's is): replacing the target by rename is noticed
#     (a second server, on 127.0.0.5:53)
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
. "$(dirname "$0")/upstreams_lib.sh"

start_fake r2 --addr 127.0.0.2 --port 53 --mode ok --answer 192.0.2.2
start_fake r3 --addr 127.0.0.3 --port 53 --mode ok --answer 192.0.2.3
start_fake r4 --addr 127.0.0.4 --port 53 --mode ok --answer 192.0.2.4

mkdir -p "$WORK/etc"
RC=$WORK/etc/resolv.conf
printf 'nameserver 127.0.0.1\n' >"$RC"
start_server R --listen 127.0.0.1 --no-hosts --upstream-timeout 300 --resolv-conf "$RC"
R_PID=$SERVER_PID
dq r0 @127.0.0.1 r0.test
check "i: resolv.conf names only fdtool itself: SERVFAIL ($(summary r0))" is r0 SERVFAIL
check "i: ... with EDE 22" has_ede r0 22

# switched_to ADDR SECONDS: queries to $SW_AT (a fresh name each time, so no cached
# answer or cached SERVFAIL gets in the way) are answered with ADDR within
# SECONDS; how long it took in SWITCH_MS
n=0
SW_AT=127.0.0.1
switched_to() {
	local want=$1 t0 deadline
	t0=$(now_ms)
	deadline=$((t0 + $2 * 1000))
	while :; do
		n=$((n + 1))
		if [ "$(dig +time=1 +tries=1 "@$SW_AT" "s$n.switch.test" +short 2>/dev/null)" = "$want" ]; then
			SWITCH_MS=$(($(now_ms) - t0))
			SWITCH_SAY="$SWITCH_MS ms"
			return 0
		fi
		[ "$(now_ms)" -lt "$deadline" ] || { SWITCH_MS=timeout; SWITCH_SAY="not within $2 s"; return 1; }
		sleep 0.1
	done
}

# switched_within MS: the last switched_to succeeded within MS
switched_within() {
	[ "$SWITCH_MS" != timeout ] && [ "$SWITCH_MS" -le "$1" ]
}

# edited in place (same inode), with a scoped IPv6 nameserver first
ino=$(stat -c %i "$RC")
printf 'nameserver fe80::1%%nosuchif\nnameserver 127.0.0.2\n' >"$RC"
test "$(stat -c %i "$RC")" = "$ino" || echo "# warning: the in-place edit changed the inode"
switched_to 192.0.2.2 3
check "i: resolv.conf edited in place: 127.0.0.2 answers within ~2 s, no signal ($SWITCH_SAY)" \
	switched_within 2500
# (any wording: the entry is named in the log, which nothing else puts there)
check "i: the scoped nameserver fe80::1%nosuchif is logged as skipped ($(grep -E 'fe80::1|nosuchif' "$WORK/R.log" | head -n1))" \
	grep -Eq 'fe80::1|nosuchif' "$WORK/R.log"

# replaced by rename (a new inode)
printf 'nameserver 127.0.0.3\n' >"$RC.tmp"
mv "$RC.tmp" "$RC"
switched_to 192.0.2.3 3
check "i: resolv.conf replaced by rename: 127.0.0.3 answers within ~2 s, no signal ($SWITCH_SAY)" \
	switched_within 2500

# SIGHUP: an edit that keeps the size and the mtime (so only a re-read
# that does not trust the mtime sees it), then the signal
touch -r "$RC" "$WORK/rc.stamp"
printf 'nameserver 127.0.0.4\n' >"$RC"
touch -r "$WORK/rc.stamp" "$RC"
kill -HUP "$R_PID" 2>/dev/null
switched_to 192.0.2.4 2
check "i: SIGHUP re-reads resolv.conf: 127.0.0.4 answers ($SWITCH_SAY)" \
	switched_within 1500
check "i: the server is still running" sh -c "kill -0 $R_PID 2>/dev/null"

# a symlink into another directory, its target replaced by rename
mkdir -p "$WORK/run"
printf 'nameserver 127.0.0.2\n' >"$WORK/run/resolv.conf"
ln -s "$WORK/run/resolv.conf" "$WORK/etc/linked.conf"
start_server R2 --listen 127.0.0.5 --no-hosts --upstream-timeout 300 \
	--resolv-conf "$WORK/etc/linked.conf"
SW_AT=127.0.0.5
switched_to 192.0.2.2 2
check "i: resolv.conf a symlink: its target's nameserver answers ($SWITCH_SAY)" switched_within 2000
printf 'nameserver 127.0.0.3\n' >"$WORK/run/resolv.conf.tmp"
mv "$WORK/run/resolv.conf.tmp" "$WORK/run/resolv.conf"
switched_to 192.0.2.3 3
check "i: the symlink's target replaced by rename: 127.0.0.3 answers within ~2 s, no signal ($SWITCH_SAY)" \
	switched_within 2500
finish
