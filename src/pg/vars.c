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

void pg_vars_copy(struct pg_vars *dst, const struct pg_vars *src)
{
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
    return n;
}
