/*
 * reply.c — error replies, argument parsing and the reply-size check for
 * command handlers and subsystems (reply.h). Runs on the thread that runs
 * the command, keyspace lock held (kv_arg_is and kv_arg_cursor: anywhere).
 */
#include "kv/reply.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"

/* ---- replies -------------------------------------------------------------- */

void kv_reply_error(struct kv_client *c, const char *msg)
{
    resp_add_error(&c->out, msg, strlen(msg));
    if (c->last_cmd >= 0)
        c->srv->st.cmd[c->last_cmd].failed++;
}

void kv_reply_errorf(struct kv_client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* errors are one line: newlines in user data become spaces */
    for (int i = 0; i < n && i < (int)sizeof msg; i++)
        if (msg[i] == '\r' || msg[i] == '\n')
            msg[i] = ' ';
    kv_reply_error(c, msg);
}

void kv_reply_syntax(struct kv_client *c) { kv_reply_error(c, "ERR syntax error"); }

void kv_reply_help(struct kv_client *c, const char *const *lines, size_t n)
{
    resp_add_array(&c->out, (long long)n);
    for (size_t i = 0; i < n; i++)
        resp_add_simple(&c->out, lines[i], strlen(lines[i]));
}

void kv_reply_wrongtype(struct kv_client *c)
{
    kv_reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void kv_reply_arity(struct kv_client *c, const char *cmd)
{
    kv_reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmd);
}

void kv_set_subcommand(struct kv_client *c, const struct resp_arg *sub)
{
    size_t n = sub->len < sizeof c->last_sub - 1 ? sub->len : sizeof c->last_sub - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = sub->ptr[i];
        c->last_sub[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    c->last_sub[n] = '\0';
}

bool kv_arg_ll_msg(struct kv_client *c, const struct resp_arg *a, long long *out, const char *msg)
{
    if (util_str2ll(a->ptr, a->len, out))
        return true;
    kv_reply_error(c, msg ? msg : "ERR value is not an integer or out of range");
    return false;
}

bool kv_arg_range(struct kv_client *c, const struct resp_arg *a, long long min, long long max, long long *out,
                  const char *msg, const char *range_msg)
{
    long long v;
    if (!kv_arg_ll_msg(c, a, &v, msg))
        return false;
    if (v < min || v > max) {
        if (range_msg)
            kv_reply_error(c, range_msg);
        else
            kv_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", min, max);
        return false;
    }
    *out = v;
    return true;
}

#define REPLY_FALLBACK_LIMIT (1ULL << 30)

bool kv_reply_full(struct kv_client *c)
{
    if (c->reply_over)
        return true;
    unsigned long long limit = c->srv->cfg.obl.hard;
    if (!limit)
        limit = c->srv->cfg.maxmemory ? c->srv->cfg.maxmemory : REPLY_FALLBACK_LIMIT;
    if (buf_pending(&c->out) + buf_pending(&c->wbuf) <= limit)
        return false;
    c->reply_over = true;
    return true;
}

bool kv_arg_ll(struct kv_client *c, const struct resp_arg *a, long long *out)
{
    return kv_arg_ll_msg(c, a, out, NULL);
}

/* Redis getDoubleFromObject: the whole argument a float (strtod over the
 * argument up to its first NUL byte, as Redis sees it), no leading space, no
 * NaN, no overflow (underflow to a denormal is fine, to zero is not). */
bool kv_str2d(const struct resp_arg *a, double *out)
{
    if (a->len == 0 || isspace((unsigned char)a->ptr[0]))
        return false;
    /* fast path: a plain integer that a double holds exactly is what strtod
     * would return ("-0" is refused by util_str2ll, so its sign is kept) */
    long long ll;
    if (a->len <= 16 && util_str2ll(a->ptr, a->len, &ll)) {
        *out = (double)ll;
        return true;
    }
    char small[128];
    char *s = a->len < sizeof small ? small : xmalloc(a->len + 1);
    memcpy(s, a->ptr, a->len);
    s[a->len] = '\0';
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    bool ok = (size_t)(end - s) == a->len && !isnan(d) &&
              !(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL || fpclassify(d) == FP_ZERO));
    if (s != small)
        xfree(s);
    if (ok)
        *out = d;
    return ok;
}

bool kv_arg_double(struct kv_client *c, const struct resp_arg *a, double *out, const char *msg)
{
    if (kv_str2d(a, out))
        return true;
    kv_reply_error(c, msg ? msg : "ERR value is not a valid float");
    return false;
}

bool kv_arg_ld(struct kv_client *c, const struct resp_arg *a, long double *out)
{
    if (util_str2ld(a->ptr, a->len, out))
        return true;
    kv_reply_error(c, "ERR value is not a valid float");
    return false;
}

/*
 * Parse a SCAN cursor as Redis does (strtoul, base 10): leading space
 * refused, a sign accepted (a negative value wraps), the C string ends at a
 * NUL byte, an empty string is 0, out of range refused.
 */
bool kv_scan_opts(struct kv_client *c, int argc, struct resp_arg *argv, int first, long long *count,
                  const struct resp_arg **pat)
{
    *pat = NULL;
    for (int i = first; i < argc; i += 2) {
        bool has_value = i + 1 < argc;
        if (has_value && kv_arg_is(&argv[i], "count")) {
            if (!kv_arg_range(c, &argv[i + 1], 1, LLONG_MAX, count, NULL, "ERR syntax error"))
                return false;
        } else if (has_value && kv_arg_is(&argv[i], "match")) {
            *pat = &argv[i + 1];
            if ((*pat)->len == 1 && (*pat)->ptr[0] == '*')
                *pat = NULL;
        } else {
            kv_reply_syntax(c);
            return false;
        }
    }
    return true;
}

void kv_reply_empty_scan(struct kv_client *c)
{
    resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, "0", 1);
    resp_add_array(&c->out, 0);
}

bool kv_arg_cursor(const struct resp_arg *a, uint64_t *out)
{
    const char *p = a->ptr;
    const char *end = p + strnlen(p, a->len);
    bool neg = false;
    uint64_t v = 0;
    if (p == end) {
        *out = 0;
        return true;
    }
    if (isspace((unsigned char)*p))
        return false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (p == end)
        return false;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return true;
}

bool kv_arg_is(const struct resp_arg *a, const char *word) { return util_strieq(a->ptr, a->len, word); }
