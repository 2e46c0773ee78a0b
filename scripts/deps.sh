#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/deps.sh GROUP... - install what a make target needs on Debian
# bookworm, as root.  A no-op when everything is already present, so make
# can call it before every target that needs it.
#
# Groups:
#   core   compiler, liburcu, libck, Criterion, pkg-config (library, tests)
#   bench  Concurrency Kit, oneTBB, libcuckoo, g++, gnuplot, valgrind,
#          python3 (bench/profile.py)                   (make bench)
#   tla    Java and Maven (TLC is fetched by tla/fetch-tlc.sh)
#   pkg    abigail-tools, cmake, python3                (make check-pkg: ABI, CMake consumer, man pages)
#   check  valgrind                                     (make valgrind)
#   fuzz   clang and its libFuzzer/sanitizer runtimes   (make fuzz)
set -euo pipefail

pkgs_core="gcc make pkg-config liburcu-dev libck-dev libcriterion-dev"
pkgs_bench="g++ libck-dev libtbb-dev libcuckoo-dev gnuplot-nox valgrind python3"
pkgs_tla="default-jre-headless maven"
pkgs_check="valgrind"
pkgs_fuzz="clang libclang-rt-14-dev"
pkgs_pkg="abigail-tools cmake python3"

want=()
for group in "${@:-core}"; do
	var="pkgs_${group}"
	if [ -z "${!var+x}" ]; then
		echo "deps.sh: unknown group '$group'" >&2
		exit 2
	fi
	for p in ${!var}; do
		# Java and Maven may come from elsewhere (the image ships them).
		case "$p" in
		default-jre-headless) command -v java >/dev/null && continue ;;
		maven) command -v mvn >/dev/null && continue ;;
		esac
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || want+=("$p")
	done
done

[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${want[*]}" >&2
	echo "deps.sh: run as root, or: apt-get install ${want[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
