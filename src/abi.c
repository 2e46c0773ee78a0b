/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * abi.c - the library's version and the rules that let the public structs
 * grow without an ABI break.
 *
 * Users allocate lfmap_options, lfmap_stats and lfmap_iter themselves, with
 * the size their program was compiled with, so the sizes and the offsets of
 * existing fields are fixed for the life of soname liblfmap.so.0 (README,
 * "ABI").  Each struct ends in reserved words instead:
 *
 *   lfmap_options.reserved  input: must be zero (lfmap_create: EINVAL
 *                           otherwise), so a later field's zero value can
 *                           mean "as in 0.1" and an older program, which
 *                           zeroed the words, keeps its behaviour;
 *   lfmap_stats.reserved    output: written as zero; later figures go there;
 *   lfmap_iter.reserved_    private state a later release may use.
 *
 * The assertions below stop a change that would move a field or change a
 * size: to add a field, take it from the reserved words (and shrink the
 * array by as many words), never append.  abi/liblfmap.abi (make check-abi)
 * catches the same thing on the built library.
 */
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(lfmap_options) == 80,
	       "lfmap_options changed size: take new fields from reserved[]");
_Static_assert(sizeof(lfmap_stats) == 128,
	       "lfmap_stats changed size: take new fields from reserved[]");
_Static_assert(sizeof(lfmap_iter) == 64,
	       "lfmap_iter changed size: take new state from reserved_[]");
#endif
_Static_assert(offsetof(lfmap_options, reserved) + sizeof(uint64_t[4]) ==
		       sizeof(lfmap_options),
	       "lfmap_options.reserved must be the last member");
_Static_assert(offsetof(lfmap_stats, reserved) + sizeof(uint64_t[8]) ==
		       sizeof(lfmap_stats),
	       "lfmap_stats.reserved must be the last member");

uint32_t lfmap_version(void)
{
	return LFMAP_VERSION;
}

bool abi_options_reserved_zero(const lfmap_options *opts)
{
	for (size_t i = 0; i < sizeof opts->reserved / sizeof opts->reserved[0]; i++)
		if (opts->reserved[i] != 0)
			return false;
	return true;
}
