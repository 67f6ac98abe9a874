#!/bin/sh
# tests/repro-lib.sh PROG: the run records of bench/repro/lib.sh, run by
# `make test` (native builds).  A tiny paper script (a linear model, one
# epoch on the committed MNIST sample) runs three times in a temporary
# folder: (1) it trains and evaluates, leaving records, and a PGD run cut
# into shards (evalshards) must give the single run's figure; (2) in
# another work folder, it must take every number from the records and, for an
# evaluation it has no record of, retrain the model from the recorded
# arguments and find the same log; (3) with a record's log altered, that
# retraining must stop the script and say so; (4) AutoAttack's summary
# line of two shards must combine into one; (5) a model or evaluation in
# the work folder made with other arguments must not be reused.
set -u
prog=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ADVC="$prog" REPRO_WORK="$tmp/work" REPRO_RUNS="$tmp/runs" PARTIAL=1
export NICE=0 THREADS=1 BUDGET=quick
fails=0

cat >"$tmp/paper.sh" <<'EOF'
set -eu
. bench/repro/lib.sh
paper_begin t "repro-lib test"
BUDGET_NOTE=test
D=data/mnist-sample
m=$WORK/lin.advc
train "$m" --data $D --model linear --epochs ${EPOCHS:-1} --seed 3
evaljson "$m.fgsm.json" --model "$m" --data $D --attack fgsm --eps 0.03 \
    --limit 100 --no-checks
evalshards "$m.pgd.json" 100 40 --model "$m" --data $D --attack pgd \
    --eps 0.03 --steps 3 --no-checks
evaljson "$m.pgd1.json" --model "$m" --data $D --attack pgd --eps 0.03 \
    --steps 3 --limit 100 --no-checks
[ -z "${EXTRA:-}" ] || evaljson "$m.x.json" --model "$m" --data $D \
    --attack fgsm --eps "$EXTRA" --limit 100 --no-checks
echo "fgsm=$(json_get "$m.fgsm.json" robust_acc '"attack":"fgsm"')" \
    "pgd-shards=$(json_get "$m.pgd.json" robust_acc '"attack":"pgd"')" \
    "pgd=$(json_get "$m.pgd1.json" robust_acc '"attack":"pgd"')"
paper_end
EOF

fail() { echo "repro-lib: FAIL: $*"; fails=$((fails + 1)); }
run() { sh "$tmp/paper.sh" 2>"$tmp/err" | grep '^fgsm='; }

first=$(run)
echo "repro-lib: $first" >&2
case $first in
fgsm=0.* | fgsm=1.*) ;;
*) fail "the first run printed '$first': $(tail -n 2 "$tmp/err")" ;;
esac
set -- $first
[ "${2#*=}" = "${3#*=}" ] || fail "PGD in shards ${2#*=}, in one run ${3#*=}"
[ -f "$tmp/runs/quick/t/lin.advc.args" ] || fail "no training record"
[ -f "$tmp/runs/quick/t/lin.advc.pgd.json.first40.json" ] ||
    fail "no record of the second shard"

# (2) in another work folder: the records name models by their path in
# the work folder, written @WORK, so they serve any folder.
rm -rf "$tmp/work"
second=$(REPRO_WORK="$tmp/work2" EXTRA=0.2 run)
[ "$second" = "$first" ] || fail "from the records: '$second', first '$first'"
grep -q "from its record" "$tmp/work2/t/commands.txt" ||
    fail "the second run did not say it took the training run from its record"
[ "$(grep -c ' eval .*# reused' "$tmp/work2/t/commands.txt")" = 5 ] ||
    fail "evaluations not taken from their records in another work folder: $(grep -v reused "$tmp/work2/t/commands.txt" | grep ' eval ')"
grep -q "retraining" "$tmp/err" ||
    fail "the model was not retrained for the evaluation it had no record of"

rm -rf "$tmp/work"
sed -i '2s/^1,[^,]*,/1,0.5,/' "$tmp/runs/quick/t/lin.advc.csv"
if EXTRA=0.3 run >/dev/null; then
    fail "a retrained model that differs from its record went unnoticed"
elif ! grep -q "does not match" "$tmp/err"; then
    fail "the mismatch was not named: $(tail -n 1 "$tmp/err")"
fi

# (4) AutoAttack's summary line in shards: shard files already there are
# reused, so two made-up shards of 40 (Square gaining 1 image, then 2)
# must combine into one "aa" line over 80 images with gain 0.0375.
mkdir -p "$tmp/w4"
o=$tmp/w4/m.aa.json
printf '%s\n' '{"exit":"final","attack":"aa","eps":0.3,"square_gain":0.0250,"n":40,"clean_acc":1.0000,"robust_acc":0.5000,"seed":1}' >"$o.first0.json"
printf '%s\n' '{"exit":"final","attack":"aa","eps":0.3,"square_gain":0.0500,"n":40,"clean_acc":0.5000,"robust_acc":0.2500,"first":40,"seed":1}' >"$o.first40.json"
echo "--threads 1 --model x --first 0 --limit 40" >"$o.first0.json.args"
echo "--threads 1 --model x --first 40 --limit 40" >"$o.first40.json.args"
(. bench/repro/lib.sh; WORK=$tmp/w4 RECORDS=$tmp/w4/runs
    evalshards "$o" 80 40 --model x) >/dev/null 2>&1
want='{"exit":"final","attack":"aa","eps":0.3,"square_gain":0.0375,"n":80,"clean_acc":0.7500,"robust_acc":0.3750,"seed":1,"shards":2}'
[ "$(cat "$o" 2>/dev/null)" = "$want" ] ||
    fail "AutoAttack's line in shards: '$(cat "$o" 2>/dev/null)', want '$want'"

# (5) A model or evaluation already in the work folder is reused only if
# it was made with the same arguments: the same script at another budget
# (here 2 epochs instead of 1) retrains, and then evaluates again: an
# evaluation older than its model is not reused.
export REPRO_WORK="$tmp/w5" REPRO_RUNS="$tmp/r5"
run >/dev/null
EPOCHS=2 run >/dev/null
[ "$(wc -l <"$tmp/w5/t/lin.advc.csv")" = 3 ] ||
    fail "a model of other arguments was reused: $(wc -l <"$tmp/w5/t/lin.advc.csv") lines in its log, want 3"
grep -q 'epochs 2 --seed 3 *$' "$tmp/w5/t/commands.txt" ||
    fail "the 2-epoch run was not made: $(grep ' train ' "$tmp/w5/t/commands.txt")"
grep -q 'fgsm --eps 0.03 --limit 100 --no-checks *$' "$tmp/w5/t/commands.txt" ||
    fail "the evaluation of the 1-epoch model was reused for the 2-epoch one"
grep -q "lin.advc.fgsm.json was made from an earlier" "$tmp/err" ||
    fail "the stale evaluation was not named: $(tail -n 1 "$tmp/err")"

if [ "$fails" -gt 0 ]; then
    echo "repro-lib: $fails failed"
    exit 1
fi
echo "repro-lib: records, shards and retraining checked"
