#!/usr/bin/env bash
# The README's first command as a user runs it: `bash packaging/build-and-run.sh` with
# the quick start's flags builds exposrd (Release, into build/) and starts it with the
# default configuration on port 8080; then the quick start against it (an account, a
# tunnel, a tunnel client, a page fetched through the HTTP ingress: packaging/smoke.mjs)
# and SIGTERM. Debian 12, as root.
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$PKG_DIR")
# shellcheck source=packaging/testlib.sh
source "$PKG_DIR/testlib.sh"

PORT=8080
DEFAULT_MODULES=storage-memory,api-v1,transport-ws,ingress-http

ensure_tools
ensure_node_modules "$ROOT"
work=$(mktemp -d)
server_pid=""
cleanup() {
	[ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

step "bash packaging/build-and-run.sh (build, then exposrd on port $PORT)"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	die "something already listens on port $PORT, which the default configuration uses"
fi
bash "$PKG_DIR/build-and-run.sh" --allow-registration \
	--ingress-http-url "http://localhost:$PORT" >"$work/run.log" 2>&1 &
server_pid=$!
# The build comes first: minutes on a small machine.
if ! wait_for_log "$work/run.log" "running with 4 modules" "$server_pid" 900; then
	cat "$work/run.log"
	die "build-and-run.sh did not start exposrd with the default configuration's 4 modules"
fi
ok "exposrd runs from build/ with the default configuration"

step "the README's quick start against it"
smoke --label "build-and-run.sh" --port "$PORT" --modules "$DEFAULT_MODULES" \
	--ingress-domain "localhost:$PORT" || true

step "stop"
kill -TERM "$server_pid"
rc=0
wait_exit "$server_pid" 20 || rc=$?
server_pid=""
check "SIGTERM stops exposrd with exit 0" test "$rc" = 0

for n in "${WAITING_NOTES[@]}"; do [ -n "$n" ] && log "$n"; done
summary
[ "$FAILED" -eq 0 ]
