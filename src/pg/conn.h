/*
 * conn.h — one TCP connection on a libuv loop: bytes in, bytes out, close.
 *
 * Knows nothing of PostgreSQL: the owner (a client or a server connection of
 * the pg role) gets callbacks and reads `in`, appends to `out`, and calls
 * pg_conn_flush(). Written to move into the shared service layer as is.
 *
 *   in      bytes received and not yet consumed by the owner;
 *   out     bytes the owner queued; pg_conn_flush() hands them to the kernel
 *           (one uv_write at a time: `out` is swapped with `wbuf`, so the
 *           owner may keep appending while a write is in flight);
 *   pending bytes queued or in flight (for backpressure).
 *
 * The struct is embedded in the owner's; the owner frees its memory in
 * on_close, which runs once, from the libuv close callback, after every
 * callback of the handle.
 */
#ifndef SCALEOUT_PG_CONN_H
#define SCALEOUT_PG_CONN_H

#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/buf.h"

struct pg_conn;
struct pg_tls;
struct net_tls_ctx;

struct pg_conn_ops {
    /* new bytes are in c->in (or the peer closed: eof, and the owner should close) */
    void (*on_read)(struct pg_conn *c, bool eof);
    /* an outgoing connect finished: status 0 or a negative libuv error */
    void (*on_connect)(struct pg_conn *c, int status);
    /* every queued byte was written (may be NULL) */
    void (*on_drain)(struct pg_conn *c);
    /* the handle is closed: free the owner here */
    void (*on_close)(struct pg_conn *c);
};

struct pg_conn {
    union {                         /* the handle: tcp.type says which (one stream either way) */
        uv_tcp_t tcp;
        uv_pipe_t pipe;             /* a Unix-domain socket (a server's socket file) */
    };
    uv_connect_t creq;
    uv_write_t wreq;
    struct buf in, out, wbuf;
    const struct pg_conn_ops *ops;
    void *owner;
    bool reading, writing, closing, close_after_write;
    unsigned long long bytes_in, bytes_out;
    long long connect_ms;           /* wall clock: accepted, or connected (SHOW CLIENTS/SERVERS) */
    long long request_ms;           /* wall clock: its last request (SHOW CLIENTS/SERVERS; 0: none yet) */
    struct pg_tls *tls;             /* TLS (tls.c), or NULL */
    struct buf raw;                 /* TLS: ciphertext read, not yet decrypted */
};

/* Accept one connection from a listening stream. 0 or a negative libuv error
 * (the conn is then closed and on_close will run). Starts reading. */
int pg_conn_accept(uv_loop_t *loop, uv_stream_t *server, struct pg_conn *c, const struct pg_conn_ops *ops, void *owner);
/* Start connecting to addr (AF_INET, AF_INET6, or AF_UNIX: then over a
 * Unix-domain socket); on_connect reports the outcome. 0 or a negative
 * libuv error (then nothing was started and on_close will run). */
int pg_conn_connect(uv_loop_t *loop, struct pg_conn *c, const struct sockaddr *addr, const struct pg_conn_ops *ops,
                    void *owner);
void pg_conn_read_start(struct pg_conn *c);
void pg_conn_read_stop(struct pg_conn *c);
/* Write what `out` holds (no-op when a write is in flight: it continues when that one ends). */
void pg_conn_flush(struct pg_conn *c);
/* Bytes queued and in flight. */
static inline size_t pg_conn_pending(const struct pg_conn *c) { return buf_pending(&c->out) + buf_pending(&c->wbuf); }
/* Close now (queued bytes are dropped). Idempotent. */
void pg_conn_close(struct pg_conn *c);
/* Switch c to TLS (the server side of a handshake; tls.c): from now on bytes
 * read are decrypted into `in` and `out` is encrypted when flushed. 0, or -1. */
int pg_conn_tls_start(struct pg_conn *c, struct net_tls_ctx *ctx);
/* Close once everything queued has been written. */
void pg_conn_close_after_write(struct pg_conn *c);

#endif
