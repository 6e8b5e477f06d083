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

/*
 * Whether host:port is taken by any socket, ours or another process's: a bind
 * without SO_REUSEPORT is tried and undone. Servers that spread one port over
 * their threads with SO_REUSEPORT call it first, so that a second server started
 * on the same port fails ("Address already in use") instead of silently
 * sharing it. Returns 1 (in use), 0 (free) or a negative errno.
 */
int net_port_in_use(const char *host, int port);

/* Resolve host (a name or an IPv4/IPv6 literal) and port to the first TCP
 * address getaddrinfo gives. Returns 0, or -1 with "cannot resolve 'HOST':
 * REASON" in err. (Blocking: for configuration time.) */
int net_resolve(const char *host, int port, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen);

/* "ip:port" of a socket address into out. */
void net_format_addr(const struct sockaddr *sa, char *out, size_t outlen);

/* Split "host:port" or "[v6]:port"; false on a bad form. */
bool net_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
