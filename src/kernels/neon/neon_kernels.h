/* neon_kernels.h: private declarations of the hand-written NEON kernels.
 * The element-wise kernels are written once for every SIMD ISA in ../vec/;
 * what stays per ISA is the GEMM micro-kernel (and its packing). */
#ifndef ADVC_NEON_KERNELS_H
#define ADVC_NEON_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/kernels.h"

/* GEMM micro-kernel: see the contract in scalar/scalar_kernels.h. */
void advc_sgemm_ukernel_8x12_neon(int k, const float *a, const float *b,
                                   float *c, int ldc, int mr, int nr,
                                   bool accumulate);

#endif
