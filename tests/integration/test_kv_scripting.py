"""
Lua scripting: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP,
FUNCTION LOAD/LIST/DELETE/FLUSH/STATS and FCALL/FCALL_RO: the conversions both
ways (exact RESP2 and RESP3 bytes), Redis 7.0's error texts, the sandbox, busy
scripts with SCRIPT KILL and UNKILLABLE, and redis-py's script helpers.
Same assertions against scaleout and redis-server.
"""
import hashlib
import threading

import pytest

from conftest import RespConn, RespError, parse_info, wait_until, scaleout_only


def sha(body):
    return hashlib.sha1(body.encode()).hexdigest()


def ev(c, body, *args):
    """EVAL with numkeys 0 and the raw RESP bytes of the reply."""
    c.cmd("EVAL", body, "0", *args)
    return c.last_raw


def script_err(body, msg, line=1):
    return f"{msg} script: {sha(body)}, on @user_script:{line}."


# ---------------------------------------------------------------- conversions

LUA_TO_RESP2 = [
    ("return 1", b":1\r\n"),
    ("return 3.99", b":3\r\n"),
    ("return -3.7", b":-3\r\n"),
    ("return 1e20", b":-9223372036854775808\r\n"),
    ("return 'x'", b"$1\r\nx\r\n"),
    ("return true", b":1\r\n"),
    ("return false", b"$-1\r\n"),
    ("return nil", b"$-1\r\n"),
    ("return {1,2,3.9,'x',nil,5}", b"*4\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n"),
    ("return {1, true, false, 4}", b"*4\r\n:1\r\n:1\r\n$-1\r\n:4\r\n"),
    ("return {1,{2,{3}},'a'}", b"*3\r\n:1\r\n*2\r\n:2\r\n*1\r\n:3\r\n$1\r\na\r\n"),
    ("return {a=1}", b"*0\r\n"),
    ("return {}", b"*0\r\n"),
    ("return {ok='FINE'}", b"+FINE\r\n"),
    ("return {ok=1}", b"*0\r\n"),
    ("return {err='My Error'}", b"-My Error\r\n"),
    ("return {err=1}", b"*0\r\n"),
    ("return redis.status_reply('FINE')", b"+FINE\r\n"),
    ("return redis.error_reply('My Error')", b"-My Error\r\n"),
    ("return redis.error_reply('-WRONG x')", b"-WRONG x\r\n"),
    ("return redis.error_reply('x')", b"-ERR x\r\n"),
    ("return redis.error_reply('')", b"-ERR \r\n"),
    ("return redis.error_reply('x y\\r\\n')", b"-x y\r\n"),
    ("return {err='x'}", b"-x\r\n"),
    ("return {double=1.5}", b"$3\r\n1.5\r\n"),
    ("return {big_number='123'}", b"$3\r\n123\r\n"),
    ("return {map={a=1}}", b"*2\r\n$1\r\na\r\n:1\r\n"),
    ("return {set={a=true}}", b"*1\r\n$1\r\na\r\n"),
    ("return redis.call('ping')", b"+PONG\r\n"),
    ("return redis.call('get','nokey')", b"$-1\r\n"),
    ("return redis.call('hgetall','nokey')", b"*0\r\n"),
    ("return redis.sha1hex('')", b"$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"),
    ("return redis.REDIS_VERSION ~= nil", b":1\r\n"),
    ("return type(redis.REDIS_VERSION_NUM)", b"$6\r\nnumber\r\n"),
    ("return redis.replicate_commands()", b":1\r\n"),
    ("return redis.set_repl(redis.REPL_ALL)", b"$-1\r\n"),
    ("return redis.log(redis.LOG_WARNING, 'from a test')", b"$-1\r\n"),
    ("return cjson.encode({1,2,{a=1}})", b'$13\r\n[1,2,{"a":1}]\r\n'),
    ("return cjson.decode('[1,2]')", b"*2\r\n:1\r\n:2\r\n"),
    ("return bit.band(7,3)", b":3\r\n"),
    ("return bit.tohex(255)", b"$8\r\n000000ff\r\n"),
    ("return table.concat({1,2},',')", b"$3\r\n1,2\r\n"),
    ("return string.format('%05d', 42)", b"$5\r\n00042\r\n"),
    ("return loadstring('return 1')()", b":1\r\n"),
    ("return {pcall(function() return redis.call('incr','str') end)}", b"*2\r\n:1\r\n:1\r\n"),
    ("return select('#', unpack({1,2,3}))", b":3\r\n"),
]


@pytest.mark.parametrize("body,raw", LUA_TO_RESP2)
def test_lua_to_resp2(c, body, raw):
    assert ev(c, body) == raw


REDIS_TO_LUA = [
    # (setup, script returning a description of what redis.call gave)
    ([("SET", "s", "abc")], "local v = redis.call('get','s') return {type(v), v}", [b"string", b"abc"]),
    ([], "local v = redis.call('get','nokey') return {type(v), tostring(v)}", [b"boolean", b"false"]),
    ([("SET", "n", "7")], "local v = redis.call('incr','n') return {type(v), v}", [b"number", 8]),
    ([], "local v = redis.call('set','k','v') return {type(v), v.ok}", [b"table", b"OK"]),
    ([("RPUSH", "l", "a", "b")], "local v = redis.call('lrange','l',0,-1) return {type(v), #v, v[2]}",
     [b"table", 2, b"b"]),
    ([("SET", "s", "x")], "local v = redis.pcall('incr','s') return {type(v), v.err}",
     [b"table", b"ERR value is not an integer or out of range"]),
    ([], "redis.call('set','n',3) return redis.call('get','n')", b"3"),
    ([], "redis.call('set','n',0.1) return redis.call('get','n')", b"0.10000000000000001"),
    ([], "return redis.call('set','n',1.5,'get')", b"0.10000000000000001"),
]


@pytest.mark.parametrize("setup,body,want", REDIS_TO_LUA)
def test_redis_to_lua(c, setup, body, want):
    c.cmd("SET", "n", "0.10000000000000001")
    for cmd in setup:
        c.cmd(*cmd)
    assert c.cmd("EVAL", body, "0") == want


RESP3 = [
    ("redis.setresp(3) return redis.call('hgetall','h')", b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("redis.setresp(3) local m = redis.call('hgetall','h') return m.map.f", b"$1\r\nv\r\n"),
    ("redis.setresp(3) local v = redis.call('zscore','z','a') return {double=v.double}", b",1.5\r\n"),
    ("redis.setresp(3) return redis.call('smembers','set1')", b"~1\r\n$1\r\nm\r\n"),
    ("redis.setresp(3) local v = redis.call('get','nokey') return {type(v)}", b"*1\r\n$3\r\nnil\r\n"),
    ("redis.setresp(3) return true", b"#t\r\n"),
    ("redis.setresp(3) return false", b"#f\r\n"),
    ("return false", b"_\r\n"),
    ("return {double=1.5}", b",1.5\r\n"),
    ("return {big_number='123'}", b"(123\r\n"),
    ("return {map={a=1}}", b"%1\r\n$1\r\na\r\n:1\r\n"),
    ("return {set={a=true}}", b"~1\r\n$1\r\na\r\n"),
]


@pytest.mark.parametrize("body,raw", RESP3)
def test_resp3_conversions(server, body, raw):
    c = server.conn()
    try:
        c.cmd("HSET", "h", "f", "v")
        c.cmd("ZADD", "z", "1.5", "a")
        c.cmd("SADD", "set1", "m")
        c.cmd("HELLO", "3")
        assert ev(c, body) == raw
    finally:
        c.close()


def test_resp3_in_resp2_client(c):
    c.cmd("ZADD", "z", "1.5", "a")
    assert ev(c, "redis.setresp(3) return redis.call('zscore','z','a')") == b"$3\r\n1.5\r\n"
    assert ev(c, "redis.setresp(3) return true") == b":1\r\n"
    assert ev(c, "redis.setresp(3) return false") == b":0\r\n"


# ---------------------------------------------------------------- errors

def test_error_texts(c):
    c.cmd("SET", "str", "abc")
    cases = [
        ("return redis.call('incr','str')", script_err("return redis.call('incr','str')",
                                                      "ERR value is not an integer or out of range")),
        ("error('boom')", script_err("error('boom')", "ERR user_script:1: boom")),
        ("error({err='X boom'})", script_err("error({err='X boom'})", "X boom")),
        ("return x", script_err("return x", "ERR user_script:1: Script attempted to access nonexistent "
                                            "global variable 'x'")),
        ("return redis.call('nosuch')", script_err("return redis.call('nosuch')",
                                                   "ERR Unknown Redis command called from script")),
        ("return redis.call('get')", script_err("return redis.call('get')",
                                                "ERR Wrong number of args calling Redis command from script")),
        ("return redis.call()", script_err("return redis.call()",
                                           "ERR Please specify at least one argument for this redis lib call")),
        ("return redis.call('set', 'a', {})", script_err("return redis.call('set', 'a', {})",
                                                         "ERR Lua redis lib command arguments must be strings "
                                                         "or integers")),
        ("redis.setresp(4)", script_err("redis.setresp(4)", "ERR RESP version must be 2 or 3.")),
        ("return redis.log()", script_err("return redis.log()", "ERR redis.log() requires two arguments or more.")),
        ("return redis.call('\\n',\n'x')", script_err("return redis.call('\\n',\n'x')",
                                                      "ERR Unknown Redis command called from script")),
        ("return redis.error_reply()", "ERR wrong number or type of arguments"),
        ("retur", "ERR Error compiling script (new function): user_script:1: '=' expected near '<eof>'"),
    ]
    for body, want in cases:
        assert c.err("EVAL", body, "0") == want, body


@pytest.mark.parametrize("args", ["'multi'", "'exec'", "'watch', 'a'", "'auth', 'a'", "'blpop', 'a', 0",
                                  "'brpop', 'a', 0", "'eval', 'return 1', 0", "'script', 'flush'",
                                  "'function', 'flush'", "'fcall', 'f', 0", "'client', 'list'",
                                  "'config', 'get', 'port'", "'blmove', 'a', 'b', 'left', 'left', 0"])
def test_not_allowed_from_script(c, args):
    body = f"return redis.call({args})"
    assert c.err("EVAL", body, "0") == script_err(body, "ERR This Redis command is not allowed from script")


def test_numkeys_errors(c):
    assert c.err("EVAL", "return 1", "2", "a") == "ERR Number of keys can't be greater than number of args"
    assert c.err("EVAL", "return 1", "-1") == "ERR Number of keys can't be negative"
    assert c.err("EVAL", "return 1", "x") == "ERR value is not an integer or out of range"
    assert c.err("EVAL", "return 1") == "ERR wrong number of arguments for 'eval' command"
    assert c.err("EVALSHA", "f" * 40, "0") == "NOSCRIPT No matching script. Please use EVAL."
    assert c.err("EVALSHA", "abc", "0") == "NOSCRIPT No matching script. Please use EVAL."


def test_read_only_scripts(c):
    body = "return redis.call('set','a','b')"
    assert c.err("EVAL_RO", body, "1", "a") == script_err(
        body, "ERR Write commands are not allowed from read-only scripts.")
    assert c.cmd("EVAL_RO", "return redis.call('get',KEYS[1])", "1", "a") is None
    sh = c.cmd("SCRIPT", "LOAD", body)
    assert c.err("EVALSHA_RO", sh, "1", "a") == script_err(
        body, "ERR Write commands are not allowed from read-only scripts.")
    assert c.cmd("EVALSHA", sh, "1", "a") == "OK"
    # Redis 7.0 replicates effects: a write after a non-deterministic command is fine
    assert c.cmd("EVAL", "redis.call('time') return redis.call('set','a','c')", "0") == "OK"


# ---------------------------------------------------------------- sandbox

@pytest.mark.parametrize("name", ["os", "io", "debug", "require", "dofile", "loadfile", "setfenv", "getfenv",
                                  "print", "module", "newproxy", "package"])
def test_removed_globals(c, name):
    body = f"return type({name})"
    assert c.err("EVAL", body, "0") == script_err(
        body, f"ERR user_script:1: Script attempted to access nonexistent global variable '{name}'")


@pytest.mark.parametrize("name", ["string", "math", "table", "cjson", "bit", "coroutine", "loadstring",
                                  "pcall", "unpack", "tonumber", "redis"])
def test_present_globals(c, name):
    assert c.cmd("EVAL", f"return type({name})", "0") in (b"table", b"function")


@pytest.mark.parametrize("body,msg", [
    ("x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
    ("function f() end", "ERR user_script:1: Attempt to modify a readonly table"),
    ("_G.x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
    ("string.foo = 1", "ERR user_script:1: Attempt to modify a readonly table"),
    ("redis.call = nil", "ERR user_script:1: Attempt to modify a readonly table"),
    ("rawset(_G, 'x', 1)", "ERR Attempt to modify a readonly table"),
    ("setmetatable(_G, {})", "ERR Attempt to modify a readonly table"),
    ("loadstring('x=1')()", None),
])
def test_global_writes_refused(c, body, msg):
    err = c.err("EVAL", body, "0")
    if msg:
        assert err == script_err(body, msg)
    else:
        assert "Attempt to modify a readonly table" in err


def test_local_state_does_not_leak(c):
    assert c.cmd("EVAL", "local x = 5 return x", "0") == 5
    body = "return x"
    assert c.err("EVAL", body, "0").startswith("ERR user_script:1: Script attempted to access nonexistent")


def test_math_random_sequence_is_redis(server_factory):
    """A fresh server's math.random sequence is Redis's rand48 one."""
    s = server_factory()
    c = s.conn()
    first = c.cmd("EVAL", "return tostring(math.random())", "0")
    assert first == b"0.39646477363839"
    assert c.cmd("EVAL", "math.randomseed(7) return math.random(1, 1000)", "0") == \
        c.cmd("EVAL", "math.randomseed(7) return math.random(1, 1000)", "0")
    c.close()


# ---------------------------------------------------------------- KEYS / ARGV / databases

def test_keys_and_argv(c):
    assert c.cmd("EVAL", "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", "2", "k1", "k2", "a1", "a2") == \
        [b"k1", b"k2", b"a1", 2]
    assert c.cmd("EVAL", "return {#KEYS, #ARGV}", "0") == [0, 0]
    assert c.cmd("EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v") == "OK"
    assert c.cmd("GET", "k") == b"v"


def test_select_inside_script_is_local(c):
    c.cmd("SELECT", "2")
    c.cmd("SET", "k", "in2")
    assert c.cmd("EVAL", "return redis.call('get','k')", "0") == b"in2"
    assert c.cmd("EVAL", "redis.call('select', 3) redis.call('set','k','in3') return redis.call('get','k')",
                 "0") == b"in3"
    assert c.cmd("GET", "k") == b"in2"          # the caller stays in 2
    c.cmd("SELECT", "3")
    assert c.cmd("GET", "k") == b"in3"
    c.cmd("FLUSHDB")
    c.cmd("SELECT", "2")
    c.cmd("FLUSHDB")


def test_ten_thousand_calls(c):
    body = "for i = 1, 10000 do redis.call('incr', KEYS[1]) end return redis.call('get', KEYS[1])"
    assert c.cmd("EVAL", body, "1", "counter") == b"10000"
    body = "local t = {} for i = 1, 10000 do t[i] = redis.call('rpush', KEYS[1], i) end return #t"
    assert c.cmd("EVAL", body, "1", "biglist") == 10000
    assert c.cmd("LLEN", "biglist") == 10000


# ---------------------------------------------------------------- SCRIPT

def test_script_commands(c):
    assert c.cmd("SCRIPT", "FLUSH") == "OK"
    body = "return 'loaded'"
    h = c.cmd("SCRIPT", "LOAD", body)
    assert h == sha(body).encode()
    assert c.cmd("SCRIPT", "EXISTS", h, "f" * 40, h.upper()) == [1, 0, 1]
    assert c.cmd("EVALSHA", h, "0") == b"loaded"
    assert c.cmd("EVALSHA", h.upper(), "0") == b"loaded"
    assert c.cmd("SCRIPT", "FLUSH", "ASYNC") == "OK"
    assert c.cmd("SCRIPT", "EXISTS", h) == [0]
    assert c.cmd("SCRIPT", "FLUSH", "SYNC") == "OK"
    assert c.err("SCRIPT", "FLUSH", "x") == "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
    assert c.err("SCRIPT", "KILL") == "NOTBUSY No scripts in execution right now."
    assert c.err("SCRIPT", "EXISTS") == "ERR wrong number of arguments for 'script|exists' command"
    assert c.err("SCRIPT", "nope") == "ERR unknown subcommand 'nope'. Try SCRIPT HELP."
    help_ = c.cmd("SCRIPT", "HELP")
    assert help_[0] == "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "KILL" in help_
    # EVAL caches the script too
    c.cmd("EVAL", "return 'cached'", "0")
    assert c.cmd("SCRIPT", "EXISTS", sha("return 'cached'")) == [1]
    assert c.err("SCRIPT", "LOAD", "retur") == \
        "ERR Error compiling script (new function): user_script:1: '=' expected near '<eof>'"


def test_info_memory_scripting(c):
    c.cmd("SCRIPT", "FLUSH")
    c.cmd("SCRIPT", "LOAD", "return 1")
    c.cmd("SCRIPT", "LOAD", "return 2")
    info = parse_info(c.cmd("INFO", "memory").decode())
    assert info["number_of_cached_scripts"] == 2
    assert info["used_memory_lua"] > 0
    for field in ("used_memory_vm_eval", "used_memory_lua_human", "used_memory_scripts_eval", "number_of_functions",
                  "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
                  "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
                  "used_memory_scripts_human"):
        assert field in info, field
    c.cmd("FUNCTION", "FLUSH")
    c.cmd("FUNCTION", "LOAD", LIB)
    info = parse_info(c.cmd("INFO", "memory").decode())
    assert (info["number_of_functions"], info["number_of_libraries"]) == (3, 1)
    c.cmd("FUNCTION", "FLUSH")


def test_redis_py_register_script(r):
    r.script_flush()
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["c"], args=[5]) == 5
    r.script_flush()                       # EVALSHA gets NOSCRIPT, redis-py falls back to EVAL
    assert incr_by(keys=["c"], args=[2]) == 7
    assert r.script_exists(incr_by.sha) == [True]
    assert r.evalsha(incr_by.sha, 1, "c", 1) == 8


def test_redis_py_lock(r):
    lock = r.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    assert not r.lock("resource").acquire(blocking=False)
    assert lock.extend(5)
    lock.release()
    assert r.get("resource") is None


RATE_LIMIT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return 1
"""


def test_rate_limiter(r):
    limiter = r.register_script(RATE_LIMIT)
    got = [limiter(keys=["rl:user"], args=[3, 60000]) for _ in range(5)]
    assert got == [1, 1, 1, 0, 0]
    assert 0 < r.pttl("rl:user") <= 60000


# ---------------------------------------------------------------- FUNCTION / FCALL

LIB = """#!lua name=mylib
redis.register_function('getk', function(keys, args) return redis.call('get', keys[1]) end)
redis.register_function{function_name='echo', callback=function(keys, args) return args[1] end,
                        flags={'no-writes'}, description='echo it'}
redis.register_function('setk', function(keys, args) return redis.call('set', keys[1], args[1]) end)
"""


def test_function_load_and_fcall(c):
    c.cmd("FUNCTION", "FLUSH")
    assert c.cmd("FUNCTION", "LOAD", LIB) == b"mylib"
    assert c.err("FUNCTION", "LOAD", LIB) == "ERR Library 'mylib' already exists"
    assert c.cmd("FCALL", "setk", "1", "k", "v") == "OK"
    assert c.cmd("FCALL", "getk", "1", "k") == b"v"
    assert c.cmd("FCALL_RO", "echo", "0", "hi") == b"hi"
    assert c.err("FCALL_RO", "getk", "1", "k") == \
        "ERR Can not execute a script with write flag using *_ro command."
    assert c.err("FCALL", "nofunc", "0") == "ERR Function not found"
    assert c.err("FCALL", "getk", "3", "k") == "ERR Number of keys can't be greater than number of args"
    lib2 = LIB.replace("'setk'", "'setk2'").replace("return redis.call('set'", "return redis.call('setex'")
    assert c.cmd("FUNCTION", "LOAD", "REPLACE", lib2) == b"mylib"
    assert c.err("FCALL", "setk", "1", "k", "v") == "ERR Function not found"
    other = "#!lua name=other\nredis.register_function('getk', function() return 1 end)"
    assert c.err("FUNCTION", "LOAD", other) == "ERR Function getk already exists"
    assert c.cmd("FUNCTION", "DELETE", "mylib") == "OK"
    assert c.err("FUNCTION", "DELETE", "mylib") == "ERR Library not found"
    assert c.err("FCALL", "getk", "1", "k") == "ERR Function not found"


def test_function_errors(c):
    c.cmd("FUNCTION", "FLUSH")
    cases = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua", "ERR Invalid library metadata"),
        ("#!lua name=a foo=b", "ERR Invalid library metadata"),
        ("#!lua name=a\nreturn 1", "ERR No functions registered"),
        ("#!lua name=c\nredis.call('ping')",
         "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent "
         "global variable 'call'"),
        ("#!lua name=e\nredis.register_function('x', function() end, 5)",
         "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        ("#!lua name=e\nredis.register_function{function_name='x', callback=function() end, flags={'bad'}}",
         "ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=f\nx = 1",
         "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("#!lua name=x-y\nredis.register_function('f', function() end)",
         "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one "
         "character long"),
    ]
    for code, want in cases:
        assert c.err("FUNCTION", "LOAD", code) == want, code
    assert c.err("FUNCTION", "nope") == "ERR unknown subcommand 'nope'. Try FUNCTION HELP."
    assert c.err("FUNCTION", "KILL") == "NOTBUSY No scripts in execution right now."
    code = ("#!lua name=e\nredis.register_function{function_name='y', callback=function() "
            "return redis.call('set','a','b') end, flags={'no-writes'}}")
    assert c.cmd("FUNCTION", "LOAD", code) == b"e"
    assert c.err("FCALL", "y", "0") == \
        "ERR Write commands are not allowed from read-only scripts. script: y, on @user_function:2."
    code = "#!lua name=g\nredis.register_function('q', function() error('bad') end)"
    assert c.cmd("FUNCTION", "LOAD", code) == b"g"
    assert c.err("FCALL", "q", "0") == "ERR user_function:2: bad script: q, on @user_function:2."
    c.cmd("FUNCTION", "FLUSH")


def test_function_list_and_stats(c):
    c.cmd("FUNCTION", "FLUSH")
    c.cmd("FUNCTION", "LOAD", LIB)
    c.cmd("FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f2', function() return 2 end)")
    libs = c.cmd("FUNCTION", "LIST")
    assert sorted(lib[1] for lib in libs) == [b"lib2", b"mylib"]
    mine = c.cmd("FUNCTION", "LIST", "LIBRARYNAME", "my*", "WITHCODE")
    assert len(mine) == 1
    lib = mine[0]
    assert lib[:4] == [b"library_name", b"mylib", b"engine", b"LUA"]
    assert lib[4] == b"functions"
    fns = sorted(lib[5], key=lambda f: f[1])
    assert fns[0] == [b"name", b"echo", b"description", b"echo it", b"flags", ["no-writes"]]
    assert fns[1] == [b"name", b"getk", b"description", None, b"flags", []]
    assert lib[6:] == [b"library_code", LIB.encode()]
    stats = c.cmd("FUNCTION", "STATS")
    assert stats == [b"running_script", None, b"engines",
                     [b"LUA", [b"libraries_count", 2, b"functions_count", 4]]]
    assert c.cmd("FUNCTION", "FLUSH", "ASYNC") == "OK"
    assert c.cmd("FUNCTION", "LIST") == []


# ---------------------------------------------------------------- busy scripts

LOOP = "local i = 0 while i < 3e9 do i = i + 1 end return i"       # bounded: seconds, not forever
WRITE_LOOP = "redis.call('set', 'w', '1') local i = 0 while i < 2e8 do i = i + 1 end return i"


def run_in_thread(port, *cmd):
    res = {}

    def go():
        conn = RespConn(port, timeout=120)
        try:
            res["reply"] = conn.cmd(*cmd)
        except Exception as e:  # the server went away (SHUTDOWN NOSAVE)
            res["exc"] = e
        finally:
            conn.close()

    t = threading.Thread(target=go)
    t.start()
    return t, res


def poll_busy(conn):
    def busy():
        r = conn.cmd("PING")
        return isinstance(r, RespError) and r.msg.startswith("BUSY ")
    wait_until(busy, timeout=30, interval=0.05, what="BUSY reply")


@pytest.mark.parametrize("extra", [(), ("threads",)])
def test_busy_script_and_script_kill(server_factory, kv_target, extra):
    if extra and kv_target != "scaleout":
        pytest.skip("worker threads are scaleout's")
    flags = ("--threads", "3") if extra else ()
    s = server_factory(*flags)
    others = [s.conn() for _ in range(4)]        # connected before the script starts
    others[0].cmd("CONFIG", "SET", "busy-reply-threshold", "100")
    t, res = run_in_thread(s.port, "EVAL", LOOP, "0")
    try:
        poll_busy(others[0])
        for o in others:
            r = o.cmd("GET", "x")
            assert r == RespError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                                  "SHUTDOWN NOSAVE.")
        assert others[1].err("FUNCTION", "KILL") == \
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        assert others[1].cmd("SCRIPT", "KILL") == "OK"
    finally:
        t.join(120)
    assert res["reply"] == RespError(f"ERR Script killed by user with SCRIPT KILL... script: {sha(LOOP)}, "
                                     "on @user_script:1.")
    assert others[2].cmd("PING") == "PONG"
    for o in others:
        o.close()


def test_unkillable_script(server_factory):
    s = server_factory()
    other = s.conn()
    other.cmd("CONFIG", "SET", "busy-reply-threshold", "100")
    t, res = run_in_thread(s.port, "EVAL", WRITE_LOOP, "0")
    try:
        poll_busy(other)
        assert other.err("SCRIPT", "KILL") == (
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
            "wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
    finally:
        t.join(120)
    assert res["reply"] == 200000000
    assert other.cmd("GET", "w") == b"1"
    other.close()


def test_busy_function_kill(server_factory):
    s = server_factory()
    c = s.conn()
    c.cmd("CONFIG", "SET", "busy-reply-threshold", "100")
    code = "#!lua name=spin\nredis.register_function('spin', function() " + LOOP + " end)"
    assert c.cmd("FUNCTION", "LOAD", code) == b"spin"
    t, res = run_in_thread(s.port, "FCALL", "spin", "0")
    try:
        def busy():
            r = c.cmd("PING")
            return isinstance(r, RespError) and r.msg.startswith("BUSY ")
        wait_until(busy, timeout=30, interval=0.05, what="BUSY reply")
        assert c.err("GET", "x") == \
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        assert c.err("SCRIPT", "KILL") == \
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        assert c.cmd("FUNCTION", "KILL") == "OK"
    finally:
        t.join(120)
    assert isinstance(res["reply"], RespError)
    assert "killed by user" in res["reply"].msg
    c.close()


# ---------------------------------------------------------------- command table

def test_command_info(c):
    infos = c.cmd("COMMAND", "INFO", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro",
                  "script", "function")
    got = [(i[0], i[1], i[3], i[4], i[5]) for i in infos]
    assert got == [
        (b"eval", -3, 0, 0, 0), (b"evalsha", -3, 0, 0, 0), (b"eval_ro", -3, 0, 0, 0),
        (b"evalsha_ro", -3, 0, 0, 0), (b"fcall", -3, 0, 0, 0), (b"fcall_ro", -3, 0, 0, 0),
        (b"script", -2, 0, 0, 0), (b"function", -2, 0, 0, 0),
    ]


# ---------------------------------------------------------------- shebang (Redis 7 EVAL flags)

def test_eval_shebang(c):
    body = "#!lua flags=no-writes\nreturn redis.call('set','a','b')"
    assert c.err("EVAL", body, "0") == script_err(
        body, "ERR Write commands are not allowed from read-only scripts.", 2)
    assert c.cmd("EVAL", "#!lua\nreturn 1", "0") == 1
    assert c.cmd("EVAL", "#!lua flags=no-writes,allow-oom\nreturn 2", "0") == 2
    assert c.err("EVAL", "#!luax\nreturn 1", "0") == "ERR Unexpected engine in script shebang: #!luax"
    assert c.err("EVAL", "#!lua flags=bad\nreturn 1", "0") == "ERR Unexpected flag in script shebang: bad"
    assert c.err("EVAL", "#!lua name=x\nreturn 1", "0") == "ERR Unknown lua shebang option: name=x"
    assert c.err("EVAL", "#!lua", "0") == "ERR Invalid script shebang"
    assert c.err("EVAL", "#!lua\nreturn x", "0") == script_err(
        "#!lua\nreturn x", "ERR user_script:2: Script attempted to access nonexistent global variable 'x'", 2)
    assert c.err("EVAL_RO", "#!lua\nreturn 1", "0") == \
        "ERR Can not execute a script with write flag using *_ro command."
    assert c.cmd("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0") == 1
    sh = c.cmd("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 3")
    assert c.cmd("EVALSHA_RO", sh, "0") == 3


def test_shutdown_nosave_ends_unkillable_script(server_factory):
    s = server_factory()
    s.expect_exit = True
    other = s.conn()
    other.cmd("CONFIG", "SET", "busy-reply-threshold", "100")
    body = "redis.call('set', 'w', '1') local i = 0 while i < 3e9 do i = i + 1 end return i"
    t, res = run_in_thread(s.port, "EVAL", body, "0")
    try:
        poll_busy(other)
        assert other.err("SCRIPT", "KILL").startswith("UNKILLABLE ")
        other.send_cmd("SHUTDOWN", "NOSAVE")
        wait_until(lambda: not s.alive(), timeout=30, what="server exit")
    finally:
        t.join(60)
    assert "reply" not in res           # the script never answered: the server exited
    other.close()


def test_slowlog_shows_script_commands(c):
    try:
        c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
        c.cmd("SLOWLOG", "RESET")
        c.cmd("EVAL", "return redis.call('set','a','b')", "0")
        entries = c.cmd("SLOWLOG", "GET", "3")
        assert [e[3] for e in entries[:2]] == [[b"EVAL", b"return redis.call('set','a','b')", b"0"],
                                               [b"set", b"a", b"b"]]
        assert entries[1][4] == b"?:0"
    finally:
        c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        c.cmd("SLOWLOG", "RESET")


# ---------------------------------------------------------------- FUNCTION DUMP / RESTORE

BIG_LIB = "#!lua name=big\n" + "".join(
    f"redis.register_function('f{i}', function(keys, args) return 'value number {i} ' .. (args[1] or '') end)\n"
    for i in range(30))      # long and repetitive: Redis LZF-compresses it in its payload
SMALL_LIB = "#!lua name=aa\nredis.register_function('aaf', function() return 1 end)"


def test_function_dump_restore_errors(c):
    c.cmd("FUNCTION", "FLUSH")
    c.cmd("FUNCTION", "LOAD", SMALL_LIB)
    payload = c.cmd("FUNCTION", "DUMP")
    assert c.err("FUNCTION", "RESTORE", payload) == "ERR Library aa already exists"
    assert c.err("FUNCTION", "RESTORE", payload, "BAD") == \
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    assert c.err("FUNCTION", "RESTORE", b"xx") == "ERR DUMP payload version or checksum are wrong"
    assert c.err("FUNCTION", "RESTORE", payload[:-1] + b"x") == "ERR DUMP payload version or checksum are wrong"
    assert c.cmd("FUNCTION", "RESTORE", payload, "REPLACE") == "OK"
    assert c.cmd("FUNCTION", "RESTORE", payload, "FLUSH") == "OK"
    assert c.cmd("FUNCTION", "FLUSH") == "OK"
    assert c.cmd("FUNCTION", "RESTORE", payload) == "OK"
    assert c.cmd("FCALL", "aaf", "0") == 1
    c.cmd("FUNCTION", "FLUSH")
    empty = c.cmd("FUNCTION", "DUMP")
    assert len(empty) == 10                      # version + CRC only
    assert c.cmd("FUNCTION", "RESTORE", empty) == "OK"


def test_function_payload_between_servers(server, kv_target, tmp_path):
    """A payload DUMPed by one server RESTOREs into the other, both ways."""
    from conftest import start_server
    other_target = "redis" if kv_target == "scaleout" else "scaleout"
    other = start_server(other_target, tmp_path / "other")
    try:
        a, b = server.conn(), other.conn()
        for src, dst in ((a, b), (b, a)):
            for conn in (a, b):
                conn.cmd("FUNCTION", "FLUSH")
            assert src.cmd("FUNCTION", "LOAD", SMALL_LIB) == b"aa"
            assert src.cmd("FUNCTION", "LOAD", BIG_LIB) == b"big"
            assert dst.cmd("FUNCTION", "RESTORE", src.cmd("FUNCTION", "DUMP")) == "OK"
            assert sorted(lib[1] for lib in dst.cmd("FUNCTION", "LIST")) == [b"aa", b"big"]
            assert dst.cmd("FCALL", "f7", "0", "x") == b"value number 7 x"
            assert dst.cmd("FUNCTION", "LIST", "LIBRARYNAME", "big", "WITHCODE")[0][-1] == BIG_LIB.encode()
        a.cmd("FUNCTION", "FLUSH")
        a.close()
        b.close()
    finally:
        other.stop()


@pytest.mark.parametrize("threads", ["1", "2"])
def test_busy_with_misbehaving_clients(server_factory, kv_target, threads):
    """During a busy script: a protocol error, a client that goes away and a
    pipeline of 100 commands, on every worker; the server survives all."""
    if threads != "1" and kv_target != "scaleout":
        pytest.skip("worker threads are scaleout's")
    s = server_factory(*(("--threads", threads) if kv_target == "scaleout" else ()))
    conns = [s.conn() for _ in range(6)]
    conns[0].cmd("CONFIG", "SET", "busy-reply-threshold", "100")
    t, res = run_in_thread(s.port, "EVAL", LOOP, "0")
    try:
        poll_busy(conns[0])
        conns[1].send(b"*1\r\n$abc\r\n")              # protocol error
        conns[2].close()                               # gone
        conns[3].send(b"".join(b"*1\r\n$4\r\nPING\r\n" for _ in range(100)))
        replies = [conns[3].read() for _ in range(100)]
        assert all(isinstance(r, RespError) and r.msg.startswith("BUSY ") for r in replies)
        assert conns[4].cmd("SCRIPT", "KILL") == "OK"
    finally:
        t.join(120)
    assert isinstance(res["reply"], RespError)
    fresh = s.conn()
    assert fresh.cmd("PING") == "PONG"
    assert conns[5].cmd("PING") == "PONG"
    for conn in [fresh] + conns[3:]:
        conn.close()


def test_blmpop_in_script_does_not_block(c):
    assert c.cmd("EVAL", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", "1", "nolist") is None
    c.cmd("RPUSH", "bl", "a")
    assert c.cmd("EVAL", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", "1", "bl") == [b"bl", [b"a"]]


@scaleout_only
def test_lua_heap_bounded_by_maxmemory(server_factory, kv_target):
    """A script that builds ever more data fails with Lua's memory error at
    maxmemory (Redis lets the Lua heap grow without bound); the heap is
    collected afterwards and the next script runs."""
    s = server_factory("--maxmemory", "100mb")
    c = s.conn()
    body = "local t = {} for i = 1, 1e8 do t[i] = {i, i, i, i} end return #t"
    assert c.err("EVAL", body, "0") == f"ERR Error running script (call to {sha(body)}): @not enough memory"
    info = parse_info(c.cmd("INFO", "memory").decode())
    assert info["used_memory_lua"] < 50 * 1024 * 1024
    assert c.cmd("EVAL", "return #string.rep('x', 1000)", "0") == 1000
    c.close()


def test_scripts_in_multi(c):
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("EVAL", "return redis.call('incr', KEYS[1])", "1", "m") == "QUEUED"
    assert c.cmd("EVAL", "return redis.call('incr', KEYS[1])", "1", "m") == "QUEUED"
    assert c.cmd("EXEC") == [1, 2]
    assert c.cmd("MULTI") == "OK"
    assert c.err("SCRIPT", "BAD") == "ERR unknown subcommand 'BAD'. Try SCRIPT HELP."
    assert c.err("FUNCTION", "STATS", "x") == "ERR wrong number of arguments for 'function|stats' command"
    assert c.err("EXEC") == "EXECABORT Transaction discarded because of previous errors."
