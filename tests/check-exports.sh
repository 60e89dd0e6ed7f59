#!/usr/bin/env bash
# Every module shared object exports exactly one symbol: its descriptor `exposr_module`.
# Usage: check-exports.sh MODULE_DIR (fixture modules, which break rules on purpose, are
# skipped).
set -euo pipefail
dir=$1
passed=0
failed=0
for so in "$dir"/*.so; do
	case "$(basename "$so")" in fixture*) continue ;; esac
	# AddressSanitizer adds an __odr_asan.<name> marker for each exported variable.
	symbols=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^__odr_asan\.' | sort | tr '\n' ' ')
	if [ "$symbols" = "exposr_module " ]; then
		passed=$((passed + 1))
	else
		echo "$(basename "$so") exports: $symbols"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
