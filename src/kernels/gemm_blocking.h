/* gemm_blocking.h: the SGEMM block sizes of this build's ISA.
 *
 * Picks the one per-ISA header (avx512/, avx2/, neon/ or scalar/) that defines
 * GEMM_MR, GEMM_NR (the micro-tile of C held in registers), GEMM_KC, GEMM_MC
 * and GEMM_NC (the cache blocks of the five-loop driver in gemm.c).  Include
 * after dispatch.h, whose ADVC_ISA_* macros make the choice.
 */
#ifndef ADVC_GEMM_BLOCKING_H
#define ADVC_GEMM_BLOCKING_H

#include "dispatch.h"

#if defined(ADVC_ISA_AVX512)
#  include "avx512/gemm_blocking_avx512.h"
#elif defined(ADVC_ISA_AVX2)
#  include "avx2/gemm_blocking_avx2.h"
#elif defined(ADVC_ISA_NEON)
#  include "neon/gemm_blocking_neon.h"
#else
#  include "scalar/gemm_blocking_scalar.h"
#endif

#endif /* ADVC_GEMM_BLOCKING_H */
