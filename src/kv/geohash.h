/*
 * geohash.h — the arithmetic behind the GEO commands, as Redis 3.2–7.x does
 * it, so that a point added to either server gets the same sorted-set score
 * and a search finds the same members with the same distances.
 *
 * A point is stored as a 52-bit integer score: longitude in [-180, 180] and
 * latitude in [-85.05112878, 85.05112878] (the Web Mercator limits) are each
 * scaled to 26 bits and interleaved, latitude in the even bits. A search
 * covers its shape with the cell of the centre at a precision chosen from
 * the radius plus the eight neighbouring cells (some dropped when the shape
 * cannot reach them), and each cell is one score interval of the set.
 *
 * Pure functions, no kv state: tests/unit/test_geohash.c checks them.
 */
#ifndef SCALEOUT_KV_GEOHASH_H
#define SCALEOUT_KV_GEOHASH_H

#include <stdbool.h>
#include <stdint.h>

#define GEO_LONG_MIN (-180.0)
#define GEO_LONG_MAX 180.0
#define GEO_LAT_MIN (-85.05112878)
#define GEO_LAT_MAX 85.05112878
#define GEO_STEP_MAX 26

/* A cell: `step` bits of each coordinate, interleaved in the low 2*step bits. */
struct geo_cell {
    uint64_t bits;
    uint8_t step; /* 0 with bits 0: no cell (a neighbour the search dropped) */
};

/* A search shape: a circle (radius) or a box (width x height), centred at
 * lon/lat; the sizes are in the unit given, `to_m` metres each. */
struct geo_shape {
    bool box;
    double lon, lat;
    double radius, width, height;
    double to_m;
};

/* The nine cells to scan: the centre's first, then N S E W NE NW SE SW. */
struct geo_area {
    struct geo_cell cell[9];
};

/* Whether lon/lat may be stored (Redis's GEOADD check). */
bool geo_valid(double lon, double lat);

/* The 52-bit score of a point (geo_valid must hold). At the upper latitude
 * limit the scaled latitude is 2^26 and spills into bit 52, as in Redis. */
uint64_t geo_encode(double lon, double lat);

/* The centre of the cell a score names, clamped to the valid range. Any
 * double is accepted: it is turned into an unsigned integer the way x86-64
 * code compiled by GCC does (as Redis runs on it), so a score ZADD put
 * there decodes as on Redis. */
void geo_decode(double score, double *lon, double *lat);

/* The 11-character standard geohash (GEOHASH) of a stored score. */
void geo_hash_string(double score, char out[12]);

/* Great-circle distance in metres (haversine, Redis's earth radius). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);

/* Cells that cover the shape (Redis geohashCalculateAreasByShapeWGS84). */
void geo_area_of(const struct geo_shape *s, struct geo_area *a);

/* The score interval [min, max) of a cell. */
void geo_cell_range(struct geo_cell c, uint64_t *min, uint64_t *max);

/* Whether the point of a stored score lies in the shape; sets its
 * coordinates and its distance from the centre in metres. */
bool geo_in_shape(const struct geo_shape *s, double score, double *lon, double *lat, double *dist);

#endif
