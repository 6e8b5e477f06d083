/*
 * test_router_dist.c — router distributions: weights (within 5% of each
 * shard's share over 100,000 keys), movement when a 5th shard joins (1/5 of
 * the keys, +- 5 points, and only to the new shard), twemproxy's hash
 * functions on known vectors, modula, byte and numeric ranges, the directory
 * table, hash tags.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "router/router.h"

#define NKEYS 100000

static const char *names[] = {"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379", "10.0.0.4:6379", "10.0.0.5:6379"};

static struct rt_pool_conf *pool(int dist)
{
    struct rt_pool_conf *p = xcalloc(1, sizeof *p);
    p->name = "t";
    p->dist = dist;
    p->hash = rt_hash_find("xxh3");
    p->hash_tag = "{}";
    p->vnodes = 1000;
    return p;
}

static struct rt_dist *build(struct rt_pool_conf *p, int n, const long long *w, const char *const *los)
{
    struct rt_dist_in in[8];
    for (int i = 0; i < n; i++) {
        in[i].name = names[i];
        in[i].weight = w ? w[i] : 1;
        in[i].index = i;
        in[i].range_lo = los ? los[i] : NULL;
    }
    char err[256] = "";
    struct rt_dist *d = rt_dist_new(p, in, n, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    return d;
}

static int loc(const struct rt_dist *d, const char *k) { return rt_dist_locate(d, k, strlen(k)); }

static void check_weights(struct rt_dist *d, int n, const long long *w, const char *what)
{
    long long count[8] = {0}, total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    for (int k = 0; k < NKEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "user:%d", k);
        int s = loc(d, key);
        cr_assert(s >= 0 && s < n);
        count[s]++;
    }
    for (int i = 0; i < n; i++) {
        double want = (double)NKEYS * (double)w[i] / (double)total;
        cr_expect((double)count[i] >= want * 0.95 && (double)count[i] <= want * 1.05,
                  "%s: shard %d (weight %lld) got %lld keys, want %.0f +- 5%%", what, i, w[i], count[i], want);
    }
}

Test(router_dist, ketama_native_within_5_percent_of_weights)
{
    struct rt_pool_conf *p = pool(RT_DIST_KETAMA);
    p->vnodes = 1000;
    static const long long eq[] = {1, 1, 1, 1}, uneq[] = {1, 2, 3, 4};
    struct rt_dist *d = build(p, 4, eq, NULL);
    check_weights(d, 4, eq, "equal");
    rt_dist_free(d);
    d = build(p, 4, uneq, NULL);
    check_weights(d, 4, uneq, "1:2:3:4");
    rt_dist_free(d);
    xfree(p);
}

Test(router_dist, ketama_fifth_shard_moves_one_fifth_only_to_it)
{
    struct rt_pool_conf *p = pool(RT_DIST_KETAMA);
    struct rt_dist *four = build(p, 4, NULL, NULL), *five = build(p, 5, NULL, NULL);
    int moved = 0;
    for (int k = 0; k < NKEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "user:%d", k);
        int a = loc(four, key), b = loc(five, key);
        if (a != b) {
            moved++;
            cr_assert_eq(b, 4, "key %s moved from %d to %d, not to the new shard", key, a, b);
        }
    }
    double f = (double)moved / NKEYS;
    cr_expect(f >= 0.15 && f <= 0.25, "moved %.3f of the keys, want 0.20 +- 0.05", f);
    rt_dist_free(four);
    rt_dist_free(five);
    xfree(p);
}

Test(router_dist, twemproxy_layout_weights_and_movement)
{
    struct rt_pool_conf *p = pool(RT_DIST_KETAMA);
    p->twemproxy = true;
    p->hash = rt_hash_find("md5");
    struct rt_dist *four = build(p, 4, NULL, NULL), *five = build(p, 5, NULL, NULL);
    struct chash *c = four->st;
    cr_assert_eq(c->npoints, 4 * 160); /* 160 points per server, 4 per digest */
    int moved = 0;
    for (int k = 0; k < NKEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "user:%d", k);
        if (loc(four, key) != loc(five, key))
            moved++;
    }
    double f = (double)moved / NKEYS;
    cr_expect(f >= 0.15 && f <= 0.25, "moved %.3f", f);
    rt_dist_free(four);
    rt_dist_free(five);
    xfree(p);
}

Test(router_dist, twemproxy_hash_vectors)
{
    /* md5("") = d41d8cd9...: the first four bytes little endian */
    cr_assert_eq(rt_hash_md5("", 0), 0xd98c1dd4u);
    /* md5("a") = 0cc175b9... */
    cr_assert_eq(rt_hash_md5("a", 1), 0xb975c10cu);
    /* nutcracker's fnv1a_64 keeps 32 bits of the 64-bit constants */
    cr_assert_eq(rt_hash_fnv1a_64("", 0), 0x84222325u);
    uint32_t h = 0x84222325u;
    h ^= 'a';
    h *= 0x1b3u;
    cr_assert_eq(rt_hash_fnv1a_64("a", 1), h);
}

Test(router_dist, modula_weights_and_order)
{
    struct rt_pool_conf *p = pool(RT_DIST_MODULA);
    static const long long w[] = {1, 3};
    struct rt_dist *d = build(p, 2, w, NULL);
    check_weights(d, 2, w, "modula 1:3");
    /* slot layout: shard 0 owns slot 0, shard 1 slots 1..3 */
    for (int k = 0; k < 1000; k++) {
        char key[32];
        int n = snprintf(key, sizeof key, "k%d", k);
        uint32_t slot = rt_hash_fns[p->hash].fn(key, (size_t)n) % 4;
        cr_assert_eq(loc(d, key), slot == 0 ? 0 : 1);
    }
    rt_dist_free(d);
    xfree(p);
}

Test(router_dist, byte_ranges)
{
    struct rt_pool_conf *p = pool(RT_DIST_RANGE);
    static const char *los[] = {"m", "a", "t"};
    struct rt_dist *d = build(p, 3, NULL, los);
    cr_assert_eq(loc(d, "apple"), 1);
    cr_assert_eq(loc(d, "a"), 1);
    cr_assert_eq(loc(d, "lzzz"), 1);
    cr_assert_eq(loc(d, "m"), 0);
    cr_assert_eq(loc(d, "melon"), 0);
    cr_assert_eq(loc(d, "tomato"), 2);
    cr_assert_eq(loc(d, "zzz"), 2);
    cr_assert_eq(loc(d, "A"), -1); /* below the lowest range */
    rt_dist_free(d);
    xfree(p);
}

Test(router_dist, numeric_ranges_from_a_pattern)
{
    struct rt_pool_conf *p = pool(RT_DIST_RANGE);
    p->range_numeric = true;
    p->range_pattern = "user:";
    static const char *los[] = {"0", "1000", "1000000"};
    struct rt_dist *d = build(p, 3, NULL, los);
    cr_assert_eq(loc(d, "user:5"), 0);
    cr_assert_eq(loc(d, "user:999:profile"), 0);
    cr_assert_eq(loc(d, "user:1000"), 1);
    cr_assert_eq(loc(d, "user:999999"), 1);
    cr_assert_eq(loc(d, "user:1000000"), 2);
    cr_assert_eq(loc(d, "user:99999999999"), 2);
    cr_assert_eq(loc(d, "user:"), -1);
    cr_assert_eq(loc(d, "session:5"), -1);
    cr_assert_eq(loc(d, "{user:1500}:x"), 1); /* the hash tag is what is ranged */
    rt_dist_free(d);
    xfree(p);
}

Test(router_dist, range_layout_errors)
{
    struct rt_pool_conf *p = pool(RT_DIST_RANGE);
    struct rt_dist_in in[2] = {{"a", 1, 0, "x"}, {"b", 1, 1, "x"}};
    char err[256];
    cr_assert_null(rt_dist_new(p, in, 2, err, sizeof err));
    cr_assert(strstr(err, "two shards") != NULL, "%s", err);
    in[1].range_lo = NULL;
    cr_assert_null(rt_dist_new(p, in, 2, err, sizeof err));
    xfree(p);
}

Test(router_dist, directory_table_and_default)
{
    struct rt_pool_conf *p = pool(RT_DIST_DIRECTORY);
    p->dir_default = "10.0.0.2:6379";
    struct rt_dist *d = build(p, 3, NULL, NULL);
    cr_assert_eq(loc(d, "anything"), 1);
    struct resp_arg kv[] = {{"alice", 5}, {"10.0.0.3:6379", 13}, {"bob", 3}, {"10.0.0.1:6379", 13},
                            {"carol", 5}, {"nowhere", 7}};
    rt_dir_install(d, kv, 3);
    cr_assert_eq(rt_dir_entries(d), 2);
    cr_assert_eq(loc(d, "alice"), 2);
    cr_assert_eq(loc(d, "bob"), 0);
    cr_assert_eq(loc(d, "carol"), 1); /* names no shard: the default */
    cr_assert_eq(loc(d, "{bob}:cart"), 0);
    /* a new table replaces the old one */
    struct resp_arg kv2[] = {{"alice", 5}, {"10.0.0.1:6379", 13}};
    rt_dir_install(d, kv2, 1);
    rt_dir_install(d, kv2, 1);
    rt_dir_install(d, kv2, 1);
    cr_assert_eq(loc(d, "alice"), 0);
    cr_assert_eq(loc(d, "bob"), 1);
    rt_dist_free(d);
    xfree(p);
}

Test(router_dist, hash_tags)
{
    const char *k;
    size_t n;
#define TAG(in, out)                                   \
    k = in;                                            \
    n = strlen(k);                                     \
    rt_hash_tag("{}", &k, &n);                         \
    cr_assert(n == strlen(out) && memcmp(k, out, n) == 0, "%s -> %.*s", in, (int)n, k);
    TAG("user:{42}:cart", "42");
    TAG("{42}", "42");
    TAG("{}x", "{}x");        /* empty tag: the whole key */
    TAG("a{b", "a{b");
    TAG("a}b{c}", "c");
    TAG("{a}{b}", "a");
    TAG("x{{y}}", "{y");
    k = "a{b}";
    n = 4;
    rt_hash_tag("", &k, &n);
    cr_assert_eq(n, 4);
}
