#!/usr/bin/env bats
# tools/rate-top, the operator's live view, on a subtree that a greedy
# cgroup drives into its limit. Runs inside the test guest
# (tests/guest-tests.sh sets RATE_CHARGE).

CG=/sys/fs/cgroup
RT=$CG/bats_rt

rate_top() { python3 "$BATS_TEST_DIRNAME/../tools/rate-top" "$@"; }

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
	# the weights split /bats_rt's 10/s: 100:300
	echo "$output" | grep -E '^ +/bats_rt/greedy +max +100 +2\.5 '
	echo "$output" | grep -E '^ +/bats_rt/polite +max +300 +7\.5 '
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
