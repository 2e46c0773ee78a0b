#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-run.sh [--summary] MAKE TARGET... - run make targets one
# after the other, all of them even when one fails, and count results.
#
# Counting: every tier appends "name passed failed" lines to $CHECK_SUMMARY
# (scripts/check-record.sh): a unit-test binary one line with its test
# counts, the stress slice a line per run with its configurations, TLC one
# with its configurations.  A target that records nothing counts as one
# item (passed or failed by its exit status); a target that fails while its
# lines show no failure gets one failed item more.  A new fragment's target
# therefore needs nothing to be counted, and records lines to count finer.
#
# --summary (the top-level `make check`): start a fresh build/check-summary,
# print the table at the end, then the one line "N passed, N failed".
set -uo pipefail
summary=0
if [ "${1:-}" = --summary ]; then
	summary=1
	shift
fi
make=$1
shift
if [ $summary -eq 1 ]; then
	mkdir -p build
	export CHECK_SUMMARY="${CHECK_SUMMARY:-$PWD/build/check-summary}"
	: > "$CHECK_SUMMARY"
fi
fail=0
for t in "$@"; do
	[ $summary -eq 1 ] && echo "==== make $t"
	before=0
	if [ -n "${CHECK_SUMMARY:-}" ]; then
		before=$(wc -l < "$CHECK_SUMMARY")
	fi
	if $make --no-print-directory "$t"; then rc=0; else rc=1; fail=1; fi
	[ -n "${CHECK_SUMMARY:-}" ] || continue
	added=$(tail -n +"$((before + 1))" "$CHECK_SUMMARY")
	if [ -z "$added" ]; then
		echo "$t $((1 - rc)) $rc" >> "$CHECK_SUMMARY"
	elif [ $rc -ne 0 ] && ! echo "$added" | awk '$3 > 0 { f = 1 } END { exit !f }'; then
		echo "$t 0 1" >> "$CHECK_SUMMARY"
	fi
done
if [ $summary -eq 1 ]; then
	echo "==== make check: per tier (build/check-summary)"
	awk '{ p[$1] += $2; f[$1] += $3; if (!($1 in o)) { o[$1] = n++ ; k[n - 1] = $1 } }
	     END { for (i = 0; i < n; i++)
	             printf "  %-28s %5d passed %5d failed\n", k[i], p[k[i]], f[k[i]] }' \
		"$CHECK_SUMMARY"
	awk '{ p += $2; f += $3 } END { printf "%d passed, %d failed\n", p, f }' "$CHECK_SUMMARY"
fi
exit $fail
