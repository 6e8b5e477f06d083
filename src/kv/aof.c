/*
 * aof.c — the append-only file (see aof.h for the layout and guarantees).
 */
#include "kv/aof.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "kv/blocking.h"
#include "kv/evict.h"
#include "kv/function.h"
#include "kv/multi.h"
#include "kv/persist.h"
#include "kv/propagate.h"
#include "kv/pubsub.h"
#include "kv/rdb.h"
#include "kv/reply.h"

const struct conf_enum kv_appendfsync_names[] = {
    {"no", KV_FSYNC_NO}, {"always", KV_FSYNC_ALWAYS}, {"everysec", KV_FSYNC_EVERYSEC}, {NULL, 0},
};

#define MAX_INCR KV_AOF_MAX_INCR
#define MANIFEST_MAX (1 << 20)
#define RETRY_SECS 5

struct kv_aof {
    char dir[4096];             /* <dir>/<appenddirname> */
    int fd;                     /* the incr file written now, -1 none */
    int incr_seq;               /* its sequence number */
    /* the manifest as on disk */
    int base_seq;               /* 0: no base yet */
    bool base_rdb;
    int incr[MAX_INCR];         /* incr files in order */
    int nincr;
    bool enabling;              /* appendonly just turned on: no manifest until the first rewrite ends */
    struct buf buf;             /* propagated, not yet written */
    uint64_t cur_size, base_size;
    uint64_t rewrite_base;      /* cur_size after the last rewrite (auto-aof-rewrite-percentage) */
    /* everysec fsync thread */
    pthread_t thr;
    bool thr_on;
    pthread_mutex_t mu;         /* guards fd for the thread, stop, unsynced */
    pthread_cond_t cv;
    bool stop;
    _Atomic bool unsynced;      /* written since the last fsync */
    _Atomic bool syncing;       /* the thread is in fdatasync (on fd); set under mu, read without it */
    long long postponed_ms;     /* everysec: a write waits for that fdatasync since then, 0 none */
    int fsyncers;               /* workers in fdatasync on fd (appendfsync always), under mu */
    int fd_waiters;             /* open_incr / aof_close waiting for fsyncers to drop to 0, under mu */
    /* rewrite */
    int child;                  /* pid, -1 none */
    int new_base_seq;
    bool new_base_rdb;
    int keep_from;              /* incr files from this seq on survive the rewrite */
    long long rw_start_ms;
    long long last_rw_secs;
    long long last_fail_ms;
    bool last_rw_ok, last_write_ok;
    char write_err[128];        /* strerror of the failed write (MISCONF) */
    bool scheduled;
    uint64_t rewrites, consecutive_failures, delayed_fsync;
};

/* ---- names and the manifest ----------------------------------------------- */

static void base_name(struct kv_server *s, int seq, bool rdb, char *out, size_t n)
{
    snprintf(out, n, "%s.%d.base.%s", s->cfg.appendfilename, seq, rdb ? "rdb" : "aof");
}

static void incr_name(struct kv_server *s, int seq, char *out, size_t n)
{
    snprintf(out, n, "%s.%d.incr.aof", s->cfg.appendfilename, seq);
}

static void dir_path(struct kv_server *s, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".", s->cfg.appenddirname);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Write the manifest atomically (temp, fsync, rename, fsync the dir). */
static int write_manifest(struct kv_server *s, struct kv_aof *a)
{
    struct buf b;
    char name[512], path[4700], tmp[4700];
    buf_init(&b);
    if (a->base_seq) {
        base_name(s, a->base_seq, a->base_rdb, name, sizeof name);
        buf_printf(&b, "file %s seq %d type b\n", name, a->base_seq);
    }
    for (int i = 0; i < a->nincr; i++) {
        incr_name(s, a->incr[i], name, sizeof name);
        buf_printf(&b, "file %s seq %d type i\n", name, a->incr[i]);
    }
    snprintf(path, sizeof path, "%s/%s.manifest", a->dir, s->cfg.appendfilename);
    snprintf(tmp, sizeof tmp, "%s/temp-%s.manifest", a->dir, s->cfg.appendfilename);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = -1;
    if (fd >= 0) {
        ssize_t w = write(fd, buf_head(&b), buf_pending(&b));
        if (w == (ssize_t)buf_pending(&b) && fsync(fd) == 0)
            rc = 0;
        close(fd);
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc == 0)
        fsync_dir(a->dir);
    else
        log_warn("Can't write the AOF manifest %s: %s", path, strerror(errno));
    buf_deinit(&b);
    return rc;
}

/* Parse a manifest's text (name: for messages): 0, or -1 with err naming the line. */
int kv_aof_manifest_parse(struct kv_server *s, const char *text, size_t len, const char *path,
                          struct kv_aof_manifest *m, char *err, size_t errlen)
{
    char line[1024];
    int lineno = 0;
    size_t pos = 0;
    m->base_seq = 0;
    m->base_rdb = false;
    m->nincr = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (ll >= sizeof line || memchr(text + pos, '\0', ll)) {
            snprintf(err, errlen, "invalid AOF manifest %.400s at line %d (offset %zu)", path, lineno, pos);
            return -1;
        }
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos += ll + (nl ? 1 : 0);
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char name[512] = "", type = 0;
        long long seq = -1;
        char *tok[16], *save = NULL;
        int nt = 0;
        for (char *p = strtok_r(line, " \r", &save); p && nt < 16; p = strtok_r(NULL, " \r", &save))
            tok[nt++] = p;
        for (int i = 0; i + 1 < nt; i += 2) {
            if (strcmp(tok[i], "file") == 0)
                snprintf(name, sizeof name, "%s", tok[i + 1]);
            else if (strcmp(tok[i], "seq") == 0)
                util_str2ll(tok[i + 1], strlen(tok[i + 1]), &seq);
            else if (strcmp(tok[i], "type") == 0)
                type = tok[i + 1][0];
        }
        if (nt == 0)
            continue; /* blank (spaces, CR) */
        if (!name[0] || seq < 1 || seq > 1000000000 || (type != 'b' && type != 'i' && type != 'h')) {
            snprintf(err, errlen, "invalid AOF manifest %.400s at line %d", path, lineno);
            return -1;
        }
        char want[512];
        if (type == 'b') {
            size_t nl2 = strlen(name);
            m->base_rdb = nl2 > 4 && strcmp(name + nl2 - 4, ".rdb") == 0;
            m->base_seq = (int)seq;
            base_name(s, m->base_seq, m->base_rdb, want, sizeof want);
        } else if (type == 'i') {
            if (m->nincr == KV_AOF_MAX_INCR) {
                snprintf(err, errlen, "AOF manifest %.400s lists more than %d incr files", path, KV_AOF_MAX_INCR);
                return -1;
            }
            m->incr[m->nincr++] = (int)seq;
            incr_name(s, (int)seq, want, sizeof want);
        } else {
            continue; /* history: deleted files */
        }
        if (strcmp(want, name) != 0) {
            snprintf(err, errlen, "AOF manifest %.300s names %.200s: expected %.200s (appendfilename)", path, name, want);
            return -1;
        }
    }
    return 0;
}

/* Read the manifest: 1 read, 0 none, -1 malformed (err). */
static int read_manifest(struct kv_server *s, struct kv_aof *a, char *err, size_t errlen)
{
    char path[4700];
    snprintf(path, sizeof path, "%s/%s.manifest", a->dir, s->cfg.appendfilename);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "can't open %.400s: %.400s", path, strerror(errno)), -1);
    struct buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    int rc = 1;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_pending(&b) + n > MANIFEST_MAX) {
            snprintf(err, errlen, "AOF manifest %.400s is over %d bytes", path, MANIFEST_MAX);
            rc = -1;
            break;
        }
        buf_append(&b, chunk, n);
    }
    if (rc == 1 && ferror(f)) {
        snprintf(err, errlen, "can't read %.400s: %.400s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    struct kv_aof_manifest m;
    if (rc == 1 && kv_aof_manifest_parse(s, buf_head(&b), buf_pending(&b), path, &m, err, errlen) != 0)
        rc = -1;
    buf_deinit(&b);
    a->base_seq = 0;
    a->nincr = 0;
    if (rc == 1) {
        a->base_seq = m.base_seq;
        a->base_rdb = m.base_rdb;
        a->nincr = m.nincr;
        memcpy(a->incr, m.incr, sizeof m.incr);
    }
    return rc;
}

/* ---- loading --------------------------------------------------------------- */

static struct kv_client *fake_client(struct kv_server *s)
{
    struct kv_client *c = xcalloc(1, sizeof *c);
    c->srv = s;
    c->authed = true;
    c->proto = 2;
    c->last_cmd = -1;
    c->fd = -1;
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->wbuf);
    return c;
}

static void fake_free(struct kv_client *c)
{
    kv_multi_reset(c);
    /* a crafted file may SUBSCRIBE or block the fake client: unregister it */
    kv_blocking_client_gone(c);
    kv_pubsub_client_gone(c);
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    buf_deinit(&c->wbuf);
    xfree(c->name);
    xfree(c);
}

/*
 * Replay a buffer of commands (the parser decodes in place: data is
 * writable). name: for messages. Stops at the first bad command (-1, err
 * names the offset). A last command cut short or an unfinished MULTI at the
 * end sets *truncate_at (0 returned; the caller cuts or refuses); *in_multi
 * tells which. skip (tests, fuzzing): commands not run, NULL none.
 */
static int replay_mem(struct kv_server *s, struct kv_client *c, char *data, size_t len, const char *name,
                      uint64_t *ncmds, long long *truncate_at, bool *in_multi_out,
                      bool (*skip)(const struct resp_arg *), char *err, size_t errlen)
{
    struct resp_parser p;
    resp_parser_init(&p);
    p.max_bulk = 1LL << 40;
    size_t off = 0, multi_off = 0;
    bool in_multi = false;
    int rc = 0;
    *truncate_at = -1;
    while (off < len) {
        if (data[off] != '*') {
            snprintf(err, errlen, "Bad file format reading the append only file %.400s at offset %zu", name, off);
            rc = -1;
            break;
        }
        ssize_t n = resp_parse(&p, data + off, len - off);
        if (n < 0) {
            snprintf(err, errlen, "Bad file format reading the append only file %.400s at offset %zu (%.400s)", name, off,
                     p.err);
            rc = -1;
            break;
        }
        if (n == 0) {
            *truncate_at = (long long)off;
            break;
        }
        int id = resp_cmd_lookup(p.argv[0].ptr, p.argv[0].len);
        if (id < 0) {
            snprintf(err, errlen, "Unknown command '%.*s' reading the append only file %.400s at offset %zu",
                     (int)(p.argv[0].len > 64 ? 64 : p.argv[0].len), p.argv[0].ptr, name, off);
            rc = -1;
            break;
        }
        if (id == RESP_CMD_MULTI) {
            in_multi = true;
            multi_off = off;
        } else if (id == RESP_CMD_EXEC) {
            in_multi = false;
        }
        if ((*ncmds & 1023) == 0)
            kv_db_set_now(&s->db, util_time_ms());
        /* as Redis (CLIENT_DENY_BLOCKING): BLPOP, WAIT... answer at once, as
         * inside EXEC; the fake client has no worker to wait on */
        c->in_exec = true;
        if (!skip || !skip(&p.argv[0]))
            kv_call(c, p.argc, p.argv);
        c->in_exec = false;
        if (kv_pubsub_subscribed(c))
            kv_pubsub_reset(c); /* as Redis: later commands still run (no RESP2 pub/sub restriction) */
        buf_consume(&c->out, buf_pending(&c->out));
        (*ncmds)++;
        off += (size_t)n;
    }
    if (rc == 0 && *truncate_at < 0 && in_multi)
        *truncate_at = (long long)multi_off; /* revert the unfinished transaction */
    if (in_multi)
        kv_multi_reset(c);
    *in_multi_out = in_multi;
    resp_parser_deinit(&p);
    return rc;
}

/* A truncated tail: refused (not the last file, or aof-load-truncated no) or logged. */
static int truncated(struct kv_server *s, const char *name, bool last, long long at, size_t len, bool in_multi,
                     char *err, size_t errlen)
{
    if (!last || !s->cfg.aof_load_truncated) {
        snprintf(err, errlen,
                 "Unexpected end of file reading the append only file %.400s at offset %lld (of %zu bytes)%.400s", name,
                 at, len, last ? ": use aof-load-truncated yes or redis-check-aof --fix" : " (not the last file)");
        return -1;
    }
    log_warn("!!! Warning: short read while loading the AOF file %s !!!", name);
    log_warn("AOF %s loaded anyway because aof-load-truncated is enabled: cut at offset %lld of %zu bytes%s", name, at,
             len, in_multi ? " (an unfinished MULTI reverted)" : "");
    return 0;
}

int kv_aof_load_mem(struct kv_server *s, char *data, size_t len, bool (*skip)(const struct resp_arg *), char *err,
                    size_t errlen)
{
    struct kv_client *c = fake_client(s);
    uint64_t ncmds = 0;
    long long at;
    bool in_multi;
    int rc = replay_mem(s, c, data, len, "(memory)", &ncmds, &at, &in_multi, skip, err, errlen);
    if (rc == 0 && at >= 0)
        rc = truncated(s, "(memory)", true, at, len, in_multi, err, errlen);
    fake_free(c);
    kv_db_select(s, 0);
    return rc;
}

/*
 * Replay one file of commands. last: the last file (a truncated tail may be
 * cut). Returns 0, or -1 with err set.
 */
/* A file that starts with an RDB preamble ("REDIS": a Redis 6 appendonly.aof
 * that 7.0 made a base .aof): load that part with the RDB loader (kv/rdb.c),
 * *pre = its length; the commands follow. 0, or -1 (err). */
static int rdb_preamble(struct kv_server *s, const char *data, size_t len, const char *path, size_t *pre, char *err,
                        size_t errlen)
{
    *pre = 0;
    if (len < 5 || memcmp(data, "REDIS", 5) != 0)
        return 0;
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    struct kv_rdb_load_stats st;
    struct kv_rdb_load_opts lo = {.fn_load = kv_fn_rdb_load, .fn_arg = s};
    char e[600];
    if (kv_rdb_load_mem_ex(data, len, dbs, n, util_time_ms(), &lo, &st, e, sizeof e) != 0) {
        snprintf(err, errlen, "Bad RDB preamble of the append only file %.400s: %.400s", path, e);
        return -1;
    }
    *pre = st.consumed;
    return 0;
}

static int replay(struct kv_server *s, struct kv_client *c, const char *path, bool last, uint64_t *ncmds, char *err,
                  size_t errlen)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "can't open the append only file %.400s: %.400s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "can't stat %.400s: %.400s", path, strerror(errno));
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        return 0;
    }
    /* private, writable copy-on-write: the parser decodes in place */
    char *data = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
        snprintf(err, errlen, "can't map %.400s: %.400s", path, strerror(errno));
        close(fd);
        return -1;
    }
    long long truncate_at;
    bool in_multi;
    size_t pre = 0;
    int rc = rdb_preamble(s, data, len, path, &pre, err, errlen);
    if (rc == 0)
        rc = replay_mem(s, c, data + pre, len - pre, path, ncmds, &truncate_at, &in_multi, NULL, err, errlen);
    if (rc == 0 && truncate_at >= 0)
        truncate_at += (long long)pre;
    if (rc == 0 && truncate_at >= 0) {
        rc = truncated(s, path, last, truncate_at, len, in_multi, err, errlen);
        if (rc == 0 && ftruncate(fd, (off_t)truncate_at) != 0) {
            snprintf(err, errlen, "can't truncate %.400s at offset %lld: %.400s", path, truncate_at, strerror(errno));
            rc = -1;
        }
    }
    munmap(data, len);
    close(fd);
    return rc;
}

static uint64_t file_size(const char *dir, const char *name)
{
    char path[4700];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int kv_aof_load(struct kv_server *s, bool *loaded)
{
    *loaded = false;
    if (!s->cfg.appendonly)
        return 0;
    unsigned long long maxmemory = s->cfg.maxmemory;
    struct kv_aof tmp = {0};
    char err[1024], path[4700], name[512];
    dir_path(s, tmp.dir, sizeof tmp.dir);
    int r = read_manifest(s, &tmp, err, sizeof err);
    if (r == 0)
        return 0;
    /* what kv_persist_load sets up for the RDB side */
    s->last_bgsave_ok = true;
    s->bgsave_pid = -1;
    s->bgsave_errfd = -1;
    s->last_bgsave_secs = -1;
    s->lastsave = util_time_ms() / 1000;
    if (r < 0)
        goto fail;
    long long t0 = util_mono_us();
    uint64_t ncmds = 0;
    kv_prop_set_enabled(s, false);
    /* as Redis: loading neither evicts nor refuses for maxmemory */
    s->cfg.maxmemory = 0;
    if (tmp.base_seq) {
        base_name(s, tmp.base_seq, tmp.base_rdb, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", tmp.dir, name);
        if (tmp.base_rdb) {
            int n;
            struct kv_db **dbs = kv_persist_dbs(s, &n);
            struct kv_rdb_load_stats st;
            char e2[600];
            struct kv_rdb_load_opts lo = {.fn_load = kv_fn_rdb_load, .fn_arg = s};
            int rc = kv_rdb_load_file_ex(path, dbs, n, util_time_ms(), &lo, &st, e2, sizeof e2);
            if (rc != 0) {
                snprintf(err, sizeof err, "%.400s: %.400s", path, rc == 1 ? "missing" : e2);
                kv_prop_set_enabled(s, true);
                goto fail;
            }
        } else {
            struct kv_client *c = fake_client(s);
            int rc = replay(s, c, path, tmp.nincr == 0, &ncmds, err, sizeof err);
            fake_free(c);
            if (rc != 0) {
                kv_prop_set_enabled(s, true);
                goto fail;
            }
        }
    }
    struct kv_client *c = fake_client(s);
    for (int i = 0; i < tmp.nincr; i++) {
        incr_name(s, tmp.incr[i], name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", tmp.dir, name);
        if (access(path, F_OK) != 0 && i == tmp.nincr - 1)
            continue; /* created by the manifest's writer, never written */
        if (replay(s, c, path, i == tmp.nincr - 1, &ncmds, err, sizeof err) != 0) {
            fake_free(c);
            kv_prop_set_enabled(s, true);
            goto fail;
        }
    }
    fake_free(c);
    kv_db_select(s, 0);
    kv_prop_set_enabled(s, true);
    s->cfg.maxmemory = maxmemory;
    s->dirty = 0;
    *loaded = true;
    log_notice("DB loaded from append only file: %s (base %d, %d incr file%s, %llu commands), %.3f seconds", tmp.dir,
               tmp.base_seq, tmp.nincr, tmp.nincr == 1 ? "" : "s", (unsigned long long)ncmds,
               (double)(util_mono_us() - t0) / 1e6);
    return 0;
fail:
    s->cfg.maxmemory = maxmemory;
    log_warn("Bad AOF, refusing to start: %s", err);
    fprintf(stderr, "scaleout kv: cannot load the append only file: %s\n", err);
    return -1;
}

/* ---- writing --------------------------------------------------------------- */

/* The propagated stream goes into a->buf (kv_prop_add_buf): a command
 * costs a buffer append, the loop iteration one write() (kv_aof_fsync). */
static struct buf *aof_buf(void *arg)
{
    struct kv_server *s = arg;
    return s->aof && s->aof->fd >= 0 ? &s->aof->buf : NULL;
}

static void *fsync_thread(void *arg)
{
    struct kv_aof *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
        if (a->stop)
            break;
        if (atomic_exchange(&a->unsynced, false) && a->fd >= 0) {
            int fd = a->fd;
            /* fsync may take long: done without mu, the writer goes on; a
             * file is closed only when no fsync runs on it (open_incr) */
            a->syncing = true;
            pthread_mutex_unlock(&a->mu);
            if (fdatasync(fd) != 0)
                log_warn("AOF fsync (everysec) failed: %s", strerror(errno));
            pthread_mutex_lock(&a->mu);
            a->syncing = false;
            pthread_cond_broadcast(&a->cv);
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static int open_incr(struct kv_server *s, struct kv_aof *a, int seq)
{
    char name[512], path[4700];
    incr_name(s, seq, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", a->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_warn("Can't open the append-only file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    a->cur_size = a->base_size;
    for (int i = 0; i < a->nincr; i++) {
        char n2[512];
        incr_name(s, a->incr[i], n2, sizeof n2);
        if (a->incr[i] != seq)
            a->cur_size += file_size(a->dir, n2);
    }
    if (fstat(fd, &st) == 0)
        a->cur_size += (uint64_t)st.st_size;
    pthread_mutex_lock(&a->mu);
    a->fd_waiters++;
    while (a->syncing || a->fsyncers)
        pthread_cond_wait(&a->cv, &a->mu);
    a->fd_waiters--;
    int old = a->fd;
    a->fd = fd;
    atomic_store(&a->unsynced, false);
    pthread_mutex_unlock(&a->mu);
    if (old >= 0) {
        (void)fdatasync(old);
        close(old);
    }
    a->incr_seq = seq;
    fsync_dir(a->dir);
    kv_prop_reset_db(s); /* the new file starts with SELECT */
    return 0;
}

static void write_all(struct kv_server *s, struct kv_aof *a)
{
    while (buf_pending(&a->buf) > 0) {
        ssize_t w = write(a->fd, buf_head(&a->buf), buf_pending(&a->buf));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            const char *why = w < 0 ? strerror(errno) : "short write";
            if (a->last_write_ok)
                log_warn("Error writing to the AOF file: %s", why);
            snprintf(a->write_err, sizeof a->write_err, "%s", why);
            a->last_write_ok = false;
            if (s->cfg.appendfsync == KV_FSYNC_ALWAYS) {
                /* as Redis: an acked write must be on disk; it cannot be */
                log_warn("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                _exit(1);
            }
            return;
        }
        buf_consume(&a->buf, (size_t)w);
        a->cur_size += (uint64_t)w;
    }
    if (!a->last_write_ok)
        log_notice("AOF write error looks solved, Redis can write again.");
    a->last_write_ok = true;
    buf_shrink(&a->buf, 1 << 20);
}

/* appendfsync everysec, lock held: whether this write waits. As Redis's
 * flushAppendOnlyFile: while the thread's fdatasync runs, a write() to the
 * same file may block on it, so the bytes stay in the buffer (and the
 * replies go out: everysec may lose up to ~2 s of writes on a crash); after
 * 2 s of waiting the write goes ahead anyway, counted in aof_delayed_fsync.
 * The next loop iteration that has bytes pending, or the cron, tries again. */
static bool write_postponed(struct kv_aof *a)
{
    if (!atomic_load(&a->syncing)) {
        a->postponed_ms = 0;
        return false;
    }
    long long now = util_time_ms();
    if (a->postponed_ms == 0) {
        a->postponed_ms = now;
        return true;
    }
    if (now - a->postponed_ms < 2000)
        return true;
    a->postponed_ms = 0;
    a->delayed_fsync++;
    log_notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for "
               "fsync to complete, this may slow down Redis.");
    return false;
}

/* everysec and no, lock held: write what is pending unless it waits for
 * the running fdatasync (everysec); the thread syncs it within a second. */
static void write_lazy(struct kv_server *s, struct kv_aof *a)
{
    if (buf_pending(&a->buf) == 0)
        return;
    if (s->cfg.appendfsync == KV_FSYNC_EVERYSEC && write_postponed(a))
        return;
    write_all(s, a);
    if (s->cfg.appendfsync == KV_FSYNC_EVERYSEC)
        atomic_store(&a->unsynced, true);
}

void kv_aof_flush(struct kv_server *s)
{
    struct kv_aof *a = s->aof;
    if (!a || a->fd < 0 || buf_pending(&a->buf) == 0)
        return;
    write_all(s, a);
    if (s->cfg.appendfsync == KV_FSYNC_ALWAYS) {
        if (fdatasync(a->fd) != 0) {
            log_warn("Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                     strerror(errno));
            _exit(1);
        }
    } else if (s->cfg.appendfsync == KV_FSYNC_EVERYSEC) {
        atomic_store(&a->unsynced, true);
    }
}

bool kv_aof_deny_write(struct kv_server *s, char *msg, size_t n)
{
    struct kv_aof *a = s->aof;
    if (!a || a->last_write_ok)
        return false;
    /* as Redis: the last write failed; try again now, refuse while it fails */
    write_all(s, a);
    if (a->last_write_ok)
        return false;
    snprintf(msg, n, "MISCONF Errors writing to the AOF file: %s", a->write_err);
    return true;
}

bool kv_aof_write(struct kv_server *s)
{
    struct kv_aof *a = s->aof;
    /* written (and with appendfsync always synced) by kv_aof_fsync: one
     * write for the whole loop iteration, before its replies leave (as
     * Redis's beforeSleep) */
    return a && a->fd >= 0 && buf_pending(&a->buf) > 0;
}

void kv_aof_fsync(struct kv_server *s)
{
    pthread_mutex_lock(&s->lock);
    struct kv_aof *a = s->aof;
    if (!a || a->fd < 0) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (s->cfg.appendfsync != KV_FSYNC_ALWAYS) {
        write_lazy(s, a);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (buf_pending(&a->buf) > 0)
        write_all(s, a);
    /* fdatasync without the keyspace lock: the file is neither switched
     * (open_incr) nor closed (aof_close) while a worker syncs it; they wait
     * for fsyncers to drop to 0. (A counter rather than a dup()/close() of
     * the descriptor: two system calls less per loop iteration.) */
    int fd = a->fd;
    pthread_mutex_lock(&a->mu);
    a->fsyncers++;
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_unlock(&s->lock);
    if (fdatasync(fd) != 0) {
        log_warn("Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                 strerror(errno));
        _exit(1);
    }
    pthread_mutex_lock(&a->mu);
    /* wake only a file switch or close waiting for us: the everysec thread
     * waits on the same condition, a broadcast per loop iteration would
     * cost it (and us) two futex calls and a context switch */
    if (--a->fsyncers == 0 && a->fd_waiters)
        pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* ---- the base file ---------------------------------------------------------- */

struct cmd_walk {
    struct buf *b;
    int fd;
    long long now_ms;
    int err;
};

static void put_args(struct buf *b, int argc, const char *const *av, const size_t *lv)
{
    buf_printf(b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        buf_printf(b, "$%zu\r\n", lv[i]);
        buf_append(b, av[i], lv[i]);
        buf_append(b, "\r\n", 2);
    }
}

static int drain(struct cmd_walk *w, size_t above)
{
    while (buf_pending(w->b) > above) {
        ssize_t n = write(w->fd, buf_head(w->b), buf_pending(w->b));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf_consume(w->b, (size_t)n);
    }
    return 0;
}

/* Each key as RESTORE key <absolute expire or 0> <DUMP payload> ABSTTL: a
 * command file redis-server loads as well. */
static void put_key(struct dict_node *n, void *arg)
{
    struct cmd_walk *w = arg;
    struct kv_obj *o = (struct kv_obj *)n;
    if (w->err || (obj_has_ttl(o) && obj_expire(o) < w->now_ms)) /* past its time: as lookups (db.c) */
        return;
    struct buf dump;
    buf_init(&dump);
    kv_rdb_dump(o, &dump, true);
    char num[32];
    const char *av[5] = {"RESTORE", obj_key(o), num, buf_head(&dump), "ABSTTL"};
    size_t lv[5] = {7, obj_klen(o), (size_t)snprintf(num, sizeof num, "%lld", obj_has_ttl(o) ? obj_expire(o) : 0),
                    buf_pending(&dump), 6};
    put_args(w->b, 5, av, lv);
    buf_deinit(&dump);
    if (drain(w, 1 << 16) != 0)
        w->err = errno ? errno : EIO;
}

/* FUNCTION LOAD <code> for a library, as Redis's rewrite writes them (first). */
static void put_function_cmd(void *arg, const char *code, size_t len)
{
    const char *av[3] = {"FUNCTION", "LOAD", code};
    size_t lv[3] = {8, 4, len};
    put_args(arg, 3, av, lv);
}

/* Write the libraries and the keyspace as commands into dir/name (temp file, fsync, rename). */
static int write_cmd_base(struct kv_server *s, const char *dir, const char *name, struct kv_db *const *dbs, int ndbs,
                          char *err, size_t errlen)
{
    char tmp[4700], dst[4700];
    snprintf(tmp, sizeof tmp, "%s/temp-rewriteaof-%d.aof", dir, (int)getpid());
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "can't open %.400s: %.400s", tmp, strerror(errno));
        return -1;
    }
    struct buf b;
    buf_init(&b);
    struct cmd_walk w = {&b, fd, util_time_ms(), 0};
    kv_fn_foreach_code(s, put_function_cmd, &b);
    for (int i = 0; i < ndbs && !w.err; i++) {
        if (db_size(dbs[i]) == 0)
            continue;
        char num[16];
        const char *av[2] = {"SELECT", num};
        size_t lv[2] = {6, (size_t)snprintf(num, sizeof num, "%d", i)};
        put_args(&b, 2, av, lv);
        kv_dict_foreach((struct dict *)&dbs[i]->d, put_key, &w);
    }
    if (!w.err && drain(&w, 0) != 0)
        w.err = errno ? errno : EIO;
    buf_deinit(&b);
    if (!w.err && fsync(fd) != 0)
        w.err = errno;
    close(fd);
    if (!w.err && rename(tmp, dst) != 0)
        w.err = errno;
    if (w.err) {
        snprintf(err, errlen, "writing %.400s: %.400s", dst, strerror(w.err));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int write_base(struct kv_server *s, const char *dir, int seq, bool rdb, char *err, size_t errlen)
{
    char name[512];
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    base_name(s, seq, rdb, name, sizeof name);
    if (!rdb)
        return write_cmd_base(s, dir, name, dbs, n, err, errlen);
    struct kv_rdb_save_opts o = {.compress = s->cfg.rdbcompression,
                                 .checksum = s->cfg.rdbchecksum,
                                 .now_ms = util_time_ms(),
                                 .used_mem = xalloc_used(),
                                 .key_delay_us = s->cfg.rdb_key_save_delay,
                                 .hints = KV_RDB_HINT_NONE,
                                 .fn_each = kv_fn_rdb_each,
                                 .fn_arg = s};
    return kv_rdb_save_file(dir, name, dbs, n, &o, err, errlen);
}

/* ---- open, rewrite, close ----------------------------------------------------- */

static struct kv_aof *aof_new(struct kv_server *s)
{
    struct kv_aof *a = xcalloc(1, sizeof *a);
    dir_path(s, a->dir, sizeof a->dir);
    a->fd = -1;
    a->child = -1;
    a->last_rw_secs = -1;
    a->last_rw_ok = a->last_write_ok = true;
    buf_init(&a->buf);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (mkdir(a->dir, 0755) != 0 && errno != EEXIST)
        log_warn("Can't create the AOF directory %s: %s", a->dir, strerror(errno));
    return a;
}

static void start_thread(struct kv_aof *a)
{
    if (!a->thr_on && pthread_create(&a->thr, NULL, fsync_thread, a) == 0)
        a->thr_on = true;
}

static int max_seq(const struct kv_aof *a)
{
    int m = a->base_seq;
    for (int i = 0; i < a->nincr; i++)
        if (a->incr[i] > m)
            m = a->incr[i];
    return m;
}

int kv_aof_open(struct kv_server *s)
{
    kv_prop_add_buf(s, aof_buf, s);
    if (!s->cfg.appendonly)
        return 0;
    struct kv_aof *a = aof_new(s);
    char err[1024], name[512];
    int r = read_manifest(s, a, err, sizeof err);
    if (r < 0) {
        log_warn("%s", err);
        return -1;
    }
    if (r == 0 || a->base_seq == 0) {
        /* no AOF yet: the base is the keyspace as loaded (from the RDB) */
        int seq = max_seq(a) + 1;
        if (write_base(s, a->dir, seq, s->cfg.aof_use_rdb_preamble, err, sizeof err) != 0) {
            log_warn("Can't create the AOF base file: %s", err);
            fprintf(stderr, "scaleout kv: can't create the AOF base file: %s\n", err);
            return -1;
        }
        a->base_seq = seq;
        a->base_rdb = s->cfg.aof_use_rdb_preamble;
        a->nincr = 1;
        a->incr[0] = seq;
        base_name(s, seq, a->base_rdb, name, sizeof name);
        log_notice("Creating AOF base file %s on server start", name);
        if (write_manifest(s, a) != 0)
            return -1;
    }
    base_name(s, a->base_seq, a->base_rdb, name, sizeof name);
    a->base_size = file_size(a->dir, name);
    if (a->nincr == 0) {
        a->incr[a->nincr++] = max_seq(a) + 1;
        if (write_manifest(s, a) != 0)
            return -1;
    }
    if (open_incr(s, a, a->incr[a->nincr - 1]) != 0)
        return -1;
    a->rewrite_base = a->cur_size;
    s->aof = a;
    s->aof_hold = true;
    start_thread(a);
    return 0;
}

bool kv_aof_rewriting(const struct kv_server *s) { return s->aof && s->aof->child > 0; }

void kv_aof_after_full_sync(struct kv_server *s)
{
    if (s->aof)
        s->aof->scheduled = true; /* the cron starts the rewrite (as Redis after a full sync) */
}

/* Start a rewrite: new incr file, then a child writing the new base. */
static int rewrite_start(struct kv_server *s, char *err, size_t errlen)
{
    struct kv_aof *a = s->aof;
    kv_aof_flush(s);
    int seq = max_seq(a) + 1;
    if (a->incr_seq >= seq)
        seq = a->incr_seq + 1;
    if (a->nincr == MAX_INCR) {
        snprintf(err, errlen, "too many AOF incr files");
        return -1;
    }
    if (open_incr(s, a, seq) != 0) {
        snprintf(err, errlen, "can't open a new AOF incr file");
        return -1;
    }
    a->incr[a->nincr++] = seq;
    a->keep_from = seq;
    if (!a->enabling && write_manifest(s, a) != 0) {
        snprintf(err, errlen, "can't write the AOF manifest");
        return -1;
    }
    a->new_base_seq = seq;
    a->new_base_rdb = s->cfg.aof_use_rdb_preamble;
    int n;
    kv_persist_dbs(s, &n); /* the array is made before the fork */
    long long t0 = util_mono_us();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %.400s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        char e[1024];
        int rc = write_base(s, a->dir, a->new_base_seq, a->new_base_rdb, e, sizeof e);
        if (rc != 0) {
            fprintf(stderr, "AOF rewrite child: %s\n", e);
            _exit(1);
        }
        _exit(0);
    }
    s->latest_fork_usec = util_mono_us() - t0;
    a->child = (int)pid;
    a->rw_start_ms = util_time_ms();
    a->scheduled = false;
    log_notice("Background append only file rewriting started by pid %d", (int)pid);
    return 0;
}

static void remove_file(const char *dir, const char *name)
{
    char path[4700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void rewrite_done(struct kv_server *s, bool ok)
{
    struct kv_aof *a = s->aof;
    char name[512];
    a->child = -1;
    a->last_rw_secs = (util_time_ms() - a->rw_start_ms) / 1000;
    if (!ok) {
        log_warn("Background AOF rewrite failed");
        a->last_rw_ok = false;
        a->consecutive_failures++;
        a->last_fail_ms = util_time_ms();
        base_name(s, a->new_base_seq, a->new_base_rdb, name, sizeof name);
        remove_file(a->dir, name);
        return;
    }
    /* the new manifest: new base + the incr files opened since the fork */
    struct kv_aof old = *a;
    a->base_seq = a->new_base_seq;
    a->base_rdb = a->new_base_rdb;
    int k = 0;
    for (int i = 0; i < a->nincr; i++)
        if (a->incr[i] >= a->keep_from)
            a->incr[k++] = a->incr[i];
    a->nincr = k;
    if (write_manifest(s, a) != 0) {
        /* the old manifest still stands: keep its view */
        a->base_seq = old.base_seq;
        a->base_rdb = old.base_rdb;
        memcpy(a->incr, old.incr, sizeof a->incr);
        a->nincr = old.nincr;
        a->last_rw_ok = false;
        a->consecutive_failures++;
        a->last_fail_ms = util_time_ms();
        return;
    }
    /* history: the files the manifest no longer names */
    if (old.base_seq && (old.base_seq != a->base_seq || old.base_rdb != a->base_rdb)) {
        base_name(s, old.base_seq, old.base_rdb, name, sizeof name);
        remove_file(a->dir, name);
    }
    for (int i = 0; i < old.nincr; i++) {
        if (old.incr[i] < a->keep_from) {
            incr_name(s, old.incr[i], name, sizeof name);
            remove_file(a->dir, name);
        }
    }
    base_name(s, a->base_seq, a->base_rdb, name, sizeof name);
    a->base_size = file_size(a->dir, name);
    incr_name(s, a->incr_seq, name, sizeof name);
    a->cur_size = a->base_size + file_size(a->dir, name) + buf_pending(&a->buf);
    a->rewrite_base = a->cur_size;
    a->enabling = false;
    a->last_rw_ok = true;
    a->consecutive_failures = 0;
    a->rewrites++;
    log_notice("Background AOF rewrite terminated with success");
    log_notice("Background AOF rewrite finished successfully");
}

static void kill_child(struct kv_aof *a)
{
    if (a->child <= 0)
        return;
    int st;
    kill(a->child, SIGUSR1);
    waitpid(a->child, &st, 0);
    a->child = -1;
}

void kv_aof_cron(struct kv_server *s)
{
    struct kv_aof *a = s->aof;
    if (!a)
        return;
    if (s->cfg.appendfsync != KV_FSYNC_ALWAYS && a->fd >= 0)
        write_lazy(s, a); /* a postponed write too */
    else
        kv_aof_flush(s);
    if (a->child > 0) {
        int st;
        pid_t r = waitpid(a->child, &st, WNOHANG);
        if (r == a->child)
            rewrite_done(s, WIFEXITED(st) && WEXITSTATUS(st) == 0);
        else if (r < 0 && errno == ECHILD)
            rewrite_done(s, false);
        return;
    }
    long long now = util_time_ms();
    bool retry = a->enabling && now - a->last_fail_ms > RETRY_SECS * 1000;
    /* auto-aof-rewrite-percentage / -min-size, as Redis */
    uint64_t base = a->rewrite_base ? a->rewrite_base : 1;
    if (!a->scheduled && s->cfg.auto_aof_rewrite_percentage > 0 && a->cur_size > s->cfg.auto_aof_rewrite_min_size &&
        (a->cur_size - base) * 100 / base >= (uint64_t)s->cfg.auto_aof_rewrite_percentage &&
        now - a->last_fail_ms > RETRY_SECS * 1000) {
        log_notice("Starting automatic rewriting of AOF on %llu%% growth",
                   (unsigned long long)((a->cur_size - base) * 100 / base));
        a->scheduled = true;
    }
    if ((a->scheduled && s->bgsave_pid <= 0) || retry) {
        char err[256];
        if (rewrite_start(s, err, sizeof err) != 0) {
            log_warn("AOF rewrite: %s", err);
            a->last_fail_ms = now;
        }
    }
}

static void aof_close(struct kv_server *s)
{
    struct kv_aof *a = s->aof;
    if (!a)
        return;
    kill_child(a);
    if (a->fd >= 0) {
        write_all(s, a);
        (void)fdatasync(a->fd);
    }
    pthread_mutex_lock(&a->mu);
    a->fd_waiters++;
    while (a->fsyncers) /* a worker still syncs fd (kv_aof_fsync) */
        pthread_cond_wait(&a->cv, &a->mu);
    a->fd_waiters--;
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->thr_on)
        pthread_join(a->thr, NULL);
    if (a->fd >= 0)
        close(a->fd);
    buf_deinit(&a->buf);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    xfree(a);
    s->aof = NULL;
    s->aof_hold = false;
}

void kv_aof_shutdown(struct kv_server *s)
{
    if (!s->aof)
        return;
    if (s->aof->child > 0)
        log_warn("There is a child rewriting the AOF. Killing it!");
    kill_child(s->aof);
    if (s->aof->fd >= 0) {
        write_all(s, s->aof);
        (void)fdatasync(s->aof->fd);
    }
}

void kv_aof_free(struct kv_server *s) { aof_close(s); }

static void aof_apply(struct kv_server *s);

void kv_aof_apply(struct kv_server *s)
{
    aof_apply(s);
    s->aof_hold = s->aof != NULL;
}

static void aof_apply(struct kv_server *s)
{
    if (!s->prop)
        return; /* start-up: kv_aof_open decides */
    if (!s->cfg.appendonly && s->aof) {
        log_notice("AOF turned off (CONFIG SET appendonly no)");
        aof_close(s);
        return;
    }
    if (!s->cfg.appendonly || s->aof)
        return;
    struct kv_aof *a = aof_new(s);
    char err[1024];
    if (read_manifest(s, a, err, sizeof err) < 0) {
        a->base_seq = 0;
        a->nincr = 0;
    }
    /* the files of an older AOF stay until the new manifest replaces them */
    a->enabling = true;
    s->aof = a;
    if (rewrite_start(s, err, sizeof err) != 0) {
        log_warn("AOF: can't start the first rewrite: %s (retrying)", err);
        a->last_fail_ms = util_time_ms();
    }
    start_thread(a);
    log_notice("AOF turned on (CONFIG SET appendonly yes): rewriting in the background");
}

void kv_aof_info(struct kv_server *s, struct buf *o)
{
    struct kv_aof *a = s->aof;
    long long now = util_time_ms();
    buf_printf(o, "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\n", a != NULL,
               a && a->child > 0, a && a->scheduled);
    buf_printf(o, "aof_last_rewrite_time_sec:%lld\r\naof_current_rewrite_time_sec:%lld\r\n", a ? a->last_rw_secs : -1,
               a && a->child > 0 ? (now - a->rw_start_ms) / 1000 : -1);
    buf_printf(o, "aof_last_bgrewrite_status:%s\r\naof_rewrites:%llu\r\naof_rewrites_consecutive_failures:%llu\r\n",
               !a || a->last_rw_ok ? "ok" : "err", a ? (unsigned long long)a->rewrites : 0ULL,
               a ? (unsigned long long)a->consecutive_failures : 0ULL);
    buf_printf(o, "aof_last_write_status:%s\r\n", !a || a->last_write_ok ? "ok" : "err");
    if (a)
        buf_printf(o,
                   "aof_current_size:%llu\r\naof_base_size:%llu\r\naof_pending_rewrite:%d\r\naof_buffer_length:%zu\r\n"
                   "aof_pending_bio_fsync:%d\r\naof_delayed_fsync:%llu\r\n",
                   (unsigned long long)a->cur_size, (unsigned long long)a->base_size, a->scheduled,
                   buf_pending(&a->buf), atomic_load(&a->syncing) ? 1 : 0, (unsigned long long)a->delayed_fsync);
}

/* ---- BGREWRITEAOF ------------------------------------------------------------ */

void kv_cmd_BGREWRITEAOF(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    struct kv_server *s = c->srv;
    struct kv_aof *a = s->aof;
    if (!a) {
        /* as Redis with appendonly no: a one-off rewrite is not kept; say so */
        kv_reply_error(c, "ERR Background AOF rewrite needs appendonly yes");
        return;
    }
    if (a->child > 0) {
        kv_reply_error(c, "ERR Background append only file rewriting already in progress");
        return;
    }
    if (s->bgsave_pid > 0) {
        a->scheduled = true;
        resp_add_simple(&c->out, "Background append only file rewriting scheduled", 47);
        return;
    }
    char err[256];
    if (rewrite_start(s, err, sizeof err) != 0) {
        kv_reply_errorf(c, "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
                           "information. (%s)",
                        err);
        return;
    }
    resp_add_simple(&c->out, "Background append only file rewriting started", 45);
}
