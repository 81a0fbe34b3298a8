#!/bin/bash
# Runs inside the test guest (see scripts/check.sh): every in-guest suite.
# Prints one line per test case, "RESULT pass|fail|skip SUITE:NAME", which
# the host counts; the suites' own output streams as it comes.
#
#   guest-tests.sh TREE [SUITE...]     suites: kunit rate kvmstall bats
#                                      upstream kvm runtimes systemd
#                                      systemd_stock (not by default)
#
# GUEST_TEST_TIMEOUT=SECONDS bounds each program (default 600);
# SYSTEMD_BUILD=DIR is the patched systemd (scripts/build-systemd.sh);
# SYSTEMD_BATS_FILTER=REGEX runs only the systemd tests it matches (bats
# --filter), to debug one without running the others; UPSTREAM_TESTS=
# "test_kmem ..." runs only those upstream cgroup selftests.
set -u
tree=$1
shift
# The base the tree is: 7.3 or 6.12
base=$(awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} END {print v "." p}' "$tree/Makefile")
# One suite at a time: run beside the container runtimes, the upstream
# KVM selftest x86/tsc_msrs_test failed (measured: it reads back the TSC
# it wrote, rounded to 2^32 cycles, and the vCPU was kept waiting).
suites=${*:-kunit rate kvmstall bats upstream kvm runtimes systemd}
# The suites' output and the kernel's console share the serial line, and
# a console message can land inside a RESULT line: an OOM kill's
# "Memory cgroup out of memory" (KERN_ERR) cut 6.12's
# "RESULT pass upstream:test_memcontrol:test_memcg_oom_group_leaf_events"
# in two (2026-12-02), which the host then counted as "did not run".
# Only emergency, alert and critical messages go to the console here;
# the kernel log the run is judged by is read whole with dmesg at the end
# (scripts/guest-finish.sh) and kept in VM_DMESG.
dmesg -n 3
sdir=$tree/tools/testing/selftests/cgroup
here=$(cd "$(dirname "$0")" && pwd)
per_test_timeout=${GUEST_TEST_TIMEOUT:-600}
upstream_tests=${UPSTREAM_TESTS:-test_core test_cpu test_cpuset test_freezer \
	test_hugetlb_memcg test_kill test_kmem test_memcontrol test_pids test_zswap}

# tap_results SUITE: TAP on stdin to RESULT lines (top level and subtests)
# tap_results SUITE [plan]: with "plan", a program that ends before
# the tests its plan announced (a hang killed by its timeout, a crash)
# fails SUITE, as the tests it never reached would otherwise go unseen
tap_results() {
	local suite=$1 check_plan=${2:-} line name reason planned="" ran=0
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case $line in
		[0-9]*..[0-9]*) [ -n "$planned" ] || planned=${line#*..} ;;
		"ok "*|"not ok "*) ran=$((ran + 1)) ;;
		esac
		line=${line#"${line%%[! ]*}"}
		# bats --timing: "ok 3 name in 1234ms", then bats' own " # skip
		# REASON" or " # timeout after Ns" if any (matched first, so that
		# a reason ending in "in 5ms" stays the reason); the time goes to
		# a line of its own, the name stays the test's
		if [[ $line =~ ^((not )?ok [0-9]+ .*)\ in\ ([0-9]+)ms(\ #\ (skip|timeout after [0-9]+s).*)$ ]] ||
		   [[ $line =~ ^((not )?ok [0-9]+ .*)\ in\ ([0-9]+)ms()$ ]]; then
			echo "--- time $suite:${BASH_REMATCH[1]#* [0-9]* }: ${BASH_REMATCH[3]} ms"
			line=${BASH_REMATCH[1]}${BASH_REMATCH[4]}
		fi
		case $line in
		"1..0 # SKIP"*)
			echo "RESULT skip $suite (${line#1..0 # SKIP })" ;;
		"ok "*"# SKIP"*|"ok "*"# skip"*)
			name=$(sed -E 's/^ok [0-9]+ *(- )?//; s/ *# (SKIP|skip).*//' <<<"$line")
			reason=$(sed -E 's/.*# (SKIP|skip) *//' <<<"$line")
			# kselftest_harness-less programs print the test's name
			# where the reason goes: "ok 5 # SKIP test_cpucg_foo"
			if [ -z "$name" ] && [[ $reason =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
				name=$reason
			fi
			if [ -n "$name" ]; then
				echo "RESULT skip $suite:$name"
			else	# a nameless skip with a reason: the whole program
				echo "RESULT skip $suite ($reason)"
			fi ;;
		"ok "*)
			name=$(sed -E 's/^ok [0-9]+ *(- )?//' <<<"$line")
			echo "RESULT pass $suite:$name" ;;
		"not ok "*)
			name=$(sed -E 's/^not ok [0-9]+ *(- )?//; s/ *# .*//' <<<"$line")
			echo "RESULT fail $suite:$name" ;;
		esac
	done
	if [ -n "$check_plan" ] && [[ $planned =~ ^[0-9]+$ ]] && [ "$ran" -lt "$planned" ]; then
		echo "RESULT fail $suite (cut short: $ran of $planned tests ran)"
	elif [ -n "$check_plan" ] && [ -z "$planned" ]; then
		echo "RESULT fail $suite (no TAP plan: the program did not start, or died first)"
	fi
}

run_kunit() {
	# The KUnit suites are built in and ran at boot; their TAP is in the log.
	local log
	log=$(dmesg | sed -n '/KTAP version\|TAP version/,$p' | sed -E 's/^\[[ 0-9.]+\] //')
	if ! grep -q 'Subtest: cgroup_rate' <<<"$log"; then
		echo "RESULT fail kunit:cgroup_rate (suite did not run)"
		return
	fi
	sed -n '/Subtest: cgroup_rate/,/^ok \|^not ok /p' <<<"$log" |
		grep -E '^ +(not )?ok ' | tap_results kunit
}

run_rate() {
	timeout "$per_test_timeout" stdbuf -oL -eL "$sdir/test_rate" 2>&1 | tap_results rate
}

run_kvmstall() {
	# The buslock cgroup in KVM_RUN, driven by real bus locks: the guest
	# boots on QEMU with userspace/qemu, whose SVM has Bus Lock
	# Threshold, so kvm_amd's own exit handler takes them. 6.12's
	# kvm_amd has no Bus Lock Threshold support, and TCG has no VMX.
	local kdir=$tree/tools/testing/selftests/kvm/x86 t rc
	if [ "$base" != 7.3 ]; then
		echo "RESULT skip kvmstall (6.12's kvm_amd does not use Bus Lock Threshold, and TCG has no VMX)"
		return
	fi
	if ! grep -qw svm /proc/cpuinfo; then
		echo "RESULT fail kvmstall (no SVM in the guest)"
		return
	fi
	# Upstream's test of the capability, with an L2 guest: its bus locks
	# reach userspace one exit each, fault-like (its own checks)
	t=$kdir/kvm_buslock_test
	(cd "$kdir" && timeout "$per_test_timeout" "$t") 2>&1
	rc=$?
	case $rc in
	0) echo "RESULT pass kvmstall:kvm_buslock_test (L1 and L2 bus-lock exits)" ;;
	4) echo "RESULT fail kvmstall:kvm_buslock_test (skipped: no bus-lock detection; is QEMU the one of scripts/build-qemu.sh?)" ;;
	*) echo "RESULT fail kvmstall:kvm_buslock_test (exit $rc)" ;;
	esac
	t=$kdir/buslock_cgroup_test
	[ -x "$t" ] || { echo "RESULT fail kvmstall (not built)"; return; }
	# The stalls it causes show in the kvm_cgroup_stall tracepoint
	local tr=/sys/kernel/tracing ev=events/kvm/kvm_cgroup_stall/enable stalls
	[ -e $tr/$ev ] || mount -t tracefs nodev $tr 2>/dev/null
	echo 1 > $tr/$ev && echo > $tr/trace
	(cd "$kdir" && timeout "$per_test_timeout" stdbuf -oL -eL "$t") 2>&1 |
		sed 's/^1\.\.0 # SKIP/not ok 1 buslock_cgroup_test skipped:/' |
		tap_results kvmstall
	stalls=$(grep -c 'kvm_cgroup_stall: vcpu [0-9]* bus_lock_ns [1-9]' $tr/trace)
	echo 0 > $tr/$ev
	if [ "${stalls:-0}" -gt 0 ]; then
		echo "RESULT pass kvmstall:tracepoint ($stalls kvm_cgroup_stall events)"
	else
		echo "RESULT fail kvmstall:tracepoint (no kvm_cgroup_stall event)"
	fi
}

# bats_files: the files of the bats suite on this base
bats_files() {
	local f
	for f in "$here"/*.bats; do
		[ -e "$f" ] || continue
		case ${f##*/} in
		runtimes.bats|systemd.bats|systemd-stock.bats) continue ;;	# their own suites
		rate-top.bats|libvirt-hook.bats)
			# userspace tools on the same files on both bases
			[ "$base" = 7.3 ] || continue ;;
		esac
		echo "$f"
	done
}

run_bats() {
	export RATE_CHARGE=$sdir/rate_charge
	# scripts/install-deps.sh puts Debian's promtool in the build cache
	export PROMTOOL=${PROMTOOL:-$(cd "$tree/../.." && pwd)/tools/promtool}
	local f files
	mapfile -t files < <(bats_files)
	for f in "${files[@]}"; do
		timeout "$per_test_timeout" bats --tap --timing "$f" 2>&1 |
			tap_results "bats:$(basename "$f" .bats)" plan
	done
}

run_runtimes() {
	# The operator paths through container runtimes, on mainline: they
	# exercise the same cgroupfs files on both bases.
	if [ "$base" != 7.3 ]; then
		echo "RESULT skip bats:runtimes (the container runtimes run on mainline only)"
		return
	fi
	timeout "$per_test_timeout" bats --tap --timing "$here/runtimes.bats" 2>&1 |
		tap_results "bats:runtimes" plan
}

# The systemd slice properties (tests/systemd.bats), mainline only: they
# need Debian's systemd with userspace/systemd/ as PID 1 (SYSTEMD_BUILD,
# scripts/build-systemd.sh). Run from guest-init, this suite hands PID 1
# to that systemd once the other suites are done (scripts/guest-init.sh);
# run again from a unit of it, it runs the tests and ends the guest.
run_systemd() {
	local sd=${SYSTEMD_BUILD:-}
	if [ "$base" != 7.3 ]; then
		echo "RESULT skip bats:systemd (systemd runs on mainline only)"
		return
	fi
	if [ "$(cat /proc/1/comm)" = systemd ]; then
		RATE_CHARGE=$sdir/rate_charge timeout "$per_test_timeout" \
			bats --tap --timing ${SYSTEMD_BATS_FILTER:+--filter "$SYSTEMD_BATS_FILTER"} \
			"$here/systemd.bats" 2>&1 | tap_results "bats:systemd" plan
		return
	fi
	if [ ! -x "$sd/systemd" ]; then
		echo "RESULT fail bats:systemd (no patched systemd in '$sd': scripts/build-systemd.sh)"
		return
	fi
	systemd_handoff "$sd"
}

# Debian's own systemd 252, unpatched, as PID 1 (tests/systemd-stock.bats):
# what it does with controllers it does not know, and
# tools/systemd/cgroup-rate@.service. Mainline only, in a boot with
# stock userspace only (scripts/check.sh, stock_start), handed PID 1 as
# run_systemd does.
run_systemd_stock() {
	if [ "$base" != 7.3 ]; then
		echo "RESULT skip bats:systemd-stock (systemd runs on mainline only)"
		return
	fi
	if [ "$(cat /proc/1/comm)" = systemd ]; then
		RATE_CHARGE=$sdir/rate_charge timeout "$per_test_timeout" \
			bats --tap --timing ${SYSTEMD_BATS_FILTER:+--filter "$SYSTEMD_BATS_FILTER"} \
			"$here/systemd-stock.bats" 2>&1 | tap_results "bats:systemd-stock" plan
		return
	fi
	systemd_handoff /lib/systemd systemd_stock
}

# systemd_handoff BUILD_DIR [SUITE]: PID 1 for BUILD_DIR/systemd, with one
# unit that runs SUITE (default systemd) again. The host's /etc/systemd
# (its enabled units) stays out of the guest's systemd; what set-property
# writes goes to a tmpfs there.
systemd_handoff() {
	local sd=$1 suite=${2:-systemd} unit=/run/systemd/system/snp-systemd-tests.service u
	mount -t tmpfs tmpfs /etc/systemd
	mkdir -p /etc/systemd/system /etc/systemd/system-generators /run/systemd/system
	mount -t tmpfs tmpfs /var/lib/systemd
	# The host's boot stays out too: its sysinit units (measured: its
	# systemd-tmpfiles-setup emptied /tmp under the running tests) and
	# its generators (its fstab) are masked. journald stays.
	for u in /lib/systemd/system/sysinit.target.wants/*; do
		[ "${u##*/}" = systemd-journald.service ] ||
			ln -s /dev/null "/etc/systemd/system/${u##*/}"
	done
	for u in /lib/systemd/system-generators/*; do
		ln -s /dev/null "/etc/systemd/system-generators/${u##*/}"
	done
	# An earlier suite of the boot may have enabled the controllers at
	# the root: systemd is to do that itself (tests/systemd.bats checks).
	echo "-snp -buslock" 2>/dev/null > /sys/fs/cgroup/cgroup.subtree_control ||
		echo "systemd: snp, buslock still enabled at the root (a cgroup below uses them)"
	cat > "$unit" <<-EOF
	[Unit]
	Description=snp and buslock: the $suite suite (tests/guest-tests.sh)
	DefaultDependencies=no

	[Service]
	Type=oneshot
	Environment="PATH=$sd:$PATH" HOME=/root TERM=dumb TMPDIR=/tmp
	Environment=SYSTEMD_BUILD=$sd GUEST_TEST_TIMEOUT=$per_test_timeout
	Environment="SYSTEMD_BATS_FILTER=${SYSTEMD_BATS_FILTER:-}"
	WorkingDirectory=$PWD
	StandardOutput=tty
	StandardError=inherit
	TTYPath=/dev/console
	ExecStart=/bin/bash $here/guest-tests.sh $tree $suite
	ExecStopPost=/bin/bash $here/../scripts/guest-finish.sh
	EOF
	printf '%s\n' "$sd/systemd" --unit=snp-systemd-tests.service \
		--show-status=no --log-level=notice > /run/guest-pid1
	# Should PID 1 never get to the unit, the run still ends, failed:
	# the tests' own bound and five minutes for systemd's start and stop.
	local limit=$((per_test_timeout + 300))
	(sleep "$limit"
	 echo "RESULT fail bats:${suite//_/-} (systemd as PID 1 did not end the run in $limit s)"
	 bash "$here/../scripts/guest-finish.sh" 1) &
	echo "systemd: PID 1 goes to $sd/systemd after the other suites"
}

# The upstream cgroup selftests run on a local root filesystem, as on the
# machines they are written for: the scratch disk of scripts/vm-run.sh.
# test_kmem_basic looks up 100000 names that do not exist in "/" and
# counts the negative dentries: on the guest's 9p root each lookup is a
# round trip to QEMU (measured on 7.3: 467 s of test_kmem's 654 s; all of
# test_kmem takes 130 s on a local root), and tmpfs will not do, as it
# keeps no negative dentries (the test fails there). The programs run
# from a copy on it too: test_memcontrol makes its page-cache files with
# open(".", O_TMPFILE), which the read-only 9p root refuses (EROFS), and
# on tmpfs they would be shmem, which only swap can reclaim. Swap is on
# for the suite (test_memcg_swap_max_peak and the reclaim tests use it).
local_root=/run/scratch
local_sdir=/cgroup-selftests
swap_dev=/dev/disk/by-id/virtio-swap
local_root_setup() {
	local t
	mountpoint -q "$local_root" || { echo "no scratch disk at $local_root"; return 1; }
	mkdir -p "$local_root$local_sdir" || return 1
	for t in $upstream_tests; do
		[ -x "$sdir/$t" ] && { cp "$sdir/$t" "$local_root$local_sdir/" || return 1; }
	done
	swapon "$swap_dev" || { echo "cannot turn swap on: $swap_dev"; return 1; }
}

local_root_teardown() {
	swapoff "$swap_dev" ||
		echo "RESULT fail upstream (swapoff failed: swap stays on for the suites after it)"
	rm -rf "${local_root:?}$local_sdir"
}

# in_local_root DIR COMMAND...: COMMAND in DIR, in a mount namespace of
# its own whose root is the local root, every top-level directory of the
# guest's root bound back at its own path: "/" itself and DIR are on the
# local root, everything below the guest's own directories is as before.
# Set up once for the suite: measured, about 20 s each time.
in_local_root() {
	unshare -m --propagation private bash -c '
		r=/mnt dir=$1
		shift
		mount "$(findmnt -no SOURCE '"$local_root"')" "$r" || exit 1
		for e in /*; do
			[ "$e" = "$r" ] && continue
			if [ -L "$e" ]; then
				ln -sfn "$(readlink "$e")" "$r$e" || exit 1
			elif [ -d "$e" ]; then
				mkdir -p "$r$e" && mount --rbind "$e" "$r$e" || exit 1
			fi
		done
		exec chroot "$r" /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$dir" "$@"
	' bash "$@"
}

# A test that passes on the unpatched base and fails here is run once
# more, and the second run's results are printed as "AGAIN ..." lines:
# the host counts the test as passed only if the second run passes it
# (scripts/check.sh). A regression that fails every time fails both
# runs (one that fails only sometimes may not); the races some
# upstream tests have under a loaded host (see the comments in
# tests/upstream-BASE.expected) rarely hit twice in a row.
expected=$here/upstream-$base.expected

# failed_but_pass_on_base RESULTS: the failed tests in the file RESULTS
# that the base's record says pass there
failed_but_pass_on_base() {
	awk 'NR == FNR { if ($1 == "pass") ok[$2] = 1; next }
	     $1 == "RESULT" && $2 == "fail" && ($3 in ok) { print $3 }' "$expected" "$1"
}

# hugetlb_accounting on|off: the cgroup2 mount option that counts
# hugetlb pages in memory.current. test_hugetlb_memcg tests that
# accounting and skips without it; the other programs are written for
# the default, so it is on for that one program only. The option belongs
# to the hierarchy, so a remount in the suite's mount namespace sets it
# for every mount of cgroup2. mount(8) would add the mount's present
# options to those given (measured: the option then stays on), hence
# --options-mode=ignore.
hugetlb_accounting() {
	local opts=nsdelegate
	[ "$1" = on ] && opts+=,memory_hugetlb_accounting
	mount --options-mode=ignore -o "remount,$opts" /sys/fs/cgroup &&
		[ "$(findmnt -no OPTIONS /sys/fs/cgroup | grep -c memory_hugetlb_accounting)" = \
		  "$([ "$1" = on ] && echo 1 || echo 0)" ] ||
		{ echo "RESULT fail upstream (cannot turn memory_hugetlb_accounting $1)"; return 1; }
}

# upstream_program T: run the cgroup selftest program T
upstream_program() {
	local pages
	if [ "$1" = test_hugetlb_memcg ]; then
		# it sets up a pool of huge pages and leaves it: returned after
		pages=$(cat /proc/sys/vm/nr_hugepages)
		hugetlb_accounting on || return
		# 6.12's copy takes the memory controller on at the root for
		# granted (mainline's enables it itself, as this does; the
		# suite's other programs enable it too and leave it on)
		echo +memory > /sys/fs/cgroup/cgroup.subtree_control ||
			echo "RESULT fail upstream:$1 (cannot enable memory at the root)"
	fi
	timeout "$per_test_timeout" stdbuf -oL -eL "./$1" 2>&1 | tap_results "upstream:$1"
	if [ "$1" = test_hugetlb_memcg ]; then
		echo "$pages" > /proc/sys/vm/nr_hugepages
		hugetlb_accounting off
	fi
}

upstream_programs() {
	local t results again
	results=$(mktemp)
	for t in $upstream_tests; do
		[ -x "$t" ] || { echo "RESULT fail upstream:$t (not built)"; continue; }
		echo "=== upstream $t"
		SECONDS=0
		upstream_program "$t" | tee "$results"
		echo "=== time upstream $t: ${SECONDS} s"
		again=$(failed_but_pass_on_base "$results")
		[ -n "$again" ] || continue
		echo "=== upstream $t again: failed, and pass on the base:" $again
		SECONDS=0
		upstream_program "$t" | sed 's/^RESULT /AGAIN /'
		echo "=== time upstream $t again: ${SECONDS} s"
	done
	rm -f "$results"
}

run_upstream() {
	if ! local_root_setup; then
		echo "RESULT fail upstream (no local root: the scratch disk and swap of scripts/vm-run.sh)"
		return
	fi
	in_local_root "$local_sdir" bash -c "$(declare -p per_test_timeout upstream_tests expected
		declare -f tap_results failed_but_pass_on_base hugetlb_accounting \
		upstream_program upstream_programs)
		upstream_programs"
	local_root_teardown
}

# kvm_program DIR T TAG: run the KVM selftest T in DIR, its result on a
# "TAG pass|fail|skip kvm:T" line
kvm_program() {
	local rc
	(cd "$1" && timeout 300 "./$2") 2>&1 | tail -15
	rc=${PIPESTATUS[0]}
	case $rc in
	0) echo "$3 pass kvm:$2" ;;
	4) echo "$3 skip kvm:$2" ;;
	*) echo "$3 fail kvm:$2 (exit $rc)" ;;
	esac
}

run_kvm() {
	local kdir=$tree/tools/testing/selftests/kvm t tests results
	if [ ! -c /dev/kvm ]; then
		echo "RESULT fail kvm:/dev/kvm (no KVM in the guest)"
		return
	fi
	tests=$(. "$here/../scripts/lib.sh" && kvm_selftests "$base")
	if [ -z "$tests" ]; then
		echo "RESULT fail kvm:list (no KVM selftests for $base)"
		return
	fi
	results=$(mktemp)
	for t in $tests; do
		echo "=== kvm $t"
		SECONDS=0
		kvm_program "$kdir" "$t" RESULT | tee "$results"
		echo "=== time kvm $t: ${SECONDS} s"
		[ -n "$(failed_but_pass_on_base "$results")" ] || continue
		echo "=== kvm $t again: failed, and passes on the base"
		kvm_program "$kdir" "$t" AGAIN
	done
	rm -f "$results"
}

# Wall time per suite and program, so that the budget can be reasoned about
run_suite() {
	local start
	start=$(date +%s)
	echo "=== suite $1"
	"run_$1"
	echo "=== time suite $1: $(($(date +%s) - start)) s"
}

# The suites that time nothing the host's load could upset: they check
# what the runtimes and systemd write, and limits as upper bounds. Once
# only these are left, the host may start its next guest beside this one
# (scripts/check.sh).
untimed="runtimes systemd systemd_stock"

# expect_reports: "EXPECT NAME" for each name the suites report results
# under (RESULT ... NAME[:test]), printed before the first suite runs, so
# that the host fails a suite that reports nothing at all
# (scripts/check.sh, guest_report). Once a boot: not again when PID 1's
# systemd runs the systemd suites.
expect_reports() {
	local s f
	for s in $suites; do
		case $s in
		bats)
			bats_files | while IFS= read -r f; do
				echo "EXPECT bats:$(basename "$f" .bats)"
			done ;;
		runtimes|systemd|systemd_stock) echo "EXPECT bats:${s//_/-}" ;;
		*) echo "EXPECT $s" ;;
		esac
	done
}
[ "$(cat /proc/1/comm)" = systemd ] || expect_reports
marked=""
for s in $suites; do
	if [ -z "$marked" ] && [[ " $untimed " == *" $s "* ]]; then
		echo "=== guest-tests: timed suites done"
		marked=1
	fi
	run_suite "$s"
done
[ -n "$marked" ] || echo "=== guest-tests: timed suites done"
exit 0
