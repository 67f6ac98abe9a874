/* gemm_avx2.c: the AVX2+FMA SGEMM micro-kernel (a 6 x 16 tile of C) and
 * the transposing pack it needs for A (and for B^T).
 *
 * Only the innermost pieces of GEMM live here: the loops, cache blocking
 * and threading are in ../gemm.c.  The micro-kernel contract (packed panel
 * layouts, partial tiles, accumulate) is in scalar/scalar_kernels.h.
 */
#include <immintrin.h>
#include "avx2/avx2_kernels.h"
#include "avx2/gemm_blocking_avx2.h"
#include "avx2/transpose_avx2.h"

enum { MR = 6, NR = 16 };

/* The 6 x 16 tile of sums: cR0 holds row R, columns 0-7; cR1 columns
 * 8-15.  Named members rather than an array so that the compiler keeps
 * all twelve in ymm registers. */
typedef struct {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
} tile6x16;

/* Row r of the update: (lo, hi) += a * (b0, b1). */
static inline void row_fma(float a, __m256 b0, __m256 b1, __m256 *lo,
                           __m256 *hi)
{
    __m256 av = _mm256_set1_ps(a);
    *lo = _mm256_fmadd_ps(av, b0, *lo);
    *hi = _mm256_fmadd_ps(av, b1, *hi);
}

/* One rank-1 update of the tile, for one p:
 * c[r][:] += a[r] * b[0..16), r = 0..5.  Two loads of B, six broadcasts of
 * A, twelve independent FMAs (enough to cover FMA latency x throughput). */
static inline void tile_step(tile6x16 *t, const float *a, const float *b)
{
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + 8);
    row_fma(a[0], b0, b1, &t->c00, &t->c01);
    row_fma(a[1], b0, b1, &t->c10, &t->c11);
    row_fma(a[2], b0, b1, &t->c20, &t->c21);
    row_fma(a[3], b0, b1, &t->c30, &t->c31);
    row_fma(a[4], b0, b1, &t->c40, &t->c41);
    row_fma(a[5], b0, b1, &t->c50, &t->c51);
}

/* Writes row r of the tile to dst (16 floats), adding what is there if
 * accumulate. */
static inline void row_store(float *dst, __m256 lo, __m256 hi,
                             bool accumulate)
{
    if (accumulate) {
        lo = _mm256_add_ps(_mm256_loadu_ps(dst), lo);
        hi = _mm256_add_ps(_mm256_loadu_ps(dst + 8), hi);
    }
    _mm256_storeu_ps(dst, lo);
    _mm256_storeu_ps(dst + 8, hi);
}

/* C[0..mr)[0..nr) (+)= sum_p a[p*6 + i] * b[p*16 + j] */
void advc_sgemm_ukernel_6x16_avx2(int k, const float *a, const float *b,
                                  float *c, int ldc, int mr, int nr,
                                  bool accumulate)
{
    /* Start fetching the C tile now, so it is in L1 when the sums are
     * added to it; the k loop hides the latency.  Each row of 16 floats
     * may straddle two cache lines, hence its first and last element. */
    for (int r = 0; r < mr; r++) {
        _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)r * ldc + nr - 1),
                     _MM_HINT_T0);
    }
    __m256 z = _mm256_setzero_ps();
    tile6x16 t = { z, z, z, z, z, z, z, z, z, z, z, z };

    /* Unrolled by 4: fewer loop branches per FMA, and the fixed offsets
     * fold into the loads' addressing. */
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        tile_step(&t, a, b);
        tile_step(&t, a + MR, b + NR);
        tile_step(&t, a + 2 * MR, b + 2 * NR);
        tile_step(&t, a + 3 * MR, b + 3 * NR);
        a += 4 * MR;
        b += 4 * NR;
    }
    for (; p < k; p++) {
        tile_step(&t, a, b);
        a += MR;
        b += NR;
    }

    /* Row r of the tile as (lo, hi) pairs, for the stores below. */
    const __m256 lo[MR] = { t.c00, t.c10, t.c20, t.c30, t.c40, t.c50 };
    const __m256 hi[MR] = { t.c01, t.c11, t.c21, t.c31, t.c41, t.c51 };
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++)
            row_store(c + (size_t)r * ldc, lo[r], hi[r], accumulate);
        return;
    }
    /* Partial tile: spill the whole tile, then copy (or add) the mr x nr
     * corner.  The scalar add rounds exactly like the vector add, so edge
     * tiles give the same bits as full ones. */
    float buf[MR * NR];
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_ps(buf + r * NR, lo[r]);
        _mm256_storeu_ps(buf + r * NR + 8, hi[r]);
    }
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        const float *br = buf + r * NR;
        for (int j = 0; j < nr; j++)
            cr[j] = accumulate ? cr[j] + br[j] : br[j];
    }
}

/* ---- transposing pack ---------------------------------------------------
 * dst[p*width + r] = src[r*ld + p]: `rows` rows of a row-major matrix
 * become a panel with one row of `width` floats per p (zero past rows).
 * This is the packing of A for op(A) = A (width MR) and of B for
 * op(B) = B^T (width NR); done in 8 x 8 register transposes, it is several
 * times faster than the scalar gather-scatter. */

/* Stores the first w (1..8) floats of v at dst, touching nothing past
 * dst + w (a panel's last row must not spill into what follows it). */
static inline void store_first(float *dst, __m256 v, int w)
{
    if (w == 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    if (w == 6) { /* the A panel of this kernel: 4 + 2 floats */
        _mm_storeu_ps(dst, _mm256_castps256_ps128(v));
        _mm_storel_pi((__m64 *)(dst + 4), _mm256_extractf128_ps(v, 1));
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    for (int i = 0; i < w; i++)
        dst[i] = tmp[i];
}


/* Cache-line size in floats: 64 bytes. */
enum { LINE_FLOATS = 16 };

/* dst[p*width + r] = src[r*ld + p], r < rows (0 for rows <= r < width);
 * rows [0, next_rows) of the next panel (at src + width*ld) are
 * prefetched into L2, a line per row for every 16 values of p, so they
 * arrive while the micro-kernel works on this panel. */
void advc_sgemm_pack_t_avx2(int kc, int rows, int width, const float *src,
                            int ld, float *dst, int next_rows)
{
    const float *next = next_rows > 0 ? src + (size_t)width * ld : NULL;
    int p = 0;
    /* Bulk: 8 values of p at a time, rows in groups of 8 (missing rows
     * read as zeros).  Written out rather than looped over i so that the
     * eight rows stay in registers. */
    for (; p + 8 <= kc; p += 8) {
        for (int i = 0; p % LINE_FLOATS == 0 && i < next_rows; i++)
            _mm_prefetch((const char *)(next + (size_t)i * ld + p),
                         _MM_HINT_T1); /* into L2: L1 holds the panels */
        for (int r0 = 0; r0 < width; r0 += 8) {
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
    }
    /* The last kc % 8 values of p, one at a time. */
    for (; p < kc; p++) {
        float *d = dst + (size_t)p * width;
        for (int r = 0; r < width; r++)
            d[r] = r < rows ? src[(size_t)r * ld + p] : 0.0f;
    }
}
