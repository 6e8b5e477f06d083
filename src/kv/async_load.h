/*
 * async_load.h — a full sync's RDB loaded on a thread of its own while the
 * server goes on serving its current data (Redis 7.0's "async loading":
 * `repl-diskless-load swapdb` when the primary's replication id is the one
 * this replica already follows).
 *
 *   worker 0 (the master link)            loader thread
 *   socket bytes ─▶ kv_async_load_feed ─▶ queue ─▶ window ─▶ kv_rdb_load_reader
 *        ▲  (stops reading past 8 MB queued)                 │ into new databases
 *        └──────────── wake (room again / finished) ◀────────┘ nobody else sees
 *   kv_async_load_take (lock held): the new databases and libraries replace
 *   the old ones at once; the old data is freed on another thread.
 *
 * The thread touches only the new databases, its queue and window, and the
 * counted allocator; libraries met in the image are kept as code and
 * installed by the caller when it swaps, under the keyspace lock.
 */
#ifndef SCALEOUT_KV_ASYNC_LOAD_H
#define SCALEOUT_KV_ASYNC_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "kv/db.h"
#include "kv/rdb.h"

struct kv_async_load;

/*
 * Worker 0: start a loader into ndbs new databases (each with the LFU
 * settings of the same number in like[]). on_event(arg) runs on loop when
 * the loader has room for more bytes again or has finished. strict_end: the
 * image must be all the bytes fed (a diskless payload, whose end the mark
 * gave); otherwise bytes after its checksum are ignored. NULL when the
 * thread could not start.
 */
struct kv_async_load *kv_async_load_start(struct kv_db *const *like, int ndbs, bool strict_end, uv_loop_t *loop,
                                          void (*on_event)(void *arg), void *arg);
/* Where an image comes from, and how it loads (kv_async_load_start_src). */
struct kv_async_load_src {
    bool strict_end;        /* fed bytes: the image must be all of them */
    int fd;                 /* >= 0: the thread reads the image from this file (a disk
                             * sync's payload), owned: closed by kv_async_load_free;
                             * -1: the image comes through kv_async_load_feed */
    long long key_delay_us; /* sleep per key loaded (Redis's key-load-delay; tests) */
};
/* The same as kv_async_load_start from src; NULL when the thread could not
 * start (src->fd is closed then too). */
struct kv_async_load *kv_async_load_start_src(struct kv_db *const *like, int ndbs, const struct kv_async_load_src *src,
                                              uv_loop_t *loop, void (*on_event)(void *arg), void *arg);
/* Worker 0: more bytes of the image (copied). Returns whether there is room
 * for more now; false: stop reading until on_event. */
bool kv_async_load_feed(struct kv_async_load *l, const void *p, size_t n);
/* Worker 0: the image is complete (no more bytes will come). */
void kv_async_load_end(struct kv_async_load *l);
/* Worker 0: whether there is room for more bytes. */
bool kv_async_load_has_room(struct kv_async_load *l);
/* Any thread: whether the loader finished (see kv_async_load_take). */
bool kv_async_load_done(struct kv_async_load *l);

/* The loader's result after it finished (worker 0). */
struct kv_async_load_result {
    int rc;                         /* 0 loaded, -1 error (err) */
    const char *err;
    const struct kv_rdb_load_stats *st;
    struct kv_db *dbs;              /* the new databases, ndbs of them (rc 0) */
    int ndbs;
};
void kv_async_load_result(struct kv_async_load *l, struct kv_async_load_result *out);
/* The libraries of the image in order (after it finished). */
void kv_async_load_foreach_code(struct kv_async_load *l, void (*cb)(void *arg, const char *code, size_t len),
                                void *arg);

/* INFO persistence: bytes parsed so far, the image's used-mem aux field
 * (0 unknown), when the load began (ms). Any thread. */
void kv_async_load_progress(struct kv_async_load *l, uint64_t *loaded, uint64_t *used_mem, long long *start_ms);

/*
 * Worker 0: stop the loader if it runs (a link that broke), wait for the
 * thread, free what it built (lazy: on another thread when large; the
 * databases kv_async_load_result gave hold whatever data is in them now,
 * the old data after a swap) and release l (its handle closes on loop).
 */
void kv_async_load_free(struct kv_async_load *l, bool lazy);

/* Free databases' contents and the array, on another thread when lazy and
 * they are large (Redis frees a swapped-out dataset without blocking
 * clients), inline otherwise. Takes ownership of dbs (n of them, xcalloc). */
void kv_async_load_free_dbs(struct kv_db *dbs, int n, bool lazy);

#endif
