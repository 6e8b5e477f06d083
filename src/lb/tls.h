/*
 * tls.h — the lb's TLS settings: the tls-cert / tls-key / tls-ocsp listener
 * directives (config.c's table calls these parsers) and building a listener's
 * TLS context (src/net/tls.c) from them. The I/O hooks are in proxy.c (HTTP)
 * and tcp.c (L4), over the memory-BIO connection of net/tls.h.
 */
#ifndef SCALEOUT_LB_TLS_H
#define SCALEOUT_LB_TLS_H

#include <stddef.h>

#include "core/buf.h"
#include "lb/lb.h"

/* `tls-cert CERT.pem [KEY.pem]` (repeat: one per SNI certificate). */
int lb_tls_parse_cert(void *conf, int argc, char **argv, char *err, size_t errlen);
void lb_tls_format_cert(const void *conf, struct buf *out);
/* `tls-key KEY.pem`: the key of the last tls-cert. */
int lb_tls_parse_key(void *conf, int argc, char **argv, char *err, size_t errlen);
void lb_tls_format_key(const void *conf, struct buf *out);
/* `tls-ocsp RESPONSE.der`: stapled for the last tls-cert. */
int lb_tls_parse_ocsp(void *conf, int argc, char **argv, char *err, size_t errlen);
void lb_tls_format_ocsp(const void *conf, struct buf *out);

/* Build l->tls when l has certificates (reading the files). Returns 0 or -1
 * with a message in err. */
int lb_tls_build(struct lb_listener_conf *l, char *err, size_t errlen);
/* Free the TLS settings and drop the context reference. */
void lb_tls_conf_free(struct lb_listener_conf *l);

#endif
