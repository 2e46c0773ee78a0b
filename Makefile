# SPDX-License-Identifier: LGPL-2.1-or-later
# lfmap - top-level Makefile.
#
#   make                 every engine's library (static + shared) in
#                        build/release (ENGINES: liblfmap, liblfmap-qsbr);
#                        needs only a C11 compiler and liburcu-dev,
#                        installs nothing
#   make check           everything CI runs: unit tests, examples, TLA+,
#                        TSan and ASan stress slices, packaging checks (the
#                        README's test command; installs its dependencies
#                        first; ends with "N passed, N failed")
#   make test            Criterion unit tests only (ENGINE=qsbr: against
#                        liblfmap-qsbr; so for examples, stress, demo)
#   make examples        build and run examples/
#   make demo            multi-threaded demo
#   make bench           benchmark against peers (README's main job)
#   make asan|ubsan|debug  unit tests and examples under that build variant
#   make tsan            examples and the stress slice under ThreadSanitizer
#   make install PREFIX=/usr/local   (and uninstall; see pkg/pkg.mk)
#   make check-pkg       the packaging checks alone; make abi-update
#
# Build variants live side by side in build/$(VARIANT):
#   release (-O2), debug (-O0, LFMAP_DEBUG misuse checks), tsan, asan
#   (AddressSanitizer + LeakSanitizer), ubsan.

VARIANT ?= release
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
CC      ?= cc
CXX     ?= c++

VERSION := $(shell sed -n 's/^[#]define LFMAP_VERSION_STRING "\(.*\)"/\1/p' include/lfmap.h)
SOVER   := 0

B := build/$(VARIANT)

CFLAGS_release := -O2 -g
CFLAGS_debug   := -O0 -g -DLFMAP_DEBUG
CFLAGS_tsan    := -O1 -g -fsanitize=thread -DLFMAP_DEBUG
CFLAGS_asan    := -O1 -g -fsanitize=address -fno-omit-frame-pointer -DLFMAP_DEBUG
CFLAGS_ubsan   := -O1 -g -fsanitize=undefined -fno-sanitize-recover=all -DLFMAP_DEBUG
ifeq ($(origin CFLAGS_$(VARIANT)),undefined)
$(error unknown VARIANT '$(VARIANT)': release debug tsan asan ubsan)
endif
SANFLAGS := $(filter -fsanitize=%,$(CFLAGS_$(VARIANT)))

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CPPFLAGS += -Iinclude -D_GNU_SOURCE
# EXTRA_CFLAGS: for seeded-bug builds (e.g. -DLFMAP_MUTANT_...).
ALL_CFLAGS = -std=c11 -pthread $(WARN) $(CFLAGS_$(VARIANT)) $(CFLAGS) $(EXTRA_CFLAGS)
# ---- engines -----------------------------------------------------------------
# One library per reclamation engine (src/engine.h), like liburcu's one
# library per flavour: the engine-neutral objects are compiled once per
# VARIANT and linked into each, with that engine's own file.
#   memb  liblfmap       lfmap.pc       urcu-memb (the default)
#   qsbr  liblfmap-qsbr  lfmap-qsbr.pc  urcu-qsbr (lfmap_quiescent_state...)
#   ck    liblfmap-ck    lfmap-ck.pc    Concurrency Kit's ck_epoch (libck-dev)
# Each has its own soname (liblfmap-qsbr.so.0: one program may not load two
# of them, but a package may ship all) and the same version script.
# ENGINE picks the one that `make test`, examples, stress and bench link.
# To add an engine: its name to ENGINES and the four ENGINE_*_name lines.
ENGINES ?= memb qsbr ck
ENGINE  ?= memb
ENGINE_SRC_memb      := src/engine_urcu.c
ENGINE_CPPFLAGS_memb :=
ENGINE_LIBS_memb     := -lurcu-memb -lurcu-common
ENGINE_PC_memb       := liburcu-memb
ENGINE_SRC_qsbr      := src/engine_urcu.c
ENGINE_CPPFLAGS_qsbr := -DLFMAP_ENGINE_QSBR
ENGINE_LIBS_qsbr     := -lurcu-qsbr -lurcu-common
ENGINE_PC_qsbr       := liburcu-qsbr
ENGINE_SRC_ck        := src/engine_ck.c
ENGINE_CPPFLAGS_ck   :=
ENGINE_LIBS_ck       := -lck
ENGINE_PC_ck         := ck
ifeq ($(origin ENGINE_SRC_$(ENGINE)),undefined)
$(error unknown ENGINE '$(ENGINE)': $(ENGINES))
endif
# lfmap, lfmap-qsbr, ...: the library (and .pc) name of an engine.
engine_lib = lfmap$(if $(filter memb,$(1)),,-$(1))
# Suffix of the ENGINE's programs' directories (build/release/tests/unit-qsbr).
ENGSUF := $(if $(filter memb,$(ENGINE)),,-$(ENGINE))

URCU_LIBS := $(ENGINE_LIBS_$(ENGINE))
LIBS      := $(URCU_LIBS) -pthread

# Engine-neutral sources: nothing in them may depend on the engine.
LIB_SRCS := src/debug.c src/counter.c src/hash.c src/slab.c src/section.c src/reclaim.c src/list.c \
            src/bucket.c src/entry.c src/lfmap.c src/abi.c src/lookup.c
LIB_HDRS := include/lfmap.h $(wildcard src/*.h)
LIB_PIC  := $(LIB_SRCS:src/%.c=$(B)/pic/%.o)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
LIBNAME  := $(call engine_lib,$(ENGINE))
STATIC   := $(B)/lib$(LIBNAME).a
SHARED   := $(B)/lib$(LIBNAME).so.$(VERSION)
ALL_STATIC := $(foreach e,$(ENGINES),$(B)/lib$(call engine_lib,$(e)).a)
ALL_SHARED := $(foreach e,$(ENGINES),$(B)/lib$(call engine_lib,$(e)).so.$(VERSION))

# Programs in this tree link the static library: no LD_LIBRARY_PATH games.
LINK_LFMAP = $(STATIC) $(LIBS) $(SANFLAGS)

.PHONY: all lib deps check test examples demo install uninstall clean \
        tsan asan ubsan debug valgrind
.DEFAULT_GOAL := all

all: lib
# Building the library needs a C compiler and liburcu-dev only, and never
# installs anything: `make check` and `make bench` run scripts/deps.sh.
lib: $(ALL_STATIC) $(ALL_SHARED)

# Installs what `make check` needs (the README's test command).
deps:
	@bash scripts/deps.sh core

# Every object is compiled with hidden visibility; LFMAP_API (the header)
# makes the public functions default.  The shared library therefore exports
# the API only, and the static archive hides the rest (below).
$(B)/obj/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fvisibility=hidden -c $< -o $@

$(B)/pic/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DLFMAP_BUILD_SHARED -c $< -o $@

# Symbol versions: pkg/lfmap.map.  -z defs: every reference resolved at
# link time (not under sanitizers: their runtime is resolved at load time).
VERSION_SCRIPT := pkg/lfmap.map
SO_LDFLAGS = -Wl,-soname,lib$(1).so.$(SOVER) -Wl,--version-script=$(VERSION_SCRIPT) \
	      $(if $(SANFLAGS),,-Wl,-z,defs)

# Per engine: its object, then the static archive, which holds one
# relocatable object: the modules linked together (ld -r), then every
# hidden symbol made local, so internal names (list_find, bucket_get, ...)
# cannot clash with a user program's; then the shared library.
define engine_rules
$(B)/obj/engine-$(1).o: $(ENGINE_SRC_$(1)) $(LIB_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $(ENGINE_CPPFLAGS_$(1)) $$(ALL_CFLAGS) -fvisibility=hidden -c $$< -o $$@

$(B)/pic/engine-$(1).o: $(ENGINE_SRC_$(1)) $(LIB_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $(ENGINE_CPPFLAGS_$(1)) $$(ALL_CFLAGS) -fPIC -fvisibility=hidden -DLFMAP_BUILD_SHARED -c $$< -o $$@

$(B)/lib$(call engine_lib,$(1)).a: $(LIB_OBJS) $(B)/obj/engine-$(1).o
	@rm -f $$@ $(B)/$(call engine_lib,$(1))-static.o
	$$(LD) -r -o $(B)/$(call engine_lib,$(1))-static.o $$^
	objcopy --localize-hidden $(B)/$(call engine_lib,$(1))-static.o
	ar rcs $$@ $(B)/$(call engine_lib,$(1))-static.o

$(B)/lib$(call engine_lib,$(1)).so.$(VERSION): $(LIB_PIC) $(B)/pic/engine-$(1).o $(VERSION_SCRIPT)
	$$(CC) -shared $$(call SO_LDFLAGS,$(call engine_lib,$(1))) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ \
		$(LIB_PIC) $(B)/pic/engine-$(1).o $(ENGINE_LIBS_$(1)) -pthread
	ln -sf lib$(call engine_lib,$(1)).so.$(VERSION) $(B)/lib$(call engine_lib,$(1)).so.$(SOVER)
	ln -sf lib$(call engine_lib,$(1)).so.$(SOVER) $(B)/lib$(call engine_lib,$(1)).so
endef
$(foreach e,$(ENGINES),$(eval $(call engine_rules,$(e))))

# ---- unit tests (Criterion) -------------------------------------------------
TEST_SRCS := $(wildcard tests/*.c)
TEST_BIN  := $(B)/tests/unit$(ENGSUF)
CRITERION_ARGS ?= --jobs 2

$(TEST_BIN): $(TEST_SRCS) $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc -DLFMAP_TEST_ENGINE_$(ENGINE) $(ALL_CFLAGS) -o $@ $(TEST_SRCS) $(LINK_LFMAP) -lcriterion -lm

test: deps lib $(TEST_BIN)
	@$(SAN_ENV) bash scripts/run-criterion.sh unit-$(VARIANT)$(ENGSUF) $(TEST_BIN) $(CRITERION_ARGS)

# ---- examples ---------------------------------------------------------------
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(B)/examples$(ENGSUF)/%)

$(B)/examples$(ENGSUF)/%: examples/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Werror -o $@ $< $(LINK_LFMAP)

# Sanitizer runtime options for programs run by this Makefile.  The TSan
# suppression file names liburcu only; nothing of lfmap is suppressed.
SAN_ENV := TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/stress/tsan.supp" \
	   ASAN_OPTIONS="detect_leaks=1 halt_on_error=1" \
	   UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"

examples: lib $(EXAMPLE_BINS)
	@pass=0; fail=0; for e in $(EXAMPLE_BINS); do \
		echo "== $$e"; \
		if $(SAN_ENV) $$e > $$e.out 2>&1; then pass=$$((pass + 1)); tail -n 3 $$e.out; \
		else fail=$$((fail + 1)); cat $$e.out; echo "== FAILED: $$e"; fi; done; \
	bash scripts/check-record.sh examples-$(VARIANT)$(ENGSUF) $$pass $$fail; [ $$fail -eq 0 ]

demo: lib $(B)/examples$(ENGSUF)/demo
	$(B)/examples$(ENGSUF)/demo

# ---- sanitizer and debug variants of the unit tests -------------------------
asan ubsan debug:
	$(MAKE) VARIANT=$@ test examples

# Criterion cannot start under ThreadSanitizer (its inheritable arena
# mapping fails: Criterion issue #274), so the TSan tier is the examples
# plus the TSan stress slice, which exercise the concurrent paths anyway.
tsan:
	$(MAKE) VARIANT=tsan examples
	$(MAKE) stress-tsan

valgrind: lib $(TEST_BIN)
	@bash scripts/deps.sh check
	# Criterion runs each test in a re-executed worker process: follow it.
	valgrind --trace-children=yes --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --fair-sched=yes \
	    $(TEST_BIN) --jobs 1

# ---- install ----------------------------------------------------------------
# Installs and uninstall live in pkg/pkg.mk, with the packaging checks.

clean:
	rm -rf build

# ---- other parts of the tree ------------------------------------------------
# Each directory owns its own fragment; each fragment adds its CI target to
# CHECK_TARGETS.
CHECK_TARGETS := test examples
-include stress/stress.mk
-include tla/tla.mk
-include bench/bench.mk
-include fuzz/fuzz.mk
-include pkg/pkg.mk

# Every engine but the default runs the same tiers on its own library:
# release unit tests and examples, the debug ones (debug builds carry the
# engines' misuse detectors, e.g. the QSBR stall watchdog), and the TSan
# and ASan stress slices (each with the linearizability mode) at
# ENGINE_STRESS_SCALE (smoke: ~15 s a slice; the default engine runs the
# ci slices).  About 1.5 min per engine on 2 cores.  One tier per
# engine, check-engine-<e>; its lines in the summary carry the engine's
# name (unit-release-qsbr, stress-tsan-qsbr, ...).
ENGINE_STRESS_SCALE ?= smoke
ENGINE_CHECKS := test examples debug stress-tsan stress-asan
define check_engine_rule
.PHONY: check-engine-$(1)
check-engine-$(1):
	@bash scripts/check-run.sh "$$(MAKE) ENGINE=$(1) STRESS_SCALE=$$(ENGINE_STRESS_SCALE)" $$(ENGINE_CHECKS)
endef
$(foreach e,$(ENGINES),$(eval $(call check_engine_rule,$(e))))
CHECK_TARGETS += $(foreach e,$(filter-out memb,$(ENGINES)),check-engine-$(e))

# The README's test command.  Every tier runs even after a failure; the
# last line is "N passed, N failed" over all tiers (scripts/check-run.sh
# says how a fragment's target is counted).
check: deps
	@bash scripts/check-run.sh --summary "$(MAKE)" $(CHECK_TARGETS)
