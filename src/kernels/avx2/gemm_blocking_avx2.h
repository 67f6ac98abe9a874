/* gemm_blocking_avx2.h: SGEMM block sizes and packing routine for the
 * AVX2+FMA micro-kernel (gemm_avx2.c).
 *
 * Tuned on the development machine (AMD EPYC Zen 4: 32 KiB L1d and 1 MiB
 * L2 per core, 32 MiB shared L3); the comments give the cache each block
 * targets so they can be re-derived for another x86 core.
 */
#ifndef ADVC_GEMM_BLOCKING_AVX2_H
#define ADVC_GEMM_BLOCKING_AVX2_H

/* Micro-tile: 6 rows x 16 columns = 12 ymm accumulators, + 2 ymm of B and
 * 1 broadcast of A = 15 of the 16 ymm registers. */
#define GEMM_MR 6
#define GEMM_NR 16

/* KC: depth of one packed block.  One B micro-panel (KC x 16 floats =
 * 24 KiB at 384) stays in the 32 KiB L1d while A micro-panels (KC x 6 =
 * 9 KiB) stream past it from L2.  Measured: 384 beats 192, 256 and 320 by
 * up to 10% on long-k and convolution shapes (fewer passes over C, longer
 * streams for the prefetchers) and ties on square ones. */
#ifndef GEMM_KC
#define GEMM_KC 384
#endif

/* MC: rows of the packed A block, MC x KC floats kept in L2 (144 x 384 x 4
 * = 216 KiB of the 1 MiB L2, leaving room for B panels, C and the
 * prefetched next panels).  A multiple of MR. */
#ifndef GEMM_MC
#define GEMM_MC 144
#endif

/* NC: columns of the packed B block, KC x NC floats in L3 (384 x 4080 x 4
 * = 6 MiB of the shared 32 MiB).  A multiple of NR. */
#ifndef GEMM_NC
#define GEMM_NC 4080
#endif

/* Transposing pack, dst[p*width + r] = src[r*ld + p] (0 for r >= rows);
 * prefetches the first next_rows rows of the next panel, which starts
 * at src + width*ld (0: none):
 * 8 x 8 register transposes, in gemm_avx2.c. */
void advc_sgemm_pack_t_avx2(int kc, int rows, int width, const float *src,
                            int ld, float *dst, int next_rows);
#define GEMM_PACK_T advc_sgemm_pack_t_avx2

#endif
