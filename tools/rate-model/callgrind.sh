#!/usr/bin/env bash
# Instructions per charge, counted by callgrind inside the controller's
# entry point only (snp_charge() or buslock_charge() in bench.c, as in
# snp.c and buslock.c: the static key test, the walk, the clock read and
# the counts), for each kind of charge at depths 1 to 8, and for the base
# tree's ___ratelimit.
#
#   callgrind.sh BENCH
set -euo pipefail
bench=$1
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ir FUNCTION KIND DEPTH: instructions per call of FUNCTION in "bench one"
ir() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
		--toggle-collect="$1" "$bench" one "$2" "$3" $n >/dev/null 2>&1
	awk -v n="$n" '/^summary:/ {printf "%.0f", $2 / n}' "$tmp/out"
}

echo
echo "instructions per charge (callgrind, $n charges each):"
printf '%6s %16s %16s %16s %16s %16s\n' depth "no limit" limited \
	"share, admitted" "share, refused" stall
for d in 1 2 3 4 5 6 7 8; do
	printf '%6d %16s %16s %16s %16s %16s\n' "$d" \
		"$(ir snp_charge 'no limit' "$d")" \
		"$(ir snp_charge limited "$d")" \
		"$(ir snp_charge 'share, admitted' "$d")" \
		"$(ir snp_charge 'share, refused' "$d")" \
		"$(ir buslock_charge stall "$d")"
done
printf '%s %s\n' "___ratelimit (base lib/ratelimit.c):" "$(ir ___ratelimit ratelimit 1)"
