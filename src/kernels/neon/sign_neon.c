/* sign_neon.c: the attack steps with AArch64 NEON, 4 floats per vector.
 * The sign steps reproduce scalar/sign_ref.c bit for bit: a*sign(g) comes
 * from compare masks (exact), x + that is the one rounding, and the clamps
 * are compare + select, which make the ref's exact comparisons (FMAX/FMIN
 * would differ on signed zeros and NaN).  The L2 step works in double like
 * the ref and matches it to 1 ulp.  Tails (n % 4) go through a small
 * zero-padded stack buffer, so no load or store passes the end.
 */
#include <arm_neon.h>
#include <math.h>
#include <string.h>
#include "neon/neon_kernels.h"

/* Copies the last r < 4 floats of src into a zero-padded 4-float buffer
 * and loads it. */
static inline float32x4_t load_tail(const float *src, size_t r)
{
    float b[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
    memcpy(b, src, r * sizeof *src);
    return vld1q_f32(b);
}

/* Stores the first r < 4 lanes of v to dst. */
static inline void store_tail(float *dst, size_t r, float32x4_t v)
{
    float b[4];
    vst1q_f32(b, v);
    memcpy(dst, b, r * sizeof *dst);
}

/* a*sign(g) per lane: +a where g > 0, -a where g < 0, else 0 (g = +-0 or
 * NaN: both compares are false, so a NaN gradient gives a zero step). */
static inline float32x4_t signed_step(float32x4_t g, float32x4_t a,
                                      float32x4_t na)
{
    float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t neg = vbslq_f32(vcltq_f32(g, zero), na, zero);
    return vbslq_f32(vcgtq_f32(g, zero), a, neg);
}

/* (v > lo ? v : lo), then (v < hi ? v : hi): the ref's clamp, max first */
static inline float32x4_t clamp(float32x4_t v, float32x4_t lo,
                                float32x4_t hi)
{
    v = vbslq_f32(vcgtq_f32(v, lo), v, lo);
    return vbslq_f32(vcltq_f32(v, hi), v, hi);
}

typedef struct {
    float32x4_t a, na;   /* step size a and -a          */
    float32x4_t eps;     /* radius of the ball around x0 */
    float32x4_t lo, hi;  /* the box                      */
} proj_consts;

/* clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) for 4 lanes */
static inline float32x4_t proj4(float32x4_t x, float32x4_t g, float32x4_t x0,
                                const proj_consts *k)
{
    float32x4_t v = vaddq_f32(x, signed_step(g, k->a, k->na));
    v = clamp(v, vsubq_f32(x0, k->eps), vaddq_f32(x0, k->eps));
    return clamp(v, k->lo, k->hi);
}

/* x = clamp(clamp(x + a*sign(g), x0 - eps, x0 + eps), lo, hi) */
void advc_sign_step_proj_neon(size_t n, float *x, const float *g,
                              const float *x0, float a, float eps, float lo,
                              float hi)
{
    proj_consts k = { vdupq_n_f32(a), vdupq_n_f32(-a), vdupq_n_f32(eps),
                      vdupq_n_f32(lo), vdupq_n_f32(hi) };
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(x + i, proj4(vld1q_f32(x + i), vld1q_f32(g + i),
                               vld1q_f32(x0 + i), &k));
    if (i < n) {
        size_t r = n - i;
        store_tail(x + i, r, proj4(load_tail(x + i, r), load_tail(g + i, r),
                                   load_tail(x0 + i, r), &k));
    }
}

/* x = x + a*sign(g) */
void advc_sign_step_neon(size_t n, float *x, const float *g, float a)
{
    float32x4_t va = vdupq_n_f32(a), vna = vdupq_n_f32(-a);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(x + i, vaddq_f32(vld1q_f32(x + i),
                                   signed_step(vld1q_f32(g + i), va, vna)));
    if (i < n) {
        size_t r = n - i;
        store_tail(x + i, r, vaddq_f32(load_tail(x + i, r),
                                       signed_step(load_tail(g + i, r), va,
                                                   vna)));
    }
}

/* sum of squares of the 4 lanes of g, added into two double accumulators */
static inline void sumsq4(float32x4_t g, float64x2_t *s0, float64x2_t *s1)
{
    float64x2_t lo = vcvt_f64_f32(vget_low_f32(g));
    float64x2_t hi = vcvt_high_f64_f32(g);
    *s0 = vfmaq_f64(*s0, lo, lo);
    *s1 = vfmaq_f64(*s1, hi, hi);
}

/* (float)(x + s*g) for 4 lanes: multiply and add in double as the ref
 * does, then one rounding to float */
static inline float32x4_t l2_4(float32x4_t x, float32x4_t g, float64x2_t s)
{
    float64x2_t lo = vaddq_f64(vcvt_f64_f32(vget_low_f32(x)),
                               vmulq_f64(s, vcvt_f64_f32(vget_low_f32(g))));
    float64x2_t hi = vaddq_f64(vcvt_high_f64_f32(x),
                               vmulq_f64(s, vcvt_high_f64_f32(g)));
    return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi);
}

/* x = x + a*g/||g||_2, in double like the ref (no overflow of ||g||^2 or
 * of a/||g||); the sum of squares uses 4 accumulators, so it is added in a
 * different order from the ref.  No change when ||g|| = 0 or is NaN. */
void advc_l2_step_neon(size_t n, float *x, const float *g, float a)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        sumsq4(vld1q_f32(g + i), &s0, &s1);
        sumsq4(vld1q_f32(g + i + 4), &s2, &s3);
    }
    for (; i + 4 <= n; i += 4)
        sumsq4(vld1q_f32(g + i), &s0, &s1);
    if (i < n)
        sumsq4(load_tail(g + i, n - i), &s2, &s3);
    double ss = vaddvq_f64(vaddq_f64(vaddq_f64(s0, s1), vaddq_f64(s2, s3)));
    if (!(ss > 0.0))
        return;
    float64x2_t s = vdupq_n_f64((double)a / sqrt(ss));
    for (i = 0; i + 4 <= n; i += 4)
        vst1q_f32(x + i, l2_4(vld1q_f32(x + i), vld1q_f32(g + i), s));
    if (i < n) {
        size_t r = n - i;
        store_tail(x + i, r, l2_4(load_tail(x + i, r), load_tail(g + i, r),
                                  s));
    }
}
