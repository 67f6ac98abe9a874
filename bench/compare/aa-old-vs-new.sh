#!/bin/sh
# aa-old-vs-new.sh OLD NEW MODEL DATA EPS N: the speed of two advc builds
# (OLD and NEW: paths of their advc binaries, e.g. a checkout of main
# built in /tmp and this one) on `eval --attack SET` for each SET in SETS
# (default "square aa"; any attack or suite name), on the same model and
# the same first N test images, interleaved (old, new, old, new, ...) so
# that both see the same load.
#
#   sh bench/compare/aa-old-vs-new.sh /tmp/main/build/advc build/advc \
#       m.advc data/mnist 0.3 500
#
# For each thread count in THREADS (default "1 2") and REPS repetitions
# (default 3) it runs both builds on both attack sets and prints one run=
# line per run: the
# process's wall time and, for aa, the attacks' own seconds (from --json;
# eval reports no time for an attack run alone).  Then a median= line per
# (set, threads) with both builds' median wall times and old / new.  Every run's robust accuracies must equal the first run's of
# the same set and thread count, whichever build (the change is meant to
# keep the bits): otherwise the script says FAIL and exits 1.  The FMA
# peak (advc-bench peak, one core, of NEW's build folder) is printed
# before and after.  On a shared machine run the whole script under
# `flock /work/cpu.lock` (one lock for all runs: taking it per run let
# other jobs in between and into the timings).
set -eu
if [ $# -ne 6 ]; then
    echo "usage: aa-old-vs-new.sh OLD NEW MODEL DATA EPS N" >&2
    exit 2
fi
old=$1 new=$2 model=$3 data=$4 eps=$5 n=$6
THREADS=${THREADS:-"1 2"}
SETS=${SETS:-"square aa"}
REPS=${REPS:-3}
for b in "$old" "$new"; do
    [ -x "$b" ] || { echo "aa-old-vs-new: $b: not an executable" >&2; exit 1; }
done
[ -f "$model" ] || { echo "aa-old-vs-new: $model: no such model file" >&2; exit 1; }
bench=$(dirname "$new")/advc-bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

peak() { [ -x "$bench" ] && "$bench" peak --threads 1 | grep 'width=512\|width=256' | sed 's/^/peak: /' || true; }
now() { date +%s.%N; }

# one BUILD-NAME BINARY SET THREADS: one run; prints its run= line and
# leaves the accuracies in $tmp/acc.
one() {
    t0=$(now)
    "$2" eval --model "$model" --data "$data" --attack "$3" --eps "$eps" \
        --limit "$n" --threads "$4" --seed 1 --json --no-checks >"$tmp/out"
    t1=$(now)
    secs=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$tmp/out" |
           awk '{s += $1} END {printf "%.2f", s}')
    sed -n 's/.*"attack":"\([^"]*\)".*"robust_acc":\([0-9.]*\).*/\1=\2/p' \
        "$tmp/out" | tr '\n' ' ' >"$tmp/acc"
    wall=$(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}')
    echo "run= build=$1 set=$3 threads=$4 attack_s=$secs wall_s=$wall acc: $(cat "$tmp/acc")"
    echo "$wall" >>"$tmp/$1.$3.$4"
}

median() { sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), family $(sed -n 's/^cpu family[^:]*: //p' /proc/cpuinfo | head -n 1)"
peak
status=0
for t in $THREADS; do
    for set in $SETS; do
        ref=""
        r=1
        while [ "$r" -le "$REPS" ]; do
            for b in old new; do
                bin=$old
                [ "$b" = new ] && bin=$new
                one "$b" "$bin" "$set" "$t"
                if [ -z "$ref" ]; then
                    ref=$(cat "$tmp/acc")
                elif [ "$(cat "$tmp/acc")" != "$ref" ]; then
                    echo "FAIL: $b $set threads=$t: accuracies differ from the first run ($ref)"
                    status=1
                fi
            done
            r=$((r + 1))
        done
        mo=$(median "$tmp/old.$set.$t") mn=$(median "$tmp/new.$set.$t")
        echo "median= set=$set threads=$t n=$n reps=$REPS old_s=$mo new_s=$mn old/new=$(echo "$mo $mn" | awk '{printf "%.2f", $1 / $2}')"
    done
done
peak
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$status" -eq 0 ] && echo "status=PASS" || echo "status=FAIL"
exit "$status"
