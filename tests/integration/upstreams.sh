#!/usr/bin/env bash
# fdtool server against upstreams that misbehave the way real networks
# do, each a scripted fake (fakeup2.py) on 127.0.0.1, as root:
#   a. a dead first upstream is remembered, not waited on for every miss;
#      the control socket's get-all shows per-upstream state
#   b. a slow answer (2.5 s) arrives although the attempt timeout is 1 s;
#      --query-timeout bounds the whole query: SERVFAIL with EDE 22
#   c. REFUSED, and REFUSED without a question, move on to the next
#      upstream at once; all refusing: SERVFAIL with EDE 22
#   d. identical concurrent misses are one upstream query (coalescing);
#      another qtype is another query
#   e. CHAOS class (version.bind, id.server): REFUSED, never forwarded
#   f. AA from the upstream is not passed on
#   j. --serve-stale: an expired answer (TTL 30, EDE 3) once the upstream
#      is gone; without it, SERVFAIL
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
. "$(dirname "$0")/upstreams_lib.sh"

# --- a. dead first upstream -------------------------------------------------
start_fake a-silent --port 5311 --mode silent --count "$WORK/a-silent.count"
start_fake a-ok --port 5312 --mode ok --answer 192.0.2.12
start_server A --listen 127.0.0.11 --no-hosts --upstream-timeout 1000 \
	--upstream 127.0.0.1:5311 --upstream 127.0.0.1:5312
dq a0 @127.0.0.11 a0.dead.test
check "a: first miss answered by the second upstream ($(summary a0))" is a0 NOERROR 192.0.2.12
fast=0 slow=""
for i in $(seq 1 20); do
	dq "a$i" @127.0.0.11 "a$i.dead.test"
	if is "a$i" NOERROR 192.0.2.12 && [ "$MS" -lt 500 ]; then
		fast=$((fast + 1))
	else
		slow="miss $i: $(summary "a$i")"
		break	# one is proof enough; the rest would each wait a timeout
	fi
done
check "a: 20 further misses each answered in < 500 ms (--upstream-timeout 1000)${slow:+; $slow}" test "$fast" -eq 20
echo "# the dead upstream was asked $(count "$WORK/a-silent.count" total) times"
ctl A get-all >"$WORK/a.getall" 2>&1
echo "# get-all of server A:"
sed 's/^/#   /' "$WORK/a.getall"
check "a: get-all has a line for the dead upstream (5311) with its failures/rtt/state" \
	sh -c "grep -F 5311 '$WORK/a.getall' | grep -Eiq 'fail|rtt|state'"
check "a: get-all has a line for the live upstream (5312) with its rtt" \
	sh -c "grep -F 5312 '$WORK/a.getall' | grep -Eiq 'rtt'"

# --- b. slow upstream ---------------------------------------------------------
start_fake b-slow --port 5321 --mode ok --delay 2.5 --answer 192.0.2.21
start_server B1 --listen 127.0.0.21 --no-hosts --upstream-timeout 1000 \
	--upstream 127.0.0.1:5321
start_server B2 --listen 127.0.0.22 --no-hosts --upstream-timeout 1000 \
	--query-timeout 2000 --upstream 127.0.0.1:5321
dq b1 @127.0.0.21 b1.slow.test
check "b: a 2.5 s answer is not lost to a 1 s attempt timeout ($(summary b1))" is b1 NOERROR 192.0.2.21
check "b: ... and comes when the upstream gives it (2-4 s: $MS ms)" took b1 NOERROR 2000 4000
dq b2 @127.0.0.22 b2.slow.test
check "b: --query-timeout 2000 with a 2.5 s upstream: SERVFAIL ($(summary b2))" is b2 SERVFAIL
check "b: ... by about 2 s (1.5-2.9 s: $MS ms)" took b2 SERVFAIL 1500 2900
check "b: ... with EDE 22" has_ede b2 22

# --- c. refusing upstreams ----------------------------------------------------
start_fake c-refused --port 5331 --mode refused
start_fake c-ok --port 5332 --mode ok --answer 192.0.2.32
start_fake c-noq --port 5333 --mode noquestion
start_server C1 --listen 127.0.0.31 --no-hosts --upstream-timeout 1000 \
	--upstream 127.0.0.1:5331 --upstream 127.0.0.1:5332
start_server C2 --listen 127.0.0.32 --no-hosts --upstream-timeout 1000 \
	--upstream 127.0.0.1:5333 --upstream 127.0.0.1:5332
start_server C3 --listen 127.0.0.33 --no-hosts --upstream-timeout 1000 \
	--upstream 127.0.0.1:5331 --upstream 127.0.0.1:5333
dq c1 @127.0.0.31 c1.refused.test
check "c: REFUSED, then the next upstream answers ($(summary c1))" is c1 NOERROR 192.0.2.32
check "c: ... at once (< 500 ms: $MS ms)" took c1 NOERROR 0 500
dq c2 @127.0.0.32 c2.noq.test
check "c: REFUSED without a question, then the next upstream answers ($(summary c2))" is c2 NOERROR 192.0.2.32
check "c: ... at once, not after a timeout (< 500 ms: $MS ms)" took c2 NOERROR 0 500
dq c3 @127.0.0.33 c3.allrefuse.test
check "c: every upstream refuses: SERVFAIL ($(summary c3))" is c3 SERVFAIL
check "c: ... at once (< 500 ms: $MS ms)" took c3 SERVFAIL 0 500
check "c: ... with EDE 22" has_ede c3 22

# --- d, e, f. one counting upstream, 300 ms away, that sets AA --------------
CNT=$WORK/d.count
start_fake d-count --port 5341 --mode ok --delay 0.3 --answer 192.0.2.41 --aa --count "$CNT"
start_server D --listen 127.0.0.41 --no-hosts --upstream 127.0.0.1:5341
out=$(python3 "$FAKEUP" burst 127.0.0.41 53 20 co.test)
echo "# burst: $out"
check "d: 20 concurrent identical queries all answered, each with its own id ($out)" \
	test "$out" = "co.test 1 sent 20 answered 20 rcodes 0:20 ids-ok 20 with-data 20"
sleep 0.5	# a late duplicate would show now
check "d: ... and the upstream saw exactly 1 query (saw $(count "$CNT" "co.test. 1 1"))" \
	test "$(count "$CNT" "co.test. 1 1")" -eq 1
out=$(python3 "$FAKEUP" burst 127.0.0.41 53 10 co2.test/1 co2.test/28)
echo "# burst: $(echo "$out" | tr "\n" ";")"
check "d: 10 A + 10 AAAA at once: all answered" \
	test "$(echo "$out" | grep -c 'sent 10 answered 10 rcodes 0:10 ids-ok 10')" -eq 2
sleep 0.5
check "d: ... one upstream query per qtype (A $(count "$CNT" "co2.test. 1 1"), AAAA $(count "$CNT" "co2.test. 28 1"))" \
	test "$(count "$CNT" "co2.test. 1 1")" -eq 1 -a "$(count "$CNT" "co2.test. 28 1")" -eq 1

dq e1 @127.0.0.41 version.bind CH TXT
check "e: version.bind CH TXT: REFUSED ($(summary e1))" is e1 REFUSED
dq e2 @127.0.0.41 id.server CH TXT
check "e: id.server CH TXT: REFUSED ($(summary e2))" is e2 REFUSED
dq e3 @127.0.0.41 version.bind CH TXT +tcp
check "e: version.bind CH TXT over TCP: REFUSED ($(summary e3))" is e3 REFUSED
check "e: ... and none of them went upstream ($(grep -Ec '^(version\.bind|id\.server)\.' "$CNT" 2>/dev/null) names seen)" \
	sh -c "[ '$(status e1)' = REFUSED ] && ! grep -Eq '^(version\.bind|id\.server)\.' '$CNT' 2>/dev/null"

dq f0 @127.0.0.1 -p 5341 aa-direct.test
check "f: the fake itself answers with AA (flags: $(flags f0))" sh -c "echo ' $(flags f0) ' | grep -q ' aa '"
dq f1 @127.0.0.41 aa.test
check "f: fdtool's answer has no AA (flags: $(flags f1); $(summary f1))" \
	sh -c "[ '$(status f1)' = NOERROR ] && ! echo ' $(flags f1) ' | grep -q ' aa '"
dq f2 @127.0.0.41 aa.test
check "f: nor has the cached one (flags: $(flags f2); $(summary f2))" \
	sh -c "[ '$(status f2)' = NOERROR ] && ! echo ' $(flags f2) ' | grep -q ' aa '"

# --- j. serve-stale -----------------------------------------------------------
start_fake j-ok --port 5351 --mode ok --ttl 2 --answer 192.0.2.51
J_FAKE=$FAKE_PID
start_server J1 --listen 127.0.0.51 --no-hosts --upstream-timeout 300 --serve-stale 60 \
	--upstream 127.0.0.1:5351
start_server J2 --listen 127.0.0.52 --no-hosts --upstream-timeout 300 \
	--upstream 127.0.0.1:5351
dq j1 @127.0.0.51 stale.test
check "j: --serve-stale server: fresh answer cached ($(summary j1))" is j1 NOERROR 192.0.2.51
dq j2 @127.0.0.52 stale.test
check "j: plain server: fresh answer cached ($(summary j2))" is j2 NOERROR 192.0.2.51
stop_pid "$J_FAKE"
sleep 3	# the TTL (2 s) runs out
dq j3 @127.0.0.51 stale.test
check "j: upstream gone, TTL expired, --serve-stale 60: the stale answer ($(summary j3))" is j3 NOERROR 192.0.2.51
check "j: ... with TTL 30 (got $(answer_ttl j3))" test "$(answer_ttl j3)" = 30
check "j: ... with EDE 3 (Stale Answer)" has_ede j3 3
dq j4 @127.0.0.52 stale.test
check "j: without --serve-stale: SERVFAIL ($(summary j4))" is j4 SERVFAIL
finish
