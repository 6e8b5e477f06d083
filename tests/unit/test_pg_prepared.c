/*
 * test_pg_prepared.c — named prepared statements across server connections
 * (pg/prepared): renaming, injected Parse, answers of our own in protocol
 * order, and what an error makes the server skip.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "pg/prepared.h"
#include "proto/pg.h"

/* Build one client message into b; m points into b (whole). */
static void mk(struct buf *b, struct pg_msg *m, char type, const char *s1, const char *s2, int extra)
{
    b->off = b->len = 0;
    size_t st = pg_begin(b, type);
    if (type == 'D' || type == 'C')
        buf_putc(b, 'S');
    if (s1)
        pg_put_str(b, s1);
    if (s2)
        pg_put_str(b, s2);
    if (extra >= 0)
        pg_put_i16(b, (int16_t)extra);
    if (type == 'B')
        pg_put_i16(b, 0), pg_put_i16(b, 0);
    pg_end(b, st);
    cr_assert_gt(pg_parse_msg(buf_head(b), buf_pending(b), 0, m), 0);
}

static long send_msg(struct pg_prep_client *pc, struct pg_prep_server *ps, struct buf *out, char type, const char *s1,
                     const char *s2, int extra)
{
    struct buf b;
    buf_init(&b);
    struct pg_msg m;
    mk(&b, &m, type, s1, s2, extra);
    long k = pg_prep_client_msg(pc, ps, &m, buf_head(&b), out);
    buf_deinit(&b);
    return k;
}

/* The types of the messages in out, as a string. */
static void types(const struct buf *out, char *t)
{
    const char *p = buf_head(out);
    size_t left = buf_pending(out);
    while (left) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(p, left, 0, &m);
        cr_assert_gt(r, 0);
        *t++ = m.type;
        p += r;
        left -= (size_t)r;
    }
    *t = 0;
}

Test(pg_prepared, statement_moves_to_another_server)
{
    struct pg_prep_client pc = {0};
    struct pg_prep_server s1 = {0}, s2 = {0};
    struct buf out, cl;
    buf_init(&out);
    buf_init(&cl);
    char t[32];
    bool sw;
    /* Parse "q" on server 1: renamed and passed */
    cr_assert_eq(send_msg(&pc, &s1, &out, 'P', "q", "SELECT 1", 0), 0);
    cr_assert_eq(send_msg(&pc, &s1, &out, 'S', NULL, NULL, -1), 5);
    types(&out, t);
    cr_assert_str_eq(t, "P");
    cr_assert(strstr(buf_head(&out) + 5, "so_") == buf_head(&out) + 5);
    cr_assert_eq(pg_prep_server_msg(&s1, '1', &sw), 0);
    cr_assert_not(sw);
    cr_assert_eq(pg_prep_server_msg(&s1, 'Z', &sw), 0);
    cr_assert(pg_prep_idle(&s1));
    /* Bind "q" on server 2: a Parse is injected first and its answer swallowed */
    out.off = out.len = 0;
    cr_assert_eq(send_msg(&pc, &s2, &out, 'B', "", "q", 0), 0);
    types(&out, t);
    cr_assert_str_eq(t, "PB");
    cr_assert_eq(pg_prep_server_msg(&s2, '1', &sw), 0);
    cr_assert(sw);
    cr_assert_eq(pg_prep_server_msg(&s2, '2', &sw), 0);
    cr_assert_not(sw);
    /* Bind again on server 2: no second Parse */
    out.off = out.len = 0;
    cr_assert_eq(send_msg(&pc, &s2, &out, 'B', "", "q", 0), 0);
    types(&out, t);
    cr_assert_str_eq(t, "B");
    cr_assert_eq(pg_prep_server_msg(&s2, '2', &sw), 0);
    /* Parse of a statement server 2 has: answered by us, nothing sent */
    out.off = out.len = 0;
    cr_assert_eq(send_msg(&pc, &s2, &out, 'P', "q2", "SELECT 1", 0), 0);
    cr_assert_eq(buf_pending(&out), 0);
    pg_prep_emit(&s2, &cl);
    types(&cl, t);
    cr_assert_str_eq(t, "1");
    /* Close of a named statement: answered by us; the name is gone for the client */
    cl.off = cl.len = 0;
    cr_assert_eq(send_msg(&pc, &s2, &out, 'C', "q", NULL, -1), 0);
    pg_prep_emit(&s2, &cl);
    types(&cl, t);
    cr_assert_str_eq(t, "3");
    cr_assert_eq(send_msg(&pc, &s2, &out, 'B', "", "q", 0), (long)(1 + 4 + 1 + 2 + 2 + 2 + 2)); /* passed as is */
    /* an unasked-for answer is refused */
    struct pg_prep_server s3 = {0};
    cr_assert_eq(pg_prep_server_msg(&s3, '1', &sw), -1);
    pg_prep_client_free(&pc);
    pg_prep_server_free(&s1);
    pg_prep_server_free(&s2);
    buf_deinit(&out);
    buf_deinit(&cl);
}

Test(pg_prepared, error_skips_to_sync)
{
    struct pg_prep_client pc = {0};
    struct pg_prep_server s = {0};
    struct buf out, cl;
    buf_init(&out);
    buf_init(&cl);
    bool sw;
    /* P(a) B(a) E S | P(b) S: the first Parse fails */
    send_msg(&pc, &s, &out, 'P', "a", "SELEC", 0);
    send_msg(&pc, &s, &out, 'B', "", "a", 0);
    send_msg(&pc, &s, &out, 'E', NULL, NULL, -1);
    send_msg(&pc, &s, &out, 'S', NULL, NULL, -1);
    send_msg(&pc, &s, &out, 'P', "b", "SELECT 2", 0);
    send_msg(&pc, &s, &out, 'S', NULL, NULL, -1);
    cr_assert_eq(pg_prep_server_msg(&s, 'E', &sw), 0);
    cr_assert_eq(pg_prep_server_msg(&s, 'Z', &sw), 0);
    /* "a" is not on the server: binding it again injects a Parse */
    cr_assert_eq(pg_prep_server_msg(&s, '1', &sw), 0);
    cr_assert_eq(pg_prep_server_msg(&s, 'Z', &sw), 0);
    cr_assert(pg_prep_idle(&s));
    out.off = out.len = 0;
    send_msg(&pc, &s, &out, 'B', "", "a", 0);
    char t[8];
    types(&out, t);
    cr_assert_str_eq(t, "PB");
    pg_prep_client_free(&pc);
    pg_prep_server_free(&s);
    buf_deinit(&out);
    buf_deinit(&cl);
}
