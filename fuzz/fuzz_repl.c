/*
 * fuzz_repl.c — libFuzzer target for the replica's input: the bytes a
 * primary sends after the replica's PING (the replies to PING, REPLCONF,
 * PSYNC: +FULLRESYNC <id> <off> / +CONTINUE, then $<len> and the RDB
 * payload, then the command stream), fed to the replica's parser without a
 * socket (kv_replica_feed) on a fresh bare server. The first byte chooses
 * how the bytes arrive: at once or in chunks of 1..127 bytes, as reads
 * from a socket would split them; its top bit how a full sync loads
 * (repl-diskless-load on-empty-db or swapdb: from memory, no file). The
 * payload may come as $<len> or with the diskless $EOF:<40 bytes> framing,
 * and carry FUNCTION2 libraries (loaded into the server's Lua). Garbage must drop the link (the replica
 * reconnects and resyncs), never crash, leak or hang.
 *
 * Build: make build-fuzz/fuzz_repl; run e.g.
 *   build-fuzz/fuzz_repl -dict=fuzz/kv.dict -max_len=16384 CORPUS fuzz/corpus/repl
 */
#include <stdint.h>

#include "fuzz_flags.h"
#include "fuzz_kv_server.h"
#include "kv/function.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_srv)
        fz_setup_once();
    fz_reset();
    if (size == 0)
        return 0;
    size_t chunk = data[0] & 0x7f;
    fz_srv->cfg.repl_diskless_load = (data[0] & 0x80) ? KV_DISKLESS_LOAD_SWAPDB : KV_DISKLESS_LOAD_ON_EMPTY_DB;
    kv_replica_feed(fz_srv, &fz_loop, (const char *)data + 1, size - 1, chunk);
    uv_run(&fz_loop, UV_RUN_NOWAIT); /* free the closed handle */
    fz_flush();
    kv_fn_flush(fz_srv);
    return 0;
}
