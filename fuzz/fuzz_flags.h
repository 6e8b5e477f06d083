/*
 * fuzz_flags.h — default libFuzzer flags for the targets whose runs touch
 * thousands of coverage features (the kv command path, the loaders, the
 * router, the parsers checked many ways), put before the command line's own
 * flags so that an explicit flag still wins.
 *
 *   -entropic=0  The entropic power schedule of clang 14's libFuzzer looks
 *                every feature of every run up in its list of rare features
 *                (a linear std::find, UpdateFeatureFrequency): with a few
 *                thousand features a run, that was 50-70% of the CPU time
 *                of fuzz_kv, fuzz_aof and fuzz_router (perf), 3-4x more
 *                than the code under test. The classic schedule runs the same
 *                harness, with the same checks, 3-4x as often. Pass
 *                -entropic=1 to get the entropic schedule back.
 *
 * Included by one target each (it defines LLVMFuzzerInitialize).
 */
#ifndef SCALEOUT_FUZZ_FLAGS_H
#define SCALEOUT_FUZZ_FLAGS_H

#include <stddef.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char entropic[] = "-entropic=0";
    static char *args[512];
    int n = *argc;
    if (n < 1 || n + 2 > (int)(sizeof args / sizeof *args))
        return 0;
    args[0] = (*argv)[0];
    args[1] = entropic;
    for (int i = 1; i < n; i++)
        args[i + 1] = (*argv)[i];
    args[n + 1] = NULL;
    *argc = n + 1;
    *argv = args;
    return 0;
}

#endif
