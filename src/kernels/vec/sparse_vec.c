/* sparse_vec.c: advc_sparse_gemm over the vector layer: C's rows a chunk
 * of CHUNK vectors at a time, each chunk's partial sums held in registers
 * while the row's entries stream their rows of B through them.  Each term
 * is one fused multiply-add, as in this ISA's GEMM micro-kernel, so the
 * sums are advc_sgemm's (the specification: scalar/sparse_ref.c).
 *
 * Chunks are the outer loop and rows the inner one: a chunk's columns of
 * B (k rows of CHUNK vectors) stay in L2 while every row reads them.
 */
#include "vec/vec.h"
#include "vec/vec_kernels.h"

/* Vectors of a row's chunk kept in registers: 16 where there are 32
 * vector registers (16 measured 5% faster than 8 on Square's fc1 with
 * AVX-512), 8 with AVX2's 16. */
#if defined(ADVC_ISA_AVX2)
enum { CHUNK = 8 };
#else
enum { CHUNK = 16 };
#endif

#if defined(__GNUC__)
#  define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#  define ALWAYS_INLINE inline
#endif

/* The block sums of one row's entries [s0, s1) on nv vectors of columns
 * (nv a constant at each call, so acc stays in registers; the last vector
 * holds only `tail` columns when tail > 0), into c. */
static ALWAYS_INLINE void row_chunk(int nv, size_t tail, const int *idx,
                                   const float *val, int s0, int s1, int kc,
                                   int nblocks, const float *b, size_t ldb,
                                   bool accumulate, float *c)
{
    int s = s0;
    for (int blk = 0; blk < nblocks; blk++) {
        int kend = (blk + 1) * kc;
        vf acc[CHUNK];
#pragma GCC unroll 16
        for (int j = 0; j < nv; j++) acc[j] = vzero();
        for (; s < s1 && idx[s] < kend; s++) {
            vf a = vdup(val[s]);
            const float *br = b + (size_t)idx[s] * ldb;
#pragma GCC unroll 16
            for (int j = 0; j < nv; j++) {
                vf bv = tail && j == nv - 1 ? vload_n(br + j * VEC_LANES, tail)
                                            : vload(br + j * VEC_LANES);
                acc[j] = vfma(a, bv, acc[j]);
            }
        }
#pragma GCC unroll 16
        for (int j = 0; j < nv; j++) {
            float *cj = c + j * VEC_LANES;
            bool part = tail && j == nv - 1;
            if (blk > 0 || accumulate)
                acc[j] = vadd(part ? vload_n(cj, tail) : vload(cj), acc[j]);
            if (part) vstore_n(cj, acc[j], tail);
            else vstore(cj, acc[j]);
        }
    }
}

/* Columns [j0, j0 + nv*VEC_LANES) (or fewer: tail) of every row. */
static ALWAYS_INLINE void columns(int nv, size_t tail, int j0, int m,
                                  const int *ptr, const int *idx,
                                  const float *val, int kc, int nblocks,
                                  const float *B, int ldb, bool accumulate,
                                  float *C, int ldc)
{
    for (int i = 0; i < m; i++)
        row_chunk(nv, tail, idx, val, ptr[i], ptr[i + 1], kc, nblocks,
                  B + j0, (size_t)ldb, accumulate,
                  C + (size_t)i * ldc + j0);
}

void advc_sparse_gemm_vec(int m, int n, int k, const int *ptr,
                          const int *idx, const float *val, const float *B,
                          int ldb, bool accumulate, float *C, int ldc)
{
    int kc = advc_sgemm_kc(k), nb = (k + kc - 1) / kc;
    int j = 0;
    for (; j + CHUNK * VEC_LANES <= n; j += CHUNK * VEC_LANES)
        columns(CHUNK, 0, j, m, ptr, idx, val, kc, nb, B, ldb, accumulate, C,
                ldc);
    for (; j + 4 * VEC_LANES <= n; j += 4 * VEC_LANES)
        columns(4, 0, j, m, ptr, idx, val, kc, nb, B, ldb, accumulate, C,
                ldc);
    for (; j + VEC_LANES <= n; j += VEC_LANES)
        columns(1, 0, j, m, ptr, idx, val, kc, nb, B, ldb, accumulate, C,
                ldc);
    if (j < n)
        columns(1, (size_t)(n - j), j, m, ptr, idx, val, kc, nb, B, ldb,
                accumulate, C, ldc);
}
