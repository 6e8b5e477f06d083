/*
 * dist_directory.c — a lookup table key -> shard name kept in a kv (a hash
 * at `directory ADDR HASH`): the server fetches the whole table with HGETALL
 * every `directory-ttl` and installs it here (rt_dir_install), so a change
 * written to the directory kv takes effect within one TTL. Keys the table
 * lacks go to `directory-default` (a shard name), or have no shard.
 *
 * Lookups read the installed table without a lock: a new table is published
 * with an atomic pointer store; the table it replaced is kept one more TTL
 * (a lookup lasts microseconds, a TTL at least 100 ms) and freed when the
 * next one is installed, so at most three tables exist at a time.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "router/router.h"

struct dir_entry {
    char *key;
    size_t klen;
    int member;
};

struct dir_table {
    size_t n;
    struct dir_entry *e;
    char *arena;
    struct dir_table *older;
};

struct dir {
    _Atomic(struct dir_table *) table;
    int dflt;                       /* member, -1 none */
    char **names;                   /* member names, to resolve table values */
    int n;
};

static int cmp_entry(const void *x, const void *y)
{
    const struct dir_entry *a = x, *b = y;
    int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);
    if (c)
        return c;
    return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int dir_build(struct rt_dist *d, const struct rt_dist_in *in, int n, char *err, size_t errlen)
{
    struct dir *x = xcalloc(1, sizeof *x);
    x->dflt = -1;
    x->n = n;
    x->names = xcalloc((size_t)(n ? n : 1), sizeof *x->names);
    for (int i = 0; i < n; i++) {
        x->names[i] = xstrdup(in[i].name);
        if (d->conf->dir_default && *d->conf->dir_default && strcmp(d->conf->dir_default, in[i].name) == 0)
            x->dflt = i;
    }
    if (d->conf->dir_default && *d->conf->dir_default && x->dflt < 0 && n > 0) {
        snprintf(err, errlen, "directory-default '%s' names no shard of the pool", d->conf->dir_default);
        for (int i = 0; i < n; i++)
            xfree(x->names[i]);
        xfree(x->names);
        xfree(x);
        return -1;
    }
    d->st = x;
    return 0;
}

void rt_dir_install(struct rt_dist *d, const struct resp_arg *kv, size_t npairs)
{
    if (d->ops != &rt_dist_directory)
        return;
    struct dir *x = d->st;
    struct dir_table *t = xcalloc(1, sizeof *t);
    size_t bytes = 0;
    for (size_t i = 0; i < npairs; i++)
        bytes += kv[2 * i].len;
    t->arena = xmalloc(bytes ? bytes : 1);
    t->e = xmalloc((npairs ? npairs : 1) * sizeof *t->e);
    size_t off = 0;
    for (size_t i = 0; i < npairs; i++) {
        int m = -1;
        for (int j = 0; j < x->n; j++)
            if (strlen(x->names[j]) == kv[2 * i + 1].len && memcmp(x->names[j], kv[2 * i + 1].ptr, kv[2 * i + 1].len) == 0)
                m = j;
        if (m < 0)
            continue; /* names a shard this pool lacks: the default applies */
        memcpy(t->arena + off, kv[2 * i].ptr, kv[2 * i].len);
        t->e[t->n].key = t->arena + off;
        t->e[t->n].klen = kv[2 * i].len;
        t->e[t->n].member = m;
        t->n++;
        off += kv[2 * i].len;
    }
    qsort(t->e, t->n, sizeof *t->e, cmp_entry);
    t->older = atomic_load(&x->table);
    atomic_store(&x->table, t);
    struct dir_table *old = t->older ? t->older->older : NULL;
    if (t->older)
        t->older->older = NULL;
    while (old) {
        struct dir_table *o = old->older;
        xfree(old->e);
        xfree(old->arena);
        xfree(old);
        old = o;
    }
}

long long rt_dir_entries(const struct rt_dist *d)
{
    if (d->ops != &rt_dist_directory)
        return -1;
    struct dir_table *t = atomic_load(&((struct dir *)d->st)->table);
    return t ? (long long)t->n : 0;
}

static int dir_locate(const struct rt_dist *d, const char *key, size_t len)
{
    const struct dir *x = d->st;
    const struct dir_table *t = atomic_load(&((struct dir *)d->st)->table);
    if (t) {
        struct dir_entry k = {(char *)key, len, 0};
        const struct dir_entry *e = bsearch(&k, t->e, t->n, sizeof *t->e, cmp_entry);
        if (e)
            return d->ids[e->member];
    }
    return x->dflt < 0 ? -1 : d->ids[x->dflt];
}

static void dir_destroy(struct rt_dist *d)
{
    struct dir *x = d->st;
    if (!x)
        return;
    struct dir_table *t = atomic_load(&x->table);
    while (t) {
        struct dir_table *o = t->older;
        xfree(t->e);
        xfree(t->arena);
        xfree(t);
        t = o;
    }
    for (int i = 0; i < x->n; i++)
        xfree(x->names[i]);
    xfree(x->names);
    xfree(x);
}

const struct rt_dist_ops rt_dist_directory = {
    "directory", "a key -> shard table kept in a kv (directory ADDR HASH), fetched every directory-ttl",
    dir_build, dir_locate, dir_destroy,
};
