#!/usr/bin/env bash
# Installs the build dependencies, builds exposrd and runs it with the default
# configuration (config/exposrd.yaml); extra arguments go to exposrd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEXPOSR_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec build/exposrd "$@"
