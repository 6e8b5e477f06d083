/*
 * repl.c — replication, the primary side (see repl.h): the backlog, PSYNC,
 * full sync by a forked RDB child, the stream, REPLCONF, WAIT, ROLE, INFO.
 */
#include "kv/repl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/blocking.h"
#include "kv/function.h"
#include "kv/multi.h"
#include "kv/persist.h"
#include "kv/propagate.h"
#include "kv/rdb.h"
#include "kv/reply.h"

enum {
    RS_NONE,          /* said REPLCONF only */
    RS_WAIT_START,    /* full sync: waits for the next RDB child */
    RS_WAIT_END,      /* full sync: its RDB child runs; stream kept in `after` */
    RS_WAIT_ACK,      /* diskless full sync sent: `after` goes out on its first ACK (as Redis) */
    RS_ONLINE,        /* streaming */
};

struct kv_replica {
    struct kv_client *c;
    int state;
    long long listening_port;
    long long ack_off;
    long long ack_ms;
    long long sync_off;           /* the offset its RDB stands for */
    struct buf pend;              /* for its worker to move into its output */
    struct buf after;             /* stream fed while its RDB was being written */
    bool dropped;                 /* too far behind: its worker closes it */
    bool capa_eof;                /* REPLCONF capa eof: reads an RDB with $EOF:<mark> framing */
    bool diskless;                /* its full sync is the diskless child's */
    size_t unsent;                /* bytes its connection holds for the socket, as its worker last saw */
    long long progress_ms;        /* diskless: when its socket last took bytes */
    long long wait_ms;            /* when it asked for a full sync */
    struct kv_replica *next;
};

struct wait_client {
    struct kv_client *c;
    long long off;
    long long need;
    long long deadline_ms;        /* 0: forever */
    struct wait_client *next;
};

struct kv_repl {
    char replid[KV_REPLID_LEN + 1], replid2[KV_REPLID_LEN + 1];
    long long second_off;         /* -1 none */
    /* backlog ring: bytes [bl_first, bl_first + histlen) of the stream */
    char *bl;
    size_t bl_size, bl_idx, histlen;
    long long bl_first;
    struct kv_replica *replicas;
    int nreplicas_online;
    /* the full-sync RDB child */
    int child;
    long long child_off;
    char child_file[4200];
    /* diskless: the child writes the RDB into a pipe that worker 0 reads,
     * each chunk going out to the replicas as it comes */
    bool diskless_active;         /* a diskless sync runs (child or pipe not done) */
    int child_pipe;               /* the pipe's read end; -1 none (rdb_pipe owns it once open) */
    uv_pipe_t *rdb_pipe;          /* worker 0's handle on it */
    uv_async_t pipe_async;        /* wakes worker 0 to open it */
    bool pipe_async_init;
    bool pipe_eof, pipe_failed, child_reaped, child_ok;
    char mark[KV_REPLID_LEN + 1]; /* the $EOF:<mark> of this sync */
    uint64_t streamed;            /* RDB bytes sent so far */
    bool pipe_paused;             /* back-pressure: a replica holds too much, the pipe is not read */
    uint64_t pipe_pauses;
    char *pipe_buf;
    /* workers: one wake each */
    uv_async_t *wake;
    int nworkers;
    long long last_ping_ms;
    uint64_t sync_full, sync_partial_ok, sync_partial_err;
    struct wait_client *waits;
    bool getack_pending;          /* a WAIT asked: REPLCONF GETACK * before the lock is released */
    /* FAILOVER (below) */
    int fo_state;                 /* FO_* */
    char fo_host[256];            /* the target; "" until one is chosen */
    long long fo_port;
    long long fo_end_ms;          /* TIMEOUT's deadline; 0 none */
    bool fo_force;
};

enum { FO_NONE, FO_WAIT_SYNC, FO_IN_PROGRESS };

static void random_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < KV_REPLID_LEN; i += 16) {
        uint64_t r = rand_secure64();
        for (int k = 0; k < 16 && i + k < KV_REPLID_LEN; k++)
            out[i + k] = hex[(r >> (4 * k)) & 15];
    }
    out[KV_REPLID_LEN] = '\0';
}

bool kv_repl_sync_child_running(const struct kv_server *s) { return s->repl && s->repl->child > 0; }

const char *kv_repl_id(const struct kv_server *s) { return s->repl->replid; }

static void sink(void *arg, const char *p, size_t n)
{
    struct kv_server *s = arg;
    if (kv_replica_active(s))
        return; /* a replica passes on its primary's bytes verbatim (replica.c) */
    kv_repl_feed_raw(s, p, n);
}

/* A primary with a backlog (replicas now or earlier) takes the stream. */
static bool wants(void *arg)
{
    struct kv_server *s = arg;
    return s->repl && s->repl->bl && !kv_replica_active(s);
}

static void failover_result(struct kv_server *s, bool ok, const char *why);

void kv_repl_init(struct kv_server *s)
{
    struct kv_repl *r = xcalloc(1, sizeof *r);
    random_id(r->replid);
    memset(r->replid2, '0', KV_REPLID_LEN);
    r->second_off = -1;
    r->child = -1;
    r->child_pipe = -1;
    r->bl_first = 1;
    s->repl = r;
    kv_prop_add_sink(s, sink, wants, s);
    static const struct kv_repl_ops ops = {
        .feed_raw = kv_repl_feed_raw,
        .new_history = kv_repl_new_history,
        .shift_replid = kv_repl_shift_replid,
        .drop_replicas = kv_repl_drop_replicas,
        .id = kv_repl_id,
        .ensure_backlog = kv_repl_ensure_backlog,
        .failover_result = failover_result,
    };
    kv_replica_init(s, &ops);
}

void kv_repl_free(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (!r)
        return;
    kv_replica_free(s);
    while (r->replicas) {
        struct kv_replica *x = r->replicas;
        r->replicas = x->next;
        x->c->rl = NULL;
        buf_deinit(&x->pend);
        buf_deinit(&x->after);
        xfree(x);
    }
    while (r->waits) {
        struct wait_client *w = r->waits;
        r->waits = w->next;
        xfree(w);
    }
    if (r->child > 0) {
        kill(r->child, SIGUSR1);
        waitpid(r->child, NULL, 0);
        unlink(r->child_file);
    }
    if (r->child_pipe >= 0 && !r->rdb_pipe)
        close(r->child_pipe);
    xfree(r->pipe_buf);
    xfree(r->bl);
    xfree(r->wake);
    xfree(r);
    s->repl = NULL;
}

/* ---- worker wakes: move pending bytes into the replicas' outputs ------------------- */

static void wake_worker(struct kv_server *s, struct kv_client *c)
{
    struct kv_repl *r = s->repl;
    if (c->w && r->wake && c->w->id < r->nworkers && !atomic_load(&s->shutting_down))
        uv_async_send(&r->wake[c->w->id]);
}

static void on_wake(uv_async_t *a)
{
    struct kv_worker *w = a->data;
    struct kv_server *s = w->srv;
    struct kv_client *todo[64];
    bool drop[64];
    int n;
    do {
        n = 0;
        pthread_mutex_lock(&s->lock);
        if (!s->repl) {
            pthread_mutex_unlock(&s->lock);
            return;
        }
        for (struct kv_replica *x = s->repl->replicas; x && n < 64; x = x->next) {
            if (x->c->w != w || x->c->closing || (buf_pending(&x->pend) == 0 && !x->dropped))
                continue;
            buf_append(&x->c->out, buf_head(&x->pend), buf_pending(&x->pend));
            x->pend.off = x->pend.len = 0;
            buf_shrink(&x->pend, 1 << 20);
            x->unsent = buf_pending(&x->c->out) + buf_pending(&x->c->wbuf);
            drop[n] = x->dropped;
            todo[n++] = x->c;
        }
        pthread_mutex_unlock(&s->lock);
        for (int i = 0; i < n; i++)
            kv_client_pushed(todo[i], drop[i]);
    } while (n == 64);
}

static void on_pipe_async(uv_async_t *a);

void kv_repl_worker_init(struct kv_server *s, struct kv_worker *w)
{
    struct kv_repl *r = s->repl;
    if (!r->wake) {
        r->nworkers = s->nworkers;
        r->wake = xcalloc((size_t)s->nworkers, sizeof *r->wake);
    }
    uv_async_init(&w->loop, &r->wake[w->id], on_wake);
    r->wake[w->id].data = w;
    if (w->id == 0) {
        uv_async_init(&w->loop, &r->pipe_async, on_pipe_async);
        r->pipe_async.data = s;
        r->pipe_async_init = true;
    }
}

static void on_pipe_closed(uv_handle_t *h) { xfree(h); }

void kv_repl_worker_close(struct kv_server *s, struct kv_worker *w)
{
    if (s->repl && s->repl->wake)
        uv_close((uv_handle_t *)&s->repl->wake[w->id], NULL);
    if (s->repl && w->id == 0 && s->repl->pipe_async_init) {
        struct kv_repl *r = s->repl;
        uv_close((uv_handle_t *)&r->pipe_async, NULL);
        r->pipe_async_init = false;
        pthread_mutex_lock(&s->lock);
        if (r->rdb_pipe) {
            uv_read_stop((uv_stream_t *)r->rdb_pipe);
            uv_close((uv_handle_t *)r->rdb_pipe, on_pipe_closed); /* closes child_pipe */
            r->rdb_pipe = NULL;
            r->child_pipe = -1;
        }
        pthread_mutex_unlock(&s->lock);
    }
}

/* ---- the backlog and the feed -------------------------------------------------------- */

static void backlog_create(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (r->bl)
        return;
    r->bl_size = s->cfg.repl_backlog_size ? (size_t)s->cfg.repl_backlog_size : 1;
    r->bl = xmalloc(r->bl_size);
    r->bl_idx = 0;
    r->histlen = 0;
    r->bl_first = (long long)s->repl_offset + 1;
    kv_prop_reset_db(s); /* commands were not encoded without a backlog: SELECT first */
}

static void backlog_append(struct kv_repl *r, const char *p, size_t n)
{
    while (n > 0) {
        size_t k = r->bl_size - r->bl_idx;
        if (k > n)
            k = n;
        memcpy(r->bl + r->bl_idx, p, k);
        r->bl_idx = (r->bl_idx + k) % r->bl_size;
        r->histlen += k;
        p += k;
        n -= k;
    }
    if (r->histlen > r->bl_size) {
        r->bl_first += (long long)(r->histlen - r->bl_size);
        r->histlen = r->bl_size;
    }
}

/* CONFIG SET repl-backlog-size (lock held): the backlog takes the new size
 * at once, keeping its newest bytes, as Redis's resizeReplicationBacklog. */
static void backlog_fit(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    size_t want = s->cfg.repl_backlog_size ? (size_t)s->cfg.repl_backlog_size : 1;
    if (!r->bl || want == r->bl_size)
        return;
    size_t keep = r->histlen < want ? r->histlen : want;
    char *nb = xmalloc(want);
    size_t start = (r->bl_idx + r->bl_size - keep) % r->bl_size;
    for (size_t i = 0; i < keep; i++)
        nb[i] = r->bl[(start + i) % r->bl_size];
    xfree(r->bl);
    r->bl = nb;
    r->bl_first += (long long)(r->histlen - keep);
    r->histlen = keep;
    r->bl_size = want;
    r->bl_idx = keep % want;
}

/* Copy the backlog from offset `from` to its end into b. */
static void backlog_copy(struct kv_repl *r, long long from, struct buf *b)
{
    long long end = r->bl_first + (long long)r->histlen;
    if (from < r->bl_first || from > end)
        return;
    size_t skip = (size_t)(from - r->bl_first), len = (size_t)(end - from);
    size_t start = (r->bl_idx + r->bl_size - r->histlen + skip) % r->bl_size;
    while (len > 0) {
        size_t k = r->bl_size - start;
        if (k > len)
            k = len;
        buf_append(b, r->bl + start, k);
        start = (start + k) % r->bl_size;
        len -= k;
    }
}

static bool over_limit(struct kv_server *s, struct kv_replica *x)
{
    unsigned long long hard = s->cfg.obl_replica.hard;
    return hard && buf_pending(&x->pend) + buf_pending(&x->after) > hard;
}

void kv_repl_feed_raw(struct kv_server *s, const char *p, size_t n)
{
    struct kv_repl *r = s->repl;
    if (!r || !r->bl || n == 0)
        return;
    backlog_fit(s);
    backlog_append(r, p, n);
    s->repl_offset += n;
    for (struct kv_replica *x = r->replicas; x; x = x->next) {
        if (x->dropped)
            continue;
        if (x->state == RS_ONLINE)
            buf_append(&x->pend, p, n);
        else if (x->state == RS_WAIT_END || x->state == RS_WAIT_ACK)
            buf_append(&x->after, p, n);
        else
            continue;
        if (over_limit(s, x)) {
            log_warn("Client id=%llu addr=%s (replica) scheduled to be closed ASAP for overcoming of output buffer "
                     "limits.",
                     (unsigned long long)x->c->id, x->c->addr);
            x->dropped = true;
        }
        wake_worker(s, x->c);
    }
}

void kv_repl_ensure_backlog(struct kv_server *s) { backlog_create(s); }

void kv_repl_new_history(struct kv_server *s, const char *replid, long long offset)
{
    struct kv_repl *r = s->repl;
    if (replid)
        memcpy(r->replid, replid, KV_REPLID_LEN);
    else
        random_id(r->replid);
    r->replid[KV_REPLID_LEN] = '\0';
    memset(r->replid2, '0', KV_REPLID_LEN);
    r->second_off = -1;
    s->repl_offset = (uint64_t)offset;
    xfree(r->bl);
    r->bl = NULL;
    backlog_create(s);
}

void kv_repl_shift_replid(struct kv_server *s, const char *new_replid)
{
    struct kv_repl *r = s->repl;
    memcpy(r->replid2, r->replid, KV_REPLID_LEN + 1);
    r->second_off = (long long)s->repl_offset + 1;
    if (new_replid) {
        memcpy(r->replid, new_replid, KV_REPLID_LEN);
        r->replid[KV_REPLID_LEN] = '\0';
    } else {
        random_id(r->replid);
    }
}

void kv_repl_drop_replicas(struct kv_server *s)
{
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next) {
        if (!x->dropped) {
            x->dropped = true;
            wake_worker(s, x->c);
        }
    }
}

/* ---- full sync ---------------------------------------------------------------------- */

#define PIPE_CHUNK (1 << 20) /* diskless: pipe size and read size */
/* Diskless back-pressure, as Redis's rdb pipe: worker 0 stops reading the
 * child's pipe while a replica of the sync holds more than PIPE_HIGH bytes
 * not yet taken by its socket (pending plus its connection's output), and
 * reads again once every one is at most PIPE_LOW. The child then blocks on
 * the full pipe: memory stays bounded by these marks, not by the dataset. A
 * replica that takes nothing for repl-timeout is dropped so the others go
 * on. */
#define PIPE_HIGH (4u << 20)
#define PIPE_LOW (1u << 20)

/* The most any replica of the running diskless sync holds (lock held). */
static size_t diskless_backlog(struct kv_repl *r)
{
    size_t most = 0;
    for (struct kv_replica *x = r->replicas; x; x = x->next)
        if (x->state == RS_WAIT_END && x->diskless && !x->dropped && buf_pending(&x->pend) + x->unsent > most)
            most = buf_pending(&x->pend) + x->unsent;
    return most;
}

/* Diskless this time: repl-diskless-sync and every waiting replica reads EOF framing (else disk, as Redis). */
static bool use_diskless(struct kv_server *s)
{
    if (!s->cfg.repl_diskless_sync)
        return false;
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next)
        if (x->state == RS_WAIT_START && !x->capa_eof)
            return false;
    return true;
}

static void sync_child_start(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (r->child > 0 || r->diskless_active)
        return;
    bool diskless = use_diskless(s);
    int pfd[2] = {-1, -1};
    if (diskless && (!r->pipe_async_init || pipe2(pfd, O_CLOEXEC) != 0)) {
        log_warn("Diskless sync: %s; using a disk file", r->pipe_async_init ? strerror(errno) : "no event loop");
        diskless = false;
    }
    snprintf(r->child_file, sizeof r->child_file, "%s/temp-repl-%d.rdb", s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".",
             (int)getpid());
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    /* a primary's stream after the snapshot starts with SELECT; a chained
     * replica passes its primary's bytes on verbatim, so the snapshot says
     * which database they are in (repl-stream-db, as Redis) */
    int stream_db = kv_replica_stream_db(s);
    kv_prop_reset_db(s);
    long long t0 = util_mono_us();
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("Can't start the replication RDB child: fork: %s", strerror(errno));
        if (diskless) {
            close(pfd[0]);
            close(pfd[1]);
        }
        return;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        struct kv_rdb_save_opts o = {.compress = s->cfg.rdbcompression,
                                     .checksum = s->cfg.rdbchecksum,
                                     .now_ms = util_time_ms(),
                                     .used_mem = xalloc_used(),
                                     .key_delay_us = s->cfg.rdb_key_save_delay,
                                     .hints = KV_RDB_HINT_NONE,
                                     .fn_each = kv_fn_rdb_each,
                                     .fn_arg = s,
                                     .repl_info = true,
                                     .repl_stream_db = stream_db >= 0 ? stream_db : 0,
                                     .repl_id = r->replid,
                                     .repl_offset = (long long)s->repl_offset};
        char err[600], name[4200];
        if (diskless) {
            close(pfd[0]);
            signal(SIGPIPE, SIG_DFL); /* the parent went away: stop */
            int rc = kv_rdb_save_fd(pfd[1], dbs, n, &o);
            if (rc != 0)
                fprintf(stderr, "replication RDB child: %s\n", strerror(-rc));
            _exit(rc == 0 ? 0 : 1);
        }
        const char *slash = strrchr(r->child_file, '/');
        snprintf(name, sizeof name, "%s", slash + 1);
        int rc = kv_rdb_save_file(s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".", name, dbs, n, &o, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "replication RDB child: %s\n", err);
        _exit(rc == 0 ? 0 : 1);
    }
    s->latest_fork_usec = util_mono_us() - t0;
    r->child = (int)pid;
    if (diskless) {
        close(pfd[1]);
        (void)fcntl(pfd[0], F_SETPIPE_SZ, PIPE_CHUNK); /* fewer wake-ups; the default (64 KB) works too */
        r->diskless_active = true;
        r->child_pipe = pfd[0];
        r->pipe_eof = r->pipe_failed = r->child_reaped = r->child_ok = r->pipe_paused = false;
        r->streamed = 0;
        random_id(r->mark);
        uv_async_send(&r->pipe_async); /* worker 0 reads the pipe */
    }
    r->child_off = (long long)s->repl_offset;
    for (struct kv_replica *x = r->replicas; x; x = x->next) {
        if (x->state != RS_WAIT_START)
            continue;
        x->state = RS_WAIT_END;
        x->diskless = diskless;
        x->unsent = 0;
        x->progress_ms = util_time_ms();
        x->sync_off = r->child_off;
        buf_printf(&x->pend, "+FULLRESYNC %s %lld\r\n", r->replid, r->child_off);
        if (diskless)
            buf_printf(&x->pend, "$EOF:%s\r\n", r->mark); /* the RDB follows as the child writes it */
        wake_worker(s, x->c);
    }
    log_notice("Starting BGSAVE for SYNC with target: %s (child %d, offset %lld)",
               diskless ? "replicas sockets" : "disk", (int)pid, r->child_off);
}

/* Diskless: the child exited and its pipe is drained (lock held): the mark
 * ends the RDB; the stream gathered meanwhile waits for each replica's
 * first ACK (Redis's put-online-on-ack), so nothing follows the mark the
 * replica looks for. A failed child drops the replicas. */
static void diskless_maybe_done(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (!r->diskless_active || !r->pipe_eof || !r->child_reaped)
        return;
    r->diskless_active = false;
    for (struct kv_replica *x = r->replicas; x; x = x->next) {
        if (x->state != RS_WAIT_END || !x->diskless)
            continue;
        if (!r->child_ok) {
            x->dropped = true;
        } else {
            buf_append(&x->pend, r->mark, KV_REPLID_LEN);
            x->state = RS_WAIT_ACK;
            x->ack_ms = util_time_ms();
            log_notice("Streamed the RDB to replica %s (%llu bytes): waiting for its ACK", x->c->addr,
                       (unsigned long long)r->streamed);
        }
        wake_worker(s, x->c);
    }
    if (!r->child_ok)
        log_warn("Diskless replication RDB failed: replicas waiting for it are dropped");
}

static void on_pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct kv_server *s = h->data;
    if (!s->repl->pipe_buf)
        s->repl->pipe_buf = xmalloc(PIPE_CHUNK);
    *out = uv_buf_init(s->repl->pipe_buf, PIPE_CHUNK);
}

/* Worker 0: a chunk of the RDB from the child goes to every replica of this sync. */
static void on_pipe_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct kv_server *s = st->data;
    struct kv_repl *r = s->repl;
    pthread_mutex_lock(&s->lock);
    if (nread > 0) {
        r->streamed += (uint64_t)nread;
        for (struct kv_replica *x = r->replicas; x; x = x->next) {
            if (x->state == RS_WAIT_END && x->diskless && !x->dropped) {
                buf_append(&x->pend, b->base, (size_t)nread);
                wake_worker(s, x->c);
            }
        }
        if (diskless_backlog(r) > PIPE_HIGH) {
            uv_read_stop(st);
            r->pipe_paused = true;
            r->pipe_pauses++;
        }
    } else if (nread < 0) {
        /* EOF (the child closed its end) or an error: the child's exit status decides */
        if (nread != UV_EOF) {
            log_warn("Diskless sync: reading the child's pipe: %s", uv_strerror((int)nread));
            r->pipe_failed = true;
            r->child_ok = false;
        }
        uv_read_stop(st);
        uv_close((uv_handle_t *)st, on_pipe_closed);
        r->rdb_pipe = NULL;
        r->child_pipe = -1;
        r->pipe_eof = true;
        diskless_maybe_done(s);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_pipe_async(uv_async_t *a)
{
    struct kv_server *s = a->data;
    struct kv_repl *r = s->repl;
    pthread_mutex_lock(&s->lock);
    if (r->child_pipe >= 0 && !r->rdb_pipe && !atomic_load(&s->shutting_down)) {
        uv_pipe_t *p = xcalloc(1, sizeof *p);
        uv_pipe_init(a->loop, p, 0);
        p->data = s;
        int rc = uv_pipe_open(p, r->child_pipe);
        if (rc == 0)
            rc = uv_read_start((uv_stream_t *)p, on_pipe_alloc, on_pipe_read);
        if (rc != 0) {
            log_warn("Diskless sync: can't read the child's pipe: %s", uv_strerror(rc));
            uv_close((uv_handle_t *)p, on_pipe_closed);
            r->child_pipe = -1;
            r->pipe_eof = true;
            r->pipe_failed = true;
            r->child_ok = false;
            if (r->child > 0)
                kill(r->child, SIGUSR1);
        } else {
            r->rdb_pipe = p;
        }
    } else if (r->pipe_paused && r->rdb_pipe && diskless_backlog(r) <= PIPE_LOW) {
        /* back-pressure released: the replicas took their bytes (or left) */
        r->pipe_paused = false;
        uv_read_start((uv_stream_t *)r->rdb_pipe, on_pipe_alloc, on_pipe_read);
    }
    pthread_mutex_unlock(&s->lock);
}

void kv_repl_client_wrote(struct kv_client *c)
{
    struct kv_server *s = c->srv;
    pthread_mutex_lock(&s->lock);
    struct kv_replica *x = c->rl;
    if (s->repl && x && x->diskless && x->state == RS_WAIT_END) {
        x->unsent = buf_pending(&c->out) + buf_pending(&c->wbuf);
        x->progress_ms = util_time_ms();
        if (s->repl->pipe_paused && diskless_backlog(s->repl) <= PIPE_LOW)
            uv_async_send(&s->repl->pipe_async);
    }
    pthread_mutex_unlock(&s->lock);
}

static void sync_child_done(struct kv_server *s, bool ok)
{
    struct kv_repl *r = s->repl;
    r->child = -1;
    if (r->diskless_active) {
        r->child_reaped = true;
        r->child_ok = ok && !r->pipe_failed;
        diskless_maybe_done(s);
        return;
    }
    char *data = NULL;
    size_t len = 0;
    if (ok) {
        int fd = open(r->child_file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0) {
            len = (size_t)st.st_size;
            data = xmalloc(len ? len : 1);
            size_t got = 0;
            while (got < len) {
                ssize_t k = read(fd, data + got, len - got);
                if (k <= 0)
                    break;
                got += (size_t)k;
            }
            ok = got == len;
        } else {
            ok = false;
        }
        if (fd >= 0)
            close(fd);
    }
    unlink(r->child_file);
    for (struct kv_replica *x = r->replicas; x; x = x->next) {
        if (x->state != RS_WAIT_END)
            continue;
        if (!ok) {
            x->dropped = true;
        } else {
            buf_printf(&x->pend, "$%zu\r\n", len);
            buf_append(&x->pend, data, len);
            buf_append(&x->pend, buf_head(&x->after), buf_pending(&x->after));
            buf_deinit(&x->after);
            buf_init(&x->after);
            x->state = RS_ONLINE;
            x->ack_ms = util_time_ms();
            log_notice("Synchronization with replica %s succeeded", x->c->addr);
        }
        wake_worker(s, x->c);
    }
    xfree(data);
    if (!ok)
        log_warn("Background replication RDB failed: replicas waiting for it are dropped");
}

static void check_waits(struct kv_server *s, long long now);

/* ---- commands -------------------------------------------------------------------------- */

static struct kv_replica *replica_of(struct kv_client *c)
{
    if (!c->rl) {
        struct kv_replica *x = xcalloc(1, sizeof *x);
        x->c = c;
        x->ack_off = 0;
        buf_init(&x->pend);
        buf_init(&x->after);
        x->next = c->srv->repl->replicas;
        c->srv->repl->replicas = x;
        c->rl = x;
    }
    return c->rl;
}

void kv_repl_client_gone(struct kv_client *c)
{
    struct kv_server *s = c->srv;
    if (!s->repl)
        return;
    for (struct wait_client **pw = &s->repl->waits; *pw;) {
        if ((*pw)->c == c) {
            struct wait_client *w = *pw;
            *pw = w->next;
            xfree(w);
        } else {
            pw = &(*pw)->next;
        }
    }
    if (!c->rl)
        return;
    for (struct kv_replica **p = &s->repl->replicas; *p; p = &(*p)->next) {
        if (*p == c->rl) {
            *p = c->rl->next;
            break;
        }
    }
    if (c->rl->state != RS_NONE)
        log_notice("Connection with replica %s lost.", c->addr);
    if (s->repl->pipe_paused) /* what it held no longer holds the sync back */
        uv_async_send(&s->repl->pipe_async);
    buf_deinit(&c->rl->pend);
    buf_deinit(&c->rl->after);
    xfree(c->rl);
    c->rl = NULL;
}

static void failover_update(struct kv_server *s);

void kv_cmd_REPLCONF(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!c->srv->repl) {
        kv_reply_error(c, "ERR replication is not set up in this server");
        return;
    }
    struct kv_server *s = c->srv;
    if (argc % 2 == 0) {
        kv_reply_syntax(c);
        return;
    }
    for (int i = 1; i < argc; i += 2) {
        if (kv_arg_is(&argv[i], "ack")) {
            long long off;
            if (!c->rl || !util_str2ll(argv[i + 1].ptr, argv[i + 1].len, &off))
                return; /* as Redis: never a reply */
            if (off > c->rl->ack_off)
                c->rl->ack_off = off;
            c->rl->ack_ms = util_time_ms();
            if (s->repl->fo_state == FO_WAIT_SYNC)
                failover_update(s);
            if (c->rl->state == RS_WAIT_ACK) { /* diskless sync loaded: the stream follows */
                struct kv_replica *x = c->rl;
                buf_append(&x->pend, buf_head(&x->after), buf_pending(&x->after));
                buf_deinit(&x->after);
                buf_init(&x->after);
                x->state = RS_ONLINE;
                log_notice("Synchronization with replica %s succeeded", c->addr);
                wake_worker(s, c);
            }
            if (s->repl->waits)
                check_waits(s, c->rl->ack_ms);
            return;
        } else if (kv_arg_is(&argv[i], "getack")) {
            if (kv_replica_is_master_client(s, c))
                kv_replica_getack(s);
            return;
        } else if (kv_arg_is(&argv[i], "listening-port")) {
            long long port;
            if (!kv_arg_range(c, &argv[i + 1], 0, 65535, &port, NULL, NULL))
                return;
            replica_of(c)->listening_port = port;
        } else if (kv_arg_is(&argv[i], "capa") && kv_arg_is(&argv[i + 1], "eof")) {
            replica_of(c)->capa_eof = true;
        } else if (kv_arg_is(&argv[i], "capa") || kv_arg_is(&argv[i], "ip-address") ||
                   kv_arg_is(&argv[i], "rdb-only") || kv_arg_is(&argv[i], "rdb-filter-only")) {
            /* other capabilities: nothing to do */
        } else {
            kv_reply_errorf(c, "ERR Unrecognized REPLCONF option: %.*s", (int)(argv[i].len > 64 ? 64 : argv[i].len),
                            argv[i].ptr);
            return;
        }
    }
    resp_add_ok(&c->out);
}

void kv_cmd_PSYNC(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!c->srv->repl) {
        kv_reply_error(c, "ERR replication is not set up in this server");
        return;
    }
    (void)argc;
    struct kv_server *s = c->srv;
    struct kv_repl *r = s->repl;
    if (c->rl && c->rl->state != RS_NONE)
        return; /* as Redis: ignored on a replica link */
    if (argc > 3 && kv_arg_is(&argv[3], "failover")) {
        /* the primary's FAILOVER: this replica takes over if it holds the
         * primary's history, then answers the PSYNC as a primary */
        log_notice("Failover request received for replid %.*s.", (int)(argv[1].len > 64 ? 64 : argv[1].len),
                   argv[1].ptr);
        if (!kv_replica_active(s)) {
            kv_reply_error(c, "ERR PSYNC FAILOVER can't be sent to a master.");
            return;
        }
        if (argv[1].len != KV_REPLID_LEN || memcmp(argv[1].ptr, r->replid, KV_REPLID_LEN) != 0) {
            kv_reply_error(c, "ERR PSYNC FAILOVER replid must match my replid.");
            return;
        }
        kv_replica_set_target(s, NULL, 0);
        kv_repl_shift_replid(s, NULL);
        log_notice("MASTER MODE enabled (failover request from '%s')", c->addr);
    }
    if (r->fo_state != FO_NONE) {
        kv_reply_error(c, "NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    if (kv_replica_active(s) && kv_replica_applying(s) == false && !r->bl) {
        kv_reply_error(c, "NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    if (kv_multi_active(c)) {
        kv_reply_error(c, "ERR Replica can't interact with the keyspace");
        return;
    }
    struct kv_replica *x = replica_of(c);
    long long off = -1;
    util_str2ll(argv[2].ptr, argv[2].len, &off);
    backlog_fit(s);
    bool id1 = argv[1].len == KV_REPLID_LEN && memcmp(argv[1].ptr, r->replid, KV_REPLID_LEN) == 0;
    bool id2 = argv[1].len == KV_REPLID_LEN && memcmp(argv[1].ptr, r->replid2, KV_REPLID_LEN) == 0 &&
               off <= r->second_off;
    if (r->bl && (id1 || id2) && off >= r->bl_first && off <= r->bl_first + (long long)r->histlen) {
        buf_printf(&x->pend, "+CONTINUE %s\r\n", r->replid);
        backlog_copy(r, off, &x->pend);
        x->state = RS_ONLINE;
        x->ack_off = off - 1;
        x->ack_ms = util_time_ms();
        r->sync_partial_ok++;
        log_notice("Partial resynchronization request from %s accepted. Sending %lld bytes of backlog starting from "
                   "offset %lld.",
                   c->addr, (long long)s->repl_offset + 1 - off, off);
        wake_worker(s, c);
        return;
    }
    if (!(argv[1].len == 1 && argv[1].ptr[0] == '?'))
        r->sync_partial_err++;
    r->sync_full++;
    backlog_create(s);
    x->state = RS_WAIT_START;
    x->wait_ms = util_time_ms();
    log_notice("Full resync requested by replica %s", c->addr);
    if (r->child <= 0 && !r->diskless_active && !(s->cfg.repl_diskless_sync && s->cfg.repl_diskless_sync_delay > 0 && x->capa_eof))
        sync_child_start(s); /* diskless with a delay: the cron starts it */
    wake_worker(s, c);
}

void kv_cmd_SYNC(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    kv_reply_error(c, "ERR SYNC is not supported: use PSYNC ? -1");
}

/* REPLICAOF host port | NO ONE; SLAVEOF the same. */
void kv_cmd_REPLICAOF(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!c->srv->repl) {
        kv_reply_error(c, "ERR replication is not set up in this server");
        return;
    }
    (void)argc;
    struct kv_server *s = c->srv;
    if (s->repl->fo_state != FO_NONE) {
        kv_reply_error(c, "ERR REPLICAOF not allowed while failing over.");
        return;
    }
    if (kv_arg_is(&argv[1], "no") && kv_arg_is(&argv[2], "one")) {
        if (kv_replica_active(s)) {
            kv_replica_set_target(s, NULL, 0);
            kv_repl_shift_replid(s, NULL);
            log_notice("MASTER MODE enabled (user request from '%s')", c->addr);
        }
        resp_add_ok(&c->out);
        return;
    }
    long long port;
    if (!kv_arg_range(c, &argv[2], 0, 65535, &port, "ERR Invalid master port", "ERR Invalid master port"))
        return;
    if (c->rl && c->rl->state != RS_NONE) {
        kv_reply_error(c, "ERR Command is not valid when client is a replica.");
        return;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(argv[1].len < 255 ? argv[1].len : 255), argv[1].ptr);
    kv_replica_set_target(s, host, port);
    log_notice("REPLICAOF %s:%lld enabled (user request from '%s')", host, port, c->addr);
    resp_add_simple(&c->out, "OK", 2);
}

void kv_cmd_SLAVEOF(struct kv_client *c, int argc, struct resp_arg *argv) { kv_cmd_REPLICAOF(c, argc, argv); }

/* ---- FAILOVER ------------------------------------------------------------------------
 *
 * Redis 6.2's coordinated failover, by the same steps and with the same
 * replies: the primary holds write commands (its own pause, apart from
 * CLIENT PAUSE's), waits until a replica (the one named by TO, else the first
 * one) has acknowledged the whole stream, turns into a replica of it and
 * sends it `PSYNC <replid> <offset> FAILOVER`; the target, holding that
 * history, promotes itself and answers +CONTINUE. Then the pause ends: held
 * writes get READONLY, as from Redis. TIMEOUT bounds the wait (with FORCE it
 * fails over anyway when it expires); ABORT, a timeout or a refused or failed
 * PSYNC FAILOVER put the primary back. All under the server lock. Unlike
 * Redis, a target that cannot be reached at all also ends the failover
 * (Redis would keep trying with its writes held). */

static const char *failover_state_name(const struct kv_repl *r)
{
    return r->fo_state == FO_WAIT_SYNC     ? "waiting-for-sync"
           : r->fo_state == FO_IN_PROGRESS ? "failover-in-progress"
                                           : "no-failover";
}

/* A replica's address as FAILOVER TO names it: its IP and listening port. */
static bool replica_is(const struct kv_replica *x, const char *host, long long port)
{
    char ip[64];
    snprintf(ip, sizeof ip, "%s", x->c->addr);
    char *colon = strrchr(ip, ':');
    if (colon)
        *colon = '\0';
    return x->listening_port == port && strcasecmp(ip, host) == 0;
}

static struct kv_replica *failover_find(struct kv_server *s, const char *host, long long port)
{
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next)
        if (!x->dropped && replica_is(x, host, port))
            return x;
    return NULL;
}

/* FAILOVER's own write pause, apart from CLIENT PAUSE's (server.c holds
 * the commands; a worker's wake runs them again). */
static void failover_pause(struct kv_server *s, bool on)
{
    s->failover_pause = on;
    if (on || atomic_load(&s->shutting_down))
        return;
    for (int i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake); /* the held writes run at once, not at the next tick */
}

static void failover_clear(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    r->fo_state = FO_NONE;
    r->fo_host[0] = '\0';
    r->fo_port = 0;
    r->fo_end_ms = 0;
    r->fo_force = false;
    failover_pause(s, false);
}

static void failover_abort(struct kv_server *s, const char *why)
{
    struct kv_repl *r = s->repl;
    if (r->fo_state == FO_NONE)
        return;
    if (r->fo_host[0])
        log_notice("FAILOVER to %s:%lld aborted: %s", r->fo_host, r->fo_port, why);
    else
        log_notice("FAILOVER to any replica aborted: %s", why);
    if (r->fo_state == FO_IN_PROGRESS) {
        /* back to a primary, on a new history (as REPLICAOF NO ONE) */
        kv_replica_set_failover(s, false);
        kv_replica_set_target(s, NULL, 0);
        kv_repl_shift_replid(s, NULL);
    }
    failover_clear(s);
}

/* Become a replica of the target and ask it to take over. */
static void failover_begin(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    r->fo_state = FO_IN_PROGRESS;
    kv_replica_set_failover(s, true);
    kv_replica_set_target(s, r->fo_host, r->fo_port);
}

static void failover_result(struct kv_server *s, bool ok, const char *why)
{
    struct kv_repl *r = s->repl;
    if (r->fo_state != FO_IN_PROGRESS)
        return;
    if (!ok) {
        failover_abort(s, why);
        return;
    }
    log_notice("FAILOVER to %s:%lld done: this server is its replica", r->fo_host, r->fo_port);
    failover_clear(s);
}

/* Waiting for a replica to catch up: the cron and every ACK look. */
static void failover_update(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (r->fo_state != FO_WAIT_SYNC)
        return;
    if (r->fo_end_ms && r->fo_end_ms <= util_time_ms()) {
        if (r->fo_force) {
            log_notice("FAILOVER to %s:%lld time out exceeded, failing over.", r->fo_host, r->fo_port);
            failover_begin(s);
        } else {
            failover_abort(s, "Replica never caught up before timeout");
        }
        return;
    }
    struct kv_replica *x = NULL;
    if (r->fo_host[0]) {
        x = failover_find(s, r->fo_host, r->fo_port);
    } else {
        for (x = r->replicas; x; x = x->next)
            if (!x->dropped && x->state == RS_ONLINE && x->ack_off == (long long)s->repl_offset)
                break;
        if (x) {
            snprintf(r->fo_host, sizeof r->fo_host, "%s", x->c->addr);
            char *colon = strrchr(r->fo_host, ':');
            if (colon)
                *colon = '\0';
            r->fo_port = x->listening_port;
        }
    }
    if (x && x->state == RS_ONLINE && x->ack_off == (long long)s->repl_offset) {
        log_notice("Failover target %s:%lld is synced, failing over.", r->fo_host, r->fo_port);
        failover_begin(s);
    }
}

/* FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds] */
void kv_cmd_FAILOVER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    struct kv_repl *r = s->repl;
    if (!r) {
        kv_reply_error(c, "ERR replication is not set up in this server");
        return;
    }
    if (argc == 2 && kv_arg_is(&argv[1], "abort")) {
        if (r->fo_state == FO_NONE) {
            kv_reply_error(c, "ERR No failover in progress.");
            return;
        }
        failover_abort(s, "Failover manually aborted");
        resp_add_ok(&c->out);
        return;
    }
    long long timeout = 0, port = 0;
    const struct resp_arg *host = NULL;
    bool force = false;
    for (int j = 1; j < argc; j++) {
        if (kv_arg_is(&argv[j], "timeout") && j + 1 < argc && timeout == 0) {
            if (!kv_arg_ll(c, &argv[j + 1], &timeout))
                return;
            if (timeout <= 0) {
                kv_reply_error(c, "ERR FAILOVER timeout must be greater than 0");
                return;
            }
            j++;
        } else if (kv_arg_is(&argv[j], "to") && j + 2 < argc && !host) {
            if (!kv_arg_ll(c, &argv[j + 2], &port))
                return;
            host = &argv[j + 1];
            j += 2;
        } else if (kv_arg_is(&argv[j], "force") && !force) {
            force = true;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    if (r->fo_state != FO_NONE) {
        kv_reply_error(c, "ERR FAILOVER already in progress.");
        return;
    }
    if (kv_replica_active(s)) {
        kv_reply_error(c, "ERR FAILOVER is not valid when server is a replica.");
        return;
    }
    if (!r->replicas) {
        kv_reply_error(c, "ERR FAILOVER requires connected replicas.");
        return;
    }
    if (force && (!timeout || !host)) {
        kv_reply_error(c, "ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    if (host) {
        char h[256];
        snprintf(h, sizeof h, "%.*s", (int)(host->len < 255 ? host->len : 255), host->ptr);
        struct kv_replica *x = host->len < 255 ? failover_find(s, h, port) : NULL;
        if (!x) {
            kv_reply_error(c, "ERR FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if (x->state != RS_ONLINE) {
            kv_reply_error(c, "ERR FAILOVER target replica is not online.");
            return;
        }
        snprintf(r->fo_host, sizeof r->fo_host, "%s", h);
        r->fo_port = port;
        log_notice("FAILOVER requested to %s:%lld.", h, port);
    } else {
        log_notice("FAILOVER requested to any replica.");
    }
    r->fo_end_ms = timeout ? util_time_ms() + (timeout > LLONG_MAX / 2 ? LLONG_MAX / 2 : timeout) : 0;
    r->fo_force = force;
    r->fo_state = FO_WAIT_SYNC;
    failover_pause(s, true);
    r->getack_pending = true; /* the replicas tell their offsets now, not at their next second's ACK */
    resp_add_ok(&c->out);
}

static long long lag_secs(const struct kv_replica *x, long long now)
{
    return x->ack_ms ? (now - x->ack_ms) / 1000 : 0;
}

void kv_cmd_ROLE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!c->srv->repl) {
        kv_reply_error(c, "ERR replication is not set up in this server");
        return;
    }
    (void)argc, (void)argv;
    struct kv_server *s = c->srv;
    if (kv_replica_active(s)) {
        kv_replica_role(s, c);
        return;
    }
    int n = 0;
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next)
        n += x->state == RS_ONLINE;
    resp_add_array(&c->out, 3);
    resp_add_bulk(&c->out, "master", 6);
    resp_add_int(&c->out, (long long)s->repl_offset);
    resp_add_array(&c->out, n);
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next) {
        if (x->state != RS_ONLINE)
            continue;
        char ip[64], port[32], off[32];
        snprintf(ip, sizeof ip, "%s", x->c->addr);
        char *colon = strrchr(ip, ':');
        if (colon)
            *colon = '\0';
        int pl = snprintf(port, sizeof port, "%lld", x->listening_port);
        int ol = snprintf(off, sizeof off, "%lld", x->ack_off);
        resp_add_array(&c->out, 3);
        resp_add_bulk(&c->out, ip, strlen(ip));
        resp_add_bulk(&c->out, port, (size_t)pl);
        resp_add_bulk(&c->out, off, (size_t)ol);
    }
}

/* ---- WAIT, min-replicas ------------------------------------------------------------------ */

static int acked_at_least(struct kv_server *s, long long off)
{
    int n = 0;
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next)
        n += x->state == RS_ONLINE && x->ack_off >= off;
    return n;
}

static int good_replicas(struct kv_server *s, long long now)
{
    int n = 0;
    for (struct kv_replica *x = s->repl->replicas; x; x = x->next)
        n += x->state == RS_ONLINE && lag_secs(x, now) <= s->cfg.min_replicas_max_lag;
    return n;
}

bool kv_repl_deny_write(struct kv_client *c, const char **msg)
{
    struct kv_server *s = c->srv;
    if (!s->repl)
        return false;
    if (kv_replica_active(s)) {
        /* everything but the primary's stream: clients, and the scripts
         * they run (the script's own client has no socket), as Redis */
        if (s->cfg.replica_read_only && !kv_replica_is_master_client(s, c) && !kv_replica_in_apply(s)) {
            *msg = "READONLY You can't write against a read only replica.";
            return true;
        }
        return false;
    }
    if (!c->w && c->fd < 0)
        return false; /* internal clients: the AOF loader, scripts (their caller was checked) */
    if (s->cfg.min_replicas_to_write > 0 && s->cfg.min_replicas_max_lag > 0 &&
        good_replicas(s, util_time_ms()) < s->cfg.min_replicas_to_write) {
        *msg = "NOREPLICAS Not enough good replicas to write.";
        return true;
    }
    return false;
}

static bool wait_never(struct kv_server *s, struct kv_blocked *b, const char *key, size_t klen)
{
    (void)s, (void)b, (void)key, (void)klen;
    return false;
}

/* End the WAITs whose replicas acked enough or whose time is up (lock held). */
static void check_waits(struct kv_server *s, long long now)
{
    for (struct wait_client **pw = &s->repl->waits; *pw;) {
        struct wait_client *w = *pw;
        int have = acked_at_least(s, w->off);
        if (have >= w->need || (w->deadline_ms && now >= w->deadline_ms) || !w->c->blk) {
            char num[32];
            int n = snprintf(num, sizeof num, ":%d\r\n", have);
            kv_block_finish(w->c, num, (size_t)n);
            *pw = w->next;
            xfree(w);
        } else {
            pw = &w->next;
        }
    }
}

static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";

void kv_cmd_WAIT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!c->srv->repl) {
        kv_reply_error(c, "ERR replication is not set up in this server");
        return;
    }
    (void)argc;
    struct kv_server *s = c->srv;
    long long need, timeout;
    if (!kv_arg_range(c, &argv[1], LLONG_MIN, LLONG_MAX, &need, NULL, NULL) ||
        !kv_arg_range(c, &argv[2], LLONG_MIN, LLONG_MAX, &timeout, "ERR timeout is not an integer or out of range",
                      NULL))
        return;
    if (timeout < 0) {
        kv_reply_error(c, "ERR timeout is negative");
        return;
    }
    if (kv_replica_active(s)) {
        kv_reply_error(c, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if "
                          "a replica is configured to be writable (which is not the default) writes to replicas are "
                          "just local and are not propagated.");
        return;
    }
    long long off = (long long)c->woff;
    int have = acked_at_least(s, off);
    if (have >= need || c->in_exec) { /* as Redis: otherwise it waits, replicas or not */
        resp_add_int(&c->out, have);
        return;
    }
    /* ask the replicas once the batch ends (kv_repl_flush); the answer
     * comes with their next ACK */
    s->repl->getack_pending = true;
    struct wait_client *w = xcalloc(1, sizeof *w);
    w->c = c;
    w->off = off;
    w->need = need;
    w->deadline_ms = timeout ? util_time_ms() + timeout : 0;
    w->next = s->repl->waits;
    s->repl->waits = w;
    /* a waiter without keys: check_waits ends it (acks, timeout) */
    struct kv_block_args a = {0};
    kv_block(c, NULL, 0, 0, wait_never, &a);
}

void kv_repl_flush(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (r && r->getack_pending) {
        r->getack_pending = false;
        kv_repl_feed_raw(s, getack, sizeof getack - 1);
    }
}

/* ---- cron and INFO ---------------------------------------------------------------------- */

void kv_repl_cron(struct kv_server *s)
{
    struct kv_repl *r = s->repl;
    if (!r)
        return;
    if (r->child > 0) {
        int st;
        pid_t p = waitpid(r->child, &st, WNOHANG);
        if (p == r->child)
            sync_child_done(s, WIFEXITED(st) && WEXITSTATUS(st) == 0);
        else if (p < 0 && errno == ECHILD)
            sync_child_done(s, false);
    }
    if (r->diskless_active && r->pipe_paused) {
        /* a replica that takes nothing holds the sync back: repl-timeout drops it */
        long long now = util_time_ms();
        for (struct kv_replica *x = r->replicas; x; x = x->next) {
            if (x->state == RS_WAIT_END && x->diskless && !x->dropped &&
                now - x->progress_ms > s->cfg.repl_timeout * 1000) {
                log_warn("Disconnecting timedout replica (full sync) %s: no bytes taken for %llds", x->c->addr,
                         s->cfg.repl_timeout);
                x->dropped = true;
                wake_worker(s, x->c);
            }
        }
    }
    if (r->child <= 0 && !r->diskless_active) {
        /* repl-diskless-sync-delay: the diskless child waits for more
         * replicas, counted from the first that asked */
        long long first = 0;
        bool any = false;
        for (struct kv_replica *x = r->replicas; x; x = x->next) {
            if (x->state == RS_WAIT_START) {
                any = true;
                if (!first || x->wait_ms < first)
                    first = x->wait_ms;
            }
        }
        if (any && (!use_diskless(s) || util_time_ms() - first >= s->cfg.repl_diskless_sync_delay * 1000))
            sync_child_start(s);
    }
    failover_update(s);
    long long now = util_time_ms();
    /* no PING while FAILOVER holds writes: the stream stays still for the target to catch up */
    if (r->replicas && !kv_replica_active(s) && !s->failover_pause &&
        now - r->last_ping_ms >= s->cfg.repl_ping_replica_period * 1000) {
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        r->last_ping_ms = now;
        kv_prop_reset_db(s);
        kv_repl_feed_raw(s, ping, sizeof ping - 1);
    }
    kv_repl_flush(s);
    if (r->waits)
        check_waits(s, now);
    kv_replica_cron(s);
}

void kv_repl_info_stats(struct kv_server *s, struct buf *o)
{
    struct kv_repl *r = s->repl;
    buf_printf(o, "sync_full:%llu\r\nsync_partial_ok:%llu\r\nsync_partial_err:%llu\r\n",
               (unsigned long long)(r ? r->sync_full : 0), (unsigned long long)(r ? r->sync_partial_ok : 0),
               (unsigned long long)(r ? r->sync_partial_err : 0));
    /* scaleout's own: times a diskless sync stopped reading its child for a slow replica */
    buf_printf(o, "repl_diskless_pipe_pauses:%llu\r\n", (unsigned long long)(r ? r->pipe_pauses : 0));
}

void kv_repl_info(struct kv_server *s, struct buf *o)
{
    struct kv_repl *r = s->repl;
    if (!r) { /* a bare server (unit tests, fuzz harness) */
        buf_printf(o, "role:master\r\nconnected_slaves:0\r\nmaster_repl_offset:%llu\r\n",
                   (unsigned long long)s->repl_offset);
        return;
    }
    long long now = util_time_ms();
    if (kv_replica_active(s)) {
        kv_replica_info(s, o);
    } else {
        buf_printf(o, "role:master\r\n");
    }
    int n = 0;
    for (struct kv_replica *x = r->replicas; x; x = x->next)
        n += x->state != RS_NONE;
    buf_printf(o, "connected_slaves:%d\r\n", n);
    if (!kv_replica_active(s) && s->cfg.min_replicas_to_write > 0 && s->cfg.min_replicas_max_lag > 0)
        buf_printf(o, "min_slaves_good_slaves:%d\r\n", good_replicas(s, now));
    int i = 0;
    for (struct kv_replica *x = r->replicas; x; x = x->next) {
        if (x->state == RS_NONE)
            continue;
        char ip[64];
        snprintf(ip, sizeof ip, "%s", x->c->addr);
        char *colon = strrchr(ip, ':');
        if (colon)
            *colon = '\0';
        buf_printf(o, "slave%d:ip=%s,port=%lld,state=%s,offset=%lld,lag=%lld\r\n", i++, ip, x->listening_port,
                   x->state == RS_ONLINE                                   ? "online"
                   : x->state == RS_WAIT_END || x->state == RS_WAIT_ACK ? "send_bulk"
                                                                         : "wait_bgsave",
                   x->ack_off, lag_secs(x, now));
    }
    buf_printf(o, "master_failover_state:%s\r\nmaster_replid:%s\r\nmaster_replid2:%s\r\n", failover_state_name(r),
               r->replid, r->replid2);
    buf_printf(o, "master_repl_offset:%llu\r\nsecond_repl_offset:%lld\r\n", (unsigned long long)s->repl_offset,
               r->second_off);
    buf_printf(o, "repl_backlog_active:%d\r\nrepl_backlog_size:%llu\r\nrepl_backlog_first_byte_offset:%lld\r\n"
                  "repl_backlog_histlen:%zu\r\n",
               r->bl != NULL, (unsigned long long)s->cfg.repl_backlog_size, r->bl ? r->bl_first : 0, r->histlen);
}
