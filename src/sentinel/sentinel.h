/*
 * sentinel.h — `scaleout sentinel`: a monitor that watches a Redis-protocol
 * primary and its replicas, agrees with other monitors that the primary is
 * down, elects a leader per epoch and fails over, speaking the Sentinel
 * protocol clients use (SENTINEL ..., +switch-master on pub/sub).
 *
 *   config.c   directives (`sentinel monitor NAME HOST PORT QUORUM`, ...)
 *   link.c     outbound RESP connections (command queue + pub/sub pushes)
 *   monitor.c  instances, the 10 Hz timer: PING / INFO / hello, sdown, odown,
 *              votes, the failover state machine
 *   server.c   the client side: listener, commands, event subscribers, main
 *
 * Everything runs on one thread (one libuv loop).
 */
#ifndef SCALEOUT_SENTINEL_H
#define SCALEOUT_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/buf.h"
#include "net/conn.h"
#include "core/config.h"
#include "proto/reply.h"

/* ---- configuration ---------------------------------------------------- */

struct snt_master_conf {
    char *name, *host;
    int port, quorum;
    long long down_after_ms, failover_timeout_ms;
    int parallel_syncs;
    long long config_epoch;            /* `sentinel config-epoch NAME N` (written back) */
    char **known;                      /* `known-replica NAME IP PORT` / `known-sentinel NAME IP PORT RUNID`,
                                          as "r IP PORT" / "s IP PORT RUNID" */
    int nknown;
    struct snt_master_conf *next;
};

struct snt_config {
    char *bind;
    long long port;
    char *announce_ip;
    long long announce_port;
    int loglevel;
    char *logfile;
    char *pidfile;
    struct snt_master_conf *masters;   /* `sentinel ...` lines, in order */
    char *myid;                        /* `sentinel myid`: 40 hex (empty: random) */
    long long current_epoch;           /* `sentinel current-epoch` */
};

extern const struct conf_table snt_conf_table;
/* What loading a configuration allocated: the `sentinel` lines and the strings. */
void snt_config_free(struct snt_config *c);
int sentinel_main(int argc, char **argv);

/* ---- decoded replies -------------------------------------------------- */

struct snt_val {
    char type;               /* + - : $ * ; '_' for a null */
    long long i;             /* ':' */
    const char *s;           /* + - $ (points into the reply buffer) */
    size_t len;
    int n;                   /* '*' */
    struct snt_val *elems;
};

/* Decode one complete RESP2 reply (as resp_reply_parse measured it). Returns
 * a heap tree (snt_val_free) or NULL on a shape this decoder does not know. */
struct snt_val *snt_val_decode(const char *buf, size_t len);
void snt_val_free(struct snt_val *v);
bool snt_val_is(const struct snt_val *v, const char *s);

/* ---- links ------------------------------------------------------------ */

struct snt_link;
/* reply is NULL when the link dropped before the reply came. */
typedef void (*snt_reply_cb)(struct snt_link *l, const struct snt_val *reply, void *ctx);
typedef void (*snt_push_cb)(struct snt_link *l, const struct snt_val *msg, void *ctx);

struct snt_pending {
    snt_reply_cb cb;
    void *ctx;
};

struct snt_link {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_loop_t *loop;
    char host[64];
    int port;
    int state;                       /* SNT_LINK_* */
    struct buf in;
    struct net_out out;              /* commands on their way (net/conn.h) */
    struct resp_reply rp;
    struct snt_pending *q;           /* replies expected, oldest first */
    int qn, qcap;
    snt_push_cb on_push;             /* set: every reply that is not a queued answer */
    void *push_ctx;
    long long connected_ms;
    bool free_on_close;              /* snt_link_free while the close was pending */
};

enum { SNT_LINK_CLOSED, SNT_LINK_CONNECTING, SNT_LINK_UP, SNT_LINK_CLOSING };

struct snt_link *snt_link_new(uv_loop_t *loop, const char *host, int port);
/* Start connecting if closed. */
void snt_link_connect(struct snt_link *l);
/* Drop the connection: queued callbacks get NULL now. The link stays usable
 * (snt_link_connect again). */
void snt_link_drop(struct snt_link *l);
/* Drop and free (after the close completes). */
void snt_link_free(struct snt_link *l);
/* Send one command (words); cb may be NULL. Returns -1 when not connected. */
int snt_link_cmd(struct snt_link *l, snt_reply_cb cb, void *ctx, int argc, const char **argv);
static inline bool snt_link_up(const struct snt_link *l) { return l && l->state == SNT_LINK_UP; }

/* ---- monitor ---------------------------------------------------------- */

enum snt_kind { SNT_MASTER, SNT_REPLICA, SNT_SENTINEL };

enum snt_fo_state {
    SNT_FO_NONE, SNT_FO_WAIT_START, SNT_FO_SELECT_SLAVE, SNT_FO_SEND_SLAVEOF_NOONE,
    SNT_FO_WAIT_PROMOTION, SNT_FO_RECONF_SLAVES, SNT_FO_UPDATE_CONFIG,
};

enum { SNT_RECONF_NONE, SNT_RECONF_SENT, SNT_RECONF_INPROG, SNT_RECONF_DONE };

struct snt_master;

struct snt_inst {
    enum snt_kind kind;
    struct snt_master *m;            /* owner (NULL for a master itself: m == self) */
    char host[64];
    int port;
    char runid[41];
    struct snt_link *cmd, *sub;      /* sub: hello channel (masters and replicas) */
    long long ping_sent_ms;          /* oldest unanswered PING (0: none); kept across reconnections */
    bool ping_inflight;              /* a PING awaits its reply on the current link */
    long long last_ping_ms;          /* when the last PING went out */
    long long last_avail_ms;         /* last valid PING reply */
    long long last_pong_ms;          /* last reply of any kind */
    long long last_info_ms;
    long long info_rx_ms;            /* when the last INFO reply arrived */
    long long info_ask_ms;           /* when failover selection last asked for a fresh INFO */
    long long last_hello_sent_ms, last_hello_ms;
    long long sdown_since_ms;        /* 0: not subjectively down */
    long long created_ms;
    /* from INFO */
    char role[16];
    long long role_time_ms;
    char mhost[64];
    int mport;
    bool mlink_up;
    long long mlink_down_since_ms;
    long long priority;
    long long offset;
    /* replica reconfiguration during failover */
    int reconf;
    long long reconf_sent_ms;
    /* sentinel: its answer to is-master-down-by-addr */
    bool master_down;
    long long down_reply_ms;
    char leader[41];
    long long leader_epoch;
    bool dead;                       /* removed (reset); waits for callbacks */
};

struct snt_master {
    struct snt_inst self;
    char *name;
    int quorum;
    long long down_after_ms, failover_timeout_ms;
    int parallel_syncs;
    long long config_epoch;
    long long odown_since_ms;
    /* votes */
    char leader[41];
    long long leader_epoch;
    /* failover */
    enum snt_fo_state fo;
    long long fo_epoch, fo_start_ms, fo_state_ms, fo_delay_ms;
    bool fo_forced;
    struct snt_inst *promoted;
    struct snt_inst **replicas;
    int nreplicas;
    struct snt_inst **sentinels;
    int nsentinels;
};

struct snt_state {
    uv_loop_t *loop;
    struct snt_config *cf;
    char myid[41];
    long long current_epoch;
    char announce_ip[64];
    int announce_port;
    struct snt_master **masters;
    int nmasters;
    struct snt_inst **graveyard;     /* removed instances (their links closing) */
    int ngrave;
    uv_timer_t timer;
    unsigned long long persisted_sig;   /* state last written back (ops->persist) */
};

extern struct snt_state snt;

/* What the monitor reports back to the server (server.c sets it at
 * snt_monitor_init): publish an event to our own subscribers, and write the
 * state back into the config file when it changed. Until it is set (unit
 * tests), both are no-ops. */
struct snt_monitor_ops {
    void (*publish)(const char *channel, const char *payload);
    void (*persist)(void);
};

/* Builds the masters from the config; keeps `ops` (static storage). */
void snt_monitor_init(const struct snt_monitor_ops *ops);
void snt_monitor_tick(void);
struct snt_master *snt_master_by_name(const char *name, size_t len);
struct snt_master *snt_master_by_addr(const char *host, int port);
/* the address clients should use: the promoted replica once it is reconfiguring the others */
const struct snt_inst *snt_current_addr(const struct snt_master *m);
/* Raft-like vote: returns the leader this sentinel votes for in *epoch. */
const char *snt_vote(struct snt_master *m, long long req_epoch, const char *req_runid, long long *epoch);
int snt_force_failover(struct snt_master *m, char *err, size_t errlen);
int snt_reset(const char *pattern, size_t len);
bool snt_inst_sdown(const struct snt_inst *i);
const char *snt_fo_state_name(enum snt_fo_state s);
/* flags text as Redis prints it: "master,s_down,o_down,failover_in_progress" */
void snt_inst_flags(const struct snt_inst *i, struct buf *out);
/* count of usable sentinels (incl. self) for CKQUORUM */
int snt_usable_sentinels(const struct snt_master *m);

/* events: published through ops->publish (server.c's subscribers). The
 * payload of instance events is built by snt_event_inst. */
void snt_inst_name(const struct snt_inst *i, char *out, size_t len);
void snt_event_inst(const char *type, const struct snt_inst *i, const char *extra);

#endif
