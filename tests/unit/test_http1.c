/*
 * test_http1.c — unit tests for proto/http1 (parser, chunked decoder, writers).
 *
 * Every message is parsed three ways and the outcomes must be identical:
 *   whole     one call on an exact-size heap copy (ASan catches any over-read),
 *   bytewise  one call per received byte on the same buffer (resumption path),
 *   moving    one call per byte, each on a fresh exact-size copy (restart path).
 * Results are compared as offsets into the input, so they do not depend on
 * where the buffer lives. Chunked bodies are decoded whole, split in two at
 * every offset, and byte by byte, in all three modes (scan, next, decode).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "proto/http1.h"

#define S(lit) (lit), (sizeof(lit) - 1)
#define MAXH 128

/* ---- request harness ---------------------------------------------------- */

struct rq {
    int rc;
    size_t method_off, method_len, target_off, target_len;
    int meth, form, minor;
    size_t nh;
    size_t hn_off[MAXH], hn_len[MAXH], hv_off[MAXH], hv_len[MAXH];
    long host_off;
    size_t host_len;
    int body;
    uint64_t cl;
    bool ka, expect, upgrade;
};

static void rq_fill(struct rq *o, int rc, const char *base, const struct http1_request *r)
{
    memset(o, 0, sizeof *o);
    o->rc = rc;
    if (rc <= 0)
        return;
    o->method_off = (size_t)(r->method - base);
    o->method_len = r->method_len;
    o->target_off = (size_t)(r->target - base);
    o->target_len = r->target_len;
    o->meth = r->meth;
    o->form = r->target_form;
    o->minor = r->minor_version;
    o->nh = r->num_headers;
    for (size_t i = 0; i < r->num_headers; i++) {
        o->hn_off[i] = (size_t)(r->headers[i].name - base);
        o->hn_len[i] = r->headers[i].name_len;
        o->hv_off[i] = (size_t)(r->headers[i].value - base);
        o->hv_len[i] = r->headers[i].value_len;
    }
    o->host_off = r->host ? (long)(r->host - base) : -1;
    o->host_len = r->host_len;
    o->body = r->body;
    o->cl = r->content_length;
    o->ka = r->keep_alive;
    o->expect = r->expect_continue;
    o->upgrade = r->upgrade;
}

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

static void req_whole(const char *s, size_t n, const struct http1_limits *lim, struct rq *o)
{
    struct http1_header h[MAXH];
    struct http1_request r;
    http1_request_init(&r, h, MAXH);
    char *b = dup_exact(s, n);
    int rc = http1_parse_request(b, n, &r, lim);
    rq_fill(o, rc, b, &r);
    free(b);
}

static void req_bytewise(const char *s, size_t n, const struct http1_limits *lim, struct rq *o)
{
    struct http1_header h[MAXH];
    struct http1_request r;
    http1_request_init(&r, h, MAXH);
    char *b = dup_exact(s, n);
    int rc = 0;
    for (size_t k = 1; k <= n; k++) {
        rc = http1_parse_request(b, k, &r, lim);
        if (rc != 0)
            break;
    }
    rq_fill(o, rc, b, &r);
    free(b);
}

static void req_moving(const char *s, size_t n, const struct http1_limits *lim, struct rq *o)
{
    struct http1_header h[MAXH];
    struct http1_request r;
    http1_request_init(&r, h, MAXH);
    int rc = 0;
    char *b = NULL;
    for (size_t k = 1; k <= n; k++) {
        char *nb = dup_exact(s, k); /* allocated before the old one is freed: a new address */
        free(b);
        b = nb;
        rc = http1_parse_request(b, k, &r, lim);
        if (rc != 0)
            break;
    }
    rq_fill(o, rc, b, &r);
    free(b);
}

/* Parse three ways, assert identical outcomes, return the result. */
static struct rq req_all_lim(const char *s, size_t n, const struct http1_limits *lim)
{
    struct rq a, b, c;
    req_whole(s, n, lim, &a);
    req_bytewise(s, n, lim, &b);
    req_moving(s, n, lim, &c);
    cr_assert(memcmp(&a, &b, sizeof a) == 0, "whole (%d) != bytewise (%d) for %.*s", a.rc, b.rc,
              (int)n, s);
    cr_assert(memcmp(&a, &c, sizeof a) == 0, "whole (%d) != moving (%d) for %.*s", a.rc, c.rc,
              (int)n, s);
    return a;
}

static struct rq req_all(const char *s, size_t n) { return req_all_lim(s, n, NULL); }

#define REQ_ERR(lit, err) \
    do { \
        struct rq o_ = req_all(S(lit)); \
        cr_assert_eq(o_.rc, (err), "%s: got %d (%s), want %d (%s)", #lit, o_.rc, \
                     http1_err_name(o_.rc), (err), http1_err_name(err)); \
    } while (0)

#define REQ_OK(lit) \
    ({ \
        struct rq o_ = req_all(S(lit)); \
        cr_assert_eq(o_.rc, (int)(sizeof(lit) - 1), "%s: got %d (%s)", #lit, o_.rc, \
                     http1_err_name(o_.rc)); \
        o_; \
    })

static bool slice_eq(const char *base, size_t off, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(base + off, want, len) == 0;
}

/* ---- response harness ---------------------------------------------------- */

struct rs {
    int rc;
    int status, minor;
    size_t reason_off, reason_len, nh;
    size_t hn_off[MAXH], hv_off[MAXH], hv_len[MAXH];
    int body;
    uint64_t cl;
    bool has_cl, ka, upgrade;
};

static void rs_fill(struct rs *o, int rc, const char *base, const struct http1_response *r)
{
    memset(o, 0, sizeof *o);
    o->rc = rc;
    if (rc <= 0)
        return;
    o->status = r->status;
    o->minor = r->minor_version;
    o->reason_off = (size_t)(r->reason - base);
    o->reason_len = r->reason_len;
    o->nh = r->num_headers;
    for (size_t i = 0; i < r->num_headers; i++) {
        o->hn_off[i] = (size_t)(r->headers[i].name - base);
        o->hv_off[i] = (size_t)(r->headers[i].value - base);
        o->hv_len[i] = r->headers[i].value_len;
    }
    o->body = r->body;
    o->cl = r->content_length;
    o->has_cl = r->has_content_length;
    o->ka = r->keep_alive;
    o->upgrade = r->upgrade;
}

static struct rs res_all_lim(const char *s, size_t n, bool head, const struct http1_limits *lim)
{
    struct http1_header h[MAXH];
    struct http1_response r;
    struct rs a, b, c;

    http1_response_init(&r, h, MAXH);
    char *buf = dup_exact(s, n);
    rs_fill(&a, http1_parse_response(buf, n, &r, lim, head), buf, &r);
    free(buf);

    http1_response_init(&r, h, MAXH);
    buf = dup_exact(s, n);
    int rc = 0;
    for (size_t k = 1; k <= n && rc == 0; k++)
        rc = http1_parse_response(buf, k, &r, lim, head);
    rs_fill(&b, rc, buf, &r);
    free(buf);

    http1_response_init(&r, h, MAXH);
    buf = NULL;
    rc = 0;
    for (size_t k = 1; k <= n && rc == 0; k++) {
        char *nb = dup_exact(s, k);
        free(buf);
        buf = nb;
        rc = http1_parse_response(buf, k, &r, lim, head);
    }
    rs_fill(&c, rc, buf, &r);
    free(buf);

    cr_assert(memcmp(&a, &b, sizeof a) == 0, "whole (%d) != bytewise (%d) for %.*s", a.rc, b.rc,
              (int)n, s);
    cr_assert(memcmp(&a, &c, sizeof a) == 0, "whole (%d) != moving (%d) for %.*s", a.rc, c.rc,
              (int)n, s);
    return a;
}

static struct rs res_all(const char *s, size_t n, bool head) { return res_all_lim(s, n, head, NULL); }

#define RES_ERR(lit, err) \
    do { \
        struct rs o_ = res_all(S(lit), false); \
        cr_assert_eq(o_.rc, (err), "%s: got %d (%s), want %d (%s)", #lit, o_.rc, \
                     http1_err_name(o_.rc), (err), http1_err_name(err)); \
    } while (0)

#define RES_OK(lit, head) \
    ({ \
        struct rs o_ = res_all(S(lit), head); \
        cr_assert_eq(o_.rc, (int)(sizeof(lit) - 1), "%s: got %d (%s)", #lit, o_.rc, \
                     http1_err_name(o_.rc)); \
        o_; \
    })

/* ======================================================================== */
/* requests: valid                                                            */
/* ======================================================================== */

Test(request, simple_get)
{
    const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
    struct rq o = req_all(s, strlen(s));
    cr_assert_eq(o.rc, (int)strlen(s));
    cr_assert(slice_eq(s, o.method_off, o.method_len, "GET"));
    cr_assert(slice_eq(s, o.target_off, o.target_len, "/index.html?x=1"));
    cr_assert_eq(o.meth, HTTP1_METHOD_GET);
    cr_assert_eq(o.form, HTTP1_TARGET_ORIGIN);
    cr_assert_eq(o.minor, 1);
    cr_assert_eq(o.nh, 1);
    cr_assert(slice_eq(s, o.hn_off[0], o.hn_len[0], "Host"));
    cr_assert(slice_eq(s, o.hv_off[0], o.hv_len[0], "example.com"));
    cr_assert(slice_eq(s, (size_t)o.host_off, o.host_len, "example.com"));
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    cr_assert(o.ka);
    cr_assert(!o.expect);
    cr_assert(!o.upgrade);
}

Test(request, typical_browser_request)
{
    const char *s = "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
                    "Host: www.kittyhell.com\r\n"
                    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_3; ja-JP-mac; rv:1.9.2.3) "
                    "Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
                    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
                    "Accept-Encoding: gzip,deflate\r\n"
                    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
                    "Keep-Alive: 115\r\n"
                    "Connection: keep-alive\r\n"
                    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
                    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
                    "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n"
                    "\r\n";
    struct rq o = req_all(s, strlen(s));
    cr_assert_eq(o.rc, (int)strlen(s));
    cr_assert_eq(o.nh, 9);
    cr_assert(slice_eq(s, o.hn_off[8], o.hn_len[8], "Cookie"));
    cr_assert(o.ka);
}

Test(request, ows_trimmed_and_empty_values)
{
    const char *s = "GET / HTTP/1.1\r\nHost:a\r\nX-A: \t v  w \t\r\nX-B:\r\nX-C:   \r\n\r\n";
    struct rq o = req_all(s, strlen(s));
    cr_assert_gt(o.rc, 0);
    cr_assert_eq(o.nh, 4);
    cr_assert(slice_eq(s, o.hv_off[0], o.hv_len[0], "a"));
    cr_assert(slice_eq(s, o.hv_off[1], o.hv_len[1], "v  w"));
    cr_assert_eq(o.hv_len[2], 0);
    cr_assert_eq(o.hv_len[3], 0);
}

Test(request, obs_text_in_value_allowed)
{
    struct rq o = REQ_OK("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9 \xff\r\n\r\n");
    cr_assert_eq(o.nh, 2);
}

Test(request, token_chars_in_names_and_methods)
{
    struct rq o = REQ_OK("M-SEARCH /x HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n");
    cr_assert_eq(o.meth, HTTP1_METHOD_OTHER);
    cr_assert_eq(o.nh, 2);
    REQ_ERR("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET); /* asterisk needs OPTIONS */
}

Test(request, methods)
{
    static const struct { const char *m; int id; } t[] = {
        { "GET", HTTP1_METHOD_GET },         { "HEAD", HTTP1_METHOD_HEAD },
        { "POST", HTTP1_METHOD_POST },       { "PUT", HTTP1_METHOD_PUT },
        { "DELETE", HTTP1_METHOD_DELETE },   { "OPTIONS", HTTP1_METHOD_OPTIONS },
        { "TRACE", HTTP1_METHOD_TRACE },     { "PATCH", HTTP1_METHOD_PATCH },
        { "PROPFIND", HTTP1_METHOD_OTHER },  { "get", HTTP1_METHOD_OTHER },
        { "GETS", HTTP1_METHOD_OTHER },      { "PUTX", HTTP1_METHOD_OTHER },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char s[128];
        int n = snprintf(s, sizeof s, "%s /x HTTP/1.1\r\nHost: h\r\n\r\n", t[i].m);
        struct rq o = req_all(s, (size_t)n);
        cr_assert_eq(o.rc, n, "%s", t[i].m);
        cr_assert_eq(o.meth, t[i].id, "%s", t[i].m);
        cr_assert(slice_eq(s, o.method_off, o.method_len, t[i].m));
    }
}

Test(request, content_length_body)
{
    const char *s = "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    struct rq o = req_all(s, strlen(s));
    cr_assert_eq(o.rc, (int)strlen(s) - 5);
    cr_assert_eq(o.body, HTTP1_BODY_LENGTH);
    cr_assert_eq(o.cl, 5);
    cr_assert_eq(o.meth, HTTP1_METHOD_POST);
}

Test(request, content_length_forms)
{
    struct rq o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    cr_assert_eq(o.body, HTTP1_BODY_LENGTH);
    cr_assert_eq(o.cl, 0);
    o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\ncontent-length:007\r\n\r\n");
    cr_assert_eq(o.cl, 7);
    o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nCONTENT-LENGTH: \t 42 \t\r\n\r\n");
    cr_assert_eq(o.cl, 42);
    o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n");
    cr_assert_eq(o.cl, 9223372036854775807ull);
}

Test(request, chunked)
{
    struct rq o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
    o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \tChunked \r\n\r\n");
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
    o = REQ_OK("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: CHUNKED\r\n\r\n");
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
}

Test(request, http10_keep_alive_rules)
{
    struct rq o = REQ_OK("GET / HTTP/1.0\r\n\r\n");
    cr_assert_eq(o.minor, 0);
    cr_assert(!o.ka);
    cr_assert_eq(o.host_off, -1);
    o = REQ_OK("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    cr_assert(o.ka);
    o = REQ_OK("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    cr_assert(!o.ka);
    o = REQ_OK("GET / HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n");
    cr_assert(!o.expect); /* ignored in HTTP/1.0 (RFC 9110 10.1.1, 7.8) */
    cr_assert(!o.upgrade);
}

Test(request, http11_connection_close)
{
    struct rq o = REQ_OK("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    cr_assert(!o.ka);
    o = REQ_OK("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n");
    cr_assert(!o.ka);
    o = REQ_OK("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n");
    cr_assert(!o.ka);
    o = REQ_OK("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n");
    cr_assert(o.ka);
    o = REQ_OK("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,, close \t, x\r\n\r\n");
    cr_assert(!o.ka);
}

Test(request, expect_continue)
{
    struct rq o = REQ_OK("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n");
    cr_assert(o.expect);
    o = REQ_OK("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n");
    cr_assert(!o.expect);
}

Test(request, upgrade)
{
    struct rq o = REQ_OK("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    cr_assert(o.upgrade);
    o = REQ_OK("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
    cr_assert(!o.upgrade);
    o = REQ_OK("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n");
    cr_assert(!o.upgrade);
}

Test(request, target_forms)
{
    struct rq o = REQ_OK("GET http://Example.com:80/a?b HTTP/1.1\r\nHost: example.COM:80\r\n\r\n");
    cr_assert_eq(o.form, HTTP1_TARGET_ABSOLUTE);
    o = REQ_OK("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    cr_assert_eq(o.form, HTTP1_TARGET_ABSOLUTE);
    o = REQ_OK("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    cr_assert_eq(o.form, HTTP1_TARGET_AUTHORITY);
    cr_assert_eq(o.meth, HTTP1_METHOD_CONNECT);
    o = REQ_OK("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");
    cr_assert_eq(o.form, HTTP1_TARGET_AUTHORITY);
    o = REQ_OK("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    cr_assert_eq(o.form, HTTP1_TARGET_ASTERISK);
    o = REQ_OK("GET urn:isbn:0451450523 HTTP/1.1\r\nHost: a\r\n\r\n"); /* no authority to compare */
    cr_assert_eq(o.form, HTTP1_TARGET_ABSOLUTE);
    o = REQ_OK("GET /a|b{c}\"d\\e^f`g<h>i%20;j=k:l@m!$&'()*+,~ HTTP/1.1\r\nHost: a\r\n\r\n");
    cr_assert_eq(o.form, HTTP1_TARGET_ORIGIN);
}

Test(request, target_form_errors)
{
    REQ_ERR("GET * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
    REQ_ERR("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_TARGET);
}

Test(request, host_must_match_absolute_target)
{
    REQ_ERR("GET http://a.com/ HTTP/1.1\r\nHost: b.com\r\n\r\n", HTTP1_E_HOST_MISMATCH);
    REQ_ERR("GET http://user@a.com/ HTTP/1.1\r\nHost: a.com\r\n\r\n", HTTP1_E_HOST_MISMATCH);
    REQ_ERR("GET http://a.com:81/ HTTP/1.1\r\nHost: a.com\r\n\r\n", HTTP1_E_HOST_MISMATCH);
    REQ_ERR("GET http://a.com/ HTTP/1.1\r\n\r\n", HTTP1_E_HOST_MISSING);
    struct rq o = REQ_OK("GET http://a.com/ HTTP/1.0\r\n\r\n");
    cr_assert_eq(o.host_off, -1);
}

Test(request, leading_empty_lines_skipped)
{
    const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    struct rq o = req_all(s, strlen(s));
    cr_assert_eq(o.rc, (int)strlen(s));
    cr_assert_eq(o.method_off, 4);
    REQ_ERR("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("\r\n \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
}

Test(request, pipelined)
{
    const char *s = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\nGET /3";
    struct http1_header h[8];
    struct http1_request r;
    http1_request_init(&r, h, 8);
    size_t off = 0;
    int rc = http1_parse_request(s, strlen(s), &r, NULL);
    cr_assert_eq(rc, 28);
    cr_assert_eq(r.target_len, 2);
    cr_assert_eq(memcmp(r.target, "/1", 2), 0);
    off += (size_t)rc;
    rc = http1_parse_request(s + off, strlen(s) - off, &r, NULL);
    cr_assert_eq(rc, 28);
    cr_assert_eq(memcmp(r.target, "/2", 2), 0);
    cr_assert_eq(memcmp(r.host, "b", 1), 0);
    off += (size_t)rc;
    rc = http1_parse_request(s + off, strlen(s) - off, &r, NULL);
    cr_assert_eq(rc, HTTP1_INCOMPLETE);
}

Test(request, final_result_resets_progress)
{
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http1_header h[8];
    struct http1_request r;
    http1_request_init(&r, h, 8);
    cr_assert_eq(http1_parse_request(s, 10, &r, NULL), 0);
    cr_assert_eq(http1_parse_request(s, strlen(s), &r, NULL), (int)strlen(s));
    /* a second parse of the same bytes is a fresh parse with the same result */
    cr_assert_eq(http1_parse_request(s, strlen(s), &r, NULL), (int)strlen(s));
    cr_assert_eq(r.num_headers, 1);
    /* after an error too */
    cr_assert_eq(http1_parse_request(S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), &r, NULL), HTTP1_E_HEADER_SPACE);
    cr_assert_eq(http1_parse_request(s, strlen(s), &r, NULL), (int)strlen(s));
    /* explicit reset after dropping a partial message */
    cr_assert_eq(http1_parse_request(s, 20, &r, NULL), 0);
    http1_request_reset(&r);
    cr_assert_eq(http1_parse_request(S("PUT /x HTTP/1.1\r\nHost: z\r\n\r\n"), &r, NULL), 28);
    cr_assert_eq(r.meth, HTTP1_METHOD_PUT);
}

Test(request, incomplete_prefixes)
{
    const char *s = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
    for (size_t k = 0; k < strlen(s); k++) {
        struct http1_header h[8];
        struct http1_request r;
        http1_request_init(&r, h, 8);
        char *b = dup_exact(s, k);
        cr_assert_eq(http1_parse_request(b, k, &r, NULL), HTTP1_INCOMPLETE, "prefix %zu", k);
        free(b);
    }
}

Test(request, parser_allocates_nothing)
{
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    struct http1_header h[8];
    struct http1_request r;
    http1_request_init(&r, h, 8);
    unsigned long long before = xalloc_count();
    int rc = http1_parse_request(s, strlen(s), &r, NULL);
    cr_assert_gt(rc, 0);
    struct http1_chunked c;
    http1_chunked_init(&c, NULL);
    size_t used;
    cr_assert_eq(http1_chunked_scan(&c, s + rc, strlen(s) - (size_t)rc, &used), HTTP1_CHUNK_DONE);
    cr_assert_eq(xalloc_count(), before);
}

/* ======================================================================== */
/* requests: smuggling vectors and malformed input                           */
/* ======================================================================== */

Test(smuggling, cl_and_te)
{
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            HTTP1_E_CL_AND_TE);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            HTTP1_E_CL_AND_TE);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
            HTTP1_E_CL_AND_TE);
    cr_assert_eq(http1_err_status(HTTP1_E_CL_AND_TE), 400);
}

Test(smuggling, duplicate_content_length)
{
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            HTTP1_E_CONTENT_LENGTH_DUP);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            HTTP1_E_CONTENT_LENGTH_DUP);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", HTTP1_E_CONTENT_LENGTH_DUP);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,6\r\n\r\n", HTTP1_E_CONTENT_LENGTH_DUP);
}

Test(smuggling, bad_content_length)
{
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  \r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n",
            HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            HTTP1_E_CONTENT_LENGTH);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xd9\xa5\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
}

Test(smuggling, transfer_encoding_rules)
{
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
            HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", HTTP1_E_TE_UNSUPPORTED);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;q=\"a, b\", chunked\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;level=9, chunked\r\n\r\n", HTTP1_E_TE_UNSUPPORTED);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP1_E_TE_UNSUPPORTED);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", HTTP1_E_TE_UNSUPPORTED);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", HTTP1_E_TE_UNSUPPORTED);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n", HTTP1_E_TE_UNSUPPORTED);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked x\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", HTTP1_E_TE_INVALID);
    REQ_ERR("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_E_TE_HTTP10);
    REQ_ERR("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", HTTP1_E_TE_HTTP10);
    cr_assert_eq(http1_err_status(HTTP1_E_TE_UNSUPPORTED), 501);
}

Test(smuggling, obs_fold)
{
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", HTTP1_E_OBS_FOLD);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", HTTP1_E_OBS_FOLD);
    REQ_ERR("GET / HTTP/1.1\r\n Host: a\r\n\r\n", HTTP1_E_OBS_FOLD);
    REQ_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n chunked\r\n\r\n", HTTP1_E_OBS_FOLD);
}

Test(smuggling, whitespace_before_colon)
{
    REQ_ERR("GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP1_E_HEADER_SPACE);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n", HTTP1_E_HEADER_SPACE);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", HTTP1_E_HEADER_SPACE);
}

Test(smuggling, control_characters)
{
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", HTTP1_E_HEADER_VALUE);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", HTTP1_E_HEADER_VALUE);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX: a\0z\r\n\r\n", HTTP1_E_HEADER_VALUE);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b\r\n\r\n", HTTP1_E_HEADER_VALUE);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX\0: a\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("G\0T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
    REQ_ERR("GET / HTTP/1.1\0\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("\0GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
}

Test(smuggling, bare_cr_and_lf)
{
    REQ_ERR("GET / HTTP/1.1\nHost: a\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\nX: b\n\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX\r: b\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", HTTP1_E_LINE_ENDING);
    REQ_ERR("GET\r / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_LINE_ENDING);
}

Test(smuggling, bad_header_names)
{
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n@: z\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX\"y: z\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nCaf\xc3\xa9: z\r\n\r\n", HTTP1_E_HEADER_NAME);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nX/Y: z\r\n\r\n", HTTP1_E_HEADER_NAME);
}

Test(smuggling, bad_methods)
{
    REQ_ERR("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
    REQ_ERR("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
    REQ_ERR(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
    REQ_ERR("GE:T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_METHOD);
}

Test(smuggling, early_reject_of_non_http)
{
    /* a TLS ClientHello on a plain port is rejected at its first byte */
    struct http1_header h[4];
    struct http1_request r;
    http1_request_init(&r, h, 4);
    char *b = dup_exact("\x16\x03\x01", 3);
    cr_assert_eq(http1_parse_request(b, 1, &r, NULL), HTTP1_E_METHOD);
    free(b);
    REQ_ERR("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", HTTP1_E_METHOD);
}

Test(smuggling, request_line_shape)
{
    REQ_ERR("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_REQUEST_LINE);
    REQ_ERR("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET /\r\n\r\n", HTTP1_E_REQUEST_LINE); /* HTTP/0.9 */
    REQ_ERR("GET\r\n\r\n", HTTP1_E_REQUEST_LINE);
    REQ_ERR("GET / \r\n\r\n", HTTP1_E_VERSION);
}

Test(smuggling, versions)
{
    REQ_ERR("GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP1_E_VERSION_UNSUPPORTED);
    REQ_ERR("GET / HTTP/1.2\r\nHost: a\r\n\r\n", HTTP1_E_VERSION_UNSUPPORTED);
    REQ_ERR("GET / HTTP/0.9\r\nHost: a\r\n\r\n", HTTP1_E_VERSION_UNSUPPORTED);
    REQ_ERR("GET / HTTP/1.10\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET / http/1.1\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET / HTTP/1\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET / HTTP/1.x\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET / HTTP/2\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    REQ_ERR("GET / HTCPCP/1.0\r\nHost: a\r\n\r\n", HTTP1_E_VERSION);
    cr_assert_eq(http1_err_status(HTTP1_E_VERSION_UNSUPPORTED), 505);
    cr_assert_eq(http1_err_status(HTTP1_E_VERSION), 400);
}

Test(smuggling, host_rules)
{
    REQ_ERR("GET / HTTP/1.1\r\n\r\n", HTTP1_E_HOST_MISSING);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP1_E_HOST_DUP);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HTTP1_E_HOST_DUP);
    REQ_ERR("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", HTTP1_E_HOST_DUP);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP1_E_HOST_INVALID);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", HTTP1_E_HOST_INVALID);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", HTTP1_E_HOST_INVALID);
    REQ_ERR("GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n", HTTP1_E_HOST_INVALID);
    struct rq o = REQ_OK("GET / HTTP/1.1\r\nHost:\r\n\r\n");
    cr_assert_eq(o.host_len, 0);
    cr_assert_geq(o.host_off, 0);
    o = REQ_OK("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n");
    cr_assert_eq(o.host_len, 18);
    o = REQ_OK("GET / HTTP/1.1\r\nHost: xn--caf-dma.example:443\r\n\r\n");
}

/* ======================================================================== */
/* limits                                                                     */
/* ======================================================================== */

static char *make_request_line(size_t target_len, size_t *out_len)
{
    /* "GET /xxxx HTTP/1.1\r\nHost: a\r\n\r\n" */
    size_t n = 4 + target_len + 9 + 2 + 9 + 2;
    char *s = malloc(n + 1);
    memcpy(s, "GET ", 4);
    s[4] = '/';
    memset(s + 5, 'x', target_len - 1);
    memcpy(s + 4 + target_len, " HTTP/1.1\r\nHost: a\r\n\r\n", 22);
    *out_len = n;
    return s;
}

Test(limits, request_line)
{
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_line = 64;
    size_t n;
    char *s = make_request_line(64 - 13, &n); /* line exactly 64 bytes */
    struct rq o = req_all_lim(s, n, &lim);
    cr_assert_eq(o.rc, (int)n);
    free(s);
    s = make_request_line(64 - 12, &n);
    o = req_all_lim(s, n, &lim);
    cr_assert_eq(o.rc, HTTP1_E_LINE_TOO_LONG);
    cr_assert_eq(http1_err_status(o.rc), 414);
    free(s);
    /* reported before the LF arrives: 66 bytes without LF cannot be a valid line */
    struct http1_header h[4];
    struct http1_request r;
    http1_request_init(&r, h, 4);
    char line[80];
    memset(line, 'a', sizeof line);
    memcpy(line, "GET /", 5);
    cr_assert_eq(http1_parse_request(line, 65, &r, &lim), HTTP1_INCOMPLETE);
    cr_assert_eq(http1_parse_request(line, 66, &r, &lim), HTTP1_E_LINE_TOO_LONG);
}

Test(limits, default_request_line_8k)
{
    size_t n;
    char *s = make_request_line(8192 - 13, &n);
    struct rq o;
    req_whole(s, n, NULL, &o);
    cr_assert_eq(o.rc, (int)n);
    free(s);
    s = make_request_line(8192 - 12, &n);
    req_whole(s, n, NULL, &o);
    cr_assert_eq(o.rc, HTTP1_E_LINE_TOO_LONG);
    free(s);
}

Test(limits, header_bytes)
{
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_header_bytes = 100;
    /* build a block of exactly 100 bytes, then 101 */
    char s[256];
    const char *head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    size_t hl = strlen(head);
    size_t fill = 100 - hl - 4;
    memcpy(s, head, hl);
    memset(s + hl, 'v', fill);
    memcpy(s + hl + fill, "\r\n\r\n", 4);
    struct rq o = req_all_lim(s, 100, &lim);
    cr_assert_eq(o.rc, 100);
    memcpy(s, head, hl);
    memset(s + hl, 'v', fill + 1);
    memcpy(s + hl + fill + 1, "\r\n\r\n", 4);
    o = req_all_lim(s, 101, &lim);
    cr_assert_eq(o.rc, HTTP1_E_HEADERS_TOO_LARGE);
    cr_assert_eq(http1_err_status(o.rc), 431);
    /* a start line longer than the block limit says 431, not 414 */
    lim.max_header_bytes = 20;
    o = req_all_lim(S("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, HTTP1_E_HEADERS_TOO_LARGE);
    /* endless empty lines before the request line */
    char crlf[64];
    for (int i = 0; i < 32; i++)
        memcpy(crlf + 2 * i, "\r\n", 2);
    o = req_all_lim(crlf, sizeof crlf, &lim);
    cr_assert_eq(o.rc, HTTP1_E_HEADERS_TOO_LARGE);
}

Test(limits, header_bytes_before_terminator)
{
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_header_bytes = 64;
    char s[200];
    memset(s, 'v', sizeof s);
    memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
    struct http1_header h[4];
    struct http1_request r;
    http1_request_init(&r, h, 4);
    cr_assert_eq(http1_parse_request(s, 63, &r, &lim), HTTP1_INCOMPLETE);
    cr_assert_eq(http1_parse_request(s, 64, &r, &lim), HTTP1_E_HEADERS_TOO_LARGE);
}

Test(limits, header_count)
{
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_headers = 4;
    struct rq o = req_all_lim(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), &lim);
    cr_assert_gt(o.rc, 0);
    cr_assert_eq(o.nh, 4);
    o = req_all_lim(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, HTTP1_E_TOO_MANY_HEADERS);
    cr_assert_eq(http1_err_status(o.rc), 431);
    /* the caller's array is a limit too */
    struct http1_header h[2];
    struct http1_request r;
    http1_request_init(&r, h, 2);
    cr_assert_eq(http1_parse_request(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"), &r, NULL),
                 HTTP1_E_TOO_MANY_HEADERS);
    cr_assert_eq(http1_parse_request(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n"), &r, NULL), 33);
}

Test(limits, zero_fields_mean_default)
{
    struct http1_limits lim = { 0 };
    struct rq o = req_all_lim(S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, 27);
}

Test(limits, long_block_bytewise_is_linear)
{
    /* 30 KB of headers fed one byte at a time: completes (O(n) total work) */
    size_t cap = 31 * 1024;
    char *s = malloc(cap);
    size_t n = 0;
    n += (size_t)sprintf(s + n, "GET / HTTP/1.1\r\nHost: a\r\n");
    int i;
    for (i = 0; n + 400 < 30 * 1024; i++) {
        n += (size_t)sprintf(s + n, "X-%d: ", i);
        memset(s + n, 'q', 300);
        n += 300;
        memcpy(s + n, "\r\n", 2);
        n += 2;
    }
    memcpy(s + n, "\r\n", 2);
    n += 2;
    struct http1_header h[128];
    struct http1_request r;
    http1_request_init(&r, h, 128);
    int rc = 0;
    for (size_t k = 1; k <= n && rc == 0; k++)
        rc = http1_parse_request(s, k, &r, NULL);
    cr_assert_eq(rc, (int)n);
    cr_assert_eq(r.num_headers, (size_t)i + 1);
    free(s);
}

/* ======================================================================== */
/* responses                                                                  */
/* ======================================================================== */

Test(response, content_length)
{
    const char *s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n";
    struct rs o = res_all(s, strlen(s), false);
    cr_assert_eq(o.rc, (int)strlen(s) - 12);
    cr_assert_eq(o.status, 200);
    cr_assert_eq(o.minor, 1);
    cr_assert_eq(o.reason_len, 2);
    cr_assert_eq(memcmp(s + o.reason_off, "OK", 2), 0);
    cr_assert_eq(o.nh, 2);
    cr_assert_eq(o.body, HTTP1_BODY_LENGTH);
    cr_assert_eq(o.cl, 12);
    cr_assert(o.ka);
}

Test(response, chunked_and_codings)
{
    struct rs o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
    cr_assert(o.ka);
    o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
    o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;level=9 , chunked\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
    o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_CHUNKED);
    o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_UNTIL_CLOSE);
    cr_assert(!o.ka);
    o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_UNTIL_CLOSE);
    RES_ERR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", HTTP1_E_TE_INVALID);
    RES_ERR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", HTTP1_E_CL_AND_TE);
    RES_ERR("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_E_TE_HTTP10);
    RES_ERR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", HTTP1_E_TE_INVALID);
}

Test(response, until_close)
{
    struct rs o = RES_OK("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_UNTIL_CLOSE);
    cr_assert(!o.ka);
    o = RES_OK("HTTP/1.0 200 OK\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_UNTIL_CLOSE);
    cr_assert_eq(o.minor, 0);
    o = RES_OK("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", false);
    cr_assert(o.ka);
    o = RES_OK("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false);
    cr_assert(!o.ka);
    o = RES_OK("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false);
    cr_assert(!o.ka);
}

Test(response, no_body_statuses)
{
    struct rs o = RES_OK("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    cr_assert(o.ka);
    o = RES_OK("HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    cr_assert(o.has_cl);
    cr_assert_eq(o.cl, 500);
    o = RES_OK("HTTP/1.1 304 Not Modified\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    cr_assert(o.ka);
    o = RES_OK("HTTP/1.1 100 Continue\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    o = RES_OK("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", false);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    o = RES_OK("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    cr_assert_eq(o.cl, 1234);
    cr_assert(o.ka);
    o = RES_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    o = RES_OK("HTTP/1.1 200 OK\r\n\r\n", true);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
    cr_assert(o.ka);
}

Test(response, interim_then_final)
{
    const char *s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    struct http1_header h[8];
    struct http1_response r;
    http1_response_init(&r, h, 8);
    int rc = http1_parse_response(s, strlen(s), &r, NULL, false);
    cr_assert_eq(rc, 25);
    cr_assert_eq(r.status, 100);
    rc = http1_parse_response(s + rc, strlen(s) - 25, &r, NULL, false);
    cr_assert_eq(rc, (int)strlen(s) - 25);
    cr_assert_eq(r.status, 201);
    cr_assert_eq(r.body, HTTP1_BODY_LENGTH);
}

Test(response, switching_protocols)
{
    struct rs o = RES_OK("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false);
    cr_assert(o.upgrade);
    cr_assert_eq(o.body, HTTP1_BODY_NONE);
}

Test(response, status_lines)
{
    struct rs o = RES_OK("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false);
    cr_assert_eq(o.reason_len, 0);
    o = RES_OK("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", false);
    cr_assert_eq(o.reason_len, 0);
    o = RES_OK("HTTP/1.1 404 Not \tFound \xe9\r\nContent-Length: 0\r\n\r\n", false);
    cr_assert_eq(o.status, 404);
    cr_assert_eq(o.reason_len, 12);
    o = RES_OK("HTTP/1.1 599 Whatever\r\nContent-Length: 0\r\n\r\n", false);
    cr_assert_eq(o.status, 599);
    RES_ERR("HTTP/1.1 099 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1 600 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1 20 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1 2000 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1 2x0 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1  200 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1\t200 X\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1 200 O\x01K\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("HTTP/1.1 200 O\rK\r\n\r\n", HTTP1_E_LINE_ENDING);
    RES_ERR("HTTP/1.1 200 OK\n\r\n", HTTP1_E_LINE_ENDING);
    RES_ERR("HTTP/2.0 200 OK\r\n\r\n", HTTP1_E_VERSION_UNSUPPORTED);
    RES_ERR("HTTP/1.1200 OK\r\n\r\n", HTTP1_E_STATUS_LINE);
    RES_ERR("ICY 200 OK\r\n\r\n", HTTP1_E_VERSION);
    RES_ERR("\r\nHTTP/1.1 200 OK\r\n\r\n", HTTP1_E_VERSION);
    RES_ERR("\n", HTTP1_E_LINE_ENDING);
}

Test(response, header_errors)
{
    RES_ERR("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", HTTP1_E_CONTENT_LENGTH_DUP);
    RES_ERR("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", HTTP1_E_CONTENT_LENGTH);
    RES_ERR("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", HTTP1_E_OBS_FOLD);
    RES_ERR("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", HTTP1_E_HEADER_SPACE);
    RES_ERR("HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n", HTTP1_E_HEADER_VALUE);
    /* Host/Expect are request-only: ignored in responses */
    struct rs o = RES_OK("HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\nContent-Length: 0\r\n\r\n", false);
    cr_assert_eq(o.nh, 3);
}

Test(response, limits)
{
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_line = 20;
    struct rs o = res_all_lim(S("HTTP/1.1 200 OKOKOKOK\r\n\r\n"), false, &lim);
    cr_assert_eq(o.rc, HTTP1_E_LINE_TOO_LONG);
    o = res_all_lim(S("HTTP/1.1 200 OKOKOKO\r\n\r\n"), false, &lim);
    cr_assert_gt(o.rc, 0);
}

/* ======================================================================== */
/* chunked                                                                    */
/* ======================================================================== */

struct ck {
    int rc;
    size_t consumed;
    size_t data_len;
    char data[4096];
};

/* Feed pieces [0,k) and [k,n) with the `next` API; collect data. */
static void ck_next_split(const char *s, size_t n, size_t k, const struct http1_limits *lim, struct ck *o)
{
    struct http1_chunked c;
    http1_chunked_init(&c, lim);
    memset(o, 0, sizeof *o);
    size_t cuts[3] = { 0, k, n };
    int rc = HTTP1_INCOMPLETE;
    size_t total = 0;
    for (int piece = 0; piece < 2 && rc == HTTP1_INCOMPLETE; piece++) {
        size_t plen = cuts[piece + 1] - cuts[piece];
        char *b = dup_exact(s + cuts[piece], plen);
        size_t off = 0;
        for (;;) {
            size_t used;
            const char *d;
            size_t dl;
            rc = http1_chunked_next(&c, b + off, plen - off, &used, &d, &dl);
            cr_assert_leq(used, plen - off);
            if (rc == HTTP1_CHUNK_DATA) {
                cr_assert(d >= b + off && d + dl == b + off + used);
                cr_assert_gt(dl, 0);
                cr_assert_leq(o->data_len + dl, sizeof o->data);
                memcpy(o->data + o->data_len, d, dl);
                o->data_len += dl;
            }
            off += used;
            if (rc != HTTP1_CHUNK_DATA)
                break;
        }
        total += off;
        if (rc == HTTP1_INCOMPLETE)
            cr_assert_eq(off, plen);
        free(b);
    }
    o->rc = rc;
    o->consumed = total;
    cr_assert_eq(c.total, o->data_len);
}

static void ck_scan_bytewise(const char *s, size_t n, const struct http1_limits *lim, struct ck *o)
{
    struct http1_chunked c;
    http1_chunked_init(&c, lim);
    memset(o, 0, sizeof *o);
    int rc = HTTP1_INCOMPLETE;
    size_t total = 0;
    for (size_t i = 0; i < n && rc == HTTP1_INCOMPLETE; i++) {
        size_t used;
        rc = http1_chunked_scan(&c, s + i, 1, &used);
        total += used;
    }
    o->rc = rc;
    o->consumed = total;
    o->data_len = c.total;
}

static void ck_decode(const char *s, size_t n, const struct http1_limits *lim, struct ck *o)
{
    struct http1_chunked c;
    http1_chunked_init(&c, lim);
    memset(o, 0, sizeof *o);
    char *b = dup_exact(s, n);
    size_t used, dl;
    o->rc = http1_chunked_decode(&c, b, n, &used, &dl);
    o->consumed = used;
    o->data_len = dl;
    memcpy(o->data, b, dl < sizeof o->data ? dl : sizeof o->data);
    free(b);
}

/* Run every mode and split; all must agree. Returns the whole-input result. */
static struct ck ck_all_lim(const char *s, size_t n, const struct http1_limits *lim)
{
    static struct ck whole, other;
    ck_next_split(s, n, n, lim, &whole);
    for (size_t k = 0; k <= n; k++) {
        ck_next_split(s, n, k, lim, &other);
        cr_assert_eq(other.rc, whole.rc, "split %zu: rc %d vs %d", k, other.rc, whole.rc);
        cr_assert_eq(other.consumed, whole.consumed, "split %zu", k);
        cr_assert_eq(other.data_len, whole.data_len, "split %zu", k);
        cr_assert_eq(memcmp(other.data, whole.data, whole.data_len), 0, "split %zu", k);
    }
    ck_scan_bytewise(s, n, lim, &other);
    cr_assert_eq(other.rc, whole.rc);
    cr_assert_eq(other.consumed, whole.consumed);
    cr_assert_eq(other.data_len, whole.data_len);
    ck_decode(s, n, lim, &other);
    cr_assert_eq(other.rc, whole.rc);
    cr_assert_eq(other.consumed, whole.consumed);
    cr_assert_eq(other.data_len, whole.data_len);
    cr_assert_eq(memcmp(other.data, whole.data, whole.data_len), 0);
    struct http1_chunked c;
    http1_chunked_init(&c, lim);
    size_t used;
    cr_assert_eq(http1_chunked_scan(&c, s, n, &used), whole.rc);
    cr_assert_eq(used, whole.consumed);
    return whole;
}

static struct ck ck_all(const char *s, size_t n) { return ck_all_lim(s, n, NULL); }

#define CK_OK(lit, want) \
    do { \
        struct ck o_ = ck_all(S(lit)); \
        cr_assert_eq(o_.rc, HTTP1_CHUNK_DONE, "%s: rc %d (%s)", #lit, o_.rc, http1_err_name(o_.rc)); \
        cr_assert_eq(o_.consumed, sizeof(lit) - 1, "%s", #lit); \
        cr_assert_eq(o_.data_len, strlen(want), "%s", #lit); \
        cr_assert_eq(memcmp(o_.data, want, strlen(want)), 0, "%s", #lit); \
    } while (0)

#define CK_ERR(lit, err) \
    do { \
        struct ck o_ = ck_all(S(lit)); \
        cr_assert_eq(o_.rc, (err), "%s: rc %d (%s), want %s", #lit, o_.rc, http1_err_name(o_.rc), \
                     http1_err_name(err)); \
    } while (0)

Test(chunked, basic)
{
    CK_OK("5\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("0\r\n\r\n", "");
    CK_OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
    CK_OK("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij");
    CK_OK("0005\r\nhello\r\n000\r\n\r\n", "hello");
    CK_OK("1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n");
}

Test(chunked, extensions)
{
    CK_OK("5;name=value\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a;b=c;d=\"q s\\\"t\"\r\nhello\r\n0;last\r\n\r\n", "hello");
    CK_OK("5 ; a = b ; c\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5\t;a\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5 \r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a \r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a=\"\"\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a=b;c=d;e\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a=\"x\";b=\"y\" ;c\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a=\"x\" \r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a=\"\\\xff\x80\"\r\nhello\r\n0\r\n\r\n", "hello");
    CK_OK("5;a ;b\r\nhello\r\n0\r\n\r\n", "hello");
    CK_ERR("5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a b\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5 5\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;=b\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a=\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a=b c\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a=\"x\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a\x01\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_EXT);
    CK_ERR("5;a\rhello\r\n0\r\n\r\n", HTTP1_E_LINE_ENDING);
}

Test(chunked, extension_limit)
{
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_chunk_ext = 8;
    struct ck o = ck_all_lim(S("5;abcdefg\r\nhello\r\n0\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
    o = ck_all_lim(S("5;abcdefgh\r\nhello\r\n0\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, HTTP1_E_CHUNK_EXT_TOO_LONG);
    /* the limit is per line, not per body */
    o = ck_all_lim(S("1;abcdefg\r\na\r\n1;abcdefg\r\nb\r\n0;abcdefg\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
    cr_assert_eq(o.data_len, 2);
}

Test(chunked, trailers)
{
    CK_OK("5\r\nhello\r\n0\r\nX-Sum: abc\r\nY:\r\n\r\n", "hello");
    CK_OK("0\r\nExpires: never\r\n\r\n", "");
    CK_ERR("0\r\nX: a\r\n b\r\n\r\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\nX : a\r\n\r\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\n: a\r\n\r\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\nX: a\x01\r\n\r\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\nX: a\nY: b\r\n\r\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\nX: a\r\r\n\r\n", HTTP1_E_LINE_ENDING);
    CK_ERR("0\r\nNoColon\r\n\r\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\n\n", HTTP1_E_TRAILER);
    CK_ERR("0\r\n\rx", HTTP1_E_LINE_ENDING);
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_trailer_bytes = 10;
    struct ck o = ck_all_lim(S("0\r\nX: 123\r\n\r\n"), &lim); /* 8 + 2 = 10 bytes */
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
    o = ck_all_lim(S("0\r\nX: 1234\r\n\r\n"), &lim);
    cr_assert_eq(o.rc, HTTP1_E_TRAILER_TOO_LARGE);
}

Test(chunked, bad_sizes)
{
    CK_ERR("\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("g\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("-5\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("+5\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR(" 5\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("0x5\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("5x\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("00000000000000005\r\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE); /* 17 digits */
    CK_ERR("8000000000000000\r\n", HTTP1_E_CHUNK_SIZE);                    /* 2^63 */
    CK_ERR("ffffffffffffffff\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("10000000000000000\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("5\nhello\r\n0\r\n\r\n", HTTP1_E_CHUNK_SIZE);
    CK_ERR("5\rhello\r\n0\r\n\r\n", HTTP1_E_LINE_ENDING);
    struct ck o = ck_all(S("7fffffffffffffff\r\nabc"));
    cr_assert_eq(o.rc, HTTP1_INCOMPLETE);
    cr_assert_eq(o.data_len, 3);
    o = ck_all(S("0000000000000005\r\nhello\r\n0\r\n\r\n")); /* 16 digits is fine */
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
}

Test(chunked, bad_data_terminator)
{
    CK_ERR("5\r\nhelloX\r\n0\r\n\r\n", HTTP1_E_CHUNK_DATA);
    CK_ERR("5\r\nhello\n0\r\n\r\n", HTTP1_E_CHUNK_DATA);
    CK_ERR("5\r\nhello\rX0\r\n\r\n", HTTP1_E_CHUNK_DATA);
    CK_ERR("5\r\nhello world\r\n0\r\n\r\n", HTTP1_E_CHUNK_DATA);
    CK_ERR("5\r\nhell\r\n0\r\n\r\n", HTTP1_E_CHUNK_DATA);
}

Test(chunked, error_offset)
{
    struct http1_chunked c;
    http1_chunked_init(&c, NULL);
    size_t used;
    cr_assert_eq(http1_chunked_scan(&c, S("5\r\nhelloX"), &used), HTTP1_E_CHUNK_DATA);
    cr_assert_eq(used, 8);
}

Test(chunked, stops_at_end_of_body)
{
    const char *s = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    struct http1_chunked c;
    http1_chunked_init(&c, NULL);
    size_t used;
    cr_assert_eq(http1_chunked_scan(&c, s, strlen(s), &used), HTTP1_CHUNK_DONE);
    cr_assert_eq(used, 13);
    cr_assert(http1_chunked_done(&c));
    cr_assert_eq(c.total, 3);
    /* further calls say DONE and consume nothing */
    cr_assert_eq(http1_chunked_scan(&c, s + used, strlen(s) - used, &used), HTTP1_CHUNK_DONE);
    cr_assert_eq(used, 0);
}

Test(chunked, incomplete_consumes_everything)
{
    const char *s = "400\r\n";
    struct http1_chunked c;
    http1_chunked_init(&c, NULL);
    size_t used;
    cr_assert_eq(http1_chunked_scan(&c, s, strlen(s), &used), HTTP1_INCOMPLETE);
    cr_assert_eq(used, 5);
    /* stream 1024 data bytes in 100-byte pieces (backpressure): each piece is body */
    char piece[100];
    memset(piece, 'z', sizeof piece);
    size_t sent = 0;
    while (sent < 1024) {
        size_t n = 1024 - sent < 100 ? 1024 - sent : 100;
        cr_assert_eq(http1_chunked_scan(&c, piece, n, &used), HTTP1_INCOMPLETE);
        cr_assert_eq(used, n);
        sent += n;
    }
    cr_assert_eq(c.total, 1024);
    cr_assert_eq(http1_chunked_scan(&c, S("\r\n0\r\n\r\nNEXT"), &used), HTTP1_CHUNK_DONE);
    cr_assert_eq(used, 7);
}

Test(chunked, decode_in_place)
{
    char s[] = "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: v\r\n\r\nrest";
    struct http1_chunked c;
    http1_chunked_init(&c, NULL);
    size_t used, dl;
    cr_assert_eq(http1_chunked_decode(&c, s, strlen(s), &used, &dl), HTTP1_CHUNK_DONE);
    cr_assert_eq(dl, 7);
    cr_assert_eq(memcmp(s, "abcdefg", 7), 0);
    cr_assert_eq(used, strlen("3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: v\r\n\r\n"));
    cr_assert_eq(memcmp(s + used, "rest", 4), 0);
}

Test(chunked, large_random_roundtrip)
{
    /* random chunk sizes written by the writer, decoded split at every offset */
    struct buf b;
    buf_init(&b);
    char data[2000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 131 + 7);
    size_t off = 0;
    unsigned seed = 12345;
    while (off < sizeof data) {
        seed = seed * 1103515245 + 12345;
        size_t n = (seed >> 16) % 300;
        if (n > sizeof data - off)
            n = sizeof data - off;
        http1_write_chunk(&b, data + off, n);
        off += n;
    }
    http1_write_last_chunk(&b);
    struct ck o = ck_all(buf_head(&b), buf_pending(&b));
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
    cr_assert_eq(o.consumed, buf_pending(&b));
    cr_assert_eq(o.data_len, sizeof data);
    cr_assert_eq(memcmp(o.data, data, sizeof data), 0);
    buf_deinit(&b);
}

Test(chunked, request_then_body)
{
    const char *s = "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";
    struct http1_header h[8];
    struct http1_request r;
    http1_request_init(&r, h, 8);
    int rc = http1_parse_request(s, strlen(s), &r, NULL);
    cr_assert_gt(rc, 0);
    cr_assert_eq(r.body, HTTP1_BODY_CHUNKED);
    struct ck o = ck_all(s + rc, strlen(s) - (size_t)rc);
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
    cr_assert_eq(o.data_len, 23);
    cr_assert_eq(memcmp(o.data, "Wikipedia in\r\n\r\nchunks.", 23), 0);
}

/* ======================================================================== */
/* errors and writers                                                         */
/* ======================================================================== */

Test(errors, table)
{
    cr_assert_str_eq(http1_strerror(HTTP1_E_METHOD), "invalid method");
    cr_assert_str_eq(http1_err_name(HTTP1_E_CL_AND_TE), "CL_AND_TE");
    cr_assert_str_eq(http1_strerror(1), "unknown error");
    cr_assert_str_eq(http1_strerror(-1000), "unknown error");
    cr_assert_eq(http1_err_status(HTTP1_E_LINE_TOO_LONG), 414);
    cr_assert_eq(http1_err_status(HTTP1_E_HEADERS_TOO_LARGE), 431);
    cr_assert_eq(http1_err_status(HTTP1_E_TOO_MANY_HEADERS), 431);
    cr_assert_eq(http1_err_status(-1000), 400);
    for (int e = -1; e > -HTTP1_ERRI__COUNT; e--) {
        cr_assert_neq(strcmp(http1_strerror(e), "unknown error"), 0);
        int st = http1_err_status(e);
        cr_assert(st == 400 || st == 414 || st == 431 || st == 501 || st == 505);
    }
}

Test(writer, reasons)
{
    cr_assert_str_eq(http1_status_reason(200), "OK");
    cr_assert_str_eq(http1_status_reason(404), "Not Found");
    cr_assert_str_eq(http1_status_reason(431), "Request Header Fields Too Large");
    cr_assert_str_eq(http1_status_reason(505), "HTTP Version Not Supported");
    cr_assert_str_eq(http1_status_reason(299), "Unknown");
}

static void assert_buf(struct buf *b, const char *want)
{
    cr_assert_eq(buf_pending(b), strlen(want), "got [%.*s]", (int)buf_pending(b), buf_head(b));
    cr_assert_eq(memcmp(buf_head(b), want, strlen(want)), 0, "got [%.*s]", (int)buf_pending(b),
                 buf_head(b));
}

Test(writer, minimal_response)
{
    struct buf b;
    buf_init(&b);
    http1_write_response(&b, 200, "text/plain", "hi\n", 3, NULL, 0);
    assert_buf(&b, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nhi\n");
    buf_deinit(&b);
    http1_write_response(&b, 404, NULL, NULL, 0, "X-A: 1\r\n", HTTP1_W_CLOSE);
    assert_buf(&b, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\nX-A: 1\r\n\r\n");
    buf_deinit(&b);
    http1_write_response(&b, 200, "a/b", "body", 4, NULL, HTTP1_W_HEAD | HTTP1_W_KEEP_ALIVE);
    assert_buf(&b, "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n");
    buf_deinit(&b);
    http1_write_response(&b, 204, "a/b", "body", 4, NULL, 0);
    assert_buf(&b, "HTTP/1.1 204 No Content\r\n\r\n");
    buf_deinit(&b);
    http1_write_response(&b, 304, NULL, NULL, 0, "ETag: \"x\"\r\n", 0);
    assert_buf(&b, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
    buf_deinit(&b);
}

Test(writer, date)
{
    char d[30];
    cr_assert_eq(http1_format_date(d, 784111777), 29);
    cr_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    struct buf b;
    buf_init(&b);
    http1_write_response(&b, 200, NULL, "x", 1, NULL, HTTP1_W_DATE);
    cr_assert_eq(memcmp(buf_head(&b) + 17, "Date: ", 6), 0);
    cr_assert_eq(memcmp(buf_head(&b) + 17 + 6 + 25, " GMT\r\n", 6), 0);
    buf_deinit(&b);
}

Test(writer, roundtrip_through_parser)
{
    struct buf b;
    buf_init(&b);
    http1_write_response(&b, 201, "application/json", "{}", 2, "Location: /x/1\r\n",
                         HTTP1_W_DATE | HTTP1_W_CLOSE);
    struct http1_header h[8];
    struct http1_response r;
    http1_response_init(&r, h, 8);
    int rc = http1_parse_response(buf_head(&b), buf_pending(&b), &r, NULL, false);
    cr_assert_eq(rc, (int)buf_pending(&b) - 2);
    cr_assert_eq(r.status, 201);
    cr_assert_eq(r.body, HTTP1_BODY_LENGTH);
    cr_assert_eq(r.content_length, 2);
    cr_assert(!r.keep_alive);
    cr_assert_eq(r.num_headers, 5);
    cr_assert_not_null(http1_find_header(h, r.num_headers, S("location")));
    cr_assert_null(http1_find_header(h, r.num_headers, S("locatio")));
    buf_deinit(&b);
}

Test(writer, error_responses_parse)
{
    for (int e = -1; e > -HTTP1_ERRI__COUNT; e--) {
        struct buf b;
        buf_init(&b);
        http1_write_error(&b, e);
        struct http1_header h[8];
        struct http1_response r;
        http1_response_init(&r, h, 8);
        int rc = http1_parse_response(buf_head(&b), buf_pending(&b), &r, NULL, false);
        cr_assert_gt(rc, 0);
        cr_assert_eq(r.status, http1_err_status(e));
        cr_assert(!r.keep_alive);
        cr_assert_eq(r.content_length, buf_pending(&b) - (size_t)rc);
        cr_assert_eq(memcmp(buf_head(&b) + rc, http1_strerror(e), strlen(http1_strerror(e))), 0);
        buf_deinit(&b);
    }
}

Test(writer, request_write_flags)
{
    struct http1_header h[8];
    struct http1_request r;
    http1_request_init(&r, h, 8);
    cr_assert_gt(http1_parse_request(S("HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), &r, NULL), 0);
    cr_assert_eq(http1_request_write_flags(&r), HTTP1_W_KEEP_ALIVE | HTTP1_W_HEAD);
    cr_assert_gt(http1_parse_request(S("GET / HTTP/1.0\r\n\r\n"), &r, NULL), 0);
    cr_assert_eq(http1_request_write_flags(&r), HTTP1_W_CLOSE);
    cr_assert_gt(http1_parse_request(S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &r, NULL), 0);
    cr_assert_eq(http1_request_write_flags(&r), 0);
}

Test(writer, chunks)
{
    struct buf b;
    buf_init(&b);
    http1_write_chunk(&b, "hello", 5);
    http1_write_chunk(&b, "", 0);
    char big[300];
    memset(big, 'b', sizeof big);
    http1_write_chunk(&b, big, sizeof big);
    http1_write_last_chunk(&b);
    cr_assert_eq(memcmp(buf_head(&b), "5\r\nhello\r\n12c\r\n", 15), 0);
    struct ck o = ck_all(buf_head(&b), buf_pending(&b));
    cr_assert_eq(o.rc, HTTP1_CHUNK_DONE);
    cr_assert_eq(o.data_len, 305);
    buf_deinit(&b);
}

Test(writer, out_of_range_status)
{
    struct buf b;
    buf_init(&b);
    http1_write_response(&b, 99, NULL, "x", 1, NULL, 0);
    assert_buf(&b, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1\r\n\r\nx");
    buf_deinit(&b);
    http1_write_status_line(&b, 1000);
    assert_buf(&b, "HTTP/1.1 500 Internal Server Error\r\n");
    buf_deinit(&b);
}

Test(util, list_has)
{
    cr_assert(http1_list_has(S("close"), "close"));
    cr_assert(http1_list_has(S(" foo ,\tClose "), "close"));
    cr_assert(http1_list_has(S("a,,b"), "b"));
    cr_assert(!http1_list_has(S("closed"), "close"));
    cr_assert(!http1_list_has(S(""), "close"));
    cr_assert(!http1_list_has(S("a, b"), "c"));
}

/* ---- path normalisation ---------------------------------------------- */

static int norm(const char *in, char *out)
{
    size_t n = 0;
    int rc = http1_normalize_path(in, strlen(in), out, &n);
    out[rc == 0 ? n : 0] = '\0';
    return rc;
}

Test(http1_path, normalised_like_rfc3986)
{
    static const char *cases[][2] = {
        {"/", "/"},
        {"/a/b?x=/../", "/a/b?x=/../"},
        {"/a/./b", "/a/b"},
        {"/a/b/../c", "/a/c"},
        {"/a/b/..", "/a/"},
        {"/a/.", "/a/"},
        {"/a//b///c", "/a/b/c"},
        {"//api/x", "/api/x"},
        {"/%7euser/%41%62", "/~user/Ab"},
        {"/a%2e%2E/b", "/a../b"},
        {"/a/%2e%2e/b", "/b"},
        {"/x/%2E/y", "/x/y"},
        {"/sp%20ace%3f%c3%a9", "/sp%20ace%3F%C3%A9"},
        {"/a/b/../../c?q", "/c?q"},
        {"/..a/b..", "/..a/b.."},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(norm(cases[i][0], out), 0, "%s", cases[i][0]);
        cr_assert_str_eq(out, cases[i][1], "%s", cases[i][0]);
    }
}

Test(http1_path, ambiguous_or_malformed_refused)
{
    static const struct {
        const char *in;
        int rc;
    } cases[] = {
        {"/..", HTTP1_E_PATH_AMBIGUOUS},
        {"/a/../..", HTTP1_E_PATH_AMBIGUOUS},
        {"/%2e%2e/etc", HTTP1_E_PATH_AMBIGUOUS},
        {"/./../x", HTTP1_E_PATH_AMBIGUOUS},
        {"/a%2Fb", HTTP1_E_PATH_AMBIGUOUS},
        {"/a%2fb", HTTP1_E_PATH_AMBIGUOUS},
        {"/a%00b", HTTP1_E_PATH_AMBIGUOUS},
        {"/a%5cb", HTTP1_E_PATH_AMBIGUOUS},
        {"/a\\b", HTTP1_E_PATH_AMBIGUOUS},
        {"/a%zzb", HTTP1_E_TARGET},
        {"/a%4", HTTP1_E_TARGET},
        {"/a%", HTTP1_E_TARGET},
        {"a/b", HTTP1_E_TARGET},
        {"?q", HTTP1_E_TARGET},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(norm(cases[i].in, out), cases[i].rc, "%s", cases[i].in);
    cr_assert_eq(http1_err_status(HTTP1_E_PATH_AMBIGUOUS), 400);
}

/* http1_header_is: the whole name, without case. */
Test(http1, header_is)
{
    struct http1_header h = {.name = "Content-Length", .name_len = 14, .value = "3", .value_len = 1};
    cr_assert(http1_header_is(&h, "content-length"));
    cr_assert(!http1_header_is(&h, "content-len"));
    cr_assert(!http1_header_is(&h, "content-length2"));
}

/* http1_request_start / _field / _finish (a request given in parts, as
 * HTTP/2 gives it) against http1_parse_request on the same message as
 * bytes: the same outcome (the error code, or the same results) for each
 * of a list of tricky requests. Each case is a request line and its field
 * lines, split here at the first SP / ": ". */
static int parts_request(const char *msg, struct http1_request *req)
{
    const char *line_end = strstr(msg, "\r\n");
    const char *sp1 = memchr(msg, ' ', (size_t)(line_end - msg));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2)
        return 1;
    int rc = http1_request_start(req, msg, (size_t)(sp1 - msg), sp1 + 1, (size_t)(sp2 - sp1 - 1), NULL);
    if (rc)
        return rc;
    for (const char *p = line_end + 2; strncmp(p, "\r\n", 2) != 0;) {
        const char *e = strstr(p, "\r\n");
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (!colon)
            return 1;
        rc = http1_request_field(req, p, (size_t)(colon - p), colon + 1, (size_t)(e - colon - 1), NULL);
        if (rc)
            return rc;
        p = e + 2;
    }
    return http1_request_finish(req);
}

Test(http1, request_in_parts_agrees_with_the_parser)
{
    static const char *cases[] = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /x?y=1 HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\nCookie: a=1; b=2\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",                                     /* no Host */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",               /* two */
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",                        /* bad host characters */
        "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: \r\n\r\n",                           /* empty Host: allowed */
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Ctl: a\x01" "b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Del: a\x7f\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Tab: \t v \t\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
        "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n",
        "GET http://A/x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http1_header h1[100], h2[100];
        struct http1_request a, b;
        http1_request_init(&a, h1, 100);
        http1_request_init(&b, h2, 100);
        int ra = http1_parse_request(cases[i], strlen(cases[i]), &a, NULL);
        int rb = parts_request(cases[i], &b);
        cr_assert_neq(ra, HTTP1_INCOMPLETE, "case %zu", i);
        cr_assert_eq(ra < 0 ? ra : 0, rb, "case %zu: parser %s, parts %s", i, http1_err_name(ra), http1_err_name(rb));
        if (ra < 0)
            continue;
        cr_assert_eq(a.meth, b.meth, "case %zu", i);
        cr_assert_eq(a.target_form, b.target_form, "case %zu", i);
        cr_assert_eq(a.body, b.body, "case %zu", i);
        cr_assert_eq(a.content_length, b.content_length, "case %zu", i);
        cr_assert_eq(a.keep_alive, b.keep_alive, "case %zu", i);
        cr_assert_eq(a.upgrade, b.upgrade, "case %zu", i);
        cr_assert_eq(a.expect_continue, b.expect_continue, "case %zu", i);
        cr_assert_eq(a.host_len, b.host_len, "case %zu", i);
        cr_assert_eq(a.num_headers, b.num_headers, "case %zu", i);
        for (size_t k = 0; k < a.num_headers; k++) {
            cr_assert_eq(h1[k].value_len, h2[k].value_len, "case %zu field %zu", i, k);
            cr_assert(memcmp(h1[k].value, h2[k].value, h1[k].value_len) == 0, "case %zu field %zu", i, k);
        }
    }
    /* the limits: the request line and the field count */
    struct http1_header h[4];
    struct http1_request r;
    http1_request_init(&r, h, 4);
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_line = 20;
    cr_assert_eq(http1_request_start(&r, "GET", 3, "/0123456789", 11, &lim), HTTP1_E_LINE_TOO_LONG);
    cr_assert_eq(http1_request_start(&r, "GET", 3, "/012345", 7, &lim), 0);
    /* the parser's bound on the same lines: 20 bytes pass, 21 do not */
    struct http1_header hp[4];
    struct http1_request p;
    http1_request_init(&p, hp, 4);
    cr_assert_gt(http1_parse_request("GET /012345 HTTP/1.1\r\nHost: a\r\n\r\n", 35, &p, &lim), 0);
    cr_assert_eq(http1_parse_request("GET /0123456 HTTP/1.1\r\nHost: a\r\n\r\n", 36, &p, &lim), HTTP1_E_LINE_TOO_LONG);
    cr_assert_eq(http1_request_start(&r, "GET", 3, "/0123456", 8, &lim), HTTP1_E_LINE_TOO_LONG);
    cr_assert_eq(http1_request_start(&r, "GET", 3, "/012345", 7, &lim), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(http1_request_field(&r, "x", 1, "1", 1, NULL), 0);
    cr_assert_eq(http1_request_field(&r, "x", 1, "1", 1, NULL), HTTP1_E_TOO_MANY_HEADERS);
}
