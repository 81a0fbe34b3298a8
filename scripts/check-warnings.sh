#!/usr/bin/env bash
# Rebuild the series' new C files with W=1 and sparse (C=2, the sparse
# install-deps.sh builds); any warning fails, and so does a sparse the
# kernel finds unfit. Upstream files the patches modify keep their existing sparse
# reports; they are not checked here.
#
# The objects are built in their own directory (obj-warnings, the test
# kernel's config), removed first so that W=1 always compiles them
# (ccache replays a cached compile's warnings): the test kernel's objects
# and vmlinux are left alone and not relinked by the next build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

objs=$(series_entries | tr ' ' '\n' | grep -E '^(kernel|arch|virt|drivers)/.*\.c$' |
	sed 's/\.c$/.o/')
[ -n "$objs" ] || exit 0
obj=$BDIR/obj-warnings
# shellcheck disable=SC2086
for o in $objs; do rm -f "$obj/$o"; done
# shellcheck disable=SC2086
out=$("$TOP/scripts/build-kernel.sh" "$BDIR/linux" "$obj" "$TOP/configs/base.config" \
	"$TOP/configs/base-$BASE.config" "$TOP/configs/debug.config" "$TOP/configs/rate.config" \
	-- W=1 C=2 CHECK="$SPARSE" $objs 2>&1 | grep -v '^>>> ') || true
echo "checked with W=1 C=2:" $objs
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
