#!/bin/bash
# The end of a test guest's run (see scripts/guest-init.sh): saves the
# command's status and the whole kernel log in the run directory, and
# powers off.
#
#   guest-finish.sh [STATUS]     default: the status the command left
[ -n "${1:-}" ] && echo "$1" > /run/vmrun/status.tmp
[ -f /run/vmrun/status.tmp ] || echo 1 > /run/vmrun/status.tmp
# The log ends with a marker: vm-run.sh refuses a log without it, so a
# short or cut-off copy cannot hide a report.
echo "guest-init: end of kernel log" > /dev/kmsg
dmesg > /run/vmrun/dmesg.tmp 2>&1
mv /run/vmrun/dmesg.tmp /run/vmrun/dmesg
mv /run/vmrun/status.tmp /run/vmrun/status
sync
umount /run/vmrun 2>/dev/null
echo o > /proc/sysrq-trigger
sleep 10 2>/dev/null
