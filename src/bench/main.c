/*
 * main.c — `scaleout bench`: command line, single runs, and hand-over to
 * scenarios.
 *
 * The command line is the directive table (config.c) with wrk's and
 * redis-benchmark's short flags mapped onto it, and the target as a bare
 * argument:
 *
 *   -c N  connections   -t N  threads    -d T  duration   -n N  requests
 *   -R N  rate          -H 'Name: v'  header               -P N  pipeline
 *   --directive value  (or --directive=value) for every directive
 *   --config FILE      a file of directives (applied first)
 *
 * Exit status: 0 when the run finished (errors are reported, not fatal), 1
 * when it could not start or got no response at all, 2 for a usage error,
 * 130 when interrupted (results are still printed and written).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "net/server.h"
#include "core/buf.h"

static const struct {
    const char *flag;
    const char *directive;
} short_flags[] = {
    {"-c", "connections"}, {"-t", "threads"}, {"-d", "duration"}, {"-n", "requests"},
    {"-R", "rate"},        {"-H", "header"},  {"-P", "pipeline"},
};

static void usage(FILE *f)
{
    net_server_usage(f, &bench_conf_table,
                     "usage: scaleout bench URL [options]\n"
                     "       scaleout bench --scenario FILE [options]\n\n"
                     "A load generator for HTTP/1.1 and RESP servers: closed loop (each connection sends its next\n"
                     "request when the last one is answered) or open loop (--rate: requests leave on a fixed\n"
                     "schedule and latency counts from the scheduled time, so a stalled server shows in the\n"
                     "percentiles). Prints throughput, p50..p99.99 and max latency, and errors by kind.\n\n"
                     "URL: http://HOST[:PORT]/PATH or redis://HOST[:PORT]\n\n"
                     "short flags: -c connections, -t threads, -d duration, -n requests, -R rate, -H header,\n"
                     "             -P pipeline\n\n"
                     "every directive is also a flag (--name value), and a line of a --config or --scenario file:\n\n",
                     "\n"
                     "examples:\n"
                     "  scaleout bench http://127.0.0.1:8080/ -c 50 -d 30s\n"
                     "  scaleout bench http://127.0.0.1:8080/api --rate 2000 -c 100 -d 1m --json out.json\n"
                     "  scaleout bench redis://127.0.0.1:7379 -c 50 -P 16 --ratio 1:1 --dist zipf:0.99 -n 1000000\n"
                     "  scaleout bench --scenario ramp.bench --html report.html\n"
                     "  scaleout bench --slow 1000 http://127.0.0.1:8080/ -d 30s   (1,000 slow-header clients)\n"
                     "details: docs/bench.md\n");
}

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&bench_interrupted, true);
}

/* Many connections need many descriptors: take the hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void install_signals(void)
{
    raise_fd_limit();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/*
 * Turn argv into (directive, value) pairs: pairs[2k] is a name, pairs[2k+1]
 * its value (pointers into argv). *config is the --config file, if any.
 * Returns the number of pairs, or -1 after printing an error.
 */
static int parse_argv(int argc, char **argv, char **pairs, const char **config)
{
    int n = 0;
    bool has_target = false;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        const char *name = NULL;
        for (size_t k = 0; k < sizeof short_flags / sizeof short_flags[0]; k++)
            if (strcmp(a, short_flags[k].flag) == 0)
                name = short_flags[k].directive;
        char *value = NULL;
        if (!name && strncmp(a, "--", 2) == 0 && a[2]) {
            char *eq = strchr(a, '=');
            if (eq) {
                *eq = '\0';
                value = eq + 1;
            }
            name = a + 2;
        } else if (!name && a[0] == '-' && a[1]) {
            fprintf(stderr, "scaleout bench: unknown option '%s' (see scaleout bench --help)\n", a);
            return -1;
        } else if (!name) {
            if (has_target) {
                fprintf(stderr, "scaleout bench: give one target URL, not '%s' as well\n", a);
                return -1;
            }
            has_target = true;
            pairs[n++] = "target";
            pairs[n++] = a;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "scaleout bench: %s needs a value\n", a);
                return -1;
            }
            value = argv[++i];
        }
        if (strcmp(name, "config") == 0) {
            *config = value;
            continue;
        }
        pairs[n++] = (char *)name;
        pairs[n++] = value;
    }
    return n;
}

static int single_run(struct bench_config *cfg)
{
    struct bench_report r;
    memset(&r, 0, sizeof r);
    bench_started_now(r.started, sizeof r.started);
    r.steps = xcalloc(1, sizeof *r.steps);
    r.nsteps = 1;
    char err[512];
    install_signals();
    int rc = bench_run_step(cfg, bench_now_ns(), &r.steps[0], err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "scaleout bench: %s\n", err);
        bench_report_free(&r);
        return 1;
    }
    const struct bench_step *s = &r.steps[0];
    bench_print_step(stdout, s);
    fflush(stdout);
    int status = s->c.done == 0 ? 1 : 0;
    if (cfg->json && *cfg->json && bench_write_json(&r, cfg->json, err, sizeof err) != 0) {
        fprintf(stderr, "scaleout bench: %s\n", err);
        status = 1;
    }
    if (cfg->html && *cfg->html) {
        if (bench_write_html(&r, cfg->html, err, sizeof err) != 0) {
            fprintf(stderr, "scaleout bench: %s\n", err);
            status = 1;
        } else {
            fprintf(stderr, "report: %s\n", cfg->html);
        }
    }
    if (s->interrupted)
        status = 130;
    bench_report_free(&r);
    return status;
}

int bench_main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    if (argc == 0) {
        usage(stderr);
        return 2;
    }
    char **pairs = xcalloc((size_t)argc * 2 + 2, sizeof *pairs);
    const char *config = NULL;
    int n = parse_argv(argc, argv, pairs, &config);
    if (n < 0) {
        xfree(pairs);
        return 2;
    }
    struct bench_config cfg;
    conf_defaults(&bench_conf_table, &cfg);
    int errors = 0;
    if (config) {
        struct buf errs;
        buf_init(&errs);
        int e = conf_load_file(&bench_conf_table, &cfg, config, &errs);
        if (e != 0) {
            fprintf(stderr, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
            errors += e < 0 ? 1 : e;
        }
        buf_deinit(&errs);
    }
    bench_apply_pairs(&cfg, pairs, n, "scaleout bench", &errors);
    int status;
    if (errors) {
        fprintf(stderr, "scaleout bench: invalid options (see scaleout bench --help)\n");
        status = 2;
    } else if (config && cfg.scenario && *cfg.scenario) {
        fprintf(stderr, "scaleout bench: give --scenario FILE or --config FILE, not both\n");
        status = 2;
    } else if (cfg.slow > 0 && ((cfg.scenario && *cfg.scenario) || cfg.scenario_lines > 0)) {
        fprintf(stderr, "scaleout bench: --slow runs alone, not with a scenario (spawn it from one)\n");
        status = 2;
    } else if ((cfg.scenario && *cfg.scenario) || cfg.scenario_lines > 0) {
        const char *file = cfg.scenario && *cfg.scenario ? cfg.scenario : config;
        install_signals();
        status = bench_scenario_main(file, pairs, n);
    } else if (!cfg.target || !*cfg.target) {
        fprintf(stderr, "scaleout bench: no target: give a URL (http://HOST:PORT/PATH or redis://HOST:PORT) "
                        "or --scenario FILE\n");
        status = 2;
    } else {
        struct bench_target t;
        char err[512];
        if (bench_target_parse(&t, cfg.target, err, sizeof err) != 0) {
            fprintf(stderr, "scaleout bench: %s\n", err);
            status = 2;
        } else if (cfg.slow > 0) {
            install_signals();
            status = bench_slow_main(&cfg, &t);
        } else {
            status = single_run(&cfg);
        }
    }
    conf_free(&bench_conf_table, &cfg);
    xfree(pairs);
    return status;
}
