/*
 * list.h — intrusive lists: the links live in the elements themselves, the
 * list is one head pointer (and a tail pointer where the owner keeps one).
 * O(1) push and removal, no allocation. The `prev` and `next` arguments name
 * the element's link fields, so one element can sit on several lists
 * (kv's clients are on their worker's list and on the server's registry).
 *
 *   LIST_PUSH(w->clients, c, prev, next);           c first on a doubly-linked list
 *   LIST_REMOVE(w->clients, c, prev, next);         take c out
 *   LIST_TPUSH(sl->head, sl->tail, e, prev, next);  c first, on a list with a tail
 *   LIST_TREMOVE(l->head, l->tail, nd, prev, next); take nd out of a list with a tail
 *   QUEUE_PUSH(q->head, q->tail, m, next);          m last on a singly-linked FIFO
 *   QUEUE_SHIFT(q->head, q->tail, next);            drop the FIFO's first element
 *
 * The removals leave el's own links as they were: clear them where the
 * element is looked at again. These are macros: el must be a plain pointer,
 * never the head or tail expression itself (take `x = l->head` first).
 */
#ifndef SCALEOUT_CORE_LIST_H
#define SCALEOUT_CORE_LIST_H

#include <stddef.h>

#define LIST_PUSH(head, el, prev, next)                                                                                \
    do {                                                                                                               \
        (el)->prev = NULL;                                                                                             \
        (el)->next = (head);                                                                                           \
        if (head)                                                                                                      \
            (head)->prev = (el);                                                                                       \
        (head) = (el);                                                                                                 \
    } while (0)

#define LIST_REMOVE(head, el, prev, next)                                                                              \
    do {                                                                                                               \
        if ((el)->prev)                                                                                                \
            (el)->prev->next = (el)->next;                                                                             \
        else                                                                                                           \
            (head) = (el)->next;                                                                                       \
        if ((el)->next)                                                                                                \
            (el)->next->prev = (el)->prev;                                                                             \
    } while (0)

/* The list with a tail: the same, and tail follows its last element. */
#define LIST_TPUSH(head, tail, el, prev, next)                                                                         \
    do {                                                                                                               \
        if (!(head))                                                                                                   \
            (tail) = (el);                                                                                             \
        LIST_PUSH(head, el, prev, next);                                                                               \
    } while (0)

#define LIST_TREMOVE(head, tail, el, prev, next)                                                                       \
    do {                                                                                                               \
        if (!(el)->next)                                                                                               \
            (tail) = (el)->prev;                                                                                       \
        LIST_REMOVE(head, el, prev, next);                                                                             \
    } while (0)

#define QUEUE_PUSH(head, tail, el, next)                                                                               \
    do {                                                                                                               \
        (el)->next = NULL;                                                                                             \
        if (tail)                                                                                                      \
            (tail)->next = (el);                                                                                       \
        else                                                                                                           \
            (head) = (el);                                                                                             \
        (tail) = (el);                                                                                                 \
    } while (0)

#define QUEUE_SHIFT(head, tail, next)                                                                                  \
    do {                                                                                                               \
        (head) = (head)->next;                                                                                         \
        if (!(head))                                                                                                   \
            (tail) = NULL;                                                                                             \
    } while (0)

#endif
