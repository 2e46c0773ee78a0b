#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-exports.sh HEADER SHARED STATIC [ENGINE] - what the build
# exports is what the header declares.
#
#   The functions of a library are those declared with LFMAP_API, less
#   those marked LFMAP_ENGINE(e) for an engine e other than ENGINE (default
#   memb): an engine's own calls are in its library only.
#
#   1. the dynamic symbols the shared library defines (nm -D) are exactly
#      the functions include/lfmap.h declares with LFMAP_API, each at
#      version LFMAP_0.1 (or a later LFMAP_x.y node of pkg/lfmap.map);
#   2. the static archive defines no global symbol but those functions
#      (internal names such as list_find must not clash with a user's).
set -euo pipefail
header=$1 shared=$2 static=$3 engine=${4:-memb}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declarations: "LFMAP_API <type> name(" at the start of a line.
grep -E '^LFMAP_API' "$header" |
	grep -Ev "LFMAP_ENGINE\((\w*)\)" > "$tmp/decls" || true
grep -E "^LFMAP_API.*LFMAP_ENGINE\($engine\)" "$header" >> "$tmp/decls" || true
sed -n 's/^LFMAP_API[^(]*[^A-Za-z0-9_(]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$tmp/decls" |
	sort -u > "$tmp/header"
nm -D --defined-only "$shared" | awk '$2 ~ /[TtWwDdBbRr]/ {print $3}' |
	grep -v '^LFMAP_[0-9.]*$' | sort -u > "$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" | sort -u > "$tmp/shared"
nm -g --defined-only "$static" | awk 'NF == 3 {print $3}' | sort -u > "$tmp/static"

fail=0
missing=$(comm -23 "$tmp/header" "$tmp/shared")
extra=$(comm -13 "$tmp/header" "$tmp/shared")
if [ -n "$missing" ]; then
	echo "check-exports: declared with LFMAP_API in $header but not exported by $shared:" >&2
	echo "$missing" | sed 's/^/    /' >&2
	echo "  -> define each in a file listed in LIB_SRCS (Makefile), without 'static'." >&2
	fail=1
fi
if [ -n "$extra" ]; then
	echo "check-exports: exported by $shared but not declared with LFMAP_API in $header:" >&2
	echo "$extra" | sed 's/^/    /' >&2
	echo "  -> a public call: add 'LFMAP_API <prototype>;' with its doc comment to $header;" >&2
	echo "     an internal one: give it a module prefix (list_, bucket_, ...) and do not" >&2
	echo "     mark it visible; pkg/lfmap.map exports lfmap_* names that are not hidden." >&2
	fail=1
fi
unversioned=$(grep -v '@@\?LFMAP_[0-9]*\.[0-9]*$' "$tmp/versioned" || true)
if [ -n "$unversioned" ]; then
	echo "check-exports: exported without an LFMAP_x.y version (pkg/lfmap.map):" >&2
	echo "$unversioned" | sed 's/^/    /' >&2
	fail=1
fi
leaked=$(comm -13 "$tmp/header" "$tmp/static")
if [ -n "$leaked" ]; then
	echo "check-exports: global symbols in $static that the header does not declare:" >&2
	echo "$leaked" | sed 's/^/    /' >&2
	echo "  -> internal functions must be hidden (the Makefile compiles with" >&2
	echo "     -fvisibility=hidden; do not mark them LFMAP_API or visibility(\"default\"))," >&2
	echo "     so that objcopy --localize-hidden makes them local in the archive." >&2
	fail=1
fi
n=$(wc -l < "$tmp/header")
if [ $fail -eq 0 ]; then
	echo "check-exports: $engine: $n functions declared = exported by $(basename "$shared") (versioned) = global in $(basename "$static")"
fi
exit $fail
