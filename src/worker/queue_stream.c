/*
 * queue_stream.c — the job queue on a kv stream with a consumer group
 * (`queue kv-stream`): at-least-once delivery with XREADGROUP + XACK, retries
 * and dead workers' jobs by XAUTOCLAIM after an idle time, a dead-letter
 * stream after max-attempts deliveries (docs/queue.md).
 *
 *   jobs:seq                 INCR by the app: the job id
 *   job:ID                   hash: the job's state and data (as kv-list)
 *   queue:stream             stream: the app XADDs `job ID`; the workers are
 *                            the consumers of its group `workers`
 *   queue:dead-letter        stream: `job ID entry SID deliveries N error E`
 *                            for jobs given up (MAXLEN ~ DEAD_MAX)
 *
 * Claim, in this order:
 *   - after a start or a lost connection, our own pending entries first
 *     (XREADGROUP ... STREAMS queue:stream 0): a previous incarnation under
 *     the same name, or a reply lost with the connection;
 *   - every `block` (and whenever a read times out), XAUTOCLAIM ... <lease> :
 *     an entry pending longer than lease (its worker died, or it failed and
 *     its back-off is over) becomes ours;
 *   - else XREADGROUP GROUP workers ME COUNT 1 BLOCK block ... > .
 * A running job's idle time is reset every lease/3 (XCLAIM ... JUSTID, only
 * while we still own it), so a live worker's long job is never taken from it.
 * Done: the record says done, then XACK and XDEL (the stream keeps only what
 * is queued or pending). Failed: with attempts left the entry stays pending,
 * its idle time set (XCLAIM IDLE) so that XAUTOCLAIM takes it again after
 * retry-backoff x attempts; else, and for an entry delivered more than
 * max-attempts times (its workers died on it), a dead letter.
 *
 * A crash between two steps leaves the entry pending: it runs again
 * (at-least-once); a job whose record already says done or failed is acked
 * without running (handlers see each finished job once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "worker/worker.h"

#define STREAM "queue:stream"
#define GROUP "workers"
#define DEAD "queue:dead-letter"
#define DEAD_MAX "10000"

static char cur_sid[48];           /* the entry of the job in hand ("" when none) */
static long long next_beat_ms, next_autoclaim_ms;
static char cursor[48] = "0-0";    /* XAUTOCLAIM's scan position */
static bool recover = true, have_group;

static bool is(const struct resp_value *r, const char *s)
{
    return r && r->type == RESP_VALUE_BULK && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

static bool is_error(const struct resp_value *r, const char *prefix)
{
    return r && r->type == RESP_VALUE_ERROR && r->len >= strlen(prefix) && memcmp(r->str, prefix, strlen(prefix)) == 0;
}

static void copy_str(char *dst, size_t cap, const struct resp_value *r)
{
    size_t n = r->len < cap - 1 ? r->len : cap - 1;
    memcpy(dst, r->str, n);
    dst[n] = 0;
}

/* The group, made if missing (from 0: entries queued before any worker ran count). */
static int ensure_group(struct worker_kv *kv)
{
    const char *g[] = {"XGROUP", "CREATE", STREAM, GROUP, "0", "MKSTREAM"};
    const struct resp_value *r = worker_kv_cmdv(kv, 6, g);
    if (!r)
        return -1;
    if (r->type == RESP_VALUE_ERROR && !is_error(r, "BUSYGROUP")) {
        log_warn("XGROUP CREATE %s %s: %.*s", STREAM, GROUP, (int)r->len, r->str);
        return -1;
    }
    have_group = true;
    return 0;
}

static void stream_start(struct worker_kv *kv, const struct worker_config *cf)
{
    (void)cf;
    ensure_group(kv);
}

static void ack(struct worker_kv *kv, const char *sid)
{
    const char *a[] = {"XACK", STREAM, GROUP, sid};
    if (!worker_kv_cmdv(kv, 4, a)) {
        recover = true;
        return;
    }
    const char *d[] = {"XDEL", STREAM, sid};
    worker_kv_cmdv(kv, 3, d);
}

/* How many times the entry was delivered (XPENDING); 1 when unknown. */
static long long deliveries(struct worker_kv *kv, const char *sid, const struct worker_config *cf, bool *ours)
{
    const char *p[] = {"XPENDING", STREAM, GROUP, sid, sid, "1"};
    const struct resp_value *r = worker_kv_cmdv(kv, 6, p);
    *ours = false;
    if (!r || r->type != RESP_VALUE_ARRAY || r->nelem < 4)
        return 1;
    *ours = r->elem[1].type == RESP_VALUE_BULK && is(&r->elem[1], cf->id);
    return r->elem[3].type == RESP_VALUE_INT ? r->elem[3].integer : 1;
}

static void dead_letter(struct worker_kv *kv, const char *key, const char *jid, const char *sid, long long n,
                        const char *error)
{
    const char *hs[] = {"HSET", key, "status", "failed", "error", error};
    worker_kv_cmdv(kv, 6, hs);
    char ns[32];
    snprintf(ns, sizeof ns, "%lld", n);
    const char *x[] = {"XADD", DEAD, "MAXLEN", "~", DEAD_MAX, "*", "job", jid, "entry", sid, "deliveries", ns,
                       "error", error};
    worker_kv_cmdv(kv, 14, x);
    ack(kv, sid);
}

static void stream_heartbeat(struct worker_kv *kv, const struct worker_config *cf)
{
    long long now = util_time_ms();
    if (!cur_sid[0] || now < next_beat_ms)
        return;
    next_beat_ms = now + cf->lease_ms / 3;
    bool ours;
    deliveries(kv, cur_sid, cf, &ours);
    if (!ours)
        return; /* taken by another worker (we were cut off longer than lease): not ours to renew */
    const char *c[] = {"XCLAIM", STREAM, GROUP, cf->id, "0", cur_sid, "JUSTID"};
    worker_kv_cmdv(kv, 7, c);
}

static void stream_stop(struct worker_kv *kv, const struct worker_config *cf)
{
    /* nothing in hand: leave the group if nothing is pending under our name */
    const char *p[] = {"XPENDING", STREAM, GROUP, "-", "+", "1", cf->id};
    const struct resp_value *r = worker_kv_cmdv(kv, 7, p);
    if (!r || r->type != RESP_VALUE_ARRAY || r->nelem != 0)
        return;
    const char *d[] = {"XGROUP", "DELCONSUMER", STREAM, GROUP, cf->id};
    worker_kv_cmdv(kv, 5, d);
}

/*
 * An entry is ours (flattened reply elements from e: sid, "job", ID). Returns
 * 1 with the job filled, 0 when it was dropped, -1 if kv went away.
 */
static int take(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job,
                const struct resp_value *e, size_t n, long long delivered)
{
    char sid[48], id[32], key[64];
    if (n < 1 || e[0].type != RESP_VALUE_BULK)
        return 0;
    copy_str(sid, sizeof sid, &e[0]);
    long long jid = 0;
    if (n < 3 || !is(&e[1], "job") || e[2].type != RESP_VALUE_BULK || !util_str2ll(e[2].str, e[2].len, &jid) ||
        jid <= 0) {
        /* deleted meanwhile, or not a job entry */
        log_warn("dropping stream entry %s: not a job", sid);
        ack(kv, sid);
        return 0;
    }
    snprintf(id, sizeof id, "%lld", jid);
    snprintf(key, sizeof key, "job:%s", id);
    if (delivered < 0) {
        bool ours;
        delivered = deliveries(kv, sid, cf, &ours);
    }
    const char *hg[] = {"HGET", key, "status"};
    const struct resp_value *r = worker_kv_cmdv(kv, 3, hg);
    if (!r)
        return -1;
    if (r->type != RESP_VALUE_BULK || is(r, "done") || is(r, "failed")) {
        log_verbose("job %s: %s, acked", id, r->type == RESP_VALUE_BULK ? "already finished" : "no record");
        ack(kv, sid);
        return 0;
    }
    if (delivered > cf->max_attempts) {
        char err[128];
        snprintf(err, sizeof err, "gave up after %lld deliveries (workers died running it)", delivered - 1);
        dead_letter(kv, key, id, sid, delivered, err);
        log_notice("job %s: %s", id, err);
        return 0;
    }
    const char *hi[] = {"HINCRBY", key, "attempts", "1"};
    if (!worker_kv_cmdv(kv, 4, hi))
        return -1;
    if (worker_job_load(kv, cf, job, key, jid, delivered) < 0)
        return -1;
    snprintf(cur_sid, sizeof cur_sid, "%s", sid);
    next_beat_ms = util_time_ms() + cf->lease_ms / 3;
    return 1;
}

/* XAUTOCLAIM one entry idle longer than lease. */
static int autoclaim(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job)
{
    char idle[32];
    snprintf(idle, sizeof idle, "%lld", cf->lease_ms);
    const char *a[] = {"XAUTOCLAIM", STREAM, GROUP, cf->id, idle, cursor, "COUNT", "1"};
    const struct resp_value *r = worker_kv_cmdv(kv, 8, a);
    if (!r)
        return -1;
    if (r->type != RESP_VALUE_ARRAY || r->nelem < 1 || r->elem[0].type != RESP_VALUE_BULK)
        return r->type == RESP_VALUE_ERROR && is_error(r, "NOGROUP") ? (have_group = false, 0) : 0;
    /* flattened: cursor, [sid, "job", ID], deleted ids... */
    copy_str(cursor, sizeof cursor, &r->elem[0]);
    if (r->nelem >= 4 && is(&r->elem[2], "job")) {
        struct resp_value e[3];
        memcpy(e, &r->elem[1], sizeof e);
        char sid[48];
        copy_str(sid, sizeof sid, &e[0]);
        log_notice("reclaimed stream entry %s (idle over %lld ms)", sid, cf->lease_ms);
        /* the reply lives in the connection buffer: copy what take needs */
        char jid[32];
        copy_str(jid, sizeof jid, &e[2]);
        e[0].str = sid;
        e[2].str = jid;
        return take(kv, cf, job, e, 3, -1);
    }
    return 0;
}

static int read_group(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *from,
                      long long block_ms)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", block_ms);
    const char *x[] = {"XREADGROUP", "GROUP", GROUP, cf->id, "COUNT", "1", "BLOCK", t, "STREAMS", STREAM, from};
    const char *xh[] = {"XREADGROUP", "GROUP", GROUP, cf->id, "COUNT", "1", "STREAMS", STREAM, from};
    const struct resp_value *r = block_ms >= 0 ? worker_kv_cmdv(kv, 11, x) : worker_kv_cmdv(kv, 9, xh);
    if (!r)
        return -1;
    if (r->type == RESP_VALUE_ERROR) {
        if (is_error(r, "NOGROUP"))
            have_group = false;
        else
            log_warn("XREADGROUP: %.*s", (int)r->len, r->str);
        return 0;
    }
    /* flattened: stream, sid, "job", ID (a history entry deleted meanwhile: stream, sid) */
    if (r->type != RESP_VALUE_ARRAY || r->nelem < 2)
        return 0;
    struct resp_value e[3];
    char sid[48], jid[32];
    size_t n = r->nelem - 1 < 3 ? r->nelem - 1 : 3;
    memcpy(e, &r->elem[1], n * sizeof *e);
    copy_str(sid, sizeof sid, &e[0]);
    e[0].str = sid;
    if (n == 3 && e[2].type == RESP_VALUE_BULK) {
        copy_str(jid, sizeof jid, &e[2]);
        e[2].str = jid;
    }
    int rc = take(kv, cf, job, e, n, block_ms >= 0 ? 1 : -1);
    return rc == 0 ? 2 : rc; /* 2: an entry was handled (dropped): look again */
}

static int stream_claim(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job)
{
    cur_sid[0] = 0;
    if (!have_group && ensure_group(kv) != 0)
        return -1;
    int rc;
    if (recover) {
        rc = read_group(kv, cf, job, "0", -1);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return 1;
        if (rc == 0)
            recover = false;
        if (rc == 2)
            return 0;
    }
    long long now = util_time_ms();
    if (now >= next_autoclaim_ms) {
        next_autoclaim_ms = now + cf->block_ms;
        rc = autoclaim(kv, cf, job);
        if (rc != 0)
            return rc;
    }
    long long ms = cf->block_ms > 4000 ? 4000 : cf->block_ms; /* under the connection's 5 s receive timeout */
    rc = read_group(kv, cf, job, ">", ms);
    if (rc < 0) {
        recover = true;
        return -1;
    }
    if (rc == 0)
        next_autoclaim_ms = 0; /* idle: look for abandoned work at once */
    return rc == 1 ? 1 : 0;
}

static int stream_done(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *result)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", util_time_ms());
    const char *hs[] = {"HSET", job->key, "status", "done", "result", result, "finished_ms", now, "worker", cf->id};
    if (!worker_kv_cmdv(kv, 10, hs)) {
        recover = true; /* still pending: it runs again (at-least-once) */
        return -1;
    }
    const char *hd[] = {"HDEL", job->key, "data", "error"};
    worker_kv_cmdv(kv, 4, hd);
    ack(kv, cur_sid);
    cur_sid[0] = 0;
    return 0;
}

static int stream_fail(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *error)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", job->id);
    if (job->attempts >= cf->max_attempts) {
        dead_letter(kv, job->key, id, cur_sid, job->attempts, error);
        cur_sid[0] = 0;
        return 0;
    }
    const char *hs[] = {"HSET", job->key, "status", "queued", "error", error};
    if (!worker_kv_cmdv(kv, 6, hs)) {
        recover = true;
        return -1;
    }
    /* left pending; idle as if it had waited lease - back-off, so XAUTOCLAIM takes it after the back-off */
    long long wait = cf->retry_backoff_ms * job->attempts;
    long long idle = cf->lease_ms - wait > 0 ? cf->lease_ms - wait : cf->lease_ms;
    char idles[32];
    snprintf(idles, sizeof idles, "%lld", idle);
    const char *c[] = {"XCLAIM", STREAM, GROUP, cf->id, "0", cur_sid, "IDLE", idles, "JUSTID"};
    worker_kv_cmdv(kv, 9, c);
    cur_sid[0] = 0;
    next_autoclaim_ms = util_time_ms() + (wait < cf->block_ms ? wait : cf->block_ms);
    return 0;
}

const struct worker_queue_ops worker_queue_stream = {
    .name = "kv-stream",
    .blocks = true,
    .start = stream_start,
    .heartbeat = stream_heartbeat,
    .stop = stream_stop,
    .claim = stream_claim,
    .done = stream_done,
    .fail = stream_fail,
};
