/*
 * prepared.h — named prepared statements of the extended protocol in
 * transaction mode, where a client's next transaction may run on another
 * server connection than the one its Parse went to.
 *
 * The proxy renames every named statement to a content-addressed server name,
 * "so_" + 16 hex digits of a hash of its SQL text and parameter types, and:
 *   client   remembers name -> (hash, Parse body) for each statement it made;
 *   server   remembers which hashes are prepared on that connection;
 *   expect   a queue, per server connection, of the responses still owed for
 *            the messages sent to it, so that the proxy can
 *              - inject a Parse before a Bind/Describe that needs a statement
 *                the server lacks, and swallow its ParseComplete;
 *              - answer a Parse of a statement the server already has, or a
 *                Close of a named statement (kept on the server as a cache),
 *                with ParseComplete / CloseComplete of its own, in the place
 *                the server's answer would have had;
 *              - forget what an error made the server skip (up to the Sync).
 * Session mode does not need any of this: messages pass through as sent.
 */
#ifndef SCALEOUT_PG_PREPARED_H
#define SCALEOUT_PG_PREPARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/pg.h"

#define PG_PREP_MAX_CLIENT 1000     /* named statements one client may hold */
#define PG_PREP_MAX_SERVER 10000    /* distinct statements on one server connection */

struct pg_stmt {
    char *name;
    uint64_t h;
    char *body;                     /* Parse body after the name: query, types */
    size_t len;
};

struct pg_prep_client {
    struct pg_stmt *v;
    int n, cap;
};

struct pg_expect {
    char kind;                      /* see prepared.c */
    uint64_t h;
};

struct pg_prep_server {
    uint64_t *set;                  /* hashes prepared on the connection */
    int n, cap;
    struct pg_expect *q;            /* responses owed, oldest first */
    size_t qhead, qlen, qcap;
    bool retire;                    /* state unknown to us (DISCARD/DEALLOCATE, full): close at release */
};

void pg_prep_client_free(struct pg_prep_client *c);
void pg_prep_server_free(struct pg_prep_server *s);

/* The client's statement of that name, or NULL. */
struct pg_stmt *pg_prep_find(struct pg_prep_client *c, const char *name);

/* Whether a client message of this type must be whole before it is passed
 * (it may be rewritten). */
bool pg_prep_needs_whole(char type);

/*
 * Pass one client message to a server in transaction mode: rewritten,
 * replaced or dropped as needed, with the expected responses queued.
 * m is whole when pg_prep_needs_whole(m->type), else only its header is
 * given and raw == NULL (the caller streams the body). Returns the number of
 * bytes of m that the caller must still copy itself (0 when this function
 * wrote or dropped the message), or -1 when the client holds too many
 * statements (the caller answers 53400 and closes).
 */
long pg_prep_client_msg(struct pg_prep_client *pc, struct pg_prep_server *ps, const struct pg_msg *m,
                        const char *raw, struct buf *to_server);

/*
 * A server message header arrived (type; for 'E' the caller calls this once
 * per ErrorResponse). Sets *swallow when the message answers something the
 * proxy injected and must not reach the client. Returns 0, or -1 when the
 * server sent a response nothing asked for (the connection cannot be trusted).
 */
int pg_prep_server_msg(struct pg_prep_server *ps, char type, bool *swallow);

/* Write the answers the proxy owes the client that are now due (its own
 * ParseComplete / CloseComplete at the front of the queue). */
void pg_prep_emit(struct pg_prep_server *ps, struct buf *to_client);

/* Nothing is owed: the server may be pooled. */
static inline bool pg_prep_idle(const struct pg_prep_server *ps) { return ps->qlen == 0; }

#endif
