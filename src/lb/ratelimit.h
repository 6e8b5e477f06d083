/*
 * ratelimit.h — per-client-address token buckets: `rate` tokens a second up
 * to `burst`, one per request. A bounded table (16 stripes x 1024 slots, each
 * stripe with its own mutex, shared by all workers): a full neighbourhood
 * recycles its least recently seen slot, which at worst forgets a client that
 * was idle longest and gives it a full bucket again. Memory: ~400 KB per
 * rate-limited listener, whatever the number of clients.
 */
#ifndef SCALEOUT_LB_RATELIMIT_H
#define SCALEOUT_LB_RATELIMIT_H

#include <stdint.h>

struct lb_ratelimit;

struct lb_ratelimit *lb_ratelimit_new(void);
void lb_ratelimit_free(struct lb_ratelimit *rl);

/*
 * Take one token from key's bucket at time now_us (monotonic). Returns 0 when
 * the request may go, else the milliseconds until a token will be there
 * (for Retry-After). Any thread.
 */
long long lb_ratelimit_take(struct lb_ratelimit *rl, uint64_t key, double rate, double burst, long long now_us);

#endif
