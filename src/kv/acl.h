/*
 * acl.h — users and their permissions: Redis 7.0's ACL.
 *
 * Every connection runs as a user, "default" until AUTH names another. A
 * user has passwords (kept as SHA-256 digests), an on/off switch and one or
 * more selectors: a root selector and any number of "(...)" ones. A command
 * runs when one selector allows it: its command bit (or a first-argument
 * rule), every key against the key patterns with the access the key spec
 * needs (%R~ read, %W~ write, ~ both), every channel against the channel
 * patterns (a PSUBSCRIBE pattern must be listed literally).
 *
 * requirepass is the default user's password, as in Redis. All of it lives
 * under the keyspace lock; the command path checks a client whose user is
 * unrestricted (+@all ~* &*, the default) with one flag test.
 */
#ifndef SCALEOUT_KV_ACL_H
#define SCALEOUT_KV_ACL_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct kv_acl;
struct kv_acl_user;
struct kv_client;
struct kv_server;
struct resp_arg;

/* Where a check happens: ACL LOG's context, and the form of the error. */
enum kv_acl_ctx {
    KV_ACL_TOPLEVEL, /* a command: NOPERM ... */
    KV_ACL_MULTI,    /* queued in MULTI: NOPERM ..., logged as "multi" */
    KV_ACL_LUA,      /* redis.call: "The user executing the script can't ..." */
    KV_ACL_EXEC,     /* run by EXEC after the rules changed: logged as "multi" */
};

struct kv_acl *kv_acl_new(void);
void kv_acl_free(struct kv_acl *a);

/* The user new connections start as. */
struct kv_acl_user *kv_acl_default_user(struct kv_acl *a);
/* Whether a new connection of the default user is authenticated at once
 * (the default user is on and has nopass). */
bool kv_acl_default_open(struct kv_acl *a);
/* requirepass changed: the default user's password becomes `pass` (nopass
 * when empty), as Redis's ACLUpdateDefaultUserPassword. */
void kv_acl_set_requirepass(struct kv_acl *a, const char *pass);

/* The user's name (CLIENT LIST, ACL WHOAMI). */
const char *kv_acl_user_name(const struct kv_acl_user *u);
/* A user by name (case-sensitive), or NULL. */
struct kv_acl_user *kv_acl_find_user(struct kv_acl *a, const char *name, size_t len);
/* Whether the user may run anything on any key and channel: the command path
 * skips the check. */
bool kv_acl_user_unrestricted(const struct kv_acl_user *u);

/*
 * The command path's check for c's user: true when allowed. Otherwise false,
 * msg holds Redis's NOPERM error and the denial is in ACL LOG with context
 * ctx. id is the command's (known) id and argv its whole line.
 */
bool kv_acl_check(struct kv_client *c, enum kv_acl_ctx ctx, int id, int argc, const struct resp_arg *argv, char *msg,
                  size_t cap);

/*
 * AUTH and HELLO AUTH: user NULL names the default user. On success c runs
 * as that user and is authenticated; on failure the attempt is logged
 * (reason auth, the object cmd: the command's name as typed) and false
 * returned (the caller answers WRONGPASS).
 */
bool kv_acl_auth(struct kv_client *c, enum kv_acl_ctx ctx, const struct resp_arg *user, const struct resp_arg *pass,
                 const struct resp_arg *cmd);

/* acl-pubsub-default: whether new users and selectors get allchannels. */
void kv_acl_set_pubsub_default(bool allchannels);
/* A config `user` line (argv[0] the name, then rules): false with the error. */
bool kv_acl_rules_ok(int argc, char **argv, char *msg, size_t cap);
/* At start: make the users of the config's `user` lines (`user default ...`
 * starts the default user over, as Redis). false with the error in err. */
bool kv_acl_load_config_users(struct kv_server *s, struct buf *err);

/*
 * ACL DRYRUN: whether the user may run the command line argv (argc >= 1)
 * without running it. 0 yes; 1 no, msg DRYRUN's text; -1 no such user or
 * command or a wrong arity, msg the error.
 */
int kv_acl_dryrun(struct kv_acl *a, const char *user, size_t ulen, int argc, const struct resp_arg *argv, char *msg,
                  size_t cap);

/*
 * ACL LOAD and the start: replace every user by the users of the aclfile
 * (relative to dir), all or nothing. The default user keeps its object (and
 * its clients); clients of the other users are closed, as in Redis 7.0. me
 * is ACL LOAD's client (NULL at start). false with Redis's error text in err.
 */
bool kv_acl_load(struct kv_server *s, struct kv_client *me, struct buf *err);
/* ACL SAVE: every user as an ACL LIST line, written to a temporary file that
 * replaces the aclfile. false (logged) on an I/O error. */
bool kv_acl_save(struct kv_server *s);

#endif
