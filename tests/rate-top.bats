#!/usr/bin/env bats
# tools/rate-top, the operator's live view, on a subtree that a greedy
# cgroup drives into its limit. Runs inside the test guest
# (tests/guest-tests.sh sets RATE_CHARGE).

CG=/sys/fs/cgroup
RT=$CG/bats_rt

rate_top() { python3 "$BATS_TEST_DIRNAME/../tools/rate-top" "$@"; }

# libvirt's scope for domain vm-1 (systemd escapes its dashes)
VM_SCOPE='machine-qemu\x2d1\x2dvm\x2d1.scope'

# promtool: Debian's, from scripts/install-deps.sh (PROMTOOL, set by
# tests/guest-tests.sh)
# prom_value FILE FAMILY CGROUP: the value of FAMILY's sample for CGROUP
prom_value() {
	awk -v want="$2{cgroup=\"$3\"," 'index($0, want) == 1 { print $NF }' "$1"
}

promtool_or_skip() {
	[ -x "${PROMTOOL:-}" ] || skip "no promtool at ${PROMTOOL:-(unset)}"
}

setup_file() {
	echo "+snp +buslock" > $CG/cgroup.subtree_control
	mkdir -p $RT/greedy $RT/polite
	echo "+snp +buslock" > $RT/cgroup.subtree_control
	echo "10 10" > $RT/snp.req_rate
	echo "100 10" > $RT/buslock.rate
	echo 300 > $RT/polite/snp.weight
}

teardown_file() {
	echo 1 > $RT/cgroup.kill
	while grep -q 'populated 1' $RT/cgroup.events; do sleep 0.1; done
	rmdir "$RT/$VM_SCOPE" 2>/dev/null || true
	rmdir $RT/greedy $RT/polite $RT
}

# greedy_start: a task of $RT/greedy asking for 40 guest requests and 60
# bus locks at a time, as fast as it can (one round takes about a second
# in the emulated guest: four times the snp limit; the bus locks over the
# limit stall it), until greedy_stop. It runs for as long as rate-top
# samples: a fixed run of 5 s was over before rate-top's first sample
# when python3 took seconds to start in a guest beside a cold build.
greedy_start() {
	touch "$BATS_TEST_TMPDIR/greedy"
	sh -c 'echo $$ > "$1/cgroup.procs"
	       while [ -e "$2" ]; do
	               "$3" snp 40 >/dev/null; "$3" buslock 60 >/dev/null
	       done' sh $RT/greedy "$BATS_TEST_TMPDIR/greedy" "$RATE_CHARGE" &
}

greedy_stop() {
	rm -f "$BATS_TEST_TMPDIR/greedy"
	wait
}

@test "rate-top shows each cgroup's limit, weight and share" {
	run rate_top -n 1 -i 0.2 $RT
	[ "$status" -eq 0 ]
	echo "$output"
	echo "$output" | grep -E '^ +/bats_rt +10 10 +100 +10\.0 '
	# the weights split /bats_rt's 10/s: 100:300, less the 1/64 that
	# /bats_rt keeps (2.46 and 7.38)
	echo "$output" | grep -E '^ +/bats_rt/greedy +max +100 +2\.5 '
	echo "$output" | grep -E '^ +/bats_rt/polite +max +300 +7\.4 '
}

@test "rate-top measures admitted and refused per second within the limit" {
	greedy_start
	run rate_top -n 4 -i 1 -r "$BATS_TEST_TMPDIR/run.csv" $RT
	greedy_stop
	[ "$status" -eq 0 ]
	echo "$output"
	# every sample: the subtree passed at most RATE + BURST in its second
	# (a sample is about one second, the bucket starts full)
	awk -F, '$2 == "/bats_rt" && $3 == "snp" && $12 > 21 { bad = 1; print }
		 END { exit bad }' "$BATS_TEST_TMPDIR/run.csv"
	# the greedy cgroup was refused in some sample, and stalled
	awk -F, '$2 == "/bats_rt/greedy" && $3 == "snp" && $13 > 0 { n++ }
		 END { exit !n }' "$BATS_TEST_TMPDIR/run.csv"
	awk -F, '$2 == "/bats_rt/greedy" && $3 == "buslock" && $14 > 0 { n++ }
		 END { exit !n }' "$BATS_TEST_TMPDIR/run.csv"
}

@test "rate-top --plot draws a recorded run to a PNG" {
	greedy_start
	rate_top -n 2 -i 1 -r "$BATS_TEST_TMPDIR/run.csv" $RT > /dev/null
	greedy_stop
	run rate_top --plot "$BATS_TEST_TMPDIR/run.png" "$BATS_TEST_TMPDIR/run.csv"
	[ "$status" -eq 0 ]
	[ "$(head -c 8 "$BATS_TEST_TMPDIR/run.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
}

@test "rate-top refuses a path that is not a cgroup" {
	run rate_top -n 1 /nonexistent
	[ "$status" -ne 0 ]
	[[ "$output" == *"/nonexistent: not a cgroup directory"* ]]
	run rate_top -i 0 $RT
	[ "$status" -ne 0 ]
	[[ "$output" == *"--interval must be positive"* ]]
}

@test "a watched cgroup's share counts its siblings outside the view" {
	# polite's 300 of the 400 weight under /bats_rt, watched on its own
	run rate_top -n 1 -i 0.2 $RT/polite
	[ "$status" -eq 0 ]
	echo "$output"
	echo "$output" | grep -E '^ +/bats_rt/polite +max +300 +7\.4 '
}

@test "rate-top names the libvirt domain, and a deep path whole" {
	mkdir "$RT/$VM_SCOPE"
	run rate_top -n 1 -i 0.2 $RT
	rmdir "$RT/$VM_SCOPE"
	[ "$status" -eq 0 ]
	echo "$output"
	echo "$output" | grep -F "/bats_rt/$VM_SCOPE " | grep -q ' domain vm-1$'
}

@test "rate-top --prometheus passes promtool check metrics, with the figures" {
	promtool_or_skip
	"$PROMTOOL" --version | head -1
	greedy_start
	sleep 2
	greedy_stop
	mkdir "$RT/$VM_SCOPE"
	run rate_top --prometheus $RT
	rmdir "$RT/$VM_SCOPE"
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/m.prom"
	"$PROMTOOL" check metrics < "$BATS_TEST_TMPDIR/m.prom"
	local top='{cgroup="/bats_rt",unit="",pod="",domain=""}'
	local greedy='{cgroup="/bats_rt/greedy",unit="",pod="",domain=""}'
	grep -qxF "cgroup_snp_rate_limit$top 10" "$BATS_TEST_TMPDIR/m.prom"
	grep -qxF "cgroup_snp_burst_limit$top 10" "$BATS_TEST_TMPDIR/m.prom"
	grep -qxF "cgroup_buslock_rate_limit$greedy +Inf" "$BATS_TEST_TMPDIR/m.prom"
	grep -qxF "cgroup_snp_weight$greedy 100" "$BATS_TEST_TMPDIR/m.prom"
	grep -qE '^cgroup_snp_share_rate\{cgroup="/bats_rt/polite",[^}]*\} 5\.907' "$BATS_TEST_TMPDIR/m.prom"
	# the counters are snp.stat's and buslock.stat's
	grep -qxF "cgroup_snp_requests_total$greedy $(awk '$1 == "requests" {print $2}' $RT/greedy/snp.stat)" \
		"$BATS_TEST_TMPDIR/m.prom"
	local m=$BATS_TEST_TMPDIR/m.prom
	[ "$(prom_value "$m" cgroup_snp_throttled_total /bats_rt/greedy)" -gt 0 ]
	awk -v s="$(prom_value "$m" cgroup_buslock_stall_seconds_total /bats_rt/greedy)" \
		'BEGIN { exit !(s > 0) }'
	# a systemd-escaped path, escaped again as a label value
	grep -qF 'cgroup="/bats_rt/machine-qemu\\x2d1\\x2dvm\\x2d1.scope",unit="",pod="",domain="vm-1"' \
		"$BATS_TEST_TMPDIR/m.prom"
}

@test "rate-top --prometheus -o replaces the file whole" {
	echo stale > "$BATS_TEST_TMPDIR/snp.prom"
	rate_top --prometheus -o "$BATS_TEST_TMPDIR/snp.prom" $RT
	grep -q '^# TYPE cgroup_snp_requests_total counter$' "$BATS_TEST_TMPDIR/snp.prom"
	! grep -q stale "$BATS_TEST_TMPDIR/snp.prom"
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c '\.tmp$')" = 0 ]
	run rate_top -o "$BATS_TEST_TMPDIR/x.prom" $RT
	[ "$status" -ne 0 ]
	[[ "$output" == *"--output goes with --prometheus or --openmetrics"* ]]
}

@test "rate-top --openmetrics parses with the OpenMetrics parser of prometheus_client" {
	run rate_top --openmetrics $RT
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/m.om"
	# Debian's python3-prometheus-client: a strict parser (it refuses a
	# missing "# EOF", a counter family named with "_total", a unit
	# that is not its name's suffix)
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/m.om" <<'PY'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["cgroup_snp_requests"].type == "counter"
assert fams["cgroup_buslock_stall_seconds"].unit == "seconds"
limit = {s.labels["cgroup"]: s.value for s in fams["cgroup_snp_rate_limit"].samples}
assert limit["/bats_rt"] == 10, limit
print(len(fams), "families")
PY
}

@test "the example alert rules pass promtool check rules" {
	promtool_or_skip
	"$PROMTOOL" check rules "$BATS_TEST_DIRNAME/../tools/prometheus/snp-buslock.rules.yml"
}
