/*
 * tls.c — the lb's TLS settings (see tls.h). A listener with at least one
 * tls-cert terminates TLS; tls-key and tls-ocsp attach to the tls-cert given
 * last, so `--tls-cert a.pem --tls-key a.key --tls-cert b.pem --tls-key b.key`
 * reads naturally as flags and as file lines. The context is built when the
 * configuration is validated: `scaleout check` and a SIGHUP reload with a
 * broken certificate fail there and the running listeners keep their context.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "lb/tls.h"

int lb_tls_parse_cert(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct lb_listener_conf *l = conf;
    if (argc < 1 || argc > 2 || !argv[0][0]) {
        snprintf(err, errlen, "'tls-cert' takes CERT.pem [KEY.pem]");
        return -1;
    }
    if (l->ntls_certs >= 64) {
        snprintf(err, errlen, "at most 64 tls-cert per listener");
        return -1;
    }
    l->tls_certs = xrealloc(l->tls_certs, (size_t)(l->ntls_certs + 1) * sizeof *l->tls_certs);
    struct net_tls_cert_conf *c = &l->tls_certs[l->ntls_certs++];
    c->cert = xstrdup(argv[0]);
    c->key = argc == 2 ? xstrdup(argv[1]) : NULL;
    c->ocsp = NULL;
    return 0;
}

static int set_last(struct lb_listener_conf *l, const char *what, int argc, char **argv, size_t off, char *err,
                    size_t errlen)
{
    if (argc != 1 || !argv[0][0]) {
        snprintf(err, errlen, "'%s' takes one file name", what);
        return -1;
    }
    if (l->ntls_certs == 0) {
        snprintf(err, errlen, "'%s' applies to the tls-cert before it: give tls-cert first", what);
        return -1;
    }
    char **slot = (char **)(void *)((char *)&l->tls_certs[l->ntls_certs - 1] + off);
    xfree(*slot);
    *slot = xstrdup(argv[0]);
    return 0;
}

int lb_tls_parse_key(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return set_last(conf, "tls-key", argc, argv, offsetof(struct net_tls_cert_conf, key), err, errlen);
}

int lb_tls_parse_ocsp(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    return set_last(conf, "tls-ocsp", argc, argv, offsetof(struct net_tls_cert_conf, ocsp), err, errlen);
}

static void format_field(const void *conf, struct buf *out, size_t off)
{
    const struct lb_listener_conf *l = conf;
    for (int i = 0; i < l->ntls_certs; i++) {
        const char *v = *(char *const *)(const void *)((const char *)&l->tls_certs[i] + off);
        buf_printf(out, "%s%s", i ? " " : "", v ? v : "-");
    }
}

void lb_tls_format_cert(const void *conf, struct buf *out) { format_field(conf, out, offsetof(struct net_tls_cert_conf, cert)); }
void lb_tls_format_key(const void *conf, struct buf *out) { format_field(conf, out, offsetof(struct net_tls_cert_conf, key)); }
void lb_tls_format_ocsp(const void *conf, struct buf *out) { format_field(conf, out, offsetof(struct net_tls_cert_conf, ocsp)); }

int lb_tls_build(struct lb_listener_conf *l, char *err, size_t errlen)
{
    if (l->ntls_certs == 0 || l->tls)
        return 0;
    struct net_tls_conf c = {
        .certs = l->tls_certs,
        .ncerts = l->ntls_certs,
        .ciphers = l->tls_ciphers,
        .ciphersuites = l->tls_ciphersuites,
        .min_version = l->tls_min_version,
        .ticket_rotate_ms = l->tls_ticket_rotate_ms,
        .session_cache = l->tls_session_cache,
        .max_handshakes = l->tls_max_handshakes,
        /* server preference: h2 first when enabled; a tcp listener offers nothing */
        .alpn = l->mode != LB_MODE_HTTP ? NULL : l->h2 ? "h2,http/1.1" : "http/1.1",
    };
    l->tls = net_tls_ctx_new(&c, err, errlen);
    return l->tls ? 0 : -1;
}

void lb_tls_conf_free(struct lb_listener_conf *l)
{
    for (int i = 0; i < l->ntls_certs; i++) {
        xfree(l->tls_certs[i].cert);
        xfree(l->tls_certs[i].key);
        xfree(l->tls_certs[i].ocsp);
    }
    xfree(l->tls_certs);
    l->tls_certs = NULL;
    l->ntls_certs = 0;
    net_tls_ctx_unref(l->tls);
    l->tls = NULL;
}
