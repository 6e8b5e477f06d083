/*
 * util.c — the small blocking helpers up.c and demo.c share: a free loopback
 * port, and one HTTP/1.1 exchange with a loopback admin endpoint (see up.h).
 * A file of its own, below both, so that up.c (which runs the demo) and
 * demo.c do not call each other.
 */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/net.h"
#include "proto/http1.h"
#include "up/up.h"

int up_free_port(void)
{
    /* a port handed out here is bound later by a child: until then the
     * kernel may give it out again, so the last ones given are skipped */
    static int given[64];
    static unsigned ngiven;
    for (int attempt = 0; attempt < 32; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t l = sizeof sa;
        int port = -1;
        if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &l) == 0)
            port = ntohs(sa.sin_port);
        if (fd >= 0)
            close(fd);
        if (port < 0)
            return -1;
        bool seen = false;
        for (unsigned i = 0; i < 64 && i < ngiven; i++)
            seen = seen || given[i] == port;
        if (seen)
            continue;
        given[ngiven++ % 64] = port;
        return port;
    }
    return -1;
}

/*
 * A blocking HTTP/1.1 exchange with a loopback admin endpoint (1 s timeout).
 * Returns the status (body in out when out != NULL), or -1.
 */
int up_tcp_loopback(int port, int timeout_ms)
{
    int fd = net_socket_timeout(AF_INET, timeout_ms);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int up_http_call(int port, const char *method, const char *path, const char *token, struct buf *out)
{
    int fd = up_tcp_loopback(port, 1000);
    if (fd < 0)
        return -1;
    char req[1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                     method, path, token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    if (net_write_all(fd, req, (size_t)n) != 0) {
        close(fd);
        return -1;
    }
    struct buf b;
    buf_init(&b);
    for (;;) {
        if (net_read_buf(fd, &b, 16384) <= 0)
            break;
        if (b.len > (4u << 20))
            break;
    }
    close(fd);
    struct http1_header hdr[32];
    struct http1_response res;
    http1_response_init(&res, hdr, 32);
    int hl = http1_parse_response(buf_head(&b), buf_pending(&b), &res, NULL, false);
    int status = -1;
    if (hl > 0) {
        status = res.status;
        if (out)
            buf_append(out, buf_head(&b) + hl, buf_pending(&b) - (size_t)hl);
    }
    buf_deinit(&b);
    return status;
}
