/*
 * context.c — what the app's parts (handlers.c, cache.c, cache_flight.c,
 * writebehind.c) reach of the server: its configuration, kv and PostgreSQL
 * clients and counters, and the two things only server.c does (answer a
 * request, hold a capacity slot), all through the struct app_ctx server.c
 * fills in (app.h). So server.c calls the parts (app_handle, the cache
 * strategies, the write-behind flusher) and the parts call this file, never
 * server.c: server.c -> parts -> context.c.
 */
#include <string.h>

#include "app/app.h"
#include "proto/json.h"

/* struct app_server (server.c) begins with its struct app_ctx */
static struct app_ctx *ctx_of(struct app_server *s) { return (struct app_ctx *)(void *)s; }

struct app_kv *app_server_kv(struct app_server *s) { return ctx_of(s)->kv; }
struct app_pg *app_server_pg(struct app_server *s) { return ctx_of(s)->pg; }
const struct app_config *app_server_conf(struct app_server *s) { return ctx_of(s)->cfg; }
struct app_metrics *app_server_metrics(struct app_server *s) { return ctx_of(s)->metrics; }

void app_reply(struct app_req *r, int status, const char *ctype, const char *body, size_t len,
               const char *extra_headers)
{
    ctx_of(r->srv)->reply(r, status, ctype, body, len, extra_headers);
}

void app_work(struct app_req *r, long long ms, void (*then)(struct app_req *r))
{
    ctx_of(r->srv)->work(r, ms, then);
}

void app_reply_json(struct app_req *r, int status, struct buf *body, const char *extra_headers)
{
    app_reply(r, status, "application/json", buf_head(body), buf_pending(body), extra_headers);
    buf_deinit(body);
}

void app_reply_error(struct app_req *r, int status, const char *msg)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"error\":");
    json_put_str(&b, msg, strlen(msg));
    buf_puts(&b, "}\n");
    app_reply_json(r, status, &b, NULL);
}
