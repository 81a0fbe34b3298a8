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
duration=${DEMO_SECONDS:-15}

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

pids=()
for vm in greedy-a greedy-b; do
	in_cg $CG/vms/$vm bash -c "while :; do '$charge' snp 20 >/dev/null; done" &
	pids+=($!)
done
in_cg $CG/vms/greedy-a bash -c "while :; do '$charge' buslock 20 >/dev/null; done" &
pids+=($!)
in_cg $CG/vms/polite bash -c "while :; do '$charge' snp 1 >/dev/null; sleep 1; done" &
pids+=($!)

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

live=0
[ -t 1 ] && live=1
for ((t = 1; t <= duration; t++)); do
	sleep 1
	if [ $live = 1 ]; then
		printf '\033[s'
		echo "t = ${t}s of ${duration}s (SNP requests: admitted/refused; bus locks: charged/stalled)"
		table
		[ $t -lt "$duration" ] && printf '\033[u'
	elif (( t % 5 == 0 )); then
		echo "t = ${t}s"
		table
	fi
done
kill "${pids[@]}" 2>/dev/null
wait 2>/dev/null

adm=$(key $CG/vms/snp.stat requests)
pol_ok=$(key $CG/vms/polite/snp.stat requests)
pol_no=$(key $CG/vms/polite/snp.stat throttled)
ga_no=$(key $CG/vms/greedy-a/snp.events.local throttled)
gb_no=$(key $CG/vms/greedy-b/snp.events.local throttled)
par_no=$(key $CG/vms/snp.events.local throttled)
cat <<TXT

Summary after ${duration}s:
  The AMD-SP was offered $adm guest requests from /vms; its limit allows
  at most 20/s * ${duration}s + 20 = $((20 * duration + 20)).
  greedy-a and greedy-b were refused $ga_no and $gb_no times by their own
  limits (8/s each), and $par_no times by the /vms limit.
  The polite VM sent $((pol_ok + pol_no)) requests: $pol_ok admitted, $pol_no refused.
  greedy-a's $(key $CG/vms/greedy-a/buslock.stat locks) bus locks cost it $(( $(key $CG/vms/greedy-a/buslock.stat delay_usec) / 1000 )) ms of stalls at 100/s.
TXT
for vm in greedy-a greedy-b polite; do rmdir $CG/vms/$vm; done
rmdir $CG/vms
[ "$pol_no" = 0 ] && [ "$adm" -le $((20 * duration + 20)) ]
