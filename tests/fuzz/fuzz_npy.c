/* fuzz_npy.c: the .npy parser (advc_npy_parse, under advc_npy_read). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    advc_npy_array a;
    if (advc_npy_parse(data, n, "fuzz", &a) == ADVC_OK) {
        size_t count = 1;
        for (int d = 0; d < a.ndim; d++) count *= a.shape[d];
        size_t bytes = count * advc_npy_itemsize(a.dtype);
        /* the data must lie inside the input and end where it ends */
        if (count != a.count || a.data < data || a.data + bytes != data + n)
            abort();
    }
    return 0;
}
