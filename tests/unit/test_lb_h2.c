/*
 * test_lb_h2.c — the HTTP/2 request mapping of src/lb/h2.c: a header list
 * (as HPACK hands it over) into the parsed request the proxy reads, with the
 * checks and error codes of the HTTP/1.1 parser.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lb/h2.h"

static int field(struct lb_h2_req *r, const char *n, const char *v)
{
    return lb_h2_req_field(r, (const uint8_t *)n, strlen(n), (const uint8_t *)v, strlen(v));
}

/* The request lb_h2_req_build makes, written out as "METHOD target" and
 * "name: value" lines (what the proxy then reads). */
static char *head(struct lb_h2_req *r, bool body, int *rc)
{
    static char out[4096];
    struct http1_header hdrs[100];
    struct http1_request req;
    http1_request_init(&req, hdrs, 100);
    *rc = lb_h2_req_build(r, body, NULL, &req);
    out[0] = '\0';
    if (*rc != 0)
        return out;
    size_t n = (size_t)snprintf(out, sizeof out, "%.*s %.*s\n", (int)req.method_len, req.method,
                                (int)req.target_len, req.target);
    for (size_t i = 0; i < req.num_headers && n < sizeof out; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%.*s: %.*s\n", (int)hdrs[i].name_len, hdrs[i].name,
                              (int)hdrs[i].value_len, hdrs[i].value);
    return out;
}

static struct http1_request built(struct lb_h2_req *r, bool body, struct http1_header *hdrs, int *rc)
{
    struct http1_request req;
    http1_request_init(&req, hdrs, 100);
    *rc = lb_h2_req_build(r, body, NULL, &req);
    return req;
}

Test(lb_h2, get_with_authority_and_cookies)
{
    struct lb_h2_req r;
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, ":scheme", "https");
    field(&r, ":authority", "example.com");
    field(&r, ":path", "/a?b=1");
    field(&r, "host", "Example.COM");
    field(&r, "cookie", "a=1");
    field(&r, "accept", "*/*");
    field(&r, "cookie", "b=2");
    int rc;
    char *h = head(&r, false, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(h, "GET /a?b=1\nHost: example.com\naccept: */*\nCookie: a=1; b=2\n");
    struct http1_header hdrs[100];
    struct http1_request q = built(&r, false, hdrs, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(q.meth, HTTP1_METHOD_GET);
    cr_assert_eq(q.body, HTTP1_BODY_NONE);
    cr_assert_eq(q.minor_version, 1);
    cr_assert_eq(q.host_len, 11);
    cr_assert(memcmp(q.host, "example.com", 11) == 0);
    lb_h2_req_deinit(&r);
}

Test(lb_h2, host_naming_another_authority_refused)
{
    struct lb_h2_req r;
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, ":authority", "example.com");
    field(&r, ":path", "/");
    field(&r, "host", "other.example");
    int rc;
    head(&r, false, &rc);
    cr_assert_eq(rc, HTTP1_E_HOST_MISMATCH);
    lb_h2_req_deinit(&r);
    /* no :authority: the host field is the Host, and two of them are refused as on HTTP/1.1 */
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, ":path", "/");
    field(&r, "host", "a");
    field(&r, "host", "b");
    head(&r, false, &rc);
    cr_assert_eq(rc, HTTP1_E_HOST_DUP);
    lb_h2_req_deinit(&r);
    /* neither: no Host, refused as an HTTP/1.1 request without one */
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, ":path", "/");
    head(&r, false, &rc);
    cr_assert_eq(rc, HTTP1_E_HOST_MISSING);
    lb_h2_req_deinit(&r);
}

Test(lb_h2, body_without_length_goes_chunked_hop_by_hop_dropped)
{
    struct lb_h2_req r;
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "POST");
    field(&r, ":path", "/up");
    field(&r, "host", "h");
    field(&r, "te", "trailers");
    field(&r, "transfer-encoding", "gzip");
    field(&r, "connection", "keep-alive");
    int rc;
    char *h = head(&r, true, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(h, "POST /up\nhost: h\nTransfer-Encoding: chunked\n");
    cr_assert(r.chunked);
    struct http1_header hdrs[100];
    struct http1_request q = built(&r, true, hdrs, &rc);
    cr_assert_eq(q.body, HTTP1_BODY_CHUNKED);
    lb_h2_req_deinit(&r);
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "POST");
    field(&r, ":path", "/up");
    field(&r, ":authority", "h");
    field(&r, "content-length", "5");
    h = head(&r, true, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(h, "POST /up\nHost: h\ncontent-length: 5\n");
    cr_assert(!r.chunked);
    q = built(&r, true, hdrs, &rc);
    cr_assert_eq(q.body, HTTP1_BODY_LENGTH);
    cr_assert_eq(q.content_length, 5);
    lb_h2_req_deinit(&r);
}

Test(lb_h2, malformed_lists_refused)
{
    /* refused by the h2 rules (lb_h2_req_field) or by the HTTP/1.1 ones (the build) */
    static const struct { const char *n, *v; int field_rc, rc; } bad[] = {
        {"x-a", "1\r\nInjected: yes", 0, HTTP1_E_HEADER_VALUE},
        {"X-Upper", "v", -1, HTTP1_E_HEADER_NAME},
        {":unknown", "v", -1, HTTP1_E_REQUEST_LINE},
        {"x-lf", "a\nb", 0, HTTP1_E_HEADER_VALUE},
        {"x-ctl", "a\x01" "b", 0, HTTP1_E_HEADER_VALUE},
        {"x-del", "a\x7f", 0, HTTP1_E_HEADER_VALUE},
        {"", "v", -1, HTTP1_E_HEADER_NAME},
        {"x(y)", "v", 0, HTTP1_E_HEADER_NAME},
        {"content-length", "5, 5", 0, HTTP1_E_CONTENT_LENGTH_DUP},
        {"content-length", "-1", 0, HTTP1_E_CONTENT_LENGTH},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct lb_h2_req r;
        lb_h2_req_init(&r, 65536);
        field(&r, ":method", "GET");
        field(&r, ":path", "/");
        field(&r, ":authority", "h");
        cr_assert_eq(field(&r, bad[i].n, bad[i].v), bad[i].field_rc, "%s", bad[i].n);
        int rc;
        head(&r, false, &rc);
        cr_assert_eq(rc, bad[i].rc, "%s: %d", bad[i].n, rc);
        lb_h2_req_deinit(&r);
    }
    struct lb_h2_req z;
    lb_h2_req_init(&z, 65536);
    field(&z, ":method", "GET");
    field(&z, ":path", "/");
    field(&z, ":authority", "h");
    lb_h2_req_field(&z, (const uint8_t *)"x-nul", 5, (const uint8_t *)"a\0b", 3);
    int zrc;
    head(&z, false, &zrc);
    cr_assert_eq(zrc, HTTP1_E_HEADER_VALUE);
    lb_h2_req_deinit(&z);
    /* pseudo-header after a regular field, a duplicate :path, no :path (CONNECT),
     * a bad method or target, a second content-length */
    struct lb_h2_req r;
    int rc;
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, "accept", "*/*");
    cr_assert_eq(field(&r, ":path", "/"), -1);
    lb_h2_req_deinit(&r);
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, ":path", "/");
    cr_assert_eq(field(&r, ":path", "/b"), -1);
    lb_h2_req_deinit(&r);
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "CONNECT");
    field(&r, ":authority", "h:443");
    head(&r, false, &rc);
    cr_assert_eq(rc, HTTP1_E_REQUEST_LINE);
    lb_h2_req_deinit(&r);
    static const char *targets[][3] = {
        {"G(T", "/", "METHOD"}, {"GET", "/a b", "TARGET"}, {"GET", "/a#f", "TARGET"}, {"GET", "x", "TARGET"},
        {"GET", "*", "TARGET"},
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        lb_h2_req_init(&r, 65536);
        field(&r, ":method", targets[i][0]);
        field(&r, ":path", targets[i][1]);
        field(&r, ":authority", "h");
        head(&r, false, &rc);
        cr_assert_str_eq(http1_err_name(rc), targets[i][2], "%s %s", targets[i][0], targets[i][1]);
        lb_h2_req_deinit(&r);
    }
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "POST");
    field(&r, ":path", "/");
    field(&r, ":authority", "h");
    field(&r, "content-length", "1");
    field(&r, "content-length", "1");
    head(&r, true, &rc);
    cr_assert_eq(rc, HTTP1_E_CONTENT_LENGTH_DUP);
    lb_h2_req_deinit(&r);
}

Test(lb_h2, list_size_and_field_count_bounded)
{
    struct lb_h2_req r;
    lb_h2_req_init(&r, 200);
    field(&r, ":method", "GET");
    field(&r, ":path", "/");
    char v[300];
    memset(v, 'a', sizeof v - 1);
    v[sizeof v - 1] = '\0';
    cr_assert_eq(field(&r, "x-big", v), -1);
    int rc;
    head(&r, false, &rc);
    cr_assert_eq(rc, HTTP1_E_HEADERS_TOO_LARGE);
    cr_assert_eq(http1_err_status(rc), 431);
    lb_h2_req_deinit(&r);
    /* more fields than the request's header array: 431 as on HTTP/1.1 */
    lb_h2_req_init(&r, 1 << 20);
    field(&r, ":method", "GET");
    field(&r, ":path", "/");
    field(&r, ":authority", "h");
    for (int i = 0; i < 120; i++)
        field(&r, "x-f", "1");
    head(&r, false, &rc);
    cr_assert_eq(rc, HTTP1_E_TOO_MANY_HEADERS);
    cr_assert_eq(http1_err_status(rc), 431);
    lb_h2_req_deinit(&r);
}

Test(lb_h2, preface)
{
    bool whole;
    cr_assert(lb_h2_preface("PRI * HTTP/2.0\r\n", 16, &whole) && !whole);
    cr_assert(lb_h2_preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nxx", 26, &whole) && whole);
    cr_assert(!lb_h2_preface("PRI / HTTP/1.1\r\n", 16, &whole));
    cr_assert(!lb_h2_preface("GET / HTTP/1.1\r\n", 16, &whole));
}
