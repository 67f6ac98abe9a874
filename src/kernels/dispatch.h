/* dispatch.h: the one place that chooses this build's ISA and maps each
 * ISA-neutral kernel name (isa_*) to that ISA's implementation.
 *
 * The choice is made at compile time from the compiler's own macros, so
 * `-march=native` (SIMD=auto), `-mavx2 -mfma` (SIMD=avx2), an aarch64
 * compiler (SIMD=neon) or -DADVC_FORCE_SCALAR (SIMD=scalar) decide it.
 * Only the chosen ISA's folder is compiled; the scalar references in
 * src/kernels/scalar are always compiled (they are the test oracle and the
 * scalar build's kernels).
 */
#ifndef ADVC_DISPATCH_H
#define ADVC_DISPATCH_H

#include "advc/kernels.h"

#if defined(ADVC_FORCE_SCALAR)
#  define ADVC_ISA_SCALAR 1
#elif defined(__AVX2__) && defined(__FMA__)
#  define ADVC_ISA_AVX2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#  define ADVC_ISA_NEON 1
#else
#  define ADVC_ISA_SCALAR 1
#endif

#include "scalar/scalar_kernels.h"

#if defined(ADVC_ISA_AVX2)
#  define ADVC_ISA_NAME "avx2"
#  include "avx2/avx2_kernels.h"
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_6x16_avx2
#  define isa_act_forward       advc_act_forward_avx2
#  define isa_act_backward      advc_act_backward_avx2
#  define isa_sign_step_proj    advc_sign_step_proj_avx2
#  define isa_sign_step         advc_sign_step_avx2
#  define isa_l2_step           advc_l2_step_avx2
#  define isa_axpy              advc_axpy_avx2
#  define isa_scale             advc_scale_avx2
#  define isa_sum               advc_sum_avx2
#  define isa_max               advc_max_avx2
#  define isa_dot               advc_dot_avx2
#  define isa_sgd_update        advc_sgd_update_avx2
#  define isa_adam_update       advc_adam_update_avx2
#elif defined(ADVC_ISA_NEON)
#  define ADVC_ISA_NAME "neon"
#  include "neon/neon_kernels.h"
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_8x12_neon
#  define isa_act_forward       advc_act_forward_neon
#  define isa_act_backward      advc_act_backward_neon
#  define isa_sign_step_proj    advc_sign_step_proj_neon
#  define isa_sign_step         advc_sign_step_neon
#  define isa_l2_step           advc_l2_step_neon
#  define isa_axpy              advc_axpy_neon
#  define isa_scale             advc_scale_neon
#  define isa_sum               advc_sum_neon
#  define isa_max               advc_max_neon
#  define isa_dot               advc_dot_neon
#  define isa_sgd_update        advc_sgd_update_neon
#  define isa_adam_update       advc_adam_update_neon
#else
#  define ADVC_ISA_NAME "scalar"
#  define isa_sgemm_ukernel     advc_sgemm_ukernel_4x4_scalar
#  define isa_act_forward       advc_act_forward_scalar
#  define isa_act_backward      advc_act_backward_scalar
#  define isa_sign_step_proj    advc_sign_step_proj_ref
#  define isa_sign_step         advc_sign_step_ref
#  define isa_l2_step           advc_l2_step_ref
#  define isa_axpy              advc_axpy_ref
#  define isa_scale             advc_scale_ref
#  define isa_sum               advc_sum_ref
#  define isa_max               advc_max_ref
#  define isa_dot               advc_dot_ref
#  define isa_sgd_update        advc_sgd_update_ref
#  define isa_adam_update       advc_adam_update_ref
#endif

#endif /* ADVC_DISPATCH_H */
