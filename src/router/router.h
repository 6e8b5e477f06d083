/*
 * router.h — the router role: a sharding proxy for kv (twemproxy's job).
 *
 *   clients ──RESP──▶ worker threads (libuv loop each) ──pipelined──▶ kv shards
 *
 * Configuration (config.c): global directives plus pool sections; before any
 * section, shard/distribution/... lines configure the pool named "default",
 * so `scaleout router --listen A --shard B --shard C` is a whole config.
 * A pool is a set of shards with one distribution (an ops table, one file
 * each: dist_ketama.c, dist_modula.c, dist_range.c, dist_directory.c) and a
 * hash function (hash.c); `prefix P` lines send keys starting with P to a
 * pool (geographic / tenant placement), the default pool takes the rest.
 *
 * Shards are net_peers (net/peer.h) in one net_pool per router pool: their
 * weight, admin state, passive ejection and the active RESP PING check
 * (net/health_resp.c) come from the shared backend layer.
 *
 * Routing (route.c, pure functions, unit-tested): a parsed command becomes
 * local, single-shard, split (MGET/MSET/DEL/UNLINK/EXISTS/TOUCH), fan-out
 * (DBSIZE/FLUSHDB/FLUSHALL/KEYS/PUBLISH) or refused, from the key positions
 * of the proto/commands table. proxy.c moves the bytes, pubsub.c serves
 * subscribers, reshard.c moves keys after a membership or weight change.
 */
#ifndef SCALEOUT_ROUTER_ROUTER_H
#define SCALEOUT_ROUTER_ROUTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/chash.h"
#include "core/config.h"
#include "net/peer.h"
#include "proto/resp.h"

#define RT_MAX_POOLS 16
#define RT_MAX_SHARDS 256        /* per router, over all pools, for its life (added ones count) */
#define RT_MAX_PREFIXES 64
#define RT_MAX_RANGES 256
#define RT_MAX_SENTINELS 16

/* ---- hash functions (hash.c) ------------------------------------------- */

struct rt_hash_fn {
    const char *name;
    uint32_t (*fn)(const char *key, size_t len);
};
/* NULL-terminated table: fnv1a_64, md5, crc32, murmur, xxh3 (twemproxy's spellings). */
extern const struct rt_hash_fn rt_hash_fns[];
int rt_hash_find(const char *name);
uint32_t rt_hash_md5(const char *key, size_t len);
uint32_t rt_hash_fnv1a_64(const char *key, size_t len);
/* The part of a key that is hashed: inside the first tag[0] ... tag[1] when
 * both are found and the inside is not empty (twemproxy / Redis Cluster). */
void rt_hash_tag(const char *tag, const char **key, size_t *len);

/* ---- configuration (config.c) ------------------------------------------ */

struct rt_shard_conf {
    char *addr;                 /* "host:port" as written */
    char *name;                 /* NULL: addr (twemproxy's point names) */
    char *replica;              /* "host:port" of a read replica, or NULL */
    long long weight;
    char *range_lo;             /* range distribution: first key / id of this shard's range */
    char *master;               /* sentinel master name: the primary is asked of the sentinels, NULL: none */
};

struct rt_range_conf {
    char *lo;                   /* keys >= lo (and < the next range's lo) */
    int shard;                  /* index into the pool's shards */
};

enum rt_read_policy { RT_READ_NEVER, RT_READ_PREFER, RT_READ_WHEN_DOWN };

struct rt_pool_conf {
    char *name;
    int line;                   /* where the section starts (0: flags / default) */
    int dist;                   /* index into rt_dists[] */
    int hash;                   /* index into rt_hash_fns[] */
    char *hash_tag;             /* "{}" or "" */
    bool twemproxy;             /* ketama: nutcracker's point layout (md5 points, 160 per server) */
    bool auto_eject;            /* a down shard leaves the distribution (keys rehash), twemproxy's auto_eject_hosts */
    int read_policy;            /* enum rt_read_policy */
    long long ryw_ms;           /* read-your-writes window after a write on a connection */
    long long vnodes;           /* ketama points per weight unit (non-twemproxy mode) */
    /* range distribution */
    bool range_numeric;         /* compare the number taken from the key, not the bytes */
    char *range_pattern;        /* numeric: the id follows this prefix in the key ("user:") */
    /* directory distribution */
    char *dir_addr;             /* kv holding the key -> shard table */
    char *dir_hash;             /* name of the hash there (HGET dir_hash key) */
    long long dir_ttl_ms;
    char *dir_default;          /* shard name for keys the table lacks ("" : error) */
    int nshards;
    struct rt_shard_conf shards[RT_MAX_SHARDS];
    int nprefixes;
    char *prefixes[RT_MAX_PREFIXES];
};

struct rt_config {
    char *listen;               /* host:port */
    long long threads;
    long long tcp_backlog;
    long long conns_per_shard;  /* pipelined server connections per shard per thread */
    long long reshard_batch;    /* resharding: SCAN COUNT per batch */
    long long reshard_pause_ms; /* resharding: pause between batches */
    long long max_pipeline;     /* outstanding commands per client */
    unsigned long long max_client_buffer; /* unsent reply bytes per client */
    unsigned long long max_query;         /* largest single command */
    long long maxclients;
    long long server_timeout_ms;
    long long connect_timeout_ms;
    long long health_interval_ms;
    long long health_fall, health_rise;
    long long admin_port;
    char *admin_bind;
    char *admin_token;
    int loglevel;
    char *logfile;
    char *pidfile;
    int nsentinels;             /* `sentinel HOST:PORT` lines: asked for the primaries of `master` shards */
    char *sentinels[RT_MAX_SENTINELS];
    long long sentinel_poll_ms; /* get-master-addr-by-name asked again this often (a missed message) */
    /* sections */
    int npools;
    struct rt_pool_conf *pools[RT_MAX_POOLS];
    int cur;                    /* section being parsed */
    int dflt_line;
};

extern const struct conf_table rt_conf_table;
void rt_config_init(struct rt_config *c);
void rt_config_deinit(struct rt_config *c);
/* Cross-directive checks after loading (shard counts, ranges, names). */
int rt_config_validate(struct rt_config *c, struct buf *errs);
/* Parse "host:port [weight N] [name S] [replica host:port] [range LO] [master NAME]" into s. */
int rt_shard_parse(struct rt_shard_conf *s, int argc, char **argv, char *err, size_t errlen);
void rt_shard_conf_deinit(struct rt_shard_conf *s);
/* `scaleout check` for router files. */
int rt_config_check(const char *path, struct buf *errs);

/* ---- distributions (dist_*.c) ------------------------------------------ */

/* One distribution built over a pool's shards: immutable once built, shared
 * by every worker (a new one replaces it when membership, weight or health
 * changes; the old one is retired and freed 5 s later, when no lookup can
 * still hold it). */
struct rt_dist {
    const struct rt_dist_ops *ops;
    const struct rt_pool_conf *conf;
    uint32_t (*hash)(const char *key, size_t len);
    int n;                      /* shards it spreads over */
    int *ids;                   /* their rt_dist_in.index, in input order */
    void *st;
    struct rt_dist *retired_next;
    long long retired_at;       /* monotonic ms it was replaced (the server frees it a while later) */
};

struct rt_dist_in {
    const char *name;           /* point identity (twemproxy: name or host:port) */
    long long weight;
    int index;                  /* what locate answers for this shard (the router: its global id) */
    const char *range_lo;
};

struct rt_dist_ops {
    const char *name;
    const char *help;
    /* Build d->st over in[0..n); -1 with a message on a bad layout. */
    int (*build)(struct rt_dist *d, const struct rt_dist_in *in, int n, char *err, size_t errlen);
    /* The index (rt_dist_in.index) of the shard for key (already hash-tagged), -1 when none. */
    int (*locate)(const struct rt_dist *d, const char *key, size_t len);
    void (*destroy)(struct rt_dist *d);
};

#define RT_DISTS(X) \
    X(KETAMA, rt_dist_ketama) \
    X(MODULA, rt_dist_modula) \
    X(RANGE, rt_dist_range) \
    X(DIRECTORY, rt_dist_directory)

enum rt_dist_id {
#define RT_X_ID(id, sym) RT_DIST_##id,
    RT_DISTS(RT_X_ID)
#undef RT_X_ID
    RT_DIST__COUNT
};
#define RT_X_DECL(id, sym) extern const struct rt_dist_ops sym;
RT_DISTS(RT_X_DECL)
#undef RT_X_DECL
extern const struct rt_dist_ops *const rt_dists[RT_DIST__COUNT];
int rt_dist_find(const char *name);

/* Build a distribution; NULL with a message on error. */
struct rt_dist *rt_dist_new(const struct rt_pool_conf *pc, const struct rt_dist_in *in, int n, char *err,
                            size_t errlen);
void rt_dist_free(struct rt_dist *d);
/* The index of key's shard (hash tag applied), -1 when none. */
int rt_dist_locate(const struct rt_dist *d, const char *key, size_t len);

/* The directory distribution's table (dist_directory.c): the server fetches
 * it from the directory kv (HGETALL) every dir-ttl and installs it here;
 * entries are key -> shard name. Lookups read the installed table without
 * locks (RCU style: replaced tables are kept until exit). */
void rt_dir_install(struct rt_dist *d, const struct resp_arg *kv, size_t npairs);
long long rt_dir_entries(const struct rt_dist *d);

/* ---- routing (route.c) --------------------------------------------------- */

enum rt_kind {
    RT_LOCAL,       /* answered by the router (reply in out) */
    RT_SINGLE,      /* every key on one shard (or keyless command sent to shard) */
    RT_SPLIT,       /* one sub-command per shard, merged back */
    RT_FANOUT,      /* sent to every shard, merged */
    RT_SCAN,        /* SCAN: one shard at a time, the shard's ordinal in the cursor */
    RT_REFUSE,      /* error reply in out */
};

enum rt_merge {
    RT_MERGE_NONE,  /* single reply passed through */
    RT_MERGE_ARRAY, /* MGET: elements back in key order */
    RT_MERGE_OK,    /* MSET, FLUSHALL: +OK unless an error */
    RT_MERGE_SUM,   /* DEL UNLINK EXISTS TOUCH DBSIZE: integers added */
    RT_MERGE_CONCAT,/* KEYS: arrays concatenated */
    RT_MERGE_SCAN,  /* SCAN: the shard's cursor turned back into the router's */
};

/* Key -> global shard id (the caller's view of pools and distributions);
 * -1: no shard (the error names why through *why). */
typedef int (*rt_locate_fn)(void *arg, const char *key, size_t len);

struct rt_part {
    int shard;
    int nkeys;              /* keys (or key/value groups) in this part */
    int first;              /* index into rt_route.order of its first key group */
};

/* Result of routing one command. */
struct rt_route {
    enum rt_kind kind;
    enum rt_merge merge;
    int cmd;                /* resp_cmd id, -1 unknown */
    int shard;              /* RT_SINGLE */
    int nkeys;              /* keys seen */
    bool write;
    int step;               /* SPLIT: arguments per key group (1, or 2 for MSET) */
    /* SPLIT: groups ordered by part; order[k] = index of the key group (0..) */
    int nparts;             /* SPLIT: parts; RT_SCAN: live shards (set by the caller before merging) */
    int scan_shard;         /* RT_SCAN: ordinal of the shard to ask (among live shards, by id) */
    unsigned long long scan_cursor; /* RT_SCAN: that shard's cursor */
    struct rt_part *parts;
    int *order;
    int cap;                /* elements parts and order have room for (kept between commands) */
    struct buf out;         /* LOCAL / REFUSE reply */
};

void rt_route_init(struct rt_route *r);
void rt_route_deinit(struct rt_route *r);
/*
 * Route argv. nshards: shards known (fan-out targets: every shard id below it
 * for which live(arg, id) — NULL: all). Fills r. The error texts are RESP
 * errors without '-'.
 */
void rt_route(struct rt_route *r, int argc, const struct resp_arg *argv, rt_locate_fn locate, void *arg);
/* The same with argv[0] already looked up (cmd: resp_cmd_lookup's answer),
 * for a caller that needs the id before routing (the proxy: one lookup per
 * command). */
void rt_route_cmd(struct rt_route *r, int cmd, int argc, const struct resp_arg *argv, rt_locate_fn locate,
                  void *arg);
/* parts and order with room for n elements each. */
void rt_route_reserve(struct rt_route *r, int n);
/* Write the sub-command of part p of a split route into out (multibulk). */
void rt_route_write_part(const struct rt_route *r, int p, int argc, const struct resp_arg *argv, struct buf *out);
/* SCAN cursors: the router's cursor is (shard cursor << 8) | shard ordinal,
 * so a scan walks the live shards one after the other (at most 256). */
#define RT_SCAN_SHARD_BITS 8
/* Write the SCAN for the shard: argv with the shard's cursor. */
void rt_route_write_scan(const struct rt_route *r, int argc, const struct resp_arg *argv, struct buf *out);

/* Write argv as a multibulk command. */
void rt_write_command(struct buf *out, int argc, const struct resp_arg *argv);

/* Merging (route.c): replies[i] is the whole reply of part i (len lens[i]).
 * Writes the client's reply into out. */
void rt_merge(const struct rt_route *r, const char *const *replies, const size_t *lens, int n, struct buf *out);

/* ---- the process (server.c, proxy.c, admin.c) ----------------------------- */

int router_main(int argc, char **argv);

#endif
