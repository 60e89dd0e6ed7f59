#!/usr/bin/env bash
# Line coverage of the files each harness targets: builds the harnesses with clang's
# source-based coverage in build-fuzz-cov/, replays a corpus through each (by default
# tests/fuzz/corpus/<name>; CORPUS_ROOT=<dir> takes <dir>/<name> as well) and prints
# llvm-cov's line coverage per harness. `coverage.sh mux` does one harness.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${EXPOSR_FUZZ_COV_BUILD:-$root/build-fuzz-cov}
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(mux ws_handshake ingress config api_body cluster)

declare -A files=(
	[mux]="modules/transport-ws/mux.c modules/transport-ws/mux_channel.c lib/mux/mux_frame.c lib/chan/chan_stream.c"
	[ws_handshake]="modules/transport-ws/ws_handshake.c"
	[ingress]="core/http/http_strict/http_reader.c modules/ingress-http/rewrite.c core/http/http_strict/http_response.c core/http/http_strict/http_strict.c"
	[config]="core/config/cfg.c"
	[api_body]="lib/common/json_body.c lib/common/joi.c lib/util/whatwg_url.c lib/common/b64.c lib/common/bearer.c lib/common/path_match.c lib/util/query.c lib/util/percent_decode.c modules/api-v1/tunnel_patch.c"
	[cluster]="core/cluster/cluster.c core/cluster/cluster_message.c core/cluster/cluster_announce.c core/cluster/cluster_nodes.c"
)

targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
CC=${CC:-clang} cmake -S "$root" -B "$build" -DEXPOSR_FUZZ=ON -DEXPOSR_FUZZ_COVERAGE=ON \
	-DEXPOSR_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null

for h in "${harnesses[@]}"; do
	corpora=("$here/corpus/$h")
	[ -z "${CORPUS_ROOT:-}" ] || [ ! -d "$CORPUS_ROOT/$h" ] || corpora+=("$CORPUS_ROOT/$h")
	profiles=$(mktemp -d)
	LLVM_PROFILE_FILE="$profiles/%p.profraw" "$build/fuzz/fuzz_$h" -runs=0 "${corpora[@]}" \
		>/dev/null 2>&1
	llvm-profdata merge -sparse "$profiles"/*.profraw -o "$profiles/all.profdata"
	sources=()
	for f in ${files[$h]}; do sources+=("$root/$f"); done
	echo "fuzz_$h:"
	llvm-cov report "$build/fuzz/fuzz_$h" -instr-profile="$profiles/all.profdata" \
		"${sources[@]}" |
		awk 'NF >= 10 && $1 != "Filename" { print "  " $1, $(NF-5) - $(NF-4) "/" $(NF-5), "lines", $(NF-3) }' |
		sed "s|$root/||"
	rm -rf "$profiles"
done
