#!/bin/bash
# PID 1 of the test guest (see scripts/vm-run.sh). The host root is the
# guest root, read-only over 9p; writable tmpfs goes where tools write.
# Runs the command from the run directory, saves its status and the kernel
# log there, and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
for d in /tmp /run /var/tmp /var/lib/cgconfig /root /var/log /home; do
	[ -d "$d" ] && mount -t tmpfs tmpfs "$d"
done
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /tmp/vmrun
mount -t 9p -o trans=virtio,version=9p2000.L vmrun /tmp/vmrun
ln -sf /proc/self/fd /dev/fd
hostname guest
export HOME=/root TERM=dumb TMPDIR=/tmp
echo "guest-init: userspace up at $(cut -d' ' -f1 /proc/uptime)s"

cd "$(cat /tmp/vmrun/cwd)" || cd /
bash /tmp/vmrun/cmd
echo $? > /tmp/vmrun/status.tmp
cat /dev/kmsg > /tmp/vmrun/dmesg.tmp 2>/dev/null &
sleep 1
kill $! 2>/dev/null
mv /tmp/vmrun/dmesg.tmp /tmp/vmrun/dmesg
mv /tmp/vmrun/status.tmp /tmp/vmrun/status
sync
umount /tmp/vmrun
echo o > /proc/sysrq-trigger
sleep 10
