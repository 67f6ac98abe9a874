# bench/compare/torch_env.sh: how the timing scripts run PyTorch (sourced,
# not run; needs NAME set to the calling script's name for its messages).
#
# PY           Debian's python3-torch lives with /usr/bin/python3 (a pyenv
#              shim may shadow it); PYTHON overrides.
# torch_env T CMD...
#              CMD with every thread pool PyTorch may use pinned to T
#              threads.  Debian's torch calls OpenBLAS (libblas.so.3) for
#              its BLAS work, and OpenBLAS starts one thread per CPU
#              whatever torch.set_num_threads says: unpinned, a "1-thread"
#              PyTorch run kept both cores busy.
# need_torch   stops the script (exit 0, "skipping") when PyTorch is not
#              installed, and with exit 1 when torch's BLAS is not
#              OpenBLAS.  Debian's torch is built with BLAS_INFO=generic:
#              it takes whatever libblas.so.3 the alternatives system
#              points at, and without libopenblas0 that is the netlib
#              reference BLAS, which made the reference AutoAttack 4.6x
#              slower on cnn-small (261 s against 57 s, 200 images, one
#              thread, 2026-12-07) and any ratio against it meaningless.
# torch_blas   the BLAS library torch loads, as a path.

PY=${PYTHON:-/usr/bin/python3}

torch_env() {
    tn=$1
    shift
    OMP_NUM_THREADS=$tn OPENBLAS_NUM_THREADS=$tn MKL_NUM_THREADS=$tn "$@"
}

torch_blas() {
    "$PY" -c 'import torch
torch.mm(torch.ones(2, 2), torch.ones(2, 2))
print(open("/proc/self/maps").read())' 2>/dev/null |
        grep -o '/[^ ]*/lib[a-z]*blas[^ /]*\.so[^ ]*' | sort -u | tr '\n' ' '
}

need_torch() {
    if ! "$PY" -c 'import torch' 2>/dev/null; then
        echo "$NAME: PyTorch is not installed (apt-get install python3-torch); skipping" >&2
        exit 0
    fi
    blas=$(torch_blas)
    case $blas in
    *openblas*) ;;
    *)
        echo "$NAME: PyTorch's BLAS is ${blas:-unknown}, not OpenBLAS: timings against it would be unfair (apt-get install libopenblas0)" >&2
        exit 1
        ;;
    esac
}
