#!/usr/bin/env bats
# Container runtimes from Debian bookworm set the controllers' files: runc
# and crun from an OCI bundle's linux.resources.unified, as CRI-O and
# containerd pass them down, and podman from --cgroup-conf, each with its
# cgroupfs driver. runc enables every available controller on the way
# down; crun (and so podman) enables only those it knows, so there the
# operator enables snp and buslock on the parent first. Runs inside the
# test guest (tests/guest-tests.sh); the container's root is
# busybox-static.

CG=/sys/fs/cgroup
PARENT=bats_rt_ctr

load podman-guest

setup_file() {
	local rootfs=$BATS_FILE_TMPDIR/rootfs
	mkdir -p "$rootfs/bin" "$rootfs/debug"
	cp /bin/busybox "$rootfs/bin/"
	local applet
	for applet in sh sleep cat sed true; do
		ln -s busybox "$rootfs/bin/$applet"
	done
	# The runtimes' state lives in the guest's /run (a tmpfs).
	mkdir -p /run/runc /run/crun
	# tools/oci-hook, built as an operator would, and a hooks.d entry
	# that runs it for the containers that carry its annotations
	cc -O2 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/rate-oci-hook" \
		"$BATS_TEST_DIRNAME/../tools/oci-hook/rate-oci-hook.c" -ljansson
	mkdir -p "$BATS_FILE_TMPDIR/hooks.d"
	sed "s|/usr/local/libexec/rate-oci-hook|$BATS_FILE_TMPDIR/rate-oci-hook|" \
		"$BATS_TEST_DIRNAME/../tools/oci-hook/rate-oci-hook.json" \
		> "$BATS_FILE_TMPDIR/hooks.d/rate-oci-hook.json"
}

teardown() {
	local rt
	for rt in runc crun; do
		"$rt" delete --force ctr 2>/dev/null || true
	done
	find $CG/$PARENT -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

# bundle UNIFIED-JSON [CGROUP]: an OCI bundle in $BUNDLE whose container
# sleeps in CGROUP (default $PARENT/ctr) with
# linux.resources.unified = UNIFIED-JSON and
# the test-only charge interface bind-mounted at /debug. The test kernel
# has no IPC namespace nor POSIX message queues: both are left out.
bundle() {
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	rm -rf "$BUNDLE"
	mkdir -p "$BUNDLE"
	(cd "$BUNDLE" && runc spec)
	jq --argjson unified "$1" --arg cg "/${2:-$PARENT/ctr}" \
		--arg rootfs "$BATS_FILE_TMPDIR/rootfs" '
		.root.path = $rootfs |
		.process.terminal = false |
		.process.args = ["/bin/sleep", "600"] |
		.linux.namespaces |= map(select(.type != "ipc")) |
		.mounts |= map(select(.destination != "/dev/mqueue")) |
		.mounts += [{"destination": "/debug", "type": "bind",
			     "source": "/sys/kernel/debug", "options": ["rbind"]}] |
		.linux.cgroupsPath = $cg |
		.linux.resources.unified = $unified' \
		"$BUNDLE/config.json" > "$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
}

# create RUNTIME: create the container (not started: its cgroup is set
# up). The container's stdio goes to a file: it outlives the command and
# would hold a pipe open.
create() {
	local log=$BATS_TEST_TMPDIR/create.log rc=0
	case $1 in
	runc) timeout 120 runc create --bundle "$BUNDLE" ctr ;;
	crun) timeout 120 crun --cgroup-manager=cgroupfs create --bundle "$BUNDLE" ctr ;;
	esac < /dev/null > "$log" 2>&1 || rc=$?
	cat "$log"
	return $rc
}

# operator_enables: what the operator does for a runtime that enables
# only the controllers it knows: snp and buslock from the root down to
# the container's parent
operator_enables() {
	mkdir -p $CG/$PARENT
	echo "+snp +buslock" > $CG/cgroup.subtree_control
	echo "+snp +buslock" > $CG/$PARENT/cgroup.subtree_control
}

# enabled_on_path: snp and buslock are enabled from the root down to ctr
enabled_on_path() {
	local d
	for d in $CG $CG/$PARENT; do
		grep -qw snp "$d/cgroup.subtree_control" || { echo "no snp in $d"; return 1; }
		grep -qw buslock "$d/cgroup.subtree_control" || { echo "no buslock in $d"; return 1; }
	done
}

unified_keys_land() {
	bundle '{"snp.req_rate": "10 20", "buslock.rate": "1000 100", "snp.weight": "300"}'
	run create "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat $CG/$PARENT/ctr/snp.req_rate)" = "10 20" ]
	[ "$(cat $CG/$PARENT/ctr/buslock.rate)" = "1000 100" ]
	[ "$(cat $CG/$PARENT/ctr/snp.weight)" = 300 ]
	enabled_on_path
	# the container's own task is charged and throttled: 30 requests
	# against a burst of 20
	"$1" start ctr
	run "$1" exec ctr /bin/sh -c 'echo "snp 30" > /debug/cgroup_rate/charge'
	[ "$status" -eq 0 ]
	grep -qx "requests 20" $CG/$PARENT/ctr/snp.stat ||
		grep -qx "requests 21" $CG/$PARENT/ctr/snp.stat
	grep -Eqx "throttled (9|10)" $CG/$PARENT/ctr/snp.events.local
	"$1" delete --force ctr
	[ ! -d $CG/$PARENT/ctr ]
}

# nothing_left RUNTIME [CGROUP]: after a failed start, no container state
# and no cgroup CGROUP (default $PARENT/ctr). crun 1.8.1 leaves the
# container's cgroup behind, empty, when setting it up fails (fixed
# upstream by containers/crun#2242, not in bookworm): there it must hold
# no task, and it can be removed.
nothing_left() {
	local cg=$CG/${2:-$PARENT/ctr}
	[ -z "$("$1" list -q 2>/dev/null)" ]
	if [ "$1" = crun ] && [ -d "$cg" ]; then
		[ -z "$(cat "$cg/cgroup.procs")" ]
		rmdir "$cg"
	fi
	[ ! -d "$cg" ]
}

bad_value_fails_clean() {
	bundle '{"snp.req_rate": "10 0"}'
	run create "$1"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *snp.req_rate* ]]
	[[ "${output,,}" == *"invalid argument"* ]]
	nothing_left "$1"
}

# disable_everywhere: snp and buslock off in every cgroup.subtree_control,
# the deepest first (a parent cannot drop what a child still enables);
# fails unless the root has neither afterwards
disable_everywhere() {
	local f
	find $CG -name cgroup.subtree_control |
		awk '{ print gsub("/", "/") " " $0 }' | sort -rn | cut -d' ' -f2- |
		while read -r f; do
			grep -qw -e snp -e buslock "$f" || continue
			echo "-snp -buslock" > "$f" || return 1
		done
	! grep -qw -e snp -e buslock $CG/cgroup.subtree_control
}

@test "runc: unified keys land in the container's cgroup and throttle it" {
	# runc enables the controllers itself: the root starts without them
	disable_everywhere
	unified_keys_land runc
}

@test "runc: a bad value fails the start with a clear error, leaving nothing" {
	bad_value_fails_clean runc
}

@test "crun: without snp enabled on the parent, the start fails clearly, no container left" {
	mkdir -p $CG/$PARENT
	bundle '{"snp.req_rate": "10 20"}'
	run create crun
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cgroup controller \`snp\` is not available"* ]]
	nothing_left crun
}

@test "crun: unified keys land in the container's cgroup and throttle it" {
	operator_enables
	unified_keys_land crun
}

@test "crun: a bad value fails the start with a clear error, no container left" {
	operator_enables
	bad_value_fails_clean crun
}

# podman_ ARGS...: podman with its cgroupfs manager, no systemd; the
# test kernel has no cgroup nor IPC namespaces (host ones) and no
# seccomp (unconfined)
podman_() {
	podman_guest cgroupfs "$@"
}

# podman_run OPTION... -- COMMAND...: run COMMAND in a container of the
# busybox root under $PARENT (--rootfs takes the root as first argument)
podman_run() {
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	podman_ run --rm --network none --cgroupns host --ipc host \
		--security-opt seccomp=unconfined \
		--log-driver k8s-file --cgroup-parent /$PARENT "${opts[@]}" \
		--rootfs "$BATS_FILE_TMPDIR/rootfs" "$@"
}

@test "podman: --cgroup-conf lands in the container's cgroup" {
	operator_enables
	run podman_run --cgroup-conf snp.req_rate=10 --cgroup-conf "buslock.rate=1000 100" \
		-- /bin/sh -c 'p=$(sed -n "s/^0:://p" /proc/self/cgroup)
			    echo "cgroup $p"
			    echo "snp $(cat /sys/fs/cgroup$p/snp.req_rate)"
			    echo "buslock $(cat /sys/fs/cgroup$p/buslock.rate)"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cgroup /$PARENT/"* ]]
	[[ "$output" == *"snp 10 10"* ]]
	[[ "$output" == *"buslock 1000 100"* ]]
	enabled_on_path
}

@test "podman: a bad --cgroup-conf value fails the run, no container left" {
	operator_enables
	run podman_run --cgroup-conf "snp.req_rate=10 0" -- /bin/true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *snp.req_rate* ]]
	[[ "${output,,}" == *"invalid argument"* ]]
	# podman itself must answer: a timeout or an error is no "none left"
	local left
	left=$(podman_ ps -aq)
	[ -z "$left" ]
	# crun's leftover (see nothing_left): empty, and removable
	local d
	for d in $CG/$PARENT/libpod-*; do
		[ -d "$d" ] || continue
		[ -z "$(cat "$d/cgroup.procs")" ]
		rmdir "$d"
	done
}

# hooked_run OPTION... -- COMMAND...: podman_run with tools/oci-hook's
# hooks.d and the test-only charge interface at /debug
hooked_run() {
	podman_run --hooks-dir "$BATS_FILE_TMPDIR/hooks.d" \
		--volume /sys/kernel/debug:/debug "$@"
}

# in_ctr_cgroup: what the container's task sees of its own cgroup
# shellcheck disable=SC2016
in_ctr_cgroup='p=$(sed -n "s/^0:://p" /proc/self/cgroup)
	echo "cgroup $p"
	echo "snp $(cat /sys/fs/cgroup$p/snp.req_rate)"
	echo "buslock $(cat /sys/fs/cgroup$p/buslock.rate)"
	echo "snp 5" > /debug/cgroup_rate/charge
	sed "s/^/stat /" /sys/fs/cgroup$p/snp.stat'

@test "OCI hook through podman's hooks.d: annotations set the container's limits and throttle it" {
	disable_everywhere
	mkdir -p $CG/$PARENT
	run hooked_run --annotation "ratelimit.cgroup.linux/snp.req_rate=2 3" \
		--annotation "ratelimit.cgroup.linux/buslock.rate=1000 100" \
		-- /bin/sh -c "$in_ctr_cgroup"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cgroup /$PARENT/"* ]]
	[[ "$output" == *"snp 2 3"* ]]
	[[ "$output" == *"buslock 1000 100"* ]]
	# a burst of 3 out of 5, and perhaps one more refilled meanwhile
	[[ "$output" == *"stat requests 3"* ]] || [[ "$output" == *"stat requests 4"* ]]
	[[ "$output" == *"stat throttled "[12]* ]]
	# the hook enabled them from the root down itself
	enabled_on_path
}

# a pod's cgroup as the kubelet's cgroupfs driver names it
POD=$PARENT/pod0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d

# hooked_bundle ANNOTATIONS-JSON [CGROUP]: a bundle (see bundle) with no
# unified keys, its container in CGROUP (default $PARENT/ctr), carrying
# ANNOTATIONS-JSON, with tools/oci-hook as the hook of the stage its
# hooks.d entry names: the config.json podman or CRI-O hand the runtime
# once that entry matched. The test above runs the hook through podman's
# hooks.d; these give crun the config directly, which skips podman's
# start-up, the slowest part of this file in the guest. crun runs the
# hook with its standard error in $HOOK_ERR (run.oci.hooks.stderr), so
# the tests read what the hook said, not only that it failed.
hooked_bundle() {
	local entry=$BATS_FILE_TMPDIR/hooks.d/rate-oci-hook.json
	HOOK=$(jq -r .hook.path "$entry")
	HOOK_ERR=$BATS_TEST_TMPDIR/hook.err
	rm -f "$HOOK_ERR"
	bundle '{}' "${2:-}"
	jq --argjson ann "$1" --arg hook "$HOOK" \
		--arg stage "$(jq -r '.stages[0]' "$entry")" --arg err "$HOOK_ERR" '
		.annotations = $ann + {"run.oci.hooks.stderr": $err} |
		.hooks[$stage] = [{"path": $hook}]' \
		"$BUNDLE/config.json" > "$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
}

@test "OCI hook: a sandbox's annotations go to its pod's cgroup, and only to a pod's" {
	mkdir -p $CG/$POD
	hooked_bundle '{"io.kubernetes.cri-o.ContainerType": "sandbox",
			"ratelimit.cgroup.linux/snp.req_rate": "7 9",
			"ratelimit.cgroup.linux/snp.weight": "250"}' $POD/ctr
	run create crun
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat $CG/$POD/snp.req_rate)" = "7 9" ]
	[ "$(cat $CG/$POD/snp.weight)" = 250 ]
	crun delete --force ctr
	# a "sandbox" whose parent is not a pod's cgroup (a shared parent,
	# such as kubepods-burstable.slice or machine.slice) writes nothing
	mkdir $CG/$PARENT/sb
	sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 60' sh $CG/$PARENT/sb &
	local pid=$!
	sleep 0.5
	run "$BATS_FILE_TMPDIR/rate-oci-hook" < <(oci_state '{
		"io.kubernetes.cri-o.ContainerType": "sandbox",
		"ratelimit.cgroup.linux/snp.req_rate": "1000 1000"}' $pid)
	kill $pid
	wait $pid || true
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "rate-oci-hook: container c1: sandbox's parent /$PARENT is not a pod's cgroup" ]
	[ "$(cat $CG/$PARENT/snp.req_rate 2>/dev/null || echo max)" = max ]
}

# oci_state ANNOTATIONS-JSON [PID]: the state a runtime hands a hook, for
# PID's cgroup (default: this shell's)
oci_state() {
	printf '{"ociVersion": "1.0.2", "id": "c1", "status": "created", "pid": %d,
		  "bundle": "/b", "annotations": %s}' "${2:-$$}" "$1"
}

@test "OCI hook: its own errors name the annotation, the file and why" {
	run "$BATS_FILE_TMPDIR/rate-oci-hook" < <(oci_state '{"ratelimit.cgroup.linux/snp.weight": "0"}')
	[ "$status" -eq 1 ]
	[ "$output" = 'rate-oci-hook: container c1: annotation ratelimit.cgroup.linux/snp.weight="0": a weight is 1..10000' ]
	run "$BATS_FILE_TMPDIR/rate-oci-hook" < <(oci_state '{"ratelimit.cgroup.linux/cpu.max": "10"}')
	[ "$status" -eq 1 ]
	[[ "$output" == *"annotation ratelimit.cgroup.linux/cpu.max: unknown file"* ]]
	run "$BATS_FILE_TMPDIR/rate-oci-hook" <<< 'not json'
	[ "$status" -eq 1 ]
	[[ "$output" == *"the state on standard input: line 1:"* ]]
	# nothing of ours: nothing to do
	run "$BATS_FILE_TMPDIR/rate-oci-hook" < <(oci_state '{"other": "x"}')
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the kernel's refusal (BURST 0), for a task of $PARENT/hk: the file
	# and the kernel's reason, and what was written before it put back
	operator_enables
	mkdir $CG/$PARENT/hk
	sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 60' sh $CG/$PARENT/hk &
	local pid=$!
	sleep 0.5
	run "$BATS_FILE_TMPDIR/rate-oci-hook" < <(printf '{"ociVersion": "1.0.2", "id": "c2",
		"status": "created", "pid": %d, "bundle": "/b", "annotations": {
		"ratelimit.cgroup.linux/buslock.rate": "1000 100",
		"ratelimit.cgroup.linux/snp.req_rate": "10 0"}}' $pid)
	kill $pid
	wait $pid || true
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "rate-oci-hook: container c2: $CG/$PARENT/hk/snp.req_rate: \"10 0\": Invalid argument" ]
	[ "$(cat $CG/$PARENT/hk/buslock.rate)" = max ]
}

@test "OCI hook: a bad annotation fails the container, writing nothing" {
	# a sandbox, so that what the hook would write outlives the failed
	# container: its pod's cgroup
	operator_enables
	mkdir -p $CG/$POD
	hooked_bundle '{"io.kubernetes.cri-o.ContainerType": "sandbox",
			"ratelimit.cgroup.linux/snp.req_rate": "1 2",
			"ratelimit.cgroup.linux/snp.weight": "0"}' $POD/ctr
	run create crun
	echo "$output"
	cat "$HOOK_ERR"
	[ "$status" -ne 0 ]
	[[ "$output" == *"error executing hook \`$HOOK\` (exit code: 1)"* ]]
	[ "$(cat "$HOOK_ERR")" = 'rate-oci-hook: container ctr: annotation ratelimit.cgroup.linux/snp.weight="0": a weight is 1..10000' ]
	# checked before anything is written: snp.req_rate came first
	[ "$(cat $CG/$POD/snp.req_rate)" = max ]
	nothing_left crun $POD/ctr
	# the kernel's refusal (BURST 0): what the hook wrote before it is
	# put back. The hook writes in the order of the state's annotations,
	# which crun takes from config.json: here buslock.rate first, as
	# podman writes them (sorted by name).
	hooked_bundle '{"io.kubernetes.cri-o.ContainerType": "sandbox",
			"ratelimit.cgroup.linux/buslock.rate": "1000 100",
			"ratelimit.cgroup.linux/snp.req_rate": "10 0"}' $POD/ctr
	run create crun
	echo "$output"
	cat "$HOOK_ERR"
	[ "$status" -ne 0 ]
	[[ "$output" == *"error executing hook \`$HOOK\` (exit code: 1)"* ]]
	[ "$(cat "$HOOK_ERR")" = "rate-oci-hook: container ctr: $CG/$POD/snp.req_rate: \"10 0\": Invalid argument" ]
	[ "$(cat $CG/$POD/buslock.rate)" = max ]
	[ "$(cat $CG/$POD/snp.req_rate)" = max ]
	nothing_left crun $POD/ctr
}
