/*
 * fuzz_reply.c — libFuzzer target for the RESP reply
 * parser (proto/reply.c): never a crash or an out-of-bounds read, and the same
 * outcome whether a reply arrives whole or a byte at a time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy so ASan catches any read past the end */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    size_t off = 0;
    while (off < size) {
        struct resp_reply whole;
        resp_reply_init(&whole);
        ssize_t r = resp_reply_parse(&whole, buf + off, size - off);
        /* incremental: grow the visible length one byte at a time */
        struct resp_reply inc;
        resp_reply_init(&inc);
        ssize_t ri = RESP_REPLY_INCOMPLETE;
        for (size_t n = 1; n <= size - off; n++) {
            if (inc.need > n)
                continue;
            ri = resp_reply_parse(&inc, buf + off, n);
            if (ri != RESP_REPLY_INCOMPLETE)
                break;
        }
        if (r > 0) {
            if (ri != r || (size_t)r > size - off)
                abort();
            if (whole.is_error != inc.is_error || whole.type != inc.type)
                abort();
            off += (size_t)r;
            continue;
        }
        /* an error or an incomplete tail: the incremental parse must agree */
        if (r != ri)
            abort();
        break;
    }
    free(buf);
    return 0;
}
