/*
 * config.c — the lb configuration: three directive tables (global, listener
 * sections, pool sections) and the file format that ties them together.
 *
 *   role lb
 *   threads 2                       # global directives: anywhere
 *   listen 127.0.0.1:8080           # before any section: the default listener...
 *   backend 127.0.0.1:8101          # ...and the default pool ("default")
 *
 *   pool api                        # a pool section lasts until the next section
 *       balance leastconn
 *       backend 10.0.0.1:80 weight 3
 *   listener web 127.0.0.1:8080     # a listener section: name, address
 *       route path /api/ pool api
 *       default-pool default
 *
 * The one table core/config sees (lb_conf_table) holds the global rows, the
 * two section headers, and one forwarding row per listener and pool
 * directive that applies the directive to the section being parsed (or to the
 * default listener / pool before any section). So `scaleout check`, the
 * --flags and the file all go through the same rows, and the one-line form
 * `scaleout lb --listen A --backend B --balance leastconn` is simply a file
 * without sections. Cross-section checks (a route names a pool that exists,
 * a tcp listener uses an algorithm that needs no HTTP) run after loading,
 * in lb_config_validate, and name the section's file:line.
 */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "net/balance.h"
#include "net/health.h"
#include "lb/lb.h"
#include "lb/tls.h"

#define MAX_WORDS 64

/* ---- helpers ------------------------------------------------------------ */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lb_sections *registry;

static struct lb_sections *sections(struct lb_config *c)
{
    if (!c->sec) {
        c->sec = xcalloc(1, sizeof *c->sec);
        pthread_mutex_lock(&registry_lock);
        c->sec->rnext = registry;
        if (registry)
            registry->rprev = c->sec;
        registry = c->sec;
        pthread_mutex_unlock(&registry_lock);
    }
    return c->sec;
}

int lb_resolve(const char *addr, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (!net_split_hostport(addr, host, sizeof host, &port) || port == 0 || !host[0]) {
        snprintf(err, errlen, "'%s' is not an address: use host:port", addr);
        return -1;
    }
    return net_resolve(host, port, sa, salen, err, errlen);
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"/[]?={}", ch))
            return false;
    }
    return true;
}

static bool parse_int_word(const char *s, long long min, long long max, long long *out)
{
    return util_str2ll(s, strlen(s), out) && *out >= min && *out <= max;
}

/* ---- pool directives ---------------------------------------------------- */

void lb_backend_conf_deinit(struct net_backend_conf *b)
{
    xfree(b->addr);
    xfree(b->name);
    memset(b, 0, sizeof *b);
}

int lb_backend_parse(struct net_backend_conf *b, int argc, char **argv, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    if (argc < 1 || argc % 2 != 1) {
        snprintf(err, errlen, "'backend' takes ADDR [weight N] [maxconn N] [name NAME]");
        return -1;
    }
    b->weight = 1;
    for (int i = 1; i < argc; i += 2) {
        if (strcasecmp(argv[i], "weight") == 0) {
            if (!parse_int_word(argv[i + 1], 1, 1000, &b->weight)) {
                snprintf(err, errlen, "backend weight must be 1..1000, got '%s'", argv[i + 1]);
                goto fail;
            }
        } else if (strcasecmp(argv[i], "maxconn") == 0) {
            if (!parse_int_word(argv[i + 1], 0, 1000000, &b->maxconn)) {
                snprintf(err, errlen, "backend maxconn must be 0..1000000, got '%s'", argv[i + 1]);
                goto fail;
            }
        } else if (strcasecmp(argv[i], "name") == 0) {
            if (!is_token(argv[i + 1])) {
                snprintf(err, errlen, "backend name must be a token, got '%s'", argv[i + 1]);
                goto fail;
            }
            xfree(b->name);
            b->name = xstrdup(argv[i + 1]);
        } else {
            snprintf(err, errlen, "unknown backend option '%s' (weight, maxconn, name)", argv[i]);
            goto fail;
        }
    }
    if (lb_resolve(argv[0], &b->sa, &b->salen, err, errlen) != 0)
        goto fail;
    b->addr = xstrdup(argv[0]);
    if (!b->name)
        b->name = xstrdup(argv[0]);
    return 0;
fail:
    xfree(b->name);
    b->name = NULL;
    return -1;
}

static int parse_backend(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_pool_conf *p = conf;
    struct net_backend_conf b;
    if (lb_backend_parse(&b, argc, argv, err, errlen) != 0)
        return -1;
    for (int i = 0; i < p->nbackends; i++) {
        if (strcmp(p->backends[i].name, b.name) == 0) {
            snprintf(err, errlen, "backend '%s' appears twice in pool '%s'", b.name, p->name ? p->name : "?");
            lb_backend_conf_deinit(&b);
            return -1;
        }
    }
    if (p->nbackends == p->backends_cap) {
        p->backends_cap = p->backends_cap ? p->backends_cap * 2 : 4;
        p->backends = xrealloc(p->backends, (size_t)p->backends_cap * sizeof *p->backends);
    }
    p->backends[p->nbackends++] = b;
    return 0;
}

static void format_backend(const void *conf, struct buf *out)
{
    const struct lb_pool_conf *p = conf;
    for (int i = 0; i < p->nbackends; i++)
        buf_printf(out, "%s%s weight %lld", i ? " " : "", p->backends[i].addr, p->backends[i].weight);
}

static int parse_key(struct lb_pool_conf *p, int argc, char **argv, char *err, size_t errlen)
{
    xfree(p->key_name);
    p->key_name = NULL;
    if (argc == 1 && strcasecmp(argv[0], "ip") == 0) {
        p->key = LB_KEY_IP;
    } else if (argc == 1 && strcasecmp(argv[0], "uri") == 0) {
        p->key = LB_KEY_URI;
    } else if (argc == 2 && (strcasecmp(argv[0], "header") == 0 || strcasecmp(argv[0], "cookie") == 0)) {
        if (!is_token(argv[1])) {
            snprintf(err, errlen, "'%s' is not a valid %s name", argv[1], argv[0]);
            return -1;
        }
        p->key = strcasecmp(argv[0], "header") == 0 ? LB_KEY_HEADER : LB_KEY_COOKIE;
        p->key_name = xstrdup(argv[1]);
    } else {
        snprintf(err, errlen, "hash key must be ip, uri, header NAME or cookie NAME");
        return -1;
    }
    return 0;
}

static int parse_balance(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_pool_conf *p = conf;
    if (argc < 1) {
        snprintf(err, errlen, "'balance' takes an algorithm");
        return -1;
    }
    int b = net_balance_find(argv[0]);
    if (b < 0) {
        int n = snprintf(err, errlen, "unknown algorithm '%s' (", argv[0]);
        for (int i = 0; i < NET_BALANCE__COUNT && n > 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? " " : "", net_balancers[i]->name);
        if (n > 0 && (size_t)n < errlen)
            snprintf(err + n, errlen - (size_t)n, ")");
        return -1;
    }
    if (b == NET_BALANCE_IPHASH) {
        if (argc != 1) {
            snprintf(err, errlen, "'balance iphash' takes no key (it hashes the client address)");
            return -1;
        }
        p->base.balance = b;
        p->key = LB_KEY_IP;
        return 0;
    }
    if (net_balancers[b]->flags & NET_BAL_KEY) {
        if (argc < 2) {
            snprintf(err, errlen, "'balance %s' needs a key: ip, uri, header NAME or cookie NAME", argv[0]);
            return -1;
        }
        if (parse_key(p, argc - 1, argv + 1, err, errlen) != 0)
            return -1;
    } else {
        if (argc != 1) {
            snprintf(err, errlen, "'balance %s' takes no key", argv[0]);
            return -1;
        }
        p->key = LB_KEY_NONE;
    }
    p->base.balance = b;
    return 0;
}

static void format_balance(const void *conf, struct buf *out)
{
    const struct lb_pool_conf *p = conf;
    buf_puts(out, net_balancers[p->base.balance]->name);
    static const char *const keys[] = {"", " ip", " uri", " header ", " cookie "};
    if (p->base.balance != NET_BALANCE_IPHASH && p->key != LB_KEY_NONE)
        buf_printf(out, "%s%s", keys[p->key], p->key_name ? p->key_name : "");
}

static int parse_health(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_pool_conf *p = conf;
    xfree(p->base.health_path);
    p->base.health_path = NULL;
    p->base.health_expect = 0;
    if (argc == 1 && strcasecmp(argv[0], "off") == 0) {
        p->base.health = -1;
        return 0;
    }
    if (argc == 1 && strcasecmp(argv[0], "tcp") == 0) {
        p->base.health = net_health_find("tcp");
        return 0;
    }
    int i = 0;
    if (argc >= 1 && strcasecmp(argv[0], "http") == 0)
        i = 1;
    if (i >= argc || argv[i][0] != '/') {
        snprintf(err, errlen, "'health' takes off, tcp, or [http] /PATH [expect STATUS]");
        return -1;
    }
    for (const char *c = argv[i]; *c; c++) {
        if ((unsigned char)*c <= 32 || (unsigned char)*c >= 127 || *c == '#') {
            snprintf(err, errlen, "health check path '%s' has a character not allowed in a URI", argv[i]);
            return -1;
        }
    }
    p->base.health_path = xstrdup(argv[i]);
    i++;
    if (i < argc) {
        if (i + 2 != argc || strcasecmp(argv[i], "expect") != 0 ||
            !parse_int_word(argv[i + 1], 100, 599, &p->base.health_expect)) {
            snprintf(err, errlen, "after the health path: expect STATUS (100..599)");
            xfree(p->base.health_path);
            p->base.health_path = NULL;
            return -1;
        }
    }
    p->base.health = net_health_find("http");
    return 0;
}

static int parse_cache_ttl(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_pool_conf *p = conf;
    long long secs;
    if (argc != 2 || strlen(argv[0]) >= sizeof p->cache_ttl[0].type || !argv[0][0] ||
        !parse_int_word(argv[1], 0, 31536000, &secs)) {
        snprintf(err, errlen, "'cache-ttl' takes CONTENT_TYPE_PREFIX SECONDS (0..31536000), e.g. cache-ttl image/ 3600");
        return -1;
    }
    int i = 0;
    while (i < p->ncache_ttl && strcasecmp(p->cache_ttl[i].type, argv[0]) != 0)
        i++;
    if (i == p->ncache_ttl) {
        if (p->ncache_ttl == (int)(sizeof p->cache_ttl / sizeof p->cache_ttl[0])) {
            snprintf(err, errlen, "at most %d cache-ttl lines per pool",
                     (int)(sizeof p->cache_ttl / sizeof p->cache_ttl[0]));
            return -1;
        }
        p->ncache_ttl++;
    }
    snprintf(p->cache_ttl[i].type, sizeof p->cache_ttl[i].type, "%s", argv[0]);
    p->cache_ttl[i].seconds = secs;
    return 0;
}

static void format_cache_ttl(const void *conf, struct buf *out)
{
    const struct lb_pool_conf *p = conf;
    for (int i = 0; i < p->ncache_ttl; i++)
        buf_printf(out, "%s%s %lld", i ? ", " : "", p->cache_ttl[i].type, p->cache_ttl[i].seconds);
}

static void format_health(const void *conf, struct buf *out)
{
    const struct lb_pool_conf *p = conf;
    if (p->base.health < 0)
        buf_puts(out, "off");
    else if (p->base.health_path)
        buf_printf(out, "http %s%s", p->base.health_path, p->base.health_expect ? " expect" : "");
    else
        buf_puts(out, "tcp");
}

#define POFF(f) offsetof(struct lb_pool_conf, f)
/* X(id, name, type, field, min, max, default, enums, flags, help, unit_ms, parse, format) */
#define LB_POOL_DIRS(X) \
    X(backend, "backend", CONF_CUSTOM, backends, 0, 0, NULL, NULL, CONF_REPEAT | CONF_RUNTIME, \
      "a backend: ADDR [weight N] [maxconn N] [name NAME] (repeat)", 0, parse_backend, format_backend) \
    X(caching, "caching", CONF_BOOL, caching, 0, 0, "yes", NULL, CONF_RUNTIME, \
      "use the edge cache (global 'cache SIZE') for this pool's routes", 0, NULL, NULL) \
    X(cache_ttl, "cache-ttl", CONF_CUSTOM, cache_ttl, 0, 0, NULL, NULL, CONF_REPEAT | CONF_RUNTIME, \
      "TYPE SECONDS: freshness of responses without Cache-Control/Expires whose Content-Type starts with TYPE (* any; repeat)", \
      0, parse_cache_ttl, format_cache_ttl) \
    X(cache_set_cookie, "cache-set-cookie", CONF_BOOL, cache_set_cookie, 0, 0, "no", NULL, CONF_RUNTIME, \
      "store responses carrying Set-Cookie (the Set-Cookie fields are never stored)", 0, NULL, NULL) \
    X(balance, "balance", CONF_CUSTOM, base.balance, 0, 0, "roundrobin", NULL, CONF_RUNTIME, \
      "roundrobin | wrr | leastconn | iphash | hash KEY | chash KEY | lrt | p2c; KEY: ip, uri, header NAME, cookie NAME", \
      0, parse_balance, format_balance) \
    X(health, "health", CONF_CUSTOM, base.health, 0, 0, "off", NULL, CONF_RUNTIME, \
      "active check: off | tcp | [http] /PATH [expect STATUS] (default: any 2xx or 3xx)", 0, parse_health, format_health) \
    X(health_interval, "health-interval", CONF_DURATION, base.health_interval_ms, 50, 3600000, "2s", NULL, CONF_RUNTIME, \
      "time between active checks of a backend", 1000, NULL, NULL) \
    X(health_timeout, "health-timeout", CONF_DURATION, base.health_timeout_ms, 10, 600000, "1s", NULL, CONF_RUNTIME, \
      "an active check not done by then failed (at most health-interval)", 1000, NULL, NULL) \
    X(health_rise, "health-rise", CONF_INT, base.health_rise, 1, 100, "2", NULL, CONF_RUNTIME, \
      "consecutive good checks that bring a backend back up", 0, NULL, NULL) \
    X(health_fall, "health-fall", CONF_INT, base.health_fall, 1, 100, "3", NULL, CONF_RUNTIME, \
      "consecutive failed checks that take a backend down", 0, NULL, NULL) \
    X(passive_fails, "passive-fails", CONF_INT, base.passive_fails, 0, 1000, "3", NULL, CONF_RUNTIME, \
      "consecutive errors or timeouts of real traffic that eject a backend (0: off)", 0, NULL, NULL) \
    X(eject_time, "eject-time", CONF_DURATION, base.eject_ms, 10, 3600000, "1s", NULL, CONF_RUNTIME, \
      "first ejection; each consecutive one doubles it", 1000, NULL, NULL) \
    X(eject_max, "eject-max", CONF_DURATION, base.eject_max_ms, 10, 86400000, "30s", NULL, CONF_RUNTIME, \
      "longest ejection", 1000, NULL, NULL) \
    X(timeout_connect, "timeout-connect", CONF_DURATION, connect_timeout_ms, 1, 600000, "3s", NULL, CONF_RUNTIME, \
      "connecting to a backend (then: retry, or 504)", 1000, NULL, NULL) \
    X(timeout_server, "timeout-server", CONF_DURATION, server_timeout_ms, 1, 86400000, "30s", NULL, CONF_RUNTIME, \
      "backend silence while a response is due (then: 504)", 1000, NULL, NULL) \
    X(retries, "retries", CONF_INT, retries, 0, 3, "1", NULL, CONF_RUNTIME, \
      "times a failed connect or an idempotent request failed before any response byte is retried elsewhere", 0, NULL, NULL) \
    X(maxconn, "maxconn", CONF_INT, maxconn, 0, 1000000, "0", NULL, CONF_RUNTIME, \
      "requests in flight per backend (0: no limit); more wait in the queue", 0, NULL, NULL) \
    X(queue_size, "queue-size", CONF_INT, queue_size, 0, 1000000, "1024", NULL, CONF_RUNTIME, \
      "requests that may wait for a backend under maxconn, per thread (then: 503)", 0, NULL, NULL) \
    X(timeout_queue, "timeout-queue", CONF_DURATION, queue_timeout_ms, 1, 3600000, "5s", NULL, CONF_RUNTIME, \
      "longest wait in the queue (then: 503)", 1000, NULL, NULL) \
    X(sticky_cookie, "sticky-cookie", CONF_STRING, sticky_cookie, 0, 0, "", NULL, CONF_RUNTIME, \
      "cookie that pins a client to its backend (empty: off)", 0, NULL, NULL) \
    X(idle_conns, "idle-conns", CONF_INT, idle_conns, 0, 100000, "64", NULL, CONF_RUNTIME, \
      "idle keep-alive connections kept per backend and thread", 0, NULL, NULL) \
    X(timeout_idle, "timeout-idle", CONF_DURATION, idle_timeout_ms, 100, 3600000, "15s", NULL, CONF_RUNTIME, \
      "idle upstream connections are closed after this", 1000, NULL, NULL) \
    X(backend_tls, "backend-tls", CONF_BOOL, backend_tls, 0, 0, "no", NULL, 0, \
      "speak TLS to the backends (http listeners; health off or tcp)", 0, NULL, NULL) \
    X(backend_ca, "backend-ca", CONF_STRING, backend_ca, 0, 0, "", NULL, 0, \
      "CA file the backends' certificates are verified with (empty: the system's CAs)", 0, NULL, NULL) \
    X(backend_verify, "backend-verify", CONF_BOOL, backend_verify, 0, 0, "yes", NULL, 0, \
      "check the backend's certificate and its name (the backend address's host); no: encrypt only", 0, NULL, NULL)

#define LB_X_ROW(T, id, name, type, field, min, max, def, en, fl, help, unit, parse, format) \
    {name, type, offsetof(T, field), min, max, def, en, fl, help, unit, parse, format},
#define LB_X_POOL_ROW(...) LB_X_ROW(struct lb_pool_conf, __VA_ARGS__)

static const struct conf_directive pool_dirs[] = {
    LB_POOL_DIRS(LB_X_POOL_ROW)
    CONF_END,
};
static const struct conf_table pool_table = {"lb", pool_dirs, sizeof(struct lb_pool_conf), NULL};

/* ---- listener directives ------------------------------------------------ */

static int parse_listen(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_listener_conf *l = conf;
    if (argc != 1) {
        snprintf(err, errlen, "'listen' takes one address, host:port");
        return -1;
    }
    char host[256];
    int port;
    if (!net_split_hostport(argv[0], host, sizeof host, &port) || !host[0]) {
        snprintf(err, errlen, "'%s' is not an address: use host:port (e.g. 127.0.0.1:8080)", argv[0]);
        return -1;
    }
    xfree(l->addr);
    l->addr = xstrdup(argv[0]);
    snprintf(l->host, sizeof l->host, "%s", host);
    l->port = port;
    return 0;
}

static void format_listen(const void *conf, struct buf *out)
{
    const struct lb_listener_conf *l = conf;
    buf_puts(out, l->addr ? l->addr : "");
}

static void route_deinit(struct lb_route *r)
{
    for (int i = 0; i < r->nconds; i++) {
        xfree(r->conds[i].name);
        xfree(r->conds[i].value);
    }
    xfree(r->conds);
    xfree(r->pool_name);
}

static int parse_route(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_listener_conf *l = conf;
    struct lb_route r = {0};
    int i = 0;
    while (i < argc) {
        const char *w = argv[i];
        struct lb_route_cond c = {0};
        if (strcasecmp(w, "pool") == 0) {
            if (i + 2 != argc || !is_token(argv[i + 1])) {
                snprintf(err, errlen, "'pool NAME' ends a route");
                goto fail;
            }
            r.pool_name = xstrdup(argv[i + 1]);
            break;
        } else if (strcasecmp(w, "host") == 0 && i + 1 < argc) {
            c.kind = LB_ROUTE_HOST;
            c.value = xstrdup(argv[i + 1]);
            i += 2;
        } else if (strcasecmp(w, "path") == 0 && i + 1 < argc) {
            if (argv[i + 1][0] != '/') {
                snprintf(err, errlen, "a route path prefix starts with '/', got '%s'", argv[i + 1]);
                goto fail;
            }
            c.kind = LB_ROUTE_PATH;
            c.value = xstrdup(argv[i + 1]);
            i += 2;
        } else if (strcasecmp(w, "header") == 0 && i + 2 < argc) {
            if (!is_token(argv[i + 1])) {
                snprintf(err, errlen, "'%s' is not a header name", argv[i + 1]);
                goto fail;
            }
            c.kind = LB_ROUTE_HEADER;
            c.name = xstrdup(argv[i + 1]);
            c.value = xstrdup(argv[i + 2]);
            i += 3;
        } else {
            snprintf(err, errlen, "route conditions are host H, path /PREFIX, header NAME VALUE; then pool NAME (at '%s')", w);
            goto fail;
        }
        r.conds = xrealloc(r.conds, (size_t)(r.nconds + 1) * sizeof *r.conds);
        r.conds[r.nconds++] = c;
    }
    if (!r.pool_name) {
        snprintf(err, errlen, "a route ends with 'pool NAME'");
        goto fail;
    }
    if (r.nconds == 0) {
        snprintf(err, errlen, "a route needs at least one condition (use default-pool for the rest)");
        goto fail;
    }
    if (l->nroutes == l->routes_cap) {
        l->routes_cap = l->routes_cap ? l->routes_cap * 2 : 4;
        l->routes = xrealloc(l->routes, (size_t)l->routes_cap * sizeof *l->routes);
    }
    r.line = -1; /* set by the caller, which knows the line */
    l->routes[l->nroutes++] = r;
    return 0;
fail:
    route_deinit(&r);
    return -1;
}

static void format_route(const void *conf, struct buf *out)
{
    const struct lb_listener_conf *l = conf;
    buf_printf(out, "(%d routes)", l->nroutes);
}

static int parse_rate(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_listener_conf *l = conf;
    long long rate, burst;
    if (argc < 1 || argc > 2 || !parse_int_word(argv[0], 0, 10000000, &rate)) {
        snprintf(err, errlen, "'rate-limit' takes REQUESTS_PER_SECOND [BURST] (0: off)");
        return -1;
    }
    burst = rate;
    if (argc == 2 && !parse_int_word(argv[1], 1, 100000000, &burst)) {
        snprintf(err, errlen, "rate-limit burst must be 1..100000000, got '%s'", argv[1]);
        return -1;
    }
    l->rate = rate;
    l->burst = burst < 1 ? 1 : burst;
    return 0;
}

static void format_rate(const void *conf, struct buf *out)
{
    const struct lb_listener_conf *l = conf;
    buf_printf(out, "%lld %lld", l->rate, l->burst);
}

static const struct conf_enum modes[] = {{"http", LB_MODE_HTTP}, {"tcp", LB_MODE_TCP}, {NULL, 0}};
static const struct conf_enum tls_versions[] = {{"1.2", 12}, {"1.3", 13}, {NULL, 0}};
/* Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange, AEAD ciphers only */
#define LB_TLS_CIPHERS \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define LOFF(f) offsetof(struct lb_listener_conf, f)
#define LB_LISTENER_DIRS(X) \
    X(listen, "listen", CONF_CUSTOM, addr, 0, 0, NULL, NULL, 0, \
      "address to accept clients on, host:port", 0, parse_listen, format_listen) \
    X(mode, "mode", CONF_ENUM, mode, 0, 0, "http", modes, 0, \
      "http (L7: parse, route, pool connections) or tcp (L4: forward bytes)", 0, NULL, NULL) \
    X(default_pool, "default-pool", CONF_STRING, default_pool, 0, 0, "", NULL, CONF_RUNTIME, \
      "pool for requests no route matches (empty: the pool named default, else 404)", 0, NULL, NULL) \
    X(route, "route", CONF_CUSTOM, routes, 0, 0, NULL, NULL, CONF_REPEAT | CONF_RUNTIME, \
      "[host H] [path /PREFIX] [header NAME VALUE] pool NAME: first match wins (repeat)", 0, parse_route, format_route) \
    X(timeout_header, "timeout-header", CONF_DURATION, header_timeout_ms, 1, 3600000, "10s", NULL, CONF_RUNTIME, \
      "time to send a complete request head (then: 408 and close)", 1000, NULL, NULL) \
    X(timeout_keepalive, "timeout-keepalive", CONF_DURATION, keepalive_timeout_ms, 1, 86400000, "30s", NULL, CONF_RUNTIME, \
      "idle client connection between requests is closed after this", 1000, NULL, NULL) \
    X(timeout_client, "timeout-client", CONF_DURATION, client_timeout_ms, 1, 86400000, "60s", NULL, CONF_RUNTIME, \
      "client silence while sending a body or not reading the response (tcp mode: idle tunnel)", 1000, NULL, NULL) \
    X(rate_limit, "rate-limit", CONF_CUSTOM, rate, 0, 0, "0", NULL, CONF_RUNTIME, \
      "REQUESTS_PER_SECOND [BURST] per client address, token bucket (then: 429); 0 off", 0, parse_rate, format_rate) \
    X(max_header_size, "max-header-size", CONF_MEMORY, max_header_size, 1024, 1048576, "32kb", NULL, CONF_RUNTIME, \
      "largest request head, request line included (then: 431)", 0, NULL, NULL) \
    X(forwarded_for, "forwarded-for", CONF_BOOL, forwarded_for, 0, 0, "yes", NULL, CONF_RUNTIME, \
      "add X-Forwarded-For and X-Forwarded-Proto", 0, NULL, NULL) \
    X(request_id, "request-id", CONF_BOOL, request_id, 0, 0, "yes", NULL, CONF_RUNTIME, \
      "add X-Request-Id when the request has none", 0, NULL, NULL) \
    X(timeout_tunnel, "timeout-tunnel", CONF_DURATION, tunnel_timeout_ms, 1, 86400000, "1h", NULL, CONF_RUNTIME, \
      "idle WebSocket / Upgrade tunnel (after a 101) is closed after this", 1000, NULL, NULL) \
    X(tls_cert, "tls-cert", CONF_CUSTOM, tls_certs, 0, 0, NULL, NULL, CONF_REPEAT, \
      "CERT.pem [KEY.pem]: terminate TLS (repeat for SNI: chosen by server name, the first is the default)", 0, \
      lb_tls_parse_cert, lb_tls_format_cert) \
    X(tls_key, "tls-key", CONF_CUSTOM, tls_certs, 0, 0, NULL, NULL, CONF_REPEAT, \
      "KEY.pem of the tls-cert before it (default: the key is in the cert file)", 0, lb_tls_parse_key, lb_tls_format_key) \
    X(tls_ocsp, "tls-ocsp", CONF_CUSTOM, tls_certs, 0, 0, NULL, NULL, CONF_REPEAT, \
      "DER OCSP response file stapled for the tls-cert before it", 0, lb_tls_parse_ocsp, lb_tls_format_ocsp) \
    X(tls_ciphers, "tls-ciphers", CONF_STRING, tls_ciphers, 0, 0, LB_TLS_CIPHERS, NULL, 0, \
      "TLS 1.2 cipher list (OpenSSL syntax)", 0, NULL, NULL) \
    X(tls_ciphersuites, "tls-ciphersuites", CONF_STRING, tls_ciphersuites, 0, 0, \
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", NULL, 0, \
      "TLS 1.3 cipher suites", 0, NULL, NULL) \
    X(tls_min_version, "tls-min-version", CONF_ENUM, tls_min_version, 0, 0, "1.2", tls_versions, 0, \
      "oldest TLS version accepted: 1.2 or 1.3 (1.0 and 1.1 are never offered)", 0, NULL, NULL) \
    X(tls_ticket_rotate, "tls-ticket-rotate", CONF_DURATION, tls_ticket_rotate_ms, 0, 604800000, "1h", NULL, 0, \
      "session ticket key lifetime: a new key then, the previous one still accepted (0: no tickets)", 1000, NULL, NULL) \
    X(tls_session_cache, "tls-session-cache", CONF_INT, tls_session_cache, 0, 10000000, "20000", NULL, 0, \
      "server-side TLS session cache entries (0: off)", 0, NULL, NULL) \
    X(tls_handshake_timeout, "tls-handshake-timeout", CONF_DURATION, tls_handshake_timeout_ms, 1, 600000, "5s", NULL, \
      CONF_RUNTIME, "a TLS handshake not finished after this is cut", 1000, NULL, NULL) \
    X(tls_max_handshakes, "tls-max-handshakes", CONF_INT, tls_max_handshakes, 0, 10000000, "1000", NULL, 0, \
      "TLS handshakes in progress at once on the listener (more are closed at accept; 0: no bound)", 0, NULL, NULL) \
    X(h2, "h2", CONF_BOOL, h2, 0, 0, "yes", NULL, 0, \
      "TLS http listeners offer h2 by ALPN (before http/1.1)", 0, NULL, NULL) \
    X(h2c, "h2c", CONF_BOOL, h2c, 0, 0, "yes", NULL, CONF_RUNTIME, \
      "plain http listeners take HTTP/2 with prior knowledge (the connection preface)", 0, NULL, NULL) \
    X(h2_max_streams, "h2-max-streams", CONF_INT, h2_max_streams, 1, 10000, "100", NULL, CONF_RUNTIME, \
      "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection", 0, NULL, NULL) \
    X(h2_max_resets, "h2-max-resets", CONF_INT, h2_max_resets, 1, 1000000, "100", NULL, CONF_RUNTIME, \
      "RST_STREAMs a client may send per second (burst: 10x) before GOAWAY ENHANCE_YOUR_CALM", 0, NULL, NULL)

#define LB_X_LISTENER_ROW(...) LB_X_ROW(struct lb_listener_conf, __VA_ARGS__)

static const struct conf_directive listener_dirs[] = {
    LB_LISTENER_DIRS(LB_X_LISTENER_ROW)
    CONF_END,
};
static const struct conf_table listener_table = {"lb", listener_dirs, sizeof(struct lb_listener_conf), NULL};

/* ---- sections --------------------------------------------------------- */

static struct lb_listener_conf *find_listener(const struct lb_config *c, const char *name)
{
    if (!c->sec)
        return NULL;
    for (int i = 0; i < c->sec->nlisteners; i++)
        if (strcmp(c->sec->listeners[i]->name, name) == 0)
            return c->sec->listeners[i];
    return NULL;
}

struct lb_pool_conf *lb_config_find_pool(const struct lb_config *c, const char *name)
{
    if (!c->sec)
        return NULL;
    for (int i = 0; i < c->sec->npools; i++)
        if (strcmp(c->sec->pools[i]->name, name) == 0)
            return c->sec->pools[i];
    return NULL;
}

static struct lb_listener_conf *new_listener(struct lb_config *c, const char *name)
{
    struct lb_sections *s = sections(c);
    struct lb_listener_conf *l = xcalloc(1, sizeof *l);
    conf_defaults(&listener_table, l);
    l->name = xstrdup(name);
    l->line = c->lineno;
    s->listeners = xrealloc(s->listeners, (size_t)(s->nlisteners + 1) * sizeof *s->listeners);
    s->listeners[s->nlisteners++] = l;
    return l;
}

static struct lb_pool_conf *new_pool(struct lb_config *c, const char *name)
{
    struct lb_sections *s = sections(c);
    struct lb_pool_conf *p = xcalloc(1, sizeof *p);
    conf_defaults(&pool_table, p);
    p->name = xstrdup(name);
    p->line = c->lineno;
    s->pools = xrealloc(s->pools, (size_t)(s->npools + 1) * sizeof *s->pools);
    s->pools[s->npools++] = p;
    return p;
}

void lb_listener_conf_free(struct lb_listener_conf *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nroutes; i++)
        route_deinit(&l->routes[i]);
    xfree(l->routes);
    xfree(l->name);
    lb_tls_conf_free(l);
    conf_free(&listener_table, l);
    xfree(l->addr);
    xfree(l);
}

void lb_pool_conf_free(struct lb_pool_conf *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nbackends; i++)
        lb_backend_conf_deinit(&p->backends[i]);
    xfree(p->backends);
    net_tls_ctx_unref(p->backend_tls_ctx);
    xfree(p->key_name);
    xfree(p->base.health_path);
    xfree(p->name);
    conf_free(&pool_table, p);
    xfree(p);
}

static int parse_listener_section(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_config *c = conf;
    if (argc != 2 || !is_token(argv[0])) {
        snprintf(err, errlen, "a listener section starts with 'listener NAME host:port'");
        return -1;
    }
    if (find_listener(c, argv[0])) {
        snprintf(err, errlen, "listener '%s' is defined twice", argv[0]);
        return -1;
    }
    struct lb_listener_conf tmp = {0};
    if (parse_listen(&tmp, 1, argv + 1, err, errlen) != 0)
        return -1;
    struct lb_listener_conf *l = new_listener(c, argv[0]);
    l->addr = tmp.addr;
    memcpy(l->host, tmp.host, sizeof l->host);
    l->port = tmp.port;
    c->cur_kind = LB_SEC_LISTENER;
    c->cur = l;
    return 0;
}

static int parse_pool_section(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_config *c = conf;
    if (argc != 1 || !is_token(argv[0])) {
        snprintf(err, errlen, "a pool section starts with 'pool NAME'");
        return -1;
    }
    if (lb_config_find_pool(c, argv[0])) {
        snprintf(err, errlen, "pool '%s' is defined twice", argv[0]);
        return -1;
    }
    c->cur_kind = LB_SEC_POOL;
    c->cur = new_pool(c, argv[0]);
    return 0;
}

static void format_none(const void *conf, struct buf *out) { (void)conf, (void)out; }

/* A listener or pool directive: to the section being parsed, or before any
 * section to the default listener / pool (created on first use). */
static int forward(void *conf, enum lb_section kind, const char *name, int argc, char **argv, char *err,
                   size_t errlen)
{
    struct lb_config *c = conf;
    void *target;
    const struct conf_table *t = kind == LB_SEC_POOL ? &pool_table : &listener_table;
    if (c->cur_kind == (int)kind) {
        target = c->cur;
    } else if (c->cur_kind == LB_SEC_NONE) {
        if (kind == LB_SEC_POOL) {
            target = lb_config_find_pool(c, "default");
            if (!target)
                target = new_pool(c, "default");
        } else {
            target = find_listener(c, "default");
            if (!target)
                target = new_listener(c, "default");
        }
    } else {
        snprintf(err, errlen, "'%s' is a %s directive: it cannot appear in %s section '%s'", name,
                 kind == LB_SEC_POOL ? "pool" : "listener", c->cur_kind == LB_SEC_POOL ? "pool" : "listener",
                 c->cur_kind == LB_SEC_POOL ? ((struct lb_pool_conf *)c->cur)->name
                                            : ((struct lb_listener_conf *)c->cur)->name);
        return -1;
    }
    int rc = conf_set(t, target, name, argc, argv, false, err, errlen);
    if (rc == 0 && kind == LB_SEC_LISTENER && strcmp(name, "route") == 0) {
        struct lb_listener_conf *l = target;
        l->routes[l->nroutes - 1].line = c->lineno;
    }
    return rc;
}

#define LB_X_FWD_POOL(id, name, ...) \
    static int fwd_pool_##id(void *c, int argc, char **argv, char *err, size_t n) \
    { return forward(c, LB_SEC_POOL, name, argc, argv, err, n); }
#define LB_X_FWD_LISTENER(id, name, ...) \
    static int fwd_listener_##id(void *c, int argc, char **argv, char *err, size_t n) \
    { return forward(c, LB_SEC_LISTENER, name, argc, argv, err, n); }
LB_POOL_DIRS(LB_X_FWD_POOL)
LB_LISTENER_DIRS(LB_X_FWD_LISTENER)

#define LB_X_FWD_POOL_ROW(id, name, type, field, min, max, def, en, fl, help, ...) \
    {name, CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT, "[pool] " help, 0, fwd_pool_##id, format_none},
#define LB_X_FWD_LISTENER_ROW(id, name, type, field, min, max, def, en, fl, help, ...) \
    {name, CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT, "[listener] " help, 0, fwd_listener_##id, format_none},

/* ---- global directives ------------------------------------------------ */

#define LB_GLOBAL_DIRS(X) \
    X(threads, "threads", CONF_INT, threads, 1, LB_MAX_THREADS, "1", NULL, 0, \
      "worker threads, each with its own loop (one shared socket per listener; own sockets with reuseport yes)", 0, NULL, NULL) \
    X(cache, "cache", CONF_MEMORY, cache_size, 0, 1LL << 40, "0", NULL, CONF_RUNTIME, \
      "edge cache memory limit, e.g. 64mb (0: no cache); pools opt out with caching no", 0, NULL, NULL) \
    X(cache_max_object, "cache-max-object", CONF_MEMORY, cache_max_object, 1, 1LL << 32, "1mb", NULL, CONF_RUNTIME, \
      "larger responses are streamed through, not stored", 0, NULL, NULL) \
    X(cache_waiters, "cache-waiters", CONF_INT, cache_waiters, 0, 100000, "1024", NULL, CONF_RUNTIME, \
      "requests that may wait for one origin fetch of the same URL (more go to the origin)", 0, NULL, NULL) \
    X(admin_port, "admin-port", CONF_INT, admin_port, -1, 65535, "-1", NULL, 0, \
      "admin HTTP port: /metrics, /status, runtime control (-1: first listener port + 10000, 0: off)", 0, NULL, NULL) \
    X(admin_bind, "admin-bind", CONF_STRING, admin_bind, 0, 0, "127.0.0.1", NULL, 0, \
      "admin address (keep it on loopback)", 0, NULL, NULL) \
    X(admin_token, "admin-token", CONF_STRING, admin_token, 0, 0, "", NULL, CONF_SECRET | CONF_RUNTIME, \
      "bearer token for admin changes (empty: admin-token-file, else $SCALEOUT_ADMIN_TOKEN, else changes refused)", \
      0, NULL, NULL) \
    X(admin_token_file, "admin-token-file", CONF_STRING, admin_token_file, 0, 0, "", NULL, CONF_RUNTIME, \
      "file holding the admin token (first line), so it is not in the process list", 0, NULL, NULL) \
    X(admin_allow_host, "admin-allow-host", CONF_STRING, admin_allow_host, 0, 0, "", NULL, 0, \
      "Host names the admin endpoint answers besides loopback ones (space-separated; *: any)", 0, NULL, NULL) \
    X(loglevel, "loglevel", CONF_ENUM, loglevel, 0, 0, "notice", conf_loglevels, CONF_RUNTIME, "log verbosity", 0, NULL, NULL) \
    X(logfile, "logfile", CONF_STRING, logfile, 0, 0, "", NULL, 0, "log file (empty: stderr)", 0, NULL, NULL) \
    X(pidfile, "pidfile", CONF_STRING, pidfile, 0, 0, "", NULL, 0, "write the PID here (empty: none)", 0, NULL, NULL) \
    X(maxclients, "maxclients", CONF_INT, maxclients, 1, 10000000, "10000", NULL, CONF_RUNTIME, \
      "client connections open at once, all listeners (more are closed at accept)", 0, NULL, NULL) \
    X(tcp_backlog, "tcp-backlog", CONF_INT, tcp_backlog, 1, 65535, "511", NULL, 0, "listen(2) backlog", 0, NULL, NULL) \
    X(reuseport, "reuseport", CONF_BOOL, reuseport, 0, 0, "no", NULL, 0, \
      "yes: join other lb processes on a port (SO_REUSEPORT); no: a port in use is refused", 0, NULL, NULL) \
    X(shutdown_timeout, "shutdown-timeout", CONF_DURATION, drain_ms, 0, 3600000, "10s", NULL, CONF_RUNTIME, \
      "on SIGTERM, in-flight requests get this long to finish", 1000, NULL, NULL)

#define LB_X_GLOBAL_ROW(...) LB_X_ROW(struct lb_config, __VA_ARGS__)

#define LB_SECTION_ROWS \
    {"listener", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT, \
     "section: listener NAME host:port, then its listener directives", 0, parse_listener_section, format_none}, \
    {"pool", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT, \
     "section: pool NAME, then its pool directives", 0, parse_pool_section, format_none},

static const struct conf_directive global_dirs[] = {
    LB_GLOBAL_DIRS(LB_X_GLOBAL_ROW)
    LB_SECTION_ROWS
    CONF_END,
};
static const struct conf_table global_table = {"lb", global_dirs, sizeof(struct lb_config), NULL};

static const struct conf_directive lb_dirs[] = {
    LB_GLOBAL_DIRS(LB_X_GLOBAL_ROW)
    LB_SECTION_ROWS
    LB_LISTENER_DIRS(LB_X_FWD_LISTENER_ROW)
    LB_POOL_DIRS(LB_X_FWD_POOL_ROW)
    CONF_END,
};

/* sections and routes record the line they start on (lb_config_validate names it) */
static void at_line(void *conf, int lineno) { ((struct lb_config *)conf)->lineno = lineno; }

const struct conf_table lb_conf_table = {"lb", lb_dirs, sizeof(struct lb_config), NULL};

/* ---- load, validate ------------------------------------------------------ */

void lb_config_init(struct lb_config *c)
{
    conf_defaults(&lb_conf_table, c);
    sections(c);
}

void lb_sections_free(void *sec)
{
    struct lb_sections *s = sec;
    if (s) {
        for (int i = 0; i < s->nlisteners; i++)
            lb_listener_conf_free(s->listeners[i]);
        for (int i = 0; i < s->npools; i++)
            lb_pool_conf_free(s->pools[i]);
        xfree(s->listeners);
        xfree(s->pools);
        pthread_mutex_lock(&registry_lock);
        if (s->rprev)
            s->rprev->rnext = s->rnext;
        else
            registry = s->rnext;
        if (s->rnext)
            s->rnext->rprev = s->rprev;
        pthread_mutex_unlock(&registry_lock);
        xfree(s);
    }
}

void lb_config_deinit(struct lb_config *c)
{
    lb_sections_free(c->sec);
    conf_free(&lb_conf_table, c);
    c->sec = NULL;
}

void lb_config_help(struct buf *out)
{
    buf_puts(out, "Global (anywhere in the file):\n");
    conf_print_help(&global_table, out);
    buf_puts(out, "\nListener (in a listener section, or before any section for the default listener):\n");
    conf_print_help(&listener_table, out);
    buf_puts(out, "\nPool (in a pool section, or before any section for the pool named default):\n");
    conf_print_help(&pool_table, out);
}

static void where(struct buf *errs, const char *path, int line)
{
    if (path && line > 0)
        buf_printf(errs, "%s:%d: ", path, line);
    else if (path)
        buf_printf(errs, "%s: ", path);
}

int lb_config_validate(struct lb_config *c, const char *path, struct buf *errs)
{
    struct lb_sections *s = sections(c);
    int nerr = 0;
    if (s->nlisteners == 0) {
        where(errs, path, 0);
        buf_printf(errs, "no listener: give --listen host:port or a 'listener NAME host:port' section\n");
        nerr++;
    }
    for (int i = 0; i < s->nlisteners; i++) {
        struct lb_listener_conf *l = s->listeners[i];
        if (!l->addr) {
            where(errs, path, l->line);
            buf_printf(errs, "listener '%s' has no address: add 'listen host:port'\n", l->name);
            nerr++;
            continue;
        }
        for (int j = 0; j < i; j++) {
            struct lb_listener_conf *o = s->listeners[j];
            if (o->addr && strcmp(o->host, l->host) == 0 && o->port == l->port && l->port != 0) {
                where(errs, path, l->line);
                buf_printf(errs, "listeners '%s' and '%s' both listen on %s\n", o->name, l->name, l->addr);
                nerr++;
            }
        }
        if (!l->default_pool[0] && lb_config_find_pool(c, "default") && strcmp(l->name, "default") == 0) {
            xfree(l->default_pool);
            l->default_pool = xstrdup("default");
        }
        if (l->default_pool[0] && !lb_config_find_pool(c, l->default_pool)) {
            where(errs, path, l->line);
            buf_printf(errs, "listener '%s': default-pool '%s' is not defined\n", l->name, l->default_pool);
            nerr++;
        }
        for (int r = 0; r < l->nroutes; r++) {
            if (!lb_config_find_pool(c, l->routes[r].pool_name)) {
                where(errs, path, l->routes[r].line > 0 ? l->routes[r].line : l->line);
                buf_printf(errs, "listener '%s': route to pool '%s', which is not defined\n", l->name,
                           l->routes[r].pool_name);
                nerr++;
            }
        }
        if (l->ntls_certs && !l->tls) {
            char terr[512];
            if (lb_tls_build(l, terr, sizeof terr) != 0) {
                where(errs, path, l->line);
                buf_printf(errs, "listener '%s': %s\n", l->name, terr);
                nerr++;
            }
        }
        if (l->mode == LB_MODE_TCP) {
            if (l->nroutes) {
                where(errs, path, l->line);
                buf_printf(errs, "listener '%s': mode tcp cannot route (routes need HTTP); use default-pool\n", l->name);
                nerr++;
            }
            struct lb_pool_conf *p = l->default_pool[0] ? lb_config_find_pool(c, l->default_pool) : NULL;
            if (!p && !l->default_pool[0]) {
                where(errs, path, l->line);
                buf_printf(errs, "listener '%s': mode tcp needs a pool (default-pool NAME, or backends before any section)\n",
                           l->name);
                nerr++;
            }
            if (p && ((net_balancers[p->base.balance]->flags & NET_BAL_L7) ||
                      (p->key != LB_KEY_NONE && p->key != LB_KEY_IP) || p->sticky_cookie[0] ||
                      (p->base.health >= 0 && p->base.health_path) || p->backend_tls)) {
                where(errs, path, p->line > 0 ? p->line : l->line);
                buf_printf(errs,
                           "pool '%s' is used by tcp listener '%s' but needs HTTP (balance %s%s%s%s); use a key of ip, "
                           "a tcp health check, no sticky-cookie, no backend-tls\n",
                           p->name, l->name, net_balancers[p->base.balance]->name,
                           p->sticky_cookie[0] ? ", sticky-cookie" : "", p->base.health_path ? ", http health check" : "",
                           p->backend_tls ? ", backend-tls" : "");
                nerr++;
            }
        }
    }
    for (int i = 0; i < s->npools; i++) {
        struct lb_pool_conf *p = s->pools[i];
        if (p->sticky_cookie[0] && !is_token(p->sticky_cookie)) {
            where(errs, path, p->line);
            buf_printf(errs, "pool '%s': sticky-cookie '%s' is not a valid cookie name\n", p->name, p->sticky_cookie);
            nerr++;
        }
        if (p->base.eject_max_ms < p->base.eject_ms) {
            where(errs, path, p->line);
            buf_printf(errs, "pool '%s': eject-max is shorter than eject-time\n", p->name);
            nerr++;
        }
        if (p->backend_tls && p->base.health >= 0 && p->base.health_path) {
            where(errs, path, p->line);
            buf_printf(errs, "pool '%s': backend-tls with an http health check (it speaks plaintext); use health tcp\n",
                       p->name);
            nerr++;
        }
        if (p->backend_tls && !p->backend_tls_ctx) {
            char terr[512];
            p->backend_tls_ctx = net_tls_client_ctx_new(p->backend_ca, p->backend_verify, terr, sizeof terr);
            if (!p->backend_tls_ctx) {
                where(errs, path, p->line);
                buf_printf(errs, "pool '%s': %s\n", p->name, terr);
                nerr++;
            }
        }
    }
    return nerr;
}

static int resolve_admin_token(struct lb_config *c, struct buf *errs);

int lb_config_load(struct lb_config *c, const char *path, int argc, char **argv, struct buf *errs)
{
    int nerr = 0;
    if (path) {
        int n = conf_load_file_lines(&lb_conf_table, c, path, errs, at_line);
        if (n < 0)
            return 1;
        nerr += n;
    }
    /* flags apply to the global scope: default listener, default pool */
    c->cur_kind = LB_SEC_NONE;
    c->cur = NULL;
    c->lineno = 0;
    char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
            i++;
            continue;
        }
        rest[nrest++] = argv[i];
    }
    nerr += conf_load_args(&lb_conf_table, c, nrest, rest, errs);
    xfree(rest);
    if (nerr == 0)
        nerr += lb_config_validate(c, path, errs);
    if (nerr == 0)
        nerr += resolve_admin_token(c, errs);
    return nerr;
}

/* The admin token: admin-token, else the first line of admin-token-file, else
 * $SCALEOUT_ADMIN_TOKEN (both of the last keep it out of the process list). */
static int resolve_admin_token(struct lb_config *c, struct buf *errs)
{
    if (c->admin_token_file && *c->admin_token_file) {
        if (c->admin_token && *c->admin_token) {
            buf_printf(errs, "admin-token and admin-token-file are both set: keep one\n");
            return 1;
        }
        FILE *f = fopen(c->admin_token_file, "r");
        if (!f) {
            buf_printf(errs, "admin-token-file %s: %s\n", c->admin_token_file, strerror(errno));
            return 1;
        }
        char line[512];
        size_t n = fgets(line, sizeof line, f) ? strlen(line) : 0;
        fclose(f);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        line[n] = '\0';
        if (n == 0) {
            buf_printf(errs, "admin-token-file %s: empty\n", c->admin_token_file);
            return 1;
        }
        xfree(c->admin_token);
        c->admin_token = xstrdup(line);
        return 0;
    }
    const char *env = getenv("SCALEOUT_ADMIN_TOKEN");
    if ((!c->admin_token || !*c->admin_token) && env && *env) {
        xfree(c->admin_token);
        c->admin_token = xstrdup(env);
    }
    return 0;
}

int lb_config_check(const char *path, struct buf *errs)
{
    struct lb_config c;
    lb_config_init(&c);
    int n = lb_config_load(&c, path, 0, NULL, errs);
    lb_config_deinit(&c);
    return n;
}
