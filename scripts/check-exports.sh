#!/usr/bin/env bash
# The exports the KVM modules need from the series, checked on the objects
# of a KVM=m build of arch/x86/kvm/ and kernel/cgroup/ (build-matrix.sh's
# all-modules combination), without linking vmlinux: every symbol that
# kvm.ko, kvm-intel.ko or kvm-amd.ko leaves undefined and that a
# built-in object of kernel/cgroup/ defines must be exported there, and
# every symbol kvm-intel.ko or kvm-amd.ko takes from kvm.ko must be
# exported by kvm.ko. Symbols the modules take from elsewhere in the
# kernel are not checked: that needs modpost and vmlinux.o, a compile of
# the whole kernel in a config of its own (about 12 minutes cold here).
#
#   check-exports.sh OBJ
set -euo pipefail
. "$(dirname "$0")/lib.sh"

obj=$1
kvm=$obj/arch/x86/kvm
[ -f "$kvm/kvm.o" ] || die "no $kvm/kvm.o: not a KVM=m build of arch/x86/kvm/"

# defined_in FILE...: the global symbols the objects define
defined_in() { nm --defined-only "$@" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[A-Z]$/ { print $3 }' | sort -u; }
# exported_by FILE...: the symbols the objects export (EXPORT_SYMBOL*)
exported_by() { nm "$@" 2>/dev/null | awk '$NF ~ /^__export_symbol_/ { sub(/^__export_symbol_/, "", $NF); print $NF }' | sort -u; }
# undefined_in FILE: the symbols a module object needs from elsewhere
undefined_in() { nm --undefined-only "$1" | awk '{ print $NF }' | sort -u; }

mapfile -t cgroup_objs < <(find "$obj/kernel/cgroup" -maxdepth 1 -name '*.o' | sort)
cgroup_defined=$(defined_in "${cgroup_objs[@]}")
cgroup_exported=$(exported_by "${cgroup_objs[@]}")
kvm_defined=$(defined_in "$kvm/kvm.o")
kvm_exported=$(exported_by "$kvm/kvm.o")

bad=0
# missing MODULE FROM DEFINED EXPORTED: symbols MODULE takes from FROM unexported
missing() {
	comm -12 <(undefined_in "$1") <(echo "$3") | comm -23 - <(echo "$4") |
		sed "s|^|exports: ${1#"$obj"/} needs |; s|\$| from $2, which does not export it|"
}
for m in kvm kvm-intel kvm-amd; do
	[ -f "$kvm/$m.o" ] || continue
	out=$(missing "$kvm/$m.o" kernel/cgroup/ "$cgroup_defined" "$cgroup_exported")
	[ "$m" = kvm ] || out+=$(missing "$kvm/$m.o" kvm.ko "$kvm_defined" "$kvm_exported")
	if [ -n "$out" ]; then
		echo "$out"
		bad=1
	else
		used=$(comm -12 <(undefined_in "$kvm/$m.o") <(echo "$cgroup_defined") | tr '\n' ' ')
		from=kernel/cgroup/
		[ "$m" = kvm ] || from+=" and kvm.ko"
		echo "exports: $m.ko: what it takes from $from is exported (from kernel/cgroup/: ${used% })"
	fi
done
exit $bad
