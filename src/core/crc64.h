/*
 * crc64.h — CRC-64 with the Jones polynomial, reflected, as Redis computes it
 * for RDB files and DUMP payloads (init 0, no final xor; "123456789" gives
 * 0xe9c6d914c4b8d9ca). Table-driven, one byte at a time; thread-safe.
 */
#ifndef SCALEOUT_CORE_CRC64_H
#define SCALEOUT_CORE_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc over n bytes of p (start with crc = 0). */
uint64_t crc64_update(uint64_t crc, const void *p, size_t n);

#endif
