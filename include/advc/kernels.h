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

/* Depth of advc_sgemm's KC blocks for inner dimension k (k >= 1): every
 * entry of C is summed block by block, each block from zero (see
 * advc_sparse_gemm). */
int advc_sgemm_kc(int k);

/* dst (cols x rows) = src^T for src (rows x cols); leading dimensions lds
 * and ldd.  Exact copies. */
void advc_transpose(int rows, int cols, const float *src, int lds, float *dst,
                    int ldd);

/* The positions and values of x[0..n)'s entries whose bit pattern is not
 * +0 (-0 and NaN count: a product with them is in the GEMM's sum), in
 * order, into pos and v (room for cap each).  Returns their count, or
 * cap + 1 as soon as there are more than cap (pos and v then hold no
 * meaning).  n < 2^31.  The sparse paths' gather (advc_sparse_gemm). */
size_t advc_values(size_t n, const float *x, size_t cap, int *pos, float *v);
size_t advc_values_ref(size_t n, const float *x, size_t cap, int *pos,
                       float *v);

/* C (m x n) = [C +] A B for a sparse A (m x k) given row by row (CSR):
 * row i's nonzero entries are s in [ptr[i], ptr[i+1]), in column idx[s]
 * (increasing along the row) with value val[s]; B (k x n) row-major.
 * Summed as advc_sgemm sums the dense product: for each depth block of
 * advc_sgemm_kc(k) columns, the block's terms from zero in column order,
 * each a multiply-add as this build's GEMM micro-kernel does it (fused in
 * SIMD builds); then C = [C +] block 0, C + block 1, ... in order.  So C
 * has advc_sgemm's bits on the dense A whenever its left-out terms are
 * products with a zero: adding 0 w changes no partial sum, except a -0
 * sum, which only a product rounding to -0 (below 2^-150) could make.
 * One thread; callers split rows or columns. */
void advc_sparse_gemm(int m, int n, int k, const int *ptr, const int *idx,
                      const float *val, const float *B, int ldb,
                      bool accumulate, float *C, int ldc);
/* One entry at a time, multiply then add: the specification. */
void advc_sparse_gemm_ref(int m, int n, int k, const int *ptr,
                          const int *idx, const float *val, const float *B,
                          int ldb, bool accumulate, float *C, int ldc);

/* A source of op(B) for advc_sgemm_src, for callers that can write B's
 * packed panels without B existing as a matrix (implicit-GEMM
 * convolution).  pack(ctx, p0, kc, j, nr, width, dst) writes
 *   dst[p*width + c] = op(B)[p0 + p][j + c]   for p < kc, c < nr,
 *   dst[p*width + c] = 0                      for nr <= c < width,
 * where width is this build's panel width (the micro-kernel's NR).  It is
 * called from several threads at once (ctx is read-only). */
typedef struct {
    void (*pack)(const void *ctx, int p0, int kc, int j, int nr, int width,
                 float *dst);
    const void *ctx;
} advc_gemm_bsrc;

/* C = [C +] op(A) op(B) as advc_sgemm, with op(B) (k x n) supplied by b:
 * the same blocking, threading and summation order, so the same bits as
 * advc_sgemm on the materialised op(B). */
void advc_sgemm_src(advc_pool *pool, advc_trans ta, int m, int n, int k,
                    const float *A, int lda, const advc_gemm_bsrc *b,
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

/* ---- convolution references (one image, NCHW) ----------------------------
 * w (cout, c, kh, kw) is W of the GEMM form; sums in double, rounded once.
 *   forward       y[o][oy][ox] = b[o] + sum_{i,ky,kx} w[o][i][ky][kx] *
 *                                 x[i][oy*s - pad + ky][ox*s - pad + kx]
 *   input grad    dx += W^T-convolution of dy (the adjoint of forward)
 *   weight grad   dw[o][i][ky][kx] += sum_{oy,ox} dy[o][oy][ox] * x[...]
 * b may be NULL.  The oracle of every fast convolution (implicit GEMM,
 * Winograd, direct). */
void advc_conv2d_ref(const advc_conv_geom *g, int cout, const float *x,
                     const float *w, const float *b, float *y);
void advc_conv2d_input_grad_ref(const advc_conv_geom *g, int cout,
                                const float *dy, const float *w, float *dx);
void advc_conv2d_weight_grad_ref(const advc_conv_geom *g, int cout,
                                 const float *x, const float *dy, float *dw);

/* ---- implicit GEMM: GEMM panels straight from NCHW images ----------------
 * A chunk is q consecutive images x_0..x_{q-1} (x_i at x + i*stride), whose
 * lowered matrices sit side by side: col_c (c*kh*kw, q*oh*ow), column
 * i*oh*ow + (oy*ow + ox) of image i.  advc_conv_cols packs panels of
 * op(B) = col_c (the forward and the stride-1 input gradient),
 * advc_conv_cols_t panels of op(B) = col_c^T (the weight gradient), without
 * col_c ever being written: pass them as advc_gemm_bsrc.pack with a
 * advc_conv_chunk as ctx.  The _ref versions fill the same panels one
 * entry at a time from the definition (tests). */
typedef struct {
    const advc_conv_geom *g;
    const float *x;      /* first image of the chunk (c, h, w)           */
    size_t stride;       /* floats from one image to the next            */
    int q;               /* images in the chunk                          */
} advc_conv_chunk;

void advc_conv_cols(const void *chunk, int p0, int kc, int j, int nr,
                    int width, float *dst);
void advc_conv_cols_t(const void *chunk, int p0, int kc, int j, int nr,
                      int width, float *dst);
/* Columns [c0, c0 + nc) of col_c into dst (row stride ld >= nc): a block
 * of the lowered input, for callers that run one GEMM per block. */
void advc_conv_lower(const advc_conv_chunk *ch, int c0, int nc, float *dst,
                     size_t ld);
void advc_conv_lower_ref(const advc_conv_chunk *ch, int c0, int nc,
                         float *dst, size_t ld);
void advc_conv_cols_ref(const void *chunk, int p0, int kc, int j, int nr,
                        int width, float *dst);
void advc_conv_cols_t_ref(const void *chunk, int p0, int kc, int j, int nr,
                          int width, float *dst);

/* ---- Winograd F(4x4, 3x3) ------------------------------------------------
 * A 3x3 stride-1 convolution computed on 4x4 output tiles (Lavin and Gray,
 * 2016): each tile's 6x6 input patch d and each 3x3 filter g are
 * transformed, multiplied point by point in the 36-point transform domain
 * (as 36 GEMMs over channels), and transformed back:
 *   y_tile = A^T [ sum_i (G g_oi G^T) . (B^T d_i B) ] A
 * with the interpolation points 0, 1, -1, 2, -2 and infinity.  36 instead
 * of 144 multiplies per tile and channel pair.
 *
 * Accuracy: the transforms amplify rounding (entries up to 8 in A, 5 in
 * B, 1/24 in G), so results differ from the direct reference by more than
 * a GEMM's.  Bound held by tests/test_conv.c on random data: every output
 * within WINO_TOL * 2^-24 * sum_{i,ky,kx} |w| |x| over its receptive field
 * (plus the same bound on the bias-free part), WINO_TOL = 512.  Measured
 * worst case: about 40 (that is, 2.4e-6 of the absolute sum).
 *
 * Tiles: th = ceil(oh/4) rows of tw = ceil(ow/4); tile t of a batch is
 * image t / (th*tw), row (t % (th*tw)) / tw, column t % tw.  Its patch
 * starts at input row 4*row - pad and column 4*col - pad (zero outside).
 * Transform-domain matrices hold point xi = 6*r + s at xi*ld*rows: V
 * (36, c, ldv) for tiles [t0, t0 + nt) of the input, M (36, cout, ldm),
 * ldv, ldm >= nt + ADVC_WINO_PAD. */
#define ADVC_WINO_TILE 4     /* output tile: m x m, m = 4                */
#define ADVC_WINO_ALPHA 6    /* input patch: alpha = m + 3 - 1           */
#define ADVC_WINO_POINTS 36  /* alpha^2 transform points                 */
/* Rows of V, M and D (below) hold nt + ADVC_WINO_PAD floats (spare
 * columns the callers keep; the transforms move up to 16 tiles at a time
 * but read and write nothing past nt). */
#define ADVC_WINO_PAD 7

/* Tiles per image of geometry g (3x3, stride 1): th * tw. */
int advc_wino_tiles(const advc_conv_geom *g);
/* U (36, cout, c) = G w_oi G^T.  With flip, the filters of the input
 * gradient instead: U (36, c, cout) from w_oi rotated by 180 degrees (the
 * input gradient of a 3x3 stride-1 convolution is the convolution of dy
 * with those filters and padding 2 - pad).  With trans, each point's
 * matrix transposed: (36, c, cout), or (36, cout, c) with flip (the GEMMs
 * then take it as op(A) = A^T, whose packing is a copy). */
void advc_wino_weights(int cout, int c, const float *w, bool flip,
                       bool trans, float *U);
/* V = B^T d_t B for tiles [t0, t0 + nt) of the n images x. */
void advc_wino_input(const advc_conv_geom *g, const float *x, size_t t0,
                     int nt, float *V, int ldv);
/* y_tile = A^T M_t A (+ bias[o]) written to (accumulate: added to) the
 * images y (n, cout, oh, ow); entries past oh or ow are dropped.  bias may
 * be NULL. */
void advc_wino_output(const advc_conv_geom *g, int cout, const float *M,
                      int ldm, size_t t0, int nt, const float *bias,
                      bool accumulate, float *y);
/* The weight gradient in the transform domain (the adjoints of the
 * forward's transforms): D = A dY_t A^T (36, cout, ldd) for the tiles
 * [t0, t0 + nt) of the output gradients dy (n, cout, oh, ow) of geometry
 * g (entries past oh, ow are 0), so that dU_xi = sum_t D_xi V_xi^T; then
 * dw (cout, c, 3, 3) += G^T dU G. */
void advc_wino_output_adjoint(const advc_conv_geom *g, int cout,
                              const float *dy, size_t t0, int nt, float *D,
                              int ldd);
void advc_wino_weights_adjoint(int cout, int c, const float *dU, float *dw);
void advc_wino_output_adjoint_ref(const advc_conv_geom *g, int cout,
                                  const float *dy, size_t t0, int nt,
                                  float *D, int ldd);
void advc_wino_weights_adjoint_ref(int cout, int c, const float *dU,
                                   float *dw);
void advc_wino_weights_ref(int cout, int c, const float *w, bool flip,
                           bool trans, float *U);
void advc_wino_input_ref(const advc_conv_geom *g, const float *x, size_t t0,
                         int nt, float *V, int ldv);
void advc_wino_output_ref(const advc_conv_geom *g, int cout, const float *M,
                          int ldm, size_t t0, int nt, const float *bias,
                          bool accumulate, float *y);

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
/* The moves of FAB's box-constrained L-inf projection (src/adv/
 * attack_fab.c), per coordinate: up = s w_i < 0 (s = +-1: which way
 * <w, t> must go), m_i = min(up ? hi - t_i : t_i - lo, lam), or 0 unless
 * w_i < 0 or w_i > 0; delta_i = up ? m_i : -m_i.  Returns max_i m_i (0
 * for n = 0). */
float advc_box_move(size_t n, const float *t, const float *w, float s,
                    float lam, float lo, float hi, float *delta);
float advc_box_move_ref(size_t n, const float *t, const float *w, float s,
                        float lam, float lo, float hi, float *delta);

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
