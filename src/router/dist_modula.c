/*
 * dist_modula.c — hash modulo the total weight: shard i owns weight_i
 * consecutive slots, in configuration order (nutcracker's `distribution:
 * modula`). Adding a shard moves most keys; use it when the shard list never
 * changes.
 */
#include "core/alloc.h"
#include "router/router.h"

struct modula {
    int nslots;
    int *slot;                  /* slot -> member */
};

static int modula_build(struct rt_dist *d, const struct rt_dist_in *in, int n, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    struct modula *m = xcalloc(1, sizeof *m);
    long long total = 0;
    for (int i = 0; i < n; i++)
        total += in[i].weight > 0 ? in[i].weight : 0;
    m->slot = xmalloc((size_t)(total ? total : 1) * sizeof *m->slot);
    for (int i = 0; i < n; i++)
        for (long long w = 0; w < in[i].weight; w++)
            m->slot[m->nslots++] = i;
    d->st = m;
    return 0;
}

static int modula_locate(const struct rt_dist *d, const char *key, size_t len)
{
    const struct modula *m = d->st;
    if (m->nslots == 0)
        return -1;
    return d->ids[m->slot[d->hash(key, len) % (uint32_t)m->nslots]];
}

static void modula_destroy(struct rt_dist *d)
{
    struct modula *m = d->st;
    if (m)
        xfree(m->slot);
    xfree(m);
}

const struct rt_dist_ops rt_dist_modula = {
    "modula", "hash modulo the total weight (every key moves when a shard joins)",
    modula_build, modula_locate, modula_destroy,
};
