#!/bin/sh
# tests/golden.sh PROG [--record]: the same seed and settings give the same
# bits.  A few fixed runs (every recipe, the evaluation attacks, the
# picture's arrays, the probe) on the committed MNIST sample, reduced to
# digests: checkpoints by `advc info`'s tensor digest, text and arrays by
# cksum.  They are compared with tests/golden.sum, recorded on the scalar
# kernels (SIMD=scalar; other ISAs round differently and are not held to
# these bits).  A change that means to change results re-records with
# --record and says why in its commit.
set -u
prog=$1
data=data/mnist-sample
sums=tests/golden.sum
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tr() {
    name=$1
    shift
    "$prog" train --data $data --epochs 2 --batch 50 --seed 3 --threads 2 \
        --out "$tmp/$name.advc" --log "$tmp/$name.csv" "$@" 2>/dev/null ||
        echo "golden: FAIL: train $name exited $?" >&2
    "$prog" info "$tmp/$name.advc" | sed -n "s/^digest *\(.*\)/$name.advc \1/p"
    cut -d, -f1-8 "$tmp/$name.csv" | cksum | sed "s/^/$name.csv /"
}

run() {
    tr std --model cnn-small --guard-batch 100
    tr fgsm --model cnn-small --recipe fgsm --eps 0.2
    tr fgsm-rs --model cnn-small --recipe fgsm-rs --eps 0.3
    tr pgd --model cnn-small --recipe pgd --steps 3
    tr free --model cnn-small --recipe free --replays 2 --epochs 4
    tr trades --model cnn-small --recipe trades --steps 3
    tr sat --model cnn-small --recipe fgsm-rs --attack-grad psoftplus:10 \
        --update-grad silu
    tr n-fgsm --model cnn-small --recipe n-fgsm --eps 0.2
    tr me-fgsm --model msdnet:blocks=3,base=4,growth=4,head=16 \
        --recipe me-fgsm --epochs 1
    tr resnet --model resnet:depth=8,width=4 --recipe pgd --steps 2 \
        --epochs 1
    tr maxout --model maxout --recipe fgsm --epochs 1 --eps 0.25
    m="$tmp/fgsm-rs.advc"
    "$prog" eval --model "$m" --data $data --limit 300 --batch 128 --json \
        --attack fgsm,pgd,cw,apgd-ce,apgd-dlr,apgd-t,noise --restarts 2 \
        --threads 2 | sed "s|$tmp/||" | cksum | sed 's/^/eval /'
    "$prog" eval --model "$tmp/me-fgsm.advc" --data $data --limit 60 \
        --json --attack pgd,fgsm --exit-mode maxavg --threads 2 |
        sed "s|$tmp/||" | cksum | sed 's/^/eval-maxavg /'
    "$prog" attack --model "$m" --data $data --attack pgd --steps 10 \
        --limit 6 --out "$tmp/atk" --threads 2 >/dev/null
    cat "$tmp/atk/adv.npy" "$tmp/atk/pred_adv.npy" | cksum |
        sed 's/^/attack /'
    "$prog" probe --model "$m" --data $data --index 3 --csv --threads 2 \
        2>/dev/null | cksum | sed 's/^/probe /'
}

if [ "${2:-}" = --record ]; then
    run >"$sums"
    echo "golden: recorded $(wc -l <"$sums") digests in $sums"
    exit 0
fi
run >"$tmp/now"
if ! diff "$sums" "$tmp/now" >"$tmp/diff"; then
    echo "golden: FAIL: results changed bits:"
    cat "$tmp/diff"
    exit 1
fi
echo "golden: $(wc -l <"$sums") digests unchanged"
