#!/bin/sh
# tests/example.sh PROG EXAMPLE [RUNNER...]: the teaching example
# (src/examples/classify_attack.c) against the command line, run by
# `make test`.  Trains a small model on the committed MNIST sample with
# PROG, runs EXAMPLE on 200 test images at eps 0.1 and holds its counts
# (clean, FGSM, PGD-20) to advc eval's accuracies on the same images and
# settings.  Then compiles the example's calls as C++ (syntax and types
# only), when a C++ compiler is there.  RUNNER runs both programs on
# another ISA.
set -u
prog=$1
example=$2
shift 2
runner="$*"
data=data/mnist-sample
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "example: FAIL: $*"
    exit 1
}

$runner "$prog" train --data $data --model cnn-small --epochs 3 --batch 50 \
    --seed 1 --threads 1 --out "$tmp/m.advc" 2>"$tmp/err" ||
    fail "training the model: $(tail -n 1 "$tmp/err")"
$runner "$example" "$tmp/m.advc" $data 200 0.1 >"$tmp/out" 2>"$tmp/err" ||
    fail "the example exited $?: $(head -n 2 "$tmp/err")"
rows=$(grep -c '^ *[0-9]' "$tmp/out")
[ "$rows" = 200 ] || fail "the example printed $rows image lines, want 200"
last=$(tail -n 1 "$tmp/out")
set -- $(echo "$last" |
    sed -n 's/^accuracy of 200: clean \([0-9]*\), fgsm \([0-9]*\), pgd \([0-9]*\).*/\1 \2 \3/p')
[ $# = 3 ] || fail "no accuracy line: $last"

$runner "$prog" eval --model "$tmp/m.advc" --data $data --attack fgsm,pgd \
    --eps 0.1 --steps 20 --limit 200 --batch 100 --threads 1 --json \
    --no-checks >"$tmp/json" 2>"$tmp/err" ||
    fail "advc eval: $(tail -n 1 "$tmp/err")"
acc() { # acc ATTACK KEY: KEY of the JSON line of ATTACK
    grep "\"attack\":\"$1\"" "$tmp/json" | sed "s/.*\"$2\":\([0-9.]*\).*/\1/"
}
for k in "clean_acc fgsm $1" "robust_acc fgsm $2" "robust_acc pgd $3"; do
    set -- $k
    want=$(acc "$2" "$1")
    got=$(awk -v r="$3" 'BEGIN { printf "%.4f", r / 200 }')
    [ "$got" = "$want" ] ||
        fail "$2 $1: the example has $got, advc eval $want"
done
echo "example: $last; the same as advc eval"

cxx=${CXX:-c++}
if command -v "$cxx" >/dev/null 2>&1; then
    "$cxx" -std=c++11 -Wall -Wextra -Wpedantic -Iinclude -fsyntax-only \
        tests/example_calls.cpp || fail "the example's calls do not compile as C++"
    echo "example: its calls compile as C++ ($cxx -std=c++11)"
else
    echo "example: SKIP the C++ compile: no $cxx"
fi
