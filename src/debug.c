/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * debug.c - lfmap_die (see debug.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "debug.h"

void lfmap_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("lfmap: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}
