#!/usr/bin/env bash
# Installs what exposrd needs from Debian's packages: `build` for building and
# running it, `test` for also running every test. Debian 12, as root.
set -euo pipefail

what=${1:-build}
build_pkgs=(build-essential cmake pkg-config libevent-dev libwslay-dev libhiredis-dev
	libyaml-dev libcjson-dev libssl-dev node-llhttp)
test_pkgs=(libcriterion-dev redis-server curl openssh-client procps)

pkgs=("${build_pkgs[@]}")
if [ "$what" = test ]; then
	pkgs+=("${test_pkgs[@]}")
	# The integration tests drive exposrd with real clients written for Node.js.
	command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
	command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
