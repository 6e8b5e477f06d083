/*
 * fuzz_kv_server.h — a bare kv server for the loader targets (fuzz_aof,
 * fuzz_repl): 16 databases, default configuration, propagation and
 * replication state, one worker, no sockets and no threads. Included by
 * one target each (static functions).
 */
#ifndef SCALEOUT_FUZZ_KV_SERVER_H
#define SCALEOUT_FUZZ_KV_SERVER_H

#include <stdlib.h>
#include <string.h>

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

static void fz_setup_once(void)
{
    struct kv_server *s = fz_srv = xcalloc(1, sizeof *s);
    conf_defaults(&kv_conf_table, &s->cfg);
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

/* Empty every database. Also at the end of each input: values hold their
 * pointers unaligned (obj_set_ptr), which LeakSanitizer does not scan, so
 * live aggregates would look leaked to libFuzzer's per-input leak check. */
static void fz_flush(void)
{
    struct kv_server *s = fz_srv;
    for (int i = 0; i < s->ndbs; i++) {
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
    conf_defaults(&kv_conf_table, &s->cfg);
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
