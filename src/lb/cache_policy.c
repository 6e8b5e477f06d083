/*
 * cache_policy.c — the edge cache's freshness and storage rules (RFC 9111
 * for a shared cache), pure functions: see cache_policy.h.
 */
#include <string.h>
#include <strings.h>

#include "lb/cache_policy.h"

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static bool name_is(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n == l && strncasecmp(s, lit, l) == 0;
}

/* delta-seconds; -1 when not all digits (or empty). Saturates at 2^31. */
static long long delta_seconds(const char *s, size_t n)
{
    if (n == 0)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v < LB_CC_MAX_SECONDS)
            v = v * 10 + (s[i] - '0');
    }
    return v > LB_CC_MAX_SECONDS ? LB_CC_MAX_SECONDS : v;
}

static void set_num(struct lb_cc *cc, unsigned flag, long long *field, const char *v, size_t vn)
{
    long long x = delta_seconds(v, vn);
    if (x < 0)
        x = 0; /* invalid: treat as already stale */
    if (!(cc->flags & flag) || x < *field)
        *field = x;
    cc->flags |= flag;
}

void lb_cc_parse(const char *v, size_t n, struct lb_cc *cc)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_ws(v[i]) || v[i] == ','))
            i++;
        size_t ns = i;
        while (i < n && v[i] != '=' && v[i] != ',' && !is_ws(v[i]))
            i++;
        const char *name = v + ns;
        size_t nl = i - ns;
        while (i < n && is_ws(v[i]))
            i++;
        const char *val = NULL;
        size_t vl = 0;
        if (i < n && v[i] == '=') {
            i++;
            while (i < n && is_ws(v[i]))
                i++;
            if (i < n && v[i] == '"') {
                i++;
                size_t vs = i;
                while (i < n && v[i] != '"') {
                    if (v[i] == '\\' && i + 1 < n)
                        i++;
                    i++;
                }
                val = v + vs;
                vl = (i < n ? i : n) - vs;
                if (i < n)
                    i++; /* closing quote */
            } else {
                size_t vs = i;
                while (i < n && v[i] != ',' && !is_ws(v[i]))
                    i++;
                val = v + vs;
                vl = i - vs;
            }
        }
        /* skip anything up to the next comma (junk after a value) */
        while (i < n && v[i] != ',')
            i++;
        if (nl == 0)
            continue;
        if (name_is(name, nl, "no-store"))
            cc->flags |= LB_CC_NO_STORE;
        else if (name_is(name, nl, "no-cache"))
            cc->flags |= LB_CC_NO_CACHE;
        else if (name_is(name, nl, "private"))
            cc->flags |= LB_CC_PRIVATE;
        else if (name_is(name, nl, "public"))
            cc->flags |= LB_CC_PUBLIC;
        else if (name_is(name, nl, "must-revalidate"))
            cc->flags |= LB_CC_MUST_REVALIDATE;
        else if (name_is(name, nl, "proxy-revalidate"))
            cc->flags |= LB_CC_PROXY_REVALIDATE;
        else if (name_is(name, nl, "only-if-cached"))
            cc->flags |= LB_CC_ONLY_IF_CACHED;
        else if (name_is(name, nl, "max-age"))
            set_num(cc, LB_CC_MAX_AGE, &cc->max_age, val, val ? vl : 0);
        else if (name_is(name, nl, "s-maxage"))
            set_num(cc, LB_CC_S_MAXAGE, &cc->s_maxage, val, val ? vl : 0);
        else if (name_is(name, nl, "stale-while-revalidate"))
            set_num(cc, LB_CC_SWR, &cc->swr, val, val ? vl : 0);
        else if (name_is(name, nl, "stale-if-error"))
            set_num(cc, LB_CC_SIE, &cc->sie, val, val ? vl : 0);
        /* others (no-transform, immutable, extensions) change nothing here */
    }
}

bool lb_cache_status_ok(int status)
{
    switch (status) {
    case 200: case 203: case 204: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
        return true;
    default:
        return false;
    }
}

long long lb_cache_default_ttl(const struct lb_cache_ttl *t, int n, const char *ctype, size_t len)
{
    if (ctype) {
        const char *semi = memchr(ctype, ';', len);
        if (semi)
            len = (size_t)(semi - ctype);
        while (len && is_ws(ctype[len - 1]))
            len--;
    }
    long long best = -1, any = -1;
    size_t best_len = 0;
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(t[i].type);
        if (strcmp(t[i].type, "*") == 0) {
            any = t[i].seconds;
        } else if (ctype && tl <= len && strncasecmp(ctype, t[i].type, tl) == 0 && tl > best_len) {
            best = t[i].seconds;
            best_len = tl;
        }
    }
    return best_len ? best : any;
}

void lb_cache_decide(const struct lb_cache_resp *r, const struct lb_cache_rules *rules, time_t now,
                     struct lb_cache_decision *d)
{
    memset(d, 0, sizeof *d);
    const struct lb_cc *cc = &r->cc;
    d->age = r->age > 0 ? r->age : 0;
    if (!lb_cache_status_ok(r->status)) {
        d->why = "status";
        return;
    }
    if (cc->flags & LB_CC_NO_STORE) {
        d->why = "no-store";
        return;
    }
    if (cc->flags & LB_CC_PRIVATE) {
        d->why = "private";
        return;
    }
    if (r->vary_star) {
        d->why = "vary *";
        return;
    }
    if (r->set_cookie && !(rules && rules->store_set_cookie)) {
        d->why = "set-cookie";
        return;
    }
    /* RFC 9111 3.5: a response to an authenticated request only when the
     * origin said it may be shared */
    if (r->authorization && !(cc->flags & (LB_CC_PUBLIC | LB_CC_S_MAXAGE | LB_CC_MUST_REVALIDATE))) {
        d->why = "authorization";
        return;
    }
    if (cc->flags & LB_CC_S_MAXAGE) {
        d->lifetime = cc->s_maxage;
        d->explicit_fresh = true;
    } else if (cc->flags & LB_CC_MAX_AGE) {
        d->lifetime = cc->max_age;
        d->explicit_fresh = true;
    } else if (r->has_expires) {
        d->explicit_fresh = true;
        if (!r->expires_ok) {
            d->lifetime = 0; /* an invalid Expires ("0") means already expired */
        } else {
            time_t base = r->has_date ? r->date : now;
            long long l = (long long)r->expires - (long long)base;
            d->lifetime = l > 0 ? (l > LB_CC_MAX_SECONDS ? LB_CC_MAX_SECONDS : l) : 0;
        }
    } else if (cc->flags & LB_CC_NO_CACHE) {
        d->lifetime = 0; /* stored for revalidation only: no lifetime needed */
    } else {
        long long t = rules ? lb_cache_default_ttl(rules->ttl, rules->nttl, r->ctype, r->ctype_len) : -1;
        if (t < 0) {
            d->why = "no freshness";
            return;
        }
        d->lifetime = t;
    }
    d->no_stale = (cc->flags & (LB_CC_MUST_REVALIDATE | LB_CC_PROXY_REVALIDATE | LB_CC_S_MAXAGE | LB_CC_NO_CACHE)) != 0;
    if (cc->flags & LB_CC_NO_CACHE)
        d->lifetime = 0; /* stored, but every use is revalidated first */
    if (!d->no_stale) {
        d->swr = cc->flags & LB_CC_SWR ? cc->swr : 0;
        d->sie = cc->flags & LB_CC_SIE ? cc->sie : 0;
    }
    /* nothing to gain from an object that is stale on arrival and can be
     * neither revalidated nor served stale */
    if (d->lifetime <= d->age && !r->has_validator && d->swr == 0 && d->sie == 0) {
        d->why = (cc->flags & LB_CC_NO_CACHE) ? "no-cache without validator" : "stale on arrival";
        return;
    }
    d->store = true;
}

/* next entity tag of a comma list at *i: [s, s+len) with W/ removed */
static bool next_tag(const char *v, size_t n, size_t *i, const char **s, size_t *len)
{
    size_t p = *i;
    while (p < n && (is_ws(v[p]) || v[p] == ','))
        p++;
    if (p >= n)
        return false;
    if (p + 1 < n && v[p] == 'W' && v[p + 1] == '/')
        p += 2;
    size_t st = p;
    if (p < n && v[p] == '"') {
        p++;
        while (p < n && v[p] != '"')
            p++;
        if (p < n)
            p++;
    } else {
        while (p < n && v[p] != ',' && !is_ws(v[p]))
            p++;
    }
    *s = v + st;
    *len = p - st;
    while (p < n && v[p] != ',')
        p++;
    *i = p;
    return true;
}

bool lb_cache_etag_match(const char *inm, size_t n, const char *etag, size_t elen)
{
    if (!etag || elen == 0)
        return false;
    if (elen >= 2 && etag[0] == 'W' && etag[1] == '/')
        etag += 2, elen -= 2;
    size_t i = 0;
    const char *s;
    size_t l;
    while (next_tag(inm, n, &i, &s, &l)) {
        if (l == 1 && s[0] == '*')
            return true;
        if (l == elen && memcmp(s, etag, l) == 0)
            return true;
    }
    return false;
}

/* digits [s, s+n) as a uint64; false if empty, not digits or too large */
static bool u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

int lb_cache_range(const char *v, size_t n, uint64_t len, uint64_t *first, uint64_t *last)
{
    while (n && is_ws(*v))
        v++, n--;
    while (n && is_ws(v[n - 1]))
        n--;
    if (n < 6 || strncasecmp(v, "bytes=", 6) != 0)
        return 0;
    v += 6, n -= 6;
    while (n && is_ws(*v))
        v++, n--;
    if (memchr(v, ',', n))
        return 0; /* several ranges: the whole body (allowed by RFC 9110 14.2) */
    const char *dash = memchr(v, '-', n);
    if (!dash)
        return 0;
    size_t a = (size_t)(dash - v), b = n - a - 1;
    uint64_t x, y;
    if (a == 0) {
        /* suffix: the last y bytes */
        if (!u64(dash + 1, b, &y))
            return 0;
        if (y == 0 || len == 0)
            return -1;
        *first = y >= len ? 0 : len - y;
        *last = len - 1;
        return 1;
    }
    if (!u64(v, a, &x))
        return 0;
    if (b == 0) {
        y = UINT64_MAX;
    } else if (!u64(dash + 1, b, &y) || y < x) {
        return 0; /* invalid: ignored */
    }
    if (x >= len)
        return -1;
    *first = x;
    *last = y >= len ? len - 1 : y;
    return 1;
}
