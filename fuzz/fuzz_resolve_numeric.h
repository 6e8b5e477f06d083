/*
 * fuzz_resolve_numeric.h — included by the fuzz targets whose input may name
 * hosts (lb backends, bench targets): getaddrinfo is replaced by one that
 * resolves numeric addresses only, so a campaign never waits on DNS and never
 * sends a packet. Names get EAI_NONAME, the loaders' error path.
 */
#ifndef SCALEOUT_FUZZ_RESOLVE_NUMERIC_H
#define SCALEOUT_FUZZ_RESOLVE_NUMERIC_H

#include <dlfcn.h>
#include <netdb.h>
#include <string.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    static gai_fn real;
    if (!real)
        real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    struct addrinfo h;
    memset(&h, 0, sizeof h);
    if (hints)
        h = *hints;
    h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
    h.ai_flags &= ~AI_ADDRCONFIG;
    return real(node, service, &h, res);
}

#endif
