/*
 * script.h — Lua scripting (EVAL, SCRIPT, FUNCTION, FCALL) as Redis 7.0.
 *
 *   EVAL body ─▶ sha1 ─▶ compiled chunk cached in the Lua registry
 *             ─▶ KEYS/ARGV set ─▶ lua_pcall with Redis's error handler
 *                   │ redis.call(...) ─▶ the fake client ─▶ kv_call_queued
 *                   │                    (same handlers, checks and statistics
 *                   │                     as a socket client, caller's database)
 *                   ▼ its RESP reply parsed back into Lua values
 *             ─▶ the script's result converted to RESP for the caller
 *
 * One Lua 5.1 state per server (created on first use), run with the keyspace
 * lock held for the whole script: a script is atomic with respect to every
 * other client on every thread. The sandbox is Redis 7's: only base, table,
 * string, math, cjson and bit (Debian's lua-cjson, lua-bitop), globals read
 * only, a nonexistent global is an error.
 *
 * Busy scripts: a count hook checks the clock; past busy-reply-threshold the
 * server's script_busy flag is raised. Other workers then answer -BUSY
 * instead of waiting for the lock, and the script's own worker answers its
 * other clients from the hook (kv_busy_poll in server.c). SCRIPT KILL /
 * FUNCTION KILL set script_kill; the hook raises an error in the script
 * unless it already wrote (UNKILLABLE).
 */
#ifndef SCALEOUT_KV_SCRIPT_H
#define SCALEOUT_KV_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/resp.h"

struct kv_server;
struct kv_client;
struct kv_script;

/* Free the scripting state at shutdown (NULL-safe). */
void kv_script_free(struct kv_script *sc);
/* INFO figures: Lua heap bytes; cached EVAL scripts (and their bytes);
 * functions (and libraries, and the bytes of their code). */
size_t kv_script_memory(struct kv_server *s);
long long kv_script_cached(struct kv_server *s, size_t *bytes);
long long kv_script_functions(struct kv_server *s, long long *libraries, size_t *code_bytes);

/*
 * A command reached a worker while a script is busy (lock not held, any
 * thread): answers it the way Redis does during a busy script (-BUSY,
 * SCRIPT KILL, FUNCTION KILL). Returns true when it replied into c->out.
 */
bool kv_script_busy_reply(struct kv_client *c, int argc, const struct resp_arg *argv);

#endif
