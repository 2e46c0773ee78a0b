/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * clone.c - a deep copy of a map through a copy function.
 *
 * The problem it shows solved: copying a map by hand (or with a shallow
 * copy) shares the value objects, so changing or freeing one through the
 * copy corrupts the original.  lfmap_clone calls a copy function on every
 * value; the clone owns its copies and frees them with the same destructor
 * when they leave it.
 *
 * Here: an inventory name -> {count, tags}; we clone it, change the clone
 * heavily (edit values in place, delete, add), and check that the original
 * is untouched.  Then each map is destroyed and every object is freed once.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfmap.h"

struct item {
	long count;
	char *tags; /* heap string: a deep copy must duplicate it too */
};

static atomic_long items_made, items_freed;

static struct item *item_new(long count, const char *tags)
{
	struct item *it = malloc(sizeof *it);
	if (!it)
		return NULL;
	it->count = count;
	it->tags = strdup(tags);
	if (!it->tags) {
		free(it);
		return NULL;
	}
	atomic_fetch_add(&items_made, 1);
	return it;
}

/* Value destructor for both maps. */
static void item_free(void *value, void *ctx)
{
	struct item *it = value;
	(void)ctx;
	free(it->tags);
	free(it);
	atomic_fetch_add(&items_freed, 1);
}

/* Copy function: a new item, nothing shared.  NULL makes clone fail with
 * ENOMEM (and free the copies made so far). */
static void *item_copy(const void *value, void *ctx)
{
	const struct item *it = value;
	(void)ctx;
	return item_new(it->count, it->tags);
}

static const char *const names[] = { "apple", "pear", "plum", "fig", "kiwi" };
#define NNAMES (sizeof names / sizeof *names)

static long count_of(lfmap *m, const char *name)
{
	void *v;
	long c = -1;
	lfmap_read_lock();
	if (lfmap_get_str(m, name, &v) == 0)
		c = ((struct item *)v)->count;
	lfmap_read_unlock();
	return c;
}

int main(void)
{
	lfmap_options opts = { .value_free = item_free };
	lfmap *orig, *copy;
	if (lfmap_create(&opts, &orig) != 0)
		return 1;
	for (size_t i = 0; i < NNAMES; i++)
		lfmap_put_str(orig, names[i], item_new((long)(i + 1) * 10, "fruit"));

	if (lfmap_clone(orig, item_copy, NULL, &copy) != 0)
		return 1;
	printf("cloned %zu entries\n", lfmap_count(copy));

	/* Mutate the clone: edit values in place (they are its own)... */
	void *v;
	lfmap_read_lock();
	if (lfmap_get_str(copy, "apple", &v) == 0) {
		((struct item *)v)->count = 999;
		((struct item *)v)->tags[0] = 'F';
	}
	lfmap_read_unlock();
	/* ...delete, replace and add entries. */
	lfmap_delete_str(copy, "pear");
	lfmap_put_str(copy, "plum", item_new(0, "sold out"));
	lfmap_put_str(copy, "mango", item_new(5, "new"));

	int bad = 0;
	for (size_t i = 0; i < NNAMES; i++) {
		long want = (long)(i + 1) * 10;
		long o = count_of(orig, names[i]);
		long c = count_of(copy, names[i]);
		if (o != want)
			bad++;
		/* fputs, not %s: after lfmap_get_str's NULL-key check inlined
		 * above, gcc's -Wformat-overflow assumes names[i] may be NULL */
		fputs("  ", stdout);
		fputs(names[i], stdout);
		printf("%*s original %4ld   clone ", (int)(6 - strlen(names[i])), "", o);
		if (c < 0)
			printf("(deleted)\n");
		else
			printf("%4ld\n", c);
	}
	lfmap_read_lock();
	if (lfmap_get_str(orig, "apple", &v) != 0 ||
	    strcmp(((struct item *)v)->tags, "fruit") != 0)
		bad++;
	lfmap_read_unlock();
	if (lfmap_get_str(orig, "mango", NULL) != ENOENT || lfmap_count(orig) != NNAMES)
		bad++;
	printf("original: %zu entries, clone: %zu entries\n", lfmap_count(orig),
	       lfmap_count(copy));

	/* Each map frees its own objects. */
	lfmap_destroy(copy);
	lfmap_destroy(orig);
	printf("items allocated %ld, freed %ld\n", atomic_load(&items_made),
	       atomic_load(&items_freed));
	if (bad || atomic_load(&items_made) != atomic_load(&items_freed)) {
		printf("FAIL: the original changed or objects leaked\n");
		return 1;
	}
	printf("OK: the original was untouched by changes to the clone\n");
	return 0;
}
