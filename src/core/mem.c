/* mem.c: 64-byte aligned allocation (a cache line; wide enough for any
 * SIMD load), reporting failures through the error buffer. */
#include <stdlib.h>
#include "advc/core.h"

#define ADVC_ALIGN 64

void *advc_alloc(size_t bytes)
{
    void *p = NULL;
    /* Round up: aligned_alloc wants a multiple of the alignment. */
    size_t rounded = (bytes + ADVC_ALIGN - 1) / ADVC_ALIGN * ADVC_ALIGN;
    if (rounded < bytes) { /* overflow */
        advc_set_error(ADVC_ERR_NOMEM, "allocation of %zu bytes overflows",
                       bytes);
        return NULL;
    }
    if (rounded == 0) rounded = ADVC_ALIGN;
    if (posix_memalign(&p, ADVC_ALIGN, rounded) != 0) {
        advc_set_error(ADVC_ERR_NOMEM, "out of memory allocating %zu bytes",
                       bytes);
        return NULL;
    }
    return p;
}

void advc_free(void *p) { free(p); }
