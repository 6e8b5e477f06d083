/*
 * lzf.h — LZF compression, the format Redis uses for compressed RDB strings.
 *
 * A compressed stream is a sequence of items, each starting with a control
 * byte c:
 *   c < 32        a literal run: the next c+1 bytes are copied as they are;
 *   c >= 32       a back reference: length L = c >> 5 (if 7, add the next
 *                 byte), offset D = ((c & 31) << 8 | next byte) + 1; copy
 *                 L + 2 bytes from D bytes back in the output (they may
 *                 overlap the bytes being written).
 * Written here from that description; no state between calls, thread-safe.
 */
#ifndef SCALEOUT_CORE_LZF_H
#define SCALEOUT_CORE_LZF_H

#include <stddef.h>

/* Compress n bytes of in into out (cap bytes). Returns the compressed size,
 * or 0 when it does not fit in cap (the caller then stores the data raw). */
size_t lzf_compress(const void *in, size_t n, void *out, size_t cap);

/* Decompress n bytes of in into out, which must receive exactly outlen
 * bytes. Returns outlen, or 0 when the input is malformed (a reference
 * before the start, a run past either end) or does not fill outlen. */
size_t lzf_decompress(const void *in, size_t n, void *out, size_t outlen);

#endif
