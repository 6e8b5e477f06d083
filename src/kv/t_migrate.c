/*
 * t_migrate.c — MIGRATE: move (or copy) keys to another Redis-protocol
 * server, as Redis 7.0 does it: DUMP payloads sent as RESTORE commands
 * (after AUTH and SELECT as needed) on a connection kept for the next
 * MIGRATE to the same host:port, the replies read back, the keys the target
 * took deleted here and propagated as DEL. The target may be redis-server or
 * scaleout kv; RESTORE-ASKING (what a cluster node sends) is RESTORE here.
 *
 * Like Redis, MIGRATE blocks the server while it talks to the target, each
 * connect/write/read bounded by the command's timeout (ms; 0 or less: 1000).
 * One difference: the timeout is at most MIGRATE_TIMEOUT_MAX_MS, so that no
 * request can hold the server for longer than that per step.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/net.h"
#include "core/util.h"
#include "kv/multi.h"
#include "kv/propagate.h"
#include "kv/pubsub.h"
#include "kv/rdb.h"
#include "kv/reply.h"
#include "kv/server.h"

#define MIGRATE_TIMEOUT_MAX_MS 10000
#define CACHE_ITEMS 64        /* connections kept (Redis's MIGRATE_SOCKET_CACHE_ITEMS) */
#define CACHE_TTL_MS 10000    /* an idle one is closed after this long */
#define LINE_MAX_BYTES 1024

struct cached_sock {
    char name[300]; /* host:port as given */
    int fd;         /* -1: free slot */
    long long last_dbid;
    long long last_use_ms;
    struct buf in;  /* read, not yet consumed */
};

struct kv_migrate {
    struct cached_sock c[CACHE_ITEMS];
};

static struct kv_migrate *cache_of(struct kv_server *s)
{
    if (!s->migrate) {
        s->migrate = xcalloc(1, sizeof *s->migrate);
        for (int i = 0; i < CACHE_ITEMS; i++) {
            s->migrate->c[i].fd = -1;
            buf_init(&s->migrate->c[i].in);
        }
    }
    return s->migrate;
}

static void close_sock(struct cached_sock *cs)
{
    if (cs->fd >= 0)
        close(cs->fd);
    cs->fd = -1;
    cs->name[0] = '\0';
    buf_deinit(&cs->in);
    buf_init(&cs->in);
}

void kv_migrate_free(struct kv_migrate *m)
{
    if (!m)
        return;
    for (int i = 0; i < CACHE_ITEMS; i++) {
        close_sock(&m->c[i]);
        buf_deinit(&m->c[i].in);
    }
    xfree(m);
}

static void set_timeouts(int fd, long long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* The cached connection to host:port, or a new one; NULL after replying. */
static struct cached_sock *get_sock(struct kv_client *c, const struct resp_arg *host, const struct resp_arg *port,
                                    long long timeout)
{
    struct kv_migrate *m = cache_of(c->srv);
    long long now = util_mono_us() / 1000;
    char name[300];
    snprintf(name, sizeof name, "%.*s:%.*s", (int)(host->len > 255 ? 255 : host->len), host->ptr,
             (int)(port->len > 16 ? 16 : port->len), port->ptr);
    struct cached_sock *free_slot = NULL;
    for (int i = 0; i < CACHE_ITEMS; i++) {
        struct cached_sock *cs = &m->c[i];
        if (cs->fd >= 0 && now - cs->last_use_ms > CACHE_TTL_MS)
            close_sock(cs); /* idle too long */
        if (cs->fd >= 0 && strcmp(cs->name, name) == 0) {
            cs->last_use_ms = now;
            set_timeouts(cs->fd, timeout);
            return cs;
        }
        if (cs->fd < 0 && !free_slot)
            free_slot = cs;
    }
    if (!free_slot) { /* full: drop one, as Redis drops a random one */
        free_slot = &m->c[(unsigned)now % CACHE_ITEMS];
        close_sock(free_slot);
    }
    char hbuf[256], err[256];
    snprintf(hbuf, sizeof hbuf, "%.*s", (int)(host->len > 255 ? 255 : host->len), host->ptr);
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%.*s", (int)(port->len > 16 ? 16 : port->len), port->ptr);
    struct sockaddr_storage sa;
    socklen_t salen;
    int fd = -1;
    bool resolved = net_resolve(hbuf, atoi(pbuf), &sa, &salen, err, sizeof err) == 0;
    if (resolved && (fd = net_socket_timeout(sa.ss_family, timeout)) >= 0 &&
        connect(fd, (struct sockaddr *)&sa, salen) == 0) {
        free_slot->fd = fd;
        snprintf(free_slot->name, sizeof free_slot->name, "%s", name);
        free_slot->last_dbid = -1;
        free_slot->last_use_ms = now;
        return free_slot;
    }
    int e = errno;
    if (fd >= 0)
        close(fd);
    /* Redis connects without blocking and waits for the socket to be
     * writable: a refused connection shows up as a failed write, only a
     * timeout (or a name that does not resolve) as a failed connect */
    if (resolved && fd >= 0 && e != EINPROGRESS && e != EAGAIN && e != ETIMEDOUT)
        kv_reply_error(c, "IOERR error or timeout writing to target instance");
    else
        kv_reply_error(c, "IOERR error or timeout connecting to the client");
    return NULL;
}

/* One reply line (without CRLF) into out; false on error or timeout. */
static bool read_line(struct cached_sock *cs, char *out, size_t cap)
{
    for (;;) {
        const char *p = buf_head(&cs->in);
        size_t n = buf_pending(&cs->in);
        const char *nl = memchr(p, '\n', n);
        if (nl) {
            size_t len = (size_t)(nl - p);
            if (len && p[len - 1] == '\r')
                len--;
            snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
            buf_consume(&cs->in, (size_t)(nl - p) + 1);
            return true;
        }
        if (n > LINE_MAX_BYTES * 64)
            return false;
        ssize_t r = net_read_buf(cs->fd, &cs->in, 4096);
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            return false;
        }
    }
}

static void bulk(struct buf *b, const char *p, size_t n) { resp_add_bulk(b, p, n); }

void kv_cmd_MIGRATE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    bool copy = false, replace = false;
    const struct resp_arg *user = NULL, *pass = NULL;
    int first_key = 3, nkeys = 1;
    for (int j = 6; j < argc; j++) {
        int more = argc - 1 - j;
        if (kv_arg_is(&argv[j], "copy")) {
            copy = true;
        } else if (kv_arg_is(&argv[j], "replace")) {
            replace = true;
        } else if (kv_arg_is(&argv[j], "auth")) {
            if (!more) {
                kv_reply_syntax(c);
                return;
            }
            pass = &argv[++j];
        } else if (kv_arg_is(&argv[j], "auth2")) {
            if (more < 2) {
                kv_reply_syntax(c);
                return;
            }
            user = &argv[++j];
            pass = &argv[++j];
        } else if (kv_arg_is(&argv[j], "keys")) {
            if (argv[3].len != 0) {
                kv_reply_error(c, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return;
            }
            first_key = j + 1;
            nkeys = argc - j - 1;
            break;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    long long timeout, dbid;
    if (!kv_arg_ll(c, &argv[5], &timeout) || !kv_arg_ll(c, &argv[4], &dbid))
        return;
    if (timeout <= 0)
        timeout = 1000;
    if (timeout > MIGRATE_TIMEOUT_MAX_MS)
        timeout = MIGRATE_TIMEOUT_MAX_MS;

    /* the keys that are here */
    struct kv_db *db = &s->db;
    int *keys = xmalloc((size_t)(nkeys ? nkeys : 1) * sizeof *keys);
    int n = 0;
    for (int j = 0; j < nkeys; j++)
        if (db_lookup(db, argv[first_key + j].ptr, argv[first_key + j].len, 0))
            keys[n++] = first_key + j;
    if (n == 0) {
        xfree(keys);
        resp_add_simple(&c->out, "NOKEY", 5);
        return;
    }
    bool may_retry = true;
    struct buf cmd;
    buf_init(&cmd);
try_again:;
    bool write_error = false;
    struct cached_sock *cs = get_sock(c, &argv[1], &argv[2], timeout);
    if (!cs)
        goto done;
    buf_deinit(&cmd);
    buf_init(&cmd);
    if (pass) {
        resp_add_array(&cmd, user ? 3 : 2);
        bulk(&cmd, "AUTH", 4);
        if (user)
            bulk(&cmd, user->ptr, user->len);
        bulk(&cmd, pass->ptr, pass->len);
    }
    bool select = cs->last_dbid != dbid;
    if (select) {
        char num[24];
        int l = snprintf(num, sizeof num, "%lld", dbid);
        resp_add_array(&cmd, 2);
        bulk(&cmd, "SELECT", 6);
        bulk(&cmd, num, (size_t)l);
    }
    /* RESTORE key ttl payload [REPLACE] for each key still there */
    long long now = db->now_ms;
    int sent = 0;
    struct buf payload;
    buf_init(&payload);
    for (int j = 0; j < n; j++) {
        struct kv_obj *o = db_lookup(db, argv[keys[j]].ptr, argv[keys[j]].len, LOOKUP_NOTOUCH);
        if (!o)
            continue;
        long long ttl = 0;
        if (obj_has_ttl(o)) {
            ttl = obj_expire(o) - now;
            if (ttl < 0)
                continue;
            if (ttl < 1)
                ttl = 1;
        }
        keys[sent++] = keys[j];
        resp_add_array(&cmd, replace ? 5 : 4);
        bulk(&cmd, "RESTORE", 7);
        bulk(&cmd, argv[keys[j]].ptr, argv[keys[j]].len);
        char num[24];
        int l = snprintf(num, sizeof num, "%lld", ttl);
        bulk(&cmd, num, (size_t)l);
        payload.off = payload.len = 0;
        kv_rdb_dump(o, &payload, s->cfg.rdbcompression);
        bulk(&cmd, buf_head(&payload), buf_pending(&payload));
        if (replace)
            bulk(&cmd, "REPLACE", 7);
    }
    buf_deinit(&payload);
    n = sent;
    errno = 0;
    if (net_write_all(cs->fd, buf_head(&cmd), buf_pending(&cmd)) != 0) {
        write_error = true;
        goto socket_err;
    }
    char l0[LINE_MAX_BYTES] = "", l1[LINE_MAX_BYTES] = "", l2[LINE_MAX_BYTES];
    if (pass && !read_line(cs, l0, sizeof l0))
        goto socket_err;
    if (select && !read_line(cs, l1, sizeof l1))
        goto socket_err;
    bool target_error = false, socket_error = false;
    int deleted = 0, j;
    for (j = 0; j < n; j++) {
        if (!read_line(cs, l2, sizeof l2)) {
            socket_error = true;
            break;
        }
        if ((pass && l0[0] == '-') || (select && l1[0] == '-') || l2[0] == '-') {
            if (!target_error) {
                cs->last_dbid = -1;
                const char *e = pass && l0[0] == '-' ? l0 : select && l1[0] == '-' ? l1 : l2;
                target_error = true;
                kv_reply_errorf(c, "ERR Target instance replied with error: %s", e + 1);
            }
        } else if (!copy) {
            const struct resp_arg *k = &argv[keys[j]];
            if (kv_db_delete(db, k->ptr, k->len)) {
                kv_notify(c, KV_NOTIFY_GENERIC, "del", k->ptr, k->len);
                s->dirty++;
                keys[deleted++] = keys[j];
            }
        }
    }
    if (!target_error && socket_error && j == 0 && may_retry && errno != EAGAIN && errno != ETIMEDOUT)
        goto socket_err;
    if (socket_error)
        close_sock(cs);
    if (deleted) { /* propagated as DEL of the keys the target took */
        struct resp_arg *dv = xmalloc((size_t)(deleted + 1) * sizeof *dv);
        dv[0] = (struct resp_arg){"DEL", 3};
        for (int i = 0; i < deleted; i++)
            dv[i + 1] = argv[keys[i]];
        kv_prop_effect(s, c->db, deleted + 1, dv);
        xfree(dv);
    }
    if (!target_error && socket_error) {
        may_retry = false;
        write_error = false;
        goto io_error;
    }
    if (!target_error) {
        cs->last_dbid = dbid;
        resp_add_ok(&c->out);
    }
    goto done;
socket_err:
    close_sock(cs);
    if (errno != EAGAIN && errno != ETIMEDOUT && may_retry) {
        may_retry = false;
        goto try_again;
    }
io_error:
    kv_reply_errorf(c, "IOERR error or timeout %s to target instance", write_error ? "writing" : "reading");
done:
    buf_deinit(&cmd);
    xfree(keys);
}

/* MODULE: kv loads no modules; LIST is empty, LOAD and UNLOAD fail as
 * Redis's do for a module it cannot load or does not have. */
void kv_cmd_MODULE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    if (!kv_subcommand_ok(c, RESP_CMD_MODULE, argc, argv))
        return;
    if (kv_arg_is(sub, "list")) {
        resp_add_array(&c->out, 0);
    } else if (kv_arg_is(sub, "load") || kv_arg_is(sub, "loadex")) {
        kv_reply_error(c, "ERR Error loading the extension. Please check the server logs.");
    } else if (kv_arg_is(sub, "unload")) {
        kv_reply_error(c, "ERR Error unloading module: no such module with that name");
    } else {
        static const char *help[] = {
            "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LIST",
            "    The modules loaded: always none, scaleout kv loads no modules.",
            "LOAD <path> [<arg> ...] | LOADEX <path> [CONFIG <name> <value> ...] [ARGS <arg> ...]",
            "    Refused: scaleout kv cannot load Redis modules.",
            "UNLOAD <name>",
            "    Refused: there is no module to unload.",
            "HELP",
            "    Print this help.",
        };
        kv_reply_help(c, help, sizeof help / sizeof help[0]);
    }
}
