/*
 * http1.c — strict HTTP/1.1 parser, chunked decoder and writers (see http1.h
 * for the contract and the decisions on ambiguous cases).
 *
 * How a header block is parsed:
 *
 *   buf:  [CRLF...] start-line CRLF  field-line CRLF ... CRLF
 *                   ^st.pos          ^st.pos (after each complete line)
 *
 *   for the line at st.pos:
 *     1. cheap checks on its first byte (empty line = end, obs-fold, ...);
 *     2. first look at the line (st.scan == st.pos): an optimistic single
 *        pass that succeeds for any well-formed complete line — done;
 *     3. otherwise memchr for its LF from st.scan, bounded by the size
 *        limits; if the LF has not arrived: remember st.scan = len, return
 *        INCOMPLETE (or 414/431 when the limit lies inside the bytes we
 *        have); else validate the complete line with table lookups, which
 *        names the error if there is one;
 *     4. record the header, fold framing-relevant fields (Content-Length,
 *        Transfer-Encoding, Host, Connection, ...) into st.flags as values;
 *        st.pos = st.scan = after the LF.
 *   at the empty line: block-level checks and framing, reset progress.
 *
 * Every decision depends only on complete lines (or on positions relative to
 * the limits), so the outcome cannot depend on how the input was split.
 */
#include "proto/http1.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- character classes ------------------------------------------------- */

enum {
    C_TCHAR = 1,   /* token: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA */
    C_FIELD = 2,   /* field-value / reason: HTAB SP VCHAR obs-text */
    C_TARGET = 4,  /* request-target: VCHAR except '#' */
    C_HOST = 8,    /* host[:port]: unreserved sub-delims % : [ ] */
    C_QDTEXT = 16, /* quoted-string text: HTAB SP VCHAR except " \ , obs-text */
};

static const uint8_t cls[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0, 18,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    18, 31,  6, 19, 31, 31, 31, 31, 30, 30, 31, 31, 30, 31, 31, 22,
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 30, 30, 22, 30, 22, 22,
    22, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 30,  6, 30, 23, 31,
    23, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 22, 23, 22, 31,  0,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
};

#define IS(c, k) (cls[(unsigned char)(c)] & (k))

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* a[0..n) equals the lowercase literal lit, ignoring ASCII case. */
static bool ieq(const char *a, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

/* a[0..n) equals b[0..n), ignoring ASCII case (locale-independent). */
static bool caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

static inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

/*
 * Header name a[0..n) (tchars only, n >= 8) equals the lowercase literal lit
 * (letters and '-'). OR-ing 0x20 is exact here: the only other byte that maps
 * onto a letter or '-' is a control character, and no tchar is one.
 */
static inline bool name_is(const char *a, const char *lit, size_t n)
{
    uint64_t x, y;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, lit + i, 8);
        if ((x | 0x2020202020202020ull) != y)
            return false;
    }
    if (i == n)
        return true;
    memcpy(&x, a + n - 8, 8); /* overlapping tail */
    memcpy(&y, lit + n - 8, 8);
    return (x | 0x2020202020202020ull) == y;
}

/* Same for short names (n < 8). */
static inline bool name_is_short(const char *a, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)a[i] | 0x20) != (unsigned char)lit[i])
            return false;
    return true;
}

/* Skip token characters in [p, end). */
static inline const char *skip_tchar(const char *p, const char *end)
{
    while (end - p >= 4) {
        if (!IS(p[0], C_TCHAR)) return p;
        if (!IS(p[1], C_TCHAR)) return p + 1;
        if (!IS(p[2], C_TCHAR)) return p + 2;
        if (!IS(p[3], C_TCHAR)) return p + 3;
        p += 4;
    }
    while (p < end && IS(*p, C_TCHAR))
        p++;
    return p;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Skip field-value characters in [p, end); returns the first other byte. */
static inline const char *skip_field(const char *p, const char *end)
{
    while (end - p >= 8) {
        if (!IS(p[0], C_FIELD)) return p;
        if (!IS(p[1], C_FIELD)) return p + 1;
        if (!IS(p[2], C_FIELD)) return p + 2;
        if (!IS(p[3], C_FIELD)) return p + 3;
        if (!IS(p[4], C_FIELD)) return p + 4;
        if (!IS(p[5], C_FIELD)) return p + 5;
        if (!IS(p[6], C_FIELD)) return p + 6;
        if (!IS(p[7], C_FIELD)) return p + 7;
        p += 8;
    }
    while (p < end && IS(*p, C_FIELD))
        p++;
    return p;
}

/*
 * Word-at-a-time checks (8 bytes per step) for the optimistic fast paths.
 * A hit only means "look at these bytes one by one": exactness matters only
 * in the no-hit direction, which these formulas guarantee.
 */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t has_less(uint64_t x, unsigned n) { return (x - ONES * n) & ~x & HIGHS; }
static inline uint64_t has_byte(uint64_t x, unsigned c)
{
    uint64_t y = x ^ (ONES * c);
    return (y - ONES) & ~y & HIGHS;
}

/* A byte that is not SP / VCHAR / obs-text (HTAB included: rare, checked singly). */
static inline bool word_field_special(uint64_t x) { return (has_less(x, 0x20) | has_byte(x, 0x7f)) != 0; }
/* A byte that is not a target character (VCHAR except '#'). */
static inline bool word_target_special(uint64_t x)
{
    return (has_less(x, 0x21) | (x & HIGHS) | has_byte(x, 0x7f) | has_byte(x, '#')) != 0;
}

/* Skip field-value characters in [p, end), 8 at a time when possible. */
static inline const char *skip_field_fast(const char *p, const char *end)
{
    for (;;) {
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (word_field_special(x))
                break;
            p += 8;
        }
        if (end - p < 8)
            return skip_field(p, end);
        /* a special byte among the next 8: step over the allowed ones (HTAB) */
        for (int i = 0; i < 8; i++, p++)
            if (!IS(*p, C_FIELD))
                return p;
    }
}

static inline const char *skip_target_fast(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        if (word_target_special(x))
            break;
        p += 8;
    }
    while (p < end && IS(*p, C_TARGET))
        p++;
    return p;
}

/* ---- errors ------------------------------------------------------------ */

static const struct {
    const char *name;
    const char *text;
    int status;
} err_tab[HTTP1_ERRI__COUNT] = {
    [HTTP1_ERRI__NONE] = { "NONE", "no error", 200 },
#define X(name, status, text) [HTTP1_ERRI_##name] = { #name, text, status },
    HTTP1_ERRORS(X)
#undef X
};

static inline bool err_valid(int err) { return err < 0 && -err < HTTP1_ERRI__COUNT; }

const char *http1_strerror(int err) { return err_valid(err) ? err_tab[-err].text : "unknown error"; }
const char *http1_err_name(int err) { return err_valid(err) ? err_tab[-err].name : "UNKNOWN"; }
int http1_err_status(int err) { return err_valid(err) ? err_tab[-err].status : 400; }

/* ---- limits ------------------------------------------------------------ */

const struct http1_limits http1_default_limits = HTTP1_LIMITS_DEFAULT;

/* Effective limits: 0 in a field means the default; the header block is
 * capped so its length always fits the int return value. */
static void limits_get(const struct http1_limits *lim, struct http1_limits *out)
{
    const struct http1_limits *d = &http1_default_limits;
    if (!lim)
        lim = d;
    out->max_line = lim->max_line ? lim->max_line : d->max_line;
    out->max_header_bytes = lim->max_header_bytes ? lim->max_header_bytes : d->max_header_bytes;
    if (out->max_header_bytes > INT_MAX)
        out->max_header_bytes = INT_MAX;
    out->max_headers = lim->max_headers ? lim->max_headers : d->max_headers;
    out->max_chunk_ext = lim->max_chunk_ext ? lim->max_chunk_ext : d->max_chunk_ext;
    out->max_trailer_bytes = lim->max_trailer_bytes ? lim->max_trailer_bytes : d->max_trailer_bytes;
}

/* ---- header block -------------------------------------------------------- */

enum {
    S_CL = 1 << 0,              /* Content-Length seen */
    S_TE = 1 << 1,              /* Transfer-Encoding seen */
    S_TE_CHUNKED = 1 << 2,      /* chunked among the codings */
    S_TE_LAST_CHUNKED = 1 << 3, /* the last coding so far is chunked */
    S_TE_DUP = 1 << 4,          /* chunked more than once */
    S_TE_OTHER = 1 << 5,        /* a coding other than chunked */
    S_HOST = 1 << 6,
    S_CONN_CLOSE = 1 << 7,
    S_CONN_KEEP_ALIVE = 1 << 8,
    S_CONN_UPGRADE = 1 << 9,
    S_UPGRADE = 1 << 10,        /* Upgrade field present */
    S_EXPECT_CONTINUE = 1 << 11,
};

/* What parse_block needs to know about the message kind. */
struct msg {
    struct http1_state *st;
    struct http1_header *hdrs;
    size_t cap;               /* min(array capacity, limit) */
    size_t *num;
    struct http1_request *req; /* exactly one of req/res is set */
    struct http1_response *res;
};

static int parse_content_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0)
        return HTTP1_E_CONTENT_LENGTH;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)v[i] - '0';
        if (d > 9)
            return (v[i] == ',') ? HTTP1_E_CONTENT_LENGTH_DUP : HTTP1_E_CONTENT_LENGTH;
        if (x > ((uint64_t)INT64_MAX - d) / 10)
            return HTTP1_E_CONTENT_LENGTH;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

/* Fold one Transfer-Encoding field value into st->flags. */
static int parse_transfer_encoding(struct http1_state *st, const char *v, size_t n)
{
    const char *p = v, *end = v + n;
    st->flags |= S_TE;
    for (;;) {
        while (p < end && is_ows(*p))
            p++;
        const char *name = p;
        while (p < end && IS(*p, C_TCHAR))
            p++;
        size_t nlen = (size_t)(p - name);
        if (nlen == 0)
            return HTTP1_E_TE_INVALID; /* empty element or junk */
        bool chunked = nlen == 7 && ieq(name, "chunked", 7);
        while (p < end && is_ows(*p))
            p++;
        if (p < end && *p == ';') {
            if (chunked)
                return HTTP1_E_TE_INVALID; /* chunked has no parameters */
            /* parameters of another coding: skip to the next element */
            while (p < end && *p != ',')
                p++;
        }
        if (p < end && *p != ',')
            return HTTP1_E_TE_INVALID;
        if (chunked) {
            if (st->flags & S_TE_CHUNKED)
                st->flags |= S_TE_DUP;
            st->flags |= S_TE_CHUNKED | S_TE_LAST_CHUNKED;
        } else {
            st->flags = (st->flags | S_TE_OTHER) & ~(uint32_t)S_TE_LAST_CHUNKED;
        }
        if (p == end)
            return 0;
        p++; /* ',' — another element must follow */
    }
}

/* Fold Connection tokens into st->flags; unknown tokens are ignored. */
static void parse_connection(struct http1_state *st, const char *v, size_t n)
{
    const char *p = v, *end = v + n;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        const char *t = p;
        while (p < end && *p != ',')
            p++;
        const char *te = p;
        while (te > t && is_ows(te[-1]))
            te--;
        size_t tl = (size_t)(te - t);
        if (tl == 5 && ieq(t, "close", 5))
            st->flags |= S_CONN_CLOSE;
        else if (tl == 10 && ieq(t, "keep-alive", 10))
            st->flags |= S_CONN_KEEP_ALIVE;
        else if (tl == 7 && ieq(t, "upgrade", 7))
            st->flags |= S_CONN_UPGRADE;
    }
}

/* Record the framing-relevant meaning of a header (already syntax-checked). */
static int note_header(struct msg *m, const struct http1_header *h)
{
    struct http1_state *st = m->st;
    const char *n = h->name;
    switch (h->name_len) {
    case 4:
        if (m->req && name_is_short(n, "host", 4)) {
            if (st->flags & S_HOST)
                return HTTP1_E_HOST_DUP;
            for (size_t i = 0; i < h->value_len; i++)
                if (!IS(h->value[i], C_HOST))
                    return HTTP1_E_HOST_INVALID;
            st->flags |= S_HOST;
            st->host = h->value;
            st->host_len = h->value_len;
        }
        break;
    case 6:
        if (m->req && name_is_short(n, "expect", 6) && h->value_len == 12 && ieq(h->value, "100-continue", 12))
            st->flags |= S_EXPECT_CONTINUE;
        break;
    case 7:
        if (name_is_short(n, "upgrade", 7))
            st->flags |= S_UPGRADE;
        break;
    case 10:
        if (name_is(n, "connection", 10))
            parse_connection(st, h->value, h->value_len);
        break;
    case 14:
        if (name_is(n, "content-length", 14)) {
            if (st->flags & S_CL)
                return HTTP1_E_CONTENT_LENGTH_DUP;
            int rc = parse_content_length(h->value, h->value_len, &st->content_length);
            if (rc)
                return rc;
            st->flags |= S_CL;
        }
        break;
    case 17:
        if (name_is(n, "transfer-encoding", 17))
            return parse_transfer_encoding(st, h->value, h->value_len);
        break;
    }
    return 0;
}

/* Validate a complete field line [p, lf) whose first byte is a tchar. */
static int parse_field_line(const char *p, const char *lf, struct http1_header *h)
{
    const char *cr = lf - 1; /* p < lf: the first byte is a tchar */
    if (*cr != '\r')
        return HTTP1_E_LINE_ENDING;
    const char *q = p;
    while (IS(*q, C_TCHAR)) /* stops at cr at the latest */
        q++;
    if (*q != ':') {
        if (is_ows(*q))
            return HTTP1_E_HEADER_SPACE;
        if (*q == '\r' && q != cr)
            return HTTP1_E_LINE_ENDING;
        return HTTP1_E_HEADER_NAME;
    }
    h->name = p;
    h->name_len = (size_t)(q - p);
    q++;
    while (q < cr && is_ows(*q))
        q++;
    const char *v = q;
    q = skip_field(q, cr);
    if (q != cr)
        return *q == '\r' ? HTTP1_E_LINE_ENDING : HTTP1_E_HEADER_VALUE;
    while (q > v && is_ows(q[-1]))
        q--;
    h->value = v;
    h->value_len = (size_t)(q - v);
    return 0;
}

static enum http1_method method_of(const char *m, size_t n)
{
#define M(lit, id) if (n == sizeof lit - 1 && memcmp(m, lit, n) == 0) return id
    switch (n) {
    case 3:
        M("GET", HTTP1_METHOD_GET);
        M("PUT", HTTP1_METHOD_PUT);
        break;
    case 4:
        M("POST", HTTP1_METHOD_POST);
        M("HEAD", HTTP1_METHOD_HEAD);
        break;
    case 5:
        M("PATCH", HTTP1_METHOD_PATCH);
        M("TRACE", HTTP1_METHOD_TRACE);
        break;
    case 6:
        M("DELETE", HTTP1_METHOD_DELETE);
        break;
    case 7:
        M("OPTIONS", HTTP1_METHOD_OPTIONS);
        M("CONNECT", HTTP1_METHOD_CONNECT);
        break;
    }
#undef M
    return HTTP1_METHOD_OTHER;
}

/* "HTTP/1.0" or "HTTP/1.1" at p (8 bytes available): minor version, or an error. */
static int parse_version(const char *p, size_t avail)
{
    if (avail >= 8 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1'))
        return p[7] - '0';
    if (avail >= 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.' &&
        p[7] >= '0' && p[7] <= '9')
        return HTTP1_E_VERSION_UNSUPPORTED;
    return HTTP1_E_VERSION;
}

static int classify_target(struct http1_request *req)
{
    const char *t = req->target;
    size_t n = req->target_len;
    if (req->meth == HTTP1_METHOD_CONNECT) {
        /* authority-form only: host:port */
        bool colon = false;
        for (size_t i = 0; i < n; i++) {
            if (!IS(t[i], C_HOST))
                return HTTP1_E_TARGET;
            colon |= t[i] == ':';
        }
        if (!colon || t[0] == ':' || t[n - 1] == ':')
            return HTTP1_E_TARGET;
        req->target_form = HTTP1_TARGET_AUTHORITY;
        return 0;
    }
    if (t[0] == '/') {
        req->target_form = HTTP1_TARGET_ORIGIN;
        return 0;
    }
    if (t[0] == '*') {
        if (n != 1 || req->meth != HTTP1_METHOD_OPTIONS)
            return HTTP1_E_TARGET;
        req->target_form = HTTP1_TARGET_ASTERISK;
        return 0;
    }
    /* absolute-form: scheme ":" ... with scheme = ALPHA *( ALPHA / DIGIT / + - . ) */
    unsigned char c0 = lower((unsigned char)t[0]);
    if (c0 < 'a' || c0 > 'z')
        return HTTP1_E_TARGET;
    size_t i = 1;
    while (i < n) {
        unsigned char c = lower((unsigned char)t[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            break;
        i++;
    }
    if (i == n || t[i] != ':')
        return HTTP1_E_TARGET;
    req->target_form = HTTP1_TARGET_ABSOLUTE;
    return 0;
}

/* Request line [p, lf): p[0] is a tchar. */
static int parse_request_line(const char *p, const char *lf, struct http1_request *req)
{
    const char *cr = lf - 1;
    if (*cr != '\r')
        return HTTP1_E_LINE_ENDING;
    const char *q = p;
    while (IS(*q, C_TCHAR))
        q++;
    if (*q != ' ') {
        if (*q == '\r')
            return q == cr ? HTTP1_E_REQUEST_LINE : HTTP1_E_LINE_ENDING;
        return HTTP1_E_METHOD;
    }
    req->method = p;
    req->method_len = (size_t)(q - p);
    req->meth = method_of(p, req->method_len);
    const char *t = ++q;
    while (IS(*q, C_TARGET))
        q++;
    if (*q != ' ' || q == t) {
        if (q == t && *q == ' ')
            return HTTP1_E_REQUEST_LINE;
        if (*q == '\r')
            return q == cr ? HTTP1_E_REQUEST_LINE : HTTP1_E_LINE_ENDING;
        return HTTP1_E_TARGET;
    }
    req->target = t;
    req->target_len = (size_t)(q - t);
    q++;
    if (cr - q != 8) {
        /* say 505 for "HTTP/2.0" but 400 for anything longer or shorter */
        for (const char *r = q; r < cr; r++)
            if (*r == '\r')
                return HTTP1_E_LINE_ENDING;
        return HTTP1_E_VERSION;
    }
    int v = parse_version(q, 8);
    if (v < 0)
        return v;
    req->minor_version = v;
    return classify_target(req);
}

/* Status line [p, lf). */
static int parse_status_line(const char *p, const char *lf, struct http1_response *res)
{
    if (lf == p || lf[-1] != '\r')
        return HTTP1_E_LINE_ENDING;
    const char *cr = lf - 1;
    size_t n = (size_t)(cr - p);
    int v = parse_version(p, n);
    if (v < 0)
        return v;
    res->minor_version = v;
    if (n < 12 || p[8] != ' ')
        return HTTP1_E_STATUS_LINE;
    unsigned d0 = (unsigned char)p[9] - '0', d1 = (unsigned char)p[10] - '0',
             d2 = (unsigned char)p[11] - '0';
    if (d0 > 9 || d1 > 9 || d2 > 9)
        return HTTP1_E_STATUS_LINE;
    int status = (int)(d0 * 100 + d1 * 10 + d2);
    if (status < 100 || status > 599)
        return HTTP1_E_STATUS_LINE;
    res->status = status;
    if (n == 12) {
        res->reason = cr;
        res->reason_len = 0;
        return 0;
    }
    if (p[12] != ' ')
        return HTTP1_E_STATUS_LINE;
    const char *r = p + 13;
    const char *q = skip_field(r, cr);
    if (q != cr)
        return *q == '\r' ? HTTP1_E_LINE_ENDING : HTTP1_E_STATUS_LINE;
    res->reason = r;
    res->reason_len = (size_t)(cr - r);
    return 0;
}

/* Authority part of an absolute-form target ("http://a.b:80/x" → "a.b:80"). */
static bool target_authority(const char *t, size_t n, const char **a, size_t *alen)
{
    const char *colon = memchr(t, ':', n);
    size_t i = (size_t)(colon - t) + 1;
    if (n - i < 2 || t[i] != '/' || t[i + 1] != '/')
        return false;
    i += 2;
    size_t j = i;
    while (j < n && t[j] != '/' && t[j] != '?')
        j++;
    *a = t + i;
    *alen = j - i;
    return true;
}

static int finish_request(struct http1_request *req, struct http1_state *st)
{
    uint32_t f = st->flags;
    if (f & S_TE) {
        if (req->minor_version == 0)
            return HTTP1_E_TE_HTTP10;
        if (f & S_CL)
            return HTTP1_E_CL_AND_TE;
        if ((f & S_TE_DUP) || ((f & S_TE_CHUNKED) && !(f & S_TE_LAST_CHUNKED)))
            return HTTP1_E_TE_INVALID;
        if (f & S_TE_OTHER)
            return HTTP1_E_TE_UNSUPPORTED;
        req->body = HTTP1_BODY_CHUNKED;
        req->content_length = 0;
    } else if (f & S_CL) {
        req->body = HTTP1_BODY_LENGTH;
        req->content_length = st->content_length;
    } else {
        req->body = HTTP1_BODY_NONE;
        req->content_length = 0;
    }
    if (f & S_HOST) {
        req->host = st->host;
        req->host_len = st->host_len;
    } else {
        if (req->minor_version == 1)
            return HTTP1_E_HOST_MISSING;
        req->host = NULL;
        req->host_len = 0;
    }
    if (req->target_form == HTTP1_TARGET_ABSOLUTE && req->host) {
        const char *a;
        size_t alen;
        if (target_authority(req->target, req->target_len, &a, &alen) &&
            (alen != req->host_len || !caseeq(a, req->host, alen)))
            return HTTP1_E_HOST_MISMATCH;
    }
    bool v11 = req->minor_version == 1;
    req->keep_alive = !(f & S_CONN_CLOSE) && (v11 || (f & S_CONN_KEEP_ALIVE));
    req->expect_continue = v11 && (f & S_EXPECT_CONTINUE);
    req->upgrade = v11 && (f & S_UPGRADE) && (f & S_CONN_UPGRADE);
    return 0;
}

static int finish_response(struct http1_response *res, struct http1_state *st, bool head)
{
    uint32_t f = st->flags;
    if (f & S_TE) {
        if (res->minor_version == 0)
            return HTTP1_E_TE_HTTP10;
        if (f & S_CL)
            return HTTP1_E_CL_AND_TE;
        if (f & S_TE_DUP)
            return HTTP1_E_TE_INVALID;
    }
    res->has_content_length = (f & S_CL) != 0;
    res->content_length = (f & S_CL) ? st->content_length : 0;
    int s = res->status;
    if (head || s < 200 || s == 204 || s == 304)
        res->body = HTTP1_BODY_NONE;
    else if (f & S_TE)
        res->body = (f & S_TE_LAST_CHUNKED) ? HTTP1_BODY_CHUNKED : HTTP1_BODY_UNTIL_CLOSE;
    else if (f & S_CL)
        res->body = HTTP1_BODY_LENGTH;
    else
        res->body = HTTP1_BODY_UNTIL_CLOSE;
    res->keep_alive = !(f & S_CONN_CLOSE) && (res->minor_version == 1 || (f & S_CONN_KEEP_ALIVE)) &&
                      res->body != HTTP1_BODY_UNTIL_CLOSE;
    res->upgrade = s == 101;
    return 0;
}

/*
 * Optimistic single-pass versions of parse_field_line / parse_request_line,
 * used the first time a line is looked at. They return the LF of a line they
 * fully validated (same rules, same results), or NULL for anything else —
 * incomplete, an error, an edge at a limit — and the caller then takes the
 * slow path (memchr + full validation), which alone decides errors. So the
 * fast paths can change speed but never outcomes.
 */
static const char *fast_field_line(const char *p, const char *end, struct http1_header *h)
{
    const char *q = skip_tchar(p, end);
    if (q >= end || *q != ':')
        return NULL;
    h->name = p;
    h->name_len = (size_t)(q - p);
    q++;
    while (q < end && is_ows(*q))
        q++;
    const char *v = q;
    q = skip_field_fast(q, end);
    if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
        return NULL;
    const char *lf = q + 1;
    while (q > v && is_ows(q[-1]))
        q--;
    h->value = v;
    h->value_len = (size_t)(q - v);
    return lf;
}

static const char *fast_request_line(const char *p, const char *end, struct http1_request *req)
{
    const char *q = skip_tchar(p, end);
    if (q >= end || *q != ' ')
        return NULL;
    req->method = p;
    req->method_len = (size_t)(q - p);
    const char *t = ++q;
    q = skip_target_fast(q, end);
    if (q == t || end - q < 11 || q[0] != ' ' || q[9] != '\r' || q[10] != '\n')
        return NULL;
    int v = parse_version(q + 1, 8);
    if (v < 0)
        return NULL;
    req->meth = method_of(p, req->method_len);
    req->target = t;
    req->target_len = (size_t)(q - t);
    req->minor_version = v;
    if (classify_target(req) != 0)
        return NULL;
    return q + 10;
}

static void state_reset(struct http1_state *st) { memset(st, 0, sizeof *st); }

/*
 * The shared loop. Returns the block length, HTTP1_INCOMPLETE or an error;
 * on a final result the progress in st is reset.
 */
static int parse_block(const char *buf, size_t len, struct msg *m, const struct http1_limits *ulim,
                       bool head)
{
    struct http1_state *st = m->st;
    struct http1_limits lim;
    limits_get(ulim, &lim);
    uintptr_t base = (uintptr_t)buf;
    if (st->base && (st->base != base || len < st->scan)) {
        state_reset(st); /* buffer moved or shrank: start over */
    }
    if (st->pos == 0 && st->stage == 0)
        *m->num = 0;
    st->base = base;

    size_t maxhb = lim.max_header_bytes;
    size_t pos = st->pos;
    size_t scan = st->scan > pos ? st->scan : pos;
    int rc;

    if (st->stage == 0) {
        if (m->req) {
            /* skip empty lines before the request line */
            while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n')) {
                if (buf[pos] == '\n')
                    goto err_line_ending;
                if (pos + 1 >= maxhb) {
                    rc = HTTP1_E_HEADERS_TOO_LARGE;
                    goto fail;
                }
                if (pos + 1 >= len)
                    goto incomplete;
                if (buf[pos + 1] != '\n')
                    goto err_line_ending;
                pos += 2;
                scan = pos;
            }
            if (pos >= len)
                goto incomplete;
            if (!IS(buf[pos], C_TCHAR)) {
                rc = HTTP1_E_METHOD;
                goto fail;
            }
        }
        size_t bound = pos + (size_t)lim.max_line + 2; /* the LF must lie before it */
        bool line_bound = bound <= maxhb;
        if (!line_bound)
            bound = maxhb;
        size_t stop = len < bound ? len : bound;
        if (scan == pos && m->req) {
            const char *lf = fast_request_line(buf + pos, buf + stop, m->req);
            if (lf) {
                pos = scan = (size_t)(lf - buf) + 1;
                st->stage = 1;
                goto headers;
            }
        }
        const char *lf = scan < stop ? memchr(buf + scan, '\n', stop - scan) : NULL;
        if (!lf) {
            if (len >= bound) {
                rc = line_bound ? HTTP1_E_LINE_TOO_LONG : HTTP1_E_HEADERS_TOO_LARGE;
                goto fail;
            }
            scan = len;
            goto incomplete;
        }
        rc = m->req ? parse_request_line(buf + pos, lf, m->req)
                    : parse_status_line(buf + pos, lf, m->res);
        if (rc)
            goto fail;
        pos = scan = (size_t)(lf - buf) + 1;
        st->stage = 1;
    }

headers:
    for (;;) {
        if (pos >= len)
            goto incomplete;
        char c = buf[pos];
        if (c == '\r') {
            if (pos + 1 >= maxhb) {
                rc = HTTP1_E_HEADERS_TOO_LARGE;
                goto fail;
            }
            if (pos + 1 >= len)
                goto incomplete;
            if (buf[pos + 1] != '\n')
                goto err_line_ending;
            pos += 2;
            break;
        }
        if (!IS(c, C_TCHAR)) {
            if (c == '\n')
                goto err_line_ending;
            rc = is_ows(c) ? HTTP1_E_OBS_FOLD : HTTP1_E_HEADER_NAME;
            goto fail;
        }
        if (*m->num >= m->cap) {
            rc = HTTP1_E_TOO_MANY_HEADERS;
            goto fail;
        }
        size_t stop = len < maxhb ? len : maxhb;
        struct http1_header *h = &m->hdrs[*m->num];
        const char *lf = NULL;
        if (scan == pos)
            lf = fast_field_line(buf + pos, buf + stop, h);
        if (lf)
            goto field_ok;
        lf = scan < stop ? memchr(buf + scan, '\n', stop - scan) : NULL;
        if (!lf) {
            if (len >= maxhb) {
                rc = HTTP1_E_HEADERS_TOO_LARGE;
                goto fail;
            }
            scan = len;
            goto incomplete;
        }
        rc = parse_field_line(buf + pos, lf, h);
        if (rc)
            goto fail;
    field_ok:
        rc = note_header(m, h);
        if (rc)
            goto fail;
        (*m->num)++;
        pos = scan = (size_t)(lf - buf) + 1;
    }

    rc = m->req ? finish_request(m->req, st) : finish_response(m->res, st, head);
    if (rc)
        goto fail;
    state_reset(st);
    return (int)pos;

incomplete:
    st->pos = pos;
    st->scan = scan;
    return HTTP1_INCOMPLETE;
err_line_ending:
    rc = HTTP1_E_LINE_ENDING;
fail:
    state_reset(st);
    return rc;
}

void http1_request_init(struct http1_request *req, struct http1_header *headers, size_t max_headers)
{
    memset(req, 0, sizeof *req);
    req->headers = headers;
    req->max_headers = max_headers;
}

void http1_response_init(struct http1_response *res, struct http1_header *headers, size_t max_headers)
{
    memset(res, 0, sizeof *res);
    res->headers = headers;
    res->max_headers = max_headers;
}

void http1_request_reset(struct http1_request *req) { state_reset(&req->st_); }
void http1_response_reset(struct http1_response *res) { state_reset(&res->st_); }

static size_t header_cap(size_t array, const struct http1_limits *lim)
{
    size_t l = lim && lim->max_headers ? lim->max_headers : http1_default_limits.max_headers;
    return array < l ? array : l;
}

/* ---- a request given part by part (HTTP/2) ------------------------------- */

/* The checks below are the ones parse_request_line, parse_field_line,
 * note_header and finish_request apply to a request read from bytes, with
 * the same character classes and the same error codes: a request that the
 * HTTP/1.1 path refuses is refused here with the same status. */

int http1_request_start(struct http1_request *req, const char *method, size_t method_len, const char *target,
                        size_t target_len, const struct http1_limits *lim)
{
    struct http1_limits l;
    limits_get(lim, &l);
    state_reset(&req->st_);
    req->num_headers = 0;
    req->body = HTTP1_BODY_NONE;
    req->content_length = 0;
    req->host = NULL;
    req->host_len = 0;
    req->keep_alive = req->expect_continue = req->upgrade = false;
    if (method_len == 0)
        return HTTP1_E_METHOD;
    for (size_t i = 0; i < method_len; i++)
        if (!IS(method[i], C_TCHAR))
            return HTTP1_E_METHOD;
    if (target_len == 0)
        return HTTP1_E_REQUEST_LINE;
    if (method_len + target_len + 10 > l.max_line) /* "M T HTTP/1.1" as the line it stands for */
        return HTTP1_E_LINE_TOO_LONG;
    for (size_t i = 0; i < target_len; i++)
        if (!IS(target[i], C_TARGET))
            return HTTP1_E_TARGET;
    req->method = method;
    req->method_len = method_len;
    req->meth = method_of(method, method_len);
    req->target = target;
    req->target_len = target_len;
    req->minor_version = 1;
    return classify_target(req);
}

int http1_request_field(struct http1_request *req, const char *name, size_t name_len, const char *value,
                        size_t value_len, const struct http1_limits *lim)
{
    if (name_len == 0)
        return HTTP1_E_HEADER_NAME;
    for (size_t i = 0; i < name_len; i++)
        if (!IS(name[i], C_TCHAR))
            return HTTP1_E_HEADER_NAME;
    const char *v = value, *end = value + value_len;
    if (skip_field(v, end) != end)
        return HTTP1_E_HEADER_VALUE;
    while (v < end && is_ows(*v))
        v++;
    while (end > v && is_ows(end[-1]))
        end--;
    if (req->num_headers >= header_cap(req->max_headers, lim))
        return HTTP1_E_TOO_MANY_HEADERS;
    struct http1_header *h = &req->headers[req->num_headers];
    *h = (struct http1_header){name, name_len, v, (size_t)(end - v)};
    struct msg m = {.st = &req->st_, .hdrs = req->headers, .num = &req->num_headers, .req = req};
    int rc = note_header(&m, h);
    if (rc)
        return rc;
    req->num_headers++;
    return 0;
}

int http1_request_finish(struct http1_request *req)
{
    int rc = finish_request(req, &req->st_);
    state_reset(&req->st_);
    return rc;
}

int http1_parse_request(const char *buf, size_t len, struct http1_request *req,
                        const struct http1_limits *lim)
{
    struct msg m = {
        .st = &req->st_, .hdrs = req->headers, .cap = header_cap(req->max_headers, lim),
        .num = &req->num_headers, .req = req, .res = NULL,
    };
    return parse_block(buf, len, &m, lim, false);
}

int http1_parse_response(const char *buf, size_t len, struct http1_response *res,
                         const struct http1_limits *lim, bool head_request)
{
    struct msg m = {
        .st = &res->st_, .hdrs = res->headers, .cap = header_cap(res->max_headers, lim),
        .num = &res->num_headers, .req = NULL, .res = res,
    };
    return parse_block(buf, len, &m, lim, head_request);
}

const struct http1_header *http1_find_header(const struct http1_header *h, size_t n,
                                             const char *name, size_t name_len)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name_len == name_len && caseeq(h[i].name, name, name_len))
            return &h[i];
    return NULL;
}

bool http1_list_has(const char *value, size_t value_len, const char *tok)
{
    size_t tl = strlen(tok);
    const char *p = value, *end = value + value_len;
    for (;;) {
        while (p < end && is_ows(*p))
            p++;
        const char *t = p;
        while (p < end && *p != ',')
            p++;
        const char *te = p;
        while (te > t && is_ows(te[-1]))
            te--;
        if ((size_t)(te - t) == tl && caseeq(t, tok, tl))
            return true;
        if (p == end)
            return false;
        p++; /* past ',' */
    }
}

/* ---- path normalisation ---------------------------------------------------- */

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int http1_normalize_path(const char *t, size_t n, char *out, size_t *out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *qm = memchr(t, '?', n);
    size_t pn = qm ? (size_t)(qm - t) : n;
    if (pn == 0 || t[0] != '/')
        return HTTP1_E_TARGET;
    size_t i = 0, o = 0;
    while (i < pn) {
        /* t[i] == '/': one segment up to the next '/' or the end */
        i++;
        size_t slash = o;
        out[o++] = '/';
        size_t s0 = o;
        while (i < pn && t[i] != '/') {
            unsigned char c = (unsigned char)t[i];
            if (c == '%') {
                if (pn - i < 3 || hexval((unsigned char)t[i + 1]) < 0 || hexval((unsigned char)t[i + 2]) < 0)
                    return HTTP1_E_TARGET;
                unsigned v = (unsigned)(hexval((unsigned char)t[i + 1]) * 16 + hexval((unsigned char)t[i + 2]));
                if (v == 0 || v == '/' || v == '\\')
                    return HTTP1_E_PATH_AMBIGUOUS;
                if (unreserved((unsigned char)v)) {
                    out[o++] = (char)v;
                } else {
                    out[o++] = '%';
                    out[o++] = hex[v >> 4];
                    out[o++] = hex[v & 15];
                }
                i += 3;
                continue;
            }
            if (c == '\\')
                return HTTP1_E_PATH_AMBIGUOUS;
            out[o++] = (char)c;
            i++;
        }
        bool last = i >= pn;
        size_t sl = o - s0;
        if (sl == 0) {
            if (!last)
                o = slash; /* "//": merged */
        } else if (sl == 1 && out[s0] == '.') {
            o = slash;
            if (last)
                out[o++] = '/';
        } else if (sl == 2 && out[s0] == '.' && out[s0 + 1] == '.') {
            if (slash == 0)
                return HTTP1_E_PATH_AMBIGUOUS; /* above the root */
            o = slash;
            while (o > 0 && out[o - 1] != '/')
                o--;
            o--; /* onto the '/' that began the removed segment */
            if (last)
                out[o++] = '/';
        }
    }
    memcpy(out + o, t + pn, n - pn);
    *out_len = o + (n - pn);
    return 0;
}

/* ---- chunked body --------------------------------------------------------- */

enum {
    CS_SIZE0,      /* first hex digit of a chunk size */
    CS_SIZE,       /* more hex digits */
    CS_EXT_BWS,    /* whitespace after size or extension: ';' or CR next */
    CS_EXT_NAME0,  /* after ';': BWS then token */
    CS_EXT_NAME,
    CS_EXT_NAME_WS,/* whitespace after name: '=' ';' or CR */
    CS_EXT_VAL0,   /* after '=': BWS then token or quoted-string */
    CS_EXT_VAL,
    CS_EXT_QUOTED,
    CS_EXT_QPAIR,
    CS_EXT_QEND,   /* after the closing quote */
    CS_SIZE_LF,    /* CR seen on the size line */
    CS_DATA,
    CS_DATA_CR,
    CS_DATA_LF,
    CS_TRL0,       /* start of a trailer line or the final CRLF */
    CS_TRL_NAME,
    CS_TRL_VAL,
    CS_TRL_LF,
    CS_END_LF,
    CS_DONE = 0xff,
};

void http1_chunked_init(struct http1_chunked *c, const struct http1_limits *lim)
{
    struct http1_limits l;
    limits_get(lim, &l);
    memset(c, 0, sizeof *c);
    c->max_ext = l.max_chunk_ext;
    c->max_trailer = l.max_trailer_bytes;
    c->state = CS_SIZE0;
}

/* Advance through the size-line states; returns 0 or an error. */
static inline int ext_byte(struct http1_chunked *c, unsigned char ch)
{
    if (++c->count > c->max_ext)
        return HTTP1_E_CHUNK_EXT_TOO_LONG;
    switch (c->state) {
    case CS_EXT_BWS:
        if (is_ows((char)ch))
            return 0;
        if (ch == ';') {
            c->state = CS_EXT_NAME0;
            return 0;
        }
        break;
    case CS_EXT_NAME0:
        if (is_ows((char)ch))
            return 0;
        if (IS(ch, C_TCHAR)) {
            c->state = CS_EXT_NAME;
            return 0;
        }
        break;
    case CS_EXT_NAME:
        if (IS(ch, C_TCHAR))
            return 0;
        if (is_ows((char)ch)) {
            c->state = CS_EXT_NAME_WS;
            return 0;
        }
        if (ch == '=') {
            c->state = CS_EXT_VAL0;
            return 0;
        }
        if (ch == ';') {
            c->state = CS_EXT_NAME0;
            return 0;
        }
        break;
    case CS_EXT_NAME_WS:
        if (is_ows((char)ch))
            return 0;
        if (ch == '=') {
            c->state = CS_EXT_VAL0;
            return 0;
        }
        if (ch == ';') {
            c->state = CS_EXT_NAME0;
            return 0;
        }
        break;
    case CS_EXT_VAL0:
        if (is_ows((char)ch))
            return 0;
        if (ch == '"') {
            c->state = CS_EXT_QUOTED;
            return 0;
        }
        if (IS(ch, C_TCHAR)) {
            c->state = CS_EXT_VAL;
            return 0;
        }
        break;
    case CS_EXT_VAL:
        if (IS(ch, C_TCHAR))
            return 0;
        if (is_ows((char)ch)) {
            c->state = CS_EXT_BWS;
            return 0;
        }
        if (ch == ';') {
            c->state = CS_EXT_NAME0;
            return 0;
        }
        break;
    case CS_EXT_QUOTED:
        if (ch == '"') {
            c->state = CS_EXT_QEND;
            return 0;
        }
        if (ch == '\\') {
            c->state = CS_EXT_QPAIR;
            return 0;
        }
        if (IS(ch, C_QDTEXT))
            return 0;
        break;
    case CS_EXT_QPAIR:
        if (IS(ch, C_FIELD)) { /* HTAB SP VCHAR obs-text */
            c->state = CS_EXT_QUOTED;
            return 0;
        }
        break;
    case CS_EXT_QEND:
        if (is_ows((char)ch)) {
            c->state = CS_EXT_BWS;
            return 0;
        }
        if (ch == ';') {
            c->state = CS_EXT_NAME0;
            return 0;
        }
        break;
    }
    return HTTP1_E_CHUNK_EXT;
}

int http1_chunked_next(struct http1_chunked *c, const char *buf, size_t len, size_t *consumed,
                       const char **data, size_t *data_len)
{
    size_t i = 0;
    int rc;
    if (c->state == CS_DONE) {
        *consumed = 0;
        return HTTP1_CHUNK_DONE;
    }
    while (i < len) {
        if (c->state == CS_DATA) {
            size_t n = len - i;
            if (n > c->remaining)
                n = (size_t)c->remaining;
            *data = buf + i;
            *data_len = n;
            c->remaining -= n;
            c->total += n;
            if (c->remaining == 0)
                c->state = CS_DATA_CR;
            *consumed = i + n;
            return HTTP1_CHUNK_DATA;
        }
        unsigned char ch = (unsigned char)buf[i];
        switch (c->state) {
        case CS_SIZE0:
        case CS_SIZE: {
            int d = hexval(ch);
            if (d >= 0) {
                /* at most 16 digits, value below 2^63 */
                if (c->count == 16 || (c->count == 15 && c->remaining > (UINT64_MAX >> 5)))
                    goto bad_size;
                c->remaining = (c->remaining << 4) | (uint64_t)d;
                c->count++;
                c->state = CS_SIZE;
                break;
            }
            if (c->state == CS_SIZE0)
                goto bad_size;
            c->count = 0;
            if (ch == '\r') {
                c->state = CS_SIZE_LF;
            } else if (ch == ';' || is_ows((char)ch)) {
                c->state = CS_EXT_BWS;
                if ((rc = ext_byte(c, ch)) != 0)
                    goto fail;
            } else {
                goto bad_size;
            }
            break;
        }
        case CS_EXT_BWS:
        case CS_EXT_NAME:
        case CS_EXT_NAME_WS:
        case CS_EXT_VAL:
        case CS_EXT_QEND:
            if (ch == '\r') {
                c->state = CS_SIZE_LF;
                break;
            }
            /* fall through */
        case CS_EXT_NAME0:
        case CS_EXT_VAL0:
        case CS_EXT_QUOTED:
        case CS_EXT_QPAIR:
            if ((rc = ext_byte(c, ch)) != 0)
                goto fail;
            break;
        case CS_SIZE_LF:
            if (ch != '\n') {
                rc = HTTP1_E_LINE_ENDING;
                goto fail;
            }
            c->count = 0;
            c->state = c->remaining ? CS_DATA : CS_TRL0;
            break;
        case CS_DATA_CR:
            if (ch != '\r') {
                rc = HTTP1_E_CHUNK_DATA;
                goto fail;
            }
            c->state = CS_DATA_LF;
            break;
        case CS_DATA_LF:
            if (ch != '\n') {
                rc = HTTP1_E_CHUNK_DATA;
                goto fail;
            }
            c->state = CS_SIZE0;
            break;
        case CS_TRL0:
        case CS_TRL_NAME:
        case CS_TRL_VAL:
        case CS_TRL_LF:
        case CS_END_LF:
            if (++c->trailer_bytes > c->max_trailer) {
                rc = HTTP1_E_TRAILER_TOO_LARGE;
                goto fail;
            }
            switch (c->state) {
            case CS_TRL0:
                if (ch == '\r')
                    c->state = CS_END_LF;
                else if (IS(ch, C_TCHAR))
                    c->state = CS_TRL_NAME;
                else
                    goto bad_trailer;
                break;
            case CS_TRL_NAME:
                if (ch == ':')
                    c->state = CS_TRL_VAL;
                else if (!IS(ch, C_TCHAR))
                    goto bad_trailer;
                break;
            case CS_TRL_VAL:
                if (ch == '\r')
                    c->state = CS_TRL_LF;
                else if (!IS(ch, C_FIELD))
                    goto bad_trailer;
                break;
            case CS_TRL_LF:
                if (ch != '\n') {
                    rc = HTTP1_E_LINE_ENDING;
                    goto fail;
                }
                c->state = CS_TRL0;
                break;
            case CS_END_LF:
                if (ch != '\n') {
                    rc = HTTP1_E_LINE_ENDING;
                    goto fail;
                }
                c->state = CS_DONE;
                *consumed = i + 1;
                return HTTP1_CHUNK_DONE;
            }
            break;
        default:
            rc = HTTP1_E_CHUNK_SIZE; /* corrupted state: fail closed */
            goto fail;
        }
        i++;
    }
    *consumed = len;
    return HTTP1_INCOMPLETE;

bad_size:
    rc = HTTP1_E_CHUNK_SIZE;
    goto fail;
bad_trailer:
    rc = HTTP1_E_TRAILER;
fail:
    *consumed = i;
    return rc;
}

int http1_chunked_scan(struct http1_chunked *c, const char *buf, size_t len, size_t *consumed)
{
    size_t off = 0;
    for (;;) {
        size_t n;
        const char *d;
        size_t dl;
        int rc = http1_chunked_next(c, buf + off, len - off, &n, &d, &dl);
        off += n;
        if (rc != HTTP1_CHUNK_DATA) {
            *consumed = off;
            return rc;
        }
    }
}

int http1_chunked_decode(struct http1_chunked *c, char *buf, size_t len, size_t *consumed,
                         size_t *data_len)
{
    size_t off = 0, out = 0;
    for (;;) {
        size_t n;
        const char *d;
        size_t dl;
        int rc = http1_chunked_next(c, buf + off, len - off, &n, &d, &dl);
        if (rc == HTTP1_CHUNK_DATA) {
            memmove(buf + out, d, dl);
            out += dl;
        }
        off += n;
        if (rc != HTTP1_CHUNK_DATA) {
            *consumed = off;
            *data_len = out;
            return rc;
        }
    }
}

/* ---- writers ---------------------------------------------------------------- */

const char *http1_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* Decimal digits of v into dst (>= 20 bytes); returns the length. */
static size_t u64_to_str(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

/* Writers send 500 for a status outside 100..599 rather than a malformed line. */
static int norm_status(int status) { return (status < 100 || status > 599) ? 500 : status; }

static size_t status_line(char *dst, int status)
{
    memcpy(dst, "HTTP/1.1 ", 9);
    dst[9] = (char)('0' + status / 100);
    dst[10] = (char)('0' + status / 10 % 10);
    dst[11] = (char)('0' + status % 10);
    dst[12] = ' ';
    return 13;
}

void http1_write_status_line(struct buf *b, int status)
{
    char tmp[16];
    status = norm_status(status);
    buf_append(b, tmp, status_line(tmp, status));
    buf_puts(b, http1_status_reason(status));
    buf_append(b, "\r\n", 2);
}

void http1_write_header(struct buf *b, const char *name, const char *value, size_t value_len)
{
    buf_puts(b, name);
    buf_append(b, ": ", 2);
    buf_append(b, value, value_len);
    buf_append(b, "\r\n", 2);
}

size_t http1_format_date(char *dst, time_t t)
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        dst[0] = '\0';
        return 0;
    }
    int n = snprintf(dst, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
                     tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    return n < 0 ? 0 : (n > 29 ? 29 : (size_t)n);
}

/* ---- HTTP-date (RFC 9110 5.6.7) ---------------------------------------- */

static int date_month(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, months + i * 3, 3) == 0)
            return i;
    return -1;
}

/* n digits at s into *out; false unless all are digits */
static bool date_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "HH:MM:SS" */
static bool date_clock(const char *s, int *h, int *m, int *sec)
{
    return date_digits(s, 2, h) && s[2] == ':' && date_digits(s + 3, 2, m) && s[5] == ':' &&
           date_digits(s + 6, 2, sec) && *h < 24 && *m < 60 && *sec <= 60;
}

bool http1_parse_date(const char *s, size_t n, time_t *out)
{
    char b[64];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n < 24 || n >= sizeof b)
        return false;
    memcpy(b, s, n);
    b[n] = '\0';
    int day, mon, year, h, m, sec;
    const char *comma = memchr(b, ',', n);
    if (comma && comma - b == 3 && n == 29) {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        const char *p = b + 4;
        if (p[0] != ' ' || !date_digits(p + 1, 2, &day) || p[3] != ' ' || (mon = date_month(p + 4)) < 0 ||
            p[7] != ' ' || !date_digits(p + 8, 4, &year) || p[12] != ' ' || !date_clock(p + 13, &h, &m, &sec) ||
            strcmp(p + 21, " GMT") != 0)
            return false;
    } else if (comma) {
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        const char *p = comma + 1;
        if ((size_t)(b + n - p) != 23 || p[0] != ' ' || !date_digits(p + 1, 2, &day) || p[3] != '-' ||
            (mon = date_month(p + 4)) < 0 || p[7] != '-' || !date_digits(p + 8, 2, &year) || p[10] != ' ' ||
            !date_clock(p + 11, &h, &m, &sec) || strcmp(p + 19, " GMT") != 0)
            return false;
        year += year < 70 ? 2000 : 1900;
    } else {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        if (n != 24 || b[3] != ' ' || (mon = date_month(b + 4)) < 0 || b[7] != ' ')
            return false;
        char d[2] = {b[8] == ' ' ? '0' : b[8], b[9]};
        if (!date_digits(d, 2, &day) || b[10] != ' ' || !date_clock(b + 11, &h, &m, &sec) || b[19] != ' ' ||
            !date_digits(b + 20, 4, &year))
            return false;
    }
    if (day < 1 || day > 31 || year < 1900)
        return false;
    struct tm tm = {0};
    tm.tm_mday = day;
    tm.tm_mon = mon;
    tm.tm_year = year - 1900;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec > 59 ? 59 : sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out = t;
    return true;
}

static const char *date_now(size_t *len)
{
    static _Thread_local time_t cached_t;
    static _Thread_local char cached[30];
    static _Thread_local size_t cached_len;
    time_t now = time(NULL);
    if (now != cached_t || cached_len == 0) {
        cached_len = http1_format_date(cached, now);
        cached_t = now;
    }
    *len = cached_len;
    return cached;
}

unsigned http1_request_write_flags(const struct http1_request *req)
{
    unsigned f = 0;
    if (!req->keep_alive)
        f |= HTTP1_W_CLOSE;
    else if (req->minor_version == 0)
        f |= HTTP1_W_KEEP_ALIVE;
    if (req->meth == HTTP1_METHOD_HEAD)
        f |= HTTP1_W_HEAD;
    return f;
}

void http1_write_response(struct buf *b, int status, const char *content_type,
                          const void *body, size_t body_len,
                          const char *extra_headers, unsigned flags)
{
    status = norm_status(status);
    bool bodyless = status < 200 || status == 204 || status == 304;
    http1_write_status_line(b, status);
    if (flags & HTTP1_W_DATE) {
        size_t dl;
        const char *d = date_now(&dl);
        http1_write_header(b, "Date", d, dl);
    }
    if (!bodyless) {
        if (content_type)
            http1_write_header(b, "Content-Type", content_type, strlen(content_type));
        char num[24];
        http1_write_header(b, "Content-Length", num, u64_to_str(num, body_len));
    }
    if (flags & HTTP1_W_CLOSE)
        buf_append(b, "Connection: close\r\n", 19);
    else if (flags & HTTP1_W_KEEP_ALIVE)
        buf_append(b, "Connection: keep-alive\r\n", 24);
    if (extra_headers)
        buf_puts(b, extra_headers);
    buf_append(b, "\r\n", 2);
    if (!bodyless && !(flags & HTTP1_W_HEAD) && body_len)
        buf_append(b, body, body_len);
}

void http1_write_error(struct buf *b, int err)
{
    char body[80];
    int n = snprintf(body, sizeof body, "%s\n", http1_strerror(err));
    http1_write_response(b, http1_err_status(err), "text/plain", body,
                         n < 0 ? 0 : (size_t)n, NULL, HTTP1_W_CLOSE);
}

void http1_write_chunk(struct buf *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    char hex[20];
    size_t n = 0;
    size_t v = len;
    char tmp[16];
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    for (size_t i = 0; i < n; i++)
        hex[i] = tmp[n - 1 - i];
    hex[n++] = '\r';
    hex[n++] = '\n';
    buf_append(b, hex, n);
    buf_append(b, data, len);
    buf_append(b, "\r\n", 2);
}

void http1_write_last_chunk(struct buf *b) { buf_append(b, "0\r\n\r\n", 5); }
