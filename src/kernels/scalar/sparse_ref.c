/* sparse_ref.c: the specification of advc_sparse_gemm (sparse rows times a
 * dense matrix with advc_sgemm's sums), one output entry at a time.  It is
 * the scalar build's kernel and the test oracle of vec/sparse_vec.c.  Each
 * term is a multiply and then an add, as the scalar GEMM micro-kernel
 * does them (-ffp-contract=off). */
#include "advc/kernels.h"

/* C[i][j] = [C[i][j] +] block 0 + block 1 + ..., block b the sum from zero
 * over row i's entries s with idx[s] in [b kc, (b+1) kc) of
 * val[s] B[idx[s]][j], in order */
void advc_sparse_gemm_ref(int m, int n, int k, const int *ptr, const int *idx,
                          const float *val, const float *B, int ldb,
                          bool accumulate, float *C, int ldc)
{
    int kc = advc_sgemm_kc(k), nblocks = (k + kc - 1) / kc;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *c = C + (size_t)i * ldc + j;
            int s = ptr[i];
            for (int b = 0; b < nblocks; b++) {
                float acc = 0.0f;
                for (; s < ptr[i + 1] && idx[s] < (b + 1) * kc; s++)
                    acc += val[s] * B[(size_t)idx[s] * ldb + j];
                *c = b == 0 && !accumulate ? acc : *c + acc;
            }
        }
}
