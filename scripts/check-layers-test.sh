#!/bin/sh
# check-layers-test.sh — proves that scripts/check-layers.sh fails on each kind
# of violation and passes a clean tree: it builds small src/ trees in a temp
# dir (one file each that breaks the rule) and runs the check on them.
# Exits 1 if the check accepts a violation or rejects the clean tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

# tree NAME: a clean tree core < proto < net < roles (kv, lb)
tree() {
    t="$tmp/$1"
    mkdir -p "$t/core" "$t/proto" "$t/net" "$t/kv" "$t/lb"
    printf '#include <stdio.h>\n' >"$t/core/buf.h"
    printf '#include "core/buf.h"\n' >"$t/proto/resp.h"
    printf '#include "core/buf.h"\n#include "proto/resp.h"\n' >"$t/net/conn.h"
    printf '#include "net/conn.h"\n#include "kv/db.h"\n' >"$t/kv/server.c"
    printf '#include "core/buf.h"\n' >"$t/kv/db.h"
    printf '#include "net/conn.h"\n#include "proto/resp.h"\n' >"$t/lb/proxy.c"
    echo "$t"
}

# expect STATUS NAME WHAT TREE: run the check on TREE, want exit STATUS
expect() {
    want=$1 name=$2 what=$3 t=$4
    if "$here/check-layers.sh" "$t" >"$tmp/$name.out" 2>&1; then got=0; else got=1; fi
    if [ "$got" = "$want" ]; then
        echo "check-layers-test: ok: $what"
    else
        echo "check-layers-test: FAILED: $what (exit $got, wanted $want):"
        sed 's/^/    /' "$tmp/$name.out"
        fail=1
    fi
}

expect 0 clean "a clean tree passes" "$(tree clean)"

t=$(tree core_up)
printf '#include "net/conn.h"\n' >"$t/core/alloc.c"
expect 1 core_up "core including net fails" "$t"

t=$(tree proto_up)
printf '#include <string.h>\n  #  include "kv/db.h"\n' >"$t/proto/http1.h"
expect 1 proto_up "proto including a role fails (indented #include)" "$t"

t=$(tree net_up)
printf '#include "lb/lb.h"\n' >"$t/net/peer.c"
expect 1 net_up "net including a role fails" "$t"

t=$(tree role_role)
printf '#include "net/conn.h"\n#include "kv/db.h"\n' >"$t/lb/cache.c"
expect 1 role_role "a role including another role fails" "$t"

t=$(tree nowhere)
printf '#include "nosuch/x.h"\n' >"$t/kv/t_string.c"
expect 1 nowhere "an include of a folder that does not exist fails" "$t"

[ "$fail" = 0 ] && echo "check-layers-test: all cases as expected"
exit "$fail"
