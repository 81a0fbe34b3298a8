# Shared helpers for the build scripts. Sourced, not run.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Trees and objects live per machine outside the checkout, as ccache's
# cache does: the trees are synced by content (prepare-tree.sh), so a fresh
# clone rebuilds only what differs from the last build on the machine.
# Two checkouts running make check at once would share them: don't.
BUILD=${BUILD:-${XDG_CACHE_HOME:-$HOME/.cache}/snp-cgroup-build}

# The kernel the series is made for: BASE=7.3 (mainline, the default) or
# BASE=6.12 (the backport). Each base has its own series of patches to
# upstream files; the new files in linux/ are shared.
BASE=${BASE:-7.3}
# Sources fetched without adding their suite to the system, and what is
# built from them, live outside the repo.
SRC_CACHE=${SRC_CACHE:-$HOME/.cache/snp-cgroup-src}
# Mainline needs a sparse that knows __typeof_unqual__ (install-deps.sh).
SPARSE_PKG_VERSION=0.6.5~rc1-2
SPARSE_SHA256=3ac8855ec7f3ab92f325be0f64347ccc2b10f8b4d7c2906783ee8e2bdab3f0de
SPARSE=$SRC_CACHE/sparse-${SPARSE_PKG_VERSION%-*}/sparse
case $BASE in
7.3)
	# Debian's linux-source-7.3 from trixie-backports, fetched by
	# install-deps.sh into a cache outside the repo, never installed.
	BASE_PKG=linux-source-7.3
	BASE_PKG_VERSION=7.3.4-1~bpo13+1
	BASE_PKG_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
	BASE_VERSION=7.3.4
	LINUX_TARBALL=$SRC_CACHE/$BASE_PKG-$BASE_PKG_VERSION/usr/src/$BASE_PKG.tar.xz
	PATCHES=$TOP/patches
	;;
6.12)
	# Debian's linux-source-6.12 from bookworm-backports, installed.
	BASE_PKG=linux-source-6.12
	BASE_VERSION=6.12.*
	LINUX_TARBALL=/usr/src/linux-source-6.12.tar.xz
	PATCHES=$TOP/patches/6.12
	;;
*)
	echo "error: BASE=$BASE: the bases are 7.3 and 6.12" >&2
	exit 1
	;;
esac
# Trees and objects of one base: base (pristine), linux (patched), obj-*.
BDIR=$BUILD/$BASE
SERIES=$PATCHES/series
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/snp-cgroup-ccache}
# Every compile runs in BUILD, on trees in BUILD: paths under it hash
# relative to the object directory, so BUILD=DIR anywhere shares the cache.
export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=true
# Depend mode: a miss is hashed from the compiler's own -MMD list instead
# of a second preprocessor run. Measured on eight files of the 7.3 debug
# kernel (KASAN, UBSAN), cold: preprocessor mode cost 5 to 30 % more CPU
# than gcc alone, depend mode no more than gcc alone; entries made in
# either mode hit in the other.
export CCACHE_DEPEND=true
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=build KBUILD_BUILD_HOST=snp-cgroup

die() { echo "error: $*" >&2; exit 1; }
note() { echo ">>> $*" >&2; }

# series_entries: print "patchfile newfile..." for each entry of the series
series_entries() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES"
}

# copy_new_file SRC DST: a new file into a tree of this base, through the
# base's $PATCHES/new-files.sed if it has one (API differences of a backport)
copy_new_file() {
	if [ -f "$PATCHES/new-files.sed" ]; then
		sed -f "$PATCHES/new-files.sed" "$1" > "$2"
	else
		cp "$1" "$2"
	fi
}

# result_key FILE...: a short hash of what is on stdin (what is built),
# the FILEs (configs, scripts) and the compiler. The same key builds the
# same way, so a result seen to pass for a key can be kept (see
# build-matrix.sh, make-series.sh, check.sh).
result_key() {
	{
		cat - "$@"
		gcc --version | head -1
		ccache --version 2>/dev/null | head -1
	} | sha256sum | cut -c1-16
}

# tree_key DIR FILE...: result_key of a build of the prepared tree DIR:
# its base and the content of every file the series changed or added
# (prepare-tree.sh's manifest)
tree_key() {
	local dir=$1
	shift
	{
		git -C "$dir" rev-parse base
		(cd "$dir" && sort -u .git/snp-cgroup-manifest | xargs -r -d '\n' sha256sum)
	} | result_key "$@"
}

# patch_has_diff FILE: true when the patch file carries a diff
patch_has_diff() { grep -q '^diff --git ' "$1"; }

# base_version DIR: "6.12.N" from a kernel tree's Makefile
base_version() {
	awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3}
	     END {print v "." p "." s}' "$1/Makefile"
}

# kvm_selftests BASE: the KVM selftests of tests/kvm-selftests.list that
# exist on a base, by their path on that base
kvm_selftests() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/tests/kvm-selftests.list" |
	while read -r t bases; do
		[ -z "$bases" ] || [[ " $bases " == *" $1 "* ]] || continue
		[ "$1" = 6.12 ] && t=${t/#x86\//x86_64/}
		echo "$t"
	done
}

# isolated_apt NAME SOURCE-LINE...: sets apt_opts, the apt-get options of
# an apt of its own in $SRC_CACHE/apt-NAME (its sources list, lists and
# cache there, nothing of the system's), with the SOURCE-LINEs as its
# list, updated. A suite the system must not have (trixie's, sid's) is
# fetched from this way and never added to the system's sources.
apt_opts=()
isolated_apt() {
	local apt=$SRC_CACHE/apt-$1
	shift
	apt_opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
		  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		  -o APT::Sandbox::User=root)
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/src"
	printf '%s\n' "$@" > "$apt/sources.list"
	apt-get "${apt_opts[@]}" update -q >&2
}

# fetch_dsc NAME PACKAGE VERSION SHA256 SOURCE-LINE...: the pinned source
# package PACKAGE=VERSION (its .dsc, whose SHA-256 covers the files it
# names, and those files) into $SRC_CACHE/apt-NAME/src, through
# isolated_apt; prints the .dsc's path. Fetched once. Says why and
# returns 1 when the sources no longer have VERSION (a point release
# moved on: it names the versions they have), 2 for any other failure
# (apt, the download, a .dsc that is not the pinned one).
fetch_dsc() {
	local name=$1 pkg=$2 ver=$3 sha=$4 avail
	shift 4
	local src=$SRC_CACHE/apt-$name/src
	local dsc=$src/${pkg}_${ver#*:}.dsc
	if [ ! -f "$dsc" ]; then
		isolated_apt "$name" "$@" || { note "apt-get update failed for: $*"; return 2; }
		if ! (cd "$src" && rm -f ./* &&
		      apt-get "${apt_opts[@]}" source --download-only -q "$pkg=$ver" >&2); then
			avail=$(apt-cache "${apt_opts[@]}" showsrc "$pkg" 2>/dev/null |
				sed -n 's/^Version: //p' | sort -u | tr '\n' ' ')
			avail=${avail% }
			case " $avail " in
			"  ")
				note "no $pkg source at all in ${*#deb-src }: is the mirror reachable?"
				return 2 ;;
			*" $ver "*)
				note "$pkg $ver is in ${*#deb-src }, but apt-get source failed"
				return 2 ;;
			esac
			note "$pkg $ver is not in ${*#deb-src } (it has: $avail): a point release moved it on; pin the new version and its .dsc's SHA-256, and check that the patches still apply"
			return 1
		fi
	fi
	if ! echo "$sha  $dsc" | sha256sum -c --quiet >&2; then
		note "$dsc: SHA-256 differs from the pinned $sha"
		return 2
	fi
	echo "$dsc"
}
