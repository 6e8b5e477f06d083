/*
 * function.c — FUNCTION LOAD/DELETE/LIST/FLUSH/STATS/KILL and FCALL/FCALL_RO,
 * as Redis 7.0, on the Lua engine of script.c.
 *
 * A library is its name, its code and the functions its body registered with
 * redis.register_function while FUNCTION LOAD ran it (the callbacks are kept
 * as Lua registry references). FUNCTION DUMP/RESTORE use Redis's payload
 * (RDB function opcodes, version 10, CRC-64), so libraries move both ways
 * between scaleout and Redis.
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/function.h"
#include "kv/propagate.h"
#include "kv/reply.h"
#include "kv/script_int.h"

enum { FN_NO_WRITES = 1, FN_ALLOW_OOM = 2, FN_ALLOW_STALE = 4, FN_NO_CLUSTER = 8, FN_ALLOW_CROSS_SLOT = 16 };

static const struct {
    unsigned f;
    const char *name;
} fn_flags[] = {
    {FN_NO_WRITES, "no-writes"}, {FN_ALLOW_OOM, "allow-oom"}, {FN_ALLOW_STALE, "allow-stale"},
    {FN_NO_CLUSTER, "no-cluster"}, {FN_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"},
};

struct kv_fn {
    char *name;
    char *desc;        /* NULL: none */
    unsigned flags;
    int ref;           /* the callback in the Lua registry */
};

struct kv_fn_lib {
    char *name;
    char *code;
    size_t code_len;
    struct kv_fn *fns;
    int nfns, cap;
    struct kv_fn_lib *next;
};

static void lib_free(lua_State *L, struct kv_fn_lib *lib)
{
    if (!lib)
        return;
    for (int i = 0; i < lib->nfns; i++) {
        luaL_unref(L, LUA_REGISTRYINDEX, lib->fns[i].ref);
        xfree(lib->fns[i].name);
        xfree(lib->fns[i].desc);
    }
    xfree(lib->fns);
    xfree(lib->name);
    xfree(lib->code);
    xfree(lib);
}

static void fn_free_all(struct kv_script *sc)
{
    while (sc->libs) {
        struct kv_fn_lib *n = sc->libs->next;
        lib_free(sc->L, sc->libs);
        sc->libs = n;
    }
}

static const char *fn_load(struct kv_script *sc, bool replace, const struct resp_arg *code, char *err, size_t errlen);

void kv_fn_foreach_code(struct kv_server *s, void (*cb)(void *arg, const char *code, size_t len), void *arg)
{
    for (struct kv_fn_lib *l = s->script ? s->script->libs : NULL; l; l = l->next)
        cb(arg, l->code, l->code_len);
}

int kv_fn_load_code(struct kv_server *s, const char *code, size_t len, char *err, size_t errlen)
{
    struct resp_arg a = {code, len};
    return fn_load(kv_script_get(s), true, &a, err, errlen) ? 0 : -1;
}

void kv_fn_rdb_each(void *srv, void (*cb)(void *arg, const char *code, size_t len), void *arg)
{
    kv_fn_foreach_code(srv, cb, arg);
}

int kv_fn_rdb_load(void *srv, const char *code, size_t len, char *err, size_t errlen)
{
    return kv_fn_load_code(srv, code, len, err, errlen);
}

void kv_fn_flush(struct kv_server *s)
{
    if (s->script)
        fn_free_all(s->script);
}

/* A FUNCTION subcommand changed the libraries: it goes to the AOF and the
 * replicas as it was given (Redis propagates FUNCTION verbatim), and counts
 * as a change for the save schedule. */
static void fn_changed(struct kv_client *c, int argc, struct resp_arg *argv)
{
    c->srv->dirty++;
    kv_prop_effect(c->srv, c->srv->db.id, argc, argv);
}

/* FUNCTION LOAD/DELETE/FLUSH/RESTORE write: refused where a write is (a read-only replica). */
static bool fn_denied(struct kv_client *c)
{
    const char *msg = NULL;
    if (c->srv->ops->repl_deny_write(c, &msg)) {
        kv_reply_errorf(c, "%s", msg);
        return true;
    }
    return false;
}

long long kv_script_functions(struct kv_server *s, long long *libraries, size_t *code_bytes)
{
    long long nf = 0, nl = 0;
    size_t bytes = 0;
    for (struct kv_fn_lib *l = s->script ? s->script->libs : NULL; l; l = l->next) {
        nl++;
        nf += l->nfns;
        bytes += l->code_len;
    }
    if (libraries)
        *libraries = nl;
    if (code_bytes)
        *code_bytes = bytes;
    return nf;
}

static bool valid_name(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return true;
}

static struct kv_fn *find_fn(struct kv_script *sc, const char *name, size_t n, struct kv_fn_lib **libp)
{
    for (struct kv_fn_lib *l = sc->libs; l; l = l->next)
        for (int i = 0; i < l->nfns; i++)
            if (strlen(l->fns[i].name) == n && memcmp(l->fns[i].name, name, n) == 0) {
                if (libp)
                    *libp = l;
                return &l->fns[i];
            }
    return NULL;
}

static struct kv_fn_lib **find_lib(struct kv_script *sc, const char *name, size_t n)
{
    for (struct kv_fn_lib **l = &sc->libs; *l; l = &(*l)->next)
        if (strlen((*l)->name) == n && memcmp((*l)->name, name, n) == 0)
            return l;
    return NULL;
}

/* ---- redis.register_function (FUNCTION LOAD only) --------------------------- */

static int reg_error(lua_State *L, const char *msg)
{
    lua_newtable(L);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "err");
    return lua_error(L);
}

static int fn_lua_register(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_script");
    struct kv_script *sc = lua_touserdata(L, -1);
    lua_pop(L, 1);
    struct kv_fn_lib *lib = sc->loading;
    if (!lib)
        return reg_error(L, "ERR redis.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L);
    size_t nlen = 0;
    const char *name = NULL;
    char *desc = NULL;
    unsigned flags = 0;
    if (argc == 2) {
        if (lua_type(L, 1) != LUA_TSTRING)
            return reg_error(L, "ERR wrong argument given to redis.register_function");
        name = lua_tolstring(L, 1, &nlen);
        if (!lua_isfunction(L, 2))
            return reg_error(L, "ERR wrong argument given to redis.register_function");
        lua_pushvalue(L, 2);
    } else if (argc == 1 && lua_istable(L, 1)) {
        int t = 1;
        bool have_cb = false;
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                xfree(desc);
                return reg_error(L, "ERR named argument key given to redis.register_function is not a string");
            }
            const char *k = lua_tostring(L, -2);
            if (strcmp(k, "function_name") == 0) {
                if (lua_type(L, -1) != LUA_TSTRING) {
                    xfree(desc);
                    return reg_error(L, "ERR function_name argument given to redis.register_function must be a string");
                }
                name = lua_tolstring(L, -1, &nlen);
            } else if (strcmp(k, "description") == 0) {
                if (lua_type(L, -1) != LUA_TSTRING) {
                    xfree(desc);
                    return reg_error(L, "ERR description argument given to redis.register_function must be a string");
                }
                xfree(desc);
                desc = xstrdup(lua_tostring(L, -1));
            } else if (strcmp(k, "callback") == 0) {
                if (!lua_isfunction(L, -1)) {
                    xfree(desc);
                    return reg_error(L, "ERR callback argument given to redis.register_function must be a function");
                }
                have_cb = true;
            } else if (strcmp(k, "flags") == 0) {
                if (!lua_istable(L, -1)) {
                    xfree(desc);
                    return reg_error(L, "ERR flags argument to redis.register_function must be a table representing function flags");
                }
                for (int i = 1;; i++) {
                    lua_rawgeti(L, -1, i);
                    if (lua_isnil(L, -1)) {
                        lua_pop(L, 1);
                        break;
                    }
                    const char *fl = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
                    unsigned f = 0;
                    for (size_t j = 0; j < sizeof fn_flags / sizeof fn_flags[0]; j++)
                        if (strcmp(fl, fn_flags[j].name) == 0)
                            f = fn_flags[j].f;
                    lua_pop(L, 1);
                    if (!f) {
                        xfree(desc);
                        return reg_error(L, "ERR unknown flag given");
                    }
                    flags |= f;
                }
            } else {
                xfree(desc);
                return reg_error(L, "ERR unknown argument given to redis.register_function");
            }
            lua_pop(L, 1);
        }
        if (!name || !have_cb) {
            xfree(desc);
            return reg_error(L, "ERR redis.register_function must get a function name argument");
        }
        lua_getfield(L, 1, "callback");
    } else {
        return reg_error(L, "ERR wrong number of arguments to redis.register_function");
    }
    if (!valid_name(name, nlen)) {
        xfree(desc);
        return reg_error(L, "ERR Function names can only contain letters, numbers, or underscores(_) and must be at "
                            "least one character long");
    }
    for (int i = 0; i < lib->nfns; i++)
        if (strlen(lib->fns[i].name) == nlen && memcmp(lib->fns[i].name, name, nlen) == 0) {
            xfree(desc);
            return reg_error(L, "ERR Function already exists in the library");
        }
    if (lib->nfns == lib->cap) {
        lib->cap = lib->cap ? lib->cap * 2 : 4;
        lib->fns = xrealloc(lib->fns, (size_t)lib->cap * sizeof *lib->fns);
    }
    struct kv_fn *f = &lib->fns[lib->nfns++];
    f->name = xstrndup(name, nlen);
    f->desc = desc;
    f->flags = flags;
    f->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the callback */
    return 0;
}

/* ---- FUNCTION LOAD ------------------------------------------------------------ */

/*
 * Load (or with replace, replace) the library in code: its name, or NULL with
 * Redis's error text in err (no leading '-').
 */
/* Hook this file into the script engine, once per Lua state: it frees the
 * libraries with the state, and a library body's redis.register_function is
 * fn_lua_register (script.c leaves a placeholder under that key). */
static void fn_attach(struct kv_script *sc)
{
    if (sc->free_libs)
        return;
    sc->free_libs = fn_free_all;
    lua_State *L = sc->L;
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_loadredis");
    lua_pushstring(L, "register_function");
    lua_pushcfunction(L, fn_lua_register);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static const char *fn_load(struct kv_script *sc, bool replace, const struct resp_arg *code, char *err, size_t errlen)
{
    fn_attach(sc);
    lua_State *L = sc->L;
    const char *p = code->ptr, *end = code->ptr + code->len;
    if (code->len < 2 || p[0] != '#' || p[1] != '!') {
        snprintf(err, errlen, "%s", "ERR Missing library metadata");
        return NULL;
    }
    const char *eol = memchr(p, '\n', code->len);
    if (!eol)
        eol = end;
    /* "#!lua name=<lib>", words separated by spaces */
    const char *q = p + 2;
    const char *w = q;
    while (q < eol && *q != ' ')
        q++;
    if (q - w != 3 || memcmp(w, "lua", 3) != 0) {
        snprintf(err, errlen, "%s", "ERR Invalid library metadata");
        return NULL;
    }
    const char *name = NULL;
    size_t nlen = 0;
    while (q < eol) {
        while (q < eol && *q == ' ')
            q++;
        if (q >= eol)
            break;
        w = q;
        while (q < eol && *q != ' ')
            q++;
        if (q - w > 5 && memcmp(w, "name=", 5) == 0 && !name) {
            name = w + 5;
            nlen = (size_t)(q - w - 5);
        } else {
            snprintf(err, errlen, "%s", "ERR Invalid library metadata");
            return NULL;
        }
    }
    if (!name) {
        snprintf(err, errlen, "%s", "ERR Invalid library metadata");
        return NULL;
    }
    if (!valid_name(name, nlen)) {
        snprintf(err, errlen, "%s", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
                          "least one character long");
        return NULL;
    }
    struct kv_fn_lib **old = find_lib(sc, name, nlen);
    if (old && !replace) {
        snprintf(err, errlen, "ERR Library '%.*s' already exists", (int)nlen, name);
        return NULL;
    }
    /* compiled with the shebang turned into a comment, so line numbers stay */
    char *body = xstrndup(code->ptr, code->len);
    body[0] = body[1] = '-';
    int lrc = luaL_loadbuffer(L, body, code->len, "@user_function");
    xfree(body);
    if (lrc != 0) {
        snprintf(err, errlen, "ERR Error compiling function: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return NULL;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_env");
    lua_setfenv(L, -2);
    struct kv_fn_lib *lib = xcalloc(1, sizeof *lib);
    lib->name = xstrndup(name, nlen);
    lib->code = xstrndup(code->ptr, code->len);
    lib->code_len = code->len;
    sc->loading = lib;
    sc->loading_lib = true;
    lua_getfield(L, LUA_REGISTRYINDEX, "__kv_errh");
    lua_insert(L, -2);
    /* a library body that loops is stopped by the count hook (FUNCTION LOAD timeout) */
    kv_lua_load_hook(sc, true);
    int rc = lua_pcall(L, 0, 0, 1);
    kv_lua_load_hook(sc, false);
    sc->loading = NULL;
    sc->loading_lib = false;
    if (rc != 0) {
        const char *msg = "unknown error";
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1))
                msg = lua_tostring(L, -1);
        } else if (lua_isstring(L, -1)) {
            msg = lua_tostring(L, -1);
        }
        snprintf(err, errlen, "ERR Error registering functions: %s", msg);
        lua_settop(L, 0);
        lib_free(L, lib);
        return NULL;
    }
    lua_settop(L, 0);
    if (lib->nfns == 0) {
        snprintf(err, errlen, "%s", "ERR No functions registered");
        lib_free(L, lib);
        return NULL;
    }
    for (int i = 0; i < lib->nfns; i++) {
        struct kv_fn_lib *owner = NULL;
        if (find_fn(sc, lib->fns[i].name, strlen(lib->fns[i].name), &owner) && (!old || owner != *old)) {
            snprintf(err, errlen, "ERR Function %s already exists", lib->fns[i].name);
            lib_free(L, lib);
            return NULL;
        }
    }
    if (old) {
        struct kv_fn_lib *o = *old;
        *old = o->next;
        lib_free(L, o);
    }
    lib->next = sc->libs;
    sc->libs = lib;
    return lib->name;
}

/* ---- FUNCTION DUMP / RESTORE: Redis's payload ----------------------------------
 *
 *   payload = { 0xF5 (RDB_OPCODE_FUNCTION2), rdb string: library code }*
 *             rdb version (2 bytes LE, 10) · CRC-64/Jones of all before (8 bytes LE)
 *
 * An rdb string is a length (00xxxxxx 6 bits, 01xxxxxx+1 byte 14 bits, 0x80 +
 * 4 bytes BE, 0x81 + 8 bytes BE) and the bytes, or an encoded value (11xxxxxx:
 * an 8/16/32-bit integer, or LZF: compressed length, length, data). DUMP
 * writes plain strings; RESTORE reads all forms (Redis compresses code longer
 * than 20 bytes when rdbcompression is on).
 */

#define RDB_OPCODE_FUNCTION2 245
#define RDB_VERSION 10

static uint64_t crc64_jones(uint64_t crc, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

static void rdb_put_len(struct buf *b, uint64_t n)
{
    if (n < 64) {
        buf_putc(b, (char)n);
    } else if (n < 16384) {
        buf_putc(b, (char)(0x40 | (n >> 8)));
        buf_putc(b, (char)(n & 0xff));
    } else if (n <= UINT32_MAX) {
        buf_putc(b, (char)0x80);
        for (int i = 3; i >= 0; i--)
            buf_putc(b, (char)((n >> (8 * i)) & 0xff));
    } else {
        buf_putc(b, (char)0x81);
        for (int i = 7; i >= 0; i--)
            buf_putc(b, (char)((n >> (8 * i)) & 0xff));
    }
}

/* Read a length at *p; *enc set for an encoded value (11xxxxxx: the low 6 bits). */
static bool rdb_get_len(const unsigned char **p, const unsigned char *end, uint64_t *n, int *enc)
{
    if (*p >= end)
        return false;
    unsigned char c = *(*p)++;
    *enc = -1;
    switch (c >> 6) {
    case 0:
        *n = c & 0x3f;
        return true;
    case 1:
        if (*p >= end)
            return false;
        *n = ((uint64_t)(c & 0x3f) << 8) | *(*p)++;
        return true;
    case 3:
        *enc = c & 0x3f;
        *n = 0;
        return true;
    default: {
        int bytes = c == 0x80 ? 4 : c == 0x81 ? 8 : 0;
        if (!bytes || end - *p < bytes)
            return false;
        uint64_t v = 0;
        for (int i = 0; i < bytes; i++)
            v = (v << 8) | *(*p)++;
        *n = v;
        return true;
    }
    }
}

/* LZF decompression (liblzf's format): 0 on success when exactly out_len bytes came out. */
static int lzf_expand(const unsigned char *in, size_t in_len, unsigned char *out, size_t out_len)
{
    const unsigned char *ip = in, *iend = in + in_len;
    unsigned char *op = out, *oend = out + out_len;
    while (ip < iend) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) { /* literal run of ctrl + 1 bytes */
            ctrl++;
            if ((size_t)(oend - op) < ctrl || (size_t)(iend - ip) < ctrl)
                return -1;
            memcpy(op, ip, ctrl);
            op += ctrl;
            ip += ctrl;
        } else { /* back reference */
            size_t len = ctrl >> 5;
            if (len == 7) {
                if (ip >= iend)
                    return -1;
                len += *ip++;
            }
            if (ip >= iend)
                return -1;
            size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
            len += 2;
            if ((size_t)(op - out) < back || (size_t)(oend - op) < len)
                return -1;
            const unsigned char *ref = op - back;
            for (size_t i = 0; i < len; i++)
                *op++ = *ref++;
        }
    }
    return op == oend ? 0 : -1;
}

/* Read an rdb string into a new heap buffer (*out, *len); false if malformed. */
static bool rdb_get_string(const unsigned char **p, const unsigned char *end, char **out, size_t *len)
{
    uint64_t n;
    int enc;
    if (!rdb_get_len(p, end, &n, &enc))
        return false;
    if (enc < 0) {
        if ((uint64_t)(end - *p) < n)
            return false;
        *out = xstrndup((const char *)*p, (size_t)n);
        *len = (size_t)n;
        *p += n;
        return true;
    }
    if (enc <= 2) { /* an integer stored as 1, 2 or 4 bytes, little endian */
        int bytes = 1 << enc;
        if (end - *p < bytes)
            return false;
        uint32_t u = 0;
        for (int i = bytes - 1; i >= 0; i--)
            u = (u << 8) | (*p)[i];
        *p += bytes;
        long long v = bytes == 1 ? (int8_t)u : bytes == 2 ? (int16_t)u : (int32_t)u;
        char tmp[32];
        int k = snprintf(tmp, sizeof tmp, "%lld", v);
        *out = xstrndup(tmp, (size_t)k);
        *len = (size_t)k;
        return true;
    }
    if (enc == 3) { /* LZF */
        uint64_t clen, ulen;
        int e1, e2;
        if (!rdb_get_len(p, end, &clen, &e1) || !rdb_get_len(p, end, &ulen, &e2) || e1 >= 0 || e2 >= 0)
            return false;
        if ((uint64_t)(end - *p) < clen || ulen > 512ULL * 1024 * 1024 || ulen == 0)
            return false;
        char *buf = xmalloc((size_t)ulen + 1);
        if (lzf_expand(*p, (size_t)clen, (unsigned char *)buf, (size_t)ulen) != 0) {
            xfree(buf);
            return false;
        }
        buf[ulen] = '\0';
        *p += clen;
        *out = buf;
        *len = (size_t)ulen;
        return true;
    }
    return false;
}

static void fn_dump(struct kv_client *c, struct kv_script *sc)
{
    struct buf b;
    buf_init(&b);
    for (struct kv_fn_lib *l = sc->libs; l; l = l->next) {
        buf_putc(&b, (char)RDB_OPCODE_FUNCTION2);
        rdb_put_len(&b, l->code_len);
        buf_append(&b, l->code, l->code_len);
    }
    buf_putc(&b, RDB_VERSION & 0xff);
    buf_putc(&b, (RDB_VERSION >> 8) & 0xff);
    uint64_t crc = crc64_jones(0, (const unsigned char *)buf_head(&b), buf_pending(&b));
    for (int i = 0; i < 8; i++)
        buf_putc(&b, (char)((crc >> (8 * i)) & 0xff));
    resp_add_bulk(&c->out, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

static const char *lib_name_of(const char *code, size_t len, size_t *nlen)
{
    /* the name= word of the shebang line (fn_load checks the rest) */
    const char *eol = memchr(code, '\n', len);
    size_t n = eol ? (size_t)(eol - code) : len;
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(code + i, "name=", 5) == 0 && (i == 0 || code[i - 1] == ' ')) {
            size_t j = i + 5;
            while (j < n && code[j] != ' ')
                j++;
            *nlen = j - i - 5;
            return code + i + 5;
        }
    *nlen = 0;
    return NULL;
}

static bool fn_restore(struct kv_client *c, struct kv_script *sc, const struct resp_arg *payload, int policy)
{
    const unsigned char *p = (const unsigned char *)payload->ptr, *end = p + payload->len;
    if (payload->len < 10) {
        kv_reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return false;
    }
    const unsigned char *footer = end - 10;
    unsigned ver = footer[0] | (footer[1] << 8);
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--)
        want = (want << 8) | footer[2 + i];
    if (ver > RDB_VERSION || crc64_jones(0, p, (size_t)(end - p) - 8) != want) {
        kv_reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return false;
    }
    /* every library's code first: nothing changes unless the payload is whole */
    char **codes = NULL;
    size_t *lens = NULL;
    int n = 0, cap = 0;
    const char *err = NULL;
    while (p < footer) {
        if (*p != RDB_OPCODE_FUNCTION2) {
            err = *p == 246 ? "ERR Pre-GA function format not supported" : "ERR given type is not a function";
            break;
        }
        p++;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            codes = xrealloc(codes, (size_t)cap * sizeof *codes);
            lens = xrealloc(lens, (size_t)cap * sizeof *lens);
        }
        if (!rdb_get_string(&p, footer, &codes[n], &lens[n])) {
            err = "ERR DUMP payload version or checksum are wrong";
            break;
        }
        n++;
    }
    char msg[512];
    if (!err && policy == 1) { /* APPEND: no name may collide */
        for (int i = 0; i < n && !err; i++) {
            size_t nl;
            const char *nm = lib_name_of(codes[i], lens[i], &nl);
            if (nm && find_lib(sc, nm, nl)) {
                snprintf(msg, sizeof msg, "ERR Library %.*s already exists", (int)(nl > 128 ? 128 : nl), nm);
                err = msg;
            }
        }
    }
    if (!err) {
        if (policy == 0) /* FLUSH */
            fn_free_all(sc);
        for (int i = 0; i < n; i++) {
            struct resp_arg a = {codes[i], lens[i]};
            if (!fn_load(sc, policy == 2, &a, msg, sizeof msg)) {
                err = msg;
                break;
            }
        }
    }
    for (int i = 0; i < n; i++)
        xfree(codes[i]);
    xfree(codes);
    xfree(lens);
    if (err)
        kv_reply_errorf(c, "%s", err);
    else
        resp_add_ok(&c->out);
    return err == NULL;
}

/* ---- FUNCTION LIST / STATS ----------------------------------------------------- */

static void fn_list(struct kv_client *c, struct kv_script *sc, const struct resp_arg *pat, bool withcode)
{
    struct buf *o = &c->out;
    long long n = 0;
    for (struct kv_fn_lib *l = sc->libs; l; l = l->next)
        if (!pat || util_glob_match(pat->ptr, pat->len, l->name, strlen(l->name), false))
            n++;
    resp_add_array(o, n);
    for (struct kv_fn_lib *l = sc->libs; l; l = l->next) {
        if (pat && !util_glob_match(pat->ptr, pat->len, l->name, strlen(l->name), false))
            continue;
        resp_add_map(o, c->proto, withcode ? 4 : 3);
        resp_add_bulk_cstr(o, "library_name");
        resp_add_bulk_cstr(o, l->name);
        resp_add_bulk_cstr(o, "engine");
        resp_add_bulk_cstr(o, "LUA");
        resp_add_bulk_cstr(o, "functions");
        resp_add_array(o, l->nfns);
        for (int i = 0; i < l->nfns; i++) {
            struct kv_fn *f = &l->fns[i];
            resp_add_map(o, c->proto, 3);
            resp_add_bulk_cstr(o, "name");
            resp_add_bulk_cstr(o, f->name);
            resp_add_bulk_cstr(o, "description");
            if (f->desc)
                resp_add_bulk_cstr(o, f->desc);
            else
                resp_add_null(o, c->proto);
            resp_add_bulk_cstr(o, "flags");
            int nf = 0;
            for (size_t j = 0; j < sizeof fn_flags / sizeof fn_flags[0]; j++)
                nf += (f->flags & fn_flags[j].f) != 0;
            resp_add_set(o, c->proto, nf);
            for (size_t j = 0; j < sizeof fn_flags / sizeof fn_flags[0]; j++)
                if (f->flags & fn_flags[j].f)
                    resp_add_simple(o, fn_flags[j].name, strlen(fn_flags[j].name));
        }
        if (withcode) {
            resp_add_bulk_cstr(o, "library_code");
            resp_add_bulk(o, l->code, l->code_len);
        }
    }
}

static const char *function_help[] = {
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
};

void kv_cmd_FUNCTION(struct kv_client *c, int argc, struct resp_arg *argv)
{
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    struct kv_script *sc = kv_script_get(c->srv);
    if (kv_arg_is(sub, "load") && argc >= 3 && argc <= 4) {
        bool replace = false;
        if (argc == 4) {
            if (!kv_arg_is(&argv[2], "replace")) {
                kv_reply_errorf(c, "ERR Unknown option given: %.*s", (int)(argv[2].len > 64 ? 64 : argv[2].len),
                                argv[2].ptr);
                return;
            }
            replace = true;
        }
        if (fn_denied(c))
            return;
        char err[512];
        const char *name = fn_load(sc, replace, &argv[argc - 1], err, sizeof err);
        if (name) {
            resp_add_bulk_cstr(&c->out, name);
            fn_changed(c, argc, argv);
        } else
            kv_reply_errorf(c, "%s", err);
    } else if (kv_arg_is(sub, "delete") && argc == 3) {
        if (fn_denied(c))
            return;
        struct kv_fn_lib **l = find_lib(sc, argv[2].ptr, argv[2].len);
        if (!l) {
            kv_reply_error(c, "ERR Library not found");
            return;
        }
        struct kv_fn_lib *o = *l;
        *l = o->next;
        lib_free(sc->L, o);
        resp_add_ok(&c->out);
        fn_changed(c, argc, argv);
    } else if (kv_arg_is(sub, "list")) {
        const struct resp_arg *pat = NULL;
        bool withcode = false;
        for (int i = 2; i < argc; i++) {
            if (kv_arg_is(&argv[i], "withcode") && !withcode) {
                withcode = true;
            } else if (kv_arg_is(&argv[i], "libraryname") && i + 1 < argc && !pat) {
                pat = &argv[++i];
            } else {
                kv_reply_errorf(c, "ERR Unknown argument %.*s", (int)(argv[i].len > 64 ? 64 : argv[i].len),
                                argv[i].ptr);
                return;
            }
        }
        fn_list(c, sc, pat, withcode);
    } else if (kv_arg_is(sub, "flush") && argc <= 3) {
        if (argc == 3 && !kv_arg_is(&argv[2], "sync") && !kv_arg_is(&argv[2], "async")) {
            kv_reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        if (fn_denied(c))
            return;
        fn_free_all(sc);
        resp_add_ok(&c->out);
        fn_changed(c, argc, argv);
    } else if (kv_arg_is(sub, "stats") && argc == 2) {
        long long nl, nf = kv_script_functions(c->srv, &nl, NULL);
        struct buf *o = &c->out;
        resp_add_map(o, c->proto, 2);
        resp_add_bulk_cstr(o, "running_script");
        resp_add_null(o, c->proto); /* a running function holds the lock: none runs now */
        resp_add_bulk_cstr(o, "engines");
        resp_add_map(o, c->proto, 1);
        resp_add_bulk_cstr(o, "LUA");
        resp_add_map(o, c->proto, 2);
        resp_add_bulk_cstr(o, "libraries_count");
        resp_add_int(o, nl);
        resp_add_bulk_cstr(o, "functions_count");
        resp_add_int(o, nf);
    } else if (kv_arg_is(sub, "kill") && argc == 2) {
        kv_reply_error(c, "NOTBUSY No scripts in execution right now.");
    } else if (kv_arg_is(sub, "dump") && argc == 2) {
        fn_dump(c, sc);
    } else if (kv_arg_is(sub, "restore") && argc >= 3 && argc <= 4) {
        int policy = 1; /* APPEND */
        if (argc == 4) {
            if (kv_arg_is(&argv[3], "flush"))
                policy = 0;
            else if (kv_arg_is(&argv[3], "append"))
                policy = 1;
            else if (kv_arg_is(&argv[3], "replace"))
                policy = 2;
            else {
                kv_reply_error(c, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
                return;
            }
        }
        if (fn_denied(c))
            return;
        if (fn_restore(c, sc, &argv[2], policy))
            fn_changed(c, argc, argv);
    } else if (kv_arg_is(sub, "help") && argc == 2) {
        kv_reply_help(c, function_help, sizeof function_help / sizeof function_help[0]);
    } else if (kv_arg_is(sub, "load") || kv_arg_is(sub, "delete") || kv_arg_is(sub, "flush") ||
               kv_arg_is(sub, "stats") || kv_arg_is(sub, "kill") || kv_arg_is(sub, "help") ||
               kv_arg_is(sub, "dump") || kv_arg_is(sub, "restore")) {
        char low[16];
        size_t n = sub->len < sizeof low - 1 ? sub->len : sizeof low - 1;
        for (size_t i = 0; i < n; i++)
            low[i] = (sub->ptr[i] >= 'A' && sub->ptr[i] <= 'Z') ? (char)(sub->ptr[i] + 32) : sub->ptr[i];
        low[n] = '\0';
        kv_reply_errorf(c, "ERR wrong number of arguments for 'function|%s' command", low);
    } else {
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try FUNCTION HELP.",
                        (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}

/* ---- FCALL --------------------------------------------------------------------- */

static void fcall(struct kv_client *c, int argc, struct resp_arg *argv, bool ro)
{
    struct kv_script *sc = kv_script_get(c->srv);
    lua_State *L = sc->L;
    struct kv_fn *f = find_fn(sc, argv[1].ptr, argv[1].len, NULL);
    if (!f) {
        kv_reply_error(c, "ERR Function not found");
        return;
    }
    long long nk;
    if (!kv_lua_numkeys(c, argc, argv, &nk, true))
        return;
    if (ro && !(f->flags & FN_NO_WRITES)) {
        kv_reply_error(c, "ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->ref);
    int fn_idx = lua_gettop(L);
    for (int part = 0; part < 2; part++) {
        int n = part == 0 ? (int)nk : argc - 3 - (int)nk;
        const struct resp_arg *a = argv + 3 + (part == 0 ? 0 : nk);
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            lua_pushlstring(L, a[i].ptr, a[i].len);
            lua_rawseti(L, -2, i + 1);
        }
    }
    struct kv_run_opts o = {.ro = ro || (f->flags & FN_NO_WRITES), .is_fn = true, .name = f->name};
    kv_lua_run(sc, c, fn_idx, 2, &o);
}

void kv_cmd_FCALL(struct kv_client *c, int argc, struct resp_arg *argv) { fcall(c, argc, argv, false); }
void kv_cmd_FCALL_RO(struct kv_client *c, int argc, struct resp_arg *argv) { fcall(c, argc, argv, true); }
