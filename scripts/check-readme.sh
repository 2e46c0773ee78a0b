#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-readme.sh README BUILDDIR - the README's promises about the
# header hold:
#   - its usage example (the first ```c block after "## Usage") compiles
#     with -Wall -Wextra -pedantic -Wstrict-aliasing=2 -Werror as C99 and
#     C11, links against BUILDDIR/liblfmap.a and runs successfully;
#   - include/lfmap.h alone compiles as C99 and as C++11 without a warning
#     (the minimum standards the README states).
set -uo pipefail
readme=$1 b=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^## Usage/ { u = 1 } u && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' \
	"$readme" > "$tmp/usage.c"
if [ ! -s "$tmp/usage.c" ]; then
	echo "check-readme: no \`\`\`c block after '## Usage' in $readme" >&2
	exit 1
fi
fail=0
warn="-Wall -Wextra -pedantic -Wstrict-aliasing=2 -Werror -O2"
for std in c99 c11; do
	if cc -std=$std $warn -Iinclude -o "$tmp/usage" "$tmp/usage.c" "$b/liblfmap.a" \
		-lurcu-memb -lurcu-common -pthread && "$tmp/usage" > "$tmp/out"; then
		echo "check-readme: usage example, -std=$std: builds warning-free, runs: $(head -n 1 "$tmp/out")"
	else
		echo "check-readme: the usage example in $readme fails with -std=$std $warn" >&2
		fail=1
	fi
done
printf '#include <lfmap.h>\nint main(void) { return lfmap_version() != LFMAP_VERSION; }\n' > "$tmp/h.c"
cp "$tmp/h.c" "$tmp/h.cpp"
if cc -std=c99 -Wall -Wextra -pedantic -Werror -Iinclude -c -o "$tmp/h.o" "$tmp/h.c" &&
	c++ -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c -o "$tmp/hpp.o" "$tmp/h.cpp"; then
	echo "check-readme: include/lfmap.h compiles as C99 and C++11 warning-free"
else
	echo "check-readme: include/lfmap.h does not compile warning-free as C99 / C++11" >&2
	fail=1
fi
exit $fail
