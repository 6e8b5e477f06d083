/*
 * latency.h — Redis's latency monitor and per-command latency tracking.
 *
 * Monitor: with latency-monitor-threshold > 0 (ms), every command that runs
 * at least that long adds a sample to its event ("command", or
 * "fast-command" for commands flagged fast); an event keeps its last 160
 * samples, one a second (the larger one within a second), and its all-time
 * maximum. LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR read them.
 *
 * Tracking: with latency-tracking yes (the default), every command's
 * duration goes into a histogram of its own (a subcommand's into its own,
 * named config|get), allocated at its first call: LATENCY HISTOGRAM and
 * INFO latencystats read them. The histogram is core/hist.h, whose buckets
 * are HdrHistogram's with two significant digits, the configuration Redis
 * uses, so the bucket bounds and percentiles reported are Redis's.
 *
 * Runs under the keyspace lock (server.c's command path).
 */
#ifndef SCALEOUT_KV_LATENCY_H
#define SCALEOUT_KV_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "kv/types.h"

struct kv_latency;

struct kv_latency *kv_latency_new(void);
void kv_latency_free(struct kv_latency *l);

/* A command ran for usec microseconds: id its command, sub its
 * subcommand's index in resp_subcmds or -1. */
void kv_latency_note(struct kv_server *s, int id, int sub, long long usec);
/* Add a sample to an event when the monitor is on and ms reaches the threshold. */
void kv_latency_event(struct kv_server *s, const char *event, long long ms);
/* Drop every command histogram (CONFIG RESETSTAT). */
void kv_latency_reset_histograms(struct kv_latency *l);
/* The "# Latencystats" lines of INFO. */
void kv_latency_info(struct kv_server *s, struct buf *o);

/* latency-tracking-info-percentiles (config.c). */
int kv_latency_parse_percentiles(const char *const *words, int n, double *out, int cap, char *err, size_t errlen);
void kv_latency_format_percentiles(const double *p, int n, struct buf *out);

#endif
