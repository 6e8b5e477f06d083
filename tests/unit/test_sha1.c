/*
 * test_sha1.c — core/sha1.c against FIPS 180 / RFC 3174 vectors, at every
 * padding boundary (55, 56, 63, 64, 65 bytes) against OpenSSL's SHA1.
 */
#include <criterion/criterion.h>

#include <openssl/evp.h>
#include <string.h>

#include "core/sha1.h"

Test(sha1, vectors)
{
    char hex[41];
    sha1_hex("", 0, hex);
    cr_expect_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_hex("abc", 3, hex);
    cr_expect_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(m, strlen(m), hex);
    cr_expect_str_eq(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

Test(sha1, every_length_matches_openssl)
{
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof buf; n++) {
        uint8_t ours[20];
        unsigned char ref[EVP_MAX_MD_SIZE];
        unsigned int rl = 0;
        sha1(buf, n, ours);
        cr_assert(EVP_Digest(buf, n, ref, &rl, EVP_sha1(), NULL));
        cr_assert_eq(rl, 20);
        cr_expect(memcmp(ours, ref, 20) == 0, "length %zu", n);
    }
}
