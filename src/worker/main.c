/*
 * main.c — `scaleout worker`: the job loop and its blocking kv connection
 * (the directive table is in config.c).
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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <xxhash.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "net/server.h"
#include "proto/reply.h"
#include "worker/worker.h"
#include "net/sentinel_ask.h"

const struct worker_queue_ops *const worker_queues[] = {&worker_queue_kv, &worker_queue_list, &worker_queue_stream};

/* ---- blocking kv connection ------------------------------------------------- */

static const char *scalar(const char *p, const char *end, struct resp_value *r);

struct worker_kv {
    char host[128];
    int port;
    struct net_sentinels sent;
    const char *master_name;
    int fd;
    struct buf in, out;
    struct resp_reply rp;
    size_t last_len;              /* bytes of the previous reply, consumed on the next call */
    struct resp_value reply;
    struct resp_value elems[WORKER_MAX_ELEMS];
    long long last_fail_ms;
};

static void kv_drop(struct worker_kv *kv)
{
    if (kv->fd >= 0)
        close(kv->fd);
    kv->fd = -1;
    buf_consume(&kv->in, buf_pending(&kv->in));
    kv->last_len = 0;
    resp_reply_init(&kv->rp);
}

static bool kv_connect(struct worker_kv *kv)
{
    /* where the primary is, as the first sentinel that answers says (300 ms each) */
    net_sentinels_follow(&kv->sent, kv->master_name, 300, kv->host, sizeof kv->host, &kv->port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)kv->port)};
    if (inet_pton(AF_INET, kv->host, &sa.sin_addr) != 1)
        return false;
    int fd = net_socket_timeout(AF_INET, 5000);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return false;
    }
    kv->fd = fd;
    return true;
}

static const char *scalar(const char *p, const char *end, struct resp_value *r)
{
    const char *next = resp_value_scalar(p, end, r);
    if (next)
        return next;
    /* another type: skipped as nil (r is), as before */
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    return cr ? cr + 2 : NULL;
}

/* One element of an array reply: a scalar into kv->elems (up to
 * WORKER_MAX_ELEMS), a nested array's elements in turn. */
static const char *flatten(struct worker_kv *kv, const char *q, const char *end, int depth)
{
    if (*q != '*') {
        struct resp_value skip;
        if (kv->reply.nelem < WORKER_MAX_ELEMS)
            return scalar(q, end, &kv->elems[kv->reply.nelem++]);
        return scalar(q, end, &skip);
    }
    const char *le = memchr(q, '\r', (size_t)(end - q));
    long long cnt = 0;
    if (!le || depth > 8)
        return NULL;
    util_str2ll(q + 1, (size_t)(le - q - 1), &cnt);
    q = le + 2;
    for (long long i = 0; i < cnt && q; i++)
        q = flatten(kv, q, end, depth + 1);
    return q;
}

const struct resp_value *worker_kv_cmd(struct worker_kv *kv, int argc, const char **argv, const size_t *lens)
{
    if (kv->last_len) {
        buf_consume(&kv->in, kv->last_len);
        kv->last_len = 0;
    }
    if (kv->fd < 0) {
        if (util_time_ms() - kv->last_fail_ms < 500 || !kv_connect(kv)) {
            kv->last_fail_ms = util_time_ms();
            return NULL;
        }
        log_notice("connected to kv %s:%d", kv->host, kv->port);
    }
    buf_printf(&kv->out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        buf_printf(&kv->out, "$%zu\r\n", lens[i]);
        buf_append(&kv->out, argv[i], lens[i]);
        buf_append(&kv->out, "\r\n", 2);
    }
    while (buf_pending(&kv->out)) {
        ssize_t n = send(kv->fd, buf_head(&kv->out), buf_pending(&kv->out), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            buf_consume(&kv->out, buf_pending(&kv->out));
            goto fail;
        }
        buf_consume(&kv->out, (size_t)n);
    }
    for (;;) {
        ssize_t n = resp_reply_parse(&kv->rp, buf_head(&kv->in), buf_pending(&kv->in));
        if (n > 0) {
            const char *p = buf_head(&kv->in), *end = p + n;
            kv->last_len = (size_t)n;
            if (*p == '*') {
                long long cnt = 0;
                const char *le = memchr(p, '\r', (size_t)n);
                util_str2ll(p + 1, (size_t)(le - p - 1), &cnt);
                memset(&kv->reply, 0, sizeof kv->reply);
                kv->reply.type = cnt < 0 ? RESP_VALUE_NIL : RESP_VALUE_ARRAY;
                kv->reply.elem = kv->elems;
                const char *q = le + 2;
                for (long long i = 0; i < cnt && q; i++)
                    q = flatten(kv, q, end, 0);
            } else {
                scalar(p, end, &kv->reply);
                if (kv->sent.n && kv->reply.type == RESP_VALUE_ERROR && kv->reply.len >= 8 &&
                    memcmp(kv->reply.str, "READONLY", 8) == 0) {
                    /* a demoted primary: ask the sentinels at the next call */
                    log_warn("kv %s:%d is read-only (no longer the primary)", kv->host, kv->port);
                    kv_drop(kv);
                    kv->last_fail_ms = 0;
                    return NULL;
                }
            }
            return &kv->reply;
        }
        if (n < 0)
            goto fail;
        buf_reserve(&kv->in, 16384);
        ssize_t got = recv(kv->fd, buf_tail(&kv->in), buf_room(&kv->in), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            goto fail;
        kv->in.len += (size_t)got;
    }
fail:
    log_warn("kv %s:%d: connection lost", kv->host, kv->port);
    kv_drop(kv);
    kv->last_fail_ms = util_time_ms();
    return NULL;
}

const struct resp_value *worker_kv_cmdv(struct worker_kv *kv, int argc, const char **argv)
{
    size_t lens[16];
    for (int i = 0; i < argc && i < 16; i++)
        lens[i] = strlen(argv[i]);
    return worker_kv_cmd(kv, argc > 16 ? 16 : argc, argv, lens);
}

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
    struct worker_kv kv = {.fd = -1, .last_fail_ms = -1000000};
    buf_init(&kv.in);
    buf_init(&kv.out);
    resp_reply_init(&kv.rp);
    if (!net_split_hostport(cf.kv, kv.host, sizeof kv.host, &kv.port)) {
        fprintf(stderr, "scaleout worker: bad kv address '%s' (want host:port)\n", cf.kv);
        conf_free(&worker_conf_table, &cf);
        return 2;
    }
    kv.master_name = cf.kv_master_name;
    if (!net_sentinels_parse(&kv.sent, cf.kv_sentinel) || (kv.sent.n && !*cf.kv_master_name)) {
        fprintf(stderr, "scaleout worker: bad kv-sentinel '%s' (want HOST:PORT[,HOST:PORT...], IPv4)\n",
                cf.kv_sentinel);
        buf_deinit(&kv.in);
        buf_deinit(&kv.out);
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
        q->start(&kv, &cf);
    while (!stopping) {
        struct worker_job job = {0};
        int rc = q->claim(&kv, &cf, &job);
        if (rc < 0 || (rc == 0 && !q->blocks)) {
            sleep_ms(rc < 0 ? 500 : cf.poll_ms);
            continue;
        }
        if (rc == 0)
            continue;
        char out[256];
        if (run_job(&cf, q, &kv, &job, out, sizeof out) == 0) {
            q->done(&kv, &cf, &job, out);
            done++;
            log_verbose("job %lld done: %s", job.id, out);
        } else {
            q->fail(&kv, &cf, &job, out);
            failed++;
            log_notice("job %lld attempt %lld failed: %s", job.id, job.attempts, out);
        }
        xfree(job.data);
    }
    if (q->stop)
        q->stop(&kv, &cf);
    log_notice("worker %s stopping: %llu jobs done, %llu attempts failed", cf.id, done, failed);
    kv_drop(&kv);
    buf_deinit(&kv.in);
    buf_deinit(&kv.out);
    conf_free(&worker_conf_table, &cf);
    return 0;
}
