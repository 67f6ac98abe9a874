/* values_avx512.c: advc_values with AVX-512: each 16 floats' nonzero bit
 * patterns as a mask (one test), and the positions and values of the set
 * lanes packed to the front of a register (compress) and stored under a
 * mask.  The scalar loop it replaces branched on every entry of the
 * blocks that held any (the sparse paths' operands are 1-16% nonzero, in
 * clusters). */
#include <immintrin.h>
#include "avx512/avx512_kernels.h"

/* The set lanes of block b (at position k) appended at pos + nz, v + nz. */
static inline void append(__m512i b, __mmask16 m, size_t k, int c, int *pos,
                          float *v)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                           10, 11, 12, 13, 14, 15);
    __mmask16 first = (__mmask16)((1u << c) - 1u);
    __m512i at = _mm512_add_epi32(iota, _mm512_set1_epi32((int)k));
    _mm512_mask_storeu_epi32(pos, first, _mm512_maskz_compress_epi32(m, at));
    _mm512_mask_storeu_epi32(v, first, _mm512_maskz_compress_epi32(m, b));
}

size_t advc_values_avx512(size_t n, const float *x, size_t cap, int *pos,
                          float *v)
{
    size_t nz = 0;
    for (size_t k = 0; k < n; k += 16) {
        __mmask16 lanes = n - k >= 16 ? (__mmask16)0xFFFF
                                      : (__mmask16)((1u << (n - k)) - 1u);
        __m512i b = _mm512_maskz_loadu_epi32(lanes, x + k);
        __mmask16 m = _mm512_test_epi32_mask(b, b); /* bits != 0 */
        if (!m) continue;
        int c = __builtin_popcount((unsigned)m);
        if (nz + (size_t)c > cap) return cap + 1;
        append(b, m, k, c, pos + nz, v + nz);
        nz += (size_t)c;
    }
    return nz;
}
