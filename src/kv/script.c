/*
 * script.c — the Lua engine of kv (see script.h): the sandboxed state, the
 * redis.* API, the conversions between RESP and Lua (both ways, RESP2 and
 * RESP3, as Redis 7.0's script_lua.c), EVAL/EVALSHA(_RO) and SCRIPT.
 * FUNCTION and FCALL live in function.c on top of kv_lua_run().
 *
 * Everything here runs with the keyspace lock held, on the worker thread of
 * the client that called the script, except kv_script_busy_reply().
 */
#include "kv/script_int.h"

#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/sha1.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/lua_libs.h"
#include "kv/reply.h"

#define HOOK_COUNT 100000      /* instructions between busy/kill checks (Redis: same) */
#define MAX_REPLY_DEPTH 500    /* nested tables converted before "reached lua stack limit" */
#define LRAND48_MAX INT32_MAX

/* ---- Redis's rand48, for math.random ---------------------------------------- */

static uint64_t rand48_x = 0x1234ABCD330EULL;

static int32_t rand48_next(void)
{
    rand48_x = (rand48_x * 0x5DEECE66DULL + 0xB) & 0xFFFFFFFFFFFFULL;
    return (int32_t)(rand48_x >> 17);
}

static int lua_math_random(lua_State *L)
{
    lua_Number r = (lua_Number)(rand48_next() % LRAND48_MAX) / (lua_Number)LRAND48_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1), u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int lua_math_randomseed(lua_State *L)
{
    int32_t seed = (int32_t)luaL_checkint(L, 1);
    rand48_x = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
    return 0;
}

/* ---- the engine state -------------------------------------------------------- */

/* The engine of a Lua state. Every Lua call runs under the keyspace lock, so
 * a one-entry cache in front of the registry lookup is safe (kv_script_free
 * clears it: a new state may get the same address). */
static lua_State *s_last_L;
static struct kv_script *s_last_sc;

static struct kv_script *S(lua_State *L)
{
    if (L == s_last_L)
        return s_last_sc;
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_script");
    struct kv_script *sc = lua_touserdata(L, -1);
    lua_pop(L, 1);
    s_last_L = L;
    s_last_sc = sc;
    return sc;
}

void kv_lua_sha1hex(const char *p, size_t n, char out[41]) { sha1_hex(p, n, out); }

/* A table made read-only: writes raise Redis's error with the position of
 * the Lua code that tried. */
static int ro_newindex(lua_State *L)
{
    luaL_where(L, 1);
    lua_pushstring(L, "Attempt to modify a readonly table");
    lua_concat(L, 2);
    return lua_error(L);
}

/*
 * Reading a global a script never defined is an error (Redis 7). The script
 * environment is an empty read-only proxy whose __index is a table: the real
 * globals (or, while FUNCTION LOAD runs a library body, the load-time table),
 * so a hit is resolved by the Lua VM itself with no C call; only a miss goes
 * on to this function, the __index of both those tables.
 */
static int globals_miss(lua_State *L)
{
    luaL_where(L, 1);
    lua_pushfstring(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, 2));
    lua_concat(L, 2);
    return lua_error(L);
}

/* __index of tables where a missing name is an error (FUNCTION LOAD's redis) */
static int missing_index(lua_State *L)
{
    luaL_where(L, 1);
    lua_pushfstring(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, 2));
    lua_concat(L, 2);
    return lua_error(L);
}

/* loadstring, whose chunks see the read-only globals too */
static int lua_loadstring_env(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    if (lua_isfunction(L, 1)) {
        lua_getfield(L, LUA_REGISTRYINDEX, "__kv_env");
        lua_setfenv(L, 1);
    }
    return lua_gettop(L);
}

/* setmetatable refuses the protected tables too */
static int lua_setmetatable_guard(lua_State *L)
{
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        lua_getfield(L, -1, "__kv_ro");
        bool ro = lua_toboolean(L, -1);
        lua_pop(L, 2);
        if (ro) {
            /* a string, as Redis's patched Lua raises it (pcall sees it bare) */
            lua_pushstring(L, "Attempt to modify a readonly table");
            return lua_error(L);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* rawset refuses the protected tables, as Redis's readonly tables do. */
static int lua_rawset_guard(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getmetatable(L, 1)) {
        lua_getfield(L, -1, "__kv_ro");
        bool ro = lua_toboolean(L, -1);
        lua_pop(L, 2);
        if (ro) {
            /* a string, as Redis's patched Lua raises it (pcall sees it bare) */
            lua_pushstring(L, "Attempt to modify a readonly table");
            return lua_error(L);
        }
    }
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* Replace global `name` (a library table) by an empty read-only proxy that
 * reads through to it. The real table stays reachable by the C code. */
static void protect_table(lua_State *L, int globals, const char *name)
{
    lua_getfield(L, globals, name);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_newtable(L);          /* proxy */
    lua_newtable(L);          /* its metatable */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "__kv_ro");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setfield(L, globals, name);
    lua_pop(L, 1);
}

/* Make the environment table used by scripts: an empty proxy whose reads go to
 * the real globals (kv_lua_load_hook points them at the load-time table while
 * a library loads) and whose writes fail. Its metatable is kept in the
 * registry as __kv_envmt. */
static void make_env(lua_State *L, int globals)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushvalue(L, globals);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "__kv_ro");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_envmt");
    lua_setmetatable(L, -2);
}

/* Give table t a metatable whose __index raises globals_miss's error. */
static void set_miss_meta(lua_State *L, int t)
{
    lua_newtable(L);
    lua_pushcfunction(L, globals_miss);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, t);
}

/* Redis 7.0's error handler: a string error becomes {err='ERR ' .. e}; the
 * position of the script line that failed is attached. */
static const char *err_handler_src =
    "local dbg = ...\n"
    "return function (err)\n"
    "  local i = dbg.getinfo(2,'nSl')\n"
    "  if i and i.what == 'C' then i = dbg.getinfo(3,'nSl') end\n"
    "  if type(err) ~= 'table' then err = {err='ERR ' .. tostring(err)} end\n"
    "  if i then err['source'] = i.source; err['line'] = i.currentline end\n"
    "  return err\n"
    "end\n";

static void load_optional(lua_State *L, const char *mod)
{
    /* Debian's lua-cjson / lua-bitop, loaded through package.loadlib's search
     * before the package library is removed. Missing: the global stays nil. */
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    if (lua_pcall(L, 1, 1, 0) != 0) {
        log_warn("scripting: Lua module '%s' not available: %s", mod, lua_tostring(L, -1));
        lua_pop(L, 1);
        return;
    }
    lua_setglobal(L, mod);
}

static void register_api(lua_State *L, struct kv_script *sc);

/* Lua's memory goes through the counted allocator: it shows in used_memory
 * and maxmemory like every other byte of the server. */
/* The Lua heap is bounded: while a script runs (inside lua_pcall, where Lua
 * turns a refused allocation into a "not enough memory" error), growth past
 * maxmemory (1 GB when maxmemory is 0) is refused. Outside a script nothing is
 * refused: an allocation failing there would be a Lua panic. */
#define LUA_HEAP_FALLBACK (1ULL << 30)

static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct kv_script *sc = ud;
    if (nsize == 0) {
        xfree(ptr);
        sc->lua_bytes -= osize;
        return NULL;
    }
    if (nsize > osize && (sc->running || sc->loading_lib)) {
        unsigned long long limit = sc->srv->cfg.maxmemory ? sc->srv->cfg.maxmemory : LUA_HEAP_FALLBACK;
        if (sc->lua_bytes + (nsize - osize) > limit)
            return NULL;
    }
    void *p = xtry_realloc(ptr, nsize);
    if (p)
        sc->lua_bytes = sc->lua_bytes - osize + nsize;
    return p;
}

static int lua_panic(lua_State *L)
{
    log_warn("scripting: Lua panic: %s", lua_tostring(L, -1));
    abort();
}

static lua_State *state_new(struct kv_script *sc)
{
    lua_State *L = lua_newstate(lua_alloc, sc);
    if (L)
        lua_atpanic(L, lua_panic);
    if (!L)
        return NULL;
    static const luaL_Reg libs[] = {
        {"", luaopen_base}, {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_DBLIBNAME, luaopen_debug}, {LUA_LOADLIBNAME, luaopen_package},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        lua_pushcfunction(L, libs[i].func);
        lua_pushstring(L, libs[i].name);
        lua_call(L, 1, 0);
    }
    load_optional(L, "cjson");
    load_optional(L, "bit");
    kv_lua_open_struct(L);
    kv_lua_open_cmsgpack(L);
    lua_pop(L, 2);
    lua_pushlightuserdata(L, sc);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_script");

    /* the error handler keeps the debug library; scripts do not see it */
    lua_getglobal(L, "debug");
    if (luaL_loadstring(L, err_handler_src) != 0)
        abort();
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_errh");
    lua_pop(L, 1);

    /* what Redis removes */
    static const char *removed[] = {"debug", "package", "require", "module", "dofile", "loadfile", "print",
                                    "setfenv", "getfenv", "newproxy", "os", "io"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, "math");
    lua_pushcfunction(L, lua_math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, lua_math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    lua_pushcfunction(L, lua_rawset_guard);
    lua_setglobal(L, "rawset");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, lua_setmetatable_guard, 1);
    lua_setglobal(L, "setmetatable");
    static const char *loaders[] = {"loadstring", "load"};
    for (size_t i = 0; i < 2; i++) {
        lua_getglobal(L, loaders[i]);
        lua_pushcclosure(L, lua_loadstring_env, 1);
        lua_setglobal(L, loaders[i]);
    }

    register_api(L, sc);

    int g = lua_gettop(L) + 1;
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    static const char *protect[] = {"redis", "string", "math", "table", "cjson", "bit", "struct", "cmsgpack",
                                    "coroutine"};
    for (size_t i = 0; i < sizeof protect / sizeof protect[0]; i++)
        protect_table(L, g, protect[i]);

    /* the load-time table of FUNCTION LOAD: the libraries and a redis table
     * with only register_function and the logging API */
    lua_newtable(L);
    int lt = lua_gettop(L);
    /* no libraries: redis-server 7.0.15 answers "Script attempted to access
     * nonexistent global variable 'string'" (or cjson, cmsgpack, struct,
     * math, ...) to a library body that uses one at load time */
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_loadredis");
    lua_setfield(L, lt, "redis");
    lua_pushvalue(L, lt);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_loadtab");

    set_miss_meta(L, lt);
    lua_pushvalue(L, g);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_globals");
    make_env(L, g);
    lua_pushvalue(L, -1);
    lua_setfield(L, g, "_G"); /* _G is the read-only view */
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_env");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_scripts");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_sflags");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_bodies");
    set_miss_meta(L, g); /* last: C code above reads globals that may be nil */
    lua_settop(L, 0);
    return L;
}

struct kv_script *kv_script_get(struct kv_server *s)
{
    if (s->script)
        return s->script;
    struct kv_script *sc = xcalloc(1, sizeof *sc);
    sc->srv = s;
    sc->fake = xcalloc(1, sizeof *sc->fake);
    struct kv_client *f = sc->fake;
    f->srv = s;
    f->authed = true;
    f->proto = 2;
    f->last_cmd = -1;
    f->in_exec = true; /* blocking commands (refused anyway) never block */
    f->fd = -1;
    f->id = UINT64_MAX;
    f->script_client = true;
    buf_init(&f->in);
    buf_init(&f->out);
    buf_init(&f->wbuf);
    snprintf(f->addr, sizeof f->addr, "?:0"); /* what Redis's SLOWLOG shows for a script's commands */
    sc->L = state_new(sc);
    if (!sc->L) {
        log_warn("scripting: cannot create the Lua state");
        abort();
    }
    static const char *noscript[] = {"auth", "hello", "multi", "exec", "discard", "watch", "unwatch", "eval",
                                     "evalsha", "eval_ro", "evalsha_ro", "script", "function", "fcall", "fcall_ro",
                                     "reset", "subscribe", "unsubscribe", "psubscribe", "punsubscribe",
                                     "ssubscribe", "sunsubscribe", "monitor", "sync", "psync", "replconf",
                                     "client", "shutdown", "quit", "save", "bgsave", "bgrewriteaof", "debug",
                                     "config", "role", "wait", "failover", "replicaof", "slaveof", "acl",
                                     "latency", "module", "blpop", "brpop", "blmove", "brpoplpush",
                                     "bzpopmin", "bzpopmax"};
    for (size_t i = 0; i < sizeof noscript / sizeof noscript[0]; i++) {
        int id = resp_cmd_lookup(noscript[i], strlen(noscript[i]));
        if (id >= 0)
            sc->noscript[id] = true;
    }
    /* Redis 7.0's "noscript" commands (blocking ones except BLMPOP/BZMPOP, which
     * run without blocking in a script as in MULTI) */
    s->script = sc;
    return sc;
}

void kv_script_free(struct kv_script *sc)
{
    if (!sc)
        return;
    if (sc->free_libs)
        sc->free_libs(sc);
    lua_close(sc->L);
    s_last_L = NULL;
    s_last_sc = NULL;
    buf_deinit(&sc->fake->in);
    buf_deinit(&sc->fake->out);
    buf_deinit(&sc->fake->wbuf);
    xfree(sc->fake);
    xfree(sc->argv);
    xfree(sc->argbuf);
    xfree(sc);
}

size_t kv_script_memory(struct kv_server *s)
{
    if (!s->script)
        return 37 * 1024; /* an empty Lua state, as Redis reports before the first script */
    return (size_t)lua_gc(s->script->L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(s->script->L, LUA_GCCOUNTB, 0);
}

long long kv_script_cached(struct kv_server *s, size_t *bytes)
{
    if (bytes)
        *bytes = s->script ? s->script->scripts_bytes : 0;
    return s->script ? s->script->nscripts : 0;
}

/* ---- RESP reply of a command ─▶ Lua value ------------------------------------- */

static const char *line_end(const char *p, const char *end)
{
    const char *q = memchr(p, '\r', (size_t)(end - p));
    return q ? q : end;
}

static long long line_ll(const char *p, const char *e)
{
    long long v = 0;
    if (!util_str2ll(p, (size_t)(e - p), &v))
        v = 0;
    return v;
}

/* Push the reply at *pp (a complete reply written by a handler) and advance. */
static void push_reply(lua_State *L, const char **pp, const char *end)
{
    const char *p = *pp;
    if (p >= end) {
        lua_pushnil(L);
        return;
    }
    lua_checkstack(L, 8);
    char t = *p++;
    const char *e = line_end(p, end);
    const char *next = e + 2 <= end ? e + 2 : end;
    switch (t) {
    case '+':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)(e - p));
        lua_setfield(L, -2, "ok");
        *pp = next;
        return;
    case '-':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)(e - p));
        lua_setfield(L, -2, "err");
        *pp = next;
        return;
    case ':':
        lua_pushnumber(L, (lua_Number)line_ll(p, e));
        *pp = next;
        return;
    case '_':
        lua_pushnil(L);
        *pp = next;
        return;
    case '#':
        lua_pushboolean(L, *p == 't');
        *pp = next;
        return;
    case ',': {
        char tmp[128];
        size_t n = (size_t)(e - p) < sizeof tmp - 1 ? (size_t)(e - p) : sizeof tmp - 1;
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        lua_newtable(L);
        lua_pushnumber(L, strtod(tmp, NULL));
        lua_setfield(L, -2, "double");
        *pp = next;
        return;
    }
    case '(':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)(e - p));
        lua_setfield(L, -2, "big_number");
        *pp = next;
        return;
    case '$':
    case '=': {
        long long n = line_ll(p, e);
        if (n < 0) {
            lua_pushboolean(L, 0);
            *pp = next;
            return;
        }
        if (next + n > end)
            n = end - next;
        if (t == '$') {
            lua_pushlstring(L, next, (size_t)n);
        } else {
            lua_newtable(L);
            lua_newtable(L);
            lua_pushlstring(L, next, n >= 3 ? 3 : (size_t)n);
            lua_setfield(L, -2, "format");
            lua_pushlstring(L, n >= 4 ? next + 4 : next, n >= 4 ? (size_t)n - 4 : 0);
            lua_setfield(L, -2, "string");
            lua_setfield(L, -2, "verbatim_string");
        }
        *pp = next + n + 2 <= end ? next + n + 2 : end;
        return;
    }
    case '*':
    case '>': {
        long long n = line_ll(p, e);
        *pp = next;
        if (n < 0) {
            lua_pushboolean(L, 0);
            return;
        }
        lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);
        for (long long i = 1; i <= n; i++) {
            push_reply(L, pp, end);
            lua_rawseti(L, -2, (int)i);
        }
        return;
    }
    case '%':
    case '~': {
        long long n = line_ll(p, e);
        *pp = next;
        lua_newtable(L);
        lua_newtable(L);
        for (long long i = 0; i < n; i++) {
            push_reply(L, pp, end);
            if (t == '%')
                push_reply(L, pp, end);
            else
                lua_pushboolean(L, 1);
            if (lua_isnil(L, -2))
                lua_pop(L, 2);
            else
                lua_rawset(L, -3);
        }
        lua_setfield(L, -2, t == '%' ? "map" : "set");
        return;
    }
    default:
        lua_pushnil(L);
        *pp = end;
        return;
    }
}

/* An error of the redis.* API: {err="ERR msg"} raised, no position (Redis's luaPushError). */
static int api_error(lua_State *L, const char *msg)
{
    lua_newtable(L);
    lua_pushfstring(L, "ERR %s", msg);
    lua_setfield(L, -2, "err");
    return lua_error(L);
}

/* ---- redis.call / redis.pcall ------------------------------------------------- */

/* Push {err=msg} and, when raising, raise it (the handler adds the position). */
static int push_error(lua_State *L, const char *msg, size_t n, bool raise)
{
    lua_newtable(L);
    lua_pushlstring(L, msg, n);
    lua_setfield(L, -2, "err");
    if (raise)
        return lua_error(L);
    return 1;
}

static int push_error_cstr(lua_State *L, const char *msg, bool raise) { return push_error(L, msg, strlen(msg), raise); }

static int redis_call_generic(lua_State *L, bool raise)
{
    struct kv_script *sc = S(L);
    int argc = lua_gettop(L);
    if (sc->loading_lib)
        return luaL_error(L, "redis.call and redis.pcall can not be called on FUNCTION LOAD");
    if (argc == 0)
        return push_error_cstr(L, "ERR Please specify at least one argument for this redis lib call", raise);
    /* the arguments, copied into one scratch buffer (numbers as %.17g) */
    size_t total = 0;
    for (int i = 1; i <= argc; i++) {
        int t = lua_type(L, i);
        if (t == LUA_TSTRING)
            total += lua_objlen(L, i);
        else if (t == LUA_TNUMBER)
            total += 32;
        else
            return push_error_cstr(L, "ERR Lua redis lib command arguments must be strings or integers", raise);
    }
    if ((size_t)argc > sc->argv_cap) {
        sc->argv_cap = (size_t)argc * 2;
        sc->argv = xrealloc(sc->argv, sc->argv_cap * sizeof *sc->argv);
    }
    if (total + 1 > sc->argbuf_cap) {
        sc->argbuf_cap = total * 2 + 64;
        sc->argbuf = xrealloc(sc->argbuf, sc->argbuf_cap);
    }
    size_t off = 0;
    for (int i = 1; i <= argc; i++) {
        struct resp_arg *a = &sc->argv[i - 1];
        if (lua_type(L, i) == LUA_TNUMBER) {
            int n = snprintf(sc->argbuf + off, 32, "%.17g", (double)lua_tonumber(L, i));
            a->len = (size_t)n;
        } else {
            size_t n;
            const char *p = lua_tolstring(L, i, &n);
            memcpy(sc->argbuf + off, p, n);
            a->len = n;
        }
        off += a->len;
    }
    off = 0;
    for (int i = 0; i < argc; i++) {
        sc->argv[i].ptr = sc->argbuf + off;
        off += sc->argv[i].len;
    }
    struct resp_arg *argv = sc->argv;
    int id = resp_cmd_lookup(argv[0].ptr, argv[0].len);
    if (id < 0)
        return push_error_cstr(L, "ERR Unknown Redis command called from script", raise);
    const struct resp_cmd *cmd = &resp_cmds[id];
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity)
        return push_error_cstr(L, "ERR Wrong number of args calling Redis command from script", raise);
    if (sc->noscript[id])
        return push_error_cstr(L, "ERR This Redis command is not allowed from script", raise);
    char acl_err[640]; /* the caller's permissions, checked as Redis does before the write checks */
    if (sc->caller && sc->caller->user && !kv_acl_user_unrestricted(sc->caller->user) &&
        !kv_acl_check(sc->caller, KV_ACL_LUA, id, argc, argv, acl_err, sizeof acl_err))
        return push_error_cstr(L, acl_err, raise);
    if (cmd->flags & CMD_WRITE) {
        if (sc->ro)
            return push_error_cstr(L, "ERR Write commands are not allowed from read-only scripts.", raise);
        const char *deny;
        if (sc->srv->ops->repl_deny_write(sc->fake, &deny)) /* a read-only replica, as Redis: before OOM */
            return push_error_cstr(L, deny, raise);
        if (sc->oom && (cmd->flags & CMD_DENYOOM))
            return push_error_cstr(L, "OOM command not allowed when used memory > 'maxmemory'.", raise);
        sc->wrote = true;
        if (atomic_load(&sc->srv->script_busy))
            atomic_store(&sc->srv->script_wrote, true);
    }
    struct kv_client *f = sc->fake;
    f->out.off = f->out.len = 0;
    f->proto = sc->resp;
    f->reply_over = false;
    kv_call_queued(f, id, argc, argv);
    if (sc->argbuf_cap > (1u << 20)) { /* one huge argument does not pin its copy */
        xfree(sc->argbuf);
        sc->argbuf = NULL;
        sc->argbuf_cap = 0;
    }
    const char *p = buf_head(&f->out), *end = buf_tail(&f->out);
    bool is_err = p < end && *p == '-';
    if (f->reply_over) {
        /* the handler stopped at the output limit: its reply is cut short */
        is_err = true;
        push_error_cstr(L, "ERR reply exceeds the client output buffer limit", false);
    } else if (is_err) {
        const char *e = line_end(p + 1, end);
        push_error(L, p + 1, (size_t)(e - p - 1), false);
    } else {
        push_reply(L, &p, end);
    }
    f->out.off = f->out.len = 0;
    buf_shrink(&f->out, 64 * 1024); /* a huge reply does not pin its buffer */
    if (is_err && raise)
        return lua_error(L);
    return 1;
}

static int lua_redis_call(lua_State *L) { return redis_call_generic(L, true); }
static int lua_redis_pcall(lua_State *L) { return redis_call_generic(L, false); }

static int lua_redis_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
        return push_error_cstr(L, "ERR wrong number or type of arguments", false);
    /* Redis's luaPushErrorBuff: "-CODE msg" keeps its code, a message without
     * a space gets ERR; CR/LF trimmed from the message's ends */
    const char *p = lua_tostring(L, 1); /* a C string in Redis: ends at NUL */
    if (*p == '-')
        p++;
    const char *sp = strchr(p, ' ');
    const char *code = sp ? p : "ERR";
    size_t clen = sp ? (size_t)(sp - p) : 3;
    const char *msg = sp ? sp + 1 : p;
    size_t mlen = strlen(msg);
    while (mlen && (*msg == '\r' || *msg == '\n'))
        msg++, mlen--;
    while (mlen && (msg[mlen - 1] == '\r' || msg[mlen - 1] == '\n'))
        mlen--;
    lua_newtable(L);
    lua_pushlstring(L, code, clen);
    lua_pushstring(L, " ");
    lua_pushlstring(L, msg, mlen);
    lua_concat(L, 3);
    lua_setfield(L, -2, "err");
    return 1;
}

static int lua_redis_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
        return push_error_cstr(L, "ERR wrong number or type of arguments", false);
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int lua_redis_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return api_error(L, "wrong number of arguments");
    size_t n;
    const char *p = lua_tolstring(L, 1, &n);
    char hex[41];
    kv_lua_sha1hex(p ? p : "", p ? n : 0, hex);
    lua_pushstring(L, hex);
    return 1;
}

static int lua_redis_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2)
        return api_error(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1))
        return api_error(L, "First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < 0 || level > 3)
        return api_error(L, "Invalid debug level.");
    struct buf b;
    buf_init(&b);
    for (int i = 2; i <= argc; i++) {
        size_t n;
        const char *p = lua_tolstring(L, i, &n);
        if (p) {
            if (i > 2)
                buf_putc(&b, ' ');
            buf_append(&b, p, n);
        }
    }
    buf_putc(&b, '\0');
    switch (level) {
    case 0: log_debug("%s", buf_head(&b)); break;
    case 1: log_verbose("%s", buf_head(&b)); break;
    case 2: log_notice("%s", buf_head(&b)); break;
    default: log_warn("%s", buf_head(&b)); break;
    }
    buf_deinit(&b);
    return 0;
}

static int lua_redis_setresp(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return api_error(L, "redis.setresp() requires one argument.");
    int v = (int)lua_tonumber(L, 1);
    if (v != 2 && v != 3)
        return api_error(L, "RESP version must be 2 or 3.");
    S(L)->resp = v;
    return 0;
}

static int lua_redis_set_repl(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return api_error(L, "redis.set_repl() requires one argument.");
    int v = (int)lua_tonumber(L, 1);
    if (v < 0 || v > 3)
        return api_error(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    return 0; /* accepted: every write is propagated as itself, as Redis 7.0's effects replication */
}

static int lua_redis_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

static int lua_redis_breakpoint(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int lua_redis_debug(lua_State *L)
{
    (void)L;
    return 0;
}

static void set_consts(lua_State *L)
{
    static const struct {
        const char *name;
        int v;
    } consts[] = {
        {"LOG_DEBUG", 0}, {"LOG_VERBOSE", 1}, {"LOG_NOTICE", 2}, {"LOG_WARNING", 3},
        {"REPL_NONE", 0}, {"REPL_AOF", 1}, {"REPL_SLAVE", 2}, {"REPL_REPLICA", 2}, {"REPL_ALL", 3},
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
        lua_pushnumber(L, consts[i].v);
        lua_setfield(L, -2, consts[i].name);
    }
    lua_pushstring(L, KV_REDIS_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    lua_pushnumber(L, KV_REDIS_VERSION_NUM);
    lua_setfield(L, -2, "REDIS_VERSION_NUM");
}

static void register_api(lua_State *L, struct kv_script *sc)
{
    (void)sc;
    static const luaL_Reg api[] = {
        {"call", lua_redis_call}, {"pcall", lua_redis_pcall}, {"error_reply", lua_redis_error_reply},
        {"status_reply", lua_redis_status_reply}, {"sha1hex", lua_redis_sha1hex}, {"log", lua_redis_log},
        {"setresp", lua_redis_setresp}, {"set_repl", lua_redis_set_repl},
        {"replicate_commands", lua_redis_replicate_commands}, {"breakpoint", lua_redis_breakpoint},
        {"debug", lua_redis_debug}, {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *r = api; r->name; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, -2, r->name);
    }
    set_consts(L);
    lua_setglobal(L, "redis");

    /* FUNCTION LOAD's redis: register_function and the logging API */
    lua_newtable(L);
    /* a placeholder: function.c sets its own before the first FUNCTION LOAD
     * runs a body (the key stays where it was: the table's layout is as if
     * the function were set here) */
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "register_function");
    lua_pushcfunction(L, lua_redis_log);
    lua_setfield(L, -2, "log");
    lua_pushcfunction(L, lua_redis_setresp);
    lua_setfield(L, -2, "setresp");
    set_consts(L);
    lua_newtable(L);
    lua_pushcfunction(L, missing_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "__kv_loadredis");
}

/* ---- Lua value ─▶ RESP reply for the caller ------------------------------------ */

static bool field(lua_State *L, int idx, const char *name, int type)
{
    lua_pushstring(L, name);
    lua_rawget(L, idx);
    if (lua_type(L, -1) == type)
        return true;
    lua_pop(L, 1);
    return false;
}

static void add_error_line(struct buf *out, const char *p, size_t n)
{
    buf_putc(out, '-');
    for (size_t i = 0; i < n; i++)
        buf_putc(out, (p[i] == '\r' || p[i] == '\n') ? ' ' : p[i]);
    buf_append(out, "\r\n", 2);
}

static long long lua_number_to_ll(lua_Number v)
{
    /* Redis casts; x86 gives LLONG_MIN for NaN and out of range values */
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
        return LLONG_MIN;
    return (long long)v;
}

/* The number of key/value pairs of the table at stack index t. */
static long long table_pairs(lua_State *L, int t)
{
    long long n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        n++;
        lua_pop(L, 1);
    }
    return n;
}

static void reply_value(struct kv_script *sc, lua_State *L, struct buf *out, int proto, int depth)
{
    int idx = lua_gettop(L);
    if (depth > MAX_REPLY_DEPTH || !lua_checkstack(L, 6)) {
        resp_add_error(out, "ERR reached lua stack limit", 27);
        return;
    }
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *p = lua_tolstring(L, idx, &n);
        resp_add_bulk(out, p, n);
        return;
    }
    case LUA_TBOOLEAN:
        if (sc->resp == 2) {
            if (lua_toboolean(L, idx))
                resp_add_int(out, 1);
            else
                resp_add_null(out, proto);
        } else {
            resp_add_bool(out, proto, lua_toboolean(L, idx));
        }
        return;
    case LUA_TNUMBER:
        resp_add_int(out, lua_number_to_ll(lua_tonumber(L, idx)));
        return;
    case LUA_TTABLE:
        break;
    default:
        resp_add_null(out, proto);
        return;
    }
    /* err and ok are C strings in Redis: they end at a NUL byte */
    if (field(L, idx, "err", LUA_TSTRING)) {
        const char *p = lua_tostring(L, -1);
        add_error_line(out, p, strlen(p));
        lua_pop(L, 1);
        return;
    }
    if (field(L, idx, "ok", LUA_TSTRING)) {
        const char *p = lua_tostring(L, -1);
        size_t n = strlen(p);
        buf_putc(out, '+');
        for (size_t i = 0; i < n; i++)
            buf_putc(out, (p[i] == '\r' || p[i] == '\n') ? ' ' : p[i]);
        buf_append(out, "\r\n", 2);
        lua_pop(L, 1);
        return;
    }
    {
        if (field(L, idx, "double", LUA_TNUMBER)) {
            resp_add_double(out, proto, lua_tonumber(L, -1));
            lua_pop(L, 1);
            return;
        }
        if (field(L, idx, "big_number", LUA_TSTRING)) {
            size_t n;
            const char *p = lua_tolstring(L, -1, &n);
            if (proto == 3) {
                buf_putc(out, '(');
                buf_append(out, p, n);
                buf_append(out, "\r\n", 2);
            } else {
                resp_add_bulk(out, p, n);
            }
            lua_pop(L, 1);
            return;
        }
        if (field(L, idx, "map", LUA_TTABLE)) {
            int m = lua_gettop(L);
            long long cnt = table_pairs(L, m);
            resp_add_map(out, proto, cnt);
            lua_pushnil(L);
            while (lua_next(L, m)) {
                lua_pushvalue(L, -2);
                reply_value(sc, L, out, proto, depth + 1);
                lua_pop(L, 1);
                reply_value(sc, L, out, proto, depth + 1);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
            return;
        }
        if (field(L, idx, "set", LUA_TTABLE)) {
            int m = lua_gettop(L);
            long long cnt = table_pairs(L, m);
            resp_add_set(out, proto, cnt);
            lua_pushnil(L);
            while (lua_next(L, m)) {
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                reply_value(sc, L, out, proto, depth + 1);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
            return;
        }
        if (field(L, idx, "verbatim_string", LUA_TTABLE)) {
            int v = lua_gettop(L);
            if (field(L, v, "format", LUA_TSTRING)) {
                if (field(L, v, "string", LUA_TSTRING)) {
                    size_t n;
                    const char *p = lua_tolstring(L, -1, &n);
                    resp_add_verbatim(out, proto, p, n);
                    lua_pop(L, 3);
                    return;
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    /* an array: up to the first nil */
    long long n = 0;
    for (;;) {
        lua_rawgeti(L, idx, (int)(n + 1));
        bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil || n >= INT_MAX - 1)
            break;
        n++;
    }
    resp_add_array(out, n);
    for (long long i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (int)i);
        reply_value(sc, L, out, proto, depth + 1);
        lua_pop(L, 1);
    }
}

/* ---- running ------------------------------------------------------------------- */

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct kv_script *sc = S(L);
    struct kv_server *s = sc->srv;
    long long now = util_mono_us() / 1000;
    if (sc->loading_lib) {
        if (now - sc->start_ms > 500)
            push_error_cstr(L, "ERR FUNCTION LOAD timeout", true);
        return;
    }
    long long limit = s->cfg.busy_reply_threshold;
    if (!atomic_load(&s->script_busy) && limit > 0 && now - sc->start_ms >= limit) {
        log_warn("Slow script detected: still in execution after %lld milliseconds. "
                 "You can try killing the script using the %s command. Script name is: %s.",
                 now - sc->start_ms, sc->is_fn ? "FUNCTION KILL" : "SCRIPT KILL", sc->name);
        atomic_store(&s->script_wrote, sc->wrote);
        atomic_store(&s->script_is_fn, sc->is_fn);
        atomic_store(&s->script_busy, true);
    }
    if (atomic_load(&s->script_busy))
        kv_busy_poll(s);
    if (atomic_load(&s->script_kill)) {
        atomic_store(&s->script_kill, false);
        lua_sethook(L, hook, LUA_MASKLINE, 0); /* raise again at every line if caught */
        sc->killed = true;
    }
    if (sc->killed)
        push_error_cstr(L, sc->is_fn ? "ERR Script killed by user with FUNCTION KILL..."
                                     : "ERR Script killed by user with SCRIPT KILL...", true);
}

void kv_lua_load_hook(struct kv_script *sc, bool on)
{
    lua_State *L = sc->L;
    sc->start_ms = util_mono_us() / 1000;
    lua_sethook(L, on ? hook : NULL, on ? LUA_MASKCOUNT : 0, HOOK_COUNT);
    /* a library body reads the load-time table, its functions the globals */
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_envmt");
    lua_getfield(L, LUA_REGISTRYINDEX, on ? "__kv_loadtab" : "__kv_globals");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

int kv_lua_run(struct kv_script *sc, struct kv_client *c, int fn_idx, int nargs, const struct kv_run_opts *o)
{
    lua_State *L = sc->L;
    struct kv_server *s = sc->srv;
    sc->caller = c;
    sc->ro = o->ro;
    sc->is_fn = o->is_fn;
    sc->name = o->name;
    sc->wrote = false;
    sc->killed = false;
    sc->resp = 2;
    sc->oom = s->cfg.maxmemory && xalloc_used() > s->cfg.maxmemory;
    sc->fake->db = c->db;
    sc->start_ms = util_mono_us() / 1000;
    sc->running = true;
    s->script_caller = c;
    s->script_worker = c->w;
    atomic_store(&s->script_kill, false);
    lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_COUNT);

    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_errh");
    int errh = lua_gettop(L) - nargs - 1;
    lua_insert(L, errh); /* below the function and its arguments */
    int rc = lua_pcall(L, nargs, 1, errh);

    lua_sethook(L, NULL, 0, 0);
    sc->running = false;
    atomic_store(&s->script_busy, false);
    atomic_store(&s->script_wrote, false);
    atomic_store(&s->script_kill, false);
    s->script_caller = NULL;
    s->script_worker = NULL;
    kv_db_select(s, c->db);

    if (rc == 0) {
        reply_value(sc, L, &c->out, c->proto, 0);
    } else if (lua_istable(L, -1)) {
        int t = lua_gettop(L);
        struct buf msg;
        buf_init(&msg);
        if (field(L, t, "err", LUA_TSTRING)) {
            buf_puts(&msg, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        const char *src = NULL;
        long long line = 0;
        bool has_line = false;
        if (field(L, t, "source", LUA_TSTRING)) {
            src = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        if (field(L, t, "line", LUA_TNUMBER)) {
            line = (long long)lua_tonumber(L, -1);
            has_line = true;
            lua_pop(L, 1);
        }
        if (src && has_line)
            buf_printf(&msg, " script: %s, on %s:%lld.", o->name, src, line);
        if (c->last_cmd >= 0)
            s->st.cmd[c->last_cmd].failed++;
        add_error_line(&c->out, buf_head(&msg), buf_pending(&msg));
        buf_deinit(&msg);
    } else {
        const char *e = lua_tostring(L, -1);
        kv_reply_errorf(c, "ERR Error running script (call to %s): @%s", o->name, e ? e : "?");
    }
    lua_settop(L, 0);
    if (sc->killed)
        log_warn("script %s killed by SCRIPT KILL / FUNCTION KILL", o->name);
    /* an incremental GC step every 50 scripts, as Redis; a script that ran
     * out of heap leaves its garbage: collect it all at once */
    if (rc == LUA_ERRMEM) {
        sc->gc_count = 0;
        lua_gc(L, LUA_GCCOLLECT, 0);
    } else if (++sc->gc_count >= 50) {
        sc->gc_count = 0;
        lua_gc(L, LUA_GCSTEP, 50);
    }
    return rc;
}

/* ---- EVAL ---------------------------------------------------------------------- */

/*
 * Redis 7's "#!lua [flags=f1,f2]" first line of an EVAL script: *flags gets
 * the SCRIPT_FLAG_* bits (>= 0), or stays -1 without a shebang (the 6.x
 * compatible mode). false after replying with Redis's error.
 */
static bool shebang_flags(struct kv_client *c, const char *body, size_t n, int *flags)
{
    if (n < 2 || body[0] != '#' || body[1] != '!')
        return true;
    const char *eol = memchr(body, '\n', n);
    if (!eol) {
        kv_reply_error(c, "ERR Invalid script shebang");
        return false;
    }
    const char *p = body, *end = eol;
    const char *w = p;
    while (p < end && *p != ' ')
        p++;
    if (p - w != 5 || memcmp(w, "#!lua", 5) != 0) {
        kv_reply_errorf(c, "ERR Unexpected engine in script shebang: %.*s", (int)(p - w > 64 ? 64 : p - w), w);
        return false;
    }
    int f = 0;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end)
            break;
        w = p;
        while (p < end && *p != ' ')
            p++;
        if (p - w >= 6 && memcmp(w, "flags=", 6) == 0) {
            const char *q = w + 6;
            while (q < p) {
                const char *e = memchr(q, ',', (size_t)(p - q));
                if (!e)
                    e = p;
                static const struct {
                    const char *name;
                    int bit;
                } names[] = {{"no-writes", KV_SCRIPT_NO_WRITES}, {"allow-oom", KV_SCRIPT_ALLOW_OOM},
                             {"allow-stale", 0}, {"no-cluster", 0}, {"allow-cross-slot-keys", 0}};
                bool ok = false;
                for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                    if ((size_t)(e - q) == strlen(names[i].name) && memcmp(q, names[i].name, (size_t)(e - q)) == 0) {
                        f |= names[i].bit;
                        ok = true;
                    }
                if (!ok && e > q) {
                    kv_reply_errorf(c, "ERR Unexpected flag in script shebang: %.*s", (int)(e - q > 64 ? 64 : e - q), q);
                    return false;
                }
                q = e + 1;
            }
        } else {
            kv_reply_errorf(c, "ERR Unknown lua shebang option: %.*s", (int)(p - w > 64 ? 64 : p - w), w);
            return false;
        }
    }
    *flags = f;
    return true;
}

/* Flags of a cached script: -1 without a shebang. */
static int script_flags(lua_State *L, const char *sha)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_sflags");
    lua_getfield(L, -1, sha);
    int f = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : -1;
    lua_pop(L, 2);
    return f;
}

/* Find or compile the script with this body; pushes the function. false after
 * replying (compile error). */
static bool script_get(struct kv_script *sc, struct kv_client *c, const char *body, size_t n, char sha[41],
                       bool push)
{
    lua_State *L = sc->L;
    /* a body seen before maps to its sha in __kv_bodies (Lua interns the body
     * string: one hash and compare instead of a SHA1 every EVAL) */
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_bodies");
    lua_pushlstring(L, body, n);
    lua_rawget(L, -2);
    size_t shalen = 0;
    const char *known = lua_tolstring(L, -1, &shalen);
    if (known && shalen == 40)
        memcpy(sha, known, 41);
    else
        kv_lua_sha1hex(body, n, sha);
    lua_pop(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_scripts");
    lua_getfield(L, -1, sha);
    if (lua_isfunction(L, -1)) {
        lua_remove(L, -2);
        if (!push)
            lua_pop(L, 1);
        return true;
    }
    lua_pop(L, 1);
    int flags = -1;
    if (!shebang_flags(c, body, n, &flags)) {
        lua_settop(L, 0);
        return false;
    }
    const char *body0 = body;
    char *copy = NULL;
    if (flags >= 0) { /* the shebang line becomes a comment: line numbers stay */
        copy = xstrndup(body, n);
        copy[0] = copy[1] = '-';
        body = copy;
    }
    int rc = luaL_loadbuffer(L, body, n, "@user_script");
    xfree(copy);
    if (rc != 0) {
        kv_reply_errorf(c, "ERR Error compiling script (new function): %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return false;
    }
    if (flags >= 0) {
        lua_getfield(L, LUA_REGISTRYINDEX, "__kv_sflags");
        lua_pushnumber(L, flags);
        lua_setfield(L, -2, sha);
        lua_pop(L, 1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_env");
    lua_setfenv(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, sha);
    lua_remove(L, -2);
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_bodies");
    lua_pushlstring(L, body0, n);
    lua_pushstring(L, sha);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    sc->nscripts++;
    sc->scripts_bytes += n;
    if (!push)
        lua_pop(L, 1);
    return true;
}

static void set_array_global(lua_State *L, const char *name, int n, const struct resp_arg *a)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, a[i].ptr, a[i].len);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, LUA_GLOBALSINDEX, name);
}

/* numkeys of EVAL/FCALL at argv[2]: false after replying */
bool kv_lua_numkeys(struct kv_client *c, int argc, struct resp_arg *argv, long long *nk, bool fcall)
{
    if (!kv_arg_ll_msg(c, &argv[2], nk, fcall ? "ERR Bad number of keys provided" : NULL))
        return false;
    if (*nk > argc - 3) {
        kv_reply_error(c, "ERR Number of keys can't be greater than number of args");
        return false;
    }
    if (*nk < 0) {
        kv_reply_error(c, "ERR Number of keys can't be negative");
        return false;
    }
    return true;
}

static void eval_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool by_sha, bool ro)
{
    struct kv_script *sc = kv_script_get(c->srv);
    lua_State *L = sc->L;
    if (by_sha && argv[1].len != 40) { /* Redis checks the length before numkeys */
        kv_reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    long long nk;
    if (!kv_lua_numkeys(c, argc, argv, &nk, false))
        return;
    char sha[41];
    if (by_sha) {
        char low[41];
        for (size_t i = 0; i < 40; i++) {
            char ch = argv[1].ptr[i];
            low[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        low[40] = '\0';
        lua_getfield(L, LUA_REGISTRYINDEX, "__kv_scripts");
        lua_getfield(L, -1, low);
        lua_remove(L, -2);
        if (!lua_isfunction(L, -1)) {
            lua_settop(L, 0);
            kv_reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        memcpy(sha, low, sizeof sha);
    } else if (!script_get(sc, c, argv[1].ptr, argv[1].len, sha, true)) {
        return;
    }
    int fl = script_flags(L, sha);
    if (fl >= 0 && ro && !(fl & KV_SCRIPT_NO_WRITES)) {
        lua_settop(L, 0);
        kv_reply_error(c, "ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    if (fl >= 0 && (fl & KV_SCRIPT_NO_WRITES))
        ro = true;
    set_array_global(L, "KEYS", (int)nk, argv + 3);
    set_array_global(L, "ARGV", argc - 3 - (int)nk, argv + 3 + nk);
    struct kv_run_opts o = {.ro = ro, .is_fn = false, .name = sha};
    kv_lua_run(sc, c, lua_gettop(L), 0, &o);
}

void kv_cmd_EVAL(struct kv_client *c, int argc, struct resp_arg *argv) { eval_generic(c, argc, argv, false, false); }
void kv_cmd_EVALSHA(struct kv_client *c, int argc, struct resp_arg *argv) { eval_generic(c, argc, argv, true, false); }
void kv_cmd_EVAL_RO(struct kv_client *c, int argc, struct resp_arg *argv) { eval_generic(c, argc, argv, false, true); }
void kv_cmd_EVALSHA_RO(struct kv_client *c, int argc, struct resp_arg *argv) { eval_generic(c, argc, argv, true, true); }

/* ---- SCRIPT ---------------------------------------------------------------------- */

static const char *script_help[] = {
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
};


void kv_cmd_SCRIPT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    if (kv_arg_is(sub, "help") && argc == 2) {
        kv_reply_help(c, script_help, sizeof script_help / sizeof script_help[0]);
    } else if (kv_arg_is(sub, "load") && argc == 3) {
        struct kv_script *sc = kv_script_get(c->srv);
        char sha[41];
        if (script_get(sc, c, argv[2].ptr, argv[2].len, sha, false))
            resp_add_bulk(&c->out, sha, 40);
    } else if (kv_arg_is(sub, "exists") && argc >= 3) {
        struct kv_script *sc = kv_script_get(c->srv);
        lua_State *L = sc->L;
        resp_add_array(&c->out, argc - 2);
        lua_getfield(L, LUA_REGISTRYINDEX, "__kv_scripts");
        for (int i = 2; i < argc; i++) {
            char low[41];
            bool found = false;
            if (argv[i].len == 40) {
                for (int j = 0; j < 40; j++) {
                    char ch = argv[i].ptr[j];
                    low[j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
                }
                low[40] = '\0';
                lua_getfield(L, -1, low);
                found = lua_isfunction(L, -1);
                lua_pop(L, 1);
            }
            resp_add_int(&c->out, found);
        }
        lua_settop(L, 0);
    } else if (kv_arg_is(sub, "flush") && argc <= 3) {
        if (argc == 3 && !kv_arg_is(&argv[2], "sync") && !kv_arg_is(&argv[2], "async")) {
            kv_reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        if (c->srv->script) {
            lua_State *L = c->srv->script->L;
            lua_newtable(L);
            lua_setfield(L, LUA_REGISTRYINDEX, "__kv_scripts");
            lua_newtable(L);
            lua_setfield(L, LUA_REGISTRYINDEX, "__kv_sflags");
            lua_newtable(L);
            lua_setfield(L, LUA_REGISTRYINDEX, "__kv_bodies");
            c->srv->script->nscripts = 0;
            c->srv->script->scripts_bytes = 0;
            lua_gc(L, LUA_GCCOLLECT, 0);
        }
        resp_add_ok(&c->out);
    } else if (kv_arg_is(sub, "kill") && argc == 2) {
        /* a running script holds the lock: a kill reaching here has none to stop */
        kv_reply_error(c, "NOTBUSY No scripts in execution right now.");
    } else if (kv_arg_is(sub, "debug") && argc == 3) {
        if (kv_arg_is(&argv[2], "no"))
            resp_add_ok(&c->out);
        else
            kv_reply_error(c, "ERR SCRIPT DEBUG is not supported by this server");
    } else if (kv_arg_is(sub, "help") || kv_arg_is(sub, "load") || kv_arg_is(sub, "exists") ||
               kv_arg_is(sub, "flush") || kv_arg_is(sub, "kill") || kv_arg_is(sub, "debug")) {
        char low[16];
        size_t n = sub->len < sizeof low - 1 ? sub->len : sizeof low - 1;
        for (size_t i = 0; i < n; i++)
            low[i] = (sub->ptr[i] >= 'A' && sub->ptr[i] <= 'Z') ? (char)(sub->ptr[i] + 32) : sub->ptr[i];
        low[n] = '\0';
        kv_reply_errorf(c, "ERR wrong number of arguments for 'script|%s' command", low);
    } else {
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try SCRIPT HELP.", (int)(sub->len > 128 ? 128 : sub->len),
                        sub->ptr);
    }
}

/* ---- busy ------------------------------------------------------------------------ */

bool kv_script_busy_reply(struct kv_client *c, int argc, const struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    if (!atomic_load(&s->script_busy))
        return false;
    const struct resp_arg *a = argv;
    bool is_script = util_strieq(a[0].ptr, a[0].len, "script");
    bool is_function = util_strieq(a[0].ptr, a[0].len, "function");
    bool kill = argc == 2 && (is_script || is_function) && util_strieq(a[1].ptr, a[1].len, "kill");
    if (kill) {
        bool fn = atomic_load(&s->script_is_fn);
        /* Redis 7.0's scriptKill: a script that wrote first, then the wrong KILL */
        if (atomic_load(&s->script_wrote)) {
            resp_add_errorf(&c->out, "UNKILLABLE Sorry the script already executed write commands against the dataset. "
                                     "You can either wait the script termination or kill the server in a hard way "
                                     "using the SHUTDOWN NOSAVE command.");
        } else if (is_script && fn) {
            resp_add_errorf(&c->out, "BUSY %s", "Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
        } else if (is_function && !fn) {
            resp_add_errorf(&c->out, "BUSY %s", "Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        } else {
            atomic_store(&s->script_kill, true);
            resp_add_ok(&c->out);
        }
        return true;
    }
    if (argc == 2 && util_strieq(a[0].ptr, a[0].len, "shutdown") && util_strieq(a[1].ptr, a[1].len, "nosave")) {
        /* the way out of an UNKILLABLE script: exit at once, nothing saved
         * (the script's thread still holds the keyspace) */
        log_warn("SHUTDOWN NOSAVE during a busy script: exiting now");
        if (s->cfg.pidfile && *s->cfg.pidfile)
            unlink(s->cfg.pidfile);
        _exit(0);
    }
    if (atomic_load(&s->script_is_fn))
        resp_add_errorf(&c->out, "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
    else
        resp_add_errorf(&c->out, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
    return true;
}
