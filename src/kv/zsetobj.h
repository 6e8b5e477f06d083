/*
 * zsetobj.h — the value of a sorted-set key (ZADD and friends).
 *
 * Two encodings, as Redis (OBJECT ENCODING names them the same way):
 *
 *   listpack  a small set (at most kv_zset_max_entries elements, each member at
 *             most kv_zset_max_value bytes) is one packed buffer of entries in
 *             (score, member) order, searched linearly. An entry is
 *               [kind][score bytes][member length, LEB128][member]
 *             kind 56+s for a small integer score s in -40..199 (1 byte in
 *             all), 1..8 for an integer score stored in that many bytes,
 *             0 for any other double (8 bytes). A leaderboard entry with a
 *             10-byte member and score 4242 is 14 bytes (Redis's listpack: 16).
 *   skiplist  past either limit it converts, once, to Redis's skiplist with
 *             spans (ranks in O(log n)) plus a dict from member to node. Node,
 *             member and dict link are one allocation: the level array sits
 *             before the node header and the member right after it; each
 *             forward link carries a copy of its target's score.
 *
 * Callers never see the encoding: every operation works on both, and ranks
 * are 0-based ascending positions. Not thread-safe (kv holds the keyspace lock).
 */
#ifndef SCALEOUT_KV_ZSETOBJ_H
#define SCALEOUT_KV_ZSETOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_zset;

extern size_t kv_zset_max_entries;  /* zset-max-listpack-entries, default 128 */
extern size_t kv_zset_max_value;    /* zset-max-listpack-value, default 64 */

/* An empty set in the packed encoding (skiplist if kv_zset_max_entries is 0). */
struct kv_zset *kv_zset_new(void);
/* An empty set in the skiplist encoding (results Redis builds that way: its
 * scores keep -0, which the packed encoding stores as 0). */
struct kv_zset *kv_zset_new_skiplist(void);
void kv_zset_free(struct kv_zset *z);
/* A deep copy in the same encoding (COPY). */
struct kv_zset *kv_zset_dup(const struct kv_zset *z);
size_t kv_zset_len(const struct kv_zset *z);
size_t kv_zset_memory(const struct kv_zset *z);
bool kv_zset_is_packed(const struct kv_zset *z);
/* Convert a skiplist set back to packed when it fits the limits (the *STORE
 * commands do this for their result, as Redis does); *zp is updated. */
void kv_zset_shrink_if_fits(struct kv_zset **zp);
/* Convert a packed set to the skiplist encoding (SORT does, as Redis). */
void kv_zset_to_skiplist(struct kv_zset **zp);

/* Member lookup: true with *score set. */
bool kv_zset_score(struct kv_zset *z, const char *m, size_t mlen, double *score);

/* kv_zset_add flags, Redis's ZADD_IN_* / ZADD_OUT_* */
enum {
    ZSET_IN_INCR = 1 << 0,
    ZSET_IN_NX = 1 << 1,
    ZSET_IN_XX = 1 << 2,
    ZSET_IN_GT = 1 << 3,
    ZSET_IN_LT = 1 << 4,
    ZSET_IN_EXACT = 1 << 5, /* store -0 over 0 and the reverse (set-operation results) */
};
enum {
    ZSET_OUT_NOP = 1 << 0,     /* nothing done (NX/XX/GT/LT said no) */
    ZSET_OUT_NAN = 1 << 1,     /* INCR would give NaN: nothing done */
    ZSET_OUT_ADDED = 1 << 2,   /* a new member */
    ZSET_OUT_UPDATED = 1 << 3, /* an existing member got a new score */
};

/*
 * Add or update a member (Redis zsetAdd): with ZSET_IN_INCR, score is added
 * to the current one. Sets *out to ZSET_OUT_* and *newscore (if given) to
 * the member's score afterwards. Returns false only for ZSET_OUT_NAN.
 * The score must not be NaN. Converts to the skiplist when a limit is passed.
 * May move the set: *zp is updated (a key's object must be given the new pointer).
 */
bool kv_zset_add(struct kv_zset **zp, double score, const char *m, size_t mlen, int in, int *out, double *newscore);
/* Remove a member; true if it existed. */
bool kv_zset_del(struct kv_zset *z, const char *m, size_t mlen);
/* 0-based ascending rank of a member; true if present (*score set too if non-NULL). */
bool kv_zset_rank(struct kv_zset *z, const char *m, size_t mlen, uint64_t *rank, double *score);
/* Remove the elements of ranks [start, end); returns how many. */
uint64_t kv_zset_delete_ranks(struct kv_zset *z, uint64_t start, uint64_t end);

/* Score interval (Redis zrangespec). */
struct zset_srange {
    double min, max;
    bool minex, maxex;  /* exclusive ends: "(1.5" */
};
/* Lexicographic interval (Redis zlexrangespec); inf -1 means "-", +1 "+". */
struct zset_lrange {
    const char *min, *max;
    size_t minlen, maxlen;
    int mininf, maxinf;
    bool minex, maxex;
};

/* How many elements lie before the interval (below min) / up to its end
 * (at most max). The interval holds the ranks [below, upto) when below < upto. */
uint64_t kv_zset_score_below(struct kv_zset *z, const struct zset_srange *r);
uint64_t kv_zset_score_upto(struct kv_zset *z, const struct zset_srange *r);
uint64_t kv_zset_lex_below(struct kv_zset *z, const struct zset_lrange *r);
uint64_t kv_zset_lex_upto(struct kv_zset *z, const struct zset_lrange *r);
/* Order of members as Redis sorts them (memcmp, then the shorter first). */
int kv_zset_member_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Iterator from a rank, ascending or descending. The member pointer it yields
 * points inside the set and stays valid until the set changes. kv_zset_iter_done
 * frees what a descending walk of the packed encoding needed.
 */
struct zset_iter {
    struct kv_zset *z;
    bool reverse;
    uint64_t pos;          /* rank of the next element */
    void *node;            /* skiplist: next node */
    size_t off;            /* packed ascending: offset of the next entry */
    uint32_t *offs;        /* packed descending: entry offsets 0..rank */
};
void kv_zset_iter_init(struct zset_iter *it, struct kv_zset *z, uint64_t rank, bool reverse);
bool kv_zset_iter_next(struct zset_iter *it, const char **m, size_t *mlen, double *score);
void kv_zset_iter_done(struct zset_iter *it);

/* The element at a rank (rank < kv_zset_len): member valid until the set changes. */
void kv_zset_at(struct kv_zset *z, uint64_t rank, const char **m, size_t *mlen, double *score);

/* Check the skiplist's invariants (spans, the links' score copies, backward
 * links, order, length, dict size); true for a packed set. For tests. */
bool kv_zset_verify(struct kv_zset *z);

/* Cursor iteration for ZSCAN over the skiplist's dict (packed: cursor must be 0,
 * all at once, returns 0). fn must not modify the set. */
uint64_t kv_zset_scan(struct kv_zset *z, uint64_t cursor,
                   void (*fn)(const char *m, size_t mlen, double score, void *arg), void *arg);

#endif
