/* act_neon.c: activation forward and backward with NEON (aarch64), 4
 * floats per vector, two vectors per loop step.  The same formulas as
 * avx2/act_avx2.c, which comments each one; the tail (n % 4) runs the same
 * code on a zero-padded copy, so every element gets the value the vector
 * loop would give it.  act.h states the accuracy.
 */
#include <math.h>
#include <string.h>
#include "neon/neon_kernels.h"
#include "neon/vmath_neon.h"

/* psoftplus's alpha: a, 1/a = inv_hi + inv_lo (inv_lo used where L inv_lo
 * stays normal, L >= lo_min), and the forward's exp cut-off. */
typedef struct {
    vf a, inv_hi, inv_lo, lo_min, cut_fwd;
} act_par;

typedef vf (*fwd_op)(vf x, const act_par *k);
typedef vf (*bwd_op)(vf x, vf dy, const act_par *k);

/* -|x| */
static inline vf neg_abs(vf x) { return vnegq_f32(vabsq_f32(x)); }
/* x's sign bit set (x < 0 or x = -0) ? if_neg : if_pos */
static inline vf by_sign(vf x, vf if_pos, vf if_neg)
{
    uint32x4_t neg = vreinterpretq_u32_s32(
        vshrq_n_s32(vreinterpretq_s32_f32(x), 31));
    return vbslq_f32(neg, if_neg, if_pos);
}

static inline vf exp_cut(void) { return v4(ACT_EXP_CUT); }
static inline vf exp_neg_abs(vf x) { return vexp_neg(neg_abs(x)); }

/* e^(a * -|x|), a * -|x| exact as hi + lo; 0 below cut */
static inline vf exp_neg_scaled(vf x, vf a, vf cut)
{
    vf nx = neg_abs(x);
    vf hi = vmulq_f32(a, nx);
    return vexp_neg_hilo(hi, vfms(a, nx, hi), cut);
}

/* E = e^(-t^2/2), t^2 exact as hi + lo; 0 below cut */
static inline vf gauss_exp(vf t, vf cut)
{
    vf hi = vmulq_f32(t, t);
    vf lo = vfms(t, t, hi);
    return vexp_neg_hilo(vmulq_f32(hi, v4(-0.5f)),
                         vmulq_f32(lo, v4(-0.5f)), cut);
}

/* 1/(1 + e)^2 = R + Rl for tanh' (see act_avx2.c); *big: e >= 2^-30 */
static inline vf den_one_plus_sq(vf e, vf *Rl, uint32x4_t *big)
{
    vf d = vaddq_f32(v4(1.0f), e);
    vf t = one_plus_err(e, d);
    vf D = vmulq_f32(d, d);
    vf Dl = vfma(vaddq_f32(d, d), t, vfms(d, d, D));
    vf R = vrecip2(D, Dl, Rl);
    *big = vcgeq_f32(e, v4(0x1p-30f));
    *Rl = vand_mask(*big, *Rl);
    return R;
}

/* ---- forward ------------------------------------------------------------ */

static inline vf fwd_identity(vf x, const act_par *k)
{
    (void)k;
    return x;
}

/* max(x, 0) (+0 for x = -0) */
static inline vf fwd_relu(vf x, const act_par *k)
{
    (void)k;
    return vmaxq_f32(x, vzero());
}

/* max(x, 0) + log1p(e^-|x|) */
static inline vf fwd_softplus(vf x, const act_par *k)
{
    (void)k;
    vf lo, L = vlog1p_unit2(exp_neg_abs(x), &lo);
    (void)lo;
    return vaddq_f32(vmaxq_f32(x, vzero()), L);
}

/* max(x, 0) + log1p(e^-a|x|) (inv_hi + inv_lo) */
static inline vf fwd_psoftplus(vf x, const act_par *k)
{
    vf lo, L = vlog1p_unit2(exp_neg_scaled(x, k->a, k->cut_fwd), &lo);
    vf il = vand_mask(vcgeq_f32(L, k->lo_min), k->inv_lo);
    return vaddq_f32(vmaxq_f32(x, vzero()), vmul2(L, lo, k->inv_hi, il));
}

/* (x or x e) / (1 + e) */
static inline vf fwd_silu(vf x, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    return vdivq_f32(by_sign(x, x, vmulq_f32(x, e)),
                     vaddq_f32(v4(1.0f), e));
}

/* x - (x E) G (x >= 0) or (x E) G */
static inline vf fwd_gelu(vf x, const act_par *k)
{
    (void)k;
    vf t = vminq_f32(vabsq_f32(x), v4(ACT_GELU_TMAX));
    vf xE = vmulq_f32(x, gauss_exp(t, v4(ACT_GELU_FWD_CUT)));
    vf G = vgauss_tail(t);
    return by_sign(x, vfnma(xE, G, x), vmulq_f32(xE, G));
}

/* x > 0 ? x : e^x - 1 */
static inline vf fwd_elu(vf x, const act_par *k)
{
    (void)k;
    return by_sign(x, x, vexpm1_neg(x));
}

/* (1 or e) / (1 + e) */
static inline vf fwd_sigmoid(vf x, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    return vdivq_f32(by_sign(x, v4(1.0f), e), vaddq_f32(v4(1.0f), e));
}

/* sign(x) m / (-2 - m), m = e^(-2|x|) - 1, quotient compensated */
static inline vf fwd_tanh(vf x, const act_par *k)
{
    (void)k;
    vf nx = neg_abs(x);
    vf m = vexpm1_neg(vaddq_f32(nx, nx));
    vf b = vsubq_f32(v4(-2.0f), m);
    vf bl = vsubq_f32(vsubq_f32(v4(-2.0f), b), m);
    vf rl, r = vrecip2(b, bl, &rl);
    rl = vand_mask(vcleq_f32(m, v4(-0x1p-30f)), rl);
    vf t = vabsq_f32(vmul2(m, vzero(), r, rl));
    /* |t| with x's sign */
    uint32x4_t sign = vdupq_n_u32(0x80000000u);
    return vbslq_f32(sign, x, t);
}

/* ---- backward ------------------------------------------------------------ */

static inline vf bwd_identity(vf x, vf dy, const act_par *k)
{
    (void)x;
    (void)k;
    return dy;
}

/* dy [x > 0] (relu'(0) = 0) */
static inline vf bwd_relu(vf x, vf dy, const act_par *k)
{
    (void)k;
    return vand_mask(vcgtq_f32(x, vzero()), dy);
}

/* dy (1 or e) / (1 + e) */
static inline vf sigmoid_times(vf x, vf e, vf dy)
{
    return vdivq_f32(by_sign(x, dy, vmulq_f32(dy, e)),
                     vaddq_f32(v4(1.0f), e));
}

static inline vf bwd_softplus(vf x, vf dy, const act_par *k)
{
    (void)k;
    return sigmoid_times(x, exp_neg_abs(x), dy);
}

static inline vf bwd_psoftplus(vf x, vf dy, const act_par *k)
{
    return sigmoid_times(x, exp_neg_scaled(x, k->a, exp_cut()), dy);
}

/* dy (d + x e) / d^2 (x >= 0) or dy e (d + x) / d^2, d = 1 + e */
static inline vf bwd_silu(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    vf d = vaddq_f32(v4(1.0f), e);
    vf num = by_sign(x, vfma(x, e, d), vmulq_f32(e, vaddq_f32(d, x)));
    return vmulq_f32(dy, vdivq_f32(num, vmulq_f32(d, d)));
}

/* dy (1 - D) (x >= 0) or dy D, D = E (G(t) - t/sqrt(2 pi)) */
static inline vf bwd_gelu(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf t = vminq_f32(vabsq_f32(x), v4(ACT_GELU_TMAX));
    vf g = vfnma(t, v4(ACT_RSQRT_2PI), vgauss_tail(t));
    vf D = vmulq_f32(gauss_exp(t, exp_cut()), g);
    return vmulq_f32(dy, by_sign(x, vsubq_f32(v4(1.0f), D), D));
}

/* dy (x > 0 ? 1 : e^x) */
static inline vf bwd_elu(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf e = vexp_neg(vminq_f32(x, vzero()));
    return by_sign(x, dy, vmulq_f32(dy, e));
}

/* dy e / (1 + e)^2 */
static inline vf bwd_sigmoid(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf e = exp_neg_abs(x);
    vf d = vaddq_f32(v4(1.0f), e);
    return vdivq_f32(vmulq_f32(dy, e), vmulq_f32(d, d));
}

/* 4 dy e / (1 + e)^2, e = e^-2|x|, quotient compensated */
static inline vf bwd_tanh(vf x, vf dy, const act_par *k)
{
    (void)k;
    vf nx = neg_abs(x);
    vf e = vexp_neg(vaddq_f32(nx, nx)), Rl;
    uint32x4_t big;
    vf R = den_one_plus_sq(e, &Rl, &big);
    vf n = vmulq_f32(dy, e);
    vf nl = vand_mask(big, vfms(dy, e, n));
    return vmulq_f32(vmul2(n, nl, R, Rl), v4(4.0f));
}

/* ---- loops --------------------------------------------------------------- */

static inline void run_fwd(fwd_op op, const act_par *k, size_t n,
                           const float *x, float *y)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vf a = op(vld1q_f32(x + i), k);
        vf b = op(vld1q_f32(x + i + 4), k);
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, op(vld1q_f32(x + i), k));
    if (i < n) { /* zero-padded copy: same lanes, same code */
        float bx[4] = { 0 }, by[4];
        memcpy(bx, x + i, (n - i) * sizeof *x);
        vst1q_f32(by, op(vld1q_f32(bx), k));
        memcpy(y + i, by, (n - i) * sizeof *y);
    }
}

static inline void run_bwd(bwd_op op, const act_par *k, size_t n,
                           const float *x, const float *dy, float *dx)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vf a = op(vld1q_f32(x + i), vld1q_f32(dy + i), k);
        vf b = op(vld1q_f32(x + i + 4), vld1q_f32(dy + i + 4), k);
        vst1q_f32(dx + i, a);
        vst1q_f32(dx + i + 4, b);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dx + i, op(vld1q_f32(x + i), vld1q_f32(dy + i), k));
    if (i < n) {
        float bx[4] = { 0 }, bdy[4] = { 0 }, bdx[4];
        memcpy(bx, x + i, (n - i) * sizeof *x);
        memcpy(bdy, dy + i, (n - i) * sizeof *dy);
        vst1q_f32(bdx, op(vld1q_f32(bx), vld1q_f32(bdy), k));
        memcpy(dx + i, bdx, (n - i) * sizeof *dx);
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
    act_par k = { v4(alpha), v4(inv_hi), v4(inv_lo), v4(lo_min), v4(cut) };
    return k;
}

void advc_act_forward_neon(advc_act f, float alpha, size_t n,
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

void advc_act_backward_neon(advc_act f, float alpha, size_t n,
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
