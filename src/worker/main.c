/*
 * main.c — `scaleout worker`: the job loop (the blocking kv connection is in
 * kv.c, the directive table in config.c).
 *
 *   loop: claim a job (queue ops) → run it → done, or fail (retried with
 *         back-off up to max-attempts); nothing to do: kv-list blocks in
 *         BLMOVE (at most `block`), kv-hash sleeps poll-ms.
 *   SIGTERM/SIGINT: finish the job in hand, then exit 0. A worker killed
 *   mid-job leaves a lease that expires (lease-ms), and the job runs again
 *   on another worker: at-least-once (queue_list.c, queue_kv.c).
 *
 * The job itself stands in for an upload's processing (thumbnails,
 * virus scan): job-time of work, then a result naming the size and a
 * checksum of the data. A payload that starts with "fail:N" fails its first
 * N attempts ("fail" alone always fails): the retry path is testable;
 * "slow:MS" takes MS more (at most 60 s): a job can be caught running.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "net/server.h"
#include "worker/worker.h"

const struct worker_queue_ops *const worker_queues[] = {&worker_queue_kv, &worker_queue_list, &worker_queue_stream};

/* ---- the loop ------------------------------------------------------------------ */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short: that is what we want */
}

/* Run one job: 0 and a result, or -1 and an error. */
static int run_job(const struct worker_config *cf, const struct worker_queue_ops *q, struct worker_kv *kv,
                   const struct worker_job *job, char *out, size_t outlen)
{
    /* "slow:MS" adds MS (at most a minute) of work: a job that is easy to
     * catch running */
    long long work = cf->job_time_ms, extra = 0;
    if (job->len > 5 && memcmp(job->data, "slow:", 5) == 0) {
        size_t l = 0;
        while (5 + l < job->len && l < 6 && job->data[5 + l] >= '0' && job->data[5 + l] <= '9')
            l++;
        if (util_str2ll(job->data + 5, l, &extra) && extra > 0)
            work += extra < 60000 ? extra : 60000;
    }
    /* the work, in slices short enough to keep the worker's lease alive */
    long long end = util_time_ms() + work, slice = cf->lease_ms / 4 > 0 ? cf->lease_ms / 4 : 1;
    for (long long left = work; left > 0; left = end - util_time_ms()) {
        sleep_ms(left < slice ? left : slice);
        if (q->heartbeat)
            q->heartbeat(kv, cf);
    }
    if (job->len >= 4 && memcmp(job->data, "fail", 4) == 0) {
        long long n = 1LL << 40;
        if (job->len > 5 && job->data[4] == ':') {
            size_t l = 0;
            while (5 + l < job->len && job->data[5 + l] >= '0' && job->data[5 + l] <= '9')
                l++;
            if (!util_str2ll(job->data + 5, l, &n))
                n = 1LL << 40;
        }
        if (job->attempts <= n) {
            snprintf(out, outlen, "simulated failure on attempt %lld", job->attempts);
            return -1;
        }
    }
    snprintf(out, outlen, "bytes=%zu xxh64=%016llx", job->len,
             (unsigned long long)XXH64(job->data, job->len, 0));
    return 0;
}

int worker_main(int argc, char **argv)
{
    if (net_server_help_asked(argc, argv)) {
        net_server_usage(stdout, &worker_conf_table,
                         "usage: scaleout worker [--config FILE] [--directive value ...]\n\ndirectives:\n", "");
        return 0;
    }
    struct worker_config cf;
    conf_defaults(&worker_conf_table, &cf);
    if (net_server_conf_args(&worker_conf_table, &cf, "worker", argc, argv, NULL) != 0) {
        conf_free(&worker_conf_table, &cf);
        return 2;
    }
    log_init("worker", cf.loglevel, cf.logfile);
    net_pidfile_write(cf.pidfile);
    if (!cf.id || !*cf.id) {
        char id[32];
        snprintf(id, sizeof id, "worker-%d", (int)getpid());
        xfree(cf.id);
        cf.id = xstrdup(id);
    }
    const char *bad = NULL;
    struct worker_kv *kv = worker_kv_new(cf.kv, cf.kv_sentinel, cf.kv_master_name, &bad);
    if (!kv) {
        if (strcmp(bad, "kv") == 0)
            fprintf(stderr, "scaleout worker: bad kv address '%s' (want host:port)\n", cf.kv);
        else
            fprintf(stderr, "scaleout worker: bad kv-sentinel '%s' (want HOST:PORT[,HOST:PORT...], IPv4)\n",
                    cf.kv_sentinel);
        conf_free(&worker_conf_table, &cf);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    const struct worker_queue_ops *q = worker_queues[cf.queue];
    log_notice("worker %s on kv %s (queue %s)", cf.id, cf.kv, q->name);
    unsigned long long done = 0, failed = 0;
    if (q->start)
        q->start(kv, &cf);
    while (!stopping) {
        struct worker_job job = {0};
        int rc = q->claim(kv, &cf, &job);
        if (rc < 0 || (rc == 0 && !q->blocks)) {
            sleep_ms(rc < 0 ? 500 : cf.poll_ms);
            continue;
        }
        if (rc == 0)
            continue;
        char out[256];
        if (run_job(&cf, q, kv, &job, out, sizeof out) == 0) {
            q->done(kv, &cf, &job, out);
            done++;
            log_verbose("job %lld done: %s", job.id, out);
        } else {
            q->fail(kv, &cf, &job, out);
            failed++;
            log_notice("job %lld attempt %lld failed: %s", job.id, job.attempts, out);
        }
        xfree(job.data);
    }
    if (q->stop)
        q->stop(kv, &cf);
    log_notice("worker %s stopping: %llu jobs done, %llu attempts failed", cf.id, done, failed);
    worker_kv_free(kv);
    conf_free(&worker_conf_table, &cf);
    return 0;
}
