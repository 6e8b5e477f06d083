/*
 * fuzz_router.c — libFuzzer target for the router's routing and merging
 * (router/route.c) and its config loader (router/config.c).
 *
 * Input: a RESP byte stream of commands, then (after the first "\n--\n", if
 * any) a stream of shard replies. Each parsed command is routed with a fake
 * key -> shard map (a byte of the key's hash, mod 5; keys starting with "none"
 * have no shard); a split or fan-out route gets its sub-commands written and
 * re-parsed (each must be a valid command naming the same command and only
 * keys of its shard, in the client's order) and is merged with replies taken
 * from the reply stream (parsed with proto/reply) or made up (a right-shaped
 * array / integer / OK); a SCAN gets its shard command written and re-parsed
 * and its reply's cursor rewritten. The merged reply must parse as exactly
 * one RESP reply.
 * The same input is also loaded as a router config file (the first 4 KiB,
 * as a memfd: fuzz_memfile.h).
 * Build: make fuzz; run e.g. build-fuzz/fuzz_router -dict=fuzz/resp.dict
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "fuzz_flags.h"
#include "fuzz_memfile.h"
#include "proto/commands.h"
#include "proto/reply.h"
#include "proto/resp.h"
#include "router/router.h"

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "fuzz_router: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

static int fake_locate(void *arg, const char *key, size_t len)
{
    (void)arg;
    if (len >= 4 && memcmp(key, "none", 4) == 0)
        return -1;
    unsigned h = 7;
    for (size_t i = 0; i < len; i++)
        h = h * 31 + (unsigned char)key[i];
    return (int)(h % 5);
}

static void check_one_reply(const struct buf *b)
{
    struct resp_reply rr;
    resp_reply_init(&rr);
    ssize_t n = resp_reply_parse(&rr, buf_head(b), buf_pending(b));
    CHECK(n > 0 && (size_t)n == buf_pending(b));
}

static void made_up(const struct rt_route *r, int p, struct buf *out)
{
    switch (r->merge) {
    case RT_MERGE_ARRAY:
        resp_add_array(out, r->parts[p].nkeys);
        for (int i = 0; i < r->parts[p].nkeys; i++)
            resp_add_bulk(out, "v", 1);
        break;
    case RT_MERGE_SUM:
        resp_add_int(out, p);
        break;
    case RT_MERGE_CONCAT:
        resp_add_array(out, 1);
        resp_add_bulk(out, "k", 1);
        break;
    default:
        resp_add_ok(out);
    }
}

static void route_stream(char *data, size_t len, const char *replies, size_t rlen)
{
    struct resp_parser p;
    resp_parser_init(&p);
    struct rt_route r;
    rt_route_init(&r);
    size_t off = 0, roff = 0;
    int cmds = 0;
    while (off < len && cmds < 64) {
        ssize_t n = resp_parse(&p, data + off, len - off);
        if (n <= 0)
            break;
        cmds++;
        rt_route(&r, p.argc, p.argv, fake_locate, NULL);
        if (r.kind == RT_LOCAL || r.kind == RT_REFUSE)
            check_one_reply(&r.out);
        if (r.kind == RT_SINGLE)
            CHECK(r.shard >= 0 && r.shard < 5);
        if (r.kind == RT_SCAN) {
            struct buf sub, out, rep;
            buf_init(&sub);
            buf_init(&out);
            buf_init(&rep);
            rt_route_write_scan(&r, p.argc, p.argv, &sub);
            struct resp_parser q;
            resp_parser_init(&q);
            ssize_t m = resp_parse(&q, buf_head(&sub), buf_pending(&sub));
            CHECK(m > 0 && (size_t)m == buf_pending(&sub) && q.argc == p.argc);
            resp_parser_deinit(&q);
            struct resp_reply rr;
            resp_reply_init(&rr);
            ssize_t k = roff < rlen ? resp_reply_parse(&rr, replies + roff, rlen - roff) : -1;
            if (k > 0) {
                buf_append(&rep, replies + roff, (size_t)k);
                roff += (size_t)k;
            } else {
                buf_puts(&rep, "*2\r\n$2\r\n17\r\n*1\r\n$1\r\nk\r\n");
            }
            r.nparts = 3;
            const char *rp = buf_head(&rep);
            size_t rl = buf_pending(&rep);
            rt_merge(&r, &rp, &rl, 1, &out);
            check_one_reply(&out);
            buf_deinit(&sub);
            buf_deinit(&out);
            buf_deinit(&rep);
        }
        int nparts = r.kind == RT_SPLIT ? r.nparts : r.kind == RT_FANOUT ? 5 : 0;
        if (nparts) {
            if (r.kind == RT_FANOUT)
                r.nparts = nparts;
            struct buf parts[5], sub;
            const char *rp[5];
            size_t rl[5];
            buf_init(&sub);
            for (int i = 0; i < nparts; i++) {
                buf_init(&parts[i]);
                if (r.kind == RT_SPLIT) {
                    sub.off = sub.len = 0;
                    rt_route_write_part(&r, i, p.argc, p.argv, &sub);
                    struct resp_parser q;
                    resp_parser_init(&q);
                    ssize_t m = resp_parse(&q, buf_head(&sub), buf_pending(&sub));
                    CHECK(m > 0 && (size_t)m == buf_pending(&sub));
                    CHECK(q.argc == 1 + r.parts[i].nkeys * r.step);
                    CHECK(q.argv[0].len == p.argv[0].len && memcmp(q.argv[0].ptr, p.argv[0].ptr, p.argv[0].len) == 0);
                    for (int k = 0; k < r.parts[i].nkeys; k++) {
                        const struct resp_arg *a = &q.argv[1 + k * r.step];
                        CHECK(fake_locate(NULL, a->ptr, a->len) == r.parts[i].shard);
                        if (k > 0)
                            CHECK(r.order[r.parts[i].first + k] > r.order[r.parts[i].first + k - 1]);
                    }
                    resp_parser_deinit(&q);
                }
                struct resp_reply rr;
                resp_reply_init(&rr);
                ssize_t m = roff < rlen ? resp_reply_parse(&rr, replies + roff, rlen - roff) : -1;
                if (m > 0) {
                    buf_append(&parts[i], replies + roff, (size_t)m);
                    roff += (size_t)m;
                } else {
                    made_up(&r, i, &parts[i]);
                }
                rp[i] = buf_head(&parts[i]);
                rl[i] = buf_pending(&parts[i]);
            }
            struct buf out;
            buf_init(&out);
            rt_merge(&r, rp, rl, nparts, &out);
            check_one_reply(&out);
            buf_deinit(&out);
            for (int i = 0; i < nparts; i++)
                buf_deinit(&parts[i]);
            buf_deinit(&sub);
        }
        off += (size_t)n;
    }
    rt_route_deinit(&r);
    resp_parser_deinit(&p);
}

static void config_file(const uint8_t *data, size_t size)
{
    struct buf errs;
    buf_init(&errs);
    rt_config_check(fz_memfile(data, size > 4096 ? 4096 : size), &errs);
    buf_deinit(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    const char *sep = size >= 4 ? memmem(copy, size, "\n--\n", 4) : NULL;
    size_t clen = sep ? (size_t)(sep - copy) : size;
    const char *replies = sep ? sep + 4 : "";
    size_t rlen = sep ? size - clen - 4 : 0;
    char *cmds = malloc(clen ? clen : 1);
    memcpy(cmds, copy, clen);
    route_stream(cmds, clen, replies, rlen);
    free(cmds);
    free(copy);
    config_file(data, size);
    return 0;
}
