#!/usr/bin/env bash
# mkdir and rmdir per second under a limited parent, with N children
# (default 8000): each mkdir and rmdir recomputes the parent's shares.
# Run as root in the booted test kernel (make vm-run CMD='tools/mkdir-bench.sh').
#
#   mkdir-bench.sh [N]
set -euo pipefail
n=${1:-8000}
cg=/sys/fs/cgroup
p=$cg/mkdir-bench
grep -qw snp $cg/cgroup.subtree_control || echo +snp > $cg/cgroup.subtree_control
mkdir $p
echo +snp > $p/cgroup.subtree_control
echo "10 10" > $p/snp.req_rate

t0=$(date +%s%N)
for ((i = 0; i < n; i++)); do
	mkdir $p/c$i
done
t1=$(date +%s%N)
for ((i = 0; i < n; i++)); do
	rmdir $p/c$i
done
t2=$(date +%s%N)
rmdir $p
awk -v n="$n" -v a="$((t1 - t0))" -v b="$((t2 - t1))" 'BEGIN {
	printf "mkdir-bench: %d mkdirs under a limited parent in %.2f s: %.0f/s, %.0f us each\n", n, a / 1e9, n / (a / 1e9), a / 1e3 / n
	printf "mkdir-bench: %d rmdirs in %.2f s: %.0f/s, %.0f us each\n", n, b / 1e9, n / (b / 1e9), b / 1e3 / n
}'
