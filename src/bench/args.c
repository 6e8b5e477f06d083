/*
 * args.c — what the command line (main.c) and scenario files (scenario.c)
 * both use: applying (directive, value) pairs to a configuration, and the
 * start time a report carries. Kept apart so that scenario.c does not call
 * back into main.c (main.c hands over to scenario.c). A scenario's `step`
 * line (applied by scenario.c, checked on its own for `scaleout check`) is
 * in config.c, whose table runs the check and which this file's callers
 * already use (nothing in config.c calls up here).
 */
#include <stdio.h>
#include <string.h>
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
