#!/usr/bin/env bash
# Installs the build dependencies, builds exposrd and the exposr client, puts both on
# PATH (symbolic links in /usr/local/bin to build/exposrd and build/exposr) and runs
# exposrd with the default configuration (config/exposrd.yaml); extra arguments go to
# exposrd. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEXPOSR_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
# Links, not copies: a rebuild is on PATH at once, and exposrd run through the link still
# finds its modules and config/exposrd.yaml beside the build tree.
bin_dir=${EXPOSR_BIN_DIR:-/usr/local/bin}
for program in exposrd exposr; do
	ln -sfn "$PWD/build/$program" "$bin_dir/$program"
done
echo "exposrd and exposr are in $bin_dir (links to $PWD/build/)"
exec build/exposrd "$@"
