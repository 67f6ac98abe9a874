/* gemm_blocking_avx512.h: SGEMM block sizes and packing routine for the
 * AVX-512 micro-kernel (gemm_avx512.c).
 *
 * Tuned on the development machine (AMD EPYC, family 26 = Zen 5: 48 KiB
 * L1d and 1 MiB L2 per core, 32 MiB shared L3, two full-width 512-bit FMA
 * pipes); the comments give the cache each block targets so they can be
 * re-derived for another core.  The measurements behind the choices are
 * in bench/RESULTS.md ("AVX-512 kernels (issue 11)").
 */
#ifndef ADVC_GEMM_BLOCKING_AVX512_H
#define ADVC_GEMM_BLOCKING_AVX512_H

/* Micro-tile: 8 rows x 48 columns = 24 zmm accumulators, + 3 zmm of B and
 * 1 broadcast of A = 28 of the 32 zmm registers.  Measured against 14x32,
 * 12x32, 6x64 and 8x64 (all within 2% of the FMA peak with their panels
 * in L1): equal on the square sizes, 5-25% faster on the convolution
 * shapes, whose channel counts (32, 64, 256, 288, 800) are multiples of 8
 * (no padded rows, where 14 or 12 rows waste up to 1/8 of a tile). */
#define GEMM_MR 8
#define GEMM_NR 48

/* KC: depth of one packed block.  The B micro-panel (KC x 48 floats =
 * 72 KiB at 384) is read from L2 (16 bytes per cycle at full FMA rate,
 * well within what L2 delivers) and the A micro-panel (KC x 8 = 12 KiB)
 * stays in the 48 KiB L1d.  Measured: 256, 384, 512 and 768 within the
 * run-to-run noise (3%) on every case; 384 keeps C passes few on long-k
 * shapes. */
#ifndef GEMM_KC
#define GEMM_KC 384
#endif

/* MC: rows of the packed A block, MC x KC floats kept in L2 (128 x 384 x 4
 * = 192 KiB of the 1 MiB L2, leaving room for a B micro-panel, C and the
 * prefetched next panels).  A multiple of MR. */
#ifndef GEMM_MC
#define GEMM_MC 128
#endif

/* NC: columns of the packed B block, KC x NC floats in L3 (384 x 4080 x 4
 * = 6 MiB of the shared 32 MiB).  A multiple of NR. */
#ifndef GEMM_NC
#define GEMM_NC 4080
#endif

/* Transposing pack, dst[p*width + r] = src[r*ld + p] (0 for r >= rows);
 * prefetches the first next_rows rows of the next panel, which starts
 * at src + width*ld (0: none): 8 x 8 register transposes, in
 * gemm_avx512.c. */
void advc_sgemm_pack_t_avx512(int kc, int rows, int width, const float *src,
                              int ld, float *dst, int next_rows);
#define GEMM_PACK_T advc_sgemm_pack_t_avx512

#endif
