/*
 * aof.h — the append-only file, in Redis 7.0's multi-part layout, so that
 * redis-server 7.0 loads what kv writes and kv loads what redis-server writes:
 *
 *   <dir>/<appenddirname>/
 *       <appendfilename>.manifest            "file <name> seq <n> type b|i" lines
 *       <appendfilename>.<n>.base.rdb        the keyspace at the last rewrite (RDB;
 *         or .base.aof                       commands when aof-use-rdb-preamble no)
 *       <appendfilename>.<m>.incr.aof        the command stream since (RESP)
 *
 * The stream comes from the propagation point (propagate.h), encoded straight
 * into the AOF buffer (a command costs a buffer append). After each loop
 * iteration a worker writes the whole buffer with one write() before the
 * replies of that iteration go out (kv_aof_fsync, as Redis's beforeSleep);
 * appendfsync always also fdatasyncs there (group commit), everysec leaves
 * the fsync to a thread that runs once a second, no to the kernel. As in
 * Redis, an everysec write waits (and the replies do not) while that
 * thread's fdatasync runs, for up to 2 s (then aof_delayed_fsync counts it).
 *
 * BGREWRITEAOF (and CONFIG SET appendonly yes) opens a new incr file first,
 * records it in the manifest, then forks a child that writes the new base from
 * its copy of the keyspace; clients go on, their writes go to the new incr
 * file. When the child succeeds the manifest becomes new base + new incr and
 * the older files are deleted; when it fails, the old base and both incr
 * files still hold everything.
 *
 * Loading replays the incr files through the normal dispatch with a fake
 * client. A last command cut short (a crash mid-write) or an unfinished
 * MULTI at the end of the last file is cut off when aof-load-truncated is
 * yes (logged with the offset); otherwise, and for any garbage in the
 * middle, the server refuses to start naming the file and offset.
 * Everything runs with the keyspace lock held, except load (before the
 * workers start).
 */
#ifndef SCALEOUT_KV_AOF_H
#define SCALEOUT_KV_AOF_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/config.h"

struct kv_server;
struct kv_client;
struct resp_arg;

enum { KV_FSYNC_NO = 0, KV_FSYNC_ALWAYS = 1, KV_FSYNC_EVERYSEC = 2 };
extern const struct conf_enum kv_appendfsync_names[];

/* Start-up, before the workers: when appendonly is yes and a manifest
 * exists, load the AOF (*loaded = true) instead of the RDB. 0 ok, -1 the
 * server must not start (message logged and printed). */
int kv_aof_load(struct kv_server *s, bool *loaded);
/* The manifest's content. */
#define KV_AOF_MAX_INCR 64
struct kv_aof_manifest {
    int base_seq; /* 0: none */
    bool base_rdb;
    int incr[KV_AOF_MAX_INCR];
    int nincr;
};
/* Parse a manifest's text; path names it in messages. 0, or -1 with err
 * naming the line. Names must match appendfilename. */
int kv_aof_manifest_parse(struct kv_server *s, const char *text, size_t len, const char *path,
                          struct kv_aof_manifest *m, char *err, size_t errlen);
/* Replay a command stream from memory with a fake client, as one (last)
 * incr file: 0, or -1 with err naming the offset. data is decoded in place.
 * A truncated tail follows aof-load-truncated (cut: 0; no: -1). skip (tests,
 * fuzzing; NULL none): commands parsed but not run. */
int kv_aof_load_mem(struct kv_server *s, char *data, size_t len, bool (*skip)(const struct resp_arg *), char *err,
                    size_t errlen);
/* Start-up, after loading: when appendonly is yes, open the AOF for
 * appending (writing a base file first when there is no manifest). */
int kv_aof_open(struct kv_server *s);
/* Write (and with appendfsync always, fsync) what the commands since the
 * last call propagated. Before replies leave; lock held. */
void kv_aof_flush(struct kv_server *s);
/* End of a batch (lock held): with appendfsync always, true when bytes are
 * pending, which kv_aof_fsync writes and syncs before the replies leave;
 * otherwise kv_aof_flush. */
bool kv_aof_write(struct kv_server *s);
/* Write what is pending (under the lock, taken briefly) and with
 * appendfsync always fdatasync it (without the lock); everysec: unless the
 * write waits for the thread's fdatasync (see above). Lock NOT held. */
void kv_aof_fsync(struct kv_server *s);
/* The last AOF write failed (disk full...): writes get Redis's
 * "MISCONF Errors writing to the AOF file: <error>" in msg. Lock held. */
bool kv_aof_deny_write(struct kv_server *s, char *msg, size_t n);
/* Cron: write a postponed buffer, reap a rewrite child, retry a failed
 * enabling rewrite. */
void kv_aof_cron(struct kv_server *s);
/* After CONFIG SET: appendonly turned on (background rewrite) or off. */
void kv_aof_apply(struct kv_server *s);
/* SHUTDOWN / exit: stop a rewrite child, write and fsync everything. */
void kv_aof_shutdown(struct kv_server *s);
void kv_aof_free(struct kv_server *s);
/* INFO persistence aof_* fields. */
void kv_aof_info(struct kv_server *s, struct buf *o);
/* Whether a rewrite child runs (BGSAVE refuses meanwhile, as Redis). */
bool kv_aof_rewriting(const struct kv_server *s);
/* A replica loaded its primary's RDB: the AOF must start again from it. */
void kv_aof_after_full_sync(struct kv_server *s);

#endif
