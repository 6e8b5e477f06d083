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

int resp_cmd_flag_names(unsigned flags, const char **out, int max)
{
    static const struct {
        unsigned f;
        const char *name;
    } names[] = {
        {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
        {CMD_ADMIN, "admin"}, {CMD_PUBSUB, "pubsub"}, {CMD_NOAUTH, "no_auth"}, {CMD_BLOCKING, "blocking"}, {CMD_FAST, "fast"},
        {CMD_MOVABLEKEYS, "movablekeys"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && n < max; i++)
        if (flags & names[i].f)
            out[n++] = names[i].name;
    return n;
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

static bool word_is(const struct resp_arg *a, const char *w)
{
    size_t n = strlen(w);
    return a->len == n && strncasecmp(a->ptr, w, n) == 0;
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
