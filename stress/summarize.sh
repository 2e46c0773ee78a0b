#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stress/summarize.sh LOG... - turn the "STRESS ..." summary lines of stress
# logs into a Markdown table (one row per run).
set -euo pipefail
echo "| mode | threads | s | ops | grows/shrinks | max entries | storm cycles | churn thr. | races | lin rounds (ops, overlapping) | ENOMEM inj. | alloc = freed bytes | result |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
grep -h '^STRESS ' "$@" | grep -v 'mode=selftest' | awk '
{
	delete f
	for (i = 2; i <= NF; i++) {
		n = index($i, "="); if (n) f[substr($i, 1, n - 1)] = substr($i, n + 1)
	}
	eq = (f["alloc_bytes"] == f["freed_bytes"]) ? f["alloc_bytes"] : f["alloc_bytes"] "!=" f["freed_bytes"]
	lin = f["lin_rounds"] ? f["lin_rounds"] " (" f["lin_ops"] ", " f["lin_overlapping"] ")" : "-"
	printf "| %s | %s | %s | %s | %s/%s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		f["mode"], f["threads"], f["seconds"], f["ops"], f["grows"], f["shrinks"],
		f["max_entries"], f["storm_cycles"], f["churn_threads"], f["race_rounds"],
		lin, f["alloc_fail_injected"], eq, f["result"]
}'
