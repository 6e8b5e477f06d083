/*
 * bench.h — the bench role: a load generator for HTTP/1.1 and RESP servers.
 *
 *   scaleout bench http://HOST:PORT/PATH [-c CONNS] [-d 10s | -n COUNT] [--rate RPS] ...
 *   scaleout bench redis://HOST:PORT [-P PIPELINE] [--keys N] [--dist zipf:0.99] ...
 *   scaleout bench --scenario FILE
 *
 * Where a request lives at every moment:
 *
 *   closed loop: a connection sends its next request when one is answered
 *   open loop:   bench_sched says request i is due at start + i/rate; it goes
 *                out on any connection with a free slot (else it waits)
 *                        │
 *   proto->write_request ─▶ conn.out ──send()──▶ server          conn.ring[] holds the
 *                                                  │              start time (intended
 *   server ──recv()──▶ conn.in ──proto->parse──▶ one response     time in open loop)
 *                                                  │
 *        latency = now - start ─▶ worker's current interval (histogram + counters)
 *                                                  │ every second the controller flips
 *                                                  ▼ the worker's two intervals (epoch)
 *   controller (run.c): merges the finished intervals of all workers into one
 *   point of the timeline (1 s buckets) and into the step's total histogram;
 *   prints the progress line. At the end: summary (output.c), --json, --html
 *   report (report.c). A scenario (scenario.c) is a list of steps and actions.
 *
 * Threads: --threads workers, each with its own epoll loop, its share of the
 * connections and of the rate; the controller runs in the main thread and
 * only sleeps, merges and prints. Workers share nothing but read-only
 * settings and the epoch counter.
 *
 * Protocols are drivers behind struct bench_proto (http.c, redis.c): adding
 * one is a file and a row in BENCH_PROTOCOLS.
 */
#ifndef SCALEOUT_BENCH_BENCH_H
#define SCALEOUT_BENCH_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/hist.h"
#include "core/buf.h"
#include "core/config.h"

#define BENCH_VERSION_TAG "scaleout bench"
#define BENCH_MAX_HEADERS_BYTES 4096
#define BENCH_MAX_PIPELINE 1024

/* ---- configuration ---------------------------------------------------- */

enum bench_dist { BENCH_DIST_UNIFORM, BENCH_DIST_ZIPF };
enum bench_progress { BENCH_PROGRESS_AUTO, BENCH_PROGRESS_TTY, BENCH_PROGRESS_PLAIN, BENCH_PROGRESS_OFF };

struct bench_config {
    char *target;                 /* http://host:port/path or redis://host:port */
    char *name;                   /* step name (scenarios, reports) */
    long long connections;
    long long threads;
    long long duration_ms;        /* 0: until `requests` are done */
    long long requests;           /* 0: until `duration` is over */
    long long rate;               /* requests/s over all connections; 0: closed loop */
    long long timeout_ms;         /* per request and per connect */
    long long pipeline;           /* requests in flight per connection */
    /* HTTP */
    char *method;
    char *body_file;
    char headers[BENCH_MAX_HEADERS_BYTES]; /* "Name: value\r\n" lines from -H */
    size_t headers_len;
    long long retry_idempotent;   /* resends of an idempotent request whose
                                     connection died before any response byte */
    /* RESP */
    long long keys;
    int dist;                     /* enum bench_dist */
    double zipf_s;
    long long ratio_reads, ratio_writes;
    long long value_size;
    char *key_prefix;
    /* output */
    char *json;
    char *html;
    char *scenario;
    int progress;                 /* enum bench_progress */
    long long action_timeout_ms;  /* scenario `run` commands are killed after this */
    int scenario_lines;           /* step/run/spawn/sleep lines seen (a config file with
                                     them is a scenario) */
    /* slow clients (slow.c) */
    long long slow;               /* > 0: hold this many slow clients instead of measuring */
    long long slow_interval_ms;   /* one more byte per client this often */
    long long slow_tick_ms;       /* the pacing timer's shortest tick */
};

extern const struct conf_table bench_conf_table;

/* Copy every directive of src into dst (strings duplicated). */
void bench_config_copy(struct bench_config *dst, const struct bench_config *src);
/* Human text for the settings of a step ("10 connections, closed loop, 10s"). */
void bench_config_describe(const struct bench_config *c, struct buf *out);

/* ---- target ------------------------------------------------------------ */

struct bench_proto;

struct bench_target {
    const struct bench_proto *proto;
    char host[256];
    int port;
    char path[2048];               /* HTTP: origin-form target ("/" at least) */
    char hostport[300];            /* Host header value */
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

/* Parse a URL (http:// or redis://) and resolve its host. Returns 0, or -1
 * with a message in err. */
int bench_target_parse(struct bench_target *t, const char *url, char *err, size_t errlen);

/* ---- results ------------------------------------------------------------ */

/* Error kinds, in report order: name, JSON key, meaning. */
#define BENCH_ERRORS(X) \
    X(CONNECT,  "connect",  "connection attempts that failed or timed out") \
    X(TIMEOUT,  "timeout",  "requests not answered within --timeout") \
    X(CLOSED,   "closed",   "requests lost because the connection closed or reset first") \
    X(PROTOCOL, "protocol", "responses that could not be parsed") \
    X(HTTP_4XX, "http_4xx", "HTTP responses with a 4xx status") \
    X(HTTP_5XX, "http_5xx", "HTTP responses with a 5xx status") \
    X(RESP,     "resp",     "RESP error replies (-ERR ...)")

enum bench_err {
#define BENCH_X_ERR(name, key, help) BENCH_ERR_##name,
    BENCH_ERRORS(BENCH_X_ERR)
#undef BENCH_X_ERR
    BENCH_ERR__COUNT
};

extern const char *const bench_err_keys[BENCH_ERR__COUNT];
extern const char *const bench_err_help[BENCH_ERR__COUNT];

struct bench_counts {
    uint64_t sent;                 /* requests written */
    uint64_t done;                 /* responses received (any status) */
    uint64_t errors[BENCH_ERR__COUNT];
    uint64_t status[6];            /* HTTP status classes: [1] 1xx .. [5] 5xx */
    uint64_t bytes_in, bytes_out;
    uint64_t connects;             /* connections established */
    uint64_t reconnects;           /* ... of which re-established after a loss */
    uint64_t cancelled;            /* still in flight when the step ended */
    uint64_t retried;              /* --retry-idempotent: requests resent on a new connection */
    uint64_t unsent;               /* open loop: due before the end but never sent */
};

static inline uint64_t bench_counts_errors(const struct bench_counts *c)
{
    uint64_t n = 0;
    for (int i = 0; i < BENCH_ERR__COUNT; i++)
        n += c->errors[i];
    return n;
}
void bench_counts_add(struct bench_counts *dst, const struct bench_counts *src);

/* What a worker records between two rotations. */
struct bench_interval {
    struct bench_counts c;
    struct hist hist;        /* latency of every response, ns */
};

/* One point of the timeline (one second, the last one shorter). */
struct bench_point {
    double t;                      /* start, seconds since the run (scenario) began */
    double dt;                     /* length, seconds */
    uint64_t done, sent, errors;
    uint64_t p50, p90, p99, max;   /* ns; 0 when no response */
};

/* An action between scenario steps, for the report. */
struct bench_action {
    double t;                      /* seconds since the scenario began */
    char *text;                    /* "run kill -STOP 123" */
    int status;                    /* exit status (run), -1 while unknown */
};

struct bench_step {
    struct bench_config cfg;       /* settings of the step (owned copy) */
    const char *proto_name;        /* "http" or "resp" */
    double start;                  /* seconds since the run began */
    double elapsed;                /* measured length, seconds (drain excluded) */
    struct bench_counts c;
    struct hist *hist;       /* whole step */
    struct bench_point *points;
    size_t npoints, cap_points;
    char first_error[256];         /* first error message seen, for the summary */
    bool interrupted;              /* SIGINT */
    bool gave_up;                  /* -n with nothing reachable for --timeout */
};

struct bench_report {
    char *scenario;                /* file, NULL for a single run */
    char started[64];              /* wall clock, ISO 8601 */
    struct bench_step *steps;
    size_t nsteps;
    struct bench_action *actions;
    size_t nactions;
};

void bench_step_free(struct bench_step *s);
void bench_report_free(struct bench_report *r);

/* ---- protocol drivers -------------------------------------------------- */

/* What a driver found in one response. */
struct bench_response {
    int status;                    /* HTTP status, 0 for RESP */
    bool error;                    /* RESP error reply */
    bool close;                    /* the server closes after this response */
    const char *msg;               /* RESP: error text (points into the input) */
    size_t msg_len;
};

enum {
    BENCH_PARSE_MORE = 0,          /* need more bytes (*consumed may be > 0) */
    BENCH_PARSE_DONE = 1,          /* one response ended after *consumed bytes */
    BENCH_PARSE_ERROR = -1,        /* not a valid response: close the connection */
};

struct bench_proto {
    const char *name;              /* "http", "resp" */
    const char *scheme;            /* URL scheme: "http", "redis" */
    int default_port;
    /* Prepare what every request needs (templates, key sampler). Returns a
     * driver object shared read-only by all workers, or NULL with err set. */
    void *(*setup)(const struct bench_config *cfg, const struct bench_target *t, char *err, size_t errlen);
    void (*teardown)(void *shared);
    size_t conn_size;              /* bytes of per-connection parser state */
    /* A connection opened: reset its parser state. */
    void (*conn_reset)(const void *shared, void *cs);
    /* Append one request to out. Runs on a worker thread; may use rand64(). */
    void (*write_request)(const void *shared, struct buf *out);
    /* Look at buf[0..len) (the front of the unparsed input). */
    int (*parse)(const void *shared, void *cs, const char *buf, size_t len, size_t *consumed,
                 struct bench_response *r);
    /* The server closed the connection: BENCH_PARSE_DONE if that ended a
     * response (HTTP body until close), else BENCH_PARSE_MORE. */
    int (*eof)(const void *shared, void *cs, struct bench_response *r);
    /* Whether the request is idempotent (RFC 9110 9.2.2), so a client may
     * resend it when its connection dies before any byte of the answer;
     * NULL: never. */
    bool (*idempotent)(const void *shared);
    /* --slow: the opening of a request that never ends (appended to out),
     * then one slow_byte per --slow-interval, at most slow_max of them (0: no
     * limit), so the request never completes (slow.c). */
    void (*slow_opening)(const struct bench_target *t, struct buf *out);
    char slow_byte;
    long long slow_max;
};

/* One row per protocol: its ops (one file each), and the other URL schemes it
 * answers to besides ops->scheme (space-separated). */
#define BENCH_PROTOCOLS(X) \
    X(bench_http_proto,  "") \
    X(bench_redis_proto, "resp")

#define BENCH_X_DECL(sym, aliases) extern const struct bench_proto sym;
BENCH_PROTOCOLS(BENCH_X_DECL)
#undef BENCH_X_DECL

/* Every protocol, in BENCH_PROTOCOLS order, then NULL. */
extern const struct bench_proto *const bench_protos[];

/* The protocol whose scheme (or an alias) is s[0..n), case-insensitively; NULL if none. */
const struct bench_proto *bench_proto_find(const char *s, size_t n);

/* ---- running ------------------------------------------------------------ */

/* Set by SIGINT: every worker stops sending and drains. */
extern atomic_bool bench_interrupted;

/* Monotonic clock, ns. */
uint64_t bench_now_ns(void);

/*
 * Run one step with cfg against its target; t0_ns is the start of the whole
 * run (timeline times count from it). Fills *step (caller frees with
 * bench_step_free). Returns 0, or -1 with a message in err when the step
 * could not start (bad target, unreadable body file).
 */
int bench_run_step(const struct bench_config *cfg, uint64_t t0_ns, struct bench_step *step,
                   char *err, size_t errlen);

/* ---- output -------------------------------------------------------------- */

/* The latency percentiles every summary shows. */
#define BENCH_PCTS(X) X(50, "p50") X(90, "p90") X(95, "p95") X(99, "p99") X(99.9, "p99.9") X(99.99, "p99.99")

/* "812us", "1.23ms", "2.50s" */
void bench_format_ns(char *dst, size_t cap, uint64_t ns);
/* Points of the latency-by-percentile curve: percentiles (10 per decade of
 * 1/(1-q), as far as the data reaches, then 100) into qs, values (ns) into
 * vals; returns how many (0 when empty). */
size_t bench_curve(const struct hist *h, double *qs, uint64_t *vals, size_t cap);
/* Text summary of a step (stdout). */
void bench_print_step(FILE *f, const struct bench_step *s);
/* --json: every figure. Returns 0 or -1 (message in err). */
int bench_write_json(const struct bench_report *r, const char *path, char *err, size_t errlen);
/* --html: report with inline SVG plots. Returns 0 or -1 (message in err). */
int bench_write_html(const struct bench_report *r, const char *path, char *err, size_t errlen);
void bench_report_html(const struct bench_report *r, struct buf *out);

/* ---- command line and scenario ------------------------------------------ */

/* Apply (directive, value) pairs from the command line (pairs[2k] a name,
 * pairs[2k+1] its value). Errors are printed prefixed with `where` and
 * counted in *errors. Returns 0 if there were none. */
int bench_apply_pairs(struct bench_config *cfg, char **pairs, int n, const char *where, int *errors);
/* Local wall-clock time, ISO 8601, for reports. */
void bench_started_now(char *dst, size_t cap);

/*
 * Run the scenario `file`: its directive lines set the defaults of the steps
 * after them, the command-line pairs win over those, and a step's own
 * settings win over both. Returns the process exit status.
 */
int bench_scenario_main(const char *file, char **pairs, int npairs);
/* Load and check scenario `file` without running anything (the fuzz target);
 * errors as file:line to errf. Returns the number of errors. */
int bench_scenario_check_file(const char *file, FILE *errf);

/* config.c: apply the settings of `step NAME [directive value ...]`
 * (argv[0] is NAME) to cfg, checking each (the scenario loader applies them
 * to the step's copy of the file's settings). Returns 0, or -1 with a message in err (cfg may
 * then hold some of the settings). */
int bench_scenario_apply_step(struct bench_config *cfg, int argc, char **argv, char *err, size_t errlen);
/* Validate a step line on its own, against the defaults (the conf table's
 * `step` directive, so `scaleout check` knows scenario lines).
 * Returns 0, or -1 with a message in err. */
int bench_scenario_check_step(int argc, char **argv, char *err, size_t errlen);

/*
 * --slow N: hold N connections that each send the opening of a request
 * (cfg's protocol's slow_opening) and then one byte per slow_interval_ms,
 * reconnecting when the server closes them, for cfg->duration_ms (0: until
 * SIGINT/SIGTERM). Prints "ready N" once all are connected and a summary at
 * the end. Returns the exit status.
 */
int bench_slow_main(const struct bench_config *cfg, const struct bench_target *t);

int bench_main(int argc, char **argv);

#endif
