#!/usr/bin/env bash
# --metrics-listen end to end, as root, against a sandboxed server with
# seccomp and a scripted upstream (fakeup2.py): promtool passes GET
# /metrics, values move with queries, 404/405/400 by curl and by raw
# bytes, a slow client and 20 garbage connections while curl still gets
# its 200 quickly, an oversized head refused and closed, the connection
# cap answered at once, no descriptor kept, port 953 bound by the creator
# the server spawns, and a real Prometheus server scraping it.
. "$(dirname "$0")/lib.sh"
need_root
need dig
need curl
need promtool
need prometheus
need python3

FAKEUP="$(dirname "$0")/fakeup2.py"
M=127.0.0.1:9153
URL=http://$M/metrics

nfds() { ls "/proc/$1/fd" | wc -l; }
fds_are() { [ "$(nfds "$SERVER")" -eq "$1" ]; }
code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"; }
# metric NAME [URL]: its value in one scrape
metric() { curl -s -m 5 "${2:-$URL}" | awk -v n="$1" '$1 == n { print $2 }'; }
ms() { date +%s%3N; }

# raw.py: what a client that is not curl does (bounded waits throughout)
cat > "$WORK/raw.py" <<'PY'
import os, socket, sys, time
def conn(port=9153):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s
def answer(s, limit=5.0):
    """All the server sends until it closes (or limit s): (status line, closed)."""
    s.settimeout(limit)
    data, closed = b"", False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            data += b
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    return data.split(b"\r\n", 1)[0].decode(errors="replace"), closed
mode = sys.argv[1]
if mode == "send":		# send BYTES(python escapes): status line and "closed"/"open"
    s = conn()
    s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
    line, closed = answer(s, 2.0)
    print(line, "closed" if closed else "open")
elif mode == "slow":		# half a request, then silence: how long until closed
    s = conn()
    s.sendall(b"GET /metr")
    t0 = time.time()
    line, closed = answer(s, 20.0)
    print("closed" if closed else "open", round(time.time() - t0))
elif mode == "garbage":		# N connections of random bytes, 10 at a time (under
    n, good = int(sys.argv[2]), 0	# the cap): how many got a 4xx and were closed
    for batch in range(0, n, 10):
        socks = [conn() for _ in range(min(10, n - batch))]
        for s in socks:
            s.sendall(os.urandom(2000).replace(b"\n", b"x") + b"\r\n\r\n")
        for s in socks:
            line, closed = answer(s, 3.0)
            good += line.startswith("HTTP/1.1 4") and closed
            s.close()
    print(good)
elif mode == "oversized":	# a head past 8 KiB: status line and "closed"/"open"
    s = conn()
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    line, closed = answer(s, 5.0)
    print(line, "closed" if closed else "open")
elif mode == "hold":		# N silent connections for S seconds
    n, secs = int(sys.argv[2]), float(sys.argv[3])
    socks = [conn() for _ in range(n)]
    print("ready", flush=True)
    time.sleep(secs)
PY
raw() { python3 "$WORK/raw.py" "$@"; }

python3 "$FAKEUP" serve --port 5399 --mode ok --answer 192.0.2.7 \
    --ready "$WORK/fake.ready" --lifetime 170 2>"$WORK/fake.log" &
PIDS+=($!)
wait_until 10 test -e "$WORK/fake.ready" || { echo "fake upstream did not start"; exit 1; }

"$FDTOOL" server --no-config --listen 127.0.0.1 --upstream 127.0.0.1:5399 \
    --control "$WORK/control.sock" --metrics-listen $M 2>"$WORK/server.log" &
SERVER=$!
PIDS+=("$SERVER")
wait_until 10 curl -sf -m 1 -o /dev/null "$URL" ||
	{ echo "server did not serve /metrics:"; cat "$WORK/server.log"; exit 1; }
check "the log names the endpoint" grep -q "serving GET /metrics on tcp:127.0.0.1:9153" \
    "$WORK/server.log"
wait_until 5 test "$(nfds "$SERVER")" -gt 0
FDS0=$(nfds "$SERVER")

# --- the format ----------------------------------------------------------
curl -s -m 5 -D "$WORK/head1" -o "$WORK/m1" "$URL"
check "Content-Type is the exposition format 0.0.4" grep -qi \
    '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$WORK/head1"
promtool check metrics < "$WORK/m1" > "$WORK/promtool1" 2>&1
check "promtool check metrics passes, no lint ($(head -c 300 "$WORK/promtool1"))" \
    test $? -eq 0 -a ! -s "$WORK/promtool1"
# pdns's names since the counters were renamed; the older ones before
Q=fdtool_questions_total
H=fdtool_packetcache_hits_total
grep -q "^$Q " "$WORK/m1" || Q=fdtool_queries_udp_total H=fdtool_cache_hits_total
check "a counter ends in _total" grep -q "^$Q [0-9]" "$WORK/m1"
check "each upstream is labelled" grep -q \
    '^fdtool_upstream_server_[a-z_]*{upstream="127.0.0.1:5399",zone=""} ' "$WORK/m1"
check "one HELP and one TYPE per family" test \
    "$(grep -c '^# TYPE' "$WORK/m1")" -eq "$(grep '^# TYPE' "$WORK/m1" | sort -u | wc -l)"

# --- values move -----------------------------------------------------------
q1=$(metric $Q)
h1=$(metric $H)
for n in a b c; do dig +time=2 +tries=1 @127.0.0.1 $n.example.test >/dev/null; done
dig +time=2 +tries=1 @127.0.0.1 a.example.test >/dev/null
curl -s -m 5 -o "$WORK/m2" "$URL"
q2=$(awk -v n=$Q '$1 == n { print $2 }' "$WORK/m2")
h2=$(awk -v n=$H '$1 == n { print $2 }' "$WORK/m2")
check "queries counted ($q1 -> $q2)" test "$q2" -eq $((q1 + 4))
check "a cache hit counted ($h1 -> $h2)" test "$h2" -eq $((h1 + 1))
if grep -q '^fdtool_answer_latency_seconds_count' "$WORK/m2"; then
	c1=$(awk '$1 == "fdtool_answer_latency_seconds_count" { print $2 }' "$WORK/m1")
	c2=$(awk '$1 == "fdtool_answer_latency_seconds_count" { print $2 }' "$WORK/m2")
	inf=$(awk '$1 == "fdtool_answer_latency_seconds_bucket{le=\"+Inf\"}" { print $2 }' "$WORK/m2")
	# the cache hit is in no bucket (pdns's answers*)
	check "the latency histogram counts answers ($c1 -> $c2, +Inf $inf)" \
	    test "$c2" -ge $((c1 + 3)) -a "$inf" -eq "$c2"
fi
promtool check metrics < "$WORK/m2" >/dev/null 2>&1
check "promtool passes after queries too" test $? -eq 0

# --- statuses, by curl and by raw bytes -----------------------------------
check "HEAD /metrics: 200" test "$(code -I "$URL")" = 200
check "GET /: 404" test "$(code "http://$M/")" = 404
check "GET /metrics/x: 404" test "$(code "http://$M/metrics/x")" = 404
check "POST /metrics: 405" test "$(code -X POST -d x "$URL")" = 405
curl -s -m 5 -X PUT -D "$WORK/head405" -o /dev/null "$URL"
check "405 says Allow: GET, HEAD" grep -qi '^Allow: GET, HEAD' "$WORK/head405"
check "HTTP/1.0: 200" test "$(code -0 "$URL")" = 200
out=$(raw send 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "raw GET with Connection: close: 200, closed ($out)" test "$out" = "HTTP/1.1 200 OK closed"
out=$(raw send 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
check "raw GET keeps the connection ($out)" test "$out" = "HTTP/1.1 200 OK open"
out=$(raw send 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
check "raw BREW: 405 ($out)" test "$out" = "HTTP/1.1 405 Method Not Allowed open"
out=$(raw send 'GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n')
check "raw GET /nothing: 404 ($out)" test "$out" = "HTTP/1.1 404 Not Found open"
out=$(raw send 'hello there\r\n\r\n')
check "raw garbage: 400, closed ($out)" test "$out" = "HTTP/1.1 400 Bad Request closed"
out=$(raw send 'GET /metrics HTTP/1.1\r\n\r\n')
check "raw GET without Host: 400, closed ($out)" test "$out" = "HTTP/1.1 400 Bad Request closed"
out=$(raw oversized)
check "a head past 8 KiB: 431, closed ($out)" \
    test "$out" = "HTTP/1.1 431 Request Header Fields Too Large closed"

# --- slow and garbage clients do not stall anyone -------------------------
raw slow > "$WORK/slow.out" &
SLOW=$!
sleep 0.3
out=$(raw garbage 20)
check "20 garbage connections each got a 4xx and were closed ($out)" test "$out" = 20
t0=$(ms)
c=$(code "$URL")
t=$(($(ms) - t0))
check "curl still gets 200 at once ($c in $t ms)" test "$c" = 200 -a "$t" -lt 1000
dig +time=2 +tries=1 @127.0.0.1 a.example.test >/dev/null
check "DNS is answered meanwhile" test $? -eq 0
wait "$SLOW"
read -r slow_state slow_s < "$WORK/slow.out"
check "the slow client was closed at the idle bound ($slow_state after ${slow_s}s)" \
    test "$slow_state" = closed -a "$slow_s" -ge 9 -a "$slow_s" -le 12

# --- the connection cap: the next one answered at once, not blocked -------
: > "$WORK/hold.out"
raw hold 16 4 > "$WORK/hold.out" &
HOLD=$!
wait_until 5 grep -q ready "$WORK/hold.out"
sleep 0.3
t0=$(ms)
c=$(code "$URL")
t=$(($(ms) - t0))
check "over the cap: 503 at once ($c in $t ms)" test "$c" = 503 -a "$t" -lt 1000
dig +time=2 +tries=1 @127.0.0.1 b.example.test >/dev/null
check "DNS is answered with every metrics slot taken" test $? -eq 0
wait "$HOLD"
check "a slot again once they leave" wait_until 5 test "$(code "$URL")" = 200

# --- nothing kept ----------------------------------------------------------
check "descriptors back to $FDS0 (now $(nfds "$SERVER"))" wait_until 5 fds_are "$FDS0"
check "the server runs on (no SIGSYS, no crash)" kill -0 "$SERVER"
check "no warning about metrics in the log" \
    test "$(grep -c 'warning.*metrics' "$WORK/server.log")" -eq 0
stop_pid "$SERVER"

# --- port 953: from the creator the server spawns -------------------------
"$FDTOOL" server --no-config --listen 127.0.0.2 --upstream 127.0.0.1:5399 \
    --control "$WORK/control2.sock" --metrics-listen 127.0.0.1:953 2>"$WORK/server953.log" &
SERVER=$!
PIDS+=("$SERVER")
if wait_until 10 curl -sf -m 1 -o /dev/null http://127.0.0.1:953/metrics; then
	ok "port 953 served"
	check "its creator was allowed tcp:127.0.0.1:953 and granted it" grep -q \
	    "granted tcp 127.0.0.1:953" "$WORK/server953.log"
	curl -s -m 5 http://127.0.0.1:953/metrics | promtool check metrics >/dev/null 2>&1
	check "promtool passes on port 953" test $? -eq 0
	check "the server runs as nobody" test "$(status_field "$SERVER" Uid | awk '{ print $1 }')" \
	    = "$(id -u nobody)"

	# --- a real Prometheus scrapes it ---------------------------------
	cat > "$WORK/prometheus.yml" <<'Y'
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fdtool
    static_configs:
      - targets: ['127.0.0.1:953']
Y
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	    --web.listen-address=127.0.0.1:9090 >"$WORK/prometheus.log" 2>&1 &
	PROM=$!
	PIDS+=("$PROM")
	dig +short +time=2 +tries=1 @127.0.0.2 a.metrics.test >/dev/null
	api() { curl -s -m 2 "http://127.0.0.1:9090/api/v1/$1"; }
	scraped() { api 'query?query=fdtool_questions_total' | grep -q '"value":\[[0-9.]*,"[1-9]'; }
	check "Prometheus scrapes /metrics: fdtool_questions_total is there" wait_until 20 scraped
	api targets > "$WORK/targets.json"
	check "the target is up, its last scrape without error" grep -q \
	    '"lastError":"","lastScrape":"[^"]*","lastScrapeDuration":[0-9.e-]*,"health":"up"' \
	    "$WORK/targets.json"
	api 'query?query=fdtool_answer_latency_seconds_count' > "$WORK/hist.json"
	check "the latency histogram is a series Prometheus keeps" grep -q '"resultType":"vector","result":\[{' \
	    "$WORK/hist.json"
	stop_pid "$PROM"
else
	not_ok "port 953 served"
	sed 's/^/    /' "$WORK/server953.log"
fi
stop_pid "$SERVER"

finish
