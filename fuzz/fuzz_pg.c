/*
 * fuzz_pg.c — libFuzzer target for the PostgreSQL protocol parser (proto/pg).
 *
 * The input is a connection's byte stream: a startup packet, then typed
 * messages. The first byte of the input chooses the side (even: frontend,
 * odd: backend) and a small max message length. The stream is parsed whole
 * and again byte by byte (each prefix a fresh exact-size allocation, so ASan
 * sees any read past its end); both must give the same messages at the same
 * offsets and stop with the same result. Every message is validated and its
 * fields walked; well-formed ones are written back and must parse the same.
 * The SQL of Query and Parse messages also goes through the read/write
 * classifier of the pg role (pg/route), which must stay inside the text.
 * Build: make fuzz; run e.g.
 *   build-fuzz/fuzz_pg -dict=fuzz/pg.dict fuzz/corpus/pg
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pg/route.h"
#include "proto/pg.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_pg: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#define MAXSTEPS 64

struct trace {
    ssize_t rc[MAXSTEPS];
    size_t off[MAXSTEPS];
    int n;
};

/* Parse data[0..len) as a stream; record each result. A result of 0 ends it. */
static void run(const uint8_t *data, size_t len, size_t max, int side, struct trace *t)
{
    size_t off = 0;
    bool started = false;
    t->n = 0;
    while (t->n < MAXSTEPS) {
        char *copy = malloc(len - off ? len - off : 1);
        memcpy(copy, data + off, len - off);
        ssize_t rc;
        if (!started) {
            struct pg_startup s;
            rc = pg_parse_startup(copy, len - off, max, &s);
            if (rc > 0 && s.kind == PG_STARTUP) {
                size_t pos = 0;
                const char *k, *v;
                while (pg_param_next(&s, &pos, &k, &v))
                    CHECK(pos <= s.params_len);
            }
            if (rc > 0 && s.kind != PG_SSL_REQUEST && s.kind != PG_GSSENC_REQUEST)
                started = true;
        } else {
            struct pg_msg m;
            rc = pg_parse_msg(copy, len - off, max, &m);
            if (rc > 0) {
                CHECK((size_t)rc == m.len + 1 && (size_t)rc <= len - off);
                int v = pg_msg_validate(&m, side == 0);
                CHECK(v == 0 || v == PG_EBODY);
                if (m.type == 'E' || m.type == 'N') {
                    size_t l;
                    const char *f = pg_error_field(&m, 'C', &l);
                    if (f)
                        CHECK(f >= m.body && f + l < m.body + m.body_len);
                }
                if (side == 1 && m.type == 'Z' && v == 0)
                    CHECK(pg_ready_status(&m) != 0);
                if (side == 0 && (m.type == 'Q' || m.type == 'P')) {
                    /* the read/write classifier must take any text, within its length */
                    enum pg_route rt = pg_route_classify(m.body, m.body_len);
                    CHECK(rt == PG_ROUTE_READ || rt == PG_ROUTE_PRIMARY);
                    /* hints and SET scaleout.shard_key: within the text, bounded values */
                    struct pg_hints h;
                    pg_route_hints(m.body, m.body_len, &h);
                    if (h.shard_key)
                        CHECK(h.shard_key >= m.body && h.shard_key + h.shard_key_len <= m.body + m.body_len);
                    char val[64];
                    size_t vl;
                    enum pg_set st = pg_route_shard_set(m.body, m.body_len, val, sizeof val, &vl);
                    if (st == PG_SET_KEY)
                        CHECK(vl < sizeof val && val[vl] == '\0');
                }
                if (side == 0 && m.type == 'Q' && v == 0) {
                    struct buf b;
                    buf_init(&b);
                    pg_write_query(&b, m.body);
                    struct pg_msg m2;
                    CHECK(pg_parse_msg(buf_head(&b), buf_pending(&b), 0, &m2) == rc);
                    CHECK(memcmp(buf_head(&b), copy, (size_t)rc) == 0);
                    buf_deinit(&b);
                }
            }
        }
        free(copy);
        t->rc[t->n] = rc;
        t->off[t->n] = off;
        t->n++;
        if (rc <= 0)
            break;
        off += (size_t)rc;
    }
}

/* The same stream fed one byte at a time: each call sees a longer prefix. */
static void run_bytewise(const uint8_t *data, size_t len, size_t max, int side, struct trace *t)
{
    size_t off = 0;
    bool started = false;
    t->n = 0;
    size_t have = off;
    while (t->n < MAXSTEPS) {
        ssize_t rc = 0;
        for (;;) {
            size_t n = have - off;
            char *copy = malloc(n ? n : 1);
            memcpy(copy, data + off, n);
            if (!started) {
                struct pg_startup s;
                rc = pg_parse_startup(copy, n, max, &s);
                if (rc > 0 && s.kind != PG_SSL_REQUEST && s.kind != PG_GSSENC_REQUEST)
                    started = true;
            } else {
                struct pg_msg m;
                rc = pg_parse_msg(copy, n, max, &m);
            }
            free(copy);
            if (rc != 0 || have == len)
                break;
            have++;
        }
        t->rc[t->n] = rc;
        t->off[t->n] = off;
        t->n++;
        if (rc <= 0)
            break;
        off += (size_t)rc;
        if (have < off)
            have = off;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    int side = data[0] & 1;
    size_t max = (data[0] & 2) ? 64 : 0;
    data++, size--;
    struct trace a, b;
    run(data, size, max, side, &a);
    run_bytewise(data, size, max, side, &b);
    CHECK(a.n == b.n);
    for (int i = 0; i < a.n; i++) {
        CHECK(a.off[i] == b.off[i]);
        CHECK(a.rc[i] == b.rc[i]);
    }
    return 0;
}
