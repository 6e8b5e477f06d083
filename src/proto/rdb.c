/*
 * rdb.c — RDB format building blocks (see rdb.h): lengths, strings (integer
 * and LZF encodings), doubles, listpack/ziplist/intset/zipmap blobs, the
 * DUMP footer. Layouts follow Redis 7.0's rdb.c, listpack.c, ziplist.c and
 * intset.c as documented there; the code is our own.
 */
#include "proto/rdb.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/crc64.h"
#include "core/lzf.h"
#include "core/util.h"

#define FLUSH_AT (64 * 1024)
#define LZF_MAX_RATIO 100   /* bound on an LZF string's claimed length per compressed byte */

/* ---- writer --------------------------------------------------------------- */

void rdb_writer_init(struct rdb_writer *w, int fd, bool compress)
{
    memset(w, 0, sizeof *w);
    buf_init(&w->b);
    w->fd = fd;
    w->compress = compress;
}

void rdb_writer_deinit(struct rdb_writer *w) { buf_deinit(&w->b); }

int rdb_writer_flush(struct rdb_writer *w)
{
    if (w->fd < 0)
        return 0;
    size_t n = buf_pending(&w->b);
    const char *p = buf_head(&w->b);
    w->crc = crc64_update(w->crc, p, n);
    while (n > 0 && !w->err) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            w->err = errno;
            break;
        }
        p += k;
        n -= (size_t)k;
        w->written += (uint64_t)k;
    }
    buf_consume(&w->b, buf_pending(&w->b));
    return w->err ? -w->err : 0;
}

uint64_t rdb_writer_crc(struct rdb_writer *w)
{
    return crc64_update(w->crc, buf_head(&w->b), buf_pending(&w->b));
}

void rdb_put_raw(struct rdb_writer *w, const void *p, size_t n)
{
    buf_append(&w->b, p, n);
    if (w->fd >= 0 && buf_pending(&w->b) >= FLUSH_AT)
        rdb_writer_flush(w);
}

void rdb_put_byte(struct rdb_writer *w, uint8_t v) { rdb_put_raw(w, &v, 1); }

void rdb_put_len(struct rdb_writer *w, uint64_t len)
{
    uint8_t b[9];
    if (len < 64) {
        b[0] = (uint8_t)len;
        rdb_put_raw(w, b, 1);
    } else if (len < 16384) {
        b[0] = (uint8_t)(0x40 | (len >> 8));
        b[1] = (uint8_t)len;
        rdb_put_raw(w, b, 2);
    } else if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (uint8_t)(len >> (24 - 8 * i));
        rdb_put_raw(w, b, 5);
    } else {
        b[0] = 0x81;
        for (int i = 0; i < 8; i++)
            b[1 + i] = (uint8_t)(len >> (56 - 8 * i));
        rdb_put_raw(w, b, 9);
    }
}

/* The integer whose canonical text s is (no sign on 0, no leading zeros, no spaces). */
static bool canonical_ll(const char *s, size_t n, long long *v)
{
    char tmp[24];
    if (n == 0 || n > 20 || !util_str2ll(s, n, v))
        return false;
    size_t k = util_ll2str(tmp, *v);
    return k == n && memcmp(tmp, s, n) == 0;
}

static bool put_int_encoded(struct rdb_writer *w, long long v)
{
    uint8_t b[5];
    if (v >= -128 && v <= 127) {
        b[0] = 0xC0;
        b[1] = (uint8_t)(int8_t)v;
        rdb_put_raw(w, b, 2);
    } else if (v >= -32768 && v <= 32767) {
        b[0] = 0xC1;
        b[1] = (uint8_t)v;
        b[2] = (uint8_t)((uint64_t)v >> 8);
        rdb_put_raw(w, b, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = 0xC2;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (uint8_t)((uint64_t)v >> (8 * i));
        rdb_put_raw(w, b, 5);
    } else {
        return false;
    }
    return true;
}

void rdb_put_string(struct rdb_writer *w, const void *s, size_t n)
{
    long long v;
    if (n <= 11 && canonical_ll(s, n, &v) && put_int_encoded(w, v))
        return;
    if (w->compress && n > 20) {
        char *out = xmalloc(n - 4);
        size_t k = lzf_compress(s, n, out, n - 4);
        if (k > 0) {
            rdb_put_byte(w, 0xC3);
            rdb_put_len(w, k);
            rdb_put_len(w, n);
            rdb_put_raw(w, out, k);
            xfree(out);
            return;
        }
        xfree(out);
    }
    rdb_put_len(w, n);
    rdb_put_raw(w, s, n);
}

void rdb_put_ll_string(struct rdb_writer *w, long long v)
{
    char tmp[24];
    if (put_int_encoded(w, v))
        return;
    size_t k = util_ll2str(tmp, v);
    rdb_put_len(w, k);
    rdb_put_raw(w, tmp, k);
}

void rdb_put_u64le(struct rdb_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    rdb_put_raw(w, b, 8);
}

void rdb_put_double(struct rdb_writer *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    rdb_put_u64le(w, u);
}

/* ---- listpack builder ------------------------------------------------------ */

static size_t backlen_size(size_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/* Redis's lpEncodeBacklen: the entry size, 7 bits a byte, the low bits last,
 * every byte but the first flagged with 128 (read right to left). */
static size_t backlen_encode(uint8_t *b, uint64_t l)
{
    size_t k = backlen_size(l);
    for (size_t i = 0; i < k; i++) {
        uint64_t part = (l >> (7 * (k - 1 - i))) & 127;
        b[i] = (uint8_t)(part | (i > 0 ? 128 : 0));
    }
    return k;
}

void rdb_lp_init(struct rdb_lp *lp)
{
    static const char hdr[6] = {0};
    buf_init(&lp->b);
    buf_append(&lp->b, hdr, 6);
    lp->count = 0;
}

void rdb_lp_deinit(struct rdb_lp *lp) { buf_deinit(&lp->b); }

static bool canonical_ll(const char *s, size_t n, long long *v);

size_t rdb_lp_entry_size(const char *s, size_t n)
{
    long long v;
    if (canonical_ll(s, n, &v)) {
        size_t k = v >= 0 && v <= 127 ? 1 : v >= -4096 && v <= 4095 ? 2 : v >= -32768 && v <= 32767 ? 3
                   : v >= -8388608 && v <= 8388607 ? 4 : v >= INT32_MIN && v <= INT32_MAX ? 5 : 9;
        return k + 1;
    }
    size_t h = n < 64 ? 1 : n < 4096 ? 2 : 5;
    return h + n + backlen_size(h + n);
}

static void lp_entry_end(struct rdb_lp *lp, size_t entry_len)
{
    uint8_t b[5];
    buf_append(&lp->b, b, backlen_encode(b, entry_len));
    lp->count++;
}

void rdb_lp_append_int(struct rdb_lp *lp, long long v)
{
    uint8_t b[9];
    size_t k;
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 127) {
        b[0] = (uint8_t)v;
        k = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t e = v < 0 ? (uint64_t)((1 << 13) + v) : u;
        b[0] = (uint8_t)(0xC0 | (e >> 8));
        b[1] = (uint8_t)e;
        k = 2;
    } else {
        int bytes;
        if (v >= -32768 && v <= 32767)
            b[0] = 0xF1, bytes = 2;
        else if (v >= -8388608 && v <= 8388607)
            b[0] = 0xF2, bytes = 3;
        else if (v >= INT32_MIN && v <= INT32_MAX)
            b[0] = 0xF3, bytes = 4;
        else
            b[0] = 0xF4, bytes = 8;
        for (int i = 0; i < bytes; i++)
            b[1 + i] = (uint8_t)(u >> (8 * i));
        k = 1 + (size_t)bytes;
    }
    buf_append(&lp->b, b, k);
    lp_entry_end(lp, k);
}

void rdb_lp_append(struct rdb_lp *lp, const char *s, size_t n)
{
    long long v;
    if (canonical_ll(s, n, &v)) {
        rdb_lp_append_int(lp, v);
        return;
    }
    uint8_t b[5];
    size_t h;
    if (n < 64) {
        b[0] = (uint8_t)(0x80 | n);
        h = 1;
    } else if (n < 4096) {
        b[0] = (uint8_t)(0xE0 | (n >> 8));
        b[1] = (uint8_t)n;
        h = 2;
    } else {
        b[0] = 0xF0;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
        h = 5;
    }
    buf_append(&lp->b, b, h);
    buf_append(&lp->b, s, n);
    lp_entry_end(lp, h + n);
}

void rdb_lp_finish(struct rdb_lp *lp)
{
    buf_putc(&lp->b, (char)0xFF);
    uint8_t *h = (uint8_t *)buf_head(&lp->b);
    uint32_t total = (uint32_t)buf_pending(&lp->b);
    uint32_t cnt = lp->count < 65535 ? lp->count : 65535;
    for (int i = 0; i < 4; i++)
        h[i] = (uint8_t)(total >> (8 * i));
    h[4] = (uint8_t)cnt;
    h[5] = (uint8_t)(cnt >> 8);
}

void rdb_intset_build(struct buf *out, const int64_t *v, size_t n)
{
    uint32_t enc = 2;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX)
            enc = 8;
        else if ((v[i] < INT16_MIN || v[i] > INT16_MAX) && enc < 4)
            enc = 4;
    }
    uint8_t h[8];
    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(enc >> (8 * i));
        h[4 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    buf_append(out, h, 8);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[8];
        for (uint32_t k = 0; k < enc; k++)
            b[k] = (uint8_t)((uint64_t)v[i] >> (8 * k));
        buf_append(out, b, enc);
    }
}

/* ---- reader --------------------------------------------------------------- */

void rdb_reader_init(struct rdb_reader *r, const void *p, size_t len)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->len = len;
}

bool rdb_fail(struct rdb_reader *r, const char *fmt, ...)
{
    if (r->failed)
        return false;
    r->failed = true;
    r->err_off = r->base + r->off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return false;
}

/* Whether n bytes are there past off, asking a streaming reader for more. */
static bool have(struct rdb_reader *r, size_t n)
{
    return r->len - r->off >= n || (r->fill && !r->failed && r->fill(r, n) && r->len - r->off >= n);
}

static bool need(struct rdb_reader *r, size_t n)
{
    if (r->failed)
        return false;
    if (!have(r, n))
        return rdb_fail(r, "unexpected end of data (%zu bytes needed, %zu left)", n, r->len - r->off);
    return true;
}

bool rdb_get_raw(struct rdb_reader *r, void *out, size_t n)
{
    if (!need(r, n))
        return false;
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return true;
}

bool rdb_get_byte(struct rdb_reader *r, uint8_t *v) { return rdb_get_raw(r, v, 1); }

bool rdb_get_u64le(struct rdb_reader *r, uint64_t *v)
{
    uint8_t b[8];
    if (!rdb_get_raw(r, b, 8))
        return false;
    *v = 0;
    for (int i = 7; i >= 0; i--)
        *v = *v << 8 | b[i];
    return true;
}

bool rdb_get_u32le(struct rdb_reader *r, uint32_t *v)
{
    uint8_t b[4];
    if (!rdb_get_raw(r, b, 4))
        return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

bool rdb_get_len(struct rdb_reader *r, uint64_t *len, bool *enc)
{
    uint8_t b, x[8];
    if (!rdb_get_byte(r, &b))
        return false;
    if (enc)
        *enc = false;
    switch (b >> 6) {
    case 0:
        *len = b & 0x3f;
        return true;
    case 1:
        if (!rdb_get_byte(r, &x[0]))
            return false;
        *len = (uint64_t)(b & 0x3f) << 8 | x[0];
        return true;
    case 2:
        if (b == 0x80 || b == 0x81) {
            int k = b == 0x80 ? 4 : 8;
            if (!rdb_get_raw(r, x, (size_t)k))
                return false;
            *len = 0;
            for (int i = 0; i < k; i++)
                *len = *len << 8 | x[i];
            return true;
        }
        r->off--;
        return rdb_fail(r, "unknown length encoding 0x%02x", b);
    default:
        if (!enc) {
            r->off--;
            return rdb_fail(r, "a string encoding (0x%02x) where a length was expected", b);
        }
        *enc = true;
        *len = b & 0x3f;
        return true;
    }
}

bool rdb_get_string(struct rdb_reader *r, char **s, size_t *n)
{
    uint64_t len;
    bool enc;
    size_t start = r->off;
    if (!rdb_get_len(r, &len, &enc))
        return false;
    if (enc) {
        uint8_t b[4];
        long long v;
        switch (len) {
        case 0:
        case 1:
        case 2: {
            size_t k = (size_t)1 << len;
            if (!rdb_get_raw(r, b, k))
                return false;
            if (k == 1)
                v = (int8_t)b[0];
            else if (k == 2)
                v = (int16_t)(uint16_t)(b[0] | b[1] << 8);
            else
                v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
            *s = xmalloc(24);
            *n = util_ll2str(*s, v);
            (*s)[*n] = '\0';
            return true;
        }
        case 3: {
            uint64_t clen, ulen;
            if (!rdb_get_len(r, &clen, NULL) || !rdb_get_len(r, &ulen, NULL))
                return false;
            if (!have(r, clen)) {
                r->off = start;
                return rdb_fail(r, "LZF string of %llu bytes past the end of data", (unsigned long long)clen);
            }
            if (ulen == 0 || ulen / LZF_MAX_RATIO > clen) {
                r->off = start;
                return rdb_fail(r, "LZF string claims %llu bytes from %llu", (unsigned long long)ulen,
                                (unsigned long long)clen);
            }
            /* a size the input claims: allocated only if the allocator agrees */
            char *out = ulen < UINT32_MAX ? xtry_realloc(NULL, (size_t)ulen + 1) : NULL;
            if (!out) {
                r->off = start;
                return rdb_fail(r, "cannot allocate %llu bytes for an LZF string", (unsigned long long)ulen);
            }
            if (lzf_decompress(r->p + r->off, (size_t)clen, out, (size_t)ulen) != ulen) {
                xfree(out);
                r->off = start;
                return rdb_fail(r, "invalid LZF compressed string");
            }
            r->off += (size_t)clen;
            out[ulen] = '\0';
            *s = out;
            *n = (size_t)ulen;
            return true;
        }
        default:
            r->off = start;
            return rdb_fail(r, "unknown string encoding %llu", (unsigned long long)len);
        }
    }
    if (!have(r, len)) {
        r->off = start;
        return rdb_fail(r, "string of %llu bytes past the end of data", (unsigned long long)len);
    }
    *s = xmalloc((size_t)len + 1);
    memcpy(*s, r->p + r->off, (size_t)len);
    (*s)[len] = '\0';
    *n = (size_t)len;
    r->off += (size_t)len;
    return true;
}

bool rdb_skip_string(struct rdb_reader *r)
{
    char *s;
    size_t n;
    if (!rdb_get_string(r, &s, &n))
        return false;
    xfree(s);
    return true;
}

bool rdb_get_double_bin(struct rdb_reader *r, double *d)
{
    uint64_t u;
    if (!rdb_get_u64le(r, &u))
        return false;
    memcpy(d, &u, 8);
    return true;
}

bool rdb_get_double_text(struct rdb_reader *r, double *d)
{
    uint8_t k;
    char buf[256];
    if (!rdb_get_byte(r, &k))
        return false;
    if (k == 253) {
        *d = NAN;
        return true;
    }
    if (k == 254 || k == 255) {
        *d = k == 254 ? INFINITY : -INFINITY;
        return true;
    }
    if (!rdb_get_raw(r, buf, k))
        return false;
    buf[k] = '\0';
    char *end;
    *d = strtod(buf, &end);
    if (k == 0 || end != buf + k) {
        r->off -= k + 1u;
        return rdb_fail(r, "bad double value '%.*s'", (int)k, buf);
    }
    return true;
}

/* ---- blobs ----------------------------------------------------------------- */

static uint64_t le(const uint8_t *p, int k)
{
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int64_t sign_extend(uint64_t v, int bits)
{
    uint64_t m = 1ULL << (bits - 1);
    return (int64_t)((v ^ m) - m);
}

static bool blob_fail(struct rdb_blob_iter *it, struct rdb_reader *r, const char *what)
{
    static const char *names[] = {"listpack", "ziplist", "intset", "zipmap"};
    const char *name = it->kind >= 0 && it->kind < 4 ? names[it->kind] : "blob";
    return rdb_fail(r, "corrupt %s (%s at blob byte %zu)", name, what, it->off);
}

bool rdb_blob_begin(struct rdb_blob_iter *it, int kind, const void *p, size_t len, struct rdb_reader *r)
{
    memset(it, 0, sizeof *it);
    it->p = p;
    it->len = len;
    it->kind = kind;
    const uint8_t *b = p;
    switch (kind) {
    case RDB_BLOB_LISTPACK:
        if (len < 7 || le(b, 4) != len || b[len - 1] != 0xFF)
            return blob_fail(it, r, "bad header");
        it->count = (uint32_t)le(b + 4, 2);
        it->off = 6;
        return true;
    case RDB_BLOB_ZIPLIST:
        if (len < 11 || le(b, 4) != len || le(b + 4, 4) >= len || b[len - 1] != 0xFF)
            return blob_fail(it, r, "bad header");
        it->count = (uint32_t)le(b + 8, 2);
        it->off = 10;
        return true;
    case RDB_BLOB_INTSET: {
        if (len < 8)
            return blob_fail(it, r, "bad header");
        uint64_t enc = le(b, 4), cnt = le(b + 4, 4);
        if ((enc != 2 && enc != 4 && enc != 8) || 8 + enc * cnt != len)
            return blob_fail(it, r, "bad header");
        it->count = (uint32_t)cnt;
        it->off = 8;
        return true;
    }
    case RDB_BLOB_ZIPMAP:
        if (len < 2 || b[len - 1] != 0xFF)
            return blob_fail(it, r, "bad header");
        it->count = b[0];
        it->off = 1;
        return true;
    }
    return blob_fail(it, r, "unknown kind");
}

static int give_int(struct rdb_blob_iter *it, int64_t v, const char **s, size_t *n)
{
    *n = util_ll2str(it->num, v);
    *s = it->num;
    it->seen++;
    return 1;
}

static int lp_next(struct rdb_blob_iter *it, const char **s, size_t *n, struct rdb_reader *r)
{
    const uint8_t *p = it->p + it->off;
    size_t left = it->len - 1 - it->off; /* bytes before the terminator */
    if (it->off >= it->len)
        return blob_fail(it, r, "missing terminator"), -1;
    if (*p == 0xFF) {
        if (it->off != it->len - 1 || (it->count != 65535 && it->seen != it->count))
            return blob_fail(it, r, "bad terminator or element count"), -1;
        return 0;
    }
    uint8_t b = p[0];
    size_t hdr, slen = 0;
    bool isint = true;
    int64_t v = 0;
    if ((b & 0x80) == 0) {
        hdr = 1, v = b & 0x7f;
    } else if ((b & 0xC0) == 0x80) {
        hdr = 1, slen = b & 0x3f, isint = false;
    } else if ((b & 0xE0) == 0xC0) {
        hdr = 2;
        if (left < 2)
            return blob_fail(it, r, "truncated entry"), -1;
        v = sign_extend((uint64_t)(b & 0x1f) << 8 | p[1], 13);
    } else if ((b & 0xF0) == 0xE0) {
        hdr = 2, isint = false;
        if (left < 2)
            return blob_fail(it, r, "truncated entry"), -1;
        slen = (size_t)(b & 0x0f) << 8 | p[1];
    } else if (b == 0xF0) {
        hdr = 5, isint = false;
        if (left < 5)
            return blob_fail(it, r, "truncated entry"), -1;
        slen = (size_t)le(p + 1, 4);
    } else if (b >= 0xF1 && b <= 0xF4) {
        static const int widths[] = {2, 3, 4, 8};
        int k = widths[b - 0xF1];
        hdr = 1 + (size_t)k;
        if (left < hdr)
            return blob_fail(it, r, "truncated entry"), -1;
        v = sign_extend(le(p + 1, k), k * 8);
    } else {
        return blob_fail(it, r, "unknown entry encoding"), -1;
    }
    size_t elen = hdr + slen;
    if (elen < hdr || elen > left)
        return blob_fail(it, r, "entry past the end"), -1;
    uint8_t bl[5];
    size_t blen = backlen_encode(bl, elen);
    if (left - elen < blen || memcmp(p + elen, bl, blen) != 0)
        return blob_fail(it, r, "bad back length"), -1;
    it->off += elen + blen;
    if (it->count != 65535 && it->seen >= it->count)
        return blob_fail(it, r, "more entries than the header says"), -1;
    if (isint)
        return give_int(it, v, s, n);
    *s = (const char *)p + hdr;
    *n = slen;
    it->seen++;
    return 1;
}

static int zl_next(struct rdb_blob_iter *it, const char **s, size_t *n, struct rdb_reader *r)
{
    const uint8_t *p = it->p + it->off;
    size_t left = it->len - 1 - it->off;
    if (it->off >= it->len)
        return blob_fail(it, r, "missing terminator"), -1;
    if (*p == 0xFF) {
        if (it->off != it->len - 1 || (it->count != 65535 && it->seen != it->count))
            return blob_fail(it, r, "bad terminator or element count"), -1;
        return 0;
    }
    size_t pl = p[0] < 254 ? 1 : 5;
    if (p[0] == 255 || left < pl + 1)
        return blob_fail(it, r, "bad previous-length"), -1;
    const uint8_t *e = p + pl;
    size_t hdr, slen = 0;
    bool isint = true;
    int64_t v = 0;
    uint8_t b = e[0];
    size_t room = left - pl;
    if ((b >> 6) == 0) {
        hdr = 1, slen = b & 0x3f, isint = false;
    } else if ((b >> 6) == 1) {
        if (room < 2)
            return blob_fail(it, r, "truncated entry"), -1;
        hdr = 2, slen = (size_t)(b & 0x3f) << 8 | e[1], isint = false;
    } else if (b == 0x80) {
        if (room < 5)
            return blob_fail(it, r, "truncated entry"), -1;
        hdr = 5, isint = false;
        slen = (size_t)e[1] << 24 | (size_t)e[2] << 16 | (size_t)e[3] << 8 | e[4];
    } else if (b == 0xC0 || b == 0xD0 || b == 0xE0 || b == 0xF0 || b == 0xFE) {
        int k = b == 0xC0 ? 2 : b == 0xD0 ? 4 : b == 0xE0 ? 8 : b == 0xF0 ? 3 : 1;
        hdr = 1 + (size_t)k;
        if (room < hdr)
            return blob_fail(it, r, "truncated entry"), -1;
        v = sign_extend(le(e + 1, k), k * 8);
    } else if (b >= 0xF1 && b <= 0xFD) {
        hdr = 1, v = (b & 0x0f) - 1;
    } else {
        return blob_fail(it, r, "unknown entry encoding"), -1;
    }
    if (slen > room - hdr)
        return blob_fail(it, r, "entry past the end"), -1;
    it->off += pl + hdr + slen;
    if (it->count != 65535 && it->seen >= it->count)
        return blob_fail(it, r, "more entries than the header says"), -1;
    if (isint)
        return give_int(it, v, s, n);
    *s = (const char *)e + hdr;
    *n = slen;
    it->seen++;
    return 1;
}

static int is_next(struct rdb_blob_iter *it, const char **s, size_t *n, struct rdb_reader *r)
{
    if (it->seen == it->count)
        return 0;
    int k = (int)le(it->p, 4);
    int64_t v = sign_extend(le(it->p + it->off, k), k * 8);
    if (it->seen > 0) {
        int64_t prev = sign_extend(le(it->p + it->off - (size_t)k, k), k * 8);
        if (prev >= v)
            return blob_fail(it, r, "members not in ascending order"), -1;
    }
    it->off += (size_t)k;
    return give_int(it, v, s, n);
}

static int zm_next(struct rdb_blob_iter *it, const char **s, size_t *n, struct rdb_reader *r)
{
    bool value = (it->seen & 1) != 0;
    const uint8_t *p = it->p;
    size_t end = it->len - 1;
    if (it->off > end)
        return blob_fail(it, r, "missing terminator"), -1;
    if (p[it->off] == 0xFF) {
        if (value || it->off != end)
            return blob_fail(it, r, "bad terminator"), -1;
        return 0;
    }
    size_t len, hl = p[it->off] < 254 ? 1 : 5;
    if (p[it->off] == 255 || end - it->off < hl)
        return blob_fail(it, r, "bad length"), -1;
    len = hl == 1 ? p[it->off] : (size_t)le(p + it->off + 1, 4);
    it->off += hl;
    size_t freeb = 0;
    if (value) {
        if (end - it->off < 1)
            return blob_fail(it, r, "truncated entry"), -1;
        freeb = p[it->off++];
    }
    if (end - it->off < len || end - it->off - len < freeb)
        return blob_fail(it, r, "entry past the end"), -1;
    *s = (const char *)p + it->off;
    *n = len;
    it->off += len + freeb;
    it->seen++;
    return 1;
}

int rdb_blob_next(struct rdb_blob_iter *it, const char **s, size_t *n, struct rdb_reader *r)
{
    if (r->failed)
        return -1;
    switch (it->kind) {
    case RDB_BLOB_LISTPACK:
        return lp_next(it, s, n, r);
    case RDB_BLOB_ZIPLIST:
        return zl_next(it, s, n, r);
    case RDB_BLOB_INTSET:
        return is_next(it, s, n, r);
    default:
        return zm_next(it, s, n, r);
    }
}

/* ---- DUMP payload ---------------------------------------------------------- */

void rdb_dump_footer(struct rdb_writer *w)
{
    uint8_t v[2] = {RDB_VERSION & 0xff, RDB_VERSION >> 8};
    rdb_put_raw(w, v, 2);
    rdb_put_u64le(w, crc64_update(0, buf_head(&w->b), buf_pending(&w->b)));
}

bool rdb_dump_verify(const void *p, size_t len, size_t *body_len)
{
    const uint8_t *b = p;
    if (len < 10)
        return false;
    unsigned ver = b[len - 10] | (unsigned)b[len - 9] << 8;
    if (ver > RDB_VERSION)
        return false;
    if (crc64_update(0, b, len - 8) != le(b + len - 8, 8))
        return false;
    *body_len = len - 10;
    return true;
}
