/*
 * tls.c — TLS on a pg_conn over net/tls (see tls.h):
 *
 *   socket ──ciphertext──▶ raw ──▶ net_tls_conn.raw ─(net_tls_conn_input)─▶ plain in
 *   out ──▶ t->plain ─(net_tls_conn_output)─▶ out (ciphertext) ──▶ socket
 *
 * Plaintext written before the handshake ends waits in `plain` (net/tls
 * encrypts only once established).
 */
#include "pg/tls.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/ssl.h>

#include "core/alloc.h"
#include "net/tls.h"

struct pg_tls {
    struct net_tls_conn conn;
    struct buf plain;   /* plaintext not yet encrypted (the handshake is not done) */
};

struct net_tls_ctx *pg_tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen)
{
    struct net_tls_cert_conf cc = {.cert = (char *)cert, .key = (char *)key, .ocsp = NULL};
    struct net_tls_conf conf = {
        .certs = &cc,
        .ncerts = 1,
        .min_version = 12,
        .ticket_rotate_ms = 3600 * 1000,  /* session tickets on, keys rotate hourly */
        .session_cache = 0,
        .max_handshakes = 0,
        .alpn = NULL,
    };
    return net_tls_ctx_new(&conf, err, errlen);
}

void pg_tls_ctx_free(struct net_tls_ctx *ctx)
{
    if (ctx)
        net_tls_ctx_unref(ctx);
}

struct pg_tls *pg_tls_new(struct net_tls_ctx *ctx)
{
    struct pg_tls *t = xcalloc(1, sizeof *t);
    if (net_tls_conn_init(&t->conn, ctx) != 0) {
        xfree(t);
        return NULL;
    }
    buf_init(&t->plain);
    return t;
}

void pg_tls_free(struct pg_tls *t)
{
    if (!t)
        return;
    net_tls_conn_deinit(&t->conn);
    buf_deinit(&t->plain);
    xfree(t);
}

int pg_tls_input(struct pg_tls *t, struct buf *raw, struct buf *plain)
{
    if (buf_pending(raw)) {
        buf_append(&t->conn.raw, buf_head(raw), buf_pending(raw));
        buf_consume(raw, buf_pending(raw));
    }
    long n = net_tls_conn_input(&t->conn, plain);
    if (n < 0)
        return -1; /* garbage, a failed handshake, renegotiation, or close_notify: the owner closes */
    return n > 0;
}

int pg_tls_output(struct pg_tls *t, struct buf *out)
{
    if (buf_pending(out)) {
        if (buf_pending(&t->plain) == 0) {
            struct buf tmp = t->plain; /* no copy: the owner's plaintext becomes ours */
            t->plain = *out;
            *out = tmp;
        } else {
            buf_append(&t->plain, buf_head(out), buf_pending(out));
        }
        out->off = out->len = 0;
    }
    return net_tls_conn_output(&t->conn, &t->plain, out) == 0 ? 0 : -1;
}

void pg_tls_describe(const struct pg_tls *t, char *out, size_t len)
{
    if (!t || !t->conn.established || !t->conn.ssl) {
        snprintf(out, len, "%s", "");
        return;
    }
    SSL *ssl = t->conn.ssl;
    snprintf(out, len, "%s/%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}
