#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/run-criterion.sh TIER BIN [ARGS...] - run a Criterion test binary,
# keep its output in BIN.log, record its pass/fail counts for make check.
set -uo pipefail
tier=$1 bin=$2
shift 2
"$bin" "$@" 2>&1 | tee "$bin.log"
rc=${PIPESTATUS[0]}
syn=$(grep -a 'Synthesis: Tested:' "$bin.log" | tail -n 1)
tested=$(echo "$syn" | sed -n 's/.*Tested: *\([0-9]*\).*/\1/p')
passing=$(echo "$syn" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
if [ -z "$tested" ]; then
	bash "$(dirname "$0")/check-record.sh" "$tier" 0 1
else
	bash "$(dirname "$0")/check-record.sh" "$tier" "$passing" $((tested - passing))
fi
exit "$rc"
