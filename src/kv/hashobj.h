/*
 * hashobj.h — the value of a hash key (HSET and friends).
 *
 * Two encodings, as Redis: a small hash (at most kv_hash_max_entries fields, each
 * field and value at most kv_hash_max_value bytes) is one packed buffer of
 * [varint flen][field][varint vlen][value] records (lengths below 128 take one
 * byte) searched linearly: a session with
 * five fields costs one allocation. Past either limit it converts, once, to a
 * dict of one allocation per field. Callers never see the encoding.
 */
#ifndef SCALEOUT_KV_HASHOBJ_H
#define SCALEOUT_KV_HASHOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_hash;

extern size_t kv_hash_max_entries;  /* default 128 */
extern size_t kv_hash_max_value;    /* default 64 */

struct kv_hash *kv_hash_new(void);
void kv_hash_free(struct kv_hash *h);
/* A deep copy in the same encoding (COPY). */
struct kv_hash *kv_hash_dup(const struct kv_hash *h);
size_t kv_hash_len(const struct kv_hash *h);
size_t kv_hash_memory(const struct kv_hash *h);
bool kv_hash_is_packed(const struct kv_hash *h);

/* Field lookup: true with *v and *vlen set (pointing inside the hash, valid until the next change). */
bool kv_hash_get(struct kv_hash *h, const char *f, size_t flen, const char **v, size_t *vlen);
/* Set a field; returns 1 when the field is new, 0 when updated. */
int kv_hash_set(struct kv_hash *h, const char *f, size_t flen, const char *v, size_t vlen);
/* Delete a field; true if it existed. */
bool kv_hash_del(struct kv_hash *h, const char *f, size_t flen);

/* Call fn for every field (fn must not modify the hash). */
void kv_hash_foreach(struct kv_hash *h,
                  void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg);
/* Cursor iteration for HSCAN: visits some fields, returns the next cursor (0 = done). */
uint64_t kv_hash_scan(struct kv_hash *h, uint64_t cursor,
                   void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg);
/* A random field (HRANDFIELD, sampling); false when empty. */
bool kv_hash_random(struct kv_hash *h, const char **f, size_t *flen, const char **v, size_t *vlen);

#endif
