/*
 * multi.h — transactions: MULTI EXEC DISCARD WATCH UNWATCH, as Redis 7.0.
 *
 *   MULTI ─▶ commands are checked (unknown, arity, auth, OOM) and queued
 *            (+QUEUED); a command refused here makes EXEC answer EXECABORT
 *   EXEC  ─▶ one kv_call under one hold of the keyspace lock: every queued
 *            command runs, nothing of another client or thread in between;
 *            blocking commands answer as if timed out
 *   WATCH ─▶ the key joins a server-wide dict key ─▶ watchers; the db's
 *            on_modify hook (every add, replace, delete, expiry, eviction,
 *            TTL change and in-place change, on any thread) marks the
 *            watchers dirty, and EXEC then answers a null array
 *
 * When nobody watches, the hook costs one test of an empty dict. Everything
 * runs with the keyspace lock held.
 */
#ifndef SCALEOUT_KV_MULTI_H
#define SCALEOUT_KV_MULTI_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/resp.h"

struct kv_client;
struct kv_server;
struct kv_watch;

struct kv_watch *kv_watch_new(void);
void kv_watch_free(struct kv_watch *w);

/* db on_modify hook: key changed (arg is the server). */
void kv_watch_on_modify(void *arg, const char *key, size_t klen);
/* FLUSHALL/FLUSHDB of the selected database, before the keyspace is emptied: watchers of keys that
 * exist now are dirty (as Redis: a watched absent key stays clean). */
void kv_watch_flush(struct kv_server *s);
/* SWAPDB a b, before the swap: watchers (in a or b) of keys that exist in a
 * or b are dirty. */
void kv_watch_swapdb(struct kv_server *s, int a, int b);

/* Whether c is between MULTI and EXEC/DISCARD. */
bool kv_multi_active(const struct kv_client *c);
/* Commands queued so far (CLIENT LIST multi=), -1 when not in MULTI. */
long long kv_multi_count(const struct kv_client *c);
/* Whether a WATCHed key of c changed (CLIENT LIST flag d). */
bool kv_multi_dirty(const struct kv_client *c);
/* Whether any queued command may grow memory (EXEC's OOM check). */
bool kv_multi_denyoom(const struct kv_client *c);
/* Whether a queued command writes (CLIENT PAUSE WRITE holds such an EXEC). */
bool kv_multi_writes(const struct kv_client *c);

/*
 * kv_call, in MULTI, for a command that passed its checks: queue it and reply
 * +QUEUED, unless it is one that runs at once (EXEC DISCARD MULTI WATCH QUIT
 * RESET). true when queued.
 */
/* A container command's subcommand exists and has its arity; else the
 * client got Redis's error (through kv_multi_reject) and false. */
bool kv_subcommand_ok(struct kv_client *c, int id, int argc, const struct resp_arg *argv);
bool kv_multi_queue(struct kv_client *c, int id, int argc, const struct resp_arg *argv);
/*
 * kv_call refused command `id` with error msg (no leading '-'): in MULTI,
 * the transaction is flagged (EXEC answers EXECABORT); a refused EXEC (in
 * MULTI or not, as Redis) answers "EXECABORT Transaction discarded because
 * of: msg" and ends any transaction.
 * Replies in both cases; msg NULL: only flags (the caller replies).
 */
void kv_multi_reject(struct kv_client *c, int id, const char *msg);

/* RESET, and a client going away: leave MULTI, forget watched keys. */
void kv_multi_reset(struct kv_client *c);

#endif
