#!/bin/sh
# check-layers.sh — the layering rule of src/ (docs/DESIGN.md, "Layout"):
#   core  < proto < net < roles     a layer includes only itself and the ones below;
#   a role never includes another role (roles: every other folder under src/);
#   src/main.c (role dispatch) may include everything.
# Reads every #include "DIR/..." of src/*/*.c and src/*/*.h; exits 1 on any
# violation, listing each as file:line.
#
# It also fails on include cycles (issue 8: where two files call each other,
# one of them gets an interface: an ops struct, callbacks, or the shared
# declaration moved to the lower file). A module is x.c + x.h in one folder:
#   - two modules include each other: a.c or a.h includes b.h, and b.c or
#     b.h includes a.h (both with a .c: a header alone calls nothing);
#   - headers that include each other in a circle, of any length
#     (a.h -> b.h -> c.h -> a.h), header-only ones too.
# KNOWN_CYCLES below lists the pairs not broken yet; any other cycle fails.
#
# Usage: scripts/check-layers.sh [SRC]   (SRC: the tree to check, default the
# project's src/; scripts/check-layers-test.sh gives it trees that violate)
set -eu
own=0
if [ $# -ge 1 ]; then
    SRC=$(cd "$1" && pwd)
else
    own=1
    cd "$(dirname "$0")/.."
    SRC=src
fi

rank() {
    case "$1" in
        core) echo 0 ;;
        proto) echo 1 ;;
        net) echo 2 ;;
        *) echo 3 ;;
    esac
}

files=0
includes=0
bad=0
roles=""
for dir in "$SRC"/*/; do
    d=$(basename "$dir")
    case "$d" in core | proto | net) ;; *) roles="$roles $d" ;; esac
done

for f in "$SRC"/*/*.c "$SRC"/*/*.h; do
    [ -f "$f" ] || continue
    files=$((files + 1))
    from=$(basename "$(dirname "$f")")
    rfrom=$(rank "$from")
    # "DIR/file.h" includes only; <system> headers and same-folder "file.h" are fine
    out=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]*/' "$f" || true)
    [ -n "$out" ] || continue
    while IFS= read -r line; do
        includes=$((includes + 1))
        num=${line%%:*}
        to=$(echo "$line" | sed 's/^[^"]*"\([^"/]*\)\/.*/\1/')
        [ "$to" = "$from" ] && continue
        if [ ! -d "$SRC/$to" ]; then
            echo "check-layers: $f:$num includes \"$to/...\", which is no folder under src/"
            bad=$((bad + 1))
            continue
        fi
        rto=$(rank "$to")
        if [ "$rto" -gt "$rfrom" ]; then
            echo "check-layers: $f:$num: $from (a lower layer) includes $to"
            bad=$((bad + 1))
        elif [ "$rfrom" -eq 3 ] && [ "$rto" -eq 3 ]; then
            echo "check-layers: $f:$num: role $from includes role $to"
            bad=$((bad + 1))
        fi
    done <<INCLUDES
$out
INCLUDES
done

echo "check-layers: $files files under $SRC/*/ and $includes \"dir/...\" includes checked:" \
     "core < proto < net < roles ($(echo $roles | sed 's/ /, /g')), no role includes another" \
     "(src/main.c exempt): $bad violation(s)"

# ---- include cycles ----------------------------------------------------------
# Pairs of modules that still include each other, "dir/a dir/b" (sorted),
# each with the reason it is not broken yet. Keep this list short: a new
# cycle is broken, not added here. (Empty since kv/server.h was split into
# kv/types.h, kv/reply.h and server.h's own declarations, issue 8.)
KNOWN_CYCLES=""
# (scripts/check-layers-test.sh gives its own list)
KNOWN_CYCLES=${CHECK_LAYERS_KNOWN_CYCLES-$KNOWN_CYCLES}

# One awk pass over every include of src/*/*.[ch]: "F path" lines first name
# the files that exist, then grep's "path:line:#include ..." lines.
cycles=$(
    {
        for f in "$SRC"/*/*.c "$SRC"/*/*.h; do [ -f "$f" ] && echo "F $f"; done
        grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*\.h"' "$SRC"/*/*.c "$SRC"/*/*.h || true
    } | awk -v known="$KNOWN_CYCLES" -v src="$SRC/" '
    function rel(path) { return substr(path, length(src) + 1) }   # "dir/x.h"
    /^F / { exists[rel(substr($0, 3))] = 1; next }
    {
        # path:line:#include "inc"
        c1 = index($0, ":"); path = substr($0, 1, c1 - 1); rest = substr($0, c1 + 1)
        c2 = index(rest, ":"); num = substr(rest, 1, c2 - 1)
        q = index(rest, "\""); inc = substr(rest, q + 1); inc = substr(inc, 1, index(inc, "\"") - 1)
        file = rel(path); d = file; sub(/\/.*/, "", d)
        to = (index(inc, "/") ? inc : d "/" inc)
        if (!(to in exists))
            next
        from = file; sub(/\.[ch]$/, "", from)
        to = substr(to, 1, length(to) - 2)
        if (to == from)
            next
        # module pairs: the first include that makes from depend on to
        if (!((from, to) in dep))
            dep[from, to] = file ":" num
        # header graph: a header includes a header
        if (file ~ /\.h$/) {
            hdr_out[from] = hdr_out[from] " " to
            hnode[from] = 1; hnode[to] = 1
        }
    }
    END {
        nk = split(known, kl, "\n")
        for (i = 1; i <= nk; i++)
            if (kl[i] != "") { split(kl[i], kp, " "); isknown[kp[1], kp[2]] = 1 }
        # two modules, each with its .c (a header alone calls nothing), that
        # include each other
        for (k in dep) {
            split(k, ab, SUBSEP); a = ab[1]; b = ab[2]
            if (a >= b || !((b, a) in dep) || !((a ".c") in exists) || !((b ".c") in exists))
                continue
            if ((a, b) in isknown) {
                print "known " a " <-> " b ": " dep[a, b] " and " dep[b, a]
                found[a, b] = 1
            } else {
                print "cycle " a " <-> " b ": " dep[a, b] " includes " b ".h and " dep[b, a] " includes " a ".h"
            }
        }
        for (k in isknown) {
            split(k, ab, SUBSEP)
            if (!((ab[1], ab[2]) in found))
                print "stale " ab[1] " <-> " ab[2]
        }
        # header circles: what each header reaches by includes; a header that
        # reaches itself is on a circle, printed once with its members
        for (h in hnode) {
            delete vis; n = 0; queue[++n] = h; head = 1
            while (head <= n) {
                x = queue[head++]
                m = split(hdr_out[x], nb, " ")
                for (j = 1; j <= m; j++)
                    if (!(nb[j] in vis)) { vis[nb[j]] = 1; queue[++n] = nb[j] }
            }
            for (y in vis) reach[h, y] = 1
        }
        for (h in hnode) {
            if (!((h, h) in reach) || (h in done))
                continue
            circle = ""
            for (g in hnode)
                if (((h, g) in reach) && ((g, h) in reach)) { done[g] = 1; circle = circle " " g ".h" }
            print "hcycle" circle
        }
    }'
)
cycles=$(printf '%s\n' "$cycles" | sort)
ncyc=0
if [ -n "$cycles" ]; then
    while IFS= read -r line; do
        case "$line" in
            known*) echo "check-layers: known include cycle (not broken yet): ${line#known }" ;;
            stale*) [ "$own" = 1 ] && echo "check-layers: note: KNOWN_CYCLES lists ${line#stale }, no longer a cycle: remove the line" ;;
            cycle*) echo "check-layers: include cycle: ${line#cycle }"; ncyc=$((ncyc + 1)) ;;
            hcycle*) echo "check-layers: header include circle:${line#hcycle}"; ncyc=$((ncyc + 1)) ;;
        esac
    done <<CYCLES
$cycles
CYCLES
fi
echo "check-layers: include cycles between modules (x.c + x.h) and between headers: $ncyc new"
[ "$bad" -eq 0 ] && [ "$ncyc" -eq 0 ]
