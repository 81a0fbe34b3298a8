#!/usr/bin/env bash
# Rebuild the series' new C files with W=1 and sparse (C=2, the sparse
# install-deps.sh builds); any warning fails, and so does a sparse the
# kernel finds unfit. Upstream files the patches modify keep their existing sparse
# reports; they are not checked here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

objs=$(series_entries | tr ' ' '\n' | grep -E '^(kernel|arch|virt|drivers)/.*\.c$' |
	sed 's/\.c$/.o/')
[ -n "$objs" ] || exit 0
# shellcheck disable=SC2086
for o in $objs; do touch "$BDIR/linux/${o%.o}.c"; done
# shellcheck disable=SC2086
out=$(make -s -C "$BDIR/linux" O="$BDIR/obj-test" CC="ccache gcc" W=1 C=2 \
	CHECK="$SPARSE" $objs 2>&1)
echo "checked with W=1 C=2: $objs"
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
