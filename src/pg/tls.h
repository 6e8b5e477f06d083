/*
 * tls.h — TLS for client connections of the pg role: a thin adapter that puts
 * net/tls (the TLS layer every role shares) under a pg_conn.
 *
 * After the proxy answered an SSLRequest with 'S', pg_tls_start() puts a
 * pg_conn in TLS mode: from then on conn.c passes every byte read through
 * net/tls (ciphertext in, plaintext into conn->in) and encrypts `out` when it
 * flushes. The owner keeps reading `in` and appending to `out` as before.
 */
#ifndef SCALEOUT_PG_TLS_H
#define SCALEOUT_PG_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct pg_conn;
struct net_tls_ctx;

/* A server-side context from a PEM certificate chain and key (TLS 1.2+);
 * NULL with a message in err on failure. */
struct net_tls_ctx *pg_tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen);
void pg_tls_ctx_free(struct net_tls_ctx *ctx);

/* Start the server side of a handshake on c, an accepted connection whose
 * SSLRequest was answered 'S'. 0, or -1. */
int pg_tls_start(struct pg_conn *c, struct net_tls_ctx *ctx);

/* conn.c's hooks. */
/* Ciphertext read into raw (consumed): decrypt into c->in. Returns 1 when
 * plaintext arrived, 0 when not, -1 on a TLS error or the peer's close_notify. */
int pg_tls_on_read(struct pg_conn *c, struct buf *raw);
/* Encrypt c->out (plaintext) and leave the ciphertext, with any handshake
 * bytes, in c->out. -1 on error. */
int pg_tls_encrypt(struct pg_conn *c);
void pg_tls_free(struct pg_conn *c);

#endif
