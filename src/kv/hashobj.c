/*
 * hashobj.c — hash values: packed small encoding and dict encoding (see hashobj.h).
 */
#include "kv/hashobj.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "kv/dict.h"

size_t hash_max_entries = 128;
size_t hash_max_value = 64;

struct hfield {
    struct dict_node dn; /* dn.meta: value length */
    char data[];         /* field bytes, value bytes */
};

struct kv_hash {
    bool packed;
    uint32_t count;
    /* packed: records in buf[0..len) */
    char *buf;
    size_t len;
    /* dict encoding (allocated on conversion: a small hash does not carry it) */
    struct dict *d;
};

struct kv_hash *hash_new(void)
{
    struct kv_hash *h = xcalloc(1, sizeof *h);
    h->packed = true;
    return h;
}

static void free_field(struct dict_node *n, void *arg)
{
    (void)arg;
    xfree(n);
}

void hash_free(struct kv_hash *h)
{
    if (!h)
        return;
    if (h->packed)
        xfree(h->buf);
    else
        dict_deinit(h->d, free_field, NULL);
    xfree(h->d);
    xfree(h);
}

size_t hash_len(const struct kv_hash *h) { return h->packed ? h->count : dict_size(h->d); }
bool hash_is_packed(const struct kv_hash *h) { return h->packed; }

static void hfield_sum(struct dict_node *n, void *arg) { *(size_t *)arg += xalloc_size(n); }

size_t hash_memory(const struct kv_hash *h)
{
    size_t m = xalloc_size(h);
    if (h->packed)
        return m + xalloc_size(h->buf);
    m += xalloc_size(h->d) + dict_buckets(h->d) * sizeof(void *);
    dict_foreach(h->d, hfield_sum, &m);
    return m;
}

/* ---- packed encoding ----------------------------------------------------- */

static inline uint32_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void wr32(char *p, uint32_t v) { memcpy(p, &v, 4); }

/* Find a field in the packed buffer: offset of its record, or -1. */
static long packed_find(const struct kv_hash *h, const char *f, size_t flen)
{
    size_t off = 0;
    while (off < h->len) {
        uint32_t fl = rd32(h->buf + off);
        uint32_t vl = rd32(h->buf + off + 4 + fl);
        if (fl == flen && memcmp(h->buf + off + 4, f, flen) == 0)
            return (long)off;
        off += 8 + fl + vl;
    }
    return -1;
}

static void packed_append(struct kv_hash *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    size_t need = h->len + 8 + flen + vlen;
    if (need > xalloc_size(h->buf))
        h->buf = xrealloc(h->buf, need);
    char *p = h->buf + h->len;
    wr32(p, (uint32_t)flen);
    memcpy(p + 4, f, flen);
    wr32(p + 4 + flen, (uint32_t)vlen);
    memcpy(p + 8 + flen, v, vlen);
    h->len = need;
    h->count++;
}

static void packed_remove(struct kv_hash *h, size_t off)
{
    uint32_t fl = rd32(h->buf + off);
    uint32_t vl = rd32(h->buf + off + 4 + fl);
    size_t rec = 8 + (size_t)fl + vl;
    memmove(h->buf + off, h->buf + off + rec, h->len - off - rec);
    h->len -= rec;
    h->count--;
}

/* ---- dict encoding ------------------------------------------------------- */

static struct hfield *field_new(const char *f, size_t flen, const char *v, size_t vlen)
{
    struct hfield *n = xmalloc(offsetof(struct hfield, data) + flen + vlen);
    n->dn.next = NULL;
    n->dn.klen = (uint32_t)flen;
    n->dn.meta = (uint32_t)vlen;
    memcpy(n->data, f, flen);
    memcpy(n->data + flen, v, vlen);
    return n;
}

static void convert_to_dict(struct kv_hash *h)
{
    h->d = xmalloc(sizeof *h->d);
    dict_init(h->d, offsetof(struct hfield, data));
    size_t off = 0;
    while (off < h->len) {
        uint32_t fl = rd32(h->buf + off);
        const char *f = h->buf + off + 4;
        uint32_t vl = rd32(h->buf + off + 4 + fl);
        const char *v = h->buf + off + 8 + fl;
        dict_insert(h->d, &field_new(f, fl, v, vl)->dn, dict_hash(f, fl));
        off += 8 + fl + vl;
    }
    xfree(h->buf);
    h->buf = NULL;
    h->len = 0;
    h->count = 0;
    h->packed = false;
}

/* ---- API ----------------------------------------------------------------- */

static void dup_field(struct dict_node *dn, void *arg)
{
    const struct hfield *f = (const struct hfield *)dn;
    struct hfield *n = field_new(f->data, f->dn.klen, f->data + f->dn.klen, f->dn.meta);
    dict_insert(arg, &n->dn, dict_hash(f->data, f->dn.klen));
}

struct kv_hash *hash_dup(const struct kv_hash *h)
{
    struct kv_hash *d = xcalloc(1, sizeof *d);
    d->packed = h->packed;
    if (h->packed) {
        d->count = h->count;
        d->len = h->len;
        if (h->len) {
            d->buf = xmalloc(h->len);
            memcpy(d->buf, h->buf, h->len);
        }
    } else {
        d->d = xmalloc(sizeof *d->d);
        dict_init(d->d, offsetof(struct hfield, data));
        dict_foreach(h->d, dup_field, d->d);
    }
    return d;
}

bool hash_get(struct kv_hash *h, const char *f, size_t flen, const char **v, size_t *vlen)
{
    if (h->packed) {
        long off = packed_find(h, f, flen);
        if (off < 0)
            return false;
        *vlen = rd32(h->buf + off + 4 + flen);
        *v = h->buf + off + 8 + flen;
        return true;
    }
    struct hfield *n = (struct hfield *)dict_find(h->d, f, flen, dict_hash(f, flen));
    if (!n)
        return false;
    *v = n->data + flen;
    *vlen = n->dn.meta;
    return true;
}

int hash_set(struct kv_hash *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    if (h->packed) {
        long off = packed_find(h, f, flen);
        bool fits = flen <= hash_max_value && vlen <= hash_max_value;
        if (off >= 0) {
            uint32_t oldv = rd32(h->buf + off + 4 + flen);
            if (fits && oldv == vlen) {
                memcpy(h->buf + off + 8 + flen, v, vlen);
                return 0;
            }
            packed_remove(h, (size_t)off);
            if (fits) {
                packed_append(h, f, flen, v, vlen);
                return 0;
            }
            convert_to_dict(h);
            hash_set(h, f, flen, v, vlen);
            return 0;
        }
        if (fits && h->count < hash_max_entries) {
            packed_append(h, f, flen, v, vlen);
            return 1;
        }
        convert_to_dict(h);
    }
    uint64_t hv = dict_hash(f, flen);
    struct dict_node **ref = dict_find_ref(h->d, f, flen, hv);
    struct hfield *n = field_new(f, flen, v, vlen);
    if (ref) {
        n->dn.next = (*ref)->next;
        xfree(*ref);
        *ref = &n->dn;
        return 0;
    }
    dict_insert(h->d, &n->dn, hv);
    return 1;
}

bool hash_del(struct kv_hash *h, const char *f, size_t flen)
{
    if (h->packed) {
        long off = packed_find(h, f, flen);
        if (off < 0)
            return false;
        packed_remove(h, (size_t)off);
        return true;
    }
    struct dict_node *n = dict_remove(h->d, f, flen, dict_hash(f, flen));
    if (!n)
        return false;
    xfree(n);
    return true;
}

struct foreach_ctx {
    void (*fn)(const char *, size_t, const char *, size_t, void *);
    void *arg;
};

static void field_cb(struct dict_node *dn, void *arg)
{
    struct foreach_ctx *c = arg;
    struct hfield *n = (struct hfield *)dn;
    c->fn(n->data, n->dn.klen, n->data + n->dn.klen, n->dn.meta, c->arg);
}

void hash_foreach(struct kv_hash *h,
                  void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg)
{
    if (h->packed) {
        size_t off = 0;
        while (off < h->len) {
            uint32_t fl = rd32(h->buf + off);
            uint32_t vl = rd32(h->buf + off + 4 + fl);
            fn(h->buf + off + 4, fl, h->buf + off + 8 + fl, vl, arg);
            off += 8 + fl + vl;
        }
        return;
    }
    struct foreach_ctx c = {fn, arg};
    dict_foreach(h->d, field_cb, &c);
}

uint64_t hash_scan(struct kv_hash *h, uint64_t cursor,
                   void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg)
{
    if (h->packed) {
        hash_foreach(h, fn, arg);
        return 0;
    }
    struct foreach_ctx c = {fn, arg};
    return dict_scan(h->d, cursor, field_cb, &c);
}

bool hash_random(struct kv_hash *h, const char **f, size_t *flen, const char **v, size_t *vlen)
{
    if (hash_len(h) == 0)
        return false;
    if (h->packed) {
        uint64_t k = rand_below(h->count);
        size_t off = 0;
        for (;;) {
            uint32_t fl = rd32(h->buf + off);
            uint32_t vl = rd32(h->buf + off + 4 + fl);
            if (k-- == 0) {
                *f = h->buf + off + 4;
                *flen = fl;
                *v = h->buf + off + 8 + fl;
                *vlen = vl;
                return true;
            }
            off += 8 + fl + vl;
        }
    }
    struct hfield *n = (struct hfield *)dict_random(h->d);
    *f = n->data;
    *flen = n->dn.klen;
    *v = n->data + n->dn.klen;
    *vlen = n->dn.meta;
    return true;
}
