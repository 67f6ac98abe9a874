#!/bin/sh
# tests/fuzz/run.sh SECONDS BUILD TARGET...: runs each libFuzzer target
# BUILD/fuzz_TARGET for SECONDS on the committed seeds in
# tests/fuzz/corpus/TARGET/ (read only) plus a working corpus in
# BUILD/corpus/TARGET/ (what it learns, kept between runs), with
# tests/fuzz/TARGET.dict when there is one.  Prints libFuzzer's own final
# summary per target; on a crash prints the report, leaves the input in
# BUILD/crash-TARGET-*, and exits 1.  `make fuzz` calls it.  FUZZ_RUNS
# (environment; default -1, no limit) also stops each target after that
# many executions, for the long runs in bench/RESULTS.md.
set -u
secs=$1 build=$2
shift 2
fails=0
for t in "$@"; do
    mkdir -p "$build/corpus/$t"
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    log="$build/fuzz_$t.log"
    echo "== fuzz $t (${secs}s)"
    # rss_limit: a reader may not need more than 2 GB for any input;
    # max_len: big enough for two CIFAR records and small checkpoints.
    if "$build/fuzz_$t" "$build/corpus/$t" "tests/fuzz/corpus/$t" $dict \
        -max_total_time="$secs" -runs="${FUZZ_RUNS:--1}" -max_len=16384 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/crash-$t-" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::(number_of_executed_units|peak_rss_mb)' "$log"
    else
        echo "fuzz $t: FAILED; the report (full log: $log):"
        grep -A 30 -E '^==[0-9]+==ERROR|runtime error|^SUMMARY|deadly signal|out-of-memory|timeout' "$log" | head -n 60
        fails=$((fails + 1))
    fi
done
if [ $fails -ne 0 ]; then
    echo "fuzz: $fails target(s) failed"
    exit 1
fi
echo "fuzz: $# targets ran ${secs}s each without a failure"
