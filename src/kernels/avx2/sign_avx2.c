/* sign_avx2.c: the attack steps with AVX2 + FMA, 8 floats per vector.
 * The sign steps reproduce scalar/sign_ref.c bit for bit: a*sign(g) is
 * built from compare masks (exact), x + that is the one rounding, and the
 * clamps use maxps/minps, which make the same comparisons as the ref.
 * The L2 step works in double like the ref and matches it to 1 ulp.
 * Tails (n % 8) go through masked loads and stores, never past the end.
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

/* a*sign(g) per lane: blendv picks -a where g's sign bit is set, and the
 * mask g != 0 (ordered: false for NaN) zeroes the lanes with g = +-0 or
 * g = NaN, so a NaN gradient gives a zero step, as in the ref. */
static inline __m256 signed_step(__m256 g, __m256 a, __m256 na)
{
    __m256 nonzero = _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_NEQ_OQ);
    return _mm256_and_ps(nonzero, _mm256_blendv_ps(a, na, g));
}

/* maxps(v, lo) is v > lo ? v : lo and minps(v, hi) is v < hi ? v : hi:
 * exactly the ref's clamp, max first. */
static inline __m256 clamp(__m256 v, __m256 lo, __m256 hi)
{
    return _mm256_min_ps(_mm256_max_ps(v, lo), hi);
}

typedef struct {
    __m256 a, na;     /* step size a and -a          */
    __m256 eps;       /* radius of the ball around x0 */
    __m256 lo, hi;    /* the box                      */
} proj_consts;

/* clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) for 8 lanes */
static inline __m256 proj8(__m256 x, __m256 g, __m256 x0,
                           const proj_consts *k)
{
    __m256 v = _mm256_add_ps(x, signed_step(g, k->a, k->na));
    v = clamp(v, _mm256_sub_ps(x0, k->eps), _mm256_add_ps(x0, k->eps));
    return clamp(v, k->lo, k->hi);
}

/* x = clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
void advc_sign_step_proj_avx2(size_t n, float *x, const float *g,
                              const float *x0, float a, float eps, float lo,
                              float hi)
{
    proj_consts k = { _mm256_set1_ps(a), _mm256_set1_ps(-a),
                      _mm256_set1_ps(eps), _mm256_set1_ps(lo),
                      _mm256_set1_ps(hi) };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = proj8(_mm256_loadu_ps(x + i), _mm256_loadu_ps(g + i),
                         _mm256_loadu_ps(x0 + i), &k);
        _mm256_storeu_ps(x + i, v);
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 v = proj8(_mm256_maskload_ps(x + i, m),
                         _mm256_maskload_ps(g + i, m),
                         _mm256_maskload_ps(x0 + i, m), &k);
        _mm256_maskstore_ps(x + i, m, v);
    }
}

/* x = x + a*sign(g) */
void advc_sign_step_avx2(size_t n, float *x, const float *g, float a)
{
    __m256 va = _mm256_set1_ps(a), vna = _mm256_set1_ps(-a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 s = signed_step(_mm256_loadu_ps(g + i), va, vna);
        _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), s));
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 s = signed_step(_mm256_maskload_ps(g + i, m), va, vna);
        _mm256_maskstore_ps(x + i, m,
                            _mm256_add_ps(_mm256_maskload_ps(x + i, m), s));
    }
}

/* The 8 floats of v as two vectors of 4 doubles (exact). */
static inline __m256d lo_pd(__m256 v)
{
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}

static inline __m256d hi_pd(__m256 v)
{
    return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}

static inline double hsum_pd(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v),
                           _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* (float)(x + s*g) for 8 lanes: multiply and add in double as the ref
 * does, then one rounding to float */
static inline __m256 l2_8(__m256 x, __m256 g, __m256d s)
{
    __m128 lo = _mm256_cvtpd_ps(_mm256_add_pd(lo_pd(x),
                                              _mm256_mul_pd(s, lo_pd(g))));
    __m128 hi = _mm256_cvtpd_ps(_mm256_add_pd(hi_pd(x),
                                              _mm256_mul_pd(s, hi_pd(g))));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

/* x = x + a*g/||g||_2, in double like the ref (no overflow of ||g||^2 or
 * of a/||g||); the sum of squares uses 4 accumulators, so it is added in a
 * different order from the ref.  No change when ||g|| = 0 or is NaN. */
void advc_l2_step_avx2(size_t n, float *x, const float *g, float a)
{
    __m256d acc[4] = { _mm256_setzero_pd(), _mm256_setzero_pd(),
                       _mm256_setzero_pd(), _mm256_setzero_pd() };
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 g0 = _mm256_loadu_ps(g + i), g1 = _mm256_loadu_ps(g + i + 8);
        __m256d d0 = lo_pd(g0), d1 = hi_pd(g0);
        __m256d d2 = lo_pd(g1), d3 = hi_pd(g1);
        acc[0] = _mm256_fmadd_pd(d0, d0, acc[0]);
        acc[1] = _mm256_fmadd_pd(d1, d1, acc[1]);
        acc[2] = _mm256_fmadd_pd(d2, d2, acc[2]);
        acc[3] = _mm256_fmadd_pd(d3, d3, acc[3]);
    }
    for (; i < n; i += 8) { /* last 1..15; lanes past n load as 0 */
        size_t r = n - i < 8 ? n - i : 8;
        __m256 gv = _mm256_maskload_ps(g + i, tail_mask(r));
        __m256d d0 = lo_pd(gv), d1 = hi_pd(gv);
        acc[0] = _mm256_fmadd_pd(d0, d0, acc[0]);
        acc[1] = _mm256_fmadd_pd(d1, d1, acc[1]);
    }
    double ss = hsum_pd(_mm256_add_pd(_mm256_add_pd(acc[0], acc[1]),
                                      _mm256_add_pd(acc[2], acc[3])));
    if (!(ss > 0.0))
        return;
    __m256d s = _mm256_set1_pd((double)a / sqrt(ss));
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, l2_8(_mm256_loadu_ps(x + i),
                                     _mm256_loadu_ps(g + i), s));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(x + i, m, l2_8(_mm256_maskload_ps(x + i, m),
                                           _mm256_maskload_ps(g + i, m), s));
    }
}
