/* vec_kernels.h: private declarations of the element-wise kernels written
 * once over the vector layer (vec.h) and compiled for this build's SIMD
 * ISA (AVX-512, AVX2 or NEON; advc_isa_name() says which).  Same
 * signatures as the public kernels in advc/kernels.h; dispatch.h maps the
 * public names here in every SIMD build.  The suffix _vec says "from the
 * one vector source", not an ISA: only one ISA is compiled per build.
 */
#ifndef ADVC_VEC_KERNELS_H
#define ADVC_VEC_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/kernels.h"

void advc_act_forward_vec(advc_act f, float alpha, size_t n, const float *x,
                          float *y);
void advc_act_backward_vec(advc_act f, float alpha, size_t n, const float *x,
                           const float *dy, float *dx);

void advc_sign_step_proj_vec(size_t n, float *x, const float *g,
                             const float *x0, float a, float eps, float lo,
                             float hi);
void advc_sign_step_vec(size_t n, float *x, const float *g, float a);
float advc_box_move_vec(size_t n, const float *t, const float *w, float s,
                        float lam, float lo, float hi, float *delta);
void advc_l2_step_vec(size_t n, float *x, const float *g, float a);

/* Stride-2 col2im, one kernel row: out[oy ldo + 2 ox + kx] +=
 * in[kx ldi + oy ow + ox] for oy < oh, kx < kw (in order), ox < ow;
 * 2 (ow - 1) + kw <= pw (im2col.c). */
void advc_col2im_rows_s2_vec(float *out, size_t ldo, size_t pw,
                             const float *in, size_t ldi, int kw, int ow,
                             int oh);

void advc_sparse_gemm_vec(int m, int n, int k, const int *ptr,
                          const int *idx, const float *val, const float *B,
                          int ldb, bool accumulate, float *C, int ldc);

void advc_axpy_vec(size_t n, float a, const float *x, float *y);
void advc_scale_vec(size_t n, float a, float *x);
float advc_sum_vec(size_t n, const float *x);
float advc_max_vec(size_t n, const float *x);
float advc_dot_vec(size_t n, const float *x, const float *y);
void advc_sgd_update_vec(size_t n, float *w, const float *g, float *v,
                         float lr, float mu, float wd, bool nesterov);
void advc_adam_update_vec(size_t n, float *w, const float *g, float *m,
                          float *v, float lr, float b1, float b2, float eps,
                          float wd, int t);

#endif
