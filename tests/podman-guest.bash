# Sourced by the bats files that run podman in the test guest
# (runtimes.bats, systemd-stock.bats).

# podman_guest MANAGER ARGS...: podman as the guest can run it, with
# MANAGER (cgroupfs or systemd) its cgroup manager: its state in the
# test file's tmpdir (a tmpfs), vfs storage and a file for its events
# (the guest has no overlayfs, and no journald unless systemd is PID 1),
# and crun without the /dev/mqueue mount the test kernel cannot make
# (tests/crun-no-mqueue). Bounded, so that a podman that hangs fails its
# test instead of the suite; generously, as a starved guest's podman is
# slow, not hung (a cold run's podman run took over 180 s, 2026-12-06).
podman_guest() {
	local t=$BATS_FILE_TMPDIR/podman manager=$1
	shift
	timeout 600 podman --root "$t/storage" --runroot "$t/run" --storage-driver vfs \
		--cgroup-manager="$manager" --events-backend=file \
		--runtime "$BATS_TEST_DIRNAME/crun-no-mqueue" "$@"
}
