# Shared by the integration tests: checks that count, processes we start
# (and only those) stopped by pid, an NSD authoritative upstream on
# loopback.  Source it; call finish at the end.
set -u

# The tests start servers on fixed loopback ports (53 among them): only in
# a network namespace of their own, never on the host's.  netns_run (as
# ctest starts us) makes one and names it in FDTOOL_TEST_NETNS.
if [ "${FDTOOL_TEST_NETNS:-none}" != "$(readlink /proc/self/ns/net)" ]; then
	echo "SKIP: not in a network namespace of its own: run through netns_run (ctest does)"
	exit 77
fi

FDTOOL=${FDTOOL:?FDTOOL must point at the fdtool binary}
WORK=$(mktemp -d /tmp/fdtool-it.XXXXXX)
chmod 755 "$WORK"
PIDS=()
passed=0
failed=0

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# keep the logs of a failed run for whoever reads it
	if [ "$failed" -eq 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT

skip() {
	echo "SKIP: $*"
	exit 77
}

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

# check "what" command...: passes when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (port 53, uid change, capabilities)"
}

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

# wait_until SECONDS command...
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# The zone every test uses: plain, short-TTL, negative and oversized answers.
write_zone() {
	local zone=$WORK/example.test.zone i
	cat > "$zone" <<'ZONE'
$ORIGIN example.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 60
        IN NS  ns1
ns1     IN A   127.0.0.1
www     IN A   192.0.2.1
WwW2    IN A   192.0.2.3
short   30 IN A 192.0.2.2
other   IN A   192.0.2.4
mx      IN MX  10 www
ZONE
	for i in $(seq 1 14); do
		printf 'big IN TXT "%s%02d"\n' "$(printf '%0200d' 0 | tr 0 b)" "$i" >> "$zone"
	done
	for i in $(seq 1 300); do	# more records than a naive template tracks
		printf 'many IN A 10.0.%d.%d\n' $((i / 256)) $((i % 256)) >> "$zone"
	done
	printf '*.gen IN A 192.0.2.99\n' >> "$zone"	# so generated names exist
}

# start_nsd PORT: an authoritative server for example.test on 127.0.0.1:PORT
start_nsd() {
	local port=$1 dir=$WORK/nsd-$1
	mkdir -p "$dir"
	write_zone
	cat > "$dir/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$port
    username: ""
    chroot: ""
    zonesdir: "$WORK"
    database: ""
    zonelistfile: "$dir/zone.list"
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    logfile: "$dir/nsd.log"
    server-count: 1
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: example.test
    zonefile: example.test.zone
CONF
	nsd -d -c "$dir/nsd.conf" 2>>"$dir/nsd.log" &
	NSD_PID=$!
	PIDS+=("$NSD_PID")
	wait_until 10 dig +time=1 +tries=1 @127.0.0.1 -p "$port" www.example.test +short >/dev/null ||
		{ echo "nsd did not start:"; cat "$dir/nsd.log"; exit 1; }
}

stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# status_field PID KEY
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}
