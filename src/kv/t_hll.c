/*
 * t_hll.c — HyperLogLog: PFADD, PFCOUNT, PFMERGE, in Redis's own string
 * format, so a value made by either server is read by the other (GET, DUMP,
 * RDB, replication carry the same bytes).
 *
 * The format (a string value):
 *   header, 16 bytes: "HYLL", encoding (0 dense, 1 sparse), 3 zero bytes,
 *     the cached cardinality as 8 bytes little endian; the top bit of the
 *     last byte set means "not valid, count again";
 *   dense: 16384 registers of 6 bits, register i at bit i*6, least
 *     significant bits first (12288 bytes);
 *   sparse: opcodes over runs of registers, in order:
 *     ZERO  00xxxxxx           1..64 registers at 0 (xxxxxx + 1)
 *     XZERO 01xxxxxx yyyyyyyy  1..16384 registers at 0 (14 bits + 1)
 *     VAL   1vvvvvxx           1..4 registers (xx + 1) at 1..32 (vvvvv + 1)
 * A new value is sparse (one XZERO); it turns dense for good when a register
 * needs more than 32 or the value would pass hll-sparse-max-bytes.
 *
 * An element's register and value: MurmurHash64A of its bytes (seed
 * 0xadc83b19); the low 14 bits pick the register, the value is 1 + the
 * number of trailing zeros of the rest (bit 50 set, so at most 51).
 *
 * Byte-for-byte compatibility with Redis's sparse values (tested by GET
 * against redis-server) needs its exact way of changing them: the opcode
 * holding the register is split in place into at most three (run before,
 * the new VAL, run after), then up to five opcodes from the one before are
 * scanned and neighbouring VALs of the same value merged while they fit in
 * one (at most 4 registers). A from-scratch encoding would often differ.
 *
 * The count is Otmar Ertl's estimator from the histogram of register values
 * ("New cardinality estimation algorithms for HyperLogLog sketches", 2017),
 * as Redis 5+ computes it in double precision, so both give the same number.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/server.h"

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_REGMAX 63
#define HLL_HDR 16
#define HLL_DENSE_BYTES ((HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_DENSE_SIZE (HLL_HDR + HLL_DENSE_BYTES)
#define HLL_ENC_DENSE 0
#define HLL_ENC_SPARSE 1
#define SP_ZERO_MAX 64
#define SP_XZERO_MAX 16384
#define SP_VAL_MAXVAL 32
#define SP_VAL_MAXLEN 4
#define HLL_SEED 0xadc83b19ULL

static const char invalid_err[] = "INVALIDOBJ Corrupted HLL object detected";
static const char wrongtype_err[] = "WRONGTYPE Key is not a valid HyperLogLog string value.";

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

/* ---- opcodes ------------------------------------------------------------------------ */

static inline bool op_is_zero(const uint8_t *p) { return (*p & 0xc0) == 0x00; }
static inline bool op_is_xzero(const uint8_t *p) { return (*p & 0xc0) == 0x40; }
static inline bool op_is_val(const uint8_t *p) { return (*p & 0x80) != 0; }
static inline int zero_len(const uint8_t *p) { return (*p & 0x3f) + 1; }
static inline int xzero_len(const uint8_t *p) { return (((p[0] & 0x3f) << 8) | p[1]) + 1; }
static inline int val_value(const uint8_t *p) { return ((*p >> 2) & 0x1f) + 1; }
static inline int val_len(const uint8_t *p) { return (*p & 0x3) + 1; }
static inline void put_zero(uint8_t *p, int len) { *p = (uint8_t)(len - 1); }
static inline void put_xzero(uint8_t *p, int len)
{
    p[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
    p[1] = (uint8_t)((len - 1) & 0xff);
}
static inline void put_val(uint8_t *p, int value, int len) { *p = (uint8_t)(0x80 | ((value - 1) << 2) | (len - 1)); }

/* ---- dense registers ---------------------------------------------------------------- */

static inline int dense_get(const uint8_t *r, long i)
{
    unsigned long byte = (unsigned long)i * HLL_BITS / 8, fb = (unsigned long)i * HLL_BITS & 7;
    unsigned v = r[byte] >> fb;
    if (fb > 8 - HLL_BITS) /* the register goes on in the next byte */
        v |= (unsigned)r[byte + 1] << (8 - fb);
    return (int)(v & HLL_REGMAX);
}

static inline void dense_put(uint8_t *r, long i, int v)
{
    unsigned long byte = (unsigned long)i * HLL_BITS / 8, fb = (unsigned long)i * HLL_BITS & 7;
    r[byte] = (uint8_t)((r[byte] & ~(HLL_REGMAX << fb)) | ((unsigned)v << fb));
    if (fb > 8 - HLL_BITS)
        r[byte + 1] = (uint8_t)((r[byte + 1] & ~(HLL_REGMAX >> (8 - fb))) | ((unsigned)v >> (8 - fb)));
}

/* ---- hashing ------------------------------------------------------------------------- */

/* MurmurHash64A (Austin Appleby's, public domain), 8-byte blocks read little
 * endian whatever the machine. */
static uint64_t murmur64a(const uint8_t *data, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = seed ^ (len * m);
    size_t nblocks = len / 8;
    for (size_t b = 0; b < nblocks; b++) {
        uint64_t k = 0;
        for (int i = 7; i >= 0; i--)
            k = (k << 8) | data[b * 8 + (size_t)i];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    const uint8_t *tail = data + nblocks * 8;
    size_t rest = len & 7;
    if (rest) {
        for (size_t i = rest; i-- > 0;)
            h ^= (uint64_t)tail[i] << (8 * i);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

/* The register of an element and the value it brings. */
static int element_pattern(const char *e, size_t n, long *reg)
{
    uint64_t h = murmur64a((const uint8_t *)e, n, HLL_SEED);
    *reg = (long)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= 1ULL << HLL_Q; /* at most HLL_Q + 1 */
    return __builtin_ctzll(h) + 1;
}

/* ---- the value ----------------------------------------------------------------------- */

/* A value being changed: header and data in one growable copy (sparse), or
 * the object's own bytes (dense, changed in place). */
struct hll {
    uint8_t *p;
    size_t len, cap;
};

static void hll_reserve(struct hll *h, size_t need)
{
    if (need <= h->cap)
        return;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < need)
        cap *= 2;
    h->p = xrealloc(h->p, cap);
    h->cap = cap;
}

static void hll_new(struct hll *h)
{
    hll_reserve(h, HLL_HDR + 2);
    memset(h->p, 0, HLL_HDR);
    memcpy(h->p, "HYLL", 4);
    h->p[4] = HLL_ENC_SPARSE;
    put_xzero(h->p + HLL_HDR, SP_XZERO_MAX); /* 16384 zero registers */
    h->len = HLL_HDR + 2;
}

static inline void invalidate_cache(uint8_t *hdr) { hdr[15] |= 0x80; }
static inline bool cache_valid(const uint8_t *hdr) { return (hdr[15] & 0x80) == 0; }

/* Redis's check of a string as a HyperLogLog. */
static bool is_hll(const uint8_t *v, size_t n)
{
    if (n < HLL_HDR || memcmp(v, "HYLL", 4) != 0 || v[4] > HLL_ENC_SPARSE)
        return false;
    return v[4] != HLL_ENC_DENSE || n == HLL_DENSE_SIZE;
}

/* Sparse data to one byte per register (raw NULL: only checked); false
 * when the opcodes do not cover exactly 16384 registers. */
static bool sparse_to_raw(const uint8_t *p, const uint8_t *end, uint8_t *raw)
{
    long idx = 0;
    while (p < end) {
        if (op_is_zero(p)) {
            idx += zero_len(p);
            p++;
        } else if (op_is_xzero(p)) {
            if (p + 1 >= end)
                return false;
            idx += xzero_len(p);
            p += 2;
        } else {
            int v = val_value(p), n = val_len(p);
            if (idx + n > HLL_REGISTERS)
                return false;
            if (raw)
                memset(raw + idx, v, (size_t)n);
            idx += n;
            p++;
        }
        if (idx > HLL_REGISTERS)
            return false;
    }
    return idx == HLL_REGISTERS;
}

/* The registers of a value, each max'ed into raw. false: corrupt. */
static bool merge_into(uint8_t *raw, const uint8_t *v, size_t n)
{
    if (v[4] == HLL_ENC_DENSE) {
        for (long i = 0; i < HLL_REGISTERS; i++) {
            int r = dense_get(v + HLL_HDR, i);
            if (r > raw[i])
                raw[i] = (uint8_t)r;
        }
        return true;
    }
    uint8_t *tmp = xcalloc(HLL_REGISTERS, 1);
    bool ok = sparse_to_raw(v + HLL_HDR, v + n, tmp);
    for (long i = 0; ok && i < HLL_REGISTERS; i++)
        if (tmp[i] > raw[i])
            raw[i] = tmp[i];
    xfree(tmp);
    return ok;
}

/* Sparse to dense, in h (the cached count's validity kept). false: corrupt. */
static bool to_dense(struct hll *h)
{
    if (h->p[4] == HLL_ENC_DENSE)
        return true;
    uint8_t *raw = xcalloc(HLL_REGISTERS, 1);
    bool ok = sparse_to_raw(h->p + HLL_HDR, h->p + h->len, raw);
    if (ok) {
        hll_reserve(h, HLL_DENSE_SIZE);
        memset(h->p + HLL_HDR, 0, HLL_DENSE_BYTES);
        for (long i = 0; i < HLL_REGISTERS; i++)
            if (raw[i])
                dense_put(h->p + HLL_HDR, i, raw[i]);
        h->p[4] = HLL_ENC_DENSE;
        h->len = HLL_DENSE_SIZE;
    }
    xfree(raw);
    return ok;
}

static int dense_set(uint8_t *regs, long i, int v)
{
    if (dense_get(regs, i) >= v)
        return 0;
    dense_put(regs, i, v);
    return 1;
}

/* Register i to at least v in a sparse value, as Redis changes it (see the
 * top of the file): 1 changed, 0 not, -1 corrupt. May turn h dense. */
static int sparse_set(struct hll *h, long i, int v, long long max_bytes)
{
    if (v > SP_VAL_MAXVAL)
        goto promote;
    hll_reserve(h, h->len + 3);
    uint8_t *sp = h->p + HLL_HDR, *end = h->p + h->len, *p = sp, *prev = NULL;
    long first = 0, span = 0;
    while (p < end) {
        int oplen = 1;
        if (op_is_zero(p)) {
            span = zero_len(p);
        } else if (op_is_val(p)) {
            span = val_len(p);
        } else {
            if (p + 1 >= end)
                return -1;
            span = xzero_len(p);
            oplen = 2;
        }
        if (i <= first + span - 1)
            break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end)
        return -1;
    bool zero = op_is_zero(p), xzero = op_is_xzero(p), val = op_is_val(p);
    uint8_t *next = p + (xzero ? 2 : 1);
    long runlen = zero ? zero_len(p) : xzero ? xzero_len(p) : val_len(p);
    if (val) {
        if (val_value(p) >= v)
            return 0; /* the run already says as much */
        if (runlen == 1) {
            put_val(p, v, 1);
            goto updated;
        }
    }
    if (zero && runlen == 1) {
        put_val(p, v, 1);
        goto updated;
    }
    /* split the run: before, the register, after */
    uint8_t seq[5], *n = seq;
    long last = first + span - 1;
    if (zero || xzero) {
        if (i != first) {
            long len = i - first;
            if (len > SP_ZERO_MAX) {
                put_xzero(n, (int)len);
                n += 2;
            } else {
                put_zero(n++, (int)len);
            }
        }
        put_val(n++, v, 1);
        if (i != last) {
            long len = last - i;
            if (len > SP_ZERO_MAX) {
                put_xzero(n, (int)len);
                n += 2;
            } else {
                put_zero(n++, (int)len);
            }
        }
    } else {
        int cur = val_value(p);
        if (i != first)
            put_val(n++, cur, (int)(i - first));
        put_val(n++, v, 1);
        if (i != last)
            put_val(n++, cur, (int)(last - i));
    }
    long seqlen = n - seq, oldlen = xzero ? 2 : 1, delta = seqlen - oldlen;
    if (delta > 0 && (long long)h->len + delta > max_bytes)
        goto promote;
    if (delta && next < end)
        memmove(next + delta, next, (size_t)(end - next));
    h->len = (size_t)((long)h->len + delta);
    end += delta;
    memcpy(p, seq, (size_t)seqlen);
updated:;
    /* merge neighbouring VALs of one value while they fit in one opcode */
    p = prev ? prev : sp;
    int scan = 5;
    while (p < end && scan--) {
        if (op_is_xzero(p)) {
            p += 2;
            continue;
        }
        if (op_is_zero(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && op_is_val(p + 1) && val_value(p) == val_value(p + 1)) {
            int len = val_len(p) + val_len(p + 1);
            if (len <= SP_VAL_MAXLEN) {
                put_val(p + 1, val_value(p), len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                h->len--;
                end--;
                continue; /* and maybe with the next one too */
            }
        }
        p++;
    }
    invalidate_cache(h->p);
    return 1;
promote:
    if (!to_dense(h))
        return -1;
    return dense_set(h->p + HLL_HDR, i, v);
}

/* ---- counting ------------------------------------------------------------------------ */

static double sigma(double x)
{
    if (x == 1.)
        return INFINITY;
    double zp, y = 1, z = x;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double tau(double x)
{
    if (x == 0. || x == 1.)
        return 0.;
    double zp, y = 1.0, z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

/* Ertl's estimate from the histogram of register values. */
static uint64_t estimate(const int histo[64])
{
    double m = HLL_REGISTERS;
    double z = m * tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * sigma(histo[0] / m);
    return (uint64_t)llround(0.721347520444481703680 * m * m / z);
}

static uint64_t count_raw(const uint8_t *raw)
{
    int histo[64] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++)
        histo[raw[i] & 63]++;
    return estimate(histo);
}

/* The count of one value; false: corrupt. */
static bool count_value(const uint8_t *v, size_t n, uint64_t *out)
{
    uint8_t *raw = xcalloc(HLL_REGISTERS, 1);
    bool ok = merge_into(raw, v, n);
    if (ok)
        *out = count_raw(raw);
    xfree(raw);
    return ok;
}

/* ---- commands ------------------------------------------------------------------------ */

/* The key's value if it is a HyperLogLog (NULL: no key); false after replying. */
static bool lookup_hll(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_obj ***ref)
{
    *ref = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    if (!*ref)
        return true;
    if (obj_type(**ref) != OBJ_STRING) {
        kv_reply_wrongtype(c);
        return false;
    }
    if (!is_hll((const uint8_t *)obj_cval(**ref), obj_vlen(**ref))) {
        kv_reply_error(c, wrongtype_err);
        return false;
    }
    return true;
}

/* Store h as the key's value (new or replacing, TTL kept). */
static bool store(struct kv_client *c, const struct resp_arg *k, struct kv_obj **ref, const struct hll *h)
{
    if (!ref) {
        kv_db_add(DB(c), kv_obj_new_string(k->ptr, k->len, (const char *)h->p, h->len, -1));
        return true;
    }
    struct kv_obj *o = *ref;
    if (obj_vlen(o) != h->len && !(o = kv_db_string_try_resize(DB(c), ref, h->len)))
        return false;
    memcpy(obj_val(o), h->p, h->len);
    return true;
}

static void modified(struct kv_client *c, const struct resp_arg *k, long long changes)
{
    db_modified(DB(c), k->ptr, k->len);
    c->srv->dirty += changes;
    kv_notify(c, KV_NOTIFY_STRING, "pfadd", k->ptr, k->len);
}

void kv_cmd_PFADD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_obj **ref;
    if (!lookup_hll(c, &argv[1], LOOKUP_WRITE, &ref))
        return;
    struct hll h = {0};
    long long updated = 0;
    if (!ref) {
        hll_new(&h);
        updated++;
    } else {
        hll_reserve(&h, obj_vlen(*ref));
        memcpy(h.p, obj_cval(*ref), obj_vlen(*ref));
        h.len = obj_vlen(*ref);
        if (h.p[4] == HLL_ENC_SPARSE && !sparse_to_raw(h.p + HLL_HDR, h.p + h.len, NULL)) {
            /* a corrupt value is refused whole, whichever registers the elements hit */
            xfree(h.p);
            kv_reply_error(c, invalid_err);
            return;
        }
    }
    for (int j = 2; j < argc; j++) {
        long reg;
        int v = element_pattern(argv[j].ptr, argv[j].len, &reg);
        int r = h.p[4] == HLL_ENC_DENSE ? dense_set(h.p + HLL_HDR, reg, v)
                                        : sparse_set(&h, reg, v, c->srv->cfg.hll_sparse_max_bytes);
        if (r < 0) {
            xfree(h.p);
            kv_reply_error(c, invalid_err);
            return;
        }
        updated += r;
    }
    if (updated) {
        invalidate_cache(h.p);
        if (!store(c, &argv[1], ref, &h)) {
            xfree(h.p);
            kv_reply_error(c, "ERR out of memory");
            return;
        }
        modified(c, &argv[1], updated);
    }
    xfree(h.p);
    resp_add_int(&c->out, updated ? 1 : 0);
}

void kv_cmd_PFCOUNT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc == 2) {
        struct kv_obj **ref;
        if (!lookup_hll(c, &argv[1], 0, &ref))
            return;
        if (!ref) {
            resp_add_int(&c->out, 0);
            return;
        }
        uint8_t *v = (uint8_t *)obj_val(*ref);
        uint64_t card = 0;
        if (cache_valid(v)) {
            for (int i = 7; i >= 0; i--)
                card = (card << 8) | v[8 + i];
        } else {
            if (!count_value(v, obj_vlen(*ref), &card)) {
                kv_reply_error(c, invalid_err);
                return;
            }
            for (int i = 0; i < 8; i++) /* the count is cached in the value, as Redis (and replicated) */
                v[8 + i] = (uint8_t)(card >> (8 * i));
            db_modified(DB(c), argv[1].ptr, argv[1].len);
            c->srv->dirty++;
        }
        resp_add_int(&c->out, (long long)card);
        return;
    }
    /* several keys: the union's count (no cache) */
    uint8_t *raw = xcalloc(HLL_REGISTERS, 1);
    for (int j = 1; j < argc; j++) {
        struct kv_obj **ref;
        if (!lookup_hll(c, &argv[j], 0, &ref)) {
            xfree(raw);
            return;
        }
        if (ref && !merge_into(raw, (const uint8_t *)obj_cval(*ref), obj_vlen(*ref))) {
            xfree(raw);
            kv_reply_error(c, invalid_err);
            return;
        }
    }
    resp_add_int(&c->out, (long long)count_raw(raw));
    xfree(raw);
}

void kv_cmd_PFMERGE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    uint8_t *raw = xcalloc(HLL_REGISTERS, 1);
    bool dense = false;
    for (int j = 1; j < argc; j++) { /* the destination counts as a source too */
        struct kv_obj **ref;
        if (!lookup_hll(c, &argv[j], 0, &ref)) {
            xfree(raw);
            return;
        }
        if (!ref)
            continue;
        const uint8_t *v = (const uint8_t *)obj_cval(*ref);
        dense = dense || v[4] == HLL_ENC_DENSE;
        if (!merge_into(raw, v, obj_vlen(*ref))) {
            xfree(raw);
            kv_reply_error(c, invalid_err);
            return;
        }
    }
    struct kv_obj **ref = kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE);
    struct hll h = {0};
    if (!ref) {
        hll_new(&h);
    } else {
        hll_reserve(&h, obj_vlen(*ref));
        memcpy(h.p, obj_cval(*ref), obj_vlen(*ref));
        h.len = obj_vlen(*ref);
    }
    /* as Redis: dense at once when a source was dense, else register by register */
    bool ok = !dense || to_dense(&h);
    for (long i = 0; ok && i < HLL_REGISTERS; i++) {
        if (raw[i] == 0)
            continue;
        if (h.p[4] == HLL_ENC_DENSE)
            dense_set(h.p + HLL_HDR, i, raw[i]);
        else
            ok = sparse_set(&h, i, raw[i], c->srv->cfg.hll_sparse_max_bytes) >= 0;
    }
    xfree(raw);
    if (!ok) {
        xfree(h.p);
        kv_reply_error(c, invalid_err);
        return;
    }
    invalidate_cache(h.p);
    bool stored = store(c, &argv[1], ref, &h);
    xfree(h.p);
    if (!stored) {
        kv_reply_error(c, "ERR out of memory");
        return;
    }
    modified(c, &argv[1], 1);
    resp_add_ok(&c->out);
}

/* ---- PFDEBUG PFSELFTEST -------------------------------------------------------------- */

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: Redis's debugging view of a
 * value. GETREG and TODENSE turn a sparse value dense (a write, as Redis). */
void kv_cmd_PFDEBUG(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    const struct resp_arg *sub = &argv[1], *k = &argv[2];
    struct kv_obj **ref;
    if (!lookup_hll(c, k, LOOKUP_WRITE, &ref))
        return;
    if (!ref) {
        kv_reply_error(c, "ERR The specified key does not exist");
        return;
    }
    const uint8_t *v = (const uint8_t *)obj_cval(*ref);
    size_t n = obj_vlen(*ref);
    bool sparse = v[4] == HLL_ENC_SPARSE;
    if (kv_arg_is(sub, "getreg") || kv_arg_is(sub, "todense")) {
        bool getreg = kv_arg_is(sub, "getreg");
        if (sparse) {
            struct hll h = {0};
            hll_reserve(&h, n);
            memcpy(h.p, v, n);
            h.len = n;
            if (!to_dense(&h)) {
                xfree(h.p);
                kv_reply_error(c, invalid_err);
                return;
            }
            if (!store(c, k, ref, &h)) {
                xfree(h.p);
                kv_reply_error(c, "ERR out of memory");
                return;
            }
            xfree(h.p);
            db_modified(DB(c), k->ptr, k->len);
            c->srv->dirty++;
            ref = kv_db_lookup_ref(DB(c), k->ptr, k->len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
            v = (const uint8_t *)obj_cval(*ref);
        }
        if (!getreg) {
            resp_add_int(&c->out, sparse ? 1 : 0);
            return;
        }
        resp_add_array(&c->out, HLL_REGISTERS);
        for (long i = 0; i < HLL_REGISTERS; i++)
            resp_add_int(&c->out, dense_get(v + HLL_HDR, i));
    } else if (kv_arg_is(sub, "decode")) {
        if (!sparse) {
            kv_reply_error(c, "ERR HLL encoding is not sparse");
            return;
        }
        struct buf d;
        buf_init(&d);
        const uint8_t *p = v + HLL_HDR, *end = v + n;
        while (p < end) {
            if (op_is_zero(p)) {
                buf_printf(&d, "z:%d ", zero_len(p));
                p++;
            } else if (op_is_xzero(p)) {
                if (p + 1 >= end)
                    break; /* cut inside the opcode: Redis would read past the value */
                buf_printf(&d, "Z:%d ", xzero_len(p));
                p += 2;
            } else {
                buf_printf(&d, "v:%d,%d ", val_value(p), val_len(p));
                p++;
            }
        }
        size_t len = buf_pending(&d);
        while (len && buf_head(&d)[len - 1] == ' ')
            len--;
        resp_add_bulk(&c->out, buf_head(&d), len);
        buf_deinit(&d);
    } else if (kv_arg_is(sub, "encoding")) {
        resp_add_simple(&c->out, sparse ? "sparse" : "dense", sparse ? 6 : 5);
    } else {
        kv_reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}

/*
 * PFSELFTEST: check this file's pieces against each other and against the
 * estimator's error bound: every dense register written and read back at
 * every value; then elements added one by one to a sparse value (kept
 * sparse) and to a dense one, whose registers must agree and whose counts,
 * at 10 to 100,000 elements, must be within 6 standard errors
 * (6 * 1.04 / sqrt(16384), about 4.9%) of the truth.
 */
void kv_cmd_PFSELFTEST(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc, (void)argv;
    uint8_t *regs = xcalloc(HLL_DENSE_BYTES + 1, 1);
    for (int round = 0; round < 4; round++) {
        for (long i = 0; i < HLL_REGISTERS; i++)
            dense_put(regs, i, (int)((i * 7 + round * 13) % (HLL_REGMAX + 1)));
        for (long i = 0; i < HLL_REGISTERS; i++) {
            if (dense_get(regs, i) != (int)((i * 7 + round * 13) % (HLL_REGMAX + 1))) {
                xfree(regs);
                kv_reply_errorf(c, "ERR TESTFAILED Register error at %ld", i);
                return;
            }
        }
    }
    xfree(regs);
    struct hll sp = {0}, dn = {0};
    hll_new(&sp);
    hll_new(&dn);
    to_dense(&dn);
    const double maxerr = 6 * 1.04 / sqrt((double)HLL_REGISTERS);
    const char *fail = NULL;
    long long checkpoint = 10, failed_at = 0;
    for (long long j = 1; j <= 100000 && !fail; j++) {
        char e[32];
        int len = snprintf(e, sizeof e, "selftest:%lld", j);
        long reg;
        int v = element_pattern(e, (size_t)len, &reg);
        bool with_sparse = j <= 10000; /* a sparse update walks the value: kept to the small sizes */
        if (with_sparse) {
            if (sp.p[4] == HLL_ENC_SPARSE ? sparse_set(&sp, reg, v, LLONG_MAX) < 0 : dense_set(sp.p + HLL_HDR, reg, v) < 0)
                fail = "sparse update";
        }
        dense_set(dn.p + HLL_HDR, reg, v);
        if (j == checkpoint) {
            uint64_t a, b;
            if (!count_value(dn.p, dn.len, &b) || (with_sparse && (!count_value(sp.p, sp.len, &a) || a != b))) {
                fail = "sparse and dense counts differ";
            } else {
                double err = fabs((double)b - (double)j) / (double)j;
                if (err > maxerr && fabs((double)b - (double)j) > 1)
                    fail = "estimate outside the error bound";
            }
            failed_at = j;
            checkpoint *= 10;
        }
    }
    xfree(sp.p);
    xfree(dn.p);
    if (fail)
        kv_reply_errorf(c, "ERR TESTFAILED %s at %lld elements", fail, failed_at);
    else
        resp_add_ok(&c->out);
}
