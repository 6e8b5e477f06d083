/*
 * fuzz_aof.c — libFuzzer target for the AOF loader: each input is parsed
 * as a manifest (kv_aof_manifest_parse) and replayed as a command stream
 * (kv_aof_load_mem: the code the file loader runs for every base .aof and
 * incr .aof) into a fresh bare server. The first byte's low bit chooses
 * aof-load-truncated (yes/no). Bad input must end in an error naming the
 * offset (or the manifest line), never a crash, leak or sanitizer report.
 * Commands that fork, write files or may not end are parsed but not run
 * (fuzz_kv_server.h).
 *
 * Build: make build-fuzz/fuzz_aof; run e.g.
 *   build-fuzz/fuzz_aof -dict=fuzz/kv.dict -max_len=8192 CORPUS fuzz/corpus/aof
 * (seeds: manifests and .aof files written by redis-server 7.0 and scaleout).
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_flags.h"
#include "fuzz_kv_server.h"
#include "kv/aof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_srv)
        fz_setup_once();
    fz_reset();
    char err[1024];
    struct kv_aof_manifest m;
    if (kv_aof_manifest_parse(fz_srv, (const char *)data, size, "fuzz.manifest", &m, err, sizeof err) == 0) {
        if (m.base_seq < 0 || m.nincr < 0 || m.nincr > KV_AOF_MAX_INCR)
            abort();
    } else if (!strstr(err, "line") && !strstr(err, "names") && !strstr(err, "lists")) {
        fprintf(stderr, "manifest error without a line: %s\n", err);
        abort();
    }
    fz_srv->cfg.aof_load_truncated = size > 0 && (data[0] & 1);
    char *copy = xmalloc(size + 1); /* decoded in place */
    memcpy(copy, data, size);
    if (kv_aof_load_mem(fz_srv, copy, size, fz_skipped, err, sizeof err) != 0 && !strstr(err, "offset")) {
        fprintf(stderr, "AOF error without an offset: %s\n", err);
        abort();
    }
    xfree(copy);
    fz_flush();
    return 0;
}
