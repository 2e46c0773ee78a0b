# SPDX-License-Identifier: LGPL-2.1-or-later
# fuzz/fuzz.mk - differential libFuzzer target (included by the top-level
# Makefile; paths are relative to the repository root).  See fuzz/README.md.
#
#   make fuzz           run the seed corpus, then fuzz for FUZZ_SECONDS
#                       (60 s, one in-process job) from it; new inputs go to
#                       build/fuzz/corpus, crashes to build/fuzz/crash-*  (CI)
#   make fuzz-regress   run every input in fuzz/regress/ once         (CI)
#   make fuzz-pending   run every input in fuzz/regress-pending/ once
#                       (open lfmap bugs: each fails until it is fixed;
#                       never fails the target; not in CI; none today)
#   make fuzz-build     compile only
#   FUZZ_SECONDS=N      fuzzing time of make fuzz
#   FUZZ_ARGS='...'     extra libFuzzer options
#
# The library is compiled again with clang and the fuzzer's sanitizers into
# build/fuzz, so it never mixes with the gcc variants in build/$(VARIANT).
# LFMAP_DEBUG is on: misuse checks abort, and the fuzzer must never trigger
# them.

FUZZ_CC      ?= clang
FUZZ_B       := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -pthread -O1 -g -fno-omit-frame-pointer \
                -DLFMAP_DEBUG $(WARN) $(FUZZ_SAN)
# The engine-neutral objects and the ENGINE's (memb unless ENGINE= says
# otherwise), as in the libraries.
FUZZ_OBJS    := $(LIB_SRCS:src/%.c=$(FUZZ_B)/obj/%.o) \
                $(FUZZ_B)/obj/engine-$(ENGINE).o
FUZZ_BIN     := $(FUZZ_B)/lfmap_fuzz
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
# detect_leaks: libFuzzer runs LeakSanitizer after an input whose mallocs
# and frees do not balance.  The rss limit is far above the target's
# footprint (~150 MB) and below what 8 sharing helpers can afford.
FUZZ_ENV     := ASAN_OPTIONS="detect_leaks=1 halt_on_error=1 abort_on_error=0" \
                UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
FUZZ_OPTS    := -rss_limit_mb=1024 -timeout=20 -max_len=4096
FUZZ_REGRESS  = $(wildcard fuzz/regress/*.bin)
FUZZ_PENDING  = $(wildcard fuzz/regress-pending/*.bin)

.PHONY: fuzz fuzz-build fuzz-deps fuzz-regress fuzz-pending

fuzz-deps:
	@bash scripts/deps.sh core fuzz

$(FUZZ_B)/obj/%.o: src/%.c $(LIB_HDRS) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_B)/obj/engine-$(ENGINE).o: $(ENGINE_SRC_$(ENGINE)) $(LIB_HDRS) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(ENGINE_CPPFLAGS_$(ENGINE)) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BIN): fuzz/lfmap_fuzz.c include/lfmap.h $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
	    fuzz/lfmap_fuzz.c $(FUZZ_OBJS) $(URCU_LIBS) -pthread

fuzz-build: fuzz-deps $(FUZZ_BIN)

# The seed corpus first (every file once), then fuzzing from it into a
# scratch corpus; any crash fails the target.  The tree's corpus is not
# modified: copy an interesting new input to fuzz/corpus/ by hand.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_B)/corpus
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_OPTS) -runs=0 fuzz/corpus
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_OPTS) \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_B)/ $(FUZZ_ARGS) \
	    $(FUZZ_B)/corpus fuzz/corpus
	@echo "==== make fuzz: no crash in $(FUZZ_SECONDS) s"

# Each file once (libFuzzer runs inputs named on the command line, exits
# non-zero on the first failure).
fuzz-regress: fuzz-build
ifneq ($(FUZZ_REGRESS),)
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_OPTS) $(FUZZ_REGRESS)
endif
	@echo "==== make fuzz-regress: $(words $(FUZZ_REGRESS)) inputs passed"

fuzz-pending: fuzz-build
	@for f in $(FUZZ_PENDING); do \
	  echo "== $$f"; $(FUZZ_ENV) $(FUZZ_BIN) $$f || true; done
	@echo "==== make fuzz-pending: $(words $(FUZZ_PENDING)) inputs run"

CHECK_TARGETS += fuzz-regress fuzz
