/*
 * pubsub.h — publish/subscribe and keyspace notifications, as Redis 7.0:
 * SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB, the shard
 * forms SSUBSCRIBE SUNSUBSCRIBE SPUBLISH (one shard: plain channels of their
 * own namespace), and `notify-keyspace-events`.
 *
 *   channels: dict name ─▶ ps_chan { subscribers in subscription order }
 *   patterns: dict pattern ─▶ ps_chan, plus an array of them for PUBLISH
 *   client:   kv_psclient { its channels, patterns, shard channels (dicts),
 *                           pending: messages not yet in its output buffer }
 *
 * PUBLISH costs O(subscribers of the channel + patterns). A message is
 * formatted once per RESP version and copied into each subscriber's pending
 * buffer; the subscriber's worker thread is woken (uv_async, coalesced) and
 * moves pending into the client's output buffer and writes it, exactly as
 * blocking.c hands replies over between threads:
 *
 *   thread A: PUBLISH ch m (keyspace lock held)
 *     for each subscriber c: append to c->ps->pending, queue c on its worker
 *     ─▶ uv_async_send(worker of c) ─────▶ thread B: lock, pending ─▶ c->out,
 *                                           unlock, output limits, write
 *
 * A subscriber that publishes to itself (or whose own command raises a
 * keyspace notification) gets the message straight in its output, before the
 * command's reply, as in Redis; pending is moved into the output before each
 * command the client runs, so replies never overtake earlier messages.
 *
 * Output limits: a subscriber is in the `pubsub` class of
 * client-output-buffer-limit. A publisher that would take a subscriber past
 * the hard limit drops the subscriber's pending messages and marks it; its
 * worker closes it (INFO client_output_buffer_limit_disconnections). The soft
 * limit is checked by the worker like for every other client (server.c).
 *
 * Everything here runs with the keyspace lock held, except the worker hooks.
 */
#ifndef SCALEOUT_KV_PUBSUB_H
#define SCALEOUT_KV_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

#include "kv/types.h"

/* Keyspace notification classes: Redis's NOTIFY_* bits, same values. */
enum {
    KV_NOTIFY_KEYSPACE = 1 << 0, /* K: __keyspace@<db>__:<key> <event> */
    KV_NOTIFY_KEYEVENT = 1 << 1, /* E: __keyevent@<db>__:<event> <key> */
    KV_NOTIFY_GENERIC = 1 << 2,  /* g: del expire rename_from ... */
    KV_NOTIFY_STRING = 1 << 3,   /* $ */
    KV_NOTIFY_LIST = 1 << 4,     /* l */
    KV_NOTIFY_SET = 1 << 5,      /* s */
    KV_NOTIFY_HASH = 1 << 6,     /* h */
    KV_NOTIFY_ZSET = 1 << 7,     /* z */
    KV_NOTIFY_EXPIRED = 1 << 8,  /* x */
    KV_NOTIFY_EVICTED = 1 << 9,  /* e */
    KV_NOTIFY_STREAM = 1 << 10,  /* t */
    KV_NOTIFY_KEY_MISS = 1 << 11,/* m (not in A) */
    KV_NOTIFY_MODULE = 1 << 13,  /* d */
    KV_NOTIFY_NEW = 1 << 14,     /* n (not in A) */
    KV_NOTIFY_ALL = KV_NOTIFY_GENERIC | KV_NOTIFY_STRING | KV_NOTIFY_LIST | KV_NOTIFY_SET | KV_NOTIFY_HASH |
                    KV_NOTIFY_ZSET | KV_NOTIFY_EXPIRED | KV_NOTIFY_EVICTED | KV_NOTIFY_STREAM | KV_NOTIFY_MODULE,
};

/*
 * Flag letters ("KEA", "Ex"...) to bits; -1 on a letter Redis does not know.
 * Bits to Redis's normalised string (CONFIG GET): out needs 16 bytes.
 */
int kv_notify_parse(const char *s, size_t n);
void kv_notify_format(int flags, char out[16]);

/*
 * Raise a keyspace notification for `key` (klen bytes) after a command
 * changed it: `type` is the class of the event (KV_NOTIFY_STRING for "set",
 * KV_NOTIFY_GENERIC for "del"...), `event` Redis's event name ("set", "del",
 * "lpush", "expired", "xadd"...). Call it once per event, where the change
 * happens, with the client that runs the command (its database is the
 * event's). Costs one test when notify-keyspace-events does not ask for the
 * class. Lock held; any worker thread.
 *
 *     kv_notify(c, KV_NOTIFY_LIST, "lpush", argv[1].ptr, argv[1].len);
 */
void kv_notify_emit(struct kv_server *s, struct kv_client *c, int dbid, int type, const char *event,
                    const char *key, size_t klen);
static inline void kv_notify(struct kv_client *c, int type, const char *event, const char *key, size_t klen)
{
    if (c->srv->cfg.notify_keyspace_events & type)
        kv_notify_emit(c->srv, c, c->db, type, event, key, klen);
}
/* The same without a client (expiry, eviction, the cron, a blocked client
 * served by another's write, e.g. an XREADGROUP BLOCK served by an XADD):
 * database dbid (kv_notify above takes c's database). */
static inline void kv_notify_db(struct kv_server *s, int dbid, int type, const char *event, const char *key,
                                size_t klen)
{
    if (s->cfg.notify_keyspace_events & type)
        kv_notify_emit(s, NULL, dbid, type, event, key, klen);
}

struct kv_pubsub *kv_pubsub_new(struct kv_server *s, int nworkers);
void kv_pubsub_free(struct kv_pubsub *ps);
/* Worker hooks (worker thread): before its loop runs; at shutdown. */
void kv_pubsub_worker_init(struct kv_pubsub *ps, struct kv_worker *w);
void kv_pubsub_worker_close(struct kv_pubsub *ps, struct kv_worker *w);

/*
 * Publish `msg` on `channel` (shard: the shard-channel namespace, SPUBLISH).
 * `from` is the publishing client (NULL for the server itself): a message to
 * it goes straight into its output. Returns the number of receivers (one per
 * matching channel subscription and per matching pattern subscription).
 */
long long kv_pubsub_publish(struct kv_server *s, struct kv_client *from, const char *channel, size_t clen,
                            const char *msg, size_t mlen, bool shard);

/* Whether c may only send (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT,
 * RESET: it has subscriptions and speaks RESP2. */
bool kv_pubsub_restricted(const struct kv_client *c);
/* Whether c has any subscription (pubsub output class, never idle). */
bool kv_pubsub_subscribed(const struct kv_client *c);
/* Whether command id is one a restricted client may send. */
bool kv_pubsub_allowed(int id);
/* Subscriptions of c: channels, patterns, shard channels (CLIENT LIST). */
void kv_pubsub_counts(const struct kv_client *c, long long *sub, long long *psub, long long *ssub);
/* Whether every channel and pattern c subscribes to passes ok(name, len,
 * pattern, arg) (ACL SETUSER closes the clients that lose one). */
bool kv_pubsub_all_subs(const struct kv_client *c, bool (*ok)(const char *name, size_t len, bool pattern, void *arg),
                        void *arg);
/* Move messages published to c meanwhile into its output (c's own thread,
 * before it runs a command, so replies keep the order of events). */
static inline void kv_pubsub_drain(struct kv_client *c);
void kv_pubsub_drain_slow(struct kv_client *c);
/* MONITOR: c gets every command run from now on (+OK; a second time, nothing). */
void kv_monitor_start(struct kv_client *c);
/* A command is about to run: its line to every monitor (lock held; the
 * caller checked s->nmonitors and that the command is not an admin one). */
void kv_monitor_feed_slow(struct kv_client *c, int argc, const struct resp_arg *argv);
/* RESET: leave pub/sub mode silently. */
void kv_pubsub_reset(struct kv_client *c);
/* The client is going away: drop its subscriptions and queued messages. */
void kv_pubsub_client_gone(struct kv_client *c);
/* INFO stats: channels, patterns, shard channels with subscribers. */
void kv_pubsub_totals(const struct kv_server *s, long long *chans, long long *pats, long long *schans);

/* db on_expire hook: a key expired (notification "expired"). arg: the server. */
void kv_pubsub_on_expire(void *arg, const char *key, size_t klen);
/* db on_new hook: a key was created (notification "new", class n). */
void kv_pubsub_on_new(void *arg, const char *key, size_t klen);
/* db on_miss hook: a read lookup missed (notification "keymiss", class m). */
void kv_pubsub_on_miss(void *arg, const char *key, size_t klen);
/* db on_evict hook: a key is evicted (notification "evicted"). */
void kv_pubsub_on_evict(void *arg, const char *key, size_t klen);

static inline void kv_pubsub_drain(struct kv_client *c)
{
    if (c->ps)
        kv_pubsub_drain_slow(c);
}

#endif
