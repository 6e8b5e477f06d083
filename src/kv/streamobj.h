/*
 * streamobj.h — the value of a stream key (XADD and friends): entries, and
 * the consumer groups with their pending entries lists.
 *
 * Entries live in packed nodes, as Redis's listpacks in a radix tree: a
 * sorted array of node pointers (binary search on the first id), each node
 * one allocation of at most STREAM_NODE_MAX_ENTRIES entries (deleted ones
 * included) or about STREAM_NODE_MAX_BYTES bytes:
 *
 *   node: [first id][last id][count][deleted][used][cap] buf:
 *         [nmaster][len field]...          master fields (the first entry's)
 *         [flags][ms delta][seq][values...] one record per entry
 *
 * every integer a LEB128 varint. An entry's ms is stored as a delta from the
 * node's first id; its seq as a delta from the first id's seq when the ms
 * delta is 0, else as is. When its field names equal the master's (the usual
 * case: every job carries the same fields) only its values are stored
 * (flag SAMEFIELDS), else [nfields][len field][len value]... A deleted entry
 * keeps its record with the DELETED flag until the whole node goes (XDEL,
 * trimming inside a node), as Redis does. A 3-field job entry of short values
 * costs its value bytes plus about 6 bytes.
 *
 * Consumer groups are a small array sorted by name (byte order, as Redis's
 * rax), each with a pending entries list (PEL): an array of NACKs sorted by
 * id (a removal moves the shorter side, so acks of the oldest cost O(1)),
 * and consumers (array sorted by name) that count their NACKs.
 *
 * Not thread-safe: kv runs it under the keyspace lock.
 */
#ifndef SCALEOUT_KV_STREAMOBJ_H
#define SCALEOUT_KV_STREAMOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_NODE_MAX_ENTRIES 100 /* Redis stream-node-max-entries */
#define STREAM_NODE_MAX_BYTES 4096  /* Redis stream-node-max-bytes */

struct stream_id {
    uint64_t ms, seq;
};

static inline int stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{
    if (a->ms != b->ms)
        return a->ms > b->ms ? 1 : -1;
    if (a->seq != b->seq)
        return a->seq > b->seq ? 1 : -1;
    return 0;
}
static inline bool stream_id_is_zero(const struct stream_id *a) { return a->ms == 0 && a->seq == 0; }
/* The next / previous id; false (and 0-0 / max) at the end of the space. */
bool kv_stream_id_incr(struct stream_id *id);
bool kv_stream_id_decr(struct stream_id *id);
/* "ms-seq" into dst (at least 42 bytes); returns the length. */
size_t kv_stream_id_fmt(char *dst, const struct stream_id *id);

struct stream_node;

struct stream_consumer {
    char *name;
    size_t nlen;
    long long seen_time;  /* ms of its last read or claim */
    uint64_t npel;        /* its NACKs in the group's PEL */
};

struct stream_nack {
    struct stream_id id;
    long long delivery_time;   /* ms */
    uint64_t delivery_count;
    struct stream_consumer *consumer;
};

#define STREAM_ENTRIES_READ_INVALID (-1LL)

struct stream_cg {
    char *name;
    size_t nlen;
    struct stream_id last_id;
    long long entries_read;    /* STREAM_ENTRIES_READ_INVALID: unknown */
    struct stream_nack *pel;   /* sorted by id: npel NACKs from here */
    struct stream_nack *pel_base; /* the allocation (cappel slots); pel may
                                   * start past it: acking the oldest is O(1) */
    size_t npel, cappel;
    struct stream_consumer **consumers; /* sorted by name */
    size_t nconsumers, capconsumers;
};

struct kv_stream {
    struct stream_node **nodes;
    size_t nnodes, capnodes;
    uint64_t length;                 /* live entries */
    struct stream_id last_id;        /* the greatest id ever added (or XSETID) */
    struct stream_id max_deleted_id; /* the greatest id XDEL removed */
    uint64_t entries_added;          /* entries ever added */
    struct stream_cg **groups;       /* sorted by name */
    size_t ngroups, capgroups;
};

struct kv_stream *kv_stream_new(void);
void kv_stream_free(struct kv_stream *s);
/* A deep copy: entries, groups, consumers and PELs (COPY). */
struct kv_stream *kv_stream_dup(const struct kv_stream *s);
size_t kv_stream_memory(const struct kv_stream *s);
/* Packed nodes (tests, XINFO radix-tree-keys). */
size_t kv_stream_nodes(const struct kv_stream *s);

/* A field or value of an entry. */
struct stream_str {
    const char *p;
    size_t n;
};

/*
 * Append an entry with nfields (field, value) pairs, kv[2i] the field and
 * kv[2i+1] its value. id must be greater than s->last_id (the caller checks).
 */
void kv_stream_append(struct kv_stream *s, const struct stream_id *id, const struct stream_str *kv, size_t nfields);
/* Delete the entry with this id; true if it existed (not already deleted). */
bool kv_stream_delete(struct kv_stream *s, const struct stream_id *id);
/* The first / last live entry's id; false when the stream is empty. */
bool kv_stream_first_id(const struct kv_stream *s, struct stream_id *id);
bool kv_stream_last_valid_id(const struct kv_stream *s, struct stream_id *id);

enum { STREAM_TRIM_MAXLEN = 1, STREAM_TRIM_MINID = 2 };
/*
 * Trim from the head as Redis's streamTrim: whole nodes first; when approx,
 * only whole nodes. limit > 0 caps the entries removed. Returns the count
 * removed.
 */
uint64_t kv_stream_trim(struct kv_stream *s, int strategy, uint64_t maxlen, const struct stream_id *minid,
                     bool approx, uint64_t limit);

/* Iterator over live entries with start <= id <= end, forward or reverse. */
struct stream_iter {
    const struct kv_stream *s;
    struct stream_id start, end;
    bool rev;
    size_t node;                /* index in s->nodes */
    uint32_t pos;               /* entry index within the node */
    uint32_t n;                 /* entries decoded in offs */
    uint32_t offs[STREAM_NODE_MAX_ENTRIES + 1];
    uint64_t nm;                /* the node's master field count */
    const unsigned char *mfirst;/* its first master field */
    bool started, done;
    /* the current entry */
    const unsigned char *fp;    /* next field/value to read */
    const unsigned char *mp;    /* next master field (SAMEFIELDS) */
    bool same;
    uint64_t nfields, fread;
};

void kv_stream_iter_init(struct stream_iter *it, const struct kv_stream *s, const struct stream_id *start,
                      const struct stream_id *end, bool rev);
/* The next entry: true with *id and *nfields set, false at the end. */
bool kv_stream_iter_next(struct stream_iter *it, struct stream_id *id, uint64_t *nfields);
/* The next (field, value) pair of the current entry. */
void kv_stream_iter_field(struct stream_iter *it, struct stream_str *f, struct stream_str *v);

/* ---- raw nodes (RDB: one node is one Redis listpack) ---- */

struct kv_stream_node_view {
    struct stream_id master;    /* the node's master id (Redis's rax key) */
    uint32_t count, deleted;    /* records, deleted ones included */
    uint64_t nmaster;           /* master fields, read with kv_stream_raw_str */
    const unsigned char *mfields;
    const unsigned char *recs;  /* the first record, for kv_stream_raw_rec */
};
struct kv_stream_raw_rec {
    bool deleted, same;         /* same: the master's field names, values only */
    struct stream_id id;
    uint64_t nfields;
    const unsigned char *fields;/* same: nfields values, else nfields (field, value) */
};
void kv_stream_node_view(const struct kv_stream *s, size_t i, struct kv_stream_node_view *v);
/* Decode the record at p; returns the next record. */
const unsigned char *kv_stream_raw_rec(const struct kv_stream_node_view *v, const unsigned char *p, struct kv_stream_raw_rec *r);
/* Decode one string at p; returns what follows it. */
const unsigned char *kv_stream_raw_str(const unsigned char *p, struct stream_str *out);

/*
 * Loading: start a node at the end (master id greater than every id so far),
 * then add its records in id order (each >= master, > the previous). A node
 * left with no live record is dropped; length, last_id, entries_added are
 * the caller's to set. Returns false when the node is full
 * (STREAM_NODE_MAX_ENTRIES records): start another.
 */
void kv_stream_load_node(struct kv_stream *s, const struct stream_id *master, const struct stream_str *mfields,
                      size_t nmaster);
bool kv_stream_load_rec(struct kv_stream *s, bool deleted, const struct stream_id *id, const struct stream_str *kv,
                     size_t nfields);
/* Drop the tail node if it holds no live record. */
void kv_stream_load_node_end(struct kv_stream *s);

/* ---- consumer groups ---- */

struct stream_cg *kv_stream_cg_find(const struct kv_stream *s, const char *name, size_t nlen);
/* NULL when a group of that name exists. */
struct stream_cg *kv_stream_cg_create(struct kv_stream *s, const char *name, size_t nlen, const struct stream_id *id,
                                   long long entries_read);
bool kv_stream_cg_destroy(struct kv_stream *s, const char *name, size_t nlen);

struct stream_consumer *kv_stream_consumer_find(const struct stream_cg *g, const char *name, size_t nlen);
/* NULL when it exists already. */
struct stream_consumer *kv_stream_consumer_create(struct stream_cg *g, const char *name, size_t nlen, long long now);
/* Delete a consumer and its NACKs; returns how many it had pending. */
uint64_t kv_stream_consumer_delete(struct stream_cg *g, struct stream_consumer *c);

/* The NACK of id in the group's PEL, or NULL. */
struct stream_nack *kv_stream_pel_find(const struct stream_cg *g, const struct stream_id *id);
/* Index of the first NACK with id >= *id. */
size_t kv_stream_pel_lower_bound(const struct stream_cg *g, const struct stream_id *id);
/* Add a NACK (id not yet in the PEL) owned by c (NULL: nobody yet); returns it (valid until the next PEL change). */
struct stream_nack *kv_stream_pel_add(struct stream_cg *g, const struct stream_id *id, struct stream_consumer *c,
                                   long long now);
/* Remove the NACK at index i (its consumer's count drops). */
void kv_stream_pel_remove_at(struct stream_cg *g, size_t i);
/* Give a NACK to another consumer. */
void kv_stream_nack_set_owner(struct stream_nack *n, struct stream_consumer *c);

/* Redis's streamEstimateDistanceFromFirstEverEntry: -1 when unknown. */
long long kv_stream_estimate_distance(const struct kv_stream *s, const struct stream_id *id);
/* Redis's streamRangeHasTombstones (start NULL: from 0-0; end NULL: to the max). */
bool kv_stream_range_has_tombstones(const struct kv_stream *s, const struct stream_id *start,
                                 const struct stream_id *end);

#endif
