/*
 * fuzz_json.c — libFuzzer target for proto/json's member reader: never a
 * crash, an out-of-bounds read or unbounded recursion, and a string found
 * is written back by json_put_str and read again unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    char out[256];
    int n = json_get_str(buf, size, "user", out, sizeof out);
    long long v;
    (void)json_get_int(buf, size, "n", &v);
    if (n >= 0) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "{\"user\":");
        json_put_str(&b, out, (size_t)n);
        buf_puts(&b, "}");
        char again[256];
        if (json_get_str(buf_head(&b), buf_pending(&b), "user", again, sizeof again) != n ||
            memcmp(again, out, (size_t)n) != 0)
            abort();
        buf_deinit(&b);
    }
    free(buf);
    return 0;
}
