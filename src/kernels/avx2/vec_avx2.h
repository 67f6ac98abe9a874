/* vec_avx2.h: the vector layer for AVX2 + FMA (8 floats per __m256), which
 * the one-source element-wise kernels in ../vec/ are written over.
 *
 * Every ISA's vec_<isa>.h defines the same types and static inline
 * functions with the same meaning (listed in vec/vec.h); this file is only
 * the AVX2 spelling of them.  Not for the GEMM micro-kernel, which is
 * hand-written per ISA (gemm_avx2.c).
 */
#ifndef ADVC_VEC_AVX2_H
#define ADVC_VEC_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

typedef __m256 vf; /* 8 floats (ISA_VEC_LANES) */
typedef __m256 vmask; /* per-lane all-ones / all-zeros, from a compare */
typedef __m256d vd; /* 4 doubles: half a vf, widened */

/* ---- constants, loads and stores ---------------------------------------- */
static inline vf vdup(float a) { return _mm256_set1_ps(a); }
static inline vf vzero(void) { return _mm256_setzero_ps(); }
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }

/* Eight -1s then eight 0s: 8 consecutive words starting at 8 - r give a
 * mask whose first r lanes are set (0 <= r <= 8). */
static const int32_t vec_avx2_tail_words[16] = { -1, -1, -1, -1, -1, -1,
                                                 -1, -1, 0,  0,  0,  0,
                                                 0,  0,  0,  0 };

static inline __m256i vec_avx2_first(size_t r)
{
    return _mm256_loadu_si256(
        (const __m256i *)(vec_avx2_tail_words + 8 - r));
}

/* Lanes [0, r) set, 0 <= r <= ISA_VEC_LANES. */
static inline vmask vfirst(size_t r)
{
    return _mm256_castsi256_ps(vec_avx2_first(r));
}
/* The first r lanes from p, the others 0; reads nothing past p + r. */
static inline vf vload_n(const float *p, size_t r)
{
    return _mm256_maskload_ps(p, vec_avx2_first(r));
}
/* Writes the first r lanes of v to p; touches nothing past p + r. */
static inline void vstore_n(float *p, vf v, size_t r)
{
    _mm256_maskstore_ps(p, vec_avx2_first(r), v);
}

/* ---- arithmetic (each rounded once, like the scalar operator) ----------- */
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
/* a b + c, a b - c, c - a b: one rounding each */
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vfms(vf a, vf b, vf c) { return _mm256_fmsub_ps(a, b, c); }
static inline vf vfnma(vf a, vf b, vf c)
{
    return _mm256_fnmadd_ps(a, b, c);
}

/* a > b ? a : b and a < b ? a : b, exactly (NaN or equal: b).  maxps and
 * minps are defined this way, so these are also the fast ones here. */
static inline vf vmax_gt(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vmin_lt(vf a, vf b) { return _mm256_min_ps(a, b); }
/* max and min where neither input is NaN and +-0 against +-0 does not
 * matter (each ISA's fastest instruction). */
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }

/* ---- sign bit ----------------------------------------------------------- */
static inline vf vabs(vf x) { return _mm256_andnot_ps(vdup(-0.0f), x); }
/* -|x|: the sign bit set */
static inline vf vneg_abs(vf x) { return _mm256_or_ps(x, vdup(-0.0f)); }
/* |m| with the sign bit of s */
static inline vf vcopysign(vf m, vf s)
{
    vf sign = vdup(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, m), _mm256_and_ps(s, sign));
}
/* x's sign bit set (x < 0 or x = -0) ? if_neg : if_pos */
static inline vf vsel_sign(vf x, vf if_pos, vf if_neg)
{
    return _mm256_blendv_ps(if_pos, if_neg, x);
}

/* ---- compares (ordered: false when either side is NaN) and masks ------- */
static inline vmask vcmp_gt(vf a, vf b)
{
    return _mm256_cmp_ps(a, b, _CMP_GT_OQ);
}
static inline vmask vcmp_ge(vf a, vf b)
{
    return _mm256_cmp_ps(a, b, _CMP_GE_OQ);
}
static inline vmask vcmp_lt(vf a, vf b)
{
    return _mm256_cmp_ps(a, b, _CMP_LT_OQ);
}
static inline vmask vcmp_le(vf a, vf b)
{
    return _mm256_cmp_ps(a, b, _CMP_LE_OQ);
}
static inline vmask vcmp_ne(vf a, vf b)
{
    return _mm256_cmp_ps(a, b, _CMP_NEQ_OQ);
}
/* m ? a : b */
static inline vf vsel(vmask m, vf a, vf b)
{
    return _mm256_blendv_ps(b, a, m);
}
/* m ? a : +0 and m ? +0 : a */
static inline vf vkeep(vmask m, vf a) { return _mm256_and_ps(m, a); }
static inline vf vdrop(vmask m, vf a) { return _mm256_andnot_ps(m, a); }

/* The bits of v shifted left by 23 as 32-bit integers: moves an integer
 * held in the low mantissa bits into the exponent field (the exp core). */
static inline vf vshl23(vf v)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), 23));
}

/* ---- horizontal --------------------------------------------------------- */
/* Sum of the lanes: halves, then pairs, then the last two. */
static inline float vhsum(vf v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
                          _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
/* Max of the lanes by vmax_gt, same tree as vhsum. */
static inline float vhmax(vf v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v),
                          _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

/* ---- doubles: a vf as two vd halves, exactly ---------------------------- */
static inline vd vd_zero(void) { return _mm256_setzero_pd(); }
static inline vd vd_dup(double a) { return _mm256_set1_pd(a); }
static inline vd vd_lo(vf v)
{
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}
static inline vd vd_hi(vf v)
{
    return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}
/* VEC_LANES / 2 floats at p, widened to doubles (exact) */
static inline vd vd_load(const float *p)
{
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
/* (lo, hi) rounded to floats and joined: the inverse of vd_lo / vd_hi */
static inline vf vd_to_vf(vd lo, vd hi)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)),
                                _mm256_cvtpd_ps(hi), 1);
}
static inline vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
static inline double vd_hsum(vd v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v),
                           _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* ---- stride-4 shuffles (Winograd tiles: 4 columns per lane) ---------- */
/* q[k] = (p[k], p[4 + k], ..., p[4 (VEC_LANES - 1) + k]), k < 4: the
 * 4 VEC_LANES floats at p de-interleaved by 4 */
static inline void vdeinterleave4(const float *p, vf q[4])
{
    /* rows a-d = lanes (0|4), (1|5), (2|6), (3|7); then a 4x4 transpose
     * in each 128-bit half */
    vf a = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)),
                                _mm_loadu_ps(p + 16), 1);
    vf b = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 4)),
                                _mm_loadu_ps(p + 20), 1);
    vf c = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 8)),
                                _mm_loadu_ps(p + 24), 1);
    vf d = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 12)),
                                _mm_loadu_ps(p + 28), 1);
    vf t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b);
    vf t2 = _mm256_unpacklo_ps(c, d), t3 = _mm256_unpackhi_ps(c, d);
    q[0] = _mm256_shuffle_ps(t0, t2, 0x44);
    q[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
    q[2] = _mm256_shuffle_ps(t1, t3, 0x44);
    q[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
}
/* p[4l + k] = lane l of q[k]: the inverse of vdeinterleave4 */
static inline void vinterleave4(float *p, const vf q[4])
{
    vf t0 = _mm256_unpacklo_ps(q[0], q[1]), t1 = _mm256_unpackhi_ps(q[0], q[1]);
    vf t2 = _mm256_unpacklo_ps(q[2], q[3]), t3 = _mm256_unpackhi_ps(q[2], q[3]);
    vf a = _mm256_shuffle_ps(t0, t2, 0x44), b = _mm256_shuffle_ps(t0, t2, 0xEE);
    vf c = _mm256_shuffle_ps(t1, t3, 0x44), d = _mm256_shuffle_ps(t1, t3, 0xEE);
    /* a = lanes 0 | 4, b = 1 | 5, c = 2 | 6, d = 3 | 7 */
    vstore(p, _mm256_permute2f128_ps(a, b, 0x20));
    vstore(p + 8, _mm256_permute2f128_ps(c, d, 0x20));
    vstore(p + 16, _mm256_permute2f128_ps(a, b, 0x31));
    vstore(p + 24, _mm256_permute2f128_ps(c, d, 0x31));
}

/* ---- stride-2 spreads (col2im of stride-2 layers) ----------------------- */
/* Lanes whose bit is set in bits, as a mask. */
static inline __m256i vec_avx2_bits(unsigned bits)
{
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256i on = _mm256_and_si256(_mm256_set1_epi32((int)bits), lane);
    return _mm256_cmpeq_epi32(on, lane);
}
/* Lanes b + 2i for lo <= i < lo + r (b in {0, 1}, lo + r <= 4). */
static inline vmask vspread2_lanes(size_t lo, size_t r, int b)
{
    unsigned all = 0x55u & ((1u << (2 * (lo + r))) - 1u);
    return _mm256_castsi256_ps(
        vec_avx2_bits((all & ~((1u << (2 * lo)) - 1u)) << b));
}
/* Those lanes hold p[i], the others 0; reads only p[lo .. lo + r).  Lane
 * l takes element l / 2 of the loaded p: i at both l = 2i and 2i + 1. */
static inline vf vload_spread2(const float *p, size_t lo, size_t r, int b)
{
    const __m256i half = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    __m256 v = _mm256_maskload_ps(p, vec_avx2_bits(((1u << r) - 1u) << lo));
    return _mm256_and_ps(vspread2_lanes(lo, r, b),
                         _mm256_permutevar8x32_ps(v, half));
}

#endif /* ADVC_VEC_AVX2_H */
