#!/bin/sh
# bench/repro/goodfellow2015.sh: Goodfellow, Shlens, Szegedy, "Explaining and
# harnessing adversarial examples", ICLR 2015, on MNIST:
#   1. FGSM (eps 0.25) fools the shallow softmax and the maxout network,
#      confidently;
#   2. FGSM training with alpha 0.5 makes maxout resist FGSM (but, as the
#      masking check shows, not PGD);
#   3. the logits move along straight lines in the FGSM direction;
#   4. the examples transfer between models and architectures;
#   5. an ensemble of maxout networks is fooled too.
# Usage: BUDGET=quick|full sh bench/repro/goodfellow2015.sh
set -eu
. bench/repro/lib.sh
need_data mnist
paper_begin goodfellow2015 "Goodfellow, Shlens, Szegedy, Explaining and harnessing adversarial examples (ICLR 2015)"
D=data/mnist
if [ "$BUDGET" = quick ]; then
    EPOCHS=3 SEEDS="1 2 3" ENSEMBLE=4
    BUDGET_NOTE="3 epochs per model, 3 seeds, an ensemble of 4 maxout networks (the paper: its own long schedules, an ensemble of 12)."
else
    EPOCHS=20 SEEDS="1 2 3 4 5" ENSEMBLE=12
    BUDGET_NOTE="20 epochs per model (Adam, lr 2e-3, batch 128: not the paper's SGD schedule), 5 seeds, an ensemble of 12 maxout networks as in the paper."
fi
W=$WORK
EPS=0.25

# ---- 1. FGSM against the shallow softmax and the maxout network ----------
section "FGSM at eps 0.25 on MNIST (paper section 4, 5)" \
    "Error rate on FGSM examples of the whole test set and the mean softmax confidence of the wrong prediction on the fooled examples; every model trained on clean images with Adam, mean ± std over seeds $SEEDS."
for m in linear maxout; do
    errs="" confs=""
    for s in $SEEDS; do
        train "$W/$m-$s.advc" --data $D --model $m --epochs $EPOCHS --seed $s
        evaljson "$W/$m-$s.fgsm.json" --model "$W/$m-$s.advc" --data $D \
            --attack fgsm --eps $EPS --seed $s
        acc=$(json_get "$W/$m-$s.fgsm.json" robust_acc '"attack":"fgsm"')
        conf=$(json_get "$W/$m-$s.fgsm.json" fooled_conf '"attack":"fgsm"')
        err=$(awk -v a="$acc" 'BEGIN { print 1 - a }')
        record fgsm "$m" "$s" error "$err"
        record fgsm "$m" "$s" fooled_conf "$conf"
        errs="$errs $(pct "$err")" confs="$confs $(pct "$conf")"
    done
    if [ $m = linear ]; then pe=99.9 pc=79.3; else pe=89.4 pc=97.6; fi
    me=$(mean $errs) mc=$(mean $confs)
    [ $m = maxout ] && maxout_fgsm_err=$me
    v=$(verdict "$me" $pe 5 "$(holds "$me >= 50")")
    claim "$m: error on FGSM examples" "$pe%" "$(stats $errs)%" "$v" \
        "FGSM at eps 0.25 misclassifies $(printf %.0f "$me")% of the test set."
    v=$(verdict "$mc" $pc 10 "$(holds "$mc >= 70")")
    claim "$m: mean confidence on the fooled examples" "$pc%" \
        "$(stats $confs)%" "$v" \
        "the wrong answers are given with $(printf %.0f "$mc")% confidence on average."
done

# ---- 2. FGSM adversarial training of maxout (alpha 0.5) -------------------
section "FGSM-trained maxout (paper section 6)" \
    "Recipe fgsm (alpha 0.5, eps 0.25) on the maxout network with dropout; error on FGSM and on PGD-20 examples (eps 0.25) and the masking checks, mean ± std over seeds $SEEDS."
fe="" pe_="" ce="" flags=0
for s in $SEEDS; do
    train "$W/maxout-fgsm-$s.advc" --data $D --model maxout --recipe fgsm \
        --eps $EPS --alpha 0.5 --epochs $EPOCHS --seed $s --co-warn
    evaljson "$W/maxout-fgsm-$s.json" --model "$W/maxout-fgsm-$s.advc" \
        --data $D --attack fgsm,pgd --eps $EPS --steps 20 --seed $s
    j="$W/maxout-fgsm-$s.json"
    clean=$(json_get "$j" clean_acc '"exit":"final"')
    fa=$(json_get "$j" robust_acc '"attack":"fgsm"')
    pa=$(json_get "$j" robust_acc '"attack":"pgd"')
    only=$(json_get "$j" fgsm_only '"check"')
    [ "$only" = true ] && flags=$((flags + 1))
    ce="$ce $(pct "$(awk -v a="$clean" 'BEGIN { print 1 - a }')")"
    fe="$fe $(pct "$(awk -v a="$fa" 'BEGIN { print 1 - a }')")"
    pe_="$pe_ $(pct "$(awk -v a="$pa" 'BEGIN { print 1 - a }')")"
    record fgsm-trained maxout "$s" clean_error "$(awk -v a="$clean" 'BEGIN { print 1 - a }')"
    record fgsm-trained maxout "$s" fgsm_error "$(awk -v a="$fa" 'BEGIN { print 1 - a }')"
    record fgsm-trained maxout "$s" pgd20_error "$(awk -v a="$pa" 'BEGIN { print 1 - a }')"
done
nseeds=$(echo $SEEDS | wc -w)
mfe=$(mean $fe)
claim "FGSM-trained maxout: error on FGSM examples" "17.9%" "$(stats $fe)%" \
    "$(verdict "$mfe" 17.9 5 "$(holds "$mfe < $maxout_fgsm_err / 2")")" \
    "training on FGSM examples cuts the FGSM error from about 90% to $(printf %.0f "$mfe")%."
claim "FGSM-trained maxout: clean error" "(not given)" "$(stats $ce)%" "-" \
    "the clean accuracy stays high."
mpe=$(mean $pe_)
claim "FGSM-trained maxout: error on PGD-20 examples (not in the paper)" "-" \
    "$(stats $pe_)%" "-" \
    "PGD-20 misclassifies $(printf %.0f "$mpe")%: the model resists the one step it trained on, not the attack; the masking check 'FGSM far above PGD' flags $flags of $nseeds models."

# ---- 3. Linearity: logits along the FGSM direction -------------------------
section "Logits along the FGSM direction (paper figure 4)" \
    "advc probe on maxout seed 1, test image 0: every class's logit at x + eps sign(grad), eps from -15 to 15 (not clipped), and R^2 of straight-line fits on each side of 0."
need_model "$W/maxout-1.advc"
run "$ADVC" probe --model "$W/maxout-1.advc" --data $D --index 0 \
    --eps-max 15 --points 61 --threads "$THREADS" \
    --out "$RESULTS/goodfellow2015-probe.svg" >"$W/probe.txt"
r2=$(sed -n 's/.*R^2 min \([0-9.]*\), mean \([0-9.]*\).*/\2/p' "$W/probe.txt")
r2min=$(sed -n 's/.*R^2 min \([0-9.]*\), mean.*/\1/p' "$W/probe.txt")
record linearity maxout 1 r2_mean "$r2"
v=$(awk -v r="$r2" 'BEGIN { print (r >= 0.95 ? "reproduced" : r >= 0.8 ? "trend reproduced" : "not reproduced") }')
claim "logits are (piecewise) linear in eps" "figure: straight lines" \
    "R^2 mean $r2, min $r2min" "$v" \
    "straight-line fits explain the logit curves ([figure](goodfellow2015-probe.svg))."

# ---- 4. Transfer between models and architectures --------------------------
section "Transfer (paper section 8)" \
    "FGSM examples (eps 0.25) made against one model, error rate on another, seed pairs (1, 2), (2, 3), ..."
for pair in "maxout maxout" "maxout linear" "linear maxout"; do
    set -- $pair
    errs=""
    for s in $SEEDS; do
        t=$(( s % nseeds + 1 ))
        [ "$1" != "$2" ] && t=$s
        src="$W/$1-$s.advc" dst="$W/$2-$t.advc"
        evaljson "$W/transfer-$1$s-$2$t.json" --model "$dst" --data $D \
            --attack fgsm --eps $EPS --transfer-from "$src" --seed $s
        acc=$(json_get "$W/transfer-$1$s-$2$t.json" robust_acc '"attack":"fgsm"')
        err=$(awk -v a="$acc" 'BEGIN { print 1 - a }')
        record transfer "$1->$2" "$s" error "$err"
        errs="$errs $(pct "$err")"
    done
    me=$(mean $errs)
    v=$(awk -v e="$me" 'BEGIN { print (e >= 50 ? "reproduced" : e >= 20 ? "trend reproduced" : "not reproduced") }')
    claim "examples made on $1 fool $2" "most transfer" "$(stats $errs)%" \
        "$v" "$(printf %.0f "$me")% of the examples made on another model are misclassified."
done

# ---- 5. An ensemble of maxout networks -------------------------------------
section "Ensemble of $ENSEMBLE maxout networks (paper section 9)" \
    "advc eval on the ensemble (averaged logits of $ENSEMBLE maxout networks, seeds 101..$((100 + ENSEMBLE))): FGSM at eps 0.25 against the whole ensemble, and FGSM made against one member (the first) evaluated on the ensemble."
members=""
for k in $(seq 1 $ENSEMBLE); do
    train "$W/ens-$k.advc" --data $D --model maxout --epochs $EPOCHS \
        --seed $((100 + k))
    members="$members${members:+,}$W/ens-$k.advc"
done
evaljson "$W/ens.json" --model "$members" --data $D --attack fgsm \
    --eps $EPS --no-checks
evaljson "$W/ens-transfer.json" --model "$members" --data $D \
    --attack fgsm --eps $EPS --no-checks --transfer-from "$W/ens-1.advc"
a=$(json_get "$W/ens.json" robust_acc '"attack":"fgsm"')
b=$(json_get "$W/ens-transfer.json" robust_acc '"attack":"fgsm"')
ea=$(pct "$(awk -v a="$a" 'BEGIN { print 1 - a }')")
eb=$(pct "$(awk -v a="$b" 'BEGIN { print 1 - a }')")
record ensemble "against-ensemble" all error "$ea"
record ensemble "from-one-member" all error "$eb"
claim "the ensemble errs on examples made against it" "91.1%" "$ea%" \
    "$(verdict "$ea" 91.1 5 "$(holds "$ea >= 50")")" "averaging $ENSEMBLE networks does not remove the vulnerability."
claim "the ensemble errs on examples made against one member" "87.9%" \
    "$eb%" "$(verdict "$eb" 87.9 5 "$(holds "$eb >= 50")")" "examples made on one member transfer to the ensemble."
paper_end
