/*
 * test_resp.c — unit tests of proto/resp: the request parser (every error
 * text, whole / byte-by-byte / every chunk size with the buffer moved between
 * calls, pipelines, binary-safe and many-argument commands, limits, inline
 * quoting) and the reply writer (byte for byte, RESP2 and RESP3).
 *
 * The parser results are turned into one text (a transcript) so that feeding
 * the same input in different ways can be compared with a single strcmp.
 */
#include <criterion/criterion.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "proto/resp.h"

/* ---- transcript helpers ------------------------------------------------ */

static void tr_arg(struct buf *t, const char *p, size_t n)
{
    buf_putc(t, '[');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '[' && c != ']' && c != '\\')
            buf_putc(t, (char)c);
        else
            buf_printf(t, "\\x%02x", c);
    }
    buf_putc(t, ']');
}

static void tr_cmd(struct buf *t, const struct resp_parser *p, ssize_t consumed)
{
    buf_printf(t, "CMD(%zd,%d)", consumed, p->argc);
    for (int i = 0; i < p->argc; i++)
        tr_arg(t, p->argv[i].ptr, p->argv[i].len);
    buf_putc(t, '\n');
}

static char *tr_done(struct buf *t)
{
    buf_putc(t, '\0');
    char *s = strdup(t->data);
    buf_deinit(t);
    return s;
}

/* Feed the whole input at once and parse commands until it runs out. */
static char *parse_whole(const char *in, size_t len, struct resp_parser *cfg)
{
    struct resp_parser p;
    resp_parser_init(&p);
    if (cfg) {
        p.max_bulk = cfg->max_bulk;
        p.max_multibulk = cfg->max_multibulk;
        p.auth_required = cfg->auth_required;
    }
    char *data = malloc(len ? len : 1);
    memcpy(data, in, len);
    struct buf t;
    buf_init(&t);
    size_t off = 0;
    for (;;) {
        ssize_t r = resp_parse(&p, data + off, len - off);
        if (r > 0) {
            tr_cmd(&t, &p, r);
            off += (size_t)r;
            continue;
        }
        if (r == RESP_ERR)
            buf_printf(&t, "ERR(%s)\n", p.err);
        else
            buf_printf(&t, "MORE(%zu)\n", len - off);
        break;
    }
    free(data);
    resp_parser_deinit(&p);
    return tr_done(&t);
}

/*
 * Feed the input `chunk` bytes at a time. Before every call the pending bytes
 * move to a fresh allocation (the old one is freed, so ASan catches any
 * pointer the parser kept), as a caller that reallocs its buffer would.
 */
static char *parse_chunked(const char *in, size_t len, size_t chunk, struct resp_parser *cfg)
{
    struct resp_parser p;
    resp_parser_init(&p);
    if (cfg) {
        p.max_bulk = cfg->max_bulk;
        p.max_multibulk = cfg->max_multibulk;
        p.auth_required = cfg->auth_required;
    }
    struct buf t;
    buf_init(&t);
    char *data = NULL;
    size_t have = 0, fed = 0;
    bool failed = false;
    while (!failed) {
        size_t add = len - fed < chunk ? len - fed : chunk;
        char *moved = malloc(have + add + 1);
        if (have)
            memcpy(moved, data, have);
        free(data);
        data = moved;
        memcpy(data + have, in + fed, add);
        have += add;
        fed += add;
        for (;;) {
            ssize_t r = resp_parse(&p, data, have);
            if (r > 0) {
                tr_cmd(&t, &p, r);
                memmove(data, data + r, have - (size_t)r);
                have -= (size_t)r;
                continue;
            }
            if (r == RESP_ERR) {
                buf_printf(&t, "ERR(%s)\n", p.err);
                failed = true;
            }
            break;
        }
        if (fed == len)
            break;
    }
    if (!failed)
        buf_printf(&t, "MORE(%zu)\n", have);
    free(data);
    resp_parser_deinit(&p);
    return tr_done(&t);
}

/* Whole, byte by byte and every chunk size must give the same transcript;
 * returns it for the caller to check. */
static char *parse_all_ways(const char *in, size_t len, struct resp_parser *cfg)
{
    char *whole = parse_whole(in, len, cfg);
    size_t max_chunk = len < 64 ? len : 64;
    for (size_t c = 1; c <= max_chunk; c++) {
        char *got = parse_chunked(in, len, c, cfg);
        cr_assert_str_eq(got, whole, "chunk %zu differs for input of %zu bytes", c, len);
        free(got);
    }
    return whole;
}

#define S(lit) lit, sizeof(lit) - 1

static void expect(const char *in, size_t len, const char *want)
{
    char *got = parse_all_ways(in, len, NULL);
    cr_assert_str_eq(got, want);
    free(got);
}

static void expect_cfg(const char *in, size_t len, struct resp_parser *cfg, const char *want)
{
    char *got = parse_all_ways(in, len, cfg);
    cr_assert_str_eq(got, want);
    free(got);
}

/* ---- multibulk --------------------------------------------------------- */

Test(resp_parse, multibulk_basic)
{
    struct resp_parser p;
    resp_parser_init(&p);
    char in[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    ssize_t r = resp_parse(&p, in, strlen(in));
    cr_assert_eq(r, (ssize_t)strlen(in));
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.argv[0].len, 3);
    cr_assert(memcmp(p.argv[0].ptr, "SET", 3) == 0);
    cr_assert(memcmp(p.argv[1].ptr, "key", 3) == 0);
    cr_assert_eq(p.argv[2].len, 5);
    cr_assert(memcmp(p.argv[2].ptr, "value", 5) == 0);
    /* zero-copy: slices point into the caller's buffer */
    cr_assert_eq(p.argv[2].ptr, in + strlen(in) - 7);
    resp_parser_deinit(&p);
}

Test(resp_parse, multibulk_all_ways)
{
    expect(S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"),
           "CMD(33,3)[SET][key][value]\nMORE(0)\n");
}

Test(resp_parse, empty_bulk_and_zero_length)
{
    expect(S("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), "CMD(20,2)[ECHO][]\nMORE(0)\n");
}

Test(resp_parse, incomplete_stays_incomplete)
{
    expect(S("*2\r\n$4\r\nECHO\r\n$5\r\nhel"), "MORE(21)\n");
    expect(S("*2\r"), "MORE(3)\n");
    expect(S("*"), "MORE(1)\n");
    expect(S("*1\r\n$4\r\nPING\r"), "MORE(13)\n");
}

Test(resp_parse, pipeline)
{
    expect(S("*1\r\n$4\r\nPING\r\n"
             "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
             "PING\r\n"
             "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
             "*1\r\n$4\r\nPI"),
           "CMD(14,1)[PING]\n"
           "CMD(20,2)[GET][k]\n"
           "CMD(6,1)[PING]\n"
           "CMD(27,3)[SET][k][v]\n"
           "MORE(10)\n");
}

Test(resp_parse, binary_safe)
{
    static const char in[] = "*3\r\n$3\r\nSET\r\n$4\r\na\0\r\n\r\n$6\r\n\r\n\0\0\n\r\r\n";
    char *got = parse_all_ways(in, sizeof in - 1, NULL);
    cr_assert_str_eq(got, "CMD(35,3)[SET][a\\x00\\x0d\\x0a][\\x0d\\x0a\\x00\\x00\\x0a\\x0d]\nMORE(0)\n");
    free(got);
}

Test(resp_parse, empty_multibulk_skipped)
{
    /* *0, *-1 and any negative count are consumed with no command */
    expect(S("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n"), "CMD(28,1)[PING]\nMORE(0)\n");
    expect(S("*0\r\n"), "MORE(4)\n");
    expect(S("*1\r\n$4\r\nPING\r\n*0\r\n"), "CMD(14,1)[PING]\nMORE(4)\n");
}

Test(resp_parse, many_args_heap_argv)
{
    for (int n = 15; n <= 1000; n += (n < 40 ? 1 : 241)) {
        struct buf in;
        buf_init(&in);
        buf_printf(&in, "*%d\r\n", n);
        for (int i = 0; i < n; i++) {
            char a[16];
            int l = snprintf(a, sizeof a, "a%d", i);
            buf_printf(&in, "$%d\r\n%s\r\n", l, a);
        }
        for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
            struct resp_parser p;
            resp_parser_init(&p);
            char *data = NULL;
            size_t have = 0;
            ssize_t r = 0;
            while (have < in.len) {
                size_t add = in.len - have < chunk ? in.len - have : chunk;
                char *moved = malloc(have + add);
                if (have)
                    memcpy(moved, data, have);
                memcpy(moved + have, in.data + have, add);
                free(data);
                data = moved;
                have += add;
                r = resp_parse(&p, data, have);
                if (have < in.len)
                    cr_assert_eq(r, 0);
            }
            cr_assert_eq(r, (ssize_t)in.len, "n=%d chunk=%zu", n, chunk);
            cr_assert_eq(p.argc, n);
            for (int i = 0; i < n; i++) {
                char a[16];
                int l = snprintf(a, sizeof a, "a%d", i);
                cr_assert_eq(p.argv[i].len, (size_t)l);
                cr_assert(memcmp(p.argv[i].ptr, a, (size_t)l) == 0);
                cr_assert(p.argv[i].ptr >= data && p.argv[i].ptr < data + have);
            }
            free(data);
            resp_parser_deinit(&p);
        }
        buf_deinit(&in);
    }
}

Test(resp_parse, heap_argv_then_small_commands)
{
    struct resp_parser p;
    resp_parser_init(&p);
    struct buf in;
    buf_init(&in);
    buf_printf(&in, "*3000\r\n");
    for (int i = 0; i < 3000; i++)
        buf_printf(&in, "$1\r\nx\r\n");
    buf_printf(&in, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    ssize_t r = resp_parse(&p, in.data, in.len);
    cr_assert_gt(r, 0);
    cr_assert_eq(p.argc, 3000);
    ssize_t r2 = resp_parse(&p, in.data + r, in.len - (size_t)r);
    cr_assert_eq(r2, 20);
    cr_assert_eq(p.argc, 2);
    cr_assert_eq(p.argv, p.argv_inline, "large argv is given back between commands");
    buf_deinit(&in);
    resp_parser_deinit(&p);
}

Test(resp_parse, big_count_header_costs_nothing)
{
    struct resp_parser p;
    resp_parser_init(&p);
    char in[] = "*2147483647\r\n$1\r\nx\r\n";
    unsigned long long before = xalloc_count();
    cr_assert_eq(resp_parse(&p, in, strlen(in)), 0);
    cr_assert_eq(xalloc_count(), before);
    resp_parser_deinit(&p);
}

Test(resp_parse, hot_path_allocates_nothing)
{
    struct buf in;
    buf_init(&in);
    for (int c = 0; c < 100; c++) {
        buf_printf(&in, "*16\r\n");
        for (int i = 0; i < 16; i++)
            buf_printf(&in, "$5\r\nv%04d\r\n", i);
        buf_printf(&in, "PING a b c\r\n");
    }
    struct resp_parser p;
    resp_parser_init(&p);
    unsigned long long before = xalloc_count();
    size_t off = 0;
    int cmds = 0;
    ssize_t r;
    while ((r = resp_parse(&p, in.data + off, in.len - off)) > 0) {
        off += (size_t)r;
        cmds++;
    }
    cr_assert_eq(r, 0);
    cr_assert_eq(off, in.len);
    cr_assert_eq(cmds, 200);
    cr_assert_eq(xalloc_count(), before);
    resp_parser_deinit(&p);
    buf_deinit(&in);
}

Test(resp_parse, parser_struct_may_move)
{
    struct resp_parser *a = malloc(sizeof *a);
    resp_parser_init(a);
    struct buf in;
    buf_init(&in);
    buf_printf(&in, "*20\r\n");
    for (int i = 0; i < 20; i++)
        buf_printf(&in, "$2\r\n%02d\r\n", i);
    size_t half = in.len / 2;
    cr_assert_eq(resp_parse(a, in.data, half), 0);
    for (int step = 0; step < 2; step++) {
        /* move the parser itself (e.g. a client array that grew) */
        struct resp_parser *b = malloc(sizeof *b);
        memcpy(b, a, sizeof *b);
        memset(a, 0xAB, sizeof *a);
        free(a);
        a = b;
        if (step == 0)
            cr_assert_eq(resp_parse(a, in.data, half + 3), 0);
    }
    cr_assert_eq(resp_parse(a, in.data, in.len), (ssize_t)in.len);
    cr_assert_eq(a->argc, 20);
    cr_assert(memcmp(a->argv[19].ptr, "19", 2) == 0);
    resp_parser_deinit(a);
    free(a);
    buf_deinit(&in);
}

/* ---- multibulk errors -------------------------------------------------- */

Test(resp_errors, invalid_multibulk_length)
{
    const char *w = "ERR(ERR Protocol error: invalid multibulk length)\n";
    expect(S("*x\r\n"), w);
    expect(S("*\r\n"), w);
    expect(S("*01\r\n"), w);
    expect(S("*+1\r\n"), w);
    expect(S("*-0\r\n"), w);
    expect(S("* 1\r\n"), w);
    expect(S("*1 \r\n"), w);
    expect(S("*2147483648\r\n"), w);     /* above INT_MAX, Redis 7 */
    expect(S("*99999999999999999999\r\n"), w);
    expect(S("*1\0\r\n"), w);            /* Redis would wait (strchr) */
    expect(S("*2147483647\r\n"), "MORE(13)\n");
}

Test(resp_errors, header_cr_must_be_followed_by_lf)
{
    /* Redis skips the byte after '\r'; we insist on '\n' */
    expect(S("*1\rX$4\r\nPING\r\n"), "ERR(ERR Protocol error: invalid multibulk length)\n");
    expect(S("*1\r\n$4\rXPING\r\n"), "ERR(ERR Protocol error: invalid bulk length)\n");
}

Test(resp_errors, invalid_bulk_length)
{
    const char *w = "ERR(ERR Protocol error: invalid bulk length)\n";
    expect(S("*1\r\n$x\r\n"), w);
    expect(S("*1\r\n$\r\n"), w);
    expect(S("*1\r\n$-1\r\n"), w);
    expect(S("*1\r\n$-0\r\n"), w);
    expect(S("*1\r\n$+4\r\nPING\r\n"), w);
    expect(S("*1\r\n$04\r\nPING\r\n"), w);
    expect(S("*1\r\n$536870913\r\n"), w); /* 512mb + 1 */
    expect(S("*1\r\n$536870912\r\n"), "MORE(16)\n");
}

Test(resp_errors, bulk_must_end_with_crlf)
{
    const char *w = "ERR(ERR Protocol error: invalid bulk length)\n";
    expect(S("*1\r\n$4\r\nPINGxy"), w);
    expect(S("*1\r\n$4\r\nPING\rx"), w);
    expect(S("*1\r\n$4\r\nPING\n\r"), w);
    expect(S("*2\r\n$4\r\nECHO\r\n$1\r\nab\r\n"), w);
}

Test(resp_errors, expected_dollar)
{
    expect(S("*1\r\nX\r\n"), "ERR(ERR Protocol error: expected '$', got 'X')\n");
    expect(S("*2\r\n$4\r\nECHO\r\n:1\r\n"), "ERR(ERR Protocol error: expected '$', got ':')\n");
    /* CR, LF (and NUL) show as a space, as Redis's error formatting does */
    expect(S("*1\r\n\r\n"), "ERR(ERR Protocol error: expected '$', got ' ')\n");
    expect(S("*1\r\n\n\r\n"), "ERR(ERR Protocol error: expected '$', got ' ')\n");
    expect(S("*1\r\n\0\r\n"), "ERR(ERR Protocol error: expected '$', got ' ')\n");
    /* the check waits for the whole line, as Redis does */
    expect(S("*1\r\nX"), "MORE(5)\n");
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix, size_t *len)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + n + sl + 1);
    memcpy(s, prefix, pl);
    memset(s + pl, c, n);
    memcpy(s + pl + n, suffix, sl);
    *len = pl + n + sl;
    s[*len] = '\0';
    return s;
}

/* Long inputs: compare whole with a few chunk sizes (byte by byte over 64KB
 * is covered by the linear-time test). */
static char *parse_big(const char *in, size_t len)
{
    char *whole = parse_whole(in, len, NULL);
    size_t chunks[] = {1, 7, 4096, 65536};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char *got = parse_chunked(in, len, chunks[i], NULL);
        cr_assert_str_eq(got, whole, "chunk %zu", chunks[i]);
        free(got);
    }
    return whole;
}

Test(resp_errors, too_big_mbulk_count)
{
    size_t len;
    /* no '\r' within 64KB + 1 bytes of the line */
    char *in = repeat('1', RESP_MAX_INLINE, "*", "", &len);
    char *got = parse_big(in, len);
    cr_assert_str_eq(got, "ERR(ERR Protocol error: too big mbulk count string)\n");
    free(got);
    free(in);
    /* one byte shorter: still waiting */
    in = repeat('1', RESP_MAX_INLINE - 1, "*", "", &len);
    got = parse_big(in, len);
    cr_assert_str_eq(got, "MORE(65536)\n");
    free(got);
    free(in);
    /* the '\r' at offset 64KB is in time: the count is then just invalid */
    in = repeat('1', RESP_MAX_INLINE - 1, "*", "\r\n", &len);
    got = parse_big(in, len);
    cr_assert_str_eq(got, "ERR(ERR Protocol error: invalid multibulk length)\n");
    free(got);
    free(in);
    /* the '\r' one byte later: too big, whether it arrived or not */
    in = repeat('1', RESP_MAX_INLINE, "*", "\r\n", &len);
    got = parse_big(in, len);
    cr_assert_str_eq(got, "ERR(ERR Protocol error: too big mbulk count string)\n");
    free(got);
    free(in);
}

Test(resp_errors, too_big_bulk_count)
{
    size_t len;
    char *in = repeat('1', RESP_MAX_INLINE, "*1\r\n$", "", &len);
    char *got = parse_big(in, len);
    cr_assert_str_eq(got, "ERR(ERR Protocol error: too big bulk count string)\n");
    free(got);
    free(in);
    in = repeat('1', RESP_MAX_INLINE - 1, "*1\r\n$", "", &len);
    got = parse_big(in, len);
    cr_assert_str_eq(got, "MORE(65540)\n");
    free(got);
    free(in);
}

Test(resp_errors, too_big_inline)
{
    size_t len;
    char *in = repeat('a', RESP_MAX_INLINE + 1, "", "", &len);
    char *got = parse_big(in, len);
    cr_assert_str_eq(got, "ERR(ERR Protocol error: too big inline request)\n");
    free(got);
    free(in);
    /* 64KB line plus "\n" is fine */
    in = repeat('a', RESP_MAX_INLINE, "", "\n", &len);
    got = parse_big(in, len);
    cr_assert_eq(strncmp(got, "CMD(65537,1)[aaaa", 17), 0);
    free(got);
    free(in);
    /* one byte more is too big even though the "\n" is there */
    in = repeat('a', RESP_MAX_INLINE + 1, "", "\n", &len);
    got = parse_big(in, len);
    cr_assert_str_eq(got, "ERR(ERR Protocol error: too big inline request)\n");
    free(got);
    free(in);
}

Test(resp_errors, unbalanced_quotes)
{
    const char *w = "ERR(ERR Protocol error: unbalanced quotes in request)\n";
    expect(S("ECHO \"a\r\n"), w);
    expect(S("ECHO 'a\r\n"), w);
    expect(S("ECHO \"a\"b\r\n"), w);
    expect(S("ECHO 'a'b\r\n"), w);
    expect(S("ECHO \"a\\\"\r\n"), w);
    expect(S("ECHO \"a\\\r\n"), w);
    expect(S("ECHO \"\"\"\"\r\n"), w);
}

Test(resp_errors, error_is_sticky_until_reset)
{
    struct resp_parser p;
    resp_parser_init(&p);
    char bad[] = "*x\r\n";
    cr_assert_eq(resp_parse(&p, bad, 4), RESP_ERR);
    char good[] = "PING\r\n";
    cr_assert_eq(resp_parse(&p, good, 6), RESP_ERR);
    cr_assert_str_eq(p.err, "ERR Protocol error: invalid multibulk length");
    resp_parser_reset(&p);
    cr_assert_eq(resp_parse(&p, good, 6), 6);
    cr_assert_eq(p.argc, 1);
    resp_parser_deinit(&p);
}

Test(resp_errors, error_after_good_commands)
{
    expect(S("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPINGxx"),
           "CMD(6,1)[PING]\nCMD(14,1)[PING]\nERR(ERR Protocol error: invalid bulk length)\n");
}

/* ---- limits ------------------------------------------------------------ */

Test(resp_limits, max_multibulk)
{
    struct resp_parser cfg;
    resp_parser_init(&cfg);
    cfg.max_multibulk = 3;
    expect_cfg(S("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"), &cfg, "CMD(25,3)[a][b][c]\nMORE(0)\n");
    expect_cfg(S("*4\r\n"), &cfg, "ERR(ERR Protocol error: invalid multibulk length)\n");
    cfg.max_multibulk = LLONG_MAX; /* acts as INT_MAX */
    expect_cfg(S("*2147483648\r\n"), &cfg, "ERR(ERR Protocol error: invalid multibulk length)\n");
}

Test(resp_limits, max_bulk)
{
    struct resp_parser cfg;
    resp_parser_init(&cfg);
    cfg.max_bulk = 4;
    expect_cfg(S("*1\r\n$4\r\nPING\r\n"), &cfg, "CMD(14,1)[PING]\nMORE(0)\n");
    expect_cfg(S("*1\r\n$5\r\n"), &cfg, "ERR(ERR Protocol error: invalid bulk length)\n");
}

Test(resp_limits, unauthenticated)
{
    struct resp_parser cfg;
    resp_parser_init(&cfg);
    cfg.auth_required = true;
    expect_cfg(S("*11\r\n"), &cfg, "ERR(ERR Protocol error: unauthenticated multibulk length)\n");
    expect_cfg(S("*10\r\n"), &cfg, "MORE(5)\n");
    expect_cfg(S("*1\r\n$16385\r\n"), &cfg, "ERR(ERR Protocol error: unauthenticated bulk length)\n");
    expect_cfg(S("*1\r\n$16384\r\n"), &cfg, "MORE(12)\n");
    /* the general checks come first, as in Redis */
    expect_cfg(S("*x\r\n"), &cfg, "ERR(ERR Protocol error: invalid multibulk length)\n");
    /* inline commands are not limited */
    expect_cfg(S("a b c d e f g h i j k l\r\n"), &cfg,
               "CMD(25,12)[a][b][c][d][e][f][g][h][i][j][k][l]\nMORE(0)\n");
}

Test(resp_limits, need_hint_for_big_bulk)
{
    struct resp_parser p;
    resp_parser_init(&p);
    size_t big = 100000;
    char *in = malloc(64 + big);
    int h = sprintf(in, "*2\r\n$3\r\nSET\r\n$%zu\r\n", big);
    memset(in + h, 'v', big);
    memcpy(in + h + big, "\r\n", 2);
    size_t total = (size_t)h + big + 2;
    cr_assert_eq(resp_parse(&p, in, (size_t)h - 1), 0);
    cr_assert_eq(p.need, 0);
    cr_assert_eq(resp_parse(&p, in, (size_t)h + 10), 0);
    cr_assert_eq(p.need, total);
    cr_assert_eq(resp_parse(&p, in, total - 1), 0);
    cr_assert_eq(p.need, total);
    cr_assert_eq(resp_parse(&p, in, total), (ssize_t)total);
    cr_assert_eq(p.argv[1].len, big);
    /* below RESP_BIG_ARG: no hint */
    char small[] = "*1\r\n$100\r\nabc";
    cr_assert_eq(resp_parse(&p, small, strlen(small)), 0);
    cr_assert_eq(p.need, 0);
    free(in);
    resp_parser_deinit(&p);
}

/* A line arriving byte by byte is searched once, not from its start at every
 * call: the search offset keeps up with the input. */
Test(resp_limits, linear_time_resume)
{
    struct resp_parser p;
    resp_parser_init(&p);
    size_t len;
    char *in = repeat('x', 60000, "SET k ", "\r\n", &len);
    for (size_t n = 1; n < len; n++) {
        cr_assert_eq(resp_parse(&p, in, n), 0);
        cr_assert_eq(p.scan, n, "resumes at the end of the input");
    }
    cr_assert_eq(resp_parse(&p, in, len), (ssize_t)len);
    cr_assert_eq(p.argc, 3);
    free(in);
    /* same for a multibulk header and a bulk */
    char mb[] = "*1\r\n$10\r\n0123456789\r\n";
    size_t ml = strlen(mb);
    for (size_t n = 1; n < ml; n++) {
        cr_assert_eq(resp_parse(&p, mb, n), 0);
        cr_assert_leq(p.scan, n);
        cr_assert_leq(p.pos, n);
    }
    cr_assert_eq(resp_parse(&p, mb, ml), (ssize_t)ml);
    resp_parser_deinit(&p);
}

Test(resp_limits, drop_empty)
{
    struct resp_parser p;
    resp_parser_init(&p);
    char in[64] = "*0\r\n\r\n*1\r\n$4\r\nPI";
    size_t have = strlen(in);
    cr_assert_eq(resp_parse(&p, in, have), 0);
    size_t n = resp_parser_drop_empty(&p);
    cr_assert_eq(n, 6);
    memmove(in, in + n, have - n);
    have -= n;
    memcpy(in + have, "NG\r\n", 4);
    have += 4;
    cr_assert_eq(resp_parse(&p, in, have), (ssize_t)have);
    cr_assert_eq(p.argc, 1);
    cr_assert(memcmp(p.argv[0].ptr, "PING", 4) == 0);
    /* only empties pending */
    char ka[] = "\n\n\r\n*0\r\n";
    cr_assert_eq(resp_parse(&p, ka, strlen(ka)), 0);
    cr_assert_eq(resp_parser_drop_empty(&p), strlen(ka));
    cr_assert_eq(resp_parser_drop_empty(&p), 0);
    char ping[] = "PING\r\n";
    cr_assert_eq(resp_parse(&p, ping, 6), 6);
    resp_parser_deinit(&p);
}

/* ---- inline ------------------------------------------------------------ */

Test(resp_inline, basic_forms)
{
    expect(S("PING\r\n"), "CMD(6,1)[PING]\nMORE(0)\n");
    expect(S("PING\n"), "CMD(5,1)[PING]\nMORE(0)\n");
    expect(S("PING\r\r\n"), "CMD(7,1)[PING]\nMORE(0)\n");
    expect(S("  SET   k \t v  \r\n"), "CMD(17,3)[SET][k][v]\nMORE(0)\n");
    expect(S("PING"), "MORE(4)\n");
}

Test(resp_inline, blank_lines_skipped)
{
    expect(S("\r\n\n   \r\n\t\nPING\r\n"), "CMD(16,1)[PING]\nMORE(0)\n");
    expect(S("\r\n\r\n"), "MORE(4)\n"); /* kept until drop_empty */
}

Test(resp_inline, quoting)
{
    expect(S("SET k \"\"\r\n"), "CMD(10,3)[SET][k][]\nMORE(0)\n");
    expect(S("SET k ''\r\n"), "CMD(10,3)[SET][k][]\nMORE(0)\n");
    expect(S("ECHO \"hello world\"\r\n"), "CMD(20,2)[ECHO][hello world]\nMORE(0)\n");
    expect(S("ECHO 'hello world'\r\n"), "CMD(20,2)[ECHO][hello world]\nMORE(0)\n");
    expect(S("ECHO a\"b c\"\r\n"), "CMD(13,2)[ECHO][ab c]\nMORE(0)\n");
    expect(S("ECHO a'b c'd e\r\n"), "ERR(ERR Protocol error: unbalanced quotes in request)\n");
    expect(S("ECHO \"a\"\tb\r\n"), "CMD(12,3)[ECHO][a][b]\nMORE(0)\n");
    expect(S("ECHO \"a\"\v\r\n"), "CMD(11,2)[ECHO][a]\nMORE(0)\n");
}

Test(resp_inline, double_quote_escapes)
{
    expect(S("ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\"\r\n"),
           "CMD(23,2)[ECHO][\\x0a\\x0d\\x09\\x08\\x07\\x5c\"]\nMORE(0)\n");
    expect(S("ECHO \"\\x41\\x4a\\x4A\\xff\"\r\n"), "CMD(25,2)[ECHO][AJJ\\xff]\nMORE(0)\n");
    /* not two hex digits: "\x" is just 'x' */
    expect(S("ECHO \"\\x41\\x4\"\r\n"), "CMD(16,2)[ECHO][Ax4]\nMORE(0)\n");
    expect(S("ECHO \"\\x4G\"\r\n"), "CMD(13,2)[ECHO][x4G]\nMORE(0)\n");
    expect(S("ECHO \"\\X41\"\r\n"), "CMD(13,2)[ECHO][X41]\nMORE(0)\n");
    expect(S("ECHO \"a\\z\"\r\n"), "CMD(12,2)[ECHO][az]\nMORE(0)\n");
    /* a raw CR inside quotes is kept */
    expect(S("ECHO \"a\rb\"\r\n"), "CMD(12,2)[ECHO][a\\x0db]\nMORE(0)\n");
}

Test(resp_inline, single_quote_escapes)
{
    expect(S("ECHO 'a\\'b'\r\n"), "CMD(13,2)[ECHO][a'b]\nMORE(0)\n");
    expect(S("ECHO 'a\\nb'\r\n"), "CMD(13,2)[ECHO][a\\x5cnb]\nMORE(0)\n");
    expect(S("ECHO '\"'\r\n"), "CMD(10,2)[ECHO][\"]\nMORE(0)\n");
}

Test(resp_inline, separators)
{
    /* \v and \f separate words only where Redis skips blanks (isspace), not
     * inside a word */
    expect(S("\vECHO a\vb\r\n"), "CMD(11,2)[ECHO][a\\x0bb]\nMORE(0)\n");
    expect(S("ECHO a\fb\r\n"), "CMD(10,2)[ECHO][a\\x0cb]\nMORE(0)\n");
    expect(S("ECHO a\rb\r\n"), "CMD(10,3)[ECHO][a][b]\nMORE(0)\n");
    /* a backslash outside quotes is literal */
    expect(S("ECHO a\\nb\r\n"), "CMD(11,2)[ECHO][a\\x5cnb]\nMORE(0)\n");
    /* NUL is an ordinary byte here (Redis would wait for a newline) */
    expect(S("ECHO a\0b\n"), "CMD(9,2)[ECHO][a\\x00b]\nMORE(0)\n");
}

Test(resp_inline, decoded_in_place)
{
    struct resp_parser p;
    resp_parser_init(&p);
    char in[] = "SET \"k\\x41\" 'v w'\r\nGET k\r\n";
    ssize_t r = resp_parse(&p, in, strlen(in));
    cr_assert_eq(r, 19);
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.argv[1].len, 2);
    cr_assert(memcmp(p.argv[1].ptr, "kA", 2) == 0);
    cr_assert(p.argv[1].ptr >= in && p.argv[1].ptr < in + r);
    cr_assert(memcmp(p.argv[2].ptr, "v w", 3) == 0);
    /* the next command is untouched */
    cr_assert_str_eq(in + r, "GET k\r\n");
    resp_parser_deinit(&p);
}

Test(resp_inline, many_words)
{
    struct buf in;
    buf_init(&in);
    buf_puts(&in, "RPUSH list");
    for (int i = 0; i < 500; i++)
        buf_printf(&in, " \"w%d\"", i);
    buf_puts(&in, "\r\n");
    char *got = parse_whole(in.data, in.len, NULL);
    cr_assert(strstr(got, "CMD(") == got);
    cr_assert(strstr(got, ",502)[RPUSH][list][w0][w1]") != NULL);
    cr_assert(strstr(got, "[w499]\nMORE(0)\n") != NULL);
    char *chunked = parse_chunked(in.data, in.len, 1, NULL);
    cr_assert_str_eq(chunked, got);
    free(chunked);
    free(got);
    buf_deinit(&in);
}

Test(resp_inline, mixed_with_multibulk)
{
    expect(S("GET a\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n\r\nGET c\n"),
           "CMD(7,2)[GET][a]\nCMD(20,2)[GET][b]\nCMD(8,2)[GET][c]\nMORE(0)\n");
}

/* ---- writer ------------------------------------------------------------ */

static void wr_check(struct buf *b, const char *want, size_t wlen)
{
    cr_assert_eq(buf_pending(b), wlen, "length %zu, want %zu: '%.*s'", buf_pending(b), wlen,
                 (int)buf_pending(b), buf_head(b));
    cr_assert(memcmp(buf_head(b), want, wlen) == 0, "got '%.*s'", (int)buf_pending(b),
              buf_head(b));
    b->off = b->len = 0;
}

#define W(b, lit) wr_check(b, lit, sizeof(lit) - 1)

Test(resp_write, simple_and_errors)
{
    struct buf b;
    buf_init(&b);
    resp_add_ok(&b);
    W(&b, "+OK\r\n");
    resp_add_simple(&b, "PONG", 4);
    W(&b, "+PONG\r\n");
    resp_add_simple(&b, "", 0);
    W(&b, "+\r\n");
    resp_add_simple(&b, "a\r\nb", 4);
    W(&b, "+a  b\r\n");
    resp_add_error(&b, "ERR unknown command", 19);
    W(&b, "-ERR unknown command\r\n");
    resp_add_error(&b, "ERR x\ny", 7);
    W(&b, "-ERR x y\r\n");
    resp_add_errorf(&b, "ERR unknown command '%s', with args beginning with: %d", "FOO", 7);
    W(&b, "-ERR unknown command 'FOO', with args beginning with: 7\r\n");
    resp_add_errorf(&b, "ERR %s", "a\r\nb");
    W(&b, "-ERR a  b\r\n");
    buf_deinit(&b);
}

Test(resp_write, long_errorf)
{
    struct buf b;
    buf_init(&b);
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    resp_add_errorf(&b, "ERR %s\n", big);
    cr_assert_eq(buf_pending(&b), 1 + 4 + 999 + 1 + 2);
    cr_assert_eq(memcmp(buf_head(&b), "-ERR zzz", 8), 0);
    cr_assert_eq(memcmp(buf_tail(&b) - 4, "z \r\n", 4), 0);
    buf_deinit(&b);
}

Test(resp_write, integers)
{
    struct buf b;
    buf_init(&b);
    resp_add_int(&b, 0);
    W(&b, ":0\r\n");
    resp_add_int(&b, -1);
    W(&b, ":-1\r\n");
    resp_add_int(&b, 1234567890123LL);
    W(&b, ":1234567890123\r\n");
    resp_add_int(&b, LLONG_MAX);
    W(&b, ":9223372036854775807\r\n");
    resp_add_int(&b, LLONG_MIN);
    W(&b, ":-9223372036854775808\r\n");
    resp_add_bulk_ll(&b, LLONG_MIN);
    W(&b, "$20\r\n-9223372036854775808\r\n");
    resp_add_bulk_ll(&b, 7);
    W(&b, "$1\r\n7\r\n");
    resp_add_array(&b, 3);
    W(&b, "*3\r\n");
    resp_add_array(&b, 0);
    W(&b, "*0\r\n");
    resp_add_array(&b, -1);
    W(&b, "*-1\r\n");
    buf_deinit(&b);
}

Test(resp_write, bulks)
{
    struct buf b;
    buf_init(&b);
    resp_add_bulk(&b, "hello", 5);
    W(&b, "$5\r\nhello\r\n");
    resp_add_bulk(&b, "", 0);
    W(&b, "$0\r\n\r\n");
    resp_add_bulk(&b, NULL, 0);
    W(&b, "$0\r\n\r\n");
    resp_add_bulk(&b, "a\0\r\n", 4);
    W(&b, "$4\r\na\0\r\n\r\n");
    resp_add_bulk_cstr(&b, "abc");
    W(&b, "$3\r\nabc\r\n");
    resp_add_bulk_cstr(&b, NULL);
    W(&b, "$-1\r\n");
    size_t n = 1 << 20;
    char *big = malloc(n);
    memset(big, 'q', n);
    resp_add_bulk(&b, big, n);
    cr_assert_eq(buf_pending(&b), 10 + n + 2);
    cr_assert_eq(memcmp(buf_head(&b), "$1048576\r\nqqq", 13), 0);
    cr_assert_eq(memcmp(buf_tail(&b) - 3, "q\r\n", 3), 0);
    free(big);
    buf_deinit(&b);
}

Test(resp_write, appends_after_pending_data)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 1000; i++)
        resp_add_int(&b, i);
    buf_consume(&b, 4 * 10); /* ":0\r\n" .. ":9\r\n" */
    resp_add_bulk(&b, "x", 1);
    cr_assert_eq(memcmp(buf_head(&b), ":10\r\n", 5), 0);
    cr_assert_eq(memcmp(buf_tail(&b) - 7, "$1\r\nx\r\n", 7), 0);
    buf_deinit(&b);
}

Test(resp_write, resp2_resp3_types)
{
    struct buf b;
    buf_init(&b);
    resp_add_null(&b, 2);
    W(&b, "$-1\r\n");
    resp_add_null(&b, 3);
    W(&b, "_\r\n");
    resp_add_null_array(&b, 2);
    W(&b, "*-1\r\n");
    resp_add_null_array(&b, 3);
    W(&b, "_\r\n");
    resp_add_map(&b, 2, 2);
    W(&b, "*4\r\n");
    resp_add_map(&b, 3, 2);
    W(&b, "%2\r\n");
    resp_add_map(&b, 3, 0);
    W(&b, "%0\r\n");
    resp_add_set(&b, 2, 3);
    W(&b, "*3\r\n");
    resp_add_set(&b, 3, 3);
    W(&b, "~3\r\n");
    resp_add_bool(&b, 2, true);
    W(&b, ":1\r\n");
    resp_add_bool(&b, 2, false);
    W(&b, ":0\r\n");
    resp_add_bool(&b, 3, true);
    W(&b, "#t\r\n");
    resp_add_bool(&b, 3, false);
    W(&b, "#f\r\n");
    resp_add_verbatim(&b, 2, "hello", 5);
    W(&b, "$5\r\nhello\r\n");
    resp_add_verbatim(&b, 3, "hello", 5);
    W(&b, "=9\r\ntxt:hello\r\n");
    resp_add_verbatim(&b, 3, "", 0);
    W(&b, "=4\r\ntxt:\r\n");
    buf_deinit(&b);
}

Test(resp_write, doubles)
{
    struct buf b;
    buf_init(&b);
    resp_add_double(&b, 2, 3.0);
    W(&b, "$1\r\n3\r\n");
    resp_add_double(&b, 3, 3.0);
    W(&b, ",3\r\n");
    resp_add_double(&b, 2, 1.5);
    W(&b, "$3\r\n1.5\r\n");
    resp_add_double(&b, 3, 1.5);
    W(&b, ",1.5\r\n");
    resp_add_double(&b, 3, 0.1);
    W(&b, ",0.10000000000000001\r\n");
    resp_add_double(&b, 2, 0.1);
    W(&b, "$19\r\n0.10000000000000001\r\n");
    resp_add_double(&b, 3, INFINITY);
    W(&b, ",inf\r\n");
    resp_add_double(&b, 3, -INFINITY);
    W(&b, ",-inf\r\n");
    resp_add_double(&b, 2, INFINITY);
    W(&b, "$3\r\ninf\r\n");
    resp_add_double(&b, 2, -INFINITY);
    W(&b, "$4\r\n-inf\r\n");
    resp_add_double(&b, 3, -0.0);
    W(&b, ",-0\r\n");
    resp_add_double(&b, 3, 1e300);
    W(&b, ",1.0000000000000001e+300\r\n");
    resp_add_double(&b, 3, -4.5e-300);
    W(&b, ",-4.5e-300\r\n");
    resp_add_double(&b, 3, 4503599627370496.0);
    W(&b, ",4503599627370496\r\n");
    resp_add_double(&b, 3, 1e17);
    W(&b, ",1e+17\r\n");
    /* any double: same text as %.17g */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double v;
        unsigned long long bits = ((unsigned long long)rand() << 42) ^
                                  ((unsigned long long)rand() << 21) ^ (unsigned long long)rand();
        memcpy(&v, &bits, sizeof v);
        if (i % 3 == 0)
            v = (double)(rand() % 2000001 - 1000000) / (1 + rand() % 1000);
        if (isnan(v))
            continue;
        char want[64];
        int n = isinf(v) ? snprintf(want, sizeof want, ",%s\r\n", v > 0 ? "inf" : "-inf")
                         : snprintf(want, sizeof want, ",%.17g\r\n", v);
        resp_add_double(&b, 3, v);
        wr_check(&b, want, (size_t)n);
    }
    buf_deinit(&b);
}
