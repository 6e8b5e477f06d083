/*
 * config.c — the worker's directive table (core/config): file, --flags,
 * `scaleout check` and --help from one list.
 */
#include <stddef.h>

#include "worker/worker.h"

#define OFF(f) offsetof(struct worker_config, f)

const struct conf_enum worker_queue_names[] = {{"kv-hash", 0}, {"kv-list", 1}, {"kv-stream", 2}, {NULL, 0}};

static const struct conf_directive worker_dirs[] = {
    {"kv", CONF_STRING, OFF(kv), 0, 0, "127.0.0.1:7379", NULL, 0, "kv address holding the queue", 0, NULL, NULL},
    {"kv-sentinel", CONF_STRING, OFF(kv_sentinel), 0, 0, "", NULL, 0,
     "HOST:PORT[,HOST:PORT...] of sentinels: kv is the primary they report, asked again at every reconnect and "
     "after -READONLY (a failover)", 0, NULL, NULL},
    {"kv-master-name", CONF_STRING, OFF(kv_master_name), 0, 0, "scaleout", NULL, 0, "the sentinels' name of the kv primary",
     0, NULL, NULL},
    {"id", CONF_STRING, OFF(id), 0, 0, "", NULL, 0, "worker name in job records (empty: worker-PID)", 0, NULL, NULL},
    {"queue", CONF_ENUM, OFF(queue), 0, 0, "kv-list", worker_queue_names, 0,
     "queue representation in kv: kv-list (BLMOVE, reliable queue), kv-stream (consumer group) or kv-hash (polling; "
     "as the app's queue)", 0, NULL, NULL},
    {"poll", CONF_DURATION, OFF(poll_ms), 1, 60000, "50ms", NULL, 0, "kv-hash: sleep when the queue is empty", 1, NULL, NULL},
    {"block", CONF_DURATION, OFF(block_ms), 10, 4000, "1s", NULL, 0,
     "kv-list: longest BLMOVE wait (SIGTERM is served within it)", 1, NULL, NULL},
    {"lease", CONF_DURATION, OFF(lease_ms), 100, 86400000, "30s", NULL, 0,
     "kv-hash: a claimed job runs again elsewhere if not finished by then; kv-list: a worker that stops renewing "
     "its lease this long loses its jobs to the queue", 1, NULL, NULL},
    {"job-time", CONF_DURATION, OFF(job_time_ms), 0, 3600000, "20ms", NULL, 0, "simulated processing time of a job", 1, NULL,
     NULL},
    {"max-attempts", CONF_INT, OFF(max_attempts), 1, 1000, "3", NULL, 0, "attempts before a job is marked failed", 0, NULL,
     NULL},
    {"retry-backoff", CONF_DURATION, OFF(retry_backoff_ms), 0, 3600000, "200ms", NULL, 0,
     "wait before a failed job is retried, times the attempts so far", 1, NULL, NULL},
    {"scan-window", CONF_INT, OFF(scan_window), 1, 100000, "256", NULL, 0, "job ids looked at per claim", 0, NULL, NULL},
    CONF_PROCESS_ROWS(struct worker_config, 0),
    CONF_END,
};

const struct conf_table worker_conf_table = {"worker", worker_dirs, sizeof(struct worker_config), NULL};
