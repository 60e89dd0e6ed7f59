#!/usr/bin/env bash
# Benchmark of exposrd: tunnel against direct, on loopback. Builds exposrd and the bench
# tools in Release (unless --build-dir names an existing build), starts exposrd, the C
# load client (tests/bench/load_client) and the C target (tests/bench/target), and prints
# one table. The 1 KiB and download runs are also made through a second tunnel carried by
# the exposr client itself (client/, build/exposr), pair by pair with the load client.
# Each figure is the median of --runs runs with min-max; direct and tunnel runs alternate
# in the same sitting and ratios are computed pair by pair.
#
#   tests/bench/bench.sh                 # full: 5 runs, 10 s each, 1,000 and 10,000 tunnels
#   tests/bench/bench.sh --tiny          # smoke: 1 run, 1 s each, 10 tunnels (CI)
#
# Options: --build-dir DIR (use that build, do not build), --runs N, --duration S,
# --download SIZE (e.g. 100m), --scale "1000 10000", --out FILE (also write the table
# there), --keep (keep the logs), --no-pin, --busy-poll US (exposrd's busy-poll setting,
# default 0), --only LIST (comma-separated parts to run of rps, download, latency, scale,
# ssh, sni; default all). `ssh` repeats the 1 KiB and download runs through an SSH tunnel
# with OpenSSH's `ssh -R` as the client. The sni part (TLS handshakes per second and a
# download through the SNI ingress) makes its certificate with openssl.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=""
RUNS=5
DURATION=10
LATENCY_DURATION=10
LATENCY_WARMUP=1
LATENCY_RATE=500
DOWNLOAD=100m
SCALE="1000 10000"
SCALE_CONNECTIONS=1
OUT=""
KEEP=0
PIN=1
TINY=0
ONLY=""
BUSY_POLL=0

usage() {
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--tiny)
		TINY=1 RUNS=1 DURATION=1 LATENCY_DURATION=1 LATENCY_WARMUP=0.2 DOWNLOAD=10m SCALE=10
		;;
	--build-dir) BUILD_DIR=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--duration) DURATION=$2 LATENCY_DURATION=$2; shift ;;
	--download) DOWNLOAD=$2; shift ;;
	--scale) SCALE=$2; shift ;;
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	--no-pin) PIN=0 ;;
	--only) ONLY=$2; shift ;;
	--busy-poll) BUSY_POLL=$2; shift ;;
	-h | --help) usage ;;
	*) echo "bench.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

for part in ${ONLY//,/ }; do
	case "$part" in
	rps | download | latency | scale | ssh | sni) ;;
	*) die "--only: unknown part $part (rps, download, latency, scale, ssh, sni)" ;;
	esac
done

# want PART: whether --only leaves that part of the measurement in.
want() {
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]
}

note() {
	echo "bench.sh: $*" >&2
}

for tool in curl awk sort; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is required (packaging/install-deps.sh test)"
done
HAVE_WRK=1
command -v wrk >/dev/null 2>&1 || HAVE_WRK=0
if want sni && ! command -v openssl >/dev/null 2>&1; then
	die "openssl is required for the sni part (packaging/install-deps.sh test)"
fi

# --- build --------------------------------------------------------------------------
if [ -z "$BUILD_DIR" ]; then
	BUILD_DIR=$SRC/build-bench-release
	note "building Release in $BUILD_DIR"
	mkdir -p "$BUILD_DIR" || die "cannot create $BUILD_DIR"
	cmake -S "$SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DEXPOSR_TESTS=ON \
		>"$BUILD_DIR/bench-build.log" 2>&1 || die "cmake failed, see $BUILD_DIR/bench-build.log"
	cmake --build "$BUILD_DIR" -j "$(nproc)" --target exposrd exposr storage-memory api-v1 ingress-http \
		transport-ws transport-ssh ingress-sni bench_load_client bench_target bench_latency \
		bench_tls_handshakes >>"$BUILD_DIR/bench-build.log" 2>&1 ||
		die "build failed, see $BUILD_DIR/bench-build.log"
fi
EXPOSRD=$BUILD_DIR/exposrd
MODULE_DIR=$BUILD_DIR/modules
TOOLS=$BUILD_DIR/tests/bench
EXPOSR=$BUILD_DIR/exposr
for f in "$EXPOSRD" "$EXPOSR" "$TOOLS/load_client" "$TOOLS/target" "$TOOLS/latency" "$TOOLS/tls_handshakes"; do
	[ -x "$f" ] || die "missing $f"
done
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)
SANITIZED=$(sed -n 's/^EXPOSR_SANITIZE:BOOL=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)

# --- processes ----------------------------------------------------------------------
WORK=$(mktemp -d /tmp/exposr-bench.XXXXXX)
PIDS=()

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [ "$KEEP" = 1 ]; then
		note "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 10,000 tunnels are 10,000 sockets on each side.
ulimit -Hn 1048576 2>/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 4096 ] || note "only $(ulimit -n) file descriptors: large tunnel counts will fail"

NCPU=$(nproc)
SERVER_CPU="" CLIENT_CPU="" LOAD_CPU="" TARGET_CPU=""
if [ "$PIN" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$NCPU" -ge 2 ]; then
	if [ "$NCPU" -ge 4 ]; then
		SERVER_CPU=0 CLIENT_CPU=1 LOAD_CPU=2 TARGET_CPU=3
		PINNING="taskset: exposrd on core 0, load client on core 1, wrk/curl/latency probe on core 2, target on core 3"
	else
		SERVER_CPU=0 CLIENT_CPU=1 LOAD_CPU=1 TARGET_CPU=1
		PINNING="taskset: exposrd alone on core 0; load client, target and wrk/curl/latency probe share core 1"
	fi
else
	PINNING="not pinned"
fi

pin() {
	local cpu=$1
	shift
	if [ -n "$cpu" ]; then taskset -c "$cpu" "$@"; else "$@"; fi
}

# pin_bg CPU LOG command...: starts the command in the background (taskset execs it, so
# BG_PID is the command's own pid) and remembers it for the cleanup.
pin_bg() {
	local cpu=$1 log=$2
	shift 2
	if [ -n "$cpu" ]; then
		taskset -c "$cpu" "$@" >"$log" 2>&1 &
	else
		"$@" >"$log" 2>&1 &
	fi
	BG_PID=$!
	PIDS+=("$BG_PID")
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local p i
	for i in $(seq 1 100); do
		# Below the ephemeral range (32768-60999) that outgoing connections draw from.
		p=$((20000 + RANDOM % 12000))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

CLK_TCK=$(getconf CLK_TCK)

# The SNI ingress's wildcard certificate, from a CA of the run's own.
SNI_DOMAIN=bench.test
if want sni; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -subj "/CN=bench CA" -days 2 \
		-out "$WORK/ca.pem" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -keyout "$WORK/sni.key" -subj "/CN=*.$SNI_DOMAIN" \
			-out "$WORK/sni.csr" 2>/dev/null &&
		printf 'subjectAltName=DNS:*.%s\n' "$SNI_DOMAIN" >"$WORK/sni.ext" &&
		openssl x509 -req -in "$WORK/sni.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
			-CAcreateserial -days 2 -extfile "$WORK/sni.ext" -out "$WORK/sni.pem" 2>/dev/null ||
		die "cannot make the SNI certificate with openssl"
fi

write_config() {
	cat >"$WORK/exposrd.yaml" <<EOF
log:
  level: warn
shutdown-timeout: 2
busy-poll: $BUSY_POLL
http:
  bind: 127.0.0.1
  idle-timeout: 3600
tunnels:
  max-connections: 2
modules:
  storage-memory: {}
  api-v1:
    port: $API_PORT
    allow-registration: true
  ingress-http:
    port: $API_PORT
    url: http://localhost:$API_PORT
  transport-ws:
    port: $API_PORT
EOF
	# Only for the SSH rows: the other figures stay those of a websocket-only server.
	if [ "$BENCH_SSH" = 1 ]; then
		cat >>"$WORK/exposrd.yaml" <<EOF
  transport-ssh:
    port: $SSH_PORT
    bind: 127.0.0.1
    key-file: $WORK/ssh-host-key
EOF
	fi
	if [ "$WITH_SNI" = 1 ]; then
		cat >>"$WORK/exposrd.yaml" <<EOF
  ingress-sni:
    port: $SNI_PORT
    bind: 127.0.0.1
    cert: $WORK/sni.pem
    key: $WORK/sni.key
EOF
	fi
}

cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# Waits (bounded) until $1 contains a line starting with $2; fails if $3 (a pid) died.
wait_line() {
	local file=$1 word=$2 pid=$3 timeout=$4 i
	for i in $(seq 1 $((timeout * 10))); do
		grep -q "^$word" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

EXPOSRD_PID=""
EXPOSRD_STARTS=0
BENCH_SSH=0
WITH_SNI=0 # the SNI ingress only in part 7's exposrd: the idle RSS row is the default set
# Other tests on the machine pick ports too: a port taken meanwhile means another try.
start_exposrd() {
	local i attempt log
	[ -n "$EXPOSRD_PID" ] && stop_pid "$EXPOSRD_PID"
	for attempt in 1 2 3 4 5; do
		EXPOSRD_STARTS=$((EXPOSRD_STARTS + 1))
		log=$WORK/exposrd.$EXPOSRD_STARTS.log
		API_PORT=$(pick_port) || die "no free port"
		SSH_PORT=$(pick_port) || die "no free port"
		SNI_PORT=$(pick_port) || die "no free port"
		write_config
		pin_bg "$SERVER_CPU" "$log" "$EXPOSRD" --config "$WORK/exposrd.yaml" \
			--module-dir "$MODULE_DIR"
		EXPOSRD_PID=$BG_PID
		for i in $(seq 1 100); do
			curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$API_PORT/" && return 0
			kill -0 "$EXPOSRD_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$EXPOSRD_PID"
		grep -qi "in use" "$log" || break
	done
	cat "$log" >&2
	die "exposrd did not start"
}

# start_client NAME TUNNELS CONNECTIONS [extra options]: sets CLIENT_PID, CLIENT_LOG.
start_client() {
	local name=$1 tunnels=$2 connections=$3
	shift 3
	CLIENT_LOG=$WORK/client.$name.log
	pin_bg "$CLIENT_CPU" "$CLIENT_LOG" "$TOOLS/load_client" --server "127.0.0.1:$API_PORT" \
		--target "127.0.0.1:$TARGET_PORT" --tunnels "$tunnels" --connections "$connections" \
		--prefix "$name" --quiet --duration 3600 "$@"
	CLIENT_PID=$BG_PID
}

field() { # field NAME LINE: the value of NAME=value in LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# --- statistics -----------------------------------------------------------------------
# summary FORMAT values...: "median (min–max)", or one value when there is one run.
summary() {
	local fmt=$1
	shift
	[ $# -gt 0 ] || { echo "n/a"; return; }
	printf '%s\n' "$@" | sort -g | awk -v fmt="$fmt" '
		{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (NR == 1) printf fmt, m
			else printf fmt " (" fmt "–" fmt ")", m, v[1], v[NR]
		}'
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# wrk's latency figures in milliseconds.
wrk_ms() {
	echo "$1" | awk -v q="$2" '$1 == q {
		v = $2
		if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v) }
		else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
		print v }'
}

# --- machine --------------------------------------------------------------------------
MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
MEM_GB=$(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
KERNEL=$(uname -r)
VIRT=$(systemd-detect-virt 2>/dev/null || true)
REV=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no 2>/dev/null | head -1)" ]; then
	REV="$REV+local changes"
fi
LIBEVENT=$(pkg-config --modversion libevent 2>/dev/null || echo "?")
# A build made elsewhere may be of another revision than this checkout.
BUILT_FROM=""
[ "$BUILD_DIR" != "$SRC/build-bench-release" ] && BUILT_FROM=" (the script's checkout; the build is $BUILD_DIR)"

note "machine: $NCPU cores, $MODEL; pinning: $PINNING"
note "runs: $RUNS, ${DURATION} s each; work dir $WORK"

start_target() {
	local i attempt
	for attempt in 1 2 3 4 5; do
		TARGET_PORT=$(pick_port) || die "no free port"
		pin_bg "$TARGET_CPU" "$WORK/target.log" "$TOOLS/target" --port "$TARGET_PORT"
		TARGET_PID=$BG_PID
		for i in $(seq 1 50); do
			curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$TARGET_PORT/0" && return 0
			kill -0 "$TARGET_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$TARGET_PID"
	done
	cat "$WORK/target.log" >&2
	die "the target did not start"
}
start_target

# --- 1-3, 5: traffic through one tunnel with two websockets, as the exposr client ------
start_exposrd
IDLE_RSS=()
sleep 1
IDLE_RSS+=("$(rss_kb "$EXPOSRD_PID")")
start_client traffic 1 2
wait_line "$CLIENT_LOG" READY "$CLIENT_PID" 30 || { cat "$CLIENT_LOG" >&2; die "the load client did not connect"; }
TRAFFIC_PID=$CLIENT_PID
TUNNEL_HOST="traffic0.localhost:$API_PORT"
curl -s -o /dev/null --max-time 5 -H "Host: $TUNNEL_HOST" "http://127.0.0.1:$API_PORT/1k" # warm-up
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $TUNNEL_HOST" "http://127.0.0.1:$API_PORT/1k")
[ "$code" = 200 ] || die "a request through the tunnel answered $code"
# The exposr client on a second tunnel (its own account, 2 websockets as the server says).
pin_bg "$CLIENT_CPU" "$WORK/exposr.log" "$EXPOSR" -s "http://127.0.0.1:$API_PORT" --non-interactive \
	--log-level warn tunnel connect exposr-bench "http://127.0.0.1:$TARGET_PORT"
EXPOSR_PID=$BG_PID
EXPOSR_HOST="exposr-bench.localhost:$API_PORT"
for i in $(seq 1 100); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $EXPOSR_HOST" "http://127.0.0.1:$API_PORT/1k")
	[ "$code" = 200 ] && break
	kill -0 "$EXPOSR_PID" 2>/dev/null || break
	sleep 0.1
done
[ "$code" = 200 ] || { cat "$WORK/exposr.log" >&2; die "no request through the exposr client's tunnel ($code)"; }

X_RPS=() XR_RPS=() X_MBS=() XR_MBS=() X_UTIL=() X_DL_UTIL=()
D_RPS=() T_RPS=() R_RPS=() D_P50=() D_P99=() T_P50=() T_P99=() CPU_10K=() SRV_UTIL=() LC_UTIL=()
WRK_ERRORS=0
if [ "$HAVE_WRK" = 1 ] && want rps; then
	for run in $(seq 1 "$RUNS"); do
		d=$(pin "$LOAD_CPU" wrk -t2 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:$TARGET_PORT/1k")
		s0=$(cpu_ticks "$EXPOSRD_PID") l0=$(cpu_ticks "$TRAFFIC_PID")
		t=$(pin "$LOAD_CPU" wrk -t2 -c50 -d"${DURATION}s" --latency -H "Host: $TUNNEL_HOST" \
			"http://127.0.0.1:$API_PORT/1k")
		s1=$(cpu_ticks "$EXPOSRD_PID") l1=$(cpu_ticks "$TRAFFIC_PID")
		echo "$d" >"$WORK/wrk.direct.$run.txt"
		echo "$t" >"$WORK/wrk.tunnel.$run.txt"
		dr=$(echo "$d" | awk '/^Requests\/sec:/ {print $2}')
		tr=$(echo "$t" | awk '/^Requests\/sec:/ {print $2}')
		treq=$(echo "$t" | awk '/requests in/ {print $1}')
		if echo "$d$t" | grep -q -e "Non-2xx" -e "Socket errors"; then
			WRK_ERRORS=$((WRK_ERRORS + 1))
			note "wrk run $run reported errors: $(echo "$d$t" | grep -e Non-2xx -e 'Socket errors' | tr '\n' ' ')"
		fi
		[ -n "$dr" ] && [ -n "$tr" ] || die "wrk gave no result (see $WORK)"
		D_RPS+=("$dr") T_RPS+=("$tr") R_RPS+=("$(calc "$tr / $dr")")
		D_P50+=("$(wrk_ms "$d" 50%)") D_P99+=("$(wrk_ms "$d" 99%)")
		T_P50+=("$(wrk_ms "$t" 50%)") T_P99+=("$(wrk_ms "$t" 99%)")
		CPU_10K+=("$(calc "($s1 - $s0) / $CLK_TCK / ($treq / 10000)")")
		SRV_UTIL+=("$(calc "100 * ($s1 - $s0) / $CLK_TCK / $DURATION")")
		LC_UTIL+=("$(calc "100 * ($l1 - $l0) / $CLK_TCK / $DURATION")")
		x0=$(cpu_ticks "$EXPOSR_PID")
		x=$(pin "$LOAD_CPU" wrk -t2 -c50 -d"${DURATION}s" -H "Host: $EXPOSR_HOST" \
			"http://127.0.0.1:$API_PORT/1k")
		x1=$(cpu_ticks "$EXPOSR_PID")
		echo "$x" >"$WORK/wrk.exposr.$run.txt"
		xr=$(echo "$x" | awk '/^Requests\/sec:/ {print $2}')
		[ -n "$xr" ] || die "wrk gave no result through the exposr client (see $WORK)"
		echo "$x" | grep -q -e "Non-2xx" -e "Socket errors" && WRK_ERRORS=$((WRK_ERRORS + 1))
		X_RPS+=("$xr") XR_RPS+=("$(calc "$xr / $tr")")
		X_UTIL+=("$(calc "100 * ($x1 - $x0) / $CLK_TCK / $DURATION")")
		note "1 KiB run $run: direct $dr req/s, tunnel $tr req/s, exposr client $xr req/s"
	done
elif want rps; then
	note "wrk is not installed: the 1 KiB rows are skipped (packaging/install-deps.sh test)"
fi

D_MBS=() T_MBS=() R_MBS=() CPU_GIB=() LC_DL_UTIL=() SRV_DL_UTIL=()
case "$DOWNLOAD" in
*k) DL_BYTES=$((${DOWNLOAD%k} * 1024)) ;;
*m) DL_BYTES=$((${DOWNLOAD%m} * 1048576)) ;;
*g) DL_BYTES=$((${DOWNLOAD%g} * 1073741824)) ;;
*) DL_BYTES=$DOWNLOAD ;;
esac
DOWNLOAD_RUNS=$RUNS
want download || DOWNLOAD_RUNS=0
for run in $(seq 1 "$DOWNLOAD_RUNS"); do
	d=$(pin "$LOAD_CPU" curl -s -o /dev/null --max-time 300 -w '%{speed_download} %{size_download} %{http_code}' \
		"http://127.0.0.1:$TARGET_PORT/$DOWNLOAD")
	s0=$(cpu_ticks "$EXPOSRD_PID") l0=$(cpu_ticks "$TRAFFIC_PID")
	start_ns=$(date +%s%N)
	t=$(pin "$LOAD_CPU" curl -s -o /dev/null --max-time 300 -w '%{speed_download} %{size_download} %{http_code}' \
		-H "Host: $TUNNEL_HOST" "http://127.0.0.1:$API_PORT/$DOWNLOAD")
	end_ns=$(date +%s%N)
	s1=$(cpu_ticks "$EXPOSRD_PID") l1=$(cpu_ticks "$TRAFFIC_PID")
	set -- $d
	[ "${2:-0}" = "$DL_BYTES" ] && [ "${3:-}" = 200 ] || die "direct download: $d"
	ds=$1
	set -- $t
	[ "${2:-0}" = "$DL_BYTES" ] && [ "${3:-}" = 200 ] || die "tunnel download: $t"
	ts=$1
	D_MBS+=("$(calc "$ds / 1e6")") T_MBS+=("$(calc "$ts / 1e6")") R_MBS+=("$(calc "$ts / $ds")")
	CPU_GIB+=("$(calc "($s1 - $s0) / $CLK_TCK / ($DL_BYTES / 1073741824)")")
	LC_DL_UTIL+=("$(calc "100 * ($l1 - $l0) / $CLK_TCK / (($end_ns - $start_ns) / 1e9)")")
	SRV_DL_UTIL+=("$(calc "100 * ($s1 - $s0) / $CLK_TCK / (($end_ns - $start_ns) / 1e9)")")
	x0=$(cpu_ticks "$EXPOSR_PID")
	start_ns=$(date +%s%N)
	x=$(pin "$LOAD_CPU" curl -s -o /dev/null --max-time 300 -w '%{speed_download} %{size_download} %{http_code}' \
		-H "Host: $EXPOSR_HOST" "http://127.0.0.1:$API_PORT/$DOWNLOAD")
	end_ns=$(date +%s%N)
	x1=$(cpu_ticks "$EXPOSR_PID")
	set -- $x
	[ "${2:-0}" = "$DL_BYTES" ] && [ "${3:-}" = 200 ] || die "download through the exposr client: $x"
	X_MBS+=("$(calc "$1 / 1e6")") XR_MBS+=("$(calc "$1 / $ts")")
	X_DL_UTIL+=("$(calc "100 * ($x1 - $x0) / $CLK_TCK / (($end_ns - $start_ns) / 1e9)")")
	note "$DOWNLOAD download run $run: direct $(calc "$ds / 1e6") MB/s, tunnel $(calc "$ts / 1e6") MB/s, exposr client $(calc "$1 / 1e6") MB/s"
done

D_L50=() D_L99=() T_L50=() T_L99=() A_L50=() A_L99=()
LATENCY_RUNS=$RUNS
want latency || LATENCY_RUNS=0
for run in $(seq 1 "$LATENCY_RUNS"); do
	d=$(pin "$LOAD_CPU" "$TOOLS/latency" --port "$TARGET_PORT" --rate "$LATENCY_RATE" \
		--duration "$LATENCY_DURATION" --warmup "$LATENCY_WARMUP") || die "latency probe (direct): $d"
	t=$(pin "$LOAD_CPU" "$TOOLS/latency" --port "$API_PORT" --host-header "$TUNNEL_HOST" \
		--rate "$LATENCY_RATE" --duration "$LATENCY_DURATION" --warmup "$LATENCY_WARMUP") ||
		die "latency probe (tunnel): $t"
	dp50=$(calc "$(field p50_us "$d") / 1000") dp99=$(calc "$(field p99_us "$d") / 1000")
	tp50=$(calc "$(field p50_us "$t") / 1000") tp99=$(calc "$(field p99_us "$t") / 1000")
	D_L50+=("$dp50") D_L99+=("$dp99") T_L50+=("$tp50") T_L99+=("$tp99")
	A_L50+=("$(calc "$tp50 - $dp50")") A_L99+=("$(calc "$tp99 - $dp99")")
	note "latency run $run at $(field rate "$t") req/s: direct p50 $dp50 ms, tunnel p50 $tp50 ms"
done
stop_pid "$TRAFFIC_PID"
stop_pid "$EXPOSR_PID"

# --- 1, 2, 5 over SSH: the same target with OpenSSH's ssh -R as the tunnel client -------
json_field() { # json_field NAME JSON: the first string value of "NAME" (enough here)
	echo "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -1
}
S_RPS=() S_RATIO=() S_P50=() S_P99=() S_CPU_10K=() S_MBS=() S_CPU_GIB=() S_UTIL=() SSH_UTIL=()
if want ssh && command -v ssh >/dev/null 2>&1; then
	BENCH_SSH=1
	start_exposrd
	BENCH_SSH=0
	acc=$(json_field account_id "$(curl -s -X POST "http://127.0.0.1:$API_PORT/v1/account")")
	tok=$(json_field token "$(curl -s "http://127.0.0.1:$API_PORT/v1/account/$acc/token")")
	obj=$(curl -s -X PUT -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-d "{\"target\":{\"url\":\"http://127.0.0.1:$TARGET_PORT/\"},\"ingress\":{\"http\":{\"enabled\":true}}}" \
		"http://127.0.0.1:$API_PORT/v1/tunnel/sshbench")
	ssh_url=$(echo "$obj" | sed -n 's/.*"ssh":{[^}]*"url":"\([^"]*\)".*/\1/p')
	[ -n "$ssh_url" ] || die "no SSH URL in the tunnel: $obj"
	pin_bg "$CLIENT_CPU" "$WORK/ssh.log" ssh -N -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=yes -o ExitOnForwardFailure=yes -R "0:127.0.0.1:$TARGET_PORT" "$ssh_url"
	SSH_PID=$BG_PID
	# The server's banner (no newline, as exposrd 0.12) precedes it on the same line.
	wait_line "$WORK/ssh.log" ".*Allocated port" "$SSH_PID" 30 || { cat "$WORK/ssh.log" >&2; die "ssh -R did not connect"; }
	SSH_HOST="sshbench.localhost:$API_PORT"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $SSH_HOST" "http://127.0.0.1:$API_PORT/1k")
	[ "$code" = 200 ] || die "a request through the SSH tunnel answered $code"
	SSH_RPS_RUNS=$RUNS
	[ "$HAVE_WRK" = 1 ] || SSH_RPS_RUNS=0
	for run in $(seq 1 "$SSH_RPS_RUNS"); do
		d=$(pin "$LOAD_CPU" wrk -t2 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:$TARGET_PORT/1k")
		s0=$(cpu_ticks "$EXPOSRD_PID") c0=$(cpu_ticks "$SSH_PID")
		t=$(pin "$LOAD_CPU" wrk -t2 -c50 -d"${DURATION}s" --latency -H "Host: $SSH_HOST" \
			"http://127.0.0.1:$API_PORT/1k")
		s1=$(cpu_ticks "$EXPOSRD_PID") c1=$(cpu_ticks "$SSH_PID")
		echo "$t" >"$WORK/wrk.ssh.$run.txt"
		dr=$(echo "$d" | awk '/^Requests\/sec:/ {print $2}')
		tr=$(echo "$t" | awk '/^Requests\/sec:/ {print $2}')
		treq=$(echo "$t" | awk '/requests in/ {print $1}')
		[ -n "$dr" ] && [ -n "$tr" ] || die "wrk gave no result over SSH (see $WORK)"
		if echo "$t" | grep -q -e "Non-2xx" -e "Socket errors"; then
			WRK_ERRORS=$((WRK_ERRORS + 1))
			note "wrk over SSH, run $run, reported errors"
		fi
		S_RPS+=("$tr") S_RATIO+=("$(calc "$tr / $dr")")
		S_P50+=("$(wrk_ms "$t" 50%)") S_P99+=("$(wrk_ms "$t" 99%)")
		S_CPU_10K+=("$(calc "($s1 - $s0) / $CLK_TCK / ($treq / 10000)")")
		S_UTIL+=("$(calc "100 * ($s1 - $s0) / $CLK_TCK / $DURATION")")
		SSH_UTIL+=("$(calc "100 * ($c1 - $c0) / $CLK_TCK / $DURATION")")
		note "1 KiB over SSH run $run: direct $dr req/s, SSH tunnel $tr req/s"
	done
	for run in $(seq 1 "$DOWNLOAD_RUNS"); do
		s0=$(cpu_ticks "$EXPOSRD_PID")
		t=$(pin "$LOAD_CPU" curl -s -o /dev/null --max-time 300 -w '%{speed_download} %{size_download} %{http_code}' \
			-H "Host: $SSH_HOST" "http://127.0.0.1:$API_PORT/$DOWNLOAD")
		s1=$(cpu_ticks "$EXPOSRD_PID")
		set -- $t
		[ "${2:-0}" = "$DL_BYTES" ] && [ "${3:-}" = 200 ] || die "SSH tunnel download: $t"
		S_MBS+=("$(calc "$1 / 1e6")")
		S_CPU_GIB+=("$(calc "($s1 - $s0) / $CLK_TCK / ($DL_BYTES / 1073741824)")")
		note "$DOWNLOAD download over SSH run $run: $(calc "$1 / 1e6") MB/s"
	done
	stop_pid "$SSH_PID"
elif want ssh; then
	note "ssh is not installed: the SSH rows are skipped (packaging/install-deps.sh test)"
fi

# --- 7: the SNI ingress, an exposrd of its own with one tunnel as above -------------------
HS_RATE=() N_MBS=() N_RATIO=()
SNI_RUNS=$RUNS
want sni || SNI_RUNS=0
SNI_HOST="sni0.$SNI_DOMAIN"
if [ "$SNI_RUNS" -gt 0 ]; then
	WITH_SNI=1
	start_exposrd
	start_client sni 1 2 --sni
	wait_line "$CLIENT_LOG" READY "$CLIENT_PID" 30 || { cat "$CLIENT_LOG" >&2; die "the SNI load client did not connect"; }
	TRAFFIC_PID=$CLIENT_PID
	WITH_SNI=0
fi
for run in $(seq 1 "$SNI_RUNS"); do
	h=$(pin "$LOAD_CPU" "$TOOLS/tls_handshakes" "$SNI_PORT" "$SNI_HOST" "$WORK/ca.pem" "$DURATION") ||
		die "TLS handshakes through the SNI ingress: $h"
	HS_RATE+=("$(field per_s "$h")")
	d=$(pin "$LOAD_CPU" curl -s -o /dev/null --max-time 300 -w '%{speed_download} %{size_download} %{http_code}' \
		"http://127.0.0.1:$TARGET_PORT/$DOWNLOAD")
	t=$(pin "$LOAD_CPU" curl -s -o /dev/null --max-time 300 -w '%{speed_download} %{size_download} %{http_code}' \
		--resolve "$SNI_HOST:$SNI_PORT:127.0.0.1" --cacert "$WORK/ca.pem" "https://$SNI_HOST:$SNI_PORT/$DOWNLOAD")
	set -- $d
	[ "${2:-0}" = "$DL_BYTES" ] && [ "${3:-}" = 200 ] || die "direct download: $d"
	ds=$1
	set -- $t
	[ "${2:-0}" = "$DL_BYTES" ] && [ "${3:-}" = 200 ] || die "SNI tunnel download: $t"
	N_MBS+=("$(calc "$1 / 1e6")") N_RATIO+=("$(calc "$1 / $ds")")
	note "SNI run $run: $(field per_s "$h") handshakes/s, $DOWNLOAD download $(calc "$1 / 1e6") MB/s"
done
[ "$SNI_RUNS" -gt 0 ] && stop_pid "$TRAFFIC_PID"

# --- 4: memory and connection rate with many idle tunnels -------------------------------
declare -A RSS_CONN RSS_PER RSS_PER_CONN RATE CREATE_RATE PER_MEDIAN
want scale || SCALE=""
for n in $SCALE; do
	conn=() per=() per_conn=() rate=() crate=()
	for run in $(seq 1 "$RUNS"); do
		start_exposrd
		sleep 1
		idle=$(rss_kb "$EXPOSRD_PID")
		IDLE_RSS+=("$idle")
		start_client "s$run" "$n" "$SCALE_CONNECTIONS" --hold --parallel 64
		wait_line "$CLIENT_LOG" CREATED "$CLIENT_PID" 300 || { tail -5 "$CLIENT_LOG" >&2; die "creating $n tunnels failed"; }
		sleep 0.5
		created=$(rss_kb "$EXPOSRD_PID")
		kill -USR2 "$CLIENT_PID"
		wait_line "$CLIENT_LOG" READY "$CLIENT_PID" 300 || { tail -5 "$CLIENT_LOG" >&2; die "connecting $n tunnels failed"; }
		sleep 1
		connected=$(rss_kb "$EXPOSRD_PID")
		ready=$(grep '^READY' "$CLIENT_LOG")
		conn+=("$(calc "$connected / 1024")")
		per+=("$(calc "($connected - $idle) / $n")")
		per_conn+=("$(calc "($connected - $created) / $n")")
		rate+=("$(field connected_per_s "$ready")")
		crate+=("$(field created_per_s "$(grep '^CREATED' "$CLIENT_LOG")")")
		stop_pid "$CLIENT_PID"
		note "$n tunnels run $run: RSS $idle -> $created (created) -> $connected KiB (connected), $(field connected_per_s "$ready") tunnels/s"
	done
	RSS_CONN[$n]=$(summary "%.1f" "${conn[@]}")
	RSS_PER[$n]=$(summary "%.1f" "${per[@]}")
	RSS_PER_CONN[$n]=$(summary "%.1f" "${per_conn[@]}")
	RATE[$n]=$(summary "%.0f" "${rate[@]}")
	CREATE_RATE[$n]=$(summary "%.0f" "${crate[@]}")
	PER_MEDIAN[$n]=$(median "${per[@]}")
done
stop_pid "$EXPOSRD_PID"

# --- table ------------------------------------------------------------------------------
verdict() { # verdict VALUE OP LIMIT
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = (op == ">=") ? v >= l : v <= l
		printf ok ? "met" : "**missed**" }'
}

{
	echo "| # | Measurement | Direct | Tunnel | Tunnel vs direct | Goal |"
	echo "|---|---|---|---|---|---|"
	if [ "${#D_RPS[@]}" -gt 0 ]; then
		echo "| 1 | 1 KiB responses, \`wrk -t2 -c50 -d${DURATION}s\`: req/s | $(summary "%.0f" "${D_RPS[@]}") | $(summary "%.0f" "${T_RPS[@]}") | $(summary "%.3f" "${R_RPS[@]}") | ≥ 0.5: $(verdict "$(median "${R_RPS[@]}")" ">=" 0.5) |"
		echo "| 1 | 1 KiB: latency p50, ms | $(summary "%.2f" "${D_P50[@]}") | $(summary "%.2f" "${T_P50[@]}") | | |"
		echo "| 1 | 1 KiB: latency p99, ms | $(summary "%.2f" "${D_P99[@]}") | $(summary "%.2f" "${T_P99[@]}") | | |"
	elif want rps; then
		echo "| 1 | 1 KiB responses, wrk | n/a (wrk not installed) | | | ≥ 0.5 |"
	fi
	[ "${#D_MBS[@]}" -gt 0 ] && echo "| 2 | $DOWNLOAD download with curl: MB/s | $(summary "%.0f" "${D_MBS[@]}") | $(summary "%.0f" "${T_MBS[@]}") | $(summary "%.3f" "${R_MBS[@]}") | ≥ 0.8: $(verdict "$(median "${R_MBS[@]}")" ">=" 0.8) |"
	[ "${#N_MBS[@]}" -gt 0 ] && echo "| 7 | $DOWNLOAD download through the SNI ingress (TLS ended by exposrd) with curl: MB/s | $(summary "%.0f" "${D_MBS[@]}") (row 2) | $(summary "%.0f" "${N_MBS[@]}") | $(summary "%.3f" "${N_RATIO[@]}") | |"
	[ "${#HS_RATE[@]}" -gt 0 ] && echo "| 7 | SNI ingress: full TLS handshakes per second, one at a time (RSA 2048) | | $(summary "%.0f" "${HS_RATE[@]}") | | |"
	[ "${#D_L50[@]}" -gt 0 ] && echo "| 3 | Latency at $LATENCY_RATE req/s: p50, ms | $(summary "%.3f" "${D_L50[@]}") | $(summary "%.3f" "${T_L50[@]}") | +$(summary "%.3f" "${A_L50[@]}") ms | ≤ +0.1 ms: $(verdict "$(median "${A_L50[@]}")" "<=" 0.1) |"
	[ "${#D_L99[@]}" -gt 0 ] && echo "| 3 | Latency at $LATENCY_RATE req/s: p99, ms | $(summary "%.3f" "${D_L99[@]}") | $(summary "%.3f" "${T_L99[@]}") | +$(summary "%.3f" "${A_L99[@]}") ms | |"
	idle_mb=$(calc "$(median "${IDLE_RSS[@]}") / 1024")
	echo "| 4 | Server RSS, idle: MB | | $(summary "%.1f" "$(for v in "${IDLE_RSS[@]}"; do calc "$v / 1024"; echo; done)") | | ≤ 5 MB: $(verdict "$idle_mb" "<=" 5) |"
	for n in $SCALE; do
		echo "| 4 | Server RSS, $n tunnels connected ($SCALE_CONNECTIONS websocket each): MB | | ${RSS_CONN[$n]} | ${RSS_PER[$n]} KiB per tunnel (${RSS_PER_CONN[$n]} KiB for the connection alone) | ≤ 16 KiB: $(verdict "${PER_MEDIAN[$n]}" "<=" 16) |"
	done
	for n in $SCALE; do
		echo "| 4 | Tunnels connected per second ($n tunnels, GET + upgrade, 64 at a time) | | ${RATE[$n]} | created (PUT + 3 PATCH): ${CREATE_RATE[$n]}/s | |"
	done
	[ "${#S_RPS[@]}" -gt 0 ] && echo "| 1s | 1 KiB responses through an SSH tunnel (OpenSSH \`ssh -R\`), same wrk: req/s | | $(summary "%.0f" "${S_RPS[@]}") | $(summary "%.3f" "${S_RATIO[@]}")$([ "${#R_RPS[@]}" -gt 0 ] && echo " (websocket: $(summary "%.3f" "${R_RPS[@]}"))") | |"
	[ "${#S_P50[@]}" -gt 0 ] && echo "| 1s | 1 KiB over SSH: latency p50 / p99, ms | | $(summary "%.2f" "${S_P50[@]}") / $(summary "%.2f" "${S_P99[@]}") | | |"
	[ "${#S_MBS[@]}" -gt 0 ] && echo "| 2s | $DOWNLOAD download through the SSH tunnel with curl: MB/s | | $(summary "%.0f" "${S_MBS[@]}") | | |"
	[ "${#CPU_GIB[@]}" -gt 0 ] && echo "| 5 | Server CPU seconds per GiB carried | | $(summary "%.2f" "${CPU_GIB[@]}") | | |"
	[ "${#S_CPU_GIB[@]}" -gt 0 ] && echo "| 5s | Server CPU seconds per GiB carried over SSH | | $(summary "%.2f" "${S_CPU_GIB[@]}") | | |"
	[ "${#CPU_10K[@]}" -gt 0 ] && echo "| 5 | Server CPU seconds per 10,000 requests (1 KiB) | | $(summary "%.3f" "${CPU_10K[@]}") | | |"
	[ "${#S_CPU_10K[@]}" -gt 0 ] && echo "| 5s | Server CPU seconds per 10,000 requests (1 KiB) over SSH | | $(summary "%.3f" "${S_CPU_10K[@]}") | | |"
	[ "${#X_RPS[@]}" -gt 0 ] && echo "| 6 | The exposr client instead of the load client: 1 KiB, \`wrk -t2 -c50 -d${DURATION}s\`: req/s | | $(summary "%.0f" "${X_RPS[@]}") | $(summary "%.3f" "${XR_RPS[@]}") of the load client's | ≥ 1: $(verdict "$(median "${XR_RPS[@]}")" ">=" 1) |"
	[ "${#X_MBS[@]}" -gt 0 ] && echo "| 6 | The exposr client instead of the load client: $DOWNLOAD download: MB/s | | $(summary "%.0f" "${X_MBS[@]}") | $(summary "%.3f" "${XR_MBS[@]}") of the load client's | ≥ 1: $(verdict "$(median "${XR_MBS[@]}")" ">=" 1) |"
	[ "${#SRV_UTIL[@]}" -gt 0 ] && echo "| – | exposrd CPU during the 1 KiB tunnel runs: % of a core | | $(summary "%.0f" "${SRV_UTIL[@]}") | | |"
	[ "${#LC_UTIL[@]}" -gt 0 ] && echo "| – | Load client CPU during the 1 KiB tunnel runs: % of a core | | $(summary "%.0f" "${LC_UTIL[@]}") | | |"
	[ "${#SRV_DL_UTIL[@]}" -gt 0 ] && echo "| – | exposrd CPU during the tunnel downloads: % of a core | | $(summary "%.0f" "${SRV_DL_UTIL[@]}") | | |"
	[ "${#LC_DL_UTIL[@]}" -gt 0 ] && echo "| – | Load client CPU during the tunnel downloads: % of a core | | $(summary "%.0f" "${LC_DL_UTIL[@]}") | | |"
	[ "${#S_UTIL[@]}" -gt 0 ] && echo "| – | exposrd CPU during the 1 KiB SSH runs: % of a core | | $(summary "%.0f" "${S_UTIL[@]}") | | |"
	[ "${#SSH_UTIL[@]}" -gt 0 ] && echo "| – | OpenSSH client CPU during the 1 KiB SSH runs: % of a core | | $(summary "%.0f" "${SSH_UTIL[@]}") | | |"
	[ "${#X_UTIL[@]}" -gt 0 ] && echo "| – | exposr client CPU during its 1 KiB runs: % of a core | | $(summary "%.0f" "${X_UTIL[@]}") | | |"
	[ "${#X_DL_UTIL[@]}" -gt 0 ] && echo "| – | exposr client CPU during its downloads: % of a core | | $(summary "%.0f" "${X_DL_UTIL[@]}") | | |"
	echo
	echo "Machine: $NCPU cores, $MODEL${VIRT:+ ($VIRT)}, ${MEM_GB} GB, Linux $KERNEL, libevent $LIBEVENT."
	echo "Build: ${BUILD_TYPE:-?}${SANITIZED:+, sanitizers $SANITIZED}, exposrd $REV$BUILT_FROM, busy-poll $BUSY_POLL us. Pinning: $PINNING."
	echo "Runs: median of $RUNS (min–max), direct and tunnel alternated, ratios pair by pair;"
	echo "traffic through one tunnel with 2 websockets (as the exposr client); the latency probe"
	echo "sends GET /1k at a fixed $LATENCY_RATE req/s for ${LATENCY_DURATION} s after ${LATENCY_WARMUP} s warm-up."
	[ "$WRK_ERRORS" -gt 0 ] && echo "wrk reported errors in $WRK_ERRORS run(s); see the logs."
} >"$WORK/table.md"

cat "$WORK/table.md"
[ -n "$OUT" ] && cp "$WORK/table.md" "$OUT"
exit 0
