/*
 * replica.c — replication, the replica side (see repl.h): the link to the
 * primary on worker 0's loop, the handshake, the RDB of a full sync, the
 * stream applied through the normal dispatch, REPLCONF ACK every second.
 */
#include "kv/repl.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "kv/async_load.h"
#include "kv/aof.h"
#include "kv/blocking.h"
#include "kv/function.h"
#include "kv/multi.h"
#include "kv/pubsub.h"
#include "kv/persist.h"
#include "kv/propagate.h"
#include "kv/rdb.h"
#include "kv/types.h"

enum {
    ML_NONE,        /* no connection */
    ML_CONNECTING,
    ML_PONG,        /* sent PING */
    ML_AUTH,        /* sent AUTH [masteruser] masterauth */
    ML_PORT,        /* sent REPLCONF listening-port */
    ML_CAPA,        /* sent REPLCONF capa */
    ML_PSYNC,       /* sent PSYNC */
    ML_RDB_LEN,     /* +FULLRESYNC read: waiting for $<len> */
    ML_RDB,         /* reading the RDB payload */
    ML_STREAM,      /* applying the command stream */
};

#define MAX_RDB_PAYLOAD (16ULL << 30)
/* the largest offset a primary may announce: far from overflowing as the stream goes on */
#define MAX_REPL_OFFSET (1LL << 62)

struct kv_master_link {
    struct kv_server *s;
    const struct kv_repl_ops *ops; /* repl.c's (kv_repl_init) */
    char host[256];
    long long port;
    bool want;                  /* a primary is configured */
    uv_async_t async;           /* REPLICAOF from any worker: act on worker 0 */
    uv_timer_t timer;           /* 1 s: reconnect, REPLCONF ACK */
    bool handles;               /* async and timer initialised */
    uv_tcp_t *tcp;              /* current connection, NULL none */
    uv_connect_t creq;
    int state;
    struct buf in;
    long long rdb_len;
    char pending_id[KV_REPLID_LEN + 1];
    long long pending_off;
    struct kv_client *mc;       /* the master client the stream runs as */
    struct resp_parser p;
    bool applying;
    long long last_io_ms;
    long long down_since_ms;
    long long al_start_ms;      /* when the asynchronous load began */
    long long read_off;         /* stream bytes received (applied or not) */
    char last_error[256];       /* the primary's last refusal (AUTH), for INFO */
    bool eof_mode;              /* the RDB comes with $EOF:<mark> framing (diskless primary) */
    char eof_mark[KV_REPLID_LEN];
    bool reading;               /* uv_read_start is in effect on tcp */
    bool async_wanted;          /* this full sync loads on the loader thread (swapdb) */
    bool al_blocking;           /* ... but not serving the old data: a new replid (INFO loading:1) */
    struct kv_async_load *al;   /* the asynchronous load running, NULL none */
    long long al_left;          /* $<len> framing: payload bytes not fed to al yet */
    bool al_ended;              /* al has the whole payload */
    long long skip;             /* payload bytes after the image's end, dropped before the stream */
    bool keep_old;              /* swapdb: the old data stays until the new is loaded (and if it fails) */
    bool to_disk;               /* the payload goes to a file first, then loads from it */
    int disk_fd;                /* that file while it is written, -1 none */
    long long disk_written;
    char disk_tmp[4200];        /* its temporary name */
    atomic_bool kill_wanted;    /* CLIENT KILL asked worker 0 to drop the link */
    bool psync_failover;        /* FAILOVER: the PSYNC says FAILOVER; its answer ends it (lock) */
};

static struct kv_master_link *ML(const struct kv_server *s) { return s->ml; }

bool kv_replica_active(const struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    return m && m->want;
}

bool kv_replica_is_master_client(const struct kv_server *s, const struct kv_client *c)
{
    struct kv_master_link *m = ML(s);
    return m && c == m->mc;
}

bool kv_replica_in_apply(const struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    return m && m->applying;
}

int kv_replica_stream_db(const struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    return m && m->want && m->state == ML_STREAM ? m->mc->db : -1;
}

bool kv_replica_applying(const struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    return m && m->state == ML_STREAM;
}

static struct kv_client *master_client(struct kv_server *s)
{
    struct kv_client *c = xcalloc(1, sizeof *c);
    c->srv = s;
    c->authed = true;
    c->proto = 2;
    c->last_cmd = -1;
    c->fd = -1;
    c->id = atomic_fetch_add(&s->next_client_id, 1);
    snprintf(c->addr, sizeof c->addr, "master");
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->wbuf);
    return c;
}

/* ---- writing to the primary ------------------------------------------------------------ */

struct wreq {
    uv_write_t req;
    size_t n;
    char data[];
};

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    xfree(req->data);
}

static void send_bytes(struct kv_master_link *m, const char *p, size_t n)
{
    if (!m->tcp)
        return;
    struct wreq *w = xmalloc(sizeof *w + n);
    memcpy(w->data, p, n);
    w->n = n;
    w->req.data = w;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)m->tcp, &b, 1, on_written) != 0)
        xfree(w);
}

static void send_cmd(struct kv_master_link *m, int argc, const char **argv)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        buf_printf(&b, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    send_bytes(m, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

/* AUTH [masteruser] masterauth when masterauth is set; whether it was sent. */
static bool send_auth(struct kv_master_link *m)
{
    struct kv_server *s = m->s;
    char user[256], pass[512];
    pthread_mutex_lock(&s->lock); /* CONFIG SET may change them */
    snprintf(user, sizeof user, "%s", s->cfg.masteruser ? s->cfg.masteruser : "");
    snprintf(pass, sizeof pass, "%s", s->cfg.masterauth ? s->cfg.masterauth : "");
    pthread_mutex_unlock(&s->lock);
    if (!pass[0])
        return false;
    const char *av[3] = {"AUTH", user, pass};
    if (user[0])
        send_cmd(m, 3, av);
    else {
        av[1] = pass;
        send_cmd(m, 2, av);
    }
    return true;
}

static void send_ack(struct kv_master_link *m)
{
    char off[32];
    snprintf(off, sizeof off, "%llu", (unsigned long long)m->s->repl_offset);
    const char *av[3] = {"REPLCONF", "ACK", off};
    send_cmd(m, 3, av);
}

void kv_replica_getack(struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    if (m && m->state == ML_STREAM)
        send_ack(m);
}

/* ---- the connection ------------------------------------------------------------------- */

static void on_tcp_closed(uv_handle_t *h) { xfree(h); }

/* The PSYNC FAILOVER got its answer, or never will (lock held). */
static void failover_answered(struct kv_master_link *m, bool ok, const char *why)
{
    if (!m->psync_failover)
        return;
    m->psync_failover = false;
    m->ops->failover_result(m->s, ok, why);
}

static void link_close(struct kv_master_link *m, const char *why)
{
    if (!m->tcp)
        return;
    if (why)
        log_warn("Connection with master lost: %s", why);
    pthread_mutex_lock(&m->s->lock);
    failover_answered(m, false, "Failover target could not be reached");
    pthread_mutex_unlock(&m->s->lock);
    if (m->al) {
        /* as Redis: an async load that did not finish leaves the old data
         * (m->al changes under the lock: INFO reads it from any worker) */
        struct kv_async_load *al = m->al;
        pthread_mutex_lock(&m->s->lock);
        m->al = NULL;
        pthread_mutex_unlock(&m->s->lock);
        kv_async_load_free(al, !atomic_load(&m->s->shutting_down)); /* no thread left behind at exit */
        if (m->keep_old)
            log_notice("MASTER <-> REPLICA sync: Discarding the data loaded asynchronously, the old data stays");
        else
            log_notice("MASTER <-> REPLICA sync: Discarding the partly loaded data (the old data was flushed)");
    }
    if (m->disk_fd >= 0) { /* a transfer to disk cut short */
        close(m->disk_fd);
        unlink(m->disk_tmp);
        m->disk_fd = -1;
    }
    m->reading = false;
    m->skip = 0;
    pthread_mutex_lock(&m->s->lock);
    m->mc->fd = -1;
    pthread_mutex_unlock(&m->s->lock);
    uv_read_stop((uv_stream_t *)m->tcp);
    uv_close((uv_handle_t *)m->tcp, on_tcp_closed);
    m->tcp = NULL;
    m->state = ML_NONE;
    m->in.off = m->in.len = 0;
    resp_parser_reset(&m->p);
    m->down_since_ms = util_time_ms();
    if (m->mc && kv_multi_active(m->mc))
        kv_multi_reset(m->mc);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct kv_master_link *m = h->data;
    size_t want = 64 * 1024;
    if (m->al) /* the loader takes the bytes as they come */
        want = 1u << 20;
    else if (m->state == ML_RDB && m->eof_mode) /* diskless: length unknown, read big */
        want = buf_pending(&m->in) >= (1u << 20) ? (1u << 22) : (1u << 20);
    else if (m->state == ML_RDB && m->rdb_len > 0 && (size_t)m->rdb_len > buf_pending(&m->in))
        want = (size_t)m->rdb_len - buf_pending(&m->in) < (1u << 24) ? (size_t)m->rdb_len - buf_pending(&m->in)
                                                                        : (1u << 24);
    if (want < 16 * 1024)
        want = 16 * 1024;
    buf_reserve(&m->in, want);
    *out = uv_buf_init(buf_tail(&m->in), (unsigned)buf_room(&m->in));
}

/* One line (without CRLF) from the input, or NULL when incomplete. */
static char *take_line(struct kv_master_link *m, size_t *len)
{
    char *h = buf_head(&m->in);
    char *nl = memchr(h, '\n', buf_pending(&m->in));
    if (!nl)
        return NULL;
    *len = (size_t)(nl - h);
    if (*len && h[*len - 1] == '\r')
        (*len)--;
    h[*len] = '\0';
    buf_consume(&m->in, (size_t)(nl - h) + 1);
    return h;
}

/* Library codes kept across a swapdb load (put back if it fails). */
struct code_list {
    char **code;
    size_t *len;
    int n, cap;
};

static void keep_code(void *arg, const char *code, size_t len)
{
    struct code_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->code = xrealloc(l->code, (size_t)l->cap * sizeof *l->code);
        l->len = xrealloc(l->len, (size_t)l->cap * sizeof *l->len);
    }
    l->code[l->n] = xmalloc(len ? len : 1);
    memcpy(l->code[l->n], code, len);
    l->len[l->n++] = len;
}

static void code_list_free(struct code_list *l)
{
    for (int i = 0; i < l->n; i++)
        xfree(l->code[i]);
    xfree(l->code);
    xfree(l->len);
}

/* A sync failed after its libraries replaced old's (lock held): put old's
 * back. */
static void restore_libraries(struct kv_server *s, const struct code_list *old)
{
    char e2[300];
    kv_fn_flush(s);
    for (int i = 0; i < old->n; i++)
        if (kv_fn_load_code(s, old->code[i], old->len[i], e2, sizeof e2) != 0)
            log_warn("Restoring a library after a failed sync: %s", e2);
}

/*
 * repl-diskless-load swapdb: load into new databases from the received
 * bytes and exchange them with the server's only when the load succeeded
 * (a bad payload leaves the old data, and the old libraries, in place).
 */
static int load_swapdb(struct kv_server *s, const char *p, size_t n, struct kv_db *const *dbs, int ndbs,
                       struct kv_rdb_load_stats *st, char *err, size_t errlen)
{
    struct kv_db *tmp = xcalloc((size_t)ndbs, sizeof *tmp);
    struct kv_db **tp = xcalloc((size_t)ndbs, sizeof *tp);
    for (int i = 0; i < ndbs; i++) {
        kv_db_init(&tmp[i]);
        tmp[i].id = i;
        tmp[i].lfu_log_factor = dbs[i]->lfu_log_factor;
        tmp[i].lfu_decay_time = dbs[i]->lfu_decay_time;
        tp[i] = &tmp[i];
    }
    struct code_list old = {0};
    kv_fn_foreach_code(s, keep_code, &old);
    kv_fn_flush(s);
    struct kv_rdb_load_opts lo = {.fn_load = kv_fn_rdb_load, .fn_arg = s};
    int rc = kv_rdb_load_mem_ex(p, n, tp, ndbs, util_time_ms(), &lo, st, err, errlen);
    if (rc == 0) {
        kv_watch_flush(s);
        for (int i = 0; i < ndbs; i++)
            kv_db_exchange(dbs[i], &tmp[i], false);
    } else {
        restore_libraries(s, &old);
    }
    code_list_free(&old);
    for (int i = 0; i < ndbs; i++)
        kv_db_deinit(&tmp[i]);
    xfree(tmp);
    xfree(tp);
    return rc;
}

/* A full sync's data is in place (lock held): the new history begins. */
static void sync_loaded(struct kv_master_link *m, const struct kv_rdb_load_stats *st)
{
    struct kv_server *s = m->s;
    m->ops->drop_replicas(s); /* their data changed wholesale: they resync */
    m->ops->new_history(s, m->pending_id, m->pending_off);
    /* the stream goes on in the database the primary's stream was in when
     * it took the snapshot (repl-stream-db: a chained primary's stream
     * does not begin with SELECT) */
    m->mc->db = st->repl_stream_db >= 0 ? st->repl_stream_db : 0;
    m->state = ML_STREAM;
    m->last_error[0] = '\0';
    s->dirty++;
    kv_aof_after_full_sync(s);
    /* as Redis: ACK at once (a diskless primary puts the replica online on its first ACK) */
    send_ack(m);
}

/*
 * The synchronous load (lock taken here): only when the loader thread could
 * not start. file: the payload was saved there (a disk sync's); NULL: it is
 * in m->in (rdb_len bytes).
 */
static void full_sync_load(struct kv_master_link *m, const char *file)
{
    struct kv_server *s = m->s;
    char err[600];
    int n;
    const char *payload = buf_head(&m->in);
    size_t plen = file ? 0 : (size_t)m->rdb_len;
    pthread_mutex_lock(&s->lock);
    kv_prop_set_enabled(s, false);
    bool swap = m->keep_old && !file;
    kv_db_select(s, 0);
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    struct kv_rdb_load_stats st;
    int rc;
    if (swap) {
        rc = load_swapdb(s, payload, plen, dbs, n, &st, err, sizeof err);
    } else {
        kv_watch_flush(s);
        for (int i = 0; i < n; i++)
            kv_db_flush(dbs[i]);
        kv_fn_flush(s); /* as Redis: a full sync replaces the libraries too */
        struct kv_rdb_load_opts lo = {.fn_load = kv_fn_rdb_load, .fn_arg = s};
        if (file)
            rc = kv_rdb_load_file_ex(file, dbs, n, util_time_ms(), &lo, &st, err, sizeof err) == 0 ? 0 : -1;
        else
            rc = kv_rdb_load_mem_ex(payload, plen, dbs, n, util_time_ms(), &lo, &st, err, sizeof err);
    }
    if (rc != 0 && !swap) {
        /* as Redis: what a failed load left is not the primary's data */
        for (int i = 0; i < n; i++)
            kv_db_flush(dbs[i]);
        kv_fn_flush(s);
    }
    kv_prop_set_enabled(s, true);
    if (rc != 0) {
        pthread_mutex_unlock(&s->lock);
        log_warn("Failed trying to load the MASTER synchronization DB from %s: %s", file ? "disk" : "socket", err);
        link_close(m, "bad RDB payload");
        return;
    }
    if (!file)
        buf_consume(&m->in, plen + (m->eof_mode ? KV_REPLID_LEN : 0));
    sync_loaded(m, &st);
    pthread_mutex_unlock(&s->lock);
    log_notice("MASTER <-> REPLICA sync: Finished with success (%llu keys, %llu libraries, offset %lld)",
               (unsigned long long)st.keys, (unsigned long long)st.functions, m->pending_off);
}

/* ---- repl-diskless-load swapdb, asynchronously (Redis 7.0's async loading) --------------
 *
 * When the primary's +FULLRESYNC names the replication id this replica
 * already follows, its current data is an older state of the same data set:
 * as Redis, it goes on serving it while the new image loads on a thread
 * (async_load.h) from the socket's bytes as they come; at the end the new
 * databases and libraries replace the old ones in one step under the lock,
 * and a failed load leaves the old ones. What the primary sends after the
 * image stays in the socket (or m->in) until then: the stream is applied
 * after the swap, as Redis reads it only after its load.
 */

static void read_start(struct kv_master_link *m);
static void process(struct kv_master_link *m);

/* Install the libraries of the loaded image (lock held): the old ones are
 * put back when one fails. 0 or -1 (err). */
static int install_libraries(struct kv_server *s, struct kv_async_load *al, char *err, size_t errlen)
{
    struct code_list old = {0}, fresh = {0};
    kv_fn_foreach_code(s, keep_code, &old);
    kv_async_load_foreach_code(al, keep_code, &fresh);
    kv_fn_flush(s);
    int rc = 0;
    for (int i = 0; i < fresh.n && rc == 0; i++)
        if (kv_fn_load_code(s, fresh.code[i], fresh.len[i], err, errlen) != 0)
            rc = -1;
    if (rc != 0)
        restore_libraries(s, &old);
    code_list_free(&old);
    code_list_free(&fresh);
    return rc;
}

/* The loader finished (worker 0): swap the new data in, or keep the old. */
static void async_load_finished(struct kv_master_link *m)
{
    struct kv_server *s = m->s;
    struct kv_async_load_result res;
    char err[600];
    kv_async_load_result(m->al, &res);
    /* res points into the loader: copied before it is freed */
    snprintf(err, sizeof err, "%s", res.err);
    int rc = res.rc;
    struct kv_rdb_load_stats st = *res.st;
    pthread_mutex_lock(&s->lock);
    if (rc == 0)
        rc = install_libraries(s, m->al, err, sizeof err);
    if (rc == 0) {
        int n;
        struct kv_db **dbs = kv_persist_dbs(s, &n);
        kv_watch_flush(s); /* as Redis: the swap touches every watched key */
        for (int i = 0; i < n && i < res.ndbs; i++) {
            kv_db_exchange(dbs[i], &res.dbs[i], false);
            kv_blocking_swapdb(s, i, i); /* XREAD BLOCK on a key the new data has */
        }
        sync_loaded(m, &st);
        kv_blocking_serve_ready(s);
        /* $<len> framing: what the primary announced beyond the image's
         * checksum is ignored, as the synchronous load ignores it */
        m->skip = m->eof_mode ? 0 : m->al_left;
    }
    struct kv_async_load *al = m->al;
    m->al = NULL;
    pthread_mutex_unlock(&s->lock);
    long long ms = util_time_ms() - m->al_start_ms;
    /* the swapped-out data is in the loader's databases now: freed off this thread */
    kv_async_load_free(al, true);
    if (rc != 0) {
        log_warn("Failed trying to load the MASTER synchronization DB from %s: %s", m->to_disk ? "disk" : "socket", err);
        link_close(m, "bad RDB payload");
        return;
    }
    log_notice("MASTER <-> REPLICA sync: Finished with success (async loading: %llu keys, %llu libraries, "
               "%lld ms serving the old data, offset %lld)",
               (unsigned long long)st.keys, (unsigned long long)st.functions, ms, m->pending_off);
    read_start(m);
    process(m); /* the stream that waited in m->in */
}

/* The loader has room again or finished (worker 0). */
static void on_load_event(void *arg)
{
    struct kv_master_link *m = arg;
    if (!m->al)
        return;
    if (kv_async_load_done(m->al)) {
        async_load_finished(m);
        return;
    }
    if (!m->al_ended && kv_async_load_has_room(m->al))
        read_start(m);
}

/* A load that does not keep the old data begins (lock held): as Redis's
 * emptyData, the databases and libraries are emptied; the old data is freed
 * on another thread, so clients do not wait for it. */
static void flush_for_load(struct kv_server *s)
{
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    struct kv_db *old = xcalloc((size_t)n, sizeof *old);
    kv_watch_flush(s);
    for (int i = 0; i < n; i++) {
        kv_db_init(&old[i]);
        old[i].id = i;
        kv_db_exchange(dbs[i], &old[i], false);
    }
    kv_async_load_free_dbs(old, n, true);
    kv_fn_flush(s);
}

/* Start the load on the loader thread (worker 0): of the payload that
 * follows on the socket (fd -1), or of the file a disk sync saved (fd,
 * owned). false: the thread could not start (the load is then synchronous). */
static bool async_load_begin(struct kv_master_link *m, int fd)
{
    struct kv_server *s = m->s;
    int n;
    pthread_mutex_lock(&s->lock);
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    struct kv_async_load_src src = {.strict_end = m->eof_mode && fd < 0, .fd = fd,
                                    .key_delay_us = s->cfg.key_load_delay};
    m->al = kv_async_load_start_src(dbs, n, &src, m->tcp->loop, on_load_event, m);
    if (m->al && !m->keep_old)
        flush_for_load(s);
    pthread_mutex_unlock(&s->lock);
    if (!m->al)
        return false;
    m->al_left = fd >= 0 ? 0 : m->rdb_len;
    m->al_ended = fd >= 0;
    m->al_start_ms = util_time_ms();
    if (fd >= 0)
        log_notice("MASTER <-> REPLICA sync: Flushing old data, loading the DB from disk on the loader thread "
                   "(LOADING meanwhile)");
    else if (!m->keep_old)
        log_notice("MASTER <-> REPLICA sync: Flushing old data, loading the DB from socket on the loader thread "
                   "(LOADING meanwhile)");
    else if (m->al_blocking)
        log_notice("MASTER <-> REPLICA sync: Loading the DB from socket on the loader thread (new replication id: "
                   "LOADING meanwhile, the old data back if it fails)");
    else
        log_notice("MASTER <-> REPLICA sync: Loading the DB asynchronously from socket, serving the old data meanwhile");
    return true;
}

/* ---- a disk sync's payload (repl-diskless-load disabled, or on-empty-db with data) --------
 *
 * As Redis: the payload goes to a temp file as it arrives while clients
 * keep reading the old data; once it is all there the file becomes
 * dbfilename, the old data is flushed and the file loads on the loader
 * thread, clients getting LOADING meanwhile (INFO loading:1).
 */

static void disk_begin(struct kv_master_link *m)
{
    struct kv_server *s = m->s;
    pthread_mutex_lock(&s->lock); /* CONFIG SET dir */
    snprintf(m->disk_tmp, sizeof m->disk_tmp, "%s/temp-%lld.%d.rdb", s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".",
             util_time_ms(), (int)getpid());
    pthread_mutex_unlock(&s->lock);
    m->disk_written = 0;
    m->al_left = m->rdb_len;
    m->disk_fd = open(m->disk_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m->disk_fd < 0) {
        log_warn("Opening the temp file needed for MASTER <-> REPLICA synchronization: %s", strerror(errno));
        link_close(m, NULL);
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The payload is all in the temp file: it becomes dbfilename and loads. */
static void disk_done(struct kv_master_link *m)
{
    struct kv_server *s = m->s;
    char dst[4200];
    pthread_mutex_lock(&s->lock);
    snprintf(dst, sizeof dst, "%s/%s", s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".",
             s->cfg.dbfilename ? s->cfg.dbfilename : "dump.rdb");
    pthread_mutex_unlock(&s->lock);
    int fd = m->disk_fd;
    m->disk_fd = -1;
    const char *what = NULL;
    if (fsync(fd) != 0)
        what = "Failed trying to sync the temp DB to disk";
    if (close(fd) != 0 && !what)
        what = "Failed trying to sync the temp DB to disk";
    if (!what && rename(m->disk_tmp, dst) != 0)
        what = "Failed trying to rename the temp DB into dbfilename";
    if (what) {
        log_warn("%s: %s", what, strerror(errno));
        unlink(m->disk_tmp);
        link_close(m, NULL);
        return;
    }
    m->rdb_len = m->disk_written; /* INFO loading_total_bytes */
    log_notice("MASTER <-> REPLICA sync: %lld bytes of the DB saved on disk", m->disk_written);
    fd = open(dst, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && async_load_begin(m, fd)) {
        /* what follows (the stream) stays in the socket until the load ends */
        if (m->reading && m->tcp) {
            uv_read_stop((uv_stream_t *)m->tcp);
            m->reading = false;
        }
        return;
    }
    full_sync_load(m, dst);
}

/* Write what arrived of the payload to the temp file (worker 0). */
static void disk_feed(struct kv_master_link *m)
{
    size_t have = buf_pending(&m->in), k;
    if (m->eof_mode) /* the last 40 bytes may be the mark: they wait until more come */
        k = have > KV_REPLID_LEN ? have - KV_REPLID_LEN : 0;
    else
        k = (unsigned long long)m->al_left < have ? (size_t)m->al_left : have;
    if (k) {
        int rc = write_all(m->disk_fd, buf_head(&m->in), k);
        if (rc != 0) {
            log_warn("Write error saving the DB on disk: %s", strerror(-rc));
            link_close(m, NULL);
            return;
        }
        buf_consume(&m->in, k);
        m->disk_written += (long long)k;
        if (!m->eof_mode)
            m->al_left -= (long long)k;
    }
    bool end;
    if (m->eof_mode) {
        end = buf_pending(&m->in) == KV_REPLID_LEN && memcmp(buf_head(&m->in), m->eof_mark, KV_REPLID_LEN) == 0;
        if (end)
            buf_consume(&m->in, KV_REPLID_LEN);
    } else {
        end = m->al_left == 0;
    }
    if ((unsigned long long)m->disk_written > MAX_RDB_PAYLOAD) {
        link_close(m, "RDB payload too large");
        return;
    }
    if (end)
        disk_done(m);
}

/* Hand what arrived of the payload to the loader (worker 0). */
static void async_load_feed(struct kv_master_link *m)
{
    bool room = true;
    size_t have = buf_pending(&m->in);
    if (m->al_ended)
        goto stop;
    if (m->eof_mode) {
        /* the last 40 bytes may be the mark: they wait until more come */
        if (have > KV_REPLID_LEN) {
            size_t k = have - KV_REPLID_LEN;
            room = kv_async_load_feed(m->al, buf_head(&m->in), k);
            buf_consume(&m->in, k);
        }
        if (buf_pending(&m->in) == KV_REPLID_LEN && memcmp(buf_head(&m->in), m->eof_mark, KV_REPLID_LEN) == 0) {
            buf_consume(&m->in, KV_REPLID_LEN);
            m->al_ended = true;
        }
    } else {
        size_t k = (unsigned long long)m->al_left < have ? (size_t)m->al_left : have;
        if (k) {
            room = kv_async_load_feed(m->al, buf_head(&m->in), k);
            buf_consume(&m->in, k);
            m->al_left -= (long long)k;
        }
        m->al_ended = m->al_left == 0;
    }
    if (m->al_ended)
        kv_async_load_end(m->al);
    if (room && !m->al_ended)
        return;
stop:
    /* the loader is full, or the payload is all there: what follows (the
     * stream) stays in the socket until the swap, as in Redis */
    if (m->reading && m->tcp) {
        uv_read_stop((uv_stream_t *)m->tcp);
        m->reading = false;
    }
}

bool kv_replica_async_loading(const struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    return m && m->al && !m->al_blocking;
}

bool kv_replica_loading(const struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    return m && m->al && m->al_blocking;
}

void kv_replica_info_loading(struct kv_server *s, struct buf *o)
{
    struct kv_master_link *m = ML(s);
    if (!m || !m->al)
        return;
    uint64_t loaded, used_mem;
    long long start_ms;
    kv_async_load_progress(m->al, &loaded, &used_mem, &start_ms);
    /* as Redis: a diskless payload's size is unknown; the primary's used-mem estimates it */
    long long total = m->eof_mode && !m->to_disk ? 0 : m->rdb_len;
    long long est = total ? total : (long long)used_mem;
    double perc = est ? (double)loaded / (double)est * 100 : 0;
    long long remaining = est > (long long)loaded ? est - (long long)loaded : 0;
    long long elapsed = util_time_ms() / 1000 - start_ms / 1000;
    long long eta = elapsed == 0 ? 1 : elapsed * remaining / ((long long)loaded + 1);
    buf_printf(o, "loading_start_time:%lld\r\nloading_total_bytes:%lld\r\nloading_rdb_used_mem:%llu\r\n",
               start_ms / 1000, total, (unsigned long long)used_mem);
    buf_printf(o, "loading_loaded_bytes:%llu\r\nloading_loaded_perc:%.2f\r\nloading_eta_seconds:%lld\r\n",
               (unsigned long long)loaded, perc, eta);
}

/* Expired keys on a replica (lock held): a read-only replica keeps them
 * for its primary's DEL and shows them as absent (as Redis); a writable one,
 * or a primary, expires keys itself. */
static int replica_expire_mode(const struct kv_server *s)
{
    return kv_replica_active(s) && s->cfg.replica_read_only ? DB_EXPIRE_KEEP : DB_EXPIRE_NORMAL;
}

/* Apply what the stream holds (worker 0, lock not held). */
static void apply_stream(struct kv_master_link *m)
{
    struct kv_server *s = m->s;
    bool locked = false;
    while (m->tcp && buf_pending(&m->in) > 0) {
        ssize_t n = resp_parse(&m->p, buf_head(&m->in), buf_pending(&m->in));
        if (n == 0)
            break;
        if (n < 0) {
            if (locked)
                pthread_mutex_unlock(&s->lock);
            log_warn("Protocol error from master: %s", m->p.err);
            link_close(m, "protocol error in the replication stream");
            return;
        }
        if (!locked) {
            pthread_mutex_lock(&s->lock);
            locked = true;
            kv_db_set_now(&s->db, util_time_ms());
        }
        m->applying = true;
        m->mc->last_ms = s->db.now_ms; /* CLIENT LIST idle= */
        m->mc->in_exec = true; /* as Redis: the master client never blocks (BLPOP, WAIT answer at once) */
        s->db.expire_mode = DB_EXPIRE_NONE; /* the primary's commands see its keys, expired or not */
        kv_call(m->mc, m->p.argc, m->p.argv);
        s->db.expire_mode = replica_expire_mode(s);
        m->mc->in_exec = false;
        m->applying = false;
        m->mc->out.off = m->mc->out.len = 0; /* the primary reads no replies */
        m->ops->feed_raw(s, buf_head(&m->in), (size_t)n);
        buf_consume(&m->in, (size_t)n);
    }
    if (locked) {
        kv_aof_flush(s);
        pthread_mutex_unlock(&s->lock);
    }
}

static void process(struct kv_master_link *m)
{
    struct kv_server *s = m->s;
    char *line;
    size_t len;
    while (m->tcp) {
        switch (m->state) {
        case ML_PONG:
        case ML_AUTH:
        case ML_PORT:
        case ML_CAPA: {
            if (!(line = take_line(m, &len)))
                return;
            if (line[0] == '-' && m->state == ML_PONG && strncmp(line, "-NOAUTH", 7) != 0 &&
                strncmp(line, "-NOPERM", 7) != 0 && strncmp(line, "-ERR operation not permitted", 28) != 0) {
                log_warn("Error reply to PING from master: '%s'", line);
                link_close(m, NULL);
                return;
            }
            if (line[0] == '-' && m->state == ML_AUTH) {
                /* as Redis: logged, the link dropped and tried again a second later */
                log_warn("Unable to AUTH to MASTER: %.200s", line);
                snprintf(m->last_error, sizeof m->last_error, "%.200s", line + 1);
                link_close(m, NULL);
                return;
            }
            if (m->state == ML_PONG && send_auth(m)) {
                m->state = ML_AUTH;
            } else if (m->state == ML_PONG || m->state == ML_AUTH) {
                char port[32];
                snprintf(port, sizeof port, "%lld", s->cfg.port);
                const char *av[3] = {"REPLCONF", "listening-port", port};
                send_cmd(m, 3, av);
                m->state = ML_PORT;
            } else if (m->state == ML_PORT) {
                /* capa eof: we read an RDB sent with the $EOF:<mark> framing (diskless) */
                const char *av[5] = {"REPLCONF", "capa", "eof", "capa", "psync2"};
                send_cmd(m, 5, av);
                m->state = ML_CAPA;
            } else {
                char off[32];
                pthread_mutex_lock(&s->lock);
                snprintf(off, sizeof off, "%lld", (long long)s->repl_offset + 1);
                const char *av[4] = {"PSYNC", m->ops->id(s), off, "FAILOVER"};
                int ac = m->psync_failover ? 4 : 3; /* the target promotes itself, then continues us */
                pthread_mutex_unlock(&s->lock);
                send_cmd(m, ac, av);
                m->state = ML_PSYNC;
            }
            break;
        }
        case ML_PSYNC: {
            if (!(line = take_line(m, &len)))
                return;
            if (len == 0)
                continue; /* keepalive newline */
            if (strncmp(line, "+FULLRESYNC ", 12) == 0 && len >= 12 + KV_REPLID_LEN + 2) {
                const char *o = line + 13 + KV_REPLID_LEN;
                if (!util_str2ll(o, len - 13 - KV_REPLID_LEN, &m->pending_off) || m->pending_off < 0 ||
                    m->pending_off > MAX_REPL_OFFSET) {
                    log_warn("Bad offset in the reply to PSYNC from master: %.80s", line);
                    link_close(m, NULL);
                    return;
                }
                memcpy(m->pending_id, line + 12, KV_REPLID_LEN);
                m->pending_id[KV_REPLID_LEN] = '\0';
                /* swapdb loads on the loader thread; as Redis, the old data
                 * is served meanwhile only when it is an older state of the
                 * same history (the replid did not change), else clients
                 * get LOADING (INFO loading:1) */
                pthread_mutex_lock(&s->lock);
                int mode = s->cfg.repl_diskless_load, ndb;
                struct kv_db **dbs = kv_persist_dbs(s, &ndb);
                uint64_t keys = 0;
                for (int i = 0; i < ndb; i++)
                    keys += db_size(dbs[i]);
                /* as Redis's useDisklessLoad(): on-empty-db with data goes by disk */
                m->keep_old = mode == KV_DISKLESS_LOAD_SWAPDB;
                m->to_disk = mode == KV_DISKLESS_LOAD_DISABLED || (mode == KV_DISKLESS_LOAD_ON_EMPTY_DB && keys > 0);
                m->async_wanted = !m->to_disk;
                m->al_blocking = !m->keep_old || memcmp(m->pending_id, m->ops->id(s), KV_REPLID_LEN) != 0;
                failover_answered(m, true, NULL); /* as Redis: a full sync ends a failover too */
                pthread_mutex_unlock(&s->lock);
                m->state = ML_RDB_LEN;
                log_notice("Full resync from master: %s:%lld", m->pending_id, m->pending_off);
            } else if (strncmp(line, "+CONTINUE", 9) == 0) {
                pthread_mutex_lock(&s->lock);
                if (len >= 10 + KV_REPLID_LEN && memcmp(line + 10, m->ops->id(s), KV_REPLID_LEN) != 0) {
                    char id[KV_REPLID_LEN + 1];
                    memcpy(id, line + 10, KV_REPLID_LEN);
                    id[KV_REPLID_LEN] = '\0';
                    m->ops->shift_replid(s, id);
                }
                m->ops->ensure_backlog(s);
                failover_answered(m, true, NULL);
                pthread_mutex_unlock(&s->lock);
                m->state = ML_STREAM;
                log_notice("Successful partial resynchronization with master.");
            } else {
                log_warn("Unexpected reply to PSYNC from master: %s", line);
                snprintf(m->last_error, sizeof m->last_error, "%.200s", line[0] == '-' ? line + 1 : line);
                pthread_mutex_lock(&s->lock);
                failover_answered(m, false, "Failover target rejected psync request");
                pthread_mutex_unlock(&s->lock);
                link_close(m, NULL);
                return;
            }
            break;
        }
        case ML_RDB_LEN: {
            if (!(line = take_line(m, &len)))
                return;
            if (len == 0)
                continue;
            long long n;
            if (len == 5 + KV_REPLID_LEN && memcmp(line, "$EOF:", 5) == 0) {
                /* diskless: the RDB ends with the 40-byte mark, no length first */
                memcpy(m->eof_mark, line + 5, KV_REPLID_LEN);
                m->eof_mode = true;
                m->rdb_len = -1;
                m->state = ML_RDB;
                if (m->to_disk)
                    disk_begin(m);
                else if (m->async_wanted)
                    async_load_begin(m, -1);
                break;
            }
            m->eof_mode = false;
            if (line[0] != '$' || !util_str2ll(line + 1, len - 1, &n) || n < 0 || (unsigned long long)n > MAX_RDB_PAYLOAD) {
                log_warn("Bad protocol from MASTER, the first byte is not '$' or a bad length: %.64s", line);
                link_close(m, NULL);
                return;
            }
            m->rdb_len = n;
            m->state = ML_RDB;
            if (m->to_disk)
                disk_begin(m);
            else if (m->async_wanted)
                async_load_begin(m, -1);
            break;
        }
        case ML_RDB:
            if (m->al) {
                async_load_feed(m);
                return;
            }
            if (m->to_disk) {
                disk_feed(m);
                if (m->state == ML_RDB)
                    return;
                break;
            }
            if (m->eof_mode) {
                /* the primary sends nothing after the mark until our first ACK */
                size_t have = buf_pending(&m->in);
                if (have > MAX_RDB_PAYLOAD) {
                    link_close(m, "RDB payload too large");
                    return;
                }
                if (have < KV_REPLID_LEN ||
                    memcmp(buf_head(&m->in) + have - KV_REPLID_LEN, m->eof_mark, KV_REPLID_LEN) != 0)
                    return;
                m->rdb_len = (long long)(have - KV_REPLID_LEN);
            } else if (buf_pending(&m->in) < (size_t)m->rdb_len) {
                return;
            }
            full_sync_load(m, NULL);
            break;
        case ML_STREAM:
            if (m->skip > 0) {
                size_t k = (unsigned long long)m->skip < buf_pending(&m->in) ? (size_t)m->skip : buf_pending(&m->in);
                buf_consume(&m->in, k);
                m->skip -= (long long)k;
                if (m->skip > 0)
                    return;
            }
            apply_stream(m);
            return;
        default:
            return;
        }
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct kv_master_link *m = st->data;
    if (nread < 0) {
        link_close(m, nread == UV_EOF ? "closed by the master" : uv_strerror((int)nread));
        return;
    }
    m->in.len += (size_t)nread;
    m->last_io_ms = util_time_ms();
    if (m->state == ML_STREAM)
        m->read_off += nread;
    process(m);
}

static void read_start(struct kv_master_link *m)
{
    if (m->tcp && !m->reading && uv_read_start((uv_stream_t *)m->tcp, on_alloc, on_read) == 0)
        m->reading = true;
}

/*
 * Tests and fuzzing: feed bytes as if read from a primary just connected
 * (state: after PING was sent), on a TCP handle of loop that has no socket
 * (what the replica sends fails). Returns whether the link is still up; the
 * link is then closed (run loop to free the handle).
 */
bool kv_replica_feed(struct kv_server *s, uv_loop_t *loop, const char *data, size_t len, size_t chunk)
{
    struct kv_master_link *m = ML(s);
    link_close(m, NULL);
    m->tcp = xcalloc(1, sizeof *m->tcp);
    uv_tcp_init(loop, m->tcp);
    m->tcp->data = m;
    m->state = ML_PONG;
    for (size_t off = 0; m->tcp && off < len;) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;
        uv_buf_t b;
        on_alloc((uv_handle_t *)m->tcp, n, &b);
        size_t k = n < b.len ? n : b.len;
        memcpy(b.base, data + off, k);
        on_read((uv_stream_t *)m->tcp, (ssize_t)k, &b);
        off += k;
    }
    if (m->tcp && m->al && m->al_ended) {
        /* an async load has the whole payload: let it finish and swap, as
         * worker 0's loop would (the wake comes through loop) */
        while (!kv_async_load_done(m->al))
            usleep(200);
        for (int i = 0; i < 100 && m->al; i++)
            uv_run(loop, UV_RUN_NOWAIT);
    }
    bool up = m->tcp != NULL;
    link_close(m, NULL);
    return up;
}

/* The master client's addresses and age, as CLIENT LIST and CLIENT KILL
 * see them (Redis's master client: addr is the primary's, fd the link's socket). Worker 0, lock
 * taken (the other workers read them under it). */
static void master_client_addrs(struct kv_master_link *m)
{
    struct sockaddr_storage peer, local;
    int pl = sizeof peer, ll = sizeof local;
    char a[64] = "master", l[64] = "";
    if (uv_tcp_getpeername(m->tcp, (struct sockaddr *)&peer, &pl) == 0)
        net_format_addr((struct sockaddr *)&peer, a, sizeof a);
    if (uv_tcp_getsockname(m->tcp, (struct sockaddr *)&local, &ll) == 0)
        net_format_addr((struct sockaddr *)&local, l, sizeof l);
    uv_os_fd_t fd = -1;
    if (uv_fileno((uv_handle_t *)m->tcp, &fd) != 0)
        fd = -1;
    pthread_mutex_lock(&m->s->lock);
    m->mc->fd = fd; /* shown only: the link is closed by kv_replica_kill_master, never through it */
    snprintf(m->mc->addr, sizeof m->mc->addr, "%s", a);
    snprintf(m->mc->laddr, sizeof m->mc->laddr, "%s", l);
    m->mc->ctime_ms = m->mc->last_ms = util_time_ms();
    pthread_mutex_unlock(&m->s->lock);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct kv_master_link *m = req->data;
    if (!m->tcp || req->handle != (uv_stream_t *)m->tcp)
        return;
    if (status < 0) {
        log_warn("Error condition on socket for SYNC: %s", uv_strerror(status));
        link_close(m, NULL);
        return;
    }
    log_notice("MASTER <-> REPLICA sync started");
    master_client_addrs(m);
    m->state = ML_PONG;
    m->last_io_ms = util_time_ms();
    read_start(m);
    const char *av[1] = {"PING"};
    send_cmd(m, 1, av);
}

static void link_connect(struct kv_master_link *m)
{
    if (m->tcp || !m->want)
        return;
    struct sockaddr_storage ss;
    const char *host = strcmp(m->host, "localhost") == 0 ? "127.0.0.1" : m->host;
    if (uv_ip4_addr(host, (int)m->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, (int)m->port, (struct sockaddr_in6 *)&ss) != 0) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
            log_warn("Can't resolve master host %s", m->host);
            return;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)m->port);
        freeaddrinfo(res);
    }
    log_notice("Connecting to MASTER %s:%lld", m->host, m->port);
    struct kv_worker *w0 = &m->s->workers[0];
    m->tcp = xcalloc(1, sizeof *m->tcp);
    uv_tcp_init(&w0->loop, m->tcp);
    m->tcp->data = m;
    uv_tcp_nodelay(m->tcp, 1);
    m->creq.data = m;
    m->state = ML_CONNECTING;
    if (uv_tcp_connect(&m->creq, m->tcp, (struct sockaddr *)&ss, on_connect) != 0)
        link_close(m, "connect failed");
}

static void on_async(uv_async_t *a)
{
    struct kv_master_link *m = a->data;
    link_close(m, atomic_exchange(&m->kill_wanted, false) ? "killed by CLIENT KILL" : NULL);
    link_connect(m);
}

static void on_timer(uv_timer_t *t)
{
    struct kv_master_link *m = t->data;
    pthread_mutex_lock(&m->s->lock); /* CONFIG SET replica-read-only */
    m->s->db.expire_mode = replica_expire_mode(m->s);
    pthread_mutex_unlock(&m->s->lock);
    if (!m->want) {
        link_close(m, NULL);
        return;
    }
    if (!m->tcp) {
        link_connect(m);
        return;
    }
    if (m->state == ML_STREAM) {
        pthread_mutex_lock(&m->s->lock);
        send_ack(m);
        pthread_mutex_unlock(&m->s->lock);
    }
}

/* ---- setup and commands ------------------------------------------------------------------- */

void kv_replica_init(struct kv_server *s, const struct kv_repl_ops *ops)
{
    struct kv_master_link *m = xcalloc(1, sizeof *m);
    m->s = s;
    m->ops = ops;
    buf_init(&m->in);
    resp_parser_init(&m->p);
    m->p.max_bulk = 1LL << 40;
    m->down_since_ms = util_time_ms();
    m->mc = master_client(s);
    m->disk_fd = -1;
    s->ml = m;
}

void kv_repl_start(struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    struct kv_worker *w0 = &s->workers[0];
    uv_async_init(&w0->loop, &m->async, on_async);
    m->async.data = m;
    uv_timer_init(&w0->loop, &m->timer);
    m->timer.data = m;
    uv_timer_start(&m->timer, on_timer, 1000, 1000);
    m->handles = true;
    if (s->cfg.replicaof.host[0]) {
        pthread_mutex_lock(&s->lock);
        kv_replica_set_target(s, s->cfg.replicaof.host, s->cfg.replicaof.port);
        pthread_mutex_unlock(&s->lock);
    }
}

void kv_replica_close_handles(struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    if (!m || !m->handles)
        return;
    m->want = false;
    link_close(m, NULL);
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, NULL);
    uv_close((uv_handle_t *)&m->async, NULL);
    m->handles = false;
}

void kv_replica_free(struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    if (!m)
        return;
    kv_multi_reset(m->mc);
    kv_blocking_client_gone(m->mc);
    kv_pubsub_client_gone(m->mc);
    buf_deinit(&m->mc->in);
    buf_deinit(&m->mc->out);
    buf_deinit(&m->mc->wbuf);
    xfree(m->mc);
    buf_deinit(&m->in);
    resp_parser_deinit(&m->p);
    xfree(m);
    s->ml = NULL;
}

void kv_replica_set_target(struct kv_server *s, const char *host, long long port)
{
    struct kv_master_link *m = ML(s);
    if (host) {
        snprintf(m->host, sizeof m->host, "%s", host);
        m->port = port;
        m->want = true;
    } else {
        m->want = false;
    }
    s->db.expire_mode = replica_expire_mode(s);
    if (m->handles && !atomic_load(&s->shutting_down))
        uv_async_send(&m->async);
}

void kv_replica_set_failover(struct kv_server *s, bool on)
{
    struct kv_master_link *m = ML(s);
    if (m)
        m->psync_failover = on;
}

void kv_replica_cron(struct kv_server *s) { (void)s; }

int kv_replica_kill_master(struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    if (!m || !m->want || !m->handles || m->state != ML_STREAM || atomic_load(&s->shutting_down))
        return 0;
    atomic_store(&m->kill_wanted, true);
    uv_async_send(&m->async);
    return 1;
}

struct kv_client *kv_replica_master_client(struct kv_server *s)
{
    struct kv_master_link *m = ML(s);
    if (!m || !m->want || !m->handles || !m->mc || m->state != ML_STREAM || atomic_load(&s->shutting_down))
        return NULL;
    return m->mc;
}

static const char *link_state(const struct kv_master_link *m)
{
    if (!m->tcp)
        return "connect";
    if (m->state == ML_CONNECTING)
        return "connecting";
    if (m->state == ML_STREAM)
        return "connected";
    if (m->state >= ML_RDB_LEN)
        return "sync";
    return "handshake";
}

void kv_replica_role(struct kv_server *s, struct kv_client *c)
{
    struct kv_master_link *m = ML(s);
    if (!m)
        return;
    resp_add_array(&c->out, 5);
    resp_add_bulk(&c->out, "slave", 5);
    resp_add_bulk(&c->out, m->host, strlen(m->host));
    resp_add_int(&c->out, m->port);
    const char *st = link_state(m);
    resp_add_bulk(&c->out, st, strlen(st));
    resp_add_int(&c->out, m->state == ML_STREAM ? (long long)s->repl_offset : -1);
}

void kv_replica_info(struct kv_server *s, struct buf *o)
{
    struct kv_master_link *m = ML(s);
    if (!m)
        return;
    long long now = util_time_ms();
    bool up = m->state == ML_STREAM;
    buf_printf(o, "role:slave\r\nmaster_host:%s\r\nmaster_port:%lld\r\nmaster_link_status:%s\r\n", m->host, m->port,
               up ? "up" : "down");
    buf_printf(o, "master_last_io_seconds_ago:%lld\r\nmaster_sync_in_progress:%d\r\n",
               m->tcp && m->last_io_ms ? (now - m->last_io_ms) / 1000 : -1,
               m->state == ML_RDB_LEN || m->state == ML_RDB || m->state == ML_PSYNC);
    buf_printf(o, "slave_read_repl_offset:%llu\r\nslave_repl_offset:%llu\r\n", (unsigned long long)s->repl_offset,
               (unsigned long long)s->repl_offset);
    if (!up)
        buf_printf(o, "master_link_down_since_seconds:%lld\r\n", (now - m->down_since_ms) / 1000);
    if (!up && m->last_error[0]) /* scaleout's own field: why the primary refused (a wrong masterauth...) */
        buf_printf(o, "master_link_last_error:%s\r\n", m->last_error);
    buf_printf(o, "slave_priority:100\r\nslave_read_only:%d\r\nreplica_announced:1\r\n", s->cfg.replica_read_only);
}

/* ---- what a replica refuses while its data is stale or loading ------------------------- */

/* Redis 7.0's CMD_STALE commands (and subcommands, "name|sub"): what a
 * replica whose link is down still answers with replica-serve-stale-data no. */
static const char *const stale_ok[] = {
    "acl|cat", "acl|deluser", "acl|dryrun", "acl|genpass", "acl|getuser", "acl|help", "acl|list", "acl|load",
    "acl|log", "acl|save", "acl|setuser", "acl|users", "acl|whoami", "auth", "client|caching", "client|getname",
    "client|getredir", "client|help", "client|id", "client|info", "client|kill", "client|list", "client|no-evict",
    "client|pause", "client|reply", "client|setname", "client|tracking", "client|trackinginfo", "client|unblock",
    "client|unpause", "command", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set",
    "debug", "discard", "echo", "eval", "eval_ro", "evalsha", "evalsha_ro", "exec", "failover", "fcall", "fcall_ro",
    "function|help", "hello", "info", "lastsave", "latency|doctor", "latency|graph", "latency|help",
    "latency|histogram", "latency|history", "latency|latest", "latency|reset", "memory|help", "module|help",
    "monitor", "multi", "object|help", "psubscribe", "publish", "pubsub|channels", "pubsub|help", "pubsub|numpat",
    "pubsub|numsub", "pubsub|shardchannels", "pubsub|shardnumsub", "punsubscribe", "quit", "readonly", "readwrite",
    "replconf", "replicaof", "reset", "role", "script|help", "script|load", "select", "shutdown", "slaveof",
    "slowlog|get", "slowlog|help", "slowlog|len", "slowlog|reset", "spublish", "ssubscribe", "subscribe",
    "sunsubscribe", "time", "unsubscribe", "unwatch", "watch", "xgroup|help", "xinfo|help",
};

/* Redis 7.0's CMD_LOADING commands: what a replica loading a new data set
 * (not serving the old one) answers; the others get LOADING. */
static const char *const loading_ok[] = {
    "acl|cat", "acl|deluser", "acl|dryrun", "acl|genpass", "acl|getuser", "acl|help", "acl|list", "acl|load",
    "acl|log", "acl|save", "acl|setuser", "acl|users", "acl|whoami", "auth", "client|caching", "client|getname",
    "client|getredir", "client|help", "client|id", "client|info", "client|kill", "client|list", "client|no-evict",
    "client|pause", "client|reply", "client|setname", "client|tracking", "client|trackinginfo", "client|unblock",
    "client|unpause", "command", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set",
    "debug", "discard", "echo", "exec", "function|help", "hello", "info", "lastsave", "latency|doctor",
    "latency|graph", "latency|help", "latency|histogram", "latency|history", "latency|latest", "latency|reset",
    "memory|help", "monitor", "multi", "object|help", "psubscribe", "publish", "pubsub|channels", "pubsub|help",
    "pubsub|numpat", "pubsub|numsub", "pubsub|shardchannels", "pubsub|shardnumsub", "punsubscribe", "quit",
    "readonly", "readwrite", "replconf", "reset", "role", "script|help", "select", "shutdown", "slowlog|get",
    "slowlog|help", "slowlog|len", "slowlog|reset", "spublish", "ssubscribe", "subscribe", "sunsubscribe", "time",
    "unsubscribe", "unwatch", "watch", "xgroup|help", "xinfo|help",
};

/* Redis 7.0's CMD_NO_ASYNC_LOADING commands (kv has no CLUSTER or MODULE). */
static const char *const no_async_loading[] = {"bgrewriteaof", "bgsave", "psync", "replicaof", "save", "slaveof", "sync"};

static bool listed(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* Whether the command (name, or "name|subcommand") is in list. */
static bool cmd_listed(const char *const *list, size_t n, const char *name, int argc, const struct resp_arg *argv)
{
    if (listed(list, n, name))
        return true;
    if (argc < 2 || argv[1].len >= 32)
        return false;
    char full[64];
    size_t k = (size_t)snprintf(full, sizeof full, "%s|", name);
    for (size_t i = 0; i < argv[1].len && k + 1 < sizeof full; i++) {
        char ch = argv[1].ptr[i];
        full[k++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    full[k] = '\0';
    return listed(list, n, full);
}

bool kv_replica_deny_cmd(struct kv_client *c, const char *name, int argc, const struct resp_arg *argv,
                         const char **msg)
{
    struct kv_server *s = c->srv;
    struct kv_master_link *m = ML(s);
    if (!m || !m->want || c == m->mc || (!c->w && c->fd < 0)) /* the primary's stream, scripts, the AOF */
        return false;
    if (m->state != ML_STREAM && !s->cfg.replica_serve_stale_data &&
        !cmd_listed(stale_ok, sizeof stale_ok / sizeof *stale_ok, name, argc, argv)) {
        *msg = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
        return true;
    }
    if (m->al && (m->al_blocking ? !cmd_listed(loading_ok, sizeof loading_ok / sizeof *loading_ok, name, argc, argv)
                                 : listed(no_async_loading, sizeof no_async_loading / sizeof *no_async_loading, name))) {
        *msg = "LOADING Redis is loading the dataset in memory";
        return true;
    }
    return false;
}
