/*
 * slowlog.c — the slow log (see slowlog.h): a list of entries, newest first,
 * trimmed to slowlog-max-len after every insertion and whenever the setting
 * shrinks (at the next insertion or SLOWLOG GET/LEN, as Redis trims lazily
 * only at insertion: GET/LEN show what is there).
 */
#include "kv/slowlog.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/list.h"
#include "kv/reply.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_STRING 128

struct sl_entry {
    struct sl_entry *prev, *next;  /* prev: newer, next: older */
    long long id, time, usec;
    int argc;
    struct buf *argv;              /* argc copies (possibly shortened) */
    char addr[64];
    char *name;
};

struct kv_slowlog {
    struct sl_entry *head, *tail;  /* newest, oldest */
    unsigned long long len;
    long long next_id;
};

struct kv_slowlog *kv_slowlog_new(void) { return xcalloc(1, sizeof(struct kv_slowlog)); }

static void entry_free(struct sl_entry *e)
{
    for (int i = 0; i < e->argc; i++)
        buf_deinit(&e->argv[i]);
    xfree(e->argv);
    xfree(e->name);
    xfree(e);
}

static void drop_oldest(struct kv_slowlog *sl)
{
    struct sl_entry *e = sl->tail;
    sl->tail = e->prev;
    if (sl->tail)
        sl->tail->next = NULL;
    else
        sl->head = NULL;
    sl->len--;
    entry_free(e);
}

static void reset(struct kv_slowlog *sl)
{
    while (sl->tail)
        drop_oldest(sl);
}

void kv_slowlog_free(struct kv_slowlog *sl)
{
    if (!sl)
        return;
    reset(sl);
    xfree(sl);
}

static bool redacted(int id, int argc, const struct resp_arg *argv, int j);

void kv_slowlog_note(struct kv_client *c, int id, int argc, const struct resp_arg *argv, long long usec)
{
    struct kv_server *s = c->srv;
    struct kv_slowlog *sl = s->slowlog;
    long long limit = s->cfg.slowlog_log_slower_than;
    if (!sl || limit < 0 || s->cfg.slowlog_max_len == 0 || usec < limit)
        return;
    if (id == RESP_CMD_EXEC || c->blk)
        return;
    struct sl_entry *e = xcalloc(1, sizeof *e);
    e->id = sl->next_id++;
    e->time = (long long)time(NULL);
    e->usec = usec;
    e->argc = argc < SLOWLOG_MAX_ARGC ? argc : SLOWLOG_MAX_ARGC;
    e->argv = xcalloc((size_t)e->argc, sizeof *e->argv);
    for (int j = 0; j < e->argc; j++) {
        struct buf *b = &e->argv[j];
        buf_init(b);
        if (e->argc != argc && j == e->argc - 1) {
            buf_printf(b, "... (%d more arguments)", argc - e->argc + 1);
        } else if (redacted(id, argc, argv, j)) {
            buf_puts(b, "(redacted)");
        } else if (argv[j].len > SLOWLOG_MAX_STRING) {
            buf_append(b, argv[j].ptr, SLOWLOG_MAX_STRING);
            buf_printf(b, "... (%zu more bytes)", argv[j].len - SLOWLOG_MAX_STRING);
        } else {
            buf_append(b, argv[j].ptr, argv[j].len);
        }
    }
    snprintf(e->addr, sizeof e->addr, "%s", c->addr);
    e->name = c->name ? xstrdup(c->name) : NULL;
    LIST_TPUSH(sl->head, sl->tail, e, prev, next);
    sl->len++;
    while (sl->len > (unsigned long long)s->cfg.slowlog_max_len)
        drop_oldest(sl);
}

static const char *help[] = {
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
};

/* Whether argument j holds a secret Redis replaces with "(redacted)": the
 * arguments of AUTH, the user and password after HELLO's AUTH, the value
 * of CONFIG SET requirepass. */
static bool redacted(int id, int argc, const struct resp_arg *argv, int j)
{
    if (id == RESP_CMD_AUTH)
        return j >= 1;
    if (id == RESP_CMD_HELLO) {
        for (int k = 2; k < argc && k < j; k++)
            if (kv_arg_is(&argv[k], "auth") && (j == k + 1 || j == k + 2))
                return true;
        return false;
    }
    if (id == RESP_CMD_CONFIG && argc >= 4 && kv_arg_is(&argv[1], "set"))
        return j >= 3 && j % 2 == 1 && (kv_arg_is(&argv[j - 1], "requirepass") || kv_arg_is(&argv[j - 1], "masterauth"));
    return false;
}

void kv_cmd_SLOWLOG(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_slowlog *sl = c->srv->slowlog;
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    if (argc == 2 && kv_arg_is(sub, "help")) {
        resp_add_array(&c->out, (long long)(sizeof help / sizeof help[0]));
        for (size_t i = 0; i < sizeof help / sizeof help[0]; i++)
            resp_add_simple(&c->out, help[i], strlen(help[i]));
    } else if (argc == 2 && kv_arg_is(sub, "reset")) {
        reset(sl);
        resp_add_ok(&c->out);
    } else if (argc == 2 && kv_arg_is(sub, "len")) {
        resp_add_int(&c->out, (long long)sl->len);
    } else if ((argc == 2 || argc == 3) && kv_arg_is(sub, "get")) {
        long long count = 10;
        static const char *err = "ERR count should be greater than or equal to -1";
        if (argc == 3 && !kv_arg_range(c, &argv[2], -1, LONG_MAX, &count, err, err))
            return;
        unsigned long long n = count < 0 || (unsigned long long)count > sl->len ? sl->len : (unsigned long long)count;
        resp_add_array(&c->out, (long long)n);
        struct sl_entry *e = sl->head;
        for (unsigned long long i = 0; i < n; i++, e = e->next) {
            resp_add_array(&c->out, 6);
            resp_add_int(&c->out, e->id);
            resp_add_int(&c->out, e->time);
            resp_add_int(&c->out, e->usec);
            resp_add_array(&c->out, e->argc);
            for (int j = 0; j < e->argc; j++)
                resp_add_bulk(&c->out, buf_head(&e->argv[j]), buf_pending(&e->argv[j]));
            resp_add_bulk(&c->out, e->addr, strlen(e->addr));
            resp_add_bulk(&c->out, e->name ? e->name : "", e->name ? strlen(e->name) : 0);
        }
    } else if (kv_arg_is(sub, "get")) {
        /* slowlog|get has arity -2: the command itself refuses extra arguments */
        kv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try SLOWLOG HELP.",
                        (int)sub->len, sub->ptr);
    } else if (kv_arg_is(sub, "help") || kv_arg_is(sub, "reset") || kv_arg_is(sub, "len")) {
        char low[8];
        size_t n = sub->len < sizeof low - 1 ? sub->len : sizeof low - 1;
        for (size_t i = 0; i < n; i++)
            low[i] = (char)(sub->ptr[i] >= 'A' && sub->ptr[i] <= 'Z' ? sub->ptr[i] + 32 : sub->ptr[i]);
        low[n] = '\0';
        kv_reply_errorf(c, "ERR wrong number of arguments for 'slowlog|%s' command", low);
    } else {
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try SLOWLOG HELP.", (int)(sub->len > 128 ? 128 : sub->len),
                        sub->ptr);
    }
}
