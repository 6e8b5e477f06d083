/*
 * test_pg.c — unit tests for proto/pg (PostgreSQL protocol 3.0 parser and writers).
 *
 * Every message is parsed whole (an exact-size heap copy, so ASan sees an
 * over-read) and byte by byte (a fresh exact-size copy of each prefix): every
 * prefix must say "incomplete" or the same error as the whole, and the whole
 * must say the same thing at its full length. Writers are checked by parsing
 * what they wrote. The parser must not allocate.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "proto/pg.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static char *dup_exact(const char *p, size_t n)
{
    char *d = malloc(n ? n : 1);
    memcpy(d, p, n);
    return d;
}

/* A parse's results point into its input: the whole inputs are kept until
 * the test ends, then freed. */
static char *kept[256];
static size_t nkept;

static char *keep(char *d)
{
    cr_assert(nkept < sizeof kept / sizeof *kept);
    return kept[nkept++] = d;
}

static void free_kept(void)
{
    while (nkept)
        free(kept[--nkept]);
}

/* Parse a startup packet whole and byte by byte; the results must agree. */
static ssize_t startup_both(const char *p, size_t n, size_t max, struct pg_startup *out)
{
    char *whole = keep(dup_exact(p, n));
    unsigned long long a0 = xalloc_count();
    ssize_t rc = pg_parse_startup(whole, n, max, out);
    cr_assert_eq(xalloc_count(), a0, "the parser allocated");
    for (size_t k = 0; k < n; k++) {
        char *part = dup_exact(p, k);
        struct pg_startup tmp;
        ssize_t r = pg_parse_startup(part, k, max, &tmp);
        free(part);
        if (r < 0) {
            cr_assert_eq(r, rc, "prefix %zu: error %zd, whole: %zd", k, r, rc);
            break;
        }
        if (r > 0) {
            cr_assert_eq(r, rc, "prefix %zu gave %zd, whole %zd", k, r, rc);
            break;
        }
    }
    /* out points into `whole`: kept alive until the test ends */
    return rc;
}

static ssize_t msg_both(const char *p, size_t n, size_t max, struct pg_msg *out)
{
    char *whole = keep(dup_exact(p, n));
    ssize_t rc = pg_parse_msg(whole, n, max, out);
    for (size_t k = 0; k < n; k++) {
        char *part = dup_exact(p, k);
        struct pg_msg tmp;
        ssize_t r = pg_parse_msg(part, k, max, &tmp);
        free(part);
        if (r != 0) {
            cr_assert_eq(r, rc, "prefix %zu gave %zd, whole %zd", k, r, rc);
            break;
        }
    }
    return rc;
}

TestSuite(pg, .fini = free_kept);

Test(pg, startup_message)
{
    struct buf b;
    buf_init(&b);
    const char *names[] = {"application_name", "client_encoding"};
    const char *values[] = {"psql", "UTF8"};
    pg_write_startup(&b, "alice", "shop", names, values, 2);
    struct pg_startup s;
    ssize_t rc = startup_both(buf_head(&b), buf_pending(&b), 0, &s);
    cr_assert_eq(rc, (ssize_t)buf_pending(&b));
    cr_assert_eq(s.kind, PG_STARTUP);
    cr_assert_eq(s.code, PG_PROTO_V3);
    cr_assert_str_eq(s.user, "alice");
    cr_assert_str_eq(s.database, "shop");
    cr_assert_str_eq(s.application_name, "psql");
    size_t pos = 0;
    const char *k, *v;
    int n = 0;
    while (pg_param_next(&s, &pos, &k, &v))
        n++;
    cr_assert_eq(n, 4);
    buf_deinit(&b);
}

Test(pg, startup_no_database)
{
    struct buf b;
    buf_init(&b);
    pg_write_startup(&b, "bob", NULL, NULL, NULL, 0);
    struct pg_startup s;
    cr_assert_eq(startup_both(buf_head(&b), buf_pending(&b), 0, &s), (ssize_t)buf_pending(&b));
    cr_assert_str_eq(s.user, "bob");
    cr_assert_null(s.database);
    buf_deinit(&b);
}

Test(pg, ssl_gss_cancel)
{
    struct pg_startup s;
    cr_assert_eq(startup_both(S("\0\0\0\x08\x04\xd2\x16\x2f"), 0, &s), 8);
    cr_assert_eq(s.kind, PG_SSL_REQUEST);
    cr_assert_eq(startup_both(S("\0\0\0\x08\x04\xd2\x16\x30"), 0, &s), 8);
    cr_assert_eq(s.kind, PG_GSSENC_REQUEST);
    struct buf b;
    buf_init(&b);
    pg_write_cancel(&b, 1234, 0xdeadbeef);
    cr_assert_eq(startup_both(buf_head(&b), buf_pending(&b), 0, &s), 16);
    cr_assert_eq(s.kind, PG_CANCEL_REQUEST);
    cr_assert_eq(s.cancel_pid, 1234);
    cr_assert_eq(s.cancel_key, 0xdeadbeef);
    buf_deinit(&b);
    buf_init(&b);
    pg_write_ssl_request(&b);
    cr_assert_eq(startup_both(buf_head(&b), buf_pending(&b), 0, &s), 8);
    buf_deinit(&b);
}

Test(pg, startup_errors)
{
    struct pg_startup s;
    /* length below 8 */
    cr_assert_eq(startup_both(S("\0\0\0\x04xxxx"), 0, &s), PG_EFRAME);
    /* larger than the bound: refused from the 4 length bytes alone */
    cr_assert_eq(pg_parse_startup("\0\0\x30\0", 4, 0, &s), PG_ETOOBIG);
    cr_assert_eq(startup_both(S("\0\0\0\x40\0\x03\0\0"), 32, &s), PG_ETOOBIG);
    /* SSLRequest with a wrong length */
    cr_assert_eq(startup_both(S("\0\0\0\x0c\x04\xd2\x16\x2f\0\0\0\0"), 0, &s), PG_EFRAME);
    /* cancel with a wrong length */
    cr_assert_eq(startup_both(S("\0\0\0\x0c\x04\xd2\x16\x2e\0\0\0\0"), 0, &s), PG_EFRAME);
    /* protocol 2.0 */
    cr_assert_eq(startup_both(S("\0\0\0\x09\0\x02\0\0\0"), 0, &s), PG_EPROTO);
    cr_assert_eq(s.code, 0x20000);
    /* params without the final NUL */
    cr_assert_eq(startup_both(S("\0\0\0\x12\0\x03\0\0user\0alice\0"), 0, &s), PG_EBODY);
    /* a name without a value */
    cr_assert_eq(startup_both(S("\0\0\0\x0e\0\x03\0\0user\0\0"), 0, &s), PG_EBODY);
    cr_assert_eq(startup_both(S("\0\0\0\x0f\0\x03\0\0user\0\0\0"), 0, &s), 15);
    cr_assert_str_eq(s.user, "");
    cr_assert_eq(startup_both(S("\0\0\0\x0d\0\x03\0\0user\0"), 0, &s), PG_EBODY);
    /* bytes after the terminating NUL */
    cr_assert_eq(startup_both(S("\0\0\0\x0b\0\x03\0\0\0ab"), 0, &s), PG_EBODY);
    /* 3.1 is accepted (NegotiateProtocolVersion is the caller's business) */
    cr_assert_eq(startup_both(S("\0\0\0\x09\0\x03\0\x01\0"), 0, &s), 9);
}

Test(pg, typed_messages)
{
    struct buf b;
    buf_init(&b);
    pg_write_query(&b, "SELECT 1");
    struct pg_msg m;
    ssize_t rc = msg_both(buf_head(&b), buf_pending(&b), 0, &m);
    cr_assert_eq(rc, 14);
    cr_assert_eq(m.type, 'Q');
    cr_assert_eq(m.body_len, 9);
    cr_assert_str_eq(m.body, "SELECT 1");
    cr_assert_eq(pg_msg_validate(&m, true), 0);
    /* two messages back to back: the first comes back alone */
    pg_write_terminate(&b);
    cr_assert_eq(pg_parse_msg(buf_head(&b), buf_pending(&b), 0, &m), 14);
    cr_assert_eq(pg_parse_msg(buf_head(&b) + 14, buf_pending(&b) - 14, 0, &m), 5);
    cr_assert_eq(m.type, 'X');
    buf_deinit(&b);
}

Test(pg, header_only_and_bounds)
{
    struct pg_msg m;
    /* a DataRow of 1 MB: the header is enough to know its length */
    cr_assert_eq(pg_msg_header("D\0\x10\0\0", 5, 0, &m), 5);
    cr_assert_eq(m.type, 'D');
    cr_assert_eq(m.body_len, 0x100000 - 4);
    cr_assert_eq(pg_parse_msg("D\0\x10\0\0", 5, 0, &m), 0);
    /* bounded: refused from the header alone */
    cr_assert_eq(pg_parse_msg("Q\0\x10\0\0", 5, 1024, &m), PG_ETOOBIG);
    cr_assert_eq(msg_both(S("Q\0\0\0\x03"), 0, &m), PG_EFRAME);
    cr_assert_eq(msg_both(S("Q\x7f\xff\xff\xff"), 0, &m), PG_ETOOBIG);
    cr_assert_eq(pg_parse_msg("Q\0\0", 3, 0, &m), 0);
}

Test(pg, validate_frontend)
{
    struct pg_msg m;
    cr_assert_eq(msg_both(S("Q\0\0\0\x06xy"), 0, &m), 7);
    cr_assert_eq(pg_msg_validate(&m, true), PG_EBODY); /* no NUL */
    struct buf b;
    buf_init(&b);
    size_t st = pg_begin(&b, 'P');
    pg_put_str(&b, "s1");
    pg_put_str(&b, "SELECT $1");
    pg_put_i16(&b, 1);
    pg_put_i32(&b, 23);
    pg_end(&b, st);
    cr_assert_gt(pg_parse_msg(buf_head(&b), buf_pending(&b), 0, &m), 0);
    cr_assert_eq(pg_msg_validate(&m, true), 0);
    buf_deinit(&b);
    buf_init(&b);
    st = pg_begin(&b, 'B');
    pg_put_str(&b, "");
    pg_put_str(&b, "s1");
    pg_put_i16(&b, 0);
    pg_put_i16(&b, 2);
    pg_put_i32(&b, 1);
    buf_putc(&b, '7');
    pg_put_i32(&b, -1);
    pg_put_i16(&b, 0);
    pg_end(&b, st);
    cr_assert_gt(pg_parse_msg(buf_head(&b), buf_pending(&b), 0, &m), 0);
    cr_assert_eq(pg_msg_validate(&m, true), 0);
    /* a parameter length running past the end */
    b.data[b.off + 5 + 3 + 2 + 2 + 3] = 9;
    cr_assert_gt(pg_parse_msg(buf_head(&b), buf_pending(&b), 0, &m), 0);
    cr_assert_eq(pg_msg_validate(&m, true), PG_EBODY);
    buf_deinit(&b);
    cr_assert_eq(msg_both(S("X\0\0\0\x05z"), 0, &m), 6);
    cr_assert_eq(pg_msg_validate(&m, true), PG_EBODY);
}

Test(pg, backend_messages)
{
    struct buf b;
    buf_init(&b);
    pg_write_error(&b, "FATAL", "28P01", "password authentication failed for user \"x\"");
    pg_write_auth(&b, PG_AUTH_MD5, "salt", 4);
    pg_write_auth_sasl(&b, "SCRAM-SHA-256");
    pg_write_param_status(&b, "server_version", "15.0");
    pg_write_backend_key(&b, 42, 7);
    pg_write_ready(&b, 'T');
    pg_write_notice(&b, "NOTICE", "00000", "hi");
    const char *p = buf_head(&b);
    size_t left = buf_pending(&b);
    char types[8] = {0};
    int i = 0;
    while (left) {
        struct pg_msg m;
        ssize_t rc = msg_both(p, left, 0, &m);
        cr_assert_gt(rc, 0);
        cr_assert_eq(pg_msg_validate(&m, false), 0, "type %c", m.type);
        types[i++] = m.type;
        if (m.type == 'E') {
            size_t l;
            const char *c = pg_error_field(&m, 'C', &l);
            cr_assert_eq(l, 5);
            cr_assert_eq(memcmp(c, "28P01", 5), 0);
            cr_assert_str_eq(pg_error_field(&m, 'S', NULL), "FATAL");
            cr_assert_null(pg_error_field(&m, 'D', NULL));
        }
        if (m.type == 'Z')
            cr_assert_eq(pg_ready_status(&m), 'T');
        if (m.type == 'K') {
            struct pg_rd r;
            pg_rd_init(&r, &m);
            cr_assert_eq(pg_rd_i32(&r), 42);
            cr_assert_eq(pg_rd_i32(&r), 7);
            cr_assert_eq(pg_rd_i32(&r), 0);
            cr_assert(r.err);
        }
        p += rc;
        left -= (size_t)rc;
    }
    cr_assert_str_eq(types, "ERRSKZN");
    buf_deinit(&b);
    struct pg_msg m;
    cr_assert_eq(msg_both(S("Z\0\0\0\x05Q"), 0, &m), 6);
    cr_assert_eq(pg_msg_validate(&m, false), PG_EBODY);
    cr_assert_eq(pg_ready_status(&m), 0);
    cr_assert_eq(msg_both(S("E\0\0\0\x06Mx"), 0, &m), 7);
    cr_assert_eq(pg_msg_validate(&m, false), PG_EBODY);
}

Test(pg, sasl_messages)
{
    struct buf b;
    buf_init(&b);
    pg_write_sasl_initial(&b, "SCRAM-SHA-256", "n,,n=,r=abc", 11);
    struct pg_msg m;
    cr_assert_gt(pg_parse_msg(buf_head(&b), buf_pending(&b), 0, &m), 0);
    struct pg_rd r;
    pg_rd_init(&r, &m);
    cr_assert_str_eq(pg_rd_str(&r, NULL), "SCRAM-SHA-256");
    int32_t n = pg_rd_i32(&r);
    cr_assert_eq(n, 11);
    cr_assert_eq(memcmp(pg_rd_bytes(&r, 11), "n,,n=,r=abc", 11), 0);
    cr_assert_eq(pg_rd_left(&r), 0);
    cr_assert_not(r.err);
    buf_deinit(&b);
}
