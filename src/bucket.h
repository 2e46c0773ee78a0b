/*
 * bucket.h - the segmented bucket directory.  See bucket.c.
 */
#ifndef LFMAP_BUCKET_H
#define LFMAP_BUCKET_H

#include "internal.h"

LFMAP_HIDDEN int bucket_directory_init(lfmap *m, unsigned order);
LFMAP_HIDDEN void bucket_directory_free(lfmap *m);
LFMAP_HIDDEN struct list_node *bucket_start(lfmap *m, uint64_t hash);
LFMAP_HIDDEN void bucket_after_insert(lfmap *m, int64_t stripe_entries);
LFMAP_HIDDEN void bucket_after_delete(lfmap *m, int64_t stripe_entries);
LFMAP_HIDDEN unsigned bucket_order_for(size_t capacity_hint);

#endif /* LFMAP_BUCKET_H */
