/* sparse_vec.c: advc_sparse_gemm over the vector layer: C's rows a chunk
 * of CHUNK vectors at a time, each chunk's partial sums held in registers
 * while the row's entries stream their rows of B through them.  Each term
 * is one fused multiply-add, as in this ISA's GEMM micro-kernel, so the
 * sums are advc_sgemm's (the specification: scalar/sparse_ref.c).
 *
 * Chunks are the outer loop, then groups of rows, then KC blocks (below).
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

/* Rows a group at a time, KC blocks outer: a block of the chunk's
 * columns of B (kc rows of CHUNK vectors, 349 KB for the MNIST `cnn`'s
 * fc1 forward) is read from L2 by every row of the group before the next
 * block, where a row taking all its blocks in turn streamed the whole
 * chunk (3.2 MB) from L3 for each row.  Each row still sums its blocks
 * in order, so the bits are unchanged. */
enum { ROWS = 32 };

/* One row's block: the sum of its entries from *sp while idx < kend on
 * nv vectors of columns (nv a constant at each call, so acc stays in
 * registers; the last vector holds only `tail` columns when tail > 0),
 * stored to c (first) or added to it; *sp moves past them. */
static ALWAYS_INLINE void row_block(int nv, size_t tail, const int *idx,
                                   const float *val, int *sp, int s1,
                                   int kend, const float *b, size_t ldb,
                                   bool first, float *c)
{
    vf acc[CHUNK];
#pragma GCC unroll 16
    for (int j = 0; j < nv; j++) acc[j] = vzero();
    int s = *sp;
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
    *sp = s;
#pragma GCC unroll 16
    for (int j = 0; j < nv; j++) {
        float *cj = c + j * VEC_LANES;
        bool part = tail && j == nv - 1;
        if (!first) acc[j] = vadd(part ? vload_n(cj, tail) : vload(cj), acc[j]);
        if (part) vstore_n(cj, acc[j], tail);
        else vstore(cj, acc[j]);
    }
}

/* Columns [j0, j0 + nv*VEC_LANES) (or fewer: tail) of every row:
 * C[i] = [C[i] +] block 0 + block 1 + ... */
static ALWAYS_INLINE void columns(int nv, size_t tail, int j0, int m,
                                  const int *ptr, const int *idx,
                                  const float *val, int kc, int nblocks,
                                  const float *B, int ldb, bool accumulate,
                                  float *C, int ldc)
{
    for (int i0 = 0; i0 < m; i0 += ROWS) {
        int rows = m - i0 < ROWS ? m - i0 : ROWS, cur[ROWS];
        for (int i = 0; i < rows; i++) cur[i] = ptr[i0 + i];
        for (int blk = 0; blk < nblocks; blk++)
            for (int i = 0; i < rows; i++)
                row_block(nv, tail, idx, val, &cur[i], ptr[i0 + i + 1],
                          (blk + 1) * kc, B + j0, (size_t)ldb,
                          blk == 0 && !accumulate,
                          C + (size_t)(i0 + i) * ldc + j0);
    }
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
