#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/check-consumers.sh MAKE - install into a temporary PREFIX and build
# pkg/consumer/app.c outside the tree the ways a user would:
#   pkg-config          cc app.c $(pkg-config --cflags --libs lfmap)
#   pkg-config static   cc -static app.c $(pkg-config --static --cflags --libs lfmap)
#   CMake               find_package(lfmap) + lfmap::lfmap / lfmap::lfmap_static
# (Pipes into grep -q are avoided: under pipefail the writer's SIGPIPE
# would fail the check at random.)
# then run each, check what it is linked against, and check the installed
# lfmap.pc names the PREFIX and `man 3 lfmap_put` finds the page.
set -uo pipefail
make=$1
root=$(pwd)
tmp=$(mktemp -d /tmp/lfmap-consumer.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
pass=0 fail=0
ok() { echo "check-consumers: $1 ok"; pass=$((pass + 1)); }
bad() { echo "check-consumers: $1 FAILED" >&2; fail=$((fail + 1)); }

if ! $make --no-print-directory install PREFIX="$prefix" > "$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	bad "make install PREFIX=$prefix"
	bash "$root/scripts/check-record.sh" check-consumers $pass $fail
	exit 1
fi
cp "$root/pkg/consumer/app.c" "$root/pkg/consumer/CMakeLists.txt" "$tmp/"
cd "$tmp" || exit 1
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
CFLAGS_USER="-std=c11 -Wall -Wextra -pedantic -Werror -O2"

# lfmap.pc carries this PREFIX, with ${prefix}-relative paths.
if grep -qx "prefix=$prefix" "$prefix/lib/pkgconfig/lfmap.pc" &&
	grep -qx 'libdir=${prefix}/lib' "$prefix/lib/pkgconfig/lfmap.pc" &&
	[ "$(pkg-config --variable=includedir lfmap)" = "$prefix/include" ]; then
	ok "lfmap.pc (prefix=$prefix)"
else
	cat "$prefix/lib/pkgconfig/lfmap.pc" >&2
	bad "lfmap.pc (prefix=$prefix)"
fi

# shellcheck disable=SC2046
if cc $CFLAGS_USER -o app_pc app.c $(pkg-config --cflags --libs lfmap) \
	-Wl,-rpath,"$prefix/lib" && ./app_pc &&
	grep -q "liblfmap.so.0 => $prefix/lib/liblfmap.so.0" <<< "$(ldd ./app_pc)"; then
	ok "pkg-config, shared"
else
	bad "pkg-config, shared"
fi

# shellcheck disable=SC2046
if cc $CFLAGS_USER -static -o app_pc_static app.c \
	$(pkg-config --static --cflags --libs lfmap) && ./app_pc_static &&
	! ldd ./app_pc_static > /dev/null 2>&1; then
	ok "pkg-config --static (a fully static program)"
else
	bad "pkg-config --static"
fi

# The other engines' libraries (ENGINES, from make): pkg-config lfmap-E
# links liblfmap-E, shared and --static.
for e in ${ENGINES:-memb qsbr}; do
	[ "$e" = memb ] && continue
	# shellcheck disable=SC2046
	if cc $CFLAGS_USER -o "app_$e" app.c $(pkg-config --cflags --libs "lfmap-$e") \
		-Wl,-rpath,"$prefix/lib" && "./app_$e" &&
		grep -q "liblfmap-$e.so.0 => $prefix/lib/liblfmap-$e.so.0" <<< "$(ldd "./app_$e")" &&
		cc $CFLAGS_USER -static -o "app_${e}_static" app.c \
		$(pkg-config --static --cflags --libs "lfmap-$e") && "./app_${e}_static"; then
		ok "pkg-config lfmap-$e, shared and --static"
	else
		bad "pkg-config lfmap-$e"
	fi
done

if cmake -S . -B build -DCMAKE_PREFIX_PATH="$prefix" > cmake.log 2>&1 &&
	cmake --build build >> cmake.log 2>&1 &&
	./build/app_shared && ./build/app_static && ./build/app_qsbr && ./build/app_qsbr_static &&
	grep -q "liblfmap-qsbr.so.0 => $prefix/lib/" <<< "$(ldd ./build/app_qsbr)" &&
	grep -q "liblfmap.so.0 => $prefix/lib/" <<< "$(ldd ./build/app_shared)" &&
	! grep -q liblfmap <<< "$(ldd ./build/app_static)"; then
	ok "CMake find_package(lfmap), lfmap::lfmap[_qsbr] and lfmap::lfmap[_qsbr]_static"
else
	cat cmake.log >&2
	bad "CMake find_package(lfmap)"
fi

# examples/Makefile, copied out of the tree, against the installed library.
cp -r "$root/examples" "$tmp/examples"
if make -s -C examples CFLAGS="-O2 -Werror" LDFLAGS="-Wl,-rpath,$prefix/lib" run > examples.log 2>&1 &&
	make -s -C examples clean && make -s -C examples CFLAGS="-O2 -Werror" STATIC=1 all >> examples.log 2>&1 &&
	./examples/reaper >> examples.log 2>&1; then
	ok "examples/Makefile (pkg-config, shared and STATIC=1), every example runs"
else
	cat examples.log >&2
	bad "examples/Makefile"
fi

# find_package(lfmap 9.9) must be refused by the version file.
mkdir -p vcheck
cat > vcheck/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.13)
project(v C)
find_package(lfmap 9.9 QUIET)
if(lfmap_FOUND)
  message(FATAL_ERROR "lfmap 9.9 accepted")
endif()
CM
if cmake -S vcheck -B vcheck/build -DCMAKE_PREFIX_PATH="$prefix" > vcheck.log 2>&1; then
	ok "lfmapConfigVersion.cmake refuses 9.9"
else
	cat vcheck.log >&2
	bad "lfmapConfigVersion.cmake"
fi

if grep -q "$prefix/share/man/man3/lfmap_put.3" <<< "$(MANPATH="$prefix/share/man" man -w 3 lfmap_put 2>/dev/null)" &&
	grep -q 'RETURN VALUE' <<< "$(MANPATH="$prefix/share/man" MANWIDTH=80 man 3 lfmap_put 2>/dev/null)" &&
	[ -f "$prefix/share/lfmap/tsan.supp" ]; then
	ok "MANPATH=$prefix/share/man man 3 lfmap_put; share/lfmap/tsan.supp"
else
	bad "man pages or share/lfmap/tsan.supp"
fi

cd "$root" || exit 1
if $make --no-print-directory uninstall PREFIX="$prefix" > "$tmp/un.log" 2>&1 &&
	[ -z "$(find "$prefix" -type f)" ]; then
	ok "make uninstall removes every installed file"
else
	find "$prefix" -type f >&2
	bad "make uninstall"
fi
bash "$root/scripts/check-record.sh" check-consumers $pass $fail
echo "check-consumers: $pass passed, $fail failed"
[ $fail -eq 0 ]
