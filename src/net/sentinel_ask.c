/*
 * sentinel_ask.c — see sentinel_ask.h.
 */
#include "net/sentinel_ask.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/net.h"
#include "core/util.h"
#include "proto/reply.h"

/* A bulk string at p (inside a reply the parser found complete): its bytes in
 * s and n, and the position after it, or NULL if p holds anything else. */
static const char *bulk_at(const char *p, const char *end, const char **s, size_t *n)
{
    if (p >= end || *p != '$')
        return NULL;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    long long v = 0;
    if (!nl || nl - p < 3 || !util_str2ll(p + 1, (size_t)(nl - 1 - (p + 1)), &v) || v < 0 ||
        v > (long long)(end - (nl + 1)) - 2)
        return NULL;
    *s = nl + 1;
    *n = (size_t)v;
    return nl + 1 + v + 2;
}

bool net_sentinel_master(const char *host, int port, const char *name, int timeout_ms, char *mhost, size_t mhostlen,
                         int *mport)
{
    struct sockaddr_storage sa;
    socklen_t salen = 0;
    char err[128];
    size_t nlen = strlen(name);
    if (nlen > 200 || net_resolve(host, port, &sa, &salen, err, sizeof err) != 0)
        return false;
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() too */
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
                const char *end = rep + len, *h, *pt;
                size_t hl, pl;
                const char *q = bulk_at(rep + 4, end, &h, &hl);
                long long v = 0;
                if (q && bulk_at(q, end, &pt, &pl) && hl > 0 && hl < mhostlen && util_str2ll(pt, pl, &v) && v > 0 &&
                    v < 65536) {
                    memcpy(mhost, h, hl);
                    mhost[hl] = 0;
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
