/* act_ref.c: the activations twice over, without vectors.
 *  - act_ref_f / act_ref_df and the `_ref` kernels: double precision from
 *    libm, rounded once to float; the specification and the test oracle.
 *  - advc_act_{forward,backward}_scalar: float code with libm's float
 *    functions and the same formulas as the SIMD kernels (the kernels of
 *    a SIMD=scalar build).  act.h states what both promise.
 */
#include <assert.h>
#include <math.h>
#include "act.h"
#include "scalar/scalar_kernels.h"

/* ---- double reference ---------------------------------------------------- */

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

/* log(1 + e^x) without overflow: x + log1p(e^-x) for x > 0. */
static double softplus_d(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Phi(x), the standard normal CDF, through erfc so both tails keep their
 * relative accuracy (erf would round Phi(-10) = 7.6e-24 to 0). */
static double normal_cdf_d(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* phi(x) = e^(-x^2/2) / sqrt(2 pi) */
static double normal_pdf_d(double x)
{
    return exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846);
}

double act_ref_f(advc_act f, double a, double x)
{
    switch (f) {
    case ADVC_ACT_IDENTITY:  return x;
    case ADVC_ACT_RELU:      return x > 0 ? x : 0.0;
    case ADVC_ACT_SOFTPLUS:  return softplus_d(x);           /* log(1+e^x) */
    case ADVC_ACT_PSOFTPLUS: return softplus_d(a * x) / a;  /* (1/a)sp(ax) */
    case ADVC_ACT_SILU:      return x * sigmoid_d(x);         /* x s(x)     */
    case ADVC_ACT_GELU:      return x * normal_cdf_d(x);      /* x Phi(x)   */
    case ADVC_ACT_ELU:       return x > 0 ? x : expm1(x);     /* e^x - 1    */
    case ADVC_ACT_SIGMOID:   return sigmoid_d(x);
    case ADVC_ACT_TANH:      return tanh(x);
    default: assert(!"bad activation"); return 0.0;
    }
}

double act_ref_df(advc_act f, double a, double x)
{
    switch (f) {
    case ADVC_ACT_IDENTITY:  return 1.0;
    case ADVC_ACT_RELU:      return x > 0 ? 1.0 : 0.0;       /* 0 at x = 0 */
    case ADVC_ACT_SOFTPLUS:  return sigmoid_d(x);
    case ADVC_ACT_PSOFTPLUS: return sigmoid_d(a * x);
    case ADVC_ACT_SILU:      /* s (1 + x (1 - s)), 1 - s = s(-x) */
        return sigmoid_d(x) * (1.0 + x * sigmoid_d(-x));
    case ADVC_ACT_GELU:      /* Phi(x) + x phi(x) */
        return normal_cdf_d(x) + x * normal_pdf_d(x);
    case ADVC_ACT_ELU:       return x > 0 ? 1.0 : exp(x);
    case ADVC_ACT_SIGMOID:   /* s (1 - s) */
        return sigmoid_d(x) * sigmoid_d(-x);
    case ADVC_ACT_TANH: {    /* 1 - tanh^2 = 1/cosh^2, no cancellation */
        double c = cosh(x);
        return 1.0 / (c * c);
    }
    default: assert(!"bad activation"); return 0.0;
    }
}

void advc_act_forward_ref(advc_act f, float alpha, size_t n, const float *x,
                          float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (float)act_ref_f(f, alpha, x[i]);
}

void advc_act_backward_ref(advc_act f, float alpha, size_t n, const float *x,
                           const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (float)((double)dy[i] * act_ref_df(f, alpha, x[i]));
}

/* ---- float kernels (SIMD=scalar builds) ----------------------------------
 * The SIMD formulas, with expf/expm1f/log1pf in place of the vector cores:
 * e = e^-|x| is in (0, 1], so nothing overflows.  Where the SIMD code
 * carries a float pair (hi + lo) or fuses steps (e^-a|x| and L/a for
 * psoftplus, tanh, tanh', GELU's tail), this code uses double, which a
 * scalar FPU computes as fast as float. */

/* e^-x for x >= 0, 0 where -x < cut (as the SIMD exp core: no subnormal
 * results; act.h, ACT_EXP_CUT). */
static float exp_neg(float x, float cut)
{
    return -x < cut ? 0.0f : expf(-x);
}

/* e^-(hi + lo) for hi >= 0 and a small correction lo (|lo| <= ulp(hi)):
 * e^-hi (1 - lo), in double (the SIMD code adds lo to the reduced
 * argument); 0 where -hi < cut (lo, which may be inf, is then ignored). */
static double exp_neg_hilo(float hi, float lo, float cut)
{
    if (-hi < cut) return 0.0;
    double e = expf(-hi);
    return e - e * lo;
}

/* a |x| as hi + lo, exact: the product of two floats fits in a double. */
static void mul_hilo(float a, float x, float *hi, float *lo)
{
    double p = (double)a * (double)fabsf(x);
    *hi = (float)p;
    *lo = isinf(*hi) ? 0.0f : (float)(p - (double)*hi);
}

/* G(t) = Phi(-t) e^(t^2/2), t in [0, ACT_GELU_TMAX]: v K(t v), v = 1/(t+c)
 * (the SIMD code's v + vl pair and fused steps: here, double) */
static double gauss_tail(float t)
{
    double v = 1.0 / (t + (double)ACT_GELU_C);
    double w = t * v, K = ACT_GELU_K[9];
    for (int k = 8; k >= 0; k--)
        K = K * w + ACT_GELU_K[k];
    return v * K;
}

/* e^(-t^2/2) with t^2 = hi + lo exact, t in [0, TMAX]; 0 below cut. */
static double gauss_exp(float t, float cut)
{
    double sq = (double)t * (double)t;
    float hi = (float)sq, lo = (float)(sq - (double)hi);
    return exp_neg_hilo(0.5f * hi, 0.5f * lo, cut);
}

/* alpha, and the forward's exp cut-off (e >= alpha 2^-126, so that
 * L/alpha stays normal) */
typedef struct {
    float a, cut_fwd;
} act_par;

static act_par make_par(float alpha)
{
    act_par k;
    k.a = alpha;
    k.cut_fwd = ACT_EXP_CUT + (alpha > 1 ? logf(alpha) : 0.0f);
    return k;
}

static float fwd1(advc_act f, const act_par *k, float x)
{
    float ax = fabsf(x), pos = x > 0 ? x : 0.0f;
    switch (f) {
    case ADVC_ACT_IDENTITY: return x;
    case ADVC_ACT_RELU:     return pos;
    case ADVC_ACT_SOFTPLUS: /* max(x,0) + log1p(e^-|x|) */
        return pos + log1pf(exp_neg(ax, ACT_EXP_CUT));
    case ADVC_ACT_PSOFTPLUS: { /* max(x,0) + log1p(e^-a|x|) / a */
        float hi, lo;
        mul_hilo(k->a, x, &hi, &lo);
        float L = log1pf((float)exp_neg_hilo(hi, lo, k->cut_fwd));
        return pos + (float)((double)L / k->a);
    }
    case ADVC_ACT_SILU: {  /* (x or x e) / (1 + e) */
        float e = exp_neg(ax, ACT_EXP_CUT);
        return (x >= 0 ? x : x * e) / (1.0f + e);
    }
    case ADVC_ACT_GELU: {  /* x - (x E) G or (x E) G, E = e^(-x^2/2) */
        float t = fminf(ax, ACT_GELU_TMAX);
        double xE = x * gauss_exp(t, ACT_GELU_FWD_CUT), G = gauss_tail(t);
        return (float)(x >= 0 ? x - xE * G : xE * G);
    }
    case ADVC_ACT_ELU:     return x > 0 ? x : expm1f(x);
    case ADVC_ACT_SIGMOID: {  /* (1 or e) / (1 + e) */
        float e = exp_neg(ax, ACT_EXP_CUT);
        return (x >= 0 ? 1.0f : e) / (1.0f + e);
    }
    case ADVC_ACT_TANH: {  /* -expm1(-2|x|) / (2 + expm1(-2|x|)) */
        float m = expm1f(-2.0f * ax);
        return copysignf((float)(-(double)m / (2.0 + m)), x);
    }
    default: assert(!"bad activation"); return 0.0f;
    }
}

static float bwd1(advc_act f, const act_par *k, float x, float dy)
{
    float ax = fabsf(x);
    switch (f) {
    case ADVC_ACT_IDENTITY: return dy;
    case ADVC_ACT_RELU:     return x > 0 ? dy : 0.0f;
    case ADVC_ACT_SOFTPLUS: {  /* dy (1 or e) / (1 + e), as psoftplus */
        double e = exp_neg(ax, ACT_EXP_CUT);
        return (float)((x >= 0 ? dy : dy * e) / (1.0 + e));
    }
    case ADVC_ACT_PSOFTPLUS: { /* same with e = e^-a|x| (in double) */
        float hi, lo;
        mul_hilo(k->a, x, &hi, &lo);
        double e = exp_neg_hilo(hi, lo, ACT_EXP_CUT);
        return (float)((x >= 0 ? dy : dy * e) / (1.0 + e));
    }
    case ADVC_ACT_SILU: {
        /* s (1 + x (1-s)) = (d + x e) / d^2 (x >= 0) or e (d + x) / d^2,
         * d = 1 + e, e = e^-|x| */
        float e = exp_neg(ax, ACT_EXP_CUT), d = 1.0f + e;
        float num = x >= 0 ? d + x * e : e * (d + x);
        return dy * (num / (d * d));
    }
    case ADVC_ACT_GELU: {
        /* D = E (G - t phi0): f' = 1 - D (x >= 0) or D (x < 0) */
        float t = fminf(ax, ACT_GELU_TMAX);
        double D = gauss_exp(t, ACT_EXP_CUT) *
                   (gauss_tail(t) - t * (double)ACT_RSQRT_2PI);
        return (float)(dy * (x >= 0 ? 1.0 - D : D));
    }
    case ADVC_ACT_ELU:     return x > 0 ? dy : dy * exp_neg(-x, ACT_EXP_CUT);
    case ADVC_ACT_SIGMOID: {  /* dy e / (1 + e)^2 */
        float e = exp_neg(ax, ACT_EXP_CUT), d = 1.0f + e;
        return (dy * e) / (d * d);
    }
    case ADVC_ACT_TANH: {  /* dy 4e / (1 + e)^2, e = e^-2|x| */
        double e = exp_neg(2.0f * ax, ACT_EXP_CUT), d = 1.0 + e;
        return (float)(4.0 * (dy * e) / (d * d));
    }
    default: assert(!"bad activation"); return 0.0f;
    }
}

void advc_act_forward_scalar(advc_act f, float alpha, size_t n,
                             const float *x, float *y)
{
    act_par k = make_par(alpha);
    for (size_t i = 0; i < n; i++)
        y[i] = fwd1(f, &k, x[i]);
}

void advc_act_backward_scalar(advc_act f, float alpha, size_t n,
                              const float *x, const float *dy, float *dx)
{
    act_par k = make_par(alpha);
    for (size_t i = 0; i < n; i++)
        dx[i] = bwd1(f, &k, x[i], dy[i]);
}
