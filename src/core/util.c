/*
 * util.c — number and string helpers shared by every role (see util.h).
 *
 * The parsers follow Redis's util.c rules byte for byte where a client can
 * see the difference (string2ll, string2ld, ld2string, memtoll,
 * stringmatchlen), because a reply that differs from Redis's is a bug for a
 * drop-in server. Where Redis reads past a length or relies on a NUL, these
 * take explicit lengths instead; the few places where that changes a result
 * are noted at the function.
 *
 * Everything here is reentrant and allocation-free.
 */
#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <time.h>

/* Redis LONG_STR_SIZE: strings this long or longer are never valid integers. */
#define LONG_STR_SIZE 21

/* ---- integers ---------------------------------------------------------- */

/* Digits of one unsigned run, shared by the signed and unsigned parsers.
 * s[0] must be '1'..'9' or the string exactly "0"; no sign, no leading zeros,
 * nothing but digits, value <= ULLONG_MAX. */
static bool parse_digits(const char *s, size_t len, unsigned long long *out)
{
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] < '1' || s[0] > '9')
        return false;
    unsigned long long v = (unsigned long long)(s[0] - '0');
    for (size_t i = 1; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        if (v > ULLONG_MAX / 10)
            return false;
        v *= 10;
        if (v > ULLONG_MAX - d)
            return false;
        v += d;
    }
    *out = v;
    return true;
}

/* Redis string2ll: "", "-", "+1", " 1", "1 ", "01", "-0" and anything of 21 or
 * more bytes are rejected; LLONG_MIN and LLONG_MAX are accepted. */
bool util_str2ll(const char *s, size_t len, long long *out)
{
    if (len == 0 || len >= LONG_STR_SIZE)
        return false;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        s++;
        len--;
        if (len == 0)
            return false;
        if (s[0] == '0') /* "-0", "-01": Redis wants 1-9 after the sign */
            return false;
    }
    unsigned long long v;
    if (!parse_digits(s, len, &v))
        return false;
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        /* -(LLONG_MAX+1) without signed overflow */
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

/* The string2ll rules without a sign: Redis's own string2ull falls back to
 * strtoull (leading spaces, '+', wrap-around of "-1"), which is not strict. */
bool util_str2ull(const char *s, size_t len, unsigned long long *out)
{
    if (len == 0 || len >= LONG_STR_SIZE)
        return false;
    return parse_digits(s, len, out);
}

static const char digit_pairs[201] =
    "00010203040506070809"
    "10111213141516171819"
    "20212223242526272829"
    "30313233343536373839"
    "40414243444546474849"
    "50515253545556575859"
    "60616263646566676869"
    "70717273747576777879"
    "80818283848586878889"
    "90919293949596979899";

static size_t ull_digits(unsigned long long v)
{
    size_t n = 1;
    for (;;) {
        if (v < 10)
            return n;
        if (v < 100)
            return n + 1;
        if (v < 1000)
            return n + 2;
        if (v < 10000)
            return n + 3;
        v /= 10000;
        n += 4;
    }
}

size_t util_ull2str(char *dst, unsigned long long v)
{
    size_t n = ull_digits(v);
    char *p = dst + n;
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    }
    if (v < 10) {
        *--p = (char)('0' + v);
    } else {
        unsigned i = (unsigned)v * 2;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    }
    return n;
}

size_t util_ll2str(char *dst, long long v)
{
    if (v >= 0)
        return util_ull2str(dst, (unsigned long long)v);
    dst[0] = '-';
    /* 0 - (unsigned)v is the magnitude, LLONG_MIN included */
    return 1 + util_ull2str(dst + 1, 0ULL - (unsigned long long)v);
}

/* ---- floating point ---------------------------------------------------- */

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Redis string2ld: strtold over a NUL-terminated copy, no leading space, the
 * whole string used, no NaN, no overflow to +-HUGE_VAL or underflow to zero.
 * Redis checks only that strtold stopped at a NUL, so it reads "1\0x" as 1;
 * this requires that strtold used every byte. */
bool util_str2ld(const char *s, size_t len, long double *out)
{
    char buf[UTIL_LD_STR_MAX];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (is_space((unsigned char)buf[0]))
        return false;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (end != buf + len)
        return false;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return false;
    if (errno == EINVAL || isnan(v))
        return false;
    *out = v;
    return true;
}

/* Redis ld2string(LD_STR_HUMAN), the INCRBYFLOAT reply format. */
size_t util_ld2str(char *dst, size_t cap, long double v)
{
    size_t l;
    if (isinf(v)) {
        if (cap < 5)
            goto fail;
        l = v > 0 ? 3 : 4;
        memcpy(dst, v > 0 ? "inf" : "-inf", l);
    } else if (isnan(v)) {
        if (cap < 4)
            goto fail;
        memcpy(dst, "nan", 3);
        l = 3;
    } else {
        int n = snprintf(dst, cap, "%.17Lf", v);
        if (n < 0 || (size_t)n + 1 > cap)
            goto fail;
        l = (size_t)n;
        if (memchr(dst, '.', l)) {
            while (dst[l - 1] == '0')
                l--;
            if (dst[l - 1] == '.')
                l--;
        }
        if (l == 2 && dst[0] == '-' && dst[1] == '0') {
            dst[0] = '0';
            l = 1;
        }
    }
    dst[l] = '\0';
    return l;
fail:
    if (cap)
        dst[0] = '\0';
    return 0;
}

/* Redis 7.0 d2string / addReplyDouble: %.17g with explicit inf and nan (libc
 * spellings vary), and integers below 2^52 printed as integers (the same text
 * %.17g gives, faster). */
size_t util_d2str(char *dst, size_t cap, double v)
{
    char tmp[UTIL_D_STR_MAX];
    size_t l;
    if (isnan(v)) {
        memcpy(tmp, "nan", l = 3);
    } else if (isinf(v)) {
        l = v > 0 ? 3 : 4;
        memcpy(tmp, v > 0 ? "inf" : "-inf", l);
    } else if (v == 0) {
        if (signbit(v))
            memcpy(tmp, "-0", l = 2);
        else
            memcpy(tmp, "0", l = 1);
    } else if (v > -4503599627370495.0 && v < 4503599627370496.0 && v == (double)(long long)v) {
        l = util_ll2str(tmp, (long long)v);
    } else {
        int n = snprintf(tmp, sizeof tmp, "%.17g", v);
        if (n < 0 || (size_t)n >= sizeof tmp)
            goto fail;
        l = (size_t)n;
    }
    if (l + 1 > cap)
        goto fail;
    memcpy(dst, tmp, l);
    dst[l] = '\0';
    return l;
fail:
    if (cap)
        dst[0] = '\0';
    return 0;
}

/* ---- config values ----------------------------------------------------- */

/* Leading decimal digits of s as an unsigned value; *end is the first byte
 * after them. false if there are none or they overflow. */
static bool lead_digits(const char *s, const char **end, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        p++;
    }
    if (p == s)
        return false;
    *end = p;
    *out = v;
    return true;
}

/* Redis memtoll units. Stricter than Redis 7.0 in two places: an empty number
 * ("mb") is an error rather than 0, and so is a result above LLONG_MAX rather
 * than a wrapped value. */
bool util_parse_memory(const char *s, unsigned long long *out)
{
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {
        {"", 1}, {"b", 1},
        {"k", 1000ULL}, {"kb", 1024ULL},
        {"m", 1000ULL * 1000}, {"mb", 1024ULL * 1024},
        {"g", 1000ULL * 1000 * 1000}, {"gb", 1024ULL * 1024 * 1024},
    };
    const char *u;
    unsigned long long v;
    if (!s || !lead_digits(s, &u, &v))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(u, units[i].unit) == 0) {
            if (v > (unsigned long long)LLONG_MAX / units[i].mul)
                return false;
            *out = v * units[i].mul;
            return true;
        }
    }
    return false;
}

bool util_parse_duration_ms(const char *s, long long *out)
{
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000},
        {"h", 3600 * 1000}, {"d", 86400ULL * 1000},
    };
    const char *u;
    unsigned long long v;
    if (!s || !lead_digits(s, &u, &v))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(u, units[i].unit) == 0) {
            if (v > (unsigned long long)LLONG_MAX / units[i].mul)
                return false;
            *out = (long long)(v * units[i].mul);
            return true;
        }
    }
    return false;
}

/* ---- strings ----------------------------------------------------------- */

/* ASCII only, on purpose: Redis never changes LC_CTYPE, so its tolower() is
 * the C locale's. Takes an int so that a signed char keeps its value. */
static inline int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int util_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool util_strieq(const char *a, size_t alen, const char *b)
{
    for (size_t i = 0; i < alen; i++) {
        if (b[i] == '\0' || lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    }
    return b[alen] == '\0';
}

/*
 * One pattern token (anything but '*') at pat[*pi] against the byte c; moves
 * *pi past the token. This is the body of Redis stringmatchlen's switch,
 * including its corner cases:
 *   - a class runs to ']' or to the end of the pattern ("[abc" is a class);
 *     "[^" at the end matches any byte, "[" at the end matches none;
 *   - in a class, "\x" compares x exactly, even with nocase;
 *   - "a-z" ranges compare signed chars (as Redis on x86) and may be given
 *     backwards; "[a-]" is the range 'a'..']';
 *   - a '\' at the very end of the pattern is a literal '\'.
 */
static bool glob_token(const char *pat, size_t plen, size_t *pi, char c, bool nocase)
{
    size_t i = *pi;
    bool match;

    switch (pat[i]) {
    case '?':
        match = true;
        break;
    case '[': {
        i++;
        bool neg = i < plen && pat[i] == '^';
        if (neg)
            i++;
        match = false;
        for (;;) {
            if (plen - i >= 2 && pat[i] == '\\') {
                i++;
                if (pat[i] == c)
                    match = true;
            } else if (i == plen) {
                i--; /* step back so the final i++ lands on the end */
                break;
            } else if (pat[i] == ']') {
                break;
            } else if (plen - i >= 3 && pat[i + 1] == '-') {
                int lo = (signed char)pat[i], hi = (signed char)pat[i + 2];
                int x = (signed char)c;
                if (lo > hi) {
                    int t = lo;
                    lo = hi;
                    hi = t;
                }
                if (nocase) {
                    lo = lower(lo);
                    hi = lower(hi);
                    x = lower(x);
                }
                i += 2;
                if (x >= lo && x <= hi)
                    match = true;
            } else if (nocase ? lower((signed char)pat[i]) == lower((signed char)c)
                              : pat[i] == c) {
                match = true;
            }
            i++;
        }
        if (neg)
            match = !match;
        break;
    }
    case '\\':
        if (plen - i >= 2)
            i++;
        /* fall through */
    default:
        match = nocase ? lower((signed char)pat[i]) == lower((signed char)c) : pat[i] == c;
        break;
    }
    *pi = i + 1;
    return match;
}

/*
 * Redis stringmatchlen semantics without its recursion. Every token but '*'
 * consumes exactly one byte, so the classic two-pointer algorithm applies:
 * on a mismatch, go back to just after the last '*' and let that star take one
 * more byte. Earlier stars never need revisiting (a later star can absorb
 * anything an earlier one would), which bounds the work to O(plen * slen) —
 * the same result Redis's skipLongerMatches cut gives, without its limit of
 * 1000 nested stars (beyond which Redis reports no match).
 *
 * As in Redis, an empty string matches only the empty pattern ("*" does not
 * match "").
 */
bool util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase)
{
    if (slen == 0)
        return plen == 0;

    size_t pi = 0, si = 0;
    size_t star_pi = SIZE_MAX, star_si = 0;
    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*')
                pi++;
            if (pi == plen)
                return true;
            star_pi = pi;
            star_si = si;
            continue;
        }
        if (pi < plen) {
            size_t next = pi;
            if (glob_token(pat, plen, &next, s[si], nocase)) {
                pi = next;
                si++;
                continue;
            }
        }
        if (star_pi == SIZE_MAX)
            return false;
        pi = star_pi;
        si = ++star_si;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

/* ---- time -------------------------------------------------------------- */

static long long clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long util_time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long util_time_us(void)
{
    return clock_us(CLOCK_REALTIME);
}

long long util_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

int util_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    int rc = 0;
    FILE *f = fopen(path, "w");
    if (!f || fwrite(data, 1, len, f) != len) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (f && fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

int util_write_pidfile(const char *path, char *err, size_t errlen)
{
    char pid[24];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    return util_write_file(path, pid, (size_t)n, err, errlen);
}
