/*
 * test_kv_databases.c — the numbered databases underneath SELECT/SWAPDB:
 *
 *   db.c        kv_db_exchange() moves a database's data (keys, TTL count,
 *               expiry cursor, avg_ttl, and the number when asked) and
 *               leaves statistics, clock, settings and hooks in place
 *   server.c    kv_db_select() / kv_db_get() on a server with 16 databases:
 *               keys stay in their database whichever one is selected, the
 *               hooks fire with the selected database's number
 *   evict.c     one pool across databases: the best candidate of all of
 *               them, deleted from its own database only
 *   expire.c    the avg_ttl estimate of INFO keyspace
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/db.h"
#include "kv/evict.h"
#include "kv/server.h"

#define NDB 16

static struct kv_server *server_new(void)
{
    struct kv_server *s = calloc(1, sizeof *s);
    kv_db_init(&s->db);
    s->ndbs = NDB;
    s->dbs = calloc(NDB, sizeof *s->dbs);
    for (int i = 0; i < NDB; i++) {
        kv_db_init(&s->dbs[i]);
        s->dbs[i].id = i;
    }
    return s;
}

static void server_free(struct kv_server *s)
{
    kv_db_deinit(&s->db);
    for (int i = 0; i < NDB; i++)
        kv_db_deinit(&s->dbs[i]);
    free(s->dbs);
    free(s);
}

static void put(struct kv_db *db, const char *key, const char *val, long long expire_ms)
{
    kv_db_set(db, kv_obj_new_string(key, strlen(key), val, strlen(val), expire_ms), false);
}

static const char *get(struct kv_db *db, const char *key)
{
    static char buf[64];
    struct kv_obj *o = db_lookup(db, key, strlen(key), LOOKUP_NOTOUCH);
    if (!o)
        return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)obj_vlen(o), obj_cval(o));
    return buf;
}

static int modified_db[8];
static int nmodified;

static void on_modify(void *arg, const char *key, size_t klen)
{
    struct kv_server *s = arg;
    (void)key, (void)klen;
    if (nmodified < 8)
        modified_db[nmodified] = s->db.id;
    nmodified++;
}

Test(databases, exchange_moves_data_not_context)
{
    struct kv_db a, b;
    kv_db_init(&a);
    kv_db_init(&b);
    a.id = 1;
    b.id = 2;
    put(&a, "k", "in-a", 5000);
    a.avg_ttl = 42;
    a.st.hits = 7;
    kv_db_exchange(&a, &b, false);
    cr_assert_eq(db_size(&a), 0);
    cr_assert_eq(db_size(&b), 1);
    cr_assert_eq(b.volatile_keys, 1);
    cr_assert_eq(a.volatile_keys, 0);
    cr_assert_eq(b.avg_ttl, 42);
    cr_assert_eq(a.id, 1, "ids stay without with_id");
    cr_assert_eq(a.st.hits, 7, "statistics stay in place");
    cr_assert_str_eq(get(&b, "k"), "in-a");
    kv_db_exchange(&a, &b, true);
    cr_assert_eq(a.id, 2);
    cr_assert_str_eq(get(&a, "k"), "in-a");
    kv_db_deinit(&a);
    kv_db_deinit(&b);
}

Test(databases, select_keeps_keys_in_their_database)
{
    struct kv_server *s = server_new();
    s->db.on_modify = on_modify;
    s->db.on_modify_arg = s;
    nmodified = 0;
    for (int i = 0; i < NDB; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        kv_db_select(s, i);
        cr_assert_eq(s->db.id, i);
        put(&s->db, "k", v, -1);
    }
    for (int i = 0; i < 8; i++)
        cr_assert_eq(modified_db[i], i, "the hook saw database %d for write %d", modified_db[i], i);
    for (int i = NDB - 1; i >= 0; i--) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        kv_db_select(s, i);
        cr_assert_str_eq(get(&s->db, "k"), v);
        cr_assert_eq(db_size(&s->db), 1);
    }
    /* reading another database without selecting it */
    kv_db_select(s, 3);
    cr_assert_eq(db_size(kv_db_get(s, 3)), 1);
    cr_assert_eq(kv_db_get(s, 3), &s->db);
    cr_assert_str_eq(get(kv_db_get(s, 9), "k"), "9");
    /* SWAPDB: data moves, numbers stay */
    kv_db_exchange(kv_db_get(s, 3), kv_db_get(s, 9), false);
    cr_assert_eq(s->db.id, 3);
    cr_assert_str_eq(get(&s->db, "k"), "9");
    kv_db_select(s, 9);
    cr_assert_str_eq(get(&s->db, "k"), "3");
    server_free(s);
}

Test(databases, eviction_pool_spans_databases)
{
    struct kv_server *s = server_new();
    const struct kv_evict_policy *p = &kv_policy_allkeys_lru;
    /* old keys in db 5, fresh ones in db 0: LRU must pick from db 5 */
    kv_db_set_now(&s->db, 1000000);
    kv_db_select(s, 5);
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "old%d", i);
        put(&s->db, k, "v", -1);
    }
    kv_db_set_now(&s->db, 1000000 + 3600 * 1000);
    kv_db_select(s, 0);
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "new%d", i);
        put(&s->db, k, "v", -1);
    }
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < NDB; i++) {
            if (db_size(kv_db_get(s, i)) == 0)
                continue;
            kv_db_select(s, i);
            kv_evict_pool_fill(&s->db, p, 5);
        }
        int best = kv_evict_pool_best_db();
        cr_assert_eq(best, 5, "round %d: best candidate in db %d", round, best);
        kv_db_select(s, best);
        cr_assert(kv_evict_pool_take(&s->db, p));
    }
    cr_assert_eq(db_size(kv_db_get(s, 5)), 40);
    cr_assert_eq(db_size(kv_db_get(s, 0)), 50);
    /* a candidate is only deleted from its own database */
    kv_db_select(s, 0);
    put(&s->db, "old49", "same name in db 0", -1);
    kv_db_select(s, 5);
    kv_evict_pool_fill(&s->db, p, 5);
    kv_db_select(s, 0);
    while (kv_evict_pool_best_db() == 5)
        cr_assert_not(kv_evict_pool_take(&s->db, p), "deleted a db 5 candidate from db 0");
    cr_assert_str_eq(get(&s->db, "old49"), "same name in db 0");
    server_free(s);
}

Test(databases, avg_ttl_estimate)
{
    struct kv_server *s = calloc(1, sizeof *s);
    kv_db_init(&s->db);
    long long t0 = 1700000000000LL;
    kv_db_set_now(&s->db, t0);
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "t%d", i);
        put(&s->db, k, "v", t0 + 100000);
    }
    kv_expire_cycle(s, 100000);
    /* the first sample seeds the estimate (Redis: 100000/50*49 + 100000/50) */
    cr_assert_eq(s->db.avg_ttl, 100000, "avg_ttl %lld", s->db.avg_ttl);
    kv_db_set_now(&s->db, t0 + 50000);
    for (int i = 0; i < 200; i++)
        kv_expire_cycle(s, 100000);
    cr_assert(s->db.avg_ttl < 100000 && s->db.avg_ttl >= 50000, "avg_ttl %lld", s->db.avg_ttl);
    kv_db_deinit(&s->db);
    free(s);
}

/* As Redis (keyIsExpired: now > when): a key is alive through its own
 * millisecond and gone after it, for lookups and for the active cycle alike.
 * The replica of a redis-server primary saw a key expired one millisecond
 * before its primary did (kv said expired at now == when). */
Test(databases, expired_only_past_its_millisecond)
{
    struct kv_server *s = calloc(1, sizeof *s);
    kv_db_init(&s->db);
    long long t0 = 1700000000000LL;
    kv_db_set_now(&s->db, t0);
    put(&s->db, "k", "v", t0 + 10);
    put(&s->db, "swept", "v", t0 + 10);
    kv_db_set_now(&s->db, t0 + 10);
    cr_assert_str_eq(get(&s->db, "k"), "v");
    kv_expire_cycle(s, 100000);
    cr_assert_eq(s->db.st.expired, 0);
    cr_assert_str_eq(get(&s->db, "swept"), "v");
    kv_db_set_now(&s->db, t0 + 11);
    cr_assert_null(get(&s->db, "k"));
    kv_expire_cycle(s, 100000);
    cr_assert_eq(s->db.st.expired, 2, "expired %llu", (unsigned long long)s->db.st.expired);
    kv_db_deinit(&s->db);
    free(s);
}
