/*
 * hashobj.c — hash values: packed small encoding and dict encoding (see hashobj.h).
 */
#include "kv/hashobj.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "kv/dict.h"

size_t kv_hash_max_entries = 128;
size_t kv_hash_max_value = 64;

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

struct kv_hash *kv_hash_new(void)
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

void kv_hash_free(struct kv_hash *h)
{
    if (!h)
        return;
    if (h->packed)
        xfree(h->buf);
    else
        kv_dict_deinit(h->d, free_field, NULL);
    xfree(h->d);
    xfree(h);
}

size_t kv_hash_len(const struct kv_hash *h) { return h->packed ? h->count : dict_size(h->d); }
bool kv_hash_is_packed(const struct kv_hash *h) { return h->packed; }

static void hfield_sum(struct dict_node *n, void *arg) { *(size_t *)arg += xalloc_size(n); }

size_t kv_hash_memory(const struct kv_hash *h)
{
    size_t m = xalloc_size(h);
    if (h->packed)
        return m + xalloc_size(h->buf);
    m += xalloc_size(h->d) + dict_buckets(h->d) * sizeof(void *);
    kv_dict_foreach(h->d, hfield_sum, &m);
    return m;
}

/* ---- packed encoding ----------------------------------------------------- */

/* A record: field length, field bytes, value length, value bytes; lengths
 * as base-128 varints (one byte below 128, as listpack's small entries). */
struct prec {
    const char *f, *v;
    uint32_t fl, vl;
    size_t size; /* the whole record */
};

static size_t varint_get(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int shift = 0;; shift += 7) {
        unsigned char b = (unsigned char)p[i++];
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80) || shift >= 28)
            break;
    }
    *out = v;
    return i;
}

static size_t varint_put(char *p, uint32_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (char)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (char)v;
    return i;
}

static size_t varint_len(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void rec_read(const char *p, struct prec *r)
{
    const char *q = p;
    q += varint_get(q, &r->fl);
    r->f = q;
    q += r->fl;
    q += varint_get(q, &r->vl);
    r->v = q;
    r->size = (size_t)(q + r->vl - p);
}

/* Find a field in the packed buffer: offset of its record, or -1. */
static long packed_find(const struct kv_hash *h, const char *f, size_t flen, struct prec *r)
{
    size_t off = 0;
    while (off < h->len) {
        rec_read(h->buf + off, r);
        if (r->fl == flen && memcmp(r->f, f, flen) == 0)
            return (long)off;
        off += r->size;
    }
    return -1;
}

static void packed_append(struct kv_hash *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    size_t need = h->len + varint_len((uint32_t)flen) + flen + varint_len((uint32_t)vlen) + vlen;
    if (need > xalloc_size(h->buf))
        h->buf = xrealloc(h->buf, need);
    char *p = h->buf + h->len;
    p += varint_put(p, (uint32_t)flen);
    memcpy(p, f, flen);
    p += flen;
    p += varint_put(p, (uint32_t)vlen);
    memcpy(p, v, vlen);
    h->len = need;
    h->count++;
}

static void packed_remove(struct kv_hash *h, size_t off)
{
    struct prec r;
    rec_read(h->buf + off, &r);
    memmove(h->buf + off, h->buf + off + r.size, h->len - off - r.size);
    h->len -= r.size;
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
    kv_dict_init(h->d, offsetof(struct hfield, data));
    size_t off = 0;
    while (off < h->len) {
        struct prec r;
        rec_read(h->buf + off, &r);
        kv_dict_insert(h->d, &field_new(r.f, r.fl, r.v, r.vl)->dn, kv_dict_hash(r.f, r.fl));
        off += r.size;
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
    kv_dict_insert(arg, &n->dn, kv_dict_hash(f->data, f->dn.klen));
}

struct kv_hash *kv_hash_dup(const struct kv_hash *h)
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
        kv_dict_init(d->d, offsetof(struct hfield, data));
        kv_dict_foreach(h->d, dup_field, d->d);
    }
    return d;
}

bool kv_hash_get(struct kv_hash *h, const char *f, size_t flen, const char **v, size_t *vlen)
{
    if (h->packed) {
        struct prec r;
        if (packed_find(h, f, flen, &r) < 0)
            return false;
        *vlen = r.vl;
        *v = r.v;
        return true;
    }
    struct hfield *n = (struct hfield *)dict_find(h->d, f, flen, kv_dict_hash(f, flen));
    if (!n)
        return false;
    *v = n->data + flen;
    *vlen = n->dn.meta;
    return true;
}

int kv_hash_set(struct kv_hash *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    if (h->packed) {
        struct prec r;
        long off = packed_find(h, f, flen, &r);
        bool fits = flen <= kv_hash_max_value && vlen <= kv_hash_max_value;
        if (off >= 0) {
            if (fits && r.vl == vlen) {
                memcpy(h->buf + (r.v - h->buf), v, vlen);
                return 0;
            }
            packed_remove(h, (size_t)off);
            if (fits) {
                packed_append(h, f, flen, v, vlen);
                return 0;
            }
            convert_to_dict(h);
            kv_hash_set(h, f, flen, v, vlen);
            return 0;
        }
        if (fits && h->count < kv_hash_max_entries) {
            packed_append(h, f, flen, v, vlen);
            return 1;
        }
        convert_to_dict(h);
    }
    uint64_t hv = kv_dict_hash(f, flen);
    struct dict_node **ref = kv_dict_find_ref(h->d, f, flen, hv);
    struct hfield *n = field_new(f, flen, v, vlen);
    if (ref) {
        n->dn.next = (*ref)->next;
        xfree(*ref);
        *ref = &n->dn;
        return 0;
    }
    kv_dict_insert(h->d, &n->dn, hv);
    return 1;
}

bool kv_hash_del(struct kv_hash *h, const char *f, size_t flen)
{
    if (h->packed) {
        struct prec r;
        long off = packed_find(h, f, flen, &r);
        if (off < 0)
            return false;
        packed_remove(h, (size_t)off);
        return true;
    }
    struct dict_node *n = kv_dict_remove(h->d, f, flen, kv_dict_hash(f, flen));
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

void kv_hash_foreach(struct kv_hash *h,
                  void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg)
{
    if (h->packed) {
        size_t off = 0;
        while (off < h->len) {
            struct prec r;
            rec_read(h->buf + off, &r);
            fn(r.f, r.fl, r.v, r.vl, arg);
            off += r.size;
        }
        return;
    }
    struct foreach_ctx c = {fn, arg};
    kv_dict_foreach(h->d, field_cb, &c);
}

uint64_t kv_hash_scan(struct kv_hash *h, uint64_t cursor,
                   void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg)
{
    if (h->packed) {
        kv_hash_foreach(h, fn, arg);
        return 0;
    }
    struct foreach_ctx c = {fn, arg};
    return kv_dict_scan(h->d, cursor, field_cb, &c);
}

bool kv_hash_random(struct kv_hash *h, const char **f, size_t *flen, const char **v, size_t *vlen)
{
    if (kv_hash_len(h) == 0)
        return false;
    if (h->packed) {
        uint64_t k = rand_below(h->count);
        size_t off = 0;
        for (;;) {
            struct prec r;
            rec_read(h->buf + off, &r);
            if (k-- == 0) {
                *f = r.f;
                *flen = r.fl;
                *v = r.v;
                *vlen = r.vl;
                return true;
            }
            off += r.size;
        }
    }
    struct hfield *n = (struct hfield *)kv_dict_random(h->d);
    *f = n->data;
    *flen = n->dn.klen;
    *v = n->data + n->dn.klen;
    *vlen = n->dn.meta;
    return true;
}
