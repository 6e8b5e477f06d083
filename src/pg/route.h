/*
 * route.h — where a statement may run: the read/write split of the pg proxy.
 *
 * pg_route_classify() reads SQL text (a simple Query, or the text of an
 * extended-protocol Parse) with a small lexer that knows comments (nested
 * block comments too), 'strings' (E'' escapes), "identifiers" and $tag$
 * dollar quotes, and says PG_ROUTE_READ only when every statement in it is
 * certainly read-only:
 *   - it starts with SELECT, SHOW, TABLE or VALUES;
 *   - it has no INTO (SELECT INTO makes a table) and no FOR UPDATE / FOR
 *     SHARE / FOR NO KEY UPDATE / FOR KEY SHARE locking clause;
 *   - it calls no function on the deny list (nextval, setval, currval,
 *     lastval, advisory locks, pg_notify, set_config, txid_current, lo_*,
 *     ... see route.c) — functions that write or depend on the session;
 *   - the text has no hint comment forcing the primary: slash, star, "+primary"
 *     (spaces allowed after the '+'), star, slash.
 * Anything else (writes, BEGIN, SET, WITH, EXPLAIN, DO, unknown words,
 * unterminated quotes) is PG_ROUTE_PRIMARY: uncertain means the primary.
 */
#ifndef SCALEOUT_PG_ROUTE_H
#define SCALEOUT_PG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum pg_route { PG_ROUTE_PRIMARY = 0, PG_ROUTE_READ = 1 };

enum pg_route pg_route_classify(const char *sql, size_t len);

/* Hints in the comments before a statement's first word: a block comment
 * whose text starts with '+', then words separated by spaces or commas:
 *   primary            the primary (also recognised anywhere by classify)
 *   replica            a replica, even when classify is unsure (a write
 *                      sent there fails with the replica's own 25006)
 *   shard_key=VALUE    the shard key (VALUE: up to a space, comma or the
 *                      comment's end; or 'quoted' with '' for a quote)
 * Unknown words are ignored. shard_key points into sql (quotes kept out;
 * a quoted value with '' is left doubled: shard_key_quoted says so). */
struct pg_hints {
    bool primary, replica;
    const char *shard_key;
    size_t shard_key_len;
    bool shard_key_quoted;
};
void pg_route_hints(const char *sql, size_t len, struct pg_hints *h);

/* The proxy's own session variable, in a simple Query of one statement:
 *   SET [SESSION|LOCAL] scaleout.shard_key {TO|=} VALUE   -> PG_SET_KEY (value copied to val)
 *   SET scaleout.shard_key TO DEFAULT, RESET scaleout.shard_key -> PG_SET_CLEAR
 *   RESET ALL, DISCARD ALL           -> PG_SET_CLEAR_PASS (cleared, and the statement runs)
 * VALUE: a number, a word, or a 'string' ('' for a quote); at most cap - 1 bytes
 * (longer: PG_SET_BAD). Anything else: PG_SET_NONE. */
enum pg_set { PG_SET_NONE, PG_SET_KEY, PG_SET_CLEAR, PG_SET_CLEAR_PASS, PG_SET_BAD };
enum pg_set pg_route_shard_set(const char *sql, size_t len, char *val, size_t cap, size_t *vlen);

/* Like pg_route_classify; *statements gets the number of statements seen. */
enum pg_route pg_route_classify_n(const char *sql, size_t len, int *statements);

#endif
