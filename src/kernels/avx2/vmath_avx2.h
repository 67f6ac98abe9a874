/* vmath_avx2.h: the vector elementary functions behind the AVX2 activation
 * kernels (8 floats per __m256, FMA): e^x, e^x - 1, log1p on [0, 1] and the
 * scaled normal tail G(t) = Phi(-t) e^(t^2/2) used by exact-erf GELU.
 * Not a general libm: each function says the domain it is accurate on.
 * Polynomial coefficients are shared with NEON and scalar code through
 * act.h, which also gives how they were fitted and the accuracy promises.
 */
#ifndef ADVC_VMATH_AVX2_H
#define ADVC_VMATH_AVX2_H

#include <immintrin.h>
#include "act.h"

static inline __m256 v8(float a) { return _mm256_set1_ps(a); }

/* ---- exp core -----------------------------------------------------------
 * Range reduction: x = n ln2 + r, n = round(x log2(e)), |r| <= ln2/2.
 * n is rounded by adding 0x1.8p23 + 127: at that magnitude the float
 * spacing is 1, so the FMA x*log2e + magic rounds to the nearest integer
 * and leaves n + 127 (the biased exponent of 2^n) in the low mantissa
 * bits; shifting them into the exponent field gives 2^n.  r = x - n ln2_hi
 * is exact (the FMA forms it without rounding and it fits in 24 bits); the
 * ln2_lo term adds the rest of ln2 with one rounding.  e^r = 1 + r + r^2
 * q(r) (act.h: minimax q, relative error 1.1e-8 for e^r, 2.5e-8 for
 * e^r - 1).  Only x <= 0 is needed (every activation uses e^-|.|), and
 * below about ln(2^-126) the result is exactly 0: act.h (ACT_EXP_CUT)
 * says why and what that costs. */

/* 0x1.8p23 + 127 = 12583039: adding it rounds to an integer and leaves
 * the biased exponent n + 127 in the low mantissa bits */
static inline __m256 exp_magic(void) { return v8(0x1.8000fep23f); }

/* e^r - 1 for |r| <= ln2/2: r + r^2 q(r), q of degree 4 (Horner). */
static inline __m256 vexpm1_poly(__m256 r)
{
    __m256 q = v8(ACT_EXPQ4);
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ3));
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ2));
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ1));
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ0));
    return _mm256_fmadd_ps(_mm256_mul_ps(r, r), q, r); /* r + r^2 q */
}

/* x = n ln2 + r for x in [-87.34, 0]: returns r, sets *v to x log2e + magic
 * (so 2^n = v's bits << 23). */
static inline __m256 exp_reduce(__m256 x, __m256 *v)
{
    /* 0x1.715476p+0f: log2(e) */
    *v = _mm256_fmadd_ps(x, v8(0x1.715476p+0f), exp_magic());
    __m256 n = _mm256_sub_ps(*v, exp_magic());
    __m256 r = _mm256_fnmadd_ps(n, v8(0x1.62e430p-1f), x); /* x - n ln2_hi */
    /* -0x1.05c610p-29f: ln2_lo = ln2 - ln2_hi */
    return _mm256_fnmadd_ps(n, v8(-0x1.05c610p-29f), r);
}

/* 2^n from v = x log2e + magic */
static inline __m256 exp_pow2n(__m256 v)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), 23));
}

/* e^r for |r| <= ln2/2: 1 + r (1 + r q(r)) (Horner, same q as above) */
static inline __m256 vexp_poly(__m256 r)
{
    __m256 q = v8(ACT_EXPQ4);
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ3));
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ2));
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ1));
    q = _mm256_fmadd_ps(q, r, v8(ACT_EXPQ0));
    q = _mm256_fmadd_ps(q, r, v8(1.0f));
    return _mm256_fmadd_ps(q, r, v8(1.0f));
}

/* e^x for x <= 0 (-inf too).  x is clamped at -88, where n = -127: the
 * biased exponent is then 0 and the scale 2^n is built as +0, so every
 * x < -87.68 gives exactly 0 without a compare.  (In the sliver
 * [-87.68, -87.34] n = -126 and e^r < 1 give the subnormal e^x.) */
static inline __m256 vexp_neg(__m256 x)
{
    x = _mm256_max_ps(x, v8(-88.0f));
    __m256 v, r = exp_reduce(x, &v);
    return _mm256_mul_ps(vexp_poly(r), exp_pow2n(v)); /* e^r 2^n */
}

/* e^(hi + lo) for hi <= 0 (-inf too) and a correction |lo| <= ulp(hi)
 * (ignored, and may be inf or NaN, where hi < cut).  hi < cut gives 0;
 * cut >= ACT_EXP_CUT keeps every nonzero result normal (n >= -126 and
 * e^r >= e^0.0065). */
static inline __m256 vexp_neg_hilo(__m256 hi, __m256 lo, __m256 cut)
{
    __m256 keep = _mm256_cmp_ps(hi, cut, _CMP_GE_OQ);
    __m256 x = _mm256_max_ps(hi, cut);
    __m256 v, r = exp_reduce(x, &v);
    r = _mm256_add_ps(r, _mm256_and_ps(keep, lo));        /* + lo   */
    return _mm256_and_ps(keep, _mm256_mul_ps(vexp_poly(r), exp_pow2n(v)));
}

/* e^x - 1 for x <= 0 (any float; x < -32 gives -1, which is e^x - 1
 * rounded).  expm1 = 2^n (e^r - 1) + (2^n - 1): for n = 0 it is the
 * polynomial itself, so it keeps its relative accuracy as x -> 0; for
 * n < 0, 2^n - 1 is exact (n >= -24) and the sum is one FMA. */
static inline __m256 vexpm1_neg(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, v8(-32.0f)), _mm256_setzero_ps());
    __m256 v, r = exp_reduce(x, &v);
    __m256 s = exp_pow2n(v);                               /* 2^n */
    return _mm256_fmadd_ps(s, vexpm1_poly(r), _mm256_sub_ps(s, v8(1.0f)));
}

/* ---- compensated quotients ----------------------------------------------
 * A quotient num / den rounds twice when den is itself rounded (den =
 * 1 + e, say).  The kernels carry den as an unevaluated sum d + dl (dl
 * from Fast2Sum or an FMA, exactly the rounding error of d) and take
 * 1/(d + dl) = r + rl with one Newton step on the exact residual
 * 1 - r d (an FMA); num (r + rl) is then rounded once. */

/* 1/(d + dl) as r + rl, for |dl| <= 2^-20 |d|. */
static inline __m256 vrecip2(__m256 d, __m256 dl, __m256 *rl)
{
    __m256 r = _mm256_div_ps(v8(1.0f), d);
    __m256 res = _mm256_fnmadd_ps(r, d, v8(1.0f)); /* 1 - r d, exact  */
    res = _mm256_fnmadd_ps(r, dl, res);            /* - r dl          */
    *rl = _mm256_mul_ps(res, r);                   /* r (1 - r(d+dl)) */
    return r;
}

/* (n + nl)(r + rl) rounded once (the nl rl term is below 2^-44 of it). */
static inline __m256 vmul2(__m256 n, __m256 nl, __m256 r, __m256 rl)
{
    return _mm256_fmadd_ps(n, r, _mm256_fmadd_ps(n, rl,
                                                  _mm256_mul_ps(nl, r)));
}

/* Rounding error of 1 + e for e in [0, 1] (Fast2Sum: exact). */
static inline __m256 one_plus_err(__m256 e, __m256 d)
{
    return _mm256_sub_ps(e, _mm256_sub_ps(d, v8(1.0f)));
}

/* ---- log1p on [0, 1] ----------------------------------------------------
 * log(1 + u) = 2 atanh(u / (2 + u)).  With T = 2u / (2 + u) in [0, 2/3]
 * and v = T^2 in [0, 4/9]:  log1p(u) = T + T v Q(v), Q a degree-3 minimax
 * polynomial (act.h; relative error 5.6e-9).  T is formed as T + Tl with
 * the compensated quotient, and the sum is rounded once at the end, so
 * log1p costs about half an ulp beyond the error already in u.  No
 * exponent split is needed on this domain.  Below u = 2^-24 the result is
 * u itself (log1p(u) rounds to u there), which also keeps every
 * correction term normal.  Returns log1p(u) rounded, and *lo, the part
 * below its last bit (so a caller's product can be rounded once). */
static inline __m256 vlog1p_unit2(__m256 u, __m256 *lo)
{
    /* below 2^-24, log1p(u) = u (1 - u/2 + ...) rounds to u; clamping
     * there keeps every correction term normal */
    __m256 small = _mm256_cmp_ps(u, v8(0x1p-24f), _CMP_LT_OQ);
    __m256 uc = _mm256_max_ps(u, v8(0x1p-24f));
    __m256 b = _mm256_add_ps(uc, v8(2.0f));
    __m256 bl = _mm256_sub_ps(uc, _mm256_sub_ps(b, v8(2.0f))); /* exact */
    __m256 rl, r = vrecip2(b, bl, &rl);
    __m256 u2 = _mm256_add_ps(uc, uc);
    __m256 T = _mm256_mul_ps(u2, r);                         /* 2u/(2+u) */
    __m256 Tl = _mm256_fmadd_ps(u2, rl, _mm256_fmsub_ps(u2, r, T));
    __m256 v = _mm256_mul_ps(T, T);
    __m256 Q = v8(ACT_LOG1P_Q3);
    Q = _mm256_fmadd_ps(Q, v, v8(ACT_LOG1P_Q2));
    Q = _mm256_fmadd_ps(Q, v, v8(ACT_LOG1P_Q1));
    Q = _mm256_fmadd_ps(Q, v, v8(ACT_LOG1P_Q0));
    __m256 c = _mm256_fmadd_ps(_mm256_mul_ps(T, v), Q, Tl); /* Tl + T v Q */
    __m256 y = _mm256_add_ps(T, c);
    __m256 l = _mm256_sub_ps(c, _mm256_sub_ps(y, T)); /* Fast2Sum, T > |c| */
    *lo = _mm256_andnot_ps(small, l);
    return _mm256_blendv_ps(y, u, small);
}

/* ---- normal tail --------------------------------------------------------
 * G(t) = Phi(-t) e^(t^2/2) = erfcx(t/sqrt2)/2 for t in [0, ACT_GELU_TMAX]:
 * smooth, 1/2 at 0, ~ 1/(t sqrt(2 pi)) for large t.  With v = 1/(t + c)
 * and w = t v in [0, 1), G = v K(w) and K is a degree-9 polynomial
 * (act.h; c = ACT_GELU_C, relative error 2.1e-8 in exact arithmetic).
 * Callers clamp t to [0, ACT_GELU_TMAX]. */
static inline __m256 vgauss_tail(__m256 t)
{
    /* t + c = b + bl exactly (Fast2Sum on the larger and smaller term),
     * and 1/(b + bl) = v + vl */
    __m256 c = v8(ACT_GELU_C);
    __m256 b = _mm256_add_ps(t, c);
    __m256 bl = _mm256_sub_ps(_mm256_min_ps(t, c),
                              _mm256_sub_ps(b, _mm256_max_ps(t, c)));
    __m256 vl, v = vrecip2(b, bl, &vl);
    __m256 w = _mm256_fmadd_ps(t, v, _mm256_mul_ps(t, vl)); /* t/(t + c) */
    __m256 K = v8(ACT_GELU_K[9]);
    for (int k = 8; k >= 0; k--) /* unrolled by the compiler */
        K = _mm256_fmadd_ps(K, w, v8(ACT_GELU_K[k]));
    return vmul2(K, _mm256_setzero_ps(), v, vl);
}

#endif /* ADVC_VMATH_AVX2_H */
