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

/* buf_move: part of src is copied; all of src into an empty dst is a swap
 * (dst takes src's memory, src is left empty and usable). */
Test(buf, move_part_and_whole)
{
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    buf_append(&a, "hello world", 11);
    buf_move(&a, &b, 6);
    cr_assert_eq(buf_pending(&b), 6);
    cr_assert(memcmp(buf_head(&b), "hello ", 6) == 0);
    cr_assert_eq(buf_pending(&a), 5);
    buf_move(&a, &b, 5); /* dst not empty: appended */
    cr_assert_eq(buf_pending(&b), 11);
    cr_assert(memcmp(buf_head(&b), "hello world", 11) == 0);
    cr_assert_eq(buf_pending(&a), 0);
    struct buf c;
    buf_init(&c);
    const char *mem = buf_head(&b);
    buf_move(&b, &c, 11); /* everything into an empty dst: swapped, no copy */
    cr_assert_eq(buf_head(&c), mem);
    cr_assert_eq(buf_pending(&c), 11);
    cr_assert_eq(buf_pending(&b), 0);
    buf_append(&b, "x", 1);
    cr_assert_eq(buf_pending(&b), 1);
    buf_move(&b, &c, 0);
    cr_assert_eq(buf_pending(&c), 11);
    buf_deinit(&a);
    buf_deinit(&b);
    buf_deinit(&c);
}
