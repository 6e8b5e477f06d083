/*
 * test_buf.c — core/buf: the growable byte buffer under every connection.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"

/* A buffer that never held data has a valid, empty head and tail (it used to
 * compute NULL + 0, which UBSan reports; INFO and CONFIG GET reached it). */
Test(buf, unused_buffer_has_valid_empty_head)
{
    struct buf b;
    buf_init(&b);
    cr_assert_eq(buf_pending(&b), 0);
    cr_assert_not_null(buf_head(&b));
    cr_assert_not_null(buf_tail(&b));
    cr_assert_eq(buf_head(&b), buf_tail(&b));
    char out[1];
    memcpy(out, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

Test(buf, reserve_append_consume)
{
    struct buf b;
    buf_init(&b);
    buf_reserve(&b, 5);
    memcpy(buf_tail(&b), "hello", 5);
    b.len += 5;
    cr_assert_eq(buf_pending(&b), 5);
    cr_assert(memcmp(buf_head(&b), "hello", 5) == 0);
    buf_consume(&b, 2);
    cr_assert(memcmp(buf_head(&b), "llo", 3) == 0);
    buf_consume(&b, 3);
    cr_assert_eq(buf_pending(&b), 0);
    buf_deinit(&b);
}
