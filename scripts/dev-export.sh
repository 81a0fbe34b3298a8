#!/usr/bin/env bash
# Developer tool: refresh the diffs of patches/*.patch from a kernel tree
# whose commits after "base" correspond, in order, to the series entries.
# The message part of each patch file is kept; the diff is replaced by the
# commit's changes to upstream files (new files stay in linux/).
#
#   dev-export.sh DEVTREE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dev=$(realpath "$1")
mapfile -t commits < <(git -C "$dev" rev-list --reverse base..HEAD)
i=0
while read -r patch files; do
	c=${commits[$i]:-}
	[ -n "$c" ] || die "no commit in $dev for $patch"
	p=$PATCHES/$patch
	excl=()
	for f in $files; do excl+=(":!$f"); done
	{
		sed -n '/^---$/q; p' "$p"
		echo "---"
		git -C "$dev" diff "$c~1" "$c" -- . "${excl[@]}"
	} > "$p.new"
	mv "$p.new" "$p"
	i=$((i + 1))
done < <(series_entries)
echo "refreshed $i patches from $dev"
