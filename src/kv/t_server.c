/*
 * t_server.c — connection and server commands: PING ECHO QUIT HELLO AUTH
 * SELECT RESET CLIENT DBSIZE FLUSHDB FLUSHALL CONFIG COMMAND TIME MEMORY
 * (LASTSAVE is in t_persist.c, INFO in info.c). Runs with the keyspace lock held.
 */
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/blocking.h"
#include "kv/hashobj.h"
#include "kv/latency.h"
#include "kv/multi.h"
#include "kv/pubsub.h"
#include "kv/repl.h"
#include "kv/reply.h"
#include "kv/server.h"

#define KV_REDIS_VERSION "7.0.0"
#define KV_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."

void kv_cmd_PING(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc > 2) {
        kv_reply_arity(c, "ping");
    } else if (kv_pubsub_restricted(c)) {
        /* a RESP2 subscriber gets ["pong", <message or "">] */
        resp_add_array(&c->out, 2);
        resp_add_bulk(&c->out, "pong", 4);
        resp_add_bulk(&c->out, argc == 2 ? argv[1].ptr : "", argc == 2 ? argv[1].len : 0);
    } else if (argc == 2)
        resp_add_bulk(&c->out, argv[1].ptr, argv[1].len);
    else
        resp_add_simple(&c->out, "PONG", 4);
}

void kv_cmd_ECHO(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    resp_add_bulk(&c->out, argv[1].ptr, argv[1].len);
}

void kv_cmd_QUIT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    resp_add_ok(&c->out);
    c->close_after_reply = true;
}

static enum kv_acl_ctx auth_ctx(struct kv_client *c) { return kv_multi_active(c) ? KV_ACL_MULTI : KV_ACL_TOPLEVEL; }

/* Redis 7.0's AUTH: one argument is the default user's password (an error
 * when the default user has none); the check and its logging are acl.c's. */
void kv_cmd_AUTH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc > 3) {
        kv_reply_syntax(c);
        return;
    }
    if (argc == 2 && kv_acl_default_open(c->srv->acl)) {
        kv_reply_error(c, "ERR AUTH <password> called without any password configured for the default user. "
                          "Are you sure your configuration is correct?");
        return;
    }
    if (kv_acl_auth(c, auth_ctx(c), argc == 3 ? &argv[1] : NULL, &argv[argc - 1], &argv[0]))
        resp_add_ok(&c->out);
    else
        kv_reply_error(c, KV_WRONGPASS);
}

static bool valid_client_name(const struct resp_arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->ptr[i] < '!' || a->ptr[i] > '~')
            return false;
    return true;
}

static void set_name(struct kv_client *c, const struct resp_arg *a)
{
    xfree(c->name);
    c->name = a->len ? xstrndup(a->ptr, a->len) : NULL;
}

void kv_cmd_HELLO(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long ver = 0;
    int j = 1;
    if (argc >= 2) {
        if (!util_str2ll(argv[1].ptr, argv[1].len, &ver)) {
            kv_reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            kv_reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
        j = 2;
    }
    const struct resp_arg *setname = NULL, *auth_user = NULL, *auth_pass = NULL;
    for (; j < argc; j++) {
        bool more = argc - j - 1;
        if (kv_arg_is(&argv[j], "auth") && argc - j - 1 >= 2) {
            auth_user = &argv[j + 1];
            auth_pass = &argv[j + 2];
            j += 2;
        } else if (kv_arg_is(&argv[j], "setname") && more) {
            setname = &argv[j + 1];
            if (!valid_client_name(setname)) {
                kv_reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            j++;
        } else {
            kv_reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)argv[j].len, argv[j].ptr);
            return;
        }
    }
    if (auth_user && !kv_acl_auth(c, auth_ctx(c), auth_user, auth_pass, &argv[0])) {
        kv_reply_error(c, KV_WRONGPASS);
        return;
    }
    if (!c->authed) {
        kv_reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                          "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                          "select the RESP protocol version at the same time");
        return;
    }
    if (setname)
        set_name(c, setname);
    if (ver)
        c->proto = (int)ver;
    struct buf *o = &c->out;
    resp_add_map(o, c->proto, 7);
    resp_add_bulk_cstr(o, "server");
    resp_add_bulk_cstr(o, "redis");
    resp_add_bulk_cstr(o, "version");
    resp_add_bulk_cstr(o, KV_REDIS_VERSION);
    resp_add_bulk_cstr(o, "proto");
    resp_add_int(o, c->proto);
    resp_add_bulk_cstr(o, "id");
    resp_add_int(o, (long long)c->id);
    resp_add_bulk_cstr(o, "mode");
    resp_add_bulk_cstr(o, "standalone");
    resp_add_bulk_cstr(o, "role");
    resp_add_bulk_cstr(o, "master");
    resp_add_bulk_cstr(o, "modules");
    resp_add_array(o, 0);
}

void kv_cmd_SELECT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    long long id;
    if (!kv_arg_range(c, &argv[1], INT_MIN, INT_MAX, &id, NULL, NULL)) /* Redis getIntFromObjectOrReply */
        return;
    if (id < 0 || id >= c->srv->ndbs) {
        kv_reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = (int)id;
    kv_db_select(c->srv, c->db);
    resp_add_ok(&c->out);
}

void kv_cmd_RESET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    kv_multi_reset(c);
    c->db = 0;
    kv_db_select(c->srv, 0);
    kv_pubsub_reset(c);
    c->proto = 2;
    xfree(c->name);
    c->name = NULL;
    c->user = kv_acl_default_user(c->srv->acl);
    c->authed = kv_acl_default_open(c->srv->acl);
    resp_add_simple(&c->out, "RESET", 5);
}

/* ---- CLIENT ---------------------------------------------------------------- */


static const char *client_help[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME", "    Return the name of the current connection.",
    "ID", "    Return the ID of the current connection.",
    "INFO", "    Return information about the current client connection.",
    "KILL <ip:port> | ID <id> | ADDR <ip:port>", "    Kill connections.",
    "LIST [TYPE normal] [ID <id> ...]", "    Return information about client connections.",
    "SETNAME <name>", "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
    "SETINFO <LIB-NAME|LIB-VER> <value>", "    Accepted and ignored.",
    "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "UNPAUSE", "    Stop the current client pause, resuming traffic.",
    "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
    "HELP", "    Print this help.",
};

static void reply_unknown_sub(struct kv_client *c, const struct resp_arg *sub, const char *cmd)
{
    kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.", (int)(sub->len > 128 ? 128 : sub->len),
                    sub->ptr, cmd);
}

/* Subcommand arities (Redis's, as "client|setname"); negative = at least. */
struct subcmd {
    const char *name;
    int arity;
};

/* true if argc fits; otherwise replies (arity error or unknown subcommand) */
static bool check_sub(struct kv_client *c, const char *cmd, const struct subcmd *subs, int argc, struct resp_arg *argv)
{
    kv_set_subcommand(c, &argv[1]);
    for (const struct subcmd *s = subs; s->name; s++) {
        if (!kv_arg_is(&argv[1], s->name))
            continue;
        if ((s->arity > 0 && argc != s->arity) || (s->arity < 0 && argc < -s->arity)) {
            kv_reply_errorf(c, "ERR wrong number of arguments for '%s|%s' command", cmd, s->name);
            return false;
        }
        return true;
    }
    char up[16];
    size_t n = strlen(cmd) < sizeof up - 1 ? strlen(cmd) : sizeof up - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)(cmd[i] >= 'a' && cmd[i] <= 'z' ? cmd[i] - 32 : cmd[i]);
    up[n] = '\0';
    kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.", (int)(argv[1].len > 128 ? 128 : argv[1].len),
                    argv[1].ptr, up);
    return false;
}

/* CLIENT PAUSE timeout [WRITE|ALL]: as Redis 7.0, the mode is checked
 * first, then the timeout (milliseconds); a deadline past the end of time
 * wraps there, which ends the pause at once. */
static void client_pause(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    if (argc > 4) {
        kv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                        (int)argv[1].len, argv[1].ptr);
        return;
    }
    int type = KV_PAUSE_ALL;
    if (argc == 4) {
        if (kv_arg_is(&argv[3], "write")) {
            type = KV_PAUSE_WRITE;
        } else if (!kv_arg_is(&argv[3], "all")) {
            kv_reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (!kv_arg_ll_msg(c, &argv[2], &ms, "ERR timeout is not an integer or out of range"))
        return;
    if (ms < 0) {
        kv_reply_error(c, "ERR timeout is negative");
        return;
    }
    long long now = util_time_ms();
    long long end = ms > LLONG_MAX - now ? LLONG_MIN : now + ms;
    /* a second pause may widen the type; its deadline replaces the old one */
    if (s->pause_type == KV_PAUSE_NONE || now >= s->pause_end_ms || type > s->pause_type)
        s->pause_type = type;
    s->pause_end_ms = end;
    if (end <= now)
        kv_unpause(s);
    resp_add_ok(&c->out);
}

static const struct subcmd client_subs[] = {
    {"id", 2}, {"getname", 2}, {"setname", 3}, {"setinfo", 4}, {"info", 2}, {"list", -2}, {"kill", -3},
    {"unblock", -3}, {"help", 2}, {"pause", -3}, {"unpause", 2}, {"no-evict", 3}, {NULL, 0},
};

void kv_cmd_CLIENT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct resp_arg *sub = &argv[1];
    if (!check_sub(c, "client", client_subs, argc, argv))
        return;
    if (kv_arg_is(sub, "id") && argc == 2) {
        resp_add_int(&c->out, (long long)c->id);
    } else if (kv_arg_is(sub, "getname") && argc == 2) {
        if (c->name)
            resp_add_bulk_cstr(&c->out, c->name);
        else
            resp_add_null(&c->out, c->proto);
    } else if (kv_arg_is(sub, "setname") && argc == 3) {
        if (!valid_client_name(&argv[2])) {
            kv_reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        set_name(c, &argv[2]);
        resp_add_ok(&c->out);
    } else if (kv_arg_is(sub, "setinfo") && argc == 4) {
        resp_add_ok(&c->out);
    } else if (kv_arg_is(sub, "info") && argc == 2) {
        struct buf b;
        buf_init(&b);
        kv_client_info(c, c, &b);
        resp_add_verbatim(&c->out, c->proto, buf_head(&b), buf_pending(&b));
        buf_deinit(&b);
    } else if (kv_arg_is(sub, "list")) {
        int j = 2;
        struct kv_client *mc = kv_replica_master_client(c->srv); /* a replica's link: no registered client */
        struct buf b;
        buf_init(&b);
        if (argc >= 4 && kv_arg_is(&argv[2], "type")) {
            if (!kv_arg_is(&argv[3], "normal") && !kv_arg_is(&argv[3], "master") && !kv_arg_is(&argv[3], "replica") &&
                !kv_arg_is(&argv[3], "pubsub")) {
                kv_reply_errorf(c, "ERR Unknown client type '%.*s'", (int)argv[3].len, argv[3].ptr);
                buf_deinit(&b);
                return;
            }
            bool normal = kv_arg_is(&argv[3], "normal");
            if (normal)
                for (struct kv_client *x = c->srv->registry; x; x = x->gnext)
                    if (!x->killed)
                        kv_client_info(c, x, &b);
            if (kv_arg_is(&argv[3], "master") && mc)
                kv_client_info(c, mc, &b);
            j = 4;
        } else if (argc >= 4 && kv_arg_is(&argv[2], "id")) {
            for (j = 3; j < argc; j++) {
                long long id;
                if (!util_str2ll(argv[j].ptr, argv[j].len, &id)) {
                    kv_reply_error(c, "ERR Invalid client ID");
                    buf_deinit(&b);
                    return;
                }
                for (struct kv_client *x = c->srv->registry; x && id > 0; x = x->gnext)
                    if (x->id == (uint64_t)id && !x->killed)
                        kv_client_info(c, x, &b);
                if (mc && id > 0 && mc->id == (uint64_t)id)
                    kv_client_info(c, mc, &b);
            }
        } else if (argc == 2) {
            for (struct kv_client *x = c->srv->registry; x; x = x->gnext)
                if (!x->killed)
                    kv_client_info(c, x, &b);
            if (mc)
                kv_client_info(c, mc, &b);
        } else {
            kv_reply_syntax(c);
            buf_deinit(&b);
            return;
        }
        (void)j;
        resp_add_verbatim(&c->out, c->proto, buf_head(&b), buf_pending(&b));
        buf_deinit(&b);
    } else if (kv_arg_is(sub, "kill") && argc >= 3) {
        if (argc == 3) {
            for (struct kv_client *x = c->srv->registry; x; x = x->gnext) {
                if (strlen(x->addr) == argv[2].len && memcmp(x->addr, argv[2].ptr, argv[2].len) == 0 &&
                    kv_client_kill(c, x)) { /* one killed already is gone, as in Redis */
                    resp_add_ok(&c->out);
                    return;
                }
            }
            struct kv_client *mc = kv_replica_master_client(c->srv);
            if (mc && strlen(mc->addr) == argv[2].len && memcmp(mc->addr, argv[2].ptr, argv[2].len) == 0) {
                kv_replica_kill_master(c->srv);
                resp_add_ok(&c->out);
                return;
            }
            kv_reply_error(c, "ERR No such client");
            return;
        }
        /* the filter form: every filter is checked before anyone is killed,
         * and a client is killed only when it matches all of them (Redis's
         * AND); SKIPME yes (the default) spares the caller */
        long long killed = 0, id = 0;
        const struct resp_arg *addr = NULL, *laddr = NULL, *type = NULL;
        bool skipme = true;
        struct kv_acl_user *user = NULL;
        for (int j = 2; j < argc; j += 2) {
            const struct resp_arg *v = &argv[j + 1];
            if (j + 1 == argc) {
                kv_reply_syntax(c); /* a filter without its value */
                return;
            } else if (kv_arg_is(&argv[j], "id")) {
                if (!kv_arg_range(c, v, 1, LLONG_MAX, &id, "ERR client-id should be greater than 0",
                                  "ERR client-id should be greater than 0"))
                    return;
            } else if (kv_arg_is(&argv[j], "type")) {
                if (!kv_arg_is(v, "normal") && !kv_arg_is(v, "master") && !kv_arg_is(v, "replica") &&
                    !kv_arg_is(v, "slave") && !kv_arg_is(v, "pubsub")) {
                    kv_reply_errorf(c, "ERR Unknown client type '%.*s'", (int)v->len, v->ptr);
                    return;
                }
                type = v;
            } else if (kv_arg_is(&argv[j], "addr")) {
                addr = v;
            } else if (kv_arg_is(&argv[j], "laddr")) {
                laddr = v;
            } else if (kv_arg_is(&argv[j], "user")) {
                user = kv_acl_find_user(c->srv->acl, v->ptr, v->len); /* names are case-sensitive */
                if (!user) {
                    kv_reply_errorf(c, "ERR No such user '%.*s'", (int)(v->len > 128 ? 128 : v->len), v->ptr);
                    return;
                }
            } else if (kv_arg_is(&argv[j], "skipme")) {
                if (kv_arg_is(v, "yes")) {
                    skipme = true;
                } else if (kv_arg_is(v, "no")) {
                    skipme = false;
                } else {
                    kv_reply_syntax(c);
                    return;
                }
            } else {
                kv_reply_syntax(c);
                return;
            }
        }
        for (struct kv_client *x = c->srv->registry; x; x = x->gnext) {
            if (id && x->id != (uint64_t)id)
                continue;
            if (addr && !(strlen(x->addr) == addr->len && memcmp(x->addr, addr->ptr, addr->len) == 0))
                continue;
            if (laddr && !(strlen(x->laddr) == laddr->len && memcmp(x->laddr, laddr->ptr, laddr->len) == 0))
                continue;
            if (type) {
                /* as Redis's getClientType: replica (said REPLCONF/PSYNC), pubsub,
                 * normal; the master link is no registered client (below) */
                long long ns, np, nss;
                kv_pubsub_counts(x, &ns, &np, &nss);
                bool pubsub = ns + np + nss > 0;
                bool match = x->rl ? kv_arg_is(type, "replica") || kv_arg_is(type, "slave")
                                   : pubsub ? kv_arg_is(type, "pubsub") : kv_arg_is(type, "normal");
                if (!match)
                    continue;
            }
            if (user && x->user != user)
                continue;
            if (x == c && skipme)
                continue;
            if (kv_client_kill(c, x))
                killed++;
        }
        /* the link to the primary is no registered client: dropped apart when
         * it matches every filter (its user is none, as Redis's master client:
         * USER never matches it) */
        struct kv_client *mc = kv_replica_master_client(c->srv);
        if (mc && (!type || kv_arg_is(type, "master")) && !user && (!id || mc->id == (uint64_t)id) &&
            (!addr || (strlen(mc->addr) == addr->len && memcmp(mc->addr, addr->ptr, addr->len) == 0)) &&
            (!laddr || (strlen(mc->laddr) == laddr->len && memcmp(mc->laddr, laddr->ptr, laddr->len) == 0)))
            killed += kv_replica_kill_master(c->srv);
        resp_add_int(&c->out, killed);
    } else if (kv_arg_is(sub, "unblock")) {
        if (argc > 4) {
            kv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                            (int)sub->len, sub->ptr);
            return;
        }
        bool error = false;
        long long id;
        if (argc == 4) {
            if (kv_arg_is(&argv[3], "error")) {
                error = true;
            } else if (!kv_arg_is(&argv[3], "timeout")) {
                kv_reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        if (!kv_arg_ll(c, &argv[2], &id))
            return;
        for (struct kv_client *x = c->srv->registry; x; x = x->gnext) {
            if (x->id == (uint64_t)id) {
                resp_add_int(&c->out, kv_blocking_unblock(x, error));
                return;
            }
        }
        resp_add_int(&c->out, 0);
    } else if (kv_arg_is(sub, "pause")) {
        client_pause(c, argc, argv);
    } else if (kv_arg_is(sub, "unpause")) {
        kv_unpause(c->srv);
        resp_add_ok(&c->out);
    } else if (kv_arg_is(sub, "no-evict")) {
        if (kv_arg_is(&argv[2], "on") || kv_arg_is(&argv[2], "off")) {
            c->no_evict = kv_arg_is(&argv[2], "on");
            resp_add_ok(&c->out);
        } else {
            kv_reply_syntax(c);
        }
    } else if (kv_arg_is(sub, "help")) {
        kv_reply_help(c, client_help, sizeof client_help / sizeof client_help[0]);
    } else {
        reply_unknown_sub(c, sub, "CLIENT");
    }
}

/* ---- keyspace-wide ---------------------------------------------------------- */

void kv_cmd_DBSIZE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    resp_add_int(&c->out, (long long)db_size(&c->srv->db));
}

static void flush_generic(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc > 2 || (argc == 2 && !kv_arg_is(&argv[1], "async") && !kv_arg_is(&argv[1], "sync"))) {
        kv_reply_syntax(c);
        return;
    }
    struct kv_server *s = c->srv;
    bool all = c->last_cmd == RESP_CMD_FLUSHALL;
    for (int i = all ? 0 : c->db; i < (all ? s->ndbs : c->db + 1); i++) {
        if (db_size(kv_db_get(s, i)) == 0)
            continue;
        kv_db_select(s, i);
        s->dirty += db_size(&s->db);
        kv_watch_flush(s);
        kv_db_flush(&s->db);
    }
    kv_db_select(s, c->db);
    s->dirty++;
    resp_add_ok(&c->out);
}

void kv_cmd_FLUSHDB(struct kv_client *c, int argc, struct resp_arg *argv) { flush_generic(c, argc, argv); }
void kv_cmd_FLUSHALL(struct kv_client *c, int argc, struct resp_arg *argv) { flush_generic(c, argc, argv); }

void kv_cmd_TIME(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    resp_add_array(&c->out, 2);
    resp_add_bulk_ll(&c->out, tv.tv_sec);
    resp_add_bulk_ll(&c->out, tv.tv_usec);
}

void kv_cmd_MEMORY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (kv_arg_is(&argv[1], "usage") && (argc == 3 || argc == 5)) {
        if (argc == 5 && !kv_arg_is(&argv[3], "samples")) {
            kv_reply_syntax(c);
            return;
        }
        long long samples;
        if (argc == 5 && !kv_arg_range(c, &argv[4], 0, LLONG_MAX, &samples, NULL, "ERR syntax error"))
            return; /* Redis: a negative count is a syntax error */
        struct kv_obj *o = db_lookup(&c->srv->db, argv[2].ptr, argv[2].len, LOOKUP_NOTOUCH | LOOKUP_WRITE);
        if (!o)
            resp_add_null(&c->out, c->proto);
        else
            resp_add_int(&c->out, (long long)kv_obj_memory(o));
    } else if (kv_arg_is(&argv[1], "help")) {
        static const char *help[] = {"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                     "USAGE <key> [SAMPLES <count>]", "    Return memory in bytes used by <key>.",
                                     "HELP", "    Print this help."};
        kv_reply_help(c, help, sizeof help / sizeof help[0]);
    } else {
        reply_unknown_sub(c, &argv[1], "MEMORY");
    }
}

/* ---- CONFIG -------------------------------------------------------------- */

static const struct subcmd config_subs[] = {
    {"get", -3}, {"set", -4}, {"resetstat", 2}, {"rewrite", 2}, {"help", 2}, {NULL, 0},
};

/* CONFIG SET's reason for a bad value, in Redis's words. */
static void config_value_error(struct kv_client *c, const struct conf_directive *d, const char *name,
                               const char *val, const char *ourerr)
{
    char why[512];
    long long ll;
    switch (d->type) {
    case CONF_MEMORY:
        snprintf(why, sizeof why, "argument must be a memory value");
        break;
    case CONF_INT:
        if (!util_str2ll(val, strlen(val), &ll))
            snprintf(why, sizeof why, "argument couldn't be parsed into an integer");
        else
            snprintf(why, sizeof why, "argument must be between %lld and %lld inclusive", d->min, d->max);
        break;
    case CONF_BOOL:
        snprintf(why, sizeof why, "argument must be 'yes' or 'no'");
        break;
    case CONF_ENUM: {
        int n = snprintf(why, sizeof why, "argument(s) must be one of the following: ");
        for (const struct conf_enum *e = d->enums; e->name && n > 0 && (size_t)n < sizeof why; e++)
            n += snprintf(why + n, sizeof why - (size_t)n, "%s%s", e == d->enums ? "" : ", ", e->name);
        break;
    }
    default:
        snprintf(why, sizeof why, "%s", ourerr);
        break;
    }
    kv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, why);
}

/* Free the strings of `drop` that `keep` does not share (CONFIG SET works on a
 * copy: on success the old values go, on failure the new ones). */
static void free_replaced_strings(struct kv_config *drop, struct kv_config *keep)
{
    for (const struct conf_directive *d = kv_conf_table.dirs; d->name; d++) {
        if (d->type != CONF_STRING)
            continue;
        char **a = (char **)((char *)drop + d->offset);
        char **b = (char **)((char *)keep + d->offset);
        if (*a != *b)
            xfree(*a);
    }
}

void kv_cmd_CONFIG(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    struct resp_arg *sub = &argv[1];
    if (!check_sub(c, "config", config_subs, argc, argv))
        return;
    if (kv_arg_is(sub, "get")) {
        struct buf v;
        buf_init(&v);
        long long n = 0;
        struct buf pairs;
        buf_init(&pairs);
        for (const struct conf_directive *d = kv_conf_table.dirs; d->name; d++) {
            bool match = false;
            if (strcmp(d->name, "user") == 0) /* users are ACL LIST's, not a setting (as Redis) */
                continue;
            for (int j = 2; j < argc && !match; j++)
                match = util_glob_match(argv[j].ptr, argv[j].len, d->name, strlen(d->name), true);
            if (!match)
                continue;
            v.off = v.len = 0;
            conf_format(d, &s->cfg, &v);
            resp_add_bulk_cstr(&pairs, d->name);
            resp_add_bulk(&pairs, buf_head(&v), buf_pending(&v));
            n++;
        }
        resp_add_map(&c->out, c->proto, n);
        buf_append(&c->out, buf_head(&pairs), buf_pending(&pairs));
        buf_deinit(&pairs);
        buf_deinit(&v);
    } else if (kv_arg_is(sub, "set")) {
        if ((argc - 2) % 2 != 0) {
            kv_reply_arity(c, "config|set");
            return;
        }
        /* validate every pair on a copy first, so a failure changes nothing */
        struct kv_config next = s->cfg;
        for (int j = 2; j < argc; j += 2) {
            char name[128], val[1024], err[256];
            char *words[64];
            snprintf(name, sizeof name, "%.*s", (int)argv[j].len, argv[j].ptr);
            snprintf(val, sizeof val, "%.*s", (int)argv[j + 1].len, argv[j + 1].ptr);
            const struct conf_directive *d = conf_lookup(&kv_conf_table, name);
            if (!d) {
                kv_reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", name);
                goto fail;
            }
            if (argv[j + 1].len >= sizeof val || memchr(argv[j + 1].ptr, '\0', argv[j + 1].len)) {
                config_value_error(c, d, name, val, "value too long or not text");
                goto fail;
            }
            int nw = 1;
            words[0] = val;
            /* one-value directives take the argument whole, as Redis: " 1" is not 1 */
            if (d->type == CONF_CUSTOM)
                nw = conf_split(val, words, 64);
            if (nw < 0) {
                kv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - bad quoting", name);
                goto fail;
            }
            if (d->type != CONF_CUSTOM && d->type != CONF_STRING && nw != 1) {
                kv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - argument must be one value", name);
                goto fail;
            }
            if (d->type == CONF_STRING) {
                /* a string may be empty or contain spaces: take it whole */
                words[0] = val;
                nw = 1;
                /* the copy shares s->cfg's strings: replace only in the copy */
                char **slot = (char **)((char *)&next + d->offset);
                *slot = NULL;
            }
            if (conf_set(&kv_conf_table, &next, name, nw, words, true, err, sizeof err) != 0) {
                if (strcmp(err, "can't set immutable config") == 0)
                    kv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, err);
                else
                    config_value_error(c, d, name, nw ? words[0] : "", err);
                goto fail;
            }
        }
        /* as Redis (DENY_LOADING_CONFIG): appendonly waits for an async load */
        for (int j = 2; j < argc && (kv_replica_async_loading(s) || kv_replica_loading(s)); j += 2)
            if (kv_arg_is(&argv[j], "appendonly")) {
                kv_reply_error(c, "LOADING Redis is loading the dataset in memory");
                goto fail;
            }
        /* commit: free replaced strings, adopt the copy */
        free_replaced_strings(&s->cfg, &next);
        s->cfg = next;
        kv_config_apply(s);
        resp_add_ok(&c->out);
        return;
    fail:
        free_replaced_strings(&next, &s->cfg);
        return;
    } else if (kv_arg_is(sub, "resetstat") && argc == 2) {
        memset(&s->st, 0, sizeof s->st);
        kv_latency_reset_histograms(s->latency);
        memset(&s->db.st, 0, sizeof s->db.st);
        resp_add_ok(&c->out);
    } else if (kv_arg_is(sub, "rewrite") && argc == 2) {
        kv_reply_error(c, "ERR CONFIG REWRITE is not supported: edit the config file and send SIGHUP");
    } else if (kv_arg_is(sub, "help")) {
        static const char *help[] = {"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                     "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                                     "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                                     "RESETSTAT", "    Reset statistics reported by the INFO command.",
                                     "HELP", "    Print this help."};
        kv_reply_help(c, help, sizeof help / sizeof help[0]);
    } else {
        reply_unknown_sub(c, sub, "CONFIG");
    }
}

/* ---- COMMAND --------------------------------------------------------------- */

/* A NULL-terminated list (or NULL) as a set of simple or bulk strings. */
static void reply_string_set(struct kv_client *c, const char *const *v, bool simple)
{
    int n = 0;
    while (v && v[n])
        n++;
    resp_add_set(&c->out, c->proto, n);
    for (int i = 0; i < n; i++) {
        if (simple)
            resp_add_simple(&c->out, v[i], strlen(v[i]));
        else
            resp_add_bulk_cstr(&c->out, v[i]);
    }
}

/* One key spec of COMMAND INFO, as Redis 7.0 writes it (maps in RESP3). */
static void key_spec(struct kv_client *c, const struct resp_keyspec *k)
{
    struct buf *o = &c->out;
    resp_add_map(o, c->proto, k->notes ? 4 : 3);
    if (k->notes) {
        resp_add_bulk_cstr(o, "notes");
        resp_add_bulk_cstr(o, k->notes);
    }
    static const char *const names[] = {"RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
                                        "not_key", "incomplete", "variable_flags"};
    resp_add_bulk_cstr(o, "flags");
    resp_add_set(o, c->proto, __builtin_popcount(k->flags));
    for (int i = 0; i < 11; i++)
        if (k->flags & (1u << i))
            resp_add_simple(o, names[i], strlen(names[i]));
    resp_add_bulk_cstr(o, "begin_search");
    resp_add_map(o, c->proto, 2);
    resp_add_bulk_cstr(o, "type");
    resp_add_bulk_cstr(o, k->bs == RESP_BS_INDEX ? "index" : k->bs == RESP_BS_KEYWORD ? "keyword" : "unknown");
    resp_add_bulk_cstr(o, "spec");
    if (k->bs == RESP_BS_INDEX) {
        resp_add_map(o, c->proto, 1);
        resp_add_bulk_cstr(o, "index");
        resp_add_int(o, k->bs_pos);
    } else if (k->bs == RESP_BS_KEYWORD) {
        resp_add_map(o, c->proto, 2);
        resp_add_bulk_cstr(o, "keyword");
        resp_add_bulk_cstr(o, k->keyword);
        resp_add_bulk_cstr(o, "startfrom");
        resp_add_int(o, k->bs_pos);
    } else {
        resp_add_map(o, c->proto, 0);
    }
    resp_add_bulk_cstr(o, "find_keys");
    resp_add_map(o, c->proto, 2);
    resp_add_bulk_cstr(o, "type");
    resp_add_bulk_cstr(o, k->fk == RESP_FK_RANGE ? "range" : k->fk == RESP_FK_KEYNUM ? "keynum" : "unknown");
    resp_add_bulk_cstr(o, "spec");
    if (k->fk == RESP_FK_UNKNOWN) {
        resp_add_map(o, c->proto, 0);
        return;
    }
    static const char *const range[] = {"lastkey", "keystep", "limit"}, *const keynum[] = {"keynumidx", "firstkey", "keystep"};
    resp_add_map(o, c->proto, 3);
    for (int i = 0; i < 3; i++) {
        resp_add_bulk_cstr(o, k->fk == RESP_FK_RANGE ? range[i] : keynum[i]);
        resp_add_int(o, k->fk_arg[i]);
    }
}

/* The COMMAND INFO entry of a command, or with sub >= 0 of its subcommand
 * (named container|sub, its own arity and key, the container's flags). */
static void command_entry_sub(struct kv_client *c, int id, int sub)
{
    const struct resp_cmd *cmd = &resp_cmds[id];
    struct buf *o = &c->out;
    resp_add_array(o, 10);
    if (sub >= 0) {
        char name[64];
        int n = snprintf(name, sizeof name, "%s|%s", cmd->name, resp_subcmds[sub].name);
        resp_add_bulk(o, name, (size_t)n);
        resp_add_int(o, resp_subcmds[sub].arity);
    } else {
        resp_add_bulk_cstr(o, cmd->name);
        resp_add_int(o, cmd->arity);
    }
    const struct resp_cmd_info *in = sub >= 0 ? &resp_subcmd_infos[sub].info : &resp_cmd_infos[id];
    reply_string_set(c, in->flags, true);
    if (sub >= 0) {
        int k = resp_subcmds[sub].key;
        resp_add_int(o, k);
        resp_add_int(o, k);
        resp_add_int(o, k ? 1 : 0);
    } else { /* a container has no key of its own (its subcommands do) */
        bool cont = resp_cmd_is_container(id);
        resp_add_int(o, cont ? 0 : cmd->first);
        resp_add_int(o, cont ? 0 : cmd->last);
        resp_add_int(o, cont ? 0 : cmd->step);
    }
    resp_add_set(o, c->proto, __builtin_popcount(in->cats));
    for (int i = 0; i < RESP_ACL_NCATS; i++)
        if (in->cats & (1u << i)) {
            char cat[32];
            int n = snprintf(cat, sizeof cat, "@%s", resp_acl_cat_names[i]);
            resp_add_simple(o, cat, (size_t)n);
        }
    reply_string_set(c, in->tips, false);
    resp_add_set(o, c->proto, in->nspecs);
    for (int i = 0; i < in->nspecs; i++)
        key_spec(c, &in->specs[i]);
    if (sub < 0 && resp_cmd_is_container(id)) {
        int n = 0;
        for (int i = 0; i < resp_subcmd_count; i++)
            n += resp_subcmds[i].parent == id;
        resp_add_set(o, c->proto, n);
        for (int i = 0; i < resp_subcmd_count; i++)
            if (resp_subcmds[i].parent == id)
                command_entry_sub(c, id, i);
    } else {
        resp_add_set(o, c->proto, 0);
    }
}

static void command_entry(struct kv_client *c, int id) { command_entry_sub(c, id, -1); }

/* COMMAND GETKEYS: the keys of the command line argv[0..argc), Redis's
 * checks and texts in its order. */
static void command_getkeys(struct kv_client *c, int argc, struct resp_arg *argv, bool with_flags)
{
    int id = resp_cmd_lookup(argv[0].ptr, argv[0].len);
    if (id < 0) {
        kv_reply_error(c, "ERR Invalid command specified");
        return;
    }
    int arity = resp_cmds[id].arity;
    /* the sharded pub/sub commands name channels (Redis's NOT_KEY specs) */
    bool has_keys = (resp_cmds[id].first > 0 || resp_cmd_keynum_index(id) >= 0 || id == RESP_CMD_XREAD ||
                     id == RESP_CMD_XREADGROUP) &&
                    id != RESP_CMD_SPUBLISH && id != RESP_CMD_SSUBSCRIBE && id != RESP_CMD_SUNSUBSCRIBE;
    if (resp_cmd_is_container(id) && argc > 1) {
        int sub = resp_subcmd_lookup(id, argv[1].ptr, argv[1].len);
        if (sub < 0) {
            kv_reply_error(c, "ERR Invalid command specified");
            return;
        }
        arity = resp_subcmds[sub].arity;
        has_keys = resp_subcmds[sub].key > 0;
    } else if (resp_cmd_is_container(id)) {
        has_keys = false;
    }
    if (!has_keys) {
        kv_reply_error(c, "ERR The command has no key arguments");
        return;
    }
    if ((arity > 0 && arity != argc) || argc < -arity) {
        kv_reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    int *pos = xmalloc((size_t)argc * sizeof *pos);
    int n = resp_cmd_keys(id, argc, argv, pos);
    if (n < 0) {
        kv_reply_error(c, "ERR Invalid arguments specified for command");
    } else {
        resp_add_array(&c->out, n);
        for (int i = 0; i < n; i++) {
            if (with_flags) { /* GETKEYSANDFLAGS: [key, {flags}] */
                const char *names[12];
                int nf = resp_key_flag_names(resp_cmd_key_flags(id, argc, argv, pos[i]), names, 12);
                resp_add_array(&c->out, 2);
                resp_add_bulk(&c->out, argv[pos[i]].ptr, argv[pos[i]].len);
                resp_add_set(&c->out, c->proto, nf);
                for (int k = 0; k < nf; k++)
                    resp_add_simple(&c->out, names[k], strlen(names[k]));
            } else {
                resp_add_bulk(&c->out, argv[pos[i]].ptr, argv[pos[i]].len);
            }
        }
    }
    xfree(pos);
}

void kv_cmd_COMMAND(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc == 1) {
        resp_add_array(&c->out, RESP_CMD_COUNT);
        for (int i = 0; i < RESP_CMD_COUNT; i++)
            command_entry(c, i);
        return;
    }
    struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    if (!kv_subcommand_ok(c, RESP_CMD_COMMAND, argc, argv)) /* arities first, as Redis */
        return;
    if (kv_arg_is(sub, "count") && argc == 2) {
        resp_add_int(&c->out, RESP_CMD_COUNT);
    } else if (kv_arg_is(sub, "info")) {
        if (argc == 2) {
            resp_add_array(&c->out, RESP_CMD_COUNT);
            for (int i = 0; i < RESP_CMD_COUNT; i++)
                command_entry(c, i);
            return;
        }
        resp_add_array(&c->out, argc - 2);
        for (int j = 2; j < argc; j++) {
            const char *bar = memchr(argv[j].ptr, '|', argv[j].len);
            int id = resp_cmd_lookup(argv[j].ptr, bar ? (size_t)(bar - argv[j].ptr) : argv[j].len);
            int sid = -1;
            if (id >= 0 && bar) {
                sid = resp_subcmd_lookup(id, bar + 1, argv[j].len - (size_t)(bar + 1 - argv[j].ptr));
                if (sid < 0)
                    id = -1;
            }
            if (id < 0)
                resp_add_null_array(&c->out, c->proto);
            else
                command_entry_sub(c, id, sid);
        }
    } else if (kv_arg_is(sub, "docs")) {
        /* name -> {summary, since, group, arguments}; unknown names are left out */
        int ids[RESP_CMD_COUNT];
        int n = 0;
        if (argc == 2) {
            for (int i = 0; i < RESP_CMD_COUNT; i++)
                ids[n++] = i;
        } else {
            for (int j = 2; j < argc && n < RESP_CMD_COUNT; j++) {
                int id = resp_cmd_lookup(argv[j].ptr, argv[j].len);
                if (id >= 0)
                    ids[n++] = id;
            }
        }
        resp_add_map(&c->out, c->proto, n);
        for (int i = 0; i < n; i++) {
            const struct resp_cmd_doc *d = &resp_cmd_docs[ids[i]];
            resp_add_bulk_cstr(&c->out, resp_cmds[ids[i]].name);
            resp_add_map(&c->out, c->proto, 4);
            resp_add_bulk_cstr(&c->out, "summary");
            resp_add_bulk_cstr(&c->out, d->summary ? d->summary : "");
            resp_add_bulk_cstr(&c->out, "since");
            resp_add_bulk_cstr(&c->out, d->since ? d->since : "");
            resp_add_bulk_cstr(&c->out, "group");
            resp_add_bulk_cstr(&c->out, resp_cmds[ids[i]].group);
            resp_add_bulk_cstr(&c->out, "arguments");
            resp_add_array(&c->out, 0);
        }
    } else if (kv_arg_is(sub, "list") && argc == 2) {
        /* as Redis: the subcommands too, named container|sub */
        resp_add_array(&c->out, RESP_CMD_COUNT + resp_subcmd_count);
        for (int i = 0; i < RESP_CMD_COUNT; i++)
            resp_add_bulk_cstr(&c->out, resp_cmds[i].name);
        for (int i = 0; i < resp_subcmd_count; i++) {
            char name[64];
            int n = snprintf(name, sizeof name, "%s|%s", resp_cmds[resp_subcmds[i].parent].name, resp_subcmds[i].name);
            resp_add_bulk(&c->out, name, (size_t)n);
        }
    } else if (kv_arg_is(sub, "getkeys") && argc >= 3) {
        command_getkeys(c, argc - 2, argv + 2, false);
    } else if (kv_arg_is(sub, "getkeysandflags") && argc >= 3) {
        command_getkeys(c, argc - 2, argv + 2, true);
    } else if (kv_arg_is(sub, "help")) {
        static const char *help[] = {"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                     "(no subcommand)", "    Return details about all commands.",
                                     "COUNT", "    Return the total number of commands.",
                                     "INFO [<command-name> ...]", "    Return details about the given commands.",
                                     "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                                     "LIST", "    Return a list of all commands.",
                                     "HELP", "    Print this help."};
        kv_reply_help(c, help, sizeof help / sizeof help[0]);
    } else {
        reply_unknown_sub(c, sub, "COMMAND");
    }
}

/* MONITOR (pubsub.c delivers the lines). */
void kv_cmd_MONITOR(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    if (c->in_exec) {
        kv_reply_error(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    kv_monitor_start(c);
}

/* The Redis Cluster commands: kv is not a cluster node (the router shards
 * it), so they answer as a redis-server with cluster-enabled no does, which
 * is what cluster-aware clients probe for. */
static void no_cluster(struct kv_client *c) { kv_reply_error(c, "ERR This instance has cluster support disabled"); }
void kv_cmd_CLUSTER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (kv_subcommand_ok(c, RESP_CMD_CLUSTER, argc, argv)) /* unknown subcommands and arities first, as Redis */
        no_cluster(c);
}
void kv_cmd_READONLY(struct kv_client *c, int argc, struct resp_arg *argv) { (void)argc, (void)argv; no_cluster(c); }
void kv_cmd_READWRITE(struct kv_client *c, int argc, struct resp_arg *argv) { (void)argc, (void)argv; no_cluster(c); }
void kv_cmd_ASKING(struct kv_client *c, int argc, struct resp_arg *argv) { (void)argc, (void)argv; no_cluster(c); }

/* ---- LOLWUT ------------------------------------------------------------------ */

/*
 * LOLWUT [VERSION v] [columns rows]: computer art and the version, as Redis
 * has it; the art here is a Truchet maze, the 10 PRINT program's, its
 * diagonals picked by a generator seeded with the size (the same size draws
 * the same maze). VERSION is parsed as Redis parses it and otherwise
 * ignored: there is one picture. The size is at most 200 x 100.
 */
void kv_cmd_LOLWUT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    int first = 1;
    if (argc >= 3 && kv_arg_is(&argv[1], "version")) {
        long long ver;
        if (!kv_arg_ll(c, &argv[2], &ver))
            return;
        first = 3;
    }
    /* as Redis 7.0's LOLWUT without VERSION: other arguments that are not
     * sizes are ignored */
    long long cols = 40, rows = 10, v;
    if (first < argc && util_str2ll(argv[first].ptr, argv[first].len, &v))
        cols = v;
    if (first + 1 < argc && util_str2ll(argv[first + 1].ptr, argv[first + 1].len, &v))
        rows = v;
    cols = cols < 1 ? 1 : cols > 200 ? 200 : cols;
    rows = rows < 1 ? 1 : rows > 100 ? 100 : rows;
    struct buf art;
    buf_init(&art);
    uint64_t x = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(cols * 1000 + rows);
    for (long long r = 0; r < rows; r++) {
        for (long long k = 0; k < cols; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            buf_puts(&art, (x >> 32) & 1 ? "\xe2\x95\xb1" : "\xe2\x95\xb2"); /* U+2571, U+2572 */
        }
        buf_putc(&art, '\n');
    }
    buf_printf(&art, "\nTruchet maze, after 10 PRINT CHR$(205.5+RND(1)); : GOTO 10. scaleout kv ver. %s\n",
               KV_VERSION);
    resp_add_verbatim(&c->out, c->proto, buf_head(&art), buf_pending(&art));
    buf_deinit(&art);
}
