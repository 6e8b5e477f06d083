/*
 * listobj.c — list values: a linked list of packed nodes (see listobj.h).
 *
 * Entry layout inside a node (sizes for an element of n bytes):
 *
 *     [n as LEB128 varint: h bytes][n bytes][(h + n) as reverse varint: b bytes]
 *
 * The reverse varint is written so that reading backwards from the end of
 * the entry finds the low 7 bits first; a set high bit means one more byte
 * precedes. Walking forward reads the header; walking backward reads the
 * back length. Every function keeps l->count, node->count and node->bytes
 * exact; a node never stays empty (it is freed).
 */
#include "kv/listobj.h"

#include <string.h>

#include "core/alloc.h"
#include "core/list.h"

long kv_list_fill = -2;

struct list_node {
    struct list_node *prev, *next;
    uint32_t count;  /* entries */
    uint32_t bytes;  /* bytes of data in use */
    char data[];
};

#define NODE_HDR offsetof(struct list_node, data)
#define SAFETY_LIMIT 8192 /* bytes per node with a positive (count) fill, as Redis */

struct kv_list {
    struct list_node *head, *tail;
    uint64_t count;
    uint32_t nodes;
};

/* ---- varints -------------------------------------------------------------- */

static inline size_t vsize(uint64_t v)
{
    size_t s = 1;
    while (v >= 128) {
        v >>= 7;
        s++;
    }
    return s;
}

static inline size_t vwrite(char *p, uint64_t v)
{
    size_t i = 0;
    while (v >= 128) {
        p[i++] = (char)((v & 127) | 128);
        v >>= 7;
    }
    p[i++] = (char)v;
    return i;
}

static inline size_t vread(const char *p, uint64_t *v)
{
    uint64_t r = 0;
    unsigned sh = 0;
    size_t i = 0;
    unsigned char b;
    do {
        b = (unsigned char)p[i++];
        r |= (uint64_t)(b & 127) << sh;
        sh += 7;
    } while (b & 128);
    *v = r;
    return i;
}

/* Reverse varint ending at end[-1]: returns the value, *k the bytes it took. */
static inline uint64_t bread(const char *end, size_t *k)
{
    uint64_t r = 0;
    unsigned sh = 0;
    size_t i = 0;
    unsigned char b;
    do {
        b = (unsigned char)end[-1 - (long)i];
        i++;
        r |= (uint64_t)(b & 127) << sh;
        sh += 7;
    } while (b & 128);
    *k = i;
    return r;
}

static inline void bwrite(char *p, uint64_t v, size_t sz)
{
    for (size_t i = 0; i < sz; i++)
        p[sz - 1 - i] = (char)(((v >> (7 * i)) & 127) | (i + 1 < sz ? 128 : 0));
}

/* Bytes an entry of n bytes takes. */
static inline size_t esize(size_t n)
{
    size_t h = vsize(n);
    return h + n + vsize(h + n);
}

static inline void ewrite(char *p, const char *v, size_t n)
{
    size_t h = vwrite(p, n);
    if (n)
        memcpy(p + h, v, n);
    bwrite(p + h + n, h + n, vsize(h + n));
}

/* Decode the entry at off: payload pointer and length; returns its total size. */
static inline uint32_t edecode(const struct list_node *nd, uint32_t off, const char **v, size_t *n)
{
    uint64_t len;
    size_t h = vread(nd->data + off, &len);
    *v = nd->data + off + h;
    *n = (size_t)len;
    return (uint32_t)(h + len + vsize(h + len));
}

static inline uint32_t etotal(const struct list_node *nd, uint32_t off)
{
    const char *v;
    size_t n;
    return edecode(nd, off, &v, &n);
}

/* Offset of the entry before the one at off (off > 0). */
static inline uint32_t eprev(const struct list_node *nd, uint32_t off)
{
    size_t k;
    uint64_t r = bread(nd->data + off, &k);
    return (uint32_t)(off - k - r);
}

static inline uint32_t elast(const struct list_node *nd) { return eprev(nd, nd->bytes); }

/* ---- nodes ---------------------------------------------------------------- */

static size_t limit_bytes(void)
{
    if (kv_list_fill >= 0)
        return SAFETY_LIMIT;
    long f = kv_list_fill < -5 ? -5 : kv_list_fill;
    return (size_t)4096 << (-f - 1);
}

/* May an entry of es bytes join node nd? An empty node takes anything. */
static bool node_allows(const struct list_node *nd, size_t es)
{
    if (!nd)
        return false;
    if (nd->count == 0)
        return true;
    size_t nb = nd->bytes + es;
    if (kv_list_fill < 0)
        return nb <= limit_bytes();
    return nb <= SAFETY_LIMIT && (long)nd->count < kv_list_fill;
}

static struct list_node *node_new(size_t cap)
{
    struct list_node *nd = xmalloc(NODE_HDR + cap);
    nd->prev = nd->next = NULL;
    nd->count = nd->bytes = 0;
    return nd;
}

/* Fix the links of the neighbours after nd moved (realloc). */
static void relink(struct kv_list *l, struct list_node *nd)
{
    if (nd->prev)
        nd->prev->next = nd;
    else
        l->head = nd;
    if (nd->next)
        nd->next->prev = nd;
    else
        l->tail = nd;
}

/* Room for `need` data bytes; grows by a quarter (capped at the node limit)
 * so a run of pushes does not realloc every time. Returns the node (moved). */
static struct list_node *node_reserve(struct kv_list *l, struct list_node *nd, size_t need)
{
    size_t have = xalloc_size(nd) - NODE_HDR;
    if (need <= have)
        return nd;
    size_t want = need + need / 4;
    size_t lim = limit_bytes();
    if (want > lim)
        want = need > lim ? need : lim;
    nd = xrealloc(nd, NODE_HDR + want);
    relink(l, nd);
    return nd;
}

/* Give back memory a node no longer uses (after deletions). */
static struct list_node *node_trim(struct kv_list *l, struct list_node *nd)
{
    size_t have = xalloc_size(nd) - NODE_HDR;
    if (have > 256 && have > (size_t)nd->bytes * 2) {
        nd = xrealloc(nd, NODE_HDR + nd->bytes + nd->bytes / 4);
        relink(l, nd);
    }
    return nd;
}

/* Link m after ref (ref NULL: at the head). */
static void link_after(struct kv_list *l, struct list_node *ref, struct list_node *m)
{
    m->prev = ref;
    m->next = ref ? ref->next : l->head;
    if (m->next)
        m->next->prev = m;
    else
        l->tail = m;
    if (ref)
        ref->next = m;
    else
        l->head = m;
    l->nodes++;
}

static void node_unlink_free(struct kv_list *l, struct list_node *nd)
{
    LIST_TREMOVE(l->head, l->tail, nd, prev, next);
    l->nodes--;
    xfree(nd);
}

/* Insert an entry at off of a node that has the room. */
static void insert_raw(struct kv_list *l, struct list_node *nd, uint32_t off, const char *v, size_t n)
{
    size_t es = esize(n);
    memmove(nd->data + off + es, nd->data + off, nd->bytes - off);
    ewrite(nd->data + off, v, n);
    nd->bytes += (uint32_t)es;
    nd->count++;
    l->count++;
}

/* Delete es bytes holding k entries at off. Returns the node, NULL if it was freed. */
static struct list_node *del_raw(struct kv_list *l, struct list_node *nd, uint32_t off, uint32_t es, uint32_t k)
{
    memmove(nd->data + off, nd->data + off + es, nd->bytes - off - es);
    nd->bytes -= es;
    nd->count -= k;
    l->count -= k;
    if (nd->count == 0) {
        node_unlink_free(l, nd);
        return NULL;
    }
    return node_trim(l, nd);
}

/*
 * Insert an entry before byte offset off of node nd (off == nd->bytes: after
 * its last entry); nd NULL only for an empty list. A full node is split at
 * off, so the limits hold for every node.
 */
static void insert_at(struct kv_list *l, struct list_node *nd, uint32_t off, const char *v, size_t n)
{
    size_t es = esize(n);
    if (!nd) {
        nd = node_new(es);
        link_after(l, l->tail, nd);
        insert_raw(l, nd, 0, v, n);
        return;
    }
    if (node_allows(nd, es)) {
        nd = node_reserve(l, nd, nd->bytes + es);
        insert_raw(l, nd, off, v, n);
        return;
    }
    if (off == 0) {
        struct list_node *p = nd->prev;
        if (node_allows(p, es)) {
            p = node_reserve(l, p, p->bytes + es);
            insert_raw(l, p, p->bytes, v, n);
        } else {
            struct list_node *m = node_new(es);
            link_after(l, nd->prev, m);
            insert_raw(l, m, 0, v, n);
        }
        return;
    }
    if (off == nd->bytes) {
        struct list_node *x = nd->next;
        if (node_allows(x, es)) {
            x = node_reserve(l, x, x->bytes + es);
            insert_raw(l, x, 0, v, n);
        } else {
            struct list_node *m = node_new(es);
            link_after(l, nd, m);
            insert_raw(l, m, 0, v, n);
        }
        return;
    }
    /* split: [off, bytes) moves to a new node after nd */
    uint32_t tail = nd->bytes - off, k = 0;
    struct list_node *m = node_new(tail);
    memcpy(m->data, nd->data + off, tail);
    m->bytes = tail;
    for (uint32_t o = 0; o < tail; o += etotal(m, o))
        k++;
    m->count = k;
    nd->count -= k;
    nd->bytes = off;
    link_after(l, nd, m);
    nd = node_trim(l, nd);
    insert_at(l, nd, nd->bytes, v, n);
}

/* Node and offset of element idx (< count). */
static struct list_node *locate(const struct kv_list *l, uint64_t idx, uint32_t *off)
{
    struct list_node *nd;
    if (idx < l->count / 2) {
        nd = l->head;
        while (idx >= nd->count) {
            idx -= nd->count;
            nd = nd->next;
        }
        uint32_t o = 0;
        for (uint64_t i = 0; i < idx; i++)
            o += etotal(nd, o);
        *off = o;
    } else {
        uint64_t r = l->count - 1 - idx;
        nd = l->tail;
        while (r >= nd->count) {
            r -= nd->count;
            nd = nd->prev;
        }
        uint32_t o = nd->bytes;
        for (uint64_t i = 0; i <= r; i++)
            o = eprev(nd, o);
        *off = o;
    }
    return nd;
}

/* ---- API ------------------------------------------------------------------ */

struct kv_list *kv_list_new(void) { return xcalloc(1, sizeof(struct kv_list)); }

void kv_list_free(struct kv_list *l)
{
    if (!l)
        return;
    for (struct list_node *nd = l->head, *next; nd; nd = next) {
        next = nd->next;
        xfree(nd);
    }
    xfree(l);
}


struct kv_list *kv_list_dup(const struct kv_list *l)
{
    struct kv_list *d = kv_list_new();
    for (const struct list_node *nd = l->head; nd; nd = nd->next) {
        struct list_node *m = node_new(nd->bytes);
        m->count = nd->count;
        m->bytes = nd->bytes;
        memcpy(m->data, nd->data, nd->bytes);
        link_after(d, d->tail, m);
    }
    d->count = l->count;
    return d;
}

uint64_t kv_list_len(const struct kv_list *l) { return l->count; }
uint32_t kv_list_nodes(const struct kv_list *l) { return l->nodes; }

size_t kv_list_memory(const struct kv_list *l)
{
    size_t m = xalloc_size(l);
    for (const struct list_node *nd = l->head; nd; nd = nd->next)
        m += xalloc_size(nd);
    return m;
}

void kv_list_push(struct kv_list *l, int where, const char *v, size_t n)
{
    if (where == LIST_HEAD)
        insert_at(l, l->head, 0, v, n);
    else
        insert_at(l, l->tail, l->tail ? l->tail->bytes : 0, v, n);
}

bool kv_list_peek(const struct kv_list *l, int where, const char **v, size_t *n)
{
    if (!l->count)
        return false;
    const struct list_node *nd = where == LIST_HEAD ? l->head : l->tail;
    edecode(nd, where == LIST_HEAD ? 0 : elast(nd), v, n);
    return true;
}

void kv_list_pop(struct kv_list *l, int where)
{
    struct list_node *nd = where == LIST_HEAD ? l->head : l->tail;
    uint32_t off = where == LIST_HEAD ? 0 : elast(nd);
    del_raw(l, nd, off, etotal(nd, off), 1);
}

bool kv_list_index(const struct kv_list *l, long long idx, const char **v, size_t *n)
{
    uint64_t i;
    if (idx < 0) {
        uint64_t back = (uint64_t)(-(idx + 1)) + 1; /* no overflow at LLONG_MIN */
        if (back > l->count)
            return false;
        i = l->count - back;
    } else {
        if ((uint64_t)idx >= l->count)
            return false;
        i = (uint64_t)idx;
    }
    uint32_t off;
    struct list_node *nd = locate(l, i, &off);
    edecode(nd, off, v, n);
    return true;
}

void kv_list_set(struct kv_list *l, uint64_t idx, const char *v, size_t n)
{
    uint32_t off;
    struct list_node *nd = locate(l, idx, &off);
    uint32_t old = etotal(nd, off);
    size_t es = esize(n);
    size_t nb = nd->bytes - old + es;
    bool fits = nd->count == 1 || (kv_list_fill < 0 ? nb <= limit_bytes() : nb <= SAFETY_LIMIT);
    if (fits) {
        if (es > old)
            nd = node_reserve(l, nd, nb);
        memmove(nd->data + off + es, nd->data + off + old, nd->bytes - off - old);
        ewrite(nd->data + off, v, n);
        nd->bytes = (uint32_t)nb;
        if (es < old)
            node_trim(l, nd);
        return;
    }
    /* count > 1: the node survives the delete */
    nd = del_raw(l, nd, off, old, 1);
    insert_at(l, nd, off, v, n);
}

void kv_list_del_range(struct kv_list *l, uint64_t start, uint64_t count)
{
    if (count == 0)
        return;
    uint32_t off;
    struct list_node *nd = locate(l, start, &off);
    while (count > 0 && nd) {
        struct list_node *next = nd->next;
        if (off == 0 && count >= nd->count) {
            count -= nd->count;
            l->count -= nd->count;
            node_unlink_free(l, nd);
        } else {
            uint32_t end = off, k = 0;
            while (end < nd->bytes && k < count) {
                end += etotal(nd, end);
                k++;
            }
            del_raw(l, nd, off, end - off, k);
            count -= k;
        }
        nd = next;
        off = 0;
    }
}

/* ---- iterator ------------------------------------------------------------- */

void kv_list_iter_init(struct list_iter *it, struct kv_list *l, uint64_t idx, bool fwd)
{
    it->l = l;
    it->fwd = fwd;
    it->n = idx < l->count ? locate(l, idx, &it->off) : NULL;
    if (!it->n)
        it->off = 0;
}

bool kv_list_iter_get(const struct list_iter *it, const char **v, size_t *n)
{
    if (!it->n)
        return false;
    edecode(it->n, it->off, v, n);
    return true;
}

/* Step from the current entry (of total size es) in the iterator's direction. */
static void step(struct list_iter *it)
{
    if (it->fwd) {
        if (it->off >= it->n->bytes) {
            it->n = it->n->next;
            it->off = 0;
        }
    } else if (it->off == 0) {
        it->n = it->n->prev;
        it->off = it->n ? elast(it->n) : 0;
    } else {
        it->off = eprev(it->n, it->off);
    }
}

void kv_list_iter_next(struct list_iter *it)
{
    if (!it->n)
        return;
    if (it->fwd)
        it->off += etotal(it->n, it->off);
    step(it);
}

void kv_list_iter_del(struct list_iter *it)
{
    struct list_node *nd = it->n, *next = nd->next, *prev = nd->prev;
    nd = del_raw(it->l, nd, it->off, etotal(nd, it->off), 1);
    if (!nd) {
        it->n = it->fwd ? next : prev;
        it->off = it->n && !it->fwd ? elast(it->n) : 0;
        return;
    }
    it->n = nd;
    step(it);
}

void kv_list_iter_insert(struct list_iter *it, bool after, const char *v, size_t n)
{
    uint32_t off = it->off + (after ? etotal(it->n, it->off) : 0);
    insert_at(it->l, it->n, off, v, n);
    it->n = NULL;
}
