#!/bin/sh
# bench/repro/fastat.sh: the fast adversarial training study of issue 13.
# Which single-step recipe trains robust MNIST / Fashion-MNIST models
# without catastrophic overfitting, at what cost?  Every recipe on the same
# schedule (Wong et al.'s MNIST recipe: 10 epochs, batch 100, Adam with a
# cyclic learning rate peaking at 5e-3), several seeds, evaluated with
# PGD-50 x 10 restarts, aa-lite and AutoAttack; the costly multi-step
# reference (PGD-10 trained, eps ramped as fast's; PGD-40's cost
# measured) beside them; and the recommended recipe (--recipe fast) also
# on seeds it was not tuned on.
# Until 2026-12-06 --recipe fast was single-step, FGSM-RS with the smooth
# derivative in both passes and the eps ramp (the variant sat-ramp here);
# results/fastat.md's "fast" rows are that recipe.  It is now PGD-3 with
# the ramp (fastat-few.sh says why).
#
# Usage: BUDGET=quick|full sh bench/repro/fastat.sh.  A partial study (the
# results file says what ran) with any of:
#   ARMS="mnist-cnn-small fmnist-cnn-small mnist-cnn mnist-msdnet"
#   SEEDS="1 2 3 4 5"   seeds of every arm (cnn and msdnet: the first 3
#                       unless SEEDS_BIG is set)
#   UNSEEN="6 7 8 9 10" seeds for the fast recipe's not-tuned-on row
#   NEVAL=10000         test images attacked (quick: 500; clean accuracy:
#                       always all)
#   VARIANTS="..."      the variants of every arm (default: per arm below)
#   V_<arm>="...", S_<arm>="...", L_<arm>=N  one arm's variants, seeds and
#                       cost-epoch size ('-' in the arm's name as '_', e.g.
#                       V_mnist_cnn="fast")
#   STUDY_NOTE="..."    a paragraph for the results file (how this run was
#                       assembled, when it reuses earlier runs)
#   AA_VARIANTS="..."   variants also evaluated with --attack aa (default:
#                       all, quick: "fgsm-rs fast"; set but empty: all;
#                       the others get PGD-50x10 and aa-lite only)
#   AA_CACHED=1         AutoAttack figures only from runs already made
#   LOCK=/path          the cost measurements run under `flock $LOCK`
#   COST_LIMIT=6000     training images per cost-measurement epoch
#   COST=0              leave the cost tables out (measure them later)
set -eu
. bench/repro/lib.sh
need_data mnist fashion-mnist
paper_begin fastat "Fast adversarial training that does not collapse (issue 13): FGSM-RS, N-FGSM, eps ramps, ELLE, smooth backward, multi-exit L2 against PGD-AT"
if [ "$BUDGET" = quick ]; then
    # 17 runs of 3 epochs: AutoAttack on the two recipes the study sets
    # against each other keeps it to 10.5 minutes on two Zen 5 cores
    # (AutoAttack on every run would take about 5 more).
    EPOCHS=3 SEEDS=${SEEDS:-1 2} NEVAL=${NEVAL:-500} RESTARTS=2
    ARMS=${ARMS:-mnist-cnn-small} UNSEEN=${UNSEEN:-3}
    AA_VARIANTS=${AA_VARIANTS-fgsm-rs fast}
else
    EPOCHS=10 SEEDS=${SEEDS:-1 2 3 4 5} NEVAL=${NEVAL:-10000} RESTARTS=10
    ARMS=${ARMS:-mnist-cnn-small fmnist-cnn-small mnist-cnn mnist-msdnet}
    UNSEEN=${UNSEEN:-6 7 8 9 10}
fi
SEEDS_BIG=${SEEDS_BIG:-$(echo $SEEDS | cut -d' ' -f1-3)}
COST_LIMIT0=${COST_LIMIT:-6000}
AA=aa
"$ADVC" eval --help | grep -q "^  aa " || AA=""
AA_NOTE=""
[ -z "$AA" ] || AA_NOTE=", AutoAttack for: ${AA_VARIANTS:-every variant}"
BUDGET_NOTE="$EPOCHS epochs, seeds $SEEDS (cnn, msdnet: $SEEDS_BIG), fast also on seeds $UNSEEN; clean accuracy on all 10,000 test images, robust accuracy on the first $NEVAL (PGD-50 x $RESTARTS restarts, aa-lite$AA_NOTE); arms: $ARMS."
SCHED="--epochs $EPOCHS --batch 100 --lr 5e-3 --schedule cyclic"

# recipe_flags NAME EPS: the flags of one variant of the study (fast: the
# recipe's own defaults, which are this schedule).
recipe_flags() {
    st=$(awk -v e="$2" 'BEGIN { printf "%g", 1.25 * e }')
    sat="--attack-grad psoftplus:10 --update-grad psoftplus:10"
    case $1 in
    fgsm-rs) echo "--recipe fgsm-rs --step-size $st $SCHED" ;;
    fgsm-rs-sat) echo "--recipe fgsm-rs --step-size $st $sat $SCHED" ;;
    fgsm-rs-ramp) echo "--recipe fgsm-rs --step-size $st --eps-ramp 3 $SCHED" ;;
    n-fgsm) echo "--recipe n-fgsm $SCHED" ;;
    n-fgsm-ramp) echo "--recipe n-fgsm --eps-ramp 3 $SCHED" ;;
    elle) echo "--recipe elle $SCHED" ;;
    me-fgsm) echo "--recipe me-fgsm $SCHED" ;;
    sat-ramp) echo "--recipe fgsm-rs --step-size $st $sat --eps-ramp 3 $SCHED" ;;
    fast) echo "--recipe fast --epochs $EPOCHS" ;;
    # eps ramped as fast's: at full eps from the first batch, PGD-10 never
    # left chance on cnn-small (quick budget: 11.3% clean on both seeds)
    pgd-10) echo "--recipe pgd --steps 10 --eps-ramp 3 $SCHED" ;;
    *) echo "fastat: unknown variant '$1'" >&2; exit 2 ;;
    esac
}

# wants_aa VARIANT: is the variant evaluated with AutoAttack?
wants_aa() {
    [ -n "$AA" ] || return 1
    [ -z "${AA_VARIANTS:-}" ] && return 0
    echo " $AA_VARIANTS " | grep -q " $1 "
}

# one DATA MODEL EPS VARIANT SEED: trains and evaluates one run; prints
# "clean pgd aa-lite aa collapsed seconds" (aa: "-" when not run).
one() {
    data=$1 model=$2 eps=$3 var=$4 seed=$5
    tag="$(basename $data)-$(echo $model | tr ':=,' '---')-$var-$seed"
    m="$WORK/$tag.advc"
    step=$(awk -v e="$eps" 'BEGIN { printf "%g", e / 30 }')
    train "$m" --data data/$data --model $model --eps $eps \
        $(recipe_flags $var $eps) --seed $seed
    evaljson "$m.clean.json" --model "$m" --data data/$data --no-checks
    evaljson "$m.pgd$NEVAL.json" --model "$m" --data data/$data \
        --attack pgd --eps $eps --steps 50 --step-size $step \
        --restarts $RESTARTS --limit $NEVAL --seed $seed
    evaljson "$m.aa-lite$NEVAL.json" --model "$m" --data data/$data \
        --attack aa-lite --eps $eps --limit $NEVAL --seed $seed
    clean=$(json_get "$m.clean.json" clean_acc '"exit":"final"')
    pgd=$(json_get "$m.pgd$NEVAL.json" robust_acc '"attack":"pgd"')
    lite=$(json_get "$m.aa-lite$NEVAL.json" robust_acc '"attack":"aa-lite"')
    [ -n "$lite" ] ||
        lite=$(json_get "$m.aa-lite$NEVAL.json" robust_acc '"attack":"worst"')
    aa=-
    if [ "${AA_CACHED:-0}" = 1 ] && [ ! -s "$m.aa$NEVAL.json" ]; then
        : # AA_CACHED=1: only the AutoAttack runs already made
    elif wants_aa $var; then
        evaljson "$m.aa$NEVAL.json" --model "$m" --data data/$data \
            --attack aa --eps $eps --limit $NEVAL --seed $seed
        aa=$(json_get "$m.aa$NEVAL.json" robust_acc '"attack":"aa"')
    fi
    co=0
    [ -z "$(collapsed "$m" "$pgd")" ] || co=1
    secs=$(train_seconds "$m")
    for k in clean pgd lite aa co secs; do
        eval "v=\$$k"
        record "$(basename $data)-$model" "$var" "$seed" "$k" "$v"
    done
    echo "$clean $pgd $lite $aa $co $secs"
}

# aa_cell: the AutoAttack figure of a row, naming its seeds when AutoAttack
# ran on only some of them.
aa_cell() {
    if [ -z "$aas" ]; then echo -; return; fi
    if [ "$(echo $aseeds | wc -w)" = "$(echo $rseeds | wc -w)" ]; then
        stats $aas
    else
        echo "$(stats $aas) (seed$( [ $(echo $aseeds | wc -w) = 1 ] || echo s) $(echo $aseeds | tr ' ' ','))"
    fi
}

# row DATA MODEL EPS VARIANT "SEEDS" LABEL: one table row over the seeds
# (rseeds: sh has no locals, and arm's seeds must outlive the row).
row() {
    data=$1 model=$2 eps=$3 v=$4 rseeds=$5 label=$6
    cl="" pg="" li="" aas="" aseeds="" w="" cos=0 ts=""
    for s in $rseeds; do
        set -- $(one $data $model $eps $v $s)
        cl="$cl $(pct $1)" pg="$pg $(pct $2)" li="$li $(pct $3)"
        [ "$4" = - ] || { aas="$aas $(pct $4)" aseeds="$aseeds $s"; }
        if [ "$4" = - ]; then w="$w $(pct $3)"; else w="$w $(pct $4)"; fi
        cos=$((cos + $5)) ts="$ts $6"
    done
    worst=$(echo $w | tr ' ' '\n' | sort -n | head -n 1)
    printf '| %s | %s | %s | %s | %s | %s | %d of %d | %.0f |\n' "$label" \
        "$(stats $cl)" "$(stats $pg)" "$(stats $li)" \
        "$(aa_cell)" "$worst" "$cos" \
        "$(echo $rseeds | wc -w)" "$(mean $ts)" >>"$WORK/rows.md"
}

# cost DATA MODEL EPS "VARIANTS": seconds per epoch of COST_LIMIT images for each
# variant (and PGD-40, Madry et al.'s training attack), run back to back
# (under flock $LOCK when set), median of 3, relative to fgsm-rs.
cost() {
    data=$1 model=$2 eps=$3 vars="fgsm-rs $4 pgd-40"
    printf '\n| recipe | s per %s-image epoch (median of 3) | cost vs fgsm-rs |\n|---|---|---|\n' \
        $COST_LIMIT >>"$WORK/rows.md"
    base=""
    for v in $vars; do
        if [ $v = pgd-40 ]; then
            flags="--recipe pgd --steps 40 --step-size 0.01 --batch 100"
        else
            flags="$(recipe_flags $v $eps | sed 's/--epochs [0-9]*//;
                s/--schedule cyclic//')"
        fi
        ts=""
        for k in 1 2 3; do
            m="$WORK/cost-$(basename $data)-$(echo $model | tr ':=,' '---')-$v-$k.advc"
            cmd="$ADVC train --threads $THREADS --out $m --log $m.csv --data data/$data --model $model --eps $eps $flags --epochs 1 --limit $COST_LIMIT --guard-batch 0"
            # a finished measurement is reused when the same command made
            # it (its .done holds the command), like the runs above
            [ "$(cat "$m.done" 2>/dev/null)" = "$cmd" ] || {
                rm -f "$m.done"
                ${LOCK:+flock $LOCK} nice -n "$NICE" $cmd 2>/dev/null &&
                    echo "$cmd" >"$m.done"; }
            echo "$cmd" >>"$WORK/commands.txt"
            ts="$ts $(awk -F, 'NR > 1 { s += $9 } END { printf "%.2f", s }' \
                "$m.csv")"
        done
        t=$(echo $ts | tr ' ' '\n' | sort -n | sed -n 2p)
        [ -n "$base" ] || base=$t
        printf '| %s | %s | %sx |\n' $v $t \
            "$(awk -v a="$t" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" \
            >>"$WORK/rows.md"
        record "cost-$(basename $data)-$model" $v all seconds_$COST_LIMIT $t
    done
}

# arm DATA MODEL EPS "VARIANTS" "SEEDS": the table of one arm.
arm() {
    data=$1 model=$2 eps=$3 vars=${VARIANTS:-$4} seeds=$5
    section_plain "$data, $model, eps $eps" \
        "Mean ± std over seeds $seeds; clean accuracy on the whole test set, robust accuracy on the first $NEVAL test images (aa-lite: APGD-CE, APGD-DLR, APGD-T, an upper bound on AutoAttack's number; aa: AutoAttack, '-' where not run); worst seed: the lowest of the seeds' AutoAttack (else aa-lite) numbers; collapsed: runs that end below 20% under PGD-50x10, or whose guard saw catastrophic overfitting (the checkpoint evaluated is then the one before it) or a model that never became robust; train s: wall seconds of a whole run on a shared machine (the cost table below is the fair comparison)."
    printf '| recipe | clean | PGD-50x%s | aa-lite | aa | worst seed | collapsed | train s |\n|---|---|---|---|---|---|---|---|\n' \
        "$RESTARTS" >>"$WORK/rows.md"
    for v in $vars; do
        row $data $model $eps $v "$seeds" $v
        if [ $v = fast ] && [ "$data-$model" = mnist-cnn-small ]; then
            row $data $model $eps fast "$UNSEEN" \
                "fast, seeds $(echo $UNSEEN | tr ' ' ','): not tuned on"
        fi
    done
    [ "${COST:-1}" = 0 ] || cost $data $model $eps "$(echo $vars | tr ' ' '\n' | grep -v -e '^fgsm-rs$' | tr '\n' ' ')"
}

SMALL="fgsm-rs fgsm-rs-sat fgsm-rs-ramp n-fgsm n-fgsm-ramp fast elle pgd-10"
# pick VAR DEFAULT: the value of the environment variable VAR, or DEFAULT.
pick() { eval "echo \"\${$1:-$2}\""; }

for a in $ARMS; do
    k=$(echo $a | tr '-' '_')
    case $a in
    mnist-cnn-small | fmnist-cnn-small) vars=$SMALL seeds=$SEEDS ;;
    mnist-cnn) vars="fgsm-rs fast" seeds=$SEEDS_BIG ;;
    mnist-msdnet) vars="fgsm-rs me-fgsm fast" seeds=$SEEDS_BIG ;;
    *) echo "fastat: unknown arm '$a'" >&2; exit 2 ;;
    esac
    vars=$(pick V_$k "$vars") seeds=$(pick S_$k "$seeds")
    COST_LIMIT=$(pick L_$k "$COST_LIMIT0")
    case $a in
    mnist-cnn-small) arm mnist cnn-small 0.3 "$vars" "$seeds" ;;
    fmnist-cnn-small) arm fashion-mnist cnn-small 0.1 "$vars" "$seeds" ;;
    mnist-cnn) arm mnist cnn 0.3 "$vars" "$seeds" ;;
    mnist-msdnet)
        arm mnist msdnet:blocks=4,base=8,growth=4,head=32 0.3 "$vars" \
            "$seeds" ;;
    esac
done
[ -z "${STUDY_NOTE:-}" ] || text "$STUDY_NOTE"
paper_end
