/*
 * session.h — the lb's HTTP session and upstream connection as data: the
 * structs that proxy.c, upstream.c, headers.c, cache.c and h2.c all read.
 * Only types and limits live here; the functions that drive a session are
 * in proxy.h. h2.c includes this header and not proxy.h: it reaches proxy.c
 * only through struct lb_h2_session_ops (h2.h), so proxy and h2 do not
 * include each other.
 *
 * Thread: a session and its upstream connection live on the worker that
 * accepted the client.
 */
#ifndef SCALEOUT_LB_SESSION_H
#define SCALEOUT_LB_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "lb/lb.h"
#include "net/peer.h"
#include "proto/http1.h"

/* Backpressure: a side stops reading when the other side has this much
 * unwritten, and starts again under the low mark. */
#define LB_HIGH_WATER (256 * 1024)
#define LB_LOW_WATER (64 * 1024)
#define LB_READ_SIZE (16 * 1024)

/* What an upstream connection reports to the session using it. proxy.c
 * gives it at the connect; upstream.c calls back through it and never calls
 * proxy.c by name (no circle between the two files). */
struct lb_upstream_events {
    void (*connected)(struct lb_session *s, struct lb_upstream *u, int status);
    /* n > 0: bytes appended to u->in; n < 0: EOF or error (reads or writes). */
    void (*read)(struct lb_session *s, struct lb_upstream *u, ssize_t n);
    /* u's output dropped under the low mark. */
    void (*drained)(struct lb_session *s, struct lb_upstream *u);
};

struct lb_upstream {
    const struct lb_upstream_events *ev;
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct lb_worker *w;
    struct net_peer *peer;           /* a reference */
    struct lb_session *s;           /* the session using it; NULL while idle */
    struct net_idle inode;          /* the peer's idle list on this worker */
    struct lb_upstream *prev, *next;   /* the worker's list */
    struct buf in, out, wbuf;       /* out collects, wbuf is being written */
    struct net_tls_conn *tls;       /* backend-tls: in gets plaintext, out is encrypted into cout */
    struct buf cout;
    bool connected, writing, closing, idle, paused, reused;
    long long idle_since;
    unsigned nreq;                  /* requests sent on it */
    struct http1_response res;
    struct http1_header hdrs[LB_MAX_HEADERS];
};

enum lb_sess_state {
    LB_S_IDLE,      /* keep-alive: waiting for a request's first byte */
    LB_S_HEAD,      /* receiving a request head */
    LB_S_QUEUED,    /* every usable peer is at maxconn: waiting in the pool queue */
    LB_S_CONNECT,   /* connecting to the chosen peer */
    LB_S_PROXY,     /* request going up, response coming down */
    LB_S_CACHEWAIT, /* edge cache: waiting for another request's fetch of the same URL */
    LB_S_TUNNEL,    /* after a 101 to an Upgrade request: bytes both ways (timeout-tunnel) */
    LB_S_H2,        /* an HTTP/2 connection: frames (h2.c), each stream a session of its own */
};

/* The request as it is routed and forwarded (lb_http_target). */
struct lb_target {
    const char *path;               /* origin form, normalised; "*" for OPTIONS * */
    size_t path_len;
    const char *host;               /* Host, or the authority of an absolute-form target; NULL: none */
    size_t host_len;
};

struct lb_session {
    uv_tcp_t tcp;
    struct lb_worker *w;
    struct lb_listener *ls;
    struct lb_session *prev, *next; /* the worker's list */
    struct net_qnode qnode;          /* the pool queue (LB_S_QUEUED) */
    enum lb_sess_state state;
    bool closing, writing, paused, client_eof, close_after;
    bool in_head;                   /* process_head is on the stack */
    bool trimmed;                   /* idle buffers freed (session_trim); cleared by a read */
    struct net_tls_conn *tls;       /* TLS listener: the client side's TLS state; NULL plain */
    struct lb_h2_conn *h2c;         /* LB_S_H2: the HTTP/2 connection (h2.c) */
    struct lb_h2_stream *h2s;       /* an HTTP/2 stream's session: no socket, h2.c carries its bytes */
    bool h2_tls;                    /* that stream came over TLS */
    bool h2_stream;                 /* an HTTP/2 stream's session (kept for the next stream once closed) */
    struct buf in;                  /* client bytes not yet forwarded */
    struct buf out, wbuf;           /* to the client: out collects, wbuf is being written */
    uv_write_t wreq;
    char ip[64];                    /* client address, no port */
    uint64_t iphash;
    long long since;                /* when the current state began (loop ms) */
    long long queued_since;         /* when the request first waited in the queue */
    long long last_client, last_up; /* last byte from the client / to or from the peer */
    unsigned nrequests;

    /* the current request */
    struct http1_request req;
    struct http1_header hdrs[LB_MAX_HEADERS];
    struct lb_target tgt;           /* valid while begin_request runs (points into its stack) */
    enum http1_method meth;
    bool req_keepalive, req_http10, idempotent;
    bool upgrade;                   /* forwarded with Connection: Upgrade (a 101 makes a tunnel) */
    struct net_pool *pool;
    struct net_peer *peer;           /* a reference while the request holds a slot */
    struct lb_upstream *up;
    struct buf hold;                /* rewritten head (+ body) until sent; kept for a retry */
    bool replay;                    /* hold has the whole request: a retry can resend it */
    uint64_t key;
    bool has_key;
    char sticky[17];                /* sticky cookie value sent by the client */
    struct net_peer *tried[4];
    int ntried;
    int fail_status;                /* answer if no retry is possible */
    enum http1_body req_body;
    uint64_t req_left;
    struct http1_chunked req_ck;
    bool req_done;                  /* the whole request is read from the client */
    bool req_sent;                  /* the head went up */
    long long t_sent_us;            /* when the request went up (latency) */
    char reqid[33];
    long long retry_after;          /* for 429 */

    /* the response */
    bool resp_started, resp_head_done, resp_done, resp_keepalive, dechunk;
    int status;
    enum http1_body resp_body;
    uint64_t resp_left;
    struct http1_chunked resp_ck;

    /* edge cache (cache.c) */
    struct lb_cache_fill *cfill;    /* the origin fetch this request feeds, or NULL */
    struct lb_cache_fill *cwait;    /* the fetch it waits for (LB_S_CACHEWAIT) */
    struct lb_session *cwait_prev, *cwait_next;
    size_t chead_len;               /* its head, kept in s->in while it waits */
    const char *xcache;             /* X-Cache of a relayed response; NULL: none */
    bool cache_pass;                /* go to the origin (the fetch it waited for was not stored) */
    bool cache_stale_ok;            /* that fetch failed and stale-if-error applied: take the stale object */
    bool cache_sink;                /* background refresh: the client already has its answer */
};

#endif
