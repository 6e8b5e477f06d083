/*
 * fuzz_rdb.c — libFuzzer target for the RDB loaders: the input is loaded
 * as a whole RDB file (kv_rdb_load_mem, every type and opcode, old
 * encodings, checksum) into a fresh database, and as a DUMP payload body
 * (kv_rdb_restore, the RESTORE path after its CRC check). When the file
 * loads, it is written again and the result must load to the same key count
 * (the writer and reader agree on everything the reader accepts). The
 * input is also loaded through a streaming reader (the replica's async load:
 * bytes in chunks, parsed bytes dropped between keys, both sized from the
 * input's first bytes) and must give the same result and error as the
 * memory load.
 *
 * Any crash, leak, sanitizer report or unbounded allocation is a finding.
 * Build: make build-fuzz/fuzz_rdb; run e.g.
 *   build-fuzz/fuzz_rdb -max_len=65536 fuzz/corpus/rdb
 * (seeds: files written by redis-server 7.0 and by scaleout, DUMP payloads;
 * streams with groups, consumers and pending entries among both).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/alloc.h"
#include "fuzz_flags.h"
#include "kv/db.h"
#include "kv/rdb.h"

/* A streaming source over the input: chunk bytes at a time. */
struct src {
    const uint8_t *p;
    size_t n, pos, chunk;
    uint8_t *win;
    size_t wlen, woff, wcap;
};

static void src_sync(struct rdb_reader *r)
{
    struct src *s = r->fill_arg;
    r->p = s->win + s->woff;
    r->len = s->wlen - s->woff;
}

static bool src_fill(struct rdb_reader *r, size_t n)
{
    struct src *s = r->fill_arg;
    while (r->len - r->off < n) {
        if (s->pos == s->n)
            return false;
        size_t k = s->n - s->pos < s->chunk ? s->n - s->pos : s->chunk;
        if (s->wlen + k > s->wcap) {
            s->wcap = (s->wlen + k) * 2;
            s->win = xrealloc(s->win, s->wcap);
        }
        memcpy(s->win + s->wlen, s->p + s->pos, k);
        s->wlen += k;
        s->pos += k;
        src_sync(r);
    }
    return true;
}

static void src_drop(struct rdb_reader *r)
{
    struct src *s = r->fill_arg;
    s->woff += r->off;
    r->base += r->off;
    r->off = 0;
    src_sync(r);
}

static void check_streaming(const uint8_t *data, size_t size, int rc, const char *err, uint64_t keys)
{
    struct src s = {.p = data, .n = size, .chunk = size ? 1 + data[size - 1] % 97 : 1};
    struct rdb_reader r;
    rdb_reader_init(&r, NULL, 0);
    r.fill = src_fill;
    r.drop = src_drop;
    r.fill_arg = &s;
    src_sync(&r);
    struct kv_db db;
    struct kv_db *dbs[1] = {&db};
    struct kv_rdb_load_stats st;
    struct kv_rdb_load_opts lo = {.drop_bytes = size > 1 ? 1 + data[size - 2] % 300 : 1};
    char err2[400];
    kv_db_init(&db);
    int rc2 = kv_rdb_load_reader(&r, dbs, 1, 0, &lo, &st, err2, sizeof err2);
    if (rc2 != rc || (rc != 0 && strcmp(err, err2) != 0) || (rc == 0 && st.keys != keys)) {
        fprintf(stderr, "streaming load differs: %d '%s' vs %d '%s'\n", rc, rc ? err : "", rc2, rc2 ? err2 : "");
        abort();
    }
    kv_db_deinit(&db);
    xfree(s.win);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kv_db db;
    struct kv_db *dbs[1] = {&db};
    struct kv_rdb_load_stats st;
    char err[400];
    kv_db_init(&db);
    int rc = kv_rdb_load_mem(data, size, dbs, 1, 0, &st, err, sizeof err);
    check_streaming(data, size, rc, err, rc == 0 ? st.keys : 0);
    if (rc == 0) {
        /* write it back to a file in memory (the saver ends with fsync: on
         * a disk file that was most of the time of an input) and load that */
        static int fd = -1;
        if (fd < 0 && (fd = memfd_create("fuzz-rdb", MFD_CLOEXEC)) < 0) {
            perror("memfd_create");
            abort();
        }
        if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
            abort();
        {
            struct kv_rdb_save_opts o = {.compress = true, .checksum = true};
            if (kv_rdb_save_fd(fd, dbs, 1, &o) == 0) {
                off_t len = lseek(fd, 0, SEEK_END);
                char *img = xmalloc((size_t)len + 1);
                if (pread(fd, img, (size_t)len, 0) == len) {
                    struct kv_db db2;
                    struct kv_db *dbs2[1] = {&db2};
                    struct kv_rdb_load_stats st2;
                    kv_db_init(&db2);
                    if (kv_rdb_load_mem(img, (size_t)len, dbs2, 1, 0, &st2, err, sizeof err) != 0 ||
                        db_size(&db2) != db_size(&db)) {
                        fprintf(stderr, "rewritten image does not load back: %s\n", err);
                        abort();
                    }
                    kv_db_deinit(&db2);
                }
                xfree(img);
            }
        }
    }
    kv_db_deinit(&db);
    if (size > 0) {
        struct kv_obj *o = kv_rdb_restore(data, size, "k", 1, -1);
        if (o)
            kv_obj_free(o);
    }
    return 0;
}
