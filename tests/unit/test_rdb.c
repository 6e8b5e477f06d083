/*
 * test_rdb.c — unit tests of the RDB format: core/crc64 (Redis's check value),
 * core/lzf (round trips of random and repetitive data, malformed input
 * refused), proto/rdb (length and string encodings, listpack and intset
 * builders read back by the blob iterators, a hand-made ziplist, DUMP footer
 * checks) and kv/rdb (every type through DUMP/RESTORE and through a whole
 * file; corrupt images refused with an offset).
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/crc64.h"
#include "core/lzf.h"
#include "core/rand.h"
#include "kv/db.h"
#include "kv/hashobj.h"
#include "kv/listobj.h"
#include "kv/rdb.h"
#include "kv/setobj.h"
#include "kv/streamobj.h"
#include "kv/zsetobj.h"
#include "proto/rdb.h"

Test(crc64, redis_check_value)
{
    cr_assert_eq(crc64_update(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    /* incremental = whole */
    uint64_t c = crc64_update(0, "1234", 4);
    cr_assert_eq(crc64_update(c, "56789", 5), 0xe9c6d914c4b8d9caULL);
    cr_assert_eq(crc64_update(0, "", 0), 0);
}

static void lzf_roundtrip(const char *in, size_t n, bool expect_smaller)
{
    char *out = malloc(n + 64), *back = malloc(n + 1);
    size_t k = lzf_compress(in, n, out, n + 64);
    if (expect_smaller)
        cr_assert(k > 0 && k < n, "compressed %zu -> %zu", n, k);
    if (k == 0) {
        free(out);
        free(back);
        return;
    }
    cr_assert_eq(lzf_decompress(out, k, back, n), n);
    cr_assert(memcmp(in, back, n) == 0);
    /* one byte short of the output is refused */
    if (n > 1)
        cr_assert_eq(lzf_decompress(out, k, back, n - 1), 0);
    free(out);
    free(back);
}

Test(lzf, roundtrips)
{
    char buf[70000];
    memset(buf, 'a', sizeof buf);
    lzf_roundtrip(buf, sizeof buf, true);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = "abcdefgh"[i % 7] ^ (char)(i / 1000);
    lzf_roundtrip(buf, sizeof buf, true);
    for (int t = 0; t < 200; t++) {
        size_t n = 1 + rand64() % 5000;
        for (size_t i = 0; i < n; i++)
            buf[i] = t % 3 == 0 ? (char)rand64() : "xyz "[rand64() % 4];
        lzf_roundtrip(buf, n, t % 3 != 0 && n > 100);
    }
}

Test(lzf, no_room_and_malformed)
{
    char in[100], out[200];
    for (int i = 0; i < 100; i++)
        in[i] = (char)(i * 37 + 11);
    cr_assert_eq(lzf_compress(in, 100, out, 50), 0); /* random data does not fit */
    /* a back reference before the start */
    const unsigned char bad1[] = {0x00, 'a', 0x20, 0x05};
    cr_assert_eq(lzf_decompress(bad1, sizeof bad1, out, 4), 0);
    /* a literal run past the input */
    const unsigned char bad2[] = {0x05, 'a', 'b'};
    cr_assert_eq(lzf_decompress(bad2, sizeof bad2, out, 6), 0);
    /* overlapping reference: "ab" then copy 6 from 2 back = "abababab" */
    const unsigned char ok[] = {0x01, 'a', 'b', (4 << 5) | 0, 0x01};
    cr_assert_eq(lzf_decompress(ok, sizeof ok, out, 8), 8);
    cr_assert(memcmp(out, "abababab", 8) == 0);
}

Test(rdb, lengths_and_strings)
{
    struct rdb_writer w;
    rdb_writer_init(&w, -1, true);
    uint64_t lens[] = {0, 63, 64, 16383, 16384, 4294967295ULL, 4294967296ULL};
    for (size_t i = 0; i < 7; i++)
        rdb_put_len(&w, lens[i]);
    const char *strs[] = {"12", "-128", "32767", "-2147483648", "2147483648", "012", "-0", "hello", ""};
    for (size_t i = 0; i < 9; i++)
        rdb_put_string(&w, strs[i], strlen(strs[i]));
    char big[1000];
    memset(big, 'z', sizeof big);
    rdb_put_string(&w, big, sizeof big);
    struct rdb_reader r;
    rdb_reader_init(&r, buf_head(&w.b), buf_pending(&w.b));
    for (size_t i = 0; i < 7; i++) {
        uint64_t v;
        cr_assert(rdb_get_len(&r, &v, NULL));
        cr_assert_eq(v, lens[i]);
    }
    for (size_t i = 0; i < 9; i++) {
        char *s;
        size_t n;
        cr_assert(rdb_get_string(&r, &s, &n));
        cr_assert_eq(n, strlen(strs[i]));
        cr_assert(memcmp(s, strs[i], n) == 0);
        xfree(s);
    }
    char *s;
    size_t n;
    size_t before = r.off;
    cr_assert(rdb_get_string(&r, &s, &n));
    cr_assert_eq(n, sizeof big);
    cr_assert(memcmp(s, big, n) == 0);
    cr_assert_lt(r.off - before, 100, "1000 equal bytes compress");
    xfree(s);
    cr_assert_eq(r.off, r.len);
    cr_assert(!rdb_get_len(&r, &lens[0], NULL));
    cr_assert(r.failed);
    cr_assert_eq(r.err_off, r.len);
    rdb_writer_deinit(&w);
}

Test(rdb, int_encoding_bytes)
{
    /* "12" is C0 0C; "1000" is C1 E8 03; "100000" is C2 A0 86 01 00 */
    struct rdb_writer w;
    rdb_writer_init(&w, -1, false);
    rdb_put_string(&w, "12", 2);
    rdb_put_string(&w, "1000", 4);
    rdb_put_string(&w, "100000", 6);
    const unsigned char want[] = {0xC0, 12, 0xC1, 0xE8, 0x03, 0xC2, 0xA0, 0x86, 0x01, 0x00};
    cr_assert_eq(buf_pending(&w.b), sizeof want);
    cr_assert(memcmp(buf_head(&w.b), want, sizeof want) == 0);
    rdb_writer_deinit(&w);
}

Test(rdb, listpack_roundtrip)
{
    struct rdb_lp lp;
    rdb_lp_init(&lp);
    const char *vals[] = {"0", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32768", "8388607", "-8388609",
                          "2147483648", "-9223372036854775808", "9223372036854775807", "abc", "", "007", "-0"};
    size_t nv = sizeof vals / sizeof *vals;
    for (size_t i = 0; i < nv; i++)
        rdb_lp_append(&lp, vals[i], strlen(vals[i]));
    char s64[64], s5000[5000];
    memset(s64, 'q', sizeof s64);
    memset(s5000, 'r', sizeof s5000);
    rdb_lp_append(&lp, s64, sizeof s64);
    rdb_lp_append(&lp, s5000, sizeof s5000);
    rdb_lp_finish(&lp);
    struct rdb_reader r;
    struct rdb_blob_iter it;
    rdb_reader_init(&r, "", 0);
    cr_assert(rdb_blob_begin(&it, RDB_BLOB_LISTPACK, buf_head(&lp.b), buf_pending(&lp.b), &r));
    cr_assert_eq(it.count, nv + 2);
    const char *s;
    size_t n;
    for (size_t i = 0; i < nv; i++) {
        cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
        cr_assert(n == strlen(vals[i]) && memcmp(s, vals[i], n) == 0, "entry %zu: %.*s", i, (int)n, s);
    }
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
    cr_assert_eq(n, 64);
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
    cr_assert_eq(n, 5000);
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 0);
    /* corrupt a back length: refused */
    ((char *)buf_head(&lp.b))[7] ^= 0x40;
    rdb_reader_init(&r, "", 0);
    cr_assert(rdb_blob_begin(&it, RDB_BLOB_LISTPACK, buf_head(&lp.b), buf_pending(&lp.b), &r));
    int k;
    while ((k = rdb_blob_next(&it, &s, &n, &r)) == 1)
        ;
    cr_assert_eq(k, -1);
    cr_assert(strstr(r.err, "listpack") != NULL);
    rdb_lp_deinit(&lp);
}

Test(rdb, intset_and_ziplist)
{
    int64_t v[] = {-70000, -5, 0, 3, 40000};
    struct buf b;
    buf_init(&b);
    rdb_intset_build(&b, v, 5);
    cr_assert_eq(buf_pending(&b), 8 + 4 * 5); /* 32-bit wide */
    struct rdb_reader r;
    struct rdb_blob_iter it;
    rdb_reader_init(&r, "", 0);
    cr_assert(rdb_blob_begin(&it, RDB_BLOB_INTSET, buf_head(&b), buf_pending(&b), &r));
    const char *s;
    size_t n;
    char want[5][16] = {"-70000", "-5", "0", "3", "40000"};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
        cr_assert(n == strlen(want[i]) && memcmp(s, want[i], n) == 0);
    }
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 0);
    buf_deinit(&b);
    /* ziplist ["ab", 5, -300]: zlbytes zltail zllen | 00 02 'a' 'b' | 04 F6 | 03 C0 D4 FE | FF */
    const unsigned char zl[] = {20, 0, 0, 0, 15, 0, 0, 0, 3, 0, 0x00, 0x02, 'a', 'b', 0x04, 0xF6, 0x02, 0xC0, 0xD4, 0xFE, 0xFF};
    unsigned char z2[sizeof zl];
    memcpy(z2, zl, sizeof zl);
    z2[0] = sizeof zl;
    rdb_reader_init(&r, "", 0);
    cr_assert(rdb_blob_begin(&it, RDB_BLOB_ZIPLIST, z2, sizeof z2, &r));
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
    cr_assert(n == 2 && memcmp(s, "ab", 2) == 0);
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
    cr_assert(n == 1 && s[0] == '5');
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 1);
    cr_assert(n == 4 && memcmp(s, "-300", 4) == 0);
    cr_assert_eq(rdb_blob_next(&it, &s, &n, &r), 0);
}

/* ---- kv objects ---------------------------------------------------------- */

static struct kv_obj *roundtrip(struct kv_obj *o)
{
    struct buf b;
    size_t body;
    buf_init(&b);
    kv_rdb_dump(o, &b, rand64() % 2 == 0);
    cr_assert(rdb_dump_verify(buf_head(&b), buf_pending(&b), &body));
    /* one flipped bit anywhere fails the checksum */
    size_t at = rand64() % buf_pending(&b);
    buf_head(&b)[at] ^= 1;
    cr_assert(!rdb_dump_verify(buf_head(&b), buf_pending(&b), &body));
    buf_head(&b)[at] ^= 1;
    cr_assert(rdb_dump_verify(buf_head(&b), buf_pending(&b), &body));
    struct kv_obj *back = kv_rdb_restore(buf_head(&b), body, obj_key(o), obj_klen(o), -1);
    cr_assert_not_null(back);
    cr_assert_eq(obj_type(back), obj_type(o));
    buf_deinit(&b);
    return back;
}

Test(kv_rdb, every_type_dump_restore)
{
    struct kv_obj *o = kv_obj_new_string("k", 1, "hello world hello world hello world", 35, -1), *b = roundtrip(o);
    cr_assert(obj_vlen(b) == 35 && memcmp(obj_cval(b), "hello world hello world hello world", 35) == 0);
    kv_obj_free(o), kv_obj_free(b);

    for (int big = 0; big < 2; big++) {
        struct kv_list *l = kv_list_new();
        int n = big ? 5000 : 5;
        char tmp[32];
        for (int i = 0; i < n; i++)
            kv_list_push(l, LIST_TAIL, tmp, (size_t)snprintf(tmp, sizeof tmp, i % 2 ? "%d" : "e%d", i));
        o = kv_obj_new_ptr("l", 1, OBJ_LIST, l, -1);
        b = roundtrip(o);
        struct kv_list *l2 = obj_ptr(b);
        cr_assert_eq(kv_list_len(l2), (uint64_t)n);
        const char *v;
        size_t vn;
        cr_assert(kv_list_index(l2, n - 1, &v, &vn));
        snprintf(tmp, sizeof tmp, (n - 1) % 2 ? "%d" : "e%d", n - 1);
        cr_assert(vn == strlen(tmp) && memcmp(v, tmp, vn) == 0);
        kv_obj_free(o), kv_obj_free(b);

        struct kv_set *s = kv_set_new();
        for (int i = 0; i < n; i++)
            kv_set_add(&s, tmp, (size_t)snprintf(tmp, sizeof tmp, "%d", i * 7 - 100));
        if (big)
            kv_set_add(&s, "x", 1);
        o = kv_obj_new_ptr("s", 1, OBJ_SET, s, -1);
        b = roundtrip(o);
        cr_assert_eq(kv_set_len(obj_ptr(b)), kv_set_len(s));
        cr_assert(kv_set_has(obj_ptr(b), "-100", 4));
        cr_assert_eq(kv_set_is_intset(obj_ptr(b)), kv_set_is_intset(s));
        kv_obj_free(o), kv_obj_free(b);

        struct kv_hash *h = kv_hash_new();
        for (int i = 0; i < n; i++) {
            char f[32];
            kv_hash_set(h, f, (size_t)snprintf(f, sizeof f, "f%d", i), tmp, (size_t)snprintf(tmp, sizeof tmp, "%d", i));
        }
        o = kv_obj_new_hash("h", 1, h, -1);
        b = roundtrip(o);
        cr_assert_eq(kv_hash_len(obj_hash(b)), (size_t)n);
        const char *hv;
        size_t hn;
        cr_assert(kv_hash_get(obj_hash(b), "f3", 2, &hv, &hn) && hn == 1 && hv[0] == '3');
        kv_obj_free(o), kv_obj_free(b);

        struct kv_zset *z = kv_zset_new();
        int out;
        for (int i = 0; i < n; i++)
            kv_zset_add(&z, i == 0 ? -INFINITY : i / 3.0, tmp, (size_t)snprintf(tmp, sizeof tmp, "m%d", i), 0, &out, NULL);
        o = kv_obj_new_zset("z", 1, z, -1);
        b = roundtrip(o);
        cr_assert_eq(kv_zset_len(obj_zset(b)), (size_t)n);
        double sc;
        cr_assert(kv_zset_score(obj_zset(b), "m4", 2, &sc) && sc == 4 / 3.0);
        cr_assert(kv_zset_score(obj_zset(b), "m0", 2, &sc) && isinf(sc) && sc < 0);
        cr_assert_eq(kv_zset_is_packed(obj_zset(b)), kv_zset_is_packed(z));
        kv_obj_free(o), kv_obj_free(b);
    }
}

static struct kv_stream *make_stream(void)
{
    struct kv_stream *s = kv_stream_new();
    char v[32];
    for (int i = 0; i < 250; i++) {
        struct stream_id id = {1000 + (uint64_t)i / 3, (uint64_t)i % 3};
        struct stream_str kv[4] = {{"job", 3}, {v, (size_t)snprintf(v, sizeof v, "%d", i * 7)},
                                   {i % 5 ? "n" : "other", i % 5 ? 1 : 5}, {"x", 1}};
        kv_stream_append(s, &id, kv, 2);
    }
    struct stream_id d = {1010, 1};
    cr_assert(kv_stream_delete(s, &d));
    kv_stream_trim(s, STREAM_TRIM_MAXLEN, 200, NULL, false, 0);
    struct stream_id g0 = {1020, 0};
    struct stream_cg *g = kv_stream_cg_create(s, "grp", 3, &g0, 5);
    struct stream_consumer *c = kv_stream_consumer_create(g, "c1", 2, 1234);
    kv_stream_consumer_create(g, "idle", 4, 99);
    for (uint64_t ms = 1060; ms < 1070; ms++) {
        struct stream_id id = {ms, 1};
        kv_stream_pel_add(g, &id, c, 5000 + (long long)ms)->delivery_count = ms % 4 + 1;
    }
    return s;
}

static void dump_of(const struct kv_obj *o, struct buf *b)
{
    buf_init(b);
    kv_rdb_dump(o, b, false);
}

Test(kv_rdb, stream_roundtrip_same_bytes_and_truncations_refused)
{
    struct kv_obj *o = kv_obj_new_ptr("s", 1, OBJ_STREAM, make_stream(), -1);
    struct buf a, b;
    size_t body;
    dump_of(o, &a);
    cr_assert(rdb_dump_verify(buf_head(&a), buf_pending(&a), &body));
    cr_assert_eq((uint8_t)buf_head(&a)[0], RDB_TYPE_STREAM_LISTPACKS_2);
    struct kv_obj *back = kv_rdb_restore(buf_head(&a), body, "s", 1, -1);
    cr_assert_not_null(back);
    const struct kv_stream *s1 = obj_ptr(o), *s2 = obj_ptr(back);
    cr_assert_eq(s2->length, s1->length);
    cr_assert_eq(s2->entries_added, 250);
    cr_assert_eq(kv_stream_nodes(s2), kv_stream_nodes(s1));
    cr_assert_eq(s2->groups[0]->npel, 10);
    cr_assert_eq(s2->groups[0]->consumers[0]->npel, 10);
    dump_of(back, &b);
    cr_assert_eq(buf_pending(&a), buf_pending(&b));
    cr_assert(memcmp(buf_head(&a), buf_head(&b), buf_pending(&a)) == 0);
    /* every truncation and every single-byte change: refused or loaded, never a crash */
    for (size_t n = 0; n < body; n++)
        cr_assert_null(kv_rdb_restore(buf_head(&a), n, "s", 1, -1));
    for (size_t i = 0; i < body; i += 3) {
        char save = buf_head(&a)[i];
        buf_head(&a)[i] = (char)(save ^ 0x5a);
        struct kv_obj *x = kv_rdb_restore(buf_head(&a), body, "s", 1, -1);
        if (x)
            kv_obj_free(x);
        buf_head(&a)[i] = save;
    }
    buf_deinit(&a), buf_deinit(&b);
    kv_obj_free(o), kv_obj_free(back);
}

/* Copy a length / string from r to w. */
static void cp_len(struct rdb_reader *r, struct rdb_writer *w)
{
    uint64_t v;
    cr_assert(rdb_get_len(r, &v, NULL));
    rdb_put_len(w, v);
}

static void cp_str(struct rdb_reader *r, struct rdb_writer *w)
{
    char *p;
    size_t n;
    cr_assert(rdb_get_string(r, &p, &n));
    rdb_put_string(w, p, n);
    xfree(p);
}

static void cp_raw(struct rdb_reader *r, struct rdb_writer *w, size_t n)
{
    uint8_t b[16];
    cr_assert(n <= sizeof b && rdb_get_raw(r, b, n));
    rdb_put_raw(w, b, n);
}

/* Redis 5/6's STREAM_LISTPACKS (15): our type-19 payload without first id,
 * max deleted id, entries added and the groups' entries-read. */
Test(kv_rdb, stream_type_15_loads)
{
    struct kv_obj *o = kv_obj_new_ptr("s", 1, OBJ_STREAM, make_stream(), -1);
    struct buf a;
    size_t body;
    uint64_t n, skip;
    dump_of(o, &a);
    cr_assert(rdb_dump_verify(buf_head(&a), buf_pending(&a), &body));
    struct rdb_reader r;
    struct rdb_writer w;
    uint8_t type;
    rdb_reader_init(&r, buf_head(&a), body);
    rdb_writer_init(&w, -1, false);
    cr_assert(rdb_get_byte(&r, &type) && type == RDB_TYPE_STREAM_LISTPACKS_2);
    rdb_put_byte(&w, RDB_TYPE_STREAM_LISTPACKS);
    cr_assert(rdb_get_len(&r, &n, NULL));
    rdb_put_len(&w, n);
    for (uint64_t i = 0; i < n; i++)
        cp_str(&r, &w), cp_str(&r, &w);
    cp_len(&r, &w), cp_len(&r, &w), cp_len(&r, &w); /* length, last id */
    for (int i = 0; i < 5; i++)
        cr_assert(rdb_get_len(&r, &skip, NULL));     /* first id, max deleted id, entries added */
    uint64_t ng, np, nc;
    cr_assert(rdb_get_len(&r, &ng, NULL));
    rdb_put_len(&w, ng);
    for (uint64_t g = 0; g < ng; g++) {
        cp_str(&r, &w), cp_len(&r, &w), cp_len(&r, &w);
        cr_assert(rdb_get_len(&r, &skip, NULL));     /* entries read */
        cr_assert(rdb_get_len(&r, &np, NULL));
        rdb_put_len(&w, np);
        for (uint64_t i = 0; i < np; i++)
            cp_raw(&r, &w, 16), cp_raw(&r, &w, 8), cp_len(&r, &w);
        cr_assert(rdb_get_len(&r, &nc, NULL));
        rdb_put_len(&w, nc);
        for (uint64_t c = 0; c < nc; c++) {
            cp_str(&r, &w), cp_raw(&r, &w, 8);
            cr_assert(rdb_get_len(&r, &np, NULL));
            rdb_put_len(&w, np);
            for (uint64_t i = 0; i < np; i++)
                cp_raw(&r, &w, 16);
        }
    }
    cr_assert_eq(r.off, body);
    struct kv_obj *back = kv_rdb_restore(buf_head(&w.b), buf_pending(&w.b), "s", 1, -1);
    cr_assert_not_null(back);
    const struct kv_stream *s1 = obj_ptr(o), *s2 = obj_ptr(back);
    cr_assert_eq(s2->length, s1->length);
    cr_assert_eq(s2->entries_added, s1->length);       /* unknown before 7.0: the length */
    cr_assert(stream_id_is_zero(&s2->max_deleted_id));
    cr_assert_eq(s2->groups[0]->npel, 10);
    cr_assert_eq(s2->groups[0]->consumers[0]->npel, 10);
    cr_assert_eq(s2->groups[0]->nconsumers, 2);
    rdb_writer_deinit(&w);
    buf_deinit(&a);
    kv_obj_free(o), kv_obj_free(back);
}

Test(kv_rdb, restore_rejects_garbage)
{
    cr_assert_null(kv_rdb_restore("\x00\x05hel", 5, "k", 1, -1));       /* truncated */
    cr_assert_null(kv_rdb_restore("\x00\x01hx", 4, "k", 1, -1));         /* trailing byte */
    cr_assert_null(kv_rdb_restore("\x0f\x00", 2, "k", 1, -1));           /* stream: truncated */
    cr_assert_null(kv_rdb_restore("\x02\x00", 2, "k", 1, -1));           /* empty set */
    cr_assert_null(kv_rdb_restore("\x02\x02\x01x\x01x", 6, "k", 1, -1)); /* duplicate member */
    size_t body;
    cr_assert(!rdb_dump_verify("\x00\x01x\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00", 13, &body)); /* version 11 */
}

Test(kv_rdb, file_roundtrip_and_corruption)
{
    struct kv_db db, db2;
    kv_db_init(&db);
    kv_db_init(&db2);
    char k[32], v[64];
    for (int i = 0; i < 300; i++) {
        size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
        size_t vl = (size_t)snprintf(v, sizeof v, "value-%d-value-%d-value", i, i);
        kv_db_add(&db, kv_obj_new_string(k, kl, v, vl, i % 3 == 0 ? 4000000000000LL + i : -1));
    }
    kv_db_add(&db, kv_obj_new_string("old", 3, "x", 1, 1000)); /* expired at load time */
    char path[] = "/tmp/test_rdb_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    struct kv_rdb_save_opts o = {.compress = true, .checksum = true, .now_ms = 1700000000000LL, .used_mem = 12345};
    struct kv_db *dbs[1] = {&db}, *dbs2[1] = {&db2};
    cr_assert_eq(kv_rdb_save_fd(fd, dbs, 1, &o), 0);
    close(fd);
    struct kv_rdb_load_stats st;
    char err[400];
    cr_assert_eq(kv_rdb_load_file(path, dbs2, 1, 2000000000000LL, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(st.keys, 300);
    cr_assert_eq(st.expired, 1);
    cr_assert_eq(st.ctime, 1700000000);
    struct kv_obj *x = db_lookup(&db2, "key:3", 5, LOOKUP_NOTOUCH);
    cr_assert_not_null(x);
    cr_assert_eq(obj_expire(x), 4000000000003LL);
    /* read the image and corrupt it in several ways */
    FILE *f = fopen(path, "rb");
    static char img[1 << 20];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    unlink(path);
    for (int t = 0; t < 300; t++) {
        static char bad[1 << 20];
        memcpy(bad, img, n);
        size_t len = n;
        if (t % 3 == 0)
            len = rand64() % n;                           /* truncation */
        else
            bad[9 + rand64() % (n - 9)] ^= (char)(1 << (rand64() % 8)); /* bit flip after the magic */
        struct kv_db d3;
        kv_db_init(&d3);
        struct kv_db *dbs3[1] = {&d3};
        int rc = kv_rdb_load_mem(bad, len, dbs3, 1, 0, &st, err, sizeof err);
        cr_assert_eq(rc, -1, "corruption %d not detected", t);
        cr_assert(strncmp(err, "offset ", 7) == 0, "%s", err);
        kv_db_deinit(&d3);
    }
    memcpy(img + 5, "0011", 4);
    cr_assert_eq(kv_rdb_load_mem(img, n, dbs2, 1, 0, &st, err, sizeof err), -1);
    cr_assert(strstr(err, "version") != NULL, "%s", err);
    kv_db_deinit(&db);
    kv_db_deinit(&db2);
}

/* The repl-* aux fields (full sync) are written and read back; a FUNCTION2
 * library is skipped without a server to load it into (counted), and the
 * pre-GA FUNCTION opcode is refused with its offset. */
Test(kv_rdb, repl_aux_and_function_opcode)
{
    struct kv_db db, db2;
    kv_db_init(&db);
    kv_db_init(&db2);
    kv_db_add(&db, kv_obj_new_string("k", 1, "v", 1, -1));
    char path[] = "/tmp/test_rdb_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    struct kv_db *dbs[4] = {&db, &db, &db, &db}, *dbs2[4] = {&db2, &db2, &db2, &db2};
    struct kv_rdb_save_opts o = {.checksum = true,
                                 .repl_info = true,
                                 .repl_stream_db = 3,
                                 .repl_id = "0123456789abcdef0123456789abcdef01234567",
                                 .repl_offset = 4242};
    cr_assert_eq(kv_rdb_save_fd(fd, dbs, 1, &o), 0);
    close(fd);
    FILE *f = fopen(path, "rb");
    static char img[1 << 16];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    unlink(path);
    struct kv_rdb_load_stats st;
    char err[400];
    cr_assert_eq(kv_rdb_load_mem(img, n, dbs2, 4, 0, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(st.repl_stream_db, 3);
    cr_assert_eq(st.repl_offset, 4242);
    cr_assert_str_eq(st.repl_id, "0123456789abcdef0123456789abcdef01234567");
    /* a library before the EOF opcode (checksum 0: not verified) */
    static const char lib[] = "#!lua name=x\nredis.register_function('f', function() return 1 end)";
    static char img2[1 << 16];
    size_t eof = n - 9; /* EOF opcode + 8-byte checksum */
    memcpy(img2, img, eof);
    size_t m = eof;
    img2[m++] = (char)RDB_OPCODE_FUNCTION2;
    img2[m++] = (char)(0x40 | ((sizeof lib - 1) >> 8));
    img2[m++] = (char)((sizeof lib - 1) & 0xff);
    memcpy(img2 + m, lib, sizeof lib - 1);
    m += sizeof lib - 1;
    img2[m++] = (char)RDB_OPCODE_EOF;
    memset(img2 + m, 0, 8);
    m += 8;
    kv_db_flush(&db2);
    cr_assert_eq(kv_rdb_load_mem(img2, m, dbs2, 4, 0, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(st.functions, 1);
    cr_assert_eq(st.keys, 1);
    img2[eof] = (char)RDB_OPCODE_FUNCTION;
    kv_db_flush(&db2);
    cr_assert_eq(kv_rdb_load_mem(img2, m, dbs2, 4, 0, &st, err, sizeof err), -1);
    cr_assert(strstr(err, "pre-GA") != NULL, "%s", err);
    char want[32];
    snprintf(want, sizeof want, "offset %zu:", eof);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    kv_db_deinit(&db);
    kv_db_deinit(&db2);
}

/* A streaming reader over an image in memory, chunk bytes at a time, that
 * drops what the loader parsed: what kv_rdb_load_reader gets from a socket. */
struct stream_src {
    const char *img;
    size_t n, pos, chunk;
    struct buf win;
    size_t max_win;
};

static void src_sync(struct rdb_reader *r)
{
    struct stream_src *s = r->fill_arg;
    r->p = (const uint8_t *)buf_head(&s->win);
    r->len = buf_pending(&s->win);
    if (r->len > s->max_win)
        s->max_win = r->len;
}

static bool src_fill(struct rdb_reader *r, size_t n)
{
    struct stream_src *s = r->fill_arg;
    while (r->len - r->off < n) {
        if (s->pos == s->n)
            return false;
        size_t k = s->n - s->pos < s->chunk ? s->n - s->pos : s->chunk;
        buf_append(&s->win, s->img + s->pos, k);
        s->pos += k;
        src_sync(r);
    }
    return true;
}

static void src_drop(struct rdb_reader *r)
{
    struct stream_src *s = r->fill_arg;
    buf_consume(&s->win, r->off);
    r->base += r->off;
    r->off = 0;
    src_sync(r);
}

static int load_streaming(const char *img, size_t n, size_t chunk, struct kv_db *db, struct kv_rdb_load_stats *st,
                          char *err, size_t errlen, size_t *max_win)
{
    struct stream_src s = {.img = img, .n = n, .chunk = chunk};
    buf_init(&s.win);
    struct rdb_reader r;
    rdb_reader_init(&r, NULL, 0);
    r.fill = src_fill;
    r.drop = src_drop;
    r.fill_arg = &s;
    src_sync(&r);
    struct kv_db *dbs[1] = {db};
    int rc = kv_rdb_load_reader(&r, dbs, 1, 0, NULL, st, err, errlen);
    buf_deinit(&s.win);
    if (max_win)
        *max_win = s.max_win;
    return rc;
}

/* The streaming loader (a full sync's async load) reads what the memory
 * loader reads, in any chunking, holding about one value beyond what it
 * dropped; a corrupt image fails with the same error and offset. */
Test(kv_rdb, streaming_load_equals_memory_load)
{
    struct kv_db db;
    kv_db_init(&db);
    char k[32];
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + rand64() % 26); /* does not compress */
    for (int i = 0; i < 3000; i++) {
        size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
        size_t vl = i % 100 == 0 ? sizeof big : (size_t)(i % 50);
        kv_db_add(&db, kv_obj_new_string(k, kl, big, vl, i % 7 == 0 ? 4000000000000LL + i : -1));
    }
    struct kv_hash *h = kv_hash_new();
    for (int i = 0; i < 500; i++) {
        size_t kl = (size_t)snprintf(k, sizeof k, "f%d", i);
        kv_hash_set(h, k, kl, big, (size_t)i);
    }
    kv_db_add(&db, kv_obj_new_hash("h", 1, h, -1));
    char path[] = "/tmp/test_rdb_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    struct kv_rdb_save_opts o = {.compress = true, .checksum = true, .now_ms = 1700000000000LL};
    struct kv_db *dbs[1] = {&db};
    cr_assert_eq(kv_rdb_save_fd(fd, dbs, 1, &o), 0);
    off_t size = lseek(fd, 0, SEEK_END);
    char *img = malloc((size_t)size);
    cr_assert_eq(pread(fd, img, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    size_t n = (size_t)size;
    struct kv_rdb_load_stats st, st2;
    char err[400], err2[400];
    size_t chunks[] = {1, 7, 4096, 1 << 20};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        struct kv_db d2;
        kv_db_init(&d2);
        size_t max_win = 0;
        cr_assert_eq(load_streaming(img, n, chunks[c], &d2, &st, err, sizeof err, &max_win), 0, "%s", err);
        cr_assert_eq(st.keys, 3001);
        cr_assert_eq(st.consumed, n);
        cr_assert_eq(db_size(&d2), 3001);
        struct kv_obj *x = db_lookup(&d2, "key:700", 7, LOOKUP_NOTOUCH);
        cr_assert(x && obj_vlen(x) == sizeof big && memcmp(obj_cval(x), big, sizeof big) == 0);
        cr_assert_eq(obj_expire(x), 4000000000700LL);
        /* the window: the drop threshold, one value, one chunk */
        cr_assert_lt(max_win, (256u << 10) + 2 * sizeof big + chunks[c] + 64, "window %zu of %zu", max_win, n);
        kv_db_deinit(&d2);
    }
    cr_assert_gt(n, 2u << 20);
    for (int t = 0; t < 200; t++) {
        char *bad = malloc(n);
        memcpy(bad, img, n);
        size_t len = n;
        if (t % 3 == 0)
            len = rand64() % n;
        else
            bad[9 + rand64() % (n - 9)] ^= (char)(1 << (rand64() % 8));
        struct kv_db d3, d4;
        kv_db_init(&d3);
        kv_db_init(&d4);
        struct kv_db *dbs3[1] = {&d3};
        int rc = kv_rdb_load_mem(bad, len, dbs3, 1, 0, &st, err, sizeof err);
        int rc2 = load_streaming(bad, len, 1 + rand64() % 9000, &d4, &st2, err2, sizeof err2, NULL);
        cr_assert_eq(rc, -1, "corruption %d not detected", t);
        cr_assert_eq(rc2, -1);
        cr_assert_str_eq(err, err2);
        kv_db_deinit(&d3);
        kv_db_deinit(&d4);
        free(bad);
    }
    free(img);
    kv_db_deinit(&db);
}
