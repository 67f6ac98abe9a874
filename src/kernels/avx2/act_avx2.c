/* act_avx2.c: activation forward and backward with AVX2 + FMA, 8 floats
 * per vector, two vectors per loop step.  Each activation is one 8-lane
 * function built on vmath_avx2.h; the tail (n % 8) runs the same function
 * on a zero-padded copy, so every element gets exactly the value the
 * vector loop would give it.  Formulas match scalar/act_ref.c; act.h
 * states the accuracy.  Smooth functions use e = e^-|x| (or e^-a|x|,
 * e^-2|x|, e^(-x^2/2)), which is in [0, 1]: nothing overflows.
 */
#include <math.h>
#include <string.h>
#include "avx2/avx2_kernels.h"
#include "avx2/vmath_avx2.h"

/* psoftplus's alpha: a, and 1/a = inv_hi + inv_lo (two floats).  The
 * inv_lo term is used only where L inv_lo stays normal (L >= lo_min),
 * because subnormal products are slow; below that it is worth less than
 * an ulp of a result that is itself < 2^-100. */
typedef struct {
    __m256 a, inv_hi, inv_lo, lo_min;
    __m256 cut_fwd; /* exp cut-off for the forward: L/a stays normal */
} act_par;

typedef __m256 (*fwd_op)(__m256 x, const act_par *k);
typedef __m256 (*bwd_op)(__m256 x, __m256 dy, const act_par *k);

static inline __m256 sign_bit(void) { return v8(-0.0f); }
/* -|x|: set the sign bit */
static inline __m256 neg_abs(__m256 x) { return _mm256_or_ps(x, sign_bit()); }
static inline __m256 vabs(__m256 x) { return _mm256_andnot_ps(sign_bit(), x); }
/* x's sign bit set (x < 0 or x = -0) ? if_neg : if_pos */
static inline __m256 by_sign(__m256 x, __m256 if_pos, __m256 if_neg)
{
    return _mm256_blendv_ps(if_pos, if_neg, x);
}

static inline __m256 exp_cut(void) { return v8(ACT_EXP_CUT); }

/* e^-|x| (0 below -87.68, see vexp_neg) */
static inline __m256 exp_neg_abs(__m256 x) { return vexp_neg(neg_abs(x)); }

/* e^(a * -|x|) with a * -|x| formed exactly as hi + lo; 0 below cut */
static inline __m256 exp_neg_scaled(__m256 x, __m256 a, __m256 cut)
{
    __m256 nx = neg_abs(x);
    __m256 hi = _mm256_mul_ps(a, nx);
    __m256 lo = _mm256_fmsub_ps(a, nx, hi); /* a nx - hi, exact */
    return vexp_neg_hilo(hi, lo, cut);
}

/* E = e^(-t^2/2), t^2 = hi + lo exact (t <= ACT_GELU_TMAX: no overflow);
 * 0 below cut */
static inline __m256 gauss_exp(__m256 t, __m256 cut)
{
    __m256 hi = _mm256_mul_ps(t, t);
    __m256 lo = _mm256_fmsub_ps(t, t, hi);
    return vexp_neg_hilo(_mm256_mul_ps(hi, v8(-0.5f)),
                         _mm256_mul_ps(lo, v8(-0.5f)), cut);
}

/* tanh' divides by (1 + e)^2, e = e^-2|x| in [0, 1].  d = 1 + e and D = d^2
 * are rounded; with t = d's exact rounding error, (1 + e)^2 = D + Dl,
 * Dl = (d^2 - D) + 2 d t, and 1/(D + Dl) = R + Rl (vrecip2), so the
 * quotient is rounded once.  Rl (and the numerator's low part) are dropped
 * where e < 2^-30: there the correction is below 2^-29 of the result, and
 * keeping it would make subnormal products (slow).  *big: e >= 2^-30. */
static inline __m256 den_one_plus_sq(__m256 e, __m256 *Rl, __m256 *big)
{
    __m256 d = _mm256_add_ps(v8(1.0f), e);
    __m256 t = one_plus_err(e, d);
    __m256 D = _mm256_mul_ps(d, d);
    __m256 Dl = _mm256_fmadd_ps(_mm256_add_ps(d, d), t,
                                _mm256_fmsub_ps(d, d, D));
    __m256 R = vrecip2(D, Dl, Rl);
    *big = _mm256_cmp_ps(e, v8(0x1p-30f), _CMP_GE_OQ);
    *Rl = _mm256_and_ps(*Rl, *big);
    return R;
}

/* a e as hi + lo (lo = 0 where !big) */
static inline __m256 mul_lo(__m256 a, __m256 e, __m256 hi, __m256 big)
{
    return _mm256_and_ps(_mm256_fmsub_ps(a, e, hi), big);
}

/* ---- forward ------------------------------------------------------------ */

/* x */
static inline __m256 fwd_identity(__m256 x, const act_par *k)
{
    (void)k;
    return x;
}

/* max(x, 0); maxps gives +0 for x = -0 */
static inline __m256 fwd_relu(__m256 x, const act_par *k)
{
    (void)k;
    return _mm256_max_ps(x, _mm256_setzero_ps());
}

/* max(x, 0) + log1p(e^-|x|) */
static inline __m256 fwd_softplus(__m256 x, const act_par *k)
{
    (void)k;
    __m256 lo, L = vlog1p_unit2(exp_neg_abs(x), &lo);
    (void)lo;
    return _mm256_add_ps(_mm256_max_ps(x, _mm256_setzero_ps()), L);
}

/* max(x, 0) + log1p(e^-a|x|) (inv_hi + inv_lo), the product rounded once */
static inline __m256 fwd_psoftplus(__m256 x, const act_par *k)
{
    __m256 lo, L = vlog1p_unit2(exp_neg_scaled(x, k->a, k->cut_fwd), &lo);
    /* L inv_lo only where it is normal (see act_par) */
    __m256 il = _mm256_and_ps(k->inv_lo,
                              _mm256_cmp_ps(L, k->lo_min, _CMP_GE_OQ));
    __m256 La = vmul2(L, lo, k->inv_hi, il);
    return _mm256_add_ps(_mm256_max_ps(x, _mm256_setzero_ps()), La);
}

/* x s(x) = (x or x e) / (1 + e), e = e^-|x| */
static inline __m256 fwd_silu(__m256 x, const act_par *k)
{
    (void)k;
    __m256 e = exp_neg_abs(x);
    __m256 num = by_sign(x, x, _mm256_mul_ps(x, e));
    return _mm256_div_ps(num, _mm256_add_ps(v8(1.0f), e));
}

/* x Phi(x) = x - (x E) G (x >= 0) or (x E) G, with Phi(-|x|) = E G(|x|),
 * E = e^(-x^2/2).  (x E) first keeps every product normal down to the
 * cut-off; E = 0 once |x| > 13.04, where |x Phi(x)| < 4.9e-38. */
static inline __m256 fwd_gelu(__m256 x, const act_par *k)
{
    (void)k;
    __m256 t = _mm256_min_ps(vabs(x), v8(ACT_GELU_TMAX));
    __m256 xE = _mm256_mul_ps(x, gauss_exp(t, v8(ACT_GELU_FWD_CUT)));
    __m256 G = vgauss_tail(t);
    return by_sign(x, _mm256_fnmadd_ps(xE, G, x), _mm256_mul_ps(xE, G));
}

/* x > 0 ? x : e^x - 1 */
static inline __m256 fwd_elu(__m256 x, const act_par *k)
{
    (void)k;
    return by_sign(x, x, vexpm1_neg(x));
}

/* (1 or e) / (1 + e), e = e^-|x| */
static inline __m256 fwd_sigmoid(__m256 x, const act_par *k)
{
    (void)k;
    __m256 e = exp_neg_abs(x);
    return _mm256_div_ps(by_sign(x, v8(1.0f), e), _mm256_add_ps(v8(1.0f), e));
}

/* sign(x) tanh|x|, tanh|x| = m / (-2 - m), m = e^(-2|x|) - 1 in [-1, 0] */
static inline __m256 fwd_tanh(__m256 x, const act_par *k)
{
    (void)k;
    __m256 nx = neg_abs(x);
    __m256 m = vexpm1_neg(_mm256_add_ps(nx, nx));
    __m256 b = _mm256_sub_ps(v8(-2.0f), m);
    __m256 bl = _mm256_sub_ps(_mm256_sub_ps(v8(-2.0f), b), m); /* exact */
    __m256 rl, r = vrecip2(b, bl, &rl);
    /* for |m| < 2^-30 the correction is negligible and would be subnormal */
    rl = _mm256_and_ps(rl, _mm256_cmp_ps(m, v8(-0x1p-30f), _CMP_LE_OQ));
    __m256 t = vmul2(m, _mm256_setzero_ps(), r, rl);
    /* |t| with x's sign (t is -0 at x = +-0) */
    return _mm256_or_ps(vabs(t), _mm256_and_ps(x, sign_bit()));
}

/* ---- backward: dx = dy f'(x) --------------------------------------------- */

static inline __m256 bwd_identity(__m256 x, __m256 dy, const act_par *k)
{
    (void)x;
    (void)k;
    return dy;
}

/* dy [x > 0]: relu'(0) = 0 */
static inline __m256 bwd_relu(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    return _mm256_and_ps(dy,
                         _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
}

/* dy s(x) = (dy or dy e) / (1 + e), e = e^-|x| (or e^-a|x|) */
static inline __m256 sigmoid_times(__m256 x, __m256 e, __m256 dy)
{
    __m256 num = by_sign(x, dy, _mm256_mul_ps(dy, e));
    return _mm256_div_ps(num, _mm256_add_ps(v8(1.0f), e));
}

static inline __m256 bwd_softplus(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    return sigmoid_times(x, exp_neg_abs(x), dy);
}

/* dy s(a x) */
static inline __m256 bwd_psoftplus(__m256 x, __m256 dy, const act_par *k)
{
    return sigmoid_times(x, exp_neg_scaled(x, k->a, exp_cut()), dy);
}

/* s (1 + x (1 - s)) with d = 1 + e, e = e^-|x|:
 *   x >= 0: s = 1/d, 1 - s = e/d  ->  (d + x e) / d^2
 *   x <  0: s = e/d, 1 - s = 1/d  ->  e (d + x) / d^2 */
static inline __m256 bwd_silu(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    __m256 e = exp_neg_abs(x);
    __m256 d = _mm256_add_ps(v8(1.0f), e);
    __m256 num = by_sign(x, _mm256_fmadd_ps(x, e, d),
                         _mm256_mul_ps(e, _mm256_add_ps(d, x)));
    return _mm256_mul_ps(dy, _mm256_div_ps(num, _mm256_mul_ps(d, d)));
}

/* Phi(x) + x phi(x) = 1 - D (x >= 0) or D, D = E (G(t) - t/sqrt(2 pi)),
 * t = |x|, E = e^(-t^2/2) */
static inline __m256 bwd_gelu(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    __m256 t = _mm256_min_ps(vabs(x), v8(ACT_GELU_TMAX));
    __m256 g = _mm256_fnmadd_ps(t, v8(ACT_RSQRT_2PI), vgauss_tail(t));
    __m256 D = _mm256_mul_ps(gauss_exp(t, exp_cut()), g);
    return _mm256_mul_ps(dy, by_sign(x, _mm256_sub_ps(v8(1.0f), D), D));
}

/* dy (x > 0 ? 1 : e^x); both sides give 1 at x = 0 */
static inline __m256 bwd_elu(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    __m256 e = vexp_neg(_mm256_min_ps(x, _mm256_setzero_ps()));
    return by_sign(x, dy, _mm256_mul_ps(dy, e));
}

/* dy e / (1 + e)^2, e = e^-|x| */
static inline __m256 bwd_sigmoid(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    __m256 e = exp_neg_abs(x);
    __m256 d = _mm256_add_ps(v8(1.0f), e);
    return _mm256_div_ps(_mm256_mul_ps(dy, e), _mm256_mul_ps(d, d));
}

/* dy 4 e / (1 + e)^2, e = e^-2|x| (the 4 last, so dy near FLT_MAX is ok) */
static inline __m256 bwd_tanh(__m256 x, __m256 dy, const act_par *k)
{
    (void)k;
    __m256 nx = neg_abs(x);
    __m256 e = vexp_neg(_mm256_add_ps(nx, nx)), Rl, big;
    __m256 R = den_one_plus_sq(e, &Rl, &big);
    __m256 n = _mm256_mul_ps(dy, e);
    return _mm256_mul_ps(vmul2(n, mul_lo(dy, e, n, big), R, Rl), v8(4.0f));
}

/* ---- loops ---------------------------------------------------------------
 * Always inlined with a constant op, so each case of the switches below
 * becomes its own loop with the op inlined. */

static inline void run_fwd(fwd_op op, const act_par *k, size_t n,
                           const float *x, float *y)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = op(_mm256_loadu_ps(x + i), k);
        __m256 b = op(_mm256_loadu_ps(x + i + 8), k);
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, op(_mm256_loadu_ps(x + i), k));
    if (i < n) { /* zero-padded copy: same lanes, same code */
        float bx[8] = { 0 }, by[8];
        memcpy(bx, x + i, (n - i) * sizeof *x);
        _mm256_storeu_ps(by, op(_mm256_loadu_ps(bx), k));
        memcpy(y + i, by, (n - i) * sizeof *y);
    }
}

static inline void run_bwd(bwd_op op, const act_par *k, size_t n,
                           const float *x, const float *dy, float *dx)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = op(_mm256_loadu_ps(x + i), _mm256_loadu_ps(dy + i), k);
        __m256 b = op(_mm256_loadu_ps(x + i + 8),
                      _mm256_loadu_ps(dy + i + 8), k);
        _mm256_storeu_ps(dx + i, a);
        _mm256_storeu_ps(dx + i + 8, b);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dx + i, op(_mm256_loadu_ps(x + i),
                                    _mm256_loadu_ps(dy + i), k));
    if (i < n) {
        float bx[8] = { 0 }, bdy[8] = { 0 }, bdx[8];
        memcpy(bx, x + i, (n - i) * sizeof *x);
        memcpy(bdy, dy + i, (n - i) * sizeof *dy);
        _mm256_storeu_ps(bdx, op(_mm256_loadu_ps(bx),
                                 _mm256_loadu_ps(bdy), k));
        memcpy(dx + i, bdx, (n - i) * sizeof *dx);
    }
}

static act_par make_par(float alpha)
{
    /* 1/alpha = inv_hi + inv_lo: 1 - alpha inv_hi is exact with one FMA */
    float inv_hi = 1.0f / alpha;
    float inv_lo = _mm_cvtss_f32(_mm_mul_ss(
        _mm_fnmadd_ss(_mm_set_ss(alpha), _mm_set_ss(inv_hi), _mm_set_ss(1)),
        _mm_set_ss(inv_hi)));
    float lo_min = inv_lo != 0 ? 0x1p-126f / fabsf(inv_lo) : INFINITY;
    /* L = log1p(e) ~ e must be >= alpha 2^-126 for L/alpha to be normal */
    float cut = ACT_EXP_CUT + (alpha > 1 ? logf(alpha) : 0.0f);
    act_par k = { v8(alpha), v8(inv_hi), v8(inv_lo), v8(lo_min), v8(cut) };
    return k;
}

void advc_act_forward_avx2(advc_act f, float alpha, size_t n,
                           const float *x, float *y)
{
    act_par k = make_par(f == ADVC_ACT_PSOFTPLUS ? alpha : 1.0f);
    switch (f) {
    case ADVC_ACT_IDENTITY:
        if (y != x && n > 0) memcpy(y, x, n * sizeof *y);
        break;
    case ADVC_ACT_RELU:      run_fwd(fwd_relu, &k, n, x, y); break;
    case ADVC_ACT_SOFTPLUS:  run_fwd(fwd_softplus, &k, n, x, y); break;
    case ADVC_ACT_PSOFTPLUS: run_fwd(fwd_psoftplus, &k, n, x, y); break;
    case ADVC_ACT_SILU:      run_fwd(fwd_silu, &k, n, x, y); break;
    case ADVC_ACT_GELU:      run_fwd(fwd_gelu, &k, n, x, y); break;
    case ADVC_ACT_ELU:       run_fwd(fwd_elu, &k, n, x, y); break;
    case ADVC_ACT_SIGMOID:   run_fwd(fwd_sigmoid, &k, n, x, y); break;
    case ADVC_ACT_TANH:      run_fwd(fwd_tanh, &k, n, x, y); break;
    default:                 run_fwd(fwd_identity, &k, n, x, y); break;
    }
}

void advc_act_backward_avx2(advc_act f, float alpha, size_t n,
                            const float *x, const float *dy, float *dx)
{
    act_par k = make_par(f == ADVC_ACT_PSOFTPLUS ? alpha : 1.0f);
    switch (f) {
    case ADVC_ACT_IDENTITY:
        if (dx != dy && n > 0) memcpy(dx, dy, n * sizeof *dx);
        break;
    case ADVC_ACT_RELU:      run_bwd(bwd_relu, &k, n, x, dy, dx); break;
    case ADVC_ACT_SOFTPLUS:  run_bwd(bwd_softplus, &k, n, x, dy, dx); break;
    case ADVC_ACT_PSOFTPLUS: run_bwd(bwd_psoftplus, &k, n, x, dy, dx); break;
    case ADVC_ACT_SILU:      run_bwd(bwd_silu, &k, n, x, dy, dx); break;
    case ADVC_ACT_GELU:      run_bwd(bwd_gelu, &k, n, x, dy, dx); break;
    case ADVC_ACT_ELU:       run_bwd(bwd_elu, &k, n, x, dy, dx); break;
    case ADVC_ACT_SIGMOID:   run_bwd(bwd_sigmoid, &k, n, x, dy, dx); break;
    case ADVC_ACT_TANH:      run_bwd(bwd_tanh, &k, n, x, dy, dx); break;
    default:                 run_bwd(bwd_identity, &k, n, x, dy, dx); break;
    }
}
