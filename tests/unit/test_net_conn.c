/*
 * test_net_conn.c — net/conn.h (the write path: try-write, then swap and
 * uv_write) and net/server.c's listening sockets
 * (SO_REUSEPORT sockets that refuse a taken port, one socket shared by dups,
 * port 0), admin port rule, and argument helpers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/net.h"
#include "net/conn.h"
#include "net/server.h"

static int written_status = 1;
static void on_written(uv_write_t *req, int status)
{
    (void)req;
    written_status = status;
}

/* A small write goes out at once; one larger than the socket buffer is
 * swapped into inflight and finished by uv_write; the other end gets every
 * byte in order. */
Test(net_conn, try_write_then_queue)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_pipe_t p;
    uv_pipe_init(&loop, &p, 0);
    cr_assert_eq(uv_pipe_open(&p, sv[0]), 0);
    struct buf out, inflight;
    buf_init(&out);
    buf_init(&inflight);
    uv_write_t req;
    bool busy = false;
    size_t n;

    buf_append(&out, "hello", 5);
    cr_assert_eq(net_conn_write((uv_stream_t *)&p, &out, &inflight, &req, NULL, on_written, &busy, &n),
                 NET_WRITE_DONE);
    cr_assert_eq(n, 5);
    cr_assert_eq(buf_pending(&out), 0);
    cr_assert(!busy);
    char got[8];
    cr_assert_eq(read(sv[1], got, sizeof got), 5);

    /* nothing pending: done, nothing written */
    cr_assert_eq(net_conn_write((uv_stream_t *)&p, &out, &inflight, &req, NULL, on_written, &busy, &n),
                 NET_WRITE_DONE);
    cr_assert_eq(n, 0);

    size_t big = 1 << 20;
    for (size_t i = 0; i < big; i++)
        buf_putc(&out, (char)('a' + i % 26));
    int r = net_conn_write((uv_stream_t *)&p, &out, &inflight, &req, &loop, on_written, &busy, &n);
    cr_assert_eq(r, NET_WRITE_QUEUED);
    cr_assert(busy);
    cr_assert_eq(req.data, &loop);
    cr_assert_eq(n + buf_pending(&inflight), big);
    cr_assert_eq(buf_pending(&out), 0); /* out is free for the next replies */
    size_t total = 0;
    char chunk[65536];
    bool order = true;
    while (total < big) {
        uv_run(&loop, UV_RUN_NOWAIT);
        ssize_t k = read(sv[1], chunk, sizeof chunk);
        if (k > 0) {
            for (ssize_t i = 0; i < k; i++)
                order = order && chunk[i] == (char)('a' + (total + (size_t)i) % 26);
            total += (size_t)k;
        }
    }
    while (written_status == 1)
        uv_run(&loop, UV_RUN_ONCE);
    cr_assert_eq(written_status, 0);
    cr_assert(order);
    cr_assert_eq(net_conn_written(&inflight, 0), big - n);
    cr_assert_eq(buf_pending(&inflight), 0);
    cr_assert_eq(net_conn_backlog(&out, &inflight), 0);

    uv_close((uv_handle_t *)&p, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    close(sv[1]);
    buf_deinit(&out);
    buf_deinit(&inflight);
}

Test(net_server, listen_fds_shared_and_reuseport)
{
    char err[256];
    int fds[3], port = -1;
    /* port 0: the kernel picks one, every worker gets it */
    cr_assert_eq(net_listen_fds("127.0.0.1", 0, 16, true, true, 3, fds, &port, err, sizeof err), 0, "%s", err);
    cr_assert_gt(port, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(net_fd_port(fds[i]), port);
    /* a second server asking for SO_REUSEPORT but refusing a taken port */
    int more[2], p2;
    int r = net_listen_fds("127.0.0.1", port, 16, true, true, 2, more, &p2, err, sizeof err);
    cr_assert_eq(r, -EADDRINUSE);
    cr_assert(strstr(err, "Address already in use") != NULL, "%s", err);
    /* without SO_REUSEPORT the bind itself fails */
    r = net_listen_fds("127.0.0.1", port, 16, false, false, 2, more, &p2, err, sizeof err);
    cr_assert_eq(r, -EADDRINUSE);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    /* shared: one socket, dups of it */
    cr_assert_eq(net_listen_fds("127.0.0.1", 0, 16, false, false, 2, fds, &port, err, sizeof err), 0, "%s", err);
    cr_assert_neq(fds[0], fds[1]);
    cr_assert_eq(net_fd_port(fds[1]), port);
    close(fds[0]);
    close(fds[1]);
}

Test(net_server, admin_port_rule)
{
    cr_assert_eq(net_admin_port(-1, 7379), 17379);
    cr_assert_eq(net_admin_port(0, 7379), 0);
    cr_assert_eq(net_admin_port(9000, 7379), 9000);
    cr_assert_eq(net_admin_port(-1, 60000), 0); /* past 65535: none */
}

Test(net_server, arguments)
{
    char *a[] = {"--port", "1", "-c", "x.conf", "--config", "y.conf"};
    cr_assert(!net_server_help_asked(6, a));
    cr_assert_str_eq(net_server_config_path(6, a), "y.conf");
    char *b[] = {"--port", "1", "-h"};
    cr_assert(net_server_help_asked(3, b));
    cr_assert_null(net_server_config_path(3, b));
    char *c[] = {"--config"};
    cr_assert_null(net_server_config_path(1, c));
}

Test(net_server, resolve_hostport)
{
    struct sockaddr_storage sa;
    socklen_t len = 0;
    char err[256];
    cr_assert_eq(net_resolve_hostport("127.0.0.1:6379", "host:port", &sa, &len, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sa.ss_family, AF_INET);
    cr_assert_eq(len, sizeof(struct sockaddr_in));
    cr_assert_eq(net_resolve_hostport("[::1]:6379", "host:port", &sa, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sa.ss_family, AF_INET6);
    cr_assert_eq(net_resolve_hostport("127.0.0.1", "HOST:PORT", &sa, NULL, err, sizeof err), -1);
    cr_assert_str_eq(err, "'127.0.0.1' is not HOST:PORT");
    cr_assert_eq(net_resolve_hostport("127.0.0.1:0", "host:port", &sa, NULL, err, sizeof err), -1);
}

static void alloc_cb(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    (void)n;
    static char mem[64];
    *b = uv_buf_init(mem, sizeof mem);
}
static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)s;
    (void)n;
    (void)b;
}

/* Pausing twice or resuming a stream that is not paused does nothing. */
Test(net_conn, pause_resume_once)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_pipe_t p;
    uv_pipe_init(&loop, &p, 0);
    cr_assert_eq(uv_pipe_open(&p, sv[0]), 0);
    uv_read_start((uv_stream_t *)&p, alloc_cb, read_cb);
    bool paused = false;
    cr_assert(!net_conn_resume((uv_stream_t *)&p, &paused, alloc_cb, read_cb));
    cr_assert(net_conn_pause((uv_stream_t *)&p, &paused));
    cr_assert(paused);
    cr_assert(!uv_is_active((uv_handle_t *)&p));
    cr_assert(!net_conn_pause((uv_stream_t *)&p, &paused));
    cr_assert(net_conn_resume((uv_stream_t *)&p, &paused, alloc_cb, read_cb));
    cr_assert(!paused);
    cr_assert(uv_is_active((uv_handle_t *)&p));
    uv_close((uv_handle_t *)&p, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    close(sv[1]);
}

/* core/net: net_write_all sends everything (the socket buffer is smaller
 * than the data, so writes come back short while the reader drains), and
 * net_read_buf appends what one read brings, 0 at end of file. */
Test(net_conn, write_all_and_read_buf)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    enum { N = 256 * 1024 };
    static char data[N];
    for (int i = 0; i < N; i++)
        data[i] = (char)(i * 7);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(sv[1]);
        _exit(net_write_all(sv[0], data, N) == 0 ? 0 : 1);
    }
    close(sv[0]);
    struct buf in;
    buf_init(&in);
    ssize_t r;
    while ((r = net_read_buf(sv[1], &in, 1000)) > 0)
        ;
    cr_assert_eq(r, 0);
    cr_assert_eq(buf_pending(&in), (size_t)N);
    cr_assert(memcmp(buf_head(&in), data, N) == 0);
    int st = -1;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    buf_deinit(&in);
    close(sv[1]);
    cr_assert_eq(net_write_all(-1, "x", 1), -1); /* a failing write */
}

/* core/net: net_socket_timeout gives a TCP socket whose reads and writes
 * time out after the given milliseconds, close-on-exec. */
Test(net_conn, socket_timeout)
{
    int fd = net_socket_timeout(AF_INET, 1500);
    cr_assert_geq(fd, 0);
    struct timeval rcv = {0}, snd = {0};
    socklen_t len = sizeof rcv;
    cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, &len), 0);
    len = sizeof snd;
    cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, &len), 0);
    cr_assert_eq(rcv.tv_sec, 1);
    cr_assert_eq(rcv.tv_usec, 500000);
    cr_assert_eq(snd.tv_sec, 1);
    cr_assert_eq(snd.tv_usec, 500000);
    int type = 0;
    len = sizeof type;
    cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    cr_assert_eq(type, SOCK_STREAM);
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}
