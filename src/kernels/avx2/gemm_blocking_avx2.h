/* gemm_blocking_avx2.h: SGEMM block sizes for the AVX2+FMA micro-kernel.
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
 * 16 KiB at 256) plus the A micro-panel streaming past it (KC x 6 = 6 KiB)
 * stay in the 32 KiB L1d. */
#ifndef GEMM_KC
#define GEMM_KC 256
#endif

/* MC: rows of the packed A block, MC x KC floats kept in L2 (144 x 256 x 4
 * = 144 KiB of the 1 MiB L2, leaving room for B panels and C).  A multiple
 * of MR. */
#ifndef GEMM_MC
#define GEMM_MC 144
#endif

/* NC: columns of the packed B block, KC x NC floats in L3 (256 x 4080 x 4
 * = 4 MiB of the shared 32 MiB).  A multiple of NR. */
#ifndef GEMM_NC
#define GEMM_NC 4080
#endif

#endif
