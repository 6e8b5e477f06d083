/*
 * config.c — the sentinel's directives. Redis Sentinel's own spelling:
 *
 *   port 26379
 *   sentinel monitor NAME HOST PORT QUORUM
 *   sentinel down-after-milliseconds NAME MS      (after its monitor line)
 *   sentinel failover-timeout NAME MS
 *   sentinel parallel-syncs NAME N
 *   sentinel announce-ip IP / sentinel announce-port PORT
 *   sentinel myid HEX40 / sentinel current-epoch N
 *
 * Every line is also a flag: --sentinel monitor mymaster 127.0.0.1 6379 2.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "sentinel/sentinel.h"

#define OFF(f) offsetof(struct snt_config, f)

static struct snt_master_conf *find_master(struct snt_config *c, const char *name)
{
    for (struct snt_master_conf *m = c->masters; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

static bool num(const char *s, long long min, long long max, long long *out)
{
    return util_str2ll(s, strlen(s), out) && *out >= min && *out <= max;
}

static int parse_sentinel(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct snt_config *c = conf;
    long long v;
    if (argc < 1) {
        snprintf(err, errlen, "sentinel: missing subcommand");
        return -1;
    }
    const char *sub = argv[0];
    if (strcasecmp(sub, "monitor") == 0) {
        if (argc != 5) {
            snprintf(err, errlen, "sentinel monitor: expected NAME HOST PORT QUORUM");
            return -1;
        }
        long long port, q;
        if (!num(argv[3], 1, 65535, &port)) {
            snprintf(err, errlen, "sentinel monitor: bad port '%s'", argv[3]);
            return -1;
        }
        if (!num(argv[4], 1, 1000, &q)) {
            snprintf(err, errlen, "Quorum must be 1 or greater.");
            return -1;
        }
        if (strlen(argv[2]) >= 64 || strlen(argv[1]) > 200 || strpbrk(argv[1], " ,")) {
            snprintf(err, errlen, "sentinel monitor: bad name or host");
            return -1;
        }
        if (find_master(c, argv[1])) {
            snprintf(err, errlen, "Duplicated master name.");
            return -1;
        }
        struct snt_master_conf *m = xcalloc(1, sizeof *m);
        m->name = xstrdup(argv[1]);
        m->host = xstrdup(argv[2]);
        m->port = (int)port;
        m->quorum = (int)q;
        m->down_after_ms = 30000;
        m->failover_timeout_ms = 180000;
        m->parallel_syncs = 1;
        struct snt_master_conf **t = &c->masters;
        while (*t)
            t = &(*t)->next;
        *t = m;
        return 0;
    }
    if (strcasecmp(sub, "down-after-milliseconds") == 0 || strcasecmp(sub, "failover-timeout") == 0 ||
        strcasecmp(sub, "parallel-syncs") == 0) {
        if (argc != 3) {
            snprintf(err, errlen, "sentinel %s: expected NAME VALUE", sub);
            return -1;
        }
        struct snt_master_conf *m = find_master(c, argv[1]);
        if (!m) {
            snprintf(err, errlen, "No such master with specified name.");
            return -1;
        }
        bool ps = strcasecmp(sub, "parallel-syncs") == 0;
        if (!num(argv[2], ps ? 1 : 1, ps ? 1000 : 86400000LL * 30, &v)) {
            snprintf(err, errlen, "sentinel %s: bad value '%s'", sub, argv[2]);
            return -1;
        }
        if (ps)
            m->parallel_syncs = (int)v;
        else if (strcasecmp(sub, "failover-timeout") == 0)
            m->failover_timeout_ms = v;
        else
            m->down_after_ms = v;
        return 0;
    }
    if ((strcasecmp(sub, "known-replica") == 0 && argc == 4) || (strcasecmp(sub, "known-sentinel") == 0 && argc == 5)) {
        struct snt_master_conf *m = find_master(c, argv[1]);
        if (!m) {
            snprintf(err, errlen, "No such master with specified name.");
            return -1;
        }
        bool s = argc == 5;
        if (!num(argv[3], 1, 65535, &v) || strlen(argv[2]) >= 64 || (s && strlen(argv[4]) != 40)) {
            snprintf(err, errlen, "sentinel %s: bad address or id", sub);
            return -1;
        }
        if (m->nknown >= 1024)
            return 0;
        char k[160];
        snprintf(k, sizeof k, "%c %s %lld%s%s", s ? 's' : 'r', argv[2], v, s ? " " : "", s ? argv[4] : "");
        m->known = xrealloc(m->known, (size_t)(m->nknown + 1) * sizeof *m->known);
        m->known[m->nknown++] = xstrdup(k);
        return 0;
    }
    if (strcasecmp(sub, "config-epoch") == 0 && argc == 3) {
        struct snt_master_conf *m = find_master(c, argv[1]);
        if (!m) {
            snprintf(err, errlen, "No such master with specified name.");
            return -1;
        }
        if (!num(argv[2], 0, 1LL << 62, &v)) {
            snprintf(err, errlen, "sentinel config-epoch: bad value '%s'", argv[2]);
            return -1;
        }
        m->config_epoch = v;
        return 0;
    }
    if (strcasecmp(sub, "announce-ip") == 0 && argc == 2) {
        if (strlen(argv[1]) >= 64) {
            snprintf(err, errlen, "sentinel announce-ip: too long");
            return -1;
        }
        xfree(c->announce_ip);
        c->announce_ip = xstrdup(argv[1]);
        return 0;
    }
    if (strcasecmp(sub, "announce-port") == 0 && argc == 2) {
        if (!num(argv[1], 0, 65535, &v)) {
            snprintf(err, errlen, "sentinel announce-port: bad port '%s'", argv[1]);
            return -1;
        }
        c->announce_port = v;
        return 0;
    }
    if (strcasecmp(sub, "myid") == 0 && argc == 2) {
        if (strlen(argv[1]) != 40) {
            snprintf(err, errlen, "Malformed Sentinel id in myid option.");
            return -1;
        }
        xfree(c->myid);
        c->myid = xstrdup(argv[1]);
        return 0;
    }
    if (strcasecmp(sub, "current-epoch") == 0 && argc == 2) {
        if (!num(argv[1], 0, 1LL << 62, &v)) {
            snprintf(err, errlen, "sentinel current-epoch: bad value");
            return -1;
        }
        c->current_epoch = v;
        return 0;
    }
    snprintf(err, errlen, "Unrecognized sentinel configuration statement: '%s' (or wrong number of words)", sub);
    return -1;
}

static void format_sentinel(const void *conf, struct buf *out)
{
    const struct snt_config *c = conf;
    for (const struct snt_master_conf *m = c->masters; m; m = m->next)
        buf_printf(out, "%smonitor %s %s %d %d", m == c->masters ? "" : "; ", m->name, m->host, m->port, m->quorum);
}

static const struct conf_directive snt_dirs[] = {
    CONF_ROW_INT("port", OFF(port), 1, 65535, "26379", 0, "port clients and other sentinels connect to"),
    CONF_ROW_STRING("bind", OFF(bind), "127.0.0.1", 0, "address to listen on"),
    {"sentinel", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "monitor NAME HOST PORT QUORUM | down-after-milliseconds NAME MS | failover-timeout NAME MS | "
     "parallel-syncs NAME N | announce-ip IP | announce-port PORT | myid ID | current-epoch N | config-epoch NAME N | "
     "known-replica NAME IP PORT | known-sentinel NAME IP PORT RUNID",
     0, parse_sentinel, format_sentinel},
    CONF_PROCESS_ROWS(struct snt_config, 0),
    CONF_END,
};

const struct conf_table snt_conf_table = {"sentinel", snt_dirs, sizeof(struct snt_config), NULL};

void snt_config_free(struct snt_config *c)
{
    for (struct snt_master_conf *m = c->masters, *next; m; m = next) {
        next = m->next;
        for (int i = 0; i < m->nknown; i++)
            xfree(m->known[i]);
        xfree(m->known);
        xfree(m->name);
        xfree(m->host);
        xfree(m);
    }
    c->masters = NULL;
    xfree(c->announce_ip); /* set by `sentinel announce-ip`, not a directive of the table */
    c->announce_ip = NULL;
    xfree(c->myid);
    c->myid = NULL;
    conf_free(&snt_conf_table, c);
}
