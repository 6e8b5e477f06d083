/*
 * balance.c — the table of balancing algorithms and their lookup by name
 * (see balance.h). The algorithms themselves are in balance_*.c; the helper
 * they share is in balance_walk.c, below both (the table names the
 * algorithms, they call the helper, nothing calls back).
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
