#!/usr/bin/env bats
# tools/libvirt/qemu, libvirt's qemu hook, run as libvirt runs it (the
# domain XML on standard input, "DOMAIN started begin -") against the
# cgroup tree libvirt builds on a systemd host: the VM's scope in
# machine.slice, QEMU in libvirt/emulator, threaded libvirt/vcpuN.
# libvirt itself is not run. Runs inside the test guest.

CG=/sys/fs/cgroup
VM="$CG/machine.slice/machine-qemu\\x2d7\\x2dvm1.scope"
NS=https://docs.kernel.org/admin-guide/cgroup-v2/snp-buslock

hook() { python3 "$BATS_TEST_DIRNAME/../tools/libvirt/qemu" "$@"; }

setup() {
	mkdir -p "$VM/libvirt/emulator" "$VM/libvirt/vcpu0" "$VM/libvirt/vcpu1"
	for d in emulator vcpu0 vcpu1; do
		echo threaded > "$VM/libvirt/$d/cgroup.type"
	done
	# QEMU: a process in libvirt/emulator, its pid where libvirt keeps it
	export LIBVIRT_QEMU_RUN_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p "$LIBVIRT_QEMU_RUN_DIR"
	sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 600' sh "$VM/libvirt/emulator" &
	qemu_pid=$!
	echo $qemu_pid > "$LIBVIRT_QEMU_RUN_DIR/vm1.pid"
	local i
	for i in $(seq 100); do
		# a threaded cgroup lists its tasks in cgroup.threads only
		grep -qx $qemu_pid "$VM/libvirt/emulator/cgroup.threads" && return 0
		sleep 0.1
	done
	echo "QEMU's stand-in did not reach libvirt/emulator"
	return 1
}

teardown() {
	kill $qemu_pid 2>/dev/null || true
	wait 2>/dev/null || true
	local i
	for i in $(seq 100); do
		grep -q 'populated 1' "$VM/cgroup.events" || break
		sleep 0.1
	done
	rmdir "$VM/libvirt/emulator" "$VM/libvirt/vcpu0" "$VM/libvirt/vcpu1" \
		"$VM/libvirt" "$VM" "$CG/machine.slice"
}

# domain LIMITS: a domain XML, as libvirt passes it, with LIMITS in its
# metadata (none if empty)
domain() {
	cat <<XML
<domain type='kvm' id='7'>
  <name>vm1</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <metadata>$1</metadata>
  <vcpu placement='static'>2</vcpu>
  <resource><partition>/machine</partition></resource>
</domain>
XML
}

@test "limits in the domain's metadata land in the VM's and its vCPUs' cgroups" {
	domain "<rate:limits xmlns:rate='$NS' snp.req_rate='10 20' snp.weight='300'
	         buslock.rate='1000 100'><rate:vcpu buslock.rate='200 20'/></rate:limits>" |
		hook vm1 started begin -
	[ "$(cat "$VM/snp.req_rate")" = "10 20" ]
	[ "$(cat "$VM/snp.weight")" = 300 ]
	[ "$(cat "$VM/buslock.rate")" = "1000 100" ]
	[ "$(cat "$VM/libvirt/vcpu0/buslock.rate")" = "200 20" ]
	[ "$(cat "$VM/libvirt/vcpu1/buslock.rate")" = "200 20" ]
	# enabled on the way down, for the vCPUs only what they need
	[ ! -e "$VM/libvirt/vcpu0/snp.req_rate" ]
	grep -qw snp "$CG/machine.slice/cgroup.subtree_control"
	grep -qw buslock "$CG/machine.slice/cgroup.subtree_control"
	grep -qw buslock "$VM/libvirt/cgroup.subtree_control"
}

@test "a value the kernel refuses fails the hook and puts back what it wrote" {
	run hook vm1 started begin - < <(domain "<rate:limits xmlns:rate='$NS'
		buslock.rate='1000 100' snp.req_rate='10 0'/>")
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"domain vm1: "*"snp.req_rate: \"10 0\": Invalid argument"* ]]
	[ "$(cat "$VM/buslock.rate")" = max ]
	[ "$(cat "$VM/snp.req_rate")" = max ]
}

@test "a malformed value or an unknown file fails before anything is written" {
	run hook vm1 started begin - < <(domain "<rate:limits xmlns:rate='$NS'
		buslock.rate='1000 100' snp.weight='0'/>")
	[ "$status" -eq 1 ]
	[[ "$output" == *'snp.weight="0": a weight is 1..10000'* ]]
	# nothing written, nothing enabled
	[ "$(cat "$VM/buslock.rate" 2>/dev/null || echo max)" = max ]
	run hook vm1 started begin - < <(domain "<rate:limits xmlns:rate='$NS' cpu.max='10'/>")
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown attribute cpu.max"* ]]
}

@test "other operations, and domains without limits, are left alone" {
	domain "<rate:limits xmlns:rate='$NS' snp.req_rate='10 20'/>" | hook vm1 prepare begin -
	domain "<rate:limits xmlns:rate='$NS' snp.req_rate='10 20'/>" | hook vm1 stopped end -
	domain "<other xmlns='urn:x'/>" | hook vm1 started begin -
	[ "$(cat "$VM/snp.req_rate" 2>/dev/null || echo max)" = max ]
}

@test "a domain whose QEMU is gone fails with where it looked" {
	echo 999999 > "$LIBVIRT_QEMU_RUN_DIR/vm1.pid"
	run hook vm1 started begin - < <(domain "<rate:limits xmlns:rate='$NS' snp.req_rate='10'/>")
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot find QEMU's cgroup from $LIBVIRT_QEMU_RUN_DIR/vm1.pid"* ]]
}
