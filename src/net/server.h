/*
 * server.h — the server skeleton: the start-up and teardown steps every
 * role's main runs (kv, lb, router, pg, sentinel, app), so that a role's
 * main keeps only what is its own (its config, its handlers, its state).
 *
 *   net_server_args            the two below in one: --help (exit 0), else
 *                              defaults, config file + flags (exit 2 on errors)
 *   net_server_help_asked      --help / -h among the arguments
 *   net_server_conf_args       config file + flags; errors to stderr (exit 2)
 *   net_server_process_init    log, SIGPIPE ignored
 *   net_listen_fds             one listening socket per worker: SO_REUSEPORT
 *                              sockets, or one socket shared by dups; a port
 *                              another process holds is refused unless asked
 *   net_listen_start           a worker loop watches one of them
 *   net_worker_loop_init       a worker's loop, wake-up async and tick timer
 *   net_signals_start/close    SIGTERM, SIGINT (stop) and SIGHUP (reload)
 *   net_cron_start/stop        the main loop's periodic timer
 *   net_admin_start            the admin endpoint on port+10000 unless set
 *   net_admin_pages            GET /metrics and /status
 *   net_pidfile_write/remove
 *   net_threads_start/join     workers 1..n-1 on their own threads (worker 0
 *                              runs on the caller's: the main loop)
 *   net_loop_close             close every handle of a loop, then the loop
 *
 * Every function runs on the main thread at start-up or teardown, except
 * net_listen_start and net_worker_loop_init (the worker's loop, before it runs).
 */
#ifndef SCALEOUT_NET_SERVER_H
#define SCALEOUT_NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "core/buf.h"
#include "core/config.h"
#include "net/admin.h"

/* ---- arguments and configuration ----------------------------------------- */

/* Whether argv holds --help or -h. */
bool net_server_help_asked(int argc, char **argv);

/* The FILE of the last `--config FILE` / `-c FILE` in argv, or NULL. */
const char *net_server_config_path(int argc, char **argv);

/*
 * Load the config file and flags of argv into cfg (set to its defaults by the
 * caller), then validate (may be NULL) adds errors of its own. On any error
 * prints them and "scaleout ROLE: invalid configuration (see scaleout ROLE
 * --help)" to stderr and returns their count (the role exits 2); 0 when valid.
 */
int net_server_conf_args(const struct conf_table *t, void *cfg, const char *role, int argc, char **argv,
                         int (*validate)(void *cfg, struct buf *errs));

/*
 * The first step of a role's main whose config is a plain directive table:
 * with --help (-h) among the arguments, usage(stdout) and 0; otherwise cfg
 * gets t's defaults, then the config file and flags (net_server_conf_args,
 * validate may be NULL), and on an error cfg is freed again (conf_free) and
 * 2 is returned. -1: cfg is loaded, go on. A result >= 0 is the exit code.
 */
int net_server_args(const struct conf_table *t, void *cfg, const char *role, int argc, char **argv,
                    int (*validate)(void *cfg, struct buf *errs), void (*usage)(FILE *f));

/* The --help text on f: before, the help of every directive of t, after. */
void net_server_usage(FILE *f, const struct conf_table *t, const char *before, const char *after);

/* log_init(role, level, logfile) and SIGPIPE ignored (a peer that went away
 * makes a write fail, not the process die). */
void net_server_process_init(const char *role, int level, const char *logfile);

/* ---- listening sockets ---------------------------------------------------- */

/*
 * n listening sockets on host:port into fds[0..n-1], *port_out the port bound
 * (the kernel's pick for port 0).
 *   reuseport:  each its own SO_REUSEPORT socket: the kernel spreads
 *               connections over them (and over other processes that asked for
 *               the same). With refuse_taken, a port another socket already
 *               holds is refused first ("cannot listen on HOST:PORT: Address
 *               already in use"), so a second server does not share it silently.
 *   otherwise:  one socket bound without SO_REUSEPORT (a taken port fails),
 *               fds[1..] dups of it; every loop watching one, one accept wins.
 * Returns 0, or a negative errno with a message in err (nothing left open).
 */
int net_listen_fds(const char *host, int port, int backlog, bool reuseport, bool refuse_taken, int n, int *fds,
                   int *port_out, char *err, size_t errlen);

/* The local port of a socket (0 when unknown). */
int net_fd_port(int fd);

/*
 * Watch listening socket fd on loop through tcp (tcp->data = data; cb on a
 * connection). shared: other loops watch the same socket (a dup): each accepts
 * one connection at a time, so they take turns. Returns 0 or a libuv error
 * (tcp is initialised either way: the caller closes it).
 */
int net_listen_start(uv_loop_t *loop, uv_tcp_t *tcp, int fd, int backlog, bool shared, uv_connection_cb cb,
                     void *data);

/* ---- workers --------------------------------------------------------------- */

/* A worker's loop: uv_loop_init, wake (async, cb, data) and, when tick is not
 * NULL, a repeating timer every tick_ms (tick_cb, data). */
void net_worker_loop_init(uv_loop_t *loop, uv_async_t *wake, uv_async_cb wake_cb, uv_timer_t *tick,
                          uv_timer_cb tick_cb, uint64_t tick_ms, void *data);

struct net_threads {
    uv_thread_t *t;
    int n;
};

/* Start a thread running each of the loops 1..n-1 until it ends: the loops
 * are members of an array of worker structs, first = &workers[0].loop,
 * stride = sizeof workers[0]. Loop 0 is the caller's to run. */
void net_threads_start(struct net_threads *th, uv_loop_t *first, size_t stride, int n);
#define NET_THREADS_START(th, workers, n) net_threads_start((th), &(workers)[0].loop, sizeof (workers)[0], (n))
/* Wait for those threads to end (their loops have no handles left). */
void net_threads_join(struct net_threads *th);

/* Close every handle still open on loop, run it until they are closed, close
 * the loop. Returns uv_loop_close's result. */
int net_loop_close(uv_loop_t *loop);

/* ---- signals, cron ---------------------------------------------------------- */

struct net_signals {
    uv_signal_t term, intr, hup;
    bool open;
};

/* SIGTERM and SIGINT call on_stop, SIGHUP on_hup (when not NULL: else SIGHUP
 * keeps its default), with handle->data = data. */
void net_signals_start(struct net_signals *sg, uv_loop_t *loop, uv_signal_cb on_stop, uv_signal_cb on_hup,
                       void *data);
/* Close the handles (once; harmless when never started). */
void net_signals_close(struct net_signals *sg);

/* A repeating timer every ms on loop (t->data = data). */
void net_cron_start(uv_timer_t *t, uv_loop_t *loop, uv_timer_cb cb, uint64_t ms, void *data);
/* Stop and close it. */
void net_cron_stop(uv_timer_t *t);

/* ---- admin endpoint, pidfile ------------------------------------------------- */

/* The admin port: admin_port when >= 0 (0: none), else port + 10000;
 * 0 when that passes 65535. */
long long net_admin_port(long long admin_port, long long port);

/*
 * Open the admin endpoint on bind:aport (aport from net_admin_port; 0: none).
 * A failure is logged ("admin endpoint disabled: ...") and gives NULL: the
 * role serves without it.
 */
struct admin *net_admin_start(uv_loop_t *loop, const char *bind, long long aport, const struct admin_opts *opts,
                              admin_handler_fn fn, void *arg);

/*
 * The pages every role serves: GET or HEAD /metrics (Prometheus text, from
 * metrics) and /status (JSON, from status); any other method is 405 with
 * `Allow: GET, HEAD`. Other paths are left alone (404 unless the role answers).
 */
void net_admin_pages(const struct admin_req *req, struct admin_resp *resp, void (*metrics)(void *arg, struct buf *out),
                     void (*status)(void *arg, struct buf *out), void *arg);

/* Write our PID to path (NULL or "": nothing); a failure is logged. */
void net_pidfile_write(const char *path);
/* Remove it (NULL or "": nothing). */
void net_pidfile_remove(const char *path);

#endif
