/*
 * commands.c — the RESP command table and its name lookup (see commands.h).
 *
 * Lookup lowercases the name into a small stack buffer and probes a static
 * open-addressing table built on first use (pthread_once), so the hot path
 * is one pass over the name (lowercase and hash) and one compare.
 */
#include "proto/commands.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "proto/resp.h"

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

const struct resp_cmd resp_cmds[RESP_CMD_COUNT] = {
#define X(id, nm, ar, fl, fi, la, st, gr) [RESP_CMD_##id] = {nm, ar, fl, fi, la, st, gr},
    RESP_COMMANDS(X)
#undef X
};

#define TABLE_SIZE 512 /* power of two, > 2x the commands */
#define MAX_NAME 32

/* a slot: the command's id (-1: empty) and its name's length, so a probe
 * compares lengths before any byte and never calls strlen */
static struct {
    short id;
    unsigned char len;
} table[TABLE_SIZE];
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static void build(void)
{
    for (int i = 0; i < TABLE_SIZE; i++)
        table[i].id = -1;
    for (int c = 0; c < RESP_CMD_COUNT; c++) {
        const char *nm = resp_cmds[c].name;
        size_t n = strlen(nm);
        uint32_t h = FNV_BASIS;
        for (size_t k = 0; k < n; k++)
            h = (h ^ (unsigned char)nm[k]) * FNV_PRIME;
        uint32_t i = h & (TABLE_SIZE - 1);
        while (table[i].id >= 0)
            i = (i + 1) & (TABLE_SIZE - 1);
        table[i].id = (short)c;
        table[i].len = (unsigned char)n;
    }
}

/* Every request passes here: one pass lowercases and hashes the name, then
 * a probe compares lengths and, on a match, the bytes (names are short). */
int resp_cmd_lookup(const char *name, size_t len)
{
    pthread_once(&once, build);
    if (len == 0 || len > MAX_NAME)
        return -1;
    char low[MAX_NAME];
    uint32_t h = FNV_BASIS;
    for (size_t k = 0; k < len; k++) {
        char ch = name[k];
        ch = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        low[k] = ch;
        h = (h ^ (unsigned char)ch) * FNV_PRIME;
    }
    for (uint32_t i = h & (TABLE_SIZE - 1); table[i].id >= 0; i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].len != len)
            continue;
        const char *nm = resp_cmds[table[i].id].name;
        size_t k = 0;
        while (k < len && nm[k] == low[k])
            k++;
        if (k == len)
            return table[i].id;
    }
    return -1;
}

int resp_key_flag_names(unsigned flags, const char **out, int max)
{
    static const char *const names[] = {"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key"};
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && n < max; i++)
        if (flags & (1u << i))
            out[n++] = names[i];
    return n;
}

static bool word_is(const struct resp_arg *a, const char *w)
{
    size_t n = strlen(w);
    return a->len == n && strncasecmp(a->ptr, w, n) == 0;
}

/* Redis's bitfieldGetKeys: read-only when every operation is a whole GET or
 * OVERFLOW; a SET, an INCRBY or anything malformed makes it a write. */
static bool bitfield_readonly(int argc, const struct resp_arg *argv)
{
    for (int i = 2; i < argc; i++) {
        int rem = argc - i - 1;
        if (word_is(&argv[i], "get") && rem >= 2)
            i += 2;
        else if (word_is(&argv[i], "overflow") && rem >= 1)
            i += 1;
        else
            return false;
    }
    return true;
}

unsigned resp_cmd_key_flags(int id, int argc, const struct resp_arg *argv, int pos)
{
    if (id == RESP_CMD_SET) { /* Redis's setGetKeys: GET reads the old value (case-sensitive "get" is not) */
        for (int i = 3; i < argc; i++)
            if (word_is(&argv[i], "get"))
                return RESP_KEY_RW | RESP_KEY_ACCESS | RESP_KEY_UPDATE;
        return RESP_KEY_OW | RESP_KEY_UPDATE;
    }
    if (id == RESP_CMD_BITFIELD)
        return bitfield_readonly(argc, argv) ? RESP_KEY_RO | RESP_KEY_ACCESS
                                             : RESP_KEY_RW | RESP_KEY_ACCESS | RESP_KEY_UPDATE;
    if (resp_cmd_is_container(id) && argc > 1) {
        int sub = resp_subcmd_lookup(id, argv[1].ptr, argv[1].len);
        return sub >= 0 ? resp_subcmd_infos[sub].info.key_first : 0;
    }
    const struct resp_cmd_info *a = &resp_cmd_infos[id];
    return pos == resp_cmds[id].first ? a->key_first : a->key_rest;
}

int resp_cmd_keynum_index(int id)
{
    switch (id) {
    case RESP_CMD_ZMPOP:
    case RESP_CMD_ZUNION:
    case RESP_CMD_ZINTER:
    case RESP_CMD_ZDIFF:
    case RESP_CMD_ZINTERCARD:
    case RESP_CMD_LMPOP:
    case RESP_CMD_SINTERCARD:
        return 1;
    case RESP_CMD_EVAL:
    case RESP_CMD_EVALSHA:
    case RESP_CMD_EVAL_RO:
    case RESP_CMD_EVALSHA_RO:
    case RESP_CMD_FCALL:
    case RESP_CMD_FCALL_RO:
        return 2;
    case RESP_CMD_ZUNIONSTORE:
    case RESP_CMD_ZINTERSTORE:
    case RESP_CMD_ZDIFFSTORE:
    case RESP_CMD_BLMPOP:
    case RESP_CMD_BZMPOP:
        return 2;
    default:
        return -1;
    }
}

int resp_cmd_store_index(int id, int argc, const struct resp_arg *argv)
{
    int found = -1;
    if (id == RESP_CMD_SORT) {
        /* skip the arguments of LIMIT (2), BY and GET (1) so that a key or
         * pattern named "store" is not taken for the option */
        for (int i = 2; i < argc; i++) {
            if (word_is(&argv[i], "limit"))
                i += 2;
            else if (word_is(&argv[i], "get") || word_is(&argv[i], "by"))
                i += 1;
            else if (word_is(&argv[i], "store") && i + 1 < argc)
                found = i + 1; /* not skipped, as in Redis */
        }
    } else if (id == RESP_CMD_GEORADIUS || id == RESP_CMD_GEORADIUSBYMEMBER) {
        for (int i = 5; i < argc; i++)
            if ((word_is(&argv[i], "store") || word_is(&argv[i], "storedist")) && i + 1 < argc)
                found = ++i;
    }
    return found;
}

/* Redis 7.0.15's subcommands of the container commands kv answers, with
 * their arities and key positions (kv is no cluster node: CLUSTER's are
 * there for their error texts). */
const struct resp_subcmd resp_subcmds[] = {
    {RESP_CMD_ACL, "cat", -2, 0},
    {RESP_CMD_ACL, "deluser", -3, 0},
    {RESP_CMD_ACL, "dryrun", -4, 0},
    {RESP_CMD_ACL, "genpass", -2, 0},
    {RESP_CMD_ACL, "getuser", 3, 0},
    {RESP_CMD_ACL, "help", 2, 0},
    {RESP_CMD_ACL, "list", 2, 0},
    {RESP_CMD_ACL, "load", 2, 0},
    {RESP_CMD_ACL, "log", -2, 0},
    {RESP_CMD_ACL, "save", 2, 0},
    {RESP_CMD_ACL, "setuser", -3, 0},
    {RESP_CMD_ACL, "users", 2, 0},
    {RESP_CMD_ACL, "whoami", 2, 0},
    {RESP_CMD_CLIENT, "caching", 3, 0},
    {RESP_CMD_CLIENT, "getname", 2, 0},
    {RESP_CMD_CLIENT, "getredir", 2, 0},
    {RESP_CMD_CLIENT, "help", 2, 0},
    {RESP_CMD_CLIENT, "id", 2, 0},
    {RESP_CMD_CLIENT, "info", 2, 0},
    {RESP_CMD_CLIENT, "kill", -3, 0},
    {RESP_CMD_CLIENT, "list", -2, 0},
    {RESP_CMD_CLIENT, "no-evict", 3, 0},
    {RESP_CMD_CLIENT, "pause", -3, 0},
    {RESP_CMD_CLIENT, "reply", 3, 0},
    {RESP_CMD_CLIENT, "setname", 3, 0},
    {RESP_CMD_CLIENT, "tracking", -3, 0},
    {RESP_CMD_CLIENT, "trackinginfo", 2, 0},
    {RESP_CMD_CLIENT, "unblock", -3, 0},
    {RESP_CMD_CLIENT, "unpause", 2, 0},
    {RESP_CMD_CONFIG, "get", -3, 0},
    {RESP_CMD_CONFIG, "help", 2, 0},
    {RESP_CMD_CONFIG, "resetstat", 2, 0},
    {RESP_CMD_CONFIG, "rewrite", 2, 0},
    {RESP_CMD_CONFIG, "set", -4, 0},
    {RESP_CMD_COMMAND, "count", 2, 0},
    {RESP_CMD_COMMAND, "docs", -2, 0},
    {RESP_CMD_COMMAND, "getkeys", -4, 0},
    {RESP_CMD_COMMAND, "getkeysandflags", -4, 0},
    {RESP_CMD_COMMAND, "help", 2, 0},
    {RESP_CMD_COMMAND, "info", -2, 0},
    {RESP_CMD_COMMAND, "list", -2, 0},
    {RESP_CMD_OBJECT, "encoding", 3, 2},
    {RESP_CMD_OBJECT, "freq", 3, 2},
    {RESP_CMD_OBJECT, "help", 2, 0},
    {RESP_CMD_OBJECT, "idletime", 3, 2},
    {RESP_CMD_OBJECT, "refcount", 3, 2},
    {RESP_CMD_MEMORY, "doctor", 2, 0},
    {RESP_CMD_MEMORY, "help", 2, 0},
    {RESP_CMD_MEMORY, "malloc-stats", 2, 0},
    {RESP_CMD_MEMORY, "purge", 2, 0},
    {RESP_CMD_MEMORY, "stats", 2, 0},
    {RESP_CMD_MEMORY, "usage", -3, 2},
    {RESP_CMD_MODULE, "help", 2, 0},
    {RESP_CMD_MODULE, "list", 2, 0},
    {RESP_CMD_MODULE, "load", -3, 0},
    {RESP_CMD_MODULE, "loadex", -3, 0},
    {RESP_CMD_MODULE, "unload", 3, 0},
    {RESP_CMD_LATENCY, "doctor", 2, 0},
    {RESP_CMD_LATENCY, "graph", 3, 0},
    {RESP_CMD_LATENCY, "help", 2, 0},
    {RESP_CMD_LATENCY, "histogram", -2, 0},
    {RESP_CMD_LATENCY, "history", 3, 0},
    {RESP_CMD_LATENCY, "latest", 2, 0},
    {RESP_CMD_LATENCY, "reset", -2, 0},
    {RESP_CMD_SLOWLOG, "get", -2, 0},
    {RESP_CMD_SLOWLOG, "help", 2, 0},
    {RESP_CMD_SLOWLOG, "len", 2, 0},
    {RESP_CMD_SLOWLOG, "reset", 2, 0},
    {RESP_CMD_PUBSUB, "channels", -2, 0},
    {RESP_CMD_PUBSUB, "help", 2, 0},
    {RESP_CMD_PUBSUB, "numpat", 2, 0},
    {RESP_CMD_PUBSUB, "numsub", -2, 0},
    {RESP_CMD_PUBSUB, "shardchannels", -2, 0},
    {RESP_CMD_PUBSUB, "shardnumsub", -2, 0},
    {RESP_CMD_XGROUP, "create", -5, 2},
    {RESP_CMD_XGROUP, "createconsumer", 5, 2},
    {RESP_CMD_XGROUP, "delconsumer", 5, 2},
    {RESP_CMD_XGROUP, "destroy", 4, 2},
    {RESP_CMD_XGROUP, "help", 2, 0},
    {RESP_CMD_XGROUP, "setid", -5, 2},
    {RESP_CMD_XINFO, "consumers", 4, 2},
    {RESP_CMD_XINFO, "groups", 3, 2},
    {RESP_CMD_XINFO, "help", 2, 0},
    {RESP_CMD_XINFO, "stream", -3, 2},
    {RESP_CMD_SCRIPT, "debug", 3, 0},
    {RESP_CMD_SCRIPT, "exists", -3, 0},
    {RESP_CMD_SCRIPT, "flush", -2, 0},
    {RESP_CMD_SCRIPT, "help", 2, 0},
    {RESP_CMD_SCRIPT, "kill", 2, 0},
    {RESP_CMD_SCRIPT, "load", 3, 0},
    {RESP_CMD_FUNCTION, "delete", 3, 0},
    {RESP_CMD_FUNCTION, "dump", 2, 0},
    {RESP_CMD_FUNCTION, "flush", -2, 0},
    {RESP_CMD_FUNCTION, "help", 2, 0},
    {RESP_CMD_FUNCTION, "kill", 2, 0},
    {RESP_CMD_FUNCTION, "list", -2, 0},
    {RESP_CMD_FUNCTION, "load", -3, 0},
    {RESP_CMD_FUNCTION, "restore", -3, 0},
    {RESP_CMD_FUNCTION, "stats", 2, 0},
    {RESP_CMD_CLUSTER, "saveconfig", 2, 0},
    {RESP_CMD_CLUSTER, "replicate", 3, 0},
    {RESP_CMD_CLUSTER, "delslots", -3, 0},
    {RESP_CMD_CLUSTER, "help", 2, 0},
    {RESP_CMD_CLUSTER, "bumpepoch", 2, 0},
    {RESP_CMD_CLUSTER, "addslots", -3, 0},
    {RESP_CMD_CLUSTER, "shards", 2, 0},
    {RESP_CMD_CLUSTER, "getkeysinslot", 4, 0},
    {RESP_CMD_CLUSTER, "slots", 2, 0},
    {RESP_CMD_CLUSTER, "keyslot", 3, 0},
    {RESP_CMD_CLUSTER, "nodes", 2, 0},
    {RESP_CMD_CLUSTER, "count-failure-reports", 3, 0},
    {RESP_CMD_CLUSTER, "setslot", -4, 0},
    {RESP_CMD_CLUSTER, "addslotsrange", -4, 0},
    {RESP_CMD_CLUSTER, "reset", -2, 0},
    {RESP_CMD_CLUSTER, "delslotsrange", -4, 0},
    {RESP_CMD_CLUSTER, "meet", -4, 0},
    {RESP_CMD_CLUSTER, "forget", 3, 0},
    {RESP_CMD_CLUSTER, "failover", -2, 0},
    {RESP_CMD_CLUSTER, "myid", 2, 0},
    {RESP_CMD_CLUSTER, "info", 2, 0},
    {RESP_CMD_CLUSTER, "replicas", 3, 0},
    {RESP_CMD_CLUSTER, "slaves", 3, 0},
    {RESP_CMD_CLUSTER, "links", 2, 0},
    {RESP_CMD_CLUSTER, "flushslots", 2, 0},
    {RESP_CMD_CLUSTER, "countkeysinslot", 3, 0},
    {RESP_CMD_CLUSTER, "set-config-epoch", 3, 0},
};
const int resp_subcmd_count = (int)(sizeof resp_subcmds / sizeof resp_subcmds[0]);

int resp_subcmd_lookup(int parent, const char *name, size_t len)
{
    for (int i = 0; i < resp_subcmd_count; i++)
        if (resp_subcmds[i].parent == parent && strlen(resp_subcmds[i].name) == len &&
            strncasecmp(resp_subcmds[i].name, name, len) == 0)
            return i;
    return -1;
}

bool resp_cmd_is_container(int id)
{
    for (int i = 0; i < resp_subcmd_count; i++)
        if (resp_subcmds[i].parent == id)
            return true;
    return false;
}

static bool keys_optional(int id)
{
    switch (id) {
    case RESP_CMD_EVAL:
    case RESP_CMD_EVALSHA:
    case RESP_CMD_EVAL_RO:
    case RESP_CMD_EVALSHA_RO:
    case RESP_CMD_FCALL:
    case RESP_CMD_FCALL_RO:
        return true;
    default:
        return false;
    }
}

/* Redis's keyword key spec: the first argument from `from` on equal to the
 * word; the index after it, or -1. */
static int after_keyword(int argc, const struct resp_arg *argv, int from, const char *word)
{
    for (int i = from; i < argc; i++)
        if (word_is(&argv[i], word))
            return i + 1;
    return -1;
}

/* XREAD/XREADGROUP: after the first STREAMS (searched from index 1, or 4
 * past GROUP g c), the first half of the rest. */
static int xread_keys(int id, int argc, const struct resp_arg *argv, int *pos)
{
    int first = after_keyword(argc, argv, id == RESP_CMD_XREAD ? 1 : 4, "streams");
    if (first < 0)
        return 0;
    int n = 0;
    for (int i = first; i < first + (argc - first) / 2; i++)
        pos[n++] = i;
    return n;
}
int resp_cmd_keys(int id, int argc, const struct resp_arg *argv, int *pos)
{
    const struct resp_cmd *c = &resp_cmds[id];
    int n = 0;
    if (id == RESP_CMD_XREAD || id == RESP_CMD_XREADGROUP) {
        n = xread_keys(id, argc, argv, pos);
    } else if (id == RESP_CMD_MIGRATE) {
        /* the key at 3, or with KEYS (key "") the rest; AUTH takes one
         * argument and AUTH2 two (Redis's migrateGetKeys) */
        int first = 3, num = argc > 3 ? 1 : 0;
        for (int i = 6; i < argc; i++) {
            if (word_is(&argv[i], "auth")) {
                i += 1;
            } else if (word_is(&argv[i], "auth2")) {
                i += 2;
            } else if (word_is(&argv[i], "keys")) {
                if (argv[3].len > 0)
                    return -1;
                first = i + 1;
                num = argc - first;
                break;
            }
        }
        for (int i = 0; i < num; i++)
            pos[n++] = first + i;
    } else if (resp_cmd_is_container(id)) {
        int sub = argc > 1 ? resp_subcmd_lookup(id, argv[1].ptr, argv[1].len) : -1;
        if (sub >= 0 && resp_subcmds[sub].key && resp_subcmds[sub].key < argc)
            pos[n++] = resp_subcmds[sub].key;
    } else {
        int ki = resp_cmd_keynum_index(id);
        if (ki >= 0) {
            long long nk;
            if (ki >= argc || !util_str2ll(argv[ki].ptr, argv[ki].len, &nk) || nk <= 0 || nk > argc - ki - 1)
                return keys_optional(id) ? 0 : -1;
            if (c->first > 0) /* the destination of the *STORE forms */
                pos[n++] = c->first;
            for (int i = 0; i < nk; i++)
                pos[n++] = ki + 1 + i;
        } else if (c->first > 0) {
            int last = c->last < 0 ? argc + c->last : c->last;
            for (int i = c->first; i <= last; i += c->step)
                if (i < argc)
                    pos[n++] = i;
            if (id == RESP_CMD_PFMERGE && argc < 3)
                return -1; /* Redis's second key spec (the sources) starts past the end */
            if (id == RESP_CMD_GEORADIUS || id == RESP_CMD_GEORADIUSBYMEMBER) {
                /* Redis's key specs: the first STORE and the first STOREDIST
                 * after the fixed arguments (the command writes the last one) */
                int from = id == RESP_CMD_GEORADIUS ? 6 : 5;
                int a = after_keyword(argc, argv, from, "store"), b = after_keyword(argc, argv, from, "storedist");
                if (a > 0 && a < argc)
                    pos[n++] = a;
                if (b > 0 && b < argc)
                    pos[n++] = b;
            } else {
                int st = resp_cmd_store_index(id, argc, argv);
                if (st >= 0)
                    pos[n++] = st;
            }
        }
    }
    return n == 0 && !keys_optional(id) ? -1 : n;
}
