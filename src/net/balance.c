/*
 * balance.c — the table of balancing algorithms and the helpers they share
 * (see balance.h). The algorithms themselves are in balance_*.c.
 */
#include "net/balance.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

const struct net_balance_ops *const net_balancers[NET_BALANCE__COUNT] = {
#define NET_X_ROW(id, sym, aliases) &sym,
    NET_BALANCERS(NET_X_ROW)
#undef NET_X_ROW
};

const char *const net_balance_aliases[NET_BALANCE__COUNT] = {
#define NET_X_ALIASES(id, sym, aliases) aliases,
    NET_BALANCERS(NET_X_ALIASES)
#undef NET_X_ALIASES
};

/* Whether name is one of the space-separated words of list (without case). */
static bool in_words(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *w = list; *w;) {
        size_t len = strcspn(w, " ");
        if (len == n && n > 0 && strncasecmp(w, name, n) == 0)
            return true;
        w += len;
        w += strspn(w, " ");
    }
    return false;
}

int net_balance_find(const char *name)
{
    for (int i = 0; i < NET_BALANCE__COUNT; i++)
        if (strcasecmp(net_balancers[i]->name, name) == 0)
            return i;
    for (int i = 0; i < NET_BALANCE__COUNT; i++)
        if (in_words(net_balance_aliases[i], name))
            return i;
    return -1;
}

struct net_peer *net_balance_walk(struct net_peer *const *peers, int n, const uint64_t *cum, uint64_t point,
                                const struct net_pick_ctx *ctx)
{
    if (n == 0)
        return NULL;
    /* first i with cum[i] > point */
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > point)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (int i = 0; i < n; i++) {
        struct net_peer *p = peers[(lo + i) % n];
        if (!net_pick_excluded(ctx, p))
            return p;
    }
    return NULL;
}
