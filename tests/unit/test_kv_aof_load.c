/*
 * test_kv_aof_load.c — the loaders of bytes from disk and from a primary:
 *
 *   aof.c      kv_aof_manifest_parse (Redis 7.0 manifests, errors naming the
 *              line), kv_aof_load_mem (the replay of every .aof file: bad
 *              bytes name the offset, a cut tail follows aof-load-truncated,
 *              a fake client that subscribed or blocked is unregistered)
 *   replica.c  kv_replica_feed (the replica's input without a socket: the
 *              handshake replies, $len + RDB, the stream; garbage drops the
 *              link)
 * Regressions from fuzz/fuzz_aof.c and fuzz/fuzz_repl.c.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/aof.h"
#include "kv/blocking.h"
#include "kv/propagate.h"
#include "kv/pubsub.h"
#include "kv/repl.h"
#include "kv/server.h"

static struct kv_server *s;
static uv_loop_t loop;
static char tmpdir[] = "/tmp/test_kv_aof_load.XXXXXX";

/* A full sync with repl-diskless-load disabled writes dbfilename in dir:
 * each test runs in a directory of its own, not the caller's (it left a
 * dump.rdb holding "hello" in the checkout, which the next kv started there
 * refused to load). */
static void setup(void)
{
    cr_assert(mkdtemp(tmpdir) && chdir(tmpdir) == 0);
    s = xcalloc(1, sizeof *s);
    conf_defaults(&kv_conf_table, &s->cfg);
    pthread_mutex_init(&s->lock, NULL);
    kv_db_init(&s->db);
    s->ndbs = (int)s->cfg.databases;
    s->dbs = xcalloc((size_t)s->ndbs, sizeof *s->dbs);
    for (int i = 0; i < s->ndbs; i++) {
        kv_db_init(&s->dbs[i]);
        s->dbs[i].id = i;
    }
    s->next_client_id = 1;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &s->cron);
    s->nworkers = 1;
    s->workers = xcalloc(1, sizeof *s->workers);
    s->workers[0].srv = s;
    s->blocking = kv_blocking_new(s, 1);
    s->pubsub = kv_pubsub_new(s, 1);
    kv_prop_init(s);
    kv_repl_init(s);
    kv_config_apply(s);
    kv_db_set_now(&s->db, util_time_ms());
}

static void teardown(void)
{
    kv_db_deinit(&s->db);
    for (int i = 0; i < s->ndbs; i++)
        kv_db_deinit(&s->dbs[i]);
    xfree(s->dbs);
    xfree(s->persist_dbs);
    kv_blocking_free(s->blocking);
    kv_pubsub_free(s->pubsub);
    kv_repl_free(s);
    kv_prop_free(s);
    conf_free(&kv_conf_table, &s->cfg);
    xfree(s->workers);
    kv_acl_free(s->acl); /* made by kv_config_apply */
    xfree(s->acl_requirepass);
    xfree(s);
    char cmd[sizeof tmpdir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (chdir("/") == 0)
        cr_assert(system(cmd) == 0);
}

TestSuite(aof_load, .init = setup, .fini = teardown);
TestSuite(replica_feed, .init = setup, .fini = teardown);

static int load(const char *text, size_t len, char *err, size_t errlen)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len);
    int rc = kv_aof_load_mem(s, copy, len, NULL, err, errlen);
    xfree(copy);
    return rc;
}
#define LOAD(lit, err) load(lit, sizeof lit - 1, err, sizeof err)

static bool has(int dbid, const char *key)
{
    return db_lookup(kv_db_get(s, dbid), key, strlen(key), LOOKUP_NOTOUCH) != NULL;
}

Test(aof_load, manifest_of_redis_7)
{
    const char *m = "file appendonly.aof.2.base.rdb seq 2 type b\n"
                    "file appendonly.aof.1.incr.aof seq 1 type h\n"
                    "file appendonly.aof.2.incr.aof seq 2 type i\n"
                    "file appendonly.aof.3.incr.aof seq 3 type i\n";
    struct kv_aof_manifest mf;
    char err[512] = "";
    cr_assert_eq(kv_aof_manifest_parse(s, m, strlen(m), "x.manifest", &mf, err, sizeof err), 0, "%s", err);
    cr_assert_eq(mf.base_seq, 2);
    cr_assert(mf.base_rdb);
    cr_assert_eq(mf.nincr, 2);
    cr_assert_eq(mf.incr[1], 3);
}

Test(aof_load, manifest_errors_name_the_line)
{
    struct kv_aof_manifest mf;
    char err[512];
    const char *bad = "file appendonly.aof.1.base.rdb seq 1 type b\nfile x seq zz type i\n";
    cr_assert_eq(kv_aof_manifest_parse(s, bad, strlen(bad), "x.manifest", &mf, err, sizeof err), -1);
    cr_assert(strstr(err, "line 2"), "%s", err);
    /* a line longer than any manifest line, and a NUL inside one */
    char longl[3000];
    memset(longl, 'a', sizeof longl);
    cr_assert_eq(kv_aof_manifest_parse(s, longl, sizeof longl, "x.manifest", &mf, err, sizeof err), -1);
    cr_assert(strstr(err, "line 1"), "%s", err);
    const char nul[] = "file appendonly.aof.1.incr.aof\0 seq 1 type i\n";
    cr_assert_eq(kv_aof_manifest_parse(s, nul, sizeof nul - 1, "x.manifest", &mf, err, sizeof err), -1);
    cr_assert(strstr(err, "line 1"), "%s", err);
}

Test(aof_load, stream_replays_and_bad_bytes_name_the_offset)
{
    char err[512] = "";
    cr_assert_eq(LOAD("*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n", err), 0, "%s", err);
    cr_assert(has(3, "a"));
    cr_assert_eq(LOAD("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGARBAGE", err), -1);
    cr_assert(strstr(err, "at offset 27"), "%s", err);
    cr_assert_eq(LOAD("*1\r\n$7\r\nNOTACMD\r\n", err), -1);
    cr_assert(strstr(err, "Unknown command 'NOTACMD'") && strstr(err, "offset 0"), "%s", err);
    cr_assert_eq(LOAD("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$x\r\nv\r\n", err), -1);
    cr_assert(strstr(err, "Bad file format") && strstr(err, "offset 0"), "%s", err);
}

Test(aof_load, truncated_tail_follows_aof_load_truncated)
{
    char err[512] = "";
    s->cfg.aof_load_truncated = false;
    cr_assert_eq(LOAD("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn", err), -1);
    cr_assert(strstr(err, "Unexpected end of file") && strstr(err, "offset 27"), "%s", err);
    s->cfg.aof_load_truncated = true;
    cr_assert_eq(LOAD("*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\nv\r\n", err), 0, "%s", err);
    cr_assert(!has(0, "m")); /* the unfinished transaction is reverted */
}

/* fuzz_aof: a file that PSUBSCRIBEs (or blocks) left the freed fake client
 * registered; a later PUBLISH wrote to freed memory. */
Test(aof_load, fake_client_unsubscribed_when_freed)
{
    char err[512] = "";
    cr_assert_eq(LOAD("*2\r\n$10\r\nPSUBSCRIBE\r\n$1\r\n*\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n", err), 0, "%s", err);
    cr_assert_eq(kv_pubsub_publish(s, NULL, "c", 1, "m", 1, false), 0);
    /* and the commands after SUBSCRIBE still run (no RESP2 pub/sub restriction) */
    cr_assert_eq(LOAD("*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n", err), 0,
                 "%s", err);
    cr_assert(has(0, "after"));
    cr_assert_eq(LOAD("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n", err), 0, "%s", err);
    cr_assert_eq(LOAD("*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\nx\r\n", err), 0, "%s", err);
    cr_assert(has(0, "q")); /* nobody was waiting any more */
}

#define FEED(lit, chunk) kv_replica_feed(s, &loop, lit, sizeof lit - 1, chunk)
#define RID "8c8e5fc1c5f2d1b8e4c0b3f0a1a2a3a4a5a6a7a8"

Test(replica_feed, stream_after_continue)
{
    cr_assert(FEED("+PONG\r\n+OK\r\n+OK\r\n+CONTINUE " RID "\r\n*3\r\n$3\r\nSET\r\n$1\r\nr\r\n$1\r\n1\r\n", 0));
    cr_assert(has(0, "r"));
    uv_run(&loop, UV_RUN_NOWAIT);
}

Test(replica_feed, garbage_drops_the_link)
{
    for (size_t chunk = 0; chunk < 4; chunk++) {
        cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+CONTINUE\r\n*3\r\n$3\r\nSET\r\n$1\r\nr\r\n$x\r\n1\r\n", chunk));
        cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " RID " 0\r\n$-1\r\n", chunk));
        cr_assert(!FEED("-ERR no\r\n", chunk));
        cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+WHAT\r\n", chunk));
        /* an RDB payload that is not an RDB */
        cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " RID " 0\r\n$5\r\nhello", chunk));
        uv_run(&loop, UV_RUN_NOWAIT);
    }
}

/* fuzz_repl: +FULLRESYNC <id> 9223372036854775807 overflowed the offset
 * (signed overflow at the next PSYNC); an offset that is not a number was 0 */
Test(replica_feed, fullresync_offset_checked)
{
    cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " RID " 9223372036854775807\r\n", 0));
    cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " RID " -1\r\n", 0));
    cr_assert(!FEED("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " RID " 12x\r\n", 0));
    cr_assert(FEED("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " RID " 12\r\n", 0)); /* waits for $len */
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* the master client has no worker to wait on: BLPOP from a primary answers
 * at once, as Redis (CLIENT_DENY_BLOCKING) */
Test(replica_feed, master_client_never_blocks)
{
    cr_assert(FEED("+PONG\r\n+OK\r\n+OK\r\n+CONTINUE\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"
                   "*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\nx\r\n",
                   0));
    cr_assert(has(0, "q"));
    uv_run(&loop, UV_RUN_NOWAIT);
}
