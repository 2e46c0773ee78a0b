/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_abi.c - the rules that keep the ABI stable (README, "ABI"):
 * reserved words in the user-allocated structs, the runtime version, the
 * _str/_u64 wrappers of every keyed call, and internal names kept out of
 * the static archive's global namespace.
 */
#include "helpers.h"

/*
 * Names the library uses internally.  This test binary links the static
 * archive: if any of them were still global there, the link would fail
 * with a multiple-definition error (issue 8).
 */
int list_find(void);
int bucket_get(void);
int counter_sum(void);
int reclaim_call(void);
int hash_seed_from(void);
int list_find(void) { return 1; }
int bucket_get(void) { return 2; }
int counter_sum(void) { return 3; }
int reclaim_call(void) { return 4; }
int hash_seed_from(void) { return 5; }

Test(abi, user_symbols_do_not_clash_with_internal_names)
{
	cr_assert_eq(list_find() + bucket_get() + counter_sum() +
			     reclaim_call() + hash_seed_from(), 15);
	/* and the library still works next to them */
	lfmap *m;
	cr_assert_eq(lfmap_create(NULL, &m), 0);
	cr_assert_eq(lfmap_put_u64(m, 7, (void *)(uintptr_t)1), 0);
	cr_assert_eq(lfmap_count(m), 1);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(abi, version_matches_header)
{
	cr_assert_eq(lfmap_version(), LFMAP_VERSION);
	cr_assert_eq(LFMAP_VERSION,
		     LFMAP_VERSION_NUMBER(LFMAP_VERSION_MAJOR, LFMAP_VERSION_MINOR,
					  LFMAP_VERSION_PATCH));
	char s[32];
	snprintf(s, sizeof s, "%d.%d.%d", LFMAP_VERSION_MAJOR,
		 LFMAP_VERSION_MINOR, LFMAP_VERSION_PATCH);
	cr_assert_str_eq(s, LFMAP_VERSION_STRING);
	cr_assert_eq(lfmap_version() >> 16, LFMAP_VERSION_MAJOR);
	cr_assert_eq((lfmap_version() >> 8) & 0xff, LFMAP_VERSION_MINOR);
}

Test(abi, struct_sizes_are_fixed)
{
	/* LP64 sizes of soname liblfmap.so.0; src/abi.c asserts them too. */
	if (sizeof(void *) == 8) {
		cr_assert_eq(sizeof(lfmap_options), 80);
		cr_assert_eq(sizeof(lfmap_stats), 128);
		cr_assert_eq(sizeof(lfmap_iter), 64);
	}
	cr_assert_eq(sizeof(((lfmap_options *)0)->reserved), 4 * sizeof(uint64_t));
	cr_assert_eq(sizeof(((lfmap_stats *)0)->reserved), 8 * sizeof(uint64_t));
}

Test(abi, nonzero_reserved_options_are_rejected)
{
	for (size_t i = 0; i < 4; i++) {
		lfmap_options o = { .capacity_hint = 16 };
		o.reserved[i] = 1;
		lfmap *m = (lfmap *)(uintptr_t)0x1;
		cr_assert_eq(lfmap_create(&o, &m), EINVAL, "reserved[%zu]", i);
		cr_assert_eq(m, (lfmap *)(uintptr_t)0x1, "*out untouched");
	}
	/* the designated-initialiser idiom leaves them zero: accepted */
	lfmap_options o = { .capacity_hint = 16, .flags = LFMAP_NO_AUTO_SHRINK };
	lfmap *m;
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
	/* so does memset */
	memset(&o, 0, sizeof o);
	cr_assert_eq(lfmap_create(&o, &m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}

Test(abi, stats_reserved_are_written_as_zero)
{
	lfmap *m;
	cr_assert_eq(lfmap_create(NULL, &m), 0);
	cr_assert_eq(lfmap_put_u64(m, 1, (void *)(uintptr_t)1), 0);
	lfmap_stats st;
	memset(&st, 0xa5, sizeof st);
	cr_assert_eq(lfmap_get_stats(m, &st), 0);
	cr_assert_eq(st.entries, 1);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(st.reserved[i], 0, "reserved[%zu]", i);
	cr_assert_eq(lfmap_destroy(m), 0);
}

static void *bump(void *old, void *ctx)
{
	(void)ctx;
	return (void *)((uintptr_t)old + 2);
}

Test(abi, str_and_u64_wrappers_cover_every_keyed_call)
{
	lfmap *m;
	void *v = NULL;
	cr_assert_eq(lfmap_create(NULL, &m), 0);
	void *one = (void *)(uintptr_t)1, *three = (void *)(uintptr_t)3,
	     *five = (void *)(uintptr_t)5;

	cr_assert_eq(lfmap_replace_str(m, "k", one), ENOENT);
	cr_assert_eq(lfmap_put_str(m, "k", one), 0);
	cr_assert_eq(lfmap_replace_str(m, "k", three), 0);
	cr_assert_eq(lfmap_cas_str(m, "k", one, five), EAGAIN);
	cr_assert_eq(lfmap_cas_str(m, "k", three, one), 0);
	cr_assert_eq(lfmap_compute_str(m, "k", bump, NULL), 0);
	cr_assert_eq(lfmap_get(m, "k", 1, &v), 0, "the _str key is the bytes without NUL");
	cr_assert_eq(v, three);
	cr_assert_eq(lfmap_delete_if_str(m, "k", one), EAGAIN);
	cr_assert_eq(lfmap_delete_if_str(m, "k", three), 0);
	cr_assert_eq(lfmap_get_str(m, "k", NULL), ENOENT);
	cr_assert_eq(lfmap_replace_str(m, NULL, one), EINVAL);
	cr_assert_eq(lfmap_cas_str(m, NULL, one, three), EINVAL);
	cr_assert_eq(lfmap_delete_if_str(m, NULL, one), EINVAL);
	cr_assert_eq(lfmap_compute_str(m, NULL, bump, NULL), EINVAL);

	cr_assert_eq(lfmap_replace_u64(m, 9, one), ENOENT);
	cr_assert_eq(lfmap_put_u64(m, 9, one), 0);
	cr_assert_eq(lfmap_replace_u64(m, 9, three), 0);
	cr_assert_eq(lfmap_cas_u64(m, 9, one, five), EAGAIN);
	cr_assert_eq(lfmap_cas_u64(m, 9, three, one), 0);
	cr_assert_eq(lfmap_compute_u64(m, 9, bump, NULL), 0);
	uint64_t k = 9;
	cr_assert_eq(lfmap_get(m, &k, sizeof k, &v), 0);
	cr_assert_eq(v, three);
	cr_assert_eq(lfmap_delete_if_u64(m, 9, one), EAGAIN);
	cr_assert_eq(lfmap_delete_if_u64(m, 9, three), 0);
	cr_assert_eq(lfmap_count(m), 0);
	cr_assert_eq(lfmap_destroy(m), 0);
}
