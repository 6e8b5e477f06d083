/*
 * fuzz_http1_path.c — libFuzzer target for http1_normalize_path (what the lb
 * routes on and forwards): any bytes as an origin-form target. A result is
 * never longer than the input, starts with '/', has no "." or ".." segment
 * and no empty one before the query, no %-escape of an unreserved character,
 * and normalising it again changes nothing; errors are only the two codes
 * the function documents.
 *
 *   make fuzz && build-fuzz/fuzz_http1_path -max_total_time=60 CORPUS
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http1.h"

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lower-case hex never appears in a result */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *out = malloc(size + 1), *again = malloc(size + 1);
    size_t n = 0, n2 = 0;
    int rc = http1_normalize_path(in, size, out, &n);
    if (rc != 0) {
        if (rc != HTTP1_E_TARGET && rc != HTTP1_E_PATH_AMBIGUOUS)
            abort();
        goto out;
    }
    if (n > size || n == 0 || out[0] != '/')
        abort();
    const char *q = memchr(out, '?', n);
    size_t pn = q ? (size_t)(q - out) : n;
    for (size_t i = 0; i < pn; i++) {
        if (out[i] == '/') {
            size_t j = i + 1;
            while (j < pn && out[j] != '/')
                j++;
            size_t sl = j - i - 1;
            if ((sl == 0 && j < pn) || (sl == 1 && out[i + 1] == '.') ||
                (sl == 2 && out[i + 1] == '.' && out[i + 2] == '.'))
                abort();
        }
        if (out[i] == '%') {
            if (pn - i < 3 || hexv(out[i + 1]) < 0 || hexv(out[i + 2]) < 0)
                abort();
            int v = hexv(out[i + 1]) * 16 + hexv(out[i + 2]);
            if ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') || v == '-' || v == '.' ||
                v == '_' || v == '~' || v == '/' || v == 0 || v == '\\')
                abort();
        }
    }
    if (http1_normalize_path(out, n, again, &n2) != 0 || n2 != n || memcmp(out, again, n) != 0)
        abort();
out:
    free(out);
    free(again);
    return 0;
}
