#!/bin/sh
# train-vs-torch.sh [reps]: advc against PyTorch (CPU) on standard training
# of `cnn` and `resnet`, batch 128, 1 and 2 threads, measured in one run.
# Prints both key=value lines and a ratio line per case.  Needs Debian's
# python3-torch (installed only for this comparison; advc never uses it).
set -eu
cd "$(dirname "$0")/../.."
reps=${1:-5}
# Debian's python3-torch lives with /usr/bin/python3 (a pyenv shim may shadow it).
PY=${PYTHON:-/usr/bin/python3}
# torch_env T CMD...: CMD with every thread pool PyTorch may use pinned to T
# threads.  Debian's torch calls OpenBLAS (libblas.so.3) for its BLAS work,
# and OpenBLAS starts one thread per CPU whatever torch.set_num_threads
# says: unpinned, a "1-thread" PyTorch run kept both cores busy
# (train_torch.py and adv_torch.py print cores_used= to show it).
torch_env() { tn=$1; shift; OMP_NUM_THREADS=$tn OPENBLAS_NUM_THREADS=$tn MKL_NUM_THREADS=$tn "$@"; }
if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "train-vs-torch: PyTorch is not installed (apt-get install python3-torch); skipping" >&2
    exit 0
fi
make -s build/advc-bench
for model in cnn resnet; do
    for t in 1 2; do
        a=$(build/advc-bench train --model "$model" --threads "$t" --reps "$reps" | grep '^bench=train')
        p=$(torch_env "$t" "$PY" bench/compare/train_torch.py --model "$model" --threads "$t" --reps "$reps")
        echo "$a"
        echo "$p"
        ai=$(echo "$a" | sed 's/.*img_per_s=\([0-9.]*\).*/\1/')
        pi=$(echo "$p" | sed 's/.*img_per_s=\([0-9.]*\).*/\1/')
        am=$(echo "$a" | sed 's/.*max_rss_mb=\([0-9.]*\).*/\1/')
        pm=$(echo "$p" | sed 's/.*max_rss_mb=\([0-9.]*\).*/\1/')
        pc=$(echo "$p" | sed -n 's/.*cores_used=\([0-9.]*\).*/\1/p')
        echo "compare=train model=$model threads=$t advc_img_per_s=$ai torch_img_per_s=$pi speedup=$(echo "$ai $pi" | awk '{printf "%.2f", $1/$2}') advc_rss_mb=$am torch_rss_mb=$pm torch_cores_used=$pc"
    done
done
