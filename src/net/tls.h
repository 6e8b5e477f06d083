/*
 * tls.h — TLS for any role that owns its sockets, server side (termination)
 * and client side (towards backends), without socket I/O of its own
 * (lb today; router and pg could use it the same way).
 *
 * The role keeps doing its own socket I/O (libuv): ciphertext it reads is fed
 * to net_tls_conn_input, which appends the plaintext to the role's input
 * buffer; plaintext it wants to send goes through net_tls_conn_output, which
 * turns it into ciphertext in the role's output buffer. So the protocol code
 * above (HTTP parsing, tunnels) works on plaintext buffers as before.
 *
 *   socket ─read─▶ c->raw ─(BIO)─SSL_read─▶ plaintext buffer
 *   plaintext ─SSL_write─(BIO)─▶ c->wq ─(swapped)─▶ ciphertext buffer ─write─▶ socket
 *
 * The BIO is the connection's own (a source/sink BIO_METHOD over those two
 * buffers): the same thing as a BIO_s_mem pair without one copy each way.
 *
 * A context (struct net_tls_ctx) is built from settings: one SSL_CTX per
 * certificate (SNI picks the one whose certificate matches the server name,
 * else the first), TLS 1.2/1.3 only, modern ciphers, ALPN, OCSP staple bytes
 * from a file, a server session cache, and session tickets whose keys rotate
 * (process-wide keys, so tickets survive a reload). Contexts are reference
 * counted: a reload builds a new one for new connections while established
 * connections keep theirs.
 */
#ifndef SCALEOUT_NET_TLS_H
#define SCALEOUT_NET_TLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct net_tls_cert_conf {
    char *cert;                     /* PEM: certificate (+ chain), maybe the key too */
    char *key;                      /* PEM key; NULL: in the cert file */
    char *ocsp;                     /* DER OCSP response to staple; NULL: none */
};

struct net_tls_conf {
    const struct net_tls_cert_conf *certs;
    int ncerts;
    const char *ciphers;            /* TLS 1.2 cipher list */
    const char *ciphersuites;       /* TLS 1.3 suites */
    int min_version;                /* 12 or 13 */
    long long ticket_rotate_ms;     /* ticket key lifetime; 0: no tickets */
    long long session_cache;        /* server session cache entries; 0: off */
    long long max_handshakes;       /* handshakes in progress at once (0: no bound) */
    const char *alpn;               /* protocols offered, comma separated ("http/1.1") */
};

struct net_tls_ctx;

/* Build a context. NULL with a message in err (file name and OpenSSL's reason). */
struct net_tls_ctx *net_tls_ctx_new(const struct net_tls_conf *c, char *err, size_t errlen);
void net_tls_ctx_ref(struct net_tls_ctx *x);
void net_tls_ctx_unref(struct net_tls_ctx *x);
/* A client context, for TLS towards servers: TLS 1.2+, the server's
 * certificate verified against ca_file (NULL or "": the system's store) and
 * the name given to net_tls_conn_init_client, unless verify is false. */
struct net_tls_ctx *net_tls_client_ctx_new(const char *ca_file, bool verify, char *err, size_t errlen);
/* Handshakes in progress on x (all threads). */
long long net_tls_ctx_handshakes(const struct net_tls_ctx *x);

/* Errors of the connection calls. */
enum {
    NET_TLS_E_PROTO = -1,           /* garbage, a failed handshake, a fatal alert */
    NET_TLS_E_RENEG = -2,           /* the client tried to renegotiate */
    NET_TLS_E_CLOSED = -3,          /* the peer sent close_notify */
    NET_TLS_E_BUSY = -4,            /* too many handshakes in progress (init) */
};

struct net_tls_conn {
    void *ssl;                      /* SSL * */
    void *bio;                      /* BIO * over raw (in) and wq (out) */
    struct net_tls_ctx *ctx;        /* a reference */
    struct buf raw;                 /* ciphertext read from the socket (the role reads into it) */
    struct buf wq;                  /* ciphertext OpenSSL wrote, not yet handed over */
    bool established, counted, reneg, closed;
    bool resumed;                   /* the handshake resumed a session (ticket or cache) */
};

/* Start a server-side connection on x (takes a reference). Returns 0, or
 * NET_TLS_E_BUSY when max-handshakes are in progress (c is left empty). */
int net_tls_conn_init(struct net_tls_conn *c, struct net_tls_ctx *x);
/* Start a client connection on a client context: host is sent as SNI (unless
 * an IP literal) and checked against the certificate (as a name or an IP).
 * The ClientHello is queued: net_tls_conn_output sends it. Returns 0 or
 * NET_TLS_E_PROTO. */
int net_tls_conn_init_client(struct net_tls_conn *c, struct net_tls_ctx *x, const char *host);
void net_tls_conn_deinit(struct net_tls_conn *c);
/* Feed the n ciphertext bytes at the head of c->raw (consumed), append the
 * plaintext to plain. Returns the plaintext byte count (>= 0) or NET_TLS_E_*.
 * Handshake messages to send are left in the write BIO: call
 * net_tls_conn_output afterwards even when plain is empty. */
long net_tls_conn_input(struct net_tls_conn *c, struct buf *plain);
/* Encrypt all of plain (consumed; only once established, else kept) and
 * append every pending ciphertext byte to out. Returns 0 or NET_TLS_E_PROTO. */
int net_tls_conn_output(struct net_tls_conn *c, struct buf *plain, struct buf *out);
/* Free the buffers a connection keeps between records (ours and OpenSSL's;
 * taken again on the next read or write): for connections idle a while. */
void net_tls_conn_trim(struct net_tls_conn *c);
/* Queue a close_notify (sent by the next net_tls_conn_output). */
void net_tls_conn_shutdown(struct net_tls_conn *c);
/* ALPN protocol chosen ("" none), SNI name ("" none), protocol version, resumed. */
const char *net_tls_conn_alpn(const struct net_tls_conn *c, char *buf, size_t len);

#endif
