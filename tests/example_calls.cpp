// example_calls.cpp: the calls of src/examples/classify_attack.c from C++,
// compiled (not linked) by tests/example.sh: the public headers must parse
// as C++ and the example's calls must type-check there (labels as int,
// the attack config's fields by name).
#include "advc/advc.h"

int classify_and_attack(const char *model, const char *dir, int n, float eps)
{
    advc_dataset test;
    advc_graph *g = nullptr;
    if (advc_dataset_load_dir(dir, false, &test) != ADVC_OK ||
        advc_model_load(model, 100, nullptr, &g, nullptr) != ADVC_OK)
        return -1;
    size_t per = (size_t)test.c * test.h * test.w;
    float *adv = new float[(size_t)n * per];
    int *pred = new int[(size_t)n];
    advc_predict(g, test.x, n, pred, nullptr);
    advc_attack_config cfg = advc_attack_defaults(ADVC_ATK_PGD);
    cfg.eps = eps;
    cfg.steps = 20;
    cfg.seed = 1;
    advc_status st = advc_attack_rows(g, &cfg, test.x, test.y, n, adv);
    int right = 0;
    if (st == ADVC_OK && advc_predict(g, adv, n, pred, nullptr) == ADVC_OK)
        for (int i = 0; i < n; i++) right += pred[i] == test.y[i];
    delete[] adv;
    delete[] pred;
    advc_graph_free(g);
    advc_dataset_free(&test);
    return st == ADVC_OK ? right : -1;
}
