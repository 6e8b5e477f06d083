/*
 * json.h — the little JSON the app, the worker and up need: write a string
 * with escapes, and read one member of a flat object (string or integer) from
 * a request body or another role's /status. Not a general parser: it walks
 * the text once, skipping nested values correctly, allocates nothing, and
 * never reads past len. Bodies are bounded by their callers.
 */
#ifndef SCALEOUT_PROTO_JSON_H
#define SCALEOUT_PROTO_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append s[0..n) as a JSON string literal, quotes included. */
void json_put_str(struct buf *o, const char *s, size_t n);

/*
 * Top-level member `key` of the object in [js, js+len) as a string: the
 * unescaped value is written to out (NUL-terminated; \uXXXX become UTF-8).
 * Returns its length, -1 when the member is absent or not a string or the
 * text is not an object, -2 when it does not fit in cap.
 */
int json_get_str(const char *js, size_t len, const char *key, char *out, size_t cap);

/* Top-level member `key` as an integer. false when absent or not an integer. */
bool json_get_int(const char *js, size_t len, const char *key, long long *out);

#endif
