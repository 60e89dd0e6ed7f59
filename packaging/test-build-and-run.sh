#!/usr/bin/env bash
# The README's first command and then its quick start, as a user runs them: the fenced
# `sh` blocks under "## Quick start" in README.md are read from the README itself and
# run line by line from the repository's directory. Step 1 (build-and-run.sh: build, put
# exposrd and exposr on PATH, start exposrd on port 8080), step 2 (a page on port 3000)
# and step 3 (`exposr ... tunnel connect`) each end in a program that keeps running, so
# their last lines run in the background; step 4 (curl) must print the page. Then Ctrl-C
# on exposr and SIGTERM on exposrd. Debian 12, as root.
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$PKG_DIR")
# shellcheck source=packaging/testlib.sh
source "$PKG_DIR/testlib.sh"

PORT=8080
TARGET_PORT=3000

ensure_tools
work=$(mktemp -d)
server_pid=""
target_pid=""
client_pid=""
cleanup() {
	for p in $client_pid $target_pid $server_pid; do kill -KILL -- -"$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

step "bash packaging/build-and-run.sh (build, then exposrd on port $PORT)"
for p in $PORT $TARGET_PORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "something already listens on port $p, which the quick start uses"
	fi
done
# The quick start's fenced sh blocks, one element each (lines joined by newlines).
mapfile -t -d '' steps < <(awk '/^## Quick start$/ {in_qs = 1; next} in_qs && /^## / {exit}
	in_qs && /^```sh$/ {block = ""; in_block = 1; next}
	in_block && /^```$/ {printf "%s%c", block, 0; in_block = 0; next}
	in_block {block = block (block == "" ? "" : "\n") $0}' "$ROOT/README.md")
[ "${#steps[@]}" -eq 4 ] || die "README.md's quick start has ${#steps[@]} sh blocks, expected 4 steps"
check "step 1 is the first command with the quick start's flags" \
	test "${steps[0]}" = "bash packaging/build-and-run.sh --allow-registration --ingress-http-url http://localhost:$PORT"
(cd "$ROOT" && exec setsid bash -c "exec ${steps[0]}") >"$work/run.log" 2>&1 &
server_pid=$!
# The build comes first: minutes on a small machine.
if ! wait_for_log "$work/run.log" "running with 4 modules" "$server_pid" 900; then
	cat "$work/run.log"
	die "build-and-run.sh did not start exposrd with the default configuration's 4 modules"
fi
ok "exposrd runs from build/ with the default configuration"

step "the README's quick start against it, line by line"
check "exposr is on PATH after the first command" sh -c 'command -v exposr'
page="Hello through the tunnel"
check "the README says step 4 prints '$page'" grep -qF "\`$page\`" "$ROOT/README.md"
# Step 2: every line but the last in the foreground, the server in the background.
mapfile -t step2 <<<"${steps[1]}"
for ((i = 0; i < ${#step2[@]} - 1; i++)); do
	(cd "$ROOT" && bash -c "${step2[$i]}") || die "step 2 failed: ${step2[$i]}"
done
(cd "$ROOT" && exec setsid bash -c "exec ${step2[-1]}") >"$work/target.log" 2>&1 &
target_pid=$!
(cd "$ROOT" && exec setsid bash -c "exec ${steps[2]}") >"$work/exposr.log" 2>&1 &
client_pid=$!
got=""
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ] && kill -0 "$client_pid" 2>/dev/null; do
	got=$(cd "$ROOT" && bash -c "${steps[3]} --max-time 2" 2>/dev/null || true)
	[ "$got" = "$page" ] && break
	sleep 0.2
done
check "step 4, '${steps[3]}', prints the page (got '${got:0:200}')" test "$got" = "$page"
kill -INT "$client_pid"
rc=0
wait_exit "$client_pid" 10 || rc=$?
client_pid=""
check "Ctrl-C (SIGINT) ends exposr with exit 0" test "$rc" = 0
check "exposr said where the tunnel is (Tunnel my-tunnel: http://my-tunnel.localhost:8080/ -> ...)" \
	grep -q "Tunnel my-tunnel: http://my-tunnel.localhost:8080/ -> http://127.0.0.1:3000/" "$work/exposr.log"
log "--- exposr's output ---"; cat "$work/exposr.log"; log "---"
after=$(cd "$ROOT" && bash -c "${steps[3]} --max-time 5" 2>/dev/null || true)
check "after Ctrl-C the client has deleted its tunnel: TUNNEL_NOT_FOUND (got '${after:0:200}')" \
	sh -c "echo '$after' | grep -q TUNNEL_NOT_FOUND"
kill -- -"$target_pid" 2>/dev/null; wait "$target_pid" 2>/dev/null || true
target_pid=""

step "stop"
kill -TERM "$server_pid"
rc=0
wait_exit "$server_pid" 20 || rc=$?
server_pid=""
check "SIGTERM stops exposrd with exit 0" test "$rc" = 0

for n in "${WAITING_NOTES[@]}"; do [ -n "$n" ] && log "$n"; done
summary
[ "$FAILED" -eq 0 ]
