/*
 * test_lb_cache_store.c — the edge cache store (src/lb/cache.c) without a
 * network: fills fed with parsed responses, then lookups and the answers
 * they write (HIT, 304, 206, 416, HEAD), Vary variants, the LRU limit,
 * purge, revalidation by a 304 and the hit-for-miss marker.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <uv.h>

#include "lb/cache.h"
#include "proto/http1.h"

static uv_loop_t loop;
static struct lb_cache *cache;
static int woken;
static bool https; /* the scheme of the keys fill() and look() make */

static void wake(void *head, int mode) { (void)head, (void)mode, woken++; }

static void setup(void)
{
    uv_loop_init(&loop);
    cache = lb_cache_new();
    lb_cache_configure(cache, 1 << 20, 1 << 16, 16);
    woken = 0;
    https = false;
}

static void teardown(void)
{
    uv_run(&loop, UV_RUN_DEFAULT); /* fills free themselves on the next turn */
    lb_cache_free(cache);
    uv_loop_close(&loop);
}

struct req {
    char raw[2048];
    struct http1_request r;
    struct http1_header h[32];
};

static void parse_req(struct req *q, const char *head)
{
    snprintf(q->raw, sizeof q->raw, "%s", head);
    http1_request_init(&q->r, q->h, 32);
    cr_assert_gt(http1_parse_request(q->raw, strlen(q->raw), &q->r, NULL), 0);
}

static void key_of(struct lb_cache_key *k, const char *path)
{
    lb_cache_key_init(k, "h", 1, path, strlen(path), https);
}

/* Run a whole fill: request head reqhead for path, response head + body. */
static int fill(const char *path, const char *reqhead, const char *resp, const char *body, long long now)
{
    struct lb_cache_key k;
    key_of(&k, path);
    struct lb_cache_fill *f = lb_cache_fill_start(cache, 0, &loop, &k, reqhead, strlen(reqhead), NULL, false, true);
    struct http1_response r;
    struct http1_header h[32];
    http1_response_init(&r, h, 32);
    cr_assert_gt(http1_parse_response(resp, strlen(resp), &r, NULL, false), 0);
    struct lb_cache_rules rules = {NULL, 0, false};
    int rc = lb_cache_fill_head(f, &r, &rules, now);
    if (rc == 1)
        lb_cache_fill_data(f, body, strlen(body));
    lb_cache_fill_finish(f, rc == 1, now, wake);
    return rc;
}

/* Look path up with the request head; the answer goes to out. */
static enum lb_cache_result look(const char *path, const char *reqhead, long long now, struct buf *out, int *status)
{
    struct req q;
    parse_req(&q, reqhead);
    struct lb_cache_key k;
    key_of(&k, path);
    struct lb_cache_answer a = {out, &q.r, false, false, 0, 0};
    struct lb_cache_obj *stale = NULL;
    enum lb_cache_result res = lb_cache_lookup(cache, &k, now, &a, &stale);
    lb_cache_obj_unref(stale);
    *status = a.status;
    return res;
}

static bool has(const struct buf *b, const char *s)
{
    return memmem(buf_head(b), buf_pending(b), s, strlen(s)) != NULL;
}

#define GET(p) "GET " p " HTTP/1.1\r\nHost: h\r\n\r\n"
#define OK60 "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nETag: \"e\"\r\nContent-Length: 10\r\n\r\n"

Test(cache_store, hit_then_expiry, .init = setup, .fini = teardown)
{
    cr_assert_eq(fill("/a", GET("/a"), OK60, "0123456789", 1000), 1);
    struct buf out;
    buf_init(&out);
    int st;
    cr_assert_eq(look("/a", GET("/a"), 3000, &out, &st), LB_CACHE_HIT);
    cr_assert_eq(st, 200);
    cr_assert(has(&out, "X-Cache: HIT\r\n"));
    cr_assert(has(&out, "Age: 2\r\n"));
    cr_assert(has(&out, "Content-Length: 10\r\n\r\n0123456789"));
    cr_assert_not(has(&out, "max-age=60\r\nContent-Length: 10\r\nContent-Length"));
    buf_consume(&out, buf_pending(&out));
    cr_assert_eq(look("/a", GET("/a"), 62000, &out, &st), LB_CACHE_STALE); /* has a validator */
    cr_assert_eq(buf_pending(&out), 0);
    cr_assert_eq(look("/b", GET("/b"), 3000, &out, &st), LB_CACHE_MISS);
    buf_deinit(&out);
}

Test(cache_store, conditional_range_head, .init = setup, .fini = teardown)
{
    fill("/a", GET("/a"), OK60, "0123456789", 0);
    struct buf out;
    buf_init(&out);
    int st;
    look("/a", "GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"e\"\r\n\r\n", 0, &out, &st);
    cr_assert_eq(st, 304);
    cr_assert_not(has(&out, "0123456789"));
    buf_consume(&out, buf_pending(&out));
    look("/a", "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=2-4\r\n\r\n", 0, &out, &st);
    cr_assert_eq(st, 206);
    cr_assert(has(&out, "Content-Range: bytes 2-4/10\r\n"));
    cr_assert(has(&out, "Content-Length: 3\r\n\r\n234"));
    buf_consume(&out, buf_pending(&out));
    look("/a", "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=10-\r\n\r\n", 0, &out, &st);
    cr_assert_eq(st, 416);
    buf_consume(&out, buf_pending(&out));
    look("/a", "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n", 0, &out, &st);
    cr_assert_eq(st, 200);
    cr_assert(has(&out, "Content-Length: 10\r\n\r\n"));
    cr_assert_not(has(&out, "0123456789"));
    buf_deinit(&out);
}

Test(cache_store, vary_variants, .init = setup, .fini = teardown)
{
    const char *resp = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nVary: Accept-Language\r\nContent-Length: 2\r\n\r\n";
    fill("/v", "GET /v HTTP/1.1\r\nHost: h\r\nAccept-Language: de\r\n\r\n", resp, "de", 0);
    fill("/v", "GET /v HTTP/1.1\r\nHost: h\r\nAccept-Language: fr\r\n\r\n", resp, "fr", 0);
    struct buf out;
    buf_init(&out);
    int st;
    cr_assert_eq(look("/v", "GET /v HTTP/1.1\r\nHost: h\r\nAccept-Language: fr\r\n\r\n", 0, &out, &st), LB_CACHE_HIT);
    cr_assert(has(&out, "\r\n\r\nfr"));
    buf_consume(&out, buf_pending(&out));
    cr_assert_eq(look("/v", "GET /v HTTP/1.1\r\nHost: h\r\nAccept-Language: de\r\n\r\n", 0, &out, &st), LB_CACHE_HIT);
    cr_assert(has(&out, "\r\n\r\nde"));
    cr_assert_eq(look("/v", GET("/v"), 0, &out, &st), LB_CACHE_MISS);
    cr_assert_eq(look("/v", "GET /v HTTP/1.1\r\nHost: h\r\nAccept-Language: en\r\n\r\n", 0, &out, &st), LB_CACHE_MISS);
    /* purge drops every variant */
    cr_assert_eq(lb_cache_purge(cache, NULL, "/v", false), 2);
    buf_deinit(&out);
}

Test(cache_store, lru_limit_and_purge_prefix, .init = setup, .fini = teardown)
{
    lb_cache_configure(cache, 4096, 4096, 16);
    char body[1001];
    memset(body, 'x', 1000);
    body[1000] = '\0';
    const char *resp = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 1000\r\n\r\n";
    char path[32], head[64];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "/p/%d", i);
        snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
        fill(path, head, resp, body, 0);
    }
    struct buf out;
    buf_init(&out);
    int st;
    cr_assert_eq(look("/p/0", GET("/p/0"), 0, &out, &st), LB_CACHE_MISS); /* evicted first */
    cr_assert_eq(look("/p/7", GET("/p/7"), 0, &out, &st), LB_CACHE_HIT);
    long long n = lb_cache_purge(cache, NULL, "/p/", true);
    cr_assert(n >= 1 && n <= 3, "purged %lld", n);
    cr_assert_eq(look("/p/7", GET("/p/7"), 0, &out, &st), LB_CACHE_MISS);
    buf_deinit(&out);
}

Test(cache_store, too_large_not_stored, .init = setup, .fini = teardown)
{
    lb_cache_configure(cache, 1 << 20, 4, 16);
    cr_assert_eq(fill("/l", GET("/l"), OK60, "0123456789", 0), 0);
    struct buf out;
    buf_init(&out);
    int st;
    cr_assert_eq(look("/l", GET("/l"), 0, &out, &st), LB_CACHE_PASS); /* hit-for-miss marker */
    buf_deinit(&out);
}

Test(cache_store, uncacheable_leaves_marker_then_replaced, .init = setup, .fini = teardown)
{
    cr_assert_eq(fill("/m", GET("/m"), "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: 1\r\n\r\n", "x", 0),
                 0);
    struct buf out;
    buf_init(&out);
    int st;
    cr_assert_eq(look("/m", GET("/m"), 1000, &out, &st), LB_CACHE_PASS);
    cr_assert_eq(look("/m", GET("/m"), 200000, &out, &st), LB_CACHE_MISS); /* marker expired */
    cr_assert_eq(fill("/m", GET("/m"), OK60, "0123456789", 1000), 1);
    cr_assert_eq(look("/m", GET("/m"), 1000, &out, &st), LB_CACHE_HIT);
    buf_deinit(&out);
}

Test(cache_store, revalidated_by_304, .init = setup, .fini = teardown)
{
    const char *resp = "HTTP/1.1 200 OK\r\nCache-Control: max-age=1\r\nETag: \"e\"\r\nX-Old: 1\r\nContent-Length: 10\r\n\r\n";
    fill("/r", GET("/r"), resp, "0123456789", 0);
    struct req q;
    parse_req(&q, GET("/r"));
    struct lb_cache_key k;
    key_of(&k, "/r");
    struct buf out;
    buf_init(&out);
    struct lb_cache_answer a = {&out, &q.r, false, false, 0, 0};
    struct lb_cache_obj *stale = NULL;
    cr_assert_eq(lb_cache_lookup(cache, &k, 5000, &a, &stale), LB_CACHE_STALE);
    cr_assert_not_null(stale);
    struct lb_cache_fill *f = lb_cache_fill_start(cache, 0, &loop, &k, q.raw, strlen(q.raw), stale, false, true);
    struct buf hold;
    buf_init(&hold);
    buf_puts(&hold, "GET /r HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"client\"\r\nRange: bytes=0-1\r\n\r\n");
    lb_cache_upstream_head(f, &hold);
    cr_assert(has(&hold, "If-None-Match: \"e\"\r\n"));
    cr_assert_not(has(&hold, "client"));
    cr_assert_not(has(&hold, "Range"));
    cr_assert(has(&hold, "\r\n\r\n"));
    const char *nm = "HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=100\r\nETag: \"e\"\r\n\r\n";
    struct http1_response r;
    struct http1_header h[32];
    http1_response_init(&r, h, 32);
    cr_assert_gt(http1_parse_response(nm, strlen(nm), &r, NULL, false), 0);
    struct lb_cache_rules rules = {NULL, 0, false};
    cr_assert_eq(lb_cache_fill_head(f, &r, &rules, 5000), 2);
    lb_cache_fill_answer(f, lb_cache_fill_object(f), 5000, "REVALIDATED", &out, false, false);
    cr_assert(has(&out, "X-Cache: REVALIDATED"));
    cr_assert(has(&out, "max-age=100"));
    cr_assert_not(has(&out, "max-age=1\r\n"));
    cr_assert(has(&out, "X-Old: 1"));
    cr_assert(has(&out, "0123456789"));
    lb_cache_fill_finish(f, true, 5000, wake);
    buf_consume(&out, buf_pending(&out));
    int st;
    cr_assert_eq(look("/r", GET("/r"), 50000, &out, &st), LB_CACHE_HIT);
    buf_deinit(&hold);
    buf_deinit(&out);
}

/* An object stored for http is not an answer for https, nor the other way
 * round (an origin may redirect http to https: one key would loop); purge
 * by URL drops both. */
Test(cache_store, scheme_is_part_of_the_key, .init = setup, .fini = teardown)
{
    cr_assert_eq(fill("/a", GET("/a"), OK60, "0123456789", 0), 1);
    struct buf out;
    buf_init(&out);
    int st;
    https = true;
    cr_assert_eq(look("/a", GET("/a"), 0, &out, &st), LB_CACHE_MISS);
    cr_assert_eq(fill("/a", GET("/a"), OK60, "abcdefghij", 0), 1);
    cr_assert_eq(look("/a", GET("/a"), 0, &out, &st), LB_CACHE_HIT);
    cr_assert(has(&out, "abcdefghij"));
    buf_consume(&out, buf_pending(&out));
    https = false;
    cr_assert_eq(look("/a", GET("/a"), 0, &out, &st), LB_CACHE_HIT);
    cr_assert(has(&out, "0123456789"));
    cr_assert_eq(lb_cache_purge(cache, NULL, "/a", false), 2);
    buf_deinit(&out);
}

/* Two requests of one URL on two workers both missed; deciding what each
 * does is one step under the store's lock, so only the first fetches and
 * the other waits on a shadow of that fill, woken once it is stored. (With
 * a find and a separate start, both found nothing and both fetched: two
 * origin requests, seen under load in test_lb_cache.py.) */
Test(cache_store, join_two_workers_one_fetch, .init = setup, .fini = teardown)
{
    struct req q;
    parse_req(&q, GET("/j"));
    struct lb_cache_key k;
    key_of(&k, "/j");
    struct buf out;
    buf_init(&out);
    struct lb_cache_answer a0 = {&out, &q.r, false, false, 0, 0}, a1 = a0;
    struct lb_cache_obj *stale = NULL;
    cr_assert_eq(lb_cache_lookup(cache, &k, 1000, &a0, &stale), LB_CACHE_MISS);
    cr_assert_eq(lb_cache_lookup(cache, &k, 1000, &a1, &stale), LB_CACHE_MISS);
    struct lb_cache_fill *f0, *f1, *f2;
    cr_assert_eq(lb_cache_fill_join(cache, 0, &loop, &k, a0.seen, true, &f0), LB_CACHE_JOIN_OWN);
    cr_assert_eq(lb_cache_fill_join(cache, 1, &loop, &k, a1.seen, true, &f1), LB_CACHE_JOIN_WAIT);
    cr_assert_neq(f0, f1); /* a shadow for worker 1 */
    cr_assert_eq(lb_cache_fill_join(cache, 0, &loop, &k, a1.seen, true, &f2), LB_CACHE_JOIN_WAIT);
    cr_assert_eq(f2, f0); /* the owner's own worker waits on the fill itself */
    cr_assert(lb_cache_fill_wait(f1));
    *lb_cache_fill_waiters(f1) = &out; /* any non-NULL head: wake() counts */
    lb_cache_fill_begin(f0, q.raw, strlen(q.raw), NULL, false);
    struct http1_response r;
    struct http1_header h[32];
    http1_response_init(&r, h, 32);
    cr_assert_gt(http1_parse_response(OK60, strlen(OK60), &r, NULL, false), 0);
    struct lb_cache_rules rules = {NULL, 0, false};
    cr_assert_eq(lb_cache_fill_head(f0, &r, &rules, 1000), 1);
    lb_cache_fill_data(f0, "0123456789", 10);
    lb_cache_fill_finish(f0, true, 1000, wake);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(woken, 1); /* the shadow's waiters (f0 had none) */
    int st;
    cr_assert_eq(look("/j", GET("/j"), 1000, &out, &st), LB_CACHE_HIT);
    buf_deinit(&out);
}

/* A request that missed before a fill of its URL was stored, and asks after
 * the fill left: it is told to look again (the object is there), not made a
 * second fetch. A HEAD (no claim) that finds no fill is told NONE. */
Test(cache_store, join_after_store_looks_again, .init = setup, .fini = teardown)
{
    struct req q;
    parse_req(&q, GET("/g"));
    struct lb_cache_key k;
    key_of(&k, "/g");
    struct buf out;
    buf_init(&out);
    struct lb_cache_answer a = {&out, &q.r, false, false, 0, 0};
    struct lb_cache_obj *stale = NULL;
    cr_assert_eq(lb_cache_lookup(cache, &k, 1000, &a, &stale), LB_CACHE_MISS);
    struct lb_cache_fill *f;
    cr_assert_eq(lb_cache_fill_join(cache, 1, &loop, &k, a.seen, false, &f), LB_CACHE_JOIN_NONE);
    cr_assert_null(f);
    cr_assert_eq(fill("/other", GET("/other"), OK60, "0123456789", 1000), 1);
    cr_assert_eq(lb_cache_fill_join(cache, 1, &loop, &k, a.seen, false, &f), LB_CACHE_JOIN_NONE); /* not its URL */
    cr_assert_eq(fill("/g", GET("/g"), OK60, "0123456789", 1000), 1);
    cr_assert_eq(lb_cache_fill_join(cache, 1, &loop, &k, a.seen, true, &f), LB_CACHE_JOIN_AGAIN);
    cr_assert_null(f);
    cr_assert_eq(lb_cache_lookup(cache, &k, 1000, &a, &stale), LB_CACHE_HIT);
    /* an uncacheable answer's marker counts as stored too: the look again
     * then says PASS */
    key_of(&k, "/u");
    cr_assert_eq(lb_cache_lookup(cache, &k, 1000, &a, &stale), LB_CACHE_MISS);
    fill("/u", GET("/u"), "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: 1\r\n\r\n", "x", 1000);
    cr_assert_eq(lb_cache_fill_join(cache, 1, &loop, &k, a.seen, true, &f), LB_CACHE_JOIN_AGAIN);
    cr_assert_eq(lb_cache_lookup(cache, &k, 1000, &a, &stale), LB_CACHE_PASS);
    buf_deinit(&out);
}
