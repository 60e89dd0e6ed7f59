#!/usr/bin/env bash
# The C sources follow the project's .clang-format: lists every file that does not.
# Usage: check-format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
mapfile -t files < <(find core include lib modules client tests -name node_modules -prune -o \
	-name '*.[ch]' -print | sort)
bad=0
for f in "${files[@]}"; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
echo "${#files[@]} files, $bad not formatted"
[ "$bad" -eq 0 ]
