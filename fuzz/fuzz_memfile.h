/*
 * fuzz_memfile.h — the input as a file for loaders that take a path (config
 * files, scenario files): one memfd per process, rewritten for every input,
 * opened by the loader as /proc/self/fd/N. No file is created or removed on
 * disk per input, and a crash still reproduces from the one input file.
 * Included by one target each (static function).
 */
#ifndef SCALEOUT_FUZZ_MEMFILE_H
#define SCALEOUT_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The path of a file holding exactly data[0..size). */
static const char *fz_memfile(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", MFD_CLOEXEC);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    /* written over, then cut to size: emptying it first freed and faulted
     * in its pages again for every input */
    if ((size && pwrite(fd, data, size, 0) != (ssize_t)size) || ftruncate(fd, (off_t)size) != 0) {
        perror("fuzz input memfd");
        abort();
    }
    return path;
}

#endif
