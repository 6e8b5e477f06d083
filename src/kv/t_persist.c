/*
 * t_persist.c — RDB snapshots and DUMP/RESTORE (see persist.h, rdb.h).
 *
 * BGSAVE forks. The fork happens inside a command handler or the cron, that
 * is with the keyspace lock held by the forking thread: the child's copy of
 * the keyspace is the state between two command batches, consistent whatever
 * the other worker threads were doing (they only touch the keyspace under
 * that lock, and the child has only the forking thread). The child never
 * returns to libuv: it resets the signals libuv handles (their handlers would
 * write into the parent's signal pipe), writes temp-<pid>.rdb, renames it over
 * dbfilename and _exits; an error text goes back through a pipe. glibc's
 * malloc is fork-safe, and the child takes no other lock. The parent keeps
 * serving; the cron (worker 0) reaps the child with waitpid(WNOHANG).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "kv/aof.h"
#include "kv/blocking.h"
#include "kv/evict.h"
#include "kv/multi.h"
#include "kv/function.h"
#include "kv/persist.h"
#include "kv/rdb.h"
#include "kv/repl.h"
#include "kv/reply.h"

const char kv_persist_misconf[] =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report errors "
    "during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs "
    "for details about the RDB error.";

#define BGSAVE_RETRY_SECS 5 /* Redis's CONFIG_BGSAVE_RETRY_DELAY */

static void save_opts(struct kv_server *s, struct kv_rdb_save_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fn_each = kv_fn_rdb_each; /* FUNCTION libraries, as Redis */
    o->fn_arg = s;
    o->compress = s->cfg.rdbcompression;
    o->checksum = s->cfg.rdbchecksum;
    o->now_ms = util_time_ms();
    o->used_mem = xalloc_used();
    o->key_delay_us = s->cfg.rdb_key_save_delay;
    o->hints = s->policy == &kv_policy_allkeys_lru || s->policy == &kv_policy_volatile_lru ? KV_RDB_HINT_LRU
               : s->policy == &kv_policy_allkeys_lfu || s->policy == &kv_policy_volatile_lfu ? KV_RDB_HINT_LFU
                                                                                            : KV_RDB_HINT_NONE;
}

static void rdb_path(struct kv_server *s, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".", s->cfg.dbfilename);
}

void kv_persist_on_modify(void *arg, const char *key, size_t klen)
{
    struct kv_server *s = arg;
    s->dirty++;
    kv_blocking_on_modify(arg, key, klen); /* WATCH, then the key's blocked waiters */
}

bool kv_persist_deny_write(struct kv_server *s)
{
    return s->cfg.stop_writes_on_bgsave_error && s->cfg.save.n > 0 && !s->last_bgsave_ok;
}

int kv_persist_load(struct kv_server *s)
{
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    char path[4096], err[600];
    struct kv_rdb_load_stats st;
    rdb_path(s, path, sizeof path);
    s->last_bgsave_ok = true;
    s->bgsave_pid = -1;
    s->bgsave_errfd = -1;
    s->last_bgsave_secs = -1;
    s->lastsave = util_time_ms() / 1000;
    long long t0 = util_mono_us();
    struct kv_rdb_load_opts lo = {.fn_load = kv_fn_rdb_load, .fn_arg = s};
    int rc = kv_rdb_load_file_ex(path, dbs, n, util_time_ms(), &lo, &st, err, sizeof err);
    s->dirty = 0;
    if (rc == 1)
        return 0;
    if (rc < 0) {
        log_warn("Short read or corrupt RDB, refusing to start: %s", err);
        fprintf(stderr, "scaleout kv: cannot load the RDB file: %s\n", err);
        return -1;
    }
    log_notice("DB loaded from disk: %s, %llu keys (%llu expired, %llu empty skipped), RDB version %d, %.3f seconds",
               path, (unsigned long long)st.keys, (unsigned long long)st.expired, (unsigned long long)st.empty,
               st.version, (double)(util_mono_us() - t0) / 1e6);
    return 0;
}

/* Synchronous save (SAVE, SHUTDOWN). 0 or -1 (logged). */
static int save_now(struct kv_server *s)
{
    struct kv_rdb_save_opts o;
    char err[600];
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    save_opts(s, &o);
    if (kv_rdb_save_file(s->cfg.dir, s->cfg.dbfilename, dbs, n, &o, err, sizeof err) != 0) {
        log_warn("%s", err);
        return -1;
    }
    log_notice("DB saved on disk");
    s->dirty = 0;
    s->lastsave = o.now_ms / 1000;
    s->last_bgsave_ok = true;
    s->rdb_saves++;
    return 0;
}

/* Fork a BGSAVE child. 0 started, -1 fork failed (logged). */
static int bgsave_start(struct kv_server *s)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        pfd[0] = pfd[1] = -1;
    s->last_bgsave_try = util_time_ms() / 1000;
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n); /* before the fork: the child allocates nothing of it */
    long long t0 = util_mono_us();
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("Can't save in background: fork: %s", strerror(errno));
        if (pfd[0] >= 0) {
            close(pfd[0]);
            close(pfd[1]);
        }
        s->last_bgsave_ok = false;
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        if (pfd[0] >= 0)
            close(pfd[0]);
        struct kv_rdb_save_opts o;
        char err[600];
        save_opts(s, &o);
        int rc = kv_rdb_save_file(s->cfg.dir, s->cfg.dbfilename, dbs, n, &o, err, sizeof err);
        if (rc != 0 && pfd[1] >= 0) {
            ssize_t k = write(pfd[1], err, strlen(err));
            (void)k;
        }
        _exit(rc == 0 ? 0 : 1);
    }
    s->latest_fork_usec = util_mono_us() - t0;
    if (pfd[1] >= 0)
        close(pfd[1]);
    s->bgsave_errfd = pfd[0];
    s->bgsave_pid = (int)pid;
    s->bgsave_start_ms = util_time_ms();
    s->dirty_at_bgsave = s->dirty;
    log_notice("Background saving started by pid %d (fork: %lld us)", (int)pid, s->latest_fork_usec);
    return 0;
}

static void bgsave_done(struct kv_server *s, int status)
{
    char err[600] = "";
    if (s->bgsave_errfd >= 0) {
        ssize_t k = read(s->bgsave_errfd, err, sizeof err - 1);
        err[k > 0 ? k : 0] = '\0';
        close(s->bgsave_errfd);
        s->bgsave_errfd = -1;
    }
    long long now = util_time_ms();
    s->last_bgsave_secs = (now - s->bgsave_start_ms) / 1000;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        log_notice("Background saving terminated with success");
        s->dirty -= s->dirty_at_bgsave < s->dirty ? s->dirty_at_bgsave : s->dirty;
        s->lastsave = s->bgsave_start_ms / 1000;
        s->last_bgsave_ok = true;
        s->rdb_saves++;
    } else if (WIFSIGNALED(status)) {
        log_warn("Background saving terminated by signal %d", WTERMSIG(status));
        s->last_bgsave_ok = false;
    } else {
        log_warn("Background saving error%s%s", err[0] ? ": " : "", err);
        s->last_bgsave_ok = false;
    }
    s->bgsave_pid = -1;
}

void kv_persist_cron(struct kv_server *s)
{
    if (s->bgsave_pid > 0) {
        int status;
        pid_t r = waitpid(s->bgsave_pid, &status, WNOHANG);
        if (r == s->bgsave_pid)
            bgsave_done(s, status);
        else if (r < 0 && errno == ECHILD)
            bgsave_done(s, 1 << 8);
        if (s->bgsave_pid > 0)
            return;
    }
    long long now = util_time_ms() / 1000;
    if (s->bgsave_scheduled) {
        s->bgsave_scheduled = false;
        bgsave_start(s);
        return;
    }
    for (int i = 0; i < s->cfg.save.n; i++) {
        if (s->dirty >= (uint64_t)s->cfg.save.changes[i] && now - s->lastsave > s->cfg.save.secs[i] &&
            (s->last_bgsave_ok || now - s->last_bgsave_try > BGSAVE_RETRY_SECS)) {
            log_notice("%lld changes in %lld seconds. Saving...", s->cfg.save.changes[i], s->cfg.save.secs[i]);
            bgsave_start(s);
            return;
        }
    }
}

static void bgsave_kill(struct kv_server *s)
{
    if (s->bgsave_pid <= 0)
        return;
    int status;
    kill(s->bgsave_pid, SIGUSR1);
    waitpid(s->bgsave_pid, &status, 0);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/temp-%d.rdb", s->cfg.dir && *s->cfg.dir ? s->cfg.dir : ".", s->bgsave_pid);
    unlink(tmp);
    if (s->bgsave_errfd >= 0)
        close(s->bgsave_errfd);
    s->bgsave_errfd = -1;
    s->bgsave_pid = -1;
}

int kv_persist_shutdown(struct kv_server *s, bool force_save, bool nosave)
{
    kv_aof_shutdown(s);
    if (s->bgsave_pid > 0) {
        log_warn("There is a child saving an .rdb. Killing it!");
        bgsave_kill(s);
    }
    if (nosave || (!force_save && s->cfg.save.n == 0))
        return 0;
    log_notice("Saving the final RDB snapshot before exiting.");
    if (save_now(s) != 0) {
        log_warn("Error trying to save the DB, can't exit.");
        return -1;
    }
    return 0;
}

void kv_persist_info(struct kv_server *s, struct buf *o)
{
    long long now = util_time_ms();
    buf_printf(o, "loading:%d\r\nasync_loading:%d\r\nrdb_changes_since_last_save:%llu\r\n", kv_replica_loading(s),
               kv_replica_async_loading(s), (unsigned long long)s->dirty);
    buf_printf(o, "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n",
               s->bgsave_pid > 0 || kv_repl_sync_child_running(s), s->lastsave, s->last_bgsave_ok ? "ok" : "err");
    buf_printf(o, "rdb_last_bgsave_time_sec:%lld\r\nrdb_current_bgsave_time_sec:%lld\r\nrdb_saves:%llu\r\n",
               s->last_bgsave_secs, s->bgsave_pid > 0 ? (now - s->bgsave_start_ms) / 1000 : -1,
               (unsigned long long)s->rdb_saves);
    kv_aof_info(s, o);
    kv_replica_info_loading(s, o);
}

/* ---- commands ------------------------------------------------------------- */

/* The client's database (one today: SELECT 0-15 makes this the selected one). */
static struct kv_db *client_db(struct kv_client *c) { return &c->srv->db; }

void kv_cmd_SAVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    if (c->srv->bgsave_pid > 0) {
        kv_reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (save_now(c->srv) == 0)
        resp_add_ok(&c->out);
    else
        kv_reply_error(c, "ERR");
}

void kv_cmd_BGSAVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    bool schedule = false;
    if (argc > 1) {
        if (argc == 2 && kv_arg_is(&argv[1], "schedule")) {
            schedule = true;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    if (s->bgsave_pid > 0) {
        if (schedule) {
            s->bgsave_scheduled = true;
            resp_add_simple(&c->out, "Background saving scheduled", 27);
        } else {
            kv_reply_error(c, "ERR Background save already in progress");
        }
        return;
    }
    if (bgsave_start(s) == 0)
        resp_add_simple(&c->out, "Background saving started", 25);
    else
        kv_reply_error(c, "ERR");
}

void kv_cmd_LASTSAVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    resp_add_int(&c->out, c->srv->lastsave);
}

void kv_cmd_SHUTDOWN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    bool save = false, nosave = false, force = false, abort_ = false;
    for (int i = 1; i < argc; i++) {
        if (kv_arg_is(&argv[i], "save"))
            save = true;
        else if (kv_arg_is(&argv[i], "nosave"))
            nosave = true;
        else if (kv_arg_is(&argv[i], "force"))
            force = true;
        else if (kv_arg_is(&argv[i], "abort"))
            abort_ = true;
        else if (!kv_arg_is(&argv[i], "now")) {
            kv_reply_syntax(c);
            return;
        }
    }
    if ((save && nosave) || (abort_ && argc != 2)) {
        kv_reply_syntax(c);
        return;
    }
    if (abort_) {
        kv_reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    if (kv_persist_shutdown(c->srv, save, nosave) != 0 && !force) {
        kv_reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* no reply: the connection closes with the server, as in Redis */
    c->close_after_reply = true;
    kv_begin_shutdown(c->srv, "SHUTDOWN");
}

void kv_cmd_DUMP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj *o = db_lookup(client_db(c), argv[1].ptr, argv[1].len, 0);
    if (!o) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    struct buf b;
    buf_init(&b);
    kv_rdb_dump(o, &b, c->srv->cfg.rdbcompression);
    resp_add_bulk(&c->out, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

void kv_cmd_RESTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_db *db = client_db(c);
    bool replace = false, absttl = false;
    long long idle = -1, freq = -1, ttl;
    for (int j = 4; j < argc; j++) {
        bool more = j + 1 < argc;
        if (kv_arg_is(&argv[j], "replace")) {
            replace = true;
        } else if (kv_arg_is(&argv[j], "absttl")) {
            absttl = true;
        } else if (kv_arg_is(&argv[j], "idletime") && more && freq == -1) {
            if (!kv_arg_ll(c, &argv[j + 1], &idle))
                return;
            if (idle < 0) {
                kv_reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (kv_arg_is(&argv[j], "freq") && more && idle == -1) {
            if (!kv_arg_ll(c, &argv[j + 1], &freq))
                return;
            if (freq < 0 || freq > 255) {
                kv_reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    const char *key = argv[1].ptr;
    size_t klen = argv[1].len;
    if (!replace && db_lookup(db, key, klen, LOOKUP_WRITE | LOOKUP_NOTOUCH)) {
        kv_reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    if (!kv_arg_ll(c, &argv[2], &ttl))
        return;
    if (ttl < 0) {
        kv_reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    size_t body;
    if (!rdb_dump_verify(argv[3].ptr, argv[3].len, &body)) {
        kv_reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    long long now = db->now_ms;
    if (ttl && !absttl) {
        if (ttl > LLONG_MAX - now) {
            kv_reply_error(c, "ERR Invalid TTL value, must be >= 0");
            return;
        }
        ttl += now;
    }
    struct kv_obj *o = kv_rdb_restore(argv[3].ptr, body, key, klen, ttl ? ttl : -1);
    if (!o) {
        kv_reply_error(c, "ERR Bad data format");
        return;
    }
    if (replace)
        kv_db_delete(db, key, klen);
    if (ttl && ttl <= now) {
        kv_obj_free(o);
        resp_add_ok(&c->out);
        return;
    }
    kv_db_add(db, o);
    if (idle >= 0) {
        unsigned long long units = idle > (long long)(UINT32_MAX / 1000 * 16) ? UINT32_MAX
                                                                            : (unsigned long long)idle * 1000 / 16;
        o->lru = kv_db_lru_clock(db) - (uint32_t)(units > UINT32_MAX ? UINT32_MAX : units);
    }
    if (freq >= 0)
        o->lfu = (uint8_t)freq;
    resp_add_ok(&c->out);
}

/* RESTORE-ASKING: what a cluster node's MIGRATE sends; RESTORE here. */
void kv_cmd_RESTORE_ASKING(struct kv_client *c, int argc, struct resp_arg *argv) { kv_cmd_RESTORE(c, argc, argv); }

/* DEBUG SLEEP <seconds>: hold the server for that long (Redis's, for
 * latency tests), at most DEBUG_SLEEP_MAX_S: a request never hangs it. The
 * number is read as strtod reads it (junk is 0, as in Redis). */
#define DEBUG_SLEEP_MAX_S 10.0
static void debug_sleep(struct kv_client *c, const struct resp_arg *a)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(a->len < sizeof tmp ? a->len : sizeof tmp - 1), a->ptr);
    double secs = strtod(tmp, NULL);
    if (!(secs <= DEBUG_SLEEP_MAX_S)) {
        kv_reply_errorf(c, "ERR DEBUG SLEEP is limited to %.0f seconds", DEBUG_SLEEP_MAX_S);
        return;
    }
    if (secs > 0) {
        long long us = (long long)(secs * 1e6);
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    resp_add_ok(&c->out);
}

/* DEBUG RELOAD [NOSAVE] [NOFLUSH]: save, empty the keyspace, load the file
 * back; DEBUG SLEEP. MERGE and Redis's other DEBUG subcommands are not
 * implemented. */
void kv_cmd_DEBUG(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    if (kv_arg_is(&argv[1], "sleep") && argc == 3) {
        debug_sleep(c, &argv[2]);
        return;
    }
    if (!kv_arg_is(&argv[1], "reload")) {
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try DEBUG HELP.", (int)(argv[1].len > 128 ? 128 : argv[1].len),
                        argv[1].ptr);
        return;
    }
    bool save = true, flush = true;
    for (int i = 2; i < argc; i++) {
        if (kv_arg_is(&argv[i], "nosave")) {
            save = false;
        } else if (kv_arg_is(&argv[i], "noflush")) {
            flush = false;
        } else if (kv_arg_is(&argv[i], "merge")) {
            kv_reply_error(c, "ERR DEBUG RELOAD MERGE is not supported by scaleout");
            return;
        } else {
            kv_reply_error(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    if (save && save_now(s) != 0) {
        kv_reply_error(c, "ERR Error trying to save the DB");
        return;
    }
    int n;
    struct kv_db **dbs = kv_persist_dbs(s, &n);
    if (flush) {
        kv_watch_flush(s);
        for (int i = 0; i < n; i++)
            kv_db_flush(dbs[i]);
        kv_fn_flush(s);
    }
    char path[4096], err[600];
    struct kv_rdb_load_stats st;
    rdb_path(s, path, sizeof path);
    uint64_t dirty = s->dirty;
    struct kv_rdb_load_opts lo = {.fn_load = kv_fn_rdb_load, .fn_arg = s};
    int rc = kv_rdb_load_file_ex(path, dbs, n, util_time_ms(), &lo, &st, err, sizeof err);
    s->dirty = dirty;
    if (rc != 0) {
        log_warn("DEBUG RELOAD: %s", rc > 0 ? "no RDB file" : err);
        kv_reply_error(c, "ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    log_notice("DB reloaded by DEBUG RELOAD");
    resp_add_ok(&c->out);
}
