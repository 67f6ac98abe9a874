#!/bin/sh
# bench/repro/fastat.sh: the fast adversarial training study of issue 13.
# Which single-step recipe trains robust MNIST / Fashion-MNIST models
# without catastrophic overfitting, at what cost?  Every recipe on the same
# schedule (Wong et al.'s MNIST recipe: 10 epochs, batch 100, Adam with a
# cyclic learning rate peaking at 5e-3), several seeds, evaluated with
# PGD-50 x 10 restarts and AutoAttack; the costly multi-step reference
# (PGD-10; PGD-40's cost measured on one epoch) beside them.
#
# Arms (ARMS, default all): mnist-cnn-small, fmnist-cnn-small, mnist-cnn,
# mnist-msdnet.  Usage: BUDGET=quick|full [ARMS="..."] sh bench/repro/fastat.sh
set -eu
. bench/repro/lib.sh
need_data mnist fashion-mnist
paper_begin fastat "Fast adversarial training that does not collapse (issue 13): FGSM-RS, N-FGSM, eps ramps, ELLE, smooth backward, multi-exit L2 against PGD-AT"
if [ "$BUDGET" = quick ]; then
    EPOCHS=3 SEEDS="1 2" NEVAL=500 RESTARTS=2
    ARMS=${ARMS:-mnist-cnn-small}
    BUDGET_NOTE="3 epochs, seeds 1 2, MNIST cnn-small only, evaluated on the first 500 test images with PGD-50 x 2 restarts and AutoAttack."
else
    EPOCHS=10 SEEDS="1 2 3 4 5" NEVAL=1000 RESTARTS=10
    ARMS=${ARMS:-mnist-cnn-small fmnist-cnn-small mnist-cnn mnist-msdnet}
    BUDGET_NOTE="10 epochs (the published recipe's), 5 seeds (3 for cnn and msdnet), robust accuracy on the first 1000 test images (PGD-50 x 10 restarts, AutoAttack), clean accuracy on all 10,000."
fi
AA=aa
"$ADVC" eval --help | grep -q "^  aa " || AA=aa-lite
SCHED="--epochs $EPOCHS --batch 100 --lr 5e-3 --schedule cyclic"

# recipe_flags NAME EPS: the flags of one variant of the study.
recipe_flags() {
    st=$(awk -v e="$2" 'BEGIN { printf "%g", 1.25 * e }')
    case $1 in
    fgsm-rs) echo "--recipe fgsm-rs --step-size $st" ;;
    fgsm-rs-sat) echo "--recipe fgsm-rs --step-size $st --attack-grad psoftplus:10 --update-grad psoftplus:10" ;;
    fgsm-rs-ramp) echo "--recipe fgsm-rs --step-size $st --eps-ramp 3" ;;
    n-fgsm) echo "--recipe n-fgsm" ;;
    n-fgsm-ramp) echo "--recipe n-fgsm --eps-ramp 3" ;;
    elle) echo "--recipe elle" ;;
    me-fgsm) echo "--recipe me-fgsm" ;;
    fast) echo "--recipe fast" ;;
    pgd-10) echo "--recipe pgd --steps 10" ;;
    esac
}

# one DATA MODEL EPS VARIANT SEED: trains and evaluates one run; prints
# "clean pgd aa collapsed seconds".
one() {
    data=$1 model=$2 eps=$3 var=$4 seed=$5
    tag="$(basename $data)-$(echo $model | tr ':=,' '---')-$var-$seed"
    m="$WORK/$tag.advc"
    step=$(awk -v e="$eps" 'BEGIN { printf "%g", e / 30 }')
    train "$m" --data data/$data --model $model --eps $eps \
        $(recipe_flags $var $eps) $SCHED --seed $seed
    evaljson "$m.clean.json" --model "$m" --data data/$data --no-checks
    evaljson "$m.pgd.json" --model "$m" --data data/$data --attack pgd \
        --eps $eps --steps 50 --step-size $step --restarts $RESTARTS \
        --limit $NEVAL --seed $seed
    evaljson "$m.$AA.json" --model "$m" --data data/$data --attack $AA \
        --eps $eps --limit $NEVAL --seed $seed
    clean=$(json_get "$m.clean.json" clean_acc '"exit":"final"')
    pgd=$(json_get "$m.pgd.json" robust_acc '"attack":"pgd"')
    aa=$(json_get "$m.$AA.json" robust_acc "\"attack\":\"$AA\"")
    [ -n "$aa" ] || aa=$(json_get "$m.$AA.json" robust_acc '"attack":"worst"')
    co=0
    grep -q -e "catastrophic overfitting" -e "never became robust" "$m.err" &&
        co=1
    secs=$(epoch_seconds "$m")
    for k in clean pgd aa co secs; do
        eval "v=\$$k"
        record "$(basename $data)-$model" "$var" "$seed" "$k" "$v"
    done
    echo "$clean $pgd $aa $co $secs"
}

# arm DATA MODEL EPS "VARIANTS" "SEEDS": a table of the variants.
arm() {
    data=$1 model=$2 eps=$3 vars=$4 seeds=$5
    section_plain "$data, $model, eps $eps" \
        "Mean ± std over seeds $seeds; robust accuracy on the first $NEVAL test images ($AA: AutoAttack$( [ $AA = aa ] || echo ' without FAB-T and Square: an upper bound')); collapsed: runs whose guard saw catastrophic overfitting (the checkpoint evaluated is then the epoch before it) or that ended robust to FGSM but not to PGD; time: training seconds per epoch."
    printf '| recipe | clean | PGD-50x%s | %s | worst seed %s | collapsed | s/epoch | cost vs fgsm-rs |\n|---|---|---|---|---|---|---|---|\n' \
        "$RESTARTS" "$AA" "$AA" >>"$WORK/rows.md"
    base=""
    for v in $vars; do
        cl="" pg="" aas="" cos=0 ts=""
        for s in $seeds; do
            set -- $(one $data $model $eps $v $s)
            cl="$cl $(pct $1)" pg="$pg $(pct $2)" aas="$aas $(pct $3)"
            cos=$((cos + $4)) ts="$ts $5"
        done
        t=$(mean $ts)
        [ -n "$base" ] || base=$t
        worst=$(echo $aas | tr ' ' '\n' | sort -n | head -n 1)
        printf '| %s | %s | %s | %s | %s | %d of %d | %.1f | %sx |\n' "$v" \
            "$(stats $cl)" "$(stats $pg)" "$(stats $aas)" "$worst" "$cos" \
            "$(echo $seeds | wc -w)" "$t" \
            "$(awk -v a="$t" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" \
            >>"$WORK/rows.md"
    done
}

# The cost of one epoch of PGD-40 training on DATA MODEL (a short run).
pgd40_epoch() {
    m="$WORK/pgd40-cost-$2.advc"
    train "$m" --data data/$1 --model $2 --eps 0.3 --recipe pgd --steps 40 \
        --step-size 0.01 --epochs 1 --limit 6000 --batch 100 --guard-batch 0
    awk -v s="$(train_seconds "$m")" 'BEGIN { printf "%.0f", s * 10 }'
}

SMALL="fgsm-rs fgsm-rs-sat fgsm-rs-ramp n-fgsm n-fgsm-ramp elle pgd-10"
"$ADVC" train --help | grep -q "^  fast " && SMALL="$SMALL fast"
for a in $ARMS; do
    case $a in
    mnist-cnn-small) arm mnist cnn-small 0.3 "$SMALL" "$SEEDS" ;;
    fmnist-cnn-small) arm fashion-mnist cnn-small 0.1 "$SMALL" "$SEEDS" ;;
    mnist-cnn)
        arm mnist cnn 0.3 "fgsm-rs n-fgsm fast" "$(echo $SEEDS | cut -d' ' -f1-3)"
        text "PGD-40 training (Madry et al.'s attack, step 0.01) on cnn costs about $(pgd40_epoch mnist cnn) s per epoch here (measured on 6,000 images)." ;;
    mnist-msdnet)
        arm mnist msdnet:blocks=4,base=8,growth=4,head=32 0.3 \
            "fgsm-rs me-fgsm fast" "$(echo $SEEDS | cut -d' ' -f1-3)" ;;
    esac
done
paper_end
