/*
 * test_lb_cache_policy.c — the edge cache's rules as pure functions
 * (src/lb/cache_policy.c): Cache-Control directive by directive, what a
 * shared cache stores and for how long, ETag matching, byte ranges, the
 * per-content-type TTL, HTTP dates, and the key (src/lb/cache.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "lb/cache.h"
#include "lb/cache_policy.h"
#include "proto/http1.h"

static struct lb_cc cc_of(const char *s)
{
    struct lb_cc cc;
    memset(&cc, 0, sizeof cc);
    lb_cc_parse(s, strlen(s), &cc);
    return cc;
}

/* ---- Cache-Control -------------------------------------------------------- */

Test(cache_cc, flags_one_by_one)
{
    cr_assert_eq(cc_of("no-store").flags, LB_CC_NO_STORE);
    cr_assert_eq(cc_of("no-cache").flags, LB_CC_NO_CACHE);
    cr_assert_eq(cc_of("private").flags, LB_CC_PRIVATE);
    cr_assert_eq(cc_of("public").flags, LB_CC_PUBLIC);
    cr_assert_eq(cc_of("must-revalidate").flags, LB_CC_MUST_REVALIDATE);
    cr_assert_eq(cc_of("proxy-revalidate").flags, LB_CC_PROXY_REVALIDATE);
    cr_assert_eq(cc_of("only-if-cached").flags, LB_CC_ONLY_IF_CACHED);
    cr_assert_eq(cc_of("immutable, no-transform").flags, 0);
}

Test(cache_cc, numbers)
{
    struct lb_cc cc = cc_of("max-age=60, s-maxage=120, stale-while-revalidate=30, stale-if-error=600");
    cr_assert_eq(cc.flags, LB_CC_MAX_AGE | LB_CC_S_MAXAGE | LB_CC_SWR | LB_CC_SIE);
    cr_assert_eq(cc.max_age, 60);
    cr_assert_eq(cc.s_maxage, 120);
    cr_assert_eq(cc.swr, 30);
    cr_assert_eq(cc.sie, 600);
}

Test(cache_cc, case_spaces_quotes)
{
    struct lb_cc cc = cc_of("  Max-Age = \"30\" ,PUBLIC,,  ");
    cr_assert(cc.flags & LB_CC_MAX_AGE);
    cr_assert(cc.flags & LB_CC_PUBLIC);
    cr_assert_eq(cc.max_age, 30);
}

Test(cache_cc, invalid_number_is_stale)
{
    cr_assert_eq(cc_of("max-age=abc").max_age, 0);
    cr_assert_eq(cc_of("max-age=").max_age, 0);
    cr_assert_eq(cc_of("max-age").max_age, 0);
    cr_assert_eq(cc_of("max-age=-5").max_age, 0);
    cr_assert(cc_of("max-age=abc").flags & LB_CC_MAX_AGE);
}

Test(cache_cc, duplicate_keeps_smaller)
{
    cr_assert_eq(cc_of("max-age=100, max-age=10").max_age, 10);
    cr_assert_eq(cc_of("max-age=10, max-age=100").max_age, 10);
}

Test(cache_cc, huge_saturates)
{
    cr_assert_eq(cc_of("max-age=99999999999999999999999999").max_age, LB_CC_MAX_SECONDS);
}

Test(cache_cc, qualified_forms_count_as_plain)
{
    cr_assert(cc_of("no-cache=\"Set-Cookie\", max-age=5").flags & LB_CC_NO_CACHE);
    cr_assert(cc_of("private=\"X-A, X-B\"").flags & LB_CC_PRIVATE);
    /* a comma inside the quotes does not start a directive */
    cr_assert_eq(cc_of("private=\"max-age=5, x\"").flags, LB_CC_PRIVATE);
}

Test(cache_cc, several_lines_accumulate)
{
    struct lb_cc cc;
    memset(&cc, 0, sizeof cc);
    lb_cc_parse("max-age=10", 10, &cc);
    lb_cc_parse("no-cache", 8, &cc);
    cr_assert_eq(cc.flags, LB_CC_MAX_AGE | LB_CC_NO_CACHE);
}

/* ---- decisions ----------------------------------------------------------------- */

static struct lb_cache_resp resp(int status, const char *cc)
{
    struct lb_cache_resp r;
    memset(&r, 0, sizeof r);
    r.status = status;
    if (cc)
        lb_cc_parse(cc, strlen(cc), &r.cc);
    return r;
}

static struct lb_cache_decision decide(const struct lb_cache_resp *r, const struct lb_cache_rules *rules)
{
    struct lb_cache_decision d;
    lb_cache_decide(r, rules, 1000000, &d);
    return d;
}

Test(cache_decide, max_age)
{
    struct lb_cache_resp r = resp(200, "max-age=60");
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert(d.store);
    cr_assert_eq(d.lifetime, 60);
    cr_assert(d.explicit_fresh);
    cr_assert_not(d.no_stale);
}

Test(cache_decide, s_maxage_wins_and_forbids_stale)
{
    struct lb_cache_resp r = resp(200, "max-age=0, s-maxage=90, stale-while-revalidate=10");
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert(d.store);
    cr_assert_eq(d.lifetime, 90);
    cr_assert(d.no_stale);
    cr_assert_eq(d.swr, 0);
}

Test(cache_decide, no_store_private_refused)
{
    struct lb_cache_resp r = resp(200, "no-store, max-age=60");
    cr_assert_not(decide(&r, NULL).store);
    cr_assert_str_eq(decide(&r, NULL).why, "no-store");
    r = resp(200, "private, max-age=60");
    cr_assert_not(decide(&r, NULL).store);
    cr_assert_str_eq(decide(&r, NULL).why, "private");
}

Test(cache_decide, no_cache_needs_validator)
{
    struct lb_cache_resp r = resp(200, "no-cache");
    cr_assert_not(decide(&r, NULL).store);
    r.has_validator = true;
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert(d.store);
    cr_assert_eq(d.lifetime, 0);
    cr_assert(d.no_stale);
    r = resp(200, "no-cache, max-age=60");
    r.has_validator = true;
    cr_assert_eq(decide(&r, NULL).lifetime, 0);
}

Test(cache_decide, must_and_proxy_revalidate_forbid_stale)
{
    struct lb_cache_resp r = resp(200, "max-age=5, must-revalidate, stale-while-revalidate=9, stale-if-error=9");
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert(d.store && d.no_stale && d.swr == 0 && d.sie == 0);
    r = resp(200, "max-age=5, proxy-revalidate, stale-if-error=9");
    d = decide(&r, NULL);
    cr_assert(d.store && d.no_stale && d.sie == 0);
}

Test(cache_decide, stale_windows)
{
    struct lb_cache_resp r = resp(200, "max-age=5, stale-while-revalidate=30, stale-if-error=600");
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert_eq(d.swr, 30);
    cr_assert_eq(d.sie, 600);
}

Test(cache_decide, statuses)
{
    int ok[] = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct lb_cache_resp r = resp(ok[i], "max-age=60");
        cr_assert(decide(&r, NULL).store, "status %d", ok[i]);
    }
    int no[] = {201, 206, 302, 303, 304, 307, 400, 401, 403, 500, 502, 503};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        struct lb_cache_resp r = resp(no[i], "max-age=60");
        cr_assert_not(decide(&r, NULL).store, "status %d", no[i]);
    }
}

Test(cache_decide, set_cookie_and_vary_star)
{
    struct lb_cache_resp r = resp(200, "max-age=60");
    r.set_cookie = true;
    cr_assert_not(decide(&r, NULL).store);
    struct lb_cache_rules rules = {NULL, 0, true};
    cr_assert(decide(&r, &rules).store);
    r = resp(200, "max-age=60");
    r.vary_star = true;
    cr_assert_not(decide(&r, &rules).store);
}

Test(cache_decide, authorization)
{
    struct lb_cache_resp r = resp(200, "max-age=60");
    r.authorization = true;
    cr_assert_not(decide(&r, NULL).store);
    const char *ok[] = {"public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"};
    for (int i = 0; i < 3; i++) {
        r = resp(200, ok[i]);
        r.authorization = true;
        cr_assert(decide(&r, NULL).store, "%s", ok[i]);
    }
}

Test(cache_decide, expires_and_date)
{
    struct lb_cache_resp r = resp(200, NULL);
    r.has_expires = r.expires_ok = r.has_date = true;
    r.date = 500;
    r.expires = 620;
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert(d.store);
    cr_assert_eq(d.lifetime, 120);
    /* without Date: against now (1000000) */
    r.has_date = false;
    r.expires = 1000030;
    cr_assert_eq(decide(&r, NULL).lifetime, 30);
    /* max-age wins over Expires */
    r = resp(200, "max-age=7");
    r.has_expires = r.expires_ok = true;
    r.expires = 5000000;
    cr_assert_eq(decide(&r, NULL).lifetime, 7);
}

Test(cache_decide, expires_past_or_invalid)
{
    struct lb_cache_resp r = resp(200, NULL);
    r.has_expires = true;
    r.expires_ok = false; /* "0" */
    cr_assert_not(decide(&r, NULL).store);
    r.has_validator = true;
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert(d.store); /* kept for revalidation */
    cr_assert_eq(d.lifetime, 0);
    r = resp(200, NULL);
    r.has_expires = r.expires_ok = r.has_date = true;
    r.date = 100;
    r.expires = 50;
    cr_assert_not(decide(&r, NULL).store);
}

Test(cache_decide, age_counts)
{
    struct lb_cache_resp r = resp(200, "max-age=60");
    r.age = 100;
    struct lb_cache_decision d = decide(&r, NULL);
    cr_assert_not(d.store); /* stale on arrival, nothing to revalidate with */
    r.has_validator = true;
    d = decide(&r, NULL);
    cr_assert(d.store);
    cr_assert_eq(d.age, 100);
}

Test(cache_decide, default_ttl_by_type)
{
    struct lb_cache_ttl t[] = {{"text/", 60}, {"text/html", 5}, {"*", 1}};
    struct lb_cache_rules rules = {t, 3, false};
    struct lb_cache_resp r = resp(200, NULL);
    r.ctype = "text/html; charset=utf-8";
    r.ctype_len = strlen(r.ctype);
    struct lb_cache_decision d = decide(&r, &rules);
    cr_assert(d.store);
    cr_assert_eq(d.lifetime, 5);
    cr_assert_not(d.explicit_fresh);
    r.ctype = "TEXT/css";
    r.ctype_len = strlen(r.ctype);
    cr_assert_eq(decide(&r, &rules).lifetime, 60);
    r.ctype = "image/png";
    r.ctype_len = strlen(r.ctype);
    cr_assert_eq(decide(&r, &rules).lifetime, 1);
    r.ctype = NULL;
    r.ctype_len = 0;
    cr_assert_eq(decide(&r, &rules).lifetime, 1);
    rules.nttl = 2;
    cr_assert_not(decide(&r, &rules).store);
    cr_assert_str_eq(decide(&r, &rules).why, "no freshness");
    /* explicit freshness wins */
    r = resp(200, "max-age=0");
    r.ctype = "text/plain";
    r.ctype_len = 10;
    cr_assert_not(decide(&r, &rules).store);
}

/* ---- ETag, Range ---------------------------------------------------------------- */

Test(cache_etag, weak_comparison)
{
    const char *e = "\"abc\"";
    cr_assert(lb_cache_etag_match("\"abc\"", 5, e, 5));
    cr_assert(lb_cache_etag_match("W/\"abc\"", 7, e, 5));
    cr_assert(lb_cache_etag_match("\"x\", W/\"abc\"", 12, e, 5));
    cr_assert(lb_cache_etag_match("*", 1, e, 5));
    cr_assert(lb_cache_etag_match("\"abc\"", 5, "W/\"abc\"", 7));
    cr_assert_not(lb_cache_etag_match("\"abcd\"", 6, e, 5));
    cr_assert_not(lb_cache_etag_match("", 0, e, 5));
    cr_assert_not(lb_cache_etag_match("\"abc\"", 5, NULL, 0));
}

static int rng(const char *v, uint64_t len, uint64_t *a, uint64_t *b) { return lb_cache_range(v, strlen(v), len, a, b); }

Test(cache_range, single_ranges)
{
    uint64_t a, b;
    cr_assert_eq(rng("bytes=0-9", 100, &a, &b), 1);
    cr_assert(a == 0 && b == 9);
    cr_assert_eq(rng("bytes=90-", 100, &a, &b), 1);
    cr_assert(a == 90 && b == 99);
    cr_assert_eq(rng("bytes=50-500", 100, &a, &b), 1);
    cr_assert(a == 50 && b == 99);
    cr_assert_eq(rng("bytes=-10", 100, &a, &b), 1);
    cr_assert(a == 90 && b == 99);
    cr_assert_eq(rng("bytes=-1000", 100, &a, &b), 1);
    cr_assert(a == 0 && b == 99);
}

Test(cache_range, unsatisfiable_and_ignored)
{
    uint64_t a, b;
    cr_assert_eq(rng("bytes=100-", 100, &a, &b), -1);
    cr_assert_eq(rng("bytes=-0", 100, &a, &b), -1);
    cr_assert_eq(rng("bytes=0-1,3-4", 100, &a, &b), 0);
    cr_assert_eq(rng("items=0-1", 100, &a, &b), 0);
    cr_assert_eq(rng("bytes=5-1", 100, &a, &b), 0);
    cr_assert_eq(rng("bytes=x-1", 100, &a, &b), 0);
    cr_assert_eq(rng("bytes=", 100, &a, &b), 0);
    cr_assert_eq(rng("bytes=99999999999999999999-", 100, &a, &b), 0);
}

/* ---- dates, key ----------------------------------------------------------------- */

Test(cache_date, three_forms)
{
    time_t t;
    cr_assert(http1_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t));
    cr_assert_eq(t, 784111777);
    cr_assert(http1_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t));
    cr_assert_eq(t, 784111777);
    cr_assert(http1_parse_date("Sun Nov  6 08:49:37 1994", 24, &t));
    cr_assert_eq(t, 784111777);
    cr_assert(http1_parse_date(" Sun, 06 Nov 1994 08:49:37 GMT ", 31, &t));
    cr_assert_not(http1_parse_date("0", 1, &t));
    cr_assert_not(http1_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t));
    cr_assert_not(http1_parse_date("Sun, 36 Nov 1994 08:49:37 GMT", 29, &t));
    cr_assert_not(http1_parse_date("Sun, 06 Foo 1994 08:49:37 GMT", 29, &t));
    cr_assert_not(http1_parse_date("Sun, 06 Nov 1994 28:49:37 GMT", 29, &t));
}

Test(cache_key, host_case_insensitive_path_exact)
{
    struct lb_cache_key a, b, c, d;
    lb_cache_key_init(&a, "Example.COM", 11, "/x?a=1", 6, false);
    lb_cache_key_init(&b, "example.com", 11, "/x?a=1", 6, false);
    lb_cache_key_init(&c, "example.com", 11, "/x?a=2", 6, false);
    lb_cache_key_init(&d, "example.org", 11, "/x?a=1", 6, false);
    cr_assert_eq(a.hash, b.hash);
    cr_assert_neq(a.hash, c.hash);
    cr_assert_neq(a.hash, d.hash);
}
