/*
 * server.c — the kv server: workers, client I/O, the command path, the cron,
 * signals and start-up (see the diagram in server.h).
 */
#include "kv/server.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net/admin.h"
#include "net/conn.h"
#include "net/server.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/net.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/aof.h"
#include "kv/blocking.h"
#include "kv/evict.h"
#include "kv/hashobj.h"
#include "kv/zsetobj.h"
#include "kv/listobj.h"
#include "kv/multi.h"
#include "kv/pubsub.h"
#include "kv/repl.h"
#include "kv/reply.h"
#include "kv/persist.h"
#include "kv/propagate.h"
#include "kv/setobj.h"
#include "kv/script.h"
#include "kv/slowlog.h"
#include "kv/latency.h"

#define IOBUF_LEN (16 * 1024)
#define MAX_ARGS_LOGGED 3

static void client_close(struct kv_client *c);
static void client_flush(struct kv_client *c);
static bool lock_unless_busy(struct kv_server *s);
static void process_input(struct kv_client *c);
static void on_aof_check(uv_check_t *h);
static void batch_take(struct kv_client *c);
static void prefetch_input(struct kv_client *c);
static void batch_prefetch_ahead(struct kv_client *c);

/* ---- the command path ----------------------------------------------------- */

/* The smallest b with us <= 2^b (0 for us <= 1), at most the last bucket:
 * ceil(log2(us)) from the leading zeros, not a loop over the buckets. */
static int lat_bucket(long long us)
{
    if (us <= 1)
        return 0;
    int b = 64 - __builtin_clzll((unsigned long long)(us - 1));
    return b < KV_LAT_BUCKETS - 1 ? b : KV_LAT_BUCKETS - 1;
}

static void reply_unknown(struct kv_client *c, int argc, struct resp_arg *argv)
{
    char args[512];
    size_t n = 0;
    for (int i = 1; i < argc && n < sizeof args - 1; i++) {
        int w = snprintf(args + n, sizeof args - n, "'%.*s' ", (int)(argv[i].len > 128 ? 128 : argv[i].len), argv[i].ptr);
        if (w < 0)
            break;
        n += (size_t)w;
        if (n >= sizeof args)
            n = sizeof args - 1;
    }
    args[n] = '\0';
    kv_reply_errorf(c, "ERR unknown command '%.*s', with args beginning with: %s",
                    (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].ptr, args);
}

/* Redis 7.0's admin commands and subcommands: MONITOR does not show them. */
static bool monitor_hides(int id, int argc, const struct resp_arg *argv)
{
    static const char *const client_subs[] = {"kill", "list", "no-evict", "pause", "unblock", "unpause", NULL};
    static const char *const config_subs[] = {"get", "resetstat", "rewrite", "set", NULL};
    static const char *const slowlog_subs[] = {"get", "len", "reset", NULL};
    const char *const *subs = id == RESP_CMD_CLIENT    ? client_subs
                              : id == RESP_CMD_CONFIG  ? config_subs
                              : id == RESP_CMD_SLOWLOG ? slowlog_subs
                                                       : NULL;
    if (!subs)
        return (resp_cmds[id].flags & CMD_ADMIN) != 0;
    for (int i = 0; argc > 1 && subs[i]; i++)
        if (strlen(subs[i]) == argv[1].len && strncasecmp(subs[i], argv[1].ptr, argv[1].len) == 0)
            return true;
    return false;
}

/* Run the handler of a checked command and count it. */
static void run(struct kv_client *c, int id, int argc, struct resp_arg *argv)
{
    struct kv_cmd_stats *cs = &c->srv->st.cmd[id];
    kv_db_select(c->srv, c->db);
    c->last_cmd = id;
    c->last_sub[0] = '\0';
    struct kv_prop_frame pf;
    uint64_t off0 = c->srv->repl_offset;
    kv_prop_begin(c, &pf, id);
    /* MONITOR, as Redis 7.0: a command's line once it ran (EXEC's after its
     * commands'), but a script's before the commands it runs */
    bool mon = c->srv->nmonitors && !monitor_hides(id, argc, argv);
    bool script = id == RESP_CMD_EVAL || id == RESP_CMD_EVALSHA || id == RESP_CMD_EVAL_RO ||
                  id == RESP_CMD_EVALSHA_RO || id == RESP_CMD_FCALL || id == RESP_CMD_FCALL_RO;
    if (mon && script)
        kv_monitor_feed_slow(c, argc, argv);
    long long t0 = util_mono_us();
    kv_handlers[id](c, argc, argv);
    long long dt = util_mono_us() - t0;
    if (mon && !script && c->srv->nmonitors)
        kv_monitor_feed_slow(c, argc, argv);
    kv_prop_end(c, &pf, argc, argv);
    if (c->srv->repl_offset != off0)
        c->woff = c->srv->repl_offset; /* what WAIT waits for */
    kv_slowlog_note(c, id, argc, argv, dt);
    cs->calls++;
    cs->usec += (uint64_t)dt;
    cs->lat[lat_bucket(dt)]++;
    if (!c->last_sub[0]) {
        kv_latency_note(c->srv, id, -1, dt);
    } else { /* a container: its subcommand's own histogram (none for an unknown one, as Redis) */
        int sub = resp_subcmd_lookup(id, c->last_sub, strlen(c->last_sub));
        if (sub >= 0 || !resp_cmd_is_container(id))
            kv_latency_note(c->srv, id, sub, dt);
    }
    c->srv->st.commands++;
}

void kv_server_call_queued(struct kv_client *c, int id, int argc, struct resp_arg *argv) { run(c, id, argc, argv); }

/* Whether a command may be refused when over maxmemory: one that may grow
 * memory, anything queued in MULTI (the queue grows), and an EXEC whose
 * queue holds one that may grow it (as Redis). */
static bool deny_oom(struct kv_client *c, int id)
{
    if (id == RESP_CMD_EXEC)
        return kv_multi_denyoom(c);
    if (kv_multi_active(c) && id != RESP_CMD_DISCARD && id != RESP_CMD_QUIT && id != RESP_CMD_RESET)
        return true;
    return (resp_cmds[id].flags & CMD_DENYOOM) != 0;
}

/* Commands with subcommands: Redis names them "client|list" in errors. */
static bool container_cmd(int id)
{
    return id == RESP_CMD_CLIENT || id == RESP_CMD_CONFIG || id == RESP_CMD_COMMAND || id == RESP_CMD_MEMORY ||
           id == RESP_CMD_OBJECT || id == RESP_CMD_PUBSUB;
}

/* Append "|sub" (lowercased, bounded) to the command name in full. */
static void lower_sub(char *full, size_t cap, const struct resp_arg *sub)
{
    size_t n = strlen(full);
    if (n + 2 >= cap)
        return;
    full[n++] = '|';
    for (size_t i = 0; i < sub->len && n + 1 < cap; i++) {
        char ch = sub->ptr[i];
        full[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    full[n] = '\0';
}

void kv_server_call(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    int id = resp_cmd_lookup(argv[0].ptr, argv[0].len);
    c->last_cmd = -1;
    kv_pubsub_drain(c); /* messages published before this command come first */
    if (id < 0) {
        s->st.unknown_commands++;
        kv_multi_reject(c, -1, NULL); /* only flags a transaction */
        reply_unknown(c, argc, argv);
        return;
    }
    const struct resp_cmd *cmd = &resp_cmds[id];
    struct kv_cmd_stats *cs = &s->st.cmd[id];
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        char msg[128];
        cs->rejected++;
        snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s' command", cmd->name);
        kv_multi_reject(c, id, msg);
        return;
    }
    if (!c->authed && !(cmd->flags & CMD_NOAUTH)) {
        cs->rejected++;
        kv_multi_reject(c, id, "NOAUTH Authentication required.");
        return;
    }
    char acl_err[640];
    if (c->user && !kv_acl_user_unrestricted(c->user) &&
        !kv_acl_check(c, kv_multi_active(c) ? KV_ACL_MULTI : KV_ACL_TOPLEVEL, id, argc, argv, acl_err, sizeof acl_err)) {
        cs->rejected++;
        kv_multi_reject(c, id, acl_err);
        return;
    }
    if (s->cfg.maxmemory && xalloc_used() > s->cfg.maxmemory) {
        int r = kv_evict(s);
        if (r < 0 && deny_oom(c, id)) {
            cs->rejected++;
            kv_multi_reject(c, id, "OOM command not allowed when used memory > 'maxmemory'.");
            return;
        }
    }
    if (kv_pubsub_restricted(c) && !kv_pubsub_allowed(id)) {
        char full[64];
        snprintf(full, sizeof full, "%s", cmd->name);
        if (container_cmd(id) && argc > 1)
            lower_sub(full, sizeof full, &argv[1]);
        char msg[256];
        snprintf(msg, sizeof msg,
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                 "in this context",
                 full);
        cs->rejected++;
        kv_multi_reject(c, id, msg);
        return;
    }
    const char *repl_err;
    if (((cmd->flags & CMD_WRITE) || (id == RESP_CMD_EXEC && kv_multi_writes(c))) && kv_repl_deny_write(c, &repl_err)) {
        cs->rejected++;
        kv_multi_reject(c, id, repl_err);
        return;
    }
    if (kv_replica_deny_cmd(c, cmd->name, argc, argv, &repl_err)) { /* MASTERDOWN, LOADING */
        cs->rejected++;
        kv_multi_reject(c, id, repl_err);
        return;
    }
    char aof_err[192];
    if (((cmd->flags & CMD_WRITE) || (id == RESP_CMD_EXEC && kv_multi_writes(c))) &&
        kv_aof_deny_write(s, aof_err, sizeof aof_err)) {
        cs->rejected++;
        kv_multi_reject(c, id, aof_err);
        return;
    }
    if (((cmd->flags & CMD_WRITE) || id == RESP_CMD_PING) && kv_persist_deny_write(s)) {
        cs->rejected++;
        kv_multi_reject(c, id, kv_persist_misconf);
        return;
    }
    if (c->mx && kv_multi_queue(c, id, argc, argv))
        return;
    size_t out_before = buf_pending(&c->out);
    run(c, id, argc, argv);
    if (c->reply_over) {
        /* the reply passed the output limit mid-command: drop it, say why, close */
        log_warn("client id=%llu addr=%s closed: reply of '%s' passed the output buffer limit", (unsigned long long)c->id,
                 c->addr, cmd->name);
        c->out.len = c->out.off + out_before;
        s->st.obl_disconnects++;
        kv_reply_error(c, "ERR reply exceeds the client output buffer limit; closing the connection");
        c->close_after_reply = true;
    }
    kv_blocking_serve_ready(s);
}

/* ---- client lifecycle ----------------------------------------------------- */

static void on_close(uv_handle_t *h)
{
    struct kv_client *c = h->data;
    struct kv_server *s = c->srv;
    struct kv_worker *w = c->w;
    pthread_mutex_lock(&s->lock);
    kv_blocking_client_gone(c);
    kv_pubsub_client_gone(c);
    kv_repl_client_gone(c);
    kv_multi_reset(c);
    s->st.closed_net_in += c->net_in;
    s->st.closed_net_out += c->net_out;
    LIST_REMOVE(s->registry, c, gprev, gnext);
    pthread_mutex_unlock(&s->lock);
    if (w->clients_cursor == c) /* on_clients_timer resumes after c */
        w->clients_cursor = c->next;
    LIST_REMOVE(w->clients, c, prev, next);
    w->nclients--;
    if (c->batched)
        batch_take(c);
    if (c->aof_held) /* closed before its worker's AOF check ran: unlist it */
        for (size_t i = 0; i < w->nheld; i++)
            if (w->held[i] == c) {
                memmove(&w->held[i], &w->held[i + 1], (w->nheld - i - 1) * sizeof *w->held);
                w->nheld--;
                break;
            }
    atomic_fetch_sub(&s->nclients, 1);
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    buf_deinit(&c->wbuf);
    resp_parser_deinit(&c->parser);
    xfree(c->name);
    xfree(c);
}

static void client_close(struct kv_client *c)
{
    if (c->closing)
        return;
    if (!lock_unless_busy(c->srv)) {
        /* a busy script holds the lock: stop reading, and the clients timer
         * closes it once the script has ended (the worker goes on serving) */
        if (!c->close_deferred)
            uv_read_stop((uv_stream_t *)&c->tcp);
        c->close_deferred = true;
        return;
    }
    c->closing = true;
    /* CLIENT KILL on another thread shuts the socket down by fd under the lock:
     * the fd is closed by uv_close below and its number may be reused at once */
    c->fd = -1;
    /* a waiter that is going away must not take an element meanwhile */
    kv_blocking_client_gone(c);
    /* nor a subscriber collect messages */
    kv_pubsub_client_gone(c);
    pthread_mutex_unlock(&c->srv->lock);
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_write(uv_write_t *req, int status)
{
    struct kv_client *c = req->data;
    c->writing = false;
    if (c->closing)
        return;
    if (status < 0) {
        client_close(c);
        return;
    }
    c->net_out += net_conn_written(&c->wbuf, 64 * 1024);
    atomic_store_explicit(&c->out_bytes, buf_pending(&c->out), memory_order_relaxed);
    client_flush(c);
    if (c->rl && !c->closing)
        kv_repl_client_wrote(c); /* a replica: what it holds, for the diskless back-pressure */
}

/* Write what c->out holds: try directly, queue the rest on wbuf. */
/* Hold c's replies until its worker's AOF write (and with appendfsync
 * always its fsync) at the end of this loop iteration (on_aof_check). The
 * held clients are listed, so that the check walks them only, not every
 * connection of the worker (as Redis's clients_pending_write). */
static void aof_hold(struct kv_client *c)
{
    struct kv_worker *w = c->w;
    if (!c->aof_held) {
        if (w->nheld == w->held_cap) {
            w->held_cap = w->held_cap ? w->held_cap * 2 : 64;
            w->held = xrealloc(w->held, w->held_cap * sizeof *w->held);
        }
        w->held[w->nheld++] = c;
        c->aof_held = true;
    }
    w->aof_sync = true;
}

static void client_flush(struct kv_client *c)
{
    if (c->closing || c->writing || c->aof_held)
        return; /* aof_held: on_aof_check flushes after the fsync */
    if (buf_pending(&c->out) == 0) {
        if (c->close_after_reply)
            client_close(c);
        return;
    }
    /* the rest goes out asynchronously from wbuf, while new replies collect in out */
    size_t n;
    int r = net_conn_write((uv_stream_t *)&c->tcp, &c->out, &c->wbuf, &c->wreq, c, on_write, &c->writing, &n);
    c->net_out += n;
    if (r < 0) {
        client_close(c);
        return;
    }
    atomic_store_explicit(&c->out_bytes, buf_pending(&c->wbuf), memory_order_relaxed);
    if (r == NET_WRITE_DONE) {
        buf_shrink(&c->out, 64 * 1024);
        if (c->close_after_reply)
            client_close(c);
    }
}

/* Whether the client's unread replies pass the output limits (no side effect
 * but the soft-limit clock). Safe with the keyspace lock held. */
const struct kv_obl *kv_client_obl(const struct kv_client *c)
{
    return kv_pubsub_subscribed(c) ? &c->srv->cfg.obl_pubsub : &c->srv->cfg.obl;
}

static bool output_over_limits(struct kv_client *c, long long now_ms)
{
    const struct kv_obl *l = kv_client_obl(c);
    size_t used = buf_pending(&c->out) + buf_pending(&c->wbuf);
    bool over = false;
    if (l->hard && used > l->hard)
        over = true;
    if (l->soft && used > l->soft) {
        if (now_ms <= 0)
            now_ms = util_time_ms(); /* callers on the hot path pass 0: the clock only when needed */
        if (!c->obl_soft_since)
            c->obl_soft_since = now_ms;
        else if (now_ms - c->obl_soft_since > l->soft_seconds * 1000)
            over = true;
    } else {
        c->obl_soft_since = 0;
    }
    return over;
}

/* Output limits: drop the client if over them; true if it was dropped.
 * Takes the keyspace lock: never call with it held. */
static bool check_output_limits(struct kv_client *c, long long now_ms)
{
    if (!output_over_limits(c, now_ms))
        return false;
    size_t used = buf_pending(&c->out) + buf_pending(&c->wbuf);
    log_warn("client id=%llu addr=%s closed for overcoming of output buffer limits (%zu bytes)",
             (unsigned long long)c->id, c->addr, used);
    pthread_mutex_lock(&c->srv->lock);
    c->srv->st.obl_disconnects++;
    pthread_mutex_unlock(&c->srv->lock);
    /* drop what is queued: it will never be read */
    buf_deinit(&c->out);
    client_close(c);
    return true;
}

/* ---- CLIENT PAUSE ------------------------------------------------------------ */

/* Whether the pause is on at now_ms (it ends by itself at its deadline). */
static bool pause_active(struct kv_server *s, long long now_ms)
{
    if (s->pause_type != KV_PAUSE_NONE && now_ms >= s->pause_end_ms)
        s->pause_type = KV_PAUSE_NONE;
    return s->pause_type != KV_PAUSE_NONE || s->failover_pause;
}

/* Whether CLIENT PAUSE holds this command (lock held): ALL holds every one,
 * WRITE the write commands (also while MULTI queues them, as Redis 7.0)
 * and an EXEC whose queue writes. A FAILOVER holds what WRITE holds. */
static bool pause_holds(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    if (!pause_active(s, util_time_ms()) || argc < 1)
        return false;
    if (s->pause_type == KV_PAUSE_ALL)
        return true;
    int id = resp_cmd_lookup(argv[0].ptr, argv[0].len);
    if (id < 0)
        return false;
    if (id == RESP_CMD_EXEC)
        return kv_multi_writes(c);
    return (resp_cmds[id].flags & CMD_WRITE) != 0;
}

/* The worker's held clients run their input again (a client still held
 * waits again). Worker thread, lock not held. */
static void resume_paused(struct kv_worker *w)
{
    for (struct kv_client *c = w->clients, *next; c; c = next) {
        next = c->next;
        if (c->paused && !c->closing) {
            c->paused = false;
            process_input(c);
        }
    }
}

void kv_unpause(struct kv_server *s)
{
    s->pause_type = KV_PAUSE_NONE;
    if (atomic_load(&s->shutting_down))
        return; /* the wake handles are closing; nobody waits any more */
    for (int i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake);
}

void kv_server_client_pushed(struct kv_client *c, bool over)
{
    if (c->closing)
        return;
    if (over) {
        log_warn("client id=%llu addr=%s closed for overcoming of output buffer limits (pubsub class)",
                 (unsigned long long)c->id, c->addr);
        pthread_mutex_lock(&c->srv->lock);
        c->srv->st.obl_disconnects++;
        pthread_mutex_unlock(&c->srv->lock);
        buf_deinit(&c->out);
        client_close(c);
        return;
    }
    if (!check_output_limits(c, util_time_ms())) {
        client_flush(c);
        if (c->rl && !c->closing)
            kv_repl_client_wrote(c);
    }
}

/*
 * Take the keyspace lock for c's next parsed command. While a script is busy
 * (past busy-reply-threshold) the lock stays held by it: the command is then
 * answered without the lock (-BUSY, SCRIPT KILL...) and false is returned.
 * Waiting for the lock wakes every 20 ms to notice a script turning busy.
 */
/* The keyspace lock for background work (cron); false, without it, while a
 * script is busy. */
static bool lock_unless_busy(struct kv_server *s)
{
    if (atomic_load(&s->script_busy))
        return false;
    if (pthread_mutex_trylock(&s->lock) == 0)
        return true;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_mutex_timedlock(&s->lock, &ts) == 0)
            return true;
        if (atomic_load(&s->script_busy))
            return false;
    }
}

static bool lock_for_command(struct kv_client *c)
{
    struct kv_server *s = c->srv;
    if (atomic_load(&s->script_busy) && kv_script_busy_reply(c, c->parser.argc, c->parser.argv))
        return false;
    if (pthread_mutex_trylock(&s->lock) == 0)
        return true;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_mutex_timedlock(&s->lock, &ts) == 0)
            return true;
        if (atomic_load(&s->script_busy) && kv_script_busy_reply(c, c->parser.argc, c->parser.argv))
            return false;
    }
}

/*
 * From a busy script's hook (its worker thread, lock held by the script):
 * read what the worker's other clients sent and answer it as during a busy
 * script (busy_serve). New connections to this worker wait in the backlog
 * until the script ends.
 */
/*
 * Answer c's complete commands while a script is busy, on the script's thread:
 * nothing here may take the lock or close the client (client_close locks), so
 * a protocol error or a failed write is left for when the script has ended
 * (process_input and on_read see them again then).
 */
static void busy_serve(struct kv_client *c)
{
    while (buf_pending(&c->in) > 0) {
        c->parser.max_bulk = (long long)c->srv->cfg.proto_max_bulk_len;
        c->parser.auth_required = !c->authed;
        ssize_t n = resp_parse(&c->parser, buf_head(&c->in), buf_pending(&c->in));
        if (n <= 0 || !kv_script_busy_reply(c, c->parser.argc, c->parser.argv))
            break;
        buf_consume(&c->in, (size_t)n);
    }
    if (c->writing)
        return;
    /* the rest asynchronously, as client_flush; a failed write is seen again later */
    size_t n;
    net_conn_write((uv_stream_t *)&c->tcp, &c->out, &c->wbuf, &c->wreq, c, on_write, &c->writing, &n);
    c->net_out += n;
}

void kv_server_busy_poll(struct kv_server *s)
{
    struct kv_worker *w = s->script_worker;
    if (!w)
        return;
    for (struct kv_client *c = w->clients; c; c = c->next) {
        if (c == s->script_caller || c->closing || c->close_deferred || c->fd < 0 || c->close_after_reply || c->blk)
            continue;
        buf_reserve(&c->in, IOBUF_LEN);
        ssize_t n = read(c->fd, buf_tail(&c->in), IOBUF_LEN);
        if (n <= 0)
            continue; /* EAGAIN, or EOF/error that libuv reports once the script ends */
        c->in.len += (size_t)n;
        c->net_in += (uint64_t)n;
        busy_serve(c);
    }
}

static void process_input(struct kv_client *c)
{
    struct kv_server *s = c->srv;
    bool locked = false;
    while (!c->closing && !c->close_after_reply && !c->blk && buf_pending(&c->in) > 0) {
        c->parser.max_bulk = (long long)s->cfg.proto_max_bulk_len;
        c->parser.auth_required = !c->authed; /* Redis limits requests before AUTH */
        ssize_t n = resp_parse(&c->parser, buf_head(&c->in), buf_pending(&c->in));
        if (n == 0) {
            /* blank lines and *0 keepalives must not pin the input buffer */
            buf_consume(&c->in, resp_parser_drop_empty(&c->parser));
            break;
        }
        if (n < 0) {
            if (!locked && !atomic_load(&s->script_busy)) {
                pthread_mutex_lock(&s->lock);
                locked = true;
            }
            if (locked)
                s->st.proto_errors++;
            resp_add_error(&c->out, c->parser.err, strlen(c->parser.err));
            log_verbose("protocol error from client id=%llu addr=%s: %s", (unsigned long long)c->id, c->addr,
                        c->parser.err);
            c->close_after_reply = true;
            buf_consume(&c->in, buf_pending(&c->in));
            break;
        }
        if (!locked) {
            if (!lock_for_command(c)) {
                buf_consume(&c->in, (size_t)n);
                continue;
            }
            locked = true;
            kv_db_set_now(&s->db, util_time_ms());
            prefetch_input(c);
            batch_prefetch_ahead(c);
        }
        if ((s->pause_type != KV_PAUSE_NONE || s->failover_pause) && pause_holds(c, c->parser.argc, c->parser.argv)) {
            c->paused = true; /* the command stays in the input until the pause ends */
            c->w->pause_held = true; /* on_clients_timer resumes it then */
            break;
        }
        kv_server_call(c, c->parser.argc, c->parser.argv);
        buf_consume(&c->in, (size_t)n);
        if (buf_pending(&c->out) > (1u << 20) && output_over_limits(c, s->db.now_ms))
            break; /* dropped below, once the lock is released */
    }
    if (locked) {
        /* the batch's writes reach the AOF before its replies leave: the
         * replies wait for the worker's AOF write (and with appendfsync
         * always its fsync) after this loop iteration, one for all its
         * clients (on_aof_check) */
        bool hold = kv_aof_write(s);
        kv_repl_flush(s);
        pthread_mutex_unlock(&s->lock);
        if (hold)
            aof_hold(c);
    }
    if (!c->closing && !check_output_limits(c, 0))
        client_flush(c);
}

/* ---- read batches: the key lookups' cache misses overlap ------------------
 *
 * The clients that one poll found readable are read first (on_read lists
 * them), and their input runs after the poll, in the order read
 * (batch_run, from the loop turn's check). While one client's command runs,
 * the bucket of the client two places on and the first node of the next
 * one are prefetched (kv_dict_prefetch), so that the key lookup's two cache
 * misses (the kernel's work between two requests evicts the table) are paid
 * behind the running client's system calls. A pipeline's keys (up to 16)
 * are prefetched together when its client takes the lock (prefetch_input).
 * Each client's commands run as before, in order, by process_input; only
 * the point in the loop turn moves, and a client whose input is larger than
 * one read, or that reads again or ends, runs at once.
 */

#define BATCH_PF_PER_CLIENT 16 /* commands of one client's input looked at */

static void batch_add(struct kv_client *c)
{
    struct kv_worker *w = c->w;
    if (w->nbatch == w->batch_cap) {
        w->batch_cap = w->batch_cap ? w->batch_cap * 2 : 64;
        w->batch = xrealloc(w->batch, w->batch_cap * sizeof *w->batch);
    }
    c->batch_idx = w->nbatch;
    w->batch[w->nbatch++] = c;
    c->batched = true;
}

static void batch_take(struct kv_client *c)
{
    c->w->batch[c->batch_idx] = NULL;
    c->batched = false;
}

/* p[*off] is '*' or '$': the number after it, *off past its CRLF. */
static bool scan_num(const char *p, size_t len, size_t *off, size_t *v)
{
    size_t i = *off + 1, n = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9' && n < ((size_t)1 << 40))
        n = n * 10 + (size_t)(p[i++] - '0');
    if (i == *off + 1 || i + 1 >= len || p[i] != '\r' || p[i + 1] != '\n')
        return false;
    *off = i + 2;
    *v = n;
    return true;
}

/* The second argument (the key of most commands) of each complete multibulk
 * command at the head of p[0..len), at most max: a hint for prefetching, so
 * anything unexpected ends the scan (resp_parse judges the input). */
static size_t scan_keys(const char *p, size_t len, const char **key, size_t *klen, size_t max)
{
    size_t k = 0, off = 0;
    while (k < max && off < len && p[off] == '*') {
        size_t argc, i;
        if (!scan_num(p, len, &off, &argc) || argc < 2)
            break;
        for (i = 0; i < argc; i++) {
            size_t l;
            if (off >= len || p[off] != '$' || !scan_num(p, len, &off, &l) || l > len - off || len - off - l < 2)
                break;
            if (i == 1) {
                key[k] = p + off;
                klen[k] = l;
            }
            off += l + 2;
        }
        if (i < argc)
            break;
        k++;
    }
    return k;
}

/* The hashes of up to max keys at the head of c's input, into h and db. */
static size_t collect_keys(struct kv_client *c, uint64_t *h, int *db, size_t max)
{
    const char *kp[BATCH_PF_PER_CLIENT];
    size_t kl[BATCH_PF_PER_CLIENT];
    size_t m = scan_keys(buf_head(&c->in), buf_pending(&c->in), kp, kl,
                         max < BATCH_PF_PER_CLIENT ? max : BATCH_PF_PER_CLIENT);
    for (size_t j = 0; j < m; j++) {
        h[j] = kv_dict_hash(kp[j], kl[j]);
        db[j] = c->db;
    }
    return m;
}

/* Prefetch the buckets, then the first nodes, of k keys (lock held). */
static void prefetch_keys(struct kv_server *s, const uint64_t *h, const int *db, size_t k)
{
    for (size_t j = 0; j < k; j++)
        kv_dict_prefetch(&kv_db_get(s, db[j])->d, h[j], 0);
    for (size_t j = 0; j < k; j++)
        kv_dict_prefetch(&kv_db_get(s, db[j])->d, h[j], 1);
}

/* A pipeline: the keys of c's next commands, prefetched together (lock held). */
static void prefetch_input(struct kv_client *c)
{
    const char *kp[BATCH_PF_PER_CLIENT];
    size_t kl[BATCH_PF_PER_CLIENT];
    size_t k = scan_keys(buf_head(&c->in), buf_pending(&c->in), kp, kl, BATCH_PF_PER_CLIENT);
    if (k < 2)
        return; /* one command: batch_run prefetched its key */
    uint64_t h[BATCH_PF_PER_CLIENT];
    int db[BATCH_PF_PER_CLIENT];
    for (size_t j = 0; j < k; j++) {
        h[j] = kv_dict_hash(kp[j], kl[j]);
        db[j] = c->db;
    }
    prefetch_keys(c->srv, h, db, k);
}

/* Prefetch step `step` of the key of the client in batch slot i (lock held). */
static void batch_prefetch(struct kv_worker *w, size_t i, int step)
{
    struct kv_client *c = i < w->nbatch ? w->batch[i] : NULL;
    if (c && c->pf_ok)
        kv_dict_prefetch(&kv_db_get(w->srv, c->db)->d, c->pf_hash, step);
}

/* The client of batch slot i runs (lock held): the next one's first node and
 * the one after's bucket are fetched meanwhile, behind its system calls. */
static void batch_prefetch_ahead(struct kv_client *c)
{
    struct kv_worker *w = c->w;
    if (!w->batch_running || w->batch[w->batch_cur] != c)
        return;
    batch_prefetch(w, w->batch_cur + 1, 1);
    batch_prefetch(w, w->batch_cur + 2, 0);
}

static void batch_run(struct kv_worker *w)
{
    if (w->nbatch == 0)
        return;
    struct kv_server *s = w->srv;
    /* the key of each client's first command (a pipeline's others: prefetch_input) */
    for (size_t i = 0; i < w->nbatch; i++) {
        struct kv_client *c = w->batch[i];
        int db;
        if (c)
            c->pf_ok = collect_keys(c, &c->pf_hash, &db, 1) == 1;
    }
    /* the table is read under the lock; a contended lock skips the hints */
    if (w->nbatch > 1 && !atomic_load(&s->script_busy) && pthread_mutex_trylock(&s->lock) == 0) {
        batch_prefetch(w, 0, 0);
        batch_prefetch(w, 1, 0);
        batch_prefetch(w, 0, 1);
        pthread_mutex_unlock(&s->lock);
    }
    w->batch_running = true;
    for (size_t i = 0; i < w->nbatch; i++) {
        struct kv_client *c = w->batch[i];
        if (!c)
            continue;
        c->batched = false;
        w->batch_cur = i;
        process_input(c);
        if (buf_pending(&c->in) == 0)
            buf_shrink(&c->in, 64 * 1024);
    }
    w->batch_running = false;
    w->nbatch = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct kv_client *c = h->data;
    size_t want = IOBUF_LEN;
    size_t pending = buf_pending(&c->in);
    /* a large bulk: grow toward its announced end, but never by more than what
     * already arrived, so a header announcing 512 MB followed by a trickle
     * costs what the trickle costs (the buffer still doubles: O(n) copying) */
    if (c->parser.need > pending && c->parser.need - pending > want) {
        size_t most = pending > IOBUF_LEN ? pending : IOBUF_LEN;
        want = c->parser.need - pending < most ? c->parser.need - pending : most;
    }
    /* read at most `want` (16 KB unless a large bulk needs more), as Redis does:
     * a pipelining client must not balloon its input buffer, which counts in
     * used_memory and would make eviction remove keys for transient bytes */
    net_conn_read_room(&c->in, want, want, out);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct kv_client *c = st->data;
    if (nread < 0) {
        if (c->batched) { /* what it sent before the end runs first, as before */
            batch_take(c);
            process_input(c);
        }
        client_close(c);
        return;
    }
    if (nread == 0)
        return;
    c->in.len += (size_t)nread;
    c->net_in += (uint64_t)nread;
    c->last_ms = uv_now(&c->w->loop) + c->w->wall_off_ms; /* the loop's clock: no clock read per read */
    /* the argument arrays of a command still arriving count too: "$0\r\n\r\n"
     * is 6 bytes on the wire but 32 bytes of offsets and slices */
    size_t argmem = c->parser.cap > RESP_INLINE_ARGV
                        ? (size_t)c->parser.cap * (sizeof(struct resp_arg) + 2 * sizeof(size_t))
                        : 0;
    if (buf_pending(&c->in) + argmem > c->srv->cfg.client_query_buffer_limit) {
        log_warn("client id=%llu addr=%s closed for overcoming of query buffer limit",
                 (unsigned long long)c->id, c->addr);
        client_close(c);
        return;
    }
    if (!c->batched && buf_pending(&c->in) <= IOBUF_LEN) {
        batch_add(c); /* runs after the poll, with the loop turn's other reads */
        return;
    }
    /* a second read this turn (the first filled its buffer): run it all now */
    if (c->batched)
        batch_take(c);
    process_input(c);
    /* keep memory small for idle clients */
    if (buf_pending(&c->in) == 0)
        buf_shrink(&c->in, 64 * 1024);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct kv_worker *w = server->data;
    struct kv_server *s = w->srv;
    if (status < 0)
        return;
    struct kv_client *c = xcalloc(1, sizeof *c);
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)xfree);
        return;
    }
    c->w = w;
    c->srv = s;
    if (atomic_fetch_add(&s->nclients, 1) >= s->cfg.maxclients) {
        atomic_fetch_sub(&s->nclients, 1);
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
            static const char msg[] = "-ERR max number of clients reached\r\n";
            ssize_t wr = write(fd, msg, sizeof msg - 1);
            (void)wr;
        }
        pthread_mutex_lock(&s->lock);
        s->st.conns_rejected++;
        pthread_mutex_unlock(&s->lock);
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)xfree);
        return;
    }
    c->id = atomic_fetch_add(&s->next_client_id, 1);
    c->proto = 2;
    c->last_cmd = -1;
    c->ctime_ms = c->last_ms = util_time_ms();
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->wbuf);
    resp_parser_init(&c->parser);
    c->parser.max_bulk = (long long)s->cfg.proto_max_bulk_len;
    uv_tcp_nodelay(&c->tcp, 1);
    if (s->cfg.tcp_keepalive > 0)
        uv_tcp_keepalive(&c->tcp, 1, (unsigned)s->cfg.tcp_keepalive);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        net_format_addr((struct sockaddr *)&ss, c->addr, sizeof c->addr);
    len = sizeof ss;
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        net_format_addr((struct sockaddr *)&ss, c->laddr, sizeof c->laddr);
    uv_os_fd_t fd = -1;
    uv_fileno((uv_handle_t *)&c->tcp, &fd);
    c->fd = fd;
    LIST_PUSH(w->clients, c, prev, next); /* worker list */
    w->nclients++;
    /* registry (CLIENT LIST) */
    pthread_mutex_lock(&s->lock);
    /* the default user may change on another thread: read it locked */
    c->user = kv_acl_default_user(s->acl);
    c->authed = kv_acl_default_open(s->acl);
    LIST_PUSH(s->registry, c, gprev, gnext);
    s->st.conns_received++;
    pthread_mutex_unlock(&s->lock);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

void kv_server_client_resume(struct kv_client *c)
{
    if (c->srv->aof_hold && !c->closing) {
        /* a reply made by another worker's write (a blocked pop served):
         * it leaves after this worker's fsync of that write too */
        aof_hold(c);
    }
    if (!c->closing)
        process_input(c);
}

/*
 * Idle timeouts, deferred closes and soft output limits, per worker. Each
 * tick (every 100 ms) visits a slice of the clients, as Redis's clientsCron
 * does, resuming where the last tick stopped (w->clients_cursor), so no tick
 * walks a large client set at once: max(KV_CLIENTS_SLICE_MIN, nclients /
 * KV_CLIENTS_ROUND_TICKS) clients a tick. Up to KV_CLIENTS_SLICE_MIN clients
 * are all visited every tick (as before); with more, every client is visited
 * at least once per round of KV_CLIENTS_ROUND_TICKS ticks (1 s), so an idle
 * timeout or soft-limit deadline is acted on within 1 s + 100 ms of passing
 * (a client connected during a round is visited in the next one; its
 * deadline is at least `timeout` >= 1 s away). Clients held by CLIENT PAUSE
 * are resumed when the pause ends, within one tick as before: a worker that
 * held one (w->pause_held) checks the pause every tick.
 */
#define KV_CLIENTS_SLICE_MIN 64
#define KV_CLIENTS_ROUND_TICKS 10

static void client_tick(struct kv_client *c, long long now)
{
    struct kv_server *s = c->srv;
    long long timeout = s->cfg.timeout_ms;
    if (c->closing)
        return;
    if (c->close_deferred) {
        if (!atomic_load(&s->script_busy))
            client_close(c);
        return;
    }
    /* as Redis: a subscriber waits for messages, it is not idle */
    if (timeout > 0 && !c->writing && !c->blk && !c->paused && now - c->last_ms > timeout &&
        !kv_pubsub_subscribed(c)) {
        log_verbose("closing idle client id=%llu addr=%s", (unsigned long long)c->id, c->addr);
        client_close(c);
        return;
    }
    check_output_limits(c, now);
}

static void on_clients_timer(uv_timer_t *t)
{
    struct kv_worker *w = t->data;
    w->wall_off_ms = util_time_ms() - (long long)uv_now(&w->loop);
    struct kv_server *s = w->srv;
    long long now = util_time_ms();
    if (w->drain_deadline) {
        if (w->clients && now < w->drain_deadline)
            return;
        for (struct kv_client *c = w->clients; c; c = c->next)
            client_close(c);
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
        return;
    }
    if (w->pause_held) {
        pthread_mutex_lock(&s->lock);
        bool on = pause_active(s, now);
        pthread_mutex_unlock(&s->lock);
        if (!on) {
            w->pause_held = false; /* set again by a client that is held again */
            resume_paused(w);
        }
    }
    uint64_t n = w->nclients;
    uint64_t slice = (n + KV_CLIENTS_ROUND_TICKS - 1) / KV_CLIENTS_ROUND_TICKS;
    if (slice < KV_CLIENTS_SLICE_MIN)
        slice = KV_CLIENTS_SLICE_MIN;
    if (slice > n)
        slice = n;
    /* from the cursor to the end of the list, then on from its head */
    struct kv_client *c = w->clients_cursor ? w->clients_cursor : w->clients;
    for (uint64_t k = 0; c && k < slice; k++) {
        struct kv_client *next = c->next;
        w->clients_cursor = next; /* on_close moves it on if next goes */
        client_tick(c, now);
        c = next ? next : w->clients;
    }
}

/* ---- workers -------------------------------------------------------------- */

#define DRAIN_MS 3000

/* Shutdown of one worker: stop accepting, flush replies, close everything. */
static void on_wake(uv_async_t *a)
{
    struct kv_worker *w = a->data;
    if (!atomic_load(&w->srv->shutting_down)) {
        resume_paused(w); /* CLIENT UNPAUSE */
        return;
    }
    if (w->listening)
        uv_close((uv_handle_t *)&w->listener, NULL);
    w->listening = false;
    on_aof_check(&w->aof_check); /* held replies go out after their fsync */
    uv_close((uv_handle_t *)&w->aof_check, NULL);
    for (struct kv_client *c = w->clients; c; c = c->next)
        c->close_after_reply = true;
    for (struct kv_client *c = w->clients, *next; c; c = next) {
        next = c->next;
        if (!c->writing)
            client_close(c);
    }
    /* clients still writing get DRAIN_MS to take their replies */
    w->drain_deadline = util_time_ms() + DRAIN_MS;
    uv_close((uv_handle_t *)&w->wake, NULL);
    kv_blocking_worker_close(w->srv->blocking, w);
    kv_repl_worker_close(w->srv, w);
    if (w->id == 0)
        kv_replica_close_handles(w->srv);
    kv_pubsub_worker_close(w->srv->pubsub, w);
    if (w->id == 0) {
        struct kv_server *s = w->srv;
        net_cron_stop(&s->cron);
        net_signals_close(&s->sig);
        if (s->admin)
            admin_close(s->admin);
        s->admin = NULL;
    }
}

/* Worker id's loop and handles; it accepts on fd (its own SO_REUSEPORT socket). */
static int worker_init(struct kv_server *s, struct kv_worker *w, int id, int fd, char *err, size_t errlen)
{
    w->id = id;
    w->srv = s;
    net_worker_loop_init(&w->loop, &w->wake, on_wake, &w->clients_timer, on_clients_timer, 100, w);
    w->wall_off_ms = util_time_ms() - (long long)uv_now(&w->loop);
    kv_blocking_worker_init(s->blocking, w);
    kv_pubsub_worker_init(s->pubsub, w);
    kv_repl_worker_init(s, w);
    uv_check_init(&w->loop, &w->aof_check);
    w->aof_check.data = w;
    uv_check_start(&w->aof_check, on_aof_check);
    int r = net_listen_start(&w->loop, &w->listener, fd, (int)s->cfg.tcp_backlog, false, on_connection, w);
    if (r != 0) {
        snprintf(err, errlen, "listen: %s", uv_strerror(r));
        return r;
    }
    w->listening = true;
    return 0;
}

/* AOF on: one write (appendfsync always: and one fsync) for what this
 * worker's clients wrote in this loop iteration, then their replies go out
 * (group commit). */
static void on_aof_check(uv_check_t *h)
{
    struct kv_worker *w = h->data;
    batch_run(w); /* the loop turn's reads run first (their replies may be held below) */
    if (!w->aof_sync)
        return;
    w->aof_sync = false;
    kv_aof_fsync(w->srv);
    /* the clients held before the fsync; one held meanwhile (while a flush
     * ran) waits for the next iteration's fsync */
    size_t n = w->nheld;
    for (size_t i = 0; i < n; i++) {
        struct kv_client *c = w->held[i];
        c->aof_held = false;
        if (!c->closing && !check_output_limits(c, 0))
            client_flush(c);
    }
    if (w->nheld > n) {
        memmove(w->held, w->held + n, (w->nheld - n) * sizeof *w->held);
        w->aof_sync = true;
    }
    w->nheld -= n;
}

/* ---- cron ---------------------------------------------------------------- */

static void on_cron(uv_timer_t *t)
{
    struct kv_server *s = t->data;
    long long now = util_time_ms();
    /* a busy script holds the lock: skip this round, so that worker 0 keeps
     * answering -BUSY to its clients */
    if (!lock_unless_busy(s))
        return;
    kv_db_set_now(&s->db, now);
    s->cron_loops++;
    long long period_us = 1000000 / s->cfg.hz;
    /* active expiry in every database with TTLs: 1% of a core per effort
     * level, up to 25% when keys expire in bulk, shared by those databases */
    int nvol = 0;
    for (int i = 0; i < s->ndbs; i++)
        nvol += kv_db_get(s, i)->volatile_keys > 0;
    if (pause_active(s, now))
        nvol = 0; /* a paused server changes no keys by itself (as Redis) */
    for (int i = 0; i < s->ndbs && nvol; i++) {
        if (kv_db_get(s, i)->volatile_keys == 0)
            continue;
        kv_db_select(s, i);
        uint64_t before = s->db.st.expired;
        long long budget = period_us * s->cfg.active_expire_effort / 100 / nvol;
        kv_expire_cycle(s, budget);
        if (s->db.st.expired - before > 100)
            kv_expire_cycle(s, period_us / 4 / nvol);
    }
    /* eviction without client traffic (CONFIG SET maxmemory lower) */
    if (s->cfg.maxmemory && xalloc_used() > s->cfg.maxmemory && !pause_active(s, now))
        kv_evict(s);
    /* rehash in the background: 1 ms per tick */
    for (int i = 0; i < s->ndbs; i++) {
        struct dict *d = &kv_db_get(s, i)->d;
        if (dict_is_rehashing(d))
            kv_dict_rehash_for(d, 1000);
        else if (dict_size(d) || d->t[0].b)
            kv_dict_maybe_shrink(d);
    }
    /* instantaneous ops/sec, sampled every 100 ms */
    if (now - s->ops_last_ms >= 100) {
        uint64_t ops = s->st.commands;
        if (s->ops_last_ms) {
            uint64_t rate = (ops - s->ops_last) * 1000 / (uint64_t)(now - s->ops_last_ms);
            s->ops_samples[s->ops_idx++ % 16] = rate;
        }
        s->ops_last = ops;
        s->ops_last_ms = now;
    }
    kv_persist_cron(s);
    kv_aof_cron(s);
    kv_repl_cron(s);
    pthread_mutex_unlock(&s->lock);
}

/* One key out of any database, chosen as Redis does: random policies take
 * the databases in turn, the others sample every database into one pool and
 * delete the best candidate overall. */
static bool evict_any_db(struct kv_server *s, int samples)
{
    const struct kv_evict_policy *p = s->policy;
    if (s->ndbs == 1)
        return kv_evict_one(&s->db, p, samples);
    if (!p->score) {
        for (int k = 0; k < s->ndbs; k++) {
            int i = (s->evict_next_db + k) % s->ndbs;
            struct kv_db *db = kv_db_get(s, i);
            if (db_size(db) == 0 || (p->volatile_only && db->volatile_keys == 0))
                continue;
            kv_db_select(s, i);
            if (kv_evict_one(&s->db, p, samples)) {
                s->evict_next_db = (i + 1) % s->ndbs;
                return true;
            }
        }
        return false;
    }
    for (int tries = 0; tries < 100; tries++) {
        for (int i = 0; i < s->ndbs; i++) {
            struct kv_db *db = kv_db_get(s, i);
            if (db_size(db) == 0 || (p->volatile_only && db->volatile_keys == 0))
                continue;
            kv_db_select(s, i);
            kv_evict_pool_fill(&s->db, p, samples);
        }
        int best = kv_evict_pool_best_db();
        if (best < 0)
            return false;
        kv_db_select(s, best);
        if (kv_evict_pool_take(&s->db, p))
            return true;
    }
    return false;
}

int kv_evict(struct kv_server *s)
{
    if (s->policy->noevict)
        return -1;
    int samples = (int)s->cfg.maxmemory_samples;
    long long start = util_mono_us();
    while (xalloc_used() > s->cfg.maxmemory) {
        if (!evict_any_db(s, samples))
            return -1;
        s->db.st.evicted++;
        /* bound the time one call spends: the next command continues */
        if ((s->db.st.evicted & 15) == 0 && util_mono_us() - start > 50000)
            return xalloc_used() > s->cfg.maxmemory ? -1 : 0;
    }
    return 0;
}

/* ---- CLIENT LIST lines and killing clients (t_server.c, acl.c) --------------- */

void kv_client_info(struct kv_client *me, struct kv_client *c, struct buf *b)
{
    long long now = me->srv->db.now_ms;
    char flags[8];
    size_t nf = 0;
    if (kv_replica_is_master_client(me->srv, c))
        flags[nf++] = 'M';
    if (c->monitor)
        flags[nf++] = 'O';
    if (c->blk)
        flags[nf++] = 'b';
    if (kv_multi_dirty(c))
        flags[nf++] = 'd';
    if (kv_multi_active(c))
        flags[nf++] = 'x';
    if (c->no_evict)
        flags[nf++] = 'e';
    long long sub, psub, ssub;
    kv_pubsub_counts(c, &sub, &psub, &ssub);
    if (sub + psub + ssub)
        flags[nf++] = 'P';
    if (!nf)
        flags[nf++] = 'N';
    flags[nf] = '\0';
    buf_printf(b,
               "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%lld psub=%lld ssub=%lld "
               "multi=%lld qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=%zu tot-mem=0 "
               "events=r cmd=%s%s%s user=%s redir=-1 resp=%d\n",
               (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
               (now - c->ctime_ms) / 1000, (now - c->last_ms) / 1000, flags, c->db, sub, psub, ssub,
               kv_multi_count(c),
               c == me ? buf_pending(&c->out) + buf_pending(&c->wbuf)
                       : atomic_load_explicit(&c->out_bytes, memory_order_relaxed),
               c->last_cmd >= 0 ? resp_cmds[c->last_cmd].name : "NULL", c->last_sub[0] ? "|" : "", c->last_sub,
               c->user ? kv_acl_user_name(c->user) : "default", c->proto);
}

bool kv_client_kill(struct kv_client *me, struct kv_client *c)
{
    if (c == me) {
        c->close_after_reply = true;
        return true;
    }
    /* another worker's client: its own thread closes it (shutdown of its socket
     * makes its next read fail; the fd stays owned by libuv). Until then it
     * is still registered: killed keeps a second CLIENT KILL from counting it
     * again (in Redis it is gone at once) */
    if (c->killed || c->fd < 0)
        return false;
    c->killed = true;
    shutdown(c->fd, SHUT_RDWR);
    return true;
}

static const struct kv_server_ops server_ops = {
    .call = kv_server_call,
    .call_queued = kv_server_call_queued,
    .client_resume = kv_server_client_resume,
    .client_pushed = kv_server_client_pushed,
    .busy_poll = kv_server_busy_poll,
    .repl_deny_write = kv_repl_deny_write,
    .begin_shutdown = kv_server_begin_shutdown,
    .client_info = kv_client_info,
    .client_kill = kv_client_kill,
};

void kv_config_apply(struct kv_server *s)
{
    s->ops = &server_ops;
    s->policy = kv_policies[s->cfg.maxmemory_policy];
    /* kept in the selected database's slot, which serves them all */
    s->db.lfu_log_factor = (int)s->cfg.lfu_log_factor;
    s->db.lfu_decay_time = (int)s->cfg.lfu_decay_time;
    kv_hash_max_entries = (size_t)s->cfg.hash_max_listpack_entries;
    kv_hash_max_value = (size_t)s->cfg.hash_max_listpack_value;
    kv_zset_max_entries = (size_t)s->cfg.zset_max_listpack_entries;
    kv_zset_max_value = (size_t)s->cfg.zset_max_listpack_value;
    kv_list_fill = (long)s->cfg.list_max_listpack_size;
    /* Redis caps the intset at 2^30 members whatever the setting says */
    kv_set_max_intset_entries = (size_t)(s->cfg.set_max_intset_entries < (1LL << 30) ? s->cfg.set_max_intset_entries : (1LL << 30));
    log_set_level(s->cfg.loglevel);
    /* requirepass is the default user's password: set when it changes, so
     * that other CONFIG SETs leave what ACL SETUSER default gave */
    const char *rp = s->cfg.requirepass ? s->cfg.requirepass : "";
    if (!s->acl) /* the first apply: every server (and every test's) has its users */
        s->acl = kv_acl_new();
    kv_acl_set_pubsub_default(s->cfg.acl_pubsub_default == 1);
    if (!s->acl_requirepass || strcmp(s->acl_requirepass, rp) != 0) {
        kv_acl_set_requirepass(s->acl, rp);
        xfree(s->acl_requirepass);
        s->acl_requirepass = xstrdup(rp);
    }
    if (uv_is_active((uv_handle_t *)&s->cron) && (long long)uv_timer_get_repeat(&s->cron) != 1000 / s->cfg.hz)
        uv_timer_set_repeat(&s->cron, (uint64_t)(1000 / s->cfg.hz));
    kv_aof_apply(s);
}

/* ---- signals ------------------------------------------------------------- */

void kv_server_begin_shutdown(struct kv_server *s, const char *why)
{
    if (atomic_exchange(&s->shutting_down, true))
        return;
    log_notice("%s received, shutting down: draining clients", why);
    for (int i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct kv_server *s = h->data;
    if (signum == SIGHUP) {
        if (!s->config_file) {
            log_notice("SIGHUP: no config file to reload");
            return;
        }
        struct kv_config next;
        struct buf errs;
        buf_init(&errs);
        conf_defaults(&kv_conf_table, &next);
        int n = conf_load_file(&kv_conf_table, &next, s->config_file, &errs);
        if (n != 0) {
            log_warn("SIGHUP: config not reloaded: %.*s", (int)buf_pending(&errs), buf_head(&errs));
        } else {
            /* runtime directives take the new values; the rest need a restart */
            pthread_mutex_lock(&s->lock);
            for (const struct conf_directive *d = kv_conf_table.dirs; d->name; d++) {
                if (!(d->flags & CONF_RUNTIME) || !d->def)
                    continue;
                struct buf v;
                buf_init(&v);
                conf_format(d, &next, &v);
                buf_putc(&v, '\0');
                char *argv[64], err[256];
                int argc = conf_split(buf_head(&v), argv, 64);
                if (argc >= 0)
                    conf_set(&kv_conf_table, &s->cfg, d->name, argc, argv, true, err, sizeof err);
                buf_deinit(&v);
            }
            kv_config_apply(s);
            pthread_mutex_unlock(&s->lock);
            log_notice("SIGHUP: configuration reloaded from %s", s->config_file);
        }
        conf_free(&kv_conf_table, &next);
        buf_deinit(&errs);
        return;
    }
    /* as Redis: a final save when a save schedule exists */
    pthread_mutex_lock(&s->lock);
    if (!atomic_load(&s->shutting_down) && kv_persist_shutdown(s, false, false) != 0)
        log_warn("SIGTERM/SIGINT: the final save failed; exiting anyway");
    pthread_mutex_unlock(&s->lock);
    kv_server_begin_shutdown(s, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- admin endpoint ------------------------------------------------------ */

static void admin_metrics(void *arg, struct buf *out) { kv_metrics(arg, out); }
static void admin_status(void *arg, struct buf *out) { kv_status(arg, out); }

static void admin_handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    net_admin_pages(req, resp, admin_metrics, admin_status, arg);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    net_server_usage(f, &kv_conf_table,
                     "usage: scaleout kv [--config FILE] [--directive value ...]\n\n"
                     "A Redis-protocol key-value server. Every config file directive is also a flag:\n\n",
                     "\n"
                     "Example: scaleout kv --port 7379 --maxmemory 100mb --maxmemory-policy allkeys-lru\n");
}

/* Everything start-up allocated (the workers' loops are closed by then, or
 * were never started): one path for a normal stop and an early failure. */
static void server_free(struct kv_server *s)
{
    kv_db_deinit(&s->db);
    for (int i = 0; i < s->ndbs; i++)
        kv_db_deinit(&s->dbs[i]);
    xfree(s->dbs);
    xfree(s->persist_dbs);
    kv_blocking_free(s->blocking);
    kv_pubsub_free(s->pubsub);
    kv_watch_free(s->watch);
    kv_slowlog_free(s->slowlog);
    kv_acl_free(s->acl);
    xfree(s->acl_requirepass);
    kv_latency_free(s->latency);
    kv_migrate_free(s->migrate);
    kv_script_free(s->script);
    kv_aof_free(s);
    kv_repl_free(s);
    kv_prop_free(s);
    conf_free(&kv_conf_table, &s->cfg);
    xfree(s->workers);
    xfree(s->config_file);
    pthread_mutex_destroy(&s->lock);
    xfree(s);
}

/* The keyspace: databases, settings, the subsystems and the keyspace hooks. */
static void server_setup(struct kv_server *s)
{
    setlocale(LC_COLLATE, ""); /* SORT ALPHA collates as Redis does */
    kv_dict_set_seed(rand_secure64());
    pthread_mutex_init(&s->lock, NULL);
    kv_db_init(&s->db);
    s->ndbs = (int)s->cfg.databases;
    s->dbs = xcalloc((size_t)s->ndbs, sizeof *s->dbs);
    for (int i = 0; i < s->ndbs; i++) {
        kv_db_init(&s->dbs[i]);
        s->dbs[i].id = i;
    }
    s->start_ms = util_time_ms();
    s->next_client_id = 1;
    kv_config_apply(s);

    s->nworkers = (int)s->cfg.threads;
    s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
    s->blocking = kv_blocking_new(s, s->nworkers);
    s->slowlog = kv_slowlog_new();
    s->latency = kv_latency_new();
    s->pubsub = kv_pubsub_new(s, s->nworkers);
    kv_prop_init(s);
    kv_repl_init(s);
    s->db.on_expire = kv_prop_on_expire; /* DEL to the AOF and replicas, then pub/sub */
    s->db.on_expire_arg = s;
    s->db.on_evict = kv_prop_on_evict;
    s->db.on_evict_arg = s;
    s->db.on_miss = kv_pubsub_on_miss;
    s->db.on_miss_arg = s;
    s->db.on_new = kv_pubsub_on_new;
    s->db.on_new_arg = s;
    s->db.on_add = kv_blocking_on_add;
    s->db.on_add_arg = s;
    s->db.on_modify = kv_persist_on_modify; /* dirty count, WATCH, blocked waiters */
    s->db.on_modify_arg = s;
}

/* One SO_REUSEPORT socket per worker (a port another server holds is refused)
 * and the workers' loops. Returns 0, or with the reason printed -1 (nothing
 * started) or -2 (some loops were made). */
static int start_workers(struct kv_server *s)
{
    char err[256];
    int port, *fds = xcalloc((size_t)s->nworkers, sizeof *fds);
    int r = net_listen_fds(s->cfg.bind, (int)s->cfg.port, (int)s->cfg.tcp_backlog, true, true, s->nworkers, fds,
                           &port, err, sizeof err);
    int rc = r == 0 ? 0 : -1;
    if (r == 0) {
        s->cfg.port = port; /* port 0: the kernel picked one for worker 0 and the others joined it */
        for (int i = 0; i < s->nworkers && r == 0; i++)
            r = worker_init(s, &s->workers[i], i, fds[i], err, sizeof err);
        rc = r == 0 ? 0 : -2;
    }
    xfree(fds);
    if (rc != 0) {
        log_warn("%s", err);
        fprintf(stderr, "scaleout kv: %s\n", err);
    }
    return rc;
}

int kv_main(int argc, char **argv)
{
    struct kv_server *s = xcalloc(1, sizeof *s);
    int code = net_server_args(&kv_conf_table, &s->cfg, "kv", argc, argv, NULL, usage);
    if (code >= 0) {
        xfree(s);
        return code;
    }
    const char *path = net_server_config_path(argc, argv);
    if (path)
        s->config_file = xstrdup(path);

    net_server_process_init("kv", s->cfg.loglevel, s->cfg.logfile);
    server_setup(s);
    if (s->cfg.aclfile[0] && s->cfg.users) {
        log_warn("Configuring users with `user` directives and an aclfile at once is refused: define them in one "
                 "place (as Redis)");
        server_free(s);
        return 1;
    }
    if (s->cfg.aclfile[0] || s->cfg.users) {
        struct buf err;
        buf_init(&err);
        bool ok = s->cfg.users ? kv_acl_load_config_users(s, &err) : kv_acl_load(s, NULL, &err);
        if (!ok) {
            buf_putc(&err, '\0');
            log_warn("Aborting startup because of ACL errors: %s", buf_head(&err));
        }
        buf_deinit(&err);
        if (!ok) {
            server_free(s);
            return 1;
        }
    }
    bool aof_loaded;
    if (kv_aof_load(s, &aof_loaded) != 0 || (!aof_loaded && kv_persist_load(s) != 0) || kv_aof_open(s) != 0) {
        server_free(s); /* a corrupt or unreadable snapshot or AOF: nothing started yet */
        return 1;
    }
    int r = start_workers(s);
    if (r != 0) {
        if (r == -1)
            server_free(s); /* no loop was made yet: nothing else to close */
        return 1;
    }
    uv_loop_t *main_loop = &s->workers[0].loop;
    net_cron_start(&s->cron, main_loop, on_cron, (uint64_t)(1000 / s->cfg.hz), s);
    net_signals_start(&s->sig, main_loop, on_signal, on_signal, s);
    long long aport = net_admin_port(s->cfg.admin_port, s->cfg.port);
    s->admin = net_admin_start(main_loop, s->cfg.admin_bind, aport, NULL, admin_handler, s);
    net_pidfile_write(s->cfg.pidfile);
    log_notice("scaleout kv ready: %s:%lld, %d thread%s, maxmemory %llu (%s), admin %s:%lld", s->cfg.bind,
               s->cfg.port, s->nworkers, s->nworkers > 1 ? "s" : "", s->cfg.maxmemory, s->policy->name,
               s->cfg.admin_bind, s->admin ? aport : 0);

    kv_repl_start(s); /* --replicaof */
    struct net_threads th;
    NET_THREADS_START(&th, s->workers, s->nworkers);
    uv_run(main_loop, UV_RUN_DEFAULT);
    net_threads_join(&th);
    for (int i = 0; i < s->nworkers; i++) {
        net_loop_close(&s->workers[i].loop);
        xfree(s->workers[i].held);
        xfree(s->workers[i].batch);
    }
    net_pidfile_remove(s->cfg.pidfile);
    log_notice("scaleout kv stopped");
    server_free(s);
    return 0;
}
