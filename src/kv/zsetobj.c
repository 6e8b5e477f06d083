/*
 * zsetobj.c — sorted-set values: the packed (listpack) encoding and the
 * skiplist + dict encoding (see zsetobj.h for the layouts).
 *
 * The skiplist is Redis's (William Pugh's with spans, 32 levels; p = 1/3
 * here, 1/4 in Redis: see random_level),
 * written for nodes that carry their own dict link:
 *
 *   one malloc block per element
 *   +----------------------------+----------------------------------+--------+
 *   | level[L-1] ... level[0]    | dict_node | score | backward    | member |
 *   | {forward, span, fscore}    | 16 B      | 8 B   | 8 B         | mlen B |
 *   | 24 B each                  |           |       |             |        |
 *   +----------------------------+----------------------------------+--------+
 *                                ^ struct zs_node * points here (dict key at +32)
 *
 * so an element costs 32 + 24*L + mlen bytes (L averages 1.5) plus its
 * dict bucket slot, against Redis's node + sds + dictEntry (three blocks).
 * fscore, the score of the node a link points to, lets a walk compare without
 * loading that node: on a 100,000-member set the two walks of a ZADD that
 * moves a member are most of its time, all of it cache misses on nodes.
 */
#include "kv/zsetobj.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "kv/dict.h"

size_t kv_zset_max_entries = 128;
size_t kv_zset_max_value = 64;

#define ZSL_MAX_LEVEL 32
#define PACKED_MAX_BYTES ((size_t)1 << 30) /* a packed buffer never passes 1 GiB */

/* A forward link carries a copy of the score of the node it points to, so a
 * walk decides "go right or go down" from the node it stands on, and only
 * loads the next node when it moves there (or on a score tie, to compare
 * members): about one cache miss a level instead of two on a large set. */
struct zs_level {
    struct zs_node *fwd;
    uint64_t span;
    double fscore; /* fwd->score (meaningless while fwd is NULL) */
};

struct zs_node {
    struct dict_node dn; /* dn.klen: member length, dn.meta: number of levels */
    double score;
    struct zs_node *back;
    char m[];
};

/* Both encodings start with the `packed` word: a struct kv_zset * points to
 * one or the other, and the packed buffer is the set's only allocation. */
struct kv_zset {
    uint32_t packed;
};

struct zs_packed {
    uint32_t packed;   /* 1 */
    uint32_t count;    /* entries */
    uint32_t bytes;    /* bytes used in data[] (at most PACKED_MAX_BYTES) */
    uint8_t data[];
};

struct zs_big {
    uint32_t packed;   /* 0 */
    int level;
    struct dict d;
    struct zs_node *head, *tail;
    uint64_t length;
    size_t node_bytes; /* usable bytes of all element nodes */
};

static inline struct zs_level *LV(struct zs_node *n, int i) { return (struct zs_level *)n - 1 - i; }
static inline int nlevels(const struct zs_node *n) { return (int)n->dn.meta; }
static inline struct zs_big *BIG(const struct kv_zset *z) { return (struct zs_big *)z; }
static inline struct zs_packed *PK(const struct kv_zset *z) { return (struct zs_packed *)z; }

int kv_zset_member_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* (score, member) order of Redis's skiplist */
static inline int elem_cmp(double s1, const char *m1, size_t l1, double s2, const char *m2, size_t l2)
{
    if (s1 < s2)
        return -1;
    if (s1 > s2)
        return 1;
    return kv_zset_member_cmp(m1, l1, m2, l2);
}

/* ---- range predicates (Redis zslValueGteMin and friends) -------------------- */

static inline bool gte_min(double v, const struct zset_srange *r) { return r->minex ? v > r->min : v >= r->min; }
static inline bool lte_max(double v, const struct zset_srange *r) { return r->maxex ? v < r->max : v <= r->max; }

static bool lex_gte_min(const char *m, size_t l, const struct zset_lrange *r)
{
    if (r->mininf)
        return r->mininf < 0;
    int c = kv_zset_member_cmp(m, l, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}

static bool lex_lte_max(const char *m, size_t l, const struct zset_lrange *r)
{
    if (r->maxinf)
        return r->maxinf > 0;
    int c = kv_zset_member_cmp(m, l, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}

/* ---- packed encoding ---------------------------------------------------------- */

#define SMALL_BIAS 56 /* kind 16..255: score kind - 56, i.e. -40..199 */

static size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static bool score_is_int(double s, int64_t *iv)
{
    if (!(s >= -9007199254740992.0 && s <= 9007199254740992.0))
        return false;
    int64_t v = (int64_t)s;
    if ((double)v != s)
        return false; /* -0 is stored as 0: Redis's listpack keeps it as the integer 0 too */
    *iv = v;
    return true;
}

/* Bytes the score takes, kind byte included; *kind set. */
static size_t score_size(double s, uint8_t *kind, int64_t *iv)
{
    if (!score_is_int(s, iv)) {
        *kind = 0;
        return 9;
    }
    if (*iv >= -40 && *iv <= 199) {
        *kind = (uint8_t)(*iv + SMALL_BIAS);
        return 1;
    }
    int n = 1;
    while (n < 8) {
        int64_t lim = (int64_t)1 << (8 * n - 1);
        if (*iv >= -lim && *iv < lim)
            break;
        n++;
    }
    *kind = (uint8_t)n;
    return 1 + (size_t)n;
}

static size_t entry_size(double s, size_t mlen)
{
    uint8_t k;
    int64_t iv;
    return score_size(s, &k, &iv) + varint_len(mlen) + mlen;
}

static uint8_t *entry_write(uint8_t *p, double s, const char *m, size_t mlen)
{
    uint8_t k;
    int64_t iv;
    score_size(s, &k, &iv);
    *p++ = k;
    if (k == 0) {
        memcpy(p, &s, 8);
        p += 8;
    } else if (k <= 8) {
        uint64_t u = (uint64_t)iv;
        for (int i = 0; i < k; i++)
            *p++ = (uint8_t)(u >> (8 * i));
    }
    size_t v = mlen;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    memcpy(p, m, mlen);
    return p + mlen;
}

/* Decode the entry at p; returns the next entry. */
static inline const uint8_t *entry_read(const uint8_t *p, double *s, const char **m, size_t *mlen)
{
    uint8_t k = *p++;
    if (k >= 16) {
        *s = (double)((int)k - SMALL_BIAS);
    } else if (k == 0) {
        memcpy(s, p, 8);
        p += 8;
    } else {
        uint64_t u = 0;
        for (int i = 0; i < k; i++)
            u |= (uint64_t)p[i] << (8 * i);
        if (k < 8 && (u >> (8 * k - 1)) & 1)
            u |= ~(uint64_t)0 << (8 * k); /* sign-extend */
        *s = (double)(int64_t)u;
        p += k;
    }
    size_t v = 0;
    int shift = 0;
    while (*p & 0x80) {
        v |= (size_t)(*p++ & 0x7f) << shift;
        shift += 7;
    }
    v |= (size_t)*p++ << shift;
    *m = (const char *)p;
    *mlen = v;
    return p + v;
}

static inline uint8_t *PBUF(const struct kv_zset *z) { return PK(z)->data; }

/* Find a member: offset of its entry or -1; *score set. */
static long pk_find(const struct kv_zset *z, const char *m, size_t mlen, double *score)
{
    const uint8_t *b = PBUF(z), *p = b, *end = b + PK(z)->bytes;
    while (p < end) {
        const char *em;
        size_t el;
        double s;
        const uint8_t *next = entry_read(p, &s, &em, &el);
        if (el == mlen && (mlen == 0 || memcmp(em, m, mlen) == 0)) {
            *score = s;
            return (long)(p - b);
        }
        p = next;
    }
    return -1;
}

static void pk_delete_at(struct kv_zset *z, size_t off)
{
    uint8_t *b = PBUF(z);
    double s;
    const char *m;
    size_t ml;
    size_t len = (size_t)(entry_read(b + off, &s, &m, &ml) - (b + off));
    memmove(b + off, b + off + len, PK(z)->bytes - off - len);
    PK(z)->bytes -= len;
    PK(z)->count--;
}

static void pk_insert(struct kv_zset **zp, double score, const char *m, size_t mlen)
{
    struct kv_zset *z = *zp;
    size_t need = entry_size(score, mlen);
    uint8_t *b = PBUF(z);
    size_t off = 0;
    while (off < PK(z)->bytes) {
        double s;
        const char *em;
        size_t el;
        const uint8_t *next = entry_read(b + off, &s, &em, &el);
        if (elem_cmp(s, em, el, score, m, mlen) > 0)
            break;
        off = (size_t)(next - b);
    }
    size_t total = sizeof(struct zs_packed) + PK(z)->bytes + need;
    if (total > xalloc_size(z)) {
        z = xrealloc(z, total);
        *zp = z;
        b = PBUF(z);
    }
    memmove(b + off + need, b + off, PK(z)->bytes - off);
    entry_write(b + off, score, m, mlen);
    PK(z)->bytes += (uint32_t)need;
    PK(z)->count++;
}

/* ---- skiplist ------------------------------------------------------------------ */

static struct zs_node *node_new(int level, double score, const char *m, size_t mlen)
{
    char *blk = xmalloc((size_t)level * sizeof(struct zs_level) + sizeof(struct zs_node) + mlen);
    struct zs_node *n = (struct zs_node *)(blk + (size_t)level * sizeof(struct zs_level));
    n->dn.next = NULL;
    n->dn.klen = (uint32_t)mlen;
    n->dn.meta = (uint32_t)level;
    n->score = score;
    n->back = NULL;
    if (mlen)
        memcpy(n->m, m, mlen);
    for (int i = 0; i < level; i++) {
        LV(n, i)->fwd = NULL;
        LV(n, i)->span = 0;
        LV(n, i)->fscore = 0;
    }
    return n;
}

/* Does the node f, whose score its link gave as fs, sort before (s, m, ml)?
 * f itself is loaded only on a score tie. */
static inline bool link_before(double fs, const struct zs_node *f, double s, const char *m, size_t ml)
{
    if (fs != s)
        return fs < s;
    return kv_zset_member_cmp(f->m, f->dn.klen, m, ml) < 0;
}

static inline void *node_block(struct zs_node *n) { return LV(n, nlevels(n) - 1); }
static void node_free(struct zs_node *n) { xfree(node_block(n)); }

/*
 * Level of a new node: P(level > k) = (1/3)^k, at most 32 levels. Redis uses
 * 1/4; with the score copies in the links a walk loads only the nodes it
 * moves to, about (1-p)/p a level over log(n)/log(1/p) levels: 2 x 10.5 on a
 * 100,000-member set for 1/3 against 3 x 8.3 for 1/4 (27% fewer misses under
 * cachegrind with a 1 MB last level; 1/2 gives 29% but 14% more memory,
 * 1/3 costs about 4 bytes an element).
 */
static int random_level(void)
{
    uint64_t r = rand64();
    int level = 1, left = 4; /* 16 bits a draw */
    while ((r & 0xffff) < 21845 && level < ZSL_MAX_LEVEL) {
        level++;
        r >>= 16;
        if (--left == 0) {
            r = rand64();
            left = 4;
        }
    }
    return level;
}

static struct zs_big *big_new(void)
{
    struct zs_big *b = xcalloc(1, sizeof *b);
    kv_dict_init(&b->d, offsetof(struct zs_node, m));
    b->head = node_new(ZSL_MAX_LEVEL, 0, NULL, 0);
    b->level = 1;
    return b;
}

static void free_node_cb(struct dict_node *n, void *arg)
{
    (void)arg;
    node_free((struct zs_node *)n);
}

static void big_free(struct zs_big *b)
{
    kv_dict_deinit(&b->d, free_node_cb, NULL);
    node_free(b->head);
    xfree(b);
}

/* Link an unlinked node into the skiplist at its (score, member) place. */
/* Link the unlinked node n after update[i] at each level i; rank[i] is the
 * 1-based rank of update[i] (0 for the head). */
static void zsl_link_at(struct zs_big *b, struct zs_node *n, struct zs_node **update, uint64_t *rank)
{
    const double s = n->score;
    int level = nlevels(n);
    if (level > b->level) {
        for (int i = b->level; i < level; i++) {
            rank[i] = 0;
            update[i] = b->head;
            LV(b->head, i)->span = b->length;
        }
        b->level = level;
    }
    for (int i = 0; i < level; i++) {
        struct zs_level *u = LV(update[i], i), *nl = LV(n, i);
        nl->fwd = u->fwd;
        nl->fscore = u->fscore;
        nl->span = u->span - (rank[0] - rank[i]);
        u->fwd = n;
        u->fscore = s;
        u->span = rank[0] - rank[i] + 1;
    }
    for (int i = level; i < b->level; i++)
        LV(update[i], i)->span++;
    n->back = update[0] == b->head ? NULL : update[0];
    if (LV(n, 0)->fwd)
        LV(n, 0)->fwd->back = n;
    else
        b->tail = n;
    b->length++;
}

static void zsl_link(struct zs_big *b, struct zs_node *n)
{
    struct zs_node *update[ZSL_MAX_LEVEL], *x = b->head;
    uint64_t rank[ZSL_MAX_LEVEL], r = 0;
    const double s = n->score;
    const char *m = n->m;
    const size_t ml = n->dn.klen;
    for (int i = b->level - 1; i >= 0; i--) {
        struct zs_level *l = LV(x, i);
        while (l->fwd && link_before(l->fscore, l->fwd, s, m, ml)) {
            r += l->span;
            x = l->fwd;
            l = LV(x, i);
        }
        rank[i] = r;
        update[i] = x;
    }
    zsl_link_at(b, n, update, rank);
}

/* Redis zslDeleteNode: unlink x given its predecessors at every level. */
static void zsl_unlink_with(struct zs_big *b, struct zs_node *x, struct zs_node **update)
{
    for (int i = 0; i < b->level; i++) {
        if (LV(update[i], i)->fwd == x) {
            LV(update[i], i)->span += LV(x, i)->span - 1;
            LV(update[i], i)->fwd = LV(x, i)->fwd;
            LV(update[i], i)->fscore = LV(x, i)->fscore;
        } else {
            LV(update[i], i)->span -= 1;
        }
    }
    if (LV(x, 0)->fwd)
        LV(x, 0)->fwd->back = x->back;
    else
        b->tail = x->back;
    while (b->level > 1 && LV(b->head, b->level - 1)->fwd == NULL)
        b->level--;
    b->length--;
}

/* The predecessors of the linked node n at every level (by its current score). */
static void zsl_preds(struct zs_big *b, struct zs_node *n, struct zs_node **update)
{
    struct zs_node *x = b->head;
    const double s = n->score;
    const char *m = n->m;
    const size_t ml = n->dn.klen;
    for (int i = b->level - 1; i >= 0; i--) {
        struct zs_level *l = LV(x, i);
        while (l->fwd && l->fwd != n && link_before(l->fscore, l->fwd, s, m, ml)) {
            x = l->fwd;
            l = LV(x, i);
        }
        update[i] = x;
    }
}

static void zsl_unlink(struct zs_big *b, struct zs_node *n)
{
    struct zs_node *update[ZSL_MAX_LEVEL];
    zsl_preds(b, n, update);
    zsl_unlink_with(b, n, update);
}

/*
 * Move the linked node n to the place of a new score. The two walks, to n's
 * old place (its predecessors, to unlink it) and to the new one, are
 * independent chains of loads, so they run interleaved, a step of each per
 * iteration: the CPU then has a cache miss of each in flight at once instead
 * of one after the other. The new place is found in the list that still
 * holds n and corrected afterwards: a level where n itself would precede the
 * new place takes n's own predecessor, and ranks past n drop by one.
 */
static void zsl_move(struct zs_big *b, struct zs_node *n, double score)
{
    struct zs_node *uo[ZSL_MAX_LEVEL], *un[ZSL_MAX_LEVEL];
    uint64_t ro[ZSL_MAX_LEVEL], rn[ZSL_MAX_LEVEL], ao = 0, an = 0;
    const double so = n->score;
    const char *m = n->m;
    const size_t ml = n->dn.klen;
    const int top = b->level;
    struct zs_node *xo = b->head, *xn = b->head;
    int io = top - 1, in = top - 1;
    struct zs_level *lo = LV(xo, io), *ln = LV(xn, in);
    while (io >= 0 || in >= 0) {
        if (io >= 0) {
            if (lo->fwd && lo->fwd != n && link_before(lo->fscore, lo->fwd, so, m, ml)) {
                ao += lo->span;
                xo = lo->fwd;
                lo = LV(xo, io);
            } else {
                uo[io] = xo;
                ro[io] = ao;
                if (--io >= 0)
                    lo = LV(xo, io);
            }
        }
        if (in >= 0) {
            if (ln->fwd && link_before(ln->fscore, ln->fwd, score, m, ml)) {
                an += ln->span;
                xn = ln->fwd;
                ln = LV(xn, in);
            } else {
                un[in] = xn;
                rn[in] = an;
                if (--in >= 0)
                    ln = LV(xn, in);
            }
        }
    }
    const uint64_t pos = ro[0] + 1; /* n's 1-based rank */
    zsl_unlink_with(b, n, uo);
    for (int i = 0; i < top; i++) {
        if (un[i] == n) {
            un[i] = uo[i];
            rn[i] = ro[i];
        } else if (rn[i] > pos) {
            rn[i]--;
        }
    }
    n->score = score;
    zsl_link_at(b, n, un, rn);
}

/*
 * Give the linked node n a new score. When the score keeps n's place (above
 * its predecessor's, below its successor's, strictly, as Redis's
 * zslUpdateScore checks) only the score and the links' copies of it change:
 * a node of one level (two in three) needs no walk at all. Otherwise it is
 * unlinked and linked again: two walks, no allocation.
 */
static void zsl_rescore(struct zs_big *b, struct zs_node *n, double score)
{
    struct zs_level *l0 = LV(n, 0);
    if ((!l0->fwd || l0->fscore > score) && (!n->back || n->back->score < score)) {
        if (nlevels(n) == 1) {
            LV(n->back ? n->back : b->head, 0)->fscore = score;
        } else {
            struct zs_node *update[ZSL_MAX_LEVEL];
            zsl_preds(b, n, update);
            for (int i = 0; i < nlevels(n); i++)
                LV(update[i], i)->fscore = score;
        }
        n->score = score;
        return;
    }
    zsl_move(b, n, score);
}

/* Add a member known to be absent; h is kv_dict_hash(m, mlen). */
static void big_insert(struct zs_big *b, double score, const char *m, size_t mlen, uint64_t h)
{
    struct zs_node *n = node_new(random_level(), score, m, mlen);
    b->node_bytes += xalloc_size(node_block(n));
    kv_dict_insert(&b->d, &n->dn, h);
    zsl_link(b, n);
}

static struct zs_node *big_find(struct zs_big *b, const char *m, size_t mlen, uint64_t h)
{
    return (struct zs_node *)dict_find(&b->d, m, mlen, h);
}

/* The node of 0-based rank r (r < length), with its predecessors if update given. */
static struct zs_node *big_at(struct zs_big *b, uint64_t r, struct zs_node **update)
{
    struct zs_node *x = b->head;
    uint64_t traversed = 0;
    for (int i = b->level - 1; i >= 0; i--) {
        while (LV(x, i)->fwd && traversed + LV(x, i)->span <= r) {
            traversed += LV(x, i)->span;
            x = LV(x, i)->fwd;
        }
        if (update)
            update[i] = x;
    }
    return LV(x, 0)->fwd;
}

static void big_remove_node(struct zs_big *b, struct zs_node *n, struct zs_node **update)
{
    if (update)
        zsl_unlink_with(b, n, update);
    else
        zsl_unlink(b, n);
    kv_dict_remove(&b->d, n->m, n->dn.klen, kv_dict_hash(n->m, n->dn.klen));
    b->node_bytes -= xalloc_size(node_block(n));
    node_free(n);
}

/* ---- conversions ---------------------------------------------------------------- */

static void convert_to_big(struct kv_zset **zp)
{
    struct kv_zset *z = *zp;
    struct zs_big *b = big_new();
    const uint8_t *p = PBUF(z), *end = p + PK(z)->bytes;
    while (p < end) {
        double s;
        const char *m;
        size_t ml;
        p = entry_read(p, &s, &m, &ml);
        big_insert(b, s, m, ml, kv_dict_hash(m, ml));
    }
    xfree(z);
    *zp = (struct kv_zset *)b;
}

void kv_zset_to_skiplist(struct kv_zset **zp)
{
    if ((*zp)->packed)
        convert_to_big(zp);
}

void kv_zset_shrink_if_fits(struct kv_zset **zp)
{
    struct kv_zset *z = *zp;
    if (z->packed)
        return;
    struct zs_big *b = BIG(z);
    if (b->length > kv_zset_max_entries)
        return;
    size_t total = 0;
    for (struct zs_node *n = LV(b->head, 0)->fwd; n; n = LV(n, 0)->fwd) {
        if (n->dn.klen > kv_zset_max_value)
            return;
        total += entry_size(n->score, n->dn.klen);
    }
    if (total > PACKED_MAX_BYTES)
        return;
    struct zs_packed *pk = xmalloc(sizeof *pk + total);
    uint8_t *w = pk->data;
    for (struct zs_node *n = LV(b->head, 0)->fwd; n; n = LV(n, 0)->fwd)
        w = entry_write(w, n->score, n->m, n->dn.klen);
    pk->packed = 1;
    pk->count = (uint32_t)b->length;
    pk->bytes = (uint32_t)total;
    big_free(b);
    *zp = (struct kv_zset *)pk;
}

/* ---- public API ----------------------------------------------------------------- */

static struct kv_zset *packed_new(void)
{
    struct zs_packed *pk = xmalloc(sizeof *pk);
    pk->packed = 1;
    pk->count = 0;
    pk->bytes = 0;
    return (struct kv_zset *)pk;
}

struct kv_zset *kv_zset_new(void)
{
    struct kv_zset *z = packed_new();
    if (kv_zset_max_entries == 0)
        convert_to_big(&z);
    return z;
}

struct kv_zset *kv_zset_new_skiplist(void) { return (struct kv_zset *)big_new(); }

void kv_zset_free(struct kv_zset *z)
{
    if (!z)
        return;
    if (z->packed)
        xfree(z);
    else
        big_free(BIG(z));
}

struct kv_zset *kv_zset_dup(const struct kv_zset *z)
{
    if (z->packed) {
        size_t n = offsetof(struct zs_packed, data) + PK(z)->bytes;
        struct zs_packed *c = xmalloc(n);
        memcpy(c, z, n);
        return (struct kv_zset *)c;
    }
    struct zs_big *b = big_new();
    /* from the tail back: each insert links at the head, no search walk */
    for (struct zs_node *n = BIG(z)->tail; n; n = n->back)
        big_insert(b, n->score, n->m, n->dn.klen, kv_dict_hash(n->m, n->dn.klen));
    return (struct kv_zset *)b;
}

size_t kv_zset_len(const struct kv_zset *z) { return z->packed ? PK(z)->count : BIG(z)->length; }
bool kv_zset_is_packed(const struct kv_zset *z) { return z->packed != 0; }

size_t kv_zset_memory(const struct kv_zset *z)
{
    if (z->packed)
        return xalloc_size(z);
    struct zs_big *b = BIG(z);
    return xalloc_size(b) + xalloc_size(node_block(b->head)) + dict_buckets(&b->d) * sizeof(void *) +
           b->node_bytes;
}

bool kv_zset_score(struct kv_zset *z, const char *m, size_t mlen, double *score)
{
    if (z->packed)
        return pk_find(z, m, mlen, score) >= 0;
    struct zs_node *n = big_find(BIG(z), m, mlen, kv_dict_hash(m, mlen));
    if (!n)
        return false;
    *score = n->score;
    return true;
}

bool kv_zset_add(struct kv_zset **zp, double score, const char *m, size_t mlen, int in, int *out, double *newscore)
{
    struct kv_zset *z = *zp;
    bool incr = in & ZSET_IN_INCR, nx = in & ZSET_IN_NX, xx = in & ZSET_IN_XX;
    bool gt = in & ZSET_IN_GT, lt = in & ZSET_IN_LT;
    *out = 0;
    double cur;
    long off = -1;
    struct zs_node *node = NULL;
    uint64_t h = 0;
    bool exists;
    if (z->packed) {
        off = pk_find(z, m, mlen, &cur);
        exists = off >= 0;
    } else {
        h = kv_dict_hash(m, mlen);
        node = big_find(BIG(z), m, mlen, h);
        exists = node != NULL;
        if (node)
            cur = node->score;
    }
    if (exists) {
        if (nx) {
            *out = ZSET_OUT_NOP;
            return true;
        }
        if (incr) {
            score += cur;
            if (isnan(score)) {
                *out = ZSET_OUT_NAN;
                return false;
            }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) {
            *out = ZSET_OUT_NOP;
            return true;
        }
        if (newscore)
            *newscore = score;
        if (score != cur || ((in & ZSET_IN_EXACT) && signbit(score) != signbit(cur))) {
            if (z->packed) {
                pk_delete_at(z, (size_t)off);
                pk_insert(zp, score, m, mlen);
            } else {
                zsl_rescore(BIG(z), node, score);
            }
            *out = ZSET_OUT_UPDATED;
        }
        return true;
    }
    if (xx) {
        *out = ZSET_OUT_NOP;
        return true;
    }
    if (z->packed && (PK(z)->count + 1 > kv_zset_max_entries || mlen > kv_zset_max_value ||
                      PK(z)->bytes + entry_size(score, mlen) > PACKED_MAX_BYTES)) {
        convert_to_big(zp);
        z = *zp;
        h = kv_dict_hash(m, mlen);
    }
    if (z->packed)
        pk_insert(zp, score, m, mlen);
    else
        big_insert(BIG(z), score, m, mlen, h);
    if (newscore)
        *newscore = score;
    *out = ZSET_OUT_ADDED;
    return true;
}

bool kv_zset_del(struct kv_zset *z, const char *m, size_t mlen)
{
    if (z->packed) {
        double s;
        long off = pk_find(z, m, mlen, &s);
        if (off < 0)
            return false;
        pk_delete_at(z, (size_t)off);
        return true;
    }
    struct zs_node *n = big_find(BIG(z), m, mlen, kv_dict_hash(m, mlen));
    if (!n)
        return false;
    big_remove_node(BIG(z), n, NULL);
    return true;
}

bool kv_zset_rank(struct kv_zset *z, const char *m, size_t mlen, uint64_t *rank, double *score)
{
    if (z->packed) {
        const uint8_t *p = PBUF(z), *end = p + PK(z)->bytes;
        uint64_t r = 0;
        while (p < end) {
            double s;
            const char *em;
            size_t el;
            p = entry_read(p, &s, &em, &el);
            if (el == mlen && (mlen == 0 || memcmp(em, m, mlen) == 0)) {
                *rank = r;
                if (score)
                    *score = s;
                return true;
            }
            r++;
        }
        return false;
    }
    struct zs_big *b = BIG(z);
    struct zs_node *n = big_find(b, m, mlen, kv_dict_hash(m, mlen));
    if (!n)
        return false;
    struct zs_node *x = b->head;
    uint64_t traversed = 0;
    const double s = n->score;
    for (int i = b->level - 1; i >= 0; i--) {
        struct zs_level *l = LV(x, i);
        while (l->fwd && (l->fwd == n || link_before(l->fscore, l->fwd, s, m, mlen))) {
            traversed += l->span;
            x = l->fwd;
            l = LV(x, i);
        }
        if (x == n)
            break;
    }
    *rank = traversed - 1;
    if (score)
        *score = n->score;
    return true;
}

uint64_t kv_zset_delete_ranks(struct kv_zset *z, uint64_t start, uint64_t end)
{
    uint64_t len = kv_zset_len(z);
    if (end > len)
        end = len;
    if (start >= end)
        return 0;
    if (z->packed) {
        uint8_t *b = PBUF(z);
        const uint8_t *p = b;
        size_t from = 0, to = 0;
        for (uint64_t r = 0; r <= end && r < len + 1; r++) {
            if (r == start)
                from = (size_t)(p - b);
            if (r == end) {
                to = (size_t)(p - b);
                break;
            }
            double s;
            const char *m;
            size_t ml;
            p = entry_read(p, &s, &m, &ml);
        }
        memmove(b + from, b + to, PK(z)->bytes - to);
        PK(z)->bytes -= to - from;
        PK(z)->count -= (uint32_t)(end - start);
        return end - start;
    }
    struct zs_big *b = BIG(z);
    struct zs_node *update[ZSL_MAX_LEVEL];
    struct zs_node *x = big_at(b, start, update);
    for (uint64_t i = start; i < end; i++) {
        struct zs_node *next = LV(x, 0)->fwd;
        big_remove_node(b, x, update);
        x = next;
    }
    kv_dict_maybe_shrink(&b->d);
    return end - start;
}

/* ---- ranges ----------------------------------------------------------------------- */

/* Generic "count the prefix of elements for which pred holds" (pred is
 * monotone: true for a prefix of the order). */
typedef bool prefix_pred(double s, const char *m, size_t ml, const void *r);

static uint64_t count_prefix(struct kv_zset *z, prefix_pred *pred, const void *r, bool lex)
{
    if (z->packed) {
        const uint8_t *p = PBUF(z), *end = p + PK(z)->bytes;
        uint64_t n = 0;
        while (p < end) {
            double s;
            const char *m;
            size_t ml;
            p = entry_read(p, &s, &m, &ml);
            if (!pred(s, m, ml, r))
                break;
            n++;
        }
        return n;
    }
    struct zs_big *b = BIG(z);
    struct zs_node *x = b->head;
    uint64_t traversed = 0;
    for (int i = b->level - 1; i >= 0; i--) {
        struct zs_level *l = LV(x, i);
        /* a score bound reads the link's copy of the score; a lex bound the member */
        while (l->fwd && (lex ? pred(0, l->fwd->m, l->fwd->dn.klen, r) : pred(l->fscore, NULL, 0, r))) {
            traversed += l->span;
            x = l->fwd;
            l = LV(x, i);
        }
    }
    return traversed;
}

static bool p_below_score(double s, const char *m, size_t ml, const void *r) { return !gte_min(s, r); }
static bool p_upto_score(double s, const char *m, size_t ml, const void *r) { return lte_max(s, r); }
static bool p_below_lex(double s, const char *m, size_t ml, const void *r) { return !lex_gte_min(m, ml, r); }
static bool p_upto_lex(double s, const char *m, size_t ml, const void *r) { return lex_lte_max(m, ml, r); }

uint64_t kv_zset_score_below(struct kv_zset *z, const struct zset_srange *r) { return count_prefix(z, p_below_score, r, false); }
uint64_t kv_zset_score_upto(struct kv_zset *z, const struct zset_srange *r) { return count_prefix(z, p_upto_score, r, false); }
uint64_t kv_zset_lex_below(struct kv_zset *z, const struct zset_lrange *r) { return count_prefix(z, p_below_lex, r, true); }
uint64_t kv_zset_lex_upto(struct kv_zset *z, const struct zset_lrange *r) { return count_prefix(z, p_upto_lex, r, true); }

/* ---- iteration --------------------------------------------------------------------- */

void kv_zset_iter_init(struct zset_iter *it, struct kv_zset *z, uint64_t rank, bool reverse)
{
    memset(it, 0, sizeof *it);
    it->z = z;
    it->reverse = reverse;
    it->pos = rank;
    uint64_t len = kv_zset_len(z);
    if (rank >= len) {
        it->pos = UINT64_MAX; /* exhausted */
        return;
    }
    if (!z->packed) {
        it->node = big_at(BIG(z), rank, NULL);
        return;
    }
    const uint8_t *b = PBUF(z), *p = b;
    if (reverse)
        it->offs = xmalloc((size_t)(rank + 1) * sizeof *it->offs);
    for (uint64_t r = 0; r < rank + (reverse ? 1 : 0); r++) {
        if (reverse)
            it->offs[r] = (uint32_t)(p - b);
        double s;
        const char *m;
        size_t ml;
        p = entry_read(p, &s, &m, &ml);
    }
    it->off = (size_t)(p - b);
}

bool kv_zset_iter_next(struct zset_iter *it, const char **m, size_t *mlen, double *score)
{
    if (it->pos == UINT64_MAX)
        return false;
    struct kv_zset *z = it->z;
    if (!z->packed) {
        struct zs_node *n = it->node;
        if (!n)
            return false;
        *m = n->m;
        *mlen = n->dn.klen;
        *score = n->score;
        it->node = it->reverse ? n->back : LV(n, 0)->fwd;
        it->pos = it->reverse ? (it->pos == 0 ? UINT64_MAX : it->pos - 1) : it->pos + 1;
        return true;
    }
    const uint8_t *b = PBUF(z);
    if (it->reverse) {
        entry_read(b + it->offs[it->pos], score, m, mlen);
        it->pos = it->pos == 0 ? UINT64_MAX : it->pos - 1;
        return true;
    }
    if (it->off >= PK(z)->bytes)
        return false;
    it->off = (size_t)(entry_read(b + it->off, score, m, mlen) - b);
    it->pos++;
    return true;
}

void kv_zset_iter_done(struct zset_iter *it)
{
    xfree(it->offs);
    it->offs = NULL;
}

void kv_zset_at(struct kv_zset *z, uint64_t rank, const char **m, size_t *mlen, double *score)
{
    if (!z->packed) {
        struct zs_node *n = big_at(BIG(z), rank, NULL);
        *m = n->m;
        *mlen = n->dn.klen;
        *score = n->score;
        return;
    }
    const uint8_t *p = PBUF(z);
    for (uint64_t r = 0; r <= rank; r++)
        p = entry_read(p, score, m, mlen);
}

struct scan_ctx {
    void (*fn)(const char *m, size_t mlen, double score, void *arg);
    void *arg;
};

static void scan_visit(struct dict_node *dn, void *arg)
{
    struct scan_ctx *x = arg;
    struct zs_node *n = (struct zs_node *)dn;
    x->fn(n->m, n->dn.klen, n->score, x->arg);
}

uint64_t kv_zset_scan(struct kv_zset *z, uint64_t cursor,
                   void (*fn)(const char *m, size_t mlen, double score, void *arg), void *arg)
{
    if (z->packed) {
        const uint8_t *p = PBUF(z), *end = p + PK(z)->bytes;
        while (p < end) {
            double s;
            const char *m;
            size_t ml;
            p = entry_read(p, &s, &m, &ml);
            fn(m, ml, s, arg);
        }
        return 0;
    }
    struct scan_ctx x = {fn, arg};
    return kv_dict_scan(&BIG(z)->d, cursor, scan_visit, &x);
}

bool kv_zset_verify(struct kv_zset *z)
{
    if (z->packed)
        return true;
    struct zs_big *b = BIG(z);
    if (b->level < 1 || b->level > ZSL_MAX_LEVEL || dict_size(&b->d) != b->length)
        return false;
    for (int i = 0; i < ZSL_MAX_LEVEL; i++) {
        /* at level i: spans add up to ranks, copies match, order holds */
        struct zs_node *x = b->head;
        uint64_t rank = 0;
        if (i >= b->level) {
            if (LV(x, i)->fwd)
                return false;
            continue;
        }
        while (LV(x, i)->fwd) {
            struct zs_node *f = LV(x, i)->fwd;
            if (LV(x, i)->fscore != f->score || nlevels(f) <= i)
                return false;
            if (x != b->head && kv_zset_member_cmp(x->m, x->dn.klen, f->m, f->dn.klen) == 0)
                return false;
            if (x != b->head && (x->score > f->score ||
                                 (x->score == f->score && kv_zset_member_cmp(x->m, x->dn.klen, f->m, f->dn.klen) > 0)))
                return false;
            rank += LV(x, i)->span;
            x = f;
        }
        if (i == 0 && (rank != b->length || x != (b->length ? b->tail : b->head)))
            return false;
        if (rank > b->length)
            return false;
    }
    /* level 0: backward links, and every node found through the dict */
    struct zs_node *prev = NULL;
    uint64_t r = 0;
    for (struct zs_node *n = LV(b->head, 0)->fwd; n; n = LV(n, 0)->fwd) {
        if (n->back != prev || (LV(n, 0)->fwd && LV(n, 0)->span != 1) ||
            dict_find(&b->d, n->m, n->dn.klen, kv_dict_hash(n->m, n->dn.klen)) != &n->dn)
            return false;
        prev = n;
        r++;
    }
    return r == b->length;
}
