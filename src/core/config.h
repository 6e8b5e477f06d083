/*
 * config.h — table-driven configuration, shared by every role.
 *
 * A role describes its directives once, as a table of struct conf_directive
 * (name, type, offset into the role's config struct, bounds, default, flags,
 * help). The same table drives:
 *   - the config file (Redis-style lines: `directive value ...`, # comments,
 *     "double" or 'single' quoted words), with every error reported as
 *     file:line, all of them, not only the first;
 *   - command-line flags: `--directive value ...` (the words up to the next
 *     --flag are the value, as redis-server does);
 *   - `scaleout check FILE`;
 *   - CONFIG GET / CONFIG SET at run time (only directives flagged CONF_RUNTIME);
 *   - `scaleout ROLE --help`, which lists every directive with its default.
 * Defaults are given as text and parsed by the same code as a file would be,
 * so there is one source of truth for each value.
 */
#ifndef SCALEOUT_CORE_CONFIG_H
#define SCALEOUT_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

enum conf_type {
    CONF_INT,       /* long long, bounds min..max */
    CONF_MEMORY,    /* unsigned long long bytes: "100mb", bounds min..max */
    CONF_DURATION,  /* long long milliseconds: "10s", "250ms"; bare number = unit_ms */
    CONF_BOOL,      /* bool: yes/no */
    CONF_ENUM,      /* int, one of enums[] */
    CONF_STRING,    /* char * (heap, owned by the config struct) */
    CONF_CUSTOM,    /* parse/format callbacks */
};

struct conf_enum {
    const char *name;
    int value;
};

enum {
    CONF_RUNTIME = 1 << 0,  /* may change with CONFIG SET / reload */
    CONF_SECRET = 1 << 1,   /* not shown by --help defaults (passwords) */
    CONF_REPEAT = 1 << 2,   /* custom: may appear several times (each call appends) */
    CONF_HEAP = 1 << 3,     /* custom: the field is a char * the config owns (conf_free frees it) */
};

struct conf_directive {
    const char *name;
    enum conf_type type;
    size_t offset;
    long long min, max;
    const char *def;                 /* default, as it would be written in a file */
    const struct conf_enum *enums;   /* CONF_ENUM: terminated by {NULL, 0} */
    unsigned flags;
    const char *help;
    long long unit_ms;               /* CONF_DURATION: unit of a bare number (default 1000) */
    /* CONF_CUSTOM: parse argv into conf; return 0, or -1 with a message in err */
    int (*parse)(void *conf, int argc, char **argv, char *err, size_t errlen);
    /* CONF_CUSTOM: format the current value */
    void (*format)(const void *conf, struct buf *out);
};

/* Rows of the plain kinds, naming only the columns their kind uses (no enum
 * names but for CONF_ENUM, a unit only for CONF_DURATION, no callbacks);
 * CONF_CUSTOM rows and anything unusual are written out in full. */
#define CONF_ROW_INT(NAME, OFFSET, MIN, MAX, DEF, FLAGS, HELP) \
    {NAME, CONF_INT, OFFSET, MIN, MAX, DEF, NULL, FLAGS, HELP, 0, NULL, NULL}
#define CONF_ROW_MEMORY(NAME, OFFSET, MIN, MAX, DEF, FLAGS, HELP) \
    {NAME, CONF_MEMORY, OFFSET, MIN, MAX, DEF, NULL, FLAGS, HELP, 0, NULL, NULL}
#define CONF_ROW_DURATION(NAME, OFFSET, MIN, MAX, DEF, UNIT_MS, FLAGS, HELP) \
    {NAME, CONF_DURATION, OFFSET, MIN, MAX, DEF, NULL, FLAGS, HELP, UNIT_MS, NULL, NULL}
#define CONF_ROW_BOOL(NAME, OFFSET, DEF, FLAGS, HELP) {NAME, CONF_BOOL, OFFSET, 0, 0, DEF, NULL, FLAGS, HELP, 0, NULL, NULL}
#define CONF_ROW_STRING(NAME, OFFSET, DEF, FLAGS, HELP) \
    {NAME, CONF_STRING, OFFSET, 0, 0, DEF, NULL, FLAGS, HELP, 0, NULL, NULL}
#define CONF_ROW_ENUM(NAME, OFFSET, DEF, ENUMS, FLAGS, HELP) \
    {NAME, CONF_ENUM, OFFSET, 0, 0, DEF, ENUMS, FLAGS, HELP, 0, NULL, NULL}

/* The row that ends a directive table. */
#define CONF_END {NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL}

/* The log levels every role's `loglevel` directive takes (core/log.h values). */
extern const struct conf_enum conf_loglevels[];

/* The three directives every long-running role has, for a config struct TYPE
 * with members loglevel (int), logfile and pidfile (char *); LEVEL_FLAGS is
 * CONF_RUNTIME where CONFIG SET may change the level. */
#define CONF_PROCESS_ROWS(TYPE, LEVEL_FLAGS)                                                                       \
    {"loglevel", CONF_ENUM, offsetof(TYPE, loglevel), 0, 0, "notice", conf_loglevels, LEVEL_FLAGS,               \
     "log verbosity", 0, NULL, NULL},                                                                            \
    {"logfile", CONF_STRING, offsetof(TYPE, logfile), 0, 0, "", NULL, 0, "log file (empty: stderr)", 0, NULL, NULL}, \
    {"pidfile", CONF_STRING, offsetof(TYPE, pidfile), 0, 0, "", NULL, 0, "write the PID here (empty: none)", 0, NULL, NULL}

struct conf_table {
    const char *role;                       /* "kv", "lb", ... */
    const struct conf_directive *dirs;      /* terminated by {NULL} */
    size_t size;                            /* sizeof the role's config struct */
    /* called after a successful CONFIG SET of a directive (may be NULL) */
    void (*changed)(void *conf, const struct conf_directive *d);
};

/* Set every directive to its default. Aborts if a default does not parse (a bug). */
void conf_defaults(const struct conf_table *t, void *conf);
/* Free CONF_STRING values. */
void conf_free(const struct conf_table *t, void *conf);

const struct conf_directive *conf_lookup(const struct conf_table *t, const char *name);

/*
 * Set one directive from words. Returns 0, or -1 with a message in err.
 * `runtime` rejects directives without CONF_RUNTIME.
 */
int conf_set(const struct conf_table *t, void *conf, const char *name, int argc, char **argv,
             bool runtime, char *err, size_t errlen);

/* For CONF_CUSTOM parsers: write the message into err and return -1, so a
 * check and its error are one statement. */
int conf_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append the value of directive d, as a file would spell it, to out. */
void conf_format(const struct conf_directive *d, const void *conf, struct buf *out);

/*
 * Load a file. Each error is appended to errs as "file:line: message\n".
 * A `role NAME` line must name t->role. Returns the number of errors
 * (0 = ok); -1 if the file cannot be read (message in errs).
 */
int conf_load_file(const struct conf_table *t, void *conf, const char *path, struct buf *errs);
/* The same, calling at_line(conf, N) before directive line N is applied and
 * at_line(conf, 0) at the end (lb's sections record the line they start on). */
int conf_load_file_lines(const struct conf_table *t, void *conf, const char *path, struct buf *errs,
                         void (*at_line)(void *conf, int lineno));

/*
 * Parse argv (after the role word): `--config FILE` is loaded first, then each
 * `--directive value...` applies in order. Errors go to errs (one per line).
 * Returns the number of errors. `--help` is left to the caller.
 */
int conf_load_args(const struct conf_table *t, void *conf, int argc, char **argv, struct buf *errs);

/* Split a line into words (quotes, escapes); returns argc or -1 on unbalanced
 * quotes. Words are written into `line` in place; argv holds up to max. */
int conf_split(char *line, char **argv, int max);

/* Print every directive with its type, default and help (for --help and docs). */
void conf_print_help(const struct conf_table *t, struct buf *out);

/* Find `role NAME` in a file (for `scaleout check`); NULL if absent. Caller frees. */
char *conf_file_role(const char *path);

#endif
