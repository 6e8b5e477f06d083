/*
 * streamobj.c — stream entries in packed nodes, consumer groups and their
 * pending entries lists (see streamobj.h for the layout).
 *
 * Runs under the kv keyspace lock; never includes server headers, so unit
 * tests link it alone.
 */
#include "kv/streamobj.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

enum { F_DELETED = 1, F_SAME = 2 };

struct stream_node {
    struct stream_id first;   /* master id: the first entry ever put in the node */
    struct stream_id last;    /* the last entry's id (deleted or not) */
    uint32_t count;           /* entries, deleted included */
    uint32_t deleted;
    uint32_t used, cap;       /* bytes of buf */
    unsigned char buf[];
};

/* ---- ids ----------------------------------------------------------------- */

bool kv_stream_id_incr(struct stream_id *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) {
            id->ms = id->seq = 0;
            return false;
        }
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return true;
}

bool kv_stream_id_decr(struct stream_id *id)
{
    if (id->seq == 0) {
        if (id->ms == 0) {
            id->ms = id->seq = UINT64_MAX;
            return false;
        }
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return true;
}

size_t kv_stream_id_fmt(char *dst, const struct stream_id *id)
{
    return (size_t)snprintf(dst, 42, "%llu-%llu", (unsigned long long)id->ms, (unsigned long long)id->seq);
}

/* ---- varints ------------------------------------------------------------- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static unsigned char *varint_put(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static const unsigned char *varint_get(const unsigned char *p, uint64_t *v)
{
    uint64_t r = 0;
    int shift = 0;
    for (;;) {
        unsigned char b = *p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *v = r;
    return p;
}

static const unsigned char *skip_str(const unsigned char *p)
{
    uint64_t n;
    p = varint_get(p, &n);
    return p + n;
}

/* ---- nodes ---------------------------------------------------------------- */

/* Offset of the first entry record (past the master fields). */
static uint32_t node_entries_off(const struct stream_node *nd, uint64_t *nmaster)
{
    const unsigned char *p = varint_get(nd->buf, nmaster);
    for (uint64_t i = 0; i < *nmaster; i++)
        p = skip_str(p);
    return (uint32_t)(p - nd->buf);
}

struct rec {
    uint32_t off;           /* of the flags byte */
    uint32_t next;          /* of the next record */
    unsigned flags;
    struct stream_id id;
    uint64_t nfields;
    const unsigned char *fields;
};

static void rec_parse(const struct stream_node *nd, uint64_t nmaster, uint32_t off, struct rec *r)
{
    const unsigned char *p = nd->buf + off;
    uint64_t msd, seq;
    r->off = off;
    r->flags = *p++;
    p = varint_get(p, &msd);
    p = varint_get(p, &seq);
    r->id.ms = nd->first.ms + msd;
    r->id.seq = msd == 0 ? nd->first.seq + seq : seq;
    if (r->flags & F_SAME) {
        r->nfields = nmaster;
        r->fields = p;
        for (uint64_t i = 0; i < nmaster; i++)
            p = skip_str(p);
    } else {
        p = varint_get(p, &r->nfields);
        r->fields = p;
        for (uint64_t i = 0; i < r->nfields * 2; i++)
            p = skip_str(p);
    }
    r->next = (uint32_t)(p - nd->buf);
}

static size_t str_size(size_t n) { return varint_len(n) + n; }

static struct stream_node *node_new(const struct stream_id *id, const struct stream_str *kv, size_t nfields,
                                    size_t need)
{
    size_t master = varint_len(nfields);
    for (size_t i = 0; i < nfields; i++)
        master += str_size(kv[2 * i].n);
    size_t cap = master + need;
    if (cap < 256)
        cap = 256;
    struct stream_node *nd = xmalloc(sizeof *nd + cap);
    nd->cap = (uint32_t)((xalloc_size(nd) - sizeof *nd) > UINT32_MAX ? cap : xalloc_size(nd) - sizeof *nd);
    nd->first = *id;
    nd->last = *id;
    nd->count = 0;
    nd->deleted = 0;
    unsigned char *p = varint_put(nd->buf, nfields);
    for (size_t i = 0; i < nfields; i++) {
        p = varint_put(p, kv[2 * i].n);
        memcpy(p, kv[2 * i].p, kv[2 * i].n);
        p += kv[2 * i].n;
    }
    nd->used = (uint32_t)(p - nd->buf);
    return nd;
}

static bool same_fields(const struct stream_node *nd, const struct stream_str *kv, size_t nfields)
{
    uint64_t nm;
    const unsigned char *p = varint_get(nd->buf, &nm);
    if (nm != nfields)
        return false;
    for (size_t i = 0; i < nfields; i++) {
        uint64_t n;
        p = varint_get(p, &n);
        if (n != kv[2 * i].n || memcmp(p, kv[2 * i].p, n) != 0)
            return false;
        p += n;
    }
    return true;
}

static void nodes_insert(struct kv_stream *s, size_t at, struct stream_node *nd)
{
    if (s->nnodes == s->capnodes) {
        s->capnodes = s->capnodes ? s->capnodes * 2 : 4;
        s->nodes = xrealloc(s->nodes, s->capnodes * sizeof *s->nodes);
    }
    memmove(s->nodes + at + 1, s->nodes + at, (s->nnodes - at) * sizeof *s->nodes);
    s->nodes[at] = nd;
    s->nnodes++;
}

static void nodes_remove(struct kv_stream *s, size_t at)
{
    xfree(s->nodes[at]);
    memmove(s->nodes + at, s->nodes + at + 1, (s->nnodes - at - 1) * sizeof *s->nodes);
    s->nnodes--;
}

/* ---- stream --------------------------------------------------------------- */

struct kv_stream *kv_stream_new(void) { return xcalloc(1, sizeof(struct kv_stream)); }

static void cg_free(struct stream_cg *g)
{
    for (size_t i = 0; i < g->nconsumers; i++) {
        xfree(g->consumers[i]->name);
        xfree(g->consumers[i]);
    }
    XFREE_ALL(g->consumers, g->pel_base, g->name, g);
}

void kv_stream_free(struct kv_stream *s)
{
    if (!s)
        return;
    XFREE_VEC(s->nodes, s->nnodes);
    for (size_t i = 0; i < s->ngroups; i++)
        cg_free(s->groups[i]);
    xfree(s->groups);
    xfree(s);
}

static void *memdup(const void *p, size_t n)
{
    void *q = xmalloc(n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

static struct stream_cg *cg_dup(const struct stream_cg *g)
{
    struct stream_cg *d = xcalloc(1, sizeof *d);
    d->name = memdup(g->name, g->nlen);
    d->nlen = g->nlen;
    d->last_id = g->last_id;
    d->entries_read = g->entries_read;
    d->nconsumers = d->capconsumers = g->nconsumers;
    d->consumers = xmalloc((g->nconsumers ? g->nconsumers : 1) * sizeof *d->consumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        struct stream_consumer *c = xmalloc(sizeof *c);
        *c = *g->consumers[i];
        c->name = memdup(g->consumers[i]->name, g->consumers[i]->nlen);
        d->consumers[i] = c;
    }
    d->npel = d->cappel = g->npel;
    d->pel = d->pel_base = xmalloc((g->npel ? g->npel : 1) * sizeof *d->pel);
    for (size_t i = 0; i < g->npel; i++) {
        d->pel[i] = g->pel[i];
        /* consumers are sorted the same way in both: map by position */
        size_t lo = 0, hi = g->nconsumers;
        while (lo < hi && g->consumers[lo] != g->pel[i].consumer)
            lo++;
        d->pel[i].consumer = lo < hi ? d->consumers[lo] : NULL;
    }
    return d;
}

struct kv_stream *kv_stream_dup(const struct kv_stream *s)
{
    struct kv_stream *d = xmalloc(sizeof *d);
    *d = *s;
    d->capnodes = s->nnodes;
    d->nodes = xmalloc((s->nnodes ? s->nnodes : 1) * sizeof *d->nodes);
    for (size_t i = 0; i < s->nnodes; i++) {
        const struct stream_node *nd = s->nodes[i];
        struct stream_node *c = xmalloc(sizeof *c + nd->used);
        memcpy(c, nd, sizeof *c + nd->used);
        c->cap = nd->used;
        d->nodes[i] = c;
    }
    d->capgroups = s->ngroups;
    d->groups = s->ngroups ? xmalloc(s->ngroups * sizeof *d->groups) : NULL;
    for (size_t i = 0; i < s->ngroups; i++)
        d->groups[i] = cg_dup(s->groups[i]);
    return d;
}

size_t kv_stream_memory(const struct kv_stream *s)
{
    size_t m = xalloc_size(s);
    if (s->nodes)
        m += xalloc_size(s->nodes);
    for (size_t i = 0; i < s->nnodes; i++)
        m += xalloc_size(s->nodes[i]);
    if (s->groups)
        m += xalloc_size(s->groups);
    for (size_t i = 0; i < s->ngroups; i++) {
        const struct stream_cg *g = s->groups[i];
        m += xalloc_size(g) + xalloc_size(g->name);
        if (g->pel_base)
            m += xalloc_size(g->pel_base);
        if (g->consumers)
            m += xalloc_size(g->consumers);
        for (size_t j = 0; j < g->nconsumers; j++)
            m += xalloc_size(g->consumers[j]) + xalloc_size(g->consumers[j]->name);
    }
    return m;
}

size_t kv_stream_nodes(const struct kv_stream *s) { return s->nnodes; }

/* Index of the node that may hold id: the last one whose first id <= id; nnodes when none. */
static size_t node_for(const struct kv_stream *s, const struct stream_id *id)
{
    size_t lo = 0, hi = s->nnodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(&s->nodes[mid]->first, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? s->nnodes : lo - 1;
}

void kv_stream_append(struct kv_stream *s, const struct stream_id *id, const struct stream_str *kv, size_t nfields)
{
    /* the tail: the node with the greatest first id (Redis: raxSeek "$") */
    size_t ni = s->nnodes ? s->nnodes - 1 : 0;
    struct stream_node *nd = s->nnodes ? s->nodes[ni] : NULL;
    /* the record without fields names, to size the tail node check */
    size_t vals = 0, names = varint_len(nfields);
    for (size_t i = 0; i < nfields; i++) {
        vals += str_size(kv[2 * i + 1].n);
        names += str_size(kv[2 * i].n);
    }
    if (nd && (nd->count >= STREAM_NODE_MAX_ENTRIES || nd->used + vals + names + 21 > STREAM_NODE_MAX_BYTES))
        nd = NULL;
    unsigned flags = 0;
    uint64_t msd = 0, seq = 0;
    if (!nd) {
        if (s->nnodes) {
            /* the old tail is complete: give back its spare capacity */
            struct stream_node *t = s->nodes[s->nnodes - 1];
            if (t->cap > t->used + 16) {
                t = xrealloc(t, sizeof *t + t->used);
                t->cap = (uint32_t)(xalloc_size(t) - sizeof *t);
                s->nodes[s->nnodes - 1] = t;
            }
        }
        nd = node_new(id, kv, nfields, 1 + 2 + vals);
        /* nodes are ordered by first id (Redis's rax key): the end, unless an
         * XSETID went below a tombstone that starts a node */
        ni = node_for(s, id);
        ni = ni == s->nnodes ? 0 : ni + 1;
        nodes_insert(s, ni, nd);
        flags = F_SAME;
    } else if (same_fields(nd, kv, nfields)) {
        flags = F_SAME;
    }
    msd = id->ms - nd->first.ms;
    seq = msd == 0 ? id->seq - nd->first.seq : id->seq;
    size_t need = 1 + varint_len(msd) + varint_len(seq) + vals + (flags & F_SAME ? 0 : names);
    if (nd->used + need > nd->cap) {
        size_t cap = nd->cap * 2;
        if (cap < nd->used + need)
            cap = nd->used + need;
        nd = xrealloc(nd, sizeof *nd + cap);
        nd->cap = (uint32_t)(xalloc_size(nd) - sizeof *nd);
        s->nodes[ni] = nd;
    }
    unsigned char *p = nd->buf + nd->used;
    *p++ = (unsigned char)flags;
    p = varint_put(p, msd);
    p = varint_put(p, seq);
    if (!(flags & F_SAME))
        p = varint_put(p, nfields);
    for (size_t i = 0; i < nfields; i++) {
        if (!(flags & F_SAME)) {
            p = varint_put(p, kv[2 * i].n);
            memcpy(p, kv[2 * i].p, kv[2 * i].n);
            p += kv[2 * i].n;
        }
        p = varint_put(p, kv[2 * i + 1].n);
        memcpy(p, kv[2 * i + 1].p, kv[2 * i + 1].n);
        p += kv[2 * i + 1].n;
    }
    nd->used = (uint32_t)(p - nd->buf);
    nd->count++;
    nd->last = *id;
    s->length++;
    s->entries_added++;
    s->last_id = *id;
}

/* Mark the record at off deleted; frees the node (index ni) when it was its last live entry. */
static void mark_deleted(struct kv_stream *s, size_t ni, uint32_t off)
{
    struct stream_node *nd = s->nodes[ni];
    nd->buf[off] |= F_DELETED;
    nd->deleted++;
    s->length--;
    if (nd->deleted == nd->count)
        nodes_remove(s, ni);
}

bool kv_stream_delete(struct kv_stream *s, const struct stream_id *id)
{
    /* the walk of an iterator from id to id (Redis streamDeleteItem) */
    size_t ni = node_for(s, id);
    if (ni == s->nnodes)
        ni = 0;
    for (; ni < s->nnodes; ni++) {
        const struct stream_node *nd = s->nodes[ni];
        uint64_t nm;
        uint32_t off = node_entries_off(nd, &nm);
        for (uint32_t i = 0; i < nd->count; i++) {
            struct rec r;
            rec_parse(nd, nm, off, &r);
            if (!(r.flags & F_DELETED)) {
                int c = stream_id_cmp(&r.id, id);
                if (c == 0) {
                    mark_deleted(s, ni, off);
                    return true;
                }
                if (c > 0)
                    return false;
            }
            off = r.next;
        }
    }
    return false;
}

bool kv_stream_first_id(const struct kv_stream *s, struct stream_id *id)
{
    struct stream_iter it;
    uint64_t nf;
    kv_stream_iter_init(&it, s, NULL, NULL, false);
    return kv_stream_iter_next(&it, id, &nf);
}

bool kv_stream_last_valid_id(const struct kv_stream *s, struct stream_id *id)
{
    struct stream_iter it;
    uint64_t nf;
    kv_stream_iter_init(&it, s, NULL, NULL, true);
    return kv_stream_iter_next(&it, id, &nf);
}

uint64_t kv_stream_trim(struct kv_stream *s, int strategy, uint64_t maxlen, const struct stream_id *minid,
                     bool approx, uint64_t limit)
{
    uint64_t deleted = 0;
    while (s->nnodes) {
        if (strategy == STREAM_TRIM_MAXLEN && s->length <= maxlen)
            break;
        struct stream_node *nd = s->nodes[0];
        uint64_t entries = nd->count - nd->deleted;
        if (limit && deleted + entries > limit)
            break;
        bool remove;
        if (strategy == STREAM_TRIM_MAXLEN)
            remove = s->length - entries >= maxlen;
        else
            remove = stream_id_cmp(&nd->last, minid) < 0;
        if (remove) {
            nodes_remove(s, 0);
            s->length -= entries;
            deleted += entries;
            continue;
        }
        if (approx)
            break;
        uint64_t nm;
        uint32_t off = node_entries_off(nd, &nm);
        uint32_t count = nd->count;
        for (uint32_t i = 0; i < count; i++) {
            struct rec r;
            rec_parse(nd, nm, off, &r);
            bool stop = strategy == STREAM_TRIM_MAXLEN ? s->length <= maxlen : stream_id_cmp(&r.id, minid) >= 0;
            if (stop)
                break;
            if (!(r.flags & F_DELETED)) {
                nd->buf[off] |= F_DELETED;
                nd->deleted++;
                s->length--;
                deleted++;
            }
            off = r.next;
        }
        /* not the whole node (else it had been removed above) */
        break;
    }
    return deleted;
}

/* ---- raw nodes ------------------------------------------------------------ */

void kv_stream_node_view(const struct kv_stream *s, size_t i, struct kv_stream_node_view *v)
{
    const struct stream_node *nd = s->nodes[i];
    v->master = nd->first;
    v->count = nd->count;
    v->deleted = nd->deleted;
    v->mfields = varint_get(nd->buf, &v->nmaster);
    v->recs = nd->buf + node_entries_off(nd, &v->nmaster);
}

const unsigned char *kv_stream_raw_rec(const struct kv_stream_node_view *v, const unsigned char *p, struct kv_stream_raw_rec *r)
{
    uint64_t msd, seq;
    unsigned flags = *p++;
    p = varint_get(p, &msd);
    p = varint_get(p, &seq);
    r->deleted = (flags & F_DELETED) != 0;
    r->same = (flags & F_SAME) != 0;
    r->id.ms = v->master.ms + msd;
    r->id.seq = msd == 0 ? v->master.seq + seq : seq;
    if (r->same) {
        r->nfields = v->nmaster;
        r->fields = p;
        for (uint64_t i = 0; i < v->nmaster; i++)
            p = skip_str(p);
    } else {
        p = varint_get(p, &r->nfields);
        r->fields = p;
        for (uint64_t i = 0; i < r->nfields * 2; i++)
            p = skip_str(p);
    }
    return p;
}

const unsigned char *kv_stream_raw_str(const unsigned char *p, struct stream_str *out)
{
    uint64_t n;
    p = varint_get(p, &n);
    out->p = (const char *)p;
    out->n = (size_t)n;
    return p + n;
}

void kv_stream_load_node(struct kv_stream *s, const struct stream_id *master, const struct stream_str *mfields,
                      size_t nmaster)
{
    /* node_new wants (field, value) pairs: only the fields are read */
    struct stream_str stack[32] = {{NULL, 0}};
    struct stream_str *kv = nmaster <= 16 ? stack : xmalloc(2 * nmaster * sizeof *kv);
    for (size_t i = 0; i < nmaster; i++) {
        kv[2 * i] = mfields[i];
        kv[2 * i + 1].p = NULL;
        kv[2 * i + 1].n = 0;
    }
    struct stream_node *nd = node_new(master, kv, nmaster, 64);
    if (kv != stack)
        xfree(kv);
    nodes_insert(s, s->nnodes, nd);
}

bool kv_stream_load_rec(struct kv_stream *s, bool deleted, const struct stream_id *id, const struct stream_str *kv,
                     size_t nfields)
{
    size_t ni = s->nnodes - 1;
    struct stream_node *nd = s->nodes[ni];
    if (nd->count >= STREAM_NODE_MAX_ENTRIES)
        return false;
    unsigned flags = (same_fields(nd, kv, nfields) ? F_SAME : 0) | (deleted ? F_DELETED : 0);
    uint64_t msd = id->ms - nd->first.ms;
    uint64_t seq = msd == 0 ? id->seq - nd->first.seq : id->seq;
    size_t need = 1 + varint_len(msd) + varint_len(seq) + varint_len(nfields);
    for (size_t i = 0; i < nfields; i++)
        need += str_size(kv[2 * i].n) + str_size(kv[2 * i + 1].n);
    if (nd->used + need > nd->cap) {
        size_t cap = nd->cap * 2;
        if (cap < nd->used + need)
            cap = nd->used + need;
        nd = xrealloc(nd, sizeof *nd + cap);
        nd->cap = (uint32_t)(xalloc_size(nd) - sizeof *nd);
        s->nodes[ni] = nd;
    }
    unsigned char *p = nd->buf + nd->used;
    *p++ = (unsigned char)flags;
    p = varint_put(p, msd);
    p = varint_put(p, seq);
    if (!(flags & F_SAME))
        p = varint_put(p, nfields);
    for (size_t i = 0; i < nfields; i++) {
        if (!(flags & F_SAME)) {
            p = varint_put(p, kv[2 * i].n);
            memcpy(p, kv[2 * i].p, kv[2 * i].n);
            p += kv[2 * i].n;
        }
        p = varint_put(p, kv[2 * i + 1].n);
        memcpy(p, kv[2 * i + 1].p, kv[2 * i + 1].n);
        p += kv[2 * i + 1].n;
    }
    nd->used = (uint32_t)(p - nd->buf);
    nd->count++;
    if (deleted)
        nd->deleted++;
    nd->last = *id;
    return true;
}

void kv_stream_load_node_end(struct kv_stream *s)
{
    if (!s->nnodes)
        return;
    struct stream_node *nd = s->nodes[s->nnodes - 1];
    if (nd->deleted == nd->count) {
        nodes_remove(s, s->nnodes - 1);
        return;
    }
    if (nd->cap > nd->used + 16) {
        nd = xrealloc(nd, sizeof *nd + nd->used);
        nd->cap = (uint32_t)(xalloc_size(nd) - sizeof *nd);
        s->nodes[s->nnodes - 1] = nd;
    }
}

/* ---- iteration ------------------------------------------------------------ */

static const struct stream_id id_min = {0, 0};
static const struct stream_id id_max = {UINT64_MAX, UINT64_MAX};

/* Decode the record offsets of node it->node into it->offs. */
static void iter_load(struct stream_iter *it)
{
    const struct stream_node *nd = it->s->nodes[it->node];
    uint64_t nm;
    uint32_t off = node_entries_off(nd, &nm);
    it->nm = nm;
    it->mfirst = varint_get(nd->buf, &nm);
    for (uint32_t i = 0; i < nd->count; i++) {
        struct rec r;
        it->offs[i] = off;
        rec_parse(nd, nm, off, &r);
        off = r.next;
    }
    it->n = nd->count;
}

void kv_stream_iter_init(struct stream_iter *it, const struct kv_stream *s, const struct stream_id *start,
                      const struct stream_id *end, bool rev)
{
    it->s = s;
    it->start = start ? *start : id_min;
    it->end = end ? *end : id_max;
    it->rev = rev;
    it->started = false;
    it->done = s->nnodes == 0 || stream_id_cmp(&it->start, &it->end) > 0;
    it->n = 0;
}

bool kv_stream_iter_next(struct stream_iter *it, struct stream_id *id, uint64_t *nfields)
{
    const struct kv_stream *s = it->s;
    if (it->done)
        return false;
    if (!it->started) {
        it->started = true;
        if (!it->rev) {
            size_t ni = node_for(s, &it->start);
            it->node = ni == s->nnodes ? 0 : ni;
            iter_load(it);
            it->pos = 0;
        } else {
            size_t ni = node_for(s, &it->end);
            it->node = ni == s->nnodes ? s->nnodes - 1 : ni; /* Redis: else the last node */
            iter_load(it);
            it->pos = it->n;
        }
    }
    for (;;) {
        const struct stream_node *nd = s->nodes[it->node];
        if (!it->rev) {
            if (it->pos >= it->n) {
                if (it->node + 1 >= s->nnodes) {
                    it->done = true;
                    return false;
                }
                it->node++;
                iter_load(it);
                it->pos = 0;
                continue;
            }
        } else {
            if (it->pos == 0) {
                if (it->node == 0) {
                    it->done = true;
                    return false;
                }
                it->node--;
                iter_load(it);
                it->pos = it->n;
                continue;
            }
        }
        uint32_t idx = it->rev ? --it->pos : it->pos++;
        struct rec r;
        rec_parse(nd, it->nm, it->offs[idx], &r);
        /* Only live entries bound the walk, as Redis's iterator: after an
         * XSETID below a tombstone, later live entries sit after a greater
         * deleted id in the same node. */
        if (r.flags & F_DELETED)
            continue;
        if (!it->rev) {
            if (stream_id_cmp(&r.id, &it->start) < 0)
                continue;
            if (stream_id_cmp(&r.id, &it->end) > 0) {
                it->done = true;
                return false;
            }
        } else {
            if (stream_id_cmp(&r.id, &it->end) > 0)
                continue;
            if (stream_id_cmp(&r.id, &it->start) < 0) {
                it->done = true;
                return false;
            }
        }
        *id = r.id;
        *nfields = r.nfields;
        it->same = (r.flags & F_SAME) != 0;
        it->fp = r.fields;
        it->mp = it->mfirst;
        it->nfields = r.nfields;
        it->fread = 0;
        return true;
    }
}

void kv_stream_iter_field(struct stream_iter *it, struct stream_str *f, struct stream_str *v)
{
    uint64_t n;
    if (it->same) {
        it->mp = varint_get(it->mp, &n);
        f->p = (const char *)it->mp;
        f->n = n;
        it->mp += n;
    } else {
        it->fp = varint_get(it->fp, &n);
        f->p = (const char *)it->fp;
        f->n = n;
        it->fp += n;
    }
    it->fp = varint_get(it->fp, &n);
    v->p = (const char *)it->fp;
    v->n = n;
    it->fp += n;
    it->fread++;
}

/* ---- consumer groups ------------------------------------------------------ */

/* rax order: bytes compared, a prefix first */
static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static size_t cg_pos(const struct kv_stream *s, const char *name, size_t nlen, bool *found)
{
    size_t lo = 0, hi = s->ngroups;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = name_cmp(s->groups[mid]->name, s->groups[mid]->nlen, name, nlen);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct stream_cg *kv_stream_cg_find(const struct kv_stream *s, const char *name, size_t nlen)
{
    bool found;
    size_t i = cg_pos(s, name, nlen, &found);
    return found ? s->groups[i] : NULL;
}

struct stream_cg *kv_stream_cg_create(struct kv_stream *s, const char *name, size_t nlen, const struct stream_id *id,
                                   long long entries_read)
{
    bool found;
    size_t at = cg_pos(s, name, nlen, &found);
    if (found)
        return NULL;
    struct stream_cg *g = xcalloc(1, sizeof *g);
    g->name = memdup(name, nlen);
    g->nlen = nlen;
    g->last_id = *id;
    g->entries_read = entries_read;
    if (s->ngroups == s->capgroups) {
        s->capgroups = s->capgroups ? s->capgroups * 2 : 2;
        s->groups = xrealloc(s->groups, s->capgroups * sizeof *s->groups);
    }
    memmove(s->groups + at + 1, s->groups + at, (s->ngroups - at) * sizeof *s->groups);
    s->groups[at] = g;
    s->ngroups++;
    return g;
}

bool kv_stream_cg_destroy(struct kv_stream *s, const char *name, size_t nlen)
{
    bool found;
    size_t at = cg_pos(s, name, nlen, &found);
    if (!found)
        return false;
    cg_free(s->groups[at]);
    memmove(s->groups + at, s->groups + at + 1, (s->ngroups - at - 1) * sizeof *s->groups);
    s->ngroups--;
    return true;
}

static size_t consumer_pos(const struct stream_cg *g, const char *name, size_t nlen, bool *found)
{
    size_t lo = 0, hi = g->nconsumers;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = name_cmp(g->consumers[mid]->name, g->consumers[mid]->nlen, name, nlen);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct stream_consumer *kv_stream_consumer_find(const struct stream_cg *g, const char *name, size_t nlen)
{
    bool found;
    size_t i = consumer_pos(g, name, nlen, &found);
    return found ? g->consumers[i] : NULL;
}

struct stream_consumer *kv_stream_consumer_create(struct stream_cg *g, const char *name, size_t nlen, long long now)
{
    bool found;
    size_t at = consumer_pos(g, name, nlen, &found);
    if (found)
        return NULL;
    struct stream_consumer *c = xcalloc(1, sizeof *c);
    c->name = memdup(name, nlen);
    c->nlen = nlen;
    c->seen_time = now;
    if (g->nconsumers == g->capconsumers) {
        g->capconsumers = g->capconsumers ? g->capconsumers * 2 : 2;
        g->consumers = xrealloc(g->consumers, g->capconsumers * sizeof *g->consumers);
    }
    memmove(g->consumers + at + 1, g->consumers + at, (g->nconsumers - at) * sizeof *g->consumers);
    g->consumers[at] = c;
    g->nconsumers++;
    return c;
}

uint64_t kv_stream_consumer_delete(struct stream_cg *g, struct stream_consumer *c)
{
    uint64_t had = c->npel;
    if (had) {
        size_t j = 0;
        for (size_t i = 0; i < g->npel; i++)
            if (g->pel[i].consumer != c)
                g->pel[j++] = g->pel[i];
        g->npel = j;
    }
    bool found;
    size_t at = consumer_pos(g, c->name, c->nlen, &found);
    if (found) {
        memmove(g->consumers + at, g->consumers + at + 1, (g->nconsumers - at - 1) * sizeof *g->consumers);
        g->nconsumers--;
    }
    xfree(c->name);
    xfree(c);
    return had;
}

size_t kv_stream_pel_lower_bound(const struct stream_cg *g, const struct stream_id *id)
{
    size_t lo = 0, hi = g->npel;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(&g->pel[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct stream_nack *kv_stream_pel_find(const struct stream_cg *g, const struct stream_id *id)
{
    size_t i = kv_stream_pel_lower_bound(g, id);
    return i < g->npel && stream_id_cmp(&g->pel[i].id, id) == 0 ? &g->pel[i] : NULL;
}

struct stream_nack *kv_stream_pel_add(struct stream_cg *g, const struct stream_id *id, struct stream_consumer *c,
                                   long long now)
{
    size_t at = kv_stream_pel_lower_bound(g, id);
    size_t front = g->pel_base ? (size_t)(g->pel - g->pel_base) : 0;
    if (front + g->npel == g->cappel) {
        if (front > g->npel) {
            /* mostly free slots at the front: slide back */
            memmove(g->pel_base, g->pel, g->npel * sizeof *g->pel);
            front = 0;
        } else {
            g->cappel = g->cappel ? g->cappel * 2 : 4;
            g->pel_base = xrealloc(g->pel_base, g->cappel * sizeof *g->pel_base);
        }
        g->pel = g->pel_base + front;
    }
    memmove(g->pel + at + 1, g->pel + at, (g->npel - at) * sizeof *g->pel);
    g->npel++;
    struct stream_nack *n = &g->pel[at];
    n->id = *id;
    n->delivery_time = now;
    n->delivery_count = 1;
    n->consumer = c;
    if (c)
        c->npel++;
    return n;
}

void kv_stream_pel_remove_at(struct stream_cg *g, size_t i)
{
    if (g->pel[i].consumer)
        g->pel[i].consumer->npel--;
    if (i < g->npel / 2) {
        memmove(g->pel + 1, g->pel, i * sizeof *g->pel);
        g->pel++;
    } else {
        memmove(g->pel + i, g->pel + i + 1, (g->npel - i - 1) * sizeof *g->pel);
    }
    g->npel--;
    if (g->npel == 0) {
        if (g->cappel > 16) {
            xfree(g->pel_base);
            g->pel_base = NULL;
            g->cappel = 0;
        }
        g->pel = g->pel_base;
    }
}

void kv_stream_nack_set_owner(struct stream_nack *n, struct stream_consumer *c)
{
    if (n->consumer == c)
        return;
    if (n->consumer)
        n->consumer->npel--;
    n->consumer = c;
    c->npel++;
}

/* ---- logical read counters (Redis 7.0 t_stream.c semantics) --------------- */

bool kv_stream_range_has_tombstones(const struct kv_stream *s, const struct stream_id *start,
                                 const struct stream_id *end)
{
    if (!s->length || stream_id_is_zero(&s->max_deleted_id))
        return false;
    struct stream_id first;
    if (!kv_stream_first_id(s, &first))
        first = id_min;
    if (stream_id_cmp(&first, &s->max_deleted_id) > 0)
        return false;
    const struct stream_id *a = start ? start : &id_min;
    const struct stream_id *b = end ? end : &id_max;
    return stream_id_cmp(a, &s->max_deleted_id) <= 0 && stream_id_cmp(&s->max_deleted_id, b) <= 0;
}

long long kv_stream_estimate_distance(const struct kv_stream *s, const struct stream_id *id)
{
    if (!s->entries_added)
        return 0;
    if (!s->length && stream_id_cmp(id, &s->last_id) < 1)
        return (long long)s->entries_added;
    int cmp_last = stream_id_cmp(id, &s->last_id);
    if (cmp_last == 0)
        return (long long)s->entries_added;
    if (cmp_last > 0)
        return STREAM_ENTRIES_READ_INVALID;
    struct stream_id first;
    if (!kv_stream_first_id(s, &first))
        first = id_min;
    int cmp_id_first = stream_id_cmp(id, &first);
    int cmp_xdel_first = stream_id_cmp(&s->max_deleted_id, &first);
    if (stream_id_is_zero(&s->max_deleted_id) || cmp_xdel_first < 0) {
        if (cmp_id_first < 0)
            return (long long)(s->entries_added - s->length);
        if (cmp_id_first == 0)
            return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_ENTRIES_READ_INVALID;
}
