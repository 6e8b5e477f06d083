/*
 * test_list.c — unit tests of kv/listobj.c, the packed-node list encoding:
 * pushes and pops at both ends, indexing from both ends, LSET with growing
 * and shrinking values, inserts that split full nodes, iterator deletes in
 * both directions, range deletes across nodes, long elements (multi-byte
 * length varints), and a randomized sequence of every operation checked
 * against a plain array model under several node limits (kv_list_fill),
 * with the node count and memory accounting checked along the way.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "kv/listobj.h"

/* ---- a plain model: array of heap strings ------------------------------------ */

struct model {
    char **v;
    size_t *n;
    size_t len, cap;
};

static void m_insert(struct model *m, size_t at, const char *s, size_t n)
{
    if (m->len == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        m->n = realloc(m->n, m->cap * sizeof *m->n);
    }
    memmove(m->v + at + 1, m->v + at, (m->len - at) * sizeof *m->v);
    memmove(m->n + at + 1, m->n + at, (m->len - at) * sizeof *m->n);
    m->v[at] = malloc(n + 1);
    memcpy(m->v[at], s, n);
    m->n[at] = n;
    m->len++;
}

static void m_delete(struct model *m, size_t at)
{
    free(m->v[at]);
    memmove(m->v + at, m->v + at + 1, (m->len - at - 1) * sizeof *m->v);
    memmove(m->n + at, m->n + at + 1, (m->len - at - 1) * sizeof *m->n);
    m->len--;
}

static void m_free(struct model *m)
{
    for (size_t i = 0; i < m->len; i++)
        free(m->v[i]);
    free(m->v);
    free(m->n);
}

static void check_same(struct kv_list *l, const struct model *m)
{
    cr_assert_eq(kv_list_len(l), m->len);
    struct list_iter it;
    kv_list_iter_init(&it, l, 0, true);
    const char *v;
    size_t n;
    for (size_t i = 0; i < m->len; i++) {
        cr_assert(kv_list_iter_get(&it, &v, &n), "element %zu missing", i);
        cr_assert_eq(n, m->n[i], "length of element %zu", i);
        cr_assert(memcmp(v, m->v[i], n) == 0, "element %zu differs", i);
        kv_list_iter_next(&it);
    }
    cr_assert_not(kv_list_iter_get(&it, &v, &n));
    /* backwards too */
    if (m->len) {
        kv_list_iter_init(&it, l, m->len - 1, false);
        for (size_t i = m->len; i-- > 0;) {
            cr_assert(kv_list_iter_get(&it, &v, &n));
            cr_assert_eq(n, m->n[i]);
            cr_assert(memcmp(v, m->v[i], n) == 0);
            kv_list_iter_next(&it);
        }
        cr_assert_not(kv_list_iter_get(&it, &v, &n));
    }
}

static size_t make_value(char *buf, uint64_t r)
{
    static const size_t lens[] = {0, 1, 3, 10, 60, 127, 128, 200, 3000, 20000};
    size_t n = lens[r % 10];
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (r + i) % 26);
    return n;
}

/* ---- tests ------------------------------------------------------------------ */

Test(list, push_pop_both_ends)
{
    struct kv_list *l = kv_list_new();
    char buf[16];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "%d", i);
        kv_list_push(l, i % 2 ? LIST_TAIL : LIST_HEAD, buf, (size_t)n);
    }
    cr_assert_eq(kv_list_len(l), 5000);
    cr_assert_gt(kv_list_nodes(l), 1, "8 KB nodes: 5000 entries need several");
    const char *v;
    size_t n;
    cr_assert(kv_list_peek(l, LIST_HEAD, &v, &n));
    cr_assert(n == 4 && memcmp(v, "4998", 4) == 0);
    cr_assert(kv_list_peek(l, LIST_TAIL, &v, &n));
    cr_assert(n == 4 && memcmp(v, "4999", 4) == 0);
    cr_assert(kv_list_index(l, -1, &v, &n) && n == 4 && memcmp(v, "4999", 4) == 0);
    cr_assert(kv_list_index(l, 2500, &v, &n) && n == 1 && v[0] == '1');
    cr_assert_not(kv_list_index(l, 5000, &v, &n));
    cr_assert_not(kv_list_index(l, -5001, &v, &n));
    cr_assert_not(kv_list_index(l, INT64_MIN, &v, &n));
    for (int i = 0; i < 5000; i++)
        kv_list_pop(l, i % 3 ? LIST_TAIL : LIST_HEAD);
    cr_assert_eq(kv_list_len(l), 0);
    cr_assert_eq(kv_list_nodes(l), 0);
    cr_assert_not(kv_list_peek(l, LIST_HEAD, &v, &n));
    kv_list_free(l);
}

Test(list, small_elements_cost_two_bytes)
{
    struct kv_list *l = kv_list_new();
    for (int i = 0; i < 100000; i++)
        kv_list_push(l, LIST_TAIL, "abc", 3);
    /* 5 bytes an entry plus node headers and slack: well under Redis's ~11 */
    size_t per = kv_list_memory(l) / 100000;
    cr_assert_leq(per, 7, "%zu bytes per 3-byte element", per);
    kv_list_free(l);
}

Test(list, long_elements_and_set)
{
    struct kv_list *l = kv_list_new();
    char *big = malloc(100000);
    memset(big, 'x', 100000);
    kv_list_push(l, LIST_TAIL, "a", 1);
    kv_list_push(l, LIST_TAIL, big, 100000);
    kv_list_push(l, LIST_TAIL, "c", 1);
    const char *v;
    size_t n;
    cr_assert(kv_list_index(l, 1, &v, &n) && n == 100000 && v[99999] == 'x');
    kv_list_set(l, 1, "b", 1);
    cr_assert(kv_list_index(l, 1, &v, &n) && n == 1 && v[0] == 'b');
    kv_list_set(l, 0, big, 100000);
    cr_assert(kv_list_index(l, 0, &v, &n) && n == 100000);
    cr_assert(kv_list_index(l, 2, &v, &n) && n == 1 && v[0] == 'c');
    cr_assert(kv_list_peek(l, LIST_TAIL, &v, &n) && n == 1 && v[0] == 'c');
    kv_list_pop(l, LIST_HEAD);
    cr_assert(kv_list_peek(l, LIST_HEAD, &v, &n) && n == 1 && v[0] == 'b');
    kv_list_free(l);
    free(big);
}

Test(list, random_against_model)
{
    static const long fills[] = {-2, -1, -5, 1, 3, 128};
    char *buf = malloc(20000);
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        kv_list_fill = fills[f];
        rand_seed(42 + f);
        struct kv_list *l = kv_list_new();
        struct model m = {0};
        for (int step = 0; step < 4000; step++) {
            uint64_t r = rand64();
            size_t n = make_value(buf, r >> 8);
            switch (r % 8) {
            case 0:
            case 1: {
                int where = (r >> 4) & 1;
                kv_list_push(l, where, buf, n);
                m_insert(&m, where == LIST_HEAD ? 0 : m.len, buf, n);
                break;
            }
            case 2:
                if (m.len) {
                    int where = (r >> 4) & 1;
                    kv_list_pop(l, where);
                    m_delete(&m, where == LIST_HEAD ? 0 : m.len - 1);
                }
                break;
            case 3:
                if (m.len) {
                    size_t i = rand_below(m.len);
                    kv_list_set(l, i, buf, n);
                    free(m.v[i]);
                    m.v[i] = malloc(n + 1);
                    memcpy(m.v[i], buf, n);
                    m.n[i] = n;
                }
                break;
            case 4:
                if (m.len) {
                    size_t i = rand_below(m.len);
                    bool after = (r >> 4) & 1;
                    struct list_iter it;
                    kv_list_iter_init(&it, l, i, true);
                    kv_list_iter_insert(&it, after, buf, n);
                    m_insert(&m, i + after, buf, n);
                }
                break;
            case 5:
                if (m.len) {
                    /* delete a few going either way */
                    size_t i = rand_below(m.len);
                    bool fwd = (r >> 4) & 1;
                    struct list_iter it;
                    kv_list_iter_init(&it, l, i, fwd);
                    for (int k = 0; k < 3 && kv_list_iter_get(&it, &(const char *){0}, &(size_t){0}); k++) {
                        kv_list_iter_del(&it);
                        m_delete(&m, i);
                        if (!fwd) {
                            if (i == 0)
                                break;
                            i--;
                        } else if (i >= m.len) {
                            break;
                        }
                    }
                }
                break;
            case 6:
                if (m.len) {
                    size_t start = rand_below(m.len);
                    size_t cnt = rand_below(m.len - start + 1);
                    if (cnt > 50)
                        cnt = 50;
                    kv_list_del_range(l, start, cnt);
                    for (size_t k = 0; k < cnt; k++)
                        m_delete(&m, start);
                }
                break;
            case 7:
                if (m.len) {
                    long long i = (long long)rand_below(2 * m.len) - (long long)m.len;
                    const char *v;
                    size_t vn;
                    cr_assert(kv_list_index(l, i, &v, &vn));
                    size_t j = i < 0 ? (size_t)((long long)m.len + i) : (size_t)i;
                    cr_assert(vn == m.n[j] && memcmp(v, m.v[j], vn) == 0);
                }
                break;
            }
            if (step % 200 == 0)
                check_same(l, &m);
        }
        check_same(l, &m);
        cr_assert_geq(kv_list_memory(l), m.len);
        kv_list_free(l);
        m_free(&m);
    }
    kv_list_fill = -2;
    free(buf);
}

Test(list, fill_count_limits_entries_per_node)
{
    kv_list_fill = 4;
    struct kv_list *l = kv_list_new();
    for (int i = 0; i < 40; i++)
        kv_list_push(l, LIST_TAIL, "x", 1);
    cr_assert_eq(kv_list_nodes(l), 10);
    kv_list_del_range(l, 2, 36);
    cr_assert_eq(kv_list_len(l), 4);
    kv_list_free(l);
    kv_list_fill = -2;
}
