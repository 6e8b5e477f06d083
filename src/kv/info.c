/*
 * info.c — what the kv server tells about itself: INFO (Redis's sections and
 * field names, so existing dashboards and clients parse it), /metrics
 * (Prometheus text) and /status (JSON) for the admin endpoint.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/latency.h"
#include "kv/blocking.h"
#include "kv/evict.h"
#include "kv/persist.h"
#include "kv/repl.h"
#include "kv/server.h"
#include "kv/pubsub.h"
#include "kv/script.h"


static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, rss = 0;
    if (fscanf(f, "%lu %lu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void human(char *out, size_t n, unsigned long long v)
{
    if (v < 1024)
        snprintf(out, n, "%lluB", v);
    else if (v < 1024ULL * 1024)
        snprintf(out, n, "%.2fK", v / 1024.0);
    else if (v < 1024ULL * 1024 * 1024)
        snprintf(out, n, "%.2fM", v / 1048576.0);
    else
        snprintf(out, n, "%.2fG", v / 1073741824.0);
}

static uint64_t inst_ops(struct kv_server *s)
{
    uint64_t sum = 0;
    int n = s->ops_idx < 16 ? s->ops_idx : 16;
    for (int i = 0; i < n; i++)
        sum += s->ops_samples[i];
    return n ? sum / (uint64_t)n : 0;
}

static uint64_t net_total(struct kv_server *s, bool in)
{
    uint64_t t = in ? s->st.closed_net_in : s->st.closed_net_out;
    for (struct kv_client *c = s->registry; c; c = c->gnext)
        t += in ? c->net_in : c->net_out;
    return t;
}

/* Keys (or keys with a TTL) in all databases. */
static uint64_t all_keys(struct kv_server *s, bool volatile_only)
{
    uint64_t n = 0;
    for (int i = 0; i < s->ndbs; i++)
        n += volatile_only ? kv_db_get(s, i)->volatile_keys : db_size(kv_db_get(s, i));
    return n;
}

static bool want(const char *section, const char *name, bool in_default)
{
    if (strcasecmp(section, "all") == 0 || strcasecmp(section, "everything") == 0)
        return true;
    if (strcasecmp(section, "default") == 0)
        return in_default;
    return strcasecmp(section, name) == 0;
}

void kv_info(struct kv_server *s, struct buf *o, const char *section)
{
    long long now = util_time_ms();
    bool first = true;
#define SECTION(name) do { if (!first) buf_puts(o, "\r\n"); first = false; buf_puts(o, "# " name "\r\n"); } while (0)
    if (want(section, "server", true)) {
        SECTION("Server");
        buf_printf(o, "redis_version:7.0.0\r\nscaleout_version:%s\r\nredis_mode:standalone\r\n", KV_VERSION);
        buf_printf(o, "process_id:%d\r\ntcp_port:%lld\r\n", (int)getpid(), s->cfg.port);
        buf_printf(o, "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n", (now - s->start_ms) / 1000,
                   (now - s->start_ms) / 86400000);
        buf_printf(o, "hz:%lld\r\nio_threads_active:%d\r\nexecutable:scaleout\r\nconfig_file:%s\r\n", s->cfg.hz,
                   s->nworkers > 1, s->config_file ? s->config_file : "");
    }
    if (want(section, "clients", true)) {
        SECTION("Clients");
        buf_printf(o, "connected_clients:%lld\r\nmaxclients:%lld\r\nblocked_clients:%llu\r\n",
                   (long long)atomic_load(&s->nclients), s->cfg.maxclients, kv_blocking_count(s->blocking));
    }
    if (want(section, "memory", true)) {
        SECTION("Memory");
        size_t used = xalloc_used(), rss = rss_bytes();
        char h1[32], h2[32], h3[32];
        human(h1, sizeof h1, used);
        human(h2, sizeof h2, rss);
        human(h3, sizeof h3, s->cfg.maxmemory);
        buf_printf(o, "used_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n",
                   used, h1, rss, h2);
        /* Redis 7.0's scripting fields; one Lua VM serves EVAL and functions here,
         * so it is all in the eval VM's figure and used_memory_vm_functions is 0 */
        size_t lua = kv_script_memory(s), sbytes, fbytes;
        long long nlibs, ncached = kv_script_cached(s, &sbytes), nfns = kv_script_functions(s, &nlibs, &fbytes);
        char h4[32], h5[32];
        human(h4, sizeof h4, lua);
        human(h5, sizeof h5, sbytes + fbytes);
        buf_printf(o, "used_memory_lua:%zu\r\nused_memory_vm_eval:%zu\r\nused_memory_lua_human:%s\r\n"
                      "used_memory_scripts_eval:%zu\r\nnumber_of_cached_scripts:%lld\r\nnumber_of_functions:%lld\r\n"
                      "number_of_libraries:%lld\r\nused_memory_vm_functions:0\r\nused_memory_vm_total:%zu\r\n"
                      "used_memory_vm_total_human:%s\r\nused_memory_functions:%zu\r\nused_memory_scripts:%zu\r\n"
                      "used_memory_scripts_human:%s\r\n",
                   lua, lua, h4, sbytes, ncached, nfns, nlibs, lua, h4, fbytes, sbytes + fbytes, h5);
        buf_printf(o, "maxmemory:%llu\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\n", s->cfg.maxmemory, h3,
                   s->policy->name);
        buf_printf(o, "mem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\n", used ? (double)rss / (double)used : 0);
    }
    if (want(section, "persistence", true)) {
        SECTION("Persistence");
        kv_persist_info(s, o);
    }
    if (want(section, "stats", true)) {
        SECTION("Stats");
        uint64_t hits = s->db.st.hits, misses = s->db.st.misses;
        buf_printf(o, "total_connections_received:%llu\r\ntotal_commands_processed:%llu\r\ninstantaneous_ops_per_sec:%llu\r\n",
                   (unsigned long long)s->st.conns_received, (unsigned long long)s->st.commands,
                   (unsigned long long)inst_ops(s));
        buf_printf(o, "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n",
                   (unsigned long long)net_total(s, true), (unsigned long long)net_total(s, false),
                   (unsigned long long)s->st.conns_rejected);
        buf_printf(o, "expired_keys:%llu\r\nevicted_keys:%llu\r\nkeyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n",
                   (unsigned long long)s->db.st.expired, (unsigned long long)s->db.st.evicted,
                   (unsigned long long)hits, (unsigned long long)misses);
        buf_printf(o, "keyspace_hit_ratio:%.4f\r\n", hits + misses ? (double)hits / (double)(hits + misses) : 0.0);
        long long pch, ppat, psch;
        kv_pubsub_totals(s, &pch, &ppat, &psch);
        buf_printf(o, "pubsub_channels:%lld\r\npubsub_patterns:%lld\r\npubsubshard_channels:%lld\r\n", pch, ppat, psch);
        buf_printf(o, "total_error_replies:%llu\r\nunexpected_error_replies:%llu\r\nclient_output_buffer_limit_disconnections:%llu\r\n",
                   (unsigned long long)(s->st.unknown_commands + s->st.proto_errors), (unsigned long long)s->st.proto_errors,
                   (unsigned long long)s->st.obl_disconnects);
        buf_printf(o, "active_expire_cycles:%llu\r\n", (unsigned long long)s->db.st.expire_cycles);
        buf_printf(o, "latest_fork_usec:%lld\r\n", s->latest_fork_usec);
        kv_repl_info_stats(s, o);
    }
    if (want(section, "replication", true)) {
        SECTION("Replication");
        kv_repl_info(s, o);
    }
    if (want(section, "cpu", true)) {
        SECTION("CPU");
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        buf_printf(o, "used_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n", (long)ru.ru_stime.tv_sec,
                   (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
    }
    if (want(section, "commandstats", false)) {
        SECTION("Commandstats");
        for (int i = 0; i < RESP_CMD_COUNT; i++) {
            const struct kv_cmd_stats *cs = &s->st.cmd[i];
            if (!cs->calls && !cs->rejected && !cs->failed)
                continue;
            buf_printf(o, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu\r\n",
                       resp_cmds[i].name, (unsigned long long)cs->calls, (unsigned long long)cs->usec,
                       cs->calls ? (double)cs->usec / (double)cs->calls : 0.0, (unsigned long long)cs->rejected,
                       (unsigned long long)cs->failed);
        }
    }
    if (want(section, "latencystats", false)) {
        SECTION("Latencystats");
        kv_latency_info(s, o);
    }
    if (want(section, "keyspace", true)) {
        SECTION("Keyspace");
        for (int i = 0; i < s->ndbs; i++) {
            const struct kv_db *db = kv_db_get(s, i);
            if (db_size(db))
                buf_printf(o, "db%d:keys=%llu,expires=%llu,avg_ttl=%lld\r\n", i, (unsigned long long)db_size(db),
                           (unsigned long long)db->volatile_keys, db->volatile_keys ? db->avg_ttl : 0);
        }
    }
#undef SECTION
}

void kv_cmd_INFO(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct buf b;
    buf_init(&b);
    if (argc == 1) {
        kv_info(c->srv, &b, "default");
    } else {
        for (int j = 1; j < argc; j++) {
            char sec[64];
            snprintf(sec, sizeof sec, "%.*s", (int)argv[j].len, argv[j].ptr);
            if (buf_pending(&b))
                buf_puts(&b, "\r\n");
            kv_info(c->srv, &b, sec);
        }
    }
    resp_add_verbatim(&c->out, c->proto, buf_head(&b), buf_pending(&b));
    buf_deinit(&b);
}

/* ---- /metrics ---------------------------------------------------------------- */

static void metric(struct buf *o, const char *name, const char *type, const char *help, unsigned long long v)
{
    buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

void kv_metrics(struct kv_server *s, struct buf *o)
{
    pthread_mutex_lock(&s->lock);
    metric(o, "scaleout_kv_uptime_seconds", "gauge", "Seconds since the server started.",
           (unsigned long long)((util_time_ms() - s->start_ms) / 1000));
    metric(o, "scaleout_kv_connected_clients", "gauge", "Client connections open now.",
           (unsigned long long)atomic_load(&s->nclients));
    metric(o, "scaleout_kv_connections_received_total", "counter", "Client connections accepted.", s->st.conns_received);
    metric(o, "scaleout_kv_connections_rejected_total", "counter", "Connections refused by maxclients.", s->st.conns_rejected);
    metric(o, "scaleout_kv_memory_used_bytes", "gauge", "Bytes allocated for data and buffers.", xalloc_used());
    metric(o, "scaleout_kv_memory_rss_bytes", "gauge", "Resident set size of the process.", rss_bytes());
    metric(o, "scaleout_kv_memory_max_bytes", "gauge", "The maxmemory limit (0 = none).", s->cfg.maxmemory);
    metric(o, "scaleout_kv_keys", "gauge", "Keys in the keyspace.", all_keys(s, false));
    metric(o, "scaleout_kv_keys_volatile", "gauge", "Keys with a TTL.", all_keys(s, true));
    metric(o, "scaleout_kv_keyspace_hits_total", "counter", "Key lookups that found the key.", s->db.st.hits);
    metric(o, "scaleout_kv_keyspace_misses_total", "counter", "Key lookups that did not find the key.", s->db.st.misses);
    metric(o, "scaleout_kv_expired_keys_total", "counter", "Keys removed because their TTL passed.", s->db.st.expired);
    metric(o, "scaleout_kv_evicted_keys_total", "counter", "Keys evicted by the maxmemory policy.", s->db.st.evicted);
    metric(o, "scaleout_kv_protocol_errors_total", "counter", "Connections closed for malformed protocol.", s->st.proto_errors);
    metric(o, "scaleout_kv_output_limit_disconnects_total", "counter", "Clients closed for unread output.", s->st.obl_disconnects);
    metric(o, "scaleout_kv_commands_processed_total", "counter", "Commands executed.", s->st.commands);

    buf_puts(o, "# HELP scaleout_kv_commands_total Commands executed, by command.\n"
                "# TYPE scaleout_kv_commands_total counter\n");
    for (int i = 0; i < RESP_CMD_COUNT; i++)
        if (s->st.cmd[i].calls)
            buf_printf(o, "scaleout_kv_commands_total{cmd=\"%s\"} %llu\n", resp_cmds[i].name,
                       (unsigned long long)s->st.cmd[i].calls);
    buf_puts(o, "# HELP scaleout_kv_command_errors_total Commands refused (arity, auth, OOM) or failed, by command.\n"
                "# TYPE scaleout_kv_command_errors_total counter\n");
    for (int i = 0; i < RESP_CMD_COUNT; i++)
        if (s->st.cmd[i].rejected + s->st.cmd[i].failed)
            buf_printf(o, "scaleout_kv_command_errors_total{cmd=\"%s\"} %llu\n", resp_cmds[i].name,
                       (unsigned long long)(s->st.cmd[i].rejected + s->st.cmd[i].failed));
    buf_puts(o, "# HELP scaleout_kv_command_duration_seconds Command execution time, by command.\n"
                "# TYPE scaleout_kv_command_duration_seconds histogram\n");
    for (int i = 0; i < RESP_CMD_COUNT; i++) {
        const struct kv_cmd_stats *cs = &s->st.cmd[i];
        if (!cs->calls)
            continue;
        uint64_t cum = 0;
        for (int b = 0; b < KV_LAT_BUCKETS; b++) {
            cum += cs->lat[b];
            if (b == KV_LAT_BUCKETS - 1)
                buf_printf(o, "scaleout_kv_command_duration_seconds_bucket{cmd=\"%s\",le=\"+Inf\"} %llu\n",
                           resp_cmds[i].name, (unsigned long long)cum);
            else
                buf_printf(o, "scaleout_kv_command_duration_seconds_bucket{cmd=\"%s\",le=\"%g\"} %llu\n",
                           resp_cmds[i].name, (double)(1LL << b) / 1e6, (unsigned long long)cum);
        }
        buf_printf(o, "scaleout_kv_command_duration_seconds_sum{cmd=\"%s\"} %.6f\n", resp_cmds[i].name,
                   (double)cs->usec / 1e6);
        buf_printf(o, "scaleout_kv_command_duration_seconds_count{cmd=\"%s\"} %llu\n", resp_cmds[i].name,
                   (unsigned long long)cs->calls);
    }
    pthread_mutex_unlock(&s->lock);
}

void kv_status(struct kv_server *s, struct buf *o)
{
    pthread_mutex_lock(&s->lock);
    uint64_t hits = s->db.st.hits, misses = s->db.st.misses;
    buf_printf(o,
               "{\"role\":\"kv\",\"version\":\"%s\",\"pid\":%d,\"port\":%lld,\"threads\":%d,"
               "\"uptime_seconds\":%lld,\"clients\":%lld,\"keys\":%llu,\"keys_volatile\":%llu,"
               "\"memory\":{\"used\":%zu,\"rss\":%zu,\"max\":%llu,\"policy\":\"%s\"},"
               "\"stats\":{\"commands\":%llu,\"ops_per_sec\":%llu,\"hits\":%llu,\"misses\":%llu,\"hit_ratio\":%.4f,"
               "\"expired\":%llu,\"evicted\":%llu}}\n",
               KV_VERSION, (int)getpid(), s->cfg.port, s->nworkers, (util_time_ms() - s->start_ms) / 1000,
               (long long)atomic_load(&s->nclients), (unsigned long long)all_keys(s, false),
               (unsigned long long)all_keys(s, true), xalloc_used(), rss_bytes(), s->cfg.maxmemory, s->policy->name,
               (unsigned long long)s->st.commands, (unsigned long long)inst_ops(s), (unsigned long long)hits,
               (unsigned long long)misses, hits + misses ? (double)hits / (double)(hits + misses) : 0.0,
               (unsigned long long)s->db.st.expired, (unsigned long long)s->db.st.evicted);
    pthread_mutex_unlock(&s->lock);
}
