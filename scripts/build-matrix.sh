#!/usr/bin/env bash
# Build the patched tree in every configuration that matters for the KVM
# hooks and the controllers' !CONFIG stubs: KVM_INTEL, KVM_AMD and
# KVM_AMD_SEV on and off, CGROUP_SNP and CGROUP_BUSLOCK on and off, TDX
# (the vt_ wrappers of vmx/main.c) and the Xen interface (the stalls'
# runstate accounting in x86.c) on and off. The test kernel has KVM built
# in with SEV, without TDX or Xen. Each is a small config
# (configs/series.config and series-BASE.config plus the combination).
# Each compiles the directories of the hooks and the controllers, where
# their stubs and #ifdefs are; on the first, everything as modules,
# check-exports.sh then checks that the KVM modules' symbols from the
# series are exported (what modpost would find, without compiling and
# linking a vmlinux of its own). Any compiler warning fails, like any
# error.
#
# KVM is a module in the default combinations, built in this order in one
# object directory, so that each recompiles only the objects whose options
# changed. KVM built in is compiled by the test kernel and by the
# series' per-patch builds.
#
# A passing run of the default combinations is kept per machine under the
# key of everything it depends on (tree_key in lib.sh); the same key is
# not built again. MATRIX_BUILD=force builds anyway.
#
#   build-matrix.sh TREE [NAME...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$(realpath "$1")
shift
declare -A combos=(
	[all-builtin]="KVM=y KVM_INTEL=y KVM_AMD=y KVM_AMD_SEV=y CGROUP_SNP=y CGROUP_BUSLOCK=y"
	[all-modules]="KVM=m KVM_INTEL=m KVM_AMD=m KVM_AMD_SEV=y CGROUP_SNP=y CGROUP_BUSLOCK=y"
	[no-controllers]="KVM=m KVM_INTEL=m KVM_AMD=m KVM_AMD_SEV=y CGROUP_SNP=n CGROUP_BUSLOCK=n"
	[intel-only]="KVM=m KVM_INTEL=m KVM_AMD=n KVM_AMD_SEV=n INTEL_TDX_HOST=n KVM_INTEL_TDX=n KVM_XEN=n CGROUP_SNP=n CGROUP_BUSLOCK=y"
	[amd-sev-only]="KVM=m KVM_INTEL=n INTEL_TDX_HOST=n KVM_INTEL_TDX=n KVM_AMD=m KVM_AMD_SEV=y CGROUP_SNP=y CGROUP_BUSLOCK=n"
	[amd-no-sev]="KVM=m KVM_INTEL=n INTEL_TDX_HOST=n KVM_INTEL_TDX=n KVM_AMD=m KVM_AMD_SEV=n CGROUP_SNP=y CGROUP_BUSLOCK=y"
)
names=("$@")
stamp=""
if [ ${#names[@]} = 0 ]; then
	names=(all-modules no-controllers intel-only amd-sev-only amd-no-sev)
	stamp=$BUILD/results/matrix-$BASE-$(tree_key "$tree" "$TOP/configs/series.config" \
		"$TOP/configs/series-$BASE.config" \
		"$TOP/scripts/build-matrix.sh" "$TOP/scripts/build-kernel.sh" "$TOP/scripts/lib.sh" \
		"$TOP/scripts/check-exports.sh")
	if [ -f "$stamp" ] && [ "${MATRIX_BUILD:-}" != force ]; then
		sed 's/$/ (result kept from an identical build, '"${stamp##*/}"')/' "$stamp"
		exit 0
	fi
	mkdir -p "${stamp%/*}"
	rm -f "$stamp.tmp"
fi
record=${stamp:+$stamp.tmp}
record=${record:-/dev/null}

fail=0
for name in "${names[@]}"; do
	frag=$BDIR/matrix-$name.config
	cat "$TOP/configs/series.config" "$TOP/configs/series-$BASE.config" > "$frag"
	echo CONFIG_MODULES=y >> "$frag"
	# The test-only options need a controller; drop them where none is.
	case ${combos[$name]} in
	*"CGROUP_SNP=n CGROUP_BUSLOCK=n"*)
		sed -i '/CGROUP_RATE_KUNIT_TEST\|CGROUP_RATE_DEBUG/d' "$frag" ;;
	esac
	for kv in ${combos[$name]}; do
		k=CONFIG_${kv%%=*} v=${kv#*=}
		sed -i "/^$k=/d" "$frag"
		if [ "$v" = n ]; then echo "# $k is not set" >> "$frag"; else echo "$k=$v" >> "$frag"; fi
	done
	log=$BUILD/logs/$BASE-matrix-$name.log
	mkdir -p "$(dirname "$log")"
	targets=(kernel/cgroup/ arch/x86/kvm/)
	exports=true
	[ "$name" = all-modules ] && exports=("$TOP/scripts/check-exports.sh" "$BDIR/obj-matrix")
	if "$TOP/scripts/build-kernel.sh" "$tree" "$BDIR/obj-matrix" "$frag" -- "${targets[@]}" > "$log" 2>&1 &&
	   ! grep -q 'warning:' "$log" && "${exports[@]}" >> "$log" 2>&1; then
		grep '^exports:' "$log" || true
		echo "matrix: $name: ok (${combos[$name]}; built ${targets[*]})" |
			tee -a "$record"
	else
		echo "matrix: $name: FAILED (${combos[$name]}), see $log"
		grep -E 'warning:|error|^exports:' "$log" | head -10
		fail=1
	fi
done
[ $fail = 0 ] && [ -n "$stamp" ] && mv "$stamp.tmp" "$stamp"
exit $fail
