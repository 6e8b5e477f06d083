/*
 * route.c — what the router does with one command (see router.h): the key
 * positions come from the proto/commands table; this file decides local,
 * single-shard, split, fan-out or refused, writes sub-commands and merges
 * their replies. Pure: no sockets, no threads (unit-tested directly).
 *
 * Keyless commands:
 *   answered here     PING ECHO QUIT SELECT 0 COMMAND (COUNT; else an empty
 *                     list) CLIENT SETNAME/SETINFO INFO (a router section)
 *   fanned out        DBSIZE (sum), FLUSHDB FLUSHALL (OK when every shard
 *                     says OK), KEYS (every shard's keys, concatenated)
 *   one by one        SCAN: the router's cursor holds the shard's ordinal in
 *                     its low 8 bits and the shard's cursor above them; a
 *                     shard's 0 moves on to the next shard, the last one's 0
 *                     ends the scan. Shards added or removed during a scan
 *                     change the ordinals: such a scan may miss or repeat keys.
 *   refused           RANDOMKEY (no shard to pick fairly), CONFIG
 *                     MEMORY TIME LASTSAVE AUTH HELLO RESET, CLIENT other than
 *                     SETNAME/SETINFO, SELECT n > 0, blocking commands (they
 *                     would stall a shard connection every client shares),
 *                     WATCH UNWATCH (the connection to the shard is shared)
 * Scripts (EVAL..., FCALL..., SCRIPT, FUNCTION): route_script below.
 * MULTI/EXEC/DISCARD are the proxy's (the block is checked and pinned there).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/util.h"
#include "proto/commands.h"
#include "proto/reply.h"
#include "router/router.h"

void rt_route_init(struct rt_route *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out);
}

void rt_route_deinit(struct rt_route *r)
{
    xfree(r->parts);
    xfree(r->order);
    buf_deinit(&r->out);
}

static void refuse(struct rt_route *r, const char *fmt, const char *arg, size_t len)
{
    r->kind = RT_REFUSE;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, (int)(len > 64 ? 64 : len), arg);
    resp_add_error(&r->out, msg, strlen(msg));
}

static void lower_name(const struct resp_arg *a, char *out, size_t cap)
{
    size_t n = a->len < cap - 1 ? a->len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = a->ptr[i];
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[n] = 0;
}

static bool argis(const struct resp_arg *a, const char *s) { return util_strieq(a->ptr, a->len, s); }

/* Answer a keyless command here, or refuse it: true when handled. */
static bool keyless(struct rt_route *r, int argc, const struct resp_arg *argv)
{
    switch (r->cmd) {
    case RESP_CMD_PING:
        r->kind = RT_LOCAL;
        if (argc == 1)
            resp_add_simple(&r->out, "PONG", 4);
        else if (argc == 2)
            resp_add_bulk(&r->out, argv[1].ptr, argv[1].len);
        else
            resp_add_error(&r->out, "ERR wrong number of arguments for 'ping' command", 48);
        return true;
    case RESP_CMD_ECHO:
        r->kind = RT_LOCAL;
        resp_add_bulk(&r->out, argv[1].ptr, argv[1].len);
        return true;
    case RESP_CMD_QUIT:
        r->kind = RT_LOCAL;
        resp_add_ok(&r->out);
        return true;
    case RESP_CMD_SELECT:
        if (argc == 2 && argis(&argv[1], "0")) {
            r->kind = RT_LOCAL;
            resp_add_ok(&r->out);
        } else {
            refuse(r, "ERR the router serves database 0 only (SELECT %.*s)", argv[1].ptr, argv[1].len);
        }
        return true;
    case RESP_CMD_COMMAND:
        r->kind = RT_LOCAL;
        if (argc == 2 && argis(&argv[1], "count"))
            resp_add_int(&r->out, RESP_CMD_COUNT);
        else
            resp_add_array(&r->out, 0);
        return true;
    case RESP_CMD_CLIENT:
        if (argis(&argv[1], "setname") || argis(&argv[1], "setinfo")) {
            r->kind = RT_LOCAL;
            resp_add_ok(&r->out);
        } else {
            refuse(r, "ERR CLIENT %.*s is not supported by the router", argv[1].ptr, argv[1].len);
        }
        return true;
    case RESP_CMD_INFO:
        r->kind = RT_LOCAL;
        {
            static const char info[] = "# Server\r\nredis_version:7.0.0\r\nscaleout_role:router\r\n";
            resp_add_bulk(&r->out, info, sizeof info - 1);
        }
        return true;
    case RESP_CMD_DBSIZE:
        r->kind = RT_FANOUT;
        r->merge = RT_MERGE_SUM;
        return true;
    case RESP_CMD_FLUSHDB:
    case RESP_CMD_FLUSHALL:
        r->kind = RT_FANOUT;
        r->merge = RT_MERGE_OK;
        r->write = true;
        return true;
    case RESP_CMD_KEYS:
        r->kind = RT_FANOUT;
        r->merge = RT_MERGE_CONCAT;
        return true;
    case RESP_CMD_SCAN: {
        unsigned long long cur;
        if (!util_str2ull(argv[1].ptr, argv[1].len, &cur)) {
            refuse(r, "ERR invalid cursor%.*s", "", 0);
            return true;
        }
        r->kind = RT_SCAN;
        r->merge = RT_MERGE_SCAN;
        r->scan_shard = (int)(cur & ((1u << RT_SCAN_SHARD_BITS) - 1));
        r->scan_cursor = cur >> RT_SCAN_SHARD_BITS;
        return true;
    }
    case RESP_CMD_MULTI:
    case RESP_CMD_EXEC:
    case RESP_CMD_DISCARD:
        refuse(r, "ERR %.*s without MULTI", argv[0].ptr, argv[0].len);
        return true;
    case RESP_CMD_PUBLISH:
        /* every subscription lives on one shard (the proxy's subscriber
         * connections): sent to all, the receivers added up */
        r->kind = RT_FANOUT;
        r->merge = RT_MERGE_SUM;
        r->write = true;
        return true;
    case RESP_CMD_PUBSUB:
        if (argis(&argv[1], "channels")) {
            r->kind = RT_FANOUT;
            r->merge = RT_MERGE_CONCAT;
        } else if (argis(&argv[1], "numpat")) {
            r->kind = RT_FANOUT;
            r->merge = RT_MERGE_SUM;
        } else {
            refuse(r, "ERR PUBSUB %.*s is not supported by the router", argv[1].ptr, argv[1].len);
        }
        return true;
    case RESP_CMD_SSUBSCRIBE:
    case RESP_CMD_SUNSUBSCRIBE:
        refuse(r, "ERR %.*s (sharded pub/sub) is not supported by the router; use SUBSCRIBE", argv[0].ptr,
               argv[0].len);
        return true;
    case RESP_CMD_SUBSCRIBE:
    case RESP_CMD_PSUBSCRIBE:
    case RESP_CMD_UNSUBSCRIBE:
    case RESP_CMD_PUNSUBSCRIBE:
        /* the proxy handles them (subscriber connections); here only without one */
        refuse(r, "ERR %.*s is only supported on a client connection of the router", argv[0].ptr, argv[0].len);
        return true;
    case RESP_CMD_WATCH:
    case RESP_CMD_UNWATCH:
        refuse(r, "ERR %.*s is not supported by the router (shard connections are shared)", argv[0].ptr,
               argv[0].len);
        return true;
    default:
        if (resp_cmds[r->cmd].first == 0 && resp_cmd_keynum_index(r->cmd) < 0) {
            refuse(r, "ERR '%.*s' is not supported by the router (no key to route it by)", argv[0].ptr,
                   argv[0].len);
            return true;
        }
        return false;
    }
}

static bool splittable(int cmd)
{
    return cmd == RESP_CMD_MGET || cmd == RESP_CMD_MSET || cmd == RESP_CMD_DEL || cmd == RESP_CMD_UNLINK ||
           cmd == RESP_CMD_EXISTS || cmd == RESP_CMD_TOUCH;
}

/*
 * Scripts, by name (whether or not the command table has them yet):
 *   EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO script|sha|fn numkeys key... arg...
 *     every key on one shard: sent there; keys on several shards: CROSSSLOT;
 *     numkeys 0: refused (the router cannot know which shard's data the
 *     script touches; pass its keys, or a {tag}ged key, as KEYS).
 *   SCRIPT LOAD|FLUSH, FUNCTION LOAD|DELETE|FLUSH|RESTORE: sent to every shard
 *     (so EVALSHA / FCALL find the script wherever its keys are); the reply
 *     is the first shard's unless one answers an error. Other SCRIPT /
 *     FUNCTION subcommands are refused.
 * true when argv is one of them (r filled).
 */
static bool route_script(struct rt_route *r, int argc, const struct resp_arg *argv, rt_locate_fn locate, void *arg)
{
    static const char *const evals[] = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"};
    /* every name here is 4 to 10 bytes and starts with e, f or s: most commands stop at this test */
    char c0 = (char)(argv[0].len ? argv[0].ptr[0] | 0x20 : 0);
    if (argv[0].len < 4 || argv[0].len > 10 || (c0 != 'e' && c0 != 'f' && c0 != 's'))
        return false;
    int e = -1;
    for (int i = 0; i < 6 && e < 0; i++)
        if (argis(&argv[0], evals[i]))
            e = i;
    char name[32];
    if (e >= 0) {
        lower_name(&argv[0], name, sizeof name);
        r->write = strstr(name, "_ro") == NULL;
        if (argc < 3) {
            refuse(r, "ERR wrong number of arguments for '%.*s' command", name, strlen(name));
            return true;
        }
        long long nk;
        if (!util_str2ll(argv[2].ptr, argv[2].len, &nk)) {
            refuse(r, "ERR value is not an integer or out of range%.*s", "", 0);
            return true;
        }
        if (nk < 0) {
            refuse(r, "ERR Number of keys can't be negative%.*s", "", 0);
            return true;
        }
        if (nk > argc - 3) {
            refuse(r, "ERR Number of keys can't be greater than number of args%.*s", "", 0);
            return true;
        }
        if (nk == 0) {
            refuse(r, "ERR %.*s without keys is not supported by the router: no shard to run it on (pass the keys "
                      "it touches as KEYS)", name, strlen(name));
            return true;
        }
        int shard = -2;
        for (int i = 3; i < 3 + nk; i++) {
            int sh = locate(arg, argv[i].ptr, argv[i].len);
            if (sh < 0) {
                refuse(r, "ERR no shard for key '%.*s'", argv[i].ptr, argv[i].len);
                return true;
            }
            if (shard != -2 && sh != shard) {
                refuse(r, "CROSSSLOT Keys in request don't hash to the same shard (%.*s; use a {hash tag})",
                       argv[0].ptr, argv[0].len);
                return true;
            }
            shard = sh;
        }
        r->kind = RT_SINGLE;
        r->shard = shard;
        r->nkeys = (int)nk;
        return true;
    }
    bool script = argis(&argv[0], "script"), function = argis(&argv[0], "function");
    if (!script && !function)
        return false;
    if (argc < 2) {
        refuse(r, "ERR wrong number of arguments for '%.*s' command", script ? "script" : "function",
               script ? 6 : 8);
        return true;
    }
    if ((script && (argis(&argv[1], "load") || argis(&argv[1], "flush"))) ||
        (function && (argis(&argv[1], "load") || argis(&argv[1], "delete") || argis(&argv[1], "flush") ||
                      argis(&argv[1], "restore")))) {
        r->kind = RT_FANOUT;
        r->merge = RT_MERGE_NONE;
        r->write = true;
        return true;
    }
    refuse(r, script ? "ERR SCRIPT %.*s is not supported by the router" : "ERR FUNCTION %.*s is not supported by "
                                                                          "the router",
           argv[1].ptr, argv[1].len);
    return true;
}

void rt_route_reserve(struct rt_route *r, int n)
{
    if (n <= r->cap)
        return;
    r->parts = xrealloc(r->parts, (size_t)n * sizeof *r->parts);
    r->order = xrealloc(r->order, (size_t)n * sizeof *r->order);
    r->cap = n;
}

void rt_route(struct rt_route *r, int argc, const struct resp_arg *argv, rt_locate_fn locate, void *arg)
{
    rt_route_cmd(r, resp_cmd_lookup(argv[0].ptr, argv[0].len), argc, argv, locate, arg);
}

#define SPLIT_STACK_KEYS 256 /* splits of up to this many keys need no allocation */

void rt_route_cmd(struct rt_route *r, int cmd, int argc, const struct resp_arg *argv, rt_locate_fn locate,
                  void *arg)
{
    r->out.off = r->out.len = 0;
    r->kind = RT_REFUSE;
    r->merge = RT_MERGE_NONE;
    r->shard = -1;
    r->nkeys = 0;
    r->nparts = 0;
    r->step = 1;
    r->write = false;
    r->cmd = cmd;
    if (route_script(r, argc, argv, locate, arg))
        return;
    if (r->cmd < 0) {
        char msg[200];
        int n = snprintf(msg, sizeof msg, "ERR unknown command '%.*s', with args beginning with: ",
                         (int)(argv[0].len > 64 ? 64 : argv[0].len), argv[0].ptr);
        for (int i = 1; i < argc && n > 0 && (size_t)n < sizeof msg - 20; i++)
            n += snprintf(msg + n, sizeof msg - (size_t)n, "'%.*s' ", (int)(argv[i].len > 16 ? 16 : argv[i].len),
                          argv[i].ptr);
        resp_add_error(&r->out, msg, strlen(msg));
        return;
    }
    const struct resp_cmd *c = &resp_cmds[r->cmd];
    if ((c->arity > 0 && argc != c->arity) || (c->arity < 0 && argc < -c->arity)) {
        char name[32];
        lower_name(&argv[0], name, sizeof name);
        refuse(r, "ERR wrong number of arguments for '%.*s' command", name, strlen(name));
        return;
    }
    r->write = (c->flags & CMD_WRITE) != 0;
    if (keyless(r, argc, argv))
        return;
    if (c->flags & CMD_BLOCKING) {
        refuse(r, "ERR blocking commands (%.*s) are not supported by the router: they would stall a shared shard "
                  "connection", argv[0].ptr, argv[0].len);
        return;
    }
    /* key positions */
    int first = c->first, last = c->last, step = c->step;
    int ki = resp_cmd_keynum_index(r->cmd);
    int kfirst = -1, klast = -1, extra = -1;
    if (ki >= 0) {
        long long nk;
        if (ki >= argc || !util_str2ll(argv[ki].ptr, argv[ki].len, &nk) || nk <= 0) {
            refuse(r, "ERR numkeys should be greater than 0%.*s", "", 0);
            return;
        }
        if (nk > argc - ki - 1) {
            refuse(r, "ERR Number of keys can't be greater than number of args%.*s", "", 0);
            return;
        }
        kfirst = ki + 1;
        klast = ki + (int)nk;
        step = 1;
        if (first > 0)
            extra = first; /* the destination of the *STORE forms */
    } else {
        kfirst = first;
        klast = last < 0 ? argc + last : last;
        if (klast >= argc)
            klast = argc - 1;
        extra = resp_cmd_store_index(r->cmd, argc, argv); /* SORT/GEORADIUS ... STORE dst */
    }
    if (r->cmd == RESP_CMD_MSET && (argc - 1) % 2 != 0) {
        refuse(r, "ERR wrong number of arguments for 'mset' command%.*s", "", 0);
        return;
    }
    int nkeys = (klast - kfirst) / step + 1 + (extra >= 0);
    r->nkeys = nkeys;
    r->step = step;
    if (!splittable(r->cmd)) {
        int shard = -2;
        for (int i = extra >= 0 ? -1 : 0; kfirst + i * step <= klast; i++) {
            int pos = i < 0 ? extra : kfirst + i * step;
            int s = locate(arg, argv[pos].ptr, argv[pos].len);
            if (s < 0) {
                refuse(r, "ERR no shard for key '%.*s'", argv[pos].ptr, argv[pos].len);
                return;
            }
            if (shard != -2 && s != shard) {
                refuse(r, "CROSSSLOT Keys in request don't hash to the same shard (%.*s; use a {hash tag})",
                       argv[0].ptr, argv[0].len);
                return;
            }
            shard = s;
        }
        if (shard < 0) { /* OBJECT HELP and the like: no key to route by */
            refuse(r, "ERR '%.*s' without a key is not supported by the router", argv[0].ptr, argv[0].len);
            return;
        }
        r->kind = RT_SINGLE;
        r->shard = shard;
        return;
    }
    /* split: group the key groups by shard, in order of first appearance */
    rt_route_reserve(r, nkeys);
    int shard_stack[SPLIT_STACK_KEYS];
    int *shard_of = nkeys <= SPLIT_STACK_KEYS ? shard_stack : xmalloc((size_t)nkeys * sizeof *shard_of);
    for (int g = 0; g < nkeys; g++) {
        const struct resp_arg *k = &argv[kfirst + g * step];
        int s = locate(arg, k->ptr, k->len);
        if (s < 0) {
            refuse(r, "ERR no shard for key '%.*s'", k->ptr, k->len);
            if (shard_of != shard_stack)
                xfree(shard_of);
            return;
        }
        shard_of[g] = s;
        int p;
        for (p = 0; p < r->nparts && r->parts[p].shard != s; p++)
            ;
        if (p == r->nparts) {
            r->parts[p].shard = s;
            r->parts[p].nkeys = 0;
            r->nparts++;
        }
        r->parts[p].nkeys++;
    }
    if (r->nparts == 1) {
        r->kind = RT_SINGLE;
        r->shard = r->parts[0].shard;
        r->nparts = 0;
        if (shard_of != shard_stack)
            xfree(shard_of);
        return;
    }
    int at = 0;
    for (int p = 0; p < r->nparts; p++) {
        r->parts[p].first = at;
        for (int g = 0; g < nkeys; g++)
            if (shard_of[g] == r->parts[p].shard)
                r->order[at++] = g;
    }
    if (shard_of != shard_stack)
        xfree(shard_of);
    r->kind = RT_SPLIT;
    r->merge = r->cmd == RESP_CMD_MGET ? RT_MERGE_ARRAY : r->cmd == RESP_CMD_MSET ? RT_MERGE_OK : RT_MERGE_SUM;
}

void rt_route_write_scan(const struct rt_route *r, int argc, const struct resp_arg *argv, struct buf *out)
{
    char cur[24];
    size_t cl = util_ull2str(cur, r->scan_cursor);
    resp_add_array(out, argc);
    resp_add_bulk(out, argv[0].ptr, argv[0].len);
    resp_add_bulk(out, cur, cl);
    for (int i = 2; i < argc; i++)
        resp_add_bulk(out, argv[i].ptr, argv[i].len);
}

void rt_write_command(struct buf *out, int argc, const struct resp_arg *argv)
{
    resp_add_array(out, argc);
    for (int i = 0; i < argc; i++)
        resp_add_bulk(out, argv[i].ptr, argv[i].len);
}

void rt_route_write_part(const struct rt_route *r, int p, int argc, const struct resp_arg *argv, struct buf *out)
{
    (void)argc;
    const struct rt_part *pt = &r->parts[p];
    resp_add_array(out, 1 + (long long)pt->nkeys * r->step);
    resp_add_bulk(out, argv[0].ptr, argv[0].len);
    for (int i = 0; i < pt->nkeys; i++) {
        int g = r->order[pt->first + i];
        for (int j = 0; j < r->step; j++) {
            const struct resp_arg *a = &argv[1 + g * r->step + j];
            resp_add_bulk(out, a->ptr, a->len);
        }
    }
}

/* Header of an array reply: element count and header length; false if not an array. */
static bool array_head(const char *p, size_t len, long long *n, size_t *hl)
{
    if (len < 4 || p[0] != '*')
        return false;
    const char *e = memchr(p, '\r', len);
    if (!e || !util_str2ll(p + 1, (size_t)(e - p - 1), n) || *n < 0)
        return false;
    *hl = (size_t)(e - p) + 2;
    return true;
}

/* Length of the bulk string or nil at s (what MGET's elements almost always
 * are: "$N\r\n...\r\n" with N < 10^8 written without leading zeros, or
 * "$-1\r\n"), read without the general reply parser; 0: something else (the
 * caller asks resp_reply_parse). The shard connection already parsed the
 * whole reply, so this only finds the element's end again, cheaply. */
static size_t bulk_len(const char *s, size_t rem)
{
    if (rem < 5 || s[0] != '$')
        return 0;
    if (s[1] == '-')
        return s[2] == '1' && s[3] == '\r' && s[4] == '\n' ? 5 : 0;
    if (s[1] == '0' && s[2] != '\r')
        return 0;
    size_t i = 1, n = 0;
    while (i < rem && i <= 8 && s[i] >= '0' && s[i] <= '9')
        n = n * 10 + (size_t)(s[i++] - '0');
    if (i == 1 || i + 1 >= rem || s[i] != '\r' || s[i + 1] != '\n')
        return 0;
    size_t total = i + 2 + n + 2;
    if (total > rem || s[total - 2] != '\r' || s[total - 1] != '\n')
        return 0;
    return total;
}

void rt_merge(const struct rt_route *r, const char *const *replies, const size_t *lens, int n, struct buf *out)
{
    for (int i = 0; i < n; i++)
        if (lens[i] > 0 && (replies[i][0] == '-' || replies[i][0] == '!')) {
            buf_append(out, replies[i], lens[i]);
            return;
        }
    switch (r->merge) {
    case RT_MERGE_NONE:
        buf_append(out, replies[0], lens[0]);
        return;
    case RT_MERGE_OK:
        resp_add_ok(out);
        return;
    case RT_MERGE_SUM: {
        long long sum = 0;
        for (int i = 0; i < n; i++) {
            long long v;
            if (lens[i] < 3 || replies[i][0] != ':' || !util_str2ll(replies[i] + 1, lens[i] - 3, &v)) {
                resp_add_error(out, "ERR router: a shard sent a reply that is not an integer", 55);
                return;
            }
            sum += v;
        }
        resp_add_int(out, sum);
        return;
    }
    case RT_MERGE_CONCAT: {
        long long total = 0, k;
        size_t hl;
        for (int i = 0; i < n; i++) {
            if (!array_head(replies[i], lens[i], &k, &hl)) {
                resp_add_error(out, "ERR router: a shard sent a reply that is not an array", 53);
                return;
            }
            total += k;
        }
        resp_add_array(out, total);
        for (int i = 0; i < n; i++) {
            array_head(replies[i], lens[i], &k, &hl);
            buf_append(out, replies[i] + hl, lens[i] - hl);
        }
        return;
    }
    case RT_MERGE_SCAN: {
        /* *2 $cursor *keys: the shard's cursor becomes the router's */
        long long k, bl;
        size_t hl;
        const char *p = replies[0];
        size_t len = lens[0];
        const char *e;
        unsigned long long sc;
        if (n < 1 || !array_head(p, len, &k, &hl) || k != 2 || hl + 1 >= len || p[hl] != '$' ||
            !(e = memchr(p + hl, '\r', len - hl)) || !util_str2ll(p + hl + 1, (size_t)(e - p - hl - 1), &bl) ||
            bl < 0 || (size_t)(e - p) + 2 + (size_t)bl + 2 > len ||
            !util_str2ull(e + 2, (size_t)bl, &sc) || sc >> (64 - RT_SCAN_SHARD_BITS)) {
            resp_add_error(out, "ERR router: a shard sent a SCAN reply it cannot carry on", 56);
            return;
        }
        unsigned long long next;
        if (sc != 0)
            next = sc << RT_SCAN_SHARD_BITS | (unsigned long long)r->scan_shard;
        else if (r->scan_shard + 1 < r->nparts)
            next = (unsigned long long)(r->scan_shard + 1);
        else
            next = 0;
        char cur[24];
        size_t cl = util_ull2str(cur, next);
        resp_add_array(out, 2);
        resp_add_bulk(out, cur, cl);
        size_t rest = (size_t)(e - p) + 2 + (size_t)bl + 2;
        buf_append(out, p + rest, len - rest);
        return;
    }
    case RT_MERGE_ARRAY: {
        const char *ep_stack[SPLIT_STACK_KEYS];
        size_t el_stack[SPLIT_STACK_KEYS];
        bool heap = r->nkeys > SPLIT_STACK_KEYS;
        const char **ep = heap ? xmalloc((size_t)r->nkeys * sizeof *ep) : ep_stack;
        size_t *el = heap ? xmalloc((size_t)r->nkeys * sizeof *el) : el_stack;
        for (int p = 0; p < n && p < r->nparts; p++) {
            long long k;
            size_t hl;
            if (!array_head(replies[p], lens[p], &k, &hl) || k != r->parts[p].nkeys) {
                resp_add_error(out, "ERR router: a shard sent a reply of the wrong shape", 51);
                goto done;
            }
            size_t off = hl;
            for (int j = 0; j < k; j++) {
                ssize_t m = (ssize_t)bulk_len(replies[p] + off, lens[p] - off);
                if (m == 0) {
                    struct resp_reply rr;
                    resp_reply_init(&rr);
                    m = resp_reply_parse(&rr, replies[p] + off, lens[p] - off);
                }
                if (m <= 0) {
                    resp_add_error(out, "ERR router: a shard sent a reply of the wrong shape", 51);
                    goto done;
                }
                int g = r->order[r->parts[p].first + j];
                ep[g] = replies[p] + off;
                el[g] = (size_t)m;
                off += (size_t)m;
            }
        }
        resp_add_array(out, r->nkeys);
        for (int g = 0; g < r->nkeys; g++)
            buf_append(out, ep[g], el[g]);
    done:
        if (heap) {
            xfree(ep);
            xfree(el);
        }
        return;
    }
    }
}
