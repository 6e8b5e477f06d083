/*
 * test_sentinel_ask.c — net_sentinel_master against a scripted sentinel: the
 * answer in one piece or byte by byte, nil, an error, garbage, a bad port, a
 * host too long for the caller's buffer, and no answer at all (timeout).
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sentinel_ask.h"

struct script {
    int lfd;
    const char *reply; /* NULL: read the request and answer nothing */
    bool bytewise;
    char req[256];
};

static void *serve(void *arg)
{
    struct script *sc = arg;
    int c = accept(sc->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    ssize_t n = read(c, sc->req, sizeof sc->req - 1);
    if (n > 0)
        sc->req[n] = 0;
    if (sc->reply) {
        size_t len = strlen(sc->reply);
        if (sc->bytewise)
            for (size_t i = 0; i < len; i++) {
                (void)!write(c, sc->reply + i, 1);
                usleep(1000);
            }
        else
            (void)!write(c, sc->reply, len);
    } else {
        usleep(400 * 1000);
    }
    close(c);
    return NULL;
}

static bool ask(const char *reply, bool bytewise, char *host, size_t hostlen, int *port, char *req_out)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 4) == 0);
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    struct script sc = {.lfd = lfd, .reply = reply, .bytewise = bytewise};
    pthread_t t;
    pthread_create(&t, NULL, serve, &sc);
    bool ok = net_sentinel_master("127.0.0.1", ntohs(sa.sin_port), "mymaster", 200, host, hostlen, port);
    pthread_join(t, NULL);
    close(lfd);
    if (req_out)
        strcpy(req_out, sc.req);
    return ok;
}

Test(sentinel_ask, answer_whole_and_bytewise)
{
    char host[64], req[256];
    int port = 0;
    const char *r = "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n";
    cr_assert(ask(r, false, host, sizeof host, &port, req));
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_eq(port, 6380);
    cr_assert_str_eq(req, "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n");
    port = 0;
    cr_assert(ask(r, true, host, sizeof host, &port, NULL));
    cr_assert_eq(port, 6380);
}

Test(sentinel_ask, refusals)
{
    char host[64];
    int port = 0;
    cr_assert_not(ask("*-1\r\n", false, host, sizeof host, &port, NULL));                      /* unknown name */
    cr_assert_not(ask("-IDONTKNOW no quorum\r\n", false, host, sizeof host, &port, NULL));     /* an error */
    cr_assert_not(ask("hello\r\n", false, host, sizeof host, &port, NULL));                    /* not RESP */
    cr_assert_not(ask("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n70000\r\n", false, host, sizeof host, &port, NULL));
    cr_assert_not(ask("*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n", false, host, sizeof host, &port, NULL));
    cr_assert_not(ask("*2\r\n$9\r\n127.0.0.1\r\n:6380\r\n", false, host, sizeof host, &port, NULL));
    cr_assert_not(ask("*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n$1\r\nx\r\n", false, host, sizeof host, &port, NULL));
    cr_assert_not(ask("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n", false, host, 9, &port, NULL)); /* host too long */
    cr_assert_not(ask(NULL, false, host, sizeof host, &port, NULL));                            /* timeout */
    cr_assert_eq(port, 0);
}

Test(sentinel_ask, nobody_listening)
{
    char host[64];
    int port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd); /* a port nobody listens on */
    cr_assert_not(net_sentinel_master("127.0.0.1", ntohs(sa.sin_port), "m", 200, host, sizeof host, &port));
}
