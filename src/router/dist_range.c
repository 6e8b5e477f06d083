/*
 * dist_range.c — ordered key ranges: each shard owns the keys from its
 * `range LO` up to the next shard's LO (the last one: to the end). Keys
 * below the lowest LO have no shard (an error names the key's range).
 *
 * Byte ranges compare keys as bytes (memcmp order, shorter first on a tie).
 * Numeric ranges (`range-numeric yes`, optional `range-pattern PREFIX`) take
 * the decimal id that follows PREFIX at the start of the key ("user:1234" ->
 * 1234) and compare numbers; a key without an id has no shard.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "router/router.h"

struct range {
    const char *lo;
    size_t lolen;
    unsigned long long num;
    int member;
};

struct ranges {
    int n;
    bool numeric;
    struct range r[];
};

static bool take_id(const char *pat, const char *key, size_t len, unsigned long long *out)
{
    size_t pl = pat ? strlen(pat) : 0;
    if (len < pl || (pl && memcmp(key, pat, pl) != 0))
        return false;
    size_t i = pl, j = pl;
    while (j < len && j - i < 20 && key[j] >= '0' && key[j] <= '9')
        j++;
    return j > i && util_str2ull(key + i, j - i, out);
}

static int bytecmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static bool g_numeric;

static int cmp_range(const void *x, const void *y)
{
    const struct range *a = x, *b = y;
    if (g_numeric)
        return a->num < b->num ? -1 : a->num > b->num;
    return bytecmp(a->lo, a->lolen, b->lo, b->lolen);
}

static int range_build(struct rt_dist *d, const struct rt_dist_in *in, int n, char *err, size_t errlen)
{
    struct ranges *rs = xcalloc(1, sizeof *rs + (size_t)(n ? n : 1) * sizeof rs->r[0]);
    rs->numeric = d->conf->range_numeric;
    for (int i = 0; i < n; i++) {
        struct range *r = &rs->r[rs->n];
        if (!in[i].range_lo) {
            snprintf(err, errlen, "range distribution: shard '%s' has no 'range LO'", in[i].name);
            xfree(rs);
            return -1;
        }
        r->lo = in[i].range_lo;
        r->lolen = strlen(r->lo);
        r->member = i;
        if (rs->numeric && !util_str2ull(r->lo, r->lolen, &r->num)) {
            snprintf(err, errlen, "range distribution: '%s' is no number (range-numeric yes)", r->lo);
            xfree(rs);
            return -1;
        }
        rs->n++;
    }
    g_numeric = rs->numeric; /* build runs on one thread at a time (config, admin) */
    qsort(rs->r, (size_t)rs->n, sizeof rs->r[0], cmp_range);
    for (int i = 1; i < rs->n; i++)
        if (cmp_range(&rs->r[i - 1], &rs->r[i]) == 0) {
            snprintf(err, errlen, "range distribution: two shards start at '%s'", rs->r[i].lo);
            xfree(rs);
            return -1;
        }
    d->st = rs;
    return 0;
}

static int range_locate(const struct rt_dist *d, const char *key, size_t len)
{
    const struct ranges *rs = d->st;
    unsigned long long id = 0;
    if (rs->numeric && !take_id(d->conf->range_pattern, key, len, &id))
        return -1;
    int lo = 0, hi = rs->n; /* first range whose lo > key */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = rs->numeric ? (rs->r[mid].num > id) - (rs->r[mid].num < id)
                            : bytecmp(rs->r[mid].lo, rs->r[mid].lolen, key, len);
        if (c <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? -1 : d->ids[rs->r[lo - 1].member];
}

static void range_destroy(struct rt_dist *d) { xfree(d->st); }

const struct rt_dist_ops rt_dist_range = {
    "range", "ordered key ranges (shard ... range LO), or numeric ids taken from the key (range-numeric, range-pattern)",
    range_build, range_locate, range_destroy,
};
