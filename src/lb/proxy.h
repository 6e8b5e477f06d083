/*
 * proxy.h — the HTTP proxy: client sessions (proxy.c) and upstream
 * connections with their per-peer idle pools (upstream.c). The state machine
 * and where a request lives at each step are drawn at the top of proxy.c;
 * the session and upstream structs are in session.h.
 *
 * Everything here runs on the worker that accepted the client; a session and
 * its upstream connection never change thread.
 */
#ifndef SCALEOUT_LB_PROXY_H
#define SCALEOUT_LB_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "lb/lb.h"
#include "lb/session.h"
#include "net/peer.h"
#include "proto/http1.h"

/* upstream.c */
/* A new connection to p for session s (connect in progress), reporting to ev
 * (kept for the connection's life); NULL with the libuv error in *err when the
 * connect cannot even start. */
struct lb_upstream *lb_upstream_connect(struct lb_worker *w, struct net_peer *p, struct lb_session *s,
                                        const struct lb_upstream_events *ev, int *err);
/* An idle pooled connection to p, detached from the pool, or NULL. */
struct lb_upstream *lb_upstream_take(struct lb_worker *w, struct net_peer *p);
/* Return a connection whose exchange completed cleanly to p's idle pool
 * (closed instead when the pool is full or the peer takes no new work). */
void lb_upstream_park(struct lb_upstream *u);
/* Write what u->out holds. */
void lb_upstream_flush(struct lb_upstream *u);
void lb_upstream_close(struct lb_upstream *u);
/* Stop / restart reading (backpressure from the client side). */
void lb_upstream_pause(struct lb_upstream *u);
void lb_upstream_resume(struct lb_upstream *u);
/* Close idle connections past timeout-idle or to peers no longer usable. */
void lb_upstream_sweep(struct lb_worker *w, long long now);
void lb_upstream_close_all(struct lb_worker *w);

/* headers.c */
/* Whether r asks for a protocol switch the lb tunnels (WebSocket and the
 * like: GET, HTTP/1.1, Connection: upgrade, an Upgrade field, not h2c). */
bool lb_http_is_upgrade(const struct http1_request *r);
/* Fill t from r: the target in origin form with its path normalised
 * (http1_normalize_path) and the host the request is for. buf must hold
 * r->target_len + 1 bytes and outlive t. Returns 0, or an HTTP1_E_* to answer
 * (400): a path two servers could read differently, an absolute-form target
 * that is not http(s)://authority... */
int lb_http_target(const struct http1_request *r, char *buf, struct lb_target *t);
/* The pool of the first route that matches (r, t), else the default pool (NULL: 404). */
struct net_pool *lb_http_route(const struct lb_listener_conf *c, const struct http1_request *r,
                              const struct lb_target *t);
/* s->key / s->has_key from the pool's hash key, s->sticky from its cookie. */
void lb_http_request_key(struct lb_session *s);
/* The head that goes to the backend, into s->hold (sets s->reqid). */
void lb_http_request_head(struct lb_session *s);
/* The client's request as HTTP/1.1 text as it came (request line and fields
 * unchanged, no body) appended to o: what the edge cache keeps of a fetch's
 * request when it came over HTTP/2 and so has no text of its own. */
void lb_http_request_text(const struct http1_request *r, struct buf *o);
/* Status line and end-to-end fields of r into o (no final CRLF: the caller
 * adds Connection, Set-Cookie, then the blank line). dechunk: drop
 * Transfer-Encoding (the body is decoded for an HTTP/1.0 client). */
void lb_http_response_head(struct buf *o, const struct http1_response *r, bool dechunk);
/* The same end-to-end fields of r as slices into out (at most max; returns
 * how many): an HTTP/2 stream's answer goes out as HEADERS from them. */
size_t lb_http_response_fields(const struct http1_response *r, bool dechunk, struct http1_header *out, size_t max);

#endif
