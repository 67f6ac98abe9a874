/* gemm_avx512.c: the AVX-512 SGEMM micro-kernel (an 8 x 48 tile of C in
 * 24 zmm registers) and the transposing pack it needs for A (and for B^T).
 *
 * Only the innermost pieces of GEMM live here: the loops, cache blocking
 * and threading are in ../gemm.c.  The micro-kernel contract (packed panel
 * layouts, partial tiles, accumulate) is in scalar/scalar_kernels.h.
 * AVX-512F instructions only (plus the AVX2 shuffles of the pack).
 */
#include <immintrin.h>
#include "avx512/avx512_kernels.h"
#include "avx512/gemm_blocking_avx512.h"
#include "avx2/transpose_avx2.h"

enum { MR = 8, NR = 48 };
/* zmm vectors (16 floats) per row of the tile: 48 / 16 */
#define NV 3

#if defined(__GNUC__)
#  define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#  define ALWAYS_INLINE inline
#endif

/* Mask of the first w lanes of a zmm register, 0 <= w (16 for w >= 16). */
static inline __mmask16 first_lanes(int w)
{
    return w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1u);
}

/* Stores (or adds) the mr x nr corner of the tile t (its first nv zmm
 * columns) with masked loads and stores: the vector add rounds like any
 * other, so edge tiles give the same bits as full ones, and nothing
 * outside the corner is touched.  C (+)= t. */
static ALWAYS_INLINE void store_tile(int nv, __m512 t[MR][NV], float *c,
                                     int ldc, int mr, int nr,
                                     bool accumulate)
{
#pragma GCC unroll 8
    for (int r = 0; r < MR && r < mr; r++) { /* unrolled: t stays put */
        float *cr = c + (size_t)r * ldc;
#pragma GCC unroll 3
        for (int j = 0; j < nv; j++) {
            __mmask16 m = first_lanes(nr - 16 * j);
            __m512 v = t[r][j];
            if (accumulate)
                v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, cr + 16 * j), v);
            _mm512_mask_storeu_ps(cr + 16 * j, m, v);
        }
    }
}

/* C[0..mr)[0..nr) (+)= sum_p a[p*8 + i] * b[p*48 + j] over the first nv
 * zmm columns of the tile only (nv = 1, 2 or 3, a constant at each call
 * below, so the loops unroll and the t[r][j] stay in registers): a panel
 * narrower than 48 columns skips the multiply-adds whose results would be
 * thrown away.  Each row of B is nv loads; each row of A is broadcast
 * from memory into the FMAs. */
static ALWAYS_INLINE void tile(int nv, int k, const float *a, const float *b,
                               float *c, int ldc, int mr, int nr,
                               bool accumulate)
{
    __m512 t[MR][NV]; /* t[r][j]: row r, columns 16j .. 16j+15 */
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int j = 0; j < nv; j++)
            t[r][j] = _mm512_setzero_ps();

    for (int p = 0; p < k; p++, a += MR, b += NR) {
        __m512 bv[NV];
#pragma GCC unroll 3
        for (int j = 0; j < nv; j++)
            bv[j] = _mm512_load_ps(b + 16 * j); /* panels are 64-aligned */
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
            for (int j = 0; j < nv; j++)
                t[r][j] = _mm512_fmadd_ps(av, bv[j], t[r][j]);
        }
    }

    store_tile(nv, t, c, ldc, mr, nr, accumulate);
}

/* A panel of at most 8 columns (the last of N = 100 or 196: 48 + 48 + 4)
 * in ymm registers: 8 accumulators of 8 lanes, where a zmm tile would
 * spend 16-lane multiply-adds on 4 columns.  Each lane is the same
 * multiply-add chain as in the zmm tile, so the same bits.  Zen 4 runs a
 * zmm multiply-add as two 256-bit halves, so this halves the time of
 * such a panel there; on cores with full 512-bit pipes (Zen 5: two of
 * each width per cycle) it takes the same time.  rows: A read in place
 * (a[i*lda + p]) as tile_rows, else the packed panel. */
static ALWAYS_INLINE void tile_half(bool rows, int k, const float *a,
                                    size_t lda, const float *b, float *c,
                                    int ldc, int mr, int nr, bool accumulate)
{
    const float *ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        ar[r] = a + (rows && r < mr ? (size_t)r * lda : 0);
    __m256 t[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) t[r] = _mm256_setzero_ps();
    for (int p = 0; p < k; p++, b += NR) {
        __m256 bv = _mm256_load_ps(b); /* panels are 64-aligned */
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_set1_ps(rows ? ar[r][p] : a[(size_t)p * MR + r]);
            t[r] = _mm256_fmadd_ps(av, bv, t[r]);
        }
    }
    __mmask8 m = (__mmask8)((1u << nr) - 1u); /* 1 <= nr <= 8 */
#pragma GCC unroll 8
    for (int r = 0; r < MR && r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        __m256 v = t[r];
        if (accumulate)
            v = _mm256_add_ps(_mm256_maskz_loadu_ps(m, cr), v);
        _mm256_mask_storeu_ps(cr, m, v);
    }
}

/* C[0..mr)[0..nr) (+)= sum_p a[p*8 + i] * b[p*48 + j] */
void advc_sgemm_ukernel_8x48_avx512(int k, const float *a, const float *b,
                                    float *c, int ldc, int mr, int nr,
                                    bool accumulate)
{
    /* Start fetching the C tile now, a cache line (16 floats) at a time,
     * so it is in L1 when the sums are added to it; the k loop hides the
     * latency. */
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j += 16)
            _mm_prefetch((const char *)(c + (size_t)r * ldc + j),
                         _MM_HINT_T0);
    if (nr > 32)
        tile(3, k, a, b, c, ldc, mr, nr, accumulate);
    else if (nr > 16)
        tile(2, k, a, b, c, ldc, mr, nr, accumulate);
    else if (nr > 8)
        tile(1, k, a, b, c, ldc, mr, nr, accumulate);
    else
        tile_half(false, k, a, 0, b, c, ldc, mr, nr, accumulate);
}

/* The same tile with A read where it lies: row i of the tile is
 * a[i*lda + p], p < k (rows i >= mr are not read: they repeat row 0, and
 * their sums are never stored).  Each broadcast is the value the packed
 * panel would hold, and the multiply-adds run in the same order, so C gets
 * the packed kernel's bits without the transposing pack of A (a tenth of
 * an attack's time on cnn-small, bench/RESULTS.md). */
static ALWAYS_INLINE void tile_rows(int nv, int k, const float *a,
                                    size_t lda, const float *b, float *c,
                                    int ldc, int mr, int nr, bool accumulate)
{
    const float *ar[MR]; /* ar[r]: row r of A (row 0 past mr) */
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        ar[r] = a + (r < mr ? (size_t)r * lda : 0);
    __m512 t[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int j = 0; j < nv; j++)
            t[r][j] = _mm512_setzero_ps();

    for (int p = 0; p < k; p++, b += NR) {
        __m512 bv[NV];
#pragma GCC unroll 3
        for (int j = 0; j < nv; j++)
            bv[j] = _mm512_load_ps(b + 16 * j);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(ar[r][p]);
#pragma GCC unroll 3
            for (int j = 0; j < nv; j++)
                t[r][j] = _mm512_fmadd_ps(av, bv[j], t[r][j]);
        }
    }
    store_tile(nv, t, c, ldc, mr, nr, accumulate);
}

/* C[0..mr)[0..nr) (+)= sum_p a[i*lda + p] * b[p*48 + j] */
void advc_sgemm_ukernel_rows_8x48_avx512(int k, const float *a, size_t lda,
                                         const float *b, float *c, int ldc,
                                         int mr, int nr, bool accumulate)
{
    for (int r = 0; r < mr; r++) /* as the packed kernel: C's lines early */
        for (int j = 0; j < nr; j += 16)
            _mm_prefetch((const char *)(c + (size_t)r * ldc + j),
                         _MM_HINT_T0);
    if (nr > 32)
        tile_rows(3, k, a, lda, b, c, ldc, mr, nr, accumulate);
    else if (nr > 16)
        tile_rows(2, k, a, lda, b, c, ldc, mr, nr, accumulate);
    else if (nr > 8)
        tile_rows(1, k, a, lda, b, c, ldc, mr, nr, accumulate);
    else
        tile_half(true, k, a, lda, b, c, ldc, mr, nr, accumulate);
}

/* ---- transposing pack ---------------------------------------------------
 * dst[p*width + r] = src[r*ld + p]: `rows` rows of a row-major matrix
 * become a panel with one row of `width` floats per p (zero past rows).
 * This is the packing of A for op(A) = A (width MR) and of B for
 * op(B) = B^T (width NR), done in 8 x 8 register transposes (ymm: the
 * unpack/shuffle network is the same as AVX2's, and 8 rows match MR). */

/* Stores the first w (1..8) floats of v at dst, touching nothing past
 * dst + w (a panel's last row must not spill into what follows it). */
static inline void store_first(float *dst, __m256 v, int w)
{
    if (w == 8)
        _mm256_storeu_ps(dst, v);
    else /* masked-off lanes are neither written nor faulted */
        _mm512_mask_storeu_ps(dst, first_lanes(w),
                              _mm512_castps256_ps512(v));
}


/* Cache-line size in floats: 64 bytes. */
enum { LINE_FLOATS = 16 };

/* Transposes the 8 x 8 block of rows [r0, r0 + 8) and columns [p, p + 8)
 * of src (rows past `rows` read as zeros) into dst[(p + q)*width + r0 ..]
 * for q < 8, writing the first min(8, width - r0) floats of each. */
static inline void block8(const float *src, int ld, int rows, int r0, int p,
                          float *dst, int width)
{
    __m256 v[8];
    load_transposed8(src, ld, rows, r0, p, v);
    int w = width - r0 < 8 ? width - r0 : 8;
    float *d = dst + (size_t)p * width + r0;
    store_first(d, v[0], w);
    store_first(d + width, v[1], w);
    store_first(d + 2 * width, v[2], w);
    store_first(d + 3 * width, v[3], w);
    store_first(d + 4 * width, v[4], w);
    store_first(d + 5 * width, v[5], w);
    store_first(d + 6 * width, v[6], w);
    store_first(d + 7 * width, v[7], w);
}

/* dst[p*width + r] = src[r*ld + p], r < rows (0 for rows <= r < width);
 * rows [0, next_rows) of the next panel (at src + width*ld) are
 * prefetched into L2, a line per row for every 16 values of p, so they
 * arrive while the micro-kernel works on this panel.
 * The panel is made 16 rows at a time, each group over all of kc: the
 * source is then read as 16 sequential streams (a long-k B^T, rows
 * 100 KB apart, comes from DRAM at the speed of a few streams, not of 48
 * interleaved ones), and each p writes one full 64-byte line of dst. */
void advc_sgemm_pack_t_avx512(int kc, int rows, int width, const float *src,
                              int ld, float *dst, int next_rows)
{
    const float *next = next_rows > 0 ? src + (size_t)width * ld : NULL;
    int pend = kc / 8 * 8; /* the bulk: 8 values of p at a time */
    for (int r0 = 0; r0 < width; r0 += 16) {
        for (int p = 0; p < pend; p += 8) {
            for (int i = r0; p % LINE_FLOATS == 0 && i < r0 + 16 &&
                             i < next_rows; i++)
                _mm_prefetch((const char *)(next + (size_t)i * ld + p),
                             _MM_HINT_T1); /* into L2: L1 holds the panels */
            block8(src, ld, rows, r0, p, dst, width);
            if (r0 + 8 < width)
                block8(src, ld, rows, r0 + 8, p, dst, width);
        }
    }
    /* The last kc % 8 values of p, one at a time. */
    for (int p = pend; p < kc; p++) {
        float *d = dst + (size_t)p * width;
        for (int r = 0; r < width; r++)
            d[r] = r < rows ? src[(size_t)r * ld + p] : 0.0f;
    }
}
