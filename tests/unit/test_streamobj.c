/*
 * test_streamobj.c — unit tests of kv/streamobj.c:
 *
 *   ids        increment/decrement across the seq and ms edges, formatting
 *   append     entries with the master's fields and other fields, nodes
 *              split at STREAM_NODE_MAX_ENTRIES, iteration both ways over
 *              any range
 *   delete     tombstones, a node freed with its last live entry
 *   trim       MAXLEN and MINID, exact and approximate (whole nodes), LIMIT
 *   groups     consumers and PEL in order, ownership counts, dup (COPY)
 *   model      random appends/deletes/trims checked against a plain array
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kv/streamobj.h"

static void add(struct kv_stream *s, uint64_t ms, uint64_t seq, const char *f1, const char *v1)
{
    struct stream_id id = {ms, seq};
    struct stream_str kv[4] = {{f1, strlen(f1)}, {v1, strlen(v1)}, {"b", 1}, {"2", 1}};
    kv_stream_append(s, &id, kv, 2);
}

static size_t collect(const struct kv_stream *s, uint64_t from, uint64_t to, bool rev, uint64_t *out, size_t max)
{
    struct stream_id a = {from, 0}, b = {to, UINT64_MAX};
    struct stream_iter it;
    struct stream_id id;
    uint64_t nf;
    size_t n = 0;
    kv_stream_iter_init(&it, s, &a, &b, rev);
    while (kv_stream_iter_next(&it, &id, &nf) && n < max) {
        for (uint64_t i = 0; i < nf; i++) {
            struct stream_str f, v;
            kv_stream_iter_field(&it, &f, &v);
        }
        out[n++] = id.ms;
    }
    return n;
}

Test(streamobj, ids)
{
    struct stream_id id = {1, UINT64_MAX};
    cr_assert(kv_stream_id_incr(&id));
    cr_assert(id.ms == 2 && id.seq == 0);
    cr_assert(kv_stream_id_decr(&id));
    cr_assert(id.ms == 1 && id.seq == UINT64_MAX);
    struct stream_id max = {UINT64_MAX, UINT64_MAX}, zero = {0, 0};
    cr_assert(!kv_stream_id_incr(&max));
    cr_assert(!kv_stream_id_decr(&zero));
    char buf[64];
    struct stream_id big = {UINT64_MAX, 7};
    cr_assert_str_eq((kv_stream_id_fmt(buf, &big), buf), "18446744073709551615-7");
}

Test(streamobj, append_iterate_fields)
{
    struct kv_stream *s = kv_stream_new();
    add(s, 1, 0, "a", "1");
    add(s, 1, 5, "x", "long value here");
    add(s, 300, 0, "a", "3");
    cr_assert_eq(s->length, 3);
    struct stream_iter it;
    struct stream_id id;
    uint64_t nf;
    kv_stream_iter_init(&it, s, NULL, NULL, false);
    cr_assert(kv_stream_iter_next(&it, &id, &nf));
    cr_assert(id.ms == 1 && id.seq == 0 && nf == 2);
    struct stream_str f, v;
    kv_stream_iter_field(&it, &f, &v);
    cr_assert(f.n == 1 && f.p[0] == 'a' && v.n == 1 && v.p[0] == '1');
    cr_assert(kv_stream_iter_next(&it, &id, &nf));
    cr_assert(id.ms == 1 && id.seq == 5);
    kv_stream_iter_field(&it, &f, &v);
    cr_assert(f.n == 1 && f.p[0] == 'x' && v.n == 15 && memcmp(v.p, "long value here", 15) == 0);
    kv_stream_iter_field(&it, &f, &v);
    cr_assert(f.n == 1 && f.p[0] == 'b');
    cr_assert(kv_stream_iter_next(&it, &id, &nf));
    cr_assert(id.ms == 300);
    cr_assert(!kv_stream_iter_next(&it, &id, &nf));
    kv_stream_free(s);
}

Test(streamobj, nodes_split_and_ranges)
{
    struct kv_stream *s = kv_stream_new();
    for (uint64_t i = 1; i <= 450; i++)
        add(s, i, 1, "a", "v");
    cr_assert_eq(kv_stream_nodes(s), 5);
    uint64_t out[500];
    size_t n = collect(s, 95, 305, false, out, 500);
    cr_assert_eq(n, 211);
    cr_assert(out[0] == 95 && out[210] == 305);
    n = collect(s, 95, 305, true, out, 500);
    cr_assert(n == 211 && out[0] == 305 && out[210] == 95);
    n = collect(s, 1000, 2000, false, out, 500);
    cr_assert_eq(n, 0);
    n = collect(s, 0, 0, true, out, 500);
    cr_assert_eq(n, 0);
    kv_stream_free(s);
}

Test(streamobj, delete_and_free_node)
{
    struct kv_stream *s = kv_stream_new();
    for (uint64_t i = 1; i <= 200; i++)
        add(s, i, 0, "a", "v");
    cr_assert_eq(kv_stream_nodes(s), 2);
    for (uint64_t i = 1; i <= 100; i++) {
        struct stream_id id = {i, 0};
        cr_assert(kv_stream_delete(s, &id));
        cr_assert(!kv_stream_delete(s, &id));
    }
    cr_assert_eq(kv_stream_nodes(s), 1);
    cr_assert_eq(s->length, 100);
    struct stream_id id;
    cr_assert(kv_stream_first_id(s, &id) && id.ms == 101);
    struct stream_id top = {200, 0};
    cr_assert(kv_stream_delete(s, &top));
    cr_assert(kv_stream_last_valid_id(s, &id) && id.ms == 199);
    struct stream_id missing = {150, 1};
    cr_assert(!kv_stream_delete(s, &missing));
    kv_stream_free(s);
}

Test(streamobj, trim)
{
    struct kv_stream *s = kv_stream_new();
    for (uint64_t i = 1; i <= 250; i++)
        add(s, i, 0, "a", "v");
    cr_assert_eq(kv_stream_trim(s, STREAM_TRIM_MAXLEN, 120, NULL, true, 0), 100);
    cr_assert_eq(kv_stream_trim(s, STREAM_TRIM_MAXLEN, 120, NULL, false, 0), 30);
    struct stream_id minid = {200, 0};
    cr_assert_eq(kv_stream_trim(s, STREAM_TRIM_MINID, 0, &minid, false, 0), 69);
    struct stream_id id;
    cr_assert(kv_stream_first_id(s, &id) && id.ms == 200);
    /* LIMIT 10: the node with one live entry goes, the next (50) is past the limit */
    cr_assert_eq(kv_stream_trim(s, STREAM_TRIM_MAXLEN, 0, NULL, true, 10), 1);
    cr_assert_eq(kv_stream_trim(s, STREAM_TRIM_MAXLEN, 0, NULL, false, 0), 50);
    cr_assert_eq(s->length, 0);
    cr_assert_eq(kv_stream_nodes(s), 0);
    cr_assert_eq(s->entries_added, 250);
    kv_stream_free(s);
}

Test(streamobj, groups_pel_dup)
{
    struct kv_stream *s = kv_stream_new();
    for (uint64_t i = 1; i <= 10; i++)
        add(s, i, 0, "a", "v");
    struct stream_id z = {0, 0};
    struct stream_cg *g = kv_stream_cg_create(s, "g", 1, &z, 0);
    cr_assert(g);
    cr_assert_null(kv_stream_cg_create(s, "g", 1, &z, 0));
    cr_assert(kv_stream_cg_create(s, "a", 1, &z, 0));
    cr_assert(kv_stream_cg_create(s, "gg", 2, &z, 0));
    cr_assert(s->groups[0]->name[0] == 'a' && s->groups[1]->nlen == 1 && s->groups[2]->nlen == 2);
    g = kv_stream_cg_find(s, "g", 1);
    struct stream_consumer *c1 = kv_stream_consumer_create(g, "bob", 3, 5);
    struct stream_consumer *c2 = kv_stream_consumer_create(g, "alice", 5, 5);
    cr_assert_null(kv_stream_consumer_create(g, "bob", 3, 5));
    cr_assert(g->consumers[0] == c2);
    for (uint64_t i = 10; i >= 1; i--) {
        struct stream_id id = {i, 0};
        kv_stream_pel_add(g, &id, i % 2 ? c1 : c2, 100);
    }
    cr_assert_eq(g->npel, 10);
    for (size_t i = 0; i < g->npel; i++)
        cr_assert_eq(g->pel[i].id.ms, i + 1);
    cr_assert(c1->npel == 5 && c2->npel == 5);
    struct stream_id three = {3, 0};
    kv_stream_nack_set_owner(kv_stream_pel_find(g, &three), c2);
    cr_assert(c1->npel == 4 && c2->npel == 6);
    struct kv_stream *d = kv_stream_dup(s);
    struct stream_cg *dg = kv_stream_cg_find(d, "g", 1);
    cr_assert(dg && dg->npel == 10 && dg->nconsumers == 2);
    cr_assert(dg->pel[2].consumer == dg->consumers[0]); /* alice in the copy */
    cr_assert_eq(kv_stream_consumer_delete(g, c1), 4);
    cr_assert(g->npel == 6 && g->nconsumers == 1);
    kv_stream_pel_remove_at(g, 0);
    cr_assert(c2->npel == 5);
    cr_assert(kv_stream_cg_destroy(s, "a", 1));
    cr_assert(!kv_stream_cg_destroy(s, "a", 1));
    cr_assert(kv_stream_memory(d) > sizeof(struct kv_stream) + 10 * 4);
    kv_stream_free(d);
    kv_stream_free(s);
}

Test(streamobj, dup_is_independent)
{
    struct kv_stream *s = kv_stream_new();
    for (uint64_t i = 1; i <= 150; i++)
        add(s, i, 0, i % 3 ? "a" : "z", "v");
    struct stream_id z = {0, 0};
    struct stream_cg *g = kv_stream_cg_create(s, "g", 1, &z, 0);
    struct stream_id five = {5, 0};
    kv_stream_pel_add(g, &five, kv_stream_consumer_create(g, "c", 1, 1), 1);
    struct kv_stream *d = kv_stream_dup(s);
    for (uint64_t i = 1; i <= 100; i++) {
        struct stream_id id = {i, 0};
        kv_stream_delete(s, &id);
    }
    add(s, 500, 0, "a", "v");
    kv_stream_cg_destroy(s, "g", 1);
    kv_stream_free(s);
    uint64_t out[200];
    cr_assert_eq(collect(d, 0, UINT64_MAX, false, out, 200), 150);
    cr_assert(out[0] == 1 && out[149] == 150);
    add(d, 151, 0, "a", "v"); /* the copy's tail node grows on its own */
    cr_assert_eq(collect(d, 0, UINT64_MAX, true, out, 200), 151);
    struct stream_cg *dg = kv_stream_cg_find(d, "g", 1);
    cr_assert(dg && dg->npel == 1 && dg->pel[0].consumer == dg->consumers[0] && dg->consumers[0]->npel == 1);
    kv_stream_free(d);
}

/* PEL: random adds and removals (front, back, middle) against a sorted array. */
Test(streamobj, pel_model)
{
    srand(7);
    struct kv_stream *s = kv_stream_new();
    struct stream_id z = {0, 0};
    struct stream_cg *g = kv_stream_cg_create(s, "g", 1, &z, 0);
    struct stream_consumer *c = kv_stream_consumer_create(g, "c", 1, 0);
    uint64_t *ref = calloc(5000, sizeof *ref);
    size_t n = 0;
    for (int step = 0; step < 30000; step++) {
        int op = rand() % 4;
        if ((op < 2 && n < 5000) || n == 0) {
            uint64_t ms = (uint64_t)(rand() % 20000);
            struct stream_id id = {ms, 0};
            if (kv_stream_pel_find(g, &id))
                continue;
            kv_stream_pel_add(g, &id, c, 0);
            size_t at = 0;
            while (at < n && ref[at] < ms)
                at++;
            memmove(ref + at + 1, ref + at, (n - at) * sizeof *ref);
            ref[at] = ms;
            n++;
        } else {
            size_t i = op == 2 ? 0 : (size_t)rand() % n;
            kv_stream_pel_remove_at(g, i);
            memmove(ref + i, ref + i + 1, (n - i - 1) * sizeof *ref);
            n--;
        }
        cr_assert_eq(g->npel, n);
        cr_assert_eq(c->npel, n);
        if (step % 499 == 0)
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(g->pel[i].id.ms, ref[i]);
    }
    free(ref);
    kv_stream_free(s);
}

/* Random appends (same or other fields), deletes and trims against an array. */
Test(streamobj, model)
{
    srand(42);
    struct kv_stream *s = kv_stream_new();
    uint64_t *live = calloc(20000, sizeof *live); /* ms of live entries, in order */
    size_t nlive = 0;
    uint64_t next = 1;
    for (int step = 0; step < 20000; step++) {
        int op = rand() % 10;
        if (op < 6 || nlive == 0) {
            add(s, next, 0, rand() % 4 ? "a" : "other", "value");
            live[nlive++] = next;
            next += 1 + (uint64_t)(rand() % 3);
        } else if (op < 9) {
            size_t k = (size_t)rand() % nlive;
            struct stream_id id = {live[k], 0};
            cr_assert(kv_stream_delete(s, &id));
            memmove(live + k, live + k + 1, (nlive - k - 1) * sizeof *live);
            nlive--;
        } else {
            uint64_t maxlen = nlive > 50 ? nlive - (uint64_t)(rand() % 50) : nlive;
            uint64_t del = kv_stream_trim(s, STREAM_TRIM_MAXLEN, maxlen, NULL, false, 0);
            cr_assert_eq(del, nlive - maxlen);
            memmove(live, live + del, (nlive - del) * sizeof *live);
            nlive -= del;
        }
        cr_assert_eq(s->length, nlive);
        if (step % 997 == 0) {
            uint64_t *got = malloc((nlive + 1) * sizeof *got);
            size_t n = collect(s, 0, UINT64_MAX, false, got, nlive + 1);
            cr_assert_eq(n, nlive);
            cr_assert(memcmp(got, live, n * sizeof *got) == 0);
            n = collect(s, 0, UINT64_MAX, true, got, nlive + 1);
            cr_assert_eq(n, nlive);
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(got[i], live[nlive - 1 - i]);
            free(got);
        }
    }
    free(live);
    kv_stream_free(s);
}
