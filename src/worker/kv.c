/*
 * kv.c — the worker's blocking RESP connection to kv (see worker.h): one
 * command, one reply, reconnecting (through the sentinels, when there are
 * any) on the next call after a failure. A file of its own, below main.c and
 * the queue files that both use it, so the job loop and the queues it names
 * do not call each other.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "net/sentinel_ask.h"
#include "proto/reply.h"
#include "worker/worker.h"

static const char *scalar(const char *p, const char *end, struct resp_value *r);

struct worker_kv {
    char host[128];
    int port;
    struct net_sentinels sent;
    const char *master_name;
    int fd;
    struct buf in, out;
    struct resp_reply rp;
    size_t last_len;              /* bytes of the previous reply, consumed on the next call */
    struct resp_value reply;
    struct resp_value elems[WORKER_MAX_ELEMS];
    long long last_fail_ms;
};

static void kv_drop(struct worker_kv *kv)
{
    if (kv->fd >= 0)
        close(kv->fd);
    kv->fd = -1;
    buf_consume(&kv->in, buf_pending(&kv->in));
    kv->last_len = 0;
    resp_reply_init(&kv->rp);
}

static bool kv_connect(struct worker_kv *kv)
{
    /* where the primary is, as the first sentinel that answers says (300 ms each) */
    net_sentinels_follow(&kv->sent, kv->master_name, 300, kv->host, sizeof kv->host, &kv->port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)kv->port)};
    if (inet_pton(AF_INET, kv->host, &sa.sin_addr) != 1)
        return false;
    int fd = net_socket_timeout(AF_INET, 5000);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return false;
    }
    kv->fd = fd;
    return true;
}

static const char *scalar(const char *p, const char *end, struct resp_value *r)
{
    const char *next = resp_value_scalar(p, end, r);
    if (next)
        return next;
    /* another type: skipped as nil (r is), as before */
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    return cr ? cr + 2 : NULL;
}

/* One element of an array reply: a scalar into kv->elems (up to
 * WORKER_MAX_ELEMS), a nested array's elements in turn. */
static const char *flatten(struct worker_kv *kv, const char *q, const char *end, int depth)
{
    if (*q != '*') {
        struct resp_value skip;
        if (kv->reply.nelem < WORKER_MAX_ELEMS)
            return scalar(q, end, &kv->elems[kv->reply.nelem++]);
        return scalar(q, end, &skip);
    }
    const char *le = memchr(q, '\r', (size_t)(end - q));
    long long cnt = 0;
    if (!le || depth > 8)
        return NULL;
    util_str2ll(q + 1, (size_t)(le - q - 1), &cnt);
    q = le + 2;
    for (long long i = 0; i < cnt && q; i++)
        q = flatten(kv, q, end, depth + 1);
    return q;
}

struct worker_kv *worker_kv_new(const char *addr, const char *sentinels, const char *master_name, const char **bad)
{
    struct worker_kv *kv = xcalloc(1, sizeof *kv);
    kv->fd = -1;
    kv->last_fail_ms = -1000000;
    buf_init(&kv->in);
    buf_init(&kv->out);
    resp_reply_init(&kv->rp);
    if (!net_split_hostport(addr, kv->host, sizeof kv->host, &kv->port)) {
        *bad = "kv";
        worker_kv_free(kv);
        return NULL;
    }
    kv->master_name = master_name;
    if (!net_sentinels_parse(&kv->sent, sentinels) || (kv->sent.n && !*master_name)) {
        *bad = "kv-sentinel";
        worker_kv_free(kv);
        return NULL;
    }
    return kv;
}

void worker_kv_free(struct worker_kv *kv)
{
    if (!kv)
        return;
    kv_drop(kv);
    buf_deinit(&kv->in);
    buf_deinit(&kv->out);
    xfree(kv);
}

const struct resp_value *worker_kv_cmd(struct worker_kv *kv, int argc, const char **argv, const size_t *lens)
{
    if (kv->last_len) {
        buf_consume(&kv->in, kv->last_len);
        kv->last_len = 0;
    }
    if (kv->fd < 0) {
        if (util_time_ms() - kv->last_fail_ms < 500 || !kv_connect(kv)) {
            kv->last_fail_ms = util_time_ms();
            return NULL;
        }
        log_notice("connected to kv %s:%d", kv->host, kv->port);
    }
    buf_printf(&kv->out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        buf_printf(&kv->out, "$%zu\r\n", lens[i]);
        buf_append(&kv->out, argv[i], lens[i]);
        buf_append(&kv->out, "\r\n", 2);
    }
    while (buf_pending(&kv->out)) {
        ssize_t n = send(kv->fd, buf_head(&kv->out), buf_pending(&kv->out), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            buf_consume(&kv->out, buf_pending(&kv->out));
            goto fail;
        }
        buf_consume(&kv->out, (size_t)n);
    }
    for (;;) {
        ssize_t n = resp_reply_parse(&kv->rp, buf_head(&kv->in), buf_pending(&kv->in));
        if (n > 0) {
            const char *p = buf_head(&kv->in), *end = p + n;
            kv->last_len = (size_t)n;
            if (*p == '*') {
                long long cnt = 0;
                const char *le = memchr(p, '\r', (size_t)n);
                util_str2ll(p + 1, (size_t)(le - p - 1), &cnt);
                memset(&kv->reply, 0, sizeof kv->reply);
                kv->reply.type = cnt < 0 ? RESP_VALUE_NIL : RESP_VALUE_ARRAY;
                kv->reply.elem = kv->elems;
                const char *q = le + 2;
                for (long long i = 0; i < cnt && q; i++)
                    q = flatten(kv, q, end, 0);
            } else {
                scalar(p, end, &kv->reply);
                if (kv->sent.n && kv->reply.type == RESP_VALUE_ERROR && kv->reply.len >= 8 &&
                    memcmp(kv->reply.str, "READONLY", 8) == 0) {
                    /* a demoted primary: ask the sentinels at the next call */
                    log_warn("kv %s:%d is read-only (no longer the primary)", kv->host, kv->port);
                    kv_drop(kv);
                    kv->last_fail_ms = 0;
                    return NULL;
                }
            }
            return &kv->reply;
        }
        if (n < 0)
            goto fail;
        buf_reserve(&kv->in, 16384);
        ssize_t got = recv(kv->fd, buf_tail(&kv->in), buf_room(&kv->in), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            goto fail;
        kv->in.len += (size_t)got;
    }
fail:
    log_warn("kv %s:%d: connection lost", kv->host, kv->port);
    kv_drop(kv);
    kv->last_fail_ms = util_time_ms();
    return NULL;
}

const struct resp_value *worker_kv_cmdv(struct worker_kv *kv, int argc, const char **argv)
{
    size_t lens[16];
    for (int i = 0; i < argc && i < 16; i++)
        lens[i] = strlen(argv[i]);
    return worker_kv_cmd(kv, argc > 16 ? 16 : argc, argv, lens);
}
