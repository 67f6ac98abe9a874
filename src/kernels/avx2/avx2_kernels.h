/* avx2_kernels.h: private declarations of the hand-written AVX2 kernels.
 * Same signatures as the public kernels in advc/kernels.h; dispatch.h maps
 * the public names here when this ISA is built. */
#ifndef ADVC_AVX2_KERNELS_H
#define ADVC_AVX2_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/kernels.h"

/* GEMM micro-kernel: see the contract in scalar/scalar_kernels.h. */
void advc_sgemm_ukernel_6x16_avx2(int k, const float *a, const float *b,
                                   float *c, int ldc, int mr, int nr,
                                   bool accumulate);

void advc_act_forward_avx2(advc_act f, float alpha, size_t n,
                           const float *x, float *y);
void advc_act_backward_avx2(advc_act f, float alpha, size_t n,
                            const float *x, const float *dy, float *dx);

void advc_sign_step_proj_avx2(size_t n, float *x, const float *g,
                              const float *x0, float a, float eps, float lo,
                              float hi);
void advc_sign_step_avx2(size_t n, float *x, const float *g, float a);
void advc_l2_step_avx2(size_t n, float *x, const float *g, float a);

void advc_axpy_avx2(size_t n, float a, const float *x, float *y);
void advc_scale_avx2(size_t n, float a, float *x);
float advc_sum_avx2(size_t n, const float *x);
float advc_max_avx2(size_t n, const float *x);
float advc_dot_avx2(size_t n, const float *x, const float *y);
void advc_sgd_update_avx2(size_t n, float *w, const float *g, float *v,
                          float lr, float mu, float wd, bool nesterov);
void advc_adam_update_avx2(size_t n, float *w, const float *g, float *m,
                           float *v, float lr, float b1, float b2, float eps,
                           float wd, int t);

#endif
