/* fuzz_cifar.c: the CIFAR-10 batch reader (advc_cifar10_load) over one to
 * three files: the first byte picks how many, the rest is cut into that
 * many equal parts (the last takes the remainder). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1) return 0;
    int files = data[0] % 3 + 1;
    size_t part = (n - 1) / (size_t)files;
    const char *paths[3];
    for (int i = 0; i < files; i++) {
        size_t len = i == files - 1 ? n - 1 - part * (size_t)i : part;
        paths[i] = fuzz_file(i, data + 1 + part * (size_t)i, len);
    }
    advc_dataset d;
    if (advc_cifar10_load(paths, files, &d) == ADVC_OK &&
        (d.n < 1 || d.c != 3 || d.y[d.n - 1] >= d.classes))
        abort();
    advc_dataset_free(&d);
    return 0;
}
