/*
 * server.c — the server skeleton's steps (see server.h): arguments, logging,
 * listening sockets, worker loops and threads, signals, cron, the admin
 * endpoint, the pidfile and teardown. No role state: each role's main calls
 * them in its order.
 */
#include "net/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"

/* ---- arguments and configuration ----------------------------------------- */

bool net_server_help_asked(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

const char *net_server_config_path(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
            path = argv[i + 1];
    return path;
}

int net_server_conf_args(const struct conf_table *t, void *cfg, const char *role, int argc, char **argv,
                         int (*validate)(void *cfg, struct buf *errs))
{
    struct buf errs;
    buf_init(&errs);
    int n = conf_load_args(t, cfg, argc, argv, &errs);
    if (n == 0 && validate)
        n = validate(cfg, &errs);
    if (n != 0)
        fprintf(stderr, "%.*sscaleout %s: invalid configuration (see scaleout %s --help)\n", (int)buf_pending(&errs),
                buf_head(&errs), role, role);
    buf_deinit(&errs);
    return n;
}

int net_server_args(const struct conf_table *t, void *cfg, const char *role, int argc, char **argv,
                    int (*validate)(void *cfg, struct buf *errs), void (*usage)(FILE *f))
{
    if (net_server_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    conf_defaults(t, cfg);
    if (net_server_conf_args(t, cfg, role, argc, argv, validate) != 0) {
        conf_free(t, cfg);
        return 2;
    }
    return -1;
}

void net_server_usage(FILE *f, const struct conf_table *t, const char *before, const char *after)
{
    struct buf b;
    buf_init(&b);
    conf_print_help(t, &b);
    fprintf(f, "%s%.*s%s", before, (int)buf_pending(&b), buf_head(&b), after);
    buf_deinit(&b);
}

void net_server_process_init(const char *role, int level, const char *logfile)
{
    log_init(role, level, logfile);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- listening sockets ---------------------------------------------------- */

int net_fd_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

int net_listen_fds(const char *host, int port, int backlog, bool reuseport, bool refuse_taken, int n, int *fds,
                   int *port_out, char *err, size_t errlen)
{
    if (reuseport && refuse_taken && port != 0 && net_port_in_use(host, port) == 1) {
        snprintf(err, errlen, "cannot listen on %s:%d: Address already in use", host, port);
        return -EADDRINUSE;
    }
    for (int i = 0; i < n; i++) {
        int fd;
        if (!reuseport && i > 0) {
            fd = fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
            if (fd < 0) {
                fd = -errno;
                snprintf(err, errlen, "dup: %s", strerror(errno));
            }
        } else {
            fd = net_listen(host, port, backlog, reuseport, err, errlen);
        }
        if (fd < 0) {
            for (int j = 0; j < i; j++)
                close(fds[j]);
            return fd;
        }
        if (port == 0)
            port = net_fd_port(fd); /* the kernel's pick: the other workers join it */
        fds[i] = fd;
    }
    *port_out = port;
    return 0;
}

int net_listen_start(uv_loop_t *loop, uv_tcp_t *tcp, int fd, int backlog, bool shared, uv_connection_cb cb,
                     void *data)
{
    uv_tcp_init(loop, tcp);
    tcp->data = data;
    int r = uv_tcp_open(tcp, fd);
    if (r == 0 && shared)
        uv_tcp_simultaneous_accepts(tcp, 0); /* one socket, all threads: accept one, let the others in */
    if (r == 0)
        r = uv_listen((uv_stream_t *)tcp, backlog, cb);
    return r;
}

/* ---- workers --------------------------------------------------------------- */

void net_worker_loop_init(uv_loop_t *loop, uv_async_t *wake, uv_async_cb wake_cb, uv_timer_t *tick,
                          uv_timer_cb tick_cb, uint64_t tick_ms, void *data)
{
    uv_loop_init(loop);
    uv_async_init(loop, wake, wake_cb);
    wake->data = data;
    if (tick) {
        uv_timer_init(loop, tick);
        tick->data = data;
        uv_timer_start(tick, tick_cb, tick_ms, tick_ms);
    }
}

static void run_loop(void *arg) { uv_run(arg, UV_RUN_DEFAULT); }

void net_threads_start(struct net_threads *th, uv_loop_t *first, size_t stride, int n)
{
    th->n = n > 1 ? n - 1 : 0;
    th->t = th->n ? xcalloc((size_t)th->n, sizeof *th->t) : NULL;
    for (int i = 1; i < n; i++)
        uv_thread_create(&th->t[i - 1], run_loop, (char *)first + (size_t)i * stride);
}

void net_threads_join(struct net_threads *th)
{
    for (int i = 0; i < th->n; i++)
        uv_thread_join(&th->t[i]);
    xfree(th->t);
    th->t = NULL;
    th->n = 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int net_loop_close(uv_loop_t *loop)
{
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop);
}

/* ---- signals, cron ---------------------------------------------------------- */

void net_signals_start(struct net_signals *sg, uv_loop_t *loop, uv_signal_cb on_stop, uv_signal_cb on_hup,
                       void *data)
{
    uv_signal_init(loop, &sg->term);
    uv_signal_init(loop, &sg->intr);
    uv_signal_init(loop, &sg->hup);
    sg->term.data = sg->intr.data = sg->hup.data = data;
    uv_signal_start(&sg->term, on_stop, SIGTERM);
    uv_signal_start(&sg->intr, on_stop, SIGINT);
    if (on_hup)
        uv_signal_start(&sg->hup, on_hup, SIGHUP);
    sg->open = true;
}

void net_signals_close(struct net_signals *sg)
{
    if (!sg->open)
        return;
    sg->open = false;
    uv_close((uv_handle_t *)&sg->term, NULL);
    uv_close((uv_handle_t *)&sg->intr, NULL);
    uv_close((uv_handle_t *)&sg->hup, NULL);
}

void net_cron_start(uv_timer_t *t, uv_loop_t *loop, uv_timer_cb cb, uint64_t ms, void *data)
{
    uv_timer_init(loop, t);
    t->data = data;
    uv_timer_start(t, cb, ms, ms);
}

void net_cron_stop(uv_timer_t *t)
{
    uv_timer_stop(t);
    if (!uv_is_closing((uv_handle_t *)t))
        uv_close((uv_handle_t *)t, NULL);
}

/* ---- admin endpoint, pidfile ------------------------------------------------- */

long long net_admin_port(long long admin_port, long long port)
{
    long long a = admin_port < 0 ? port + 10000 : admin_port;
    return a > 0 && a <= 65535 ? a : 0;
}

struct admin *net_admin_start(uv_loop_t *loop, const char *bind, long long aport, const struct admin_opts *opts,
                              admin_handler_fn fn, void *arg)
{
    if (aport <= 0)
        return NULL;
    char err[256];
    struct admin *a = admin_open(loop, bind, (int)aport, opts, fn, arg, err, sizeof err);
    if (!a)
        log_warn("admin endpoint disabled: %s", err);
    return a;
}

void net_admin_pages(const struct admin_req *req, struct admin_resp *resp, void (*metrics)(void *arg, struct buf *out),
                     void (*status)(void *arg, struct buf *out), void *arg)
{
    if (req->method != HTTP1_METHOD_GET && req->method != HTTP1_METHOD_HEAD) {
        resp->status = 405;
        resp->extra_headers = "Allow: GET, HEAD\r\n";
        buf_puts(&resp->body, "only GET and HEAD\n");
    } else if (strcmp(req->path, "/metrics") == 0) {
        resp->status = 200;
        resp->ctype = "text/plain; version=0.0.4";
        metrics(arg, &resp->body);
    } else if (strcmp(req->path, "/status") == 0) {
        resp->status = 200;
        resp->ctype = "application/json";
        status(arg, &resp->body);
    }
}

void net_pidfile_write(const char *path)
{
    if (!path || !*path)
        return;
    char err[256];
    if (util_write_pidfile(path, err, sizeof err) != 0)
        log_warn("pidfile: %s", err);
}

void net_pidfile_remove(const char *path)
{
    if (path && *path)
        unlink(path);
}
