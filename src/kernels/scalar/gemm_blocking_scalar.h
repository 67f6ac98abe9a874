/* gemm_blocking_scalar.h: SGEMM block sizes and packing routine for the
 * portable 4x4 scalar micro-kernel (SIMD=scalar builds).  The cache
 * reasoning is the same as for the SIMD kernels; speed matters less here
 * than being correct everywhere, so the sizes are generic, not tuned.
 */
#ifndef ADVC_GEMM_BLOCKING_SCALAR_H
#define ADVC_GEMM_BLOCKING_SCALAR_H

/* Micro-tile: 4 x 4 = 16 float sums, which fit the 16 registers of
 * x86-64 SSE or of most other targets. */
#define GEMM_MR 4
#define GEMM_NR 4

/* KC: a B micro-panel (KC x 4 floats = 4 KiB) and an A micro-panel (same)
 * stay in any L1d. */
#ifndef GEMM_KC
#define GEMM_KC 256
#endif

/* MC: the packed A block, MC x KC floats in L2 (128 x 256 x 4 = 128 KiB).
 * A multiple of MR. */
#ifndef GEMM_MC
#define GEMM_MC 128
#endif

/* NC: the packed B block, KC x NC floats in L3 (256 x 4080 x 4 = 4 MiB).
 * A multiple of NR. */
#ifndef GEMM_NC
#define GEMM_NC 4080
#endif

/* Transposing pack, dst[p*width + r] = src[r*ld + p] (0 for r >= rows);
 * prefetches the first next_rows rows of the next panel, which starts
 * at src + width*ld (0: none):
 * the portable one in scalar/gemm_ref.c. */
void advc_sgemm_pack_t_ref(int kc, int rows, int width, const float *src,
                           int ld, float *dst, int next_rows);
#define GEMM_PACK_T advc_sgemm_pack_t_ref

#endif
