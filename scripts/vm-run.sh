#!/usr/bin/env bash
# Boot a kernel under QEMU with the host's userland and run one command.
#
#   vm-run.sh BZIMAGE COMMAND
#
# The host root is shared read-only over 9p and becomes the guest root;
# the command runs as root in the current directory with cgroup2 mounted
# at /sys/fs/cgroup, an empty ext2 scratch disk at /run/scratch and a swap
# disk at /dev/disk/by-id/virtio-swap (not enabled). The console streams to stdout. The exit status is the
# command's, except that the run fails when the guest kernel log shows a
# warning, BUG, lockdep, KASAN or UBSAN report, an Oops or a panic, or the
# run exceeds VM_TIMEOUT seconds (default 1200). What the command writes
# to /run/vmrun/out in the guest is copied to VM_OUT=DIR, if given.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1
shift
[ -f "$kernel" ] || die "no kernel at $kernel: build it first (make kernel)"
timeout=${VM_TIMEOUT:-1200}
mem=${VM_MEM:-3G}
cpus=${VM_CPUS:-2}

run=$(mktemp -d "${TMPDIR:-/tmp}/vmrun.XXXXXX")
trap 'rm -rf "$run"' EXIT
printf '%s\n' "$*" > "$run/cmd"
pwd > "$run/cwd"
echo "$TOP" > "$run/top"
echo "$BUILD" > "$run/build"
mkdir "$run/out"
chmod -R a+rwX "$run"

# The emulator: QEMU=PATH, or by default Debian's QEMU with the patches of
# userspace/qemu (scripts/build-qemu.sh builds it once), whose SVM has
# Bus Lock Threshold: the guest's kvm_amd takes real bus-lock exits.
# QEMU=qemu-system-x86_64 boots Debian's own, which lacks it.
qemu=${QEMU:-$("$TOP/scripts/build-qemu.sh")} || die "no QEMU: scripts/build-qemu.sh failed"

# A writable scratch disk and a swap disk, new for every run, files in
# TMPDIR (the scratch disk sparse, the swap disk allocated: 1 GiB of host
# disk per guest while it runs): the guest's root is the host's,
# read-only, and its tmpfs cannot hold what some tests need (a page
# cache that is written back, swap for anonymous and shmem pages). The
# guest finds them by serial (scripts/guest-init.sh): scratch is an empty
# ext2 filesystem, swap a swap area.
disks=$(mktemp -d "${TMPDIR:-/tmp}/vmdisks.XXXXXX")
# mkfs.ext2 and mkswap live in /usr/sbin, which a user's PATH may lack
PATH=$PATH:/usr/sbin:/sbin
trap 'rm -rf "$run" "$disks"' EXIT
truncate -s "${VM_SCRATCH_SIZE:-2G}" "$disks/scratch.img" &&
	mkfs.ext2 -q -F "$disks/scratch.img" || die "cannot make the scratch disk (mkfs.ext2)"
# mkswap warns of a sparse or world-readable file (it cannot tell that
# the guest sees a disk): allocated, and the owner's only.
swap_img=$disks/swap.img
{ fallocate -l "${VM_SWAP_SIZE:-1G}" "$swap_img" || truncate -s "${VM_SWAP_SIZE:-1G}" "$swap_img"; } &&
	chmod 600 "$swap_img" && mkswap "$swap_img" > /dev/null ||
	die "cannot make the swap disk (mkswap)"

# KVM only where it really works: on these hosts QEMU aborts with it.
accel=tcg,thread=multi
[ "${VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ] && accel=kvm

# tsc=reliable: under TCG the guest's TSC drifts against the HPET by
# about 0.1 % when the host is busy, enough for the clocksource watchdog
# to mark it unstable (seen at 121 s of a run). The guest then reads time
# through the HPET, every read an exit, and its KVM adjusts each vCPU's
# TSC offset on every load: x86/tsc_msrs_test then reads back 2^32 less
# than it wrote and fails.
# no5lvl: under 5-level paging a KASAN kernel (6.12 and 7.3 alike) can
# report a false "wild-memory-access" when an interrupt arrives while
# identify_cpu() has the boot CPU's capabilities cleared: LA57 reads as
# off, so KASAN takes the direct map for memory without shadow. Seen once,
# at 0.005 s of a 7.3 boot; known upstream ("kasan: Fix false-positive
# wild-memory-access on x86 under 5-level paging", LKML, June 2026). The
# guest's KVM still offers LA57 to its own guests: it reads the CPU.
# acpi=noirq: the PCI interrupt routing in QEMU's AML (_PRT, the LNKx
# links) is slow to interpret under TCG with KASAN and lockdep: measured,
# 40 s of 6.12's boot, and on 7.3 two _PRT calls that each hit ACPICA's
# 30 s loop timeout (AE_AML_LOOP_TIMEOUT). The virtio devices use MSI-X
# and need no INTx routing; the legacy devices keep their ISA IRQs.
start=$(date +%s.%N)
timeout --foreground -k 10 "$timeout" \
"$qemu" -L /usr/share/seabios -L /usr/share/qemu -accel "$accel" -cpu max -smp "$cpus" -m "$mem" \
	-nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$kernel" \
	-append "console=ttyS0 log_buf_len=16M root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro init=$TOP/scripts/guest-init.sh loglevel=4 panic=-1 oops=panic panic_on_warn=0 tsc=reliable no5lvl acpi=noirq ${VM_APPEND:-}" \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
	-fsdev local,id=run,path="$run",security_model=none \
	-device virtio-9p-pci,fsdev=run,mount_tag=vmrun \
	-drive file="$disks/scratch.img",format=raw,if=none,id=scratch,cache=unsafe \
	-device virtio-blk-pci,drive=scratch,serial=scratch \
	-drive file="$disks/swap.img",format=raw,if=none,id=swap,cache=unsafe \
	-device virtio-blk-pci,drive=swap,serial=swap \
	2>&1 | tee "$run/console"
qrc=${PIPESTATUS[0]}
if [ -n "${VM_OUT:-}" ] && [ -n "$(ls -A "$run/out")" ]; then
	mkdir -p "$VM_OUT" && cp -r "$run/out/." "$VM_OUT/"
fi
end=$(date +%s.%N)
printf 'vm-run: %.1f s wall\n' "$(echo "$end - $start" | bc)"

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm-run: FAIL: timed out after ${timeout}s"
	exit 124
fi
# The saved kernel log has every level, from boot to the end of the
# command; without it (a crash), the console has what the guest printed.
# The console is not searched otherwise: it carries the tests' own output.
log=$run/dmesg
[ -f "$log" ] || log=$run/console
[ -n "${VM_DMESG:-}" ] && cp "$log" "$VM_DMESG"
bad=$(grep -E 'WARNING:|BUG:|Oops|Kernel panic|INFO: possible|INFO: task .* blocked|UBSAN:|KASAN:|kernel BUG|general protection|possible circular|possible recursive|inconsistent lock state|suspicious RCU usage|Unable to handle' "$log" | head -20)
if [ -n "$bad" ]; then
	echo "vm-run: FAIL: guest kernel log reports:"
	echo "$bad"
	exit 99
fi
if [ ! -f "$run/status" ]; then
	echo "vm-run: FAIL: the guest did not finish the command"
	exit 98
fi
if ! grep -q 'guest-init: end of kernel log' "$log"; then
	echo "vm-run: FAIL: the guest's kernel log is incomplete"
	exit 97
fi
rc=$(cat "$run/status")
echo "vm-run: command exited $rc"
exit "$rc"
