/*
 * expire.c — active expiry: memory of expired keys comes back without anyone
 * touching them.
 *
 * Lazy expiry (db_lookup_ref) removes a key when it is accessed. This cron
 * step removes the rest: it walks the keyspace with a SCAN cursor (which
 * survives resizes and visits every key present for a whole pass) and deletes
 * keys whose TTL has passed, within a time budget per call. A full pass over
 * N keys therefore takes N * ~50 ns of CPU spread over cron ticks; when a
 * step finds many expired keys the caller raises the budget (as Redis's slow
 * cycle does), when no key has a TTL the step costs nothing.
 *
 * Runs with the keyspace lock held, from worker 0's cron.
 */
#include <string.h>

#include "core/util.h"
#include "kv/server.h"

#define BATCH 64

struct sweep {
    struct kv_db *db;
    struct kv_obj *found[BATCH * 4];
    int nfound;
    uint64_t seen;
};

static void visit(struct dict_node *n, void *arg)
{
    struct sweep *s = arg;
    struct kv_obj *o = (struct kv_obj *)n;
    s->seen++;
    if (obj_has_ttl(o) && obj_expire(o) <= s->db->now_ms && s->nfound < (int)(sizeof s->found / sizeof s->found[0]))
        s->found[s->nfound++] = o;
}

static uint64_t cursor;

void kv_expire_cycle(struct kv_server *srv, long long budget_us)
{
    struct kv_db *db = &srv->db;
    if (db->volatile_keys == 0)
        return;
    db->st.expire_cycles++;
    long long start = util_mono_us();
    struct sweep s = {.db = db};
    do {
        for (int i = 0; i < BATCH; i++) {
            s.nfound = 0;
            cursor = dict_scan(&db->d, cursor, visit, &s);
            /* delete outside the scan callback; lookup expires them */
            for (int k = 0; k < s.nfound; k++) {
                struct kv_obj *o = s.found[k];
                struct kv_obj **ref = (struct kv_obj **)dict_find_ref(&db->d, obj_key(o), obj_klen(o),
                                                                        dict_hash(obj_key(o), obj_klen(o)));
                if (ref)
                    db_expire_if_needed(db, ref);
            }
            if (cursor == 0 || db->volatile_keys == 0)
                return; /* full pass done: rest until the next tick */
        }
    } while (util_mono_us() - start < budget_us);
}
