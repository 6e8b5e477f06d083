/*
 * lua_struct.c — the `struct` library of Redis scripts: binary packing of
 * numbers and strings by a format, answering as the struct 0.2 library that
 * redis-server 7.0 embeds:
 *
 *   pack(fmt, v1, ...)       the packed string
 *   unpack(fmt, s [,pos])    the values, then the position after them
 *   size(fmt)                the packed size (formats of fixed size only)
 *
 * Format letters:  > big endian   < little endian   ![n] max alignment n
 * (power of 2, default 8)   x pad byte   b/B h/H l/L T  signed/unsigned char,
 * short, long, size_t   i/I[n] int of n bytes (default 4, at most 32)
 * f d  float, double   c[n] n chars (pack: 0 = whole string; unpack: 0 = the
 * previous number is the length)   s  zero-terminated string   ' ' ignored.
 * Anything else: "invalid format option 'X'".
 *
 * Integers go through C long (64 bits) and back to a Lua double, with the
 * conversions x86-64 performs for out-of-range values (what the Redis build
 * does), written here without undefined behaviour. Runs on the script's
 * worker thread, keyspace lock held.
 */
#include "kv/lua_libs.h"

#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ST_MAXINTSIZE 32
#define ST_MAXALIGN 8 /* alignment of double on x86-64 */

enum { ST_BIG, ST_LITTLE };

struct st_header {
    int endian;
    int align;
};

static int st_native(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b ? ST_LITTLE : ST_BIG;
}

static void st_defaults(struct st_header *h)
{
    h->endian = st_native();
    h->align = 1;
}

/* double -> int64 as cvttsd2si: out of range and NaN give INT64_MIN */
static int64_t st_d2i(double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)d;
}

/* double -> uint64 as gcc's x86-64 sequence: below 2^63 (or NaN) through
 * cvttsd2si, above it by subtracting 2^63 and setting the top bit */
static uint64_t st_d2u(double d)
{
    if (!(d >= 9223372036854775808.0))
        return (uint64_t)st_d2i(d);
    return (uint64_t)st_d2i(d - 9223372036854775808.0) ^ (UINT64_C(1) << 63);
}

/* a decimal number at *fmt (advanced past it), else df */
static int st_getnum(lua_State *L, const char **fmt, int df)
{
    if (!isdigit((unsigned char)**fmt))
        return df;
    int a = 0;
    do {
        if (a > INT_MAX / 10 || a * 10 > INT_MAX - (**fmt - '0'))
            luaL_error(L, "integral size overflow");
        a = a * 10 + (*(*fmt)++ - '0');
    } while (isdigit((unsigned char)**fmt));
    return a;
}

static size_t st_optsize(lua_State *L, int opt, const char **fmt)
{
    switch (opt) {
    case 'B': case 'b': return sizeof(char);
    case 'H': case 'h': return sizeof(short);
    case 'L': case 'l': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return (size_t)st_getnum(L, fmt, 1);
    case 'i': case 'I': {
        int sz = st_getnum(L, fmt, (int)sizeof(int));
        if (sz > ST_MAXINTSIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", sz, ST_MAXINTSIZE);
        return (size_t)sz;
    }
    default: return 0;
    }
}

/* padding bytes that align an item of size at offset len */
static size_t st_toalign(size_t len, const struct st_header *h, int opt, size_t size)
{
    if (size == 0 || opt == 'c')
        return 0;
    if (size > (size_t)h->align)
        size = (size_t)h->align;
    return (size - (len & (size - 1))) & (size - 1);
}

static void st_control(lua_State *L, int opt, const char **fmt, struct st_header *h)
{
    switch (opt) {
    case ' ':
        return;
    case '>':
        h->endian = ST_BIG;
        return;
    case '<':
        h->endian = ST_LITTLE;
        return;
    case '!': {
        int a = st_getnum(L, fmt, ST_MAXALIGN);
        if (!(a > 0 && (a & (a - 1)) == 0))
            luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default: {
        const char *msg = lua_pushfstring(L, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

static void st_putint(lua_State *L, luaL_Buffer *b, int arg, int endian, size_t size)
{
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t v = n < 0 ? (uint64_t)st_d2i(n) : st_d2u(n);
    char buf[ST_MAXINTSIZE];
    for (size_t i = 0; i < size; i++) {
        size_t at = endian == ST_LITTLE ? i : size - 1 - i;
        buf[at] = (char)(v & 0xff);
        v >>= 8;
    }
    luaL_addlstring(b, buf, size);
}

/* n bytes from native order to the requested one (or back) */
static void st_order(char *p, size_t n, int endian)
{
    if (endian == st_native())
        return;
    for (size_t i = 0; i < n / 2; i++) {
        char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static int st_pack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct st_header h;
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    st_defaults(&h);
    lua_pushnil(L); /* separates the arguments from the buffer */
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        size_t pad = st_toalign(total, &h, opt, size);
        total += pad;
        while (pad-- > 0)
            luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            st_putint(L, &b, arg++, h.endian, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            char p[sizeof f];
            memcpy(p, &f, sizeof f);
            st_order(p, sizeof p, h.endian);
            luaL_addlstring(&b, p, sizeof p);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            char p[sizeof d];
            memcpy(p, &d, sizeof d);
            st_order(p, sizeof p, h.endian);
            luaL_addlstring(&b, p, sizeof p);
            break;
        }
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0)
                size = l;
            /* Redis names the argument after this one */
            luaL_argcheck(L, l >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            st_control(L, opt, &fmt, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number st_getint(const char *p, int endian, int issigned, size_t size)
{
    uint64_t l = 0;
    for (size_t i = 0; i < size; i++) {
        size_t at = endian == ST_BIG ? i : size - 1 - i;
        l = (l << 8) | (unsigned char)p[at];
    }
    if (!issigned)
        return (lua_Number)l;
    /* the shift count wraps at 64 as on x86-64 (sizes above 8 and 0) */
    uint64_t mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
    if (l & mask)
        l |= mask;
    int64_t v;
    memcpy(&v, &l, sizeof v);
    return (lua_Number)v;
}

static int st_unpack(lua_State *L)
{
    struct st_header h;
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    int n = 0;
    st_defaults(&h);
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_toalign(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            lua_pushnumber(L, st_getint(data + pos, h.endian, islower(opt), size));
            n++;
            break;
        case 'x':
            break;
        case 'f': {
            float f;
            char p[sizeof f];
            memcpy(p, data + pos, size);
            st_order(p, sizeof p, h.endian);
            memcpy(&f, p, sizeof f);
            lua_pushnumber(L, (lua_Number)f);
            n++;
            break;
        }
        case 'd': {
            double d;
            char p[sizeof d];
            memcpy(p, data + pos, size);
            st_order(p, sizeof p, h.endian);
            memcpy(&d, p, sizeof d);
            lua_pushnumber(L, (lua_Number)d);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)st_d2u(lua_tonumber(L, -1));
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        case 's': {
            const char *e = memchr(data + pos, '\0', ld - pos);
            if (!e)
                luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default:
            st_control(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return n + 1;
}

static int st_size(lua_State *L)
{
    struct st_header h;
    const char *fmt = luaL_checkstring(L, 1);
    size_t pos = 0;
    st_defaults(&h);
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_toalign(pos, &h, opt, size);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum(opt))
            st_control(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int kv_lua_open_struct(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"pack", st_pack},
        {"unpack", st_unpack},
        {"size", st_size},
        {NULL, NULL},
    };
    luaL_register(L, "struct", fns);
    return 1;
}
