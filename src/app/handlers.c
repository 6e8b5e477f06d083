/*
 * handlers.c — the app's endpoints. JSON in and out.
 *
 *   GET  /health                 200 {"status":"ok"}
 *   POST /login   {"user":NAME}  session in kv (sess:SID, TTL session-ttl), Set-Cookie sid
 *   POST /logout                 deletes the session, clears the cookie
 *   GET  /me, PUT /me            the session user's profile (PUT {"bio":..,"email":..})
 *   GET  /profile/NAME           anyone's profile; PUT only by NAME's session
 *   POST /follow/NAME            the session user follows NAME
 *   POST /posts   {"body":TEXT}  201 {"id":N}
 *   GET  /feed                   newest posts of the user and of whom they follow
 *                                (hybrid fan-out: timelines in kv + big accounts read)
 *   POST /upload  (any body)     202, Location: /jobs/ID (job queued in kv)
 *   POST /upload-sync            the same work done in the request (for comparison)
 *   GET  /jobs/ID                {"id":ID,"status":"queued|running|done|failed",...}
 *   GET  /products/ID            cacheable at the edge (Cache-Control: public, max-age)
 *
 * Each handler is a chain of steps; every kv or PostgreSQL call is the last
 * thing a step does, and its callback is the next step (the request lives in
 * struct app_req until app_reply frees it).
 *
 * The job queue (upload → worker): INCR jobs:seq gives the job id, HSET
 * job:ID holds its state and data; with `queue kv-list` (the default) the id
 * is then LPUSHed onto queue:jobs (the three in one EVAL: one kv round trip
 * before the 202), which workers BLMOVE from
 * (src/worker/queue_list.c); with `kv-hash` workers scan the ids above their
 * low-water mark instead (src/worker/queue_kv.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/util.h"
#include "proto/http1.h"
#include "proto/json.h"

#define MAX_NAME 32
#define MAX_TEXT 4096

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return false;
    }
    return true;
}

static void reply_kv_down(struct app_req *r) { app_reply_error(r, 503, "kv unavailable"); }

static void reply_db_error(struct app_req *r, const char *err)
{
    log_warn("postgres: %s", err ? err : "error");
    app_reply_error(r, 503, "database unavailable");
}

/* ---- sessions ---------------------------------------------------------------- */

static void session_got(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep) {
        reply_kv_down(r);
        return;
    }
    if (rep->type != RESP_VALUE_BULK || rep->len == 0 || rep->len >= sizeof r->user) {
        app_reply_error(r, 401, "not logged in");
        return;
    }
    memcpy(r->user, rep->str, rep->len);
    r->user[rep->len] = 0;
    r->next(r);
}

/* Look the session up (renewing its TTL), then run next with r->user set. */
static void with_session(struct app_req *r, void (*next)(struct app_req *r))
{
    if (!r->sid[0]) {
        app_reply_error(r, 401, "not logged in");
        return;
    }
    r->next = next;
    char key[96], ttl[32];
    snprintf(key, sizeof key, "sess:%s", r->sid);
    snprintf(ttl, sizeof ttl, "%lld", app_server_conf(r->srv)->session_ttl_ms);
    const char *argv[] = {"GETEX", key, "PX", ttl};
    app_kv_cmdv(app_server_kv(r->srv), session_got, r, 4, argv);
}

static void login_replicated(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type == RESP_VALUE_ERROR) {
        reply_kv_down(r);
        return;
    }
    app_server_metrics(r->srv)->sessions_created_total++;
    char hdr[256];
    snprintf(hdr, sizeof hdr, "Set-Cookie: sid=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld\r\n", r->sid,
             app_server_conf(r->srv)->session_ttl_ms / 1000);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"user\":");
    json_put_str(&b, r->user, strlen(r->user));
    buf_puts(&b, "}\n");
    app_reply_json(r, 200, &b, hdr);
}

static void login_stored(void *arg, const struct resp_value *rep);

/* r->key marks a login whose session was stored a second time */
#define LOGIN_RESTORED "login: session stored again"

/* The WAIT's answer. Fewer replicas than asked for: the primary that took
 * the SET may have died meanwhile (the WAIT was retried on its successor,
 * which may never have seen the session). The session is SET once more, on
 * the primary of now, and then the login is answered whatever the replicas. */
static void login_waited(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    long long n = app_server_conf(r->srv)->kv_wait_replicas;
    if (rep && rep->type == RESP_VALUE_INT && rep->integer < n && strcmp(r->key, LOGIN_RESTORED) != 0) {
        snprintf(r->key, sizeof r->key, "%s", LOGIN_RESTORED);
        char key[96], ttl[32];
        snprintf(key, sizeof key, "sess:%s", r->sid);
        snprintf(ttl, sizeof ttl, "%lld", app_server_conf(r->srv)->session_ttl_ms);
        const char *argv[] = {"SET", key, r->user, "PX", ttl};
        app_kv_cmdv(app_server_kv(r->srv), login_stored, r, 5, argv);
        return;
    }
    login_replicated(r, rep);
}

/* With kv-wait-replicas, the session is on that many replicas before the
 * login is answered (WAIT; after 500 ms it is answered anyway). */
static void login_stored(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    long long n = app_server_conf(r->srv)->kv_wait_replicas;
    if (!rep || rep->type == RESP_VALUE_ERROR || n <= 0 || strcmp(r->key, LOGIN_RESTORED) == 0) {
        login_replicated(r, rep);
        return;
    }
    char key[96];
    snprintf(key, sizeof key, "sess:%s", r->sid);
    app_kv_wait(app_server_kv(r->srv), key, n, 500, login_waited, r);
}

static void login_user_row(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    (void)res;
    if (err) {
        reply_db_error(r, err);
        return;
    }
    snprintf(r->sid, sizeof r->sid, "%016llx%016llx", (unsigned long long)rand_secure64(),
             (unsigned long long)rand_secure64());
    char key[96], ttl[32];
    snprintf(key, sizeof key, "sess:%s", r->sid);
    snprintf(ttl, sizeof ttl, "%lld", app_server_conf(r->srv)->session_ttl_ms);
    const char *argv[] = {"SET", key, r->user, "PX", ttl};
    app_kv_cmdv(app_server_kv(r->srv), login_stored, r, 5, argv);
}

static void h_login(struct app_req *r)
{
    int n = r->body ? json_get_str(r->body, r->body_len, "user", r->user, sizeof r->user) : -1;
    if (n < 0 || !valid_name(r->user, (size_t)n)) {
        app_reply_error(r, 400, "want {\"user\": NAME} with 1-32 of [A-Za-z0-9_.-]");
        return;
    }
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->user};
    app_pg_query(app_server_pg(r->srv), login_user_row, r,
                 "INSERT INTO users (name, followers) VALUES ($1, (SELECT count(*) FROM follows WHERE followee = $1))"
                 " ON CONFLICT DO NOTHING",
                 1, p);
}

static void logout_done(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep) {
        reply_kv_down(r);
        return;
    }
    app_reply(r, 200, "application/json", "{\"logged_out\":true}\n", 20,
              "Set-Cookie: sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0\r\n");
}

static void h_logout(struct app_req *r)
{
    if (!r->sid[0]) {
        logout_done(r, &(struct resp_value){.type = RESP_VALUE_INT});
        return;
    }
    char key[96];
    snprintf(key, sizeof key, "sess:%s", r->sid);
    const char *argv[] = {"DEL", key};
    app_kv_cmdv(app_server_kv(r->srv), logout_done, r, 2, argv);
}

/* ---- profiles ---------------------------------------------------------------- */

static void profile_json(PGresult *res, struct buf *b)
{
    buf_puts(b, "{\"user\":");
    json_put_str(b, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    buf_puts(b, ",\"bio\":");
    json_put_str(b, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    buf_puts(b, ",\"email\":");
    json_put_str(b, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
    buf_printf(b, ",\"updated_at\":%s}\n", PQgetvalue(res, 0, 3));
}

static void answer(struct app_req *r, int status, const char *val, size_t len)
{
    if (status == 200)
        app_reply(r, 200, "application/json", val, len, NULL);
    else if (status == 404)
        app_reply_error(r, 404, "not found");
    else
        app_reply_error(r, status, "database unavailable");
}

static void profile_loaded(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    if (err) {
        log_warn("postgres: %s", err);
        r->load_done(r, 503, NULL, 0);
        return;
    }
    if (PQntuples(res) == 0) {
        r->load_done(r, 404, NULL, 0);
        return;
    }
    struct buf b;
    buf_init(&b);
    profile_json(res, &b);
    r->load_done(r, 200, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

static void profile_load(struct app_req *r, app_cache_done done)
{
    r->load_done = done;
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->arg};
    /* the primary: a read right after a write (PUT, then the cache's DEL)
     * must not fill the cache from a replica that has not replayed it yet */
    app_pg_query(app_server_pg(r->srv), profile_loaded, r,
                 "/*+ primary */ SELECT name, bio, email, extract(epoch FROM updated_at)::bigint FROM users"
                 " WHERE name = $1", 1, p);
}

static void profile_read(struct app_req *r)
{
    char key[160];
    snprintf(key, sizeof key, "profile:%s", r->arg);
    app_cache_strategies[app_server_conf(r->srv)->profile_cache]->read(r, key, profile_load, answer);
}

static void profile_written(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    if (err) {
        reply_db_error(r, err);
        return;
    }
    struct buf b;
    buf_init(&b);
    profile_json(res, &b);
    char key[160];
    snprintf(key, sizeof key, "profile:%s", r->arg);
    app_cache_strategies[app_server_conf(r->srv)->profile_cache]->written(r, key, buf_head(&b), buf_pending(&b), answer);
    buf_deinit(&b);
}

/* write-behind: the change merged into the current profile (kv, else
 * PostgreSQL); the merged value goes to kv now, to PostgreSQL later */
struct wb_change {
    int nb, ne;
    char bio[MAX_TEXT], email[256];
};

static void wb_have_current(struct app_req *r, int status, const char *val, size_t len)
{
    if (status != 200 && status != 404) {
        answer(r, status, NULL, 0);
        return;
    }
    struct wb_change *c = r->scratch;
    r->scratch = NULL;
    char bio[MAX_TEXT] = "", email[256] = "";
    if (status == 200) {
        if (json_get_str(val, len, "bio", bio, sizeof bio) < 0)
            bio[0] = 0;
        if (json_get_str(val, len, "email", email, sizeof email) < 0)
            email[0] = 0;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"user\":");
    json_put_str(&b, r->arg, strlen(r->arg));
    buf_puts(&b, ",\"bio\":");
    const char *nb = c->nb >= 0 ? c->bio : bio;
    const char *ne = c->ne >= 0 ? c->email : email;
    json_put_str(&b, nb, strlen(nb));
    buf_puts(&b, ",\"email\":");
    json_put_str(&b, ne, strlen(ne));
    buf_printf(&b, ",\"updated_at\":%lld}\n", util_time_ms() / 1000);
    xfree(c);
    char key[160];
    snprintf(key, sizeof key, "profile:%s", r->arg);
    app_cache_strategies[APP_CACHE_WRITE_BEHIND]->written(r, key, buf_head(&b), buf_pending(&b), answer);
    buf_deinit(&b);
}

static void profile_write(struct app_req *r)
{
    if (strcmp(r->user, r->arg) != 0) {
        app_reply_error(r, 403, "you may only change your own profile");
        return;
    }
    char bio[MAX_TEXT], email[256];
    int nb = r->body ? json_get_str(r->body, r->body_len, "bio", bio, sizeof bio) : -1;
    int ne = r->body ? json_get_str(r->body, r->body_len, "email", email, sizeof email) : -1;
    if (nb == -2 || ne == -2 || (nb < 0 && ne < 0) || (nb >= 0 && (size_t)nb != strlen(bio)) ||
        (ne >= 0 && (size_t)ne != strlen(email))) {
        app_reply_error(r, 400, "want {\"bio\": TEXT, \"email\": TEXT} (either, up to 4096 and 255 bytes, no NUL)");
        return;
    }
    if (app_server_conf(r->srv)->profile_cache == APP_CACHE_WRITE_BEHIND) {
        struct wb_change *c = xmalloc(sizeof *c);
        c->nb = nb;
        c->ne = ne;
        snprintf(c->bio, sizeof c->bio, "%s", nb >= 0 ? bio : "");
        snprintf(c->email, sizeof c->email, "%s", ne >= 0 ? email : "");
        xfree(r->scratch);
        r->scratch = c;
        char key[160];
        snprintf(key, sizeof key, "profile:%s", r->arg);
        app_cache_strategies[APP_CACHE_WRITE_BEHIND]->read(r, key, profile_load, wb_have_current);
        return;
    }
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->arg, nb >= 0 ? bio : NULL, ne >= 0 ? email : NULL};
    app_pg_query(app_server_pg(r->srv), profile_written, r,
                 "INSERT INTO users (name, bio, email) VALUES ($1, coalesce($2, ''), coalesce($3, ''))"
                 " ON CONFLICT (name) DO UPDATE SET bio = coalesce($2, users.bio), email = coalesce($3, users.email),"
                 " updated_at = now()"
                 " RETURNING name, bio, email, extract(epoch FROM updated_at)::bigint",
                 3, p);
}

static void me_then(struct app_req *r)
{
    snprintf(r->arg, sizeof r->arg, "%s", r->user);
    if (r->method == HTTP1_METHOD_GET)
        profile_read(r);
    else
        profile_write(r);
}

static void h_me(struct app_req *r) { with_session(r, me_then); }

static void h_profile(struct app_req *r)
{
    if (r->method == HTTP1_METHOD_GET)
        profile_read(r);
    else
        with_session(r, profile_write);
}

/* ---- follows, posts, feed ------------------------------------------------- */

/*
 * Hybrid fan-out. PostgreSQL holds posts and follows (users.followers counts
 * a user's followers); kv holds each user's timeline, a list of post ids
 * (timeline:NAME, newest pushed at the head, at most timeline-length).
 *
 *   POST /posts    an author with fewer than fanout-threshold followers:
 *                  LPUSHX + LTRIM the id onto every follower's timeline and
 *                  the author's own (fan-out on write); a bigger author: the
 *                  author's own timeline only
 *   GET /feed      the timeline's ids, merged in one query with the recent
 *                  posts of the big accounts the user follows (fan-out on
 *                  read), newest first
 *
 * LPUSHX pushes only to timelines that exist: a timeline is built from
 * PostgreSQL on the first read (a "0" placeholder first, so pushes that race
 * with the build land in it; the merge query drops duplicates), and a follow
 * deletes the follower's timeline so the next read rebuilds it with the new
 * followee's posts. A timeline is a cache; PostgreSQL stays the truth.
 */

static void follow_invalidated(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep)
        log_warn("kv: timeline of %s not invalidated after a follow", r->user);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"following\":");
    json_put_str(&b, r->arg, strlen(r->arg));
    buf_puts(&b, "}\n");
    app_reply_json(r, 200, &b, NULL);
}

static void follow_done(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    (void)res;
    if (err) {
        reply_db_error(r, err);
        return;
    }
    char key[96];
    snprintf(key, sizeof key, "timeline:%s", r->user);
    const char *argv[] = {"DEL", key};
    app_kv_cmdv(app_server_kv(r->srv), follow_invalidated, r, 2, argv);
}

static void follow_then(struct app_req *r)
{
    if (strcmp(r->user, r->arg) == 0) {
        app_reply_error(r, 400, "you cannot follow yourself");
        return;
    }
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->user, r->arg};
    app_pg_query(app_server_pg(r->srv), follow_done, r,
                 "WITH ins AS (INSERT INTO follows (follower, followee) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                 " RETURNING followee)"
                 " UPDATE users SET followers = followers + 1 WHERE name IN (SELECT followee FROM ins)",
                 2, p);
}

static void h_follow(struct app_req *r) { with_session(r, follow_then); }

struct fanout {
    int pending;                 /* kv commands not answered yet */
    bool big;
    int pushed;
};

static void post_reply(struct app_req *r)
{
    struct fanout *f = r->scratch;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"id\":%s,\"author\":", r->key);
    json_put_str(&b, r->user, strlen(r->user));
    buf_printf(&b, ",\"fanout\":\"%s\",\"timelines\":%d}\n", f->big ? "read" : "write", f->pushed);
    app_reply_json(r, 201, &b, NULL);
}

static void post_pushed(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    struct fanout *f = r->scratch;
    if (!rep)
        log_warn("kv: post %s not pushed to a timeline", r->key);
    else if (rep->type == RESP_VALUE_INT && rep->integer > 0)
        f->pushed++;             /* an LPUSHX that found the timeline */
    if (--f->pending == 0)
        post_reply(r);
}

static void push_timeline(struct app_req *r, const char *name, size_t len)
{
    struct fanout *f = r->scratch;
    char key[96], keep[24];
    snprintf(key, sizeof key, "timeline:%.*s", (int)len, name);
    snprintf(keep, sizeof keep, "%lld", app_server_conf(r->srv)->timeline_len - 1);
    const char *push[] = {"LPUSHX", key, r->key};
    const char *trim[] = {"LTRIM", key, "0", keep};
    f->pending += 2;
    app_kv_cmdv(app_server_kv(r->srv), post_pushed, r, 3, push);
    app_kv_cmdv(app_server_kv(r->srv), post_pushed, r, 4, trim);
}

static void post_done(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    if (err) {
        reply_db_error(r, err);
        return;
    }
    struct fanout *f = xcalloc(1, sizeof *f);
    r->scratch = f;
    snprintf(r->key, sizeof r->key, "%s", PQgetvalue(res, 0, 0));
    f->big = PQgetvalue(res, 0, 1)[0] == 't';
    f->pending = 1;              /* held until every push is sent */
    push_timeline(r, r->user, strlen(r->user));
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 2))
            push_timeline(r, PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
    app_server_metrics(r->srv)->timeline_pushes_total += (unsigned long long)(f->pending / 2);
    if (--f->pending == 0)
        post_reply(r);
}

static void post_then(struct app_req *r)
{
    char text[MAX_TEXT];
    int n = r->body ? json_get_str(r->body, r->body_len, "body", text, sizeof text) : -1;
    if (n <= 0 || (size_t)n != strlen(text)) {
        app_reply_error(r, 400, "want {\"body\": TEXT} (1-4095 bytes, no NUL)");
        return;
    }
    char thr[24];
    snprintf(thr, sizeof thr, "%lld", app_server_conf(r->srv)->fanout_threshold);
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->user, text, thr};
    /* one round trip: the new id, whether the author is big, and (small
     * authors only) their followers */
    app_pg_query(app_server_pg(r->srv), post_done, r,
                 "WITH p AS (INSERT INTO posts (author, body) VALUES ($1, $2) RETURNING id),"
                 " b AS (SELECT coalesce((SELECT followers FROM users WHERE name = $1), 0) >= $3::bigint AS big)"
                 " SELECT p.id, b.big, f.follower FROM p CROSS JOIN b"
                 " LEFT JOIN follows f ON f.followee = $1 AND NOT b.big",
                 3, p);
}

static void h_posts(struct app_req *r) { with_session(r, post_then); }

static void feed_done(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    if (err) {
        reply_db_error(r, err);
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"user\":");
    json_put_str(&b, r->user, strlen(r->user));
    buf_puts(&b, ",\"posts\":[");
    for (int i = 0; i < PQntuples(res); i++) {
        buf_printf(&b, "%s{\"id\":%s,\"author\":", i ? "," : "", PQgetvalue(res, i, 0));
        json_put_str(&b, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1));
        buf_puts(&b, ",\"body\":");
        json_put_str(&b, PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
        buf_printf(&b, ",\"at\":%s}", PQgetvalue(res, i, 3));
    }
    buf_puts(&b, "]}\n");
    app_reply_json(r, 200, &b, NULL);
}

/* Without a timeline (kv down, or another request building it): every
 * followee's posts read at once, as before the timelines. */
static void feed_read_all(struct app_req *r)
{
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", app_server_conf(r->srv)->feed_limit);
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->user, lim};
    app_pg_query(app_server_pg(r->srv), feed_done, r,
                 "SELECT id, author, body, extract(epoch FROM created_at)::bigint FROM posts"
                 " WHERE author = $1 OR author IN (SELECT followee FROM follows WHERE follower = $1)"
                 " ORDER BY id DESC LIMIT $2::int",
                 2, p);
}

/* The timeline's ids (a Postgres array literal in r->scratch) merged with the
 * big followees' recent posts. */
static void feed_merge(struct app_req *r)
{
    const struct app_config *cf = app_server_conf(r->srv);
    char lim[24], thr[24];
    snprintf(lim, sizeof lim, "%lld", cf->feed_limit);
    snprintf(thr, sizeof thr, "%lld", cf->fanout_threshold);
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->user, r->scratch, thr, lim};
    app_pg_query(app_server_pg(r->srv), feed_done, r,
                 "WITH big AS (SELECT f.followee FROM follows f JOIN users u ON u.name = f.followee"
                 "  WHERE f.follower = $1 AND u.followers >= $3::bigint)"
                 " SELECT id, author, body, extract(epoch FROM created_at)::bigint FROM ("
                 "  SELECT id, author, body, created_at FROM posts WHERE id = ANY($2::bigint[])"
                 "  UNION"
                 "  SELECT p.id, p.author, p.body, p.created_at FROM big CROSS JOIN LATERAL"
                 "   (SELECT id, author, body, created_at FROM posts WHERE author = big.followee"
                 "    ORDER BY id DESC LIMIT $4::int) p"
                 " ) x ORDER BY id DESC LIMIT $4::int",
                 4, p);
}

static void feed_filled(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type == RESP_VALUE_ERROR)
        log_warn("kv: timeline of %s not stored", r->user);
    feed_merge(r);
}

/* The timeline built from PostgreSQL: own and small followees' posts. */
static void feed_rebuilt(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    if (err) {
        reply_db_error(r, err);
        return;
    }
    int n = PQntuples(res);
    struct buf ids;
    buf_init(&ids);
    buf_putc(&ids, '{');
    for (int i = 0; i < n; i++)
        buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
    buf_puts(&ids, "}");
    buf_putc(&ids, 0);
    xfree(r->scratch);
    r->scratch = xstrdup(buf_head(&ids));
    buf_deinit(&ids);
    app_server_metrics(r->srv)->timeline_rebuilds_total++;
    if (n == 0) {
        feed_merge(r);
        return;
    }
    /* appended after the placeholder, oldest last: pushes that raced with the
     * build are at the head already */
    char key[96];
    snprintf(key, sizeof key, "timeline:%s", r->user);
    const char **argv = xcalloc((size_t)n + 2, sizeof *argv);
    size_t *lens = xcalloc((size_t)n + 2, sizeof *lens);
    argv[0] = "RPUSH";
    argv[1] = key;
    for (int i = 0; i < n; i++)
        argv[i + 2] = PQgetvalue(res, i, 0);
    for (int i = 0; i < n + 2; i++)
        lens[i] = strlen(argv[i]);
    app_kv_cmd(app_server_kv(r->srv), feed_filled, r, n + 2, argv, lens);
    xfree(argv);
    xfree(lens);
}

static void feed_placeholder(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type != RESP_VALUE_INT || rep->integer != 1) {
        feed_read_all(r);        /* kv down, or someone else is building it */
        return;
    }
    const struct app_config *cf = app_server_conf(r->srv);
    char lim[24], thr[24];
    snprintf(lim, sizeof lim, "%lld", cf->timeline_len);
    snprintf(thr, sizeof thr, "%lld", cf->fanout_threshold);
    app_server_metrics(r->srv)->db_queries_total++;
    const char *p[] = {r->user, lim, thr};
    /* on the primary, like the profile load: a timeline is a cache, and one
     * built from a replica that has not replayed the user's newest posts
     * would keep them out until it is rebuilt */
    app_pg_query(app_server_pg(r->srv), feed_rebuilt, r,
                 "/*+ primary */ SELECT id FROM posts WHERE author = $1 OR author IN (SELECT f.followee FROM follows f"
                 "  JOIN users u ON u.name = f.followee WHERE f.follower = $1 AND u.followers < $3::bigint)"
                 " ORDER BY id DESC LIMIT $2::int",
                 3, p);
}

static void feed_timeline(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type != RESP_VALUE_ARRAY) {
        feed_read_all(r);
        return;
    }
    if (rep->nelem == 0) {
        /* no timeline yet (or evicted, or invalidated by a follow): build it */
        char key[96];
        snprintf(key, sizeof key, "timeline:%s", r->user);
        const char *argv[] = {"RPUSH", key, "0"};
        app_kv_cmdv(app_server_kv(r->srv), feed_placeholder, r, 3, argv);
        return;
    }
    struct buf ids;
    buf_init(&ids);
    buf_putc(&ids, '{');
    bool first = true;
    for (size_t i = 0; i < rep->nelem; i++) {
        const struct resp_value *e = &rep->elem[i];
        long long id;
        if (e->type != RESP_VALUE_BULK || !util_str2ll(e->str, e->len, &id) || id <= 0)
            continue;            /* the placeholder, or junk */
        buf_printf(&ids, "%s%lld", first ? "" : ",", id);
        first = false;
    }
    buf_puts(&ids, "}");
    buf_putc(&ids, 0);
    r->scratch = xstrdup(buf_head(&ids));
    buf_deinit(&ids);
    app_server_metrics(r->srv)->timeline_hits_total++;
    feed_merge(r);
}

static void feed_then(struct app_req *r)
{
    char key[96], last[24];
    snprintf(key, sizeof key, "timeline:%s", r->user);
    snprintf(last, sizeof last, "%lld", app_server_conf(r->srv)->timeline_len - 1);
    const char *argv[] = {"LRANGE", key, "0", last};
    app_kv_cmdv(app_server_kv(r->srv), feed_timeline, r, 4, argv);
}

static void h_feed(struct app_req *r) { with_session(r, feed_then); }

/* ---- uploads and jobs -------------------------------------------------------- */

static void upload_queued(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type != RESP_VALUE_INT) {
        reply_kv_down(r);
        return;
    }
    snprintf(r->arg, sizeof r->arg, "%lld", rep->integer);
    app_server_metrics(r->srv)->jobs_enqueued_total++;
    char hdr[192];
    snprintf(hdr, sizeof hdr, "Location: /jobs/%s\r\n", r->arg);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"job\":%s,\"status\":\"queued\",\"status_url\":\"/jobs/%s\"}\n", r->arg, r->arg);
    app_reply_json(r, 202, &b, hdr);
}

/* The whole enqueue in one kv round trip (the 202's only wait): the id from
 * INCR jobs:seq, the record job:ID (expiring job-ttl after its creation) and,
 * after it, the id on the queue (kv-list: LPUSH queue:jobs; kv-stream: XADD
 * queue:stream; kv-hash: workers scan the ids), so a worker that gets the id
 * always finds the record. The keys job:ID and the queue's are not declared:
 * they must live on the kv node that holds jobs:seq (one primary, as up runs
 * it). */
static const char upload_script[] =
    "local id = string.format('%d', redis.call('INCR', KEYS[1])) "
    "local k = 'job:' .. id "
    "redis.call('HSET', k, 'status', 'queued', 'attempts', '0', 'size', ARGV[1], 'created_ms', ARGV[2], "
    "'owner', ARGV[3], 'data', ARGV[4]) "
    "redis.call('PEXPIRE', k, ARGV[5]) "
    "if ARGV[6] == 'list' then redis.call('LPUSH', 'queue:jobs', id) "
    "elseif ARGV[6] == 'stream' then redis.call('XADD', 'queue:stream', '*', 'job', id) end "
    "return tonumber(id)";

static void h_upload(struct app_req *r)
{
    char size[24], now[24], ttl[32];
    snprintf(size, sizeof size, "%zu", r->body_len);
    snprintf(now, sizeof now, "%lld", util_time_ms());
    snprintf(ttl, sizeof ttl, "%lld", app_server_conf(r->srv)->job_ttl_ms);
    int q = app_server_conf(r->srv)->queue;
    const char *argv[] = {"EVAL", upload_script, "1", "jobs:seq", size, now, r->user[0] ? r->user : "-",
                          r->body ? r->body : "", ttl, q == APP_QUEUE_LIST ? "list" : q == APP_QUEUE_STREAM ? "stream" : "hash"};
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    lens[7] = r->body_len;
    app_kv_cmd(app_server_kv(r->srv), upload_queued, r, 10, argv, lens);
}

/* The comparison the queue is measured against: the same work as a worker's
 * job (sync-job-time, holding a capacity slot, then the checksum) done while
 * the client waits. */
static void upload_sync_done(struct app_req *r)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"status\":\"done\",\"result\":\"bytes=%zu xxh64=%016llx\"}\n", r->body_len,
               (unsigned long long)XXH64(r->body ? r->body : "", r->body_len, 0));
    app_reply_json(r, 200, &b, NULL);
}

static void h_upload_sync(struct app_req *r) { app_work(r, app_server_conf(r->srv)->sync_job_ms, upload_sync_done); }

static void job_got(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep) {
        reply_kv_down(r);
        return;
    }
    if (rep->type != RESP_VALUE_ARRAY || rep->nelem != 6 || rep->elem[0].type != RESP_VALUE_BULK) {
        app_reply_error(r, 404, "no such job");
        return;
    }
    static const char *const names[] = {"status", "attempts", "size", "result", "error", "worker"};
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"id\":%s", r->arg);
    for (size_t i = 0; i < 6; i++) {
        const struct resp_value *e = &rep->elem[i];
        if (e->type != RESP_VALUE_BULK)
            continue;
        buf_printf(&b, ",\"%s\":", names[i]);
        long long v;
        if ((i == 1 || i == 2) && util_str2ll(e->str, e->len, &v))
            buf_printf(&b, "%lld", v);
        else
            json_put_str(&b, e->str, e->len);
    }
    buf_puts(&b, "}\n");
    app_reply_json(r, 200, &b, NULL);
}

static void h_job(struct app_req *r)
{
    long long id;
    if (!util_str2ll(r->arg, strlen(r->arg), &id) || id <= 0) {
        app_reply_error(r, 404, "no such job");
        return;
    }
    snprintf(r->key, sizeof r->key, "job:%lld", id);
    const char *argv[] = {"HMGET", r->key, "status", "attempts", "size", "result", "error", "worker"};
    app_kv_cmdv(app_server_kv(r->srv), job_got, r, 8, argv);
}

/* ---- products --------------------------------------------------------------- */

static void product_answer(struct app_req *r, int status, const char *val, size_t len)
{
    if (status != 200) {
        answer(r, status, val, len);
        return;
    }
    char hdr[96];
    snprintf(hdr, sizeof hdr, "Cache-Control: public, max-age=%lld\r\n", app_server_conf(r->srv)->product_max_age_s);
    app_reply(r, 200, "application/json", val, len, hdr);
}

static void product_loaded(void *arg, PGresult *res, const char *err)
{
    struct app_req *r = arg;
    if (err) {
        log_warn("postgres: %s", err);
        r->load_done(r, 503, NULL, 0);
        return;
    }
    if (PQntuples(res) == 0) {
        r->load_done(r, 404, NULL, 0);
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"id\":%s,\"name\":", PQgetvalue(res, 0, 0));
    json_put_str(&b, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    buf_printf(&b, ",\"price_cents\":%s}\n", PQgetvalue(res, 0, 2));
    r->load_done(r, 200, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

static void product_load(struct app_req *r, app_cache_done done)
{
    r->load_done = done;
    app_server_metrics(r->srv)->db_queries_total++;
    long long wait_ms = app_server_conf(r->srv)->product_read_ms;
    if (wait_ms > 0) {
        /* the sleep is a function in FROM: evaluated once, and a read, so the
         * pg proxy may send it to a replica like the plain query */
        char secs[32];
        snprintf(secs, sizeof secs, "%lld.%03lld", wait_ms / 1000, wait_ms % 1000);
        const char *p[] = {r->arg, secs};
        app_pg_query(app_server_pg(r->srv), product_loaded, r,
                     "SELECT id, name, price_cents FROM products, pg_sleep($2::float8) WHERE id = $1::bigint", 2, p);
        return;
    }
    const char *p[] = {r->arg};
    app_pg_query(app_server_pg(r->srv), product_loaded, r, "SELECT id, name, price_cents FROM products WHERE id = $1::bigint",
                 1, p);
}

static void h_product(struct app_req *r)
{
    long long id;
    if (!util_str2ll(r->arg, strlen(r->arg), &id) || id <= 0) {
        app_reply_error(r, 404, "not found");
        return;
    }
    char key[64];
    snprintf(key, sizeof key, "product:%lld", id);
    app_cache_strategies[app_server_conf(r->srv)->product_cache]->read(r, key, product_load, product_answer);
}

static void h_health(struct app_req *r)
{
    app_reply(r, 200, "application/json", "{\"status\":\"ok\"}\n", 16, NULL);
}

/* ---- routing ---------------------------------------------------------------- */

struct route {
    const char *path;    /* exact, or a prefix ending in '/' that takes one argument */
    int m1, m2;          /* allowed methods (m2 may be 0) */
    void (*fn)(struct app_req *r);
};

static const struct route routes[] = {
    {"/health", HTTP1_METHOD_GET, HTTP1_METHOD_HEAD, h_health},
    {"/login", HTTP1_METHOD_POST, 0, h_login},
    {"/logout", HTTP1_METHOD_POST, 0, h_logout},
    {"/me", HTTP1_METHOD_GET, HTTP1_METHOD_PUT, h_me},
    {"/profile/", HTTP1_METHOD_GET, HTTP1_METHOD_PUT, h_profile},
    {"/follow/", HTTP1_METHOD_POST, 0, h_follow},
    {"/posts", HTTP1_METHOD_POST, 0, h_posts},
    {"/feed", HTTP1_METHOD_GET, 0, h_feed},
    {"/upload", HTTP1_METHOD_POST, 0, h_upload},
    {"/upload-sync", HTTP1_METHOD_POST, 0, h_upload_sync},
    {"/jobs/", HTTP1_METHOD_GET, 0, h_job},
    {"/products/", HTTP1_METHOD_GET, 0, h_product},
};

void app_handle(struct app_req *r)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *rt = &routes[i];
        size_t pl = strlen(rt->path);
        bool prefix = rt->path[pl - 1] == '/';
        if (prefix) {
            if (strncmp(r->path, rt->path, pl) != 0)
                continue;
            const char *a = r->path + pl;
            if (!valid_name(a, strlen(a))) {
                app_reply_error(r, 404, "not found");
                return;
            }
            snprintf(r->arg, sizeof r->arg, "%s", a);
        } else if (strcmp(r->path, rt->path) != 0) {
            continue;
        }
        if (r->method != rt->m1 && r->method != rt->m2) {
            app_reply(r, 405, "application/json", "{\"error\":\"method not allowed\"}\n", 31, NULL);
            return;
        }
        rt->fn(r);
        return;
    }
    app_reply_error(r, 404, "not found");
}
