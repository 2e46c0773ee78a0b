#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-spdx.sh - every source file of the tree (C, C++, headers,
# shell, make, Python, CMake, TLA+ modules and TLC configurations, linker
# and suppression files, .in templates) carries the line
#     SPDX-License-Identifier: LGPL-2.1-or-later
# within its first 3 lines (after a #! line, or in a TLA+ comment before
# the MODULE line).  Generated outputs (bench/results/) are exempt.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
want='SPDX-License-Identifier: LGPL-2.1-or-later'
n=0 missing=()
while IFS= read -r f; do
	[ -f "$f" ] || continue
	case "$f" in
	bench/results/*) continue ;;
	*.c | *.h | *.cpp | *.sh | *.mk | *.py | *.tla | *.cfg | *.map | *.supp | \
		*.in | *.cmake | */CMakeLists.txt | CMakeLists.txt | Makefile | */Makefile | \
		.ci/run | *.gp) ;;
	*) continue ;;
	esac
	n=$((n + 1))
	grep -qF "$want" <<< "$(head -n 3 "$f")" || missing+=("$f")
done < <(git ls-files --cached --others --exclude-standard | sort -u)
if [ ${#missing[@]} -gt 0 ]; then
	echo "check-spdx: ${#missing[@]} of $n source files lack '$want' in their first 3 lines:" >&2
	printf '    %s\n' "${missing[@]}" >&2
	echo "  -> add as the first line (after any #! line): '/* $want */' (C)," >&2
	echo "     '# $want' (shell, make, CMake, Python), '\\* $want' (TLA+, .cfg)." >&2
	exit 1
fi
echo "check-spdx: all $n source files carry '$want'"
