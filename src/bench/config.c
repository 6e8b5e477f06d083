/*
 * config.c — the bench directive table, URL parsing and small shared helpers.
 *
 * One row per directive serves the command line (--name value, plus the
 * short forms -c -t -d -n -R -H -P that main.c maps onto rows), --config
 * files, scenario files (global lines and `step NAME directive value ...`),
 * `scaleout check` and --help. The scenario-only lines (step, run, spawn,
 * sleep) are rows too, whose parsers only validate: that is what lets
 * `scaleout check` report a scenario's errors with file:line.
 */
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "core/util.h"

#define OFF(f) offsetof(struct bench_config, f)
#define DAY_MS (86400LL * 1000)

const char *const bench_err_keys[BENCH_ERR__COUNT] = {
#define BENCH_X_KEY(name, key, help) key,
    BENCH_ERRORS(BENCH_X_KEY)
#undef BENCH_X_KEY
};

const char *const bench_err_help[BENCH_ERR__COUNT] = {
#define BENCH_X_HELP(name, key, help) help,
    BENCH_ERRORS(BENCH_X_HELP)
#undef BENCH_X_HELP
};

/* ---- custom directives ---------------------------------------------------- */

/* header "Name: value" (the words are joined with spaces, so an unquoted
 * `header X-A: b c` works in a file too) */
static int parse_header(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct bench_config *c = conf;
    char line[BENCH_MAX_HEADERS_BYTES];
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (n + l + 1 >= sizeof line) {
            snprintf(err, errlen, "header too long");
            return -1;
        }
        if (i)
            line[n++] = ' ';
        memcpy(line + n, argv[i], l);
        n += l;
    }
    line[n] = '\0';
    char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        snprintf(err, errlen, "header must look like 'Name: value', got '%s'", line);
        return -1;
    }
    for (char *p = line; p < colon; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p)) {
            snprintf(err, errlen, "invalid header name in '%s'", line);
            return -1;
        }
    }
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    for (char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\t') {
            snprintf(err, errlen, "control character in header value of '%.*s'", (int)(colon - line), line);
            return -1;
        }
    }
    size_t need = (size_t)(colon - line) + 2 + strlen(v) + 2;
    if (c->headers_len + need >= sizeof c->headers) {
        snprintf(err, errlen, "headers exceed %d bytes", BENCH_MAX_HEADERS_BYTES);
        return -1;
    }
    c->headers_len += (size_t)snprintf(c->headers + c->headers_len, sizeof c->headers - c->headers_len,
                                       "%.*s: %s\r\n", (int)(colon - line), line, v);
    return 0;
}

static void format_header(const void *conf, struct buf *out)
{
    const struct bench_config *c = conf;
    const char *p = c->headers, *end = c->headers + c->headers_len;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol)
            eol = end;
        buf_printf(out, "%s\"%.*s\"", p == c->headers ? "" : " ", (int)(eol - p), p);
        p = eol + 2;
    }
}

static int parse_dist(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct bench_config *c = conf;
    if (argc != 1)
        goto bad;
    if (strcasecmp(argv[0], "uniform") == 0) {
        c->dist = BENCH_DIST_UNIFORM;
        return 0;
    }
    if (strcasecmp(argv[0], "zipf") == 0) {
        c->dist = BENCH_DIST_ZIPF;
        c->zipf_s = 0.99;
        return 0;
    }
    if (strncasecmp(argv[0], "zipf:", 5) == 0) {
        char *end;
        double s = strtod(argv[0] + 5, &end);
        if (end == argv[0] + 5 || *end || !(s > 0 && s <= 10))
            goto bad;
        c->dist = BENCH_DIST_ZIPF;
        c->zipf_s = s;
        return 0;
    }
bad:
    snprintf(err, errlen, "'dist' must be uniform, zipf or zipf:S with 0 < S <= 10, got '%s'", argc ? argv[0] : "");
    return -1;
}

static void format_dist(const void *conf, struct buf *out)
{
    const struct bench_config *c = conf;
    if (c->dist == BENCH_DIST_ZIPF)
        buf_printf(out, "zipf:%g", c->zipf_s);
    else
        buf_puts(out, "uniform");
}

static int parse_ratio(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    struct bench_config *c = conf;
    long long r, w;
    const char *colon = argc == 1 ? strchr(argv[0], ':') : NULL;
    if (!colon || !util_str2ll(argv[0], (size_t)(colon - argv[0]), &r) ||
        !util_str2ll(colon + 1, strlen(colon + 1), &w) || r < 0 || w < 0 || r + w == 0 ||
        r > 1000000 || w > 1000000) {
        snprintf(err, errlen, "'ratio' must be READS:WRITES like 9:1 or 1:0, got '%s'", argc ? argv[0] : "");
        return -1;
    }
    c->ratio_reads = r;
    c->ratio_writes = w;
    return 0;
}

static void format_ratio(const void *conf, struct buf *out)
{
    const struct bench_config *c = conf;
    buf_printf(out, "%lld:%lld", c->ratio_reads, c->ratio_writes);
}

static bool forbidden_in_step(const char *name)
{
    static const char *const no[] = {"step", "run", "spawn", "sleep", "scenario", "config", "json", "html", "progress",
                                       "slow", "slow-interval", "slow-tick"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcasecmp(name, no[i]) == 0)
            return true;
    return false;
}

int bench_scenario_apply_step(struct bench_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    if (argc < 1) {
        snprintf(err, errlen, "'step' needs a name: step NAME [directive value ...]");
        return -1;
    }
    if ((argc - 1) % 2 != 0) {
        snprintf(err, errlen, "step '%s': settings come in pairs (directive value), got %d word%s after the name",
                 argv[0], argc - 1, argc == 2 ? "" : "s");
        return -1;
    }
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i];
        if (strncmp(name, "--", 2) == 0)
            name += 2;
        char e[400];
        if (forbidden_in_step(name)) {
            snprintf(err, errlen, "step '%s': '%s' cannot be set per step", argv[0], name);
            return -1;
        }
        if (conf_set(&bench_conf_table, cfg, name, 1, &argv[i + 1], false, e, sizeof e) != 0) {
            snprintf(err, errlen, "step '%s': %s", argv[0], e);
            return -1;
        }
    }
    return 0;
}

int bench_scenario_check_step(int argc, char **argv, char *err, size_t errlen)
{
    struct bench_config tmp;
    conf_defaults(&bench_conf_table, &tmp);
    int rc = bench_scenario_apply_step(&tmp, argc, argv, err, errlen);
    conf_free(&bench_conf_table, &tmp);
    return rc;
}

/* scenario lines: validated here, run by scenario.c */
static int parse_step(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    if (bench_scenario_check_step(argc, argv, err, errlen) != 0)
        return -1;
    ((struct bench_config *)conf)->scenario_lines++;
    return 0;
}

static int parse_command(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    (void)argv;
    if (argc < 1) {
        snprintf(err, errlen, "a command is missing");
        return -1;
    }
    ((struct bench_config *)conf)->scenario_lines++;
    return 0;
}

static int parse_sleep(void *conf, int argc, char **argv, char *err, size_t errlen)
{
    long long ms;
    if (argc != 1 || !util_parse_duration_ms(argv[0], &ms) || ms > DAY_MS) {
        snprintf(err, errlen, "'sleep' takes one duration like 2s or 500ms");
        return -1;
    }
    ((struct bench_config *)conf)->scenario_lines++;
    return 0;
}

static void format_none(const void *conf, struct buf *out) { (void)conf, (void)out; }

static const struct conf_enum progress_names[] = {
    {"auto", BENCH_PROGRESS_AUTO}, {"tty", BENCH_PROGRESS_TTY}, {"plain", BENCH_PROGRESS_PLAIN},
    {"off", BENCH_PROGRESS_OFF}, {NULL, 0},
};

static const struct conf_directive bench_dirs[] = {
    CONF_ROW_STRING("target", OFF(target), "", 0,
        "URL to load: http://HOST:PORT/PATH or redis://HOST:PORT (also the first bare argument)"),
    CONF_ROW_INT("connections", OFF(connections), 1, 100000, "10", 0, "connections kept open (-c)"),
    CONF_ROW_INT("threads", OFF(threads), 1, 256, "1", 0,
        "worker threads, each with its own event loop and share of the connections (-t)"),
    CONF_ROW_DURATION("duration", OFF(duration_ms), 0, 30 * DAY_MS, "0", 1000, 0,
        "how long to send (-d); 0 means 10s, or until `requests` are done when that is set"),
    CONF_ROW_INT("requests", OFF(requests), 0, 1LL << 50, "0", 0, "number of requests to send (-n); 0: no limit"),
    CONF_ROW_INT("rate", OFF(rate), 0, 100000000, "0", 0,
        "open loop: requests per second over all connections, latency measured from the scheduled time (-R); 0: "
        "closed loop"),
    CONF_ROW_DURATION("timeout", OFF(timeout_ms), 1, DAY_MS, "10s", 1000, 0,
        "a request (or connect) without an answer this long is an error"),
    CONF_ROW_INT("pipeline", OFF(pipeline), 1, BENCH_MAX_PIPELINE, "1", 0, "requests in flight per connection (-P)"),
    CONF_ROW_STRING("method", OFF(method), "GET", 0, "HTTP method"),
    {"header", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "HTTP header 'Name: value' added to every request; repeat for more (-H)", 0, parse_header, format_header},
    CONF_ROW_STRING("body-file", OFF(body_file), "", 0,
        "HTTP request body read from this file (with --method POST/PUT)"),
    CONF_ROW_INT("retry-idempotent", OFF(retry_idempotent), 0, 100, "0", 0,
        "HTTP: resend a GET/HEAD/PUT/DELETE/OPTIONS request whose connection closed, reset or failed before any byte "
        "of its answer, on a new connection, up to this many times (what browsers do); 0: never"),
    CONF_ROW_INT("keys", OFF(keys), 1, 1LL << 40, "100000", 0,
        "RESP: size of the keyspace (keys KEY_PREFIX000000000000 ...)"),
    {"dist", CONF_CUSTOM, 0, 0, 0, "uniform", NULL, 0,
     "RESP: key popularity, uniform or zipf:S (S the exponent, e.g. zipf:0.99)", 0, parse_dist, format_dist},
    {"ratio", CONF_CUSTOM, 0, 0, 0, "9:1", NULL, 0,
     "RESP: GETs to SETs, e.g. 9:1, 1:0 (only GET) or 0:1 (only SET)", 0, parse_ratio, format_ratio},
    CONF_ROW_INT("value-size", OFF(value_size), 0, 512LL * 1024 * 1024, "64", 0, "RESP: bytes of each SET value"),
    CONF_ROW_STRING("key-prefix", OFF(key_prefix), "key:", 0, "RESP: prefix of every key"),
    CONF_ROW_STRING("json", OFF(json), "", 0, "write every figure to this JSON file"),
    CONF_ROW_STRING("html", OFF(html), "", 0,
        "write an HTML report with plots to this file (scenarios: default bench-report.html)"),
    CONF_ROW_STRING("scenario", OFF(scenario), "", 0,
        "run the steps and actions of this scenario file (see docs/bench.md)"),
    CONF_ROW_STRING("name", OFF(name), "", 0, "name of the run or step in reports"),
    CONF_ROW_ENUM("progress", OFF(progress), "auto", progress_names, 0,
        "live progress on stderr: auto (a rewritten line on a terminal, else a line per second), tty, plain, off"),
    CONF_ROW_DURATION("action-timeout", OFF(action_timeout_ms), 1, DAY_MS, "60s", 1000, 0,
        "scenario: a `run` command still running after this is killed"),
    CONF_ROW_INT("slow", OFF(slow), 0, 1000000, "0", 0,
        "instead of measuring, hold this many slow clients on the target: each sends the opening of a "
        "request (HTTP: a head without its end; RESP: a SET announcing a 1 MB value) and then one byte "
        "per slow-interval, reconnecting when the server closes it, for `duration` (0: until stopped)"),
    CONF_ROW_DURATION("slow-interval", OFF(slow_interval_ms), 1, 3600 * 1000, "1s", 1000, 0,
        "slow clients: each sends one more byte this often"),
    CONF_ROW_DURATION("slow-tick", OFF(slow_tick_ms), 1, 1000, "1ms", 1, 0,
        "slow clients: the pacing timer's shortest tick; the clients due in one tick send together "
        "(1,000 clients at 1s: one every 1 ms; with 10ms, bursts of ten)"),
    {"step", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "scenario only: step NAME [directive value ...] runs one measured step", 0, parse_step, format_none},
    {"run", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "scenario only: run CMD [ARGS...] runs a command and waits for it", 0, parse_command, format_none},
    {"spawn", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "scenario only: spawn CMD [ARGS...] starts a command and goes on (stopped at the end)", 0, parse_command,
     format_none},
    {"sleep", CONF_CUSTOM, 0, 0, 0, NULL, NULL, CONF_REPEAT,
     "scenario only: sleep DURATION between steps", 0, parse_sleep, format_none},
    CONF_END,
};

const struct conf_table bench_conf_table = {"bench", bench_dirs, sizeof(struct bench_config), NULL};

void bench_config_copy(struct bench_config *dst, const struct bench_config *src)
{
    memcpy(dst, src, sizeof *dst);
    for (const struct conf_directive *d = bench_dirs; d->name; d++) {
        if (d->type != CONF_STRING)
            continue;
        char **f = (char **)((char *)dst + d->offset);
        *f = *f ? xstrdup(*f) : NULL;
    }
}

void bench_config_describe(const struct bench_config *c, struct buf *out)
{
    buf_printf(out, "%lld connection%s, %lld thread%s", c->connections, c->connections == 1 ? "" : "s",
               c->threads, c->threads == 1 ? "" : "s");
    if (c->pipeline > 1)
        buf_printf(out, ", pipeline %lld", c->pipeline);
    if (c->rate > 0)
        buf_printf(out, ", open loop at %lld req/s", c->rate);
    else
        buf_puts(out, ", closed loop");
    long long d = c->duration_ms;
    if (c->requests > 0)
        buf_printf(out, ", %lld requests", c->requests);
    if (d > 0 || c->requests == 0) {
        if (d == 0)
            d = 10000;
        if (d % 1000 == 0)
            buf_printf(out, "%s %llds", c->requests > 0 ? " or" : ",", d / 1000);
        else
            buf_printf(out, "%s %lldms", c->requests > 0 ? " or" : ",", d);
    }
}

void bench_counts_add(struct bench_counts *dst, const struct bench_counts *src)
{
    dst->sent += src->sent;
    dst->done += src->done;
    for (int i = 0; i < BENCH_ERR__COUNT; i++)
        dst->errors[i] += src->errors[i];
    for (int i = 0; i < 6; i++)
        dst->status[i] += src->status[i];
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
    dst->connects += src->connects;
    dst->reconnects += src->reconnects;
    dst->retried += src->retried;
    dst->cancelled += src->cancelled;
    dst->unsent += src->unsent;
}

/* ---- target URL ----------------------------------------------------------- */

const struct bench_proto *const bench_protos[] = {
#define BENCH_X_ROW(sym, aliases) &sym,
    BENCH_PROTOCOLS(BENCH_X_ROW)
#undef BENCH_X_ROW
    NULL,
};

static const char *const proto_aliases[] = {
#define BENCH_X_ALIASES(sym, aliases) aliases,
    BENCH_PROTOCOLS(BENCH_X_ALIASES)
#undef BENCH_X_ALIASES
};

/* Whether s[0..n) is one of the space-separated words of list, case-insensitively. */
static bool in_words(const char *list, const char *s, size_t n)
{
    for (const char *w = list; *w;) {
        size_t l = strcspn(w, " ");
        if (l == n && n > 0 && strncasecmp(w, s, n) == 0)
            return true;
        w += l;
        while (*w == ' ')
            w++;
    }
    return false;
}

const struct bench_proto *bench_proto_find(const char *s, size_t n)
{
    for (int i = 0; bench_protos[i]; i++)
        if (strlen(bench_protos[i]->scheme) == n && strncasecmp(s, bench_protos[i]->scheme, n) == 0)
            return bench_protos[i];
    for (int i = 0; bench_protos[i]; i++)
        if (in_words(proto_aliases[i], s, n))
            return bench_protos[i];
    return NULL;
}

/* The scheme: t->proto. Returns a pointer past "://", or NULL with err set. */
static const char *target_scheme(struct bench_target *t, const char *url, char *err, size_t errlen)
{
    const char *sep = strstr(url, "://");
    if (sep)
        t->proto = bench_proto_find(url, (size_t)(sep - url));
    if (!t->proto) {
        if (sep && sep - url == 5 && strncasecmp(url, "https", 5) == 0)
            snprintf(err, errlen, "'%s': https is not supported (plain HTTP/1.1 and RESP only)", url);
        else
            snprintf(err, errlen, "'%s': the target must start with http:// or redis://", url);
        return NULL;
    }
    return sep + 3;
}

/* The authority auth[0..alen) ("host", "host:port", "[v6]:port"): t->host,
 * t->port (default: the protocol's), t->hostport. 0, or -1 with err set. */
static int target_authority(struct bench_target *t, const char *url, const char *auth, size_t alen, char *err,
                            size_t errlen)
{
    if (memchr(auth, '@', alen)) {
        snprintf(err, errlen, "'%s': credentials in the URL are not supported", url);
        return -1;
    }
    char hp[300];
    if (alen == 0 || alen >= sizeof hp) {
        snprintf(err, errlen, "'%s': missing or too long host", url);
        return -1;
    }
    memcpy(hp, auth, alen);
    hp[alen] = '\0';
    t->port = t->proto->default_port;
    const char *close = hp[0] == '[' ? strchr(hp, ']') : NULL;
    const char *colon = close ? (close[1] == ':' ? close + 1 : NULL) : strrchr(hp, ':');
    if (hp[0] == '[' && !close) {
        snprintf(err, errlen, "'%s': bad IPv6 address", url);
        return -1;
    }
    size_t hlen = colon ? (size_t)(colon - hp) : alen;
    if (colon) {
        long long p;
        if (!util_str2ll(colon + 1, strlen(colon + 1), &p) || p < 1 || p > 65535) {
            snprintf(err, errlen, "'%s': bad port", url);
            return -1;
        }
        t->port = (int)p;
    }
    const char *h = hp;
    if (hp[0] == '[') {
        h = hp + 1;
        hlen = (size_t)(close - hp) - 1;
    }
    if (hlen == 0 || hlen >= sizeof t->host) {
        snprintf(err, errlen, "'%s': missing host", url);
        return -1;
    }
    memcpy(t->host, h, hlen);
    t->host[hlen] = '\0';
    snprintf(t->hostport, sizeof t->hostport, "%s", hp);
    return 0;
}

/* What follows the authority: t->path ("/" at least; a bare "?q" becomes
 * "/?q"; no fragment). 0, or -1 with err set. */
static int target_path(struct bench_target *t, const char *url, const char *rest, char *err, size_t errlen)
{
    if (*rest == '#')
        rest = "";
    size_t plen = strcspn(rest, "#");
    if (plen == 0) {
        strcpy(t->path, "/");
    } else if (rest[0] == '?') {
        if (plen + 2 > sizeof t->path)
            goto longpath;
        snprintf(t->path, sizeof t->path, "/%.*s", (int)plen, rest);
    } else {
        if (plen + 1 > sizeof t->path)
            goto longpath;
        snprintf(t->path, sizeof t->path, "%.*s", (int)plen, rest);
    }
    for (const char *p = t->path; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            snprintf(err, errlen, "'%s': the path has a space or a byte that must be %%-encoded", url);
            return -1;
        }
    }
    return 0;
longpath:
    snprintf(err, errlen, "'%s': path too long", url);
    return -1;
}

/* t->host and t->port to t->addr, IPv4 first when a name has both (servers
 * bound to 127.0.0.1). 0, or -1 with err set. */
static int target_resolve(struct bench_target *t, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    char port[16];
    snprintf(port, sizeof port, "%d", t->port);
    int rc = getaddrinfo(t->host, port, &hints, &res);
    if (rc == EAI_BADFLAGS || (rc != 0 && rc != EAI_NONAME)) {
        hints.ai_flags = AI_NUMERICSERV;
        rc = getaddrinfo(t->host, port, &hints, &res);
    }
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve '%s': %s", t->host, gai_strerror(rc));
        return -1;
    }
    struct addrinfo *pick = res;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
    t->addrlen = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int bench_target_parse(struct bench_target *t, const char *url, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!url || !*url) {
        snprintf(err, errlen, "no target: give a URL like http://127.0.0.1:8080/ or redis://127.0.0.1:6379");
        return -1;
    }
    const char *auth = target_scheme(t, url, err, errlen);
    if (!auth)
        return -1;
    size_t alen = strcspn(auth, "/?#");
    if (target_authority(t, url, auth, alen, err, errlen) != 0 || target_path(t, url, auth + alen, err, errlen) != 0)
        return -1;
    return target_resolve(t, err, errlen);
}
