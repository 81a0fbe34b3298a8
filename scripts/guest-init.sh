#!/bin/bash
# PID 1 of the test guest (see scripts/vm-run.sh). The host root is the
# guest root, read-only over 9p; writable tmpfs goes where tools write.
# Runs the command from the run directory, then guest-finish.sh saves its
# status and the kernel log there and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mkdir -p /run/vmrun /run/top
mount -t 9p -o trans=virtio,version=9p2000.L vmrun /run/vmrun
# The checkout and the build directory may live under a directory that
# gets a tmpfs below (a CI clone in /tmp, ~/.cache): keep them reachable
# at their own paths.
top=$(cat /run/vmrun/top)
build=$(cat /run/vmrun/build)
mkdir -p /run/top /run/build
mount --bind "$top" /run/top
mount --bind "$build" /run/build
for d in /tmp /var/tmp /var/lib/cgconfig /root /var/log /home; do
	[ -d "$d" ] && mount -t tmpfs tmpfs "$d"
done
for keep in "/run/top $top" "/run/build $build"; do
	set -- $keep
	if [ ! -d "$2" ] || [ -z "$(ls -A "$2")" ]; then
		mkdir -p "$2"
		mount --move "$1" "$2"
	fi
done
# The disks of scripts/vm-run.sh, named as udev names them; the scratch
# disk mounted, the swap disk left for the suites that want swap on.
mkdir -p /dev/disk/by-id /run/scratch
for b in /sys/block/vd*; do
	[ -r "$b/serial" ] || continue
	ln -sf "../../${b##*/}" "/dev/disk/by-id/virtio-$(cat "$b/serial")"
done
[ -b /dev/disk/by-id/virtio-scratch ] &&
	mount -t ext2 /dev/disk/by-id/virtio-scratch /run/scratch
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug
ln -sf /proc/self/fd /dev/fd
hostname guest
# Loopback, for tests that talk TCP to themselves (test_memcg_sock).
ip link set lo up
export HOME=/root TERM=dumb TMPDIR=/tmp
echo "guest-init: userspace up at $(cut -d' ' -f1 /proc/uptime)s"

cd "$(cat /run/vmrun/cwd)" || cd /
bash /run/vmrun/cmd
echo $? > /run/vmrun/status.tmp
# A suite that needs systemd as PID 1 (tests/guest-tests.sh, suite
# systemd) leaves its command line here: it runs after the command, as
# this process, and finishes the run itself.
if [ -s /run/guest-pid1 ]; then
	mapfile -t pid1 < /run/guest-pid1
	exec "${pid1[@]}"
fi
exec bash "$(dirname "$0")/guest-finish.sh"
