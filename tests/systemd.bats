#!/usr/bin/env bats
# systemd slice properties for the snp and buslock controllers: Debian
# bookworm's systemd 252 with userspace/systemd/ applied, as PID 1 of the
# mainline test guest. tests/guest-tests.sh (suite systemd) hands PID 1 to
# it and runs this from a unit; the patched systemctl and systemd-run are
# first on PATH, RATE_CHARGE charges from a task's cgroup.

bats_require_minimum_version 1.5.0

CG=/sys/fs/cgroup
UNITS=/etc/systemd/system

setup_file() {
	# What PID 1 enabled at the root before any unit asked for these
	# controllers (the handoff disabled them there).
	cat $CG/cgroup.subtree_control > "$BATS_FILE_TMPDIR/root-before"
	# The system bus, as on any host: systemd-run --wait and runc's
	# systemd driver need it, and PID 1 on it.
	systemctl start dbus.socket dbus.service
	local i
	for i in $(seq 60); do
		busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1 && break
		sleep 1
	done
	busctl --system status org.freedesktop.systemd1 > "$BATS_FILE_TMPDIR/bus" 2>&1 || true
	# A container root for runc
	local rootfs=$BATS_FILE_TMPDIR/rootfs
	mkdir -p "$rootfs/bin" /run/runc
	cp /bin/busybox "$rootfs/bin/"
	ln -s busybox "$rootfs/bin/sleep"
}

teardown() {
	timeout 60 runc --systemd-cgroup delete --force ctr 2>/dev/null || true
	systemctl stop vm1.service deleg.service bad.service 2>/dev/null || true
	systemctl stop vms.slice kubepods.slice 2>/dev/null || true
	rm -f $UNITS/vm1.service $UNITS/deleg.service $UNITS/bad.service $UNITS/vms-big.slice
	rm -rf $UNITS/kubepods.slice.d
	rm -rf /etc/systemd/system.control /run/systemd/system.control
	systemctl daemon-reload
}

# unit_cg UNIT: the unit's cgroup directory
unit_cg() {
	echo "$CG$(systemctl show -P ControlGroup "$1")"
}

@test "systemd knows the controllers and enables them from the root down" {
	run ! grep -qw buslock "$BATS_FILE_TMPDIR/root-before"
	cat > $UNITS/vms-big.slice <<-EOF
	[Slice]
	SNPRequestWeight=200
	EOF
	cat > $UNITS/vm1.service <<-EOF
	[Service]
	Slice=vms-big.slice
	BusLockRate=1000 100
	ExecStart=/bin/sleep infinity
	EOF
	systemctl daemon-reload
	systemctl start vm1.service
	local cg
	cg=$(unit_cg vm1.service)
	[ "$cg" = $CG/vms.slice/vms-big.slice/vm1.service ]
	[ "$(cat "$cg/buslock.rate")" = "1000 100" ]
	[ "$(cat $CG/vms.slice/vms-big.slice/snp.weight)" = 200 ]
	# Enabled on every level on the way down, by systemd
	for d in $CG $CG/vms.slice $CG/vms.slice/vms-big.slice; do
		grep -qw buslock "$d/cgroup.subtree_control"
	done
	grep -qw snp $CG/vms.slice/cgroup.subtree_control
	run systemctl show -P BusLockRate vm1.service
	echo "$output"
	[ "$output" = "1000 100" ]
}

@test "set-property reads back, survives daemon-reload and a restart of the slice" {
	systemctl start vms.slice
	systemctl set-property vms.slice SNPRequestRate="10 20" SNPRequestWeight=300 BusLockRate=5000
	[ "$(cat $CG/vms.slice/snp.req_rate)" = "10 20" ]
	[ "$(cat $CG/vms.slice/snp.weight)" = 300 ]
	[ "$(cat $CG/vms.slice/buslock.rate)" = "5000 5000" ]
	[ "$(systemctl show -P SNPRequestRate vms.slice)" = "10 20" ]
	[ "$(systemctl show -P SNPRequestWeight vms.slice)" = 300 ]
	grep -qx "SNPRequestRate=10 20" /etc/systemd/system.control/vms.slice.d/50-SNPRequestRate.conf
	systemctl daemon-reload
	[ "$(cat $CG/vms.slice/snp.req_rate)" = "10 20" ]
	[ "$(systemctl show -P SNPRequestRate vms.slice)" = "10 20" ]
	systemctl stop vms.slice
	[ ! -d $CG/vms.slice ]
	systemctl start vms.slice
	[ "$(cat $CG/vms.slice/snp.req_rate)" = "10 20" ]
	[ "$(cat $CG/vms.slice/snp.weight)" = 300 ]
	[ "$(cat $CG/vms.slice/buslock.rate)" = "5000 5000" ]
	# "max" is a setting; empty takes one away, the default put back once
	systemctl set-property vms.slice SNPRequestRate=max SNPRequestWeight=
	[ "$(systemctl show -P SNPRequestRate vms.slice)" = max ]
	[ "$(systemctl show -P SNPRequestWeight vms.slice)" = "[not set]" ]
	[ "$(cat $CG/vms.slice/snp.req_rate)" = max ]
	[ "$(cat $CG/vms.slice/snp.weight)" = 100 ]
	# Nothing sets snp any more: systemd disables it, buslock stays
	systemctl set-property vms.slice SNPRequestRate=
	[ "$(systemctl show -P SNPRequestRate vms.slice)" = "[not set]" ]
	[ ! -e $CG/vms.slice/snp.req_rate ]
	run ! grep -qw snp $CG/cgroup.subtree_control
	[ "$(cat $CG/vms.slice/buslock.rate)" = "5000 5000" ]
}

@test "a service in a limited slice is throttled" {
	systemctl start vms.slice
	systemctl set-property --runtime vms.slice SNPRequestRate="1 20"
	[ "$(cat $CG/vms.slice/snp.req_rate)" = "1 20" ]
	local t0=$SECONDS admitted refused
	run systemd-run --wait --pipe --quiet --slice=vms.slice "$RATE_CHARGE" snp 50
	echo "$output"
	[ "$status" -eq 0 ]
	# 20 from the bucket, and what refilled at 1/s meanwhile
	read -r _ admitted _ refused _ <<<"$output"
	[ "$admitted" -ge 20 ] && [ "$admitted" -le $((20 + SECONDS - t0 + 1)) ]
	[ $((admitted + refused)) -eq 50 ]
	grep -qx "requests $admitted" $CG/vms.slice/snp.stat
	grep -qx "throttled $refused" $CG/vms.slice/snp.stat
	grep -qx "throttled $refused" $CG/vms.slice/snp.events.local
}

@test "systemd-run -p sets the properties of a transient unit" {
	run systemd-run --scope --quiet --slice=vms.slice -p SNPRequestRate=5 -p BusLockWeight=50 \
		sh -c 'cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); cat $cg/snp.req_rate $cg/buslock.weight'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "5 5" ]
	[ "${lines[1]}" = 50 ]
}

@test "Delegate=snp buslock hands a unit its subtree" {
	# What a delegatee does: its own process into a leaf, the
	# controllers enabled for its children, a limit on one of them
	cat > "$BATS_FILE_TMPDIR/delegatee" <<-'EOF'
	#!/bin/bash
	set -ex
	cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
	mkdir "$cg/payload"
	echo $$ > "$cg/payload/cgroup.procs"
	echo "+snp +buslock" > "$cg/cgroup.subtree_control"
	echo "5 5" > "$cg/payload/snp.req_rate"
	exec sleep infinity
	EOF
	chmod +x "$BATS_FILE_TMPDIR/delegatee"
	cat > $UNITS/deleg.service <<-EOF
	[Service]
	Slice=vms.slice
	Delegate=snp buslock
	ExecStart=$BATS_FILE_TMPDIR/delegatee
	EOF
	systemctl daemon-reload
	systemctl start deleg.service
	sleep 1
	systemctl status --no-pager deleg.service || true
	journalctl --no-pager -u deleg.service || true
	local cg
	cg=$(unit_cg deleg.service)
	[ "$(systemctl show -P DelegateControllers deleg.service)" = "snp buslock" ]
	grep -qw snp "$cg/cgroup.controllers"
	grep -qw buslock "$cg/cgroup.controllers"
	# What the unit did in its subtree
	[ "$(cat "$cg/payload/snp.req_rate")" = "5 5" ]
	[ -n "$(cat "$cg/payload/cgroup.procs")" ]
	# systemd leaves the delegated subtree alone on reload
	systemctl daemon-reload
	[ "$(cat "$cg/payload/snp.req_rate")" = "5 5" ]
}

@test "bad values are refused with the form and bounds, and change nothing" {
	systemctl start vms.slice
	systemctl set-property vms.slice SNPRequestRate="10 20" BusLockWeight=70
	local bad
	for bad in SNPRequestRate="10 0" SNPRequestRate=-1 SNPRequestRate="1 2 3" \
		   BusLockRate=2000000 BusLockRate=0x10 SNPRequestWeight=0 BusLockWeight=10001; do
		run systemctl set-property vms.slice "$bad"
		echo "$bad: $output"
		[ "$status" -ne 0 ]
	done
	run systemctl set-property vms.slice SNPRequestRate="10 0"
	[[ "$output" == *"Failed to parse SNPRequestRate=10 0 (expected max, RATE or \"RATE BURST\""* ]]
	[ "$(cat $CG/vms.slice/snp.req_rate)" = "10 20" ]
	[ "$(cat $CG/vms.slice/buslock.weight)" = 70 ]
	[ "$(cat $CG/vms.slice/buslock.rate)" = max ]
	[ "$(systemctl show -P SNPRequestRate vms.slice)" = "10 20" ]
	# In a unit file: ignored with a warning, as systemd does
	cat > $UNITS/bad.service <<-EOF
	[Service]
	Slice=vms.slice
	SNPRequestRate=10 0
	ExecStart=/bin/sleep infinity
	EOF
	systemctl daemon-reload
	systemctl start bad.service
	[ "$(systemctl show -P SNPRequestRate bad.service)" = "[not set]" ]
	# nothing asks for snp below vms.slice: the unit has no snp files
	[ ! -e "$(unit_cg bad.service)/snp.req_rate" ]
}

# runc_bundle CGROUPS_PATH UNIFIED-JSON: an OCI bundle in $BUNDLE whose
# container sleeps in CGROUPS_PATH (systemd driver: SLICE:PREFIX:NAME)
# with linux.resources.unified. The test kernel has no IPC namespace nor
# POSIX message queues: both are left out.
runc_bundle() {
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	mkdir -p "$BUNDLE"
	(cd "$BUNDLE" && runc spec)
	jq --arg cg "$1" --argjson unified "$2" --arg rootfs "$BATS_FILE_TMPDIR/rootfs" '
		.root.path = $rootfs |
		.process.terminal = false |
		.process.args = ["/bin/sleep", "600"] |
		.linux.namespaces |= map(select(.type != "ipc")) |
		.mounts |= map(select(.destination != "/dev/mqueue")) |
		.linux.cgroupsPath = $cg |
		.linux.resources.unified = $unified' \
		"$BUNDLE/config.json" > "$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
}

@test "runc's systemd driver in kubelet's layout, under a node-wide kubepods.slice drop-in" {
	local pod=kubepods-burstable-pod0a1b2c3d_4e5f_4a7b_8c9d_0e1f2a3b4c5d.slice
	local id=4f1c0ffee0ddba11
	local scope=$CG/kubepods.slice/kubepods-burstable.slice/$pod/cri-containerd-$id.scope
	# The node-wide limit: a drop-in on kubepods.slice, which bounds
	# every pod of the node
	mkdir -p $UNITS/kubepods.slice.d
	printf '[Slice]\nSNPRequestRate=50 50\nBusLockRate=10000 1000\n' \
		> $UNITS/kubepods.slice.d/50-snp-buslock.conf
	systemctl daemon-reload
	# The container, as kubelet and containerd name it
	runc_bundle "$pod:cri-containerd:$id" '{"snp.req_rate": "10 20", "buslock.rate": "1000 100"}'
	cat "$BATS_FILE_TMPDIR/bus"
	# Created, not started: its cgroup is set up. The container's stdio
	# goes to a file: it outlives the command and would hold a pipe open.
	local log=$BATS_TEST_TMPDIR/create.log rc=0
	timeout 120 runc --systemd-cgroup create --bundle "$BUNDLE" ctr \
		< /dev/null > "$log" 2>&1 || rc=$?
	cat "$log"
	systemctl status --no-pager "cri-containerd-$id.scope" || true
	[ "$rc" -eq 0 ]
	[ "$(systemctl show -P ControlGroup cri-containerd-$id.scope)" = "${scope#$CG}" ]
	[ "$(cat $CG/kubepods.slice/snp.req_rate)" = "50 50" ]
	[ "$(cat $CG/kubepods.slice/buslock.rate)" = "10000 1000" ]
	[ "$(cat "$scope/snp.req_rate")" = "10 20" ]
	[ "$(cat "$scope/buslock.rate")" = "1000 100" ]
	# They survive systemd reloading and another pod starting beside it
	systemctl daemon-reload
	timeout 60 systemd-run --scope --quiet --slice=kubepods-besteffort-pod1.slice true
	[ "$(cat "$scope/snp.req_rate")" = "10 20" ]
	[ "$(cat "$scope/buslock.rate")" = "1000 100" ]
	[ "$(cat $CG/kubepods.slice/snp.req_rate)" = "50 50" ]
}
