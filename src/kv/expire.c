/*
 * expire.c — active expiry: memory of expired keys comes back without anyone
 * touching them.
 *
 * Lazy expiry (kv_db_lookup_ref) removes a key when it is accessed. This cron
 * step removes the rest: it walks the keyspace with a SCAN cursor (which
 * survives resizes and visits every key present for a whole pass) and deletes
 * keys whose TTL has passed, within a time budget per call. A full pass over
 * N keys therefore takes N * ~50 ns of CPU spread over cron ticks; when a
 * step finds many expired keys the caller raises the budget (as Redis's slow
 * cycle does), when no key has a TTL the step costs nothing.
 *
 * Runs with the keyspace lock held, from worker 0's cron.
 */
#include <limits.h>
#include <string.h>

#include "core/util.h"
#include "kv/server.h"

#define BATCH 64

struct sweep {
    struct kv_db *db;
    struct kv_obj *found[BATCH * 4];
    int nfound;
    uint64_t seen;
    long long ttl_sum;   /* TTL left of the live volatile keys seen, for avg_ttl */
    long long ttl_n;
};

static void visit(struct dict_node *n, void *arg)
{
    struct sweep *s = arg;
    struct kv_obj *o = (struct kv_obj *)n;
    s->seen++;
    if (!obj_has_ttl(o))
        return;
    long long left = obj_expire(o) - s->db->now_ms;
    if (left < 0) { /* past its time, as lookups (db.c) */
        if (s->nfound < (int)(sizeof s->found / sizeof s->found[0]))
            s->found[s->nfound++] = o;
    } else if (left > 0 && s->ttl_sum < LLONG_MAX - left) {
        s->ttl_sum += left;
        s->ttl_n++;
    }
}

/* Redis's running estimate: the new sample counts 2%. */
static void update_avg_ttl(struct kv_db *db, const struct sweep *s)
{
    if (!s->ttl_n)
        return;
    long long avg = s->ttl_sum / s->ttl_n;
    if (db->avg_ttl == 0)
        db->avg_ttl = avg;
    db->avg_ttl = db->avg_ttl / 50 * 49 + avg / 50;
}

void kv_expire_cycle(struct kv_server *srv, long long budget_us)
{
    struct kv_db *db = &srv->db;
    if (db->expire_mode != DB_EXPIRE_NORMAL)
        return; /* a read-only replica waits for its primary's DEL */
    if (db->volatile_keys == 0) {
        db->avg_ttl = 0;
        return;
    }
    db->st.expire_cycles++;
    long long start = util_mono_us();
    struct sweep s = {.db = db};
    do {
        for (int i = 0; i < BATCH; i++) {
            s.nfound = 0;
            s.ttl_sum = s.ttl_n = 0;
            db->expire_cursor = kv_dict_scan(&db->d, db->expire_cursor, visit, &s);
            update_avg_ttl(db, &s);
            /* delete outside the scan callback; lookup expires them */
            for (int k = 0; k < s.nfound; k++) {
                struct kv_obj *o = s.found[k];
                struct kv_obj **ref = (struct kv_obj **)kv_dict_find_ref(&db->d, obj_key(o), obj_klen(o),
                                                                        kv_dict_hash(obj_key(o), obj_klen(o)));
                if (ref)
                    kv_db_expire_if_needed(db, ref);
            }
            if (db->expire_cursor == 0 || db->volatile_keys == 0)
                return; /* full pass done: rest until the next tick */
        }
    } while (util_mono_us() - start < budget_us);
}
