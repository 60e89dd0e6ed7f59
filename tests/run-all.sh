#!/usr/bin/env bash
# Installs every dependency, builds exposrd twice (normal, and with AddressSanitizer
# + UndefinedBehaviorSanitizer) with warnings as errors, and runs every test against
# each build. Debian 12, as root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash packaging/install-deps.sh test
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)

# Sanitizer reports also go to files: Criterion's forked test workers can report a
# leak and still pass, so any report file fails the run.
reports=$(mktemp -d)
show_reports() {
	if compgen -G "$reports/*" >/dev/null; then
		echo "sanitizer reports:"
		cat "$reports"/*
		rm -rf "$reports"
		exit 1
	fi
	rm -rf "$reports"
}
trap show_reports EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan
# Criterion's workers must run their exit handlers, where LeakSanitizer checks.
export CRITERION_NO_EARLY_EXIT=1

run_suite() {
	local dir=$1; shift
	cmake -S "$root" -B "$dir" -DEXPOSR_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
	(cd "$dir" && ctest --output-on-failure --timeout 900 -j2)
}

echo "== normal build =="
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== sanitizer build (ASan + UBSan) =="
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DEXPOSR_SANITIZE=ON

# Every parser under libFuzzer for a short smoke (about 20 s each, tests/fuzz/run.sh);
# a crash fails the run and leaves its input in build-fuzz/fuzz/.
echo "== fuzzing smoke =="
bash tests/fuzz/run.sh 20

# The Debian package and the container image, each built, installed and run here.
echo "== packaging: Debian package =="
bash packaging/test-deb.sh
echo "== packaging: container image =="
bash packaging/test-container.sh
# The README's first command, as a user runs it, then its quick start.
echo "== packaging: the README's first command =="
bash packaging/test-build-and-run.sh
