# bench/repro/lib.sh: what the paper scripts share (sourced, not run).
#
# A paper script sets PAPER, calls paper_begin, runs advc commands through
# `run` (which echoes each command, so the log reads as a recipe anyone can
# copy), collects numbers with json_get / stats, writes one table row per
# claim with `claim`, and ends with paper_end.  Models and logs go to
# build/repro/$PAPER/ (build artefacts, never committed); the results --
# $PAPER.md, $PAPER.csv and the SVG figures -- go to bench/repro/results/.
#
# Run records: every finished training run and evaluation also leaves its
# small files (training log, stderr, wall seconds, the exact arguments,
# which commit and machine made it; the evaluation's JSON) in
# bench/repro/runs/$BUDGET/$PAPER/, which is committed.  On a machine
# without the models (a fresh clone), a run whose record holds the same
# arguments is not redone: its numbers come from the record, and a model a
# later command needs is retrained from the recorded arguments (same seed
# and threads give the same bits; the new log is checked against the
# record).  Delete a record to redo its run.
#
# Environment: BUDGET=quick|full (default quick), ADVC (default
# build/advc), THREADS (default 2), NICE (default 10: experiments yield to
# benchmarks on a shared machine; set 0 for timing runs), RUN_NOTE (a line
# for the results file saying how the run was made, e.g. in stages),
# PARTIAL=1 (the results go to build/repro/$PAPER/results/ instead of
# bench/repro/results/: a piece of a long study, run to make its records,
# must not replace the committed results file), REPRO_WORK and
# REPRO_RUNS (default build/repro and bench/repro/runs: where the models
# and the records go; the tests point them at a temporary folder).

ADVC=${ADVC:-build/advc}
BUDGET=${BUDGET:-quick}
THREADS=${THREADS:-2}
NICE=${NICE:-10}
RESULTS=bench/repro/results
case "$BUDGET" in
quick | full) ;;
*) echo "repro: BUDGET must be quick or full (got '$BUDGET')" >&2; exit 2 ;;
esac

# The data: MNIST and Fashion-MNIST from `make data`, else stop with why.
need_data() {
    for d in "$@"; do
        if [ ! -f "data/$d/t10k-labels-idx1-ubyte" ]; then
            echo "repro: data/$d is missing: run 'make data' first" >&2
            exit 1
        fi
    done
}

# paper_begin NAME "full reference"
paper_begin() {
    PAPER=$1
    PAPER_REF=$2
    WORK=${REPRO_WORK:-build/repro}/$PAPER
    [ "${PARTIAL:-0}" = 0 ] || RESULTS=$WORK/results
    mkdir -p "$WORK" "$RESULTS"
    T0=$(date +%s)
    : >"$WORK/commands.txt"
    : >"$WORK/rows.md"
    CSV=$RESULTS/$PAPER.csv
    RECORDS=${REPRO_RUNS:-bench/repro/runs}/$BUDGET/$PAPER
    echo "paper,claim,setting,seed,metric,value" >"$CSV"
    echo "== $PAPER ($BUDGET budget): $PAPER_REF"
}

# run CMD ARGS...: runs build/advc (or any command) at low priority, the
# command line kept for the results file.  stdout goes to the caller.
run() {
    echo "$*" >>"$WORK/commands.txt"
    echo "+ $*" >&2
    nice -n "$NICE" "$@"
}

# record_of FILE: where FILE's record lives (FILE is under $WORK).
record_of() { echo "$RECORDS/${1#"$WORK"/}"; }

# The small files of a training run OUT (its log, stderr, wall seconds,
# arguments, maker: OUT.csv ...) and of an evaluation OUT.json (the JSON
# itself, "self", and the same companions).
RUN_FILES=".csv .err .done .args .made"
EVAL_FILES="self .err .secs .args .made"

# suffixed FILE X: FILE followed by the suffix X (self: FILE itself).
suffixed() { if [ "$2" = self ]; then echo "$1"; else echo "$1$2"; fi; }

# keep OUT SUFFIXES: copies OUT's small files to its record.
keep() {
    kp_rec=$(record_of "$1")
    mkdir -p "$(dirname "$kp_rec")"
    for kp_x in $2; do
        kp_file=$(suffixed "$1" $kp_x)
        [ ! -f "$kp_file" ] || cp "$kp_file" "$(suffixed "$kp_rec" $kp_x)"
    done
}

# args_key ARGS...: a run's arguments as its .args file keeps them, the
# work folder's path written @WORK, so that a record made in one folder
# (REPRO_WORK) serves a run in any other.  args_expand FILE: the other way.
args_key() { echo "$*" | swap_text "$WORK/" "@WORK/"; }
args_expand() { swap_text "@WORK/" "$WORK/" <"$1"; }

# swap_text FROM TO: stdin with every FROM replaced by TO (plain text, not
# patterns: a path may hold any character).
swap_text() {
    awk -v a="$1" -v b="$2" '{ o = ""
        while ((i = index($0, a)) > 0) {
            o = o substr($0, 1, i - 1) b; $0 = substr($0, i + length(a)) }
        print o $0 }'
}

# from_record OUT SUFFIXES ARGS...: "yes" after restoring OUT's small
# files from its record when the record was made with these very ARGS,
# else "no".
from_record() {
    out=$1 xs=$2
    shift 2
    r=$(record_of "$out")
    if same_args "$r" "$@"; then
        for x in $xs; do
            f=$(suffixed "$r" $x)
            [ ! -f "$f" ] || cp "$f" "$(suffixed "$out" $x)"
        done
        echo yes
    else
        echo no
    fi
}

# same_args OUT ARGS...: was OUT (a model or an evaluation, in $WORK or
# its record) made with these ARGS?  Its .args file says, written beside
# it when it was made.
same_args() {
    sa_out=$1
    shift
    [ -f "$sa_out.args" ] && [ "$(cat "$sa_out.args")" = "$(args_key "$@")" ]
}

# forget_evals OUT DIR: deletes every evaluation under DIR (its JSON and
# companions) whose arguments name the model OUT: they were made from an
# earlier model of that name.
forget_evals() {
    for fe_a in $(find "$2" -name '*.json.args' 2>/dev/null); do
        if model_files $(args_expand "$fe_a") | grep -qxF -- "$1"; then
            fe_j=${fe_a%.args}
            echo "repro: $fe_j was made from an earlier $1: made again" >&2
            for fe_x in $EVAL_FILES; do rm -f "$(suffixed "$fe_j" $fe_x)"; done
        fi
    done
}

# made_by: the commit, CPU family and date a run was made with.
made_by() {
    echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +changes)," \
        "cpu family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
        "$(date -u '+%Y-%m-%d %H:%M UTC')"
}

# Variables: sh has no locals, so the functions a paper script calls
# directly name theirs with a prefix (tr_, ej_, es_, kp_, nm, nms_, fe_,
# sa_): a script's own loop variable (goodfellow2015.sh's m) must survive
# a call.  The ones called in $(...) run in a subshell and may use plain
# names.

# train OUT ARGS...: advc train with the common flags; skips the run when
# OUT was made already with these very ARGS and its log shows it finished
# (resume a stopped script by running it again), or when its record holds
# the same ARGS (then OUT itself is made only if a later command needs it:
# need_model).  A file made with other ARGS (the other budget's model of
# the same name, say) is made again.
train() {
    tr_out=$1
    shift
    if [ -f "$tr_out.done" ] && { [ -f "$tr_out" ] || [ -f "$tr_out.args" ]; } &&
        same_args "$tr_out" --threads "$THREADS" "$@"; then
        echo "$ADVC train --threads $THREADS --out $tr_out --log $tr_out.csv $*" \
            "   # reused" >>"$WORK/commands.txt"
        return 0
    fi
    # What is here of a model of this name was made with other ARGS (the
    # other budget's, say) or did not finish: it goes, and the evaluations
    # made from it.
    [ ! -f "$tr_out.args" ] || forget_evals "$tr_out" "$WORK"
    rm -f "$tr_out"
    if [ "$(from_record "$tr_out" "$RUN_FILES" --threads "$THREADS" "$@")" = yes ]; then
        echo "$ADVC train --threads $THREADS --out $tr_out --log $tr_out.csv $*" \
            "   # from its record ($(cat "$tr_out.made"))" >>"$WORK/commands.txt"
        return 0
    fi
    # Trained anew: the recorded evaluations of an earlier model of this
    # name (its record deleted to redo it, or made with other ARGS) go too.
    forget_evals "$tr_out" "$RECORDS"
    tr_t0=$(date +%s)
    run "$ADVC" train --threads "$THREADS" --out "$tr_out" --log "$tr_out.csv" "$@" \
        2>"$tr_out.err" || { tail -n 3 "$tr_out.err" >&2; return 1; }
    echo $(($(date +%s) - tr_t0)) >"$tr_out.done"
    args_key --threads "$THREADS" "$@" >"$tr_out.args"
    made_by >"$tr_out.made"
    keep "$tr_out" "$RUN_FILES"
}

# log_no_seconds LOG.csv: a training log without its seconds column.
log_no_seconds() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i }
        { s = ""; for (i = 1; i <= NF; i++) if (i != c) s = s $i ","; print s }' "$1"
}

# need_model M: makes sure the model file M exists: a model known only
# from its record is retrained with the recorded arguments, and its new
# log must match the record's in every column but the seconds.
need_model() {
    nm=$1
    [ ! -f "$nm" ] || return 0
    [ -f "$nm.args" ] || { echo "repro: $nm is missing and has no record" >&2; return 1; }
    echo "repro: retraining $nm from its record" >&2
    run "$ADVC" train --out "$nm" --log "$nm.retrain.csv" $(args_expand "$nm.args") \
        2>"$nm.retrain.err" || { tail -n 3 "$nm.retrain.err" >&2; return 1; }
    if [ "$(log_no_seconds "$nm.csv")" != "$(log_no_seconds "$nm.retrain.csv")" ]; then
        echo "repro: $nm retrained from its record does not match it (see $nm.retrain.csv); delete its record to redo its runs" >&2
        return 1
    fi
}

# model_files ARGS...: the model files an advc command's ARGS name with
# --model or --transfer-from (comma lists too), one a line.
model_files() {
    while [ $# -gt 1 ]; do
        case $1 in
        --model | --transfer-from) echo "$2" | tr ',' '\n' ;;
        esac
        shift
    done
}

# need_models ARGS...: need_model for every model file ARGS name.
need_models() {
    for nms_f in $(model_files "$@"); do need_model "$nms_f" || return 1; done
}

# train_seconds OUT: the wall time the training run of OUT took (from its
# log's per-epoch seconds, so reused models report their real cost).
train_seconds() {
    awk -F, 'NR > 1 { s += $9 } END { printf "%.0f", s }' "$1.csv"
}

# epoch_seconds OUT: its mean training time per epoch (a run the guard
# stopped early is compared fairly with one that ran to the end).
epoch_seconds() {
    awk -F, 'NR > 1 { s += $9; n++ } END { printf "%.1f", n ? s / n : 0 }' \
        "$1.csv"
}

# evaljson OUT.json ARGS...: advc eval --json, cached like train (in
# $WORK, else in its record).
evaljson() {
    ej_out=$1
    shift
    if { [ -s "$ej_out" ] && same_args "$ej_out" --threads "$THREADS" "$@"; } ||
        [ "$(from_record "$ej_out" "$EVAL_FILES" --threads "$THREADS" "$@")" = yes ]; then
        echo "$ADVC eval --threads $THREADS --json $*   # reused" \
            >>"$WORK/commands.txt"
        return 0
    fi
    need_models "$@" || return 1
    ej_t0=$(date +%s)
    run "$ADVC" eval --threads "$THREADS" --json "$@" >"$ej_out.tmp" 2>"$ej_out.err" &&
        mv "$ej_out.tmp" "$ej_out" || { tail -n 3 "$ej_out.err" >&2; return 1; }
    echo $(($(date +%s) - ej_t0)) >"$ej_out.secs"
    args_key --threads "$THREADS" "$@" >"$ej_out.args"
    made_by >"$ej_out.made"
    keep "$ej_out" "$EVAL_FILES"
}

# evalshards OUT.json TOTAL SIZE ARGS...: evaljson over the first TOTAL
# test images in shards of SIZE (advc eval --first I --limit SIZE, each a
# record of its own, so a long evaluation can be finished over several
# sessions), then OUT.json as one run over all TOTAL would write it: per
# exit and attack, n summed, clean_acc, robust_acc and seconds combined
# (advc keys random streams by each image's index in the whole split, so
# the counts are the whole run's), AutoAttack's square_gain as robust_acc;
# fooled_conf is left out, and each shard's masking-check lines are kept
# as they are.
evalshards() {
    # (es_ names: sh has no locals; see the note above train.)
    es_out=$1 es_total=$2 es_size=$3
    shift 3
    es_files=""
    es_i=0
    while [ "$es_i" -lt "$es_total" ]; do
        es_k=$((es_total - es_i < es_size ? es_total - es_i : es_size))
        evaljson "$es_out.first$es_i.json" "$@" --first "$es_i" \
            --limit "$es_k" || return 1
        es_files="$es_files $es_out.first$es_i.json"
        es_i=$((es_i + es_k))
    done
    # A line's figures: n and seconds are summed over the shards, the
    # SHARES (fractions of the images) are weighted by n, first and
    # fooled_conf are dropped; the rest (exit, attack, settings) names it.
    awk -v shards="$(echo $es_files | wc -w)" '
        BEGIN { nsh = split("clean_acc robust_acc square_gain", share, " ") }
        function has(key) { return index($0, "\"" key "\":") > 0 }
        function num(key,   m) {
            match($0, "\"" key "\":[-0-9.e]+")
            m = substr($0, RSTART, RLENGTH); sub(/^[^:]*:/, "", m); return m + 0 }
        function drop(s, key) { sub(",\"" key "\":[-0-9.e]+", "", s); return s }
        /"check":/ { checks[++nc] = $0; next }
        /"clean_acc":/ {
            line = drop(drop($0, "first"), "fooled_conf")
            key = drop(drop(line, "n"), "seconds")
            for (i = 1; i <= nsh; i++) key = drop(key, share[i])
            if (!(key in n)) { order[++nk] = key; tmpl[key] = line }
            w = num("n"); n[key] += w
            for (i = 1; i <= nsh; i++) if (has(share[i])) sum[key, i] += w * num(share[i])
            if (has("seconds")) secs[key] += num("seconds")
        }
        END {
            for (j = 1; j <= nk; j++) {
                k = order[j]; l = tmpl[k]
                sub(/"n":[0-9]+/, "\"n\":" n[k], l)
                for (i = 1; i <= nsh; i++)
                    sub("\"" share[i] "\":[-0-9.e]+", sprintf("\"%s\":%.4f", share[i], sum[k, i] / n[k]), l)
                sub(/"seconds":[0-9.e]+/, sprintf("\"seconds\":%.3f", secs[k]), l)
                sub(/}$/, ",\"shards\":" shards "}", l)
                print l
            }
            for (j = 1; j <= nc; j++) print checks[j]
        }' $es_files >"$es_out"
}

# json_get FILE KEY [MATCH]: the value of KEY on the first line of FILE
# containing MATCH (e.g. '"attack":"fgsm"' or '"exit":"final"').
json_get() {
    grep -F -- "${3:-}" "$1" | head -n 1 |
        sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}

# masking FILE.json: the gradient-masking checks of an advc eval --json
# run: "pass", or "FLAGGED: " and the failed checks' names.
masking() {
    f=$(grep -F '"check":"gradient-masking"' "$1" | head -n 1 |
        sed -n 's/.*"failed":"\([^"]*\)".*/\1/p')
    p=$(json_get "$1" passed '"check":"gradient-masking"')
    if [ -z "$p" ]; then echo "not run"
    elif [ "$p" = true ]; then echo pass
    else echo "FLAGGED: $f"; fi
}

# collapsed OUT PGD: why the training run of OUT counts as collapsed, or
# nothing: its guard saw held-out PGD accuracy fall (catastrophic
# overfitting), or it never became robust (FGSM-only from the start), or
# its final PGD accuracy PGD (a [0,1] share) is under 20%.
collapsed() {
    why=$(sed -n 's/^advc train: catastrophic overfitting[^0-9]*at epoch \([0-9]*\).*/collapse at epoch \1/p' "$1.err" | head -n 1)
    [ -n "$why" ] || ! grep -q "never became robust" "$1.err" ||
        why="never robust (FGSM-only)"
    [ -n "$why" ] || [ "$(holds "$2 < 0.2")" = no ] ||
        why="below 20% under PGD"
    echo "$why"
}

# pct X: a [0,1] share as a percentage with one decimal.
pct() { awk -v v="$1" 'BEGIN { printf "%.1f", 100 * v }'; }

# stats V1 V2 ...: "mean ± std" (sample std; one value: just the value).
stats() {
    echo "$@" | awk '{ n = NF; s = 0; for (i = 1; i <= n; i++) s += $i;
        m = s / n; q = 0; for (i = 1; i <= n; i++) q += ($i - m) ^ 2;
        if (n > 1) printf "%.1f ± %.1f", m, sqrt(q / (n - 1));
        else printf "%.1f", m }'
}

# sd V1 V2 ...: the sample standard deviation (0 for one value).
sd() { echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; m = s / NF;
    q = 0; for (i = 1; i <= NF; i++) q += ($i - m) ^ 2;
    printf "%.2f", (NF > 1) ? sqrt(q / (NF - 1)) : 0 }'; }

# noise2 SD_A SD_B N: two standard errors of the difference of two means
# over N seeds each, the line a difference must clear to count.
noise2() { awk -v a="$1" -v b="$2" -v n="$3" \
    'BEGIN { printf "%.1f", 2 * sqrt((a * a + b * b) / n) }'; }

# mean V1 V2 ...
mean() { echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i;
    printf "%.2f", s / NF }'; }

# record CLAIM SETTING SEED METRIC VALUE: one raw row of the CSV.
record() { echo "$PAPER,$1,$2,$3,$4,$5" >>"$CSV"; }

# holds "AWK-CONDITION": "yes" when the condition holds on the numbers,
# else "no"; a claim's direction, tested, e.g. holds "$err >= 50".
holds() { awk "BEGIN { print (($1) ? \"yes\" : \"no\") }"; }

# verdict OURS PUBLISHED TOL_POINTS [TREND]: "reproduced" when OURS is
# within TOL points of PUBLISHED; otherwise "trend reproduced" when TREND
# (the claim's direction, from holds) is yes, else "not reproduced"; a miss
# carries its signed gap in points.
verdict() {
    awk -v a="$1" -v b="$2" -v t="$3" -v dir="${4:-no}" 'BEGIN {
        d = a - b; ad = d < 0 ? -d : d;
        if (ad <= t) { print "reproduced"; exit }
        printf "%s (%+.1f points)\n",
            dir == "yes" ? "trend reproduced" : "not reproduced", d }'
}

# claim "claim" "published" "ours" "verdict" "why": one row of the table.
claim() {
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" \
        >>"$WORK/rows.md"
}

# section "Title" "text": a new table in the results file.
section() {
    printf '\n## %s\n\n%s\n\n| claim | published | ours | verdict | why |\n|---|---|---|---|---|\n' \
        "$1" "$2" >>"$WORK/rows.md"
}

# section_plain "Title" "text": a heading and a paragraph, the caller writes
# its own table.
section_plain() {
    printf '\n## %s\n\n%s\n\n' "$1" "$2" >>"$WORK/rows.md"
}

# text "paragraph": free text between tables.
text() { printf '\n%s\n' "$1" >>"$WORK/rows.md"; }

# machine: CPU model, family and the SIMD flags that matter, one line.
machine() {
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    fam=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    flags=$(grep -m 1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
        grep -E '^(avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16)$' |
        tr '\n' ' ')
    echo "$(nproc) vCPUs, $model (family $fam; $flags), $(uname -m)," \
        "$("$ADVC" --version)"
}

# made_time: how long the training runs and evaluations behind this
# paper's figures took when they were made, reused or not (train's .done
# and evaljson's .secs files; evaluations made before .secs existed are
# counted as untimed).
made_time() {
    tr=$(cat "$WORK"/*.done 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s / 60 }')
    ev=$(cat "$WORK"/*.secs 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s / 60 }')
    nj=$(ls "$WORK"/*.json 2>/dev/null | wc -l)
    ns=$(ls "$WORK"/*.secs 2>/dev/null | wc -l)
    printf '%s min of training, %s min of evaluation' "$tr" "$ev"
    [ "$nj" -le "$ns" ] || printf ' (%d of %d evaluations untimed)' $((nj - ns)) "$nj"
}

# paper_end: the results file, with the command, budget, machine, date and
# wall time, the tables, and the commands that produced them.
paper_end() {
    secs=$(($(date +%s) - T0))
    md=$RESULTS/$PAPER.md
    {
        echo "# $PAPER: $PAPER_REF"
        echo
        echo "- **Command:** \`make reproduce PAPER=$PAPER BUDGET=$BUDGET\`" \
            "(bench/repro/$PAPER.sh)"
        echo "- **Budget:** $BUDGET. $BUDGET_NOTE"
        echo "- **Machine:** $(machine)"
        echo "- **Date:** $(date -u '+%Y-%m-%d %H:%M UTC'); wall time" \
            "of this run $((secs / 60)) min $((secs % 60)) s; the runs that" \
            "made the models and evaluations it shows took $(made_time)" \
            "(those found in $WORK are reused, not redone)."
        [ -z "${RUN_NOTE:-}" ] || echo "- **How this run was made:** $RUN_NOTE"
        echo "- **Raw numbers:** [$PAPER.csv]($PAPER.csv)."
        cat "$WORK/rows.md"
        echo
        echo "## Commands"
        echo
        echo "Every command this run executed, in order (\`$WORK/\`" \
            "holds the models and logs):"
        echo
        echo '```'
        cat "$WORK/commands.txt"
        echo '```'
    } >"$md"
    echo "== $PAPER: wrote $md ($((secs / 60)) min)"
    [ "${PARTIAL:-0}" = 0 ] ||
        echo "== $PAPER: a partial run (PARTIAL=1): its runs' records are in $RECORDS"
}
