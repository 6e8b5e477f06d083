/*
 * setobj.c — set values: intset and hashtable encodings (see setobj.h).
 *
 * One allocation per set: a small header followed, for an intset, by the
 * sorted integers (count * width bytes, native byte order) or, for a
 * hashtable, by a struct dict whose nodes are the members.
 */
#include "kv/setobj.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/dict.h"

size_t set_max_intset_entries = 512;

enum { ENC_INTSET = 0, ENC_HT = 1 };

struct kv_set {
    uint8_t enc;
    uint8_t width;   /* intset: bytes per integer, 2, 4 or 8 */
    uint32_t count;  /* intset: members */
    uint64_t data[]; /* intset integers, or struct dict */
};

struct smember {
    struct dict_node dn;
    char data[];
};

#define HDR offsetof(struct kv_set, data)

static inline struct dict *ht(const struct kv_set *s) { return (struct dict *)s->data; }
static inline char *ints(struct kv_set *s) { return (char *)s->data; }
static inline const char *cints(const struct kv_set *s) { return (const char *)s->data; }

struct kv_set *set_new(void)
{
    struct kv_set *s = xmalloc(HDR);
    s->enc = ENC_INTSET;
    s->width = 2;
    s->count = 0;
    return s;
}

static void free_member(struct dict_node *n, void *arg)
{
    (void)arg;
    xfree(n);
}

void set_free(struct kv_set *s)
{
    if (!s)
        return;
    if (s->enc == ENC_HT)
        dict_deinit(ht(s), free_member, NULL);
    xfree(s);
}

uint64_t set_len(const struct kv_set *s) { return s->enc == ENC_INTSET ? s->count : dict_size(ht(s)); }
bool set_is_intset(const struct kv_set *s) { return s->enc == ENC_INTSET; }

static void member_sum(struct dict_node *n, void *arg) { *(size_t *)arg += xalloc_size(n); }

size_t set_memory(const struct kv_set *s)
{
    size_t m = xalloc_size(s);
    if (s->enc == ENC_HT) {
        m += dict_buckets(ht(s)) * sizeof(void *);
        dict_foreach(ht(s), member_sum, &m);
    }
    return m;
}

/* ---- intset --------------------------------------------------------------- */

static inline int64_t iget(const struct kv_set *s, size_t i)
{
    const char *p = cints(s) + i * s->width;
    if (s->width == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (s->width == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void iset(struct kv_set *s, size_t i, int64_t v)
{
    char *p = ints(s) + i * s->width;
    if (s->width == 2) {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
    } else if (s->width == 4) {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

static inline uint8_t width_for(int64_t v)
{
    if (v >= INT16_MIN && v <= INT16_MAX)
        return 2;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 4;
    return 8;
}

/* Binary search: true if found; *pos is its index or where it would go. */
static bool ifind(const struct kv_set *s, int64_t v, size_t *pos)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = iget(s, mid);
        if (x == v) {
            *pos = mid;
            return true;
        }
        if (x < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

/* Room for `count` integers of `width` bytes (growing by an eighth). */
static struct kv_set *ireserve(struct kv_set *s, size_t count, uint8_t width)
{
    size_t need = HDR + count * width;
    if (need > xalloc_size(s))
        s = xrealloc(s, need + (count > 64 ? need / 8 : 0));
    return s;
}

static struct kv_set *iinsert(struct kv_set *s, int64_t v, size_t pos)
{
    uint8_t w = width_for(v);
    if (w > s->width) {
        /* upgrade: rewrite every integer wider, from the end; v goes to one end */
        uint8_t old = s->width;
        s = ireserve(s, (size_t)s->count + 1, w);
        bool first = v < 0;
        for (size_t i = s->count; i-- > 0;) {
            s->width = old;
            int64_t x = iget(s, i);
            s->width = w;
            iset(s, i + (first ? 1 : 0), x);
        }
        s->width = w;
        iset(s, first ? 0 : s->count, v);
        s->count++;
        return s;
    }
    s = ireserve(s, (size_t)s->count + 1, s->width);
    memmove(ints(s) + (pos + 1) * s->width, ints(s) + pos * s->width, (s->count - pos) * s->width);
    iset(s, pos, v);
    s->count++;
    return s;
}

/* ---- hashtable ------------------------------------------------------------ */

static void ht_insert(struct dict *d, const char *m, size_t n, uint64_t h)
{
    struct smember *e = xmalloc(offsetof(struct smember, data) + n);
    e->dn.next = NULL;
    e->dn.klen = (uint32_t)n;
    e->dn.meta = 0;
    memcpy(e->data, m, n);
    dict_insert(d, &e->dn, h);
}

static struct kv_set *to_ht(struct kv_set *s)
{
    struct kv_set *t = xmalloc(HDR + sizeof(struct dict));
    t->enc = ENC_HT;
    t->width = 0;
    t->count = 0;
    dict_init(ht(t), offsetof(struct smember, data));
    char buf[SET_INT_STR];
    for (size_t i = 0; i < s->count; i++) {
        size_t n = util_ll2str(buf, iget(s, i));
        ht_insert(ht(t), buf, n, dict_hash(buf, n));
    }
    xfree(s);
    return t;
}

/* ---- API ------------------------------------------------------------------ */

bool set_add(struct kv_set **sp, const char *m, size_t n)
{
    struct kv_set *s = *sp;
    if (s->enc == ENC_INTSET) {
        long long v;
        if (util_str2ll(m, n, &v)) {
            size_t pos;
            if (ifind(s, v, &pos))
                return false;
            if (s->count < set_max_intset_entries) {
                *sp = iinsert(s, v, pos);
                return true;
            }
        }
        s = *sp = to_ht(s);
    }
    uint64_t h = dict_hash(m, n);
    if (dict_find(ht(s), m, n, h))
        return false;
    ht_insert(ht(s), m, n, h);
    return true;
}

bool set_remove(struct kv_set **sp, const char *m, size_t n)
{
    struct kv_set *s = *sp;
    if (s->enc == ENC_INTSET) {
        long long v;
        size_t pos;
        if (!util_str2ll(m, n, &v) || !ifind(s, v, &pos))
            return false;
        memmove(ints(s) + pos * s->width, ints(s) + (pos + 1) * s->width, (s->count - pos - 1) * s->width);
        s->count--;
        size_t need = HDR + (size_t)s->count * s->width;
        if (xalloc_size(s) > 2 * need + 64)
            *sp = xrealloc(s, need);
        return true;
    }
    struct dict_node *e = dict_remove(ht(s), m, n, dict_hash(m, n));
    if (!e)
        return false;
    xfree(e);
    dict_maybe_shrink(ht(s));
    return true;
}

bool set_has(const struct kv_set *s, const char *m, size_t n)
{
    if (s->enc == ENC_INTSET) {
        long long v;
        size_t pos;
        return util_str2ll(m, n, &v) && ifind(s, v, &pos);
    }
    return dict_find(ht(s), m, n, dict_hash(m, n)) != NULL;
}

struct each_ctx {
    void (*fn)(const char *, size_t, void *);
    void *arg;
};

static void member_cb(struct dict_node *dn, void *arg)
{
    struct each_ctx *x = arg;
    struct smember *e = (struct smember *)dn;
    x->fn(e->data, e->dn.klen, x->arg);
}

void set_foreach(const struct kv_set *s, void (*fn)(const char *m, size_t n, void *arg), void *arg)
{
    if (s->enc == ENC_INTSET) {
        char buf[SET_INT_STR];
        for (size_t i = 0; i < s->count; i++)
            fn(buf, util_ll2str(buf, iget(s, i)), arg);
        return;
    }
    struct each_ctx x = {fn, arg};
    dict_foreach(ht(s), member_cb, &x);
}

uint64_t set_scan(const struct kv_set *s, uint64_t cursor, void (*fn)(const char *m, size_t n, void *arg), void *arg)
{
    if (s->enc == ENC_INTSET) {
        set_foreach(s, fn, arg);
        return 0;
    }
    struct each_ctx x = {fn, arg};
    return dict_scan(ht(s), cursor, member_cb, &x);
}

bool set_random(const struct kv_set *s, char *buf, const char **m, size_t *n)
{
    if (set_len(s) == 0)
        return false;
    if (s->enc == ENC_INTSET) {
        *n = util_ll2str(buf, iget(s, rand_below(s->count)));
        *m = buf;
        return true;
    }
    struct smember *e = (struct smember *)dict_random(ht(s));
    *m = e->data;
    *n = e->dn.klen;
    return true;
}
