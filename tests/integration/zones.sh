#!/usr/bin/env bash
# fdtool server --forward-zone and the private reverse zones (RFC 6303),
# as root, against counting fake upstreams (fakeup2.py) on 127.0.0.1 that
# each answer A queries with an address of their own and PTR queries with
# "p<PORT>.fake.test.":
#   - a name under a forward zone goes to that zone's upstreams, any other
#     name to --upstream; the longest matching zone wins; matching is by
#     whole labels and ignores case; a zone's second address is used when
#     the first refuses
#   - reverse lookups of private addresses are answered locally (NXDOMAIN
#     with an SOA) unless a forward zone covers them
. "$(dirname "$0")/lib.sh"
need_root
need dig
need python3
. "$(dirname "$0")/upstreams_lib.sh"

start_fake h-p1 --port 5361 --mode ok --answer 192.0.2.61 --count "$WORK/p1.count"
start_fake h-p2 --port 5362 --mode ok --answer 192.0.2.62 --count "$WORK/p2.count"
start_fake h-p3 --port 5363 --mode ok --answer 192.0.2.63 --count "$WORK/p3.count"
start_fake h-p4 --port 5364 --mode refused --count "$WORK/p4.count"

start_server H1 --listen 127.0.0.71 --no-hosts --upstream-timeout 500 \
	--upstream 127.0.0.1:5361 \
	--forward-zone corp.test=127.0.0.1:5362 \
	--forward-zone sub.corp.test=127.0.0.1:5363 \
	--forward-zone multi.test=127.0.0.1:5364,127.0.0.1:5362
h() { dq "$1" @127.0.0.71 "${@:2}"; }
has_soa() { authority_types "$1" | grep -qx SOA; }
h h1 a.corp.test
check "h: a.corp.test goes to the corp.test zone's upstream ($(summary h1))" is h1 NOERROR 192.0.2.62
h h2 corp.test
check "h: corp.test itself too ($(summary h2))" is h2 NOERROR 192.0.2.62
h h3 B.Corp.TEST
check "h: B.Corp.TEST too: zones ignore case ($(summary h3))" is h3 NOERROR 192.0.2.62
h h4 a.other.test
check "h: a.other.test goes to --upstream ($(summary h4))" is h4 NOERROR 192.0.2.61
h h5 xcorp.test
check "h: xcorp.test goes to --upstream: whole labels only ($(summary h5))" is h5 NOERROR 192.0.2.61
h h6 x.sub.corp.test
check "h: x.sub.corp.test goes to the longer zone sub.corp.test ($(summary h6))" is h6 NOERROR 192.0.2.63
h h7 a.multi.test
check "h: multi.test=REFUSING,OK: the zone's second upstream answers ($(summary h7))" is h7 NOERROR 192.0.2.62
check "h: ... after asking the first ($(count "$WORK/p4.count" "a.multi.test. 1 1") times)" \
	test "$(count "$WORK/p4.count" "a.multi.test. 1 1")" -ge 1
check "h: --upstream never saw a zone's names" \
	sh -c "[ '$(status h1)' = NOERROR ] && ! grep -Eq '(^|\.)(corp|multi)\.test\. ' '$WORK/p1.count' 2>/dev/null"

# private reverse zones: answered here, NXDOMAIN with an SOA
for a in 10.1.2.3 192.168.1.1 172.20.0.1 fd00::1; do
	t=h-x-${a//[.:]/_}
	h "$t" -x "$a"
	check "h: -x $a answered locally: NXDOMAIN ($(summary "$t"))" is "$t" NXDOMAIN
	check "h: ... with an SOA in the authority section ($(authority_types "$t" | tr '\n' ' '))" \
		has_soa "$t"
done
check "h: ... and no private reverse name went to any upstream" \
	sh -c "[ '$(status h-x-10_1_2_3)' = NXDOMAIN ] && ! cat '$WORK'/p[1-4].count 2>/dev/null | grep -Eiq '(in-addr|ip6)\.arpa'"
h h-x-public -x 172.32.0.1
check "h: -x 172.32.0.1 (not private) is forwarded ($(summary h-x-public))" is h-x-public NOERROR p5361.fake.test.

# a forward zone for a private reverse zone: forwarded there
start_server H2 --listen 127.0.0.72 --no-hosts --upstream-timeout 500 \
	--upstream 127.0.0.1:5361 --forward-zone 10.in-addr.arpa=127.0.0.1:5362
dq h8 @127.0.0.72 -x 10.1.2.3
check "h: with --forward-zone 10.in-addr.arpa, -x 10.1.2.3 is forwarded there ($(summary h8))" \
	is h8 NOERROR p5362.fake.test.
check "h: ... which saw it once ($(count "$WORK/p2.count" "3.2.1.10.in-addr.arpa. 12 1"))" \
	test "$(count "$WORK/p2.count" "3.2.1.10.in-addr.arpa. 12 1")" -eq 1
dq h9 @127.0.0.72 -x 192.168.1.1
check "h: ... while -x 192.168.1.1 is still answered locally ($(summary h9))" is h9 NXDOMAIN
check "h: ... and not forwarded" sh -c "[ '$(status h9)' = NXDOMAIN ] && ! grep -q '1.1.168.192.in-addr.arpa' '$WORK'/p[1-4].count 2>/dev/null"
finish
