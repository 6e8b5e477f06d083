/*
 * lua_cmsgpack.c — the `cmsgpack` library of Redis scripts: MessagePack
 * encoding of Lua values (pack) and decoding (unpack, unpack_one,
 * unpack_limit), answering byte for byte as the lua-cmsgpack 0.4.0 that
 * redis-server 7.0 embeds:
 *
 *   pack(v1, ...)            the encodings of every argument, concatenated
 *   unpack(s)                every value of s
 *   unpack_one(s [,off])     next offset (-1 at the end), one value
 *   unpack_limit(s, n [,off]) next offset, up to n values (n = off = 0: all,
 *                            without the offset, as Redis)
 *
 * Encoding rules (those of Redis, which fix the wire form):
 *   nil / anything not listed  0xc0         booleans   0xc2 / 0xc3
 *   number equal to an int64   smallest int form (fixint, u8..u64, i8..i64)
 *   other number               float32 when exact, else float64
 *   string                     fixstr, str8, str16, str32 by length
 *   table with keys 1..n only  array (fixarray, array16, array32), else map;
 *                              tables nested deeper than 16 encode as nil
 * Decoding accepts what Redis accepts (no bin, ext, fixext: "Bad data format
 * in input."), and a truncated value is "Missing bytes in input.".
 *
 * The Lua stack is used exactly as Redis's library uses it (same checks, same
 * order), so even stack exhaustion on deep nesting fails the same way. Runs on
 * the worker thread that runs the script, keyspace lock held.
 */
#include "kv/lua_libs.h"

#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MP_MAX_NESTING 16

/* ---- output buffer -------------------------------------------------------------
 * A Lua userdata anchored in one stack slot of pack: growing it allocates a
 * new userdata through Lua (so a refused allocation is Lua's own memory error,
 * and the heap limit of scripts applies) and the old one becomes garbage; a
 * Lua error mid-encode leaks nothing. */

struct mp_buf {
    unsigned char *b;
    size_t len, cap;
    int slot; /* the stack index that holds the userdata */
};

static void mp_buf_append(lua_State *L, struct mp_buf *m, const void *p, size_t n)
{
    if (m->cap - m->len < n) {
        size_t ncap = m->cap ? m->cap : 64;
        while (ncap - m->len < n) {
            if (ncap > SIZE_MAX / 2)
                luaL_error(L, "not enough memory");
            ncap *= 2;
        }
        unsigned char *nb = lua_newuserdata(L, ncap);
        if (m->len)
            memcpy(nb, m->b, m->len);
        lua_replace(L, m->slot);
        m->b = nb;
        m->cap = ncap;
    }
    memcpy(m->b + m->len, p, n);
    m->len += n;
}

/* ---- encoding ----------------------------------------------------------------- */

static void put_be(unsigned char *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* a header byte followed by n big-endian bytes of v */
static void mp_put(lua_State *L, struct mp_buf *m, int tag, uint64_t v, int n)
{
    unsigned char h[9];
    int k = 0;
    if (tag >= 0)
        h[k++] = (unsigned char)tag;
    put_be(h + k, v, n);
    mp_buf_append(L, m, h, (size_t)(k + n));
}

static void mp_encode_int(lua_State *L, struct mp_buf *m, int64_t n)
{
    if (n >= 0) {
        if (n <= 127)
            mp_put(L, m, -1, (uint64_t)n, 1);
        else if (n <= 0xff)
            mp_put(L, m, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff)
            mp_put(L, m, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL)
            mp_put(L, m, 0xce, (uint64_t)n, 4);
        else
            mp_put(L, m, 0xcf, (uint64_t)n, 8);
    } else {
        uint64_t u = (uint64_t)n;
        if (n >= -32)
            mp_put(L, m, -1, u, 1);
        else if (n >= -128)
            mp_put(L, m, 0xd0, u, 1);
        else if (n >= -32768)
            mp_put(L, m, 0xd1, u, 2);
        else if (n >= -2147483648LL)
            mp_put(L, m, 0xd2, u, 4);
        else
            mp_put(L, m, 0xd3, u, 8);
    }
}

static void mp_encode_double(lua_State *L, struct mp_buf *m, double d)
{
    float f = (float)d;
    if (d == (double)f) {
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        mp_put(L, m, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        mp_put(L, m, 0xcb, u, 8);
    }
}

/* x is finite and equals the int64 it truncates to (Redis: IS_INT64_EQUIVALENT) */
static int is_int64(double x)
{
    return isfinite(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0 && (double)(int64_t)x == x;
}

/* x equals the C int it truncates to (Redis: IS_INT_EQUIVALENT) */
static int is_cint(double x)
{
    return isfinite(x) && x > (double)INT_MIN - 1.0 && x < (double)INT_MAX + 1.0 && (double)(int)x == x;
}

static void mp_encode_len(lua_State *L, struct mp_buf *m, size_t n, int fix, int fixmax, int t16, int t32)
{
    if (n <= (size_t)fixmax)
        mp_put(L, m, -1, (uint64_t)(fix | (int)n), 1);
    else if (n <= 0xffff)
        mp_put(L, m, t16, n, 2);
    else
        mp_put(L, m, t32, n & 0xffffffffu, 4);
}

static void mp_encode_string(lua_State *L, struct mp_buf *m)
{
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len < 32)
        mp_put(L, m, -1, 0xa0 | len, 1);
    else if (len <= 0xff)
        mp_put(L, m, 0xd9, len, 1);
    else if (len <= 0xffff)
        mp_put(L, m, 0xda, len, 2);
    else
        mp_put(L, m, 0xdb, len & 0xffffffffu, 4);
    mp_buf_append(L, m, s, len);
}

/* the table on top has only keys 1..n (n may be 0): Redis's table_is_an_array */
static int table_is_array(lua_State *L)
{
    int top = lua_gettop(L);
    int count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number n;
        if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || !is_cint(n)) {
            lua_settop(L, top);
            return 0;
        }
        if (n > max)
            max = (int)n;
        count++;
    }
    lua_settop(L, top);
    return max == count;
}

static void mp_encode_value(lua_State *L, struct mp_buf *m, int level);

static void mp_encode_table(lua_State *L, struct mp_buf *m, int level)
{
    if (table_is_array(L)) {
        size_t len = lua_objlen(L, -1);
        mp_encode_len(L, m, len, 0x90, 15, 0xdc, 0xdd);
        luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
        for (size_t j = 1; j <= len; j++) {
            lua_pushnumber(L, (lua_Number)j);
            lua_gettable(L, -2);
            mp_encode_value(L, m, level + 1);
        }
        return;
    }
    size_t len = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        len++;
    }
    mp_encode_len(L, m, len, 0x80, 15, 0xde, 0xdf);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        mp_encode_value(L, m, level + 1); /* the key */
        mp_encode_value(L, m, level + 1); /* the value */
    }
}

/* Encode the value on top of the stack and pop it. */
static void mp_encode_value(lua_State *L, struct mp_buf *m, int level)
{
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && level == MP_MAX_NESTING)
        t = LUA_TNIL;
    switch (t) {
    case LUA_TSTRING:
        mp_encode_string(L, m);
        break;
    case LUA_TBOOLEAN:
        mp_put(L, m, -1, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 1);
        break;
    case LUA_TNUMBER: {
        lua_Number n = lua_tonumber(L, -1);
        if (is_int64(n))
            mp_encode_int(L, m, (int64_t)lua_tointeger(L, -1));
        else
            mp_encode_double(L, m, (double)n);
        break;
    }
    case LUA_TTABLE:
        mp_encode_table(L, m, level);
        break;
    default:
        mp_put(L, m, -1, 0xc0, 1);
        break;
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    if (nargs == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs))
        return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    luaL_checkstack(L, 1, "in function mp_check");
    lua_pushnil(L); /* the buffer's slot */
    struct mp_buf m = {NULL, 0, 0, lua_gettop(L)};
    for (int i = 1; i <= nargs; i++) {
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        mp_encode_value(L, &m, 0);
    }
    lua_pushlstring(L, m.b ? (const char *)m.b : "", m.len);
    return 1;
}

/* ---- decoding ----------------------------------------------------------------- */

enum { MP_OK, MP_EOF, MP_BADFMT };

struct mp_cur {
    const unsigned char *p;
    size_t left;
    int err;
};

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

#define NEED(c, n)                 \
    do {                           \
        if ((c)->left < (n)) {     \
            (c)->err = MP_EOF;     \
            return;                \
        }                          \
    } while (0)

static void mp_consume(struct mp_cur *c, size_t n)
{
    c->p += n;
    c->left -= n;
}

static void mp_decode_value(lua_State *L, struct mp_cur *c);

static void mp_decode_array(lua_State *L, struct mp_cur *c, size_t len)
{
    lua_Number index = 1;
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    while (len--) {
        lua_pushnumber(L, index++);
        mp_decode_value(L, c);
        if (c->err)
            return;
        lua_settable(L, -3);
    }
}

static void mp_decode_map(lua_State *L, struct mp_cur *c, size_t len)
{
    lua_newtable(L);
    while (len--) {
        mp_decode_value(L, c);
        if (c->err)
            return;
        mp_decode_value(L, c);
        if (c->err)
            return;
        lua_settable(L, -3);
    }
}

/* a string of length from the n header bytes after the tag */
static void mp_decode_str(lua_State *L, struct mp_cur *c, int n)
{
    NEED(c, (size_t)(1 + n));
    size_t l = (size_t)get_be(c->p + 1, n);
    NEED(c, 1 + (size_t)n + l);
    lua_pushlstring(L, (const char *)c->p + 1 + n, l);
    mp_consume(c, 1 + (size_t)n + l);
}

static void mp_decode_value(lua_State *L, struct mp_cur *c)
{
    NEED(c, 1);
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char t = c->p[0];
    switch (t) {
    case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        int n = 1 << (t - 0xcc);
        NEED(c, (size_t)(1 + n));
        uint64_t u = get_be(c->p + 1, n);
        int64_t v; /* Redis reads uint64 into a signed integer: 2^63 and up turn negative */
        memcpy(&v, &u, sizeof v);
        lua_pushnumber(L, n == 8 ? (lua_Number)v : (lua_Number)u);
        mp_consume(c, (size_t)(1 + n));
        break;
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        int n = 1 << (t - 0xd0);
        NEED(c, (size_t)(1 + n));
        uint64_t u = get_be(c->p + 1, n);
        int64_t v;
        if (n < 8 && (u >> (n * 8 - 1)) & 1)
            u |= ~(uint64_t)0 << (n * 8); /* sign extension */
        memcpy(&v, &u, sizeof v);
        lua_pushnumber(L, (lua_Number)v);
        mp_consume(c, (size_t)(1 + n));
        break;
    }
    case 0xc0:
        lua_pushnil(L);
        mp_consume(c, 1);
        break;
    case 0xc2:
    case 0xc3:
        lua_pushboolean(L, t == 0xc3);
        mp_consume(c, 1);
        break;
    case 0xca: {
        NEED(c, 5);
        uint32_t u = (uint32_t)get_be(c->p + 1, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        lua_pushnumber(L, (lua_Number)f);
        mp_consume(c, 5);
        break;
    }
    case 0xcb: {
        NEED(c, 9);
        uint64_t u = get_be(c->p + 1, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        lua_pushnumber(L, (lua_Number)d);
        mp_consume(c, 9);
        break;
    }
    case 0xd9:
        mp_decode_str(L, c, 1);
        break;
    case 0xda:
        mp_decode_str(L, c, 2);
        break;
    case 0xdb:
        mp_decode_str(L, c, 4);
        break;
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
        int n = (t == 0xdc || t == 0xde) ? 2 : 4;
        NEED(c, (size_t)(1 + n));
        size_t l = (size_t)get_be(c->p + 1, n);
        mp_consume(c, (size_t)(1 + n));
        if (t <= 0xdd)
            mp_decode_array(L, c, l);
        else
            mp_decode_map(L, c, l);
        break;
    }
    default:
        if ((t & 0x80) == 0) { /* positive fixint */
            lua_pushnumber(L, (lua_Number)t);
            mp_consume(c, 1);
        } else if ((t & 0xe0) == 0xe0) { /* negative fixint */
            lua_pushinteger(L, (lua_Integer)(signed char)t);
            mp_consume(c, 1);
        } else if ((t & 0xe0) == 0xa0) { /* fixstr */
            size_t l = t & 0x1f;
            NEED(c, 1 + l);
            lua_pushlstring(L, (const char *)c->p + 1, l);
            mp_consume(c, 1 + l);
        } else if ((t & 0xf0) == 0x90) { /* fixarray */
            mp_consume(c, 1);
            mp_decode_array(L, c, t & 0xf);
        } else if ((t & 0xf0) == 0x80) { /* fixmap */
            mp_consume(c, 1);
            mp_decode_map(L, c, t & 0xf);
        } else {
            c->err = MP_BADFMT; /* bin, ext, fixext, 0xc1 */
        }
    }
}

/* what "%d" prints for a 64-bit argument on x86-64 (Redis passes lua_Integer
 * and size_t to %d): the low 32 bits */
static int low32(long long v) { return (int)(unsigned)(unsigned long long)v; }

/*
 * Decode up to limit values of the string at index 1 from byte offset; with
 * limit and offset both 0 every value and no offset (unpack). Returns the
 * number of results pushed; errors as Lua errors with Redis's texts.
 */
static int mp_unpack_full(lua_State *L, lua_Integer limit, lua_Integer offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = !limit && !offset;
    if (offset < 0 || limit < 0) /* Redis prints the length where it says limit */
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", low32(offset),
                          low32((long long)len));
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", low32(offset), low32((long long)len));
    if (all)
        limit = INT_MAX;
    struct mp_cur c = {(const unsigned char *)s + offset, len - (size_t)offset, MP_OK};
    int cnt;
    for (cnt = 0; c.left > 0 && cnt < limit; cnt++) {
        mp_decode_value(L, &c);
        if (c.err == MP_EOF)
            return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_BADFMT)
            return luaL_error(L, "Bad data format in input.");
    }
    if (!all) {
        int next = (int)(len - c.left);
        luaL_checkstack(L, 1, "in function mp_unpack_full");
        lua_pushinteger(L, c.left == 0 ? -1 : next);
        lua_insert(L, 2);
        cnt++;
    }
    return cnt;
}

static int mp_unpack(lua_State *L) { return mp_unpack_full(L, 0, 0); }

static int mp_unpack_one(lua_State *L)
{
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return mp_unpack_full(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return mp_unpack_full(L, limit, offset);
}

int kv_lua_open_cmsgpack(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"pack", mp_pack},
        {"unpack", mp_unpack},
        {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit},
    };
    lua_newtable(L);
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        lua_pushcfunction(L, fns[i].func);
        lua_setfield(L, -2, fns[i].name);
    }
    static const char *meta[][2] = {
        {"_NAME", "cmsgpack"},
        {"_VERSION", "lua-cmsgpack 0.4.0"},
        {"_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"},
        {"_DESCRIPTION", "MessagePack C implementation for Lua"},
    };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        lua_pushstring(L, meta[i][1]);
        lua_setfield(L, -2, meta[i][0]);
    }
    lua_pushvalue(L, -1);
    lua_setglobal(L, "cmsgpack");
    return 1;
}
