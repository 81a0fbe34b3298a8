#!/usr/bin/env bash
# Build Debian trixie's systemd with the patches of
# userspace/systemd-upstream/ (the snp and buslock controllers and their
# unit properties, as proposed upstream: plain "t" D-Bus properties,
# D-Bus documentation, a unit test) and run systemd's own unit tests of
# the code they touch: the check that the series still applies, builds
# and passes on the systemd a Debian stable release ships. PID 1,
# systemctl and systemd-run are built too; nothing is installed, nothing
# is booted.
#
# The pinned source (the .dsc's SHA-256 covers the tarballs it names) is
# fetched without adding deb-src to the system, unpacked with Debian's own
# patches, then ours are applied. The build lives in
# $BUILD/upstream-systemd-KEY (not systemd-*, which build-systemd.sh
# clears), KEY hashing the version, the patches, this script and the
# compiler; the same key is not unpacked and configured again, and
# ccache makes a new key cheap. The tests run every time. Prints the
# build directory; exits non-zero if the series does not apply or
# build, or a test fails or skips where it must run.
#
#   [JOBS=N] build-systemd-upstream.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SYSTEMD_UPSTREAM_PKG_VERSION=257.13-1~deb13u1
SYSTEMD_UPSTREAM_DSC_SHA256=1b3405d671a82d1e20c9d99f52d4336aafe8543b28d04e91b7f1f586d3a667c7
patches=$TOP/userspace/systemd-upstream

# The unit tests of the code the series touches: its own, the cgroup
# masks, names and parsers, unit file and D-Bus property parsing, the
# unit serialization. The executor's serialization of the new settings
# (execute-serialize.c, exec_cgroup_context_serialize/deserialize) is
# not tested: no test here round-trips it.
tests=(test-cgroup-rate-limit test-cgroup-mask test-cgroup-util test-cgroup
       test-cgroup-setup test-cgroup-unit-default test-cgroup-cpu
       test-load-fragment test-core-unit test-unit-serialize test-bus-util
       test-conf-parser)
programs=(systemd systemd-executor systemctl systemd-run)
jobs=${JOBS:-$(nproc)}

key=$(echo "$SYSTEMD_UPSTREAM_PKG_VERSION" | result_key "$patches"/*.patch "$0")
out=$BUILD/upstream-systemd-$key

export PATH=/usr/bin:/bin:/usr/sbin:/sbin CC="ccache gcc"

if [ ! -f "$out/build/build.ninja" ]; then
	dsc=$(fetch_dsc systemd-upstream systemd "$SYSTEMD_UPSTREAM_PKG_VERSION" \
		"$SYSTEMD_UPSTREAM_DSC_SHA256" "deb-src http://deb.debian.org/debian trixie main") ||
		die "systemd $SYSTEMD_UPSTREAM_PKG_VERSION: no pinned source to build (see above; trixie's index lists only the current point release's systemd)"
	rm -rf "$BUILD"/upstream-systemd-*
	mkdir -p "$out"
	# dpkg-source checks the tarballs against the .dsc and applies Debian's
	# patches; the signature is not checked (no keyring), the pinned hash is.
	(cd "$out" && dpkg-source --no-check -x "$dsc" src >&2)
	# No fuzz: a patch that only applies with fuzz is refused, not guessed
	for p in "$patches"/*.patch; do
		patch -d "$out/src" -p1 -s --fuzz=0 --no-backup-if-mismatch < "$p" >&2 ||
			die "$p does not apply without fuzz to systemd $SYSTEMD_UPSTREAM_PKG_VERSION"
	done

	# Debian's paths (debian/rules), the tests on, everything the tests and
	# the programs do not need off: the features by --auto-features, the
	# booleans here. Meson runs its generators with the first python3 on
	# PATH: Debian's, which has jinja2.
	off=(utmp hibernate ldconfig resolve efi tpm environment-d binfmt coredump
	     pstore oomd logind hostnamed localed machined portabled sysext userdb
	     networkd timedated timesyncd nss-myhostname nss-systemd firstboot
	     randomseed backlight vconsole quotacheck sysusers tmpfiles hwdb rfkill
	     xdg-autostart translations idn gshadow nscd mountfsd nsresourced
	     storagetm kernel-install ima ipe smack analyze slow-tests fuzz-tests
	     install-tests)
	opts=()
	for o in "${off[@]}"; do opts+=("-D$o=false"); done
	if ! meson setup "$out/build" "$out/src" --auto-features=disabled -Dmode=release \
		-Dsysupdated=disabled -Dsysvinit-path=/etc/init.d -Dtests=true \
		-Dversion-tag="$SYSTEMD_UPSTREAM_PKG_VERSION+snp-cgroup" "${opts[@]}" >&2; then
		rm -rf "$out"
		die "meson setup failed"
	fi
fi

ninja -C "$out/build" -j"$jobs" "${programs[@]}" "${tests[@]}" >&2
# Only what was built above: a plain "meson test" builds all of systemd first
meson test -C "$out/build" --no-rebuild --print-errorlogs --num-processes "$jobs" "${tests[@]}" >&2 ||
	die "systemd $SYSTEMD_UPSTREAM_PKG_VERSION unit tests failed, see $out/build/meson-logs/testlog.txt"

# A skip (exit 77) is no failure to meson. Only the tests of booted_only
# below may skip, and those are run again; any other skip fails here.
# The test names come from the last run's log (one JSON object a line).
booted_only=(test-cgroup-mask test-cgroup-unit-default)
skipped=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("result") == "SKIP":
        print(t["name"].split(" / ")[-1])
' "$out/build/meson-logs/testlog.json")
for t in $skipped; do
	case " ${booted_only[*]} " in
	*" $t "*) ;;
	*) die "$t skipped (exit 77), but must run here; see $out/build/meson-logs/testlog.txt" ;;
	esac
done

# test-cgroup-mask and test-cgroup-unit-default are marked sd_booted in
# systemd's test harness: where /run/systemd/system is missing (a host
# not booted with systemd, as CI's machines are) they skip, exit 77,
# and meson counts that as no failure. test-cgroup-util's subtests
# get_paths, escape, mask_supported, is_cgroup_fs and fd_is_cgroup_fs
# are marked so too, but the binary exits 0 with them skipped. None of
# them needs PID 1: test-cgroup-mask and test-cgroup-unit-default run a
# manager of their own in test mode, in a cgroup they make below their
# own; enter_cgroup_subroot() first tries to have a scope allocated for
# them over the system bus, and where there is none ("Failed to connect
# to system bus", "proceeding without") goes on in the cgroup it is in,
# which is harmless here. So where /run/systemd/system is missing, run
# them again in a mount namespace of their own in which that directory
# exists, and hold them to exit 0.
if [ ! -d /run/systemd/system ]; then
	for t in "${booted_only[@]}" test-cgroup-util; do
		# shellcheck disable=SC2016
		unshare -m --propagation private sh -c '
			mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd &&
			mkdir /run/systemd/system && exec "$0"' "$out/build/$t" \
			> "$out/build/meson-logs/$t-booted.log" 2>&1 ||
			die "$t failed where /run/systemd/system exists, see $out/build/meson-logs/$t-booted.log"
		echo "$t: passed with /run/systemd/system present (mount namespace)" >&2
	done
fi
echo "$out/build"
