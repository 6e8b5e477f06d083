/*
 * auth.c — user list, md5 and SCRAM-SHA-256 for the pg proxy (see auth.h).
 */
#include "pg/auth.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"

#define SCRAM_ITER 4096

/* ---- helpers ---------------------------------------------------------------- */

void pg_auth_random(void *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1) {
        /* libcrypto without entropy cannot make secrets: fall back to the kernel */
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(p, 1, n, f) != n)
            abort();
        fclose(f);
    }
}

static void hexify(const unsigned char *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void md5_of(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 16;
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    EVP_DigestUpdate(ctx, a, alen);
    EVP_DigestUpdate(ctx, b, blen);
    EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
}

void pg_md5_password(const char *password, const char *user, char out[36])
{
    unsigned char d[16];
    md5_of(password, strlen(password), user, strlen(user), d);
    memcpy(out, "md5", 3);
    hexify(d, 16, out + 3);
}

void pg_md5_salted(const char *md5pw, const unsigned char salt[4], char out[36])
{
    unsigned char d[16];
    md5_of(md5pw + 3, 32, salt, 4, d);
    memcpy(out, "md5", 3);
    hexify(d, 16, out + 3);
}

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decode base64 of at most cap decoded bytes; returns the length or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap + 2)
        return -1;
    unsigned char tmp[PG_SCRAM_MSG_MAX];
    if (n / 4 * 3 > sizeof tmp)
        return -1;
    int r = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
    if (r < 0)
        return -1;
    long len = r;
    if (in[n - 1] == '=')
        len--;
    if (in[n - 2] == '=')
        len--;
    if (len < 0 || (size_t)len > cap)
        return -1;
    memcpy(out, tmp, (size_t)len);
    return len;
}

static void hmac(const unsigned char *key, size_t klen, const void *d, size_t n, unsigned char out[32])
{
    unsigned int ol = 32;
    HMAC(EVP_sha256(), key, (int)klen, d, n, out, &ol);
}

static void sha256(const void *d, size_t n, unsigned char out[32]) { SHA256(d, n, out); }

static void salted_password(const char *password, const unsigned char *salt, size_t slen, int iter,
                            unsigned char out[32])
{
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)slen, iter, EVP_sha256(), 32, out);
}

void pg_scram_make_secret(struct pg_user *u, const char *password)
{
    unsigned char sp[32], ck[32];
    u->salt_len = 16;
    pg_auth_random(u->salt, u->salt_len);
    u->iter = SCRAM_ITER;
    salted_password(password, u->salt, u->salt_len, u->iter, sp);
    hmac(sp, 32, "Client Key", 10, ck);
    sha256(ck, 32, u->stored_key);
    hmac(sp, 32, "Server Key", 10, u->server_key);
    u->has_scram = true;
}

/* ---- user list ----------------------------------------------------------------- */

/* Read one "quoted" field at *p into out (cap bytes); advances *p. */
static bool read_field(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '"')
        return false;
    s++;
    size_t n = 0;
    for (;;) {
        if (*s == '\0' || *s == '\n')
            return false;
        if (*s == '"') {
            if (s[1] == '"') {
                s += 2;
                if (n + 1 >= cap)
                    return false;
                out[n++] = '"';
                continue;
            }
            s++;
            break;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s;
    return true;
}

static bool parse_scram_secret(struct pg_user *u, const char *s)
{
    /* SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey> */
    if (strncmp(s, "SCRAM-SHA-256$", 14) != 0)
        return false;
    s += 14;
    const char *colon = strchr(s, ':');
    const char *dollar = colon ? strchr(colon, '$') : NULL;
    const char *colon2 = dollar ? strchr(dollar, ':') : NULL;
    if (!colon || !dollar || !colon2)
        return false;
    long long iter;
    if (!util_str2ll(s, (size_t)(colon - s), &iter) || iter < 1 || iter > 10000000)
        return false;
    long sl = b64_decode(colon + 1, (size_t)(dollar - colon - 1), u->salt, sizeof u->salt);
    long k1 = b64_decode(dollar + 1, (size_t)(colon2 - dollar - 1), u->stored_key, 32);
    long k2 = b64_decode(colon2 + 1, strlen(colon2 + 1), u->server_key, 32);
    if (sl <= 0 || k1 != 32 || k2 != 32)
        return false;
    u->salt_len = (size_t)sl;
    u->iter = (int)iter;
    u->has_scram = true;
    return true;
}

static bool is_md5_hash(const char *s)
{
    if (strlen(s) != 35 || strncmp(s, "md5", 3) != 0)
        return false;
    for (int i = 3; i < 35; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int pg_user_set_secret(struct pg_user *u, const char *secret)
{
    struct pg_user n;
    memset(&n, 0, sizeof n);
    if (strncmp(secret, "SCRAM-SHA-256$", 14) == 0) {
        if (!parse_scram_secret(&n, secret))
            return -1;
    } else if (is_md5_hash(secret)) {
        n.has_md5 = true;
        memcpy(n.md5, secret, 36);
    } else {
        return -1;
    }
    if (u->has_client_key && n.has_scram && u->has_scram && memcmp(u->stored_key, n.stored_key, PG_SCRAM_KEY) == 0) {
        n.has_client_key = true;
        memcpy(n.client_key, u->client_key, PG_SCRAM_KEY);
    }
    xfree(u->password);
    n.name = u->name;
    n.next = u->next;
    *u = n;
    return 0;
}

int pg_userlist_load(const char *path, struct pg_userlist *out, struct buf *errs)
{
    out->head = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        buf_printf(errs, "%s: cannot read the user list: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, nerr = 0;
    struct pg_user **tail = &out->head;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n' || *p == '\r' || *p == ';' || *p == '#')
            continue;
        char name[1024], pw[2048];
        if (!read_field(&p, name, sizeof name) || !read_field(&p, pw, sizeof pw) || name[0] == '\0') {
            buf_printf(errs, "%s:%d: expected \"user\" \"password\"\n", path, lineno);
            nerr++;
            continue;
        }
        struct pg_user *u = xcalloc(1, sizeof *u);
        u->name = xstrdup(name);
        if (strncmp(pw, "SCRAM-SHA-256$", 14) == 0) {
            if (!parse_scram_secret(u, pw)) {
                buf_printf(errs, "%s:%d: malformed SCRAM secret for user \"%s\"\n", path, lineno, name);
                nerr++;
            }
        } else if (is_md5_hash(pw)) {
            u->has_md5 = true;
            memcpy(u->md5, pw, 36);
        } else {
            u->password = xstrdup(pw);
            pg_md5_password(pw, name, u->md5);
            u->has_md5 = true;
            pg_scram_make_secret(u, pw);
        }
        *tail = u;
        tail = &u->next;
    }
    fclose(f);
    return nerr;
}

void pg_userlist_free(struct pg_userlist *l)
{
    struct pg_user *u = l->head;
    while (u) {
        struct pg_user *n = u->next;
        xfree(u->name);
        if (u->password) {
            memset(u->password, 0, strlen(u->password));
            xfree(u->password);
        }
        xfree(u);
        u = n;
    }
    l->head = NULL;
}

struct pg_user *pg_userlist_find(const struct pg_userlist *l, const char *name)
{
    for (struct pg_user *u = l->head; u; u = u->next)
        if (strcmp(u->name, name) == 0)
            return u;
    return NULL;
}

/* ---- SCRAM attribute parsing ---------------------------------------------------- */

/* Find attribute `a` ("r", "s", ...) in a comma-separated list; value and length out. */
static const char *attr(const char *msg, size_t len, char a, size_t *vlen)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && msg[j] != ',')
            j++;
        if (j - i >= 2 && msg[i] == a && msg[i + 1] == '=') {
            *vlen = j - i - 2;
            return msg + i + 2;
        }
        i = j + 1;
    }
    return NULL;
}

static bool printable_nonce(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return n > 0;
}

/* ---- SCRAM server ------------------------------------------------------------------ */

int pg_scram_server_first(struct pg_scram_server *st, const struct pg_user *u, const char *msg, size_t len,
                          struct buf *out)
{
    if (len >= PG_SCRAM_MSG_MAX - 64 || len < 3)
        return -1;
    /* gs2 header: "n,," or "y,," (we offer no channel binding), no authzid */
    if (!((msg[0] == 'n' || msg[0] == 'y') && msg[1] == ',' && msg[2] == ','))
        return -1;
    memcpy(st->gs2, msg, 3);
    st->gs2[3] = '\0';
    const char *bare = msg + 3;
    size_t blen = len - 3;
    memcpy(st->client_first_bare, bare, blen);
    st->client_first_bare[blen] = '\0';
    size_t rlen;
    const char *r = attr(bare, blen, 'r', &rlen);
    if (!r || !printable_nonce(r, rlen) || rlen > 256)
        return -1;
    unsigned char sn[18];
    pg_auth_random(sn, sizeof sn);
    char snb[32];
    size_t snl = b64_encode(sn, sizeof sn, snb);
    memcpy(st->nonce, r, rlen);
    memcpy(st->nonce + rlen, snb, snl);
    st->nonce[rlen + snl] = '\0';
    char saltb[PG_SCRAM_SALT_MAX * 2];
    unsigned char dummy_salt[16];
    const unsigned char *salt = u && u->has_scram ? u->salt : dummy_salt;
    size_t slen = u && u->has_scram ? u->salt_len : sizeof dummy_salt;
    if (!(u && u->has_scram))
        pg_auth_random(dummy_salt, sizeof dummy_salt); /* unknown user: fail at the proof, as PostgreSQL does */
    b64_encode(salt, slen, saltb);
    snprintf(st->server_first, sizeof st->server_first, "r=%s,s=%s,i=%d", st->nonce, saltb,
             u && u->has_scram ? u->iter : SCRAM_ITER);
    buf_puts(out, st->server_first);
    return 0;
}

int pg_scram_server_final(struct pg_scram_server *st, struct pg_user *u, const char *msg, size_t len,
                          struct buf *out)
{
    if (len >= PG_SCRAM_MSG_MAX)
        return -1;
    size_t clen, rlen, plen;
    const char *c = attr(msg, len, 'c', &clen);
    const char *r = attr(msg, len, 'r', &rlen);
    const char *p = attr(msg, len, 'p', &plen);
    if (!c || !r || !p)
        return -1;
    /* c= must be base64 of the gs2 header we saw */
    char gs2b[16];
    size_t gl = b64_encode((const unsigned char *)st->gs2, strlen(st->gs2), gs2b);
    if (clen != gl || memcmp(c, gs2b, gl) != 0)
        return -1;
    if (rlen != strlen(st->nonce) || memcmp(r, st->nonce, rlen) != 0)
        return -1;
    unsigned char proof[64];
    if (b64_decode(p, plen, proof, sizeof proof) != 32)
        return -1;
    if (!u || !u->has_scram)
        return -1;
    /* client-final without proof: everything before ",p=" */
    size_t wo = (size_t)(p - 2 - msg) - 1;
    char am[3 * PG_SCRAM_MSG_MAX];
    int n = snprintf(am, sizeof am, "%s,%s,%.*s", st->client_first_bare, st->server_first, (int)wo, msg);
    if (n < 0 || (size_t)n >= sizeof am)
        return -1;
    unsigned char sig[32], ck[32], sk[32];
    hmac(u->stored_key, 32, am, (size_t)n, sig);
    for (int i = 0; i < 32; i++)
        ck[i] = proof[i] ^ sig[i];
    sha256(ck, 32, sk);
    if (CRYPTO_memcmp(sk, u->stored_key, 32) != 0)
        return -1;
    if (!u->password && !u->has_client_key) {
        memcpy(u->client_key, ck, 32);
        u->has_client_key = true;
    }
    unsigned char ss[32];
    hmac(u->server_key, 32, am, (size_t)n, ss);
    char ssb[64];
    b64_encode(ss, 32, ssb);
    buf_printf(out, "v=%s", ssb);
    return 0;
}

/* ---- SCRAM client ------------------------------------------------------------------ */

void pg_scram_client_first(struct pg_scram_client *st, struct buf *out)
{
    unsigned char raw[18];
    pg_auth_random(raw, sizeof raw);
    b64_encode(raw, sizeof raw, st->cnonce);
    snprintf(st->client_first_bare, sizeof st->client_first_bare, "n=,r=%s", st->cnonce);
    buf_printf(out, "n,,%s", st->client_first_bare);
}

int pg_scram_client_final(struct pg_scram_client *st, const char *password, const char *msg, size_t len,
                          struct buf *out)
{
    if (len >= PG_SCRAM_MSG_MAX)
        return -1;
    size_t rlen, slen, ilen;
    const char *r = attr(msg, len, 'r', &rlen);
    const char *s = attr(msg, len, 's', &slen);
    const char *i = attr(msg, len, 'i', &ilen);
    if (!r || !s || !i)
        return -1;
    size_t cl = strlen(st->cnonce);
    if (rlen <= cl || memcmp(r, st->cnonce, cl) != 0 || !printable_nonce(r, rlen))
        return -1;
    long long iter;
    if (!util_str2ll(i, ilen, &iter) || iter < 1 || iter > 10000000)
        return -1;
    unsigned char salt[PG_SCRAM_SALT_MAX];
    long sl = b64_decode(s, slen, salt, sizeof salt);
    if (sl <= 0)
        return -1;
    unsigned char sp[32], ck[32], stored[32], sig[32], proof[32], skey[32];
    salted_password(password, salt, (size_t)sl, (int)iter, sp);
    hmac(sp, 32, "Client Key", 10, ck);
    sha256(ck, 32, stored);
    char without[PG_SCRAM_MSG_MAX + 16];
    snprintf(without, sizeof without, "c=biws,r=%.*s", (int)rlen, r);
    char am[3 * PG_SCRAM_MSG_MAX];
    int n = snprintf(am, sizeof am, "%s,%.*s,%s", st->client_first_bare, (int)len, msg, without);
    if (n < 0 || (size_t)n >= sizeof am)
        return -1;
    hmac(stored, 32, am, (size_t)n, sig);
    for (int k = 0; k < 32; k++)
        proof[k] = ck[k] ^ sig[k];
    hmac(sp, 32, "Server Key", 10, skey);
    hmac(skey, 32, am, (size_t)n, st->server_signature);
    char pb[64];
    b64_encode(proof, 32, pb);
    buf_printf(out, "%s,p=%s", without, pb);
    return 0;
}

int pg_scram_client_final_keys(struct pg_scram_client *st, const struct pg_user *u, const char *msg, size_t len,
                               struct buf *out)
{
    if (len >= PG_SCRAM_MSG_MAX || !u->has_client_key || !u->has_scram)
        return -1;
    size_t rlen, slen, ilen;
    const char *r = attr(msg, len, 'r', &rlen);
    const char *s = attr(msg, len, 's', &slen);
    const char *i = attr(msg, len, 'i', &ilen);
    if (!r || !s || !i)
        return -1;
    size_t cl = strlen(st->cnonce);
    if (rlen <= cl || memcmp(r, st->cnonce, cl) != 0 || !printable_nonce(r, rlen))
        return -1;
    long long iter;
    unsigned char salt[PG_SCRAM_SALT_MAX];
    long sl = b64_decode(s, slen, salt, sizeof salt);
    if (!util_str2ll(i, ilen, &iter) || iter != u->iter || sl != (long)u->salt_len || memcmp(salt, u->salt, (size_t)sl) != 0)
        return -1; /* another secret than ours: the keys do not apply */
    char without[PG_SCRAM_MSG_MAX + 16];
    snprintf(without, sizeof without, "c=biws,r=%.*s", (int)rlen, r);
    char am[3 * PG_SCRAM_MSG_MAX];
    int n = snprintf(am, sizeof am, "%s,%.*s,%s", st->client_first_bare, (int)len, msg, without);
    if (n < 0 || (size_t)n >= sizeof am)
        return -1;
    unsigned char sig[32], proof[32];
    hmac(u->stored_key, 32, am, (size_t)n, sig);
    for (int k = 0; k < 32; k++)
        proof[k] = u->client_key[k] ^ sig[k];
    hmac(u->server_key, 32, am, (size_t)n, st->server_signature);
    char pb[64];
    b64_encode(proof, 32, pb);
    buf_printf(out, "%s,p=%s", without, pb);
    return 0;
}

int pg_scram_client_verify(const struct pg_scram_client *st, const char *msg, size_t len)
{
    size_t vlen;
    const char *v = attr(msg, len, 'v', &vlen);
    unsigned char sig[64];
    if (!v || b64_decode(v, vlen, sig, sizeof sig) != 32)
        return -1;
    return CRYPTO_memcmp(sig, st->server_signature, 32) == 0 ? 0 : -1;
}
