/* sparse.c: the public entries of the sparse kernels (advc_values,
 * advc_sparse_gemm), mapped to this build's implementations. */
#include "dispatch.h"

void advc_sparse_gemm(int m, int n, int k, const int *ptr, const int *idx,
                      const float *val, const float *B, int ldb,
                      bool accumulate, float *C, int ldc)
{
    if (m <= 0 || n <= 0 || k <= 0) return;
    isa_sparse_gemm(m, n, k, ptr, idx, val, B, ldb, accumulate, C, ldc);
}

size_t advc_values(size_t n, const float *x, size_t cap, int *pos, float *v)
{
    return isa_values(n, x, cap, pos, v);
}
