/*
 * fuzz_bench_scenario.c — libFuzzer target for the bench scenario loader
 * (bench_scenario_check_file: directive lines, step/run/spawn/sleep lines,
 * per-step settings, targets): any bytes as a scenario file give 0..n errors
 * with file:line and run nothing, never a crash, a leak or a hang. Targets
 * resolve numerically only (fuzz_resolve_numeric.h); the file is a memfd
 * (fuzz_memfile.h).
 *
 *   make fuzz && build-fuzz/fuzz_bench_scenario -dict=fuzz/bench_scenario.dict fuzz/corpus/bench_scenario
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "fuzz_flags.h"
#include "fuzz_memfile.h"
#include "fuzz_resolve_numeric.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    bench_scenario_check_file(fz_memfile(data, size), devnull);
    return 0;
}
