"""
test_kv_lua_libs.py — the Lua libraries of Redis scripts (cmsgpack, struct,
cjson, bit) proven by difference: a generated set of EVAL scripts (fixed seed,
several hundred cases: every msgpack size class and type, nested tables,
arrays against maps, int/double boundaries, malformed and truncated input,
struct formats with every letter, endianness, alignment and error) runs
against scaleout kv and Debian's redis-server, and the raw reply bytes must be
equal. A missing redis-server fails the test.
"""
import random
import struct as pystruct

import pytest

from conftest import REDIS_SERVER, RespConn, RespError, start_server

SEED = 20260

# Lua value printer: exact, type-tagged, keys sorted, so a decoded table
# compares by content (a map's key order is not part of the contract).
PRELUDE = r"""
local function dump(v, d)
  d = d or 0
  local t = type(v)
  if t == 'number' then return string.format('n:%.17g', v)
  elseif t == 'string' then return 's:' .. string.format('%q', v)
  elseif t == 'table' then
    if d > 40 then return 'deep' end
    local out = {}
    for k, x in pairs(v) do out[#out + 1] = dump(k, d + 1) .. '=' .. dump(x, d + 1) end
    table.sort(out)
    return '{' .. table.concat(out, ',') .. '}'
  end
  if t == 'boolean' or t == 'nil' then return t .. ':' .. tostring(v) end
  return t
end
local function all(...) return dump({n = select('#', ...), ...}) end
local function try(f, ...) return all(pcall(f, ...)) end
"""

INTS = [0, 1, 2, 31, 32, 100, 127, 128, 200, 255, 256, 1000, 32767, 32768, 65535, 65536,
        100000, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**53, 2**53 + 2, 2**62, 2**63 - 1024]
INTS = INTS + [-i for i in INTS if i] + [-33, -32, -129, -128, -32769, -32768, -2**31 - 1,
                                          -2**31, -2**63]
FLOATS = ["0.5", "-0.5", "1/3", "1e300", "-1e300", "1e-300", "3.4028234663852886e38", "1e-45",
          "1.5", "-2.25", "(-0.0)", "(1/0)", "(-1/0)", "2^63", "-(2^63)", "2^64", "2^70", "-(2^64)",
          "0.1", "123456.789", "2^-149", "16777217", "16777216.5"]
STR_LENS = [0, 1, 5, 31, 32, 33, 100, 255, 256, 1000, 65535, 65536, 70000]


def lua_int(n):
    if abs(n) <= 2**53:
        return f"({n})"
    return f"({n // 1024}*1024)" if n % 1024 == 0 else f"({n})"


def lua_str(rnd, n):
    if n > 40:
        return f"string.rep('{rnd.choice('abxyz')}', {n})"
    return "'" + "".join(rnd.choice("abc01 ~") for _ in range(n)) + "'"


def gen_value(rnd, depth=0):
    k = rnd.randrange(10 if depth < 4 else 6)
    if k == 0:
        return lua_int(rnd.choice(INTS))
    if k == 1:
        return rnd.choice(FLOATS)
    if k == 2:
        return lua_str(rnd, rnd.choice(STR_LENS[:8]))
    if k == 3:
        return rnd.choice(["true", "false", "nil"])
    if k in (4, 5):
        return f"{lua_int(rnd.randrange(-10**6, 10**6))}"
    if k in (6, 7):  # array
        n = rnd.choice([0, 1, 3, 15, 16, 17])
        return "{" + ",".join(gen_value(rnd, depth + 1) for _ in range(n)) + "}"
    if k == 8:  # map with one string key (key order of bigger maps is Lua's)
        return "{" + f"k{rnd.randrange(100)}=" + gen_value(rnd, depth + 1) + "}"
    # odd keys: 0, negative, float, sparse, boolean
    key = rnd.choice(["[0]", "[-1]", "[1.5]", "[3]", "[true]", "[2^31]", "[1]"])
    return "{" + key + "=" + gen_value(rnd, depth + 1) + "}"


# ---- a msgpack writer in Python, including forms Redis never writes ---------

def mp(rnd, depth=0):
    k = rnd.randrange(16 if depth < 3 else 11)
    if k == 0:
        return bytes([rnd.randrange(128)])
    if k == 1:
        return bytes([rnd.randrange(0xe0, 0x100)])
    if k == 2:
        t = rnd.choice([0xcc, 0xcd, 0xce, 0xcf])
        n = 1 << (t - 0xcc)
        return bytes([t]) + rnd.getrandbits(8 * n).to_bytes(n, "big")
    if k == 3:
        t = rnd.choice([0xd0, 0xd1, 0xd2, 0xd3])
        n = 1 << (t - 0xd0)
        return bytes([t]) + rnd.getrandbits(8 * n).to_bytes(n, "big")
    if k == 4:
        return b"\xca" + pystruct.pack(">f", rnd.choice([0.5, -1.25, 1e30, float("inf"), 3.0]))
    if k == 5:
        return b"\xcb" + pystruct.pack(">d", rnd.choice([0.1, -1e300, float("-inf"), 2.0**63]))
    if k == 6:
        return bytes([rnd.choice([0xc0, 0xc2, 0xc3])])
    if k in (7, 8):
        s = bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 3, 31])))
        return bytes([0xa0 | len(s)]) + s
    if k == 9:
        n = rnd.choice([0, 5, 40, 300])
        s = b"s" * n
        t = rnd.choice([0xd9, 0xda, 0xdb])
        w = {0xd9: 1, 0xda: 2, 0xdb: 4}[t]
        if n >= 1 << (8 * w):
            t, w = 0xda, 2
        return bytes([t]) + n.to_bytes(w, "big") + s
    if k == 10:  # what Redis does not decode
        return bytes([rnd.choice([0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xd4, 0xd5, 0xd8])]) + b"\x01\x02\x03"
    n = rnd.choice([0, 1, 2, 4])
    if k in (11, 12, 13):
        items = b"".join(mp(rnd, depth + 1) for _ in range(n))
        hdr = rnd.choice(["fix", 0xdc, 0xdd])
        if hdr == "fix":
            return bytes([0x90 | n]) + items
        return bytes([hdr]) + n.to_bytes(2 if hdr == 0xdc else 4, "big") + items
    items = b"".join(mp(rnd, depth + 1) + mp(rnd, depth + 1) for _ in range(n))
    hdr = rnd.choice(["fix", 0xde, 0xdf])
    if hdr == "fix":
        return bytes([0x80 | n]) + items
    return bytes([hdr]) + n.to_bytes(2 if hdr == 0xde else 4, "big") + items


# ---- the cases: (script body, argv) ---------------------------------------------

def cases():
    rnd = random.Random(SEED)
    out = []
    add = lambda body, *argv: out.append((PRELUDE + body, [bytes(a) if isinstance(a, (bytes, bytearray)) else str(a).encode() for a in argv]))

    # cmsgpack.pack: every number class, string class, type; the bytes and
    # the round trip through unpack
    for n in INTS:
        add(f"local p = cmsgpack.pack({lua_int(n)}) return {{p, all(cmsgpack.unpack(p))}}")
    for f in FLOATS + ["(0/0)"]:
        add(f"local p = cmsgpack.pack({f}) return {{p, all(cmsgpack.unpack(p))}}")
    for n in STR_LENS:
        add(f"local p = cmsgpack.pack(string.rep('q', {n})) return {{string.sub(p, 1, 8), #p, all(#cmsgpack.unpack(p))}}")
    for n in [0, 1, 15, 16, 65535, 65536]:
        add(f"local t = {{}} for i = 1, {n} do t[i] = i % 7 end local p = cmsgpack.pack(t) "
            f"return {{string.sub(p, 1, 12), #p, #cmsgpack.unpack(p)}}")
        add(f"local t = {{}} for i = 1, {n} do t['k' .. i] = true end local p = cmsgpack.pack(t) "
            f"return {{string.sub(p, 1, 3), #p, all(#p)}}")
    fixed = [
        "cmsgpack.pack()", "cmsgpack.pack(nil)", "cmsgpack.pack(true, false, nil, 1)",
        "cmsgpack.pack({})", "cmsgpack.pack({1, 2, nil, 4})", "cmsgpack.pack({nil, nil, 3})",
        "cmsgpack.pack({[1]=1, [2]=2, [4]=4})", "cmsgpack.pack({[0]=0, 1})",
        "cmsgpack.pack({a={b={c={}}}})", "cmsgpack.pack(print)", "cmsgpack.pack(function() end)",
        "cmsgpack.pack(coroutine.create(function() end))",
        "(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()",
        "(function() local t = {} t.self = t return cmsgpack.pack(t) end)()",
        "(function() local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t) end)()",
        "cmsgpack.pack(unpack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}))",
        "cmsgpack.pack('a', {x=1}, 3.5, {1, {2, {3}}})",
        "cmsgpack.unpack('')", "cmsgpack.unpack()", "cmsgpack.unpack({})", "cmsgpack.unpack(12)",
        "cmsgpack.unpack_one('')", "cmsgpack.unpack_one()", "cmsgpack.unpack_limit('')",
        "cmsgpack.unpack_limit('abc')", "cmsgpack.unpack_limit('\\1\\2\\3', 'x')",
        "cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION",
        "cmsgpack.unpack(cmsgpack.pack({1, 2, 3}, 'x', {a='b'}))",
        "cmsgpack.unpack(string.rep('\\145', 20000))",
        "cmsgpack.unpack(string.rep('\\145', 100) .. '\\1')",
        "cmsgpack.unpack(string.rep('\\1', 10000))",
        "#{cmsgpack.unpack(string.rep('\\1', 7000))}",
        "cmsgpack.unpack('\\129\\192\\1')", "cmsgpack.unpack('\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1')",
        "cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')",
        "cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0')",
        "cmsgpack.unpack('\\211\\255\\255\\255\\255\\255\\255\\255\\255')",
        "cmsgpack.unpack('\\207\\0\\32\\0\\0\\0\\0\\0\\1')",
        "cmsgpack.unpack('\\220\\0\\2\\1')", "cmsgpack.unpack('\\221\\255\\255\\255\\255')",
        "cmsgpack.unpack('\\219\\255\\255\\255\\255abc')", "cmsgpack.unpack('\\217')",
        "cmsgpack.unpack('\\196\\1a')", "cmsgpack.unpack('\\193')",
        "rawset(cmsgpack, 'x', 1)", "(function() cmsgpack.pack = nil end)()",
        "(function() struct.pack = nil end)()",
        "(function() local f = cmsgpack.unpack return f('\\193') end)()",
    ]
    for e in fixed:
        add(f"return try(function() return {e} end)")
    # unpack_one / unpack_limit stepping through a stream, offsets and limits
    stream = "cmsgpack.pack(1, 'two', {3}, {four=4}, 5.5)"
    for off in [0, 1, 2, 5, 6, 7, 100, -1, 2**31, 2**32 + 1, "1.9", "'3'"]:
        add(f"return try(cmsgpack.unpack_one, {stream}, {off})")
        for lim in [0, 1, 2, 5, 9, -1]:
            add(f"return try(cmsgpack.unpack_limit, {stream}, {lim}, {off})")
    add(f"local s = {stream} local out, off = {{}}, 0 "
        "while off >= 0 do local r = {cmsgpack.unpack_one(s, off)} off = r[1] out[#out + 1] = dump(r) end "
        "return out")
    # random values: pack bytes and round trip
    for _ in range(220):
        v = gen_value(rnd)
        add(f"return try(function() local p = cmsgpack.pack({v}) return p, all(cmsgpack.unpack(p)) end)")
    for _ in range(30):
        vs = ", ".join(gen_value(rnd, 2) for _ in range(rnd.randrange(1, 5)))
        add(f"return try(function() local p = cmsgpack.pack({vs}) return p, all(cmsgpack.unpack(p)) end)")
    # random msgpack input, whole and cut short
    for _ in range(200):
        b = b"".join(mp(rnd) for _ in range(rnd.randrange(1, 4)))
        if rnd.random() < 0.3 and len(b) > 1:
            b = b[:rnd.randrange(1, len(b))]
        fn = rnd.choice(["cmsgpack.unpack", "cmsgpack.unpack", "cmsgpack.unpack_one", "cmsgpack.unpack_limit"])
        extra = ", 2" if fn.endswith("limit") else ""
        add(f"return try({fn}, ARGV[1]{extra})", b)

    # struct: formats with every letter, endianness and alignment
    ints = ["b", "B", "h", "H", "l", "L", "T", "i", "I", "i1", "I2", "i3", "I5", "i7", "i8", "I8",
            "i16", "I16", "i32"]
    vals = ["0", "1", "-1", "127", "128", "255", "256", "-128", "-129", "65535", "-32768",
            "2^31", "-(2^31)", "2^32", "2^53", "-(2^53)", "2^63", "-(2^63)", "2^64", "2^70",
            "-(2^70)", "1.9", "-1.9", "(0/0)", "(1/0)", "(-1/0)", "'12'", "'0x10'"]
    for f in ints:
        for v in rnd.sample(vals, 8):
            for e in ["", ">", "<"]:
                add(f"return try(function() local p = struct.pack('{e}{f}', {v}) "
                    f"return p, all(struct.unpack('{e}{f}', p)) end)")
    for f in ["f", "d", ">f", "<d", ">d", "<f"]:
        for v in ["0", "1.5", "-0.1", "1e300", "(1/0)", "(0/0)", "3.4e38", "1e-40", "2^24+1"]:
            add(f"return try(function() local p = struct.pack('{f}', {v}) "
                f"return p, all(struct.unpack('{f}', p)) end)")
    letters = ["b", "B", "h", "H", "l", "L", "i", "I4", "I2", "d", "f", "x", "c3", "s", " ", "!", "!2",
               "!4", "!8", "!1", ">", "<", "T"]
    for _ in range(150):
        fmt = "".join(rnd.choice(letters) for _ in range(rnd.randrange(1, 7)))
        args = []
        for ch in fmt:
            if ch in "bBhHlLiITdf":
                args.append(str(rnd.choice([0, 1, 7, 100, 1000, 70000])))
            elif ch == "c":
                args.append("'abcdef'")
            elif ch == "s":
                args.append("'zz'")
        a = ", ".join([f"'{fmt}'"] + args)
        add(f"return try(function() local p = struct.pack({a}) "
            f"return p, all(struct.unpack('{fmt}', p)), all(pcall(struct.size, '{fmt}')) end)")
    struct_fixed = [
        "struct.pack('y', 1)", "struct.pack('!3i', 1)", "struct.pack('i33', 1)", "struct.pack('i0', 1)",
        "struct.pack('i99999999999', 1)", "struct.pack('c99999999999', 'a')", "struct.pack('c', 'abc')",
        "struct.pack('c5', 'abc')", "struct.pack('c0', 'abc')", "struct.pack('s', 'a\\0b')",
        "struct.pack('i')", "struct.pack('i', 'x')", "struct.pack('c2i', 'ab')", "struct.pack()",
        "struct.pack(12, 1)", "struct.pack({}, 1)", "struct.pack('%', 1)", "struct.pack('!', 1)",
        "struct.pack('!0i', 1)", "struct.pack('!16d', 1)", "struct.pack('bxi', 1, 2)",
        "struct.pack('!4bxi', 1, 2)", "struct.pack('!2bd', 1, 2)", "struct.pack('!bd', 1, 2)",
        "struct.pack('<i3', -2)", "struct.pack('>I3', 2^24 + 5)",
        "struct.unpack('i', '')", "struct.unpack('i', 'abc')", "struct.unpack('i', 'abcd', 0)",
        "struct.unpack('i', 'abcd', -1)", "struct.unpack('i', 'abcdabcd', 5)",
        "struct.unpack('i', 'abcdabcd', 6)", "struct.unpack('i', 'abcd', 2^40)",
        "struct.unpack('s', 'abc')", "struct.unpack('s', 'ab\\0cd\\0', 4)", "struct.unpack('ss', 'ab\\0cd\\0')",
        "struct.unpack('c0', 'abc')", "struct.unpack('bc0', '\\2abc')", "struct.unpack('bc0', '\\9abc')",
        "struct.unpack('Bc0', '\\255abc')", "struct.unpack('sc0', '3\\0abc')", "struct.unpack('bc0', '\\255abc')",
        "struct.unpack('q', 'abc')", "struct.unpack('i16', string.rep('\\255', 16))",
        "struct.unpack('I16', string.rep('\\255', 16))", "struct.unpack('i0', 'x')",
        "struct.unpack('>i9', '\\128\\0\\0\\0\\0\\0\\0\\0\\1')", "struct.unpack('<i12', string.rep('\\1', 12))",
        "struct.unpack('i32', string.rep('\\128', 32))", "struct.unpack('I32', string.rep('\\255', 32))",
        "struct.unpack('c2', 'abc', 2)", "struct.unpack('c2', 'abc', 3)", "struct.unpack('x', '')",
        "struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0\\0')", "struct.unpack()", "struct.unpack('i')",
        "struct.unpack('i', 'abcd', 'x')", "struct.unpack('i', 'abcd', 1.5)",
        "struct.size('s')", "struct.size('c0')", "struct.size('i')", "struct.size('!8bd')", "struct.size('bd')",
        "struct.size('y')", "struct.size('!3')", "struct.size('c12i')", "struct.size('i40')", "struct.size('')",
        "struct.size('>!4hxL')", "struct.size()", "struct.size('!i')", "struct.size('x!4i')",
        "#struct.pack('c10000', string.rep('a', 20000))",
        "#struct.pack(string.rep('b', 100), unpack((function() local t = {} for i = 1, 100 do t[i] = i end return t end)()))",
        "select('#', struct.unpack(string.rep('b', 3000), string.rep('a', 3000)))",
        "select('#', struct.unpack(string.rep('b', 9000), string.rep('a', 9000)))",
    ]
    for e in struct_fixed:
        add(f"return try(function() return {e} end)")

    # cjson and bit: the same as Redis's builtins
    cj = ["cjson.encode({1, 2, 3})", "cjson.encode({a=1})", "cjson.encode({})", "cjson.encode('x\\0y\"\\n/')",
          "cjson.encode(1.5)", "cjson.encode(1e300)", "cjson.encode(0/0)", "cjson.encode(1/0)",
          "cjson.encode({[1]=1, [3]=3})", "cjson.encode({[1]=1, [30]=3})", "cjson.encode({[1.5]=1})",
          "cjson.encode(print)", "cjson.encode(nil)", "cjson.encode(cjson.null)", "cjson.encode(true)",
          "cjson.encode(2^53)", "cjson.encode(0.1)", "cjson.encode(-0.0)", "cjson.encode(123456789012)",
          "cjson.decode('[1,2,{\"a\":null}]')", "cjson.decode('{\"a\":[true,false]}')", "cjson.decode('1e400')",
          "cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", "cjson.decode('[1,2')", "cjson.decode('')",
          "cjson.decode('nan')", "cjson.decode('0x10')", "cjson.decode('  7  ')", "cjson.decode('[]')",
          "cjson.decode('{}')", "cjson.decode('\"abc')", "cjson.decode(string.rep('[', 1100) .. string.rep(']', 1100))",
          "cjson.encode((function() local t = {} local c = t for i = 1, 1100 do c[1] = {} c = c[1] end return t end)())",
          "cjson.encode_keep_buffer", "cjson.encode_max_depth", "cjson.decode_max_depth", "cjson.encode_number_precision",
          "cjson.encode_sparse_array", "cjson.encode_invalid_numbers", "cjson.decode_invalid_numbers",
          "cjson._NAME, cjson._VERSION", "cjson.decode('[1, 2, 3]', 1)", "cjson.encode()",
          "type(cjson.null), cjson.null == nil", "cjson.encode({a={b={c={1,2,{d='e'}}}}})"]
    for e in cj:
        add(f"return try(function() return {e} end)")
    bitops = ["tobit", "tohex", "bnot", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror", "bswap"]
    bvals = ["0", "1", "-1", "2^31", "2^32", "2^32+5", "-(2^31)", "0xdeadbeef", "1.5", "-1.5", "2^52+7", "'12'",
             "0x7fffffff", "31", "32", "33", "-3"]
    for op in bitops:
        for _ in range(8):
            a = ", ".join(rnd.choice(bvals) for _ in range(1 if op in ("tobit", "bnot", "bswap") else 2))
            add(f"return try(bit.{op}, {a})")
    add("return try(bit.tohex, 255, -4)")
    add("return try(bit.tohex, 255, 12)")
    add("return try(bit.band)")
    add("return try(bit.band, 'x', 1)")
    add("return try(function() return bit.band(1, 3, 7, 15) end)")
    # errors that reach the client unconverted (Redis's error reply text)
    for e in ["cmsgpack.pack()", "cmsgpack.unpack('\\193')", "cmsgpack.unpack('\\146\\1')",
              "struct.pack('y')", "struct.unpack('i', 'a')", "struct.size('s')",
              "cmsgpack.unpack_limit('\\1', -1)", "cmsgpack.unpack_one('\\1', 9)",
              "cmsgpack.unpack('\\129\\192\\1')", "bit.band('x')", "cjson.decode('[')"]:
        add(f"return {e}")
    # FUNCTION libraries see them too
    return out


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the comparison needs it (scripts/install-deps.sh)")
    so = start_server("scaleout", tmp_path_factory.mktemp("lualibs-so"))
    rd = start_server("redis", tmp_path_factory.mktemp("lualibs-rd"))
    yield so, rd
    so.stop()
    rd.stop()


def _run(conn, body, argv):
    conn.cmd("EVAL", body, "0", *argv)
    return conn.last_raw


def test_lua_libs_same_as_redis(pair):
    so, rd = pair
    a, b = RespConn(so.port), RespConn(rd.port)
    cs = cases()
    assert len(cs) > 600
    diffs = []
    for body, argv in cs:
        x, y = _run(a, body, argv), _run(b, body, argv)
        if x != y:
            diffs.append((body[len(PRELUDE):], argv, x[:400], y[:400]))
    a.close()
    b.close()
    assert so.alive() and rd.alive()
    report = "\n".join(f"script: {d[0]}\nargv: {d[1]!r}\n  scaleout: {d[2][:160]!r}\n  redis:    {d[3][:160]!r}"
                       for d in diffs[:40])
    assert not diffs, f"{len(diffs)} of {len(cs)} scripts differ:\n{report}"


def test_lua_libs_in_function_load(pair):
    """A FUNCTION LOAD library body sees none of the libraries while it loads
    (redis-server 7.0.15's error for each), its functions see all of them."""
    for s in pair:
        c = RespConn(s.port)
        for lib in ["cmsgpack", "struct", "cjson", "bit", "string", "math", "table"]:
            body = (f"#!lua name=t{lib}\nlocal x = {lib}.foo\n"
                    "redis.register_function('f', function() return 1 end)\n")
            assert c.cmd("FUNCTION", "LOAD", "REPLACE", body) == RespError(
                "ERR Error registering functions: ERR user_function:2: Script attempted to access "
                f"nonexistent global variable '{lib}'")
        c.close()
    lib = ("#!lua name=libs\n"
           "redis.register_function('f', function(keys, args) "
           "return {cmsgpack.pack({1, 'a'}), struct.pack('>H', 258), cmsgpack.unpack(args[1])[2], "
           "struct.unpack('>H', args[2])} end)\n")
    outs = []
    for s in pair:
        c = RespConn(s.port)
        assert c.cmd("FUNCTION", "LOAD", "REPLACE", lib) == b"libs"
        c.cmd("FCALL", "f", "0", b"\x92\x01\xa2hi", b"\x01\x02")
        outs.append(c.last_raw)
        c.close()
    assert outs[0] == outs[1], outs
    assert outs[0] == b"*5\r\n$4\r\n\x92\x01\xa1a\r\n$2\r\n\x01\x02\r\n$2\r\nhi\r\n:258\r\n:3\r\n"
