/*
 * t_db.c — commands across databases: MOVE and SWAPDB (SELECT is in
 * t_server.c, COPY ... DB in t_keys.c). Replies and error texts are Redis
 * 7.0's (src/db.c moveCommand, swapdbCommand).
 *
 * Every key operation works on the selected database s->db (server.h); a
 * command that touches another one selects it, works, and selects the
 * client's database again, so the hooks (WATCH, blocked clients) fire with
 * the right database number.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <limits.h>
#include <string.h>

#include "kv/blocking.h"
#include "kv/multi.h"
#include "kv/pubsub.h"
#include "kv/reply.h"

/* A database number argument: Redis's getIntFromObjectOrReply (msg, or the
 * integer error) and then the range check ("DB index is out of range"). */
static bool arg_dbid(struct kv_client *c, const struct resp_arg *a, const char *msg, int *out)
{
    long long id;
    if (!kv_arg_range(c, a, INT_MIN, INT_MAX, &id, msg, msg))
        return false;
    if (id < 0 || id >= c->srv->ndbs) {
        kv_reply_error(c, "ERR DB index is out of range");
        return false;
    }
    *out = (int)id;
    return true;
}

/* MOVE key db: 1 when moved, 0 when absent here or present there. */
void kv_cmd_MOVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_server *s = c->srv;
    const struct resp_arg *key = &argv[1];
    int dst;
    if (!arg_dbid(c, &argv[2], NULL, &dst))
        return;
    if (dst == c->db) {
        kv_reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    if (!kv_db_lookup_ref(&s->db, key->ptr, key->len, LOOKUP_WRITE)) {
        resp_add_int(&c->out, 0);
        return;
    }
    kv_db_select(s, dst);
    bool there = kv_db_lookup_ref(&s->db, key->ptr, key->len, LOOKUP_WRITE) != NULL;
    kv_db_select(s, c->db);
    if (there) {
        resp_add_int(&c->out, 0);
        return;
    }
    /* the object itself moves, with its TTL; WATCH sees both keys change */
    struct kv_obj **ref = kv_db_lookup_ref(&s->db, key->ptr, key->len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    struct kv_obj *o = kv_db_unlink_ref(&s->db, ref);
    kv_db_select(s, dst);
    kv_db_add(&s->db, o);
    kv_db_select(s, c->db);
    s->dirty++;
    kv_notify(c, KV_NOTIFY_GENERIC, "move_from", key->ptr, key->len);
    kv_notify_db(s, dst, KV_NOTIFY_GENERIC, "move_to", key->ptr, key->len);
    resp_add_int(&c->out, 1);
}

/* SWAPDB index1 index2: the databases exchange their data; clients stay on
 * their numbers, so those selected on one see the other's keys. */
void kv_cmd_SWAPDB(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_server *s = c->srv;
    long long a, b;
    if (!kv_arg_range(c, &argv[1], INT_MIN, INT_MAX, &a, "ERR invalid first DB index", "ERR invalid first DB index") ||
        !kv_arg_range(c, &argv[2], INT_MIN, INT_MAX, &b, "ERR invalid second DB index", "ERR invalid second DB index"))
        return;
    if (a < 0 || a >= s->ndbs || b < 0 || b >= s->ndbs) {
        kv_reply_error(c, "ERR DB index is out of range");
        return;
    }
    if (a != b) {
        /* as Redis: watchers of keys present in either database are dirty */
        kv_watch_swapdb(s, (int)a, (int)b);
        kv_db_exchange(kv_db_get(s, (int)a), kv_db_get(s, (int)b), false);
        /* clients blocked on keys of either database may be served now */
        kv_blocking_swapdb(s, (int)a, (int)b);
    }
    s->dirty++;
    resp_add_ok(&c->out);
}
