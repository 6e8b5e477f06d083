/*
 * test_geohash.c — kv/geohash: Redis's published figures for Palermo and
 * Catania (score, geohash, distance, position), round trips within a cell,
 * the latitude spill at the upper limit, scores no GEOADD writes, and the
 * search area: it covers every point of a circle, and drops neighbours only
 * when the shape cannot reach them.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kv/geohash.h"

Test(geohash, redis_documented_values)
{
    /* GEOADD Sicily 13.361389 38.115556 "Palermo" 15.087269 37.502669 "Catania" */
    uint64_t p = geo_encode(13.361389, 38.115556), c = geo_encode(15.087269, 37.502669);
    cr_assert_eq(p, 3479099956230698ULL);
    cr_assert_eq(c, 3479447370796909ULL);
    char h[12];
    geo_hash_string((double)p, h);
    cr_assert_str_eq(h, "sqc8b49rny0");
    geo_hash_string((double)c, h);
    cr_assert_str_eq(h, "sqdtr74hyu0");
    double lon1, lat1, lon2, lat2;
    geo_decode((double)p, &lon1, &lat1);
    geo_decode((double)c, &lon2, &lat2);
    char s[64];
    snprintf(s, sizeof s, "%.4f", geo_distance(lon1, lat1, lon2, lat2));
    cr_assert_str_eq(s, "166274.1516");
    snprintf(s, sizeof s, "%.17f", lon1);
    cr_assert_str_eq(s, "13.36138933897018433");
    snprintf(s, sizeof s, "%.17f", lat1);
    cr_assert_str_eq(s, "38.11555639549629859");
}

Test(geohash, round_trip_within_a_cell)
{
    /* a cell at step 26 is 360/2^26 degrees of longitude wide */
    double cw = 360.0 / (1 << 26), ch = (GEO_LAT_MAX - GEO_LAT_MIN) / (1 << 26);
    for (int i = 0; i < 20000; i++) {
        double lon = -180 + 360.0 * ((i * 7919) % 20000) / 20000.0;
        double lat = GEO_LAT_MIN + (GEO_LAT_MAX - GEO_LAT_MIN) * ((i * 104729) % 20000) / 20000.0;
        double x, y;
        geo_decode((double)geo_encode(lon, lat), &x, &y);
        cr_assert(fabs(x - lon) <= cw && fabs(y - lat) <= ch, "%f,%f -> %f,%f", lon, lat, x, y);
    }
}

Test(geohash, validity_and_limits)
{
    cr_assert(geo_valid(180, GEO_LAT_MAX));
    cr_assert(geo_valid(-180, GEO_LAT_MIN));
    cr_assert(!geo_valid(180.0000001, 0));
    cr_assert(!geo_valid(0, 85.06));
    /* the upper latitude scales to 2^26: bit 52 is set, as in Redis */
    cr_assert_eq(geo_encode(0, GEO_LAT_MAX) >> 52, 1);
    double x, y;
    geo_decode((double)geo_encode(180, GEO_LAT_MAX), &x, &y);
    cr_assert(x <= GEO_LONG_MAX && y <= GEO_LAT_MAX);
}

Test(geohash, scores_geoadd_never_writes)
{
    /* negative and huge scores decode to clamped coordinates, never trap */
    double v[] = {-5, 1e300, -INFINITY, INFINITY, 9223372036854775808.0, 1e19, 2.5, 0, 4503599627370496.0};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        double x, y;
        geo_decode(v[i], &x, &y);
        cr_assert(x >= GEO_LONG_MIN && x <= GEO_LONG_MAX && y >= GEO_LAT_MIN && y <= GEO_LAT_MAX, "%g", v[i]);
        char h[12];
        geo_hash_string(v[i], h);
        cr_assert_eq(strlen(h), 11);
    }
    /* a fraction is truncated: 2.5 decodes as 2 */
    double x1, y1, x2, y2;
    geo_decode(2.5, &x1, &y1);
    geo_decode(2, &x2, &y2);
    cr_assert(x1 == x2 && y1 == y2);
}

static bool in_area(const struct geo_area *a, uint64_t score)
{
    for (int i = 0; i < 9; i++) {
        if (a->cell[i].bits == 0 && a->cell[i].step == 0)
            continue;
        uint64_t lo, hi;
        geo_cell_range(a->cell[i], &lo, &hi);
        if (score >= lo && score < hi)
            return true;
    }
    return false;
}

Test(geohash, area_covers_the_circle)
{
    /* every point found inside the circle by a brute-force scan lies in one
     * of the area's cells, for radii from metres to thousands of km */
    double centres[][2] = {{13.36, 38.11}, {-179.9, 0}, {179.99, -10}, {0, 84.9}, {-45, -84.9}, {0, 0}};
    double radii[] = {1, 150, 3000, 40000, 700000, 4000000};
    for (size_t c = 0; c < sizeof centres / sizeof centres[0]; c++) {
        for (size_t r = 0; r < sizeof radii / sizeof radii[0]; r++) {
            struct geo_shape s = {.lon = centres[c][0], .lat = centres[c][1], .radius = radii[r], .to_m = 1};
            struct geo_area a;
            geo_area_of(&s, &a);
            double deg = radii[r] / 111000.0 * 1.5 + 1e-5;
            for (int i = 0; i < 4000; i++) {
                double lon = s.lon + deg * (((i * 37) % 200) / 100.0 - 1) * 3;
                double lat = s.lat + deg * (((i * 53) % 200) / 100.0 - 1);
                if (!geo_valid(lon, lat))
                    continue;
                uint64_t score = geo_encode(lon, lat);
                double x, y, d;
                if (geo_in_shape(&s, (double)score, &x, &y, &d))
                    cr_assert(in_area(&a, score), "centre %zu radius %g: %f,%f at %f m missed", c, radii[r], lon,
                              lat, d);
            }
        }
    }
}

Test(geohash, box_shape)
{
    struct geo_shape s = {.box = true, .lon = 10, .lat = 45, .width = 200, .height = 100, .to_m = 1000};
    double x, y, d;
    cr_assert(geo_in_shape(&s, (double)geo_encode(10, 45), &x, &y, &d));
    cr_assert(d < 1);
    cr_assert(geo_in_shape(&s, (double)geo_encode(10, 45.4), &x, &y, &d)); /* ~44 km north */
    cr_assert(!geo_in_shape(&s, (double)geo_encode(10, 45.5), &x, &y, &d)); /* ~55 km: outside */
    cr_assert(geo_in_shape(&s, (double)geo_encode(11.2, 45), &x, &y, &d)); /* ~94 km east */
    cr_assert(!geo_in_shape(&s, (double)geo_encode(11.4, 45), &x, &y, &d));
}
