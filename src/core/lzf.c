/*
 * lzf.c — LZF compressor and decompressor (format in lzf.h).
 *
 * The compressor keeps a hash table of the last position where each 3-byte
 * sequence started; a match within 8 KB back is extended up to 264 bytes and
 * emitted as a back reference, everything else joins a literal run of at
 * most 32 bytes. Greedy, one pass, the table on the stack (16 KB).
 */
#include "core/lzf.h"

#include <stdint.h>
#include <string.h>

#define HASH_BITS 12
#define MAX_OFF (1 << 13)    /* 8192: 13 bits of offset */
#define MAX_LIT 32
#define MAX_REF (7 + 255 + 2) /* 264 */

static inline unsigned hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

size_t lzf_compress(const void *in, size_t n, void *out, size_t cap)
{
    const uint8_t *ip = in, *end = ip + n;
    uint8_t *op = out, *oend = op + cap;
    uint32_t tab[1 << HASH_BITS];
    const uint8_t *lit = ip; /* start of the pending literal run */
    if (n >= UINT32_MAX)
        return 0;
    memset(tab, 0xff, sizeof tab);

    const uint8_t *p = ip;
    while (p + 2 < end) {
        unsigned h = hash3(p);
        uint32_t prev = tab[h];
        tab[h] = (uint32_t)(p - ip);
        size_t pos = (size_t)(p - ip);
        if (prev != UINT32_MAX && pos - prev <= MAX_OFF && memcmp(ip + prev, p, 3) == 0) {
            const uint8_t *r = ip + prev;
            size_t len = 3, maxlen = (size_t)(end - p);
            if (maxlen > MAX_REF)
                maxlen = MAX_REF;
            while (len < maxlen && r[len] == p[len])
                len++;
            /* flush the literals before the match */
            while (lit < p) {
                size_t k = (size_t)(p - lit);
                if (k > MAX_LIT)
                    k = MAX_LIT;
                if ((size_t)(oend - op) < k + 1)
                    return 0;
                *op++ = (uint8_t)(k - 1);
                memcpy(op, lit, k);
                op += k;
                lit += k;
            }
            size_t off = pos - prev - 1, l = len - 2;
            if ((size_t)(oend - op) < 3)
                return 0;
            if (l < 7) {
                *op++ = (uint8_t)(l << 5 | off >> 8);
            } else {
                *op++ = (uint8_t)(7 << 5 | off >> 8);
                *op++ = (uint8_t)(l - 7);
            }
            *op++ = (uint8_t)off;
            /* index the positions inside the match so later data finds them */
            const uint8_t *q = p + 1;
            p += len;
            for (; q < p && q + 2 < end; q++)
                tab[hash3(q)] = (uint32_t)(q - ip);
            lit = p;
        } else {
            p++;
        }
    }
    while (lit < end) {
        size_t k = (size_t)(end - lit);
        if (k > MAX_LIT)
            k = MAX_LIT;
        if ((size_t)(oend - op) < k + 1)
            return 0;
        *op++ = (uint8_t)(k - 1);
        memcpy(op, lit, k);
        op += k;
        lit += k;
    }
    return (size_t)(op - (uint8_t *)out);
}

size_t lzf_decompress(const void *in, size_t n, void *out, size_t outlen)
{
    const uint8_t *ip = in, *iend = ip + n;
    uint8_t *op = out, *ostart = op, *oend = op + outlen;
    while (ip < iend) {
        unsigned c = *ip++;
        if (c < 32) {
            size_t k = c + 1;
            if ((size_t)(iend - ip) < k || (size_t)(oend - op) < k)
                return 0;
            memcpy(op, ip, k);
            op += k;
            ip += k;
        } else {
            size_t len = c >> 5;
            if (len == 7) {
                if (ip >= iend)
                    return 0;
                len += *ip++;
            }
            if (ip >= iend)
                return 0;
            size_t off = ((size_t)(c & 31) << 8 | *ip++) + 1;
            len += 2;
            if (off > (size_t)(op - ostart) || (size_t)(oend - op) < len)
                return 0;
            const uint8_t *r = op - off;
            for (size_t i = 0; i < len; i++) /* byte by byte: source and target may overlap */
                op[i] = r[i];
            op += len;
        }
    }
    return op == oend ? outlen : 0;
}
