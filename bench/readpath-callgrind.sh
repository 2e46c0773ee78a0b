#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/readpath-callgrind.sh [LIBDIR] [N...] > table.md
#
# Instructions and simulated cache misses per lookup (hit, miss; with and
# without a caller-held read-side section; batched if the library has
# lfmap_get_many_u64), from bench/readpath.c under
#   valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64
#            --D1=32768,8,64 --LL=1048576,16,64
# (LL = 1 MiB models this project's guests, where every line beyond the
# 512 KiB L2 costs a DRAM-like miss: ANALYSIS.md section 1).  Per lookup =
# (phase - null phase) / K, all threads.  D1 = L1 data misses (read +
# write), LL = last-level data misses (read + write).
# LIBDIR defaults to build/release (make lib first).  N defaults to 1e5 1e6.
set -euo pipefail
lib=${1:-build/release}
shift || true
ns=${*:-100000 1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -O2 -g -D_GNU_SOURCE -Iinclude -o "$tmp/readpath" bench/readpath.c \
	"$lib/liblfmap.a" -lurcu-memb -lurcu-common -pthread

echo "| N | phase | Ir/lookup | D1 miss/lookup | LL miss/lookup |"
echo "|---|---|---|---|---|"
for n in $ns; do
	rm -f "$tmp"/cg.out*
	valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 \
		--D1=32768,8,64 --LL=1048576,16,64 --dump-instr=no \
		--callgrind-out-file="$tmp/cg.out" "$tmp/readpath" "$n" \
		>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
	k=$((n / 10))
	for f in "$tmp"/cg.out.*; do
		awk '/^desc: Trigger: Client Request:/ { name = $NF }
		     /^events:/ { for (i = 2; i <= NF; i++) col[$i] = i - 1 }
		     /^(summary|totals):/ {
			printf "%s %s %s %s %s %s\n", name, $(col["Ir"] + 1),
			  $(col["D1mr"] + 1), $(col["D1mw"] + 1),
			  $(col["DLmr"] + 1), $(col["DLmw"] + 1); exit }' "$f"
	done | sort >"$tmp/phases"
	awk -v n="$n" -v k="$k" '
		{ ir[$1] = $2; d1[$1] = $3 + $4; ll[$1] = $5 + $6; names[NR] = $1 }
		END {
			split("hit miss hit-nested miss-nested hit-locked miss-locked hit-many miss-many", order, " ")
			for (i = 1; i <= 8; i++) {
				p = order[i]
				if (!(p in ir)) continue
				printf "| %d | %s | %.0f | %.2f | %.2f |\n", n, p,
				  (ir[p] - ir["null"]) / k, (d1[p] - d1["null"]) / k,
				  (ll[p] - ll["null"]) / k
			}
		}' "$tmp/phases"
done
