# tla/tla.mk - included by the top-level Makefile (paths are relative to the
# repository root).  See tla/README.md.
#
#   make tla        TLC: the default configuration passes and every mutant
#                   fails with its intended invariant (CI; a few minutes)
#   make tla-large  TLC: the larger configuration and the liveness checks
#                   (by hand; not in CI; long)

.PHONY: tla tla-large

tla:
	@bash tla/run.sh

tla-large:
	@bash tla/run.sh large

CHECK_TARGETS += tla
