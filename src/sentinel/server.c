/*
 * server.c — the sentinel's client side and main: the listener, the commands
 * clients and other sentinels send (PING, SENTINEL ..., SUBSCRIBE/PSUBSCRIBE,
 * INFO, ROLE), the delivery of events to subscribers, and the loop.
 *
 * Replies follow Redis 7.0 Sentinel's shapes: SENTINEL masters/master/replicas/
 * sentinels are arrays of field/value pairs with Redis's field names,
 * get-master-addr-by-name is [ip, port] or a null array, and events arrive
 * as pub/sub messages on a channel named after the event. RESP2 only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "core/net.h"
#include "core/rand.h"
#include "core/util.h"
#include "net/conn.h"
#include "net/server.h"
#include "proto/resp.h"
#include "sentinel/sentinel.h"

#define CLIENT_MAX_IN (1024 * 1024)   /* a command larger than this closes the client */
#define CLIENT_MAX_SUBS 1024
#define CLIENT_MAX_OUT (32 * 1024 * 1024)   /* unsent replies/events beyond this close the client */

struct client {
    uv_tcp_t tcp;
    struct buf in;
    struct net_out out; /* replies and messages on their way (net/conn.h) */
    struct resp_parser p;
    char **chans, **pats;
    int nchans, npats;
    bool closing;
    struct client *prev, *next;
};

static struct client *clients;
static uv_tcp_t listener;
static long long start_ms;
static int nclients;

/* ---- writing ----------------------------------------------------------- */

static void client_close(struct client *c);

static void client_flush(struct client *c);

static void write_cb(uv_write_t *w, int status)
{
    struct client *c = w->data;
    net_out_written(&c->out);
    if (c->closing)
        return;
    if (status < 0)
        client_close(c);
    else
        client_flush(c); /* what was queued meanwhile */
}

static void client_flush(struct client *c)
{
    if (net_out_flush((uv_stream_t *)&c->tcp, &c->out, c, write_cb) < 0)
        client_close(c);
}

static void client_send(struct client *c, struct buf *b)
{
    if (c->closing || buf_pending(b) == 0)
        return;
    size_t unsent = net_conn_backlog(&c->out.out, &c->out.wbuf);
    if (unsent > CLIENT_MAX_OUT) {
        /* a subscriber that does not read: drop it (Redis's pubsub output limit) */
        log_warn("closing a client with %zu bytes unsent", unsent);
        client_close(c);
        return;
    }
    buf_append(&c->out.out, buf_head(b), buf_pending(b));
    buf_deinit(b);
    buf_init(b);
    client_flush(c);
}

static void client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    XFREE_VEC(c->chans, c->nchans);
    XFREE_VEC(c->pats, c->npats);
    buf_deinit(&c->in);
    net_out_deinit(&c->out);
    resp_parser_deinit(&c->p);
    xfree(c);
}

static void client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    LIST_REMOVE(clients, c, prev, next);
    nclients--;
    uv_close((uv_handle_t *)&c->tcp, client_closed);
}

/* ---- events -------------------------------------------------------------- */

/* events to our own subscribers (the monitor's ops->publish) */
static void snt_publish(const char *channel, const char *payload)
{
    size_t cl = strlen(channel), pl = strlen(payload);
    for (struct client *c = clients; c; c = c->next) {
        struct buf b;
        buf_init(&b);
        for (int i = 0; i < c->nchans; i++)
            if (strcmp(c->chans[i], channel) == 0) {
                resp_add_array(&b, 3);
                resp_add_bulk(&b, "message", 7);
                resp_add_bulk(&b, channel, cl);
                resp_add_bulk(&b, payload, pl);
            }
        for (int i = 0; i < c->npats; i++)
            if (util_glob_match(c->pats[i], strlen(c->pats[i]), channel, cl, false)) {
                resp_add_array(&b, 4);
                resp_add_bulk(&b, "pmessage", 8);
                resp_add_bulk_cstr(&b, c->pats[i]);
                resp_add_bulk(&b, channel, cl);
                resp_add_bulk(&b, payload, pl);
            }
        client_send(c, &b);
        buf_deinit(&b);
    }
}

/* ---- replies about instances ------------------------------------------------ */

static void pair_str(struct buf *b, int *n, const char *k, const char *v)
{
    resp_add_bulk_cstr(b, k);
    resp_add_bulk_cstr(b, v);
    (*n)++;
}

static void pair_ll(struct buf *b, int *n, const char *k, long long v)
{
    resp_add_bulk_cstr(b, k);
    resp_add_bulk_ll(b, v);
    (*n)++;
}

static void add_instance(struct buf *out, const struct snt_inst *i)
{
    long long now = util_time_ms();
    struct buf b, flags;
    buf_init(&flags);
    const struct snt_master *m = i->kind == SNT_MASTER ? (const struct snt_master *)i : i->m;
    buf_init(&b);
    int n = 0;
    char name[96];
    snt_inst_name(i, name, sizeof name);
    pair_str(&b, &n, "name", name);
    pair_str(&b, &n, "ip", i->host);
    pair_ll(&b, &n, "port", i->port);
    pair_str(&b, &n, "runid", i->runid);
    snt_inst_flags(i, &flags);
    buf_putc(&flags, 0);
    pair_str(&b, &n, "flags", buf_head(&flags));
    pair_ll(&b, &n, "link-pending-commands", i->cmd ? i->cmd->qn : 0);
    pair_ll(&b, &n, "link-refcount", 1);
    if (i->kind == SNT_MASTER && m->fo != SNT_FO_NONE)
        pair_str(&b, &n, "failover-state", snt_fo_state_name(m->fo));
    pair_ll(&b, &n, "last-ping-sent", i->ping_sent_ms ? now - i->ping_sent_ms : 0);
    pair_ll(&b, &n, "last-ok-ping-reply", now - i->last_avail_ms);
    pair_ll(&b, &n, "last-ping-reply", now - i->last_pong_ms);
    if (i->sdown_since_ms)
        pair_ll(&b, &n, "s-down-time", now - i->sdown_since_ms);
    if (i->kind == SNT_MASTER && m->odown_since_ms)
        pair_ll(&b, &n, "o-down-time", now - m->odown_since_ms);
    pair_ll(&b, &n, "down-after-milliseconds", m->down_after_ms);
    if (i->kind != SNT_SENTINEL) {
        pair_ll(&b, &n, "info-refresh", i->last_info_ms ? now - i->last_info_ms : 0);
        pair_str(&b, &n, "role-reported", i->kind == SNT_MASTER ? (i->role[0] ? i->role : "master") : (i->role[0] ? i->role : "slave"));
        pair_ll(&b, &n, "role-reported-time", now - (i->role_time_ms ? i->role_time_ms : i->created_ms));
    }
    if (i->kind == SNT_MASTER) {
        pair_ll(&b, &n, "config-epoch", m->config_epoch);
        pair_ll(&b, &n, "num-slaves", m->nreplicas);
        pair_ll(&b, &n, "num-other-sentinels", m->nsentinels);
        pair_ll(&b, &n, "quorum", m->quorum);
        pair_ll(&b, &n, "failover-timeout", m->failover_timeout_ms);
        pair_ll(&b, &n, "parallel-syncs", m->parallel_syncs);
    } else if (i->kind == SNT_REPLICA) {
        pair_ll(&b, &n, "master-link-down-time", i->mlink_down_since_ms && !i->mlink_up ? now - i->mlink_down_since_ms : 0);
        pair_str(&b, &n, "master-link-status", i->mlink_up ? "ok" : "err");
        pair_str(&b, &n, "master-host", i->mhost[0] ? i->mhost : "?");
        pair_ll(&b, &n, "master-port", i->mport);
        pair_ll(&b, &n, "slave-priority", i->priority);
        pair_ll(&b, &n, "slave-repl-offset", i->offset);
        pair_ll(&b, &n, "replica-announced", 1);
    } else {
        pair_ll(&b, &n, "last-hello-message", i->last_hello_ms ? now - i->last_hello_ms : 0);
        pair_str(&b, &n, "voted-leader", i->leader[0] ? i->leader : "?");
        pair_ll(&b, &n, "voted-leader-epoch", i->leader_epoch);
    }
    resp_add_array(out, 2LL * n);
    buf_append(out, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
    buf_deinit(&flags);
}

/* ---- commands --------------------------------------------------------------- */

static bool argeq(const struct resp_arg *a, const char *s)
{
    return util_strieq(a->ptr, a->len, s);
}

static void add_err_arity(struct buf *o, const struct resp_arg *a)
{
    resp_add_errorf(o, "ERR wrong number of arguments for '%.*s' command", (int)(a->len > 64 ? 64 : a->len), a->ptr);
}

static struct snt_master *master_or_reply(struct buf *o, const struct resp_arg *a)
{
    struct snt_master *m = snt_master_by_name(a->ptr, a->len);
    if (!m)
        resp_add_error(o, "ERR No such master with that name", 33);
    return m;
}

static void cmd_sentinel(struct buf *o, int argc, const struct resp_arg *argv)
{
    if (argc < 2) {
        add_err_arity(o, &argv[0]);
        return;
    }
    const struct resp_arg *sub = &argv[1];
    if (argeq(sub, "get-master-addr-by-name") && argc == 3) {
        struct snt_master *m = snt_master_by_name(argv[2].ptr, argv[2].len);
        if (!m) {
            resp_add_null_array(o, 2);
            return;
        }
        const struct snt_inst *cur = snt_current_addr(m);
        resp_add_array(o, 2);
        resp_add_bulk_cstr(o, cur->host);
        resp_add_bulk_ll(o, cur->port);
    } else if (argeq(sub, "masters") && argc == 2) {
        resp_add_array(o, snt.nmasters);
        for (int k = 0; k < snt.nmasters; k++)
            add_instance(o, &snt.masters[k]->self);
    } else if (argeq(sub, "master") && argc == 3) {
        struct snt_master *m = master_or_reply(o, &argv[2]);
        if (m)
            add_instance(o, &m->self);
    } else if ((argeq(sub, "replicas") || argeq(sub, "slaves")) && argc == 3) {
        struct snt_master *m = master_or_reply(o, &argv[2]);
        if (!m)
            return;
        resp_add_array(o, m->nreplicas);
        for (int k = 0; k < m->nreplicas; k++)
            add_instance(o, m->replicas[k]);
    } else if (argeq(sub, "sentinels") && argc == 3) {
        struct snt_master *m = master_or_reply(o, &argv[2]);
        if (!m)
            return;
        resp_add_array(o, m->nsentinels);
        for (int k = 0; k < m->nsentinels; k++)
            add_instance(o, m->sentinels[k]);
    } else if (argeq(sub, "ckquorum") && argc == 3) {
        struct snt_master *m = master_or_reply(o, &argv[2]);
        if (!m)
            return;
        int usable = snt_usable_sentinels(m), voters = m->nsentinels + 1;
        if (usable < m->quorum)
            resp_add_errorf(o, "NOQUORUM %d usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master",
                            usable);
        else if (usable < voters / 2 + 1)
            resp_add_errorf(o, "NOQUORUM %d usable Sentinels. Not enough available Sentinels to reach the majority and authorize a failover",
                            usable);
        else {
            char msg[160];
            int len = snprintf(msg, sizeof msg, "OK %d usable Sentinels. Quorum and failover authorization can be reached", usable);
            resp_add_simple(o, msg, (size_t)len);
        }
    } else if (argeq(sub, "failover") && argc == 3) {
        struct snt_master *m = master_or_reply(o, &argv[2]);
        if (!m)
            return;
        char err[128];
        if (snt_force_failover(m, err, sizeof err) != 0)
            resp_add_error(o, err, strlen(err));
        else
            resp_add_ok(o);
    } else if (argeq(sub, "reset") && argc == 3) {
        resp_add_int(o, snt_reset(argv[2].ptr, argv[2].len));
    } else if (argeq(sub, "is-master-down-by-addr") && argc == 6) {
        char host[64];
        long long port, epoch;
        if (argv[2].len >= sizeof host || !util_str2ll(argv[3].ptr, argv[3].len, &port) ||
            !util_str2ll(argv[4].ptr, argv[4].len, &epoch)) {
            resp_add_error(o, "ERR value is not an integer or out of range", 43);
            return;
        }
        memcpy(host, argv[2].ptr, argv[2].len);
        host[argv[2].len] = 0;
        struct snt_master *m = snt_master_by_addr(host, (int)port);
        const char *leader = NULL;
        long long lepoch = 0;
        if (m && !(argv[5].len == 1 && argv[5].ptr[0] == '*') && argv[5].len == 40) {
            char runid[41];
            memcpy(runid, argv[5].ptr, 40);
            runid[40] = 0;
            leader = snt_vote(m, epoch, runid, &lepoch);
        }
        resp_add_array(o, 3);
        resp_add_int(o, m && snt_inst_sdown(&m->self) ? 1 : 0);
        resp_add_bulk_cstr(o, leader ? leader : "*");
        resp_add_int(o, lepoch);
    } else if (argeq(sub, "myid") && argc == 2) {
        resp_add_bulk_cstr(o, snt.myid);
    } else {
        resp_add_errorf(o, "ERR Unknown sentinel subcommand '%.*s'", (int)(sub->len > 64 ? 64 : sub->len), sub->ptr);
    }
}

static void cmd_info(struct buf *o, int argc, const struct resp_arg *argv)
{
    struct buf t;
    buf_init(&t);
    bool all = argc < 2 || argeq(&argv[1], "all") || argeq(&argv[1], "default") || argeq(&argv[1], "everything");
    if (all || argeq(&argv[1], "server"))
        buf_printf(&t, "# Server\r\nscaleout_version:0.1.0\r\nredis_mode:sentinel\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\nuptime_in_seconds:%lld\r\n\r\n",
                   (int)getpid(), snt.myid, (int)snt.cf->port, (util_time_ms() - start_ms) / 1000);
    if (all || argeq(&argv[1], "clients"))
        buf_printf(&t, "# Clients\r\nconnected_clients:%d\r\n\r\n", nclients);
    if (all || argeq(&argv[1], "sentinel")) {
        buf_printf(&t, "# Sentinel\r\nsentinel_masters:%d\r\nsentinel_tilt:0\r\nsentinel_running_scripts:0\r\n"
                       "sentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n", snt.nmasters);
        for (int k = 0; k < snt.nmasters; k++) {
            struct snt_master *m = snt.masters[k];
            buf_printf(&t, "master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d\r\n", k, m->name,
                       m->odown_since_ms ? "odown" : snt_inst_sdown(&m->self) ? "sdown" : "ok", m->self.host, m->self.port,
                       m->nreplicas, m->nsentinels + 1);
        }
    }
    while (buf_pending(&t) >= 2 && buf_head(&t)[buf_pending(&t) - 1] == '\n' && buf_head(&t)[buf_pending(&t) - 3] == '\n')
        t.len -= 2;
    resp_add_bulk(o, buf_head(&t), buf_pending(&t));
    buf_deinit(&t);
}

static int sub_add(char ***list, int *n, const struct resp_arg *a)
{
    for (int i = 0; i < *n; i++)
        if (strlen((*list)[i]) == a->len && memcmp((*list)[i], a->ptr, a->len) == 0)
            return 0;
    if (*n >= CLIENT_MAX_SUBS)
        return 0;
    *list = xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
    (*list)[(*n)++] = xstrndup(a->ptr, a->len);
    return 1;
}

static void sub_del(char ***list, int *n, const char *s, size_t len)
{
    for (int i = 0; i < *n; i++)
        if (strlen((*list)[i]) == len && memcmp((*list)[i], s, len) == 0) {
            xfree((*list)[i]);
            (*list)[i] = (*list)[--*n];
            return;
        }
}

static void cmd_subscribe(struct client *c, struct buf *o, int argc, const struct resp_arg *argv, bool pattern)
{
    if (argc < 2) {
        add_err_arity(o, &argv[0]);
        return;
    }
    for (int i = 1; i < argc; i++) {
        if (pattern)
            sub_add(&c->pats, &c->npats, &argv[i]);
        else
            sub_add(&c->chans, &c->nchans, &argv[i]);
        resp_add_array(o, 3);
        resp_add_bulk_cstr(o, pattern ? "psubscribe" : "subscribe");
        resp_add_bulk(o, argv[i].ptr, argv[i].len);
        resp_add_int(o, c->nchans + c->npats);
    }
}

static void cmd_unsubscribe(struct client *c, struct buf *o, int argc, const struct resp_arg *argv, bool pattern)
{
    char ***list = pattern ? &c->pats : &c->chans;
    int *n = pattern ? &c->npats : &c->nchans;
    const char *kind = pattern ? "punsubscribe" : "unsubscribe";
    if (argc < 2) {
        if (*n == 0) {
            resp_add_array(o, 3);
            resp_add_bulk_cstr(o, kind);
            resp_add_null(o, 2);
            resp_add_int(o, c->nchans + c->npats);
        }
        while (*n > 0) {
            char *s = (*list)[0];
            resp_add_array(o, 3);
            resp_add_bulk_cstr(o, kind);
            resp_add_bulk_cstr(o, s);
            sub_del(list, n, s, strlen(s));
            resp_add_int(o, c->nchans + c->npats);
        }
        return;
    }
    for (int i = 1; i < argc; i++) {
        sub_del(list, n, argv[i].ptr, argv[i].len);
        resp_add_array(o, 3);
        resp_add_bulk_cstr(o, kind);
        resp_add_bulk(o, argv[i].ptr, argv[i].len);
        resp_add_int(o, c->nchans + c->npats);
    }
}

/* Returns false when the client is to be closed after the reply. */
static bool dispatch(struct client *c, struct buf *o, int argc, const struct resp_arg *argv)
{
    const struct resp_arg *a = &argv[0];
    bool subscribed = c->nchans + c->npats > 0;
    if (argeq(a, "ping")) {
        if (subscribed) {
            resp_add_array(o, 2);
            resp_add_bulk_cstr(o, "pong");
            resp_add_bulk(o, argc > 1 ? argv[1].ptr : "", argc > 1 ? argv[1].len : 0);
        } else if (argc > 1)
            resp_add_bulk(o, argv[1].ptr, argv[1].len);
        else
            resp_add_simple(o, "PONG", 4);
    } else if (argeq(a, "subscribe") || argeq(a, "psubscribe")) {
        cmd_subscribe(c, o, argc, argv, argeq(a, "psubscribe"));
    } else if (argeq(a, "unsubscribe") || argeq(a, "punsubscribe")) {
        cmd_unsubscribe(c, o, argc, argv, argeq(a, "punsubscribe"));
    } else if (subscribed) {
        resp_add_errorf(o, "ERR Can't execute '%.*s': only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                        (int)(a->len > 64 ? 64 : a->len), a->ptr);
    } else if (argeq(a, "sentinel")) {
        cmd_sentinel(o, argc, argv);
    } else if (argeq(a, "info")) {
        cmd_info(o, argc, argv);
    } else if (argeq(a, "role")) {
        resp_add_array(o, 2);
        resp_add_bulk_cstr(o, "sentinel");
        resp_add_array(o, snt.nmasters);
        for (int k = 0; k < snt.nmasters; k++)
            resp_add_bulk_cstr(o, snt.masters[k]->name);
    } else if (argeq(a, "client")) {
        if (argc >= 2 && argeq(&argv[1], "getname"))
            resp_add_null(o, 2);
        else
            resp_add_ok(o);
    } else if (argeq(a, "quit")) {
        resp_add_ok(o);
        return false;
    } else if (argeq(a, "command")) {
        resp_add_array(o, 0);
    } else {
        struct buf args;
        buf_init(&args);
        for (int i = 1; i < argc && buf_pending(&args) < 128; i++)
            buf_printf(&args, "'%.*s' ", (int)(argv[i].len > 64 ? 64 : argv[i].len), argv[i].ptr);
        resp_add_errorf(o, "ERR unknown command '%.*s', with args beginning with: %.*s", (int)(a->len > 64 ? 64 : a->len), a->ptr,
                        (int)buf_pending(&args), buf_head(&args));
        buf_deinit(&args);
    }
    return true;
}

static void client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct client *c = h->data;
    buf_reserve(&c->in, 16384);
    b->base = buf_tail(&c->in);
    b->len = buf_room(&c->in);
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct client *c = s->data;
    if (nread < 0) {
        client_close(c);
        return;
    }
    c->in.len += (size_t)nread;
    struct buf out;
    buf_init(&out);
    bool keep = true;
    while (keep && buf_pending(&c->in) > 0) {
        ssize_t n = resp_parse(&c->p, buf_head(&c->in), buf_pending(&c->in));
        if (n == RESP_ERR) {
            resp_add_error(&out, c->p.err, strlen(c->p.err));
            keep = false;
            break;
        }
        if (n == 0) {
            if (buf_pending(&c->in) > CLIENT_MAX_IN) {
                resp_add_error(&out, RESP_EMSG_BIG_INLINE, strlen(RESP_EMSG_BIG_INLINE));
                keep = false;
            }
            break;
        }
        keep = dispatch(c, &out, c->p.argc, c->p.argv);
        buf_consume(&c->in, (size_t)n);
    }
    client_send(c, &out);
    buf_deinit(&out);
    if (!keep)
        client_close(c);
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0)
        return;
    struct client *c = xcalloc(1, sizeof *c);
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    buf_init(&c->in);
    net_out_init(&c->out);
    resp_parser_init(&c->p);
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, client_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    LIST_PUSH(clients, c, prev, next);
    nclients++;
    uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read);
}

/* ---- writing the state back ---------------------------------------------------- */

static char *conf_path;   /* --config FILE, NULL when started from flags only */
static char *conf_text;   /* the file as loaded */

/* Write the current epoch, this sentinel's id, each master's address and
 * config epoch back into the config file, when started with --config (a
 * no-op otherwise): the monitor's ops->persist. */
static void snt_persist(void)
{
    if (!conf_path || !conf_text)
        return;
    struct buf out;
    buf_init(&out);
    const char *p = conf_text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, n), *copy = xstrndup(p, n), *w[8];
        int nw = conf_split(copy, w, 8);
        bool sent = nw >= 2 && strcasecmp(w[0], "sentinel") == 0;
        if (sent && (strcasecmp(w[1], "myid") == 0 || strcasecmp(w[1], "current-epoch") == 0 ||
                     strcasecmp(w[1], "config-epoch") == 0 || strcasecmp(w[1], "known-replica") == 0 ||
                     strcasecmp(w[1], "known-sentinel") == 0)) {
            /* rewritten at the end */
        } else if (sent && nw == 6 && strcasecmp(w[1], "monitor") == 0 && snt_master_by_name(w[2], strlen(w[2]))) {
            const struct snt_master *m = snt_master_by_name(w[2], strlen(w[2]));
            buf_printf(&out, "sentinel monitor %s %s %d %d\n", m->name, m->self.host, m->self.port, m->quorum);
        } else {
            buf_printf(&out, "%s\n", line);
        }
        xfree(line);
        xfree(copy);
        p = nl ? nl + 1 : p + n;
    }
    buf_printf(&out, "sentinel myid %s\nsentinel current-epoch %lld\n", snt.myid, snt.current_epoch);
    for (int k = 0; k < snt.nmasters; k++) {
        const struct snt_master *m = snt.masters[k];
        if (m->config_epoch)
            buf_printf(&out, "sentinel config-epoch %s %lld\n", m->name, m->config_epoch);
        for (int j = 0; j < m->nreplicas; j++)
            buf_printf(&out, "sentinel known-replica %s %s %d\n", m->name, m->replicas[j]->host, m->replicas[j]->port);
        for (int j = 0; j < m->nsentinels; j++)
            if (strlen(m->sentinels[j]->runid) == 40)
                buf_printf(&out, "sentinel known-sentinel %s %s %d %s\n", m->name, m->sentinels[j]->host,
                           m->sentinels[j]->port, m->sentinels[j]->runid);
    }
    char tmp[4096], err[256];
    snprintf(tmp, sizeof tmp, "%s.tmp", conf_path);
    if (util_write_file(tmp, buf_head(&out), buf_pending(&out), err, sizeof err) != 0 || rename(tmp, conf_path) != 0)
        log_warn("cannot write the state back to %s: %s", conf_path, err);
    buf_deinit(&out);
}

/* ---- main ------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t) { snt_monitor_tick(); }

static void on_signal(uv_signal_t *s, int signum)
{
    log_notice("signal %d: exiting", signum);
    uv_stop(s->loop);
}

int sentinel_main(int argc, char **argv)
{
    if (net_server_help_asked(argc, argv)) {
        net_server_usage(stdout, &snt_conf_table, "usage: scaleout sentinel [--config FILE] [--directive value ...]\n\n", "");
        return 0;
    }
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0) {
            conf_path = argv[i + 1];
            FILE *f = fopen(conf_path, "r");
            if (f) {
                struct buf t;
                buf_init(&t);
                char chunk[4096];
                size_t n;
                while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && buf_pending(&t) < (1 << 20))
                    buf_append(&t, chunk, n);
                fclose(f);
                conf_text = xstrndup(buf_head(&t), buf_pending(&t));
                buf_deinit(&t);
            }
        }
    static struct snt_config cf;
    conf_defaults(&snt_conf_table, &cf);
    struct buf errs;
    buf_init(&errs);
    if (conf_load_args(&snt_conf_table, &cf, argc, argv, &errs) != 0) {
        fprintf(stderr, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
        return 1;
    }
    buf_deinit(&errs);
    if (!cf.masters) {
        fprintf(stderr, "scaleout sentinel: nothing to monitor: add 'sentinel monitor NAME HOST PORT QUORUM'\n");
        return 1;
    }
    net_server_process_init("sentinel", cf.loglevel, cf.logfile && cf.logfile[0] ? cf.logfile : NULL);
    memset(&snt, 0, sizeof snt);
    snt.loop = uv_default_loop();
    snt.cf = &cf;
    snt.current_epoch = cf.current_epoch;
    if (cf.myid)
        snprintf(snt.myid, sizeof snt.myid, "%s", cf.myid);
    else {
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 40; i++)
            snt.myid[i] = hex[rand_secure64() & 15];
        snt.myid[40] = 0;
    }
    const char *aip = cf.announce_ip && cf.announce_ip[0] ? cf.announce_ip
                      : (strcmp(cf.bind, "0.0.0.0") == 0 || strcmp(cf.bind, "::") == 0) ? "127.0.0.1" : cf.bind;
    snprintf(snt.announce_ip, sizeof snt.announce_ip, "%s", aip);
    snt.announce_port = cf.announce_port ? (int)cf.announce_port : (int)cf.port;
    start_ms = util_time_ms();
    rand_seed(rand_secure64());   /* each sentinel its own failover desync */

    char err[256];
    int fd = net_listen(cf.bind, (int)cf.port, 511, false, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "scaleout sentinel: %s\n", err);
        return 1;
    }
    if (net_listen_start(snt.loop, &listener, fd, 511, false, on_connection, NULL) != 0) {
        fprintf(stderr, "scaleout sentinel: cannot listen on %s:%lld\n", cf.bind, cf.port);
        return 1;
    }
    net_pidfile_write(cf.pidfile);
    static const struct snt_monitor_ops mon_ops = {.publish = snt_publish, .persist = snt_persist};
    snt_monitor_init(&mon_ops);
    net_cron_start(&snt.timer, snt.loop, on_timer, 100, NULL);
    static struct net_signals sig;
    net_signals_start(&sig, snt.loop, on_signal, NULL, NULL);
    log_notice("sentinel %s listening on %s:%lld, monitoring %d master(s)", snt.myid, cf.bind, cf.port, snt.nmasters);
    for (int k = 0; k < snt.nmasters; k++)
        snt_event_inst("+monitor", &snt.masters[k]->self, NULL);
    uv_run(snt.loop, UV_RUN_DEFAULT);
    return 0;
}
