/*
 * emit.c — `scaleout up [FILE] --emit systemd|k8s DIR`: the same topology as
 * systemd units or as Kubernetes manifests, for running it beyond one
 * machine (docs/deploy.md). Nothing is started.
 *
 *   systemd  scaleout-postgres.service (initdb on first start, as postgres),
 *            scaleout-pg-replica-N.service (pg_basebackup -R on first start),
 *            scaleout-pg-proxy.service (the apps' conninfo), scaleout-kv.service, scaleout-app@.service (instance = port),
 *            scaleout-worker@.service (instance = number), scaleout-lb.service,
 *            scaleout.target wanting app-min apps and the workers. Restart=
 *            on-failure with RestartSec = restart-backoff stands for up's
 *            supervision; systemd has no autoscaler: start more app@PORT
 *            units and add them with the lb's admin API.
 *   k8s      ConfigMap scaleout (the apps' settings), StatefulSet + Service
 *            for kv and for PostgreSQL (postgres:15 image), Deployment +
 *            Service for the pg proxy (the apps' PG; no replica: the
 *            image's pg_hba takes no replication from other pods), for app (readiness GET /health), a
 *            HorizontalPodAutoscaler on CPU between app-min and app-max,
 *            Deployment for worker, Deployment + Service for the lb in front
 *            of the app Service.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/util.h"
#include "up/up.h"

static int put(const char *dir, const char *name, struct buf *b, char *err, size_t errlen)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = util_write_file(path, buf_head(b), buf_pending(b), err, errlen);
    buf_consume(b, buf_pending(b));
    return rc;
}

#define EMIT_MASTER "scaleout"

/* sentinels in the topology: -1 means 3 with a kv replica */
static int emit_sentinels(const struct up_config *c)
{
    if (c->kv_replicas < 1)
        return 0;
    return c->sentinels < 0 ? 3 : (int)c->sentinels;
}

static int emit_systemd(const struct up_config *c, const char *bin, const char *dir, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b);
    int rc = 0;
    char kv[64], pg[512];
    snprintf(kv, sizeof kv, "127.0.0.1:%lld", c->kv_port ? c->kv_port : 8379);
    long long pg_port = c->pg_port ? c->pg_port : 8432;
    bool proxy = c->postgres && c->pg_proxy;
    long long proxy_port = c->pg_proxy_port ? c->pg_proxy_port : 8430;
    if (c->postgres)
        snprintf(pg, sizeof pg, "host=127.0.0.1 port=%lld user=postgres dbname=postgres connect_timeout=5",
                 proxy ? proxy_port : pg_port);
    else
        snprintf(pg, sizeof pg, "%s", c->pg_conninfo);
    long long app_port = c->app_port ? c->app_port : 8101;
    long long backoff_s = c->restart_backoff_ms / 1000 > 0 ? c->restart_backoff_ms / 1000 : 1;
    const char *deps = proxy         ? "scaleout-kv.service scaleout-pg-proxy.service"
                       : c->postgres ? "scaleout-kv.service scaleout-postgres.service"
                                     : "scaleout-kv.service";
    long long replicas = c->postgres ? c->pg_replicas : 0;
    /* kv replicas on kv-port + N, sentinels on kv-port + 20000 + N - 1 */
    long long kv_port = c->kv_port ? c->kv_port : 8379;
    int nsent = emit_sentinels(c);
    long long sentinel_port = kv_port + 20000;
    char sent_units[8 * 40] = "", sent_args[8 * 24 + 128] = "", wsent_args[8 * 24 + 128] = "", wsent_units[8 * 40] = "";
    if (nsent) {
        size_t l = 0, la;
        la = (size_t)snprintf(sent_args, sizeof sent_args, " --kv-sentinel ");
        for (int i = 1; i <= nsent; i++) {
            l += (size_t)snprintf(sent_units + l, sizeof sent_units - l, " scaleout-sentinel-%d.service", i);
            la += (size_t)snprintf(sent_args + la, sizeof sent_args - la, "%s127.0.0.1:%lld", i > 1 ? "," : "",
                                   sentinel_port + i - 1);
        }
        snprintf(sent_args + la, sizeof sent_args - la, " --kv-master-name %s", EMIT_MASTER);
        snprintf(wsent_args, sizeof wsent_args, "%s", sent_args);
        snprintf(wsent_units, sizeof wsent_units, "%s", sent_units);
        snprintf(sent_args + strlen(sent_args), sizeof sent_args - strlen(sent_args), " --kv-wait-replicas 1");
    }

    if (c->postgres) {
        buf_printf(&b,
                   "# scaleout-postgres.service — PostgreSQL for the apps (emitted by scaleout up --emit systemd)\n"
                   "[Unit]\nDescription=scaleout PostgreSQL\nPartOf=scaleout.target\n\n"
                   "[Service]\nUser=postgres\nEnvironment=PGDATA=/var/lib/scaleout/pg\n"
                   "StateDirectory=scaleout\n"
                   "ExecStartPre=/bin/sh -c 'test -f \"$PGDATA/PG_VERSION\" || %s/initdb -D \"$PGDATA\" -U postgres "
                   "--auth=trust -E UTF8'\n"
                   "ExecStart=%s/postgres -D ${PGDATA} -p %lld -c listen_addresses=127.0.0.1\n"
                   "KillSignal=SIGINT\nRestart=on-failure\nRestartSec=%llds\n\n"
                   "[Install]\nWantedBy=scaleout.target\n",
                   c->pg_bin, c->pg_bin, pg_port, backoff_s);
        rc |= put(dir, "scaleout-postgres.service", &b, err, errlen);
    }
    for (long long i = 1; i <= replicas; i++) {
        char name[64];
        snprintf(name, sizeof name, "scaleout-pg-replica-%lld.service", i);
        buf_printf(&b,
                   "# %s — a streaming replica (hot standby) of scaleout-postgres\n"
                   "[Unit]\nDescription=scaleout PostgreSQL replica %lld\nPartOf=scaleout.target\n"
                   "After=scaleout-postgres.service\nWants=scaleout-postgres.service\n\n"
                   "[Service]\nUser=postgres\nEnvironment=PGDATA=/var/lib/scaleout/pg-replica-%lld\n"
                   "StateDirectory=scaleout\n"
                   "ExecStartPre=/bin/sh -c 'test -f \"$PGDATA/PG_VERSION\" || %s/pg_basebackup -h 127.0.0.1 -p %lld "
                   "-U postgres -D \"$PGDATA\" -X stream -R'\n"
                   "ExecStart=%s/postgres -D ${PGDATA} -p %lld -c listen_addresses=127.0.0.1 -c hot_standby=on "
                   "-c wal_retrieve_retry_interval=500ms\n"
                   "KillSignal=SIGINT\nRestart=on-failure\nRestartSec=%llds\n\n"
                   "[Install]\nWantedBy=scaleout.target\n",
                   name, i, i, c->pg_bin, pg_port, c->pg_bin, pg_port + i, backoff_s);
        rc |= put(dir, name, &b, err, errlen);
    }
    if (proxy) {
        buf_puts(&b,
                 "# scaleout-pg-proxy.service — the pg proxy between the apps and PostgreSQL: pooling, reads to "
                   "the replicas\n"
                   "[Unit]\nDescription=scaleout pg proxy\nPartOf=scaleout.target\nAfter=scaleout-postgres.service");
        for (long long i = 1; i <= replicas; i++)
            buf_printf(&b, " scaleout-pg-replica-%lld.service", i);
        buf_printf(&b,
                   "\nWants=scaleout-postgres.service\n\n"
                   "[Service]\nDynamicUser=yes\nExecStart=%s pg --listen 127.0.0.1:%lld --primary 127.0.0.1:%lld "
                   "--auth-type trust --admin-users postgres",
                   bin, proxy_port, pg_port);
        for (long long i = 1; i <= replicas; i++)
            buf_printf(&b, " --replica 127.0.0.1:%lld", pg_port + i);
        if (c->pg_proxy_args && *c->pg_proxy_args)
            buf_printf(&b, " %s", c->pg_proxy_args);
        buf_printf(&b, "\nRestart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n", backoff_s);
        rc |= put(dir, "scaleout-pg-proxy.service", &b, err, errlen);
    }
    /* kv: one shard, or router-shards of them (shard s on kv-port + s x (1 + kv-replicas)) */
    int nshards = c->router_shards >= 2 ? (int)c->router_shards : 1;
    struct buf monitors, kv_units;
    buf_init(&monitors);
    buf_init(&kv_units);
    for (int sh = 0; sh < nshards; sh++) {
        char unit[48], master[48], desc[48];
        long long port = kv_port + sh * (1 + c->kv_replicas);
        if (sh == 0) {
            snprintf(unit, sizeof unit, "scaleout-kv");
            snprintf(master, sizeof master, "%s", EMIT_MASTER);
            snprintf(desc, sizeof desc, "%s", nshards > 1 ? "shard 1: the job queue" : "sessions, cache and jobs");
        } else {
            snprintf(unit, sizeof unit, "scaleout-kv-s%d", sh + 1);
            snprintf(master, sizeof master, "%s-s%d", EMIT_MASTER, sh + 1);
            snprintf(desc, sizeof desc, "shard %d: sessions and cache", sh + 1);
        }
        buf_printf(&kv_units, " %s.service", unit);
        buf_printf(&monitors,
                   "\\\\nsentinel monitor %s 127.0.0.1 %lld %d\\\\nsentinel down-after-milliseconds %s %lld"
                   "\\\\nsentinel failover-timeout %s %lld",
                   master, port, nsent / 2 + 1, master, c->sentinel_down_ms, master, c->sentinel_down_ms * 5 + 5000);
        buf_printf(&b,
                   "# %s.service — kv, %s\n"
                   "[Unit]\nDescription=scaleout kv (%s)\nPartOf=scaleout.target\n\n"
                   "[Service]\nDynamicUser=yes\nExecStart=%s kv --port %lld --maxmemory %s --maxmemory-policy allkeys-lru\n"
                   "Restart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n",
                   unit, desc, desc, bin, port, c->kv_maxmemory, backoff_s);
        char file[64];
        snprintf(file, sizeof file, "%s.service", unit);
        rc |= put(dir, file, &b, err, errlen);
        for (long long i = 1; i <= c->kv_replicas; i++) {
            char name[160];
            snprintf(name, sizeof name, "%s-replica-%lld.service", unit, i);
            buf_printf(&kv_units, " %s", name);
            buf_printf(&b,
                       "# %s — a replica of %s.service (promoted by the sentinels if the primary dies)\n"
                       "[Unit]\nDescription=scaleout kv replica %lld of %s\nPartOf=scaleout.target\nAfter=%s.service\n"
                       "Wants=%s.service\n\n"
                       "[Service]\nDynamicUser=yes\nExecStart=%s kv --port %lld --maxmemory %s --maxmemory-policy allkeys-lru "
                       "--replicaof 127.0.0.1 %lld\n"
                       "Restart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n",
                       name, unit, i, unit, unit, unit, bin, port + i, c->kv_maxmemory, port, backoff_s);
            rc |= put(dir, name, &b, err, errlen);
        }
    }
    /* both read as C strings below: NUL after the content */
    buf_putc(&kv_units, 0);
    kv_units.len--;
    buf_putc(&monitors, 0);
    monitors.len--;
    for (int i = 1; i <= nsent; i++) {
        /* the sentinel writes its state (the primary of now) back into its
         * file: the file is made on the first start in its StateDirectory */
        char name[64];
        snprintf(name, sizeof name, "scaleout-sentinel-%d.service", i);
        buf_printf(&b,
                   "# %s — watches the kv primar%s; with a majority of the %d sentinels it promotes a replica\n"
                   "[Unit]\nDescription=scaleout sentinel %d\nPartOf=scaleout.target\nAfter=%s\n"
                   "Wants=%s\n\n"
                   "[Service]\nDynamicUser=yes\nStateDirectory=scaleout-sentinel-%d\n"
                   "ExecStartPre=/bin/sh -c 'test -f \"$STATE_DIRECTORY/sentinel.conf\" || printf \"role sentinel\\\\nport %lld"
                   "\\\\nbind 127.0.0.1%s\\\\n\" > \"$STATE_DIRECTORY/sentinel.conf\"'\n"
                   "ExecStart=%s sentinel --config ${STATE_DIRECTORY}/sentinel.conf\n"
                   "Restart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n",
                   name, nshards > 1 ? "ies" : "y", nsent, i, buf_head(&kv_units) + 1, buf_head(&kv_units) + 1, i,
                   sentinel_port + i - 1, buf_head(&monitors), bin, backoff_s);
        rc |= put(dir, name, &b, err, errlen);
    }
    char router_units[64] = "";
    if (nshards > 1) {
        /* the apps' kv: the router over shards 2..N, the queue's keys on shard 1 */
        long long rport = c->router_port ? c->router_port : 8400;
        buf_printf(&b,
                   "# scaleout-router.service — the apps' kv: sessions and cache over shards 2..%d (consistent "
                   "hashing), the queue's keys on shard 1; primaries followed through the sentinels\n"
                   "[Unit]\nDescription=scaleout router\nPartOf=scaleout.target\nAfter=%s\nWants=%s\n\n"
                   "[Service]\nDynamicUser=yes\nExecStart=%s router --listen 127.0.0.1:%lld",
                   nshards, sent_units + 1, sent_units + 1, bin, rport);
        for (int i = 1; i <= nsent; i++)
            buf_printf(&b, " --sentinel 127.0.0.1:%lld", sentinel_port + i - 1);
        for (int sh = 1; sh < nshards; sh++)
            buf_printf(&b, " --shard \"127.0.0.1:%lld name s%d master %s-s%d\"", kv_port + sh * (1 + c->kv_replicas),
                       sh + 1, EMIT_MASTER, sh + 1);
        buf_printf(&b, " --pool queue --prefix \"queue: job: jobs: worker:\" --shard \"127.0.0.1:%lld name q1 master %s\"\n"
                       "Restart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n",
                   kv_port, EMIT_MASTER, backoff_s);
        rc |= put(dir, "scaleout-router.service", &b, err, errlen);
        snprintf(router_units, sizeof router_units, " scaleout-router.service");
        /* the apps: kv through the router, retrying while a shard fails over */
        snprintf(kv, sizeof kv, "127.0.0.1:%lld", rport);
        snprintf(sent_args, sizeof sent_args, " --kv-router yes");
        snprintf(sent_units, sizeof sent_units, "%s", router_units);
    }
    buf_deinit(&monitors);
    buf_printf(&b,
               "# scaleout-app@.service — one app instance per port: systemctl start scaleout-app@%lld\n"
               "[Unit]\nDescription=scaleout app on port %%i\nPartOf=scaleout.target\nAfter=%s%s\nWants=%s%s\n\n"
               "[Service]\nDynamicUser=yes\nExecStart=%s app --port %%i --kv %s%s --pg \"%s\" --concurrency %lld "
               "--service-time %lldms %s\n"
               "Restart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n",
               app_port, deps, sent_units, deps, sent_units, bin, kv, sent_args, pg, c->app_concurrency, c->app_service_ms,
               c->app_args, backoff_s);
    rc |= put(dir, "scaleout-app@.service", &b, err, errlen);
    buf_printf(&b,
               "# scaleout-worker@.service — job workers: systemctl start scaleout-worker@1\n"
               "[Unit]\nDescription=scaleout worker %%i\nPartOf=scaleout.target\nAfter=scaleout-kv.service%s\n"
               "Wants=scaleout-kv.service%s\n\n"
               "[Service]\nDynamicUser=yes\nExecStart=%s worker --kv 127.0.0.1:%lld%s --id worker-%%i %s\n"
               "Restart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n",
               wsent_units, wsent_units, bin, kv_port, wsent_args, c->worker_args, backoff_s);
    rc |= put(dir, "scaleout-worker@.service", &b, err, errlen);
    buf_printf(&b, "# scaleout-lb.service — the lb in front of the app instances\n"
                   "[Unit]\nDescription=scaleout lb\nPartOf=scaleout.target\nAfter=");
    for (long long i = 0; i < c->app_min; i++)
        buf_printf(&b, "%sscaleout-app@%lld.service", i ? " " : "", app_port + i);
    buf_printf(&b, "\n\n[Service]\nDynamicUser=yes\nExecStart=%s lb --listen 127.0.0.1:%lld --balance %s "
                   "--health /health --retries %lld",
               bin, c->lb_port, c->lb_balance, c->lb_retries);
    for (long long i = 0; i < c->app_min; i++)
        buf_printf(&b, " --backend 127.0.0.1:%lld", app_port + i);
    buf_printf(&b, "\nRestart=on-failure\nRestartSec=%llds\n\n[Install]\nWantedBy=scaleout.target\n", backoff_s);
    rc |= put(dir, "scaleout-lb.service", &b, err, errlen);
    buf_puts(&b, "# scaleout.target — the whole topology: systemctl start scaleout.target\n"
                 "[Unit]\nDescription=scaleout (the whole system)\nWants=");
    if (c->postgres)
        buf_puts(&b, "scaleout-postgres.service ");
    for (long long i = 1; i <= replicas; i++)
        buf_printf(&b, "scaleout-pg-replica-%lld.service ", i);
    if (proxy)
        buf_puts(&b, "scaleout-pg-proxy.service ");
    buf_puts(&b, buf_head(&kv_units) + 1);
    buf_puts(&b, wsent_units);
    buf_puts(&b, router_units);
    for (long long i = 0; i < c->app_min; i++)
        buf_printf(&b, " scaleout-app@%lld.service", app_port + i);
    for (long long i = 0; i < c->workers; i++)
        buf_printf(&b, " scaleout-worker@%lld.service", i + 1);
    buf_puts(&b, " scaleout-lb.service\n\n[Install]\nWantedBy=multi-user.target\n");
    rc |= put(dir, "scaleout.target", &b, err, errlen);
    buf_deinit(&b);
    buf_deinit(&kv_units);
    return rc;
}

static void meta(struct buf *b, const char *kind, const char *api, const char *name)
{
    buf_printf(b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  labels:\n    app.kubernetes.io/name: %s\n"
                  "    app.kubernetes.io/part-of: scaleout\n",
               api, kind, name, name);
}

static void service(struct buf *b, const char *name, int port, bool headless)
{
    buf_puts(b, "---\n");
    meta(b, "Service", "v1", name);
    buf_printf(b, "spec:\n%s  selector:\n    app.kubernetes.io/name: %s\n  ports:\n    - name: main\n      port: %d\n"
                  "      targetPort: %d\n",
               headless ? "  clusterIP: None\n" : "", name, port, port);
}

/* A YAML list of words, each double-quoted. */
static void args_list(struct buf *b, const char *indent, const char *const *words, const char *extra)
{
    for (int i = 0; words[i]; i++) {
        buf_printf(b, "%s- \"", indent);
        for (const char *p = words[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf_putc(b, '\\');
            buf_putc(b, *p);
        }
        buf_puts(b, "\"\n");
    }
    if (extra && *extra) {
        char *copy = xstrdup(extra), *w[64];
        int n = conf_split(copy, w, 64);
        for (int i = 0; i < n; i++)
            buf_printf(b, "%s- \"%s\"\n", indent, w[i]);
        xfree(copy);
    }
}

/* A kv StatefulSet: name, pods, and for replicas the primary's pod name. */
static void k8s_kv(struct buf *b, const struct up_config *c, const char *name, long long pods, const char *replicaof,
                   int port)
{
    meta(b, "StatefulSet", "apps/v1", name);
    buf_printf(b, "spec:\n  serviceName: %s\n  replicas: %lld\n  selector:\n    matchLabels:\n"
                  "      app.kubernetes.io/name: %s\n  template:\n    metadata:\n      labels:\n"
                  "        app.kubernetes.io/name: %s\n    spec:\n      containers:\n        - name: kv\n"
                  "          image: scaleout:latest\n          args:\n",
               name, pods, name, name);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    const char *args[] = {"kv", "--bind", "0.0.0.0", "--port", p, "--maxmemory", c->kv_maxmemory, "--maxmemory-policy",
                          "allkeys-lru", replicaof ? "--replicaof" : NULL, replicaof, p, NULL};
    args_list(b, "            ", args, NULL);
    buf_printf(b, "          ports:\n            - containerPort: %d\n          readinessProbe:\n            tcpSocket:\n"
                  "              port: %d\n",
               port, port);
}

static int emit_k8s(const struct up_config *c, const char *dir, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b);
    int rc = 0;
    const int kv_port = 6379, pg_port = 5432, app_port = 8101, lb_port = 8080, sentinel_port = 26379;
    char conc[24], svc[24], kvaddr[64], pg[256];
    snprintf(conc, sizeof conc, "%lld", c->app_concurrency);
    snprintf(svc, sizeof svc, "%lldms", c->app_service_ms);
    snprintf(kvaddr, sizeof kvaddr, "kv:%d", kv_port);
    const int proxy_port = 6432;
    bool proxy = c->postgres && c->pg_proxy;
    if (proxy)
        snprintf(pg, sizeof pg, "host=pg-proxy port=%d user=postgres dbname=postgres connect_timeout=5", proxy_port);
    else if (c->postgres)
        snprintf(pg, sizeof pg, "host=postgres port=%d user=postgres dbname=postgres connect_timeout=5", pg_port);
    else
        snprintf(pg, sizeof pg, "%s", c->pg_conninfo);

    int nsent = emit_sentinels(c);
    meta(&b, "ConfigMap", "v1", "scaleout");
    const int router_port = 8400;
    bool routed = c->router_shards >= 2;
    if (routed)
        snprintf(kvaddr, sizeof kvaddr, "router:%d", router_port);
    buf_printf(&b, "data:\n  KV: \"%s\"\n  PG: \"%s\"\n  CONCURRENCY: \"%s\"\n  SERVICE_TIME: \"%s\"\n", kvaddr, pg, conc, svc);
    if (routed) /* the workers' kv: shard 1, where the queue's keys are */
        buf_printf(&b, "  QUEUE_KV: \"kv:%d\"\n", kv_port);
    if (nsent) {
        /* the apps and workers ask the sentinels where the kv primary is */
        buf_puts(&b, "  KV_SENTINEL: \"");
        for (int i = 0; i < nsent; i++)
            buf_printf(&b, "%ssentinel-%d.sentinel:%d", i ? "," : "", i, sentinel_port);
        buf_puts(&b, "\"\n");
    }
    rc |= put(dir, "configmap.yaml", &b, err, errlen);

    /* kv: shard 1 is "kv" (+ "kv-replica"), shard S "kv-sS" (+ "kv-sS-replica") */
    int nshards = c->router_shards >= 2 ? (int)c->router_shards : 1;
    for (int sh = 0; sh < nshards; sh++) {
        char base[32], rbase[48], primary[80];
        if (sh == 0)
            snprintf(base, sizeof base, "kv");
        else
            snprintf(base, sizeof base, "kv-s%d", sh + 1);
        snprintf(rbase, sizeof rbase, "%s-replica", base);
        snprintf(primary, sizeof primary, "%s-0.%s", base, base);
        if (sh)
            buf_puts(&b, "---\n");
        k8s_kv(&b, c, base, 1, NULL, kv_port);
        service(&b, base, kv_port, true);
        if (c->kv_replicas > 0) {
            /* replicas of BASE-0 (its stable name through the headless Service) */
            buf_puts(&b, "---\n");
            k8s_kv(&b, c, rbase, c->kv_replicas, primary, kv_port);
            service(&b, rbase, kv_port, true);
        }
    }
    rc |= put(dir, "kv.yaml", &b, err, errlen);
    if (nsent) {
        /* Each sentinel's file is written by an init container: the sentinel
         * wants the primaries' IPs (resolved at start) and announces its pod
         * IP to the others; it writes its state back into the file. */
        struct buf sh_script;
        buf_init(&sh_script);
        for (int sh = 0; sh < nshards; sh++) {
            char base[32];
            snprintf(base, sizeof base, sh ? "kv-s%d" : "kv", sh + 1);
            buf_printf(&sh_script, "until ip%d=$(getent hosts %s-0.%s | cut -d' ' -f1) && [ -n \"$ip%d\" ]; do sleep 1; done; ",
                       sh + 1, base, base, sh + 1);
        }
        buf_printf(&sh_script, "printf 'role sentinel\\nport %d\\nbind 0.0.0.0\\nsentinel announce-ip %%s\\n", sentinel_port);
        for (int sh = 0; sh < nshards; sh++) {
            char m[48];
            snprintf(m, sizeof m, sh ? "%s-s%d" : "%s", EMIT_MASTER, sh + 1);
            buf_printf(&sh_script,
                       "sentinel monitor %s %%s %d %d\\nsentinel down-after-milliseconds %s %lld\\n"
                       "sentinel failover-timeout %s %lld\\n",
                       m, kv_port, nsent / 2 + 1, m, c->sentinel_down_ms, m, c->sentinel_down_ms * 5 + 5000);
        }
        buf_puts(&sh_script, "' \"$POD_IP\"");
        for (int sh = 0; sh < nshards; sh++)
            buf_printf(&sh_script, " \"$ip%d\"", sh + 1);
        buf_puts(&sh_script, " > /data/sentinel.conf");
        buf_putc(&sh_script, 0);
        meta(&b, "StatefulSet", "apps/v1", "sentinel");
        buf_printf(&b, "spec:\n  serviceName: sentinel\n  replicas: %d\n  selector:\n    matchLabels:\n"
                       "      app.kubernetes.io/name: sentinel\n  template:\n    metadata:\n      labels:\n"
                       "        app.kubernetes.io/name: sentinel\n    spec:\n      initContainers:\n"
                       "        - name: config\n          image: scaleout:latest\n"
                       "          env:\n            - name: POD_IP\n              valueFrom:\n                fieldRef:\n"
                       "                  fieldPath: status.podIP\n"
                       "          command:\n",
                   nsent);
        const char *cmd[] = {"/bin/sh", "-c", buf_head(&sh_script), NULL};
        args_list(&b, "            ", cmd, NULL);
        buf_deinit(&sh_script);
        buf_puts(&b, "          volumeMounts:\n            - name: data\n              mountPath: /data\n"
                     "      containers:\n        - name: sentinel\n          image: scaleout:latest\n          args:\n");
        const char *sargs[] = {"sentinel", "--config", "/data/sentinel.conf", NULL};
        args_list(&b, "            ", sargs, NULL);
        buf_printf(&b, "          ports:\n            - containerPort: %d\n          readinessProbe:\n            tcpSocket:\n"
                       "              port: %d\n          volumeMounts:\n            - name: data\n"
                       "              mountPath: /data\n      volumes:\n        - name: data\n          emptyDir: {}\n",
                   sentinel_port, sentinel_port);
        service(&b, "sentinel", sentinel_port, true);
        rc |= put(dir, "sentinel.yaml", &b, err, errlen);
    }
    if (nshards > 1) {
        /* the apps' kv: the router over shards 2..N, the queue's keys on shard 1 */
        meta(&b, "Deployment", "apps/v1", "router");
        buf_puts(&b, "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: router\n"
                     "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: router\n    spec:\n"
                     "      containers:\n        - name: router\n          image: scaleout:latest\n          args:\n");
        char listen[32];
        snprintf(listen, sizeof listen, "0.0.0.0:%d", router_port);
        const char *rargs[] = {"router", "--listen", listen, NULL};
        args_list(&b, "            ", rargs, NULL);
        for (int i = 0; i < nsent; i++) {
            char sa[64];
            snprintf(sa, sizeof sa, "sentinel-%d.sentinel:%d", i, sentinel_port);
            const char *w[] = {"--sentinel", sa, NULL};
            args_list(&b, "            ", w, NULL);
        }
        for (int sh = 1; sh < nshards; sh++) {
            char shard[160];
            snprintf(shard, sizeof shard, "kv-s%d-0.kv-s%d:%d name s%d master %s-s%d", sh + 1, sh + 1, kv_port, sh + 1,
                     EMIT_MASTER, sh + 1);
            const char *w[] = {"--shard", shard, NULL};
            args_list(&b, "            ", w, NULL);
        }
        char q[160];
        snprintf(q, sizeof q, "kv-0.kv:%d name q1 master %s", kv_port, EMIT_MASTER);
        const char *w[] = {"--pool", "queue", "--prefix", "queue: job: jobs: worker:", "--shard", q, NULL};
        args_list(&b, "            ", w, NULL);
        buf_printf(&b, "          ports:\n            - containerPort: %d\n          readinessProbe:\n            tcpSocket:\n"
                       "              port: %d\n",
                   router_port, router_port);
        service(&b, "router", router_port, false);
        rc |= put(dir, "router.yaml", &b, err, errlen);
    }

    if (c->postgres) {
        meta(&b, "StatefulSet", "apps/v1", "postgres");
        buf_printf(&b, "spec:\n  serviceName: postgres\n  replicas: 1\n  selector:\n    matchLabels:\n"
                       "      app.kubernetes.io/name: postgres\n  template:\n    metadata:\n      labels:\n"
                       "        app.kubernetes.io/name: postgres\n    spec:\n      containers:\n"
                       "        - name: postgres\n          image: postgres:15\n          env:\n"
                       "            - name: POSTGRES_HOST_AUTH_METHOD\n              value: trust\n"
                       "            - name: PGDATA\n              value: /var/lib/postgresql/data/pgdata\n"
                       "          ports:\n            - containerPort: %d\n          readinessProbe:\n"
                       "            exec:\n              command: [\"pg_isready\", \"-U\", \"postgres\"]\n"
                       "          volumeMounts:\n            - name: data\n              mountPath: /var/lib/postgresql/data\n"
                       "%s"
                       "  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n"
                       "        accessModes: [\"ReadWriteOnce\"]\n        resources:\n          requests:\n"
                       "            storage: 1Gi\n",
                   pg_port,
                   c->pg_replicas > 0 ? "            - name: init\n              mountPath: /docker-entrypoint-initdb.d\n"
                                        "      volumes:\n        - name: init\n          configMap:\n"
                                        "            name: postgres-init\n"
                                      : "");
        service(&b, "postgres", pg_port, true);
        if (c->pg_replicas > 0) {
            /* the image's pg_hba trusts every database but not replication:
             * a first-start script adds it, for pg_basebackup and streaming */
            buf_puts(&b, "---\n");
            meta(&b, "ConfigMap", "v1", "postgres-init");
            buf_puts(&b, "data:\n  replication.sh: |\n"
                         "    echo \"host replication all all trust\" >> \"$PGDATA/pg_hba.conf\"\n");
            buf_puts(&b, "---\n");
            meta(&b, "StatefulSet", "apps/v1", "postgres-replica");
            buf_printf(&b, "spec:\n  serviceName: postgres-replica\n  replicas: %lld\n  selector:\n    matchLabels:\n"
                           "      app.kubernetes.io/name: postgres-replica\n  template:\n    metadata:\n      labels:\n"
                           "        app.kubernetes.io/name: postgres-replica\n    spec:\n"
                           "      securityContext:\n        fsGroup: 999\n"
                           "      initContainers:\n        - name: basebackup\n          image: postgres:15\n"
                           "          securityContext:\n            runAsUser: 999\n"
                           "          env:\n            - name: PGDATA\n              value: /var/lib/postgresql/data/pgdata\n"
                           "          command:\n            - \"/bin/sh\"\n            - \"-c\"\n"
                           "            - \"test -f $PGDATA/PG_VERSION || until pg_basebackup -h postgres -p %d -U postgres "
                           "-D $PGDATA -X stream -R; do rm -rf $PGDATA; sleep 2; done\"\n"
                           "          volumeMounts:\n            - name: data\n              mountPath: /var/lib/postgresql/data\n"
                           "      containers:\n        - name: postgres\n          image: postgres:15\n"
                           "          args: [\"postgres\", \"-c\", \"hot_standby=on\", \"-c\", \"wal_retrieve_retry_interval=500ms\"]\n"
                           "          env:\n            - name: PGDATA\n              value: /var/lib/postgresql/data/pgdata\n"
                           "          ports:\n            - containerPort: %d\n          readinessProbe:\n"
                           "            exec:\n              command: [\"pg_isready\", \"-U\", \"postgres\"]\n"
                           "          volumeMounts:\n            - name: data\n              mountPath: /var/lib/postgresql/data\n"
                           "  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n"
                           "        accessModes: [\"ReadWriteOnce\"]\n        resources:\n          requests:\n"
                           "            storage: 1Gi\n",
                       c->pg_replicas, pg_port, pg_port);
            service(&b, "postgres-replica", pg_port, false);
        }
        rc |= put(dir, "postgres.yaml", &b, err, errlen);
    }
    if (proxy) {
        meta(&b, "Deployment", "apps/v1", "pg-proxy");
        buf_puts(&b, "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: pg-proxy\n"
                       "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: pg-proxy\n    spec:\n"
                       "      containers:\n        - name: pg-proxy\n          image: scaleout:latest\n          args:\n");
        char listen[32], primary[32];
        snprintf(listen, sizeof listen, "0.0.0.0:%d", proxy_port);
        snprintf(primary, sizeof primary, "postgres:%d", pg_port);
        char replica[48];
        snprintf(replica, sizeof replica, "postgres-replica:%d", pg_port);
        const char *pargs[] = {"pg", "--listen", listen, "--primary", primary, "--auth-type", "trust",
                               c->pg_replicas > 0 ? "--replica" : NULL, replica, NULL};
        args_list(&b, "            ", pargs, c->pg_proxy_args);
        buf_printf(&b, "          ports:\n            - containerPort: %d\n          readinessProbe:\n            tcpSocket:\n"
                       "              port: %d\n",
                   proxy_port, proxy_port);
        service(&b, "pg-proxy", proxy_port, false);
        rc |= put(dir, "pg-proxy.yaml", &b, err, errlen);
    }

    meta(&b, "Deployment", "apps/v1", "app");
    buf_printf(&b, "spec:\n  replicas: %lld\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: app\n"
                   "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: app\n    spec:\n"
                   "      containers:\n        - name: app\n          image: scaleout:latest\n"
                   "          envFrom:\n            - configMapRef:\n                name: scaleout\n          args:\n",
               c->app_min);
    const char *appargs[] = {"app", "--bind", "0.0.0.0", "--port", "8101", "--kv", "$(KV)", "--pg", "$(PG)",
                             "--concurrency", "$(CONCURRENCY)", "--service-time", "$(SERVICE_TIME)", NULL};
    const char *sentargs[] = {"--kv-sentinel", "$(KV_SENTINEL)", "--kv-master-name", EMIT_MASTER, NULL};
    args_list(&b, "            ", appargs, NULL);
    if (routed) {
        const char *rt[] = {"--kv-router", "yes", NULL};
        args_list(&b, "            ", rt, NULL);
    } else if (nsent) {
        args_list(&b, "            ", sentargs, NULL);
        const char *wait[] = {"--kv-wait-replicas", "1", NULL};
        args_list(&b, "            ", wait, NULL);
    }
    args_list(&b, "            ", (const char *const[]){NULL}, c->app_args);
    buf_printf(&b, "          ports:\n            - containerPort: %d\n          readinessProbe:\n            httpGet:\n"
                   "              path: /health\n              port: %d\n          resources:\n            requests:\n"
                   "              cpu: 250m\n",
               app_port, app_port);
    service(&b, "app", app_port, false);
    buf_puts(&b, "---\n");
    meta(&b, "HorizontalPodAutoscaler", "autoscaling/v2", "app");
    buf_printf(&b, "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: app\n"
                   "  minReplicas: %lld\n  maxReplicas: %lld\n  metrics:\n    - type: Resource\n      resource:\n"
                   "        name: cpu\n        target:\n          type: Utilization\n          averageUtilization: 70\n"
                   "  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: %lld\n",
               c->app_min, c->app_max, c->scale_down_after_ms / 1000);
    rc |= put(dir, "app.yaml", &b, err, errlen);

    meta(&b, "Deployment", "apps/v1", "worker");
    buf_printf(&b, "spec:\n  replicas: %lld\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: worker\n"
                   "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: worker\n    spec:\n"
                   "      containers:\n        - name: worker\n          image: scaleout:latest\n"
                   "          envFrom:\n            - configMapRef:\n                name: scaleout\n          args:\n",
               c->workers);
    const char *wargs[] = {"worker", "--kv", routed ? "$(QUEUE_KV)" : "$(KV)", NULL};
    args_list(&b, "            ", wargs, NULL);
    if (nsent)
        args_list(&b, "            ", sentargs, NULL);
    args_list(&b, "            ", (const char *const[]){NULL}, c->worker_args);
    rc |= put(dir, "worker.yaml", &b, err, errlen);

    meta(&b, "Deployment", "apps/v1", "lb");
    buf_printf(&b, "spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: lb\n"
                   "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: lb\n    spec:\n"
                   "      containers:\n        - name: lb\n          image: scaleout:latest\n          args:\n");
    char listen[32], backend[32], retries[16];
    snprintf(listen, sizeof listen, "0.0.0.0:%d", lb_port);
    snprintf(backend, sizeof backend, "app:%d", app_port);
    snprintf(retries, sizeof retries, "%lld", c->lb_retries);
    const char *lbargs[] = {"lb", "--listen", listen, "--backend", backend, "--balance", c->lb_balance, "--health",
                            "/health", "--retries", retries, NULL};
    args_list(&b, "            ", lbargs, NULL);
    buf_printf(&b, "          ports:\n            - containerPort: %d\n          readinessProbe:\n            tcpSocket:\n"
                   "              port: %d\n",
               lb_port, lb_port);
    service(&b, "lb", lb_port, false);
    rc |= put(dir, "lb.yaml", &b, err, errlen);
    buf_deinit(&b);
    return rc;
}

int up_emit(const struct up_config *c, const char *kind, const char *dir, const char *bin)
{
    char err[512];
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) /* mkdir -p */
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "scaleout up: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int rc;
    if (strcmp(kind, "systemd") == 0)
        rc = emit_systemd(c, bin, dir, err, sizeof err);
    else if (strcmp(kind, "k8s") == 0)
        rc = emit_k8s(c, dir, err, sizeof err);
    else {
        fprintf(stderr, "scaleout up: --emit takes systemd or k8s, not '%s'\n", kind);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "scaleout up: %s\n", err);
        return 1;
    }
    printf("wrote the %s topology to %s (see docs/deploy.md)\n", kind, dir);
    return 0;
}
