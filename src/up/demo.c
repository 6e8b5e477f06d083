/*
 * demo.c — `scaleout up --demo`: the seeds' claims measured on the running
 * system, one self-contained HTML report with a verdict per claim.
 *
 * Each phase starts `scaleout up` with a topology of its own (free ports,
 * state under the demo dir), loads it with `scaleout bench` (--json), reads
 * up's /status, injects faults by killing processes, and stops it:
 *
 *   A  1 app (fixed)            capacity(1); a ramp without autoscaling
 *   B  2 apps                   capacity(2); two lbs of the demo's own on one
 *                               port (reuseport yes): kill -9 of one under load
 *   C  4 apps                   capacity(4), database queries with the cache;
 *                               kill -9 of an app and a worker under load
 *   D  4 apps, no cache,        database queries without the cache; reads
 *      0 replicas               with 0 replicas (the apps not the bottleneck);
 *                               upload p99 with and without the queue
 *   E  as D with 1 replica      reads with 1 replica (through the pg proxy);
 *                               in D and E a read waits DEMO_READ_MS in its
 *                               server (pg_sleep, as a disk read would)
 *   F  1..4 apps, autoscaled    the same ramp with autoscaling
 *   G  no up: 5 kv + a router   keys moved when a 5th shard joins 4 online
 *                               (ketama, then modula as the contrast)
 *   H  2 apps, kv primary +     kill -9 of the kv primary under load
 *      replica + 3 sentinels
 *
 * Every bench runs --demo-seconds (default 5). The capacity of an app is the
 * model of app.md (concurrency × service time: 4 × 10 ms = 400 req/s), so
 * N instances can show N× on a 2-core machine; the verdicts compare measured
 * figures with the goals of issue 11 and say FAIL when they are missed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/net.h"
#include "core/util.h"
#include "up/up.h"

#define DEMO_MAX_ARGS 40

struct demo {
    const char *exe;
    char dir[4096];
    char report[4096];
    long long secs;
};

struct bench_res {
    double rps, p50_ms, p99_ms;
    long long requests, errors, closed, http5xx;
    long long retried;             /* resent by the client (--retry-idempotent) */
    bool ok;
};

struct up_run {
    pid_t pid;
    int status_port, lb_port;
    char name[32];
};

struct claim {
    const char *title;
    char goal[512];
    char measured[400];
    bool pass;
    bool done;
};

#define DEMO_READ_MS 10 /* phases D and E: server time of a product read (app product-read-time) */

enum { C_CAPACITY, C_CACHE, C_QUEUE, C_REPLICA, C_FAULTS, C_AUTOSCALE, C_LB, C_KV, C_CHASH, C__COUNT };

static struct claim claims[C__COUNT] = {
    [C_CAPACITY] = {"N app servers give about N times the capacity", "", "", false, false},
    [C_CACHE] = {"caching cuts database load", "", "", false, false},
    [C_QUEUE] = {"a queue gives instant responses to uploads", "", "", false, false},
    [C_REPLICA] = {"a read replica scales reads", "", "", false, false},
    [C_FAULTS] = {"no failed request when an app instance and a worker die", "", "", false, false},
    [C_AUTOSCALE] = {"autoscaling relieves load under a ramp", "", "", false, false},
    [C_LB] = {"no failed request when one of two load balancers dies", "", "", false, false},
    [C_KV] = {"no failed request when the kv primary dies (replica + sentinels)", "", "", false, false},
    [C_CHASH] = {"consistent hashing moves about 1/N of the keys when a shard joins", "", "", false, false},
};

/* every bench run, for the report's table */
#define DEMO_MAX_RUNS 48
#define DEMO_MAX_TL 64
static struct {
    char phase[24], tag[40];
    struct bench_res b;
    int ntl;                       /* the bench's per-second timeline */
    double tl_t[DEMO_MAX_TL], tl_ok[DEMO_MAX_TL], tl_err[DEMO_MAX_TL];
} runs[DEMO_MAX_RUNS];
static int nruns;
static const char *cur_phase = "";

/* figures for the plots */
static double cap_rps[3];
static double p99_pairs[2][2]; /* [queue, sync], [autoscaled, fixed] */
static double ramp_fixed_rps, ramp_fixed_p50;
static double chash_frac[2]; /* ketama, modula */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("demo | ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

/* ---- JSON figures (bench's and up's own output: flat enough for strstr) ---- */

static bool jnum(const char *js, const char *after, const char *key, double *out)
{
    const char *p = js;
    if (after) {
        p = strstr(js, after);
        if (!p)
            return false;
    }
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    p = strstr(p, pat);
    if (!p)
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    char *end;
    double v = strtod(p, &end);
    if (end == p)
        return false;
    *out = v;
    return true;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    buf_putc(&b, 0);
    char *s = xstrdup(buf_head(&b));
    buf_deinit(&b);
    return s;
}

/* ---- RESP on a blocking socket (kv shards, the router) ---------------------- */

static int tcp_open(int port) { return up_tcp_loopback(port, 5000); }

/* One inline command; its first reply line (without CRLF) in out. false: no answer. */
static bool resp_line(int port, const char *cmd, char *out, size_t outlen)
{
    int fd = tcp_open(port);
    if (fd < 0)
        return false;
    char req[256];
    int n = snprintf(req, sizeof req, "%s\r\n", cmd);
    bool ok = net_write_all(fd, req, (size_t)n) == 0;
    size_t got = 0;
    while (ok && got + 1 < outlen) {
        ssize_t r = read(fd, out + got, outlen - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        out[got] = 0;
        if (strstr(out, "\r\n"))
            break;
    }
    close(fd);
    out[got] = 0;
    char *crlf = strstr(out, "\r\n");
    if (!crlf)
        return false;
    *crlf = 0;
    return true;
}

/* an integer reply (":N"), -1 on anything else */
static long long resp_int(int port, const char *cmd)
{
    char line[128];
    if (!resp_line(port, cmd, line, sizeof line) || line[0] != ':')
        return -1;
    return atoll(line + 1);
}

/* PING answered within timeout_ms */
static bool resp_wait_ready(int port, long long timeout_ms)
{
    long long end = util_time_ms() + timeout_ms;
    while (util_time_ms() < end) {
        char line[128];
        if (resp_line(port, "PING", line, sizeof line) && strcmp(line, "+PONG") == 0)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

/* SET demo:chash:I (I < n) through port, pipelined in batches; the number acknowledged +OK. */
static long long resp_load_keys(int port, long long n)
{
    int fd = tcp_open(port);
    if (fd < 0)
        return 0;
    long long acked = 0;
    struct buf b;
    buf_init(&b);
    for (long long i = 0; i < n; i += 500) {
        long long m = n - i < 500 ? n - i : 500;
        b.len = b.off = 0;
        for (long long k = i; k < i + m; k++) {
            char key[48];
            int kl = snprintf(key, sizeof key, "demo:chash:%lld", k);
            buf_printf(&b, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n", kl, key);
        }
        if (net_write_all(fd, buf_head(&b), buf_pending(&b)) != 0)
            break;
        /* each reply is "+OK\r\n" (5 bytes) or an error line */
        long long lines = 0;
        char rb[8192];
        char last = 0;
        bool dead = false;
        while (lines < m) {
            ssize_t r = read(fd, rb, sizeof rb);
            if (r <= 0) {
                dead = true;
                break;
            }
            for (ssize_t j = 0; j < r; j++) {
                if (last == 0 && rb[j] == '+')
                    acked++;
                last = rb[j] == '\n' ? 0 : (last ? last : rb[j]);
                if (rb[j] == '\n')
                    lines++;
            }
        }
        if (dead)
            break;
    }
    buf_deinit(&b);
    close(fd);
    return acked;
}

/* ---- processes ------------------------------------------------------------ */

static pid_t spawn(struct demo *d, char *const argv[], const char *logname)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", d->dir, logname);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int wait_pid(pid_t pid, long long timeout_ms)
{
    long long end = util_time_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        if (r < 0 && errno != EINTR)
            return -1;
        if (util_time_ms() > end)
            return -2;
        usleep(50 * 1000);
    }
}

static char *status_json(int port)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 3; i++) {
        b.len = b.off = 0;
        if (up_http_call(port, "GET", "/status", NULL, &b) == 200) {
            buf_putc(&b, 0);
            char *s = xstrdup(buf_head(&b));
            buf_deinit(&b);
            return s;
        }
        usleep(200 * 1000);
    }
    buf_deinit(&b);
    return NULL;
}

static double status_num(int port, const char *after, const char *key)
{
    char *js = status_json(port);
    double v = -1;
    if (js && !jnum(js, after, key, &v))
        v = -1;
    xfree(js);
    return v;
}

static int proc_pid(int port, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, "{\"name\":\"%s\",\"kind\"", name);
    return (int)status_num(port, pat, "pid");
}

/* Start `scaleout up` with conf lines (plus the demo's common ones); wait until ready. */
static bool up_start_once(struct demo *d, struct up_run *r, const char *name, const char *state, const char *extra)
{
    snprintf(r->name, sizeof r->name, "%s", name);
    cur_phase = name;
    r->status_port = up_free_port();
    r->lb_port = up_free_port();
    char conf[8400];
    snprintf(conf, sizeof conf, "%s/%s.conf", d->dir, name);
    FILE *f = fopen(conf, "w");
    if (!f)
        return false;
    /* no kv replica or sentinels: no claim measured here needs them, and
     * eight fewer processes per phase keep a phase's start-up short */
    fprintf(f,
            "role up\ndir %s/%s\nstatus-port %d\nlb-port %d\nlb-admin-port 0\nkv-port 0\npg-port 0\n"
            "pg-proxy-port 0\napp-port 0\nworkers 2\nworker-args \"--job-time 100ms\"\napp-concurrency 4\n"
            "app-service-time 10ms\nautoscale no\nready-timeout 120s\nkv-replicas 0\n%s",
            d->dir, state, r->status_port, r->lb_port, extra);
    fclose(f);
    char log[64];
    snprintf(log, sizeof log, "%s.log", name);
    char *argv[] = {(char *)d->exe, "up", conf, NULL};
    r->pid = spawn(d, argv, log);
    long long end = util_time_ms() + 150000;
    while (util_time_ms() < end) {
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            say("%s: up exited during start-up; see %s/%s", name, d->dir, log);
            r->pid = 0;
            return false;
        }
        double ready = status_num(r->status_port, NULL, "apps");
        char *js = status_json(r->status_port);
        bool ok = js && strstr(js, "\"ready\":true");
        xfree(js);
        if (ok && ready >= 1)
            return true;
        usleep(200 * 1000);
    }
    say("%s: not ready in 150 s", name);
    return false;
}

/* Free ports are picked before they are bound: on a busy machine another
 * process may take one first, and up then stops during start-up naming it.
 * One more try with fresh ports (the log keeps both attempts). */
static bool up_start(struct demo *d, struct up_run *r, const char *name, const char *state, const char *extra)
{
    if (up_start_once(d, r, name, state, extra))
        return true;
    if (r->pid > 0)
        return false; /* not ready in time: no second try */
    say("%s: trying once more with other ports", name);
    return up_start_once(d, r, name, state, extra);
}

static void up_stop(struct up_run *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    if (wait_pid(r->pid, 60000) == -2) {
        kill(r->pid, SIGKILL);
        wait_pid(r->pid, 10000);
    }
    r->pid = 0;
}

/* bench URL -c conns -d secs --json; method POST with the body in the demo dir's file post when not NULL;
 * --retry-idempotent retry when > 0 (the client resends an idempotent request whose connection died before
 * any byte of its answer, as browsers do). */
static pid_t bench_start_retry(struct demo *d, const char *tag, int port, const char *path, int conns,
                               long long secs, const char *post, int rate, int retry)
{
    char url[256], c[16], dur[32], json[8400], rt[16], ri[16];
    snprintf(rt, sizeof rt, "%d", rate);
    snprintf(ri, sizeof ri, "%d", retry);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    snprintf(c, sizeof c, "%d", conns);
    snprintf(dur, sizeof dur, "%llds", secs);
    snprintf(json, sizeof json, "%s/bench-%s.json", d->dir, tag);
    unlink(json);
    char body[8400];
    snprintf(body, sizeof body, "%s/%s", d->dir, post ? post : "");
    char *argv[DEMO_MAX_ARGS] = {(char *)d->exe, "bench", url, "-c", c, "-d", dur, "--json", json, "--progress", "off",
                                 "--timeout", "30s", NULL};
    int n = 13;
    if (rate > 0) {
        argv[n++] = "--rate";
        argv[n++] = rt;
        argv[n] = NULL;
    }
    if (post) {
        argv[n++] = "--method";
        argv[n++] = "POST";
        argv[n++] = "--body-file";
        argv[n++] = body;
        argv[n] = NULL;
    }
    if (retry > 0) {
        argv[n++] = "--retry-idempotent";
        argv[n++] = ri;
        argv[n] = NULL;
    }
    return spawn(d, argv, "bench.log");
}

static pid_t bench_start(struct demo *d, const char *tag, int port, const char *path, int conns, long long secs,
                         const char *post, int rate)
{
    return bench_start_retry(d, tag, port, path, conns, secs, post, rate, 0);
}

static struct bench_res bench_result(struct demo *d, const char *tag, pid_t pid)
{
    struct bench_res b = {0};
    wait_pid(pid, (d->secs + 60) * 1000);
    char json[8400];
    snprintf(json, sizeof json, "%s/bench-%s.json", d->dir, tag);
    char *js = read_all(json);
    if (!js)
        return b;
    double v;
    b.ok = jnum(js, NULL, "requests_per_s", &b.rps);
    if (jnum(js, NULL, "requests", &v))
        b.requests = (long long)v;
    if (jnum(js, "\"latency_us\"", "p50", &v))
        b.p50_ms = v / 1000.0;
    if (jnum(js, "\"latency_us\"", "p99", &v))
        b.p99_ms = v / 1000.0;
    if (jnum(js, "\"errors\"", "total", &v))
        b.errors = (long long)v;
    if (jnum(js, "\"errors\"", "closed", &v))
        b.closed = (long long)v;
    if (jnum(js, "\"errors\"", "http_5xx", &v))
        b.http5xx = (long long)v;
    if (jnum(js, NULL, "retried", &v))
        b.retried = (long long)v;
    if (nruns < DEMO_MAX_RUNS && strcmp(tag, "warm") != 0) {
        snprintf(runs[nruns].phase, sizeof runs[nruns].phase, "%s", cur_phase);
        snprintf(runs[nruns].tag, sizeof runs[nruns].tag, "%s", tag);
        runs[nruns].b = b;
        /* "timeline":[{"t":..,"dt":..,"requests":..,...,"errors":..,...},...] */
        const char *p = strstr(js, "\"timeline\"");
        const char *end = p ? strchr(p, ']') : NULL;
        int n = 0;
        while (p && end && n < DEMO_MAX_TL && (p = strstr(p, "{\"t\":")) && p < end) {
            double t = 0, req = 0, err = 0;
            jnum(p, NULL, "t", &t);
            jnum(p, NULL, "requests", &req);
            jnum(p, NULL, "errors", &err);
            runs[nruns].tl_t[n] = t;
            runs[nruns].tl_ok[n] = req - err > 0 ? req - err : 0;
            runs[nruns].tl_err[n] = err;
            n++;
            p++;
        }
        runs[nruns++].ntl = n;
    }
    xfree(js);
    char retried[64] = "";
    if (b.retried)
        snprintf(retried, sizeof retried, ", %lld retried by the client", b.retried);
    say("  bench %-14s %8.0f req/s  p50 %7.2f ms  p99 %8.2f ms  %lld requests, %lld errors%s", tag, b.rps, b.p50_ms,
        b.p99_ms, b.requests, b.errors, retried);
    return b;
}

static struct bench_res bench(struct demo *d, const char *tag, int port, const char *path, int conns, const char *post)
{
    return bench_result(d, tag, bench_start(d, tag, port, path, conns, d->secs, post, 0));
}

/* ---- the phases ------------------------------------------------------------ */

static struct bench_res ramp(struct demo *d, const char *tag, struct up_run *r)
{
    /* three steps of rising load; the last one (heaviest) is the one compared */
    static const int steps[3] = {4, 12, 32};
    struct bench_res last = {0};
    for (int i = 0; i < 3; i++) {
        char t[64];
        snprintf(t, sizeof t, "%s-c%d", tag, steps[i]);
        last = bench(d, t, r->lb_port, "/products/11", steps[i], NULL);
    }
    return last;
}

static void phase_capacity(struct demo *d, int idx, int n, struct up_run *r, double *dbq_per_1k)
{
    char tag[32];
    snprintf(tag, sizeof tag, "capacity-%d", n);
    /* warm the cache first: the figure is the apps' capacity, not the first miss */
    bench_result(d, "warm", bench_start(d, "warm", r->lb_port, "/products/7", 2, 1, NULL, 0));
    double q0 = status_num(r->status_port, "\"app_totals\"", "db_queries");
    struct bench_res b = bench(d, tag, r->lb_port, "/products/7", 48, NULL);
    double q1 = status_num(r->status_port, "\"app_totals\"", "db_queries");
    cap_rps[idx] = b.ok ? b.rps : 0;
    if (dbq_per_1k && b.requests > 0 && q0 >= 0 && q1 >= 0)
        *dbq_per_1k = (q1 - q0) * 1000.0 / (double)b.requests;
}

/* ---- consistent hashing: keys moved when a 5th kv shard joins ---------------- */

#define CHASH_SHARDS 5
#define CHASH_KEYS 20000

static void stop_pid(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    if (wait_pid(*pid, 10000) == -2) {
        kill(*pid, SIGKILL);
        wait_pid(*pid, 5000);
    }
    *pid = 0;
}

/* Router over shards 0..3 with dist; CHASH_KEYS keys written through it; shard 4
 * added online (POST /shards); the resharding's keys_moved once it is done.
 * Returns the fraction of the keys that moved, -1 on failure; *total: keys
 * on the shards before, *after: keys on the 5 shards after. */
static double chash_measure(struct demo *d, const char *dist, const int *kv_port, long long *total, long long *after)
{
    *total = *after = -1;
    for (int i = 0; i < CHASH_SHARDS; i++)
        resp_int(kv_port[i], "FLUSHALL"); /* +OK, not an integer: nothing to check */
    int port = up_free_port(), aport = up_free_port();
    char listen[64], ap[16], sh[4][64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(ap, sizeof ap, "%d", aport);
    for (int i = 0; i < 4; i++)
        snprintf(sh[i], sizeof sh[i], "127.0.0.1:%d", kv_port[i]);
    char log[64], pidf[4200];
    snprintf(log, sizeof log, "router-%s.log", dist);
    snprintf(pidf, sizeof pidf, "%s/router-%s.pid", d->dir, dist);
    /* the pidfile in the demo dir also names the dir in the process list */
    char *argv[] = {(char *)d->exe, "router", "--listen", listen, "--admin-port", ap, "--admin-token", "demo-token",
                    "--distribution", (char *)dist, "--shard", sh[0], "--shard", sh[1], "--shard", sh[2],
                    "--shard", sh[3], "--pidfile", pidf, NULL};
    pid_t pid = spawn(d, argv, log);
    double frac = -1;
    if (!resp_wait_ready(port, 20000)) {
        say("  router (%s) not ready; see %s/%s", dist, d->dir, log);
        goto out;
    }
    long long acked = resp_load_keys(port, CHASH_KEYS);
    long long sum = 0;
    for (int i = 0; i < 4; i++)
        sum += resp_int(kv_port[i], "DBSIZE");
    *total = sum;
    char path[160];
    snprintf(path, sizeof path, "/shards?pool=default&addr=127.0.0.1:%d", kv_port[4]);
    struct buf b;
    buf_init(&b);
    int st = up_http_call(aport, "POST", path, "demo-token", &b);
    buf_deinit(&b);
    if (st != 201 && st != 200) {
        say("  router (%s): POST /shards answered %d", dist, st);
        goto out;
    }
    /* the resharding runs in the background: wait until it is done */
    long long end = util_time_ms() + 60000;
    double moved = -1;
    while (util_time_ms() < end) {
        struct buf sb;
        buf_init(&sb);
        if (up_http_call(aport, "GET", "/status", NULL, &sb) == 200) {
            buf_putc(&sb, 0);
            const char *rs = strstr(buf_head(&sb), "\"reshard\"");
            if (rs && strstr(rs, "\"state\":\"done\""))
                jnum(rs, NULL, "keys_moved", &moved);
        }
        buf_deinit(&sb);
        if (moved >= 0)
            break;
        usleep(100 * 1000);
    }
    long long sum2 = 0;
    for (int i = 0; i < CHASH_SHARDS; i++)
        sum2 += resp_int(kv_port[i], "DBSIZE");
    *after = sum2;
    say("  %s: %lld keys written (%lld acknowledged) over 4 shards; a 5th joined: %.0f moved (%.1f%%); %lld keys on "
        "the 5 shards after, %lld on the new one",
        dist, (long long)CHASH_KEYS, acked, moved, sum > 0 ? 100.0 * moved / (double)sum : 0, sum2,
        resp_int(kv_port[4], "DBSIZE"));
    if (moved >= 0 && sum > 0)
        frac = moved / (double)sum;
out:
    stop_pid(&pid);
    return frac;
}

static void phase_chash(struct demo *d)
{
    cur_phase = "G-chash";
    int kv_port[CHASH_SHARDS];
    pid_t kv_pid[CHASH_SHARDS] = {0};
    bool ok = true;
    for (int i = 0; i < CHASH_SHARDS; i++) {
        kv_port[i] = up_free_port();
        char p[16], log[32];
        snprintf(p, sizeof p, "%d", kv_port[i]);
        snprintf(log, sizeof log, "chash-kv-%d.log", i + 1);
        char *argv[] = {(char *)d->exe, "kv", "--port", p, "--save", "", "--dir", d->dir, NULL};
        kv_pid[i] = spawn(d, argv, log);
    }
    for (int i = 0; i < CHASH_SHARDS; i++)
        if (!resp_wait_ready(kv_port[i], 20000)) {
            say("  kv shard %d not ready; see %s/chash-kv-%d.log", i + 1, d->dir, i + 1);
            ok = false;
        }
    double fk = -1, fm = -1;
    long long tk = -1, ak = -1, tm = -1, am = -1;
    if (ok) {
        fk = chash_measure(d, "ketama", kv_port, &tk, &ak);
        fm = chash_measure(d, "modula", kv_port, &tm, &am);
    }
    for (int i = 0; i < CHASH_SHARDS; i++)
        stop_pid(&kv_pid[i]);
    chash_frac[0] = fk;
    chash_frac[1] = fm;
    struct claim *c = &claims[C_CHASH];
    c->done = fk >= 0 && fm >= 0;
    snprintf(c->goal, sizeof c->goal,
             "when a 5th kv shard joins a router of 4 (online resharding, %d keys), the keys moved with consistent "
             "hashing (ketama) within 1/5 &plusmn; 5 points; modula, the contrast, moves about 4/5", CHASH_KEYS);
    snprintf(c->measured, sizeof c->measured,
             "ketama: %.1f%% of %lld keys moved (%lld on the 5 shards after); modula: %.1f%% of %lld (%lld after)",
             100 * fk, tk, ak, 100 * fm, tm, am);
    c->pass = c->done && fk >= 0.15 && fk <= 0.25 && fm >= 0.5 && tk == CHASH_KEYS && ak == CHASH_KEYS &&
              am == CHASH_KEYS;
}

/* ---- one of two lbs on one port dies ------------------------------------------ */

/* an lb of the demo's own in front of the up's two apps, sharing port with SO_REUSEPORT */
static pid_t lb_spawn(struct demo *d, int port, int aport, const int *app_port, const char *log)
{
    char listen[64], ap[16], b1[64], b2[64], pidf[4200];
    snprintf(pidf, sizeof pidf, "%s/%.*s.pid", d->dir, (int)(strlen(log) - 4), log);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(ap, sizeof ap, "%d", aport);
    snprintf(b1, sizeof b1, "127.0.0.1:%d", app_port[0]);
    snprintf(b2, sizeof b2, "127.0.0.1:%d", app_port[1]);
    char *argv[] = {(char *)d->exe, "lb", "--listen", listen, "--reuseport", "yes", "--admin-port", ap, "--backend", b1,
                    "--backend", b2, "--retries", "2", "--health", "/health", "--health-interval", "1s",
                    "--shutdown-timeout", "5s", "--pidfile", pidf, NULL};
    return spawn(d, argv, log);
}

static bool http_wait_ready(int port, long long timeout_ms)
{
    long long end = util_time_ms() + timeout_ms;
    while (util_time_ms() < end) {
        if (up_http_call(port, "GET", "/status", NULL, NULL) == 200)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

/* B: two lbs (reuseport yes) on one port in front of the phase's apps; under
 * load (16 connections) lb-a gets SIGKILL; then, with lb-a back, lb-b gets
 * SIGTERM (its graceful stop) for the contrast. */
static void phase_lb(struct demo *d, struct up_run *r)
{
    int app_port[2];
    app_port[0] = (int)status_num(r->status_port, "{\"name\":\"app-1\",\"kind\"", "port");
    app_port[1] = (int)status_num(r->status_port, "{\"name\":\"app-2\",\"kind\"", "port");
    if (app_port[0] <= 0 || app_port[1] <= 0) {
        say("  lb: no app ports in up's status");
        return;
    }
    int port = up_free_port(), aa = up_free_port(), ab = up_free_port();
    pid_t a = lb_spawn(d, port, aa, app_port, "lb-a.log");
    if (!http_wait_ready(aa, 20000)) {
        say("  lb-a not ready; see %s/lb-a.log", d->dir);
        stop_pid(&a);
        return;
    }
    pid_t b = lb_spawn(d, port, ab, app_port, "lb-b.log");
    if (!http_wait_ready(ab, 20000)) {
        say("  lb-b not ready; see %s/lb-b.log", d->dir);
        stop_pid(&a);
        stop_pid(&b);
        return;
    }
    long long secs = d->secs < 3 ? 3 : d->secs;
    /* GETs (idempotent): the client resends once what a dead connection held */
    /* two attempts: the first resend's new connection may still be accepted by
     * the dying lb's listening socket (SO_REUSEPORT) and die with it */
    pid_t g = bench_start_retry(d, "lb-kill9", port, "/products/7", 16, secs, NULL, 0, 2);
    usleep((useconds_t)(secs * 1000 * 1000 / 3));
    kill(a, SIGKILL);
    wait_pid(a, 5000);
    say("  killed lb-a (pid %d) with SIGKILL; lb-b (pid %d) still listens on port %d", (int)a, (int)b, port);
    a = 0;
    struct bench_res k9 = bench_result(d, "lb-kill9", g);
    /* the contrast: lb-a back, lb-b stopped gracefully */
    a = lb_spawn(d, port, aa, app_port, "lb-a.log");
    struct bench_res tm = {0};
    if (http_wait_ready(aa, 20000)) {
        g = bench_start_retry(d, "lb-sigterm", port, "/products/7", 16, secs, NULL, 0, 2);
        usleep((useconds_t)(secs * 1000 * 1000 / 3));
        kill(b, SIGTERM);
        say("  stopped lb-b (pid %d) with SIGTERM", (int)b);
        tm = bench_result(d, "lb-sigterm", g);
        wait_pid(b, 10000);
        b = 0;
    }
    stop_pid(&a);
    stop_pid(&b);
    struct claim *c = &claims[C_LB];
    c->done = k9.ok && k9.requests > 0;
    snprintf(c->goal, sizeof c->goal,
             "two lb processes on one port (reuseport yes) in front of 2 apps; GET /products/7, 16 keep-alive "
             "connections, the client resending an idempotent request once when its connection dies before any "
             "answer byte (as browsers do): 0 failed requests when one lb is killed with SIGKILL");
    char contrast[128] = "not measured (lb-a did not come back)";
    if (tm.ok)
        snprintf(contrast, sizeof contrast, "%lld of %lld failed, %lld retried by the client", tm.errors,
                 tm.requests + tm.closed, tm.retried);
    snprintf(c->measured, sizeof c->measured,
             "SIGKILL: %lld of %lld requests failed (%lld closed with the dead lb's connections before an answer, "
             "%lld 5xx), %lld retried by the client (idempotent GETs the killed lb held); the contrast, SIGTERM "
             "(graceful): %s",
             k9.errors, k9.requests + k9.closed, k9.closed, k9.http5xx, k9.retried, contrast);
    c->pass = c->done && k9.errors == 0;
}

/* ---- the kv primary dies (replica + 3 sentinels) ------------------------------- */

static bool phase_kv(struct demo *d, struct up_run *r)
{
    if (!up_start(d, r, "H-kvfailover", "state-kv",
                  "app-min 2\napp-max 2\npg-replicas 0\nkv-replicas 1\nsentinels 3\nsentinel-down-after 500ms\n"))
        return false;
    long long secs = d->secs < 4 ? 4 : d->secs;
    /* GET /products reads the cache in kv at every request; POST /login writes a session */
    pid_t g = bench_start(d, "kv-get", r->lb_port, "/products/9", 16, secs, NULL, 0);
    pid_t l = bench_start(d, "kv-login", r->lb_port, "/login", 2, secs, "login.json", 20);
    usleep((useconds_t)(secs * 1000 * 1000 / 4));
    int kv = proc_pid(r->status_port, "kv");
    if (kv > 0)
        kill(kv, SIGKILL);
    say("  killed the kv primary (pid %d)", kv);
    struct bench_res bg = bench_result(d, "kv-get", g);
    struct bench_res bl = bench_result(d, "kv-login", l);
    struct claim *c = &claims[C_KV];
    c->done = bg.ok && bl.ok && kv > 0;
    snprintf(c->goal, sizeof c->goal,
             "kv primary + 1 replica + 3 sentinels (down-after 500 ms), 2 apps: 0 failed requests while the primary "
             "is killed with SIGKILL (GET /products, 16 connections, and POST /login, 20/s)");
    snprintf(c->measured, sizeof c->measured,
             "%lld of %lld GETs failed (%lld 5xx), %lld of %lld logins failed (%lld 5xx)", bg.errors,
             bg.requests + bg.closed, bg.http5xx, bl.errors, bl.requests + bl.closed, bl.http5xx);
    c->pass = c->done && bg.errors == 0 && bl.errors == 0;
    return true;
}

/* ---- report plots ------------------------------------------------------------- */

/* bars: % of the keys moved when the 5th shard joined, ketama and modula; 1/5 and 4/5 dashed */
static void chash_plot(struct buf *h)
{
    if (chash_frac[0] < 0 || chash_frac[1] < 0 || (chash_frac[0] == 0 && chash_frac[1] == 0))
        return;
    buf_puts(h, "<h2>keys moved when a 5th shard joins</h2><svg width=420 height=240 viewBox='0 0 420 240' "
                "xmlns='http://www.w3.org/2000/svg'>");
    static const char *const names[2] = {"ketama (consistent)", "modula"};
    for (int i = 0; i < 2; i++) {
        double hb = 180.0 * chash_frac[i], x = 60 + i * 170;
        buf_printf(h, "<rect x=%.0f y=%.1f width=90 height=%.1f fill='%s'/>", x, 200 - hb, hb,
                   i ? "#d08a4a" : "#4a7fd0");
        buf_printf(h, "<text x=%.0f y=%.1f font-size=12>%.1f%%</text>", x + 20, 195 - hb, 100 * chash_frac[i]);
        buf_printf(h, "<text x=%.0f y=218 font-size=12>%s</text>", x, names[i]);
    }
    buf_puts(h, "<line x1=40 x2=400 y1=164 y2=164 stroke='#4a7fd0' stroke-dasharray='4 3'/>"
                "<text x=300 y=160 font-size=11>1/5</text>"
                "<line x1=40 x2=400 y1=56 y2=56 stroke='#d08a4a' stroke-dasharray='4 3'/>"
                "<text x=300 y=52 font-size=11>4/5</text>"
                "<text x=10 y=234 font-size=11>% of the keys whose shard changed (20,000 keys, 4 &rarr; 5 shards)</text>"
                "</svg>\n");
}

/* per second of one bench: answered (blue) and failed (red) requests */
static void timeline_plot(struct buf *h, int i)
{
    double max = 1;
    int n = runs[i].ntl;
    for (int k = 0; k < n; k++)
        if (runs[i].tl_ok[k] + runs[i].tl_err[k] > max)
            max = runs[i].tl_ok[k] + runs[i].tl_err[k];
    double w = 300.0 / n;
    buf_printf(h, "<svg width=380 height=200 viewBox='0 0 380 200' xmlns='http://www.w3.org/2000/svg'>"
                  "<text x=10 y=16 font-size=12>%s / %s: %lld failed</text>",
               runs[i].phase, runs[i].tag, runs[i].b.errors);
    for (int k = 0; k < n; k++) {
        double ho = 140.0 * runs[i].tl_ok[k] / max, he = 140.0 * runs[i].tl_err[k] / max, x = 40 + k * w;
        buf_printf(h, "<rect x=%.1f y=%.1f width=%.1f height=%.1f fill='#4a7fd0'/>", x, 170 - ho, w * 0.8, ho);
        if (he > 0)
            buf_printf(h, "<rect x=%.1f y=%.1f width=%.1f height=%.1f fill='#d04a4a'/>", x, 170 - ho - he, w * 0.8,
                       he < 1 ? 1 : he);
        buf_printf(h, "<text x=%.1f y=184 font-size=10>%.0f</text>", x, runs[i].tl_t[k]);
    }
    buf_printf(h, "<text x=10 y=197 font-size=10>s; blue: answered, red: failed (max %.0f per second)</text></svg>",
               max);
}

int up_demo(int argc, char **argv, const char *self_exe)
{
    struct demo d = {.exe = self_exe, .secs = 5};
    const char *dir = "./scaleout-data/demo", *report = "scaleout-demo-report.html", *phases = "ABCDEFGH";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--demo") == 0)
            continue;
        if (i + 1 < argc && strcmp(argv[i], "--demo-seconds") == 0) {
            d.secs = atoll(argv[++i]);
            if (d.secs < 1 || d.secs > 600) {
                fprintf(stderr, "scaleout up --demo: --demo-seconds wants 1..600\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(argv[i], "--demo-report") == 0) {
            report = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--dir") == 0) {
            dir = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--demo-phases") == 0) {
            phases = argv[++i];
            if (!*phases || strspn(phases, "ABCDEFGH") != strlen(phases)) {
                fprintf(stderr, "scaleout up --demo: --demo-phases wants letters of ABCDEFGH, not '%s'\n", phases);
                return 2;
            }
        } else {
            fprintf(stderr, "scaleout up --demo: unknown argument '%s' (--demo-seconds N, --demo-report FILE, --dir DIR, "
                    "--demo-phases ABCDEFGH)\n",
                    argv[i]);
            return 2;
        }
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    for (char *s = parent + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(parent, 0755);
            *s = '/';
        }
    mkdir(dir, 0755);
    chmod(dir, 0755); /* PostgreSQL runs as another user when we are root */
    if (!realpath(dir, d.dir)) {
        fprintf(stderr, "scaleout up --demo: cannot use %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(d.report, sizeof d.report, "%s", report);
    char body[8400];
    snprintf(body, sizeof body, "%s/upload.bin", d.dir);
    char werr[256];
    if (util_write_file(body, "a photo, or something that stands for one\n", 42, werr, sizeof werr) != 0) {
        fprintf(stderr, "scaleout up --demo: %s\n", werr);
        return 1;
    }
    snprintf(body, sizeof body, "%s/login.json", d.dir);
    if (util_write_file(body, "{\"user\":\"demo\"}", 15, werr, sizeof werr) != 0) {
        fprintf(stderr, "scaleout up --demo: %s\n", werr);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    long long t0 = util_time_ms();
    say("measuring the claims, %lld s per bench, state and logs in %s", d.secs, d.dir);
    struct up_run r = {0};
    bool failed = false;

    /* A: one app */
    say("phase A: 1 app instance, no autoscaling");
    if (!strchr(phases, 'A'))
        say("  (skipped)");
    else if (up_start(&d, &r, "A-1app", "state", "app-min 1\napp-max 1\npg-replicas 0\n")) {
        phase_capacity(&d, 0, 1, &r, NULL);
        struct bench_res fixed = ramp(&d, "ramp-fixed", &r);
        p99_pairs[1][1] = fixed.p99_ms;
        ramp_fixed_rps = fixed.rps;
        ramp_fixed_p50 = fixed.p50_ms;
        up_stop(&r);
    } else {
        failed = true;
        up_stop(&r);
    }

    /* B: two apps */
    say("phase B: 2 app instances; then kill -9 of one of two lbs on one port under load");
    if (!strchr(phases, 'B'))
        say("  (skipped)");
    else if (up_start(&d, &r, "B-2apps", "state", "app-min 2\napp-max 2\npg-replicas 0\n")) {
        phase_capacity(&d, 1, 2, &r, NULL);
        phase_lb(&d, &r);
    } else
        failed = true;
    up_stop(&r);

    /* C: four apps, the cache, faults */
    double dbq_cache = -1, dbq_nocache = -1;
    say("phase C: 4 app instances; then kill -9 of app-1 and worker-1 under load");
    if (!strchr(phases, 'C'))
        say("  (skipped)");
    else if (up_start(&d, &r, "C-4apps", "state", "app-min 4\napp-max 4\npg-replicas 0\n")) {
        phase_capacity(&d, 2, 4, &r, &dbq_cache);
        double backlog0 = status_num(r.status_port, NULL, "job_backlog");
        (void)backlog0;
        pid_t g = bench_start(&d, "faults-get", r.lb_port, "/products/9", 16, d.secs, NULL, 0);
        pid_t u = bench_start(&d, "faults-upload", r.lb_port, "/upload", 2, d.secs, "upload.bin", 10);
        usleep((useconds_t)(d.secs * 1000 * 1000 / 3));
        int app = proc_pid(r.status_port, "app-1"), wk = proc_pid(r.status_port, "worker-1");
        if (app > 0)
            kill(app, SIGKILL);
        say("  killed app-1 (pid %d)", app);
        usleep((useconds_t)(d.secs * 1000 * 1000 / 3));
        if (wk > 0)
            kill(wk, SIGKILL);
        say("  killed worker-1 (pid %d)", wk);
        struct bench_res bg = bench_result(&d, "faults-get", g);
        struct bench_res bu = bench_result(&d, "faults-upload", u);
        /* every queued job done after the worker's restart */
        long long end = util_time_ms() + 60000;
        double backlog = -1;
        while (util_time_ms() < end) {
            backlog = status_num(r.status_port, NULL, "job_backlog");
            if (backlog == 0)
                break;
            usleep(200 * 1000);
        }
        double restarts = status_num(r.status_port, "{\"name\":\"app-1\",\"kind\"", "restarts");
        claims[C_FAULTS].done = bg.ok && bu.ok;
        snprintf(claims[C_FAULTS].goal, sizeof claims[C_FAULTS].goal,
                 "0 failed requests while app-1 and then worker-1 are killed with SIGKILL (GET /products, 16 "
                 "connections, and POST /upload, 2); every queued job done afterwards");
        snprintf(claims[C_FAULTS].measured, sizeof claims[C_FAULTS].measured,
                 "%lld of %lld GETs and %lld of %lld uploads failed; job backlog %.0f after the worker's restart; "
                 "app-1 restarted %.0f time(s)",
                 bg.errors, bg.requests, bu.errors, bu.requests, backlog, restarts);
        claims[C_FAULTS].pass = claims[C_FAULTS].done && bg.errors == 0 && bu.errors == 0 && backlog == 0 &&
                                bg.requests > 0;
    } else {
        failed = true;
    }
    up_stop(&r);
    claims[C_CAPACITY].done = cap_rps[0] > 0 && cap_rps[1] > 0 && cap_rps[2] > 0;
    snprintf(claims[C_CAPACITY].goal, sizeof claims[C_CAPACITY].goal,
             "throughput with N instances &ge; 0.9 &times; N &times; one instance's, for N = 2 and 4 (each instance: 4 "
             "slots &times; 10 ms = 400 req/s; GET /products/7 cached, 48 connections)");
    snprintf(claims[C_CAPACITY].measured, sizeof claims[C_CAPACITY].measured,
             "1: %.0f req/s; 2: %.0f req/s (%.2f&times;); 4: %.0f req/s (%.2f&times;)", cap_rps[0], cap_rps[1],
             cap_rps[0] > 0 ? cap_rps[1] / cap_rps[0] : 0, cap_rps[2], cap_rps[0] > 0 ? cap_rps[2] / cap_rps[0] : 0);
    claims[C_CAPACITY].pass = cap_rps[0] > 0 && cap_rps[1] >= 0.9 * 2 * cap_rps[0] && cap_rps[2] >= 0.9 * 4 * cap_rps[0];

    /* D and E: reads without the cache, 0 and 1 replica; app capacity not limiting */
    struct bench_res rd[2] = {{0}};
    double replica_share = -1;
    for (int rep = 0; rep <= 1; rep++) {
        say("phase %s: 4 app instances, no cache, %d replica%s", rep ? "E" : "D", rep, rep ? "" : "s");
        if (!strchr(phases, rep ? 'E' : 'D')) {
            say("  (skipped)");
            continue;
        }
        /* each product read waits DEMO_READ_MS in its PostgreSQL server, as a
         * disk read would: a server's read capacity is then its pooled
         * connections / that time, which a second server adds to even on two
         * cores (CPU is not what the claim is about: two servers on one
         * machine share it). With the replica, the primary keeps reading too
         * (primary-read-weight 1), as Pgpool-II balances. */
        char extra[384];
        snprintf(extra, sizeof extra,
                 "app-min 4\napp-max 4\npg-replicas %d\napp-concurrency 64\napp-service-time 0\n"
                 "app-args \"--product-cache none --pg-pool 8 --sync-job-time 100ms --product-read-time %dms\"\n%s",
                 rep, DEMO_READ_MS, rep ? "pg-proxy-args \"--primary-read-weight 1\"\n" : "");
        if (!up_start(&d, &r, rep ? "E-replica" : "D-nocache", rep ? "state-replica" : "state", extra)) {
            failed = true;
            up_stop(&r);
            continue;
        }
        if (!rep) {
            /* uploads: open loop at 50/s (250 samples in 5 s), below what the
             * synchronous path serves (4 apps x 64 slots): neither is overloaded */
            struct bench_res q = bench_result(&d, "upload-queue",
                                              bench_start(&d, "upload-queue", r.lb_port, "/upload", 16, d.secs, "upload.bin", 50));
            struct bench_res s = bench_result(
                &d, "upload-sync", bench_start(&d, "upload-sync", r.lb_port, "/upload-sync", 16, d.secs, "upload.bin", 50));
            p99_pairs[0][0] = q.p99_ms;
            p99_pairs[0][1] = s.p99_ms;
            claims[C_QUEUE].done = q.ok && s.ok;
            snprintf(claims[C_QUEUE].goal, sizeof claims[C_QUEUE].goal,
                     "upload p99 with the queue (POST /upload: 202, a worker does 100 ms of work) at least 10&times; "
                     "lower than with the same work done in the request (POST /upload-sync); open loop, 50 uploads/s");
            snprintf(claims[C_QUEUE].measured, sizeof claims[C_QUEUE].measured,
                     "p99 %.2f ms with the queue vs %.2f ms without: %.1f&times; lower (%lld and %lld errors; "
                     "p50 %.2f vs %.2f ms)",
                     q.p99_ms, s.p99_ms, q.p99_ms > 0 ? s.p99_ms / q.p99_ms : 0, q.errors, s.errors, q.p50_ms,
                     s.p50_ms);
            claims[C_QUEUE].pass =
                claims[C_QUEUE].done && q.errors == 0 && q.p99_ms > 0 && s.p99_ms >= 10 * q.p99_ms;
        }
        double q0 = status_num(r.status_port, "\"app_totals\"", "db_queries");
        double rq0 = rep ? status_num(r.status_port, "\"role\":\"replica\"", "queries") : 0;
        double pq0 = rep ? status_num(r.status_port, "\"role\":\"primary\"", "queries") : 0;
        rd[rep] = bench(&d, rep ? "reads-1replica" : "reads-0replicas", r.lb_port, "/products/7", 32, NULL);
        double q1 = status_num(r.status_port, "\"app_totals\"", "db_queries");
        if (!rep && rd[0].requests > 0 && q0 >= 0 && q1 >= 0)
            dbq_nocache = (q1 - q0) * 1000.0 / (double)rd[0].requests;
        if (rep) {
            double rq1 = status_num(r.status_port, "\"role\":\"replica\"", "queries");
            double pq1 = status_num(r.status_port, "\"role\":\"primary\"", "queries");
            if (rq1 >= rq0 && pq1 >= pq0 && rq1 - rq0 + pq1 - pq0 > 0)
                replica_share = (rq1 - rq0) / (rq1 - rq0 + pq1 - pq0);
        }
        up_stop(&r);
    }
    claims[C_CACHE].done = dbq_cache >= 0 && dbq_nocache >= 0;
    snprintf(claims[C_CACHE].goal, sizeof claims[C_CACHE].goal,
             "at least 10&times; fewer database queries per request with the cache (cache-aside in kv) than without "
             "(product-cache none); GET /products/7");
    snprintf(claims[C_CACHE].measured, sizeof claims[C_CACHE].measured,
             "%.2f queries per 1,000 requests with the cache vs %.1f without", dbq_cache, dbq_nocache);
    claims[C_CACHE].pass = claims[C_CACHE].done && dbq_nocache >= 10 * (dbq_cache > 0.001 ? dbq_cache : 0.001);
    claims[C_REPLICA].done = rd[0].ok && rd[1].ok;
    snprintf(claims[C_REPLICA].goal, sizeof claims[C_REPLICA].goal,
             "with 1 streaming replica behind the pg proxy: at least 30%% of the reads served by the replica and "
             "read throughput &ge; 1.3&times; the primary alone (no cache, apps not limiting, 32 connections; each "
             "read waits %d ms in its server, as a disk read, so a server reads at most 20 pooled connections / %d ms "
             "and the replica shares the reads with the primary)", DEMO_READ_MS, DEMO_READ_MS);
    snprintf(claims[C_REPLICA].measured, sizeof claims[C_REPLICA].measured,
             "%.0f req/s with 0 replicas, %.0f req/s with 1 (%.2f&times;); replica served %.0f%% of the queries",
             rd[0].rps, rd[1].rps, rd[0].rps > 0 ? rd[1].rps / rd[0].rps : 0,
             replica_share >= 0 ? 100 * replica_share : 0);
    claims[C_REPLICA].pass = claims[C_REPLICA].done && replica_share >= 0.3 && rd[1].rps >= 1.3 * rd[0].rps;

    /* F: the ramp with autoscaling */
    say("phase F: 1..4 app instances, autoscaled on requests in flight");
    if (!strchr(phases, 'F'))
        say("  (skipped)");
    else if (up_start(&d, &r, "F-autoscale", "state",
                 "app-min 1\napp-max 4\npg-replicas 0\nautoscale yes\nscale-metric inflight\nscale-up-at 4\n"
                 "scale-down-at 1\nscale-up-after 500ms\nscale-down-after 5s\ncooldown 500ms\nscale-interval 200ms\n")) {
        struct bench_res a = ramp(&d, "ramp-autoscaled", &r);
        p99_pairs[1][0] = a.p99_ms;
        double apps = status_num(r.status_port, NULL, "apps");
        double ups = status_num(r.status_port, "\"autoscale\"", "scale_ups");
        claims[C_AUTOSCALE].done = a.ok && p99_pairs[1][1] > 0;
        snprintf(claims[C_AUTOSCALE].goal, sizeof claims[C_AUTOSCALE].goal,
                 "p99 of the heaviest ramp step (4, 12, then 32 connections) with autoscaling (1..4 instances) at most "
                 "half of that with 1 fixed instance");
        snprintf(claims[C_AUTOSCALE].measured, sizeof claims[C_AUTOSCALE].measured,
                 "p99 %.1f ms autoscaled (%.0f scale-ups, %.0f instances at the end; %.0f req/s) vs %.1f ms with 1 "
                 "fixed instance (%.0f req/s): %.2f&times;; p50 %.1f vs %.1f ms",
                 a.p99_ms, ups, apps, a.rps, p99_pairs[1][1], ramp_fixed_rps,
                 p99_pairs[1][1] > 0 ? a.p99_ms / p99_pairs[1][1] : 0, a.p50_ms, ramp_fixed_p50);
        claims[C_AUTOSCALE].pass = claims[C_AUTOSCALE].done && a.errors == 0 && a.p99_ms <= 0.5 * p99_pairs[1][1];
    } else {
        failed = true;
    }
    up_stop(&r);

    /* G: consistent hashing (a router of its own over 5 kv shards) */
    say("phase G: a router over 4 kv shards, a 5th joins online (ketama, then modula)");
    if (!strchr(phases, 'G'))
        say("  (skipped)");
    else
        phase_chash(&d);

    /* H: the kv primary dies (replica + 3 sentinels) */
    say("phase H: 2 app instances, kv primary + replica + 3 sentinels; kill -9 of the kv primary under load");
    if (!strchr(phases, 'H'))
        say("  (skipped)");
    else if (!phase_kv(&d, &r))
        failed = true;
    up_stop(&r);

    /* ---- the report ---------------------------------------------------------- */
    struct buf h;
    buf_init(&h);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    buf_printf(&h,
               "<!doctype html><html><head><meta charset=utf-8><title>scaleout up --demo</title><style>"
               "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em;color:#222}"
               "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.35em .6em;text-align:left;"
               "vertical-align:top}.PASS{background:#d8f5d8;font-weight:bold}.FAIL{background:#f8c8c8;font-weight:bold}"
               ".NA{background:#eee}svg{background:#fafafa;border:1px solid #ccc;margin:.5em 1em .5em 0}</style></head>"
               "<body><h1>scaleout up --demo</h1><p>%s, %lld s per bench, %lld s in all, on one machine "
               "(%ld cores online). Each phase is a fresh <code>scaleout up</code>; load from "
               "<code>scaleout bench</code>. Command: <code>scaleout up --demo --demo-seconds %lld</code>.</p>\n<table><tr><th>claim</th><th>goal</th><th>measured</th>"
               "<th>verdict</th></tr>\n",
               when, d.secs, (util_time_ms() - t0) / 1000, sysconf(_SC_NPROCESSORS_ONLN), d.secs);
    int npass = 0;
    for (int i = 0; i < C__COUNT; i++) {
        const char *v = !claims[i].done ? "NA" : claims[i].pass ? "PASS" : "FAIL";
        npass += claims[i].pass;
        buf_printf(&h, "<tr><td>%s</td><td>%s</td><td>%s</td><td class=%s>%s</td></tr>\n", claims[i].title,
                   claims[i].goal[0] ? claims[i].goal : "(phase did not run)",
                   claims[i].measured[0] ? claims[i].measured : "&mdash;", v,
                   !claims[i].done ? "NOT MEASURED" : v);
    }
    buf_puts(&h, "</table>\n<h2>capacity</h2>");
    /* bars: measured req/s at 1, 2, 4 instances; the ideal N x one instance as outlines */
    double max = 1;
    for (int i = 0; i < 3; i++) {
        double ideal = cap_rps[0] * (i == 0 ? 1 : i == 1 ? 2 : 4);
        if (cap_rps[i] > max)
            max = cap_rps[i];
        if (ideal > max)
            max = ideal;
    }
    buf_puts(&h, "<svg width=420 height=240 viewBox='0 0 420 240' xmlns='http://www.w3.org/2000/svg'>");
    for (int i = 0; i < 3; i++) {
        int n = i == 0 ? 1 : i == 1 ? 2 : 4;
        double hb = 180.0 * cap_rps[i] / max, hi = 180.0 * cap_rps[0] * n / max;
        double x = 50 + i * 120;
        buf_printf(&h, "<rect x=%.0f y=%.1f width=70 height=%.1f fill='#4a7fd0'/>", x, 200 - hb, hb);
        buf_printf(&h, "<rect x=%.0f y=%.1f width=70 height=%.1f fill=none stroke='#d04a4a' stroke-dasharray='4 3'/>",
                   x, 200 - hi, hi);
        buf_printf(&h, "<text x=%.0f y=%.1f font-size=12>%.0f</text>", x + 10, 195 - hb, cap_rps[i]);
        buf_printf(&h, "<text x=%.0f y=218 font-size=12>%d instance%s</text>", x, n, n > 1 ? "s" : "");
    }
    buf_puts(&h, "<text x=10 y=234 font-size=11>req/s (blue: measured; dashed red: N &times; one instance)</text>"
                 "</svg>\n<h2>p99 latency</h2>");
    static const char *const pair_names[2][2] = {{"upload, queue", "upload, sync"}, {"ramp, autoscaled", "ramp, fixed"}};
    double pmax = 1;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (p99_pairs[i][j] > pmax)
                pmax = p99_pairs[i][j];
    buf_puts(&h, "<svg width=520 height=200 viewBox='0 0 520 200' xmlns='http://www.w3.org/2000/svg'>");
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double w = 300.0 * p99_pairs[i][j] / pmax, y = 15 + (i * 2 + j) * 42;
            buf_printf(&h, "<text x=5 y=%.0f font-size=12>%s</text>", y + 17, pair_names[i][j]);
            buf_printf(&h, "<rect x=130 y=%.0f width=%.1f height=26 fill='%s'/>", y, w, j ? "#d08a4a" : "#4a7fd0");
            buf_printf(&h, "<text x=%.1f y=%.0f font-size=12>%.1f ms</text>", 135 + w, y + 17, p99_pairs[i][j]);
        }
    buf_puts(&h, "</svg>\n");
    chash_plot(&h);
    static const char *const tl_tags[] = {"faults-get", "lb-kill9", "kv-get", "kv-login"};
    bool tl_head = false;
    for (size_t k = 0; k < sizeof tl_tags / sizeof tl_tags[0]; k++)
        for (int i = 0; i < nruns; i++)
            if (strcmp(runs[i].tag, tl_tags[k]) == 0 && runs[i].ntl > 0) {
                if (!tl_head)
                    buf_puts(&h, "<h2>answers per second while a process is killed</h2>");
                tl_head = true;
                timeline_plot(&h, i);
            }
    buf_puts(&h, "\n<h2>every bench</h2><table><tr><th>phase</th><th>bench</th><th>req/s</th><th>p50 ms</th>"
                 "<th>p99 ms</th><th>requests</th><th>errors</th></tr>\n");
    for (int i = 0; i < nruns; i++)
        buf_printf(&h, "<tr><td>%s</td><td>%s</td><td>%.0f</td><td>%.2f</td><td>%.2f</td><td>%lld</td><td>%lld</td></tr>\n",
                   runs[i].phase, runs[i].tag, runs[i].b.rps, runs[i].b.p50_ms, runs[i].b.p99_ms, runs[i].b.requests,
                   runs[i].b.errors);
    buf_puts(&h, "</table>\n");
    buf_printf(&h, "<p>%d of %d claims met their goal. Benches, logs and the topology files of every phase are in "
                   "the demo directory.</p></body></html>\n", npass, (int)C__COUNT);
    char err[256] = "";
    int rc = util_write_file(d.report, buf_head(&h), buf_pending(&h), err, sizeof err);
    buf_deinit(&h);
    for (int i = 0; i < C__COUNT; i++) {
        /* the terminal gets "x" where the report has &times; */
        char plain[400];
        size_t o = 0;
        for (const char *c = claims[i].measured; *c && o + 1 < sizeof plain; c++) {
            if (strncmp(c, "&times;", 7) == 0) {
                plain[o++] = 'x';
                c += 6;
            } else {
                plain[o++] = *c;
            }
        }
        plain[o] = 0;
        say("%-4s %s: %s", !claims[i].done ? "N/A" : claims[i].pass ? "PASS" : "FAIL", claims[i].title, plain);
    }
    if (rc != 0) {
        fprintf(stderr, "scaleout up --demo: %s\n", err);
        return 1;
    }
    say("report: %s (%d of %d claims PASS, %lld s)", d.report, npass, (int)C__COUNT, (util_time_ms() - t0) / 1000);
    return failed ? 1 : 0;
}
