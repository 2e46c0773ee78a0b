/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check.h - argument checks shared by the API files (lfmap.c, lookup.c).
 * Inline and branch-predicted: they sit on every call's path.
 */
#ifndef LFMAP_CHECK_H
#define LFMAP_CHECK_H

#include <errno.h>
#include <stdbool.h>

#include "internal.h"

/* Not a live map: EBADF while lfmap_destroy runs the destructors of the
 * values left in it (a destructor calling into its own map); anything
 * else is misuse (freed or never created), caught in debug builds. */
/* noipa: takes m where the caller has it (given m->magic instead, the
 * callers' common path moved registers around to load it there). */
static __attribute__((noinline, noipa, cold, unused)) int
map_check_dead(const lfmap *m)
{
	if (m->magic == LFMAP_DYING)
		return EBADF;
#ifdef LFMAP_DEBUG
	lfmap_die("map %p used after lfmap_destroy or never created",
		  (const void *)m);
#endif
	return EINVAL;
}

static inline int map_check(const lfmap *m)
{
	if (unlikely(!m))
		return EINVAL;
	/* The magic shares its cache line with the size every call reads. */
	if (unlikely(m->magic != LFMAP_MAGIC))
		return map_check_dead(m);
	return 0;
}

static inline int key_check(const lfmap *m, const void *key, size_t key_len)
{
	int err = map_check(m);
	if (err)
		return err;
	if (unlikely((!key && key_len) || key_len > LFMAP_KEY_MAX))
		return EINVAL;
	return 0;
}

/* key_check, then EINVAL unless the call's required arguments were all
 * given (given: the caller's test of them). */
static inline int key_check_args(const lfmap *m, const void *key,
				 size_t key_len, bool given)
{
	int err = key_check(m, key, key_len);
	if (err)
		return err;
	return given ? 0 : EINVAL;
}

#endif /* LFMAP_CHECK_H */
