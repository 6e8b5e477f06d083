/*
 * sentinel_ask.h — ask one Sentinel where a master is (SENTINEL
 * get-master-addr-by-name), blocking and bounded: for the clients that follow
 * a failover (the app's kv client, the worker, up's supervisor), which ask
 * only at start-up and after losing their primary.
 */
#ifndef SCALEOUT_NET_SENTINEL_ASK_H
#define SCALEOUT_NET_SENTINEL_ASK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Connect to the sentinel at host:port (an address or a name, resolved each
 * time), ask for master `name` and wait at most timeout_ms for each of the
 * connect, the send and the reply. True with mhost (NUL-terminated, shorter
 * than mhostlen) and *mport (1..65535) set; false when the sentinel cannot be
 * reached, does not know the name (a nil or an error) or answers anything
 * but a two-element array of bulk strings with a valid port.
 */
bool net_sentinel_master(const char *host, int port, const char *name, int timeout_ms, char *mhost, size_t mhostlen,
                         int *mport);

/* The sentinels a client follows its kv primary through (the app's kv
 * client, the worker). */
#define NET_SENTINELS_MAX 8
struct net_sentinels {
    int n;
    char host[NET_SENTINELS_MAX][64];
    int port[NET_SENTINELS_MAX];
};

/* Parse "HOST:PORT[,HOST:PORT...]" (at most NET_SENTINELS_MAX; "" is none)
 * into s. False on an empty item, a bad address or too many. */
bool net_sentinels_parse(struct net_sentinels *s, const char *list);

/*
 * Ask the sentinels in turn (net_sentinel_master, timeout_ms each) where
 * master `name` is: the first that answers sets host (hostlen bytes) and
 * *port, with a notice in the log when that moved the primary. False when
 * none answered (host and *port unchanged).
 */
bool net_sentinels_follow(const struct net_sentinels *s, const char *name, int timeout_ms, char *host, size_t hostlen,
                          int *port);

#endif
