/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modes.h - the stress modes main dispatches to (stress.c's mode table).
 * A new mode is one mode_NAME.c defining run_NAME and one table row.
 */
#ifndef STRESS_MODES_H
#define STRESS_MODES_H

#include "harness.h"

void run_mixed(void);
void run_contend(void);
void run_lin(void);

/* mode_mixed.c: one random weighted op (also the contend free-for-all). */
void op_random(struct worker *w);
/* sum of cfg.weights, set by main once options are parsed */
extern unsigned weight_total;

#endif
