#!/usr/bin/env bash
# fdtool server end to end, as root: on 127.0.0.1:53 with the creator it
# spawns, forwarding to a real NSD on 127.0.0.1:5300, queried with dig
# over UDP and TCP; then the privilege it holds and hostile clients.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need nsd

UP=5300
start_nsd $UP
LOG=$WORK/server.log
"$FDTOOL" server --upstream 127.0.0.1:$UP --listen 127.0.0.1 2>"$LOG" &
SERVER=$!
PIDS+=("$SERVER")
q() { dig +time=2 +tries=1 @127.0.0.1 "$@"; }
wait_until 10 q localhost +short >/dev/null || { cat "$LOG"; exit 1; }

ttl_of() { q "$@" +noall +answer | awk 'NR == 1 { print $2 }'; }

# forwarding and the cache
check "UDP answer forwarded" test "$(q www.example.test +short)" = 192.0.2.1
check "TCP answer" test "$(q www.example.test +tcp +short)" = 192.0.2.1
first=$(ttl_of short.example.test)
check "short TTL passed on ($first)" test "${first:-0}" -le 30 -a "${first:-0}" -gt 25
sleep 2.1
second=$(ttl_of short.example.test)
check "cached TTL counts down ($first -> $second)" test "${second:-99}" -lt "$first"
check "client's spelling and ID kept" sh -c "dig +time=2 +tries=1 @127.0.0.1 WWW.Example.TEST | grep -q '^WWW.Example.TEST.'"
check "NXDOMAIN forwarded" sh -c "dig +time=2 +tries=1 @127.0.0.1 nope.example.test | grep -q 'status: NXDOMAIN'"
check "NODATA forwarded with SOA" sh -c "dig +time=2 +tries=1 @127.0.0.1 www.example.test AAAA | grep -q 'AUTHORITY: 1'"

# the hosts file (default /etc/hosts) answers without an upstream
check "localhost from the hosts file" test "$(q localhost +short)" = 127.0.0.1
check "PTR from the hosts file" sh -c "dig +time=2 +tries=1 @127.0.0.1 -x 127.0.0.1 +short | grep -q localhost"

# oversized: TC over UDP, whole over TCP (upstream fetched over TCP after TC)
check "oversized answer sets TC over UDP" sh -c "dig +time=2 +tries=1 +ignore @127.0.0.1 big.example.test TXT | grep -q 'flags:.* tc'"
check "oversized answer whole over TCP" test "$(q big.example.test TXT +tcp +short | wc -l)" -eq 14

# the upstream goes away: answers come from the cache
stop_pid "$NSD_PID"
check "cache answers with the upstream gone" test "$(q www.example.test +short)" = 192.0.2.1
check "NXDOMAIN cached" sh -c "dig +time=2 +tries=1 @127.0.0.1 nope.example.test | grep -q 'status: NXDOMAIN'"
check "unknown name with the upstream gone: SERVFAIL" sh -c "dig +time=5 +tries=1 @127.0.0.1 other.example.test | grep -q 'status: SERVFAIL'"

# privilege
CREATOR=$(pgrep -P "$SERVER" | head -1)
check "server runs as nobody" test "$(status_field "$SERVER" Uid)" = "65534	65534	65534	65534"
check "server CapEff 0" test "$(status_field "$SERVER" CapEff)" = 0000000000000000
check "server CapPrm 0" test "$(status_field "$SERVER" CapPrm)" = 0000000000000000
check "server CapBnd 0" test "$(status_field "$SERVER" CapBnd)" = 0000000000000000
check "server NoNewPrivs 1" test "$(status_field "$SERVER" NoNewPrivs)" = 1
check "server is sandboxed" grep -q "sandboxed (Landlock" "$LOG"
check "creator child exists" test -n "$CREATOR"
check "creator CapEff 0400" test "$(status_field "${CREATOR:-0}" CapEff)" = 0000000000000400
check "creator runs as nobody" test "$(status_field "${CREATOR:-0}" Uid)" = "65534	65534	65534	65534"

# hostile clients: garbage, a stalled TCP client, while dig still works
fds_before=$(ls /proc/"$SERVER"/fd | wc -l)
for i in $(seq 1 200); do
	head -c $((i % 60 + 1)) /dev/urandom > /dev/udp/127.0.0.1/53
done
printf '\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01' > /dev/udp/127.0.0.1/53
exec 7<>/dev/tcp/127.0.0.1/53
printf '\x00' >&7		# half a length prefix, then silence
exec 8<>/dev/tcp/127.0.0.1/53
printf '\x00\x40\x12\x34' >&8	# a promise of 64 bytes, 2 delivered
check "dig answered beside garbage and stalled TCP clients" test "$(q www.example.test +short)" = 192.0.2.1
check "dig +tcp answered beside stalled TCP clients" test "$(q www.example.test +tcp +short)" = 192.0.2.1
check "server still running" kill -0 "$SERVER"
exec 7>&- 8>&-
wait_until 5 test "$(ls /proc/"$SERVER"/fd | wc -l)" -le "$fds_before"
check "no descriptor left behind by hostile clients" test "$(ls /proc/"$SERVER"/fd | wc -l)" -le "$fds_before"

# a clean stop takes the creator with it
kill -TERM "$SERVER"
wait "$SERVER"
check "server exits 0 on SIGTERM" test $? -eq 0
check "creator gone with it" sh -c "! kill -0 ${CREATOR:-0} 2>/dev/null"
finish
