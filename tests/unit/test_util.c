/*
 * test_util.c — unit tests of core/util: strict number parsing and
 * formatting at the edges (LLONG_MIN/MAX, overflow, Redis's rejections),
 * INCRBYFLOAT / double reply formatting, memory and duration config values,
 * and Redis-compatible glob matching, checked against a plain recursive
 * matcher on random patterns and for bounded time on hostile ones.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

/* ---- str2ll / str2ull -------------------------------------------------- */

static bool ll(const char *s, long long *v)
{
    return util_str2ll(s, strlen(s), v);
}

Test(util_str2ll, valid)
{
    static const struct {
        const char *s;
        long long v;
    } ok[] = {
        {"0", 0}, {"1", 1}, {"-1", -1}, {"9", 9}, {"10", 10}, {"-10", -10},
        {"123456789", 123456789},
        {"9223372036854775807", LLONG_MAX},
        {"-9223372036854775808", LLONG_MIN},
        {"-9223372036854775807", -LLONG_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        long long v = 42;
        cr_assert(ll(ok[i].s, &v), "%s", ok[i].s);
        cr_assert_eq(v, ok[i].v, "%s", ok[i].s);
    }
}

Test(util_str2ll, rejects_like_redis)
{
    static const char *bad[] = {
        "", "-", "+", "+1", " 1", "1 ", "01", "00", "-0", "-01", "0x10", "1a", "a1",
        "1.0", "1e3", "--1", "- 1", "9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "99999999999999999999",
        "000000000000000000001", "123456789012345678901",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long v = 42;
        cr_assert_not(ll(bad[i], &v), "'%s' accepted", bad[i]);
        cr_assert_eq(v, 42, "output written on failure for '%s'", bad[i]);
    }
    long long v;
    cr_assert_not(util_str2ll("1\0", 2, &v));
    cr_assert_not(util_str2ll("12", 0, &v));
    cr_assert(util_str2ll("12345", 2, &v));
    cr_assert_eq(v, 12);
}

Test(util_str2ll, round_trip)
{
    char buf[32];
    long long vals[] = {0, 1, -1, 9, 10, 99, 100, 999, 1000, -999, LLONG_MAX, LLONG_MIN,
                        LLONG_MAX - 1, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        size_t n = util_ll2str(buf, vals[i]);
        long long back;
        cr_assert(util_str2ll(buf, n, &back));
        cr_assert_eq(back, vals[i]);
    }
    srand(11);
    for (int i = 0; i < 100000; i++) {
        long long x = (long long)(((unsigned long long)rand() << 33) ^ ((unsigned long long)rand() << 11) ^
                                  (unsigned long long)rand());
        x >>= rand() % 63;
        size_t n = util_ll2str(buf, x);
        long long back;
        cr_assert(util_str2ll(buf, n, &back));
        cr_assert_eq(back, x);
    }
}

Test(util_str2ull, edges)
{
    unsigned long long v = 0;
    cr_assert(util_str2ull("18446744073709551615", 20, &v));
    cr_assert_eq(v, ULLONG_MAX);
    cr_assert(util_str2ull("0", 1, &v));
    cr_assert_eq(v, 0);
    cr_assert(util_str2ull("9223372036854775808", 19, &v));
    cr_assert_eq(v, 9223372036854775808ULL);
    static const char *bad[] = {"", "-1", "+1", "01", " 1", "1 ", "18446744073709551616",
                                "99999999999999999999", "-0", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(util_str2ull(bad[i], strlen(bad[i]), &v), "'%s' accepted", bad[i]);
}

/* ---- ll2str ------------------------------------------------------------ */

Test(util_ll2str, matches_printf)
{
    char got[32], want[32];
    long long edge[] = {0, 1, -1, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        size_t n = util_ll2str(got, edge[i]);
        int w = snprintf(want, sizeof want, "%lld", edge[i]);
        cr_assert_eq(n, (size_t)w);
        cr_assert(memcmp(got, want, n) == 0);
    }
    /* every power of ten and its neighbours */
    long long p = 1;
    for (int e = 0; e < 19; e++, p = e < 19 ? p * 10 : p) {
        for (long long d = -1; d <= 1; d++) {
            long long x[] = {p + d, -(p + d)};
            for (int k = 0; k < 2; k++) {
                size_t n = util_ll2str(got, x[k]);
                int w = snprintf(want, sizeof want, "%lld", x[k]);
                cr_assert_eq(n, (size_t)w, "%lld", x[k]);
                cr_assert(memcmp(got, want, n) == 0, "%lld", x[k]);
            }
        }
    }
    unsigned long long u = ULLONG_MAX;
    size_t n = util_ull2str(got, u);
    cr_assert_eq(n, 20);
    cr_assert(memcmp(got, "18446744073709551615", 20) == 0);
    cr_assert_eq(util_ull2str(got, 0), 1);
    cr_assert_eq(got[0], '0');
    n = util_ll2str(got, LLONG_MIN);
    cr_assert_eq(n, 20);
}

Test(util_ll2str, writes_no_nul)
{
    char buf[24];
    memset(buf, 'X', sizeof buf);
    size_t n = util_ll2str(buf, 12345);
    cr_assert_eq(n, 5);
    cr_assert_eq(buf[5], 'X');
}

/* ---- long double / double --------------------------------------------- */

static bool ld(const char *s, long double *v)
{
    return util_str2ld(s, strlen(s), v);
}

Test(util_str2ld, accepts)
{
    long double v;
    cr_assert(ld("1.5", &v));
    cr_assert_eq(v, 1.5L);
    cr_assert(ld("-1.5", &v));
    cr_assert_eq(v, -1.5L);
    cr_assert(ld("1e10", &v));
    cr_assert_eq(v, 1e10L);
    cr_assert(ld("10", &v));
    cr_assert_eq(v, 10.0L);
    cr_assert(ld(".5", &v));
    cr_assert_eq(v, 0.5L);
    cr_assert(ld("5.", &v));
    cr_assert_eq(v, 5.0L);
    cr_assert(ld("+3", &v)); /* strtold takes a '+' and so does Redis */
    cr_assert_eq(v, 3.0L);
    cr_assert(ld("0x10", &v));
    cr_assert_eq(v, 16.0L);
    cr_assert(ld("inf", &v));
    cr_assert(isinf(v) && v > 0);
    cr_assert(ld("-inf", &v));
    cr_assert(isinf(v) && v < 0);
    cr_assert(ld("-0", &v));
    cr_assert_eq(v, 0.0L);
}

Test(util_str2ld, rejects)
{
    static const char *bad[] = {"", " 1", "1 ", "\t1", "nan", "NaN", "-nan", "abc", "1x",
                                "1e99999", "-1e99999", "1e-99999", "--1", "1,5"};
    long double v = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(ld(bad[i], &v), "'%s' accepted", bad[i]);
    cr_assert_eq(v, 7);
    /* embedded NUL: Redis would read "1\0x" as 1; we want every byte used */
    cr_assert_not(util_str2ld("1\0x", 3, &v));
    /* too long */
    char *big = malloc(UTIL_LD_STR_MAX + 1);
    memset(big, '1', UTIL_LD_STR_MAX);
    cr_assert_not(util_str2ld(big, UTIL_LD_STR_MAX, &v));
    cr_assert(util_str2ld(big, 100, &v));
    free(big);
}

static const char *ldfmt(long double v)
{
    static char buf[UTIL_LD_STR_MAX];
    size_t n = util_ld2str(buf, sizeof buf, v);
    cr_assert_eq(strlen(buf), n);
    return buf;
}

Test(util_ld2str, incrbyfloat_format)
{
    cr_assert_str_eq(ldfmt(1.5L), "1.5");
    cr_assert_str_eq(ldfmt(3.0L), "3");
    cr_assert_str_eq(ldfmt(0.0L), "0");
    cr_assert_str_eq(ldfmt(-0.0L), "0");
    cr_assert_str_eq(ldfmt(-2.5L), "-2.5");
    cr_assert_str_eq(ldfmt(10.5L + 0.1L), "10.6");
    cr_assert_str_eq(ldfmt(5.0e3L + 2.0e2L), "5200");
    cr_assert_str_eq(ldfmt(1e20L), "100000000000000000000");
    cr_assert_str_eq(ldfmt(1e-20L), "0");
    cr_assert_str_eq(ldfmt(-1e-20L), "0");
    cr_assert_str_eq(ldfmt(0.1L), "0.1");
    cr_assert_str_eq(ldfmt(INFINITY), "inf");
    cr_assert_str_eq(ldfmt(-INFINITY), "-inf");
    cr_assert_str_eq(ldfmt(NAN), "nan");
    /* as Redis INCRBYFLOAT computes it: parse both, add, format */
    long double a, b;
    cr_assert(ld("1.1", &a) && ld("2.2", &b));
    cr_assert_str_eq(ldfmt(a + b), "3.3");
    cr_assert(ld("123456789.123456789", &a) && ld("1", &b));
    cr_assert_str_eq(ldfmt(a + b), "123456790.12345678899873747"); /* as Redis 7.0 */
    /* the largest long double fits in UTIL_LD_STR_MAX */
    char *buf = malloc(UTIL_LD_STR_MAX);
    size_t n = util_ld2str(buf, UTIL_LD_STR_MAX, LDBL_MAX);
    cr_assert_gt(n, 4000);
    n = util_ld2str(buf, UTIL_LD_STR_MAX, -LDBL_MAX);
    cr_assert_gt(n, 4000);
    cr_assert_eq(buf[0], '-');
    free(buf);
}

Test(util_ld2str, small_buffer)
{
    char buf[8];
    cr_assert_eq(util_ld2str(buf, sizeof buf, 123456.5L), 0); /* "123456.50000000000000000" */
    cr_assert_eq(buf[0], '\0');
    cr_assert_eq(util_ld2str(buf, 4, INFINITY), 0);
    cr_assert_eq(util_ld2str(buf, 5, -INFINITY), 4);
    cr_assert_str_eq(buf, "-inf");
    cr_assert_eq(util_ld2str(buf, 0, 1.0L), 0);
}

Test(util_d2str, like_redis)
{
    char buf[UTIL_D_STR_MAX];
    struct {
        double v;
        const char *s;
    } cases[] = {
        {0.0, "0"}, {-0.0, "-0"}, {1.0, "1"}, {-1.0, "-1"}, {1.5, "1.5"},
        {0.1, "0.10000000000000001"}, {1e17, "1e+17"}, {123456789.0, "123456789"},
        {4503599627370495.0, "4503599627370495"}, {4503599627370496.0, "4503599627370496"},
        {-4503599627370495.0, "-4503599627370495"}, {1e300, "1.0000000000000001e+300"},
        {DBL_MAX, "1.7976931348623157e+308"}, {DBL_MIN, "2.2250738585072014e-308"},
        {5e-324, "4.9406564584124654e-324"}, {INFINITY, "inf"}, {-INFINITY, "-inf"},
        {NAN, "nan"}, {-NAN, "nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = util_d2str(buf, sizeof buf, cases[i].v);
        cr_assert_str_eq(buf, cases[i].s);
        cr_assert_eq(n, strlen(cases[i].s));
    }
    cr_assert_eq(util_d2str(buf, 3, 1.5), 0);
    cr_assert_eq(util_d2str(buf, 4, 1.5), 3);
    /* the longest text fits UTIL_D_STR_MAX */
    cr_assert_gt(util_d2str(buf, sizeof buf, -2.2250738585072014e-308), 0);
}

/* ---- config values ----------------------------------------------------- */

Test(util_parse_memory, units)
{
    static const struct {
        const char *s;
        unsigned long long v;
    } ok[] = {
        {"0", 0}, {"1", 1}, {"1b", 1}, {"1B", 1}, {"1k", 1000}, {"1K", 1000},
        {"1kb", 1024}, {"1KB", 1024}, {"1Kb", 1024}, {"2m", 2000000}, {"2mb", 2097152},
        {"100mb", 104857600}, {"1g", 1000000000}, {"1gb", 1073741824}, {"4GB", 4294967296ULL},
        {"1048576", 1048576}, {"007", 7},
        {"9223372036854775807", 9223372036854775807ULL},
        {"8589934591gb", 8589934591ULL * 1073741824ULL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        unsigned long long v = 1234;
        cr_assert(util_parse_memory(ok[i].s, &v), "%s", ok[i].s);
        cr_assert_eq(v, ok[i].v, "%s", ok[i].s);
    }
}

Test(util_parse_memory, rejects)
{
    static const char *bad[] = {
        "", "-1", "-1mb", "+1", " 1", "1 ", "1 mb", "mb", "1x", "1kib", "1.5mb", "1t", "1tb",
        "9223372036854775808", "8589934592gb", "99999999999999999999999", "1bb",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned long long v = 1234;
        cr_assert_not(util_parse_memory(bad[i], &v), "'%s' accepted", bad[i]);
        cr_assert_eq(v, 1234);
    }
    unsigned long long v;
    cr_assert_not(util_parse_memory(NULL, &v));
}

Test(util_parse_duration, units)
{
    static const struct {
        const char *s;
        long long v;
    } ok[] = {
        {"0", 0}, {"30", 30000}, {"250ms", 250}, {"250MS", 250}, {"10s", 10000}, {"10S", 10000},
        {"5m", 300000}, {"1h", 3600000}, {"2d", 172800000}, {"0ms", 0},
        {"9223372036854775807ms", LLONG_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        long long v = 1234;
        cr_assert(util_parse_duration_ms(ok[i].s, &v), "%s", ok[i].s);
        cr_assert_eq(v, ok[i].v, "%s", ok[i].s);
    }
    static const char *bad[] = {"", "-1", "-1s", "s", "ms", "1x", "1.5s", " 1s", "1s ", "1 s",
                                "1sec", "9223372036854775807s", "9223372036854775808ms", "+1s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long v = 1234;
        cr_assert_not(util_parse_duration_ms(bad[i], &v), "'%s' accepted", bad[i]);
        cr_assert_eq(v, 1234);
    }
    long long v;
    cr_assert_not(util_parse_duration_ms(NULL, &v));
}

Test(util_strieq, cases)
{
    cr_assert(util_strieq("GET", 3, "get"));
    cr_assert(util_strieq("gEt", 3, "GeT"));
    cr_assert(util_strieq("GETX", 3, "get"));
    cr_assert_not(util_strieq("GE", 2, "get"));
    cr_assert_not(util_strieq("GETS", 4, "get"));
    cr_assert(util_strieq("", 0, ""));
    cr_assert_not(util_strieq("", 0, "a"));
    cr_assert_not(util_strieq("a\0", 2, "a"));
    cr_assert_not(util_strieq("[", 1, "{")); /* '[' + 32 == '{': not letters */
    cr_assert_not(util_strieq("\xc9", 1, "\xe9"));
}

/* ---- glob -------------------------------------------------------------- */

static bool gm(const char *pat, const char *s)
{
    return util_glob_match(pat, strlen(pat), s, strlen(s), false);
}

static bool gmi(const char *pat, const char *s)
{
    return util_glob_match(pat, strlen(pat), s, strlen(s), true);
}

Test(util_glob, basics)
{
    cr_assert(gm("", ""));
    cr_assert_not(gm("", "a"));
    cr_assert_not(gm("*", "")); /* Redis: an empty string matches only "" */
    cr_assert_not(gm("?", ""));
    cr_assert(gm("*", "anything"));
    cr_assert(gm("**", "x"));
    cr_assert(gm("a*", "a"));
    cr_assert(gm("a*", "abc"));
    cr_assert(gm("*c", "abc"));
    cr_assert(gm("a*c", "abbbc"));
    cr_assert_not(gm("a*c", "abbbd"));
    cr_assert(gm("a*b*c", "aXbYc"));
    cr_assert(gm("*a*", "a"));
    cr_assert_not(gm("a*?", "a"));
    cr_assert(gm("a*?", "ab"));
    cr_assert(gm("h?llo", "hello"));
    cr_assert_not(gm("h?llo", "hllo"));
    cr_assert(gm("user:*:name", "user:1000:name"));
    cr_assert_not(gm("user:*:name", "user:1000:names"));
    cr_assert_not(gm("abc", "ab"));
    cr_assert_not(gm("ab", "abc"));
}

Test(util_glob, classes)
{
    cr_assert(gm("h[ae]llo", "hallo"));
    cr_assert(gm("h[ae]llo", "hello"));
    cr_assert_not(gm("h[ae]llo", "hillo"));
    cr_assert(gm("h[^e]llo", "hallo"));
    cr_assert_not(gm("h[^e]llo", "hello"));
    cr_assert(gm("h[a-c]llo", "hbllo"));
    cr_assert_not(gm("h[a-c]llo", "hdllo"));
    cr_assert(gm("h[c-a]llo", "hbllo")); /* reversed range */
    cr_assert(gm("[a-]", "^"));          /* "a-]" is the range ']'..'a' */
    cr_assert(gm("[a-]", "]"));
    cr_assert_not(gm("[a-]", "-"));
    cr_assert(gm("[abc", "b"));          /* unterminated class runs to the end */
    cr_assert_not(gm("[abc", "bx"));
    cr_assert_not(gm("[", "["));          /* "[" at the end matches nothing */
    cr_assert(gm("[^", "x"));             /* "[^" at the end matches anything */
    cr_assert(gm("[]", "]") == false);    /* "[]" is an empty class */
    cr_assert(gm("[\\]]", "]"));
    cr_assert(gm("[\\-]", "-"));
    cr_assert(gm("[a\\", "\\"));
    cr_assert(gm("x[\\", "x\\"));
}

Test(util_glob, escapes)
{
    cr_assert(gm("\\*", "*"));
    cr_assert_not(gm("\\*", "x"));
    cr_assert(gm("\\?", "?"));
    cr_assert_not(gm("\\?", "x"));
    cr_assert(gm("a\\", "a\\")); /* trailing backslash is literal */
    cr_assert(gm("\\[a]", "[a]"));
    cr_assert(gm("\\\\", "\\"));
}

Test(util_glob, nocase)
{
    cr_assert(gmi("HELLO", "hello"));
    cr_assert(gmi("h*O", "HELLO"));
    cr_assert_not(gm("HELLO", "hello"));
    cr_assert(gmi("[A-Z]", "q"));
    cr_assert(gmi("[a-z]", "Q"));
    cr_assert(gmi("[Q]", "q"));
    cr_assert_not(gmi("[\\Q]", "q")); /* escaped class member compares exactly */
    cr_assert(gmi("\\Q", "q"));       /* but an escaped literal does not */
}

Test(util_glob, binary_and_high_bytes)
{
    cr_assert(util_glob_match("a?c", 3, "a\0c", 3, false));
    cr_assert(util_glob_match("a\0*", 3, "a\0xyz", 5, false));
    cr_assert_not(util_glob_match("a\0*", 3, "a\1xyz", 5, false));
    /* ranges compare signed chars, as Redis does on x86 */
    cr_assert(gm("[a-\xff]", "\xff"));  /* range -1..'a' */
    cr_assert(gm("[a-\xff]", "A"));
    cr_assert_not(gm("[a-\xff]", "z"));
    cr_assert_not(gm("[a-\xff]", "\x80"));
}

/* A plain recursive matcher written from the rules, to compare against on
 * random input (exponential in the worst case; fine for short patterns).
 * ref_token() matches one non-star token at p[i] and sets *end past it. */
static int ref_low(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ref_eq(char a, char b, bool nocase)
{
    return nocase ? ref_low((signed char)a) == ref_low((signed char)b) : a == b;
}

static bool ref_token(const char *p, size_t n, size_t i, char c, bool nocase, size_t *end)
{
    if (p[i] == '?') {
        *end = i + 1;
        return true;
    }
    if (p[i] == '\\' && i + 1 < n) {
        *end = i + 2;
        return ref_eq(p[i + 1], c, nocase);
    }
    if (p[i] != '[') {
        *end = i + 1;
        return ref_eq(p[i], c, nocase);
    }
    i++;
    bool neg = i < n && p[i] == '^';
    if (neg)
        i++;
    bool m = false;
    for (;;) {
        if (i + 1 < n && p[i] == '\\') {          /* escaped member: exact */
            m |= p[i + 1] == c;
            i += 2;
        } else if (i >= n) {                        /* unterminated: ends here */
            *end = n;
            break;
        } else if (p[i] == ']') {
            *end = i + 1;
            break;
        } else if (i + 2 < n && p[i + 1] == '-') {  /* range, either order */
            int lo = (signed char)p[i], hi = (signed char)p[i + 2], x = (signed char)c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = ref_low(lo);
                hi = ref_low(hi);
                x = ref_low(x);
            }
            m |= x >= lo && x <= hi;
            i += 3;
        } else {
            m |= ref_eq(p[i], c, nocase);
            i++;
        }
    }
    return neg ? !m : m;
}

static bool ref_match(const char *p, size_t n, size_t i, const char *s, size_t sl, size_t j,
                      bool nocase)
{
    if (j == sl) {
        while (i < n && p[i] == '*')
            i++;
        return i == n;
    }
    if (i == n)
        return false;
    if (p[i] == '*') {
        for (size_t k = j; k <= sl; k++)
            if (ref_match(p, n, i + 1, s, sl, k, nocase))
                return true;
        return false;
    }
    size_t next;
    if (!ref_token(p, n, i, s[j], nocase, &next))
        return false;
    return ref_match(p, n, next, s, sl, j + 1, nocase);
}

Test(util_glob, random_against_reference)
{
    static const char alpha[] = "ab*?[]^-\\A";
    srand(1234);
    char pat[10], str[10];
    for (int iter = 0; iter < 200000; iter++) {
        size_t pn = (size_t)rand() % 9, sn = 1 + (size_t)rand() % 8;
        for (size_t i = 0; i < pn; i++)
            pat[i] = alpha[rand() % (sizeof alpha - 1)];
        for (size_t i = 0; i < sn; i++)
            str[i] = alpha[rand() % (sizeof alpha - 1)];
        bool nocase = rand() & 1;
        bool want = ref_match(pat, pn, 0, str, sn, 0, nocase);
        bool got = util_glob_match(pat, pn, str, sn, nocase);
        cr_assert_eq(got, want, "pattern '%.*s' string '%.*s' nocase %d: got %d", (int)pn, pat,
                     (int)sn, str, nocase, got);
    }
}

Test(util_glob, no_exponential_blowup, .timeout = 10)
{
    /* a*a*a*...b against a long run of 'a': exponential for naive matchers */
    size_t pn = 0;
    char pat[4096];
    for (int i = 0; i < 1000; i++) {
        pat[pn++] = 'a';
        pat[pn++] = '*';
    }
    pat[pn++] = 'b';
    size_t sn = 20000;
    char *s = malloc(sn);
    memset(s, 'a', sn);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_not(util_glob_match(pat, pn, s, sn, false));
    s[sn - 1] = 'b';
    cr_assert(util_glob_match(pat, pn, s, sn, false)); /* Redis gives up past 1000 stars */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(secs, 2.0, "took %.2fs", secs);
    /* many stars in a row collapse */
    memset(pat, '*', 4000);
    cr_assert(util_glob_match(pat, 4000, s, sn, false));
    free(s);
}

/* ---- time -------------------------------------------------------------- */

Test(util_time, clocks)
{
    long long ms = util_time_ms(), us = util_time_us(), mono = util_mono_us();
    cr_assert_gt(ms, 1600000000000LL);        /* after 2020 */
    cr_assert_lt(llabs(us / 1000 - ms), 1000); /* same clock */
    cr_assert_gt(mono, 0);
    long long m2 = util_mono_us();
    cr_assert_geq(m2, mono);
    struct timespec d = {0, 2 * 1000 * 1000};
    nanosleep(&d, NULL);
    cr_assert_geq(util_mono_us() - mono, 2000);
}
