"""
BITFIELD and BITFIELD_RO: GET SET INCRBY on i1..i64 and u1..u63 fields,
OVERFLOW WRAP SAT FAIL, #n offsets, reads past the end, the growth of the
string, huge offsets refused with Redis's error (proto-max-bulk-len), and the
order of argument errors. Same assertions against scaleout and redis-server.
"""
TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. "
            "Note that u64 is not supported but i64 is.")
OFFSET_ERR = "ERR bit offset is not an integer or out of range"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_get_set_incrby(c):
    assert c.cmd("BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0", "GET", "i8", "0") == [0, 255, -1]
    assert c.cmd("GET", "k") == b"\xff"
    assert c.cmd("BITFIELD", "k", "SET", "i5", "8", "-3", "GET", "u5", "8", "GET", "i5", "8") == [0, 29, -3]
    assert c.cmd("BITFIELD", "k", "INCRBY", "u4", "4", "3", "INCRBY", "i16", "100", "-5") == [2, -5]
    # fields that straddle bytes, and the largest widths
    assert c.cmd("BITFIELD", "w", "SET", "i64", "3", "-9223372036854775808", "GET", "i64", "3",
                 "GET", "u63", "3", "GET", "u1", "3") == [0, -9223372036854775808, 4611686018427387904, 1]
    assert c.cmd("BITFIELD", "w", "SET", "u63", "70", "9223372036854775807", "GET", "u63", "70") == \
        [0, 9223372036854775807]
    # reads past the end see zeros and do not create or grow the key
    assert c.cmd("BITFIELD", "none", "GET", "u8", "1000", "GET", "i64", "0") == [0, 0]
    assert c.cmd("EXISTS", "none") == 0
    assert c.cmd("BITFIELD", "k", "GET", "u16", "20000") == [0]
    assert c.cmd("STRLEN", "k") == 15
    # a write makes room up to the farthest bit, zero-filled
    assert c.cmd("BITFIELD", "g", "SET", "u8", "#3", "65") == [0]
    assert c.cmd("GET", "g") == b"\x00\x00\x00A"
    assert c.cmd("BITFIELD", "g") == []
    assert c.cmd("BITFIELD_RO", "g", "GET", "u8", "#3", "GET", "u4", "#6") == [65, 4]


def test_hash_offsets(c):
    assert c.cmd("BITFIELD", "h", "SET", "u8", "#0", "1", "SET", "u8", "#1", "2", "SET", "u8", "#2", "3") == [0, 0, 0]
    assert c.cmd("GET", "h") == b"\x01\x02\x03"
    assert c.cmd("BITFIELD", "h", "INCRBY", "u8", "#1", "10", "GET", "u16", "#1") == [12, 0x0300]
    assert c.err("BITFIELD", "h", "GET", "u8", "#-1") == OFFSET_ERR
    assert c.err("BITFIELD", "h", "GET", "u8", "#x") == OFFSET_ERR
    assert c.err("BITFIELD", "h", "GET", "u8", "#") == OFFSET_ERR


def test_overflow_modes(c):
    assert c.cmd("BITFIELD", "o", "SET", "u8", "0", "250", "INCRBY", "u8", "0", "10") == [0, 4]
    assert c.cmd("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300",
                 "INCRBY", "u8", "0", "-1000") == [255, 0]
    assert c.cmd("BITFIELD", "o", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "256", "GET", "u8", "0") == [None, 0]
    # OVERFLOW applies to the operations after it, up to the next OVERFLOW
    assert c.cmd("BITFIELD", "o", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1",
                 "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-200", "OVERFLOW", "WRAP",
                 "INCRBY", "i8", "0", "-1") == [0, -128, -128, 127]
    assert c.cmd("BITFIELD", "o", "OVERFLOW", "fail", "INCRBY", "i8", "0", "1", "INCRBY", "i8", "0", "-1") == \
        [None, 126]
    # SET values out of the type's range follow the mode too
    assert c.cmd("BITFIELD", "o", "SET", "u8", "0", "-1", "GET", "u8", "0") == [126, 255]
    assert c.cmd("BITFIELD", "o", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "i4", "0", "100",
                 "SET", "i4", "4", "-100", "GET", "u8", "0") == [255, -1, -1, 0x78]
    assert c.cmd("BITFIELD", "o", "OVERFLOW", "FAIL", "SET", "u4", "0", "16", "GET", "u4", "0") == [None, 7]
    # i64 and u63 at their limits
    assert c.cmd("BITFIELD", "b", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1",
                 "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "INCRBY", "i64", "0",
                 "-9223372036854775808") == [0, -9223372036854775808, -9223372036854775808, -9223372036854775808]
    assert c.cmd("BITFIELD", "b", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "5",
                 "OVERFLOW", "SAT", "INCRBY", "u63", "0", "9223372036854775807") == \
        [4611686018427387904, 4, 9223372036854775807]   # first: the top 63 bits of -2^63


def test_types_and_argument_errors(c):
    for t in ("i1", "i64", "u1", "u63"):
        assert c.cmd("BITFIELD", "t", "GET", t, "0") == [0]
    for t in ("u64", "i65", "i0", "u0", "x8", "I8", "U8", "i", "", "i-1", "i08", "i 8", "i8x"):
        assert c.err("BITFIELD", "t", "GET", t, "0") == TYPE_ERR, t
    assert c.err("BITFIELD", "t", "GET", "u8", "-1") == OFFSET_ERR
    assert c.err("BITFIELD", "t", "GET", "u8", "1.5") == OFFSET_ERR
    assert c.err("BITFIELD", "t", "SET", "u8", "0", "x") == NOT_INT
    assert c.err("BITFIELD", "t", "SET", "u8", "0", "9223372036854775808") == NOT_INT
    assert c.err("BITFIELD", "t", "OVERFLOW", "BAD") == "ERR Invalid OVERFLOW type specified"
    assert c.err("BITFIELD", "t", "FOO") == SYNTAX
    assert c.err("BITFIELD", "t", "GET", "u8") == SYNTAX
    assert c.err("BITFIELD", "t", "SET", "u8", "0") == SYNTAX
    assert c.err("BITFIELD", "t", "OVERFLOW") == SYNTAX
    # every operation is parsed before any runs: nothing is written
    assert c.err("BITFIELD", "t", "SET", "u8", "0", "1", "GET", "u64", "0") == TYPE_ERR
    assert c.cmd("EXISTS", "t") == 0
    c.cmd("RPUSH", "l", "x")
    assert c.err("BITFIELD", "l", "GET", "u8", "0") == WRONGTYPE
    assert c.err("BITFIELD", "l", "SET", "u8", "0", "1") == WRONGTYPE
    assert c.err("BITFIELD", "l") == WRONGTYPE
    # parse errors come before the type check
    assert c.err("BITFIELD", "l", "GET", "u64", "0") == TYPE_ERR
    assert c.err("BITFIELD") == "ERR wrong number of arguments for 'bitfield' command"


def test_bitfield_ro(c):
    c.cmd("SET", "s", "\x0f")
    assert c.cmd("BITFIELD_RO", "s", "GET", "u4", "4", "OVERFLOW", "SAT", "GET", "i4", "4") == [15, -1]
    assert c.cmd("BITFIELD_RO", "s") == []
    ro = "ERR BITFIELD_RO only supports the GET subcommand"
    assert c.err("BITFIELD_RO", "s", "SET", "u8", "0", "1") == ro
    assert c.err("BITFIELD_RO", "s", "GET", "u8", "0", "INCRBY", "u8", "0", "1") == ro
    assert c.err("BITFIELD_RO", "s", "SET", "u64", "0", "1") == TYPE_ERR
    assert c.cmd("GET", "s") == b"\x0f"
    assert c.err("BITFIELD_RO") == "ERR wrong number of arguments for 'bitfield_ro' command"


def test_huge_offsets(c):
    # offset / 8 must stay below proto-max-bulk-len (512 MB): Redis's error,
    # before anything is allocated; "#n" offsets that overflow are refused too
    for off in ("4294967296", "34359738368", "9223372036854775807", "#536870912", "#9223372036854775807"):
        assert c.err("BITFIELD", "big", "SET", "u8", off, "1") == OFFSET_ERR, off
        assert c.err("BITFIELD_RO", "big", "GET", "u8", off) == OFFSET_ERR, off
    # the last valid bit can be read without creating anything
    assert c.cmd("BITFIELD", "big", "GET", "u1", "4294967295") == [0]
    assert c.cmd("EXISTS", "big") == 0


def test_lower_proto_max_bulk_len(server_factory):
    s = server_factory("--proto-max-bulk-len", "1mb")
    c = s.conn()
    assert c.cmd("BITFIELD", "k", "SET", "u8", str(8 * 1024 * 1024 - 8), "1") == [0]
    assert c.cmd("STRLEN", "k") == 1024 * 1024
    assert c.err("BITFIELD", "k", "SET", "u8", str(8 * 1024 * 1024), "1") == OFFSET_ERR
