/*
 * pg.c — PostgreSQL protocol 3.0 parser and writers (see pg.h).
 *
 * Nothing here allocates except the writers, which append to a struct buf.
 * Integers on the wire are big-endian; they are read byte by byte, so no
 * unaligned access happens whatever the buffer's alignment.
 */
#include "proto/pg.h"

#include <string.h>

#define PG_MAX_MSG (1u << 30) /* PostgreSQL refuses anything larger (MaxAllocSize) */

static inline uint32_t get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

/* Validate NUL-terminated name/value pairs ending with one more NUL and pick
 * out the well-known ones. Returns 0 or PG_EBODY. */
static int parse_params(const char *p, size_t n, struct pg_startup *out)
{
    out->params = p;
    out->params_len = n;
    size_t i = 0;
    for (;;) {
        if (i >= n)
            return PG_EBODY;          /* no terminating NUL */
        if (p[i] == '\0')
            return i + 1 == n ? 0 : PG_EBODY; /* the list ends exactly at the packet's end */
        const char *name = p + i;
        const char *e = memchr(p + i, '\0', n - i);
        if (!e)
            return PG_EBODY;
        i = (size_t)(e - p) + 1;
        if (i >= n)
            return PG_EBODY;          /* a name without a value */
        const char *value = p + i;
        e = memchr(p + i, '\0', n - i);
        if (!e)
            return PG_EBODY;
        i = (size_t)(e - p) + 1;
        if (strcmp(name, "user") == 0)
            out->user = value;
        else if (strcmp(name, "database") == 0)
            out->database = value;
        else if (strcmp(name, "application_name") == 0)
            out->application_name = value;
    }
}

ssize_t pg_parse_startup(const char *buf, size_t len, size_t max, struct pg_startup *out)
{
    if (max == 0 || max > PG_STARTUP_MAX)
        max = PG_STARTUP_MAX;
    if (len < 4)
        return 0;
    uint32_t n = get_u32(buf);
    if (n < 8)
        return PG_EFRAME;
    if (n > max)
        return PG_ETOOBIG;
    if (len < 8)
        return 0;
    memset(out, 0, sizeof *out);
    out->code = get_u32(buf + 4);
    switch (out->code) {
    case PG_CODE_SSL:
    case PG_CODE_GSSENC:
        if (n != 8)
            return PG_EFRAME;
        out->kind = out->code == PG_CODE_SSL ? PG_SSL_REQUEST : PG_GSSENC_REQUEST;
        return 8;
    case PG_CODE_CANCEL:
        if (n != 16)
            return PG_EFRAME;
        if (len < 16)
            return 0;
        out->kind = PG_CANCEL_REQUEST;
        out->cancel_pid = get_u32(buf + 8);
        out->cancel_key = get_u32(buf + 12);
        return 16;
    default:
        break;
    }
    out->kind = PG_STARTUP;
    if (out->code >> 16 != 3)
        return PG_EPROTO;
    if (len < n)
        return 0;
    if (parse_params(buf + 8, n - 8, out) != 0)
        return PG_EBODY;
    return (ssize_t)n;
}

bool pg_param_next(const struct pg_startup *s, size_t *pos, const char **name, const char **value)
{
    size_t i = *pos;
    if (!s->params || i >= s->params_len || s->params[i] == '\0')
        return false;
    *name = s->params + i;
    i += strlen(s->params + i) + 1;
    *value = s->params + i;
    i += strlen(s->params + i) + 1;
    *pos = i;
    return true;
}

ssize_t pg_msg_header(const char *buf, size_t len, size_t max, struct pg_msg *out)
{
    if (max == 0 || max > PG_MAX_MSG)
        max = PG_MAX_MSG;
    if (len < PG_HEADER_LEN) {
        /* the length is checked as soon as it is whole, so wait for 5 bytes */
        return 0;
    }
    uint32_t n = get_u32(buf + 1);
    if (n < 4)
        return PG_EFRAME;
    if (n > max)
        return PG_ETOOBIG;
    out->type = buf[0];
    out->len = n;
    out->body = NULL;
    out->body_len = n - 4;
    return PG_HEADER_LEN;
}

ssize_t pg_parse_msg(const char *buf, size_t len, size_t max, struct pg_msg *out)
{
    ssize_t h = pg_msg_header(buf, len, max, out);
    if (h <= 0)
        return h;
    if (len - 1 < out->len)
        return 0;
    out->body = buf + PG_HEADER_LEN;
    return (ssize_t)out->len + 1;
}

/* ---- field readers ---------------------------------------------------------- */

uint8_t pg_rd_u8(struct pg_rd *r)
{
    if (r->err || r->end - r->p < 1) {
        r->err = true;
        return 0;
    }
    return (uint8_t)*r->p++;
}

int16_t pg_rd_i16(struct pg_rd *r)
{
    if (r->err || r->end - r->p < 2) {
        r->err = true;
        return 0;
    }
    const unsigned char *u = (const unsigned char *)r->p;
    r->p += 2;
    return (int16_t)(uint16_t)((unsigned)u[0] << 8 | u[1]);
}

int32_t pg_rd_i32(struct pg_rd *r)
{
    if (r->err || r->end - r->p < 4) {
        r->err = true;
        return 0;
    }
    uint32_t v = get_u32(r->p);
    r->p += 4;
    return (int32_t)v;
}

const char *pg_rd_str(struct pg_rd *r, size_t *lenp)
{
    if (r->err || r->p >= r->end) {
        r->err = true;
        return NULL;
    }
    const char *e = memchr(r->p, '\0', (size_t)(r->end - r->p));
    if (!e) {
        r->err = true;
        return NULL;
    }
    const char *s = r->p;
    if (lenp)
        *lenp = (size_t)(e - s);
    r->p = e + 1;
    return s;
}

const char *pg_rd_bytes(struct pg_rd *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->p) < n) {
        r->err = true;
        return NULL;
    }
    const char *s = r->p;
    r->p += n;
    return s;
}

/* ---- validation -------------------------------------------------------------- */

/* Error/Notice fields: (code byte, string)* then a 0 byte ending the body. */
static int check_fields(struct pg_rd *r)
{
    for (;;) {
        uint8_t code = pg_rd_u8(r);
        if (r->err)
            return PG_EBODY;
        if (code == 0)
            return pg_rd_left(r) == 0 ? 0 : PG_EBODY;
        if (!pg_rd_str(r, NULL))
            return PG_EBODY;
    }
}

static int check_frontend(const struct pg_msg *m, struct pg_rd *r)
{
    switch (m->type) {
    case 'Q': /* Query: one string */
    case 'p': /* PasswordMessage / SASL: checked by the auth code (form depends on the method) */
        if (m->type == 'p')
            return 0;
        pg_rd_str(r, NULL);
        break;
    case 'P': { /* Parse: name, query, int16 n, n × int32 */
        pg_rd_str(r, NULL);
        pg_rd_str(r, NULL);
        int16_t n = pg_rd_i16(r);
        if (n < 0)
            return PG_EBODY;
        pg_rd_bytes(r, (size_t)n * 4);
        break;
    }
    case 'B': { /* Bind: portal, statement, formats, params, result formats */
        pg_rd_str(r, NULL);
        pg_rd_str(r, NULL);
        int16_t nf = pg_rd_i16(r);
        if (nf < 0)
            return PG_EBODY;
        pg_rd_bytes(r, (size_t)nf * 2);
        int16_t np = pg_rd_i16(r);
        if (np < 0)
            return PG_EBODY;
        for (int i = 0; i < np && !r->err; i++) {
            int32_t l = pg_rd_i32(r);
            if (l < -1)
                return PG_EBODY;
            if (l > 0)
                pg_rd_bytes(r, (size_t)l);
        }
        int16_t nr = pg_rd_i16(r);
        if (nr < 0)
            return PG_EBODY;
        pg_rd_bytes(r, (size_t)nr * 2);
        break;
    }
    case 'X': /* Terminate, Sync, Flush: empty */
    case 'S':
    case 'H':
        break;
    default:
        return 0;
    }
    return !r->err && pg_rd_left(r) == 0 ? 0 : PG_EBODY;
}

static int check_backend(const struct pg_msg *m, struct pg_rd *r)
{
    switch (m->type) {
    case 'R': {
        int32_t code = pg_rd_i32(r);
        if (r->err)
            return PG_EBODY;
        if (code == PG_AUTH_MD5) {
            pg_rd_bytes(r, 4);
            break;
        }
        if (code == PG_AUTH_SASL) {
            /* mechanism names, then an empty string */
            size_t l = 1;
            while (!r->err && l != 0)
                pg_rd_str(r, &l);
            break;
        }
        if (code == PG_AUTH_SASL_CONTINUE || code == PG_AUTH_SASL_FINAL)
            return 0; /* raw data to the end */
        break;
    }
    case 'S':
        pg_rd_str(r, NULL);
        pg_rd_str(r, NULL);
        break;
    case 'K':
        pg_rd_i32(r);
        pg_rd_i32(r);
        break;
    case 'Z': {
        uint8_t st = pg_rd_u8(r);
        if (st != 'I' && st != 'T' && st != 'E')
            return PG_EBODY;
        break;
    }
    case 'E':
    case 'N':
        return check_fields(r);
    default:
        return 0;
    }
    return !r->err && pg_rd_left(r) == 0 ? 0 : PG_EBODY;
}

int pg_msg_validate(const struct pg_msg *m, bool frontend)
{
    struct pg_rd r;
    pg_rd_init(&r, m);
    return frontend ? check_frontend(m, &r) : check_backend(m, &r);
}

const char *pg_error_field(const struct pg_msg *m, char code, size_t *lenp)
{
    struct pg_rd r;
    pg_rd_init(&r, m);
    for (;;) {
        uint8_t c = pg_rd_u8(&r);
        if (r.err || c == 0)
            return NULL;
        const char *s = pg_rd_str(&r, lenp);
        if (!s)
            return NULL;
        if ((char)c == code)
            return s;
    }
}

char pg_ready_status(const struct pg_msg *m)
{
    if (m->type != 'Z' || m->body_len != 1 || !m->body)
        return 0;
    char s = m->body[0];
    return s == 'I' || s == 'T' || s == 'E' ? s : 0;
}

/* ---- writers ------------------------------------------------------------------ */

size_t pg_begin(struct buf *b, char type)
{
    if (type)
        buf_putc(b, type);
    size_t start = b->len;
    buf_append(b, "\0\0\0\0", 4);
    return start;
}

void pg_end(struct buf *b, size_t start)
{
    uint32_t n = (uint32_t)(b->len - start);
    unsigned char *p = (unsigned char *)b->data + start;
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
}

void pg_put_i16(struct buf *b, int16_t v)
{
    uint16_t u = (uint16_t)v;
    char c[2] = {(char)(u >> 8), (char)u};
    buf_append(b, c, 2);
}

void pg_put_i32(struct buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    char c[4] = {(char)(u >> 24), (char)(u >> 16), (char)(u >> 8), (char)u};
    buf_append(b, c, 4);
}

void pg_put_str(struct buf *b, const char *s) { buf_append(b, s, strlen(s) + 1); }

static void write_fields(struct buf *b, char type, const char *severity, const char *sqlstate, const char *message)
{
    size_t st = pg_begin(b, type);
    buf_putc(b, 'S');
    pg_put_str(b, severity);
    buf_putc(b, 'V');      /* non-localized severity (PostgreSQL 9.6+) */
    pg_put_str(b, severity);
    buf_putc(b, 'C');
    pg_put_str(b, sqlstate);
    buf_putc(b, 'M');
    pg_put_str(b, message);
    buf_putc(b, '\0');
    pg_end(b, st);
}

void pg_write_error(struct buf *b, const char *severity, const char *sqlstate, const char *message)
{
    write_fields(b, 'E', severity, sqlstate, message);
}

void pg_write_notice(struct buf *b, const char *severity, const char *sqlstate, const char *message)
{
    write_fields(b, 'N', severity, sqlstate, message);
}

void pg_write_auth(struct buf *b, enum pg_auth_code code, const void *data, size_t len)
{
    size_t st = pg_begin(b, 'R');
    pg_put_i32(b, (int32_t)code);
    buf_append(b, data, len);
    pg_end(b, st);
}

void pg_write_auth_sasl(struct buf *b, const char *mechanism)
{
    size_t st = pg_begin(b, 'R');
    pg_put_i32(b, PG_AUTH_SASL);
    pg_put_str(b, mechanism);
    buf_putc(b, '\0');
    pg_end(b, st);
}

void pg_write_param_status(struct buf *b, const char *name, const char *value)
{
    size_t st = pg_begin(b, 'S');
    pg_put_str(b, name);
    pg_put_str(b, value);
    pg_end(b, st);
}

void pg_write_backend_key(struct buf *b, uint32_t pid, uint32_t key)
{
    size_t st = pg_begin(b, 'K');
    pg_put_i32(b, (int32_t)pid);
    pg_put_i32(b, (int32_t)key);
    pg_end(b, st);
}

void pg_write_ready(struct buf *b, char status)
{
    size_t st = pg_begin(b, 'Z');
    buf_putc(b, status);
    pg_end(b, st);
}

void pg_write_startup(struct buf *b, const char *user, const char *database, const char *const *names,
                      const char *const *values, int n)
{
    size_t st = pg_begin(b, 0);
    pg_put_i32(b, (int32_t)PG_PROTO_V3);
    pg_put_str(b, "user");
    pg_put_str(b, user);
    if (database) {
        pg_put_str(b, "database");
        pg_put_str(b, database);
    }
    for (int i = 0; i < n; i++) {
        pg_put_str(b, names[i]);
        pg_put_str(b, values[i]);
    }
    buf_putc(b, '\0');
    pg_end(b, st);
}

void pg_write_cancel(struct buf *b, uint32_t pid, uint32_t key)
{
    size_t st = pg_begin(b, 0);
    pg_put_i32(b, (int32_t)PG_CODE_CANCEL);
    pg_put_i32(b, (int32_t)pid);
    pg_put_i32(b, (int32_t)key);
    pg_end(b, st);
}

void pg_write_ssl_request(struct buf *b)
{
    size_t st = pg_begin(b, 0);
    pg_put_i32(b, (int32_t)PG_CODE_SSL);
    pg_end(b, st);
}

void pg_write_query(struct buf *b, const char *sql)
{
    size_t st = pg_begin(b, 'Q');
    pg_put_str(b, sql);
    pg_end(b, st);
}

void pg_write_terminate(struct buf *b)
{
    size_t st = pg_begin(b, 'X');
    pg_end(b, st);
}

void pg_write_password(struct buf *b, const char *password)
{
    size_t st = pg_begin(b, 'p');
    pg_put_str(b, password);
    pg_end(b, st);
}

void pg_write_sasl_initial(struct buf *b, const char *mechanism, const void *data, size_t len)
{
    size_t st = pg_begin(b, 'p');
    pg_put_str(b, mechanism);
    pg_put_i32(b, (int32_t)len);
    buf_append(b, data, len);
    pg_end(b, st);
}

void pg_write_sasl_response(struct buf *b, const void *data, size_t len)
{
    size_t st = pg_begin(b, 'p');
    buf_append(b, data, len);
    pg_end(b, st);
}
