/*
 * test_lua_libs.c — unit tests of kv/lua_cmsgpack.c and kv/lua_struct.c on a
 * bare Lua state (no server): the exact bytes of every msgpack size class,
 * round trips, the error texts, struct formats with endianness and alignment.
 * The full comparison with redis-server is tests/integration/test_kv_lua_libs.py.
 */
#include <criterion/criterion.h>

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include "kv/lua_libs.h"

static lua_State *L;

static void up(void)
{
    L = luaL_newstate();
    luaL_openlibs(L);
    kv_lua_open_cmsgpack(L);
    kv_lua_open_struct(L);
    lua_settop(L, 0);
}

static void down(void) { lua_close(L); }

TestSuite(lua_libs, .init = up, .fini = down);

/* run chunk; its first result as a string (or the error text) in out */
static int run(const char *chunk, char *out, size_t cap, size_t *len)
{
    lua_settop(L, 0);
    int rc = luaL_loadstring(L, chunk);
    if (rc == 0)
        rc = lua_pcall(L, 0, 1, 0);
    size_t n = 0;
    const char *s = lua_tolstring(L, -1, &n);
    if (!s) {
        s = "(nil)";
        n = 5;
    }
    cr_assert(n < cap, "result too long: %zu", n);
    memcpy(out, s, n);
    out[n] = '\0';
    if (len)
        *len = n;
    return rc;
}

static void expect_bytes(const char *chunk, const char *want, size_t wlen)
{
    char out[256];
    size_t n;
    cr_assert_eq(run(chunk, out, sizeof out, &n), 0, "%s: %s", chunk, out);
    cr_assert_eq(n, wlen, "%s: %zu bytes, want %zu", chunk, n, wlen);
    cr_assert(memcmp(out, want, wlen) == 0, "%s: wrong bytes", chunk);
}

static void expect_str(const char *chunk, const char *want)
{
    char out[512];
    cr_assert_eq(run(chunk, out, sizeof out, NULL), 0, "%s: %s", chunk, out);
    cr_assert_str_eq(out, want, "%s", chunk);
}

static void expect_err(const char *chunk, const char *want)
{
    char out[512];
    cr_assert_neq(run(chunk, out, sizeof out, NULL), 0, "%s did not fail", chunk);
    cr_assert(strstr(out, want), "%s: got '%s', want '%s'", chunk, out, want);
}

#define B(chunk, lit) expect_bytes(chunk, lit, sizeof(lit) - 1)

Test(lua_libs, pack_integers_every_class)
{
    B("return cmsgpack.pack(0)", "\x00");
    B("return cmsgpack.pack(127)", "\x7f");
    B("return cmsgpack.pack(128)", "\xcc\x80");
    B("return cmsgpack.pack(256)", "\xcd\x01\x00");
    B("return cmsgpack.pack(65536)", "\xce\x00\x01\x00\x00");
    B("return cmsgpack.pack(2^32)", "\xcf\x00\x00\x00\x01\x00\x00\x00\x00");
    B("return cmsgpack.pack(-32)", "\xe0");
    B("return cmsgpack.pack(-33)", "\xd0\xdf");
    B("return cmsgpack.pack(-129)", "\xd1\xff\x7f");
    B("return cmsgpack.pack(-32769)", "\xd2\xff\xff\x7f\xff");
    B("return cmsgpack.pack(-2^31-1)", "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff");
}

Test(lua_libs, pack_doubles_strings_tables)
{
    B("return cmsgpack.pack(1.5)", "\xca\x3f\xc0\x00\x00");
    B("return cmsgpack.pack(0.1)", "\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a");
    B("return cmsgpack.pack(2^63)", "\xca\x5f\x00\x00\x00");
    B("return cmsgpack.pack('ab')", "\xa2" "ab");
    B("return string.sub(cmsgpack.pack(string.rep('x', 32)), 1, 3)", "\xd9\x20x");
    B("return string.sub(cmsgpack.pack(string.rep('x', 256)), 1, 4)", "\xda\x01\x00x");
    B("return string.sub(cmsgpack.pack(string.rep('x', 65536)), 1, 6)", "\xdb\x00\x01\x00\x00x");
    B("return cmsgpack.pack({})", "\x90");
    B("return cmsgpack.pack({1, true, false})", "\x93\x01\xc3\xc2");
    B("return cmsgpack.pack({a = 1})", "\x81\xa1" "a\x01");
    B("return cmsgpack.pack({[2] = 1})", "\x81\x02\x01");
    B("return cmsgpack.pack(nil, print)", "\xc0\xc0");
    B("local t = {} t[1] = t return cmsgpack.pack(t)",
      "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0");
}

Test(lua_libs, unpack_and_stream)
{
    expect_str("return cmsgpack.unpack('\\205\\1\\0')", "256");
    expect_str("return cmsgpack.unpack('\\208\\128')", "-128");
    expect_str("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')", "-1");
    expect_str("return cmsgpack.unpack('\\146\\1\\161a')[2]", "a");
    expect_str("return select('#', cmsgpack.unpack(cmsgpack.pack(1, 2, 3)))", "3");
    expect_str("local s = cmsgpack.pack(1, 2) local o, v = cmsgpack.unpack_one(s) return o .. ',' .. v", "1,1");
    expect_str("local s = cmsgpack.pack(1, 2) local o, v = cmsgpack.unpack_one(s, 1) return o .. ',' .. v", "-1,2");
    expect_str("local s = cmsgpack.pack(1, 2, 3) return select('#', cmsgpack.unpack_limit(s, 2))", "3");
    expect_str("return select('#', cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0))", "3");
}

Test(lua_libs, unpack_errors)
{
    expect_err("return cmsgpack.pack()", "bad argument #0 to 'pack' (MessagePack pack needs input.)");
    expect_err("return cmsgpack.unpack('\\193')", "Bad data format in input.");
    expect_err("return cmsgpack.unpack('\\196\\1a')", "Bad data format in input.");
    expect_err("return cmsgpack.unpack('\\146\\1')", "Missing bytes in input.");
    expect_err("return cmsgpack.unpack('\\217')", "Missing bytes in input.");
    expect_err("return cmsgpack.unpack('\\129\\192\\1')", "table index is nil");
    expect_err("return cmsgpack.unpack_one('ab', 5)", "Start offset 5 greater than input length 2.");
    expect_err("return cmsgpack.unpack_limit('ab', -1)", "Invalid request to unpack with offset of 0 and limit of 2.");
    expect_err("return cmsgpack.unpack(string.rep('\\145', 20000))", "stack overflow");
}

Test(lua_libs, struct_pack_unpack)
{
    B("return struct.pack('>i', 1)", "\x00\x00\x00\x01");
    B("return struct.pack('<h', -2)", "\xfe\xff");
    B("return struct.pack('>I3', 2^24 + 5)", "\x00\x00\x05");
    B("return struct.pack('!4bi', 1, 2)", "\x01\x00\x00\x00\x02\x00\x00\x00");
    B("return struct.pack('bi', 1, 2)", "\x01\x02\x00\x00\x00");
    B("return struct.pack('>d', 1.5)", "\x3f\xf8\x00\x00\x00\x00\x00\x00");
    B("return struct.pack('<f', 1.5)", "\x00\x00\xc0\x3f");
    B("return struct.pack('c0sx', 'ab', 'cd')", "abcd\x00\x00");
    B("return struct.pack('>L', 2^64)", "\x00\x00\x00\x00\x00\x00\x00\x00");
    B("return struct.pack('>l', 0/0)", "\x80\x00\x00\x00\x00\x00\x00\x00");
    expect_str("local a, b = struct.unpack('>h', '\\255\\254') return a .. ',' .. b", "-2,3");
    expect_str("local a, b = struct.unpack('bc0', '\\2abc') return a .. ',' .. b", "ab,4");
    expect_str("return struct.unpack('s', 'ab\\0cd')", "ab");
    expect_str("return struct.unpack('i16', string.rep('\\255', 16))", "-1");
    expect_str("return struct.size('!8bd')", "16");
    expect_str("return struct.size('bd')", "9");
}

Test(lua_libs, struct_errors)
{
    expect_err("return struct.pack('y', 1)", "bad argument #1 to 'pack' (invalid format option 'y')");
    expect_err("return struct.pack('!3i', 1)", "alignment 3 is not a power of 2");
    expect_err("return struct.pack('i33', 1)", "integral size 33 is larger than limit of 32");
    expect_err("return struct.pack('i99999999999', 1)", "integral size overflow");
    expect_err("return struct.pack('c5', 'abc')", "bad argument #3 to 'pack' (string too short)");
    expect_err("return struct.unpack('i', 'abc')", "bad argument #2 to 'unpack' (data string too short)");
    expect_err("return struct.unpack('i', 'abcd', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)");
    expect_err("return struct.unpack('s', 'abc')", "unfinished string in data");
    expect_err("return struct.unpack('c0', 'abc')", "format 'c0' needs a previous size");
    expect_err("return struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)");
    expect_err("return struct.size('c0')", "bad argument #1 to 'size' (option 'c0' has no fixed size)");
}
