/* isa.c: which ISA this build's kernels use, as chosen by dispatch.h. */
#include "dispatch.h"

const char *advc_isa_name(void) { return ADVC_ISA_NAME; }
