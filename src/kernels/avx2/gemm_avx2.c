/* gemm_avx2.c: the AVX2+FMA SGEMM micro-kernel, a 6 x 16 tile of C.
 *
 * Only the innermost piece of GEMM lives here: packing, cache blocking and
 * threading are in ../gemm.c.  The contract (packed panel layouts, partial
 * tiles, accumulate) is written down in scalar/scalar_kernels.h.
 */
#include <immintrin.h>
#include "avx2/avx2_kernels.h"

enum { MR = 6, NR = 16 };

/* The 6 x 16 tile of sums: row r is the pair (c[r][0], c[r][1]), columns
 * 0-7 and 8-15. */
typedef struct {
    __m256 c[MR][2];
} tile6x16;

/* One rank-1 update of the tile, for one p:
 * c[r][:] += a[r] * b[0..16), r = 0..5.  Two loads of B, six broadcasts of
 * A, twelve independent FMAs (enough to cover FMA latency x throughput). */
static inline void tile_step(tile6x16 *t, const float *a, const float *b)
{
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + 8);
    for (int r = 0; r < MR; r++) {
        __m256 ar = _mm256_broadcast_ss(a + r);
        t->c[r][0] = _mm256_fmadd_ps(ar, b0, t->c[r][0]);
        t->c[r][1] = _mm256_fmadd_ps(ar, b1, t->c[r][1]);
    }
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
    tile6x16 t;
    for (int r = 0; r < MR; r++)
        t.c[r][0] = t.c[r][1] = _mm256_setzero_ps();

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

    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++)
            row_store(c + (size_t)r * ldc, t.c[r][0], t.c[r][1], accumulate);
        return;
    }
    /* Partial tile: spill the whole tile, then copy (or add) the mr x nr
     * corner.  The scalar add rounds exactly like the vector add, so edge
     * tiles give the same bits as full ones. */
    float buf[MR * NR];
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_ps(buf + r * NR, t.c[r][0]);
        _mm256_storeu_ps(buf + r * NR + 8, t.c[r][1]);
    }
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        const float *br = buf + r * NR;
        for (int j = 0; j < nr; j++)
            cr[j] = accumulate ? cr[j] + br[j] : br[j];
    }
}
