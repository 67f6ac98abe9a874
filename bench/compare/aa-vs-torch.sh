#!/bin/sh
# aa-vs-torch.sh MODEL DATA EPS [N]: advc's `eval --attack aa` against the
# reference AutoAttack (fra31/auto-attack, run in PyTorch on CPU) on the
# same weights and the same first N test images (default 1000).
#
#   AUTOATTACK=/path/to/auto-attack sh bench/compare/aa-vs-torch.sh \
#       m.advc data/mnist 0.3 1000
#
# AUTOATTACK is a checkout of github.com/fra31/auto-attack (the folder
# holding its `autoattack` package); without it the script clones the
# repository into a temporary folder, and says so.  Nothing of the
# reference is part of advc.  The weights go to PyTorch through `advc
# export --npz` and bench/compare/torch_models.py.  For each thread count
# in THREADS (default "1") and each seed in SEEDS (default "1"; advc's
# --seed, and the reference's seed - 1, as both default to their first),
# it runs advc, then the reference, back to back, and prints their
# key=value lines and a compare=aa line: robust accuracy after each attack
# on both sides and the difference in points (advc - reference), and the
# attack time of both (advc: the sum of the attacks' own seconds; the
# reference: the time of run_standard_evaluation).  Wrap the run in
# `flock /work/cpu.lock` on a shared machine.  BUILD=dir uses another
# build folder.  FIRST=I takes test images I to I+N-1 instead (a shard of
# a measurement too long for one sitting: both sides' times add up over
# shards).  TOGETHER=1 (with THREADS=1) runs the two sides at the same
# time, each pinned to its own CPU; CPU=N (with THREADS=1) pins both to
# CPU N, for two shards at once (see below).  Needs Debian's
# python3-torch (benchmark side only).
set -eu
cd "$(dirname "$0")/../.."
if [ $# -lt 3 ]; then
    echo "usage: aa-vs-torch.sh MODEL DATA EPS [N]" >&2
    exit 2
fi
model=$1 data=$2 eps=$3 n=${4:-1000}
THREADS=${THREADS:-1}
SEEDS=${SEEDS:-1}
FIRST=${FIRST:-0}
BUILD=${BUILD:-build}
ADVC=$BUILD/advc
NAME=aa-vs-torch
. bench/compare/torch_env.sh
need_torch
[ -f "$model" ] || { echo "aa-vs-torch: $model: no such model file" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ref=${AUTOATTACK:-}
if [ -z "$ref" ]; then
    echo "aa-vs-torch: AUTOATTACK not set: cloning fra31/auto-attack into $tmp" >&2
    git clone -q https://github.com/fra31/auto-attack "$tmp/auto-attack"
    ref=$tmp/auto-attack
fi
[ -d "$ref/autoattack" ] || { echo "aa-vs-torch: $ref has no autoattack/ package" >&2; exit 1; }

# TOGETHER=1 (one thread only): both sides at once, advc pinned to CPU 1
# and the reference to CPU 0 (taskset), so that a long one-thread
# measurement takes the reference's time instead of the sum of both.  Each
# side then shares the last-level cache and memory with the other for as
# long as both run; bench/RESULTS.md measures what that changes.
# CPU=N (one thread only): both sides back to back, pinned to CPU N.  Two
# such runs on two shards, CPU=0 and CPU=1 at the same time, take both
# shards in the time of one shard's two sides (TOGETHER=1: each shard in
# the reference's time, with the advc CPU idle once advc is done), each
# side sharing the machine with one other one-thread process, as in
# TOGETHER=1.
PIN_ADVC="" PIN_REF=""
if [ -n "${CPU:-}" ]; then
    [ "$THREADS" = 1 ] || { echo "aa-vs-torch: CPU=$CPU needs THREADS=1" >&2; exit 2; }
    [ "${TOGETHER:-0}" = 0 ] || { echo "aa-vs-torch: CPU= and TOGETHER=1 exclude each other" >&2; exit 2; }
    case $CPU in *[!0-9]*) CPU=x ;; esac
    [ "$CPU" != x ] && [ "$CPU" -lt "$(nproc)" ] ||
        { echo "aa-vs-torch: CPU must name one of CPUs 0-$(($(nproc) - 1))" >&2; exit 2; }
    PIN_ADVC="taskset -c $CPU" PIN_REF="taskset -c $CPU"
    echo "pinned: both sides on CPU $CPU, one after the other"
elif [ "${TOGETHER:-0}" = 1 ]; then
    [ "$THREADS" = 1 ] || { echo "aa-vs-torch: TOGETHER=1 needs THREADS=1" >&2; exit 2; }
    [ "$(nproc)" -ge 2 ] || { echo "aa-vs-torch: TOGETHER=1 needs two CPUs" >&2; exit 2; }
    PIN_ADVC="taskset -c 1" PIN_REF="taskset -c 0"
    echo "together: advc on CPU 1, the reference on CPU 0, at the same time"
fi

make -s BUILD="$BUILD" "$ADVC" "$BUILD/advc-bench"
# The machine, the measured FMA peak of one core and torch's BLAS.
echo "machine cpu=\"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)\"" \
    "family=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "model=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "$($PIN_ADVC "$BUILD/advc-bench" peak --threads 1 --reps 3 | grep 'isa_width=yes' |
        sed -n 's/.*\(isa=[a-z0-9]*\).*\(peak_gflops=[0-9.]*\).*/\1 \2/p')" \
    "torch=$("$PY" -c 'import torch; print(torch.__version__)') blas=$(torch_blas)" \
    "load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" date=$(date -u +%Y-%m-%dT%H:%MZ)"
"$ADVC" export --model "$model" --npz "$tmp/m.npz" >/dev/null
spec=$("$ADVC" info "$model" | sed -n 's/^model  *//p')
act=$("$ADVC" info "$model" | sed -n 's/^activation  *//p')

# field LINE KEY: the value of KEY=... in a key=value line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# jfield FILE ATTACK KEY: KEY's value on the final exit's line of ATTACK in
# advc's --json output.
jfield() {
    grep "\"exit\":\"final\",\"attack\":\"$2\"" "$1" | head -n 1 |
        sed -n "s/.*\"$3\":\([-0-9.e]*\).*/\1/p"
}

# run_advc T SEED: advc's side, its key=value line to $tmp/advc.line.
run_advc() {
    start=$(date +%s.%N)
    $PIN_ADVC "$ADVC" eval --model "$model" --data "$data" --attack aa \
        --eps "$eps" --first "$FIRST" --limit "$n" --threads "$1" \
        --seed "$2" --json --no-checks > "$tmp/advc.json" || return 1
    end=$(date +%s.%N)
    line="side=advc first=$FIRST n=$n eps=$eps threads=$1 seed=$2"
    line="$line clean_acc=$(grep '"exit":"final","n"' "$tmp/advc.json" |
        sed -n 's/.*"clean_acc":\([0-9.]*\).*/\1/p')"
    secs=0
    for a in apgd-ce apgd-t fab-t square; do
        line="$line after_$a=$(jfield "$tmp/advc.json" $a robust_acc)"
        secs=$(echo "$secs $(jfield "$tmp/advc.json" $a seconds)" |
            awk '{printf "%.1f", $1 + $2}')
    done
    line="$line robust_acc=$(jfield "$tmp/advc.json" aa robust_acc)"
    echo "$line seconds=$secs process_s=$(echo "$start $end" |
        awk '{printf "%.1f", $2 - $1}')" > "$tmp/advc.line"
}

# run_ref T SEED: the reference's side, its key=value line to $tmp/ref.line
# (the reference's seed is advc's - 1: both default to their first).
run_ref() {
    start=$(date +%s.%N)
    tl=$(torch_env "$1" $PIN_REF "$PY" bench/compare/aa_torch.py \
        --autoattack "$ref" --npz "$tmp/m.npz" --spec "$spec" --act "$act" \
        --data "$data" --first "$FIRST" --n "$n" --eps "$eps" \
        --threads "$1" --seed $(($2 - 1))) || return 1
    end=$(date +%s.%N)
    echo "$tl process_s=$(echo "$start $end" |
        awk '{printf "%.1f", $2 - $1}')" > "$tmp/ref.line"
}

for t in $THREADS; do
    for seed in $SEEDS; do
        if [ "${TOGETHER:-0}" = 1 ]; then
            run_advc "$t" "$seed" &
            pid=$!
            run_ref "$t" "$seed" || { pkill -P $pid; kill $pid 2>/dev/null; exit 1; }
            wait $pid
        else
            run_advc "$t" "$seed"
            run_ref "$t" "$seed"
        fi
        line=$(cat "$tmp/advc.line") tl=$(cat "$tmp/ref.line")
        echo "$line"
        echo "$tl"
        cmp="compare=aa model=$model first=$FIRST n=$n threads=$t seed=$seed"
        for a in apgd-ce apgd-t fab-t square; do
            va=$(field "$line" after_$a) vt=$(field "$tl" after_$a)
            cmp="$cmp $a=$va/$vt($(echo "$va $vt" |
                awk '{printf "%+.1f", 100 * ($1 - $2)}'))"
        done
        sa=$(field "$line" seconds) st=$(field "$tl" seconds)
        echo "$cmp advc_s=$sa torch_s=$st speedup=$(echo "$sa $st" |
            awk '{printf "%.2f", $2 / $1}')"
    done
done
