/*
 * scenario.c — `scaleout bench --scenario FILE`: steps and actions, run in
 * order, then one report.
 *
 * The file is a bench config file (same directives, same syntax, `scaleout
 * check` validates it) with four more kinds of line:
 *
 *   step NAME [directive value ...]   a measured step; its own settings win
 *   run CMD [ARG ...]                 run a command, wait (--action-timeout)
 *   spawn CMD [ARG ...]               start a command and go on; still
 *                                     running at the end: SIGTERM, SIGKILL
 *   sleep DURATION                    pause between steps
 *
 * A directive line sets the default of every step after it. Flags given on
 * the command line win over the file's directive lines (so --html and
 * --target can be changed without editing the file), and a step line wins
 * over both. The whole file is checked before anything runs: every error is
 * reported with file:line, and each step's target must resolve.
 *
 * Commands are started with posix_spawnp (no shell: write `run sh -c '...'`
 * for one), stdin from /dev/null, stdout to our stderr so the summaries on
 * stdout stay clean. Only processes started here are ever signalled, by PID.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "core/util.h"

extern char **environ;

#define MAX_WORDS 128
#define KILL_GRACE_NS (2000 * 1000 * 1000ULL)

enum { IT_STEP, IT_RUN, IT_SPAWN, IT_SLEEP };

struct item {
    int kind;
    int line;
    struct bench_config *cfg;  /* IT_STEP (6 KB of inline buffers: kept out of the item array) */
    char **argv;               /* IT_RUN, IT_SPAWN: NULL-terminated copies */
    char *text;                /* "run kill -STOP 123" */
    long long ms;              /* IT_SLEEP */
};

struct scenario {
    const char *file;
    struct item *items;
    size_t nitems, cap;
    size_t nsteps;
    struct bench_config base;  /* after the last line: output settings */
};

static struct item *add_item(struct scenario *sc, int kind, int line)
{
    if (sc->nitems == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 16;
        sc->items = xrealloc(sc->items, sc->cap * sizeof *sc->items);
    }
    struct item *it = &sc->items[sc->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->line = line;
    return it;
}

static void free_items(struct scenario *sc)
{
    for (size_t i = 0; i < sc->nitems; i++) {
        struct item *it = &sc->items[i];
        if (it->kind == IT_STEP) {
            conf_free(&bench_conf_table, it->cfg);
            xfree(it->cfg);
        }
        if (it->argv) {
            for (char **a = it->argv; *a; a++)
                xfree(*a);
            xfree(it->argv);
        }
        xfree(it->text);
    }
    xfree(sc->items);
    conf_free(&bench_conf_table, &sc->base);
}

static void apply_cli(struct bench_config *c, char **pairs, int npairs)
{
    int errors = 0;
    bench_apply_pairs(c, pairs, npairs, "scaleout bench", &errors);
}

/* Whether the command line set directive `name` (it then wins over the file). */
static bool cli_sets(char **pairs, int npairs, const char *name)
{
    for (int i = 0; i + 1 < npairs; i += 2)
        if (strcasecmp(pairs[i], name) == 0)
            return true;
    return false;
}

/* Read and check the whole file. Returns the number of errors (printed to errf). */
static int load(struct scenario *sc, char **pairs, int npairs, FILE *errf)
{
    FILE *f = fopen(sc->file, "r");
    conf_defaults(&bench_conf_table, &sc->base);
    apply_cli(&sc->base, pairs, npairs);
    if (!f) {
        fprintf(errf, "%s: cannot open: %s\n", sc->file, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, nerr = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *argv[MAX_WORDS], err[512];
        int argc = conf_split(line, argv, MAX_WORDS);
        if (argc < 0) {
            fprintf(errf, "%s:%d: unbalanced quotes or too many words\n", sc->file, lineno);
            nerr++;
            continue;
        }
        if (argc == 0)
            continue;
        const char *w = argv[0];
        if (strcasecmp(w, "role") == 0) {
            if (argc != 2 || strcmp(argv[1], "bench") != 0) {
                fprintf(errf, "%s:%d: this file is for role '%s', not 'bench'\n", sc->file, lineno,
                        argc > 1 ? argv[1] : "?");
                nerr++;
            }
        } else if (strcasecmp(w, "step") == 0) {
            /* the step's settings: the file's so far, its name, its own pairs
             * (checked as they are applied, so defaults are built once a file) */
            struct bench_config *cfg = xmalloc(sizeof *cfg); /* bench_config_copy fills all of it */
            bench_config_copy(cfg, &sc->base);
            if (argc >= 2) {
                char *name = argv[1];
                conf_set(&bench_conf_table, cfg, "name", 1, &name, false, err, sizeof err);
            }
            if (bench_scenario_apply_step(cfg, argc - 1, argv + 1, err, sizeof err) != 0) {
                fprintf(errf, "%s:%d: %s\n", sc->file, lineno, err);
                nerr++;
                conf_free(&bench_conf_table, cfg);
                xfree(cfg);
                continue;
            }
            struct item *it = add_item(sc, IT_STEP, lineno);
            it->cfg = cfg;
            struct bench_target t;
            if (bench_target_parse(&t, it->cfg->target, err, sizeof err) != 0) {
                fprintf(errf, "%s:%d: step '%s': %s\n", sc->file, lineno, argv[1], err);
                nerr++;
            }
            sc->nsteps++;
        } else if (strcasecmp(w, "run") == 0 || strcasecmp(w, "spawn") == 0) {
            if (argc < 2) {
                fprintf(errf, "%s:%d: '%s' needs a command\n", sc->file, lineno, w);
                nerr++;
                continue;
            }
            struct item *it = add_item(sc, strcasecmp(w, "run") == 0 ? IT_RUN : IT_SPAWN, lineno);
            it->argv = xcalloc((size_t)argc, sizeof *it->argv);
            struct buf text;
            buf_init(&text);
            buf_puts(&text, it->kind == IT_RUN ? "run" : "spawn");
            for (int i = 1; i < argc; i++) {
                it->argv[i - 1] = xstrdup(argv[i]);
                buf_printf(&text, " %s", argv[i]);
            }
            buf_putc(&text, '\0');
            it->text = xstrdup(buf_head(&text));
            buf_deinit(&text);
        } else if (strcasecmp(w, "sleep") == 0) {
            long long ms = 0;
            if (argc != 2 || !util_parse_duration_ms(argv[1], &ms) || ms > 86400LL * 1000) {
                fprintf(errf, "%s:%d: 'sleep' takes one duration like 2s or 500ms\n", sc->file, lineno);
                nerr++;
                continue;
            }
            struct item *it = add_item(sc, IT_SLEEP, lineno);
            it->ms = ms;
        } else if (strcasecmp(w, "scenario") == 0 || strcasecmp(w, "config") == 0) {
            fprintf(errf, "%s:%d: '%s' cannot be used inside a scenario\n", sc->file, lineno, w);
            nerr++;
        } else {
            /* a directive the command line set is only checked (headers add up) */
            struct bench_config scratch, *into = &sc->base;
            bool check_only = strcasecmp(w, "header") != 0 && cli_sets(pairs, npairs, w);
            if (check_only) {
                conf_defaults(&bench_conf_table, &scratch);
                into = &scratch;
            }
            if (conf_set(&bench_conf_table, into, w, argc - 1, argv + 1, false, err, sizeof err) != 0) {
                fprintf(errf, "%s:%d: %s\n", sc->file, lineno, err);
                nerr++;
            }
            if (check_only)
                conf_free(&bench_conf_table, &scratch);
        }
    }
    free(line);
    fclose(f);
    if (sc->nsteps == 0 && nerr == 0) {
        fprintf(errf, "%s: no step: add a line like 'step warmup duration 5s rate 1000'\n", sc->file);
        nerr++;
    }
    return nerr;
}

int bench_scenario_check_file(const char *file, FILE *errf)
{
    struct scenario sc = {.file = file};
    int nerr = load(&sc, NULL, 0, errf);
    free_items(&sc);
    return nerr;
}

/* ---- actions ----------------------------------------------------------------- */

static pid_t start_cmd(char **argv, int *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid = -1;
    *err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return *err ? -1 : pid;
}

static int exit_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

static void nap_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* SIGTERM, up to 2 s, then SIGKILL; returns the exit status. Only for a
 * child we started. */
static int stop_child(pid_t pid)
{
    int st = 0;
    kill(pid, SIGTERM);
    uint64_t end = bench_now_ns() + KILL_GRACE_NS;
    while (bench_now_ns() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return exit_status(st);
        nap_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return exit_status(st);
}

static int run_cmd(char **argv, long long timeout_ms)
{
    int err;
    pid_t pid = start_cmd(argv, &err);
    if (pid < 0) {
        fprintf(stderr, "scaleout bench: cannot run '%s': %s\n", argv[0], strerror(err));
        return 127;
    }
    uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return exit_status(st);
        if (r < 0 && errno != EINTR)
            return -1;
        if (bench_now_ns() >= end) {
            fprintf(stderr, "scaleout bench: '%s' still running after the action timeout: stopping it\n", argv[0]);
            return stop_child(pid);
        }
        if (atomic_load(&bench_interrupted))
            return stop_child(pid);
        nap_ms(5);
    }
}

static void add_action(struct bench_report *r, double t, const char *text, int status)
{
    r->actions = xrealloc(r->actions, (r->nactions + 1) * sizeof *r->actions);
    r->actions[r->nactions].t = t;
    r->actions[r->nactions].text = xstrdup(text);
    r->actions[r->nactions].status = status;
    r->nactions++;
}

/* ---- main ----------------------------------------------------------------- */

int bench_scenario_main(const char *file, char **pairs, int npairs)
{
    struct scenario sc = {.file = file};
    int nerr = load(&sc, pairs, npairs, stderr);
    if (nerr) {
        fprintf(stderr, "%s: %d error%s\n", file, nerr, nerr == 1 ? "" : "s");
        free_items(&sc);
        return 2;
    }
    struct bench_report r;
    memset(&r, 0, sizeof r);
    r.scenario = xstrdup(file);
    bench_started_now(r.started, sizeof r.started);
    r.steps = xcalloc(sc.nsteps, sizeof *r.steps);
    pid_t *spawned = xcalloc(sc.nitems, sizeof *spawned);
    size_t nspawned = 0;
    int status = 0;
    uint64_t t0 = bench_now_ns();
    size_t step_no = 0;
    bool quiet = sc.base.progress == BENCH_PROGRESS_OFF;

    for (size_t i = 0; i < sc.nitems && !atomic_load(&bench_interrupted); i++) {
        struct item *it = &sc.items[i];
        double t = (double)(bench_now_ns() - t0) / 1e9;
        char err[512];
        switch (it->kind) {
        case IT_STEP: {
            step_no++;
            if (!quiet) {
                struct buf d;
                buf_init(&d);
                bench_config_describe(it->cfg, &d);
                fprintf(stderr, "== step %zu/%zu %s: %s, %.*s\n", step_no, sc.nsteps, it->cfg->name, it->cfg->target,
                        (int)buf_pending(&d), buf_head(&d));
                buf_deinit(&d);
            }
            struct bench_step *s = &r.steps[r.nsteps];
            if (bench_run_step(it->cfg, t0, s, err, sizeof err) != 0) {
                fprintf(stderr, "%s:%d: step '%s': %s\n", file, it->line, it->cfg->name, err);
                bench_step_free(s);
                status = 1;
                goto out;
            }
            r.nsteps++;
            bench_print_step(stdout, s);
            printf("\n");
            fflush(stdout);
            break;
        }
        case IT_RUN: {
            if (!quiet)
                fprintf(stderr, "== %s\n", it->text);
            int st = run_cmd(it->argv, sc.base.action_timeout_ms);
            add_action(&r, t, it->text, st);
            if (st != 0)
                fprintf(stderr, "%s:%d: '%s' exited with status %d (going on)\n", file, it->line, it->text, st);
            break;
        }
        case IT_SPAWN: {
            if (!quiet)
                fprintf(stderr, "== %s\n", it->text);
            int e;
            pid_t pid = start_cmd(it->argv, &e);
            if (pid < 0) {
                fprintf(stderr, "%s:%d: cannot start '%s': %s\n", file, it->line, it->argv[0], strerror(e));
                add_action(&r, t, it->text, 127);
            } else {
                spawned[nspawned++] = pid;
                add_action(&r, t, it->text, -1);
            }
            break;
        }
        case IT_SLEEP: {
            uint64_t end = bench_now_ns() + (uint64_t)it->ms * 1000000ULL;
            while (bench_now_ns() < end && !atomic_load(&bench_interrupted))
                nap_ms(10);
            break;
        }
        }
    }
out:
    for (size_t i = 0; i < nspawned; i++) {
        int st;
        if (waitpid(spawned[i], &st, WNOHANG) == 0)
            stop_child(spawned[i]);
    }
    xfree(spawned);
    char err[512];
    const char *html = sc.base.html && *sc.base.html ? sc.base.html : "bench-report.html";
    if (r.nsteps) {
        if (bench_write_html(&r, html, err, sizeof err) != 0) {
            fprintf(stderr, "scaleout bench: %s\n", err);
            status = 1;
        } else {
            fprintf(stderr, "report: %s\n", html);
        }
    }
    if (sc.base.json && *sc.base.json && bench_write_json(&r, sc.base.json, err, sizeof err) != 0) {
        fprintf(stderr, "scaleout bench: %s\n", err);
        status = 1;
    }
    if (atomic_load(&bench_interrupted) && status == 0)
        status = 130;
    bench_report_free(&r);
    free_items(&sc);
    return status;
}
