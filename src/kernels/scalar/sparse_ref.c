/* sparse_ref.c: the specifications of advc_values (the nonzero entries of
 * an array) and advc_sparse_gemm (sparse rows times a dense matrix with
 * advc_sgemm's sums), one entry at a time.  They are the scalar build's
 * kernels and the test oracles of avx512/values_avx512.c and
 * vec/sparse_vec.c.  Each term of the product is a multiply and then an
 * add, as the scalar GEMM micro-kernel does them (-ffp-contract=off). */
#include <stdint.h>
#include <string.h>
#include "advc/kernels.h"

size_t advc_values_ref(size_t n, const float *x, size_t cap, int *pos,
                       float *v)
{
    size_t nz = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t b;
        memcpy(&b, &x[k], sizeof b);
        if (b == 0) continue; /* +0 only: -0 and NaN are values */
        if (nz == cap) return cap + 1;
        pos[nz] = (int)k;
        v[nz++] = x[k];
    }
    return nz;
}

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
