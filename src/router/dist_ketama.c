/*
 * dist_ketama.c — consistent hashing with virtual nodes and weights on the
 * shared ring (core/chash).
 *
 * Native layout: each shard puts vnodes x weight points at XXH3(name, seed =
 * point number) on a 64-bit ring (the points core/chash_build lays out, with
 * more of them: 1000 per unit of weight by default, so each shard's share is
 * within a few percent of its weight; at most 1,000,000 points a pool, fewer
 * per weight beyond), keys hash with XXH3 (chash_hash); adding a shard moves
 * about 1/N of the keys.
 *
 * twemproxy layout (`ketama-compat twemproxy`), nutcracker's `distribution:
 * ketama`: each live server gets floor(weight / total * 160 / 4 * nlive) x 4
 * points; point group i is the MD5 digest of "NAME-i" (NAME = the server's
 * name when given, else "host:port"), read as four little-endian 32-bit
 * values. Keys hash with the pool's `hash` (nutcracker's functions, hash.c)
 * and go to the first point at or after their 32-bit hash, wrapping.
 */
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "core/alloc.h"
#include "router/router.h"

#define TWEMPROXY_POINTS_PER_SERVER 160
#define TWEMPROXY_POINTS_PER_HASH 4

static int build_twemproxy(struct chash *c, const struct rt_dist_in *in, int n, char *err, size_t errlen)
{
    long long total = 0;
    for (int i = 0; i < n; i++)
        total += in[i].weight;
    if (total <= 0) {
        chash_build_points(c, NULL, 0, n);
        return 0;
    }
    size_t cap = 0;
    uint32_t per[RT_MAX_SHARDS];
    for (int i = 0; i < n; i++) {
        float pct = (float)in[i].weight / (float)total;
        double t = pct * TWEMPROXY_POINTS_PER_SERVER / 4 * (float)n + 0.0000000001;
        per[i] = (uint32_t)(floorf((float)t) * 4);
        cap += per[i];
    }
    struct chash_point *pts = xmalloc((cap ? cap : 1) * sizeof *pts);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        for (uint32_t g = 0; g < per[i] / TWEMPROXY_POINTS_PER_HASH; g++) {
            char host[300];
            int hl = snprintf(host, sizeof host, "%s-%u", in[i].name, g);
            if (hl < 0 || (size_t)hl >= sizeof host) {
                snprintf(err, errlen, "shard name '%s' too long", in[i].name);
                xfree(pts);
                return -1;
            }
            unsigned char d[EVP_MAX_MD_SIZE];
            unsigned int dl = 0;
            EVP_Digest(host, (size_t)hl, d, &dl, EVP_md5(), NULL);
            for (int x = 0; x < TWEMPROXY_POINTS_PER_HASH; x++) {
                const unsigned char *b = d + 4 * x;
                pts[k].h = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
                pts[k].member = i;
                k++;
            }
        }
    }
    chash_build_points(c, pts, k, n);
    xfree(pts);
    return 0;
}

#define NATIVE_MAX_POINTS 1000000

static int build_native(struct chash *c, const struct rt_dist_in *in, int n, long long vnodes)
{
    long long wsum = 0;
    for (int i = 0; i < n; i++)
        wsum += in[i].weight > 0 ? in[i].weight : 0;
    if (wsum > 0 && wsum * vnodes > NATIVE_MAX_POINTS)
        vnodes = NATIVE_MAX_POINTS / wsum > 0 ? NATIVE_MAX_POINTS / wsum : 1;
    size_t cap = 0;
    for (int i = 0; i < n; i++)
        cap += (size_t)(in[i].weight > 0 ? in[i].weight * vnodes : 0);
    struct chash_point *pts = xmalloc((cap ? cap : 1) * sizeof *pts);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(in[i].name);
        long long m = in[i].weight > 0 ? in[i].weight * vnodes : 0;
        for (long long v = 0; v < m; v++) {
            pts[k].h = XXH3_64bits_withSeed(in[i].name, len, (uint64_t)v);
            pts[k].member = i;
            k++;
        }
    }
    chash_build_points(c, pts, k, n);
    xfree(pts);
    return 0;
}

static int ketama_build(struct rt_dist *d, const struct rt_dist_in *in, int n, char *err, size_t errlen)
{
    struct chash *c = xcalloc(1, sizeof *c);
    chash_init(c);
    int rc = d->conf->twemproxy ? build_twemproxy(c, in, n, err, errlen) : build_native(c, in, n, d->conf->vnodes);
    if (rc != 0) {
        chash_deinit(c);
        xfree(c);
        return -1;
    }
    d->st = c;
    return 0;
}

static int ketama_locate(const struct rt_dist *d, const char *key, size_t len)
{
    const struct chash *c = d->st;
    if (c->npoints == 0)
        return -1;
    uint64_t h = d->conf->twemproxy ? d->hash(key, len) : chash_hash(key, len);
    return d->ids[chash_member_at(c, chash_find(c, h))];
}

static void ketama_destroy(struct rt_dist *d)
{
    if (d->st)
        chash_deinit(d->st);
    xfree(d->st);
}

const struct rt_dist_ops rt_dist_ketama = {
    "ketama", "consistent hashing, virtual nodes and weights (ketama-compat twemproxy: nutcracker's layout)",
    ketama_build, ketama_locate, ketama_destroy,
};
