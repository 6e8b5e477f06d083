/*
 * fuzz_resp.c — libFuzzer target for the RESP request parser (proto/resp).
 *
 * The input is a client's byte stream. It is parsed several ways and every
 * way must tell the same story (the same commands with the same arguments
 * ending at the same stream offsets, then the same error or a wait):
 *
 *   whole        all bytes in one buffer;
 *   split at k   k bytes first, then the rest in a new allocation: every k
 *                for inputs up to 16 bytes, past that k = 1, len-1 and 4
 *                offsets from a hash of the input (so one execution stays
 *                linear and, across executions, every k is explored);
 *   byte by byte each byte appended to a new allocation, the old one freed, so
 *                a parser that kept a pointer instead of an offset is caught
 *                (inputs over 32 bytes: steps of 1 to 16 bytes, varied by a hash
 *                of the input, as every step copies all pending bytes);
 *   drop empty   byte by byte, calling resp_parser_drop_empty() after every
 *                incomplete return and dropping those bytes;
 *   tight limits whole and byte by byte with small limits and auth_required.
 *
 * Every buffer is allocated to its exact length so ASan sees any read past
 * `len`. Each command of the whole parse is also written back as multibulk and
 * parsed again: it must come back with the same arguments. Build: make fuzz; run e.g.
 *   build-fuzz/fuzz_resp -dict=fuzz/resp.dict fuzz/corpus/resp
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "fuzz_flags.h"
#include "proto/resp.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_resp: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

struct cfg {
    long long max_bulk, max_multibulk;
    bool auth_required;
};

static const struct cfg cfg_default = {512LL * 1024 * 1024, 0x7fffffff, false};
static const struct cfg cfg_tight = {40, 5, true};

static void setup(struct resp_parser *p, const struct cfg *c)
{
    resp_parser_init(p);
    p->max_bulk = c->max_bulk;
    p->max_multibulk = c->max_multibulk;
    p->auth_required = c->auth_required;
}

static void put_u64(struct buf *t, uint64_t v)
{
    buf_append(t, &v, sizeof v);
}

/* Write the command back as multibulk, parse it again (default limits: an
 * inline command is not bound by the multibulk ones), compare. */
static void round_trip(const struct resp_parser *p)
{
    const struct cfg *c = &cfg_default;
    struct buf w;
    buf_init(&w);
    resp_add_array(&w, p->argc);
    for (int i = 0; i < p->argc; i++)
        resp_add_bulk(&w, p->argv[i].ptr, p->argv[i].len);
    char *copy = malloc(w.len);
    memcpy(copy, w.data, w.len);
    struct resp_parser q;
    setup(&q, c);
    ssize_t r = resp_parse(&q, copy, w.len);
    CHECK(r == (ssize_t)w.len);
    CHECK(q.argc == p->argc);
    for (int i = 0; i < p->argc; i++) {
        CHECK(q.argv[i].len == p->argv[i].len);
        CHECK(memcmp(q.argv[i].ptr, p->argv[i].ptr, p->argv[i].len) == 0);
    }
    resp_parser_deinit(&q);
    free(copy);
    buf_deinit(&w);
}

/* Record one resp_parse() result; returns false when parsing must stop. */
static bool record(struct buf *t, struct resp_parser *p, ssize_t r, char *buf, size_t len,
                   size_t abs_base, bool check_round_trip)
{
    if (r == RESP_ERR) {
        CHECK(p->err != NULL);
        CHECK(strncmp(p->err, "ERR Protocol error: ", 20) == 0);
        buf_putc(t, 'E');
        buf_puts(t, p->err);
        buf_putc(t, '\0');
        /* sticky */
        CHECK(resp_parse(p, buf, len) == RESP_ERR);
        return false;
    }
    if (r == 0) {
        CHECK(p->need == 0 || p->need > len);
        return false;
    }
    CHECK((size_t)r <= len);
    CHECK(p->argc >= 1);
    buf_putc(t, 'C');
    put_u64(t, abs_base + (uint64_t)r);
    put_u64(t, (uint64_t)p->argc);
    for (int i = 0; i < p->argc; i++) {
        const char *a = p->argv[i].ptr;
        size_t n = p->argv[i].len;
        CHECK(a >= buf && a + n <= buf + r);
        put_u64(t, n);
        buf_append(t, a, n);
    }
    if (check_round_trip)
        round_trip(p);
    return true;
}

static void run_whole(struct buf *t, const uint8_t *data, size_t len, const struct cfg *c)
{
    struct resp_parser p;
    setup(&p, c);
    char *b = malloc(len ? len : 1);
    memcpy(b, data, len);
    size_t off = 0;
    for (;;) {
        ssize_t r = resp_parse(&p, b + off, len - off);
        if (!record(t, &p, r, b + off, len - off, off, true)) {
            if (r == 0)
                buf_putc(t, 'M');
            break;
        }
        off += (size_t)r;
    }
    free(b);
    resp_parser_deinit(&p);
}

/*
 * Feed the input in steps: the bytes of each step end at cut[i] (the last cut
 * is len). Before each call the pending bytes move to an exact-size new
 * allocation. With drop, empty commands are dropped after each wait.
 */
static void run_steps(struct buf *t, const uint8_t *data, size_t len, const size_t *cut,
                      size_t ncut, bool drop, const struct cfg *c)
{
    struct resp_parser p;
    setup(&p, c);
    char *b = NULL;
    size_t have = 0, base = 0, fed = 0; /* base: stream offset of b[0] */
    bool stopped = false;
    for (size_t i = 0; i < ncut && !stopped; i++) {
        size_t add = cut[i] - fed;
        char *nb = malloc(have + add ? have + add : 1);
        if (have)
            memcpy(nb, b, have);
        memcpy(nb + have, data + fed, add);
        free(b);
        b = nb;
        have += add;
        fed += add;
        for (;;) {
            ssize_t r = resp_parse(&p, b, have);
            if (!record(t, &p, r, b, have, base, false)) {
                if (r == RESP_ERR) {
                    stopped = true;
                } else if (drop) {
                    size_t n = resp_parser_drop_empty(&p);
                    CHECK(n <= have);
                    memmove(b, b + n, have - n);
                    have -= n;
                    base += n;
                }
                break;
            }
            memmove(b, b + r, have - (size_t)r);
            have -= (size_t)r;
            base += (size_t)r;
        }
    }
    if (!stopped)
        buf_putc(t, 'M');
    free(b);
    resp_parser_deinit(&p);
}

static void same(const struct buf *a, const struct buf *b, const char *what, size_t k)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
        fprintf(stderr, "fuzz_resp: %s (k=%zu) differs from whole parse\n", what, k);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct buf whole, t;
    buf_init(&whole);
    buf_init(&t);
    run_whole(&whole, data, len, &cfg_default);

    /* split at k: every k for short inputs, a few chosen by a hash of the
     * input otherwise */
    uint64_t hk = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        hk = (hk ^ data[i]) * 1099511628211ull;
    size_t nsplit = len <= 16 ? (len ? len - 1 : 0) : 6;
    for (size_t i = 0; i < nsplit; i++) {
        size_t k;
        if (len <= 16)
            k = i + 1;
        else if (i < 2)
            k = i == 0 ? 1 : len - 1;
        else {
            hk = hk * 6364136223846793005ull + 1442695040888963407ull;
            k = 1 + (size_t)((hk >> 33) % (len - 1));
        }
        size_t cut[2] = {k, len};
        t.len = t.off = 0;
        run_steps(&t, data, len, cut, 2, false, &cfg_default);
        same(&whole, &t, "split", k);
    }

    /* byte by byte; past 32 bytes (where copying every step gets quadratic) in
     * steps of 1 to 16 bytes, varied but the same for the same input */
    size_t *cut = malloc((len ? len : 1) * sizeof *cut);
    size_t ncut = 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len && i < 64; i++)
        h = (h ^ data[i]) * 16777619u;
    for (size_t at = 0; at < len;) {
        size_t step = 1;
        if (len > 32) {
            h = h * 1103515245u + 12345u;
            step = 1 + (h >> 16) % 16;
        }
        at = at + step < len ? at + step : len;
        cut[ncut++] = at;
    }
    t.len = t.off = 0;
    run_steps(&t, data, len, cut, ncut, false, &cfg_default);
    same(&whole, &t, "byte by byte", 1);

    /* drop_empty only removes bytes the transcript does not show */
    t.len = t.off = 0;
    run_steps(&t, data, len, cut, ncut, true, &cfg_default);
    same(&whole, &t, "byte by byte with drop_empty", 1);

    struct buf tight;
    buf_init(&tight);
    run_whole(&tight, data, len, &cfg_tight);
    t.len = t.off = 0;
    run_steps(&t, data, len, cut, ncut, false, &cfg_tight);
    same(&tight, &t, "tight limits, byte by byte", 1);

    free(cut);
    buf_deinit(&tight);
    buf_deinit(&t);
    buf_deinit(&whole);
    return 0;
}
