/*
 * alloc.c — counted allocation wrappers over glibc malloc (see alloc.h).
 */
#include "core/alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic size_t used_bytes;
static _Atomic unsigned long long n_allocs;

static void oom(size_t n)
{
    fprintf(stderr, "scaleout: out of memory allocating %zu bytes\n", n);
    abort();
}

static inline void count_add(void *p)
{
    atomic_fetch_add_explicit(&used_bytes, malloc_usable_size(p), memory_order_relaxed);
    atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    count_add(p);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    count_add(p);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    if (!p)
        return xmalloc(n);
    size_t old = malloc_usable_size(p);
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    size_t now = malloc_usable_size(q);
    if (now >= old)
        atomic_fetch_add_explicit(&used_bytes, now - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&used_bytes, old - now, memory_order_relaxed);
    return q;
}

void *xtry_realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        return NULL;
    size_t now = malloc_usable_size(q);
    if (now >= old)
        atomic_fetch_add_explicit(&used_bytes, now - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&used_bytes, old - now, memory_order_relaxed);
    if (!p)
        atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return q;
}

void xfree(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&used_bytes, malloc_usable_size(p), memory_order_relaxed);
    free(p);
}

void xfree_each(void *const *ptrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xfree(ptrs[i]);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

size_t xalloc_size(const void *p)
{
    return p ? malloc_usable_size((void *)p) : 0;
}

size_t xalloc_used(void)
{
    return atomic_load_explicit(&used_bytes, memory_order_relaxed);
}

unsigned long long xalloc_count(void)
{
    return atomic_load_explicit(&n_allocs, memory_order_relaxed);
}
