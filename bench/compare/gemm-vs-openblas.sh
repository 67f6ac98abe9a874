#!/bin/sh
# gemm-vs-openblas.sh: time advc_sgemm against OpenBLAS's cblas_sgemm on
# m = n = k = 512 and 1024 and the convolution shapes of `advc-bench conv`
# (NN, TN, NT each), 1 and 2 threads, one process per thread count, both
# libraries timed in the same process (ratios from one run).  Two rows:
#   avx512  advc's SIMD=avx512 build against OpenBLAS's own kernel choice
#           (every OPENBLAS_* variable but the thread count unset);
#           skipped, with a line saying so, when the CPU has no avx512f
#   avx2    advc's SIMD=avx2 build against OpenBLAS forced to its Haswell
#           (AVX2) kernels, OPENBLAS_CORETYPE=Haswell
# Each process first prints the kernel OpenBLAS chose (corename) and its
# configuration.  Runs only if libopenblas-dev is installed; never a
# dependency of the library, the tests or `make`.
#   sh bench/compare/gemm-vs-openblas.sh [REPS]      (from the repo root)
# Env: CC (default cc); ROWS (default "avx512 avx2"); THREADS (default
# "1 2").  Wrap it in `flock /work/cpu.lock` on a shared machine.
set -e
reps="${1:-7}"
CC="${CC:-cc}"
ROWS="${ROWS:-avx512 avx2}"
THREADS="${THREADS:-1 2}"

if pkg-config --exists openblas 2>/dev/null; then
    ob_cflags=$(pkg-config --cflags openblas)
    ob_libs=$(pkg-config --libs openblas)
elif ls -d /usr/include/x86_64-linux-gnu/openblas* >/dev/null 2>&1; then
    dir=$(ls -d /usr/include/x86_64-linux-gnu/openblas*/ | head -n 1)
    ob_cflags="-I$dir"
    ob_libs="-lopenblas"
else
    echo "gemm-vs-openblas: OpenBLAS not installed" \
         "(sudo apt-get install libopenblas-dev); skipping" >&2
    exit 0
fi

# The machine, as every results table must say.
echo "machine model=\"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo |
    head -n 1)\" family=$(sed -n 's/^cpu family[^:]*: //p' /proc/cpuinfo |
    head -n 1) flags=$(grep -m 1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
    grep -E '^(fma|avx2|avx512f|avx512bw|avx512vl|avx512dq)$' | paste -sd, -)" \
    "date=$(date -u +%Y-%m-%dT%H:%MZ)"

for row in $ROWS; do
    if [ "$row" = avx512 ] && ! grep -qw avx512f /proc/cpuinfo; then
        echo "SKIP avx512 row: this CPU has no avx512f"
        continue
    fi
    case "$row" in
    avx512) coretype= ;;            # OpenBLAS chooses by itself
    avx2) coretype=Haswell ;;       # OpenBLAS's AVX2 kernels
    *) echo "gemm-vs-openblas: unknown row '$row'" >&2; exit 2 ;;
    esac
    build="build/$row"
    make -s SIMD="$row" "$build/libadvc.a" >&2
    out="$build/compare"
    mkdir -p "$out"
    # The driver only: -O2 and no -ffast-math, like the library.
    $CC -O2 -std=c11 -march=native -pthread -D_POSIX_C_SOURCE=200809L \
        -Iinclude $ob_cflags bench/compare/gemm_openblas.c \
        "$build/libadvc.a" $ob_libs -lm -o "$out/gemm-openblas"
    # Only what is set here reaches OpenBLAS: any OPENBLAS_* setting from
    # the caller's environment (a forced core type, a cache size) is
    # dropped, so the avx512 row really is OpenBLAS's own choice.
    unset_ob=$(env | sed -n 's/^\(OPENBLAS_[A-Za-z0-9_]*\)=.*/-u \1/p')
    for t in $THREADS; do
        if [ -n "$coretype" ]; then
            env $unset_ob OPENBLAS_CORETYPE="$coretype" \
                OPENBLAS_NUM_THREADS=$t "$out/gemm-openblas" "$t" "$reps"
        else
            env $unset_ob OPENBLAS_NUM_THREADS=$t \
                "$out/gemm-openblas" "$t" "$reps"
        fi
    done
done
