#!/bin/sh
# bench/repro/run.sh [PAPER...]: make reproduce.  Runs each paper's script
# (bench/repro/<paper>.sh) at BUDGET (quick: each paper in about 15
# minutes on two cores; full: hours), fetching the data first.  Without
# arguments, every paper.  Results: bench/repro/results/<paper>.md.
set -eu
PAPERS=${*:-goodfellow2015 madry2018 wong2020 xie2020 chen2022 fastat}
sh data/fetch.sh
for p in $PAPERS; do
    if [ ! -f "bench/repro/$p.sh" ]; then
        echo "reproduce: no paper '$p' (bench/repro/*.sh: $(ls bench/repro/ |
            sed -n 's/\.sh$//p' | grep -v -e '^lib$' -e '^run$' | tr '\n' ' '))" >&2
        exit 2
    fi
    sh "bench/repro/$p.sh"
done
