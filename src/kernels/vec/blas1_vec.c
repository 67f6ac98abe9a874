/* blas1_vec.c: BLAS-1 kernels and optimizer updates, written once over the
 * vector layer (vec.h) for this build's SIMD ISA.
 * The element-wise kernels (axpy, scale, SGD, Adam) round every operation
 * as scalar/blas1_ref.c does, no fma, so they match it bit for bit on
 * every ISA: these loops are memory-bound, a fused rounding would save no
 * time, and every ISA then trains identically.  sum and dot keep 4 vector
 * accumulators (VEC_SUM_PARTIALS = 4 VEC_LANES partial sums, dot with
 * fma): a different order from the ref, and from one ISA to another;
 * error <= (n / VEC_SUM_PARTIALS + 10) u sum|terms|, u = 2^-24.  Tails are
 * partial vectors (vload_n / vstore_n), never past the end.
 */
#include <math.h>
#include "vec/vec_kernels.h"
#include "vec/vec.h"

/* y + a x, rounded twice like the ref */
static inline vf axpy_v(vf a, vf x, vf y) { return vadd(y, vmul(a, x)); }

/* y = y + a x  (multiply, then add: the ref's two roundings) */
void advc_axpy_vec(size_t n, float a, const float *x, float *y)
{
    vf va = vdup(a);
    size_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(y + i, axpy_v(va, vload(x + i), vload(y + i)));
    if (i < n) {
        size_t r = n - i;
        vstore_n(y + i, axpy_v(va, vload_n(x + i, r), vload_n(y + i, r)), r);
    }
}

/* x = a x  (exactly the ref: one rounded multiply) */
void advc_scale_vec(size_t n, float a, float *x)
{
    vf va = vdup(a);
    size_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(x + i, vmul(va, vload(x + i)));
    if (i < n)
        vstore_n(x + i, vmul(va, vload_n(x + i, n - i)), n - i);
}

enum { V = VEC_LANES }; /* short name for the loop strides below */

/* sum_i x_i over 4 accumulators; lanes past n load as 0 */
float advc_sum_vec(size_t n, const float *x)
{
    vf s0 = vzero(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * V <= n; i += 4 * V) {
        s0 = vadd(s0, vload(x + i));
        s1 = vadd(s1, vload(x + i + V));
        s2 = vadd(s2, vload(x + i + 2 * V));
        s3 = vadd(s3, vload(x + i + 3 * V));
    }
    for (; i + V <= n; i += V)
        s0 = vadd(s0, vload(x + i));
    if (i < n)
        s1 = vadd(s1, vload_n(x + i, n - i));
    return vhsum(vadd(vadd(s0, s1), vadd(s2, s3)));
}

/* max_i x_i, -inf for n = 0.  vmax_gt(x, m) is x > m ? x : m, so a NaN x
 * leaves m alone: NaNs are skipped, as in the ref. */
float advc_max_vec(size_t n, const float *x)
{
    vf m0 = vdup(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    size_t i = 0;
    for (; i + 4 * V <= n; i += 4 * V) {
        m0 = vmax_gt(vload(x + i), m0);
        m1 = vmax_gt(vload(x + i + V), m1);
        m2 = vmax_gt(vload(x + i + 2 * V), m2);
        m3 = vmax_gt(vload(x + i + 3 * V), m3);
    }
    for (; i + V <= n; i += V)
        m0 = vmax_gt(vload(x + i), m0);
    if (i < n) {
        /* lanes past n would load as 0, which could win: make them -inf */
        vf v = vsel(vfirst(n - i), vload_n(x + i, n - i), vdup(-INFINITY));
        m1 = vmax_gt(v, m1);
    }
    return vhmax(vmax_gt(vmax_gt(m0, m1), vmax_gt(m2, m3)));
}

/* sum_i x_i y_i over 4 fma accumulators; lanes past n load as 0 */
float advc_dot_vec(size_t n, const float *x, const float *y)
{
    vf s0 = vzero(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * V <= n; i += 4 * V) {
        s0 = vfma(vload(x + i), vload(y + i), s0);
        s1 = vfma(vload(x + i + V), vload(y + i + V), s1);
        s2 = vfma(vload(x + i + 2 * V), vload(y + i + 2 * V), s2);
        s3 = vfma(vload(x + i + 3 * V), vload(y + i + 3 * V), s3);
    }
    for (; i + V <= n; i += V)
        s0 = vfma(vload(x + i), vload(y + i), s0);
    if (i < n)
        s1 = vfma(vload_n(x + i, n - i), vload_n(y + i, n - i), s1);
    return vhsum(vadd(vadd(s0, s1), vadd(s2, s3)));
}

typedef struct {
    vf lr, mu, wd;
} sgd_consts;

/* One SGD step on one vector, operation for operation the ref's; w and v
 * are updated through the pointers. */
static inline void sgd_v(vf *w, vf g, vf *v, const sgd_consts *k,
                         bool nesterov)
{
    vf gp = vadd(g, vmul(k->wd, *w));                    /* g + wd w  */
    *v = vadd(vmul(k->mu, *v), gp);                      /* mu v + g' */
    vf d = nesterov ? vadd(gp, vmul(k->mu, *v)) : *v;
    *w = vsub(*w, vmul(k->lr, d));                       /* w - lr d  */
}

/* g' = g + wd w;  v = mu v + g';  w = w - lr (nesterov ? g' + mu v : v) */
void advc_sgd_update_vec(size_t n, float *w, const float *g, float *v,
                         float lr, float mu, float wd, bool nesterov)
{
    sgd_consts k = { vdup(lr), vdup(mu), vdup(wd) };
    size_t i = 0;
    for (; i + V <= n; i += V) {
        vf wv = vload(w + i), vv = vload(v + i);
        sgd_v(&wv, vload(g + i), &vv, &k, nesterov);
        vstore(w + i, wv);
        vstore(v + i, vv);
    }
    if (i < n) {
        size_t r = n - i;
        vf wv = vload_n(w + i, r), vv = vload_n(v + i, r);
        sgd_v(&wv, vload_n(g + i, r), &vv, &k, nesterov);
        vstore_n(w + i, wv, r);
        vstore_n(v + i, vv, r);
    }
}

typedef struct {
    vf b1, c1;   /* b1 and 1 - b1    */
    vf b2, c2;   /* b2 and 1 - b2    */
    vf step;     /* lr / (1 - b1^t)  */
    vf ibc2;     /* 1 / (1 - b2^t)   */
    vf eps, wd;
} adam_consts;

/* One Adam step on one vector, operation for operation the ref's (vector
 * sqrt and divide are correctly rounded, like sqrtf and /); w, m, v are
 * updated through the pointers. */
static inline void adam_v(vf *w, vf g, vf *m, vf *v, const adam_consts *k)
{
    vf gp = vadd(g, vmul(k->wd, *w));                          /* g + wd w */
    *m = vadd(vmul(k->b1, *m), vmul(k->c1, gp));           /* b1 m + c1 g' */
    *v = vadd(vmul(k->b2, *v), vmul(k->c2, vmul(gp, gp))); /* b2 v + c2 g'^2 */
    vf den = vadd(vsqrt(vmul(*v, k->ibc2)), k->eps); /* sqrt(v/(1-b2^t))+eps */
    *w = vsub(*w, vdiv(vmul(k->step, *m), den));
}

/* g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 * w = w - (lr/(1-b1^t)) m / (sqrt(v/(1-b2^t)) + eps); the bias
 * corrections are made once, in double, exactly as in the ref. */
void advc_adam_update_vec(size_t n, float *w, const float *g, float *m,
                          float *v, float lr, float b1, float b2, float eps,
                          float wd, int t)
{
    adam_consts k;
    k.b1 = vdup(b1);
    k.c1 = vdup(1.0f - b1);
    k.b2 = vdup(b2);
    k.c2 = vdup(1.0f - b2);
    k.step = vdup((float)((double)lr / (1.0 - pow(b1, t))));
    k.ibc2 = vdup((float)(1.0 / (1.0 - pow(b2, t))));
    k.eps = vdup(eps);
    k.wd = vdup(wd);
    size_t i = 0;
    for (; i + V <= n; i += V) {
        vf wv = vload(w + i), mv = vload(m + i), vv = vload(v + i);
        adam_v(&wv, vload(g + i), &mv, &vv, &k);
        vstore(w + i, wv);
        vstore(m + i, mv);
        vstore(v + i, vv);
    }
    if (i < n) {
        size_t r = n - i;
        vf wv = vload_n(w + i, r), mv = vload_n(m + i, r);
        vf vv = vload_n(v + i, r);
        adam_v(&wv, vload_n(g + i, r), &mv, &vv, &k);
        vstore_n(w + i, wv, r);
        vstore_n(m + i, mv, r);
        vstore_n(v + i, vv, r);
    }
}
