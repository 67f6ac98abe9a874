/* vec.h: the small per-ISA vector layer the element-wise kernels in this
 * folder (activations, sign steps, BLAS-1 and optimizer updates) are
 * written over, once for every SIMD ISA.  It includes this build's
 * vec_<isa>.h (chosen by dispatch.h), each of which defines:
 *
 *   VEC_LANES            floats per vector (AVX-512 16, AVX2 8, NEON 4),
 *                        = ISA_VEC_LANES of dispatch.h
 *   vf, vmask, vd        float vector, lane mask, half a vf as doubles
 *   vdup vzero vload vstore          broadcast, zero, unaligned load/store
 *   vfirst(r) vload_n vstore_n       mask of the first r lanes; load/store
 *                                    of the first r lanes only (tails)
 *   vadd vsub vmul vdiv vsqrt        one rounding each
 *   vfma vfms vfnma                  a b + c, a b - c, c - a b (fused)
 *   vmax_gt vmin_lt                  a > b ? a : b, a < b ? a : b exactly
 *   vmax vmin                        the fast max/min, for ordered inputs
 *   vabs vneg_abs vcopysign vsel_sign   sign-bit operations
 *   vcmp_gt/ge/lt/le/ne vsel vkeep vdrop   ordered compares and selects
 *   vshl23                           bits << 23 (2^n in the exp core)
 *   vhsum vhmax                      horizontal sum / max (fixed tree)
 *   vdeinterleave4 vinterleave4      4 vectors <-> 4 VEC_LANES floats
 *                                    taken 4 apart (Winograd's tiles)
 *   vspread2_lanes vload_spread2     lanes b, b+2, ...: r floats spread
 *                                    two apart (stride-2 col2im)
 *   vd_lo vd_hi vd_load vd_to_vf vd_add vd_mul vd_fma vd_hsum vd_zero
 *   vd_dup                           widening to double and back
 *
 * All are static inline functions (a debugger steps into them); none is
 * a token-pasting macro.  The GEMM micro-kernels do not use this layer:
 * they are hand-written per ISA, where register allocation is the point.
 */
#ifndef ADVC_VEC_H
#define ADVC_VEC_H

#include "dispatch.h"

#if defined(ADVC_ISA_AVX512)
#  include "avx512/vec_avx512.h"
#elif defined(ADVC_ISA_AVX2)
#  include "avx2/vec_avx2.h"
#elif defined(ADVC_ISA_NEON)
#  include "neon/vec_neon.h"
#else
#  error "vec/ is compiled only for a SIMD ISA (see dispatch.h)"
#endif

#define VEC_LANES ISA_VEC_LANES
_Static_assert(sizeof(vf) == VEC_LANES * sizeof(float),
               "vf must hold VEC_LANES floats");

#endif /* ADVC_VEC_H */
