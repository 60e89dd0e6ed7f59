#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) in build-fuzz/ and runs each one
# for SECONDS (default 20) from its seed corpus in tests/fuzz/corpus/<name>, as many at
# a time as there are CPUs. Inputs a run discovers go to a scratch directory, not into
# the repository; a crash leaves its input in build-fuzz/fuzz/ and fails the run.
# `run.sh 600 mux` runs one harness for ten minutes.
set -euo pipefail
seconds=${1:-20}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${EXPOSR_FUZZ_BUILD:-$root/build-fuzz}
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(mux ws_handshake ingress config api_body cluster)

targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
CC=${CC:-clang} cmake -S "$root" -B "$build" -DEXPOSR_FUZZ=ON -DEXPOSR_TESTS=OFF \
	-DEXPOSR_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
run_one() {
	local h=$1
	mkdir -p "$scratch/$h"
	local rc=0
	"$build/fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/fuzz_$h-" "$scratch/$h" "$here/corpus/$h" \
		>"$build/fuzz/fuzz_$h.log" 2>&1 || rc=$?
	echo "$rc" >"$scratch/$h.rc"
}

running=0
for h in "${harnesses[@]}"; do
	if [ "$running" -ge "$(nproc)" ]; then
		wait -n
		running=$((running - 1))
	fi
	echo "fuzz_$h: ${seconds}s"
	run_one "$h" &
	running=$((running + 1))
done
wait

failed=0
for h in "${harnesses[@]}"; do
	log="$build/fuzz/fuzz_$h.log"
	if [ "$(cat "$scratch/$h.rc")" = 0 ]; then
		echo "fuzz_$h: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs," \
			"$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}') per second"
	else
		echo "fuzz_$h FAILED: see $log"
		grep -E 'ERROR|runtime error|Test unit written' "$log" || true
		failed=1
	fi
done
exit $failed
