/*
 * handlers.c — the kv handler array, indexed by enum resp_cmd_id. Generated
 * from the command list in proto/commands.h: a command in the list without a
 * kv_cmd_<ID> function is a link error, so the table cannot fall out of step.
 */
#include "kv/server.h"

#define X(id, name, arity, flags, first, last, step, group) kv_cmd_fn kv_cmd_##id;
RESP_COMMANDS(X)
#undef X

kv_cmd_fn *const kv_handlers[RESP_CMD_COUNT] = {
#define X(id, name, arity, flags, first, last, step, group) [RESP_CMD_##id] = kv_cmd_##id,
    RESP_COMMANDS(X)
#undef X
};
