/*
 * fuzz_cache_control.c — libFuzzer target for the edge cache's header
 * parsers (src/lb/cache_policy.c, http1_parse_date): any bytes as a
 * Cache-Control value, an Expires/Date value, a Range field and an
 * If-None-Match list. Invariants: only known flags, every number in
 * 0..2^31, a decision never stores a private / no-store response nor
 * serves stale where revalidation is required, a range lies inside the
 * body, a parsed date formats and parses back to itself.
 *
 *   make build-fuzz/fuzz_cache_control && build-fuzz/fuzz_cache_control -max_total_time=180
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/cache_policy.h"
#include "proto/http1.h"

#define ALL_FLAGS ((1u << 11) - 1)

static void check_num(long long v)
{
    if (v < 0 || v > LB_CC_MAX_SECONDS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    /* Cache-Control */
    struct lb_cc cc;
    memset(&cc, 0, sizeof cc);
    lb_cc_parse(in, size, &cc);
    if (cc.flags & ~ALL_FLAGS)
        abort();
    check_num(cc.max_age);
    check_num(cc.s_maxage);
    check_num(cc.swr);
    check_num(cc.sie);

    /* a decision on it, with the date fields from the same bytes */
    struct lb_cache_resp r;
    memset(&r, 0, sizeof r);
    r.status = size ? 200 + (data[0] % 4) * 100 : 200;
    r.cc = cc;
    r.has_expires = size > 1 && (data[1] & 1);
    r.expires_ok = r.has_expires && http1_parse_date(in, size, &r.expires);
    r.has_date = size > 1 && (data[1] & 2);
    r.date = r.has_date ? (time_t)(data[1] * 1000) : 0;
    r.has_validator = size > 1 && (data[1] & 4);
    r.set_cookie = size > 1 && (data[1] & 8);
    r.authorization = size > 1 && (data[1] & 16);
    r.ctype = in;
    r.ctype_len = size;
    struct lb_cache_ttl ttl[2] = {{"text/", 60}, {"*", 5}};
    struct lb_cache_rules rules = {ttl, size > 2 ? data[2] % 3 : 0, size > 2 && (data[2] & 8)};
    struct lb_cache_decision d;
    lb_cache_decide(&r, &rules, 1700000000, &d);
    if (d.store) {
        if (cc.flags & (LB_CC_NO_STORE | LB_CC_PRIVATE))
            abort();
        if (!lb_cache_status_ok(r.status))
            abort();
        check_num(d.lifetime);
        check_num(d.swr);
        check_num(d.sie);
        if (d.no_stale && (d.swr || d.sie))
            abort();
        if ((cc.flags & (LB_CC_MUST_REVALIDATE | LB_CC_NO_CACHE)) && !d.no_stale)
            abort();
    } else if (!d.why) {
        abort();
    }

    /* HTTP-date: what parses formats back to the same instant */
    time_t t;
    if (http1_parse_date(in, size, &t)) {
        char buf[32];
        size_t n = http1_format_date(buf, t);
        time_t t2;
        if (n && (!http1_parse_date(buf, n, &t2) || t2 != t))
            abort();
    }

    /* Range against a body length from the input */
    uint64_t len = size ? data[size - 1] * 37u : 0, a = 0, b = 0;
    int rc = lb_cache_range(in, size, len, &a, &b);
    if (rc == 1 && (a > b || b >= len))
        abort();
    if (rc < -1 || rc > 1)
        abort();

    /* If-None-Match: the list matches a tag copied out of itself */
    if (size > 2) {
        size_t half = size / 2;
        (void)lb_cache_etag_match(in, half, in + half, size - half);
        if (lb_cache_etag_match("*", 1, in, size) != (size > 0))
            abort();
    }
    return 0;
}
