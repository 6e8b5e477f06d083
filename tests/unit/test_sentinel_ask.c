/*
 * test_sentinel_ask.c — net_sentinel_master against a scripted sentinel: the
 * answer in one piece or byte by byte, nil, an error, garbage, a bad port, a
 * host too long for the caller's buffer, and no answer at all (timeout).
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
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

Test(sentinel_ask, sentinels_parse)
{
    struct net_sentinels s;
    cr_assert(net_sentinels_parse(&s, "") && s.n == 0);
    cr_assert(net_sentinels_parse(&s, "127.0.0.1:1,") && s.n == 1); /* a trailing comma ends the list */
    cr_assert(net_sentinels_parse(&s, NULL) && s.n == 0);
    cr_assert(net_sentinels_parse(&s, "127.0.0.1:26379,10.0.0.2:26380") && s.n == 2);
    cr_assert_str_eq(s.host[0], "127.0.0.1");
    cr_assert_eq(s.port[0], 26379);
    cr_assert_str_eq(s.host[1], "10.0.0.2");
    cr_assert_eq(s.port[1], 26380);
    char max[256] = "", over[sizeof max + 16];
    for (int i = 0; i < NET_SENTINELS_MAX; i++)
        snprintf(max + strlen(max), sizeof max - strlen(max), "%s127.0.0.1:%d", i ? "," : "", 26379 + i);
    cr_assert(net_sentinels_parse(&s, max) && s.n == NET_SENTINELS_MAX);
    snprintf(over, sizeof over, "%s,127.0.0.1:1", max);
    char long_item[128];
    memset(long_item, 'a', 100);
    snprintf(long_item + 100, sizeof long_item - 100, ":1");
    const char *bad[] = {",127.0.0.1:1", "127.0.0.1:1,,127.0.0.1:2", "127.0.0.1", "127.0.0.1:x",
                         over, long_item};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(net_sentinels_parse(&s, bad[i]), "%s", bad[i]);
}

Test(sentinel_ask, sentinels_follow_first_that_answers)
{
    /* the first sentinel is a port nobody listens on, the second answers */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in dead = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&dead, sizeof dead);
    socklen_t sl = sizeof dead;
    getsockname(fd, (struct sockaddr *)&dead, &sl);
    close(fd);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 4) == 0);
    sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    struct script sc = {.lfd = lfd, .reply = "*2\r\n$9\r\n127.0.0.2\r\n$4\r\n6380\r\n"};
    pthread_t t;
    pthread_create(&t, NULL, serve, &sc);
    char list[64];
    snprintf(list, sizeof list, "127.0.0.1:%d,127.0.0.1:%d", ntohs(dead.sin_port), ntohs(sa.sin_port));
    struct net_sentinels s;
    cr_assert(net_sentinels_parse(&s, list) && s.n == 2);
    char host[128] = "127.0.0.1";
    int port = 6379;
    cr_assert(net_sentinels_follow(&s, "mymaster", 200, host, sizeof host, &port));
    pthread_join(t, NULL);
    close(lfd);
    cr_assert_str_eq(host, "127.0.0.2");
    cr_assert_eq(port, 6380);
    /* nobody answers: false, host and port as they were */
    cr_assert(net_sentinels_parse(&s, list) && s.n == 2);
    s.port[1] = s.port[0];
    cr_assert_not(net_sentinels_follow(&s, "mymaster", 200, host, sizeof host, &port));
    cr_assert_str_eq(host, "127.0.0.2");
    cr_assert_eq(port, 6380);
    struct net_sentinels none = {0};
    cr_assert_not(net_sentinels_follow(&none, "mymaster", 200, host, sizeof host, &port));
}
