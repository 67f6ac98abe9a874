/* sparse.c: the public entries of the sparse kernels (advc_values,
 * advc_sparse_gemm), mapped to this build's implementations, and the
 * transpose that makes their W^T operands. */
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

/* Tiles of TILE x TILE: a tile's source rows and destination rows stay in
 * L1 while it is copied (a row-by-row transpose of fc1's 1024 x 3136
 * weights missed the cache on every store). */
enum { TILE = 16 };

void advc_transpose(int rows, int cols, const float *src, int lds, float *dst,
                    int ldd)
{
    for (int r0 = 0; r0 < rows; r0 += TILE)
        for (int c0 = 0; c0 < cols; c0 += TILE) {
            int r1 = r0 + TILE < rows ? r0 + TILE : rows;
            int c1 = c0 + TILE < cols ? c0 + TILE : cols;
            for (int c = c0; c < c1; c++)
                for (int r = r0; r < r1; r++)
                    dst[(size_t)c * ldd + r] = src[(size_t)r * lds + c];
        }
}
