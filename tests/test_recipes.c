/* test_recipes.c: the adversarial-training recipes of advc/train.h
 * (src/adv/recipes.c) on the one loop of src/adv/train.c.
 *
 *   - names, defaults, flag parsing and the one-line argument errors the
 *     CLI turns into exit status 2;
 *   - the recipes' gradients: TRADES (three forwards, BN statistics
 *     restored) and FGSM (one forward, two backwards) against central
 *     differences of their loss on a smooth two-exit BN model;
 *   - every recipe's training input stays in the eps-ball and [0, 1];
 *   - every recipe trains (finite, falling loss) on the MNIST sample;
 *   - per-exit L2 shrinks the exit heads of a small msdnet;
 *   - the key test: FGSM-RS beats standard training under PGD at
 *     eps 0.1 by more than 10 points, same model, seed and epochs;
 *   - the catastrophic-overfitting guard stops (or warns) on a forced
 *     collapse and keeps a loadable best checkpoint;
 *   - same seed and threads give identical parameters; SAT backward rules
 *     act during training only.
 * Quick mode (smaller runs, same assertions): tu_quick() in testutil.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradcheck.h"
#include "testutil.h"
#include "advc/attack.h"
#include "advc/checkpoint.h"
#include "advc/data.h"
#include "advc/evaluate.h"
#include "advc/loss.h"
#include "advc/models.h"
#include "advc/train.h"
#include "../src/adv/train_internal.h"

#ifdef ADVC_SOURCE_DIR
#define DATA_DIR ADVC_SOURCE_DIR "/data/"
#else
#define DATA_DIR "data/"
#endif

static const advc_act_spec RELU = { ADVC_ACT_RELU, 0.0f };
static const advc_act_spec NO_RULE = { ADVC_ACT_COUNT, 0.0f };
/* A small msdnet: 2 exits, narrow, to keep the multi-exit tests quick. */
#define TINY_MSD "msdnet:blocks=2,scales=2,base=4,growth=2,head=8"

static void load_sample(bool train, int limit, advc_dataset *out)
{
    advc_dataset all;
    advc_status st = advc_dataset_load_dir(DATA_DIR "mnist-sample", train,
                                           &all);
    ck_assert_msg(st == ADVC_OK, "sample: %s", advc_last_error());
    if (limit > 0 && limit < all.n) {
        ck_assert(advc_dataset_slice(&all, 0, limit, out) == ADVC_OK);
        advc_dataset_free(&all);
    } else {
        *out = all;
    }
}

static advc_graph *build(const char *spec, int batch, advc_pool *pool,
                         uint64_t seed)
{
    advc_graph *g = NULL;
    advc_shape in = { 1, 28, 28 };
    advc_status st = advc_model_build(spec, in, 10, RELU, &g);
    ck_assert_msg(st == ADVC_OK, "build %s: %s", spec, advc_last_error());
    st = advc_graph_compile(g, batch, pool);
    ck_assert_msg(st == ADVC_OK, "compile %s: %s", spec, advc_last_error());
    advc_graph_init_params(g, seed);
    return g;
}

static advc_train_config quiet_config(advc_recipe r, int epochs, int batch)
{
    advc_train_config c = advc_train_defaults();
    c.recipe = r;
    c.epochs = epochs;
    c.batch = batch;
    c.rc.eps = 0.1f;
    c.guard.count = 0;
    c.progress = ADVC_PROGRESS_NONE;
    return c;
}

/* ---- names, defaults, parsing, argument errors ------------------------- */

START_TEST(test_names_and_paths)
{
    for (int r = 0; r < ADVC_RECIPE_COUNT; r++)
        ck_assert_int_eq(advc_recipe_parse(advc_recipe_name((advc_recipe)r)),
                         r);
    /* Every row of the table describes itself, and its resolved defaults
     * pass its own rows' ranges (on a five-exit model, for me-fgsm). */
    advc_train_config tc = advc_train_defaults();
    for (int r = 0; r < ADVC_RECIPE_COUNT; r++) {
        const advc_recipe_desc *d = advc_recipe_describe((advc_recipe)r);
        ck_assert(d && d->summary[0] && d->paper[0]);
        advc_recipe_config rc = advc_recipe_resolve((advc_recipe)r, &tc.rc, 5);
        for (int i = 0; i < d->nparams; i++)
            ck_assert_msg(advc_param_check(&d->params[i], &rc) == ADVC_OK,
                          "%s: default --%s out of range", d->name,
                          d->params[i].flag);
    }
    ck_assert_int_eq(advc_recipe_parse("junk"), ADVC_RECIPE_COUNT);
    ck_assert_int_eq(advc_recipe_parse("FGSM"), ADVC_RECIPE_COUNT);
    ck_assert_str_eq(advc_recipe_name(ADVC_RECIPE_FGSM_RS), "fgsm-rs");
    char b[256];
    advc_train_best_path("m.advc", b, sizeof b);
    ck_assert_str_eq(b, "m.best.advc");
    advc_train_best_path("model", b, sizeof b);
    ck_assert_str_eq(b, "model.best");
    advc_train_best_path("run.1/model", b, sizeof b);
    ck_assert_str_eq(b, "run.1/model.best");
    advc_train_best_path("/tmp/a.b.advc", b, sizeof b);
    ck_assert_str_eq(b, "/tmp/a.b.best.advc");
}
END_TEST

/* The recipes' own value rows: the exit-L2 list and the backward rules. */
START_TEST(test_parsers)
{
    const advc_recipe_desc *me = advc_recipe_describe(ADVC_RECIPE_ME_FGSM);
    int k = advc_param_find(me->params, me->nparams, "exit-l2");
    ck_assert_int_ge(k, 0);
    const advc_param *row = &me->params[k];
    advc_recipe_config rc;
    memset(&rc, 0, sizeof rc);
    ck_assert(advc_param_set(row, &rc, "0.1,0.1,0.1,0.15,0.15") == ADVC_OK);
    ck_assert_int_eq(rc.n_exit_l2, 5);
    ck_assert(rc.exit_l2[3] == 0.15f && rc.exit_l2[0] == 0.1f);
    const char *bad[] = { "", "0.1,,0.2", "-1", "abc", "0.1,", "0.1;0.2",
                          "nan", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(advc_param_set(row, &rc, bad[i]) == ADVC_ERR_ARG,
                      "'%s' accepted", bad[i]);
        ck_assert(strchr(advc_last_error(), '\n') == NULL);
        ck_assert(strstr(advc_last_error(), "--exit-l2") != NULL);
    }
    advc_act_spec a;
    ck_assert(advc_grad_rule_parse("psoftplus:10", &a) == ADVC_OK);
    ck_assert(a.f == ADVC_ACT_PSOFTPLUS && a.alpha == 10.0f);
    ck_assert(advc_grad_rule_parse("silu", &a) == ADVC_OK);
    ck_assert(advc_grad_rule_parse("junk", &a) == ADVC_ERR_ARG);
    ck_assert(advc_grad_rule_parse("identity", &a) == ADVC_ERR_ARG);
    ck_assert(advc_grad_rule_parse("", &a) == ADVC_ERR_ARG);
}
END_TEST

static void expect_arg_error(const advc_graph *g, const advc_train_config *c,
                             const char *what)
{
    advc_status st = advc_train_check(g, c);
    ck_assert_msg(st == ADVC_ERR_ARG, "%s: accepted", what);
    const char *m = advc_last_error();
    ck_assert_msg(m[0] != '\0' && strchr(m, '\n') == NULL,
                  "%s: message '%s'", what, m);
}

START_TEST(test_check_errors)
{
    advc_graph *one = build("cnn-small", 8, NULL, 1);
    advc_graph *two = build(TINY_MSD, 8, NULL, 1);
    advc_train_config c = quiet_config(ADVC_RECIPE_FGSM_RS, 1, 8);
    ck_assert(advc_train_check(one, &c) == ADVC_OK);
    c.rc.eps = -1;
    expect_arg_error(one, &c, "eps -1");
    c.rc.eps = 1.5f;
    expect_arg_error(one, &c, "eps 1.5");
    c.rc.eps = NAN;
    expect_arg_error(one, &c, "eps nan");
    c = quiet_config(ADVC_RECIPE_COUNT, 1, 8);
    expect_arg_error(one, &c, "recipe COUNT");
    c = quiet_config(ADVC_RECIPE_PGD, 1, 8);
    c.rc.steps = -3;
    expect_arg_error(one, &c, "steps -3");
    c = quiet_config(ADVC_RECIPE_FGSM, 1, 8);
    c.rc.alpha = 2;
    expect_arg_error(one, &c, "alpha 2");
    /* --exit-l2 on a one-exit model; wrong length on a two-exit one. */
    c = quiet_config(ADVC_RECIPE_FGSM_RS, 1, 8);
    c.rc.n_exit_l2 = 1;
    c.rc.exit_l2[0] = 0.1f;
    expect_arg_error(one, &c, "exit-l2 on one exit");
    c.rc.n_exit_l2 = 3;
    expect_arg_error(two, &c, "exit-l2 of 3 on 2 exits");
    c.rc.n_exit_l2 = 2;
    c.rc.exit_l2[1] = 0.2f;
    ck_assert_msg(advc_train_check(two, &c) == ADVC_OK, "%s",
                  advc_last_error());
    c = quiet_config(ADVC_RECIPE_ME_FGSM, 1, 8);
    expect_arg_error(one, &c, "me-fgsm on one exit");
    ck_assert(advc_train_check(two, &c) == ADVC_OK);
    /* Backward rules need a ReLU model and a real rule. */
    c = quiet_config(ADVC_RECIPE_FGSM_RS, 1, 8);
    c.rc.attack_grad.f = ADVC_ACT_PSOFTPLUS;
    c.rc.attack_grad.alpha = 10;
    ck_assert(advc_train_check(one, &c) == ADVC_OK);
    c.act.f = ADVC_ACT_SILU;
    expect_arg_error(one, &c, "attack-grad on a silu model");
    c.act = RELU;
    c.rc.attack_grad.alpha = 0;
    expect_arg_error(one, &c, "psoftplus:0");
    c.rc.attack_grad = NO_RULE;
    c.rc.update_grad.f = ADVC_ACT_IDENTITY;
    expect_arg_error(one, &c, "update-grad identity");
    c = quiet_config(ADVC_RECIPE_STD, 1, 8);
    c.guard.co_threshold = 2;
    expect_arg_error(one, &c, "co-threshold 2");
    /* advc_train refuses the same, before touching anything. */
    advc_dataset d;
    load_sample(true, 64, &d);
    advc_train_result res;
    c = quiet_config(ADVC_RECIPE_PGD, 1, 8);
    c.rc.eps = -1;
    ck_assert(advc_train(one, &d, &c, &res) == ADVC_ERR_ARG);
    c = quiet_config(ADVC_RECIPE_STD, 1, 8);
    c.guard.count = 64;
    ck_assert(advc_train(one, &d, &c, &res) == ADVC_ERR_ARG);
    advc_dataset_free(&d);
    advc_graph_free(one);
    advc_graph_free(two);
}
END_TEST

START_TEST(test_defaults)
{
    advc_train_config c = advc_train_defaults();
    ck_assert_int_eq(c.guard.count, -1);
    ck_assert_int_eq(c.guard.steps, 10);
    ck_assert(c.guard.co_threshold == 0.2f && !c.guard.co_warn);
    advc_recipe_config r;
    r = advc_recipe_resolve(ADVC_RECIPE_FGSM, &c.rc, 1);
    ck_assert(r.eps == 0.3f && r.step_size == 0.3f && r.alpha == 0.5f);
    ck_assert(r.adv_mode == ADVC_ADV_MODE_TRAIN && r.n_exit_l2 == 0);
    r = advc_recipe_resolve(ADVC_RECIPE_FGSM_RS, &c.rc, 1);
    ck_assert(r.step_size == 1.25f * 0.3f);
    r = advc_recipe_resolve(ADVC_RECIPE_PGD, &c.rc, 1);
    ck_assert(r.steps == 7 && r.step_size == 2.5f * 0.3f / 7.0f);
    ck_assert(r.iterate == ADVC_ITERATE_MAX);
    r = advc_recipe_resolve(ADVC_RECIPE_TRADES, &c.rc, 1);
    ck_assert(r.steps == 10 && r.beta == 6.0f);
    ck_assert(r.adv_mode == ADVC_ADV_MODE_EVAL);
    r = advc_recipe_resolve(ADVC_RECIPE_FREE, &c.rc, 1);
    ck_assert(r.replays == 8 && r.step_size == 0.3f);
    r = advc_recipe_resolve(ADVC_RECIPE_ME_FGSM, &c.rc, 5);
    ck_assert_int_eq(r.n_exit_l2, 5);
    const float want[5] = { 0.1f, 0.1f, 0.1f, 0.15f, 0.15f };
    for (int e = 0; e < 5; e++) ck_assert(r.exit_l2[e] == want[e]);
    ck_assert(r.step_size == 1.25f * 0.3f);
    c.rc.no_random_start = true;
    r = advc_recipe_resolve(ADVC_RECIPE_ME_FGSM, &c.rc, 5);
    ck_assert(r.step_size == 0.3f);
    /* Explicit values win. */
    c.rc.eps = 0.1f;
    c.rc.steps = 40;
    c.rc.step_size = 0.01f;
    c.rc.alpha = 0.0f;
    r = advc_recipe_resolve(ADVC_RECIPE_PGD, &c.rc, 1);
    ck_assert(r.eps == 0.1f && r.steps == 40 && r.step_size == 0.01f);
    r = advc_recipe_resolve(ADVC_RECIPE_FGSM, &c.rc, 1);
    ck_assert(r.alpha == 0.0f);
}
END_TEST

/* fast: its recommended training settings apply where nothing was chosen;
 * its attack and update rules default to psoftplus:10; on a model whose
 * activation is not ReLU it says so. */
static bool lr_given(void *ctx, const char *flag)
{
    (void)ctx;
    return strcmp(flag, "lr") == 0;
}

START_TEST(test_fast_defaults)
{
    advc_train_config c = advc_train_defaults();
    c.recipe = ADVC_RECIPE_FAST;
    ck_assert(advc_train_recipe_defaults(&c, NULL, NULL) == ADVC_OK);
    ck_assert(c.epochs == 10 && c.batch == 100 && c.eps_ramp == 3.0f);
    ck_assert(c.sched.kind == ADVC_SCHED_CYCLIC && c.sched.lr == 5e-3f);
    c = advc_train_defaults();
    c.recipe = ADVC_RECIPE_FAST;
    c.sched.lr = 1e-3f;
    ck_assert(advc_train_recipe_defaults(&c, lr_given, NULL) == ADVC_OK);
    ck_assert(c.sched.lr == 1e-3f && c.sched.kind == ADVC_SCHED_CYCLIC);
    /* Recipes without recommendations leave every setting alone. */
    advc_train_config d = advc_train_defaults(), e = d;
    ck_assert(advc_train_recipe_defaults(&e, NULL, NULL) == ADVC_OK);
    ck_assert(memcmp(&d, &e, sizeof d) == 0);
    advc_recipe_config r = advc_recipe_resolve(ADVC_RECIPE_FAST, &c.rc, 1);
    ck_assert(r.steps == 3 && r.step_size == 2.5f * 0.3f / 3.0f);
    ck_assert(r.iterate == ADVC_ITERATE_LAST);
    ck_assert(r.attack_grad.f == ADVC_ACT_COUNT &&
              r.update_grad.f == ADVC_ACT_COUNT);
}
END_TEST

/* The parameters (malloc'd, *np of them) of cnn-small initialised with
 * seed 3 and trained with c on d. */
static float *trained_params(const advc_train_config *c,
                             const advc_dataset *d, size_t *np)
{
    advc_graph *g = build("cnn-small", c->batch, NULL, 3);
    advc_train_result res;
    ck_assert_msg(advc_train(g, d, c, &res) == ADVC_OK, "%s",
                  advc_last_error());
    const float *q = advc_graph_params(g, np);
    float *p = malloc(*np * sizeof *p);
    memcpy(p, q, *np * sizeof *q);
    advc_graph_free(g);
    return p;
}

/* fast is PGD-3 training on the last iterate (the eps ramp aside, which
 * both take here): the same bits as --recipe pgd --steps 3 --iterate
 * last. */
START_TEST(test_fast_is_pgd3)
{
    advc_dataset d;
    load_sample(true, 100, &d);
    advc_train_config fast = quiet_config(ADVC_RECIPE_FAST, 2, 50);
    advc_train_config pgd = quiet_config(ADVC_RECIPE_PGD, 2, 50);
    fast.eps_ramp = pgd.eps_ramp = 1.5f;
    pgd.rc.steps = 3;
    pgd.rc.iterate = ADVC_ITERATE_LAST;
    size_t n1, n2;
    float *p1 = trained_params(&fast, &d, &n1);
    float *p2 = trained_params(&pgd, &d, &n2);
    ck_assert(n1 == n2 && memcmp(p1, p2, n1 * sizeof *p1) == 0);
    free(p1);
    free(p2);
    advc_dataset_free(&d);
}
END_TEST

/* ---- white-box: gradients and budgets ------------------------------------ */

#define WB_N 6
#define WB_D 64 /* 1x8x8 */

/* conv3x3(4) - BN - silu - flatten - { fc(10): exit0 (w 0.5);
 * fc(12) - silu - fc(10): exit1 (w 1) }: smooth, batch-norm, two exits. */
static advc_graph *smooth_two_exit(void)
{
    advc_shape in = { 1, 8, 8 };
    advc_act_spec silu = { ADVC_ACT_SILU, 0 };
    advc_graph *g = advc_graph_new(in);
    int x = advc_conv2d(g, "c1", advc_graph_input(g), 4, 3, 1, 1, true);
    x = advc_activation(g, advc_batchnorm(g, "bn1", x), silu);
    x = advc_flatten(g, x);
    int e0 = advc_dense(g, "exit0.fc", x, 10, true);
    int h = advc_activation(g, advc_dense(g, "h", x, 12, true), silu);
    int e1 = advc_dense(g, "exit1.fc", h, 10, true);
    advc_graph_add_exit(g, e0, 0.5f);
    advc_graph_add_exit(g, e1, 1.0f);
    ck_assert_msg(advc_graph_compile(g, WB_N, NULL) == ADVC_OK, "%s",
                  advc_last_error());
    advc_graph_init_params(g, 3);
    return g;
}

typedef struct {
    advc_graph *g;
    advc_recipe_config rc;
    recipe_ctx s;
    float x[WB_N * WB_D];
    int y[WB_N], pred[WB_N];
} wb;

static void wb_setup(wb *w, advc_graph *g, advc_recipe r, float eps)
{
    memset(w, 0, sizeof *w);
    w->g = g;
    advc_train_config c = advc_train_defaults();
    c.rc.eps = eps;
    w->rc = advc_recipe_resolve(r, &c.rc, advc_graph_num_exits(g));
    tu_fill(w->x, WB_N * WB_D, 0.0f, 1.0f, 21);
    for (int i = 0; i < WB_N; i++) w->y[i] = (i * 3) % 10;
    recipe_ctx *s = &w->s;
    s->g = g;
    s->rc = &w->rc;
    s->adv_mode = w->rc.adv_mode == ADVC_ADV_MODE_EVAL ? ADVC_MODE_EVAL
                                                       : ADVC_MODE_TRAIN;
    s->seed = 5;
    s->x = w->x;
    s->y = w->y;
    s->n = WB_N;
    s->d = WB_D;
    s->pred = w->pred;
    ck_assert(recipe_ws_alloc(s, r, WB_N) == ADVC_OK);
}

/* sum_e w_e CE_e(z) (+ beta KL(z || za) if za_all != NULL), in double. */
static double exits_loss(advc_graph *g, const int *y, const float *zc_all,
                         const float *za_all, float beta)
{
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    double L = 0;
    for (int e = 0; e < E; e++) {
        float w = advc_graph_exit_weight(g, e);
        const float *zc = zc_all + (size_t)e * WB_N * C;
        L += w * (double)advc_loss_xent(WB_N, C, zc, y, NULL, NULL, 1);
        if (za_all)
            L += w * beta *
                 (double)advc_loss_kl(WB_N, C, zc,
                                      za_all + (size_t)e * WB_N * C, NULL,
                                      NULL, NULL, 1);
    }
    return L;
}

static void copy_logits(advc_graph *g, float *out)
{
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    for (int e = 0; e < E; e++)
        memcpy(out + (size_t)e * WB_N * C, advc_graph_logits(g, e),
               (size_t)WB_N * C * sizeof *out);
}

/* ELLE's loss at the stored points: CE(x') (logits za) + lambda mean_i
 * (CE(x_c) - (1-a) CE(x_a) - a CE(x_b))^2, in double. */
static double elle_loss_at(wb *w, const float *za)
{
    advc_graph *g = w->g;
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    size_t len = (size_t)WB_N * WB_D;
    double ce[3][WB_N] = { { 0 } };
    float tmp[WB_N];
    for (int k = 0; k < 3; k++) {
        advc_graph_forward(g, w->s.pts + k * len, WB_N, ADVC_MODE_TRAIN);
        for (int e = 0; e < E; e++) {
            advc_loss_xent(WB_N, C, advc_graph_logits(g, e), w->y, tmp, NULL,
                           1);
            for (int i = 0; i < WB_N; i++)
                ce[k][i] += advc_graph_exit_weight(g, e) * (double)tmp[i];
        }
    }
    double pen = 0;
    for (int i = 0; i < WB_N; i++) {
        double a = w->s.per[3 * WB_N + i];
        double r = ce[2][i] - (1 - a) * ce[0][i] - a * ce[1][i];
        pen += r * r;
    }
    return exits_loss(g, w->y, za, NULL, 0) + w->rc.lambda * pen / WB_N;
}

/* The recipe's loss as a function of the parameters, x' fixed:
 * trades: CE(x) + beta KL(f(x) || f(x')); fgsm: a CE(x) + (1-a) CE(x');
 * the others: CE(x'). */
static double recipe_loss_at(wb *w, advc_recipe r)
{
    float zc[2 * WB_N * 10], za[2 * WB_N * 10];
    advc_graph_forward(w->g, w->x, WB_N, ADVC_MODE_TRAIN);
    copy_logits(w->g, zc);
    advc_graph_forward(w->g, w->s.xadv, WB_N, ADVC_MODE_TRAIN);
    copy_logits(w->g, za);
    if (r == ADVC_RECIPE_TRADES)
        return exits_loss(w->g, w->y, zc, za, w->rc.beta);
    if (r == ADVC_RECIPE_ELLE) return elle_loss_at(w, za);
    if (r != ADVC_RECIPE_FGSM) return exits_loss(w->g, w->y, za, NULL, 0);
    double a = w->rc.alpha;
    return a * exits_loss(w->g, w->y, zc, NULL, 0) +
           (1 - a) * exits_loss(w->g, w->y, za, NULL, 0);
}

/* Relative error of the recipe's parameter gradient against central
 * differences over 60 coordinates spread across the slab. */
static double fd_param_error(wb *w, advc_recipe r)
{
    size_t np;
    float *p = advc_graph_params(w->g, &np);
    const float *gr = advc_graph_grads(w->g, &np);
    float *an = malloc(np * sizeof *an);
    memcpy(an, gr, np * sizeof *an);
    double num = 0, na = 0, nf = 0, h = 1e-2;
    for (int k = 0; k < 60; k++) {
        size_t i = (size_t)k * np / 60;
        float keep = p[i];
        p[i] = (float)(keep + h);
        double lp = recipe_loss_at(w, r);
        p[i] = (float)(keep - h);
        double lm = recipe_loss_at(w, r);
        p[i] = keep;
        double fd = (lp - lm) / (2 * h);
        num += (fd - an[i]) * (fd - an[i]);
        na += (double)an[i] * an[i];
        nf += fd * fd;
    }
    free(an);
    return sqrt(num) / fmax(sqrt(na), sqrt(nf));
}

START_TEST(test_trades_gradient)
{
    advc_graph *g = smooth_two_exit();
    wb w;
    wb_setup(&w, g, ADVC_RECIPE_TRADES, 0.2f);
    const recipe_def *def = recipe_get(ADVC_RECIPE_TRADES);
    def->make_input(&w.s);
    /* BN statistics must end as after exactly one TRAIN forward of x and
     * one of x' (the repeated clean forward is undone). */
    size_t ns;
    float *st = advc_graph_state(g, &ns);
    float *s0 = malloc(ns * sizeof *s0), *s2 = malloc(ns * sizeof *s2);
    memcpy(s0, st, ns * sizeof *s0);
    advc_graph_forward(g, w.x, WB_N, ADVC_MODE_TRAIN);
    advc_graph_forward(g, w.s.xadv, WB_N, ADVC_MODE_TRAIN);
    memcpy(s2, st, ns * sizeof *s2);
    memcpy(st, s0, ns * sizeof *s0);
    float loss = def->loss(&w.s);
    ck_assert(memcmp(st, s2, ns * sizeof *s2) == 0);
    ck_assert(isfinite(loss) && loss > 0);
    double want = recipe_loss_at(&w, ADVC_RECIPE_TRADES);
    ck_assert_msg(fabs(loss - want) < 1e-4 * fmax(1, want), "%g vs %g",
                  (double)loss, want);
    double err = fd_param_error(&w, ADVC_RECIPE_TRADES);
    ck_assert_msg(err < GC_TOL, "TRADES gradient off by %g", err);
    free(s0), free(s2);
    recipe_ws_free(&w.s);
    advc_graph_free(g);
}
END_TEST

START_TEST(test_fgsm_gradient)
{
    advc_graph *g = smooth_two_exit();
    wb w;
    wb_setup(&w, g, ADVC_RECIPE_FGSM, 0.2f);
    w.rc.alpha = 0.3f;
    const recipe_def *def = recipe_get(ADVC_RECIPE_FGSM);
    def->make_input(&w.s);
    ck_assert(w.s.clean_live);
    float loss = def->loss(&w.s);
    double want = recipe_loss_at(&w, ADVC_RECIPE_FGSM);
    ck_assert_msg(fabs(loss - want) < 1e-4 * fmax(1, want), "%g vs %g",
                  (double)loss, want);
    double err = fd_param_error(&w, ADVC_RECIPE_FGSM);
    ck_assert_msg(err < GC_TOL, "FGSM gradient off by %g", err);
    /* x' = Pi(x + eps sign(grad CE(x))): every pixel moved by eps unless
     * clipped by [0, 1] or the gradient is exactly 0. */
    int moved = 0;
    for (int k = 0; k < WB_N * WB_D; k++)
        moved += fabsf(w.s.xadv[k] - w.x[k]) > 0.19f;
    ck_assert_int_gt(moved, WB_N * WB_D / 2);
    recipe_ws_free(&w.s);
    advc_graph_free(g);
}
END_TEST

/* N-FGSM: x' = clip01(x_0 + eps sign(g)) from x_0 = clip01(x + U(-2 eps,
 * 2 eps)) with no projection (some pixels end farther than eps from x),
 * and the loss's parameter gradient is CE(x')'s. */
START_TEST(test_nfgsm)
{
    advc_graph *g = smooth_two_exit();
    wb w;
    const float eps = 0.1f;
    wb_setup(&w, g, ADVC_RECIPE_N_FGSM, eps);
    ck_assert(w.rc.noise == 2.0f && w.rc.step_size == eps);
    const recipe_def *def = recipe_get(ADVC_RECIPE_N_FGSM);
    def->make_input(&w.s);
    int beyond = 0, step = 0;
    for (int k = 0; k < WB_N * WB_D; k++) {
        float x0 = w.s.start[k], v = w.s.xadv[k], x = w.x[k];
        ck_assert(fabsf(x0 - x) <= 2 * eps + 1e-6f && x0 >= 0 && x0 <= 1);
        ck_assert(v >= 0 && v <= 1 && fabsf(v - x) <= 3 * eps + 1e-6f);
        beyond += fabsf(v - x) > eps + 1e-6f;
        /* one step of exactly eps from x_0, unless the box clips it */
        step += fabsf(fabsf(v - x0) - eps) < 1e-6f || v == 0 || v == 1;
    }
    ck_assert_int_gt(beyond, WB_N * WB_D / 4);
    ck_assert_int_eq(step, WB_N * WB_D);
    float loss = def->loss(&w.s);
    double want = recipe_loss_at(&w, ADVC_RECIPE_N_FGSM);
    ck_assert_msg(fabs(loss - want) < 1e-4 * fmax(1, want), "%g vs %g",
                  (double)loss, want);
    double err = fd_param_error(&w, ADVC_RECIPE_N_FGSM);
    ck_assert_msg(err < GC_TOL, "N-FGSM gradient off by %g", err);
    recipe_ws_free(&w.s);
    advc_graph_free(g);
}
END_TEST

/* ELLE: the triplet is two points of the ball and one between them, the
 * loss is CE(x') plus lambda times the mean squared linearity error, its
 * parameter gradient is that loss's, and batch-norm statistics see only
 * the training input. */
START_TEST(test_elle)
{
    advc_graph *g = smooth_two_exit();
    wb w;
    const float eps = 0.1f;
    wb_setup(&w, g, ADVC_RECIPE_ELLE, eps);
    w.rc.lambda = 5.0f; /* large enough that the penalty's gradient shows */
    const recipe_def *def = recipe_get(ADVC_RECIPE_ELLE);
    def->make_input(&w.s);
    size_t len = (size_t)WB_N * WB_D;
    const float *xa = w.s.pts, *xb = w.s.pts + len, *xc = w.s.pts + 2 * len;
    for (int i = 0; i < WB_N; i++) {
        float a = w.s.per[3 * WB_N + i];
        ck_assert(a >= 0 && a < 1);
        for (int k = i * WB_D; k < (i + 1) * WB_D; k++) {
            ck_assert(fabsf(xa[k] - w.x[k]) <= eps + 1e-6f);
            ck_assert(fabsf(xb[k] - w.x[k]) <= eps + 1e-6f);
            ck_assert(fabsf(xc[k] - ((1 - a) * xa[k] + a * xb[k])) < 1e-6f);
            ck_assert(fabsf(w.s.xadv[k] - w.x[k]) <= eps + 1e-6f);
        }
    }
    size_t ns;
    float *st = advc_graph_state(g, &ns);
    float *s0 = malloc(ns * sizeof *s0), *s1 = malloc(ns * sizeof *s1);
    memcpy(s0, st, ns * sizeof *s0);
    advc_graph_forward(g, w.s.xadv, WB_N, ADVC_MODE_TRAIN);
    memcpy(s1, st, ns * sizeof *s1);
    memcpy(st, s0, ns * sizeof *s0);
    float loss = def->loss(&w.s);
    ck_assert(memcmp(st, s1, ns * sizeof *s1) == 0);
    double want = recipe_loss_at(&w, ADVC_RECIPE_ELLE);
    ck_assert_msg(fabs(loss - want) < 1e-4 * fmax(1, want), "%g vs %g",
                  (double)loss, want);
    double err = fd_param_error(&w, ADVC_RECIPE_ELLE);
    ck_assert_msg(err < GC_TOL, "ELLE gradient off by %g", err);
    free(s0), free(s1);
    recipe_ws_free(&w.s);
    advc_graph_free(g);
}
END_TEST

/* --eps-ramp: linear from one step's worth to 1 at the ramp's end, then
 * flat; no ramp is 1. */
START_TEST(test_eps_ramp)
{
    ck_assert(train_ramp_factor(0.0, 100, 0.0f) == 1.0f);
    ck_assert(fabsf(train_ramp_factor(0.0, 100, 2.0f) - 0.005f) < 1e-7f);
    ck_assert(fabsf(train_ramp_factor(0.99, 100, 2.0f) - 0.5f) < 1e-6f);
    ck_assert(train_ramp_factor(1.99, 100, 2.0f) == 1.0f);
    ck_assert(train_ramp_factor(7.5, 100, 2.0f) == 1.0f);
    for (double t = 0; t < 3; t += 0.01)
        ck_assert(train_ramp_factor(t, 100, 2.0f) <=
                  train_ramp_factor(t + 0.01, 100, 2.0f));
}
END_TEST

/* Every recipe's training input is inside the eps-ball and [0, 1]. */
START_TEST(test_budgets)
{
    advc_graph *g = smooth_two_exit();
    const float eps = 0.15f;
    for (int r = 1; r < ADVC_RECIPE_COUNT; r++) {
        wb w;
        wb_setup(&w, g, (advc_recipe)r, eps);
        const recipe_def *def = recipe_get((advc_recipe)r);
        /* N-FGSM does not project: noise of 2 eps plus a step of eps. */
        float bound = r == ADVC_RECIPE_N_FGSM ? (w.rc.noise + 1) * eps : eps;
        for (int rep = 0; rep < 3; rep++) {
            w.s.replay = rep;
            def->make_input(&w.s);
            for (int k = 0; k < WB_N * WB_D; k++) {
                float v = w.s.xadv[k];
                ck_assert_msg(v >= 0 && v <= 1, "%s: pixel %g",
                              advc_recipe_name((advc_recipe)r), (double)v);
                ck_assert_msg(fabsf(v - w.x[k]) <= bound + 1e-6f,
                              "%s: |delta| %g", advc_recipe_name(
                                  (advc_recipe)r), (double)fabsf(v - w.x[k]));
            }
            float l = def->loss(&w.s);
            ck_assert(isfinite(l));
            w.s.batch_index++;
        }
        if (r == ADVC_RECIPE_FREE) {
            /* delta is carried over: it is not zero after the replays. */
            double s = 0;
            for (int k = 0; k < WB_N * WB_D; k++) s += fabsf(w.s.delta[k]);
            ck_assert(s > 0);
        }
        recipe_ws_free(&w.s);
    }
    advc_graph_free(g);
}
END_TEST

/* sum_e w_e CE_e at the rows x, per sample, eval mode. */
static void per_sample_loss(advc_graph *g, const float *x, const int *y,
                            float *per)
{
    advc_graph_forward(g, x, WB_N, ADVC_MODE_EVAL);
    float tmp[WB_N];
    memset(per, 0, WB_N * sizeof *per);
    for (int e = 0; e < advc_graph_num_exits(g); e++) {
        advc_loss_xent(WB_N, 10, advc_graph_logits(g, e), y, tmp, NULL, 1);
        for (int i = 0; i < WB_N; i++)
            per[i] += advc_graph_exit_weight(g, e) * tmp[i];
    }
}

/* PGD's kept point has at least the loss of its start (x_0 is one of the
 * candidates), stays in the ball, and more steps never lower the loss. */
START_TEST(test_pgd_max_loss)
{
    advc_graph *g = smooth_two_exit();
    wb w;
    wb_setup(&w, g, ADVC_RECIPE_PGD, 0.2f);
    w.s.adv_mode = ADVC_MODE_EVAL; /* losses comparable across calls */
    const recipe_def *def = recipe_get(ADVC_RECIPE_PGD);
    float kept[WB_N], start[WB_N], one[WB_N];
    w.rc.steps = 1;
    def->make_input(&w.s);
    per_sample_loss(g, w.s.xadv, w.y, one);
    w.rc.steps = 7;
    def->make_input(&w.s); /* the same start: one stream per batch */
    per_sample_loss(g, w.s.xadv, w.y, kept);
    per_sample_loss(g, w.s.start, w.y, start);
    for (int i = 0; i < WB_N; i++) {
        ck_assert_msg(kept[i] >= start[i] - 1e-6f, "%g < start %g",
                      (double)kept[i], (double)start[i]);
        ck_assert_msg(kept[i] >= one[i] - 1e-6f, "PGD-7 %g < PGD-1 %g",
                      (double)kept[i], (double)one[i]);
    }
    for (int k = 0; k < WB_N * WB_D; k++)
        ck_assert(fabsf(w.s.xadv[k] - w.x[k]) <= 0.2f + 1e-6f &&
                  w.s.xadv[k] >= 0.0f && w.s.xadv[k] <= 1.0f);
    recipe_ws_free(&w.s);
    advc_graph_free(g);
}
END_TEST

/* --iterate last: the recipe trains on x_k itself, k projected sign steps
 * of the batch-mean loss's gradient from the recipe's start (redone here
 * by hand), and not on the highest-loss iterate that max keeps. */
START_TEST(test_pgd_last_iterate)
{
    advc_graph *g = smooth_two_exit();
    wb w;
    wb_setup(&w, g, ADVC_RECIPE_PGD, 0.2f);
    w.s.adv_mode = ADVC_MODE_EVAL;
    w.rc.steps = 4;
    w.rc.step_size = 0.4f; /* twice eps: x_k jumps corner to corner */
    const recipe_def *def = recipe_get(ADVC_RECIPE_PGD);
    def->make_input(&w.s); /* max */
    float maxed[WB_N * WB_D], cur[WB_N * WB_D];
    memcpy(maxed, w.s.xadv, sizeof maxed);
    recipe_ws_free(&w.s);
    w.rc.iterate = ADVC_ITERATE_LAST;
    ck_assert(recipe_ws_alloc(&w.s, ADVC_RECIPE_PGD, WB_N) == ADVC_OK);
    w.s.adv_mode = ADVC_MODE_EVAL;
    def->make_input(&w.s);
    memcpy(cur, w.s.start, sizeof cur);
    for (int t = 0; t < w.rc.steps; t++) {
        advc_graph_forward(g, cur, WB_N, ADVC_MODE_EVAL);
        recipe_xent_grad(&w.s, 1.0f);
        advc_graph_backward(g, ADVC_PASS_ATTACK);
        const float *gx = advc_graph_input_grad(g);
        for (int i = 0; i < WB_N; i++)
            advc_sign_step_proj(WB_D, cur + i * WB_D, gx + i * WB_D,
                                w.x + i * WB_D, 0.4f, 0.2f, 0.0f, 1.0f);
    }
    ck_assert(memcmp(cur, w.s.xadv, sizeof cur) == 0);
    ck_assert(memcmp(maxed, w.s.xadv, sizeof cur) != 0);
    recipe_ws_free(&w.s);
    advc_graph_free(g);
}
END_TEST

/* ---- training runs ------------------------------------------------------- */

/* Loss of the first epoch against the loss of the third (first call: one
 * epoch; second call: two more from there). */
static void trains(const char *spec, advc_recipe r, const advc_dataset *d,
                   advc_pool *pool)
{
    advc_graph *g = build(spec, 50, pool, 7);
    advc_train_config c = quiet_config(r, 1, 50);
    if (tu_quick()) c.rc.steps = 3; /* pgd, trades */
    advc_train_result r1, r2;
    advc_status st = advc_train(g, d, &c, &r1);
    ck_assert_msg(st == ADVC_OK, "%s: %s", advc_recipe_name(r),
                  advc_last_error());
    c.epochs = 2;
    c.seed = 2;
    st = advc_train(g, d, &c, &r2);
    ck_assert_msg(st == ADVC_OK, "%s: %s", advc_recipe_name(r),
                  advc_last_error());
    size_t np;
    const float *p = advc_graph_params(g, &np);
    ck_assert(tu_all_finite(p, np));
    ck_assert_msg(isfinite(r1.loss) && isfinite(r2.loss) &&
                      r2.loss < r1.loss,
                  "%s on %s: loss %g -> %g", advc_recipe_name(r), spec,
                  (double)r1.loss, (double)r2.loss);
    advc_graph_free(g);
}

/* Every recipe trains (the loop index is the recipe; one forked test
 * each): cnn-small, or a tiny MSDNet for me-fgsm; free has its own test
 * below. */
START_TEST(test_recipes_train)
{
    advc_recipe r = (advc_recipe)_i;
    if (r == ADVC_RECIPE_FREE) return;
    advc_dataset d;
    load_sample(true, tu_quick() ? 150 : 400, &d);
    advc_pool *pool = advc_pool_create(2);
    trains(r == ADVC_RECIPE_ME_FGSM ? TINY_MSD : "cnn-small", r, &d, pool);
    advc_pool_destroy(pool);
    advc_dataset_free(&d);
}
END_TEST

/* Free: ceil(epochs / m) epochs of m updates per batch. */
START_TEST(test_free_epochs)
{
    advc_dataset d;
    load_sample(true, 200, &d);
    advc_graph *g = build("cnn-small", 50, NULL, 7);
    advc_train_config c = quiet_config(ADVC_RECIPE_FREE, 5, 50);
    c.rc.replays = 4;
    advc_train_result res;
    ck_assert(advc_train(g, &d, &c, &res) == ADVC_OK);
    ck_assert_int_eq(res.epochs_done, 2);
    ck_assert_int_eq(res.steps, 2 * 4 * 4);
    ck_assert(isfinite(res.loss));
    /* And the loss falls over a longer run. */
    float first = res.loss;
    c.epochs = 8;
    ck_assert(advc_train(g, &d, &c, &res) == ADVC_OK);
    ck_assert_msg(res.loss < first, "%g -> %g", (double)first,
                  (double)res.loss);
    advc_graph_free(g);
    advc_dataset_free(&d);
}
END_TEST

static double tensor_norm(advc_graph *g, const char *name)
{
    int t = advc_graph_find_tensor(g, name);
    ck_assert_msg(t >= 0, "no tensor %s", name);
    const advc_tensor_info *ti = advc_graph_tensor(g, t);
    size_t np;
    const float *p = advc_graph_params(g, &np) + ti->offset;
    double s = 0;
    for (size_t i = 0; i < ti->count; i++) s += (double)p[i] * p[i];
    return sqrt(s);
}

START_TEST(test_exit_l2)
{
    advc_dataset d;
    load_sample(true, 100, &d);
    double norm[2][2];
    for (int k = 0; k < 2; k++) {
        advc_graph *g = build(TINY_MSD, 50, NULL, 3);
        advc_train_config c = quiet_config(ADVC_RECIPE_ME_FGSM, 2, 50);
        /* SGD: the decay shows after a few steps (Adam rescales it). */
        c.opt = advc_opt_defaults(ADVC_OPT_SGD);
        advc_schedule_parse("constant", 0.05f, &c.sched);
        c.rc.n_exit_l2 = 2;
        c.rc.exit_l2[0] = c.rc.exit_l2[1] = k ? 1.0f : 0.0f;
        advc_train_result res;
        ck_assert_msg(advc_train(g, &d, &c, &res) == ADVC_OK, "%s",
                      advc_last_error());
        norm[k][0] = tensor_norm(g, "exit0.fc.w");
        norm[k][1] = tensor_norm(g, "exit1.fc.w");
        advc_graph_free(g);
    }
    for (int e = 0; e < 2; e++)
        ck_assert_msg(norm[1][e] < 0.9 * norm[0][e],
                      "exit%d: |W| %g with L2, %g without", e, norm[1][e],
                      norm[0][e]);
    advc_dataset_free(&d);
}
END_TEST

/* The key test. */
START_TEST(test_fgsm_rs_beats_std)
{
    bool q = tu_quick();
    int ntrain = q ? 400 : 1000, ntest = q ? 200 : 500, epochs = 5;
    advc_dataset tr, te;
    load_sample(true, ntrain, &tr);
    load_sample(false, ntest, &te);
    advc_pool *pool = advc_pool_create(2);
    float acc[2], clean[2];
    for (int k = 0; k < 2; k++) {
        advc_graph *g = build("cnn-small", 50, pool, 1);
        advc_train_config c = quiet_config(
            k ? ADVC_RECIPE_FGSM_RS : ADVC_RECIPE_STD, epochs, 50);
        c.rc.eps = 0.1f;
        advc_train_result res;
        ck_assert_msg(advc_train(g, &tr, &c, &res) == ADVC_OK, "%s",
                      advc_last_error());
        advc_attack_config a = advc_attack_defaults(ADVC_ATK_PGD);
        a.eps = 0.1f;
        a.steps = q ? 10 : 20;
        a.seed = 5;
        advc_robust_report rep;
        ck_assert(advc_eval_robust(g, &te, 0, &a, 1, &rep) == ADVC_OK);
        clean[k] = rep.clean_acc[0];
        acc[k] = rep.robust_acc[0][0];
        advc_graph_free(g);
    }
    printf("recipes: %d images x %d epochs, cnn-small, seed 1: PGD-%d at "
           "eps 0.1 on %d test images: std %.1f%% (clean %.1f%%), fgsm-rs "
           "%.1f%% (clean %.1f%%)\n", ntrain, epochs, q ? 10 : 20, ntest,
           100.0 * acc[0], 100.0 * clean[0], 100.0 * acc[1],
           100.0 * clean[1]);
    ck_assert_msg(acc[1] > acc[0] + 0.10f,
                  "fgsm-rs PGD accuracy %.3f, std %.3f", (double)acc[1],
                  (double)acc[0]);
    advc_pool_destroy(pool);
    advc_dataset_free(&tr);
    advc_dataset_free(&te);
}
END_TEST

/* ---- the guard ----------------------------------------------------------- */

typedef struct {
    int at;       /* epoch after which the model collapses */
} collapse;

static void force_collapse(advc_graph *g, int epoch, void *ctx)
{
    const collapse *c = ctx;
    if (epoch == c->at) advc_graph_init_params(g, 999); /* ~10% accuracy */
}


static void guard_run(bool warn)
{
    advc_dataset d;
    load_sample(true, tu_quick() ? 300 : 1000, &d);
    advc_graph *g = build("cnn-small", 50, NULL, 1);
    advc_train_config c = quiet_config(ADVC_RECIPE_FGSM_RS, 4, 50);
    collapse col = { 3 };
    tu_tmpdir td; /* testutil.h */
    tu_tmpdir_make(&td, "recipes");
    char out[TU_PATH_MAX], best[TU_PATH_MAX], logp[TU_PATH_MAX];
    strcpy(out, tu_tmpdir_path(&td, "m.advc"));
    strcpy(logp, tu_tmpdir_path(&td, "m.csv"));
    advc_train_best_path(out, best, sizeof best);
    c.rc.eps = 0.02f; /* small: PGD accuracy close to clean accuracy */
    c.guard.count = 100;
    c.guard.steps = 5;
    c.guard.co_warn = warn;
    c.hook = force_collapse;
    c.hook_ctx = &col;
    c.out_path = out;
    c.log_path = logp;
    c.spec = "cnn-small";
    advc_train_result res;
    ck_assert_msg(advc_train(g, &d, &c, &res) == ADVC_OK, "%s",
                  advc_last_error());
    printf("recipes: guard (%s): best epoch %d, held-out PGD %.0f%%, "
           "collapse at epoch %d: %.0f%%\n", warn ? "warn" : "stop",
           res.best.epoch, 100.0 * res.best.pgd, res.co.epoch,
           100.0 * res.co.pgd);
    ck_assert_int_eq(res.guard_n, 100);
    /* The best epoch is never the collapsed one.  When stopped it is one
     * of the two before; when only warned, the re-initialised model may
     * relearn in epoch 4 and beat them, which is fine. */
    ck_assert_msg(res.best.epoch >= 1 && res.best.epoch != 3 &&
                      (warn || res.best.epoch <= 2) && res.best.pgd > 0.4f,
                  "best epoch %d pgd %g", res.best.epoch,
                  (double)res.best.pgd);
    ck_assert_int_eq(res.co.epoch, 3);
    ck_assert(res.co.pgd < res.best.pgd - 0.2f);
    ck_assert(res.stopped == !warn);
    ck_assert_int_eq(res.epochs_done, warn ? 4 : 3);
    ck_assert_int_eq(res.last.epoch, warn ? 4 : 2);
    /* The best checkpoint loads and says which epoch it is. */
    advc_graph *b = NULL;
    advc_checkpoint ck;
    ck_assert_msg(advc_model_load(best, 50, NULL, &b, &ck) == ADVC_OK, "%s",
                  advc_last_error());
    char v[64];
    ck_assert(advc_meta_get(ck.meta, "epoch", v, sizeof v));
    ck_assert_int_eq(atoi(v), res.best.epoch);
    ck_assert(advc_meta_get(ck.meta, "recipe", v, sizeof v));
    ck_assert_str_eq(v, "fgsm-rs");
    ck_assert(advc_meta_get(ck.meta, "guard_pgd_acc", v, sizeof v));
    ck_assert(fabs(atof(v) - res.best.pgd) < 1e-3);
    /* Its held-out accuracy is the best one, far above the collapse. */
    float acc;
    advc_dataset hold;
    ck_assert(advc_dataset_slice(&d, d.n - 100, d.n, &hold) == ADVC_OK);
    ck_assert(advc_eval_clean(b, &hold, 0, &acc, NULL) == ADVC_OK);
    ck_assert(fabsf(acc - res.best.clean) < 1e-6f);
    advc_checkpoint_free(&ck);
    advc_graph_free(b);
    /* The last checkpoint: the epoch before the collapse when stopped. */
    ck_assert(advc_model_load(out, 50, NULL, &b, &ck) == ADVC_OK);
    ck_assert(advc_meta_get(ck.meta, "epoch", v, sizeof v));
    ck_assert_int_eq(atoi(v), warn ? 4 : 2);
    advc_checkpoint_free(&ck);
    advc_graph_free(b);
    /* One CSV line per epoch run, with the guard columns filled. */
    FILE *f = fopen(logp, "r");
    ck_assert(f != NULL);
    char line[512];
    int lines = 0;
    ck_assert(fgets(line, sizeof line, f) != NULL);
    ck_assert_str_eq(line, "epoch,lr,loss,train_acc,val_acc,clean_acc,"
                           "fgsm_acc,pgd_acc,seconds\n");
    while (fgets(line, sizeof line, f)) {
        lines++;
        ck_assert(strstr(line, ",,,") == NULL);
    }
    fclose(f);
    ck_assert_int_eq(lines, warn ? 4 : 3);
    tu_tmpdir_remove(&td);
    advc_graph_free(g);
    advc_dataset_free(&hold);
    advc_dataset_free(&d);
}

START_TEST(test_guard_stops) { guard_run(false); }
END_TEST

START_TEST(test_guard_warns) { guard_run(true); }
END_TEST

/* ---- determinism, SAT rules ---------------------------------------------- */

START_TEST(test_determinism)
{
    advc_dataset d;
    load_sample(true, 200, &d);
    const advc_recipe rs[] = { ADVC_RECIPE_FGSM_RS, ADVC_RECIPE_TRADES };
    for (size_t k = 0; k < sizeof rs / sizeof *rs; k++) {
        float *p[2];
        size_t np = 0;
        for (int run = 0; run < 2; run++) {
            advc_pool *pool = advc_pool_create(2);
            advc_graph *g = build("mlp:hidden=32,dropout=0.2", 50, pool, 4);
            advc_train_config c = quiet_config(rs[k], 1, 50);
            c.rc.steps = 2;
            c.guard.count = 20;
            c.guard.steps = 2;
            advc_train_result res;
            ck_assert(advc_train(g, &d, &c, &res) == ADVC_OK);
            const float *q = advc_graph_params(g, &np);
            p[run] = malloc(np * sizeof *p[run]);
            memcpy(p[run], q, np * sizeof *q);
            advc_graph_free(g);
            advc_pool_destroy(pool);
        }
        ck_assert_msg(memcmp(p[0], p[1], np * sizeof *p[0]) == 0,
                      "%s: runs differ", advc_recipe_name(rs[k]));
        free(p[0]), free(p[1]);
    }
    advc_dataset_free(&d);
}
END_TEST

/* A backward rule changes training but is gone when advc_train returns. */
START_TEST(test_sat_rules)
{
    advc_dataset d;
    load_sample(true, 100, &d);
    float *p[3];
    size_t np = 0;
    for (int k = 0; k < 3; k++) {
        advc_graph *g = build("cnn-small", 50, NULL, 4);
        advc_train_config c = quiet_config(ADVC_RECIPE_FGSM_RS, 1, 50);
        advc_act_spec ps = { ADVC_ACT_PSOFTPLUS, 10.0f };
        if (k == 1) c.rc.attack_grad = ps;
        if (k == 2) c.rc.update_grad = ps;
        advc_train_result res;
        ck_assert(advc_train(g, &d, &c, &res) == ADVC_OK);
        const float *q = advc_graph_params(g, &np);
        p[k] = malloc(np * sizeof *p[k]);
        memcpy(p[k], q, np * sizeof *q);
        if (k > 0) {
            /* The graph's passes are back to ReLU's own derivative. */
            float g1[50 * 784];
            int y[50];
            for (int i = 0; i < 50; i++) y[i] = d.y[i];
            advc_pass pass = k == 1 ? ADVC_PASS_ATTACK : ADVC_PASS_UPDATE;
            for (int t = 0; t < 2; t++) {
                if (t == 1)
                    advc_graph_set_backward_act(g, pass, ADVC_ACT_COUNT,
                                                NO_RULE);
                advc_graph_forward(g, d.x, 50, ADVC_MODE_EVAL);
                float *dz = advc_graph_dlogits(g, 0);
                memset(dz, 0, 50 * 10 * sizeof *dz);
                advc_loss_xent(50, 10, advc_graph_logits(g, 0), y, NULL, dz,
                               1.0f / 50);
                advc_graph_zero_grads(g);
                advc_graph_backward(g, pass);
                const float *ig = advc_graph_input_grad(g);
                if (t == 0) memcpy(g1, ig, sizeof g1);
                else ck_assert(memcmp(g1, ig, sizeof g1) == 0);
            }
        }
        advc_graph_free(g);
    }
    ck_assert(memcmp(p[0], p[1], np * sizeof *p[0]) != 0);
    ck_assert(memcmp(p[0], p[2], np * sizeof *p[0]) != 0);
    for (int k = 0; k < 3; k++) free(p[k]);
    advc_dataset_free(&d);
}
END_TEST

Suite *advc_suite_recipes(void)
{
    Suite *s = suite_create("recipes");
    TCase *t = tcase_create("args");
    tcase_add_test(t, test_names_and_paths);
    tcase_add_test(t, test_parsers);
    tcase_add_test(t, test_check_errors);
    tcase_add_test(t, test_defaults);
    tcase_add_test(t, test_fast_defaults);
    suite_add_tcase(s, t);
    t = tcase_create("steps");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_trades_gradient);
    tcase_add_test(t, test_fgsm_gradient);
    tcase_add_test(t, test_nfgsm);
    tcase_add_test(t, test_elle);
    tcase_add_test(t, test_eps_ramp);
    tcase_add_test(t, test_budgets);
    tcase_add_test(t, test_pgd_max_loss);
    tcase_add_test(t, test_pgd_last_iterate);
    suite_add_tcase(s, t);
    return s;
}

/* The training runs, a suite of their own so that `advc-tests -j` runs
 * them beside the rest; one case each so each gets its own timeout
 * (qemu-aarch64 runs them 20-50x slower than native). */
Suite *advc_suite_recipes_train(void)
{
    Suite *s = suite_create("recipes_train");
    TCase *t = tcase_create("train");
    tcase_set_timeout(t, 600);
    tcase_add_loop_test(t, test_recipes_train, 0, ADVC_RECIPE_COUNT);
    tcase_add_test(t, test_free_epochs);
    suite_add_tcase(s, t);
    return s;
}

/* The other training runs: what the recipes achieve, the guard, the
 * bits; another suite for `advc-tests -j`. */
Suite *advc_suite_recipes_runs(void)
{
    Suite *s = suite_create("recipes_runs");
    struct {
        const char *name;
        const TTest *test;
    } runs[] = {
        { "exit-l2", test_exit_l2 },     { "key", test_fgsm_rs_beats_std },
        { "guard-stop", test_guard_stops },
        { "guard-warn", test_guard_warns },
        { "determinism", test_determinism }, { "sat", test_sat_rules },
        { "fast", test_fast_is_pgd3 },
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        TCase *t = tcase_create(runs[i].name);
        tcase_set_timeout(t, 600);
        tcase_add_test(t, runs[i].test);
        suite_add_tcase(s, t);
    }
    return s;
}
