/* scalar_kernels.h: private declarations of the scalar kernels that have
 * no public `_ref` twin (the portable GEMM micro-kernel and the fast scalar
 * activations used by SIMD=scalar builds).  Public references are declared
 * in advc/kernels.h. */
#ifndef ADVC_SCALAR_KERNELS_H
#define ADVC_SCALAR_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/kernels.h"

/* GEMM micro-kernel contract (every ISA has the same shape of function):
 *   C[0..mr) x [0..nr) (+)= sum_p a[p*MR + i] * b[p*NR + j],  p in [0, k)
 * a: packed A panel, k x MR (column p holds MR rows of A, zero padded).
 * b: packed B panel, k x NR (row p holds NR columns of B, zero padded).
 * c: row-major with row stride ldc; only mr x nr entries are touched.
 * accumulate = false overwrites C.
 * The rows variant (isa_sgemm_ukernel_rows, where an ISA has one) takes
 * A where it lies instead of a packed panel, (k, a, lda, b, c, ldc, mr,
 * nr, accumulate): C[i][j] (+)= sum_p a[i*lda + p] * b[p*NR + j], reading
 * rows i < mr only, with the packed kernel's multiply-adds in its order
 * (so the same bits). */
void advc_sgemm_ukernel_4x4_scalar(int k, const float *a, const float *b,
                                   float *c, int ldc, int mr, int nr,
                                   bool accumulate);

/* Scalar (float, libm) activations for the SIMD=scalar build: same
 * formulas as the SIMD kernels, without vectors. */
void advc_act_forward_scalar(advc_act f, float alpha, size_t n,
                             const float *x, float *y);
void advc_act_backward_scalar(advc_act f, float alpha, size_t n,
                              const float *x, const float *dy, float *dx);

#endif
