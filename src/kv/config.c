/*
 * config.c — the kv directive table. One row per directive serves the config
 * file, the --flags, `scaleout check`, CONFIG GET/SET and --help (core/config).
 * Names and meanings follow redis.conf wherever Redis has the same setting.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/evict.h"
#include "kv/latency.h"
#include "kv/pubsub.h"
#include "kv/server.h"
#include "kv/aof.h"

#define OFF(f) offsetof(struct kv_config, f)

static const struct conf_enum pubsub_default_names[] = {{"allchannels", 1}, {"resetchannels", 0}, {NULL, 0}};

/* `user <name> <rules...>`: checked now (Redis's "Error in user declaration"),
 * created at start (acl.c). */
static int parse_user(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct kv_config *c = conf;
    if (argc < 1) {
        snprintf(err, errlen, "'user' takes a name and rules");
        return -1;
    }
    char msg[512];
    if (!kv_acl_rules_ok(argc, argv, msg, sizeof msg)) {
        snprintf(err, errlen, "Error in user declaration '%s': %s", argv[0], msg);
        return -1;
    }
    struct buf b;
    buf_init(&b);
    if (c->users)
        buf_puts(&b, c->users);
    for (int i = 0; i < argc; i++) {
        buf_puts(&b, argv[i]);
        buf_putc(&b, i + 1 < argc ? ' ' : '\n');
    }
    buf_putc(&b, '\0');
    xfree(c->users);
    c->users = xstrdup(buf_head(&b));
    buf_deinit(&b);
    return 0;
}

static void format_user(const void *conf, struct buf *out)
{
    (void)conf; /* as Redis: users are not a setting CONFIG GET shows (ACL LIST does) */
    (void)out;
}

static const struct conf_enum diskless_load_names[] = {
    {"disabled", KV_DISKLESS_LOAD_DISABLED}, {"on-empty-db", KV_DISKLESS_LOAD_ON_EMPTY_DB},
    {"swapdb", KV_DISKLESS_LOAD_SWAPDB}, {NULL, 0},
};

/* client-output-buffer-limit <class> <hard> <soft> <soft-seconds> [<class> ...]:
 * classes normal, replica (alias slave: no replicas yet, kept for CONFIG
 * GET/SET) and pubsub (clients with subscriptions); a class not named keeps
 * its values, as in Redis. */
static int parse_obl(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct kv_config *c = conf;
    if (argc == 0 || argc % 4 != 0) {
        snprintf(err, errlen, "'client-output-buffer-limit' takes <class> <hard> <soft> <soft-seconds>, repeated");
        return -1;
    }
    struct kv_obl next[3] = {c->obl, c->obl_replica, c->obl_pubsub};
    for (int i = 0; i < argc; i += 4) {
        const char *cls = argv[i];
        int k;
        if (strcasecmp(cls, "normal") == 0)
            k = 0;
        else if (strcasecmp(cls, "replica") == 0 || strcasecmp(cls, "slave") == 0)
            k = 1;
        else if (strcasecmp(cls, "pubsub") == 0)
            k = 2;
        else {
            snprintf(err, errlen, "unknown client class '%s' (normal, replica, pubsub)", cls);
            return -1;
        }
        unsigned long long hard, soft;
        long long secs;
        if (!util_parse_memory(argv[i + 1], &hard) || !util_parse_memory(argv[i + 2], &soft) ||
            !util_str2ll(argv[i + 3], strlen(argv[i + 3]), &secs) || secs < 0) {
            snprintf(err, errlen, "bad client-output-buffer-limit values '%s %s %s'", argv[i + 1], argv[i + 2], argv[i + 3]);
            return -1;
        }
        next[k] = (struct kv_obl){hard, soft, secs};
    }
    c->obl = next[0];
    c->obl_replica = next[1];
    c->obl_pubsub = next[2];
    return 0;
}

/* Redis's CONFIG GET form: bytes, "slave" for the replica class. */
static void format_obl(const void *conf, struct buf *out)
{
    const struct kv_config *c = conf;
    buf_printf(out, "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld", c->obl.hard, c->obl.soft,
               c->obl.soft_seconds, c->obl_replica.hard, c->obl_replica.soft, c->obl_replica.soft_seconds,
               c->obl_pubsub.hard, c->obl_pubsub.soft, c->obl_pubsub.soft_seconds);
}

/* notify-keyspace-events: Redis's flag letters; CONFIG GET shows them normalised. */
static int parse_notify(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct kv_config *c = conf;
    int f = argc == 0 ? 0 : argc == 1 ? kv_notify_parse(argv[0], strlen(argv[0])) : -1;
    if (f < 0) {
        snprintf(err, errlen, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
        return -1;
    }
    c->notify_keyspace_events = f;
    return 0;
}

static void format_notify(const void *conf, struct buf *out)
{
    char s[16];
    kv_notify_format(((const struct kv_config *)conf)->notify_keyspace_events, s);
    buf_puts(out, s);
}

static int parse_percentiles(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct kv_config *c = conf;
    double p[16];
    int n = kv_latency_parse_percentiles((const char *const *)argv, argc, p, 16, err, errlen);
    if (n < 0)
        return -1;
    memcpy(c->latency_percentiles, p, sizeof p);
    c->latency_npercentiles = n;
    return 0;
}

static void format_percentiles(const void *conf, struct buf *out)
{
    const struct kv_config *c = conf;
    kv_latency_format_percentiles(c->latency_percentiles, c->latency_npercentiles, out);
}

/* save <seconds> <changes> [<seconds> <changes> ...], or "" for none (Redis). */
static int parse_save(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct kv_config *c = conf;
    struct kv_save_sched next = {0};
    if (argc == 0 || (argc == 1 && argv[0][0] == '\0')) {
        c->save = next;
        return 0;
    }
    if (argc % 2 != 0 || argc / 2 > 16) {
        snprintf(err, errlen, "Invalid save parameters");
        return -1;
    }
    for (int i = 0; i < argc; i += 2) {
        long long secs, changes;
        if (!util_str2ll(argv[i], strlen(argv[i]), &secs) || !util_str2ll(argv[i + 1], strlen(argv[i + 1]), &changes) ||
            secs < 1 || changes < 0) {
            snprintf(err, errlen, "Invalid save parameters");
            return -1;
        }
        next.secs[next.n] = secs;
        next.changes[next.n++] = changes;
    }
    c->save = next;
    return 0;
}

static void format_save(const void *conf, struct buf *out)
{
    const struct kv_config *c = conf;
    for (int i = 0; i < c->save.n; i++)
        buf_printf(out, "%s%lld %lld", i ? " " : "", c->save.secs[i], c->save.changes[i]);
}

/* replicaof <host> <port>, or "" / "no one" for none. */
static int parse_replicaof(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct kv_config *c = conf;
    if (argc == 0 || (argc == 1 && argv[0][0] == '\0') ||
        (argc == 2 && strcasecmp(argv[0], "no") == 0 && strcasecmp(argv[1], "one") == 0)) {
        c->replicaof.host[0] = '\0';
        c->replicaof.port = 0;
        return 0;
    }
    long long port;
    if (argc != 2 || strlen(argv[0]) >= sizeof c->replicaof.host || !util_str2ll(argv[1], strlen(argv[1]), &port) ||
        port < 0 || port > 65535) {
        snprintf(err, errlen, "'replicaof' takes <host> <port>");
        return -1;
    }
    snprintf(c->replicaof.host, sizeof c->replicaof.host, "%s", argv[0]);
    c->replicaof.port = port;
    return 0;
}

static void format_replicaof(const void *conf, struct buf *out)
{
    const struct kv_config *c = conf;
    if (c->replicaof.host[0])
        buf_printf(out, "%s %lld", c->replicaof.host, c->replicaof.port);
}

#define MB (1024LL * 1024)
#define GB (1024LL * MB)

static const struct conf_directive kv_dirs[] = {
    CONF_ROW_INT("port", OFF(port), 0, 65535, "7379", 0, "TCP port for clients"),
    CONF_ROW_STRING("bind", OFF(bind), "127.0.0.1", 0, "address to listen on"),
    CONF_ROW_INT("threads", OFF(threads), 1, 64, "1", 0, "worker threads (I/O and parsing in parallel)"),
    CONF_ROW_INT("tcp-backlog", OFF(tcp_backlog), 1, 65535, "511", 0, "listen(2) backlog"),
    CONF_ROW_MEMORY("maxmemory", OFF(maxmemory), 0, 0, "1gb", CONF_RUNTIME,
        "memory limit for data and buffers (0 = none)"),
    CONF_ROW_ENUM("maxmemory-policy", OFF(maxmemory_policy), "noeviction", kv_policy_names, CONF_RUNTIME,
        "what to evict when over maxmemory"),
    CONF_ROW_INT("maxmemory-samples", OFF(maxmemory_samples), 1, 64, "5", CONF_RUNTIME,
        "keys sampled per eviction (more: closer to exact, slower)"),
    CONF_ROW_STRING("requirepass", OFF(requirepass), "", CONF_RUNTIME | CONF_SECRET,
        "password clients must AUTH with (empty: none)"),
    CONF_ROW_DURATION("timeout", OFF(timeout_ms), 0, 100LL * 365 * 86400 * 1000, "3600", 1000, CONF_RUNTIME,
        "close clients idle this long (seconds; 0 = never)"),
    CONF_ROW_INT("tcp-keepalive", OFF(tcp_keepalive), 0, 86400, "300", 0, "TCP keepalive seconds (0 = off)"),
    CONF_ROW_INT("maxclients", OFF(maxclients), 1, 1000000, "10000", CONF_RUNTIME, "maximum connected clients"),
    CONF_ROW_MEMORY("proto-max-bulk-len", OFF(proto_max_bulk_len), 1024, 4 * GB, "512mb", CONF_RUNTIME,
        "largest bulk string a client may send"),
    CONF_ROW_MEMORY("client-query-buffer-limit", OFF(client_query_buffer_limit), 1024 * 1024, 4 * GB, "1gb",
        CONF_RUNTIME, "largest unparsed input held for one client"),
    {"client-output-buffer-limit", CONF_CUSTOM, OFF(obl), 0, 0,
     "normal 256mb 64mb 60 replica 256mb 64mb 60 pubsub 32mb 8mb 60", NULL, CONF_RUNTIME,
     "disconnect clients whose unread replies pass hard, or stay above soft for soft-seconds (classes normal, "
     "replica, pubsub)", 0, parse_obl, format_obl},
    {"notify-keyspace-events", CONF_CUSTOM, OFF(notify_keyspace_events), 0, 0, "", NULL, CONF_RUNTIME,
     "keyspace notifications through pub/sub: Redis's flag letters (K E g $ l s h z x e t m d n A; empty: off)", 0,
     parse_notify, format_notify},
    CONF_ROW_INT("admin-port", OFF(admin_port), -1, 65535, "-1", 0,
        "HTTP port for /metrics and /status (-1: port+10000, 0: off)"),
    CONF_ROW_STRING("admin-bind", OFF(admin_bind), "127.0.0.1", 0, "address of the admin endpoint"),
    CONF_PROCESS_ROWS(struct kv_config, CONF_RUNTIME),
    CONF_ROW_INT("hz", OFF(hz), 1, 500, "10", CONF_RUNTIME, "background task frequency (expiry, rehash)"),
    CONF_ROW_INT("databases", OFF(databases), 1, 65536, "16", 0, "number of databases (SELECT 0 to databases-1)"),
    CONF_ROW_INT("active-expire-effort", OFF(active_expire_effort), 1, 10, "1", CONF_RUNTIME,
        "CPU spent reclaiming expired keys (1-10)"),
    CONF_ROW_INT("lfu-log-factor", OFF(lfu_log_factor), 0, 1000000, "10", CONF_RUNTIME, "LFU counter growth"),
    CONF_ROW_INT("lfu-decay-time", OFF(lfu_decay_time), 0, 1000000, "1", CONF_RUNTIME, "minutes per LFU counter decay"),
    CONF_ROW_INT("hash-max-listpack-entries", OFF(hash_max_listpack_entries), 0, 1 << 20, "128", CONF_RUNTIME,
        "fields of a hash in the packed encoding"),
    CONF_ROW_INT("hash-max-listpack-value", OFF(hash_max_listpack_value), 0, 1 << 20, "64", CONF_RUNTIME,
        "longest field or value in the packed encoding"),
    CONF_ROW_INT("zset-max-listpack-entries", OFF(zset_max_listpack_entries), 0, LLONG_MAX, "128", CONF_RUNTIME,
        "elements of a sorted set in the packed encoding"),
    CONF_ROW_INT("zset-max-listpack-value", OFF(zset_max_listpack_value), 0, LLONG_MAX, "64", CONF_RUNTIME,
        "longest member in the packed encoding"),
    CONF_ROW_INT("zset-max-ziplist-entries", OFF(zset_max_listpack_entries), 0, LLONG_MAX, "128", CONF_RUNTIME,
        "alias of zset-max-listpack-entries"),
    CONF_ROW_INT("zset-max-ziplist-value", OFF(zset_max_listpack_value), 0, LLONG_MAX, "64", CONF_RUNTIME,
        "alias of zset-max-listpack-value"),
    CONF_ROW_INT("list-max-listpack-size", OFF(list_max_listpack_size), -2147483648LL, 2147483647LL, "-2", CONF_RUNTIME,
        "list node limit: negative -1..-5 = 4..64 KB, positive = entries (at most 8 KB)"),
    CONF_ROW_INT("list-max-ziplist-size", OFF(list_max_listpack_size), -2147483648LL, 2147483647LL, "-2", CONF_RUNTIME,
        "alias of list-max-listpack-size"),
    CONF_ROW_INT("set-max-intset-entries", OFF(set_max_intset_entries), 0, 9223372036854775807LL, "512", CONF_RUNTIME,
        "members of an all-integer set in the intset encoding"),
    CONF_ROW_INT("hll-sparse-max-bytes", OFF(hll_sparse_max_bytes), 0, LONG_MAX, "3000", CONF_RUNTIME,
        "a HyperLogLog stays sparse up to this many bytes (header included), then turns dense (12304 bytes)"),
    CONF_ROW_INT("slowlog-log-slower-than", OFF(slowlog_log_slower_than), -1, LLONG_MAX, "10000", CONF_RUNTIME,
        "log commands running at least this many microseconds (-1: none, 0: all)"),
    CONF_ROW_INT("slowlog-max-len", OFF(slowlog_max_len), 0, LONG_MAX, "128", CONF_RUNTIME,
        "entries the slow log keeps"),
    CONF_ROW_STRING("aclfile", OFF(aclfile), "", 0,
        "users file (ACL LOAD, ACL SAVE; loaded on start; relative to dir)"),
    {"user", CONF_CUSTOM, OFF(users), 0, 0, NULL, NULL, CONF_REPEAT | CONF_HEAP,
     "a user made at start: `user <name> <ACL SETUSER rules>` (repeat; not with aclfile)", 0, parse_user, format_user},
    CONF_ROW_ENUM("acl-pubsub-default", OFF(acl_pubsub_default), "resetchannels", pubsub_default_names, CONF_RUNTIME,
        "channels of a new user or selector: resetchannels (none) or allchannels"),
    CONF_ROW_INT("acllog-max-len", OFF(acllog_max_len), 0, LONG_MAX, "128", CONF_RUNTIME,
        "entries ACL LOG keeps (denied commands, keys, channels and failed AUTHs)"),
    CONF_ROW_INT("latency-monitor-threshold", OFF(latency_monitor_threshold), 0, LLONG_MAX, "0", CONF_RUNTIME,
        "record commands taking at least this many ms as latency events (LATENCY LATEST; 0: off)"),
    CONF_ROW_BOOL("latency-tracking", OFF(latency_tracking), "yes", CONF_RUNTIME,
        "keep a latency histogram per command (LATENCY HISTOGRAM, INFO latencystats)"),
    {"latency-tracking-info-percentiles", CONF_CUSTOM, OFF(latency_percentiles), 0, 0, "50 99 99.9", NULL,
     CONF_RUNTIME, "percentiles INFO latencystats reports (0 to 100, space-separated)", 0, parse_percentiles,
     format_percentiles},
    CONF_ROW_INT("busy-reply-threshold", OFF(busy_reply_threshold), 0, LLONG_MAX, "5000", CONF_RUNTIME,
        "ms a script may run before other clients get -BUSY and SCRIPT KILL works (0: never)"),
    CONF_ROW_INT("lua-time-limit", OFF(busy_reply_threshold), 0, LLONG_MAX, "5000", CONF_RUNTIME,
        "alias of busy-reply-threshold"),
    {"save", CONF_CUSTOM, OFF(save), 0, 0, "", NULL, CONF_RUNTIME,
     "RDB snapshot schedule: <seconds> <changes> pairs (empty: none; Redis's default is 3600 1 300 100 60 10000)", 0,
     parse_save, format_save},
    CONF_ROW_STRING("dir", OFF(dir), ".", CONF_RUNTIME, "directory of the RDB file"),
    CONF_ROW_STRING("dbfilename", OFF(dbfilename), "dump.rdb", CONF_RUNTIME, "RDB file name (loaded on start)"),
    CONF_ROW_BOOL("rdbcompression", OFF(rdbcompression), "yes", CONF_RUNTIME, "LZF-compress strings in RDB files"),
    CONF_ROW_BOOL("rdbchecksum", OFF(rdbchecksum), "yes", CONF_RUNTIME, "write a CRC64 at the end of RDB files"),
    CONF_ROW_INT("rdb-key-save-delay", OFF(rdb_key_save_delay), 0, 1000000000, "0", CONF_RUNTIME,
        "microseconds to sleep per key saved (for tests, as Redis's)"),
    CONF_ROW_INT("key-load-delay", OFF(key_load_delay), 0, 1000000000, "0", CONF_RUNTIME,
        "microseconds to sleep per key a replica's full sync loads (for tests, as Redis's)"),
    CONF_ROW_BOOL("stop-writes-on-bgsave-error", OFF(stop_writes_on_bgsave_error), "yes", CONF_RUNTIME,
        "refuse writes (MISCONF) while the last background save failed"),
    CONF_ROW_BOOL("appendonly", OFF(appendonly), "no", CONF_RUNTIME,
        "log every write to the append-only file (Redis 7.0 multi-part layout in appenddirname)"),
    CONF_ROW_STRING("appendfilename", OFF(appendfilename), "appendonly.aof", 0, "base name of the append-only files"),
    CONF_ROW_STRING("appenddirname", OFF(appenddirname), "appendonlydir", 0,
        "directory (inside dir) of the append-only files and their manifest"),
    CONF_ROW_ENUM("appendfsync", OFF(appendfsync), "everysec", kv_appendfsync_names, CONF_RUNTIME,
        "always: fsync before replying; everysec: a thread fsyncs once a second; no: the kernel decides"),
    CONF_ROW_BOOL("aof-load-truncated", OFF(aof_load_truncated), "yes", CONF_RUNTIME,
        "a truncated last command is cut off on load (no: refuse to start)"),
    CONF_ROW_INT("auto-aof-rewrite-percentage", OFF(auto_aof_rewrite_percentage), 0, INT_MAX, "100", CONF_RUNTIME,
        "rewrite the AOF when it grew by this percentage over its size after the last rewrite (0: never)"),
    CONF_ROW_MEMORY("auto-aof-rewrite-min-size", OFF(auto_aof_rewrite_min_size), 0, 0, "64mb", CONF_RUNTIME,
        "no automatic AOF rewrite below this size"),
    {"replicaof", CONF_CUSTOM, OFF(replicaof), 0, 0, "", NULL, 0,
     "<host> <port>: start as a replica of that primary (REPLICAOF at run time)", 0, parse_replicaof,
     format_replicaof},
    CONF_ROW_MEMORY("repl-backlog-size", OFF(repl_backlog_size), 0, 0, "1mb", CONF_RUNTIME,
        "replication backlog: how much of the stream a replica may miss and still resync partially"),
    CONF_ROW_INT("repl-ping-replica-period", OFF(repl_ping_replica_period), 1, INT_MAX, "10", CONF_RUNTIME,
        "seconds between PINGs the primary sends into the replication stream"),
    CONF_ROW_INT("min-replicas-to-write", OFF(min_replicas_to_write), 0, INT_MAX, "0", CONF_RUNTIME,
        "refuse writes (NOREPLICAS) with fewer replicas acked within min-replicas-max-lag (0: off)"),
    CONF_ROW_INT("min-replicas-max-lag", OFF(min_replicas_max_lag), 0, INT_MAX, "10", CONF_RUNTIME,
        "seconds since its last ACK for a replica to count as good"),
    CONF_ROW_BOOL("replica-read-only", OFF(replica_read_only), "yes", CONF_RUNTIME,
        "a replica refuses writes from clients (READONLY)"),
    CONF_ROW_BOOL("replica-serve-stale-data", OFF(replica_serve_stale_data), "yes", CONF_RUNTIME,
        "a replica whose link to its primary is down answers from its data (no: MASTERDOWN but for INFO, ROLE...)"),
    CONF_ROW_STRING("masterauth", OFF(masterauth), "", CONF_RUNTIME | CONF_SECRET,
        "password a replica sends (AUTH) to its primary (empty: none)"),
    CONF_ROW_STRING("masteruser", OFF(masteruser), "", CONF_RUNTIME,
        "user name for the replica's AUTH to its primary (empty: AUTH <masterauth> alone)"),
    CONF_ROW_BOOL("repl-diskless-sync", OFF(repl_diskless_sync), "yes", CONF_RUNTIME,
        "full sync: the RDB child writes to memory and the RDB is sent with Redis's EOF framing, no disk file"),
    CONF_ROW_INT("repl-diskless-sync-delay", OFF(repl_diskless_sync_delay), 0, INT_MAX, "5", CONF_RUNTIME,
        "seconds a diskless full sync waits for more replicas before it starts"),
    CONF_ROW_INT("repl-timeout", OFF(repl_timeout), 1, INT_MAX, "60", CONF_RUNTIME,
        "seconds a diskless full sync waits on a replica that takes no bytes before it drops it (the others go on)"),
    CONF_ROW_ENUM("repl-diskless-load", OFF(repl_diskless_load), "disabled", diskless_load_names, CONF_RUNTIME,
        "replica: disabled (the RDB goes to a file, then loads), on-empty-db or swapdb (loads from the socket's "
        "bytes)"),
    CONF_ROW_BOOL("aof-use-rdb-preamble", OFF(aof_use_rdb_preamble), "yes", CONF_RUNTIME,
        "rewrites write the base file as RDB (no: as commands)"),
    CONF_END,
};

static void changed(void *conf, const struct conf_directive *d);

const struct conf_table kv_conf_table = {"kv", kv_dirs, sizeof(struct kv_config), changed};

static void changed(void *conf, const struct conf_directive *d)
{
    (void)conf;
    (void)d;
    /* the server re-reads the whole struct in kv_config_apply() */
}
