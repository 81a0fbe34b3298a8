#!/usr/bin/env bash
# Run the system test that userspace/qemu's patch adds to QEMU
# (tests/tcg/x86_64/system/svm-bus-lock.c: a bare-metal hypervisor checks
# the emulated Bus Lock Threshold), built as QEMU's tests/tcg makefiles
# build it, on the QEMU of scripts/build-qemu.sh: with one vCPU, and with
# two under multi-threaded TCG, where a split locked access runs alone in
# a TB of its own. Then on Debian's own QEMU, which lacks the feature:
# the test must see that and skip, not pass.
#
#   test-qemu.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

qemu=$("$TOP/scripts/build-qemu.sh")
src=$(dirname "$(dirname "$qemu")")/src/tests/tcg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# As tests/tcg/x86_64/Makefile.softmmu-target builds a system test
cflags=(-nostdlib -ggdb -O0 -I"$src/minilib")
gcc "${cflags[@]}" -c "$src/x86_64/system/boot.S" -o "$work/boot.o"
gcc "${cflags[@]}" -c "$src/minilib/printf.c" -o "$work/printf.o"
gcc "${cflags[@]}" "$src/x86_64/system/svm-bus-lock.c" -o "$work/svm-bus-lock" \
	-Wl,-T"$src/x86_64/system/kernel.ld" -Wl,-melf_x86_64 -static \
	"$work/boot.o" "$work/printf.o" -lgcc 2>/dev/null

# run NAME EXPECT QEMU ARGS...: EXPECT is the test's last line
fail=0
run() {
	local name=$1 expect=$2 out=$work/out rc=0
	shift 2
	rm -f "$out"
	timeout 120 "$@" -L /usr/share/seabios -L /usr/share/qemu -cpu max \
		-nodefaults -display none -monitor none \
		-chardev file,path="$out",id=output -device isa-debugcon,chardev=output \
		-device isa-debug-exit,iobase=0xf4,iosize=0x4 \
		-kernel "$work/svm-bus-lock" || rc=$?
	if [ $rc = 0 ] && tail -1 "$out" 2>/dev/null | grep -q "$expect"; then
		echo "ok   $name: $(tail -1 "$out")"
	else
		echo "FAIL $name (exit $rc): $(cat "$out" 2>/dev/null)"
		fail=1
	fi
}
run "svm-bus-lock, 1 vCPU" ': 0 failures$' "$qemu"
run "svm-bus-lock, 2 vCPUs, MTTCG" ': 0 failures$' "$qemu" -smp 2 -accel tcg,thread=multi
run "svm-bus-lock on Debian's QEMU: skips" '^SKIP: no Bus Lock Threshold' qemu-system-x86_64
exit $fail
