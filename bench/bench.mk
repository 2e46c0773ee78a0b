# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/bench.mk - benchmark fragment, included by the top-level Makefile.
#
#   make bench                  build (release), the callgrind table, then the
#                               default matrix (1 and 2 threads, N = 100k and
#                               1M, all mixes, 0.3 s cells, 5 interleaved reps),
#                               memory and insert-latency cells; prints the
#                               report, writes bench/results/latest.md and the
#                               PNG plots.  About 8 minutes.
#   make bench BENCH_FULL=1     full matrix: 1, 2, 4 threads, 1 s cells, 5 reps
#   make bench BENCH_ARGS='...' any lfbench run options (see bench/README.md)
#   make bench BENCH_CALLGRIND=0  skip the callgrind table (keeps the last one)
#   make bench-callgrind        per-op instructions and simulated cache misses,
#                               lfmap and every peer, N = 1e5 and 1e6, into
#                               bench/results/callgrind.md (the report
#                               includes it).  About 1 minute.
#   make bench-profile          lfmap's instructions and simulated misses per
#                               operation by source file, N = 1e5 and 1e6,
#                               into bench/results/profile.md (make bench
#                               runs it with the callgrind table).  Seconds.
#   make bench-build            compile only (part of make check)
#   BENCH_NO_LFMAP=1            build the peers only (no liblfmap needed)

BENCH_DIR    := $(B)/bench
LFBENCH      := $(BENCH_DIR)/lfbench
BENCH_C_SRCS := bench/bench.c bench/cell.c bench/matrix.c bench/report.c \
                bench/plot.c bench/map_lfmap.c bench/map_urcu.c \
                bench/map_ck.c bench/map_lock.c bench/map_oa.c \
                bench/map_urcu_qsbr.c
BENCH_CXX_SRCS := bench/map_tbb.cpp bench/map_cuckoo.cpp
BENCH_OBJS    = $(BENCH_C_SRCS:bench/%.c=$(BENCH_DIR)/%.o) \
                $(BENCH_CXX_SRCS:bench/%.cpp=$(BENCH_DIR)/%.o) $(BENCH_QSBR_OBJ) \
                $(BENCH_CK_OBJ)
BENCH_HDRS   := bench/map_ops.h bench/driver.h bench/targets.h
BENCH_CXXFLAGS = -std=c++17 -pthread -O2 -g -Wall -Wextra -Wno-unused-parameter \
                 $(SANFLAGS)
BENCH_LIBS   := -lurcu-cds -lck -ltbb -lm

# liblfmap-qsbr beside liblfmap in one lfbench (rows lfmap-qsbr and
# lfmap-qsbr-offline, map_lfmap_qsbr.c): its archive's one object, and the
# adaptor's object, with every lfmap_X renamed lfmapqsbr_X.
BENCH_QSBR_SYMS := $(BENCH_DIR)/lfmap-qsbr.syms
BENCH_QSBR_LIB  := $(BENCH_DIR)/lfmap-qsbr-renamed.o
BENCH_QSBR_OBJ  := $(BENCH_DIR)/map_lfmap_qsbr.o
# liblfmap-ck the same way (row lfmap-ck, map_lfmap_ck.c): lfmapck_*.
BENCH_CK_LIB  := $(BENCH_DIR)/lfmap-ck-renamed.o
BENCH_CK_OBJ  := $(BENCH_DIR)/map_lfmap_ck.o

ifeq ($(BENCH_NO_LFMAP),1)
BENCH_CPPFLAGS := -DBENCH_NO_LFMAP
BENCH_DIR      := $(B)/bench-nolfmap
LFBENCH        := $(BENCH_DIR)/lfbench
BENCH_QSBR_SYMS := $(BENCH_DIR)/lfmap-qsbr.syms
BENCH_QSBR_LIB  :=
BENCH_QSBR_OBJ  := $(BENCH_DIR)/map_lfmap_qsbr.o
BENCH_CK_LIB   :=
BENCH_CK_OBJ   := $(BENCH_DIR)/map_lfmap_ck.o
BENCH_LFMAP    := $(URCU_LIBS) -lurcu-qsbr -pthread
BENCH_LIBDEP   :=
else
BENCH_CPPFLAGS :=
BENCH_LFMAP     = $(LINK_LFMAP) $(BENCH_QSBR_LIB) -lurcu-qsbr $(BENCH_CK_LIB)
BENCH_LIBDEP    = $(STATIC) $(BENCH_QSBR_LIB) $(BENCH_CK_LIB)
endif

# Which lfmap the numbers belong to (src/ and include/ only).
BENCH_REV := $(shell git rev-parse --short HEAD 2>/dev/null)$(shell git diff --quiet HEAD -- src include 2>/dev/null || echo ' + uncommitted src changes')

ifeq ($(BENCH_FULL),1)
BENCH_ARGS ?= --threads 1,2,4 --secs 1.0 --warmup 0.2 --reps 5 --label "full matrix, lfmap $(BENCH_REV)"
else
BENCH_ARGS ?= --threads 1,2 --secs 0.3 --warmup 0.1 --reps 5 --label "default matrix, lfmap $(BENCH_REV)"
endif

# Callgrind table: key counts, operations per phase, maps.
BENCH_CG_NS   ?= 100000 1000000
BENCH_CG_K    ?= 20000
BENCH_CG_MAPS ?= lfmap lfmap-qsbr lfmap-qsbr-offline lfmap-ck cds_lfht cds_lfht_qsbr ck_ht tbb_chm \
                 libcuckoo rwlock striped64 oa_1thread
BENCH_CALLGRIND ?= 1
BENCH_CG_RUN   = bash bench/callgrind.sh $(LFBENCH) bench/results/callgrind.md \
                 "$(BENCH_CG_NS)" $(BENCH_CG_K) "$(BENCH_CG_MAPS)"
BENCH_PROF_RUN = python3 bench/profile.py $(LFBENCH) bench/results/profile.md \
                 $(BENCH_CG_NS) --k $(BENCH_CG_K)

.PHONY: bench bench-build bench-deps bench-callgrind bench-profile
CHECK_TARGETS += bench-build

bench-deps:
	@bash scripts/deps.sh core bench

$(BENCH_DIR)/%.o: bench/%.c $(BENCH_HDRS) include/lfmap.h | bench-deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BENCH_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BENCH_DIR)/%.o: bench/%.cpp bench/map_ops.h bench/map_cxx.hh | bench-deps
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(BENCH_CXXFLAGS) -c $< -o $@

# Per extra engine e (qsbr, ck): the renaming list (the library's global
# symbols, its API: lfmap_X -> lfmapE_X), the library's one object renamed,
# and the adaptor map_lfmap_E.c compiled and renamed the same way.
define bench_renamed_engine
$(BENCH_DIR)/lfmap-$(1).syms: $(B)/liblfmap-$(1).a
	@mkdir -p $$(@D)
	nm -g --defined-only $$< | awk 'NF == 3 && $$$$3 ~ /^lfmap_/ { print $$$$3, "lfmap$(1)_" substr($$$$3, 7) }' > $$@

$(BENCH_DIR)/lfmap-$(1)-renamed.o: $(B)/liblfmap-$(1).a $(BENCH_DIR)/lfmap-$(1).syms
	ar p $$< lfmap-$(1)-static.o > $$@.tmp
	objcopy --redefine-syms=$(BENCH_DIR)/lfmap-$(1).syms $$@.tmp $$@ && rm -f $$@.tmp

$(BENCH_DIR)/map_lfmap_$(1).o: bench/map_lfmap_$(1).c bench/map_lfmap.c $(BENCH_HDRS) include/lfmap.h \
		$(if $(filter 1,$(BENCH_NO_LFMAP)),,$(BENCH_DIR)/lfmap-$(1).syms) | bench-deps
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(BENCH_CPPFLAGS) $$(ALL_CFLAGS) -c $$< -o $$@.tmp
	$(if $(filter 1,$(BENCH_NO_LFMAP)),mv $$@.tmp $$@,objcopy --redefine-syms=$(BENCH_DIR)/lfmap-$(1).syms $$@.tmp $$@ && rm -f $$@.tmp)
endef
$(foreach e,qsbr ck,$(eval $(call bench_renamed_engine,$(e))))

$(BENCH_DIR)/map_urcu_qsbr.o: bench/map_urcu.c

$(LFBENCH): $(BENCH_OBJS) $(BENCH_LIBDEP)
	$(CXX) -pthread $(SANFLAGS) -o $@ $(BENCH_OBJS) $(BENCH_LIBS) $(BENCH_LFMAP)

# The bench has a row per engine, so it builds every engine's library,
# whatever ENGINES says.
bench-build: bench-deps
ifneq ($(BENCH_NO_LFMAP),1)
	@$(MAKE) --no-print-directory ENGINES="memb qsbr ck" lib
endif
	@$(MAKE) --no-print-directory ENGINES="memb qsbr ck" $(LFBENCH)

bench: bench-build
ifneq ($(VARIANT),release)
	@echo "bench: warning: VARIANT=$(VARIANT); numbers are only meaningful for release" >&2
endif
	@mkdir -p bench/results
ifeq ($(BENCH_CALLGRIND),1)
	$(BENCH_CG_RUN)
	$(BENCH_PROF_RUN)
endif
	$(LFBENCH) run $(BENCH_ARGS) --out bench/results

bench-callgrind: bench-build
	@mkdir -p bench/results
	$(BENCH_CG_RUN)

bench-profile: bench-build
	@mkdir -p bench/results
	$(BENCH_PROF_RUN)

# Copy bench/results/latest.md into bench/README.md (between the LATEST
# markers, plot links rewritten to results/ and shown inline).
.PHONY: bench-readme
bench-readme:
	@awk -v f=bench/results/latest.md ' \
	  /<!-- LATEST -->/ { print; \
	    while ((getline l < f) > 0) { \
	      if (l ~ /^### /) sub(/^### /, "##### ", l); \
	      else if (l ~ /^## /) sub(/^## /, "#### ", l); \
	      else if (l ~ /^# /) sub(/^# /, "### ", l); \
	      if (l ~ /^- \[.*\]\(.*\.png\)$$/) { \
	        sub(/\(/, "(results/", l); t = l; sub(/^- /, "", t); \
	        print l; sub(/^\[/, "![", t); print ""; print t; print ""; continue } \
	      print l }; skip = 1; next } \
	  /<!-- \/LATEST -->/ { skip = 0 } \
	  !skip { print }' bench/README.md > bench/README.md.tmp && \
	mv bench/README.md.tmp bench/README.md && echo "bench/README.md updated"

# Read path (bench/readpath.c): callgrind instructions and simulated misses
# per lookup hit/miss (single, in a caller section, batched) at N = 1e5 and
# 1e6, and the wall-clock batched/single ratio (interleaved reps, 1 thread).
# About 2 minutes.  Not part of make check.
.PHONY: bench-readpath
bench-readpath: lib
	@bash scripts/deps.sh check
	bash bench/readpath-callgrind.sh $(B)
	@mkdir -p $(B)/bench
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $(B)/bench/readpath bench/readpath.c \
	    $(LINK_LFMAP)
	$(B)/bench/readpath wall 100000 5
	$(B)/bench/readpath wall 1000000 5
