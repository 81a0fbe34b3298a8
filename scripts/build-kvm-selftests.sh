#!/usr/bin/env bash
# Build the KVM selftests of tests/kvm-selftests.list from a prepared tree,
# against its own UAPI headers, in place.
#
#   build-kvm-selftests.sh TREE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$(realpath "$1")
hdr=$tree/.selftest-headers
if [ ! -f "$hdr/include/linux/kvm.h" ] ||
   [ -n "$(find "$tree/include/uapi" "$tree/arch/x86/include/uapi" -newer "$hdr/include/linux/kvm.h" -print -quit)" ]; then
	make -s -C "$tree" O="$BDIR/obj-headers-$(basename "$tree")" headers_install \
		INSTALL_HDR_PATH="$hdr" >/dev/null
fi
tests=$(kvm_selftests "$BASE")
# shellcheck disable=SC2086
# OUTPUT explicitly: lib.mk only defaults it at MAKELEVEL 0.
make -s -C "$tree/tools/testing/selftests/kvm" OUTPUT="$tree/tools/testing/selftests/kvm" \
	KHDR_INCLUDES="-isystem $hdr/include" \
	CC="ccache gcc" -j"$(nproc)" 2>&1 | grep -v 'warning:' || true
[ -f "$tree/tools/testing/selftests/kvm/x86/buslock_cgroup_test.c" ] &&
	tests="$tests x86/buslock_cgroup_test"
for t in $tests; do
	[ -x "$tree/tools/testing/selftests/kvm/$t" ] || die "KVM selftest $t did not build"
done
