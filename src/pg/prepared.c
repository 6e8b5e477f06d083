/*
 * prepared.c — named prepared statements across server connections in
 * transaction mode (see prepared.h).
 *
 * Kinds of expected responses in a server's queue:
 *   'P'  a Parse we passed on         -> ParseComplete '1'
 *   'x'  a Parse we injected          -> '1', swallowed
 *   'g'  a Parse we answer ourselves  -> we write '1' when it reaches the front
 *   'k'  a Close we answer ourselves  -> we write '3' when it reaches the front
 *   'B'  Bind -> '2'      'C' Close -> '3'
 *   'D'  Describe -> ['t'] then 'T' or 'n'
 *   'E'  Execute -> 'C', 'I' or 's' (rows and COPY before)
 *   'S'  Sync, Query, FunctionCall -> 'Z' (for a Query: everything before it)
 * An ErrorResponse ends the entry at the front and every entry up to the
 * next 'S': the server skips those messages, so statements they would have
 * prepared are not there and answers we owed for them are not due.
 */
#include "pg/prepared.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "core/alloc.h"

/* ---- small containers ---------------------------------------------------------- */

void pg_prep_client_free(struct pg_prep_client *c)
{
    for (int i = 0; i < c->n; i++) {
        xfree(c->v[i].name);
        xfree(c->v[i].body);
    }
    xfree(c->v);
    memset(c, 0, sizeof *c);
}

void pg_prep_server_free(struct pg_prep_server *s)
{
    xfree(s->set);
    xfree(s->q);
    memset(s, 0, sizeof *s);
}

struct pg_stmt *pg_prep_find(struct pg_prep_client *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    return NULL;
}

static void drop_stmt(struct pg_prep_client *c, const char *name)
{
    struct pg_stmt *st = pg_prep_find(c, name);
    if (!st)
        return;
    xfree(st->name);
    xfree(st->body);
    *st = c->v[--c->n];
}

static bool set_has(const struct pg_prep_server *s, uint64_t h)
{
    for (int i = 0; i < s->n; i++)
        if (s->set[i] == h)
            return true;
    return false;
}

static void set_add(struct pg_prep_server *s, uint64_t h)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->set = xrealloc(s->set, (size_t)s->cap * sizeof *s->set);
    }
    s->set[s->n++] = h;
    if (s->n >= PG_PREP_MAX_SERVER)
        s->retire = true;
}

static void set_del(struct pg_prep_server *s, uint64_t h)
{
    for (int i = 0; i < s->n; i++)
        if (s->set[i] == h) {
            s->set[i] = s->set[--s->n];
            return;
        }
}

static void push(struct pg_prep_server *s, char kind, uint64_t h)
{
    if (s->qhead + s->qlen == s->qcap) {
        if (s->qhead > 0) {
            memmove(s->q, s->q + s->qhead, s->qlen * sizeof *s->q);
            s->qhead = 0;
        } else {
            s->qcap = s->qcap ? 2 * s->qcap : 16;
            s->q = xrealloc(s->q, s->qcap * sizeof *s->q);
        }
    }
    s->q[s->qhead + s->qlen].kind = kind;
    s->q[s->qhead + s->qlen].h = h;
    s->qlen++;
}

static struct pg_expect *front(struct pg_prep_server *s) { return s->qlen ? &s->q[s->qhead] : NULL; }

static void pop(struct pg_prep_server *s)
{
    s->qhead++;
    if (--s->qlen == 0)
        s->qhead = 0;
}

/* ---- client side ------------------------------------------------------------------ */

bool pg_prep_needs_whole(char type) { return type == 'P' || type == 'B' || type == 'D' || type == 'C' || type == 'Q'; }

static void server_name(char out[20], uint64_t h) { snprintf(out, 20, "so_%016llx", (unsigned long long)h); }

static void write_parse(struct buf *b, uint64_t h, const char *rest, size_t len)
{
    char nm[20];
    server_name(nm, h);
    size_t st = pg_begin(b, 'P');
    pg_put_str(b, nm);
    buf_append(b, rest, len);
    pg_end(b, st);
}

/* Make sure statement st is on the server (inject a Parse when it is not). */
static void ensure(struct pg_prep_server *ps, const struct pg_stmt *st, struct buf *out)
{
    if (set_has(ps, st->h))
        return;
    write_parse(out, st->h, st->body, st->len);
    set_add(ps, st->h);
    push(ps, 'x', st->h);
}

/* Whether the SQL text mentions DEALLOCATE or DISCARD anywhere (any case):
 * one pass over the text, which every simple Query goes through. */
static bool mentions_discard(const char *s, size_t n)
{
    for (size_t i = 0; i + 7 <= n; i++) {
        if ((s[i] | 0x20) != 'd')
            continue;
        if (i + 10 <= n && strncasecmp(s + i, "deallocate", 10) == 0)
            return true;
        if (strncasecmp(s + i, "discard", 7) == 0)
            return true;
    }
    return false;
}

long pg_prep_client_msg(struct pg_prep_client *pc, struct pg_prep_server *ps, const struct pg_msg *m,
                        const char *raw, struct buf *out)
{
    long whole = (long)m->len + 1;
    struct pg_rd r;
    switch (m->type) {
    case 'P': {
        pg_rd_init(&r, m);
        size_t nl;
        const char *name = pg_rd_str(&r, &nl);
        if (!name || nl == 0) {
            push(ps, 'P', 0);
            return whole;
        }
        const char *rest = r.p;
        size_t len = pg_rd_left(&r);
        uint64_t h = XXH3_64bits(rest, len);
        struct pg_stmt *st = pg_prep_find(pc, name);
        if (!st) {
            if (pc->n >= PG_PREP_MAX_CLIENT)
                return -1;
            if (pc->n == pc->cap) {
                pc->cap = pc->cap ? 2 * pc->cap : 8;
                pc->v = xrealloc(pc->v, (size_t)pc->cap * sizeof *pc->v);
            }
            st = &pc->v[pc->n++];
            st->name = xstrndup(name, nl);
        } else {
            xfree(st->body); /* a second Parse of a name replaces it */
        }
        st->h = h;
        st->body = xmalloc(len ? len : 1);
        memcpy(st->body, rest, len);
        st->len = len;
        if (set_has(ps, h)) {
            push(ps, 'g', h);
            return 0;
        }
        write_parse(out, h, rest, len);
        set_add(ps, h);
        push(ps, 'P', h);
        return 0;
    }
    case 'B':
    case 'D': {
        pg_rd_init(&r, m);
        const char *portal = NULL;
        char kind = 'S';
        if (m->type == 'B')
            portal = pg_rd_str(&r, NULL);
        else
            kind = (char)pg_rd_u8(&r);
        size_t nl;
        const char *name = pg_rd_str(&r, &nl);
        struct pg_stmt *st = (!r.err && kind == 'S' && nl > 0) ? pg_prep_find(pc, name) : NULL;
        if (!st) {
            push(ps, m->type, 0);
            return whole; /* unnamed, a portal, or unknown: the server answers as it would */
        }
        ensure(ps, st, out);
        push(ps, m->type, 0);
        char nm[20];
        server_name(nm, st->h);
        size_t b = pg_begin(out, m->type);
        if (m->type == 'B')
            pg_put_str(out, portal);
        else
            buf_putc(out, 'S');
        pg_put_str(out, nm);
        buf_append(out, r.p, pg_rd_left(&r));
        pg_end(out, b);
        return 0;
    }
    case 'C': {
        pg_rd_init(&r, m);
        char kind = (char)pg_rd_u8(&r);
        size_t nl;
        const char *name = pg_rd_str(&r, &nl);
        if (!r.err && kind == 'S' && nl > 0) {
            drop_stmt(pc, name); /* the server keeps it, as a cache for everyone */
            push(ps, 'k', 0);
            return 0;
        }
        push(ps, 'C', 0);
        return whole;
    }
    case 'Q':
        if (raw && mentions_discard(m->body, m->body_len))
            ps->retire = true;
        push(ps, 'S', 0);
        return whole;
    case 'S':
    case 'F':
        push(ps, 'S', 0);
        return whole;
    case 'E':
        push(ps, 'E', 0);
        return whole;
    default:
        return whole;
    }
}

/* ---- server side ----------------------------------------------------------------- */

static void skip_to_sync(struct pg_prep_server *s)
{
    struct pg_expect *f;
    while ((f = front(s)) != NULL && f->kind != 'S') {
        if (f->kind == 'P' || f->kind == 'x')
            set_del(s, f->h);
        pop(s);
    }
}

int pg_prep_server_msg(struct pg_prep_server *s, char type, bool *swallow)
{
    *swallow = false;
    struct pg_expect *f = front(s);
    switch (type) {
    case '1':
        if (!f || (f->kind != 'P' && f->kind != 'x'))
            return -1;
        *swallow = f->kind == 'x';
        pop(s);
        return 0;
    case '2':
        if (!f || f->kind != 'B')
            return -1;
        pop(s);
        return 0;
    case '3':
        if (!f || f->kind != 'C')
            return -1;
        pop(s);
        return 0;
    case 'T':
    case 'n':
        if (f && f->kind == 'D')
            pop(s);
        return 0;
    case 'C':
    case 'I':
    case 's':
        if (f && f->kind == 'E')
            pop(s);
        return 0;
    case 'E':
        if (f && f->kind != 'S')
            skip_to_sync(s);
        return 0;
    case 'Z':
        skip_to_sync(s);
        if (front(s))
            pop(s);
        return 0;
    default:
        return 0;
    }
}

void pg_prep_emit(struct pg_prep_server *s, struct buf *out)
{
    struct pg_expect *f;
    while ((f = front(s)) != NULL && (f->kind == 'g' || f->kind == 'k')) {
        size_t b = pg_begin(out, f->kind == 'g' ? '1' : '3');
        pg_end(out, b);
        pop(s);
    }
}
