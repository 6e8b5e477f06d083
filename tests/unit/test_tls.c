/*
 * test_tls.c — net/tls.c without sockets: an OpenSSL client over memory BIOs
 * talks to a net_tls_conn, bytes moved by hand. Certificates are made in the
 * test (EC P-256, self-signed) and written to a temp dir. Covers: handshake
 * and data both ways, ALPN, SNI picking the certificate, garbage, the minimum
 * version, the handshake bound, config errors naming the file, close_notify.
 * (Resumption, tickets and their rotation are checked end to end with
 * openssl s_client in tests/integration/test_lb_tls.py.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "net/tls.h"

static char dir[64];
static char certa[128], keya[128], certb[128], keyb[128];

static void make_cert(const char *name, const char *cert, const char *key)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    cr_assert(pk);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(name[0]));
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, n);
    char san[128];
    snprintf(san, sizeof san, "DNS:%s", name);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    cr_assert(X509_sign(x, pk, EVP_sha256()));
    FILE *f = fopen(cert, "w");
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key, "w");
    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_tls.XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(certa, sizeof certa, "%s/a.pem", dir);
    snprintf(keya, sizeof keya, "%s/a.key", dir);
    snprintf(certb, sizeof certb, "%s/b.pem", dir);
    snprintf(keyb, sizeof keyb, "%s/b.key", dir);
    make_cert("a.test", certa, keya);
    make_cert("b.test", certb, keyb);
}

static void teardown(void)
{
    unlink(certa);
    unlink(keya);
    unlink(certb);
    unlink(keyb);
    rmdir(dir);
}

TestSuite(tls, .init = setup, .fini = teardown);

static struct net_tls_ctx *server_ctx(int min_version, long long max_hs)
{
    struct net_tls_cert_conf certs[2] = {{certa, keya, NULL}, {certb, keyb, NULL}};
    struct net_tls_conf c = {
        .certs = certs, .ncerts = 2, .ciphers = NULL, .ciphersuites = NULL, .min_version = min_version,
        .ticket_rotate_ms = 3600000, .session_cache = 100, .max_handshakes = max_hs, .alpn = "http/1.1",
    };
    char err[256];
    struct net_tls_ctx *x = net_tls_ctx_new(&c, err, sizeof err);
    cr_assert(x, "%s", err);
    return x;
}

struct client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;
};

static void client_init(struct client *k, const char *sni, int max_version)
{
    static SSL_CTX *shared; /* one client context: sessions resume across its connections */
    if (!shared)
        shared = SSL_CTX_new(TLS_client_method());
    SSL_CTX_up_ref(shared);
    k->ctx = max_version ? SSL_CTX_new(TLS_client_method()) : shared;
    if (max_version)
        SSL_CTX_free(shared);
    if (max_version)
        SSL_CTX_set_max_proto_version(k->ctx, max_version);
    SSL_CTX_set_verify(k->ctx, SSL_VERIFY_NONE, NULL);
    k->ssl = SSL_new(k->ctx);
    k->rbio = BIO_new(BIO_s_mem());
    k->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(k->rbio, -1);
    SSL_set_bio(k->ssl, k->rbio, k->wbio);
    SSL_set_connect_state(k->ssl);
    if (sni)
        SSL_set_tlsext_host_name(k->ssl, sni);
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    SSL_set_alpn_protos(k->ssl, alpn, sizeof alpn - 1);
}

static void client_free(struct client *k)
{
    SSL_free(k->ssl);
    SSL_CTX_free(k->ctx);
}

/* Move bytes both ways until nothing moves; server plaintext into plain.
 * Returns the last server input result. */
static long pump(struct client *k, struct net_tls_conn *c, struct buf *plain)
{
    long rc = 0;
    for (int round = 0; round < 20; round++) {
        SSL_do_handshake(k->ssl);
        char tmp[16384];
        int n, moved = 0;
        while ((n = BIO_read(k->wbio, tmp, sizeof tmp)) > 0) {
            buf_append(&c->raw, tmp, (size_t)n);
            moved = 1;
        }
        if (moved) {
            rc = net_tls_conn_input(c, plain);
            if (rc < 0)
                return rc;
        }
        struct buf out;
        buf_init(&out);
        net_tls_conn_output(c, NULL, &out);
        if (buf_pending(&out)) {
            BIO_write(k->rbio, buf_head(&out), (int)buf_pending(&out));
            moved = 1;
        }
        buf_deinit(&out);
        if (!moved)
            break;
    }
    return rc;
}

Test(tls, handshake_data_alpn)
{
    struct net_tls_ctx *x = server_ctx(12, 0);
    struct net_tls_conn c;
    cr_assert_eq(net_tls_conn_init(&c, x), 0);
    cr_assert_eq(net_tls_ctx_handshakes(x), 1);
    struct client k;
    client_init(&k, "a.test", 0);
    struct buf plain;
    buf_init(&plain);
    cr_assert_geq(pump(&k, &c, &plain), 0);
    cr_assert(c.established);
    cr_assert(SSL_is_init_finished(k.ssl));
    cr_assert_eq(net_tls_ctx_handshakes(x), 0, "a finished handshake no longer counts");
    char a[32];
    cr_assert_str_eq(net_tls_conn_alpn(&c, a, sizeof a), "http/1.1");
    cr_assert_eq(SSL_version(k.ssl), TLS1_3_VERSION);

    SSL_write(k.ssl, "GET / HTTP/1.1\r\n\r\n", 18);
    cr_assert_gt(pump(&k, &c, &plain), 0);
    cr_assert_eq(buf_pending(&plain), 18);
    cr_assert_eq(memcmp(buf_head(&plain), "GET / HTTP/1.1\r\n\r\n", 18), 0);

    struct buf resp, out;
    buf_init(&resp);
    buf_init(&out);
    buf_puts(&resp, "HTTP/1.1 200 OK\r\n\r\n");
    cr_assert_eq(net_tls_conn_output(&c, &resp, &out), 0);
    cr_assert_eq(buf_pending(&resp), 0, "all plaintext taken");
    BIO_write(k.rbio, buf_head(&out), (int)buf_pending(&out));
    char got[64];
    int n = SSL_read(k.ssl, got, sizeof got);
    cr_assert_eq(n, 19);
    cr_assert_eq(memcmp(got, "HTTP/1.1 200 OK\r\n\r\n", 19), 0);

    /* close_notify from the client: NET_TLS_E_CLOSED */
    SSL_shutdown(k.ssl);
    cr_assert_eq(pump(&k, &c, &plain), NET_TLS_E_CLOSED);
    buf_deinit(&resp);
    buf_deinit(&out);
    buf_deinit(&plain);
    client_free(&k);
    net_tls_conn_deinit(&c);
    net_tls_ctx_unref(x);
}

/* net_tls_conn_trim between requests frees the buffers; the next request and
 * answer go through as before. */
Test(tls, trim_between_requests)
{
    struct net_tls_ctx *x = server_ctx(12, 0);
    struct net_tls_conn c;
    cr_assert_eq(net_tls_conn_init(&c, x), 0);
    struct client k;
    client_init(&k, "a.test", 0);
    struct buf plain, resp, out;
    buf_init(&plain);
    buf_init(&resp);
    buf_init(&out);
    cr_assert_geq(pump(&k, &c, &plain), 0);
    cr_assert(c.established);
    for (int i = 0; i < 3; i++) {
        SSL_write(k.ssl, "GET / HTTP/1.1\r\n\r\n", 18);
        cr_assert_gt(pump(&k, &c, &plain), 0);
        cr_assert_eq(buf_pending(&plain), 18);
        buf_consume(&plain, 18);
        cr_assert_gt(c.raw.cap, 0, "the ciphertext buffer is kept between reads");
        net_tls_conn_trim(&c);
        cr_assert_eq(c.raw.cap, 0, "trim frees it");
        cr_assert_eq(c.wq.cap, 0);
        buf_puts(&resp, "HTTP/1.1 200 OK\r\n\r\n");
        cr_assert_eq(net_tls_conn_output(&c, &resp, &out), 0);
        BIO_write(k.rbio, buf_head(&out), (int)buf_pending(&out));
        buf_consume(&out, buf_pending(&out));
        char got[64];
        cr_assert_eq(SSL_read(k.ssl, got, sizeof got), 19);
        cr_assert_eq(memcmp(got, "HTTP/1.1 200 OK\r\n\r\n", 19), 0);
        net_tls_conn_trim(&c);
    }
    buf_deinit(&resp);
    buf_deinit(&out);
    buf_deinit(&plain);
    client_free(&k);
    net_tls_conn_deinit(&c);
    net_tls_ctx_unref(x);
}

static char *peer_cn(struct client *k, char *buf, size_t len)
{
    X509 *p = SSL_get1_peer_certificate(k->ssl);
    cr_assert(p);
    X509_NAME_get_text_by_NID(X509_get_subject_name(p), NID_commonName, buf, (int)len);
    X509_free(p);
    return buf;
}

Test(tls, sni_picks_certificate)
{
    struct net_tls_ctx *x = server_ctx(12, 0);
    const char *names[] = {"b.test", "a.test", "other.test", NULL};
    const char *want[] = {"b.test", "a.test", "a.test", "a.test"};
    for (int i = 0; i < 4; i++) {
        struct net_tls_conn c;
        cr_assert_eq(net_tls_conn_init(&c, x), 0);
        struct client k;
        client_init(&k, names[i], 0);
        struct buf plain;
        buf_init(&plain);
        cr_assert_geq(pump(&k, &c, &plain), 0);
        char cn[64];
        cr_assert_str_eq(peer_cn(&k, cn, sizeof cn), want[i], "SNI %s", names[i] ? names[i] : "(none)");
        buf_deinit(&plain);
        client_free(&k);
        net_tls_conn_deinit(&c);
    }
    net_tls_ctx_unref(x);
}

Test(tls, garbage_and_min_version)
{
    struct net_tls_ctx *x = server_ctx(13, 0);
    struct net_tls_conn c;
    cr_assert_eq(net_tls_conn_init(&c, x), 0);
    struct buf plain;
    buf_init(&plain);
    buf_puts(&c.raw, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    cr_assert_eq(net_tls_conn_input(&c, &plain), NET_TLS_E_PROTO);
    cr_assert_eq(buf_pending(&plain), 0);
    net_tls_conn_deinit(&c);

    /* a TLS 1.2 client against tls-min-version 1.3 */
    cr_assert_eq(net_tls_conn_init(&c, x), 0);
    struct client k;
    client_init(&k, "a.test", TLS1_2_VERSION);
    cr_assert_eq(pump(&k, &c, &plain), NET_TLS_E_PROTO);
    cr_assert_not(c.established);
    client_free(&k);
    net_tls_conn_deinit(&c);
    buf_deinit(&plain);
    net_tls_ctx_unref(x);
}

Test(tls, handshake_bound)
{
    struct net_tls_ctx *x = server_ctx(12, 2);
    struct net_tls_conn a, b, c;
    cr_assert_eq(net_tls_conn_init(&a, x), 0);
    cr_assert_eq(net_tls_conn_init(&b, x), 0);
    cr_assert_eq(net_tls_conn_init(&c, x), NET_TLS_E_BUSY);
    net_tls_conn_deinit(&c); /* harmless on a refused one */
    net_tls_conn_deinit(&a);
    cr_assert_eq(net_tls_conn_init(&c, x), 0);
    cr_assert_eq(net_tls_ctx_handshakes(x), 2);
    net_tls_conn_deinit(&b);
    net_tls_conn_deinit(&c);
    cr_assert_eq(net_tls_ctx_handshakes(x), 0);
    net_tls_ctx_unref(x);
}

Test(tls, config_errors)
{
    char err[256];
    struct net_tls_cert_conf bad[1] = {{"/nonexistent/cert.pem", NULL, NULL}};
    struct net_tls_conf c = {.certs = bad, .ncerts = 1, .min_version = 12};
    cr_assert_null(net_tls_ctx_new(&c, err, sizeof err));
    cr_assert(strstr(err, "/nonexistent/cert.pem"), "%s", err);
    struct net_tls_cert_conf mismatch[1] = {{certa, keyb, NULL}};
    c.certs = mismatch;
    cr_assert_null(net_tls_ctx_new(&c, err, sizeof err));
    cr_assert(strstr(err, "b.key") || strstr(err, "does not match"), "%s", err);
    struct net_tls_cert_conf ok[1] = {{certa, keya, NULL}};
    c.certs = ok;
    c.ciphers = "NO-SUCH-CIPHER";
    cr_assert_null(net_tls_ctx_new(&c, err, sizeof err));
    cr_assert(strstr(err, "tls-ciphers"), "%s", err);
    c.ciphers = NULL;
    c.ncerts = 0;
    cr_assert_null(net_tls_ctx_new(&c, err, sizeof err));
}
