/*
 * resp.c — RESP request parser and reply writer (see resp.h).
 *
 * The parser follows Redis 7's processMultibulkBuffer / processInlineBuffer /
 * sdssplitargs, but keeps every position as an offset from the start of the
 * caller's buffer, so nothing is copied, the buffer may move between calls,
 * and each byte is looked at a bounded number of times however the input is
 * split into reads (O(n) for a command that arrives one byte at a time).
 *
 *            '*'                    "$<n>\r\n"            n bytes + "\r\n"
 *   IDLE ----------> MB_COUNT ----> BULK_HDR <----------> BULK_DATA ---+
 *    |  ^  count <= 0   |      (n>0)                                   | last
 *    |  +---------------+                                              | arg
 *    |  ^  blank line                                                  v
 *    +-------> INLINE ---+------------------------------------> command (> 0)
 *     other byte         '\n' and >= 1 word
 *
 *   any state ---- protocol error ----> ERROR (sticky until reset)
 *
 * Offsets, all from buf[0]:
 *   start  first byte of the current command (bytes before it were empty
 *          commands, kept until the command completes or drop_empty());
 *   pos    first byte not yet parsed (line start in MB_COUNT / BULK_HDR /
 *          INLINE is `start` or `pos`, data start in BULK_DATA);
 *   scan   where the search for the end of the current line resumes;
 *   offs   (offset, length) of each complete argument.
 *
 * Where this parser differs from Redis 7.0 (all are inputs no real client
 * sends; each is chosen to be strict and independent of how the input was
 * split into reads):
 *   - Bulk data must be followed by "\r\n" (Redis skips any two bytes), and
 *     the '\r' ending a "*<n>" or "$<n>" line must be followed by '\n' (Redis
 *     skips any byte). Otherwise: "invalid multibulk length" / "invalid bulk
 *     length".
 *   - A line longer than RESP_MAX_INLINE (64KB) is "too big ..." even when its
 *     end is already in the buffer. Redis only checks when the end is missing,
 *     so whether it accepts a 70KB line depends on how reads were split.
 *   - A NUL byte is an ordinary byte. Redis searches lines with strchr, so a
 *     NUL before the line end makes it wait for a line end it cannot see until
 *     64KB arrive; here "*1\0\r\n" is "invalid multibulk length" and an inline
 *     "ECHO a\0b" is the two words "ECHO" and "a\0b". In the "expected '$'"
 *     error, a NUL byte shows as a space, like CR and LF.
 */
#include "proto/resp.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"

enum {
    ST_IDLE = 0,
    ST_MB_COUNT,
    ST_BULK_HDR,
    ST_BULK_DATA,
    ST_INLINE,
    ST_ERROR,
};

/* Argument arrays above this many slots are given back between commands. */
#define ARGV_KEEP 1024

/* ---- parser: setup ----------------------------------------------------- */

static void drop_heap(struct resp_parser *p)
{
    xfree(p->argv_heap);
    xfree(p->offs_heap);
    p->argv_heap = NULL;
    p->offs_heap = NULL;
    p->cap = RESP_INLINE_ARGV;
}

static void clear_command(struct resp_parser *p)
{
    p->state = ST_IDLE;
    p->multibulk = -1;
    p->bulklen = -1;
    p->pos = p->scan = p->start = 0;
    p->nargs = 0;
}

void resp_parser_init(struct resp_parser *p)
{
    memset(p, 0, sizeof *p);
    p->max_multibulk = INT_MAX;
    p->max_bulk = 512LL * 1024 * 1024;
    p->argv = p->argv_inline;
    p->offs = p->offs_inline;
    p->cap = RESP_INLINE_ARGV;
    clear_command(p);
}

void resp_parser_deinit(struct resp_parser *p)
{
    drop_heap(p);
    p->argv = p->argv_inline;
    p->offs = p->offs_inline;
    p->argc = 0;
}

void resp_parser_reset(struct resp_parser *p)
{
    drop_heap(p);
    p->argv = p->argv_inline;
    p->offs = p->offs_inline;
    p->argc = 0;
    p->err = NULL;
    p->need = 0;
    clear_command(p);
}

size_t resp_parser_drop_empty(struct resp_parser *p)
{
    size_t n;
    if (p->state == ST_ERROR)
        return 0;
    n = p->state == ST_IDLE ? p->pos : p->start;
    if (n == 0)
        return 0;
    p->offs = p->offs_heap ? p->offs_heap : p->offs_inline;
    for (int i = 0; i < p->nargs; i++)
        p->offs[2 * i] -= n;
    p->pos -= n;
    p->scan -= n;
    p->start = p->start >= n ? p->start - n : 0;
    if (p->need)
        p->need -= n;
    return n;
}

/* ---- parser: helpers --------------------------------------------------- */

static ssize_t fail(struct resp_parser *p, const char *msg)
{
    p->err = msg;
    p->state = ST_ERROR;
    return RESP_ERR;
}

/* Make room for one more argument. The arrays double, but never past the
 * announced count of a multibulk command, so a "*1000000" header costs
 * nothing until the arguments really arrive (Redis does the same). */
static void grow(struct resp_parser *p)
{
    long long want = (long long)p->cap * 2;
    if (p->multibulk > 0 && want > p->multibulk)
        want = p->multibulk;
    if (want > INT_MAX)
        want = INT_MAX;
    size_t n = (size_t)want;
    if (!p->offs_heap) {
        p->offs_heap = xmalloc(n * 2 * sizeof(size_t));
        memcpy(p->offs_heap, p->offs_inline, (size_t)p->nargs * 2 * sizeof(size_t));
    } else {
        p->offs_heap = xrealloc(p->offs_heap, n * 2 * sizeof(size_t));
    }
    /* argv is only filled when the command completes: no copy needed */
    xfree(p->argv_heap);
    p->argv_heap = xmalloc(n * sizeof(struct resp_arg));
    p->offs = p->offs_heap;
    p->cap = (int)n;
}

static inline void push_arg(struct resp_parser *p, size_t off, size_t len)
{
    if (p->nargs == p->cap)
        grow(p);
    p->offs[2 * p->nargs] = off;
    p->offs[2 * p->nargs + 1] = len;
    p->nargs++;
}

/* The command is complete: publish argv and make ready for the next one. */
static ssize_t finish(struct resp_parser *p, const char *buf)
{
    struct resp_arg *argv = p->argv_heap ? p->argv_heap : p->argv_inline;
    for (int i = 0; i < p->nargs; i++) {
        argv[i].ptr = buf + p->offs[2 * i];
        argv[i].len = p->offs[2 * i + 1];
    }
    p->argv = argv;
    p->argc = p->nargs;
    ssize_t consumed = (ssize_t)p->pos;
    clear_command(p);
    return consumed;
}

/*
 * Find the end of the line that starts at `line`: the first `c` at or after
 * p->scan. The line may hold at most RESP_MAX_INLINE bytes before `c`.
 * Returns 1 and sets *at when found, 0 when more input is needed (the search
 * resumes where it stopped), -1 when the line is too long.
 */
static int find_eol(struct resp_parser *p, const char *buf, size_t len, size_t line, char c,
                    size_t *at)
{
    size_t limit = line + RESP_MAX_INLINE + 1; /* c may sit at line + 64KB */
    size_t end = len < limit ? len : limit;
    if (p->scan < end) {
        const char *hit = memchr(buf + p->scan, c, end - p->scan);
        if (hit) {
            *at = (size_t)(hit - buf);
            p->scan = *at;
            return 1;
        }
        p->scan = end;
    }
    return end == limit ? -1 : 0;
}

/*
 * Fast path for the usual header line: up to 18 digits right after the type
 * byte, then '\r' and one more byte. Gives the same eol and value as
 * find_eol + util_str2ll would (the digits hold no '\r', Redis's rules on
 * leading zeros are kept); anything else, including a sign, takes the general
 * path. Returns false when it does not apply.
 */
static inline bool fast_header(struct resp_parser *p, const char *buf, size_t len, size_t *eol,
                               long long *out)
{
    size_t j = p->pos + 1, lim = len < j + 18 ? len : j + 18;
    long long v = 0;
    while (j < lim && (unsigned)(buf[j] - '0') <= 9)
        v = v * 10 + (buf[j++] - '0');
    size_t nd = j - p->pos - 1;
    if (nd == 0 || j + 1 >= len || buf[j] != '\r' || (buf[p->pos + 1] == '0' && nd > 1))
        return false;
    *eol = p->scan = j;
    *out = v;
    return true;
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * Split the inline line buf[i..end) into words with Redis sdssplitargs rules,
 * decoding each word in place over its own bytes (a word never decodes longer
 * than it is written, so the write position never passes the read position).
 * Words are pushed as arguments. Returns false on unbalanced quotes (the line
 * may then be partly rewritten; the connection is closing anyway).
 *
 * Rules, as Redis: words are separated by blanks (isspace); a word ends at
 * ' ', '\t', '\r', '\n' (not at '\v' or '\f'); a quote inside a word starts a
 * quoted part ("a\"b c\"" is one word "ab c"); in "double quotes" \n \r \t \b
 * \a \xHH and \<any> escapes apply, in 'single quotes' only \'; a closing
 * quote must be followed by a blank or the end of the line.
 */
/* bytes that end or change an unquoted run: word ends and quotes */
static const bool word_stop[256] = {
    [' '] = true, ['\t'] = true, ['\r'] = true, ['\n'] = true, ['"'] = true, ['\''] = true,
};

#define AT(j) ((j) < end ? (int)(unsigned char)buf[j] : -1) /* -1: end of line */
static bool split_inline(struct resp_parser *p, char *buf, size_t i, size_t end)
{
    for (;;) {
        while (i < end && is_space((unsigned char)buf[i]))
            i++;
        if (i == end)
            return true;

        size_t w0 = i, w = i;
        bool inq = false, insq = false, done = false;
        while (!done) {
            int c = AT(i);
            if (inq) {
                if (c == '\\' && AT(i + 1) == 'x' && util_hexval(AT(i + 2)) >= 0 &&
                    util_hexval(AT(i + 3)) >= 0) {
                    buf[w++] = (char)(util_hexval(AT(i + 2)) * 16 + util_hexval(AT(i + 3)));
                    i += 4;
                } else if (c == '\\' && AT(i + 1) != -1) {
                    int e = AT(i + 1);
                    switch (e) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: break;
                    }
                    buf[w++] = (char)e;
                    i += 2;
                } else if (c == '"') {
                    if (AT(i + 1) != -1 && !is_space(AT(i + 1)))
                        return false;
                    done = true;
                    i++;
                } else if (c == -1) {
                    return false;
                } else {
                    buf[w++] = (char)c;
                    i++;
                }
            } else if (insq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    buf[w++] = '\'';
                    i += 2;
                } else if (c == '\'') {
                    if (AT(i + 1) != -1 && !is_space(AT(i + 1)))
                        return false;
                    done = true;
                    i++;
                } else if (c == -1) {
                    return false;
                } else {
                    buf[w++] = (char)c;
                    i++;
                }
            } else {
                switch (c) {
                case -1:
                    done = true;
                    break;
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                    done = true;
                    i++;
                    break;
                case '"':
                    inq = true;
                    i++;
                    break;
                case '\'':
                    insq = true;
                    i++;
                    break;
                default: {
                    /* a run of plain bytes: moved only once a quote or
                     * escape earlier in the line has shifted the output */
                    size_t j = i + 1;
                    while (j < end && !word_stop[(unsigned char)buf[j]])
                        j++;
                    if (w != i)
                        memmove(buf + w, buf + i, j - i);
                    w += j - i;
                    i = j;
                    break;
                }
                }
            }
        }
        push_arg(p, w0, w - w0);
    }
}
#undef AT

/* ---- parser ------------------------------------------------------------ */

ssize_t resp_parse(struct resp_parser *p, char *buf, size_t len)
{
    size_t eol;
    long long ll;
    int r;

    if (p->state == ST_ERROR)
        return RESP_ERR;
    p->need = 0;
    /* the struct may have been moved since the last call */
    p->offs = p->offs_heap ? p->offs_heap : p->offs_inline;
    if (len < p->pos || len < p->scan) /* caller broke the contract: read nothing */
        return RESP_INCOMPLETE;

    for (;;) {
        switch (p->state) {
        case ST_IDLE:
            if (p->pos == len)
                return RESP_INCOMPLETE;
            if (p->cap > ARGV_KEEP)
                drop_heap(p);
            p->offs = p->offs_heap ? p->offs_heap : p->offs_inline;
            p->start = p->scan = p->pos;
            p->nargs = 0;
            p->state = buf[p->pos] == '*' ? ST_MB_COUNT : ST_INLINE;
            break;

        case ST_MB_COUNT:
            if (!fast_header(p, buf, len, &eol, &ll)) {
                r = find_eol(p, buf, len, p->pos, '\r', &eol);
                if (r < 0)
                    return fail(p, RESP_EMSG_BIG_MBULK);
                if (r == 0 || eol + 1 == len)
                    return RESP_INCOMPLETE;
                if (!util_str2ll(buf + p->pos + 1, eol - p->pos - 1, &ll))
                    return fail(p, RESP_EMSG_MBULK);
            }
            if (buf[eol + 1] != '\n' ||
                ll > (p->max_multibulk < INT_MAX ? p->max_multibulk : INT_MAX))
                return fail(p, RESP_EMSG_MBULK);
            if (ll > RESP_UNAUTH_MAX_MULTIBULK && p->auth_required)
                return fail(p, RESP_EMSG_UNAUTH_MBULK);
            p->pos = p->scan = eol + 2;
            if (ll <= 0) { /* "*0", "*-1": no command, go on with the next */
                p->state = ST_IDLE;
                break;
            }
            p->multibulk = ll;
            p->state = ST_BULK_HDR;
            break;

        case ST_BULK_HDR:
            if (p->pos >= len)
                return RESP_INCOMPLETE;
            if (buf[p->pos] != '$' || !fast_header(p, buf, len, &eol, &ll)) {
                r = find_eol(p, buf, len, p->pos, '\r', &eol);
                if (r < 0)
                    return fail(p, RESP_EMSG_BIG_BULK);
                if (r == 0 || eol + 1 == len)
                    return RESP_INCOMPLETE;
                if (buf[p->pos] != '$') {
                    char c = buf[p->pos];
                    if (c == '\r' || c == '\n' || c == '\0')
                        c = ' ';
                    snprintf(p->errbuf, sizeof p->errbuf, RESP_EMSG_EXPECTED_DOLLAR, c);
                    return fail(p, p->errbuf);
                }
                if (buf[eol + 1] != '\n' || !util_str2ll(buf + p->pos + 1, eol - p->pos - 1, &ll))
                    return fail(p, RESP_EMSG_BULK);
            }
            if (buf[eol + 1] != '\n' || ll < 0 || ll > p->max_bulk)
                return fail(p, RESP_EMSG_BULK);
            if (ll > RESP_UNAUTH_MAX_BULK && p->auth_required)
                return fail(p, RESP_EMSG_UNAUTH_BULK);
            p->bulklen = ll;
            p->pos = p->scan = eol + 2;
            p->state = ST_BULK_DATA;
            /* fall through */

        case ST_BULK_DATA: {
            size_t n = (size_t)p->bulklen;
            if (len - p->pos < n + 2) {
                if (n >= RESP_BIG_ARG)
                    p->need = p->pos + n + 2;
                return RESP_INCOMPLETE;
            }
            /* Strict where Redis skips two bytes unchecked: a missing CRLF
             * means the client and we disagree on framing, and everything
             * after would be misread. */
            if (buf[p->pos + n] != '\r' || buf[p->pos + n + 1] != '\n')
                return fail(p, RESP_EMSG_BULK);
            push_arg(p, p->pos, n);
            p->pos = p->scan = p->pos + n + 2;
            p->bulklen = -1;
            if (p->nargs == p->multibulk)
                return finish(p, buf);
            p->state = ST_BULK_HDR;
            break;
        }

        case ST_INLINE: {
            r = find_eol(p, buf, len, p->pos, '\n', &eol);
            if (r < 0)
                return fail(p, RESP_EMSG_BIG_INLINE);
            if (r == 0)
                return RESP_INCOMPLETE;
            size_t end = eol;
            if (end > p->pos && buf[end - 1] == '\r')
                end--;
            if (!split_inline(p, buf, p->pos, end))
                return fail(p, RESP_EMSG_QUOTES);
            p->pos = p->scan = eol + 1;
            if (p->nargs == 0) { /* blank line */
                p->state = ST_IDLE;
                break;
            }
            return finish(p, buf);
        }

        default:
            return fail(p, p->err ? p->err : RESP_EMSG_MBULK);
        }
    }
}

/* ---- reply writer ------------------------------------------------------ */

/* prefix, up to 20 digits and a sign, CRLF */
#define HDR_MAX 23

static inline char *put_crlf(char *d)
{
    d[0] = '\r';
    d[1] = '\n';
    return d + 2;
}

static inline char *put_hdr(char *d, char prefix, long long v)
{
    *d++ = prefix;
    d += util_ll2str(d, v);
    return put_crlf(d);
}

static inline char *put_hdr_u(char *d, char prefix, unsigned long long v)
{
    *d++ = prefix;
    d += util_ull2str(d, v);
    return put_crlf(d);
}

static inline void commit(struct buf *b, char *d)
{
    b->len = (size_t)(d - b->data);
}

static void put_raw(struct buf *b, const char *s, size_t n)
{
    buf_append(b, s, n);
}

/* A line reply (+ or -) whose text must not carry CR or LF. */
static void add_line(struct buf *b, char prefix, const char *s, size_t n)
{
    buf_reserve(b, n + 3);
    char *d = buf_tail(b);
    *d++ = prefix;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
    commit(b, put_crlf(d + n));
}

void resp_add_simple(struct buf *b, const char *s, size_t n)
{
    add_line(b, '+', s, n);
}

void resp_add_ok(struct buf *b)
{
    put_raw(b, "+OK\r\n", 5);
}

void resp_add_error(struct buf *b, const char *s, size_t n)
{
    add_line(b, '-', s, n);
}

void resp_add_errorf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        add_line(b, '-', small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    add_line(b, '-', big, (size_t)n);
    xfree(big);
}

void resp_add_int(struct buf *b, long long v)
{
    buf_reserve(b, HDR_MAX);
    commit(b, put_hdr(buf_tail(b), ':', v));
}

void resp_add_bulk(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, HDR_MAX + n + 2);
    char *d = put_hdr_u(buf_tail(b), '$', n);
    if (n)
        memcpy(d, p, n);
    commit(b, put_crlf(d + n));
}

void resp_add_bulk_cstr(struct buf *b, const char *s)
{
    if (!s)
        put_raw(b, "$-1\r\n", 5);
    else
        resp_add_bulk(b, s, strlen(s));
}

void resp_add_bulk_ll(struct buf *b, long long v)
{
    char digits[21];
    size_t n = util_ll2str(digits, v);
    buf_reserve(b, 4 + 2 + n + 2); /* "$NN\r\n" + digits + CRLF */
    char *d = put_hdr_u(buf_tail(b), '$', n);
    memcpy(d, digits, n);
    commit(b, put_crlf(d + n));
}

void resp_add_null(struct buf *b, int proto)
{
    if (proto >= 3)
        put_raw(b, "_\r\n", 3);
    else
        put_raw(b, "$-1\r\n", 5);
}

void resp_add_null_array(struct buf *b, int proto)
{
    if (proto >= 3)
        put_raw(b, "_\r\n", 3);
    else
        put_raw(b, "*-1\r\n", 5);
}

void resp_add_array(struct buf *b, long long n)
{
    buf_reserve(b, HDR_MAX);
    commit(b, put_hdr(buf_tail(b), '*', n));
}

void resp_add_map(struct buf *b, int proto, long long n)
{
    buf_reserve(b, HDR_MAX);
    if (proto >= 3)
        commit(b, put_hdr(buf_tail(b), '%', n));
    else
        commit(b, put_hdr(buf_tail(b), '*', 2 * n));
}

void resp_add_set(struct buf *b, int proto, long long n)
{
    buf_reserve(b, HDR_MAX);
    commit(b, put_hdr(buf_tail(b), proto >= 3 ? '~' : '*', n));
}

void resp_add_push(struct buf *b, int proto, long long n)
{
    buf_reserve(b, HDR_MAX);
    commit(b, put_hdr(buf_tail(b), proto >= 3 ? '>' : '*', n));
}

void resp_add_double(struct buf *b, int proto, double v)
{
    char txt[UTIL_D_STR_MAX];
    size_t n = util_d2str(txt, sizeof txt, v);
    buf_reserve(b, HDR_MAX + n + 2);
    char *d = buf_tail(b);
    if (proto >= 3)
        *d++ = ',';
    else
        d = put_hdr_u(d, '$', n);
    memcpy(d, txt, n);
    commit(b, put_crlf(d + n));
}

void resp_add_bool(struct buf *b, int proto, bool v)
{
    if (proto >= 3)
        put_raw(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        put_raw(b, v ? ":1\r\n" : ":0\r\n", 4);
}

void resp_add_verbatim(struct buf *b, int proto, const char *p, size_t n)
{
    if (proto < 3) {
        resp_add_bulk(b, p, n);
        return;
    }
    buf_reserve(b, HDR_MAX + 4 + n + 2);
    char *d = put_hdr_u(buf_tail(b), '=', n + 4);
    memcpy(d, "txt:", 4);
    d += 4;
    if (n)
        memcpy(d, p, n);
    commit(b, put_crlf(d + n));
}
