/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_lfmap_qsbr.c - the lfmap adaptor (map_lfmap.c) against
 * liblfmap-qsbr: rows lfmap-qsbr and lfmap-qsbr-offline.  bench.mk renames
 * this object's lfmap_* references (and the library's definitions) to
 * lfmapqsbr_*.
 */
#define BENCH_LFMAP_QSBR 1
#include "map_lfmap.c"
