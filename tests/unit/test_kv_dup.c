/*
 * test_kv_dup.c — unit tests of the deep copies COPY uses: hash_dup,
 * set_dup, list_dup, zset_dup keep the encoding and the content, and the
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
        struct kv_hash *h = hash_new();
        char f[32], v[32];
        for (size_t i = 0; i < SIZES[s]; i++) {
            int fl = snprintf(f, sizeof f, "f%zu", i), vl = snprintf(v, sizeof v, "v%zu", i);
            hash_set(h, f, (size_t)fl, v, (size_t)vl);
        }
        struct kv_hash *d = hash_dup(h);
        cr_assert_eq(hash_is_packed(d), hash_is_packed(h));
        cr_assert_eq(hash_len(d), SIZES[s]);
        hash_set(d, "new", 3, "x", 1);
        hash_del(d, "f0", 2);
        cr_assert_eq(hash_len(h), SIZES[s]);
        hash_free(h);
        for (size_t i = 1; i < SIZES[s]; i++) {
            const char *got;
            size_t gl;
            int fl = snprintf(f, sizeof f, "f%zu", i), vl = snprintf(v, sizeof v, "v%zu", i);
            cr_assert(hash_get(d, f, (size_t)fl, &got, &gl));
            cr_assert_eq(gl, (size_t)vl);
            cr_assert_eq(memcmp(got, v, gl), 0);
        }
        hash_free(d);
    }
}

Test(dup, set_both_encodings)
{
    for (int kind = 0; kind < 3; kind++) { /* small intset, big intset->ht, strings */
        struct kv_set *st = set_new();
        size_t n = kind == 0 ? 5 : 600;
        char m[32];
        for (size_t i = 0; i < n; i++) {
            int ml = snprintf(m, sizeof m, kind == 2 ? "m%zu" : "%zu", i);
            set_add(&st, m, (size_t)ml);
        }
        struct kv_set *d = set_dup(st);
        cr_assert_eq(set_is_intset(d), set_is_intset(st));
        cr_assert_eq(set_len(d), n);
        set_add(&d, "-7", 2);
        cr_assert_eq(set_len(st), n);
        cr_assert_not(set_has(st, "-7", 2));
        set_free(st);
        for (size_t i = 0; i < n; i++) {
            int ml = snprintf(m, sizeof m, kind == 2 ? "m%zu" : "%zu", i);
            cr_assert(set_has(d, m, (size_t)ml));
        }
        set_free(d);
    }
}

Test(dup, list_many_nodes)
{
    for (size_t s = 0; s < 2; s++) {
        struct kv_list *l = list_new();
        char v[64];
        size_t n = SIZES[s] * 30;
        for (size_t i = 0; i < n; i++) {
            int vl = snprintf(v, sizeof v, "element-%zu", i);
            list_push(l, LIST_TAIL, v, (size_t)vl);
        }
        struct kv_list *d = list_dup(l);
        cr_assert_eq(list_len(d), n);
        cr_assert_eq(list_nodes(d), list_nodes(l));
        list_pop(d, LIST_HEAD);
        list_push(d, LIST_TAIL, "x", 1);
        cr_assert_eq(list_len(l), n);
        list_free(l);
        for (size_t i = 1; i < n; i++) {
            const char *got;
            size_t gl;
            int vl = snprintf(v, sizeof v, "element-%zu", i);
            cr_assert(list_index(d, (long long)i - 1, &got, &gl));
            cr_assert_eq(gl, (size_t)vl);
            cr_assert_eq(memcmp(got, v, gl), 0);
        }
        list_free(d);
    }
}

Test(dup, zset_both_encodings)
{
    for (size_t s = 0; s < 2; s++) {
        struct kv_zset *z = zset_new();
        char m[32];
        int out;
        for (size_t i = 0; i < SIZES[s]; i++) {
            int ml = snprintf(m, sizeof m, "m%zu", i);
            zset_add(&z, (double)(i % 5) - 2.5, m, (size_t)ml, 0, &out, NULL);
        }
        struct kv_zset *d = zset_dup(z);
        cr_assert_eq(zset_is_packed(d), zset_is_packed(z));
        cr_assert_eq(zset_len(d), SIZES[s]);
        /* same order, same scores */
        for (uint64_t r = 0; r < SIZES[s]; r++) {
            const char *m1, *m2;
            size_t l1, l2;
            double s1, s2;
            zset_at(z, r, &m1, &l1, &s1);
            zset_at(d, r, &m2, &l2, &s2);
            cr_assert_eq(l1, l2);
            cr_assert_eq(memcmp(m1, m2, l1), 0);
            cr_assert_eq(s1, s2);
        }
        zset_del(d, "m1", 2);
        cr_assert_eq(zset_len(z), SIZES[s]);
        zset_free(z);
        double sc;
        cr_assert(zset_score(d, "m2", 2, &sc));
        cr_assert_eq(sc, -0.5);
        zset_free(d);
    }
}
