#!/bin/bash
# make demo: runs inside the booted test kernel (see Makefile).
#
# A host shares its AMD Secure Processor between VMs. The operator puts all
# VMs under /vms with a limit sized to the device, and gives each VM its
# own limit below it. Two greedy VMs request in a tight loop; a polite VM
# asks once a second, as a guest fetching attestation reports would. A
# live table shows what each cgroup got; the polite VM must never be
# refused. Charges go through the test-only interface, as the vCPU thread
# would charge them in KVM.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
charge=$top/build/linux/tools/testing/selftests/cgroup/rate_charge
CG=/sys/fs/cgroup
duration=${DEMO_SECONDS:-20}

[ -x "$charge" ] || { echo "demo: $charge missing (make selftests)"; exit 1; }
echo "+snp +buslock" > $CG/cgroup.subtree_control
mkdir -p $CG/vms
echo "+snp +buslock" > $CG/vms/cgroup.subtree_control
for vm in greedy-a greedy-b polite; do mkdir -p $CG/vms/$vm; done

echo "20 20" > $CG/vms/snp.req_rate		# what the device can serve
echo "8 8" > $CG/vms/greedy-a/snp.req_rate	# each VM's own share
echo "8 8" > $CG/vms/greedy-b/snp.req_rate
echo "100 10" > $CG/vms/greedy-a/buslock.rate	# greedy-a also splits locks

cat <<TXT
Operator's settings:
  /vms                snp.req_rate $(cat $CG/vms/snp.req_rate)   (sized to the AMD-SP)
  /vms/greedy-a       snp.req_rate $(cat $CG/vms/greedy-a/snp.req_rate)   buslock.rate $(cat $CG/vms/greedy-a/buslock.rate)
  /vms/greedy-b       snp.req_rate $(cat $CG/vms/greedy-b/snp.req_rate)
  /vms/polite         snp.req_rate $(cat $CG/vms/polite/snp.req_rate)   (one request per second)

TXT

# in_cg CGROUP COMMAND...: run COMMAND as a task of CGROUP
in_cg() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@"
}

for vm in greedy-a greedy-b; do
	in_cg $CG/vms/$vm bash -c "while :; do '$charge' snp 20 >/dev/null; done" &
	disown
done
in_cg $CG/vms/greedy-a bash -c "while :; do '$charge' buslock 20 >/dev/null; done" &
disown
in_cg $CG/vms/polite bash -c "while :; do '$charge' snp 1 >/dev/null; sleep 1; done" &
disown

key() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

table() {
	printf '%-16s %10s %10s %10s %12s %12s\n' cgroup "admitted" "refused" \
		"bus locks" "stalled" "stall (ms)"
	for cg in vms vms/greedy-a vms/greedy-b vms/polite; do
		printf '%-16s %10s %10s %10s %12s %12s\n' "/$cg" \
			"$(key $CG/$cg/snp.stat requests)" \
			"$(key $CG/$cg/snp.stat throttled)" \
			"$(key $CG/$cg/buslock.stat locks)" \
			"$(key $CG/$cg/buslock.stat throttled)" \
			"$(( $(key $CG/$cg/buslock.stat delay_usec) / 1000 ))"
	done
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }
elapsed() { echo "$(uptime_s) - $t0" | bc; }

# A live table when the host's terminal can show one, snapshots otherwise.
live=${DEMO_LIVE:-0}
t0=$(uptime_s)
shown=0
while :; do
	sleep 1
	t=$(elapsed)
	done_=$(echo "$t >= $duration" | bc)
	if [ "$live" = 1 ]; then
		[ $shown = 1 ] && printf '\033[6A'
		printf 't = %5.1fs of %ss\033[K\n' "$t" "$duration"
		table | sed 's/$/\033[K/'
		shown=1
	elif [ "$done_" = 1 ] || (( ${t%.*} / 5 > shown )); then
		echo "t = ${t}s"
		table
		shown=$(( ${t%.*} / 5 ))
	fi
	[ "$done_" = 1 ] && break
done
t=$(elapsed)
echo 1 > $CG/vms/cgroup.kill
while grep -q 'populated 1' $CG/vms/cgroup.events; do sleep 0.1; done
wait 2>/dev/null

adm=$(key $CG/vms/snp.stat requests)
bound=$(echo "20 * $t + 20" | bc | cut -d. -f1)
pol_ok=$(key $CG/vms/polite/snp.stat requests)
pol_no=$(key $CG/vms/polite/snp.stat throttled)
ga_no=$(key $CG/vms/greedy-a/snp.events.local throttled)
gb_no=$(key $CG/vms/greedy-b/snp.events.local throttled)
par_no=$(key $CG/vms/snp.events.local throttled)
cat <<TXT

Summary after ${t}s (the guest is emulated: time runs as it can):
  /vms passed $adm guest requests to the AMD-SP; its limit allows at most
  20/s * ${t}s + 20 = $bound.
  greedy-a and greedy-b were refused $ga_no and $gb_no times by their own
  limits (8/s each), and $par_no times by the /vms limit.
  The polite VM sent $((pol_ok + pol_no)) requests: $pol_ok admitted, $pol_no refused.
  greedy-a's $(key $CG/vms/greedy-a/buslock.stat locks) bus locks cost it $(( $(key $CG/vms/greedy-a/buslock.stat delay_usec) / 1000 )) ms of stalls at 100/s, burst 10.
TXT
for vm in greedy-a greedy-b polite; do rmdir $CG/vms/$vm; done
rmdir $CG/vms
if [ "$pol_no" = 0 ] && [ "$adm" -le "$bound" ]; then
	echo "demo: ok: the polite VM was never refused, and /vms stayed within its limit"
else
	echo "demo: FAILED"
	exit 1
fi
