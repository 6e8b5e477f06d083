/*
 * h2.h — HTTP/2 on the client side (h2.c): an HTTP/2 connection is a carrier
 * session (state LB_S_H2) running an nghttp2 server session; each stream is a
 * socketless session of proxy.c (s->h2s) given one request, parsed from the
 * stream's header list as the HTTP/1.1 parser would have, whose answer goes
 * back as HEADERS and DATA frames. Runs on the worker thread that accepted
 * the connection.
 */
#ifndef SCALEOUT_LB_H2_H
#define SCALEOUT_LB_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/http1.h"

struct lb_session;

/* A request's header list as HPACK hands it over, kept for the proxy's
 * parsed request (pure, fuzzed): the pseudo-headers, the regular fields
 * (name and value bytes in store, slices by offset), cookie crumbs joined. */
#define LB_H2_MAX_FIELDS 128

struct lb_h2_field {
    uint32_t name, name_len, value, value_len; /* offsets into store */
};

struct lb_h2_req {
    struct buf method, path, authority, store, cookie;
    struct lb_h2_field f[LB_H2_MAX_FIELDS];
    size_t nfields;
    size_t bytes, limit;            /* list size so far (name + value + 32 each) and its bound */
    size_t nregular;
    int err;                        /* the HTTP1_E_* a malformed list is refused with */
    bool has_cl, chunked, bad, too_large;
};

void lb_h2_req_init(struct lb_h2_req *r, size_t limit);
void lb_h2_req_deinit(struct lb_h2_req *r);
/* One field as decoded by HPACK. Returns 0, or -1 once the request is
 * malformed for HTTP/2 (a bad or misplaced pseudo-header, an uppercase or
 * empty name) or too large; later fields are then ignored. */
int lb_h2_req_field(struct lb_h2_req *r, const uint8_t *name, size_t nl, const uint8_t *value, size_t vl);
/*
 * The parsed request the HTTP/1.1 path would have made of the same message
 * (proto/http1's http1_request_start / _field / _finish: the same checks and
 * codes): method and target from :method and :path, Host from :authority
 * (else the host field; a host field naming another authority is refused),
 * the fields in order without hop-by-hop ones, the cookie crumbs joined with
 * "; " (RFC 9113 8.2.3), and "transfer-encoding: chunked" when body and no
 * content-length (r->chunked: the DATA go up chunked). req's slices point
 * into r, which must not change while req is used. Returns 0 or a negative
 * HTTP1_E_* (HEADERS_TOO_LARGE past the list bound; REQUEST_LINE without
 * :method or :path, as CONNECT).
 */
int lb_h2_req_build(struct lb_h2_req *r, bool body, const struct http1_limits *lim, struct http1_request *req);

/* Whether p[0, n) agrees with the client connection preface; *complete when
 * all of it is there. */
bool lb_h2_preface(const char *p, size_t n, bool *complete);

/* What h2.c asks of the sessions (proxy.c gives it at lb_h2_conn_start;
 * h2.c calls nothing of proxy.c by name). */
struct lb_h2_session_ops {
    /* A socketless session for one stream of carrier c (state HEAD: the
     * caller gives it its request with stream_request). */
    struct lb_session *(*stream_new)(struct lb_session *c);
    /* The stream's header list: made into s->req (lb_h2_req_build with the
     * listener's limits) and handled as an HTTP/1.1 request head would be
     * (a refused one is answered with the same status). r must outlive s. */
    void (*stream_request)(struct lb_session *s, struct lb_h2_req *r, bool body);
    /* Body bytes were appended to s->in. */
    void (*stream_input)(struct lb_session *s);
    /* The stream's queued answer dropped under the low mark. */
    void (*stream_drained)(struct lb_session *s);
    void (*close)(struct lb_session *s);
    void (*flush)(struct lb_session *s);
};

/* carrier sessions */
/* Start HTTP/2 on s (ALPN h2 or the h2c preface): SETTINGS go out; s->in is
 * then fed by lb_h2_conn_input. Returns 0 or -1. */
int lb_h2_conn_start(struct lb_session *s, const struct lb_h2_session_ops *ops);
void lb_h2_conn_input(struct lb_session *s);
/* s's output was written: produce more frames. */
void lb_h2_conn_written(struct lb_session *s);
/* s is closing: its streams' sessions are closed. */
void lb_h2_conn_close(struct lb_session *s);
/* s's memory goes: the nghttp2 session and what is left of the streams. */
void lb_h2_conn_free(struct lb_session *s);
/* Idle connections (no stream for timeout-keepalive) get a GOAWAY, then close. */
void lb_h2_conn_sweep(struct lb_session *s, long long now);
/* Graceful GOAWAY: streams begun are answered, then the connection closes. */
void lb_h2_conn_drain(struct lb_session *s);

/* stream sessions */
/* Take what the session wrote to s->out: an HTTP/1.1 answer of the lb's own
 * (errors, cache hits), parsed into HEADERS and DATA. */
void lb_h2_stream_flush(struct lb_session *s);
/* A backend's answer relayed without HTTP/1.1 text in between: HEADERS from
 * status and the n end-to-end fields f (any case; copied), then body bytes
 * given by lb_h2_stream_body (decoded: no chunk framing) until
 * lb_h2_stream_end. body: false when the answer has none (HEAD, 204, 304). */
void lb_h2_stream_head(struct lb_session *s, int status, const struct http1_header *f, size_t n, bool body);
void lb_h2_stream_body(struct lb_session *s, const char *p, size_t n);
/* The relayed answer is complete (nothing for an answer given by s->out). */
void lb_h2_stream_end(struct lb_session *s);
/* Response bytes waiting for the client's window (backpressure on the backend). */
size_t lb_h2_stream_queued(const struct lb_session *s);
/* The session reads again: the DATA held back is given back to the window. */
void lb_h2_stream_resume(struct lb_session *s);
/* The session is closing: the stream ends (or is reset when its answer was cut). */
void lb_h2_stream_detach(struct lb_session *s);

#endif
