/*
 * test_kv_dup.c — unit tests of the deep copies COPY uses: kv_hash_dup,
 * kv_set_dup, kv_list_dup, kv_zset_dup keep the encoding and the content, and the
 * copy is independent of its source (changing or freeing one leaves the
 * other whole). Both encodings of each type are covered.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "kv/hashobj.h"
#include "kv/listobj.h"
#include "kv/setobj.h"
#include "kv/zsetobj.h"

static const size_t SIZES[] = {3, 400};

Test(dup, hash_both_encodings)
{
    for (size_t s = 0; s < 2; s++) {
        struct kv_hash *h = kv_hash_new();
        char f[32], v[32];
        for (size_t i = 0; i < SIZES[s]; i++) {
            int fl = snprintf(f, sizeof f, "f%zu", i), vl = snprintf(v, sizeof v, "v%zu", i);
            kv_hash_set(h, f, (size_t)fl, v, (size_t)vl);
        }
        struct kv_hash *d = kv_hash_dup(h);
        cr_assert_eq(kv_hash_is_packed(d), kv_hash_is_packed(h));
        cr_assert_eq(kv_hash_len(d), SIZES[s]);
        kv_hash_set(d, "new", 3, "x", 1);
        kv_hash_del(d, "f0", 2);
        cr_assert_eq(kv_hash_len(h), SIZES[s]);
        kv_hash_free(h);
        for (size_t i = 1; i < SIZES[s]; i++) {
            const char *got;
            size_t gl;
            int fl = snprintf(f, sizeof f, "f%zu", i), vl = snprintf(v, sizeof v, "v%zu", i);
            cr_assert(kv_hash_get(d, f, (size_t)fl, &got, &gl));
            cr_assert_eq(gl, (size_t)vl);
            cr_assert_eq(memcmp(got, v, gl), 0);
        }
        kv_hash_free(d);
    }
}

Test(dup, set_both_encodings)
{
    for (int kind = 0; kind < 3; kind++) { /* small intset, big intset->ht, strings */
        struct kv_set *st = kv_set_new();
        size_t n = kind == 0 ? 5 : 600;
        char m[32];
        for (size_t i = 0; i < n; i++) {
            int ml = snprintf(m, sizeof m, kind == 2 ? "m%zu" : "%zu", i);
            kv_set_add(&st, m, (size_t)ml);
        }
        struct kv_set *d = kv_set_dup(st);
        cr_assert_eq(kv_set_is_intset(d), kv_set_is_intset(st));
        cr_assert_eq(kv_set_len(d), n);
        kv_set_add(&d, "-7", 2);
        cr_assert_eq(kv_set_len(st), n);
        cr_assert_not(kv_set_has(st, "-7", 2));
        kv_set_free(st);
        for (size_t i = 0; i < n; i++) {
            int ml = snprintf(m, sizeof m, kind == 2 ? "m%zu" : "%zu", i);
            cr_assert(kv_set_has(d, m, (size_t)ml));
        }
        kv_set_free(d);
    }
}

Test(dup, list_many_nodes)
{
    for (size_t s = 0; s < 2; s++) {
        struct kv_list *l = kv_list_new();
        char v[64];
        size_t n = SIZES[s] * 30;
        for (size_t i = 0; i < n; i++) {
            int vl = snprintf(v, sizeof v, "element-%zu", i);
            kv_list_push(l, LIST_TAIL, v, (size_t)vl);
        }
        struct kv_list *d = kv_list_dup(l);
        cr_assert_eq(kv_list_len(d), n);
        cr_assert_eq(kv_list_nodes(d), kv_list_nodes(l));
        kv_list_pop(d, LIST_HEAD);
        kv_list_push(d, LIST_TAIL, "x", 1);
        cr_assert_eq(kv_list_len(l), n);
        kv_list_free(l);
        for (size_t i = 1; i < n; i++) {
            const char *got;
            size_t gl;
            int vl = snprintf(v, sizeof v, "element-%zu", i);
            cr_assert(kv_list_index(d, (long long)i - 1, &got, &gl));
            cr_assert_eq(gl, (size_t)vl);
            cr_assert_eq(memcmp(got, v, gl), 0);
        }
        kv_list_free(d);
    }
}

Test(dup, zset_both_encodings)
{
    for (size_t s = 0; s < 2; s++) {
        struct kv_zset *z = kv_zset_new();
        char m[32];
        int out;
        for (size_t i = 0; i < SIZES[s]; i++) {
            int ml = snprintf(m, sizeof m, "m%zu", i);
            kv_zset_add(&z, (double)(i % 5) - 2.5, m, (size_t)ml, 0, &out, NULL);
        }
        struct kv_zset *d = kv_zset_dup(z);
        cr_assert_eq(kv_zset_is_packed(d), kv_zset_is_packed(z));
        cr_assert_eq(kv_zset_len(d), SIZES[s]);
        /* same order, same scores */
        for (uint64_t r = 0; r < SIZES[s]; r++) {
            const char *m1, *m2;
            size_t l1, l2;
            double s1, s2;
            kv_zset_at(z, r, &m1, &l1, &s1);
            kv_zset_at(d, r, &m2, &l2, &s2);
            cr_assert_eq(l1, l2);
            cr_assert_eq(memcmp(m1, m2, l1), 0);
            cr_assert_eq(s1, s2);
        }
        kv_zset_del(d, "m1", 2);
        cr_assert_eq(kv_zset_len(z), SIZES[s]);
        kv_zset_free(z);
        double sc;
        cr_assert(kv_zset_score(d, "m2", 2, &sc));
        cr_assert_eq(sc, -0.5);
        kv_zset_free(d);
    }
}
