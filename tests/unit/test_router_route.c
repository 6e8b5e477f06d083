/*
 * test_router_route.c — the router's routing and merging (route.c): local
 * answers, single-shard routing, splits grouped by shard and merged back in
 * the client's order, cross-shard refusal, fan-out, key positions of numkeys
 * commands, arity and unknown commands.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "proto/commands.h"
#include "proto/reply.h"
#include "router/router.h"

/* A key's shard: the digit after the last ':' (or inside a {tag}), mod 3; "none..." has none. */
static int fake_locate(void *arg, const char *key, size_t len)
{
    (void)arg;
    rt_hash_tag("{}", &key, &len);
    if (len >= 4 && memcmp(key, "none", 4) == 0)
        return -1;
    return (key[len - 1] - '0') % 3;
}

static int argv_of(char *line, struct resp_arg *argv)
{
    int n = 0;
    for (char *t = strtok(line, " "); t; t = strtok(NULL, " ")) {
        argv[n].ptr = t;
        argv[n].len = strlen(t);
        n++;
    }
    return n;
}

static struct rt_route R;
static struct resp_arg A[64];
static int N;
static char L[512];

static void route(const char *cmd)
{
    snprintf(L, sizeof L, "%s", cmd);
    N = argv_of(L, A);
    rt_route(&R, N, A, fake_locate, NULL);
}

static void setup(void) { rt_route_init(&R); }
static void teardown(void) { rt_route_deinit(&R); }

static void out_is(const char *want)
{
    cr_assert(buf_pending(&R.out) == strlen(want) && memcmp(buf_head(&R.out), want, strlen(want)) == 0,
              "got %.*s want %s", (int)buf_pending(&R.out), buf_head(&R.out), want);
}

TestSuite(router_route, .init = setup, .fini = teardown);

Test(router_route, local_answers)
{
    route("PING");
    cr_assert_eq(R.kind, RT_LOCAL);
    out_is("+PONG\r\n");
    route("ping hello");
    out_is("$5\r\nhello\r\n");
    route("ECHO x");
    out_is("$1\r\nx\r\n");
    route("SELECT 0");
    out_is("+OK\r\n");
    route("SELECT 1");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("COMMAND COUNT");
    cr_assert_eq(R.kind, RT_LOCAL);
    route("QUIT");
    cr_assert_eq(R.kind, RT_LOCAL);
}

Test(router_route, unknown_arity_unsupported)
{
    route("FOO bar");
    cr_assert_eq(R.kind, RT_REFUSE);
    cr_assert(strstr(buf_head(&R.out), "-ERR unknown command 'FOO'") == buf_head(&R.out));
    route("GET");
    out_is("-ERR wrong number of arguments for 'get' command\r\n");
    route("SCAN x");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("RANDOMKEY");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("BLPOP k1 0");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("WATCH k1");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("OBJECT HELP");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("GET none:1");
    cr_assert_eq(R.kind, RT_REFUSE);
    cr_assert(strstr(buf_head(&R.out), "no shard for key 'none:1'") != NULL);
}

Test(router_route, single_key_and_same_shard_commands)
{
    route("GET user:4");
    cr_assert_eq(R.kind, RT_SINGLE);
    cr_assert_eq(R.shard, 1);
    cr_assert(!R.write);
    route("SET user:5 v");
    cr_assert_eq(R.shard, 2);
    cr_assert(R.write);
    route("RENAME a:1 b:4"); /* 1 % 3 == 4 % 3 */
    cr_assert_eq(R.kind, RT_SINGLE);
    cr_assert_eq(R.shard, 1);
    route("RENAME a:1 b:2");
    cr_assert_eq(R.kind, RT_REFUSE);
    cr_assert(strncmp(buf_head(&R.out), "-CROSSSLOT", 10) == 0);
    route("SINTERSTORE d:0 s:3 s:6");
    cr_assert_eq(R.kind, RT_SINGLE);
    route("SINTERSTORE d:0 s:3 s:7");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("SMOVE {u:1}a {u:1}b m");
    cr_assert_eq(R.kind, RT_SINGLE);
    route("LMOVE l:1 l:2 LEFT RIGHT");
    cr_assert_eq(R.kind, RT_REFUSE);
}

Test(router_route, numkeys_commands)
{
    route("ZUNIONSTORE d:1 2 z:4 z:7");
    cr_assert_eq(R.kind, RT_SINGLE);
    cr_assert_eq(R.shard, 1);
    route("ZUNIONSTORE d:0 2 z:4 z:7"); /* the destination counts too */
    cr_assert_eq(R.kind, RT_REFUSE);
    route("ZUNION 2 z:4 z:5");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("ZUNION 3 z:4 z:5");
    cr_assert_eq(R.kind, RT_REFUSE);
    cr_assert(strstr(buf_head(&R.out), "Number of keys") != NULL);
    route("SINTERCARD 2 s:1 s:4 LIMIT 3");
    cr_assert_eq(R.kind, RT_SINGLE);
}

Test(router_route, mget_split_and_merge_in_client_order)
{
    route("MGET k:1 k:2 k:4 k:3 k:5");
    cr_assert_eq(R.kind, RT_SPLIT);
    cr_assert_eq(R.merge, RT_MERGE_ARRAY);
    cr_assert_eq(R.nparts, 3);
    /* shards in order of first appearance: 1 (k:1 k:4), 2 (k:2 k:5), 0 (k:3) */
    cr_assert_eq(R.parts[0].shard, 1);
    cr_assert_eq(R.parts[0].nkeys, 2);
    cr_assert_eq(R.parts[1].shard, 2);
    cr_assert_eq(R.parts[2].shard, 0);
    struct buf b;
    buf_init(&b);
    rt_route_write_part(&R, 0, N, A, &b);
    const char *want = "*3\r\n$4\r\nMGET\r\n$3\r\nk:1\r\n$3\r\nk:4\r\n";
    cr_assert(buf_pending(&b) == strlen(want) && memcmp(buf_head(&b), want, strlen(want)) == 0);
    buf_deinit(&b);
    const char *replies[] = {"*2\r\n$2\r\nv1\r\n$2\r\nv4\r\n", "*2\r\n$-1\r\n$2\r\nv5\r\n", "*1\r\n$2\r\nv3\r\n"};
    size_t lens[] = {strlen(replies[0]), strlen(replies[1]), strlen(replies[2])};
    struct buf out;
    buf_init(&out);
    rt_merge(&R, replies, lens, 3, &out);
    const char *m = "*5\r\n$2\r\nv1\r\n$-1\r\n$2\r\nv4\r\n$2\r\nv3\r\n$2\r\nv5\r\n";
    cr_assert(buf_pending(&out) == strlen(m) && memcmp(buf_head(&out), m, strlen(m)) == 0, "%.*s",
              (int)buf_pending(&out), buf_head(&out));
    buf_deinit(&out);
}

/* Elements that are not plain bulk strings (empty, RESP3 null, integers,
 * arrays, a bulk string whose bytes hold CRLF or look like a header) are
 * found by the general parser; shapes that are wrong stay an error. */
Test(router_route, mget_merge_of_every_element_kind)
{
    route("MGET k:1 k:2 k:4 k:3 k:5");
    const char *replies[] = {"*2\r\n$0\r\n\r\n$10\r\n$3\r\nab\r\n\r\n\r\n", "*2\r\n_\r\n*2\r\n:1\r\n$-1\r\n",
                             "*1\r\n:42\r\n"};
    size_t lens[] = {strlen(replies[0]), strlen(replies[1]), strlen(replies[2])};
    struct buf out;
    buf_init(&out);
    rt_merge(&R, replies, lens, 3, &out);
    const char *m = "*5\r\n$0\r\n\r\n_\r\n$10\r\n$3\r\nab\r\n\r\n\r\n:42\r\n*2\r\n:1\r\n$-1\r\n";
    cr_assert(buf_pending(&out) == strlen(m) && memcmp(buf_head(&out), m, strlen(m)) == 0, "%.*s",
              (int)buf_pending(&out), buf_head(&out));
    buf_deinit(&out);
    /* a bulk length running past the reply, and one written with a leading zero */
    const char *bad[][3] = {{"*2\r\n$2\r\nv1\r\n$9\r\nv4\r\n", "*2\r\n$-1\r\n$2\r\nv5\r\n", "*1\r\n$2\r\nv3\r\n"},
                            {"*2\r\n$02\r\nv1\r\n$2\r\nv4\r\n", "*2\r\n$-1\r\n$2\r\nv5\r\n", "*1\r\n$2\r\nv3\r\n"}};
    for (int b = 0; b < 2; b++) {
        size_t bl[] = {strlen(bad[b][0]), strlen(bad[b][1]), strlen(bad[b][2])};
        struct resp_reply rr;
        resp_reply_init(&rr);
        bool generic_ok = resp_reply_parse(&rr, bad[b][0], bl[0]) == (ssize_t)bl[0];
        buf_init(&out);
        rt_merge(&R, bad[b], bl, 3, &out);
        /* the merge says what the general parser says of the same reply */
        cr_assert_eq(buf_head(&out)[0] == '-', !generic_ok, "%d: %.*s", b, (int)buf_pending(&out), buf_head(&out));
        buf_deinit(&out);
    }
}

Test(router_route, mget_on_one_shard_is_passed_through)
{
    route("MGET a:1 b:4 {x:7}y");
    cr_assert_eq(R.kind, RT_SINGLE);
    cr_assert_eq(R.shard, 1);
}

Test(router_route, mset_split_by_pairs_and_ok)
{
    route("MSET k:1 a k:2 b k:4 c");
    cr_assert_eq(R.kind, RT_SPLIT);
    cr_assert_eq(R.merge, RT_MERGE_OK);
    cr_assert_eq(R.step, 2);
    struct buf b;
    buf_init(&b);
    rt_route_write_part(&R, 0, N, A, &b);
    const char *want = "*5\r\n$4\r\nMSET\r\n$3\r\nk:1\r\n$1\r\na\r\n$3\r\nk:4\r\n$1\r\nc\r\n";
    cr_assert(buf_pending(&b) == strlen(want) && memcmp(buf_head(&b), want, strlen(want)) == 0, "%.*s",
              (int)buf_pending(&b), buf_head(&b));
    buf_deinit(&b);
    const char *ok[] = {"+OK\r\n", "+OK\r\n"};
    size_t l[] = {5, 5};
    struct buf out;
    buf_init(&out);
    rt_merge(&R, ok, l, 2, &out);
    cr_assert(buf_pending(&out) == 5 && memcmp(buf_head(&out), "+OK\r\n", 5) == 0);
    /* an error from one shard is the answer */
    const char *bad[] = {"+OK\r\n", "-OOM no room\r\n"};
    size_t bl[] = {5, 14};
    out.off = out.len = 0;
    rt_merge(&R, bad, bl, 2, &out);
    cr_assert(buf_pending(&out) == 14 && memcmp(buf_head(&out), "-OOM", 4) == 0);
    buf_deinit(&out);
    route("MSET k:1 a k:2");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("MSETNX k:1 a k:2 b"); /* atomic: not split */
    cr_assert_eq(R.kind, RT_REFUSE);
}

Test(router_route, counts_are_summed)
{
    const char *cmds[] = {"DEL a:1 a:2 a:3", "UNLINK a:1 a:2", "EXISTS a:1 a:2 a:1", "TOUCH a:0 a:1"};
    for (int i = 0; i < 4; i++) {
        route(cmds[i]);
        cr_assert_eq(R.kind, RT_SPLIT, "%s", cmds[i]);
        cr_assert_eq(R.merge, RT_MERGE_SUM);
    }
    const char *r[] = {":2\r\n", ":1\r\n"};
    size_t l[] = {4, 4};
    struct buf out;
    buf_init(&out);
    rt_merge(&R, r, l, 2, &out);
    cr_assert(buf_pending(&out) == 4 && memcmp(buf_head(&out), ":3\r\n", 4) == 0);
    buf_deinit(&out);
}

Test(router_route, fan_out)
{
    route("DBSIZE");
    cr_assert_eq(R.kind, RT_FANOUT);
    cr_assert_eq(R.merge, RT_MERGE_SUM);
    route("FLUSHALL");
    cr_assert_eq(R.merge, RT_MERGE_OK);
    route("KEYS *");
    cr_assert_eq(R.merge, RT_MERGE_CONCAT);
    R.nparts = 2;
    const char *r[] = {"*1\r\n$1\r\na\r\n", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"};
    size_t l[] = {strlen(r[0]), strlen(r[1])};
    struct buf out;
    buf_init(&out);
    rt_merge(&R, r, l, 2, &out);
    const char *m = "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
    cr_assert(buf_pending(&out) == strlen(m) && memcmp(buf_head(&out), m, strlen(m)) == 0);
    buf_deinit(&out);
}

Test(router_route, scan_walks_the_shards_in_turn)
{
    route("SCAN 0 MATCH u:* COUNT 10");
    cr_assert_eq(R.kind, RT_SCAN);
    cr_assert_eq(R.scan_shard, 0);
    cr_assert_eq(R.scan_cursor, 0);
    route("SCAN 1793 COUNT 10"); /* 7 << 8 | 1 */
    cr_assert_eq(R.scan_shard, 1);
    cr_assert_eq(R.scan_cursor, 7);
    struct buf b;
    buf_init(&b);
    rt_route_write_scan(&R, N, A, &b);
    const char *want = "*4\r\n$4\r\nSCAN\r\n$1\r\n7\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n";
    cr_assert(buf_pending(&b) == strlen(want) && memcmp(buf_head(&b), want, strlen(want)) == 0);
    /* the shard says 12: the router's cursor is 12 << 8 | 1 */
    R.nparts = 3;
    const char *r1[] = {"*2\r\n$2\r\n12\r\n*1\r\n$1\r\na\r\n"};
    size_t l1[] = {strlen(r1[0])};
    struct buf out;
    buf_init(&out);
    rt_merge(&R, r1, l1, 1, &out);
    const char *m1 = "*2\r\n$4\r\n3073\r\n*1\r\n$1\r\na\r\n";
    cr_assert(buf_pending(&out) == strlen(m1) && memcmp(buf_head(&out), m1, strlen(m1)) == 0, "%.*s",
              (int)buf_pending(&out), buf_head(&out));
    /* the shard is done: on to shard 2 */
    const char *r2[] = {"*2\r\n$1\r\n0\r\n*0\r\n"};
    size_t l2[] = {strlen(r2[0])};
    out.off = out.len = 0;
    rt_merge(&R, r2, l2, 1, &out);
    cr_assert(buf_pending(&out) == 15 && memcmp(buf_head(&out), "*2\r\n$1\r\n2\r\n*0\r\n", 15) == 0);
    /* the last shard is done: 0 */
    R.scan_shard = 2;
    out.off = out.len = 0;
    rt_merge(&R, r2, l2, 1, &out);
    cr_assert(buf_pending(&out) == 15 && memcmp(buf_head(&out), "*2\r\n$1\r\n0\r\n*0\r\n", 15) == 0);
    buf_deinit(&out);
    buf_deinit(&b);
}

/* EVAL / EVALSHA / FCALL: routed by their numkeys keys, whether or not the
 * command table has them yet (they are matched by name). */
Test(router_route, scripts_by_numkeys)
{
    route("EVAL return 2 k:1 {k:1}x arg");
    cr_assert_eq(R.kind, RT_SINGLE);
    cr_assert_eq(R.shard, 1);
    cr_assert(R.write);
    cr_assert_eq(R.nkeys, 2);
    route("evalsha_ro abc 1 k:2 arg:1");
    cr_assert_eq(R.kind, RT_SINGLE);
    cr_assert_eq(R.shard, 2);
    cr_assert(!R.write);
    route("FCALL f 2 k:1 k:2");
    cr_assert_eq(R.kind, RT_REFUSE);
    cr_assert(memcmp(buf_head(&R.out), "-CROSSSLOT ", 11) == 0);
    route("EVAL return 0");
    cr_assert_eq(R.kind, RT_REFUSE);
    cr_assert(strstr(buf_head(&R.out), "without keys") != NULL);
    route("EVAL return 3 k:1");
    out_is("-ERR Number of keys can't be greater than number of args\r\n");
    route("EVAL return -1");
    out_is("-ERR Number of keys can't be negative\r\n");
    route("EVAL return x");
    out_is("-ERR value is not an integer or out of range\r\n");
    route("EVAL x");
    out_is("-ERR wrong number of arguments for 'eval' command\r\n");
    route("EVAL return 1 none:1");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("SCRIPT LOAD return");
    cr_assert_eq(R.kind, RT_FANOUT);
    cr_assert_eq(R.merge, RT_MERGE_NONE);
    route("FUNCTION FLUSH");
    cr_assert_eq(R.kind, RT_FANOUT);
    route("SCRIPT KILL");
    cr_assert_eq(R.kind, RT_REFUSE);
    /* merge of SCRIPT LOAD: the first shard's sha, unless one answers an error */
    const char *rep[2] = {"$3\r\nabc\r\n", "$3\r\nabc\r\n"};
    size_t len[2] = {9, 9};
    struct buf out;
    buf_init(&out);
    route("SCRIPT LOAD return");
    rt_merge(&R, rep, len, 2, &out);
    cr_assert(buf_pending(&out) == 9 && memcmp(buf_head(&out), "$3\r\nabc\r\n", 9) == 0);
    rep[1] = "-ERR x\r\n";
    len[1] = 8;
    buf_consume(&out, buf_pending(&out));
    rt_merge(&R, rep, len, 2, &out);
    cr_assert(buf_pending(&out) == 8 && memcmp(buf_head(&out), "-ERR x\r\n", 8) == 0);
    buf_deinit(&out);
}

/* Pub/sub: PUBLISH to every shard (receivers added), PUBSUB CHANNELS/NUMPAT
 * fanned out; (UN)SUBSCRIBE belong to the proxy's subscriber connections. */
Test(router_route, pubsub)
{
    route("PUBLISH ch msg");
    cr_assert_eq(R.kind, RT_FANOUT);
    cr_assert_eq(R.merge, RT_MERGE_SUM);
    route("PUBSUB CHANNELS");
    cr_assert_eq(R.kind, RT_FANOUT);
    cr_assert_eq(R.merge, RT_MERGE_CONCAT);
    route("PUBSUB NUMPAT");
    cr_assert_eq(R.merge, RT_MERGE_SUM);
    route("PUBSUB NUMSUB a");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("SUBSCRIBE a");
    cr_assert_eq(R.kind, RT_REFUSE);
    route("SSUBSCRIBE a");
    cr_assert_eq(R.kind, RT_REFUSE);
}
