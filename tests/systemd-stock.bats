#!/usr/bin/env bats
# Debian bookworm's own systemd (252, unpatched) as PID 1 of the
# mainline test guest, with snp and buslock, which it does not know:
# what it does with them, and tools/systemd/cgroup-rate@.service, which
# holds a slice's limits with it. tests/guest-tests.sh (suite
# systemd_stock) hands PID 1 to /lib/systemd/systemd and runs this from
# a unit.

bats_require_minimum_version 1.5.0

CG=/sys/fs/cgroup
UNITS=/etc/systemd/system
# The guest's /etc is the host's, read-only, but for /etc/systemd: the
# unit and the script are used from the checkout, the configuration
# directory is /run/cgroup-rate (the unit says /etc/cgroup-rate).
CONF=/run/cgroup-rate
TOOLS=$BATS_TEST_DIRNAME/../tools/systemd
export CGROUP_RATE_CONF_DIR=$CONF

load podman-guest

setup_file() {
	mkdir -p $CONF
	sed -e "s|/usr/local/libexec/cgroup-rate-apply|$TOOLS/cgroup-rate-apply|" \
	    -e "s|/etc/cgroup-rate|$CONF|g" \
	    -e "s|^\[Service\]|[Service]\nEnvironment=CGROUP_RATE_CONF_DIR=$CONF|" \
		"$TOOLS/cgroup-rate@.service" > $UNITS/cgroup-rate@.service
	# The system bus, for systemd-run --wait
	systemctl start dbus.socket dbus.service
	local i
	for i in $(seq 60); do
		busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1 && break
		sleep 1
	done
	cat > $UNITS/vm1.service <<-EOF
	[Service]
	Slice=vms.slice
	ExecStart=/bin/sleep infinity
	EOF
	systemctl daemon-reload
	# A container root for the runtimes
	local rootfs=$BATS_FILE_TMPDIR/rootfs
	mkdir -p "$rootfs/bin" /run/runc /run/crun
	cp /bin/busybox "$rootfs/bin/"
	local applet
	for applet in sleep sh cat sed; do
		ln -s busybox "$rootfs/bin/$applet"
	done
}

teardown() {
	timeout 60 runc --systemd-cgroup delete --force ctr 2>/dev/null || true
	timeout 60 crun --systemd-cgroup delete --force ctr 2>/dev/null || true
	systemctl stop vm1.service vms.slice 2>/dev/null || true
	systemctl disable cgroup-rate@vms.slice.service 2>/dev/null || true
	rm -f $CONF/vms.slice.conf
	systemctl reset-failed 2>/dev/null || true
}

# wait_active UNIT: UNIT active within 60 s (a unit a slice Wants= starts
# in a job of its own, after the command that started the slice returns)
wait_active() {
	local i
	for i in $(seq 120); do
		[ "$(systemctl is-active "$1")" = active ] && return 0
		sleep 0.5
	done
	systemctl status --no-pager "$1" || true
	return 1
}

vms_cg() {
	echo "$CG$(systemctl show -P ControlGroup vms.slice)"
}

@test "stock systemd: it is bookworm's, unpatched" {
	systemctl --version | head -1
	[[ "$(systemctl --version | head -1)" == "systemd 252 "* ]]
	# it knows neither controller: no such unit setting
	run systemctl show -P SNPRequestRate vms.slice
	[ -z "$output" ]
}

@test "stock systemd leaves snp and buslock where they were enabled, and their files alone" {
	systemctl start vm1.service
	local vms
	vms=$(vms_cg)
	echo "+snp +buslock" > $CG/cgroup.subtree_control
	echo "10 20" > "$vms/snp.req_rate"
	echo 300 > "$vms/snp.weight"
	systemctl daemon-reload
	systemctl restart vm1.service
	systemd-run --wait --quiet --slice=other.slice /bin/true
	grep -qw snp $CG/cgroup.subtree_control
	grep -qw buslock $CG/cgroup.subtree_control
	[ "$(cat "$vms/snp.req_rate")" = "10 20" ]
	[ "$(cat "$vms/snp.weight")" = 300 ]
	# but nothing holds them: a slice that stops and starts again comes
	# back with a new cgroup and the defaults
	systemctl stop vms.slice
	systemctl start vm1.service
	[ "$(cat "$(vms_cg)/snp.req_rate")" = max ]
}

@test "cgroup-rate@: a slice's limits from its file, at start, after daemon-reload, after a restart" {
	printf '%s\n' '# tenant VMs' 'snp.req_rate = 20 20' 'buslock.rate=1000   100' \
		'snp.weight=250' > $CONF/vms.slice.conf
	systemctl enable cgroup-rate@vms.slice.service
	[ -L $UNITS/vms.slice.wants/cgroup-rate@vms.slice.service ]
	# the slice starting, as it does at boot or for its first VM
	systemctl start vm1.service
	wait_active cgroup-rate@vms.slice.service
	local vms
	vms=$(vms_cg)
	[ "$(cat "$vms/snp.req_rate")" = "20 20" ]
	[ "$(cat "$vms/buslock.rate")" = "1000 100" ]
	[ "$(cat "$vms/snp.weight")" = 250 ]
	systemctl daemon-reload
	[ "$(cat "$vms/snp.req_rate")" = "20 20" ]
	# stop and start: a new cgroup, the limits written again
	systemctl stop vms.slice
	run systemctl is-active cgroup-rate@vms.slice.service
	[ "$output" = inactive ]
	systemctl start vm1.service
	wait_active cgroup-rate@vms.slice.service
	[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
	[ "$(cat "$(vms_cg)/buslock.rate")" = "1000 100" ]
	# a task of the slice is charged against it; alone in the slice, it
	# gets the slice's whole burst
	systemctl stop vm1.service
	run systemd-run --wait --pipe --quiet --slice=vms.slice "$RATE_CHARGE" snp 30
	echo "$output"
	[[ "$output" == "admitted 2"[01]" refused "* ]]
}

@test "cgroup-rate@: reload applies a changed file" {
	echo "snp.req_rate=20 20" > $CONF/vms.slice.conf
	systemctl enable --now cgroup-rate@vms.slice.service
	[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
	echo "snp.req_rate=5 10" > $CONF/vms.slice.conf
	systemctl reload cgroup-rate@vms.slice.service
	[ "$(cat "$(vms_cg)/snp.req_rate")" = "5 10" ]
}

@test "cgroup-rate@: a bad file fails the unit with the reason, changing nothing" {
	echo "snp.req_rate=20 20" > $CONF/vms.slice.conf
	systemctl enable --now cgroup-rate@vms.slice.service
	printf '%s\n' 'buslock.rate=1000 100' 'snp.weight=0' > $CONF/vms.slice.conf
	run systemctl reload cgroup-rate@vms.slice.service
	[ "$status" -ne 0 ]
	run "$TOOLS/cgroup-rate-apply" vms.slice
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"vms.slice.conf:2: snp.weight=0: a weight is 1..10000"* ]]
	[ "$(cat "$(vms_cg)/buslock.rate")" = max ]
	# refused by the kernel (BURST 0): what came before is put back
	printf '%s\n' 'buslock.rate=1000 100' 'snp.req_rate=10 0' > $CONF/vms.slice.conf
	run "$TOOLS/cgroup-rate-apply" vms.slice
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'snp.req_rate: "10 0": Invalid argument'* ]]
	[ "$(cat "$(vms_cg)/buslock.rate")" = max ]
	[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
}

# bundle CGROUPS-PATH UNIFIED-JSON: an OCI bundle in $BUNDLE whose
# container sleeps in the systemd cgroup path CGROUPS-PATH with
# linux.resources.unified = UNIFIED-JSON
bundle() {
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	rm -rf "$BUNDLE"
	mkdir -p "$BUNDLE"
	(cd "$BUNDLE" && runc spec)
	jq --argjson unified "$2" --arg cg "$1" --arg rootfs "$BATS_FILE_TMPDIR/rootfs" '
		.root.path = $rootfs |
		.process.terminal = false |
		.process.args = ["/bin/sleep", "600"] |
		.linux.namespaces |= map(select(.type != "ipc" and .type != "cgroup")) |
		.mounts |= map(select(.destination != "/dev/mqueue")) |
		.linux.cgroupsPath = $cg |
		.linux.resources.unified = $unified' \
		"$BUNDLE/config.json" > "$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
}

@test "runc with its systemd driver sets a container's keys in a slice that cgroup-rate@ holds" {
	echo "snp.req_rate=20 20" > $CONF/vms.slice.conf
	systemctl enable --now cgroup-rate@vms.slice.service
	# the slice's own subtree_control has them, for what runs below it
	grep -qw snp "$(vms_cg)/cgroup.subtree_control"
	local rt log=$BATS_TEST_TMPDIR/create.log rc
	for rt in runc; do
		bundle "vms.slice:$rt:ctr" '{"snp.req_rate": "5 10", "snp.weight": "300"}'
		rc=0
		timeout 120 "$rt" --systemd-cgroup create --bundle "$BUNDLE" ctr \
			< /dev/null > "$log" 2>&1 || rc=$?
		cat "$log"
		systemctl status --no-pager "$rt-ctr.scope" || true
		[ "$rc" -eq 0 ]
		[ "$(systemctl show -P ControlGroup "$rt-ctr.scope")" = /vms.slice/$rt-ctr.scope ]
		[ "$(cat "$(vms_cg)/$rt-ctr.scope/snp.req_rate")" = "5 10" ]
		[ "$(cat "$(vms_cg)/$rt-ctr.scope/snp.weight")" = 300 ]
		[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
		# systemd reloading and another unit starting leave them alone
		systemctl daemon-reload
		systemd-run --wait --quiet --slice=vms.slice /bin/true
		[ "$(cat "$(vms_cg)/$rt-ctr.scope/snp.req_rate")" = "5 10" ]
		[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
		timeout 60 "$rt" --systemd-cgroup delete --force ctr
	done
}

@test "cgroup-rate@: a slice whose name has escapes, as libvirt's partitions have" {
	local slice='vms-t\x2da.slice'
	echo "snp.req_rate=7 7" > "$CONF/$slice.conf"
	systemctl enable "cgroup-rate@$slice.service"
	systemd-run --quiet --unit=tvm --slice="$slice" /bin/sleep 600
	wait_active "cgroup-rate@$slice.service"
	local cg
	cg=$CG$(systemctl show -P ControlGroup "$slice")
	[ "$cg" = "$CG/vms.slice/$slice" ]
	[ "$(cat "$cg/snp.req_rate")" = "7 7" ]
	systemctl stop tvm.service "$slice"
	systemctl disable "cgroup-rate@$slice.service"
	rm -f "$CONF/$slice.conf"
}

# crun's systemd driver puts the container in a sub-cgroup of its scope,
# "container" by default, and enables there only the controllers it
# knows: the scope's subtree_control never gets snp, so the keys are
# refused. The annotation run.oci.systemd.subgroup="" (crun(1)) makes
# the scope itself the container's cgroup, and its parent is the slice
# cgroup-rate@ holds. podman passes it down to crun from --annotation.
@test "crun with its systemd driver: refused in its sub-cgroup, set on the scope with run.oci.systemd.subgroup empty" {
	echo "snp.req_rate=20 20" > $CONF/vms.slice.conf
	systemctl enable --now cgroup-rate@vms.slice.service
	grep -qw snp "$(vms_cg)/cgroup.subtree_control"
	local log=$BATS_TEST_TMPDIR/create.log rc=0
	bundle "vms.slice:crun:ctr" '{"snp.req_rate": "5 10", "snp.weight": "300"}'
	# the premise: crun's default sub-cgroup has no snp
	timeout 120 crun --systemd-cgroup create --bundle "$BUNDLE" ctr \
		< /dev/null > "$log" 2>&1 || rc=$?
	cat "$log"
	[ "$rc" -ne 0 ]
	grep -q 'controller `snp` is not available' "$log"
	timeout 60 crun --systemd-cgroup delete --force ctr 2>/dev/null || true
	systemctl stop crun-ctr.scope 2>/dev/null || true
	# the workaround: no sub-cgroup
	jq '.annotations["run.oci.systemd.subgroup"] = ""' "$BUNDLE/config.json" \
		> "$BUNDLE/config.new" && mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	rc=0
	timeout 120 crun --systemd-cgroup create --bundle "$BUNDLE" ctr \
		< /dev/null > "$log" 2>&1 || rc=$?
	cat "$log"
	systemctl status --no-pager crun-ctr.scope || true
	[ "$rc" -eq 0 ]
	[ "$(systemctl show -P ControlGroup crun-ctr.scope)" = /vms.slice/crun-ctr.scope ]
	[ "$(cat "$(vms_cg)/crun-ctr.scope/snp.req_rate")" = "5 10" ]
	[ "$(cat "$(vms_cg)/crun-ctr.scope/snp.weight")" = 300 ]
	[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
	systemctl daemon-reload
	[ "$(cat "$(vms_cg)/crun-ctr.scope/snp.req_rate")" = "5 10" ]
	timeout 60 crun --systemd-cgroup delete --force ctr
}

# podman_sd ARGS...: podman with its systemd cgroup manager, the
# default on a systemd host
podman_sd() {
	podman_guest systemd "$@"
}

# podman_sd_run OPTION...: a container in vms.slice that prints its
# cgroup and its snp.req_rate; the guest's kernel has no seccomp, IPC or
# cgroup namespaces
podman_sd_run() {
	# shellcheck disable=SC2016
	podman_sd run --rm --network none --cgroupns host --ipc host \
		--security-opt seccomp=unconfined --log-driver k8s-file \
		--cgroup-parent vms.slice "$@" --rootfs "$BATS_FILE_TMPDIR/rootfs" \
		/bin/sh -c 'p=$(sed -n "s/^0:://p" /proc/self/cgroup)
			    echo "cgroup $p"
			    echo "snp $(cat /sys/fs/cgroup$p/snp.req_rate)"'
}

@test "podman with its systemd cgroup manager: --cgroup-conf lands on the scope with run.oci.systemd.subgroup empty" {
	echo "snp.req_rate=20 20" > $CONF/vms.slice.conf
	systemctl enable --now cgroup-rate@vms.slice.service
	# Without the annotation the keys are refused in crun's sub-cgroup:
	# the crun test above shows it, and podman hands crun the same
	# config, so only the workaround needs podman's own path.
	run podman_sd_run --annotation run.oci.systemd.subgroup= \
		--cgroup-conf "snp.req_rate=5 10"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cgroup /vms.slice/libpod-"*".scope"* ]]
	[[ "$output" == *"snp 5 10"* ]]
	[ "$(cat "$(vms_cg)/snp.req_rate")" = "20 20" ]
}
