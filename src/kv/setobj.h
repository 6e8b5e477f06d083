/*
 * setobj.h — the value of a set key (SADD and friends).
 *
 * Two encodings, as Redis 7.0: "intset", a sorted array of integers 2, 4 or
 * 8 bytes wide (the narrowest that holds every member), while every member is
 * an integer in Redis's canonical spelling and there are at most
 * kv_set_max_intset_entries of them; past that it converts, once, to
 * "hashtable": a dict of one allocation per member. Everything is one
 * allocation per set plus one per member of a hashtable set; an intset of
 * small numbers costs 2 bytes a member.
 *
 * A struct kv_set * is an opaque handle (setobj.c tags it), never
 * dereferenced outside setobj.c. Calls that may reallocate the set take
 * struct kv_set ** and update it: the caller stores the new handle back
 * into the key's object.
 *
 * Not thread-safe: kv runs it under the keyspace lock.
 */
#ifndef SCALEOUT_KV_SETOBJ_H
#define SCALEOUT_KV_SETOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_set;

/* set-max-intset-entries (Redis default 512). */
extern size_t kv_set_max_intset_entries;

/* Longest member text an intset yields ("-9223372036854775808"). */
#define SET_INT_STR 24

struct kv_set *kv_set_new(void);
void kv_set_free(struct kv_set *s);
/* A deep copy in the same encoding (COPY). */
struct kv_set *kv_set_dup(const struct kv_set *s);
uint64_t kv_set_len(const struct kv_set *s);
size_t kv_set_memory(const struct kv_set *s);
bool kv_set_is_intset(const struct kv_set *s);

/* Add a member: true when it was new. May convert or reallocate *s. */
bool kv_set_add(struct kv_set **s, const char *m, size_t n);
/* Remove a member: true when it was there. May reallocate *s. */
bool kv_set_remove(struct kv_set **s, const char *m, size_t n);
bool kv_set_has(const struct kv_set *s, const char *m, size_t n);

/*
 * Call fn for every member (fn must not change the set). Intset members come
 * in ascending order, as Redis returns them; the text is in a scratch buffer
 * valid during the call only.
 */
void kv_set_foreach(const struct kv_set *s, void (*fn)(const char *m, size_t n, void *arg), void *arg);
/* SSCAN: some members from cursor; returns the next cursor (0 = done). An
 * intset is returned whole with cursor 0, as Redis does. */
uint64_t kv_set_scan(const struct kv_set *s, uint64_t cursor, void (*fn)(const char *m, size_t n, void *arg), void *arg);

/*
 * A random member (roughly uniform). The text goes to buf (SET_INT_STR bytes
 * at least) for an intset, or points into the set; valid until the next
 * change. false when the set is empty.
 */
bool kv_set_random(const struct kv_set *s, char *buf, const char **m, size_t *n);

#endif
