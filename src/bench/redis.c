/*
 * redis.c — the RESP driver of the bench role: GET and SET over a keyspace.
 *
 * Each request is a GET (probability reads/(reads+writes), --ratio) or a SET
 * of a --value-size value, on key KEY_PREFIX + a zero-padded number drawn
 * uniformly or by Zipf from 0..keys-1 (--dist). Keys have a fixed width (12
 * digits, as redis-benchmark's key:__rand_int__), so both commands are
 * templates built once: writing a request is a memcpy and the digits written
 * in place. Replies are read with proto/reply (any RESP2/RESP3 type); error
 * replies count as RESP errors.
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/dist.h"
#include "proto/reply.h"
#include "core/alloc.h"
#include "core/rand.h"

struct redis_shared {
    char *get;              /* "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000000\r\n" */
    size_t get_len, get_key;
    char *set;              /* "*3\r\n$3\r\nSET\r\n$16\r\nkey:...\r\n$64\r\nxxx...\r\n" */
    size_t set_len, set_key;
    int width;              /* digits of a key number */
    uint64_t keys;
    uint64_t reads, total;  /* GET when rand_below(total) < reads */
    bool zipf;
    struct bench_zipf z;
};

struct redis_conn {
    struct resp_reply p;
};

static void *redis_setup(const struct bench_config *cfg, const struct bench_target *t, char *err, size_t errlen)
{
    (void)t;
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : "";
    if (strlen(prefix) > 1024) {
        snprintf(err, errlen, "key-prefix longer than 1024 bytes");
        return NULL;
    }
    struct redis_shared *s = xcalloc(1, sizeof *s);
    s->keys = (uint64_t)cfg->keys;
    s->width = 12;
    for (uint64_t lim = 1000000000000ULL; s->keys > lim && s->width < 19; lim *= 10)
        s->width++;
    s->reads = (uint64_t)cfg->ratio_reads;
    s->total = (uint64_t)(cfg->ratio_reads + cfg->ratio_writes);
    s->zipf = cfg->dist == BENCH_DIST_ZIPF;
    if (s->zipf)
        bench_zipf_init(&s->z, s->keys, cfg->zipf_s);

    size_t klen = strlen(prefix) + (size_t)s->width;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "*2\r\n$3\r\nGET\r\n$%zu\r\n", klen);
    s->get_key = buf_pending(&b) + strlen(prefix);
    buf_printf(&b, "%s%0*d\r\n", prefix, s->width, 0);
    s->get_len = buf_pending(&b);
    s->get = xmalloc(s->get_len);
    memcpy(s->get, buf_head(&b), s->get_len);

    buf_consume(&b, buf_pending(&b));
    buf_printf(&b, "*3\r\n$3\r\nSET\r\n$%zu\r\n", klen);
    s->set_key = buf_pending(&b) + strlen(prefix);
    buf_printf(&b, "%s%0*d\r\n$%lld\r\n", prefix, s->width, 0, cfg->value_size);
    buf_reserve(&b, (size_t)cfg->value_size + 2);
    memset(buf_tail(&b), 'x', (size_t)cfg->value_size);
    b.len += (size_t)cfg->value_size;
    buf_puts(&b, "\r\n");
    s->set_len = buf_pending(&b);
    s->set = xmalloc(s->set_len);
    memcpy(s->set, buf_head(&b), s->set_len);
    buf_deinit(&b);
    return s;
}

static void redis_teardown(void *shared)
{
    struct redis_shared *s = shared;
    if (!s)
        return;
    xfree(s->get);
    xfree(s->set);
    xfree(s);
}

static void redis_conn_reset(const void *shared, void *cs)
{
    (void)shared;
    struct redis_conn *c = cs;
    resp_reply_init(&c->p);
}

static void redis_write_request(const void *shared, struct buf *out)
{
    const struct redis_shared *s = shared;
    bool get = s->reads == s->total || (s->reads > 0 && rand_below(s->total) < s->reads);
    const char *tmpl = get ? s->get : s->set;
    size_t len = get ? s->get_len : s->set_len;
    size_t koff = get ? s->get_key : s->set_key;
    uint64_t k = s->zipf ? bench_zipf_sample(&s->z) - 1 : (s->keys > 1 ? rand_below(s->keys) : 0);
    size_t start = out->len;
    buf_append(out, tmpl, len);
    char *d = out->data + start + koff + (size_t)s->width;
    for (int i = 0; i < s->width; i++) {
        *--d = (char)('0' + k % 10);
        k /= 10;
    }
}

static int redis_parse(const void *shared, void *cs, const char *buf, size_t len, size_t *consumed,
                       struct bench_response *r)
{
    (void)shared;
    struct redis_conn *c = cs;
    ssize_t n = resp_reply_parse(&c->p, buf, len);
    if (n == RESP_REPLY_INCOMPLETE) {
        *consumed = 0;
        return BENCH_PARSE_MORE;
    }
    if (n < 0) {
        *consumed = 0;
        return BENCH_PARSE_ERROR;
    }
    *consumed = (size_t)n;
    r->status = 0;
    r->close = false;
    r->error = c->p.is_error;
    r->msg = c->p.err;
    r->msg_len = c->p.err_len;
    return BENCH_PARSE_DONE;
}

static int redis_eof(const void *shared, void *cs, struct bench_response *r)
{
    (void)shared, (void)cs, (void)r;
    return BENCH_PARSE_MORE;
}

/* --slow: a SET whose announced 1 MB value arrives one byte at a time, so the
 * command never completes (at most REDIS_SLOW_VALUE - 1 bytes are sent) */
#define REDIS_SLOW_VALUE 1000000
static void redis_slow_opening(const struct bench_target *t, struct buf *out)
{
    (void)t;
    buf_printf(out, "*3\r\n$3\r\nSET\r\n$8\r\nslow:key\r\n$%d\r\n", REDIS_SLOW_VALUE);
}

const struct bench_proto bench_redis_proto = {
    .name = "resp",
    .scheme = "redis",
    .default_port = 6379,
    .setup = redis_setup,
    .teardown = redis_teardown,
    .conn_size = sizeof(struct redis_conn),
    .conn_reset = redis_conn_reset,
    .write_request = redis_write_request,
    .parse = redis_parse,
    .eof = redis_eof,
    .slow_opening = redis_slow_opening,
    .slow_byte = 'v',
    .slow_max = REDIS_SLOW_VALUE - 1,
};
