/*
 * test_db.c — unit tests of the kv keyspace layers, bottom up:
 *
 *   kv/dict.c     insert/find/remove across incremental rehashing; the SCAN
 *                 guarantee (every key present for a whole scan is returned
 *                 at least once) while the table grows and shrinks under the
 *                 cursor; kv_dict_sample and kv_dict_random
 *   kv/db.c       lazy expiry, TTL set/remove (object reallocation), string
 *                 resize, the volatile_keys count, SET KEEPTTL
 *   kv/hashobj.c  packed <-> dict conversion at the limits, set/get/del and
 *                 iteration in both encodings
 *   kv/evict*.c   kv_evict_one() for every policy on keyspaces with known
 *                 access patterns (LRU idle times and LFU counters driven
 *                 through kv_db_set_now, insertion order, TTLs)
 *   kv/expire.c   kv_expire_cycle() on a zeroed struct kv_server whose db
 *                 alone is initialized (the cycle touches nothing else)
 *
 * Randomness: every test seeds the PRNG (rand_seed) so a failure repeats;
 * the thresholds leave room for other seeds too.
 */
#include <criterion/criterion.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "kv/db.h"
#include "kv/dict.h"
#include "kv/evict.h"
#include "kv/hashobj.h"
#include "kv/server.h"

/* ---- dict helpers ---------------------------------------------------------- */

struct tnode {
    struct dict_node dn;
    int id;
    char key[];
};

#define TKEY_OFF offsetof(struct tnode, key)

static int fmt_key(char *buf, int id) { return sprintf(buf, "key:%d", id); }

static struct tnode *tnode_new(int id)
{
    char k[32];
    int l = fmt_key(k, id);
    struct tnode *n = xmalloc(sizeof *n + (size_t)l);
    n->dn.next = NULL;
    n->dn.klen = (uint32_t)l;
    n->dn.meta = 0;
    n->id = id;
    memcpy(n->key, k, (size_t)l);
    return n;
}

static void tinsert(struct dict *d, int id)
{
    struct tnode *n = tnode_new(id);
    kv_dict_insert(d, &n->dn, kv_dict_hash(n->key, n->dn.klen));
}

static struct tnode *tfind(struct dict *d, int id)
{
    char k[32];
    int l = fmt_key(k, id);
    return (struct tnode *)dict_find(d, k, (size_t)l, kv_dict_hash(k, (size_t)l));
}

static bool tremove(struct dict *d, int id)
{
    char k[32];
    int l = fmt_key(k, id);
    struct dict_node *n = kv_dict_remove(d, k, (size_t)l, kv_dict_hash(k, (size_t)l));
    xfree(n);
    return n != NULL;
}

static void tfree(struct dict_node *n, void *arg)
{
    (void)arg;
    xfree(n);
}

/* ---- dict: basic operations across rehashing --------------------------------- */

Test(dict, insert_find_remove_across_rehash)
{
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    cr_assert_null(tfind(&d, 1));
    bool saw_rehash = false;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        tinsert(&d, i);
        saw_rehash |= dict_is_rehashing(&d);
        /* the newest key and an old one are always found, also mid-rehash */
        cr_assert_not_null(tfind(&d, i));
        cr_assert_not_null(tfind(&d, i / 2));
    }
    cr_assert(saw_rehash, "20000 inserts never started an incremental rehash");
    cr_assert_eq(dict_size(&d), (uint64_t)n);
    for (int i = 0; i < n; i++) {
        struct tnode *t = tfind(&d, i);
        cr_assert_not_null(t, "key %d lost", i);
        cr_assert_eq(t->id, i);
    }
    cr_assert_null(tfind(&d, n));
    for (int i = 0; i < n; i += 2)
        cr_assert(tremove(&d, i));
    cr_assert_not(tremove(&d, 0));
    cr_assert_eq(dict_size(&d), (uint64_t)n / 2);
    /* shrink while keys remain (1 in 16 left) and check every survivor */
    for (int i = 1; i < n; i += 2)
        if (i % 16 != 15)
            cr_assert(tremove(&d, i));
    uint64_t buckets = dict_buckets(&d);
    kv_dict_maybe_shrink(&d);
    cr_assert(dict_is_rehashing(&d), "a mostly empty table did not start shrinking");
    for (int i = 0; i < n; i++)
        cr_assert_eq(tfind(&d, i) != NULL, i % 16 == 15, "key %d", i);
    while (kv_dict_rehash(&d, 100))
        ;
    cr_assert_not(dict_is_rehashing(&d));
    cr_assert_lt(dict_buckets(&d), buckets);
    cr_assert_eq(dict_size(&d), (uint64_t)n / 16);
    for (int i = 0; i < n; i++)
        cr_assert_eq(tfind(&d, i) != NULL, i % 16 == 15, "key %d", i);
    kv_dict_deinit(&d, tfree, NULL);
}

Test(dict, unlink_ref_during_rehash)
{
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    for (int i = 0; i < 1000; i++)
        tinsert(&d, i);
    /* force a rehash in progress, then remove keys from both tables */
    for (int i = 1000; !dict_is_rehashing(&d); i++)
        tinsert(&d, i);
    uint64_t size = dict_size(&d);
    int removed = 0;
    for (int i = 0; i < 1000; i += 3) {
        char k[32];
        int l = fmt_key(k, i);
        struct dict_node **ref = kv_dict_find_ref(&d, k, (size_t)l, kv_dict_hash(k, (size_t)l));
        cr_assert_not_null(ref);
        xfree(kv_dict_unlink_ref(&d, ref));
        removed++;
    }
    cr_assert_eq(dict_size(&d), size - (uint64_t)removed);
    while (kv_dict_rehash(&d, 10))
        ;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(tfind(&d, i) != NULL, i % 3 != 0, "key %d", i);
    kv_dict_deinit(&d, tfree, NULL);
}

/* ---- dict: the SCAN guarantee ------------------------------------------------ */

struct scan_seen {
    unsigned char *seen;
    int max;
    uint64_t visits;
};

static void scan_mark(struct dict_node *n, void *arg)
{
    struct scan_seen *s = arg;
    int id = ((struct tnode *)n)->id;
    if (id < s->max)
        s->seen[id] = 1;
    s->visits++;
}

/*
 * Keys [0, stable) stay for the whole scan. Between cursor steps `step` is
 * called to change the table (insert/remove other keys, rehash, shrink).
 */
static void scan_with_changes(int stable, void (*step)(struct dict *d, int call), const char *what)
{
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    for (int i = 0; i < stable; i++)
        tinsert(&d, i);
    struct scan_seen s = {calloc((size_t)stable, 1), stable, 0};
    uint64_t cursor = 0;
    int calls = 0;
    do {
        cursor = kv_dict_scan(&d, cursor, scan_mark, &s);
        step(&d, calls++);
        cr_assert_lt(calls, 10000000, "%s: scan does not terminate", what);
    } while (cursor != 0);
    for (int i = 0; i < stable; i++)
        cr_assert(s.seen[i], "%s: key %d present for the whole scan was never returned", what, i);
    free(s.seen);
    kv_dict_deinit(&d, tfree, NULL);
}

#define EXTRA_BASE 1000000

static void step_grow(struct dict *d, int call)
{
    /* 8 inserts per cursor step for a while: several doublings under the
     * cursor (growing forever would keep the scan from ever finishing) */
    if (call < 1000)
        for (int k = 0; k < 8; k++)
            tinsert(d, EXTRA_BASE + call * 8 + k);
}

static int grow_shrink_phase;

static void step_grow_then_shrink(struct dict *d, int call)
{
    /* grow for a while, then delete everything extra and shrink, twice */
    int cycle = call % 600;
    if (cycle < 300) {
        for (int k = 0; k < 10; k++)
            tinsert(d, EXTRA_BASE + grow_shrink_phase * 10000 + cycle * 10 + k);
    } else if (cycle == 300) {
        for (int i = 0; i < 3000; i++)
            tremove(d, EXTRA_BASE + grow_shrink_phase * 10000 + i);
        grow_shrink_phase++;
    } else {
        if (!dict_is_rehashing(d))
            kv_dict_maybe_shrink(d);
        kv_dict_rehash(d, 1);
    }
}

static void step_shrink(struct dict *d, int call)
{
    /* the extra keys leave early on, then the table shrinks under the cursor */
    if (call < 200)
        for (int k = 0; k < 50; k++)
            tremove(d, EXTRA_BASE + call * 50 + k);
    if (!dict_is_rehashing(d))
        kv_dict_maybe_shrink(d);
    kv_dict_rehash(d, 1);
}

Test(dict, scan_stable_table)
{
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    cr_assert_eq(kv_dict_scan(&d, 0, scan_mark, NULL), 0, "an empty dict scans to 0 at once");
    for (int i = 0; i < 5000; i++)
        tinsert(&d, i);
    while (kv_dict_rehash(&d, 100))
        ;
    struct scan_seen s = {calloc(5000, 1), 5000, 0};
    uint64_t cursor = 0;
    do
        cursor = kv_dict_scan(&d, cursor, scan_mark, &s);
    while (cursor);
    for (int i = 0; i < 5000; i++)
        cr_assert(s.seen[i], "key %d", i);
    cr_assert_eq(s.visits, 5000, "a stable table returns each key exactly once");
    free(s.seen);
    kv_dict_deinit(&d, tfree, NULL);
}

Test(dict, scan_while_growing) { scan_with_changes(2000, step_grow, "growing"); }

Test(dict, scan_while_growing_and_shrinking)
{
    grow_shrink_phase = 0;
    scan_with_changes(3000, step_grow_then_shrink, "grow+shrink");
}

static void prefill_extra(struct dict *d)
{
    for (int i = 0; i < 10000; i++)
        tinsert(d, EXTRA_BASE + i);
    while (kv_dict_rehash(d, 100))
        ;
}

Test(dict, scan_while_shrinking)
{
    /* a big table with 10000 extra keys that go away during the scan */
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    const int stable = 500;
    for (int i = 0; i < stable; i++)
        tinsert(&d, i);
    prefill_extra(&d);
    struct scan_seen s = {calloc(stable, 1), stable, 0};
    uint64_t cursor = 0;
    int calls = 0;
    bool shrank = false;
    do {
        cursor = kv_dict_scan(&d, cursor, scan_mark, &s);
        step_shrink(&d, calls++);
        shrank |= dict_is_rehashing(&d);
    } while (cursor != 0 && calls < 10000000);
    cr_assert(shrank, "the table never shrank during the scan");
    for (int i = 0; i < stable; i++)
        cr_assert(s.seen[i], "key %d present for the whole scan was never returned", i);
    free(s.seen);
    kv_dict_deinit(&d, tfree, NULL);
}

Test(dict, scan_resumes_mid_rehash)
{
    /* start the scan while a rehash is in progress and keep it in progress */
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    int next = 0;
    while (!dict_is_rehashing(&d) || dict_size(&d) < 3000)
        tinsert(&d, next++);
    int stable = next;
    struct scan_seen s = {calloc((size_t)stable, 1), stable, 0};
    uint64_t cursor = 0;
    int calls = 0;
    do {
        cursor = kv_dict_scan(&d, cursor, scan_mark, &s);
        if (calls++ % 3 == 0)
            kv_dict_rehash(&d, 1);
    } while (cursor);
    for (int i = 0; i < stable; i++)
        cr_assert(s.seen[i], "key %d", i);
    free(s.seen);
    kv_dict_deinit(&d, tfree, NULL);
}

/* ---- dict: sampling -------------------------------------------------------------- */

Test(dict, sample)
{
    rand_seed(1);
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    struct dict_node *out[64];
    cr_assert_eq(kv_dict_sample(&d, out, 16), 0);
    for (int i = 0; i < 3; i++)
        tinsert(&d, i);
    unsigned got = kv_dict_sample(&d, out, 16);
    cr_assert(got >= 1 && got <= 3, "got %u from a 3-key dict", got);
    for (int i = 3; i < 2000; i++)
        tinsert(&d, i);
    int *hits = calloc(2000, sizeof *hits);
    for (int round = 0; round < 2000; round++) {
        got = kv_dict_sample(&d, out, 16);
        cr_assert_eq(got, 16, "round %d: %u of 16", round, got);
        for (unsigned k = 0; k < got; k++) {
            int id = ((struct tnode *)out[k])->id;
            cr_assert(id >= 0 && id < 2000);
            cr_assert_eq(tfind(&d, id), (struct tnode *)out[k], "a sampled node is not in the dict");
            hits[id]++;
        }
    }
    int never = 0;
    for (int i = 0; i < 2000; i++)
        never += hits[i] == 0;
    cr_assert_lt(never, 20, "%d of 2000 keys never sampled in 32000 picks", never);
    /* also while rehashing */
    for (int i = 2000; !dict_is_rehashing(&d); i++)
        tinsert(&d, i);
    cr_assert_eq(kv_dict_sample(&d, out, 16), 16);
    cr_assert_eq(kv_dict_sample(&d, out, 0), 0);
    free(hits);
    kv_dict_deinit(&d, tfree, NULL);
}

Test(dict, random)
{
    rand_seed(2);
    struct dict d;
    kv_dict_init(&d, TKEY_OFF);
    cr_assert_null(kv_dict_random(&d));
    for (int i = 0; i < 10; i++)
        tinsert(&d, i);
    int hits[10] = {0};
    for (int i = 0; i < 10000; i++) {
        struct tnode *t = (struct tnode *)kv_dict_random(&d);
        cr_assert_not_null(t);
        hits[t->id]++;
    }
    /* a random bucket, then a random node of its chain: not uniform, but
     * every key comes up (a key alone in a bucket at most ~1/4 of the time) */
    for (int i = 0; i < 10; i++)
        cr_assert(hits[i] > 100 && hits[i] < 3000, "key %d picked %d times of 10000", i, hits[i]);
    /* mid-rehash: always a live node */
    for (int i = 10; !dict_is_rehashing(&d); i++)
        tinsert(&d, i);
    for (int i = 0; i < 1000; i++) {
        struct tnode *t = (struct tnode *)kv_dict_random(&d);
        cr_assert_eq(tfind(&d, t->id), t);
    }
    kv_dict_deinit(&d, tfree, NULL);
}

/* ---- db ------------------------------------------------------------------------ */

static struct kv_obj *put(struct kv_db *db, const char *k, const char *v, long long expire)
{
    return kv_db_set(db, kv_obj_new_string(k, strlen(k), v, strlen(v), expire), false);
}

static struct kv_obj *get(struct kv_db *db, const char *k, int flags)
{
    return db_lookup(db, k, strlen(k), flags);
}

static bool val_is(const struct kv_obj *o, const char *v)
{
    return o && obj_type(o) == OBJ_STRING && obj_vlen(o) == strlen(v) && memcmp(obj_cval(o), v, strlen(v)) == 0;
}

static int expire_calls;
static char expire_last[64];

static void on_expire(void *arg, const char *key, size_t klen)
{
    (void)arg;
    expire_calls++;
    snprintf(expire_last, sizeof expire_last, "%.*s", (int)klen, key);
}

Test(db, lazy_expiry)
{
    struct kv_db db;
    kv_db_init(&db);
    db.on_expire = on_expire;
    expire_calls = 0;
    kv_db_set_now(&db, 1000000);
    put(&db, "live", "1", -1);
    put(&db, "soon", "2", 1000500);
    put(&db, "late", "3", 2000000);
    cr_assert_eq(db.volatile_keys, 2);
    cr_assert_eq(db_size(&db), 3);

    kv_db_set_now(&db, 1000499);
    cr_assert(val_is(get(&db, "soon", 0), "2"));
    kv_db_set_now(&db, 1000500); /* its own millisecond: still there (as Redis: gone once now > expire) */
    cr_assert(val_is(get(&db, "soon", 0), "2"));
    kv_db_set_now(&db, 1000501); /* past it: gone */
    cr_assert_null(get(&db, "soon", 0));
    cr_assert_eq(expire_calls, 1);
    cr_assert_str_eq(expire_last, "soon");
    cr_assert_eq(db.st.expired, 1);
    cr_assert_eq(db.volatile_keys, 1);
    cr_assert_eq(db_size(&db), 2);
    cr_assert_eq(db.st.misses, 1);
    cr_assert_eq(db.st.hits, 2);

    /* a delete of an expired key reports false (it expired, nobody deleted it) */
    kv_db_set_now(&db, 3000000);
    cr_assert_not(kv_db_delete(&db, "late", 4));
    cr_assert_eq(db.st.expired, 2);
    cr_assert(kv_db_delete(&db, "live", 4));
    cr_assert_eq(db_size(&db), 0);
    cr_assert_eq(db.volatile_keys, 0);

    /* write lookups keep no hit/miss statistics */
    uint64_t h = db.st.hits, m = db.st.misses;
    get(&db, "nokey", LOOKUP_WRITE);
    put(&db, "k", "v", -1);
    get(&db, "k", LOOKUP_WRITE);
    cr_assert_eq(db.st.hits, h);
    cr_assert_eq(db.st.misses, m);
    kv_db_deinit(&db);
}

Test(db, set_overwrites_and_expired_key_replaced)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 5000);
    put(&db, "k", "old", 6000);
    kv_db_set_now(&db, 7000);
    /* the old value expired: SET adds, the expiry is counted */
    put(&db, "k", "new", -1);
    cr_assert_eq(db.st.expired, 1);
    cr_assert_eq(db.volatile_keys, 0);
    cr_assert(val_is(get(&db, "k", 0), "new"));
    cr_assert_eq(db_size(&db), 1);
    kv_db_deinit(&db);
}

Test(db, ttl_set_and_remove_reallocates)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 100);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put(&db, "s", big, -1);
    struct kv_obj **ref = kv_db_lookup_ref(&db, "s", 1, LOOKUP_WRITE);
    cr_assert_not_null(ref);
    struct kv_obj *o = kv_db_set_expire(&db, ref, 5000);
    cr_assert_eq(*ref, o, "*ref follows the reallocated object");
    cr_assert(obj_has_ttl(o));
    cr_assert_eq(obj_expire(o), 5000);
    cr_assert(val_is(o, big), "value damaged by adding a TTL");
    cr_assert_eq(db.volatile_keys, 1);
    /* changing an existing TTL: in place, count unchanged */
    ref = kv_db_lookup_ref(&db, "s", 1, LOOKUP_WRITE);
    o = kv_db_set_expire(&db, ref, 9000);
    cr_assert_eq(obj_expire(o), 9000);
    cr_assert_eq(db.volatile_keys, 1);
    /* removing it */
    ref = kv_db_lookup_ref(&db, "s", 1, LOOKUP_WRITE);
    o = kv_db_set_expire(&db, ref, -1);
    cr_assert_not(obj_has_ttl(o));
    cr_assert_eq(obj_expire(o), -1);
    cr_assert(val_is(o, big), "value damaged by removing a TTL");
    cr_assert_eq(db.volatile_keys, 0);
    /* removing a TTL that is not there changes nothing */
    ref = kv_db_lookup_ref(&db, "s", 1, LOOKUP_WRITE);
    cr_assert_eq(kv_db_set_expire(&db, ref, -1), *ref);
    cr_assert_eq(db.volatile_keys, 0);

    /* a hash keeps its value pointer across TTL changes */
    struct kv_hash *h = kv_hash_new();
    kv_hash_set(h, "f", 1, "v", 1);
    kv_db_add(&db, kv_obj_new_hash("h", 1, h, -1));
    ref = kv_db_lookup_ref(&db, "h", 1, LOOKUP_WRITE);
    o = kv_db_set_expire(&db, ref, 8000);
    cr_assert_eq(obj_hash(o), h);
    cr_assert_eq(db.volatile_keys, 1);
    ref = kv_db_lookup_ref(&db, "h", 1, LOOKUP_WRITE);
    o = kv_db_set_expire(&db, ref, -1);
    cr_assert_eq(obj_hash(o), h);
    cr_assert_eq(db.volatile_keys, 0);
    /* the lookups found the same objects afterwards */
    cr_assert(val_is(get(&db, "s", 0), big));
    cr_assert_eq(obj_hash(get(&db, "h", 0)), h);
    kv_db_deinit(&db);
}

Test(db, string_resize)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1);
    put(&db, "k", "hello", 777);
    struct kv_obj **ref = kv_db_lookup_ref(&db, "k", 1, LOOKUP_WRITE);
    /* grow well past the allocation, with a TTL in between key and value */
    struct kv_obj *o = kv_db_string_resize(&db, ref, 100000);
    cr_assert_eq(*ref, o);
    cr_assert_eq(obj_vlen(o), 100000);
    cr_assert(kv_obj_string_capacity(o) >= 100000);
    cr_assert_eq(memcmp(obj_cval(o), "hello", 5), 0);
    cr_assert_eq(obj_expire(o), 777);
    memset(obj_val(o) + 5, 'y', 100000 - 5);
    /* shrink: content up to the new length kept */
    ref = kv_db_lookup_ref(&db, "k", 1, LOOKUP_WRITE);
    o = kv_db_string_resize(&db, ref, 7);
    cr_assert(val_is(o, "helloyy"));
    /* repeated small growth (APPEND) keeps content */
    for (int i = 0; i < 1000; i++) {
        ref = kv_db_lookup_ref(&db, "k", 1, LOOKUP_WRITE);
        size_t l = obj_vlen(*ref);
        o = kv_db_string_resize(&db, ref, l + 1);
        obj_val(o)[l] = (char)('a' + i % 26);
    }
    o = get(&db, "k", 0);
    cr_assert_eq(obj_vlen(o), 1007);
    cr_assert_eq(obj_cval(o)[7], 'a');
    cr_assert_eq(obj_cval(o)[1006], (char)('a' + 999 % 26));
    cr_assert_eq(obj_expire(o), 777);
    cr_assert_eq(db.volatile_keys, 1);
    kv_db_deinit(&db);
}

Test(db, keep_ttl_and_volatile_count)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    put(&db, "a", "1", 50000);
    put(&db, "b", "1", 50000);
    put(&db, "c", "1", -1);
    cr_assert_eq(db.volatile_keys, 2);
    /* SET KEEPTTL: the new value carries the old TTL */
    struct kv_obj *o = kv_db_set(&db, kv_obj_new_string("a", 1, "22", 2, -1), true);
    cr_assert_eq(obj_expire(o), 50000);
    cr_assert(val_is(o, "22"));
    cr_assert_eq(db.volatile_keys, 2);
    /* plain SET drops it */
    o = kv_db_set(&db, kv_obj_new_string("b", 1, "22", 2, -1), false);
    cr_assert_eq(obj_expire(o), -1);
    cr_assert_eq(db.volatile_keys, 1);
    /* KEEPTTL on a key without TTL, and a new value with its own TTL */
    o = kv_db_set(&db, kv_obj_new_string("c", 1, "3", 1, -1), true);
    cr_assert_eq(obj_expire(o), -1);
    o = kv_db_set(&db, kv_obj_new_string("c", 1, "3", 1, 9000), true);
    cr_assert_eq(obj_expire(o), 9000);
    cr_assert_eq(db.volatile_keys, 2);
    /* KEEPTTL on a new key */
    o = kv_db_set(&db, kv_obj_new_string("d", 1, "4", 1, -1), true);
    cr_assert_eq(obj_expire(o), -1);
    /* replace by ref: counts follow the new object */
    struct kv_obj **ref = kv_db_lookup_ref(&db, "a", 1, LOOKUP_WRITE);
    kv_db_replace(&db, ref, kv_obj_new_string("a", 1, "x", 1, -1));
    cr_assert_eq(db.volatile_keys, 1);
    /* unlink without free */
    ref = kv_db_lookup_ref(&db, "c", 1, LOOKUP_WRITE);
    o = kv_db_unlink_ref(&db, ref);
    cr_assert_eq(db.volatile_keys, 0);
    cr_assert_null(get(&db, "c", 0));
    kv_obj_free(o);
    /* flush resets the count */
    put(&db, "e", "1", 99999);
    kv_db_flush(&db);
    cr_assert_eq(db.volatile_keys, 0);
    cr_assert_eq(db_size(&db), 0);
    kv_db_deinit(&db);
}

Test(db, lru_lfu_tracking)
{
    struct kv_db db;
    kv_db_init(&db);
    db.lfu_log_factor = 0; /* every access increments */
    kv_db_set_now(&db, 10 * 60000);
    put(&db, "k", "v", -1);
    struct kv_obj *o = get(&db, "k", LOOKUP_NOTOUCH);
    unsigned f0 = kv_db_lfu_decayed(&db, o);
    for (int i = 0; i < 10; i++)
        get(&db, "k", 0);
    cr_assert_eq(kv_db_lfu_decayed(&db, o), f0 + 10);
    get(&db, "k", LOOKUP_NOTOUCH);
    cr_assert_eq(kv_db_lfu_decayed(&db, o), f0 + 10, "NOTOUCH changed the counter");
    kv_db_set_now(&db, 10 * 60000 + 5000);
    /* the LRU clock counts 16 ms units */
    cr_assert(kv_db_idle_ms(&db, o) > 5000 - 32 && kv_db_idle_ms(&db, o) <= 5000, "idle %lld", kv_db_idle_ms(&db, o));
    get(&db, "k", 0);
    cr_assert_lt(kv_db_idle_ms(&db, o), 32);
    /* decay: one per minute (lfu_decay_time 1) */
    unsigned f1 = kv_db_lfu_decayed(&db, o);
    kv_db_set_now(&db, 10 * 60000 + 5000 + 3 * 60000);
    cr_assert_eq(kv_db_lfu_decayed(&db, o), f1 - 3);
    kv_db_deinit(&db);
}

Test(db, new_key_lfu_starts_at_init_val)
{
    /* Redis 7.0: SET then OBJECT FREQ (allkeys-lfu) says 5 (LFU_INIT_VAL),
     * a first read makes it 6: a new key must not look colder than keys that
     * were read once, or LFU evicts what was just written. */
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1700000000000LL);
    put(&db, "k", "abc", -1);
    struct kv_obj *o = get(&db, "k", LOOKUP_NOTOUCH);
    cr_assert_eq(kv_db_lfu_decayed(&db, o), 5, "a new key's LFU counter is %u, Redis gives 5", kv_db_lfu_decayed(&db, o));
    get(&db, "k", 0);
    cr_assert_eq(kv_db_lfu_decayed(&db, o), 6);
    kv_db_deinit(&db);
}

/* ---- hashobj -------------------------------------------------------------------- */

static bool hget_is(struct kv_hash *h, const char *f, const char *want)
{
    const char *v;
    size_t vl;
    if (!kv_hash_get(h, f, strlen(f), &v, &vl))
        return want == NULL;
    return want && vl == strlen(want) && memcmp(v, want, vl) == 0;
}

static int hset(struct kv_hash *h, const char *f, const char *v) { return kv_hash_set(h, f, strlen(f), v, strlen(v)); }

struct hcount {
    int n;
    size_t bytes;
};

static void hcount_cb(const char *f, size_t fl, const char *v, size_t vl, void *arg)
{
    struct hcount *c = arg;
    c->n++;
    c->bytes += fl + vl;
}

Test(hashobj, packed_set_get_del)
{
    kv_hash_max_entries = 8;
    kv_hash_max_value = 16;
    struct kv_hash *h = kv_hash_new();
    cr_assert(kv_hash_is_packed(h));
    cr_assert_eq(kv_hash_len(h), 0);
    cr_assert(hget_is(h, "nope", NULL));
    cr_assert_eq(hset(h, "a", "1"), 1);
    cr_assert_eq(hset(h, "b", "2"), 1);
    cr_assert_eq(hset(h, "a", "one"), 0, "update reported as new");
    cr_assert_eq(hset(h, "b", "3"), 0);
    cr_assert_eq(hset(h, "e", ""), 1);
    cr_assert(hget_is(h, "a", "one"));
    cr_assert(hget_is(h, "b", "3"));
    cr_assert(hget_is(h, "e", ""));
    cr_assert_eq(kv_hash_len(h), 3);
    cr_assert(kv_hash_del(h, "a", 1));
    cr_assert_not(kv_hash_del(h, "a", 1));
    cr_assert(hget_is(h, "a", NULL));
    cr_assert(hget_is(h, "b", "3"));
    cr_assert_eq(kv_hash_len(h), 2);
    cr_assert(kv_hash_is_packed(h));
    struct hcount cnt = {0};
    kv_hash_foreach(h, hcount_cb, &cnt);
    cr_assert_eq(cnt.n, 2);
    cr_assert_eq(kv_hash_scan(h, 0, hcount_cb, &cnt), 0, "a packed hash scans in one call");
    kv_hash_free(h);
    kv_hash_free(NULL);
}

Test(hashobj, convert_at_entry_limit)
{
    kv_hash_max_entries = 8;
    kv_hash_max_value = 16;
    struct kv_hash *h = kv_hash_new();
    char f[16], v[16];
    for (int i = 0; i < 8; i++) {
        snprintf(f, sizeof f, "f%d", i);
        snprintf(v, sizeof v, "v%d", i);
        cr_assert_eq(hset(h, f, v), 1);
    }
    cr_assert(kv_hash_is_packed(h), "8 fields with a limit of 8 must stay packed");
    cr_assert_eq(hset(h, "f0", "updated"), 0);
    cr_assert(kv_hash_is_packed(h), "an update does not add an entry");
    cr_assert_eq(hset(h, "f8", "v8"), 1);
    cr_assert_not(kv_hash_is_packed(h), "9 fields with a limit of 8 must convert");
    cr_assert_eq(kv_hash_len(h), 9);
    cr_assert(hget_is(h, "f0", "updated"));
    for (int i = 1; i < 9; i++) {
        snprintf(f, sizeof f, "f%d", i);
        snprintf(v, sizeof v, "v%d", i);
        cr_assert(hget_is(h, f, v), "%s lost in the conversion", f);
    }
    /* dict encoding: set/get/del, and it stays a dict when it shrinks */
    cr_assert_eq(hset(h, "f1", "x"), 0);
    cr_assert(hget_is(h, "f1", "x"));
    for (int i = 0; i < 9; i++) {
        snprintf(f, sizeof f, "f%d", i);
        cr_assert(kv_hash_del(h, f, strlen(f)));
    }
    cr_assert_not(kv_hash_del(h, "f0", 2));
    cr_assert_eq(kv_hash_len(h), 0);
    cr_assert_not(kv_hash_is_packed(h));
    kv_hash_free(h);
}

Test(hashobj, convert_at_value_limit)
{
    kv_hash_max_entries = 128;
    kv_hash_max_value = 16;
    char v16[17], v17[18];
    memset(v16, 'a', 16);
    v16[16] = '\0';
    memset(v17, 'b', 17);
    v17[17] = '\0';

    struct kv_hash *h = kv_hash_new();
    hset(h, "k", "small");
    cr_assert_eq(hset(h, "f", v16), 1);
    cr_assert_eq(hset(h, v16, "x"), 1);
    cr_assert(kv_hash_is_packed(h), "16-byte field/value with a limit of 16 stay packed");
    cr_assert_eq(hset(h, "f", v17), 0, "a long value for an existing field is an update");
    cr_assert_not(kv_hash_is_packed(h));
    cr_assert(hget_is(h, "f", v17));
    cr_assert(hget_is(h, "k", "small"));
    cr_assert(hget_is(h, v16, "x"));
    cr_assert_eq(kv_hash_len(h), 3);
    kv_hash_free(h);

    /* a long field name converts too */
    h = kv_hash_new();
    hset(h, "a", "1");
    cr_assert_eq(hset(h, v17, "1"), 1);
    cr_assert_not(kv_hash_is_packed(h));
    cr_assert(hget_is(h, v17, "1"));
    cr_assert(hget_is(h, "a", "1"));
    cr_assert_eq(kv_hash_len(h), 2);
    kv_hash_free(h);

    /* a value growing within the limit stays packed and keeps neighbours */
    h = kv_hash_new();
    hset(h, "a", "1");
    hset(h, "b", "2");
    hset(h, "c", "3");
    cr_assert_eq(hset(h, "b", "twotwotwo"), 0);
    cr_assert(kv_hash_is_packed(h));
    cr_assert(hget_is(h, "a", "1"));
    cr_assert(hget_is(h, "b", "twotwotwo"));
    cr_assert(hget_is(h, "c", "3"));
    kv_hash_free(h);
}

Test(hashobj, big_dict_scan_random)
{
    rand_seed(3);
    kv_hash_max_entries = 128;
    kv_hash_max_value = 64;
    struct kv_hash *h = kv_hash_new();
    char f[32], v[32];
    const int n = 3000;
    for (int i = 0; i < n; i++) {
        snprintf(f, sizeof f, "field:%d", i);
        snprintf(v, sizeof v, "%d", i * 7);
        cr_assert_eq(hset(h, f, v), 1);
    }
    cr_assert_not(kv_hash_is_packed(h));
    cr_assert_eq(kv_hash_len(h), (size_t)n);
    for (int i = 0; i < n; i++) {
        snprintf(f, sizeof f, "field:%d", i);
        snprintf(v, sizeof v, "%d", i * 7);
        cr_assert(hget_is(h, f, v));
    }
    struct hcount all = {0}, scanned = {0};
    kv_hash_foreach(h, hcount_cb, &all);
    cr_assert_eq(all.n, n);
    uint64_t cur = 0;
    do
        cur = kv_hash_scan(h, cur, hcount_cb, &scanned);
    while (cur);
    cr_assert_eq(scanned.n, n);
    cr_assert_eq(scanned.bytes, all.bytes);
    for (int i = 0; i < 100; i++) {
        const char *rf, *rv;
        size_t rfl, rvl;
        cr_assert(kv_hash_random(h, &rf, &rfl, &rv, &rvl));
        cr_assert(rfl > 6 && memcmp(rf, "field:", 6) == 0);
        char num[16];
        snprintf(num, sizeof num, "%.*s", (int)(rfl - 6), rf + 6);
        int id = atoi(num);
        snprintf(v, sizeof v, "%d", id * 7);
        cr_assert(rvl == strlen(v) && memcmp(rv, v, rvl) == 0);
    }
    cr_assert_gt(kv_hash_memory(h), (size_t)n * 16);
    kv_hash_free(h);

    h = kv_hash_new();
    const char *rf, *rv;
    size_t rfl, rvl;
    cr_assert_not(kv_hash_random(h, &rf, &rfl, &rv, &rvl), "random field of an empty hash");
    hset(h, "only", "1");
    cr_assert(kv_hash_random(h, &rf, &rfl, &rv, &rvl));
    cr_assert(rfl == 4 && memcmp(rf, "only", 4) == 0);
    kv_hash_free(h);
}

/* ---- eviction -------------------------------------------------------------------- */

#define NKEYS 1000
#define NEVICT 100
/*
 * The sampled pool approximation (Redis's) is exact enough to pick the
 * expected 10% of the keys with ≥90% precision only with many samples: with
 * 10 samples it finds about 65% of them (the last cold keys are rarely in a
 * sample), as a model of Redis's own algorithm also does. So the precision
 * tests use 64 samples (the maximum), and allkeys_lru_default_samples checks
 * Redis's default of 5 on a keyspace where the cold class is larger.
 */
#define SAMPLES 64

/* key "hot:N" / "cold:N" / "ttl:N": the class is the key's prefix */
static void add_key(struct kv_db *db, const char *cls, int i, long long expire)
{
    char k[32];
    int l = snprintf(k, sizeof k, "%s:%d", cls, i);
    kv_db_add(db, kv_obj_new_string(k, (size_t)l, "value", 5, expire));
}

static void touch_key(struct kv_db *db, const char *cls, int i)
{
    char k[32];
    int l = snprintf(k, sizeof k, "%s:%d", cls, i);
    cr_assert_not_null(db_lookup(db, k, (size_t)l, 0));
}

static bool has_key(struct kv_db *db, const char *cls, int i)
{
    char k[32];
    int l = snprintf(k, sizeof k, "%s:%d", cls, i);
    return db_lookup(db, k, (size_t)l, LOOKUP_NOTOUCH | LOOKUP_WRITE) != NULL;
}

static int count_class(struct kv_db *db, const char *cls, int n)
{
    int have = 0;
    for (int i = 0; i < n; i++)
        have += has_key(db, cls, i);
    return have;
}

/* Evict `n` keys with policy p; every call must succeed. */
static void evict_n(struct kv_db *db, const struct kv_evict_policy *p, int n)
{
    uint64_t before = db_size(db);
    for (int i = 0; i < n; i++)
        cr_assert(kv_evict_one(db, p, SAMPLES), "%s: eviction %d of %d failed", p->name, i, n);
    cr_assert_eq(db_size(db), before - (uint64_t)n, "%s: not one key per eviction", p->name);
}

static void assert_mostly(struct kv_db *db, const char *cls, int total, int evicted_wanted, const char *policy)
{
    int gone = total - count_class(db, cls, total);
    cr_assert_geq(gone * 10, evicted_wanted * 9, "%s: only %d of %d evicted keys were '%s'", policy, gone,
                  evicted_wanted, cls);
}

/* LRU: `cold` keys last accessed 1000 s ago, `hot` keys just now. */
static void build_lru(struct kv_db *db, int ncold, int nhot, bool cold_ttl, bool hot_ttl, const char *cls_cold)
{
    long long t0 = 1700000000000LL;
    kv_db_set_now(db, t0);
    for (int i = 0; i < ncold; i++)
        add_key(db, cls_cold, i, cold_ttl ? t0 + 10000000 : -1);
    for (int i = 0; i < nhot; i++)
        add_key(db, "hot", i, hot_ttl ? t0 + 10000000 : -1);
    kv_db_set_now(db, t0 + 1000000);
    for (int i = 0; i < nhot; i++)
        touch_key(db, "hot", i);
    kv_db_set_now(db, t0 + 1000100);
}

Test(evict, allkeys_lru)
{
    rand_seed(10);
    struct kv_db db;
    kv_db_init(&db);
    build_lru(&db, NEVICT, NKEYS - NEVICT, false, false, "cold");
    evict_n(&db, &kv_policy_allkeys_lru, NEVICT);
    assert_mostly(&db, "cold", NEVICT, NEVICT, "allkeys-lru");
    kv_db_deinit(&db);
}

Test(evict, allkeys_lru_default_samples)
{
    rand_seed(21);
    struct kv_db db;
    kv_db_init(&db);
    build_lru(&db, 300, NKEYS - 300, false, false, "cold");
    for (int i = 0; i < NEVICT; i++)
        cr_assert(kv_evict_one(&db, &kv_policy_allkeys_lru, 5));
    int gone = 300 - count_class(&db, "cold", 300);
    cr_assert_geq(gone, 90, "5 samples: only %d of 100 evicted keys were cold", gone);
    kv_db_deinit(&db);
}

Test(evict, volatile_lru)
{
    rand_seed(11);
    struct kv_db db;
    kv_db_init(&db);
    /* the idlest keys of all have no TTL: they must survive */
    long long t0 = 1700000000000LL;
    kv_db_set_now(&db, t0 - 5000000);
    for (int i = 0; i < 500; i++)
        add_key(&db, "persist", i, -1);
    build_lru(&db, NEVICT, 400, true, true, "cold");
    evict_n(&db, &kv_policy_volatile_lru, NEVICT);
    cr_assert_eq(count_class(&db, "persist", 500), 500, "volatile-lru evicted a key without TTL");
    assert_mostly(&db, "cold", NEVICT, NEVICT, "volatile-lru");
    /* evicting every TTL key, then nothing more */
    for (int i = 0; i < 400; i++)
        cr_assert(kv_evict_one(&db, &kv_policy_volatile_lru, SAMPLES));
    cr_assert_eq(db.volatile_keys, 0);
    cr_assert_not(kv_evict_one(&db, &kv_policy_volatile_lru, SAMPLES));
    cr_assert_eq(db_size(&db), 500);
    kv_db_deinit(&db);
}

/* LFU with lfu_log_factor 0 (every access counts): `hot` keys accessed 20
 * times, `cold` keys never; all at the same time, so only frequency differs. */
static void build_lfu(struct kv_db *db, int ncold, int nhot, bool cold_ttl, bool hot_ttl)
{
    long long t0 = 1700000000000LL;
    db->lfu_log_factor = 0;
    kv_db_set_now(db, t0);
    for (int i = 0; i < ncold; i++)
        add_key(db, "cold", i, cold_ttl ? t0 + 10000000 : -1);
    for (int i = 0; i < nhot; i++)
        add_key(db, "hot", i, hot_ttl ? t0 + 10000000 : -1);
    for (int r = 0; r < 20; r++)
        for (int i = 0; i < nhot; i++)
            touch_key(db, "hot", i);
    /* the cold keys are the most recently used: LRU would pick the hot ones */
    kv_db_set_now(db, t0 + 1000);
    for (int i = 0; i < ncold; i++) {
        char k[32];
        int l = snprintf(k, sizeof k, "cold:%d", i);
        struct kv_obj *o = db_lookup(db, k, (size_t)l, LOOKUP_NOTOUCH);
        o->lru = kv_db_lru_clock(db);
    }
}

Test(evict, allkeys_lfu)
{
    rand_seed(12);
    struct kv_db db;
    kv_db_init(&db);
    build_lfu(&db, NEVICT, NKEYS - NEVICT, false, false);
    evict_n(&db, &kv_policy_allkeys_lfu, NEVICT);
    assert_mostly(&db, "cold", NEVICT, NEVICT, "allkeys-lfu");
    kv_db_deinit(&db);
}

Test(evict, volatile_lfu)
{
    rand_seed(13);
    struct kv_db db;
    kv_db_init(&db);
    long long t0 = 1700000000000LL;
    kv_db_set_now(&db, t0);
    for (int i = 0; i < 500; i++)
        add_key(&db, "persist", i, -1); /* never accessed again: lowest counters */
    build_lfu(&db, NEVICT, 400, true, true);
    evict_n(&db, &kv_policy_volatile_lfu, NEVICT);
    cr_assert_eq(count_class(&db, "persist", 500), 500, "volatile-lfu evicted a key without TTL");
    assert_mostly(&db, "cold", NEVICT, NEVICT, "volatile-lfu");
    kv_db_deinit(&db);
}

Test(evict, lfu_decay)
{
    /* a key hot long ago decays below a key warm now */
    rand_seed(14);
    struct kv_db db;
    kv_db_init(&db);
    db.lfu_log_factor = 0;
    long long t0 = 1700000000000LL;
    kv_db_set_now(&db, t0);
    add_key(&db, "old", 0, -1);
    for (int i = 0; i < 30; i++)
        touch_key(&db, "old", 0);
    kv_db_set_now(&db, t0 + 60LL * 60000); /* an hour later: decayed by 60 */
    add_key(&db, "new", 0, -1);
    for (int i = 0; i < 5; i++)
        touch_key(&db, "new", 0);
    cr_assert(kv_evict_one(&db, &kv_policy_allkeys_lfu, SAMPLES));
    cr_assert_not(has_key(&db, "old", 0));
    cr_assert(has_key(&db, "new", 0));
    kv_db_deinit(&db);
}

Test(evict, volatile_ttl)
{
    rand_seed(15);
    struct kv_db db;
    kv_db_init(&db);
    long long t0 = 1700000000000LL;
    kv_db_set_now(&db, t0);
    /* interleaved inserts so insertion order says nothing */
    for (int i = 0; i < 500; i++) {
        add_key(&db, "persist", i, -1);
        if (i < NEVICT)
            add_key(&db, "soon", i, t0 + 60000 + i);
        if (i < 400)
            add_key(&db, "late", i, t0 + 3600000 + i);
    }
    evict_n(&db, &kv_policy_volatile_ttl, NEVICT);
    cr_assert_eq(count_class(&db, "persist", 500), 500, "volatile-ttl evicted a key without TTL");
    assert_mostly(&db, "soon", NEVICT, NEVICT, "volatile-ttl");
    kv_db_deinit(&db);
}

Test(evict, allkeys_fifo)
{
    rand_seed(16);
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    for (int i = 0; i < NEVICT; i++)
        add_key(&db, "first", i, -1);
    for (int i = 0; i < NKEYS - NEVICT; i++)
        add_key(&db, "later", i, -1);
    /* access does not matter to FIFO: the first keys are the most recently used */
    kv_db_set_now(&db, 50000);
    for (int i = 0; i < NEVICT; i++)
        touch_key(&db, "first", i);
    evict_n(&db, &kv_policy_allkeys_fifo, NEVICT);
    assert_mostly(&db, "first", NEVICT, NEVICT, "allkeys-fifo");
    kv_db_deinit(&db);
}

Test(evict, volatile_fifo)
{
    rand_seed(17);
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    for (int i = 0; i < 500; i++)
        add_key(&db, "persist", i, -1); /* inserted first of all */
    for (int i = 0; i < NEVICT; i++)
        add_key(&db, "first", i, 99999999);
    for (int i = 0; i < 400; i++)
        add_key(&db, "later", i, 99999999);
    evict_n(&db, &kv_policy_volatile_fifo, NEVICT);
    cr_assert_eq(count_class(&db, "persist", 500), 500, "volatile-fifo evicted a key without TTL");
    assert_mostly(&db, "first", NEVICT, NEVICT, "volatile-fifo");
    kv_db_deinit(&db);
}

Test(evict, allkeys_random)
{
    rand_seed(18);
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    for (int i = 0; i < 500; i++)
        add_key(&db, "a", i, -1);
    for (int i = 0; i < 500; i++)
        add_key(&db, "b", i, 99999999);
    evict_n(&db, &kv_policy_allkeys_random, NEVICT);
    int gone_a = 500 - count_class(&db, "a", 500), gone_b = 500 - count_class(&db, "b", 500);
    cr_assert_eq(gone_a + gone_b, NEVICT);
    /* expected 50/50; either class alone would not be random */
    cr_assert(gone_a >= 20 && gone_b >= 20, "allkeys-random evicted %d a / %d b", gone_a, gone_b);
    kv_db_deinit(&db);
}

Test(evict, volatile_random)
{
    rand_seed(19);
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    for (int i = 0; i < 500; i++) {
        add_key(&db, "persist", i, -1);
        add_key(&db, "ttl", i, 99999999);
    }
    evict_n(&db, &kv_policy_volatile_random, NEVICT);
    cr_assert_eq(count_class(&db, "persist", 500), 500, "volatile-random evicted a key without TTL");
    cr_assert_eq(count_class(&db, "ttl", 500), 500 - NEVICT);
    /* down to the last TTL key, then nothing */
    evict_n(&db, &kv_policy_volatile_random, 500 - NEVICT);
    cr_assert_eq(db.volatile_keys, 0);
    cr_assert_not(kv_evict_one(&db, &kv_policy_volatile_random, SAMPLES));
    cr_assert_eq(count_class(&db, "persist", 500), 500);
    kv_db_deinit(&db);
}

Test(evict, noeviction)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    for (int i = 0; i < NKEYS; i++)
        add_key(&db, "k", i, i % 2 ? 99999999 : -1);
    for (int i = 0; i < 10; i++)
        cr_assert_not(kv_evict_one(&db, &kv_policy_noeviction, SAMPLES));
    cr_assert_eq(db_size(&db), NKEYS);
    kv_db_deinit(&db);
}

Test(evict, empty_and_volatile_without_ttl_keys)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    for (size_t p = 0; p < 10; p++)
        cr_assert_not(kv_evict_one(&db, kv_policies[p], SAMPLES), "%s evicted from an empty db",
                      kv_policies[p]->name);
    for (int i = 0; i < 100; i++)
        add_key(&db, "k", i, -1);
    const struct kv_evict_policy *vol[] = {&kv_policy_volatile_lru, &kv_policy_volatile_lfu, &kv_policy_volatile_ttl,
                                           &kv_policy_volatile_random, &kv_policy_volatile_fifo};
    for (size_t p = 0; p < sizeof vol / sizeof vol[0]; p++)
        cr_assert_not(kv_evict_one(&db, vol[p], SAMPLES), "%s evicted a key without TTL", vol[p]->name);
    cr_assert_eq(db_size(&db), 100);
    kv_db_deinit(&db);
}

Test(evict, pool_survives_deleted_candidates)
{
    /* keys deleted behind the pool's back are skipped, not resurrected */
    rand_seed(20);
    struct kv_db db;
    kv_db_init(&db);
    build_lru(&db, NEVICT, NKEYS - NEVICT, false, false, "cold");
    cr_assert(kv_evict_one(&db, &kv_policy_allkeys_lru, SAMPLES)); /* fills the pool */
    for (int i = 0; i < NEVICT; i++) {
        char k[32];
        int l = snprintf(k, sizeof k, "cold:%d", i);
        kv_db_delete(&db, k, (size_t)l);
    }
    uint64_t before = db_size(&db);
    for (int i = 0; i < 50; i++)
        cr_assert(kv_evict_one(&db, &kv_policy_allkeys_lru, SAMPLES));
    cr_assert_eq(db_size(&db), before - 50);
    kv_db_deinit(&db);
}

/* ---- active expiry ------------------------------------------------------------- */

static struct kv_server *server_new(void)
{
    struct kv_server *s = calloc(1, sizeof *s);
    kv_db_init(&s->db);
    return s;
}

static void server_free(struct kv_server *s)
{
    kv_db_deinit(&s->db);
    free(s);
}

Test(expire, cycle_removes_expired_only)
{
    struct kv_server *s = server_new();
    s->db.on_expire = on_expire;
    expire_calls = 0;
    long long t0 = 1700000000000LL;
    kv_db_set_now(&s->db, t0);
    for (int i = 0; i < 3000; i++) {
        add_key(&s->db, "persist", i, -1);
        if (i < 2000)
            add_key(&s->db, "dead", i, t0 + 10 + i % 50);
        if (i < 1000)
            add_key(&s->db, "alive", i, t0 + 3600000);
    }
    cr_assert_eq(s->db.volatile_keys, 3000);
    kv_db_set_now(&s->db, t0 + 100);
    /* bounded: a few generous cycles make full passes */
    for (int i = 0; i < 100 && s->db.volatile_keys > 1000; i++)
        kv_expire_cycle(s, 100000);
    cr_assert_eq(s->db.volatile_keys, 1000, "%llu keys with TTL left", (unsigned long long)s->db.volatile_keys);
    cr_assert_eq(s->db.st.expired, 2000);
    cr_assert_eq(expire_calls, 2000);
    cr_assert_eq(count_class(&s->db, "dead", 2000), 0);
    cr_assert_eq(count_class(&s->db, "alive", 1000), 1000);
    cr_assert_eq(count_class(&s->db, "persist", 3000), 3000);
    cr_assert_eq(db_size(&s->db), 4000);
    cr_assert_gt(s->db.st.expire_cycles, 0);
    server_free(s);
}

Test(expire, cycle_small_budget_makes_progress)
{
    struct kv_server *s = server_new();
    long long t0 = 1700000000000LL;
    kv_db_set_now(&s->db, t0);
    for (int i = 0; i < 5000; i++)
        add_key(&s->db, "dead", i, t0 + 1);
    kv_db_set_now(&s->db, t0 + 2);
    int calls = 0;
    while (s->db.volatile_keys > 0 && calls < 100000) {
        kv_expire_cycle(s, 0);
        calls++;
    }
    cr_assert_eq(s->db.volatile_keys, 0);
    cr_assert_eq(db_size(&s->db), 0);
    cr_assert_gt(calls, 1, "a zero budget should not clear 5000 keys in one call");
    server_free(s);
}

Test(expire, cycle_without_ttl_keys_is_free)
{
    struct kv_server *s = server_new();
    kv_db_set_now(&s->db, 1000);
    for (int i = 0; i < 100; i++)
        add_key(&s->db, "k", i, -1);
    kv_expire_cycle(s, 100000);
    cr_assert_eq(s->db.st.expire_cycles, 0);
    cr_assert_eq(db_size(&s->db), 100);
    server_free(s);
}
