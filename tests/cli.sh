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
    --batch 100 --guard-batch 0 --threads 1 --out "$tmp/m.advc"
expect 0 "" info "$tmp/m.advc"
if ! grep -q "init=uniform" "$tmp/out"; then
    echo "cli: FAIL: advc info does not show init=uniform"
    fails=$((fails + 1))
fi
expect 2 "--attack" eval --model "$tmp/m.advc" --data $data --attack nosuch
expect 2 "--eps" eval --model "$tmp/m.advc" --data $data --attack pgd --eps -1

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
