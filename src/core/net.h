/*
 * net.h — socket helpers shared by the roles.
 */
#ifndef SCALEOUT_CORE_NET_H
#define SCALEOUT_CORE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * Create a non-blocking listening TCP socket on host:port with SO_REUSEADDR
 * and, when reuseport, SO_REUSEPORT (several threads or processes may then
 * listen on the same port; the kernel spreads connections). host may be an
 * IPv4 or IPv6 literal or a name. Returns the fd, or a negative errno with a
 * message in err.
 */
int net_listen(const char *host, int port, int backlog, bool reuseport, char *err, size_t errlen);

/* "ip:port" of a socket address into out. */
void net_format_addr(const struct sockaddr *sa, char *out, size_t outlen);

/* Split "host:port" or "[v6]:port"; false on a bad form. */
bool net_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
