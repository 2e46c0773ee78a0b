/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * abi.h - the ABI rules of the public structs (src/abi.c).
 */
#ifndef LFMAP_ABI_H
#define LFMAP_ABI_H

#include <stdbool.h>

#include "lfmap.h"

/* True when every reserved word of opts is zero (lfmap_create's rule). */
__attribute__((visibility("hidden"))) bool
abi_options_reserved_zero(const lfmap_options *opts);

#endif /* LFMAP_ABI_H */
