/* act_vec.c: activation forward and backward, written once over the
 * vector layer (vec.h) and compiled for this build's SIMD ISA: VEC_LANES
 * floats per vector, two vectors per loop step.  Each activation is one
 * lane-wise function built on vmath_vec.h; the tail (n % VEC_LANES) runs
 * the same function on a partial vector (masked or padded load), so every
 * element gets exactly the value the main loop would give it, whatever
 * the ISA.  Formulas match scalar/act_ref.c; act.h states the accuracy.
 * Smooth functions use e = e^-|x| (or e^-a|x|, e^-2|x|, e^(-x^2/2)),
 * which is in [0, 1]: nothing overflows.
 */
#include <math.h>
#include <string.h>
#include "vec/vec_kernels.h"
#include "vec/vmath_vec.h"

/* psoftplus's alpha: a, and 1/a = inv_hi + inv_lo (two floats).  The
 * inv_lo term is used only where L inv_lo stays normal (L >= lo_min),
 * because subnormal products are slow; below that it is worth less than
 * an ulp of a result that is itself < 2^-100. */
typedef struct {
    vf a, inv_hi, inv_lo, lo_min;
    vf cut_fwd; /* exp cut-off for the forward: L/a stays normal */
} act_par;

typedef vf (*fwd_op)(vf x, const act_par *k);
typedef vf (*bwd_op)(vf x, vf dy, const act_par *k);

static inline vf exp_cut(void) { return vdup(ACT_EXP_CUT); }

/* e^-|x| (0 below -87.68, see vexp_neg) */
static inline vf exp_neg_abs(vf x) { return vexp_neg(vneg_abs(x)); }

/* e^(a * -|x|) with a * -|x| formed exactly as hi + lo; 0 below cut */
static inline vf exp_neg_scaled(vf x, vf a, vf cut)
{
    vf nx = vneg_abs(x);
    vf hi = vmul(a, nx);
    return vexp_neg_hilo(hi, vfms(a, nx, hi), cut); /* lo = a nx - hi */
}

/* E = e^(-t^2/2), t^2 = hi + lo exact (t <= ACT_GELU_TMAX: no overflow);
 * 0 below cut */
static inline vf gauss_exp(vf t, vf cut)
{
    vf hi = vmul(t, t);
    vf lo = vfms(t, t, hi);
    return vexp_neg_hilo(vmul(hi, vdup(-0.5f)), vmul(lo, vdup(-0.5f)), cut);
}

/* tanh' divides by (1 + e)^2, e = e^-2|x| in [0, 1].  d = 1 + e and D = d^2
 * are rounded; with t = d's exact rounding error, (1 + e)^2 = D + Dl,
 * Dl = (d^2 - D) + 2 d t, and 1/(D + Dl) = R + Rl (vrecip2), so the
 * quotient is rounded once.  Rl (and the numerator's low part) are dropped
 * where e < 2^-30: there the correction is below 2^-29 of the result, and
 * keeping it would make subnormal products (slow).  *big: e >= 2^-30. */
static inline vf den_one_plus_sq(vf e, vf *Rl, vmask *big)
{
    vf d = vadd(vdup(1.0f), e);
    vf t = one_plus_err(e, d);
    vf D = vmul(d, d);
    vf Dl = vfma(vadd(d, d), t, vfms(d, d, D));
    vf R = vrecip2(D, Dl, Rl);
    *big = vcmp_ge(e, vdup(0x1p-30f));
    *Rl = vkeep(*big, *Rl);
    return R;
}

/* ---- forward ------------------------------------------------------------ */

/* x */
static inline vf fwd_identity(vf x, const act_par *k)
{
    (void)k;
    return x;
}

/* max(x, 0); +0 for x = -0 on every ISA */
static inline vf fwd_relu(vf x, const act_par *k)
{
    (void)k;
    return vmax(x, vzero());
}

/* max(x, 0) + log1p(e^-|x|) */
static inline vf fwd_softplus(vf x, const act_par *k)
{
    (void)k;
    vf lo, L = vlog1p_unit2(exp_neg_abs(x), &lo);
    (void)lo;
    return vadd(vmax(x, vzero()), L);
}

/* max(x, 0) + log1p(e^-a|x|) (inv_hi + inv_lo), the product rounded once */
static inline vf fwd_psoftplus(vf x, const act_par *k)
{
    vf lo, L = vlog1p_unit2(exp_neg_scaled(x, k->a, k->cut_fwd), &lo);
    /* L inv_lo only where it is normal (see act_par) */
    vf il = vkeep(vcmp_ge(L, k->lo_min), k->inv_lo);
    return vadd(vmax(x, vzero()), vmul2(L, lo, k->inv_hi, il));
}

/* x s(x) = (x or x e) / (1 + e), e = e^-|x| */
static inline vf fwd_silu(vf x, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    vf num = vsel_sign(x, x, vmul(x, e));
    return vdiv(num, vadd(vdup(1.0f), e));
}

/* x Phi(x) = x - (x E) G (x >= 0) or (x E) G, with Phi(-|x|) = E G(|x|),
 * E = e^(-x^2/2).  (x E) first keeps every product normal down to the
 * cut-off; E = 0 once |x| > 13.04, where |x Phi(x)| < 4.9e-38. */
static inline vf fwd_gelu(vf x, const act_par *k)
{
    (void)k;
    vf t = vmin(vabs(x), vdup(ACT_GELU_TMAX));
    vf xE = vmul(x, gauss_exp(t, vdup(ACT_GELU_FWD_CUT)));
    vf G = vgauss_tail(t);
    return vsel_sign(x, vfnma(xE, G, x), vmul(xE, G));
}

/* x > 0 ? x : e^x - 1 */
static inline vf fwd_elu(vf x, const act_par *k)
{
    (void)k;
    return vsel_sign(x, x, vexpm1_neg(x));
}

/* (1 or e) / (1 + e), e = e^-|x| */
static inline vf fwd_sigmoid(vf x, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    return vdiv(vsel_sign(x, vdup(1.0f), e), vadd(vdup(1.0f), e));
}

/* sign(x) tanh|x|, tanh|x| = m / (-2 - m), m = e^(-2|x|) - 1 in [-1, 0] */
static inline vf fwd_tanh(vf x, const act_par *k)
{
    (void)k;
    vf nx = vneg_abs(x);
    vf m = vexpm1_neg(vadd(nx, nx));
    vf b = vsub(vdup(-2.0f), m);
    vf bl = vsub(vsub(vdup(-2.0f), b), m); /* exact */
    vf rl, r = vrecip2(b, bl, &rl);
    /* for |m| < 2^-30 the correction is negligible and would be subnormal */
    rl = vkeep(vcmp_le(m, vdup(-0x1p-30f)), rl);
    vf t = vmul2(m, vzero(), r, rl);
    /* |t| with x's sign (t is -0 at x = +-0) */
    return vcopysign(t, x);
}

/* ---- backward: dx = dy f'(x) --------------------------------------------- */

static inline vf bwd_identity(vf x, vf dy, const act_par *k)
{
    (void)x;
    (void)k;
    return dy;
}

/* dy [x > 0]: relu'(0) = 0 */
static inline vf bwd_relu(vf x, vf dy, const act_par *k)
{
    (void)k;
    return vkeep(vcmp_gt(x, vzero()), dy);
}

/* dy s(x) = (dy or dy e) / (1 + e), e = e^-|x| (or e^-a|x|) */
static inline vf sigmoid_times(vf x, vf e, vf dy)
{
    vf num = vsel_sign(x, dy, vmul(dy, e));
    return vdiv(num, vadd(vdup(1.0f), e));
}

static inline vf bwd_softplus(vf x, vf dy, const act_par *k)
{
    (void)k;
    return sigmoid_times(x, exp_neg_abs(x), dy);
}

/* dy s(a x) */
static inline vf bwd_psoftplus(vf x, vf dy, const act_par *k)
{
    return sigmoid_times(x, exp_neg_scaled(x, k->a, exp_cut()), dy);
}

/* s (1 + x (1 - s)) with d = 1 + e, e = e^-|x|:
 *   x >= 0: s = 1/d, 1 - s = e/d  ->  (d + x e) / d^2
 *   x <  0: s = e/d, 1 - s = 1/d  ->  e (d + x) / d^2 */
static inline vf bwd_silu(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    vf d = vadd(vdup(1.0f), e);
    vf num = vsel_sign(x, vfma(x, e, d), vmul(e, vadd(d, x)));
    return vmul(dy, vdiv(num, vmul(d, d)));
}

/* Phi(x) + x phi(x) = 1 - D (x >= 0) or D, D = E (G(t) - t/sqrt(2 pi)),
 * t = |x|, E = e^(-t^2/2) */
static inline vf bwd_gelu(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf t = vmin(vabs(x), vdup(ACT_GELU_TMAX));
    vf g = vfnma(t, vdup(ACT_RSQRT_2PI), vgauss_tail(t));
    vf D = vmul(gauss_exp(t, exp_cut()), g);
    return vmul(dy, vsel_sign(x, vsub(vdup(1.0f), D), D));
}

/* dy (x > 0 ? 1 : e^x); both sides give 1 at x = 0 */
static inline vf bwd_elu(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf e = vexp_neg(vmin(x, vzero()));
    return vsel_sign(x, dy, vmul(dy, e));
}

/* dy e / (1 + e)^2, e = e^-|x| */
static inline vf bwd_sigmoid(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    vf d = vadd(vdup(1.0f), e);
    return vdiv(vmul(dy, e), vmul(d, d));
}

/* dy 4 e / (1 + e)^2, e = e^-2|x| (the 4 last, so dy near FLT_MAX is ok) */
static inline vf bwd_tanh(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf nx = vneg_abs(x);
    vf e = vexp_neg(vadd(nx, nx)), Rl;
    vmask big;
    vf R = den_one_plus_sq(e, &Rl, &big);
    vf n = vmul(dy, e);
    vf nl = vkeep(big, vfms(dy, e, n)); /* dy e - n, exact */
    return vmul(vmul2(n, nl, R, Rl), vdup(4.0f));
}

/* ---- loops ---------------------------------------------------------------
 * Always inlined with a constant op, so each case of the switches below
 * becomes its own loop with the op inlined. */

static inline void run_fwd(fwd_op op, const act_par *k, size_t n,
                           const float *x, float *y)
{
    size_t i = 0;
    for (; i + 2 * VEC_LANES <= n; i += 2 * VEC_LANES) {
        vf a = op(vload(x + i), k);
        vf b = op(vload(x + i + VEC_LANES), k);
        vstore(y + i, a);
        vstore(y + i + VEC_LANES, b);
    }
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(y + i, op(vload(x + i), k));
    if (i < n) /* the same lanes, the same code */
        vstore_n(y + i, op(vload_n(x + i, n - i), k), n - i);
}

static inline void run_bwd(bwd_op op, const act_par *k, size_t n,
                           const float *x, const float *dy, float *dx)
{
    size_t i = 0;
    for (; i + 2 * VEC_LANES <= n; i += 2 * VEC_LANES) {
        vf a = op(vload(x + i), vload(dy + i), k);
        vf b = op(vload(x + i + VEC_LANES), vload(dy + i + VEC_LANES), k);
        vstore(dx + i, a);
        vstore(dx + i + VEC_LANES, b);
    }
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(dx + i, op(vload(x + i), vload(dy + i), k));
    if (i < n) {
        size_t r = n - i;
        vstore_n(dx + i, op(vload_n(x + i, r), vload_n(dy + i, r), k), r);
    }
}

static act_par make_par(float alpha)
{
    /* 1/alpha = inv_hi + inv_lo: 1 - alpha inv_hi is exact with one FMA */
    float inv_hi = 1.0f / alpha;
    float inv_lo = fmaf(-alpha, inv_hi, 1.0f) * inv_hi;
    float lo_min = inv_lo != 0 ? 0x1p-126f / fabsf(inv_lo) : INFINITY;
    /* L = log1p(e) ~ e must be >= alpha 2^-126 for L/alpha to be normal */
    float cut = ACT_EXP_CUT + (alpha > 1 ? logf(alpha) : 0.0f);
    act_par k = { vdup(alpha), vdup(inv_hi), vdup(inv_lo), vdup(lo_min),
                  vdup(cut) };
    return k;
}

void advc_act_forward_vec(advc_act f, float alpha, size_t n, const float *x,
                          float *y)
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

void advc_act_backward_vec(advc_act f, float alpha, size_t n, const float *x,
                           const float *dy, float *dx)
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
