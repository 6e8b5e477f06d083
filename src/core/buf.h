/*
 * buf.h — a growable byte buffer with a read offset.
 *
 * Used for client input (bytes arrive at the end, the parser consumes from the
 * front) and output (replies appended at the end, the socket drains from the
 * front). Memory is counted through core/alloc. The caller owns the struct;
 * buf_init/buf_deinit manage its storage.
 *
 *     data                 data+off            data+len          data+cap
 *     |---- consumed ------|---- pending -------|---- free ---------|
 */
#ifndef SCALEOUT_CORE_BUF_H
#define SCALEOUT_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char *data;
    size_t off; /* first unconsumed byte */
    size_t len; /* end of valid bytes */
    size_t cap;
};

void buf_init(struct buf *b);
void buf_deinit(struct buf *b);
/* Make room for at least n more bytes after len; may move pending bytes to the front. */
void buf_reserve_slow(struct buf *b, size_t n);
/* Give back storage above `keep` bytes when the buffer is empty. */
void buf_shrink(struct buf *b, size_t keep);

static inline size_t buf_pending(const struct buf *b) { return b->len - b->off; }
/* A buffer that never held data has no storage: its head and tail are
 * buf_empty (an offset from a null pointer is undefined behaviour). */
extern char buf_empty[];
static inline char *buf_head(const struct buf *b) { return b->data ? b->data + b->off : buf_empty; }
static inline char *buf_tail(const struct buf *b) { return b->data ? b->data + b->len : buf_empty; }
static inline size_t buf_room(const struct buf *b) { return b->cap - b->len; }

static inline void buf_reserve(struct buf *b, size_t n)
{
    if (b->cap - b->len < n)
        buf_reserve_slow(b, n);
}

/* Mark n bytes from the head as consumed. Resets to empty when all consumed. */
static inline void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return; /* memcpy with a NULL pointer is undefined even for 0 bytes */
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
}

static inline void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

/* Move n bytes from the head of src to the tail of dst (swaps the buffers
 * when that moves everything into an empty dst: no copy). */
void buf_move(struct buf *src, struct buf *dst, size_t n);

/* printf-style append. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
