/* blas1_neon.c: BLAS-1 kernels and optimizer updates with AArch64 NEON.
 * The element-wise kernels (axpy, scale, SGD, Adam) round every operation
 * as scalar/blas1_ref.c does, no fma, so they match it bit for bit: these
 * loops are memory-bound, a fused rounding would save no time, and every
 * ISA then trains identically.  sum and dot keep 4 vector accumulators (16
 * partial sums, dot with fma): a different order from the ref, error <=
 * (n/16 + 10) u sum|terms|, u = 2^-24.  Tails go through a padded buffer.
 */
#include <arm_neon.h>
#include <math.h>
#include <string.h>
#include "neon/neon_kernels.h"

/* Copies the last r < 4 floats of src into a 4-float buffer whose other
 * lanes hold pad, and loads it. */
static inline float32x4_t load_tail(const float *src, size_t r, float pad)
{
    float b[4] = { pad, pad, pad, pad };
    memcpy(b, src, r * sizeof *src);
    return vld1q_f32(b);
}

/* Stores the first r < 4 lanes of v to dst. */
static inline void store_tail(float *dst, size_t r, float32x4_t v)
{
    float b[4];
    vst1q_f32(b, v);
    memcpy(dst, b, r * sizeof *dst);
}

/* y + a x for 4 lanes, rounded twice like the ref */
static inline float32x4_t axpy4(float32x4_t a, float32x4_t x, float32x4_t y)
{
    return vaddq_f32(y, vmulq_f32(a, x));
}

/* y = y + a x  (multiply, then add: the ref's two roundings) */
void advc_axpy_neon(size_t n, float a, const float *x, float *y)
{
    float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, axpy4(va, vld1q_f32(x + i), vld1q_f32(y + i)));
    if (i < n)
        store_tail(y + i, n - i, axpy4(va, load_tail(x + i, n - i, 0.0f),
                                       load_tail(y + i, n - i, 0.0f)));
}

/* x = a x  (exactly the ref: one rounded multiply) */
void advc_scale_neon(size_t n, float a, float *x)
{
    float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(x + i, vmulq_f32(va, vld1q_f32(x + i)));
    if (i < n)
        store_tail(x + i, n - i,
                   vmulq_f32(va, load_tail(x + i, n - i, 0.0f)));
}

/* sum_i x_i over 4 accumulators; the tail is padded with 0 */
float advc_sum_neon(size_t n, const float *x)
{
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vaddq_f32(s0, vld1q_f32(x + i));
        s1 = vaddq_f32(s1, vld1q_f32(x + i + 4));
        s2 = vaddq_f32(s2, vld1q_f32(x + i + 8));
        s3 = vaddq_f32(s3, vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4)
        s0 = vaddq_f32(s0, vld1q_f32(x + i));
    if (i < n)
        s1 = vaddq_f32(s1, load_tail(x + i, n - i, 0.0f));
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

/* max_i x_i, -inf for n = 0.  FMAXNM returns the number when the other
 * operand is a quiet NaN, so NaNs are skipped, as in the ref. */
float advc_max_neon(size_t n, const float *x)
{
    float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        m0 = vmaxnmq_f32(m0, vld1q_f32(x + i));
        m1 = vmaxnmq_f32(m1, vld1q_f32(x + i + 4));
        m2 = vmaxnmq_f32(m2, vld1q_f32(x + i + 8));
        m3 = vmaxnmq_f32(m3, vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4)
        m0 = vmaxnmq_f32(m0, vld1q_f32(x + i));
    if (i < n)
        m1 = vmaxnmq_f32(m1, load_tail(x + i, n - i, -INFINITY));
    return vmaxnmvq_f32(vmaxnmq_f32(vmaxnmq_f32(m0, m1), vmaxnmq_f32(m2, m3)));
}

/* sum_i x_i y_i over 4 fma accumulators; the tail is padded with 0 */
float advc_dot_neon(size_t n, const float *x, const float *y)
{
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(x + i), vld1q_f32(y + i));
        s1 = vfmaq_f32(s1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    for (; i + 4 <= n; i += 4)
        s0 = vfmaq_f32(s0, vld1q_f32(x + i), vld1q_f32(y + i));
    if (i < n)
        s1 = vfmaq_f32(s1, load_tail(x + i, n - i, 0.0f),
                       load_tail(y + i, n - i, 0.0f));
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

typedef struct {
    float32x4_t lr, mu, wd;
} sgd_consts;

/* One SGD step on 4 lanes, operation for operation the ref's; w and v
 * are updated through the pointers. */
static inline void sgd4(float32x4_t *w, float32x4_t g, float32x4_t *v,
                        const sgd_consts *k, bool nesterov)
{
    float32x4_t gp = vaddq_f32(g, vmulq_f32(k->wd, *w));       /* g + wd w */
    *v = vaddq_f32(vmulq_f32(k->mu, *v), gp);                  /* mu v + g' */
    float32x4_t d = nesterov ? vaddq_f32(gp, vmulq_f32(k->mu, *v)) : *v;
    *w = vsubq_f32(*w, vmulq_f32(k->lr, d));                   /* w - lr d */
}

/* g' = g + wd w;  v = mu v + g';  w = w - lr (nesterov ? g' + mu v : v) */
void advc_sgd_update_neon(size_t n, float *w, const float *g, float *v,
                          float lr, float mu, float wd, bool nesterov)
{
    sgd_consts k = { vdupq_n_f32(lr), vdupq_n_f32(mu), vdupq_n_f32(wd) };
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t wv = vld1q_f32(w + i), vv = vld1q_f32(v + i);
        sgd4(&wv, vld1q_f32(g + i), &vv, &k, nesterov);
        vst1q_f32(w + i, wv);
        vst1q_f32(v + i, vv);
    }
    if (i < n) {
        size_t r = n - i;
        float32x4_t wv = load_tail(w + i, r, 0.0f);
        float32x4_t vv = load_tail(v + i, r, 0.0f);
        sgd4(&wv, load_tail(g + i, r, 0.0f), &vv, &k, nesterov);
        store_tail(w + i, r, wv);
        store_tail(v + i, r, vv);
    }
}

typedef struct {
    float32x4_t b1, c1;   /* b1 and 1 - b1    */
    float32x4_t b2, c2;   /* b2 and 1 - b2    */
    float32x4_t step;     /* lr / (1 - b1^t)  */
    float32x4_t ibc2;     /* 1 / (1 - b2^t)   */
    float32x4_t eps, wd;
} adam_consts;

/* One Adam step on 4 lanes, operation for operation the ref's (FSQRT and
 * FDIV are correctly rounded, like sqrtf and /); w, m, v are updated
 * through the pointers. */
static inline void adam4(float32x4_t *w, float32x4_t g, float32x4_t *m,
                         float32x4_t *v, const adam_consts *k)
{
    float32x4_t gp = vaddq_f32(g, vmulq_f32(k->wd, *w));       /* g + wd w */
    *m = vaddq_f32(vmulq_f32(k->b1, *m), vmulq_f32(k->c1, gp)); /* b1m+c1g' */
    *v = vaddq_f32(vmulq_f32(k->b2, *v),                       /* b2 v     */
                   vmulq_f32(k->c2, vmulq_f32(gp, gp)));       /* + c2 g'^2 */
    float32x4_t den = vaddq_f32(vsqrtq_f32(vmulq_f32(*v, k->ibc2)), k->eps);
    *w = vsubq_f32(*w, vdivq_f32(vmulq_f32(k->step, *m), den));
}

/* g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 * w = w - (lr/(1-b1^t)) m / (sqrt(v/(1-b2^t)) + eps); the bias
 * corrections are made once, in double, exactly as in the ref. */
void advc_adam_update_neon(size_t n, float *w, const float *g, float *m,
                           float *v, float lr, float b1, float b2, float eps,
                           float wd, int t)
{
    adam_consts k;
    k.b1 = vdupq_n_f32(b1);
    k.c1 = vdupq_n_f32(1.0f - b1);
    k.b2 = vdupq_n_f32(b2);
    k.c2 = vdupq_n_f32(1.0f - b2);
    k.step = vdupq_n_f32((float)((double)lr / (1.0 - pow(b1, t))));
    k.ibc2 = vdupq_n_f32((float)(1.0 / (1.0 - pow(b2, t))));
    k.eps = vdupq_n_f32(eps);
    k.wd = vdupq_n_f32(wd);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t wv = vld1q_f32(w + i), mv = vld1q_f32(m + i);
        float32x4_t vv = vld1q_f32(v + i);
        adam4(&wv, vld1q_f32(g + i), &mv, &vv, &k);
        vst1q_f32(w + i, wv);
        vst1q_f32(m + i, mv);
        vst1q_f32(v + i, vv);
    }
    if (i < n) {
        size_t r = n - i;
        float32x4_t wv = load_tail(w + i, r, 0.0f);
        float32x4_t mv = load_tail(m + i, r, 0.0f);
        float32x4_t vv = load_tail(v + i, r, 0.0f);
        adam4(&wv, load_tail(g + i, r, 0.0f), &mv, &vv, &k);
        store_tail(w + i, r, wv);
        store_tail(m + i, r, mv);
        store_tail(v + i, r, vv);
    }
}
