/*
 * config.c — table-driven configuration (see config.h).
 */
#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_WORDS 64

static void *field(void *conf, const struct conf_directive *d) { return (char *)conf + d->offset; }
static const void *cfield(const void *conf, const struct conf_directive *d) { return (const char *)conf + d->offset; }

const struct conf_directive *conf_lookup(const struct conf_table *t, const char *name)
{
    for (const struct conf_directive *d = t->dirs; d->name; d++)
        if (strcasecmp(d->name, name) == 0)
            return d;
    return NULL;
}

static int parse_value(const struct conf_directive *d, void *conf, int argc, char **argv, char *err, size_t errlen)
{
    if (d->type == CONF_CUSTOM)
        return d->parse(conf, argc, argv, err, errlen);
    if (argc != 1) {
        snprintf(err, errlen, "'%s' takes exactly one value, got %d", d->name, argc);
        return -1;
    }
    const char *v = argv[0];
    switch (d->type) {
    case CONF_INT: {
        long long x;
        if (!util_str2ll(v, strlen(v), &x)) {
            snprintf(err, errlen, "'%s' must be an integer, got '%s'", d->name, v);
            return -1;
        }
        if (x < d->min || x > d->max) {
            snprintf(err, errlen, "'%s' must be between %lld and %lld, got %lld", d->name, d->min, d->max, x);
            return -1;
        }
        *(long long *)field(conf, d) = x;
        return 0;
    }
    case CONF_MEMORY: {
        unsigned long long x;
        if (!util_parse_memory(v, &x)) {
            snprintf(err, errlen, "'%s' must be a size like 100mb or 1gb, got '%s'", d->name, v);
            return -1;
        }
        if ((long long)x < d->min || (d->max > 0 && x > (unsigned long long)d->max)) {
            snprintf(err, errlen, "'%s' must be between %lld and %lld bytes, got '%s'", d->name, d->min, d->max, v);
            return -1;
        }
        *(unsigned long long *)field(conf, d) = x;
        return 0;
    }
    case CONF_DURATION: {
        long long x;
        long long unit = d->unit_ms ? d->unit_ms : 1000;
        if (util_str2ll(v, strlen(v), &x)) {
            if (x < 0 || (unit > 1 && x > (1LL << 62) / unit)) {
                snprintf(err, errlen, "'%s' must be a duration like 10s or 250ms, got '%s'", d->name, v);
                return -1;
            }
            x *= unit;
        } else if (!util_parse_duration_ms(v, &x)) {
            snprintf(err, errlen, "'%s' must be a duration like 10s or 250ms, got '%s'", d->name, v);
            return -1;
        }
        if (x < d->min || x > d->max) {
            snprintf(err, errlen, "'%s' must be between %lldms and %lldms, got '%s'", d->name, d->min, d->max, v);
            return -1;
        }
        *(long long *)field(conf, d) = x;
        return 0;
    }
    case CONF_BOOL:
        if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "true") == 0)
            *(bool *)field(conf, d) = true;
        else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "false") == 0)
            *(bool *)field(conf, d) = false;
        else {
            snprintf(err, errlen, "'%s' must be yes or no, got '%s'", d->name, v);
            return -1;
        }
        return 0;
    case CONF_ENUM:
        for (const struct conf_enum *e = d->enums; e->name; e++) {
            if (strcasecmp(e->name, v) == 0) {
                *(int *)field(conf, d) = e->value;
                return 0;
            }
        }
        {
            int n = snprintf(err, errlen, "'%s' must be one of", d->name);
            for (const struct conf_enum *e = d->enums; e->name && n > 0 && (size_t)n < errlen; e++)
                n += snprintf(err + n, errlen - (size_t)n, " %s", e->name);
            if (n > 0 && (size_t)n < errlen)
                snprintf(err + n, errlen - (size_t)n, ", got '%s'", v);
        }
        return -1;
    case CONF_STRING: {
        char **s = field(conf, d);
        xfree(*s);
        *s = xstrdup(v);
        return 0;
    }
    case CONF_CUSTOM:
        break;
    }
    snprintf(err, errlen, "'%s': bad directive type", d->name);
    return -1;
}

void conf_defaults(const struct conf_table *t, void *conf)
{
    memset(conf, 0, t->size);
    for (const struct conf_directive *d = t->dirs; d->name; d++) {
        if (!d->def)
            continue;
        if (d->type == CONF_STRING) {
            /* taken literally: "" and values with spaces need no quoting */
            *(char **)field(conf, d) = xstrdup(d->def);
            continue;
        }
        char line[1024], *argv[MAX_WORDS], err[256];
        snprintf(line, sizeof line, "%s", d->def);
        int argc = conf_split(line, argv, MAX_WORDS);
        if (argc < 0 || parse_value(d, conf, argc, argv, err, sizeof err) != 0) {
            fprintf(stderr, "scaleout: bad default for '%s': %s\n", d->name, argc < 0 ? "quotes" : err);
            abort();
        }
    }
}

void conf_free(const struct conf_table *t, void *conf)
{
    for (const struct conf_directive *d = t->dirs; d->name; d++) {
        if (d->type == CONF_STRING || (d->type == CONF_CUSTOM && (d->flags & CONF_HEAP))) {
            char **s = field(conf, d);
            xfree(*s);
            *s = NULL;
        }
    }
}

int conf_set(const struct conf_table *t, void *conf, const char *name, int argc, char **argv,
             bool runtime, char *err, size_t errlen)
{
    const struct conf_directive *d = conf_lookup(t, name);
    if (!d) {
        snprintf(err, errlen, "unknown directive '%s'", name);
        return -1;
    }
    if (runtime && !(d->flags & CONF_RUNTIME)) {
        snprintf(err, errlen, "can't set immutable config");
        return -1;
    }
    if (parse_value(d, conf, argc, argv, err, errlen) != 0)
        return -1;
    if (runtime && t->changed)
        t->changed(conf, d);
    return 0;
}

int conf_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void conf_format(const struct conf_directive *d, const void *conf, struct buf *out)
{
    const void *f = cfield(conf, d);
    switch (d->type) {
    case CONF_INT:
        buf_printf(out, "%lld", *(const long long *)f);
        break;
    case CONF_MEMORY:
        buf_printf(out, "%llu", *(const unsigned long long *)f);
        break;
    case CONF_DURATION: {
        long long unit = d->unit_ms ? d->unit_ms : 1000;
        buf_printf(out, "%lld", *(const long long *)f / unit);
        break;
    }
    case CONF_BOOL:
        buf_puts(out, *(const bool *)f ? "yes" : "no");
        break;
    case CONF_ENUM:
        for (const struct conf_enum *e = d->enums; e->name; e++)
            if (e->value == *(const int *)f) {
                buf_puts(out, e->name);
                break;
            }
        break;
    case CONF_STRING: {
        const char *s = *(char *const *)f;
        buf_puts(out, s ? s : "");
        break;
    }
    case CONF_CUSTOM:
        d->format(conf, out);
        break;
    }
}

int conf_split(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line, *w = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0' || *p == '#')
            return argc;
        if (argc == max)
            return -1;
        char *start = w;
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) {
                if (q == '"' && *p == '\\' && p[1]) {
                    p++;
                    switch (*p) {
                    case 'n': *w++ = '\n'; break;
                    case 't': *w++ = '\t'; break;
                    case 'r': *w++ = '\r'; break;
                    default: *w++ = *p; break;
                    }
                    p++;
                } else {
                    *w++ = *p++;
                }
            }
            if (*p != q)
                return -1;
            p++;
            if (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                return -1;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                *w++ = *p++;
        }
        /* terminate the word; p may equal w, so step over the separator first */
        char sep = *p;
        if (sep)
            p++;
        *w++ = '\0';
        argv[argc++] = start;
        if (!sep)
            return argc;
    }
}

const struct conf_enum conf_loglevels[] = {
    {"debug", LOG_DEBUG}, {"verbose", LOG_VERBOSE}, {"notice", LOG_NOTICE}, {"warning", LOG_WARNING}, {NULL, 0},
};

int conf_load_file(const struct conf_table *t, void *conf, const char *path, struct buf *errs)
{
    return conf_load_file_lines(t, conf, path, errs, NULL);
}

int conf_load_file_lines(const struct conf_table *t, void *conf, const char *path, struct buf *errs,
                         void (*at_line)(void *conf, int lineno))
{
    FILE *f = fopen(path, "r");
    if (!f) {
        buf_printf(errs, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, nerr = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *argv[MAX_WORDS], err[512];
        int argc = conf_split(line, argv, MAX_WORDS);
        if (argc < 0) {
            buf_printf(errs, "%s:%d: unbalanced quotes or too many words\n", path, lineno);
            nerr++;
            continue;
        }
        if (argc == 0)
            continue;
        if (strcasecmp(argv[0], "role") == 0) {
            if (argc != 2 || strcmp(argv[1], t->role) != 0) {
                buf_printf(errs, "%s:%d: this file is for role '%s', not '%s'\n", path, lineno,
                           argc > 1 ? argv[1] : "?", t->role);
                nerr++;
            }
            continue;
        }
        if (at_line)
            at_line(conf, lineno);
        if (conf_set(t, conf, argv[0], argc - 1, argv + 1, false, err, sizeof err) != 0) {
            buf_printf(errs, "%s:%d: %s\n", path, lineno, err);
            nerr++;
        }
    }
    free(line);
    fclose(f);
    if (at_line)
        at_line(conf, 0);
    return nerr;
}

int conf_load_args(const struct conf_table *t, void *conf, int argc, char **argv, struct buf *errs)
{
    int nerr = 0;
    /* the config file first, so flags override it */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
            if (i + 1 >= argc) {
                buf_printf(errs, "--config needs a file\n");
                return nerr + 1;
            }
            int r = conf_load_file(t, conf, argv[i + 1], errs);
            nerr += r < 0 ? 1 : r;
        }
    }
    for (int i = 0; i < argc;) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
            i += 2;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            buf_printf(errs, "unexpected argument '%s' (directives are given as --name value)\n", a);
            nerr++;
            i++;
            continue;
        }
        int j = i + 1;
        while (j < argc && strncmp(argv[j], "--", 2) != 0)
            j++;
        /* a multi-word directive given as one quoted word is split as a file line would be */
        char *words[MAX_WORDS], *copy = NULL, err[512];
        int nw = j - i - 1;
        char **vals = argv + i + 1;
        const struct conf_directive *d = conf_lookup(t, a + 2);
        if (nw == 1 && d && d->type == CONF_CUSTOM && strpbrk(vals[0], " \t")) {
            copy = xstrdup(vals[0]);
            nw = conf_split(copy, words, MAX_WORDS);
            vals = words;
        }
        if (nw < 0) {
            buf_printf(errs, "%s: unbalanced quotes\n", a);
            nerr++;
        } else if (conf_set(t, conf, a + 2, nw, vals, false, err, sizeof err) != 0) {
            buf_printf(errs, "%s: %s\n", a, err);
            nerr++;
        }
        xfree(copy);
        i = j;
    }
    return nerr;
}

static const char *type_name(const struct conf_directive *d)
{
    switch (d->type) {
    case CONF_INT: return "integer";
    case CONF_MEMORY: return "size";
    case CONF_DURATION: return "duration";
    case CONF_BOOL: return "yes|no";
    case CONF_ENUM: return "choice";
    case CONF_STRING: return "string";
    case CONF_CUSTOM: return "value";
    }
    return "?";
}

void conf_print_help(const struct conf_table *t, struct buf *out)
{
    for (const struct conf_directive *d = t->dirs; d->name; d++) {
        buf_printf(out, "  --%-28s %s", d->name, d->help ? d->help : "");
        buf_printf(out, " (%s", type_name(d));
        if (d->type == CONF_ENUM) {
            buf_puts(out, ":");
            for (const struct conf_enum *e = d->enums; e->name; e++)
                buf_printf(out, " %s", e->name);
        }
        if (d->def && !(d->flags & CONF_SECRET))
            buf_printf(out, "; default %s", d->def[0] ? d->def : "\"\"");
        buf_printf(out, "%s)\n", d->flags & CONF_RUNTIME ? "; runtime" : "");
    }
}

char *conf_file_role(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL, *role = NULL;
    size_t cap = 0;
    while (!role && getline(&line, &cap, f) >= 0) {
        char *argv[4];
        int argc = conf_split(line, argv, 4);
        if (argc == 2 && strcasecmp(argv[0], "role") == 0)
            role = xstrdup(argv[1]);
    }
    free(line);
    fclose(f);
    return role;
}
