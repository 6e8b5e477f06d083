/*
 * cache_policy.h — the edge cache's rules as pure functions (no I/O, no
 * clock: "now" is a parameter), so each rule is testable on its own
 * (tests/unit/test_lb_cache_policy.c) and fuzzable (fuzz/fuzz_cache_control.c):
 *
 *   lb_cc_parse            Cache-Control into flags and numbers
 *   lb_cache_status_ok     statuses a shared cache may store (RFC 9111 4.2.2)
 *   lb_cache_decide        storable?  freshness lifetime, stale windows
 *   lb_cache_etag_match    If-None-Match against an ETag (weak comparison)
 *   lb_cache_range         a single "bytes=" range against a body length
 *   lb_cache_default_ttl   the configured TTL for a content type
 */
#ifndef SCALEOUT_LB_CACHE_POLICY_H
#define SCALEOUT_LB_CACHE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum {
    LB_CC_NO_STORE = 1u << 0,
    LB_CC_NO_CACHE = 1u << 1,
    LB_CC_PRIVATE = 1u << 2,
    LB_CC_PUBLIC = 1u << 3,
    LB_CC_MUST_REVALIDATE = 1u << 4,
    LB_CC_PROXY_REVALIDATE = 1u << 5,
    LB_CC_MAX_AGE = 1u << 6,
    LB_CC_S_MAXAGE = 1u << 7,
    LB_CC_SWR = 1u << 8,            /* stale-while-revalidate=N */
    LB_CC_SIE = 1u << 9,            /* stale-if-error=N */
    LB_CC_ONLY_IF_CACHED = 1u << 10,
};

/* Longest lifetime kept (RFC 9111 1.2.2: 2^31 s stands for "infinity"). */
#define LB_CC_MAX_SECONDS 2147483648LL

struct lb_cc {
    unsigned flags;
    long long max_age, s_maxage, swr, sie;  /* seconds, valid with their flag */
};

/* Add the directives of one Cache-Control field value to cc (call once per
 * field line; start from a zeroed cc). Names are case-insensitive; a value
 * may be a token or a quoted string. A directive seen twice keeps the
 * smaller number; a number that is not delta-seconds counts as 0 (stale).
 * Qualified no-cache="..." / private="..." count as the unqualified forms
 * (the safe reading for a shared cache). */
void lb_cc_parse(const char *v, size_t n, struct lb_cc *cc);

/* Statuses cacheable by default (RFC 9110 15.1): 200 203 204 300 301 308
 * 404 405 410 414 501. */
bool lb_cache_status_ok(int status);

/* The configured default freshness per content type (cache-ttl). */
struct lb_cache_ttl {
    char type[64];                  /* prefix of the media type, "*" for any */
    long long seconds;
};

/* What the decision needs to know about a response (and its request). */
struct lb_cache_resp {
    int status;
    struct lb_cc cc;
    bool has_date, has_expires, expires_ok; /* expires_ok: Expires parsed */
    time_t date, expires;
    long long age;                  /* Age field (0 if none) */
    bool set_cookie, vary_star;
    bool has_validator;             /* ETag or Last-Modified */
    const char *ctype;              /* Content-Type value or NULL */
    size_t ctype_len;
    bool authorization;             /* the request carried Authorization */
};

struct lb_cache_rules {
    const struct lb_cache_ttl *ttl;
    int nttl;
    bool store_set_cookie;          /* store responses with Set-Cookie (the field is dropped) */
};

struct lb_cache_decision {
    bool store;
    const char *why;                /* why not (for logs and tests) */
    long long lifetime;             /* freshness lifetime, seconds */
    long long age;                  /* age when received, seconds */
    long long swr, sie;             /* stale windows, seconds (0: none) */
    bool no_stale;                  /* must-revalidate, proxy-revalidate, s-maxage or no-cache */
    bool explicit_fresh;            /* from s-maxage, max-age or Expires (not a configured TTL) */
};

/* Decide whether a shared cache stores r and for how long. now: the time
 * the response was received (for an Expires without Date). */
void lb_cache_decide(const struct lb_cache_resp *r, const struct lb_cache_rules *rules, time_t now,
                     struct lb_cache_decision *d);

/* The longest configured prefix of the media type (before ';'), else "*";
 * -1 when none applies. */
long long lb_cache_default_ttl(const struct lb_cache_ttl *t, int n, const char *ctype, size_t len);

/* If-None-Match value against an entity tag (weak comparison: W/ ignored);
 * "*" matches any. */
bool lb_cache_etag_match(const char *inm, size_t n, const char *etag, size_t elen);

/* A Range request field against a body of len bytes: 0 serve the whole
 * body (no range, several ranges, or a unit other than bytes), 1 one
 * satisfiable range [*first, *last], -1 not satisfiable (416). */
int lb_cache_range(const char *v, size_t n, uint64_t len, uint64_t *first, uint64_t *last);

#endif
