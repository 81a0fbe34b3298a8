#!/usr/bin/env bash
# Instructions per charge, counted by callgrind inside the charge function
# only (inclusive of what it calls, the clock read included), for
# depth 1..8 with nothing limited and with every level limited, and for
# the base tree's ___ratelimit.
#
#   callgrind.sh BENCH
set -euo pipefail
bench=$1
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ir FUNCTION ARGS...: instructions per call of FUNCTION in "bench one ARGS"
ir() {
	local fn=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
		--toggle-collect="$fn" "$bench" one "$@" >/dev/null 2>&1
	awk -v n="$n" '/^summary:/ {printf "%.0f", $2 / n}' "$tmp/out"
}

echo
echo "instructions per charge (callgrind, $n charges each):"
printf '%6s %14s %14s %14s %16s\n' depth "snp, no limit" "snp, limited" \
	"snp, refused" "buslock, limited"
for d in 1 2 3 4 5 6 7 8; do
	printf '%6d %14s %14s %14s %16s\n' "$d" \
		"$(ir rate_cg_try_charge snp "$d" 0 $n)" \
		"$(ir rate_cg_try_charge snp "$d" 1 $n)" \
		"$(ir rate_cg_try_charge snp "$d" 2 $n)" \
		"$(ir rate_cg_charge_debt buslock "$d" 1 $n)"
done
printf '%s %s\n' "___ratelimit (base lib/ratelimit.c):" "$(ir ___ratelimit ratelimit 1 0 $n)"
