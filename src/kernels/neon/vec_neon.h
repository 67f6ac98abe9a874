/* vec_neon.h: the vector layer for AArch64 NEON (4 floats per
 * float32x4_t), which the one-source element-wise kernels in ../vec/ are
 * written over.
 *
 * The same types and functions, with the same meaning, as every other
 * vec_<isa>.h (listed in vec/vec.h).  NEON has no masked loads, so tails
 * go through a small stack buffer; its FMAX/FMIN treat NaN and signed
 * zeros differently from x86, so the exact vmax_gt/vmin_lt are a compare
 * and a select.  Not for the GEMM micro-kernel (gemm_neon.c).
 */
#ifndef ADVC_VEC_NEON_H
#define ADVC_VEC_NEON_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef float32x4_t vf; /* 4 floats (ISA_VEC_LANES) */
typedef uint32x4_t vmask; /* per-lane all-ones / all-zeros */
typedef float64x2_t vd; /* 2 doubles: half a vf, widened */

/* ---- constants, loads and stores ---------------------------------------- */
static inline vf vdup(float a) { return vdupq_n_f32(a); }
static inline vf vzero(void) { return vdupq_n_f32(0.0f); }
static inline vf vload(const float *p) { return vld1q_f32(p); }
static inline void vstore(float *p, vf v) { vst1q_f32(p, v); }

/* Lanes [0, r) set, 0 <= r <= ISA_VEC_LANES. */
static inline vmask vfirst(size_t r)
{
    static const uint32_t idx[4] = { 0, 1, 2, 3 };
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)r));
}
/* The first r lanes from p, the others 0; reads nothing past p + r. */
static inline vf vload_n(const float *p, size_t r)
{
    float b[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
    memcpy(b, p, r * sizeof *p);
    return vld1q_f32(b);
}
/* Writes the first r lanes of v to p; touches nothing past p + r. */
static inline void vstore_n(float *p, vf v, size_t r)
{
    float b[4];
    vst1q_f32(b, v);
    memcpy(p, b, r * sizeof *p);
}

/* ---- arithmetic (each rounded once, like the scalar operator) ----------- */
static inline vf vadd(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vsub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vmul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vdiv(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf vsqrt(vf a) { return vsqrtq_f32(a); }
/* a b + c, a b - c, c - a b: one rounding each (negation is exact) */
static inline vf vfma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf vfms(vf a, vf b, vf c)
{
    return vnegq_f32(vfmsq_f32(c, a, b));
}
static inline vf vfnma(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }

/* a > b ? a : b and a < b ? a : b, exactly (NaN or equal: b) */
static inline vf vmax_gt(vf a, vf b)
{
    return vbslq_f32(vcgtq_f32(a, b), a, b);
}
static inline vf vmin_lt(vf a, vf b)
{
    return vbslq_f32(vcltq_f32(a, b), a, b);
}
/* max and min where neither input is NaN and +-0 against +-0 does not
 * matter: FMAX / FMIN, one instruction. */
static inline vf vmax(vf a, vf b) { return vmaxq_f32(a, b); }
static inline vf vmin(vf a, vf b) { return vminq_f32(a, b); }

/* ---- sign bit ----------------------------------------------------------- */
static inline vf vabs(vf x) { return vabsq_f32(x); }
/* -|x| */
static inline vf vneg_abs(vf x) { return vnegq_f32(vabsq_f32(x)); }
/* |m| with the sign bit of s */
static inline vf vcopysign(vf m, vf s)
{
    return vbslq_f32(vdupq_n_u32(0x80000000u), s, m);
}
/* x's sign bit set (x < 0 or x = -0) ? if_neg : if_pos */
static inline vf vsel_sign(vf x, vf if_pos, vf if_neg)
{
    uint32x4_t neg = vreinterpretq_u32_s32(
        vshrq_n_s32(vreinterpretq_s32_f32(x), 31));
    return vbslq_f32(neg, if_neg, if_pos);
}

/* ---- compares (ordered: false when either side is NaN) and masks ------- */
static inline vmask vcmp_gt(vf a, vf b) { return vcgtq_f32(a, b); }
static inline vmask vcmp_ge(vf a, vf b) { return vcgeq_f32(a, b); }
static inline vmask vcmp_lt(vf a, vf b) { return vcltq_f32(a, b); }
static inline vmask vcmp_le(vf a, vf b) { return vcleq_f32(a, b); }
static inline vmask vcmp_ne(vf a, vf b)
{
    /* a < b or a > b: false for equal and for NaN */
    return vorrq_u32(vcltq_f32(a, b), vcgtq_f32(a, b));
}
/* m ? a : b */
static inline vf vsel(vmask m, vf a, vf b) { return vbslq_f32(m, a, b); }
/* m ? a : +0 and m ? +0 : a */
static inline vf vkeep(vmask m, vf a)
{
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(a)));
}
static inline vf vdrop(vmask m, vf a)
{
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(a), m));
}

/* The bits of v shifted left by 23 as 32-bit integers: moves an integer
 * held in the low mantissa bits into the exponent field (the exp core). */
static inline vf vshl23(vf v)
{
    return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(v), 23));
}

/* ---- horizontal --------------------------------------------------------- */
static inline float vhsum(vf v) { return vaddvq_f32(v); }
/* Max of the lanes by vmax_gt (NaN never reaches here: see blas1_vec.c). */
static inline float vhmax(vf v)
{
    float32x2_t m = vget_low_f32(vmax_gt(v, vextq_f32(v, v, 2)));
    float a = vget_lane_f32(m, 0), b = vget_lane_f32(m, 1);
    return a > b ? a : b;
}

/* ---- doubles: a vf as two vd halves, exactly ---------------------------- */
static inline vd vd_zero(void) { return vdupq_n_f64(0.0); }
static inline vd vd_dup(double a) { return vdupq_n_f64(a); }
static inline vd vd_lo(vf v) { return vcvt_f64_f32(vget_low_f32(v)); }
static inline vd vd_hi(vf v) { return vcvt_high_f64_f32(v); }
/* VEC_LANES / 2 floats at p, widened to doubles (exact) */
static inline vd vd_load(const float *p) { return vcvt_f64_f32(vld1_f32(p)); }
/* (lo, hi) rounded to floats and joined: the inverse of vd_lo / vd_hi */
static inline vf vd_to_vf(vd lo, vd hi)
{
    return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi);
}
static inline vd vd_add(vd a, vd b) { return vaddq_f64(a, b); }
static inline vd vd_mul(vd a, vd b) { return vmulq_f64(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return vfmaq_f64(c, a, b); }
static inline double vd_hsum(vd v) { return vaddvq_f64(v); }

/* ---- stride-4 shuffles (Winograd tiles: 4 columns per lane) ---------- */
/* q[k] = (p[k], p[4 + k], ..., p[4 (VEC_LANES - 1) + k]), k < 4: the
 * 4 VEC_LANES floats at p de-interleaved by 4 */
static inline void vdeinterleave4(const float *p, vf q[4])
{
    float32x4x4_t v = vld4q_f32(p);
    q[0] = v.val[0], q[1] = v.val[1], q[2] = v.val[2], q[3] = v.val[3];
}
/* p[4l + k] = lane l of q[k]: the inverse of vdeinterleave4 */
static inline void vinterleave4(float *p, const vf q[4])
{
    float32x4x4_t v = { { q[0], q[1], q[2], q[3] } };
    vst4q_f32(p, v);
}

/* ---- stride-2 spreads (col2im of stride-2 layers) ----------------------- */
/* Lanes b + 2i for lo <= i < lo + r (b in {0, 1}, lo + r <= 2). */
static inline vmask vspread2_lanes(size_t lo, size_t r, int b)
{
    static const uint32_t lane[4] = { 1, 2, 4, 8 };
    uint32_t all = 0x5u & ((1u << (2 * (lo + r))) - 1u);
    uint32_t bits = (all & ~((1u << (2 * lo)) - 1u)) << b;
    return vtstq_u32(vdupq_n_u32(bits), vld1q_u32(lane));
}
/* Those lanes hold p[i], the others 0; reads only p[lo .. lo + r).  The
 * loaded p[lo..] moves up to lane lo, then zip(v, v) puts element i at
 * lanes 2i and 2i + 1. */
static inline vf vload_spread2(const float *p, size_t lo, size_t r, int b)
{
    vf v = vload_n(p + lo, r);
    if (lo) v = vextq_f32(vzero(), v, 3);
    return vbslq_f32(vspread2_lanes(lo, r, b), vzip1q_f32(v, v), vzero());
}

#endif /* ADVC_VEC_NEON_H */
