/* blas1_ref.c: BLAS-1 kernels and optimizer updates, written plainly.
 * These are the specification and test oracle for the SIMD versions, and
 * the kernels of a SIMD=scalar build.  Every operation rounds as written
 * (no fused multiply-add); sum and dot accumulate in double and round once,
 * so they are the accurate side of any comparison.
 */
#include <assert.h>
#include <math.h>
#include "advc/kernels.h"

/* clang contracts a*b + c into an fma by default; the references must
 * round every operation as written (gcc -std=c11 already does). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* y = y + a x */
void advc_axpy_ref(size_t n, float a, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = y[i] + a * x[i];
}

/* x = a x */
void advc_scale_ref(size_t n, float a, float *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = a * x[i];
}

/* sum_i x_i, accumulated in double, in index order */
float advc_sum_ref(size_t n, const float *x)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return (float)s;
}

/* max_i x_i; -inf for n = 0.  NaNs are skipped (x > m is false for them),
 * as the SIMD max instructions are made to do. */
float advc_max_ref(size_t n, const float *x)
{
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

/* sum_i x_i y_i, accumulated in double (each product is exact there) */
float advc_dot_ref(size_t n, const float *x, const float *y)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)y[i];
    return (float)s;
}

/* g' = g + wd w;  v = mu v + g';  w = w - lr (nesterov ? g' + mu v : v) */
void advc_sgd_update_ref(size_t n, float *w, const float *g, float *v,
                         float lr, float mu, float wd, bool nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        v[i] = mu * v[i] + gi;
        float d = nesterov ? gi + mu * v[i] : v[i];
        w[i] = w[i] - lr * d;
    }
}

/* g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 * w = w - (lr/(1-b1^t)) m / (sqrt(v/(1-b2^t)) + eps).
 * The two bias corrections are computed once, in double, then rounded to
 * float; 1/(1-b2^t) multiplies v (rather than dividing it) so the SIMD
 * kernels can use the same constant. */
void advc_adam_update_ref(size_t n, float *w, const float *g, float *m,
                          float *v, float lr, float b1, float b2, float eps,
                          float wd, int t)
{
    assert(t >= 1);
    float step = (float)((double)lr / (1.0 - pow(b1, t))); /* lr/(1-b1^t) */
    float ibc2 = (float)(1.0 / (1.0 - pow(b2, t)));        /* 1/(1-b2^t)  */
    float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        m[i] = b1 * m[i] + c1 * gi;
        v[i] = b2 * v[i] + c2 * (gi * gi);
        float den = sqrtf(v[i] * ibc2) + eps;
        w[i] = w[i] - (step * m[i]) / den;
    }
}
