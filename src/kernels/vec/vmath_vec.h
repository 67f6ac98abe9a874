/* vmath_vec.h: the vector elementary functions behind the activation
 * kernels, written once over vec.h: e^x, e^x - 1, log1p on [0, 1] and the
 * scaled normal tail G(t) = Phi(-t) e^(t^2/2) used by exact-erf GELU.
 * Not a general libm: each function says the domain it is accurate on.
 * Polynomial coefficients are shared with the scalar code through act.h,
 * which also gives how they were fitted and the accuracy promises.  Every
 * operation is lane-wise, so a lane's result does not depend on the lane
 * count: AVX-512, AVX2 and NEON give the same bits.
 */
#ifndef ADVC_VMATH_VEC_H
#define ADVC_VMATH_VEC_H

#include "act.h"
#include "vec/vec.h"

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
static inline vf exp_magic(void) { return vdup(0x1.8000fep23f); }

/* q(r) of the exp core, degree 4 (Horner) */
static inline vf vexp_q(vf r)
{
    vf q = vdup(ACT_EXPQ4);
    q = vfma(q, r, vdup(ACT_EXPQ3));
    q = vfma(q, r, vdup(ACT_EXPQ2));
    q = vfma(q, r, vdup(ACT_EXPQ1));
    return vfma(q, r, vdup(ACT_EXPQ0));
}

/* e^r - 1 for |r| <= ln2/2: r + r^2 q(r) */
static inline vf vexpm1_poly(vf r)
{
    return vfma(vmul(r, r), vexp_q(r), r);
}

/* e^r for |r| <= ln2/2: 1 + r (1 + r q(r)) */
static inline vf vexp_poly(vf r)
{
    vf q = vfma(vexp_q(r), r, vdup(1.0f));
    return vfma(q, r, vdup(1.0f));
}

/* x = n ln2 + r for x in [-87.34, 0]: returns r, sets *v to x log2e + magic
 * (so 2^n = vshl23(v)). */
static inline vf exp_reduce(vf x, vf *v)
{
    /* 0x1.715476p+0f: log2(e) */
    *v = vfma(x, vdup(0x1.715476p+0f), exp_magic());
    vf n = vsub(*v, exp_magic());
    vf r = vfnma(n, vdup(0x1.62e430p-1f), x); /* x - n ln2_hi, exact */
    /* -0x1.05c610p-29f: ln2_lo = ln2 - ln2_hi */
    return vfnma(n, vdup(-0x1.05c610p-29f), r);
}

/* e^x for x <= 0 (-inf too).  x is clamped at -88, where n = -127: the
 * biased exponent is then 0 and the scale 2^n is built as +0, so every
 * x < -87.68 gives exactly 0 without a compare.  (In the sliver
 * [-87.68, -87.34] n = -126 and e^r < 1 give the subnormal e^x.) */
static inline vf vexp_neg(vf x)
{
    x = vmax(x, vdup(-88.0f));
    vf v, r = exp_reduce(x, &v);
    return vmul(vexp_poly(r), vshl23(v)); /* e^r 2^n */
}

/* e^(hi + lo) for hi <= 0 (-inf too) and a correction |lo| <= ulp(hi)
 * (ignored, and may be inf or NaN, where hi < cut).  hi < cut gives 0;
 * cut >= ACT_EXP_CUT keeps every nonzero result normal (n >= -126 and
 * e^r >= e^0.0065). */
static inline vf vexp_neg_hilo(vf hi, vf lo, vf cut)
{
    vmask keep = vcmp_ge(hi, cut);
    vf x = vmax(hi, cut);
    vf v, r = exp_reduce(x, &v);
    r = vadd(r, vkeep(keep, lo)); /* + lo */
    return vkeep(keep, vmul(vexp_poly(r), vshl23(v)));
}

/* e^x - 1 for x <= 0 (any float; x < -32 gives -1, which is e^x - 1
 * rounded).  expm1 = 2^n (e^r - 1) + (2^n - 1): for n = 0 it is the
 * polynomial itself, so it keeps its relative accuracy as x -> 0; for
 * n < 0, 2^n - 1 is exact (n >= -24) and the sum is one FMA. */
static inline vf vexpm1_neg(vf x)
{
    x = vmin(vmax(x, vdup(-32.0f)), vzero());
    vf v, r = exp_reduce(x, &v);
    vf s = vshl23(v); /* 2^n */
    return vfma(s, vexpm1_poly(r), vsub(s, vdup(1.0f)));
}

/* ---- compensated quotients ----------------------------------------------
 * A quotient num / den rounds twice when den is itself rounded (den =
 * 1 + e, say).  The kernels carry den as an unevaluated sum d + dl (dl
 * from Fast2Sum or an FMA, exactly the rounding error of d) and take
 * 1/(d + dl) = r + rl with one Newton step on the exact residual
 * 1 - r d (an FMA); num (r + rl) is then rounded once. */

/* 1/(d + dl) as r + rl, for |dl| <= 2^-20 |d|. */
static inline vf vrecip2(vf d, vf dl, vf *rl)
{
    vf r = vdiv(vdup(1.0f), d);
    vf res = vfnma(r, d, vdup(1.0f)); /* 1 - r d, exact  */
    res = vfnma(r, dl, res);          /* - r dl          */
    *rl = vmul(res, r);               /* r (1 - r(d+dl)) */
    return r;
}

/* (n + nl)(r + rl) rounded once (the nl rl term is below 2^-44 of it). */
static inline vf vmul2(vf n, vf nl, vf r, vf rl)
{
    return vfma(n, r, vfma(n, rl, vmul(nl, r)));
}

/* Rounding error of d = 1 + e for e in [0, 1] (Fast2Sum: exact). */
static inline vf one_plus_err(vf e, vf d)
{
    return vsub(e, vsub(d, vdup(1.0f)));
}

/* ---- log1p on [0, 1] ----------------------------------------------------
 * log(1 + u) = 2 atanh(u / (2 + u)).  With T = 2u / (2 + u) in [0, 2/3]
 * and v = T^2 in [0, 4/9]:  log1p(u) = T + T v Q(v), Q a degree-3 minimax
 * polynomial (act.h; relative error 5.6e-9).  T is formed as T + Tl with
 * the compensated quotient, and the sum is rounded once at the end, so
 * log1p costs about half an ulp beyond the error already in u.  No
 * exponent split is needed on this domain.  Returns log1p(u) rounded, and
 * *lo, the part below its last bit (so a caller's product can be rounded
 * once). */
static inline vf vlog1p_unit2(vf u, vf *lo)
{
    /* below 2^-24, log1p(u) = u (1 - u/2 + ...) rounds to u; clamping
     * there keeps every correction term normal */
    vmask small = vcmp_lt(u, vdup(0x1p-24f));
    vf uc = vmax(u, vdup(0x1p-24f));
    vf b = vadd(uc, vdup(2.0f));
    vf bl = vsub(uc, vsub(b, vdup(2.0f))); /* exact */
    vf rl, r = vrecip2(b, bl, &rl);
    vf u2 = vadd(uc, uc);
    vf T = vmul(u2, r); /* 2u/(2+u) */
    vf Tl = vfma(u2, rl, vfms(u2, r, T));
    vf v = vmul(T, T);
    vf Q = vdup(ACT_LOG1P_Q3);
    Q = vfma(Q, v, vdup(ACT_LOG1P_Q2));
    Q = vfma(Q, v, vdup(ACT_LOG1P_Q1));
    Q = vfma(Q, v, vdup(ACT_LOG1P_Q0));
    vf c = vfma(vmul(T, v), Q, Tl); /* Tl + T v Q */
    vf y = vadd(T, c);
    vf l = vsub(c, vsub(y, T)); /* Fast2Sum, T > |c| */
    *lo = vdrop(small, l);
    return vsel(small, u, y);
}

/* ---- normal tail --------------------------------------------------------
 * G(t) = Phi(-t) e^(t^2/2) = erfcx(t/sqrt2)/2 for t in [0, ACT_GELU_TMAX]:
 * smooth, 1/2 at 0, ~ 1/(t sqrt(2 pi)) for large t.  With v = 1/(t + c)
 * and w = t v in [0, 1), G = v K(w) and K is a degree-9 polynomial
 * (act.h; c = ACT_GELU_C, relative error 2.1e-8 in exact arithmetic).
 * Callers clamp t to [0, ACT_GELU_TMAX]. */
static inline vf vgauss_tail(vf t)
{
    /* t + c = b + bl exactly (Fast2Sum on the larger and smaller term),
     * and 1/(b + bl) = v + vl */
    vf c = vdup(ACT_GELU_C);
    vf b = vadd(t, c);
    vf bl = vsub(vmin(t, c), vsub(b, vmax(t, c)));
    vf vl, v = vrecip2(b, bl, &vl);
    vf w = vfma(t, v, vmul(t, vl)); /* t/(t + c) */
    vf K = vdup(ACT_GELU_K[9]);
    for (int k = 8; k >= 0; k--) /* unrolled by the compiler */
        K = vfma(K, w, vdup(ACT_GELU_K[k]));
    return vmul2(K, vzero(), v, vl);
}

#endif /* ADVC_VMATH_VEC_H */
