#!/usr/bin/env bash
# Installs every dependency, builds exposrd twice (normal, and with AddressSanitizer
# + UndefinedBehaviorSanitizer) with warnings as errors, and runs every test against
# each build. Debian 12, as root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Every step says what runs and since when, so a long run shows its progress.
started=$SECONDS
step() {
	local t=$((SECONDS - started))
	printf '[%02d:%02d] == %s ==\n' $((t / 60)) $((t % 60)) "$*"
}

step "dependencies"
bash packaging/install-deps.sh test
step "npm packages of the integration tests"
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
	local label=$1 dir=$2; shift 2
	cmake -S "$root" -B "$dir" -DEXPOSR_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
	step "$label: tests"
	# Every wait in a test has its own deadline; this one only stops a test that hangs anyway.
	(cd "$dir" && ctest --output-on-failure --timeout 300 -j2)
}

step "normal build"
run_suite "normal build" build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "sanitizer build (ASan + UBSan)"
run_suite "sanitizer build" build-asan -DCMAKE_BUILD_TYPE=Debug -DEXPOSR_SANITIZE=ON

# Every parser under libFuzzer for a short smoke (about 20 s each, tests/fuzz/run.sh);
# a crash fails the run and leaves its input in build-fuzz/fuzz/.
echo "== fuzzing smoke =="
bash tests/fuzz/run.sh 20

# The Debian package and the container image, each built, installed and run here.
step "packaging: Debian package"
bash packaging/test-deb.sh
step "packaging: container image"
bash packaging/test-container.sh
# The README's first command, as a user runs it, then its quick start.
step "packaging: the README's first command"
bash packaging/test-build-and-run.sh
step "all passed"
