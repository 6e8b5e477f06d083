/*
 * failover.c — what failover needs besides the pool's state machine
 * (pool.c promotes and repoints on pooled server connections):
 *
 *   pg_conninfo_repoint   the primary_conninfo a remaining replica gets: its
 *                         own (or failover-conninfo) with host, hostaddr and
 *                         port replaced by the new primary's;
 *   pg_sql_literal        an E'' string literal for ALTER SYSTEM;
 *   pg_state_save/_load   the state file: which backend is the primary and
 *                         which are fenced, so that a restarted proxy does
 *                         not send writes to a primary it failed over from.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "pg/pg.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int pg_conninfo_repoint(const char *old, size_t len, const char *addr, struct buf *out)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1])
        return -1;
    size_t i = 0;
    while (i < len) {
        while (i < len && is_space(old[i]))
            i++;
        if (i == len)
            break;
        size_t start = i, kstart = i;
        while (i < len && old[i] != '=' && !is_space(old[i]))
            i++;
        size_t klen = i - kstart;
        while (i < len && is_space(old[i]))
            i++;
        if (i == len || old[i] != '=' || klen == 0)
            return -1; /* "missing = after" in libpq's words */
        i++;
        while (i < len && is_space(old[i]))
            i++;
        if (i < len && old[i] == '\'') {
            i++;
            for (;;) {
                if (i == len)
                    return -1; /* unterminated quoted string */
                if (old[i] == '\\' && i + 1 < len) {
                    i += 2;
                    continue;
                }
                if (old[i++] == '\'')
                    break;
            }
        } else {
            while (i < len && !is_space(old[i])) {
                if (old[i] == '\\' && i + 1 < len)
                    i++;
                i++;
            }
        }
        const char *k = old + kstart;
        if ((klen == 4 && memcmp(k, "host", 4) == 0) || (klen == 8 && memcmp(k, "hostaddr", 8) == 0) ||
            (klen == 4 && memcmp(k, "port", 4) == 0))
            continue;
        buf_append(out, old + start, i - start);
        buf_putc(out, ' ');
    }
    buf_puts(out, "host=");
    buf_append(out, addr, (size_t)(colon - addr));
    buf_puts(out, " port=");
    buf_puts(out, colon + 1);
    return 0;
}

void pg_sql_literal(struct buf *out, const char *s, size_t len)
{
    buf_puts(out, "E'");
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            buf_putc(out, '\\');
        buf_putc(out, s[i]);
    }
    buf_putc(out, '\'');
}

int pg_state_save(struct pg_proxy *px)
{
    const char *path = px->cfg.state_file;
    if (!path || !path[0])
        return 0;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_warn("state-file %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# scaleout pg failover state: written at each failover, read at start\n");
    fprintf(f, "primary %s\n", px->backends[px->primary].name);
    for (int bi = 0; bi < px->nbackends; bi++)
        if (px->backends[bi].dead)
            fprintf(f, "fenced %s\n", px->backends[bi].name);
    bool ok = fflush(f) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        log_warn("state-file %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int backend_named(struct pg_proxy *px, const char *name)
{
    for (int bi = 0; bi < px->nbackends; bi++)
        if (!px->backends[bi].shard && strcmp(px->backends[bi].name, name) == 0)
            return bi;
    return -1;
}

int pg_state_load(struct pg_proxy *px)
{
    const char *path = px->cfg.state_file;
    if (!path || !path[0])
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[512], name[256];
    int primary = -1;
    bool fenced[PG_MAX_BACKENDS] = {false};
    while (fgets(line, sizeof line, f)) {
        int bi;
        if (sscanf(line, "primary %255s", name) == 1) {
            if ((bi = backend_named(px, name)) >= 0)
                primary = bi;
            else
                log_warn("state-file %s: primary %s is no backend of the config: ignored", path, name);
        } else if (sscanf(line, "fenced %255s", name) == 1 && (bi = backend_named(px, name)) >= 0) {
            fenced[bi] = true;
        }
    }
    fclose(f);
    if (primary < 0)
        return 0;
    if (primary != px->primary)
        log_warn("state-file %s: %s was promoted by a failover: it is the primary", path, px->backends[primary].name);
    px->primary = primary;
    px->backends[primary].lag_ms = 0;
    for (int bi = 0; bi < px->nbackends; bi++) {
        if (!fenced[bi] || bi == primary)
            continue;
        px->backends[bi].dead = true;
        log_warn("state-file %s: %s stays fenced (the old primary)", path, px->backends[bi].name);
    }
    return 0;
}
