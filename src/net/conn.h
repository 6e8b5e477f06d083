/*
 * conn.h — the connection layer every role's sockets share: the libuv write
 * path (try the write at once, queue the rest), the read buffer and the
 * back-pressure marks, and the intrusive doubly-linked lists that hold a
 * worker's connections.
 *
 * A connection keeps two output buffers: `out`, where replies collect, and
 * `wbuf`, the bytes a uv_write is sending. A flush tries uv_try_write on out
 * first (one syscall, nothing queued: the common case); what the socket does
 * not take swaps into wbuf and goes out with uv_write while the next replies
 * collect in out again. Only one uv_write is in flight per direction.
 *
 *      out ──try_write──▶ socket            (all taken: done)
 *       │ rest
 *       └── swap ──▶ wbuf ──uv_write──▶ socket ──on_written──▶ consume wbuf, flush again
 *
 * Everything here is static inline: it runs on every reply of kv, lb, router
 * and pg, and an out-of-line call would show in their CPU per operation.
 * The owner keeps its own state (closing, counters, TLS, what to do when all
 * is sent) and closes the handle itself (kv, lb and pg each do more on close:
 * registries, pools, TLS): these helpers only move bytes and say what happened.
 *
 * Thread: the connection's loop thread, as every libuv call.
 */
#ifndef SCALEOUT_NET_CONN_H
#define SCALEOUT_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/buf.h"
#include "core/list.h"

/* ---- write path ---------------------------------------------------------- */

enum {
    NET_WRITE_DONE = 0,   /* nothing left in out: every byte went to the socket */
    NET_WRITE_QUEUED = 1, /* the rest is in inflight, a uv_write sends it; cb runs */
};

/*
 * Send what `out` holds on st: uv_try_write first, the rest by swapping out
 * and inflight and starting one uv_write of inflight (req->data = data, cb
 * when written). Call only while no write of this connection is in flight
 * (*busy false; inflight empty); *busy is set while the uv_write runs.
 * *written gets the bytes uv_try_write took (0 when none).
 * Returns NET_WRITE_DONE (out empty, nothing queued; also when out was empty),
 * NET_WRITE_QUEUED, or a negative libuv error (the socket failed: close it;
 * cb is never called then).
 */
static inline int net_conn_write(uv_stream_t *st, struct buf *out, struct buf *inflight, uv_write_t *req, void *data,
                                 uv_write_cb cb, bool *busy, size_t *written)
{
    *written = 0;
    if (buf_pending(out) == 0)
        return NET_WRITE_DONE;
    uv_buf_t b = uv_buf_init(buf_head(out), (unsigned)buf_pending(out));
    int n = uv_try_write(st, &b, 1);
    if (n > 0) {
        buf_consume(out, (size_t)n);
        *written = (size_t)n;
    } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
        return n;
    }
    if (buf_pending(out) == 0)
        return NET_WRITE_DONE;
    struct buf tmp = *inflight;
    *inflight = *out;
    *out = tmp;
    *busy = true;
    req->data = data;
    uv_buf_t wb = uv_buf_init(buf_head(inflight), (unsigned)buf_pending(inflight));
    int r = uv_write(req, st, &wb, 1, cb);
    if (r != 0) {
        *busy = false;
        return r;
    }
    return NET_WRITE_QUEUED;
}

/*
 * In the uv_write callback, after a successful write: the bytes of inflight
 * have left; drop them and give back memory above keep bytes. Returns how
 * many bytes that write sent.
 */
static inline size_t net_conn_written(struct buf *inflight, size_t keep)
{
    size_t n = buf_pending(inflight);
    buf_consume(inflight, n);
    buf_shrink(inflight, keep);
    return n;
}

/* Bytes a connection holds for the socket, queued and in flight: what the
 * high- and low-water marks are compared with. */
static inline size_t net_conn_backlog(const struct buf *out, const struct buf *inflight)
{
    return buf_pending(out) + buf_pending(inflight);
}

/* ---- an output queue ----------------------------------------------------- */

/*
 * The write side of a connection that needs nothing more than "send these
 * bytes, in order": what is queued collects in out, net_out_flush sends it
 * (uv_try_write first, the rest by one uv_write at a time, as above). For
 * clients and small servers (app, sentinel, the kv replica link); the
 * busy paths of kv, lb and pg keep the pieces in their own structs.
 */
struct net_out {
    struct buf out;  /* queued, not yet handed to the socket */
    struct buf wbuf; /* what the uv_write in flight sends */
    uv_write_t req;
    bool busy;       /* a uv_write is in flight: its callback runs */
};

#define NET_OUT_KEEP (16 * 1024) /* wbuf memory kept between writes */

static inline void net_out_init(struct net_out *o)
{
    buf_init(&o->out);
    buf_init(&o->wbuf);
    o->busy = false;
}

static inline void net_out_deinit(struct net_out *o)
{
    buf_deinit(&o->out);
    buf_deinit(&o->wbuf);
}

/*
 * Send what out holds, unless a write is in flight (its callback calls this
 * again). req->data = data and cb runs when a queued write ends; cb must call
 * net_out_written first. Returns NET_WRITE_DONE, NET_WRITE_QUEUED, or a
 * negative libuv error: the socket failed, everything queued is dropped and
 * the owner closes the connection (cb is not called for it).
 */
static inline int net_out_flush(uv_stream_t *st, struct net_out *o, void *data, uv_write_cb cb)
{
    if (o->busy)
        return NET_WRITE_QUEUED;
    size_t written;
    int r = net_conn_write(st, &o->out, &o->wbuf, &o->req, data, cb, &o->busy, &written);
    if (r < 0) {
        buf_consume(&o->out, buf_pending(&o->out));
        buf_consume(&o->wbuf, buf_pending(&o->wbuf));
    }
    return r;
}

/* First thing in the uv_write callback, whatever its status. */
static inline void net_out_written(struct net_out *o)
{
    o->busy = false;
    net_conn_written(&o->wbuf, NET_OUT_KEEP);
}

/* Nothing queued and nothing in flight. */
static inline bool net_out_idle(const struct net_out *o) { return !o->busy && buf_pending(&o->out) == 0; }

/* ---- read path ----------------------------------------------------------- */

/*
 * The uv_alloc_cb body of a buffered reader: room for at least want bytes at
 * the tail of in, and at most `most` of it offered to the read (a pipelining
 * client must not balloon its buffer). Fill *out with that room.
 */
static inline void net_conn_read_room(struct buf *in, size_t want, size_t most, uv_buf_t *out)
{
    buf_reserve(in, want);
    size_t room = buf_room(in);
    if (room > most)
        room = most;
    *out = uv_buf_init(buf_tail(in), (unsigned)(room > (1u << 30) ? (1u << 30) : room));
}

/* ---- back-pressure ------------------------------------------------------- */

/* Stop reading st (when *paused was false): the peer writes faster than the
 * other side takes. Returns true if it paused now. */
static inline bool net_conn_pause(uv_stream_t *st, bool *paused)
{
    if (*paused)
        return false;
    *paused = true;
    uv_read_stop(st);
    return true;
}

/* Read st again after a pause. Returns true if it resumed now. */
static inline bool net_conn_resume(uv_stream_t *st, bool *paused, uv_alloc_cb alloc, uv_read_cb read)
{
    if (!*paused)
        return false;
    *paused = false;
    uv_read_start(st, alloc, read);
    return true;
}

/* ---- intrusive lists ----------------------------------------------------- */

/* A worker's connections sit on intrusive lists: LIST_PUSH / LIST_REMOVE of
 * core/list.h (included here for that). */

#endif
