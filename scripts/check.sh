#!/usr/bin/env bash
# make check: build, boot and test everything; the last line is
# "N passed, N failed, N skipped". Logs go to build/logs/.
#
# CHECK_SERIES_BUILD=0 skips the per-patch builds of the series.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP"

logs=$BUILD/logs
mkdir -p "$logs"
pass=0 fail=0 skip=0
t_start=$(date +%s)

result() {	# result pass|fail|skip NAME [REASON]
	case $1 in
	pass) pass=$((pass + 1)); echo "PASS  $2" ;;
	fail) fail=$((fail + 1)); echo "FAIL  $2${3:+ ($3)}" ;;
	skip) skip=$((skip + 1)); echo "SKIP  $2${3:+ ($3)}" ;;
	esac
}

step() {	# step NAME LOG COMMAND...: one result from a command's status
	local name=$1 log=$2 t0=$(date +%s)
	shift 2
	if "$@" > "$logs/$log" 2>&1; then
		result pass "$name ($(( $(date +%s) - t0 ))s)"
	else
		result fail "$name" "see build/logs/$log"
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
step "build: test kernel" kernel.log make -s kernel || finish
step "build: cgroup selftests" selftests.log make -s selftests || finish
step "build: KVM selftests" kvm-selftests.log scripts/build-kvm-selftests.sh "$BUILD/linux" || finish
step "build: KVM hooks configuration matrix" matrix.log scripts/build-matrix.sh "$BUILD/linux"
grep '^matrix:' "$logs/matrix.log" | sed 's/^/    /'
step "build: new files W=1 and sparse clean" warnings.log scripts/check-warnings.sh
kernel=$BUILD/obj-test/arch/x86/boot/bzImage

# The core in userspace: property tests and a bounded fuzz run.
step "model: property tests (tools/rate-model)" model-prop.log make -s -C tools/rate-model prop
grep '^prop:' "$logs/model-prop.log" | sed 's/^/    /'
step "model: libFuzzer, 60 s" model-fuzz.log make -s -C tools/rate-model fuzz-short FUZZ_SECONDS=60
grep -E '^Done|^stat::number_of_executed' "$logs/model-fuzz.log" | sed 's/^/    /'

# The runner itself: a failing command and a kernel warning must fail it.
if scripts/vm-run.sh "$kernel" false > "$logs/vm-false.log" 2>&1; then
	result fail "vm-run: failing command fails the run"
else
	result pass "vm-run: failing command fails the run"
fi
if scripts/vm-run.sh "$kernel" 'echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
	> "$logs/vm-warn.log" 2>&1; then
	result fail "vm-run: a kernel WARN fails the run"
else
	grep -q 'guest kernel log reports' "$logs/vm-warn.log" &&
		result pass "vm-run: a kernel WARN fails the run" ||
		result fail "vm-run: a kernel WARN fails the run" "see build/logs/vm-warn.log"
fi

# Every in-guest suite in one boot of the debug kernel.
guest_log=$logs/guest-tests.log
VM_DMESG=$logs/guest-dmesg.log scripts/vm-run.sh "$kernel" \
	"bash $TOP/tests/guest-tests.sh $BUILD/linux" > "$guest_log" 2>&1
vm_rc=$?
boot=$(grep -o 'userspace up at [0-9.]*s' "$guest_log" | head -1)
echo "guest: ${boot:-no boot time}"
[ $vm_rc = 0 ] && result pass "guest run: kernel log clean, runner ok" ||
	result fail "guest run: kernel log clean, runner ok" "exit $vm_rc, see build/logs/guest-tests.log"

# Upstream suites (cgroup and KVM selftests) are held to the base: a test
# that passes on the unpatched kernel must pass here; the others are
# skipped with the reason recorded in tests/upstream.expected.
expected=tests/upstream.expected
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
			result fail "$name" "$status, and not recorded on the base: scripts/record-base.sh"
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

# The series: git am, checkpatch, and a build after every patch.
SERIES_BUILD=${CHECK_SERIES_BUILD:-1} step "series: git am, checkpatch --strict, per-patch build" \
	series.log scripts/make-series.sh "$BUILD/series"
grep -E '^(checkpatch|series):' "$logs/series.log" | sed 's/^/    /'

finish
