/*
 * repl.h — replication with Redis's protocol: the primary side (repl.c) and
 * the replica side (replica.c).
 *
 * Primary. The propagation point (propagate.h) feeds the replication
 * backlog (a ring of repl-backlog-size bytes; master_repl_offset counts every
 * byte ever fed) and every replica's pending buffer. A replica is an
 * ordinary client that said PSYNC:
 *
 *   REPLCONF listening-port / capa ─▶ PSYNC <replid> <offset>
 *      ├─ replid known and offset in the backlog: +CONTINUE <replid>, then the
 *      │  backlog from that offset, then the stream (partial resync)
 *      └─ else +FULLRESYNC <replid> <offset>: a forked child writes an RDB
 *         file; when it ends, "$<len>\r\n<rdb>" then what was fed meanwhile,
 *         then the stream
 *
 * Everything for a replica is appended under the keyspace lock to its
 * pending buffer by whichever thread produced it; an async wake makes the
 * replica's own worker move that into the client's output and write it (the
 * client's buffers belong to its worker). A replica acknowledges with
 * REPLCONF ACK <offset> every second (WAIT, min-replicas-*, INFO lag).
 *
 * Replica. REPLICAOF host port (or --replicaof) makes worker 0 connect,
 * handshake (PING, REPLCONF listening-port, REPLCONF capa psync2, PSYNC),
 * load the RDB of a full sync, then apply the stream through the normal
 * dispatch with a master client, counting its offset. The bytes applied are
 * fed verbatim into this server's own backlog (chained replicas see the
 * primary's replid and offsets); writes from other clients get -READONLY.
 * A broken link is retried every second with PSYNC <replid> <offset+1>.
 */
#ifndef SCALEOUT_KV_REPL_H
#define SCALEOUT_KV_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"

struct kv_server;
struct kv_client;
struct kv_worker;
struct resp_arg;


void kv_repl_init(struct kv_server *s);
void kv_repl_free(struct kv_server *s);
void kv_repl_worker_init(struct kv_server *s, struct kv_worker *w);
void kv_repl_worker_close(struct kv_server *s, struct kv_worker *w);
/* After the workers exist (worker 0's loop): start --replicaof. */
void kv_repl_start(struct kv_server *s);
/* Cron (worker 0, lock held): reap the sync child, PING replicas, min-replicas. */
void kv_repl_cron(struct kv_server *s);
/* End of a batch of commands (lock held): send what WAIT asked for. */
void kv_repl_flush(struct kv_server *s);
/* A client is going away (lock held). */
void kv_repl_client_gone(struct kv_client *c);
/* A replica's connection finished a write (its worker's thread): the
 * diskless sync's back-pressure learns how much it still holds. */
void kv_repl_client_wrote(struct kv_client *c);
/* Whether c may not run a write now; *msg the error (READONLY, NOREPLICAS). */
bool kv_repl_deny_write(struct kv_client *c, const char **msg);
/* INFO replication and INFO stats' sync_* fields. */
void kv_repl_info(struct kv_server *s, struct buf *o);
void kv_repl_info_stats(struct kv_server *s, struct buf *o);

/* ---- shared by repl.c and replica.c ---- */

#define KV_REPLID_LEN 40

struct kv_repl;
struct kv_master_link;

/* Feed bytes of the stream to the backlog and the replicas (lock held). */
void kv_repl_feed_raw(struct kv_server *s, const char *p, size_t n);
/* Become the start of a new history: replid (NULL: a new random one), offset. */
void kv_repl_new_history(struct kv_server *s, const char *replid, long long offset);
/* Keep the old id as replid2 (a replica promoted, or switched to another primary's history). */
void kv_repl_shift_replid(struct kv_server *s, const char *new_replid);
/* Drop every replica (their data is about to change wholesale). */
void kv_repl_drop_replicas(struct kv_server *s);
const char *kv_repl_id(const struct kv_server *s);
/* A full sync's RDB child runs (INFO rdb_bgsave_in_progress counts it, as Redis). */
bool kv_repl_sync_child_running(const struct kv_server *s);
/* A backlog exists (a replica continuing its primary's history). */
void kv_repl_ensure_backlog(struct kv_server *s);

/* What replica.c calls in repl.c: the functions above, handed to
 * kv_replica_init by kv_repl_init, so replica.c calls no repl.c function
 * (issue 8: no two files that call each other). The primary's side calls the
 * replica's directly (kv_replica_active runs for every propagated command). */
struct kv_repl_ops {
    void (*feed_raw)(struct kv_server *s, const char *p, size_t n);
    void (*new_history)(struct kv_server *s, const char *replid, long long offset);
    void (*shift_replid)(struct kv_server *s, const char *new_replid);
    void (*drop_replicas)(struct kv_server *s);
    const char *(*id)(const struct kv_server *s);
    void (*ensure_backlog)(struct kv_server *s);
    /* FAILOVER: how the PSYNC FAILOVER to the target ended (lock held) */
    void (*failover_result)(struct kv_server *s, bool ok, const char *why);
};

/* Replica side (replica.c). */
/* Makes s->ml; keeps ops (static storage). */
void kv_replica_init(struct kv_server *s, const struct kv_repl_ops *ops);
void kv_replica_set_target(struct kv_server *s, const char *host, long long port);
/* FAILOVER: the next PSYNC says FAILOVER, and its outcome goes to the ops'
 * failover_result (lock held). */
void kv_replica_set_failover(struct kv_server *s, bool on);
void kv_replica_info(struct kv_server *s, struct buf *o);
bool kv_replica_active(const struct kv_server *s);
bool kv_replica_is_master_client(const struct kv_server *s, const struct kv_client *c);
bool kv_replica_applying(const struct kv_server *s);
/* A command of the primary's stream is running (its scripts and MULTI included). */
bool kv_replica_in_apply(const struct kv_server *s);
/* A replica with its link up: the database its primary's stream is in; else -1. */
int kv_replica_stream_db(const struct kv_server *s);
void kv_replica_role(struct kv_server *s, struct kv_client *c);
/* A full sync's image is loading on a thread while the old data is served
 * (INFO async_loading:1); its INFO persistence loading_* fields. */
bool kv_replica_async_loading(const struct kv_server *s);
/* A full sync's image of a new history is loading on the thread: clients
 * get LOADING but for INFO, ROLE... (INFO loading:1). */
bool kv_replica_loading(const struct kv_server *s);
void kv_replica_info_loading(struct kv_server *s, struct buf *o);
/* Whether a replica refuses command `name` (lowercase; argv[1] its
 * subcommand) from c now, as Redis: MASTERDOWN while the link is down and
 * replica-serve-stale-data is no, LOADING for what async loading denies
 * (SAVE, BGSAVE, REPLICAOF...). *msg the error. Lock held. */
bool kv_replica_deny_cmd(struct kv_client *c, const char *name, int argc, const struct resp_arg *argv,
                         const char **msg);
void kv_replica_getack(struct kv_server *s);
/* CLIENT KILL TYPE master (lock held, any worker): drop the link to the
 * primary if it is up (Redis has a master client only then); worker 0
 * closes it and reconnects at once, continuing by PSYNC (a partial resync
 * when the primary's backlog still has the offset), as Redis. Returns the
 * number of links dropped: 1 or 0. */
int kv_replica_kill_master(struct kv_server *s);
/* The master client while the link to the primary streams (CLIENT LIST
 * shows it, CLIENT KILL's ID/ADDR/LADDR filters match it), NULL otherwise.
 * Lock held. */
struct kv_client *kv_replica_master_client(struct kv_server *s);
void kv_replica_free(struct kv_server *s);
void kv_replica_cron(struct kv_server *s);
/* Shutdown (worker 0): close the link and its handles. */
void kv_replica_close_handles(struct kv_server *s);
/* Tests and fuzzing: feed bytes as from a primary after PING, in chunks of
 * chunk bytes (0: at once), without a socket; true when the link survived. */
bool kv_replica_feed(struct kv_server *s, uv_loop_t *loop, const char *data, size_t len, size_t chunk);

#endif
