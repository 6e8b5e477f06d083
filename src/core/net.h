/*
 * net.h — socket helpers shared by the roles.
 */
#ifndef SCALEOUT_CORE_NET_H
#define SCALEOUT_CORE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct buf;

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

/*
 * The first TCP address of host:port (a literal or a name, IPv4 or IPv6) into
 * *sa, its length into *salen (may be NULL). Returns 0, or -1 with "cannot
 * resolve 'HOST': reason" in err. Blocks on DNS for a name: start-up, config.
 */
int net_resolve(const char *host, int port, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen);

/* The same for "host:port" or "[v6]:port" (port 1..65535); a bad form gives
 * "'ADDR' is not FORM" in err (form: how the role's docs spell it). */
int net_resolve_hostport(const char *hostport, const char *form, struct sockaddr_storage *sa, socklen_t *salen,
                         char *err, size_t errlen);

/*
 * Blocking-socket helpers for the roles' helper threads (sentinel queries,
 * directory reads, migrations, the `up` runner): loops that must not stop at
 * a short write or an EINTR.
 *
 * Write all n bytes of p to fd, again after EINTR and short writes.
 * 0, or -1 when write fails or takes nothing (errno says why on failure).
 */
int net_write_all(int fd, const void *p, size_t n);

/* A blocking TCP socket of family (AF_INET, AF_INET6) whose reads, writes
 * and connect() give up after timeout_ms (SO_RCVTIMEO, SO_SNDTIMEO): the fd,
 * or -1 (errno). */
int net_socket_timeout(int family, long long timeout_ms);

/* One read from fd into the tail of b, after making room for at least want
 * bytes (again after EINTR). Returns the bytes added to b, 0 at end of file,
 * or -1 (errno: a timeout of SO_RCVTIMEO is EAGAIN). */
ssize_t net_read_buf(int fd, struct buf *b, size_t want);

/* "ip:port" of a socket address into out. */
void net_format_addr(const struct sockaddr *sa, char *out, size_t outlen);

/* Split "host:port" or "[v6]:port"; false on a bad form. */
bool net_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
