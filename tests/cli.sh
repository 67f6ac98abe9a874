#!/bin/sh
# tests/cli.sh PROG [RUNNER...]: the command line's contract, run by
# `make test` after the Check suite.  Bad flags and bad values exit 2 with
# one line on stderr naming the flag; bad files exit 1 with one line naming
# the file; a good run exits 0 and records what it did.  RUNNER (e.g.
# qemu-aarch64 -L ...) runs PROG on another ISA.  Uses the committed MNIST
# sample; writes only to a temporary directory.
set -u
prog=$1
shift
runner="$*"
data=data/mnist-sample
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# expect CODE PATTERN ARGS...: PROG ARGS exits CODE; when CODE is not 0,
# stderr is exactly one line and contains PATTERN.
expect() {
    code=$1 pat=$2
    shift 2
    n=$((n + 1))
    $runner "$prog" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    lines=$(wc -l <"$tmp/err")
    if [ "$got" != "$code" ]; then
        echo "cli: FAIL: advc $* exited $got, want $code: $(head -n 2 "$tmp/err")"
        fails=$((fails + 1))
    elif [ "$code" != 0 ] && { [ "$lines" != 1 ] || ! grep -q -- "$pat" "$tmp/err"; }; then
        echo "cli: FAIL: advc $*: want one stderr line with '$pat', got $lines: $(head -n 2 "$tmp/err")"
        fails=$((fails + 1))
    fi
}

# Usage errors: exit 2, one line naming the flag or value.
expect 2 "--bogus" train --bogus
expect 2 "--data" train --model linear
expect 2 "--init" train --data $data --model cnn-small --init xavier
expect 2 "--epochs" train --data $data --model linear --epochs 0
expect 2 "unknown model 'nosuch'" train --data $data --model nosuch
expect 2 "unknown key 'nokey'" train --data $data --model resnet:nokey=1
expect 2 "me-fgsm needs a multi-exit" train --data $data --model cnn-small --recipe me-fgsm
expect 2 "--exit-l2" train --data $data --model msdnet --recipe me-fgsm --exit-l2 0.1,x
expect 2 "--attack-grad" train --data $data --model cnn-small --act silu --attack-grad psoftplus:10
expect 2 "extra" eval extra-arg --model m.advc --data $data
expect 2 "--bogus" attack --bogus
expect 2 "--bogus" info --bogus
expect 2 "one FILE" info a.advc b.advc

# A good run: train records the init; eval and info read the result.
expect 0 "" train --data $data --model linear --epochs 1 --limit 200 \
    --batch 100 --threads 1 --out "$tmp/m.advc"
cp "$tmp/err" "$tmp/train.err"
expect 0 "" info "$tmp/m.advc"
if ! grep -q "init=uniform" "$tmp/out"; then
    echo "cli: FAIL: advc info does not show init=uniform"
    fails=$((fails + 1))
fi
expect 2 "--attack" eval --model "$tmp/m.advc" --data $data --attack nosuch
expect 2 "--eps" eval --model "$tmp/m.advc" --data $data --attack pgd --eps -1
expect 2 "aa runs alone" eval --model "$tmp/m.advc" --data $data --attack aa,pgd
expect 2 "--p-init" eval --model "$tmp/m.advc" --data $data --attack aa --p-init 2
expect 2 "--transfer-from" eval --model "$tmp/m.advc" --data $data --attack aa --transfer-from "$tmp/m.advc"
# AutoAttack's cascade: the per-attack lines and the final figure, in JSON.
expect 0 "" eval --model "$tmp/m.advc" --data $data --attack aa --eps 0.2 \
    --limit 20 --no-checks --json --threads 1
for a in apgd-ce apgd-t fab-t square aa; do
    if ! grep -q "\"attack\":\"$a\"" "$tmp/out"; then
        echo "cli: FAIL: advc eval --attack aa --json has no \"attack\":\"$a\" line"
        fails=$((fails + 1))
    fi
done

# The masking checks in --json name each failed check, as many as the
# table marks FAILED, and "passed" agrees.
expect 0 "" eval --model "$tmp/m.advc" --data $data --attack pgd --eps 0.3 \
    --limit 20 --json --threads 1
line=$(grep '"check":"gradient-masking"' "$tmp/out")
nj=$(echo "$line" | sed -n 's/.*"failed":"\([^"]*\)".*/\1/p' | tr ',' '\n' |
    grep -c .)
pj=$(echo "$line" | sed -n 's/.*"passed":\([a-z]*\).*/\1/p')
expect 0 "" eval --model "$tmp/m.advc" --data $data --attack pgd --eps 0.3 \
    --limit 20 --threads 1
nt=$(grep -c '\[FAILED\]' "$tmp/out")
if [ -z "$line" ] || [ "$nj" != "$nt" ] ||
    [ "$pj" != "$( [ "$nt" = 0 ] && echo true || echo false)" ]; then
    echo "cli: FAIL: masking checks: --json lists $nj failed (passed=$pj), the table $nt"
    fails=$((fails + 1))
fi

# One parser per value type: a flag means the same, with the same range,
# in every command (these drifted apart before the option tables).
expect 0 "" eval --model "$tmp/m.advc" --data $data --attack fgsm \
    --eps 8/255 --limit 20 --no-checks
expect 0 "" attack --model "$tmp/m.advc" --data $data --attack fgsm \
    --eps 8/255 --limit 4 --out "$tmp/a0"
expect 2 "--eps" eval --model "$tmp/m.advc" --data $data --attack pgd --eps 300
expect 2 "--eps" attack --model "$tmp/m.advc" --data $data --attack pgd --eps 300
expect 2 "--eps" train --data $data --model linear --recipe pgd --eps 300
for cmd in eval attack; do
    expect 2 "an integer from 1 to 100000" $cmd --model "$tmp/m.advc" \
        --data $data --attack pgd --steps 100001
done
expect 2 "an integer from 1 to 100000" train --data $data --model linear \
    --recipe pgd --steps 100001
expect 2 "--threads" eval --model "$tmp/m.advc" --data $data --threads 0
for v in 0 abc; do
    n=$((n + 1))
    ADVC_THREADS=$v $runner "$prog" eval --model "$tmp/m.advc" --data $data \
        >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ $got != 2 ] || [ "$(wc -l <"$tmp/err")" != 1 ] ||
        ! grep -q "ADVC_THREADS=$v" "$tmp/err"; then
        echo "cli: FAIL: ADVC_THREADS=$v: exit $got: $(head -n 2 "$tmp/err")"
        fails=$((fails + 1))
    fi
done

# Settings that do nothing in the chosen combination are refused.
expect 2 "--attack-grad does nothing with --recipe std" train --data $data \
    --model cnn-small --attack-grad psoftplus:10
expect 2 "--beta does nothing with --recipe pgd" train --data $data \
    --model cnn-small --recipe pgd --beta 3
expect 2 "--target-classes does nothing" eval --model "$tmp/m.advc" \
    --data $data --attack pgd,fgsm --target-classes 3
expect 2 "--steps does nothing" eval --model "$tmp/m.advc" --data $data \
    --steps 3

# Mistakes caught before any work: --out in a missing directory or naming
# a directory, --val that leaves nothing to train on.
expect 2 "--out" train --data $data --model linear --out "$tmp/no/such/m.advc"
expect 2 "--out" train --data $data --model linear --out "$tmp"
expect 2 "--log" train --data $data --model linear --out "$tmp/l.advc" \
    --log "$tmp/no/l.csv"
expect 2 "--val" train --data $data --model linear --val 1000

# advc attack and advc eval: the same attack, defaults and random starts,
# so the same robust accuracy on the same images, whatever the batch.
n=$((n + 1))
set -- --attack pgd --eps 0.02 --steps 5 --restarts 2 --limit 60
$runner "$prog" eval --model "$tmp/m.advc" --data $data "$@" --batch 32 \
    --json --no-checks >"$tmp/e.json" 2>/dev/null
$runner "$prog" attack --model "$tmp/m.advc" --data $data "$@" --batch 7 \
    --out "$tmp/a1" >"$tmp/a.txt" 2>/dev/null
acc_e=$(grep '"attack":"pgd"' "$tmp/e.json" | sed 's/.*"robust_acc":\([0-9.]*\).*/\1/')
right=$(sed -n 's/^adversarial accuracy .*(\([0-9]*\)\/60)$/\1/p' "$tmp/a.txt")
acc_a=$(awk -v r="$right" 'BEGIN { printf "%.4f", r / 60 }')
if [ -z "$right" ] || [ "$right" = 0 ] || [ "$acc_e" != "$acc_a" ]; then
    echo "cli: FAIL: eval PGD accuracy '$acc_e' != attack's '$acc_a'"
    fails=$((fails + 1))
fi

# --first I and --limit N cut a run into shards that add up to the whole
# (random starts keyed by each image's index in the whole split); the
# attacks' own --start S is another flag.
n=$((n + 1))
set -- --model "$tmp/m.advc" --data $data --attack pgd --eps 0.02 --steps 5 \
    --start random --json --no-checks
robust() { # ARGS...: the PGD robust count on the images ARGS select
    $runner "$prog" eval "$@" 2>/dev/null | grep '"attack":"pgd"' |
        sed 's/.*"n":\([0-9]*\).*"robust_acc":\([0-9.]*\).*/\1 \2/' |
        awk '{ printf "%d", $1 * $2 + 0.5 }'
}
whole=$(robust "$@" --limit 60)
parts=$(($(robust "$@" --limit 25) + $(robust "$@" --first 25 --limit 35)))
if [ -z "$whole" ] || [ "$whole" != "$parts" ]; then
    echo "cli: FAIL: eval --first shards give $parts robust, the whole run '$whole'"
    fails=$((fails + 1))
fi
expect 0 "" attack --model "$tmp/m.advc" --data $data --attack pgd \
    --start random --first 3 --limit 4 --out "$tmp/a2"
expect 2 "--first" eval --model "$tmp/m.advc" --data $data --first 1000

# advc help CMD is CMD's --help; std training holds out no guard images.
n=$((n + 1))
$runner "$prog" help eval >"$tmp/h1"
$runner "$prog" eval --help >"$tmp/h2"
if ! cmp -s "$tmp/h1" "$tmp/h2" || ! grep -q "apgd-t" "$tmp/h1"; then
    echo "cli: FAIL: advc help eval differs from advc eval --help"
    fails=$((fails + 1))
fi
n=$((n + 1))
if ! grep -q "guard: off" "$tmp/train.err"; then
    echo "cli: FAIL: standard training did not say its guard is off"
    fails=$((fails + 1))
fi

# The man page comes from the same rows: every command has its section.
n=$((n + 1))
$runner "$prog" help --man >"$tmp/advc.1"
for c in train eval attack probe plot info import export; do
    if ! grep -q "^\.SS \"advc $c\"" "$tmp/advc.1"; then
        echo "cli: FAIL: the man page has no section for $c"
        fails=$((fails + 1))
    fi
done

# A checkpoint remembers its data: other test data draw a warning.
mkdir "$tmp/other"
cp $data/* "$tmp/other/"
lab=$(ls "$tmp/other" | grep '^t10k-labels')
printf '\011' | dd of="$tmp/other/$lab" bs=1 seek=8 conv=notrunc 2>/dev/null
n=$((n + 1))
$runner "$prog" eval --model "$tmp/m.advc" --data "$tmp/other" >"$tmp/out" \
    2>"$tmp/err"
if [ $? != 0 ] || ! grep -q "warning: .* differs" "$tmp/err"; then
    echo "cli: FAIL: eval on other data: no warning: $(cat "$tmp/err")"
    fails=$((fails + 1))
fi

# PyTorch archives: export, import back, export again: the same bytes.
expect 0 "" export --model "$tmp/m.advc" --npz "$tmp/m.npz"
expect 0 "" import --npz "$tmp/m.npz" --model linear --out "$tmp/i.advc"
expect 0 "" export --model "$tmp/i.advc" --npz "$tmp/i.npz"
if ! cmp -s "$tmp/m.npz" "$tmp/i.npz"; then
    echo "cli: FAIL: export -> import -> export changed the archive"
    fails=$((fails + 1))
fi
expect 0 "" import --model resnet:depth=8 --list
if ! grep -q "^stem.bn.num_batches_tracked  *<i8  ()" "$tmp/out"; then
    echo "cli: FAIL: import --list does not show the batch-norm counter"
    fails=$((fails + 1))
fi
expect 2 "--bogus" import --bogus
expect 2 "--bogus" export --bogus
expect 2 "--model" import --npz "$tmp/m.npz" --out "$tmp/x.advc"
expect 2 "--out" import --npz "$tmp/m.npz" --model linear
expect 2 "--npz" export --model "$tmp/m.advc"
expect 2 "--input" import --model linear --list --input 1x28
expect 2 "--classes" import --model linear --list --classes 0
expect 2 "--act" import --npz "$tmp/m.npz" --model linear --act nosuch --out "$tmp/x.advc"
expect 2 "unknown model 'nosuch'" import --npz "$tmp/m.npz" --model nosuch --out "$tmp/x.advc"

# --augment: MNIST-like data default to none, CIFAR-10 to crop-flip (the
# header and the checkpoint say which); a bad value is refused.
expect 2 "--augment" train --data $data --model linear --augment flip
if ! grep -q "augment=none" "$tmp/train.err"; then
    echo "cli: FAIL: MNIST training did not run with augment=none"
    fails=$((fails + 1))
fi
# CIFAR-10 batches of 6 records each: a label byte, then 3072 pixel bytes.
mkdir "$tmp/cifar"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 \
    test_batch; do
    for r in 0 1 2 3 4 5; do
        printf "\\00$r"
        head -c 3072 /dev/zero | tr '\000' "\\1$r$r"
    done >"$tmp/cifar/$f.bin"
done
expect 0 "" train --data "$tmp/cifar" --model linear --batch 10 \
    --out "$tmp/c.advc"
if ! grep -q "augment=crop-flip" "$tmp/err"; then
    echo "cli: FAIL: CIFAR-10 training did not default to crop-flip"
    fails=$((fails + 1))
fi
expect 0 "" info "$tmp/c.advc"
if ! grep -q "augment=crop-flip" "$tmp/out"; then
    echo "cli: FAIL: the checkpoint does not record augment=crop-flip"
    fails=$((fails + 1))
fi

# Resume: interrupted at a fixed point (ADVC_TEST_SIGNAL_AT sends SIGINT
# there) and by a real SIGTERM at whatever moment it lands, each run
# resumed with --resume ends with the checkpoint of the run never
# interrupted, byte for byte.  Other flags on resume are refused.
# interrupted CODE FILE: the run exited CODE, its last line says so.
interrupted() {
    n=$((n + 1))
    if [ "$1" != "$2" ] || ! tail -n 1 "$3" | grep -q "interrupted (SIG.*--resume"; then
        echo "cli: FAIL: interrupted run exited $1 (want $2): $(tail -n 1 "$3")"
        fails=$((fails + 1))
    fi
}
# same A B: the two checkpoints are the same bytes.
same() {
    n=$((n + 1))
    if ! cmp -s "$1" "$2"; then
        echo "cli: FAIL: resumed checkpoint $2 differs from $1"
        fails=$((fails + 1))
    fi
}
set -- --data $data --model cnn-small --recipe fgsm-rs --epochs 3 \
    --limit 300 --batch 50 --threads 2 --seed 3
expect 0 "" train "$@" --out "$tmp/r0.advc"
ADVC_TEST_SIGNAL_AT=2:3 $runner "$prog" train "$@" --out "$tmp/r1.advc" \
    --log "$tmp/r1.csv" >/dev/null 2>"$tmp/err"
interrupted $? 130 "$tmp/err"
expect 2 "--lr" train "$@" --out "$tmp/r1.advc" --resume --lr 0.01
expect 2 "--model" train "$@" --out "$tmp/r1.advc" --resume --model linear
expect 1 "r9.advc.resume" train "$@" --out "$tmp/r9.advc" --resume
expect 0 "" train "$@" --out "$tmp/r1.advc" --log "$tmp/r1.csv" --resume
same "$tmp/r0.advc" "$tmp/r1.advc"
n=$((n + 1))
if [ "$(cut -d, -f1 "$tmp/r1.csv" | tr '\n' ' ')" != "epoch 1 2 3 " ]; then
    echo "cli: FAIL: the resumed log is not one line per epoch: $(cat "$tmp/r1.csv")"
    fails=$((fails + 1))
fi
set -- --data $data --model cnn-small --recipe pgd --steps 3 --epochs 4 \
    --limit 500 --batch 50 --threads 2 --seed 3
expect 0 "" train "$@" --out "$tmp/s0.advc"
rm -f "$tmp/bg.err"
$runner "$prog" train "$@" --out "$tmp/s1.advc" >/dev/null 2>"$tmp/bg.err" &
pid=$!
# The signal goes once the first epoch is reported (the handler is set).
while kill -0 $pid 2>/dev/null && ! grep -q "^epoch 1/4" "$tmp/bg.err"; do
    sleep 0.05
done
kill -TERM $pid
wait $pid
interrupted $? 143 "$tmp/bg.err"
expect 0 "" train "$@" --out "$tmp/s1.advc" --resume
same "$tmp/s0.advc" "$tmp/s1.advc"

# Bad files: exit 1, one line naming the file.
expect 1 "$tmp/none.npz" import --npz "$tmp/none.npz" --model linear --out "$tmp/x.advc"
expect 1 "$tmp/none.advc" export --model "$tmp/none.advc" --npz "$tmp/x.npz"
head -c 3000 "$tmp/m.npz" >"$tmp/cut.npz"
expect 1 "$tmp/cut.npz: truncated inside tensor 'fc.weight'" import --npz "$tmp/cut.npz" --model linear --out "$tmp/x.advc"
expect 1 "$tmp/m.npz: tensor 'fc1.weight' is missing" import --npz "$tmp/m.npz" --model mlp --out "$tmp/x.advc"
expect 1 "$tmp/m.npz: tensor 'fc.weight' has shape (10, 784), model 'linear' needs (7, 784)" \
    import --npz "$tmp/m.npz" --model linear --classes 7 --out "$tmp/x.advc"
if [ -e "$tmp/x.advc" ]; then
    echo "cli: FAIL: a refused import left a model file"
    fails=$((fails + 1))
fi
expect 1 "$tmp/none.advc" eval --model "$tmp/none.advc" --data $data
head -c 100 "$tmp/m.advc" >"$tmp/cut.advc"
expect 1 "$tmp/cut.advc" info "$tmp/cut.advc"
printf 'not a checkpoint at all, just text\n' >"$tmp/text.advc"
expect 1 "$tmp/text.advc" info "$tmp/text.advc"
mkdir "$tmp/d"
cp $data/* "$tmp/d/"
img=$(ls "$tmp/d" | grep '^train-images')
head -c 5000 "$data/$img" >"$tmp/d/$img"
expect 1 "$img" train --data "$tmp/d" --model linear --out "$tmp/x.advc"

if [ $fails -ne 0 ]; then
    echo "cli: $fails of $n checks failed"
    exit 1
fi
echo "cli: $n checks passed"
