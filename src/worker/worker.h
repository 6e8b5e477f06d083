/*
 * worker.h — `scaleout worker`: runs the jobs the app queues (uploads).
 *
 * The worker reaches the queue through struct worker_queue_ops, so the queue's
 * representation in kv can change without touching the loop in main.c:
 * queue_list.c (`kv-list`, the default) is the reliable-queue pattern on kv
 * lists (BLMOVE to a per-worker processing list, a reaper for dead workers);
 * queue_kv.c (`kv-hash`) is the first version on strings and hashes only,
 * polling; queue_stream.c (`kv-stream`) is a consumer group on a stream
 * (XREADGROUP, XACK, XAUTOCLAIM, a dead-letter stream).
 *
 * Blocking and single-threaded on purpose: a worker is one process doing one
 * job at a time; `up` runs as many as the topology asks.
 */
#ifndef SCALEOUT_WORKER_WORKER_H
#define SCALEOUT_WORKER_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "proto/reply.h"

struct worker_config {
    char *kv;
    char *kv_sentinel;        /* "" or HOST:PORT[,...]: kv is the primary they name */
    char *kv_master_name;
    char *id;
    long long poll_ms;
    long long block_ms;
    long long lease_ms;
    long long job_time_ms;
    long long max_attempts;
    long long retry_backoff_ms;
    long long scan_window;
    int queue;                /* index into worker_queues */
    int loglevel;
    char *logfile;
    char *pidfile;
};

extern const struct conf_table worker_conf_table;
int worker_main(int argc, char **argv);

/* ---- a blocking RESP connection (kv.c) ----------------------------------- */

#define WORKER_MAX_ELEMS 64

/* Replies are struct resp_value (proto/reply.h); str points into the
 * connection's input buffer. ARRAY: up to WORKER_MAX_ELEMS scalars; nested
 * arrays are flattened depth-first (a nil one adds nothing). */
struct worker_kv;
/* A connection to kv at addr (HOST:PORT), or, when sentinels (HOST:PORT[,...],
 * "" for none) are given, to the primary they name master_name (kept: it must
 * outlive the connection). Not connected yet: the first command connects.
 * NULL with *bad = "kv" or "kv-sentinel", the directive that is wrong. */
struct worker_kv *worker_kv_new(const char *addr, const char *sentinels, const char *master_name, const char **bad);
void worker_kv_free(struct worker_kv *kv);
/* Send a command and wait for its reply. NULL when the connection failed
 * (it reconnects on the next call). The reply is valid until the next call. */
const struct resp_value *worker_kv_cmd(struct worker_kv *kv, int argc, const char **argv, const size_t *lens);
const struct resp_value *worker_kv_cmdv(struct worker_kv *kv, int argc, const char **argv);

/* ---- the queue ------------------------------------------------------------ */

struct worker_job {
    long long id;
    char key[64];
    char *data;               /* heap, owned by the job */
    size_t len;
    long long attempts;       /* including this one */
};

/* Mark a claimed job's record running (this worker, now) and read its data
 * into job. 0, or -1 when the kv connection failed. */
void worker_job_fill(struct worker_job *job, long long id, const char *key, const struct resp_value *r);
int worker_job_load(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *key,
                    long long jid, long long attempts);

struct worker_queue_ops {
    const char *name;
    bool blocks;              /* claim waits for work itself: no poll sleep */
    /* Optional (NULL): once before the loop, during long jobs, after it. */
    void (*start)(struct worker_kv *kv, const struct worker_config *cf);
    void (*heartbeat)(struct worker_kv *kv, const struct worker_config *cf);
    void (*stop)(struct worker_kv *kv, const struct worker_config *cf);
    /* Claim the next job. 1: *job filled; 0: nothing to do now; -1: kv down. */
    int (*claim)(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job);
    /* The job succeeded with result. */
    int (*done)(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *result);
    /* The job failed: queued again after a back-off, or failed for good after max-attempts. */
    int (*fail)(struct worker_kv *kv, const struct worker_config *cf, struct worker_job *job, const char *error);
};

extern const struct worker_queue_ops worker_queue_kv, worker_queue_list, worker_queue_stream;
extern const struct worker_queue_ops *const worker_queues[];
extern const struct conf_enum worker_queue_names[];

#endif
