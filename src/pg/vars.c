/*
 * vars.c — tracked session settings (see vars.h).
 */
#include "pg/vars.h"

#include <string.h>
#include <strings.h>

#include "core/alloc.h"

static const char *const names[PG_NVARS] = {
    "client_encoding", "DateStyle", "TimeZone", "IntervalStyle", "standard_conforming_strings", "application_name",
};

const char *pg_vars_name(int i) { return names[i]; }

int pg_vars_index(const char *name)
{
    for (int i = 0; i < PG_NVARS; i++)
        if (strcasecmp(names[i], name) == 0)
            return i;
    return -1;
}

bool pg_vars_set(struct pg_vars *vs, const char *name, const char *value)
{
    int i = pg_vars_index(name);
    if (i < 0 || strlen(value) >= PG_VAR_MAX)
        return false;
    if (vs->v[i] && strcmp(vs->v[i], value) == 0)
        return true;
    xfree(vs->v[i]);
    vs->v[i] = xstrdup(value);
    return true;
}

static bool good_name(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l >= PG_EXTRA_NAME_MAX)
        return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
            return false;
    return true;
}

static int find_extra(const struct pg_vars *vs, const char *name)
{
    for (int i = 0; i < vs->nextra; i++)
        if (strcasecmp(vs->ename[i], name) == 0)
            return i;
    return -1;
}

int pg_vars_set_extra(struct pg_vars *vs, const char *name, const char *value)
{
    if (pg_vars_index(name) >= 0)
        return pg_vars_set(vs, name, value) ? 0 : -2;
    if (!good_name(name))
        return -1;
    if (strlen(value) >= PG_VAR_MAX)
        return -2;
    int i = find_extra(vs, name);
    if (i < 0) {
        if (vs->nextra >= PG_MAX_EXTRA)
            return -2;
        i = vs->nextra++;
        vs->ename[i] = xstrdup(name);
        vs->evalue[i] = NULL;
    }
    xfree(vs->evalue[i]);
    vs->evalue[i] = xstrdup(value);
    return 0;
}

int pg_vars_parse_options(struct pg_vars *vs, const char *o)
{
    char word[PG_EXTRA_NAME_MAX + PG_VAR_MAX + 8];
    bool pending_c = false;
    while (*o) {
        while (*o == ' ' || *o == '\t')
            o++;
        if (!*o)
            break;
        size_t n = 0;
        while (*o && *o != ' ' && *o != '\t') {
            if (*o == '\\' && o[1])
                o++;
            if (n + 1 >= sizeof word)
                return -2;
            word[n++] = *o++;
        }
        word[n] = '\0';
        const char *kv;
        if (pending_c) {
            kv = word;
            pending_c = false;
        } else if (strcmp(word, "-c") == 0) {
            pending_c = true;
            continue;
        } else if (strncmp(word, "-c", 2) == 0) {
            kv = word + 2;
        } else if (strncmp(word, "--", 2) == 0) {
            kv = word + 2;
        } else {
            return -3;
        }
        char *eq = strchr(kv, '=');
        if (!eq)
            return -3;
        *eq = '\0';
        for (char *p = (char *)kv; *p; p++)
            if (*p == '-')
                *p = '_'; /* --search-path=x is search_path */
        int r = pg_vars_set_extra(vs, kv, eq + 1);
        if (r != 0)
            return r;
    }
    return pending_c ? -3 : 0;
}

void pg_vars_copy(struct pg_vars *dst, const struct pg_vars *src)
{
    for (int i = 0; i < dst->nextra; i++) {
        xfree(dst->ename[i]);
        xfree(dst->evalue[i]);
    }
    dst->nextra = src->nextra;
    for (int i = 0; i < src->nextra; i++) {
        dst->ename[i] = xstrdup(src->ename[i]);
        dst->evalue[i] = xstrdup(src->evalue[i]);
    }
    for (int i = 0; i < PG_NVARS; i++) {
        if (!src->v[i])
            continue;
        if (dst->v[i] && strcmp(dst->v[i], src->v[i]) == 0)
            continue;
        xfree(dst->v[i]);
        dst->v[i] = xstrdup(src->v[i]);
    }
}

void pg_vars_free(struct pg_vars *vs)
{
    for (int i = 0; i < vs->nextra; i++) {
        xfree(vs->ename[i]);
        xfree(vs->evalue[i]);
    }
    vs->nextra = 0;
    for (int i = 0; i < PG_NVARS; i++) {
        xfree(vs->v[i]);
        vs->v[i] = NULL;
    }
}

int pg_vars_diff_sql(const struct pg_vars *client, const struct pg_vars *server, struct buf *sql)
{
    int n = 0;
    for (int i = 0; i < PG_NVARS; i++) {
        if (!client->v[i] || (server->v[i] && strcmp(client->v[i], server->v[i]) == 0))
            continue;
        /* SET name TO 'value' with quotes doubled: the value came from the
         * client's startup packet or from the server itself */
        buf_printf(sql, "SET %s TO '", names[i]);
        for (const char *p = client->v[i]; *p; p++) {
            if (*p == '\'')
                buf_putc(sql, '\'');
            buf_putc(sql, *p);
        }
        buf_puts(sql, "';");
        n++;
    }
    for (int i = 0; i < client->nextra; i++) {
        int k = find_extra(server, client->ename[i]);
        if (k >= 0 && strcmp(server->evalue[k], client->evalue[i]) == 0)
            continue;
        /* set_config() takes the value as the startup packet gives it
         * (a list such as search_path "a,b" stays a list) */
        buf_printf(sql, "SELECT pg_catalog.set_config('%s', '", client->ename[i]); /* names checked by good_name */
        for (const char *p = client->evalue[i]; *p; p++) {
            if (*p == '\'')
                buf_putc(sql, '\'');
            buf_putc(sql, *p);
        }
        buf_puts(sql, "', false);");
        n++;
    }
    for (int i = 0; i < server->nextra; i++)
        if (find_extra(client, server->ename[i]) < 0) {
            buf_printf(sql, "RESET %s;", server->ename[i]);
            n++;
        }
    return n;
}
