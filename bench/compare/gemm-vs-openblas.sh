#!/bin/sh
# gemm-vs-openblas.sh: time advc_sgemm against OpenBLAS (m = n = k = 512
# and 1024; NN, TN, NT; 1 and 2 threads), in one process per thread count.
# Runs only if libopenblas-dev is installed; never a dependency of the
# library, the tests or `make`.
#   sh bench/compare/gemm-vs-openblas.sh [REPS]      (from the repo root)
# Env: BUILD (default build) holds libadvc.a; CC (default cc); CORETYPE
# (default Haswell: OpenBLAS's AVX2 kernels, the fair match for ours).
set -e
reps="${1:-15}"
BUILD="${BUILD:-build}"
CC="${CC:-cc}"
CORETYPE="${CORETYPE:-Haswell}"

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

if [ ! -f "$BUILD/libadvc.a" ]; then
    make BUILD="$BUILD" "$BUILD/libadvc.a" >&2
fi
out="$BUILD/compare"
mkdir -p "$out"
# Same flags as the library (-O2, -march=native), no -ffast-math.
$CC -O2 -std=c11 -march=native -pthread -D_POSIX_C_SOURCE=200809L \
    -Iinclude $ob_cflags bench/compare/gemm_openblas.c \
    "$BUILD/libadvc.a" $ob_libs -lm -o "$out/gemm-openblas"

for t in 1 2; do
    OPENBLAS_CORETYPE="$CORETYPE" OPENBLAS_NUM_THREADS=$t \
        "$out/gemm-openblas" "$t" "$reps"
done
