/*
 * http1.h — strict HTTP/1.1 message parser (requests and responses), chunked
 * body decoder and small response writers.
 *
 * Users: the lb role (client requests, backend responses, body streaming,
 * request-smuggling defence), the bench role (responses at high rate) and the
 * admin endpoint of every role (/metrics, /status).
 *
 * Parser (picohttpparser style): it allocates nothing and copies nothing. It
 * looks at the bytes received so far and returns the length of the header
 * block, HTTP1_INCOMPLETE, or a negative error code. Method, target, reason
 * and header slices point into the caller's buffer; the caller provides the
 * header array. Framing is derived once, here, so that every user agrees on
 * where a message ends:
 *
 *     "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
 *      |<--------------- return value (header block) --------->|<body>|
 *                                         req.body = HTTP1_BODY_LENGTH, 5
 *
 * Resumption: while a parse returns HTTP1_INCOMPLETE the struct remembers which
 * lines are already validated and how far the current line was searched for
 * its LF, so a header block arriving one byte at a time costs O(n), not
 * O(n^2). Call again with the same message start and more bytes (the earlier
 * bytes unchanged). If the buffer moved (realloc, memmove) the parse silently
 * restarts from the first byte: correct, only slower. A final result (> 0 or
 * an error) resets the progress, so the next call starts a new message.
 *
 * Outcome is independent of how input is split: the result of a parse over
 * bytes [0, n) is the same whether they arrived at once or in pieces, and an
 * error reported for a prefix is the error the whole input gets. Errors inside
 * a line are reported once the line's LF has arrived (or a size limit is
 * passed); errors decided by a line's first byte are reported at once (a
 * request whose first byte cannot start a method — TLS or garbage sent to a
 * plain-text port —, obs-fold, a bare LF, too many headers).
 *
 * Speed: the first look at each line is an optimistic single pass (token
 * table for names, 8 bytes per step for values and targets); anything unusual
 * falls back to memchr + full validation, which alone decides errors. On a
 * 2.1 GHz EPYC VM a typical 190-byte request or response parses in ~70 ns,
 * a 700-byte browser request in ~155 ns.
 *
 * Strictness (each is an error, never forwarded) — decisions on the cases the
 * RFCs leave open, chosen for safety in a proxy:
 *   - Lines end in CRLF. A bare LF or a bare CR anywhere is an error.
 *   - Empty lines (CRLF) before a request line are skipped (RFC 9112 2.2);
 *     they count toward max_header_bytes and the return value. Not for
 *     responses.
 *   - Exactly one SP between request-line parts. Target: VCHAR except '#'
 *     (a fragment is never sent; HAProxy rejects it too), no obs-text. Forms:
 *     origin ("/..."), absolute ("scheme:..."), authority (CONNECT only, and
 *     CONNECT only takes it) and asterisk ("*", OPTIONS only).
 *   - Versions: "HTTP/1.0" and "HTTP/1.1" only; any other "HTTP/d.d" is 505,
 *     anything else 400. Status code 100..599, three digits. The SP after the
 *     status code may be left out when the reason is empty ("HTTP/1.1 200").
 *   - Header names are tokens; whitespace before the colon is an error;
 *     a line starting with SP/HTAB (obs-fold) is an error; values may hold
 *     HTAB, SP, VCHAR and obs-text only (no NUL, no CTL, no DEL).
 *   - Content-Length: 1*DIGIT (leading zeros allowed) up to 2^63-1. More than
 *     one Content-Length field, or a list value, is rejected even when the
 *     values are identical ("5, 5"): nginx does the same, and a message that
 *     repeats its length was built by something we should not trust.
 *   - Transfer-Encoding: a comma list of codings (several fields concatenate).
 *     Empty elements are rejected. "chunked" takes no parameters and may
 *     appear once, last. Request: chunked not last or twice → 400; any other
 *     coding → 501 (RFC 9112 6.1 SHOULD). Response: chunked twice → error;
 *     not last → body until close (RFC 9112 6.3). Transfer-Encoding in an
 *     HTTP/1.0 message is an error (RFC 9112 6.1 "faulty framing").
 *   - Content-Length together with Transfer-Encoding is an error in requests
 *     and in responses (RFC 9112 6.3 allows a response to use TE, but says it
 *     "ought to be handled as an error"; the proxy answers 502).
 *   - Host: required in HTTP/1.1 requests, at most one, value limited to the
 *     RFC 3986 host[:port] characters (may be empty). With an absolute-form
 *     target the Host value must equal the target's authority
 *     (case-insensitively), so a proxy and its backend cannot route on two
 *     different hosts.
 *   - Response framing: 1xx, 204, 304 and responses to HEAD have no body (any
 *     Content-Length is still validated and reported); chunked → chunked; else
 *     Content-Length; else until close. A 2xx response to CONNECT becomes a
 *     tunnel: the caller knows the request method and handles that.
 *
 * Errors are negative codes from the HTTP1_ERRORS list, each with the status a
 * server answers to a bad *request*; a proxy answers 502 to any error in a
 * backend response.
 *
 * Chunked bodies: struct http1_chunked is a byte-exact state machine that can
 * be fed arbitrarily split input and never rescans. http1_chunked_scan()
 * validates the framing without touching the bytes (a proxy forwards the raw
 * chunked body as it arrives), http1_chunked_next() reports each run of data
 * in place, http1_chunked_decode() compacts the data in place.
 *
 * All functions are reentrant and run on any thread; they keep no global
 * state except the per-thread cache of http1_write_response()'s Date line.
 */
#ifndef SCALEOUT_PROTO_HTTP1_H
#define SCALEOUT_PROTO_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/util.h"

/* ---- errors ----------------------------------------------------------- */

/*      name                 status  text */
#define HTTP1_ERRORS(X) \
    X(METHOD,                400, "invalid method") \
    X(TARGET,                400, "invalid request target") \
    X(REQUEST_LINE,          400, "malformed request line") \
    X(LINE_TOO_LONG,         414, "request line too long") \
    X(VERSION,               400, "malformed HTTP version") \
    X(VERSION_UNSUPPORTED,   505, "HTTP version not supported") \
    X(STATUS_LINE,           400, "malformed status line") \
    X(LINE_ENDING,           400, "bare CR or LF") \
    X(OBS_FOLD,              400, "obsolete line folding") \
    X(HEADER_NAME,           400, "invalid header name") \
    X(HEADER_SPACE,          400, "whitespace before colon in header") \
    X(HEADER_VALUE,          400, "invalid character in header value") \
    X(HEADERS_TOO_LARGE,     431, "header section too large") \
    X(TOO_MANY_HEADERS,      431, "too many header fields") \
    X(CONTENT_LENGTH,        400, "invalid Content-Length") \
    X(CONTENT_LENGTH_DUP,    400, "multiple Content-Length") \
    X(CL_AND_TE,             400, "both Content-Length and Transfer-Encoding") \
    X(TE_INVALID,            400, "invalid Transfer-Encoding") \
    X(TE_UNSUPPORTED,        501, "unsupported transfer coding") \
    X(TE_HTTP10,             400, "Transfer-Encoding in HTTP/1.0 message") \
    X(HOST_MISSING,          400, "missing Host header") \
    X(HOST_DUP,              400, "multiple Host headers") \
    X(HOST_INVALID,          400, "invalid Host header") \
    X(HOST_MISMATCH,         400, "Host does not match request target") \
    X(PATH_AMBIGUOUS,        400, "ambiguous request path") \
    X(CHUNK_SIZE,            400, "invalid chunk size") \
    X(CHUNK_EXT,             400, "invalid chunk extension") \
    X(CHUNK_EXT_TOO_LONG,    400, "chunk extension too long") \
    X(CHUNK_DATA,            400, "missing CRLF after chunk data") \
    X(TRAILER,               400, "invalid trailer field") \
    X(TRAILER_TOO_LARGE,     400, "trailer section too large")

enum http1_err_index {
    HTTP1_ERRI__NONE,
#define HTTP1_X_IDX(name, status, text) HTTP1_ERRI_##name,
    HTTP1_ERRORS(HTTP1_X_IDX)
#undef HTTP1_X_IDX
    HTTP1_ERRI__COUNT
};

enum {
    HTTP1_INCOMPLETE = 0,
#define HTTP1_X_ERR(name, status, text) HTTP1_E_##name = -HTTP1_ERRI_##name,
    HTTP1_ERRORS(HTTP1_X_ERR)
#undef HTTP1_X_ERR
};

/* Text of a code ("invalid method"), "unknown error" if not an error code. */
const char *http1_strerror(int err);
/* Identifier of a code without prefix ("METHOD"), for logs and metrics labels. */
const char *http1_err_name(int err);
/* HTTP status a server answers to a request that failed with err (400 if unknown). */
int http1_err_status(int err);

/* ---- limits ----------------------------------------------------------- */

/* A field left 0 takes its default. */
struct http1_limits {
    uint32_t max_line;          /* request/status line without CRLF → 414 */
    uint32_t max_header_bytes;  /* whole header block incl. start line → 431 */
    uint32_t max_headers;       /* header fields (also capped by the array) → 431 */
    uint32_t max_chunk_ext;     /* bytes of extensions on one chunk-size line */
    uint32_t max_trailer_bytes; /* trailer section of a chunked body */
};

#define HTTP1_LIMITS_DEFAULT \
    { .max_line = 8192, .max_header_bytes = 32768, .max_headers = 100, \
      .max_chunk_ext = 1024, .max_trailer_bytes = 8192 }

extern const struct http1_limits http1_default_limits;

/* ---- parsed messages -------------------------------------------------- */

struct http1_header {
    const char *name;    /* as received (compare case-insensitively) */
    size_t name_len;
    const char *value;   /* leading and trailing SP/HTAB removed */
    size_t value_len;
};

/* Whether h is the field called name (lowercase; field names compare
 * without case). Inline: the lb asks it of every field it forwards. */
static inline bool http1_header_is(const struct http1_header *h, const char *name)
{
    return util_strieq(h->name, h->name_len, name);
}

enum http1_body {
    HTTP1_BODY_NONE,        /* no body */
    HTTP1_BODY_LENGTH,      /* content_length bytes (may be 0) */
    HTTP1_BODY_CHUNKED,     /* chunked: feed it to struct http1_chunked */
    HTTP1_BODY_UNTIL_CLOSE, /* responses only: the body ends when the server closes */
};

enum http1_method {
    HTTP1_METHOD_OTHER,     /* any other token: see method/method_len */
    HTTP1_METHOD_GET,
    HTTP1_METHOD_HEAD,
    HTTP1_METHOD_POST,
    HTTP1_METHOD_PUT,
    HTTP1_METHOD_DELETE,
    HTTP1_METHOD_CONNECT,
    HTTP1_METHOD_OPTIONS,
    HTTP1_METHOD_TRACE,
    HTTP1_METHOD_PATCH,
};

enum http1_target_form {
    HTTP1_TARGET_ORIGIN,    /* /path?query */
    HTTP1_TARGET_ABSOLUTE,  /* http://host/path (forward-proxy style) */
    HTTP1_TARGET_AUTHORITY, /* host:port (CONNECT) */
    HTTP1_TARGET_ASTERISK,  /* * (OPTIONS) */
};

/* Private resumption state; zeroed by *_init and *_reset. */
struct http1_state {
    uintptr_t base;          /* address of buf on the previous call */
    size_t pos;              /* offset of the first line not yet parsed */
    size_t scan;             /* no LF in [pos, scan) */
    const char *host;        /* Host value seen so far */
    size_t host_len;
    uint64_t content_length;
    uint32_t flags;          /* HTTP1_S_* in http1.c */
    uint8_t stage;           /* 0 start line, 1 header lines */
};

struct http1_request {
    /* caller's header array (set by http1_request_init) */
    struct http1_header *headers;
    size_t max_headers;

    /* results, valid after a return > 0 while buf is unchanged */
    const char *method;
    size_t method_len;
    enum http1_method meth;
    const char *target;
    size_t target_len;
    enum http1_target_form target_form;
    int minor_version;          /* 0 or 1 */
    size_t num_headers;
    const char *host;           /* Host value, NULL when absent (HTTP/1.0 only) */
    size_t host_len;
    enum http1_body body;       /* NONE, LENGTH or CHUNKED */
    uint64_t content_length;    /* when body == LENGTH */
    bool keep_alive;            /* 1.1 unless "close"; 1.0 only with "keep-alive" */
    bool expect_continue;       /* HTTP/1.1 with Expect: 100-continue */
    bool upgrade;               /* HTTP/1.1 with Upgrade and Connection: upgrade */

    struct http1_state st_;
};

struct http1_response {
    struct http1_header *headers;
    size_t max_headers;

    int status;                 /* 100..599 */
    const char *reason;
    size_t reason_len;
    int minor_version;
    size_t num_headers;
    enum http1_body body;
    uint64_t content_length;    /* when has_content_length (also for HEAD/304) */
    bool has_content_length;
    bool keep_alive;            /* false when body == UNTIL_CLOSE */
    bool upgrade;               /* 101 Switching Protocols: the connection is a tunnel now */

    struct http1_state st_;
};

/* Attach the caller's header array (capacity max_headers) and reset. */
void http1_request_init(struct http1_request *req, struct http1_header *headers, size_t max_headers);
void http1_response_init(struct http1_response *res, struct http1_header *headers, size_t max_headers);
/* Forget a partial parse (the caller dropped or replaced the input). */
void http1_request_reset(struct http1_request *req);
void http1_response_reset(struct http1_response *res);

/*
 * Parse the request whose first byte is buf[0], from the len bytes received
 * so far. lim may be NULL (http1_default_limits).
 * Returns:
 *   > 0               length of the header block (leading empty lines, start
 *                     line, headers, final CRLF): the body starts there.
 *                     Results in *req are set.
 *   HTTP1_INCOMPLETE  need more bytes; call again with the same buf start.
 *   < 0               HTTP1_E_*: answer http1_err_status(err) and close.
 * Never reads buf[len] or beyond; never allocates.
 */
int http1_parse_request(const char *buf, size_t len, struct http1_request *req,
                        const struct http1_limits *lim);

/*
 * The same for a response. head_request: the request was HEAD, so the
 * response has no body whatever its headers say. Interim 1xx responses are
 * returned like any other (body NONE); the caller skips them and parses again.
 */
int http1_parse_response(const char *buf, size_t len, struct http1_response *res,
                         const struct http1_limits *lim, bool head_request);

/*
 * The same request given in parts instead of bytes (an HTTP/2 header list):
 * http1_request_start with the method and target, http1_request_field for
 * each field (the slices must stay valid while req is used; values lose
 * their leading and trailing SP/HTAB as on the wire), then
 * http1_request_finish. Each applies the checks http1_parse_request makes
 * of that part (token method and names, target characters and form, field
 * value characters, Host, Content-Length, Transfer-Encoding, Connection,
 * the header count and the request line length of lim), so the message
 * gets the same results and the same HTTP1_E_* codes; minor_version is 1.
 * Each returns 0 or a negative HTTP1_E_* (the request is then refused).
 */
int http1_request_start(struct http1_request *req, const char *method, size_t method_len, const char *target,
                        size_t target_len, const struct http1_limits *lim);
int http1_request_field(struct http1_request *req, const char *name, size_t name_len, const char *value,
                        size_t value_len, const struct http1_limits *lim);
int http1_request_finish(struct http1_request *req);

/* First header named name (case-insensitive), or NULL. */
const struct http1_header *http1_find_header(const struct http1_header *h, size_t n,
                                             const char *name, size_t name_len);
/* Whether the comma-separated list value contains token tok (case-insensitive),
 * e.g. http1_list_has(v, vlen, "close"). */
bool http1_list_has(const char *value, size_t value_len, const char *tok);

/*
 * Normalise the path of an origin-form target ("/a/./b/../c?q") the way
 * RFC 3986 6.2.2 does, so that whoever routes on it and whoever serves it
 * see the same path: percent-encoded unreserved characters are decoded
 * ("%7Euser" -> "~user", "%2e" -> "."), other triplets get upper-case hex,
 * "." and ".." segments are removed (section 5.2.4) and runs of '/' are merged
 * into one (as nginx's merge_slashes). The query (from the first '?') is
 * copied unchanged. out must hold n bytes (the result is never longer).
 * Returns 0 with *out_len set, HTTP1_E_TARGET when t is not a path or holds
 * a malformed triplet, or HTTP1_E_PATH_AMBIGUOUS for what two servers could
 * read differently: an encoded '/' (%2F), a backslash (raw or %5C), an
 * encoded NUL (%00), or a ".." that climbs above the root.
 */
int http1_normalize_path(const char *t, size_t n, char *out, size_t *out_len);

/* ---- chunked body ------------------------------------------------------ */

struct http1_chunked {
    uint64_t remaining;     /* data bytes left in the current chunk / size being read */
    uint64_t total;         /* data bytes seen so far (all chunks) */
    uint32_t count;         /* digits or extension bytes of the current size line */
    uint32_t trailer_bytes; /* bytes of trailer section so far */
    uint32_t max_ext;
    uint32_t max_trailer;
    uint8_t state;
};

enum {
    HTTP1_CHUNK_DATA = 1,   /* http1_chunked_next: a data span is reported */
    HTTP1_CHUNK_DONE = 2,   /* the body ended (last chunk, trailers, CRLF seen) */
};

/* Start a chunked body; lim may be NULL. */
void http1_chunked_init(struct http1_chunked *c, const struct http1_limits *lim);
static inline bool http1_chunked_done(const struct http1_chunked *c) { return c->state == 0xff; }

/*
 * Validate chunked framing without modifying it (proxy mode). *consumed is
 * the number of bytes of buf that belong to the body.
 * Returns HTTP1_CHUNK_DONE (the body ends after *consumed bytes; the rest of
 * buf is the next message), HTTP1_INCOMPLETE (*consumed == len: all of buf is
 * body, send more) or a negative HTTP1_E_* (*consumed is the offset of the bad
 * byte). Input may be split anywhere; each byte is looked at once.
 */
int http1_chunked_scan(struct http1_chunked *c, const char *buf, size_t len, size_t *consumed);

/*
 * Walk the framing up to the next run of chunk data.
 * Returns HTTP1_CHUNK_DATA with [*data, *data + *data_len) inside buf, ending
 * at buf + *consumed; HTTP1_CHUNK_DONE as above; HTTP1_INCOMPLETE with
 * *consumed == len; or a negative HTTP1_E_*. Call again from buf + *consumed.
 */
int http1_chunked_next(struct http1_chunked *c, const char *buf, size_t len, size_t *consumed,
                       const char **data, size_t *data_len);

/*
 * Decode in place: the chunk data found in buf[0, len) is moved to the front
 * of buf, *data_len bytes of it; *consumed input bytes were used. Returns
 * HTTP1_CHUNK_DONE, HTTP1_INCOMPLETE (*consumed == len) or a negative error.
 */
int http1_chunked_decode(struct http1_chunked *c, char *buf, size_t len, size_t *consumed,
                         size_t *data_len);

/* ---- writers ------------------------------------------------------------ */

/* Standard reason phrase ("Not Found"), "Unknown" for codes without one. */
const char *http1_status_reason(int status);

enum {
    HTTP1_W_CLOSE = 1 << 0,      /* send "Connection: close" */
    HTTP1_W_KEEP_ALIVE = 1 << 1, /* send "Connection: keep-alive" (HTTP/1.0 clients) */
    HTTP1_W_HEAD = 1 << 2,       /* response to HEAD: headers only, same Content-Length */
    HTTP1_W_DATE = 1 << 3,       /* send "Date:" (IMF-fixdate, cached per second) */
};

/* Flags that answer req correctly: CLOSE unless keep-alive, KEEP_ALIVE for a
 * persistent HTTP/1.0 client, HEAD for HEAD. */
unsigned http1_request_write_flags(const struct http1_request *req);

/*
 * Append a complete response:
 *   HTTP/1.1 <status> <reason>\r\n
 *   [Date: ...\r\n] [Content-Type: <content_type>\r\n] Content-Length: <n>\r\n
 *   [Connection: close|keep-alive\r\n] <extra_headers> \r\n <body>
 * content_type and extra_headers may be NULL; extra_headers is a block of
 * complete "Name: value\r\n" lines. Without HTTP1_W_DATE this is the minimal
 * form (no Date), appropriate for 1xx/5xx and for a server without a clock;
 * an origin answering 2xx-4xx should pass HTTP1_W_DATE (RFC 9110 6.6.1).
 * 1xx, 204 and 304 get no Content-Length and no body.
 */
void http1_write_response(struct buf *b, int status, const char *content_type,
                          const void *body, size_t body_len,
                          const char *extra_headers, unsigned flags);

/* Append the error response for a parse error: its status, text/plain body
 * with the error text, Connection: close. */
void http1_write_error(struct buf *b, int err);

/* "HTTP/1.1 <status> <reason>\r\n" */
void http1_write_status_line(struct buf *b, int status);
/* "<name>: <value>\r\n" */
void http1_write_header(struct buf *b, const char *name, const char *value, size_t value_len);
/* One chunk "<hex>\r\n<data>\r\n" (nothing for len 0), and the last chunk "0\r\n\r\n". */
void http1_write_chunk(struct buf *b, const void *data, size_t len);
void http1_write_last_chunk(struct buf *b);
/* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes) into dst[30], NUL-terminated. */
size_t http1_format_date(char *dst, time_t t);
/* Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime form; surrounding
 * blanks allowed) into *out; false when it is none of them. */
bool http1_parse_date(const char *s, size_t n, time_t *out);

#endif
