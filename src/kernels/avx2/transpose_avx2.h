/* transpose_avx2.h: the 8 x 8 in-register transpose of 256-bit rows that
 * the transposing packs of the AVX2 and AVX-512 GEMMs share (AVX-512 packs
 * its 8-row A panels with the same ymm network).  Header-only; include
 * after <immintrin.h>. */
#ifndef ADVC_TRANSPOSE_AVX2_H
#define ADVC_TRANSPOSE_AVX2_H

#include <immintrin.h>

/* In-register transpose of the 8 x 8 block v[0..8) (row i = v[i]). */
static inline void transpose8x8(__m256 v[8])
{
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]);
    __m256 t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]);
    __m256 t3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]);
    __m256 t5 = _mm256_unpackhi_ps(v[4], v[5]);
    __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]);
    __m256 t7 = _mm256_unpackhi_ps(v[6], v[7]);
    /* 0x44 takes elements (0,1) of each 128-bit lane of both inputs, 0xEE
     * elements (2,3): this pairs up the 2 x 2 blocks made above. */
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44);
    __m256 s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44);
    __m256 s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44);
    __m256 s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44);
    __m256 s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    /* 0x20 joins the low 128-bit halves of two inputs, 0x31 the high. */
    v[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    v[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    v[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    v[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    v[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    v[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    v[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    v[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* Row i of the source from column p (8 floats), or zeros past the last
 * row. */
static inline __m256 load_row(const float *src, int ld, int rows, int i,
                              int p)
{
    return i < rows ? _mm256_loadu_ps(src + (size_t)i * ld + p)
                    : _mm256_setzero_ps();
}

/* v[q] = column p + q of rows [r0, r0 + 8) of the row-major src (ld
 * floats per row; rows at or past `rows` read as zeros): the 8 x 8 block
 * loaded row by row, then transposed in registers. */
static inline void load_transposed8(const float *src, int ld, int rows,
                                    int r0, int p, __m256 v[8])
{
    const float *s = src + (size_t)r0 * ld;
    int n = rows - r0;
    for (int i = 0; i < 8; i++)
        v[i] = load_row(s, ld, n, i, p);
    transpose8x8(v);
}

#endif
