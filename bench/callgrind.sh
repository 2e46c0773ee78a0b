#!/usr/bin/env bash
# bench/callgrind.sh LFBENCH N K OUT.md
#
# Instructions per operation, lfmap next to cds_lfht, counted by
# valgrind --tool=callgrind: total instructions (all threads) of a run that
# prefills N keys and then does K operations, minus the same run with 0
# operations, divided by K.  The map seed and key streams are fixed, so the
# two runs differ only by the K operations.
#   lookup: keys uniform in [1, 2N] (about half hit)
#   insert: K keys never present (every insert succeeds: allocation and the
#           grows it triggers included, amortized)
#   delete: keys 1..K (about half present); the deferred frees run in
#           liburcu's call_rcu thread and are counted (all threads)
set -euo pipefail
bin=$1 n=$2 k=$3 out=$4
maps="lfmap cds_lfht"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

total() { # map op k -> instruction count
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
		"$bin" icount "$1" "$2" "$n" "$3" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log" >&2; exit 1; }
	awk '/^(summary|totals):/ { print $2; exit }' "$tmp/cg.out"
}

declare -A ipo
for m in $maps; do
	base=$(total "$m" lookup 0)
	for op in lookup insert delete; do
		t=$(total "$m" "$op" "$k")
		ipo[$m.$op]=$(awk -v a="$t" -v b="$base" -v k="$k" \
			'BEGIN { printf "%.0f", (a - b) / k }')
		echo "callgrind: $m $op: $(( t - base )) instructions / $k ops = ${ipo[$m.$op]}" >&2
	done
done

{
	echo "## Instructions per operation (callgrind)"
	echo
	echo "valgrind --tool=callgrind, all threads; (run with K ops - run with 0 ops) / K;"
	echo "N = $n prefilled keys, K = $k; lookups uniform over [1, 2N] (about half hit),"
	echo "inserts of new keys (all succeed), deletes of keys 1..K (about half present; the deferred"
	echo "frees in liburcu's call_rcu thread are counted). The maps are not destroyed, so freeing the"
	echo "remaining entries is not counted. Measured $(date -u '+%Y-%m-%d %H:%M UTC'),"
	echo "lfmap built from the working tree at that time."
	echo
	echo "| op | lfmap | cds_lfht | lfmap / cds_lfht (lower is better for lfmap) |"
	echo "|---|---|---|---|"
	for op in lookup insert delete; do
		a=${ipo[lfmap.$op]} b=${ipo[cds_lfht.$op]}
		echo "| $op | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }') |"
	done
} >"$out"
cat "$out"
