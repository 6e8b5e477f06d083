/*
 * t_bitops.c — bit commands on strings: SETBIT GETBIT BITCOUNT BITPOS BITOP
 * BITFIELD BITFIELD_RO.
 * Replies and error texts are Redis 7.0's (src/bitops.c), including its range
 * rules for BYTE|BIT ranges. Runs with the keyspace lock held.
 *
 * Sizes: SETBIT grows a string to offset/8 + 1 bytes; the offset is bounded
 * by proto-max-bulk-len (and 512 MB), and the growth goes through
 * kv_db_string_try_resize, so a large offset that cannot be allocated fails
 * with an error instead of aborting. BITOP's result is as long as its
 * longest source, itself a stored string.
 */
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/pubsub.h"
#include "kv/reply.h"

#define STRING_MAX (512LL * 1024 * 1024)

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

static bool lookup_string(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_obj ***ref)
{
    *ref = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    if (*ref && obj_type(**ref) != OBJ_STRING) {
        kv_reply_wrongtype(c);
        return false;
    }
    return true;
}

/* A bit offset argument: 0 <= offset and offset/8 < proto-max-bulk-len. */
static bool bit_offset(struct kv_client *c, const struct resp_arg *a, uint64_t *out)
{
    static const char *err = "ERR bit offset is not an integer or out of range";
    long long off;
    if (!kv_arg_ll_msg(c, a, &off, err))
        return false;
    long long max = (long long)c->srv->cfg.proto_max_bulk_len;
    if (max > STRING_MAX)
        max = STRING_MAX;
    if (off < 0 || (off >> 3) >= max) {
        kv_reply_error(c, err);
        return false;
    }
    *out = (uint64_t)off;
    return true;
}

void kv_cmd_SETBIT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    uint64_t off;
    if (!bit_offset(c, &argv[2], &off))
        return;
    long long on;
    if (!kv_arg_ll_msg(c, &argv[3], &on, "ERR bit is not an integer or out of range"))
        return;
    if (on != 0 && on != 1) {
        kv_reply_error(c, "ERR bit is not an integer or out of range");
        return;
    }
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], LOOKUP_WRITE, &ref))
        return;
    size_t byte = (size_t)(off >> 3), need = byte + 1;
    bool created = false, grown = false;
    if (!ref) {
        created = true;
        kv_db_add(DB(c), kv_obj_new_string(argv[1].ptr, argv[1].len, NULL, 0, -1));
        ref = kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    }
    struct kv_obj *o = *ref;
    size_t old = obj_vlen(o);
    if (need > old) {
        o = kv_db_string_try_resize(DB(c), ref, need);
        if (!o) {
            if (created) /* the empty key made for this command goes again */
                kv_db_delete_ref(DB(c), ref);
            kv_reply_errorf(c, "OOM cannot allocate a string of %zu bytes", need);
            return;
        }
        memset(obj_val(o) + old, 0, need - old);
        grown = true;
    }
    unsigned char *p = (unsigned char *)obj_val(o);
    int bit = 7 - (int)(off & 7);
    int was = (p[byte] >> bit) & 1;
    if (on)
        p[byte] = (unsigned char)(p[byte] | (1u << bit));
    else
        p[byte] = (unsigned char)(p[byte] & ~(1u << bit));
    if (grown || was != on) {
        if (!created)
            db_modified(DB(c), argv[1].ptr, argv[1].len);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_STRING, "setbit", argv[1].ptr, argv[1].len);
    }
    resp_add_int(&c->out, was);
}

void kv_cmd_GETBIT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    uint64_t off;
    if (!bit_offset(c, &argv[2], &off))
        return;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    int bit = 0;
    if (ref && (off >> 3) < obj_vlen(*ref))
        bit = ((unsigned char)obj_cval(*ref)[off >> 3] >> (7 - (off & 7))) & 1;
    resp_add_int(&c->out, bit);
}

static long long popcount(const unsigned char *p, size_t n)
{
    long long count = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        count += __builtin_popcountll(w);
    }
    for (; i < n; i++)
        count += __builtin_popcount(p[i]);
    return count;
}

/* Redis's redisBitpos: the first bit equal to `bit` in p[0..count), -1 when
 * looking for a 1 and none is set, count*8 when looking for a 0 and none is
 * clear (the string counts as zero padded on the right). */
static long long bitpos_bytes(const unsigned char *p, long long count, int bit)
{
    for (long long i = 0; i < count; i++) {
        unsigned b = bit ? p[i] : (unsigned char)~p[i];
        if (b)
            return i * 8 + (__builtin_clz(b) - (int)(sizeof(unsigned) * 8 - 8));
    }
    return bit ? -1 : count * 8;
}

void kv_cmd_BITCOUNT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    if (!ref) {
        resp_add_int(&c->out, 0);
        return;
    }
    const unsigned char *p = (const unsigned char *)obj_cval(*ref);
    long long slen = obj_vlen(*ref), start, end;
    unsigned char first_neg = 0, last_neg = 0;
    if (argc == 4 || argc == 5) {
        long long totlen = slen;
        bool isbit = false;
        if (!kv_arg_ll(c, &argv[2], &start) || !kv_arg_ll(c, &argv[3], &end))
            return;
        if (start < 0 && end < 0 && start > end) {
            resp_add_int(&c->out, 0);
            return;
        }
        if (argc == 5) {
            if (kv_arg_is(&argv[4], "bit")) {
                isbit = true;
            } else if (!kv_arg_is(&argv[4], "byte")) {
                kv_reply_syntax(c);
                return;
            }
        }
        if (isbit)
            totlen <<= 3;
        if (start < 0)
            start = totlen + start;
        if (end < 0)
            end = totlen + end;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= totlen)
            end = totlen - 1;
        if (isbit && start <= end) {
            first_neg = (unsigned char)(~((1u << (8 - (start & 7))) - 1) & 0xFF);
            last_neg = (unsigned char)((1u << (7 - (end & 7))) - 1);
            start >>= 3;
            end >>= 3;
        }
    } else if (argc == 2) {
        start = 0;
        end = slen - 1;
    } else {
        kv_reply_syntax(c);
        return;
    }
    if (start > end) {
        resp_add_int(&c->out, 0);
        return;
    }
    long long count = popcount(p + start, (size_t)(end - start + 1));
    if (first_neg)
        count -= __builtin_popcount(p[start] & first_neg);
    if (last_neg)
        count -= __builtin_popcount(p[end] & last_neg);
    resp_add_int(&c->out, count);
}

void kv_cmd_BITPOS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long bit;
    if (!kv_arg_ll(c, &argv[2], &bit))
        return;
    if (bit != 0 && bit != 1) {
        kv_reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    if (!ref) {
        resp_add_int(&c->out, bit ? -1 : 0);
        return;
    }
    const unsigned char *p = (const unsigned char *)obj_cval(*ref);
    long long slen = obj_vlen(*ref), start, end;
    bool end_given = false;
    unsigned char first_neg = 0, last_neg = 0;
    if (argc >= 4 && argc <= 6) {
        long long totlen = slen;
        bool isbit = false;
        if (!kv_arg_ll(c, &argv[3], &start))
            return;
        if (argc == 6) {
            if (kv_arg_is(&argv[5], "bit")) {
                isbit = true;
            } else if (!kv_arg_is(&argv[5], "byte")) {
                kv_reply_syntax(c);
                return;
            }
        }
        if (argc >= 5) {
            if (!kv_arg_ll(c, &argv[4], &end))
                return;
            end_given = true;
        } else {
            end = isbit ? (totlen << 3) + 7 : totlen - 1;
        }
        if (isbit)
            totlen <<= 3;
        if (start < 0)
            start = totlen + start;
        if (end < 0)
            end = totlen + end;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= totlen)
            end = totlen - 1;
        if (isbit && start <= end) {
            first_neg = (unsigned char)(~((1u << (8 - (start & 7))) - 1) & 0xFF);
            last_neg = (unsigned char)((1u << (7 - (end & 7))) - 1);
            start >>= 3;
            end >>= 3;
        }
    } else if (argc == 3) {
        start = 0;
        end = slen - 1;
    } else {
        kv_reply_syntax(c);
        return;
    }
    if (start > end) {
        resp_add_int(&c->out, -1);
        return;
    }
    /* Redis's walk: a masked first byte, the whole bytes, a masked last byte. */
    long long bytes = end - start + 1, pos;
    unsigned char tmp;
    if (first_neg) {
        tmp = bit ? (unsigned char)(p[start] & ~first_neg) : (unsigned char)(p[start] | first_neg);
        if (last_neg && bytes == 1)
            tmp = bit ? (unsigned char)(tmp & ~last_neg) : (unsigned char)(tmp | last_neg);
        pos = bitpos_bytes(&tmp, 1, (int)bit);
        if (bytes == 1 || (pos != -1 && pos != 8))
            goto result;
        start++;
        bytes--;
    }
    long long cur = bytes - (last_neg ? 1 : 0);
    if (cur > 0) {
        pos = bitpos_bytes(p + start, cur, (int)bit);
        if (bytes == cur || (pos != -1 && pos != cur << 3))
            goto result;
        start += cur;
        bytes -= cur;
    }
    tmp = bit ? (unsigned char)(p[end] & ~last_neg) : (unsigned char)(p[end] | last_neg);
    pos = bitpos_bytes(&tmp, 1, (int)bit);
result:
    if (end_given && bit == 0 && pos == bytes << 3) {
        resp_add_int(&c->out, -1);
        return;
    }
    if (pos != -1)
        pos += start << 3;
    resp_add_int(&c->out, pos);
}

enum { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

void kv_cmd_BITOP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    int op;
    if (kv_arg_is(&argv[1], "and"))
        op = BITOP_AND;
    else if (kv_arg_is(&argv[1], "or"))
        op = BITOP_OR;
    else if (kv_arg_is(&argv[1], "xor"))
        op = BITOP_XOR;
    else if (kv_arg_is(&argv[1], "not"))
        op = BITOP_NOT;
    else {
        kv_reply_syntax(c);
        return;
    }
    if (op == BITOP_NOT && argc != 4) {
        kv_reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    int n = argc - 3;
    const struct kv_obj **src = xmalloc((size_t)n * sizeof *src);
    size_t maxlen = 0;
    /* Objects do not move while no key is added or replaced: the pointers
     * stay valid across the lookups (a lookup only deletes expired keys,
     * which are then reported absent). */
    for (int j = 0; j < n; j++) {
        struct kv_obj **ref;
        if (!lookup_string(c, &argv[3 + j], 0, &ref)) {
            xfree(src);
            return;
        }
        src[j] = ref ? *ref : NULL;
        if (ref && obj_vlen(*ref) > maxlen)
            maxlen = obj_vlen(*ref);
    }
    struct kv_db *db = DB(c);
    if (maxlen) {
        unsigned char *res = xmalloc(maxlen);
        for (size_t i = 0; i < maxlen; i++) {
            unsigned char out = src[0] && i < obj_vlen(src[0]) ? (unsigned char)obj_cval(src[0])[i] : 0;
            if (op == BITOP_NOT)
                out = (unsigned char)~out;
            for (int j = 1; j < n; j++) {
                unsigned char b = src[j] && i < obj_vlen(src[j]) ? (unsigned char)obj_cval(src[j])[i] : 0;
                if (op == BITOP_AND)
                    out &= b;
                else if (op == BITOP_OR)
                    out |= b;
                else
                    out ^= b;
            }
            res[i] = out;
        }
        xfree(src);
        kv_db_set(db, kv_obj_new_string(argv[2].ptr, argv[2].len, (const char *)res, maxlen, -1), false);
        xfree(res);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_STRING, "set", argv[2].ptr, argv[2].len);
    } else {
        xfree(src);
        if (kv_db_delete(db, argv[2].ptr, argv[2].len)) {
            c->srv->dirty++;
            kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[2].ptr, argv[2].len);
        }
    }
    resp_add_int(&c->out, (long long)maxlen);
}

/* ---- BITFIELD BITFIELD_RO ---------------------------------------------------
 *
 * BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset
 * increment] [OVERFLOW WRAP|SAT|FAIL] ...: every operation is parsed first
 * (any error answers alone), then the string is made long enough for the
 * farthest write and the operations run in order. Integers are read and
 * written most significant bit first, as Redis does; types are i1..i64 and
 * u1..u63; "#n" offsets count in units of the type's width. */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

struct bf_op {
    uint64_t offset;
    int64_t value;
    int op, overflow, bits;
    bool sign;
};

static bool bf_type(struct kv_client *c, const struct resp_arg *a, bool *sign, int *bits)
{
    static const char *err =
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    long long n;
    size_t clen = strnlen(a->ptr, a->len); /* Redis reads the argument as a C string */
    if (clen == 0 || (a->ptr[0] != 'i' && a->ptr[0] != 'u')) {
        kv_reply_error(c, err);
        return false;
    }
    *sign = a->ptr[0] == 'i';
    if (!util_str2ll(a->ptr + 1, clen - 1, &n) || n < 1 || n > (*sign ? 64 : 63)) {
        kv_reply_error(c, err);
        return false;
    }
    *bits = (int)n;
    return true;
}

/* Redis's getBitOffsetFromArgument with "#": the multiplication wraps as
 * it does in Redis's build, and the result must land in [0, max bulk). */
static bool bf_offset(struct kv_client *c, const struct resp_arg *a, int bits, uint64_t *out)
{
    static const char *err = "ERR bit offset is not an integer or out of range";
    bool hash = a->len > 0 && a->ptr[0] == '#';
    long long off;
    if (!util_str2ll(a->ptr + hash, a->len - hash, &off)) {
        kv_reply_error(c, err);
        return false;
    }
    if (hash)
        off = (long long)((uint64_t)off * (uint64_t)bits);
    long long max = (long long)c->srv->cfg.proto_max_bulk_len;
    if (off < 0 || (off >> 3) >= max) {
        kv_reply_error(c, err);
        return false;
    }
    *out = (uint64_t)off;
    return true;
}

static uint64_t bf_get_u(const unsigned char *p, uint64_t off, int bits)
{
    uint64_t v = 0;
    for (int j = 0; j < bits; j++, off++)
        v = (v << 1) | ((p[off >> 3] >> (7 - (off & 7))) & 1);
    return v;
}

static int64_t bf_get_s(const unsigned char *p, uint64_t off, int bits)
{
    uint64_t u = bf_get_u(p, off, bits);
    if (bits < 64 && (u & ((uint64_t)1 << (bits - 1))))
        u |= UINT64_MAX << bits;
    int64_t v;
    memcpy(&v, &u, sizeof v); /* two's complement, without UB */
    return v;
}

static void bf_set(unsigned char *p, uint64_t off, int bits, uint64_t v)
{
    for (int j = 0; j < bits; j++, off++) {
        unsigned bit = 7 - (unsigned)(off & 7);
        unsigned b = (unsigned)((v >> (bits - 1 - j)) & 1);
        p[off >> 3] = (unsigned char)((p[off >> 3] & ~(1u << bit)) | (b << bit));
    }
}

/* Redis's checkUnsignedBitfieldOverflow: nonzero on overflow, *limit the
 * wrapped or saturated value (WRAP, SAT). */
static int bf_overflow_u(uint64_t value, int64_t incr, int bits, int ow, uint64_t *limit)
{
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int r = 0;
    if (value > max || (incr > 0 && incr > maxincr)) {
        r = 1;
        if (ow == BF_SAT)
            *limit = max;
    } else if (incr < 0 && incr < minincr) {
        r = -1;
        if (ow == BF_SAT)
            *limit = 0;
    }
    if (r && ow == BF_WRAP)
        *limit = (value + (uint64_t)incr) & ~(UINT64_MAX << bits);
    return r;
}

/* Redis's checkSignedBitfieldOverflow. */
static int bf_overflow_s(int64_t value, int64_t incr, int bits, int ow, int64_t *limit)
{
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int r = 0;
    if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
        r = 1;
        if (ow == BF_SAT)
            *limit = max;
    } else if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) {
        r = -1;
        if (ow == BF_SAT)
            *limit = min;
    }
    if (r && ow == BF_WRAP) {
        uint64_t sum = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t mask = UINT64_MAX << bits;
            sum = (sum & ((uint64_t)1 << (bits - 1))) ? sum | mask : sum & ~mask;
        }
        memcpy(limit, &sum, sizeof sum);
    }
    return r;
}

static void bf_run(struct kv_client *c, struct kv_obj *o, const struct bf_op *op, int *changes)
{
    if (op->op == BF_GET) {
        /* up to 9 bytes copied into a zero-padded buffer: reads past the end see 0 */
        unsigned char buf[9] = {0};
        uint64_t byte = op->offset >> 3;
        size_t len = o ? obj_vlen(o) : 0;
        for (uint64_t i = 0; i < 9 && byte + i < len; i++)
            buf[i] = (unsigned char)obj_cval(o)[byte + i];
        uint64_t rel = op->offset - byte * 8;
        if (op->sign)
            resp_add_int(&c->out, bf_get_s(buf, rel, op->bits));
        else
            resp_add_int(&c->out, (long long)bf_get_u(buf, rel, op->bits));
        return;
    }
    unsigned char *p = (unsigned char *)obj_val(o);
    bool incr = op->op == BF_INCRBY;
    (*changes)++; /* counted even when FAIL refuses the write, as Redis */
    if (op->sign) {
        int64_t old = bf_get_s(p, op->offset, op->bits), wrapped = 0, nv;
        int of = incr ? bf_overflow_s(old, op->value, op->bits, op->overflow, &wrapped)
                      : bf_overflow_s(op->value, 0, op->bits, op->overflow, &wrapped);
        nv = of ? wrapped : incr ? (int64_t)((uint64_t)old + (uint64_t)op->value) : op->value;
        if (of && op->overflow == BF_FAIL) {
            resp_add_null(&c->out, c->proto);
            return;
        }
        resp_add_int(&c->out, incr ? nv : old);
        bf_set(p, op->offset, op->bits, (uint64_t)nv);
    } else {
        uint64_t old = bf_get_u(p, op->offset, op->bits), wrapped = 0, nv;
        int of = incr ? bf_overflow_u(old, op->value, op->bits, op->overflow, &wrapped)
                      : bf_overflow_u((uint64_t)op->value, 0, op->bits, op->overflow, &wrapped);
        nv = of ? wrapped : incr ? old + (uint64_t)op->value : (uint64_t)op->value;
        if (of && op->overflow == BF_FAIL) {
            resp_add_null(&c->out, c->proto);
            return;
        }
        resp_add_int(&c->out, (long long)(incr ? nv : old));
        bf_set(p, op->offset, op->bits, nv);
    }
}

static void bitfield_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool ro)
{
    struct bf_op *ops = xmalloc(sizeof *ops * (size_t)(argc / 3 + 1));
    int nops = 0, overflow = BF_WRAP;
    bool readonly = true;
    uint64_t highest = 0;
    for (int j = 2; j < argc; j++) {
        int left = argc - j - 1;
        int op;
        if (kv_arg_is(&argv[j], "get") && left >= 2) {
            op = BF_GET;
        } else if (kv_arg_is(&argv[j], "set") && left >= 3) {
            op = BF_SET;
        } else if (kv_arg_is(&argv[j], "incrby") && left >= 3) {
            op = BF_INCRBY;
        } else if (kv_arg_is(&argv[j], "overflow") && left >= 1) {
            const struct resp_arg *t = &argv[++j];
            if (kv_arg_is(t, "wrap")) {
                overflow = BF_WRAP;
            } else if (kv_arg_is(t, "sat")) {
                overflow = BF_SAT;
            } else if (kv_arg_is(t, "fail")) {
                overflow = BF_FAIL;
            } else {
                kv_reply_error(c, "ERR Invalid OVERFLOW type specified");
                goto out;
            }
            continue;
        } else {
            kv_reply_syntax(c);
            goto out;
        }
        struct bf_op *o = &ops[nops];
        o->op = op;
        o->overflow = overflow;
        o->value = 0;
        if (!bf_type(c, &argv[j + 1], &o->sign, &o->bits) || !bf_offset(c, &argv[j + 2], o->bits, &o->offset))
            goto out;
        if (op != BF_GET) {
            readonly = false;
            if (highest < o->offset + (uint64_t)o->bits - 1)
                highest = o->offset + (uint64_t)o->bits - 1;
            long long v;
            if (!kv_arg_ll(c, &argv[j + 3], &v))
                goto out;
            o->value = v;
        }
        nops++;
        j += op == BF_GET ? 2 : 3;
    }
    struct kv_obj **ref;
    struct kv_obj *o = NULL;
    if (readonly) {
        if (!lookup_string(c, &argv[1], 0, &ref))
            goto out;
        o = ref ? *ref : NULL;
    } else {
        if (ro) {
            kv_reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
            goto out;
        }
        if (!lookup_string(c, &argv[1], LOOKUP_WRITE, &ref))
            goto out;
        /* room up to the farthest bit written, zero-filled */
        size_t need = (size_t)(highest >> 3) + 1;
        bool created = !ref;
        if (created) {
            kv_db_add(DB(c), kv_obj_new_string(argv[1].ptr, argv[1].len, NULL, 0, -1));
            ref = kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
        }
        o = *ref;
        size_t old = obj_vlen(o);
        if (need > old) {
            o = kv_db_string_try_resize(DB(c), ref, need);
            if (!o) {
                if (created)
                    kv_db_delete_ref(DB(c), ref);
                kv_reply_errorf(c, "OOM cannot allocate a string of %zu bytes", need);
                goto out;
            }
            memset(obj_val(o) + old, 0, need - old);
        }
    }
    resp_add_array(&c->out, nops);
    int changes = 0;
    for (int i = 0; i < nops; i++)
        bf_run(c, o, &ops[i], &changes);
    if (changes) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        c->srv->dirty += (uint64_t)changes;
    }
out:
    xfree(ops);
}

void kv_cmd_BITFIELD(struct kv_client *c, int argc, struct resp_arg *argv) { bitfield_generic(c, argc, argv, false); }
void kv_cmd_BITFIELD_RO(struct kv_client *c, int argc, struct resp_arg *argv) { bitfield_generic(c, argc, argv, true); }
