# SPDX-License-Identifier: LGPL-2.1-or-later
# stress/stress.mk - stress harnesses (included by the top-level Makefile).
#
#   make stress                release build, CI-sized fixed-seed slice
#   make stress-tsan           ThreadSanitizer slice (in make check)
#   make stress-asan           AddressSanitizer + LeakSanitizer slice (in make check)
#   make stress-ubsan          UndefinedBehaviorSanitizer slice
#   make valgrind-stress       valgrind memcheck on a short slice
#   make stress-mutants        seeded bugs must make the harness fail
#   make stress-tsan-noannot   TSan without lfmap's annotations must report races
#
# Scale: STRESS_SCALE=ci (default, ~2-4 min per slice on 2 cores),
# STRESS_SCALE=long (the million-entry resize storm, minutes per config),
# STRESS_SCALE=smoke (seconds).  STRESS_SEED=N changes the fixed seed;
# STRESS_LONG=1 is shorthand for STRESS_SCALE=long.  STRESS_SECONDS=N
# overrides every config's duration.

STRESS_SEED  ?= 42
STRESS_SCALE ?= $(if $(STRESS_LONG),long,ci)
STRESS_SECONDS ?=

STRESS_SRCS := stress/stress.c stress/common.c stress/values.c stress/harness.c \
	stress/mode_mixed.c stress/mode_contend.c stress/mode_lin.c stress/lincheck.c
STRESS_HDRS := stress/common.h stress/values.h stress/harness.h stress/modes.h \
	stress/lincheck.h include/lfmap.h
STRESS_BIN  := $(B)/stress$(ENGSUF)/stress

# ThreadSanitizer: any report fails the run (exit 66).  Suppressions may
# name liburcu only (see stress/tsan.supp).
STRESS_TSAN_OPTIONS := halt_on_error=1 exitcode=66 second_deadlock_stack=1 \
	suppressions=$(CURDIR)/stress/tsan.supp
STRESS_ASAN_OPTIONS := detect_leaks=1 abort_on_error=0 halt_on_error=1 \
	detect_stack_use_after_return=0
STRESS_UBSAN_OPTIONS := print_stacktrace=1 halt_on_error=1

STRESS_RUN = TSAN_OPTIONS="$(STRESS_TSAN_OPTIONS)" \
	ASAN_OPTIONS="$(STRESS_ASAN_OPTIONS)" \
	LSAN_OPTIONS="suppressions=$(CURDIR)/stress/lsan.supp" \
	UBSAN_OPTIONS="$(STRESS_UBSAN_OPTIONS)" \
	STRESS_SECONDS="$(STRESS_SECONDS)" STRESS_ENGINE="$(ENGSUF)" \
	bash stress/run.sh

.PHONY: stress-bin stress unit-mutants stress-tsan stress-asan stress-ubsan stress-debug \
	stress-run valgrind-stress stress-mutants stress-tsan-noannot \
	stress-selftest

$(STRESS_BIN): $(STRESS_SRCS) $(STRESS_HDRS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $(STRESS_SRCS) $(LINK_LFMAP)

# Build lib + harness for the current VARIANT.
stress-bin: lib $(STRESS_BIN)

# Run the slice for the current VARIANT.
stress-run: stress-bin
	$(STRESS_RUN) $(STRESS_BIN) $(STRESS_SCALE) $(STRESS_SEED) $(VARIANT)

stress:
	$(MAKE) --no-print-directory VARIANT=release stress-run

stress-tsan:
	$(MAKE) --no-print-directory VARIANT=tsan stress-run

stress-asan:
	$(MAKE) --no-print-directory VARIANT=asan stress-run

stress-ubsan:
	$(MAKE) --no-print-directory VARIANT=ubsan stress-run

stress-debug:
	$(MAKE) --no-print-directory VARIANT=debug stress-run

stress-selftest:
	$(MAKE) --no-print-directory VARIANT=release stress-bin
	build/release/stress/stress --mode=selftest

# valgrind: short slice, a memcheck error or a definite/indirect leak fails.
# liburcu-memb falls back from membarrier(2) (which valgrind does not
# implement) to full barriers on the read side, so it runs unchanged.
valgrind-stress:
	$(MAKE) --no-print-directory VARIANT=debug stress-bin
	@bash scripts/deps.sh check
	STRESS_SECONDS="$(STRESS_SECONDS)" \
	STRESS_WRAP="valgrind -q --error-exitcode=9 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --fair-sched=yes" \
	  bash stress/run.sh build/debug/stress/stress valgrind $(STRESS_SEED) debug

# Seeded bugs: each mutant library must make the harness fail.  Mutants
# are built in their own VARIANT directories' sibling (build/mutant-*), so
# they never pollute the normal builds.
STRESS_MUTANTS := LFMAP_MUTANT_DELETE_NO_TOMBSTONE LFMAP_MUTANT_FREE_NO_GRACE \
                  LFMAP_MUTANT_TAG_LINK_KEEPS_OLD LFMAP_MUTANT_TAG_WINDOW_STOP_PRED \
                  LFMAP_MUTANT_SEGMENT_LINKED_EARLY
stress-mutants:
	@set -e; for mu in $(STRESS_MUTANTS); do \
	  echo "==== mutant $$mu"; \
	  $(MAKE) --no-print-directory VARIANT=release B=build/mutant-$$mu \
	    EXTRA_CFLAGS=-D$$mu stress-bin >/dev/null; \
	  if bash stress/run.sh build/mutant-$$mu/stress/stress mutant \
	      $(STRESS_SEED) release > build/mutant-$$mu/stress.log 2>&1; then \
	    tail -n 20 build/mutant-$$mu/stress.log; \
	    echo "MUTANT SURVIVED: $$mu (the harness did not catch it)"; exit 1; \
	  fi; \
	  grep -E 'STRESS-FAIL|^STRESS ' build/mutant-$$mu/stress.log | tail -n 3; \
	  echo "==== mutant $$mu caught"; \
	done

# Seeded bugs a unit test must catch (the stress harness cannot reach
# them): MUTANT:criterion-filter pairs; each mutant's unit binary must
# fail its filter.  Not in CHECK_TARGETS (one library build per mutant,
# about a minute each); run by hand or in CI's mutant job.
UNIT_MUTANTS := LFMAP_MUTANT_RANGE_TEST_INCLUSIVE:bucket/range_test_bounds
unit-mutants:
	@set -e; for pair in $(UNIT_MUTANTS); do \
	  mu=$${pair%%:*}; filter=$${pair#*:}; \
	  echo "==== mutant $$mu ($$filter)"; \
	  $(MAKE) --no-print-directory VARIANT=release B=build/mutant-$$mu \
	    EXTRA_CFLAGS=-D$$mu build/mutant-$$mu/tests/unit >/dev/null; \
	  if build/mutant-$$mu/tests/unit --filter "$$filter" \
	      > build/mutant-$$mu/unit.log 2>&1; then \
	    tail -n 5 build/mutant-$$mu/unit.log; \
	    echo "MUTANT SURVIVED: $$mu (its unit test passed)"; exit 1; \
	  fi; \
	  grep -E 'FAIL' build/mutant-$$mu/unit.log | head -n 3; \
	  echo "==== mutant $$mu caught"; \
	done

# TSan without lfmap's __tsan_acquire/__tsan_release: the grace periods
# become invisible and TSan must report the reclamation races.
stress-tsan-noannot:
	@set -e; \
	$(MAKE) --no-print-directory VARIANT=tsan B=build/tsan-noannot \
	  EXTRA_CFLAGS=-DLFMAP_NO_TSAN_ANNOTATIONS stress-bin >/dev/null; \
	if TSAN_OPTIONS="$(subst halt_on_error=1,halt_on_error=0,$(STRESS_TSAN_OPTIONS))" \
	    bash stress/run.sh \
	    build/tsan-noannot/stress$(ENGSUF)/stress noannot $(STRESS_SEED) tsan \
	    > build/tsan-noannot/stress.log 2>&1; then \
	  echo "TSan reported nothing without annotations: they are not load-bearing?"; \
	  exit 1; \
	fi; \
	echo "TSan reports by location (full log: build/tsan-noannot/stress.log):"; \
	grep -E '^SUMMARY: ThreadSanitizer' build/tsan-noannot/stress.log | sort | uniq -c | sort -rn | head -n 15; \
	echo "==== stress-tsan-noannot: TSan reports races without annotations (expected)"

CHECK_TARGETS += stress-tsan stress-asan
