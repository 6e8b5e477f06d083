/*
 * args.c — what the command line (main.c) and scenario files (scenario.c)
 * both use: applying (directive, value) pairs to a configuration, and the
 * start time a report carries, and a scenario's `step` line: applied to the
 * step's configuration by scenario.c, checked on its own by config.c for
 * `scaleout check`. Kept apart so that neither
 * scenario.c calls back into main.c (main.c hands over to scenario.c) nor
 * config.c into scenario.c (scenario.c reads configurations).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bench/bench.h"

void bench_started_now(char *dst, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(dst, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* Apply (directive, value) pairs; errors printed; returns 0 if none. */
int bench_apply_pairs(struct bench_config *cfg, char **pairs, int n, const char *where, int *errors)
{
    for (int i = 0; i + 1 < n; i += 2) {
        const char *name = pairs[i];
        char err[512];
        if (strcmp(name, "step") == 0 || strcmp(name, "run") == 0 || strcmp(name, "spawn") == 0 ||
            strcmp(name, "sleep") == 0) {
            fprintf(stderr, "%s: '%s' belongs in a scenario file\n", where, name);
            (*errors)++;
            continue;
        }
        char *v = pairs[i + 1];
        if (conf_set(&bench_conf_table, cfg, name, 1, &v, false, err, sizeof err) != 0) {
            fprintf(stderr, "%s: --%s: %s\n", where, name, err);
            (*errors)++;
        }
    }
    return *errors ? -1 : 0;
}

static bool forbidden_in_step(const char *name)
{
    static const char *const no[] = {"step", "run", "spawn", "sleep", "scenario", "config", "json", "html", "progress",
                                       "slow", "slow-interval"};
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
