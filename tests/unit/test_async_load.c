/*
 * test_async_load.c — unit tests of kv/async_load: an RDB image fed in
 * chunks to the loader thread ends in new databases (keys, libraries kept as
 * code, the used-mem aux field as progress); the loader asks for a pause
 * past its queue limit and wakes the loop when it took the bytes; a
 * diskless image with bytes after its end, a corrupt image and a load
 * stopped half-way fail without touching anything but the loader's own
 * databases.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "kv/async_load.h"
#include "kv/db.h"
#include "kv/rdb.h"

static int events;
static void on_event(void *arg)
{
    (void)arg;
    events++;
}

/* An image of n string keys (values of vlen bytes), saved with a used-mem aux field. */
static char *image(int n, size_t vlen, size_t *len)
{
    struct kv_db db;
    kv_db_init(&db);
    char k[32];
    char *v = calloc(1, vlen + 1);
    memset(v, 'x', vlen);
    for (int i = 0; i < n; i++) {
        size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
        kv_db_add(&db, kv_obj_new_string(k, kl, v, vlen, -1));
    }
    free(v);
    FILE *f = tmpfile();
    struct kv_db *dbs[1] = {&db};
    struct kv_rdb_save_opts o = {.checksum = true, .used_mem = 4242};
    cr_assert_eq(kv_rdb_save_fd(fileno(f), dbs, 1, &o), 0);
    long size = lseek(fileno(f), 0, SEEK_END);
    char *img = malloc((size_t)size);
    cr_assert_eq(pread(fileno(f), img, (size_t)size, 0), size);
    fclose(f);
    kv_db_deinit(&db);
    *len = (size_t)size;
    return img;
}

static struct kv_async_load *start(uv_loop_t *loop, struct kv_db *like, bool strict)
{
    kv_db_init(like);
    struct kv_db *lk[1] = {like};
    events = 0;
    struct kv_async_load *l = kv_async_load_start(lk, 1, strict, loop, on_event, NULL);
    cr_assert_not_null(l);
    return l;
}

static void wait_done(uv_loop_t *loop, struct kv_async_load *l)
{
    for (int i = 0; i < 20000 && !kv_async_load_done(l); i++)
        usleep(500);
    cr_assert(kv_async_load_done(l));
    for (int i = 0; i < 100 && events == 0; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void finish(uv_loop_t *loop, struct kv_async_load *l, struct kv_db *like)
{
    kv_async_load_free(l, false);
    uv_run(loop, UV_RUN_NOWAIT); /* the handle's close frees l */
    kv_db_deinit(like);
    uv_loop_close(loop);
}

Test(async_load, chunks_then_result)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    size_t n;
    char *img = image(20000, 1000, &n); /* ~20 MB: past the queue limit */
    struct kv_db like;
    struct kv_async_load *l = start(&loop, &like, true);
    bool paused = false;
    for (size_t off = 0; off < n;) {
        size_t k = n - off < 65536 ? n - off : 65536;
        if (!kv_async_load_feed(l, img + off, k)) {
            paused = true;
            while (!kv_async_load_has_room(l))
                uv_run(&loop, UV_RUN_ONCE); /* the thread's wake ends the pause */
        }
        off += k;
    }
    cr_assert(paused, "20 MB fed at once never filled the queue");
    kv_async_load_end(l);
    wait_done(&loop, l);
    struct kv_async_load_result res;
    kv_async_load_result(l, &res);
    cr_assert_eq(res.rc, 0, "%s", res.err);
    cr_assert_eq(res.st->keys, 20000);
    cr_assert_eq(db_size(&res.dbs[0]), 20000);
    cr_assert_not_null(db_lookup(&res.dbs[0], "key:19999", 9, LOOKUP_NOTOUCH));
    uint64_t loaded, used;
    long long t0;
    kv_async_load_progress(l, &loaded, &used, &t0);
    cr_assert_eq(loaded, n);
    cr_assert_eq(used, 4242);
    cr_assert_gt(events, 0);
    finish(&loop, l, &like);
    free(img);
}

Test(async_load, trailing_bytes_corruption_and_stop)
{
    size_t n;
    char *img = image(300, 10, &n);
    /* a diskless image must end where the payload ends */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct kv_db like;
    struct kv_async_load *l = start(&loop, &like, true);
    kv_async_load_feed(l, img, n);
    kv_async_load_feed(l, "junk", 4);
    kv_async_load_end(l);
    wait_done(&loop, l);
    struct kv_async_load_result res;
    kv_async_load_result(l, &res);
    cr_assert_eq(res.rc, -1);
    cr_assert(strstr(res.err, "after the end") != NULL, "%s", res.err);
    finish(&loop, l, &like);
    /* a flipped byte: the error names an offset */
    uv_loop_init(&loop);
    l = start(&loop, &like, false);
    img[n / 2] ^= 0x20;
    kv_async_load_feed(l, img, n);
    kv_async_load_end(l);
    wait_done(&loop, l);
    kv_async_load_result(l, &res);
    cr_assert_eq(res.rc, -1);
    cr_assert(strncmp(res.err, "offset ", 7) == 0, "%s", res.err);
    finish(&loop, l, &like);
    /* stopped half-way (the link broke): the thread ends, nothing leaks */
    img[n / 2] ^= 0x20;
    uv_loop_init(&loop);
    l = start(&loop, &like, true);
    kv_async_load_feed(l, img, n / 2);
    finish(&loop, l, &like);
    free(img);
}
