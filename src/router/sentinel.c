/*
 * sentinel.c — shards whose primary is found through sentinels.
 *
 *   shard 127.0.0.1:7401 name a master shard-a    sentinel 127.0.0.1:26379 (repeat)
 *
 * At start each such shard's address is replaced by the answer of the first
 * sentinel that answers SENTINEL get-master-addr-by-name. Then:
 *   - one thread per sentinel keeps a connection SUBSCRIBEd to +switch-master
 *     (reconnecting with back-off, 100 ms doubling to 5 s); a message
 *     "NAME oldip oldport newip newport" for one of our masters queues a switch;
 *   - one thread asks get-master-addr-by-name every sentinel-check-interval
 *     (a message lost while a subscription was down) and queues a switch when
 *     the answer differs from the shard's primary.
 *   - the same check asks SENTINEL replicas NAME and gives the shard the
 *     replica to read from (pick_replica): one the sentinels list up (flags
 *     without s_down/o_down/disconnected) that answers ROLE with "slave",
 *     those with master-link-status ok first, the one it has while it
 *     qualifies; else none;
 *     the events +slave, +sdown, -sdown, +convert-to-slave and +switch-master
 *     of our masters on the subscription make the check run at once, so a
 *     replica that joins (or an old primary that returns as a replica) is
 *     read from within a second, and a replica that goes down is dropped.
 * Switches run on the main loop (uv_async) through s->ops->set_primary, the
 * manual failover's path (replicas through s->ops->set_replica; server.c
 * sets s->ops): commands in flight on the old primary's connections get
 * errors, new commands go to the new primary. The new primary must
 * answer ROLE with "master" (checked in the thread, so a dead address never
 * blocks a loop) and then PING; a switch that fails is asked again at the
 * next check.
 *
 * The threads use blocking sockets with timeouts; they only read the shard
 * table (atomics, peers are never freed) and hand addresses to the main loop.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "router/proxy.h"

#define SENT_TIMEOUT_MS 1000
#define SENT_MAX_LINE 4096
#define SENT_QUEUE 64

struct sent_switch {
    int shard;
    bool replica;               /* the shard's read replica ("" : none), else its primary */
    char addr[300];
};

struct rt_sentinel {
    struct rt_server *srv;
    uv_async_t async;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* wakes the check thread before its interval (an event came) */
    bool kick;
    struct sent_switch q[SENT_QUEUE];
    int nq;
    const char *addrs[RT_MAX_SENTINELS];
};

/* ---- a tiny blocking RESP reader ------------------------------------------ */

struct rd {
    int fd;
    char buf[SENT_MAX_LINE];
    size_t r, w;
};

static void sleep_ms(long long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int sent_connect(const char *addr, long long rcv_timeout_ms)
{
    char host[256], port[16];
    int p;
    if (!net_split_hostport(addr, host, sizeof host, &p))
        return -1;
    snprintf(port, sizeof port, "%d", p);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        struct timeval tv = {SENT_TIMEOUT_MS / 1000, (SENT_TIMEOUT_MS % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct timeval rt = {rcv_timeout_ms / 1000, (rcv_timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof rt);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

/* One CRLF-terminated line (without CRLF) into out; -1 on error, EOF or a line too long. */
static int read_line(struct rd *r, char *out, size_t outlen)
{
    for (;;) {
        for (size_t i = r->r; i + 1 < r->w; i++)
            if (r->buf[i] == '\r' && r->buf[i + 1] == '\n') {
                size_t n = i - r->r;
                if (n >= outlen)
                    return -1;
                memcpy(out, r->buf + r->r, n);
                out[n] = 0;
                r->r = i + 2;
                return 0;
            }
        if (r->r > 0) {
            memmove(r->buf, r->buf + r->r, r->w - r->r);
            r->w -= r->r;
            r->r = 0;
        }
        if (r->w == sizeof r->buf)
            return -1;
        ssize_t k = read(r->fd, r->buf + r->w, sizeof r->buf - r->w);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        r->w += (size_t)k;
    }
}

/* One element of an array: a bulk string (NULL-bulk: ""), integer or simple string, as text. */
static int read_elem(struct rd *r, char *out, size_t outlen)
{
    char line[SENT_MAX_LINE];
    if (read_line(r, line, sizeof line) != 0)
        return -1;
    if (line[0] == ':' || line[0] == '+') {
        size_t n = strlen(line + 1);
        if (n >= outlen)
            return -1;
        memcpy(out, line + 1, n + 1);
        return 0;
    }
    if (line[0] != '$')
        return -1;
    long n = strtol(line + 1, NULL, 10);
    if (n < 0) {
        *out = 0;
        return 0;
    }
    if ((size_t)n >= outlen || n >= SENT_MAX_LINE - 2)
        return -1;
    if (read_line(r, out, outlen) != 0 || strlen(out) != (size_t)n)
        return -1;
    return 0;
}

/* An array header: its count (-1 for a null array); -2 on error. */
static long read_array(struct rd *r)
{
    char line[64];
    if (read_line(r, line, sizeof line) != 0 || line[0] != '*')
        return -2;
    long n = strtol(line + 1, NULL, 10);
    return n < -1 || n > 64 ? -2 : n;
}

static void write_cmd(char *out, size_t outlen, int argc, const char *const *argv)
{
    size_t o = (size_t)snprintf(out, outlen, "*%d\r\n", argc);
    for (int i = 0; i < argc && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
}

/* ---- asking ---------------------------------------------------------------- */

static int ask_one(const char *sentinel, const char *master, char *out, size_t outlen)
{
    int fd = sent_connect(sentinel, SENT_TIMEOUT_MS);
    if (fd < 0)
        return -1;
    char cmd[512];
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", master};
    write_cmd(cmd, sizeof cmd, 3, argv);
    struct rd *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    int rc = -1;
    char ip[256], port[32];
    if (net_write_all(fd, cmd, strlen(cmd)) == 0 && read_array(r) == 2 && read_elem(r, ip, sizeof ip) == 0 &&
        read_elem(r, port, sizeof port) == 0 && *ip && atoi(port) > 0) {
        snprintf(out, outlen, "%s:%s", ip, port);
        rc = 0;
    }
    xfree(r);
    close(fd);
    return rc;
}

/* Does addr answer ROLE with want ("master" or "slave")? (A sentinel that has
 * not heard of a failover yet names the old primary: dead, or a replica by now.) */
static bool role_is(const char *addr, const char *want)
{
    int fd = sent_connect(addr, SENT_TIMEOUT_MS);
    if (fd < 0)
        return false;
    static const char role[] = "*1\r\n$4\r\nROLE\r\n";
    struct rd *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    char kind[32];
    bool ok = net_write_all(fd, role, sizeof role - 1) == 0 && read_array(r) >= 1 &&
              read_elem(r, kind, sizeof kind) == 0 && strcmp(kind, want) == 0;
    xfree(r);
    close(fd);
    return ok;
}

static bool is_master(const char *addr)
{
    return role_is(addr, "master");
}

#define SENT_MAX_REPLICAS 16

static void copy_field(char *dst, size_t n, const char *v)
{
    size_t l = strnlen(v, n - 1);
    memcpy(dst, v, l);
    dst[l] = 0;
}

/* SENTINEL replicas MASTER from one sentinel: the replicas not down
 * (flags without s_down, o_down or disconnected) into reps[] (at most
 * SENT_MAX_REPLICAS), in the sentinel's order. 0, or -1 when the sentinel
 * does not answer with a list of field/value lists. */
static int ask_replicas_one(const char *sentinel, const char *master, struct rt_sent_rep *reps, int *nreps)
{
    int fd = sent_connect(sentinel, SENT_TIMEOUT_MS);
    if (fd < 0)
        return -1;
    char cmd[512];
    const char *argv[] = {"SENTINEL", "replicas", master};
    write_cmd(cmd, sizeof cmd, 3, argv);
    struct rd *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    int rc = -1;
    *nreps = 0;
    long n = net_write_all(fd, cmd, strlen(cmd)) == 0 ? read_array(r) : -2;
    if (n < 0)
        goto out;
    for (long i = 0; i < n; i++) {
        long m = read_array(r);
        if (m < 0 || m % 2)
            goto out;
        char ip[256] = "", port[32] = "", flags[256] = "", link[32] = "";
        for (long j = 0; j < m; j += 2) {
            char k[64], v[512];
            if (read_elem(r, k, sizeof k) != 0 || read_elem(r, v, sizeof v) != 0)
                goto out;
            if (strcmp(k, "ip") == 0)
                copy_field(ip, sizeof ip, v);
            else if (strcmp(k, "port") == 0)
                copy_field(port, sizeof port, v);
            else if (strcmp(k, "flags") == 0)
                copy_field(flags, sizeof flags, v);
            else if (strcmp(k, "master-link-status") == 0)
                copy_field(link, sizeof link, v);
        }
        bool up = *ip && atoi(port) > 0 && !strstr(flags, "s_down") && !strstr(flags, "o_down") &&
                  !strstr(flags, "disconnected");
        if (up && *nreps < SENT_MAX_REPLICAS) {
            snprintf(reps[*nreps].addr, sizeof reps[*nreps].addr, "%.255s:%.31s", ip, port);
            reps[(*nreps)++].link_ok = strcmp(link, "ok") == 0;
        }
    }
    rc = 0;
out:
    xfree(r);
    close(fd);
    return rc;
}

/* The first sentinel that answers SENTINEL replicas decides; -1: none answered. */
static int ask_replicas(const struct rt_config *cfg, const char *master, struct rt_sent_rep *reps, int *nreps)
{
    for (int i = 0; i < cfg->nsentinels; i++)
        if (ask_replicas_one(cfg->sentinels[i], master, reps, nreps) == 0)
            return 0;
    return -1;
}

int rt_sentinel_ask(const struct rt_config *cfg, const char *master, char *out, size_t outlen)
{
    /* the first answer whose node says it is a master; else the first answer */
    char first[300] = "";
    for (int i = 0; i < cfg->nsentinels; i++) {
        char addr[300];
        if (ask_one(cfg->sentinels[i], master, addr, sizeof addr) != 0)
            continue;
        if (is_master(addr)) {
            snprintf(out, outlen, "%s", addr);
            return 0;
        }
        if (!*first)
            memcpy(first, addr, sizeof first);
    }
    if (!*first)
        return -1;
    snprintf(out, outlen, "%s", first);
    return 0;
}

void rt_sentinel_resolve(struct rt_config *cfg)
{
    for (int i = 0; i < cfg->npools; i++) {
        struct rt_pool_conf *p = cfg->pools[i];
        for (int j = 0; j < p->nshards; j++) {
            struct rt_shard_conf *sc = &p->shards[j];
            char addr[300];
            if (!sc->master)
                continue;
            if (rt_sentinel_ask(cfg, sc->master, addr, sizeof addr) != 0) {
                log_warn("shard %s: no sentinel names a primary for master '%s'; starting with %s",
                         sc->name ? sc->name : sc->addr, sc->master, sc->addr);
                continue;
            }
            if (!sc->name)
                sc->name = xstrdup(sc->addr); /* the configured address stays the shard's identity */
            if (strcmp(addr, sc->addr) != 0) {
                log_notice("shard %s: the sentinels name %s as the primary of '%s'", sc->name, addr, sc->master);
                xfree(sc->addr);
                sc->addr = xstrdup(addr);
            }
        }
    }
}

/* ---- switching (main loop) ------------------------------------------------------ */

/* Make the check thread run now (an event about one of our masters, or a switch done). Any thread. */
static void kick(struct rt_sentinel *st)
{
    pthread_mutex_lock(&st->lock);
    st->kick = true;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

/* Does a shard follow master (name, len bytes)? */
static bool ours(struct rt_server *s, const char *name, size_t len)
{
    int n = atomic_load(&s->nshards);
    for (int i = 0; i < n; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[i]);
        if (sh && sh->master && !atomic_load(&sh->removed) && strlen(sh->master) == len &&
            memcmp(sh->master, name, len) == 0)
            return true;
    }
    return false;
}

static void queue_switch(struct rt_sentinel *st, struct rt_shard *sh, const char *addr, bool replica)
{
    pthread_mutex_lock(&st->lock);
    bool dup = false;
    for (int i = 0; i < st->nq && !dup; i++)
        dup = st->q[i].shard == sh->id && st->q[i].replica == replica && strcmp(st->q[i].addr, addr) == 0;
    if (!dup && st->nq < SENT_QUEUE) {
        st->q[st->nq].shard = sh->id;
        st->q[st->nq].replica = replica;
        snprintf(st->q[st->nq].addr, sizeof st->q[st->nq].addr, "%s", addr);
        st->nq++;
    }
    pthread_mutex_unlock(&st->lock);
    uv_async_send(&st->async);
}

static void on_switch(uv_async_t *a)
{
    struct rt_sentinel *st = a->data;
    struct sent_switch q[SENT_QUEUE];
    pthread_mutex_lock(&st->lock);
    int n = st->nq;
    memcpy(q, st->q, (size_t)n * sizeof *q);
    st->nq = 0;
    pthread_mutex_unlock(&st->lock);
    for (int i = 0; i < n; i++) {
        struct rt_shard *sh = rt_shard_of(st->srv, q[i].shard);
        char err[512];
        if (!sh || atomic_load(&sh->removed))
            continue;
        if (q[i].replica) {
            if (st->srv->ops->set_replica(st->srv, sh, *q[i].addr ? q[i].addr : NULL, err, sizeof err) != 0)
                log_warn("shard %s: replica of sentinel master '%s' not changed (asked again at the next check): %s",
                         sh->name, sh->master, err);
            continue;
        }
        if (strcmp(atomic_load(&sh->peer)->addr, q[i].addr) == 0)
            continue;
        log_notice("shard %s: sentinel master '%s' moved to %s", sh->name, sh->master, q[i].addr);
        if (st->srv->ops->set_primary(st->srv, sh, q[i].addr, err, sizeof err) != 0)
            log_warn("shard %s: sentinel switch not applied (asked again at the next check): %s", sh->name, err);
        else
            kick(st); /* the promoted node was the replica: find the shard's replicas again */
    }
}

/* Queue a switch for every shard following master whose primary is not addr. */
static void follow(struct rt_sentinel *st, const char *master, const char *addr)
{
    struct rt_server *s = st->srv;
    int n = atomic_load(&s->nshards);
    for (int i = 0; i < n; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[i]);
        if (sh && sh->master && !atomic_load(&sh->removed) && strcmp(sh->master, master) == 0 &&
            strcmp(atomic_load(&sh->peer)->addr, addr) != 0)
            queue_switch(st, sh, addr, false);
    }
}

/* ---- threads ---------------------------------------------------------------------- */

struct sub_arg {
    struct rt_sentinel *st;
    const char *addr;
};

static void *sub_thread(void *arg)
{
    struct sub_arg *sa = arg;
    struct rt_sentinel *st = sa->st;
    long long backoff = 100;
    struct rd *r = xcalloc(1, sizeof *r);
    for (;;) {
        int fd = sent_connect(sa->addr, 0); /* no read timeout: messages come when they come */
        /* +switch-master moves a primary; the others change which replicas are readable */
        static const char sub[] = "*6\r\n$9\r\nSUBSCRIBE\r\n$14\r\n+switch-master\r\n$6\r\n+slave\r\n"
                                  "$6\r\n+sdown\r\n$6\r\n-sdown\r\n$17\r\n+convert-to-slave\r\n";
        if (fd >= 0 && net_write_all(fd, sub, sizeof sub - 1) == 0) {
            memset(r, 0, sizeof *r);
            r->fd = fd;
            bool subscribed = false;
            for (;;) {
                char kind[32], chan[64], payload[1024];
                long n = read_array(r);
                if (n != 3 || read_elem(r, kind, sizeof kind) != 0 || read_elem(r, chan, sizeof chan) != 0 ||
                    read_elem(r, payload, sizeof payload) != 0)
                    break;
                if (strcmp(kind, "subscribe") == 0) {
                    if (!subscribed)
                        log_debug("sentinel %s: subscribed to its events", sa->addr);
                    subscribed = true;
                    backoff = 100;
                    continue;
                }
                if (strcmp(kind, "message") != 0)
                    continue;
                if (strcmp(chan, "+switch-master") != 0) {
                    /* "slave H:P H P @ MASTER H P" or "master MASTER H P": the master's name */
                    const char *at = strstr(payload, " @ ");
                    const char *nm = at ? at + 3 : strncmp(payload, "master ", 7) == 0 ? payload + 7 : NULL;
                    if (nm && ours(st->srv, nm, strcspn(nm, " "))) {
                        log_debug("sentinel %s: %s %s", sa->addr, chan, payload);
                        kick(st);
                    }
                    continue;
                }
                char name[256], oip[256], oport[16], nip[256], nport[16];
                if (sscanf(payload, "%255s %255s %15s %255s %15s", name, oip, oport, nip, nport) != 5) {
                    log_warn("sentinel %s: +switch-master message not understood: %s", sa->addr, payload);
                    continue;
                }
                char addr[300];
                snprintf(addr, sizeof addr, "%s:%s", nip, nport);
                log_notice("sentinel %s: +switch-master %s", sa->addr, payload);
                if (is_master(addr))
                    follow(st, name, addr);
                else
                    log_warn("sentinel %s: %s does not answer ROLE master; the check asks again", sa->addr, addr);
            }
            log_debug("sentinel %s: subscription lost; reconnecting", sa->addr);
        }
        if (fd >= 0)
            close(fd);
        sleep_ms(backoff);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    return NULL;
}

/* (see proxy.h) */
int rt_sentinel_pick_replica(const struct rt_sent_rep *reps, int n, const char *cur, const char *primary,
                             const char *paddr, bool (*is_replica)(const char *addr))
{
    for (int tier = 0; tier < 2; tier++) {
        bool want_ok = tier == 0;
        for (int pass = 0; pass < 2; pass++) /* the current one first, then the others in order */
            for (int k = 0; k < n; k++) {
                bool is_cur = cur && strcmp(reps[k].addr, cur) == 0;
                if (reps[k].link_ok == want_ok && is_cur == (pass == 0) && strcmp(reps[k].addr, primary) != 0 &&
                    strcmp(reps[k].addr, paddr) != 0 && is_replica(reps[k].addr))
                    return k;
            }
    }
    return -1;
}

static bool is_slave(const char *addr)
{
    return role_is(addr, "slave");
}

/* The replica sh should read from ("" : none); check thread. */
static void pick_replica(struct rt_shard *sh, const char *primary, const struct rt_sent_rep *reps, int n, char *out,
                         size_t outlen)
{
    struct net_peer *cur = atomic_load(&sh->replica);
    int k = rt_sentinel_pick_replica(reps, n, cur ? cur->addr : NULL, primary, atomic_load(&sh->peer)->addr,
                                     is_slave);
    *out = 0;
    if (k >= 0)
        copy_field(out, outlen, reps[k].addr);
}

static void check_shard(struct rt_sentinel *st, struct rt_shard *sh, int i)
{
    struct rt_server *s = st->srv;
    /* the last unverified answer warned about per shard (one warning, not one per check) */
    static char warned[RT_MAX_SHARDS][300];
    char addr[300];
    if (rt_sentinel_ask(&s->cfg, sh->master, addr, sizeof addr) != 0) {
        snprintf(addr, sizeof addr, "%s", atomic_load(&sh->peer)->addr);
    } else if (strcmp(atomic_load(&sh->peer)->addr, addr) != 0) {
        /* checked here, off the main loop: a dead or unroutable address never blocks the workers */
        if (!is_master(addr)) {
            if (strcmp(warned[i], addr) != 0)
                log_warn("shard %s: the sentinels name %s as the primary of '%s' but it does not answer ROLE "
                         "master; the primary stays %s", sh->name, addr, sh->master, atomic_load(&sh->peer)->addr);
            snprintf(warned[i], sizeof warned[i], "%s", addr);
        } else {
            warned[i][0] = 0;
            log_notice("shard %s: the sentinels name %s as the primary of '%s' (check)", sh->name, addr, sh->master);
            queue_switch(st, sh, addr, false);
        }
    }
    struct rt_sent_rep reps[SENT_MAX_REPLICAS];
    char want[300];
    int nr = 0;
    if (ask_replicas(&s->cfg, sh->master, reps, &nr) != 0)
        return; /* no sentinel answered: keep what we have */
    pick_replica(sh, addr, reps, nr, want, sizeof want);
    struct net_peer *cur = atomic_load(&sh->replica);
    if (strcmp(want, cur ? cur->addr : "") != 0)
        queue_switch(st, sh, want, true);
}

static void *poll_thread(void *arg)
{
    struct rt_sentinel *st = arg;
    struct rt_server *s = st->srv;
    for (;;) {
        int n = atomic_load(&s->nshards);
        for (int i = 0; i < n; i++) {
            struct rt_shard *sh = atomic_load(&s->shards[i]);
            if (sh && sh->master && !atomic_load(&sh->removed))
                check_shard(st, sh, i);
        }
        /* until the interval is over or an event kicks us */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        long long ns = until.tv_nsec + (s->cfg.sentinel_poll_ms % 1000) * 1000000LL;
        until.tv_sec += (time_t)(s->cfg.sentinel_poll_ms / 1000 + ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        pthread_mutex_lock(&st->lock);
        while (!st->kick && pthread_cond_timedwait(&st->cond, &st->lock, &until) == 0) {
        }
        st->kick = false;
        pthread_mutex_unlock(&st->lock);
    }
    return NULL;
}

void rt_sentinel_start(struct rt_server *s)
{
    bool any = false;
    int n = atomic_load(&s->nshards);
    for (int i = 0; i < n && !any; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[i]);
        any = sh && sh->master;
    }
    if (!any || s->cfg.nsentinels == 0)
        return;
    struct rt_sentinel *st = xcalloc(1, sizeof *st);
    st->srv = s;
    pthread_mutex_init(&st->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cond, &ca);
    pthread_condattr_destroy(&ca);
    uv_async_init(&s->workers[0].loop, &st->async, on_switch);
    st->async.data = st;
    uv_unref((uv_handle_t *)&st->async); /* the loop ends when the router drains */
    s->sent = st;
    pthread_t t;
    for (int i = 0; i < s->cfg.nsentinels; i++) {
        struct sub_arg *sa = xcalloc(1, sizeof *sa);
        sa->st = st;
        sa->addr = s->cfg.sentinels[i];
        if (pthread_create(&t, NULL, sub_thread, sa) == 0)
            pthread_detach(t);
        else
            log_warn("sentinel %s: no subscriber thread", sa->addr);
    }
    if (pthread_create(&t, NULL, poll_thread, st) == 0)
        pthread_detach(t);
    log_notice("following %d sentinel%s for the primaries of shards with a master name", s->cfg.nsentinels,
               s->cfg.nsentinels == 1 ? "" : "s");
}
