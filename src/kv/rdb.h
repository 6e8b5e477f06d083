/*
 * rdb.h — kv objects in Redis's RDB format: one value (DUMP/RESTORE, and
 * later replication and resharding) and whole snapshot files (SAVE, BGSAVE,
 * load on start). The byte-level format is proto/rdb.h; this file maps kv's
 * types onto it:
 *
 *   kv type / encoding      written as                  also read
 *   string                  STRING (int / LZF / raw)     -
 *   list                    LIST_QUICKLIST_2 (listpacks) LIST, LIST_ZIPLIST, LIST_QUICKLIST
 *   set intset / hashtable  SET_INTSET / SET             -
 *   hash packed / dict      HASH_LISTPACK / HASH         HASH_ZIPMAP, HASH_ZIPLIST
 *   zset packed / skiplist  ZSET_LISTPACK / ZSET_2       ZSET, ZSET_ZIPLIST
 *   stream                  TODO (streams branch): see KV_RDB_STREAM_HOOK in rdb.c
 *
 * Databases: the save and load calls take an array of databases (index =
 * database number) and write one SELECTDB/RESIZEDB section per non-empty one,
 * so more databases are a longer array, not a code change here.
 *
 * Everything runs with the keyspace lock held, or in a BGSAVE child (no
 * lock: the child has its own copy of memory).
 */
#ifndef SCALEOUT_KV_RDB_H
#define SCALEOUT_KV_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "kv/db.h"
#include "proto/rdb.h"

struct kv_server;

/* Write o's value: type byte then the value (no key). */
void kv_rdb_put_value(struct rdb_writer *w, const struct kv_obj *o);

/*
 * Read a value of `type` (already read) for key into a new object with the
 * given expire time (-1 none). NULL on error (reason in r) or when the value
 * is an empty collection (*empty set, r not failed: Redis skips those keys).
 */
struct kv_obj *kv_rdb_get_value(struct rdb_reader *r, int type, const char *key, size_t klen, long long expire_ms,
                                bool *empty);

/* DUMP payload of o into out (appended); compress: rdbcompression, which
 * applies to DUMP too in Redis. */
void kv_rdb_dump(const struct kv_obj *o, struct buf *out, bool compress);
/* Object from a DUMP payload body (footer already verified and cut off);
 * NULL when malformed, empty, or not all bytes were used. */
struct kv_obj *kv_rdb_restore(const void *p, size_t len, const char *key, size_t klen, long long expire_ms);

struct kv_rdb_save_opts {
    bool compress;      /* rdbcompression */
    bool checksum;      /* rdbchecksum: else the CRC is written as 0 */
    long long now_ms;   /* ctime aux field */
    uint64_t used_mem;  /* used-mem aux field */
    long long key_delay_us; /* sleep per key (rdb-key-save-delay; tests) */
    int hints;          /* KV_RDB_HINT_*: eviction hints written per key, as Redis */
    /* FUNCTION LOAD libraries (FUNCTION2 opcode): fn_each(fn_arg, cb, arg)
     * calls cb with each library's code (kv_fn_rdb_each in function.h, for
     * a server); NULL: none written */
    void (*fn_each)(void *fn_arg, void (*cb)(void *arg, const char *code, size_t len), void *arg);
    void *fn_arg;
    bool repl_info;     /* write the repl-stream-db, repl-id and repl-offset aux fields (full sync) */
    int repl_stream_db; /* the database the replication stream is in after this snapshot */
    const char *repl_id;
    long long repl_offset;
};

enum {
    KV_RDB_HINT_NONE = 0,
    KV_RDB_HINT_LRU = 1,  /* an LRU policy: IDLE (seconds idle) before each key */
    KV_RDB_HINT_LFU = 2,  /* an LFU policy: FREQ (the LFU counter) before each key */
};

/* Write a whole RDB file to fd. 0, or -errno of the failed write. */
int kv_rdb_save_fd(int fd, struct kv_db *const *dbs, int ndbs, const struct kv_rdb_save_opts *o);
/* Write path via a temporary file in its directory (temp-<pid>.rdb), fsync,
 * rename. 0 or -1 with a message in err. */
int kv_rdb_save_file(const char *dir, const char *file, struct kv_db *const *dbs, int ndbs,
                     const struct kv_rdb_save_opts *o, char *err, size_t errlen);

struct kv_rdb_load_stats {
    uint64_t keys;          /* keys loaded */
    uint64_t expired;       /* keys skipped: already expired */
    uint64_t empty;         /* keys skipped: empty collections */
    int version;
    long long ctime;        /* aux ctime, -1 if absent */
    uint64_t functions;     /* FUNCTION2 libraries met (loaded when fn_load was given) */
    int repl_stream_db;     /* aux repl-stream-db, -1 if absent */
    char repl_id[41];       /* aux repl-id, "" if absent */
    long long repl_offset;  /* aux repl-offset, -1 if absent */
    size_t consumed;        /* bytes the image took (EOF and checksum included): an AOF goes on after it */
};

/* What a load does beyond keys. */
struct kv_rdb_load_opts {
    /* load a FUNCTION2 library (replacing a same-named one): 0, or -1 with
     * the reason in err, which fails the load (kv_fn_rdb_load in function.h
     * loads into the server fn_arg); NULL: not loaded */
    int (*fn_load)(void *fn_arg, const char *code, size_t len, char *err, size_t errlen);
    void *fn_arg;
    /* fn_load NULL: each FUNCTION2 library's code goes here instead (a load
     * off the keyspace lock installs them later); NULL: skipped */
    void (*fn_code)(void *arg, const char *code, size_t len);
    /* every AUX field as read (progress reports: used-mem...); may be NULL */
    void (*aux)(void *arg, const char *k, size_t klen, const char *v, size_t vlen);
    void *arg;                /* for fn_code and aux */
    size_t drop_bytes;        /* a streaming reader drops what was parsed past this (0: 256 kB) */
    long long key_delay_us;   /* sleep per key loaded (Redis's key-load-delay; tests) */
};

/*
 * Load an RDB image into dbs (which should be empty; a key met twice is an
 * error). Keys whose TTL is before now_ms are skipped. 0 on success; -1 with
 * "offset N: reason" in err. Partially loaded keys stay in dbs on failure.
 */
int kv_rdb_load_mem(const void *p, size_t len, struct kv_db *const *dbs, int ndbs, long long now_ms,
                    struct kv_rdb_load_stats *st, char *err, size_t errlen);
/* Load a file: 0 loaded, 1 no such file, -1 error (message in err). */
/*
 * The same from a reader (streaming when r->fill is set: the loader drops
 * what it parsed between keys, so memory holds one value at a time beyond
 * the databases). Touches nothing but dbs, st and lo's callbacks: with
 * lo->fn_load NULL it may run on a thread of its own while the keyspace lock
 * is not held, into databases nobody else sees.
 */
int kv_rdb_load_reader(struct rdb_reader *r, struct kv_db *const *dbs, int ndbs, long long now_ms,
                       const struct kv_rdb_load_opts *lo, struct kv_rdb_load_stats *st, char *err, size_t errlen);
int kv_rdb_load_file(const char *path, struct kv_db *const *dbs, int ndbs, long long now_ms,
                     struct kv_rdb_load_stats *st, char *err, size_t errlen);
/* The same with options (lo NULL: as above, functions skipped). */
int kv_rdb_load_mem_ex(const void *p, size_t len, struct kv_db *const *dbs, int ndbs, long long now_ms,
                       const struct kv_rdb_load_opts *lo, struct kv_rdb_load_stats *st, char *err, size_t errlen);
int kv_rdb_load_file_ex(const char *path, struct kv_db *const *dbs, int ndbs, long long now_ms,
                        const struct kv_rdb_load_opts *lo, struct kv_rdb_load_stats *st, char *err, size_t errlen);


#endif
