/*
 * reply.h — what every command handler and subsystem uses on a client:
 * Redis's error replies, the argument parsers that answer Redis's error
 * text and return false, the SCAN option parser, and the output-limit check
 * of a growing reply (reply.c). Below the server: it knows struct kv_client
 * (types.h) and the RESP writers (proto/resp.h), nothing of the event loop.
 */
#ifndef SCALEOUT_KV_REPLY_H
#define SCALEOUT_KV_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/resp.h"
#include "kv/types.h"

/* Reply helpers bound to a client (proto-aware). */
static inline struct buf *cout(struct kv_client *c) { return &c->out; }

/* Redis error replies: `msg` without the leading '-'. */
void kv_reply_error(struct kv_client *c, const char *msg);
void kv_reply_errorf(struct kv_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kv_reply_syntax(struct kv_client *c);
/* A HELP reply: the lines as simple strings. */
void kv_reply_help(struct kv_client *c, const char *const *lines, size_t n);
void kv_reply_wrongtype(struct kv_client *c);
void kv_reply_arity(struct kv_client *c, const char *cmd);
/* Container commands (CLIENT, CONFIG...): remember the subcommand for CLIENT LIST. */
void kv_set_subcommand(struct kv_client *c, const struct resp_arg *sub);

/* Argument helpers that reply with Redis's error and return false on failure. */
bool kv_arg_ll(struct kv_client *c, const struct resp_arg *a, long long *out);
bool kv_arg_ll_msg(struct kv_client *c, const struct resp_arg *a, long long *out, const char *msg);
/*
 * The one integer-argument parser: overflow-safe (util_str2ll), then range
 * checked. Not an integer: `msg` or "ERR value is not an integer or out of
 * range"; outside [min, max]: `range_msg` or Redis's getRangeLongFromObject
 * text "ERR value is out of range, value must between <min> and <max>".
 * Replies and returns false on failure.
 */
bool kv_arg_range(struct kv_client *c, const struct resp_arg *a, long long min, long long max, long long *out,
                  const char *msg, const char *range_msg);
/* A double as Redis's getDoubleFromObject reads it (no NaN, no overflow,
 * the whole argument); kv_arg_double replies `msg` or "ERR value is not a
 * valid float" when it is not one. */
bool kv_str2d(const struct resp_arg *a, double *out);
bool kv_arg_double(struct kv_client *c, const struct resp_arg *a, double *out, const char *msg);
bool kv_arg_ld(struct kv_client *c, const struct resp_arg *a, long double *out);
bool kv_arg_is(const struct resp_arg *a, const char *word);
/* A SCAN/HSCAN cursor, parsed as Redis does (strtoul rules); false if invalid. */
bool kv_arg_cursor(const struct resp_arg *a, uint64_t *out);
/*
 * The COUNT and MATCH options of HSCAN/SSCAN/ZSCAN from argv[first..]: COUNT
 * an integer >= 1 (a non-integer gets Redis's integer error, < 1 a syntax
 * error), MATCH "*" is no pattern (*pat NULL). Returns false after replying.
 */
bool kv_scan_opts(struct kv_client *c, int argc, struct resp_arg *argv, int first, long long *count,
                  const struct resp_arg **pat);
/* The reply of a *SCAN on a missing key: cursor 0, no elements. */
void kv_reply_empty_scan(struct kv_client *c);

/*
 * Whether the running command's reply has passed the client's output limit
 * (client-output-buffer-limit hard; when that is 0, maxmemory, or 1 GB when
 * both are 0). A handler whose reply size depends on an argument (repeats,
 * counts, ranges) calls this in its reply loop and returns at once when it
 * says true: kv_call then drops the partial reply, answers an error and the
 * client is closed; the server goes on.
 */
bool kv_reply_full(struct kv_client *c);

#endif
