/*
 * fuzz_h2_req.c — libFuzzer target for the HTTP/2 request mapping of
 * src/lb/h2.c (lb_h2_req_field / lb_h2_req_build): a header list as HPACK
 * would hand it over (any bytes: nghttp2's own validation is not assumed),
 * made into the parsed request the proxy routes (proto/http1's
 * http1_request_start / _field / _finish).
 * Invariants: a request is built only from a :method and a :path, within the
 * list size bound; any refusal is an HTTP1_E_* code; and a built request is
 * one the HTTP/1.1 parser accepts as the same message: written out as
 * HTTP/1.1 text it parses whole (exactly one message, no field value can end
 * it early or smuggle a second one) with the same method, target, framing
 * (body kind, Content-Length), Host and fields, and Transfer-Encoding:
 * chunked is there exactly when a body has no Content-Length.
 *
 * Input: records [name length: 1 byte][name][value length: 2 bytes BE][value],
 * the first byte of the input is a flag byte (bit 0: the request has a body;
 * bit 1: a 256-byte list bound).
 *
 *   make build-fuzz/fuzz_h2_req && build-fuzz/fuzz_h2_req -max_total_time=180 fuzz/corpus/h2_req
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    struct http1_header hdrs[100];
    struct http1_request req;
    http1_request_init(&req, hdrs, 100);
    struct http1_limits lim = HTTP1_LIMITS_DEFAULT;
    lim.max_header_bytes = 1 << 20;
    int rc = lb_h2_req_build(&r, body, &lim, &req);
    if (rc < 0) {
        if (http1_err_name(rc)[0] == 'U') /* "UNKNOWN": not an HTTP1_E_* code */
            abort();
    } else if (rc > 0) {
        abort();
    } else {
        if (!buf_pending(&r.method) || !buf_pending(&r.path) || r.bytes > limit)
            abort();
        if (req.method_len != buf_pending(&r.method) || memcmp(req.method, buf_head(&r.method), req.method_len) != 0)
            abort();
        if (req.target_len != buf_pending(&r.path) || memcmp(req.target, buf_head(&r.path), req.target_len) != 0)
            abort();
        /* the same message as HTTP/1.1 text, through the HTTP/1.1 parser */
        struct buf o;
        buf_init(&o);
        buf_append(&o, req.method, req.method_len);
        buf_putc(&o, ' ');
        buf_append(&o, req.target, req.target_len);
        buf_puts(&o, " HTTP/1.1\r\n");
        int te = 0;
        for (size_t k = 0; k < req.num_headers; k++) {
            buf_append(&o, hdrs[k].name, hdrs[k].name_len);
            buf_append(&o, ": ", 2);
            buf_append(&o, hdrs[k].value, hdrs[k].value_len);
            buf_append(&o, "\r\n", 2);
            if (hdrs[k].name_len == 17 && strncasecmp(hdrs[k].name, "transfer-encoding", 17) == 0)
                te++;
        }
        buf_append(&o, "\r\n", 2);
        struct http1_header ph[100];
        struct http1_request p;
        http1_request_init(&p, ph, 100);
        int n = http1_parse_request(buf_head(&o), buf_pending(&o), &p, &lim);
        if (n < 0 || (size_t)n != buf_pending(&o))
            abort(); /* built, yet not exactly one HTTP/1.1 message */
        if (p.meth != req.meth || p.body != req.body || p.content_length != req.content_length ||
            p.host_len != req.host_len || p.num_headers != req.num_headers || p.keep_alive != req.keep_alive ||
            p.target_form != req.target_form)
            abort();
        for (size_t k = 0; k < p.num_headers; k++)
            if (ph[k].value_len != hdrs[k].value_len || memcmp(ph[k].value, hdrs[k].value, ph[k].value_len) != 0)
                abort();
        if (te > 1 || (te == 1) != (body && !r.has_cl) || r.chunked != (te == 1))
            abort();
        buf_deinit(&o);
    }
    lb_h2_req_deinit(&r);
    return 0;
}
