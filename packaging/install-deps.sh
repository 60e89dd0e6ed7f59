#!/usr/bin/env bash
# Installs what exposrd needs from Debian's packages: `build` for building and
# running it, `test` for also running every test, `package` for building the Debian
# package (also inside the container image's build stage), `container` for
# packaging/test-container.sh. Debian 12, as root.
set -euo pipefail

what=${1:-build}
build_pkgs=(build-essential cmake pkg-config libevent-dev libwslay-dev libhiredis-dev
	libyaml-dev libcjson-dev libssl-dev node-llhttp libsqlite3-dev libssh-dev)
# Not for the build: the README's quick start, after the first command
# (packaging/build-and-run.sh), serves a page with python3 and fetches it with curl.
quickstart_pkgs=(curl python3)
# clang with its sanitizer and libFuzzer runtime builds tests/fuzz; llvm has llvm-cov.
test_pkgs=(libcriterion-dev redis-server curl openssh-client sshpass openssl procps wrk
	clang-format clang libclang-rt-14-dev llvm)
# Only for packaging/: CPack's DEB generator runs file and dpkg-shlibdeps; the
# container test builds and runs the image with buildah on debootstrap'ed images.
package_pkgs=(file dpkg-dev)
container_pkgs=(buildah debootstrap)

pkgs=("${build_pkgs[@]}")
case "$what" in
build) pkgs+=("${quickstart_pkgs[@]}") ;;
package) pkgs+=("${package_pkgs[@]}") ;;
container) pkgs=("${container_pkgs[@]}") ;;
esac
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
