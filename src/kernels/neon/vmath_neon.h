/* vmath_neon.h: the vector elementary functions behind the NEON activation
 * kernels (4 floats per float32x4_t, fused multiply-add): e^x, e^x - 1,
 * log1p on [0, 1] and the scaled normal tail G(t) = Phi(-t) e^(t^2/2) of
 * exact-erf GELU.  The same algorithms, constants and domains as
 * avx2/vmath_avx2.h (which explains each step at more length); the
 * coefficients and the accuracy promises are in act.h.
 */
#ifndef ADVC_VMATH_NEON_H
#define ADVC_VMATH_NEON_H

#include <arm_neon.h>
#include "act.h"

typedef float32x4_t vf;

static inline vf v4(float a) { return vdupq_n_f32(a); }
static inline vf vzero(void) { return vdupq_n_f32(0.0f); }
/* a*b + c, a*b - c and c - a*b, each rounded once */
static inline vf vfma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf vfms(vf a, vf b, vf c)
{
    return vnegq_f32(vfmsq_f32(c, a, b));
}
static inline vf vfnma(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }
/* lanes where mask is set keep a, the others become +0 */
static inline vf vand_mask(uint32x4_t mask, vf a)
{
    return vreinterpretq_f32_u32(vandq_u32(mask, vreinterpretq_u32_f32(a)));
}

/* ---- exp core -----------------------------------------------------------
 * x = n ln2 + r, n = round(x log2(e)) by the 0x1.8p23 + 127 trick (the
 * biased exponent n + 127 lands in the low mantissa bits), r = x - n ln2_hi
 * exact by FMA, minus n ln2_lo; e^r = 1 + r + r^2 q(r); 2^n by shifting
 * the biased exponent into place.  Only x <= 0 is used. */

/* 0x1.8p23 + 127 = 12583039: adding it rounds to an integer and leaves
 * the biased exponent n + 127 in the low mantissa bits */
static inline vf exp_magic(void) { return v4(0x1.8000fep23f); }

/* e^r - 1 for |r| <= ln2/2: r + r^2 q(r) */
static inline vf vexpm1_poly(vf r)
{
    vf q = v4(ACT_EXPQ4);
    q = vfma(q, r, v4(ACT_EXPQ3));
    q = vfma(q, r, v4(ACT_EXPQ2));
    q = vfma(q, r, v4(ACT_EXPQ1));
    q = vfma(q, r, v4(ACT_EXPQ0));
    return vfma(vmulq_f32(r, r), q, r);
}

/* e^r for |r| <= ln2/2: 1 + r (1 + r q(r)) */
static inline vf vexp_poly(vf r)
{
    vf q = v4(ACT_EXPQ4);
    q = vfma(q, r, v4(ACT_EXPQ3));
    q = vfma(q, r, v4(ACT_EXPQ2));
    q = vfma(q, r, v4(ACT_EXPQ1));
    q = vfma(q, r, v4(ACT_EXPQ0));
    q = vfma(q, r, v4(1.0f));
    return vfma(q, r, v4(1.0f));
}

/* x = n ln2 + r: returns r, sets *v to x log2e + magic */
static inline vf exp_reduce(vf x, vf *v)
{
    *v = vfma(x, v4(0x1.715476p+0f), exp_magic());       /* log2(e) */
    vf n = vsubq_f32(*v, exp_magic());
    vf r = vfnma(n, v4(0x1.62e430p-1f), x);              /* - n ln2_hi */
    return vfnma(n, v4(-0x1.05c610p-29f), r);            /* - n ln2_lo */
}

/* 2^n from v = x log2e + magic */
static inline vf exp_pow2n(vf v)
{
    return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(v), 23));
}

/* e^x for x <= 0; x clamped at -88 (n = -127 builds the scale as +0), so
 * x < -87.68 gives exactly 0 (subnormal in [-87.68, -87.34]). */
static inline vf vexp_neg(vf x)
{
    x = vmaxq_f32(x, v4(-88.0f));
    vf v, r = exp_reduce(x, &v);
    return vmulq_f32(vexp_poly(r), exp_pow2n(v));
}

/* e^(hi + lo) for hi <= 0 (-inf too), |lo| <= ulp(hi); 0 where hi < cut
 * (lo is then ignored); cut >= ACT_EXP_CUT keeps results normal. */
static inline vf vexp_neg_hilo(vf hi, vf lo, vf cut)
{
    uint32x4_t keep = vcgeq_f32(hi, cut);
    vf x = vmaxq_f32(hi, cut);
    vf v, r = exp_reduce(x, &v);
    r = vaddq_f32(r, vand_mask(keep, lo));
    return vand_mask(keep, vmulq_f32(vexp_poly(r), exp_pow2n(v)));
}

/* e^x - 1 for x <= 0 (x < -32 gives -1): 2^n (e^r - 1) + (2^n - 1) */
static inline vf vexpm1_neg(vf x)
{
    x = vminq_f32(vmaxq_f32(x, v4(-32.0f)), vzero());
    vf v, r = exp_reduce(x, &v);
    vf s = exp_pow2n(v);
    return vfma(s, vexpm1_poly(r), vsubq_f32(s, v4(1.0f)));
}

/* ---- compensated quotients ---------------------------------------------- */

/* 1/(d + dl) as r + rl (one Newton step on the exact residual 1 - r d) */
static inline vf vrecip2(vf d, vf dl, vf *rl)
{
    vf r = vdivq_f32(v4(1.0f), d);
    vf res = vfnma(r, d, v4(1.0f));
    res = vfnma(r, dl, res);
    *rl = vmulq_f32(res, r);
    return r;
}

/* (n + nl)(r + rl) rounded once */
static inline vf vmul2(vf n, vf nl, vf r, vf rl)
{
    return vfma(n, r, vfma(n, rl, vmulq_f32(nl, r)));
}

/* rounding error of d = 1 + e for e in [0, 1] (Fast2Sum: exact) */
static inline vf one_plus_err(vf e, vf d)
{
    return vsubq_f32(e, vsubq_f32(d, v4(1.0f)));
}

/* ---- log1p on [0, 1]: T + T v Q(v), T = 2u/(2 + u) compensated ---------- */
static inline vf vlog1p_unit2(vf u, vf *lo)
{
    uint32x4_t small = vcltq_f32(u, v4(0x1p-24f));
    vf uc = vmaxq_f32(u, v4(0x1p-24f));
    vf b = vaddq_f32(uc, v4(2.0f));
    vf bl = vsubq_f32(uc, vsubq_f32(b, v4(2.0f)));
    vf rl, r = vrecip2(b, bl, &rl);
    vf u2 = vaddq_f32(uc, uc);
    vf T = vmulq_f32(u2, r);
    vf Tl = vfma(u2, rl, vfms(u2, r, T));
    vf v = vmulq_f32(T, T);
    vf Q = v4(ACT_LOG1P_Q3);
    Q = vfma(Q, v, v4(ACT_LOG1P_Q2));
    Q = vfma(Q, v, v4(ACT_LOG1P_Q1));
    Q = vfma(Q, v, v4(ACT_LOG1P_Q0));
    vf c = vfma(vmulq_f32(T, v), Q, Tl);
    vf y = vaddq_f32(T, c);
    vf l = vsubq_f32(c, vsubq_f32(y, T));
    *lo = vand_mask(vmvnq_u32(small), l);
    return vbslq_f32(small, u, y);
}

/* ---- normal tail: G(t) = v K(t v), v = 1/(t + c), t in [0, TMAX] -------- */
static inline vf vgauss_tail(vf t)
{
    vf c = v4(ACT_GELU_C);
    vf b = vaddq_f32(t, c);
    vf bl = vsubq_f32(vminq_f32(t, c), vsubq_f32(b, vmaxq_f32(t, c)));
    vf vl, v = vrecip2(b, bl, &vl);
    vf w = vfma(t, v, vmulq_f32(t, vl));
    vf K = v4(ACT_GELU_K[9]);
    for (int k = 8; k >= 0; k--)
        K = vfma(K, w, v4(ACT_GELU_K[k]));
    return vmul2(K, vzero(), v, vl);
}

#endif /* ADVC_VMATH_NEON_H */
