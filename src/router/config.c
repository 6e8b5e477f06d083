/*
 * config.c — the router's directives: global ones, and pool directives that
 * apply to the pool section being parsed (before any section: the pool named
 * "default"). One table serves the file, the --flags, `scaleout check` and
 * --help (core/config), as the lb's does:
 *
 *   role router
 *   listen 127.0.0.1:7400
 *   shard 127.0.0.1:7401            # the default pool
 *   shard 127.0.0.1:7402 weight 2
 *
 *   pool eu                         # a pool section lasts until the next one
 *       prefix eu:                  # keys starting with eu: go here
 *       distribution ketama
 *       ketama-compat twemproxy
 *       hash fnv1a_64
 *       shard 10.0.0.1:6379 name eu1 replica 10.0.0.2:6379
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "router/router.h"

#define OFF(f) offsetof(struct rt_config, f)

static struct rt_pool_conf *new_pool(struct rt_config *c, const char *name)
{
    struct rt_pool_conf *p = xcalloc(1, sizeof *p);
    p->name = xstrdup(name);
    p->dist = RT_DIST_KETAMA;
    p->hash = 0;
    p->hash_tag = xstrdup("{}");
    p->read_policy = RT_READ_NEVER;
    p->ryw_ms = 1000;
    p->vnodes = 1000;
    p->dir_ttl_ms = 1000;
    c->pools[c->npools] = p;
    return c->pools[c->npools++];
}

static struct rt_pool_conf *find_pool(const struct rt_config *c, const char *name)
{
    for (int i = 0; i < c->npools; i++)
        if (strcmp(c->pools[i]->name, name) == 0)
            return c->pools[i];
    return NULL;
}

/* The pool a pool directive applies to. */
static struct rt_pool_conf *cur_pool(struct rt_config *c)
{
    if (c->cur >= 0 && c->cur < c->npools)
        return c->pools[c->cur];
    struct rt_pool_conf *p = find_pool(c, "default");
    return p ? p : new_pool(c, "default");
}

void rt_shard_conf_deinit(struct rt_shard_conf *s)
{
    XFREE_ALL(s->addr, s->name, s->replica, s->range_lo, s->master);
    memset(s, 0, sizeof *s);
}

static void pool_free(struct rt_pool_conf *p)
{
    for (int i = 0; i < p->nshards; i++)
        rt_shard_conf_deinit(&p->shards[i]);
    for (int i = 0; i < p->nprefixes; i++)
        xfree(p->prefixes[i]);
    XFREE_ALL(p->name, p->hash_tag, p->range_pattern, p->dir_addr, p->dir_hash, p->dir_default, p);
}

static bool valid_addr(const char *s)
{
    char host[256];
    int port;
    return net_split_hostport(s, host, sizeof host, &port) && port > 0 && port < 65536;
}

int rt_shard_parse(struct rt_shard_conf *s, int argc, char **argv, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->weight = 1;
    if (argc < 1 || !valid_addr(argv[0]))
        return conf_fail(err, errlen,
                         "shard HOST:PORT [weight N] [name NAME] [replica HOST:PORT] [range LO] [master NAME] "
                         "(got '%s')",
                         argc ? argv[0] : "");
    s->addr = xstrdup(argv[0]);
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            snprintf(err, errlen, "shard option '%s' needs a value", k);
            goto bad;
        }
        if (strcasecmp(k, "weight") == 0) {
            if (!util_str2ll(v, strlen(v), &s->weight) || s->weight < 1 || s->weight > 1000) {
                snprintf(err, errlen, "shard weight must be 1..1000, got '%s'", v);
                goto bad;
            }
        } else if (strcasecmp(k, "name") == 0) {
            if (!*v || strlen(v) > 200 || strpbrk(v, " \t\r\n\"")) {
                snprintf(err, errlen, "bad shard name '%s'", v);
                goto bad;
            }
            xfree(s->name);
            s->name = xstrdup(v);
        } else if (strcasecmp(k, "replica") == 0) {
            if (!valid_addr(v)) {
                snprintf(err, errlen, "replica must be HOST:PORT, got '%s'", v);
                goto bad;
            }
            xfree(s->replica);
            s->replica = xstrdup(v);
        } else if (strcasecmp(k, "range") == 0) {
            xfree(s->range_lo);
            s->range_lo = xstrdup(v);
        } else if (strcasecmp(k, "master") == 0) {
            if (!*v || strlen(v) > 200 || strpbrk(v, " \t\r\n\"")) {
                snprintf(err, errlen, "bad sentinel master name '%s'", v);
                goto bad;
            }
            xfree(s->master);
            s->master = xstrdup(v);
        } else {
            snprintf(err, errlen, "unknown shard option '%s' (weight, name, replica, range, master)", k);
            goto bad;
        }
    }
    return 0;
bad:
    rt_shard_conf_deinit(s);
    return -1;
}

static const char *shard_name(const struct rt_shard_conf *s) { return s->name ? s->name : s->addr; }

/* ---- pool directives ------------------------------------------------------ */

static int p_pool(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct rt_config *c = conf;
    if (argc != 1 || !*argv[0] || strlen(argv[0]) > 64)
        return conf_fail(err, errlen, "a pool section starts with 'pool NAME'");
    struct rt_pool_conf *p = find_pool(c, argv[0]);
    if (p && p->line)
        return conf_fail(err, errlen, "pool '%s' is defined twice", argv[0]);
    if (!p) {
        if (c->npools >= RT_MAX_POOLS)
            return conf_fail(err, errlen, "at most %d pools", RT_MAX_POOLS);
        p = new_pool(c, argv[0]);
    }
    p->line = 1;
    for (int i = 0; i < c->npools; i++)
        if (c->pools[i] == p)
            c->cur = i;
    return 0;
}

static int p_shard(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct rt_config *c = conf;
    struct rt_pool_conf *p = cur_pool(c);
    int total = 0;
    for (int i = 0; i < c->npools; i++)
        total += c->pools[i]->nshards;
    if (total >= RT_MAX_SHARDS)
        return conf_fail(err, errlen, "at most %d shards", RT_MAX_SHARDS);
    struct rt_shard_conf s;
    if (rt_shard_parse(&s, argc, argv, err, errlen) != 0)
        return -1;
    for (int i = 0; i < p->nshards; i++)
        if (strcmp(shard_name(&p->shards[i]), shard_name(&s)) == 0) {
            snprintf(err, errlen, "shard '%s' appears twice in pool '%s'", shard_name(&s), p->name);
            rt_shard_conf_deinit(&s);
            return -1;
        }
    p->shards[p->nshards++] = s;
    return 0;
}

static int p_distribution(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    int d = argc == 1 ? rt_dist_find(argv[0]) : -1;
    if (d < 0)
        return conf_fail(err, errlen, "distribution must be ketama, modula, range or directory");
    cur_pool(conf)->dist = d;
    return 0;
}

static int p_hash(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    int h = argc == 1 ? rt_hash_find(argv[0]) : -1;
    if (h < 0)
        return conf_fail(err, errlen, "hash must be xxh3, fnv1a_64, fnv1_64, md5 or one_at_a_time");
    cur_pool(conf)->hash = h;
    return 0;
}

static int p_hash_tag(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    if (argc != 1 || (strlen(argv[0]) != 2 && argv[0][0]))
        return conf_fail(err, errlen, "hash-tag is two characters (\"{}\") or \"\" for none");
    struct rt_pool_conf *p = cur_pool(conf);
    xfree(p->hash_tag);
    p->hash_tag = xstrdup(argv[0]);
    return 0;
}

static int p_bool(bool *out, const char *name, int argc, char **argv, char *err, size_t errlen)
{
    if (argc == 1 && strcasecmp(argv[0], "yes") == 0)
        *out = true;
    else if (argc == 1 && strcasecmp(argv[0], "no") == 0)
        *out = false;
    else
        return conf_fail(err, errlen, "'%s' takes yes or no", name);
    return 0;
}

static int p_compat(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct rt_pool_conf *p = cur_pool(conf);
    if (argc == 1 && strcasecmp(argv[0], "twemproxy") == 0)
        p->twemproxy = true;
    else if (argc == 1 && strcasecmp(argv[0], "native") == 0)
        p->twemproxy = false;
    else
        return conf_fail(err, errlen, "ketama-compat takes twemproxy or native");
    return 0;
}

static int p_vnodes(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    long long v;
    if (argc != 1 || !util_str2ll(argv[0], strlen(argv[0]), &v) || v < 1 || v > 2000)
        return conf_fail(err, errlen, "vnodes must be 1..2000");
    cur_pool(conf)->vnodes = v;
    return 0;
}

static int p_auto_eject(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return p_bool(&cur_pool(conf)->auto_eject, "auto-eject", argc, argv, err, errlen);
}

static int p_range_numeric(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return p_bool(&cur_pool(conf)->range_numeric, "range-numeric", argc, argv, err, errlen);
}

static int p_read_policy(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    static const char *const names[] = {"never", "prefer", "when-primary-down"};
    for (int i = 0; argc == 1 && i < 3; i++)
        if (strcasecmp(argv[0], names[i]) == 0) {
            cur_pool(conf)->read_policy = i;
            return 0;
        }
    if (argc == 1 && strcasecmp(argv[0], "primary-down") == 0) { /* short for when-primary-down */
        cur_pool(conf)->read_policy = RT_READ_WHEN_DOWN;
        return 0;
    }
    return conf_fail(err, errlen, "read-replicas must be never, prefer or when-primary-down");
}

static int p_duration(long long *out, const char *name, long long min, int argc, char **argv, char *err,
                      size_t errlen)
{
    long long v;
    if (argc != 1 || !util_parse_duration_ms(argv[0], &v) || v < min || v > 86400000LL)
        return conf_fail(err, errlen, "'%s' takes a duration (250ms, 2s) of at least %lld ms", name, min);
    *out = v;
    return 0;
}

static int p_ryw(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return p_duration(&cur_pool(conf)->ryw_ms, "read-your-writes", 0, argc, argv, err, errlen);
}

static int p_dir_ttl(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return p_duration(&cur_pool(conf)->dir_ttl_ms, "directory-ttl", 100, argc, argv, err, errlen);
}

static int p_str(char **out, const char *name, int argc, char **argv, char *err, size_t errlen)
{
    if (argc != 1)
        return conf_fail(err, errlen, "'%s' takes one value", name);
    xfree(*out);
    *out = xstrdup(argv[0]);
    return 0;
}

static int p_range_pattern(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return p_str(&cur_pool(conf)->range_pattern, "range-pattern", argc, argv, err, errlen);
}

static int p_dir_default(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return p_str(&cur_pool(conf)->dir_default, "directory-default", argc, argv, err, errlen);
}

static int p_directory(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct rt_pool_conf *p = cur_pool(conf);
    if (argc != 2 || !valid_addr(argv[0]) || !*argv[1])
        return conf_fail(err, errlen, "directory HOST:PORT HASHNAME (the kv and the hash holding key -> shard name)");
    xfree(p->dir_addr);
    xfree(p->dir_hash);
    p->dir_addr = xstrdup(argv[0]);
    p->dir_hash = xstrdup(argv[1]);
    return 0;
}

static int p_prefix(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct rt_pool_conf *p = cur_pool(conf);
    for (int i = 0; i < argc; i++) {
        if (p->nprefixes >= RT_MAX_PREFIXES || !*argv[i])
            return conf_fail(err, errlen, "prefix: at most %d non-empty prefixes per pool", RT_MAX_PREFIXES);
        p->prefixes[p->nprefixes++] = xstrdup(argv[i]);
    }
    if (argc == 0)
        return conf_fail(err, errlen, "prefix takes one or more key prefixes");
    return 0;
}

static void format_none(const void *conf, struct buf *out) { (void)conf, (void)out; }

static int p_sentinel(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct rt_config *c = conf;
    for (int i = 0; i < argc; i++) {
        if (!valid_addr(argv[i]) || c->nsentinels >= RT_MAX_SENTINELS)
            return conf_fail(err, errlen, "sentinel HOST:PORT (at most %d), got '%s'", RT_MAX_SENTINELS, argv[i]);
        c->sentinels[c->nsentinels++] = xstrdup(argv[i]);
    }
    if (argc == 0)
        return conf_fail(err, errlen, "sentinel takes HOST:PORT");
    return 0;
}

#define POOLDIR(name, fn, help) \
    {name, CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT, help, 0, fn, format_none}

static const struct conf_directive rt_dirs[] = {
    CONF_ROW_STRING("listen", OFF(listen), "127.0.0.1:7400", 0, "host:port clients connect to"),
    CONF_ROW_INT("threads", OFF(threads), 1, 64, "1", 0, "worker threads (each with its own shard connections)"),
    CONF_ROW_INT("tcp-backlog", OFF(tcp_backlog), 1, 65535, "511", 0, "listen(2) backlog"),
    CONF_ROW_INT("conns-per-shard", OFF(conns_per_shard), 1, 64, "1", 0,
        "pipelined connections per shard per thread that every client's commands share"),
    CONF_ROW_INT("reshard-batch", OFF(reshard_batch), 1, 100000, "100", 0,
        "online resharding: keys asked for per SCAN (COUNT) on a source shard"),
    CONF_ROW_DURATION("reshard-pause", OFF(reshard_pause_ms), 0, 60000, "0", 1000, 0,
        "online resharding: pause between batches (rate limit)"),
    CONF_ROW_INT("max-pipeline", OFF(max_pipeline), 1, 1000000, "10000", 0,
        "commands one client may have in flight; more get an error"),
    CONF_ROW_MEMORY("client-output-limit", OFF(max_client_buffer), 1024, 1LL << 40, "256mb", 0,
        "unsent reply bytes held for one client; past it the client is closed"),
    CONF_ROW_MEMORY("client-query-buffer-limit", OFF(max_query), 1024, 1LL << 40, "512mb", 0, "largest single command"),
    CONF_ROW_INT("maxclients", OFF(maxclients), 1, 1000000, "10000", 0, "client connections at once"),
    CONF_ROW_DURATION("server-timeout", OFF(server_timeout_ms), 0, 3600000, "5s", 1000, 0,
        "a shard that owes a reply this long is cut off (its commands get an error); 0: never"),
    CONF_ROW_DURATION("connect-timeout", OFF(connect_timeout_ms), 1, 600000, "1s", 1000, 0, "shard connect timeout"),
    CONF_ROW_DURATION("health-interval", OFF(health_interval_ms), 50, 3600000, "1s", 1000, 0,
        "PING every shard this often (a down shard returns when it answers)"),
    CONF_ROW_INT("health-fall", OFF(health_fall), 1, 100, "2", 0, "failed PINGs that mark a shard down"),
    CONF_ROW_INT("health-rise", OFF(health_rise), 1, 100, "1", 0, "good PINGs that bring it back"),
    CONF_ROW_INT("admin-port", OFF(admin_port), -1, 65535, "-1", 0,
        "HTTP port for /metrics, /status and shard changes (-1: listen port + 10000, 0: off)"),
    CONF_ROW_STRING("admin-bind", OFF(admin_bind), "127.0.0.1", 0, "address of the admin endpoint"),
    CONF_ROW_STRING("admin-token", OFF(admin_token), "", CONF_SECRET,
        "bearer token for POST /shards (empty: runtime changes refused)"),
    CONF_PROCESS_ROWS(struct rt_config, 0),
    CONF_ROW_DURATION("sentinel-check-interval", OFF(sentinel_poll_ms), 100, 3600000, "2s", 1000, 0,
        "shards with a master name: the sentinels are asked for the primary again this often"),
    POOLDIR("sentinel", p_sentinel, "HOST:PORT of a scaleout/Redis sentinel (repeat); shards with 'master NAME' follow it"),
    POOLDIR("pool", p_pool, "pool NAME: starts a pool section (before any: the pool 'default')"),
    POOLDIR("shard", p_shard, "HOST:PORT [weight N] [name NAME] [replica HOST:PORT] [range LO] [master NAME] (repeat)"),
    POOLDIR("distribution", p_distribution, "ketama (default), modula, range or directory"),
    POOLDIR("hash", p_hash, "key hash: xxh3 (default), fnv1a_64, fnv1_64, md5, one_at_a_time (twemproxy's)"),
    POOLDIR("hash-tag", p_hash_tag, "two characters around the hashed part of a key (default {}; \"\": none)"),
    POOLDIR("ketama-compat", p_compat, "native (default) or twemproxy: nutcracker's ketama point layout"),
    POOLDIR("vnodes", p_vnodes, "ketama points per unit of weight (native layout; default 1000, at most 1,000,000 points a pool)"),
    POOLDIR("auto-eject", p_auto_eject, "yes: a down shard leaves the distribution and its keys rehash (default no)"),
    POOLDIR("read-replicas", p_read_policy, "never (default), prefer, when-primary-down (or primary-down)"),
    POOLDIR("read-your-writes", p_ryw, "after a write, a connection reads from primaries this long (default 1s)"),
    POOLDIR("range-numeric", p_range_numeric, "range: compare numeric ids taken from keys (default no)"),
    POOLDIR("range-pattern", p_range_pattern, "range-numeric: the prefix the id follows (user:)"),
    POOLDIR("directory", p_directory, "HOST:PORT HASH: the kv hash holding key -> shard name"),
    POOLDIR("directory-ttl", p_dir_ttl, "how often the directory table is fetched again (default 1s)"),
    POOLDIR("directory-default", p_dir_default, "shard name for keys the directory lacks (default: error)"),
    POOLDIR("prefix", p_prefix, "keys starting with one of these go to this pool (geographic / tenant placement)"),
    CONF_END,
};

const struct conf_table rt_conf_table = {"router", rt_dirs, sizeof(struct rt_config), NULL};

void rt_config_init(struct rt_config *c)
{
    conf_defaults(&rt_conf_table, c);
    c->cur = -1;
}

void rt_config_deinit(struct rt_config *c)
{
    for (int i = 0; i < c->npools; i++)
        pool_free(c->pools[i]);
    c->npools = 0;
    for (int i = 0; i < c->nsentinels; i++)
        xfree(c->sentinels[i]);
    c->nsentinels = 0;
    conf_free(&rt_conf_table, c);
}

int rt_config_validate(struct rt_config *c, struct buf *errs)
{
    int n = 0;
    char err[256];
    if (c->npools == 0)
        cur_pool(c);
    char host[256];
    int port;
    if (!net_split_hostport(c->listen, host, sizeof host, &port)) {
        buf_printf(errs, "listen: '%s' is not HOST:PORT\n", c->listen);
        n++;
    }
    for (int i = 0; i < c->npools; i++) {
        struct rt_pool_conf *p = c->pools[i];
        if (p->nshards == 0) {
            buf_printf(errs, "pool '%s' has no shard (add: shard HOST:PORT)\n", p->name);
            n++;
            continue;
        }
        for (int j = 0; j < p->nshards; j++)
            if (p->shards[j].master && c->nsentinels == 0) {
                buf_printf(errs, "pool '%s': shard %s names master '%s' but no 'sentinel HOST:PORT' is given\n",
                           p->name, p->shards[j].addr, p->shards[j].master);
                n++;
            }
        if (p->dist == RT_DIST_DIRECTORY && !p->dir_addr) {
            buf_printf(errs, "pool '%s': distribution directory needs 'directory HOST:PORT HASH'\n", p->name);
            n++;
        }
        if (p->twemproxy && p->dist != RT_DIST_KETAMA) {
            buf_printf(errs, "pool '%s': ketama-compat applies to distribution ketama only\n", p->name);
            n++;
        }
        /* build the distribution once to find layout errors (ranges) */
        struct rt_dist_in in[RT_MAX_SHARDS];
        for (int j = 0; j < p->nshards; j++) {
            in[j].name = shard_name(&p->shards[j]);
            in[j].weight = p->shards[j].weight;
            in[j].index = j;
            in[j].range_lo = p->shards[j].range_lo;
        }
        struct rt_dist *d = rt_dist_new(p, in, p->nshards, err, sizeof err);
        if (!d) {
            buf_printf(errs, "pool '%s': %s\n", p->name, err);
            n++;
        }
        rt_dist_free(d);
        for (int j = 0; j < p->nprefixes; j++)
            for (int k = 0; k < c->npools; k++)
                for (int m = 0; m < c->pools[k]->nprefixes; m++)
                    if ((k != i || m != j) && strcmp(p->prefixes[j], c->pools[k]->prefixes[m]) == 0 && k > i) {
                        buf_printf(errs, "prefix '%s' is given to pools '%s' and '%s'\n", p->prefixes[j], p->name,
                                   c->pools[k]->name);
                        n++;
                    }
    }
    return n;
}

int rt_config_check(const char *path, struct buf *errs)
{
    struct rt_config c;
    rt_config_init(&c);
    int n = conf_load_file(&rt_conf_table, &c, path, errs);
    if (n == 0)
        n = rt_config_validate(&c, errs);
    rt_config_deinit(&c);
    return n;
}
