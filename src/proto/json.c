/*
 * json.c — JSON string writer and flat-object member reader (see json.h).
 */
#include "proto/json.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define MAX_DEPTH 32

void json_put_str(struct buf *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(o, n + 2);
    buf_putc(o, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_putc(o, '\\');
            buf_putc(o, (char)c);
        } else if (c == '\n') {
            buf_puts(o, "\\n");
        } else if (c == '\r') {
            buf_puts(o, "\\r");
        } else if (c == '\t') {
            buf_puts(o, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            buf_puts(o, u);
        } else {
            buf_putc(o, (char)c);
        }
    }
    buf_putc(o, '"');
}

struct cur {
    const char *p, *end;
};

static void ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}


/* Parse a string at c->p (at '"'). With out, unescape into it (cap bytes incl.
 * NUL). Returns the length, -1 on bad syntax, -2 when it does not fit. */
static int str(struct cur *c, char *out, size_t cap)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    size_t n = 0;
    bool overflow = false;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p++;
        char tmp[4];
        size_t tl = 1;
        tmp[0] = (char)ch;
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            if (c->p >= c->end)
                return -1;
            char e = *c->p++;
            switch (e) {
            case '"': case '\\': case '/': tmp[0] = e; break;
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u': {
                if (c->end - c->p < 4)
                    return -1;
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = util_hexval(c->p[i]);
                    if (h < 0)
                        return -1;
                    v = v << 4 | (unsigned)h;
                }
                c->p += 4;
                if (v >= 0xd800 && v <= 0xdfff)
                    v = 0xfffd; /* surrogates: replacement character, no pairing */
                if (v < 0x80) {
                    tmp[0] = (char)v;
                } else if (v < 0x800) {
                    tmp[0] = (char)(0xc0 | v >> 6);
                    tmp[1] = (char)(0x80 | (v & 0x3f));
                    tl = 2;
                } else {
                    tmp[0] = (char)(0xe0 | v >> 12);
                    tmp[1] = (char)(0x80 | ((v >> 6) & 0x3f));
                    tmp[2] = (char)(0x80 | (v & 0x3f));
                    tl = 3;
                }
                break;
            }
            default:
                return -1;
            }
        }
        if (out) {
            if (n + tl + 1 > cap)
                overflow = true;
            else
                memcpy(out + n, tmp, tl);
        }
        n += tl;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    if (out && !overflow)
        out[n] = 0;
    if (overflow)
        return -2;
    return n > (size_t)0x7fffffff ? -2 : (int)n;
}

/* Skip one value; false on bad syntax. */
static bool skip(struct cur *c, int depth)
{
    ws(c);
    if (c->p >= c->end || depth > MAX_DEPTH)
        return false;
    char ch = *c->p;
    if (ch == '"')
        return str(c, NULL, 0) >= 0;
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return true;
        }
        for (;;) {
            if (ch == '{') {
                ws(c);
                if (str(c, NULL, 0) < 0)
                    return false;
                ws(c);
                if (c->p >= c->end || *c->p != ':')
                    return false;
                c->p++;
            }
            if (!skip(c, depth + 1))
                return false;
            ws(c);
            if (c->p >= c->end)
                return false;
            if (*c->p == ',') {
                c->p++;
                continue;
            }
            if (*c->p == close) {
                c->p++;
                return true;
            }
            return false;
        }
    }
    /* number, true, false, null: a run of their characters */
    const char *s = c->p;
    while (c->p < c->end && (strchr("+-.eE0123456789", *c->p) || (*c->p >= 'a' && *c->p <= 'z')))
        c->p++;
    return c->p > s;
}

/* Position c at the value of top-level member key; false when absent/bad. */
static bool find(struct cur *c, const char *key)
{
    size_t klen = strlen(key);
    ws(c);
    if (c->p >= c->end || *c->p != '{')
        return false;
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}')
        return false;
    for (;;) {
        ws(c);
        char name[128];
        int n = str(c, name, sizeof name);
        if (n == -1)
            return false;
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return false;
        c->p++;
        ws(c);
        if (n >= 0 && (size_t)n == klen && memcmp(name, key, klen) == 0)
            return true;
        if (!skip(c, 1))
            return false;
        ws(c);
        if (c->p >= c->end || *c->p != ',')
            return false;
        c->p++;
    }
}

int json_get_str(const char *js, size_t len, const char *key, char *out, size_t cap)
{
    struct cur c = {js, js + len};
    if (!find(&c, key))
        return -1;
    if (c.p >= c.end || *c.p != '"')
        return -1;
    return str(&c, out, cap);
}

bool json_get_int(const char *js, size_t len, const char *key, long long *out)
{
    struct cur c = {js, js + len};
    if (!find(&c, key))
        return false;
    const char *s = c.p;
    while (c.p < c.end && (*c.p == '-' || (*c.p >= '0' && *c.p <= '9')))
        c.p++;
    return util_str2ll(s, (size_t)(c.p - s), out);
}
