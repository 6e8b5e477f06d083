/*
 * test_set.c — unit tests of kv/setobj.c: the intset encoding (sorted order,
 * width upgrades 16 -> 32 -> 64 bits at both ends, canonical integers only),
 * conversion to a hashtable past kv_set_max_intset_entries or on a non-integer
 * member, add/remove/has in both encodings, random picks, SSCAN cursors, and
 * a randomized sequence checked against a simple model.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "kv/setobj.h"

struct collected {
    char items[4096][32];
    size_t n;
};

static void collect(const char *m, size_t n, void *arg)
{
    struct collected *c = arg;
    cr_assert_lt(n, 32);
    memcpy(c->items[c->n], m, n);
    c->items[c->n][n] = '\0';
    c->n++;
}

static bool add(struct kv_set **s, const char *m) { return kv_set_add(s, m, strlen(m)); }
static bool has(const struct kv_set *s, const char *m) { return kv_set_has(s, m, strlen(m)); }

Test(set, intset_sorted_and_upgrades)
{
    struct kv_set *s = kv_set_new();
    cr_assert(kv_set_is_intset(s));
    cr_assert(add(&s, "5"));
    cr_assert(add(&s, "-3"));
    cr_assert_not(add(&s, "5"));
    cr_assert(add(&s, "70000"));              /* 32-bit, goes last */
    cr_assert(add(&s, "-9223372036854775808")); /* 64-bit, goes first */
    cr_assert(add(&s, "100"));
    cr_assert(kv_set_is_intset(s));
    struct collected *c = calloc(1, sizeof *c);
    kv_set_foreach(s, collect, c);
    cr_assert_eq(c->n, 5);
    const char *want[] = {"-9223372036854775808", "-3", "5", "100", "70000"};
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(c->items[i], want[i]);
    cr_assert(has(s, "70000"));
    cr_assert_not(has(s, "070000"));
    cr_assert_not(has(s, "+5"));
    cr_assert(kv_set_remove(&s, "-3", 2));
    cr_assert_not(kv_set_remove(&s, "-3", 2));
    cr_assert_eq(kv_set_len(s), 4);
    /* "-0" is not canonical: it converts */
    cr_assert(add(&s, "-0"));
    cr_assert_not(kv_set_is_intset(s));
    cr_assert(has(s, "-0") && has(s, "100") && has(s, "-9223372036854775808"));
    cr_assert_eq(kv_set_len(s), 5);
    free(c);
    kv_set_free(s);
}

Test(set, converts_past_max_entries)
{
    size_t old = kv_set_max_intset_entries;
    kv_set_max_intset_entries = 100;
    struct kv_set *s = kv_set_new();
    char buf[32];
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "%d", i * 7);
        cr_assert(add(&s, buf));
    }
    cr_assert(kv_set_is_intset(s));
    size_t small = kv_set_memory(s);
    cr_assert_leq(small, 100 * 2 + 64, "intset of small numbers: 2 bytes a member (%zu)", small);
    cr_assert(add(&s, "1000000"));
    cr_assert_not(kv_set_is_intset(s));
    cr_assert_eq(kv_set_len(s), 101);
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "%d", i * 7);
        cr_assert(has(s, buf));
    }
    kv_set_max_intset_entries = old;
    kv_set_free(s);
}

Test(set, random_and_scan_hashtable)
{
    rand_seed(7);
    struct kv_set *s = kv_set_new();
    char buf[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "m%d", i);
        add(&s, buf);
    }
    char scratch[SET_INT_STR];
    const char *m;
    size_t n;
    for (int i = 0; i < 100; i++) {
        cr_assert(kv_set_random(s, scratch, &m, &n));
        cr_assert(kv_set_has(s, m, n));
    }
    struct collected *c = calloc(1, sizeof *c);
    uint64_t cursor = 0;
    do {
        cursor = kv_set_scan(s, cursor, collect, c);
    } while (cursor);
    cr_assert_geq(c->n, 1000);
    free(c);
    kv_set_free(s);
    struct kv_set *e = kv_set_new();
    cr_assert_not(kv_set_random(e, scratch, &m, &n));
    kv_set_free(e);
}

Test(set, random_against_model)
{
    size_t old = kv_set_max_intset_entries;
    kv_set_max_intset_entries = 64;
    rand_seed(1);
    for (int round = 0; round < 20; round++) {
        struct kv_set *s = kv_set_new();
        bool model[400] = {0};
        size_t count = 0;
        for (int step = 0; step < 2000; step++) {
            int k = (int)rand_below(400);
            char buf[32];
            /* 0..299: integers of every width; 300..399: words */
            if (k < 300)
                snprintf(buf, sizeof buf, "%lld", (long long)(k - 150) * (k % 3 == 0 ? 1 : k % 3 == 1 ? 100000 : 100000000000LL));
            else
                snprintf(buf, sizeof buf, "w%d", k);
            if (round % 2 && k >= 300)
                continue; /* odd rounds stay all-integer */
            if (rand_below(3)) {
                cr_assert_eq(add(&s, buf), !model[k]);
                count += !model[k];
                model[k] = true;
            } else {
                cr_assert_eq(kv_set_remove(&s, buf, strlen(buf)), model[k]);
                count -= model[k];
                model[k] = false;
            }
            cr_assert_eq(kv_set_len(s), count);
        }
        for (int k = 0; k < 400; k++) {
            char buf[32];
            if (k < 300)
                snprintf(buf, sizeof buf, "%lld", (long long)(k - 150) * (k % 3 == 0 ? 1 : k % 3 == 1 ? 100000 : 100000000000LL));
            else
                snprintf(buf, sizeof buf, "w%d", k);
            cr_assert_eq(has(s, buf), model[k]);
        }
        kv_set_free(s);
    }
    kv_set_max_intset_entries = old;
}
