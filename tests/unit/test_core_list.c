/*
 * test_core_list.c — core/list.h: the intrusive doubly-linked lists (with and
 * without a tail pointer) and the singly-linked FIFO queue.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "core/list.h"

struct el {
    int v;
    struct el *prev, *next;
};

Test(core_list, push_remove)
{
    struct el a = {.v = 1}, b = {.v = 2}, c = {.v = 3};
    struct el *head = NULL;
    LIST_PUSH(head, &a, prev, next);
    LIST_PUSH(head, &b, prev, next);
    LIST_PUSH(head, &c, prev, next); /* c b a */
    cr_assert_eq(head, &c);
    LIST_REMOVE(head, &b, prev, next); /* middle */
    cr_assert_eq(c.next, &a);
    cr_assert_eq(a.prev, &c);
    LIST_REMOVE(head, &c, prev, next); /* head */
    cr_assert_eq(head, &a);
    cr_assert_null(a.prev);
    LIST_REMOVE(head, &a, prev, next); /* last */
    cr_assert_null(head);
}

Test(core_list, tremove_keeps_tail)
{
    struct el a = {.v = 1}, b = {.v = 2};
    struct el *head = &a, *tail = &b;
    a.next = &b;
    b.prev = &a;
    LIST_TREMOVE(head, tail, &b, prev, next);
    cr_assert_eq(tail, &a);
    cr_assert_eq(head, &a);
    cr_assert_null(a.next);
    LIST_TREMOVE(head, tail, &a, prev, next);
    cr_assert_null(head);
    cr_assert_null(tail);
}

Test(core_list, tpush_sets_tail_once)
{
    struct el a = {.v = 1}, b = {.v = 2}, c = {.v = 3};
    struct el *head = NULL, *tail = NULL;
    LIST_TPUSH(head, tail, &a, prev, next);
    cr_assert_eq(head, &a);
    cr_assert_eq(tail, &a);
    LIST_TPUSH(head, tail, &b, prev, next);
    LIST_TPUSH(head, tail, &c, prev, next); /* c b a */
    cr_assert_eq(head, &c);
    cr_assert_eq(tail, &a);
    cr_assert_eq(c.next, &b);
    cr_assert_eq(b.prev, &c);
    cr_assert_eq(a.prev, &b);
    cr_assert_null(c.prev);
    LIST_TREMOVE(head, tail, &b, prev, next); /* middle */
    cr_assert_eq(c.next, &a);
    cr_assert_eq(a.prev, &c);
    cr_assert_eq(tail, &a);
}

Test(core_list, queue_fifo)
{
    struct el a = {.v = 1, .next = &a}, b = {.v = 2}, c = {.v = 3};
    struct el *head = NULL, *tail = NULL;
    QUEUE_PUSH(head, tail, &a, next);
    cr_assert_null(a.next); /* a stale link is cleared */
    QUEUE_PUSH(head, tail, &b, next);
    QUEUE_PUSH(head, tail, &c, next);
    int order[3], n = 0;
    while (head) {
        order[n++] = head->v;
        QUEUE_SHIFT(head, tail, next);
    }
    cr_assert_eq(n, 3);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(order[2], 3);
    cr_assert_null(tail);
    QUEUE_PUSH(head, tail, &b, next); /* reusable once empty */
    cr_assert_eq(head, &b);
    cr_assert_eq(tail, &b);
}
