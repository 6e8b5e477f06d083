/*
 * reply.c — RESP2/RESP3 reply parser (see reply.h).
 *
 * One pass over the reply with an explicit stack of "elements left" per open
 * aggregate: no recursion, so a hostile nesting depth cannot overflow the C
 * stack (it is refused past RESP_REPLY_MAX_DEPTH).
 */
#include "proto/reply.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/util.h"

static bool parse_len(const char *s, size_t n, long long *out)
{
    return n > 0 && n <= 20 && util_str2ll(s, n, out);
}

static bool is_integer(const char *s, size_t n, bool big)
{
    if (!big) {
        long long v;
        return util_str2ll(s, n, &v);
    }
    size_t i = 0;
    if (n > 0 && s[0] == '-')
        i = 1;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

ssize_t resp_reply_parse(struct resp_reply *p, const char *buf, size_t len)
{
    if (len < p->need)
        return RESP_REPLY_INCOMPLETE;
    long long left[RESP_REPLY_MAX_DEPTH];
    bool attr[RESP_REPLY_MAX_DEPTH];
    int depth = 0;
    size_t pos = 0;
    p->is_error = false;
    p->type = 0;
    p->err = NULL;
    p->err_len = 0;

    for (;;) {
        /* ---- one value starts at pos ---- */
        if (pos >= len) {
            p->need = pos + 1;
            return RESP_REPLY_INCOMPLETE;
        }
        char t = buf[pos];
        const char *line = buf + pos + 1;
        const char *cr = memchr(line, '\r', len - pos - 1);
        if (!cr) {
            if (len - pos > (size_t)RESP_REPLY_MAX_BULK)
                goto proto;
            p->need = len + 1;
            return RESP_REPLY_INCOMPLETE;
        }
        size_t ll = (size_t)(cr - line);
        size_t after = (size_t)(cr - buf) + 2;
        if (after > len) {
            p->need = after;
            return RESP_REPLY_INCOMPLETE;
        }
        if (cr[1] != '\n' || memchr(line, '\n', ll))
            goto proto;
        bool top = depth == 0 && t != '|';
        if (top) {
            p->type = t;
            p->is_error = t == '-' || t == '!';
            if (t == '-') {
                p->err = line;
                p->err_len = ll;
            }
        }
        long long n;
        switch (t) {
        case '+':
        case '-':
            pos = after;
            break;
        case ':':
        case '(':
            if (!is_integer(line, ll, t == '('))
                goto proto;
            pos = after;
            break;
        case ',':
            if (ll == 0)
                goto proto;
            pos = after;
            break;
        case '#':
            if (ll != 1 || (line[0] != 't' && line[0] != 'f'))
                goto proto;
            pos = after;
            break;
        case '_':
            if (ll != 0)
                goto proto;
            pos = after;
            break;
        case '$':
        case '!':
        case '=': {
            if (!parse_len(line, ll, &n))
                goto proto;
            if (n == -1 && t == '$') {
                pos = after;
                break;
            }
            if (n < 0 || n > RESP_REPLY_MAX_BULK || (t == '=' && n < 4))
                goto proto;
            size_t end = after + (size_t)n + 2;
            if (len < end) {
                p->need = end;
                return RESP_REPLY_INCOMPLETE;
            }
            if (buf[end - 2] != '\r' || buf[end - 1] != '\n')
                goto proto;
            if (t == '=' && buf[after + 3] != ':')
                goto proto;
            if (top && t == '!') {
                p->err = buf + after;
                p->err_len = (size_t)n;
            }
            pos = end;
            break;
        }
        case '*':
        case '~':
        case '>':
        case '%':
        case '|': {
            if (!parse_len(line, ll, &n))
                goto proto;
            pos = after;
            if (n == -1 && t == '*')
                break; /* null array: a complete value */
            if (n < 0 || n > INT_MAX)
                goto proto;
            long long cnt = (t == '%' || t == '|') ? 2 * n : n;
            if (cnt == 0) {
                if (t == '|')
                    continue; /* empty attribute: the value follows */
                break;        /* empty aggregate: a complete value */
            }
            if (depth >= RESP_REPLY_MAX_DEPTH)
                goto proto;
            left[depth] = cnt;
            attr[depth] = t == '|';
            depth++;
            continue;
        }
        default:
            goto proto;
        }

        /* ---- a value ended at pos: close the aggregates it completes ---- */
        for (;;) {
            if (depth == 0) {
                p->need = 0;
                return (ssize_t)pos;
            }
            if (--left[depth - 1] > 0)
                break;
            depth--;
            if (attr[depth])
                break; /* attribute done: the value it annotates comes next, same level */
        }
    }

proto:
    p->need = 0;
    return RESP_REPLY_EPROTO;
}

const char *resp_scalar_at(const char *p, const char *end, struct resp_scalar *out)
{
    memset(out, 0, sizeof *out);
    if (p >= end)
        return NULL;
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    if (!cr || end - cr < 2)
        return NULL;
    const char *next = cr + 2;
    long long v = 0;
    out->type = *p;
    switch (*p) {
    case '+':
    case '-':
        out->str = p + 1;
        out->len = (size_t)(cr - p - 1);
        return next;
    case ':':
        if (!util_str2ll(p + 1, (size_t)(cr - p - 1), &v))
            return NULL;
        out->integer = v;
        return next;
    case '$':
    case '*':
        if (!util_str2ll(p + 1, (size_t)(cr - p - 1), &v))
            return NULL;
        if (v < 0) {
            out->type = RESP_SCALAR_NIL;
            return next;
        }
        if (*p == '*' || v > (long long)(end - next) - 2)
            return NULL;
        out->str = next;
        out->len = (size_t)v;
        return next + v + 2;
    case '_':
        out->type = RESP_SCALAR_NIL;
        return next;
    default:
        return NULL;
    }
}

const char *resp_value_scalar(const char *p, const char *end, struct resp_value *v)
{
    struct resp_scalar s;
    const char *next = resp_scalar_at(p, end, &s);
    memset(v, 0, sizeof *v);
    if (!next)
        return NULL;
    switch (s.type) {
    case '+': v->type = RESP_VALUE_STATUS; break;
    case '-': v->type = RESP_VALUE_ERROR; break;
    case ':': v->type = RESP_VALUE_INT; break;
    case '$': v->type = RESP_VALUE_BULK; break;
    default: v->type = RESP_VALUE_NIL; break; /* RESP_SCALAR_NIL: the only other type it returns */
    }
    v->str = s.str;
    v->len = s.len;
    v->integer = s.integer;
    return next;
}
