/*
 * test_config.c — core/config: defaults, file parsing with file:line errors
 * (all of them), flags, runtime-only directives, quoting; and the command
 * table lookup in proto/commands.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "proto/commands.h"

struct tconf {
    long long port;
    unsigned long long mem;
    long long dur;
    bool flag;
    int choice;
    char *name;
};

static const struct conf_enum choices[] = {{"alpha", 1}, {"beta", 2}, {NULL, 0}};

static const struct conf_directive dirs[] = {
    {"port", CONF_INT, offsetof(struct tconf, port), 0, 65535, "7379", NULL, 0, "port", 0, NULL, NULL},
    {"mem", CONF_MEMORY, offsetof(struct tconf, mem), 0, 0, "1mb", NULL, CONF_RUNTIME, "memory", 0, NULL, NULL},
    {"dur", CONF_DURATION, offsetof(struct tconf, dur), 0, 1000000, "10s", NULL, CONF_RUNTIME, "duration", 0, NULL, NULL},
    {"flag", CONF_BOOL, offsetof(struct tconf, flag), 0, 0, "no", NULL, 0, "flag", 0, NULL, NULL},
    {"choice", CONF_ENUM, offsetof(struct tconf, choice), 0, 0, "alpha", choices, CONF_RUNTIME, "choice", 0, NULL, NULL},
    {"name", CONF_STRING, offsetof(struct tconf, name), 0, 0, "", NULL, CONF_RUNTIME, "name", 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL},
};

static const struct conf_table table = {"test", dirs, sizeof(struct tconf), NULL};

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/scaleout-conf-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(config, defaults)
{
    struct tconf c;
    conf_defaults(&table, &c);
    cr_assert_eq(c.port, 7379);
    cr_assert_eq(c.mem, 1024 * 1024);
    cr_assert_eq(c.dur, 10000);
    cr_assert_eq(c.flag, false);
    cr_assert_eq(c.choice, 1);
    cr_assert_str_eq(c.name, "");
    conf_free(&table, &c);
}

Test(config, file_ok)
{
    struct tconf c;
    conf_defaults(&table, &c);
    char *p = write_tmp("# comment\nrole test\nport 80\nmem 2gb\ndur 250ms\nflag yes\nchoice BETA\nname \"a b\"\n\n");
    struct buf errs;
    buf_init(&errs);
    cr_assert_eq(conf_load_file(&table, &c, p, &errs), 0, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
    cr_assert_eq(c.port, 80);
    cr_assert_eq(c.mem, 2ULL * 1024 * 1024 * 1024);
    cr_assert_eq(c.dur, 250);
    cr_assert(c.flag);
    cr_assert_eq(c.choice, 2);
    cr_assert_str_eq(c.name, "a b");
    unlink(p);
    buf_deinit(&errs);
    conf_free(&table, &c);
}

Test(config, file_errors_all_reported_with_lines)
{
    struct tconf c;
    conf_defaults(&table, &c);
    char *p = write_tmp("port 99999\nbogus 1\nmem lots\nflag maybe\nchoice gamma\nname \"unterminated\nrole other\n");
    struct buf errs;
    buf_init(&errs);
    cr_assert_eq(conf_load_file(&table, &c, p, &errs), 7);
    buf_putc(&errs, '\0');
    const char *e = buf_head(&errs);
    char want[128];
    for (int line = 1; line <= 7; line++) {
        snprintf(want, sizeof want, "%s:%d: ", p, line);
        cr_assert(strstr(e, want), "missing %s in:\n%s", want, e);
    }
    cr_assert(strstr(e, "between 0 and 65535"));
    cr_assert(strstr(e, "unknown directive 'bogus'"));
    cr_assert(strstr(e, "one of alpha beta"));
    unlink(p);
    buf_deinit(&errs);
    conf_free(&table, &c);
}

Test(config, flags_override_file)
{
    struct tconf c;
    conf_defaults(&table, &c);
    char *p = write_tmp("port 80\nmem 1gb\n");
    char *argv[] = {"--port", "81", "--config", p, "--name", "x y"};
    struct buf errs;
    buf_init(&errs);
    cr_assert_eq(conf_load_args(&table, &c, 6, argv, &errs), 0);
    cr_assert_eq(c.port, 81);
    cr_assert_eq(c.mem, 1024ULL * 1024 * 1024);
    cr_assert_str_eq(c.name, "x y"); /* a string flag is taken literally */
    unlink(p);
    char *bad[] = {"--nope", "1", "stray"};
    cr_assert_eq(conf_load_args(&table, &c, 3, bad, &errs), 1);
    buf_deinit(&errs);
    conf_free(&table, &c);
}

Test(config, runtime_only)
{
    struct tconf c;
    conf_defaults(&table, &c);
    char err[256];
    char *v[] = {"80"};
    cr_assert_eq(conf_set(&table, &c, "port", 1, v, true, err, sizeof err), -1);
    cr_assert_str_eq(err, "can't set immutable config");
    char *m[] = {"5mb"};
    cr_assert_eq(conf_set(&table, &c, "mem", 1, m, true, err, sizeof err), 0);
    cr_assert_eq(c.mem, 5ULL * 1024 * 1024);
    struct buf out;
    buf_init(&out);
    conf_format(conf_lookup(&table, "mem"), &c, &out);
    cr_assert_eq(buf_pending(&out), 7);
    cr_assert(memcmp(buf_head(&out), "5242880", 7) == 0);
    buf_deinit(&out);
    conf_free(&table, &c);
}

Test(config, split_quotes)
{
    char line[] = "a \"b c\" 'd e' \"x\\ny\" f";
    char *argv[8];
    cr_assert_eq(conf_split(line, argv, 8), 5);
    cr_assert_str_eq(argv[1], "b c");
    cr_assert_str_eq(argv[2], "d e");
    cr_assert_str_eq(argv[3], "x\ny");
    cr_assert_str_eq(argv[4], "f");
    char bad[] = "a \"b";
    cr_assert_eq(conf_split(bad, argv, 8), -1);
    char glued[] = "\"a\"b";
    cr_assert_eq(conf_split(glued, argv, 8), -1);
}

Test(commands, lookup)
{
    cr_assert_eq(resp_cmd_lookup("GET", 3), RESP_CMD_GET);
    cr_assert_eq(resp_cmd_lookup("get", 3), RESP_CMD_GET);
    cr_assert_eq(resp_cmd_lookup("HiNcRbYfLoAt", 12), RESP_CMD_HINCRBYFLOAT);
    cr_assert_eq(resp_cmd_lookup("nope", 4), -1);
    cr_assert_eq(resp_cmd_lookup("", 0), -1);
    cr_assert_eq(resp_cmd_lookup("getx", 3), RESP_CMD_GET);
    for (int i = 0; i < RESP_CMD_COUNT; i++) {
        const char *nm = resp_cmds[i].name;
        size_t n = strlen(nm);
        cr_assert_eq(resp_cmd_lookup(nm, n), i);
        char up[64];
        cr_assert_lt(n, sizeof up);
        for (size_t k = 0; k < n; k++)
            up[k] = (nm[k] >= 'a' && nm[k] <= 'z') ? (char)(nm[k] - 32) : nm[k];
        cr_assert_eq(resp_cmd_lookup(up, n), i, "%s in upper case", nm);
        cr_assert_neq(resp_cmd_lookup(nm, n - 1), i, "a prefix of %s", nm);
        /* only ASCII A-Z fold: bytes that differ from a name's by 0x20
         * elsewhere do not match it */
        memcpy(up, nm, n);
        up[n - 1] = (char)(up[n - 1] ^ 0x20);
        if (!(nm[n - 1] >= 'a' && nm[n - 1] <= 'z'))
            cr_assert_eq(resp_cmd_lookup(up, n), -1, "%s with its last byte ^ 0x20", nm);
    }
    cr_assert_eq(resp_cmd_lookup("GE", 2), -1);
    cr_assert_eq(resp_cmd_lookup("GETT", 4), -1);
    cr_assert_eq(resp_cmd_lookup("g\xc5t", 3), -1);
    char longname[40];
    memset(longname, 'a', sizeof longname);
    cr_assert_eq(resp_cmd_lookup(longname, sizeof longname), -1);
    cr_assert_eq(resp_cmds[RESP_CMD_MSET].step, 2);
    cr_assert_eq(resp_cmds[RESP_CMD_MSET].last, -1);
}
