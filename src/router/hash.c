/*
 * hash.c — the key hash functions a pool may name (`hash NAME`), with
 * twemproxy's spellings and results, so that a pool configured like a
 * nutcracker pool puts every key on the same server:
 *   fnv1a_64   nutcracker's: 64-bit FNV constants truncated to 32 bits
 *   fnv1_64    64-bit FNV-1, low 32 bits of the result
 *   md5        the first four bytes of the digest, little endian
 *   one_at_a_time  Bob Jenkins' one-at-a-time
 *   xxh3       the low 32 bits of XXH3-64 (the router's default: fastest)
 * Bytes are taken as signed chars where nutcracker does (fnv, one_at_a_time),
 * so keys with bytes >= 0x80 hash as nutcracker hashes them too.
 */
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "router/router.h"

uint32_t rt_hash_fnv1a_64(const char *key, size_t len)
{
    uint32_t h = (uint32_t)UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (uint32_t)(int32_t)(signed char)key[i];
        h *= (uint32_t)UINT64_C(0x100000001b3);
    }
    return h;
}

static uint32_t hash_fnv1_64(const char *key, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h *= UINT64_C(0x100000001b3);
        h ^= (uint64_t)(int64_t)(signed char)key[i];
    }
    return (uint32_t)h;
}

uint32_t rt_hash_md5(const char *key, size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(key, len, d, &n, EVP_md5(), NULL) || n < 4)
        return 0;
    return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static uint32_t hash_one_at_a_time(const char *key, size_t len)
{
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        v += (uint32_t)(int32_t)(signed char)key[i];
        v += v << 10;
        v ^= v >> 6;
    }
    v += v << 3;
    v ^= v >> 11;
    v += v << 15;
    return v;
}

static uint32_t hash_xxh3(const char *key, size_t len) { return (uint32_t)XXH3_64bits(key, len); }

const struct rt_hash_fn rt_hash_fns[] = {
    {"xxh3", hash_xxh3},
    {"fnv1a_64", rt_hash_fnv1a_64},
    {"fnv1_64", hash_fnv1_64},
    {"md5", rt_hash_md5},
    {"one_at_a_time", hash_one_at_a_time},
    {NULL, NULL},
};

int rt_hash_find(const char *name)
{
    for (int i = 0; rt_hash_fns[i].name; i++)
        if (strcasecmp(rt_hash_fns[i].name, name) == 0)
            return i;
    return -1;
}

void rt_hash_tag(const char *tag, const char **key, size_t *len)
{
    if (!tag || !tag[0] || !tag[1])
        return;
    const char *k = *key, *end = k + *len;
    const char *s = memchr(k, tag[0], *len);
    if (!s)
        return;
    const char *e = memchr(s + 1, tag[1], (size_t)(end - s - 1));
    if (e && e - s > 1) {
        *key = s + 1;
        *len = (size_t)(e - s - 1);
    }
}
