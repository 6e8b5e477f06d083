/*
 * function.h — the FUNCTION libraries (function.c) as snapshots, the AOF and
 * replication carry them: RDB files write each library's code under the
 * FUNCTION2 opcode (kv/rdb.c), a load or a full sync puts them back.
 */
#ifndef SCALEOUT_KV_FUNCTION_H
#define SCALEOUT_KV_FUNCTION_H

#include <stddef.h>

struct kv_server;

/* Call cb with each library's code; allocates nothing (runs in a fork child too). */
void kv_fn_foreach_code(struct kv_server *s, void (*cb)(void *arg, const char *code, size_t len), void *arg);
/* FUNCTION LOAD REPLACE code (lock held). 0, or -1 with Redis's error text in err. */
int kv_fn_load_code(struct kv_server *s, const char *code, size_t len, char *err, size_t errlen);
/* The same as rdb.c's callbacks (struct kv_rdb_save_opts fn_each and
 * struct kv_rdb_load_opts fn_load, with fn_arg the struct kv_server). */
void kv_fn_rdb_each(void *srv, void (*cb)(void *arg, const char *code, size_t len), void *arg);
int kv_fn_rdb_load(void *srv, const char *code, size_t len, char *err, size_t errlen);
/* FUNCTION FLUSH (lock held). */
void kv_fn_flush(struct kv_server *s);

#endif
