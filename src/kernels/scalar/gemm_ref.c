/* gemm_ref.c: the SGEMM oracle (advc_sgemm_ref) and the portable 4x4
 * micro-kernel used by SIMD=scalar builds.
 *
 * advc_sgemm_ref is the specification: a plain loop over i, j and k with
 * double accumulation, rounded once to float.  It is slow on purpose and
 * must stay obviously correct; the tests and benchmarks compare against it.
 */
#include <assert.h>
#include "scalar/scalar_kernels.h"

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
    float acc[SC_MR][SC_NR] = { { 0 } };
    for (int p = 0; p < k; p++) {
        const float *ap = a + (size_t)p * SC_MR, *bp = b + (size_t)p * SC_NR;
        for (int i = 0; i < SC_MR; i++)
            for (int j = 0; j < SC_NR; j++)
                acc[i][j] += ap[i] * bp[j];
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++)
            ci[j] = accumulate ? ci[j] + acc[i][j] : acc[i][j];
    }
}
