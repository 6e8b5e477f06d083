/*
 * log.h — leveled logging to stderr or a file, one line per event:
 *   PID:ROLE DD Mon YYYY HH:MM:SS.mmm LEVEL message
 * Thread-safe (one write(2) per line).
 */
#ifndef SCALEOUT_CORE_LOG_H
#define SCALEOUT_CORE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3 };

void log_init(const char *role, int level, const char *path);
void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_verbose(...) do { if (log_get_level() <= LOG_VERBOSE) log_msg(LOG_VERBOSE, __VA_ARGS__); } while (0)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif
