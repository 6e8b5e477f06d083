/*
 * hashobj.h — the value of a hash key (HSET and friends).
 *
 * Two encodings, as Redis: a small hash (at most hash_max_entries fields, each
 * field and value at most hash_max_value bytes) is one packed buffer of
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

extern size_t hash_max_entries;  /* default 128 */
extern size_t hash_max_value;    /* default 64 */

struct kv_hash *hash_new(void);
void hash_free(struct kv_hash *h);
/* A deep copy in the same encoding (COPY). */
struct kv_hash *hash_dup(const struct kv_hash *h);
size_t hash_len(const struct kv_hash *h);
size_t hash_memory(const struct kv_hash *h);
bool hash_is_packed(const struct kv_hash *h);

/* Field lookup: true with *v and *vlen set (pointing inside the hash, valid until the next change). */
bool hash_get(struct kv_hash *h, const char *f, size_t flen, const char **v, size_t *vlen);
/* Set a field; returns 1 when the field is new, 0 when updated. */
int hash_set(struct kv_hash *h, const char *f, size_t flen, const char *v, size_t vlen);
/* Delete a field; true if it existed. */
bool hash_del(struct kv_hash *h, const char *f, size_t flen);

/* Call fn for every field (fn must not modify the hash). */
void hash_foreach(struct kv_hash *h,
                  void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg);
/* Cursor iteration for HSCAN: visits some fields, returns the next cursor (0 = done). */
uint64_t hash_scan(struct kv_hash *h, uint64_t cursor,
                   void (*fn)(const char *f, size_t flen, const char *v, size_t vlen, void *arg), void *arg);
/* A random field (HRANDFIELD, sampling); false when empty. */
bool hash_random(struct kv_hash *h, const char **f, size_t *flen, const char **v, size_t *vlen);

#endif
