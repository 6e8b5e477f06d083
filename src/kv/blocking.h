/*
 * blocking.h — clients blocked on keys (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP,
 * and later BZPOPMIN/BZMPOP and XREAD BLOCK), generic over the value type.
 *
 * A blocking command that finds nothing to take calls kv_block() with the
 * keys it waits on, a deadline and a `serve` callback (one per command
 * family). The client then stops executing input until it is served or
 * times out. Waiters queue per key in arrival order.
 *
 *   thread A (any worker)                      thread B (the waiter's worker)
 *   LPUSH k v ─▶ kv_db_add ─▶ on_add: k is "ready"
 *   end of the command (kv_call): for each ready key, its waiters in order:
 *       serve(waiter, k) pops and writes the reply into waiter->reply,
 *       the waiter leaves every queue ─▶ uv_async_send ────▶ reply moved into
 *   (all under the keyspace lock, so nobody sees the      the client's output,
 *    element between the push and the pop)                input resumes
 *
 * The reply is built under the lock by whichever thread serves, into a buffer
 * the waiter owns; the client's own output buffer is only touched by its
 * worker thread. A value that cannot serve (wrong type, empty) leaves the
 * waiter queued, and the waiters after it are still tried (an XREAD whose id
 * is ahead of the stream holds nobody up): blocked clients survive other
 * writes, deletes and type changes of their keys (a serve callback may end a
 * wait with an error instead: XREADGROUP on a deleted stream). Every change of
 * a key (db on_modify) signals it, so types that grow in place need nothing
 * more. Timeouts run on a per-worker timer armed at the
 * earliest deadline of that worker's waiters (millisecond precision).
 *
 * Everything except kv_blocking_new/free and the worker hooks runs with the
 * keyspace lock held.
 */
#ifndef SCALEOUT_KV_BLOCKING_H
#define SCALEOUT_KV_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "proto/resp.h"

struct kv_client;
struct kv_server;
struct kv_worker;
struct kv_blocking;
struct kv_blocked;
struct kv_bwait;
struct kv_obj;

/*
 * Try to serve waiter b from key (klen bytes), which may have received data.
 * Return true when b is done: its whole reply (data or error) is in b->reply
 * and the keyspace changed as the command says. Return false to keep waiting
 * (nothing written, nothing changed).
 */
typedef bool kv_block_serve_fn(struct kv_server *s, struct kv_blocked *b, const char *key, size_t klen);

/* Command parameters a serve callback reads (what they mean is its business). */
struct kv_block_args {
    int where;          /* e.g. LIST_HEAD / LIST_TAIL, min / max */
    int whereto;        /* BLMOVE destination side */
    int reply;          /* reply shape, per family */
    long long count;    /* BLMPOP COUNT */
    char *dst;          /* BLMOVE destination key (owned, may be NULL) */
    size_t dstlen;
    void *priv;         /* anything else (freed with priv_free) */
    void (*priv_free)(void *);
};

struct kv_blocked {
    struct kv_client *c;
    int proto;                  /* the client's RESP version when it blocked */
    kv_block_serve_fn *serve;
    struct kv_block_args a;
    long long deadline_ms;      /* 0: wait forever */
    int db;                     /* the database of its keys */
    bool done;                  /* served or timed out: reply is complete */
    struct buf reply;
    /* internal */
    int nkeys;
    struct kv_bwait *waits;     /* one queue entry per key */
    struct kv_blocked *wprev, *wnext;  /* the worker's blocked clients */
};

struct kv_blocking *kv_blocking_new(struct kv_server *s, int nworkers);
void kv_blocking_free(struct kv_blocking *bk);

/* Worker hooks (worker thread): init before its loop runs; close at shutdown. */
void kv_blocking_worker_init(struct kv_blocking *bk, struct kv_worker *w);
void kv_blocking_worker_close(struct kv_blocking *bk, struct kv_worker *w);

/*
 * Parse a blocking timeout in seconds (Redis getTimeoutFromObjectOrReply):
 * replies Redis's error and returns false when invalid. *deadline_ms is 0
 * for "forever", else an absolute time in ms (saturated, never overflows).
 */
bool kv_block_timeout(struct kv_client *c, const struct resp_arg *a, long long *deadline_ms);

/*
 * Block c on nkeys keys (a duplicate key counts once). Takes ownership of
 * args (dst, priv). Runs on c's worker thread, inside kv_call.
 */
void kv_block(struct kv_client *c, const struct resp_arg *keys, int nkeys, long long deadline_ms,
              kv_block_serve_fn *serve, const struct kv_block_args *args);

/* A key may have data for its waiters (values created by kv_db_add signal by
 * themselves; a type that grows in place, like a stream, calls this). */
void kv_blocking_signal(struct kv_server *s, const char *key, size_t klen);

/* SWAPDB a b: every waited key of a and b may have data now. */
void kv_blocking_swapdb(struct kv_server *s, int a, int b);

/* Serve the waiters of the keys signalled so far (end of every command). */
void kv_blocking_serve_ready(struct kv_server *s);

/* CLIENT UNBLOCK: end target's wait now with a timeout reply, or with the
 * -UNBLOCKED error. false when it is not waiting. */
/* End c's wait with this reply (a waiter without keys, e.g. WAIT, that
 * another module completes). False if c is not waiting. Lock held. */
bool kv_block_finish(struct kv_client *c, const void *reply, size_t n);
bool kv_blocking_unblock(struct kv_client *target, bool error);

/* The client is going away: forget its wait (on_close, lock held). */
void kv_blocking_client_gone(struct kv_client *c);

/* Clients blocked now (INFO blocked_clients). */
unsigned long long kv_blocking_count(const struct kv_blocking *bk);

/* db on_add hook: the object's key may have waiters. arg is the server. */
void kv_blocking_on_add(void *arg, const struct kv_obj *o);
/* db on_modify hook: WATCH (kv_watch_on_modify), then the key's waiters
 * look again (a stream that grew in place, or a deleted stream whose
 * XREADGROUP waiters get an error). arg is the server. */
void kv_blocking_on_modify(void *arg, const char *key, size_t klen);

#endif
