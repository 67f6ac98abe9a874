/* fuzz_idx.c: the IDX reader (advc_idx_load).  The input is an image file
 * and a label file: its first two bytes (little-endian) say how many of
 * the remaining bytes belong to the image file, the rest is the label
 * file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 2) return 0;
    size_t split = (size_t)(data[0] | data[1] << 8) % (n - 1);
    const char *img = fuzz_file(0, data + 2, split);
    const char *lab = fuzz_file(1, data + 2 + split, n - 2 - split);
    advc_dataset d;
    if (advc_idx_load(img, lab, &d) == ADVC_OK && d.n > 0 &&
        (d.y[0] >= d.classes || d.x[0] < 0.0f || d.x[0] > 1.0f))
        abort(); /* the reader promised labels and pixels in range */
    advc_dataset_free(&d);
    return 0;
}
