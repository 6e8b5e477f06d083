/*
 * acl.c — users, selectors, the permission check and the ACL command (see
 * acl.h). The rules and their texts are Redis 7.0's; the differential test
 * (tests/integration/test_kv_acl.py) runs the same rules against redis-server.
 *
 * A selector's command bits: bit id for command id, RESP_CMD_COUNT + i for
 * subcommand i of resp_subcmds, and the last bit for "future commands",
 * which only +@all sets (ACL LIST starts from +@all when it is set).
 */
#include "kv/acl.h"

#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/types.h"
#include "proto/commands.h"
#include "proto/resp.h"

#define ACL_BITS 512
#define ACL_WORDS (ACL_BITS / 64)
#define FUTURE_BIT (ACL_BITS - 1)
#define LOG_GROUP_MS 60000 /* a denial like one of the last 10 within a minute counts there */

enum { SEL_ROOT = 1, SEL_ALLKEYS = 2, SEL_ALLCHANNELS = 4, SEL_ALLCOMMANDS = 8 };
enum { U_ON = 1, U_OFF = 2, U_NOPASS = 4, U_SKIP_SANITIZE = 8, U_SANITIZE = 16 };
enum { PERM_R = 1, PERM_W = 2, PERM_RW = 3 };
enum { DENY_OK, DENY_CMD, DENY_KEY, DENY_AUTH, DENY_CHANNEL };

/* error numbers of a rule, as Redis's errno values in ACLSetUserStringError */
enum {
    E_OK,
    E_SYNTAX,
    E_UNKNOWN,
    E_AFTER_ALLKEYS,
    E_AFTER_ALLCHANNELS,
    E_NOPASS,
    E_HASH,
    E_FIRSTARG_SUB,
};

struct pattern {
    char *s;
    size_t len;
    unsigned perm; /* PERM_*: key patterns only */
};

struct firstarg {
    int bit;
    char *arg;
};

struct selector {
    unsigned flags;
    uint64_t bits[ACL_WORDS];
    struct pattern *keys;
    size_t nkeys;
    struct pattern *chans;
    size_t nchans;
    struct firstarg *fa;
    size_t nfa;
};

struct kv_acl_user {
    char *name;
    size_t name_len;
    unsigned flags;
    char (*pass)[65];
    size_t npass;
    struct selector *sel; /* sel[0] is the root selector */
    size_t nsel;
    bool open; /* on, root +@all ~* &*: the command path skips the check */
};

struct log_entry {
    long long count;
    int reason;
    enum kv_acl_ctx ctx;
    char *object;
    size_t object_len;
    char *user;
    size_t user_len;
    long long ctime_ms;
    char *cinfo;
};

struct kv_acl {
    struct kv_acl_user **users; /* sorted by name, bytewise: ACL USERS and LIST order */
    size_t n;
    struct kv_acl_user *def;
    struct log_entry **log;     /* newest first */
    size_t nlog;
};

/* acl-pubsub-default allchannels: new users and selectors get every channel
 * (one kv server per process: set by kv_config_apply) */
static bool pubsub_default_all;

static const char *const user_flag_names[] = {"on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"};

/* A NUL-terminated copy of n bytes. */
static char *dupmem(const void *p, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

/* ---- bits ---------------------------------------------------------------------- */

static int nbits_used(void) { return RESP_CMD_COUNT + resp_subcmd_count; }

static bool bit_get(const struct selector *s, int b) { return (s->bits[b / 64] >> (b % 64)) & 1; }

static void bit_set(struct selector *s, int b, bool on)
{
    if (on) {
        s->bits[b / 64] |= 1ULL << (b % 64);
    } else {
        s->bits[b / 64] &= ~(1ULL << (b % 64));
        s->flags &= ~(unsigned)SEL_ALLCOMMANDS;
    }
}

static int sub_bit(int sub) { return RESP_CMD_COUNT + sub; }

static void reset_firstargs_for(struct selector *s, int bit)
{
    size_t j = 0;
    for (size_t i = 0; i < s->nfa; i++) {
        if (s->fa[i].bit == bit)
            xfree(s->fa[i].arg);
        else
            s->fa[j++] = s->fa[i];
    }
    s->nfa = j;
}

static void reset_firstargs(struct selector *s)
{
    for (size_t i = 0; i < s->nfa; i++)
        xfree(s->fa[i].arg);
    xfree(s->fa);
    s->fa = NULL;
    s->nfa = 0;
}

/* Redis's ACLChangeSelectorPerm: a container's subcommands follow it. */
static void change_perm(struct selector *s, int bit, bool allow)
{
    bit_set(s, bit, allow);
    reset_firstargs_for(s, bit);
    if (bit < RESP_CMD_COUNT && resp_cmd_is_container(bit))
        for (int i = 0; i < resp_subcmd_count; i++)
            if (resp_subcmds[i].parent == bit)
                bit_set(s, sub_bit(i), allow);
}

static void set_category(struct selector *s, uint32_t cat, bool allow)
{
    for (int id = 0; id < RESP_CMD_COUNT; id++) {
        if (resp_cmd_infos[id].cats & cat)
            change_perm(s, id, allow);
        for (int i = 0; i < resp_subcmd_count; i++)
            if (resp_subcmds[i].parent == id && (resp_subcmd_infos[i].info.cats & cat))
                change_perm(s, sub_bit(i), allow);
    }
}

static uint32_t bit_cats(int b)
{
    return b < RESP_CMD_COUNT ? resp_cmd_infos[b].cats : resp_subcmd_infos[b - RESP_CMD_COUNT].info.cats;
}

static void count_category(const struct selector *s, uint32_t cat, unsigned long *on, unsigned long *off)
{
    *on = *off = 0;
    for (int b = 0; b < nbits_used(); b++) {
        if (bit_cats(b) & cat) {
            if (bit_get(s, b))
                (*on)++;
            else
                (*off)++;
        }
    }
}

static uint32_t category_by_name(const char *name, size_t len)
{
    for (int i = 0; i < RESP_ACL_NCATS; i++)
        if (strlen(resp_acl_cat_names[i]) == len && strncasecmp(resp_acl_cat_names[i], name, len) == 0)
            return 1u << i;
    return 0;
}

/* "get", "config|get": the bit, or -1. A container alone is its own bit. */
static int lookup_bit(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    if (!bar)
        return resp_cmd_lookup(name, len);
    int id = resp_cmd_lookup(name, (size_t)(bar - name));
    if (id < 0)
        return -1;
    const char *sub = bar + 1;
    size_t sl = len - (size_t)(sub - name);
    if (memchr(sub, '|', sl))
        return -1;
    int i = resp_subcmd_lookup(id, sub, sl);
    return i < 0 ? -1 : sub_bit(i);
}

static void bit_name(int b, char *out, size_t cap)
{
    if (b < RESP_CMD_COUNT)
        snprintf(out, cap, "%s", resp_cmds[b].name);
    else
        snprintf(out, cap, "%s", resp_subcmd_infos[b - RESP_CMD_COUNT].fullname);
}

/* ---- selectors and users ------------------------------------------------------ */

static void patterns_free(struct pattern *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xfree(p[i].s);
    xfree(p);
}

static void patterns_reset(struct pattern **v, size_t *n)
{
    patterns_free(*v, *n);
    *v = NULL;
    *n = 0;
}

static void selector_clear(struct selector *s)
{
    patterns_free(s->keys, s->nkeys);
    patterns_free(s->chans, s->nchans);
    reset_firstargs(s);
    memset(s, 0, sizeof *s);
}

static struct pattern *patterns_dup(const struct pattern *p, size_t n)
{
    if (!n)
        return NULL;
    struct pattern *q = xmalloc(n * sizeof *q);
    for (size_t i = 0; i < n; i++) {
        q[i] = p[i];
        q[i].s = dupmem(p[i].s, p[i].len);
    }
    return q;
}

static void selector_copy(struct selector *dst, const struct selector *src)
{
    *dst = *src;
    dst->keys = patterns_dup(src->keys, src->nkeys);
    dst->chans = patterns_dup(src->chans, src->nchans);
    dst->fa = src->nfa ? xmalloc(src->nfa * sizeof *dst->fa) : NULL;
    for (size_t i = 0; i < src->nfa; i++) {
        dst->fa[i].bit = src->fa[i].bit;
        dst->fa[i].arg = xstrdup(src->fa[i].arg);
    }
}

static void user_clear(struct kv_acl_user *u)
{
    for (size_t i = 0; i < u->nsel; i++)
        selector_clear(&u->sel[i]);
    xfree(u->sel);
    xfree(u->pass);
    u->sel = NULL;
    u->pass = NULL;
    u->nsel = u->npass = 0;
}

static void user_free(struct kv_acl_user *u)
{
    user_clear(u);
    xfree(u->name);
    xfree(u);
}

static void update_open(struct kv_acl_user *u)
{
    const struct selector *r = &u->sel[0];
    unsigned all = SEL_ALLCOMMANDS | SEL_ALLKEYS | SEL_ALLCHANNELS;
    u->open = (u->flags & U_ON) && (r->flags & all) == all;
}

static struct kv_acl_user *user_new(const char *name, size_t len)
{
    struct kv_acl_user *u = xcalloc(1, sizeof *u);
    u->name = dupmem(name, len);
    u->name_len = len;
    u->flags = U_OFF;
    u->sel = xcalloc(1, sizeof *u->sel);
    u->sel[0].flags = SEL_ROOT | (pubsub_default_all ? SEL_ALLCHANNELS : 0);
    u->nsel = 1;
    return u;
}

/* dst gets src's rules (not its name). */
static void user_copy_rules(struct kv_acl_user *dst, const struct kv_acl_user *src)
{
    user_clear(dst);
    dst->flags = src->flags;
    dst->npass = src->npass;
    dst->pass = src->npass ? xmalloc(src->npass * sizeof *src->pass) : NULL;
    if (src->npass)
        memcpy(dst->pass, src->pass, src->npass * sizeof *src->pass);
    dst->nsel = src->nsel;
    dst->sel = xcalloc(src->nsel, sizeof *dst->sel);
    for (size_t i = 0; i < src->nsel; i++)
        selector_copy(&dst->sel[i], &src->sel[i]);
    update_open(dst);
}

/* Redis's ACLStringHasSpaces: white space or a NUL (names, patterns). */
static bool has_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\0')
            return true;
    return false;
}

static void add_pattern(struct pattern **v, size_t *n, const char *s, size_t len, unsigned perm)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].len == len && memcmp((*v)[i].s, s, len) == 0) {
            (*v)[i].perm |= perm;
            return;
        }
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    struct pattern *p = &(*v)[(*n)++];
    p->s = dupmem(s, len);
    p->len = len;
    p->perm = perm;
}

static bool op_is(const char *op, size_t len, const char *w)
{
    return len == strlen(w) && strncasecmp(op, w, len) == 0;
}

/* Redis's ACLSetSelector: one rule about commands, keys or channels. */
static int selector_rule(struct selector *s, const char *op, size_t len)
{
    if (op_is(op, len, "allkeys") || (len == 2 && op[0] == '~' && op[1] == '*')) {
        s->flags |= SEL_ALLKEYS;
        patterns_reset(&s->keys, &s->nkeys);
    } else if (op_is(op, len, "resetkeys")) {
        s->flags &= ~(unsigned)SEL_ALLKEYS;
        patterns_reset(&s->keys, &s->nkeys);
    } else if (op_is(op, len, "allchannels") || (len == 2 && op[0] == '&' && op[1] == '*')) {
        s->flags |= SEL_ALLCHANNELS;
        patterns_reset(&s->chans, &s->nchans);
    } else if (op_is(op, len, "resetchannels")) {
        s->flags &= ~(unsigned)SEL_ALLCHANNELS;
        patterns_reset(&s->chans, &s->nchans);
    } else if (op_is(op, len, "allcommands") || op_is(op, len, "+@all")) {
        s->flags |= SEL_ALLCOMMANDS;
        memset(s->bits, 0xff, sizeof s->bits);
        reset_firstargs(s);
    } else if (op_is(op, len, "nocommands") || op_is(op, len, "-@all")) {
        s->flags &= ~(unsigned)SEL_ALLCOMMANDS;
        memset(s->bits, 0, sizeof s->bits);
        reset_firstargs(s);
    } else if (len > 0 && (op[0] == '~' || op[0] == '%')) {
        if (s->flags & SEL_ALLKEYS)
            return E_AFTER_ALLKEYS;
        unsigned perm = 0;
        size_t off = 1;
        if (op[0] == '%') {
            for (; off < len; off++) {
                char ch = op[off];
                if ((ch == 'R' || ch == 'r') && !(perm & PERM_R)) {
                    perm |= PERM_R;
                } else if ((ch == 'W' || ch == 'w') && !(perm & PERM_W)) {
                    perm |= PERM_W;
                } else if (ch == '~') {
                    off++;
                    break;
                } else {
                    return E_SYNTAX;
                }
            }
            if (!perm) /* "%R" alone is the empty pattern, as in Redis */
                return E_SYNTAX;
        } else {
            perm = PERM_RW;
        }
        const char *p = op + off;
        size_t pl = len - off;
        if (pl == 1 && p[0] == '*' && perm == PERM_RW) {
            s->flags |= SEL_ALLKEYS;
            patterns_reset(&s->keys, &s->nkeys);
        } else {
            if (has_space(p, pl))
                return E_SYNTAX;
            add_pattern(&s->keys, &s->nkeys, p, pl, perm);
        }
    } else if (len > 0 && op[0] == '&') {
        if (s->flags & SEL_ALLCHANNELS)
            return E_AFTER_ALLCHANNELS;
        if (has_space(op + 1, len - 1))
            return E_SYNTAX;
        add_pattern(&s->chans, &s->nchans, op + 1, len - 1, 0);
    } else if (len > 1 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
        /* command and category names end at a NUL, as Redis reads them as C strings */
        uint32_t cat = category_by_name(op + 2, strnlen(op + 2, len - 2));
        if (!cat)
            return E_UNKNOWN;
        set_category(s, cat, op[0] == '+');
    } else if (len > 0 && op[0] == '+') {
        const char *name = op + 1;
        size_t nl = strnlen(name, len - 1);
        const char *bar = memchr(name, '|', nl);
        if (!bar) {
            int id = resp_cmd_lookup(name, nl);
            if (id < 0)
                return E_UNKNOWN;
            change_perm(s, id, true);
            return E_OK;
        }
        /* the last '|' splits a first argument off (Redis's strrchr) */
        const char *last = name + nl - 1;
        while (*last != '|')
            last--;
        int base = lookup_bit(name, (size_t)(last - name));
        if (base < 0)
            return E_UNKNOWN;
        if (base >= RESP_CMD_COUNT)
            return E_FIRSTARG_SUB;
        const char *arg = last + 1;
        size_t al = nl - (size_t)(arg - name);
        /* Redis takes any first argument, but one with white space would not
         * survive ACL SAVE and LOAD (a rule is a space-separated word there) */
        if (al == 0 || has_space(arg, al))
            return E_SYNTAX;
        if (resp_cmd_is_container(base)) {
            int b = lookup_bit(name, nl);
            if (b < 0)
                return E_UNKNOWN;
            change_perm(s, b, true);
            return E_OK;
        }
        for (size_t i = 0; i < s->nfa; i++)
            if (s->fa[i].bit == base && strlen(s->fa[i].arg) == al && strncasecmp(s->fa[i].arg, arg, al) == 0)
                return E_OK;
        s->fa = xrealloc(s->fa, (s->nfa + 1) * sizeof *s->fa);
        s->fa[s->nfa].bit = base;
        s->fa[s->nfa].arg = xstrndup(arg, al);
        s->nfa++;
    } else if (len > 0 && op[0] == '-') {
        int b = lookup_bit(op + 1, strnlen(op + 1, len - 1));
        if (b < 0)
            return E_UNKNOWN;
        change_perm(s, b, false);
    } else {
        return E_SYNTAX;
    }
    return E_OK;
}

static bool valid_hash(const char *h, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    return true;
}

static void hash_password(const char *pw, size_t len, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)pw, len, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The digest a password rule names: >pw and <pw hash the password, #hex
 * and !hex give it (false when it is not 64 lowercase hex digits). */
static bool rule_digest(const char *op, size_t len, char h[65])
{
    if (op[0] == '>' || op[0] == '<') {
        hash_password(op + 1, len - 1, h);
        return true;
    }
    if (!valid_hash(op + 1, len - 1))
        return false;
    memcpy(h, op + 1, 64);
    h[64] = '\0';
    return true;
}

static int find_pass(const struct kv_acl_user *u, const char *h)
{
    for (size_t i = 0; i < u->npass; i++)
        if (memcmp(u->pass[i], h, 64) == 0)
            return (int)i;
    return -1;
}

/* Rules of one selector given as "(rule rule ...)". */
static int selector_from_ops(struct kv_acl_user *u, const char *op, size_t len)
{
    struct selector s = {0};
    s.flags = pubsub_default_all ? SEL_ALLCHANNELS : 0;
    const char *p = op + 1, *end = op + len - 1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (p > w) {
            /* a rule ending in ')' would end the selector early when ACL
             * SAVE's line is read back (Redis takes it, and misreads its file) */
            int e = p[-1] == ')' ? E_SYNTAX : selector_rule(&s, w, (size_t)(p - w));
            if (e != E_OK) {
                selector_clear(&s);
                return e;
            }
        }
    }
    u->sel = xrealloc(u->sel, (u->nsel + 1) * sizeof *u->sel);
    u->sel[u->nsel++] = s;
    return E_OK;
}

/* Redis's ACLSetUser: one rule of ACL SETUSER. */
static int user_rule(struct kv_acl_user *u, const char *op, size_t len)
{
    int e = E_OK;
    if (len == 0) /* an empty rule does nothing (a double space in an ACL file) */
        return E_OK;
    if (op_is(op, len, "on")) {
        u->flags = (u->flags | U_ON) & ~(unsigned)U_OFF;
    } else if (op_is(op, len, "off")) {
        u->flags = (u->flags | U_OFF) & ~(unsigned)U_ON;
    } else if (op_is(op, len, "skip-sanitize-payload")) {
        u->flags = (u->flags | U_SKIP_SANITIZE) & ~(unsigned)U_SANITIZE;
    } else if (op_is(op, len, "sanitize-payload")) {
        u->flags = (u->flags | U_SANITIZE) & ~(unsigned)U_SKIP_SANITIZE;
    } else if (op_is(op, len, "nopass")) {
        u->flags |= U_NOPASS;
        xfree(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (op_is(op, len, "resetpass")) {
        u->flags &= ~(unsigned)U_NOPASS;
        xfree(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (len > 0 && (op[0] == '>' || op[0] == '#')) {
        char h[65];
        if (!rule_digest(op, len, h))
            return E_HASH;
        if (find_pass(u, h) < 0) {
            u->pass = xrealloc(u->pass, (u->npass + 1) * sizeof *u->pass);
            memcpy(u->pass[u->npass++], h, 65);
        }
        u->flags &= ~(unsigned)U_NOPASS;
    } else if (len > 0 && (op[0] == '<' || op[0] == '!')) {
        char h[65];
        if (!rule_digest(op, len, h))
            return E_HASH;
        int i = find_pass(u, h);
        if (i < 0)
            return E_NOPASS;
        memmove(u->pass[i], u->pass[i + 1], (u->npass - (size_t)i - 1) * sizeof *u->pass);
        u->npass--;
    } else if (len >= 2 && op[0] == '(' && op[len - 1] == ')') {
        e = selector_from_ops(u, op, len);
    } else if (op_is(op, len, "clearselectors")) {
        for (size_t i = 1; i < u->nsel; i++)
            selector_clear(&u->sel[i]);
        u->nsel = 1;
    } else if (op_is(op, len, "reset")) {
        user_rule(u, "resetpass", 9);
        user_rule(u, "resetkeys", 9);
        user_rule(u, pubsub_default_all ? "allchannels" : "resetchannels", pubsub_default_all ? 11 : 13);
        user_rule(u, "off", 3);
        user_rule(u, "sanitize-payload", 16);
        user_rule(u, "clearselectors", 14);
        user_rule(u, "-@all", 5);
    } else {
        e = selector_rule(&u->sel[0], op, len);
    }
    update_open(u);
    return e;
}

static const char *rule_error(int e)
{
    switch (e) {
    case E_SYNTAX:
        return "Syntax error";
    case E_UNKNOWN:
        return "Unknown command or category name in ACL";
    case E_AFTER_ALLKEYS:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
    case E_AFTER_ALLCHANNELS:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any "
               "effect. Try 'resetchannels' to start with an empty list of channels";
    case E_NOPASS:
        return "The password you are trying to remove from the user does not exist";
    case E_HASH:
        return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case E_FIRSTARG_SUB:
        return "Allowing first-arg of a subcommand is not supported";
    default:
        return "Unknown error";
    }
}

/* ---- the registry ----------------------------------------------------------- */

static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int r = memcmp(a, b, al < bl ? al : bl);
    return r ? r : (al < bl ? -1 : al > bl);
}

/* The index of the user, or -(insertion point) - 1. */
static long find_user(const struct kv_acl *a, const char *name, size_t len)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = name_cmp(a->users[mid]->name, a->users[mid]->name_len, name, len);
        if (r == 0)
            return (long)mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static struct kv_acl_user *get_user(const struct kv_acl *a, const char *name, size_t len)
{
    long i = find_user(a, name, len);
    return i >= 0 ? a->users[i] : NULL;
}

static void insert_user(struct kv_acl *a, struct kv_acl_user *u)
{
    long i = find_user(a, u->name, u->name_len);
    size_t at = (size_t)(-i - 1);
    a->users = xrealloc(a->users, (a->n + 1) * sizeof *a->users);
    memmove(&a->users[at + 1], &a->users[at], (a->n - at) * sizeof *a->users);
    a->users[at] = u;
    a->n++;
}

struct kv_acl *kv_acl_new(void)
{
    if (nbits_used() >= FUTURE_BIT) {
        fprintf(stderr, "acl: %d commands and subcommands do not fit %d bits\n", nbits_used(), ACL_BITS);
        abort();
    }
    struct kv_acl *a = xcalloc(1, sizeof *a);
    struct kv_acl_user *d = user_new("default", 7);
    static const char *const rules[] = {"+@all", "~*", "&*", "on", "nopass"};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        user_rule(d, rules[i], strlen(rules[i]));
    insert_user(a, d);
    a->def = d;
    return a;
}

static void log_entry_free(struct log_entry *e)
{
    xfree(e->object);
    xfree(e->user);
    xfree(e->cinfo);
    xfree(e);
}

void kv_acl_free(struct kv_acl *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        user_free(a->users[i]);
    xfree(a->users);
    for (size_t i = 0; i < a->nlog; i++)
        log_entry_free(a->log[i]);
    xfree(a->log);
    xfree(a);
}

struct kv_acl_user *kv_acl_default_user(struct kv_acl *a) { return a->def; }

void kv_acl_set_pubsub_default(bool allchannels) { pubsub_default_all = allchannels; }

bool kv_acl_default_open(struct kv_acl *a) { return (a->def->flags & U_NOPASS) && !(a->def->flags & U_OFF); }

void kv_acl_set_requirepass(struct kv_acl *a, const char *pass)
{
    user_rule(a->def, "resetpass", 9);
    if (pass && pass[0]) {
        char h[65];
        hash_password(pass, strlen(pass), h);
        a->def->pass = xrealloc(a->def->pass, sizeof *a->def->pass);
        memcpy(a->def->pass[0], h, 65);
        a->def->npass = 1;
    } else {
        user_rule(a->def, "nopass", 6);
    }
}

const char *kv_acl_user_name(const struct kv_acl_user *u) { return u->name; }

struct kv_acl_user *kv_acl_find_user(struct kv_acl *a, const char *name, size_t len) { return get_user(a, name, len); }

bool kv_acl_user_unrestricted(const struct kv_acl_user *u) { return u->open; }

/* ---- the log --------------------------------------------------------------- */

static const char *const reason_names[] = {"", "command", "key", "auth", "channel"};
static const char *const ctx_names[] = {"toplevel", "multi", "lua", "multi"};

static void log_add(struct kv_client *c, int reason, enum kv_acl_ctx ctx, const char *obj, size_t olen,
                    const char *user, size_t ulen)
{
    struct kv_server *s = c->srv;
    struct kv_acl *a = s->acl;
    struct buf ci;
    buf_init(&ci);
    s->ops->client_info(c, c, &ci);
    char *cinfo = xstrndup(buf_head(&ci), buf_pending(&ci) ? buf_pending(&ci) - 1 : 0); /* without its newline */
    buf_deinit(&ci);
    long long now = util_time_ms();
    for (size_t i = 0; i < a->nlog && i < 10; i++) {
        struct log_entry *e = a->log[i];
        if (e->reason == reason && e->ctx == ctx && e->object_len == olen && memcmp(e->object, obj, olen) == 0 &&
            e->user_len == ulen && memcmp(e->user, user, ulen) == 0 && now - e->ctime_ms <= LOG_GROUP_MS) {
            e->count++;
            e->ctime_ms = now;
            xfree(e->cinfo);
            e->cinfo = cinfo;
            memmove(&a->log[1], &a->log[0], i * sizeof *a->log);
            a->log[0] = e;
            return;
        }
    }
    struct log_entry *e = xcalloc(1, sizeof *e);
    e->count = 1;
    e->reason = reason;
    e->ctx = ctx;
    e->object = dupmem(obj, olen);
    e->object_len = olen;
    e->user = dupmem(user, ulen);
    e->user_len = ulen;
    e->ctime_ms = now;
    e->cinfo = cinfo;
    a->log = xrealloc(a->log, (a->nlog + 1) * sizeof *a->log);
    memmove(&a->log[1], &a->log[0], a->nlog * sizeof *a->log);
    a->log[0] = e;
    a->nlog++;
    while (a->nlog > (size_t)s->cfg.acllog_max_len)
        log_entry_free(a->log[--a->nlog]);
}

/* ---- the check ---------------------------------------------------------------- */

static bool key_allowed(const struct selector *s, const struct resp_arg *key, unsigned kflags)
{
    unsigned need = 0;
    if (kflags & RESP_KEY_ACCESS)
        need |= PERM_R;
    if (kflags & (RESP_KEY_INSERT | RESP_KEY_DELETE | RESP_KEY_UPDATE))
        need |= PERM_W;
    for (size_t i = 0; i < s->nkeys; i++)
        if ((s->keys[i].perm & need) == need && util_glob_match(s->keys[i].s, s->keys[i].len, key->ptr, key->len, false))
            return true;
    return false;
}

static bool channel_allowed(const struct selector *s, const struct resp_arg *ch, bool pattern)
{
    for (size_t i = 0; i < s->nchans; i++) {
        const struct pattern *p = &s->chans[i];
        if (pattern ? (p->len == ch->len && memcmp(p->s, ch->ptr, ch->len) == 0)
                    : util_glob_match(p->s, p->len, ch->ptr, ch->len, false))
            return true;
    }
    return false;
}

/* The channels a command names: [from, argc) or just argv[1]; pattern for PSUBSCRIBE. */
static bool command_channels(int id, int argc, int *from, int *to, bool *pattern)
{
    *pattern = false;
    switch (id) {
    case RESP_CMD_PUBLISH:
    case RESP_CMD_SPUBLISH:
        *from = 1, *to = 2;
        return true;
    case RESP_CMD_PSUBSCRIBE:
        *pattern = true;
        /* fallthrough */
    case RESP_CMD_SUBSCRIBE:
    case RESP_CMD_SSUBSCRIBE:
        *from = 1, *to = argc;
        return true;
    default:
        return false;
    }
}

struct keys_cache {
    bool init;
    int n;
    int *pos;
};

/* Redis's ACLSelectorCheckCmd: DENY_OK or the denial, *errpos its argument. */
static int selector_check(const struct selector *s, int id, int bit, int argc, const struct resp_arg *argv,
                          struct keys_cache *kc, int *errpos)
{
    if (!(s->flags & SEL_ALLCOMMANDS) && !(resp_cmds[id].flags & CMD_NOAUTH) && !bit_get(s, bit)) {
        int argi = bit >= RESP_CMD_COUNT ? 2 : 1;
        bool ok = false;
        for (size_t i = 0; i < s->nfa && argc > argi; i++)
            if (s->fa[i].bit == bit && strlen(s->fa[i].arg) == argv[argi].len &&
                strncasecmp(s->fa[i].arg, argv[argi].ptr, argv[argi].len) == 0)
                ok = true;
        if (!ok)
            return DENY_CMD;
    }
    if (!(s->flags & SEL_ALLKEYS)) {
        if (!kc->init) {
            kc->init = true;
            kc->pos = xmalloc((size_t)argc * sizeof *kc->pos);
            kc->n = resp_cmd_keys(id, argc, argv, kc->pos);
            if (kc->n < 0)
                kc->n = 0;
        }
        for (int i = 0; i < kc->n; i++) {
            int p = kc->pos[i];
            unsigned kf = resp_cmd_key_flags(id, argc, argv, p);
            if (kf & RESP_KEY_NOT_KEY) /* SPUBLISH's channel: checked as a channel below */
                continue;
            if (!key_allowed(s, &argv[p], kf)) {
                *errpos = p;
                return DENY_KEY;
            }
        }
    }
    int from, to;
    bool pattern;
    if (!(s->flags & SEL_ALLCHANNELS) && command_channels(id, argc, &from, &to, &pattern))
        for (int i = from; i < to; i++)
            if (!channel_allowed(s, &argv[i], pattern)) {
                *errpos = i;
                return DENY_CHANNEL;
            }
    return DENY_OK;
}

/* Redis's ACLCheckAllUserCommandPerm: allowed by one selector, or the most
 * telling denial (a key or channel over the command, the later argument). */
static int user_check(const struct kv_acl_user *u, int id, int bit, int argc, const struct resp_arg *argv, int *errpos)
{
    struct keys_cache kc = {0};
    int worst = DENY_CMD, worst_pos = 0;
    for (size_t i = 0; i < u->nsel; i++) {
        int pos = 0;
        int r = selector_check(&u->sel[i], id, bit, argc, argv, &kc, &pos);
        if (r == DENY_OK) {
            xfree(kc.pos);
            return DENY_OK;
        }
        if (r > worst || (r == worst && pos > worst_pos)) {
            worst = r;
            worst_pos = pos;
        }
    }
    xfree(kc.pos);
    *errpos = worst_pos;
    return worst;
}

/* The command's bit: its subcommand's when it has one; -1 for an unknown
 * subcommand (the handler answers that, as Redis does before any check). */
static int command_bit(int id, int argc, const struct resp_arg *argv)
{
    if (!resp_cmd_is_container(id) || argc < 2)
        return id;
    int sub = resp_subcmd_lookup(id, argv[1].ptr, argv[1].len);
    return sub < 0 ? -1 : sub_bit(sub);
}

/* The texts of a denial: DRYRUN's (verbose), a script's, EXEC's, a command's. */
static void deny_message(int r, int bit, const struct resp_arg *arg, bool verbose, enum kv_acl_ctx ctx, char *msg,
                         size_t cap)
{
    char name[64];
    bit_name(bit, name, sizeof name);
    if (!verbose && ctx == KV_ACL_LUA) {
        snprintf(msg, cap, "ERR The user executing the script can't %s",
                 r == DENY_CMD   ? "run this command or subcommand"
                 : r == DENY_KEY ? "access at least one of the keys mentioned in the command arguments"
                                 : "publish to the channel mentioned in the command");
    } else if (!verbose && ctx == KV_ACL_EXEC) {
        snprintf(msg, cap,
                 "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. "
                 "This command is no longer allowed for the following reason: %s",
                 r == DENY_CMD   ? "no permission to execute the command or subcommand"
                 : r == DENY_KEY ? "no permission to touch the specified keys"
                                 : "no permission to access one of the channels used as arguments");
    } else if (verbose) {
        if (r == DENY_CMD)
            snprintf(msg, cap, "This user has no permissions to run the '%s' command", name);
        else
            snprintf(msg, cap, "This user has no permissions to access the '%.*s' %s", (int)(arg->len > 512 ? 512 : arg->len),
                     arg->ptr, r == DENY_KEY ? "key" : "channel");
    } else if (r == DENY_CMD) {
        snprintf(msg, cap, "NOPERM this user has no permissions to run the '%s' command", name);
    } else {
        snprintf(msg, cap, "NOPERM this user has no permissions to access one of the %s used as arguments",
                 r == DENY_KEY ? "keys" : "channels");
    }
}

bool kv_acl_check(struct kv_client *c, enum kv_acl_ctx ctx, int id, int argc, const struct resp_arg *argv, char *msg,
                  size_t cap)
{
    const struct kv_acl_user *u = c->user;
    if (u->open)
        return true;
    int bit = command_bit(id, argc, argv);
    if (bit < 0)
        return true;
    int pos = 0;
    int r = user_check(u, id, bit, argc, argv, &pos);
    if (r == DENY_OK)
        return true;
    deny_message(r, bit, &argv[pos], false, ctx, msg, cap);
    if (ctx == KV_ACL_EXEC)
        ctx = KV_ACL_MULTI;
    char name[64];
    bit_name(bit, name, sizeof name);
    if (r == DENY_CMD)
        log_add(c, r, ctx, name, strlen(name), u->name, u->name_len);
    else
        log_add(c, r, ctx, argv[pos].ptr, argv[pos].len, u->name, u->name_len);
    return false;
}

bool kv_acl_auth(struct kv_client *c, enum kv_acl_ctx ctx, const struct resp_arg *user, const struct resp_arg *pass,
                 const struct resp_arg *cmd)
{
    struct kv_acl *a = c->srv->acl;
    struct kv_acl_user *u = user ? get_user(a, user->ptr, user->len) : a->def;
    bool ok = false;
    if (u && !(u->flags & U_OFF) && (u->flags & U_ON)) {
        if (u->flags & U_NOPASS) {
            ok = true;
        } else {
            char h[65];
            hash_password(pass->ptr, pass->len, h);
            for (size_t i = 0; i < u->npass; i++) { /* every byte of every digest: no early exit */
                unsigned char d = 0;
                for (int k = 0; k < 64; k++)
                    d |= (unsigned char)(u->pass[i][k] ^ h[k]);
                ok |= d == 0;
            }
        }
    }
    if (ok) {
        c->user = u;
        c->authed = true;
        return true;
    }
    if (user)
        log_add(c, DENY_AUTH, ctx, cmd->ptr, cmd->len, user->ptr, user->len);
    else
        log_add(c, DENY_AUTH, ctx, cmd->ptr, cmd->len, "default", 7);
    return false;
}

/* ---- describing users ------------------------------------------------------- */

static void describe_keys(struct buf *b, const struct selector *s)
{
    if (s->flags & SEL_ALLKEYS) {
        buf_puts(b, "~* ");
        return;
    }
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct pattern *p = &s->keys[i];
        if (p->perm == PERM_RW)
            buf_puts(b, "~");
        else
            buf_printf(b, "%%%s%s~", (p->perm & PERM_R) ? "R" : "", (p->perm & PERM_W) ? "W" : "");
        buf_append(b, p->s, p->len);
        buf_puts(b, " ");
    }
}

/* ACL LIST says "resetchannels" before the channels; GETUSER does not. */
static void describe_channels(struct buf *b, const struct selector *s, bool with_reset)
{
    if (s->flags & SEL_ALLCHANNELS) {
        buf_puts(b, "&* ");
        return;
    }
    if (with_reset)
        buf_puts(b, "resetchannels ");
    for (size_t i = 0; i < s->nchans; i++) {
        buf_puts(b, "&");
        buf_append(b, s->chans[i].s, s->chans[i].len);
        buf_puts(b, " ");
    }
}

/* Redis's ACLDescribeSelectorCommandRules: +@all or -@all, the categories
 * that fit best, then the single commands that still differ (in our command
 * order: Redis's follows its hash table). Ends with a space. */
static void describe_commands(struct buf *b, const struct selector *s)
{
    struct selector fake = {0}, temp = {0};
    bool additive = !bit_get(s, FUTURE_BIT);
    buf_puts(b, additive ? "-@all " : "+@all ");
    selector_rule(&fake, additive ? "-@all" : "+@all", 5);
    memcpy(temp.bits, s->bits, sizeof temp.bits);
    bool applied[RESP_ACL_NCATS] = {false};
    for (;;) {
        int best = -1;
        unsigned long mindiff = (unsigned long)-1, maxsame = 0;
        for (int j = 0; j < RESP_ACL_NCATS; j++) {
            if (applied[j])
                continue;
            unsigned long on, off;
            count_category(&temp, 1u << j, &on, &off);
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0)
            break;
        set_category(&fake, 1u << best, additive);
        set_category(&temp, 1u << best, !additive);
        buf_printf(b, "%s%s ", additive ? "+@" : "-@", resp_acl_cat_names[best]);
        applied[best] = true;
    }
    for (int id = 0; id < RESP_CMD_COUNT; id++) {
        int bits[64];
        int nb = 0;
        bits[nb++] = id;
        for (int i = 0; i < resp_subcmd_count && nb < 64; i++)
            if (resp_subcmds[i].parent == id)
                bits[nb++] = sub_bit(i);
        for (int k = 0; k < nb; k++) {
            int bt = bits[k];
            bool ub = bit_get(s, bt), fb = bit_get(&fake, bt);
            if (ub != fb) {
                char name[64];
                bit_name(bt, name, sizeof name);
                buf_printf(b, "%s%s ", ub ? "+" : "-", name);
                change_perm(&fake, bt, ub);
            }
            if (k == 0 && !ub)
                for (size_t i = 0; i < s->nfa; i++)
                    if (s->fa[i].bit == id)
                        buf_printf(b, "+%s|%s ", resp_cmds[id].name, s->fa[i].arg);
        }
    }
    selector_clear(&fake);
    selector_clear(&temp);
}

static void trim_space(struct buf *b)
{
    if (buf_pending(b) && buf_head(b)[buf_pending(b) - 1] == ' ')
        b->len--;
}

static void describe_selector(struct buf *b, const struct selector *s)
{
    describe_keys(b, s);
    describe_channels(b, s, true);
    describe_commands(b, s);
    trim_space(b);
}

static void describe_user(struct buf *b, const struct kv_acl_user *u)
{
    buf_puts(b, "user ");
    buf_append(b, u->name, u->name_len);
    buf_puts(b, " ");
    for (int i = 0; i < 5; i++)
        if (u->flags & (1u << i))
            buf_printf(b, "%s ", user_flag_names[i]);
    for (size_t i = 0; i < u->npass; i++)
        buf_printf(b, "#%s ", u->pass[i]);
    describe_selector(b, &u->sel[0]);
    for (size_t i = 1; i < u->nsel; i++) {
        buf_puts(b, " (");
        describe_selector(b, &u->sel[i]);
        buf_puts(b, ")");
    }
}

static void reply_buf(struct kv_client *c, struct buf *b)
{
    resp_add_bulk(&c->out, buf_head(b), buf_pending(b));
    b->off = b->len = 0;
}

static void reply_selector_fields(struct kv_client *c, const struct selector *s, struct buf *b)
{
    resp_add_bulk_cstr(&c->out, "commands");
    describe_commands(b, s);
    trim_space(b);
    reply_buf(c, b);
    resp_add_bulk_cstr(&c->out, "keys");
    describe_keys(b, s);
    trim_space(b);
    reply_buf(c, b);
    resp_add_bulk_cstr(&c->out, "channels");
    describe_channels(b, s, false);
    trim_space(b);
    reply_buf(c, b);
}

static void getuser(struct kv_client *c, const struct resp_arg *name)
{
    struct kv_acl_user *u = get_user(c->srv->acl, name->ptr, name->len);
    struct buf *o = &c->out;
    if (!u) {
        resp_add_null(o, c->proto);
        return;
    }
    struct buf b;
    buf_init(&b);
    resp_add_map(o, c->proto, 6);
    resp_add_bulk_cstr(o, "flags");
    int nf = 0;
    for (int i = 0; i < 5; i++)
        nf += (u->flags >> i) & 1;
    resp_add_set(o, c->proto, nf);
    for (int i = 0; i < 5; i++)
        if (u->flags & (1u << i))
            resp_add_bulk_cstr(o, user_flag_names[i]);
    resp_add_bulk_cstr(o, "passwords");
    resp_add_array(o, (long long)u->npass);
    for (size_t i = 0; i < u->npass; i++)
        resp_add_bulk(o, u->pass[i], 64);
    reply_selector_fields(c, &u->sel[0], &b);
    resp_add_bulk_cstr(o, "selectors");
    resp_add_array(o, (long long)u->nsel - 1);
    for (size_t i = 1; i < u->nsel; i++) {
        resp_add_map(o, c->proto, 3);
        reply_selector_fields(c, &u->sel[i], &b);
    }
    buf_deinit(&b);
}

/* ---- ACL SETUSER ------------------------------------------------------------ */

/* Redis's ACLMergeSelectorArguments: "(a" "b)" is one rule "(a b)". Returns the
 * rules (each a NUL-terminated copy), or NULL with *bad the argument that opened
 * an unclosed selector. */
static char **merge_args(int argc, const struct resp_arg *argv, int *nout, size_t **lens, int *bad)
{
    char **out = xcalloc((size_t)argc + 1, sizeof *out);
    *lens = xcalloc((size_t)argc + 1, sizeof **lens);
    int n = 0;
    struct buf acc;
    buf_init(&acc);
    bool open = false;
    int open_at = 0;
    for (int j = 0; j < argc; j++) {
        const struct resp_arg *a = &argv[j];
        if (!open && a->len > 0 && a->ptr[0] == '(' && a->ptr[a->len - 1] != ')') {
            open = true;
            open_at = j;
            buf_append(&acc, a->ptr, a->len);
            continue;
        }
        if (open) {
            buf_puts(&acc, " ");
            buf_append(&acc, a->ptr, a->len);
            if (a->len > 0 && a->ptr[a->len - 1] == ')') {
                open = false;
                out[n] = dupmem(buf_head(&acc), buf_pending(&acc));
                (*lens)[n++] = buf_pending(&acc);
                acc.off = acc.len = 0;
            }
            continue;
        }
        out[n] = dupmem(a->ptr, a->len);
        (*lens)[n++] = a->len;
    }
    buf_deinit(&acc);
    if (open) {
        for (int i = 0; i < n; i++)
            xfree(out[i]);
        xfree(out);
        xfree(*lens);
        *bad = open_at;
        return NULL;
    }
    *nout = n;
    return out;
}

/* A subscription the user may keep: one selector lists it (Redis 7.0's
 * ACLKillPubsubClientsIfNeeded looks at the union of the selectors). */
static bool sub_allowed(const char *name, size_t len, bool pattern, void *arg)
{
    const struct kv_acl_user *u = arg;
    struct resp_arg ch = {name, len};
    for (size_t i = 0; i < u->nsel; i++)
        if ((u->sel[i].flags & SEL_ALLCHANNELS) || channel_allowed(&u->sel[i], &ch, pattern))
            return true;
    return false;
}

/* After u's rules changed: its subscribers that lost a channel go. */
static void kill_revoked_subscribers(struct kv_client *me, struct kv_acl_user *u)
{
    struct kv_server *s = me->srv;
    for (struct kv_client *x = s->registry; x; x = x->gnext)
        if (x->user == u && kv_pubsub_subscribed(x) && !kv_pubsub_all_subs(x, sub_allowed, u))
            s->ops->client_kill(me, x);
}

static void setuser(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_acl *a = c->srv->acl;
    const struct resp_arg *name = &argv[2];
    if (has_space(name->ptr, name->len) || memchr(name->ptr, '\0', name->len)) {
        kv_reply_error(c, "ERR Usernames can't contain spaces or null characters");
        return;
    }
    int n = 0, bad = 0;
    size_t *lens;
    char **rules = merge_args(argc - 3, argv + 3, &n, &lens, &bad);
    if (!rules) {
        const struct resp_arg *b = &argv[3 + bad];
        kv_reply_errorf(c, "ERR Unmatched parenthesis in acl selector starting at '%.*s'.",
                        (int)(b->len > 512 ? 512 : b->len), b->ptr);
        return;
    }
    struct kv_acl_user *u = get_user(a, name->ptr, name->len);
    struct kv_acl_user *t = user_new(name->ptr, name->len);
    if (u)
        user_copy_rules(t, u);
    for (int j = 0; j < n; j++) {
        int e = user_rule(t, rules[j], lens[j]);
        if (e != E_OK) {
            kv_reply_errorf(c, "ERR Error in ACL SETUSER modifier '%.*s': %s", (int)(lens[j] > 512 ? 512 : lens[j]),
                            rules[j], rule_error(e));
            user_free(t);
            goto done;
        }
    }
    if (u) {
        user_copy_rules(u, t);
        user_free(t);
        kill_revoked_subscribers(c, u);
    } else {
        update_open(t);
        insert_user(a, t);
    }
    resp_add_ok(&c->out);
done:
    for (int j = 0; j < n; j++)
        xfree(rules[j]);
    xfree(rules);
    xfree(lens);
}

/* ---- users of the config file --------------------------------------------- */

/* The words of a `user` line as rules for merge_args. */
static struct resp_arg *words_args(int argc, char **argv)
{
    struct resp_arg *a = xmalloc((size_t)(argc ? argc : 1) * sizeof *a);
    for (int i = 0; i < argc; i++)
        a[i] = (struct resp_arg){argv[i], strlen(argv[i])};
    return a;
}

/* Apply a `user` line's rules (argv[1..]) to u: E_OK, or the error with the
 * rule in *bad (-1: an unclosed selector). */
static int apply_words(struct kv_acl_user *u, int argc, char **argv, char *bad, size_t cap)
{
    struct resp_arg *a = words_args(argc, argv);
    int n = 0, open_at = 0, e = E_OK;
    size_t *lens;
    char **rules = merge_args(argc - 1, a + 1, &n, &lens, &open_at);
    xfree(a);
    if (!rules) {
        snprintf(bad, cap, "%s", argv[1 + open_at]);
        return -1;
    }
    for (int j = 0; j < n; j++) {
        if (e == E_OK && (e = user_rule(u, rules[j], lens[j])) != E_OK)
            snprintf(bad, cap, "%.*s", (int)lens[j], rules[j]);
        xfree(rules[j]);
    }
    xfree(rules);
    xfree(lens);
    return e;
}

bool kv_acl_rules_ok(int argc, char **argv, char *msg, size_t cap)
{
    if (has_space(argv[0], strlen(argv[0]))) {
        snprintf(msg, cap, "Usernames can't contain spaces or null characters");
        return false;
    }
    struct kv_acl_user *t = user_new(argv[0], strlen(argv[0]));
    char bad[256];
    int e = apply_words(t, argc, argv, bad, sizeof bad);
    user_free(t);
    if (e == -1)
        snprintf(msg, cap, "Unmatched parenthesis in acl selector starting at '%s'.", bad);
    else if (e != E_OK)
        snprintf(msg, cap, "Error in ACL SETUSER modifier '%s': %s", bad, rule_error(e));
    return e == E_OK;
}

bool kv_acl_load_config_users(struct kv_server *s, struct buf *err)
{
    struct kv_acl *a = s->acl;
    char *text = xstrdup(s->cfg.users ? s->cfg.users : "");
    bool ok = true;
    char *lsave = NULL;
    for (char *line = strtok_r(text, "\n", &lsave); line && ok; line = strtok_r(NULL, "\n", &lsave)) {
        char *argv[256], *wsave = NULL;
        int argc = 0;
        for (char *w = strtok_r(line, " ", &wsave); w && argc < 256; w = strtok_r(NULL, " ", &wsave))
            argv[argc++] = w;
        if (argc == 0)
            continue;
        struct kv_acl_user *u = get_user(a, argv[0], strlen(argv[0]));
        if (u && u != a->def) {
            buf_printf(err, "Duplicate user '%s' found", argv[0]);
            ok = false;
            break;
        }
        if (u) {
            user_rule(u, "reset", 5); /* `user default ...` starts the default user over */
        } else {
            u = user_new(argv[0], strlen(argv[0]));
            insert_user(a, u);
        }
        char bad[256];
        int e = apply_words(u, argc, argv, bad, sizeof bad);
        if (e != E_OK) {
            buf_printf(err, "Error loading ACL rule '%s' for the user named '%s': %s", bad, argv[0],
                       e == -1 ? "Unmatched parenthesis" : rule_error(e));
            ok = false;
        }
        update_open(u);
    }
    xfree(text);
    return ok;
}

/* ---- the ACL file ------------------------------------------------------------ */

static void acl_path(const struct kv_server *s, char *out, size_t cap)
{
    const char *f = s->cfg.aclfile;
    if (f[0] == '/' || !s->cfg.dir || !s->cfg.dir[0])
        snprintf(out, cap, "%s", f);
    else
        snprintf(out, cap, "%s/%s", s->cfg.dir, f);
}

static bool read_file(const char *path, struct buf *out, int *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = errno;
        return false;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    bool ok = !ferror(f);
    *err = ok ? 0 : errno;
    fclose(f);
    return ok;
}

/* One line "user <name> <rules...>" of an ACL file into set (Redis's
 * ACLLoadFromFile: tokens split at single spaces, so two spaces make an
 * empty rule, a syntax error). */
static void load_line(struct kv_acl *set, const char *file, int lineno, char *line, size_t len, struct buf *err)
{
    int cap = 8, argc = 0;
    struct resp_arg *argv = xmalloc((size_t)cap * sizeof *argv);
    const char *p = line, *end = line + len;
    for (;;) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *e = sp ? sp : end;
        if (argc == cap) {
            cap *= 2;
            argv = xrealloc(argv, (size_t)cap * sizeof *argv);
        }
        argv[argc].ptr = p;
        argv[argc].len = (size_t)(e - p);
        argc++;
        if (!sp)
            break;
        p = sp + 1;
    }
    if (argc < 2 || argv[0].len != 4 || memcmp(argv[0].ptr, "user", 4) != 0) {
        buf_printf(err, "%s:%d should start with user keyword followed by the username. ", file, lineno);
        goto done;
    }
    if (has_space(argv[1].ptr, argv[1].len)) {
        buf_printf(err, "'%s:%d: username '%.*s' contains invalid characters. ", file, lineno, (int)argv[1].len,
                   argv[1].ptr);
        goto done;
    }
    if (get_user(set, argv[1].ptr, argv[1].len)) {
        buf_printf(err, "WARNING: Duplicate user '%.*s' found on line %d. ", (int)argv[1].len, argv[1].ptr, lineno);
        goto done;
    }
    struct kv_acl_user *u = user_new(argv[1].ptr, argv[1].len);
    insert_user(set, u);
    int n = 0, bad = 0;
    size_t *lens;
    char **rules = merge_args(argc - 2, argv + 2, &n, &lens, &bad);
    if (!rules) {
        buf_printf(err, "%s:%d: Unmatched parenthesis in selector definition.", file, lineno);
        goto done;
    }
    for (int j = 0; j < n; j++) {
        size_t rl = lens[j];
        while (rl && (rules[j][rl - 1] == '\t' || rules[j][rl - 1] == '\r' || rules[j][rl - 1] == '\n'))
            rl--;
        int e = user_rule(u, rules[j], rl);
        if (e != E_OK)
            buf_printf(err, "%s:%d: %s. ", file, lineno, rule_error(e));
        xfree(rules[j]);
    }
    xfree(rules);
    xfree(lens);
done:
    xfree(argv);
}

static void set_free_users(struct kv_acl *set)
{
    for (size_t i = 0; i < set->n; i++)
        user_free(set->users[i]);
    xfree(set->users);
    set->users = NULL;
    set->n = 0;
}

bool kv_acl_load(struct kv_server *s, struct kv_client *me, struct buf *err)
{
    struct kv_acl *a = s->acl;
    char path[4096];
    acl_path(s, path, sizeof path);
    struct buf text;
    buf_init(&text);
    int e;
    if (!read_file(path, &text, &e)) {
        buf_printf(err, "Error loading ACLs, opening file '%s': %s", s->cfg.aclfile, strerror(e));
        buf_deinit(&text);
        return false;
    }
    struct kv_acl set = {0};
    size_t before = buf_pending(err);
    char *p = buf_head(&text), *end = buf_tail(&text);
    for (int lineno = 1; p < end; lineno++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *b = p;
        while (b < le && (*b == ' ' || *b == '\t' || *b == '\r'))
            b++;
        char *t = le;
        while (t > b && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
            t--;
        if (t > b)
            load_line(&set, s->cfg.aclfile, lineno, b, (size_t)(t - b), err);
        p = nl ? nl + 1 : end;
    }
    buf_deinit(&text);
    if (buf_pending(err) > before) {
        buf_puts(err, "WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        set_free_users(&set);
        return false;
    }
    struct kv_acl_user *nd = get_user(&set, "default", 7);
    if (!nd) {
        nd = user_new("default", 7);
        static const char *const rules[] = {"+@all", "~*", "&*", "on", "nopass"};
        for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
            user_rule(nd, rules[i], strlen(rules[i]));
        insert_user(&set, nd);
    }
    /* the default user keeps its object: clients point at it */
    user_copy_rules(a->def, nd);
    for (size_t i = 0; i < set.n; i++)
        if (set.users[i] == nd)
            set.users[i] = a->def;
    user_free(nd);
    /* the other users go, and their clients with them */
    for (size_t i = 0; i < a->n; i++) {
        struct kv_acl_user *u = a->users[i];
        if (u == a->def)
            continue;
        for (struct kv_client *x = s->registry; x; x = x->gnext)
            if (x->user == u) {
                x->user = a->def;
                x->authed = false;
                s->ops->client_kill(me ? me : x, x);
            }
        if (me && me->user == u) {
            me->user = a->def;
            me->authed = false;
        }
        user_free(u);
    }
    xfree(a->users);
    a->users = set.users;
    a->n = set.n;
    return true;
}

bool kv_acl_save(struct kv_server *s)
{
    char path[4096], tmp[4200];
    acl_path(s, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < s->acl->n; i++) {
        describe_user(&b, s->acl->users[i]);
        buf_puts(&b, "\n");
    }
    FILE *f = fopen(tmp, "w");
    bool ok = f && fwrite(buf_head(&b), 1, buf_pending(&b), f) == buf_pending(&b);
    if (f) {
        ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
        ok = fclose(f) == 0 && ok;
    }
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        log_warn("ACL SAVE: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    buf_deinit(&b);
    return ok;
}

/* ---- the ACL command ----------------------------------------------------- */

static const char *acl_help[] = {
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
};

static void cat(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct buf *o = &c->out;
    if (argc == 2) {
        resp_add_array(o, RESP_ACL_NCATS);
        for (int i = 0; i < RESP_ACL_NCATS; i++)
            resp_add_bulk_cstr(o, resp_acl_cat_names[i]);
        return;
    }
    uint32_t cat = category_by_name(argv[2].ptr, argv[2].len);
    if (!cat) {
        kv_reply_errorf(c, "ERR Unknown category '%.*s'", (int)(argv[2].len > 128 ? 128 : argv[2].len), argv[2].ptr);
        return;
    }
    int n = 0;
    for (int b = 0; b < nbits_used(); b++)
        n += (bit_cats(b) & cat) != 0;
    resp_add_array(o, n);
    for (int b = 0; b < nbits_used(); b++)
        if (bit_cats(b) & cat) {
            char name[64];
            bit_name(b, name, sizeof name);
            resp_add_bulk_cstr(o, name);
        }
}

static void deluser(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    struct kv_acl *a = s->acl;
    for (int j = 2; j < argc; j++)
        if (argv[j].len == 7 && memcmp(argv[j].ptr, "default", 7) == 0) {
            kv_reply_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    long long deleted = 0;
    for (int j = 2; j < argc; j++) {
        long i = find_user(a, argv[j].ptr, argv[j].len);
        if (i < 0)
            continue;
        struct kv_acl_user *u = a->users[i];
        /* its connections go: as Redis, they are first put back to an
         * unauthenticated default user */
        for (struct kv_client *x = s->registry; x; x = x->gnext)
            if (x->user == u) {
                x->user = a->def;
                x->authed = false;
                s->ops->client_kill(c, x);
            }
        if (c->user == u) {
            c->user = a->def;
            c->authed = false;
        }
        memmove(&a->users[i], &a->users[i + 1], (a->n - (size_t)i - 1) * sizeof *a->users);
        a->n--;
        user_free(u);
        deleted++;
    }
    resp_add_int(&c->out, deleted);
}

static void genpass(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long bits = 256;
    if (argc == 3 && !kv_arg_ll(c, &argv[2], &bits))
        return;
    if (bits <= 0 || bits > 4096) {
        kv_reply_error(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                          "number up to 4096");
        return;
    }
    size_t chars = (size_t)(bits + 3) / 4;
    unsigned char raw[512];
    size_t need = (chars + 1) / 2, got = 0;
    while (got < need) {
        ssize_t r = getrandom(raw + got, need - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    char hex[1025];
    for (size_t i = 0; i < need; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    resp_add_bulk(&c->out, hex, chars);
}

int kv_acl_dryrun(struct kv_acl *a, const char *user, size_t ulen, int argc, const struct resp_arg *argv, char *msg,
                  size_t cap)
{
    struct kv_acl_user *u = get_user(a, user, ulen);
    if (!u) {
        snprintf(msg, cap, "ERR User '%.*s' not found", (int)(ulen > 128 ? 128 : ulen), user);
        return -1;
    }
    int id = resp_cmd_lookup(argv[0].ptr, argv[0].len);
    int bit = id < 0 ? -1 : command_bit(id, argc, argv);
    if (bit < 0) {
        snprintf(msg, cap, "ERR Command '%.*s' not found", (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].ptr);
        return -1;
    }
    int arity = bit < RESP_CMD_COUNT ? resp_cmds[id].arity : resp_subcmds[bit - RESP_CMD_COUNT].arity;
    if ((arity > 0 && argc != arity) || argc < -arity) {
        char name[64];
        bit_name(bit, name, sizeof name);
        snprintf(msg, cap, "ERR wrong number of arguments for '%s' command", name);
        return -1;
    }
    int pos = 0;
    int r = user_check(u, id, bit, argc, argv, &pos);
    if (r != DENY_OK)
        deny_message(r, bit, &argv[pos], true, KV_ACL_TOPLEVEL, msg, cap);
    return r != DENY_OK;
}

static void dryrun(struct kv_client *c, int argc, struct resp_arg *argv)
{
    char msg[700];
    int r = kv_acl_dryrun(c->srv->acl, argv[2].ptr, argv[2].len, argc - 3, argv + 3, msg, sizeof msg);
    if (r < 0)
        kv_reply_error(c, msg);
    else if (r > 0)
        resp_add_bulk_cstr(&c->out, msg);
    else
        resp_add_ok(&c->out);
}

static void acl_log(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_acl *a = c->srv->acl;
    long long count = 10;
    if (argc == 3) {
        if (kv_arg_is(&argv[2], "reset")) {
            for (size_t i = 0; i < a->nlog; i++)
                log_entry_free(a->log[i]);
            a->nlog = 0;
            resp_add_ok(&c->out);
            return;
        }
        if (!kv_arg_ll(c, &argv[2], &count))
            return;
        if (count < 0)
            count = 0;
    }
    if ((size_t)count > a->nlog)
        count = (long long)a->nlog;
    struct buf *o = &c->out;
    long long now = util_time_ms();
    resp_add_array(o, count);
    for (long long i = 0; i < count; i++) {
        const struct log_entry *e = a->log[i];
        resp_add_map(o, c->proto, 7);
        resp_add_bulk_cstr(o, "count");
        resp_add_int(o, e->count);
        resp_add_bulk_cstr(o, "reason");
        resp_add_bulk_cstr(o, reason_names[e->reason]);
        resp_add_bulk_cstr(o, "context");
        resp_add_bulk_cstr(o, ctx_names[e->ctx]);
        resp_add_bulk_cstr(o, "object");
        resp_add_bulk(o, e->object, e->object_len);
        resp_add_bulk_cstr(o, "username");
        resp_add_bulk(o, e->user, e->user_len);
        resp_add_bulk_cstr(o, "age-seconds");
        resp_add_double(o, c->proto, (double)(now - e->ctime_ms) / 1000.0);
        resp_add_bulk_cstr(o, "client-info");
        resp_add_bulk_cstr(o, e->cinfo);
    }
}

void kv_cmd_ACL(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_acl *a = c->srv->acl;
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    struct buf *o = &c->out;
    int si = resp_subcmd_lookup(RESP_CMD_ACL, sub->ptr, sub->len);
    if (si >= 0) { /* Redis checks a subcommand's arity before it runs */
        int ar = resp_subcmds[si].arity;
        if ((ar > 0 && argc != ar) || argc < -ar) {
            kv_reply_errorf(c, "ERR wrong number of arguments for 'acl|%s' command", resp_subcmds[si].name);
            return;
        }
    }
    if (kv_arg_is(sub, "setuser") && argc >= 3) {
        setuser(c, argc, argv);
    } else if (kv_arg_is(sub, "getuser") && argc == 3) {
        getuser(c, &argv[2]);
    } else if (kv_arg_is(sub, "deluser") && argc >= 3) {
        deluser(c, argc, argv);
    } else if (kv_arg_is(sub, "users") && argc == 2) {
        resp_add_array(o, (long long)a->n);
        for (size_t i = 0; i < a->n; i++)
            resp_add_bulk(o, a->users[i]->name, a->users[i]->name_len);
    } else if (kv_arg_is(sub, "list") && argc == 2) {
        struct buf b;
        buf_init(&b);
        resp_add_array(o, (long long)a->n);
        for (size_t i = 0; i < a->n; i++) {
            describe_user(&b, a->users[i]);
            reply_buf(c, &b);
        }
        buf_deinit(&b);
    } else if (kv_arg_is(sub, "whoami") && argc == 2) {
        if (c->user)
            resp_add_bulk(o, c->user->name, c->user->name_len);
        else /* an internal client (the AOF loader, the primary's link), as Redis */
            resp_add_null(o, c->proto);
    } else if (kv_arg_is(sub, "cat") && argc <= 3) {
        cat(c, argc, argv);
    } else if (kv_arg_is(sub, "genpass") && argc <= 3) {
        genpass(c, argc, argv);
    } else if (kv_arg_is(sub, "dryrun") && argc >= 4) {
        dryrun(c, argc, argv);
    } else if (kv_arg_is(sub, "log") && argc <= 3) {
        acl_log(c, argc, argv);
    } else if ((kv_arg_is(sub, "load") || kv_arg_is(sub, "save")) && argc == 2 && c->srv->cfg.aclfile[0]) {
        if (kv_arg_is(sub, "save")) {
            if (kv_acl_save(c->srv))
                resp_add_ok(o);
            else
                kv_reply_error(c, "ERR There was an error trying to save the ACLs. Please check the server logs for "
                                  "more information");
            return;
        }
        struct buf err;
        buf_init(&err);
        if (kv_acl_load(c->srv, c, &err)) {
            resp_add_ok(o);
        } else {
            buf_putc(&err, '\0');
            kv_reply_errorf(c, "ERR %s", buf_head(&err));
        }
        buf_deinit(&err);
    } else if ((kv_arg_is(sub, "load") || kv_arg_is(sub, "save")) && argc == 2) {
        kv_reply_error(c, "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
                          "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
                          "Redis configuration file set) in order to store users in the Redis configuration.");
    } else if (kv_arg_is(sub, "help") && argc == 2) {
        kv_reply_help(c, acl_help, sizeof acl_help / sizeof acl_help[0]);
    } else if (si >= 0) {
        kv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                        (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    } else {
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try ACL HELP.", (int)(sub->len > 128 ? 128 : sub->len),
                        sub->ptr);
    }
}
