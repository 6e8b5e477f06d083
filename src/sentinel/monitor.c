/*
 * monitor.c — what the sentinel watches and how it fails over (Redis
 * Sentinel's algorithm, sentinel.c, over plain Redis replication commands).
 *
 * Every 100 ms (snt_monitor_tick), for each monitored master:
 *
 *   master, replicas ── PING every 1 s, INFO every 10 s (1 s in odown/failover),
 *                       PUBLISH __sentinel__:hello every 2 s, SUBSCRIBE to it
 *   other sentinels ─── PING every 1 s; SENTINEL is-master-down-by-addr every
 *                       1 s while we think the master is down (votes)
 *
 *   sdown: no valid PING reply for down-after-milliseconds
 *   odown: sdown here and, with the other sentinels' answers, >= quorum
 *   failover (odown, none within 2 x failover-timeout):
 *     WAIT_START ─ epoch+1, ask for votes; leader = majority of all known
 *                  sentinels and >= quorum (first request in an epoch wins a vote)
 *     SELECT_SLAVE ─ not down, priority > 0, lowest priority, highest offset,
 *                    lowest runid
 *     SEND_SLAVEOF_NOONE ─ REPLICAOF NO ONE
 *     WAIT_PROMOTION ─ until its INFO says role:master
 *     RECONF_SLAVES ─ REPLICAOF newip newport to the others (parallel-syncs)
 *     UPDATE_CONFIG ─ +switch-master; the old master becomes a replica entry,
 *                     converted with REPLICAOF when it answers again.
 *   The other sentinels learn the new address from hello messages carrying a
 *   higher master config epoch.
 *
 * Instances are never freed while the process runs: a reset moves them to a
 * graveyard so that no callback in flight can see freed memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/util.h"
#include "sentinel/sentinel.h"

#define PING_PERIOD 1000
#define INFO_PERIOD 10000
#define INFO_PERIOD_FAST 1000
#define HELLO_PERIOD 2000
#define ASK_PERIOD 1000
#define HELLO_CHANNEL "__sentinel__:hello"

struct snt_state snt;

static long long now_ms(void) { return util_time_ms(); }

/* server.c's up-calls, set at snt_monitor_init (NULL in unit tests) */
static const struct snt_monitor_ops *mon_ops;

static void publish(const char *channel, const char *payload)
{
    if (mon_ops && mon_ops->publish)
        mon_ops->publish(channel, payload);
}

/* ---- instances ----------------------------------------------------------- */

static void inst_init(struct snt_inst *i, enum snt_kind k, struct snt_master *m, const char *host, int port)
{
    i->kind = k;
    i->m = m;
    snprintf(i->host, sizeof i->host, "%s", host);
    i->port = port;
    i->created_ms = i->last_avail_ms = i->last_pong_ms = now_ms();
    i->priority = 100;
    i->cmd = snt_link_new(snt.loop, host, port);
}

static struct snt_inst *inst_new(enum snt_kind k, struct snt_master *m, const char *host, int port)
{
    struct snt_inst *i = xcalloc(1, sizeof *i);
    inst_init(i, k, m, host, port);
    return i;
}

static void inst_bury(struct snt_inst *i)
{
    i->dead = true;
    if (i->cmd)
        snt_link_drop(i->cmd);
    if (i->sub)
        snt_link_drop(i->sub);
    snt.graveyard = xrealloc(snt.graveyard, (size_t)(snt.ngrave + 1) * sizeof *snt.graveyard);
    snt.graveyard[snt.ngrave++] = i;
}

static struct snt_master *owner(const struct snt_inst *i)
{
    return i->kind == SNT_MASTER ? (struct snt_master *)i : i->m;
}

bool snt_inst_sdown(const struct snt_inst *i) { return i->sdown_since_ms != 0; }

static void link_addr(struct snt_inst *i, const char *host, int port)
{
    snprintf(i->host, sizeof i->host, "%s", host);
    i->port = port;
    snt_link_free(i->cmd);
    i->cmd = snt_link_new(snt.loop, host, port);
    if (i->sub) {
        snt_link_free(i->sub);
        i->sub = NULL;
    }
}

static struct snt_inst *find_replica(struct snt_master *m, const char *host, int port)
{
    for (int k = 0; k < m->nreplicas; k++)
        if (m->replicas[k]->port == port && strcmp(m->replicas[k]->host, host) == 0)
            return m->replicas[k];
    return NULL;
}

static struct snt_inst *add_replica(struct snt_master *m, const char *host, int port)
{
    struct snt_inst *r = find_replica(m, host, port);
    if (r)
        return r;
    r = inst_new(SNT_REPLICA, m, host, port);
    m->replicas = xrealloc(m->replicas, (size_t)(m->nreplicas + 1) * sizeof *m->replicas);
    m->replicas[m->nreplicas++] = r;
    snt_event_inst("+slave", r, NULL);
    return r;
}

struct snt_master *snt_master_by_name(const char *name, size_t len)
{
    for (int k = 0; k < snt.nmasters; k++)
        if (strlen(snt.masters[k]->name) == len && memcmp(snt.masters[k]->name, name, len) == 0)
            return snt.masters[k];
    return NULL;
}

struct snt_master *snt_master_by_addr(const char *host, int port)
{
    for (int k = 0; k < snt.nmasters; k++)
        if (snt.masters[k]->self.port == port && strcmp(snt.masters[k]->self.host, host) == 0)
            return snt.masters[k];
    return NULL;
}

/* ---- events ------------------------------------------------------------- */

/* An instance's name as Redis's Sentinel names it: the master's configured
 * name, a replica's ip:port, another sentinel's run id (its ip:port until
 * its first hello tells the id). */
void snt_inst_name(const struct snt_inst *i, char *out, size_t len)
{
    if (i->kind == SNT_MASTER)
        snprintf(out, len, "%s", owner(i)->name);
    else if (i->kind == SNT_SENTINEL && i->runid[0])
        snprintf(out, len, "%s", i->runid);
    else
        snprintf(out, len, "%s:%d", i->host, i->port);
}

void snt_event_inst(const char *type, const struct snt_inst *i, const char *extra)
{
    char payload[512], name[96];
    const struct snt_master *m = owner(i);
    snt_inst_name(i, name, sizeof name);
    if (i->kind == SNT_MASTER)
        snprintf(payload, sizeof payload, "master %s %s %d%s%s", name, i->host, i->port, extra ? " " : "",
                 extra ? extra : "");
    else
        snprintf(payload, sizeof payload, "%s %s %s %d @ %s %s %d%s%s", i->kind == SNT_REPLICA ? "slave" : "sentinel",
                 name, i->host, i->port, m->name, m->self.host, m->self.port, extra ? " " : "", extra ? extra : "");
    log_notice("%s %s", type, payload);
    publish(type, payload);
}

const char *snt_fo_state_name(enum snt_fo_state s)
{
    static const char *names[] = {"none", "wait_start", "select_slave", "send_slaveof_noone",
                                  "wait_promotion", "reconf_slaves", "update_config"};
    return names[s];
}

void snt_inst_flags(const struct snt_inst *i, struct buf *out)
{
    const char *k = i->kind == SNT_MASTER ? "master" : i->kind == SNT_REPLICA ? "slave" : "sentinel";
    buf_puts(out, k);
    if (i->sdown_since_ms)
        buf_puts(out, ",s_down");
    if (i->kind == SNT_MASTER && ((const struct snt_master *)i)->odown_since_ms)
        buf_puts(out, ",o_down");
    if (i->kind == SNT_SENTINEL && i->master_down)
        buf_puts(out, ",master_down");
    if (!snt_link_up(i->cmd))
        buf_puts(out, ",disconnected");
    if (i->kind == SNT_MASTER && ((const struct snt_master *)i)->fo != SNT_FO_NONE)
        buf_puts(out, ",failover_in_progress");
    if (i->kind == SNT_REPLICA && i->m->promoted == i)
        buf_puts(out, ",promoted");
    if (i->kind == SNT_REPLICA && i->reconf == SNT_RECONF_SENT)
        buf_puts(out, ",reconf_sent");
    if (i->kind == SNT_REPLICA && i->reconf == SNT_RECONF_INPROG)
        buf_puts(out, ",reconf_inprog");
    if (i->kind == SNT_REPLICA && i->reconf == SNT_RECONF_DONE)
        buf_puts(out, ",reconf_done");
}

/* ---- replies ------------------------------------------------------------ */

static void on_ping(struct snt_link *l, const struct snt_val *v, void *ctx)
{
    struct snt_inst *i = ctx;
    if (i->dead || !v)
        return;
    i->last_pong_ms = now_ms();
    log_debug("reply to PING from %s:%d: %c %.*s", i->host, i->port, v->type, (int)v->len, v->s ? v->s : "");
    /* PONG, LOADING, MASTERDOWN count as available (Redis) */
    if ((v->type == '+' && v->len == 4 && memcmp(v->s, "PONG", 4) == 0) ||
        (v->type == '-' && (v->len >= 7 && (memcmp(v->s, "LOADING", 7) == 0 || memcmp(v->s, "MASTERDOWN", 10 <= v->len ? 10 : v->len) == 0)))) {
        i->last_avail_ms = now_ms();
        i->ping_sent_ms = 0;
    }
}

/* Any reply ends the PING in flight on this connection; only a valid one
 * (above) clears ping_sent_ms, the oldest unanswered PING, which outlives
 * reconnections as Redis's act_ping_time does. */
static void on_ping_reply(struct snt_link *l, const struct snt_val *v, void *ctx)
{
    struct snt_inst *i = ctx;
    if (!i->dead && v)
        i->ping_inflight = false;
    on_ping(l, v, ctx);
}

static bool info_field(const char *line, size_t n, const char *key, const char **val, size_t *vlen)
{
    size_t k = strlen(key);
    if (n <= k || memcmp(line, key, k) != 0 || line[k] != ':')
        return false;
    *val = line + k + 1;
    *vlen = n - k - 1;
    return true;
}

static long long to_ll(const char *s, size_t n, long long def)
{
    long long v;
    return util_str2ll(s, n, &v) ? v : def;
}

static void convert_to_replica(struct snt_inst *i, const char *host, int port, const char *event)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    const char *argv[] = {"REPLICAOF", host, p};
    if (snt_link_cmd(i->cmd, NULL, NULL, 3, argv) == 0)
        snt_event_inst(event, i, NULL);
}

static void on_info(struct snt_link *l, const struct snt_val *v, void *ctx)
{
    struct snt_inst *i = ctx;
    if (i->dead || !v || v->type != '$')
        return;
    struct snt_master *m = owner(i);
    long long now = now_ms();
    i->last_info_ms = i->info_rx_ms = now;
    char oldrole[16];
    snprintf(oldrole, sizeof oldrole, "%s", i->role);
    i->mhost[0] = 0;
    i->mport = 0;
    i->mlink_up = false;
    const char *p = v->s, *end = v->s + v->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        const char *val;
        size_t vl;
        if (info_field(p, n, "run_id", &val, &vl) && vl == 40) {
            memcpy(i->runid, val, 40);
            i->runid[40] = 0;
        } else if (info_field(p, n, "role", &val, &vl)) {
            snprintf(i->role, sizeof i->role, "%.*s", (int)(vl < 15 ? vl : 15), val);
        } else if (info_field(p, n, "master_host", &val, &vl)) {
            snprintf(i->mhost, sizeof i->mhost, "%.*s", (int)(vl < 63 ? vl : 63), val);
        } else if (info_field(p, n, "master_port", &val, &vl)) {
            i->mport = (int)to_ll(val, vl, 0);
        } else if (info_field(p, n, "master_link_status", &val, &vl)) {
            i->mlink_up = vl == 2 && memcmp(val, "up", 2) == 0;
        } else if (info_field(p, n, "slave_priority", &val, &vl) || info_field(p, n, "replica_priority", &val, &vl)) {
            i->priority = to_ll(val, vl, 100);
        } else if (info_field(p, n, "slave_repl_offset", &val, &vl)) {
            i->offset = to_ll(val, vl, 0);
        } else if (i->kind == SNT_MASTER && n > 5 && memcmp(p, "slave", 5) == 0 && p[5] >= '0' && p[5] <= '9') {
            /* slaveN:ip=...,port=...,state=...,offset=...,lag=... */
            const char *c = memchr(p, ':', n);
            char host[64] = "";
            int port = 0;
            while (c && c < p + n) {
                c++;
                const char *e = memchr(c, ',', (size_t)(p + n - c));
                if (!e)
                    e = p + n;
                if ((size_t)(e - c) > 3 && memcmp(c, "ip=", 3) == 0)
                    snprintf(host, sizeof host, "%.*s", (int)(e - c - 3 < 63 ? e - c - 3 : 63), c + 3);
                else if ((size_t)(e - c) > 5 && memcmp(c, "port=", 5) == 0)
                    port = (int)to_ll(c + 5, (size_t)(e - c - 5), 0);
                c = e;
            }
            if (host[0] && port > 0)
                add_replica(m, host, port);
        }
        p = nl ? nl + 1 : end;
    }
    if (strcmp(oldrole, i->role) != 0)
        i->role_time_ms = now;
    if (i->mlink_up)
        i->mlink_down_since_ms = 0;
    else if (!i->mlink_down_since_ms)
        i->mlink_down_since_ms = now;

    if (i->kind != SNT_REPLICA)
        return;
    bool is_master = strcmp(i->role, "master") == 0;
    /* promotion seen */
    if (is_master && m->fo == SNT_FO_WAIT_PROMOTION && m->promoted == i) {
        m->config_epoch = m->fo_epoch;
        m->fo = SNT_FO_RECONF_SLAVES;
        m->fo_state_ms = now;
        snt_event_inst("+promoted-slave", i, NULL);
        snt_event_inst("+failover-state-reconf-slaves", &m->self, NULL);
        return;
    }
    /* a replica that claims to be a master outside a failover (the old master
     * back): make it a replica of the current master */
    if (is_master && m->fo == SNT_FO_NONE && !snt_inst_sdown(&m->self) && now - i->role_time_ms > 4 * INFO_PERIOD_FAST &&
        snt_link_up(m->self.cmd) && strcmp(m->self.role, "master") == 0) {
        convert_to_replica(i, m->self.host, m->self.port, "+convert-to-slave");
        return;
    }
    if (!is_master && i->mport && m->fo == SNT_FO_NONE && !snt_inst_sdown(&m->self) &&
        (i->mport != m->self.port || strcmp(i->mhost, m->self.host) != 0) && strcmp(m->self.role, "master") == 0 &&
        now - m->self.last_info_ms < 2 * INFO_PERIOD) {
        convert_to_replica(i, m->self.host, m->self.port, "+fix-slave-config");
        return;
    }
    /* reconfiguration progress */
    if (m->fo == SNT_FO_RECONF_SLAVES && m->promoted && i->reconf != SNT_RECONF_NONE &&
        i->mport == m->promoted->port && strcmp(i->mhost, m->promoted->host) == 0) {
        if (i->reconf == SNT_RECONF_SENT) {
            i->reconf = SNT_RECONF_INPROG;
            snt_event_inst("+slave-reconf-inprog", i, NULL);
        }
        if (i->reconf == SNT_RECONF_INPROG && i->mlink_up) {
            i->reconf = SNT_RECONF_DONE;
            snt_event_inst("+slave-reconf-done", i, NULL);
        }
    }
}

/* ---- hello ---------------------------------------------------------------- */

const struct snt_inst *snt_current_addr(const struct snt_master *m)
{
    /* from the reconfiguration on, the promoted replica is the master (Redis's
     * sentinelGetCurrentMasterAddress): hellos carry it with the new config
     * epoch, and clients asking get-master-addr-by-name get it */
    if (m->fo >= SNT_FO_RECONF_SLAVES && m->promoted)
        return m->promoted;
    return &m->self;
}

static void hello_payload(struct snt_master *m, char *out, size_t n)
{
    const struct snt_inst *a = snt_current_addr(m);
    snprintf(out, n, "%s,%d,%s,%lld,%s,%s,%d,%lld", snt.announce_ip, snt.announce_port, snt.myid, snt.current_epoch,
             m->name, a->host, a->port, m->config_epoch);
}

static struct snt_inst *find_sentinel(struct snt_master *m, const char *runid, const char *host, int port)
{
    for (int k = 0; k < m->nsentinels; k++) {
        struct snt_inst *s = m->sentinels[k];
        if ((runid && strcmp(s->runid, runid) == 0) || (host && s->port == port && strcmp(s->host, host) == 0))
            return s;
    }
    return NULL;
}

static void process_hello(const char *msg, size_t len)
{
    char buf[512];
    if (len >= sizeof buf)
        return;
    memcpy(buf, msg, len);
    buf[len] = 0;
    char *f[8];
    int nf = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t && nf < 8; t = strtok_r(NULL, ",", &save))
        f[nf++] = t;
    if (nf != 8 || strlen(f[2]) != 40)
        return;
    if (strcmp(f[2], snt.myid) == 0)
        return;
    int port = atoi(f[1]), mport = atoi(f[6]);
    long long epoch = atoll(f[3]), mepoch = atoll(f[7]);
    struct snt_master *m = snt_master_by_name(f[4], strlen(f[4]));
    if (!m || port <= 0)
        return;
    struct snt_inst *s = find_sentinel(m, f[2], NULL, 0);
    if (!s) {
        /* same address, new runid: the sentinel restarted */
        struct snt_inst *old = find_sentinel(m, NULL, f[0], port);
        if (old) {
            for (int k = 0; k < m->nsentinels; k++)
                if (m->sentinels[k] == old) {
                    m->sentinels[k] = m->sentinels[--m->nsentinels];
                    break;
                }
            inst_bury(old);
        }
        s = inst_new(SNT_SENTINEL, m, f[0], port);
        memcpy(s->runid, f[2], 41);
        m->sentinels = xrealloc(m->sentinels, (size_t)(m->nsentinels + 1) * sizeof *m->sentinels);
        m->sentinels[m->nsentinels++] = s;
        snt_event_inst("+sentinel", s, NULL);
    }
    s->last_hello_ms = now_ms();
    if (epoch > snt.current_epoch) {
        snt.current_epoch = epoch;
        char e[32];
        snprintf(e, sizeof e, "%lld", epoch);
        publish("+new-epoch", e);
    }
    /* a newer configuration of this master */
    if (mepoch > m->config_epoch && (mport != m->self.port || strcmp(f[5], m->self.host) != 0)) {
        snt_event_inst("+config-update-from", s, NULL);
        char oldhost[64];
        int oldport = m->self.port;
        snprintf(oldhost, sizeof oldhost, "%s", m->self.host);
        m->config_epoch = mepoch;
        /* the replicas: everything we knew except the new master, plus the old master */
        struct snt_inst *nm = find_replica(m, f[5], mport);
        if (nm) {
            for (int k = 0; k < m->nreplicas; k++)
                if (m->replicas[k] == nm) {
                    m->replicas[k] = m->replicas[--m->nreplicas];
                    break;
                }
            inst_bury(nm);
        }
        link_addr(&m->self, f[5], mport);
        m->self.sdown_since_ms = 0;
        m->odown_since_ms = 0;
        m->self.last_avail_ms = m->self.last_pong_ms = now_ms();
        m->self.ping_sent_ms = 0;
        m->self.ping_inflight = false;
        m->self.runid[0] = 0;
        m->fo = SNT_FO_NONE;
        m->fo_start_ms = -(1LL << 40);   /* Redis's sentinelResetMaster: the new master can fail over at once */
        m->promoted = NULL;
        add_replica(m, oldhost, oldport);
        char payload[512];
        snprintf(payload, sizeof payload, "%s %s %d %s %d", m->name, oldhost, oldport, f[5], mport);
        log_notice("+switch-master %s", payload);
        publish("+switch-master", payload);
    } else if (mepoch > m->config_epoch) {
        m->config_epoch = mepoch;
    }
}

static void on_hello_push(struct snt_link *l, const struct snt_val *v, void *ctx)
{
    /* message channel payload */
    const struct snt_val *payload = &v->elems[v->n - 1];
    if (payload->type == '$')
        process_hello(payload->s, payload->len);
}

/* ---- votes ---------------------------------------------------------------- */

const char *snt_vote(struct snt_master *m, long long req_epoch, const char *req_runid, long long *epoch)
{
    if (req_epoch > snt.current_epoch) {
        snt.current_epoch = req_epoch;
        char e[32];
        snprintf(e, sizeof e, "%lld", req_epoch);
        publish("+new-epoch", e);
    }
    if (m->leader_epoch < req_epoch && snt.current_epoch <= req_epoch) {
        snprintf(m->leader, sizeof m->leader, "%s", req_runid);
        m->leader_epoch = snt.current_epoch;
        char extra[96];
        snprintf(extra, sizeof extra, "%s %lld", m->leader, m->leader_epoch);
        snt_event_inst("+vote-for-leader", &m->self, extra);
        /* voted for someone else: do not start our own failover right away */
        if (strcmp(m->leader, snt.myid) != 0)
            m->fo_start_ms = now_ms() + rand64() % 1000;
    }
    *epoch = m->leader_epoch;
    return m->leader[0] ? m->leader : NULL;
}

static void on_down_reply(struct snt_link *l, const struct snt_val *v, void *ctx)
{
    struct snt_inst *s = ctx;
    if (s->dead || !v)
        return;
    s->last_pong_ms = now_ms();
    if (v->type != '*' || v->n != 3 || v->elems[0].type != ':' || v->elems[1].type != '$' || v->elems[2].type != ':')
        return;
    s->master_down = v->elems[0].i == 1;
    s->down_reply_ms = now_ms();
    if (!(v->elems[1].len == 1 && v->elems[1].s[0] == '*') && v->elems[1].len <= 40) {
        snprintf(s->leader, sizeof s->leader, "%.*s", (int)v->elems[1].len, v->elems[1].s);
        s->leader_epoch = v->elems[2].i;
    }
}

static void ask_others(struct snt_master *m, bool force)
{
    long long now = now_ms();
    for (int k = 0; k < m->nsentinels; k++) {
        struct snt_inst *s = m->sentinels[k];
        if (now - s->down_reply_ms > 5 * ASK_PERIOD) {
            s->master_down = false;
            s->leader[0] = 0;
            s->leader_epoch = 0;
        }
        if (!snt_inst_sdown(&m->self) || !snt_link_up(s->cmd))
            continue;
        if (!force && now - s->down_reply_ms < ASK_PERIOD)
            continue;
        char port[16], epoch[32];
        snprintf(port, sizeof port, "%d", m->self.port);
        snprintf(epoch, sizeof epoch, "%lld", snt.current_epoch);
        const char *argv[] = {"SENTINEL", "is-master-down-by-addr", m->self.host, port, epoch,
                              m->fo > SNT_FO_NONE ? snt.myid : "*"};
        s->down_reply_ms = now - ASK_PERIOD + 200;   /* no second request before the answer */
        log_debug("is-master-down-by-addr -> %s:%d epoch %s runid %s", s->host, s->port, epoch, argv[5]);
        snt_link_cmd(s->cmd, on_down_reply, s, 6, argv);
    }
}

/* ---- periodic work per instance --------------------------------------------- */

static void tick_inst(struct snt_inst *i)
{
    struct snt_master *m = owner(i);
    long long now = now_ms();
    if (!snt_link_up(i->cmd)) {
        if (i->cmd->state == SNT_LINK_CLOSED)
            snt_link_connect(i->cmd);
        i->ping_inflight = false; /* lost with the link; ping_sent_ms stays (Redis) */
    }
    if (i->kind != SNT_SENTINEL) {
        if (!i->sub)
            i->sub = snt_link_new(snt.loop, i->host, i->port);
        if (i->sub->state == SNT_LINK_CLOSED)
            snt_link_connect(i->sub);
        else if (i->sub->state == SNT_LINK_UP && !i->sub->on_push) {
            const char *argv[] = {"SUBSCRIBE", HELLO_CHANNEL};
            i->sub->on_push = on_hello_push;
            snt_link_cmd(i->sub, NULL, NULL, 2, argv);
        }
        if (i->sub->state != SNT_LINK_UP)
            i->sub->on_push = NULL;
    }
    if (snt_link_up(i->cmd)) {
        /* a PING pending for half down-after: the link may be stuck, reconnect.
         * The oldest unanswered PING's time stays: a peer that accepts
         * connections but never answers (a stopped process: the kernel
         * accepts for it) still goes subjectively down. */
        if (i->ping_inflight && now - i->last_ping_ms > m->down_after_ms / 2 &&
            now - i->cmd->connected_ms > m->down_after_ms / 2) {
            snt_link_drop(i->cmd);
            i->ping_inflight = false;
            return;
        }
        long long ping_period = m->down_after_ms < PING_PERIOD ? m->down_after_ms : PING_PERIOD;
        if (!i->ping_inflight && now - i->last_ping_ms >= ping_period) {
            const char *argv[] = {"PING"};
            log_debug("PING %s:%d", i->host, i->port);
            if (snt_link_cmd(i->cmd, on_ping_reply, i, 1, argv) == 0) {
                i->ping_inflight = true;
                i->last_ping_ms = now;
                if (!i->ping_sent_ms)
                    i->ping_sent_ms = now;
            }
        }
        if (i->kind != SNT_SENTINEL) {
            long long period = (m->fo != SNT_FO_NONE || m->odown_since_ms || (i->kind == SNT_MASTER && !i->last_info_ms))
                                   ? INFO_PERIOD_FAST : INFO_PERIOD;
            /* the master down, or a replica that says it is a master (the old
             * master back) or is down: watch it closely */
            if (i->kind == SNT_REPLICA && (snt_inst_sdown(&m->self) || snt_inst_sdown(i) || strcmp(i->role, "master") == 0))
                period = INFO_PERIOD_FAST;
            if (i->reconf == SNT_RECONF_SENT || i->reconf == SNT_RECONF_INPROG)
                period = 300;   /* a replica being repointed: its link comes up soon */
            if (!i->last_info_ms || now - i->last_info_ms >= period) {
                const char *argv[] = {"INFO"};
                if (snt_link_cmd(i->cmd, on_info, i, 1, argv) == 0)
                    i->last_info_ms = now - period + 1000;   /* re-ask in 1 s if no answer */
            }
            if (now - i->last_hello_sent_ms >= HELLO_PERIOD) {
                char payload[512];
                hello_payload(m, payload, sizeof payload);
                const char *argv[] = {"PUBLISH", HELLO_CHANNEL, payload};
                if (snt_link_cmd(i->cmd, NULL, NULL, 3, argv) == 0)
                    i->last_hello_sent_ms = now;
            }
        }
    }
    /* subjective down */
    /* Redis: time since the oldest unanswered PING, or since the last valid
     * reply while disconnected */
    bool down = i->ping_sent_ms ? now - i->ping_sent_ms > m->down_after_ms
                                : !snt_link_up(i->cmd) && now - i->last_avail_ms > m->down_after_ms;
    if (down && !i->sdown_since_ms) {
        i->sdown_since_ms = now;
        snt_event_inst("+sdown", i, NULL);
    } else if (!down && i->sdown_since_ms) {
        i->sdown_since_ms = 0;
        snt_event_inst("-sdown", i, NULL);
    }
}

/* ---- failover --------------------------------------------------------------- */

static void abort_failover(struct snt_master *m, const char *why)
{
    snt_event_inst(why, &m->self, NULL);
    if (m->promoted)
        m->promoted = NULL;
    for (int k = 0; k < m->nreplicas; k++)
        m->replicas[k]->reconf = SNT_RECONF_NONE;
    m->fo = SNT_FO_NONE;
    m->fo_forced = false;
}

static void start_failover(struct snt_master *m, bool forced)
{
    snt.current_epoch++;
    m->fo_epoch = snt.current_epoch;
    m->fo = forced ? SNT_FO_SELECT_SLAVE : SNT_FO_WAIT_START;
    m->fo_forced = forced;
    m->fo_start_ms = now_ms();
    m->fo_state_ms = now_ms();
    char e[32];
    snprintf(e, sizeof e, "%lld", snt.current_epoch);
    publish("+new-epoch", e);
    snt_event_inst("+try-failover", &m->self, NULL);
}

static const char *get_leader(struct snt_master *m, int *votes_out)
{
    /* voters: every sentinel we know plus us */
    int voters = m->nsentinels + 1;
    struct tally {
        const char *id;
        int n;
    } tally[64];
    int nt = 0;
    for (int k = 0; k < m->nsentinels && nt < 63; k++) {
        struct snt_inst *s = m->sentinels[k];
        if (!s->leader[0] || s->leader_epoch != m->fo_epoch)
            continue;
        int t = 0;
        while (t < nt && strcmp(tally[t].id, s->leader) != 0)
            t++;
        if (t == nt)
            tally[nt++] = (struct tally){s->leader, 0};
        tally[t].n++;
    }
    /* our own vote: for the most voted, or ourselves */
    const char *best = NULL;
    int bestn = 0;
    for (int t = 0; t < nt; t++)
        if (tally[t].n > bestn)
            best = tally[t].id, bestn = tally[t].n;
    long long e;
    const char *mine = snt_vote(m, m->fo_epoch, best ? best : snt.myid, &e);
    if (mine && e == m->fo_epoch) {
        int t = 0;
        while (t < nt && strcmp(tally[t].id, mine) != 0)
            t++;
        if (t == nt && nt < 64)
            tally[nt++] = (struct tally){mine, 0};
        if (t < nt)
            tally[t].n++;
    }
    best = NULL;
    bestn = 0;
    for (int t = 0; t < nt; t++)
        if (tally[t].n > bestn)
            best = tally[t].id, bestn = tally[t].n;
    *votes_out = bestn;
    int need = voters / 2 + 1;
    if (need < m->quorum)
        need = m->quorum;
    return bestn >= need ? best : NULL;
}

static int cmp_replica(const void *a, const void *b)
{
    const struct snt_inst *x = *(struct snt_inst *const *)a, *y = *(struct snt_inst *const *)b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset > y->offset ? -1 : 1;
    return strcmp(x->runid, y->runid);   /* an empty runid sorts first as Redis's NULL does */
}

static struct snt_inst *select_replica(struct snt_master *m)
{
    long long now = now_ms();
    struct snt_inst **c = xmalloc(((size_t)m->nreplicas + 1) * sizeof *c);
    int n = 0;
    for (int k = 0; k < m->nreplicas; k++) {
        struct snt_inst *r = m->replicas[k];
        if (snt_inst_sdown(r) || !snt_link_up(r->cmd) || now - r->last_avail_ms > 5 * PING_PERIOD || r->priority == 0 ||
            now - r->last_info_ms > 3 * INFO_PERIOD_FAST + 1000 || strcmp(r->role, "slave") != 0)
            continue;
        c[n++] = r;
    }
    struct snt_inst *best = NULL;
    if (n) {
        qsort(c, (size_t)n, sizeof *c, cmp_replica);
        best = c[0];
    }
    xfree(c);
    return best;
}

/* Whether every candidate replica's offset was read after the master went
 * down (this sentinel's sdown time). An older INFO may rank first a replica
 * that missed the last writes, and the writes a WAIT acknowledged on the
 * other one would then be lost when it resyncs from the promoted one. Asks
 * the stale ones for INFO (every 300 ms at most). Returns true when fresh. */
static bool offsets_fresh(struct snt_master *m, long long now)
{
    long long since = m->self.sdown_since_ms;
    bool fresh = true;
    if (!since)
        return true;   /* forced failover: the master is up */
    for (int k = 0; k < m->nreplicas; k++) {
        struct snt_inst *r = m->replicas[k];
        if (snt_inst_sdown(r) || !snt_link_up(r->cmd) || r->info_rx_ms >= since || strcmp(r->role, "slave") != 0)
            continue;
        fresh = false;
        if (now - r->info_ask_ms >= 300) {
            const char *argv[] = {"INFO"};
            if (snt_link_cmd(r->cmd, on_info, r, 1, argv) == 0)
                r->info_ask_ms = now;
        }
    }
    return fresh;
}

static void on_noone(struct snt_link *l, const struct snt_val *v, void *ctx)
{
    struct snt_inst *r = ctx;
    if (r->dead || !v)
        return;
    if (v->type == '-')
        log_warn("REPLICAOF NO ONE refused by %s:%d: %.*s", r->host, r->port, (int)v->len, v->s);
}

static void finish_failover(struct snt_master *m)
{
    struct snt_inst *p = m->promoted;
    char oldhost[64];
    int oldport = m->self.port;
    snprintf(oldhost, sizeof oldhost, "%s", m->self.host);
    snt_event_inst("+failover-end", &m->self, NULL);
    /* the new replica set: the old replicas but the promoted one, the old master */
    for (int k = 0; k < m->nreplicas; k++)
        if (m->replicas[k] == p) {
            m->replicas[k] = m->replicas[--m->nreplicas];
            break;
        }
    char nh[64];
    int np = p->port;
    snprintf(nh, sizeof nh, "%s", p->host);
    inst_bury(p);
    m->promoted = NULL;
    link_addr(&m->self, nh, np);
    m->self.sdown_since_ms = 0;
    m->odown_since_ms = 0;
    m->self.last_avail_ms = m->self.last_pong_ms = now_ms();
    m->self.ping_sent_ms = 0;
    m->self.ping_inflight = false;
    m->self.last_info_ms = 0;
    m->self.runid[0] = 0;
    for (int k = 0; k < m->nreplicas; k++)
        m->replicas[k]->reconf = SNT_RECONF_NONE;
    add_replica(m, oldhost, oldport);
    m->fo = SNT_FO_NONE;
    m->fo_forced = false;
    /* a new master: no failover of it has started (Redis's sentinelResetMaster
     * sets failover_start_time to 0). Without this a second failover waited
     * out 2 x failover-timeout from the first one. */
    m->fo_start_ms = -(1LL << 40);
    char payload[512];
    snprintf(payload, sizeof payload, "%s %s %d %s %d", m->name, oldhost, oldport, nh, np);
    log_notice("+switch-master %s", payload);
    publish("+switch-master", payload);
    /* tell the others at once (they also learn it from the next hello) */
    for (int k = 0; k < m->nreplicas; k++)
        m->replicas[k]->last_hello_sent_ms = 0;
    m->self.last_hello_sent_ms = 0;
}

static void tick_failover_step(struct snt_master *m)
{
    long long now = now_ms();
    switch (m->fo) {
    case SNT_FO_NONE:
        break;
    case SNT_FO_WAIT_START: {
        int votes;
        const char *leader = get_leader(m, &votes);
        if (leader && strcmp(leader, snt.myid) == 0) {
            char extra[96];
            snprintf(extra, sizeof extra, "%lld", m->fo_epoch);
            snt_event_inst("+elected-leader", &m->self, extra);
            snt_event_inst("+failover-state-select-slave", &m->self, NULL);
            m->fo = SNT_FO_SELECT_SLAVE;
            m->fo_state_ms = now;
        } else if (now - m->fo_start_ms > m->failover_timeout_ms ||
                   (leader && strcmp(leader, snt.myid) != 0 && now - m->fo_start_ms > 2000)) {
            abort_failover(m, "-failover-abort-not-elected");
        }
        break;
    }
    case SNT_FO_SELECT_SLAVE: {
        /* wait (2 s at most) for offsets read after the master went down */
        if (!offsets_fresh(m, now) && now - m->fo_state_ms < 2 * INFO_PERIOD_FAST)
            break;
        struct snt_inst *r = select_replica(m);
        if (!r) {
            abort_failover(m, "-failover-abort-no-good-slave");
            break;
        }
        m->promoted = r;
        snt_event_inst("+selected-slave", r, NULL);
        m->fo = SNT_FO_SEND_SLAVEOF_NOONE;
        m->fo_state_ms = now;
        snt_event_inst("+failover-state-send-slaveof-noone", r, NULL);
    }
    /* fall through */
    case SNT_FO_SEND_SLAVEOF_NOONE: {
        struct snt_inst *r = m->promoted;
        if (!snt_link_up(r->cmd)) {
            if (now - m->fo_state_ms > m->failover_timeout_ms)
                abort_failover(m, "-failover-abort-slave-timeout");
            break;
        }
        const char *argv[] = {"REPLICAOF", "NO", "ONE"};
        if (snt_link_cmd(r->cmd, on_noone, r, 3, argv) == 0) {
            const char *info[] = {"INFO"};
            snt_link_cmd(r->cmd, on_info, r, 1, info);
            m->fo = SNT_FO_WAIT_PROMOTION;
            m->fo_state_ms = now;
            snt_event_inst("+failover-state-wait-promotion", r, NULL);
        }
        break;
    }
    case SNT_FO_WAIT_PROMOTION:
        if (now - m->fo_state_ms > m->failover_timeout_ms)
            abort_failover(m, "-failover-abort-slave-timeout");
        else if (m->promoted && snt_link_up(m->promoted->cmd) && now - m->promoted->last_info_ms > 300) {
            const char *info[] = {"INFO"};
            if (snt_link_cmd(m->promoted->cmd, on_info, m->promoted, 1, info) == 0)
                m->promoted->last_info_ms = now;
        }
        break;
    case SNT_FO_RECONF_SLAVES: {
        int inflight = 0, pending = 0;
        for (int k = 0; k < m->nreplicas; k++) {
            struct snt_inst *r = m->replicas[k];
            if (r == m->promoted)
                continue;
            if (r->reconf == SNT_RECONF_SENT || r->reconf == SNT_RECONF_INPROG) {
                if (now - r->reconf_sent_ms > m->failover_timeout_ms)
                    r->reconf = SNT_RECONF_DONE;   /* give up waiting on it (Redis: reconf timeout) */
                else
                    inflight++;
            }
        }
        for (int k = 0; k < m->nreplicas; k++) {
            struct snt_inst *r = m->replicas[k];
            if (r == m->promoted || r->reconf == SNT_RECONF_DONE)
                continue;
            /* a replica that is down (the old master among them) is fixed when it returns */
            if (snt_inst_sdown(r) || !snt_link_up(r->cmd)) {
                continue;
            }
            pending++;
            if (r->reconf == SNT_RECONF_NONE && inflight < m->parallel_syncs) {
                convert_to_replica(r, m->promoted->host, m->promoted->port, "+slave-reconf-sent");
                r->reconf = SNT_RECONF_SENT;
                r->reconf_sent_ms = now;
                inflight++;
            }
        }
        if (pending == 0 || now - m->fo_state_ms > m->failover_timeout_ms) {
            m->fo = SNT_FO_UPDATE_CONFIG;
            finish_failover(m);
        }
        break;
    }
    case SNT_FO_UPDATE_CONFIG:
        finish_failover(m);
        break;
    }
}

/* Runs the failover state machine until its state stops moving (a few steps
 * at most): an elected leader selects and promotes in the same 100 ms tick
 * instead of one state per tick. */
static void tick_failover(struct snt_master *m)
{
    for (int n = 0; n < 6; n++) {
        enum snt_fo_state before = m->fo;
        tick_failover_step(m);
        if (m->fo == before || m->fo == SNT_FO_NONE)
            break;
    }
}

int snt_force_failover(struct snt_master *m, char *err, size_t errlen)
{
    if (m->fo != SNT_FO_NONE) {
        snprintf(err, errlen, "INPROG Failover already in progress");
        return -1;
    }
    if (!select_replica(m)) {
        snprintf(err, errlen, "NOGOODSLAVE No suitable replica to promote");
        return -1;
    }
    start_failover(m, true);
    m->leader_epoch = m->fo_epoch;
    snprintf(m->leader, sizeof m->leader, "%s", snt.myid);
    return 0;
}

static void tick_master(struct snt_master *m)
{
    long long now = now_ms();
    tick_inst(&m->self);
    for (int k = 0; k < m->nreplicas; k++)
        tick_inst(m->replicas[k]);
    for (int k = 0; k < m->nsentinels; k++)
        tick_inst(m->sentinels[k]);
    /* objective down */
    if (snt_inst_sdown(&m->self)) {
        int votes = 1;
        for (int k = 0; k < m->nsentinels; k++)
            if (m->sentinels[k]->master_down)
                votes++;
        if (votes >= m->quorum && !m->odown_since_ms) {
            m->odown_since_ms = now;
            char extra[64];
            snprintf(extra, sizeof extra, "#quorum %d/%d", votes, m->quorum);
            snt_event_inst("+odown", &m->self, extra);
            m->fo_delay_ms = (long long)(rand64() % 500);
        } else if (votes < m->quorum && m->odown_since_ms) {
            m->odown_since_ms = 0;
            snt_event_inst("-odown", &m->self, NULL);
        }
    } else if (m->odown_since_ms) {
        m->odown_since_ms = 0;
        snt_event_inst("-odown", &m->self, NULL);
    }
    /* start after a random 0..500 ms desync, so that the first sentinel to
     * ask usually collects every vote of the epoch (Redis desyncs with
     * SENTINEL_MAX_DESYNC the same way) */
    if (m->odown_since_ms && m->fo == SNT_FO_NONE && now - m->fo_start_ms > 2 * m->failover_timeout_ms &&
        now - m->odown_since_ms >= m->fo_delay_ms) {
        start_failover(m, false);
        ask_others(m, true);
    }
    if (!m->odown_since_ms && m->fo == SNT_FO_WAIT_START && !m->fo_forced)
        abort_failover(m, "-failover-abort-not-odown");
    ask_others(m, false);
    tick_failover(m);
}

void snt_monitor_tick(void)
{
    for (int k = 0; k < snt.nmasters; k++)
        tick_master(snt.masters[k]);
    /* write the state back when the epoch or a master's address/config epoch moved */
    unsigned long long sig = (unsigned long long)snt.current_epoch * 1000003ULL;
    for (int k = 0; k < snt.nmasters; k++) {
        const struct snt_master *m = snt.masters[k];
        sig = sig * 31 + (unsigned long long)m->config_epoch * 65537ULL + (unsigned long long)m->self.port;
        for (int j = 0; j < m->nreplicas; j++)
            sig = sig * 31 + (unsigned long long)m->replicas[j]->port;
        for (int j = 0; j < m->nsentinels; j++)
            sig = sig * 31 + (unsigned long long)m->sentinels[j]->port;
        for (const char *p = m->self.host; *p; p++)
            sig = sig * 31 + (unsigned char)*p;
    }
    if (sig != snt.persisted_sig) {
        snt.persisted_sig = sig;
        if (mon_ops && mon_ops->persist)
            mon_ops->persist();
    }
}

int snt_usable_sentinels(const struct snt_master *m)
{
    int n = 1;
    for (int k = 0; k < m->nsentinels; k++)
        if (!snt_inst_sdown(m->sentinels[k]))   /* Redis: not s_down / o_down */
            n++;
    return n;
}

int snt_reset(const char *pattern, size_t len)
{
    int n = 0;
    for (int k = 0; k < snt.nmasters; k++) {
        struct snt_master *m = snt.masters[k];
        if (!util_glob_match(pattern, len, m->name, strlen(m->name), false))
            continue;
        for (int j = 0; j < m->nreplicas; j++)
            inst_bury(m->replicas[j]);
        for (int j = 0; j < m->nsentinels; j++)
            inst_bury(m->sentinels[j]);
        m->nreplicas = m->nsentinels = 0;
        if (m->fo != SNT_FO_NONE)
            abort_failover(m, "-failover-abort-reset");
        snt_link_drop(m->self.cmd);
        if (m->self.sub)
            snt_link_drop(m->self.sub);
        m->self.sdown_since_ms = 0;
        m->odown_since_ms = 0;
        m->self.last_info_ms = 0;
        m->self.last_avail_ms = m->self.last_pong_ms = now_ms();
        snt_event_inst("+reset-master", &m->self, NULL);
        n++;
    }
    return n;
}

void snt_monitor_init(const struct snt_monitor_ops *ops)
{
    mon_ops = ops;
    for (struct snt_master_conf *c = snt.cf->masters; c; c = c->next) {
        struct snt_master *m = xcalloc(1, sizeof *m);
        inst_init(&m->self, SNT_MASTER, NULL, c->host, c->port);
        m->name = xstrdup(c->name);
        m->quorum = c->quorum;
        m->down_after_ms = c->down_after_ms;
        m->failover_timeout_ms = c->failover_timeout_ms;
        m->parallel_syncs = c->parallel_syncs;
        m->fo_start_ms = -(1LL << 40);
        m->config_epoch = c->config_epoch;
        /* replicas and sentinels written back by a previous run: a sentinel
         * restarted while the configured master is dead still hears hellos */
        for (int j = 0; j < c->nknown; j++) {
            char host[64], runid[41] = "";
            int port;
            char kind;
            if (sscanf(c->known[j], "%c %63s %d %40s", &kind, host, &port, runid) < 3)
                continue;
            if (kind == 'r') {
                add_replica(m, host, port);
            } else if (!find_sentinel(m, runid, NULL, 0) && strcmp(runid, snt.myid) != 0) {
                struct snt_inst *si = inst_new(SNT_SENTINEL, m, host, port);
                memcpy(si->runid, runid, 41);
                m->sentinels = xrealloc(m->sentinels, (size_t)(m->nsentinels + 1) * sizeof *m->sentinels);
                m->sentinels[m->nsentinels++] = si;
            }
        }
        snt.masters = xrealloc(snt.masters, (size_t)(snt.nmasters + 1) * sizeof *snt.masters);
        snt.masters[snt.nmasters++] = m;
    }
}
