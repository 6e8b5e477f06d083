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

# include cycles (module = x.c + x.h)
t=$(tree mutual)
printf '#include "lb/h2.h"\n' >"$t/lb/proxy.h"
printf '#include "lb/proxy.h"\n' >"$t/lb/proxy.c"
printf '#include "core/buf.h"\n' >"$t/lb/h2.h"
printf '#include "lb/h2.h"\n#include "lb/proxy.h"\n' >"$t/lb/h2.c"
expect 1 mutual "two modules whose .c include each other's header fail" "$t"

t=$(tree mutual_local)
printf '#include "peer.h"\n' >"$t/net/balance.h"
printf '#include "net/balance.h"\n' >"$t/net/balance.c"
printf '#include <stdint.h>\n' >"$t/net/peer.h"
printf '#include "net/peer.h"\n#include "balance.h"\n' >"$t/net/peer.c"
expect 1 mutual_local "a header and a .c that include each other (same-folder spelling) fail" "$t"

t=$(tree hcircle)
printf '#include "kv/b.h"\n' >"$t/kv/a.h"
printf '#include "kv/c.h"\n' >"$t/kv/b.h"
printf '#include "kv/a.h"\n' >"$t/kv/c.h"
expect 1 hcircle "three headers that include each other in a circle fail" "$t"

t=$(tree oneway)
printf '#include "lb/h2.h"\n' >"$t/lb/proxy.c"
printf '#include "core/buf.h"\n' >"$t/lb/proxy.h"
printf '#include "core/buf.h"\n' >"$t/lb/h2.h"
printf '#include "lb/h2.h"\n#include "net/conn.h"\n' >"$t/lb/h2.c"
printf '#include "kv/script.h"\n' >"$t/kv/script_int.h"
printf '#include "kv/script_int.h"\n' >"$t/kv/script.c"
printf '#include <stddef.h>\n' >"$t/kv/script.h"
expect 0 oneway "one-way includes and a private header of a module pass" "$t"

t=$(tree known)
printf '#include "kv/server.h"\n' >"$t/kv/aof.c"
printf '#include <stddef.h>\n' >"$t/kv/aof.h"
printf '#include "kv/aof.h"\n' >"$t/kv/server.c"
printf '#include <stddef.h>\n' >"$t/kv/server.h"
export CHECK_LAYERS_KNOWN_CYCLES="kv/aof kv/server"
expect 0 known "a pair listed in KNOWN_CYCLES passes" "$t"
CHECK_LAYERS_KNOWN_CYCLES=""
expect 1 unknown "the same pair fails when KNOWN_CYCLES does not list it" "$t"
unset CHECK_LAYERS_KNOWN_CYCLES

[ "$fail" = 0 ] && echo "check-layers-test: all cases as expected"
exit "$fail"
