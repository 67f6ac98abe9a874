/* advc_logits.c: the advc side of interop-vs-torch.sh.  Runs a model file
 * in eval mode on the first N test images of a data directory and writes
 * every exit's logits as one float32 .npy of shape (exits, N, classes).
 *   advc-logits MODEL DATA_DIR N OUT.npy
 * Built by the script against build/libadvc.a; not part of `make`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"

#define BATCH 250 /* images per forward pass */

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: advc-logits MODEL DATA_DIR N OUT.npy\n");
        return 2;
    }
    int n = atoi(argv[3]);
    advc_dataset d;
    advc_graph *g = NULL;
    if (advc_dataset_load_dir(argv[2], false, &d) != ADVC_OK ||
        advc_model_load(argv[1], BATCH, NULL, &g, NULL) != ADVC_OK) {
        fprintf(stderr, "advc-logits: %s\n", advc_last_error());
        return 1;
    }
    if (n < 1 || n > d.n) n = d.n;
    int exits = advc_graph_num_exits(g), k = advc_graph_classes(g);
    float *z = malloc((size_t)exits * n * k * sizeof *z);
    if (!z) return 1;
    size_t per = (size_t)d.c * d.h * d.w;
    for (int i = 0; i < n; i += BATCH) {
        int b = n - i < BATCH ? n - i : BATCH;
        advc_graph_forward(g, d.x + (size_t)i * per, b, ADVC_MODE_EVAL);
        for (int e = 0; e < exits; e++)
            memcpy(z + ((size_t)e * n + i) * k, advc_graph_logits(g, e),
                   (size_t)b * k * sizeof *z);
    }
    size_t shape[3] = { (size_t)exits, (size_t)n, (size_t)k };
    int rc = 0;
    if (advc_npy_write(argv[4], ADVC_NPY_F32, z, 3, shape) != ADVC_OK) {
        fprintf(stderr, "advc-logits: %s\n", advc_last_error());
        rc = 1;
    }
    free(z);
    advc_graph_free(g);
    advc_dataset_free(&d);
    return rc;
}
