/*
 * fuzz_http1.c — libFuzzer target for proto/http1.
 *
 * Each input is parsed as a request (default and tight limits), as a response
 * (to GET and to HEAD) and as a chunked body; a header block that parses with
 * a chunked body has its remainder decoded too. Every parse is checked for:
 *   - split independence: a fresh parse of a prefix (on an exact-size heap
 *     copy, so ASan sees any read past len) is INCOMPLETE or the very result
 *     of the whole input; resuming on the same buffer after a prefix and
 *     feeding byte by byte give the whole-input result;
 *   - sane results: slices inside the header block, valid error codes.
 *   - after an INCOMPLETE prefix, continuing in a moved (re-allocated)
 *     buffer gives the whole-input result too.
 * Chunked bodies (default and tight limits) are fed whole, split in two,
 * byte by byte, and decoded in place; all must agree on result, consumed
 * bytes and data.
 *
 * Split points: every offset for inputs up to SPLIT_ALL bytes; past that,
 * SPLIT_SAMPLE offsets derived from a hash of the input (plus 1 and n-1),
 * so one execution stays linear in the input and, across executions, every
 * offset is still explored. Byte-by-byte feeding is always complete.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_flags.h"
#include "proto/http1.h"

#define MAXH 64

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

struct snap {
    int rc;
    size_t a_off, a_len, b_off, b_len; /* method/target or reason */
    int meth, form, minor, status;
    size_t nh;
    size_t hn[MAXH], hnl[MAXH], hv[MAXH], hvl[MAXH];
    long host;
    size_t host_len;
    int body;
    uint64_t cl;
    bool ka, ex, up, has_cl;
};

struct parser {
    bool is_req;
    bool head;
    const struct http1_limits *lim;
    struct http1_header h[MAXH];
    struct http1_request req;
    struct http1_response res;
};

static void p_init(struct parser *p)
{
    if (p->is_req)
        http1_request_init(&p->req, p->h, MAXH);
    else
        http1_response_init(&p->res, p->h, MAXH);
}

static int p_parse(struct parser *p, const char *b, size_t n)
{
    return p->is_req ? http1_parse_request(b, n, &p->req, p->lim)
                     : http1_parse_response(b, n, &p->res, p->lim, p->head);
}

static bool in_block(const char *base, int rc, const char *s, size_t n)
{
    return s >= base && s + n <= base + rc;
}

static void snap_take(struct parser *p, int rc, const char *base, struct snap *o)
{
    memset(o, 0, sizeof *o);
    o->rc = rc;
    if (rc < 0) {
        CHECK(rc > -HTTP1_ERRI__COUNT);
        CHECK(strcmp(http1_strerror(rc), "unknown error") != 0);
        return;
    }
    if (rc == 0)
        return;
    size_t nh;
    const struct http1_header *h = p->h;
    if (p->is_req) {
        const struct http1_request *r = &p->req;
        CHECK(in_block(base, rc, r->method, r->method_len) && r->method_len > 0);
        CHECK(in_block(base, rc, r->target, r->target_len) && r->target_len > 0);
        o->a_off = (size_t)(r->method - base);
        o->a_len = r->method_len;
        o->b_off = (size_t)(r->target - base);
        o->b_len = r->target_len;
        o->meth = r->meth;
        o->form = r->target_form;
        o->minor = r->minor_version;
        CHECK(o->minor == 0 || o->minor == 1);
        nh = r->num_headers;
        if (r->host) {
            CHECK(in_block(base, rc, r->host, r->host_len));
            o->host = (long)(r->host - base);
        } else {
            CHECK(r->minor_version == 0);
            o->host = -1;
        }
        o->host_len = r->host_len;
        o->body = r->body;
        CHECK(r->body != HTTP1_BODY_UNTIL_CLOSE);
        o->cl = r->content_length;
        o->ka = r->keep_alive;
        o->ex = r->expect_continue;
        o->up = r->upgrade;
    } else {
        const struct http1_response *r = &p->res;
        CHECK(r->status >= 100 && r->status <= 599);
        CHECK(r->reason >= base && r->reason + r->reason_len <= base + rc);
        o->status = r->status;
        o->minor = r->minor_version;
        o->b_off = (size_t)(r->reason - base);
        o->b_len = r->reason_len;
        nh = r->num_headers;
        o->body = r->body;
        o->cl = r->content_length;
        o->ka = r->keep_alive;
        o->up = r->upgrade;
        o->has_cl = r->has_content_length;
        if (p->head || r->status < 200 || r->status == 204 || r->status == 304)
            CHECK(r->body == HTTP1_BODY_NONE);
        if (r->body == HTTP1_BODY_UNTIL_CLOSE)
            CHECK(!r->keep_alive);
    }
    CHECK(nh <= MAXH);
    o->nh = nh;
    for (size_t i = 0; i < nh; i++) {
        CHECK(h[i].name_len > 0 && in_block(base, rc, h[i].name, h[i].name_len));
        CHECK(in_block(base, rc, h[i].value, h[i].value_len));
        if (h[i].value_len) {
            CHECK(h[i].value[0] != ' ' && h[i].value[0] != '\t');
            CHECK(h[i].value[h[i].value_len - 1] != ' ' && h[i].value[h[i].value_len - 1] != '\t');
        }
        for (size_t j = 0; j < h[i].value_len; j++)
            CHECK(h[i].value[j] != '\r' && h[i].value[j] != '\n' && h[i].value[j] != '\0');
        o->hn[i] = (size_t)(h[i].name - base);
        o->hnl[i] = h[i].name_len;
        o->hv[i] = (size_t)(h[i].value - base);
        o->hvl[i] = h[i].value_len;
    }
    CHECK(base[rc - 1] == '\n' && base[rc - 2] == '\r');
}

#define SPLIT_ALL 16
#define SPLIT_SAMPLE 4

/* The offsets in [lo, n) at which a split is checked (see the top). */
static size_t split_points(const uint8_t *d, size_t n, size_t lo, size_t *k)
{
    size_t m = 0;
    if (n <= lo)
        return 0;
    if (n - lo <= SPLIT_ALL) {
        for (size_t i = lo; i < n; i++)
            k[m++] = i;
        return m;
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    k[m++] = lo;
    if (lo + 1 < n)
        k[m++] = lo + 1;
    k[m++] = n - 1;
    for (int i = 0; i < SPLIT_SAMPLE; i++) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        k[m++] = lo + (size_t)((h >> 33) % (n - lo));
    }
    return m;
}

#define MAX_SPLITS (SPLIT_ALL + 3 + SPLIT_SAMPLE)

static bool snap_eq(const struct snap *a, const struct snap *b) { return memcmp(a, b, sizeof *a) == 0; }

static char *copy(const uint8_t *d, size_t n)
{
    char *b = malloc(n ? n : 1);
    memcpy(b, d, n);
    return b;
}

/* ---- chunked ---- */

struct cres {
    int rc;
    size_t consumed;
    size_t dlen;
    uint64_t hash;
};

static void hash_add(uint64_t *h, const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ (unsigned char)d[i]) * 1099511628211ull;
}

/* Feed [0,k) then [k,n), each an exact-size copy. */
static void chunk_split(const uint8_t *d, size_t n, size_t k, const struct http1_limits *lim,
                        struct cres *o)
{
    struct http1_chunked c;
    http1_chunked_init(&c, lim);
    memset(o, 0, sizeof *o);
    o->hash = 1469598103934665603ull;
    size_t cuts[3] = { 0, k, n };
    int rc = HTTP1_INCOMPLETE;
    for (int piece = 0; piece < 2 && rc == HTTP1_INCOMPLETE; piece++) {
        size_t plen = cuts[piece + 1] - cuts[piece];
        char *b = copy(d + cuts[piece], plen);
        size_t off = 0;
        for (;;) {
            size_t used, dl;
            const char *dp;
            rc = http1_chunked_next(&c, b + off, plen - off, &used, &dp, &dl);
            CHECK(used <= plen - off);
            if (rc == HTTP1_CHUNK_DATA) {
                CHECK(dl > 0 && dp >= b + off && dp + dl == b + off + used);
                hash_add(&o->hash, dp, dl);
                o->dlen += dl;
            }
            off += used;
            if (rc != HTTP1_CHUNK_DATA)
                break;
        }
        if (rc == HTTP1_INCOMPLETE)
            CHECK(off == plen);
        o->consumed += off;
        free(b);
    }
    o->rc = rc;
    CHECK(rc == HTTP1_INCOMPLETE || rc == HTTP1_CHUNK_DONE || (rc < 0 && rc > -HTTP1_ERRI__COUNT));
    CHECK(c.total == o->dlen);
    CHECK(o->dlen <= o->consumed);
    if (rc == HTTP1_CHUNK_DONE) {
        CHECK(http1_chunked_done(&c));
        size_t used = 1;
        const char *dp;
        size_t dl;
        CHECK(http1_chunked_next(&c, (const char *)d, n, &used, &dp, &dl) == HTTP1_CHUNK_DONE && used == 0);
    }
}

static void fuzz_chunked(const uint8_t *d, size_t n, const struct http1_limits *lim)
{
    struct cres whole, other;
    chunk_split(d, n, n, lim, &whole);
    size_t ks[MAX_SPLITS], nk = split_points(d, n, 0, ks);
    for (size_t i = 0; i < nk; i++) {
        chunk_split(d, n, ks[i], lim, &other);
        CHECK(other.rc == whole.rc && other.consumed == whole.consumed &&
              other.dlen == whole.dlen && other.hash == whole.hash);
    }
    /* scan byte by byte */
    struct http1_chunked c;
    http1_chunked_init(&c, lim);
    int rc = HTTP1_INCOMPLETE;
    size_t total = 0;
    for (size_t i = 0; i < n && rc == HTTP1_INCOMPLETE; i++) {
        size_t used;
        rc = http1_chunked_scan(&c, (const char *)d + i, 1, &used);
        total += used;
    }
    CHECK(rc == whole.rc && total == whole.consumed && c.total == whole.dlen);
    /* decode in place */
    char *b = copy(d, n);
    http1_chunked_init(&c, lim);
    size_t used, dl;
    rc = http1_chunked_decode(&c, b, n, &used, &dl);
    uint64_t h = 1469598103934665603ull;
    hash_add(&h, b, dl);
    CHECK(rc == whole.rc && used == whole.consumed && dl == whole.dlen && h == whole.hash);
    free(b);
}

/* ---- header blocks ---- */

static int fuzz_block(struct parser *p, const uint8_t *d, size_t n, bool splits)
{
    struct snap whole, other;
    char *b = copy(d, n);
    p_init(p);
    int rc = p_parse(p, b, n);
    snap_take(p, rc, b, &whole);
    free(b);
    CHECK(rc <= (int)n);
    if (!splits)
        return rc;

    /* fresh parse of a prefix: INCOMPLETE or the whole-input result;
     * after INCOMPLETE, continuing in a moved buffer gives the whole result */
    size_t ks[MAX_SPLITS], nk = split_points(d, n, 0, ks);
    for (size_t i = 0; i < nk; i++) {
        size_t k = ks[i];
        b = copy(d, k);
        p_init(p);
        int prc = p_parse(p, b, k);
        snap_take(p, prc, b, &other);
        if (prc != HTTP1_INCOMPLETE) {
            CHECK(snap_eq(&whole, &other));
        } else {
            char *b2 = copy(d, n); /* allocated while b is live: another address */
            prc = p_parse(p, b2, n);
            snap_take(p, prc, b2, &other);
            CHECK(snap_eq(&whole, &other));
            free(b2);
        }
        free(b);
    }

    /* resumption on one buffer: prefix k, then everything */
    b = copy(d, n);
    for (size_t i = 0; i < nk; i++) {
        size_t k = ks[i];
        if (k == 0)
            continue;
        p_init(p);
        int prc = p_parse(p, b, k);
        if (prc != HTTP1_INCOMPLETE)
            continue; /* already final: equal to whole, checked above */
        prc = p_parse(p, b, n);
        snap_take(p, prc, b, &other);
        CHECK(snap_eq(&whole, &other));
    }

    /* byte by byte on one buffer */
    p_init(p);
    int brc = 0;
    for (size_t k = 1; k <= n && brc == 0; k++)
        brc = p_parse(p, b, k);
    snap_take(p, brc, b, &other);
    CHECK(snap_eq(&whole, &other));
    free(b);
    return rc;
}

static const struct http1_limits tight = {
    .max_line = 40, .max_header_bytes = 160, .max_headers = 6,
    .max_chunk_ext = 16, .max_trailer_bytes = 32,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct parser p; /* large: keep it off the stack */

    p.is_req = true;
    p.head = false;
    p.lim = NULL;
    int rc = fuzz_block(&p, data, size, true);
    if (rc > 0 && p.req.body == HTTP1_BODY_CHUNKED)
        fuzz_chunked(data + rc, size - (size_t)rc, NULL);
    p.lim = &tight;
    fuzz_block(&p, data, size, true);

    p.is_req = false;
    p.lim = NULL;
    rc = fuzz_block(&p, data, size, true);
    if (rc > 0 && p.res.body == HTTP1_BODY_CHUNKED)
        fuzz_chunked(data + rc, size - (size_t)rc, &tight);
    p.head = true;
    fuzz_block(&p, data, size, false);

    fuzz_chunked(data, size, NULL);
    fuzz_chunked(data, size, &tight);
    return 0;
}
