#!/bin/sh
# adv-vs-torch.sh [reps]: advc against PyTorch (CPU), batch 128, for the
# four MNIST networks (cnn-small, cnn, resnet, msdnet) at 1 and 2 threads:
#   std      standard training  advc-bench train            train_torch.py
#   fgsm-rs  FGSM-RS training   advc-bench train --recipe fgsm-rs
#   pgd7     PGD-7 training     advc-bench train --recipe pgd --steps 7
#   pgd20    PGD-20 evaluation  advc-bench attack --attack pgd --steps 20
# (L-inf eps 0.3; the PyTorch side is bench/compare/adv_torch.py and
# train_torch.py, the same architectures layer for layer).  Prints the
# machine (CPU model, family, flags) and date, then both key=value lines
# and a compare=... line per case: speedup = advc img/s / torch img/s
# (both measured in this run, each a median over `reps` runs, default 5),
# and both peak memories.  Narrow it with MODELS="cnn", THREADS="1",
# CASES="pgd20"; BUILD=dir uses another build folder; BASE=prog also
# runs another advc-bench (an older build, e.g. before a change) in the
# same loop and adds base_img_per_s, vs_base (advc / base) and
# base_rss_mb.  Needs Debian's
# python3-torch (installed only for this comparison; advc never uses it):
# without it the script says so and exits 0.  Timings on a busy machine
# are noisy: run it under flock /work/cpu.lock, when the load is low.
set -eu
cd "$(dirname "$0")/../.."
reps=${1:-5}
eps=0.3
MODELS=${MODELS:-cnn-small cnn resnet msdnet}
THREADS=${THREADS:-1 2}
CASES=${CASES:-std fgsm-rs pgd7 pgd20}
BUILD=${BUILD:-build}
NAME=adv-vs-torch
. bench/compare/torch_env.sh
need_torch
make -s BUILD="$BUILD" "$BUILD/advc-bench"
BENCH=$BUILD/advc-bench

# The machine: CPU model, family and the SIMD flags that matter here.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
fam=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n 1 | tr ' ' '\n' |
        grep -E '^(avx2|fma|avx512f|avx512bw|avx512vl|avx512_bf16|avx512_vnni)$' | tr '\n' ',' | sed 's/,$//')
echo "machine cpu=\"$cpu\" family=$fam flags=$flags cpus=$(nproc) isa=$("$BENCH" peak --threads 1 --reps 1 | sed -n 's/.*isa=\([a-z0-9]*\).*/\1/p') date=$(date -u +%Y-%m-%dT%H:%MZ) torch=$("$PY" -c 'import torch; print(torch.__version__)')"

# field LINE KEY: the value of KEY=... in a key=value line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# compare CASE MODEL THREADS ADVC_LINE TORCH_LINE [BASE_LINE]
compare() {
    echo "$4"
    echo "$5"
    base=
    if [ -n "${6:-}" ]; then
        echo "$6"
        bi=$(field "$6" img_per_s)
        base=" base_img_per_s=$bi vs_base=$(echo "$(field "$4" img_per_s) $bi" |
            awk '$2 > 0 {printf "%.2f", $1/$2}') base_rss_mb=$(field "$6" max_rss_mb)"
    fi
    ai=$(field "$4" img_per_s)
    pi=$(field "$5" img_per_s)
    if [ -z "$ai" ] || [ -z "$pi" ]; then
        echo "compare=$1 model=$2 threads=$3 status=MISSING"
        return
    fi
    ap=$(field "$4" params)
    pp=$(field "$5" params)
    same=yes
    if [ -n "$ap" ] && [ "$ap" != "$pp" ]; then same=NO; fi
    echo "compare=$1 model=$2 threads=$3 advc_img_per_s=$ai" \
         "torch_img_per_s=$pi speedup=$(echo "$ai $pi" | awk '{printf "%.2f", $1/$2}')" \
         "advc_rss_mb=$(field "$4" max_rss_mb) torch_rss_mb=$(field "$5" max_rss_mb)" \
         "torch_cores_used=$(field "$5" cores_used) same_params=$same" \
         "advc_status=$(field "$4" status)$base"
}

# advc_case PROG CASE MODEL THREADS: PROG's key=value line for the case.
advc_case() {
    case $2 in
    std) "$1" train --model "$3" --threads "$4" --reps "$reps" ;;
    fgsm-rs) "$1" train --model "$3" --recipe fgsm-rs --eps $eps \
                 --threads "$4" --reps "$reps" ;;
    pgd7) "$1" train --model "$3" --recipe pgd --steps 7 --eps $eps \
              --threads "$4" --reps "$reps" ;;
    pgd20) "$1" attack --model "$3" --attack pgd --steps 20 --eps $eps \
               --threads "$4" --reps "$reps" ;;
    esac | grep '^bench=' || true
}

for model in $MODELS; do
    for t in $THREADS; do
        for c in $CASES; do
            case $c in
            std)
                p=$(torch_env "$t" "$PY" bench/compare/train_torch.py --model "$model" \
                        --threads "$t" --reps "$reps")
                ;;
            fgsm-rs|pgd7)
                if [ $c = fgsm-rs ]; then
                    set -- --recipe fgsm-rs
                else
                    set -- --recipe pgd --steps 7
                fi
                p=$(torch_env "$t" "$PY" bench/compare/adv_torch.py train --model "$model" \
                        "$@" --eps $eps --threads "$t" --reps "$reps")
                ;;
            pgd20)
                p=$(torch_env "$t" "$PY" bench/compare/adv_torch.py attack --model "$model" \
                        --attack pgd --steps 20 --eps $eps --threads "$t" --reps "$reps")
                ;;
            *)
                echo "adv-vs-torch: unknown case '$c' (std, fgsm-rs, pgd7, pgd20)" >&2
                exit 2
                ;;
            esac
            a=$(advc_case "$BENCH" "$c" "$model" "$t")
            b=
            if [ -n "${BASE:-}" ]; then b=$(advc_case "$BASE" "$c" "$model" "$t"); fi
            compare "$c" "$model" "$t" "$a" "$p" "$b"
        done
    done
done
