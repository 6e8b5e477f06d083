/*
 * geohash.c — see geohash.h. The floating-point expressions keep Redis's
 * order of operations (geohash.c, geohash_helper.c of Redis 7.0): a search
 * compares distances against the radius to the last bit, and GEODIST prints
 * four decimals, so a reordered sum could show up as a different member set
 * or a different last digit.
 */
#include "kv/geohash.h"

#include <math.h>
#include <stddef.h>

#define EARTH_RADIUS_M 6372797.560856
#define MERCATOR_MAX 20037726.37
#define D_R (M_PI / 180.0)

static inline double deg_rad(double a) { return a * D_R; }
static inline double rad_deg(double a) { return a / D_R; }

/* Spread the 32 bits of v over the even bits of a 64-bit word. */
static uint64_t spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of w, packed into 32. */
static uint32_t squash(uint64_t w)
{
    uint64_t x = w & 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/*
 * (uint64_t)d as GCC compiles it for x86-64: below 2^63 a signed truncation
 * (cvttsd2si, which gives 2^63 for anything out of its range and for NaN),
 * from 2^63 on the same of d - 2^63 with bit 63 flipped. In C the cast is
 * undefined outside [0, 2^64); Redis applies it to any score a member has.
 */
static uint64_t x86_d2u64(double d)
{
    const double two63 = 9223372036854775808.0;
    if (d >= two63) {
        double e = d - two63;
        uint64_t r = e < two63 ? (uint64_t)(int64_t)e : 0x8000000000000000ULL;
        return r ^ 0x8000000000000000ULL;
    }
    if (d >= -two63)
        return (uint64_t)(int64_t)d;
    return 0x8000000000000000ULL;
}

bool geo_valid(double lon, double lat)
{
    return !(lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX);
}

/* Encode in the given ranges (Redis geohashEncode); false leaves bits 0. */
static bool encode(double lonmin, double lonmax, double latmin, double latmax, double lon, double lat, uint8_t step,
                   struct geo_cell *h)
{
    h->bits = 0;
    h->step = step;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN)
        return false;
    if (lat < latmin || lat > latmax || lon < lonmin || lon > lonmax)
        return false;
    double lat_off = (lat - latmin) / (latmax - latmin);
    double lon_off = (lon - lonmin) / (lonmax - lonmin);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    h->bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    return true;
}

static void encode_wgs84(double lon, double lat, uint8_t step, struct geo_cell *h)
{
    encode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, lon, lat, step, h);
}

uint64_t geo_encode(double lon, double lat)
{
    struct geo_cell h;
    encode_wgs84(lon, lat, GEO_STEP_MAX, &h);
    return h.bits;
}

struct box {
    double lonmin, lonmax, latmin, latmax;
};

/* The cell's bounds in the WGS84 ranges (Redis geohashDecode). */
static void cell_box(struct geo_cell h, struct box *b)
{
    uint32_t ilat = squash(h.bits), ilon = squash(h.bits >> 1);
    double lat_scale = GEO_LAT_MAX - GEO_LAT_MIN, lon_scale = GEO_LONG_MAX - GEO_LONG_MIN;
    double cells = (double)(1ULL << h.step);
    /* ilat + 1 is 32-bit arithmetic in Redis: it wraps for a damaged score */
    b->latmin = GEO_LAT_MIN + (ilat * 1.0 / cells) * lat_scale;
    b->latmax = GEO_LAT_MIN + ((uint32_t)(ilat + 1u) * 1.0 / cells) * lat_scale;
    b->lonmin = GEO_LONG_MIN + (ilon * 1.0 / cells) * lon_scale;
    b->lonmax = GEO_LONG_MIN + ((uint32_t)(ilon + 1u) * 1.0 / cells) * lon_scale;
}

void geo_decode(double score, double *lon, double *lat)
{
    struct box b;
    cell_box((struct geo_cell){x86_d2u64(score), GEO_STEP_MAX}, &b);
    double x = (b.lonmin + b.lonmax) / 2, y = (b.latmin + b.latmax) / 2;
    if (x > GEO_LONG_MAX)
        x = GEO_LONG_MAX;
    if (x < GEO_LONG_MIN)
        x = GEO_LONG_MIN;
    if (y > GEO_LAT_MAX)
        y = GEO_LAT_MAX;
    if (y < GEO_LAT_MIN)
        y = GEO_LAT_MIN;
    *lon = x;
    *lat = y;
}

void geo_hash_string(double score, char out[12])
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double lon, lat;
    geo_decode(score, &lon, &lat);
    /* the standard geohash spans latitudes -90..90 */
    struct geo_cell h;
    encode(-180, 180, -90, 90, lon, lat, GEO_STEP_MAX, &h);
    for (int i = 0; i < 10; i++)
        out[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = alphabet[0]; /* 52 bits give ten characters; the eleventh is '0' */
    out[11] = '\0';
}

static double lat_distance(double lat1, double lat2)
{
    return EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double lon1r = deg_rad(lon1), lon2r = deg_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) /* the same meridian: the latitude difference alone */
        return lat_distance(lat1, lat2);
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(a));
}

/* The precision whose cells are about the size of the search (Redis
 * geohashEstimateStepsByRadius). */
static uint8_t steps_for(double range_m, double lat)
{
    if (range_m == 0)
        return GEO_STEP_MAX;
    int step = 1;
    while (range_m < MERCATOR_MAX) {
        range_m *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) { /* cells narrow towards the poles */
        step--;
        if (lat > 80 || lat < -80)
            step--;
    }
    if (step < 1)
        step = 1;
    if (step > GEO_STEP_MAX)
        step = GEO_STEP_MAX;
    return (uint8_t)step;
}

#define ODD_BITS 0xaaaaaaaaaaaaaaaaULL  /* longitude */
#define EVEN_BITS 0x5555555555555555ULL /* latitude */

/* One interleaved coordinate v (its bits `mine`, the other's `other`) moved
 * by d (+1 or -1): the other's bits are filled with ones so that the carry or
 * borrow runs through them. */
static uint64_t step_coord(uint64_t v, int d, uint64_t mine, uint64_t other, unsigned sh)
{
    uint64_t zz = other >> sh;
    if (d > 0) {
        v = v + (zz + 1);
    } else {
        v = v | zz;
        v = v - (zz + 1);
    }
    return v & (mine >> sh);
}

/* Move a cell by one in longitude (odd bits, dx) and latitude (even bits,
 * dy), wrapping at the edges of the world. */
static struct geo_cell move(struct geo_cell h, int dx, int dy)
{
    unsigned sh = 64 - h.step * 2u;
    uint64_t x = h.bits & ODD_BITS, y = h.bits & EVEN_BITS;
    if (dx)
        x = step_coord(x, dx, ODD_BITS, EVEN_BITS, sh);
    if (dy)
        y = step_coord(y, dy, EVEN_BITS, ODD_BITS, sh);
    h.bits = x | y;
    return h;
}

enum { C_SELF, C_N, C_S, C_E, C_W, C_NE, C_NW, C_SE, C_SW };

static void neighbours(struct geo_cell h, struct geo_area *a)
{
    a->cell[C_SELF] = h;
    a->cell[C_N] = move(h, 0, 1);
    a->cell[C_S] = move(h, 0, -1);
    a->cell[C_E] = move(h, 1, 0);
    a->cell[C_W] = move(h, -1, 0);
    a->cell[C_NE] = move(h, 1, 1);
    a->cell[C_NW] = move(h, -1, 1);
    a->cell[C_SE] = move(h, 1, -1);
    a->cell[C_SW] = move(h, -1, -1);
}

void geo_area_of(const struct geo_shape *s, struct geo_area *a)
{
    /* the shape's bounding box (Redis geohashBoundingBox) */
    double h = s->to_m * (s->box ? s->height / 2 : s->radius);
    double w = s->to_m * (s->box ? s->width / 2 : s->radius);
    const double lat_delta = rad_deg(h / EARTH_RADIUS_M);
    const double lon_delta_top = rad_deg(w / EARTH_RADIUS_M / cos(deg_rad(s->lat + lat_delta)));
    const double lon_delta_bottom = rad_deg(w / EARTH_RADIUS_M / cos(deg_rad(s->lat - lat_delta)));
    bool south = s->lat < 0; /* the wider edge is the one nearer the equator */
    double min_lon = south ? s->lon - lon_delta_bottom : s->lon - lon_delta_top;
    double max_lon = south ? s->lon + lon_delta_bottom : s->lon + lon_delta_top;
    double min_lat = s->lat - lat_delta, max_lat = s->lat + lat_delta;

    double radius_m = s->box ? sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2)) : s->radius;
    radius_m *= s->to_m;
    uint8_t steps = steps_for(radius_m, s->lat);

    struct geo_cell c;
    encode_wgs84(s->lon, s->lat, steps, &c);
    neighbours(c, a);
    struct box self, n, so, e, wb;
    cell_box(c, &self);
    /* a cell too large next to the edge of the search: one step coarser */
    cell_box(a->cell[C_N], &n);
    cell_box(a->cell[C_S], &so);
    cell_box(a->cell[C_E], &e);
    cell_box(a->cell[C_W], &wb);
    bool coarser = n.latmax < max_lat || so.latmin > min_lat || e.lonmax < max_lon || wb.lonmin > min_lon;
    if (steps > 1 && coarser) {
        steps--;
        encode_wgs84(s->lon, s->lat, steps, &c);
        neighbours(c, a);
        cell_box(c, &self);
    }
    /* drop the neighbours the shape cannot reach */
    if (steps >= 2) {
        static const struct geo_cell none = {0, 0};
        if (self.latmin < min_lat)
            a->cell[C_S] = a->cell[C_SW] = a->cell[C_SE] = none;
        if (self.latmax > max_lat)
            a->cell[C_N] = a->cell[C_NE] = a->cell[C_NW] = none;
        if (self.lonmin < min_lon)
            a->cell[C_W] = a->cell[C_SW] = a->cell[C_NW] = none;
        if (self.lonmax > max_lon)
            a->cell[C_E] = a->cell[C_SE] = a->cell[C_NE] = none;
    }
}

void geo_cell_range(struct geo_cell c, uint64_t *min, uint64_t *max)
{
    unsigned sh = 52 - c.step * 2u;
    *min = c.bits << sh;
    *max = (c.bits + 1) << sh;
}

bool geo_in_shape(const struct geo_shape *s, double score, double *lon, double *lat, double *dist)
{
    geo_decode(score, lon, lat);
    if (!s->box) {
        *dist = geo_distance(s->lon, s->lat, *lon, *lat);
        return !(*dist > s->radius * s->to_m);
    }
    /* the latitude distance is cheaper: test it first */
    if (lat_distance(*lat, s->lat) > s->height * s->to_m / 2)
        return false;
    if (geo_distance(*lon, *lat, s->lon, *lat) > s->width * s->to_m / 2)
        return false;
    *dist = geo_distance(s->lon, s->lat, *lon, *lat);
    return true;
}
