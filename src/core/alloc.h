/*
 * alloc.h — counted memory allocation.
 *
 * Every heap allocation of scaleout goes through these wrappers. They count the
 * live bytes (the allocator's usable size, so the figure matches what malloc
 * really holds) in one relaxed atomic counter. The count feeds maxmemory,
 * INFO and /metrics. Allocation failure is fatal (the process logs and aborts):
 * a server that cannot allocate a reply buffer cannot make progress, and
 * bounding memory is the job of the limits (maxmemory, buffer limits), not of
 * per-call error handling.
 *
 * xalloc_count() counts successful allocations, so a test can prove a hot
 * path allocates nothing.
 */
#ifndef SCALEOUT_CORE_ALLOC_H
#define SCALEOUT_CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Like xrealloc, but a failed allocation returns NULL (p is left as it was)
 * instead of aborting: for sizes a request chooses (SETRANGE, APPEND), so a
 * huge one gets an error reply rather than killing the server. */
void *xtry_realloc(void *p, size_t n);
void xfree(void *p);
/* xfree every argument, in order: XFREE_ALL(p->name, p->addr, p) for what a
 * struct owns, then the struct. */
void xfree_each(void *const *ptrs, size_t n);
#define XFREE_ALL(...) xfree_each((void *const[]){__VA_ARGS__}, sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))
/* xfree the n pointers of the array v, then v (a vector of owned strings). */
#define XFREE_VEC(v, n)                                                               \
    do {                                                                              \
        for (size_t xfree_vec_i_ = 0; xfree_vec_i_ < (size_t)(n); xfree_vec_i_++)     \
            xfree((v)[xfree_vec_i_]);                                                 \
        xfree(v);                                                                     \
    } while (0)
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Bytes the allocator really reserved for p (>= the size asked for). */
size_t xalloc_size(const void *p);
/* Live bytes allocated through these wrappers, all threads. */
size_t xalloc_used(void);
/* Number of successful allocations so far (for tests). */
unsigned long long xalloc_count(void);

#endif
