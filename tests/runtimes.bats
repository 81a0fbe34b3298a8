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
	# podman always asks for a /dev/mqueue mount, and the test kernel has
	# no POSIX message queues: crun, minus that one mount.
	cat > "$BATS_FILE_TMPDIR/crun-no-mqueue" <<-'EOF'
	#!/bin/sh
	prev= bundle=
	for a; do
		case $prev in --bundle|-b) bundle=$a ;; esac
		prev=$a
	done
	if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
		jq '.mounts |= map(select(.destination != "/dev/mqueue"))' \
			"$bundle/config.json" > "$bundle/config.json.new" &&
			mv "$bundle/config.json.new" "$bundle/config.json"
	fi
	exec crun "$@"
	EOF
	chmod +x "$BATS_FILE_TMPDIR/crun-no-mqueue"
}

teardown() {
	local rt
	for rt in runc crun; do
		"$rt" delete --force ctr 2>/dev/null || true
	done
	rmdir $CG/$PARENT/* $CG/$PARENT 2>/dev/null || true
}

# bundle UNIFIED-JSON: an OCI bundle in $BUNDLE whose container sleeps in
# the cgroup $PARENT/ctr with linux.resources.unified = UNIFIED-JSON and
# the test-only charge interface bind-mounted at /debug. The test kernel
# has no IPC namespace nor POSIX message queues: both are left out.
bundle() {
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	mkdir -p "$BUNDLE"
	(cd "$BUNDLE" && runc spec)
	jq --argjson unified "$1" --arg cg "/$PARENT/ctr" \
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
	runc) runc create --bundle "$BUNDLE" ctr ;;
	crun) crun --cgroup-manager=cgroupfs create --bundle "$BUNDLE" ctr ;;
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

# nothing_left RUNTIME: after a failed start, no container state and no
# cgroup. crun 1.8.1 leaves the container's cgroup behind, empty, when
# setting it up fails (fixed upstream by containers/crun#2242, not in
# bookworm): there it must hold no task, and it can be removed.
nothing_left() {
	[ -z "$("$1" list -q 2>/dev/null)" ]
	if [ "$1" = crun ] && [ -d $CG/$PARENT/ctr ]; then
		[ -z "$(cat $CG/$PARENT/ctr/cgroup.procs)" ]
		rmdir $CG/$PARENT/ctr
	fi
	[ ! -d $CG/$PARENT/ctr ]
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

@test "runc: unified keys land in the container's cgroup and throttle it" {
	# runc enables the controllers itself: start from the root without
	# them (when no other cgroup holds them enabled)
	echo "-snp -buslock" > $CG/cgroup.subtree_control 2>/dev/null || true
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

# podman_ ARGS...: podman with its state in the test's tmpfs, the
# cgroupfs manager and no systemd, journald nor overlayfs (the guest has
# none); the test kernel has no cgroup nor IPC namespaces (host ones) and
# no seccomp (unconfined).
podman_() {
	local t=$BATS_FILE_TMPDIR/podman
	podman --root "$t/storage" --runroot "$t/run" --storage-driver vfs \
		--cgroup-manager=cgroupfs --events-backend=file \
		--runtime "$BATS_FILE_TMPDIR/crun-no-mqueue" "$@"
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
	[ -z "$(podman_ ps -aq)" ]
	# crun's leftover (see nothing_left): empty, and removable
	local d
	for d in $CG/$PARENT/libpod-*; do
		[ -d "$d" ] || continue
		[ -z "$(cat "$d/cgroup.procs")" ]
		rmdir "$d"
	done
}
