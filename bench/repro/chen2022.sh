#!/bin/sh
# bench/repro/chen2022.sh: Chen et al., "Towards efficient adversarial
# training on multi-exit networks" (Neural Networks 2022), with a small
# MSDNet on MNIST and Fashion-MNIST:
#   (a) per-exit robust accuracy per epoch under FGSM training without the
#       per-exit L2: do deeper exits overfit catastrophically first?
#   (b) per-exit L2 distance between clean and adversarial features;
#   (c) per-exit FC weight norms per epoch, against each exit's collapse;
#   (d) the same with the per-exit L2 (me-fgsm's default): no collapse?
#   (e) me-fgsm against fgsm-rs, free (m 8), PGD-7 and TRADES on the same
#       network: clean, FGSM, PGD-20, CW, AutoAttack, training time.
# Usage: BUDGET=quick|full sh bench/repro/chen2022.sh
set -eu
. bench/repro/lib.sh
need_data mnist fashion-mnist
paper_begin chen2022 "Chen et al., Towards efficient adversarial training on multi-exit networks (Neural Networks 2022)"
MSD=msdnet:blocks=4,base=8,growth=4,head=32
if [ "$BUDGET" = quick ]; then
    LIMIT=6000 EPOCHS=4 CMP_EPOCHS=2 NEVAL=300 DATASETS="mnist:0.3"
    BUDGET_NOTE="$MSD, 6,000 training images, 4 epochs for the dynamics and 2 for the comparison, MNIST only, robust accuracy on the first 300 test images, aa-lite instead of AutoAttack (the paper: CIFAR-10/100 MSDNets)."
else
    LIMIT=24000 EPOCHS=15 CMP_EPOCHS=5 NEVAL=1000 DATASETS="mnist:0.3 fashion-mnist:0.1"
    BUDGET_NOTE="$MSD (4 exits), 24,000 training images, 15 epochs for the dynamics (a-d) and 5 for the comparison (e), MNIST (eps 0.3) and Fashion-MNIST (eps 0.1), robust accuracy on the first 1000 test images, one seed (the paper: CIFAR-10/100 MSDNets)."
fi
# The full AutoAttack on a robust MSDNet takes about 6 minutes per 300
# images here (Square alone 3), too long for the quick budget: quick
# evaluates with aa-lite (APGD-CE, APGD-DLR, APGD-T: an upper bound on
# AutoAttack's figure), full with aa.
AA=aa
[ "$BUDGET" = quick ] && AA=aa-lite
E=4
ZERO="0,0,0,0"
COMMON="--model $MSD --limit $LIMIT --batch 100 --lr 5e-3 --schedule cyclic --seed 1 --co-warn"

# dyn DATA EPS TAG FLAGS...: one run whose per-exit dynamics are read from
# its log: per exit the best and last held-out PGD accuracy, whether it
# fell (more than 20 points below its best), and its FC norm then.
dyn() {
    d=$1 eps=$2 tag=$3
    shift 3
    m="$WORK/$(basename $d)-$tag.advc"
    train "$m" --data data/$d --eps $eps $COMMON --epochs $EPOCHS "$@"
    run "$ADVC" plot --log "$m.csv" --panels _pgd,_fc_norm \
        --title "$d eps $eps, $tag: per-exit held-out PGD and FC norms" \
        --out "$RESULTS/chen2022-$(basename $d)-$tag.svg" >/dev/null
    awk -F, -v E=$E 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { for (e = 0; e < E; e++) {
            p = $col["exit" e "_pgd"]; nrm = $col["exit" e "_fc_norm"];
            if (p > best[e]) { best[e] = p; be[e] = $1 }
            if (!fell[e] && best[e] - p > 0.2) { fell[e] = $1; fn[e] = nrm }
            last[e] = p; ln[e] = nrm } }
        END { for (e = 0; e < E; e++)
            printf "%d %.1f %d %.1f %d %.3f %.3f\n", e, 100 * best[e], be[e],
                100 * last[e], fell[e], fn[e], ln[e] }' "$m.csv" >"$m.exits"
}

# exits_table FILE: the per-exit rows of a dyn run.
exits_table() {
    printf '| exit | best held-out PGD (epoch) | last | fell at epoch | FC norm then / at the end |\n|---|---|---|---|---|\n' >>"$WORK/rows.md"
    while read e b be l f fn ln; do
        printf '| %s | %s%% (%s) | %s%% | %s | %s |\n' $e $b $be $l \
            "$( [ $f -gt 0 ] && echo $f || echo -)" \
            "$( [ $f -gt 0 ] && echo "$fn / $ln" || echo "- / $ln")" \
            >>"$WORK/rows.md"
    done <"$1"
}

for ds in $DATASETS; do
    d=${ds%%:*} eps=${ds#*:}
    # (a) + (c): FGSM training without the per-exit L2, plain FGSM (no
    # random start, step eps: the setting most prone to collapse), and
    # FGSM-RS (step 1.25 eps); (d): the same with me-fgsm's per-exit L2.
    for v in "fgsm-noL2:--recipe me-fgsm --no-random-start --exit-l2 $ZERO" \
             "fgsm-L2:--recipe me-fgsm --no-random-start" \
             "fgsmrs-noL2:--recipe me-fgsm --exit-l2 $ZERO" \
             "fgsmrs-L2:--recipe me-fgsm"; do
        tag=${v%%:*}
        dyn $d $eps $tag ${v#*:}
        section_plain "(a, c, d) $d, eps $eps: $tag" \
            "\`advc train --data data/$d --eps $eps $COMMON --epochs $EPOCHS ${v#*:}\`; per-exit accuracies of the guard (512 held-out images, PGD-10) from the training log ([figure](chen2022-$(basename $d)-$tag.svg))."
        exits_table "$WORK/$(basename $d)-$tag.advc.exits"
    done
    # (b): how far each exit's features move, on the model without L2.
    m="$WORK/$(basename $d)-fgsmrs-noL2.advc"
    need_model "$m"
    run "$ADVC" probe --model "$m" --data data/$d --features --eps $eps \
        --limit $NEVAL --csv --threads $THREADS --out \
        "$RESULTS/chen2022-$(basename $d)-features.svg" \
        >"$WORK/$(basename $d)-features.csv"
    section_plain "(b) $d: feature distances per exit" \
        "\`advc probe --features\` on the FGSM-RS model without L2: mean L2 distance between the features each exit's classifier reads on clean and adversarial images (relative: divided by the clean features' norm), the first $NEVAL test images ([figure](chen2022-$(basename $d)-features.svg))."
    printf '| exit | FGSM L2 | relative | PGD L2 | relative |\n|---|---|---|---|---|\n' >>"$WORK/rows.md"
    tail -n +2 "$WORK/$(basename $d)-features.csv" | tr ',' ' ' |
        while read e dims f fr p pr; do
            printf '| %s | %.3f | %.3f | %.3f | %.3f |\n' $e $f $fr $p $pr
        done >>"$WORK/rows.md"
done

# (e) the comparison on MNIST.
d=mnist eps=0.3
section_plain "(e) Recipes on the same MSDNet, MNIST eps 0.3" \
    "$CMP_EPOCHS epochs on $LIMIT images (free: $CMP_EPOCHS epochs' worth of replays); accuracy of every exit (e0..e3; e3 is the final exit, the anytime prediction when the whole network runs) on the first $NEVAL test images; attacks on the summed loss of all exits: FGSM, PGD-20, CW (PGD-20 on the margin), $AA; time: training seconds."
printf '| recipe | clean e0/e1/e2/e3 | FGSM e3 | PGD-20 e3 | CW e3 | %s e0/e1/e2/e3 | train (s) |\n|---|---|---|---|---|---|---|\n' $AA >>"$WORK/rows.md"
for v in "me-fgsm:--recipe me-fgsm" "fgsm-rs:--recipe fgsm-rs" \
         "free:--recipe free --replays 8" "pgd-7:--recipe pgd --steps 7" \
         "trades:--recipe trades"; do
    tag=${v%%:*}
    m="$WORK/cmp-$tag.advc"
    train "$m" --data data/$d --eps $eps $COMMON --epochs $CMP_EPOCHS ${v#*:}
    evaljson "$m.json" --model "$m" --data data/$d --attack fgsm,pgd,cw \
        --eps $eps --steps 20 --limit $NEVAL --no-checks
    evaljson "$m.$AA.json" --model "$m" --data data/$d --attack $AA \
        --eps $eps --limit $NEVAL
    per() { for x in exit0 exit1 exit2 final; do
        printf '%s/' "$(pct $(json_get "$1" $2 "\"exit\":\"$x\",$3"))"; done |
        sed 's/\/$//'; }
    cl=$(per "$m.json" clean_acc '"n"')
    fg=$(pct $(json_get "$m.json" robust_acc '"exit":"final","attack":"fgsm"'))
    pg=$(pct $(json_get "$m.json" robust_acc '"exit":"final","attack":"pgd"'))
    cw=$(pct $(json_get "$m.json" robust_acc '"exit":"final","attack":"cw"'))
    aal="\"attack\":\"$AA\""
    grep -q "$aal" "$m.$AA.json" || aal='"attack":"worst"'
    aa=$(per "$m.$AA.json" robust_acc "$aal")
    t=$(train_seconds "$m")
    record cmp "$tag" 1 final_clean "$(json_get "$m.json" clean_acc '"exit":"final"')"
    record cmp "$tag" 1 final_pgd20 "$pg"
    record cmp "$tag" 1 train_seconds "$t"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' $tag "$cl" "$fg" "$pg" \
        "$cw" "$aa" "$t" >>"$WORK/rows.md"
done
# The claims, from the numbers above.
section "The paper's claims" \
    "Read from the tables above (MNIST unless said; one seed)."
for ds in $DATASETS; do
    d=$(basename ${ds%%:*})
    for r in fgsm fgsmrs; do
        f="$WORK/$d-$r-noL2.advc.exits" g="$WORK/$d-$r-L2.advc.exits"
        fell=$(awk '$5 > 0 { printf "%s%s@%s", n++ ? ", " : "", $1, $5 }' "$f")
        nf=$(awk '$5 > 0' "$f" | wc -l)
        ng=$(awk '$5 > 0' "$g" | wc -l)
        # deeper first: some exit fell; whenever a shallower exit fell, every
        # deeper exit fell too, no later; and the order shows (a deeper exit
        # fell strictly earlier, or a shallower one never fell).  Exits in
        # the order of the file, shallow to deep.
        deep=$(awk '{ fell[NR] = $5; n = NR }
            END { any = 0; bad = 0; strict = 0
                for (i = 1; i <= n; i++) {
                    if (fell[i] > 0) any = 1
                    for (j = i + 1; j <= n; j++) {
                        if (fell[i] > 0 && (fell[j] == 0 || fell[j] > fell[i])) bad = 1
                        if (fell[j] > 0 && (fell[i] == 0 || fell[j] < fell[i])) strict = 1
                    } }
                print (any && !bad && strict) ? "yes" : "no" }' "$f")
        claim "$d, $r without L2: deeper exits overfit catastrophically first" \
            "yes" "exits that fell (exit@epoch): ${fell:-none}" \
            "$( [ $nf -eq 0 ] && echo 'not tested' || { [ "$deep" = yes ] && echo reproduced || echo 'not reproduced'; })" \
            "$( [ $nf -eq 0 ] && echo 'no exit collapsed in this setting' || echo "$nf of $E exits fell more than 20 points below their best")."
        # FC norms: the exits that fell have larger norms (at the fall)
        # than the ones that did not (at the end).
        cmp=$(awk '$5 > 0 { s += $6; n++ } $5 == 0 { t += $7; m++ }
            END { if (n && m) printf "%.2f vs %.2f", s / n, t / m; else print "-" }' "$f")
        bigger=$(echo "$cmp" | awk '{ print ($1 > $3) ? "yes" : "no" }')
        claim "$d, $r: collapsed exits have larger FC weight norms" "yes" \
            "$cmp (fallen vs others)" \
            "$( [ "$cmp" = - ] && echo 'not tested' || { [ $bigger = yes ] && echo reproduced || echo 'not reproduced'; })" \
            "the mechanism the per-exit L2 targets."
        claim "$d, $r: the per-exit L2 prevents the collapse" "yes" \
            "$nf exit(s) fell without, $ng with" \
            "$( [ $nf -gt 0 ] && [ $ng -lt $nf ] && echo reproduced || { [ $nf -eq 0 ] && echo 'not tested' || echo 'not reproduced'; })" \
            "me-fgsm's default lambdas (0.1 for the first three exits, 0.15 after)."
    done
    inc=$(tail -n +2 "$WORK/$d-features.csv" | awk -F, '{ v[NR] = $5 }
        END { for (i = 2; i <= NR; i++) if (v[i] < v[i - 1]) bad = 1;
              print bad ? "no" : "yes" }')
    claim "$d: deeper exits' features move more under attack (PGD)" "yes" \
        "$(tail -n +2 "$WORK/$d-features.csv" | awk -F, '{ printf "%s%.2f", (NR > 1) ? " / " : "", $5 }')" \
        "$( [ $inc = yes ] && echo reproduced || echo 'not reproduced')" \
        "mean L2 distance per exit, shallow to deep."
done
g() { grep "^chen2022,cmp,$1,1,$2," "$CSV" | cut -d, -f6; }
claim "me-fgsm is about as robust as TRADES at about half its training time" \
    "yes" "PGD-20 $(g me-fgsm final_pgd20)% vs $(g trades final_pgd20)%; $(g me-fgsm train_seconds) s vs $(g trades train_seconds) s" \
    "$(awk -v a="$(g me-fgsm final_pgd20)" -v b="$(g trades final_pgd20)" -v s="$(g me-fgsm train_seconds)" -v t="$(g trades train_seconds)" 'BEGIN { print (a > b - 3 && s < 0.6 * t) ? "reproduced" : (s < t ? "trend reproduced" : "not reproduced") }')" \
    "final exit, table (e)."
claim "me-fgsm is stronger than free and fgsm-rs under attack" "yes" \
    "PGD-20 $(g me-fgsm final_pgd20)% vs free $(g free final_pgd20)%, fgsm-rs $(g fgsm-rs final_pgd20)%" \
    "$(awk -v a="$(g me-fgsm final_pgd20)" -v b="$(g free final_pgd20)" -v c="$(g fgsm-rs final_pgd20)" 'BEGIN { print (a > b && a > c) ? "reproduced" : "not reproduced" }')" \
    "final exit; CW and $AA per exit in table (e)."
paper_end
