# SPDX-License-Identifier: LGPL-2.1-or-later
# tla/tla.mk - included by the top-level Makefile (paths are relative to the
# repository root).  See tla/README.md.
#
#   make tla        TLC: the default configuration passes and every mutant
#                   fails with its intended invariant (CI; a few minutes)
#   make tla-large  TLC: the larger configuration, the liveness checks and
#                   the larger resize-progress configurations
#                   (by hand; not in CI; long)

.PHONY: tla tla-large

# make check counts one item per TLC configuration (PASS/FAIL lines).
tla:
	@mkdir -p build
	@bash -o pipefail -c 'bash tla/run.sh | tee build/tla-run.log'; rc=$$?; \
	bash scripts/check-record.sh tla $$(grep -c '^tla: .* PASS ' build/tla-run.log) \
		$$(grep -c '^tla: .* FAIL ' build/tla-run.log); exit $$rc

tla-large:
	@bash tla/run.sh large

CHECK_TARGETS += tla
