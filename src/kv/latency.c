/*
 * latency.c — the latency monitor, per-command latency histograms and the
 * LATENCY command (see latency.h). Replies are Redis 7.0's: LATEST, HISTORY,
 * RESET and HISTOGRAM as data; GRAPH and DOCTOR are reports for people, in
 * words and a chart of our own (GRAPH's first line keeps Redis's "high ...
 * low ... all time high" figures).
 */
#include "kv/latency.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/hist.h"
#include "core/util.h"
#include "kv/multi.h"
#include "kv/reply.h"
#include "kv/types.h"

#define TS_LEN 160        /* samples an event keeps (Redis's LATENCY_TS_LEN) */
#define MAX_EVENTS 32
#define HIST_MIN_NS 1
#define HIST_MAX_NS 1000000000LL /* Redis's histogram range: 1 ns .. 1 s */

struct sample {
    int32_t time;     /* unix seconds; 0: empty */
    uint32_t latency; /* ms */
};

struct series {
    char name[32];
    int idx; /* next slot */
    uint32_t max;
    struct sample s[TS_LEN];
};

struct kv_latency {
    int nev;
    struct series *ev[MAX_EVENTS];
    struct hist **hist; /* RESP_CMD_COUNT commands, then resp_subcmd_count subcommands */
};

struct kv_latency *kv_latency_new(void)
{
    struct kv_latency *l = xcalloc(1, sizeof *l);
    l->hist = xcalloc((size_t)(RESP_CMD_COUNT + resp_subcmd_count), sizeof *l->hist);
    return l;
}

void kv_latency_reset_histograms(struct kv_latency *l)
{
    if (!l)
        return;
    for (int i = 0; i < RESP_CMD_COUNT + resp_subcmd_count; i++) {
        hist_free(l->hist[i]);
        l->hist[i] = NULL;
    }
}

void kv_latency_free(struct kv_latency *l)
{
    if (!l)
        return;
    kv_latency_reset_histograms(l);
    xfree(l->hist);
    for (int i = 0; i < l->nev; i++)
        xfree(l->ev[i]);
    xfree(l);
}

static struct series *find_event(struct kv_latency *l, const char *name, size_t len)
{
    for (int i = 0; i < l->nev; i++)
        if (strlen(l->ev[i]->name) == len && memcmp(l->ev[i]->name, name, len) == 0)
            return l->ev[i];
    return NULL;
}

/* Redis latencyAddSample: one sample a second, the largest. */
static void add_sample(struct kv_latency *l, const char *event, uint32_t ms)
{
    struct series *ts = find_event(l, event, strlen(event));
    if (!ts) {
        if (l->nev == MAX_EVENTS)
            return;
        ts = xcalloc(1, sizeof *ts);
        snprintf(ts->name, sizeof ts->name, "%s", event);
        l->ev[l->nev++] = ts;
    }
    int32_t now = (int32_t)time(NULL);
    if (ms > ts->max)
        ts->max = ms;
    struct sample *prev = &ts->s[(ts->idx + TS_LEN - 1) % TS_LEN];
    if (prev->time == now) {
        if (ms > prev->latency)
            prev->latency = ms;
        return;
    }
    ts->s[ts->idx] = (struct sample){now, ms};
    ts->idx = (ts->idx + 1) % TS_LEN;
}

void kv_latency_event(struct kv_server *s, const char *event, long long ms)
{
    long long th = s->cfg.latency_monitor_threshold;
    if (th > 0 && ms >= th && s->latency)
        add_sample(s->latency, event, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
}

void kv_latency_note(struct kv_server *s, int id, int sub, long long usec)
{
    if (!s->latency) /* a server set up without one (unit tests) */
        return;
    if (s->cfg.latency_tracking) {
        struct hist **h = &s->latency->hist[sub >= 0 ? RESP_CMD_COUNT + sub : id];
        if (!*h)
            *h = hist_new();
        long long ns = usec * 1000;
        hist_record(*h, (uint64_t)(ns < HIST_MIN_NS ? HIST_MIN_NS : ns > HIST_MAX_NS ? HIST_MAX_NS : ns));
    }
    kv_latency_event(s, resp_cmds[id].flags & CMD_FAST ? "fast-command" : "command", usec / 1000);
}

/* ---- histograms: HdrHistogram's reading of the buckets ------------------------ */

/* hdr_value_at_percentile: the bucket holding the value of rank
 * round(p% of the count) (at least 1); its highest value (lowest for p 0). */
static uint64_t value_at_percentile(const struct hist *h, double p)
{
    double q = p < 100.0 ? p : 100.0;
    int64_t want = (int64_t)((q / 100) * (double)h->total + 0.5);
    if (want < 1)
        want = 1;
    uint64_t cum = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        cum += h->counts[i];
        if (cum >= (uint64_t)want)
            return p == 0.0 ? hist_bucket_lo(i) : hist_bucket_hi(i);
    }
    return 0;
}

/* Redis's fillCommandCDF: the cumulative count at each power of two from
 * 1024 ns (the top of the bucket holding it, in µs), where it grew. */
static void reply_cdf(struct kv_client *c, const struct hist *h)
{
    struct buf pairs;
    buf_init(&pairs);
    long long n = 0;
    uint64_t cum = 0, prev = 0;
    size_t next = 0;
    for (uint64_t level = 1024; cum < h->total && level <= (uint64_t)HIST_MAX_NS * 2; level <<= 1) {
        size_t top = hist_index(level);
        for (; next <= top; next++)
            cum += h->counts[next];
        if (cum > prev) {
            resp_add_int(&pairs, (long long)(hist_bucket_hi(top) / 1000));
            resp_add_int(&pairs, (long long)cum);
            n++;
        }
        prev = cum;
    }
    resp_add_map(&c->out, c->proto, 2);
    resp_add_bulk_cstr(&c->out, "calls");
    resp_add_int(&c->out, (long long)h->total);
    resp_add_bulk_cstr(&c->out, "histogram_usec");
    resp_add_map(&c->out, c->proto, n);
    buf_append(&c->out, buf_head(&pairs), buf_pending(&pairs));
    buf_deinit(&pairs);
}

/* The name Redis gives a histogram: "get", or "config|get". */
static int hist_name(int slot, char *out, size_t cap)
{
    if (slot < RESP_CMD_COUNT)
        return snprintf(out, cap, "%s", resp_cmds[slot].name);
    const struct resp_subcmd *sc = &resp_subcmds[slot - RESP_CMD_COUNT];
    return snprintf(out, cap, "%s|%s", resp_cmds[sc->parent].name, sc->name);
}

static void reply_histogram(struct kv_client *c, const int *slots, int n)
{
    struct kv_latency *l = c->srv->latency;
    resp_add_map(&c->out, c->proto, n);
    for (int i = 0; i < n; i++) {
        char name[64];
        int len = hist_name(slots[i], name, sizeof name);
        resp_add_bulk(&c->out, name, (size_t)len);
        reply_cdf(c, l->hist[slots[i]]);
    }
}

/* LATENCY HISTOGRAM [command ...]: a container names its subcommands' too;
 * unknown names and commands never run are left out. */
static void latency_histogram(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_latency *l = c->srv->latency;
    int total = RESP_CMD_COUNT + resp_subcmd_count;
    int *slots = xmalloc((size_t)total * sizeof *slots);
    bool *seen = xcalloc((size_t)total, sizeof *seen);
    int n = 0;
    for (int j = argc == 2 ? -1 : 2; j < argc; j++) {
        int from = 0, to = total;
        if (j >= 2) {
            const char *bar = memchr(argv[j].ptr, '|', argv[j].len);
            int id = resp_cmd_lookup(argv[j].ptr, bar ? (size_t)(bar - argv[j].ptr) : argv[j].len);
            if (id < 0)
                continue;
            if (bar) {
                int sub = resp_subcmd_lookup(id, bar + 1, argv[j].len - (size_t)(bar + 1 - argv[j].ptr));
                if (sub < 0)
                    continue;
                from = RESP_CMD_COUNT + sub;
                to = from + 1;
            } else {
                from = id;
                to = id + 1;
                /* and its subcommands */
                for (int k = 0; k < resp_subcmd_count; k++)
                    if (resp_subcmds[k].parent == id && l->hist[RESP_CMD_COUNT + k] && !seen[RESP_CMD_COUNT + k]) {
                        seen[RESP_CMD_COUNT + k] = true;
                        slots[n++] = RESP_CMD_COUNT + k;
                    }
            }
        }
        for (int k = from; k < to; k++)
            if (l->hist[k] && !seen[k]) {
                seen[k] = true;
                slots[n++] = k;
            }
        if (j < 0)
            j = 1; /* no arguments: every command, once */
    }
    reply_histogram(c, slots, n);
    xfree(seen);
    xfree(slots);
}

void kv_latency_info(struct kv_server *s, struct buf *o)
{
    struct kv_latency *l = s->latency;
    for (int k = 0; k < RESP_CMD_COUNT + resp_subcmd_count; k++) {
        if (!l->hist[k])
            continue;
        char name[64];
        hist_name(k, name, sizeof name);
        buf_printf(o, "latency_percentiles_usec_%s:", name);
        for (int j = 0; j < s->cfg.latency_npercentiles; j++) {
            struct buf p;
            buf_init(&p);
            kv_latency_format_percentiles(&s->cfg.latency_percentiles[j], 1, &p);
            buf_printf(o, "%sp%.*s=%.3f", j ? "," : "", (int)buf_pending(&p), buf_head(&p),
                       (double)value_at_percentile(l->hist[k], s->cfg.latency_percentiles[j]) / 1000.0);
            buf_deinit(&p);
        }
        buf_puts(o, "\r\n");
    }
}

/* ---- config ------------------------------------------------------------------- */

int kv_latency_parse_percentiles(const char *const *words, int n, double *out, int cap, char *err, size_t errlen)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (words[i][0] == '\0')
            continue;
        struct resp_arg a = {words[i], strlen(words[i])};
        double v;
        if (!kv_str2d(&a, &v) || k == cap) {
            snprintf(err, errlen, "Invalid latency-tracking-info-percentiles parameters");
            return -1;
        }
        if (v < 0.0 || v > 100.0) {
            snprintf(err, errlen, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
            return -1;
        }
        out[k++] = v;
    }
    return k;
}

/* "%f" without trailing zeros, as Redis prints a percentile. */
void kv_latency_format_percentiles(const double *p, int n, struct buf *out)
{
    for (int i = 0; i < n; i++) {
        char s[64];
        int len = snprintf(s, sizeof s, "%f", p[i]);
        if (memchr(s, '.', (size_t)len)) {
            while (len > 0 && s[len - 1] == '0')
                len--;
            if (len > 0 && s[len - 1] == '.')
                len--;
        }
        if (i)
            buf_putc(out, ' ');
        buf_append(out, s, (size_t)len);
    }
}

/* ---- LATENCY -------------------------------------------------------------------- */

static void reply_samples(struct kv_client *c, const struct series *ts)
{
    int n = 0;
    for (int j = 0; j < TS_LEN; j++)
        n += ts->s[j].time != 0;
    resp_add_array(&c->out, n);
    for (int j = 0; j < TS_LEN; j++) {
        const struct sample *sm = &ts->s[(ts->idx + j) % TS_LEN];
        if (sm->time == 0)
            continue;
        resp_add_array(&c->out, 2);
        resp_add_int(&c->out, sm->time);
        resp_add_int(&c->out, sm->latency);
    }
}

static const struct sample *latest(const struct series *ts) { return &ts->s[(ts->idx + TS_LEN - 1) % TS_LEN]; }

/* A chart of an event's samples, oldest on the left, one column each. */
static void graph(const struct series *ts, struct buf *o)
{
    const int rows = 8;
    uint32_t hi = 0, lo = UINT32_MAX;
    int n = 0;
    const struct sample *col[TS_LEN];
    for (int j = 0; j < TS_LEN; j++) {
        const struct sample *sm = &ts->s[(ts->idx + j) % TS_LEN];
        if (sm->time == 0)
            continue;
        col[n++] = sm;
        if (sm->latency > hi)
            hi = sm->latency;
        if (sm->latency < lo)
            lo = sm->latency;
    }
    if (n == 0)
        lo = 0;
    buf_printf(o, "%s - high %u ms, low %u ms (all time high %u ms)\n", ts->name, hi, lo, ts->max);
    for (int i = 0; i < 80; i++)
        buf_putc(o, '-');
    buf_putc(o, '\n');
    int first = n > 80 ? n - 80 : 0; /* the latest 80 fit a terminal */
    for (int r = rows; r >= 1; r--) {
        for (int j = first; j < n; j++) {
            /* the column's height in eighths of the range between low and high */
            uint32_t span = hi - lo;
            int h = span ? 1 + (int)((uint64_t)(col[j]->latency - lo) * (uint64_t)(rows - 1) / span) : rows;
            buf_putc(o, h >= r ? '#' : ' ');
        }
        buf_putc(o, '\n');
    }
    int32_t now = (int32_t)time(NULL);
    if (n)
        buf_printf(o, "%d samples; oldest %lds ago, newest %lds ago\n", n - first, (long)(now - col[first]->time),
                   (long)(now - col[n - 1]->time));
}

static void doctor(struct kv_server *s, struct buf *o)
{
    struct kv_latency *l = s->latency;
    if (s->cfg.latency_monitor_threshold == 0) {
        buf_puts(o, "The latency monitor is off: nothing was recorded. Turn it on with CONFIG SET "
                    "latency-monitor-threshold <milliseconds>; every command taking at least that long is then "
                    "recorded as a \"command\" or \"fast-command\" event.\n");
        return;
    }
    if (l->nev == 0) {
        buf_printf(o, "No event has reached the threshold of %lld ms since the monitor was turned on.\n",
                   s->cfg.latency_monitor_threshold);
        return;
    }
    buf_printf(o, "Events that reached the threshold of %lld ms:\n\n", s->cfg.latency_monitor_threshold);
    bool cmds = false;
    for (int i = 0; i < l->nev; i++) {
        const struct series *ts = l->ev[i];
        int n = 0;
        uint64_t sum = 0;
        for (int j = 0; j < TS_LEN; j++)
            if (ts->s[j].time) {
                n++;
                sum += ts->s[j].latency;
            }
        if (n == 0)
            continue;
        buf_printf(o, "%d. %s: %d sample(s), average %llu ms, latest %u ms, all-time high %u ms.\n", i + 1, ts->name,
                   n, (unsigned long long)(sum / (uint64_t)n), latest(ts)->latency, ts->max);
        cmds |= strcmp(ts->name, "command") == 0 || strcmp(ts->name, "fast-command") == 0;
    }
    if (cmds)
        buf_puts(o, "\nSlow commands: SLOWLOG GET names them; commands over large values (KEYS, SMEMBERS, "
                    "LRANGE 0 -1, SORT, big DEL) and scripts are the usual causes. A fast command that is slow "
                    "points at the machine (swap, a noisy neighbour, CPU frequency).\n");
}

void kv_cmd_LATENCY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    struct kv_latency *l = s->latency;
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    if (!kv_subcommand_ok(c, RESP_CMD_LATENCY, argc, argv))
        return;
    if (kv_arg_is(sub, "history")) {
        const struct series *ts = find_event(l, argv[2].ptr, argv[2].len);
        if (!ts)
            resp_add_array(&c->out, 0);
        else
            reply_samples(c, ts);
    } else if (kv_arg_is(sub, "latest")) {
        resp_add_array(&c->out, l->nev);
        for (int i = 0; i < l->nev; i++) {
            const struct sample *sm = latest(l->ev[i]);
            resp_add_array(&c->out, 4);
            resp_add_bulk_cstr(&c->out, l->ev[i]->name);
            resp_add_int(&c->out, sm->time);
            resp_add_int(&c->out, sm->latency);
            resp_add_int(&c->out, l->ev[i]->max);
        }
    } else if (kv_arg_is(sub, "reset")) {
        long long n = 0;
        for (int i = 0; i < l->nev; i++) {
            bool drop = argc == 2;
            for (int j = 2; j < argc && !drop; j++)
                drop = strlen(l->ev[i]->name) == argv[j].len && memcmp(l->ev[i]->name, argv[j].ptr, argv[j].len) == 0;
            if (drop) {
                xfree(l->ev[i]);
                l->ev[i--] = l->ev[--l->nev];
                n++;
            }
        }
        resp_add_int(&c->out, n);
    } else if (kv_arg_is(sub, "graph")) {
        const struct series *ts = find_event(l, argv[2].ptr, argv[2].len);
        if (!ts) {
            kv_reply_errorf(c, "ERR No samples available for event '%.*s'", (int)(argv[2].len > 128 ? 128 : argv[2].len),
                            argv[2].ptr);
            return;
        }
        struct buf g;
        buf_init(&g);
        graph(ts, &g);
        resp_add_verbatim(&c->out, c->proto, buf_head(&g), buf_pending(&g));
        buf_deinit(&g);
    } else if (kv_arg_is(sub, "doctor")) {
        struct buf d;
        buf_init(&d);
        doctor(s, &d);
        resp_add_verbatim(&c->out, c->proto, buf_head(&d), buf_pending(&d));
        buf_deinit(&d);
    } else if (kv_arg_is(sub, "histogram")) {
        latency_histogram(c, argc, argv);
    } else {
        static const char *help[] = {
            "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    A report, in words, of the events recorded.",
            "GRAPH <event>",
            "    A chart of the samples of <event>.",
            "HISTORY <event>",
            "    The samples of <event>: [unix time, milliseconds] pairs, oldest first.",
            "LATEST",
            "    For every event: its name, the time and value of its latest sample, and its all-time high.",
            "RESET [<event> ...]",
            "    Forget the samples of the events given (default: of all events).",
            "HISTOGRAM [<command> ...]",
            "    The cumulative latency distribution of the commands given (default: of every command run).",
            "HELP",
            "    Print this help.",
        };
        kv_reply_help(c, help, sizeof help / sizeof help[0]);
    }
}
