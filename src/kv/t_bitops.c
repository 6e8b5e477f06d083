/*
 * t_bitops.c — bit commands on strings: SETBIT GETBIT BITCOUNT BITPOS BITOP.
 * Replies and error texts are Redis 7.0's (src/bitops.c), including its range
 * rules for BYTE|BIT ranges. Runs with the keyspace lock held.
 *
 * Sizes: SETBIT grows a string to offset/8 + 1 bytes; the offset is bounded
 * by proto-max-bulk-len (and 512 MB), and the growth goes through
 * db_string_try_resize, so a large offset that cannot be allocated fails
 * with an error instead of aborting. BITOP's result is as long as its
 * longest source, itself a stored string.
 */
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "kv/pubsub.h"
#include "kv/server.h"

#define STRING_MAX (512LL * 1024 * 1024)

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

static bool lookup_string(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_obj ***ref)
{
    *ref = db_lookup_ref(DB(c), k->ptr, k->len, flags);
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
        db_add(DB(c), obj_new_string(argv[1].ptr, argv[1].len, NULL, 0, -1));
        ref = db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    }
    struct kv_obj *o = *ref;
    size_t old = obj_vlen(o);
    if (need > old) {
        o = db_string_try_resize(DB(c), ref, need);
        if (!o) {
            if (created) /* the empty key made for this command goes again */
                db_delete_ref(DB(c), ref);
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
        db_set(db, obj_new_string(argv[2].ptr, argv[2].len, (const char *)res, maxlen, -1), false);
        xfree(res);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_STRING, "set", argv[2].ptr, argv[2].len);
    } else {
        xfree(src);
        if (db_delete(db, argv[2].ptr, argv[2].len)) {
            c->srv->dirty++;
            kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[2].ptr, argv[2].len);
        }
    }
    resp_add_int(&c->out, (long long)maxlen);
}
