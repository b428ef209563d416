# Shared by upstreams.sh, access.sh, zones.sh and resolvconf.sh: scripted
# fake upstreams (fakeup2.py), fdtool servers that each have a control
# socket of their own, and dig runs that keep their output and how long
# they took.  Source it after lib.sh.

FAKEUP="$(dirname "${BASH_SOURCE[0]}")/fakeup2.py"

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# start_fake TAG serve-options...: a fakeup2.py upstream, logging to
# $WORK/TAG.fake.log; its pid in FAKE_PID (it is in PIDS too).
start_fake() {
	local tag=$1
	shift
	python3 "$FAKEUP" serve --ready "$WORK/$tag.ready" --lifetime 150 "$@" \
		2>"$WORK/$tag.fake.log" &
	FAKE_PID=$!
	PIDS+=("$FAKE_PID")
	wait_until 10 test -e "$WORK/$tag.ready" ||
		{ echo "fake upstream $tag did not start:"; cat "$WORK/$tag.fake.log"; exit 1; }
}

# count FILE KEY: how often a fake with --count FILE saw KEY ("total", or
# "NAME. TYPE CLASS" with the name in lower case); 0 if never
count() {
	local n
	[ -e "$1" ] || { echo 0; return; }
	n=$(awk -v k="$2" '{ v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == k) print v }' "$1")
	echo "${n:-0}"
}

ctl() {
	local tag=$1
	shift
	"$FDTOOL" control --socket "$WORK/$tag.sock" --timeout 3 "$@"
}

# start_server TAG server-options...: fdtool server with the control socket
# $WORK/TAG.sock and its log in $WORK/TAG.log; waits (at most 10 s, less
# if it exits) until the control socket answers.  Records the start as a
# check; on failure prints the log and returns 1 (the cases that need this
# server then fail on their own).  Its pid in SERVER_PID.
start_server() {
	local tag=$1 deadline=$((SECONDS + 10))
	shift
	"$FDTOOL" server --control "$WORK/$tag.sock" "$@" 2>"$WORK/$tag.log" &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	until ctl "$tag" ping >/dev/null 2>&1; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			not_ok "server $tag started ($*)"
			echo "--- $WORK/$tag.log:"
			sed 's/^/    /' "$WORK/$tag.log"
			return 1
		fi
		sleep 0.1
	done
	ok "server $tag started"
}

# dq OUT dig-arguments...: one dig (one try, 5 s), its output in $WORK/OUT,
# how long it took in MS (milliseconds)
dq() {
	local out=$WORK/$1 t0
	shift
	t0=$(now_ms)
	dig +time=5 +tries=1 "$@" >"$out" 2>&1
	MS=$(($(now_ms) - t0))
}

# status OUT: the rcode dig printed ("none" if there was no reply)
status() {
	local s
	s=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' "$WORK/$1" | head -n1)
	echo "${s:-none}"
}

# answer OUT: the answer section's data, one per line
answer() {
	awk '/^;; ANSWER SECTION:/ { a = 1; next } /^$/ { a = 0 } a { print $NF }' "$WORK/$1"
}

# answer_ttl OUT: the first answer record's TTL
answer_ttl() {
	awk '/^;; ANSWER SECTION:/ { a = 1; next } /^$/ { a = 0 } a { print $2; exit }' "$WORK/$1"
}

# authority_types OUT: the authority section's record types
authority_types() {
	awk '/^;; AUTHORITY SECTION:/ { a = 1; next } /^$/ { a = 0 } a { print $4 }' "$WORK/$1"
}

# has_ede OUT CODE: dig shows an Extended DNS Error with that INFO-CODE
has_ede() {
	grep -q "EDE: $2\b" "$WORK/$1"
}

# flags OUT: the header flags dig printed, e.g. "qr rd ra"
flags() {
	sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' "$WORK/$1" | head -n1
}

# summary OUT: "STATUS [answers] N ms" for check messages
summary() {
	echo "$(status "$1") [$(answer "$1" | tr '\n' ' ' | sed 's/ $//')] ${MS} ms"
}

# is OUT STATUS [DATA]: dig got STATUS and (if given) DATA among the answers
is() {
	[ "$(status "$1")" = "$2" ] || return 1
	[ $# -lt 3 ] || answer "$1" | grep -qxF "$3"
}

# took OUT STATUS LO HI: the last dq (into OUT) got STATUS, and took at
# least LO and less than HI milliseconds (so a timing check never passes
# on a wrong answer)
took() {
	[ "$(status "$1")" = "$2" ] && [ "$MS" -ge "$3" ] && [ "$MS" -lt "$4" ]
}
