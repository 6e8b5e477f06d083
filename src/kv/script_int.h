/*
 * script_int.h — what script.c (the engine, EVAL, SCRIPT) and function.c
 * (FUNCTION, FCALL) share. Not for the rest of kv: use script.h.
 */
#ifndef SCALEOUT_KV_SCRIPT_INT_H
#define SCALEOUT_KV_SCRIPT_INT_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "kv/script.h"
#include "kv/types.h"

/* what redis.REDIS_VERSION says (the version INFO and HELLO report) */
#define KV_REDIS_VERSION "7.0.0"
#define KV_REDIS_VERSION_NUM 0x070000

struct kv_fn_lib;

/* flags of an EVAL script's shebang (#!lua flags=...) */
enum { KV_SCRIPT_NO_WRITES = 1, KV_SCRIPT_ALLOW_OOM = 2 };

struct kv_script {
    struct kv_server *srv;
    lua_State *L;
    struct kv_client *fake;       /* runs redis.call's commands */
    struct kv_client *caller;     /* the client whose EVAL/FCALL runs */
    bool noscript[RESP_CMD_COUNT];
    long long nscripts;           /* EVAL scripts cached */
    size_t scripts_bytes;         /* their bodies (INFO used_memory_scripts_eval) */
    int gc_count;                 /* scripts run since the last GC step */
    size_t lua_bytes;             /* the Lua heap (lua_alloc) */
    /* the running script */
    bool running, ro, is_fn, wrote, killed, oom;
    bool loading_lib;             /* FUNCTION LOAD runs a library's body */
    int resp;                     /* redis.setresp */
    long long start_ms;           /* monotonic */
    const char *name;             /* sha or function name, for errors */
    /* redis.call's argument scratch */
    struct resp_arg *argv;
    size_t argv_cap;
    char *argbuf;
    size_t argbuf_cap;
    /* FUNCTION libraries (function.c) */
    struct kv_fn_lib *libs;
    /* function.c's: frees libs (kv_script_free calls it before closing the
     * Lua state). function.c sets it, and puts its register_function into
     * the load-time redis table, before it runs its first library body, so
     * the engine calls nothing of function.c (issue 8: no two files that
     * call each other); NULL until then, when there is nothing to free. */
    void (*free_libs)(struct kv_script *sc);
    struct kv_fn_lib *loading;    /* the library FUNCTION LOAD is building */
};

struct kv_run_opts {
    bool ro;                      /* no write commands (EVAL_RO, FCALL_RO, no-writes) */
    bool is_fn;
    const char *name;
};

/* The server's scripting state, made on first use (lock held). */
struct kv_script *kv_script_get(struct kv_server *s);
/*
 * Call the function at stack index fn_idx with the nargs values above it
 * (the stack holds nothing else of interest); the result or the error goes to
 * c->out as Redis answers it. Returns the lua_pcall code. Clears the stack.
 */
int kv_lua_run(struct kv_script *sc, struct kv_client *c, int fn_idx, int nargs, const struct kv_run_opts *o);
/* FUNCTION LOAD: arm (on) or disarm the hook that stops a library body after 500 ms. */
void kv_lua_load_hook(struct kv_script *sc, bool on);
/* numkeys at argv[2] of EVAL/FCALL, checked as Redis (FCALL's non-integer
 * text differs); false after replying. */
bool kv_lua_numkeys(struct kv_client *c, int argc, struct resp_arg *argv, long long *nk, bool fcall);
void kv_lua_sha1hex(const char *p, size_t n, char out[41]);
/* An array of status lines (HELP). */

#endif
