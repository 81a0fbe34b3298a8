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

result() {	# result pass|fail|skip NAME [REASON]
	case $1 in
	pass) pass=$((pass + 1)); echo "PASS  $tag$2" ;;
	fail) fail=$((fail + 1)); echo "FAIL  $tag$2${3:+ ($3)}" ;;
	skip) skip=$((skip + 1)); echo "SKIP  $tag$2${3:+ ($3)}" ;;
	esac
}

step() {	# step NAME LOG COMMAND...: one result from a command's status
	local name=$1 log=$2 t0=$(date +%s)
	shift 2
	if "$@" > "$logs/$log" 2>&1; then
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

finish() {
	echo "check: $(( $(date +%s) - t_start ))s"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}

step "install dependencies" deps.log scripts/install-deps.sh || finish

# The core in userspace: property tests and a bounded fuzz run.
step "model: property tests (tools/rate-model)" model-prop.log make -s -C tools/rate-model prop
grep '^prop:' "$logs/model-prop.log" | sed 's/^/    /'
step "model: libFuzzer, 60 s" model-fuzz.log make -s -C tools/rate-model fuzz-short FUZZ_SECONDS=60
grep -E '^Done|^stat::number_of_executed' "$logs/model-fuzz.log" | sed 's/^/    /'

# runner_self_tests KERNEL: a failing command and a kernel warning must
# fail the runner
runner_self_tests() {
	if scripts/vm-run.sh "$1" false > "$logs/vm-false.log" 2>&1; then
		result fail "vm-run: failing command fails the run"
	else
		result pass "vm-run: failing command fails the run"
	fi
	if scripts/vm-run.sh "$1" 'echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
		> "$logs/vm-warn.log" 2>&1; then
		result fail "vm-run: a kernel WARN fails the run"
	else
		grep -q 'guest kernel log reports' "$logs/vm-warn.log" &&
			result pass "vm-run: a kernel WARN fails the run" ||
			result fail "vm-run: a kernel WARN fails the run" "see $logs/vm-warn.log"
	fi
}

# guest_suites KERNEL TREE: every in-guest suite in one boot of the debug
# kernel. Upstream suites (cgroup and KVM selftests) are held to the base:
# a test that passes on the unpatched kernel must pass here; the others
# are skipped with the reason recorded in tests/upstream-$BASE.expected.
guest_suites() {
	local guest_log=$logs/$BASE-guest-tests.log expected=tests/upstream-$BASE.expected
	local vm_rc boot _ status name want reason
	VM_DMESG=$logs/$BASE-guest-dmesg.log scripts/vm-run.sh "$1" \
		"bash $TOP/tests/guest-tests.sh $2" > "$guest_log" 2>&1
	vm_rc=$?
	boot=$(grep -o 'userspace up at [0-9.]*s' "$guest_log" | head -1)
	echo "guest: ${boot:-no boot time}"
	[ $vm_rc = 0 ] && result pass "guest run: kernel log clean, runner ok" ||
		result fail "guest run: kernel log clean, runner ok" "exit $vm_rc, see $logs/$BASE-guest-tests.log"
	while read -r _ status name; do
		case $name in
		upstream:*|kvm:*)
			want=$(awk -v n="$name" '$2 == n {print $1}' "$expected")
			reason=$(awk -v n="$name" '$2 == n {$1 = $2 = ""; print substr($0, 3)}' "$expected")
			if [ "$status" = pass ]; then
				result pass "$name"
			elif [ "$want" = pass ]; then
				result fail "$name" "passes on the base kernel"
			elif [ -z "$want" ]; then
				result fail "$name" "$status, and not recorded on the base: BASE=$BASE scripts/record-base.sh"
			else
				result skip "$name" "$reason"
			fi ;;
		*) result "$status" "$name" ;;
		esac
	done < <(grep -a '^RESULT ' "$guest_log" | tr -d '\r' | sed 's/ (.*//' | worst_results)
	for name in $(awk '$1 == "pass" {print $2}' "$expected"); do
		grep -aq "^RESULT [a-z]* $name\b" "$guest_log" ||
			result fail "$name" "did not run"
	done
}

# check_base BASE
check_base() {
	BASE=$1
	. "$TOP/scripts/lib.sh"
	export BASE
	tag="[$BASE] "
	local kernel=$BDIR/obj-test/arch/x86/boot/bzImage
	if ! step "build: test kernel" "$BASE-kernel.log" make -s kernel; then
		return
	fi
	step "build: cgroup selftests" "$BASE-selftests.log" make -s selftests || return
	step "build: KVM selftests" "$BASE-kvm-selftests.log" scripts/build-kvm-selftests.sh "$BDIR/linux" || return
	if [ "$BASE" = 7.3 ]; then
		step "build: KVM hooks configuration matrix" "$BASE-matrix.log" scripts/build-matrix.sh "$BDIR/linux"
		grep '^matrix:' "$logs/$BASE-matrix.log" | sed 's/^/    /'
		step "build: new files W=1 and sparse clean" "$BASE-warnings.log" scripts/check-warnings.sh
		runner_self_tests "$kernel"
	fi
	guest_suites "$kernel" "$BDIR/linux"
	SERIES_BUILD=${CHECK_SERIES_BUILD:-1} step "series: git am, checkpatch --strict, per-patch build" \
		"$BASE-series.log" scripts/make-series.sh "$BDIR/series"
	grep -E '^(checkpatch|series):' "$logs/$BASE-series.log" | sed 's/^/    /'
	local t=$(date +%s)
	echo "$tag: $((t - t_base))s"
	t_base=$t
	tag=""
}

t_base=$(date +%s)
for b in ${CHECK_BASES:-7.3 6.12}; do
	check_base "$b"
done

finish
