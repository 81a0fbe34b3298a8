#!/usr/bin/env bash
# Lay the series onto a kernel tree.
#
#   prepare-tree.sh base             unpack the pinned base once ($BUILD/BASE/base)
#   prepare-tree.sh tree DIR [N]     make DIR = base + the first N entries of
#                                    the series (all by default)
#
# The tree is only touched where its content changes, so an edit to one
# file of the repo recompiles only what depends on that file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_base() {
	local base=$BDIR/base ver
	[ -f "$base/.git/snp-cgroup-base" ] && return 0
	[ -f "$LINUX_TARBALL" ] ||
		die "$LINUX_TARBALL missing: run scripts/install-deps.sh"
	note "unpacking $LINUX_TARBALL into $base"
	rm -rf "$base.tmp" "$base"
	mkdir -p "$base.tmp"
	tar -C "$base.tmp" --strip-components=1 -xf "$LINUX_TARBALL"
	ver=$(base_version "$base.tmp")
	# shellcheck disable=SC2254
	case $ver in
	$BASE_VERSION) ;;
	*) die "$LINUX_TARBALL is Linux $ver; BASE=$BASE wants $BASE_VERSION" ;;
	esac
	git -C "$base.tmp" init -q -b pristine
	git -C "$base.tmp" -c user.name=base -c user.email=base@invalid \
		add -f -A . >/dev/null
	git -C "$base.tmp" -c user.name=base -c user.email=base@invalid \
		commit -q -m "Linux $ver (Debian $BASE_PKG)"
	git -C "$base.tmp" tag base
	echo "$ver" > "$base.tmp/.git/snp-cgroup-base"
	mv "$base.tmp" "$base"
}

# prepare_tree DIR N: stage base + first N entries and sync them into DIR
prepare_tree() {
	local dir=$1 limit=$2 stage idx n=0 patch files changed f
	local manifest=$dir/.git/snp-cgroup-manifest
	if [ ! -d "$dir/.git" ]; then
		note "cloning base into $dir"
		git clone -q --shared "$BDIR/base" "$dir"
	fi
	stage=$(mktemp -d)
	idx=$(mktemp)
	trap 'rm -rf "$stage" "$idx"' RETURN
	GIT_INDEX_FILE=$idx git -C "$dir" read-tree base
	: > "$stage/list"
	while read -r patch files; do
		[ "$n" -lt "$limit" ] || break
		n=$((n + 1))
		[ -f "$PATCHES/$patch" ] || die "series names missing patches/$patch"
		if patch_has_diff "$PATCHES/$patch"; then
			GIT_INDEX_FILE=$idx git -C "$dir" apply --cached \
				"$PATCHES/$patch" 2>"$stage/err" || {
				cat "$stage/err" >&2
				die "${PATCHES#$TOP/}/$patch does not apply to Linux $(cat "$BDIR/base/.git/snp-cgroup-base")"
			}
		fi
		for f in $files; do
			[ -f "$TOP/linux/$f" ] || die "series names missing linux/$f"
			echo "$f" >> "$stage/list"
		done
	done < <(series_entries)
	changed=$(GIT_INDEX_FILE=$idx git -C "$dir" diff-index --cached --name-only base)
	if [ -n "$changed" ]; then
		# shellcheck disable=SC2086
		GIT_INDEX_FILE=$idx git -C "$dir" checkout-index --prefix="$stage/tree/" -- $changed
		echo "$changed" >> "$stage/list"
	fi
	mkdir -p "$stage/tree"
	while read -r f; do
		[ -f "$TOP/linux/$f" ] || continue
		mkdir -p "$stage/tree/$(dirname "$f")"
		copy_new_file "$TOP/linux/$f" "$stage/tree/$f"
	done < "$stage/list"
	rsync -rc "$stage/tree/" "$dir/"
	# Files an earlier run changed that this one does not: restore them.
	if [ -f "$manifest" ]; then
		sort -u "$manifest" | comm -23 - <(sort -u "$stage/list") |
		while read -r f; do
			if git -C "$dir" cat-file -e "base:$f" 2>/dev/null; then
				git -C "$dir" checkout -q base -- "$f"
			else
				rm -f "$dir/$f"
			fi
		done
	fi
	sort -u "$stage/list" > "$manifest"
	rm -f "$stage/list"
}

case ${1:-} in
base) ensure_base ;;
tree)
	[ -n "${2:-}" ] || die "usage: $0 tree DIR [N]"
	ensure_base
	prepare_tree "$2" "${3:-1000000}"
	;;
*) die "usage: $0 base | tree DIR [N]" ;;
esac
