/*
 * pg.h — the PostgreSQL frontend/backend protocol, version 3.0: a parser for
 * the messages both sides send and writers for the ones a proxy makes.
 *
 * Parser: incremental, zero-copy, bounded, allocation-free. Every call looks
 * at the bytes received so far (buf, len) and returns
 *     > 0   the length of one whole message at the front of buf (consumed);
 *     0     more bytes are needed (nothing is kept between calls: the caller
 *           calls again with the same bytes and more after them);
 *     < 0   a PG_E* error: the stream cannot be read further.
 * A length field is checked as soon as its four bytes have arrived, so a
 * message declaring more than `max` bytes is refused before its body comes,
 * and the result never depends on how the input was split into reads.
 * Results point into buf: they live as long as the caller's bytes.
 *
 * Two framings exist on the wire:
 *   untyped   the first packet of a connection: int32 length (itself
 *             included), int32 code, body. The code tells a StartupMessage
 *             (protocol 3.0 = 196608), SSLRequest (80877103), GSSENCRequest
 *             (80877104) or CancelRequest (80877102).
 *   typed     every later message: one type byte, int32 length (itself
 *             included, not the type byte), body.
 * pg_msg_header() reads only the five header bytes so that a proxy can pass
 * large messages (DataRow, CopyData) through without holding them whole.
 *
 * Writers append to a struct buf (core/buf); pg_begin()/pg_end() frame a
 * message whose length is filled in at the end.
 */
#ifndef SCALEOUT_PROTO_PG_H
#define SCALEOUT_PROTO_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

#define PG_PROTO_V3 196608u       /* 3 << 16 | 0 */
#define PG_CODE_SSL 80877103u
#define PG_CODE_GSSENC 80877104u
#define PG_CODE_CANCEL 80877102u
#define PG_STARTUP_MAX 10000u     /* PostgreSQL's MAX_STARTUP_PACKET_LENGTH */
#define PG_HEADER_LEN 5           /* type byte + int32 length */

/* Errors of the parser (negative). */
#define PG_EFRAME -1     /* a length field below its minimum */
#define PG_ETOOBIG -2    /* a length field above the caller's maximum */
#define PG_EBODY -3      /* the body does not match its type (missing NUL, bad count...) */
#define PG_EPROTO -4     /* startup packet of a protocol version we do not speak */

/* Authentication request codes ('R'). */
enum pg_auth_code {
    PG_AUTH_OK = 0,
    PG_AUTH_CLEARTEXT = 3,
    PG_AUTH_MD5 = 5,
    PG_AUTH_SASL = 10,
    PG_AUTH_SASL_CONTINUE = 11,
    PG_AUTH_SASL_FINAL = 12,
};

/* The first packet of a connection. */
enum pg_startup_kind { PG_STARTUP, PG_SSL_REQUEST, PG_GSSENC_REQUEST, PG_CANCEL_REQUEST };

struct pg_startup {
    enum pg_startup_kind kind;
    uint32_t code;              /* protocol version or request code */
    /* PG_STARTUP: the name/value pairs, each NUL-terminated, in the caller's
     * buffer (walk them with pg_param_next); user/database point at the value
     * (NUL-terminated in buf) or are NULL when absent. */
    const char *params;
    size_t params_len;
    const char *user, *database, *application_name;
    /* PG_CANCEL_REQUEST */
    uint32_t cancel_pid, cancel_key;
};

/*
 * Parse the first packet. max bounds its length (PG_STARTUP_MAX when 0).
 * A StartupMessage whose major version is not 3 returns PG_EPROTO with
 * out->code set, so the caller can answer in PostgreSQL's words
 * ("unsupported frontend protocol"); a 3.x minor version above 0 is
 * accepted as PostgreSQL does (the caller may send NegotiateProtocolVersion).
 */
ssize_t pg_parse_startup(const char *buf, size_t len, size_t max, struct pg_startup *out);

/* Walk startup parameters: *pos starts at 0; returns false at the end. */
bool pg_param_next(const struct pg_startup *s, size_t *pos, const char **name, const char **value);

/* A typed message. */
struct pg_msg {
    char type;
    uint32_t len;            /* the length field: body length + 4 */
    const char *body;        /* len - 4 bytes */
    size_t body_len;
};

/* The five header bytes only: > 0 (PG_HEADER_LEN) with type and len set, 0
 * incomplete, < 0 error. body is left NULL. */
ssize_t pg_msg_header(const char *buf, size_t len, size_t max, struct pg_msg *out);

/* One whole typed message (header and body). max bounds len (the length
 * field); 0 means no bound below 1 GiB (PostgreSQL's own limit). */
ssize_t pg_parse_msg(const char *buf, size_t len, size_t max, struct pg_msg *out);

/* ---- reading fields of a body ------------------------------------------- */

/* A cursor over a message body; any read past the end sets err and returns 0/NULL. */
struct pg_rd {
    const char *p, *end;
    bool err;
};

static inline void pg_rd_init(struct pg_rd *r, const struct pg_msg *m)
{
    r->p = m->body;
    r->end = m->body + m->body_len;
    r->err = false;
}
uint8_t pg_rd_u8(struct pg_rd *r);
int16_t pg_rd_i16(struct pg_rd *r);
int32_t pg_rd_i32(struct pg_rd *r);
/* A NUL-terminated string (pointer into the body); NULL (err) when no NUL. */
const char *pg_rd_str(struct pg_rd *r, size_t *lenp);
/* n raw bytes; NULL (err) when fewer remain. */
const char *pg_rd_bytes(struct pg_rd *r, size_t n);
static inline size_t pg_rd_left(const struct pg_rd *r) { return (size_t)(r->end - r->p); }

/*
 * Check that a message's body has the form its type requires, for the
 * messages a proxy looks into: frontend 'Q' 'P' 'B' 'X' 'S' 'p' and backend
 * 'R' 'S' 'K' 'Z' 'E' 'N'. frontend selects the side ('S' is Sync from a
 * frontend, ParameterStatus from a backend). Types not listed are accepted.
 * Returns 0 or PG_EBODY.
 */
int pg_msg_validate(const struct pg_msg *m, bool frontend);

/* Field `code` ('C' SQLSTATE, 'M' message, 'S' severity...) of an
 * ErrorResponse or NoticeResponse; NULL when absent. */
const char *pg_error_field(const struct pg_msg *m, char code, size_t *lenp);

/* 'Z' ReadyForQuery status: 'I' idle, 'T' in a transaction, 'E' failed
 * transaction; 0 when m is not a well-formed 'Z'. */
char pg_ready_status(const struct pg_msg *m);

/* ---- writers --------------------------------------------------------------- */

/* Start a typed message (type 0: an untyped startup packet); returns the
 * offset to give pg_end(), which fills in the length. */
size_t pg_begin(struct buf *b, char type);
void pg_end(struct buf *b, size_t start);
void pg_put_i16(struct buf *b, int16_t v);
void pg_put_i32(struct buf *b, int32_t v);
void pg_put_str(struct buf *b, const char *s); /* with its NUL */

/* ErrorResponse (or NoticeResponse when notice): severity ("ERROR",
 * "FATAL"), SQLSTATE (five characters), message. */
void pg_write_error(struct buf *b, const char *severity, const char *sqlstate, const char *message);
void pg_write_notice(struct buf *b, const char *severity, const char *sqlstate, const char *message);
/* AuthenticationX with optional data (MD5 salt, SASL mechanisms, SASL data). */
void pg_write_auth(struct buf *b, enum pg_auth_code code, const void *data, size_t len);
/* AuthenticationSASL listing one mechanism. */
void pg_write_auth_sasl(struct buf *b, const char *mechanism);
void pg_write_param_status(struct buf *b, const char *name, const char *value);
void pg_write_backend_key(struct buf *b, uint32_t pid, uint32_t key);
void pg_write_ready(struct buf *b, char status);
/* StartupMessage v3.0: user, database and extra name/value pairs (names[i],
 * values[i]; n may be 0). */
void pg_write_startup(struct buf *b, const char *user, const char *database, const char *const *names,
                      const char *const *values, int n);
void pg_write_cancel(struct buf *b, uint32_t pid, uint32_t key);
void pg_write_ssl_request(struct buf *b);
void pg_write_query(struct buf *b, const char *sql);
void pg_write_terminate(struct buf *b);
/* PasswordMessage 'p' with a NUL-terminated password (cleartext or md5). */
void pg_write_password(struct buf *b, const char *password);
/* SASLInitialResponse: mechanism, then the client-first message. */
void pg_write_sasl_initial(struct buf *b, const char *mechanism, const void *data, size_t len);
/* SASLResponse: raw data. */
void pg_write_sasl_response(struct buf *b, const void *data, size_t len);

#endif
