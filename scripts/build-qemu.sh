#!/usr/bin/env bash
# Build Debian bookworm's QEMU with the patches of userspace/qemu/ (SVM
# Bus Lock Threshold under TCG), the x86_64 system emulator only, with
# the devices the test guests use (userspace/qemu/devices-x86_64.mak).
# The test guests run on it (scripts/vm-run.sh takes it from $QEMU), so
# that the test kernel's kvm_amd takes real bus-lock exits for real
# split-locked instructions of its guests. Nothing is installed; the
# firmware is Debian's (seabios, qemu-system-data).
#
# The pinned source (the .dsc's SHA-256 covers the tarballs it names) is
# fetched without adding deb-src to the system, from the archive or, once
# a point release has replaced it there, from snapshot.debian.org; it is
# unpacked with Debian's own patches, then ours are applied. The build
# lives in $BUILD/qemu-KEY, KEY hashing the version, the patches, the
# device list, this script and the compiler; the same key is not built
# again, and ccache makes a new key cheap. Prints the emulator's path.
#
#   build-qemu.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

QEMU_PKG_VERSION=1:7.2+dfsg-7+deb12u18
QEMU_DSC_SHA256=6b6bd27b947ec89e40a1d6b26d9c9f3c698ca691da13163e0483f6061bbb20b3
dir=$TOP/userspace/qemu

key=$(echo "$QEMU_PKG_VERSION" | result_key "$dir"/*.patch "$dir"/devices-x86_64.mak "$0")
out=$BUILD/qemu-$key
bin=$out/build/qemu-system-x86_64
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

# fetch_snapshot DIR: the pinned version's source files from
# snapshot.debian.org, which keeps every version the archive ever had
fetch_snapshot() {
	local url=https://snapshot.debian.org/mr/package/qemu/${QEMU_PKG_VERSION#*:}/srcfiles?fileinfo=1
	note "qemu $QEMU_PKG_VERSION is no longer in the archive: trying snapshot.debian.org"
	curl -fsS --retry 3 "$url" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for h, infos in d["fileinfo"].items():
    print(h, infos[0]["name"])' | while read -r hash name; do
		curl -fsS --retry 3 -o "$1/$name" "https://snapshot.debian.org/file/$hash"
	done
}

# The archive first (bookworm, its updates and security suites), then
# snapshot.debian.org; the .dsc's SHA-256 is checked either way.
suites=("deb-src http://deb.debian.org/debian bookworm main"
	"deb-src http://deb.debian.org/debian bookworm-updates main"
	"deb-src http://deb.debian.org/debian-security bookworm-security main")
if dsc=$(fetch_dsc qemu qemu "$QEMU_PKG_VERSION" "$QEMU_DSC_SHA256" "${suites[@]}"); then
	:
elif [ $? != 1 ]; then
	die "qemu $QEMU_PKG_VERSION: no pinned source to build (see above)"
else
	dsc=$SRC_CACHE/apt-qemu/src/qemu_${QEMU_PKG_VERSION#*:}.dsc
	fetch_snapshot "${dsc%/*}" >&2 ||
		die "qemu $QEMU_PKG_VERSION: in neither the archive nor snapshot.debian.org"
	echo "$QEMU_DSC_SHA256  $dsc" | sha256sum -c --quiet >&2 ||
		die "$dsc: SHA-256 differs from the pinned $QEMU_DSC_SHA256"
fi
rm -rf "$BUILD"/qemu-*
mkdir -p "$out"
# dpkg-source checks the tarballs against the .dsc and applies Debian's
# patches; the signature is not checked (no keyring), the pinned hash is.
(cd "$out" && dpkg-source --no-check -x "$dsc" src >&2)
for p in "$dir"/*.patch; do
	patch -d "$out/src" -p1 -s --no-backup-if-mismatch < "$p" >&2 ||
		die "$p does not apply to qemu $QEMU_PKG_VERSION"
done
cp "$dir/devices-x86_64.mak" "$out/src/configs/devices/x86_64-softmmu/snp-cgroup.mak"

# Everything optional off but TCG and virtfs (the guests' root is 9p).
# The firmware comes from Debian's packages: vm-run.sh passes its
# directories (-L), as a QEMU outside /usr looks for it beside itself.
mkdir -p "$out/build"
(cd "$out/build" &&
 "$out/src/configure" --target-list=x86_64-softmmu --disable-user \
	--without-default-features --without-default-devices \
	--with-devices-x86_64=snp-cgroup --enable-tcg \
	--enable-virtfs --enable-attr --enable-cap-ng --disable-docs --prefix=/usr \
	--cc=/usr/lib/ccache/gcc --cxx=/usr/lib/ccache/g++ >&2)
# Paths relative to the build, so that a new key hits the same cache.
export CCACHE_BASEDIR=$out
ninja -C "$out/build" qemu-system-x86_64 >&2
"$bin" --version >&2
echo "$bin"
