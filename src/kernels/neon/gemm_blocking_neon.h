/* gemm_blocking_neon.h: SGEMM block sizes and packing routine for the
 * NEON micro-kernel (gemm_neon.c).
 *
 * Sized for a typical Armv8 server/desktop core (64 KiB L1d, 1 MiB L2,
 * shared L3: Neoverse N1/V1, Graviton, Apple); not tuned on hardware here
 * (the NEON build is only tested under qemu).
 */
#ifndef ADVC_GEMM_BLOCKING_NEON_H
#define ADVC_GEMM_BLOCKING_NEON_H

/* Micro-tile: 8 rows x 12 columns = 24 q-register accumulators, + 2 q of A
 * and 3 q of B = 29 of the 32 vector registers. */
#define GEMM_MR 8
#define GEMM_NR 12

/* KC: a B micro-panel (KC x 12 floats = 12 KiB at 256) and the A
 * micro-panel (KC x 8 = 8 KiB) stay in L1d. */
#ifndef GEMM_KC
#define GEMM_KC 256
#endif

/* MC: the packed A block, MC x KC floats in L2 (128 x 256 x 4 = 128 KiB).
 * A multiple of MR. */
#ifndef GEMM_MC
#define GEMM_MC 128
#endif

/* NC: the packed B block, KC x NC floats in L2/L3 (256 x 4080 x 4 = 4 MiB).
 * A multiple of NR. */
#ifndef GEMM_NC
#define GEMM_NC 4080
#endif

/* Transposing pack, dst[p*width + r] = src[r*ld + p] (0 for r >= rows);
 * prefetches the first next_rows rows of the next panel, which starts
 * at src + width*ld (0: none):
 * the portable one in scalar/gemm_ref.c.  A NEON 4 x 4 transpose version
 * is the next step once this runs on real hardware. */
void advc_sgemm_pack_t_ref(int kc, int rows, int width, const float *src,
                           int ld, float *dst, int next_rows);
#define GEMM_PACK_T advc_sgemm_pack_t_ref

#endif
