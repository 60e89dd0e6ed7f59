# Shared by packaging/test-deb.sh and packaging/test-container.sh (sourced, bash).

PASSED=0
FAILED=0
STEP_T0=$(date +%s.%N)
TIMINGS=()

log() { printf '%s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); log "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); log "FAIL - $*"; }
die() { log "FAIL - $*"; FAILED=$((FAILED + 1)); summary; exit 1; }

# check "what" command...: a check that counts.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# step NAME: starts timing a step (and ends the previous one).
step() {
	local now; now=$(date +%s.%N)
	[ -n "${STEP_NAME:-}" ] &&
		TIMINGS+=("$(awk -v n="$STEP_NAME" -v a="$now" -v b="$STEP_T0" 'BEGIN { printf "%-48s %7.1f s", n, a - b }')")
	STEP_NAME=$1
	STEP_T0=$now
	[ -n "$1" ] && log "== $1 =="
	return 0
}

summary() {
	step ""
	log "-- timings --"
	local t
	for t in "${TIMINGS[@]}"; do log "$t"; done
	log "$PASSED passed, $FAILED failed"
}

# A TCP port on 127.0.0.1 nobody listens on right now.
# A port below Linux's ephemeral range (32768-60999), where no outgoing connection of
# another process can take it between this check and the bind.
free_port() {
	node -e '
		const net = require("net");
		const tryPort = (n) => {
			if (n === 0) { console.error("no free port"); process.exit(1); }
			const port = 20000 + Math.floor(Math.random() * 12000);
			const s = net.createServer();
			s.once("error", () => tryPort(n - 1));
			s.listen(port, "127.0.0.1", () => s.close(() => console.log(port)));
		};
		tryPort(100);'
}

# The modules the YAML file enables: entries under `modules:` without `enabled: false`.
enabled_modules() {
	awk '
		/^modules:/ { in_mod = 1; next }
		in_mod && /^[^ #]/ { in_mod = 0 }
		!in_mod { next }
		/^  [a-z0-9_-]+:/ {
			if (name != "" && !off) print name
			name = $1; sub(/:$/, "", name); off = 0
			if ($0 ~ /enabled:[ ]*false/) off = 1
			next
		}
		/^    enabled:[ ]*false/ { off = 1 }
		END { if (name != "" && !off) print name }
	' "$1"
}

# wait_for_log FILE REGEX PID SECONDS: until the log has the line, the process exits
# (false) or the time runs out (false).
wait_for_log() {
	local file=$1 re=$2 pid=$3 deadline=$((SECONDS + $4))
	while [ $SECONDS -lt $deadline ]; do
		grep -Eq "$re" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { grep -Eq "$re" "$file" 2>/dev/null; return; }
		sleep 0.1
	done
	return 1
}

# The integration tests' Node packages (ws, @exposr/ws-multiplex) for smoke.mjs.
ensure_node_modules() {
	local dir=$1/tests/integration
	if [ ! -d "$dir/node_modules/@exposr/ws-multiplex" ]; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

# smoke ARGS...: runs packaging/smoke.mjs, adds its counts to ours.
smoke() {
	local out rc=0
	out=$(mktemp)
	node "$PKG_DIR/smoke.mjs" "$@" | tee "$out" || rc=$?
	local p f
	read -r p f < <(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' "$out" | tail -1)
	PASSED=$((PASSED + ${p:-0}))
	FAILED=$((FAILED + ${f:-1}))
	WAITING_NOTES+=("$(grep '^waiting - ' "$out" || true)")
	rm -f "$out"
	return $rc
}
WAITING_NOTES=()

# Node.js (smoke.mjs), procps (ps) and curl, from Debian's packages where missing.
ensure_tools() {
	local missing=()
	command -v node >/dev/null 2>&1 || missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
	command -v ps >/dev/null 2>&1 || missing+=(procps)
	command -v curl >/dev/null 2>&1 || missing+=(curl)
	if [ ${#missing[@]} -gt 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
}

# wait_exit PID SECONDS: the process's exit status; past the time it is killed (124).
wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2)) rc=0
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid" || rc=$?
	return $rc
}

# descendant_named PID NAME: PID itself or its first descendant (5 levels) running NAME.
descendant_named() {
	local pids=$1 name=$2 p next
	for _ in 1 2 3 4 5 6; do
		for p in $pids; do
			[ "$(ps -o comm= -p "$p" 2>/dev/null)" = "$name" ] && { echo "$p"; return 0; }
		done
		next=$(for p in $pids; do ps -o pid= --ppid "$p"; done | tr -d ' ')
		[ -n "$next" ] || return 1
		pids=$next
	done
	return 1
}

# exposr_smoke LABEL SERVER_URL INGRESS_PORT INGRESS_HOST TUNNEL COMMAND...: a page through
# a tunnel with the exposr client. A target on a free loopback port serves a page;
# `COMMAND -s SERVER_URL --non-interactive tunnel connect TUNNEL <target>` runs in the
# background (COMMAND is the client: a path, or a container run ending in `exposr`); the
# page must come back through the HTTP ingress on 127.0.0.1:INGRESS_PORT with
# Host: TUNNEL.INGRESS_HOST within 20 s; then Ctrl-C (SIGINT) must end the client with 0.
exposr_smoke() {
	local label=$1 server=$2 iport=$3 ihost=$4 id=$5; shift 5
	local tport page out client target_pid client_pid pid rc=0 deadline got=""
	tport=$(free_port)
	page="exposr smoke page $RANDOM$RANDOM"
	out=$(mktemp)
	node -e 'require("http").createServer((q, s) => s.end(process.argv[2])).listen(+process.argv[1], "127.0.0.1")' \
		"$tport" "$page" &
	target_pid=$!
	"$@" -s "$server" --non-interactive tunnel connect "$id" "http://127.0.0.1:$tport" >"$out" 2>&1 &
	client=$!
	deadline=$((SECONDS + 20))
	while [ $SECONDS -lt "$deadline" ] && kill -0 "$client" 2>/dev/null; do
		got=$(curl -s --max-time 2 -H "Host: $id.$ihost" "http://127.0.0.1:$iport/" || true)
		[ "$got" = "$page" ] && break
		sleep 0.2
	done
	if [ "$got" = "$page" ]; then
		ok "$label: exposr tunnel connect carries a page (http://$id.$ihost/)"
	else
		fail "$label: no page through the tunnel within 20 s (got '${got:0:200}')"
	fi
	client_pid=$(descendant_named "$client" exposr) || client_pid=
	if [ -n "$client_pid" ]; then
		kill -INT "$client_pid"
		wait_exit "$client" 10 || rc=$?
		check "$label: Ctrl-C (SIGINT) ends exposr with exit 0 (got $rc)" test "$rc" = 0
	else
		wait_exit "$client" 1 || rc=$?
		fail "$label: exposr had already exited ($rc)"
	fi
	grep -q "Deleted tunnel $id" "$out" && ok "$label: exposr deleted the tunnel it created" ||
		fail "$label: exposr did not delete tunnel $id"
	log "--- exposr's log ---"; cat "$out"; log "---"
	kill "$target_pid" 2>/dev/null; wait "$target_pid" 2>/dev/null || true
	rm -f "$out"
}
