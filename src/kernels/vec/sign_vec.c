/* sign_vec.c: the attack steps, written once over the vector layer
 * (vec.h) for this build's SIMD ISA.
 * The sign steps reproduce scalar/sign_ref.c bit for bit on every ISA:
 * a*sign(g) is built from compare masks (exact), x + that is the one
 * rounding, and the clamps are vmax_gt / vmin_lt, which make exactly the
 * ref's comparisons (down to the sign of zero).  The L2 step works in
 * double like the ref and matches it to 1 ulp (its sum of squares is
 * added in another order).  FAB's box moves are compares, selects, a
 * subtraction and a min: bit for bit too.  Tails (n % VEC_LANES) are
 * partial vectors, never past the end.
 */
#include <math.h>
#include "vec/vec_kernels.h"
#include "vec/vec.h"

/* a*sign(g) per lane: -a where g's sign bit is set, +a otherwise, and
 * the mask g != 0 (ordered: false for NaN) zeroes the lanes with g = +-0
 * or g = NaN, so a NaN gradient gives a zero step, as in the ref. */
static inline vf signed_step(vf g, vf a, vf na)
{
    return vkeep(vcmp_ne(g, vzero()), vsel_sign(g, a, na));
}

/* v > lo ? v : lo, then v < hi ? v : hi: exactly the ref's clamp */
static inline vf clamp(vf v, vf lo, vf hi)
{
    return vmin_lt(vmax_gt(v, lo), hi);
}

typedef struct {
    vf a, na;   /* step size a and -a          */
    vf eps;     /* radius of the ball around x0 */
    vf lo, hi;  /* the box                      */
} proj_consts;

/* clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
static inline vf proj_v(vf x, vf g, vf x0, const proj_consts *k)
{
    vf v = vadd(x, signed_step(g, k->a, k->na));
    v = clamp(v, vsub(x0, k->eps), vadd(x0, k->eps));
    return clamp(v, k->lo, k->hi);
}

/* x = clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
void advc_sign_step_proj_vec(size_t n, float *x, const float *g,
                             const float *x0, float a, float eps, float lo,
                             float hi)
{
    proj_consts k = { vdup(a), vdup(-a), vdup(eps), vdup(lo), vdup(hi) };
    size_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(x + i, proj_v(vload(x + i), vload(g + i), vload(x0 + i), &k));
    if (i < n) {
        size_t r = n - i;
        vstore_n(x + i, proj_v(vload_n(x + i, r), vload_n(g + i, r),
                               vload_n(x0 + i, r), &k), r);
    }
}

/* x = x + a*sign(g) */
void advc_sign_step_vec(size_t n, float *x, const float *g, float a)
{
    vf va = vdup(a), vna = vdup(-a);
    size_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(x + i, vadd(vload(x + i), signed_step(vload(g + i), va, vna)));
    if (i < n) {
        size_t r = n - i;
        vf s = signed_step(vload_n(g + i, r), va, vna);
        vstore_n(x + i, vadd(vload_n(x + i, r), s), r);
    }
}

/* acc += lo^2 and acc' += hi^2, in double (exact products) */
static inline void sumsq(vd lo, vd hi, vd acc[2])
{
    acc[0] = vd_fma(lo, lo, acc[0]);
    acc[1] = vd_fma(hi, hi, acc[1]);
}

/* (float)(x + s*g) from x and g widened to double, halves (xl, xh) and
 * (gl, gh): multiply and add in double as the ref does, then one rounding
 * to float */
static inline vf l2_v(vd xl, vd xh, vd gl, vd gh, vd s)
{
    return vd_to_vf(vd_add(xl, vd_mul(s, gl)), vd_add(xh, vd_mul(s, gh)));
}

/* The same from a partial vector (tails) */
static inline vf l2_vf(vf x, vf g, vd s)
{
    return l2_v(vd_lo(x), vd_hi(x), vd_lo(g), vd_hi(g), s);
}

/* x = x + a*g/||g||_2, in double like the ref (no overflow of ||g||^2 or
 * of a/||g||); the sum of squares uses 4 accumulators, so it is added in a
 * different order from the ref.  No change when ||g|| = 0 or is NaN. */
void advc_l2_step_vec(size_t n, float *x, const float *g, float a)
{
    enum { H = VEC_LANES / 2 }; /* floats per vd */
    vd acc[4] = { vd_zero(), vd_zero(), vd_zero(), vd_zero() };
    size_t i = 0;
    /* Whole vectors are widened straight from memory, half a vector at a
     * time (one load-and-convert each, no lane shuffles). */
    for (; i + 2 * VEC_LANES <= n; i += 2 * VEC_LANES) {
        sumsq(vd_load(g + i), vd_load(g + i + H), acc);
        sumsq(vd_load(g + i + 2 * H), vd_load(g + i + 3 * H), acc + 2);
    }
    for (; i < n; i += VEC_LANES) { /* last 1 .. 2 VEC_LANES - 1 */
        size_t r = n - i < VEC_LANES ? n - i : VEC_LANES;
        vf gv = vload_n(g + i, r);
        sumsq(vd_lo(gv), vd_hi(gv), acc);
    }
    double ss = vd_hsum(vd_add(vd_add(acc[0], acc[1]),
                               vd_add(acc[2], acc[3])));
    if (!(ss > 0.0))
        return;
    vd s = vd_dup((double)a / sqrt(ss));
    for (i = 0; i + VEC_LANES <= n; i += VEC_LANES)
        vstore(x + i, l2_v(vd_load(x + i), vd_load(x + i + H),
                           vd_load(g + i), vd_load(g + i + H), s));
    if (i < n) {
        size_t r = n - i;
        vstore_n(x + i, l2_vf(vload_n(x + i, r), vload_n(g + i, r), s), r);
    }
}

/* One vector of advc_box_move: the moves into *d, m returned. */
static inline vf box_move_v(vf t, vf w, vf s, vf lam, vf lo, vf hi, vf *d)
{
    vmask up = vcmp_lt(vmul(s, w), vzero());
    vf m = vmin_lt(vsel(up, vsub(hi, t), vsub(t, lo)), lam);
    m = vkeep(vcmp_ne(w, vzero()), m);
    *d = vsel(up, m, vmul(m, vdup(-1.0f))); /* -m, the sign of 0 too */
    return m;
}

float advc_box_move_vec(size_t n, const float *t, const float *w, float s,
                        float lam, float lo, float hi, float *delta)
{
    vf vs = vdup(s), vl = vdup(lam), vlo = vdup(lo), vhi = vdup(hi);
    vf mx = vzero(), d;
    size_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES) {
        vf m = box_move_v(vload(t + i), vload(w + i), vs, vl, vlo, vhi, &d);
        vstore(delta + i, d);
        mx = vmax_gt(m, mx);
    }
    if (i < n) { /* lanes past n: w = 0, so m = 0 */
        size_t r = n - i;
        vf m = box_move_v(vload_n(t + i, r), vload_n(w + i, r), vs, vl, vlo,
                          vhi, &d);
        vstore_n(delta + i, d, r);
        mx = vmax_gt(m, mx);
    }
    return vhmax(mx);
}
