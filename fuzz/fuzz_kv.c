/*
 * fuzz_kv.c — libFuzzer target for the kv command path: RESP bytes → parser →
 * kv_call() dispatch → handlers on an in-memory keyspace. No sockets, no
 * threads: one server struct and one client, as a worker would hold them.
 *
 * Each input starts from an empty keyspace, default configuration and a fresh
 * RESP2 client (so the run is deterministic), then its bytes are parsed and
 * every complete command is run until the input ends, a protocol error, or
 * the client is to be closed (QUIT, CLIENT KILL of itself, a reply over the
 * output limit). Replies are dropped as they would be written. The output
 * limit is 1 MB here so that client-sized replies stop quickly.
 *
 * Any crash, leak, sanitizer report or abort() is a finding: no request may
 * reach one. Build: make fuzz; run e.g.
 *   build-fuzz/fuzz_kv -dict=fuzz/kv.dict fuzz/corpus/kv
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/util.h"
#include "fuzz_flags.h"
#include "kv/blocking.h"
#include "kv/hashobj.h"
#include "kv/multi.h"
#include "kv/pubsub.h"
#include "kv/server.h"

static struct kv_server *srv;
static struct kv_client *cl;
static uv_loop_t loop;

static void setup_once(void)
{
    srv = xcalloc(1, sizeof *srv);
    conf_defaults(&kv_conf_table, &srv->cfg);
    pthread_mutex_init(&srv->lock, NULL);
    kv_db_init(&srv->db);
    srv->db.on_modify = kv_watch_on_modify;
    srv->db.on_modify_arg = srv;
    /* blocking commands wait (no timer runs: the input ends the wait) */
    srv->blocking = kv_blocking_new(srv, 1);
    srv->db.on_add = kv_blocking_on_add;
    srv->db.on_add_arg = srv;
    /* pub/sub: messages to other clients would queue; the one client gets its own */
    srv->pubsub = kv_pubsub_new(srv, 1);
    srv->start_ms = util_time_ms();
    srv->next_client_id = 1;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &srv->cron); /* CONFIG SET hz looks at the cron timer */
    srv->nworkers = 1;
    srv->workers = xcalloc(1, sizeof *srv->workers);
    srv->workers[0].srv = srv;
    kv_config_apply(srv);
}

static void client_new(void)
{
    cl = xcalloc(1, sizeof *cl);
    cl->srv = srv;
    cl->w = &srv->workers[0];
    cl->id = srv->next_client_id++;
    cl->proto = 2;
    cl->authed = true;
    cl->last_cmd = -1;
    cl->fd = -1;
    cl->ctime_ms = cl->last_ms = util_time_ms();
    strcpy(cl->addr, "127.0.0.1:1");
    strcpy(cl->laddr, "127.0.0.1:2");
    buf_init(&cl->in);
    buf_init(&cl->out);
    buf_init(&cl->wbuf);
    resp_parser_init(&cl->parser);
    srv->registry = cl;
    srv->nclients = 1;
}

static void client_free(void)
{
    kv_multi_reset(cl); /* MULTI queue, WATCHed keys */
    kv_blocking_client_gone(cl);
    kv_pubsub_client_gone(cl);
    srv->registry = NULL;
    srv->nclients = 0;
    buf_deinit(&cl->in);
    buf_deinit(&cl->out);
    buf_deinit(&cl->wbuf);
    resp_parser_deinit(&cl->parser);
    xfree(cl->name);
    xfree(cl);
    cl = NULL;
}

/* Not run here: they fork (BGSAVE), write files (SAVE, DEBUG RELOAD) or stop the
 * server (SHUTDOWN); fuzz_rdb covers the RDB code. */
static bool skipped(const struct resp_arg *a)
{
    /* persistence forks and writes files; scripts are Turing complete:
     * `EVAL "while true do end" 0` would be a libFuzzer timeout, not a finding
     * (SCRIPT KILL needs another client). Scripts are covered by
     * fuzz/kv_diff.py and test_kv_scripting.py. */
    static const char *const names[] = {"save", "bgsave", "shutdown", "debug", "eval", "evalsha", "eval_ro",
                                        "evalsha_ro", "fcall", "fcall_ro", "function"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (util_strieq(a->ptr, a->len, names[i]))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        setup_once();
    /* a fresh state per input: empty keyspace, default configuration */
    kv_db_flush(&srv->db);
    conf_free(&kv_conf_table, &srv->cfg);
    conf_defaults(&kv_conf_table, &srv->cfg);
    srv->cfg.obl.hard = 1024 * 1024;
    kv_config_apply(srv);
    client_new();

    /* the parser may rewrite inline commands in place: give it its own copy */
    buf_append(&cl->in, data, size);
    kv_db_set_now(&srv->db, util_time_ms());
    while (!cl->close_after_reply && !cl->blk && buf_pending(&cl->in) > 0) {
        cl->parser.max_bulk = (long long)srv->cfg.proto_max_bulk_len;
        cl->parser.auth_required = !cl->authed;
        ssize_t n = resp_parse(&cl->parser, buf_head(&cl->in), buf_pending(&cl->in));
        if (n <= 0)
            break;
        if (!skipped(&cl->parser.argv[0]))
            kv_call(cl, cl->parser.argc, cl->parser.argv);
        buf_consume(&cl->in, (size_t)n);
        buf_consume(&cl->out, buf_pending(&cl->out)); /* "written" */
    }
    client_free();
    /* Empty the keyspace at the end of the input too: values hold their
     * pointers unaligned (obj_set_ptr), which LeakSanitizer does not scan,
     * so what the last input left in it would be reported as a leak when
     * the process exits (a false finding at the end of every -runs=N
     * campaign whose last input kept an aggregate, e.g. a stream). */
    kv_db_flush(&srv->db);
    return 0;
}
