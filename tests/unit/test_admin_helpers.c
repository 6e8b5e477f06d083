/*
 * test_admin_helpers.c — net/admin's helpers for handlers: admin_param
 * (query and form values, percent-decoding, bounds) and admin_token_ok
 * (Bearer or X-Admin-Token, exact match, empty token matches nothing).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/admin.h"

static struct admin_req req_of(const char *params, struct http1_request *http)
{
    struct admin_req r;
    memset(&r, 0, sizeof r);
    r.path = "/x";
    r.params = params;
    r.params_len = strlen(params);
    r.http = http;
    return r;
}

Test(admin_helpers, params)
{
    struct admin_req r = req_of("pool=eu&addr=10.0.0.1%3A6379&name=a+b&empty=&weight=3", NULL);
    char v[64];
    cr_assert(admin_param(&r, "pool", v, sizeof v));
    cr_assert_str_eq(v, "eu");
    cr_assert(admin_param(&r, "addr", v, sizeof v));
    cr_assert_str_eq(v, "10.0.0.1:6379");
    cr_assert(admin_param(&r, "name", v, sizeof v));
    cr_assert_str_eq(v, "a b");
    cr_assert(admin_param(&r, "empty", v, sizeof v));
    cr_assert_str_eq(v, "");
    cr_assert(!admin_param(&r, "weigh", v, sizeof v));
    cr_assert(!admin_param(&r, "missing", v, sizeof v));
    char small[3];
    cr_assert(!admin_param(&r, "pool", small, 2)); /* "eu" needs 3 bytes */
    cr_assert(admin_param(&r, "pool", small, 3));
}

Test(admin_helpers, token)
{
    struct http1_header h[2];
    struct http1_request http;
    memset(&http, 0, sizeof http);
    http.headers = h;
    h[0] = (struct http1_header){"Authorization", 13, "Bearer s3cret", 13};
    http.num_headers = 1;
    struct admin_req r = req_of("", &http);
    cr_assert(admin_token_ok(&r, "s3cret"));
    cr_assert(!admin_token_ok(&r, "s3cre"));
    cr_assert(!admin_token_ok(&r, "s3crett"));
    cr_assert(!admin_token_ok(&r, ""));
    cr_assert(!admin_token_ok(&r, NULL));
    h[0] = (struct http1_header){"X-Admin-Token", 13, "s3cret", 6};
    cr_assert(admin_token_ok(&r, "s3cret"));
    http.num_headers = 0;
    cr_assert(!admin_token_ok(&r, "s3cret"));
}

Test(admin_helpers, pct_decode)
{
    char v[8];
    cr_assert(admin_pct_decode("a%2Fb+c", 7, v, sizeof v));
    cr_assert_str_eq(v, "a/b c");
    cr_assert(admin_pct_decode("%zz%4", 5, v, sizeof v)); /* bad escapes stay as they are */
    cr_assert_str_eq(v, "%zz%4");
    cr_assert_not(admin_pct_decode("12345678", 8, v, sizeof v)); /* no room for the NUL */
    cr_assert(admin_pct_decode("1234567", 7, v, sizeof v));
}

Test(admin_helpers, answer_json_and_json_str)
{
    struct admin_resp r;
    memset(&r, 0, sizeof r);
    buf_init(&r.body);
    admin_answer_json(&r, 409, "{\"error\":\"%s %d\"}\n", "busy", 7);
    cr_assert_eq(r.status, 409);
    cr_assert_str_eq(r.ctype, "application/json");
    cr_assert_eq(r.body.len, strlen("{\"error\":\"busy 7\"}\n"));
    cr_assert(memcmp(r.body.data, "{\"error\":\"busy 7\"}\n", r.body.len) == 0);
    r.body.len = 0;
    r.body.off = 0;
    admin_json_str(&r.body, "a\"b\\c\n\x01");
    const char *want = "\"a\\\"b\\\\c\\u000a\\u0001\"";
    cr_assert_eq(r.body.len, strlen(want));
    cr_assert(memcmp(r.body.data, want, r.body.len) == 0);
    r.body.len = 0;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    admin_answer_json(&r, 200, "{\"a\":\"%s\"}", big); /* cut at 1023 bytes, as before */
    cr_assert_eq(r.body.len, 1023);
    cr_assert(memcmp(r.body.data, "{\"a\":\"xxx", 9) == 0);
    buf_deinit(&r.body);
}

static bool body_is(const struct admin_resp *r, const char *want)
{
    return r->body.len - r->body.off == strlen(want) && memcmp(r->body.data + r->body.off, want, strlen(want)) == 0;
}

Test(admin_helpers, require_token)
{
    struct http1_header h[1];
    struct http1_request http;
    memset(&http, 0, sizeof http);
    http.headers = h;
    h[0] = (struct http1_header){"Authorization", 13, "Bearer s3cret", 13};
    http.num_headers = 1;
    struct admin_req q = req_of("", &http);
    struct admin_resp r;
    memset(&r, 0, sizeof r);
    buf_init(&r.body);
    cr_assert(admin_require_token(&q, &r, "s3cret"));
    cr_assert_eq(r.status, 0);
    cr_assert_eq(r.body.len, 0);
    cr_assert_not(admin_require_token(&q, &r, "other"));
    cr_assert_eq(r.status, 401);
    cr_assert(body_is(&r, "{\"error\":\"Authorization: Bearer TOKEN required\"}\n"));
    r.body.len = r.body.off = 0;
    cr_assert_not(admin_require_token(&q, &r, ""));
    cr_assert_eq(r.status, 403);
    cr_assert(body_is(&r, "{\"error\":\"changes are disabled: set admin-token\"}\n"));
    buf_deinit(&r.body);
}

Test(admin_helpers, ok_answers)
{
    struct admin_resp r;
    memset(&r, 0, sizeof r);
    buf_init(&r.body);
    cr_assert_eq(admin_ok_metrics(&r), &r.body);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.ctype, "text/plain; version=0.0.4");
    cr_assert_eq(admin_ok_json(&r), &r.body);
    cr_assert_str_eq(r.ctype, "application/json");
    buf_deinit(&r.body);
}
