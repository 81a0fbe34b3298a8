#!/usr/bin/env bash
# make check: build, boot and test everything, on both bases: mainline
# (7.3) and the 6.12 backport. The last line is "N passed, N failed, N
# skipped". Logs go to $BUILD/logs/, named after the base.
#
# Mainline carries the configuration matrix, the W=1/sparse build and the
# runner's self-tests; both bases get their test kernel, the in-guest
# suites (held, for the upstream ones, to that unpatched base) and their
# series with a build after every patch.
#
# CHECK_SERIES_BUILD=0 skips the per-patch builds of the series;
# CHECK_BASES="7.3" checks one base.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"

logs=$BUILD/logs
mkdir -p "$logs"
pass=0 fail=0 skip=0
t_start=$(date +%s)

tag=""	# "[7.3] " while a base is checked
# Once a guest runs, the builds beside it yield the CPU to it: the guest's
# timed tests measure the kernel, not the host's load.
nice=""

result() {	# result pass|fail|skip NAME [REASON]
	case $1 in
	pass) pass=$((pass + 1)); echo "PASS  $tag$2${3:+ ($3)}" ;;
	fail) fail=$((fail + 1)); echo "FAIL  $tag$2${3:+ ($3)}" ;;
	skip) skip=$((skip + 1)); echo "SKIP  $tag$2${3:+ ($3)}" ;;
	esac
}

step() {	# step NAME LOG COMMAND...: one result from a command's status
	local name=$1 log=$2 t0=$(date +%s)
	shift 2
	if $nice "$@" > "$logs/$log" 2>&1; then
		result pass "$name ($(( $(date +%s) - t0 ))s)"
	else
		result fail "$name" "see $logs/$log"
		tail -20 "$logs/$log" | sed 's/^/    /'
		return 1
	fi
}

# worst_results: one RESULT line per test, the worst of its reports
# (fail, then skip, then pass), in first-seen order
worst_results() {
	awk '{ name = $0; sub(/^RESULT [a-z]+ /, "", name); r = ($2 == "fail") ? 3 : ($2 == "skip") ? 2 : 1
	       if (!(name in rank)) order[++n] = name
	       if (r > rank[name]) { rank[name] = r; st[name] = $2 } }
	     END { for (i = 1; i <= n; i++) print "RESULT", st[order[i]], order[i] }'
}

cut_short=""	# guests that CHECK_DEADLINE cut short
finish() {
	echo "check: $(( $(date +%s) - t_start ))s"
	[ -z "$cut_short" ] ||
		echo "check: cut short by CHECK_DEADLINE=${CHECK_DEADLINE}s (CI's limit), in the guests:$cut_short"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}

step "install dependencies" deps.log scripts/install-deps.sh || finish
# Every guest boots on Debian's QEMU with userspace/qemu (SVM Bus Lock
# Threshold), built once (scripts/vm-run.sh)
step "build: QEMU with userspace/qemu" qemu.log scripts/build-qemu.sh || finish
export QEMU
QEMU=$(tail -1 "$logs/qemu.log")
step "QEMU: Bus Lock Threshold system test (userspace/qemu)" qemu-test.log scripts/test-qemu.sh
grep -E '^(ok|FAIL) ' "$logs/qemu-test.log" | sed 's/^/    /'

# runner_self_tests KERNEL: a failing command and a kernel warning must
# fail the runner. Two boots; their result is kept per machine for the
# same kernel (tree and config: a relink only changes the build number),
# runner and QEMU (CHECK_RUNNER=force runs them anyway). One vCPU each,
# as the untimed guests have (guest_start): they run beside the guests.
runner_self_tests() {
	local key stamp t1="vm-run: failing command fails the run" t2="vm-run: a kernel WARN fails the run"
	key=$(tree_key "$BDIR/linux" "$BDIR/obj-test/.config" scripts/vm-run.sh \
		scripts/guest-init.sh scripts/guest-finish.sh scripts/lib.sh <(echo "$QEMU"; "$QEMU" --version | head -1))
	stamp=$BUILD/results/runner-$key
	if [ -f "$stamp" ] && [ "${CHECK_RUNNER:-}" != force ]; then
		result pass "$t1 (result kept for this kernel and runner, ${stamp##*/})"
		result pass "$t2 (result kept for this kernel and runner, ${stamp##*/})"
		return
	fi
	local ok=0
	if VM_CPUS=1 $nice scripts/vm-run.sh "$1" false > "$logs/vm-false.log" 2>&1; then
		result fail "$t1"
	else
		result pass "$t1"
		ok=$((ok + 1))
	fi
	if VM_CPUS=1 $nice scripts/vm-run.sh "$1" 'echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
		> "$logs/vm-warn.log" 2>&1; then
		result fail "$t2"
	elif grep -q 'guest kernel log reports' "$logs/vm-warn.log"; then
		result pass "$t2"
		ok=$((ok + 1))
	else
		result fail "$t2" "see $logs/vm-warn.log"
	fi
	[ $ok = 2 ] && mkdir -p "${stamp%/*}" && date -u > "$stamp"
}

# guest_start KERNEL TREE: a boot of the debug kernel that runs in-guest
# suites of $BASE, in the background; guest_report reads the result. A
# TCG guest keeps about one host core busy, so the builds and checks
# beside it run at a lower priority (nice): the guest's timed tests
# measure the kernel, not the host's load. Two guests' timed suites do
# not run at once either: measured, the CPU-time tests of the upstream
# cgroup suite fail when guests share the host's cores. A guest starts
# when the one before it has finished its timed suites (it prints
# "=== guest-tests: timed suites done", tests/guest-tests.sh); what that
# one has left, if anything, goes on beside it at nice 10.
declare -A guest_pid
cr=$'\r'	# the serial console ends lines with CR LF
guest_last="" guest_last_log=""

# guest_limit: the seconds a guest starting now may run: 3600, or, when
# CHECK_DEADLINE is set, less if the run would otherwise go past that
# many seconds from its start. Only CI sets it (.ci/run: 5280, 88
# minutes, as CI stops a run at 90 and gets no report from it); a user's
# run waits for its guests, however slow the machine.
guest_limit() {
	[ -n "${CHECK_DEADLINE:-}" ] || { echo 3600; return; }
	local left=$((CHECK_DEADLINE - ($(date +%s) - t_start)))
	if [ $left -ge 3600 ]; then
		echo 3600
	else
		echo $((left > 60 ? left : 60))
	fi
}
# guest_start KERNEL TREE [NAME SUITES [untimed]]: NAME (default $BASE)
# names the logs and the result; SUITES (default all) the suites of the
# boot. A guest whose suites are all untimed ("untimed") starts at once,
# at nice 10, beside whatever runs, and the next guest does not wait
# for it. It has one vCPU: at nice 10 beside busier threads, a second
# vCPU likely mostly waits for the first (an IPI, a lock its holder was
# preempted with) while its thread keeps a core (not traced). With one busy
# thread at nice 0 beside it, the container runtimes suite took 174 s
# with one vCPU against 262 s with two (2026-12-05).
guest_start() {
	local name=${3:-$BASE} suites=${4:-} untimed=${5:-}
	local guest_log=$logs/$name-guest-tests.log after=$guest_last after_log=$guest_last_log env=""
	local cpus=2
	# the patched systemd only where a systemd suite runs: the stock
	# boots have no patched program
	[ -n "${systemd_build[$BASE]:-}" ] && [[ " ${suites:-systemd} " == *" systemd "* ]] &&
		env="SYSTEMD_BUILD=${systemd_build[$BASE]} "
	[ -n "$untimed" ] && after="" cpus=1
	(
		while [ -n "$after" ] && kill -0 "$after" 2>/dev/null &&
		      ! grep -aq '^=== guest-tests: timed suites done' "$after_log"; do
			sleep 2
		done
		[ -n "$after" ] && renice_tree 10 "$after"
		[ -n "$untimed" ] && renice -n 10 -p "$BASHPID" > /dev/null
		# In a cold run the 7.3 guest's last suites, reniced beside
		# the 6.12 guest and the per-patch builds, took far longer
		# than alone (the container runtimes 865 s against 138), and
		# 2400 s killed it in its last suite (2026-12-02): each
		# program gets 1800 s, the guest what guest_limit allows
		limit=$(guest_limit)
		[ "$limit" -lt 3600 ] &&
			echo "=== guest limit: ${limit}s, what is left of CHECK_DEADLINE=${CHECK_DEADLINE}s"
		VM_CPUS=$cpus VM_TIMEOUT=$limit VM_DMESG=$logs/$name-guest-dmesg.log scripts/vm-run.sh "$1" \
			"${env}GUEST_TEST_TIMEOUT=1800 bash $TOP/tests/guest-tests.sh $2 $suites"
	) > "$guest_log" 2>&1 &
	guest_pid[$name]=$!
	[ -n "$untimed" ] || guest_last=$! guest_last_log=$guest_log
	nice="nice -n 10"
	echo "guest: $name queued in the background (log: $guest_log)"
}

# renice_tree NICE PID: every thread of PID and of its descendants (QEMU's
# vCPU threads are threads: renice of a process ID changes one thread)
renice_tree() {
	local p t
	for p in $(pgrep -P "$2"); do
		renice_tree "$1" "$p"
	done
	for t in /proc/"$2"/task/*; do
		renice -n "$1" -p "${t##*/}" >/dev/null 2>&1
	done
}

# second_run NAME: pass, fail or skip, what NAME did when the guest ran
# it again after it failed (tests/guest-tests.sh); empty if it did not
second_run() {
	tr -d '\r' < "$guest_log" | grep -a "^AGAIN [a-z]* $1\( \|$\)" | cut -d' ' -f2
}

# guest_report: wait for $BASE's guest and count its results. Upstream
# suites (cgroup and KVM selftests) are held to the base: a test that
# passes on the unpatched kernel must pass here, the first time or when
# the guest runs it again after a failure; the others are skipped with
# the reason recorded in tests/upstream-$BASE.expected.
guest_report() {
	local gname=${1:-$BASE}
	local guest_log=$logs/$gname-guest-tests.log expected=tests/upstream-$BASE.expected
	local vm_rc boot _ status name want reason again expect
	[ -n "${guest_pid[$gname]:-}" ] || return 0
	wait "${guest_pid[$gname]}"
	vm_rc=$?
	boot=$(grep -o 'userspace up at [0-9.]*s' "$guest_log" | head -1)
	echo "guest $gname: ${boot:-no boot time}; $(grep -ao 'vm-run: [0-9.]* s wall' "$guest_log")"
	grep -a '^=== time' "$guest_log" | sed 's/^/    /'
	[ $vm_rc = 0 ] && result pass "guest run $gname: kernel log clean, runner ok" ||
		result fail "guest run $gname: kernel log clean, runner ok" "exit $vm_rc, see $guest_log"
	if grep -aq '^vm-run: FAIL: timed out' "$guest_log" &&
	   grep -aq '^=== guest limit:' "$guest_log"; then
		cut_short+=" $gname"
		result fail "guest $gname: cut short by CHECK_DEADLINE" \
			"$(grep -a '^=== guest limit:' "$guest_log" | head -1 | cut -c5-)"
	fi
	while read -r _ status name; do
		case $name in
		upstream:*|kvm:*)
			want=$(awk -v n="$name" '$2 == n {print $1}' "$expected")
			reason=$(awk -v n="$name" '$2 == n {$1 = $2 = ""; print substr($0, 3)}' "$expected")
			if [ "$status" = pass ]; then
				result pass "$name"
			elif [ "$want" = pass ]; then
				again=$(second_run "$name")
				if [ "$again" = pass ]; then
					result pass "$name" "failed, passed when run again"
				else
					result fail "$name" "passes on the base kernel${again:+; second run: $again}"
				fi
			elif [ -z "$want" ]; then
				result fail "$name" "$status, and not recorded on the base: BASE=$BASE scripts/record-base.sh"
			else
				result skip "$name" "$reason"
			fi ;;
		*) result "$status" "$name" ;;
		esac
	done < <(grep -a '^RESULT ' "$guest_log" | tr -d '\r' | sed 's/ (.*//' | worst_results)
	# every suite of the boot reports, if only that it failed to start:
	# the guest lists what its suites report under ("EXPECT NAME",
	# tests/guest-tests.sh) before the first one runs (grep reads the
	# log itself: grep -q at the end of a pipe ends the pipe early, and
	# pipefail then takes a match for a failure)
	expect=$(tr -d '\r' < "$guest_log" | sed -n 's/^EXPECT //p' | sort -u)
	[ -n "$expect" ] || result fail "$gname: its suites" "never listed, see $guest_log"
	for name in $expect; do
		grep -aqE "^RESULT [a-z]+ $name(:| |$cr|\$)" "$guest_log" ||
			result fail "$gname: $name" "reported nothing, see $guest_log"
	done
	[ "$gname" = "$BASE" ] || return 0
	for name in $(awk '$1 == "pass" {print $2}' "$expected"); do
		grep -aq "^RESULT [a-z]* $name\b" "$guest_log" ||
			result fail "$name" "did not run"
	done
}

# use_base BASE: the variables of lib.sh for BASE, and its tag on results
use_base() {
	BASE=$1
	. "$TOP/scripts/lib.sh"
	export BASE
	tag="[$BASE] "
}

# build_base BASE: the test kernel and the programs its guest runs (on
# mainline also Debian's systemd with userspace/systemd, PID 1 of the
# 7.3-systemd boot). Both bases are built before the first guest
# starts, one after the other, with both cores: built beside a guest at
# nice 10, the 6.12 test kernel took 1991 s of a cold run, and the
# builds that must run beside the guests are more than the guests leave
# room for. Built at once, the two debug kernels compiled 1.25 objects a
# second together against 1.61 for either alone (a cold run, 2026-12-05:
# two compilers' working sets on two cores cost more than the one-core
# steps of a build alone leave idle).
declare -A built systemd_build
build_base() {
	use_base "$1"
	step "build: test kernel" "$BASE-kernel.log" make -s kernel || return
	step "build: cgroup selftests" "$BASE-selftests.log" make -s selftests || return
	step "build: KVM selftests" "$BASE-kvm-selftests.log" scripts/build-kvm-selftests.sh "$BDIR/linux" || return
	if [ "$BASE" = 7.3 ] &&
	   step "build: systemd with userspace/systemd" systemd.log scripts/build-systemd.sh; then
		systemd_build[$BASE]=$(tail -1 "$logs/systemd.log")
	fi
	built[$BASE]=1
}

# test_kernel: the image of $BASE's test kernel
test_kernel() {
	echo "$BDIR/obj-test/arch/x86/boot/bzImage"
}

# start_base BASE: the guest of a built base, in the background, with
# its timed suites. Mainline's untimed suites (the container runtimes,
# systemd as PID 1) have boots of their own (stock_start, systemd_start)
# that run beside the timed suites instead of after them.
start_base() {
	use_base "$1"
	[ -n "${built[$BASE]:-}" ] || return 0
	if [ "$BASE" = 7.3 ]; then
		guest_start "$(test_kernel)" "$BDIR/linux" "$BASE" \
			"kunit rate kvmstall bats upstream kvm"
	else
		guest_start "$(test_kernel)" "$BDIR/linux"
	fi
}

# stock_start: a boot of mainline's test kernel with stock userspace
# from Debian, no patched program in it: the container runtimes
# (tests/runtimes.bats), then Debian's own systemd as PID 1
# (tests/systemd-stock.bats; PID 1 is handed over once a boot). Its
# suites are untimed, so it starts at once, at nice 10 beside the
# mainline guest's timed suites: measured, the guests' chain of timed
# suites, then this boot after it, took 34 minutes of a warm run. Split
# into a boot per suite, three one-vCPU boots at nice 10 beside a cold
# run's builds starved each other: the runtimes took 1671 s, a podman
# command ran past its bound, and CI's deadline cut the stock
# systemd boot (2026-12-06), so the two suites share this boot again.
stock_start() {
	use_base 7.3
	[ -n "${built[$BASE]:-}" ] || return 0
	guest_start "$(test_kernel)" "$BDIR/linux" 7.3-stock "runtimes systemd_stock" untimed
}

# systemd_start: a boot of mainline's test kernel that hands PID 1 to
# Debian's systemd with userspace/systemd (tests/systemd.bats). Until
# 2026-12-05 it was the mainline guest's last suite, with two vCPUs at
# nice 10 beside the 6.12 guest, and warm runs ended on it; as a boot of
# its own it is untimed from the start, like the stock boots.
systemd_start() {
	use_base 7.3
	[ -n "${built[$BASE]:-}" ] || return 0
	guest_start "$(test_kernel)" "$BDIR/linux" 7.3-systemd systemd untimed
}

# mainline_checks: what mainline carries beside its guest, the runner's
# self-tests, the configuration matrix, the W=1/sparse build, and the
# systemd patches as proposed upstream with systemd's own unit tests
mainline_checks() {
	use_base 7.3
	[ -n "${built[$BASE]:-}" ] || return 0
	runner_self_tests "$(test_kernel)"
	step "build: KVM hooks configuration matrix" "$BASE-matrix.log" scripts/build-matrix.sh "$BDIR/linux"
	grep '^matrix:' "$logs/$BASE-matrix.log" | sed 's/^/    /'
	step "build: new files W=1 and sparse clean" "$BASE-warnings.log" scripts/check-warnings.sh
	step "systemd 257 with userspace/systemd-upstream: build, its unit tests" \
		systemd-upstream.log scripts/build-systemd-upstream.sh
	grep -aE '^(Ok|Fail|Skipped): |passed with /run' "$logs/systemd-upstream.log" | sed 's/^/    /'
}

# series_base BASE: the series of BASE, checked and built after every
# patch. After the guests' beside checks, not beside the guests: in a
# cold run (2026-12-05) with both series in the background from the
# guests' start, the stock boot, at the same nice 10, took 1607 s for
# its runtimes suite against 802 s and the matrix 1949 s against 1584;
# the guests' phase, stopped unfinished at 3000 s, had then already run
# about as long as the guests and both series alone after them take
# with the series' cheaper builds (about 3020 s, an estimate).
series_base() {
	use_base "$1"
	SERIES_BUILD=${CHECK_SERIES_BUILD:-1} step "series: git am, checkpatch --strict, per-patch build" \
		"$BASE-series.log" scripts/make-series.sh "$BDIR/series"
	grep -E '^(checkpatch|series):' "$logs/$BASE-series.log" | sed 's/^/    /'
}

# model_tests: the core in userspace, property tests, a bounded fuzz run,
# and make bench, built against each base's lib/ratelimit.c, so that the
# benchmark README offers cannot break unseen
model_tests() {
	step "model: property tests (tools/rate-model)" model-prop.log make -s -C tools/rate-model prop
	grep '^prop:' "$logs/model-prop.log" | sed 's/^/    /'
	step "model: libFuzzer, 60 s" model-fuzz.log make -s -C tools/rate-model fuzz-short FUZZ_SECONDS=60
	grep -E '^Done|^stat::number_of_executed' "$logs/model-fuzz.log" | sed 's/^/    /'
	# README's make bench runs on the first base checked (7.3 unless
	# CHECK_BASES says otherwise). On the others the bench is only
	# built: it compiles the repo's rate.c whatever the base, and its
	# figures differ only in the base's ___ratelimit printed beside them
	# (running it took 98 s beside the guests).
	local b first=${bases%% *}
	step "model: make bench BASE=$first" model-bench.log make -s bench BASE="$first"
	grep -A3 '^instructions per charge' "$logs/model-bench.log" | sed 's/^/    /'
	# (a command, not a function: step runs it under nice)
	for b in ${bases#"$first"}; do
		step "model: make bench BASE=$b builds (not run)" "model-bench-$b.log" \
			bash -c 'BASE=$1 scripts/prepare-tree.sh base &&
				 make -s -C tools/rate-model bench-build BASE="$1"' _ "$b"
	done
}

bases=${CHECK_BASES:-7.3 6.12}
for b in $bases; do
	build_base "$b"
done
for b in $bases; do
	start_base "$b"
done
case " $bases " in
*" 7.3 "*) stock_start; systemd_start ;;
esac
case " $bases " in
*" 7.3 "*) mainline_checks ;;
esac
tag=""
model_tests
for b in $bases; do
	series_base "$b"
done
for b in $bases; do
	use_base "$b"
	guest_report
done
case " $bases " in
*" 7.3 "*) use_base 7.3; guest_report 7.3-stock; guest_report 7.3-systemd ;;
esac
tag=""

finish
