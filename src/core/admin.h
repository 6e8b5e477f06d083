/*
 * admin.h — the admin HTTP endpoint every role serves on loopback:
 * GET /metrics (Prometheus text) and GET /status (JSON), plus whatever paths
 * the role's handler answers. Small, strict (proto/http1), keep-alive, bounded:
 * requests over 8 KiB are refused, idle connections close after 30 s, and at
 * most 64 admin connections are open at once.
 */
#ifndef SCALEOUT_CORE_ADMIN_H
#define SCALEOUT_CORE_ADMIN_H

#include <stddef.h>
#include <uv.h>

#include "core/buf.h"

struct admin;

/*
 * Handler: fill body and *ctype for method/path (path without the query
 * string); return the HTTP status (404 for unknown paths: the endpoint then
 * writes its own body). query may be empty. Runs on the loop's thread.
 */
typedef int (*admin_handler_fn)(void *arg, const char *path, struct buf *body, const char **ctype);

/* Listen on host:port. Returns NULL with a message in err on failure. */
struct admin *admin_open(uv_loop_t *loop, const char *host, int port, admin_handler_fn fn, void *arg,
                         char *err, size_t errlen);
/* Stop listening and close every admin connection (memory freed in close callbacks). */
void admin_close(struct admin *a);
int admin_port(const struct admin *a);

#endif
