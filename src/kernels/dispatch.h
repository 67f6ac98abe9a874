/* dispatch.h: the one place that chooses this build's ISA and maps each
 * ISA-neutral kernel name (isa_*) to that ISA's implementation.
 *
 * The choice is made at compile time from the compiler's own macros, so
 * `-march=native` (SIMD=auto), `-mavx512f ...` (SIMD=avx512), `-mavx2
 * -mfma` (SIMD=avx2), an aarch64 compiler (SIMD=neon) or
 * -DADVC_FORCE_SCALAR (SIMD=scalar) decide it.  Only the chosen ISA's
 * folder is compiled, plus vec/ for every SIMD ISA (the element-wise
 * kernels written once over that ISA's vec_<isa>.h); the scalar references
 * in src/kernels/scalar are always compiled (they are the test oracle and
 * the scalar build's kernels).
 *
 * ISA_VEC_LANES is the float lane count of the ISA's vectors (1 for
 * scalar); ISA_SUM_PARTIALS the number of partial sums advc_sum and
 * advc_dot keep (4 vector accumulators in vec/blas1_vec.c), which sets
 * their error bound.
 */
#ifndef ADVC_DISPATCH_H
#define ADVC_DISPATCH_H

#include "advc/kernels.h"

#if defined(ADVC_FORCE_SCALAR)
#  define ADVC_ISA_SCALAR 1
#elif defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#  define ADVC_ISA_AVX512 1
#elif defined(__AVX2__) && defined(__FMA__)
#  define ADVC_ISA_AVX2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#  define ADVC_ISA_NEON 1
#else
#  define ADVC_ISA_SCALAR 1
#endif

#include "scalar/scalar_kernels.h"

#if defined(ADVC_ISA_AVX512) || defined(ADVC_ISA_AVX2) || \
    defined(ADVC_ISA_NEON)
/* The element-wise kernels: one source (vec/) for every SIMD ISA. */
#  include "vec/vec_kernels.h"
#  define isa_act_forward       advc_act_forward_vec
#  define isa_act_backward      advc_act_backward_vec
#  define isa_sign_step_proj    advc_sign_step_proj_vec
#  define isa_sign_step         advc_sign_step_vec
#  define isa_l2_step           advc_l2_step_vec
#  define isa_box_move          advc_box_move_vec
#  define isa_axpy              advc_axpy_vec
#  define isa_scale             advc_scale_vec
#  define isa_sum               advc_sum_vec
#  define isa_max               advc_max_vec
#  define isa_dot               advc_dot_vec
#  define isa_sgd_update        advc_sgd_update_vec
#  define isa_adam_update       advc_adam_update_vec
#  define isa_col2im_rows_s2    advc_col2im_rows_s2_vec
#  define isa_sparse_gemm       advc_sparse_gemm_vec
#  define ISA_SUM_PARTIALS      (4 * ISA_VEC_LANES)
#endif

/* The GEMM micro-kernel: hand-written per ISA; advc_values where the ISA
 * has a mask-and-compress (AVX-512), else the scalar reference.  An ISA
 * may also define isa_sgemm_ukernel_rows, the micro-kernel reading A
 * unpacked (scalar/scalar_kernels.h); gemm.c packs A where it does not. */
#if defined(ADVC_ISA_AVX512)
#  define ADVC_ISA_NAME "avx512"
#  define ISA_VEC_LANES 16
#  include "avx512/avx512_kernels.h"
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_8x48_avx512
#  define isa_sgemm_ukernel_rows advc_sgemm_ukernel_rows_8x48_avx512
#  define isa_values            advc_values_avx512
#elif defined(ADVC_ISA_AVX2)
#  define ADVC_ISA_NAME "avx2"
#  define ISA_VEC_LANES 8
#  include "avx2/avx2_kernels.h"
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_6x16_avx2
#elif defined(ADVC_ISA_NEON)
#  define ADVC_ISA_NAME "neon"
#  define ISA_VEC_LANES 4
#  include "neon/neon_kernels.h"
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_8x12_neon
#else
#  define ADVC_ISA_NAME "scalar"
#  define ISA_VEC_LANES 1
#  define ISA_SUM_PARTIALS 1
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_4x4_scalar
#  define isa_act_forward       advc_act_forward_scalar
#  define isa_act_backward      advc_act_backward_scalar
#  define isa_sign_step_proj    advc_sign_step_proj_ref
#  define isa_sign_step         advc_sign_step_ref
#  define isa_l2_step           advc_l2_step_ref
#  define isa_box_move          advc_box_move_ref
#  define isa_axpy              advc_axpy_ref
#  define isa_scale             advc_scale_ref
#  define isa_sum               advc_sum_ref
#  define isa_max               advc_max_ref
#  define isa_dot               advc_dot_ref
#  define isa_sgd_update        advc_sgd_update_ref
#  define isa_adam_update       advc_adam_update_ref
#  define isa_sparse_gemm       advc_sparse_gemm_ref
#endif

#if !defined(isa_values)
#  define isa_values            advc_values_ref
#endif

#endif /* ADVC_DISPATCH_H */
