"""
Argument sweep for the list and set commands, scaleout and redis-server side by
side in one test: every integer-like argument of every command is replaced,
one at a time, by extreme and malformed values (LLONG_MIN/MAX, just past them,
-1, 0, "-0", "", "abc", "1e400", "inf"...), on the same small data set, and the
raw replies must be equal byte for byte (random commands: equal when either
side answers an error, equal in shape otherwise). Never blocks: blocking
commands run on non-empty lists, so their replies are immediate or errors.
"""
import pytest

from conftest import REDIS_SERVER, RespError, start_server

EXTREMES = ["-9223372036854775808", "9223372036854775807", "-9223372036854775809",
            "9223372036854775808", "18446744073709551616", "-1", "0", "1", "2", "-0", "+1",
            "", "abc", "1e400", "inf", "-inf", "nan", "0.5", " 1", "01", "4294967296"]

# (command template, positions of the integer-like arguments, random reply)
TEMPLATES = [
    (["LPOP", "l", "1"], [2], False), (["RPOP", "l", "1"], [2], False),
    (["LPOP", "nokey", "1"], [2], False), (["LPOP", "str", "1"], [2], False),
    (["LRANGE", "l", "0", "-1"], [2, 3], False), (["LRANGE", "nokey", "0", "-1"], [2, 3], False),
    (["LINDEX", "l", "0"], [2], False), (["LSET", "l", "0", "x"], [2], False),
    (["LREM", "l", "0", "b"], [2], False), (["LTRIM", "l", "0", "-1"], [2, 3], False),
    (["LPOS", "l", "b", "RANK", "1", "COUNT", "0", "MAXLEN", "0"], [4, 6, 8], False),
    (["LMPOP", "1", "l", "LEFT", "COUNT", "1"], [1, 5], False),
    (["LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "2"], [1, 6], False),
    (["BLPOP", "l", "1"], [2], False), (["BRPOP", "nokey", "l", "1"], [3], False),
    (["BLMOVE", "l", "d", "LEFT", "RIGHT", "1"], [5], False), (["BRPOPLPUSH", "l", "d", "1"], [3], False),
    (["BLMPOP", "1", "1", "l", "LEFT", "COUNT", "1"], [1, 2, 6], False),
    (["SRANDMEMBER", "s", "1"], [2], True), (["SRANDMEMBER", "nokey", "1"], [2], True),
    (["SPOP", "s", "1"], [2], True), (["SPOP", "nokey", "1"], [2], True),
    (["SINTERCARD", "2", "s", "h", "LIMIT", "0"], [1, 5], False),
    (["SSCAN", "s", "0", "COUNT", "10"], [2, 4], False), (["SSCAN", "h", "0", "COUNT", "10"], [4], True),
]

SETUP = [["FLUSHALL"], ["RPUSH", "l", "a", "b", "c", "b", "a"], ["SADD", "s", "1", "2", "3"],
         ["SADD", "h", "x", "y", "z", "1"], ["SET", "str", "v"]]


def shape(v):
    if isinstance(v, list):
        return ("list", len(v))
    return (type(v).__name__,)


@pytest.mark.scaleout_only
def test_sweep_matches_redis(server, tmp_path):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is required for the differential sweep")
    redis = start_server("redis", tmp_path / "redis")
    try:
        ours, theirs = server.conn(), redis.conn()
        checked = 0
        for tmpl, positions, rnd in TEMPLATES:
            for pos in positions:
                for val in EXTREMES:
                    args = list(tmpl)
                    args[pos] = val
                    for conn in (ours, theirs):
                        conn.pipeline(SETUP)
                    a, b = ours.cmd(*args), theirs.cmd(*args)
                    if rnd and not isinstance(a, RespError) and not isinstance(b, RespError):
                        assert shape(a) == shape(b), (args, a, b)
                    else:
                        assert ours.last_raw == theirs.last_raw, (args, ours.last_raw, theirs.last_raw)
                    checked += 1
        assert checked > 500
        assert ours.cmd("PING") == "PONG"
    finally:
        redis.stop()
