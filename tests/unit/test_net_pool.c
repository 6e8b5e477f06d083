/*
 * test_net_pool.c — the backend pool's balancing algorithms on synthetic peer lists
 * (net/balance*.c over net/peer.c): exact round robin, smooth weighted round
 * robin, leastconn, map hashing shares, consistent hashing's 1/N movement,
 * least response time, power of two choices, exclusion; the per-worker
 * snapshot and passive ejection of net/peer.c; the algorithm and health-check
 * tables (aliases as table data).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/rand.h"
#include "net/balance.h"
#include "net/health.h"
#include "net/peer.h"

static struct net_pool_conf pconf = {.passive_fails = 2, .eject_ms = 1000, .eject_max_ms = 8000, .health = -1};
static struct net_pool *pool;

static struct net_peer *mk(const char *name, int weight)
{
    struct net_backend_conf b = {0};
    b.addr = (char *)name;
    b.name = (char *)name;
    b.weight = weight;
    return net_peer_new(pool, &b, 1);
}

static void setup(void)
{
    log_set_level(LOG_WARNING);
    pool = net_pool_new("t", &pconf, 1);
}
static void teardown(void) { net_pool_free(pool); }

TestSuite(net_balance, .init = setup, .fini = teardown);

static const struct net_balance_ops *ops(int id) { return net_balancers[id]; }
static const struct net_pick_ctx noctx = {0, false, NULL, 0, 0};

static int idx_of(struct net_peer **v, int n, struct net_peer *p)
{
    for (int i = 0; i < n; i++)
        if (v[i] == p)
            return i;
    return -1;
}

static void free_peers(struct net_peer **v, int n)
{
    for (int i = 0; i < n; i++)
        net_peer_unref(v[i]);
}

Test(net_balance, names_resolve)
{
    cr_assert_eq(net_balance_find("roundrobin"), NET_BALANCE_ROUNDROBIN);
    cr_assert_eq(net_balance_find("WRR"), NET_BALANCE_WRR);
    cr_assert_eq(net_balance_find("leastconn"), NET_BALANCE_LEASTCONN);
    cr_assert_eq(net_balance_find("chash"), NET_BALANCE_CHASH);
    cr_assert_eq(net_balance_find("p2c"), NET_BALANCE_P2C);
    cr_assert_eq(net_balance_find("nope"), -1);
}

Test(net_balance, roundrobin_cycles_and_skips_excluded)
{
    struct net_peer *v[3] = {mk("a:1", 1), mk("b:1", 5), mk("c:1", 1)};
    void *st = ops(NET_BALANCE_ROUNDROBIN)->create();
    ops(NET_BALANCE_ROUNDROBIN)->update(st, v, 3);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(ops(NET_BALANCE_ROUNDROBIN)->pick(st, v, 3, &noctx), v[i % 3]);
    struct net_peer *ex[1] = {v[1]};
    struct net_pick_ctx c = {0, false, ex, 1, 0};
    for (int i = 0; i < 6; i++)
        cr_assert_neq(ops(NET_BALANCE_ROUNDROBIN)->pick(st, v, 3, &c), v[1]);
    struct net_peer *all[3] = {v[0], v[1], v[2]};
    struct net_pick_ctx none = {0, false, all, 3, 0};
    cr_assert_null(ops(NET_BALANCE_ROUNDROBIN)->pick(st, v, 3, &none));
    ops(NET_BALANCE_ROUNDROBIN)->destroy(st);
    free_peers(v, 3);
}

Test(net_balance, wrr_smooth_and_exact)
{
    struct net_peer *v[3] = {mk("a:1", 5), mk("b:1", 1), mk("c:1", 1)};
    void *st = ops(NET_BALANCE_WRR)->create();
    ops(NET_BALANCE_WRR)->update(st, v, 3);
    char seq[8] = {0};
    for (int i = 0; i < 7; i++)
        seq[i] = "abc"[idx_of(v, 3, ops(NET_BALANCE_WRR)->pick(st, v, 3, &noctx))];
    cr_assert_str_eq(seq, "aabacaa");
    int counts[3] = {0};
    for (int i = 0; i < 7000; i++)
        counts[idx_of(v, 3, ops(NET_BALANCE_WRR)->pick(st, v, 3, &noctx))]++;
    cr_assert_eq(counts[0], 5000);
    cr_assert_eq(counts[1], 1000);
    cr_assert_eq(counts[2], 1000);
    ops(NET_BALANCE_WRR)->destroy(st);
    free_peers(v, 3);
}

Test(net_balance, leastconn_uses_active_per_weight)
{
    struct net_peer *v[3] = {mk("a:1", 1), mk("b:1", 2), mk("c:1", 1)};
    void *st = ops(NET_BALANCE_LEASTCONN)->create();
    ops(NET_BALANCE_LEASTCONN)->update(st, v, 3);
    atomic_store(&v[0]->active, 3);
    atomic_store(&v[1]->active, 4); /* 2 per unit of weight */
    atomic_store(&v[2]->active, 1);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ops(NET_BALANCE_LEASTCONN)->pick(st, v, 3, &noctx), v[2]);
    atomic_store(&v[2]->active, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ops(NET_BALANCE_LEASTCONN)->pick(st, v, 3, &noctx), v[1]);
    /* ties rotate */
    for (int i = 0; i < 3; i++)
        atomic_store(&v[i]->active, 0);
    int seen[3] = {0};
    for (int i = 0; i < 30; i++)
        seen[idx_of(v, 3, ops(NET_BALANCE_LEASTCONN)->pick(st, v, 3, &noctx))]++;
    cr_assert(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    ops(NET_BALANCE_LEASTCONN)->destroy(st);
    free_peers(v, 3);
}

Test(net_balance, hash_is_stable_and_weighted)
{
    struct net_peer *v[2] = {mk("a:1", 3), mk("b:1", 1)};
    void *st = ops(NET_BALANCE_HASH)->create();
    ops(NET_BALANCE_HASH)->update(st, v, 2);
    int counts[2] = {0};
    for (int i = 0; i < 20000; i++) {
        char k[32];
        int n = snprintf(k, sizeof k, "key%d", i);
        struct net_pick_ctx c = {net_hash(k, (size_t)n, 0), true, NULL, 0, 0};
        struct net_peer *p = ops(NET_BALANCE_HASH)->pick(st, v, 2, &c);
        cr_assert_eq(p, ops(NET_BALANCE_HASH)->pick(st, v, 2, &c));
        counts[idx_of(v, 2, p)]++;
    }
    double share = counts[0] / 20000.0;
    cr_assert(share > 0.73 && share < 0.77, "share %f", share);
    ops(NET_BALANCE_HASH)->destroy(st);
    free_peers(v, 2);
}

Test(net_balance, chash_moves_only_the_new_peers_share)
{
    struct net_peer *v[5] = {mk("10.0.0.1:80", 1), mk("10.0.0.2:80", 1), mk("10.0.0.3:80", 1), mk("10.0.0.4:80", 1),
                            mk("10.0.0.5:80", 1)};
    for (int n = 2; n <= 4; n++) {
        void *a = ops(NET_BALANCE_CHASH)->create(), *b = ops(NET_BALANCE_CHASH)->create();
        ops(NET_BALANCE_CHASH)->update(a, v, n);
        ops(NET_BALANCE_CHASH)->update(b, v, n + 1);
        int moved = 0, total = 20000;
        for (int i = 0; i < total; i++) {
            struct net_pick_ctx c = {net_hash(&i, sizeof i, 7), true, NULL, 0, 0};
            struct net_peer *p = ops(NET_BALANCE_CHASH)->pick(a, v, n, &c);
            struct net_peer *q = ops(NET_BALANCE_CHASH)->pick(b, v, n + 1, &c);
            if (p != q) {
                moved++;
                cr_assert_eq(q, v[n], "a key moved between old peers");
            }
        }
        double frac = (double)moved / total;
        cr_assert(frac <= 1.0 / (n + 1) + 0.05 && frac >= 1.0 / (n + 1) - 0.08, "n=%d moved %f", n, frac);
        ops(NET_BALANCE_CHASH)->destroy(a);
        ops(NET_BALANCE_CHASH)->destroy(b);
    }
    free_peers(v, 5);
}

Test(net_balance, chash_exclusion_walks_the_ring)
{
    struct net_peer *v[3] = {mk("x:1", 1), mk("y:1", 1), mk("z:1", 1)};
    void *st = ops(NET_BALANCE_CHASH)->create();
    ops(NET_BALANCE_CHASH)->update(st, v, 3);
    for (uint64_t k = 0; k < 1000; k++) {
        struct net_pick_ctx c = {net_hash(&k, sizeof k, 0), true, NULL, 0, 0};
        struct net_peer *p = ops(NET_BALANCE_CHASH)->pick(st, v, 3, &c);
        struct net_peer *ex[1] = {p};
        struct net_pick_ctx c2 = {c.key, true, ex, 1, 0};
        struct net_peer *q = ops(NET_BALANCE_CHASH)->pick(st, v, 3, &c2);
        cr_assert(q && q != p);
    }
    ops(NET_BALANCE_CHASH)->destroy(st);
    free_peers(v, 3);
}

Test(net_balance, lrt_prefers_fast_and_counts_in_flight)
{
    struct net_peer *v[2] = {mk("a:1", 1), mk("b:1", 1)};
    long long now = net_mono_ms();
    atomic_store(&v[0]->ewma_us, 10000);
    atomic_store(&v[1]->ewma_us, 1000);
    atomic_store(&v[0]->ewma_at, now);
    atomic_store(&v[1]->ewma_at, now);
    void *st = ops(NET_BALANCE_LRT)->create();
    ops(NET_BALANCE_LRT)->update(st, v, 2);
    struct net_pick_ctx c = {0, false, NULL, 0, now};
    cr_assert_eq(ops(NET_BALANCE_LRT)->pick(st, v, 2, &c), v[1]);
    atomic_store(&v[1]->active, 20); /* 1.1 ms x 21 > 10.1 ms x 1 */
    cr_assert_eq(ops(NET_BALANCE_LRT)->pick(st, v, 2, &c), v[0]);
    /* an average nobody fed for 20 s has decayed */
    atomic_store(&v[1]->active, 0);
    atomic_store(&v[0]->ewma_at, now - 20000);
    cr_assert_eq(ops(NET_BALANCE_LRT)->pick(st, v, 2, &c), v[0]);
    ops(NET_BALANCE_LRT)->destroy(st);
    free_peers(v, 2);
}

Test(net_balance, p2c_weighted_and_load_aware)
{
    rand_seed(42);
    struct net_peer *v[2] = {mk("a:1", 3), mk("b:1", 1)};
    void *st = ops(NET_BALANCE_P2C)->create();
    ops(NET_BALANCE_P2C)->update(st, v, 2);
    int counts[2] = {0};
    for (int i = 0; i < 20000; i++)
        counts[idx_of(v, 2, ops(NET_BALANCE_P2C)->pick(st, v, 2, &noctx))]++;
    double share = counts[0] / 20000.0;
    cr_assert(share > 0.73 && share < 0.77, "share %f", share);
    atomic_store(&v[0]->active, 10);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(ops(NET_BALANCE_P2C)->pick(st, v, 2, &noctx), v[1]);
    struct net_peer *ex[1] = {v[1]};
    struct net_pick_ctx c = {0, false, ex, 1, 0};
    for (int i = 0; i < 100; i++)
        cr_assert_eq(ops(NET_BALANCE_P2C)->pick(st, v, 2, &c), v[0]);
    ops(NET_BALANCE_P2C)->destroy(st);
    free_peers(v, 2);
}

Test(net_balance, snapshot_follows_state_changes)
{
    struct net_peer *a = mk("a:1", 1), *b = mk("b:1", 1);
    net_pool_add(pool, a);
    net_pool_add(pool, b);
    cr_assert_eq(net_pool_snapshot(pool, 0, 0), 2);
    net_peer_set_admin(a, NET_PEER_DRAIN);
    cr_assert_eq(net_pool_snapshot(pool, 0, 0), 1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(net_pool_pick(pool, 0, &noctx, 0), b);
    net_peer_set_admin(a, NET_PEER_READY);
    net_peer_set_check(b, false);
    cr_assert_eq(net_pool_snapshot(pool, 0, 0), 1);
    cr_assert_eq(net_pool_pick(pool, 0, &noctx, 0), a);
    net_peer_set_check(b, true);
    /* passive: 2 consecutive failures eject for eject-time, doubling */
    net_peer_failure(a, 1000);
    cr_assert_eq(net_pool_snapshot(pool, 0, 1000), 2);
    net_peer_failure(a, 1000);
    cr_assert_eq(atomic_load(&a->ejected_until), 2000);
    cr_assert_eq(net_pool_snapshot(pool, 0, 1000), 1);
    net_pool_expire_ejections(pool, 1999);
    cr_assert_eq(net_pool_snapshot(pool, 0, 1999), 1);
    net_pool_expire_ejections(pool, 2000);
    cr_assert_eq(net_pool_snapshot(pool, 0, 2000), 2);
    net_peer_failure(a, 3000);
    net_peer_failure(a, 3000);
    cr_assert_eq(atomic_load(&a->ejected_until), 5000, "second ejection doubles");
    net_pool_expire_ejections(pool, 5000);
    net_peer_success(a);
    net_peer_failure(a, 6000);
    net_peer_failure(a, 6000);
    cr_assert_eq(atomic_load(&a->ejected_until), 7000, "a success resets the back-off");
    cr_assert_eq(net_pool_remove(pool, b), 0);
    cr_assert_eq(net_pool_remove(pool, b), -1);
    net_pool_expire_ejections(pool, 7000);
    cr_assert_eq(net_pool_snapshot(pool, 0, 7000), 1);
    net_pool_local_deinit(pool, 0);
}

Test(net_balance, aliases_from_the_table)
{
    static const struct {
        const char *name;
        int id;
    } cases[] = {
        {"rr", NET_BALANCE_ROUNDROBIN},      {"RR", NET_BALANCE_ROUNDROBIN},
        {"weighted", NET_BALANCE_WRR},       {"swrr", NET_BALANCE_WRR},
        {"least_conn", NET_BALANCE_LEASTCONN}, {"leastconns", NET_BALANCE_LEASTCONN},
        {"consistent", NET_BALANCE_CHASH},   {"Consistent-Hash", NET_BALANCE_CHASH},
        {"leasttime", NET_BALANCE_LRT},      {"least-time", NET_BALANCE_LRT},
        {"random2", NET_BALANCE_P2C},        {"power-of-two", NET_BALANCE_P2C},
        {"iphash", NET_BALANCE_IPHASH},      {"hash", NET_BALANCE_HASH},
        {"", -1},                            {"least", -1},
        {"rr ", -1},                         {"weighted swrr", -1},
        {"consistent-hashx", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(net_balance_find(cases[i].name), cases[i].id, "%s", cases[i].name);
    for (int i = 0; i < NET_BALANCE__COUNT; i++)
        cr_expect_eq(net_balance_find(net_balancers[i]->name), i);
}

Test(net_balance, health_kinds_table)
{
    cr_assert_eq(net_health_nkinds, NET_HEALTH__COUNT);
    cr_expect_eq(net_health_find("http"), NET_HEALTH_HTTP);
    cr_expect_eq(net_health_find("TCP"), NET_HEALTH_TCP);
    cr_expect_eq(net_health_find("ping"), -1);
}

Test(net_pool, idle_list_most_recent_first)
{
    struct net_peer_local l = {0};
    struct net_idle a, b, c;
    cr_assert_null(net_peer_idle_oldest(&l));
    net_peer_idle_push(&l, &a);
    net_peer_idle_push(&l, &b);
    net_peer_idle_push(&l, &c);
    cr_assert_eq(l.nidle, 3);
    cr_assert_eq(l.idle, &c, "the most recent first");
    cr_assert_eq(net_peer_idle_oldest(&l), &a);
    net_peer_idle_unlink(&l, &b);
    cr_assert_eq(l.nidle, 2);
    cr_assert_eq(c.next, &a);
    cr_assert_eq(a.prev, &c);
    net_peer_idle_unlink(&l, &c);
    cr_assert_eq(l.idle, &a);
    cr_assert_null(a.prev);
    net_peer_idle_unlink(&l, &a);
    cr_assert_null(l.idle);
    cr_assert_eq(l.nidle, 0);
}
