/* classify_attack.c: the advc library in one page, using only its public
 * header.  Loads a checkpoint and a test set, classifies the first N test
 * images (default 10), attacks them with FGSM and PGD-20 in the L-inf ball
 * of radius EPS (default 0.1; seed 1, so the points `advc eval --attack
 * fgsm,pgd --eps EPS --steps 20 --limit N` attacks), prints each image's
 * label and the three predictions, then how many were right.
 *   build/examples/classify_attack MODEL.advc DATA_DIR [N [EPS]]
 * `make test` builds it, trains a model and holds it to advc eval. */
#include <stdio.h>
#include <stdlib.h>
#include "advc/advc.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.advc DATA_DIR [N [EPS]]\n", argv[0]);
        return 2;
    }
    int n = argc > 3 ? atoi(argv[3]) : 10, batch = 100;
    float eps = argc > 4 ? strtof(argv[4], NULL) : 0.1f;
    advc_dataset test;
    advc_graph *g = NULL;
    if (advc_dataset_load_dir(argv[2], false, &test) != ADVC_OK ||
        advc_model_load(argv[1], batch, NULL, &g, NULL) != ADVC_OK) {
        fprintf(stderr, "%s\n", advc_last_error());
        return 1;
    }
    if (n < 1 || n > test.n) n = test.n;
    size_t per = (size_t)test.c * test.h * test.w;
    float *adv = malloc((size_t)n * per * sizeof *adv);
    int *pred = malloc(3 * (size_t)n * sizeof *pred); /* clean, fgsm, pgd */
    advc_attack_kind kinds[2] = { ADVC_ATK_FGSM, ADVC_ATK_PGD };
    advc_predict(g, test.x, n, pred, NULL);
    for (int a = 0; a < 2; a++) {
        advc_attack_config cfg = advc_attack_defaults(kinds[a]);
        cfg.eps = eps;
        cfg.seed = 1;
        if (kinds[a] == ADVC_ATK_PGD) cfg.steps = 20;
        /* the labels are ints everywhere: test.y goes straight in */
        if (advc_attack_rows(g, &cfg, test.x, test.y, n, adv) != ADVC_OK) {
            fprintf(stderr, "%s\n", advc_last_error());
            return 1;
        }
        advc_predict(g, adv, n, pred + (size_t)(a + 1) * n, NULL);
    }
    int right[3] = { 0, 0, 0 };
    printf("image label clean  fgsm   pgd\n");
    for (int i = 0; i < n; i++) {
        printf("%5d %5d", i, test.y[i]);
        for (int k = 0; k < 3; k++) {
            int p = pred[(size_t)k * n + i];
            right[k] += p == test.y[i];
            printf(" %5d%s", p, p == test.y[i] ? " " : "*");
        }
        printf("\n");
    }
    printf("accuracy of %d: clean %d, fgsm %d, pgd %d (* = wrong)\n", n,
           right[0], right[1], right[2]);
    free(adv), free(pred);
    advc_graph_free(g);
    advc_dataset_free(&test);
    return 0;
}
