#!/bin/sh
# call-loops.sh — files of one folder of src/ that call each other (issue 8,
# rule 3: where two files call each other, one gets an interface: an ops
# struct or callbacks). check-layers.sh sees includes; this sees calls, from
# the built objects: for each pair A, B of src/DIR/*.o, A uses an external
# symbol B defines and B uses one A defines (a function called or a table
# referenced). Prints one line a pair with the symbols each side uses:
#   kv/repl <-> kv/replica: kv/repl uses kv_replica_init,...; kv/replica uses kv_repl_id,...
# and a count; exits 1 when there is any pair. `make test` runs it after the
# build (docs/DESIGN.md, "Call loops").
#
# Usage: scripts/call-loops.sh [BUILD]   (BUILD: the build folder, default build)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ls "$BUILD"/src/*/*.o >/dev/null 2>&1 || { echo "call-loops: no objects under $BUILD/src: run make first" >&2; exit 2; }
for o in "$BUILD"/src/*/*.o; do
    m=$(basename "$(dirname "$o")")/$(basename "$o" .o)
    [ -f "src/$m.c" ] || continue   # the object of a file since removed
    nm -g --defined-only "$o" | awk -v m="$m" 'NF == 3 && $2 ~ /[TDBRC]/ { print "D", m, $3 }'
    nm -u "$o" | awk -v m="$m" '{ print "U", m, $NF }'
done | awk '
    $1 == "D" { def[$3] = $2; next }
    { use[++n] = $2 " " $3 }
    END {
        for (i = 1; i <= n; i++) {
            split(use[i], p, " ")
            if (!(p[2] in def)) continue
            a = p[1]; b = def[p[2]]
            da = a; sub(/\/.*/, "", da); db = b; sub(/\/.*/, "", db)
            if (a == b || da != db) continue
            if ((a, b) in e)
                e[a, b] = e[a, b] "," p[2]
            else
                e[a, b] = p[2]
        }
        for (k in e) {
            split(k, ab, SUBSEP)
            if (ab[1] < ab[2] && ((ab[2], ab[1]) in e))
                print ab[1] " <-> " ab[2] ": " ab[1] " uses " e[ab[1], ab[2]] "; " ab[2] " uses " e[ab[2], ab[1]]
        }
    }' | sort > "${TMPDIR:-/tmp}/call-loops.$$"
cat "${TMPDIR:-/tmp}/call-loops.$$"
n=$(wc -l < "${TMPDIR:-/tmp}/call-loops.$$")
rm -f "${TMPDIR:-/tmp}/call-loops.$$"
echo "call-loops: $n pair(s) of files in one folder of src/ that call each other"
[ "$n" -eq 0 ]
