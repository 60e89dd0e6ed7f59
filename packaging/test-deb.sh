#!/usr/bin/env bash
# Builds the Debian package with CPack, checks it, installs it on this machine with
# apt-get, runs the installed exposrd by hand as the `exposrd` service user (compiled-in
# module directory and configuration, ports moved to free loopback ports through
# EXPOSR_* variables), drives it with packaging/smoke.mjs and with the installed exposr
# client (a page through a tunnel), then removes and purges the package again. Debian 12, as root. Build directory: $EXPOSRD_PKG_BUILD (build-pkg).
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$PKG_DIR")
cd "$ROOT"
# shellcheck source=packaging/testlib.sh
source "$PKG_DIR/testlib.sh"
BUILD=${EXPOSRD_PKG_BUILD:-$ROOT/build-pkg}
MODULE_DIR=/usr/lib/exposrd/modules
CONFIG=/etc/exposrd/exposrd.yaml
work=$(mktemp -d)
server_pid=

# installed, config-files, not-installed, ...
pkg_state() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' exposrd 2>/dev/null) || st=not-installed
	echo "${st:-not-installed}"
}

cleanup() {
	local rc=$?
	if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
	# Leave the machine as it was, even after a failure.
	if [ "$(pkg_state)" != not-installed ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq exposrd >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

step "install the build dependencies"
bash packaging/install-deps.sh package
ensure_tools
ensure_node_modules "$ROOT"

step "build and cpack"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DEXPOSR_TESTS=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
rm -f "$BUILD"/exposrd_*.deb
(cd "$BUILD" && cpack -G DEB >/dev/null)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
arch=$(dpkg --print-architecture)
deb=$BUILD/exposrd_${version}_${arch}.deb
[ -f "$deb" ] || die "cpack made $(ls "$BUILD"/*.deb 2>/dev/null || echo nothing), not $deb"
ok "built $(basename "$deb"), $(stat -c %s "$deb") bytes"

step "inspect the package"
dpkg-deb -I "$deb" >"$work/info"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
depends=$(dpkg-deb -f "$deb" Depends)
log "Depends: $depends"
log "Installed-Size: $(dpkg-deb -f "$deb" Installed-Size) KiB"
check "/usr/sbin/exposrd in the package" grep -qx /usr/sbin/exposrd "$work/files"
check "/usr/bin/exposr (the client) in the package" grep -qx /usr/bin/exposr "$work/files"
check "$MODULE_DIR/ in the package" grep -qx "$MODULE_DIR/" "$work/files"
check "$CONFIG in the package" grep -qx "$CONFIG" "$work/files"
check "exposrd.service in the package" grep -qx /usr/lib/systemd/system/exposrd.service "$work/files"
check "exposrd(8) in the package" grep -qx /usr/share/man/man8/exposrd.8 "$work/files"
check "exposr(1) in the package" grep -qx /usr/share/man/man1/exposr.1 "$work/files"
check "$CONFIG is a conffile" sh -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | grep -qx '$CONFIG'"
# Every module the build produced is in the package.
built_modules=()
for so in "$BUILD"/modules/*.so; do
	[ -e "$so" ] || continue
	m=$(basename "$so" .so)
	built_modules+=("$m")
	check "module $m in the package" grep -qx "$MODULE_DIR/$m.so" "$work/files"
done
log "modules built: ${built_modules[*]:-none}"
# Every library any packaged ELF file needs comes from a package in Depends.
mkdir "$work/root"
dpkg-deb -x "$deb" "$work/root"
owner() { # the package that ships a library file, under its /usr or its merged /lib name
	local p
	for p in "$1" "$(readlink -f "$1")" "${1#/usr}" "/usr${1#/usr}"; do
		dpkg -S "$p" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return 0
	done
	return 1
}
mapfile -t needed < <(find "$work/root" -type f -exec sh -c 'file -b "$1" | grep -q ^ELF' _ {} \; -print0 |
	xargs -0 -r objdump -p | awk '/NEEDED/ {print $2}' | sort -u)
needed_pkgs=()
for lib in "${needed[@]}"; do
	# (awk reads all of ldconfig's output: an early exit is a SIGPIPE under pipefail)
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|AArch64/ && !p {p = $NF} END {print p}')
	[ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !p {p = $NF} END {print p}')
	if p=$(owner "$path"); then needed_pkgs+=("$p"); else fail "no package owns $lib ($path)"; fi
done
mapfile -t needed_pkgs < <(printf '%s\n' "${needed_pkgs[@]}" | sort -u)
for p in "${needed_pkgs[@]}"; do
	check "Depends names $p (owner of a NEEDED library)" grep -Eq "(^|, )$p( |,|$)" <<<"$depends"
done

step "apt-get install ./$(basename "$deb")"
if [ "$(pkg_state)" != not-installed ]; then
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq exposrd >/dev/null
fi
(cd "$BUILD" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$(basename "$deb")" >"$work/apt.log" 2>&1) ||
	{ cat "$work/apt.log"; die "apt-get install ./$(basename "$deb")"; }
ok "installed $(dpkg-query -W -f='${Package} ${Version}' exposrd)"

step "check the installed package"
check "exposrd is installed in /usr/sbin" test -x /usr/sbin/exposrd
uid=$(id -u exposrd 2>/dev/null || echo none)
check "system user exposrd exists (uid $uid)" test "$uid" != none -a "$uid" -lt 1000
check "exposrd's shell is nologin" test "$(getent passwd exposrd | cut -d: -f7)" = /usr/sbin/nologin
check "$CONFIG is root:exposrd 0640" test "$(stat -c '%U:%G %a' "$CONFIG")" = "root:exposrd 640"
check "exposrd --version" sh -c '/usr/sbin/exposrd --version | grep -q "^exposrd "'
# Minimal images tell dpkg to leave manual pages out; then only the package can be checked.
if grep -qs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
	log "note - dpkg is configured to leave /usr/share/man out: manual pages not installed here"
elif command -v man >/dev/null 2>&1; then
	check "man -w exposrd finds exposrd(8)" sh -c 'test "$(man -w exposrd)" = /usr/share/man/man8/exposrd.8'
	check "man -w exposr finds exposr(1)" sh -c 'test "$(man -w 1 exposr)" = /usr/share/man/man1/exposr.1'
else
	check "exposrd(8) installed" test -f /usr/share/man/man8/exposrd.8
	check "exposr(1) installed" test -f /usr/share/man/man1/exposr.1
fi
check "exposr --version (the client, on PATH)" sh -c 'exposr --version | grep -q "^exposr "'
for m in "${built_modules[@]}"; do
	check "$MODULE_DIR/$m.so installed" test -f "$MODULE_DIR/$m.so"
done
# The Deployment docs give the environment form of every option exposrd has.
docs=README.md
undocumented=()
for o in $(/usr/sbin/exposrd --help --show-hidden | grep -oE -- '--[a-z0-9-]+' | sort -u); do
	case "$o" in --help | --version | --show-hidden) continue ;; esac
	env=EXPOSR_$(tr 'a-z-' 'A-Z_' <<<"${o#--}")
	grep -q "\`$env\`" "$docs" || undocumented+=("$env")
done
check "$docs documents every option's EXPOSR_* variable${undocumented:+ (missing: ${undocumented[*]})}" \
	test ${#undocumented[@]} -eq 0
if command -v systemd-analyze >/dev/null 2>&1; then
	if systemd-analyze verify /usr/lib/systemd/system/exposrd.service >"$work/verify" 2>&1; then
		ok "systemd-analyze verify exposrd.service"
	else
		cat "$work/verify"
		fail "systemd-analyze verify exposrd.service"
	fi
	log "exposure: $(systemd-analyze security --offline=true /usr/lib/systemd/system/exposrd.service 2>/dev/null | tail -1 || echo 'n/a')"
else
	log "note - systemd-analyze is not installed: unit not verified"
fi

step "run the installed exposrd as the service user"
mapfile -t default_modules < <(enabled_modules "$CONFIG")
missing=()
for m in "${default_modules[@]}"; do
	[ -f "$MODULE_DIR/$m.so" ] || missing+=("$m")
done
port=$(free_port)
# The service's own environment: the installed YAML file, loopback ports by EXPOSR_*.
run_env=(EXPOSR_BIND_ADDRESS=127.0.0.1 EXPOSR_API_PORT="$port" EXPOSR_INGRESS_HTTP_PORT="$port"
	EXPOSR_ALLOW_REGISTRATION=true EXPOSR_INGRESS_HTTP_URL=http://localhost:8080)
start_server() { # start_server LOG [extra env...]
	local out=$1; shift
	(cd / && exec setpriv --reuid exposrd --regid exposrd --init-groups --inh-caps=-all \
		env "${run_env[@]}" "$@" /usr/sbin/exposrd) >"$out" 2>&1 &
	server_pid=$!
}
if [ ${#missing[@]} -gt 0 ]; then
	# Not all of the default configuration's modules exist yet: the installed binary
	# must still read the installed YAML file and look in the installed module dir.
	log "waiting - the default configuration's modules ${missing[*]} are not built yet"
	WAITING_NOTES+=("waiting - default config needs ${missing[*]}")
	start_server "$work/default.log"
	rc=0
	wait_exit "$server_pid" 20 || rc=$?
	server_pid=
	cat "$work/default.log"
	check "without them exposrd stops (exit $rc) naming $MODULE_DIR/<missing>.so" \
		grep -Eq "^$MODULE_DIR/($(IFS='|'; echo "${missing[*]}"))\.so: cannot load module" "$work/default.log"
	# ... and runs with the installed modules it has.
	present=()
	for m in "${default_modules[@]}"; do [ -f "$MODULE_DIR/$m.so" ] && present+=("$m"); done
	{
		echo "log: {level: info}"
		[ ${#present[@]} -gt 0 ] && echo "modules:" || echo "modules: {}"
		for m in "${present[@]}"; do echo "  $m: {}"; done
	} >"$work/present.yaml"
	chmod 644 "$work/present.yaml"
	chmod 755 "$work"
	start_server "$work/run.log" EXPOSR_CONFIG="$work/present.yaml"
else
	present=("${default_modules[@]}")
	extra=()
	if [ -f "$MODULE_DIR/admin.so" ]; then
		admin_port=$(free_port)
		extra=(EXPOSR_ADMIN_ENABLE=true EXPOSR_ADMIN_PORT="$admin_port")
		present+=(admin)
	fi
	start_server "$work/run.log" "${extra[@]}"
fi
if wait_for_log "$work/run.log" "running with ${#present[@]} modules from $MODULE_DIR\$" "$server_pid" 20; then
	ok "exposrd runs as user exposrd with ${#present[@]} modules from $MODULE_DIR"
	check "the process runs as exposrd" test "$(ps -o user= -p "$server_pid" | tr -d ' ')" = exposrd
	smoke --label "installed package" --port "$port" --modules "$(IFS=,; echo "${present[*]}")" \
		--ingress-domain localhost:8080 ${admin_port:+--admin-port "$admin_port"} || true
	if printf '%s\n' "${present[@]}" | grep -qx ingress-http; then
		exposr_smoke "installed exposr" "http://127.0.0.1:$port" "$port" localhost:8080 deb-exposr \
			/usr/bin/exposr
	fi
	kill -TERM "$server_pid"
	rc=0
	wait "$server_pid" || rc=$?
	server_pid=
	check "SIGTERM stops it with exit 0" test "$rc" = 0
else
	kill -KILL "$server_pid" 2>/dev/null || true
	server_pid=
	fail "exposrd did not start"
fi
log "--- exposrd's log ---"
cat "$work/run.log"
log "---"

step "remove and purge the package"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq exposrd >/dev/null
check "remove: the package is in state config-files ($(pkg_state))" test "$(pkg_state)" = config-files
check "remove: the binary is gone" test ! -e /usr/sbin/exposrd
check "remove: the client is gone" test ! -e /usr/bin/exposr
check "remove: the modules are gone" test ! -e "$MODULE_DIR"
check "remove: $CONFIG (a conffile) is kept" test -f "$CONFIG"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq exposrd >/dev/null
check "purge: $CONFIG is gone" test ! -e "$CONFIG"
check "purge: user exposrd is gone" sh -c '! getent passwd exposrd >/dev/null'
check "purge: no statoverride left" sh -c '! dpkg-statoverride --list | grep -q exposrd'
check "purge: dpkg no longer knows exposrd ($(pkg_state))" test "$(pkg_state)" = not-installed

log "package: $(basename "$deb") $(stat -c %s "$deb") bytes (Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB)"
for n in "${WAITING_NOTES[@]}"; do [ -n "$n" ] && log "$n"; done
summary
[ "$FAILED" -eq 0 ]
