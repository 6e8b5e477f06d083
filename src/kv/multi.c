/*
 * multi.c — MULTI EXEC DISCARD WATCH UNWATCH (see multi.h for the flow).
 *
 * Data, all under the keyspace lock:
 *
 *   s->watch->keys: dict key ─▶ struct wkey { list of wentry, one per watcher }
 *   c->mx (struct kv_multi, allocated on the first MULTI or WATCH):
 *       the queue of copied commands, the transaction's flags, and the
 *       client's wentry pointers (so UNWATCH and a closing client leave
 *       every list without searching)
 *
 * Replies and error texts are Redis 7.0's (src/multi.c).
 */
#include "kv/multi.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/list.h"
#include "kv/acl.h"
#include "kv/dict.h"
#include "kv/reply.h"

struct wentry;

struct wkey {
    struct dict_node dn;
    struct wentry *head;
    char key[];
};

struct wentry {
    struct kv_client *c;
    struct wkey *k;
    int db;                 /* the key's database */
    struct wentry *prev, *next;
};

struct kv_watch {
    struct dict keys;
};

/* A queued command: argv and its bytes (NUL-terminated) in one allocation. */
struct mcmd {
    int id;
    int argc;
    struct resp_arg *argv;
};

struct kv_multi {
    bool in_multi;
    bool dirty_exec;   /* a command was refused while queueing: EXECABORT */
    bool dirty_cas;    /* a watched key changed: EXEC answers null */
    bool denyoom;      /* a queued command may grow memory */
    struct mcmd *q;
    size_t nq, capq;
    size_t bytes;      /* memory the queue holds */
    struct wentry **w;
    size_t nw, capw;
};

struct kv_watch *kv_watch_new(void)
{
    struct kv_watch *w = xcalloc(1, sizeof *w);
    kv_dict_init(&w->keys, offsetof(struct wkey, key));
    return w;
}

static void free_wkey(struct dict_node *n, void *arg)
{
    (void)arg;
    struct wkey *k = (struct wkey *)n;
    for (struct wentry *e = k->head, *next; e; e = next) {
        next = e->next;
        xfree(e);
    }
    xfree(k);
}

void kv_watch_free(struct kv_watch *w)
{
    if (!w)
        return;
    kv_dict_deinit(&w->keys, free_wkey, NULL);
    xfree(w);
}

static struct kv_multi *mstate(struct kv_client *c)
{
    if (!c->mx)
        c->mx = xcalloc(1, sizeof *c->mx);
    return c->mx;
}

bool kv_multi_active(const struct kv_client *c) { return c->mx && c->mx->in_multi; }
long long kv_multi_count(const struct kv_client *c) { return kv_multi_active(c) ? (long long)c->mx->nq : -1; }
bool kv_multi_dirty(const struct kv_client *c) { return c->mx && c->mx->dirty_cas; }
bool kv_multi_denyoom(const struct kv_client *c) { return c->mx && c->mx->denyoom; }

bool kv_multi_writes(const struct kv_client *c)
{
    if (!kv_multi_active(c))
        return false;
    for (size_t i = 0; i < c->mx->nq; i++)
        if (resp_cmds[c->mx->q[i].id].flags & CMD_WRITE)
            return true;
    return false;
}

/* ---- WATCH ----------------------------------------------------------------- */

void kv_watch_on_modify(void *arg, const char *key, size_t klen)
{
    struct kv_server *s = arg;
    struct kv_watch *w = s->watch;
    if (!w || dict_size(&w->keys) == 0)
        return;
    struct wkey *k = (struct wkey *)dict_find(&w->keys, key, klen, kv_dict_hash(key, klen));
    if (!k)
        return;
    for (struct wentry *e = k->head; e; e = e->next)
        if (e->db == s->db.id) /* the hooks fire on the selected database */
            e->c->mx->dirty_cas = true;
}

struct flush_walk {
    struct kv_server *s;
    int a, b;  /* the databases whose watchers may be touched (the same for a flush) */
};

static void flush_one(struct dict_node *n, void *arg)
{
    struct flush_walk *fw = arg;
    struct wkey *k = (struct wkey *)n;
    uint64_t h = kv_dict_hash(k->key, k->dn.klen);
    /* Redis looks in the dict: a key there but past its TTL counts too */
    if (!dict_find(&kv_db_get(fw->s, fw->a)->d, k->key, k->dn.klen, h) &&
        !dict_find(&kv_db_get(fw->s, fw->b)->d, k->key, k->dn.klen, h))
        return;
    for (struct wentry *e = k->head; e; e = e->next)
        if (e->db == fw->a || e->db == fw->b)
            e->c->mx->dirty_cas = true;
}

static void touch_dbs(struct kv_server *s, int a, int b)
{
    struct kv_watch *w = s->watch;
    if (!w || dict_size(&w->keys) == 0)
        return;
    struct flush_walk fw = {s, a, b};
    kv_dict_foreach(&w->keys, flush_one, &fw);
}

void kv_watch_flush(struct kv_server *s) { touch_dbs(s, s->db.id, s->db.id); }

void kv_watch_swapdb(struct kv_server *s, int a, int b) { touch_dbs(s, a, b); }

static void unwatch_all(struct kv_client *c)
{
    struct kv_multi *m = c->mx;
    if (!m)
        return;
    struct kv_watch *w = c->srv->watch;
    for (size_t i = 0; i < m->nw; i++) {
        struct wentry *e = m->w[i];
        struct wkey *k = e->k;
        LIST_REMOVE(k->head, e, prev, next);
        if (!k->head)
            xfree(kv_dict_remove(&w->keys, k->key, k->dn.klen, kv_dict_hash(k->key, k->dn.klen)));
        xfree(e);
    }
    xfree(m->w);
    m->w = NULL;
    m->nw = m->capw = 0;
    m->dirty_cas = false;
}

static bool watching(const struct kv_multi *m, int db, const struct resp_arg *key)
{
    for (size_t i = 0; i < m->nw; i++) {
        const struct wkey *k = m->w[i]->k;
        if (m->w[i]->db == db && k->dn.klen == key->len && memcmp(k->key, key->ptr, key->len) == 0)
            return true;
    }
    return false;
}

static void watch_key(struct kv_client *c, const struct resp_arg *key)
{
    struct kv_multi *m = mstate(c);
    struct kv_watch *w = c->srv->watch;
    if (watching(m, c->db, key))
        return;
    /* an expired key is deleted now: later, its expiry is no change (Redis
     * remembers "expired at WATCH" for the same effect) */
    kv_db_lookup_ref(&c->srv->db, key->ptr, key->len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    uint64_t h = kv_dict_hash(key->ptr, key->len);
    struct wkey *k = (struct wkey *)dict_find(&w->keys, key->ptr, key->len, h);
    if (!k) {
        k = xmalloc(offsetof(struct wkey, key) + key->len);
        k->dn.next = NULL;
        k->dn.klen = (uint32_t)key->len;
        k->dn.meta = 0;
        k->head = NULL;
        memcpy(k->key, key->ptr, key->len);
        kv_dict_insert(&w->keys, &k->dn, h);
    }
    struct wentry *e = xmalloc(sizeof *e);
    e->c = c;
    e->k = k;
    e->db = c->db;
    LIST_PUSH(k->head, e, prev, next);
    if (m->nw == m->capw) {
        m->capw = m->capw ? m->capw * 2 : 4;
        m->w = xrealloc(m->w, m->capw * sizeof *m->w);
    }
    m->w[m->nw++] = e;
}

/* EXEC: a watched key whose TTL has passed, but that nobody touched since,
 * changed too (Redis's isWatchedKeyExpired): deleting it marks the watchers. */
static void expire_watched(struct kv_client *c)
{
    struct kv_multi *m = c->mx;
    for (size_t i = 0; i < m->nw && !m->dirty_cas; i++) {
        struct wkey *k = m->w[i]->k;
        kv_db_select(c->srv, m->w[i]->db);
        kv_db_lookup_ref(&c->srv->db, k->key, k->dn.klen, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    }
    kv_db_select(c->srv, c->db);
}

void kv_cmd_WATCH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (kv_multi_active(c)) {
        kv_reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    if (!c->srv->watch)
        c->srv->watch = kv_watch_new();
    for (int i = 1; i < argc; i++)
        watch_key(c, &argv[i]);
    resp_add_ok(&c->out);
}

void kv_cmd_UNWATCH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    unwatch_all(c);
    resp_add_ok(&c->out);
}

/* ---- MULTI / EXEC / DISCARD ------------------------------------------------- */

static void free_queue(struct kv_multi *m)
{
    for (size_t i = 0; i < m->nq; i++)
        xfree(m->q[i].argv);
    xfree(m->q);
    m->q = NULL;
    m->nq = m->capq = 0;
    m->bytes = 0;
}

/* Leave MULTI and forget the watched keys (Redis's discardTransaction). */
static void discard(struct kv_client *c)
{
    struct kv_multi *m = c->mx;
    if (!m)
        return;
    free_queue(m);
    m->in_multi = m->dirty_exec = m->denyoom = false;
    unwatch_all(c);
}

void kv_multi_reset(struct kv_client *c)
{
    if (!c->mx)
        return;
    discard(c);
    xfree(c->mx);
    c->mx = NULL;
}

/*
 * Redis 7.0 looks subcommands of container commands up before queueing: an
 * unknown one or a wrong arity is refused then (and aborts the transaction),
 * where outside MULTI the handler answers the same text. The table is
 * proto's (resp_subcmds).
 */
/* Check the subcommand of a container command; false after refusing it. */
bool kv_subcommand_ok(struct kv_client *c, int id, int argc, const struct resp_arg *argv)
{
    bool container = false;
    for (int i = 0; i < resp_subcmd_count; i++) {
        const struct resp_subcmd *sc = &resp_subcmds[i];
        if (sc->parent != id)
            continue;
        container = true;
        if (argc < 2 || !kv_arg_is(&argv[1], sc->name))
            continue;
        if ((sc->arity > 0 && argc != sc->arity) || argc < -sc->arity) {
            char msg[160];
            snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s|%s' command", resp_cmds[id].name,
                     sc->name);
            kv_multi_reject(c, id, msg);
            return false;
        }
        return true;
    }
    if (!container || argc < 2)
        return true;
    char msg[256], upper[16];
    size_t n = strlen(resp_cmds[id].name);
    for (size_t i = 0; i <= n && i < sizeof upper; i++)
        upper[i] = (char)toupper((unsigned char)resp_cmds[id].name[i]);
    upper[sizeof upper - 1] = '\0';
    snprintf(msg, sizeof msg, "ERR unknown subcommand '%.*s'. Try %s HELP.",
             (int)(argv[1].len > 128 ? 128 : argv[1].len), argv[1].ptr, upper);
    kv_multi_reject(c, id, msg);
    return false;
}

bool kv_multi_queue(struct kv_client *c, int id, int argc, const struct resp_arg *argv)
{
    if (!kv_multi_active(c))
        return false;
    switch (id) {
    case RESP_CMD_EXEC:
    case RESP_CMD_DISCARD:
    case RESP_CMD_MULTI:
    case RESP_CMD_WATCH:
    case RESP_CMD_QUIT:
    case RESP_CMD_RESET:
        return false;
    default:
        break;
    }
    if (id == RESP_CMD_SAVE || id == RESP_CMD_SHUTDOWN) { /* Redis's no_multi commands */
        kv_multi_reject(c, id, "ERR Command not allowed inside a transaction");
        return true;
    }
    if (!kv_subcommand_ok(c, id, argc, argv))
        return true;
    struct kv_multi *m = c->mx;
    size_t bytes = (size_t)argc * sizeof(struct resp_arg);
    for (int i = 0; i < argc; i++)
        bytes += argv[i].len + 1;
    /* the queue is client-controlled memory: bounded like the query buffer */
    if (m->bytes + bytes > c->srv->cfg.client_query_buffer_limit) {
        kv_multi_reject(c, id, "ERR transaction queue exceeds client-query-buffer-limit");
        return true;
    }
    struct resp_arg *copy = xmalloc(bytes);
    char *p = (char *)(copy + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        p[argv[i].len] = '\0';
        copy[i].ptr = p;
        copy[i].len = argv[i].len;
        p += argv[i].len + 1;
    }
    if (m->nq == m->capq) {
        m->capq = m->capq ? m->capq * 2 : 8;
        m->q = xrealloc(m->q, m->capq * sizeof *m->q);
    }
    m->q[m->nq++] = (struct mcmd){id, argc, copy};
    m->bytes += bytes;
    if (resp_cmds[id].flags & CMD_DENYOOM)
        m->denyoom = true;
    resp_add_simple(&c->out, "QUEUED", 6);
    return true;
}

void kv_multi_reject(struct kv_client *c, int id, const char *msg)
{
    if (id == RESP_CMD_EXEC && msg) {
        /* in MULTI or not, as Redis's rejectCommand. Its texts here have no
         * "ERR " (rejectCommandFormat); other codes stay ("of: OOM ...") */
        discard(c);
        if (strncmp(msg, "ERR ", 4) == 0)
            msg += 4;
        kv_reply_errorf(c, "EXECABORT Transaction discarded because of: %s", msg);
        return;
    }
    if (kv_multi_active(c))
        c->mx->dirty_exec = true;
    if (msg)
        kv_reply_error(c, msg);
}

void kv_cmd_MULTI(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    if (kv_multi_active(c)) {
        kv_reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    mstate(c)->in_multi = true;
    resp_add_ok(&c->out);
}

void kv_cmd_DISCARD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    if (!kv_multi_active(c)) {
        kv_reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    discard(c);
    resp_add_ok(&c->out);
}

void kv_cmd_EXEC(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    struct kv_multi *m = c->mx;
    if (!kv_multi_active(c)) {
        kv_reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    expire_watched(c);
    if (m->dirty_exec) {
        discard(c);
        kv_reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if (m->dirty_cas) {
        discard(c);
        resp_add_null_array(&c->out, c->proto);
        return;
    }
    /* the watched keys are of no use any more (Redis unwatches first too) */
    unwatch_all(c);
    struct mcmd *q = m->q;
    size_t nq = m->nq;
    m->q = NULL;
    m->nq = m->capq = 0;
    m->bytes = 0;
    m->in_multi = m->denyoom = false;
    int exec_id = c->last_cmd;
    resp_add_array(&c->out, (long long)nq);
    c->in_exec = true;
    for (size_t i = 0; i < nq; i++) {
        /* the rules may have changed since the command was queued (Redis checks again) */
        char acl_err[640];
        if (c->user && !kv_acl_user_unrestricted(c->user) &&
            !kv_acl_check(c, KV_ACL_EXEC, q[i].id, q[i].argc, q[i].argv, acl_err, sizeof acl_err)) {
            kv_reply_error(c, acl_err);
            continue;
        }
        kv_call_queued(c, q[i].id, q[i].argc, q[i].argv);
    }
    c->in_exec = false;
    c->last_cmd = exec_id;
    c->last_sub[0] = '\0';
    for (size_t i = 0; i < nq; i++)
        xfree(q[i].argv);
    xfree(q);
}
