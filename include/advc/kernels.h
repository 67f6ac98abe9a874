/* advc/kernels.h: the numeric kernels every higher floor is built from.
 *
 * Each public kernel here is implemented once per ISA (src/kernels/avx2,
 * src/kernels/neon, or the scalar code itself when SIMD=scalar), and has a
 * plain scalar reference with the same signature and a `_ref` suffix that
 * is always compiled: it is the specification and the test oracle.
 * Only one ISA is compiled into a build; advc_isa_name() says which.
 *
 * Layout: float32, row-major matrices, NCHW images.  Sizes are counts of
 * elements.  Kernels do not allocate (except GEMM's packing buffers, which
 * are allocated once per thread and reused) and do not report errors.
 */
#ifndef ADVC_KERNELS_H
#define ADVC_KERNELS_H

#include <stddef.h>
#include <stdbool.h>
#include "advc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "avx2", "neon" or "scalar": the ISA this build's kernels use. */
const char *advc_isa_name(void);

/* ---- SGEMM --------------------------------------------------------------
 * C(m,n) = op(A)(m,k) . op(B)(k,n)            (accumulate = false)
 * C(m,n) = C + op(A)(m,k) . op(B)(k,n)        (accumulate = true)
 * op(A) = A (A stored m x k, row stride lda) or A^T (A stored k x m).
 * op(B) = B (B stored k x n, row stride ldb) or B^T (B stored n x k).
 * The backward pass needs NN, TN (A^T B) and NT (A B^T); TT also works.
 * m, n or k may be 0 (k = 0 with accumulate = false zeroes C).
 * pool may be NULL (one thread).  The split over threads is fixed, and
 * every element of C is summed over k in the same order whatever the
 * thread count, so results are bitwise independent of the thread count. */
typedef enum { ADVC_NOTRANS = 0, ADVC_TRANS = 1 } advc_trans;

void advc_sgemm(advc_pool *pool, advc_trans ta, advc_trans tb,
                int m, int n, int k,
                const float *A, int lda, const float *B, int ldb,
                bool accumulate, float *C, int ldc);
/* Triple loop, double accumulation: the oracle. */
void advc_sgemm_ref(advc_trans ta, advc_trans tb, int m, int n, int k,
                    const float *A, int lda, const float *B, int ldb,
                    bool accumulate, float *C, int ldc);

/* ---- im2col / col2im (2-D convolution, NCHW, one image) ------------------
 * col has shape (c*kh*kw, oh*ow): row (ci, ky, kx), column (oy, ox) holds
 * img[ci][oy*stride - pad + ky][ox*stride - pad + kx] (0 outside).
 * oh = (h + 2*pad - kh)/stride + 1, likewise ow.
 * Convolution forward is then  out(cout, oh*ow) = W(cout, c*kh*kw) . col. */
typedef struct {
    int c, h, w;      /* input channels, height, width */
    int kh, kw;       /* kernel size                   */
    int stride, pad;  /* same in both directions       */
    int oh, ow;       /* output size (advc_conv_geom fills these) */
} advc_conv_geom;

/* Fills oh/ow; returns false if the geometry is impossible. */
bool advc_conv_geom_init(advc_conv_geom *g, int c, int h, int w, int kh,
                         int kw, int stride, int pad);
/* True when col == img (1x1 kernel, stride 1, no padding): skip im2col. */
bool advc_conv_is_pointwise(const advc_conv_geom *g);
void advc_im2col(const advc_conv_geom *g, const float *img, float *col);
/* img += col2im(col): each col entry is added back to the pixel it came
 * from (padding entries are dropped).  The adjoint of im2col. */
void advc_col2im(const advc_conv_geom *g, const float *col, float *img);
/* The same with rows ldc >= oh*ow floats apart, so several images can be
 * lowered side by side into one (c*kh*kw, q*oh*ow) matrix (image j at
 * column j*oh*ow); entries past oh*ow in a row are not touched. */
void advc_im2col_ld(const advc_conv_geom *g, const float *img, float *col,
                    size_t ldc);
void advc_col2im_ld(const advc_conv_geom *g, const float *col, size_t ldc,
                    float *img);
void advc_im2col_ref(const advc_conv_geom *g, const float *img, float *col);
void advc_col2im_ref(const advc_conv_geom *g, const float *col, float *img);

/* ---- activations -------------------------------------------------------
 * Forward y = f(x); backward dx = dy * f'(x), from the forward INPUT x, so
 * a ReLU forward can be paired with a smooth backward.  x, y, dy, dx may
 * alias each other exactly (in place).  `alpha` is the parameter of
 * psoftplus (a in (1/a)log(1+exp(a x))) and is ignored by the others.
 * No NaN or inf for any finite x, including +-1e30.  Accuracy promises
 * are stated per kernel in src/kernels/act.h and held by the tests. */
typedef enum {
    ADVC_ACT_IDENTITY = 0, /* x                                  f' = 1     */
    ADVC_ACT_RELU,         /* max(x, 0)                          f' = [x>0] */
    ADVC_ACT_SOFTPLUS,     /* log(1 + e^x)                 f' = sigmoid(x)  */
    ADVC_ACT_PSOFTPLUS,    /* (1/a) log(1 + e^(a x))     f' = sigmoid(a x)  */
    ADVC_ACT_SILU,         /* x sigmoid(x)         f' = s (1 + x (1 - s))   */
    ADVC_ACT_GELU,         /* x Phi(x), exact erf    f' = Phi(x) + x phi(x) */
    ADVC_ACT_ELU,          /* x > 0 ? x : e^x - 1    f' = x > 0 ? 1 : e^x   */
    ADVC_ACT_SIGMOID,      /* 1 / (1 + e^-x)                 f' = s (1 - s) */
    ADVC_ACT_TANH,         /* tanh(x)                        f' = 1 - t^2   */
    ADVC_ACT_COUNT
} advc_act;

void advc_act_forward(advc_act f, float alpha, size_t n, const float *x,
                      float *y);
void advc_act_backward(advc_act f, float alpha, size_t n, const float *x,
                       const float *dy, float *dx);
/* References: computed in double from libm, rounded once to float. */
void advc_act_forward_ref(advc_act f, float alpha, size_t n, const float *x,
                          float *y);
void advc_act_backward_ref(advc_act f, float alpha, size_t n, const float *x,
                           const float *dy, float *dx);
/* "relu", "softplus", ... ; advc_act_parse returns ADVC_ACT_COUNT if unknown. */
const char *advc_act_name(advc_act f);
advc_act advc_act_parse(const char *name);

/* ---- sign steps (attacks) -----------------------------------------------
 * sign(0) = 0.  All write x in place. */
/* x = clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
void advc_sign_step_proj(size_t n, float *x, const float *g, const float *x0,
                         float a, float eps, float lo, float hi);
/* x = x + a*sign(g) */
void advc_sign_step(size_t n, float *x, const float *g, float a);
/* x = x + a * g / ||g||_2 ; no change when ||g||_2 = 0.  One sample: the
 * caller loops over a batch. */
void advc_l2_step(size_t n, float *x, const float *g, float a);
void advc_sign_step_proj_ref(size_t n, float *x, const float *g,
                             const float *x0, float a, float eps, float lo,
                             float hi);
void advc_sign_step_ref(size_t n, float *x, const float *g, float a);
void advc_l2_step_ref(size_t n, float *x, const float *g, float a);

/* ---- softmax cross-entropy ---------------------------------------------
 * z: logits (n, c); y: labels in [0, c).
 * loss_i = logsumexp(z_i) - z_i[y_i], computed with the max subtracted, so
 * logits of +-1e4 are fine.  Returns mean_i loss_i; writes loss_i to
 * losses if not NULL. */
float advc_softmax_xent(int n, int c, const float *z, const int *y,
                        float *losses);
/* dz_i = scale * (softmax(z_i) - onehot(y_i)); typical scale = 1/n. */
void advc_softmax_xent_grad(int n, int c, const float *z, const int *y,
                            float scale, float *dz);
/* p_i = softmax(z_i), row by row; p may alias z. */
void advc_softmax(int n, int c, const float *z, float *p);
float advc_softmax_xent_ref(int n, int c, const float *z, const int *y,
                            float *losses);
void advc_softmax_xent_grad_ref(int n, int c, const float *z, const int *y,
                                float scale, float *dz);

/* ---- BLAS-1 and optimizer updates --------------------------------------- */
void advc_axpy(size_t n, float a, const float *x, float *y); /* y += a x   */
void advc_scale(size_t n, float a, float *x);                /* x *= a     */
float advc_sum(size_t n, const float *x);                    /* sum x_i    */
float advc_max(size_t n, const float *x);  /* max x_i; -inf for n = 0      */
float advc_dot(size_t n, const float *x, const float *y);    /* sum x_i y_i */
/* SGD with momentum mu and L2 weight decay wd:
 *   g' = g + wd w;  v = mu v + g';  w -= lr (nesterov ? g' + mu v : v) */
void advc_sgd_update(size_t n, float *w, const float *g, float *v, float lr,
                     float mu, float wd, bool nesterov);
/* Adam (Kingma & Ba) with L2 weight decay folded into the gradient, step
 * t >= 1:  g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 *   w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
void advc_adam_update(size_t n, float *w, const float *g, float *m, float *v,
                      float lr, float b1, float b2, float eps, float wd,
                      int t);
void advc_axpy_ref(size_t n, float a, const float *x, float *y);
void advc_scale_ref(size_t n, float a, float *x);
float advc_sum_ref(size_t n, const float *x);
float advc_max_ref(size_t n, const float *x);
float advc_dot_ref(size_t n, const float *x, const float *y);
void advc_sgd_update_ref(size_t n, float *w, const float *g, float *v,
                         float lr, float mu, float wd, bool nesterov);
void advc_adam_update_ref(size_t n, float *w, const float *g, float *m,
                          float *v, float lr, float b1, float b2, float eps,
                          float wd, int t);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_KERNELS_H */
