/*
 * fuzz_lb_config.c — libFuzzer target for the lb's configuration loader
 * (lb_config_load: the directive table, listener and pool sections, routes,
 * backends, then the cross-section validation): any bytes as an lb config
 * file give 0..n errors with file:line, never a crash, a leak or a hang.
 * Host names resolve numerically only (fuzz_resolve_numeric.h); the file
 * is a memfd (fuzz_memfile.h).
 *
 *   make fuzz && build-fuzz/fuzz_lb_config -dict=fuzz/lb_config.dict fuzz/corpus/lb_config
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "fuzz_flags.h"
#include "fuzz_memfile.h"
#include "fuzz_resolve_numeric.h"
#include "lb/lb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_memfile(data, size);
    struct lb_config c;
    lb_config_init(&c);
    struct buf errs;
    buf_init(&errs);
    lb_config_load(&c, path, 0, NULL, &errs);
    buf_deinit(&errs);
    lb_config_deinit(&c);
    return 0;
}
