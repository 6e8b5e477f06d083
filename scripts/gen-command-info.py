#!/usr/bin/env python3
"""Write src/proto/commands_info.c: what Redis 7.0's COMMAND INFO says of
every command and subcommand in src/proto/commands.{h,c} — its flags, ACL
categories, tips and key specs — read from a running redis-server's COMMAND
reply. These are facts about the commands' interfaces, as the arities are;
kv answers COMMAND INFO from them and its ACL uses the categories and the
key-spec flags.

    redis-server --port 7390 --save '' &
    scripts/gen-command-info.py 7390 > src/proto/commands_info.c
"""
import json
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


def cats_expr(cats):
    return "|".join("RESP_ACL_" + c[1:].upper() for c in cats) or "0"


def kf_expr(flags):
    return "|".join("RESP_KEY_" + f.upper() for f in flags) or "0"


def cstr(s):
    return json.dumps(s)


def ident(name):
    return re.sub(r"[^a-z0-9_]", "_", name)


def main():
    port = int(sys.argv[1])
    info = {}

    def walk(e):
        info[e[0]] = e
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
    p(" * commands_info.c — what Redis 7.0's COMMAND INFO says of each command and")
    p(" * subcommand: flags, ACL categories, tips, key specs. Written by")
    p(" * scripts/gen-command-info.py from redis-server's COMMAND reply; do not edit.")
    p(" */")
    p('#include "proto/commands.h"')
    p("")
    p("#include <stddef.h>")
    p("")
    p("const char *const resp_acl_cat_names[RESP_ACL_NCATS] = {")
    p('    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",')
    p('    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction",')
    p('    "scripting",')
    p("};")
    p("")
    allnames = [n for _, n in ids] + [names[par] + "|" + sub for par, sub in subs]
    for name in allnames:
        e = info[name]
        v = ident(name)
        p("static const char *const fl_%s[] = {%s};" % (v, ", ".join([cstr(x) for x in e[2]] + ["NULL"])))
        if e[7]:
            p("static const char *const tp_%s[] = {%s};" % (v, ", ".join([cstr(x) for x in e[7]] + ["NULL"])))
        if e[8]:
            rows = []
            for s in e[8]:
                s = pairs(s)
                bs, fk = pairs(s["begin_search"]), pairs(s["find_keys"])
                bss = pairs(bs["spec"])
                fks = pairs(fk["spec"])
                if bs["type"] == "index":
                    b = "RESP_BS_INDEX, %d, NULL" % bss["index"]
                elif bs["type"] == "keyword":
                    b = "RESP_BS_KEYWORD, %d, %s" % (bss["startfrom"], cstr(bss["keyword"]))
                else:
                    b = "RESP_BS_UNKNOWN, 0, NULL"
                if fk["type"] == "range":
                    f = "RESP_FK_RANGE, {%d, %d, %d}" % (fks["lastkey"], fks["keystep"], fks["limit"])
                elif fk["type"] == "keynum":
                    f = "RESP_FK_KEYNUM, {%d, %d, %d}" % (fks["keynumidx"], fks["firstkey"], fks["keystep"])
                else:
                    f = "RESP_FK_UNKNOWN, {0, 0, 0}"
                notes = cstr(s["notes"]) if "notes" in s else "NULL"
                rows.append("    {%s, %s, %s, %s}," % (notes, kf_expr(s["flags"]), b, f))
            p("static const struct resp_keyspec ks_%s[] = {" % v)
            for r in rows:
                p(r)
            p("};")

    def entry(name):
        e = info[name]
        v = ident(name)
        specs = e[8]
        first = pairs(specs[0])["flags"] if specs else []
        rest = pairs(specs[-1])["flags"] if specs else []
        return "{%s, %s, %s, fl_%s, %s, %s, %d}" % (
            cats_expr(e[6]), kf_expr(first), kf_expr(rest), v, "tp_" + v if e[7] else "NULL",
            "ks_" + v if specs else "NULL", len(specs))
    p("")
    p("/* key_first: the flags of the first key spec; key_rest: of the last one (the")
    p(" * keys after the first key: destinations, STORE targets, sources) */")
    p("const struct resp_cmd_info resp_cmd_infos[RESP_CMD_COUNT] = {")
    for cid, name in ids:
        p("    [RESP_CMD_%s] = %s," % (cid, entry(name)))
    p("};")
    p("")
    p("/* in the order of resp_subcmds (test_command_info checks it) */")
    p("const struct resp_subcmd_info resp_subcmd_infos[] = {")
    for par, sub in subs:
        full = names[par] + "|" + sub
        p('    {"%s", %s},' % (full, entry(full)))
    p("};")
    p("const int resp_subcmd_info_count = (int)(sizeof resp_subcmd_infos / sizeof resp_subcmd_infos[0]);")


main()
