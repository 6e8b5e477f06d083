/*
 * config.c — the worker's directive table (core/config): file, --flags,
 * `scaleout check` and --help from one list.
 */
#include <stddef.h>

#include "worker/worker.h"

#define OFF(f) offsetof(struct worker_config, f)

const struct conf_enum worker_queue_names[] = {{"kv-hash", 0}, {"kv-list", 1}, {"kv-stream", 2}, {NULL, 0}};

static const struct conf_directive worker_dirs[] = {
    CONF_ROW_STRING("kv", OFF(kv), "127.0.0.1:7379", 0, "kv address holding the queue"),
    CONF_ROW_STRING("kv-sentinel", OFF(kv_sentinel), "", 0,
        "HOST:PORT[,HOST:PORT...] of sentinels: kv is the primary they report, asked again at every reconnect and "
        "after -READONLY (a failover)"),
    CONF_ROW_STRING("kv-master-name", OFF(kv_master_name), "scaleout", 0, "the sentinels' name of the kv primary"),
    CONF_ROW_STRING("id", OFF(id), "", 0, "worker name in job records (empty: worker-PID)"),
    CONF_ROW_ENUM("queue", OFF(queue), "kv-list", worker_queue_names, 0,
        "queue representation in kv: kv-list (BLMOVE, reliable queue), kv-stream (consumer group) or kv-hash "
        "(polling; as the app's queue)"),
    CONF_ROW_DURATION("poll", OFF(poll_ms), 1, 60000, "50ms", 1, 0, "kv-hash: sleep when the queue is empty"),
    CONF_ROW_DURATION("block", OFF(block_ms), 10, 4000, "1s", 1, 0,
        "kv-list: longest BLMOVE wait (SIGTERM is served within it)"),
    CONF_ROW_DURATION("lease", OFF(lease_ms), 100, 86400000, "30s", 1, 0,
        "kv-hash: a claimed job runs again elsewhere if not finished by then; kv-list: a worker that stops renewing "
        "its lease this long loses its jobs to the queue"),
    CONF_ROW_DURATION("job-time", OFF(job_time_ms), 0, 3600000, "20ms", 1, 0, "simulated processing time of a job"),
    CONF_ROW_INT("max-attempts", OFF(max_attempts), 1, 1000, "3", 0, "attempts before a job is marked failed"),
    CONF_ROW_DURATION("retry-backoff", OFF(retry_backoff_ms), 0, 3600000, "200ms", 1, 0,
        "wait before a failed job is retried, times the attempts so far"),
    CONF_ROW_INT("scan-window", OFF(scan_window), 1, 100000, "256", 0, "job ids looked at per claim"),
    CONF_PROCESS_ROWS(struct worker_config, 0),
    CONF_END,
};

const struct conf_table worker_conf_table = {"worker", worker_dirs, sizeof(struct worker_config), NULL};
