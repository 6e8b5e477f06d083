/*
 * pingpong.c — the smallest RESP "server": answers +PONG to every line it
 * reads, with one of two event loops, to measure what a different system-call
 * interface saves per request (bench/uring-vs-epoll.sh):
 *
 *   epoll  level-triggered epoll_wait, then read() and write() per ready
 *          socket: what scaleout (libuv), redis-server, HAProxy and PgBouncer
 *          do, 2 + 1/batch system calls per request;
 *   uring  io_uring: multishot accept, one recv per socket in flight, sends
 *          queued as SQEs, and ONE io_uring_submit_and_wait() per loop turn
 *          for every socket's completions and submissions (DEFER_TASKRUN and
 *          SINGLE_ISSUER when the kernel has them).
 *
 * One thread, no parsing: the difference between the two is only how the
 * kernel is entered. Build: cc -O2 -o pingpong pingpong.c -luring
 * Run: pingpong epoll|uring PORT (127.0.0.1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#define BUFSZ 16384
#define MAXC 4096
static char rbuf[MAXC][BUFSZ];
static char wbuf[MAXC][BUFSZ * 2]; /* 16 KB of "PING\r\n" is 2,730 replies of 7 bytes */

static int count_lines(const char *b, int n) { int c = 0; for (int i = 0; i < n; i++) c += b[i] == '\n'; return c; }
static int fill(int fd, int lines) { int n = 0; for (int i = 0; i < lines && n + 7 <= (int)sizeof wbuf[0]; i++) { memcpy(wbuf[fd] + n, "+PONG\r\n", 7); n += 7; } return n; }

static int listener(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    if (bind(s, (void *)&a, sizeof a) || listen(s, 1024)) { perror("bind"); exit(1); }
    return s;
}

static void run_epoll(int ls) {
    int ep = epoll_create1(0);
    fcntl(ls, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                /* accept until EAGAIN */
                int c; while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) { if (c >= MAXC) { close(c); continue; } int one = 1; setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); struct epoll_event e = {.events = EPOLLIN, .data.fd = c}; epoll_ctl(ep, EPOLL_CTL_ADD, c, &e); }
                continue;
            }
            ssize_t r = read(fd, rbuf[fd], BUFSZ);
            if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; close(fd); continue; }
            int w = fill(fd, count_lines(rbuf[fd], (int)r));
            if (w && write(fd, wbuf[fd], w) != w) { close(fd); }
        }
    }
}

enum { OP_ACCEPT = 1, OP_RECV, OP_SEND };
#define UD(op, fd) (((unsigned long long)(op) << 32) | (unsigned)(fd))

static void run_uring(int ls) {
    struct io_uring ring;
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(4096, &ring, &p) < 0) {
        p.flags = 0;
        if (io_uring_queue_init_params(4096, &ring, &p) < 0) { perror("uring"); exit(1); }
        fprintf(stderr, "no DEFER_TASKRUN\n");
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_multishot_accept(sqe, ls, NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, UD(OP_ACCEPT, ls));
    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe *cqe; unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            unsigned long long ud = io_uring_cqe_get_data64(cqe);
            int op = (int)(ud >> 32), fd = (int)(ud & 0xffffffff), res = cqe->res;
            if (op == OP_ACCEPT) {
                if (res >= MAXC) { close(res); res = -1; }
                if (res >= 0) { int one = 1; setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    sqe = io_uring_get_sqe(&ring); io_uring_prep_recv(sqe, res, rbuf[res], BUFSZ, 0); io_uring_sqe_set_data64(sqe, UD(OP_RECV, res)); }
                if (!(cqe->flags & IORING_CQE_F_MORE)) { sqe = io_uring_get_sqe(&ring); io_uring_prep_multishot_accept(sqe, ls, NULL, NULL, 0); io_uring_sqe_set_data64(sqe, UD(OP_ACCEPT, ls)); }
            } else if (op == OP_RECV) {
                if (res <= 0) { close(fd); continue; }
                int w = fill(fd, count_lines(rbuf[fd], res));
                if (w) { sqe = io_uring_get_sqe(&ring); io_uring_prep_send(sqe, fd, wbuf[fd], w, 0); io_uring_sqe_set_data64(sqe, UD(OP_SEND, fd)); sqe->flags |= IOSQE_CQE_SKIP_SUCCESS; }
                sqe = io_uring_get_sqe(&ring); io_uring_prep_recv(sqe, fd, rbuf[fd], BUFSZ, 0); io_uring_sqe_set_data64(sqe, UD(OP_RECV, fd));
            } else if (op == OP_SEND) {
                if (res < 0) close(fd);
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: pingpong epoll|uring PORT\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    int ls = listener(atoi(argv[2]));
    if (!strcmp(argv[1], "epoll")) run_epoll(ls); else run_uring(ls);
    return 0;
}
