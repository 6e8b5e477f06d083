/*
 * queue_list.c — the job queue on kv lists: the reliable-queue pattern
 * (`queue kv-list`, the default).
 *
 *   jobs:seq                 INCR by the app: the job id
 *   job:ID                   hash: the job's state and data (as kv-hash)
 *   queue:jobs               list of ids: the app LPUSHes, workers take from
 *                            the right (FIFO)
 *   queue:processing:NAME    list: the ids worker NAME holds. BLMOVE
 *                            queue:jobs → here (atomic: an id is always in
 *                            exactly one list), LREM when the job is finished
 *   queue:delayed            sorted set: failed ids waiting for their retry,
 *                            scored by the time they are due
 *   queue:dead               list: ids that failed max-attempts times
 *                            (dead letters, newest first, at most DEAD_MAX)
 *   queue:workers            set of worker names that may hold ids
 *   worker:NAME:alive        SET PX lease, renewed every lease/3 (also while
 *                            a job runs): NAME's liveness lease
 *
 * Claim: BLMOVE with a timeout (block, shortened to the next due retry), so an
 * idle worker costs kv nothing and SIGTERM is served within `block`; a retry
 * is back in the queue at most about `block` after it is due. Before
 * blocking, a worker renews its lease, moves due retries back to queue:jobs,
 * and every lease/2 reaps: for every name in queue:workers whose lease has
 * expired, the ids in its processing list go back to queue:jobs (LMOVE, one
 * at a time: each id moves exactly once even with several reapers). A worker
 * restarted under the same name takes its own list back at start.
 *
 * Delivery is at-least-once: a job whose worker dies (or loses its lease
 * while alive, e.g. cut off from kv longer than the lease) runs again; a job
 * already finished when it is popped again is dropped, one whose attempts
 * passed max-attempts through crashes goes to the dead letters without
 * running again (a poison job cannot kill workers forever). kv has no
 * MULTI/EXEC or scripts, so each two-step move is ordered so that a crash in
 * between leaves the id in two places (run twice), never in none.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "worker/worker.h"

#define DEAD_MAX 10000       /* dead letters kept */
#define REAP_BATCH 1000      /* ids moved back per dead worker per pass */
#define PROMOTE_BATCH 16     /* due retries moved per claim */

static char processing[160], alive[160];
static long long next_beat_ms, next_reap_ms;
static bool recover = true;  /* our list may hold ids we do not run: requeue them */

static long long int_reply(const struct resp_value *r, long long dflt)
{
    long long v;
    if (r && r->type == RESP_VALUE_INT)
        return r->integer;
    if (r && r->type == RESP_VALUE_BULK && util_str2ll(r->str, r->len, &v))
        return v;
    return dflt;
}

static bool is(const struct resp_value *r, const char *s)
{
    return r && r->type == RESP_VALUE_BULK && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* Fill job from its key and the HGET of its data (nil: empty data). */
void worker_job_fill(struct worker_job *job, long long id, const char *key, const struct resp_value *r)
{
    job->id = id;
    snprintf(job->key, sizeof job->key, "%s", key);
    job->len = r->type == RESP_VALUE_BULK ? r->len : 0;
    job->data = xmalloc(job->len + 1);
    if (job->len)
        memcpy(job->data, r->str, job->len);
    job->data[job->len] = 0;
}

/* A claimed job: its record marked running by this worker, its data read
 * into job (the list and the stream queues share it). 0, or -1 when the
 * connection failed. */
int worker_job_load(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *key,
                    long long jid, long long attempts)
{
    const struct resp_value *r;
    char nows[32];
    snprintf(nows, sizeof nows, "%lld", util_time_ms());
    const char *hs[] = {"HSET", key, "status", "running", "worker", cf->id, "started_ms", nows};
    if (!worker_kv_cmdv(kv, 8, hs))
        return -1;
    const char *hd[] = {"HGET", key, "data"};
    if (!(r = worker_kv_cmdv(kv, 3, hd)))
        return -1;
    worker_job_fill(job, jid, key, r);
    job->attempts = attempts;
    return 0;
}

static void names(const struct worker_config *cf)
{
    snprintf(processing, sizeof processing, "queue:processing:%.120s", cf->id);
    snprintf(alive, sizeof alive, "worker:%.120s:alive", cf->id);
}

/* Renew the liveness lease (and the registration a reaper may have removed). */
static int beat(struct worker_kv *kv, const struct worker_config *cf)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", cf->lease_ms);
    const char *s[] = {"SET", alive, "1", "PX", ms};
    if (!worker_kv_cmdv(kv, 5, s))
        return -1;
    const char *a[] = {"SADD", "queue:workers", cf->id};
    if (!worker_kv_cmdv(kv, 3, a))
        return -1;
    next_beat_ms = util_time_ms() + cf->lease_ms / 3;
    return 0;
}

static void list_heartbeat(struct worker_kv *kv, const struct worker_config *cf)
{
    if (util_time_ms() >= next_beat_ms)
        beat(kv, cf);
}

/* Move every id of list src back to the head of the queue (the end BLMOVE
 * takes from). Returns the number moved, -1 if kv went away. */
static long long requeue_all(struct worker_kv *kv, const char *src)
{
    long long n = 0;
    for (; n < REAP_BATCH; n++) {
        const char *m[] = {"LMOVE", src, "queue:jobs", "RIGHT", "RIGHT"};
        const struct resp_value *r = worker_kv_cmdv(kv, 5, m);
        if (!r)
            return -1;
        if (r->type != RESP_VALUE_BULK)
            break;
    }
    return n;
}

/* Between jobs a worker holds nothing, so whatever its processing list has
 * was left by a previous incarnation under the same name (a restart), or by
 * a command whose reply was lost with the connection (a BLMOVE served just
 * before it broke, an LREM that never arrived). Back to the queue with it. */
static int recover_own(struct worker_kv *kv, const struct worker_config *cf)
{
    long long n = requeue_all(kv, processing);
    if (n < 0)
        return -1;
    if (n > 0)
        log_notice("put %lld job(s) left in %s's processing list back in the queue", n, cf->id);
    recover = false;
    return 0;
}

static void list_start(struct worker_kv *kv, const struct worker_config *cf)
{
    names(cf);
    if (beat(kv, cf) == 0)
        recover_own(kv, cf);
}

static void list_stop(struct worker_kv *kv, const struct worker_config *cf)
{
    (void)cf;
    /* nothing in hand (the loop finished its job): leave at once, so nobody
     * waits for the lease to expire */
    const struct resp_value *r;
    const char *l[] = {"LLEN", processing};
    if (!(r = worker_kv_cmdv(kv, 2, l)) || int_reply(r, 1) != 0)
        return;
    const char *s[] = {"SREM", "queue:workers", cf->id};
    worker_kv_cmdv(kv, 3, s);
    const char *d[] = {"DEL", alive};
    worker_kv_cmdv(kv, 2, d);
}

/* Any worker, every lease/2: give the ids of workers whose lease expired back. */
static int reap(struct worker_kv *kv, const struct worker_config *cf)
{
    char want[16];
    snprintf(want, sizeof want, "%d", WORKER_MAX_ELEMS);
    const char *sm[] = {"SRANDMEMBER", "queue:workers", want};
    const struct resp_value *r = worker_kv_cmdv(kv, 3, sm);
    if (!r)
        return -1;
    if (r->type != RESP_VALUE_ARRAY)
        return 0;
    char others[WORKER_MAX_ELEMS][64];
    int n = 0;
    for (size_t i = 0; i < r->nelem; i++) {
        const struct resp_value *e = &r->elem[i];
        if (e->type != RESP_VALUE_BULK || e->len == 0 || e->len >= sizeof others[0])
            continue;
        if (e->len == strlen(cf->id) && memcmp(e->str, cf->id, e->len) == 0)
            continue;
        memcpy(others[n], e->str, e->len);
        others[n][e->len] = 0;
        n++;
    }
    for (int i = 0; i < n; i++) {
        char key[160], list[160];
        snprintf(key, sizeof key, "worker:%.63s:alive", others[i]);
        snprintf(list, sizeof list, "queue:processing:%.63s", others[i]);
        const char *ex[] = {"EXISTS", key};
        if (!(r = worker_kv_cmdv(kv, 2, ex)))
            return -1;
        if (int_reply(r, 1) != 0)
            continue;
        long long moved = requeue_all(kv, list);
        if (moved < 0)
            return -1;
        if (moved > 0)
            log_notice("worker %s's lease expired: %lld job(s) back in the queue", others[i], moved);
        if (moved < REAP_BATCH) {
            const char *s[] = {"SREM", "queue:workers", others[i]};
            worker_kv_cmdv(kv, 3, s);
        }
    }
    return 0;
}

/* Due retries back to the queue. The id is first parked in our own
 * processing list (so a crash here leaves it reapable), then whoever removes
 * it from queue:delayed pushes it. */
static int promote(struct worker_kv *kv, long long now)
{
    char ns[32], lim[16];
    snprintf(ns, sizeof ns, "%lld", now);
    snprintf(lim, sizeof lim, "%d", PROMOTE_BATCH);
    const char *z[] = {"ZRANGEBYSCORE", "queue:delayed", "-inf", ns, "LIMIT", "0", lim};
    const struct resp_value *r = worker_kv_cmdv(kv, 7, z);
    if (!r)
        return -1;
    if (r->type != RESP_VALUE_ARRAY || r->nelem == 0)
        return 0;
    char ids[PROMOTE_BATCH][32];
    int n = 0;
    for (size_t i = 0; i < r->nelem && n < PROMOTE_BATCH; i++)
        if (r->elem[i].type == RESP_VALUE_BULK && r->elem[i].len < sizeof ids[0]) {
            memcpy(ids[n], r->elem[i].str, r->elem[i].len);
            ids[n][r->elem[i].len] = 0;
            n++;
        }
    for (int i = 0; i < n; i++) {
        const char *park[] = {"LPUSH", processing, ids[i]};
        if (!worker_kv_cmdv(kv, 3, park))
            return -1;
        const char *zr[] = {"ZREM", "queue:delayed", ids[i]};
        if (!(r = worker_kv_cmdv(kv, 3, zr)))
            return -1;
        if (int_reply(r, 0) == 1) {
            const char *p[] = {"RPUSH", "queue:jobs", ids[i]};
            if (!worker_kv_cmdv(kv, 3, p))
                return -1;
        }
        const char *lr[] = {"LREM", processing, "1", ids[i]};
        if (!worker_kv_cmdv(kv, 4, lr))
            return -1;
    }
    return 0;
}

/* The earliest due retry (LLONG_MAX: none), looked up at most every
 * DELAY_CHECK_MS while jobs keep coming, and always before blocking long. */
#define DELAY_CHECK_MS 20
static long long next_due = LLONG_MAX, next_delay_check_ms;

static int check_delayed(struct worker_kv *kv, long long now)
{
    const char *z[] = {"ZRANGE", "queue:delayed", "0", "0", "WITHSCORES"};
    const struct resp_value *r = worker_kv_cmdv(kv, 5, z);
    if (!r)
        return -1;
    next_due = r->type == RESP_VALUE_ARRAY && r->nelem == 2 ? int_reply(&r->elem[1], now) : LLONG_MAX;
    next_delay_check_ms = now + DELAY_CHECK_MS;
    if (next_due <= now) {
        if (promote(kv, now) != 0)
            return -1;
        next_due = LLONG_MAX;
        next_delay_check_ms = 0; /* more may be due: look again next time */
    }
    return 0;
}

/* How long to block: `block`, or less when a retry falls due sooner. */
static long long wait_ms(const struct worker_config *cf, long long now)
{
    long long ms = cf->block_ms;
    if (ms > 4000)
        ms = 4000;               /* under the connection's 5 s receive timeout */
    if (ms > cf->lease_ms / 3)
        ms = cf->lease_ms / 3;
    if (next_due != LLONG_MAX && next_due - now < ms)
        ms = next_due - now;
    return ms < 10 ? 10 : ms;
}

static void drop(struct worker_kv *kv, const char *id)
{
    const char *lr[] = {"LREM", processing, "1", id};
    if (!worker_kv_cmdv(kv, 4, lr))
        recover = true;
}

static void dead_letter(struct worker_kv *kv, const char *key, const char *id, const char *error)
{
    const char *hs[] = {"HSET", key, "status", "failed", "error", error};
    worker_kv_cmdv(kv, 6, hs);
    const char *p[] = {"LPUSH", "queue:dead", id};
    worker_kv_cmdv(kv, 3, p);
    char keep[16];
    snprintf(keep, sizeof keep, "%d", DEAD_MAX - 1);
    const char *t[] = {"LTRIM", "queue:dead", "0", keep};
    worker_kv_cmdv(kv, 4, t);
    drop(kv, id);
}

static int claim(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job);

static int list_claim(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job)
{
    int rc = claim(kv, cf, job);
    if (rc < 0) {
        next_beat_ms = 0;        /* kv may have restarted empty: register again at once */
        recover = true;
    }
    return rc;
}

static int claim(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job)
{
    long long now = util_time_ms();
    if (now >= next_beat_ms && beat(kv, cf) != 0)
        return -1;
    if (recover && recover_own(kv, cf) != 0)
        return -1;
    if (now >= next_reap_ms) {
        next_reap_ms = now + cf->lease_ms / 2;
        if (reap(kv, cf) != 0)
            return -1;
    }
    if (now >= next_delay_check_ms && check_delayed(kv, now) != 0)
        return -1;
    long long ms = wait_ms(cf, now);
    char t[32];
    snprintf(t, sizeof t, "%lld.%03lld", ms / 1000, ms % 1000);
    const char *bm[] = {"BLMOVE", "queue:jobs", processing, "RIGHT", "LEFT", t};
    const struct resp_value *r = worker_kv_cmdv(kv, 6, bm);
    if (!r)
        return -1;
    if (r->type != RESP_VALUE_BULK)
        return 0; /* timed out */
    char id[32];
    long long jid;
    if (r->len >= sizeof id || !util_str2ll(r->str, r->len, &jid) || jid <= 0) {
        char bad[64];
        snprintf(bad, sizeof bad, "%.*s", (int)(r->len < 40 ? r->len : 40), r->str);
        log_warn("dropping a malformed id '%s' from queue:jobs", bad);
        const char *lr[] = {"LREM", processing, "1", bad};
        if (r->len < 40)
            worker_kv_cmdv(kv, 4, lr);
        return 0;
    }
    snprintf(id, sizeof id, "%lld", jid);
    char key[64];
    snprintf(key, sizeof key, "job:%s", id);
    const char *hg[] = {"HGET", key, "status"};
    if (!(r = worker_kv_cmdv(kv, 3, hg)))
        return -1;
    if (r->type != RESP_VALUE_BULK || is(r, "done") || is(r, "failed")) {
        /* expired (job-ttl), or finished already: a duplicate delivery */
        log_verbose("job %s: %s, dropped", id, r->type == RESP_VALUE_BULK ? "already finished" : "no record");
        drop(kv, id);
        return 0;
    }
    const char *hi[] = {"HINCRBY", key, "attempts", "1"};
    if (!(r = worker_kv_cmdv(kv, 4, hi)))
        return -1;
    long long attempts = int_reply(r, 1);
    if (attempts > cf->max_attempts) {
        /* its workers died on it max-attempts times */
        char err[128];
        snprintf(err, sizeof err, "gave up after %lld attempts (workers died running it)", attempts - 1);
        const char *hb[] = {"HINCRBY", key, "attempts", "-1"};
        worker_kv_cmdv(kv, 4, hb);
        dead_letter(kv, key, id, err);
        log_notice("job %s: %s", id, err);
        return 0;
    }
    if (worker_job_load(kv, cf, job, key, jid, attempts) < 0)
        return -1;
    return 1;
}

static int list_done(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *result)
{
    char now[32], id[32];
    snprintf(now, sizeof now, "%lld", util_time_ms());
    snprintf(id, sizeof id, "%lld", job->id);
    const char *hs[] = {"HSET", job->key, "status", "done", "result", result, "finished_ms", now, "worker", cf->id};
    if (!worker_kv_cmdv(kv, 10, hs)) {
        recover = true;          /* still in our list: it runs again (at-least-once) */
        return -1;
    }
    const char *hd[] = {"HDEL", job->key, "data", "error"};
    worker_kv_cmdv(kv, 4, hd);
    drop(kv, id);
    return 0;
}

static int list_fail(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *error)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", job->id);
    if (job->attempts >= cf->max_attempts) {
        dead_letter(kv, job->key, id, error);
        return 0;
    }
    const char *hs[] = {"HSET", job->key, "status", "queued", "error", error};
    if (!worker_kv_cmdv(kv, 6, hs)) {
        recover = true;
        return -1;
    }
    char due[32];
    snprintf(due, sizeof due, "%lld", util_time_ms() + cf->retry_backoff_ms * job->attempts);
    const char *z[] = {"ZADD", "queue:delayed", due, id};
    if (!worker_kv_cmdv(kv, 4, z)) {
        recover = true;
        return -1;
    }
    next_delay_check_ms = 0;     /* block no longer than until it is due */
    drop(kv, id);
    return 0;
}

const struct worker_queue_ops worker_queue_list = {
    .name = "kv-list",
    .blocks = true,
    .start = list_start,
    .heartbeat = list_heartbeat,
    .stop = list_stop,
    .claim = list_claim,
    .done = list_done,
    .fail = list_fail,
};
