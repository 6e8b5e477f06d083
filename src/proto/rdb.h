/*
 * rdb.h — Redis's RDB serialization format (version 10, as Redis 7.0 writes
 * it): the building blocks shared by snapshot files, DUMP payloads and (later)
 * replication. Knows bytes, not keyspaces: kv/rdb.c maps its objects onto
 * these calls.
 *
 *   file    "REDIS0010" aux* (SELECTDB RESIZEDB (EXPIRETIME_MS? type key value)*)* EOF crc64
 *   DUMP    type value version(2, LE) crc64(8, LE over everything before)
 *
 * Writer: appends to a struct buf; with an fd it flushes every 64 KB and keeps
 * the running CRC. Reader: a bounded cursor over bytes in memory; every get
 * checks the remaining length, the first failure records its offset and a
 * reason and makes every later get fail too, so a loader checks once per
 * object. Nothing here allocates more than the input can justify (a string
 * is at most the bytes left, an LZF string at most 100x its compressed size).
 */
#ifndef SCALEOUT_PROTO_RDB_H
#define SCALEOUT_PROTO_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define RDB_VERSION 10

/* value types */
enum {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_MODULE = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
    RDB_TYPE_STREAM_LISTPACKS_3 = 21, /* Redis 7.2: consumers with an active time */
};

/* opcodes */
enum {
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_FUNCTION = 246,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,
    RDB_OPCODE_FREQ = 249,
    RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251,
    RDB_OPCODE_EXPIRETIME_MS = 252,
    RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

/* quicklist 2 node containers */
enum { RDB_QL_PLAIN = 1, RDB_QL_PACKED = 2 };

/* ---- writer --------------------------------------------------------------- */

struct rdb_writer {
    struct buf b;
    int fd;             /* -1: keep everything in b */
    bool compress;      /* LZF for strings over 20 bytes (rdbcompression) */
    uint64_t crc;       /* CRC64 of the bytes already flushed to fd */
    uint64_t written;   /* bytes flushed to fd */
    int err;            /* errno of the first failed write, 0 if none */
};

void rdb_writer_init(struct rdb_writer *w, int fd, bool compress);
void rdb_writer_deinit(struct rdb_writer *w);
/* Flush to the fd (no-op in memory mode); 0 or -errno. */
int rdb_writer_flush(struct rdb_writer *w);
/* CRC64 of everything written so far (flushed or pending). */
uint64_t rdb_writer_crc(struct rdb_writer *w);

void rdb_put_byte(struct rdb_writer *w, uint8_t v);
void rdb_put_raw(struct rdb_writer *w, const void *p, size_t n);
void rdb_put_len(struct rdb_writer *w, uint64_t len);
/* A string: integer-encoded when it is an integer's canonical text that fits
 * 32 bits, LZF-compressed when enabled, longer than 20 bytes and smaller. */
void rdb_put_string(struct rdb_writer *w, const void *s, size_t n);
void rdb_put_ll_string(struct rdb_writer *w, long long v);
void rdb_put_u64le(struct rdb_writer *w, uint64_t v);  /* ms times, CRC */
void rdb_put_double(struct rdb_writer *w, double d);   /* binary, 8 bytes LE */

/*
 * Listpack builder (the blob inside LIST_QUICKLIST_2, HASH_LISTPACK,
 * ZSET_LISTPACK): entries appended one by one, an entry whose text is an
 * integer's canonical form stored as an integer, as Redis's lpAppend does.
 */
struct rdb_lp {
    struct buf b;
    uint32_t count;
};
void rdb_lp_init(struct rdb_lp *lp);
void rdb_lp_append(struct rdb_lp *lp, const char *s, size_t n);
void rdb_lp_append_int(struct rdb_lp *lp, long long v);
/* Finish (header, terminator): the blob is buf_head(&lp->b), buf_pending bytes. */
void rdb_lp_finish(struct rdb_lp *lp);
void rdb_lp_deinit(struct rdb_lp *lp);
/* Bytes rdb_lp_append(s, n) adds (integers counted in their encoding). */
size_t rdb_lp_entry_size(const char *s, size_t n);

/* An intset blob from sorted distinct values: into out (caller inits). */
void rdb_intset_build(struct buf *out, const int64_t *v, size_t n);

/* ---- reader --------------------------------------------------------------- */

struct rdb_reader {
    const uint8_t *p;
    size_t len, off;
    bool failed;
    size_t err_off;     /* stream offset of the failure (base + off) */
    char err[160];
    /*
     * Streaming (NULL for a whole image in memory): fill makes at least n
     * bytes available past off, appending to the window (p and len may
     * change, offsets into it stay valid); false at the end of the stream.
     * The owner may drop the bytes before off between two items (base grows
     * by what it dropped, off goes back to 0): nothing keeps a pointer into
     * the window across calls.
     */
    bool (*fill)(struct rdb_reader *r, size_t n);
    void (*drop)(struct rdb_reader *r); /* drop the bytes before off (the loader calls it between items) */
    void *fill_arg;
    size_t base;        /* stream offset of p[0] */
};

void rdb_reader_init(struct rdb_reader *r, const void *p, size_t len);
/* Record the first failure (at the current offset); returns false. */
bool rdb_fail(struct rdb_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool rdb_get_byte(struct rdb_reader *r, uint8_t *v);
bool rdb_get_raw(struct rdb_reader *r, void *out, size_t n);
/* A length; *enc is set (if non-NULL) when it is a special string encoding. */
bool rdb_get_len(struct rdb_reader *r, uint64_t *len, bool *enc);
/* A string into a new allocation (xmalloc, freed by the caller with xfree;
 * one extra NUL byte after it). Integers come back as their text. */
bool rdb_get_string(struct rdb_reader *r, char **s, size_t *n);
bool rdb_skip_string(struct rdb_reader *r);
bool rdb_get_u64le(struct rdb_reader *r, uint64_t *v);
bool rdb_get_u32le(struct rdb_reader *r, uint32_t *v);
bool rdb_get_double_bin(struct rdb_reader *r, double *d);
/* The old ZSET (type 3) score: a length byte and text; 253 nan, 254 +inf, 255 -inf. */
bool rdb_get_double_text(struct rdb_reader *r, double *d);

/*
 * Packed blobs inside a value (listpack, ziplist, intset, zipmap): each
 * iterator validates as it walks and reports an error through the reader r
 * (offsets are the blob's start in the file). An element is text (s, n) or,
 * for integer entries, formatted into the iterator's scratch buffer.
 */
struct rdb_blob_iter {
    const uint8_t *p;
    size_t len, off;
    uint32_t count;     /* elements the header claims (listpack: 65535 = unknown) */
    uint32_t seen;
    int kind;
    char num[24];
};
enum { RDB_BLOB_LISTPACK, RDB_BLOB_ZIPLIST, RDB_BLOB_INTSET, RDB_BLOB_ZIPMAP };

/* Validate the header; false (reason in r) if malformed. */
bool rdb_blob_begin(struct rdb_blob_iter *it, int kind, const void *p, size_t len, struct rdb_reader *r);
/* Next element: 1 with (s, n), 0 at the proper end, -1 on a malformed blob
 * (reason in r). For a zipmap, fields and values alternate. */
int rdb_blob_next(struct rdb_blob_iter *it, const char **s, size_t *n, struct rdb_reader *r);

/* ---- DUMP payload ---------------------------------------------------------- */

/* Append the footer (version, CRC64) to a payload built in w (memory mode). */
void rdb_dump_footer(struct rdb_writer *w);
/* Check a payload's version and CRC (as Redis's verifyDumpPayload); true if
 * good. *body_len gets the length of the object part. */
bool rdb_dump_verify(const void *p, size_t len, size_t *body_len);

#endif
