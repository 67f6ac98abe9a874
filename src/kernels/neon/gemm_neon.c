/* gemm_neon.c: the NEON SGEMM micro-kernel, an 8 x 12 tile of C.
 *
 * Only the innermost piece of GEMM lives here: the loops, packing, cache
 * blocking and threading are in ../gemm.c.  The contract (packed panel
 * layouts, partial tiles, accumulate) is in scalar/scalar_kernels.h.
 */
#include <arm_neon.h>
#include "neon/neon_kernels.h"

enum { MR = 8, NR = 12 };

/* The 8 x 12 tile of sums: cRJ holds row R, columns 4J..4J+3.  Named
 * members rather than an array so that the compiler keeps all 24 in q
 * registers (with 2 of A and 3 of B that is 29 of the 32). */
typedef struct {
    float32x4_t c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31,
        c32, c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
} tile8x12;

/* One rank-1 update of the tile, for one p: c[r][:] += a[r] * b[0..12).
 * a[0..4) and a[4..8) sit in two q registers and each row takes its
 * multiplier straight from a lane (vfmaq_laneq_f32), so A needs no
 * broadcasts: 5 loads for 24 independent FMAs. */
static inline void tile_step(tile8x12 *t, const float *a, const float *b)
{
    float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    float32x4_t b2 = vld1q_f32(b + 8);
    t->c00 = vfmaq_laneq_f32(t->c00, b0, a0, 0);
    t->c01 = vfmaq_laneq_f32(t->c01, b1, a0, 0);
    t->c02 = vfmaq_laneq_f32(t->c02, b2, a0, 0);
    t->c10 = vfmaq_laneq_f32(t->c10, b0, a0, 1);
    t->c11 = vfmaq_laneq_f32(t->c11, b1, a0, 1);
    t->c12 = vfmaq_laneq_f32(t->c12, b2, a0, 1);
    t->c20 = vfmaq_laneq_f32(t->c20, b0, a0, 2);
    t->c21 = vfmaq_laneq_f32(t->c21, b1, a0, 2);
    t->c22 = vfmaq_laneq_f32(t->c22, b2, a0, 2);
    t->c30 = vfmaq_laneq_f32(t->c30, b0, a0, 3);
    t->c31 = vfmaq_laneq_f32(t->c31, b1, a0, 3);
    t->c32 = vfmaq_laneq_f32(t->c32, b2, a0, 3);
    t->c40 = vfmaq_laneq_f32(t->c40, b0, a1, 0);
    t->c41 = vfmaq_laneq_f32(t->c41, b1, a1, 0);
    t->c42 = vfmaq_laneq_f32(t->c42, b2, a1, 0);
    t->c50 = vfmaq_laneq_f32(t->c50, b0, a1, 1);
    t->c51 = vfmaq_laneq_f32(t->c51, b1, a1, 1);
    t->c52 = vfmaq_laneq_f32(t->c52, b2, a1, 1);
    t->c60 = vfmaq_laneq_f32(t->c60, b0, a1, 2);
    t->c61 = vfmaq_laneq_f32(t->c61, b1, a1, 2);
    t->c62 = vfmaq_laneq_f32(t->c62, b2, a1, 2);
    t->c70 = vfmaq_laneq_f32(t->c70, b0, a1, 3);
    t->c71 = vfmaq_laneq_f32(t->c71, b1, a1, 3);
    t->c72 = vfmaq_laneq_f32(t->c72, b2, a1, 3);
}

/* Writes 4 sums to dst, adding what is there if accumulate. */
static inline void quad_store(float *dst, float32x4_t v, bool accumulate)
{
    if (accumulate)
        v = vaddq_f32(vld1q_f32(dst), v);
    vst1q_f32(dst, v);
}

/* C[0..mr)[0..nr) (+)= sum_p a[p*8 + i] * b[p*12 + j] */
void advc_sgemm_ukernel_8x12_neon(int k, const float *a, const float *b,
                                  float *c, int ldc, int mr, int nr,
                                  bool accumulate)
{
    float32x4_t z = vdupq_n_f32(0.0f);
    tile8x12 t = { z, z, z, z, z, z, z, z, z, z, z, z,
                   z, z, z, z, z, z, z, z, z, z, z, z };

    /* Unrolled by 2: the loop branch is amortised over 48 FMAs. */
    int p = 0;
    for (; p + 2 <= k; p += 2) {
        tile_step(&t, a, b);
        tile_step(&t, a + MR, b + NR);
        a += 2 * MR;
        b += 2 * NR;
    }
    if (p < k)
        tile_step(&t, a, b);

    /* Row r of the tile as three quads, for the stores below. */
    const float32x4_t q[MR][3] = {
        { t.c00, t.c01, t.c02 }, { t.c10, t.c11, t.c12 },
        { t.c20, t.c21, t.c22 }, { t.c30, t.c31, t.c32 },
        { t.c40, t.c41, t.c42 }, { t.c50, t.c51, t.c52 },
        { t.c60, t.c61, t.c62 }, { t.c70, t.c71, t.c72 },
    };
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + (size_t)r * ldc;
            quad_store(cr, q[r][0], accumulate);
            quad_store(cr + 4, q[r][1], accumulate);
            quad_store(cr + 8, q[r][2], accumulate);
        }
        return;
    }
    /* Partial tile: spill the whole tile, then copy (or add) the mr x nr
     * corner.  The scalar add rounds exactly like the vector add, so edge
     * tiles give the same bits as full ones. */
    float buf[MR * NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < 3; j++)
            vst1q_f32(buf + r * NR + 4 * j, q[r][j]);
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        const float *br = buf + r * NR;
        for (int j = 0; j < nr; j++)
            cr[j] = accumulate ? cr[j] + br[j] : br[j];
    }
}
