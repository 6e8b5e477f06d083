/*
 * main.c — the scaleout binary: one subcommand per role.
 *
 *   scaleout kv [--config FILE] [--directive value ...]   Redis-protocol key-value server
 *   scaleout check [--role ROLE] FILE                     validate a config file
 *   scaleout --version | --help
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "bench/bench.h"
#include "core/buf.h"
#include "core/config.h"
#include "kv/server.h"
#include "lb/lb.h"
#include "pg/pg.h"
#include "router/router.h"
#include "sentinel/sentinel.h"
#include "up/up.h"
#include "worker/worker.h"

#define SCALEOUT_VERSION "0.1.0"

struct role {
    const char *name;
    int (*main)(int argc, char **argv);
    const struct conf_table *conf;
    const char *summary;
    /* whole-file validation for `scaleout check` beyond the directive table
     * (sections, cross-references); NULL = the table alone */
    int (*check)(const char *path, struct buf *errs);
};

static const struct role roles[] = {
    {"kv", kv_main, &kv_conf_table, "Redis-protocol key-value server: cache, sessions, eviction, TTLs", NULL},
    {"lb", lb_main, &lb_conf_table, "HTTP/1.1 (L7) and TCP (L4) load balancer: pools, routes, health checks", lb_config_check},
    {"pg", pg_main, &pg_conf_table, "PostgreSQL proxy: session/transaction pooling, read/write split to replicas", pg_config_check},
    {"bench", bench_main, &bench_conf_table, "load generator for HTTP and RESP: open/closed loop, percentiles, scenarios, HTML reports", NULL},
    {"app", app_main, &app_conf_table, "reference stateless service: sessions, cache and jobs in kv, data in PostgreSQL", NULL},
    {"worker", worker_main, &worker_conf_table, "job consumer: runs the app's queued uploads from kv, retries failures", NULL},
    {"router", router_main, &rt_conf_table, "sharding proxy for kv: consistent hashing, hash tags, multi-key split, replicas", rt_config_check},
    {"sentinel", sentinel_main, &snt_conf_table, "failover monitor for kv / Redis primaries: Sentinel protocol, quorum, leader election", NULL},
    {"up", up_main, &up_conf_table, "runs a whole topology from one file: starts, supervises, autoscales; status page", up_config_check},
};

#define NROLES (sizeof roles / sizeof roles[0])

static void usage(FILE *f)
{
    fprintf(f, "scaleout %s — the scale-out tier of a web backend\n\nusage: scaleout ROLE [--config FILE] [--directive value ...]\n\nroles:\n",
            SCALEOUT_VERSION);
    for (size_t i = 0; i < NROLES; i++)
        fprintf(f, "  %-8s %s\n", roles[i].name, roles[i].summary);
    fprintf(f, "\nother commands:\n"
               "  check [--role ROLE] FILE   validate a config file; prints file:line for every error\n"
               "  --version                  print the version\n\n"
               "scaleout ROLE --help lists every directive of a role.\n");
}

static const struct role *find_role(const char *name)
{
    for (size_t i = 0; i < NROLES; i++)
        if (strcmp(roles[i].name, name) == 0)
            return &roles[i];
    return NULL;
}

static int check_main(int argc, char **argv)
{
    const char *file = NULL, *rolename = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            rolename = argv[++i];
        else if (!file)
            file = argv[i];
        else {
            fprintf(stderr, "usage: scaleout check [--role ROLE] FILE\n");
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: scaleout check [--role ROLE] FILE\n");
        return 2;
    }
    char *fromfile = conf_file_role(file);
    if (!rolename)
        rolename = fromfile;
    if (!rolename) {
        fprintf(stderr, "%s: cannot tell the role: add a line 'role NAME' to the file or pass --role NAME (roles:", file);
        for (size_t i = 0; i < NROLES; i++)
            fprintf(stderr, " %s", roles[i].name);
        fprintf(stderr, ")\n");
        return 2;
    }
    const struct role *r = find_role(rolename);
    if (!r) {
        fprintf(stderr, "%s: unknown role '%s'\n", file, rolename);
        free(fromfile);
        return 2;
    }
    struct buf errs;
    buf_init(&errs);
    int n;
    if (r->check) {
        n = r->check(file, &errs);
    } else {
        void *conf = calloc(1, r->conf->size);
        conf_defaults(r->conf, conf);
        n = conf_load_file(r->conf, conf, file, &errs);
        conf_free(r->conf, conf);
        free(conf);
    }
    free(fromfile);
    if (n != 0) {
        fprintf(stderr, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
        if (n > 0)
            fprintf(stderr, "%s: %d error%s\n", file, n, n == 1 ? "" : "s");
        buf_deinit(&errs);
        return 1;
    }
    buf_deinit(&errs);
    printf("%s: ok (role %s)\n", file, r->name);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "version") == 0) {
        printf("scaleout %s\n", SCALEOUT_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "check") == 0)
        return check_main(argc - 2, argv + 2);
    const struct role *r = find_role(argv[1]);
    if (!r) {
        fprintf(stderr, "scaleout: unknown role '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return r->main(argc - 2, argv + 2);
}
