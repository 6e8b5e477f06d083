/*
 * h2.c — HTTP/2 on the client side (libnghttp2), mapped onto the HTTP/1.1
 * proxy of proxy.c without HTTP/1.1 text in between.
 *
 *   client ──TLS (ALPN h2) or plain (h2c: the connection preface)──▶ carrier session
 *     │ s->in ─nghttp2_session_mem_recv─▶ frames                    (state LB_S_H2)
 *     ▼
 *   one stream = one socketless lb_session (s->h2s) with one request:
 *     HEADERS ─lb_h2_req_field─▶ st->req (pseudo-headers, fields by offset, cookies)
 *             ─ops->stream_request─▶ proxy.c: lb_h2_req_build into s->req (the
 *               HTTP/1.1 parser's checks, proto/http1 http1_request_*), then
 *               begin_request: the same routing, rate limiting, edge cache,
 *               balancing, queues, retries and backend pools as HTTP/1.1
 *     DATA    ─────────────▶ s->in: body bytes (Content-Length as sent, else chunked)
 *   the backend's answer, relayed by proxy.c:
 *     lb_h2_stream_head ─▶ HEADERS (:status, end-to-end fields lowercased)
 *     lb_h2_stream_body ─▶ st->body (decoded) ─▶ DATA frames; lb_h2_stream_end: EOF
 *   an answer of the lb's own (errors, cache hits: HTTP/1.1 text in s->out)
 *     ─http1_parse_response─▶ HEADERS (:status, fields without hop-by-hop)
 *     ─Content-Length / chunks decoded / until close─▶ st->body ─▶ DATA frames
 *   nghttp2_session_mem_send ─▶ carrier s->out ─▶ client (never more than
 *   LB_HIGH_WATER queued: the rest waits inside nghttp2, bounded by its queues),
 *   once per event-loop turn (a uv_prepare handle): the answers of many
 *   streams that came in during one turn leave in one write
 *
 * Flow control: the client's windows are nghttp2's (DATA is produced only as
 * they allow); what waits for them sits in st->body, and past LB_HIGH_WATER
 * the backend read pauses (lb_h2_stream_queued feeds proxy.c's check). Our
 * receive windows are given back (nghttp2_session_consume) only while the
 * stream session is not paused, so a slow backend bounds what a client can
 * push: 256 KiB per stream, 1 MiB per connection.
 *
 * Floods: RST_STREAM by nghttp2's token bucket (h2-max-resets per second,
 * burst 10x; then GOAWAY ENHANCE_YOUR_CALM), PING / SETTINGS acks by
 * nghttp2_option_set_max_outbound_ack (the connection is dropped when the
 * client does not read them), CONTINUATION by max_continuations, empty DATA
 * frames counted here (more than 100 a second: ENHANCE_YOUR_CALM), frame
 * sizes and order by nghttp2 (FRAME_SIZE_ERROR / PROTOCOL_ERROR GOAWAY).
 *
 * Everything runs on the worker thread that accepted the connection.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "lb/h2.h"
#include "lb/session.h"

#define H2_STREAM_WINDOW (256 * 1024)
#define H2_CONN_WINDOW (1024 * 1024)
#define H2_MAX_EMPTY_DATA 100 /* per second */

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct lb_h2_stream {
    struct lb_h2_conn *c;
    struct lb_session *s;       /* the stream's session; NULL once it closed */
    int32_t id;
    bool chunked;               /* the request body goes up chunked */
    bool in_done;               /* END_STREAM seen */
    size_t owed;                /* DATA bytes not yet given back to the client's window */
    /* the response */
    struct buf rin;             /* HTTP/1.1 response bytes not yet parsed */
    struct buf body;            /* decoded body waiting for the client's window */
    struct http1_response res;
    /* not zeroed when the stream is reused (what they hold is counted) */
    struct http1_header hdrs[LB_MAX_HEADERS];
    struct lb_h2_req req;
    /* zeroed from here */
    int rstate;                 /* 0 head, 1 body, 2 complete */
    enum http1_body rbody;
    uint64_t rleft;
    struct http1_chunked rck;
    bool submitted, deferred, reset;
    bool direct;                /* the answer is relayed by lb_h2_stream_head/_body/_end, not parsed */
    bool rst_after;             /* answered before its body ended: RST_STREAM NO_ERROR once the answer is out */
    struct lb_h2_stream *prev, *next;
};

struct lb_h2_conn {
    struct lb_session *s;       /* the carrier */
    const struct lb_h2_session_ops *ops; /* proxy.c's sessions (h2.c calls none of it by name) */
    nghttp2_session *ng;
    uv_prepare_t flush;         /* frames are written once per loop turn, before the poll */
    bool flush_due;
    struct lb_h2_stream *streams;
    int nstreams;
    bool in_recv, closing, goaway;
    long long last_active;
    long long empty_since;
    int nempty;
    double rst_tokens;          /* rapid reset: a token bucket of RST_STREAMs */
    long long rst_at;
    struct lb_h2_stream *spare; /* closed streams kept for the next ones, buffers and all */
    int nspare;
};

#define H2_SPARE_STREAMS 16       /* closed streams a connection keeps for reuse */
#define H2_SPARE_BUF_MAX 16384    /* ... when no buffer of theirs grew past this */

/* ---- request conversion (pure: fuzzed) --------------------------------------- */

void lb_h2_req_init(struct lb_h2_req *r, size_t limit)
{
    buf_init(&r->method);
    buf_init(&r->path);
    buf_init(&r->authority);
    buf_init(&r->store);
    buf_init(&r->cookie);
    r->nfields = r->bytes = r->nregular = 0;
    r->err = 0;
    r->has_cl = r->chunked = r->bad = r->too_large = false;
    r->limit = limit;
}

void lb_h2_req_deinit(struct lb_h2_req *r)
{
    buf_deinit(&r->method);
    buf_deinit(&r->path);
    buf_deinit(&r->authority);
    buf_deinit(&r->store);
    buf_deinit(&r->cookie);
}

static bool name_is(const uint8_t *n, size_t nl, const char *s)
{
    size_t l = strlen(s);
    return nl == l && memcmp(n, s, l) == 0;
}

/* Hop-by-hop fields mean nothing in HTTP/2 (nghttp2 refuses most already). */
static bool h2_hop_by_hop(const uint8_t *n, size_t nl)
{
    switch (nl) {
    case 2: return name_is(n, nl, "te");
    case 7: return name_is(n, nl, "upgrade");
    case 10: return name_is(n, nl, "connection") || name_is(n, nl, "keep-alive");
    case 16: return name_is(n, nl, "proxy-connection");
    case 17: return name_is(n, nl, "transfer-encoding");
    }
    return false;
}

static int req_bad(struct lb_h2_req *r, int err)
{
    r->bad = true;
    r->err = err;
    return -1;
}

int lb_h2_req_field(struct lb_h2_req *r, const uint8_t *n, size_t nl, const uint8_t *v, size_t vl)
{
    if (r->bad || r->too_large)
        return -1;
    r->bytes += nl + vl + 32; /* RFC 9113's list size accounting */
    if (r->bytes > r->limit) {
        r->too_large = true;
        return -1;
    }
    if (nl > 0 && n[0] == ':') {
        if (r->nregular)
            return req_bad(r, HTTP1_E_REQUEST_LINE); /* pseudo-header after a regular one */
        if (name_is(n, nl, ":scheme"))
            return 0;
        struct buf *dst = name_is(n, nl, ":method") ? &r->method
                        : name_is(n, nl, ":path") ? &r->path
                        : name_is(n, nl, ":authority") ? &r->authority
                        : NULL;
        if (!dst || buf_pending(dst) || vl == 0)
            return req_bad(r, HTTP1_E_REQUEST_LINE);
        buf_append(dst, v, vl);
        return 0;
    }
    if (nl == 0)
        return req_bad(r, HTTP1_E_HEADER_NAME);
    for (size_t i = 0; i < nl; i++)
        if (n[i] >= 'A' && n[i] <= 'Z')
            return req_bad(r, HTTP1_E_HEADER_NAME); /* HTTP/2 field names are lowercase */
    r->nregular++;
    if (h2_hop_by_hop(n, nl))
        return 0;
    if (nl == 6 && name_is(n, nl, "cookie")) {
        /* RFC 9113 8.2.3: crumbs are joined with "; " for HTTP/1.1 */
        if (buf_pending(&r->cookie))
            buf_append(&r->cookie, "; ", 2);
        buf_append(&r->cookie, v, vl);
        return 0;
    }
    if (nl == 14 && name_is(n, nl, "content-length"))
        r->has_cl = true;
    if (r->nfields == LB_H2_MAX_FIELDS)
        return req_bad(r, HTTP1_E_TOO_MANY_HEADERS);
    struct lb_h2_field *f = &r->f[r->nfields++];
    buf_reserve(&r->store, nl + vl > 512 ? nl + vl : 512); /* one allocation for usual lists */
    f->name = (uint32_t)buf_pending(&r->store);
    f->name_len = (uint32_t)nl;
    buf_append(&r->store, n, nl);
    f->value = (uint32_t)buf_pending(&r->store);
    f->value_len = (uint32_t)vl;
    buf_append(&r->store, v, vl);
    return 0;
}

static bool same_authority(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return false;
    for (size_t i = 0; i < al; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    return true;
}

int lb_h2_req_build(struct lb_h2_req *r, bool body, const struct http1_limits *lim, struct http1_request *req)
{
    r->chunked = false;
    if (r->too_large)
        return HTTP1_E_HEADERS_TOO_LARGE;
    if (r->bad)
        return r->err;
    if (!buf_pending(&r->method) || !buf_pending(&r->path))
        return HTTP1_E_REQUEST_LINE; /* CONNECT (no :path) is not proxied */
    int rc = http1_request_start(req, buf_head(&r->method), buf_pending(&r->method), buf_head(&r->path),
                                 buf_pending(&r->path), lim);
    if (rc)
        return rc;
    const char *auth = buf_head(&r->authority);
    size_t alen = buf_pending(&r->authority);
    if (alen && (rc = http1_request_field(req, "Host", 4, auth, alen, lim)) != 0)
        return rc;
    const char *store = buf_head(&r->store);
    for (size_t i = 0; i < r->nfields; i++) {
        const struct lb_h2_field *f = &r->f[i];
        const char *n = store + f->name, *v = store + f->value;
        if (alen && f->name_len == 4 && memcmp(n, "host", 4) == 0) {
            /* RFC 9113 8.3.1: :authority wins; a Host naming another one is malformed */
            if (!same_authority(v, f->value_len, auth, alen))
                return HTTP1_E_HOST_MISMATCH;
            continue;
        }
        if ((rc = http1_request_field(req, n, f->name_len, v, f->value_len, lim)) != 0)
            return rc;
    }
    if (buf_pending(&r->cookie) &&
        (rc = http1_request_field(req, "Cookie", 6, buf_head(&r->cookie), buf_pending(&r->cookie), lim)) != 0)
        return rc;
    if (body && !r->has_cl) {
        if ((rc = http1_request_field(req, "Transfer-Encoding", 17, "chunked", 7, lim)) != 0)
            return rc;
        r->chunked = true;
    }
    return http1_request_finish(req);
}

/* ---- output ------------------------------------------------------------------ */

static void conn_flush_now(struct lb_h2_conn *c)
{
    struct lb_session *s = c->s;
    if (c->in_recv || c->closing || !c->ng)
        return;
again:
    while (buf_pending(&s->out) < LB_HIGH_WATER) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(c->ng, &p);
        if (n < 0) {
            log_verbose("client %s: h2: %s", s->ip, nghttp2_strerror((int)n));
            c->closing = true;
            c->ops->close(s);
            return;
        }
        if (n == 0)
            break;
        buf_append(&s->out, p, (size_t)n);
    }
    if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng))
        s->close_after = true; /* after a GOAWAY and its last stream: close once written */
    size_t framed = buf_pending(&s->out);
    c->ops->flush(s);
    /* Stopped at LB_HIGH_WATER and the socket took it all at once: no write
     * completion will call us again, the client may wait for what nghttp2
     * still holds (DATA, a WINDOW_UPDATE) without sending anything, and a
     * conn_flush() from inside this flush (a prepare callback) would only
     * run after the next poll. So the rest goes now. */
    if (framed && !s->closing && !c->closing && !s->writing && nghttp2_session_want_write(c->ng))
        goto again;
}

static void on_flush(uv_prepare_t *p)
{
    struct lb_h2_conn *c = p->data;
    uv_prepare_stop(p);
    c->flush_due = false;
    conn_flush_now(c);
}

static void on_flush_closed(uv_handle_t *h) { xfree(h->data); }

/* Frames of many streams (answers that came in the same loop turn) leave
 * in one write (one TLS record run, one syscall) at the end of the turn. */
static void conn_flush(struct lb_h2_conn *c)
{
    if (c->in_recv || c->closing || c->flush_due)
        return;
    c->flush_due = true;
    uv_prepare_start(&c->flush, on_flush);
}

static void stream_unlink(struct lb_h2_stream *st)
{
    struct lb_h2_conn *c = st->c;
    LIST_REMOVE(c->streams, st, prev, next);
    c->nstreams--;
}

static void stream_free(struct lb_h2_stream *st)
{
    lb_h2_req_deinit(&st->req);
    buf_deinit(&st->rin);
    buf_deinit(&st->body);
    xfree(st);
}

/* The buffers a stream owns, kept (emptied) when the stream is reused. */
#define STREAM_BUFS(st) {&(st)->req.method, &(st)->req.path, &(st)->req.authority, &(st)->req.store, \
                         &(st)->req.cookie, &(st)->rin, &(st)->body}
enum { STREAM_NBUFS = 7 };

/* A new stream, zeroed but for the header array the parser fills (as
 * lb_session's): a spare one of c's with its buffers emptied, else a fresh
 * one. Per-stream malloc and buffer growth were the h2 path's top user-space
 * cost (about 8% of the lb's CPU under h2load). */
static struct lb_h2_stream *stream_get(struct lb_h2_conn *c, size_t limit)
{
    struct lb_h2_stream *st = c->spare;
    bool reuse = st != NULL;
    struct buf keep[STREAM_NBUFS];
    if (reuse) {
        c->spare = st->next;
        c->nspare--;
        struct buf *bs[STREAM_NBUFS] = STREAM_BUFS(st);
        for (int i = 0; i < STREAM_NBUFS; i++) {
            keep[i] = *bs[i];
            keep[i].off = keep[i].len = 0;
        }
    } else {
        st = xmalloc(sizeof *st);
    }
    /* the header arrays (3.2 KB of response fields, 2 KB of request field
     * offsets) are filled up to their counts: not zeroed */
    size_t a = offsetof(struct lb_h2_stream, hdrs), b = offsetof(struct lb_h2_stream, rstate);
    memset(st, 0, a);
    memset((char *)st + b, 0, sizeof *st - b);
    lb_h2_req_init(&st->req, limit);
    if (reuse) {
        struct buf *bs[STREAM_NBUFS] = STREAM_BUFS(st);
        for (int i = 0; i < STREAM_NBUFS; i++)
            *bs[i] = keep[i];
    } else {
        buf_init(&st->rin);
        buf_init(&st->body);
    }
    return st;
}

/* A closed stream: kept for the next one while c has room and its buffers
 * stayed small, else freed. */
static void stream_put(struct lb_h2_conn *c, struct lb_h2_stream *st)
{
    struct buf *bs[STREAM_NBUFS] = STREAM_BUFS(st);
    bool small = true;
    for (int i = 0; i < STREAM_NBUFS; i++)
        small = small && bs[i]->cap <= H2_SPARE_BUF_MAX;
    if (c->nspare >= H2_SPARE_STREAMS || !small) {
        stream_free(st);
        return;
    }
    st->next = c->spare;
    c->spare = st;
    c->nspare++;
}

static ssize_t data_read(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)ng;
    (void)id;
    (void)ud;
    struct lb_h2_stream *st = src->ptr;
    size_t n = buf_pending(&st->body);
    if (n > len)
        n = len;
    if (n)
        memcpy(out, buf_head(&st->body), n);
    buf_consume(&st->body, n);
    if (buf_pending(&st->body) == 0 && st->rstate == 2) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
        st->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    if (st->s && lb_h2_stream_queued(st->s) < LB_LOW_WATER)
        st->c->ops->stream_drained(st->s);
    return (ssize_t)n;
}

static void stream_rst(struct lb_h2_stream *st, uint32_t code)
{
    if (st->reset)
        return;
    st->reset = true;
    nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id, code);
}

static bool hop_by_hop(const struct http1_header *h)
{
    return http1_header_is(h, "connection") || http1_header_is(h, "keep-alive") ||
           http1_header_is(h, "proxy-connection") || http1_header_is(h, "transfer-encoding") ||
           http1_header_is(h, "upgrade") || http1_header_is(h, "te");
}

/* HEADERS for st: :status and the fields f, with a data provider when a
 * body follows. nghttp2 copies the names and values and lowercases the
 * names as it copies them (nghttp2_nv_array_copy), so HTTP/1.1 names go in
 * as they are. */
static void submit_fields(struct lb_h2_stream *st, int status, const struct http1_header *f, size_t n, bool body)
{
    nghttp2_nv nv[LB_MAX_HEADERS + 3];
    char code[3] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10), (char)('0' + status % 10)};
    size_t k = 0;
    nv[k++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, 3, NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < n && k < sizeof nv / sizeof nv[0]; i++)
        nv[k++] = (nghttp2_nv){(uint8_t *)f[i].name, (uint8_t *)f[i].value, f[i].name_len, f[i].value_len,
                               NGHTTP2_NV_FLAG_NONE};
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = data_read};
    st->submitted = true;
    if (nghttp2_submit_response(st->c->ng, st->id, nv, k, body ? &dp : NULL) != 0)
        stream_rst(st, NGHTTP2_INTERNAL_ERROR);
}

/* The response head the session wrote is parsed: HEADERS without its hop-by-hop fields. */
static void submit_head(struct lb_h2_stream *st)
{
    const struct http1_response *r = &st->res;
    struct http1_header f[LB_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < r->num_headers; i++)
        if (!hop_by_hop(&r->headers[i]))
            f[n++] = r->headers[i];
    submit_fields(st, r->status, f, n, r->body != HTTP1_BODY_NONE);
}

/* Data for the client's window is there (or the answer ended): nghttp2 asks again. */
static void stream_data_ready(struct lb_h2_stream *st)
{
    if (st->deferred && (buf_pending(&st->body) || st->rstate == 2)) {
        st->deferred = false;
        nghttp2_session_resume_data(st->c->ng, st->id);
    }
}

/* Parse what the stream session wrote; returns false when the stream was reset. */
static bool parse_response(struct lb_h2_stream *st)
{
    while (st->rstate == 0) {
        int n = http1_parse_response(buf_head(&st->rin), buf_pending(&st->rin), &st->res, NULL,
                                     buf_pending(&st->req.method) == 4 && memcmp(buf_head(&st->req.method), "HEAD", 4) == 0);
        if (n == HTTP1_INCOMPLETE) {
            if (buf_pending(&st->rin) > 65536)
                n = HTTP1_E_HEADERS_TOO_LARGE;
            else
                return true;
        }
        if (n < 0) {
            stream_rst(st, NGHTTP2_INTERNAL_ERROR);
            return false;
        }
        if (st->res.status < 200) {
            buf_consume(&st->rin, (size_t)n); /* interim answers are not relayed */
            http1_response_reset(&st->res);
            continue;
        }
        st->rbody = st->res.body;
        st->rleft = st->res.content_length;
        if (st->rbody == HTTP1_BODY_CHUNKED)
            http1_chunked_init(&st->rck, NULL);
        submit_head(st);
        buf_consume(&st->rin, (size_t)n);
        st->rstate = st->rbody == HTTP1_BODY_NONE ? 2 : 1;
    }
    if (st->rstate == 1) {
        size_t avail = buf_pending(&st->rin);
        switch (st->rbody) {
        case HTTP1_BODY_LENGTH: {
            size_t n = avail < st->rleft ? avail : (size_t)st->rleft;
            buf_move(&st->rin, &st->body, n);
            st->rleft -= n;
            if (st->rleft == 0)
                st->rstate = 2;
            break;
        }
        case HTTP1_BODY_CHUNKED: {
            size_t off = 0;
            int rc;
            for (;;) {
                const char *d;
                size_t dl, k;
                rc = http1_chunked_next(&st->rck, buf_head(&st->rin) + off, avail - off, &k, &d, &dl);
                off += k;
                if (rc != HTTP1_CHUNK_DATA)
                    break;
                buf_append(&st->body, d, dl);
            }
            buf_consume(&st->rin, off);
            if (rc == HTTP1_CHUNK_DONE) {
                st->rstate = 2;
            } else if (rc < 0) {
                stream_rst(st, NGHTTP2_INTERNAL_ERROR);
                return false;
            }
            break;
        }
        default:
            buf_move(&st->rin, &st->body, avail);
            break;
        }
        buf_consume(&st->rin, 0);
    }
    stream_data_ready(st);
    return true;
}

void lb_h2_stream_head(struct lb_session *s, int status, const struct http1_header *f, size_t n, bool body)
{
    struct lb_h2_stream *st = s->h2s;
    if (!st || st->reset || st->submitted)
        return;
    st->direct = true;
    st->rstate = body ? 1 : 2;
    submit_fields(st, status, f, n, body);
}

void lb_h2_stream_body(struct lb_session *s, const char *p, size_t n)
{
    struct lb_h2_stream *st = s->h2s;
    if (!st || !st->direct || st->reset || n == 0)
        return;
    /* copied: the backend's read buffer stays where it is (moving it here
     * made the upstream allocate a new one for each answer) */
    buf_append(&st->body, p, n);
    stream_data_ready(st);
}

void lb_h2_stream_end(struct lb_session *s)
{
    struct lb_h2_stream *st = s->h2s;
    if (!st || !st->direct)
        return;
    st->rstate = 2;
    stream_data_ready(st);
}

void lb_h2_stream_flush(struct lb_session *s)
{
    struct lb_h2_stream *st = s->h2s;
    if (!st)
        return;
    if (st->direct) {
        buf_consume(&s->out, buf_pending(&s->out)); /* nothing is written there once the answer is relayed */
    } else if (!st->reset) {
        buf_move(&s->out, &st->rin, buf_pending(&s->out));
        parse_response(st);
    } else {
        buf_consume(&s->out, buf_pending(&s->out));
    }
    conn_flush(st->c);
}

size_t lb_h2_stream_queued(const struct lb_session *s)
{
    const struct lb_h2_stream *st = s->h2s;
    return st ? buf_pending(&st->body) + buf_pending(&st->rin) : 0;
}

static void give_back(struct lb_h2_stream *st, size_t n)
{
    if (n && st->c->ng)
        nghttp2_session_consume(st->c->ng, st->id, n);
}

void lb_h2_stream_resume(struct lb_session *s)
{
    struct lb_h2_stream *st = s->h2s;
    if (!st || !st->owed)
        return;
    give_back(st, st->owed);
    st->owed = 0;
    conn_flush(st->c);
}

void lb_h2_stream_detach(struct lb_session *s)
{
    struct lb_h2_stream *st = s->h2s;
    if (!st)
        return;
    s->h2s = NULL;
    st->s = NULL;
    struct lb_h2_conn *c = st->c;
    if (c->closing)
        return;
    give_back(st, st->owed);
    st->owed = 0;
    if (st->rstate == 1 && st->rbody == HTTP1_BODY_UNTIL_CLOSE)
        st->rstate = 2; /* the body ended with the session */
    if (st->rstate != 2) {
        stream_rst(st, NGHTTP2_INTERNAL_ERROR); /* cut in the middle */
    } else if (st->deferred) {
        st->deferred = false;
        nghttp2_session_resume_data(c->ng, st->id);
    }
    if (!st->in_done && !st->reset) {
        /* answered before the client finished its body: it need not send
         * the rest (RFC 9113 8.1), once the answer has gone out */
        st->rst_after = true;
    }
    conn_flush(c);
}

/* ---- input ------------------------------------------------------------------- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    struct lb_h2_conn *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct lb_h2_stream *st = stream_get(c, atomic_load(&c->s->ls->conf)->max_header_size);
    st->c = c;
    st->id = f->hd.stream_id;
    http1_response_init(&st->res, st->hdrs, LB_MAX_HEADERS);
    LIST_PUSH(c->streams, st, prev, next);
    c->nstreams++;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    atomic_fetch_add_explicit(&c->s->ls->h2_streams, 1, memory_order_relaxed);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers are dropped */
    struct lb_h2_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (st)
        lb_h2_req_field(&st->req, name, namelen, value, valuelen); /* errors are answered at the end */
    return 0;
}

/* The request's end: the chunked body's last chunk. */
static void request_end(struct lb_h2_stream *st)
{
    st->in_done = true;
    if (st->s && st->chunked) {
        buf_append(&st->s->in, "0\r\n\r\n", 5);
        st->c->ops->stream_input(st->s);
    }
}

/* The header list is complete: the stream's session takes it as its
 * request (built in place, no HTTP/1.1 text in between). */
static void request_begin(struct lb_h2_conn *c, struct lb_h2_stream *st, bool end_stream)
{
    st->in_done = end_stream;
    st->chunked = !end_stream && !st->req.has_cl; /* what lb_h2_req_build decides */
    struct lb_session *s = c->ops->stream_new(c->s);
    s->h2s = st;
    st->s = s;
    c->ops->stream_request(s, &st->req, !end_stream);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    struct lb_h2_conn *c = ud;
    struct lb_h2_stream *st = f->hd.stream_id ? nghttp2_session_get_stream_user_data(ng, f->hd.stream_id) : NULL;
    c->last_active = lb_now_ms(c->s->w);
    switch (f->hd.type) {
    case NGHTTP2_HEADERS:
        if (!st)
            break;
        if (f->headers.cat == NGHTTP2_HCAT_REQUEST)
            request_begin(c, st, f->hd.flags & NGHTTP2_FLAG_END_STREAM);
        else if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
            request_end(st);
        break;
    case NGHTTP2_DATA:
        if (f->hd.length == 0 && !(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
            long long now = lb_now_ms(c->s->w);
            if (now - c->empty_since > 1000) {
                c->empty_since = now;
                c->nempty = 0;
            }
            if (++c->nempty > H2_MAX_EMPTY_DATA) {
                log_verbose("client %s: h2: empty DATA flood", c->s->ip);
                nghttp2_session_terminate_session(ng, NGHTTP2_ENHANCE_YOUR_CALM);
                break;
            }
        }
        if (st && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
            request_end(st);
        break;
    case NGHTTP2_RST_STREAM: {
        atomic_fetch_add_explicit(&c->s->ls->h2_resets, 1, memory_order_relaxed);
        /* CVE-2023-44487: h2-max-resets per second, a burst of 10x */
        long long rate = atomic_load(&c->s->ls->conf)->h2_max_resets, now = lb_now_ms(c->s->w);
        c->rst_tokens += (double)(now - c->rst_at) * (double)rate / 1000.0;
        if (c->rst_tokens > (double)rate * 10)
            c->rst_tokens = (double)rate * 10;
        c->rst_at = now;
        if (c->rst_tokens < 1) {
            log_verbose("client %s: h2: rapid reset flood", c->s->ip);
            nghttp2_session_terminate_session(ng, NGHTTP2_ENHANCE_YOUR_CALM);
            break;
        }
        c->rst_tokens -= 1;
        break;
    }
    default:
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
    (void)flags;
    (void)ud;
    struct lb_h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || !st->s) {
        nghttp2_session_consume(ng, id, len);
        return 0;
    }
    struct lb_session *s = st->s;
    if (st->chunked) {
        buf_printf(&s->in, "%zx\r\n", len);
        buf_append(&s->in, data, len);
        buf_append(&s->in, "\r\n", 2);
    } else {
        buf_append(&s->in, data, len);
    }
    if (s->paused)
        st->owed += len;
    else
        give_back(st, len);
    st->c->ops->stream_input(s);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    (void)code;
    (void)ud;
    struct lb_h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    stream_unlink(st);
    struct lb_session *s = st->s;
    if (s) {
        /* reset by the client (or by us) while the request was going on */
        s->h2s = NULL;
        st->s = NULL;
        st->c->ops->close(s);
    }
    stream_put(st->c, st);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    struct lb_h2_conn *c = ud;
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        struct lb_h2_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
        if (st && st->rst_after)
            stream_rst(st, NGHTTP2_NO_ERROR);
    }
    if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR)
        atomic_fetch_add_explicit(&c->s->ls->h2_goaways, 1, memory_order_relaxed);
    return 0;
}

/* ---- connection --------------------------------------------------------------- */

bool lb_h2_preface(const char *p, size_t n, bool *complete)
{
    size_t l = sizeof preface - 1;
    *complete = n >= l;
    return memcmp(p, preface, n < l ? n : l) == 0;
}

int lb_h2_conn_start(struct lb_session *s, const struct lb_h2_session_ops *ops)
{
    const struct lb_listener_conf *lc = atomic_load(&s->ls->conf);
    struct lb_h2_conn *c = xcalloc(1, sizeof *c);
    c->s = s;
    c->ops = ops;
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        xfree(c);
        return -1;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_option_new(&opt);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_continuations(opt, 8);
    /* nghttp2's own limit (INTERNAL_ERROR) only backs ours (ENHANCE_YOUR_CALM) up */
    nghttp2_option_set_stream_reset_rate_limit(opt, (uint64_t)lc->h2_max_resets * 20, (uint64_t)lc->h2_max_resets * 2);
    nghttp2_option_set_max_send_header_block_length(opt, 256 * 1024);
    int rc = nghttp2_session_server_new2(&c->ng, cb, c, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rc != 0) {
        xfree(c);
        return -1;
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)lc->h2_max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)lc->max_header_size},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
    uv_prepare_init(&s->w->loop, &c->flush);
    c->flush.data = c;
    c->last_active = c->rst_at = lb_now_ms(s->w);
    c->rst_tokens = (double)lc->h2_max_resets * 10;
    s->h2c = c;
    s->state = LB_S_H2;
    atomic_fetch_add_explicit(&s->ls->h2_conns, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->ls->h2_active, 1, memory_order_relaxed);
    return 0;
}

void lb_h2_conn_input(struct lb_session *s)
{
    struct lb_h2_conn *c = s->h2c;
    if (!c || c->closing)
        return;
    size_t n = buf_pending(&s->in);
    c->in_recv = true;
    ssize_t r = nghttp2_session_mem_recv(c->ng, (const uint8_t *)buf_head(&s->in), n);
    c->in_recv = false;
    buf_consume(&s->in, n);
    if (c->closing)
        return;
    if (r < 0) {
        log_verbose("client %s: h2: %s", s->ip, nghttp2_strerror((int)r));
        atomic_fetch_add_explicit(&s->ls->h2_goaways, 1, memory_order_relaxed);
        if (r == NGHTTP2_ERR_FLOODED || r == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
            c->closing = true; /* it does not read, or does not speak h2: nothing more is said */
            c->ops->close(s);
            return;
        }
        nghttp2_session_terminate_session(c->ng, NGHTTP2_PROTOCOL_ERROR);
    }
    conn_flush(c);
}

void lb_h2_conn_written(struct lb_session *s)
{
    if (s->h2c)
        conn_flush(s->h2c);
}

void lb_h2_conn_close(struct lb_session *s)
{
    struct lb_h2_conn *c = s->h2c;
    if (!c)
        return;
    c->closing = true;
    for (struct lb_h2_stream *st = c->streams; st; st = st->next) {
        struct lb_session *ss = st->s;
        if (ss) {
            ss->h2s = NULL;
            st->s = NULL;
            c->ops->close(ss);
        }
    }
}

void lb_h2_conn_free(struct lb_session *s)
{
    struct lb_h2_conn *c = s->h2c;
    if (!c)
        return;
    s->h2c = NULL;
    while (c->streams) {
        struct lb_h2_stream *st = c->streams;
        stream_unlink(st);
        stream_free(st);
    }
    while (c->spare) {
        struct lb_h2_stream *st = c->spare;
        c->spare = st->next;
        stream_free(st);
    }
    nghttp2_session_del(c->ng);
    c->ng = NULL;
    atomic_fetch_sub_explicit(&s->ls->h2_active, 1, memory_order_relaxed);
    uv_prepare_stop(&c->flush);
    uv_close((uv_handle_t *)&c->flush, on_flush_closed); /* c goes with its handle */
}

void lb_h2_conn_sweep(struct lb_session *s, long long now)
{
    struct lb_h2_conn *c = s->h2c;
    const struct lb_listener_conf *lc = atomic_load(&s->ls->conf);
    if (!c || c->closing)
        return;
    if (s->writing && now - s->last_client > lc->client_timeout_ms) {
        c->ops->close(s); /* the client does not read */
        return;
    }
    if (c->nstreams == 0 && now - c->last_active > lc->keepalive_timeout_ms) {
        if (c->goaway) {
            c->ops->close(s);
            return;
        }
        lb_h2_conn_drain(s);
    }
}

void lb_h2_conn_drain(struct lb_session *s)
{
    struct lb_h2_conn *c = s->h2c;
    if (!c || c->closing || c->goaway)
        return;
    c->goaway = true;
    c->last_active = lb_now_ms(s->w);
    /* graceful: streams already begun are answered, no new ones are taken */
    nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
    conn_flush(c);
}
