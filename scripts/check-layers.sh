#!/bin/sh
# check-layers.sh — the layering rule of src/ (docs/DESIGN.md, "Layout"):
#   core  < proto < net < roles     a layer includes only itself and the ones below;
#   a role never includes another role (roles: every other folder under src/);
#   src/main.c (role dispatch) may include everything.
# Reads every #include "DIR/..." of src/*/*.c and src/*/*.h; exits 1 on any
# violation, listing each as file:line.
#
# Usage: scripts/check-layers.sh [SRC]   (SRC: the tree to check, default the
# project's src/; scripts/check-layers-test.sh gives it trees that violate)
set -eu
if [ $# -ge 1 ]; then
    SRC=$(cd "$1" && pwd)
else
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
[ "$bad" -eq 0 ]
