/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_lfmap_ck.c - the lfmap adaptor (map_lfmap.c) against liblfmap-ck:
 * row lfmap-ck.  bench.mk renames this object's lfmap_* references (and
 * the library's definitions) to lfmapck_*.
 */
#define BENCH_LFMAP_CK 1
#include "map_lfmap.c"
