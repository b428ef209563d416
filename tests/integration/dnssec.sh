#!/usr/bin/env bash
# DNSSEC through fdtool end to end (issue #9), as root in a network
# namespace of its own.  Everything is made at test time in $WORK:
#   signed.test  signed with NSEC (a KSK and a ZSK made by ldns-keygen)
#   nsec3.test   signed with NSEC3 (no salt, 0 iterations)
#   bogus.test   signed with signatures that expired in 2020
# NSD serves the three on 127.0.0.1:5301.  A validating Unbound on
# 127.0.0.1:5302 has stub zones to NSD and the zones' DS as trust anchors.
# flagupstream.py on 127.0.0.1:5303 answers with the flags it was asked with.
# Three fdtool servers, each with a control socket (its all-outqueries
# counter says whether an answer came from the cache):
#   127.0.0.1:5300 -> NSD, 127.0.0.1:5310 -> Unbound, 127.0.0.1:5320 -> flags
# Cases:
#   0. upstream queries always carry EDNS with DO=1, and CD=1 only when the client set it
#   1. delv, with the zone's KSK as its trust anchor, through fdtool -> NSD:
#      fully validated (A, wildcard, NXDOMAIN with NSEC and NSEC3), then from the cache
#   2. kdig: a DO client gets RRSIG/NSEC/NSEC3/DS whole (as NSD sends them), a
#      client without DO none of them unless its qtype asks; fresh and from the cache
#   3. AA is never set in fdtool's answers (NSD sets it)
#   4. through Unbound: AD passed on only to clients that set AD or DO
#   5. bogus.test: SERVFAIL for CD=0, the data for CD=1, never crossing in the cache
#   6. delv through fdtool -> Unbound: fully validated; bogus.test: not
# Every direct path (delv/kdig/dig at NSD and at Unbound) is checked first,
# so that a failure later is fdtool's.
. "$(dirname "$0")/lib.sh"
need_root
for tool in dig kdig delv nsd unbound ldns-keygen ldns-signzone python3; do
	need "$tool"
done

NSD_PORT=5301
UNB_PORT=5302
FLAG_PORT=5303
FD_NSD=5300	# fdtool -> NSD
FD_UNB=5310	# fdtool -> Unbound
FD_FLAG=5320	# fdtool -> flagupstream.py
Z=$WORK/zones
Q=$WORK/answers	# every answer kept, one file per query
mkdir -p "$Z" "$Q"

# --- zones, keys, signatures -------------------------------------------------

# zone ORIGIN: the unsigned zone file $Z/ORIGIN.zone
zone() {
	cat > "$Z/$1.zone" <<ZONE
\$ORIGIN $1.
\$TTL 3600
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
        IN NS  ns1
ns1     IN A   127.0.0.1
www     IN A   192.0.2.10
www     IN AAAA 2001:db8::10
www2    IN A   192.0.2.12
www3    IN A   192.0.2.13
www4    IN A   192.0.2.14
txt     IN TXT "signed text"
*.wild  IN A   192.0.2.11
sub     IN NS  ns1.sub
ns1.sub IN A   127.0.0.1
sub     IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ZONE
}

# sign ORIGIN [ldns-signzone options]: keys, $Z/ORIGIN.zone.signed, and the
# KSK as a trust anchor for Unbound ($Z/ORIGIN.ds) and for delv ($Z/anchors.conf)
sign() {
	local origin=$1 ksk zsk
	shift
	zone "$origin"
	ksk=$(cd "$Z" && ldns-keygen -a ECDSAP256SHA256 -k "$origin") &&
	zsk=$(cd "$Z" && ldns-keygen -a ECDSAP256SHA256 "$origin") &&
	(cd "$Z" && ldns-signzone "$@" -o "$origin" "$origin.zone" "$ksk" "$zsk") ||
		{ echo "signing $origin failed"; exit 1; }
	cp "$Z/$ksk.ds" "$Z/$origin.ds"
	awk '{ for (i = 2; i < NF; i++) if ($i == "DNSKEY") {
		printf "trust-anchors { \"%s\" static-key %s %s %s \"%s\"; };\n", $1, $(i+1), $(i+2), $(i+3), $(i+4)
		exit } }' "$Z/$ksk.key" >> "$Z/anchors.conf"
}
sign signed.test
sign nsec3.test -n -t 0
sign bogus.test -i 20190101000000 -e 20200101000000

# --- NSD ---------------------------------------------------------------------

mkdir -p "$WORK/nsd"
cat > "$WORK/nsd/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$NSD_PORT
    username: ""
    chroot: ""
    zonesdir: "$Z"
    database: ""
    zonelistfile: "$WORK/nsd/zone.list"
    pidfile: "$WORK/nsd/nsd.pid"
    xfrdfile: "$WORK/nsd/xfrd.state"
    xfrdir: "$WORK/nsd"
    logfile: "$WORK/nsd/nsd.log"
    server-count: 1
    hide-version: yes
remote-control:
    control-enable: no
CONF
for z in signed.test nsec3.test bogus.test; do
	printf 'zone:\n    name: %s\n    zonefile: %s.zone.signed\n' "$z" "$z" >> "$WORK/nsd/nsd.conf"
done
nsd -d -c "$WORK/nsd/nsd.conf" 2>>"$WORK/nsd/nsd.log" &
PIDS+=("$!")
wait_until 10 sh -c "dig +time=1 +tries=1 @127.0.0.1 -p $NSD_PORT www.bogus.test +short | grep -q 192.0.2.10" ||
	{ echo "nsd did not start:"; cat "$WORK/nsd/nsd.log"; exit 1; }

# --- Unbound -----------------------------------------------------------------

mkdir -p "$WORK/unbound"
cat > "$WORK/unbound/unbound.conf" <<CONF
server:
    interface: 127.0.0.1@$UNB_PORT
    port: $UNB_PORT
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$WORK/unbound"
    pidfile: "$WORK/unbound/unbound.pid"
    logfile: "$WORK/unbound/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "validator iterator"
    val-permissive-mode: no
    qname-minimisation: no
    aggressive-nsec: no
    local-zone: "test." nodefault
    trust-anchor-file: "$Z/signed.test.ds"
    trust-anchor-file: "$Z/nsec3.test.ds"
    trust-anchor-file: "$Z/bogus.test.ds"
remote-control:
    control-enable: no
CONF
for z in signed.test nsec3.test bogus.test; do
	printf 'stub-zone:\n    name: %s\n    stub-addr: 127.0.0.1@%s\n' "$z" "$NSD_PORT" >> "$WORK/unbound/unbound.conf"
done
unbound -d -c "$WORK/unbound/unbound.conf" 2>>"$WORK/unbound/unbound.log" &
PIDS+=("$!")
wait_until 10 sh -c "dig +time=1 +tries=1 @127.0.0.1 -p $UNB_PORT ns1.signed.test +short | grep -q 127.0.0.1" ||
	{ echo "unbound did not start:"; cat "$WORK/unbound/unbound.log"; exit 1; }

# --- the flag mirror -----------------------------------------------------------

python3 "$(dirname "$0")/flagupstream.py" $FLAG_PORT 120 &
PIDS+=("$!")
wait_until 10 sh -c "dig +time=1 +tries=1 @127.0.0.1 -p $FLAG_PORT ready.flags.test TXT +short | grep -q edns=" ||
	{ echo "flagupstream.py did not start"; exit 1; }

# --- fdtool ------------------------------------------------------------------

declare -A FD_PID
# fdtool_start PORT UPSTREAM_PORT: a server on 127.0.0.1:PORT with its control
# socket at $WORK/fd-PORT.sock and its log in $WORK/fd-PORT.log
fdtool_start() {
	local port=$1 up=$2
	"$FDTOOL" server --listen 127.0.0.1:"$port" --upstream 127.0.0.1:"$up" --no-hosts \
		--control "$WORK/fd-$port.sock" 2>"$WORK/fd-$port.log" &
	PIDS+=("$!")
	FD_PID[$port]=$!
	wait_until 10 sh -c "test -S $WORK/fd-$port.sock &&
		dig +time=1 +tries=1 @127.0.0.1 -p $port ready.invalid | grep -q status:" ||
		{ echo "fdtool on port $port did not start:"; cat "$WORK/fd-$port.log"; exit 1; }
}
fdtool_start $FD_NSD $NSD_PORT
fdtool_start $FD_UNB $UNB_PORT
fdtool_start $FD_FLAG $FLAG_PORT

# still_up: stop here if an fdtool died (the rest would only time out)
still_up() {
	local port state
	for port in "${!FD_PID[@]}"; do
		state=$(sed 's/.*) //' "/proc/${FD_PID[$port]}/stat" 2>/dev/null | cut -d' ' -f1)
		[ -n "$state" ] && [ "$state" != Z ] && continue
		not_ok "fdtool on port $port still running (it died; $WORK/fd-$port.log ends: $(tail -2 "$WORK/fd-$port.log" | tr '\n' ' '))"
		finish
	done
}

# --- helpers -----------------------------------------------------------------

dg() {	# dg PORT ARGS...: dig at 127.0.0.1:PORT
	local port=$1
	shift
	dig +time=2 +tries=1 @127.0.0.1 -p "$port" "$@"
}

kd() {	# kd PORT ARGS...: kdig at 127.0.0.1:PORT (no EDNS unless +dnssec)
	local port=$1
	shift
	kdig +timeout=2 +retry=0 @127.0.0.1 -p "$port" "$@"
}

dv() {	# dv PORT ZONE ARGS...: delv at 127.0.0.1:PORT, ZONE's KSK the only trust anchor
	local port=$1 zone=$2
	shift 2
	timeout 10 delv @127.0.0.1 -p "$port" -a "$Z/anchors.conf" +root="$zone" "$@"
}

upstream_queries() {	# upstream_queries PORT: that fdtool's counter
	"$FDTOOL" control --socket "$WORK/fd-$1.sock" get all-outqueries 2>/dev/null
}

# ask ID PORT TOOL ARGS...: one query (or one delv run) through the fdtool on
# PORT; its output in $Q/ID, whether it went upstream in $Q/ID.up
FD_OUT=()
ask() {
	local id=$1 port=$2 before after
	shift 2
	before=$(upstream_queries "$port")
	"$@" > "$Q/$id" 2>&1
	after=$(upstream_queries "$port")
	echo "${before:-none} ${after:-none}" > "$Q/$id.up"
	FD_OUT+=("$id")
}

fresh() {	# fresh ID: that answer was fetched from the upstream
	local before after
	read -r before after < "$Q/$1.up"
	[ "$after" -gt "$before" ] 2>/dev/null
}

cached() {	# cached ID: that answer came from the cache (no upstream query)
	local before after
	read -r before after < "$Q/$1.up"
	[ "$after" -eq "$before" ] 2>/dev/null
}

# explain "what" command...: like check, but a failing command's output
# (one line: what was wrong) goes into the "not ok" line
explain() {
	local what=$1 why
	shift
	if why=$("$@" 2>&1); then ok "$what"; else not_ok "$what: ${why:-failed}"; fi
}

# records FILE SECTION...: the records of dig's or kdig's output in those
# sections (ANSWER, AUTHORITY, ADDITIONAL), TTL left out, sorted
records() {
	local file=$1
	shift
	awk -v want=" $* " '
		/^;; [A-Z]+ (PSEUDO)?SECTION:/ { sec = $2; next }
		/^;/ || NF == 0 { next }
		index(want, " " sec " ") { $2 = ""; print }' "$file" | sort
}

# dnssec_records FILE SECTION...: the RRSIG, NSEC, NSEC3 and DS records there
dnssec_records() {
	records "$@" | awk '$3 ~ /^(RRSIG|NSEC|NSEC3|DS)$/'
}

tally() {	# tally FILE SECTION...: "2 A, 1 RRSIG": the types of the records there
	records "$@" | awk '{ print $3 }' | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { if (!NR) printf "nothing" }'
}

ndnssec() {	# ndnssec FILE: how many in all sections
	dnssec_records "$1" ANSWER AUTHORITY ADDITIONAL | wc -l
}

status() {	# status FILE: NOERROR, NXDOMAIN, SERVFAIL ... of dig's or kdig's output
	sed -n 's/.*status: \([A-Z]*\).*/\1/p' "$1" | head -1
}

# flag FILE FLAG: the header in FILE has FLAG (qr aa tc rd ra ad cd)
flag() {
	grep -Eiq "^;; flags:([a-z ]* )?$2( [a-z ]*)?;" "$1"
}

# verify_do OUT REF: the answer in $Q/OUT (a DO client's, through fdtool)
# against $Q/REF (NSD's own to the same query): same status, same answer
# section, the same DNSSEC records in the answer and authority sections, and
# an additional section either left out or whole
verify_do() {
	local out=$Q/$1 ref=$Q/$2
	[ "$(status "$out")" = "$(status "$ref")" ] ||
		{ echo "status '$(status "$out")', NSD said $(status "$ref")"; return 1; }
	[ "$(records "$out" ANSWER)" = "$(records "$ref" ANSWER)" ] ||
		{ echo "answer section has $(tally "$out" ANSWER), NSD's $(tally "$ref" ANSWER)"; return 1; }
	[ "$(dnssec_records "$out" ANSWER AUTHORITY)" = "$(dnssec_records "$ref" ANSWER AUTHORITY)" ] ||
		{ echo "$(dnssec_records "$out" ANSWER AUTHORITY | wc -l) DNSSEC records in answer+authority, NSD sent $(dnssec_records "$ref" ANSWER AUTHORITY | wc -l)"; return 1; }
	[ -z "$(records "$out" ADDITIONAL)" ] ||
		[ "$(records "$out" ADDITIONAL)" = "$(records "$ref" ADDITIONAL)" ] ||
		{ echo "additional section partial"; return 1; }
}

# verify_plain OUT REF QTYPE: the answer in $Q/OUT (a client's without DO,
# through fdtool) against $Q/REF (NSD's own to a query without DO): same
# status and answer section (so DNSSEC records there only if QTYPE is one), no
# DNSSEC records in the other sections (but for QTYPE's: NSD leaves out the
# RRSIGs of its NS and glue, a forwarder may keep them for an RRSIG query),
# and the SOA in the authority section of a negative answer
verify_plain() {
	local out=$Q/$1 ref=$Q/$2 qtype=$3
	[ "$(status "$out")" = "$(status "$ref")" ] ||
		{ echo "status '$(status "$out")', NSD said $(status "$ref")"; return 1; }
	[ "$(records "$out" ANSWER)" = "$(records "$ref" ANSWER)" ] ||
		{ echo "answer section has $(tally "$out" ANSWER), NSD's $(tally "$ref" ANSWER)"; return 1; }
	[ -z "$(dnssec_records "$out" AUTHORITY ADDITIONAL | awk -v t="$qtype" '$3 != t')" ] ||
		{ echo "authority and additional sections have $(tally "$out" AUTHORITY ADDITIONAL)"; return 1; }
	[ -n "$(records "$out" ANSWER)" ] || records "$out" AUTHORITY | awk '$3 == "SOA" { f = 1 } END { exit !f }' ||
		{ echo "negative answer without the SOA"; return 1; }
}

# --- 0. what the upstream is asked ---------------------------------------------

# saw ID PATTERN: flagupstream.py's answer in $Q/ID says PATTERN ("edns=1 do=1 cd=0 ...")
saw() {
	local said
	said=$(records "$Q/$1" ANSWER | awk '$3 == "TXT" { print $4, $5, $6, $7, $8 }' | tr -d '"')
	case $said in *"$2"*) ;; *) echo "the upstream saw '${said:-nothing}'"; return 1;; esac
}
ask f.noedns $FD_FLAG dg $FD_FLAG q1.flags.test TXT +noedns
ask f.edns $FD_FLAG dg $FD_FLAG q2.flags.test TXT
ask f.do $FD_FLAG dg $FD_FLAG q3.flags.test TXT +dnssec
ask f.cd $FD_FLAG kd $FD_FLAG q4.flags.test TXT +cdflag
ask f.cddo $FD_FLAG dg $FD_FLAG q5.flags.test TXT +cdflag +dnssec
check "0. a first query is fetched (the counter that tells cache from upstream works)" fresh f.noedns
explain "0. client without EDNS: asked upstream with EDNS, DO=1, CD=0" saw f.noedns "edns=1 do=1 cd=0"
explain "0. client with EDNS, DO=0: asked upstream with DO=1, CD=0" saw f.edns "edns=1 do=1 cd=0"
explain "0. client with DO=1: asked upstream with DO=1, CD=0" saw f.do "edns=1 do=1 cd=0"
explain "0. client with CD=1, no EDNS: asked upstream with DO=1, CD=1" saw f.cd "edns=1 do=1 cd=1"
explain "0. client with CD=1 and DO=1: asked upstream with DO=1, CD=1" saw f.cddo "edns=1 do=1 cd=1"
# one name asked with CD=0 and CD=1: two upstream queries, two cache entries
ask f.same.cd0.1 $FD_FLAG dg $FD_FLAG same.flags.test TXT
ask f.same.cd1.1 $FD_FLAG dg $FD_FLAG same.flags.test TXT +cdflag
ask f.same.cd0.2 $FD_FLAG dg $FD_FLAG same.flags.test TXT
ask f.same.cd1.2 $FD_FLAG dg $FD_FLAG same.flags.test TXT +cdflag
explain "0. CD=1 after a cached CD=0 answer: asked with CD=1" saw f.same.cd1.1 "cd=1"
check "0. ... fetched, not the CD=0 answer from the cache" fresh f.same.cd1.1
explain "0. CD=0 again: the CD=0 answer" saw f.same.cd0.2 "cd=0"
check "0. ... from the cache" cached f.same.cd0.2
explain "0. CD=1 again: the CD=1 answer" saw f.same.cd1.2 "cd=1"
check "0. ... from the cache" cached f.same.cd1.2

still_up
# --- 1. delv through fdtool -> NSD ---------------------------------------------

# validated ID [negative]: delv's output in $Q/ID says "fully validated"
# (for a negative answer: "negative response, fully validated")
validated() {
	local want="; fully validated"
	[ "${2:-}" = negative ] && want="; negative response, fully validated"
	grep -qx -- "$want" "$Q/$1" ||
		{ echo "delv said: $(head -2 "$Q/$1" | tr -s '\n\t ' ' ')"; return 1; }
}

# the harness first: delv straight at NSD (the case's names are fetched later)
DELV_CASES="v.a:signed.test:www2.signed.test:A: v.nx:signed.test:nope2.signed.test:A:negative
	v.wc:signed.test:c.wild.signed.test:A: v.nd:signed.test:www2.signed.test:TXT:negative
	v.n3nx:nsec3.test:gone.nsec3.test:A:negative v.n3wc:nsec3.test:c.wild.nsec3.test:A:"
for c in $DELV_CASES; do
	IFS=: read -r id zone name type neg <<< "$c"
	dv $NSD_PORT "$zone" "$name" "$type" > "$Q/$id.nsd" 2>&1
	explain "1. harness: delv straight at NSD: $name $type validated" validated "$id.nsd" "$neg"
done
dv $NSD_PORT bogus.test www.bogus.test A > "$Q/v.bogus.nsd" 2>&1
check "1. harness: delv straight at NSD: www.bogus.test not validated" \
	sh -c "! grep -q 'fully validated' '$Q/v.bogus.nsd' && grep -q 'resolution failed' '$Q/v.bogus.nsd'"
for round in 1 2; do
	for c in $DELV_CASES; do
		IFS=: read -r id zone name type neg <<< "$c"
		ask "$id.$round" $FD_NSD dv $FD_NSD "$zone" "$name" "$type"
		explain "1. delv through fdtool: $name $type validated$([ $round = 2 ] && echo ', again')" \
			validated "$id.$round" "$neg"
		if [ $round = 1 ]; then
			check "1. ... fetched" fresh "$id.$round"
		else
			check "1. ... from the cache" cached "$id.$round"
		fi
	done
done
ask v.bogus $FD_NSD dv $FD_NSD bogus.test www.bogus.test A
check "1. delv through fdtool: www.bogus.test (expired) not validated" \
	sh -c "! grep -q 'fully validated' '$Q/v.bogus' && grep -q 'resolution failed' '$Q/v.bogus'"

still_up
# --- 2, 3. DNSSEC records to DO clients only; AA never -----------------------

# Each case: ID, name, type, and which client asks first (do or plain).
# "do" is kdig +dnssec; "plain" is kdig without EDNS; "edns" is dig with EDNS
# but DO=0.  Each is checked against NSD's own answer to the same query.
# In turn: first, second, first again, second again (the last two from the cache),
# then the EDNS client.
RECORD_CASES="a:www.signed.test:A:do aaaa:www.signed.test:AAAA:plain
	txt:txt.signed.test:TXT:plain
	nx:nope.signed.test:A:do nd:www.signed.test:TXT:plain
	wc:a.wild.signed.test:A:do ds:sub.signed.test:DS:plain
	nsec:www.signed.test:NSEC:do sig:www.signed.test:RRSIG:plain
	n3nx:nope.nsec3.test:A:do n3nd:www.nsec3.test:TXT:plain
	n3wc:b.wild.nsec3.test:A:plain"
ask_kind() {	# ask_kind ID KIND NAME TYPE: through fdtool -> NSD
	case $2 in
	do) kd $FD_NSD "$3" "$4" +dnssec ;;
	plain) kd $FD_NSD "$3" "$4" ;;
	edns) dg $FD_NSD "$3" "$4" ;;
	esac
}
for c in $RECORD_CASES; do
	IFS=: read -r id name type first <<< "$c"
	kd $NSD_PORT "$name" "$type" +dnssec > "$Q/$id.do.nsd" 2>&1
	kd $NSD_PORT "$name" "$type" > "$Q/$id.plain.nsd" 2>&1
	dg $NSD_PORT "$name" "$type" > "$Q/$id.edns.nsd" 2>&1
	check "2. harness: NSD sends DNSSEC records for $name $type with DO ($(ndnssec "$Q/$id.do.nsd"))" \
		test "$(ndnssec "$Q/$id.do.nsd")" -gt "$(ndnssec "$Q/$id.plain.nsd")"
	second=do
	[ "$first" = do ] && second=plain
	for kind in "$first.1" "$second.1" "$first.2" "$second.2" edns.1; do
		ask "$id.$kind" $FD_NSD ask_kind "$id" "${kind%.*}" "$name" "$type"
		how=
		[ "$kind" = "$first.1" ] && how=", fetched"
		[ "${kind#*.}" = 2 ] && how=", from the cache"
		case $kind in
		do.*) explain "2. $name $type, DO$how: status, answer and $(ndnssec "$Q/$id.do.nsd") DNSSEC records as NSD's" \
			verify_do "$id.$kind" "$id.do.nsd" ;;
		plain.*) explain "2. $name $type, no EDNS$how: status and answer as NSD's, $(ndnssec "$Q/$id.plain.nsd") DNSSEC records" \
			verify_plain "$id.$kind" "$id.plain.nsd" "$type" ;;
		edns.*) explain "2. $name $type, EDNS without DO: status and answer as NSD's, $(ndnssec "$Q/$id.edns.nsd") DNSSEC records" \
			verify_plain "$id.$kind" "$id.edns.nsd" "$type" ;;
		esac
		case $how in
		*fetched) check "2. ... fetched" fresh "$id.$kind" ;;
		*cache) check "2. ... from the cache" cached "$id.$kind" ;;
		esac
	done
done

# 3. AA: NSD sets it; fdtool never does, fresh or cached, whatever the upstream
check "3. harness: NSD sets AA" flag "$Q/a.do.nsd" aa
n_aa=0
first_aa=
headers=0
for id in "${FD_OUT[@]}"; do
	grep -qi '^;; flags:' "$Q/$id" || continue	# delv's output has no header
	headers=$((headers + 1))
	flag "$Q/$id" aa || continue
	n_aa=$((n_aa + 1))
	first_aa=${first_aa:-$id}
done
check "3. AA set in none of fdtool's $headers answers so far${first_aa:+ (set in $n_aa, the first $Q/$first_aa)}" \
	test "$n_aa" -eq 0
# dig sets AD in its queries by default (the "edns" client above); NSD never
# sets it in answers, so neither may fdtool
check "3. harness: dig asked fdtool with AD" grep -q '^;; global options:' "$Q/a.edns.1"
with_ad=
for id in "${FD_OUT[@]}"; do
	flag "$Q/$id" ad && with_ad="$with_ad $id"
done
check "3. AD made up in none of them${with_ad:+ (set in:$with_ad)}" test -z "$with_ad"

still_up
# --- 4. AD through Unbound ------------------------------------------------------

no_flag() {	# no_flag FILE FLAG
	! flag "$@"
}
ask_ad() {	# ask_ad KIND NAME TYPE: through fdtool -> Unbound, dig
	case $1 in
	noad) dg $FD_UNB "$2" "$3" +noadflag ;;
	ad) dg $FD_UNB "$2" "$3" +adflag ;;
	do) dg $FD_UNB "$2" "$3" +noadflag +dnssec ;;
	esac
}
dg $UNB_PORT www.signed.test A +adflag > "$Q/u.ad.unb" 2>&1
dg $UNB_PORT www.signed.test A +noadflag > "$Q/u.noad.unb" 2>&1
dg $UNB_PORT www.signed.test A +noadflag +dnssec > "$Q/u.do.unb" 2>&1
check "4. harness: Unbound sets AD for a client with AD" flag "$Q/u.ad.unb" ad
check "4. harness: Unbound sets AD for a client with DO" flag "$Q/u.do.unb" ad
check "4. harness: Unbound leaves AD clear for a client with neither" no_flag "$Q/u.noad.unb" ad
# ID, name, type, the clients in the order they ask; all again, from the cache
AD_CASES="ua:www.signed.test:A:noad,ad,do ut:txt.signed.test:TXT:ad,noad,do
	un:nope.signed.test:A:do,noad,ad u3:www.nsec3.test:A:noad,do,ad"
for c in $AD_CASES; do
	IFS=: read -r id name type order <<< "$c"
	for round in 1 2; do
		for kind in ${order//,/ }; do
			ask "$id.$kind.$round" $FD_UNB ask_ad "$kind" "$name" "$type"
			how=
			[ $round = 2 ] && how=", from the cache"
			[ $round = 1 ] && [ "$kind" = "${order%%,*}" ] && how=", fetched"
			case $kind in
			noad) check "4. $name $type, neither AD nor DO$how: AD clear" no_flag "$Q/$id.$kind.$round" ad
			      check "4. ... no DNSSEC records" test "$(ndnssec "$Q/$id.$kind.$round")" -eq 0 ;;
			ad) check "4. $name $type, AD$how: AD set" flag "$Q/$id.$kind.$round" ad
			    check "4. ... no DNSSEC records" test "$(ndnssec "$Q/$id.$kind.$round")" -eq 0 ;;
			do) check "4. $name $type, DO$how: AD set" flag "$Q/$id.$kind.$round" ad
			    check "4. ... with DNSSEC records ($(tally "$Q/$id.$kind.$round" ANSWER AUTHORITY))" \
				test "$(ndnssec "$Q/$id.$kind.$round")" -gt 0 ;;
			esac
			case $how in
			*fetched) check "4. ... fetched" fresh "$id.$kind.$round" ;;
			*cache) check "4. ... from the cache" cached "$id.$kind.$round" ;;
			esac
		done
	done
done

still_up
# --- 5. CD: bogus.test -----------------------------------------------------------

# gives ID ADDR: a NOERROR answer with the A record ADDR
gives() {
	[ "$(status "$Q/$1")" = NOERROR ] || { echo "status '$(status "$Q/$1")'"; return 1; }
	records "$Q/$1" ANSWER | awk -v a="$2" '$3 == "A" && $4 == a { f = 1 } END { exit !f }' ||
		{ echo "answer section has $(tally "$Q/$1" ANSWER)"; return 1; }
}
fails() {	# fails ID: SERVFAIL
	[ "$(status "$Q/$1")" = SERVFAIL ] || { echo "status '$(status "$Q/$1")'"; return 1; }
}
dg $UNB_PORT www3.bogus.test A > "$Q/b.cd0.unb" 2>&1
dg $UNB_PORT www3.bogus.test A +cdflag > "$Q/b.cd1.unb" 2>&1
explain "5. harness: Unbound says SERVFAIL for bogus.test with CD=0" fails b.cd0.unb
explain "5. harness: Unbound gives the data with CD=1" gives b.cd1.unb 192.0.2.13
# www: CD=0 first; www2: CD=1 first (then CD=0 must not get the cached CD=1 answer)
ask b1.cd0.1 $FD_UNB dg $FD_UNB www.bogus.test A
ask b1.cd1.1 $FD_UNB dg $FD_UNB www.bogus.test A +cdflag
ask b1.cd0.2 $FD_UNB dg $FD_UNB www.bogus.test A
ask b1.cd1.2 $FD_UNB dg $FD_UNB www.bogus.test A +cdflag
explain "5. www.bogus.test, CD=0: SERVFAIL" fails b1.cd0.1
explain "5. www.bogus.test, CD=1 next: the data" gives b1.cd1.1 192.0.2.10
explain "5. www.bogus.test, CD=0 again: SERVFAIL still" fails b1.cd0.2
explain "5. www.bogus.test, CD=1 again: the data" gives b1.cd1.2 192.0.2.10
check "5. ... from the cache" cached b1.cd1.2
ask b2.cd1.1 $FD_UNB dg $FD_UNB www2.bogus.test A +cdflag
ask b2.cd0.1 $FD_UNB dg $FD_UNB www2.bogus.test A
ask b2.cd1.2 $FD_UNB dg $FD_UNB www2.bogus.test A +cdflag
ask b2.cd0.2 $FD_UNB dg $FD_UNB www2.bogus.test A
explain "5. www2.bogus.test, CD=1 first: the data" gives b2.cd1.1 192.0.2.12
check "5. ... fetched" fresh b2.cd1.1
explain "5. www2.bogus.test, CD=0 with the CD=1 answer cached: SERVFAIL" fails b2.cd0.1
explain "5. www2.bogus.test, CD=1 again: the data" gives b2.cd1.2 192.0.2.12
check "5. ... from the cache" cached b2.cd1.2
explain "5. www2.bogus.test, CD=0 again: SERVFAIL" fails b2.cd0.2
# CD=1 and DO=1: the (expired) signatures come too
ask b3.cddo $FD_UNB dg $FD_UNB txt.bogus.test TXT +cdflag +dnssec
check "5. txt.bogus.test TXT, CD=1 and DO=1: NOERROR with its RRSIG ($(tally "$Q/b3.cddo" ANSWER))" \
	sh -c "[ '$(status "$Q/b3.cddo")' = NOERROR ] && [ '$(records "$Q/b3.cddo" ANSWER | awk '$3 == "RRSIG"' | wc -l)' -ge 1 ]"

still_up
# --- 6. delv through fdtool -> Unbound ---------------------------------------------

for round in 1 2; do
	for c in $DELV_CASES; do
		IFS=: read -r id zone name type neg <<< "$c"
		ask "u$id.$round" $FD_UNB dv $FD_UNB "$zone" "$name" "$type"
		explain "6. delv through fdtool and Unbound: $name $type validated$([ $round = 2 ] && echo ', again')" \
			validated "u$id.$round" "$neg"
		if [ $round = 1 ]; then
			check "6. ... fetched" fresh "u$id.$round"
		else
			check "6. ... from the cache" cached "u$id.$round"
		fi
	done
done
ask uv.bogus $FD_UNB dv $FD_UNB bogus.test www4.bogus.test A
check "6. delv through fdtool and Unbound: www4.bogus.test not validated" \
	sh -c "! grep -q 'fully validated' '$Q/uv.bogus' && grep -q 'resolution failed' '$Q/uv.bogus'"

still_up
finish
