#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) in build-fuzz/ and runs each one
# for SECONDS (default 20) from its seed corpus in tests/fuzz/corpus/<name>. Inputs the
# run discovers go to a scratch directory, not into the repository; a crash leaves its
# input in build-fuzz/fuzz/ and fails the run. `run.sh 600 mux` runs one harness.
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

failed=0
for h in "${harnesses[@]}"; do
	scratch=$(mktemp -d)
	log="$build/fuzz/fuzz_$h.log"
	echo "fuzz_$h: ${seconds}s"
	if "$build/fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/fuzz_$h-" "$scratch" "$here/corpus/$h" >"$log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$log" |
			sed 's/^stat::/  /'
	else
		echo "fuzz_$h FAILED: see $log"
		grep -E 'ERROR|runtime error|Test unit written' "$log" || true
		failed=1
	fi
	rm -rf "$scratch"
done
exit $failed
