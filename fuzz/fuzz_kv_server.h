/*
 * fuzz_kv_server.h — a bare kv server for the loader targets (fuzz_aof,
 * fuzz_repl): 16 databases, default configuration (but `dir`: a directory
 * of its own on tmpfs), propagation and replication state, one worker, no
 * sockets and no threads. Included by
 * one target each (static functions).
 */
#ifndef SCALEOUT_FUZZ_KV_SERVER_H
#define SCALEOUT_FUZZ_KV_SERVER_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/util.h"
#include "kv/blocking.h"
#include "kv/propagate.h"
#include "kv/pubsub.h"
#include "kv/repl.h"
#include "kv/server.h"

static struct kv_server *fz_srv;
static uv_loop_t fz_loop;

/*
 * The server's `dir`: a directory of this process on tmpfs (/dev/shm, else
 * TMPDIR or /tmp), removed at exit. A SAVE in the input (the replica runs what
 * its primary sends) wrote dump.rdb to the working directory with an fsync and
 * a rename to the disk: ~45% of fuzz_repl's time. The saver runs the same on
 * tmpfs. dump.rdb is removed at every reset, so no input can load (DEBUG
 * RELOAD) what an earlier one saved.
 */
static char fz_dir[256];

static void fz_dir_remove(void)
{
    DIR *d = opendir(fz_dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", fz_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(fz_dir);
}

static void fz_dir_make(void)
{
    const char *tmp = getenv("TMPDIR");
    const char *bases[] = {"/dev/shm", tmp && *tmp ? tmp : "/tmp", "/tmp"};
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
        snprintf(fz_dir, sizeof fz_dir, "%s/scaleout-fuzz-XXXXXX", bases[i]);
        if (mkdtemp(fz_dir)) {
            atexit(fz_dir_remove);
            return;
        }
    }
    perror("fuzz: mkdtemp");
    abort();
}

/* no dump.rdb in fz_dir */
static void fz_dir_clean(const struct kv_server *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fz_dir, s->cfg.dbfilename);
    unlink(path);
}

/*
 * The configuration every input starts from: the defaults with dir set to
 * fz_dir, built once (conf_defaults parses every default's text: 4% of
 * fuzz_repl's time when run per input). A reset copies it, with copies of
 * its strings (the only allocations a kv configuration holds: conf_free).
 */
static struct kv_config fz_cfg0;

static void fz_cfg_copy(struct kv_config *dst, const struct kv_config *src)
{
    memcpy(dst, src, sizeof *dst);
    for (const struct conf_directive *d = kv_conf_table.dirs; d->name; d++) {
        if (d->type != CONF_STRING)
            continue;
        char **f = (char **)((char *)dst + d->offset);
        *f = *f ? xstrdup(*f) : NULL;
    }
}

static void fz_setup_once(void)
{
    struct kv_server *s = fz_srv = xcalloc(1, sizeof *s);
    fz_dir_make();
    conf_defaults(&kv_conf_table, &fz_cfg0);
    xfree(fz_cfg0.dir);
    fz_cfg0.dir = xstrdup(fz_dir);
    fz_cfg_copy(&s->cfg, &fz_cfg0);
    pthread_mutex_init(&s->lock, NULL);
    kv_db_init(&s->db);
    s->ndbs = (int)s->cfg.databases;
    s->dbs = xcalloc((size_t)s->ndbs, sizeof *s->dbs);
    for (int i = 0; i < s->ndbs; i++) {
        kv_db_init(&s->dbs[i]);
        s->dbs[i].id = i;
    }
    fz_dir_clean(s);
    s->start_ms = util_time_ms();
    s->next_client_id = 1;
    uv_loop_init(&fz_loop);
    uv_timer_init(&fz_loop, &s->cron);
    s->nworkers = 1;
    s->workers = xcalloc(1, sizeof *s->workers);
    s->workers[0].srv = s;
    s->blocking = kv_blocking_new(s, 1);
    s->pubsub = kv_pubsub_new(s, 1);
    kv_prop_init(s);
    kv_repl_init(s);
    kv_config_apply(s);
}

/* Whether flushing db would change nothing: no key, no table, no expiry
 * state (what kv_db_flush resets). */
static bool fz_db_pristine(const struct kv_db *db)
{
    return dict_size(&db->d) == 0 && !db->d.t[0].b && !db->d.t[1].b && db->volatile_keys == 0 &&
           db->avg_ttl == 0 && db->expire_cursor == 0;
}

/* Empty every database. Also at the end of each input: values hold their
 * pointers unaligned (obj_set_ptr), which LeakSanitizer does not scan, so
 * live aggregates would look leaked to libFuzzer's per-input leak check.
 * Databases the input left pristine are not selected and flushed (most
 * inputs touch one or two of the 16). */
static void fz_flush(void)
{
    struct kv_server *s = fz_srv;
    for (int i = 0; i < s->ndbs; i++) {
        if (fz_db_pristine(kv_db_get(s, i)))
            continue;
        kv_db_select(s, i);
        kv_db_flush(&s->db);
    }
    kv_db_select(s, 0);
}

/* A fresh state per input: empty databases, default configuration. */
static void fz_reset(void)
{
    struct kv_server *s = fz_srv;
    fz_flush();
    conf_free(&kv_conf_table, &s->cfg);
    fz_cfg_copy(&s->cfg, &fz_cfg0);
    fz_dir_clean(s);
    kv_config_apply(s);
    kv_db_set_now(&s->db, util_time_ms());
}

/* Not run: they fork (BGSAVE, BGREWRITEAOF), write files (SAVE, DEBUG),
 * stop the server (SHUTDOWN), or may not end (scripts); fuzz_kv and
 * fuzz_rdb cover the rest of their code. */
static bool fz_skipped(const struct resp_arg *a)
{
    static const char *const names[] = {"save",  "bgsave",     "bgrewriteaof", "shutdown", "debug",
                                        "eval",  "evalsha",    "eval_ro",      "evalsha_ro", "fcall",
                                        "fcall_ro", "function", "replicaof",   "slaveof",  "failover",
                                        "sync",  "psync",      "monitor",      "config",   "client"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (util_strieq(a->ptr, a->len, names[i]))
            return true;
    return false;
}

#endif
