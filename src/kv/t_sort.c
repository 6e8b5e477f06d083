/*
 * t_sort.c — SORT and SORT_RO on lists, sets and sorted sets, as Redis 7.0
 * (src/sort.c): BY pattern (a constant pattern means "do not sort"), LIMIT,
 * GET patterns (# is the element, key*->field a hash field), ASC/DESC,
 * ALPHA, STORE.
 *
 *   parse options ─▶ look the key up ─▶ copy the elements into one arena
 *   ─▶ (BY) look the weights up, parse or copy them ─▶ qsort ─▶ LIMIT
 *   ─▶ reply (GET lookups per element) or build the STORE list
 *
 * The elements and the ALPHA weights are copied (NUL-terminated) before any
 * other key is looked up: a lookup may expire and free another key, and
 * STORE may replace the very key being sorted. Comparisons follow Redis:
 * numeric weights by value, ties by the element bytes; ALPHA by strcoll()
 * (the server sets LC_COLLATE from the environment, as Redis does), or by
 * bytes with STORE; a missing BY weight is 0, or sorts first with ALPHA.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "kv/hashobj.h"
#include "kv/listobj.h"
#include "kv/reply.h"
#include "kv/setobj.h"
#include "kv/zsetobj.h"

struct sort_elem {
    size_t off, len;        /* the element in the arena */
    size_t woff, wlen;      /* ALPHA with BY: the weight in the arena */
    bool has_w;             /* ALPHA with BY: a weight was found */
    double score;           /* numeric weight */
};

struct sort_ctx {
    const char *arena;
    bool desc, alpha, by, store;
};

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen;
}

static int elem_cmp(const void *x, const void *y, void *arg)
{
    const struct sort_elem *a = x, *b = y;
    const struct sort_ctx *s = arg;
    int cmp;
    if (!s->alpha) {
        if (a->score > b->score)
            cmp = 1;
        else if (a->score < b->score)
            cmp = -1;
        else
            cmp = bytes_cmp(s->arena + a->off, a->len, s->arena + b->off, b->len);
    } else if (s->by) {
        if (!a->has_w || !b->has_w)
            cmp = a->has_w == b->has_w ? 0 : (a->has_w ? 1 : -1);
        else if (s->store)
            cmp = bytes_cmp(s->arena + a->woff, a->wlen, s->arena + b->woff, b->wlen);
        else
            cmp = strcoll(s->arena + a->woff, s->arena + b->woff);
    } else if (s->store) {
        cmp = bytes_cmp(s->arena + a->off, a->len, s->arena + b->off, b->len);
    } else {
        cmp = strcoll(s->arena + a->off, s->arena + b->off);
    }
    return s->desc ? -cmp : cmp;
}

/*
 * Redis's lookupKeyByPattern: "#" is the element itself; otherwise the first
 * '*' is replaced by the element and the key read (a string), or with
 * "->field" after the '*' the field of that hash. No '*', a missing key or
 * the wrong type: false. *v stays valid until the keyspace changes.
 */
static bool pattern_lookup(struct kv_db *db, const struct resp_arg *pat, const char *el, size_t elen,
                           struct buf *key, const char **v, size_t *vn)
{
    const char *sp = pat->ptr;
    size_t clen = strnlen(sp, pat->len); /* Redis searches the pattern as a C string */
    if (clen == 1 && sp[0] == '#') {
        *v = el;
        *vn = elen;
        return true;
    }
    const char *star = memchr(sp, '*', clen);
    if (!star)
        return false;
    const char *field = NULL;
    size_t flen = 0;
    for (const char *f = star + 1; f + 1 < sp + clen; f++) {
        if (f[0] == '-' && f[1] == '>') {
            if (f + 2 < sp + clen) {
                field = f + 2;
                flen = pat->len - (size_t)(field - sp);
            }
            break;
        }
    }
    size_t prefix = (size_t)(star - sp);
    size_t postfix = pat->len - prefix - 1 - (field ? flen + 2 : 0);
    buf_consume(key, buf_pending(key));
    buf_append(key, sp, prefix);
    buf_append(key, el, elen);
    buf_append(key, star + 1, postfix);
    struct kv_obj *o = db_lookup(db, buf_head(key), buf_pending(key), 0);
    if (!o)
        return false;
    if (field) {
        if (obj_type(o) != OBJ_HASH)
            return false;
        return kv_hash_get(obj_hash(o), field, flen, v, vn);
    }
    if (obj_type(o) != OBJ_STRING)
        return false;
    *v = obj_cval(o);
    *vn = obj_vlen(o);
    return true;
}

/* strtod over the whole value, as Redis: false when something is left, on
 * ERANGE, or for NaN. */
static bool parse_weight(const char *p, size_t n, double *out)
{
    char small[64];
    char *s = n < sizeof small ? small : xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    bool ok = *end == '\0' && errno != ERANGE && !isnan(d);
    if (s != small)
        xfree(s);
    *out = d;
    return ok;
}

struct collect {
    struct buf *arena;
    struct sort_elem *v;
    size_t n;
};

static void add_elem(struct collect *col, const char *p, size_t n)
{
    struct sort_elem *e = &col->v[col->n++];
    memset(e, 0, sizeof *e);
    e->off = buf_pending(col->arena);
    e->len = n;
    buf_append(col->arena, p, n);
    buf_putc(col->arena, '\0');
}

static void add_set_member(const char *m, size_t n, void *arg) { add_elem(arg, m, n); }

static void sort_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool readonly)
{
    struct kv_db *db = &c->srv->db;
    bool desc = false, alpha = false, dontsort = false;
    long long limit_start = 0, limit_count = -1;
    const struct resp_arg *by = NULL, *store = NULL;
    int ngets = 0;
    const struct resp_arg **gets = xmalloc(sizeof *gets * (size_t)argc);
    for (int j = 2; j < argc; j++) {
        int left = argc - j - 1;
        if (kv_arg_is(&argv[j], "asc")) {
            desc = false;
        } else if (kv_arg_is(&argv[j], "desc")) {
            desc = true;
        } else if (kv_arg_is(&argv[j], "alpha")) {
            alpha = true;
        } else if (kv_arg_is(&argv[j], "limit") && left >= 2) {
            if (!kv_arg_ll(c, &argv[j + 1], &limit_start) || !kv_arg_ll(c, &argv[j + 2], &limit_count))
                goto out;
            j += 2;
        } else if (!readonly && kv_arg_is(&argv[j], "store") && left >= 1) {
            store = &argv[++j];
        } else if (kv_arg_is(&argv[j], "by") && left >= 1) {
            by = &argv[++j];
            /* a pattern without '*' is a constant: nothing to sort by */
            dontsort = memchr(by->ptr, '*', strnlen(by->ptr, by->len)) == NULL;
        } else if (kv_arg_is(&argv[j], "get") && left >= 1) {
            gets[ngets++] = &argv[++j];
        } else {
            kv_reply_syntax(c);
            goto out;
        }
    }
    struct kv_obj *o = db_lookup(db, argv[1].ptr, argv[1].len, 0);
    int type = o ? obj_type(o) : OBJ_LIST;
    if (o && type != OBJ_LIST && type != OBJ_SET && type != OBJ_ZSET) {
        kv_reply_wrongtype(c);
        goto out;
    }
    /* a set has no order of its own: STORE sorts it (replication and
     * scripts see the same result) */
    if (dontsort && type == OBJ_SET && store) {
        dontsort = false;
        alpha = true;
        by = NULL;
    }
    if (o && type == OBJ_ZSET) {
        /* Redis converts the set for SORT (OBJECT ENCODING shows it) */
        struct kv_zset *z = obj_zset(o);
        kv_zset_to_skiplist(&z);
        obj_set_ptr(o, z);
    }

    long long len = !o ? 0
                    : type == OBJ_LIST ? (long long)kv_list_len(obj_ptr(o))
                    : type == OBJ_SET  ? (long long)kv_set_len(obj_ptr(o))
                                       : (long long)kv_zset_len(obj_zset(o));
    /* LIMIT, clamped to the object as Redis 7.0.8+ does (no overflow) */
    long long start = limit_start < 0 ? 0 : limit_start > len ? len : limit_start;
    long long count = limit_count < -1 ? -1 : limit_count > len ? len : limit_count;
    long long end = count < 0 ? len - 1 : start + count - 1;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    }
    if (end >= len)
        end = len - 1;

    struct buf arena;
    buf_init(&arena);
    struct collect col = {&arena, NULL, 0};
    bool ranged = dontsort && (type == OBJ_LIST || type == OBJ_ZSET) && (start != 0 || end != len - 1);
    long long vlen = ranged ? end - start + 1 : len;
    col.v = xmalloc(sizeof *col.v * (size_t)(vlen > 0 ? vlen : 1));
    if (o && type == OBJ_LIST) {
        struct kv_list *l = obj_ptr(o);
        if (dontsort) {
            /* the list's own order (reversed by DESC), only the LIMIT range */
            if (end >= start) {
                struct list_iter it;
                kv_list_iter_init(&it, l, (uint64_t)(desc ? len - start - 1 : start), !desc);
                const char *p;
                size_t n;
                while ((long long)col.n < vlen && kv_list_iter_get(&it, &p, &n)) {
                    add_elem(&col, p, n);
                    kv_list_iter_next(&it);
                }
                end -= start;
                start = 0;
            }
        } else if (len > 0) {
            struct list_iter it;
            const char *p;
            size_t n;
            for (kv_list_iter_init(&it, l, 0, true); kv_list_iter_get(&it, &p, &n); kv_list_iter_next(&it))
                add_elem(&col, p, n);
        }
    } else if (o && type == OBJ_SET) {
        kv_set_foreach(obj_ptr(o), add_set_member, &col);
    } else if (o && type == OBJ_ZSET) {
        struct zset_iter it;
        const char *m;
        size_t ml;
        double sc;
        /* a descending walk starts from its rank counted from the top */
        uint64_t first = !dontsort ? 0 : desc ? (uint64_t)(len - 1 - start) : (uint64_t)start;
        if (vlen > 0) {
            kv_zset_iter_init(&it, obj_zset(o), first, dontsort && desc);
            while ((long long)col.n < vlen && kv_zset_iter_next(&it, &m, &ml, &sc))
                add_elem(&col, m, ml);
            kv_zset_iter_done(&it);
        }
        if (dontsort) {
            end -= start;
            start = 0;
        }
    }
    /* o may be gone from here on: lookups of other keys can expire keys */
    o = NULL;

    bool conversion_error = false;
    struct buf key;
    buf_init(&key);
    if (!dontsort) {
        for (size_t j = 0; j < col.n; j++) {
            struct sort_elem *e = &col.v[j];
            const char *w = buf_head(&arena) + e->off;
            size_t wn = e->len;
            if (by && !pattern_lookup(db, by, buf_head(&arena) + e->off, e->len, &key, &w, &wn))
                continue;
            if (alpha) {
                if (by) {
                    /* copy first: buf_head moves when the arena grows */
                    struct buf tmp;
                    buf_init(&tmp);
                    buf_append(&tmp, w, wn);
                    e->woff = buf_pending(&arena);
                    e->wlen = wn;
                    e->has_w = true;
                    buf_append(&arena, buf_head(&tmp), wn);
                    buf_putc(&arena, '\0');
                    buf_deinit(&tmp);
                }
            } else if (!parse_weight(w, wn, &e->score)) {
                conversion_error = true;
            }
        }
        struct sort_ctx ctx = {buf_head(&arena), desc, alpha, by != NULL, store != NULL};
        if (col.n > 1)
            qsort_r(col.v, col.n, sizeof *col.v, elem_cmp, &ctx);
    }

    long long outlen = (ngets ? ngets : 1) * (end - start + 1);
    if (conversion_error) {
        kv_reply_error(c, "ERR One or more scores can't be converted into double");
    } else if (!store) {
        resp_add_array(&c->out, outlen);
        for (long long j = start; j <= end && !kv_reply_full(c); j++) {
            const char *el = buf_head(&arena) + col.v[j].off;
            size_t elen = col.v[j].len;
            if (!ngets)
                resp_add_bulk(&c->out, el, elen);
            for (int g = 0; g < ngets; g++) {
                const char *v;
                size_t vn;
                if (pattern_lookup(db, gets[g], el, elen, &key, &v, &vn))
                    resp_add_bulk(&c->out, v, vn);
                else
                    resp_add_null(&c->out, c->proto);
            }
        }
    } else {
        /* the result may be far larger than the source (GET # GET # ...):
         * with maxmemory set, building it stops there, as a reply stops at
         * the output limit */
        unsigned long long maxmem = c->srv->cfg.maxmemory;
        bool oom = false;
        struct kv_list *l = kv_list_new();
        for (long long j = start; j <= end && !oom; j++) {
            if (maxmem && xalloc_used() > maxmem) {
                oom = true;
                break;
            }
            const char *el = buf_head(&arena) + col.v[j].off;
            size_t elen = col.v[j].len;
            if (!ngets)
                kv_list_push(l, LIST_TAIL, el, elen);
            for (int g = 0; g < ngets; g++) {
                const char *v = "";
                size_t vn = 0;
                pattern_lookup(db, gets[g], el, elen, &key, &v, &vn);
                kv_list_push(l, LIST_TAIL, v, vn);
            }
        }
        if (oom) {
            kv_list_free(l);
            kv_reply_error(c, "OOM command not allowed when used memory > 'maxmemory'.");
        } else if (outlen > 0) {
            kv_db_set(db, kv_obj_new_ptr(store->ptr, store->len, OBJ_LIST, l, -1), false);
            c->srv->dirty += (uint64_t)outlen;
        } else {
            kv_list_free(l);
            if (kv_db_delete(db, store->ptr, store->len))
                c->srv->dirty++;
        }
        if (!oom)
            resp_add_int(&c->out, outlen);
    }
    buf_deinit(&key);
    buf_deinit(&arena);
    xfree(col.v);
out:
    xfree(gets);
}

void kv_cmd_SORT(struct kv_client *c, int argc, struct resp_arg *argv) { sort_generic(c, argc, argv, false); }
void kv_cmd_SORT_RO(struct kv_client *c, int argc, struct resp_arg *argv) { sort_generic(c, argc, argv, true); }
