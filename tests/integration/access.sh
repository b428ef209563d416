#!/usr/bin/env bash
# fdtool server access control, as root, on addresses added to lo in the
# test's own network namespace (10.53.0.1 the server, 10.53.0.2 and
# 10.54.0.2 clients), against a counting fake upstream (fakeup2.py):
#   - without --allow-from only loopback clients are answered: others get
#     REFUSED over UDP and TCP, the query never goes upstream, nothing is
#     logged per refusal, and a warning at start-up says so
#   - --allow-from 10.53.0.0/24 lets that network in, and no other
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
need ip
. "$(dirname "$0")/upstreams_lib.sh"

for a in 10.53.0.1/24 10.53.0.2/24 10.54.0.2/24; do
	ip addr add "$a" dev lo || skip "cannot add $a to lo"
done

CNT=$WORK/g.count
start_fake g-ok --port 5401 --mode ok --answer 192.0.2.40 --count "$CNT"

# no --allow-from: loopback only
start_server G1 --listen 10.53.0.1 --listen 127.0.0.1 --no-hosts --upstream 127.0.0.1:5401
check "g: a start-up warning says only loopback clients are served ($(grep -i loopback "$WORK/G1.log" | head -n1))" \
	sh -c "grep 'warning:' '$WORK/G1.log' | grep -qi loopback"
lines=$(wc -l <"$WORK/G1.log")
dq g1 -b 10.53.0.2 @10.53.0.1 g1.access.test
check "g: no --allow-from, client 10.53.0.2 over UDP: REFUSED ($(summary g1))" is g1 REFUSED
dq g2 -b 10.53.0.2 @10.53.0.1 g2.access.test +tcp
check "g: no --allow-from, client 10.53.0.2 over TCP: REFUSED ($(summary g2))" is g2 REFUSED
for i in 1 2 3; do dig +time=2 +tries=1 -b 10.53.0.2 @10.53.0.1 g3-$i.access.test >/dev/null 2>&1; done
check "g: ... none of the refused queries went upstream ($(grep -c 'access\.test' "$CNT" 2>/dev/null) names seen)" \
	sh -c "! grep -q 'access\.test' '$CNT' 2>/dev/null"
check "g: ... refused, and none of the refusals logged ($((lines)) -> $(wc -l <"$WORK/G1.log") log lines)" \
	sh -c "[ '$(status g1)' = REFUSED ] && [ \$(wc -l <'$WORK/G1.log') -eq $lines ]"
dq g4 @127.0.0.1 g4.local.test
check "g: client 127.0.0.1 to the 127.0.0.1 listener: answered ($(summary g4))" is g4 NOERROR 192.0.2.40
dq g5 @127.0.0.1 g5.local.test +tcp
check "g: ... over TCP too ($(summary g5))" is g5 NOERROR 192.0.2.40

# --allow-from 10.53.0.0/24
start_server G2 --listen 10.53.0.1:5300 --allow-from 10.53.0.0/24 --no-hosts \
	--upstream 127.0.0.1:5401
dq g6 -b 10.53.0.2 @10.53.0.1 -p 5300 g6.allowed.test
check "g: --allow-from 10.53.0.0/24, client 10.53.0.2 over UDP: answered ($(summary g6))" is g6 NOERROR 192.0.2.40
dq g7 -b 10.53.0.2 @10.53.0.1 -p 5300 g7.allowed.test +tcp
check "g: --allow-from 10.53.0.0/24, client 10.53.0.2 over TCP: answered ($(summary g7))" is g7 NOERROR 192.0.2.40
dq g8 -b 10.54.0.2 @10.53.0.1 -p 5300 g8.outside.test
check "g: --allow-from 10.53.0.0/24, client 10.54.0.2 (outside it): REFUSED ($(summary g8))" is g8 REFUSED
dq g9 -b 10.54.0.2 @10.53.0.1 -p 5300 g9.outside.test +tcp
check "g: ... over TCP too ($(summary g9))" is g9 REFUSED
check "g: ... and neither went upstream" \
	sh -c "[ '$(status g8)' = REFUSED ] && ! grep -q 'outside\.test' '$CNT' 2>/dev/null"
finish
