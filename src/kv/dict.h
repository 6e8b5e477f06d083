/*
 * dict.h — chained hash table with incremental rehashing, for byte-string keys.
 *
 * The table is intrusive: callers embed struct dict_node at the start of their
 * own record and the key bytes sit at a fixed offset from the node (given at
 * kv_dict_init), so one allocation holds node, key and value — the main reason a
 * key costs less memory here than in Redis (no separate dictEntry, robj, sds).
 * Hashes are not stored (4 bytes a key saved); a rehash recomputes them.
 *
 * Growth doubles the bucket array and moves buckets a few at a time on every
 * operation (and from the server cron), as Redis does, so a resize of a table
 * with millions of keys never stalls the server. While rehashing, lookups look
 * in both tables. SCAN uses the reverse-binary cursor, which guarantees that
 * every key present for the whole iteration is returned at least once across
 * resizes. The dict owns only its bucket arrays, never the nodes.
 *
 * Not thread-safe: the caller serializes access (kv holds the keyspace lock).
 */
#ifndef SCALEOUT_KV_DICT_H
#define SCALEOUT_KV_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dict_node {
    struct dict_node *next;
    uint32_t klen;
    uint32_t meta;  /* free for the embedding record (kv: value length) */
};

struct dict_table {
    struct dict_node **b;
    uint64_t mask;  /* buckets - 1, or 0 with b == NULL */
    uint64_t used;
};

struct dict {
    struct dict_table t[2];
    int64_t rehash_idx;   /* -1 when not rehashing: next bucket of t[0] to move */
    size_t key_offset;    /* key bytes at (char *)node + key_offset */
    int pause_rehash;     /* > 0 while an iteration runs */
    int found_in;         /* table of the last kv_dict_find_ref hit */
};

static inline const char *dict_node_key(const struct dict *d, const struct dict_node *n)
{
    return (const char *)n + d->key_offset;
}

/* Process-wide seeded hash (xxh3 with a random seed set at startup). */
uint64_t kv_dict_hash(const void *key, size_t len);
void kv_dict_set_seed(uint64_t seed);

void kv_dict_init(struct dict *d, size_t key_offset);
/* Frees the bucket arrays; calls free_node(node, arg) on every node if given. */
void kv_dict_deinit(struct dict *d, void (*free_node)(struct dict_node *, void *), void *arg);

static inline uint64_t dict_size(const struct dict *d) { return d->t[0].used + d->t[1].used; }
static inline uint64_t dict_buckets(const struct dict *d) { return (d->t[0].mask + (d->t[0].b != NULL)) + (d->t[1].mask + (d->t[1].b != NULL)); }
static inline bool dict_is_rehashing(const struct dict *d) { return d->rehash_idx != -1; }

/*
 * Find the link that points to the node with this key (so the caller can
 * replace or unlink it in O(1)). h is kv_dict_hash(key, klen). Returns NULL when
 * absent. The link is valid until the next call that modifies the dict.
 */
struct dict_node **kv_dict_find_ref(struct dict *d, const void *key, size_t klen, uint64_t h);

static inline struct dict_node *dict_find(struct dict *d, const void *key, size_t klen, uint64_t h)
{
    struct dict_node **r = kv_dict_find_ref(d, key, klen, h);
    return r ? *r : NULL;
}

/*
 * Cache hints for a lookup of hash h that comes soon (the read path batches
 * them over the clients of one loop turn, so that their cache misses overlap):
 * step 0 prefetches the bucket slot, step 1 (once step 0's line has had time
 * to arrive) the slot's first node and the line after it (key, small value).
 * Reads the table: call with the dict's lock held. Never changes anything.
 */
void kv_dict_prefetch(const struct dict *d, uint64_t h, int step);

/* Insert n (n->klen set, key bytes in place); h is the key's kv_dict_hash. The key must be absent. */
void kv_dict_insert(struct dict *d, struct dict_node *n, uint64_t h);
/* Unlink the node *ref points to; ref must come from the latest kv_dict_find_ref
 * with no modification in between. Returns the node. */
struct dict_node *kv_dict_unlink_ref(struct dict *d, struct dict_node **ref);
/* Find and unlink; NULL when absent. */
struct dict_node *kv_dict_remove(struct dict *d, const void *key, size_t klen, uint64_t h);

/* Move up to n buckets from the old to the new table. Returns true while more remain. */
bool kv_dict_rehash(struct dict *d, int n);
/* Rehash for about `us` microseconds. Returns buckets moved. */
int kv_dict_rehash_for(struct dict *d, long long us);
/* Shrink the table when it is mostly empty (called from the cron). */
void kv_dict_maybe_shrink(struct dict *d);

/*
 * Reverse-binary cursor scan: calls fn on every node of the bucket(s) the
 * cursor names and returns the next cursor (0 when done). fn must not modify
 * the dict.
 */
uint64_t kv_dict_scan(struct dict *d, uint64_t cursor, void (*fn)(struct dict_node *, void *), void *arg);

/*
 * Sample up to `count` nodes from random places (consecutive buckets from a
 * random start, as Redis dictGetSomeKeys). Returns how many were stored. Not
 * uniform, good enough for eviction and expiry sampling.
 */
unsigned kv_dict_sample(struct dict *d, struct dict_node **out, unsigned count);
/* One node chosen roughly uniformly; NULL when empty. */
struct dict_node *kv_dict_random(struct dict *d);

/* Call fn on every node (fn may not modify the dict). */
void kv_dict_foreach(struct dict *d, void (*fn)(struct dict_node *, void *), void *arg);

#endif
