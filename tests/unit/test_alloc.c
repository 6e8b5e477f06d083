/*
 * test_alloc.c — core/alloc: xtry_realloc fails softly and keeps the count.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

Test(alloc, try_realloc_failure_leaves_block_and_count)
{
#ifdef ASAN
    cr_skip_test("ASan's allocator aborts on an impossible size by design");
#endif
    char *p = xmalloc(100);
    memset(p, 'a', 100);
    size_t used = xalloc_used();
    /* far beyond any address space: malloc must fail, not abort */
    void *q = xtry_realloc(p, SIZE_MAX / 2);
    cr_assert_null(q);
    cr_assert_eq(xalloc_used(), used);
    cr_assert_eq(p[99], 'a');
    xfree(p);
}

Test(alloc, try_realloc_success_counts_like_xrealloc)
{
    size_t before = xalloc_used();
    char *p = xtry_realloc(NULL, 1000);
    cr_assert_not_null(p);
    cr_assert_eq(xalloc_used(), before + xalloc_size(p));
    p = xtry_realloc(p, 100000);
    cr_assert_not_null(p);
    cr_assert_eq(xalloc_used(), before + xalloc_size(p));
    xfree(p);
    cr_assert_eq(xalloc_used(), before);
}
