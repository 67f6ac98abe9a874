/* avx2_kernels.h: private declarations of the hand-written AVX2 kernels.
 * The element-wise kernels are written once for every SIMD ISA in ../vec/;
 * what stays per ISA is the GEMM micro-kernel (and its packing). */
#ifndef ADVC_AVX2_KERNELS_H
#define ADVC_AVX2_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/kernels.h"

/* GEMM micro-kernel: see the contract in scalar/scalar_kernels.h. */
void advc_sgemm_ukernel_6x16_avx2(int k, const float *a, const float *b,
                                   float *c, int ldc, int mr, int nr,
                                   bool accumulate);

#endif
