/*
 * proc.c — one supervised process: spawn (uv_spawn, optionally as another
 * user), its stdout and stderr read line by line and written both to up's
 * stdout prefixed with the name ("app-1   | ...") and to DIR/logs/NAME.log,
 * its exit reported to up.c through the up's on_proc_exit callback (up.c
 * decides on restarts), and the signal that stops it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/util.h"
#include "up/up.h"

#define MAX_LINE 8192

static const char *const state_names[] = {
#define UP_X_NAME(id, text) text,
    UP_PROC_STATES(UP_X_NAME)
#undef UP_X_NAME
};

const char *up_proc_state_name(enum up_proc_state s) { return state_names[s]; }

void up_log(struct up *u, const char *fmt, ...)
{
    (void)u;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char ts[32];
    long long ms = util_time_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    fprintf(stdout, "%-8s | %s.%03lld %s\n", "up", ts, ms % 1000, line);
    fflush(stdout);
}

struct up_proc *up_proc_new(struct up *u, enum up_kind kind, const char *name, char **argv, int port)
{
    struct up_proc *p = xcalloc(1, sizeof *p);
    p->up = u;
    p->kind = kind;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->argv = argv;
    p->port = port;
    p->stop_signal = SIGTERM;
    p->logfd = -1;
    buf_init(&p->line_out);
    buf_init(&p->line_err);
    char path[4200];
    snprintf(path, sizeof path, "%s/logs/%s.log", u->dir, name);
    p->logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    /* append at the end of the list: start order = list order */
    struct up_proc **pp = &u->procs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = p;
    return p;
}

static void emit(struct up_proc *p, const char *s, size_t n)
{
    if (p->logfd >= 0) {
        ssize_t w = write(p->logfd, s, n);
        w = write(p->logfd, "\n", 1);
        (void)w;
    }
    fprintf(stdout, "%-8s | %.*s\n", p->name, (int)n, s);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct up_proc *p = h->data;
    struct buf *lb = (uv_pipe_t *)h == p->out ? &p->line_out : &p->line_err;
    (void)hint;
    buf_reserve(lb, 4096);
    *b = uv_buf_init(buf_tail(lb), (unsigned)buf_room(lb));
}

static void pipe_closed(uv_handle_t *h) { xfree(h); }

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct up_proc *p = s->data;
    (void)b;
    bool is_out = (uv_pipe_t *)s == p->out;
    struct buf *lb = is_out ? &p->line_out : &p->line_err;
    if (n < 0) {
        if (buf_pending(lb))
            emit(p, buf_head(lb), buf_pending(lb));
        buf_consume(lb, buf_pending(lb));
        uv_close((uv_handle_t *)s, pipe_closed);
        if (is_out)
            p->out = NULL;
        else
            p->err = NULL;
        fflush(stdout);
        return;
    }
    lb->len += (size_t)n;
    for (;;) {
        char *nl = memchr(buf_head(lb), '\n', buf_pending(lb));
        if (!nl) {
            if (buf_pending(lb) > MAX_LINE) {
                emit(p, buf_head(lb), buf_pending(lb));
                buf_consume(lb, buf_pending(lb));
            }
            break;
        }
        emit(p, buf_head(lb), (size_t)(nl - buf_head(lb)));
        buf_consume(lb, (size_t)(nl - buf_head(lb)) + 1);
    }
    fflush(stdout);
}

static void proc_closed(uv_handle_t *h) { xfree(h); }

static void on_exit_cb(uv_process_t *h, int64_t status, int sig)
{
    struct up_proc *p = h->data;
    uv_close((uv_handle_t *)h, proc_closed);
    p->h = NULL;
    p->pid = 0;
    p->up->on_proc_exit(p->up, p, (long long)status, sig);
}

int up_proc_start(struct up_proc *p)
{
    struct up *u = p->up;
    p->out = xmalloc(sizeof *p->out);
    p->err = xmalloc(sizeof *p->err);
    uv_pipe_init(u->loop, p->out, 0);
    uv_pipe_init(u->loop, p->err, 0);
    p->out->data = p->err->data = p;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)p->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)p->err;
    uv_process_options_t o;
    memset(&o, 0, sizeof o);
    o.file = p->argv[0];
    o.args = p->argv;
    o.exit_cb = on_exit_cb;
    o.stdio = stdio;
    o.stdio_count = 3;
    if (p->setuid) {
        o.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
        o.uid = p->uid;
        o.gid = p->gid;
    }
    p->h = xmalloc(sizeof *p->h);
    p->h->data = p;
    int rc = uv_spawn(u->loop, p->h, &o);
    if (rc != 0) {
        up_log(u, "%s: cannot start %s: %s", p->name, p->argv[0], uv_strerror(rc));
        /* uv_spawn failures still need the handle closed */
        uv_close((uv_handle_t *)p->h, proc_closed);
        p->h = NULL;
        uv_close((uv_handle_t *)p->out, pipe_closed);
        uv_close((uv_handle_t *)p->err, pipe_closed);
        p->out = p->err = NULL;
        return -1;
    }
    p->pid = p->h->pid;
    p->started_ms = util_time_ms();
    p->ready = false;
    uv_read_start((uv_stream_t *)p->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)p->err, on_alloc, on_read);
    return 0;
}

void up_proc_signal(struct up_proc *p, int sig)
{
    if (p->h && p->pid > 0)
        uv_process_kill(p->h, sig);
}

static void timer_closed(uv_handle_t *h) { xfree(h); }

void up_proc_free(struct up_proc *p)
{
    struct up_proc **pp = &p->up->procs;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    if (p->backoff)
        uv_close((uv_handle_t *)p->backoff, timer_closed);
    uv_pipe_t *pipes[2] = {p->out, p->err};
    for (int i = 0; i < 2; i++)
        if (pipes[i]) {
            if (buf_pending(i ? &p->line_err : &p->line_out))
                emit(p, buf_head(i ? &p->line_err : &p->line_out), buf_pending(i ? &p->line_err : &p->line_out));
            uv_close((uv_handle_t *)pipes[i], pipe_closed);
        }
    if (p->logfd >= 0)
        close(p->logfd);
    buf_deinit(&p->line_out);
    buf_deinit(&p->line_err);
    for (char **a = p->argv; a && *a; a++)
        xfree(*a);
    xfree(p->argv);
    xfree(p);
}
