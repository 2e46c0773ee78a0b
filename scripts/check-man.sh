#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-man.sh HEADER MANDIR - the man pages cover the header.
#   - every LFMAP_API function and every static inline wrapper has a page
#     (its own, or a .so link to its group's page) in MANDIR;
#   - each declaration appears, whitespace-normalised, in its page's
#     SYNOPSIS, and each page has the sections users look for;
#   - groff formats every page without a warning.
set -uo pipefail
header=$1 dir=$2
fail=0
norm() { tr '\n\t' '  ' | sed -e 's/  */ /g' -e 's/( /(/g' -e 's/ )/)/g' -e 's/^ //' -e 's/ $//'; }
# Declarations, one per line, normalised.
decls=$(awk '/^LFMAP_API /,/;/' "$header" | norm | sed 's/; */;\n/g' |
	sed -e 's/^ *LFMAP_API //' -e 's/ *LFMAP_ENGINE([a-z0-9_]*)//' -e '/^$/d')
wrappers=$(grep -E '^static inline [^;]*lfmap_[a-z0-9_]+\(' "$header" |
	sed -E 's/.*(lfmap_[a-z0-9_]+)\(.*/\1/')
n=0
while IFS= read -r d; do
	[ -n "$d" ] || continue
	name=$(echo "$d" | sed -E 's/^[^(]*[^a-z0-9_(](lfmap_[a-z0-9_]+)\(.*/\1/')
	page="$dir/$name.3"
	if [ ! -f "$page" ]; then
		echo "check-man: $name (declared in $header) has no page $page" >&2
		echo "  -> give its declaration a doc comment 'name - summary' right above it" >&2
		echo "     (scripts/gen-man.py makes a page per commented group)" >&2
		fail=1; continue
	fi
	target=$page
	if grep -q '^\.so ' "$page"; then
		target="$dir/$(sed -n 's|^\.so man3/||p' "$page")"
	fi
	syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$target" | sed 's/\\-/-/g; s/\\e/\\/g' | norm)
	if ! grep -qF -- "$d" <<< "$syn"; then
		echo "check-man: $target: SYNOPSIS lacks: $d" >&2
		fail=1
	fi
	for s in NAME SYNOPSIS DESCRIPTION 'RETURN VALUE' ERRORS THREADS 'SEE ALSO'; do
		grep -q "^\.SH $s\$" "$target" || { echo "check-man: $target: no $s section" >&2; fail=1; }
	done
	n=$((n + 1))
done <<< "$decls"
for w in $wrappers; do
	[ -f "$dir/$w.3" ] || { echo "check-man: wrapper $w has no page" >&2; fail=1; }
done
warn=$(cd "$dir/.." && groff -man -ww -z -Tutf8 man3/*.3 2>&1)
if [ -n "$warn" ]; then
	echo "check-man: groff warnings:" >&2
	echo "$warn" >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "check-man: $n declarations and $(echo $wrappers | wc -w) wrappers have pages; synopses match $header"
exit $fail
