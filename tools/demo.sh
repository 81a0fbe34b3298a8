#!/bin/bash
# make demo: runs inside the booted test kernel (see Makefile).
#
# A host shares its AMD Secure Processor and its memory bus between VMs.
# The operator puts all VMs under /vms with limits sized to the device and
# the bus, and sets no per-VM limit: the VMs share /vms by weight. Two
# greedy VMs send guest requests and take bus locks in tight loops; a
# polite VM asks once a second and takes one bus lock a second. The live
# view, tools/rate-top, shows what each cgroup gets; the polite VM, within its share, must
# never be refused nor stalled. Charges go through the test-only
# interface, as the vCPU thread would charge them in KVM.
set -u
build=${BUILD:-${XDG_CACHE_HOME:-$HOME/.cache}/snp-cgroup-build}
charge=$build/${BASE:-7.3}/linux/tools/testing/selftests/cgroup/rate_charge
CG=/sys/fs/cgroup
duration=${DEMO_SECONDS:-20}
here=$(cd "$(dirname "$0")" && pwd)

[ -x "$charge" ] || { echo "demo: $charge missing (make selftests)"; exit 1; }
echo "+snp +buslock" > $CG/cgroup.subtree_control
mkdir -p $CG/vms
echo "+snp +buslock" > $CG/vms/cgroup.subtree_control
for vm in greedy-a greedy-b polite; do mkdir -p $CG/vms/$vm; done

echo "20 20" > $CG/vms/snp.req_rate		# what the device can serve
echo "100 20" > $CG/vms/buslock.rate		# what the bus can take
echo 300 > $CG/vms/greedy-b/snp.weight		# greedy-b pays for more

cat <<TXT
Operator's settings (no per-VM limits: the VMs share /vms by weight):
  /vms                snp.req_rate $(cat $CG/vms/snp.req_rate)   buslock.rate $(cat $CG/vms/buslock.rate)
  /vms/greedy-a       snp.weight $(cat $CG/vms/greedy-a/snp.weight)   buslock.weight $(cat $CG/vms/greedy-a/buslock.weight)
  /vms/greedy-b       snp.weight $(cat $CG/vms/greedy-b/snp.weight)   buslock.weight $(cat $CG/vms/greedy-b/buslock.weight)
  /vms/polite         snp.weight $(cat $CG/vms/polite/snp.weight)   buslock.weight $(cat $CG/vms/polite/buslock.weight)   (1 request, 1 bus lock a second)

TXT

# in_cg CGROUP COMMAND...: run COMMAND as a task of CGROUP
in_cg() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@"
}

# The loops' shells would report their children killed by cgroup.kill
# at the end ("line 1: 123 Killed"): their stderr goes nowhere.
for vm in greedy-a greedy-b; do
	in_cg $CG/vms/$vm bash -c "while :; do '$charge' snp 20 >/dev/null; done" 2>/dev/null &
	disown
	in_cg $CG/vms/$vm bash -c "while :; do '$charge' buslock 20 >/dev/null; done" 2>/dev/null &
	disown
done
in_cg $CG/vms/polite bash -c "while :; do '$charge' snp 1 >/dev/null; '$charge' buslock 1 >/dev/null; sleep 1; done" 2>/dev/null &
disown

key() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

uptime_s() { cut -d' ' -f1 /proc/uptime; }
elapsed() { echo "$(uptime_s) - $t0" | bc; }

# The operator's live view (tools/rate-top): refreshed in place when the
# host's terminal can show it, a table every 5 s otherwise; every second
# is recorded, for the host to plot (make demo).
t0=$(uptime_s)
# vm-run.sh copies /run/vmrun/out to the host (VM_OUT)
out=/run/vmrun/out
[ -w "$out" ] || out=$(mktemp -d)
rec=$out/demo-rate-top.csv
if [ "${DEMO_LIVE:-0}" = 1 ]; then
	python3 "$here/rate-top" --live -i 1 -n "$duration" -r "$rec" $CG/vms
else
	python3 "$here/rate-top" --plain -i 1 -e 5 -n "$duration" -r "$rec" $CG/vms
fi
t=$(elapsed)
echo 1 > $CG/vms/cgroup.kill
while grep -q 'populated 1' $CG/vms/cgroup.events; do sleep 0.1; done
wait 2>/dev/null

# share VM: the snp share the weights give VM, requests per second
share() {
	awk -v w="$(cat $CG/vms/$1/snp.weight)" \
	    -v sum="$(cat $CG/vms/*/snp.weight | awk '{ s += $1 } END { print s }')" \
	    'BEGIN { printf "%.1f", 20 * w / sum * 63 / 64 }'
}

adm=$(key $CG/vms/snp.stat requests)
bound=$(echo "20 * $t + 20" | bc | cut -d. -f1)
pol_ok=$(key $CG/vms/polite/snp.stat requests)
pol_no=$(key $CG/vms/polite/snp.stat throttled)
ga_ok=$(key $CG/vms/greedy-a/snp.stat requests)
gb_ok=$(key $CG/vms/greedy-b/snp.stat requests)
par_no=$(key $CG/vms/snp.events.local throttled)
pol_stall=$(key $CG/vms/polite/buslock.stat delay_usec)
cat <<TXT

Summary after ${t}s (the guest is emulated: time runs as it can):
  /vms passed $adm guest requests to the AMD-SP; its limit allows at most
  20/s * ${t}s + 20 = $bound.
  The /vms limit refused $par_no requests; greedy-a got $ga_ok and greedy-b,
  with three times the weight, $gb_ok. Their shares are $(share greedy-a)/s and
  $(share greedy-b)/s (the polite VM's $(share polite)/s): 20/s by weight, less the 1/64 the
  parent keeps. What the polite VM leaves of its share goes to whichever
  greedy VM asks first, not by weight.
  The polite VM sent $((pol_ok + pol_no)) requests: $pol_ok admitted, $pol_no refused; its
  $(key $CG/vms/polite/buslock.stat locks) bus locks were stalled for $pol_stall us in all.
  The greedy VMs' bus locks cost them $(( $(key $CG/vms/greedy-a/buslock.stat delay_usec) / 1000 )) and $(( $(key $CG/vms/greedy-b/buslock.stat delay_usec) / 1000 )) ms of stalls.
TXT
for vm in greedy-a greedy-b polite; do rmdir $CG/vms/$vm; done
rmdir $CG/vms
if [ "$pol_no" = 0 ] && [ "$pol_stall" = 0 ] && [ "$adm" -le "$bound" ]; then
	echo "demo: ok: the polite VM was never refused nor stalled, and /vms stayed within its limit"
else
	echo "demo: FAILED"
	exit 1
fi
