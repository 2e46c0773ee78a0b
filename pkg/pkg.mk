# SPDX-License-Identifier: LGPL-2.1-or-later
# pkg/pkg.mk - install and the packaging checks (included by the Makefile).
#
#   make install PREFIX=X [DESTDIR=D]   every engine's library and .pc
#                          (ENGINES: liblfmap + lfmap.pc, liblfmap-qsbr +
#                          lfmap-qsbr.pc, ...), header, CMake package (a
#                          target pair per engine), man pages, TSan
#                          suppressions
#   make uninstall         the same files removed
#   make man               build/man/man3/*.3 from include/lfmap.h
#   make check-pkg         every check below (in make check; ~40 s)
#     check-exports        per engine: nm -D of the .so == the header's
#                          LFMAP_API list (less other engines' LFMAP_ENGINE
#                          calls), and the .a defines no other global symbol
#     check-abi            per engine: abidiff of the .so against
#                          abi/lib<name>.abi
#     check-ldflags        LDFLAGS reaches the .so link
#     check-build-deps     make / make install run no deps.sh or apt-get
#     test-shared          the unit tests linked against liblfmap.so
#     examples-shared      the examples linked against liblfmap.so
#     check-consumers      install into a temporary PREFIX; a program outside
#                          the tree built with pkg-config (shared and
#                          --static) and with CMake find_package(lfmap)
#     check-man            a page for every LFMAP_API call, synopsis = header
#     check-readme         the README's usage example compiles warning-free
#     check-spdx           an SPDX line atop every source file
#     check-layers         src/, stress/, bench/: no include or call from a
#                          lower floor up (scripts/layers.txt), no circle;
#                          the graph in build/layers-graph.txt
#   make abi-update        regenerate abi/lib*.abi after a deliberate ABI
#                          change (commit the result)

.PHONY: install uninstall man check-pkg check-exports check-abi abi-update check-layers \
	test-shared examples-shared check-consumers check-man check-readme \
	check-spdx check-ldflags check-build-deps

CMAKEDIR  ?= $(LIBDIR)/cmake/lfmap
PKGDATADIR ?= $(DATADIR)/lfmap
MAN_DIR   := $(B)/man/man3
ABI_BASELINE = abi/lib$(call engine_lib,$(1)).abi

# pkg-config and CMake files are written at install time, so they carry the
# PREFIX of that command.  lfmap.pc uses ${prefix}-relative paths where the
# directories lie under the prefix.
pc_rel = $(patsubst $(PREFIX)%,$${prefix}%,$(1))
PC_SED = -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|' \
	 -e 's|@INCDIR@|$(call pc_rel,$(INCDIR))|' -e 's|@VERSION@|$(VERSION)|'
CMAKE_SED = -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCDIR@|$(INCDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOVER@|$(SOVER)|g'
# Per engine $(1): its library name, its engine's pkg-config package and
# link flags (the Makefile's ENGINE_PC_e and ENGINE_LIBS_e), its CMake
# target names (lfmap::lfmap, lfmap::lfmap_qsbr and their _static).
ENGINE_SED = -e 's|@NAME@|$(call engine_lib,$(1))|g' -e 's|@ENGINE@|$(1)|g' \
	     -e 's|@ENGINE_PC@|$(ENGINE_PC_$(1))|g' -e 's|@ENGINE_LIBS@|$(ENGINE_LIBS_$(1))|g' \
	     -e 's|@TARGET@|$(subst -,_,$(call engine_lib,$(1)))|g' \
	     -e 's|@CMAKE_LIBS@|$(subst $(space),;,$(patsubst -l%,%,$(ENGINE_LIBS_$(1))))|g'
space := $(subst ,, )

man: lib
	@rm -rf $(MAN_DIR)
	python3 scripts/gen-man.py include/lfmap.h $(MAN_DIR) $(VERSION)

install: lib man
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(PKGDATADIR)
	install -m 644 include/lfmap.h $(DESTDIR)$(INCDIR)/
	sed $(CMAKE_SED) pkg/lfmapConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/lfmapConfig.cmake
	$(foreach e,$(ENGINES),$(call install_engine,$(e)))
	sed $(CMAKE_SED) pkg/lfmapConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/lfmapConfigVersion.cmake
	install -m 644 $(MAN_DIR)/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 stress/tsan.supp $(DESTDIR)$(PKGDATADIR)/tsan.supp

# One engine's library, links, .pc and CMake targets (appended to
# lfmapConfig.cmake).
define install_engine
install -m 644 $(B)/lib$(call engine_lib,$(1)).a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/lib$(call engine_lib,$(1)).so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf lib$(call engine_lib,$(1)).so.$(VERSION) $(DESTDIR)$(LIBDIR)/lib$(call engine_lib,$(1)).so.$(SOVER)
	ln -sf lib$(call engine_lib,$(1)).so.$(SOVER) $(DESTDIR)$(LIBDIR)/lib$(call engine_lib,$(1)).so
	sed $(PC_SED) $(call ENGINE_SED,$(1)) lfmap.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/$(call engine_lib,$(1)).pc
	sed $(CMAKE_SED) $(call ENGINE_SED,$(1)) pkg/lfmapTargets.cmake.in >> $(DESTDIR)$(CMAKEDIR)/lfmapConfig.cmake
	
endef

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/lfmap.h \
	      $(foreach e,$(ENGINES),$(DESTDIR)$(LIBDIR)/lib$(call engine_lib,$(e)).a \
	        $(DESTDIR)$(LIBDIR)/lib$(call engine_lib,$(e)).so* \
	        $(DESTDIR)$(LIBDIR)/pkgconfig/$(call engine_lib,$(e)).pc) \
	      $(DESTDIR)$(CMAKEDIR)/lfmapConfig.cmake \
	      $(DESTDIR)$(CMAKEDIR)/lfmapConfigVersion.cmake \
	      $(DESTDIR)$(MANDIR)/man3/lfmap.3 $(DESTDIR)$(MANDIR)/man3/lfmap_*.3 \
	      $(DESTDIR)$(PKGDATADIR)/tsan.supp
	-rmdir $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(PKGDATADIR) 2>/dev/null

# ---- checks -----------------------------------------------------------------
lib_of = $(B)/lib$(call engine_lib,$(1))
check-exports: lib
	@$(foreach e,$(ENGINES),bash scripts/check-exports.sh include/lfmap.h \
		$(call lib_of,$(e)).so.$(VERSION) $(call lib_of,$(e)).a $(e) &&) true

# abidiff exit status: 0 identical; bit 4 a change; bit 8 an incompatible one.
# Any difference fails: an added function is an ABI change too, made on
# purpose with `make abi-update`.  One baseline per engine's library.
ABIDIFF_OPTS := --headers-dir1 include --headers-dir2 include
check-abi: lib
	@bash scripts/deps.sh pkg
	@fail=0; for e in $(ENGINES); do \
	  name=$$( [ $$e = memb ] && echo lfmap || echo lfmap-$$e ); \
	  base=abi/lib$$name.abi; so=$(B)/lib$$name.so.$(VERSION); \
	  if abidiff $(ABIDIFF_OPTS) $$base $$so > $(B)/abidiff-$$e.out 2>&1; then \
	    echo "check-abi: $$so has the ABI of $$base"; \
	  else rc=$$?; fail=1; cat $(B)/abidiff-$$e.out; \
	    echo "check-abi: the ABI of $$so differs from $$base (abidiff exit $$rc;" \
	         "incompatible: $$( [ $$(( rc & 8 )) -ne 0 ] && echo yes || echo no ))."; \
	    echo "  If the change is intended (a new call, a new struct field taken from" \
	         "reserved words), run 'make abi-update', commit abi/ and say" \
	         "why in CHANGELOG.md.  An incompatible change also needs a new SOVER (README, ABI)."; \
	  fi; done; exit $$fail

abi-update: lib
	$(foreach e,$(ENGINES),abidw --no-corpus-path --headers-dir include $(call lib_of,$(e)).so.$(VERSION) | \
		sed "s| comp-dir-path='[^']*'||" > $(call ABI_BASELINE,$(e)) &&) true
	@echo "abi-update: wrote abi/lib*.abi; commit them with the change that needed them"

SHARED_RPATH := -L$(B) -Wl,-rpath,$(CURDIR)/$(B) -llfmap
test-shared: deps lib $(TEST_SRCS)
	@mkdir -p $(B)/tests
	$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) -o $(B)/tests/unit-shared $(TEST_SRCS) \
		$(SHARED_RPATH) $(LIBS) $(SANFLAGS) -lcriterion -lm
	@ldd $(B)/tests/unit-shared | grep -q 'liblfmap.so.$(SOVER) => $(CURDIR)/$(B)/' || \
		{ echo "test-shared: not linked against $(B)/liblfmap.so.$(SOVER)"; exit 1; }
	@bash scripts/run-criterion.sh unit-shared $(B)/tests/unit-shared $(CRITERION_ARGS)

examples-shared: lib
	@mkdir -p $(B)/examples-shared
	@pass=0; fail=0; for e in $(EXAMPLE_SRCS); do \
	  n=$$(basename $$e .c); bin=$(B)/examples-shared/$$n; \
	  if $(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Werror -o $$bin $$e $(SHARED_RPATH) $(LIBS) $(SANFLAGS) \
	     && $(SAN_ENV) $$bin > $$bin.out 2>&1; then pass=$$((pass+1)); \
	     echo "examples-shared: $$n ok"; \
	  else fail=$$((fail+1)); tail -n 20 $$bin.out 2>/dev/null; echo "examples-shared: $$n FAILED"; fi; \
	done; bash scripts/check-record.sh examples-shared $$pass $$fail; [ $$fail -eq 0 ]

check-consumers: lib
	@bash scripts/deps.sh pkg
	@ENGINES="$(ENGINES)" bash scripts/check-consumers.sh "$(MAKE)"

check-man: man
	@bash scripts/deps.sh pkg
	@bash scripts/check-man.sh include/lfmap.h $(MAN_DIR)

check-readme: lib
	@bash scripts/check-readme.sh README.md $(B)

check-spdx:
	@bash scripts/check-spdx.sh

# make and make install run neither scripts/deps.sh nor apt-get, and do not
# touch Criterion (they must work on a machine with only liburcu-dev).
check-build-deps:
	@out=$$($(MAKE) --no-print-directory -n -B lib install PREFIX=/tmp/lfmap-n 2>&1); \
	if echo "$$out" | grep -E 'deps\.sh|apt-get|criterion' >/dev/null; then \
	  echo "$$out" | grep -E 'deps\.sh|apt-get|criterion'; \
	  echo "check-build-deps: make / make install would run the lines above"; exit 1; \
	else echo "check-build-deps: make and make install run no deps.sh, apt-get or Criterion"; fi

# The .so link honours LDFLAGS (Debian's hardening: -Wl,-z,now).
check-ldflags:
	@$(MAKE) --no-print-directory -s B=build/ldflags-check LDFLAGS="-Wl,-z,now" \
		build/ldflags-check/liblfmap.so.$(VERSION)
	@readelf -d build/ldflags-check/liblfmap.so.$(VERSION) | grep -q 'BIND_NOW' && \
		echo "check-ldflags: LDFLAGS=-Wl,-z,now reaches the .so link (BIND_NOW)" || \
		{ echo "check-ldflags: LDFLAGS did not reach the .so link (no BIND_NOW)"; exit 1; }

# Layers with arrows one way (issue 11): the include (cc -MM) and call (nm
# on the objects) edges of src/, stress/ and bench/ against the floors of
# scripts/layers.txt; fails on an upward edge, a circle, or a file on no
# floor.  Every edge checked goes to build/layers-graph.txt.  ~15 s.  An
# engine compiled with flags of its own (qsbr: -DLFMAP_ENGINE_QSBR) is
# checked again with them (build/layers-ENGINE/), so its own code paths
# (liblfmap-qsbr's lfmap_quiescent_state) cannot call up unseen.
check-layers:
	@bash scripts/deps.sh pkg bench
	CC="$(CC)" CXX="$(CXX)" python3 scripts/check-layers.py scripts/layers.txt build
	$(foreach e,$(ENGINES),$(if $(ENGINE_CPPFLAGS_$(e)),CC="$(CC)" CXX="$(CXX)" \
		CPPFLAGS_EXTRA="$(ENGINE_CPPFLAGS_$(e))" python3 scripts/check-layers.py \
		scripts/layers.txt build/layers-$(e) &&)) true

# One target for CHECK_TARGETS; each sub-check records its own line.
PKG_CHECKS := check-spdx check-build-deps check-exports check-abi check-ldflags check-man check-readme \
	check-layers examples-shared test-shared check-consumers
check-pkg:
	@bash scripts/check-run.sh "$(MAKE)" $(PKG_CHECKS)

CHECK_TARGETS += check-pkg
