/*
 * sha1.h — SHA-1 (FIPS 180-4) of a buffer, for content addressing (the kv
 * role's script cache keys scripts by it, as Redis does). Not for security.
 * Allocation-free, reentrant, any thread.
 */
#ifndef SCALEOUT_CORE_SHA1_H
#define SCALEOUT_CORE_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* The 20-byte digest of p[0..n). */
void sha1(const void *p, size_t n, uint8_t out[20]);
/* The digest as 40 lowercase hex digits and a NUL. */
void sha1_hex(const void *p, size_t n, char out[41]);

#endif
