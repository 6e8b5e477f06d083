/*
 * headers.c — what the proxy reads in and writes into message heads:
 * routing (host, path prefix, header), the balancing key (uri, header,
 * cookie, client address) and the sticky cookie, and the rewriting of
 * request and response heads (hop-by-hop fields out; X-Forwarded-For,
 * X-Forwarded-Proto and X-Request-Id in). All of it works on the slices
 * proto/http1 left in the session's buffers; nothing here keeps state.
 *
 * Two rules keep the lb and the backend agreeing on what a request is:
 * the framing fields (Content-Length, Transfer-Encoding, Host) are never
 * hop-by-hop, whatever Connection lists; and the target is routed and
 * forwarded in one form, origin form with a normalised path
 * (lb_http_target), or refused.
 */
#include <string.h>

#include "core/rand.h"
#include "core/util.h"
#include "net/balance.h"
#include "lb/proxy.h"

/* Hop-by-hop fields never cross the proxy (RFC 9110 7.6.1). */
static bool hop_by_hop(const struct http1_header *h)
{
    switch (h->name_len) {
    case 2: return http1_header_is(h, "te");
    case 7: return http1_header_is(h, "upgrade");
    case 10: return http1_header_is(h, "connection") || http1_header_is(h, "keep-alive");
    case 16: return http1_header_is(h, "proxy-connection");
    }
    return false;
}

bool lb_http_is_upgrade(const struct http1_request *r)
{
    if (!r->upgrade || r->meth != HTTP1_METHOD_GET || r->body != HTTP1_BODY_NONE)
        return false;
    const struct http1_header *h = http1_find_header(r->headers, r->num_headers, "upgrade", 7);
    if (!h || h->value_len == 0)
        return false;
    /* h2c would make the backend speak HTTP/2 to a client that asked the lb */
    for (size_t i = 0; i + 3 <= h->value_len; i++)
        if (util_strieq(h->value + i, 3, "h2c"))
            return false;
    return true;
}

/* Whether some Connection field lists a token other than close, keep-alive
 * and upgrade, i.e. names another field as hop-by-hop (rare: most messages
 * skip the per-field check below). */
static bool connection_names_fields(const struct http1_header *hdrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (hdrs[i].name_len != 10 || !http1_header_is(&hdrs[i], "connection"))
            continue;
        const char *p = hdrs[i].value, *end = p + hdrs[i].value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                p++;
            const char *t = p;
            while (p < end && *p != ',')
                p++;
            const char *te = p;
            while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
                te--;
            size_t tl = (size_t)(te - t);
            if (tl && !util_strieq(t, tl, "close") && !util_strieq(t, tl, "keep-alive") &&
                !util_strieq(t, tl, "upgrade"))
                return true;
        }
    }
    return false;
}

/* Fields that frame or address the message. A Connection header naming one
 * of them is ignored for that token (as HAProxy 2.6 and nginx 1.22 do): the
 * lb frames the body by them, so the backend or the client must see them too,
 * or the two ends would split the byte stream differently (smuggling). */
static bool never_hop_by_hop(const struct http1_header *h)
{
    switch (h->name_len) {
    case 4: return http1_header_is(h, "host");
    case 14: return http1_header_is(h, "content-length");
    case 17: return http1_header_is(h, "transfer-encoding");
    }
    return false;
}

/* Names listed in Connection are hop-by-hop too (except the framing fields). */
static bool named_in_connection(const struct http1_header *hdrs, size_t n, const struct http1_header *h)
{
    if (never_hop_by_hop(h))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (hdrs[i].name_len != 10 || !http1_header_is(&hdrs[i], "connection"))
            continue;
        char name[128];
        if (h->name_len >= sizeof name)
            return false;
        memcpy(name, h->name, h->name_len);
        name[h->name_len] = '\0';
        if (http1_list_has(hdrs[i].value, hdrs[i].value_len, name))
            return true;
    }
    return false;
}

/* The value of cookie `name` in the Cookie fields, false if absent. */
static bool find_cookie(const struct http1_header *hdrs, size_t n, const char *name, const char **v, size_t *vlen)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (hdrs[i].name_len != 6 || !http1_header_is(&hdrs[i], "cookie"))
            continue;
        const char *p = hdrs[i].value, *end = p + hdrs[i].value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *c = p;
            while (p < end && *p != ';')
                p++;
            const char *eq = memchr(c, '=', (size_t)(p - c));
            if (eq && (size_t)(eq - c) == nl && memcmp(c, name, nl) == 0) {
                const char *val = eq + 1, *ve = p;
                while (ve > val && ve[-1] == ' ')
                    ve--;
                if (ve - val >= 2 && *val == '"' && ve[-1] == '"') {
                    val++;
                    ve--;
                }
                *v = val;
                *vlen = (size_t)(ve - val);
                return true;
            }
        }
    }
    return false;
}

static bool scheme_is(const char *t, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && util_strieq(t, l, lit);
}

int lb_http_target(const struct http1_request *r, char *buf, struct lb_target *t)
{
    const char *p = r->target;
    size_t n = r->target_len;
    t->host = r->host;
    t->host_len = r->host_len;
    if (r->target_form == HTTP1_TARGET_ASTERISK || r->target_form == HTTP1_TARGET_AUTHORITY) {
        t->path = p;
        t->path_len = n;
        return 0;
    }
    if (r->target_form == HTTP1_TARGET_ABSOLUTE) {
        /* http://authority[/path][?query] → origin form; the parser checked
         * that a Host field, if any, names the same authority */
        size_t skip;
        if (scheme_is(p, n, "http://"))
            skip = 7;
        else if (scheme_is(p, n, "https://"))
            skip = 8;
        else
            return HTTP1_E_TARGET;
        const char *a = p + skip, *end = p + n, *e = a;
        while (e < end && *e != '/' && *e != '?')
            e++;
        if (e == a || memchr(a, '@', (size_t)(e - a)))
            return HTTP1_E_TARGET; /* no host, or userinfo */
        t->host = a;
        t->host_len = (size_t)(e - a);
        if (e == end || *e == '?') {
            buf[0] = '/';
            memcpy(buf + 1, e, (size_t)(end - e));
            t->path = buf;
            t->path_len = 1 + (size_t)(end - e);
            return 0;
        }
        p = e;
        n = (size_t)(end - e);
    }
    int rc = http1_normalize_path(p, n, buf, &t->path_len);
    t->path = buf;
    return rc;
}

static bool route_matches(const struct lb_route *r, const struct http1_request *req, const struct lb_target *t)
{
    for (int i = 0; i < r->nconds; i++) {
        const struct lb_route_cond *c = &r->conds[i];
        switch (c->kind) {
        case LB_ROUTE_HOST: {
            if (!t->host)
                return false;
            size_t hl = t->host_len;
            const char *colon = memchr(t->host, ':', hl);
            if (colon)
                hl = (size_t)(colon - t->host);
            size_t vl = strlen(c->value);
            if (vl > 2 && c->value[0] == '*' && c->value[1] == '.') {
                /* *.example.com: any subdomain */
                if (hl < vl || !util_strieq(t->host + hl - (vl - 1), vl - 1, c->value + 1))
                    return false;
            } else if (!util_strieq(t->host, hl, c->value)) {
                return false;
            }
            break;
        }
        case LB_ROUTE_PATH: {
            size_t vl = strlen(c->value);
            if (t->path_len < vl || memcmp(t->path, c->value, vl) != 0)
                return false;
            break;
        }
        case LB_ROUTE_HEADER: {
            const struct http1_header *h = http1_find_header(req->headers, req->num_headers, c->name, strlen(c->name));
            if (!h || h->value_len != strlen(c->value) || memcmp(h->value, c->value, h->value_len) != 0)
                return false;
            break;
        }
        }
    }
    return true;
}

struct net_pool *lb_http_route(const struct lb_listener_conf *c, const struct http1_request *r,
                              const struct lb_target *t)
{
    for (int i = 0; i < c->nroutes; i++)
        if (route_matches(&c->routes[i], r, t))
            return c->routes[i].pool;
    return c->default_pool_rt;
}

void lb_http_request_key(struct lb_session *s)
{
    const struct lb_pool_conf *c = lb_pool_conf_of(s->pool);
    const struct http1_request *r = &s->req;
    s->has_key = false;
    switch (c->key) {
    case LB_KEY_NONE:
        break;
    case LB_KEY_IP:
        s->key = s->iphash;
        s->has_key = true;
        break;
    case LB_KEY_URI: {
        const char *p = s->tgt.path;
        size_t n = s->tgt.path_len;
        const char *q = memchr(p, '?', n);
        if (q)
            n = (size_t)(q - p);
        s->key = net_hash(p, n, 0);
        s->has_key = true;
        break;
    }
    case LB_KEY_HEADER: {
        const struct http1_header *h = http1_find_header(r->headers, r->num_headers, c->key_name, strlen(c->key_name));
        if (h) {
            s->key = net_hash(h->value, h->value_len, 0);
            s->has_key = true;
        }
        break;
    }
    case LB_KEY_COOKIE: {
        const char *v;
        size_t vl;
        if (find_cookie(r->headers, r->num_headers, c->key_name, &v, &vl)) {
            s->key = net_hash(v, vl, 0);
            s->has_key = true;
        }
        break;
    }
    }
    s->sticky[0] = '\0';
    if (c->sticky_cookie[0]) {
        const char *v;
        size_t vl;
        if (find_cookie(r->headers, r->num_headers, c->sticky_cookie, &v, &vl) && vl == 16) {
            memcpy(s->sticky, v, 16);
            s->sticky[16] = '\0';
        }
    }
}

static void make_reqid(struct lb_session *s)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rand64(), b = rand64();
    for (int i = 0; i < 16; i++) {
        s->reqid[i] = hex[(a >> (i * 4)) & 15];
        s->reqid[16 + i] = hex[(b >> (i * 4)) & 15];
    }
    s->reqid[32] = '\0';
}

void lb_http_request_head(struct lb_session *s)
{
    const struct http1_request *r = &s->req;
    const struct lb_listener_conf *lc = atomic_load(&s->ls->conf);
    struct buf *o = &s->hold;
    /* one allocation for a usual head, not a chain of doublings from 64 bytes
     * (a new HTTP/2 stream's buffer is empty; an HTTP/1.1 session keeps its own) */
    buf_reserve(o, 1024);
    buf_append(o, r->method, r->method_len);
    buf_putc(o, ' ');
    buf_append(o, s->tgt.path, s->tgt.path_len); /* origin form, normalised: what was routed */
    buf_append(o, " HTTP/1.1\r\n", 11);
    bool has_reqid = false;
    bool named = connection_names_fields(r->headers, r->num_headers);
    const struct http1_header *xff[8];
    int nxff = 0;
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *h = &r->headers[i];
        if (hop_by_hop(h) && !(s->upgrade && h->name_len == 7 && http1_header_is(h, "upgrade")))
            continue;
        if (lc->forwarded_for) {
            if (h->name_len == 15 && http1_header_is(h, "x-forwarded-for")) {
                if (nxff < 8)
                    xff[nxff++] = h;
                continue;
            }
            if ((h->name_len == 17 && http1_header_is(h, "x-forwarded-proto")) ||
                (h->name_len == 16 && http1_header_is(h, "x-forwarded-port")))
                continue;
        }
        if (named && named_in_connection(r->headers, r->num_headers, h))
            continue;
        if (h->name_len == 12 && http1_header_is(h, "x-request-id")) {
            if (h->value_len == 0 || h->value_len > 200)
                continue; /* replaced by ours */
            has_reqid = true;
            size_t l = h->value_len < 32 ? h->value_len : 32;
            memcpy(s->reqid, h->value, l);
            s->reqid[l] = '\0';
        }
        buf_append(o, h->name, h->name_len);
        buf_append(o, ": ", 2);
        buf_append(o, h->value, h->value_len);
        buf_append(o, "\r\n", 2);
    }
    if (!r->host) {
        /* HTTP/1.0 without Host: the absolute-form authority, else the listener */
        if (s->tgt.host) {
            buf_puts(o, "Host: ");
            buf_append(o, s->tgt.host, s->tgt.host_len);
            buf_puts(o, "\r\n");
        } else {
            buf_printf(o, "Host: %s\r\n", lc->addr);
        }
    }
    if (lc->forwarded_for) {
        buf_puts(o, "X-Forwarded-For: ");
        for (int i = 0; i < nxff; i++) {
            buf_append(o, xff[i]->value, xff[i]->value_len);
            buf_append(o, ", ", 2);
        }
        buf_puts(o, s->ip);
        /* no printf on the per-request path (it was 4 % of the lb's user CPU) */
        buf_puts(o, s->tls || s->h2_tls ? "\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: "
                                        : "\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: ");
        char port[12], *e = port + sizeof port, *d = e;
        unsigned v = (unsigned)s->ls->port;
        do
            *--d = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        buf_append(o, d, (size_t)(e - d));
        buf_append(o, "\r\n", 2);
    }
    if (s->upgrade)
        buf_puts(o, "Connection: Upgrade\r\n");
    if (!has_reqid && lc->request_id) {
        make_reqid(s);
        buf_puts(o, "X-Request-Id: ");
        buf_append(o, s->reqid, 32);
        buf_append(o, "\r\n", 2);
    }
    buf_append(o, "\r\n", 2);
}

void lb_http_request_text(const struct http1_request *r, struct buf *o)
{
    buf_append(o, r->method, r->method_len);
    buf_putc(o, ' ');
    buf_append(o, r->target, r->target_len);
    buf_puts(o, r->minor_version ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *h = &r->headers[i];
        buf_append(o, h->name, h->name_len);
        buf_append(o, ": ", 2);
        buf_append(o, h->value, h->value_len);
        buf_append(o, "\r\n", 2);
    }
    buf_append(o, "\r\n", 2);
}

/* Whether field h of r goes on to the client: not hop-by-hop (an Upgrade of
 * a 101 excepted), not named by Connection (named: some Connection field
 * names fields), not Transfer-Encoding when the body is decoded. */
static bool response_field_kept(const struct http1_response *r, const struct http1_header *h, bool named,
                                bool dechunk)
{
    if (hop_by_hop(h) && !(r->status == 101 && h->name_len == 7 && http1_header_is(h, "upgrade")))
        return false;
    if (dechunk && h->name_len == 17 && http1_header_is(h, "transfer-encoding"))
        return false;
    if (named && named_in_connection(r->headers, r->num_headers, h))
        return false;
    return true;
}

void lb_http_response_head(struct buf *o, const struct http1_response *r, bool dechunk)
{
    buf_reserve(o, 512);
    http1_write_status_line(o, r->status);
    bool named = connection_names_fields(r->headers, r->num_headers);
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *h = &r->headers[i];
        if (!response_field_kept(r, h, named, dechunk))
            continue;
        buf_append(o, h->name, h->name_len);
        buf_append(o, ": ", 2);
        buf_append(o, h->value, h->value_len);
        buf_append(o, "\r\n", 2);
    }
}

size_t lb_http_response_fields(const struct http1_response *r, bool dechunk, struct http1_header *out, size_t max)
{
    bool named = connection_names_fields(r->headers, r->num_headers);
    size_t n = 0;
    for (size_t i = 0; i < r->num_headers && n < max; i++)
        if (response_field_kept(r, &r->headers[i], named, dechunk))
            out[n++] = r->headers[i];
    return n;
}
