/*
 * up.c — `scaleout up`: start-up in dependency order with readiness checks,
 * supervision, the autoscaler, the stop sequence and main.
 *
 * One 100 ms tick drives everything:
 *   start-up   stage by stage (postgres, kv, apps, workers, lb): start the
 *              stage's processes, wait until each accepts TCP connections on
 *              its port, then the next stage. A process that exits or is not
 *              ready within ready-timeout stops the start-up: up names it,
 *              stops what it started and exits 1.
 *   running    a process that dies is restarted after a back-off (doubling
 *              from restart-backoff up to 10 s; reset once it lived 10 s);
 *              after restart-limit quick deaths in a row it is given up.
 *              An app restarts on its own port: the lb's health checks take
 *              it out and back, and its retries cover requests in flight.
 *   autoscale  every scale-interval the lb's /status gives requests in flight
 *              per app backend and the pool's queue; load = (in flight +
 *              queued) / serving instances. At or above scale-up-at for
 *              scale-up-after → one more instance (started, ready, then added
 *              to the lb); at or below scale-down-at for scale-down-after →
 *              the newest instance is drained in the lb, deleted from it once
 *              idle (or after drain-timeout), then stopped. cooldown after
 *              each change; never below app-min nor above app-max.
 *   stop       SIGTERM/SIGINT: lb, workers, apps, kv, postgres — each stage
 *              signalled and waited for (SIGKILL after 10 s) before the next;
 *              exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libpq-fe.h>

#include "net/admin.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/rand.h"
#include "core/util.h"
#include "proto/http1.h"
#include "proto/json.h"
#include "up/up.h"
#include "net/sentinel_ask.h"

#define TICK_MS 100
#define STOP_KILL_MS 10000
#define LIVED_MS 10000
#define MAX_BACKOFF_MS 10000

static const char *const kind_names[UP_KIND__COUNT] = {"postgres", "pg-replica", "pg-proxy", "kv", "kv-replica",
                                                              "sentinel", "router", "app", "worker", "lb"};

static uv_timer_t tick_timer;
static uv_signal_t sig_term, sig_int;
static char self_exe[PATH_MAX];
static int stop_stage = -1;

/* ---- small helpers ----------------------------------------------------------- */

static bool tcp_ready(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Split a flag string into words appended to argv (heap copies). */
static void add_words(char ***argv, int *argc, const char *s)
{
    if (!s || !*s)
        return;
    char *copy = xstrdup(s);
    char *w[64];
    int n = conf_split(copy, w, 64);
    for (int i = 0; i < n; i++) {
        *argv = xrealloc(*argv, (size_t)(*argc + 2) * sizeof **argv);
        (*argv)[(*argc)++] = xstrdup(w[i]);
        (*argv)[*argc] = NULL;
    }
    xfree(copy);
}

static char **argv_new(int *argc, ...)
{
    va_list ap;
    va_start(ap, argc);
    char **v = xmalloc(sizeof *v);
    *argc = 0;
    v[0] = NULL;
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL) {
        v = xrealloc(v, (size_t)(*argc + 2) * sizeof *v);
        v[(*argc)++] = xstrdup(s);
        v[*argc] = NULL;
    }
    va_end(ap);
    return v;
}

static void add_arg(char ***argv, int *argc, const char *s)
{
    *argv = xrealloc(*argv, (size_t)(*argc + 2) * sizeof **argv);
    (*argv)[(*argc)++] = xstrdup(s);
    (*argv)[*argc] = NULL;
}

/* ---- the processes of the topology --------------------------------------------- */

static char pg_conninfo[512];
static int kv_port, pg_port;
static uid_t pg_uid;
static gid_t pg_gid;
static bool pg_setuid;
static char pg_data[4200];
static int pg_rep_ports[4];
static int pg_proxy_port, pg_proxy_admin;
static int kv_rep_ports[4];
static int kv_primary;               /* the workers' kv: the sentinels' primary after a failover (0: kv_port) */
static int n_sentinels;
static int sentinel_ports[8];
static char sentinel_list[8 * 24];   /* "127.0.0.1:P,..." for the apps */
#define KV_MASTER_NAME "scaleout"
#define MAX_SHARDS 8
static int n_shards;                 /* kv shards behind the router (0: no router; shard 0 is kv + kv-replica-N) */
static int shard_ports[MAX_SHARDS][5]; /* shards 1..: [0] the primary's port, [1..] its replicas' */
static int router_port, router_admin;

/* The sentinels' name of shard s's primary: the first (or only) kv is "scaleout". */
static const char *shard_master(int s, char *b, size_t n)
{
    if (s == 0)
        return KV_MASTER_NAME;
    snprintf(b, n, "%s-s%d", KV_MASTER_NAME, s + 1);
    return b;
}

/* A kv node's argv: the primary (replicaof 0) or a replica of 127.0.0.1:replicaof.
 * Its files (dump.rdb, the AOF, a replica's synced RDB) go to DIR/kv/NAME,
 * never up's working directory: the nodes would load each other's there. */
static char **kv_argv(struct up *u, const char *name, int port, int replicaof)
{
    int argc;
    char p[16], r[16], dir[PATH_MAX + 64];
    snprintf(p, sizeof p, "%d", port);
    if (snprintf(dir, sizeof dir, "%s/kv", u->dir) < (int)sizeof dir && mkdir(dir, 0755) != 0 && errno != EEXIST)
        up_log(u, "kv: cannot create %s: %s", dir, strerror(errno));
    if (snprintf(dir, sizeof dir, "%s/kv/%s", u->dir, name) < (int)sizeof dir && mkdir(dir, 0755) != 0 && errno != EEXIST)
        up_log(u, "%s: cannot create %s: %s", name, dir, strerror(errno));
    char **argv = argv_new(&argc, self_exe, "kv", "--port", p, "--admin-port", "0", "--maxmemory", u->cfg.kv_maxmemory,
                           "--maxmemory-policy", "allkeys-lru", "--dir", dir, (char *)NULL);
    if (replicaof > 0) {
        snprintf(r, sizeof r, "%d", replicaof);
        add_arg(&argv, &argc, "--replicaof");
        add_arg(&argv, &argc, "127.0.0.1");
        add_arg(&argv, &argc, r);
    }
    return argv;
}

/* The kv primary's port as the first sentinel that answers reports it (SENTINEL get-master-addr-by-name; blocking, loopback, 300 ms
 * each); -1 when none answers. */
static int sentinel_master_port_of(const char *master);

static int sentinel_master_port(void) { return sentinel_master_port_of(KV_MASTER_NAME); }

static int sentinel_master_port_of(const char *master)
{
    for (int i = 0; i < n_sentinels; i++) {
        char host[64];
        int port = -1;
        if (net_sentinel_master("127.0.0.1", sentinel_ports[i], master, 300, host, sizeof host, &port) &&
            strcmp(host, "127.0.0.1") == 0)
            return port;
    }
    return -1;
}

static struct up_proc *add_app(struct up *u)
{
    /* the lowest free slot: a scaled-down instance's port is reused */
    int slot = 0;
    for (bool taken = true; taken; ) {
        taken = false;
        for (struct up_proc *q = u->procs; q; q = q->next)
            if (q->kind == UP_APP && q->slot == slot) {
                taken = true;
                slot++;
                break;
            }
    }
    int port = u->cfg.app_port ? (int)u->cfg.app_port + slot : up_free_port();
    int aport = u->cfg.app_port ? port + 10000 : up_free_port();
    if (port > 65535 || aport > 65535 || port < 0 || aport < 0)
        return NULL;
    char name[32], p[16], ap[16], kv[32], conc[24], svc[24];
    snprintf(name, sizeof name, "app-%d", slot + 1);
    snprintf(p, sizeof p, "%d", port);
    snprintf(ap, sizeof ap, "%d", aport);
    snprintf(kv, sizeof kv, "127.0.0.1:%d", kv_port);
    snprintf(conc, sizeof conc, "%lld", u->cfg.app_concurrency);
    snprintf(svc, sizeof svc, "%lldms", u->cfg.app_service_ms);
    int argc;
    char **argv = argv_new(&argc, self_exe, "app", "--port", p, "--admin-port", ap, "--kv", kv, "--pg", pg_conninfo,
                           "--concurrency", conc, "--service-time", svc, "--queue", u->cfg.queue ? "kv-list" : "kv-hash",
                           (char *)NULL);
    if (n_shards) {
        /* the router follows the shards' sentinels; the app retries its
         * "shard unavailable" answers during a shard's failover */
        char rt[32];
        snprintf(rt, sizeof rt, "127.0.0.1:%d", router_port);
        for (char **a = argv; *a; a++)
            if (strcmp(*a, kv) == 0) {
                xfree(*a);
                *a = xstrdup(rt);
            }
        add_arg(&argv, &argc, "--kv-router");
        add_arg(&argv, &argc, "yes");
    } else if (n_sentinels) {
        add_arg(&argv, &argc, "--kv-sentinel");
        add_arg(&argv, &argc, sentinel_list);
        add_arg(&argv, &argc, "--kv-master-name");
        add_arg(&argv, &argc, KV_MASTER_NAME);
        add_arg(&argv, &argc, "--kv-wait-replicas");
        add_arg(&argv, &argc, "1");
    }
    add_words(&argv, &argc, u->cfg.app_args);
    struct up_proc *pr = up_proc_new(u, UP_APP, name, argv, port);
    pr->admin_port = aport;
    pr->slot = slot;
    return pr;
}

/* A worker named worker-N, N the lowest free number (a removed one's name is
 * reused, and with it its processing list, which it takes back at start). */
static struct up_proc *add_worker(struct up *u)
{
    int slot = 0;
    for (bool taken = true; taken;) {
        taken = false;
        for (struct up_proc *q = u->procs; q; q = q->next)
            if (q->kind == UP_WORKER && q->slot == slot) {
                taken = true;
                slot++;
                break;
            }
    }
    char name[32], kv[32];
    int argc;
    snprintf(name, sizeof name, "worker-%d", slot + 1);
    snprintf(kv, sizeof kv, "127.0.0.1:%d", kv_primary ? kv_primary : kv_port);
    char **argv = argv_new(&argc, self_exe, "worker", "--kv", kv, "--id", name, "--queue",
                           u->cfg.queue ? "kv-list" : "kv-hash", (char *)NULL);
    if (n_sentinels) {
        /* the worker asks them where the primary is at every reconnect */
        add_arg(&argv, &argc, "--kv-sentinel");
        add_arg(&argv, &argc, sentinel_list);
        add_arg(&argv, &argc, "--kv-master-name");
        add_arg(&argv, &argc, KV_MASTER_NAME);
    }
    add_words(&argv, &argc, u->cfg.worker_args);
    struct up_proc *p = up_proc_new(u, UP_WORKER, name, argv, 0);
    p->slot = slot;
    return p;
}

static void build_topology(struct up *u)
{
    int argc;
    char port[16];
    if (u->cfg.postgres) {
        snprintf(port, sizeof port, "%d", pg_port);
        char bin[1100];
        snprintf(bin, sizeof bin, "%s/postgres", u->cfg.pg_bin);
        char **argv = argv_new(&argc, bin, "-D", pg_data, "-p", port, "-c", "listen_addresses=127.0.0.1", "-c",
                               "unix_socket_directories=", "-c", "max_connections=200", (char *)NULL);
        struct up_proc *p = up_proc_new(u, UP_PG, "postgres", argv, pg_port);
        p->stop_signal = SIGINT; /* fast shutdown: SIGTERM would wait for the apps' connections */
        p->setuid = pg_setuid;
        p->uid = pg_uid;
        p->gid = pg_gid;
    }
    for (long long i = 0; u->cfg.postgres && i < u->cfg.pg_replicas; i++) {
        /* a hot standby: data from pg_basebackup when its stage starts (the primary is up then) */
        char name[32], data[4300];
        snprintf(name, sizeof name, "pg-replica-%lld", i + 1);
        snprintf(port, sizeof port, "%d", pg_rep_ports[i]);
        snprintf(data, sizeof data, "%s-replica-%lld", pg_data, i + 1);
        char bin[1100];
        snprintf(bin, sizeof bin, "%s/postgres", u->cfg.pg_bin);
        /* The primary's address of THIS start, on the command line: the one
         * pg_basebackup -R wrote into postgresql.auto.conf is the port of the
         * first start, and with pg-port 0 (a free port each start) a replica
         * on a reused dir would stream from nowhere and never get ready. */
        char conninfo[160];
        snprintf(conninfo, sizeof conninfo, "primary_conninfo=host=127.0.0.1 port=%d user=postgres application_name=%s",
                 pg_port, name);
        char **argv = argv_new(&argc, bin, "-D", data, "-p", port, "-c", "listen_addresses=127.0.0.1", "-c",
                               "unix_socket_directories=", "-c", "max_connections=200", "-c", "hot_standby=on", "-c",
                               "wal_retrieve_retry_interval=500ms", /* back to streaming soon after a primary restart */
                               "-c", conninfo, (char *)NULL);
        struct up_proc *p = up_proc_new(u, UP_PGREP, name, argv, pg_rep_ports[i]);
        p->stop_signal = SIGINT;
        p->setuid = pg_setuid;
        p->uid = pg_uid;
        p->gid = pg_gid;
    }
    if (u->cfg.postgres && u->cfg.pg_proxy) {
        char listen[32], primary[32], aport[16];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", pg_proxy_port);
        snprintf(primary, sizeof primary, "127.0.0.1:%d", pg_port);
        snprintf(aport, sizeof aport, "%d", pg_proxy_admin);
        char **argv = argv_new(&argc, self_exe, "pg", "--listen", listen, "--primary", primary, "--auth-type", "trust",
                               "--admin-port", aport, "--admin-users", "postgres", "--pool-size", "20",
                               "--server-connect-timeout", "5", "--replica-retry", "1", (char *)NULL);
        for (long long i = 0; i < u->cfg.pg_replicas; i++) {
            char rep[32];
            snprintf(rep, sizeof rep, "127.0.0.1:%d", pg_rep_ports[i]);
            add_arg(&argv, &argc, "--replica");
            add_arg(&argv, &argc, rep);
        }
        add_words(&argv, &argc, u->cfg.pg_proxy_args);
        struct up_proc *p = up_proc_new(u, UP_PGPROXY, "pg-proxy", argv, pg_proxy_port);
        p->admin_port = pg_proxy_admin;
    }
    up_proc_new(u, UP_KV, "kv", kv_argv(u, "kv", kv_port, 0), kv_port);
    for (long long i = 0; i < u->cfg.kv_replicas; i++) {
        char name[32];
        snprintf(name, sizeof name, "kv-replica-%lld", i + 1);
        up_proc_new(u, UP_KVREP, name, kv_argv(u, name, kv_rep_ports[i], kv_port), kv_rep_ports[i]);
    }
    for (int sh = 1; sh < n_shards; sh++) {
        char name[48];
        snprintf(name, sizeof name, "kv-s%d", sh + 1);
        up_proc_new(u, UP_KV, name, kv_argv(u, name, shard_ports[sh][0], 0), shard_ports[sh][0])->shard = sh;
        for (long long i = 0; i < u->cfg.kv_replicas; i++) {
            snprintf(name, sizeof name, "kv-s%d-replica-%d", sh + 1, (int)i + 1);
            up_proc_new(u, UP_KVREP, name, kv_argv(u, name, shard_ports[sh][i + 1], shard_ports[sh][0]), shard_ports[sh][i + 1])
                ->shard = sh;
        }
    }
    for (int i = 0; i < n_sentinels; i++) {
        /* a fresh file each start: the sentinel writes its state back into it */
        char name[32], conf[4200];
        snprintf(name, sizeof name, "sentinel-%d", i + 1);
        snprintf(conf, sizeof conf, "%s/%s.conf", u->dir, name);
        FILE *f = fopen(conf, "w");
        if (f) {
            fprintf(f, "role sentinel\nport %d\nbind 127.0.0.1\n", sentinel_ports[i]);
            fprintf(f, "sentinel monitor %s 127.0.0.1 %d %d\n", KV_MASTER_NAME, kv_port, n_sentinels / 2 + 1);
            fprintf(f, "sentinel down-after-milliseconds %s %lld\n", KV_MASTER_NAME, u->cfg.sentinel_down_ms);
            fprintf(f, "sentinel failover-timeout %s %lld\n", KV_MASTER_NAME, u->cfg.sentinel_down_ms * 5 + 5000);
            fprintf(f, "sentinel parallel-syncs %s 1\n", KV_MASTER_NAME);
            for (int sh = 1; sh < n_shards; sh++) {
                char m[40];
                shard_master(sh, m, sizeof m);
                fprintf(f, "sentinel monitor %s 127.0.0.1 %d %d\n", m, shard_ports[sh][0], n_sentinels / 2 + 1);
                fprintf(f, "sentinel down-after-milliseconds %s %lld\n", m, u->cfg.sentinel_down_ms);
                fprintf(f, "sentinel failover-timeout %s %lld\n", m, u->cfg.sentinel_down_ms * 5 + 5000);
                fprintf(f, "sentinel parallel-syncs %s 1\n", m);
            }
            fclose(f);
        }
        char **argv = argv_new(&argc, self_exe, "sentinel", "--config", conf, (char *)NULL);
        up_proc_new(u, UP_SENTINEL, name, argv, sentinel_ports[i]);
    }
    if (n_shards) {
        /* The queue's keys (job ids, job hashes, the lists a worker moves
         * ids between with BLMOVE, worker leases) all live on shard 1, a
         * prefix pool of its own, where the workers reach them directly
         * through the sentinels (the router refuses blocking commands);
         * sessions and cache spread over shards 2..N by consistent hashing
         * (the default pool). A node is in one pool only (the router names
         * shards by address). */
        char listen[32], aport[16];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", router_port);
        snprintf(aport, sizeof aport, "%d", router_admin);
        char **argv = argv_new(&argc, self_exe, "router", "--listen", listen, "--admin-port", aport,
                               "--sentinel-check-interval", "1s", (char *)NULL);
        for (int i = 0; i < n_sentinels; i++) {
            char sp[32];
            snprintf(sp, sizeof sp, "127.0.0.1:%d", sentinel_ports[i]);
            add_arg(&argv, &argc, "--sentinel");
            add_arg(&argv, &argc, sp);
        }
        for (int sh = 1; sh < n_shards; sh++) {
            char m[40], shard[160];
            snprintf(shard, sizeof shard, "127.0.0.1:%d name s%d master %s", sh ? shard_ports[sh][0] : kv_port, sh + 1,
                     shard_master(sh, m, sizeof m));
            add_arg(&argv, &argc, "--shard");
            add_arg(&argv, &argc, shard);
        }
        char shard[160];
        snprintf(shard, sizeof shard, "127.0.0.1:%d name q1 master %s", kv_port, KV_MASTER_NAME);
        add_arg(&argv, &argc, "--pool");
        add_arg(&argv, &argc, "queue");
        add_arg(&argv, &argc, "--prefix");
        add_arg(&argv, &argc, "queue: job: jobs: worker:");
        add_arg(&argv, &argc, "--shard");
        add_arg(&argv, &argc, shard);
        struct up_proc *p = up_proc_new(u, UP_ROUTER, "router", argv, router_port);
        p->admin_port = router_admin;
    }
    for (long long i = 0; i < u->cfg.app_min; i++)
        add_app(u);
    for (long long i = 0; i < u->cfg.workers; i++)
        add_worker(u);
    /* the lb's argv is built when its stage starts: it lists the ready apps */
}

/* The lb's argv: its backends are the apps registered now (at start-up the
 * ready ones; on a restart of the lb the ones it had, minus those leaving). */
static char **lb_argv(struct up *u, bool first)
{
    int argc;
    char listen[32], aport[16], retries[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%lld", u->cfg.lb_port);
    snprintf(aport, sizeof aport, "%d", u->lb_admin_port);
    snprintf(retries, sizeof retries, "%lld", u->cfg.lb_retries);
    char **argv = argv_new(&argc, self_exe, "lb", "--listen", listen, "--admin-port", aport, "--admin-token", u->token,
                           "--balance", u->cfg.lb_balance, "--health", "/health", "--health-interval", "1s",
                           "--health-timeout", "500ms", "--health-rise", "1", "--health-fall", "2", "--retries", retries,
                           (char *)NULL);
    for (struct up_proc *p = u->procs; p; p = p->next) {
        if (p->kind != UP_APP)
            continue;
        if (first ? !p->ready : (!p->in_lb || p->state == UP_P_DRAINING || p->state == UP_P_STOPPING)) {
            if (!first && p->in_lb)
                p->in_lb = false;
            continue;
        }
        char addr[32];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", p->port);
        add_arg(&argv, &argc, "--backend");
        add_arg(&argv, &argc, addr);
        p->in_lb = true;
    }
    return argv;
}

static struct up_proc *make_lb(struct up *u)
{
    return up_proc_new(u, UP_LB, "lb", lb_argv(u, true), (int)u->cfg.lb_port);
}

static struct up_proc *find_lb(struct up *u)
{
    for (struct up_proc *p = u->procs; p; p = p->next)
        if (p->kind == UP_LB)
            return p;
    return NULL;
}

static int lb_backend(struct up *u, const char *method, struct up_proc *app, const char *action)
{
    char path[128];
    if (strcmp(method, "POST") == 0 && !action)
        snprintf(path, sizeof path, "/pools/default/backends?addr=127.0.0.1:%d", app->port);
    else
        snprintf(path, sizeof path, "/pools/default/backends/127.0.0.1:%d%s%s", app->port, action ? "/" : "",
                 action ? action : "");
    int st = up_http_call(u->lb_admin_port, method, path, u->token, NULL);
    return st;
}

/* ---- start, restart, stop -------------------------------------------------------- */

static void begin_stop(struct up *u, int code);

static void start_proc(struct up_proc *p)
{
    p->want = true;
    p->state = UP_P_STARTING;
    if (up_proc_start(p) != 0) {
        p->state = UP_P_FAILED;
        if (p->up->stage < UP_KIND__COUNT)
            begin_stop(p->up, 1);
        return;
    }
    up_log(p->up, "%s: started (pid %d)%s", p->name, p->pid, p->port ? "" : "");
}

/* The workers follow the sentinels themselves (--kv-sentinel): after a
 * failover only their --kv (where they start looking) becomes the new
 * primary's, for their next restart. */
static void workers_follow(struct up *u, int primary)
{
    char kv[32];
    kv_primary = primary;
    snprintf(kv, sizeof kv, "127.0.0.1:%d", primary);
    for (struct up_proc *w = u->procs; w; w = w->next) {
        if (w->kind != UP_WORKER)
            continue;
        for (char **a = w->argv; a[0] && a[1]; a++)
            if (strcmp(a[0], "--kv") == 0 && strcmp(a[1], kv) != 0) {
                xfree(a[1]);
                a[1] = xstrdup(kv);
                break;
            }
    }
}

static long long u_failover_wait(struct up *u) { return u->cfg.sentinel_down_ms * 4 + 10000; }

static void backoff_fire(uv_timer_t *t)
{
    struct up_proc *p = t->data;
    if (p->up->stopping || !p->want)
        return;
    if ((p->kind == UP_KV || p->kind == UP_KVREP) && n_sentinels) {
        /* A kv node comes back as a replica of whoever the sentinels say is
         * the primary now. A primary that died waits for the failover (its
         * restart empty, as a primary, would wipe its replicas): it is
         * restarted as a primary only when the sentinels still name it after
         * down-after x 4 + 10 s (no replica to promote). */
        char mn[40];
        int m = sentinel_master_port_of(shard_master(p->shard, mn, sizeof mn));
        if (m == p->port && util_time_ms() - p->died_ms < u_failover_wait(p->up)) {
            uv_timer_start(p->backoff, backoff_fire, 200, 0);
            return;
        }
        for (char **a = p->argv; *a; a++)
            xfree(*a);
        xfree(p->argv);
        p->argv = kv_argv(p->up, p->name, p->port, m > 0 && m != p->port ? m : 0);
        if (m > 0 && p->shard == 0)
            workers_follow(p->up, m);
        up_log(p->up, "%s: restarting as %s", p->name, m > 0 && m != p->port ? "a replica of the sentinels' primary" : "the primary");
    }
    if (p->kind == UP_LB) {
        /* a restarted lb must know the apps the autoscaler added or removed */
        for (char **a = p->argv; *a; a++)
            xfree(*a);
        xfree(p->argv);
        p->argv = lb_argv(p->up, false);
    }
    start_proc(p);
}

/* A process exited (proc.c calls it through u->on_proc_exit): restart it,
 * give it up, or go on with the stop sequence. */
static void on_proc_exit(struct up *u, struct up_proc *p, long long status, int sig)
{
    char how[64];
    if (sig)
        snprintf(how, sizeof how, "killed by signal %d", sig);
    else
        snprintf(how, sizeof how, "exited with status %lld", status);
    p->ready = false;
    if (u->stopping || !p->want) {
        up_log(u, "%s: stopped (%s)", p->name, how);
        p->state = UP_P_STOPPED;
        return;
    }
    if (u->stage < UP_KIND__COUNT) {
        up_log(u, "%s %s during start-up; see %s/logs/%s.log", p->name, how, u->dir, p->name);
        p->state = UP_P_FAILED;
        begin_stop(u, 1);
        return;
    }
    long long lived = util_time_ms() - p->started_ms;
    p->died_ms = util_time_ms();
    p->fast_fails = lived >= LIVED_MS ? 0 : p->fast_fails + 1;
    if (u->cfg.restart_limit > 0 && p->fast_fails > u->cfg.restart_limit) {
        up_log(u, "%s %s; %d quick deaths in a row: giving up on it", p->name, how, p->fast_fails);
        p->state = UP_P_FAILED;
        return;
    }
    long long delay = u->cfg.restart_backoff_ms;
    for (int i = 1; i < p->fast_fails && delay < MAX_BACKOFF_MS; i++)
        delay *= 2;
    if (delay > MAX_BACKOFF_MS)
        delay = MAX_BACKOFF_MS;
    p->restarts++;
    p->state = UP_P_BACKOFF;
    up_log(u, "%s %s; restarting in %lld ms (restart %d)", p->name, how, delay, p->restarts);
    if (!p->backoff) {
        p->backoff = xmalloc(sizeof *p->backoff);
        uv_timer_init(u->loop, p->backoff);
        p->backoff->data = p;
    }
    uv_timer_start(p->backoff, backoff_fire, (uint64_t)delay, 0);
}

static void begin_stop(struct up *u, int code)
{
    if (u->stopping)
        return;
    u->stopping = true;
    u->exit_code = code;
    stop_stage = UP_KIND__COUNT - 1;
    up_log(u, "stopping everything (lb, workers, apps, kv, pg proxy, replicas, postgres)");
}

static void stop_tick(struct up *u)
{
    long long now = util_time_ms();
    while (stop_stage >= 0) {
        bool alive = false;
        for (struct up_proc *p = u->procs; p; p = p->next) {
            if ((int)p->kind != stop_stage)
                continue;
            if (p->backoff)
                uv_timer_stop(p->backoff);
            if (!p->h) {
                if (p->state != UP_P_FAILED)
                    p->state = UP_P_STOPPED;
                continue;
            }
            alive = true;
            if (p->state != UP_P_STOPPING) {
                p->want = false;
                p->state = UP_P_STOPPING;
                p->stop_ms = now;
                up_proc_signal(p, p->stop_signal);
            } else if (now - p->stop_ms > STOP_KILL_MS) {
                up_log(u, "%s: still running %d s after the stop signal, SIGKILL", p->name, STOP_KILL_MS / 1000);
                up_proc_signal(p, SIGKILL);
                p->stop_ms = now;
            }
        }
        if (alive)
            return;
        stop_stage--;
    }
    /* everything has exited */
    uv_timer_stop(&tick_timer);
    uv_close((uv_handle_t *)&tick_timer, NULL);
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    if (u->admin) {
        admin_close(u->admin);
        u->admin = NULL;
    }
    while (u->procs)
        up_proc_free(u->procs);
    up_log(u, "all stopped");
}

/* ---- start-up stages -------------------------------------------------------------- */

/*
 * PostgreSQL is ready when it accepts logins, not when it accepts TCP (it
 * answers "the database system is starting up" for a while); a replica when,
 * besides, its WAL receiver streams from the primary (a hot standby that has
 * not connected yet would serve reads from its base backup: no apps' tables).
 */
static bool pg_ready(struct up_proc *p)
{
    char ci[160];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=postgres dbname=postgres connect_timeout=2", p->port);
    if (p->kind == UP_PG)
        return PQping(ci) == PQPING_OK;
    PGconn *c = PQconnectdb(ci);
    bool ok = false;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, "SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        PQclear(r);
    }
    PQfinish(c);
    return ok;
}

/*
 * A kv replica is ready at start-up when its link to the primary is up
 * (INFO replication: master_link_status:up), not when it accepts TCP: until
 * its first sync it has none of the primary's data, so a failover in that
 * window (kv primaries sync diskless after repl-diskless-sync-delay, as
 * Redis 7) would promote an empty node. Blocking, loopback, 1 s at most.
 */
static bool kv_replica_linked(int port)
{
    int fd = net_socket_timeout(AF_INET, 1000);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char req[] = "*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n";
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && net_write_all(fd, req, sizeof req - 1) == 0) {
        struct buf b;
        buf_init(&b);
        /* the reply is one bulk string: read until it is whole */
        while (net_read_buf(fd, &b, 16384) > 0 && b.len < 65536) {
            const char *h = buf_head(&b), *nl = memchr(h, '\n', buf_pending(&b));
            if (h[0] != '$' || !nl)
                continue;
            long long n = strtoll(h + 1, NULL, 10);
            if (n >= 0 && buf_pending(&b) >= (size_t)(nl + 1 - h) + (size_t)n + 2) {
                buf_putc(&b, '\0');
                ok = strstr(buf_head(&b), "\r\nmaster_link_status:up\r\n") != NULL;
                break;
            }
        }
        buf_deinit(&b);
    }
    close(fd);
    return ok;
}

static int run_as(char *const argv[], bool su, uid_t uid, gid_t gid, const char *logpath);

/* A replica's data directory: a base backup of the running primary on first
 * start (-R writes standby.signal and primary_conninfo). Blocks the loop for
 * the copy, which is small (the apps' tables). */
static int replica_basebackup(struct up *u, struct up_proc *p)
{
    const char *data = p->argv[2];
    char ver[4400];
    snprintf(ver, sizeof ver, "%s/PG_VERSION", data);
    if (access(ver, F_OK) == 0)
        return 0;
    mkdir(data, 0700);
    if (pg_setuid && chown(data, pg_uid, pg_gid) != 0) {
        up_log(u, "%s: cannot chown %s: %s", p->name, data, strerror(errno));
        return -1;
    }
    chmod(data, 0700);
    char bin[1100], port[16], log[4300];
    snprintf(bin, sizeof bin, "%s/pg_basebackup", u->cfg.pg_bin);
    snprintf(port, sizeof port, "%d", pg_port);
    snprintf(log, sizeof log, "%s/logs/%s-basebackup.log", u->dir, p->name);
    up_log(u, "%s: pg_basebackup of the primary into %s (first start)", p->name, data);
    char *argv[] = {bin, "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-D", (char *)data, "-X", "stream", "-R",
                    "--no-sync", "-c", "fast", NULL};
    /* the primary accepts TCP before it accepts logins ("starting up"): retry until ready-timeout */
    long long deadline = util_time_ms() + u->cfg.ready_timeout_ms;
    int rc;
    while ((rc = run_as(argv, pg_setuid, pg_uid, pg_gid, log)) != 0 && util_time_ms() < deadline)
        usleep(200 * 1000);
    if (rc != 0)
        up_log(u, "%s: pg_basebackup failed (status %d); see %s", p->name, rc, log);
    return rc == 0 ? 0 : -1;
}

static void start_stage(struct up *u)
{
    if (u->stage == UP_LB)
        make_lb(u);
    if (u->stage == UP_PGREP)
        for (struct up_proc *p = u->procs; p; p = p->next)
            if (p->kind == UP_PGREP && replica_basebackup(u, p) != 0) {
                begin_stop(u, 1);
                return;
            }
    u->stage_deadline_ms = util_time_ms() + u->cfg.ready_timeout_ms;
    for (struct up_proc *p = u->procs; p; p = p->next)
        if ((int)p->kind == u->stage && p->state == UP_P_STOPPED)
            start_proc(p);
}

static void ready_checks(struct up *u)
{
    for (struct up_proc *p = u->procs; p; p = p->next) {
        if (p->state != UP_P_STARTING || !p->h)
            continue;
        /* a kv replica started with the system must have synced (a restarted
         * one may follow a primary that is gone: TCP is enough then) */
        bool kv_sync = p->kind == UP_KVREP && u->stage != UP_KIND__COUNT;
        if (p->port && (!tcp_ready(p->port) || ((p->kind == UP_PG || p->kind == UP_PGREP) && !pg_ready(p)) ||
                        (kv_sync && !kv_replica_linked(p->port)))) {
            /* after start-up, a restart or a new instance that never gets
             * ready is killed; the restart policy takes it from there */
            if (u->stage == UP_KIND__COUNT && util_time_ms() - p->started_ms > u->cfg.ready_timeout_ms) {
                up_log(u, "%s: not ready after %lld ms (port %d), killing it", p->name, u->cfg.ready_timeout_ms,
                       p->port);
                up_proc_signal(p, SIGKILL);
                p->started_ms = util_time_ms(); /* once per timeout */
            }
            continue;
        }
        p->ready = true;
        p->state = UP_P_RUNNING;
        if (p->port)
            up_log(u, "%s: ready on 127.0.0.1:%d (%lld ms after its start)", p->name, p->port,
                   util_time_ms() - p->started_ms);
        /* an app started by the autoscaler joins the lb once ready */
        if (p->kind == UP_APP && !p->in_lb && u->stage == UP_KIND__COUNT) {
            int st = lb_backend(u, "POST", p, NULL);
            if (st == 201 || st == 200) {
                p->in_lb = true;
                up_log(u, "%s: added to the lb", p->name);
            } else {
                up_log(u, "%s: lb refused to add it (status %d)", p->name, st);
            }
        }
    }
}

static void stage_tick(struct up *u)
{
    bool all = true;
    for (struct up_proc *p = u->procs; p; p = p->next)
        if ((int)p->kind == u->stage && !p->ready)
            all = false;
    if (!all) {
        if (util_time_ms() > u->stage_deadline_ms) {
            for (struct up_proc *p = u->procs; p; p = p->next)
                if ((int)p->kind == u->stage && !p->ready)
                    up_log(u, "%s: not ready after %lld ms (port %d); see %s/logs/%s.log", p->name,
                           u->cfg.ready_timeout_ms, p->port, u->dir, p->name);
            begin_stop(u, 1);
        }
        return;
    }
    do {
        u->stage++;
        if (u->stage == UP_KIND__COUNT) {
            int napps = 0;
            for (struct up_proc *p = u->procs; p; p = p->next)
                napps += p->kind == UP_APP;
            up_log(u, "ready: %d app instance%s behind the lb", napps, napps == 1 ? "" : "s");
            printf("\n  scaleout up is running.\n"
                   "    the system:   http://127.0.0.1:%lld/   (try: curl -i -XPOST 127.0.0.1:%lld/login -d '{\"user\":\"ann\"}')\n"
                   "    status page:  http://127.0.0.1:%lld/\n"
                   "    logs:         %s/logs/\n"
                   "  Ctrl-C (or SIGTERM) stops everything.\n\n",
                   u->cfg.lb_port, u->cfg.lb_port, u->cfg.status_port, u->dir);
            fflush(stdout);
            u->last_scale_ms = util_time_ms();
            return;
        }
        bool any = false;
        for (struct up_proc *p = u->procs; p; p = p->next)
            any |= (int)p->kind == u->stage;
        if (any || u->stage == UP_LB) {
            start_stage(u);
            return;
        }
    } while (1);
}

/* ---- autoscaler ---------------------------------------------------------------------- */

struct lb_sample {
    long long active;        /* summed over our serving apps */
    long long queued;
    int serving;
    unsigned long long requests;
    unsigned long long errors;   /* failed exchanges + 5xx, summed over our apps */
    double resp_ms;              /* the slowest app's average response time */
    bool ok;
};

/* Find backend `addr` in the lb's /status JSON; its active count and state. */
static bool backend_info(const char *js, const char *addr, long long *active, char *state, size_t statecap,
                         unsigned long long *requests, unsigned long long *errors, double *resp_ms)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"address\":\"%s\"", addr);
    const char *p = strstr(js, pat);
    if (!p)
        return false;
    const char *end = strstr(p, "\"cookie\"");
    const char *s = strstr(p, "\"state\":\"");
    if (s && (!end || s < end)) {
        s += 9;
        size_t n = 0;
        while (s[n] && s[n] != '"' && n + 1 < statecap)
            n++;
        memcpy(state, s, n);
        state[n] = 0;
    }
    const char *a = strstr(p, "\"active\":");
    *active = a ? strtoll(a + 9, NULL, 10) : 0;
    const char *r = strstr(p, "\"requests\":");
    *requests = r ? strtoull(r + 11, NULL, 10) : 0;
    /* failed exchanges and 5xx answers, as the client would count them */
    const char *e = strstr(p, "\"errors\":");
    const char *x = strstr(p, "\"5xx\":");
    *errors = (e && (!end || e < end) ? strtoull(e + 9, NULL, 10) : 0) +
              (x && (!end || x < end) ? strtoull(x + 6, NULL, 10) : 0);
    const char *m = strstr(p, "\"response_ms_avg\":");
    *resp_ms = m && (!end || m < end) ? strtod(m + 18, NULL) : 0;
    return true;
}

/* GET key from kv as an integer (blocking, loopback, 1 s); -1 when absent or unreachable. */
/* One command with one key whose reply is an integer or a number in a bulk
 * string (GET, LLEN, ZCARD); -1 when kv does not answer or the key is absent. */
static long long kv_int(int port, const char *cmd, const char *key)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    long long v = -1;
    char req[160], rep[128];
    int n = snprintf(req, sizeof req, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(cmd), cmd, strlen(key), key);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && write(fd, req, (size_t)n) == n) {
        ssize_t got = read(fd, rep, sizeof rep - 1);
        if (got > 0) {
            rep[got] = 0;
            const char *nl = strstr(rep, "\r\n");
            if (rep[0] == '$' && rep[1] != '-' && nl)
                v = strtoll(nl + 2, NULL, 10);
            else if (rep[0] == ':')
                v = strtoll(rep + 1, NULL, 10);
        }
    }
    close(fd);
    return v;
}

/*
 * Response-time percentiles of the apps over the last sample interval, from
 * the lb's per-backend histograms (/metrics, scaleout_lb_backend_response_seconds):
 * buckets summed over the app backends, differenced against the previous
 * sample; a percentile is reported as the upper bound of the bucket it falls
 * in (the lb's buckets: 1, 2, 5, 10, 25, 50, 100, 250 ms, ...), -1 when no
 * request completed in the interval.
 */
static void sample_latency(struct up *u)
{
    struct buf b;
    buf_init(&b);
    if (up_http_call(u->lb_admin_port, "GET", "/metrics", NULL, &b) != 200) {
        buf_deinit(&b);
        return;
    }
    buf_putc(&b, 0);
    unsigned long long cum[UP_LAT_BUCKETS] = {0};
    double le[UP_LAT_BUCKETS] = {0};
    const char *pfx = "scaleout_lb_backend_response_seconds_bucket{";
    for (const char *line = buf_head(&b); line && *line;) {
        const char *next = strchr(line, '\n');
        if (strncmp(line, pfx, strlen(pfx)) == 0) {
            const char *be = strstr(line, "backend=\"");
            const char *lep = strstr(line, "le=\"");
            const char *close = strchr(line, '}');
            bool ours = false;
            if (be && lep && close) {
                int port = 0;
                const char *colon = memchr(be, ':', (size_t)(close - be));
                if (colon)
                    port = atoi(colon + 1);
                for (struct up_proc *p = u->procs; p && !ours; p = p->next)
                    ours = p->kind == UP_APP && p->port == port;
            }
            if (ours) {
                int i;
                /* buckets come in increasing order per backend: index by le */
                double v = strncmp(lep + 4, "+Inf", 4) == 0 ? 1e300 : strtod(lep + 4, NULL);
                for (i = 0; i < UP_LAT_BUCKETS && le[i] != 0 && le[i] != v; i++) {
                }
                if (i < UP_LAT_BUCKETS) {
                    le[i] = v;
                    cum[i] += strtoull(close + 1, NULL, 10);
                }
            }
        }
        line = next ? next + 1 : NULL;
    }
    buf_deinit(&b);
    unsigned long long d[UP_LAT_BUCKETS];
    bool ok = u->lat_have;
    for (int i = 0; i < UP_LAT_BUCKETS; i++) {
        if (cum[i] < u->lat_prev[i])
            ok = false; /* a backend left: start over */
        d[i] = cum[i] - u->lat_prev[i];
        u->lat_prev[i] = cum[i];
    }
    u->lat_have = true;
    double q[3] = {0.50, 0.95, 0.99};
    for (int k = 0; k < 3; k++)
        u->lat_ms[k] = -1;
    int last = 0;
    while (last + 1 < UP_LAT_BUCKETS && le[last + 1] != 0)
        last++;
    unsigned long long total = d[last];
    if (!ok || total == 0)
        return;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i <= last; i++)
            if ((double)d[i] >= q[k] * (double)total) {
                u->lat_ms[k] = le[i] > 1e299 ? 1e9 : le[i] * 1000.0;
                break;
            }
}

/*
 * CPU of the running apps over the last interval: utime + stime from
 * /proc/PID/stat (fields 14 and 15, clock ticks), differenced per process;
 * the average in % of one core over the apps that have two samples.
 */
static void sample_cpu(struct up *u, long long now)
{
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    double sum = 0;
    int n = 0;
    for (struct up_proc *p = u->procs; p; p = p->next) {
        if (p->kind != UP_APP || p->state != UP_P_RUNNING || p->pid <= 0)
            continue;
        char path[64], line[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", p->pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[got] = 0;
        const char *s = strrchr(line, ')');
        if (!s)
            continue;
        /* after "pid (comm)": field 3 (state) is token 0, utime (14) token 11, stime (15) token 12 */
        unsigned long long ut = 0, st = 0;
        int tok = 0;
        for (const char *c = s + 1; *c && tok <= 12; tok++) {
            while (*c == ' ')
                c++;
            if (tok == 11)
                ut = strtoull(c, NULL, 10);
            if (tok == 12)
                st = strtoull(c, NULL, 10);
            while (*c && *c != ' ')
                c++;
        }
        unsigned long long ticks = ut + st;
        if (p->cpu_ms && p->cpu_pid == p->pid && ticks >= p->cpu_ticks && now > p->cpu_ms) {
            p->cpu_pct = 100.0 * (double)(ticks - p->cpu_ticks) / (double)hz / ((double)(now - p->cpu_ms) / 1000.0);
            sum += p->cpu_pct;
            n++;
        }
        p->cpu_ticks = ticks;
        p->cpu_ms = now;
        p->cpu_pid = p->pid;
    }
    u->cpu = n ? sum / n : 0;
}

static const char *const metric_names[] = {"inflight", "p99", "cpu"};
static const char *const metric_units[] = {"in flight per instance", "ms p99", "% cpu"};

static void scale_down_finish(struct up *u, struct up_proc *p)
{
    int st = lb_backend(u, "DELETE", p, NULL);
    up_log(u, "%s: removed from the lb (status %d), stopping it", p->name, st);
    p->in_lb = false;
    p->want = false;
    p->state = UP_P_STOPPING;
    p->stop_ms = util_time_ms();
    up_proc_signal(p, SIGTERM);
}

/*
 * The workers' policy: the job backlog (waiting, delayed or held) per running
 * worker. At or above worker-scale-up-at for scale-up-after: one more worker;
 * at or below worker-scale-down-at for scale-down-after: the newest one gets
 * SIGTERM (it finishes its job and unregisters). cooldown between changes,
 * between `workers` and worker-max.
 */
static void worker_scale(struct up *u, long long now)
{
    if (!u->cfg.worker_max || u->cfg.worker_max <= u->cfg.workers)
        return;
    int n = 0;
    bool changing = false;
    struct up_proc *newest = NULL;
    for (struct up_proc *p = u->procs; p; p = p->next) {
        if (p->kind != UP_WORKER || !p->want)
            continue;
        n++;
        changing |= p->state == UP_P_STARTING;
        if (p->state == UP_P_RUNNING && (!newest || p->slot > newest->slot))
            newest = p;
    }
    double per = (double)u->job_backlog / (double)(n ? n : 1);
    bool high = per >= (double)u->cfg.worker_up_at, low = per <= (double)u->cfg.worker_down_at;
    u->w_high_since = high ? (u->w_high_since ? u->w_high_since : now) : 0;
    u->w_low_since = low ? (u->w_low_since ? u->w_low_since : now) : 0;
    if (changing || now - u->w_last_scale_ms < u->cfg.cooldown_ms)
        return;
    if (high && now - u->w_high_since >= u->cfg.scale_up_after_ms && n < u->cfg.worker_max) {
        struct up_proc *p = add_worker(u);
        snprintf(u->w_last_action, sizeof u->w_last_action, "workers up to %d: backlog %.1f per worker >= %lld",
                 n + 1, per, u->cfg.worker_up_at);
        up_log(u, "autoscaler: %s (%s)", u->w_last_action, p->name);
        u->w_scale_ups++;
        u->w_last_scale_ms = now;
        u->w_high_since = 0;
        start_proc(p);
    } else if (low && now - u->w_low_since >= u->cfg.scale_down_after_ms && n > u->cfg.workers && newest) {
        snprintf(u->w_last_action, sizeof u->w_last_action, "workers down to %d: backlog %.1f per worker <= %lld",
                 n - 1, per, u->cfg.worker_down_at);
        up_log(u, "autoscaler: %s (stopping %s)", u->w_last_action, newest->name);
        u->w_scale_downs++;
        u->w_last_scale_ms = now;
        u->w_low_since = 0;
        newest->want = false;
        newest->state = UP_P_STOPPING;
        newest->stop_ms = now;
        up_proc_signal(newest, SIGTERM);
    }
}

static void autoscale_tick(struct up *u)
{
    long long now = util_time_ms();
    if (now - u->last_sample_ms < u->cfg.scale_interval_ms)
        return;
    struct buf b;
    buf_init(&b);
    int st = up_http_call(u->lb_admin_port, "GET", "/status", NULL, &b);
    buf_putc(&b, 0);
    if (st != 200) {
        buf_deinit(&b);
        return;
    }
    const char *js = buf_head(&b);
    struct lb_sample s = {0};
    const char *q = strstr(js, "\"queued\":");
    s.queued = q ? strtoll(q + 9, NULL, 10) : 0;
    int napps = 0;
    struct up_proc *newest = NULL;
    for (struct up_proc *p = u->procs; p; p = p->next) {
        if (p->kind != UP_APP)
            continue;
        char addr[32], state[32] = "";
        snprintf(addr, sizeof addr, "127.0.0.1:%d", p->port);
        long long active = 0;
        unsigned long long req = 0, errs = 0;
        double ms = 0;
        bool found = p->in_lb && backend_info(js, addr, &active, state, sizeof state, &req, &errs, &ms);
        s.requests += req;
        s.errors += errs;
        if (found && ms > s.resp_ms)
            s.resp_ms = ms;
        if (p->state == UP_P_DRAINING) {
            if (!found || active == 0 || now > p->drain_until_ms)
                scale_down_finish(u, p);
            continue;
        }
        if (p->state == UP_P_STOPPING || p->state == UP_P_STOPPED)
            continue;
        napps++;
        if (found && strcmp(state, "up") == 0) {
            s.serving++;
            s.active += active;
        }
        if (p->in_lb && p->state == UP_P_RUNNING)
            newest = p;
    }
    buf_deinit(&b);
    double dt = u->last_sample_ms ? (double)(now - u->last_sample_ms) / 1000.0 : 0;
    u->rps = dt > 0 && s.requests >= u->last_requests ? (double)(s.requests - u->last_requests) / dt : 0;
    u->last_requests = s.requests;
    u->errors_ps = dt > 0 && s.errors >= u->last_errors ? (double)(s.errors - u->last_errors) / dt : 0;
    u->last_errors = s.errors;
    u->resp_ms = s.resp_ms;
    sample_latency(u);
    if (u->cfg.queue) {
        /* kv-list: queued + waiting for a retry + held by our workers */
        u->job_backlog = kv_int(kv_port, "LLEN", "queue:jobs") + kv_int(kv_port, "ZCARD", "queue:delayed");
        for (struct up_proc *p = u->procs; p; p = p->next) {
            if (p->kind != UP_WORKER)
                continue;
            char list[64];
            snprintf(list, sizeof list, "queue:processing:%s", p->name);
            long long n = kv_int(kv_port, "LLEN", list);
            u->job_backlog += n > 0 ? n : 0;
        }
    } else {
        long long seq = kv_int(kv_port, "GET", "jobs:seq"), lowmark = kv_int(kv_port, "GET", "jobs:low");
        u->job_backlog = seq <= 0 ? 0 : seq - (lowmark > 0 ? lowmark : 1) + 1;
    }
    if (u->job_backlog < 0)
        u->job_backlog = 0;
    u->last_sample_ms = now;
    u->load = (double)(s.active + s.queued) / (double)(s.serving ? s.serving : 1);
    sample_cpu(u, now);
    u->metric = u->cfg.scale_metric == UP_METRIC_P99 ? (u->lat_ms[2] < 0 ? 0 : u->lat_ms[2])
              : u->cfg.scale_metric == UP_METRIC_CPU ? u->cpu : u->load;
    if (u->hist_n == 120) {
        memmove(u->hist_apps, u->hist_apps + 1, 119 * sizeof u->hist_apps[0]);
        memmove(u->hist_rps, u->hist_rps + 1, 119 * sizeof u->hist_rps[0]);
        memmove(u->hist_load, u->hist_load + 1, 119 * sizeof u->hist_load[0]);
        u->hist_n--;
    }
    u->hist_apps[u->hist_n] = napps;
    u->hist_rps[u->hist_n] = u->rps;
    u->hist_load[u->hist_n] = u->load;
    u->hist_n++;
    worker_scale(u, now);
    if (!u->cfg.autoscale)
        return;
    bool high = u->metric >= (double)u->cfg.scale_up_at;
    bool low = u->metric <= (double)u->cfg.scale_down_at;
    u->high_since = high ? (u->high_since ? u->high_since : now) : 0;
    u->low_since = low ? (u->low_since ? u->low_since : now) : 0;
    if (now - u->last_scale_ms < u->cfg.cooldown_ms)
        return;
    /* an instance still starting counts: no second one for the same load */
    for (struct up_proc *p = u->procs; p; p = p->next)
        if (p->kind == UP_APP && (p->state == UP_P_STARTING || p->state == UP_P_DRAINING))
            return;
    if (high && now - u->high_since >= u->cfg.scale_up_after_ms && napps < u->cfg.app_max) {
        struct up_proc *p = add_app(u);
        if (!p)
            return;
        snprintf(u->last_action, sizeof u->last_action, "scale up to %d: %s %.1f >= %lld for %lld ms", napps + 1,
                 metric_names[u->cfg.scale_metric], u->metric, u->cfg.scale_up_at, now - u->high_since);
        up_log(u, "autoscaler: %s (%s)", u->last_action, p->name);
        u->scale_ups++;
        u->last_scale_ms = now;
        u->high_since = 0;
        start_proc(p);
    } else if (low && now - u->low_since >= u->cfg.scale_down_after_ms && napps > u->cfg.app_min && newest) {
        snprintf(u->last_action, sizeof u->last_action, "scale down to %d: %s %.1f <= %lld for %lld ms", napps - 1,
                 metric_names[u->cfg.scale_metric], u->metric, u->cfg.scale_down_at, now - u->low_since);
        up_log(u, "autoscaler: %s (draining %s)", u->last_action, newest->name);
        u->scale_downs++;
        u->last_scale_ms = now;
        u->low_since = 0;
        st = lb_backend(u, "POST", newest, "drain");
        newest->state = UP_P_DRAINING;
        newest->drain_until_ms = now + u->cfg.drain_timeout_ms;
        if (st != 200 && st != 204)
            scale_down_finish(u, newest);
    }
}

/* Free app processes that were scaled down and have exited. */
static void reap_removed(struct up *u)
{
    struct up_proc *p = u->procs;
    while (p) {
        struct up_proc *next = p->next;
        if ((p->kind == UP_APP || p->kind == UP_WORKER) && !p->want && !p->h && p->state == UP_P_STOPPED &&
            !u->stopping)
            up_proc_free(p);
        p = next;
    }
}

static void on_tick(uv_timer_t *t)
{
    struct up *u = t->data;
    if (u->stopping) {
        stop_tick(u);
        return;
    }
    ready_checks(u);
    if (u->stage < UP_KIND__COUNT) {
        stage_tick(u);
        return;
    }
    if (find_lb(u))
        autoscale_tick(u);
    reap_removed(u);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct up *u = h->data;
    up_log(u, "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    begin_stop(u, u->exit_code);
}

/* ---- status ------------------------------------------------------------------------ */

void up_status_json(struct up *u, struct buf *o)
{
    int napps = 0;
    unsigned long long hits = 0, misses = 0, dbq = 0, reqs = 0;
    for (struct up_proc *p = u->procs; p; p = p->next) {
        if (p->kind != UP_APP || p->state != UP_P_RUNNING)
            continue;
        napps++;
        struct buf b;
        buf_init(&b);
        if (p->admin_port && up_http_call(p->admin_port, "GET", "/status", NULL, &b) == 200) {
            long long v;
            if (json_get_int(buf_head(&b), buf_pending(&b), "cache_hits_total", &v))
                hits += (unsigned long long)v;
            if (json_get_int(buf_head(&b), buf_pending(&b), "cache_misses_total", &v))
                misses += (unsigned long long)v;
            if (json_get_int(buf_head(&b), buf_pending(&b), "db_queries_total", &v))
                dbq += (unsigned long long)v;
            if (json_get_int(buf_head(&b), buf_pending(&b), "requests_total", &v))
                reqs += (unsigned long long)v;
        }
        buf_deinit(&b);
    }
    buf_printf(o, "{\"role\":\"up\",\"pid\":%d,\"ready\":%s,\"stopping\":%s,\"dir\":", (int)getpid(),
               u->stage == UP_KIND__COUNT ? "true" : "false", u->stopping ? "true" : "false");
    json_put_str(o, u->dir, strlen(u->dir));
    buf_printf(o, ",\"lb\":\"http://127.0.0.1:%lld/\",\"lb_admin_port\":%d,\"kv_port\":%d,\"pg\":", u->cfg.lb_port,
               u->lb_admin_port, kv_port);
    json_put_str(o, pg_conninfo, strlen(pg_conninfo));
    {
        /* the kv primary now: as the sentinels name it (after a failover,
         * a former replica), else the kv node */
        int m = n_sentinels ? sentinel_master_port() : kv_port;
        const char *who = NULL;
        for (struct up_proc *p = u->procs; p; p = p->next)
            if ((p->kind == UP_KV || p->kind == UP_KVREP) && p->port == m)
                who = p->name;
        buf_printf(o, ",\"kv_primary\":{\"port\":%d,\"name\":", m);
        if (who)
            json_put_str(o, who, strlen(who));
        else
            buf_puts(o, "null");
        buf_printf(o, ",\"source\":\"%s\"}", n_sentinels ? (m > 0 ? "sentinels" : "none answered") : "the only kv");
        if (n_shards) {
            /* every shard's primary now, and the router */
            buf_printf(o, ",\"router\":{\"port\":%d,\"admin_port\":%d},\"kv_shards\":[", router_port, router_admin);
            for (int sh = 0; sh < n_shards; sh++) {
                char mn[40];
                const char *master = shard_master(sh, mn, sizeof mn);
                int pm = sentinel_master_port_of(master);
                const char *pn = NULL;
                for (struct up_proc *p = u->procs; p; p = p->next)
                    if ((p->kind == UP_KV || p->kind == UP_KVREP) && p->shard == sh && p->port == pm)
                        pn = p->name;
                buf_printf(o, "%s{\"shard\":\"s%d\",\"master\":\"%s\",\"primary_port\":%d,\"primary\":", sh ? "," : "",
                           sh + 1, master, pm);
                if (pn)
                    json_put_str(o, pn, strlen(pn));
                else
                    buf_puts(o, "null");
                buf_puts(o, "}");
            }
            buf_puts(o, "]");
        }
    }
    if (pg_proxy_port) {
        /* the pg proxy's own /status: backends, queries per backend, replica lag */
        buf_printf(o, ",\"pg_proxy\":{\"port\":%d,\"admin_port\":%d,\"status\":", pg_proxy_port, pg_proxy_admin);
        struct buf b;
        buf_init(&b);
        if (up_http_call(pg_proxy_admin, "GET", "/status", NULL, &b) == 200 && buf_pending(&b) > 0 &&
            buf_head(&b)[0] == '{') {
            while (buf_pending(&b) > 0 && (buf_head(&b)[buf_pending(&b) - 1] == '\n'))
                b.len--;
            buf_append(o, buf_head(&b), buf_pending(&b));
        } else {
            buf_puts(o, "null");
        }
        buf_deinit(&b);
        buf_puts(o, "}");
    }
    buf_printf(o, ",\"errors_per_s\":%.1f,\"response_ms_avg_max\":%.2f,\"job_backlog\":%lld,\"queue\":\"%s\"",
               u->errors_ps, u->resp_ms, u->job_backlog, u->cfg.queue ? "kv-list" : "kv-hash");
    /* bucket upper bounds (ms) of the apps' response times in the last interval; -1: no request */
    buf_printf(o, ",\"app_ms\":{\"p50\":%g,\"p95\":%g,\"p99\":%g}", u->lat_ms[0], u->lat_ms[1], u->lat_ms[2]);
    buf_printf(o, ",\"apps\":%d,\"app_min\":%lld,\"app_max\":%lld,\"load\":%.2f,\"rps\":%.1f,"
                  "\"cpu\":%.1f,\"autoscale\":{\"enabled\":%s,\"metric\":\"%s\",\"unit\":\"%s\",\"value\":%.2f,"
                  "\"scale_up_at\":%lld,\"scale_down_at\":%lld,\"scale_ups\":%d,"
                  "\"scale_downs\":%d,\"last_action\":",
               napps, u->cfg.app_min, u->cfg.app_max, u->load, u->rps, u->cpu, u->cfg.autoscale ? "true" : "false",
               metric_names[u->cfg.scale_metric], metric_units[u->cfg.scale_metric], u->metric,
               u->cfg.scale_up_at, u->cfg.scale_down_at, u->scale_ups, u->scale_downs);
    json_put_str(o, u->last_action, strlen(u->last_action));
    int nworkers = 0;
    for (struct up_proc *p = u->procs; p; p = p->next)
        nworkers += p->kind == UP_WORKER && p->state == UP_P_RUNNING;
    buf_printf(o, "},\"workers\":%d,\"worker_autoscale\":{\"enabled\":%s,\"min\":%lld,\"max\":%lld,\"scale_up_at\":%lld,"
                  "\"scale_down_at\":%lld,\"scale_ups\":%d,\"scale_downs\":%d,\"last_action\":",
               nworkers, u->cfg.worker_max > u->cfg.workers ? "true" : "false", u->cfg.workers,
               u->cfg.worker_max > u->cfg.workers ? u->cfg.worker_max : u->cfg.workers, u->cfg.worker_up_at,
               u->cfg.worker_down_at, u->w_scale_ups, u->w_scale_downs);
    json_put_str(o, u->w_last_action, strlen(u->w_last_action));
    buf_printf(o, "},\"app_totals\":{\"requests\":%llu,\"cache_hits\":%llu,\"cache_misses\":%llu,\"db_queries\":%llu,"
                  "\"cache_hit_ratio\":%.3f},\"procs\":[",
               reqs, hits, misses, dbq, hits + misses ? (double)hits / (double)(hits + misses) : 0.0);
    bool first = true;
    for (struct up_proc *p = u->procs; p; p = p->next) {
        buf_printf(o, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"pid\":%d,\"state\":\"%s\",\"port\":%d,\"restarts\":%d,"
                      "\"in_lb\":%s,\"uptime_s\":%lld}",
                   first ? "" : ",", p->name, kind_names[p->kind], p->pid, up_proc_state_name(p->state), p->port,
                   p->restarts, p->in_lb ? "true" : "false",
                   p->h ? (util_time_ms() - p->started_ms) / 1000 : 0);
        first = false;
    }
    buf_puts(o, "],\"history\":{\"apps\":[");
    for (int i = 0; i < u->hist_n; i++)
        buf_printf(o, "%s%d", i ? "," : "", u->hist_apps[i]);
    buf_puts(o, "],\"rps\":[");
    for (int i = 0; i < u->hist_n; i++)
        buf_printf(o, "%s%.1f", i ? "," : "", u->hist_rps[i]);
    buf_puts(o, "],\"load\":[");
    for (int i = 0; i < u->hist_n; i++)
        buf_printf(o, "%s%.2f", i ? "," : "", u->hist_load[i]);
    buf_puts(o, "]}}\n");
}

static void admin_handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    struct up *u = arg;
    if (req->method != HTTP1_METHOD_GET)
        return;
    if (strcmp(req->path, "/status") == 0 || strcmp(req->path, "/status.json") == 0) {
        resp->status = 200;
        resp->ctype = "application/json";
        up_status_json(u, &resp->body);
    } else if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.html") == 0) {
        resp->status = 200;
        resp->ctype = "text/html; charset=utf-8";
        buf_puts(&resp->body, up_page_html);
    } else if (strcmp(req->path, "/metrics") == 0) {
        resp->status = 200;
        resp->ctype = "text/plain; version=0.0.4";
        int napps = 0, restarts = 0;
        for (struct up_proc *p = u->procs; p; p = p->next) {
            napps += p->kind == UP_APP && p->state == UP_P_RUNNING;
            restarts += p->restarts;
        }
        buf_printf(&resp->body,
                   "# HELP scaleout_up_app_instances app instances running\n# TYPE scaleout_up_app_instances gauge\nscaleout_up_app_instances %d\n"
                   "# HELP scaleout_up_load requests in flight per app instance (lb)\n# TYPE scaleout_up_load gauge\nscaleout_up_load %.3f\n"
                   "# HELP scaleout_up_app_cpu_percent CPU of the app processes, percent of one core, average\n"
                   "# TYPE scaleout_up_app_cpu_percent gauge\nscaleout_up_app_cpu_percent %.1f\n"
                   "# HELP scaleout_up_scale_metric the autoscaler's metric now\n# TYPE scaleout_up_scale_metric gauge\nscaleout_up_scale_metric %.2f\n"
                   "# HELP scaleout_up_restarts_total process restarts\n# TYPE scaleout_up_restarts_total counter\nscaleout_up_restarts_total %d\n"
                   "# HELP scaleout_up_scale_ups_total instances added\n# TYPE scaleout_up_scale_ups_total counter\nscaleout_up_scale_ups_total %d\n"
                   "# HELP scaleout_up_scale_downs_total instances removed\n# TYPE scaleout_up_scale_downs_total counter\n"
                   "scaleout_up_scale_downs_total %d\n",
                   napps, u->load, u->cpu, u->metric, restarts, u->scale_ups, u->scale_downs);
    }
}

/* ---- PostgreSQL set-up -------------------------------------------------------------- */

/* Whether uid/gid can walk down to path (x on every directory above it). */
static bool reachable_by(const char *path, uid_t uid, gid_t gid)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + strlen(p); s > p; s--) {
        if (*s != '/' && s != p + strlen(p))
            continue;
        char c = *s;
        *s = 0;
        struct stat st;
        if (*p && stat(p, &st) == 0) {
            mode_t need = st.st_uid == uid ? S_IXUSR : st.st_gid == gid ? S_IXGRP : S_IXOTH;
            if (!(st.st_mode & need)) {
                *s = c;
                return false;
            }
        }
        *s = c;
    }
    return true;
}

static int run_as(char *const argv[], bool su, uid_t uid, gid_t gid, const char *logpath)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (su && (setgid(gid) != 0 || setuid(uid) != 0))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int setup_postgres(struct up *u)
{
    char initdb[1100], postgres[1100];
    snprintf(initdb, sizeof initdb, "%s/initdb", u->cfg.pg_bin);
    snprintf(postgres, sizeof postgres, "%s/postgres", u->cfg.pg_bin);
    if (access(initdb, X_OK) != 0 || access(postgres, X_OK) != 0) {
        fprintf(stderr, "scaleout up: PostgreSQL binaries not found in %s (install postgresql-15, set pg-bin, or "
                        "'postgres no' with pg-conninfo)\n", u->cfg.pg_bin);
        return -1;
    }
    snprintf(pg_data, sizeof pg_data, "%s/pg", u->dir);
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw)
            pw = getpwnam("nobody");
        if (!pw) {
            fprintf(stderr, "scaleout up: running as root and neither 'postgres' nor 'nobody' exists to run PostgreSQL\n");
            return -1;
        }
        pg_setuid = true;
        pg_uid = pw->pw_uid;
        pg_gid = pw->pw_gid;
        if (!reachable_by(u->dir, pg_uid, pg_gid)) {
            /* root's home is usually 0700: keep the data where the user can reach it */
            snprintf(pg_data, sizeof pg_data, "/var/tmp/scaleout-pg-%d", pg_port);
            up_log(u, "postgres: %s is not reachable by user %s; its data goes to %s", u->dir, pw->pw_name, pg_data);
        }
    }
    char ver[4300];
    snprintf(ver, sizeof ver, "%s/PG_VERSION", pg_data);
    if (access(ver, F_OK) == 0)
        return 0;
    mkdir(pg_data, 0700);
    if (pg_setuid && chown(pg_data, pg_uid, pg_gid) != 0) {
        fprintf(stderr, "scaleout up: cannot chown %s: %s\n", pg_data, strerror(errno));
        return -1;
    }
    chmod(pg_data, 0700);
    up_log(u, "postgres: initdb %s (first start)", pg_data);
    char log[4300];
    snprintf(log, sizeof log, "%s/logs/initdb.log", u->dir);
    char *argv[] = {initdb, "-D", pg_data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", NULL};
    int rc = run_as(argv, pg_setuid, pg_uid, pg_gid, log);
    if (rc != 0) {
        fprintf(stderr, "scaleout up: initdb failed (status %d); see %s\n", rc, log);
        return -1;
    }
    /* A replica's data left from an earlier primary (whose data was removed)
     * belongs to another cluster: it would never stream from this one. It is
     * moved aside, and the replica's stage makes a fresh base backup. */
    for (int i = 1; i <= 4; i++) {
        char old[4400], aside[4500];
        snprintf(old, sizeof old, "%s-replica-%d", pg_data, i);
        snprintf(aside, sizeof aside, "%s.old-%lld", old, util_time_ms());
        if (access(old, F_OK) == 0 && rename(old, aside) == 0)
            up_log(u, "pg-replica-%d: data from an earlier primary moved to %s", i, aside);
    }
    return 0;
}

/* ---- stop / status from another shell ------------------------------------------------ */

static const char *arg_dir(int argc, char **argv)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--dir") == 0)
            return argv[i + 1];
    return "./scaleout-data";
}

static int read_int_file(const char *dir, const char *name)
{
    char path[8192], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = 0;
    fclose(f);
    return atoi(buf);
}

static int cmd_stop(int argc, char **argv)
{
    const char *dir = arg_dir(argc, argv);
    int pid = read_int_file(dir, "up.pid");
    if (pid <= 0 || kill(pid, 0) != 0) {
        fprintf(stderr, "scaleout up stop: no running up found in %s\n", dir);
        return 1;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 600 && kill(pid, 0) == 0; i++)
        usleep(100 * 1000);
    if (kill(pid, 0) == 0) {
        fprintf(stderr, "scaleout up stop: pid %d still running after 60 s\n", pid);
        return 1;
    }
    printf("stopped (pid %d)\n", pid);
    return 0;
}

static int cmd_status(int argc, char **argv)
{
    const char *dir = arg_dir(argc, argv);
    int port = read_int_file(dir, "up.port");
    struct buf b;
    buf_init(&b);
    if (port <= 0 || up_http_call(port, "GET", "/status", NULL, &b) != 200) {
        fprintf(stderr, "scaleout up status: no running up found in %s\n", dir);
        buf_deinit(&b);
        return 1;
    }
    fwrite(buf_head(&b), 1, buf_pending(&b), stdout);
    buf_deinit(&b);
    return 0;
}

/* ---- main --------------------------------------------------------------------------- */

static void usage(void)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "usage: scaleout up [FILE | --config FILE] [--directive value ...]\n"
                 "       scaleout up stop [--dir DIR]      stop a running up\n"
                 "       scaleout up status [--dir DIR]    print its status JSON\n"
                 "       scaleout up --demo [--demo-seconds N] [--demo-report FILE] [--dir DIR]\n"
                 "                                         measure the claims (capacity, cache, queue, replica,\n"
                 "                                         faults, autoscaling): one HTML report with verdicts\n"
                 "       scaleout up [FILE] --emit systemd|k8s DIR   write the topology as systemd units or\n"
                 "                                         Kubernetes manifests (docs/deploy.md)\n\n"
                 "Runs the whole system on 127.0.0.1: PostgreSQL, kv, app x N, worker x M and the lb in front,\n"
                 "supervised and autoscaled, with a status page. Without a file: the default topology below.\n\n"
                 "directives:\n");
    conf_print_help(&up_conf_table, &b);
    fwrite(buf_head(&b), 1, buf_pending(&b), stdout);
    buf_deinit(&b);
}

static bool port_taken(long long port, const char *what)
{
    if (port > 0 && net_port_in_use("127.0.0.1", (int)port) == 1) {
        fprintf(stderr, "scaleout up: port %lld (%s) is in use\n", port, what);
        return true;
    }
    return false;
}

int up_main(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "stop") == 0)
        return cmd_stop(argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "status") == 0)
        return cmd_status(argc - 1, argv + 1);
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--demo") == 0) {
            ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
            if (n <= 0) {
                fprintf(stderr, "scaleout up: cannot find its own binary\n");
                return 1;
            }
            self_exe[n] = 0;
            return up_demo(argc, argv, self_exe);
        }
    /* `scaleout up FILE` is `scaleout up --config FILE`; `--emit KIND DIR` is not a directive */
    char **args = xmalloc((size_t)(argc + 2) * sizeof *args);
    int nargs = 0;
    const char *emit_kind = NULL, *emit_dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--emit") == 0) {
            if (i + 2 >= argc) {
                fprintf(stderr, "scaleout up: --emit takes KIND (systemd or k8s) and DIR\n");
                xfree(args);
                return 2;
            }
            emit_kind = argv[i + 1];
            emit_dir = argv[i + 2];
            i += 2;
            continue;
        }
        if (i == 0 && argv[0][0] != '-')
            args[nargs++] = "--config";
        args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    static struct up up_state;
    struct up *u = &up_state;
    u->on_proc_exit = on_proc_exit;
    conf_defaults(&up_conf_table, &u->cfg);
    struct buf errs;
    buf_init(&errs);
    int nerr = conf_load_args(&up_conf_table, &u->cfg, nargs, args, &errs);
    xfree(args);
    if (nerr == 0)
        nerr = up_config_validate(&u->cfg, NULL, &errs);
    if (nerr != 0) {
        fprintf(stderr, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
        fprintf(stderr, "scaleout up: invalid configuration (see scaleout up --help)\n");
        buf_deinit(&errs);
        conf_free(&up_conf_table, &u->cfg);
        return 2;
    }
    buf_deinit(&errs);
    log_init("up", u->cfg.loglevel, NULL);
    signal(SIGPIPE, SIG_IGN);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) {
        fprintf(stderr, "scaleout up: cannot find its own binary\n");
        return 1;
    }
    self_exe[n] = 0;
    if (emit_kind) {
        int rc = up_emit(&u->cfg, emit_kind, emit_dir, self_exe);
        conf_free(&up_conf_table, &u->cfg);
        return rc;
    }

    mkdir(u->cfg.dir, 0755);
    if (!realpath(u->cfg.dir, u->dir)) {
        fprintf(stderr, "scaleout up: cannot use dir %s: %s\n", u->cfg.dir, strerror(errno));
        return 1;
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/logs", u->dir);
    mkdir(path, 0755);
    int other = read_int_file(u->dir, "up.pid");
    if (other > 0 && other != getpid() && kill(other, 0) == 0) {
        fprintf(stderr, "scaleout up: another up (pid %d) runs in %s; `scaleout up stop` first, or --dir\n", other, u->dir);
        return 1;
    }
    if (port_taken(u->cfg.lb_port, "lb-port") || port_taken(u->cfg.status_port, "status-port") ||
        port_taken(u->cfg.kv_port, "kv-port") || (u->cfg.postgres && port_taken(u->cfg.pg_port, "pg-port")))
        return 1;
    for (long long i = 0; u->cfg.app_port && i < u->cfg.app_max; i++)
        if (port_taken(u->cfg.app_port + i, "app-port + instance") || port_taken(u->cfg.app_port + i + 10000, "app admin port"))
            return 1;
    u->lb_admin_port = u->cfg.lb_admin_port < 0 ? (int)u->cfg.lb_port + 10000
                                                : u->cfg.lb_admin_port ? (int)u->cfg.lb_admin_port : up_free_port();
    if (port_taken(u->lb_admin_port, "lb admin port"))
        return 1;
    kv_port = u->cfg.kv_port ? (int)u->cfg.kv_port : up_free_port();
    for (long long i = 0; i < u->cfg.kv_replicas; i++) {
        kv_rep_ports[i] = u->cfg.kv_port ? (int)(u->cfg.kv_port + 1 + i) : up_free_port();
        if (u->cfg.kv_port && port_taken(kv_rep_ports[i], "kv-port + replica"))
            return 1;
    }
    n_shards = u->cfg.router_shards >= 2 ? (int)u->cfg.router_shards : 0;
    for (int sh = 1; sh < n_shards; sh++)
        for (long long i = 0; i <= u->cfg.kv_replicas; i++) {
            long long port = u->cfg.kv_port ? u->cfg.kv_port + sh * (1 + u->cfg.kv_replicas) + i : up_free_port();
            if (port > 65535 || (u->cfg.kv_port && port_taken((int)port, "kv-port + shard")))
                return 1;
            shard_ports[sh][i] = (int)port;
        }
    if (n_shards) {
        router_port = u->cfg.router_port ? (int)u->cfg.router_port : up_free_port();
        router_admin = u->cfg.router_port ? router_port + 10000 : up_free_port();
        if (port_taken(router_port, "router-port") || port_taken(router_admin, "router admin port"))
            return 1;
    }
    n_sentinels = (int)(u->cfg.sentinels < 0 ? (u->cfg.kv_replicas >= 1 ? 3 : 0) : u->cfg.sentinels);
    sentinel_list[0] = 0;
    for (int i = 0; i < n_sentinels; i++) {
        sentinel_ports[i] = up_free_port();
        size_t l = strlen(sentinel_list);
        snprintf(sentinel_list + l, sizeof sentinel_list - l, "%s127.0.0.1:%d", i ? "," : "", sentinel_ports[i]);
    }
    pg_port = u->cfg.pg_port ? (int)u->cfg.pg_port : up_free_port();
    if (u->cfg.postgres) {
        for (long long i = 0; i < u->cfg.pg_replicas; i++) {
            pg_rep_ports[i] = u->cfg.pg_port ? (int)(u->cfg.pg_port + 1 + i) : up_free_port();
            if (u->cfg.pg_port && port_taken(pg_rep_ports[i], "pg-port + replica"))
                return 1;
        }
        if (u->cfg.pg_proxy) {
            pg_proxy_port = u->cfg.pg_proxy_port ? (int)u->cfg.pg_proxy_port : up_free_port();
            pg_proxy_admin = u->cfg.pg_proxy_port ? pg_proxy_port + 10000 : up_free_port();
            if (port_taken(pg_proxy_port, "pg-proxy-port") || port_taken(pg_proxy_admin, "pg proxy admin port"))
                return 1;
        }
    }
    snprintf(u->token, sizeof u->token, "%016llx%016llx", (unsigned long long)rand_secure64(),
             (unsigned long long)rand_secure64());
    if (u->cfg.postgres) {
        snprintf(pg_conninfo, sizeof pg_conninfo,
                 "host=127.0.0.1 port=%d user=postgres dbname=postgres connect_timeout=5",
                 u->cfg.pg_proxy ? pg_proxy_port : pg_port);
        if (setup_postgres(u) != 0)
            return 1;
    } else {
        snprintf(pg_conninfo, sizeof pg_conninfo, "%s", u->cfg.pg_conninfo);
    }
    char err[256];
    snprintf(path, sizeof path, "%s/up.pid", u->dir);
    if (util_write_pidfile(path, err, sizeof err) != 0)
        up_log(u, "%s", err);
    snprintf(path, sizeof path, "%s/up.port", u->dir);
    char portline[16];
    int pl = snprintf(portline, sizeof portline, "%lld\n", u->cfg.status_port);
    util_write_file(path, portline, (size_t)pl, err, sizeof err);

    u->loop = xmalloc(sizeof *u->loop);
    uv_loop_init(u->loop);
    if (u->cfg.status_port > 0) {
        u->admin = admin_open(u->loop, "127.0.0.1", (int)u->cfg.status_port, NULL, admin_handler, u, err, sizeof err);
        if (!u->admin) {
            fprintf(stderr, "scaleout up: status page: %s\n", err);
            return 1;
        }
    }
    build_topology(u);
    uv_signal_init(u->loop, &sig_term);
    uv_signal_init(u->loop, &sig_int);
    sig_term.data = sig_int.data = u;
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_timer_init(u->loop, &tick_timer);
    tick_timer.data = u;
    uv_timer_start(&tick_timer, on_tick, TICK_MS, TICK_MS);
    up_log(u, "starting in %s (status page http://127.0.0.1:%lld/)", u->dir, u->cfg.status_port);
    u->stage = 0;
    /* skip stages without processes (postgres no) */
    for (;;) {
        bool any = false;
        for (struct up_proc *p = u->procs; p; p = p->next)
            any |= (int)p->kind == u->stage;
        if (any || u->stage == UP_LB)
            break;
        u->stage++;
    }
    start_stage(u);
    uv_run(u->loop, UV_RUN_DEFAULT);
    uv_loop_close(u->loop);
    xfree(u->loop);
    snprintf(path, sizeof path, "%s/up.pid", u->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/up.port", u->dir);
    unlink(path);
    conf_free(&up_conf_table, &u->cfg);
    return u->exit_code;
}
