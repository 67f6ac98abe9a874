/* vec_avx512.h: the vector layer for AVX-512 (16 floats per __m512), which
 * the one-source element-wise kernels in ../vec/ are written over.
 *
 * The same types and functions, with the same meaning, as every other
 * vec_<isa>.h (listed in vec/vec.h).  Only AVX-512F instructions are used
 * (no DQ, BW or VL), so this runs on every AVX-512 core; compares give
 * __mmask16 lane masks, and tails are native masked loads and stores.
 * Not for the GEMM micro-kernel (gemm_avx512.c).
 */
#ifndef ADVC_VEC_AVX512_H
#define ADVC_VEC_AVX512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

typedef __m512 vf; /* 16 floats (ISA_VEC_LANES) */
typedef __mmask16 vmask; /* one bit per lane, from a compare */
typedef __m512d vd; /* 8 doubles: half a vf, widened */

/* ---- constants, loads and stores ---------------------------------------- */
static inline vf vdup(float a) { return _mm512_set1_ps(a); }
static inline vf vzero(void) { return _mm512_setzero_ps(); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }

/* Lanes [0, r) set, 0 <= r <= ISA_VEC_LANES. */
static inline vmask vfirst(size_t r)
{
    return (vmask)((1u << r) - 1u);
}
/* The first r lanes from p, the others 0; masked-off lanes are not read
 * (no fault past the end). */
static inline vf vload_n(const float *p, size_t r)
{
    return _mm512_maskz_loadu_ps(vfirst(r), p);
}
/* Writes the first r lanes of v to p; touches nothing past p + r. */
static inline void vstore_n(float *p, vf v, size_t r)
{
    _mm512_mask_storeu_ps(p, vfirst(r), v);
}

/* ---- arithmetic (each rounded once, like the scalar operator) ----------- */
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
/* a b + c, a b - c, c - a b: one rounding each */
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vfms(vf a, vf b, vf c) { return _mm512_fmsub_ps(a, b, c); }
static inline vf vfnma(vf a, vf b, vf c)
{
    return _mm512_fnmadd_ps(a, b, c);
}

/* a > b ? a : b and a < b ? a : b, exactly (NaN or equal: b): vmaxps and
 * vminps are defined this way, so these are also the fast ones here. */
static inline vf vmax_gt(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vmin_lt(vf a, vf b) { return _mm512_min_ps(a, b); }
/* max and min where neither input is NaN and +-0 against +-0 does not
 * matter (each ISA's fastest instruction). */
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }

/* ---- sign bit (integer ops: AVX-512F has no float and/or) --------------- */
static inline __m512i vec_avx512_bits(vf x) { return _mm512_castps_si512(x); }
static inline __m512i vec_avx512_sign(void)
{
    return _mm512_set1_epi32((int)0x80000000u);
}
static inline vf vabs(vf x)
{
    return _mm512_castsi512_ps(_mm512_andnot_si512(vec_avx512_sign(),
                                                   vec_avx512_bits(x)));
}
/* -|x|: the sign bit set */
static inline vf vneg_abs(vf x)
{
    return _mm512_castsi512_ps(_mm512_or_si512(vec_avx512_bits(x),
                                               vec_avx512_sign()));
}
/* |m| with the sign bit of s */
static inline vf vcopysign(vf m, vf s)
{
    __m512i sign = vec_avx512_sign();
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_andnot_si512(sign, vec_avx512_bits(m)),
        _mm512_and_si512(sign, vec_avx512_bits(s))));
}
/* x's sign bit set (x < 0 or x = -0) ? if_neg : if_pos */
static inline vf vsel_sign(vf x, vf if_pos, vf if_neg)
{
    __mmask16 neg = _mm512_cmplt_epi32_mask(vec_avx512_bits(x),
                                            _mm512_setzero_si512());
    return _mm512_mask_blend_ps(neg, if_pos, if_neg);
}

/* ---- compares (ordered: false when either side is NaN) and masks ------- */
static inline vmask vcmp_gt(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
}
static inline vmask vcmp_ge(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
}
static inline vmask vcmp_lt(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
}
static inline vmask vcmp_le(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ);
}
static inline vmask vcmp_ne(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_OQ);
}
/* m ? a : b */
static inline vf vsel(vmask m, vf a, vf b)
{
    return _mm512_mask_blend_ps(m, b, a);
}
/* m ? a : +0 and m ? +0 : a */
static inline vf vkeep(vmask m, vf a) { return _mm512_maskz_mov_ps(m, a); }
static inline vf vdrop(vmask m, vf a)
{
    return _mm512_maskz_mov_ps((vmask)~m, a);
}

/* The bits of v shifted left by 23 as 32-bit integers: moves an integer
 * held in the low mantissa bits into the exponent field (the exp core). */
static inline vf vshl23(vf v)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(vec_avx512_bits(v), 23));
}

/* ---- horizontal: fixed trees (halves, quarters, ...) --------------------- */
static inline float vhsum(vf v) { return _mm512_reduce_add_ps(v); }
/* Max of the lanes by vmax_gt. */
static inline float vhmax(vf v) { return _mm512_reduce_max_ps(v); }

/* ---- doubles: a vf as two vd halves, exactly ---------------------------- */
static inline vd vd_zero(void) { return _mm512_setzero_pd(); }
static inline vd vd_dup(double a) { return _mm512_set1_pd(a); }
static inline vd vd_lo(vf v)
{
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}
static inline vd vd_hi(vf v)
{
    __m256d hi = _mm512_extractf64x4_pd(_mm512_castps_pd(v), 1);
    return _mm512_cvtps_pd(_mm256_castpd_ps(hi));
}
/* VEC_LANES / 2 floats at p, widened to doubles (exact) */
static inline vd vd_load(const float *p)
{
    return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}
/* (lo, hi) rounded to floats and joined: the inverse of vd_lo / vd_hi */
static inline vf vd_to_vf(vd lo, vd hi)
{
    __m512d l = _mm512_castpd256_pd512(
        _mm256_castps_pd(_mm512_cvtpd_ps(lo)));
    __m256d h = _mm256_castps_pd(_mm512_cvtpd_ps(hi));
    return _mm512_castpd_ps(_mm512_insertf64x4(l, h, 1));
}
static inline vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
static inline double vd_hsum(vd v) { return _mm512_reduce_add_pd(v); }

/* ---- stride-4 shuffles (Winograd tiles: 4 columns per lane) ---------- */
/* q[k] = (p[k], p[4 + k], ..., p[4 (VEC_LANES - 1) + k]), k < 4: the
 * 4 VEC_LANES floats at p de-interleaved by 4 */
static inline void vdeinterleave4(const float *p, vf q[4])
{
    /* x0 = columns 0 and 1 of lanes 0-7, x1 = columns 2 and 3; y0, y1 the
     * same for lanes 8-15; then 256-bit halves joined */
    static const int32_t i0[16] = { 0, 4, 8, 12, 16, 20, 24, 28,
                                    1, 5, 9, 13, 17, 21, 25, 29 };
    static const int32_t i1[16] = { 2, 6, 10, 14, 18, 22, 26, 30,
                                    3, 7, 11, 15, 19, 23, 27, 31 };
    __m512i j0 = _mm512_loadu_si512(i0), j1 = _mm512_loadu_si512(i1);
    vf a = vload(p), b = vload(p + 16), c = vload(p + 32), d = vload(p + 48);
    vf x0 = _mm512_permutex2var_ps(a, j0, b);
    vf x1 = _mm512_permutex2var_ps(a, j1, b);
    vf y0 = _mm512_permutex2var_ps(c, j0, d);
    vf y1 = _mm512_permutex2var_ps(c, j1, d);
    q[0] = _mm512_shuffle_f32x4(x0, y0, 0x44); /* low halves  */
    q[1] = _mm512_shuffle_f32x4(x0, y0, 0xEE); /* high halves */
    q[2] = _mm512_shuffle_f32x4(x1, y1, 0x44);
    q[3] = _mm512_shuffle_f32x4(x1, y1, 0xEE);
}
/* p[4l + k] = lane l of q[k]: the inverse of vdeinterleave4 */
static inline void vinterleave4(float *p, const vf q[4])
{
    /* index of p[4l + k], l < 4, in (x0, x1): k&1 picks x's half, k>>1
     * which x; lanes 4-7 are the same shifted by 4 */
    static const int32_t ia[16] = { 0, 8, 16, 24, 1, 9, 17, 25,
                                    2, 10, 18, 26, 3, 11, 19, 27 };
    static const int32_t ib[16] = { 4, 12, 20, 28, 5, 13, 21, 29,
                                    6, 14, 22, 30, 7, 15, 23, 31 };
    __m512i ja = _mm512_loadu_si512(ia), jb = _mm512_loadu_si512(ib);
    vf x0 = _mm512_shuffle_f32x4(q[0], q[1], 0x44);
    vf x1 = _mm512_shuffle_f32x4(q[2], q[3], 0x44);
    vf y0 = _mm512_shuffle_f32x4(q[0], q[1], 0xEE);
    vf y1 = _mm512_shuffle_f32x4(q[2], q[3], 0xEE);
    vstore(p, _mm512_permutex2var_ps(x0, ja, x1));
    vstore(p + 16, _mm512_permutex2var_ps(x0, jb, x1));
    vstore(p + 32, _mm512_permutex2var_ps(y0, ja, y1));
    vstore(p + 48, _mm512_permutex2var_ps(y0, jb, y1));
}

/* ---- stride-2 spreads (col2im of stride-2 layers) ----------------------- */
/* Lanes b + 2i for lo <= i < lo + r (b in {0, 1}, lo + r <= 8). */
static inline vmask vspread2_lanes(size_t lo, size_t r, int b)
{
    unsigned all = 0x5555u & ((1u << (2 * (lo + r))) - 1u);
    return (vmask)((all & ~((1u << (2 * lo)) - 1u)) << b);
}
/* Those lanes hold p[i], the others 0; reads only p[lo .. lo + r).  Lane
 * l takes element l / 2 of the loaded p: i at both l = 2i and 2i + 1. */
static inline vf vload_spread2(const float *p, size_t lo, size_t r, int b)
{
    const __m512i half = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2,
                                          2, 1, 1, 0, 0);
    __m256 v = _mm256_maskz_loadu_ps((__mmask8)(((1u << r) - 1u) << lo), p);
    return _mm512_maskz_permutexvar_ps(vspread2_lanes(lo, r, b), half,
                                       _mm512_castps256_ps512(v));
}

#endif /* ADVC_VEC_AVX512_H */
