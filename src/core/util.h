/*
 * util.h — number and string helpers shared by every role: strict integer
 * and float parsing as Redis does it (no leading spaces, no '+', no leading
 * zeros for integers), fast integer formatting, memory sizes ("100mb") and
 * durations ("10s") as config values, and case-insensitive compares.
 */
#ifndef SCALEOUT_CORE_UTIL_H
#define SCALEOUT_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strictly parse a signed 64-bit decimal (Redis string2ll rules). */
bool util_str2ll(const char *s, size_t len, long long *out);
/* Strictly parse an unsigned 64-bit decimal. */
bool util_str2ull(const char *s, size_t len, unsigned long long *out);
/* Parse a finite or infinite long double as Redis INCRBYFLOAT/HINCRBYFLOAT do:
 * no spaces, not NaN. */
bool util_str2ld(const char *s, size_t len, long double *out);
/* Format v in decimal into dst (>= 21 bytes); returns length, no NUL. */
size_t util_ll2str(char *dst, long long v);
size_t util_ull2str(char *dst, unsigned long long v);
/* Room that util_ld2str() may need for any finite long double. */
#define UTIL_LD_STR_MAX (5 * 1024)
/* Room that util_d2str() needs for any double. */
#define UTIL_D_STR_MAX 32
/* Format a long double as Redis does for INCRBYFLOAT (ld2string human mode:
 * "%.17Lf", then trailing zeros and a trailing '.' removed, "-0" -> "0";
 * "inf", "-inf", "nan"). Writes a NUL after the text. Returns the length, or
 * 0 when cap is too small (dst[0] is then NUL when cap > 0). */
size_t util_ld2str(char *dst, size_t cap, long double v);
/* Format a double as Redis 7.0 replies do (%.17g; "inf", "-inf", "nan", "-0").
 * Writes a NUL after the text. Returns the length, or 0 when cap is too small
 * (UTIL_D_STR_MAX always fits). */
size_t util_d2str(char *dst, size_t cap, double v);

/* "100mb", "1gb", "512k", "1048576" -> bytes (k=1000, kb=1024 as Redis;
 * units b k kb m mb g gb, any case). false for negatives, junk, an empty
 * number or a result above LLONG_MAX. */
bool util_parse_memory(const char *s, unsigned long long *out);
/* "10s", "250ms", "5m", "1h", "2d", "30" (seconds) -> milliseconds. Units in
 * any case. false for negatives, junk or overflow. */
bool util_parse_duration_ms(const char *s, long long *out);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int util_hexval(int c);
/* a[0..alen) equals the NUL-terminated b, ASCII case-insensitively. */
bool util_strieq(const char *a, size_t alen, const char *b);
/* Glob match as Redis stringmatchlen (*, ?, [abc], [^a], [a-z], \x), in
 * O(plen * slen) time at worst: no pattern makes it exponential. */
bool util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase);

/* Write len bytes to path (created or truncated). 0, or -1 with "cannot write
 * PATH: reason" in err. */
int util_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Write this process's PID and a newline to path. 0, or -1 with a message in err. */
int util_write_pidfile(const char *path, char *err, size_t errlen);

/* Milliseconds / microseconds of wall clock and monotonic clock. */
long long util_time_ms(void);
long long util_time_us(void);
long long util_mono_us(void);

#endif
