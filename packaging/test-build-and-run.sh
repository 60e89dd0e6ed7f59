#!/usr/bin/env bash
# The README's first command as a user runs it: `bash packaging/build-and-run.sh` with
# the quick start's flags builds exposrd and exposr (Release, into build/) and starts
# exposrd with the default configuration on port 8080; then the quick start's lines
# against it, as written there:
#
#   (a service on port 3000: here a page served by node on 127.0.0.1:3000)
#   build/exposr -s http://localhost:8080 tunnel connect demo http://localhost:3000
#   curl http://demo.localhost:8080/
#
# then Ctrl-C on exposr and SIGTERM on exposrd. Debian 12, as root.
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
	for p in $client_pid $target_pid $server_pid; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

step "bash packaging/build-and-run.sh (build, then exposrd on port $PORT)"
for p in $PORT $TARGET_PORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "something already listens on port $p, which the quick start uses"
	fi
done
bash "$PKG_DIR/build-and-run.sh" --allow-registration \
	--ingress-http-url "http://localhost:$PORT" >"$work/run.log" 2>&1 &
server_pid=$!
# The build comes first: minutes on a small machine.
if ! wait_for_log "$work/run.log" "running with 4 modules" "$server_pid" 900; then
	cat "$work/run.log"
	die "build-and-run.sh did not start exposrd with the default configuration's 4 modules"
fi
ok "exposrd runs from build/ with the default configuration"

step "the README's quick start against it, with build/exposr"
check "build/exposr was built" test -x "$ROOT/build/exposr"
page="hello through the tunnel $RANDOM$RANDOM"
node -e 'require("http").createServer((q, s) => s.end(process.argv[1])).listen(3000, "127.0.0.1")' \
	"$page" &
target_pid=$!
(cd "$ROOT" && exec build/exposr -s http://localhost:8080 tunnel connect demo http://localhost:3000) \
	>"$work/exposr.log" 2>&1 &
client_pid=$!
got=""
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ] && kill -0 "$client_pid" 2>/dev/null; do
	got=$(curl -s --max-time 2 http://demo.localhost:8080/ || true)
	[ "$got" = "$page" ] && break
	sleep 0.2
done
check "curl http://demo.localhost:8080/ gives the service's page (got '${got:0:200}')" \
	test "$got" = "$page"
kill -INT "$client_pid"
rc=0
wait_exit "$client_pid" 10 || rc=$?
client_pid=""
check "Ctrl-C (SIGINT) ends exposr with exit 0" test "$rc" = 0
check "exposr said where the tunnel is (Tunnel demo: http://demo.localhost:8080/ -> ...)" \
	grep -q "Tunnel demo: http://demo.localhost:8080/ -> http://localhost:3000/" "$work/exposr.log"
log "--- exposr's output ---"; cat "$work/exposr.log"; log "---"
kill "$target_pid" 2>/dev/null; wait "$target_pid" 2>/dev/null || true
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
