/*
 * propagate.h — the one propagation point of the kv keyspace.
 *
 * Every change to the keyspace leaves the command path here, once, in the
 * order it happened, rewritten to be deterministic, as a RESP command stream
 * that the append-only file (aof.h) and the replicas (later) consume:
 *
 *   run() ─ kv_prop_begin ─▶ handler ─▶ kv_prop_end ─┬─ changed nothing (dirty): nothing
 *                               │                    ├─ effects recorded: those instead
 *                               │ kv_prop_effect()   └─ else the rewrite table's form of argv
 *   lazy/active expiry, eviction (db hooks) ─▶ DEL key
 *   a blocked client served later (blocking.c) ─▶ LPOP/RPOP/LMOVE/ZPOPMIN...
 *                                  │
 *                 SELECT n when the database differs from the last emitted
 *                 MULTI ... EXEC around the effects of a wrapper (EXEC; EVAL later)
 *                                  ▼
 *                       sinks: kv_prop_add_buf (AOF: encoded straight into its buffer
 *                       when it is the only one), kv_prop_add_sink (replication)
 *
 * Rewrites (propagate.c, one table): relative TTLs become absolute
 * (SET EX/PX/EXAT → SET PXAT, SETEX/PSETEX → SET PXAT, EXPIRE/PEXPIRE/
 * EXPIREAT/GETEX → PEXPIREAT, or PERSIST, or DEL when the key is gone),
 * INCRBYFLOAT → SET key value KEEPTTL, HINCRBYFLOAT → HSET, SPOP → SREM of the
 * members popped, blocking pops → their non-blocking form, RESTORE with a
 * TTL → RESTORE ... ABSTTL. The exact TTL is read back from the key after the
 * command ran, so the stream says what the data holds.
 *
 * Script effects (Lua, EVAL): a script runs its redis.call()s through run(),
 * each of which propagates itself; mark EVAL/EVALSHA/FCALL as wrappers in
 * kv_prop_wrapper() and their effects are emitted inside MULTI ... EXEC, the
 * script itself never. Everything here runs with the keyspace lock held.
 */
#ifndef SCALEOUT_KV_PROPAGATE_H
#define SCALEOUT_KV_PROPAGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/resp.h"

struct kv_server;
struct kv_client;

/* One running command (a frame on the C stack of run()). */
struct kv_prop_frame {
    struct kv_prop_frame *prev;
    int id;                 /* command id */
    uint64_t dirty0;        /* s->dirty when it started (less expiries meanwhile) */
    size_t reply0;          /* c->out.len when it started: its reply follows */
    bool wrapper;           /* EXEC (later EVAL): effects inside MULTI ... EXEC */
    bool multi_open;        /* MULTI emitted for this wrapper */
    struct buf eff;         /* effects recorded by the handler (RESP commands) */
    int eff_db;
};

/* A consumer of the stream: called with whole commands, in order. */
typedef void kv_prop_sink_fn(void *arg, const char *p, size_t n);
/* Whether a consumer takes the stream now (NULL: always): when none does,
 * commands are not encoded at all (no AOF, no replication backlog). */
typedef bool kv_prop_want_fn(void *arg);

void kv_prop_init(struct kv_server *s);
void kv_prop_free(struct kv_server *s);
/* Add a consumer (at most a few: AOF, replication). */
void kv_prop_add_sink(struct kv_server *s, kv_prop_sink_fn *fn, kv_prop_want_fn *want, void *arg);
/* A consumer that only appends the stream to a buffer (the AOF): buf_of
 * returns that buffer, or NULL while it takes nothing. When it is the only
 * consumer taking the stream, commands are encoded straight into it. */
typedef struct buf *kv_prop_buf_fn(void *arg);
void kv_prop_add_buf(struct kv_server *s, kv_prop_buf_fn *buf_of, void *arg);
/* The next command emitted starts with SELECT (a new consumer or file). */
void kv_prop_reset_db(struct kv_server *s);
/* Propagation off (loading the AOF, a replica applying its primary's
 * stream is fed by repl instead) or on again. */
void kv_prop_set_enabled(struct kv_server *s, bool on);

/* Around every command run (server.c run()). */
void kv_prop_begin(struct kv_client *c, struct kv_prop_frame *f, int id);
void kv_prop_end(struct kv_client *c, struct kv_prop_frame *f, int argc, const struct resp_arg *argv);

/*
 * The effect of a change, as a command (database db). Inside a running
 * command it replaces that command's own propagation (the command's effects
 * are said instead of the command: SPOP's SREM, a blocking pop's LPOP);
 * outside (a blocked client served after the command that fed it) it is
 * emitted at once.
 */
void kv_prop_effect(struct kv_server *s, int db, int argc, const struct resp_arg *argv);
/* The same with C strings. */
void kv_prop_effectv(struct kv_server *s, int db, int argc, const char *const *argv, const size_t *lens);

/* A blocked client served later: `cmd key [count]` (count <= 0: none), or
 * LMOVE src dst LEFT|RIGHT LEFT|RIGHT (from/to 0 = LEFT). */
void kv_prop_pop(struct kv_server *s, int db, const char *cmd, const char *key, size_t klen, long long count);
void kv_prop_lmove(struct kv_server *s, int db, const char *src, size_t slen, const char *dst, size_t dlen, int from,
                   int to);

/* db hooks: an expired or evicted key goes out as DEL (then pub/sub's hook). */
void kv_prop_on_expire(void *arg, const char *key, size_t klen);
void kv_prop_on_evict(void *arg, const char *key, size_t klen);

/* Whether command id wraps other commands' effects in MULTI ... EXEC. */
bool kv_prop_wrapper(int id);

#endif
