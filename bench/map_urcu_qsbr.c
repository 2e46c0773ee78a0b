/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map_urcu_qsbr.c - the cds_lfht adaptor (map_urcu.c) on liburcu's
 * urcu-qsbr flavour: row cds_lfht_qsbr.
 */
#define URCU_BENCH_QSBR 1
#include "map_urcu.c"
