/* fuzz_npy.c: the .npy reader (advc_npy_read). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    advc_npy_array a;
    if (advc_npy_read(fuzz_file(0, data, n), &a) == ADVC_OK) {
        size_t count = 1;
        for (int d = 0; d < a.ndim; d++) count *= a.shape[d];
        if (count != a.count || (count > 0) != (a.data != NULL)) abort();
        advc_npy_free(&a);
    }
    return 0;
}
