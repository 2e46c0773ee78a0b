# SPDX-License-Identifier: LGPL-2.1-or-later
# lfmap - top-level Makefile.
#
#   make                 library (static + shared) in build/release; needs
#                        only a C11 compiler and liburcu-dev, installs nothing
#   make check           everything CI runs: unit tests, examples, TLA+,
#                        TSan and ASan stress slices, packaging checks (the
#                        README's test command; installs its dependencies
#                        first; ends with "N passed, N failed")
#   make test            Criterion unit tests only
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
URCU_LIBS := -lurcu-memb -lurcu-common
LIBS      := $(URCU_LIBS) -pthread

LIB_SRCS := src/debug.c src/counter.c src/hash.c src/slab.c src/reclaim.c src/engine_urcu.c src/list.c \
            src/bucket.c src/entry.c src/lfmap.c src/abi.c src/lookup.c
LIB_HDRS := include/lfmap.h $(wildcard src/*.h)
LIB_PIC  := $(LIB_SRCS:src/%.c=$(B)/pic/%.o)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
STATIC   := $(B)/liblfmap.a
SHARED   := $(B)/liblfmap.so.$(VERSION)

# Programs in this tree link the static library: no LD_LIBRARY_PATH games.
LINK_LFMAP = $(STATIC) $(LIBS) $(SANFLAGS)

.PHONY: all lib deps check test examples demo install uninstall clean \
        tsan asan ubsan debug valgrind
.DEFAULT_GOAL := all

all: lib
# Building the library needs a C compiler and liburcu-dev only, and never
# installs anything: `make check` and `make bench` run scripts/deps.sh.
lib: $(STATIC) $(SHARED)

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

# The static archive holds one relocatable object: the modules linked
# together (ld -r), then every hidden symbol made local, so internal names
# (list_find, bucket_get, ...) cannot clash with a user program's.
$(STATIC): $(LIB_OBJS)
	@rm -f $@ $(B)/lfmap-static.o
	$(LD) -r -o $(B)/lfmap-static.o $^
	objcopy --localize-hidden $(B)/lfmap-static.o
	ar rcs $@ $(B)/lfmap-static.o

# Symbol versions: pkg/lfmap.map.  -z defs: every reference resolved at
# link time (not under sanitizers: their runtime is resolved at load time).
VERSION_SCRIPT := pkg/lfmap.map
SO_LDFLAGS := -Wl,-soname,liblfmap.so.$(SOVER) -Wl,--version-script=$(VERSION_SCRIPT) \
	      $(if $(SANFLAGS),,-Wl,-z,defs)
$(SHARED): $(LIB_PIC) $(VERSION_SCRIPT)
	$(CC) -shared $(SO_LDFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(LIB_PIC) $(LIBS)
	ln -sf liblfmap.so.$(VERSION) $(B)/liblfmap.so.$(SOVER)
	ln -sf liblfmap.so.$(SOVER) $(B)/liblfmap.so

# ---- unit tests (Criterion) -------------------------------------------------
TEST_SRCS := $(wildcard tests/*.c)
TEST_BIN  := $(B)/tests/unit
CRITERION_ARGS ?= --jobs 2

$(TEST_BIN): $(TEST_SRCS) $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) -o $@ $(TEST_SRCS) $(LINK_LFMAP) -lcriterion -lm

test: deps lib $(TEST_BIN)
	@$(SAN_ENV) bash scripts/run-criterion.sh unit-$(VARIANT) $(TEST_BIN) $(CRITERION_ARGS)

# ---- examples ---------------------------------------------------------------
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(B)/examples/%)

$(B)/examples/%: examples/%.c $(STATIC)
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
	bash scripts/check-record.sh examples-$(VARIANT) $$pass $$fail; [ $$fail -eq 0 ]

demo: lib $(B)/examples/demo
	$(B)/examples/demo

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

# The README's test command.  Every tier runs even after a failure; the
# last line is "N passed, N failed" over all tiers (scripts/check-run.sh
# says how a fragment's target is counted).
check: deps
	@bash scripts/check-run.sh --summary "$(MAKE)" $(CHECK_TARGETS)
