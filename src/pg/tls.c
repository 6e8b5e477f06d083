/*
 * tls.c — TLS on a pg_conn with OpenSSL memory BIOs (see tls.h).
 *
 *   socket ──ciphertext──▶ rbio ─SSL_read─▶ conn->in   (plaintext for the owner)
 *   conn->out ─SSL_write─▶ wbio ──ciphertext──▶ conn->out ──▶ socket
 * Plaintext written before the handshake ends waits in `plain`.
 */
#include "pg/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

#include "core/alloc.h"
#include "pg/conn.h"

#define TLS_CHUNK (16 * 1024)

struct pg_tls {
    SSL *ssl;
    BIO *rbio, *wbio;   /* owned by ssl */
    bool ready;         /* handshake done */
    struct buf plain;   /* plaintext waiting for the handshake */
};

SSL_CTX *pg_tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "SSL_CTX_new failed");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "cannot load the certificate %s: %s", cert, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "cannot load the key %s (or it does not match the certificate): %s", key,
                 ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void pg_tls_ctx_free(SSL_CTX *ctx)
{
    if (ctx)
        SSL_CTX_free(ctx);
}

int pg_tls_start(struct pg_conn *c, SSL_CTX *ctx)
{
    struct pg_tls *t = xcalloc(1, sizeof *t);
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        if (t->ssl)
            SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        xfree(t);
        return -1;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    buf_init(&t->plain);
    c->tls = t;
    return 0;
}

void pg_tls_free(struct pg_conn *c)
{
    struct pg_tls *t = c->tls;
    if (!t)
        return;
    SSL_free(t->ssl);
    buf_deinit(&t->plain);
    xfree(t);
    c->tls = NULL;
}

int pg_tls_on_read(struct pg_conn *c, struct buf *raw)
{
    struct pg_tls *t = c->tls;
    while (buf_pending(raw)) {
        int n = BIO_write(t->rbio, buf_head(raw), (int)buf_pending(raw));
        if (n <= 0)
            return -1;
        buf_consume(raw, (size_t)n);
    }
    if (!t->ready) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            ERR_clear_error();
            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
        }
        t->ready = true;
    }
    int got = 0;
    for (;;) {
        buf_reserve(&c->in, TLS_CHUNK);
        int n = SSL_read(t->ssl, buf_tail(&c->in), (int)buf_room(&c->in));
        if (n > 0) {
            c->in.len += (size_t)n;
            got = 1;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return got;
        return got ? got : -1; /* close_notify or an error: the owner sees EOF next */
    }
}

int pg_tls_encrypt(struct pg_conn *c)
{
    struct pg_tls *t = c->tls;
    if (buf_pending(&c->out)) {
        buf_append(&t->plain, buf_head(&c->out), buf_pending(&c->out));
        c->out.off = c->out.len = 0;
    }
    while (t->ready && buf_pending(&t->plain)) {
        int n = SSL_write(t->ssl, buf_head(&t->plain), (int)buf_pending(&t->plain));
        if (n <= 0) {
            ERR_clear_error();
            return -1; /* memory BIOs take everything: anything else is an error */
        }
        buf_consume(&t->plain, (size_t)n);
    }
    size_t pend;
    while ((pend = BIO_ctrl_pending(t->wbio)) > 0) {
        buf_reserve(&c->out, pend);
        int n = BIO_read(t->wbio, buf_tail(&c->out), (int)pend);
        if (n <= 0)
            return -1;
        c->out.len += (size_t)n;
    }
    return 0;
}
