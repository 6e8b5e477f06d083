/*
 * admin.h — the admin HTTP endpoint every role serves on loopback:
 * GET /metrics (Prometheus text) and GET /status (JSON), plus whatever the
 * role's handler answers (the lb's runtime control takes POST and DELETE with
 * small form bodies). Small, strict (proto/http1), keep-alive, bounded: request
 * and body sizes are capped per endpoint, idle connections close after 30 s,
 * and at most 64 admin connections are open at once.
 *
 * Bounded pipelining: a client may pipeline requests, but bytes it sends while
 * an answer is still being written are held only up to max_request + max_body
 * + 4 KiB; past that the connection is closed (a client that sends without
 * reading cannot grow the server's memory).
 *
 * Host check (DNS rebinding): a request whose Host is not a loopback name or
 * address (localhost, 127.0.0.0/8, [::1]), nor the bind address, nor one of
 * allow_hosts, is answered 403 and the connection closed; so a web page whose
 * name a rebinding DNS points at 127.0.0.1 cannot read /status or /metrics
 * from a browser. HTTP/1.0 requests without Host are served.
 */
#ifndef SCALEOUT_NET_ADMIN_H
#define SCALEOUT_NET_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/buf.h"
#include "proto/http1.h"

struct admin;

/* A request as the handler sees it. */
struct admin_req {
    enum http1_method method;
    const char *path;               /* target without the query, NUL-terminated */
    const char *params;             /* query string, then a form body, joined by '&'; NUL-terminated */
    size_t params_len;
    const struct http1_request *http; /* headers (http1_find_header) */
};

/* What the handler answers: status (default 404), content type, body, and
 * optional extra header lines ("Name: value\r\n..."). */
struct admin_resp {
    int status;
    const char *ctype;
    struct buf body;
    const char *extra_headers;
};

/* Runs on the loop's thread. A 404 with an empty body gets a generic text. */
typedef void (*admin_handler_fn)(void *arg, const struct admin_req *req, struct admin_resp *resp);

struct admin_opts {
    size_t max_request;  /* request line + headers; 0 = 8 KiB; larger gets 431 */
    size_t max_body;     /* Content-Length bodies accepted (0: none, 413); chunked never */
    const char *allow_hosts; /* more Host names allowed, separated by spaces or commas
                                (without port; "*": any); NULL or "": loopback only.
                                Copied by admin_open. */
};

/* Whether Host value [h, h+n) (with or without port) is allowed by the rule
 * above: loopback, bind (may be NULL), or a name in allow (may be NULL). */
bool admin_host_allowed(const char *h, size_t n, const char *bind, const char *allow);

/* The value of key in req->params (query string and form body), percent-
 * decoded into out; false when absent or longer than cap - 1. */
bool admin_param(const struct admin_req *req, const char *key, char *out, size_t cap);

/* Start a 200 answer of Prometheus text (admin_ok_metrics) or JSON
 * (admin_ok_json) and return the body to write it into. */
struct buf *admin_ok_metrics(struct admin_resp *r);
struct buf *admin_ok_json(struct admin_resp *r);

/* Percent-decode [s, s+n) ('+' is a space) into out, NUL-terminated; false
 * when it does not fit in cap. */
bool admin_pct_decode(const char *s, size_t n, char *out, size_t cap);

/* Answer status with a JSON body printed from fmt (at most 1023 bytes; longer
 * is cut). */
void admin_answer_json(struct admin_resp *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append s as a JSON string: '"' and '\\' escaped, control bytes as \\u00XX. */
void admin_json_str(struct buf *b, const char *s);

/* Whether the request carries `Authorization: Bearer TOKEN` (or
 * `X-Admin-Token: TOKEN`) equal to token, compared in constant time; an
 * empty or NULL token matches nothing. */
bool admin_token_ok(const struct admin_req *req, const char *token);

/* For a change request: true when admin_token_ok(req, token); else answers
 * 403 {"error":"changes are disabled: set admin-token"} (no token set) or 401
 * {"error":"Authorization: Bearer TOKEN required"} and returns false. */
bool admin_require_token(const struct admin_req *req, struct admin_resp *resp, const char *token);

/* Listen on host:port. Returns NULL with a message in err on failure. opts may be NULL. */
struct admin *admin_open(uv_loop_t *loop, const char *host, int port, const struct admin_opts *opts,
                         admin_handler_fn fn, void *arg, char *err, size_t errlen);
/* Stop listening and close every admin connection (memory freed in close callbacks). */
void admin_close(struct admin *a);
int admin_port(const struct admin *a);

#endif
