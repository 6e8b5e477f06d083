/*
 * http.c — the HTTP/1.1 driver of the bench role.
 *
 * Every request is the same bytes, built once at setup (request line, Host,
 * the -H headers, Content-Length and the --body-file body), so writing one is
 * a single memcpy. Responses are parsed with proto/http1 (strict: a response
 * nginx or HAProxy would refuse is a protocol error here too); bodies are
 * skipped as they arrive (Content-Length, chunked, or until close), never
 * buffered whole, so a large response costs no memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "proto/http1.h"

#define HTTP_MAX_BODY (64LL * 1024 * 1024)
#define HTTP_HEADERS 64

struct http_shared {
    char *req;
    size_t req_len;
    bool head;              /* HEAD: responses have no body */
    bool idempotent;        /* GET HEAD PUT DELETE OPTIONS */
};

enum { ST_HEAD, ST_BODY, ST_CHUNKED, ST_UNTIL_CLOSE };

struct http_conn {
    struct http1_response res;
    struct http1_header hdrs[HTTP_HEADERS];
    struct http1_chunked ch;
    uint64_t remaining;     /* ST_BODY: body bytes still to skip */
    int state;
    int status;
    bool close;
};

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

/* Whether the -H lines set header `name`. */
static bool has_header(const struct bench_config *cfg, const char *name)
{
    size_t nl = strlen(name);
    const char *p = cfg->headers, *end = cfg->headers + cfg->headers_len;
    while (p < end) {
        if ((size_t)(end - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0)
            return true;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        p = eol + 1;
    }
    return false;
}

static void *http_setup(const struct bench_config *cfg, const struct bench_target *t, char *err, size_t errlen)
{
    const char *method = cfg->method && *cfg->method ? cfg->method : "GET";
    if (!is_token(method)) {
        snprintf(err, errlen, "invalid HTTP method '%s'", method);
        return NULL;
    }
    struct buf body;
    buf_init(&body);
    if (cfg->body_file && *cfg->body_file) {
        FILE *f = fopen(cfg->body_file, "rb");
        if (!f) {
            snprintf(err, errlen, "cannot open body file '%s': %s", cfg->body_file, strerror(errno));
            return NULL;
        }
        for (;;) {
            buf_reserve(&body, 65536);
            size_t n = fread(buf_tail(&body), 1, buf_room(&body), f);
            body.len += n;
            if (n == 0)
                break;
            if ((long long)body.len > HTTP_MAX_BODY) {
                fclose(f);
                buf_deinit(&body);
                snprintf(err, errlen, "body file '%s' is larger than 64 MiB", cfg->body_file);
                return NULL;
            }
        }
        bool bad = ferror(f);
        fclose(f);
        if (bad) {
            buf_deinit(&body);
            snprintf(err, errlen, "cannot read body file '%s'", cfg->body_file);
            return NULL;
        }
    }
    struct buf req;
    buf_init(&req);
    buf_printf(&req, "%s %s HTTP/1.1\r\n", method, t->path);
    if (!has_header(cfg, "Host"))
        buf_printf(&req, "Host: %s\r\n", t->hostport);
    if (cfg->headers_len)
        buf_append(&req, cfg->headers, cfg->headers_len);
    bool body_method = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    if (!has_header(cfg, "Content-Length") && !has_header(cfg, "Transfer-Encoding") &&
        (buf_pending(&body) > 0 || body_method))
        buf_printf(&req, "Content-Length: %zu\r\n", buf_pending(&body));
    buf_puts(&req, "\r\n");
    if (buf_pending(&body))
        buf_append(&req, buf_head(&body), buf_pending(&body));
    buf_deinit(&body);

    struct http_shared *s = xcalloc(1, sizeof *s);
    s->req_len = buf_pending(&req);
    s->req = xmalloc(s->req_len);
    memcpy(s->req, buf_head(&req), s->req_len);
    buf_deinit(&req);
    s->head = strcmp(method, "HEAD") == 0;
    static const char *const idem[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++)
        if (strcmp(method, idem[i]) == 0)
            s->idempotent = true;
    return s;
}

static void http_teardown(void *shared)
{
    struct http_shared *s = shared;
    if (!s)
        return;
    xfree(s->req);
    xfree(s);
}

static void http_conn_reset(const void *shared, void *cs)
{
    (void)shared;
    struct http_conn *c = cs;
    http1_response_init(&c->res, c->hdrs, HTTP_HEADERS);
    c->state = ST_HEAD;
    c->remaining = 0;
}

static void http_write_request(const void *shared, struct buf *out)
{
    const struct http_shared *s = shared;
    buf_append(out, s->req, s->req_len);
}

static int done(struct http_conn *c, struct bench_response *r)
{
    r->status = c->status;
    r->error = false;
    r->close = c->close;
    r->msg = NULL;
    r->msg_len = 0;
    c->state = ST_HEAD;
    return BENCH_PARSE_DONE;
}

static int http_parse(const void *shared, void *cs, const char *buf, size_t len, size_t *consumed,
                      struct bench_response *r)
{
    const struct http_shared *s = shared;
    struct http_conn *c = cs;
    size_t off = 0;
    for (;;) {
        switch (c->state) {
        case ST_HEAD: {
            int n = http1_parse_response(buf + off, len - off, &c->res, NULL, s->head);
            if (n == HTTP1_INCOMPLETE) {
                *consumed = off;
                return BENCH_PARSE_MORE;
            }
            if (n < 0 || c->res.status == 101) {
                *consumed = off;
                return BENCH_PARSE_ERROR;
            }
            off += (size_t)n;
            if (c->res.status < 200)
                continue; /* interim response: the real one follows */
            c->status = c->res.status;
            c->close = !c->res.keep_alive;
            switch (c->res.body) {
            case HTTP1_BODY_NONE:
                *consumed = off;
                return done(c, r);
            case HTTP1_BODY_LENGTH:
                if (c->res.content_length == 0) {
                    *consumed = off;
                    return done(c, r);
                }
                c->remaining = c->res.content_length;
                c->state = ST_BODY;
                break;
            case HTTP1_BODY_CHUNKED:
                http1_chunked_init(&c->ch, NULL);
                c->state = ST_CHUNKED;
                break;
            case HTTP1_BODY_UNTIL_CLOSE:
                c->close = true;
                c->state = ST_UNTIL_CLOSE;
                break;
            }
            break;
        }
        case ST_BODY: {
            size_t n = len - off;
            if (n > c->remaining)
                n = (size_t)c->remaining;
            off += n;
            c->remaining -= n;
            *consumed = off;
            if (c->remaining)
                return BENCH_PARSE_MORE;
            return done(c, r);
        }
        case ST_CHUNKED: {
            size_t n = 0;
            int rc = http1_chunked_scan(&c->ch, buf + off, len - off, &n);
            off += n;
            *consumed = off;
            if (rc == HTTP1_CHUNK_DONE)
                return done(c, r);
            if (rc == HTTP1_INCOMPLETE)
                return BENCH_PARSE_MORE;
            return BENCH_PARSE_ERROR;
        }
        default: /* ST_UNTIL_CLOSE: everything is body */
            *consumed = len;
            return BENCH_PARSE_MORE;
        }
    }
}

static int http_eof(const void *shared, void *cs, struct bench_response *r)
{
    (void)shared;
    struct http_conn *c = cs;
    if (c->state == ST_UNTIL_CLOSE)
        return done(c, r);
    return BENCH_PARSE_MORE;
}

static bool http_idempotent(const void *shared)
{
    const struct http_shared *s = shared;
    return s->idempotent;
}

/* --slow: a request head that never ends, one more byte of its last header
 * at a time (a slowloris client) */
static void http_slow_opening(const struct bench_target *t, struct buf *out)
{
    buf_printf(out, "GET %s HTTP/1.1\r\nHost: %s\r\nX-Slow: ", t->path, t->hostport);
}

const struct bench_proto bench_http_proto = {
    .name = "http",
    .scheme = "http",
    .default_port = 80,
    .setup = http_setup,
    .teardown = http_teardown,
    .conn_size = sizeof(struct http_conn),
    .conn_reset = http_conn_reset,
    .write_request = http_write_request,
    .parse = http_parse,
    .eof = http_eof,
    .idempotent = http_idempotent,
    .slow_opening = http_slow_opening,
    .slow_byte = 'z',
    .slow_max = 0,
};
