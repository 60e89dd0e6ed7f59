#!/usr/bin/env bash
# Builds the container image (packaging/Containerfile) and runs it on this machine
# without a Docker engine: buildah with the vfs storage driver builds it, and
# `buildah run --isolation chroot --network host` starts it. Where no debian:bookworm
# or debian:bookworm-slim image is in buildah's store, they are made first from one
# debootstrap (minbase) of the machine's configured Debian mirror, cached as root file
# system tarballs in $EXPOSRD_IMAGE_CACHE (/var/cache/exposrd-test) and imported under
# those names. The running container is driven on loopback with packaging/smoke.mjs:
# the seed's quick-start command line unchanged, then a mounted YAML file with EXPOSR_*
# variables, where the image's exposr client (`IMAGE exposr -s ... tunnel connect ...`)
# carries a page through a tunnel. Reports the time of each step and the image size. Debian 12, as root.
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$PKG_DIR")
cd "$ROOT"
# shellcheck source=packaging/testlib.sh
source "$PKG_DIR/testlib.sh"
CACHE=${EXPOSRD_IMAGE_CACHE:-/var/cache/exposrd-test}
IMAGE=${EXPOSRD_IMAGE:-localhost/exposrd:test}
SUITE=bookworm
BUILDAH=(buildah --storage-driver vfs)
MODULE_DIR=/usr/lib/exposrd/modules
work=$(mktemp -d)
chmod 755 "$work"
ctr=
run_pid=

cleanup() {
	local rc=$?
	[ -n "$run_pid" ] && stop_container KILL >/dev/null 2>&1
	[ -n "$ctr" ] && "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1
	rm -rf "$work" "$CACHE/rootfs.tmp"
	exit $rc
}
trap cleanup EXIT

# --- base images -------------------------------------------------------------------

# The machine's configured Debian mirror for $SUITE (deb822 or one-line sources).
debian_mirror() {
	local m
	m=$(awk -v s="$SUITE" '
		/^[Tt]ypes:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
		/^URIs:/ { uri = $2 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) found = 1 }
		/^$/ { if (deb && found && uri != "") { print uri; exit } deb = found = 0; uri = "" }
		END { if (deb && found && uri != "") print uri }
	' /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 1p)
	[ -n "$m" ] || m=$(awk -v s="$SUITE" '$1 == "deb" && $0 ~ " " s " " {
		for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -n 1p)
	echo "${m:-http://deb.debian.org/debian}"
}

# Makes $CACHE/debian-$SUITE.tar and debian-$SUITE-slim.tar from one debootstrap, set up
# the way Debian's official images are (apt settings, and for slim no docs or man pages).
make_rootfs_tarballs() {
	local mirror rootfs=$CACHE/rootfs.tmp
	mirror=$(debian_mirror)
	log "debootstrap --variant=minbase $SUITE from $mirror"
	rm -rf "$rootfs"
	mkdir -p "$CACHE"
	debootstrap --variant=minbase --arch="$(dpkg --print-architecture)" "$SUITE" "$rootfs" "$mirror" \
		>"$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log"; return 1; }
	# The image's apt uses the machine's mirror: its Debian sources and any
	# Acquire::Check-* setting that mirror needs (no credentials, no proxies).
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		rm -f "$rootfs/etc/apt/sources.list"
		cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
	elif [ -f /etc/apt/sources.list ]; then
		grep -E '^deb .*debian' /etc/apt/sources.list >"$rootfs/etc/apt/sources.list" || true
	fi
	grep -hE '^Acquire::Check-(Valid-Until|Date)' /etc/apt/apt.conf.d/* 2>/dev/null \
		>"$rootfs/etc/apt/apt.conf.d/99mirror" || rm -f "$rootfs/etc/apt/apt.conf.d/99mirror"
	cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
	echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
	echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
	chroot "$rootfs" apt-get clean
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
		"$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf "$rootfs"/tmp/* "$rootfs"/root/.bash_history
	: >"$rootfs/etc/machine-id" 2>/dev/null || true
	local tarflags=(--numeric-owner --xattrs --exclude=./dev/* --exclude=./proc/* --exclude=./sys/*
		--exclude=./run/* -C "$rootfs")
	tar "${tarflags[@]}" -cf "$CACHE/debian-$SUITE.tar.tmp" .
	mv "$CACHE/debian-$SUITE.tar.tmp" "$CACHE/debian-$SUITE.tar"
	# slim: no documentation, man pages or translations, now or after later installs.
	cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<-'EOF'
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/linda/*
		path-exclude /usr/share/lintian/overrides/*
		path-exclude /usr/share/locale/*
		path-exclude /usr/share/man/*
	EOF
	find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
	tar "${tarflags[@]}" -cf "$CACHE/debian-$SUITE-slim.tar.tmp" .
	mv "$CACHE/debian-$SUITE-slim.tar.tmp" "$CACHE/debian-$SUITE-slim.tar"
	rm -rf "$rootfs"
	log "cached $(du -h "$CACHE/debian-$SUITE.tar" | cut -f1) debian-$SUITE.tar and" \
		"$(du -h "$CACHE/debian-$SUITE-slim.tar" | cut -f1) debian-$SUITE-slim.tar in $CACHE"
}

import_image() { # import_image TARBALL NAME
	local c
	c=$("${BUILDAH[@]}" from scratch)
	"${BUILDAH[@]}" add "$c" "$1" / >/dev/null
	"${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--cmd bash --os linux --arch "$(dpkg --print-architecture)" "$c"
	"${BUILDAH[@]}" commit --quiet --rm "$c" "$2" >/dev/null
	ok "imported $2 ($(image_size "$2"))"
}

image_size() {
	"${BUILDAH[@]}" images --format '{{.Size}}' "$1" | sed -n 1p
}

has_image() {
	"${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1
}

# --- running the image ---------------------------------------------------------------

# run_container LOG [buildah run options...] -- [arguments...]: starts the image's
# entrypoint as `docker run IMAGE arguments` would, in the background.
run_container() {
	local out=$1; shift
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	"${BUILDAH[@]}" run --isolation chroot --network host "${opts[@]}" "$ctr" -- \
		"${ENTRYPOINT[@]}" "$@" >"$out" 2>&1 &
	run_pid=$!
}

# The exposrd process under `buildah run` (a descendant of it).
exposrd_pid() {
	descendant_named "$run_pid" exposrd
}

stop_container() { # stop_container [SIGNAL]: ends exposrd, returns buildah run's status
	local sig=${1:-TERM} pid rc=0
	pid=$(exposrd_pid) && kill -"$sig" "$pid" 2>/dev/null
	wait "$run_pid" || rc=$?
	run_pid=
	return $rc
}

# === the test ========================================================================

step "install buildah, debootstrap and node"
bash packaging/install-deps.sh container
ensure_tools
ensure_node_modules "$ROOT"
log "$(buildah --version)"

step "base images debian:$SUITE and debian:$SUITE-slim"
for name in "$SUITE" "$SUITE-slim"; do
	ref=docker.io/library/debian:$name
	if has_image "$ref"; then
		ok "$ref is in buildah's store ($(image_size "$ref"))"
		continue
	fi
	if [ ! -f "$CACHE/debian-$name.tar" ]; then
		step "debootstrap (not cached yet)"
		make_rootfs_tarballs
		step "import the base images"
	fi
	import_image "$CACHE/debian-$name.tar" "$ref"
done

step "buildah bud packaging/Containerfile"
# Working containers an interrupted run left behind.
for c in $("${BUILDAH[@]}" containers --format '{{.ContainerID}} {{.ImageName}}' | awk -v i="$IMAGE" '$2 == i {print $1}'); do
	"${BUILDAH[@]}" rm "$c" >/dev/null
done
# No layer cache: with vfs every cached layer is a full copy of its file system.
old_id=$("${BUILDAH[@]}" images --quiet --no-trunc "$IMAGE" 2>/dev/null || true)
"${BUILDAH[@]}" bud --isolation chroot --network host --pull=never \
	-f packaging/Containerfile --ignorefile packaging/Containerfile.dockerignore \
	-t "$IMAGE" . >"$work/build.log" 2>&1 || { tail -60 "$work/build.log"; die "buildah bud"; }
grep -E '^(STEP|COMMIT)' "$work/build.log" || true
ok "built $IMAGE"
# The previous build's image, now untagged, goes.
new_id=$("${BUILDAH[@]}" images --quiet --no-trunc "$IMAGE")
[ -z "$old_id" ] || [ "$old_id" = "$new_id" ] || "${BUILDAH[@]}" rmi "$old_id" >/dev/null 2>&1 || true
size=$(image_size "$IMAGE")
"${BUILDAH[@]}" push --quiet --format oci "$IMAGE" "oci:$work/oci:exposrd" >/dev/null 2>&1 &&
	compressed=$(du -sb "$work/oci/blobs" | awk '{printf "%.1f MB", $1 / 1e6}') || compressed=n/a
log "image $IMAGE: $size in buildah's store; $compressed as compressed OCI layers"
"${BUILDAH[@]}" images

step "check the image"
"${BUILDAH[@]}" inspect --type image "$IMAGE" >"$work/inspect.json"
cfg() { # cfg JS-EXPRESSION: of the image's OCI config `c`, one line per array item
	node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).OCIv1.config ?? {};
		const v = eval(process.argv[2]); for (const x of [].concat(v ?? [])) console.log(x)' "$work/inspect.json" "$1"
}
mapfile -t ENTRYPOINT < <(cfg 'c.Entrypoint')
check "entrypoint is set (${ENTRYPOINT[*]:-none})" test ${#ENTRYPOINT[@]} -gt 0
user=$(cfg 'c.User')
check "runs as a non-root user ($user)" test -n "$user" -a "${user%%:*}" != 0 -a "${user%%:*}" != root
ports=$(cfg 'Object.keys(c.ExposedPorts ?? {}).join(" ")')
check "exposes 8080 and 8081 ($ports)" test "$ports" = "8080/tcp 8081/tcp"
ctr=$("${BUILDAH[@]}" from --pull=never --quiet "$IMAGE")
in_ctr() { "${BUILDAH[@]}" run --isolation chroot --network host "$ctr" -- "$@" 2>/dev/null; }
version_ok() { in_ctr "${ENTRYPOINT[@]}" --version | grep -q '^exposrd '; }
config_ok() { in_ctr cat /etc/exposrd/exposrd.yaml | cmp -s - config/exposrd.yaml; }
check "exposrd --version through the entrypoint" version_ok
check "the entrypoint runs other commands (id -u = 10001)" test "$(in_ctr "${ENTRYPOINT[@]}" id -u)" = 10001
client_ok() { in_ctr "${ENTRYPOINT[@]}" exposr --version | grep -q '^exposr '; }
check "the entrypoint runs the client: exposr --version" client_ok
check "/etc/exposrd/exposrd.yaml is the default configuration" config_ok
check "no compiler and no -dev package in the runtime image" \
	test -z "$(in_ctr sh -c 'command -v cc gcc; dpkg-query -W -f="\${Package}\n" | grep -- "-dev$"' || true)"
mapfile -t image_modules < <(in_ctr sh -c "ls $MODULE_DIR 2>/dev/null | sed -n 's/\\.so\$//p'")
log "modules in the image: ${image_modules[*]:-none}"
check "every library of exposrd, exposr and the modules resolves" \
	test -z "$(in_ctr sh -c "ldd /usr/sbin/exposrd /usr/bin/exposr $MODULE_DIR/*.so 2>/dev/null | grep 'not found'" || true)"

mapfile -t default_modules < <(enabled_modules config/exposrd.yaml)
has_module() { printf '%s\n' "${image_modules[@]}" | grep -qx "$1"; }
missing=()
for m in "${default_modules[@]}"; do has_module "$m" || missing+=("$m"); done

step "run: the seed's quick start"
# The seed's command line, unchanged. Host networking has no -p 8080:8080, so the port
# mapping is played by EXPOSR_* variables (free loopback port) and Host headers.
port=$(free_port)
quick_start=(--api-url http://host.docker.internal:8080 --allow-registration
	--http-ingress-domain http://localhost:8080)
run_container "$work/quick.log" -e EXPOSR_API_PORT="$port" -e EXPOSR_INGRESS_HTTP_PORT="$port" \
	-e EXPOSR_BIND_ADDRESS=127.0.0.1 -- "${quick_start[@]}"
if [ ${#missing[@]} -eq 0 ]; then
	if wait_for_log "$work/quick.log" "running with ${#default_modules[@]} modules from $MODULE_DIR\$" "$run_pid" 30; then
		ok "exposrd runs in the container with ${#default_modules[@]} modules"
		check "exposrd in the container runs as uid 10001" test "$(ps -o uid= -p "$(exposrd_pid)" | tr -d ' ')" = 10001
		smoke --label "container, seed quick start" --port "$port" --modules "$(IFS=,; echo "${default_modules[*]}")" \
			--api-host host.docker.internal:8080 --ingress-domain localhost:8080 || true
		rc=0; stop_container TERM || rc=$?
		check "SIGTERM stops the container with exit 0" test "$rc" = 0
	else
		stop_container KILL || true
		fail "exposrd did not start in the container"
	fi
else
	log "waiting - the default configuration's modules ${missing[*]} are not built yet"
	WAITING_NOTES+=("waiting - the quick start needs ${missing[*]}")
	rc=0
	wait_exit "$run_pid" 30 || rc=$?
	run_pid=
	check "without them the quick start stops (exit $rc) naming $MODULE_DIR/<missing>.so" \
		grep -Eq "^$MODULE_DIR/($(IFS='|'; echo "${missing[*]}"))\.so: cannot load module" "$work/quick.log"
fi
log "--- exposrd's log ---"; cat "$work/quick.log"; log "---"

step "run: a mounted YAML file and EXPOSR_* variables"
# Every module in the image, configured by a YAML file mounted over the default one;
# registration and the ingress URL from the environment.
port=$(free_port)
admin_port=
present=()
entries=()
has_module storage-memory && stored=1 || stored=0
for m in "${image_modules[@]}"; do
	case "$m" in
	api-v1 | ingress-http | transport-ws) # these keep accounts and tunnels in a storage
		[ "$stored" = 1 ] || continue
		entries+=("  $m: {port: $port}") ;;
	admin) admin_port=$(free_port); entries+=("  admin: {port: $admin_port}") ;;
	storage-memory) entries+=("  $m: {}") ;;
	*) continue ;; # admin-api needs a key; its own tests cover it
	esac
	present+=("$m")
done
{
	echo "log: {level: info}"
	echo "http: {bind: 127.0.0.1}"
	if [ ${#entries[@]} -gt 0 ]; then echo "modules:"; printf '%s\n' "${entries[@]}"; else echo "modules: {}"; fi
} >"$work/exposrd.yaml"
chmod 644 "$work/exposrd.yaml"
cat "$work/exposrd.yaml"
run_container "$work/mounted.log" -v "$work/exposrd.yaml:/etc/exposrd/exposrd.yaml:ro" \
	-e EXPOSR_ALLOW_REGISTRATION=true -e EXPOSR_INGRESS_HTTP_URL=http://localhost:8080 --
if wait_for_log "$work/mounted.log" "running with ${#present[@]} modules from $MODULE_DIR\$" "$run_pid" 30; then
	ok "exposrd runs with the mounted configuration (${#present[@]} modules)"
	smoke --label "container, mounted YAML + EXPOSR_*" --port "$port" --modules "$(IFS=,; echo "${present[*]}")" \
		--ingress-domain localhost:8080 ${admin_port:+--admin-port "$admin_port"} || true
	if has_module ingress-http && [ "$stored" = 1 ]; then
		# `docker run --rm -ti --network host exposrd exposr -s ... tunnel connect ...`
		exposr_smoke "exposr in the image" "http://127.0.0.1:$port" "$port" localhost:8080 ctr-exposr \
			"${BUILDAH[@]}" run --isolation chroot --network host "$ctr" -- "${ENTRYPOINT[@]}" exposr
	fi
	if [ -n "$admin_port" ]; then
		# The compose health check of the Deployment docs, from inside the image.
		probe="exec 3<>/dev/tcp/127.0.0.1/$admin_port && printf 'GET /ping HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"
		check "the documented health check (bash /dev/tcp GET /ping) passes in the image" in_ctr bash -c "$probe"
	else
		WAITING_NOTES+=("waiting - the health check needs module admin")
	fi
	rc=0; stop_container TERM || rc=$?
	check "SIGTERM stops the container with exit 0" test "$rc" = 0
else
	stop_container KILL || true
	fail "exposrd did not start with the mounted configuration"
fi
log "--- exposrd's log ---"; cat "$work/mounted.log"; log "---"

"${BUILDAH[@]}" rm "$ctr" >/dev/null
ctr=
log "image: $IMAGE $size ($compressed compressed)"
for n in "${WAITING_NOTES[@]}"; do [ -n "$n" ] && log "$n"; done
summary
[ "$FAILED" -eq 0 ]
