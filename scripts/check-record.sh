#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-record.sh TIER PASSED FAILED - add one tier's counts to the
# `make check` summary (the file $CHECK_SUMMARY, one "tier passed failed"
# line per tier; scripts/check-run.sh sums them).  A no-op outside make check.
[ -n "${CHECK_SUMMARY:-}" ] || exit 0
printf '%s %d %d\n' "$1" "$2" "$3" >> "$CHECK_SUMMARY"
