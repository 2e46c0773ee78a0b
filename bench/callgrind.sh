#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/callgrind.sh LFBENCH OUT.md [NS] [K] [MAPS]
#
# Per-operation instructions and cache misses of lfmap and every peer,
# counted by valgrind --tool=callgrind with a simulated cache
# (I1/D1 32 KiB 8-way, LL 1 MiB 16-way, 64-byte lines: this guest's L2,
# beyond which every line costs a DRAM-like miss).  `lfbench callgrind MAP
# N K` (bench/cell.c) prefills N keys and warms every bucket without
# instrumentation (--instr-atstart=no), then runs K operations per phase,
# each phase between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT:
# null (the loop with a no-op call), hit, miss, delete (+ the map's reclaim
# barrier), insert.  Per op = (phase - null) / K, all threads (callgrind
# sums every thread into each dump, so liburcu's call_rcu threads count).
#   NS    key counts, default "100000 1000000"
#   K     operations per phase, default 20000
#   MAPS  default: every map lfbench knows
# Writes OUT.md (markdown) and OUT.md's directory/callgrind.dat (raw).
set -euo pipefail
bin=$1 out=$2
ns=${3:-100000 1000000}
k=${4:-20000}
maps=${5:-lfmap cds_lfht ck_ht tbb_chm libcuckoo rwlock striped64 oa_1thread}
dat=$(dirname "$out")/callgrind.dat
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)

# phases MAP N -> lines "phase Ir D1 LL" (D1 = D1mr + D1mw, LL = DLmr + DLmw)
phases() {
	rm -f "$tmp"/cg.out*
	nice -n 5 valgrind --tool=callgrind --cache-sim=yes \
		--I1=32768,8,64 --D1=32768,8,64 --LL=1048576,16,64 \
		--instr-atstart=no --callgrind-out-file="$tmp/cg.out" \
		"$bin" callgrind "$1" "$2" "$k" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log" >&2; exit 1; }
	awk '/^desc: Trigger: Client Request: / { ph = $NF }
	     /^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
	     /^summary:/ && ph != "" {
		print ph, $col["Ir"], $col["D1mr"] + $col["D1mw"],
		      $col["DLmr"] + $col["DLmw"]; ph = "" }' "$tmp"/cg.out.*
}

echo "# map N K op Ir_per_op D1_misses_per_op LL_misses_per_op" >"$dat"
for n in $ns; do
	for m in $maps; do
		phases "$m" "$n" >"$tmp/ph"
		awk -v m="$m" -v n="$n" -v k="$k" '
			{ ir[$1] = $2; d1[$1] = $3; ll[$1] = $4 }
			END { if (!("null" in ir)) exit 1
			      for (p in ir) if (p != "null")
				printf "%s %s %s %s %.1f %.3f %.3f\n", m, n, k, p,
				  (ir[p] - ir["null"]) / k, (d1[p] - d1["null"]) / k,
				  (ll[p] - ll["null"]) / k }' "$tmp/ph" >>"$dat" ||
			{ echo "callgrind.sh: no phases for $m N=$n" >&2; exit 1; }
		echo "callgrind: $m N=$n done ($(( $(date +%s) - t0 )) s)" >&2
	done
done

{
	echo "## Instructions and cache misses per operation (callgrind)"
	echo
	echo "\`make bench-callgrind\`: valgrind --tool=callgrind --cache-sim=yes"
	echo "--I1=32768,8,64 --D1=32768,8,64 --LL=1048576,16,64; each cell is"
	echo "instructions / D1 misses / LL misses per operation, all threads, the"
	echo "null loop subtracted; K = $k operations per phase after N keys"
	echo "(1, 3, ..., 2N-1) were prefilled and every bucket warmed. hit/miss:"
	echo "uniform present/absent keys; delete: K distinct present keys, then the"
	echo "map's reclaim barrier (deferred frees counted); insert: K distinct"
	echo "absent keys after those deletes. LL = 1 MiB models this guest, where"
	echo "every line beyond L2 is a DRAM-like miss: the LL column is lines"
	echo "fetched from memory per operation. Deterministic (fixed seeds), so"
	echo "machine load does not move these figures. Measured"
	echo "$(date -u '+%Y-%m-%d %H:%M UTC') in $(( $(date +%s) - t0 )) s."
	for n in $ns; do
		echo
		echo "### N = $n"
		echo
		echo "| map | lookup hit Ir / D1 / LL | lookup miss Ir / D1 / LL | insert Ir / D1 / LL | delete Ir / D1 / LL |"
		echo "|---|---|---|---|---|"
		for m in $maps; do
			printf '| %s |' "$m"
			for op in hit miss insert delete; do
				awk -v m="$m" -v n="$n" -v op="$op" \
					'$1 == m && $2 == n && $4 == op {
					  printf " %.0f / %.2f / %.2f |", $5, $6, $7; f = 1 }
					 END { if (!f) printf " - |" }' "$dat"
			done
			echo
		done
	done
} >"$out"
cat "$out"
