/*
 * listobj.h — the value of a list key (LPUSH and friends).
 *
 * One encoding for every size, the one Redis 7.0 calls "quicklist": a doubly
 * linked list of packed nodes. A node is one allocation holding its header
 * and its entries back to back, each entry
 *
 *     [len: varint][bytes][back: reverse varint of the entry's size so far]
 *
 * so a small element costs its bytes plus 2 (as a listpack entry in Redis),
 * and an entry can be read from either end of a node. A node grows up to the
 * limit list-max-listpack-size sets (negative: -1..-5 = 4..64 KB per node;
 * positive: that many entries, at most 8 KB), then a new node starts. Pushes
 * and pops at the ends touch one node; an index walks node counts first.
 * Callers never see nodes: they use indexes and the iterator below.
 *
 * Not thread-safe: kv runs it under the keyspace lock.
 */
#ifndef SCALEOUT_KV_LISTOBJ_H
#define SCALEOUT_KV_LISTOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_list;
struct list_node;

/* Longest element a node can hold (node sizes are 32-bit); kv refuses longer. */
#define LIST_MAX_ELEMENT (UINT32_MAX - 64)

/* list-max-listpack-size (Redis default -2: 8 KB nodes). */
extern long kv_list_fill;

enum { LIST_HEAD = 0, LIST_TAIL = 1 };

struct kv_list *kv_list_new(void);
void kv_list_free(struct kv_list *l);
/* A deep copy with the same nodes (COPY). */
struct kv_list *kv_list_dup(const struct kv_list *l);
uint64_t kv_list_len(const struct kv_list *l);
size_t kv_list_memory(const struct kv_list *l);
/* Nodes in the list (for tests and MEMORY figures). */
uint32_t kv_list_nodes(const struct kv_list *l);

void kv_list_push(struct kv_list *l, int where, const char *v, size_t n);
/* The element at one end without removing it; false when empty. The
 * pointer is valid until the next change of the list. */
bool kv_list_peek(const struct kv_list *l, int where, const char **v, size_t *n);
/* Remove the element at one end (the list must not be empty). */
void kv_list_pop(struct kv_list *l, int where);
/* Element at idx (negative: from the tail); false when out of range. */
bool kv_list_index(const struct kv_list *l, long long idx, const char **v, size_t *n);
/* Replace the element at idx (0 <= idx < len). */
void kv_list_set(struct kv_list *l, uint64_t idx, const char *v, size_t n);
/* Delete `count` elements starting at index start (both within the list). */
void kv_list_del_range(struct kv_list *l, uint64_t start, uint64_t count);

/*
 * Iterator: positioned on an element, moving towards the tail (fwd) or the
 * head. Changes through the iterator keep it valid; any other change of the
 * list invalidates it.
 */
struct list_iter {
    struct kv_list *l;
    struct list_node *n;
    uint32_t off;   /* byte offset of the current entry in n */
    bool fwd;
};

/* Position on element idx (0 <= idx < len). */
void kv_list_iter_init(struct list_iter *it, struct kv_list *l, uint64_t idx, bool fwd);
/* The current element; false when the iterator has passed the end. */
bool kv_list_iter_get(const struct list_iter *it, const char **v, size_t *n);
void kv_list_iter_next(struct list_iter *it);
/* Delete the current element and move to the next one in the iterator's direction. */
void kv_list_iter_del(struct list_iter *it);
/* Insert v before (toward the head) or after the current element; the
 * iterator is invalid afterwards. */
void kv_list_iter_insert(struct list_iter *it, bool after, const char *v, size_t n);

#endif
