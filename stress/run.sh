#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stress/run.sh BIN SCALE SEED VARIANT - run one slice of stress configs.
#
# SCALE: smoke (seconds), ci (~2-4 min), long (million-entry storm, ~15 min),
#        mutant (short configs that a seeded bug must fail), noannot (TSan
#        without annotations), valgrind (short, under $STRESS_WRAP),
#        pending (delete-heavy, 10 s: peak pending values and bytes; not
#        counted by make check).
# Stops at the first failing config and exits with its status.  Each
# config prints one short line; its full output and "STRESS ..." record go
# to $STRESS_LOG (default: stress-SCALE.log beside BIN).
# STRESS_SECONDS=N overrides each config's duration.  STRESS_ENGINE ("-qsbr",
# empty for the default engine) tags the make check record.
set -uo pipefail

bin=$1 scale=$2 seed=$3 variant=${4:-release}
wrap=${STRESS_WRAP:-}

# Resize-storm size per variant: sanitizers are 3-15x slower.
case "$variant" in
tsan) storm=30000 ;;
asan) storm=100000 ;;
ubsan) storm=100000 ;;
debug) storm=50000 ;;
*) storm=250000 ;;
esac

configs=()
add() { configs+=("$*"); }

case "$scale" in
smoke)
	add --mode=selftest
	add --mode=mixed --threads=4 --seconds=4 --storm=$((storm / 4)) --churn-threads --checkpoint=2
	# the bucket range (default allocator): every other config uses segments
	add --mode=mixed --threads=4 --seconds=3 --storm=$((storm / 4)) --default-alloc --checkpoint=1
	add --mode=contend --threads=8 --keys=1 --seconds=3
	add --mode=lin --threads=4 --keys=2 --seconds=3
	;;
ci)
	add --mode=selftest
	# the main course: resize storm + thread churn + audits every 10 s
	add --mode=mixed --threads=4 --seconds=45 --storm=$storm --churn-threads --checkpoint=10
	# the same on the bucket range (default allocator; the rest: segments)
	add --mode=mixed --threads=4 --seconds=15 --storm=$storm --churn-threads --default-alloc --checkpoint=5
	# 16 threads on 2 cores, smaller storm
	add --mode=mixed --threads=16 --seconds=25 --storm=$((storm / 4)) --checkpoint=8
	# injected allocation failures (ENOMEM must leave the map unchanged)
	add --mode=mixed --threads=8 --seconds=15 --fail-rate=0.002 --storm=$((storm / 4)) --checkpoint=5
	# iteration/clone heavy, 2 threads, during storms
	add --mode=mixed --threads=2 --seconds=15 --storm=$((storm / 4)) --mix=get=3000,put=500,insert=1000,delete=1000,take=300,compute=500,iter=200,clone=20 --checkpoint=5
	# single-key and two-key maximum contention
	add --mode=contend --threads=8 --keys=1 --seconds=20
	add --mode=contend --threads=4 --keys=2 --seconds=12
	# linearizability
	add --mode=lin --threads=4 --keys=1 --seconds=12
	add --mode=lin --threads=4 --keys=2 --round-ops=6 --seconds=12
	;;
long)
	# Big storms: iterations walk 1.1 M entries, so they are rarer (1 in
	# 10 000 operations) and clones get their own, smaller config.
	big=get=3500,put=700,insert=1100,replace=500,cas=600,delete=1000,delete_if=500,take=400,compute=800,iter=1,clone=0
	add --mode=selftest
	add --mode=mixed --threads=4 --seconds=300 --storm=1100000 --churn-threads --checkpoint=30 --mix=$big
	add --mode=mixed --threads=16 --seconds=120 --storm=1100000 --checkpoint=30 --mix=$big
	add --mode=mixed --threads=8 --seconds=60 --fail-rate=0.001 --storm=200000 --checkpoint=15
	add --mode=mixed --threads=2 --seconds=60 --storm=200000 --mix=get=3000,put=500,insert=1000,delete=1000,take=300,compute=500,iter=50,clone=5 --checkpoint=20
	add --mode=contend --threads=16 --keys=1 --seconds=60
	add --mode=contend --threads=4 --keys=2 --seconds=60
	add --mode=lin --threads=4 --keys=1 --seconds=60
	add --mode=lin --threads=8 --keys=2 --round-ops=4 --seconds=60
	;;
mutant)
	# racing removes of one key and recorded histories come first: they
	# name the bug most directly; the mixed workload catches the rest.
	add --mode=contend --threads=8 --keys=1 --seconds=10
	add --mode=lin --threads=4 --keys=1 --seconds=10
	add --mode=mixed --threads=4 --seconds=10 --storm=$((storm / 4)) --hold=4 --checkpoint=2
	;;
pending)
	# delete-heavy, no audits, no storm, and a watchdog that never
	# synchronizes: only the workers' own calls drive reclamation (on
	# liblfmap-ck, their polls); read peak_pending_values/_bytes
	add --mode=mixed --threads=4 --seconds=10 --storm=0 --checkpoint=0 --grace-limit=0 --mix=get=1000,put=1000,insert=3500,replace=0,cas=0,delete=3500,delete_if=500,take=500,compute=0,iter=0,clone=0
	;;
noannot)
	add --mode=mixed --threads=4 --seconds=10 --storm=$((storm / 4)) --checkpoint=3
	add --mode=contend --threads=4 --keys=1 --seconds=5
	;;
valgrind)
	add --mode=mixed --threads=3 --seconds=15 --storm=3000 --churn-threads --checkpoint=5 --quarantine=4096
	add --mode=contend --threads=3 --keys=1 --seconds=6 --quarantine=4096
	add --mode=lin --threads=3 --keys=2 --seconds=6 --quarantine=4096
	;;
*)
	echo "run.sh: unknown scale '$scale'" >&2
	exit 2
	;;
esac

# The full output of every configuration (the harness's progress and its
# STRESS record) goes to $log; the terminal gets one short line per
# configuration, and make check's summary one count per slice.
# Slices that are meant to fail (mutant, noannot) are not counted.
case "$scale" in mutant | noannot | pending) export CHECK_SUMMARY= ;; esac
log=${STRESS_LOG:-$(dirname "$bin")/stress-$scale.log}
: > "$log"
pass=0 t0=$SECONDS
short() { # the key fields of a STRESS record
	sed -n 's/^STRESS //p' | tr ' ' '\n' |
		grep -E '^(seconds|ops|grows|shrinks|lin_rounds|peak_pending_values|peak_pending_bytes|result|reason)=' |
		tr '\n' ' '
}
for c in "${configs[@]}"; do
	args="$c --seed=$seed"
	if [ -n "${STRESS_SECONDS:-}" ]; then
		args="$args --seconds=$STRESS_SECONDS"
	fi
	echo "== $wrap $bin $args" >> "$log"
	out=$(mktemp)
	# shellcheck disable=SC2086
	$wrap "$bin" $args > "$out" 2>&1
	rc=$?
	cat "$out" >> "$log"
	rec=$(grep '^STRESS ' "$out" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$out"
		rm -f "$out"
		printf 'stress %-7s %-60s FAIL (exit %d) %s\n' "$variant" "$c" "$rc" "$(echo "$rec" | short)"
		echo "== stress slice '$scale' ($variant, seed $seed): FAILED; full log: $log"
		bash "$(dirname "$0")/../scripts/check-record.sh" "stress-$variant${STRESS_ENGINE:-}" "$pass" 1
		exit "$rc"
	fi
	rm -f "$out"
	pass=$((pass + 1))
	printf 'stress %-7s %-60s ok   %s\n' "$variant" "$c" "$(echo "$rec" | short | cut -c1-110)"
done
echo "== stress slice '$scale' ($variant, seed $seed) passed in $((SECONDS - t0)) s; full records: $log"
bash "$(dirname "$0")/../scripts/check-record.sh" "stress-$variant${STRESS_ENGINE:-}" "$pass" 0
