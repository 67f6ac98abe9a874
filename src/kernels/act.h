/* act.h: private header of the activation kernels: what each kernel
 * promises about its accuracy (held by tests/test_act.c and checked by
 * bench/bench_act.c), the polynomial coefficients shared by the scalar,
 * AVX2 and NEON code, and the double-precision scalar functions that the
 * `_ref` kernels (and the finite-difference tests) are built on.
 */
#ifndef ADVC_ACT_H
#define ADVC_ACT_H

#include <float.h>
#include <math.h>
#include "advc/kernels.h"

/* ---- accuracy promises --------------------------------------------------
 * Every kernel is compared with the `_ref` kernel, which computes f(x) (or
 * dy f'(x)) in double from libm and rounds once to float: ref.  For every
 * finite float x (and finite dy) each ISA's kernel holds the mixed bound
 *
 *   forward:   |y  - ref| <= ulps * ulp(ref) + abs
 *   backward:  |dx - ref| <= ulps * ulp(ref) + abs * |dy|
 *
 * ulp(ref) is the spacing of floats at |ref| (act_ulp below), so "2 ulp"
 * means ref and the kernel's result are at most 2 floats apart, and the
 * relative error is at most ulps * 2^-23 (1.2e-7 per ulp).  The numbers
 * are the largest seen on dense sweeps of every float exponent on AVX2,
 * NEON and the scalar build (the scalar build uses libm's float functions,
 * so its own worst case counts too).
 *
 * `abs` is there only where an ulp bound cannot hold:
 *  - underflow: the exp core returns 0 where e^-|.| < 2^-126 (ACT_EXP_CUT
 *    says why), which loses at most 2^-126 times what multiplies it;
 *  - zero crossings: SiLU' and GELU' cross zero, and near the crossing the
 *    sum that vanishes leaves an absolute error of a few 2^-25 (the size
 *    of its terms times float's precision) that no relative bound covers.
 * The kernels never return NaN or inf for finite inputs (backward: for
 * finite x and dy with |dy f'(x)| < FLT_MAX).  psoftplus holds its promise
 * for any alpha > 0 with 1/alpha finite; the tests use 1, 2, 10 and 100. */
typedef struct {
    double ulps; /* ulps of the reference                        */
    double abs;  /* absolute floor (times |dy| for the backward) */
} act_promise;

/* Absolute floors (see above):
 *   ACT_ABS_EXP   2^-125: e itself or e/(1 + e) lost (softplus, sigmoid,
 *                 their derivatives, ELU', psoftplus for alpha >= 1),
 *   ACT_ABS_TANH  2^-123: 4 e/(1 + e)^2 lost (tanh'),
 *   ACT_ABS_GELU  2^-123: |x Phi(x)| < 4.9e-38 once |x| > 13.04 (GELU's
 *                 own cut-off, ACT_GELU_FWD_CUT),
 *   ACT_ABS_SILU  2^-119: x e/(1 + e) with |x| <= 88 lost,
 *   ACT_ABS_CROSS 2^-23 (1.2e-7): SiLU' = s (1 + x (1 - s)) is 0 at
 *                 x = -1.2785, where 1 + x (1 - s) cancels terms of size 1;
 *                 GELU' = Phi(x) + x phi(x) is 0 at x = -0.7518, where
 *                 G(t) - t phi(0) cancels terms of size 0.3.  Away from
 *                 the crossings the ulp bound holds. */
#define ACT_ABS_EXP   0x1p-125
#define ACT_ABS_TANH  0x1p-123
#define ACT_ABS_GELU  0x1p-123
#define ACT_ABS_SILU  0x1p-119
#define ACT_ABS_CROSS 0x1p-23

/* Forward, per activation (psoftplus: see act_promise_for for alpha < 1). */
static const act_promise ACT_PROMISE_FWD[ADVC_ACT_COUNT] = {
    /* x: exact */
    [ADVC_ACT_IDENTITY]  = { 0, 0.0 },
    /* max(x, 0): exact */
    [ADVC_ACT_RELU]      = { 0, 0.0 },
    /* max(x,0) + log1p(e^-|x|), log1p with a compensated quotient */
    [ADVC_ACT_SOFTPLUS]  = { 2, ACT_ABS_EXP },
    /* max(x,0) + log1p(e^-a|x|)/a: a|x| is formed exactly (hi + lo) and
     * the product with 1/a = hi + lo is rounded once, so alpha costs no
     * accuracy (scalar build: libm's log1pf, 3 ulp) */
    [ADVC_ACT_PSOFTPLUS] = { 3, ACT_ABS_EXP },
    /* (x or x e^-|x|) / (1 + e^-|x|) */
    [ADVC_ACT_SILU]      = { 3, ACT_ABS_SILU },
    /* x - (x E) G or (x E) G, E = e^(-x^2/2) with x^2 exact as hi + lo;
     * G, a degree-9 polynomial in t/(t + c), loses up to 3 ulp to float
     * Horner rounding: the loosest smooth forward */
    [ADVC_ACT_GELU]      = { 5, ACT_ABS_GELU },
    /* x or expm1(x): expm1 keeps relative accuracy as x -> 0-, so no
     * absolute exception near 0 */
    [ADVC_ACT_ELU]       = { 2, 0.0 },
    /* (1 or e^-|x|) / (1 + e^-|x|) */
    [ADVC_ACT_SIGMOID]   = { 2, ACT_ABS_EXP },
    /* sign(x) * -expm1(-2|x|) / (2 + expm1(-2|x|)), the quotient rounded
     * once: relative down to x -> 0 (tanh x ~ x), no cancellation */
    [ADVC_ACT_TANH]      = { 2, 0.0 },
};

/* Backward (dx = dy f'(x)), per activation. */
static const act_promise ACT_PROMISE_BWD[ADVC_ACT_COUNT] = {
    [ADVC_ACT_IDENTITY]  = { 0, 0.0 },
    /* dy [x > 0]: exact (relu'(0) = 0 by convention) */
    [ADVC_ACT_RELU]      = { 0, 0.0 },
    /* (dy or dy e) / (1 + e): e, dy e, 1 + e and the quotient each round */
    [ADVC_ACT_SOFTPLUS]  = { 3, ACT_ABS_EXP },
    /* the same with e = e^-a|x|, a|x| exact as hi + lo */
    [ADVC_ACT_PSOFTPLUS] = { 3, ACT_ABS_EXP },
    /* dy (d + x e) / d^2 or dy e (d + x) / d^2, d = 1 + e; zero crossing */
    [ADVC_ACT_SILU]      = { 4, ACT_ABS_CROSS },
    /* dy (1 - D) or dy D, D = E (G(t) - t/sqrt(2 pi)); zero crossing */
    [ADVC_ACT_GELU]      = { 4, ACT_ABS_CROSS },
    /* dy (x > 0 ? 1 : e^x) */
    [ADVC_ACT_ELU]       = { 2, ACT_ABS_EXP },
    /* dy e / (1 + e)^2: 1 + e's rounding counts twice (kept uncompensated:
     * sigmoid's libm baseline is fast and this kernel is meant to beat it
     * 8x) */
    [ADVC_ACT_SIGMOID]   = { 5, ACT_ABS_EXP },
    /* 4 dy e / (1 + e)^2, e = e^-2|x|, the quotient rounded once (no
     * 1 - t^2 cancellation) */
    [ADVC_ACT_TANH]      = { 2, ACT_ABS_TANH },
};

/* Spacing of floats at |r|: 2^(e - 23) for |r| in [2^e, 2^(e+1)), and
 * 2^-149 below the normal range (and at 0). */
static inline double act_ulp(float r)
{
    int e;
    if (fabsf(r) < FLT_MIN) return 0x1p-149;
    frexp((double)r, &e); /* |r| = m 2^e, m in [1/2, 1) */
    return ldexp(1.0, e - 24);
}

/* The promise for (f, alpha, direction).  psoftplus with alpha < 1
 * divides the lost e^-a|x| < 2^-126 by alpha, so its forward floor grows
 * by 1/alpha. */
static inline act_promise act_promise_for(advc_act f, float alpha, int bwd)
{
    act_promise p = bwd ? ACT_PROMISE_BWD[f] : ACT_PROMISE_FWD[f];
    if (!bwd && f == ADVC_ACT_PSOFTPLUS && alpha < 1)
        p.abs /= alpha;
    return p;
}

/* True if out is within promise p of ref (scale = |dy| backward, 1
 * forward); NaN and inf never are. */
static inline int act_within(act_promise p, float out, float ref,
                             double scale)
{
    double err = (double)out - (double)ref;
    if (err < 0) err = -err;
    return err <= p.ulps * act_ulp(ref) + p.abs * scale;
}

/* ---- shared coefficients ------------------------------------------------
 * Minimax fits by a Remez exchange in 40-digit arithmetic (mpmath), then
 * rounded to float (GELU's K one coefficient at a time, refitting the
 * rest after each rounding).  The error figures are for the float
 * coefficients in exact arithmetic; rounding during evaluation is on top
 * and is part of the promises above. */

/* e^r - 1 = r + r^2 q(r), |r| <= ln2/2, minimax q of degree 4 (absolute
 * error in q).  Relative error: 1.1e-8 for e^r = 1 + (e^r - 1), 2.5e-8 for
 * e^r - 1.  (Taylor would be 1/2, 1/6, 1/24, 1/120, 1/720.) */
#define ACT_EXPQ0 0x1.000000p-1f  /* ~ 1/2   */
#define ACT_EXPQ1 0x1.5554dcp-3f  /* ~ 1/6   */
#define ACT_EXPQ2 0x1.5554b8p-5f  /* ~ 1/24  */
#define ACT_EXPQ3 0x1.120b66p-7f  /* ~ 1/120 */
#define ACT_EXPQ4 0x1.6d753ap-10f /* ~ 1/720 */

/* log1p(u) = t + t v Q(v), t = 2u/(2 + u) in [0, 2/3], v = t^2 in
 * [0, 4/9] (u in [0, 1]), from 2 atanh(t/2); minimax Q of degree 3,
 * relative error of log1p 5.6e-9.  (The Taylor series gives 1/12, 1/80,
 * 1/448, 1/2304, ... .) */
#define ACT_LOG1P_Q0 0x1.555500p-4f  /* ~ 1/12   */
#define ACT_LOG1P_Q1 0x1.99d24ep-7f  /* ~ 1/80   */
#define ACT_LOG1P_Q2 0x1.1eb888p-9f  /* ~ 1/448  */
#define ACT_LOG1P_Q3 0x1.1eedaep-11f /* ~ 1/2304 */

/* Where the exp core stops returning e^x and returns 0: just above
 * ln(2^-126) = -87.3365, so every nonzero result is a normal float (the
 * cut of vexp_neg_hilo; vexp_neg clamps at -88 instead, which flushes
 * below -87.68 without a compare and leaves a sliver of subnormals).
 * Subnormal arithmetic costs 10-100x on x86 (a psoftplus with a = 100
 * would meet it for every |x| > 0.87), and subnormal activations would
 * slow every layer after them; the price is the absolute floors in the
 * promises above. */
#define ACT_EXP_CUT (-87.33f)
/* GELU's forward cut on -x^2/2: e^-85 G(13.04) 13.04 > 2^-126, so x E
 * and (x E) G stay normal (act_avx2.c: fwd_gelu). */
#define ACT_GELU_FWD_CUT (-85.0f)

/* GELU's normal tail G(t) = Phi(-t) e^(t^2/2) on [0, ACT_GELU_TMAX]:
 * v = 1/(t + c), w = t v in [0, 6/7], G = v K(w), K(w) = sum K[k] w^k,
 * degree 9, minimax for relative error 2.1e-8.  c = 2.5 keeps K's
 * coefficients below 1.25 in size (a larger c fits better but cancels
 * more in float Horner, which still costs up to 3 ulp).  Beyond TMAX =
 * 15, e^(-t^2/2) < 2^-162 and every result that uses G is 0, so t is
 * clamped there. */
#define ACT_GELU_C    2.5f
#define ACT_GELU_TMAX 15.0f
static const float ACT_GELU_K[10] = {
    0x1.400000p+0f,  -0x1.3e4edap+0f, 0x1.5b44cap-3f,  0x1.2b525ap-2f,
    0x1.b7f5fap-5f,  -0x1.242d5cp-3f, 0x1.004f7ep-3f,  -0x1.32cf5ap-2f,
    0x1.1642a6p-2f,  -0x1.3ee104p-4f,
};
/* 0x1.988454p-2f: 1/sqrt(2 pi), phi(t) = e^(-t^2/2) / sqrt(2 pi) */
#define ACT_RSQRT_2PI 0x1.988454p-2f

/* ---- double-precision definitions (act_ref.c) ----------------------------
 * f(x) and f'(x) in double, straight from libm: the specification.  The
 * `_ref` kernels round these once; tests use them for finite
 * differences.  alpha is used by psoftplus only. */
double act_ref_f(advc_act f, double alpha, double x);
double act_ref_df(advc_act f, double alpha, double x);

#endif /* ADVC_ACT_H */
