#!/usr/bin/env bash
# Run the upstream suites (cgroup and KVM selftests) on the unpatched base
# kernel and print what each test did there, in the format of
# tests/upstream-BASE.expected: "pass|fail|skip NAME [reason]". Reasons for
# tests that do not pass on the base are added by hand.
#
#   BASE=7.3 record-base.sh > tests/upstream-7.3.expected.new
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"

make -s base-kernel >&2
scripts/build-selftests.sh "$BDIR/base-tree" >&2
scripts/build-kvm-selftests.sh "$BDIR/base-tree" >&2
log=$BUILD/logs/$BASE-base-suites.log
mkdir -p "$BUILD/logs"
scripts/vm-run.sh "$BDIR/obj-base/arch/x86/boot/bzImage" \
	"bash $TOP/tests/guest-tests.sh $BDIR/base-tree upstream kvm" > "$log" 2>&1 || true
grep -a '^RESULT ' "$log" | tr -d '\r' | sed 's/ (.*//' |
	awk '{ name = $0; sub(/^RESULT [a-z]+ /, "", name); print $2, name }' |
	awk '{ r = ($1 == "fail") ? 3 : ($1 == "skip") ? 2 : 1
	       if (!($2 in rank)) order[++n] = $2
	       if (r > rank[$2]) { rank[$2] = r; st[$2] = $1 } }
	     END { for (i = 1; i <= n; i++) print st[order[i]], order[i] }'
