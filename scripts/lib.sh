# Shared helpers for the build scripts. Sourced, not run.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
LINUX_TARBALL=${LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
SERIES=$TOP/patches/series
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/snp-cgroup-ccache}
# Paths under the checkout hash relative, so any clone shares the cache.
export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=true
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=build KBUILD_BUILD_HOST=snp-cgroup

die() { echo "error: $*" >&2; exit 1; }
note() { echo ">>> $*" >&2; }

# series_entries: print "patchfile newfile..." for each entry of the series
series_entries() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES"
}

# patch_has_diff FILE: true when the patch file carries a diff
patch_has_diff() { grep -q '^diff --git ' "$1"; }

# base_version DIR: "6.12.N" from a kernel tree's Makefile
base_version() {
	awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3}
	     END {print v "." p "." s}' "$1/Makefile"
}
