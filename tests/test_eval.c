/* test_eval.c: evaluation beyond one attack on one model: transfer (the
 * examples made on another model), the mean confidence on the fooled
 * samples, ensembles (averaged logits), and the masking verdicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "advc/evaluate.h"
#include "advc/models.h"
#include "advc/probe.h"
#include "suites.h"

#define N 40
#define B 16
static const advc_act_spec RELU = {ADVC_ACT_RELU, 0.0f};

static advc_graph *model(const char *spec, uint64_t seed)
{
    advc_graph *g = NULL;
    ck_assert(advc_model_build(spec, (advc_shape){1, 8, 8}, 10, RELU, &g) ==
              ADVC_OK);
    ck_assert(advc_graph_compile(g, B, NULL) == ADVC_OK);
    advc_graph_init_params_as(g, seed, ADVC_INIT_UNIFORM);
    return g;
}

/* N random 1x8x8 images with random labels. */
static void data(advc_dataset *d)
{
    memset(d, 0, sizeof *d);
    d->n = N, d->c = 1, d->h = 8, d->w = 8, d->classes = 10;
    d->x = advc_alloc(N * 64 * sizeof *d->x);
    d->y = malloc(N * sizeof *d->y);
    tu_fill(d->x, N * 64, 0, 1, 3);
    for (int i = 0; i < N; i++) d->y[i] = (i * 7) % 10;
}

/* src = g is advc_eval_robust; another src is "examples from src, scored
 * on g"; fooled_conf is the mean top softmax probability of g's wrong
 * predictions on those examples. */
START_TEST(test_transfer_and_confidence)
{
    advc_graph *g = model("mlp:hidden=12", 1), *src = model("mlp:hidden=9", 2);
    advc_dataset d;
    data(&d);
    advc_attack_config a[2] = { advc_attack_defaults(ADVC_ATK_FGSM),
                                advc_attack_defaults(ADVC_ATK_PGD) };
    a[0].eps = a[1].eps = 0.1f;
    a[1].steps = 5;
    advc_robust_report r1, r2, rt;
    ck_assert(advc_eval_robust(g, &d, 0, a, 2, &r1) == ADVC_OK);
    ck_assert(advc_eval_transfer(g, g, &d, 0, a, 2, &r2) == ADVC_OK);
    for (int k = 0; k < 2; k++) {
        ck_assert(r1.robust_acc[0][k] == r2.robust_acc[0][k]);
        ck_assert(r1.fooled_conf[0][k] == r2.fooled_conf[0][k]);
    }
    ck_assert(advc_eval_transfer(g, src, &d, 0, a, 2, &rt) == ADVC_OK);
    /* By hand: FGSM on src, predictions of g. */
    int y[N], pred[N];
    float *xa = malloc(N * 64 * sizeof *xa), conf[N];
    for (int i = 0; i < N; i++) y[i] = d.y[i];
    ck_assert(advc_attack_rows(src, &a[0], d.x, y, N, xa) == ADVC_OK);
    ck_assert(advc_predict(g, xa, N, pred, conf) == ADVC_OK);
    int right = 0;
    double cs = 0;
    for (int i = 0; i < N; i++) {
        right += pred[i] == y[i];
        if (pred[i] != y[i]) cs += conf[i];
    }
    ck_assert_float_eq(rt.robust_acc[0][0], (float)right / N);
    ck_assert(right < N);
    ck_assert_msg(fabs(rt.fooled_conf[0][0] - cs / (N - right)) < 1e-6,
                  "%g vs %g", (double)rt.fooled_conf[0][0],
                  cs / (N - right));
    ck_assert(rt.fooled_conf[0][0] > 0.1f && rt.fooled_conf[0][0] <= 1.0f);
    free(xa);
    advc_dataset_free(&d);
    advc_graph_free(g), advc_graph_free(src);
}
END_TEST

/* An ensemble's logits are the mean of its members' logits; its tensors
 * are the members' under m0., m1.; multi-exit members are refused. */
START_TEST(test_ensemble)
{
    tu_tmpdir td;
    tu_tmpdir_make(&td, "ens");
    char p[3][512], list[1100];
    const char *specs[3] = { "mlp:hidden=12", "linear",
                             "msdnet:blocks=2,base=2,growth=2,head=4" };
    advc_graph *m[3];
    for (int k = 0; k < 3; k++) {
        char name[16];
        snprintf(name, sizeof name, "m%d.advc", k);
        snprintf(p[k], sizeof p[k], "%s", tu_tmpdir_path(&td, name));
        m[k] = model(specs[k], 10 + k);
        ck_assert(advc_model_save(p[k], m[k], specs[k], RELU, "") == ADVC_OK);
    }
    snprintf(list, sizeof list, "%s,%s", p[0], p[1]);
    advc_graph *e = NULL;
    advc_checkpoint h;
    ck_assert_msg(advc_ensemble_load(list, B, NULL, &e, &h) == ADVC_OK, "%s",
                  advc_last_error());
    ck_assert_int_eq(advc_graph_num_exits(e), 1);
    ck_assert_int_ge(advc_graph_find_tensor(e, "m1.fc.w"), 0);
    ck_assert(strstr(h.spec, "ensemble of 2") != NULL);
    float x[B * 64];
    tu_fill(x, B * 64, 0, 1, 5);
    float z[2][B * 10];
    for (int k = 0; k < 2; k++) {
        advc_graph_forward(m[k], x, B, ADVC_MODE_EVAL);
        memcpy(z[k], advc_graph_logits(m[k], 0), sizeof z[k]);
    }
    advc_graph_forward(e, x, B, ADVC_MODE_EVAL);
    const float *ze = advc_graph_logits(e, 0);
    for (int q = 0; q < B * 10; q++)
        ck_assert_msg(fabsf(ze[q] - (z[0][q] + z[1][q]) * 0.5f) < 1e-6f,
                      "logit %d: %g", q, (double)ze[q]);
    advc_graph_free(e);
    snprintf(list, sizeof list, "%s,%s", p[0], p[2]);
    ck_assert(advc_ensemble_load(list, B, NULL, &e, NULL) == ADVC_ERR_ARG);
    ck_assert(strstr(advc_last_error(), "single-exit") != NULL);
    for (int k = 0; k < 3; k++) advc_graph_free(m[k]);
    tu_tmpdir_remove(&td);
}
END_TEST

/* The masking verdicts on known numbers: Goodfellow et al.'s FGSM-trained
 * maxout (71.6% FGSM, 0.8% PGD) is robust to one step only; a robust model
 * and a plain one are not flagged for that. */
START_TEST(test_masking_judge)
{
    advc_masking_report r = { .acc_clean = 0.99f, .acc_fgsm = 0.716f,
                              .acc_pgd = 0.008f, .acc_noise = 0.98f };
    advc_masking_judge(&r);
    ck_assert(!r.fgsm_only_ok && r.pgd_vs_fgsm_ok && r.noise_ok);
    r.acc_fgsm = 0.95f, r.acc_pgd = 0.90f;
    advc_masking_judge(&r);
    ck_assert(r.fgsm_only_ok);
    r.acc_fgsm = 0.10f, r.acc_pgd = 0.0f;
    advc_masking_judge(&r);
    ck_assert(r.fgsm_only_ok);
    r.acc_fgsm = 0.40f, r.acc_pgd = 0.5f; /* PGD weaker than FGSM */
    advc_masking_judge(&r);
    ck_assert(!r.pgd_vs_fgsm_ok);
}
END_TEST

/* The feature probe on a linear model: its exit reads the image itself,
 * so FGSM's step of eps on every (unclipped) pixel moves the features by
 * exactly eps sqrt(64). */
START_TEST(test_feature_probe)
{
    advc_graph *g = model("linear", 4);
    float x[N * 64];
    int y[N];
    tu_fill(x, N * 64, 0.2f, 0.8f, 9);
    for (int i = 0; i < N; i++) y[i] = i % 10;
    advc_attack_config a = advc_attack_defaults(ADVC_ATK_FGSM);
    a.eps = 0.1f;
    double dist, rel, norm = 0;
    ck_assert(advc_probe_features(g, &a, x, y, N, &dist, &rel) == ADVC_OK);
    ck_assert_msg(fabs(dist - 0.1 * 8) < 1e-5, "dist %g", dist);
    for (int i = 0; i < N; i++) {
        double ss = 0;
        for (int k = 0; k < 64; k++) ss += (double)x[i * 64 + k] * x[i * 64 + k];
        norm += 0.8 / sqrt(ss) / N;
    }
    ck_assert_msg(fabs(rel - norm) < 1e-5, "rel %g vs %g", rel, norm);
    advc_graph_free(g);
}
END_TEST

Suite *advc_suite_eval(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("eval");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_transfer_and_confidence);
    tcase_add_test(tc, test_ensemble);
    tcase_add_test(tc, test_masking_judge);
    tcase_add_test(tc, test_feature_probe);
    suite_add_tcase(s, tc);
    return s;
}
