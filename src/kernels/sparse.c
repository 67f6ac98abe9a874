/* sparse.c: the public entry of the sparse-times-dense kernel
 * (advc_sparse_gemm), mapped to this build's implementation. */
#include "dispatch.h"

void advc_sparse_gemm(int m, int n, int k, const int *ptr, const int *idx,
                      const float *val, const float *B, int ldb,
                      bool accumulate, float *C, int ldc)
{
    if (m <= 0 || n <= 0 || k <= 0) return;
    isa_sparse_gemm(m, n, k, ptr, idx, val, B, ldb, accumulate, C, ldc);
}
