/* gemm_ref.c: the SGEMM oracle (advc_sgemm_ref) and the portable 4x4
 * micro-kernel used by SIMD=scalar builds.
 *
 * advc_sgemm_ref is the specification: a plain loop over i, j and k with
 * double accumulation, rounded once to float.  It is slow on purpose and
 * must stay obviously correct; the tests and benchmarks compare against it.
 */
#include <assert.h>
#include "scalar/scalar_kernels.h"
#include "scalar/gemm_blocking_scalar.h"

/* op(X)[r][c] for a row-major X with row stride ld: X[r][c] or X[c][r]. */
static inline float op_at(const float *X, advc_trans t, int ld, int r, int c)
{
    return t == ADVC_NOTRANS ? X[(size_t)r * ld + c] : X[(size_t)c * ld + r];
}

/* Columns of C computed together: the row of double sums lives on the
 * stack, and looping p outside j keeps the inner loop free of a serial
 * dependency (256 doubles = 2 KiB, comfortably in L1). */
enum { REF_JB = 256 };

/* C = [C +] op(A) op(B), every sum formed in double, rounded once. */
void advc_sgemm_ref(advc_trans ta, advc_trans tb, int m, int n, int k,
                    const float *A, int lda, const float *B, int ldb,
                    bool accumulate, float *C, int ldc)
{
    assert(m >= 0 && n >= 0 && k >= 0);
    double acc[REF_JB];
    for (int i = 0; i < m; i++) {
        for (int j0 = 0; j0 < n; j0 += REF_JB) {
            int jn = n - j0 < REF_JB ? n - j0 : REF_JB;
            for (int j = 0; j < jn; j++)
                acc[j] = 0.0;
            for (int p = 0; p < k; p++) {
                double a = op_at(A, ta, lda, i, p);
                for (int j = 0; j < jn; j++)
                    acc[j] += a * (double)op_at(B, tb, ldb, p, j0 + j);
            }
            float *c = C + (size_t)i * ldc + j0;
            for (int j = 0; j < jn; j++)
                c[j] = (float)(accumulate ? (double)c[j] + acc[j] : acc[j]);
        }
    }
}

/* The portable micro-kernel: MR = NR = 4, sixteen float sums held in a
 * local array the compiler can keep in registers.  Same contract as the
 * SIMD kernels (see scalar_kernels.h): each sum starts at zero, runs over
 * p in order, and is then stored or added to C. */
enum { SC_MR = 4, SC_NR = 4 };

/* C[0..mr)[0..nr) (+)= sum_p a[p*4 + i] * b[p*4 + j] */
void advc_sgemm_ukernel_4x4_scalar(int k, const float *a, const float *b,
                                   float *c, int ldc, int mr, int nr,
                                   bool accumulate)
{
    /* One array per row (not one 4 x 4 array) so that compilers keep each
     * row in a register, or in four, instead of in memory. */
    float c0[SC_NR] = { 0 }, c1[SC_NR] = { 0 }, c2[SC_NR] = { 0 },
          c3[SC_NR] = { 0 };
    for (int p = 0; p < k; p++) {
        const float *ap = a + (size_t)p * SC_MR, *bp = b + (size_t)p * SC_NR;
        for (int j = 0; j < SC_NR; j++) {
            c0[j] += ap[0] * bp[j];
            c1[j] += ap[1] * bp[j];
            c2[j] += ap[2] * bp[j];
            c3[j] += ap[3] * bp[j];
        }
    }
    const float *rows[SC_MR] = { c0, c1, c2, c3 };
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++)
            ci[j] = accumulate ? ci[j] + rows[i][j] : rows[i][j];
    }
}

/* The portable transposing pack used by the scalar and NEON builds (see
 * GEMM_PACK_T in gemm_blocking.h): p outer so the panel is written in
 * order, each source row read in step; rows [0, next_rows) of the next
 * panel (at src + width*ld) are prefetched into L2 a line (16 floats) at
 * a time.
 * dst[p*width + r] = src[r*ld + p], r < rows (0 for rows <= r < width) */
void advc_sgemm_pack_t_ref(int kc, int rows, int width, const float *src,
                           int ld, float *dst, int next_rows)
{
    const float *next = next_rows > 0 ? src + (size_t)width * ld : NULL;
    for (int p = 0; p < kc; p++) {
#if defined(__GNUC__)
        for (int i = 0; p % 16 == 0 && i < next_rows; i++)
            __builtin_prefetch(next + (size_t)i * ld + p, 0, 2); /* to L2 */
#else
        (void)next;
#endif
        float *d = dst + (size_t)p * width;
        for (int r = 0; r < rows; r++)
            d[r] = src[(size_t)r * ld + p];
        for (int r = rows; r < width; r++)
            d[r] = 0.0f;
    }
}
