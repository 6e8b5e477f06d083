/*
 * crc64.c — CRC-64/Jones (see crc64.h). The reflected polynomial is
 * 0x95ac9329ac4bc9b5 (0xad93d23594c935a9 bit-reversed); the 256-entry table
 * is built once, on first use, under pthread_once.
 */
#include "core/crc64.h"

#include <pthread.h>

#define CRC64_JONES_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_JONES_REFLECTED : c >> 1;
        table[i] = c;
    }
}

uint64_t crc64_update(uint64_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;
    pthread_once(&table_once, table_init);
    for (size_t i = 0; i < n; i++)
        crc = table[(uint8_t)(crc ^ b[i])] ^ (crc >> 8);
    return crc;
}
