/* blas1_avx2.c: BLAS-1 kernels and optimizer updates with AVX2 + FMA.
 * The element-wise kernels (axpy, scale, SGD, Adam) round every operation
 * as scalar/blas1_ref.c does, no fma, so they match it bit for bit: these
 * loops are memory-bound, a fused rounding would save no time, and every
 * ISA then trains identically.  sum and dot keep 4 vector accumulators (32
 * partial sums, dot with fma): a different order from the ref, error <=
 * (n/32 + 10) u sum|terms|, u = 2^-24.  Tails use masked loads and stores.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include "avx2/avx2_kernels.h"

/* Eight -1s then eight 0s: 8 consecutive words starting at 8 - r give a
 * mask whose first r lanes are set (0 <= r <= 8). */
static const int32_t tail_words[16] = { -1, -1, -1, -1, -1, -1, -1, -1,
                                        0,  0,  0,  0,  0,  0,  0,  0 };

static inline __m256i tail_mask(size_t r)
{
    return _mm256_loadu_si256((const __m256i *)(tail_words + 8 - r));
}

/* Sum of the 8 lanes: halves, then pairs, then the last two. */
static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
                          _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* Max of the 8 lanes, same tree as hsum. */
static inline float hmax(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v),
                          _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

/* y + a x for 8 lanes, rounded twice like the ref */
static inline __m256 axpy8(__m256 a, __m256 x, __m256 y)
{
    return _mm256_add_ps(y, _mm256_mul_ps(a, x));
}

/* y = y + a x  (multiply, then add: the ref's two roundings) */
void advc_axpy_avx2(size_t n, float a, const float *x, float *y)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, axpy8(va, _mm256_loadu_ps(x + i),
                                      _mm256_loadu_ps(y + i)));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 v = axpy8(va, _mm256_maskload_ps(x + i, m),
                         _mm256_maskload_ps(y + i, m));
        _mm256_maskstore_ps(y + i, m, v);
    }
}

/* x = a x  (exactly the ref: one rounded multiply) */
void advc_scale_avx2(size_t n, float a, float *x)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(va, _mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(x + i, m,
                            _mm256_mul_ps(va, _mm256_maskload_ps(x + i, m)));
    }
}

/* sum_i x_i over 4 accumulators; lanes past n load as 0 */
float advc_sum_avx2(size_t n, const float *x)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 24));
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    if (i < n)
        s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + i, tail_mask(n - i)));
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* max_i x_i, -inf for n = 0.  maxps(x, m) is x > m ? x : m, so a NaN x
 * leaves m alone: NaNs are skipped, as in the ref. */
float advc_max_avx2(size_t n, const float *x)
{
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
        m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
        m2 = _mm256_max_ps(_mm256_loadu_ps(x + i + 16), m2);
        m3 = _mm256_max_ps(_mm256_loadu_ps(x + i + 24), m3);
    }
    for (; i + 8 <= n; i += 8)
        m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    if (i < n) {
        /* masked-off lanes load as 0, which could win: make them -inf */
        __m256i k = tail_mask(n - i);
        __m256 v = _mm256_blendv_ps(m1, _mm256_maskload_ps(x + i, k),
                                    _mm256_castsi256_ps(k));
        m1 = _mm256_max_ps(v, m1);
    }
    return hmax(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
}

/* sum_i x_i y_i over 4 fma accumulators; lanes past n load as 0 */
float advc_dot_avx2(size_t n, const float *x, const float *y)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i),
                             _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8),
                             _mm256_loadu_ps(y + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16),
                             _mm256_loadu_ps(y + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24),
                             _mm256_loadu_ps(y + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i),
                             _mm256_loadu_ps(y + i), s0);
    if (i < n) {
        __m256i m = tail_mask(n - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, m),
                             _mm256_maskload_ps(y + i, m), s1);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

typedef struct {
    __m256 lr, mu, wd;
} sgd_consts;

/* One SGD step on 8 lanes, operation for operation the ref's; w and v
 * are updated through the pointers. */
static inline void sgd8(__m256 *w, __m256 g, __m256 *v, const sgd_consts *k,
                        bool nesterov)
{
    __m256 gp = _mm256_add_ps(g, _mm256_mul_ps(k->wd, *w));   /* g + wd w */
    *v = _mm256_add_ps(_mm256_mul_ps(k->mu, *v), gp);         /* mu v + g' */
    __m256 d = nesterov ? _mm256_add_ps(gp, _mm256_mul_ps(k->mu, *v)) : *v;
    *w = _mm256_sub_ps(*w, _mm256_mul_ps(k->lr, d));          /* w - lr d */
}

/* g' = g + wd w;  v = mu v + g';  w = w - lr (nesterov ? g' + mu v : v) */
void advc_sgd_update_avx2(size_t n, float *w, const float *g, float *v,
                          float lr, float mu, float wd, bool nesterov)
{
    sgd_consts k = { _mm256_set1_ps(lr), _mm256_set1_ps(mu),
                     _mm256_set1_ps(wd) };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv = _mm256_loadu_ps(w + i), vv = _mm256_loadu_ps(v + i);
        sgd8(&wv, _mm256_loadu_ps(g + i), &vv, &k, nesterov);
        _mm256_storeu_ps(w + i, wv);
        _mm256_storeu_ps(v + i, vv);
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 wv = _mm256_maskload_ps(w + i, m);
        __m256 vv = _mm256_maskload_ps(v + i, m);
        sgd8(&wv, _mm256_maskload_ps(g + i, m), &vv, &k, nesterov);
        _mm256_maskstore_ps(w + i, m, wv);
        _mm256_maskstore_ps(v + i, m, vv);
    }
}

typedef struct {
    __m256 b1, c1;    /* b1 and 1 - b1                 */
    __m256 b2, c2;    /* b2 and 1 - b2                 */
    __m256 step;      /* lr / (1 - b1^t)               */
    __m256 ibc2;      /* 1 / (1 - b2^t)                */
    __m256 eps, wd;
} adam_consts;

/* One Adam step on 8 lanes, operation for operation the ref's (sqrtps
 * and divps are correctly rounded, like sqrtf and /); w, m, v are updated
 * through the pointers. */
static inline void adam8(__m256 *w, __m256 g, __m256 *m, __m256 *v,
                         const adam_consts *k)
{
    __m256 gp = _mm256_add_ps(g, _mm256_mul_ps(k->wd, *w));   /* g + wd w */
    *m = _mm256_add_ps(_mm256_mul_ps(k->b1, *m),              /* b1 m     */
                       _mm256_mul_ps(k->c1, gp));             /* + c1 g'  */
    *v = _mm256_add_ps(_mm256_mul_ps(k->b2, *v),              /* b2 v     */
                       _mm256_mul_ps(k->c2, _mm256_mul_ps(gp, gp)));
    __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(*v, k->ibc2)),
                               k->eps);           /* sqrt(v/(1-b2^t)) + eps */
    *w = _mm256_sub_ps(*w, _mm256_div_ps(_mm256_mul_ps(k->step, *m), den));
}

/* g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 * w = w - (lr/(1-b1^t)) m / (sqrt(v/(1-b2^t)) + eps); the bias
 * corrections are made once, in double, exactly as in the ref. */
void advc_adam_update_avx2(size_t n, float *w, const float *g, float *m,
                           float *v, float lr, float b1, float b2, float eps,
                           float wd, int t)
{
    adam_consts k;
    k.b1 = _mm256_set1_ps(b1);
    k.c1 = _mm256_set1_ps(1.0f - b1);
    k.b2 = _mm256_set1_ps(b2);
    k.c2 = _mm256_set1_ps(1.0f - b2);
    k.step = _mm256_set1_ps((float)((double)lr / (1.0 - pow(b1, t))));
    k.ibc2 = _mm256_set1_ps((float)(1.0 / (1.0 - pow(b2, t))));
    k.eps = _mm256_set1_ps(eps);
    k.wd = _mm256_set1_ps(wd);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv = _mm256_loadu_ps(w + i), mv = _mm256_loadu_ps(m + i);
        __m256 vv = _mm256_loadu_ps(v + i);
        adam8(&wv, _mm256_loadu_ps(g + i), &mv, &vv, &k);
        _mm256_storeu_ps(w + i, wv);
        _mm256_storeu_ps(m + i, mv);
        _mm256_storeu_ps(v + i, vv);
    }
    if (i < n) {
        __m256i q = tail_mask(n - i);
        __m256 wv = _mm256_maskload_ps(w + i, q);
        __m256 mv = _mm256_maskload_ps(m + i, q);
        __m256 vv = _mm256_maskload_ps(v + i, q);
        adam8(&wv, _mm256_maskload_ps(g + i, q), &mv, &vv, &k);
        _mm256_maskstore_ps(w + i, q, wv);
        _mm256_maskstore_ps(m + i, q, mv);
        _mm256_maskstore_ps(v + i, q, vv);
    }
}
