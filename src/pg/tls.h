/*
 * tls.h — TLS for client connections of the pg role: a thin adapter that puts
 * net/tls (the TLS layer every role shares) under a pg_conn.
 *
 * After the proxy answered an SSLRequest with 'S', pg_conn_tls_start()
 * (conn.c) puts a pg_conn in TLS mode with a pg_tls from here: from then on
 * conn.c passes every byte read through pg_tls_input (ciphertext in,
 * plaintext into conn->in) and pg_tls_output encrypts `out` when it flushes.
 * The owner keeps reading `in` and appending to `out` as before.
 *
 * Knows buffers, not connections: conn.c includes this header, not the
 * other way round.
 */
#ifndef SCALEOUT_PG_TLS_H
#define SCALEOUT_PG_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct net_tls_ctx;
struct pg_tls;

/* A server-side context from a PEM certificate chain and key (TLS 1.2+);
 * NULL with a message in err on failure. */
struct net_tls_ctx *pg_tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen);
void pg_tls_ctx_free(struct net_tls_ctx *ctx);

/* The server side of a handshake, for an accepted connection whose
 * SSLRequest was answered 'S'; NULL on failure. */
struct pg_tls *pg_tls_new(struct net_tls_ctx *ctx);
void pg_tls_free(struct pg_tls *t);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384" once the handshake is done, else "" (SHOW CLIENTS). */
void pg_tls_describe(const struct pg_tls *t, char *out, size_t len);

/* Ciphertext read into raw (consumed): decrypt into plain. Returns 1 when
 * plaintext arrived, 0 when not, -1 on a TLS error or the peer's close_notify. */
int pg_tls_input(struct pg_tls *t, struct buf *raw, struct buf *plain);
/* Encrypt the plaintext in out and leave the ciphertext, with any handshake
 * bytes, in out. -1 on error. */
int pg_tls_output(struct pg_tls *t, struct buf *out);

#endif
