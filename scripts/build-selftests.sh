#!/usr/bin/env bash
# Build the cgroup kselftests of a prepared tree, against its own UAPI
# headers, in place (the tree lives in build/).
#
#   build-selftests.sh TREE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$(realpath "$1")
hdr=$tree/.selftest-headers
if [ ! -f "$hdr/include/linux/cgroupstats.h" ] ||
   [ -n "$(find "$tree/include/uapi" -newer "$hdr/include/linux/cgroupstats.h" -print -quit)" ]; then
	make -s -C "$tree" O="$BDIR/obj-headers-$(basename "$tree")" headers_install \
		INSTALL_HDR_PATH="$hdr" >/dev/null
fi
# OUTPUT explicitly: lib.mk only defaults it at MAKELEVEL 0, and this
# script runs under make.
make -s -C "$tree/tools/testing/selftests/cgroup" OUTPUT="$tree/tools/testing/selftests/cgroup" \
	KHDR_INCLUDES="-isystem $hdr/include" CC="ccache gcc" -j"$(nproc)" 2>&1 |
	grep -v 'warning: ' | grep -v '^\s' || true
test -x "$tree/tools/testing/selftests/cgroup/test_core" ||
	die "cgroup selftests did not build"
