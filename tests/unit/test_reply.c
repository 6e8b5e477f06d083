/*
 * test_reply.c — unit tests for proto/reply (RESP2/RESP3 reply parser).
 *
 * Each input is parsed whole (exact-size heap copy: ASan catches an
 * over-read) and then fed one byte at a time, as a socket may deliver it;
 * the outcomes must agree. Pipelined replies are split one by one.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/reply.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* Parse whole and bytewise; returns the whole result, checks they agree. */
static ssize_t parse_both(const char *in, size_t len, struct resp_reply *out)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, in, len);
    struct resp_reply p;
    resp_reply_init(&p);
    ssize_t whole = resp_reply_parse(&p, copy, len);
    *out = p;
    if (whole > 0) {
        /* results point into the copy: re-point them into `in` */
        if (out->err)
            out->err = in + (out->err - copy);
    }
    free(copy);

    struct resp_reply q;
    resp_reply_init(&q);
    ssize_t last = 0;
    for (size_t n = 1; n <= len; n++) {
        char *c = malloc(n);
        memcpy(c, in, n);
        last = resp_reply_parse(&q, c, n);
        free(c);
        if (last != 0)
            break;
    }
    cr_assert_eq(last, whole, "bytewise %zd, whole %zd for %.*s", last, whole, (int)(len > 60 ? 60 : len), in);
    return whole;
}

static void ok(const char *in, size_t len, char type, bool is_error)
{
    struct resp_reply r;
    ssize_t n = parse_both(in, len, &r);
    cr_assert_eq(n, (ssize_t)len, "'%.*s': consumed %zd of %zu", (int)len, in, n, len);
    cr_assert_eq(r.type, type, "'%.*s': type %c", (int)len, in, r.type);
    cr_assert_eq(r.is_error, is_error);
}

static void bad(const char *in, size_t len)
{
    struct resp_reply r;
    ssize_t n = parse_both(in, len, &r);
    cr_assert_eq(n, RESP_REPLY_EPROTO, "'%.*s' should be a protocol error, got %zd", (int)len, in, n);
}

static void incomplete(const char *in, size_t len)
{
    struct resp_reply r;
    resp_reply_init(&r);
    cr_assert_eq(resp_reply_parse(&r, in, len), 0, "'%.*s' should be incomplete", (int)len, in);
}

Test(resp_reply, resp2_types)
{
    ok(S("+OK\r\n"), '+', false);
    ok(S("+\r\n"), '+', false);
    ok(S(":0\r\n"), ':', false);
    ok(S(":-42\r\n"), ':', false);
    ok(S("$5\r\nhello\r\n"), '$', false);
    ok(S("$0\r\n\r\n"), '$', false);
    ok(S("$-1\r\n"), '$', false);
    ok(S("*0\r\n"), '*', false);
    ok(S("*-1\r\n"), '*', false);
    ok(S("*2\r\n$3\r\nfoo\r\n:1\r\n"), '*', false);
    ok(S("*2\r\n*1\r\n+a\r\n*0\r\n"), '*', false);
    ok(S("$4\r\na\r\nb\r\n"), '$', false); /* binary-safe bulk with CRLF inside */
}

Test(resp_reply, errors_carry_their_text)
{
    struct resp_reply r;
    const char in[] = "-ERR unknown command 'FOO'\r\n";
    cr_assert_eq(parse_both(in, sizeof in - 1, &r), (ssize_t)(sizeof in - 1));
    cr_assert(r.is_error);
    cr_assert_eq(r.err_len, strlen("ERR unknown command 'FOO'"));
    cr_assert_eq(memcmp(r.err, "ERR unknown command 'FOO'", r.err_len), 0);
    const char blob[] = "!21\r\nSYNTAX invalid syntax\r\n";
    cr_assert_eq(parse_both(blob, sizeof blob - 1, &r), (ssize_t)(sizeof blob - 1));
    cr_assert(r.is_error);
    cr_assert_eq(r.err_len, 21);
    /* an error inside an array does not make the reply an error */
    ok(S("*2\r\n-ERR x\r\n+OK\r\n"), '*', false);
}

Test(resp_reply, resp3_types)
{
    ok(S("_\r\n"), '_', false);
    ok(S(",3.14\r\n"), ',', false);
    ok(S(",inf\r\n"), ',', false);
    ok(S("#t\r\n"), '#', false);
    ok(S("#f\r\n"), '#', false);
    ok(S("(3492890328409238509324850943850943825024385\r\n"), '(', false);
    ok(S("=15\r\ntxt:Some string\r\n"), '=', false);
    ok(S("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"), '%', false);
    ok(S("~3\r\n:1\r\n:2\r\n:3\r\n"), '~', false);
    ok(S(">2\r\n+message\r\n+hi\r\n"), '>', false);
    ok(S("%0\r\n"), '%', false);
}

Test(resp_reply, attributes_are_skipped)
{
    ok(S("|1\r\n+key\r\n+val\r\n:7\r\n"), ':', false);
    ok(S("|1\r\n+key\r\n+val\r\n-ERR after attribute\r\n"), '-', true);
    ok(S("*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n"), '*', false);
    ok(S("|0\r\n+OK\r\n"), '+', false);
}

Test(resp_reply, malformed)
{
    bad(S("?\r\n"));
    bad(S("+OK\n\r\n"));
    bad(S("+OK\rX"));
    bad(S(":abc\r\n"));
    bad(S(":\r\n"));
    bad(S("$x\r\n"));
    bad(S("$-2\r\n"));
    bad(S("$3\r\nabcde\r\n"));
    bad(S("*-2\r\n"));
    bad(S("#x\r\n"));
    bad(S("_x\r\n"));
    bad(S(",\r\n"));
    bad(S("!-1\r\n"));
    bad(S("=2\r\nab\r\n"));
    bad(S("$600000000\r\n"));
}

Test(resp_reply, incomplete_inputs)
{
    incomplete(S(""));
    incomplete(S("+OK"));
    incomplete(S("+OK\r"));
    incomplete(S("$5\r\nhel"));
    incomplete(S("$5\r\nhello\r"));
    incomplete(S("*2\r\n:1\r\n"));
    incomplete(S("|1\r\n+a\r\n+b\r\n"));
}

Test(resp_reply, need_hint_skips_rescans)
{
    struct resp_reply r;
    resp_reply_init(&r);
    char big[1000 + 16];
    int h = snprintf(big, sizeof big, "$1000\r\n");
    memset(big + h, 'x', 1000);
    memcpy(big + h + 1000, "\r\n", 2);
    size_t total = (size_t)h + 1002;
    cr_assert_eq(resp_reply_parse(&r, big, 100), 0);
    cr_assert_eq(r.need, total, "need %zu, want %zu", r.need, total);
    cr_assert_eq(resp_reply_parse(&r, big, total - 1), 0);
    cr_assert_eq(resp_reply_parse(&r, big, total), (ssize_t)total);
    cr_assert_eq(r.need, 0);
}

Test(resp_reply, pipelined_replies_one_at_a_time)
{
    const char in[] = "+OK\r\n$3\r\nabc\r\n-ERR no\r\n:5\r\n*1\r\n$-1\r\n";
    const char types[] = {'+', '$', '-', ':', '*'};
    struct resp_reply r;
    resp_reply_init(&r);
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
        ssize_t n = resp_reply_parse(&r, in + off, sizeof in - 1 - off);
        cr_assert_gt(n, 0, "reply %d", i);
        cr_assert_eq(r.type, types[i]);
        cr_assert_eq(r.is_error, types[i] == '-');
        off += (size_t)n;
    }
    cr_assert_eq(off, sizeof in - 1);
}

Test(resp_reply, nesting_is_bounded)
{
    char deep[4 * (RESP_REPLY_MAX_DEPTH + 2) + 8];
    size_t n = 0;
    for (int i = 0; i < RESP_REPLY_MAX_DEPTH + 1; i++) {
        memcpy(deep + n, "*1\r\n", 4);
        n += 4;
    }
    memcpy(deep + n, ":1\r\n", 4);
    n += 4;
    bad(deep, n);
    /* exactly the maximum depth is fine */
    ok(deep + 4, n - 4, '*', false);
}

Test(reply, scalar_at)
{
    struct resp_scalar v;
    const char r[] = "+OK\r\n-ERR no\r\n:-42\r\n$3\r\nabc\r\n$-1\r\n_\r\n*-1\r\n";
    const char *end = r + sizeof r - 1, *p = r;
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == '+' && v.len == 2 && memcmp(v.str, "OK", 2) == 0);
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == '-' && v.len == 6);
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == ':' && v.integer == -42);
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == '$' && v.len == 3 && memcmp(v.str, "abc", 3) == 0);
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == RESP_SCALAR_NIL);
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == RESP_SCALAR_NIL);
    cr_assert((p = resp_scalar_at(p, end, &v)) && v.type == RESP_SCALAR_NIL);
    cr_assert_eq(p, end);
    cr_assert_null(resp_scalar_at(end, end, &v));
    /* a bulk longer than what is there, an aggregate, an unknown type, no CRLF */
    const char *bad[] = {"$10\r\nabc\r\n", "*2\r\n:1\r\n:2\r\n", ",1.5\r\n", ":12", ":1x\r\n", "$x\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_null(resp_scalar_at(bad[i], bad[i] + strlen(bad[i]), &v), "%s", bad[i]);
}

Test(reply, value_scalar)
{
    struct resp_value v;
    const char r[] = "+OK\r\n-ERR no\r\n:-42\r\n$3\r\nabc\r\n$-1\r\n_\r\n";
    const char *end = r + sizeof r - 1, *p = r;
    cr_assert((p = resp_value_scalar(p, end, &v)) && v.type == RESP_VALUE_STATUS && v.len == 2 &&
              memcmp(v.str, "OK", 2) == 0);
    cr_assert((p = resp_value_scalar(p, end, &v)) && v.type == RESP_VALUE_ERROR && v.len == 6 &&
              memcmp(v.str, "ERR no", 6) == 0);
    cr_assert((p = resp_value_scalar(p, end, &v)) && v.type == RESP_VALUE_INT && v.integer == -42 && !v.str);
    cr_assert((p = resp_value_scalar(p, end, &v)) && v.type == RESP_VALUE_BULK && v.len == 3 &&
              memcmp(v.str, "abc", 3) == 0);
    cr_assert((p = resp_value_scalar(p, end, &v)) && v.type == RESP_VALUE_NIL && !v.str && !v.len);
    cr_assert((p = resp_value_scalar(p, end, &v)) && v.type == RESP_VALUE_NIL && v.nelem == 0 && !v.elem);
    cr_assert_eq(p, end);
    /* what resp_scalar_at does not know: NULL, and v all zero */
    const char *bad[] = {"$10\r\nabc\r\n", "*2\r\n:1\r\n:2\r\n", ",1.5\r\n", ":12", ":1x\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&v, 0xff, sizeof v);
        cr_assert_null(resp_value_scalar(bad[i], bad[i] + strlen(bad[i]), &v), "%s", bad[i]);
        cr_assert(v.type == RESP_VALUE_NIL && !v.str && !v.len && !v.integer && !v.nelem && !v.elem, "%s", bad[i]);
    }
}
