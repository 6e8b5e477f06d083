#!/usr/bin/env python3
"""Write src/proto/commands_acl.c: the ACL categories and key-spec flags of
every command and subcommand in src/proto/commands.{h,c}, read from a running
redis-server 7.0 (COMMAND's reply: element 7 the categories, element 9 the
key specs). These are facts about Redis's command table, as the arities are.

    redis-server --port 7390 --save '' &
    scripts/gen-command-acl.py 7390 > src/proto/commands_acl.c
"""
import re
import socket
import sys


def resp(port, *args):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)

    def read():
        line = f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if t in (b"*", b"~"):
            return [read() for _ in range(int(rest))]
        raise ValueError(line)
    return read()


def pairs(lst):
    return {lst[i]: lst[i + 1] for i in range(0, len(lst), 2)}


CATS = ("keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub "
        "admin fast slow blocking dangerous connection transaction scripting").split()
KFLAGS = "RO RW OW RM access update insert delete not_key incomplete variable_flags".split()


def cats_expr(cats):
    return "|".join("RESP_ACL_" + c[1:].upper() for c in cats) or "0"


def kf_expr(flags):
    return "|".join("RESP_KEY_" + f.upper() for f in flags) or "0"


def main():
    port = int(sys.argv[1])
    info = {}

    def walk(e):
        specs = [pairs(s)["flags"] for s in e[8]]
        info[e[0]] = (e[6], specs)
        for sub in e[9]:
            walk(sub)
    for e in resp(port, "COMMAND"):
        walk(e)
    root = __file__.rsplit("/scripts/", 1)[0]
    ids = re.findall(r'X\((\w+), "([^"]+)"', open(root + "/src/proto/commands.h").read())
    subs = re.findall(r'\{RESP_CMD_(\w+), "([^"]+)", -?\d+, \d+\}', open(root + "/src/proto/commands.c").read())
    names = dict(ids)
    p = print
    p("/*")
    p(" * commands_acl.c — the ACL categories and key-spec flags of each command,")
    p(" * as Redis 7.0 declares them. Written by scripts/gen-command-acl.py from")
    p(" * redis-server's COMMAND reply; do not edit by hand.")
    p(" */")
    p('#include "proto/commands.h"')
    p("")
    p("const char *const resp_acl_cat_names[RESP_ACL_NCATS] = {")
    p("    " + ", ".join('"%s"' % c for c in CATS) + ",")
    p("};")
    p("")
    p("/* key flags: those of the first key spec, then those of the last one (the")
    p(" * keys after the first key: destinations, STORE targets, sources) */")
    p("const struct resp_cmd_acl resp_cmd_acls[RESP_CMD_COUNT] = {")
    for cid, name in ids:
        cats, specs = info[name]
        first = specs[0] if specs else []
        rest = specs[-1] if specs else []
        p("    [RESP_CMD_%s] = {%s, %s, %s}," % (cid, cats_expr(cats), kf_expr(first), kf_expr(rest)))
    p("};")
    p("")
    p("/* in the order of resp_subcmds (test_commands checks it) */")
    p("const struct resp_subcmd_acl resp_subcmd_acls[] = {")
    for parent, sub in subs:
        cats, specs = info[names[parent] + "|" + sub]
        p('    {"%s|%s", %s, %s},' % (names[parent], sub, cats_expr(cats), kf_expr(specs[0] if specs else [])))
    p("};")
    p("const int resp_subcmd_acl_count = (int)(sizeof resp_subcmd_acls / sizeof resp_subcmd_acls[0]);")


main()
