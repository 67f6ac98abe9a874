/* fuzz_checkpoint.c: the checkpoint reader (advc_checkpoint_read) and the
 * model loader on top of it (advc_model_load: the spec and activation
 * strings, rebuilding the graph, matching every stored tensor to it).
 * A mutated file almost never keeps a valid CRC, which would stop every
 * input at the last check; so when the first input byte is odd the rest
 * is taken as a checkpoint without its CRC and the right one is appended,
 * and when it is even the rest is the file as it is. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1) return 0;
    uint8_t *file = malloc(n + 4);
    if (!file) return 0;
    size_t len = n - 1;
    memcpy(file, data + 1, len);
    if (data[0] & 1) {
        uint32_t crc = advc_crc32(0, file, len);
        for (int i = 0; i < 4; i++) file[len++] = (uint8_t)(crc >> (8 * i));
    }
    const char *p = fuzz_file(0, file, len);
    free(file);
    advc_checkpoint ck;
    if (advc_checkpoint_read(p, &ck) == ADVC_OK) {
        char v[64];
        (void)advc_meta_get(ck.meta, "epoch", v, sizeof v);
        advc_checkpoint_free(&ck);
        advc_graph *g = NULL;
        if (advc_model_load(p, 1, NULL, &g, NULL) == ADVC_OK) {
            if (!g) abort();
            advc_graph_free(g);
        }
    }
    return 0;
}
