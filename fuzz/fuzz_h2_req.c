/*
 * fuzz_h2_req.c — libFuzzer target for the HTTP/2 request conversion of
 * src/lb/h2.c (lb_h2_req_field / lb_h2_req_head): a header list as HPACK
 * would hand it over (any bytes: nghttp2's own validation is not assumed),
 * turned into an HTTP/1.1 head that the lb's HTTP/1.1 parser then reads.
 * Invariants: a head is produced only from a :method and a :path; it is one
 * complete message for http1_parse_request (never incomplete, never followed
 * by a second message: no smuggling through field values), its method and
 * target are the ones given, and it carries no Transfer-Encoding or
 * Connection field but ours.
 *
 * Input: records [name length: 1 byte][name][value length: 2 bytes BE][value],
 * the first byte of the input is a flag byte (bit 0: the request has a body).
 *
 *   make build-fuzz/fuzz_h2_req && build-fuzz/fuzz_h2_req -max_total_time=180 fuzz/corpus/h2_req
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/h2.h"
#include "proto/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool body = data[0] & 1;
    size_t limit = (data[0] & 2) ? 256 : 65536;
    struct lb_h2_req r;
    lb_h2_req_init(&r, limit);
    size_t i = 1;
    while (i < size) {
        size_t nl = data[i++];
        if (i + nl + 2 > size)
            break;
        const uint8_t *n = data + i;
        i += nl;
        size_t vl = ((size_t)data[i] << 8) | data[i + 1];
        i += 2;
        if (i + vl > size)
            vl = size - i;
        lb_h2_req_field(&r, n, nl, data + i, vl);
        i += vl;
    }
    struct buf o;
    buf_init(&o);
    int rc = lb_h2_req_head(&r, body, &o);
    if (rc == 0) {
        if (!buf_pending(&r.method) || !buf_pending(&r.path) || r.bytes > limit)
            abort();
        struct http1_header hdrs[128];
        struct http1_request req;
        http1_request_init(&req, hdrs, 128);
        struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
        lim.max_header_bytes = 1 << 20;
        lim.max_line = 1 << 20;
        int n = http1_parse_request(buf_head(&o), buf_pending(&o), &req, &lim);
        if (n == HTTP1_INCOMPLETE)
            abort(); /* the head always ends */
        if (n > 0) {
            if ((size_t)n != buf_pending(&o))
                abort(); /* exactly one message */
            if (req.method_len != buf_pending(&r.method) ||
                memcmp(req.method, buf_head(&r.method), req.method_len) != 0)
                abort();
            if (req.target_len != buf_pending(&r.path) || memcmp(req.target, buf_head(&r.path), req.target_len) != 0)
                abort();
            int te = 0, conn = 0;
            for (size_t k = 0; k < req.num_headers; k++) {
                const struct http1_header *h = &req.headers[k];
                if (h->name_len == 17 && strncasecmp(h->name, "transfer-encoding", 17) == 0)
                    te++;
                if (h->name_len == 10 && strncasecmp(h->name, "connection", 10) == 0)
                    conn++;
            }
            if (conn != 1 || te > 1 || (te == 1) != (body && !r.has_cl))
                abort();
        }
    } else if (rc != -1 && rc != -2) {
        abort();
    }
    buf_deinit(&o);
    lb_h2_req_deinit(&r);
    return 0;
}
