/*
 * auth.h — who may log in through the pg proxy, and the password exchanges
 * on both sides of it.
 *
 *   user list   PgBouncer's userlist.txt: one `"user" "password"` per line
 *               (a '"' inside a field is written ""), where the password is
 *               cleartext, "md5" + md5(password + user) in hex, or a SCRAM
 *               secret "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"
 *               as pg_authid stores it. Lines starting with ';' or '#' and
 *               blank lines are skipped.
 *   md5         the server side (check a client) and the client side (answer
 *               a server) of PostgreSQL's md5 method.
 *   SCRAM       SCRAM-SHA-256 (RFC 5802/7677, no channel binding) as server
 *               (check a client) and as client (log in to a server). HMAC,
 *               SHA-256 and PBKDF2 come from OpenSSL's libcrypto.
 * What each stored form allows: cleartext — every method both ways; md5 —
 * md5 towards clients and servers; SCRAM secret — SCRAM towards clients only.
 */
#ifndef SCALEOUT_PG_AUTH_H
#define SCALEOUT_PG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define PG_SCRAM_KEY 32
#define PG_SCRAM_SALT_MAX 64
#define PG_SCRAM_MSG_MAX 1024   /* longest SCRAM message accepted */

struct pg_user {
    char *name;
    char *password;            /* cleartext, or NULL when the file has a hash */
    bool has_md5;
    char md5[36];              /* "md5" + 32 hex digits + NUL */
    bool has_scram;
    int iter;
    unsigned char salt[PG_SCRAM_SALT_MAX];
    size_t salt_len;
    unsigned char stored_key[PG_SCRAM_KEY], server_key[PG_SCRAM_KEY];
    /* SCRAM secret only: the ClientKey learnt from a client's proof, which
     * lets the proxy log in to servers that hold the same secret (as
     * PgBouncer does) */
    bool has_client_key;
    unsigned char client_key[PG_SCRAM_KEY];
    struct pg_user *next;
};

struct pg_userlist {
    struct pg_user *head;
};

/* Load a user list. Errors ("file:line: message\n") are appended to errs;
 * returns their number (0 = ok), or -1 when the file cannot be read. */
int pg_userlist_load(const char *path, struct pg_userlist *out, struct buf *errs);
void pg_userlist_free(struct pg_userlist *l);
struct pg_user *pg_userlist_find(const struct pg_userlist *l, const char *name);
/* Set u's secret from an md5 hash or a SCRAM secret (as pg_authid stores
 * them; auth-query). The ClientKey learnt before is kept when the SCRAM
 * secret did not change. 0, or -1 when the secret is neither. */
int pg_user_set_secret(struct pg_user *u, const char *secret);

/* "md5" + hex(md5(password + user)) into out (36 bytes with NUL). */
void pg_md5_password(const char *password, const char *user, char out[36]);
/* The answer to an md5 challenge: "md5" + hex(md5(hex part of md5pw + salt)). */
void pg_md5_salted(const char *md5pw, const unsigned char salt[4], char out[36]);

/* Fill cryptographically random bytes (OpenSSL RAND_bytes). */
void pg_auth_random(void *p, size_t n);

/* ---- SCRAM-SHA-256 as the server ---------------------------------------- */

struct pg_scram_server {
    char client_first_bare[PG_SCRAM_MSG_MAX];
    char server_first[PG_SCRAM_MSG_MAX];
    char nonce[320];                    /* client nonce (<= 256) + server nonce */
    char gs2[8];                        /* "n,," or "y,," */
};

/* The client's first message (SASLInitialResponse data): write the
 * server-first message into out. 0, or -1 when the message is malformed. */
int pg_scram_server_first(struct pg_scram_server *st, const struct pg_user *u, const char *msg, size_t len,
                          struct buf *out);
/* The client's final message: check the proof; on success write the
 * server-final message ("v=...") into out and return 0; -1 otherwise. */
int pg_scram_server_final(struct pg_scram_server *st, struct pg_user *u, const char *msg, size_t len,
                          struct buf *out);

/* ---- SCRAM-SHA-256 as the client ---------------------------------------- */

struct pg_scram_client {
    char client_first_bare[128];
    char cnonce[40];
    unsigned char server_signature[PG_SCRAM_KEY];
};

/* Write the client-first message ("n,,n=,r=...") into out. */
void pg_scram_client_first(struct pg_scram_client *st, struct buf *out);
/* The server-first message: write the client-final message into out. 0, or -1. */
int pg_scram_client_final(struct pg_scram_client *st, const char *password, const char *msg, size_t len,
                          struct buf *out);
/* The same with the keys of a SCRAM secret and the ClientKey instead of a
 * password: the server's salt and iteration count must be the secret's. */
int pg_scram_client_final_keys(struct pg_scram_client *st, const struct pg_user *u, const char *msg, size_t len,
                               struct buf *out);
/* The server-final message: 0 when its signature is right, -1 otherwise. */
int pg_scram_client_verify(const struct pg_scram_client *st, const char *msg, size_t len);

/* Derive a SCRAM secret (4096 iterations, random salt) from a cleartext password. */
void pg_scram_make_secret(struct pg_user *u, const char *password);

#endif
