#!/usr/bin/env bats
# The operator's view of the snp and buslock controllers, from a shell:
# cgroupfs with echo and cat, and libcgroup's cgcreate/cgset/cgget/cgexec.
# Runs inside the test guest (tests/guest-tests.sh sets RATE_CHARGE).

CG=/sys/fs/cgroup

setup_file() {
	echo "+snp +buslock" > $CG/cgroup.subtree_control
}

setup() {
	mkdir -p $CG/bats_vm
}

teardown() {
	rmdir $CG/bats_vm/inner 2>/dev/null || true
	rmdir $CG/bats_vm 2>/dev/null || true
	cgdelete -g snp,buslock:bats_lc 2>/dev/null || true
	rmdir $CG/vms/vm1 $CG/vms/vm2 $CG/vms 2>/dev/null || true
}

# doc_example FILE: the first fenced block of FILE whose every line is a
# root prompt ("# "), without the prompts: what a reader would type
doc_example() {
	awk '/^```/ {
		if (!inb) { inb = 1; ok = 1; buf = ""; next }
		inb = 0
		if (ok && buf != "") { printf "%s", buf; exit }
		next
	}
	inb { if (substr($0, 1, 2) != "# ") ok = 0; buf = buf substr($0, 3) "\n" }' "$1"
}

# The examples readers copy: they run as written, each command must
# succeed, and they set what they say
run_doc_example() {
	local cmds
	cmds=$(doc_example "$1")
	[ -n "$cmds" ]
	[ ! -e $CG/vms ]
	bash -e -c "$cmds"
	[ "$(cat $CG/vms/snp.req_rate)" = "10 10" ]
	[ "$(cat $CG/vms/buslock.rate)" = "1000 100" ]
	[ "$(cat $CG/vms/vm1/snp.weight)" = 300 ]
	[ "$(cat $CG/vms/vm1/snp.req_rate)" = "2 5" ]
}

# charge_in CGROUP ARGS...: run rate_charge ARGS as a task of CGROUP
charge_in() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$RATE_CHARGE" "$@"
}

@test "both controllers are listed and enabled" {
	grep -qw snp $CG/cgroup.controllers
	grep -qw buslock $CG/cgroup.controllers
	grep -qw snp $CG/cgroup.subtree_control
	grep -qw buslock $CG/cgroup.subtree_control
}

@test "defaults read max; the root has stat files only" {
	[ "$(cat $CG/bats_vm/snp.req_rate)" = max ]
	[ "$(cat $CG/bats_vm/buslock.rate)" = max ]
	[ -e $CG/snp.stat ] && [ -e $CG/buslock.stat ]
	[ ! -e $CG/snp.req_rate ] && [ ! -e $CG/buslock.rate ]
}

@test "echo 10 > snp.req_rate reads back with the default burst" {
	echo 10 > $CG/bats_vm/snp.req_rate
	[ "$(cat $CG/bats_vm/snp.req_rate)" = "10 10" ]
	echo "1000 50" > $CG/bats_vm/buslock.rate
	[ "$(cat $CG/bats_vm/buslock.rate)" = "1000 50" ]
	echo max > $CG/bats_vm/snp.req_rate
	[ "$(cat $CG/bats_vm/snp.req_rate)" = max ]
}

@test "a bad write fails with a clear error and keeps the setting" {
	echo "5 2" > $CG/bats_vm/snp.req_rate
	run bash -c "echo -1 > $CG/bats_vm/snp.req_rate"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Invalid argument"* ]]
	run bash -c "echo '10 0' > $CG/bats_vm/snp.req_rate"
	[[ "$output" == *"Invalid argument"* ]]
	run bash -c "echo 2000000 > $CG/bats_vm/snp.req_rate"
	[ "$status" -ne 0 ]
	[[ "$output" == *"out of range"* ]]
	[ "$(cat $CG/bats_vm/snp.req_rate)" = "5 2" ]
}

@test "a parent's limit bounds a nested cgroup and counts as its event" {
	echo "+snp +buslock" > $CG/bats_vm/cgroup.subtree_control
	mkdir $CG/bats_vm/inner
	echo "0" > $CG/bats_vm/snp.req_rate
	run charge_in $CG/bats_vm/inner snp 5
	[ "$status" -eq 0 ]
	[[ "$output" == "admitted 0 refused 5 "* ]]
	grep -qx "throttled 5" $CG/bats_vm/snp.events.local
	grep -qx "throttled 0" $CG/bats_vm/inner/snp.events.local
	grep -qx "throttled 5" $CG/bats_vm/inner/snp.stat
	grep -qx "requests 0" $CG/bats_vm/snp.stat
}

@test "cgcreate, cgset and cgget drive both controllers" {
	cgcreate -g snp,buslock:bats_lc
	cgset -r snp.req_rate="20 5" bats_lc
	[ "$(cgget -nv -r snp.req_rate bats_lc)" = "20 5" ]
	cgset -r buslock.rate=100 bats_lc
	[ "$(cgget -nv -r buslock.rate bats_lc)" = "100 100" ]
	run cgset -r snp.req_rate=bogus bats_lc
	[ "$status" -ne 0 ]
	[ "$(cgget -nv -r snp.req_rate bats_lc)" = "20 5" ]
	cgget -r snp.stat bats_lc | grep -q "requests 0"
}

@test "cgexec runs a workload that the limit throttles" {
	cgcreate -g snp,buslock:bats_lc
	cgset -r snp.req_rate="1 3" bats_lc
	run cgexec -g snp,buslock:bats_lc "$RATE_CHARGE" snp 10
	[ "$status" -eq 0 ]
	[[ "$output" == "admitted 3 refused 7 "* ]] || [[ "$output" == "admitted 4 refused 6 "* ]]
	cgget -nv -r snp.events bats_lc | grep -Eq "throttled (6|7)"
}

@test "README's example runs as written" {
	run_doc_example "$BATS_TEST_DIRNAME/../README.md"
}

@test "OPERATORS.md's cgroupfs and libcgroup example runs as written" {
	run_doc_example "$BATS_TEST_DIRNAME/../docs/OPERATORS.md"
}

@test "bus locks over the rate stall and show in buslock.stat" {
	echo "10 1" > $CG/bats_vm/buslock.rate
	run charge_in $CG/bats_vm buslock 2
	[ "$status" -eq 0 ]
	grep -qx "locks 2" $CG/bats_vm/buslock.stat
	grep -qx "throttled 1" $CG/bats_vm/buslock.stat
	grep -Eqx "delay_usec (9[0-9]{4}|100000)" $CG/bats_vm/buslock.stat
}
