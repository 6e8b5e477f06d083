/*
 * slowlog.h — the slow log (SLOWLOG GET/LEN/RESET/HELP), as Redis 7.0: a
 * command whose handler ran at least slowlog-log-slower-than microseconds
 * (negative: never; 0: every command) is remembered with its arguments (at
 * most 32, the last one then saying how many more there were; strings cut at
 * 128 bytes), the client's address and name; the newest slowlog-max-len
 * entries are kept. AUTH, HELLO and EXEC are never logged (EXEC's commands
 * are, one by one), nor a command that left its client blocked.
 *
 * Everything runs with the keyspace lock held.
 */
#ifndef SCALEOUT_KV_SLOWLOG_H
#define SCALEOUT_KV_SLOWLOG_H

#include "proto/resp.h"

struct kv_client;
struct kv_slowlog;

struct kv_slowlog *kv_slowlog_new(void);
void kv_slowlog_free(struct kv_slowlog *sl);

/* Command `id` of c ran for `usec` microseconds: log it if it qualifies. */
void kv_slowlog_note(struct kv_client *c, int id, int argc, const struct resp_arg *argv, long long usec);

#endif
