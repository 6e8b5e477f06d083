/*
 * dict.c — chained hash table with incremental rehashing (see dict.h).
 *
 * Two tables: t[0] holds everything when not rehashing. A resize allocates t[1]
 * and moves t[0]'s buckets to it one at a time (rehash_idx is the next bucket to
 * move), piggybacking a step on every insert/find/remove. When t[0] is empty
 * t[1] becomes t[0]. Insertions during a rehash go to t[1].
 *
 * Growth: when used >= buckets (load factor 1), to the next power of two
 * >= 2 * used. Shrink: when used < buckets / 8 (cron), to the next power of
 * two >= used.
 */
#include "kv/dict.h"

#include <string.h>
#include <xxhash.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "core/util.h"

#define DICT_INIT_SIZE 4

static uint64_t hash_seed = 0x9e3779b97f4a7c15ULL;

void kv_dict_set_seed(uint64_t seed) { hash_seed = seed; }

uint64_t kv_dict_hash(const void *key, size_t len)
{
    return XXH3_64bits_withSeed(key, len, hash_seed);
}

static void table_reset(struct dict_table *t)
{
    t->b = NULL;
    t->mask = 0;
    t->used = 0;
}

void kv_dict_init(struct dict *d, size_t key_offset)
{
    table_reset(&d->t[0]);
    table_reset(&d->t[1]);
    d->rehash_idx = -1;
    d->key_offset = key_offset;
    d->pause_rehash = 0;
}

void kv_dict_deinit(struct dict *d, void (*free_node)(struct dict_node *, void *), void *arg)
{
    for (int i = 0; i < 2; i++) {
        struct dict_table *t = &d->t[i];
        if (!t->b)
            continue;
        if (free_node) {
            for (uint64_t j = 0; j <= t->mask; j++) {
                struct dict_node *n = t->b[j];
                while (n) {
                    struct dict_node *next = n->next;
                    free_node(n, arg);
                    n = next;
                }
            }
        }
        xfree(t->b);
        table_reset(t);
    }
    d->rehash_idx = -1;
}

static uint64_t next_pow2(uint64_t n)
{
    uint64_t s = DICT_INIT_SIZE;
    while (s < n)
        s <<= 1;
    return s;
}

/* Start a resize to `size` buckets (power of two). */
static void dict_resize(struct dict *d, uint64_t size)
{
    if (dict_is_rehashing(d))
        return;
    if (d->t[0].b && size == d->t[0].mask + 1)
        return;
    struct dict_node **nb = xcalloc(size, sizeof(*nb));
    if (!d->t[0].b) {
        d->t[0].b = nb;
        d->t[0].mask = size - 1;
        d->t[0].used = 0;
        return;
    }
    d->t[1].b = nb;
    d->t[1].mask = size - 1;
    d->t[1].used = 0;
    d->rehash_idx = 0;
}

bool kv_dict_rehash(struct dict *d, int n)
{
    if (!dict_is_rehashing(d))
        return false;
    int empty_visits = n * 10;
    struct dict_table *t0 = &d->t[0], *t1 = &d->t[1];
    while (n-- && t0->used) {
        while (t0->b[d->rehash_idx] == NULL) {
            d->rehash_idx++;
            if (--empty_visits == 0)
                return true;
        }
        struct dict_node *e = t0->b[d->rehash_idx];
        while (e) {
            struct dict_node *next = e->next;
            uint64_t idx = kv_dict_hash(dict_node_key(d, e), e->klen) & t1->mask;
            e->next = t1->b[idx];
            t1->b[idx] = e;
            t0->used--;
            t1->used++;
            e = next;
        }
        t0->b[d->rehash_idx] = NULL;
        d->rehash_idx++;
    }
    if (t0->used == 0) {
        xfree(t0->b);
        *t0 = *t1;
        table_reset(t1);
        d->rehash_idx = -1;
        return false;
    }
    return true;
}

int kv_dict_rehash_for(struct dict *d, long long us)
{
    long long start = util_mono_us();
    int moved = 0;
    while (kv_dict_rehash(d, 100)) {
        moved += 100;
        if (util_mono_us() - start > us)
            break;
    }
    return moved;
}

static inline void rehash_step(struct dict *d)
{
    if (d->pause_rehash == 0 && dict_is_rehashing(d))
        kv_dict_rehash(d, 1);
}

static inline void expand_if_needed(struct dict *d)
{
    if (dict_is_rehashing(d))
        return;
    if (!d->t[0].b) {
        dict_resize(d, DICT_INIT_SIZE);
        return;
    }
    if (d->t[0].used >= d->t[0].mask + 1)
        dict_resize(d, next_pow2(d->t[0].used * 2));
}

void kv_dict_maybe_shrink(struct dict *d)
{
    if (dict_is_rehashing(d) || !d->t[0].b)
        return;
    uint64_t size = d->t[0].mask + 1;
    if (size > DICT_INIT_SIZE && d->t[0].used < size / 8)
        dict_resize(d, next_pow2(d->t[0].used));
}

struct dict_node **kv_dict_find_ref(struct dict *d, const void *key, size_t klen, uint64_t h)
{
    if (dict_size(d) == 0)
        return NULL;
    rehash_step(d);
    for (int i = 0; i < 2; i++) {
        struct dict_table *t = &d->t[i];
        if (!t->b)
            break;
        struct dict_node **ref = &t->b[h & t->mask];
        for (struct dict_node *n = *ref; n; ref = &n->next, n = n->next) {
            if (n->klen == klen && memcmp(dict_node_key(d, n), key, klen) == 0) {
                d->found_in = i;
                return ref;
            }
        }
        if (!dict_is_rehashing(d))
            break;
    }
    return NULL;
}

/* Out of line, not in dict.h: inlined into its callers, GCC 12 -O2 drops
 * these prefetches (none was left in the binary). */
void kv_dict_prefetch(const struct dict *d, uint64_t h, int step)
{
    for (int i = 0; i < 2; i++) {
        const struct dict_table *t = &d->t[i];
        if (!t->b)
            return;
        struct dict_node *const *slot = &t->b[h & t->mask];
        if (step == 0) {
            __builtin_prefetch(slot);
        } else if (*slot) {
            __builtin_prefetch(*slot);
            __builtin_prefetch((const char *)*slot + 64);
        }
        if (!dict_is_rehashing(d))
            return;
    }
}

void kv_dict_insert(struct dict *d, struct dict_node *n, uint64_t h)
{
    rehash_step(d);
    expand_if_needed(d);
    struct dict_table *t = dict_is_rehashing(d) ? &d->t[1] : &d->t[0];
    uint64_t idx = h & t->mask;
    n->next = t->b[idx];
    t->b[idx] = n;
    t->used++;
}

struct dict_node *kv_dict_unlink_ref(struct dict *d, struct dict_node **ref)
{
    struct dict_node *n = *ref;
    *ref = n->next;
    n->next = NULL;
    d->t[d->found_in].used--;
    return n;
}

struct dict_node *kv_dict_remove(struct dict *d, const void *key, size_t klen, uint64_t h)
{
    struct dict_node **ref = kv_dict_find_ref(d, key, klen, h);
    return ref ? kv_dict_unlink_ref(d, ref) : NULL;
}

static inline uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);
}

static void scan_bucket(struct dict_node *n, void (*fn)(struct dict_node *, void *), void *arg)
{
    while (n) {
        struct dict_node *next = n->next;
        fn(n, arg);
        n = next;
    }
}

uint64_t kv_dict_scan(struct dict *d, uint64_t v, void (*fn)(struct dict_node *, void *), void *arg)
{
    if (dict_size(d) == 0)
        return 0;
    d->pause_rehash++;
    if (!dict_is_rehashing(d)) {
        struct dict_table *t = &d->t[0];
        uint64_t m0 = t->mask;
        scan_bucket(t->b[v & m0], fn, arg);
        /* increment the reversed cursor over the unmasked bits */
        v |= ~m0;
        v = rev64(v);
        v++;
        v = rev64(v);
    } else {
        struct dict_table *small = &d->t[0], *large = &d->t[1];
        if (small->mask > large->mask) {
            struct dict_table *tmp = small;
            small = large;
            large = tmp;
        }
        uint64_t m0 = small->mask, m1 = large->mask;
        scan_bucket(small->b[v & m0], fn, arg);
        /* every bucket of the larger table that expands the small one's bucket */
        do {
            scan_bucket(large->b[v & m1], fn, arg);
            v |= ~m1;
            v = rev64(v);
            v++;
            v = rev64(v);
        } while (v & (m0 ^ m1));
    }
    d->pause_rehash--;
    return v;
}

unsigned kv_dict_sample(struct dict *d, struct dict_node **out, unsigned count)
{
    uint64_t size = dict_size(d);
    if (size == 0 || count == 0)
        return 0;
    if (count > size)
        count = (unsigned)size;
    for (unsigned j = 0; j < count; j++)
        rehash_step(d);
    int tables = dict_is_rehashing(d) ? 2 : 1;
    uint64_t maxmask = d->t[0].mask;
    if (tables == 2 && d->t[1].mask > maxmask)
        maxmask = d->t[1].mask;
    uint64_t i = rand64() & maxmask;
    unsigned stored = 0, empty = 0;
    unsigned long maxsteps = count * 10UL;
    while (stored < count && maxsteps--) {
        for (int j = 0; j < tables; j++) {
            struct dict_table *t = &d->t[j];
            /* buckets of t[0] below rehash_idx are empty: skip them */
            if (tables == 2 && j == 0 && (int64_t)i < d->rehash_idx) {
                if (i >= d->t[1].mask + 1)
                    i = (uint64_t)d->rehash_idx;
                else
                    continue;
            }
            if (i > t->mask)
                continue;
            struct dict_node *n = t->b[i];
            if (!n) {
                empty++;
                if (empty >= 5 && empty > count) {
                    i = rand64() & maxmask;
                    empty = 0;
                }
            } else {
                empty = 0;
                for (; n && stored < count; n = n->next)
                    out[stored++] = n;
            }
        }
        i = (i + 1) & maxmask;
    }
    return stored;
}

struct dict_node *kv_dict_random(struct dict *d)
{
    if (dict_size(d) == 0)
        return NULL;
    rehash_step(d);
    struct dict_node *n = NULL;
    /* pick a random non-empty bucket, then a random node of its chain */
    for (int tries = 0; !n; tries++) {
        if (dict_is_rehashing(d)) {
            uint64_t span = d->t[0].mask + d->t[1].mask + 2 - (uint64_t)d->rehash_idx;
            uint64_t h = (uint64_t)d->rehash_idx + rand_below(span);
            n = h > d->t[0].mask ? d->t[1].b[h - d->t[0].mask - 1] : d->t[0].b[h];
        } else {
            n = d->t[0].b[rand64() & d->t[0].mask];
        }
    }
    unsigned len = 0;
    for (struct dict_node *e = n; e; e = e->next)
        len++;
    unsigned k = (unsigned)rand_below(len);
    while (k--)
        n = n->next;
    return n;
}

void kv_dict_foreach(struct dict *d, void (*fn)(struct dict_node *, void *), void *arg)
{
    d->pause_rehash++;
    for (int i = 0; i < 2; i++) {
        struct dict_table *t = &d->t[i];
        if (!t->b)
            continue;
        for (uint64_t j = 0; j <= t->mask; j++)
            scan_bucket(t->b[j], fn, arg);
    }
    d->pause_rehash--;
}
