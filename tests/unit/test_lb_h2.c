/*
 * test_lb_h2.c — the HTTP/2 request conversion of src/lb/h2.c: a header list
 * (as HPACK hands it over) into the HTTP/1.1 head the proxy reads.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "lb/h2.h"

static int field(struct lb_h2_req *r, const char *n, const char *v)
{
    return lb_h2_req_field(r, (const uint8_t *)n, strlen(n), (const uint8_t *)v, strlen(v));
}

static char *head(struct lb_h2_req *r, bool body, int *rc)
{
    static char out[4096];
    struct buf o;
    buf_init(&o);
    *rc = lb_h2_req_head(r, body, &o);
    size_t n = buf_pending(&o) < sizeof out - 1 ? buf_pending(&o) : sizeof out - 1;
    memcpy(out, buf_head(&o), n);
    out[n] = '\0';
    buf_deinit(&o);
    return out;
}

Test(lb_h2, get_with_authority_and_cookies)
{
    struct lb_h2_req r;
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "GET");
    field(&r, ":scheme", "https");
    field(&r, ":authority", "example.com");
    field(&r, ":path", "/a?b=1");
    field(&r, "host", "other.example");
    field(&r, "cookie", "a=1");
    field(&r, "accept", "*/*");
    field(&r, "cookie", "b=2");
    int rc;
    char *h = head(&r, false, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(h, "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\naccept: */*\r\nCookie: a=1; b=2\r\n"
                        "Connection: close\r\n\r\n");
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
    cr_assert_str_eq(h, "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    lb_h2_req_deinit(&r);
    lb_h2_req_init(&r, 65536);
    field(&r, ":method", "POST");
    field(&r, ":path", "/up");
    field(&r, "content-length", "5");
    h = head(&r, true, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(h, "POST /up HTTP/1.1\r\ncontent-length: 5\r\nConnection: close\r\n\r\n");
    lb_h2_req_deinit(&r);
}

Test(lb_h2, malformed_lists_refused)
{
    static const char *bad[][2] = {
        {"x-a", "1\r\nInjected: yes"}, {"X-Upper", "v"}, {":unknown", "v"}, {"x-lf", "a\nb"}, {"", "v"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct lb_h2_req r;
        lb_h2_req_init(&r, 65536);
        field(&r, ":method", "GET");
        field(&r, ":path", "/");
        cr_assert_eq(field(&r, bad[i][0], bad[i][1]), -1, "%s", bad[i][0]);
        int rc;
        head(&r, false, &rc);
        cr_assert_eq(rc, -1);
        lb_h2_req_deinit(&r);
    }
    struct lb_h2_req z;
    lb_h2_req_init(&z, 65536);
    cr_assert_eq(lb_h2_req_field(&z, (const uint8_t *)"x-nul", 5, (const uint8_t *)"a\0b", 3), -1);
    lb_h2_req_deinit(&z);
    /* pseudo-header after a regular field, a duplicate :path, no :path (CONNECT) */
    struct lb_h2_req r;
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
    int rc;
    head(&r, false, &rc);
    cr_assert_eq(rc, -1);
    lb_h2_req_deinit(&r);
}

Test(lb_h2, list_size_bounded)
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
    cr_assert_eq(rc, -2);
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
