/*
 * reshard.c — online resharding: after a shard joins or leaves a pool or a
 * weight changes, the keys whose owner changed move in the background while
 * traffic flows, and no acknowledged write is lost.
 *
 * The scheme (docs/router.md "Online resharding"):
 *
 *  1. Switch. The new distribution `to` is installed together with the old
 *     one (`from`, pool->from) and the router's epoch is bumped. A key is
 *     *moving* when from and to give it different shards.
 *  2. Every command with a moving key is *parked*: it is not sent anywhere;
 *     the migrator thread (this file) first moves its moving keys (the
 *     synchronous move Redis Cluster's ASK leaves to the client), then hands
 *     it back to its worker, which routes it by `to`. So every client
 *     command on a moving key runs on the new owner after the key is there,
 *     and client commands never touch the old owner of a moving key after
 *     the switch. A client with a parked command has its following commands
 *     parked behind it (its own order is kept).
 *  3. Barrier. Commands routed before the switch may still be on their way to
 *     an old owner; the migrator waits until every command counted in the
 *     old epoch is answered before it moves anything.
 *  4. Scan. Per source shard (every shard of `from`): SCAN cursor COUNT
 *     reshard-batch; each key whose from-owner is that shard and whose
 *     to-owner differs is moved; parked commands are served between batches;
 *     reshard-pause between batches.
 *  5. Move of one key, on a dedicated blocking connection per shard:
 *        old: WATCH k, DUMP k, PTTL k
 *        new: RESTORE k ttl payload REPLACE
 *        old: MULTI, DEL k, EXEC
 *     EXEC answers nil when k changed on the old owner after WATCH (a writer
 *     that does not go through this router): the move is done again with the
 *     new value (at most 5 times, then it counts as failed). A key that is
 *     not on the old owner (DUMP nil) has nothing to move.
 *  6. Done. When every source has been scanned without a failure, parking
 *     stops, `from` is dropped and the pool routes by `to` alone. With
 *     failures (a shard unreachable), the pass is repeated after a second;
 *     commands whose move failed get -TRYAGAIN.
 *
 * One resharding at a time per router: changes asked for while one runs are
 * refused (409).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "proto/reply.h"
#include "router/proxy.h"

#define MOVE_TRIES 5
#define MAX_REPLY (600u * 1024 * 1024)

enum { MOVE_NONE, MOVE_DONE, MOVE_FAIL };

const char *rt_reshard_state_name(int st)
{
    static const char *const names[] = {"idle", "waiting", "moving", "retrying", "done"};
    return st >= 0 && st <= RS_DONE ? names[st] : "?";
}

/* ---- a blocking RESP connection to one shard ------------------------------------------ */

struct mconn {
    int fd;
    unsigned gen;              /* the shard's peer_gen when opened: a failover reconnects */
    struct buf in;
    struct buf out;
    const char *rep[8];        /* the replies of the last call (into in) */
    size_t rlen[8];
};

static void mc_close(struct mconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_consume(&c->in, buf_pending(&c->in));
}

static int mc_open(struct mconn *c, struct rt_shard *sh)
{
    unsigned gen = atomic_load(&sh->peer_gen);
    if (c->fd >= 0 && c->gen == gen)
        return 0;
    mc_close(c);
    struct net_peer *peer = atomic_load(&sh->peer);
    int fd = net_socket_timeout(peer->sa.ss_family, 5000);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&peer->sa, peer->salen) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->gen = gen;
    return 0;
}

/* Send c->out, read n replies into c->rep. -1: the connection failed (closed). */
static int mc_call(struct mconn *c, struct rt_shard *sh, int n)
{
    if (mc_open(c, sh) != 0)
        return -1;
    buf_consume(&c->in, buf_pending(&c->in));
    if (net_write_all(c->fd, buf_head(&c->out), buf_pending(&c->out)) != 0)
        goto fail;
    buf_consume(&c->out, buf_pending(&c->out));
    size_t off = 0;
    struct resp_reply rr;
    resp_reply_init(&rr);
    int got = 0;
    size_t offs[8];
    while (got < n) {
        ssize_t m = resp_reply_parse(&rr, buf_head(&c->in) + off, buf_pending(&c->in) - off);
        if (m < 0)
            goto fail;
        if (m > 0) {
            offs[got] = off;
            c->rlen[got] = (size_t)m;
            off += (size_t)m;
            got++;
            continue;
        }
        if (buf_pending(&c->in) > MAX_REPLY)
            goto fail;
        if (net_read_buf(c->fd, &c->in, 65536) <= 0)
            goto fail;
    }
    for (int i = 0; i < n; i++)
        c->rep[i] = buf_head(&c->in) + offs[i];
    return 0;
fail:
    buf_consume(&c->out, buf_pending(&c->out));
    mc_close(c);
    return -1;
}

static void mc_cmd(struct mconn *c, int argc, const struct resp_arg *argv) { rt_write_command(&c->out, argc, argv); }

/* A bulk reply: 1 (in *p, *n), 0 nil, -1 anything else. */
static int rep_bulk(const char *r, size_t len, const char **p, size_t *n)
{
    long long bl;
    const char *e = memchr(r, '\r', len);
    if (!e || r[0] != '$' || !util_str2ll(r + 1, (size_t)(e - r - 1), &bl))
        return -1;
    if (bl < 0)
        return 0;
    *p = e + 2;
    *n = (size_t)bl;
    return 1;
}

static bool rep_int(const char *r, size_t len, long long *v)
{
    const char *e = memchr(r, '\r', len);
    return e && r[0] == ':' && util_str2ll(r + 1, (size_t)(e - r - 1), v);
}

static struct mconn *mconn_of(struct rt_reshard *rs, int id)
{
    if (!rs->conns[id]) {
        rs->conns[id] = xcalloc(1, sizeof(struct mconn));
        rs->conns[id]->fd = -1;
        buf_init(&rs->conns[id]->in);
        buf_init(&rs->conns[id]->out);
    }
    return rs->conns[id];
}

/* ---- moving one key ------------------------------------------------------------------------ */

static int move_key(struct rt_server *s, int from_id, int to_id, const char *k, size_t klen)
{
    struct rt_reshard *rs = &s->rs;
    struct rt_shard *src = atomic_load(&s->shards[from_id]), *dst = atomic_load(&s->shards[to_id]);
    if (!src || !dst)
        return MOVE_FAIL;
    struct mconn *o = mconn_of(rs, from_id), *n = mconn_of(rs, to_id);
    for (int attempt = 0; attempt < MOVE_TRIES; attempt++) {
        struct resp_arg a[6];
        a[1] = (struct resp_arg){k, klen};
        a[0] = (struct resp_arg){"WATCH", 5};
        mc_cmd(o, 2, a);
        a[0] = (struct resp_arg){"DUMP", 4};
        mc_cmd(o, 2, a);
        a[0] = (struct resp_arg){"PTTL", 4};
        mc_cmd(o, 2, a);
        if (mc_call(o, src, 3) != 0)
            return MOVE_FAIL;
        const char *payload;
        size_t plen;
        long long ttl;
        int b = rep_bulk(o->rep[1], o->rlen[1], &payload, &plen);
        if (b <= 0 || !rep_int(o->rep[2], o->rlen[2], &ttl) || ttl == -2) {
            a[0] = (struct resp_arg){"UNWATCH", 7};
            mc_cmd(o, 1, a);
            if (mc_call(o, src, 1) != 0)
                return MOVE_FAIL;
            return b == 0 || ttl == -2 ? MOVE_NONE : MOVE_FAIL;
        }
        char ttls[24];
        snprintf(ttls, sizeof ttls, "%lld", ttl < 0 ? 0LL : ttl);
        a[0] = (struct resp_arg){"RESTORE", 7};
        a[2] = (struct resp_arg){ttls, strlen(ttls)};
        a[3] = (struct resp_arg){payload, plen};
        a[4] = (struct resp_arg){"REPLACE", 7};
        mc_cmd(n, 5, a); /* payload points into o->in, still intact */
        int rc = mc_call(n, dst, 1);
        bool ok = rc == 0 && n->rlen[0] >= 3 && memcmp(n->rep[0], "+OK", 3) == 0;
        if (!ok) {
            if (rc == 0)
                log_warn("reshard: RESTORE of a key on %s: %.*s", dst->name, (int)(n->rlen[0] > 200 ? 200 : n->rlen[0]),
                         n->rep[0]);
            a[0] = (struct resp_arg){"UNWATCH", 7};
            mc_cmd(o, 1, a);
            mc_call(o, src, 1);
            return MOVE_FAIL;
        }
        a[0] = (struct resp_arg){"MULTI", 5};
        mc_cmd(o, 1, a);
        a[0] = (struct resp_arg){"DEL", 3};
        mc_cmd(o, 2, a);
        a[0] = (struct resp_arg){"EXEC", 4};
        mc_cmd(o, 1, a);
        if (mc_call(o, src, 3) != 0)
            return MOVE_FAIL;
        /* EXEC: *1 :1 (deleted), *-1 / _ (k changed after WATCH: move the new value) */
        if (o->rep[2][0] == '*' && o->rlen[2] >= 2 && o->rep[2][1] != '-')
            return MOVE_DONE;
        if (o->rep[2][0] == '-')
            return MOVE_FAIL;
    }
    return MOVE_FAIL;
}

/* Keys of a parked command that are moving: (uint32 length, bytes)... */
static bool move_parked(struct rt_server *s, struct rt_park *pk)
{
    struct rt_reshard *rs = &s->rs;
    size_t off = 0;
    bool ok = true;
    const char *kb = buf_head(&pk->keys);
    while (off + 4 <= buf_pending(&pk->keys)) {
        uint32_t kl;
        memcpy(&kl, kb + off, 4);
        const char *k = kb + off + 4;
        off += 4 + kl;
        int o = rt_dist_locate(rs->from, k, kl), n = rt_dist_locate(rs->to, k, kl);
        if (o < 0 || n < 0 || o == n)
            continue;
        int r = move_key(s, o, n, k, kl);
        if (r == MOVE_DONE)
            atomic_fetch_add(&rs->moved, 1);
        else if (r == MOVE_FAIL) {
            atomic_fetch_add(&rs->failed, 1);
            ok = false;
        }
    }
    return ok;
}

static void release(struct rt_park *pk)
{
    struct rt_worker *w = pk->w;
    pthread_mutex_lock(&w->rel_lock);
    QUEUE_PUSH(w->rel_head, w->rel_tail, pk, next);
    pthread_mutex_unlock(&w->rel_lock);
    uv_async_send(&w->wake);
}

/* Serve the parked commands; finishing: stop parking when the queue is empty. */
static void drain(struct rt_server *s, bool finishing)
{
    struct rt_reshard *rs = &s->rs;
    for (;;) {
        pthread_mutex_lock(&rs->lock);
        struct rt_park *pk = rs->head;
        rs->head = rs->tail = NULL;
        if (!pk && finishing)
            rs->active = false;
        pthread_mutex_unlock(&rs->lock);
        if (!pk)
            return;
        while (pk) {
            struct rt_park *next = pk->next;
            pk->failed = !move_parked(s, pk);
            release(pk);
            pk = next;
        }
    }
}

bool rt_reshard_park(struct rt_server *s, struct rt_park *pk)
{
    struct rt_reshard *rs = &s->rs;
    pthread_mutex_lock(&rs->lock);
    if (!rs->active) {
        pthread_mutex_unlock(&rs->lock);
        return false;
    }
    QUEUE_PUSH(rs->head, rs->tail, pk, next);
    atomic_fetch_add(&rs->parked, 1);
    pthread_cond_signal(&rs->cond);
    pthread_mutex_unlock(&rs->lock);
    return true;
}

/* Commands counted in epochs other than ep still in flight. */
static long long old_inflight(struct rt_server *s, unsigned ep)
{
    long long n = 0;
    for (int i = 0; i < s->nworkers; i++)
        n += atomic_load(&s->workers[i].ep_inflight[(ep & 1) ^ 1]);
    return n;
}

/* SCAN one source shard; moves its keys whose owner changed. false: something failed. */
static bool scan_shard(struct rt_server *s, int sid)
{
    struct rt_reshard *rs = &s->rs;
    struct rt_shard *sh = atomic_load(&s->shards[sid]);
    struct mconn *c = mconn_of(rs, sid);
    char cur[24] = "0", cnt[24];
    snprintf(cnt, sizeof cnt, "%lld", s->cfg.reshard_batch);
    bool ok = true;
    struct buf keys;
    buf_init(&keys);
    do {
        struct resp_arg a[4] = {{"SCAN", 4}, {cur, strlen(cur)}, {"COUNT", 5}, {cnt, strlen(cnt)}};
        mc_cmd(c, 4, a);
        if (mc_call(c, sh, 1) != 0) {
            log_warn("reshard: cannot SCAN shard %s", sh->name);
            ok = false;
            break;
        }
        /* *2 $cursor *n $k ... ; copy the keys (moves reuse the connection) */
        const char *r = c->rep[0], *end = r + c->rlen[0];
        const char *p = memchr(r, '\n', (size_t)(end - r));
        const char *cp;
        size_t cl;
        long long nk;
        if (r[0] != '*' || !p || rep_bulk(p + 1, (size_t)(end - p - 1), &cp, &cl) != 1 || cl >= sizeof cur) {
            ok = false;
            break;
        }
        memcpy(cur, cp, cl);
        cur[cl] = 0;
        p = cp + cl + 2;
        const char *e = memchr(p, '\r', (size_t)(end - p));
        if (!e || p[0] != '*' || !util_str2ll(p + 1, (size_t)(e - p - 1), &nk) || nk < 0) {
            ok = false;
            break;
        }
        p = e + 2;
        buf_consume(&keys, buf_pending(&keys));
        for (long long i = 0; i < nk; i++) {
            const char *kp;
            size_t kl;
            if (rep_bulk(p, (size_t)(end - p), &kp, &kl) != 1) {
                ok = false;
                break;
            }
            uint32_t l32 = (uint32_t)kl;
            buf_append(&keys, (const char *)&l32, 4);
            buf_append(&keys, kp, kl);
            p = kp + kl + 2;
        }
        size_t off = 0;
        const char *kb = buf_head(&keys);
        while (off + 4 <= buf_pending(&keys)) {
            uint32_t kl;
            memcpy(&kl, kb + off, 4);
            const char *k = kb + off + 4;
            off += 4 + kl;
            atomic_fetch_add(&rs->scanned, 1);
            int o = rt_dist_locate(rs->from, k, kl), n = rt_dist_locate(rs->to, k, kl);
            if (o != sid || n < 0 || n == sid)
                continue;
            int mr = move_key(s, sid, n, k, kl);
            if (mr == MOVE_DONE)
                atomic_fetch_add(&rs->moved, 1);
            else if (mr == MOVE_FAIL) {
                atomic_fetch_add(&rs->failed, 1);
                ok = false;
            }
        }
        drain(s, false);
        if (s->cfg.reshard_pause_ms > 0)
            usleep((useconds_t)(s->cfg.reshard_pause_ms * 1000));
    } while (strcmp(cur, "0") != 0 && !atomic_load(&s->stopping));
    buf_deinit(&keys);
    return ok;
}

static void *reshard_thread(void *arg)
{
    struct rt_server *s = arg;
    struct rt_reshard *rs = &s->rs;
    for (;;) {
        pthread_mutex_lock(&rs->lock);
        while (!rs->pool)
            pthread_cond_wait(&rs->cond, &rs->lock);
        struct rt_pool *p = rs->pool;
        unsigned ep = rs->epoch;
        pthread_mutex_unlock(&rs->lock);
        /* barrier: commands routed before the switch are answered */
        long long t0 = net_mono_ms();
        while (old_inflight(s, ep) > 0) {
            if (net_mono_ms() - t0 > 60000) {
                log_warn("reshard: commands from before the switch still in flight after 60 s; moving anyway");
                break;
            }
            usleep(1000);
        }
        atomic_store(&rs->state, RS_MOVING);
        log_notice("reshard: pool %s: moving keys (%d -> %d shards)", p->conf->name, rs->from->n, rs->to->n);
        for (;;) {
            bool ok = true;
            for (int i = 0; i < rs->from->n; i++)
                if (!scan_shard(s, rs->from->ids[i]))
                    ok = false;
            drain(s, false);
            if (ok)
                break;
            atomic_store(&rs->state, RS_RETRYING);
            for (int i = 0; i < 10; i++) {
                usleep(100000);
                drain(s, false);
            }
            atomic_store(&rs->state, RS_MOVING);
        }
        drain(s, true);
        pthread_mutex_lock(&s->lock);
        struct rt_dist *old = rs->from;
        atomic_store(&p->from, NULL);
        old->retired_at = net_mono_ms();
        old->retired_next = p->retired;
        p->retired = old;
        pthread_mutex_unlock(&s->lock);
        for (int i = 0; i < RT_MAX_SHARDS; i++)
            if (rs->conns[i])
                mc_close(rs->conns[i]);
        pthread_mutex_lock(&rs->lock);
        rs->pool = NULL;
        rs->from = rs->to = NULL;
        rs->finished_ms = util_time_ms();
        atomic_store(&rs->state, RS_DONE);
        atomic_fetch_add(&rs->runs, 1);
        pthread_mutex_unlock(&rs->lock);
        log_notice("reshard: pool %s: done (%llu keys scanned, %llu moved, %llu failed moves)", p->conf->name,
                   (unsigned long long)(atomic_load(&rs->scanned) - atomic_load(&rs->base[0])),
                   (unsigned long long)(atomic_load(&rs->moved) - atomic_load(&rs->base[1])),
                   (unsigned long long)(atomic_load(&rs->failed) - atomic_load(&rs->base[2])));
    }
    return NULL;
}

void rt_reshard_init(struct rt_server *s)
{
    struct rt_reshard *rs = &s->rs;
    pthread_mutex_init(&rs->lock, NULL);
    pthread_cond_init(&rs->cond, NULL);
    rs->conns = xcalloc(RT_MAX_SHARDS, sizeof *rs->conns);
    if (pthread_create(&rs->thread, NULL, reshard_thread, s) == 0)
        pthread_detach(rs->thread);
}

bool rt_reshard_busy(struct rt_server *s)
{
    pthread_mutex_lock(&s->rs.lock);
    bool b = s->rs.pool != NULL;
    pthread_mutex_unlock(&s->rs.lock);
    return b;
}

/* s->lock held; from was p's distribution, to is the new one (both installed). */
void rt_reshard_start(struct rt_server *s, struct rt_pool *p, struct rt_dist *from, struct rt_dist *to, unsigned ep)
{
    struct rt_reshard *rs = &s->rs;
    pthread_mutex_lock(&rs->lock);
    rs->pool = p;
    rs->from = from;
    rs->to = to;
    rs->epoch = ep;
    rs->active = true;
    rs->started_ms = util_time_ms();
    rs->finished_ms = 0;
    atomic_store(&rs->base[0], atomic_load(&rs->scanned));
    atomic_store(&rs->base[1], atomic_load(&rs->moved));
    atomic_store(&rs->base[2], atomic_load(&rs->failed));
    atomic_store(&rs->base[3], atomic_load(&rs->parked));
    atomic_store(&rs->state, RS_WAITING);
    pthread_cond_signal(&rs->cond);
    pthread_mutex_unlock(&rs->lock);
}
