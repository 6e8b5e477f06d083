/*
 * t_geo.c — geospatial commands: GEOADD GEODIST GEOHASH GEOPOS GEORADIUS
 * GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO GEOSEARCH
 * GEOSEARCHSTORE.
 *
 * A geo index is a sorted set whose scores are 52-bit geohashes
 * (geohash.h), so ZRANGE, ZREM, DUMP and the rest work on it as on any
 * sorted set, and a set written by redis-server reads the same here.
 * GEOADD is ZADD with the coordinates turned into scores, as in Redis
 * (its keyspace event is "zadd"). A search scans the score intervals of up
 * to nine cells and keeps the members inside the shape.
 *
 * Replies, option rules and error texts are Redis 7.0's (src/geo.c),
 * including its quirks: options are parsed and checked before the source
 * key's absence is answered (an empty array, or 0 for a STORE form, which
 * then deletes the destination), and GEORADIUSBYMEMBER on a missing key
 * skips the radius check. One difference: with COUNT smaller than the
 * number of matches, Redis partially sorts with its own quicksort, which
 * orders points at exactly the same distance in its own way; here the sort
 * is always glibc's stable one, as Redis's full sort.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/geohash.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/server.h"
#include "kv/t_zset.h"
#include "kv/zsetobj.h"

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

/* Look key up as a sorted set: false after WRONGTYPE; *z NULL when absent. */
static bool lookup_geo(struct kv_client *c, const struct resp_arg *k, struct kv_zset **z)
{
    struct kv_obj *o = db_lookup(DB(c), k->ptr, k->len, 0);
    *z = NULL;
    if (!o)
        return true;
    if (obj_type(o) != OBJ_ZSET) {
        kv_reply_wrongtype(c);
        return false;
    }
    *z = obj_zset(o);
    return true;
}

/* ---- arguments ------------------------------------------------------------------- */

static bool arg_lonlat(struct kv_client *c, const struct resp_arg *a, double *lon, double *lat)
{
    if (!kv_arg_double(c, &a[0], lon, NULL) || !kv_arg_double(c, &a[1], lat, NULL))
        return false;
    if (!geo_valid(*lon, *lat)) {
        kv_reply_errorf(c, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        return false;
    }
    return true;
}

/* Metres per unit; -1 after replying. */
static double arg_unit(struct kv_client *c, const struct resp_arg *u)
{
    if (kv_arg_is(u, "m"))
        return 1;
    if (kv_arg_is(u, "km"))
        return 1000;
    if (kv_arg_is(u, "ft"))
        return 0.3048;
    if (kv_arg_is(u, "mi"))
        return 1609.34;
    kv_reply_error(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* radius unit */
static bool arg_radius(struct kv_client *c, const struct resp_arg *a, struct geo_shape *s)
{
    double r;
    if (!kv_arg_double(c, &a[0], &r, "ERR need numeric radius"))
        return false;
    if (r < 0) {
        kv_reply_error(c, "ERR radius cannot be negative");
        return false;
    }
    s->radius = r;
    s->to_m = arg_unit(c, &a[1]);
    s->box = false;
    return s->to_m >= 0;
}

/* width height unit */
static bool arg_box(struct kv_client *c, const struct resp_arg *a, struct geo_shape *s)
{
    double w, h;
    if (!kv_arg_double(c, &a[0], &w, "ERR need numeric width") ||
        !kv_arg_double(c, &a[1], &h, "ERR need numeric height"))
        return false;
    if (h < 0 || w < 0) {
        kv_reply_error(c, "ERR height or width cannot be negative");
        return false;
    }
    s->width = w;
    s->height = h;
    s->to_m = arg_unit(c, &a[2]);
    s->box = true;
    return s->to_m >= 0;
}

static bool member_lonlat(struct kv_zset *z, const struct resp_arg *m, double *lon, double *lat)
{
    double score;
    if (!kv_zset_score(z, m->ptr, m->len, &score))
        return false;
    geo_decode(score, lon, lat);
    return true;
}

/* ---- replies --------------------------------------------------------------------- */

/* A coordinate as Redis's addReplyHumanLongDouble: %.17Lf without trailing
 * zeros, a bulk string in RESP2 and a double in RESP3. */
static void reply_coord(struct kv_client *c, double v)
{
    char s[UTIL_LD_STR_MAX];
    size_t n = util_ld2str(s, sizeof s, (long double)v);
    if (c->proto == 2) {
        resp_add_bulk(&c->out, s, n);
    } else {
        buf_putc(&c->out, ',');
        buf_append(&c->out, s, n);
        buf_append(&c->out, "\r\n", 2);
    }
}

/* A distance: four decimals, a bulk string in both protocols. */
static void reply_distance(struct kv_client *c, double d)
{
    char s[512];
    int n = snprintf(s, sizeof s, "%.4f", d);
    resp_add_bulk(&c->out, s, n > 0 && (size_t)n < sizeof s ? (size_t)n : 0);
}

/* ---- GEOADD GEODIST GEOHASH GEOPOS --------------------------------------------- */

void kv_cmd_GEOADD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    bool nx = false, xx = false;
    int first = 2;
    for (; first < argc; first++) {
        if (kv_arg_is(&argv[first], "nx"))
            nx = true;
        else if (kv_arg_is(&argv[first], "xx"))
            xx = true;
        else if (!kv_arg_is(&argv[first], "ch"))
            break;
    }
    if ((argc - first) % 3 || (nx && xx)) {
        kv_reply_syntax(c);
        return;
    }
    /* ZADD key [options] score member ..., the scores written as integers */
    int n = (argc - first) / 3;
    int zargc = first + 2 * n;
    struct resp_arg *zv = xmalloc((size_t)zargc * sizeof *zv);
    char (*scores)[24] = xmalloc((size_t)(n ? n : 1) * sizeof *scores);
    zv[0] = (struct resp_arg){"zadd", 4};
    for (int i = 1; i < first; i++)
        zv[i] = argv[i];
    for (int i = 0; i < n; i++) {
        const struct resp_arg *a = &argv[first + 3 * i];
        double lon, lat;
        if (!arg_lonlat(c, a, &lon, &lat))
            goto done;
        int len = snprintf(scores[i], sizeof scores[i], "%llu", (unsigned long long)geo_encode(lon, lat));
        zv[first + 2 * i] = (struct resp_arg){scores[i], (size_t)len};
        zv[first + 2 * i + 1] = a[2];
    }
    kv_cmd_ZADD(c, zargc, zv);
done:
    xfree(scores);
    xfree(zv);
}

void kv_cmd_GEODIST(struct kv_client *c, int argc, struct resp_arg *argv)
{
    double to_m = 1;
    if (argc == 5) {
        to_m = arg_unit(c, &argv[4]);
        if (to_m < 0)
            return;
    } else if (argc > 5) {
        kv_reply_syntax(c);
        return;
    }
    struct kv_zset *z;
    if (!lookup_geo(c, &argv[1], &z))
        return;
    double lon1, lat1, lon2, lat2;
    if (!z || !member_lonlat(z, &argv[2], &lon1, &lat1) || !member_lonlat(z, &argv[3], &lon2, &lat2)) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    reply_distance(c, geo_distance(lon1, lat1, lon2, lat2) / to_m);
}

void kv_cmd_GEOHASH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_zset *z;
    if (!lookup_geo(c, &argv[1], &z))
        return;
    resp_add_array(&c->out, argc - 2);
    for (int j = 2; j < argc; j++) {
        double score;
        if (!z || !kv_zset_score(z, argv[j].ptr, argv[j].len, &score)) {
            resp_add_null(&c->out, c->proto);
            continue;
        }
        char h[12];
        geo_hash_string(score, h);
        resp_add_bulk(&c->out, h, 11);
    }
}

void kv_cmd_GEOPOS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_zset *z;
    if (!lookup_geo(c, &argv[1], &z))
        return;
    resp_add_array(&c->out, argc - 2);
    for (int j = 2; j < argc; j++) {
        double lon, lat;
        if (!z || !member_lonlat(z, &argv[j], &lon, &lat)) {
            resp_add_null_array(&c->out, c->proto);
            continue;
        }
        resp_add_array(&c->out, 2);
        reply_coord(c, lon);
        reply_coord(c, lat);
    }
}

/* ---- searches -------------------------------------------------------------------- */

struct gpoint {
    double lon, lat, dist, score;
    char *m;
    size_t ml;
};

struct gresult {
    struct gpoint *p;
    size_t n, cap;
};

static void result_free(struct gresult *r)
{
    for (size_t i = 0; i < r->n; i++)
        xfree(r->p[i].m);
    xfree(r->p);
}

/* Members of one cell inside the shape, in score order; stops at limit
 * (ANY; 0 none). Members are copied: a STORE may replace the source. */
static void scan_cell(struct kv_zset *z, struct geo_cell cell, const struct geo_shape *s, struct gresult *r,
                      size_t limit)
{
    uint64_t lo, hi;
    geo_cell_range(cell, &lo, &hi);
    struct zset_srange range = {(double)lo, (double)hi, false, true};
    uint64_t rank = kv_zset_score_below(z, &range);
    if (rank >= kv_zset_len(z))
        return;
    struct zset_iter it;
    kv_zset_iter_init(&it, z, rank, false);
    const char *m;
    size_t ml;
    double score;
    while (kv_zset_iter_next(&it, &m, &ml, &score)) {
        if (!(score < range.max))
            break;
        struct gpoint p;
        if (geo_in_shape(s, score, &p.lon, &p.lat, &p.dist)) {
            if (r->n == r->cap) {
                r->cap = r->cap ? r->cap * 2 : 16;
                r->p = xrealloc(r->p, r->cap * sizeof *r->p);
            }
            p.score = score;
            p.m = xmalloc(ml ? ml : 1);
            memcpy(p.m, m, ml);
            p.ml = ml;
            r->p[r->n++] = p;
        }
        if (limit && r->n >= limit)
            break;
    }
    kv_zset_iter_done(&it);
}

/* Scan the cells in Redis's order, skipping dropped ones and a cell equal
 * to the one scanned just before (huge radii make neighbours coincide). */
static void scan_area(struct kv_zset *z, const struct geo_shape *s, struct gresult *r, size_t limit)
{
    struct geo_area a;
    geo_area_of(s, &a);
    unsigned last = 0;
    for (unsigned i = 0; i < 9; i++) {
        struct geo_cell cell = a.cell[i];
        if (cell.bits == 0 && cell.step == 0)
            continue;
        /* as Redis: the check starts once a neighbour (not the centre) was scanned */
        if (last && cell.bits == a.cell[last].bits && cell.step == a.cell[last].step)
            continue;
        if (r->n && limit && r->n >= limit)
            break;
        scan_cell(z, cell, s, r, limit);
        last = i;
    }
}

static int by_dist_asc(const void *a, const void *b)
{
    double x = ((const struct gpoint *)a)->dist, y = ((const struct gpoint *)b)->dist;
    return x == y ? 0 : x > y ? 1 : -1;
}

static int by_dist_desc(const void *a, const void *b) { return by_dist_asc(b, a); }

/*
 * Sort so that at least the ranks [0, keep) hold the nearest points in
 * order: Redis's pqsort, the Bentley-McIlroy three-way quicksort ("Engineering
 * a Sort Function", 1993, as in the BSD qsort) that recurses only into the
 * parts overlapping the wanted ranks. The same steps are taken here as
 * there, so points at equal distances come out in the same order.
 */
static void swap_pt(struct gpoint *a, struct gpoint *b)
{
    struct gpoint t = *a;
    *a = *b;
    *b = t;
}

static void swap_run(struct gpoint *a, struct gpoint *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        swap_pt(&a[i], &b[i]);
}

static struct gpoint *median3(struct gpoint *a, struct gpoint *b, struct gpoint *c, int (*cmp)(const void *, const void *))
{
    if (cmp(a, b) < 0)
        return cmp(b, c) < 0 ? b : cmp(a, c) < 0 ? c : a;
    return cmp(b, c) > 0 ? b : cmp(a, c) < 0 ? a : c;
}

/* lo..hi: the wanted ranks as indexes into the whole array `base` */
static void partial_sort(struct gpoint *base, struct gpoint *a, size_t n, int (*cmp)(const void *, const void *),
                         size_t lo, size_t hi)
{
    for (;;) {
        if (n < 7) {
            for (size_t m = 1; m < n; m++)
                for (size_t l = m; l > 0 && cmp(&a[l - 1], &a[l]) > 0; l--)
                    swap_pt(&a[l], &a[l - 1]);
            return;
        }
        struct gpoint *pm = a + n / 2;
        if (n > 7) {
            struct gpoint *pl = a, *pn = a + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = median3(pl, pl + d, pl + 2 * d, cmp);
                pm = median3(pm - d, pm, pm + d, cmp);
                pn = median3(pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(pl, pm, pn, cmp);
        }
        swap_pt(a, pm);
        /* [a+1, pa) equal to the pivot, [pa, pb) less, (pc, pd] greater, (pd, end) equal */
        struct gpoint *pa = a + 1, *pb = a + 1, *pc = a + n - 1, *pd = a + n - 1;
        for (;;) {
            int r;
            while (pb <= pc && (r = cmp(pb, a)) <= 0) {
                if (r == 0)
                    swap_pt(pa++, pb);
                pb++;
            }
            while (pb <= pc && (r = cmp(pc, a)) >= 0) {
                if (r == 0)
                    swap_pt(pc, pd--);
                pc--;
            }
            if (pb > pc)
                break;
            swap_pt(pb++, pc--);
        }
        struct gpoint *pn = a + n;
        size_t r = (size_t)(pa - a) < (size_t)(pb - pa) ? (size_t)(pa - a) : (size_t)(pb - pa);
        swap_run(a, pb - r, r);
        r = (size_t)(pd - pc) < (size_t)(pn - pd - 1) ? (size_t)(pd - pc) : (size_t)(pn - pd - 1);
        swap_run(pb, pn - r, r);
        size_t left = (size_t)(pb - pa), right = (size_t)(pd - pc);
        size_t lfirst = (size_t)(a - base);
        if (left > 1 && !(hi < lfirst || lo > lfirst + left - 1))
            partial_sort(base, a, left, cmp, lo, hi);
        if (right <= 1)
            return;
        a = pn - right;
        n = right;
        size_t rfirst = (size_t)(a - base);
        if (hi < rfirst || lo > rfirst + n - 1)
            return;
    }
}

enum {
    G_COORDS = 1 << 0,      /* GEORADIUS: lon lat radius unit */
    G_MEMBER = 1 << 1,      /* GEORADIUSBYMEMBER: member radius unit */
    G_NOSTORE = 1 << 2,     /* the _RO forms */
    G_SEARCH = 1 << 3,      /* GEOSEARCH: FROM... BY... */
    G_SEARCHSTORE = 1 << 4, /* GEOSEARCHSTORE: dst src FROM... BY... */
};

enum { SORT_NONE, SORT_ASC, SORT_DESC };

/* Store the first n points under dst (scores the hashes, or the distances
 * with storedist), or delete dst when there are none; replies n. */
static void store_result(struct kv_client *c, const struct resp_arg *dst, struct gresult *r, size_t n,
                         bool storedist, int flags)
{
    if (n == 0) {
        if (kv_db_delete(DB(c), dst->ptr, dst->len)) {
            kv_notify(c, KV_NOTIFY_GENERIC, "del", dst->ptr, dst->len);
            c->srv->dirty++;
        }
        resp_add_int(&c->out, 0);
        return;
    }
    struct kv_zset *z = kv_zset_new_skiplist();
    for (size_t i = 0; i < n; i++) {
        int out;
        kv_zset_add(&z, storedist ? r->p[i].dist : r->p[i].score, r->p[i].m, r->p[i].ml, 0, &out, NULL);
    }
    kv_zset_shrink_if_fits(&z);
    kv_db_set(DB(c), kv_obj_new_zset(dst->ptr, dst->len, z, -1), false);
    kv_notify(c, KV_NOTIFY_ZSET, flags & G_SEARCH ? "geosearchstore" : "georadiusstore", dst->ptr, dst->len);
    c->srv->dirty += n;
    resp_add_int(&c->out, (long long)n);
}

static void search(struct kv_client *c, int argc, struct resp_arg *argv, int src, int flags)
{
    struct kv_zset *z;
    if (!lookup_geo(c, &argv[src], &z))
        return;
    struct geo_shape shape = {0};
    const struct resp_arg *store = NULL;
    bool storedist = false;
    int base;
    if (flags & G_COORDS) {
        base = 6;
        if (!arg_lonlat(c, &argv[2], &shape.lon, &shape.lat) || !arg_radius(c, &argv[4], &shape))
            return;
    } else if (flags & G_MEMBER) {
        base = 5;
        if (z) { /* without the key, Redis goes on to the options unchecked */
            if (!member_lonlat(z, &argv[2], &shape.lon, &shape.lat)) {
                kv_reply_error(c, "ERR could not decode requested zset member");
                return;
            }
            if (!arg_radius(c, &argv[3], &shape))
                return;
        }
    } else {
        base = 2;
        if (flags & G_SEARCHSTORE) {
            base = 3;
            store = &argv[1];
        }
    }
    bool withdist = false, withhash = false, withcoord = false, any = false;
    bool frommember = false, fromloc = false, byradius = false, bybox = false;
    int sort = SORT_NONE;
    long long count = 0;
    int rem = argc - base;
    for (int i = 0; i < rem; i++) {
        const struct resp_arg *a = &argv[base + i];
        if (kv_arg_is(a, "withdist")) {
            withdist = true;
        } else if (kv_arg_is(a, "withhash")) {
            withhash = true;
        } else if (kv_arg_is(a, "withcoord")) {
            withcoord = true;
        } else if (kv_arg_is(a, "any")) {
            any = true;
        } else if (kv_arg_is(a, "asc")) {
            sort = SORT_ASC;
        } else if (kv_arg_is(a, "desc")) {
            sort = SORT_DESC;
        } else if (kv_arg_is(a, "count") && i + 1 < rem) {
            if (!kv_arg_ll(c, &a[1], &count))
                return;
            if (count <= 0) {
                kv_reply_error(c, "ERR COUNT must be > 0");
                return;
            }
            i++;
        } else if ((kv_arg_is(a, "store") || kv_arg_is(a, "storedist")) && i + 1 < rem &&
                   !(flags & (G_NOSTORE | G_SEARCH))) {
            store = &a[1];
            storedist = kv_arg_is(a, "storedist");
            i++;
        } else if (kv_arg_is(a, "storedist") && (flags & G_SEARCHSTORE)) {
            storedist = true;
        } else if (kv_arg_is(a, "frommember") && i + 1 < rem && (flags & G_SEARCH) && !fromloc) {
            if (z && !member_lonlat(z, &a[1], &shape.lon, &shape.lat)) {
                kv_reply_error(c, "ERR could not decode requested zset member");
                return;
            }
            frommember = true;
            i++;
        } else if (kv_arg_is(a, "fromlonlat") && i + 2 < rem && (flags & G_SEARCH) && !frommember) {
            if (!arg_lonlat(c, &a[1], &shape.lon, &shape.lat))
                return;
            fromloc = true;
            i += 2;
        } else if (kv_arg_is(a, "byradius") && i + 2 < rem && (flags & G_SEARCH) && !bybox) {
            if (!arg_radius(c, &a[1], &shape))
                return;
            byradius = true;
            i += 2;
        } else if (kv_arg_is(a, "bybox") && i + 3 < rem && (flags & G_SEARCH) && !byradius) {
            if (!arg_box(c, &a[1], &shape))
                return;
            bybox = true;
            i += 3;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    if (store && (withdist || withhash || withcoord)) {
        kv_reply_errorf(c, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                        flags & G_SEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & G_SEARCH) && !(frommember || fromloc)) {
        kv_reply_errorf(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                        (int)argv[0].len, argv[0].ptr);
        return;
    }
    if ((flags & G_SEARCH) && !(byradius || bybox)) {
        kv_reply_errorf(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s", (int)argv[0].len,
                        argv[0].ptr);
        return;
    }
    if (any && !count) {
        kv_reply_error(c, "ERR the ANY argument requires COUNT argument");
        return;
    }
    if (!z) {
        if (store) {
            if (kv_db_delete(DB(c), store->ptr, store->len)) {
                kv_notify(c, KV_NOTIFY_GENERIC, "del", store->ptr, store->len);
                c->srv->dirty++;
            }
            resp_add_int(&c->out, 0);
        } else {
            resp_add_array(&c->out, 0);
        }
        return;
    }
    /* COUNT means the nearest ones: ascending unless asked otherwise (ANY aside) */
    if (count && sort == SORT_NONE && !any)
        sort = SORT_ASC;

    struct gresult r = {0};
    scan_area(z, &shape, &r, any ? (size_t)count : 0);
    if (r.n == 0 && !store) {
        resp_add_array(&c->out, 0);
        result_free(&r);
        return;
    }
    size_t n = count == 0 || r.n < (unsigned long long)count ? r.n : (size_t)count;
    if (sort != SORT_NONE && r.n > 1) { /* (qsort of no array is undefined) */
        int (*cmp)(const void *, const void *) = sort == SORT_ASC ? by_dist_asc : by_dist_desc;
        if (n == r.n)
            qsort(r.p, r.n, sizeof *r.p, cmp); /* glibc's merge sort, as Redis calls it */
        else
            partial_sort(r.p, r.p, r.n, cmp, 0, n - 1);
    }
    for (size_t i = 0; i < n; i++)
        r.p[i].dist /= shape.to_m;
    if (store) {
        store_result(c, store, &r, n, storedist, flags);
        result_free(&r);
        return;
    }
    int opts = withdist + withhash + withcoord;
    resp_add_array(&c->out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const struct gpoint *p = &r.p[i];
        if ((i & 1023) == 1023 && kv_reply_full(c))
            break;
        if (opts)
            resp_add_array(&c->out, opts + 1);
        resp_add_bulk(&c->out, p->m, p->ml);
        if (withdist)
            reply_distance(c, p->dist);
        if (withhash)
            resp_add_int(&c->out, (long long)p->score);
        if (withcoord) {
            resp_add_array(&c->out, 2);
            reply_coord(c, p->lon);
            reply_coord(c, p->lat);
        }
    }
    result_free(&r);
}

void kv_cmd_GEORADIUS(struct kv_client *c, int argc, struct resp_arg *argv) { search(c, argc, argv, 1, G_COORDS); }

void kv_cmd_GEORADIUS_RO(struct kv_client *c, int argc, struct resp_arg *argv)
{
    search(c, argc, argv, 1, G_COORDS | G_NOSTORE);
}

void kv_cmd_GEORADIUSBYMEMBER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    search(c, argc, argv, 1, G_MEMBER);
}

void kv_cmd_GEORADIUSBYMEMBER_RO(struct kv_client *c, int argc, struct resp_arg *argv)
{
    search(c, argc, argv, 1, G_MEMBER | G_NOSTORE);
}

void kv_cmd_GEOSEARCH(struct kv_client *c, int argc, struct resp_arg *argv) { search(c, argc, argv, 1, G_SEARCH); }

void kv_cmd_GEOSEARCHSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    search(c, argc, argv, 2, G_SEARCH | G_SEARCHSTORE);
}
