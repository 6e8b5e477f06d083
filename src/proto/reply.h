/*
 * reply.h — RESP2/RESP3 *reply* parser: the bench role's RESP driver, the app
 * role's kv client and the worker read server replies with it.
 *
 * proto/resp parses what clients send (commands); a load generator reads
 * what servers send back: any reply type, nested. resp_reply_parse() looks
 * at the bytes received so far and says how long the first complete reply
 * is, that more bytes are needed, or that the input is not RESP. It allocates
 * nothing, copies nothing and never reads past len.
 *
 * Types: + - : $ * (RESP2) and _ , # ( ! = % ~ > | (RESP3). Attributes (|)
 * are skipped and the value after them is the reply. Bounds: nesting 64
 * levels, aggregates 2^31 elements, bulks 512 MiB; beyond is a protocol
 * error, as is a malformed length, integer, boolean or null line.
 *
 * Resumption: a reply arriving in pieces is re-scanned from its start on each
 * call, except that p->need remembers how many bytes the reply needs at
 * least (the end of a bulk being received), so a large bulk costs one scan
 * per byte range, not one per read. Call again with the same start and more
 * bytes; a final result (> 0 or an error) resets p->need.
 *
 * Reentrant; one parser per connection; any thread.
 */
#ifndef SCALEOUT_PROTO_REPLY_H
#define SCALEOUT_PROTO_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RESP_REPLY_MAX_DEPTH 64
#define RESP_REPLY_MAX_BULK (512LL * 1024 * 1024)

struct resp_reply {
    size_t need;        /* do not parse again before len >= need */
    /* results of the last call that returned > 0 */
    bool is_error;      /* the reply is an error (- or !) */
    char type;          /* first byte of the reply ('+', '$', ...), after attributes */
    const char *err;    /* is_error: the message, without '-' and CRLF (points into buf) */
    size_t err_len;
};

enum {
    RESP_REPLY_INCOMPLETE = 0,
    RESP_REPLY_EPROTO = -1,
};

static inline void resp_reply_init(struct resp_reply *p) { p->need = 0; }

/*
 * Parse the reply starting at buf[0] from the len bytes received.
 * Returns its length (> 0; results in *p), RESP_REPLY_INCOMPLETE, or
 * RESP_REPLY_EPROTO (the connection is unusable).
 */
ssize_t resp_reply_parse(struct resp_reply *p, const char *buf, size_t len);

/*
 * One scalar inside a reply that resp_reply_parse() found complete (a whole
 * reply, or an element of an array): type is its first byte ('+', '-', ':',
 * '$', ...) or RESP_SCALAR_NIL for a null ("$-1", "*-1", "_"); str/len are
 * the bytes of a simple string, error or bulk, integer the value of ':'.
 * Returns the position after it, or NULL when p is not a scalar this decoder
 * knows (+ - : $ _) or runs past end. The clients of kv (the app, the
 * worker, the sentinel query) read replies with it.
 */
#define RESP_SCALAR_NIL 'n'
struct resp_scalar {
    char type;
    const char *str;
    size_t len;
    long long integer;
};
const char *resp_scalar_at(const char *p, const char *end, struct resp_scalar *out);

/*
 * A reply decoded into one struct, for the clients of kv that wait for one
 * reply at a time (the app's kv client, the worker): a scalar, or an array
 * whose elements the client decodes into elem (nelem of them, owned by the
 * client). str points into the input.
 */
enum resp_value_type {
    RESP_VALUE_NIL,
    RESP_VALUE_STATUS,
    RESP_VALUE_ERROR,
    RESP_VALUE_INT,
    RESP_VALUE_BULK,
    RESP_VALUE_ARRAY,
};
struct resp_value {
    enum resp_value_type type;
    long long integer;        /* INT */
    const char *str;          /* STATUS, ERROR, BULK */
    size_t len;
    size_t nelem;             /* ARRAY */
    struct resp_value *elem;
};
/* The scalar at p (resp_scalar_at) as a resp_value. Returns the position
 * after it, or NULL (v all zero) when resp_scalar_at does not know it. */
const char *resp_value_scalar(const char *p, const char *end, struct resp_value *v);

#endif
