/*
 * tls.c — TLS over the connection's own buffers (see tls.h for the data path):
 * server contexts (termination) and client contexts (towards backends).
 *
 * One SSL_CTX per certificate, all configured alike; the first is the one a
 * connection starts on, the servername callback moves it to the context
 * whose leaf certificate matches the SNI name (X509_check_host: exact and
 * wildcard names). Session tickets are encrypted with process-wide keys
 * (AES-256-CBC + HMAC-SHA256) that rotate every ticket_rotate_ms: a ticket
 * made with the previous key is still accepted and renewed, older ones fall
 * back to a full handshake. Client-initiated renegotiation is refused
 * (SSL_OP_NO_RENEGOTIATION) and the connection is cut when a TLS 1.2 client
 * tries (the info callback sees a second handshake start).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>

#include "core/alloc.h"
#include "net/tls.h"

#define TLS_MAX_CERTS 64
#define TLS_OCSP_MAX (1024 * 1024)

struct tls_slot {
    struct net_tls_ctx *x;
    SSL_CTX *ctx;
    X509 *leaf;                     /* owned by ctx */
    unsigned char *ocsp;            /* DER bytes to staple; NULL: none */
    size_t ocsp_len;
};

struct net_tls_ctx {
    _Atomic int refs;
    _Atomic long long handshakes;
    long long max_handshakes;
    long long ticket_rotate_ms;
    unsigned char alpn[64];         /* wire format */
    size_t alpn_len;
    struct tls_slot slots[TLS_MAX_CERTS];
    int nslots;
    bool client, verify;            /* net_tls_client_ctx_new */
};

/* ---- ticket keys (process-wide) ---------------------------------------------- */

struct tkey {
    unsigned char name[16], aes[32], hmac[32];
    long long created;
};

static pthread_mutex_t tkeys_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tkey tkeys[2];       /* current, previous */
static int ntkeys;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy the keys, making a new current key when it is older than period. */
static int tkeys_get(long long period, struct tkey out[2])
{
    pthread_mutex_lock(&tkeys_mu);
    long long now = mono_ms();
    if (ntkeys == 0 || now - tkeys[0].created >= period) {
        struct tkey k;
        if (RAND_bytes(k.name, sizeof k.name) != 1 || RAND_bytes(k.aes, sizeof k.aes) != 1 ||
            RAND_bytes(k.hmac, sizeof k.hmac) != 1) {
            pthread_mutex_unlock(&tkeys_mu);
            return 0;
        }
        k.created = now;
        if (ntkeys > 0)
            tkeys[1] = tkeys[0];
        tkeys[0] = k;
        ntkeys = ntkeys ? 2 : 1;
    }
    /* a previous key older than two periods is gone */
    int n = ntkeys;
    if (n == 2 && now - tkeys[1].created >= 2 * period)
        n = ntkeys = 1;
    memcpy(out, tkeys, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&tkeys_mu);
    return n;
}

/* The ticket cipher, fetched once: handing EVP_EncryptInit_ex the legacy
 * EVP_aes_256_cbc() makes OpenSSL 3.0 look the provider's implementation up
 * by name on every ticket. NULL (fetch failed): the legacy one is used. */
static EVP_CIPHER *tk_cipher;
static pthread_once_t tk_cipher_once = PTHREAD_ONCE_INIT;

static void tk_cipher_init(void) { tk_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL); }

static const EVP_CIPHER *ticket_cipher(void)
{
    pthread_once(&tk_cipher_once, tk_cipher_init);
    return tk_cipher ? tk_cipher : EVP_aes_256_cbc();
}

static int set_mac_key(EVP_MAC_CTX *h, unsigned char *key)
{
    OSSL_PARAM p[3];
    p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32);
    p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"sha256", 0);
    p[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(h, p);
}

/* Returns: 1 ticket made / accepted, 2 accepted but renew it, 0 unknown key
 * (full handshake), -1 error. */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx,
                     int enc)
{
    struct tls_slot *slot = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct tkey k[2];
    int n = tkeys_get(slot->x->ticket_rotate_ms, k);
    if (n == 0)
        return -1;
    if (enc) {
        if (RAND_bytes(iv, 16) != 1)
            return -1;
        memcpy(name, k[0].name, 16);
        if (EVP_EncryptInit_ex(ectx, ticket_cipher(), NULL, k[0].aes, iv) != 1 || set_mac_key(hctx, k[0].hmac) != 1)
            return -1;
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (memcmp(name, k[i].name, 16) != 0)
            continue;
        if (EVP_DecryptInit_ex(ectx, ticket_cipher(), NULL, k[i].aes, iv) != 1 || set_mac_key(hctx, k[i].hmac) != 1)
            return -1;
        return i == 0 ? 1 : 2;
    }
    return 0;
}

/* ---- callbacks ----------------------------------------------------------------- */

static int sni_cb(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    struct net_tls_ctx *x = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name || !name[0] || x->nslots < 2)
        return SSL_TLSEXT_ERR_OK;
    for (int i = 0; i < x->nslots; i++) {
        if (x->slots[i].leaf && X509_check_host(x->slots[i].leaf, name, strlen(name), 0, NULL) == 1) {
            if (i > 0)
                SSL_set_SSL_CTX(ssl, x->slots[i].ctx);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK; /* no match: the first certificate */
}

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    (void)ssl;
    struct net_tls_ctx *x = arg;
    unsigned char *o;
    if (x->alpn_len == 0 ||
        SSL_select_next_proto(&o, outlen, x->alpn, (unsigned)x->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static int ocsp_cb(SSL *ssl, void *arg)
{
    (void)arg;
    struct tls_slot *slot = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!slot || !slot->ocsp)
        return SSL_TLSEXT_ERR_NOACK;
    unsigned char *copy = OPENSSL_malloc(slot->ocsp_len);
    if (!copy)
        return SSL_TLSEXT_ERR_NOACK;
    memcpy(copy, slot->ocsp, slot->ocsp_len);
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)slot->ocsp_len);
    return SSL_TLSEXT_ERR_OK;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_START))
        return;
    struct net_tls_conn *c = SSL_get_app_data(ssl);
    /* TLS 1.3 has no renegotiation (KeyUpdate also starts a "handshake") */
    if (c && c->established && SSL_version(ssl) < TLS1_3_VERSION)
        c->reneg = true;
}

/* ---- contexts ------------------------------------------------------------------ */

static void ssl_err(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    char why[256] = "";
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "", why[0] ? why : "failed");
    ERR_clear_error();
}

static int read_file(const char *path, unsigned char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "tls-ocsp %s: cannot open", path);
        return -1;
    }
    unsigned char *b = xmalloc(TLS_OCSP_MAX);
    size_t n = fread(b, 1, TLS_OCSP_MAX, f);
    bool big = n == TLS_OCSP_MAX;
    fclose(f);
    if (n == 0 || big) {
        snprintf(err, errlen, "tls-ocsp %s: %s", path, n == 0 ? "empty" : "larger than 1 MiB");
        xfree(b);
        return -1;
    }
    *data = b;
    *len = n;
    return 0;
}

static int alpn_wire(struct net_tls_ctx *x, const char *list, char *err, size_t errlen)
{
    x->alpn_len = 0;
    if (!list)
        return 0;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *s = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        size_t l = (size_t)(p - s);
        if (!l)
            continue;
        if (l > 255 || x->alpn_len + 1 + l > sizeof x->alpn) {
            snprintf(err, errlen, "ALPN list too long");
            return -1;
        }
        x->alpn[x->alpn_len++] = (unsigned char)l;
        memcpy(x->alpn + x->alpn_len, s, l);
        x->alpn_len += l;
    }
    return 0;
}

static SSL_CTX *make_ctx(struct net_tls_ctx *x, struct tls_slot *slot, const struct net_tls_conf *c,
                         const struct net_tls_cert_conf *cc, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_err(err, errlen, "SSL_CTX_new", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, c->min_version >= 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION;
    if (c->ticket_rotate_ms <= 0)
        opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
    /* The chain sent is the one in the tls-cert file. Without this mode
     * OpenSSL tries to build one per handshake from the context's store when
     * the file holds the leaf only (an X509_STORE_CTX and a failed
     * X509_verify_cert each time); a server context's store is empty, so
     * that never added a certificate. */
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    /* no SSL_MODE_RELEASE_BUFFERS: freeing and taking OpenSSL's record
     * buffers on every read and write cost 1-2 us per request; an idle
     * connection gives them back through net_tls_conn_trim instead */
    if (c->ciphers && c->ciphers[0] && SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1) {
        ssl_err(err, errlen, "tls-ciphers", c->ciphers);
        goto fail;
    }
    if (c->ciphersuites && c->ciphersuites[0] && SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1) {
        ssl_err(err, errlen, "tls-ciphersuites", c->ciphersuites);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cc->cert) != 1) {
        ssl_err(err, errlen, "tls-cert", cc->cert);
        goto fail;
    }
    const char *key = cc->key && cc->key[0] ? cc->key : cc->cert;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_err(err, errlen, "tls-key", key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(err, errlen, "tls-key does not match tls-cert", cc->cert);
        goto fail;
    }
    if (c->session_cache > 0) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, (long)c->session_cache);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"scaleout", 8);
    if (c->ticket_rotate_ms > 0) {
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
        long life = (long)(2 * c->ticket_rotate_ms / 1000);
        SSL_CTX_set_timeout(ctx, life < 60 ? 60 : life);
    }
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, x);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, x);
    SSL_CTX_set_tlsext_status_cb(ctx, ocsp_cb);
    SSL_CTX_set_info_callback(ctx, info_cb);
    SSL_CTX_set_app_data(ctx, slot);
    slot->x = x;
    slot->ctx = ctx;
    slot->leaf = SSL_CTX_get0_certificate(ctx);
    if (cc->ocsp && cc->ocsp[0] && read_file(cc->ocsp, &slot->ocsp, &slot->ocsp_len, err, errlen) != 0)
        goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    slot->ctx = NULL;
    return NULL;
}

static void ctx_free(struct net_tls_ctx *x)
{
    for (int i = 0; i < x->nslots; i++) {
        SSL_CTX_free(x->slots[i].ctx);
        xfree(x->slots[i].ocsp);
    }
    xfree(x);
}

struct net_tls_ctx *net_tls_ctx_new(const struct net_tls_conf *c, char *err, size_t errlen)
{
    if (c->ncerts < 1 || c->ncerts > TLS_MAX_CERTS) {
        snprintf(err, errlen, "TLS needs 1..%d certificates (tls-cert), got %d", TLS_MAX_CERTS, c->ncerts);
        return NULL;
    }
    struct net_tls_ctx *x = xcalloc(1, sizeof *x);
    atomic_init(&x->refs, 1);
    atomic_init(&x->handshakes, 0);
    x->max_handshakes = c->max_handshakes;
    x->ticket_rotate_ms = c->ticket_rotate_ms > 0 ? c->ticket_rotate_ms : 3600000;
    if (alpn_wire(x, c->alpn, err, errlen) != 0) {
        xfree(x);
        return NULL;
    }
    for (int i = 0; i < c->ncerts; i++) {
        if (!make_ctx(x, &x->slots[i], c, &c->certs[i], err, errlen)) {
            ctx_free(x);
            return NULL;
        }
        x->nslots++;
    }
    return x;
}

struct net_tls_ctx *net_tls_client_ctx_new(const char *ca_file, bool verify, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ssl_err(err, errlen, "SSL_CTX_new", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (verify) {
        int ok = ca_file && ca_file[0] ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                                       : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            ssl_err(err, errlen, "backend-ca", ca_file && ca_file[0] ? ca_file : "(system store)");
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    struct net_tls_ctx *x = xcalloc(1, sizeof *x);
    atomic_init(&x->refs, 1);
    atomic_init(&x->handshakes, 0);
    x->slots[0].x = x;
    x->slots[0].ctx = ctx;
    x->nslots = 1;
    x->client = true;
    x->verify = verify;
    SSL_CTX_set_app_data(ctx, &x->slots[0]);
    return x;
}

void net_tls_ctx_ref(struct net_tls_ctx *x) { atomic_fetch_add(&x->refs, 1); }

void net_tls_ctx_unref(struct net_tls_ctx *x)
{
    if (x && atomic_fetch_sub(&x->refs, 1) == 1)
        ctx_free(x);
}

long long net_tls_ctx_handshakes(const struct net_tls_ctx *x) { return atomic_load(&x->handshakes); }

/* ---- the connection's BIO -------------------------------------------------------
 * One BIO for both directions, over the connection's own buffers: reads take
 * ciphertext straight from c->raw (where the role's socket read put it),
 * writes append records to c->wq, which net_tls_conn_output hands over
 * (swapped when the caller's buffer is empty: no copy). A memory BIO pair
 * would copy every byte once more each way. */

static int cbio_write(BIO *b, const char *data, size_t n, size_t *written)
{
    struct net_tls_conn *c = BIO_get_data(b);
    buf_append(&c->wq, data, n);
    *written = n;
    return 1;
}

static int cbio_read(BIO *b, char *data, size_t n, size_t *got)
{
    struct net_tls_conn *c = BIO_get_data(b);
    size_t have = buf_pending(&c->raw);
    BIO_clear_retry_flags(b);
    if (have == 0) {
        BIO_set_retry_read(b);
        *got = 0;
        return 0;
    }
    if (n > have)
        n = have;
    memcpy(data, buf_head(&c->raw), n);
    buf_consume(&c->raw, n);
    *got = n;
    return 1;
}

static long cbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    struct net_tls_conn *c = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return c ? (long)buf_pending(&c->raw) : 0;
    case BIO_CTRL_WPENDING:
        return c ? (long)buf_pending(&c->wq) : 0;
    default:
        return 0;
    }
}

static BIO_METHOD *cbio_method;
static pthread_once_t cbio_once = PTHREAD_ONCE_INIT;

static void cbio_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "scaleout-buf");
    if (!m)
        return;
    BIO_meth_set_write_ex(m, cbio_write);
    BIO_meth_set_read_ex(m, cbio_read);
    BIO_meth_set_ctrl(m, cbio_ctrl);
    cbio_method = m;
}

/* ---- connections ------------------------------------------------------------ */

int net_tls_conn_init(struct net_tls_conn *c, struct net_tls_ctx *x)
{
    memset(c, 0, sizeof *c);
    if (x->max_handshakes > 0 && atomic_fetch_add(&x->handshakes, 1) >= x->max_handshakes) {
        atomic_fetch_sub(&x->handshakes, 1);
        return NET_TLS_E_BUSY;
    }
    if (x->max_handshakes <= 0)
        atomic_fetch_add(&x->handshakes, 1);
    pthread_once(&cbio_once, cbio_init);
    SSL *ssl = SSL_new(x->slots[0].ctx);
    BIO *b = cbio_method ? BIO_new(cbio_method) : NULL;
    if (!ssl || !b) {
        SSL_free(ssl);
        BIO_free(b);
        atomic_fetch_sub(&x->handshakes, 1);
        return NET_TLS_E_PROTO;
    }
    BIO_set_data(b, c);
    BIO_set_init(b, 1);
    SSL_set_bio(ssl, b, b); /* the same BIO both ways: SSL takes our one reference */
    SSL_set_accept_state(ssl);
    SSL_set_app_data(ssl, c);
    net_tls_ctx_ref(x);
    c->ssl = ssl;
    c->bio = b;
    c->ctx = x;
    c->counted = true;
    buf_init(&c->raw);
    buf_init(&c->wq);
    return 0;
}

int net_tls_conn_init_client(struct net_tls_conn *c, struct net_tls_ctx *x, const char *host)
{
    if (!x->client || net_tls_conn_init(c, x) != 0)
        return NET_TLS_E_PROTO;
    SSL *ssl = c->ssl;
    SSL_set_connect_state(ssl);
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    int ok = 1;
    if (!is_ip && host[0])
        ok = SSL_set_tlsext_host_name(ssl, host);
    if (ok == 1 && x->verify && host[0])
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host);
    if (ok != 1) {
        ERR_clear_error();
        net_tls_conn_deinit(c);
        return NET_TLS_E_PROTO;
    }
    SSL_do_handshake(ssl); /* queues the ClientHello */
    ERR_clear_error();
    return 0;
}

static void uncount(struct net_tls_conn *c)
{
    if (c->counted) {
        c->counted = false;
        atomic_fetch_sub(&c->ctx->handshakes, 1);
    }
}

void net_tls_conn_deinit(struct net_tls_conn *c)
{
    if (!c->ssl)
        return;
    uncount(c);
    SSL_free(c->ssl); /* frees both BIOs */
    c->ssl = NULL;
    net_tls_ctx_unref(c->ctx);
    c->ctx = NULL;
    buf_deinit(&c->raw);
    buf_deinit(&c->wq);
}

long net_tls_conn_input(struct net_tls_conn *c, struct buf *plain)
{
    SSL *ssl = c->ssl;
    if (c->closed)
        return NET_TLS_E_CLOSED;
    if (!c->established) {
        int r = SSL_do_handshake(ssl);
        if (r != 1) {
            int e = SSL_get_error(ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            ERR_clear_error();
            return NET_TLS_E_PROTO;
        }
        c->established = true;
        c->resumed = SSL_session_reused(ssl) == 1;
        uncount(c);
    }
    long total = 0;
    for (;;) {
        buf_reserve(plain, 4096);
        size_t room = buf_room(plain);
        int r = SSL_read(ssl, buf_tail(plain), room > INT_MAX ? INT_MAX : (int)room);
        if (r > 0) {
            plain->len += (size_t)r;
            total += r;
            /* every ciphertext byte taken and no plaintext left over: another
             * SSL_read would only say WANT_READ (~1,000 instructions) */
            if (buf_pending(&c->raw) == 0 && !SSL_has_pending(ssl))
                break;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        ERR_clear_error();
        if (e == SSL_ERROR_ZERO_RETURN) {
            c->closed = true;
            break;
        }
        return NET_TLS_E_PROTO;
    }
    if (c->reneg)
        return NET_TLS_E_RENEG;
    if (total == 0 && c->closed)
        return NET_TLS_E_CLOSED;
    return total;
}

int net_tls_conn_output(struct net_tls_conn *c, struct buf *plain, struct buf *out)
{
    SSL *ssl = c->ssl;
    while (c->established && !c->closed && plain && buf_pending(plain) > 0) {
        size_t n = buf_pending(plain);
        int r = SSL_write(ssl, buf_head(plain), n > (1u << 30) ? (1 << 30) : (int)n);
        if (r <= 0) {
            int e = SSL_get_error(ssl, r);
            ERR_clear_error();
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                break;
            return NET_TLS_E_PROTO;
        }
        buf_consume(plain, (size_t)r);
    }
    size_t p = buf_pending(&c->wq);
    if (p == 0)
        return 0;
    if (buf_pending(out) == 0) {
        struct buf t = *out; /* no copy: the queue becomes the output */
        *out = c->wq;
        c->wq = t;
        c->wq.off = c->wq.len = 0;
    } else {
        buf_append(out, buf_head(&c->wq), p);
        c->wq.off = c->wq.len = 0;
    }
    return 0;
}

void net_tls_conn_trim(struct net_tls_conn *c)
{
    if (buf_pending(&c->raw) == 0)
        buf_shrink(&c->raw, 0);
    if (buf_pending(&c->wq) == 0)
        buf_shrink(&c->wq, 0);
    if (c->ssl && !SSL_free_buffers(c->ssl)) /* refuses while a record is half read or written */
        ERR_clear_error();
}

void net_tls_conn_shutdown(struct net_tls_conn *c)
{
    if (c->ssl && c->established && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
}

const char *net_tls_conn_alpn(const struct net_tls_conn *c, char *buf, size_t len)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    if (c->ssl)
        SSL_get0_alpn_selected(c->ssl, &p, &n);
    snprintf(buf, len, "%.*s", (int)n, p ? (const char *)p : "");
    return buf;
}
