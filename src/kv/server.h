/*
 * server.h — the kv server: threads, clients, the command path.
 *
 * Where a request lives at every moment:
 *
 *   socket ──read──▶ client.in (struct buf) ──resp_parse──▶ argv slices into client.in
 *                                                              │
 *             keyspace lock held for the whole batch of parsed commands
 *                                                              ▼
 *   kv_call(): lookup in resp_cmds ─▶ arity/auth/OOM checks ─▶ handler ─▶ reply into client.out
 *                                                              │ (write commands: dirty++,
 *                                                              │  propagation hook for AOF/replicas)
 *   socket ◀──uv_try_write / uv_write── client.wbuf ◀──swap── client.out
 *
 * Threads: `threads` workers, each with its own libuv loop and its own
 * SO_REUSEPORT listening socket; a client stays on the worker that accepted
 * it. Parsing, socket I/O and reply formatting run in parallel on all workers;
 * command execution is serialized by one keyspace lock, taken once per batch
 * of pipelined commands, so the keyspace needs no fine-grained locking and a
 * single total order of writes exists (what replication and an append-only
 * file need). Worker 0 runs in the main thread and also owns the cron
 * (active expiry, eviction after CONFIG SET, rehashing), signals and the admin
 * endpoint.
 *
 * The objects (struct kv_server, kv_worker, kv_client) are in types.h and
 * the reply and argument helpers in reply.h: the subsystems and the command
 * files include those. This header is server.c's own API, for what sits
 * above the server (handlers.c, config.c, info.c, expire.c, some t_*.c) and
 * main.c; the subsystems below reach server.c only through s->ops.
 */
#ifndef SCALEOUT_KV_SERVER_H
#define SCALEOUT_KV_SERVER_H

#include <stdbool.h>

#include "core/buf.h"
#include "proto/resp.h"
#include "kv/types.h"

extern const struct conf_table kv_conf_table;

/* Command handlers: one per resp_cmds entry, defined in the t_*.c files. */
typedef void kv_cmd_fn(struct kv_client *c, int argc, struct resp_arg *argv);
extern kv_cmd_fn *const kv_handlers[RESP_CMD_COUNT];
/* MIGRATE's cached connections (t_migrate.c), closed with the server. */
void kv_migrate_free(struct kv_migrate *m);

/*
 * The up-calls' implementations (struct kv_server_ops in types.h; the
 * subsystems call them as kv_call, kv_call_queued, kv_client_resume,
 * kv_client_pushed, kv_busy_poll and kv_begin_shutdown through s->ops).
 */
void kv_server_call(struct kv_client *c, int argc, struct resp_arg *argv);
void kv_server_call_queued(struct kv_client *c, int id, int argc, struct resp_arg *argv);
void kv_server_client_resume(struct kv_client *c);
/* CLIENT LIST's line for c, as seen by me (also ACL LOG's client-info). */
void kv_client_info(struct kv_client *me, struct kv_client *c, struct buf *b);
/* Close c: me after its reply, another worker's client by its own thread. */
bool kv_client_kill(struct kv_client *me, struct kv_client *c);
void kv_server_client_pushed(struct kv_client *c, bool over);
void kv_server_busy_poll(struct kv_server *s);
/* Begin a graceful shutdown (SHUTDOWN, signals): drain clients, stop. */
void kv_server_begin_shutdown(struct kv_server *s, const char *why);

/* The output-buffer-limit class of c (normal or pubsub). */
const struct kv_obl *kv_client_obl(const struct kv_client *c);

/* CLIENT PAUSE ended (UNPAUSE): the workers resume their held clients. */
void kv_unpause(struct kv_server *s);

/* Eviction (evict.c): free memory until under maxmemory. 0 ok, -1 cannot. */
int kv_evict(struct kv_server *s);
/* Active expiry (expire.c): one cron step. */
void kv_expire_cycle(struct kv_server *s, long long budget_us);

/* INFO text of a section ("default", "all", "server", ...) into out. */
void kv_info(struct kv_server *s, struct buf *out, const char *section);
/* Prometheus /metrics and JSON /status bodies (lock taken inside). */
void kv_metrics(struct kv_server *s, struct buf *out);
void kv_status(struct kv_server *s, struct buf *out);

/* Apply a runtime config change (CONFIG SET, SIGHUP). Also sets s->ops, the
 * up-calls of the subsystems (types.h): every server passes here before its
 * first command (server_setup, the unit tests' servers). */
void kv_config_apply(struct kv_server *s);

int kv_main(int argc, char **argv);

#endif
