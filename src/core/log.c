/*
 * log.c — leveled logging (see log.h).
 */
#include "core/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_level = LOG_NOTICE;
static int log_fd = 2;
static char log_role[16] = "-";

void log_init(const char *role, int level, const char *path)
{
    snprintf(log_role, sizeof log_role, "%s", role);
    log_level = level;
    if (path && *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0)
            log_fd = fd;
        else
            fprintf(stderr, "scaleout: cannot open log file %s, logging to stderr\n", path);
    }
}

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }

void log_msg(int level, const char *fmt, ...)
{
    if (level < log_level)
        return;
    static const char marks[] = ".-*#";
    char line[1024];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%d:%s ", (int)getpid(), log_role);
    n += (int)strftime(line + n, sizeof line - (size_t)n, "%d %b %Y %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03d %c ", (int)(tv.tv_usec / 1000), marks[level & 3]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
}
