/*
 * test_json.c — unit tests of proto/json: string escaping round-trips
 * through the reader, member lookup skips nested values, and malformed or
 * oversized input is refused, never read past its length.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"

static int get(const char *js, const char *key, char *out, size_t cap)
{
    /* exact-size heap copy: ASan catches a read past the end */
    size_t n = strlen(js);
    char *c = malloc(n ? n : 1);
    memcpy(c, js, n);
    int r = json_get_str(c, n, key, out, cap);
    free(c);
    return r;
}

Test(json, members)
{
    char out[64];
    cr_assert_eq(get("{\"user\":\"ann\"}", "user", out, sizeof out), 3);
    cr_assert_str_eq(out, "ann");
    cr_assert_eq(get(" { \"a\" : [1, {\"user\":\"no\"}, \"x\"], \"b\": {\"c\": null}, \"user\" : \"zed\" } ", "user", out,
                     sizeof out), 3);
    cr_assert_str_eq(out, "zed");
    cr_assert_eq(get("{\"user\":12}", "user", out, sizeof out), -1);
    cr_assert_eq(get("{\"other\":\"x\"}", "user", out, sizeof out), -1);
    cr_assert_eq(get("{}", "user", out, sizeof out), -1);
    long long v;
    cr_assert(json_get_int("{\"n\":-42,\"m\":1}", 16, "n", &v));
    cr_assert_eq(v, -42);
    cr_assert(!json_get_int("{\"n\":\"1\"}", 9, "n", &v));
}

Test(json, escapes)
{
    char out[64];
    cr_assert_eq(get("{\"s\":\"a\\\"b\\\\c\\n\\u00fc\\u20ac\"}", "s", out, sizeof out), 11);
    cr_assert_str_eq(out, "a\"b\\c\n\xc3\xbc\xe2\x82\xac");
    cr_assert_eq(get("{\"s\":\"\\u0000x\"}", "s", out, sizeof out), 2); /* NUL inside: length says so */
    cr_assert_eq(out[0], 0);
    cr_assert_eq(out[1], 'x');
}

Test(json, malformed_and_bounds)
{
    char out[8];
    const char *bad[] = {"", "{", "[\"s\"]", "{\"s\"", "{\"s\":", "{\"s\":\"abc", "{\"s\":\"a\\x\"}", "{\"s\":\"\\u12\"}",
                         "{\"s\" \"v\"}", "{\"a\":1 \"s\":\"v\"}", "{\"s\":\"a\tb\"}", "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(get(bad[i], "s", out, sizeof out), -1, "input %zu: %s", i, bad[i]);
    cr_assert_eq(get("{\"s\":\"0123456789\"}", "s", out, sizeof out), -2);
    /* deep nesting is refused, not recursed without bound */
    char deep[400];
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"a\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    deep[n] = 0;
    strcat(deep, "]}");
    cr_assert_eq(get(deep, "s", out, sizeof out), -1);
}

Test(json, writer_round_trip)
{
    const char in[] = "q\"\\\n\r\t\x01\x7f ok \xc3\xbc";
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"k\":");
    json_put_str(&b, in, sizeof in - 1);
    buf_puts(&b, "}");
    char out[64];
    cr_assert_eq(json_get_str(buf_head(&b), buf_pending(&b), "k", out, sizeof out), (int)(sizeof in - 1));
    cr_assert_eq(memcmp(out, in, sizeof in - 1), 0);
    buf_deinit(&b);
}
