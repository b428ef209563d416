#!/usr/bin/env bash
# An upstream answer with legal compression pointers into bytes the cache
# rewrites (issue 10, defect 1), as root: fakeup2.py --mode pointers
# answers with records whose names point into another record's TTL field.
# fdtool must hand out the names the upstream meant -- on the first
# answer, from the cache after the TTLs were clamped (--max-ttl) and
# counted down, and after dump-cache / load-cache into a second server --
# and every reply must parse.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
. "$(dirname "$0")/upstreams_lib.sh"

start_fake p1 --port 5371 --mode pointers --answer 192.0.2.1
start_fake p2 --port 5372 --mode silent

# owner NAME OUT DATA: the owner dig shows for the record with DATA
owner() {
	awk -v d="$2" '/^;; ANSWER SECTION:/ { a = 1; next } /^$/ { a = 0 }
		a && $NF == d { print $1; exit }' "$WORK/$1"
}
ns_target() {
	awk '/^;; AUTHORITY SECTION:/ { a = 1; next } /^$/ { a = 0 }
		a && $4 == "NS" { print $NF; exit }' "$WORK/$1"
}
clean() {
	! grep -Eqi 'bad (label|compression)|malformed|got bad packet|parse' "$WORK/$1"
}
good() {
	is "$1" NOERROR 192.0.2.1 && [ "$(owner "$1" 192.0.2.2)" = a. ] &&
		[ "$(ns_target "$1")" = a. ] && clean "$1"
}
what() { echo "$(summary "$1"), owner of 192.0.2.2: $(owner "$1" 192.0.2.2), NS: $(ns_target "$1")"; }

start_server C1 --listen 127.0.0.81 --no-hosts --max-ttl 3600 --upstream 127.0.0.1:5371
dq c1 @127.0.0.81 ptr.test A
check "c: the first answer carries the names the upstream meant ($(what c1))" good c1
sleep 1.2
dq c2 @127.0.0.81 ptr.test A
check "c: from the cache, TTLs clamped and counted down: the same names ($(what c2))" good c2
dq c3 @127.0.0.81 PTR.Test A +dnssec +bufsize=1232
check "c: another spelling, with EDNS and DO: the same names ($(what c3))" good c3
check "c: the answer's TTLs are within --max-ttl ($(answer_ttl c2))" \
	test "$(answer_ttl c2)" -le 3600

ctl C1 dump-cache - >"$WORK/c.dump" 2>"$WORK/c.dump.err"
check "c: the dump names the record a. ($(grep -c '^a\.' "$WORK/c.dump") lines)" \
	grep -q '^a\.[[:space:]].*192\.0\.2\.2' "$WORK/c.dump"
start_server C2 --listen 127.0.0.82 --no-hosts --upstream 127.0.0.1:5372 --upstream-timeout 300
ctl C2 load-cache - <"$WORK/c.dump" >"$WORK/c.load" 2>&1
check "c: load-cache into a second server ($(tr '\n' ' ' <"$WORK/c.load"))" \
	grep -q 'loaded 1 ' "$WORK/c.load"
dq c4 @127.0.0.82 ptr.test A
check "c: the loaded entry gives the same names ($(what c4))" good c4
finish
