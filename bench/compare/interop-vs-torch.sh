#!/bin/sh
# interop-vs-torch.sh [N]: every built-in model moved between advc and
# PyTorch both ways, checked on the logits of the first N (default 1000)
# MNIST test images.  Per case:
#   1. advc train: a short run (2,000 images, one epoch), so weights and
#      batch-norm running statistics are not their initial values;
#   2. advc -> torch: advc export, then torch_models.load_npz (strict) and
#      the logits of every exit against advc's (bench/compare/advc_logits.c);
#      saving the loaded state_dict again with numpy.savez must give the
#      exported archive byte for byte;
#   3. torch -> advc: 20 Adam steps in PyTorch (train mode: weights, running
#      statistics and num_batches_tracked move), numpy.savez, advc import,
#      and the logits again; advc export of the imported model must give
#      PyTorch's archive byte for byte.
# Prints one key=value line per case; status=PASS when both directions
# agree within 1e-4 (max abs over every logit of every exit) and both
# archives come back identical.  Exits 1 if any case fails.  Needs Debian's
# python3-torch (never a dependency of advc): without it, says so and
# exits 0.  Run from anywhere; DATA=dir (default data/mnist), BUILD=dir.
set -eu
cd "$(dirname "$0")/../.."
n=${1:-1000}
DATA=${DATA:-data/mnist}
BUILD=${BUILD:-build}
PY=${PYTHON:-/usr/bin/python3}
TOL=1e-4
if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "interop-vs-torch: PyTorch is not installed (apt-get install python3-torch); skipping" >&2
    exit 0
fi
make -s "$BUILD/advc" "$BUILD/libadvc.a"
out="$BUILD/compare/interop"
mkdir -p "$out"
cc -O2 -std=c11 -pthread -D_POSIX_C_SOURCE=200809L -Iinclude \
    bench/compare/advc_logits.c "$BUILD/libadvc.a" -lm -o "$out/advc-logits"
advc="$BUILD/advc"
py="$PY -B bench/compare/interop_torch.py"
fails=0

# case SPEC ACT: one model, both directions.
case_() {
    spec=$1 act=$2 d="$out/$(echo "$1-$2" | tr ':,=' '___')"
    mkdir -p "$d"
    "$advc" train --data "$DATA" --model "$spec" --act "$act" --epochs 1 \
        --limit 2000 --batch 100 --guard-batch 0 --seed 1 \
        --out "$d/a.advc" >/dev/null 2>&1
    "$advc" export --model "$d/a.advc" --npz "$d/a.npz" >/dev/null
    "$out/advc-logits" "$d/a.advc" "$DATA" "$n" "$d/a_advc.npy"
    $py forward --spec "$spec" --act "$act" --npz "$d/a.npz" --data "$DATA" \
        --n "$n" --logits "$d/a_torch.npy" --resave "$d/a_resaved.npz"
    a2t=$($py diff "$d/a_advc.npy" "$d/a_torch.npy")
    $py train --spec "$spec" --act "$act" --npz "$d/a.npz" --data "$DATA" \
        --out "$d/t.npz"
    $py forward --spec "$spec" --act "$act" --npz "$d/t.npz" --data "$DATA" \
        --n "$n" --logits "$d/t_torch.npy"
    "$advc" import --npz "$d/t.npz" --model "$spec" --act "$act" \
        --out "$d/t.advc" >/dev/null
    "$out/advc-logits" "$d/t.advc" "$DATA" "$n" "$d/t_advc.npy"
    "$advc" export --model "$d/t.advc" --npz "$d/t2.npz" >/dev/null
    t2a=$($py diff "$d/t_torch.npy" "$d/t_advc.npy")
    same1=no same2=no
    cmp -s "$d/a.npz" "$d/a_resaved.npz" && same1=yes
    cmp -s "$d/t.npz" "$d/t2.npz" && same2=yes
    m1=$(echo "$a2t" | sed 's/max_abs=\([^ ]*\).*/\1/')
    m2=$(echo "$t2a" | sed 's/max_abs=\([^ ]*\).*/\1/')
    big=$(echo "$a2t" | sed 's/.*max_logit=//')
    status=$(awk -v a="$m1" -v b="$m2" -v t="$TOL" -v s="$same1$same2" \
        'BEGIN { ok = a + 0 <= t + 0 && b + 0 <= t + 0 && s == "yesyes"
                 print ok ? "PASS" : "FAIL" }')
    [ "$status" = PASS ] || fails=$((fails + 1))
    echo "compare=interop model=$spec act=$act n=$n" \
        "advc_to_torch_max_abs=$m1 torch_to_advc_max_abs=$m2" \
        "max_abs_logit=$big npz_advc_torch_advc_identical=$same1" \
        "npz_torch_advc_torch_identical=$same2 status=$status"
}

case_ linear relu
case_ mlp gelu
case_ maxout relu
case_ cnn-small relu
case_ cnn-small psoftplus:10
case_ cnn relu
case_ resnet:depth=8 relu
case_ resnet:depth=8,preact=1 silu
case_ msdnet:blocks=3,head=32 relu
case_ resnet relu
case_ msdnet relu
echo "interop: torch $("$PY" -c 'import torch; print(torch.__version__)'), numpy $("$PY" -c 'import numpy; print(numpy.__version__)'), tolerance $TOL, $fails failing"
[ "$fails" -eq 0 ]
