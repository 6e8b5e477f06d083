/*
 * dist.c — the distribution table and what every distribution shares:
 * building over a pool's shards, the hash tag, and lookup.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "router/router.h"

const struct rt_dist_ops *const rt_dists[RT_DIST__COUNT] = {
#define RT_X_ROW(id, sym) &sym,
    RT_DISTS(RT_X_ROW)
#undef RT_X_ROW
};

int rt_dist_find(const char *name)
{
    for (int i = 0; i < RT_DIST__COUNT; i++)
        if (strcasecmp(rt_dists[i]->name, name) == 0)
            return i;
    return -1;
}

struct rt_dist *rt_dist_new(const struct rt_pool_conf *pc, const struct rt_dist_in *in, int n, char *err,
                            size_t errlen)
{
    struct rt_dist *d = xcalloc(1, sizeof *d);
    d->ops = rt_dists[pc->dist];
    d->conf = pc;
    d->hash = rt_hash_fns[pc->hash].fn;
    d->n = n;
    d->ids = xmalloc((size_t)(n ? n : 1) * sizeof *d->ids);
    for (int i = 0; i < n; i++)
        d->ids[i] = in[i].index;
    if (d->ops->build(d, in, n, err, errlen) != 0) {
        xfree(d->ids);
        xfree(d);
        return NULL;
    }
    return d;
}

void rt_dist_free(struct rt_dist *d)
{
    if (!d)
        return;
    d->ops->destroy(d);
    xfree(d->ids);
    xfree(d);
}

int rt_dist_locate(const struct rt_dist *d, const char *key, size_t len)
{
    if (d->n == 0)
        return -1;
    rt_hash_tag(d->conf->hash_tag, &key, &len);
    return d->ops->locate(d, key, len);
}
