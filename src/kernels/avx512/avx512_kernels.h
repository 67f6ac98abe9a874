/* avx512_kernels.h: private declarations of the hand-written AVX-512
 * kernels.  The element-wise kernels are written once for every SIMD ISA
 * in ../vec/; what stays per ISA is the GEMM micro-kernel (and its
 * packing). */
#ifndef ADVC_AVX512_KERNELS_H
#define ADVC_AVX512_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/kernels.h"

/* GEMM micro-kernel: see the contract in scalar/scalar_kernels.h. */
void advc_sgemm_ukernel_8x48_avx512(int k, const float *a, const float *b,
                                    float *c, int ldc, int mr, int nr,
                                    bool accumulate);
/* The same with A unpacked: a[i*lda + p] for rows i < mr (see
 * scalar/scalar_kernels.h, ISA_SGEMM_UKERNEL_ROWS in dispatch.h). */
void advc_sgemm_ukernel_rows_8x48_avx512(int k, const float *a, size_t lda,
                                         const float *b, float *c, int ldc,
                                         int mr, int nr, bool accumulate);

/* advc_values (advc/kernels.h) by mask and compress. */
size_t advc_values_avx512(size_t n, const float *x, size_t cap, int *pos,
                          float *v);

#endif
