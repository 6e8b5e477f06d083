/*
 * tls.h — TLS for client connections of the pg role (OpenSSL, memory BIOs).
 *
 * After the proxy answered an SSLRequest with 'S', pg_tls_start() puts a
 * pg_conn in TLS mode: from then on conn.c passes every byte read through
 * OpenSSL (ciphertext in, plaintext into conn->in) and encrypts `out` when it
 * flushes. The owner keeps reading `in` and appending to `out` as before.
 */
#ifndef SCALEOUT_PG_TLS_H
#define SCALEOUT_PG_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct pg_conn;
struct ssl_ctx_st;

/* A server-side context from a PEM certificate chain and key; NULL with a
 * message in err on failure. */
struct ssl_ctx_st *pg_tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen);
void pg_tls_ctx_free(struct ssl_ctx_st *ctx);

/* Start the server side of a handshake on c. 0, or -1. */
int pg_tls_start(struct pg_conn *c, struct ssl_ctx_st *ctx);

/* conn.c's hooks. */
/* Ciphertext read into raw: decrypt into c->in. Returns 1 when plaintext
 * arrived, 0 when not, -1 on a TLS error or the peer's close_notify. */
int pg_tls_on_read(struct pg_conn *c, struct buf *raw);
/* Encrypt c->out (plaintext) and leave the ciphertext, with any handshake
 * bytes, in c->out. -1 on error. */
int pg_tls_encrypt(struct pg_conn *c);
void pg_tls_free(struct pg_conn *c);

#endif
