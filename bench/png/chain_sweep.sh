#!/bin/sh
# bench/png/chain_sweep.sh RAW...: how deflate's MAX_CHAIN (candidates
# tried per position) trades size against time.  Builds src/io/deflate.c
# with MAX_CHAIN 64, 128 (advc's), 256 and 1024 against build/libadvc.a
# and compresses each RAW file 5 times with each (median time; outputs
# checked identical across repetitions; check_png.py checks the encoder's
# output with Python's zlib).  Prints the FMA peak first, as every
# benchmark run here does.
# Run it under flock /work/cpu.lock on a shared machine.  RAW files: e.g.
# the filtered scanlines of make run's grid (check_png.py --raw) and
# two-level noise (made here).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/build/advc-bench" peak | grep -m1 peak || true
python3 -c "import random; random.seed(1); open('$tmp/two-level.raw','wb').write(bytes(random.choice((96,160)) for _ in range(2650776)))"
for chain in 64 128 256 1024; do
    sed "s/^#define MAX_CHAIN [0-9]*/#define MAX_CHAIN $chain/" \
        "$root/src/io/deflate.c" >"$tmp/deflate.c"
    cc -O2 -std=c11 -I"$root/include" -I"$root/src/io" \
        "$root/bench/png/chain_sweep.c" "$tmp/deflate.c" \
        "$root/build/libadvc.a" -lm -pthread -o "$tmp/sweep"
    for f in "$@" "$tmp/two-level.raw"; do
        printf 'chain=%s ' "$chain"
        "$tmp/sweep" "$f" 5
    done
done
