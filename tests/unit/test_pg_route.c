/*
 * test_pg_route.c — the read/write split classifier (pg/route) and the pg
 * role's authentication helpers (pg/auth): SCRAM-SHA-256 against RFC 7677's
 * test vector, both sides against each other, md5, the user list file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "pg/auth.h"
#include "pg/pg.h"
#include "pg/route.h"
#include "pg/vars.h"

static enum pg_route cls(const char *s) { return pg_route_classify(s, strlen(s)); }

Test(pg_route, reads)
{
    const char *reads[] = {
        "SELECT 1", "select * from t where x = 1", "  \n SELECT 1;", "SHOW search_path", "TABLE t", "VALUES (1), (2)",
        "SELECT 1; SELECT 2", "-- comment\nSELECT 1", "/* c */ SELECT 1", "/* a /* nested */ b */ SELECT 1",
        "SELECT 'for update'", "SELECT \"into\" FROM t", "SELECT $$ nextval( $$", "SELECT $tag$ ; DELETE $tag$",
        "SELECT E'\\' FOR UPDATE'", "SELECT count(*) FROM t", "SELECT now(), random()", "SELECT x FROM t FOR", NULL,
    };
    for (int i = 0; reads[i]; i++)
        cr_expect_eq(cls(reads[i]), PG_ROUTE_READ, "%s", reads[i]);
}

Test(pg_route, writes_and_uncertain)
{
    const char *writes[] = {
        "INSERT INTO t VALUES (1)", "UPDATE t SET x = 1", "DELETE FROM t", "BEGIN", "SET x = 1", "", ";",
        "SELECT 1; INSERT INTO t VALUES (1)", "SELECT * FROM t FOR UPDATE", "SELECT * FROM t FOR SHARE",
        "select * from t for no key update", "SELECT * FROM t FOR KEY SHARE", "SELECT * INTO new FROM t",
        "SELECT nextval('s')", "SELECT pg_catalog.setval('s', 1)", "SELECT NEXTVAL ('s')", "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_xact_lock(1)", "SELECT lo_import('/x')", "/*+ primary */ SELECT 1",
        "SELECT 1 /*+primary*/", "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "EXPLAIN ANALYZE SELECT 1",
        "SELECT 'unterminated", "SELECT \"unterminated", "SELECT $q$ open", "/* open comment SELECT 1",
        "COPY t TO STDOUT", "\"select\" 1", "CALL p()", "DO $$ BEGIN END $$", "SELECT set_config('a', 'b', false)",
        NULL,
    };
    for (int i = 0; writes[i]; i++)
        cr_expect_eq(cls(writes[i]), PG_ROUTE_PRIMARY, "%s", writes[i]);
    /* the length bounds the scan: the text after it is not looked at */
    cr_expect_eq(pg_route_classify("SELECT 1; DELETE FROM t", 8), PG_ROUTE_READ);
}

/* RFC 7677 section 3 */
#define RFC_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CFINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

Test(pg_auth, scram_client_rfc7677)
{
    struct pg_scram_client st;
    memset(&st, 0, sizeof st);
    strcpy(st.cnonce, RFC_CNONCE);
    strcpy(st.client_first_bare, "n=user,r=" RFC_CNONCE);
    struct buf out;
    buf_init(&out);
    cr_assert_eq(pg_scram_client_final(&st, "pencil", RFC_SFIRST, strlen(RFC_SFIRST), &out), 0);
    cr_assert_eq(buf_pending(&out), strlen(RFC_CFINAL));
    cr_assert_eq(memcmp(buf_head(&out), RFC_CFINAL, strlen(RFC_CFINAL)), 0);
    cr_assert_eq(pg_scram_client_verify(&st, RFC_SFINAL, strlen(RFC_SFINAL)), 0);
    cr_assert_eq(pg_scram_client_verify(&st, "v=AAAA", 6), -1);
    /* a server nonce that does not extend ours is refused */
    cr_assert_eq(pg_scram_client_final(&st, "pencil", "r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", 41, &out), -1);
    buf_deinit(&out);
}

static int round_trip_user(struct pg_user *up, const char *client_pw)
{
    struct pg_user u = *up;
    struct pg_scram_client cl;
    struct pg_scram_server sv;
    struct buf a, b, c, d;
    buf_init(&a), buf_init(&b), buf_init(&c), buf_init(&d);
    pg_scram_client_first(&cl, &a);
    int rc = pg_scram_server_first(&sv, &u, buf_head(&a), buf_pending(&a), &b);
    if (rc == 0)
        rc = pg_scram_client_final(&cl, client_pw, buf_head(&b), buf_pending(&b), &c);
    if (rc == 0)
        rc = pg_scram_server_final(&sv, &u, buf_head(&c), buf_pending(&c), &d);
    if (rc == 0)
        rc = pg_scram_client_verify(&cl, buf_head(&d), buf_pending(&d));
    buf_deinit(&a), buf_deinit(&b), buf_deinit(&c), buf_deinit(&d);
    *up = u;
    return rc;
}

static int round_trip(const char *secret_pw, const char *client_pw)
{
    struct pg_user u;
    memset(&u, 0, sizeof u);
    pg_scram_make_secret(&u, secret_pw);
    return round_trip_user(&u, client_pw);
}

Test(pg_auth, scram_both_sides)
{
    cr_assert_eq(round_trip("s3cret", "s3cret"), 0);
    cr_assert_eq(round_trip("s3cret", "wrong"), -1);
    struct pg_scram_server sv;
    struct buf b;
    buf_init(&b);
    cr_assert_eq(pg_scram_server_first(&sv, NULL, "p=tls-server-end-point,,n=,r=x", 30, &b), -1);
    cr_assert_eq(pg_scram_server_first(&sv, NULL, "n,,n=,s=x", 9, &b), -1);
    cr_assert_eq(pg_scram_server_first(&sv, NULL, "n,,n=,r=abc", 11, &b), 0); /* unknown user: fails at the proof */
    buf_deinit(&b);
}

Test(pg_auth, md5)
{
    char pw[36], ans[36];
    pg_md5_password("md5pass", "app_md5", pw);
    cr_assert_eq(strlen(pw), 35);
    cr_assert_eq(strncmp(pw, "md5", 3), 0);
    /* echo -n md5passapp_md5 | md5sum; then md5(hex + "abcd") */
    unsigned char salt[4] = {'a', 'b', 'c', 'd'};
    pg_md5_salted(pw, salt, ans);
    cr_assert_eq(strlen(ans), 35);
    char pw2[36];
    pg_md5_password("md5pass", "app_md5", pw2);
    cr_assert_str_eq(pw, pw2);
}

Test(pg_auth, userlist)
{
    char path[] = "/tmp/test_pg_userlist_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "; comment\n"
                       "\"alice\" \"pa\"\"ss\"\n"
                       "\"bob\" \"md5d5b4a0e2c6cd1f6c3e2d6f9a7d3c1e2f\"\n"
                       "\"carol\" \"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"\n"
                       "bad line\n"
                       "\"dave\" \"SCRAM-SHA-256$x:y$z\"\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct pg_userlist ul;
    struct buf errs;
    buf_init(&errs);
    int n = pg_userlist_load(path, &ul, &errs);
    unlink(path);
    cr_assert_eq(n, 2, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
    struct pg_user *a = pg_userlist_find(&ul, "alice");
    cr_assert_not_null(a);
    cr_assert_str_eq(a->password, "pa\"ss");
    cr_assert(a->has_md5 && a->has_scram);
    struct pg_user *b = pg_userlist_find(&ul, "bob");
    cr_assert(b && b->has_md5 && !b->has_scram && !b->password);
    struct pg_user *c = pg_userlist_find(&ul, "carol");
    cr_assert(c && c->has_scram && !c->has_md5 && c->iter == 4096 && c->salt_len == 16);
    cr_assert_null(pg_userlist_find(&ul, "nobody"));
    pg_userlist_free(&ul);
    buf_deinit(&errs);
}

Test(pg_auth, scram_client_key_learnt_from_a_proof)
{
    struct pg_user u;
    memset(&u, 0, sizeof u);
    pg_scram_make_secret(&u, "s3cret"); /* as if the file had only the secret */
    cr_assert_not(u.has_client_key);
    cr_assert_eq(round_trip_user(&u, "s3cret"), 0);
    cr_assert(u.has_client_key);
    /* now the proxy can log in without the password, to a server with the same secret */
    struct pg_scram_client cl;
    struct pg_scram_server sv;
    struct buf a, b, c, d;
    buf_init(&a), buf_init(&b), buf_init(&c), buf_init(&d);
    pg_scram_client_first(&cl, &a);
    cr_assert_eq(pg_scram_server_first(&sv, &u, buf_head(&a), buf_pending(&a), &b), 0);
    cr_assert_eq(pg_scram_client_final_keys(&cl, &u, buf_head(&b), buf_pending(&b), &c), 0);
    cr_assert_eq(pg_scram_server_final(&sv, &u, buf_head(&c), buf_pending(&c), &d), 0);
    cr_assert_eq(pg_scram_client_verify(&cl, buf_head(&d), buf_pending(&d)), 0);
    buf_deinit(&a), buf_deinit(&b), buf_deinit(&c), buf_deinit(&d);
}

Test(pg_route, hints_before_the_first_word)
{
    struct pg_hints h;
    const char *q = "/*+ replica */ WITH x AS (SELECT 1) SELECT * FROM x";
    pg_route_hints(q, strlen(q), &h);
    cr_expect(h.replica);
    cr_expect(!h.primary);
    cr_expect_null(h.shard_key);
    q = "-- c\n/* plain */ /*+primary, shard_key=42 */ SELECT 1 /*+ replica */";
    pg_route_hints(q, strlen(q), &h);
    cr_expect(h.primary);
    cr_expect(!h.replica, "hints after the first word are not read");
    cr_expect_eq(h.shard_key_len, 2);
    cr_expect(memcmp(h.shard_key, "42", 2) == 0);
    q = "/*+ shard_key='it''s x' */ SELECT 1";
    pg_route_hints(q, strlen(q), &h);
    cr_expect(h.shard_key_quoted);
    cr_expect_eq(h.shard_key_len, 7);
    cr_expect(memcmp(h.shard_key, "it''s x", 7) == 0);
    q = "/*+ shard_key= */ SELECT 1";
    pg_route_hints(q, strlen(q), &h);
    cr_expect_eq(h.shard_key_len, 0);
    q = "/*+ shard_key='unterminated */";
    pg_route_hints(q, strlen(q), &h);
    cr_expect_leq(h.shard_key_len, strlen(q));
    q = "/*+ unclosed";
    pg_route_hints(q, strlen(q), &h);
    cr_expect(!h.replica && !h.primary && !h.shard_key);
}

static enum pg_set sset(const char *q, char *v, size_t cap)
{
    size_t l;
    return pg_route_shard_set(q, strlen(q), v, cap, &l);
}

Test(pg_route, shard_key_set_reset_discard)
{
    char v[16];
    cr_expect_eq(sset("SET scaleout.shard_key = 42", v, sizeof v), PG_SET_KEY);
    cr_expect_str_eq(v, "42");
    cr_expect_eq(sset("set session SCALEOUT.SHARD_KEY to 'it''s';", v, sizeof v), PG_SET_KEY);
    cr_expect_str_eq(v, "it's");
    cr_expect_eq(sset("SET scaleout.shard_key TO DEFAULT", v, sizeof v), PG_SET_CLEAR);
    cr_expect_eq(sset("RESET scaleout.shard_key", v, sizeof v), PG_SET_CLEAR);
    cr_expect_eq(sset("RESET ALL", v, sizeof v), PG_SET_CLEAR_PASS);
    cr_expect_eq(sset("discard all ;", v, sizeof v), PG_SET_CLEAR_PASS);
    cr_expect_eq(sset("SET search_path = x", v, sizeof v), PG_SET_NONE);
    cr_expect_eq(sset("SELECT 1", v, sizeof v), PG_SET_NONE);
    cr_expect_eq(sset("DISCARD PLANS", v, sizeof v), PG_SET_NONE);
    cr_expect_eq(sset("SET scaleout.shard_key = 'a'; DELETE FROM t", v, sizeof v), PG_SET_BAD);
    cr_expect_eq(sset("SET scaleout.shard_key =", v, sizeof v), PG_SET_BAD);
    cr_expect_eq(sset("SET scaleout.shard_key = 'unterminated", v, sizeof v), PG_SET_BAD);
    cr_expect_eq(sset("SET scaleout.shard_key = '0123456789abcdefXX'", v, sizeof v), PG_SET_BAD);
}

Test(pg_route, shard_of)
{
    struct pg_shard_map m;
    memset(&m, 0, sizeof m);
    m.kind = PG_SHARD_HASH;
    m.nshards = 2;
    cr_expect_eq(pg_shard_hash("", 0), 0xcbf29ce484222325ULL);
    cr_expect_eq(pg_shard_hash("a", 1), 0xaf63dc4c8601ec8cULL); /* FNV-1a 64 test vector */
    cr_expect_eq(pg_shard_of(&m, "a", 1), (int)(0xaf63dc4c8601ec8cULL % 2));
    m.kind = PG_SHARD_RANGE;
    m.nshards = 3;
    m.bounds[1] = 100;
    m.bounds[2] = 200;
    cr_expect_eq(pg_shard_of(&m, "-5", 2), 0);
    cr_expect_eq(pg_shard_of(&m, "100", 3), 1);
    cr_expect_eq(pg_shard_of(&m, "199", 3), 1);
    cr_expect_eq(pg_shard_of(&m, "99999999999", 11), 2);
    cr_expect_eq(pg_shard_of(&m, "x", 1), -1);
    struct pg_shard_dir d[] = {{"eu", 0}, {"us", 1}};
    m.kind = PG_SHARD_DIRECTORY;
    m.nshards = 2;
    m.dir = d;
    m.ndir = 2;
    m.dir_default = -1;
    cr_expect_eq(pg_shard_of(&m, "us", 2), 1);
    cr_expect_eq(pg_shard_of(&m, "u", 1), -1);
    m.dir_default = 0;
    cr_expect_eq(pg_shard_of(&m, "asia", 4), 0);
}

Test(pg_vars, options_and_extra_parameters)
{
    struct pg_vars c, s;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    cr_expect_eq(pg_vars_parse_options(&c, "-c search_path=a,b  -cwork_mem=8MB --statement-timeout=5s -c x.y=it\\ 's"), 0);
    cr_expect_eq(c.nextra, 4);
    struct buf sql;
    buf_init(&sql);
    cr_expect_eq(pg_vars_diff_sql(&c, &s, &sql), 4);
    buf_putc(&sql, '\0');
    cr_expect(strstr(buf_head(&sql), "set_config('search_path', 'a,b', false)"));
    cr_expect(strstr(buf_head(&sql), "set_config('statement_timeout', '5s', false)"));
    cr_expect(strstr(buf_head(&sql), "set_config('x.y', 'it ''s', false)"));
    pg_vars_copy(&s, &c);
    sql.off = sql.len = 0;
    cr_expect_eq(pg_vars_diff_sql(&c, &s, &sql), 0);
    /* a client without them: the server's are RESET */
    struct pg_vars none;
    memset(&none, 0, sizeof none);
    cr_expect_eq(pg_vars_diff_sql(&none, &s, &sql), 4);
    buf_putc(&sql, '\0');
    cr_expect(strstr(buf_head(&sql), "RESET search_path;"));
    /* tracked names go to their slot */
    cr_expect_eq(pg_vars_set_extra(&c, "TimeZone", "UTC"), 0);
    cr_expect_str_eq(c.v[pg_vars_index("timezone")], "UTC");
    cr_expect_eq(pg_vars_set_extra(&c, "bad;name", "x"), -1);
    cr_expect_eq(pg_vars_parse_options(&c, "-c"), -3);
    cr_expect_eq(pg_vars_parse_options(&c, "nonsense"), -3);
    cr_expect_eq(pg_vars_parse_options(&c, "-c noequals"), -3);
    for (int i = 0; i < 40; i++) {
        char n[16];
        snprintf(n, sizeof n, "p%d", i);
        if (pg_vars_set_extra(&c, n, "1") != 0) {
            cr_expect_eq(pg_vars_set_extra(&c, n, "1"), -2);
            break;
        }
    }
    cr_expect_eq(c.nextra, PG_MAX_EXTRA);
    buf_deinit(&sql);
    pg_vars_free(&c);
    pg_vars_free(&s);
}
