/*
 * persist.h — RDB snapshots of the kv keyspace: SAVE, BGSAVE (fork), save
 * schedules, load on start, SHUTDOWN's save, the MISCONF guard, INFO
 * persistence, and DUMP/RESTORE (t_persist.c; the format is kv/rdb.h).
 */
#ifndef SCALEOUT_KV_PERSIST_H
#define SCALEOUT_KV_PERSIST_H

#include <stdbool.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "kv/types.h"

/* Everything a snapshot covers: every database in number order (lock
 * held), *n of them. The array is the server's (allocated on the first call,
 * so that a forked child never allocates it); databases not selected get the
 * selected one's clock and LFU settings, so that loading into them stamps
 * keys as in the selected one. Inline here: aof.c, repl.c and replica.c,
 * which t_persist.c calls, use it too (no file pair calling each other). */
static inline struct kv_db **kv_persist_dbs(struct kv_server *s, int *n)
{
    if (!s->persist_dbs)
        s->persist_dbs = xmalloc(sizeof *s->persist_dbs * (size_t)s->ndbs);
    for (int i = 0; i < s->ndbs; i++) {
        struct kv_db *db = kv_db_get(s, i);
        if (db != &s->db) {
            db->now_ms = s->db.now_ms;
            db->lfu_log_factor = s->db.lfu_log_factor;
            db->lfu_decay_time = s->db.lfu_decay_time;
        }
        s->persist_dbs[i] = db;
    }
    *n = s->ndbs;
    return s->persist_dbs;
}

/* Start-up: load dir/dbfilename if it exists. 0 ok (or no file), -1 corrupt
 * or unreadable (message logged and printed: the server must not start). */
int kv_persist_load(struct kv_server *s);
/* Cron (worker 0, lock held): reap a finished BGSAVE child, run the save
 * schedule, start a scheduled BGSAVE. */
void kv_persist_cron(struct kv_server *s);
/* db.on_modify hook: counts changes since the last save, then WATCH. */
void kv_persist_on_modify(void *arg, const char *key, size_t klen);
/* Whether a write must be refused with MISCONF (last BGSAVE failed). */
bool kv_persist_deny_write(struct kv_server *s);
extern const char kv_persist_misconf[];
/* Shutdown (lock held): stop a BGSAVE child; save when a schedule exists
 * (or force_save), unless nosave. 0, or -1 when the save failed. */
int kv_persist_shutdown(struct kv_server *s, bool force_save, bool nosave);
/* INFO persistence fields. */
void kv_persist_info(struct kv_server *s, struct buf *o);

#endif
