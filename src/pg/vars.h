/*
 * vars.h — the session settings a pooled server must match for each client:
 * the ones PostgreSQL reports with ParameterStatus that clients set at
 * startup or with SET and that change what they read (client_encoding,
 * DateStyle, TimeZone, IntervalStyle, standard_conforming_strings,
 * application_name), as PgBouncer tracks them.
 *
 * Each client and each server connection holds its current values. When a
 * client is linked to a server whose values differ, the proxy sends the
 * server one Query of SET commands first and swallows its answer; a
 * ParameterStatus from the server while linked updates both sides.
 */
#ifndef SCALEOUT_PG_VARS_H
#define SCALEOUT_PG_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define PG_NVARS 6
#define PG_VAR_MAX 256   /* longest value kept */

#define PG_MAX_EXTRA 32  /* other startup parameters kept per client */
#define PG_EXTRA_NAME_MAX 64

struct pg_vars {
    char *v[PG_NVARS];   /* heap, NULL = not known */
    /* every other startup parameter (and each -c of `options`): a client's
     * wishes, or what a server connection was SET to */
    int nextra;
    char *ename[PG_MAX_EXTRA], *evalue[PG_MAX_EXTRA];
};

/* Keep another startup parameter (replaced when set twice). 0; -1 when the
 * name is not a setting's name (letters, digits, _ and .); -2 when the value
 * is too long or there are too many. */
int pg_vars_set_extra(struct pg_vars *vs, const char *name, const char *value);
/* The startup parameter `options` as PostgreSQL reads it: words separated
 * by spaces (backslash escapes the next character), each `-c name=value`,
 * `-cname=value` or `--name=value`, kept as extras (tracked names go to
 * their slot). 0, or the first error of pg_vars_set_extra, or -3 for a word
 * that is none of these. */
int pg_vars_parse_options(struct pg_vars *vs, const char *options);

/* Index of a tracked name (case-insensitive, as GUC names are), or -1. */
int pg_vars_index(const char *name);
/* Set a tracked name; false when the name is not tracked or the value too long. */
bool pg_vars_set(struct pg_vars *vs, const char *name, const char *value);
void pg_vars_copy(struct pg_vars *dst, const struct pg_vars *src);
void pg_vars_free(struct pg_vars *vs);
/* Append to sql the SET commands that make `server` match `client` (values
 * the client has and the server has otherwise; extras the server has and
 * the client has not are RESET). Returns how many. pg_vars_copy then makes
 * the server's record match (extras exactly). */
int pg_vars_diff_sql(const struct pg_vars *client, const struct pg_vars *server, struct buf *sql);
/* Name of the variable at index i, as PostgreSQL reports it. */
const char *pg_vars_name(int i);

#endif
