/*
 * route.c — read-only statement detection for the read/write split (see route.h).
 */
#include "pg/route.h"

#include <stdbool.h>
#include <string.h>

#include "core/util.h"

/* Functions whose call sends a statement to the primary. An entry ending in
 * '*' matches every name starting with the rest. */
static const char *const deny[] = {
    "nextval", "setval", "currval", "lastval", "pg_advisory*", "pg_try_advisory*", "pg_notify", "set_config",
    "txid_current", "txid_current_if_assigned", "pg_current_xact_id*", "pg_switch_wal", "pg_create_restore_point",
    "lo_*", "dblink*", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
    "pg_promote", "pg_logical_emit_message", "pg_backup_start", "pg_backup_stop",
    "pg_export_snapshot", "pg_create_*", "pg_drop_*", "pg_replication_*", "pg_stat_reset*", "pg_wal_replay_*",
    NULL,
};

static bool denied(const char *w, size_t n)
{
    for (int i = 0; deny[i]; i++) {
        size_t l = strlen(deny[i]);
        if (deny[i][l - 1] == '*') {
            if (n >= l - 1) {
                bool eq = true;
                for (size_t k = 0; k + 1 < l && eq; k++)
                    eq = (w[k] | 0x20) == deny[i][k] || w[k] == deny[i][k];
                if (eq)
                    return true;
            }
        } else if (util_strieq(w, n, deny[i])) {
            return true;
        }
    }
    return false;
}

static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80; }
static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }

enum pg_route pg_route_classify(const char *s, size_t n)
{
    int k;
    return pg_route_classify_n(s, n, &k);
}

enum pg_route pg_route_classify_n(const char *s, size_t n, int *nstatements)
{
    size_t i = 0;
    int words = 0;           /* words seen in the current statement */
    bool read = false;       /* the current statement started as a read */
    int statements = 0;
    *nstatements = 0;
    const char *prev = NULL; /* previous identifier, when the previous token was one */
    size_t prevlen = 0;
    bool prev_for = false;   /* previous keyword was FOR */
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            size_t start = i;
            int depth = 0;
            while (i < n) {
                if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
                    depth--;
                    i += 2;
                    if (depth == 0)
                        break;
                } else {
                    i++;
                }
            }
            if (depth != 0)
                return PG_ROUTE_PRIMARY;
            /* hint: the comment starts with "+primary" (spaces allowed after the +) */
            size_t k = start + 2;
            if (k < i && s[k] == '+') {
                k++;
                while (k < i && s[k] == ' ')
                    k++;
                if (i - k >= 7 && util_strieq(s + k, 7, "primary"))
                    return PG_ROUTE_PRIMARY;
            }
            continue;
        }
        if (c == '\'') {
            bool esc = i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') && prev && prevlen == 1;
            i++;
            for (;;) {
                if (i >= n)
                    return PG_ROUTE_PRIMARY;
                if (esc && s[i] == '\\') {
                    i += 2;
                    continue;
                }
                if (s[i] == '\'') {
                    if (i + 1 < n && s[i + 1] == '\'') {
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
            prev = NULL;
            prev_for = false;
            continue;
        }
        if (c == '"') {
            i++;
            for (;;) {
                if (i >= n)
                    return PG_ROUTE_PRIMARY;
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
            if (words++ == 0)
                read = false; /* a statement starting with a quoted name is not a read we know */
            prev = NULL;
            prev_for = false;
            continue;
        }
        if (c == '$') {
            /* $n parameter or $tag$ ... $tag$ */
            size_t k = i + 1;
            if (k < n && s[k] >= '0' && s[k] <= '9') {
                while (k < n && s[k] >= '0' && s[k] <= '9')
                    k++;
                i = k;
                prev = NULL;
                continue;
            }
            while (k < n && ident_char(s[k]) && s[k] != '$')
                k++;
            if (k >= n || s[k] != '$')
                return PG_ROUTE_PRIMARY;
            size_t taglen = k + 1 - i;
            const char *tag = s + i;
            i = k + 1;
            for (;;) {
                if (i + taglen > n)
                    return PG_ROUTE_PRIMARY;
                if (s[i] == '$' && memcmp(s + i, tag, taglen) == 0) {
                    i += taglen;
                    break;
                }
                i++;
            }
            prev = NULL;
            prev_for = false;
            continue;
        }
        if (ident_start(c)) {
            size_t k = i;
            while (k < n && ident_char(s[k]))
                k++;
            const char *w = s + i;
            size_t wl = k - i;
            i = k;
            if (words++ == 0) {
                statements++;
                read = util_strieq(w, wl, "select") || util_strieq(w, wl, "show") || util_strieq(w, wl, "table") ||
                       util_strieq(w, wl, "values");
                if (!read)
                    return PG_ROUTE_PRIMARY;
            } else if (util_strieq(w, wl, "into")) {
                return PG_ROUTE_PRIMARY;
            } else if (prev_for && (util_strieq(w, wl, "update") || util_strieq(w, wl, "share") ||
                                    util_strieq(w, wl, "no") || util_strieq(w, wl, "key"))) {
                return PG_ROUTE_PRIMARY;
            }
            prev_for = util_strieq(w, wl, "for");
            prev = w;
            prevlen = wl;
            continue;
        }
        if (c == '(') {
            if (prev && denied(prev, prevlen))
                return PG_ROUTE_PRIMARY;
        } else if (c == ';') {
            words = 0;
            read = false;
        }
        prev = NULL;
        prev_for = false;
        i++;
    }
    *nstatements = statements;
    return statements > 0 ? PG_ROUTE_READ : PG_ROUTE_PRIMARY;
}

static bool hint_sep(char c) { return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r'; }

/* The words of one hint comment s[0..n) (after the '+'). */
static void hint_words(const char *s, size_t n, struct pg_hints *h)
{
    size_t i = 0;
    while (i < n) {
        if (hint_sep(s[i])) {
            i++;
            continue;
        }
        size_t k = i;
        while (k < n && !hint_sep(s[k]) && s[k] != '=')
            k++;
        const char *w = s + i;
        size_t wl = k - i;
        if (k < n && s[k] == '=') {
            k++;
            const char *v = s + k;
            size_t vl;
            bool quoted = false;
            if (k < n && s[k] == '\'') {
                size_t j = ++k;
                while (j < n && !(s[j] == '\'' && !(j + 1 < n && s[j + 1] == '\'')))
                    j += s[j] == '\'' ? 2 : 1;
                v = s + k;
                vl = (j < n ? j : n) - k;
                quoted = true;
                k = j + 1;
            } else {
                while (k < n && !hint_sep(s[k]))
                    k++;
                vl = (size_t)(s + k - v);
            }
            if (util_strieq(w, wl, "shard_key")) {
                h->shard_key = v;
                h->shard_key_len = vl;
                h->shard_key_quoted = quoted;
            }
        } else if (util_strieq(w, wl, "primary")) {
            h->primary = true;
        } else if (util_strieq(w, wl, "replica")) {
            h->replica = true;
        }
        i = k;
    }
}

void pg_route_hints(const char *s, size_t n, struct pg_hints *h)
{
    memset(h, 0, sizeof *h);
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            size_t start = i + 2;
            int depth = 0;
            while (i < n) {
                if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
                    depth--;
                    i += 2;
                    if (depth == 0)
                        break;
                } else {
                    i++;
                }
            }
            if (depth != 0)
                return;
            if (start < i - 2 && s[start] == '+')
                hint_words(s + start + 1, i - 2 - start - 1, h);
        } else {
            return; /* the statement's first word: hints end here */
        }
    }
}

/* ---- SET scaleout.shard_key ------------------------------------------------------ */

struct tok {
    const char *p;
    size_t n;
    bool quoted;
};

/* Next token: a word (letters, digits, _ . - +), a 'string', or one punctuation
 * character. false at the end. */
static bool next_tok(const char *s, size_t n, size_t *i, struct tok *t)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
        (*i)++;
    if (*i >= n)
        return false;
    size_t k = *i;
    t->quoted = false;
    if (s[k] == '\'') {
        k++;
        size_t start = k;
        while (k < n && !(s[k] == '\'' && !(k + 1 < n && s[k + 1] == '\'')))
            k += s[k] == '\'' ? 2 : 1;
        if (k >= n)
            return false; /* unterminated */
        t->p = s + start;
        t->n = k - start;
        t->quoted = true;
        *i = k + 1;
        return true;
    }
    if (ident_char(s[k]) || s[k] == '.' || s[k] == '-' || s[k] == '+') {
        while (k < n && (ident_char(s[k]) || s[k] == '.' || s[k] == '-' || s[k] == '+'))
            k++;
    } else {
        k++;
    }
    t->p = s + *i;
    t->n = k - *i;
    *i = k;
    return true;
}

/* Only an optional ';' and spaces left. */
static bool at_end(const char *s, size_t n, size_t i)
{
    struct tok t;
    if (!next_tok(s, n, &i, &t))
        return true;
    return t.n == 1 && *t.p == ';' && !t.quoted && !next_tok(s, n, &i, &t);
}

enum pg_set pg_route_shard_set(const char *s, size_t n, char *val, size_t cap, size_t *vlen)
{
    size_t i = 0;
    struct tok a, b;
    *vlen = 0;
    if (!next_tok(s, n, &i, &a) || a.quoted || !next_tok(s, n, &i, &b) || b.quoted)
        return PG_SET_NONE;
    if (util_strieq(a.p, a.n, "discard") || util_strieq(a.p, a.n, "reset")) {
        if (util_strieq(b.p, b.n, "all") && at_end(s, n, i))
            return PG_SET_CLEAR_PASS;
        if (util_strieq(a.p, a.n, "reset") && util_strieq(b.p, b.n, "scaleout.shard_key") && at_end(s, n, i))
            return PG_SET_CLEAR;
        return PG_SET_NONE;
    }
    if (!util_strieq(a.p, a.n, "set"))
        return PG_SET_NONE;
    if (util_strieq(b.p, b.n, "session") || util_strieq(b.p, b.n, "local"))
        if (!next_tok(s, n, &i, &b) || b.quoted)
            return PG_SET_NONE;
    if (!util_strieq(b.p, b.n, "scaleout.shard_key"))
        return PG_SET_NONE;
    struct tok op, v;
    if (!next_tok(s, n, &i, &op) || op.quoted || !(util_strieq(op.p, op.n, "to") || (op.n == 1 && *op.p == '=')))
        return PG_SET_BAD;
    if (!next_tok(s, n, &i, &v) || (!v.quoted && v.n == 1 && !ident_char(*v.p)) || !at_end(s, n, i))
        return PG_SET_BAD;
    if (!v.quoted && util_strieq(v.p, v.n, "default"))
        return PG_SET_CLEAR;
    size_t o = 0;
    for (size_t k = 0; k < v.n; k++) {
        if (o + 1 >= cap)
            return PG_SET_BAD;
        val[o++] = v.p[k];
        if (v.quoted && v.p[k] == '\'')
            k++; /* '' is one quote */
    }
    val[o] = '\0';
    *vlen = o;
    return PG_SET_KEY;
}
