/*
 * setobj.c — set values: intset and hashtable encodings (see setobj.h).
 *
 * One allocation per set: an intset is an 8-byte header followed by the
 * sorted integers (count * width bytes, native byte order); a hashtable is a
 * bare struct dict whose nodes are the members (one allocation each).
 */
#include "kv/setobj.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/dict.h"

size_t kv_set_max_intset_entries = 512;

/*
 * A set handle is the address of its one allocation: an intset (struct
 * intset, bit 0 clear) or a bare struct dict (bit 0 set; malloc returns
 * addresses aligned to 16, so the bit is free). No header besides the dict's
 * own: a one-member hashtable set costs 16 bytes less than with one.
 */
struct intset {
    uint8_t width;   /* bytes per integer, 2, 4 or 8 */
    uint8_t pad[3];
    uint32_t count;
    uint64_t data[]; /* count * width bytes, sorted */
};

struct smember {
    struct dict_node dn;
    char data[];
};

#define HDR offsetof(struct intset, data)

static inline bool is_ht(const struct kv_set *s) { return ((uintptr_t)s & 1) != 0; }
static inline struct dict *ht(const struct kv_set *s) { return (struct dict *)((uintptr_t)s & ~(uintptr_t)1); }
static inline struct kv_set *ht_handle(struct dict *d) { return (struct kv_set *)((uintptr_t)d | 1); }
static inline struct intset *iset_of(const struct kv_set *s) { return (struct intset *)(uintptr_t)s; }
static inline char *ints(struct intset *s) { return (char *)s->data; }
static inline const char *cints(const struct intset *s) { return (const char *)s->data; }

struct kv_set *kv_set_new(void)
{
    struct intset *s = xmalloc(HDR);
    s->width = 2;
    s->count = 0;
    return (struct kv_set *)s;
}

static void free_member(struct dict_node *n, void *arg)
{
    (void)arg;
    xfree(n);
}

void kv_set_free(struct kv_set *s)
{
    if (!s)
        return;
    if (is_ht(s)) {
        kv_dict_deinit(ht(s), free_member, NULL);
        xfree(ht(s));
    } else {
        xfree(iset_of(s));
    }
}

uint64_t kv_set_len(const struct kv_set *s) { return is_ht(s) ? dict_size(ht(s)) : iset_of(s)->count; }
bool kv_set_is_intset(const struct kv_set *s) { return !is_ht(s); }

static void member_sum(struct dict_node *n, void *arg) { *(size_t *)arg += xalloc_size(n); }

size_t kv_set_memory(const struct kv_set *s)
{
    if (!is_ht(s))
        return xalloc_size(iset_of(s));
    size_t m = xalloc_size(ht(s)) + dict_buckets(ht(s)) * sizeof(void *);
    kv_dict_foreach(ht(s), member_sum, &m);
    return m;
}

/* ---- intset --------------------------------------------------------------- */

static inline int64_t iget(const struct intset *s, size_t i)
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

static inline void iset(struct intset *s, size_t i, int64_t v)
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
static bool ifind(const struct intset *s, int64_t v, size_t *pos)
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
static struct intset *ireserve(struct intset *s, size_t count, uint8_t width)
{
    size_t need = HDR + count * width;
    if (need > xalloc_size(s))
        s = xrealloc(s, need + (count > 64 ? need / 8 : 0));
    return s;
}

static struct intset *iinsert(struct intset *s, int64_t v, size_t pos)
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
    kv_dict_insert(d, &e->dn, h);
}

static struct kv_set *to_ht(struct intset *s)
{
    struct dict *d = xmalloc(sizeof *d);
    kv_dict_init(d, offsetof(struct smember, data));
    char buf[SET_INT_STR];
    for (size_t i = 0; i < s->count; i++) {
        size_t n = util_ll2str(buf, iget(s, i));
        ht_insert(d, buf, n, kv_dict_hash(buf, n));
    }
    xfree(s);
    return ht_handle(d);
}

/* ---- API ------------------------------------------------------------------ */

static void dup_member(struct dict_node *dn, void *arg)
{
    const struct smember *e = (const struct smember *)dn;
    ht_insert(arg, e->data, e->dn.klen, kv_dict_hash(e->data, e->dn.klen));
}

struct kv_set *kv_set_dup(const struct kv_set *s)
{
    if (is_ht(s)) {
        struct dict *d = xmalloc(sizeof *d);
        kv_dict_init(d, offsetof(struct smember, data));
        kv_dict_foreach(ht(s), dup_member, d);
        return ht_handle(d);
    }
    const struct intset *is = iset_of(s);
    size_t n = HDR + (size_t)is->count * is->width;
    struct intset *c = xmalloc(n);
    memcpy(c, is, n);
    return (struct kv_set *)c;
}


bool kv_set_add(struct kv_set **sp, const char *m, size_t n)
{
    struct kv_set *s = *sp;
    if (!is_ht(s)) {
        struct intset *is = iset_of(s);
        long long v;
        if (util_str2ll(m, n, &v)) {
            size_t pos;
            if (ifind(is, v, &pos))
                return false;
            if (is->count < kv_set_max_intset_entries) {
                *sp = (struct kv_set *)iinsert(is, v, pos);
                return true;
            }
        }
        s = *sp = to_ht(is);
    }
    uint64_t h = kv_dict_hash(m, n);
    if (dict_find(ht(s), m, n, h))
        return false;
    ht_insert(ht(s), m, n, h);
    return true;
}

bool kv_set_remove(struct kv_set **sp, const char *m, size_t n)
{
    struct kv_set *s = *sp;
    if (!is_ht(s)) {
        struct intset *is = iset_of(s);
        long long v;
        size_t pos;
        if (!util_str2ll(m, n, &v) || !ifind(is, v, &pos))
            return false;
        memmove(ints(is) + pos * is->width, ints(is) + (pos + 1) * is->width, (is->count - pos - 1) * is->width);
        is->count--;
        size_t need = HDR + (size_t)is->count * is->width;
        if (xalloc_size(is) > 2 * need + 64)
            *sp = (struct kv_set *)xrealloc(is, need);
        return true;
    }
    struct dict_node *e = kv_dict_remove(ht(s), m, n, kv_dict_hash(m, n));
    if (!e)
        return false;
    xfree(e);
    kv_dict_maybe_shrink(ht(s));
    return true;
}

bool kv_set_has(const struct kv_set *s, const char *m, size_t n)
{
    if (!is_ht(s)) {
        long long v;
        size_t pos;
        return util_str2ll(m, n, &v) && ifind(iset_of(s), v, &pos);
    }
    return dict_find(ht(s), m, n, kv_dict_hash(m, n)) != NULL;
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

void kv_set_foreach(const struct kv_set *s, void (*fn)(const char *m, size_t n, void *arg), void *arg)
{
    if (!is_ht(s)) {
        const struct intset *is = iset_of(s);
        char buf[SET_INT_STR];
        for (size_t i = 0; i < is->count; i++)
            fn(buf, util_ll2str(buf, iget(is, i)), arg);
        return;
    }
    struct each_ctx x = {fn, arg};
    kv_dict_foreach(ht(s), member_cb, &x);
}

uint64_t kv_set_scan(const struct kv_set *s, uint64_t cursor, void (*fn)(const char *m, size_t n, void *arg), void *arg)
{
    if (!is_ht(s)) {
        kv_set_foreach(s, fn, arg);
        return 0;
    }
    struct each_ctx x = {fn, arg};
    return kv_dict_scan(ht(s), cursor, member_cb, &x);
}

bool kv_set_random(const struct kv_set *s, char *buf, const char **m, size_t *n)
{
    if (kv_set_len(s) == 0)
        return false;
    if (!is_ht(s)) {
        const struct intset *is = iset_of(s);
        *n = util_ll2str(buf, iget(is, rand_below(is->count)));
        *m = buf;
        return true;
    }
    struct smember *e = (struct smember *)kv_dict_random(ht(s));
    *m = e->data;
    *n = e->dn.klen;
    return true;
}
