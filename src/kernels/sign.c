/* sign.c: the public attack-step kernels, forwarded to this build's ISA
 * (see dispatch.h).  The SIMD versions match the references in
 * scalar/sign_ref.c bit for bit (sign steps) or to 1 ulp (L2 step).
 * Aliasing: x may be the same array as g or x0 (each element is read
 * before it is written); partly overlapping arrays are not allowed.
 */
#include "dispatch.h"

/* x = clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
void advc_sign_step_proj(size_t n, float *x, const float *g, const float *x0,
                         float a, float eps, float lo, float hi)
{
    isa_sign_step_proj(n, x, g, x0, a, eps, lo, hi);
}

/* x = x + a*sign(g) */
void advc_sign_step(size_t n, float *x, const float *g, float a)
{
    isa_sign_step(n, x, g, a);
}

/* delta_i = +-min(room_i, lam) (see advc/kernels.h); returns the largest */
float advc_box_move(size_t n, const float *t, const float *w, float s,
                    float lam, float lo, float hi, float *delta)
{
    return isa_box_move(n, t, w, s, lam, lo, hi, delta);
}

/* x = x + a*g/||g||_2; unchanged when ||g||_2 = 0 */
void advc_l2_step(size_t n, float *x, const float *g, float a)
{
    isa_l2_step(n, x, g, a);
}
