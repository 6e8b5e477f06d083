/*
 * commands_info.c — what Redis 7.0's COMMAND INFO says of each command and
 * subcommand: flags, ACL categories, tips, key specs. Written by
 * scripts/gen-command-info.py from redis-server's COMMAND reply; do not edit.
 */
#include "proto/commands.h"

#include <stddef.h>

const char *const resp_acl_cat_names[RESP_ACL_NCATS] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction",
    "scripting",
};

static const char *const fl_get[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_get[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_set[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_set[] = {
    {"RW and ACCESS due to the optional `GET` argument", RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE|RESP_KEY_VARIABLE_FLAGS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_setnx[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_setnx[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_setex[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_setex[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_psetex[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_psetex[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_getset[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_getset[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_getdel[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_getdel[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_getex[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_getex[] = {
    {"RW and UPDATE because it changes the TTL", RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_mget[] = {"readonly", "fast", NULL};
static const char *const tp_mget[] = {"request_policy:multi_shard", NULL};
static const struct resp_keyspec ks_mget[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_mset[] = {"write", "denyoom", NULL};
static const char *const tp_mset[] = {"request_policy:multi_shard", "response_policy:all_succeeded", NULL};
static const struct resp_keyspec ks_mset[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 2, 0}},
};
static const char *const fl_msetnx[] = {"write", "denyoom", NULL};
static const char *const tp_msetnx[] = {"request_policy:multi_shard", "response_policy:agg_min", NULL};
static const struct resp_keyspec ks_msetnx[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 2, 0}},
};
static const char *const fl_append[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_append[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_strlen[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_strlen[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_incr[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_incr[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_decr[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_decr[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_incrby[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_incrby[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_decrby[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_decrby[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_incrbyfloat[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_incrbyfloat[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_getrange[] = {"readonly", NULL};
static const struct resp_keyspec ks_getrange[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_substr[] = {"readonly", NULL};
static const struct resp_keyspec ks_substr[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_setrange[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_setrange[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lcs[] = {"readonly", NULL};
static const struct resp_keyspec ks_lcs[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {1, 1, 0}},
};
static const char *const fl_setbit[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_setbit[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_getbit[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_getbit[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_bitcount[] = {"readonly", NULL};
static const struct resp_keyspec ks_bitcount[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pfadd[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_pfadd[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pfcount[] = {"readonly", NULL};
static const struct resp_keyspec ks_pfcount[] = {
    {"RW because it may change the internal representation of the key, and propagate to replicas", RESP_KEY_RW|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_pfmerge[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_pfmerge[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_pfdebug[] = {"write", "denyoom", "admin", NULL};
static const struct resp_keyspec ks_pfdebug[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pfselftest[] = {"admin", NULL};
static const char *const fl_bitpos[] = {"readonly", NULL};
static const struct resp_keyspec ks_bitpos[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_bitop[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_bitop[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 3, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_bitfield[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_bitfield[] = {
    {"This command allows both access and modification of the key", RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE|RESP_KEY_VARIABLE_FLAGS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_bitfield_ro[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_bitfield_ro[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_del[] = {"write", NULL};
static const char *const tp_del[] = {"request_policy:multi_shard", "response_policy:agg_sum", NULL};
static const struct resp_keyspec ks_del[] = {
    {NULL, RESP_KEY_RM|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_unlink[] = {"write", "fast", NULL};
static const char *const tp_unlink[] = {"request_policy:multi_shard", "response_policy:agg_sum", NULL};
static const struct resp_keyspec ks_unlink[] = {
    {NULL, RESP_KEY_RM|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_exists[] = {"readonly", "fast", NULL};
static const char *const tp_exists[] = {"request_policy:multi_shard", "response_policy:agg_sum", NULL};
static const struct resp_keyspec ks_exists[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_type[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_type[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_rename[] = {"write", NULL};
static const struct resp_keyspec ks_rename[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_renamenx[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_renamenx[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_copy[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_copy[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_move[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_move[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_swapdb[] = {"write", "fast", NULL};
static const char *const fl_expire[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_expire[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pexpire[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_pexpire[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_expireat[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_expireat[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pexpireat[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_pexpireat[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_ttl[] = {"readonly", "fast", NULL};
static const char *const tp_ttl[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_ttl[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pttl[] = {"readonly", "fast", NULL};
static const char *const tp_pttl[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_pttl[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_expiretime[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_expiretime[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_pexpiretime[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_pexpiretime[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_persist[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_persist[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_keys[] = {"readonly", NULL};
static const char *const tp_keys[] = {"request_policy:all_shards", "nondeterministic_output_order", NULL};
static const char *const fl_scan[] = {"readonly", NULL};
static const char *const tp_scan[] = {"nondeterministic_output", "request_policy:special", NULL};
static const char *const fl_randomkey[] = {"readonly", NULL};
static const char *const tp_randomkey[] = {"request_policy:all_shards", "nondeterministic_output", NULL};
static const char *const fl_touch[] = {"readonly", "fast", NULL};
static const char *const tp_touch[] = {"request_policy:multi_shard", "response_policy:agg_sum", NULL};
static const struct resp_keyspec ks_touch[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_object[] = {NULL};
static const char *const fl_sort[] = {"write", "denyoom", "movablekeys", NULL};
static const struct resp_keyspec ks_sort[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {"For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort", RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_UNKNOWN, 0, NULL, RESP_FK_UNKNOWN, {0, 0, 0}},
    {"For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array", RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_UNKNOWN, 0, NULL, RESP_FK_UNKNOWN, {0, 0, 0}},
};
static const char *const fl_sort_ro[] = {"readonly", "movablekeys", NULL};
static const struct resp_keyspec ks_sort_ro[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {"For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort", RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_UNKNOWN, 0, NULL, RESP_FK_UNKNOWN, {0, 0, 0}},
};
static const char *const fl_hset[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_hset[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hsetnx[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_hsetnx[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hget[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_hget[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hmget[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_hmget[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hmset[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_hmset[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hgetall[] = {"readonly", NULL};
static const char *const tp_hgetall[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_hgetall[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hdel[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_hdel[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hexists[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_hexists[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hlen[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_hlen[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hkeys[] = {"readonly", NULL};
static const char *const tp_hkeys[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_hkeys[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hvals[] = {"readonly", NULL};
static const char *const tp_hvals[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_hvals[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hincrby[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_hincrby[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hincrbyfloat[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_hincrbyfloat[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hstrlen[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_hstrlen[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hscan[] = {"readonly", NULL};
static const char *const tp_hscan[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_hscan[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_hrandfield[] = {"readonly", NULL};
static const char *const tp_hrandfield[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_hrandfield[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zadd[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_zadd[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zincrby[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_zincrby[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrem[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_zrem[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zcard[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zcard[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zscore[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zscore[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zmscore[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zmscore[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrank[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zrank[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrevrank[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zrevrank[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zcount[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zcount[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zlexcount[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_zlexcount[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrange[] = {"readonly", NULL};
static const struct resp_keyspec ks_zrange[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrangestore[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_zrangestore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrevrange[] = {"readonly", NULL};
static const struct resp_keyspec ks_zrevrange[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrevrangebyscore[] = {"readonly", NULL};
static const struct resp_keyspec ks_zrevrangebyscore[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrevrangebylex[] = {"readonly", NULL};
static const struct resp_keyspec ks_zrevrangebylex[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrangebyscore[] = {"readonly", NULL};
static const struct resp_keyspec ks_zrangebyscore[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zrangebylex[] = {"readonly", NULL};
static const struct resp_keyspec ks_zrangebylex[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zremrangebyrank[] = {"write", NULL};
static const struct resp_keyspec ks_zremrangebyrank[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zremrangebyscore[] = {"write", NULL};
static const struct resp_keyspec ks_zremrangebyscore[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zremrangebylex[] = {"write", NULL};
static const struct resp_keyspec ks_zremrangebylex[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zpopmin[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_zpopmin[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zpopmax[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_zpopmax[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zmpop[] = {"write", "movablekeys", NULL};
static const struct resp_keyspec ks_zmpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_bzpopmin[] = {"write", "noscript", "blocking", "fast", NULL};
static const struct resp_keyspec ks_bzpopmin[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-2, 1, 0}},
};
static const char *const fl_bzpopmax[] = {"write", "noscript", "blocking", "fast", NULL};
static const struct resp_keyspec ks_bzpopmax[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-2, 1, 0}},
};
static const char *const fl_bzmpop[] = {"write", "blocking", "movablekeys", NULL};
static const struct resp_keyspec ks_bzmpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zrandmember[] = {"readonly", NULL};
static const char *const tp_zrandmember[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_zrandmember[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_zunion[] = {"readonly", "movablekeys", NULL};
static const struct resp_keyspec ks_zunion[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zinter[] = {"readonly", "movablekeys", NULL};
static const struct resp_keyspec ks_zinter[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zdiff[] = {"readonly", "movablekeys", NULL};
static const struct resp_keyspec ks_zdiff[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zunionstore[] = {"write", "denyoom", "movablekeys", NULL};
static const struct resp_keyspec ks_zunionstore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zinterstore[] = {"write", "denyoom", "movablekeys", NULL};
static const struct resp_keyspec ks_zinterstore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zdiffstore[] = {"write", "denyoom", "movablekeys", NULL};
static const struct resp_keyspec ks_zdiffstore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zintercard[] = {"readonly", "movablekeys", NULL};
static const struct resp_keyspec ks_zintercard[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_zscan[] = {"readonly", NULL};
static const char *const tp_zscan[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_zscan[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_geoadd[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_geoadd[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_geodist[] = {"readonly", NULL};
static const struct resp_keyspec ks_geodist[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_geohash[] = {"readonly", NULL};
static const struct resp_keyspec ks_geohash[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_geopos[] = {"readonly", NULL};
static const struct resp_keyspec ks_geopos[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_georadius[] = {"write", "denyoom", "movablekeys", NULL};
static const struct resp_keyspec ks_georadius[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_KEYWORD, 6, "STORE", RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_KEYWORD, 6, "STOREDIST", RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_georadius_ro[] = {"readonly", NULL};
static const struct resp_keyspec ks_georadius_ro[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_georadiusbymember[] = {"write", "denyoom", "movablekeys", NULL};
static const struct resp_keyspec ks_georadiusbymember[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_KEYWORD, 5, "STORE", RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_KEYWORD, 5, "STOREDIST", RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_georadiusbymember_ro[] = {"readonly", NULL};
static const struct resp_keyspec ks_georadiusbymember_ro[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_geosearch[] = {"readonly", NULL};
static const struct resp_keyspec ks_geosearch[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_geosearchstore[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_geosearchstore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lpush[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_lpush[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_rpush[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_rpush[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lpushx[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_lpushx[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_rpushx[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_rpushx[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lpop[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_lpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_rpop[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_rpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_llen[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_llen[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lrange[] = {"readonly", NULL};
static const struct resp_keyspec ks_lrange[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lindex[] = {"readonly", NULL};
static const struct resp_keyspec ks_lindex[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lset[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_lset[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_linsert[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_linsert[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lrem[] = {"write", NULL};
static const struct resp_keyspec ks_lrem[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_ltrim[] = {"write", NULL};
static const struct resp_keyspec ks_ltrim[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lpos[] = {"readonly", NULL};
static const struct resp_keyspec ks_lpos[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lmove[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_lmove[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_rpoplpush[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_rpoplpush[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_lmpop[] = {"write", "movablekeys", NULL};
static const struct resp_keyspec ks_lmpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_blpop[] = {"write", "noscript", "blocking", NULL};
static const struct resp_keyspec ks_blpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-2, 1, 0}},
};
static const char *const fl_brpop[] = {"write", "noscript", "blocking", NULL};
static const struct resp_keyspec ks_brpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-2, 1, 0}},
};
static const char *const fl_blmove[] = {"write", "denyoom", "noscript", "blocking", NULL};
static const struct resp_keyspec ks_blmove[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_brpoplpush[] = {"write", "denyoom", "noscript", "blocking", NULL};
static const struct resp_keyspec ks_brpoplpush[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_blmpop[] = {"write", "blocking", "movablekeys", NULL};
static const struct resp_keyspec ks_blmpop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_sadd[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_sadd[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_srem[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_srem[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_scard[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_scard[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_sismember[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_sismember[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_smismember[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_smismember[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_smembers[] = {"readonly", NULL};
static const char *const tp_smembers[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_smembers[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_srandmember[] = {"readonly", NULL};
static const char *const tp_srandmember[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_srandmember[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_spop[] = {"write", "fast", NULL};
static const char *const tp_spop[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_spop[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_smove[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_smove[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_sinter[] = {"readonly", NULL};
static const char *const tp_sinter[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_sinter[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sintercard[] = {"readonly", "movablekeys", NULL};
static const struct resp_keyspec ks_sintercard[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_sunion[] = {"readonly", NULL};
static const char *const tp_sunion[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_sunion[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sdiff[] = {"readonly", NULL};
static const char *const tp_sdiff[] = {"nondeterministic_output_order", NULL};
static const struct resp_keyspec ks_sdiff[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sinterstore[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_sinterstore[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sunionstore[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_sunionstore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sdiffstore[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_sdiffstore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sscan[] = {"readonly", NULL};
static const char *const tp_sscan[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_sscan[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xadd[] = {"write", "denyoom", "fast", NULL};
static const char *const tp_xadd[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_xadd[] = {
    {"UPDATE instead of INSERT because of the optional trimming feature", RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xlen[] = {"readonly", "fast", NULL};
static const struct resp_keyspec ks_xlen[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xrange[] = {"readonly", NULL};
static const struct resp_keyspec ks_xrange[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xrevrange[] = {"readonly", NULL};
static const struct resp_keyspec ks_xrevrange[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xread[] = {"readonly", "blocking", "movablekeys", NULL};
static const struct resp_keyspec ks_xread[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_KEYWORD, 1, "STREAMS", RESP_FK_RANGE, {-1, 1, 2}},
};
static const char *const fl_xdel[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_xdel[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xtrim[] = {"write", NULL};
static const char *const tp_xtrim[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_xtrim[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xsetid[] = {"write", "denyoom", "fast", NULL};
static const struct resp_keyspec ks_xsetid[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xgroup[] = {NULL};
static const char *const fl_xreadgroup[] = {"write", "blocking", "movablekeys", NULL};
static const struct resp_keyspec ks_xreadgroup[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_KEYWORD, 4, "STREAMS", RESP_FK_RANGE, {-1, 1, 2}},
};
static const char *const fl_xack[] = {"write", "fast", NULL};
static const struct resp_keyspec ks_xack[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xpending[] = {"readonly", NULL};
static const char *const tp_xpending[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_xpending[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xclaim[] = {"write", "fast", NULL};
static const char *const tp_xclaim[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_xclaim[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xautoclaim[] = {"write", "fast", NULL};
static const char *const tp_xautoclaim[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_xautoclaim[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xinfo[] = {NULL};
static const char *const fl_eval[] = {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", NULL};
static const struct resp_keyspec ks_eval[] = {
    {"We cannot tell how the keys will be used so we assume the worst, RW and UPDATE", RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_evalsha[] = {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", NULL};
static const struct resp_keyspec ks_evalsha[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_eval_ro[] = {"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", NULL};
static const struct resp_keyspec ks_eval_ro[] = {
    {"We cannot tell how the keys will be used so we assume the worst, RO and ACCESS", RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_evalsha_ro[] = {"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", NULL};
static const struct resp_keyspec ks_evalsha_ro[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_fcall[] = {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", NULL};
static const struct resp_keyspec ks_fcall[] = {
    {"We cannot tell how the keys will be used so we assume the worst, RW and UPDATE", RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_fcall_ro[] = {"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", NULL};
static const struct resp_keyspec ks_fcall_ro[] = {
    {"We cannot tell how the keys will be used so we assume the worst, RO and ACCESS", RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_KEYNUM, {0, 1, 1}},
};
static const char *const fl_script[] = {NULL};
static const char *const fl_function[] = {NULL};
static const char *const fl_ping[] = {"fast", NULL};
static const char *const tp_ping[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_echo[] = {"loading", "stale", "fast", NULL};
static const char *const fl_quit[] = {"noscript", "loading", "stale", "fast", "no_auth", "allow_busy", NULL};
static const char *const fl_monitor[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_cluster[] = {NULL};
static const char *const fl_readonly[] = {"loading", "stale", "fast", NULL};
static const char *const fl_readwrite[] = {"loading", "stale", "fast", NULL};
static const char *const fl_asking[] = {"fast", NULL};
static const char *const fl_hello[] = {"noscript", "loading", "stale", "fast", "no_auth", "allow_busy", NULL};
static const char *const fl_auth[] = {"noscript", "loading", "stale", "fast", "no_auth", "allow_busy", NULL};
static const char *const fl_acl[] = {NULL};
static const char *const fl_select[] = {"loading", "stale", "fast", NULL};
static const char *const fl_client[] = {NULL};
static const char *const fl_reset[] = {"noscript", "loading", "stale", "fast", "no_auth", "allow_busy", NULL};
static const char *const fl_dbsize[] = {"readonly", "fast", NULL};
static const char *const tp_dbsize[] = {"request_policy:all_shards", "response_policy:agg_sum", NULL};
static const char *const fl_flushdb[] = {"write", NULL};
static const char *const tp_flushdb[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_flushall[] = {"write", NULL};
static const char *const tp_flushall[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_info[] = {"loading", "stale", NULL};
static const char *const tp_info[] = {"nondeterministic_output", "request_policy:all_shards", "response_policy:special", NULL};
static const char *const fl_config[] = {NULL};
static const char *const fl_command[] = {"loading", "stale", NULL};
static const char *const tp_command[] = {"nondeterministic_output_order", NULL};
static const char *const fl_time[] = {"loading", "stale", "fast", NULL};
static const char *const tp_time[] = {"nondeterministic_output", NULL};
static const char *const fl_memory[] = {NULL};
static const char *const fl_lastsave[] = {"loading", "stale", "fast", NULL};
static const char *const tp_lastsave[] = {"nondeterministic_output", NULL};
static const char *const fl_slowlog[] = {NULL};
static const char *const fl_latency[] = {NULL};
static const char *const fl_module[] = {NULL};
static const char *const fl_lolwut[] = {"readonly", "fast", NULL};
static const char *const fl_save[] = {"admin", "noscript", "no_async_loading", "no_multi", NULL};
static const char *const fl_bgsave[] = {"admin", "noscript", "no_async_loading", NULL};
static const char *const fl_bgrewriteaof[] = {"admin", "noscript", "no_async_loading", NULL};
static const char *const fl_replicaof[] = {"admin", "noscript", "stale", "no_async_loading", NULL};
static const char *const fl_slaveof[] = {"admin", "noscript", "stale", "no_async_loading", NULL};
static const char *const fl_psync[] = {"admin", "noscript", "no_async_loading", "no_multi", NULL};
static const char *const fl_sync[] = {"admin", "noscript", "no_async_loading", "no_multi", NULL};
static const char *const fl_replconf[] = {"admin", "noscript", "loading", "stale", "allow_busy", NULL};
static const char *const fl_role[] = {"noscript", "loading", "stale", "fast", NULL};
static const char *const fl_failover[] = {"admin", "noscript", "stale", NULL};
static const char *const fl_wait[] = {"noscript", NULL};
static const char *const tp_wait[] = {"request_policy:all_shards", "response_policy:agg_min", NULL};
static const char *const fl_shutdown[] = {"admin", "noscript", "loading", "stale", "no_multi", "allow_busy", NULL};
static const char *const fl_dump[] = {"readonly", NULL};
static const char *const tp_dump[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_dump[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_restore[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_restore[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_restore_asking[] = {"write", "denyoom", "asking", NULL};
static const struct resp_keyspec ks_restore_asking[] = {
    {NULL, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_migrate[] = {"write", "movablekeys", NULL};
static const char *const tp_migrate[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_migrate[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_BS_INDEX, 3, NULL, RESP_FK_RANGE, {0, 1, 0}},
    {NULL, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE|RESP_KEY_INCOMPLETE, RESP_BS_KEYWORD, -2, "KEYS", RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_debug[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_multi[] = {"noscript", "loading", "stale", "fast", "allow_busy", NULL};
static const char *const fl_exec[] = {"noscript", "loading", "stale", "skip_slowlog", NULL};
static const char *const fl_discard[] = {"noscript", "loading", "stale", "fast", "allow_busy", NULL};
static const char *const fl_watch[] = {"noscript", "loading", "stale", "fast", "allow_busy", NULL};
static const struct resp_keyspec ks_watch[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_unwatch[] = {"noscript", "loading", "stale", "fast", "allow_busy", NULL};
static const char *const fl_subscribe[] = {"pubsub", "noscript", "loading", "stale", NULL};
static const char *const fl_unsubscribe[] = {"pubsub", "noscript", "loading", "stale", NULL};
static const char *const fl_psubscribe[] = {"pubsub", "noscript", "loading", "stale", NULL};
static const char *const fl_punsubscribe[] = {"pubsub", "noscript", "loading", "stale", NULL};
static const char *const fl_publish[] = {"pubsub", "loading", "stale", "fast", NULL};
static const char *const fl_pubsub[] = {NULL};
static const char *const fl_ssubscribe[] = {"pubsub", "noscript", "loading", "stale", NULL};
static const struct resp_keyspec ks_ssubscribe[] = {
    {NULL, RESP_KEY_NOT_KEY, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_sunsubscribe[] = {"pubsub", "noscript", "loading", "stale", NULL};
static const struct resp_keyspec ks_sunsubscribe[] = {
    {NULL, RESP_KEY_NOT_KEY, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {-1, 1, 0}},
};
static const char *const fl_spublish[] = {"pubsub", "loading", "stale", "fast", NULL};
static const struct resp_keyspec ks_spublish[] = {
    {NULL, RESP_KEY_NOT_KEY, RESP_BS_INDEX, 1, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_acl_cat[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_acl_deluser[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_dryrun[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_genpass[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_acl_getuser[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_help[] = {"loading", "stale", NULL};
static const char *const fl_acl_list[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_load[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_log[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_save[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_setuser[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_users[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_acl_whoami[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_caching[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_getname[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_getredir[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_help[] = {"loading", "stale", NULL};
static const char *const fl_client_id[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_info[] = {"noscript", "loading", "stale", NULL};
static const char *const tp_client_info[] = {"nondeterministic_output", NULL};
static const char *const fl_client_kill[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_client_list[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_client_list[] = {"nondeterministic_output", NULL};
static const char *const fl_client_no_evict[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_client_pause[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_client_reply[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_setname[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_tracking[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_trackinginfo[] = {"noscript", "loading", "stale", NULL};
static const char *const fl_client_unblock[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_client_unpause[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_config_get[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_config_help[] = {"loading", "stale", NULL};
static const char *const fl_config_resetstat[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_config_rewrite[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const fl_config_set[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_config_set[] = {"request_policy:all_nodes", "response_policy:all_succeeded", NULL};
static const char *const fl_command_count[] = {"loading", "stale", NULL};
static const char *const fl_command_docs[] = {"loading", "stale", NULL};
static const char *const tp_command_docs[] = {"nondeterministic_output_order", NULL};
static const char *const fl_command_getkeys[] = {"loading", "stale", NULL};
static const char *const fl_command_getkeysandflags[] = {"loading", "stale", NULL};
static const char *const fl_command_help[] = {"loading", "stale", NULL};
static const char *const fl_command_info[] = {"loading", "stale", NULL};
static const char *const tp_command_info[] = {"nondeterministic_output_order", NULL};
static const char *const fl_command_list[] = {"loading", "stale", NULL};
static const char *const tp_command_list[] = {"nondeterministic_output_order", NULL};
static const char *const fl_object_encoding[] = {"readonly", NULL};
static const char *const tp_object_encoding[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_object_encoding[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_object_freq[] = {"readonly", NULL};
static const char *const tp_object_freq[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_object_freq[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_object_help[] = {"loading", "stale", NULL};
static const char *const fl_object_idletime[] = {"readonly", NULL};
static const char *const tp_object_idletime[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_object_idletime[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_object_refcount[] = {"readonly", NULL};
static const char *const tp_object_refcount[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_object_refcount[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_memory_doctor[] = {NULL};
static const char *const tp_memory_doctor[] = {"nondeterministic_output", "request_policy:all_shards", "response_policy:special", NULL};
static const char *const fl_memory_help[] = {"loading", "stale", NULL};
static const char *const fl_memory_malloc_stats[] = {NULL};
static const char *const tp_memory_malloc_stats[] = {"nondeterministic_output", "request_policy:all_shards", "response_policy:special", NULL};
static const char *const fl_memory_purge[] = {NULL};
static const char *const tp_memory_purge[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_memory_stats[] = {NULL};
static const char *const tp_memory_stats[] = {"nondeterministic_output", "request_policy:all_shards", "response_policy:special", NULL};
static const char *const fl_memory_usage[] = {"readonly", NULL};
static const struct resp_keyspec ks_memory_usage[] = {
    {NULL, RESP_KEY_RO, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_module_help[] = {"loading", "stale", NULL};
static const char *const fl_module_list[] = {"admin", "noscript", NULL};
static const char *const tp_module_list[] = {"nondeterministic_output_order", NULL};
static const char *const fl_module_load[] = {"admin", "noscript", "no_async_loading", NULL};
static const char *const fl_module_loadex[] = {"admin", "noscript", "no_async_loading", NULL};
static const char *const fl_module_unload[] = {"admin", "noscript", "no_async_loading", NULL};
static const char *const fl_latency_doctor[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_latency_doctor[] = {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special", NULL};
static const char *const fl_latency_graph[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_latency_graph[] = {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special", NULL};
static const char *const fl_latency_help[] = {"loading", "stale", NULL};
static const char *const fl_latency_histogram[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_latency_histogram[] = {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special", NULL};
static const char *const fl_latency_history[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_latency_history[] = {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special", NULL};
static const char *const fl_latency_latest[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_latency_latest[] = {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special", NULL};
static const char *const fl_latency_reset[] = {"admin", "noscript", "loading", "stale", NULL};
static const char *const tp_latency_reset[] = {"request_policy:all_nodes", "response_policy:all_succeeded", NULL};
static const char *const fl_slowlog_get[] = {"admin", "loading", "stale", NULL};
static const char *const tp_slowlog_get[] = {"request_policy:all_nodes", "nondeterministic_output", NULL};
static const char *const fl_slowlog_help[] = {"loading", "stale", NULL};
static const char *const fl_slowlog_len[] = {"admin", "loading", "stale", NULL};
static const char *const tp_slowlog_len[] = {"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output", NULL};
static const char *const fl_slowlog_reset[] = {"admin", "loading", "stale", NULL};
static const char *const tp_slowlog_reset[] = {"request_policy:all_nodes", "response_policy:all_succeeded", NULL};
static const char *const fl_pubsub_channels[] = {"pubsub", "loading", "stale", NULL};
static const char *const fl_pubsub_help[] = {"loading", "stale", NULL};
static const char *const fl_pubsub_numpat[] = {"pubsub", "loading", "stale", NULL};
static const char *const fl_pubsub_numsub[] = {"pubsub", "loading", "stale", NULL};
static const char *const fl_pubsub_shardchannels[] = {"pubsub", "loading", "stale", NULL};
static const char *const fl_pubsub_shardnumsub[] = {"pubsub", "loading", "stale", NULL};
static const char *const fl_xgroup_create[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_xgroup_create[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xgroup_createconsumer[] = {"write", "denyoom", NULL};
static const struct resp_keyspec ks_xgroup_createconsumer[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_INSERT, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xgroup_delconsumer[] = {"write", NULL};
static const struct resp_keyspec ks_xgroup_delconsumer[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xgroup_destroy[] = {"write", NULL};
static const struct resp_keyspec ks_xgroup_destroy[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_DELETE, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xgroup_help[] = {"loading", "stale", NULL};
static const char *const fl_xgroup_setid[] = {"write", NULL};
static const struct resp_keyspec ks_xgroup_setid[] = {
    {NULL, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xinfo_consumers[] = {"readonly", NULL};
static const char *const tp_xinfo_consumers[] = {"nondeterministic_output", NULL};
static const struct resp_keyspec ks_xinfo_consumers[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xinfo_groups[] = {"readonly", NULL};
static const struct resp_keyspec ks_xinfo_groups[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_xinfo_help[] = {"loading", "stale", NULL};
static const char *const fl_xinfo_stream[] = {"readonly", NULL};
static const struct resp_keyspec ks_xinfo_stream[] = {
    {NULL, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_BS_INDEX, 2, NULL, RESP_FK_RANGE, {0, 1, 0}},
};
static const char *const fl_script_debug[] = {"noscript", NULL};
static const char *const fl_script_exists[] = {"noscript", NULL};
static const char *const tp_script_exists[] = {"request_policy:all_shards", "response_policy:agg_logical_and", NULL};
static const char *const fl_script_flush[] = {"noscript", NULL};
static const char *const tp_script_flush[] = {"request_policy:all_nodes", "response_policy:all_succeeded", NULL};
static const char *const fl_script_help[] = {"loading", "stale", NULL};
static const char *const fl_script_kill[] = {"noscript", "allow_busy", NULL};
static const char *const tp_script_kill[] = {"request_policy:all_shards", "response_policy:one_succeeded", NULL};
static const char *const fl_script_load[] = {"noscript", "stale", NULL};
static const char *const tp_script_load[] = {"request_policy:all_nodes", "response_policy:all_succeeded", NULL};
static const char *const fl_function_delete[] = {"write", "noscript", NULL};
static const char *const tp_function_delete[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_function_dump[] = {"noscript", NULL};
static const char *const fl_function_flush[] = {"write", "noscript", NULL};
static const char *const tp_function_flush[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_function_help[] = {"loading", "stale", NULL};
static const char *const fl_function_kill[] = {"noscript", "allow_busy", NULL};
static const char *const tp_function_kill[] = {"request_policy:all_shards", "response_policy:one_succeeded", NULL};
static const char *const fl_function_list[] = {"noscript", NULL};
static const char *const tp_function_list[] = {"nondeterministic_output_order", NULL};
static const char *const fl_function_load[] = {"write", "denyoom", "noscript", NULL};
static const char *const tp_function_load[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_function_restore[] = {"write", "denyoom", "noscript", NULL};
static const char *const tp_function_restore[] = {"request_policy:all_shards", "response_policy:all_succeeded", NULL};
static const char *const fl_function_stats[] = {"noscript", "allow_busy", NULL};
static const char *const tp_function_stats[] = {"nondeterministic_output", "request_policy:all_shards", "response_policy:special", NULL};
static const char *const fl_cluster_saveconfig[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_replicate[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_delslots[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_help[] = {"loading", "stale", NULL};
static const char *const fl_cluster_bumpepoch[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const tp_cluster_bumpepoch[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_addslots[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_shards[] = {"stale", NULL};
static const char *const tp_cluster_shards[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_getkeysinslot[] = {"stale", NULL};
static const char *const tp_cluster_getkeysinslot[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_slots[] = {"stale", NULL};
static const char *const tp_cluster_slots[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_keyslot[] = {"stale", NULL};
static const char *const fl_cluster_nodes[] = {"stale", NULL};
static const char *const tp_cluster_nodes[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_count_failure_reports[] = {"admin", "stale", NULL};
static const char *const tp_cluster_count_failure_reports[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_setslot[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_addslotsrange[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_reset[] = {"admin", "noscript", "stale", NULL};
static const char *const fl_cluster_delslotsrange[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_meet[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_forget[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_failover[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_myid[] = {"stale", NULL};
static const char *const fl_cluster_info[] = {"stale", NULL};
static const char *const tp_cluster_info[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_replicas[] = {"admin", "stale", NULL};
static const char *const tp_cluster_replicas[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_slaves[] = {"admin", "stale", NULL};
static const char *const tp_cluster_slaves[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_links[] = {"stale", NULL};
static const char *const tp_cluster_links[] = {"nondeterministic_output", NULL};
static const char *const fl_cluster_flushslots[] = {"admin", "stale", "no_async_loading", NULL};
static const char *const fl_cluster_countkeysinslot[] = {"stale", NULL};
static const char *const fl_cluster_set_config_epoch[] = {"admin", "stale", "no_async_loading", NULL};

/* key_first: the flags of the first key spec; key_rest: of the last one (the
 * keys after the first key: destinations, STORE targets, sources) */
const struct resp_cmd_info resp_cmd_infos[RESP_CMD_COUNT] = {
    [RESP_CMD_GET] = {RESP_ACL_READ|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_get, NULL, ks_get, 1},
    [RESP_CMD_SET] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE|RESP_KEY_VARIABLE_FLAGS, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE|RESP_KEY_VARIABLE_FLAGS, fl_set, NULL, ks_set, 1},
    [RESP_CMD_SETNX] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_OW|RESP_KEY_INSERT, RESP_KEY_OW|RESP_KEY_INSERT, fl_setnx, NULL, ks_setnx, 1},
    [RESP_CMD_SETEX] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_OW|RESP_KEY_UPDATE, fl_setex, NULL, ks_setex, 1},
    [RESP_CMD_PSETEX] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_OW|RESP_KEY_UPDATE, fl_psetex, NULL, ks_psetex, 1},
    [RESP_CMD_GETSET] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_getset, NULL, ks_getset, 1},
    [RESP_CMD_GETDEL] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_getdel, NULL, ks_getdel, 1},
    [RESP_CMD_GETEX] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_getex, NULL, ks_getex, 1},
    [RESP_CMD_MGET] = {RESP_ACL_READ|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_mget, tp_mget, ks_mget, 1},
    [RESP_CMD_MSET] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_OW|RESP_KEY_UPDATE, fl_mset, tp_mset, ks_mset, 1},
    [RESP_CMD_MSETNX] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_INSERT, RESP_KEY_OW|RESP_KEY_INSERT, fl_msetnx, tp_msetnx, ks_msetnx, 1},
    [RESP_CMD_APPEND] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_append, NULL, ks_append, 1},
    [RESP_CMD_STRLEN] = {RESP_ACL_READ|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_strlen, NULL, ks_strlen, 1},
    [RESP_CMD_INCR] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_incr, NULL, ks_incr, 1},
    [RESP_CMD_DECR] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_decr, NULL, ks_decr, 1},
    [RESP_CMD_INCRBY] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_incrby, NULL, ks_incrby, 1},
    [RESP_CMD_DECRBY] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_decrby, NULL, ks_decrby, 1},
    [RESP_CMD_INCRBYFLOAT] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_incrbyfloat, NULL, ks_incrbyfloat, 1},
    [RESP_CMD_GETRANGE] = {RESP_ACL_READ|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_getrange, NULL, ks_getrange, 1},
    [RESP_CMD_SUBSTR] = {RESP_ACL_READ|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_substr, NULL, ks_substr, 1},
    [RESP_CMD_SETRANGE] = {RESP_ACL_WRITE|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_setrange, NULL, ks_setrange, 1},
    [RESP_CMD_LCS] = {RESP_ACL_READ|RESP_ACL_STRING|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_lcs, NULL, ks_lcs, 1},
    [RESP_CMD_SETBIT] = {RESP_ACL_WRITE|RESP_ACL_BITMAP|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_setbit, NULL, ks_setbit, 1},
    [RESP_CMD_GETBIT] = {RESP_ACL_READ|RESP_ACL_BITMAP|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_getbit, NULL, ks_getbit, 1},
    [RESP_CMD_BITCOUNT] = {RESP_ACL_READ|RESP_ACL_BITMAP|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_bitcount, NULL, ks_bitcount, 1},
    [RESP_CMD_PFADD] = {RESP_ACL_WRITE|RESP_ACL_HYPERLOGLOG|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_pfadd, NULL, ks_pfadd, 1},
    [RESP_CMD_PFCOUNT] = {RESP_ACL_READ|RESP_ACL_HYPERLOGLOG|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS, RESP_KEY_RW|RESP_KEY_ACCESS, fl_pfcount, NULL, ks_pfcount, 1},
    [RESP_CMD_PFMERGE] = {RESP_ACL_WRITE|RESP_ACL_HYPERLOGLOG|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_INSERT, RESP_KEY_RO|RESP_KEY_ACCESS, fl_pfmerge, NULL, ks_pfmerge, 2},
    [RESP_CMD_PFDEBUG] = {RESP_ACL_WRITE|RESP_ACL_HYPERLOGLOG|RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, RESP_KEY_RW|RESP_KEY_ACCESS, RESP_KEY_RW|RESP_KEY_ACCESS, fl_pfdebug, NULL, ks_pfdebug, 1},
    [RESP_CMD_PFSELFTEST] = {RESP_ACL_HYPERLOGLOG|RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_pfselftest, NULL, NULL, 0},
    [RESP_CMD_BITPOS] = {RESP_ACL_READ|RESP_ACL_BITMAP|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_bitpos, NULL, ks_bitpos, 1},
    [RESP_CMD_BITOP] = {RESP_ACL_WRITE|RESP_ACL_BITMAP|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_bitop, NULL, ks_bitop, 2},
    [RESP_CMD_BITFIELD] = {RESP_ACL_WRITE|RESP_ACL_BITMAP|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE|RESP_KEY_VARIABLE_FLAGS, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE|RESP_KEY_VARIABLE_FLAGS, fl_bitfield, NULL, ks_bitfield, 1},
    [RESP_CMD_BITFIELD_RO] = {RESP_ACL_READ|RESP_ACL_BITMAP|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_bitfield_ro, NULL, ks_bitfield_ro, 1},
    [RESP_CMD_DEL] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW, RESP_KEY_RM|RESP_KEY_DELETE, RESP_KEY_RM|RESP_KEY_DELETE, fl_del, tp_del, ks_del, 1},
    [RESP_CMD_UNLINK] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RM|RESP_KEY_DELETE, RESP_KEY_RM|RESP_KEY_DELETE, fl_unlink, tp_unlink, ks_unlink, 1},
    [RESP_CMD_EXISTS] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_exists, tp_exists, ks_exists, 1},
    [RESP_CMD_TYPE] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_type, NULL, ks_type, 1},
    [RESP_CMD_RENAME] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_OW|RESP_KEY_UPDATE, fl_rename, NULL, ks_rename, 2},
    [RESP_CMD_RENAMENX] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_OW|RESP_KEY_INSERT, fl_renamenx, NULL, ks_renamenx, 2},
    [RESP_CMD_COPY] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_OW|RESP_KEY_UPDATE, fl_copy, NULL, ks_copy, 2},
    [RESP_CMD_MOVE] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_move, NULL, ks_move, 1},
    [RESP_CMD_SWAPDB] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST|RESP_ACL_DANGEROUS, 0, 0, fl_swapdb, NULL, NULL, 0},
    [RESP_CMD_EXPIRE] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_expire, NULL, ks_expire, 1},
    [RESP_CMD_PEXPIRE] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_pexpire, NULL, ks_pexpire, 1},
    [RESP_CMD_EXPIREAT] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_expireat, NULL, ks_expireat, 1},
    [RESP_CMD_PEXPIREAT] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_pexpireat, NULL, ks_pexpireat, 1},
    [RESP_CMD_TTL] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_ttl, tp_ttl, ks_ttl, 1},
    [RESP_CMD_PTTL] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_pttl, tp_pttl, ks_pttl, 1},
    [RESP_CMD_EXPIRETIME] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_expiretime, NULL, ks_expiretime, 1},
    [RESP_CMD_PEXPIRETIME] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_pexpiretime, NULL, ks_pexpiretime, 1},
    [RESP_CMD_PERSIST] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_persist, NULL, ks_persist, 1},
    [RESP_CMD_KEYS] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_keys, tp_keys, NULL, 0},
    [RESP_CMD_SCAN] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, 0, 0, fl_scan, tp_scan, NULL, 0},
    [RESP_CMD_RANDOMKEY] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, 0, 0, fl_randomkey, tp_randomkey, NULL, 0},
    [RESP_CMD_TOUCH] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_touch, tp_touch, ks_touch, 1},
    [RESP_CMD_OBJECT] = {RESP_ACL_SLOW, 0, 0, fl_object, NULL, NULL, 0},
    [RESP_CMD_SORT] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_SORTEDSET|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_OW|RESP_KEY_UPDATE, fl_sort, NULL, ks_sort, 3},
    [RESP_CMD_SORT_RO] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SORTEDSET|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sort_ro, NULL, ks_sort_ro, 2},
    [RESP_CMD_HSET] = {RESP_ACL_WRITE|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_hset, NULL, ks_hset, 1},
    [RESP_CMD_HSETNX] = {RESP_ACL_WRITE|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_hsetnx, NULL, ks_hsetnx, 1},
    [RESP_CMD_HGET] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hget, NULL, ks_hget, 1},
    [RESP_CMD_HMGET] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hmget, NULL, ks_hmget, 1},
    [RESP_CMD_HMSET] = {RESP_ACL_WRITE|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_hmset, NULL, ks_hmset, 1},
    [RESP_CMD_HGETALL] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hgetall, tp_hgetall, ks_hgetall, 1},
    [RESP_CMD_HDEL] = {RESP_ACL_WRITE|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_hdel, NULL, ks_hdel, 1},
    [RESP_CMD_HEXISTS] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_hexists, NULL, ks_hexists, 1},
    [RESP_CMD_HLEN] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_hlen, NULL, ks_hlen, 1},
    [RESP_CMD_HKEYS] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hkeys, tp_hkeys, ks_hkeys, 1},
    [RESP_CMD_HVALS] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hvals, tp_hvals, ks_hvals, 1},
    [RESP_CMD_HINCRBY] = {RESP_ACL_WRITE|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_hincrby, NULL, ks_hincrby, 1},
    [RESP_CMD_HINCRBYFLOAT] = {RESP_ACL_WRITE|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_hincrbyfloat, NULL, ks_hincrbyfloat, 1},
    [RESP_CMD_HSTRLEN] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_hstrlen, NULL, ks_hstrlen, 1},
    [RESP_CMD_HSCAN] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hscan, tp_hscan, ks_hscan, 1},
    [RESP_CMD_HRANDFIELD] = {RESP_ACL_READ|RESP_ACL_HASH|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_hrandfield, tp_hrandfield, ks_hrandfield, 1},
    [RESP_CMD_ZADD] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_zadd, NULL, ks_zadd, 1},
    [RESP_CMD_ZINCRBY] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_zincrby, NULL, ks_zincrby, 1},
    [RESP_CMD_ZREM] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_zrem, NULL, ks_zrem, 1},
    [RESP_CMD_ZCARD] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_zcard, NULL, ks_zcard, 1},
    [RESP_CMD_ZSCORE] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zscore, NULL, ks_zscore, 1},
    [RESP_CMD_ZMSCORE] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zmscore, NULL, ks_zmscore, 1},
    [RESP_CMD_ZRANK] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrank, NULL, ks_zrank, 1},
    [RESP_CMD_ZREVRANK] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrevrank, NULL, ks_zrevrank, 1},
    [RESP_CMD_ZCOUNT] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zcount, NULL, ks_zcount, 1},
    [RESP_CMD_ZLEXCOUNT] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zlexcount, NULL, ks_zlexcount, 1},
    [RESP_CMD_ZRANGE] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrange, NULL, ks_zrange, 1},
    [RESP_CMD_ZRANGESTORE] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrangestore, NULL, ks_zrangestore, 2},
    [RESP_CMD_ZREVRANGE] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrevrange, NULL, ks_zrevrange, 1},
    [RESP_CMD_ZREVRANGEBYSCORE] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrevrangebyscore, NULL, ks_zrevrangebyscore, 1},
    [RESP_CMD_ZREVRANGEBYLEX] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrevrangebylex, NULL, ks_zrevrangebylex, 1},
    [RESP_CMD_ZRANGEBYSCORE] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrangebyscore, NULL, ks_zrangebyscore, 1},
    [RESP_CMD_ZRANGEBYLEX] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrangebylex, NULL, ks_zrangebylex, 1},
    [RESP_CMD_ZREMRANGEBYRANK] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_zremrangebyrank, NULL, ks_zremrangebyrank, 1},
    [RESP_CMD_ZREMRANGEBYSCORE] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_zremrangebyscore, NULL, ks_zremrangebyscore, 1},
    [RESP_CMD_ZREMRANGEBYLEX] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_zremrangebylex, NULL, ks_zremrangebylex, 1},
    [RESP_CMD_ZPOPMIN] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_zpopmin, NULL, ks_zpopmin, 1},
    [RESP_CMD_ZPOPMAX] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_zpopmax, NULL, ks_zpopmax, 1},
    [RESP_CMD_ZMPOP] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_zmpop, NULL, ks_zmpop, 1},
    [RESP_CMD_BZPOPMIN] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_bzpopmin, NULL, ks_bzpopmin, 1},
    [RESP_CMD_BZPOPMAX] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_FAST|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_bzpopmax, NULL, ks_bzpopmax, 1},
    [RESP_CMD_BZMPOP] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_bzmpop, NULL, ks_bzmpop, 1},
    [RESP_CMD_ZRANDMEMBER] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zrandmember, tp_zrandmember, ks_zrandmember, 1},
    [RESP_CMD_ZUNION] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zunion, NULL, ks_zunion, 1},
    [RESP_CMD_ZINTER] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zinter, NULL, ks_zinter, 1},
    [RESP_CMD_ZDIFF] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zdiff, NULL, ks_zdiff, 1},
    [RESP_CMD_ZUNIONSTORE] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zunionstore, NULL, ks_zunionstore, 2},
    [RESP_CMD_ZINTERSTORE] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zinterstore, NULL, ks_zinterstore, 2},
    [RESP_CMD_ZDIFFSTORE] = {RESP_ACL_WRITE|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zdiffstore, NULL, ks_zdiffstore, 2},
    [RESP_CMD_ZINTERCARD] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zintercard, NULL, ks_zintercard, 1},
    [RESP_CMD_ZSCAN] = {RESP_ACL_READ|RESP_ACL_SORTEDSET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_zscan, tp_zscan, ks_zscan, 1},
    [RESP_CMD_GEOADD] = {RESP_ACL_WRITE|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_geoadd, NULL, ks_geoadd, 1},
    [RESP_CMD_GEODIST] = {RESP_ACL_READ|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_geodist, NULL, ks_geodist, 1},
    [RESP_CMD_GEOHASH] = {RESP_ACL_READ|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_geohash, NULL, ks_geohash, 1},
    [RESP_CMD_GEOPOS] = {RESP_ACL_READ|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_geopos, NULL, ks_geopos, 1},
    [RESP_CMD_GEORADIUS] = {RESP_ACL_WRITE|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_OW|RESP_KEY_UPDATE, fl_georadius, NULL, ks_georadius, 3},
    [RESP_CMD_GEORADIUS_RO] = {RESP_ACL_READ|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_georadius_ro, NULL, ks_georadius_ro, 1},
    [RESP_CMD_GEORADIUSBYMEMBER] = {RESP_ACL_WRITE|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_OW|RESP_KEY_UPDATE, fl_georadiusbymember, NULL, ks_georadiusbymember, 3},
    [RESP_CMD_GEORADIUSBYMEMBER_RO] = {RESP_ACL_READ|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_georadiusbymember_ro, NULL, ks_georadiusbymember_ro, 1},
    [RESP_CMD_GEOSEARCH] = {RESP_ACL_READ|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_geosearch, NULL, ks_geosearch, 1},
    [RESP_CMD_GEOSEARCHSTORE] = {RESP_ACL_WRITE|RESP_ACL_GEO|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_geosearchstore, NULL, ks_geosearchstore, 2},
    [RESP_CMD_LPUSH] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_lpush, NULL, ks_lpush, 1},
    [RESP_CMD_RPUSH] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_rpush, NULL, ks_rpush, 1},
    [RESP_CMD_LPUSHX] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_lpushx, NULL, ks_lpushx, 1},
    [RESP_CMD_RPUSHX] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_rpushx, NULL, ks_rpushx, 1},
    [RESP_CMD_LPOP] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_lpop, NULL, ks_lpop, 1},
    [RESP_CMD_RPOP] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_rpop, NULL, ks_rpop, 1},
    [RESP_CMD_LLEN] = {RESP_ACL_READ|RESP_ACL_LIST|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_llen, NULL, ks_llen, 1},
    [RESP_CMD_LRANGE] = {RESP_ACL_READ|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_lrange, NULL, ks_lrange, 1},
    [RESP_CMD_LINDEX] = {RESP_ACL_READ|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_lindex, NULL, ks_lindex, 1},
    [RESP_CMD_LSET] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_lset, NULL, ks_lset, 1},
    [RESP_CMD_LINSERT] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_linsert, NULL, ks_linsert, 1},
    [RESP_CMD_LREM] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_lrem, NULL, ks_lrem, 1},
    [RESP_CMD_LTRIM] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_ltrim, NULL, ks_ltrim, 1},
    [RESP_CMD_LPOS] = {RESP_ACL_READ|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_lpos, NULL, ks_lpos, 1},
    [RESP_CMD_LMOVE] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_INSERT, fl_lmove, NULL, ks_lmove, 2},
    [RESP_CMD_RPOPLPUSH] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_INSERT, fl_rpoplpush, NULL, ks_rpoplpush, 2},
    [RESP_CMD_LMPOP] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_lmpop, NULL, ks_lmpop, 1},
    [RESP_CMD_BLPOP] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_blpop, NULL, ks_blpop, 1},
    [RESP_CMD_BRPOP] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_brpop, NULL, ks_brpop, 1},
    [RESP_CMD_BLMOVE] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_INSERT, fl_blmove, NULL, ks_blmove, 2},
    [RESP_CMD_BRPOPLPUSH] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_INSERT, fl_brpoplpush, NULL, ks_brpoplpush, 2},
    [RESP_CMD_BLMPOP] = {RESP_ACL_WRITE|RESP_ACL_LIST|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_blmpop, NULL, ks_blmpop, 1},
    [RESP_CMD_SADD] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_sadd, NULL, ks_sadd, 1},
    [RESP_CMD_SREM] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_srem, NULL, ks_srem, 1},
    [RESP_CMD_SCARD] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_scard, NULL, ks_scard, 1},
    [RESP_CMD_SISMEMBER] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_sismember, NULL, ks_sismember, 1},
    [RESP_CMD_SMISMEMBER] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_smismember, NULL, ks_smismember, 1},
    [RESP_CMD_SMEMBERS] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_smembers, tp_smembers, ks_smembers, 1},
    [RESP_CMD_SRANDMEMBER] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_srandmember, tp_srandmember, ks_srandmember, 1},
    [RESP_CMD_SPOP] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, fl_spop, tp_spop, ks_spop, 1},
    [RESP_CMD_SMOVE] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_INSERT, fl_smove, NULL, ks_smove, 2},
    [RESP_CMD_SINTER] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sinter, tp_sinter, ks_sinter, 1},
    [RESP_CMD_SINTERCARD] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sintercard, NULL, ks_sintercard, 1},
    [RESP_CMD_SUNION] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sunion, tp_sunion, ks_sunion, 1},
    [RESP_CMD_SDIFF] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sdiff, tp_sdiff, ks_sdiff, 1},
    [RESP_CMD_SINTERSTORE] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sinterstore, NULL, ks_sinterstore, 2},
    [RESP_CMD_SUNIONSTORE] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sunionstore, NULL, ks_sunionstore, 2},
    [RESP_CMD_SDIFFSTORE] = {RESP_ACL_WRITE|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sdiffstore, NULL, ks_sdiffstore, 2},
    [RESP_CMD_SSCAN] = {RESP_ACL_READ|RESP_ACL_SET|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_sscan, tp_sscan, ks_sscan, 1},
    [RESP_CMD_XADD] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_xadd, tp_xadd, ks_xadd, 1},
    [RESP_CMD_XLEN] = {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RO, RESP_KEY_RO, fl_xlen, NULL, ks_xlen, 1},
    [RESP_CMD_XRANGE] = {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xrange, NULL, ks_xrange, 1},
    [RESP_CMD_XREVRANGE] = {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xrevrange, NULL, ks_xrevrange, 1},
    [RESP_CMD_XREAD] = {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xread, NULL, ks_xread, 1},
    [RESP_CMD_XDEL] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_xdel, NULL, ks_xdel, 1},
    [RESP_CMD_XTRIM] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_xtrim, tp_xtrim, ks_xtrim, 1},
    [RESP_CMD_XSETID] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_xsetid, NULL, ks_xsetid, 1},
    [RESP_CMD_XGROUP] = {RESP_ACL_SLOW, 0, 0, fl_xgroup, NULL, NULL, 0},
    [RESP_CMD_XREADGROUP] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW|RESP_ACL_BLOCKING, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xreadgroup, NULL, ks_xreadgroup, 1},
    [RESP_CMD_XACK] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_xack, NULL, ks_xack, 1},
    [RESP_CMD_XPENDING] = {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xpending, tp_xpending, ks_xpending, 1},
    [RESP_CMD_XCLAIM] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_xclaim, tp_xclaim, ks_xclaim, 1},
    [RESP_CMD_XAUTOCLAIM] = {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_FAST, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_xautoclaim, tp_xautoclaim, ks_xautoclaim, 1},
    [RESP_CMD_XINFO] = {RESP_ACL_SLOW, 0, 0, fl_xinfo, NULL, NULL, 0},
    [RESP_CMD_EVAL] = {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_eval, NULL, ks_eval, 1},
    [RESP_CMD_EVALSHA] = {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_evalsha, NULL, ks_evalsha, 1},
    [RESP_CMD_EVAL_RO] = {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_eval_ro, NULL, ks_eval_ro, 1},
    [RESP_CMD_EVALSHA_RO] = {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_evalsha_ro, NULL, ks_evalsha_ro, 1},
    [RESP_CMD_FCALL] = {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_UPDATE, fl_fcall, NULL, ks_fcall, 1},
    [RESP_CMD_FCALL_RO] = {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_fcall_ro, NULL, ks_fcall_ro, 1},
    [RESP_CMD_SCRIPT] = {RESP_ACL_SLOW, 0, 0, fl_script, NULL, NULL, 0},
    [RESP_CMD_FUNCTION] = {RESP_ACL_SLOW, 0, 0, fl_function, NULL, NULL, 0},
    [RESP_CMD_PING] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_ping, tp_ping, NULL, 0},
    [RESP_CMD_ECHO] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_echo, NULL, NULL, 0},
    [RESP_CMD_QUIT] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_quit, NULL, NULL, 0},
    [RESP_CMD_MONITOR] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_monitor, NULL, NULL, 0},
    [RESP_CMD_CLUSTER] = {RESP_ACL_SLOW, 0, 0, fl_cluster, NULL, NULL, 0},
    [RESP_CMD_READONLY] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_readonly, NULL, NULL, 0},
    [RESP_CMD_READWRITE] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_readwrite, NULL, NULL, 0},
    [RESP_CMD_ASKING] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_asking, NULL, NULL, 0},
    [RESP_CMD_HELLO] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_hello, NULL, NULL, 0},
    [RESP_CMD_AUTH] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_auth, NULL, NULL, 0},
    [RESP_CMD_ACL] = {RESP_ACL_SLOW, 0, 0, fl_acl, NULL, NULL, 0},
    [RESP_CMD_SELECT] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_select, NULL, NULL, 0},
    [RESP_CMD_CLIENT] = {RESP_ACL_SLOW, 0, 0, fl_client, NULL, NULL, 0},
    [RESP_CMD_RESET] = {RESP_ACL_FAST|RESP_ACL_CONNECTION, 0, 0, fl_reset, NULL, NULL, 0},
    [RESP_CMD_DBSIZE] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_FAST, 0, 0, fl_dbsize, tp_dbsize, NULL, 0},
    [RESP_CMD_FLUSHDB] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_flushdb, tp_flushdb, NULL, 0},
    [RESP_CMD_FLUSHALL] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_flushall, tp_flushall, NULL, 0},
    [RESP_CMD_INFO] = {RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_info, tp_info, NULL, 0},
    [RESP_CMD_CONFIG] = {RESP_ACL_SLOW, 0, 0, fl_config, NULL, NULL, 0},
    [RESP_CMD_COMMAND] = {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command, tp_command, NULL, 0},
    [RESP_CMD_TIME] = {RESP_ACL_FAST, 0, 0, fl_time, tp_time, NULL, 0},
    [RESP_CMD_MEMORY] = {RESP_ACL_SLOW, 0, 0, fl_memory, NULL, NULL, 0},
    [RESP_CMD_LASTSAVE] = {RESP_ACL_ADMIN|RESP_ACL_FAST|RESP_ACL_DANGEROUS, 0, 0, fl_lastsave, tp_lastsave, NULL, 0},
    [RESP_CMD_SLOWLOG] = {RESP_ACL_SLOW, 0, 0, fl_slowlog, NULL, NULL, 0},
    [RESP_CMD_LATENCY] = {RESP_ACL_SLOW, 0, 0, fl_latency, NULL, NULL, 0},
    [RESP_CMD_MODULE] = {RESP_ACL_SLOW, 0, 0, fl_module, NULL, NULL, 0},
    [RESP_CMD_LOLWUT] = {RESP_ACL_READ|RESP_ACL_FAST, 0, 0, fl_lolwut, NULL, NULL, 0},
    [RESP_CMD_SAVE] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_save, NULL, NULL, 0},
    [RESP_CMD_BGSAVE] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_bgsave, NULL, NULL, 0},
    [RESP_CMD_BGREWRITEAOF] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_bgrewriteaof, NULL, NULL, 0},
    [RESP_CMD_REPLICAOF] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_replicaof, NULL, NULL, 0},
    [RESP_CMD_SLAVEOF] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_slaveof, NULL, NULL, 0},
    [RESP_CMD_PSYNC] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_psync, NULL, NULL, 0},
    [RESP_CMD_SYNC] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_sync, NULL, NULL, 0},
    [RESP_CMD_REPLCONF] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_replconf, NULL, NULL, 0},
    [RESP_CMD_ROLE] = {RESP_ACL_ADMIN|RESP_ACL_FAST|RESP_ACL_DANGEROUS, 0, 0, fl_role, NULL, NULL, 0},
    [RESP_CMD_FAILOVER] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_failover, NULL, NULL, 0},
    [RESP_CMD_WAIT] = {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_wait, tp_wait, NULL, 0},
    [RESP_CMD_SHUTDOWN] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_shutdown, NULL, NULL, 0},
    [RESP_CMD_DUMP] = {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_dump, tp_dump, ks_dump, 1},
    [RESP_CMD_RESTORE] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_OW|RESP_KEY_UPDATE, fl_restore, NULL, ks_restore, 1},
    [RESP_CMD_RESTORE_ASKING] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, RESP_KEY_OW|RESP_KEY_UPDATE, RESP_KEY_OW|RESP_KEY_UPDATE, fl_restore_asking, NULL, ks_restore_asking, 1},
    [RESP_CMD_MIGRATE] = {RESP_ACL_KEYSPACE|RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_ACCESS|RESP_KEY_DELETE|RESP_KEY_INCOMPLETE, fl_migrate, tp_migrate, ks_migrate, 2},
    [RESP_CMD_DEBUG] = {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_debug, NULL, NULL, 0},
    [RESP_CMD_MULTI] = {RESP_ACL_FAST|RESP_ACL_TRANSACTION, 0, 0, fl_multi, NULL, NULL, 0},
    [RESP_CMD_EXEC] = {RESP_ACL_SLOW|RESP_ACL_TRANSACTION, 0, 0, fl_exec, NULL, NULL, 0},
    [RESP_CMD_DISCARD] = {RESP_ACL_FAST|RESP_ACL_TRANSACTION, 0, 0, fl_discard, NULL, NULL, 0},
    [RESP_CMD_WATCH] = {RESP_ACL_FAST|RESP_ACL_TRANSACTION, RESP_KEY_RO, RESP_KEY_RO, fl_watch, NULL, ks_watch, 1},
    [RESP_CMD_UNWATCH] = {RESP_ACL_FAST|RESP_ACL_TRANSACTION, 0, 0, fl_unwatch, NULL, NULL, 0},
    [RESP_CMD_SUBSCRIBE] = {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_subscribe, NULL, NULL, 0},
    [RESP_CMD_UNSUBSCRIBE] = {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_unsubscribe, NULL, NULL, 0},
    [RESP_CMD_PSUBSCRIBE] = {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_psubscribe, NULL, NULL, 0},
    [RESP_CMD_PUNSUBSCRIBE] = {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_punsubscribe, NULL, NULL, 0},
    [RESP_CMD_PUBLISH] = {RESP_ACL_PUBSUB|RESP_ACL_FAST, 0, 0, fl_publish, NULL, NULL, 0},
    [RESP_CMD_PUBSUB] = {RESP_ACL_SLOW, 0, 0, fl_pubsub, NULL, NULL, 0},
    [RESP_CMD_SSUBSCRIBE] = {RESP_ACL_PUBSUB|RESP_ACL_SLOW, RESP_KEY_NOT_KEY, RESP_KEY_NOT_KEY, fl_ssubscribe, NULL, ks_ssubscribe, 1},
    [RESP_CMD_SUNSUBSCRIBE] = {RESP_ACL_PUBSUB|RESP_ACL_SLOW, RESP_KEY_NOT_KEY, RESP_KEY_NOT_KEY, fl_sunsubscribe, NULL, ks_sunsubscribe, 1},
    [RESP_CMD_SPUBLISH] = {RESP_ACL_PUBSUB|RESP_ACL_FAST, RESP_KEY_NOT_KEY, RESP_KEY_NOT_KEY, fl_spublish, NULL, ks_spublish, 1},
};

/* in the order of resp_subcmds (test_command_info checks it) */
const struct resp_subcmd_info resp_subcmd_infos[] = {
    {"acl|cat", {RESP_ACL_SLOW, 0, 0, fl_acl_cat, NULL, NULL, 0}},
    {"acl|deluser", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_deluser, NULL, NULL, 0}},
    {"acl|dryrun", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_dryrun, NULL, NULL, 0}},
    {"acl|genpass", {RESP_ACL_SLOW, 0, 0, fl_acl_genpass, NULL, NULL, 0}},
    {"acl|getuser", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_getuser, NULL, NULL, 0}},
    {"acl|help", {RESP_ACL_SLOW, 0, 0, fl_acl_help, NULL, NULL, 0}},
    {"acl|list", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_list, NULL, NULL, 0}},
    {"acl|load", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_load, NULL, NULL, 0}},
    {"acl|log", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_log, NULL, NULL, 0}},
    {"acl|save", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_save, NULL, NULL, 0}},
    {"acl|setuser", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_setuser, NULL, NULL, 0}},
    {"acl|users", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_acl_users, NULL, NULL, 0}},
    {"acl|whoami", {RESP_ACL_SLOW, 0, 0, fl_acl_whoami, NULL, NULL, 0}},
    {"client|caching", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_caching, NULL, NULL, 0}},
    {"client|getname", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_getname, NULL, NULL, 0}},
    {"client|getredir", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_getredir, NULL, NULL, 0}},
    {"client|help", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_help, NULL, NULL, 0}},
    {"client|id", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_id, NULL, NULL, 0}},
    {"client|info", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_info, tp_client_info, NULL, 0}},
    {"client|kill", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS|RESP_ACL_CONNECTION, 0, 0, fl_client_kill, NULL, NULL, 0}},
    {"client|list", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS|RESP_ACL_CONNECTION, 0, 0, fl_client_list, tp_client_list, NULL, 0}},
    {"client|no-evict", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS|RESP_ACL_CONNECTION, 0, 0, fl_client_no_evict, NULL, NULL, 0}},
    {"client|pause", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS|RESP_ACL_CONNECTION, 0, 0, fl_client_pause, NULL, NULL, 0}},
    {"client|reply", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_reply, NULL, NULL, 0}},
    {"client|setname", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_setname, NULL, NULL, 0}},
    {"client|tracking", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_tracking, NULL, NULL, 0}},
    {"client|trackinginfo", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_client_trackinginfo, NULL, NULL, 0}},
    {"client|unblock", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS|RESP_ACL_CONNECTION, 0, 0, fl_client_unblock, NULL, NULL, 0}},
    {"client|unpause", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS|RESP_ACL_CONNECTION, 0, 0, fl_client_unpause, NULL, NULL, 0}},
    {"config|get", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_config_get, NULL, NULL, 0}},
    {"config|help", {RESP_ACL_SLOW, 0, 0, fl_config_help, NULL, NULL, 0}},
    {"config|resetstat", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_config_resetstat, NULL, NULL, 0}},
    {"config|rewrite", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_config_rewrite, NULL, NULL, 0}},
    {"config|set", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_config_set, tp_config_set, NULL, 0}},
    {"command|count", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_count, NULL, NULL, 0}},
    {"command|docs", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_docs, tp_command_docs, NULL, 0}},
    {"command|getkeys", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_getkeys, NULL, NULL, 0}},
    {"command|getkeysandflags", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_getkeysandflags, NULL, NULL, 0}},
    {"command|help", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_help, NULL, NULL, 0}},
    {"command|info", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_info, tp_command_info, NULL, 0}},
    {"command|list", {RESP_ACL_SLOW|RESP_ACL_CONNECTION, 0, 0, fl_command_list, tp_command_list, NULL, 0}},
    {"object|encoding", {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, RESP_KEY_RO, RESP_KEY_RO, fl_object_encoding, tp_object_encoding, ks_object_encoding, 1}},
    {"object|freq", {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, RESP_KEY_RO, RESP_KEY_RO, fl_object_freq, tp_object_freq, ks_object_freq, 1}},
    {"object|help", {RESP_ACL_KEYSPACE|RESP_ACL_SLOW, 0, 0, fl_object_help, NULL, NULL, 0}},
    {"object|idletime", {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, RESP_KEY_RO, RESP_KEY_RO, fl_object_idletime, tp_object_idletime, ks_object_idletime, 1}},
    {"object|refcount", {RESP_ACL_KEYSPACE|RESP_ACL_READ|RESP_ACL_SLOW, RESP_KEY_RO, RESP_KEY_RO, fl_object_refcount, tp_object_refcount, ks_object_refcount, 1}},
    {"memory|doctor", {RESP_ACL_SLOW, 0, 0, fl_memory_doctor, tp_memory_doctor, NULL, 0}},
    {"memory|help", {RESP_ACL_SLOW, 0, 0, fl_memory_help, NULL, NULL, 0}},
    {"memory|malloc-stats", {RESP_ACL_SLOW, 0, 0, fl_memory_malloc_stats, tp_memory_malloc_stats, NULL, 0}},
    {"memory|purge", {RESP_ACL_SLOW, 0, 0, fl_memory_purge, tp_memory_purge, NULL, 0}},
    {"memory|stats", {RESP_ACL_SLOW, 0, 0, fl_memory_stats, tp_memory_stats, NULL, 0}},
    {"memory|usage", {RESP_ACL_READ|RESP_ACL_SLOW, RESP_KEY_RO, RESP_KEY_RO, fl_memory_usage, NULL, ks_memory_usage, 1}},
    {"module|help", {RESP_ACL_SLOW, 0, 0, fl_module_help, NULL, NULL, 0}},
    {"module|list", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_module_list, tp_module_list, NULL, 0}},
    {"module|load", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_module_load, NULL, NULL, 0}},
    {"module|loadex", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_module_loadex, NULL, NULL, 0}},
    {"module|unload", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_module_unload, NULL, NULL, 0}},
    {"latency|doctor", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_latency_doctor, tp_latency_doctor, NULL, 0}},
    {"latency|graph", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_latency_graph, tp_latency_graph, NULL, 0}},
    {"latency|help", {RESP_ACL_SLOW, 0, 0, fl_latency_help, NULL, NULL, 0}},
    {"latency|histogram", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_latency_histogram, tp_latency_histogram, NULL, 0}},
    {"latency|history", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_latency_history, tp_latency_history, NULL, 0}},
    {"latency|latest", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_latency_latest, tp_latency_latest, NULL, 0}},
    {"latency|reset", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_latency_reset, tp_latency_reset, NULL, 0}},
    {"slowlog|get", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_slowlog_get, tp_slowlog_get, NULL, 0}},
    {"slowlog|help", {RESP_ACL_SLOW, 0, 0, fl_slowlog_help, NULL, NULL, 0}},
    {"slowlog|len", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_slowlog_len, tp_slowlog_len, NULL, 0}},
    {"slowlog|reset", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_slowlog_reset, tp_slowlog_reset, NULL, 0}},
    {"pubsub|channels", {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_pubsub_channels, NULL, NULL, 0}},
    {"pubsub|help", {RESP_ACL_SLOW, 0, 0, fl_pubsub_help, NULL, NULL, 0}},
    {"pubsub|numpat", {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_pubsub_numpat, NULL, NULL, 0}},
    {"pubsub|numsub", {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_pubsub_numsub, NULL, NULL, 0}},
    {"pubsub|shardchannels", {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_pubsub_shardchannels, NULL, NULL, 0}},
    {"pubsub|shardnumsub", {RESP_ACL_PUBSUB|RESP_ACL_SLOW, 0, 0, fl_pubsub_shardnumsub, NULL, NULL, 0}},
    {"xgroup|create", {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_xgroup_create, NULL, ks_xgroup_create, 1}},
    {"xgroup|createconsumer", {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_INSERT, RESP_KEY_RW|RESP_KEY_INSERT, fl_xgroup_createconsumer, NULL, ks_xgroup_createconsumer, 1}},
    {"xgroup|delconsumer", {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_xgroup_delconsumer, NULL, ks_xgroup_delconsumer, 1}},
    {"xgroup|destroy", {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_DELETE, RESP_KEY_RW|RESP_KEY_DELETE, fl_xgroup_destroy, NULL, ks_xgroup_destroy, 1}},
    {"xgroup|help", {RESP_ACL_STREAM|RESP_ACL_SLOW, 0, 0, fl_xgroup_help, NULL, NULL, 0}},
    {"xgroup|setid", {RESP_ACL_WRITE|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RW|RESP_KEY_UPDATE, RESP_KEY_RW|RESP_KEY_UPDATE, fl_xgroup_setid, NULL, ks_xgroup_setid, 1}},
    {"xinfo|consumers", {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xinfo_consumers, tp_xinfo_consumers, ks_xinfo_consumers, 1}},
    {"xinfo|groups", {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xinfo_groups, NULL, ks_xinfo_groups, 1}},
    {"xinfo|help", {RESP_ACL_STREAM|RESP_ACL_SLOW, 0, 0, fl_xinfo_help, NULL, NULL, 0}},
    {"xinfo|stream", {RESP_ACL_READ|RESP_ACL_STREAM|RESP_ACL_SLOW, RESP_KEY_RO|RESP_KEY_ACCESS, RESP_KEY_RO|RESP_KEY_ACCESS, fl_xinfo_stream, NULL, ks_xinfo_stream, 1}},
    {"script|debug", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_script_debug, NULL, NULL, 0}},
    {"script|exists", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_script_exists, tp_script_exists, NULL, 0}},
    {"script|flush", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_script_flush, tp_script_flush, NULL, 0}},
    {"script|help", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_script_help, NULL, NULL, 0}},
    {"script|kill", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_script_kill, tp_script_kill, NULL, 0}},
    {"script|load", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_script_load, tp_script_load, NULL, 0}},
    {"function|delete", {RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_delete, tp_function_delete, NULL, 0}},
    {"function|dump", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_dump, NULL, NULL, 0}},
    {"function|flush", {RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_flush, tp_function_flush, NULL, 0}},
    {"function|help", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_help, NULL, NULL, 0}},
    {"function|kill", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_kill, tp_function_kill, NULL, 0}},
    {"function|list", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_list, tp_function_list, NULL, 0}},
    {"function|load", {RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_load, tp_function_load, NULL, 0}},
    {"function|restore", {RESP_ACL_WRITE|RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_restore, tp_function_restore, NULL, 0}},
    {"function|stats", {RESP_ACL_SLOW|RESP_ACL_SCRIPTING, 0, 0, fl_function_stats, tp_function_stats, NULL, 0}},
    {"cluster|saveconfig", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_saveconfig, NULL, NULL, 0}},
    {"cluster|replicate", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_replicate, NULL, NULL, 0}},
    {"cluster|delslots", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_delslots, NULL, NULL, 0}},
    {"cluster|help", {RESP_ACL_SLOW, 0, 0, fl_cluster_help, NULL, NULL, 0}},
    {"cluster|bumpepoch", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_bumpepoch, tp_cluster_bumpepoch, NULL, 0}},
    {"cluster|addslots", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_addslots, NULL, NULL, 0}},
    {"cluster|shards", {RESP_ACL_SLOW, 0, 0, fl_cluster_shards, tp_cluster_shards, NULL, 0}},
    {"cluster|getkeysinslot", {RESP_ACL_SLOW, 0, 0, fl_cluster_getkeysinslot, tp_cluster_getkeysinslot, NULL, 0}},
    {"cluster|slots", {RESP_ACL_SLOW, 0, 0, fl_cluster_slots, tp_cluster_slots, NULL, 0}},
    {"cluster|keyslot", {RESP_ACL_SLOW, 0, 0, fl_cluster_keyslot, NULL, NULL, 0}},
    {"cluster|nodes", {RESP_ACL_SLOW, 0, 0, fl_cluster_nodes, tp_cluster_nodes, NULL, 0}},
    {"cluster|count-failure-reports", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_count_failure_reports, tp_cluster_count_failure_reports, NULL, 0}},
    {"cluster|setslot", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_setslot, NULL, NULL, 0}},
    {"cluster|addslotsrange", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_addslotsrange, NULL, NULL, 0}},
    {"cluster|reset", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_reset, NULL, NULL, 0}},
    {"cluster|delslotsrange", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_delslotsrange, NULL, NULL, 0}},
    {"cluster|meet", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_meet, NULL, NULL, 0}},
    {"cluster|forget", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_forget, NULL, NULL, 0}},
    {"cluster|failover", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_failover, NULL, NULL, 0}},
    {"cluster|myid", {RESP_ACL_SLOW, 0, 0, fl_cluster_myid, NULL, NULL, 0}},
    {"cluster|info", {RESP_ACL_SLOW, 0, 0, fl_cluster_info, tp_cluster_info, NULL, 0}},
    {"cluster|replicas", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_replicas, tp_cluster_replicas, NULL, 0}},
    {"cluster|slaves", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_slaves, tp_cluster_slaves, NULL, 0}},
    {"cluster|links", {RESP_ACL_SLOW, 0, 0, fl_cluster_links, tp_cluster_links, NULL, 0}},
    {"cluster|flushslots", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_flushslots, NULL, NULL, 0}},
    {"cluster|countkeysinslot", {RESP_ACL_SLOW, 0, 0, fl_cluster_countkeysinslot, NULL, NULL, 0}},
    {"cluster|set-config-epoch", {RESP_ACL_ADMIN|RESP_ACL_SLOW|RESP_ACL_DANGEROUS, 0, 0, fl_cluster_set_config_epoch, NULL, NULL, 0}},
};
const int resp_subcmd_info_count = (int)(sizeof resp_subcmd_infos / sizeof resp_subcmd_infos[0]);
