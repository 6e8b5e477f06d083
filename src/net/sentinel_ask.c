/*
 * sentinel_ask.c — see sentinel_ask.h.
 */
#include "net/sentinel_ask.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "proto/reply.h"

bool net_sentinel_master(const char *host, int port, const char *name, int timeout_ms, char *mhost, size_t mhostlen,
                         int *mport)
{
    struct sockaddr_storage sa;
    socklen_t salen = 0;
    char err[128];
    size_t nlen = strlen(name);
    if (nlen > 200 || net_resolve(host, port, &sa, &salen, err, sizeof err) != 0)
        return false;
    int fd = net_socket_timeout(sa.ss_family, timeout_ms); /* bounds connect() too */
    if (fd < 0)
        return false;
    char req[256], rep[512];
    int n = snprintf(req, sizeof req, "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$%zu\r\n%s\r\n", nlen,
                     name);
    bool ok = false;
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&sa, salen) == 0 && write(fd, req, (size_t)n) == n) {
        struct resp_reply rp;
        resp_reply_init(&rp);
        while (got < sizeof rep) {
            ssize_t r = read(fd, rep + got, sizeof rep - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            ssize_t len = resp_reply_parse(&rp, rep, got);
            if (len == RESP_REPLY_INCOMPLETE)
                continue;
            if (len > 0 && rep[0] == '*' && len > 4 && memcmp(rep, "*2\r\n", 4) == 0) {
                const char *end = rep + len, *q;
                struct resp_scalar h, pt;
                long long v = 0;
                if ((q = resp_scalar_at(rep + 4, end, &h)) && resp_scalar_at(q, end, &pt) && h.type == '$' &&
                    pt.type == '$' && h.len > 0 && h.len < mhostlen && util_str2ll(pt.str, pt.len, &v) && v > 0 &&
                    v < 65536) {
                    memcpy(mhost, h.str, h.len);
                    mhost[h.len] = 0;
                    *mport = (int)v;
                    ok = true;
                }
            }
            break; /* a whole reply (or not RESP): this sentinel has answered */
        }
    }
    close(fd);
    return ok;
}

bool net_sentinels_parse(struct net_sentinels *s, const char *list)
{
    s->n = 0;
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char one[96];
        if (n == 0 || n >= sizeof one || s->n == NET_SENTINELS_MAX)
            return false;
        memcpy(one, p, n);
        one[n] = 0;
        if (!net_split_hostport(one, s->host[s->n], sizeof s->host[0], &s->port[s->n]))
            return false;
        s->n++;
        p = comma ? comma + 1 : NULL;
    }
    return true;
}

bool net_sentinels_follow(const struct net_sentinels *s, const char *name, int timeout_ms, char *host, size_t hostlen,
                          int *port)
{
    for (int i = 0; i < s->n; i++) {
        char h[128];
        int p = 0;
        if (net_sentinel_master(s->host[i], s->port[i], name, timeout_ms, h, sizeof h, &p)) {
            if (p != *port || strcmp(h, host) != 0)
                log_notice("kv primary %s is at %s:%d (sentinel %s:%d)", name, h, p, s->host[i], s->port[i]);
            snprintf(host, hostlen, "%s", h);
            *port = p;
            return true;
        }
    }
    return false;
}
