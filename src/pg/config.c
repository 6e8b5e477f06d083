/*
 * config.c — the pg directive table. One row per directive serves the config
 * file, the --flags, `scaleout check` and --help (core/config). Names follow
 * pgbouncer.ini where PgBouncer has the same setting (pool_mode → pool-mode).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "net/balance.h"
#include "pg/pg.h"

#define OFF(f) offsetof(struct pg_config, f)

static const struct conf_enum pool_modes[] = {
    {"session", PG_POOL_SESSION}, {"transaction", PG_POOL_TRANSACTION}, {NULL, 0},
};
static const struct conf_enum auth_types[] = {
    {"trust", PG_AUTH_TRUST}, {"md5", PG_AUTH_TYPE_MD5}, {"scram-sha-256", PG_AUTH_TYPE_SCRAM}, {NULL, 0},
};

static bool good_addr(const char *s, char *err, size_t errlen)
{
    char host[128];
    int port;
    if (!net_split_hostport(s, host, sizeof host, &port) || port <= 0 || port > 65535) {
        snprintf(err, errlen, "'%s' is not host:port", s);
        return false;
    }
    return true;
}

static int parse_replica(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct pg_config *c = conf;
    if (argc < 1) {
        snprintf(err, errlen, "'replica' takes host:port ...");
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "weight=", 7) == 0) {
            long long w;
            if (c->nreplicas == 0 || !util_str2ll(argv[i] + 7, strlen(argv[i] + 7), &w) || w < 1 || w > 1000) {
                snprintf(err, errlen, "'%s': weight=N (1..1000) follows a replica's address", argv[i]);
                return -1;
            }
            c->replica_weights[c->nreplicas - 1] = w;
            continue;
        }
        if (!good_addr(argv[i], err, errlen))
            return -1;
        if (c->nreplicas >= PG_MAX_REPLICAS) {
            snprintf(err, errlen, "at most %d replicas", PG_MAX_REPLICAS);
            return -1;
        }
        c->replica_weights[c->nreplicas] = 1;
        c->replicas[c->nreplicas++] = xstrdup(argv[i]);
    }
    return 0;
}

static void format_replica(const void *conf, struct buf *out)
{
    const struct pg_config *c = conf;
    for (int i = 0; i < c->nreplicas; i++)
        buf_printf(out, c->replica_weights[i] != 1 ? "%s%s weight=%lld" : "%s%s", i ? " " : "", c->replicas[i],
                   c->replica_weights[i]);
}

static int parse_database(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct pg_config *c = conf;
    if (argc < 1 || argc > 2) {
        snprintf(err, errlen, "'database' takes NAME [SERVER-DBNAME]");
        return -1;
    }
    if (c->ndatabases >= PG_MAX_DATABASES) {
        snprintf(err, errlen, "at most %d databases", PG_MAX_DATABASES);
        return -1;
    }
    for (int i = 0; i < c->ndatabases; i++)
        if (strcmp(c->databases[i].name, argv[0]) == 0) {
            snprintf(err, errlen, "database '%s' is defined twice", argv[0]);
            return -1;
        }
    c->databases[c->ndatabases].name = xstrdup(argv[0]);
    c->databases[c->ndatabases].dbname = xstrdup(argc == 2 ? argv[1] : argv[0]);
    c->ndatabases++;
    return 0;
}

static void format_database(const void *conf, struct buf *out)
{
    const struct pg_config *c = conf;
    for (int i = 0; i < c->ndatabases; i++)
        buf_printf(out, "%s%s %s", i ? "; " : "", c->databases[i].name, c->databases[i].dbname);
}

#define DAY_MS (86400LL * 1000)

static int shard_addr(struct pg_shard_map *m, const char *addr, char *err, size_t errlen)
{
    for (int i = 0; i < m->nshards; i++)
        if (strcmp(m->addrs[i], addr) == 0)
            return i;
    if (!good_addr(addr, err, errlen))
        return -1;
    if (m->nshards >= PG_MAX_SHARDS) {
        snprintf(err, errlen, "at most %d shards per database", PG_MAX_SHARDS);
        return -1;
    }
    m->addrs[m->nshards] = xstrdup(addr);
    return m->nshards++;
}

/* shard-map DB hash ADDR...
 * shard-map DB range ADDR [BOUND ADDR]...   (increasing integer bounds)
 * shard-map DB directory KEY=ADDR... [*=ADDR]  (repeat the line to add keys) */
static int parse_shard_map(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct pg_config *c = conf;
    if (argc < 3) {
        snprintf(err, errlen, "'shard-map' takes DB hash|range|directory ...");
        return -1;
    }
    struct pg_shard_map *m = pg_shard_map_find(c, argv[0]);
    bool is_dir = strcmp(argv[1], "directory") == 0;
    if (m && !(is_dir && m->kind == PG_SHARD_DIRECTORY)) {
        snprintf(err, errlen, "database '%s' has a shard map already", argv[0]);
        return -1;
    }
    if (!m) {
        if (c->nshard_maps >= PG_MAX_SHARD_MAPS) {
            snprintf(err, errlen, "at most %d shard maps", PG_MAX_SHARD_MAPS);
            return -1;
        }
        m = &c->shard_maps[c->nshard_maps];
        memset(m, 0, sizeof *m);
        m->dir_default = -1;
        if (strcmp(argv[1], "hash") == 0)
            m->kind = PG_SHARD_HASH;
        else if (strcmp(argv[1], "range") == 0)
            m->kind = PG_SHARD_RANGE;
        else if (is_dir)
            m->kind = PG_SHARD_DIRECTORY;
        else {
            snprintf(err, errlen, "shard map kind must be hash, range or directory, not '%s'", argv[1]);
            return -1;
        }
        m->database = xstrdup(argv[0]);
        c->nshard_maps++;
    }
    if (m->kind == PG_SHARD_HASH) {
        for (int i = 2; i < argc; i++)
            if (shard_addr(m, argv[i], err, errlen) < 0)
                return -1;
        return 0;
    }
    if (m->kind == PG_SHARD_RANGE) {
        if (argc % 2 != 1) {
            snprintf(err, errlen, "range: ADDR [BOUND ADDR]...");
            return -1;
        }
        for (int i = 2; i < argc; i += 2) {
            int before = m->nshards;
            if (i > 2) {
                long long v;
                if (!util_str2ll(argv[i - 1], strlen(argv[i - 1]), &v) || (before > 1 && v <= m->bounds[before - 1])) {
                    snprintf(err, errlen, "range: '%s' is not an integer above the previous bound", argv[i - 1]);
                    return -1;
                }
                m->bounds[before] = v;
            }
            if (shard_addr(m, argv[i], err, errlen) < 0)
                return -1;
            if (m->nshards == before) {
                snprintf(err, errlen, "range: '%s' appears twice", argv[i]);
                return -1;
            }
        }
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        char *eq = strrchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            snprintf(err, errlen, "directory: KEY=ADDR, not '%s'", argv[i]);
            return -1;
        }
        *eq = '\0';
        int sh = shard_addr(m, eq + 1, err, errlen);
        if (sh < 0)
            return -1;
        if (strcmp(argv[i], "*") == 0) {
            m->dir_default = sh;
            continue;
        }
        m->dir = xrealloc(m->dir, (size_t)(m->ndir + 1) * sizeof *m->dir);
        m->dir[m->ndir].key = xstrdup(argv[i]);
        m->dir[m->ndir].shard = sh;
        m->ndir++;
    }
    return 0;
}

static void format_shard_map(const void *conf, struct buf *out)
{
    const struct pg_config *c = conf;
    static const char *const kinds[] = {"hash", "range", "directory"};
    for (int i = 0; i < c->nshard_maps; i++) {
        const struct pg_shard_map *m = &c->shard_maps[i];
        buf_printf(out, "%s%s %s", i ? "; " : "", m->database, kinds[m->kind]);
        for (int k = 0; k < m->nshards; k++)
            buf_printf(out, " %s", m->addrs[k]);
    }
}

/* read-your-writes off | lsn | window | DURATION (a window that long; 0 = off) */
static int parse_ryw(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct pg_config *c = conf;
    long long ms;
    if (argc != 1) {
        snprintf(err, errlen, "'read-your-writes' takes off, lsn, window or a duration");
        return -1;
    }
    if (strcmp(argv[0], "off") == 0 || strcmp(argv[0], "no") == 0) {
        c->read_your_writes = PG_RYW_OFF;
    } else if (strcmp(argv[0], "lsn") == 0) {
        c->read_your_writes = PG_RYW_LSN;
    } else if (strcmp(argv[0], "window") == 0) {
        c->read_your_writes = PG_RYW_WINDOW;
    } else if (util_parse_duration_ms(argv[0], &ms) && ms >= 0 && ms <= DAY_MS) {
        c->read_your_writes = ms > 0 ? PG_RYW_WINDOW : PG_RYW_OFF;
        if (ms > 0)
            c->read_your_writes_ms = ms;
    } else {
        snprintf(err, errlen, "'read-your-writes' must be off, lsn, window or a duration, not '%s'", argv[0]);
        return -1;
    }
    return 0;
}

/* balance ALGORITHM: one of src/net's balancers that needs no HTTP request */
static int parse_balance(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct pg_config *c = conf;
    int i = argc == 1 ? net_balance_find(argv[0]) : -1;
    if (i < 0 || (net_balancers[i]->flags & NET_BAL_L7)) {
        snprintf(err, errlen, "'balance' must be one of roundrobin wrr leastconn p2c hash chash");
        return -1;
    }
    c->balance = i;
    return 0;
}

static void format_balance(const void *conf, struct buf *out)
{
    buf_puts(out, net_balancers[((const struct pg_config *)conf)->balance]->name);
}

static void format_ryw(const void *conf, struct buf *out)
{
    const struct pg_config *c = conf;
    buf_puts(out, c->read_your_writes == PG_RYW_LSN ? "lsn" : c->read_your_writes == PG_RYW_WINDOW ? "window" : "off");
}

static const struct conf_directive pg_dirs[] = {
    CONF_ROW_STRING("listen", OFF(listen), "127.0.0.1:6432", 0, "address clients connect to (host:port)"),
    CONF_ROW_STRING("primary", OFF(primary), "127.0.0.1:5432", 0,
                    "the primary PostgreSQL server (host:port, or /socket-dir:port: its Unix-domain socket)"),
    {"replica", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "a streaming replica (host:port or /socket-dir:port [weight=N]); repeat or list several; reads go there", 0,
     parse_replica, format_replica},
    {"balance", CONF_CUSTOM, 0, 0, 0, "roundrobin", NULL, 0,
     "how reads spread over the replicas: roundrobin, wrr (replica ADDR weight=N), leastconn (fewest transactions in "
     "flight), p2c, hash or chash (of the client: its reads stay on one replica)", 0, parse_balance, format_balance},
    CONF_ROW_INT("primary-read-weight", OFF(primary_read_weight), 0, 1000000, "0", 0,
                 "the primary's weight among the servers that take reads, next to the replicas' weight=N (0: reads go "
                 "to the primary only when no replica is usable; read at start)"),
    {"database", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "NAME [SERVER-DBNAME]: a database clients may ask for (none listed: any name passes)", 0, parse_database,
     format_database},
    {"shard-map", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "DB hash ADDR... | DB range ADDR [BOUND ADDR]... | DB directory KEY=ADDR... [*=ADDR]: the database (its name on "
     "the servers) is split over these primaries; statements need a shard key (transaction mode)", 0, parse_shard_map,
     format_shard_map},
    CONF_ROW_BOOL("fanout-reads", OFF(fanout_reads), "no", 0,
        "on a sharded database, a read-only simple query without a shard key runs on every shard (rows concatenated)"),
    CONF_ROW_ENUM("pool-mode", OFF(pool_mode), "transaction", pool_modes, 0,
        "session: a client keeps its server until it leaves; transaction: a server per transaction"),
    CONF_ROW_INT("pool-size", OFF(pool_size), 1, 10000, "20", 0,
        "server connections per (user, database) pool and backend"),
    CONF_ROW_INT("reserve-pool-size", OFF(reserve_pool_size), 0, 10000, "0", 0,
        "extra server connections a pool may open for clients that waited reserve-pool-timeout"),
    CONF_ROW_DURATION("reserve-pool-timeout", OFF(reserve_pool_timeout_ms), 0, DAY_MS, "5", 1000, 0,
        "how long the first client in a queue waits before the reserve is used"),
    CONF_ROW_INT("max-client-conn", OFF(max_client_conn), 1, 1000000, "1000", 0, "client connections accepted at once"),
    CONF_ROW_DURATION("query-wait-timeout", OFF(query_wait_timeout_ms), 0, DAY_MS, "120", 1000, 0,
        "longest wait in the queue for a server connection (0 = forever); then SQLSTATE 53300"),
    CONF_ROW_DURATION("client-idle-timeout", OFF(client_idle_timeout_ms), 0, DAY_MS, "0", 1000, 0,
        "close clients idle this long outside a transaction (0 = never)"),
    CONF_ROW_DURATION("client-login-timeout", OFF(client_login_timeout_ms), 0, DAY_MS, "60", 1000, 0,
        "close clients that have not logged in after this long"),
    CONF_ROW_DURATION("server-idle-timeout", OFF(server_idle_timeout_ms), 0, DAY_MS, "600", 1000, 0,
        "close pooled server connections idle this long (0 = never)"),
    CONF_ROW_DURATION("stats-period", OFF(stats_period_ms), 1000, DAY_MS, "60", 1000, 0,
        "the averages of SHOW STATS, STATS_AVERAGES and TOTALS are over this period (PgBouncer's stats_period)"),
    CONF_ROW_DURATION("server-connect-timeout", OFF(server_connect_timeout_ms), 100, DAY_MS, "15", 1000, 0,
        "give up on a server connection that has not logged in after this long"),
    CONF_ROW_DURATION("replica-retry", OFF(replica_retry_ms), 0, DAY_MS, "5", 1000, 0,
        "after a replica fails to connect, send its reads to the primary for this long"),
    {"read-your-writes", CONF_CUSTOM, 0, 0, 0, "off", NULL, 0,
     "after a client's write its reads go to the primary: off; lsn (until a replica replayed the write); window "
     "(read-your-writes-window); or a duration (a window that long)", 0, parse_ryw, format_ryw},
    CONF_ROW_DURATION("read-your-writes-window", OFF(read_your_writes_ms), 0, DAY_MS, "2s", 1000, 0,
        "the window of read-your-writes window"),
    CONF_ROW_DURATION("replica-max-lag", OFF(replica_max_lag_ms), 0, DAY_MS, "10s", 1000, 0,
        "a replica whose replay lags more than this gets no reads until it catches up (0 = no check)"),
    CONF_ROW_DURATION("replica-check-interval", OFF(replica_check_interval_ms), 100, DAY_MS, "1s", 1000, 0,
        "how often replica lag is measured (on a pooled server connection of the replica)"),
    CONF_ROW_DURATION("failover-timeout", OFF(failover_timeout_ms), 0, DAY_MS, "0", 1000, 0,
        "after the primary refuses connections this long, promote the least lagging replica with pg_promote() (0 = "
        "never)"),
    CONF_ROW_STRING("failover-user", OFF(failover_user), "", 0,
        "a user of the auth-file (a superuser, or granted pg_promote and ALTER SYSTEM on primary_conninfo) as whom "
        "the proxy promotes and repoints replicas, on database postgres (empty: the user of a client pool)"),
    CONF_ROW_STRING("failover-conninfo", OFF(failover_conninfo), "", 0,
        "primary_conninfo given to the other replicas after a failover, host and port set to the new primary's "
        "(empty: each replica's own primary_conninfo with host and port replaced)"),
    CONF_ROW_STRING("state-file", OFF(state_file), "", 0,
        "file that keeps the failover state (the promoted primary, the fenced old one) across restarts (empty: none)"),
    CONF_ROW_DURATION("shutdown-timeout", OFF(shutdown_timeout_ms), 0, DAY_MS, "10", 1000, 0,
        "on SIGTERM, wait this long for transactions in flight before closing"),
    CONF_ROW_ENUM("auth-type", OFF(auth_type), "md5", auth_types, 0,
        "how clients prove who they are: trust, md5 or scram-sha-256"),
    CONF_ROW_STRING("auth-file", OFF(auth_file), "", 0,
        "user list in PgBouncer's userlist.txt form (\"user\" \"password\"); also the passwords for the servers"),
    CONF_ROW_STRING("auth-user", OFF(auth_user), "", 0,
        "a user of the auth-file as whom auth-query runs for clients not in the auth-file (empty: off)"),
    CONF_ROW_STRING("auth-query", OFF(auth_query), "SELECT usename, passwd FROM pg_shadow WHERE usename=$1", 0,
        "fetches a client's md5 hash or SCRAM secret from the primary ($1: the user name; second column: the secret)"),
    CONF_ROW_STRING("ignore-startup-parameters", OFF(ignore_startup_parameters), "", 0,
        "startup parameters dropped (comma-separated); every other one is SET on the client's server connections"),
    CONF_ROW_STRING("client-tls-cert", OFF(client_tls_cert), "", 0,
        "PEM certificate (chain) for clients' TLS: SSLRequest is answered 'S' (empty: 'N', no TLS)"),
    CONF_ROW_STRING("client-tls-key", OFF(client_tls_key), "", 0, "PEM private key of client-tls-cert"),
    CONF_ROW_BOOL("client-tls-required", OFF(client_tls_required), "no", 0,
        "refuse clients that do not ask for TLS (FATAL 28000)"),
    CONF_ROW_STRING("server-reset-query", OFF(server_reset_query), "DISCARD ALL", 0,
        "run on a server connection before a session-mode client's server is pooled again (empty: none)"),
    CONF_ROW_STRING("admin-users", OFF(admin_users), "", 0,
        "users (comma-separated) who may log in to the admin console, database \"pgbouncer\" or \"scaleout\" (empty: "
        "none)"),
    CONF_ROW_BOOL("read-write-split", OFF(read_write_split), "yes", 0,
        "send read-only statements outside transactions to replicas (transaction mode)"),
    CONF_ROW_MEMORY("max-message-size", OFF(max_message_size), 1024, 1LL << 30, "16mb", 0,
        "largest client message held whole for routing (larger: SQLSTATE 54000)"),
    CONF_ROW_INT("admin-port", OFF(admin_port), -1, 65535, "-1", 0,
        "HTTP port for /metrics and /status (-1: listen port + 10000, 0: off)"),
    CONF_ROW_STRING("admin-bind", OFF(admin_bind), "127.0.0.1", 0, "address of the admin endpoint"),
    CONF_PROCESS_ROWS(struct pg_config, 0),
    CONF_END,
};

const struct conf_table pg_conf_table = {"pg", pg_dirs, sizeof(struct pg_config), NULL};

void pg_config_free(struct pg_config *c)
{
    for (int i = 0; i < c->nreplicas; i++)
        xfree(c->replicas[i]);
    for (int i = 0; i < c->ndatabases; i++) {
        xfree(c->databases[i].name);
        xfree(c->databases[i].dbname);
    }
    for (int i = 0; i < c->nshard_maps; i++) {
        struct pg_shard_map *m = &c->shard_maps[i];
        xfree(m->database);
        for (int k = 0; k < m->nshards; k++)
            xfree(m->addrs[k]);
        for (int k = 0; k < m->ndir; k++)
            xfree(m->dir[k].key);
        xfree(m->dir);
    }
    c->nshard_maps = 0;
    c->nreplicas = c->ndatabases = 0;
    conf_free(&pg_conf_table, c);
}

/* `scaleout check` for pg: the table, then cross-checks (addresses, auth file). */
int pg_config_check(const char *path, struct buf *errs)
{
    struct pg_config c;
    memset(&c, 0, sizeof c);
    conf_defaults(&pg_conf_table, &c);
    int n = conf_load_file(&pg_conf_table, &c, path, errs);
    if (n >= 0) { /* cross-checks too, so that every error is reported at once */
        char err[256];
        if (!good_addr(c.listen, err, sizeof err)) {
            buf_printf(errs, "%s: listen: %s\n", path, err);
            n++;
        }
        if (!good_addr(c.primary, err, sizeof err)) {
            buf_printf(errs, "%s: primary: %s\n", path, err);
            n++;
        }
        if (c.auth_type != PG_AUTH_TRUST && !c.auth_file[0]) {
            buf_printf(errs, "%s: auth-type md5 and scram-sha-256 need an auth-file\n", path);
            n++;
        }
        if (c.nshard_maps > 0 && c.pool_mode != PG_POOL_TRANSACTION) {
            buf_printf(errs, "%s: shard-map needs pool-mode transaction\n", path);
            n++;
        }
        if (!c.client_tls_cert[0] != !c.client_tls_key[0] || (c.client_tls_required && !c.client_tls_cert[0])) {
            buf_printf(errs, "%s: client TLS needs both client-tls-cert and client-tls-key\n", path);
            n++;
        }
        if (c.auth_user[0] && c.auth_type == PG_AUTH_TRUST) {
            buf_printf(errs, "%s: auth-user needs auth-type md5 or scram-sha-256\n", path);
            n++;
        }
        if (c.auth_file[0]) {
            struct pg_userlist ul;
            int r = pg_userlist_load(c.auth_file, &ul, errs);
            n += r < 0 ? 1 : r;
            pg_userlist_free(&ul);
        }
    }
    pg_config_free(&c);
    return n;
}
