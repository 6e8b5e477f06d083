/*
 * buf.c — growable byte buffer (see buf.h).
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/alloc.h"

char buf_empty[1];

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

void buf_deinit(struct buf *b)
{
    xfree(b->data);
    buf_init(b);
}

void buf_reserve_slow(struct buf *b, size_t n)
{
    size_t pending = b->len - b->off;
    /* Reclaim consumed space first when that alone makes room and the move is
     * cheap relative to what was consumed. */
    if (b->off > 0 && b->cap - pending >= n && b->off >= pending) {
        memmove(b->data, b->data + b->off, pending);
        b->off = 0;
        b->len = pending;
        return;
    }
    size_t need = b->len + n;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < (1u << 20) ? cap * 2 : cap + cap / 2;
    b->data = xrealloc(b->data, cap);
    b->cap = xalloc_size(b->data);
}

void buf_shrink(struct buf *b, size_t keep)
{
    if (b->len == 0 && b->cap > keep) {
        xfree(b->data);
        buf_init(b);
    }
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_move(struct buf *src, struct buf *dst, size_t n)
{
    if (n == 0)
        return;
    if (n == buf_pending(src) && buf_pending(dst) == 0) {
        struct buf t = *src;
        *src = *dst;
        *dst = t;
        src->off = src->len = 0;
        return;
    }
    buf_append(dst, buf_head(src), n);
    buf_consume(src, n);
}
