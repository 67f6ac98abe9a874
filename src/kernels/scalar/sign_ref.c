/* sign_ref.c: the attack steps, written plainly.  These are the
 * specification and test oracle for the SIMD versions, and the kernels of a
 * SIMD=scalar build.  Not tuned: one element at a time, in index order.
 * The sign step is exact except for the one rounding of x + a*sign(g), so
 * every ISA must match it bit for bit; the L2 step is done in double.
 */
#include <math.h>
#include "advc/kernels.h"

/* clang contracts a*b + c into an fma by default; the references must
 * round every operation as written (gcc -std=c11 already does). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* a*sign(g) without a multiply: +a, -a, or 0 for g = +-0 and for NaN g
 * (both comparisons are false for NaN, so a NaN gradient never moves x).
 * Two plain selects rather than a nested ?: so compilers emit compare +
 * blend, not a branch that random gradient signs would mispredict. */
static float signed_step(float g, float a)
{
    float s = g > 0.0f ? a : 0.0f;
    return g < 0.0f ? -a : s;
}

/* The clamp is written with the comparisons the SIMD max/min instructions
 * make (x86 maxps: v > lo ? v : lo), so every ISA can reproduce it exactly,
 * down to the sign of zero.  max first, then min: when lo > hi, hi wins. */
static float clamp(float v, float lo, float hi)
{
    v = v > lo ? v : lo;
    return v < hi ? v : hi;
}

/* x = clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
void advc_sign_step_proj_ref(size_t n, float *x, const float *g,
                             const float *x0, float a, float eps, float lo,
                             float hi)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] + signed_step(g[i], a);
        v = clamp(v, x0[i] - eps, x0[i] + eps);
        x[i] = clamp(v, lo, hi);
    }
}

/* x = x + a*sign(g) */
void advc_sign_step_ref(size_t n, float *x, const float *g, float a)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] + signed_step(g[i], a);
}

/* x = x + a*g/||g||_2, in double: ||g||^2 cannot overflow for float g and
 * a/||g|| cannot overflow for tiny (subnormal) g.  Each x is rounded once.
 * No change when ||g|| = 0 (or is NaN). */
void advc_l2_step_ref(size_t n, float *x, const float *g, float a)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)g[i] * (double)g[i];
    if (!(ss > 0.0))
        return;
    double s = (double)a / sqrt(ss);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)x[i] + s * (double)g[i]);
}

/* delta_i = up ? m : -m, m = min(room, lam) (0 unless w_i < 0 or w_i > 0),
 * up = s w_i < 0; the largest m.  Written with the comparisons the SIMD
 * compare and min instructions make, so every ISA can match it. */
float advc_box_move_ref(size_t n, const float *t, const float *w, float s,
                        float lam, float lo, float hi, float *delta)
{
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        int up = s * w[i] < 0.0f;
        float p = up ? hi - t[i] : t[i] - lo;
        float m = p < lam ? p : lam;
        m = w[i] < 0.0f || w[i] > 0.0f ? m : 0.0f;
        delta[i] = up ? m : -m;
        mx = m > mx ? m : mx;
    }
    return mx;
}
