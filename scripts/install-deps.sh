#!/usr/bin/env bash
# Install what the build, the runner and the guest tests need on a Debian
# bookworm host. Adds bookworm-backports (and only that suite) for
# linux-source-6.12. Fetches linux-source-7.3 from trixie-backports
# without adding that suite to the system (it would upgrade libc): a
# separate sources list and state directory, a pinned version and
# SHA-256, unpacked into a cache outside the repo. Mainline's sparse
# check needs a sparse that knows __typeof_unqual__, newer than
# bookworm's 0.6.4: Debian's 0.6.5~rc1 source is fetched the same way
# (from sid's sources, pinned) and built into that cache. Idempotent:
# quick when everything is present.
set -euo pipefail
BASE=7.3 . "$(dirname "$0")/lib.sh"

# fetch_mainline: the pinned linux-source-7.3 into $SRC_CACHE
fetch_mainline() {
	local dir=$SRC_CACHE/$BASE_PKG-$BASE_PKG_VERSION deb
	[ -f "$LINUX_TARBALL" ] && return 0
	isolated_apt linux "deb http://deb.debian.org/debian trixie-backports main"
	(cd "$SRC_CACHE/apt-linux/src" && rm -f ./*.deb &&
	 apt-get "${apt_opts[@]}" download -q "$BASE_PKG=$BASE_PKG_VERSION")
	deb=$(ls "$SRC_CACHE/apt-linux/src"/*.deb)
	echo "$BASE_PKG_SHA256  $deb" | sha256sum -c --quiet ||
		die "$deb: SHA-256 differs from the pinned $BASE_PKG_SHA256"
	rm -rf "$dir.tmp"
	dpkg-deb -x "$deb" "$dir.tmp"
	mv "$dir.tmp" "$dir"
	rm -f "$deb"
	[ -f "$LINUX_TARBALL" ] || die "$deb holds no $LINUX_TARBALL"
}
# build_sparse: the pinned sparse source, built into $SPARSE
build_sparse() {
	local dir=${SPARSE%/sparse} tgz
	[ -x "$SPARSE" ] && return 0
	isolated_apt sparse "deb-src http://deb.debian.org/debian sid main"
	(cd "$SRC_CACHE/apt-sparse/src" && rm -f ./* &&
	 apt-get "${apt_opts[@]}" source --download-only -q "sparse=$SPARSE_PKG_VERSION")
	tgz=$SRC_CACHE/apt-sparse/src/sparse_${SPARSE_PKG_VERSION%-*}.orig.tar.gz
	echo "$SPARSE_SHA256  $tgz" | sha256sum -c --quiet ||
		die "$tgz: SHA-256 differs from the pinned $SPARSE_SHA256"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	tar -xzf "$tgz" -C "$dir.tmp" --strip-components=1
	make -s -C "$dir.tmp" -j"$(nproc)" sparse HAVE_LLVM=no HAVE_SQLITE=no \
		HAVE_GTK=no HAVE_LIBXML=no >/dev/null 2>&1
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	rm -rf "$SRC_CACHE/apt-sparse/src"
}
# fetch_promtool: promtool, the parser tests/rate-top.bats checks the
# metrics and the alert rules with, from Debian's prometheus package:
# unpacked into $BUILD/tools (the guest reaches it there), not installed,
# as the package would start a Prometheus server
fetch_promtool() {
	local dir=$BUILD/tools tmp
	[ -x "$dir/promtool" ] && return 0
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/prometheus.XXXXXX")
	chmod 755 "$tmp"
	if ! (cd "$tmp" && apt-get -o APT::Sandbox::User=root download -q prometheus >/dev/null); then
		rm -rf "$tmp"
		echo "install-deps: cannot download Debian's prometheus package: the promtool tests will skip" >&2
		return 0
	fi
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
	mv "$tmp/x/usr/bin/promtool" "$dir/promtool"
	rm -rf "$tmp"
}

fetch_mainline

pkgs=(linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
      ccache cpio xz-utils kmod qemu-system-x86 bats cgroup-tools sparse
      python3 git rsync libcap-dev clang libclang-rt-14-dev valgrind
      gnuplot-nox iproute2 jq runc crun podman busybox-static python3-prometheus-client
      libjansson-dev e2fsprogs util-linux
      meson ninja-build gperf pkg-config libmount-dev python3-jinja2 dpkg-dev
      libglib2.0-dev libpixman-1-dev zlib1g-dev libcap-ng-dev libattr1-dev libfdt-dev seabios)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	build_sparse
	fetch_promtool
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root" >&2
	exit 1
fi

list=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deb http://deb.debian.org/debian bookworm-backports main" > "$list"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends -t bookworm-backports linux-source-6.12
apt-get install -y -q --no-install-recommends "${missing[@]}"
build_sparse
fetch_promtool
