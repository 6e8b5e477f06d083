/*
 * fuzz_acl.c — libFuzzer target for the ACL file loader and the ACL rule
 * parser (kv/acl): the input is an aclfile ("user <name> <rules...>" lines).
 * ACL LOAD of it must succeed or fail with an error text, never crash, leak or
 * hang; when it loads, what ACL SAVE writes must load again and save to the
 * same bytes (the description of every user is a faithful round trip: the
 * same flags, passwords, patterns, commands, first-argument rules and
 * selectors), and every user's permission check runs over a few command
 * lines. The file lives in a directory of this process on tmpfs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "fuzz_flags.h"
#include "kv/acl.h"
#include "kv/types.h"
#include "proto/resp.h"

static struct kv_server *srv;
static char dir[256];

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_acl-%d", base, (int)getpid());
    mkdir(dir, 0700);
    srv = xcalloc(1, sizeof *srv);
    srv->cfg.dir = dir;
    srv->cfg.aclfile = "users.acl";
    srv->cfg.acllog_max_len = 128;
    srv->acl = kv_acl_new();
}

static void write_file(const void *p, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/users.acl", dir);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        abort();
}

static void read_file(struct buf *out)
{
    char path[300], chunk[4096];
    snprintf(path, sizeof path, "%s/users.acl", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        abort();
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
}

static struct resp_arg arg(const char *s) { return (struct resp_arg){.ptr = s, .len = strlen(s)}; }

/* Every user the input names runs the check over a few command lines: keys
 * read and written, a channel and a pattern, a subcommand, a first argument. */
static void check_users(const uint8_t *data, size_t size)
{
    static const char *const lines[][6] = {
        {"GET", "key"}, {"SET", "key", "v"}, {"LMOVE", "a", "b", "LEFT", "RIGHT"}, {"PUBLISH", "chan", "m"},
        {"PSUBSCRIBE", "ch*"}, {"CONFIG", "GET", "x"}, {"SELECT", "0"}, {"EVAL", "s", "1", "k"},
        {"SPUBLISH", "s", "m"}, {"AUTH", "x"},
    };
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le - p > 5 && memcmp(p, "user ", 5) == 0) {
            const char *name = p + 5;
            const char *sp = memchr(name, ' ', (size_t)(le - name));
            size_t nlen = (size_t)((sp ? sp : le) - name);
            for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
                struct resp_arg argv[6];
                int argc = 0;
                while (argc < 6 && lines[i][argc])
                    argv[argc] = arg(lines[i][argc]), argc++;
                char msg[700];
                kv_acl_dryrun(srv->acl, name, nlen, argc, argv, msg, sizeof msg);
            }
        }
        p = nl ? nl + 1 : end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        setup();
    write_file(data, size);
    struct buf err, first, second;
    buf_init(&err);
    buf_init(&first);
    buf_init(&second);
    if (kv_acl_load(srv, NULL, &err)) {
        if (!kv_acl_save(srv))
            abort();
        read_file(&first);
        if (!kv_acl_load(srv, NULL, &err)) { /* what we wrote must load */
            fprintf(stderr, "saved ACL file does not load: %.*s\n%.*s\n", (int)buf_pending(&err), buf_head(&err),
                    (int)buf_pending(&first), buf_head(&first));
            abort();
        }
        if (!kv_acl_save(srv))
            abort();
        read_file(&second);
        if (buf_pending(&first) != buf_pending(&second) ||
            memcmp(buf_head(&first), buf_head(&second), buf_pending(&first)) != 0) {
            fprintf(stderr, "ACL SAVE is no round trip:\n%.*s\n---\n%.*s\n", (int)buf_pending(&first),
                    buf_head(&first), (int)buf_pending(&second), buf_head(&second));
            abort();
        }
        check_users(data, size);
    } else if (buf_pending(&err) == 0) {
        abort(); /* a refusal says why */
    }
    buf_deinit(&err);
    buf_deinit(&first);
    buf_deinit(&second);
    return 0;
}
