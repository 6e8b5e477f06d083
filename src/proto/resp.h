/*
 * resp.h — RESP (Redis serialization protocol) request parser and reply writer.
 *
 * Parser: incremental and zero-copy. resp_parse() looks at the bytes a client
 * has sent so far and either returns one complete command (argument slices that
 * point into the caller's buffer), says it needs more bytes, or reports a
 * protocol error with Redis's exact wording. The parser keeps progress in
 * struct resp_parser as *offsets* from the start of the command, so the caller
 * may move or grow its buffer between calls (realloc) and a command arriving in
 * many reads is not re-scanned from the start. It allocates only when a command
 * has more arguments than fit in the inline argv array (the argv array then
 * grows through core/alloc, bounded by the multibulk limit).
 *
 * Inline commands are decoded in place: resp_parse() may rewrite the bytes of
 * an inline command line in the caller's buffer (quotes and escapes removed) so
 * that its arguments, too, are slices of the buffer. Multibulk input is never
 * written to.
 *
 * Both request forms are accepted, as Redis does:
 *   multibulk:  *<n>\r\n  then n times  $<len>\r\n<bytes>\r\n
 *   inline:     a line of space-separated words ending in \n (\r\n accepted),
 *               with "double" and 'single' quoted words and \xHH escapes in
 *               double quotes (Redis sdssplitargs rules). An empty line is
 *               skipped (argc 0 is never returned).
 * A line (an inline command, or a *<n> / $<n> header) longer than
 * RESP_MAX_INLINE bytes is an error whether or not its end has arrived, so the
 * result never depends on how the input was split into reads. The few inputs
 * where this parser is stricter than Redis 7 are listed at the top of resp.c.
 * The struct itself may also move between calls (it is re-based each call).
 *
 * Writer: appends replies to a struct buf. Functions taking `int proto` emit the
 * RESP2 or RESP3 form (proto is 2 or 3) for types that differ (null, map, set,
 * double, boolean).
 */
#ifndef SCALEOUT_PROTO_RESP_H
#define SCALEOUT_PROTO_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

#define RESP_INLINE_ARGV 16           /* argv slots without allocation */
#define RESP_MAX_INLINE (64 * 1024)   /* longest inline line / header line */
#define RESP_BIG_ARG (32 * 1024)      /* bulks this long set p->need (Redis PROTO_MBULK_BIG_ARG) */
#define RESP_UNAUTH_MAX_MULTIBULK 10  /* limits while p->auth_required (Redis authRequired()) */
#define RESP_UNAUTH_MAX_BULK 16384

/* The error texts of resp_parse(), Redis 7's wording (p->err). The "expected
 * '$'" error is built from RESP_EMSG_EXPECTED_DOLLAR with the byte found. */
#define RESP_EMSG_MBULK        "ERR Protocol error: invalid multibulk length"
#define RESP_EMSG_BULK         "ERR Protocol error: invalid bulk length"
#define RESP_EMSG_BIG_MBULK    "ERR Protocol error: too big mbulk count string"
#define RESP_EMSG_BIG_BULK     "ERR Protocol error: too big bulk count string"
#define RESP_EMSG_BIG_INLINE   "ERR Protocol error: too big inline request"
#define RESP_EMSG_QUOTES       "ERR Protocol error: unbalanced quotes in request"
#define RESP_EMSG_UNAUTH_MBULK "ERR Protocol error: unauthenticated multibulk length"
#define RESP_EMSG_UNAUTH_BULK  "ERR Protocol error: unauthenticated bulk length"
#define RESP_EMSG_EXPECTED_DOLLAR "ERR Protocol error: expected '$', got '%c'"

struct resp_arg {
    const char *ptr;
    size_t len;
};

struct resp_parser {
    /* limits, set by the caller (resp_parser_init gives Redis defaults) */
    long long max_multibulk;   /* max argument count (Redis 7: INT_MAX, the default;
                                  values above INT_MAX act as INT_MAX) */
    long long max_bulk;        /* proto-max-bulk-len (Redis: 512mb) */
    /* true while the client still has to AUTH: a multibulk count above 10 or a
     * bulk above 16384 bytes is then "ERR Protocol error: unauthenticated
     * multibulk length" / "... bulk length", as Redis 7. Default false. */
    bool auth_required;

    /* results of the last resp_parse() that returned > 0 */
    int argc;
    struct resp_arg *argv;     /* points to argv_inline or argv_heap */

    /* error text of the last resp_parse() that returned RESP_ERR, without the
     * leading '-' and trailing CRLF, e.g. "ERR Protocol error: invalid bulk length" */
    const char *err;

    /* hint: when resp_parse() returns 0 inside a large bulk, the number of
     * bytes the whole command needs from the start of buf (0 if unknown), so the
     * caller can grow its buffer once. */
    size_t need;

    /* internal state (offsets from the start of the command) */
    int state;
    long long multibulk;       /* expected argc, -1 before the header */
    long long bulklen;         /* length of the bulk being read, -1 before its header */
    size_t pos;                /* bytes of buf consumed by the parse so far */
    size_t scan;               /* where the search for a line end resumes */
    size_t start;              /* first byte of the current command: bytes before
                                  it held only empty commands (see drop_empty) */
    int nargs;                 /* arguments complete so far */
    size_t *offs;              /* offsets of args (pairs off,len), grows like argv */
    int cap;
    struct resp_arg argv_inline[RESP_INLINE_ARGV];
    size_t offs_inline[2 * RESP_INLINE_ARGV];
    struct resp_arg *argv_heap;
    size_t *offs_heap;
    char errbuf[48];           /* p->err when it carries a byte of the input */
};

enum {
    RESP_ERR = -1,
    RESP_INCOMPLETE = 0,
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_deinit(struct resp_parser *p);
/* Forget a partial command (after the caller dropped the input). */
void resp_parser_reset(struct resp_parser *p);

/*
 * Parse one command from buf[0..len). buf must start at the first byte of the
 * command (the same start as the previous call while it returned 0); the bytes
 * already seen must not change, but buf may have moved (realloc) and len grown.
 * Empty commands (`*0`, `*-1`, negative counts, blank inline lines) are consumed
 * silently and parsing goes on with the next one, so argc 0 is never returned.
 * buf is not const: an inline command line is decoded in place (see above).
 * Returns:
 *   > 0          bytes consumed (including any empty commands before it);
 *                p->argc (>= 1) and p->argv are set and valid until the next
 *                call or until buf changes
 *   0            incomplete: call again with the same start and more bytes.
 *                p->need is the total length buf must reach when inside a bulk
 *                of RESP_BIG_ARG bytes or more, else 0.
 *   RESP_ERR     protocol error; p->err has the Redis text. The caller replies
 *                "-<err>\r\n" and closes the connection. Further calls return
 *                RESP_ERR until resp_parser_reset().
 * Never reads buf[len] or beyond. Runs on the caller's thread; no locking.
 */
ssize_t resp_parse(struct resp_parser *p, char *buf, size_t len);

/*
 * Optional, after resp_parse() returned 0: the number of bytes at the front of
 * buf that held only empty commands already consumed. The parser forgets them
 * (its offsets move back by that much), so the caller must drop exactly that
 * many bytes from the front of its buffer before the next call. Lets a client
 * that sends only blank lines or `*0` (keepalives) not pin its input buffer.
 */
size_t resp_parser_drop_empty(struct resp_parser *p);

/* ---- reply writer ---------------------------------------------------- */
/* Each call reserves the whole reply once and writes it in place. Simple
 * strings and errors have CR and LF replaced by spaces so that no text can
 * break the framing (Redis does this for formatted errors). Doubles print as
 * Redis 7.0 does: %.17g, "inf"/"-inf"/"nan". */

void resp_add_simple(struct buf *b, const char *s, size_t n);   /* +s */
void resp_add_ok(struct buf *b);                                 /* +OK */
void resp_add_error(struct buf *b, const char *s, size_t n);    /* -s (s has no '-') */
void resp_add_errorf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_add_int(struct buf *b, long long v);                   /* :v */
void resp_add_bulk(struct buf *b, const void *p, size_t n);      /* $n p */
void resp_add_bulk_cstr(struct buf *b, const char *s);           /* NULL gives $-1 */
void resp_add_bulk_ll(struct buf *b, long long v);               /* integer as bulk */
void resp_add_null(struct buf *b, int proto);                    /* $-1 | _ */
void resp_add_null_array(struct buf *b, int proto);              /* *-1 | _ */
void resp_add_array(struct buf *b, long long n);                 /* *n */
void resp_add_map(struct buf *b, int proto, long long n);        /* *2n | %n */
void resp_add_set(struct buf *b, int proto, long long n);        /* *n | ~n */
void resp_add_push(struct buf *b, int proto, long long n);       /* *n | >n (pub/sub messages) */
void resp_add_double(struct buf *b, int proto, double v);        /* $ bulk | ,v */
void resp_add_bool(struct buf *b, int proto, bool v);            /* :1/:0 | #t/#f */
void resp_add_verbatim(struct buf *b, int proto, const char *p, size_t n); /* $ | =n txt:... */

#endif
