/*
 * queue_kv.c — the job queue on kv strings and hashes (`queue kv-hash`, the
 * first version, from before kv had lists; queue_list.c is the default).
 *
 *   jobs:seq          INCR by the app: the highest job id handed out
 *   job:ID            hash: status (queued, running, done, failed), attempts,
 *                     size, data, result, error, worker, created_ms, ...
 *   job:ID:lease      SET NX PX lease-ms by the worker that runs it; a worker
 *                     that dies lets its lease expire and another runs the
 *                     job again (at-least-once); a failed job keeps a lease
 *                     of retry-backoff × attempts so nobody retries it sooner
 *   jobs:low          the lowest id that may not be finished (advanced by
 *                     workers past finished and vanished jobs; a hint only)
 *
 * Claim: scan ids from jobs:low up to jobs:seq (at most scan-window per
 * pass), skip finished ones, and take the first queued (or running without a
 * live lease) whose lease SET NX succeeds. Polling costs a few commands per
 * poll-ms when idle; blocking list pops or consumer groups remove that when
 * kv has them (a new ops row, see worker.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "worker/worker.h"

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

/* A job id missing its hash: the app died between INCR and HSET, or the
 * record expired. Skipped once it has been missing for a while. */
#define HOLE_MS 10000
static long long hole_id = -1, hole_since;

static int kv_claim(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job)
{
    const char *g1[] = {"GET", "jobs:seq"};
    const struct resp_value *r = worker_kv_cmdv(kv, 2, g1);
    if (!r)
        return -1;
    long long seq = int_reply(r, 0);
    const char *g2[] = {"GET", "jobs:low"};
    r = worker_kv_cmdv(kv, 2, g2);
    if (!r)
        return -1;
    long long low = int_reply(r, 1);
    if (low < 1)
        low = 1;
    long long new_low = low;
    bool contiguous = true;
    long long end = seq < low + cf->scan_window - 1 ? seq : low + cf->scan_window - 1;
    int rc = 0;
    for (long long id = low; id <= end; id++) {
        char key[64], lease[80];
        snprintf(key, sizeof key, "job:%lld", id);
        snprintf(lease, sizeof lease, "job:%lld:lease", id);
        const char *h[] = {"HGET", key, "status"};
        r = worker_kv_cmdv(kv, 3, h);
        if (!r)
            return -1;
        bool finished = is(r, "done") || is(r, "failed");
        if (r->type == RESP_VALUE_NIL) {
            long long now = util_time_ms();
            if (hole_id != id) {
                hole_id = id;
                hole_since = now;
            }
            finished = now - hole_since > HOLE_MS;
        }
        if (finished) {
            if (contiguous)
                new_low = id + 1;
            continue;
        }
        contiguous = false;
        if (!is(r, "queued") && !is(r, "running"))
            continue;
        char ms[32];
        snprintf(ms, sizeof ms, "%lld", cf->lease_ms);
        const char *s[] = {"SET", lease, cf->id, "NX", "PX", ms};
        r = worker_kv_cmdv(kv, 6, s);
        if (!r)
            return -1;
        if (r->type != RESP_VALUE_STATUS)
            continue; /* someone else holds it */
        const char *hi[] = {"HINCRBY", key, "attempts", "1"};
        r = worker_kv_cmdv(kv, 4, hi);
        if (!r)
            return -1;
        job->attempts = int_reply(r, 1);
        char now[32];
        snprintf(now, sizeof now, "%lld", util_time_ms());
        const char *hs[] = {"HSET", key, "status", "running", "worker", cf->id, "started_ms", now};
        if (!worker_kv_cmdv(kv, 8, hs))
            return -1;
        const char *hd[] = {"HGET", key, "data"};
        r = worker_kv_cmdv(kv, 3, hd);
        if (!r)
            return -1;
        worker_job_fill(job, id, key, r);
        rc = 1;
        break;
    }
    if (new_low > low) {
        char v[32];
        snprintf(v, sizeof v, "%lld", new_low);
        const char *s[] = {"SET", "jobs:low", v};
        worker_kv_cmdv(kv, 3, s); /* a hint: a lost race only rescans a little */
    }
    return rc;
}

static int kv_done(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *result)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", util_time_ms());
    const char *hs[] = {"HSET", job->key, "status", "done", "result", result, "finished_ms", now, "worker", cf->id};
    if (!worker_kv_cmdv(kv, 10, hs))
        return -1;
    const char *hd[] = {"HDEL", job->key, "data", "error"};
    worker_kv_cmdv(kv, 4, hd);
    char lease[80];
    snprintf(lease, sizeof lease, "%s:lease", job->key);
    const char *d[] = {"DEL", lease};
    worker_kv_cmdv(kv, 2, d);
    return 0;
}

static int kv_fail(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *error)
{
    bool final = job->attempts >= cf->max_attempts;
    const char *hs[] = {"HSET", job->key, "status", final ? "failed" : "queued", "error", error};
    if (!worker_kv_cmdv(kv, 6, hs))
        return -1;
    char lease[80], ms[32];
    snprintf(lease, sizeof lease, "%s:lease", job->key);
    if (final) {
        const char *d[] = {"DEL", lease};
        worker_kv_cmdv(kv, 2, d);
    } else {
        /* keep the lease as the back-off: nobody claims it before it expires */
        snprintf(ms, sizeof ms, "%lld", cf->retry_backoff_ms * job->attempts);
        const char *px[] = {"PEXPIRE", lease, ms};
        worker_kv_cmdv(kv, 3, px);
    }
    return 0;
}

const struct worker_queue_ops worker_queue_kv = {.name = "kv-hash", .claim = kv_claim, .done = kv_done, .fail = kv_fail};
