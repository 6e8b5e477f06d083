/*
 * cache.h — the lb's edge cache (like nginx proxy_cache or Varnish): one
 * store per process shared by the worker threads, objects kept whole in
 * memory (head + de-chunked body) under a byte limit with LRU eviction.
 *
 *   key       host (lower case) + normalised origin-form target (path and
 *             query); GET and HEAD share it. A response's Vary adds a
 *             secondary key: the values the listed request fields had.
 *   lookup    fresh: the answer is written at once (304 for a matching
 *             conditional, 206 for one byte range, no body for HEAD);
 *             stale within stale-while-revalidate: written too, and the
 *             caller refreshes; stale otherwise: the caller revalidates
 *             (the fill carries the object's ETag / Last-Modified).
 *   fill      one origin fetch per key: requests that miss while a fill
 *             runs wait for it (bounded; on another worker through a shadow
 *             of the fill on that worker's loop), then look up again, or go
 *             to the origin when it turned out uncacheable.
 *
 * Rules (what is stored, for how long) are pure functions in cache_policy.c.
 * Locking: one mutex around the table and the LRU list; a hit copies the
 * object into the client's output buffer under it (no allocation besides
 * that write). Objects are immutable once stored (a revalidation stores a
 * new one) and reference counted, so a fill can hold the stale one.
 */
#ifndef SCALEOUT_LB_CACHE_H
#define SCALEOUT_LB_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "lb/cache_policy.h"
#include "proto/http1.h"

struct lb_cache;
struct lb_cache_obj;
struct lb_cache_fill;

struct lb_cache *lb_cache_new(void);
void lb_cache_free(struct lb_cache *c);
/* Memory limit (bytes; 0: store nothing), largest object, waiters per fill. */
void lb_cache_configure(struct lb_cache *c, uint64_t max_bytes, uint64_t max_object, int max_waiters);
/* A memory limit is set (the store exists from the start; `cache 0` turns it off). */
bool lb_cache_enabled(const struct lb_cache *c);

struct lb_cache_key {
    const char *host;               /* NULL: none */
    size_t host_len;
    const char *path;               /* origin form with query */
    size_t path_len;
    uint64_t hash;
    bool https;                     /* the scheme is part of the key: http and https never share */
};
void lb_cache_key_init(struct lb_cache_key *k, const char *host, size_t hl, const char *path, size_t pl, bool https);

/* How to answer a request from an object. */
struct lb_cache_answer {
    struct buf *out;
    const struct http1_request *req; /* method, conditionals, Range */
    bool close;                     /* Connection: close */
    bool keepalive_hdr;             /* Connection: keep-alive (HTTP/1.0 client) */
    int status;                     /* out: the status written */
    uint64_t seen;                  /* out: the store's insert count at the lookup */
};

enum lb_cache_result {
    LB_CACHE_MISS,                  /* nothing usable: fetch (or wait for the fill) */
    LB_CACHE_HIT,                   /* fresh: answered */
    LB_CACHE_STALE_SERVED,          /* stale-while-revalidate: answered; refresh it */
    LB_CACHE_STALE,                 /* stale: revalidate (*stale holds a reference) */
    LB_CACHE_PASS,                  /* the URL answered uncacheably lately: fetch without others waiting */
};

/* Look up the request; now_ms: the loop clock. */
enum lb_cache_result lb_cache_lookup(struct lb_cache *c, const struct lb_cache_key *k, long long now_ms,
                                     struct lb_cache_answer *a, struct lb_cache_obj **stale);
void lb_cache_obj_unref(struct lb_cache_obj *o);
/* Answer a from o (xcache: the X-Cache value). */
void lb_cache_write(struct lb_cache *c, const struct lb_cache_obj *o, long long now_ms, const char *xcache,
                    struct lb_cache_answer *a);

/* ---- fills ---------------------------------------------------------------- */

/* What a request that missed does about its URL's fill, decided under the
 * store's lock so that two requests never both fetch:
 *   WAIT   *f runs: wait on it (when another worker runs it, *f is a shadow
 *          of it on this worker's loop, woken when the fill finishes)
 *   OWN    none ran and claim was set: *f is new, already found by others;
 *          lb_cache_fill_begin it, then fetch
 *   NONE   none runs, none claimed
 *   AGAIN  an object of the URL was stored after the lookup (seen: the
 *          lookup's a->seen): look up again */
enum lb_cache_join { LB_CACHE_JOIN_WAIT, LB_CACHE_JOIN_OWN, LB_CACHE_JOIN_NONE, LB_CACHE_JOIN_AGAIN };
enum lb_cache_join lb_cache_fill_join(struct lb_cache *c, int worker, uv_loop_t *loop, const struct lb_cache_key *k,
                                      uint64_t seen, bool claim, struct lb_cache_fill **f);
/* reqhead is the client's request head (copied: Vary values), stale a
 * reference the fill takes over (or NULL), bg: the client was answered. */
void lb_cache_fill_begin(struct lb_cache_fill *f, const char *reqhead, size_t reqhead_len, struct lb_cache_obj *stale,
                         bool bg);
/* A fill made and begun at once; coalesce: others may wait for it (without
 * the join's guarantee: for fetches nobody waits for, and tests). */
struct lb_cache_fill *lb_cache_fill_start(struct lb_cache *c, int worker, uv_loop_t *loop,
                                          const struct lb_cache_key *k, const char *reqhead, size_t reqhead_len,
                                          struct lb_cache_obj *stale, bool bg, bool coalesce);
/* Room for one more waiter (counted when true); the waiters' list head,
 * kept by the caller (proxy.c links its sessions). */
bool lb_cache_fill_wait(struct lb_cache_fill *f);
void lb_cache_fill_unwait(struct lb_cache_fill *f);
void **lb_cache_fill_waiters(struct lb_cache_fill *f);
bool lb_cache_fill_bg(const struct lb_cache_fill *f);
const struct lb_cache_obj *lb_cache_fill_stale(const struct lb_cache_fill *f);
/* The head that goes to the origin: the client's conditionals and Range
 * removed (the cache wants the whole object), the stale object's
 * validators added. hold holds the rewritten request head. */
void lb_cache_upstream_head(const struct lb_cache_fill *f, struct buf *hold);

/* The origin's final response head. Returns:
 *   1  stored as it comes: feed the body (lb_cache_fill_data / _chunked)
 *   2  304 to a revalidation: the object was refreshed; answer from
 *      lb_cache_fill_object (the 304 itself is not relayed)
 *   0  not stored (the caller finishes the fill with ok=false) */
int lb_cache_fill_head(struct lb_cache_fill *f, const struct http1_response *r, const struct lb_cache_rules *rules,
                       long long now_ms);
const struct lb_cache_obj *lb_cache_fill_object(const struct lb_cache_fill *f);
/* Answer the fill's own request (its head as it was started) from o. */
void lb_cache_fill_answer(struct lb_cache_fill *f, const struct lb_cache_obj *o, long long now_ms, const char *xcache,
                          struct buf *out, bool close, bool keepalive_hdr);
/* Body bytes (decoded / still chunk-framed). false: too large, stop feeding. */
bool lb_cache_fill_data(struct lb_cache_fill *f, const char *d, size_t n);
bool lb_cache_fill_chunked(struct lb_cache_fill *f, const char *d, size_t n);
/* Whether the (fill's) stale object may stand in for an error now. */
bool lb_cache_fill_stale_on_error(const struct lb_cache_fill *f, long long now_ms);
bool lb_cache_obj_stale_on_error(const struct lb_cache_obj *o, long long now_ms);
/* The origin failed (error, timeout, 5xx); stale_served: the stale object
 * answered instead. Decides what the waiters do (enum lb_cache_wake). */
void lb_cache_fill_failed(struct lb_cache_fill *f, bool stale_served);

enum lb_cache_wake {
    LB_CACHE_WAKE_LOOKUP,           /* look up again (stored, or the fetch was abandoned) */
    LB_CACHE_WAKE_PASS,             /* go to the origin (uncacheable, or the origin failed) */
    LB_CACHE_WAKE_STALE,            /* the origin failed, stale-if-error applies: take the stale object */
};
/* The fill is over: ok stores what was collected. Waiters are woken on the
 * next loop turn: wake(waiters list head, enum lb_cache_wake). The fill is
 * freed after. */
void lb_cache_fill_finish(struct lb_cache_fill *f, bool ok, long long now_ms, void (*wake)(void *head, int mode));

/* ---- admin, metrics ------------------------------------------------------- */

/* Drop objects: the one URL (every Vary variant) or every URL starting
 * with prefix; host NULL or "": any host. Returns the number dropped. */
long long lb_cache_purge(struct lb_cache *c, const char *host, const char *path, bool prefix);
void lb_cache_metrics(struct lb_cache *c, struct buf *out);
/* Counters for lookups that did not use the store (bypass) and passes. */
void lb_cache_count_pass(struct lb_cache *c);
/* A stale object stood in for an origin error (stale-if-error). */
void lb_cache_note_stale(struct lb_cache *c);

#endif
