/*
 * commands.h — the RESP command table, as data.
 *
 * One X-macro list names every command scaleout knows, with Redis's arity
 * (positive: exact argc; negative: at least -arity), flags and key positions
 * (first, last, step; last -1 = up to the end). The kv server indexes its
 * handler array by enum resp_cmd_id and does the generic checks (unknown
 * command, arity, auth, OOM) once, before dispatch; the router uses the key
 * positions to hash keys and split multi-key commands; COMMAND replies from it.
 */
#ifndef SCALEOUT_PROTO_COMMANDS_H
#define SCALEOUT_PROTO_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct resp_arg;

enum {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,   /* may grow memory: refused when over maxmemory */
    CMD_FAST = 1 << 3,
    CMD_NOAUTH = 1 << 4,    /* allowed before AUTH */
    CMD_ADMIN = 1 << 5,
    CMD_NOKEYS = 1 << 6,    /* never touches keys (cheap in the server path) */
    CMD_MOVABLEKEYS = 1 << 7, /* keys follow a numkeys argument: see resp_cmd_keynum_index */
    CMD_BLOCKING = 1 << 8,  /* may block the client (BLPOP...) */
    CMD_PUBSUB = 1 << 9,    /* pub/sub (allowed to a RESP2 subscriber when also in kv's list) */
};

#define W CMD_WRITE
#define R CMD_READONLY
#define M CMD_DENYOOM
#define F CMD_FAST
#define N CMD_NOAUTH
#define A CMD_ADMIN
#define K CMD_NOKEYS
#define V CMD_MOVABLEKEYS
#define B CMD_BLOCKING
#define P CMD_PUBSUB

/*  X(id, name, arity, flags, first, last, step, group) */
#define RESP_COMMANDS(X) \
    X(GET, "get", 2, R|F, 1, 1, 1, "string") \
    X(SET, "set", -3, W|M, 1, 1, 1, "string") \
    X(SETNX, "setnx", 3, W|M|F, 1, 1, 1, "string") \
    X(SETEX, "setex", 4, W|M, 1, 1, 1, "string") \
    X(PSETEX, "psetex", 4, W|M, 1, 1, 1, "string") \
    X(GETSET, "getset", 3, W|M|F, 1, 1, 1, "string") \
    X(GETDEL, "getdel", 2, W|F, 1, 1, 1, "string") \
    X(GETEX, "getex", -2, W|F, 1, 1, 1, "string") \
    X(MGET, "mget", -2, R|F, 1, -1, 1, "string") \
    X(MSET, "mset", -3, W|M, 1, -1, 2, "string") \
    X(MSETNX, "msetnx", -3, W|M, 1, -1, 2, "string") \
    X(APPEND, "append", 3, W|M|F, 1, 1, 1, "string") \
    X(STRLEN, "strlen", 2, R|F, 1, 1, 1, "string") \
    X(INCR, "incr", 2, W|M|F, 1, 1, 1, "string") \
    X(DECR, "decr", 2, W|M|F, 1, 1, 1, "string") \
    X(INCRBY, "incrby", 3, W|M|F, 1, 1, 1, "string") \
    X(DECRBY, "decrby", 3, W|M|F, 1, 1, 1, "string") \
    X(INCRBYFLOAT, "incrbyfloat", 3, W|M|F, 1, 1, 1, "string") \
    X(GETRANGE, "getrange", 4, R, 1, 1, 1, "string") \
    X(SUBSTR, "substr", 4, R, 1, 1, 1, "string") \
    X(SETRANGE, "setrange", 4, W|M, 1, 1, 1, "string") \
    X(LCS, "lcs", -3, R, 1, 2, 1, "string") \
    X(SETBIT, "setbit", 4, W|M, 1, 1, 1, "bitmap") \
    X(GETBIT, "getbit", 3, R|F, 1, 1, 1, "bitmap") \
    X(BITCOUNT, "bitcount", -2, R, 1, 1, 1, "bitmap") \
    X(PFADD, "pfadd", -2, W|M|F, 1, 1, 1, "hyperloglog") \
    X(PFCOUNT, "pfcount", -2, R, 1, -1, 1, "hyperloglog") \
    X(PFMERGE, "pfmerge", -2, W|M, 1, -1, 1, "hyperloglog") \
    X(PFDEBUG, "pfdebug", 3, W|M|A, 2, 2, 1, "hyperloglog") \
    X(PFSELFTEST, "pfselftest", 1, A|K, 0, 0, 0, "hyperloglog") \
    X(BITPOS, "bitpos", -3, R, 1, 1, 1, "bitmap") \
    X(BITOP, "bitop", -4, W|M, 2, -1, 1, "bitmap") \
    X(BITFIELD, "bitfield", -2, W|M, 1, 1, 1, "bitmap") \
    X(BITFIELD_RO, "bitfield_ro", -2, R|F, 1, 1, 1, "bitmap") \
    X(DEL, "del", -2, W, 1, -1, 1, "generic") \
    X(UNLINK, "unlink", -2, W|F, 1, -1, 1, "generic") \
    X(EXISTS, "exists", -2, R|F, 1, -1, 1, "generic") \
    X(TYPE, "type", 2, R|F, 1, 1, 1, "generic") \
    X(RENAME, "rename", 3, W, 1, 2, 1, "generic") \
    X(RENAMENX, "renamenx", 3, W|F, 1, 2, 1, "generic") \
    X(COPY, "copy", -3, W|M, 1, 2, 1, "generic") \
    X(MOVE, "move", 3, W|F, 1, 1, 1, "generic") \
    X(SWAPDB, "swapdb", 3, W|F, 0, 0, 0, "server") \
    X(EXPIRE, "expire", -3, W|F, 1, 1, 1, "generic") \
    X(PEXPIRE, "pexpire", -3, W|F, 1, 1, 1, "generic") \
    X(EXPIREAT, "expireat", -3, W|F, 1, 1, 1, "generic") \
    X(PEXPIREAT, "pexpireat", -3, W|F, 1, 1, 1, "generic") \
    X(TTL, "ttl", 2, R|F, 1, 1, 1, "generic") \
    X(PTTL, "pttl", 2, R|F, 1, 1, 1, "generic") \
    X(EXPIRETIME, "expiretime", 2, R|F, 1, 1, 1, "generic") \
    X(PEXPIRETIME, "pexpiretime", 2, R|F, 1, 1, 1, "generic") \
    X(PERSIST, "persist", 2, W|F, 1, 1, 1, "generic") \
    X(KEYS, "keys", 2, R, 0, 0, 0, "generic") \
    X(SCAN, "scan", -2, R, 0, 0, 0, "generic") \
    X(RANDOMKEY, "randomkey", 1, R, 0, 0, 0, "generic") \
    X(TOUCH, "touch", -2, R|F, 1, -1, 1, "generic") \
    X(OBJECT, "object", -2, R, 2, 2, 1, "generic") \
    X(SORT, "sort", -2, W|M|V, 1, 1, 1, "generic") \
    X(SORT_RO, "sort_ro", -2, R|V, 1, 1, 1, "generic") \
    X(HSET, "hset", -4, W|M|F, 1, 1, 1, "hash") \
    X(HSETNX, "hsetnx", 4, W|M|F, 1, 1, 1, "hash") \
    X(HGET, "hget", 3, R|F, 1, 1, 1, "hash") \
    X(HMGET, "hmget", -3, R|F, 1, 1, 1, "hash") \
    X(HMSET, "hmset", -4, W|M|F, 1, 1, 1, "hash") \
    X(HGETALL, "hgetall", 2, R, 1, 1, 1, "hash") \
    X(HDEL, "hdel", -3, W|F, 1, 1, 1, "hash") \
    X(HEXISTS, "hexists", 3, R|F, 1, 1, 1, "hash") \
    X(HLEN, "hlen", 2, R|F, 1, 1, 1, "hash") \
    X(HKEYS, "hkeys", 2, R, 1, 1, 1, "hash") \
    X(HVALS, "hvals", 2, R, 1, 1, 1, "hash") \
    X(HINCRBY, "hincrby", 4, W|M|F, 1, 1, 1, "hash") \
    X(HINCRBYFLOAT, "hincrbyfloat", 4, W|M|F, 1, 1, 1, "hash") \
    X(HSTRLEN, "hstrlen", 3, R|F, 1, 1, 1, "hash") \
    X(HSCAN, "hscan", -3, R, 1, 1, 1, "hash") \
    X(HRANDFIELD, "hrandfield", -2, R, 1, 1, 1, "hash") \
    X(ZADD, "zadd", -4, W|M|F, 1, 1, 1, "sorted-set") \
    X(ZINCRBY, "zincrby", 4, W|M|F, 1, 1, 1, "sorted-set") \
    X(ZREM, "zrem", -3, W|F, 1, 1, 1, "sorted-set") \
    X(ZCARD, "zcard", 2, R|F, 1, 1, 1, "sorted-set") \
    X(ZSCORE, "zscore", 3, R|F, 1, 1, 1, "sorted-set") \
    X(ZMSCORE, "zmscore", -3, R|F, 1, 1, 1, "sorted-set") \
    X(ZRANK, "zrank", 3, R|F, 1, 1, 1, "sorted-set") \
    X(ZREVRANK, "zrevrank", 3, R|F, 1, 1, 1, "sorted-set") \
    X(ZCOUNT, "zcount", 4, R|F, 1, 1, 1, "sorted-set") \
    X(ZLEXCOUNT, "zlexcount", 4, R|F, 1, 1, 1, "sorted-set") \
    X(ZRANGE, "zrange", -4, R, 1, 1, 1, "sorted-set") \
    X(ZRANGESTORE, "zrangestore", -5, W|M, 1, 2, 1, "sorted-set") \
    X(ZREVRANGE, "zrevrange", -4, R, 1, 1, 1, "sorted-set") \
    X(ZREVRANGEBYSCORE, "zrevrangebyscore", -4, R, 1, 1, 1, "sorted-set") \
    X(ZREVRANGEBYLEX, "zrevrangebylex", -4, R, 1, 1, 1, "sorted-set") \
    X(ZRANGEBYSCORE, "zrangebyscore", -4, R, 1, 1, 1, "sorted-set") \
    X(ZRANGEBYLEX, "zrangebylex", -4, R, 1, 1, 1, "sorted-set") \
    X(ZREMRANGEBYRANK, "zremrangebyrank", 4, W, 1, 1, 1, "sorted-set") \
    X(ZREMRANGEBYSCORE, "zremrangebyscore", 4, W, 1, 1, 1, "sorted-set") \
    X(ZREMRANGEBYLEX, "zremrangebylex", 4, W, 1, 1, 1, "sorted-set") \
    X(ZPOPMIN, "zpopmin", -2, W|F, 1, 1, 1, "sorted-set") \
    X(ZPOPMAX, "zpopmax", -2, W|F, 1, 1, 1, "sorted-set") \
    X(ZMPOP, "zmpop", -4, W|V, 0, 0, 0, "sorted-set") \
    X(BZPOPMIN, "bzpopmin", -3, W|F|B, 1, -2, 1, "sorted-set") \
    X(BZPOPMAX, "bzpopmax", -3, W|F|B, 1, -2, 1, "sorted-set") \
    X(BZMPOP, "bzmpop", -5, W|B|V, 0, 0, 0, "sorted-set") \
    X(ZRANDMEMBER, "zrandmember", -2, R, 1, 1, 1, "sorted-set") \
    X(ZUNION, "zunion", -3, R|V, 0, 0, 0, "sorted-set") \
    X(ZINTER, "zinter", -3, R|V, 0, 0, 0, "sorted-set") \
    X(ZDIFF, "zdiff", -3, R|V, 0, 0, 0, "sorted-set") \
    X(ZUNIONSTORE, "zunionstore", -4, W|M|V, 1, 1, 1, "sorted-set") \
    X(ZINTERSTORE, "zinterstore", -4, W|M|V, 1, 1, 1, "sorted-set") \
    X(ZDIFFSTORE, "zdiffstore", -4, W|M|V, 1, 1, 1, "sorted-set") \
    X(ZINTERCARD, "zintercard", -3, R|V, 0, 0, 0, "sorted-set") \
    X(ZSCAN, "zscan", -3, R, 1, 1, 1, "sorted-set") \
    X(GEOADD, "geoadd", -5, W|M, 1, 1, 1, "geo") \
    X(GEODIST, "geodist", -4, R, 1, 1, 1, "geo") \
    X(GEOHASH, "geohash", -2, R, 1, 1, 1, "geo") \
    X(GEOPOS, "geopos", -2, R, 1, 1, 1, "geo") \
    X(GEORADIUS, "georadius", -6, W|M|V, 1, 1, 1, "geo") \
    X(GEORADIUS_RO, "georadius_ro", -6, R, 1, 1, 1, "geo") \
    X(GEORADIUSBYMEMBER, "georadiusbymember", -5, W|M|V, 1, 1, 1, "geo") \
    X(GEORADIUSBYMEMBER_RO, "georadiusbymember_ro", -5, R, 1, 1, 1, "geo") \
    X(GEOSEARCH, "geosearch", -7, R, 1, 1, 1, "geo") \
    X(GEOSEARCHSTORE, "geosearchstore", -8, W|M, 1, 2, 1, "geo") \
    X(LPUSH, "lpush", -3, W|M|F, 1, 1, 1, "list") \
    X(RPUSH, "rpush", -3, W|M|F, 1, 1, 1, "list") \
    X(LPUSHX, "lpushx", -3, W|M|F, 1, 1, 1, "list") \
    X(RPUSHX, "rpushx", -3, W|M|F, 1, 1, 1, "list") \
    X(LPOP, "lpop", -2, W|F, 1, 1, 1, "list") \
    X(RPOP, "rpop", -2, W|F, 1, 1, 1, "list") \
    X(LLEN, "llen", 2, R|F, 1, 1, 1, "list") \
    X(LRANGE, "lrange", 4, R, 1, 1, 1, "list") \
    X(LINDEX, "lindex", 3, R, 1, 1, 1, "list") \
    X(LSET, "lset", 4, W|M, 1, 1, 1, "list") \
    X(LINSERT, "linsert", 5, W|M, 1, 1, 1, "list") \
    X(LREM, "lrem", 4, W, 1, 1, 1, "list") \
    X(LTRIM, "ltrim", 4, W, 1, 1, 1, "list") \
    X(LPOS, "lpos", -3, R, 1, 1, 1, "list") \
    X(LMOVE, "lmove", 5, W|M, 1, 2, 1, "list") \
    X(RPOPLPUSH, "rpoplpush", 3, W|M, 1, 2, 1, "list") \
    X(LMPOP, "lmpop", -4, W|V, 0, 0, 0, "list") \
    X(BLPOP, "blpop", -3, W|B, 1, -2, 1, "list") \
    X(BRPOP, "brpop", -3, W|B, 1, -2, 1, "list") \
    X(BLMOVE, "blmove", 6, W|M|B, 1, 2, 1, "list") \
    X(BRPOPLPUSH, "brpoplpush", 4, W|M|B, 1, 2, 1, "list") \
    X(BLMPOP, "blmpop", -5, W|B|V, 0, 0, 0, "list") \
    X(SADD, "sadd", -3, W|M|F, 1, 1, 1, "set") \
    X(SREM, "srem", -3, W|F, 1, 1, 1, "set") \
    X(SCARD, "scard", 2, R|F, 1, 1, 1, "set") \
    X(SISMEMBER, "sismember", 3, R|F, 1, 1, 1, "set") \
    X(SMISMEMBER, "smismember", -3, R|F, 1, 1, 1, "set") \
    X(SMEMBERS, "smembers", 2, R, 1, 1, 1, "set") \
    X(SRANDMEMBER, "srandmember", -2, R, 1, 1, 1, "set") \
    X(SPOP, "spop", -2, W|F, 1, 1, 1, "set") \
    X(SMOVE, "smove", 4, W|F, 1, 2, 1, "set") \
    X(SINTER, "sinter", -2, R, 1, -1, 1, "set") \
    X(SINTERCARD, "sintercard", -3, R|V, 0, 0, 0, "set") \
    X(SUNION, "sunion", -2, R, 1, -1, 1, "set") \
    X(SDIFF, "sdiff", -2, R, 1, -1, 1, "set") \
    X(SINTERSTORE, "sinterstore", -3, W|M, 1, -1, 1, "set") \
    X(SUNIONSTORE, "sunionstore", -3, W|M, 1, -1, 1, "set") \
    X(SDIFFSTORE, "sdiffstore", -3, W|M, 1, -1, 1, "set") \
    X(SSCAN, "sscan", -3, R, 1, 1, 1, "set") \
    X(XADD, "xadd", -5, W|M|F, 1, 1, 1, "stream") \
    X(XLEN, "xlen", 2, R|F, 1, 1, 1, "stream") \
    X(XRANGE, "xrange", -4, R, 1, 1, 1, "stream") \
    X(XREVRANGE, "xrevrange", -4, R, 1, 1, 1, "stream") \
    X(XREAD, "xread", -4, R|B|V, 0, 0, 0, "stream") \
    X(XDEL, "xdel", -3, W|F, 1, 1, 1, "stream") \
    X(XTRIM, "xtrim", -4, W, 1, 1, 1, "stream") \
    X(XSETID, "xsetid", -3, W|M|F, 1, 1, 1, "stream") \
    X(XGROUP, "xgroup", -2, 0, 0, 0, 0, "stream") \
    X(XREADGROUP, "xreadgroup", -7, W|B|V, 0, 0, 0, "stream") \
    X(XACK, "xack", -4, W|F, 1, 1, 1, "stream") \
    X(XPENDING, "xpending", -3, R, 1, 1, 1, "stream") \
    X(XCLAIM, "xclaim", -6, W|F, 1, 1, 1, "stream") \
    X(XAUTOCLAIM, "xautoclaim", -6, W|F, 1, 1, 1, "stream") \
    X(XINFO, "xinfo", -2, 0, 0, 0, 0, "stream") \
    X(EVAL, "eval", -3, V, 0, 0, 0, "scripting") \
    X(EVALSHA, "evalsha", -3, V, 0, 0, 0, "scripting") \
    X(EVAL_RO, "eval_ro", -3, R|V, 0, 0, 0, "scripting") \
    X(EVALSHA_RO, "evalsha_ro", -3, R|V, 0, 0, 0, "scripting") \
    X(FCALL, "fcall", -3, V, 0, 0, 0, "scripting") \
    X(FCALL_RO, "fcall_ro", -3, R|V, 0, 0, 0, "scripting") \
    X(SCRIPT, "script", -2, K, 0, 0, 0, "scripting") \
    X(FUNCTION, "function", -2, K, 0, 0, 0, "scripting") \
    X(PING, "ping", -1, F|K, 0, 0, 0, "connection") \
    X(ECHO, "echo", 2, F|K, 0, 0, 0, "connection") \
    X(QUIT, "quit", -1, F|N|K, 0, 0, 0, "connection") \
    X(MONITOR, "monitor", 1, A|K, 0, 0, 0, "server") \
    X(CLUSTER, "cluster", -2, K, 0, 0, 0, "cluster") \
    X(READONLY, "readonly", 1, F|K, 0, 0, 0, "cluster") \
    X(READWRITE, "readwrite", 1, F|K, 0, 0, 0, "cluster") \
    X(ASKING, "asking", 1, F|K, 0, 0, 0, "cluster") \
    X(HELLO, "hello", -1, F|N|K, 0, 0, 0, "connection") \
    X(AUTH, "auth", -2, F|N|K, 0, 0, 0, "connection") \
    X(ACL, "acl", -2, K, 0, 0, 0, "server") \
    X(SELECT, "select", 2, F|K, 0, 0, 0, "connection") \
    X(CLIENT, "client", -2, K, 0, 0, 0, "connection") \
    X(RESET, "reset", 1, F|N|K, 0, 0, 0, "connection") \
    X(DBSIZE, "dbsize", 1, R|F, 0, 0, 0, "server") \
    X(FLUSHDB, "flushdb", -1, W, 0, 0, 0, "server") \
    X(FLUSHALL, "flushall", -1, W, 0, 0, 0, "server") \
    X(INFO, "info", -1, K, 0, 0, 0, "server") \
    X(CONFIG, "config", -2, A|K, 0, 0, 0, "server") \
    X(COMMAND, "command", -1, K, 0, 0, 0, "server") \
    X(TIME, "time", 1, F|K, 0, 0, 0, "server") \
    X(MEMORY, "memory", -2, R, 0, 0, 0, "server") \
    X(LASTSAVE, "lastsave", 1, F|K, 0, 0, 0, "server") \
    X(SLOWLOG, "slowlog", -2, K, 0, 0, 0, "server") \
    X(LATENCY, "latency", -2, A|K, 0, 0, 0, "server") \
    X(MODULE, "module", -2, A|K, 0, 0, 0, "server") \
    X(LOLWUT, "lolwut", -1, R|F|K, 0, 0, 0, "server") \
    X(SAVE, "save", 1, A|K, 0, 0, 0, "server") \
    X(BGSAVE, "bgsave", -1, A|K, 0, 0, 0, "server") \
    X(BGREWRITEAOF, "bgrewriteaof", 1, A|K, 0, 0, 0, "server") \
    X(REPLICAOF, "replicaof", 3, A|K, 0, 0, 0, "server") \
    X(SLAVEOF, "slaveof", 3, A|K, 0, 0, 0, "server") \
    X(PSYNC, "psync", -3, A|K, 0, 0, 0, "server") \
    X(SYNC, "sync", 1, A|K, 0, 0, 0, "server") \
    X(REPLCONF, "replconf", -1, A|K, 0, 0, 0, "server") \
    X(ROLE, "role", 1, F|K, 0, 0, 0, "server") \
    X(FAILOVER, "failover", -1, A|K, 0, 0, 0, "server") \
    X(WAIT, "wait", 3, K, 0, 0, 0, "generic") \
    X(SHUTDOWN, "shutdown", -1, A|K, 0, 0, 0, "server") \
    X(DUMP, "dump", 2, R, 1, 1, 1, "generic") \
    X(RESTORE, "restore", -4, W|M, 1, 1, 1, "generic") \
    X(RESTORE_ASKING, "restore-asking", -4, W|M, 1, 1, 1, "server") \
    X(MIGRATE, "migrate", -6, W|V, 3, 3, 1, "generic") \
    X(DEBUG, "debug", -2, A|K, 0, 0, 0, "server") \
    X(MULTI, "multi", 1, F|K, 0, 0, 0, "transactions") \
    X(EXEC, "exec", 1, K, 0, 0, 0, "transactions") \
    X(DISCARD, "discard", 1, F|K, 0, 0, 0, "transactions") \
    X(WATCH, "watch", -2, F, 1, -1, 1, "transactions") \
    X(UNWATCH, "unwatch", 1, F|K, 0, 0, 0, "transactions") \
    X(SUBSCRIBE, "subscribe", -2, P|K, 0, 0, 0, "pubsub") \
    X(UNSUBSCRIBE, "unsubscribe", -1, P|K, 0, 0, 0, "pubsub") \
    X(PSUBSCRIBE, "psubscribe", -2, P|K, 0, 0, 0, "pubsub") \
    X(PUNSUBSCRIBE, "punsubscribe", -1, P|K, 0, 0, 0, "pubsub") \
    X(PUBLISH, "publish", 3, P|F|K, 0, 0, 0, "pubsub") \
    X(PUBSUB, "pubsub", -2, P|K, 0, 0, 0, "pubsub") \
    X(SSUBSCRIBE, "ssubscribe", -2, P, 1, -1, 1, "pubsub") \
    X(SUNSUBSCRIBE, "sunsubscribe", -1, P, 1, -1, 1, "pubsub") \
    X(SPUBLISH, "spublish", 3, P|F, 1, 1, 1, "pubsub")

enum resp_cmd_id {
#define X(id, name, arity, flags, first, last, step, group) RESP_CMD_##id,
    RESP_COMMANDS(X)
#undef X
    RESP_CMD_COUNT
};

struct resp_cmd {
    const char *name;
    int arity;
    unsigned flags;
    int first, last, step;
    const char *group;
};

extern const struct resp_cmd resp_cmds[RESP_CMD_COUNT];

struct resp_cmd_doc {
    const char *summary;
    const char *since;
};

/* Indexed like resp_cmds; a command without an entry has NULL fields. */
extern const struct resp_cmd_doc resp_cmd_docs[RESP_CMD_COUNT];

/* Find a command by name (case-insensitive); -1 when unknown. Lock-free, any thread. */
int resp_cmd_lookup(const char *name, size_t len);

/*
 * Commands whose keys are counted by a numkeys argument (CMD_MOVABLEKEYS):
 * the index of that argument (keys follow it; ZMPOP/ZUNION... 1, the
 * *STORE forms 2 after their destination at 1), or -1 for other commands.
 */
int resp_cmd_keynum_index(int id);

/*
 * The destination key that an option names (Redis's sortGetKeys and
 * georadiusGetKeys): SORT ... STORE dst, GEORADIUS/GEORADIUSBYMEMBER ...
 * STORE|STOREDIST dst (the last one given wins). Its index in argv, or -1
 * when the command has none.
 */
int resp_cmd_store_index(int id, int argc, const struct resp_arg *argv);

/* Subcommands of container commands (CONFIG GET, OBJECT ENCODING...). */
struct resp_subcmd {
    int parent;        /* enum resp_cmd_id */
    const char *name;  /* lower case */
    int arity;         /* Redis's, counting the container's name */
    int key;           /* index of its key argument, 0 for none */
};
extern const struct resp_subcmd resp_subcmds[];
extern const int resp_subcmd_count;
/* Index into resp_subcmds (case-insensitive), or -1. */
int resp_subcmd_lookup(int parent, const char *name, size_t len);
/* Whether the command has subcommands. */
bool resp_cmd_is_container(int id);

/*
 * The positions of a command line's keys (COMMAND GETKEYS): the range of the
 * table, the numkeys form, the keys before XREAD's IDs, a container's
 * subcommand key, the STORE destination. pos must hold argc entries.
 * Returns the count, or -1 when the arguments name no key where the command
 * needs one (a bad numkeys, XREAD without STREAMS...): Redis's "Invalid
 * arguments specified for command". EVAL and FCALL may have none (0).
 */
int resp_cmd_keys(int id, int argc, const struct resp_arg *argv, int *pos);

/*
 * ACL categories and key specs (commands_info.c, written from Redis 7.0's
 * own table by scripts/gen-command-info.py). The categories are in Redis's
 * order: ACL CAT lists them so, and ACL LIST's description tries them so.
 */
enum {
    RESP_ACL_KEYSPACE = 1u << 0,
    RESP_ACL_READ = 1u << 1,
    RESP_ACL_WRITE = 1u << 2,
    RESP_ACL_SET = 1u << 3,
    RESP_ACL_SORTEDSET = 1u << 4,
    RESP_ACL_LIST = 1u << 5,
    RESP_ACL_HASH = 1u << 6,
    RESP_ACL_STRING = 1u << 7,
    RESP_ACL_BITMAP = 1u << 8,
    RESP_ACL_HYPERLOGLOG = 1u << 9,
    RESP_ACL_GEO = 1u << 10,
    RESP_ACL_STREAM = 1u << 11,
    RESP_ACL_PUBSUB = 1u << 12,
    RESP_ACL_ADMIN = 1u << 13,
    RESP_ACL_FAST = 1u << 14,
    RESP_ACL_SLOW = 1u << 15,
    RESP_ACL_BLOCKING = 1u << 16,
    RESP_ACL_DANGEROUS = 1u << 17,
    RESP_ACL_CONNECTION = 1u << 18,
    RESP_ACL_TRANSACTION = 1u << 19,
    RESP_ACL_SCRIPTING = 1u << 20,
};
#define RESP_ACL_NCATS 21
extern const char *const resp_acl_cat_names[RESP_ACL_NCATS];

/* Key-spec flags, as COMMAND GETKEYSANDFLAGS names them. */
enum {
    RESP_KEY_RO = 1 << 0,
    RESP_KEY_RW = 1 << 1,
    RESP_KEY_OW = 1 << 2,
    RESP_KEY_RM = 1 << 3,
    RESP_KEY_ACCESS = 1 << 4,
    RESP_KEY_UPDATE = 1 << 5,
    RESP_KEY_INSERT = 1 << 6,
    RESP_KEY_DELETE = 1 << 7,
    RESP_KEY_NOT_KEY = 1 << 8,
    RESP_KEY_INCOMPLETE = 1 << 9,
    RESP_KEY_VARIABLE_FLAGS = 1 << 10,
};

/* A key spec, as COMMAND INFO shows it. */
enum { RESP_BS_INDEX, RESP_BS_KEYWORD, RESP_BS_UNKNOWN };
enum { RESP_FK_RANGE, RESP_FK_KEYNUM, RESP_FK_UNKNOWN };
struct resp_keyspec {
    const char *notes;    /* NULL: none */
    uint16_t flags;       /* RESP_KEY_* */
    uint8_t bs;           /* RESP_BS_*: where the search begins */
    int bs_pos;           /* its index, or the keyword's startfrom */
    const char *keyword;
    uint8_t fk;           /* RESP_FK_*: how the keys are found */
    int fk_arg[3];        /* lastkey keystep limit | keynumidx firstkey keystep */
};

/* What COMMAND INFO says of a command (Redis 7.0's). */
struct resp_cmd_info {
    uint32_t cats;                   /* RESP_ACL_* */
    uint16_t key_first;              /* RESP_KEY_* of the first key spec */
    uint16_t key_rest;               /* ... of the last spec: the keys after the first */
    const char *const *flags;        /* NULL-terminated */
    const char *const *tips;         /* NULL-terminated, or NULL */
    const struct resp_keyspec *specs;
    int nspecs;
};
extern const struct resp_cmd_info resp_cmd_infos[RESP_CMD_COUNT];

struct resp_subcmd_info {
    const char *fullname; /* "config|get" */
    struct resp_cmd_info info;
};
/* Indexed like resp_subcmds. */
extern const struct resp_subcmd_info resp_subcmd_infos[];
extern const int resp_subcmd_info_count;

/* The key-spec flags of the key at argv[pos] (one of resp_cmd_keys's
 * positions), with Redis's per-call flags for SET and BITFIELD. */
unsigned resp_cmd_key_flags(int id, int argc, const struct resp_arg *argv, int pos);
/* The names of key-spec flags (GETKEYSANDFLAGS, without incomplete and
 * variable_flags): count written to out. */
int resp_key_flag_names(unsigned flags, const char **out, int max);


#undef W
#undef R
#undef M
#undef F
#undef N
#undef A
#undef K
#undef V
#undef B
#undef P

#endif
