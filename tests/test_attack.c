/* test_attack.c: the attacks of advc/attack.h.  Every attack on random
 * models (one exit and two, with and without batch norm) must stay inside
 * the budget and the pixel range and leave parameters, gradients and
 * batch-norm statistics bit-identical; runs are reproducible from the seed
 * and early_stop never changes a result.  On small models trained here on
 * the committed MNIST sample the attacks must also be strong in the
 * expected order (PGD >= FGSM, APGD >= PGD, more restarts never worse,
 * noise weaker than PGD, accuracy ~0 at eps = 1).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "advc/attack.h"
#include "advc/data.h"
#include "advc/loss.h"
#include "advc/models.h"
#include "advc/optim.h"

#ifdef ADVC_SOURCE_DIR
#define DATA_DIR ADVC_SOURCE_DIR "/data/"
#else
#define DATA_DIR "data/"
#endif

#define D 784        /* 1x28x28 */
#define NT 64        /* test samples attacked on the trained models */
#define TRAIN_B 50   /* training batch                                 */
#define GRAPH_B 100  /* compiled batch of the trained models (> NT)    */

static const advc_act_spec RELU = {ADVC_ACT_RELU, 0.0f};

/* ---- helpers ------------------------------------------------------------ */

static advc_graph *build_on(const char *spec, int batch, uint64_t seed,
                            advc_pool *pool)
{
    advc_graph *g = NULL;
    advc_shape in = {1, 28, 28};
    advc_status st = advc_model_build(spec, in, 10, RELU, &g);
    ck_assert_msg(st == ADVC_OK, "build %s: %s", spec, advc_last_error());
    st = advc_graph_compile(g, batch, pool);
    ck_assert_msg(st == ADVC_OK, "compile %s: %s", spec, advc_last_error());
    advc_graph_init_params(g, seed);
    return g;
}

static advc_graph *build(const char *spec, int batch, uint64_t seed)
{
    return build_on(spec, batch, seed, NULL);
}

/* flatten - fc1(32) - relu - [exit0] - fc2(32) - relu - exit1: the
 * smallest multi-exit model, quick to train. */
static advc_graph *build_two_exit(int batch, uint64_t seed,
                                  advc_pool *pool)
{
    advc_shape in = {1, 28, 28};
    advc_graph *g = advc_graph_new(in);
    int x = advc_flatten(g, advc_graph_input(g));
    int h1 = advc_activation(g, advc_dense(g, "fc1", x, 32, true), RELU);
    int e0 = advc_dense(g, "exit0", h1, 10, true);
    int h2 = advc_activation(g, advc_dense(g, "fc2", h1, 32, true), RELU);
    int e1 = advc_dense(g, "exit1", h2, 10, true);
    advc_graph_add_exit(g, e0, 1.0f);
    advc_graph_add_exit(g, e1, 1.0f);
    advc_status st = advc_graph_compile(g, batch, pool);
    ck_assert_msg(st == ADVC_OK, "compile two-exit: %s", advc_last_error());
    advc_graph_init_params(g, seed);
    return g;
}

/* Random images in [0, 1] with some pixels exactly at 0 and 1 (the box
 * edges), random labels. */
static void random_batch(float *x, int *y, int n, uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 11);
    for (size_t k = 0; k < (size_t)n * D; k++) {
        uint32_t u = advc_rng_below(&r, 8);
        x[k] = u == 0 ? 0.0f : (u == 1 ? 1.0f : advc_rng_uniform(&r));
    }
    for (int i = 0; i < n; i++) y[i] = (int)advc_rng_below(&r, 10);
}

static advc_attack_config make_cfg(advc_attack_kind k, float eps, int steps)
{
    advc_attack_config c = advc_attack_defaults(k);
    c.eps = eps;
    if (k != ADVC_ATK_FGSM && k != ADVC_ATK_NOISE) c.steps = steps;
    return c;
}

static void run(advc_graph *g, const advc_attack_config *c, const float *x,
                const int *y, int n, float *xa)
{
    advc_status st = advc_attack_run(g, c, x, y, n, xa);
    ck_assert_msg(st == ADVC_OK, "attack %s: %s (%s)",
                  advc_attack_name(c->kind), advc_status_name(st),
                  advc_last_error());
}

/* Every pixel in [lo, hi] and within eps of x (L-inf), or every sample
 * within eps (L2), up to float rounding of the last operation. */
static void check_ball(const float *x, const float *xa, int n, float eps,
                       bool l2, const char *what)
{
    for (int i = 0; i < n; i++) {
        double ss = 0.0, mx = 0.0;
        for (int k = 0; k < D; k++) {
            float v = xa[(size_t)i * D + k], x0 = x[(size_t)i * D + k];
            ck_assert_msg(v >= 0.0f && v <= 1.0f,
                          "%s: sample %d pixel %d = %g outside [0, 1]", what,
                          i, k, (double)v);
            double t = fabs((double)v - x0);
            ss += t * t;
            if (t > mx) mx = t;
        }
        if (l2)
            ck_assert_msg(sqrt(ss) <= eps * (1.0 + 1e-5) + 1e-6,
                          "%s: sample %d |delta|_2 = %.9g > eps %g", what, i,
                          sqrt(ss), (double)eps);
        else
            ck_assert_msg(mx <= eps + 1e-6,
                          "%s: sample %d |delta|_inf = %.9g > eps %g", what,
                          i, mx, (double)eps);
    }
}

/* Per-sample cross-entropy and prediction of exit e at xa. */
static void outcome(advc_graph *g, const float *xa, const int *y, int n,
                    int e, float *ce, int *pred)
{
    advc_graph_forward(g, xa, n, ADVC_MODE_EVAL);
    const float *z = advc_graph_logits(g, e);
    if (ce) advc_loss_xent(n, advc_graph_classes(g), z, y, ce, NULL, 0.0f);
    if (pred) advc_argmax_rows(n, advc_graph_classes(g), z, pred);
}

static float accuracy_exit(advc_graph *g, const float *xa, const int *y,
                           int n, int e)
{
    int pred[NT];
    ck_assert_int_le(n, NT);
    outcome(g, xa, y, n, e, NULL, pred);
    int ok = 0;
    for (int i = 0; i < n; i++) ok += pred[i] == y[i];
    return (float)ok / (float)n;
}

static float accuracy(advc_graph *g, const float *xa, const int *y, int n)
{
    return accuracy_exit(g, xa, y, n, advc_graph_num_exits(g) - 1);
}

static float mean_ce(advc_graph *g, const float *xa, const int *y, int n)
{
    float ce[NT];
    outcome(g, xa, y, n, advc_graph_num_exits(g) - 1, ce, NULL);
    double s = 0.0;
    for (int i = 0; i < n; i++) s += ce[i];
    return (float)(s / n);
}

/* ---- trained models (built once, in the parent process) ----------------- */

/* They run on a pool of two threads: early stopping changes the batch
 * the graph sees, and results must not depend on how it is split. */
static advc_pool *pool2;
static advc_graph *mlp;  /* mlp:hidden=32, trained                   */
static advc_graph *two;  /* the two-exit model, trained                */
static float *tx;        /* (NT, D) test images                       */
static int ty[NT];

/* Adam on the sum of the exits' cross-entropies, `steps` batches of
 * TRAIN_B taken in order (with wrap) from the training sample. */
static void train(advc_graph *g, const advc_dataset *ds, int steps)
{
    advc_opt_config oc = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_optimizer *o = advc_optimizer_new(g, &oc);
    ck_assert_ptr_nonnull(o);
    float *xb = malloc((size_t)TRAIN_B * D * sizeof *xb);
    int yb[TRAIN_B];
    ck_assert_ptr_nonnull(xb);
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    for (int s = 0; s < steps; s++) {
        for (int j = 0; j < TRAIN_B; j++) {
            int i = (s * TRAIN_B + j) % ds->n;
            memcpy(xb + (size_t)j * D, ds->x + (size_t)i * D, D * sizeof *xb);
            yb[j] = ds->y[i];
        }
        advc_graph_zero_grads(g);
        advc_graph_forward(g, xb, TRAIN_B, ADVC_MODE_TRAIN);
        for (int e = 0; e < E; e++) {
            float *dz = advc_graph_dlogits(g, e);
            memset(dz, 0, (size_t)TRAIN_B * C * sizeof *dz);
            advc_loss_xent(TRAIN_B, C, advc_graph_logits(g, e), yb, NULL, dz,
                           1.0f / TRAIN_B);
        }
        advc_graph_backward(g, ADVC_PASS_UPDATE);
        advc_optimizer_step(o, 3e-3f);
    }
    advc_optimizer_free(o);
    free(xb);
}

static void trained_setup(void)
{
    advc_dataset tr, te;
    advc_status st = advc_dataset_load_dir(DATA_DIR "mnist-sample", true, &tr);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    st = advc_dataset_load_dir(DATA_DIR "mnist-sample", false, &te);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    ck_assert_int_ge(te.n, NT);

    pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    mlp = build_on("mlp:hidden=32", GRAPH_B, 1, pool2);
    train(mlp, &tr, 100);
    two = build_two_exit(GRAPH_B, 2, pool2);
    train(two, &tr, 100);

    tx = malloc((size_t)NT * D * sizeof *tx);
    ck_assert_ptr_nonnull(tx);
    memcpy(tx, te.x, (size_t)NT * D * sizeof *tx);
    for (int i = 0; i < NT; i++) ty[i] = te.y[i];
    advc_dataset_free(&tr);
    advc_dataset_free(&te);
}

static void trained_teardown(void)
{
    advc_graph_free(mlp);
    advc_graph_free(two);
    advc_pool_destroy(pool2);
    free(tx);
    mlp = two = NULL;
    pool2 = NULL;
    tx = NULL;
}

/* ---- names and defaults ------------------------------------------------- */

START_TEST(test_names_defaults)
{
    static const char *const names[] = {"fgsm",    "pgd",      "pgd-l2",
                                        "cw",      "apgd-ce",  "apgd-dlr",
                                        "apgd-t",  "noise"};
    static const advc_attack_kind kinds[] = {
        ADVC_ATK_FGSM,     ADVC_ATK_PGD,      ADVC_ATK_PGD_L2,
        ADVC_ATK_CW,       ADVC_ATK_APGD_CE,  ADVC_ATK_APGD_DLR,
        ADVC_ATK_APGD_T,   ADVC_ATK_NOISE};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        ck_assert_int_eq(advc_attack_parse(names[i]), kinds[i]);
    /* Every row of the table: a name that parses back, a summary, a
     * paper, and settings rows that check their own defaults. */
    for (int k = 0; k < ADVC_ATK_COUNT; k++) {
        const advc_attack_desc *d = advc_attack_describe(k);
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(advc_attack_name((advc_attack_kind)k), d->name);
        ck_assert_int_eq(advc_attack_parse(d->name), k);
        ck_assert(d->summary[0] && d->paper[0] && d->nparams > 0);
        advc_attack_config c = advc_attack_defaults((advc_attack_kind)k);
        c = advc_attack_resolve(&c);
        for (int i = 0; i < d->nparams; i++)
            ck_assert_msg(advc_param_check(&d->params[i], &c) == ADVC_OK,
                          "%s: default --%s out of its range", d->name,
                          d->params[i].flag);
    }
    ck_assert_int_eq(advc_attack_parse("APGD-CE"), ADVC_ATK_APGD_CE);
    ck_assert_int_eq(advc_attack_parse("pgd2"), ADVC_ATK_COUNT);
    ck_assert_int_eq(advc_attack_parse(NULL), ADVC_ATK_COUNT);
    ck_assert_str_eq(advc_attack_name(ADVC_ATK_COUNT), "unknown");

    advc_attack_config c = advc_attack_defaults(ADVC_ATK_FGSM);
    ck_assert(c.steps == 1 && !c.random_start && c.restarts == 1);
    ck_assert(c.eps == 0.3f && c.lo == 0.0f && c.hi == 1.0f);
    c = advc_attack_defaults(ADVC_ATK_PGD);
    ck_assert(c.steps == 40 && c.step_size == 0.0f && c.random_start);
    c = advc_attack_resolve(&c); /* Madry et al.'s rule: 2.5 eps / steps */
    ck_assert(c.step_size == 2.5f * 0.3f / 40.0f);
    c = advc_attack_defaults(ADVC_ATK_CW);
    ck_assert(c.loss == ADVC_LOSS_CW);
    c = advc_attack_defaults(ADVC_ATK_APGD_T);
    ck_assert(c.steps == 100 && c.target_classes == 9);
}
END_TEST

/* ---- bad arguments ------------------------------------------------------ */

/* Expects ADVC_ERR_ARG and a message containing `word`. */
static void expect_bad(advc_graph *g, const advc_attack_config *c,
                       const float *x, const int *y, int n, float *xa,
                       const char *word)
{
    advc_status st = advc_attack_run(g, c, x, y, n, xa);
    ck_assert_msg(st == ADVC_ERR_ARG, "expected ADVC_ERR_ARG for '%s', got %s",
                  word, advc_status_name(st));
    ck_assert_msg(strstr(advc_last_error(), word) != NULL,
                  "message '%s' does not mention '%s'", advc_last_error(),
                  word);
}

START_TEST(test_bad_args)
{
    advc_graph *g = build("mlp:hidden=8", 4, 1);
    float x[5 * D], xa[5 * D];
    int y[5], t[5];
    random_batch(x, y, 5, 3);
    for (int i = 0; i < 5; i++) t[i] = (y[i] + 1) % 10;
    advc_attack_config c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);

    c.eps = -0.1f;
    expect_bad(g, &c, x, y, 4, xa, "eps");
    c.eps = NAN;
    expect_bad(g, &c, x, y, 4, xa, "eps");
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 0);
    expect_bad(g, &c, x, y, 4, xa, "steps");
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);
    c.restarts = 0;
    expect_bad(g, &c, x, y, 4, xa, "restarts");
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);
    c.step_size = -1.0f;
    expect_bad(g, &c, x, y, 4, xa, "step_size");
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);
    expect_bad(g, &c, x, y, 5, xa, "compiled for batches of 4");
    expect_bad(g, &c, x, y, 4, x, "overlaps");
    expect_bad(g, &c, x, y, 4, x + D, "overlaps");
    c.exits = ADVC_EXITS_ONE;
    c.exit = 1;
    expect_bad(g, &c, x, y, 4, xa, "exit");
    c = make_cfg(ADVC_ATK_APGD_T, 0.1f, 2);
    c.target_classes = 10;
    expect_bad(g, &c, x, y, 4, xa, "target-classes");
    c.target_classes = 0;
    expect_bad(g, &c, x, y, 4, xa, "target-classes");
    c.target_classes = 3;
    c.targets = t;
    expect_bad(g, &c, x, y, 4, xa, "targets");
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);
    c.targets = y; /* target = true label */
    expect_bad(g, &c, x, y, 4, xa, "true label");
    c.targets = NULL;
    c.lo = 1.0f;
    c.hi = 0.0f;
    expect_bad(g, &c, x, y, 4, xa, "range");
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);
    float keep = x[3 * D + 5];
    x[3 * D + 5] = 1.5f;
    expect_bad(g, &c, x, y, 4, xa, "outside");
    x[3 * D + 5] = keep;
    int ykeep = y[2];
    y[2] = 10;
    expect_bad(g, &c, x, y, 4, xa, "y[2]");
    y[2] = ykeep;
    c.kind = ADVC_ATK_COUNT;
    ck_assert_int_eq(advc_attack_run(g, &c, x, y, 4, xa), ADVC_ERR_ARG);

    /* n = 0 is nothing to do; a good config still works afterwards. */
    c = make_cfg(ADVC_ATK_PGD, 0.1f, 2);
    ck_assert_int_eq(advc_attack_run(g, &c, x, y, 0, xa), ADVC_OK);
    run(g, &c, x, y, 4, xa);
    advc_graph_free(g);
}
END_TEST

/* ---- budget and box, every attack, random models ------------------------ */

static void all_kinds_in_ball(advc_graph *g, int n, advc_exit_mode mode,
                              int exit)
{
    int batch = advc_graph_batch(g);
    float *x = malloc((size_t)batch * D * sizeof *x);
    float *xa = malloc((size_t)batch * D * sizeof *xa);
    int *y = malloc((size_t)batch * sizeof *y);
    int *t = malloc((size_t)batch * sizeof *t);
    ck_assert(x && xa && y && t);
    random_batch(x, y, n, 5);
    for (int i = 0; i < n; i++) t[i] = (y[i] + 3) % 10;
    for (int k = 0; k < ADVC_ATK_COUNT; k++) {
        for (int variant = 0; variant < 2; variant++) {
            bool l2 = k == ADVC_ATK_PGD_L2;
            float eps = l2 ? (variant ? 3.0f : 0.5f)
                           : (variant ? 0.25f : 0.05f);
            advc_attack_config c = make_cfg((advc_attack_kind)k, eps, 3);
            c.restarts = 2;
            c.random_start = true;
            c.exits = mode;
            c.exit = exit;
            c.seed = 9;
            if (k == ADVC_ATK_APGD_T) c.target_classes = 2;
            if (variant && k != ADVC_ATK_APGD_T) c.targets = t;
            if (variant && k == ADVC_ATK_PGD) c.loss = ADVC_LOSS_DLR;
            run(g, &c, x, y, n, xa);
            char what[96];
            snprintf(what, sizeof what, "%s eps %g mode %d%s",
                     advc_attack_name(c.kind), (double)eps, (int)mode,
                     c.targets ? " targeted" : "");
            check_ball(x, xa, n, eps, l2, what);
        }
    }
    free(x);
    free(xa);
    free(y);
    free(t);
}

START_TEST(test_ball_cnn)
{
    advc_graph *g = build("cnn-small", 8, 3);
    all_kinds_in_ball(g, 6, ADVC_EXITS_SUM, 0);
    advc_graph_free(g);
}
END_TEST

START_TEST(test_ball_mlp)
{
    advc_graph *g = build("mlp", 8, 4);
    all_kinds_in_ball(g, 8, ADVC_EXITS_SUM, 0);
    advc_graph_free(g);
}
END_TEST

START_TEST(test_ball_two_exits)
{
    advc_graph *g = build_two_exit(8, 5, NULL);
    all_kinds_in_ball(g, 7, ADVC_EXITS_SUM, 0);
    all_kinds_in_ball(g, 7, ADVC_EXITS_ONE, 0);
    all_kinds_in_ball(g, 7, ADVC_EXITS_MAXAVG, 0);
    advc_graph_free(g);
}
END_TEST

/* ---- parameters and state untouched ------------------------------------- */

static void state_untouched(const char *spec)
{
    const int n = 4;
    advc_graph *g = build(spec, n, 6);
    float x[4 * D], xa[4 * D];
    int y[4];
    random_batch(x, y, n, 7);
    /* One training-mode forward moves the running statistics away from
     * (0, 1), and gradients are made non-zero, so "untouched" means
     * something. */
    advc_graph_forward(g, x, n, ADVC_MODE_TRAIN);
    for (int e = 0; e < advc_graph_num_exits(g); e++) {
        float *dz = advc_graph_dlogits(g, e);
        memset(dz, 0, (size_t)n * 10 * sizeof *dz);
        advc_loss_xent(n, 10, advc_graph_logits(g, e), y, NULL, dz, 0.25f);
    }
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);

    size_t np, ng, ns;
    float *p = advc_graph_params(g, &np);
    float *gr = advc_graph_grads(g, &ng);
    float *s = advc_graph_state(g, &ns);
    ck_assert_msg(ns > 0, "%s has no batch-norm state", spec);
    float *p0 = malloc(np * sizeof *p0), *g0 = malloc(ng * sizeof *g0);
    float *s0 = malloc(ns * sizeof *s0);
    ck_assert(p0 && g0 && s0);
    memcpy(p0, p, np * sizeof *p);
    memcpy(g0, gr, ng * sizeof *gr);
    memcpy(s0, s, ns * sizeof *s);

    /* On a multi-exit model, max-average runs the attack on each exit
     * alone and on the sum: it covers the three exit modes. */
    advc_exit_mode mode = advc_graph_num_exits(g) > 1 ? ADVC_EXITS_MAXAVG
                                                       : ADVC_EXITS_SUM;
    for (int k = 0; k < ADVC_ATK_COUNT; k++) {
        advc_attack_config c = make_cfg((advc_attack_kind)k,
                                        k == ADVC_ATK_PGD_L2 ? 1.0f : 0.1f,
                                        2);
        c.target_classes = 2;
        c.exits = mode;
        run(g, &c, x, y, n, xa);
        check_ball(x, xa, n, c.eps, k == ADVC_ATK_PGD_L2,
                   advc_attack_name(c.kind));
        ck_assert_msg(memcmp(p, p0, np * sizeof *p) == 0,
                      "%s changed the parameters", advc_attack_name(k));
        ck_assert_msg(memcmp(gr, g0, ng * sizeof *gr) == 0,
                      "%s changed the parameter gradients",
                      advc_attack_name(k));
        ck_assert_msg(memcmp(s, s0, ns * sizeof *s) == 0,
                      "%s changed the batch-norm statistics",
                      advc_attack_name(k));
    }
    free(p0);
    free(g0);
    free(s0);
    advc_graph_free(g);
}

START_TEST(test_state_resnet)
{
    state_untouched("resnet:depth=8,width=4");
}
END_TEST

START_TEST(test_state_msdnet)
{
    state_untouched("msdnet:blocks=2,base=2,growth=2,head=4");
}
END_TEST

/* x itself is never written. */
START_TEST(test_input_const)
{
    advc_graph *g = build("mlp:hidden=16", 6, 8);
    float x[6 * D], x0[6 * D], xa[6 * D];
    int y[6];
    random_batch(x, y, 6, 8);
    memcpy(x0, x, sizeof x);
    for (int k = 0; k < ADVC_ATK_COUNT; k++) {
        advc_attack_config c = make_cfg((advc_attack_kind)k, 0.2f, 3);
        c.target_classes = 2;
        run(g, &c, x, y, 6, xa);
        ck_assert_msg(memcmp(x, x0, sizeof x) == 0, "%s wrote into x",
                      advc_attack_name(k));
    }
    advc_graph_free(g);
}
END_TEST

/* ---- determinism and early stop (trained models) ------------------------ */

static const advc_attack_kind iterative[] = {
    ADVC_ATK_PGD, ADVC_ATK_PGD_L2, ADVC_ATK_CW, ADVC_ATK_APGD_CE,
    ADVC_ATK_APGD_DLR, ADVC_ATK_APGD_T};
#define N_ITER ((int)(sizeof iterative / sizeof iterative[0]))

static advc_attack_config iter_cfg(advc_attack_kind k)
{
    bool apgd = k == ADVC_ATK_APGD_CE || k == ADVC_ATK_APGD_DLR ||
                k == ADVC_ATK_APGD_T;
    advc_attack_config c = make_cfg(k, k == ADVC_ATK_PGD_L2 ? 1.0f : 0.08f,
                                    apgd ? 8 : 6);
    c.step_size = k == ADVC_ATK_PGD_L2 ? 0.4f : 0.03f;
    c.restarts = 2;
    c.target_classes = 2;
    c.seed = 1234;
    return c;
}

START_TEST(test_determinism)
{
    float *a = malloc(sizeof(float) * NT * D);
    float *b = malloc(sizeof(float) * NT * D);
    ck_assert(a && b);
    for (int q = 0; q < N_ITER + 2; q++) {
        advc_attack_config c;
        if (q < N_ITER) {
            c = iter_cfg(iterative[q]);
        } else {
            c = make_cfg(q == N_ITER ? ADVC_ATK_FGSM : ADVC_ATK_NOISE, 0.1f,
                         1);
            c.random_start = true;
            c.seed = 77;
        }
        const char *nm = advc_attack_name(c.kind);
        run(mlp, &c, tx, ty, NT, a);
        run(mlp, &c, tx, ty, NT, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) == 0,
                      "%s: same seed, different x_adv", nm);
        c.seed += 1;
        run(mlp, &c, tx, ty, NT, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) != 0,
                      "%s: a different seed gave the same x_adv", nm);
    }
    free(a);
    free(b);
}
END_TEST

static void early_stop_same(advc_graph *g, advc_exit_mode mode, int exit)
{
    float *a = malloc(sizeof(float) * NT * D);
    float *b = malloc(sizeof(float) * NT * D);
    ck_assert(a && b);
    for (int q = 0; q < N_ITER; q++) {
        advc_attack_config c = iter_cfg(iterative[q]);
        c.exits = mode;
        c.exit = exit;
        c.early_stop = false;
        run(g, &c, tx, ty, NT, a);
        float acc = accuracy(g, a, ty, NT);
        c.early_stop = true;
        run(g, &c, tx, ty, NT, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) == 0,
                      "%s (exit mode %d): early_stop changed x_adv",
                      advc_attack_name(c.kind), (int)mode);
        /* The comparison means something only if some samples were
         * fooled early and some were not. */
        if (mode == ADVC_EXITS_SUM)
            ck_assert_msg(acc > 0.0f && acc < 0.9f, "%s: accuracy %g",
                          advc_attack_name(c.kind), (double)acc);
    }
    free(a);
    free(b);
}

START_TEST(test_early_stop)
{
    early_stop_same(mlp, ADVC_EXITS_SUM, 0);
    early_stop_same(two, ADVC_EXITS_ONE, 0);
}
END_TEST

/* ---- strength, in the expected order (trained mlp) ---------------------- */

START_TEST(test_clean_accuracy)
{
    float acc = accuracy(mlp, tx, ty, NT);
    ck_assert_msg(acc >= 0.75f, "trained mlp: clean accuracy %g", (double)acc);
    acc = accuracy(two, tx, ty, NT);
    ck_assert_msg(acc >= 0.75f, "trained two-exit: clean accuracy %g",
                  (double)acc);
}
END_TEST

START_TEST(test_pgd_beats_fgsm)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    /* As loss maximisers (max_loss: the result is the highest-loss point;
     * by default a fooled sample keeps the first point that fools, whose
     * loss can be low), PGD reaches at least FGSM's loss on average. */
    const float eps = 0.05f;
    advc_attack_config f = make_cfg(ADVC_ATK_FGSM, eps, 1);
    advc_attack_config p = make_cfg(ADVC_ATK_PGD, eps, 20);
    p.step_size = eps / 8.0f;
    p.max_loss = true;
    run(mlp, &f, tx, ty, NT, a);
    float lf = mean_ce(mlp, a, ty, NT), af = accuracy(mlp, a, ty, NT);
    run(mlp, &p, tx, ty, NT, a);
    float lp = mean_ce(mlp, a, ty, NT);
    ck_assert_msg(lp >= lf, "eps %g: mean CE under PGD %g < FGSM %g",
                  (double)eps, (double)lp, (double)lf);
    /* And fools at least as many, with either kind of result. */
    p.max_loss = false;
    run(mlp, &p, tx, ty, NT, a);
    float ap = accuracy(mlp, a, ty, NT);
    ck_assert_msg(ap <= af, "eps %g: accuracy under PGD %g > FGSM %g",
                  (double)eps, (double)ap, (double)af);
    f.eps = p.eps = 0.08f;
    p.step_size = 0.01f;
    run(mlp, &f, tx, ty, NT, a);
    af = accuracy(mlp, a, ty, NT);
    run(mlp, &p, tx, ty, NT, a);
    ap = accuracy(mlp, a, ty, NT);
    ck_assert_msg(ap <= af, "eps 0.08: accuracy under PGD %g > FGSM %g",
                  (double)ap, (double)af);
    free(a);
}
END_TEST

/* More restarts never worse, per sample: fooled stays fooled, and an
 * unfooled sample's loss does not go down (with max_loss: the loss never
 * goes down). */
START_TEST(test_restarts_monotone)
{
    float *a = malloc(sizeof(float) * NT * D);
    float *b = malloc(sizeof(float) * NT * D);
    ck_assert(a && b);
    advc_attack_kind kinds[] = {ADVC_ATK_PGD, ADVC_ATK_APGD_CE};
    for (int q = 0; q < 4; q++) {
        advc_attack_config c = make_cfg(kinds[q % 2], 0.05f, 10);
        c.step_size = 0.01f;
        c.seed = 5;
        c.max_loss = q >= 2;
        run(mlp, &c, tx, ty, NT, a);
        c.restarts = 4;
        run(mlp, &c, tx, ty, NT, b);
        float la[NT], lb[NT];
        int pa[NT], pb[NT];
        outcome(mlp, a, ty, NT, 0, la, pa);
        outcome(mlp, b, ty, NT, 0, lb, pb);
        int better = 0;
        for (int i = 0; i < NT; i++) {
            bool fa = pa[i] != ty[i], fb = pb[i] != ty[i];
            ck_assert_msg(c.max_loss || !fa || fb, "%s: sample %d fooled "
                          "by 1 restart, not by 4", advc_attack_name(c.kind),
                          i);
            if (c.max_loss || !fb)
                ck_assert_msg(lb[i] >= la[i] - 1e-5f * fabsf(la[i]),
                              "%s: sample %d loss %g with 4 restarts < %g "
                              "with 1 (max_loss %d)",
                              advc_attack_name(c.kind), i, (double)lb[i],
                              (double)la[i], (int)c.max_loss);
            better += (fb && !fa) || (!fb && lb[i] > la[i]);
        }
        ck_assert_msg(better > 0, "%s: restarts changed nothing",
                      advc_attack_name(c.kind));
    }
    free(a);
    free(b);
}
END_TEST

START_TEST(test_apgd_vs_pgd)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    const float eps = 0.05f;
    advc_attack_config p = make_cfg(ADVC_ATK_PGD, eps, 20);
    p.step_size = 2.5f * eps / 20.0f;
    run(mlp, &p, tx, ty, NT, a);
    float ap = accuracy(mlp, a, ty, NT);
    advc_attack_kind kinds[] = {ADVC_ATK_APGD_CE, ADVC_ATK_APGD_DLR,
                                ADVC_ATK_APGD_T};
    for (int q = 0; q < 3; q++) {
        advc_attack_config c = make_cfg(kinds[q], eps, 20);
        c.target_classes = 3;
        run(mlp, &c, tx, ty, NT, a);
        float acc = accuracy(mlp, a, ty, NT);
        /* slack: 3 samples of 64 (DLR is a different loss than PGD's) */
        ck_assert_msg(acc <= ap + 3.0f / NT + 1e-6f,
                      "%s accuracy %g, PGD-20 %g", advc_attack_name(c.kind),
                      (double)acc, (double)ap);
    }
    /* As a cross-entropy maximiser APGD-CE matches PGD on average (on
     * this nearly linear model both reach about the same loss: 1% slack). */
    p.max_loss = true;
    run(mlp, &p, tx, ty, NT, a);
    float lp = mean_ce(mlp, a, ty, NT);
    advc_attack_config c = make_cfg(ADVC_ATK_APGD_CE, eps, 20);
    c.max_loss = true;
    run(mlp, &c, tx, ty, NT, a);
    float la = mean_ce(mlp, a, ty, NT);
    ck_assert_msg(la >= 0.99f * lp, "mean CE under APGD-CE %g < PGD-20 %g",
                  (double)la, (double)lp);
    free(a);
}
END_TEST

START_TEST(test_targeted_pgd)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    int t[NT], pred[NT];
    for (int i = 0; i < NT; i++) t[i] = (ty[i] + 1) % 10;
    advc_attack_loss losses[] = {ADVC_LOSS_XENT, ADVC_LOSS_CW};
    for (int q = 0; q < 2; q++) {
        advc_attack_config c = make_cfg(ADVC_ATK_PGD, 0.3f, 40);
        c.targets = t;
        c.loss = losses[q];
        run(mlp, &c, tx, ty, NT, a);
        outcome(mlp, a, ty, NT, 0, NULL, pred);
        int hit = 0;
        for (int i = 0; i < NT; i++) hit += pred[i] == t[i];
        ck_assert_msg(hit >= NT * 8 / 10, "targeted PGD (loss %d) hit %d/%d",
                      (int)c.loss, hit, NT);
    }
    free(a);
}
END_TEST

START_TEST(test_cw_dlr_noise)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    float clean = accuracy(mlp, tx, ty, NT);
    const float eps = 0.1f;
    advc_attack_config p = make_cfg(ADVC_ATK_PGD, eps, 20);
    run(mlp, &p, tx, ty, NT, a);
    float ap = accuracy(mlp, a, ty, NT);
    ck_assert_msg(ap <= clean - 0.5f, "PGD eps 0.1: %g (clean %g)",
                  (double)ap, (double)clean);
    advc_attack_kind kinds[] = {ADVC_ATK_CW, ADVC_ATK_APGD_DLR};
    for (int q = 0; q < 2; q++) {
        advc_attack_config c = make_cfg(kinds[q], eps, 20);
        run(mlp, &c, tx, ty, NT, a);
        float acc = accuracy(mlp, a, ty, NT);
        ck_assert_msg(acc <= clean - 0.5f, "%s eps 0.1: %g (clean %g)",
                      advc_attack_name(c.kind), (double)acc, (double)clean);
    }
    /* Random noise in the same ball must be much weaker than PGD. */
    advc_attack_config nz = make_cfg(ADVC_ATK_NOISE, eps, 1);
    nz.restarts = 5;
    run(mlp, &nz, tx, ty, NT, a);
    float an = accuracy(mlp, a, ty, NT);
    ck_assert_msg(an >= ap + 0.3f && an >= clean - 0.15f,
                  "noise accuracy %g, PGD %g, clean %g", (double)an,
                  (double)ap, (double)clean);
    free(a);
}
END_TEST

START_TEST(test_eps_one)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    advc_attack_config c = make_cfg(ADVC_ATK_PGD, 1.0f, 20);
    c.step_size = 0.1f;
    run(mlp, &c, tx, ty, NT, a);
    float acc = accuracy(mlp, a, ty, NT);
    ck_assert_msg(acc <= 1.0f / NT + 1e-6f, "PGD at eps 1: accuracy %g",
                  (double)acc);
    c = make_cfg(ADVC_ATK_APGD_CE, 1.0f, 20);
    run(mlp, &c, tx, ty, NT, a);
    acc = accuracy(mlp, a, ty, NT);
    ck_assert_msg(acc <= 1.0f / NT + 1e-6f, "APGD-CE at eps 1: accuracy %g",
                  (double)acc);
    free(a);
}
END_TEST

/* ---- multi-exit --------------------------------------------------------- */

/* Mean over samples of the mean over exits of the cross-entropy. */
static float mean_exit_ce(advc_graph *g, const float *xa)
{
    float ce[NT];
    double s = 0.0;
    int E = advc_graph_num_exits(g);
    for (int e = 0; e < E; e++) {
        outcome(g, xa, ty, NT, e, ce, NULL);
        for (int i = 0; i < NT; i++) s += ce[i];
    }
    return (float)(s / ((double)NT * E));
}

START_TEST(test_multi_exit)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    const float eps = 0.05f;
    float clean0 = accuracy_exit(two, tx, ty, NT, 0);

    /* Attacking exit 0 alone brings exit 0 down. */
    advc_attack_config c = make_cfg(ADVC_ATK_PGD, eps, 20);
    c.step_size = 0.01f;
    c.exits = ADVC_EXITS_ONE;
    c.exit = 0;
    run(two, &c, tx, ty, NT, a);
    check_ball(tx, a, NT, eps, false, "pgd exit 0");
    float a0 = accuracy_exit(two, a, ty, NT, 0);
    ck_assert_msg(a0 <= clean0 - 0.3f, "exit 0 under its own attack %g "
                  "(clean %g)", (double)a0, (double)clean0);

    /* Max-average keeps the candidate with the highest mean loss over
     * exits: on average at least what the sum attack reaches (as loss
     * maximisers both, as the max-average sub-runs are; its sum candidate
     * has another seed, hence 1% slack). */
    c.exits = ADVC_EXITS_SUM;
    c.max_loss = true;
    run(two, &c, tx, ty, NT, a);
    float lsum = mean_exit_ce(two, a);
    c.exits = ADVC_EXITS_MAXAVG;
    run(two, &c, tx, ty, NT, a);
    check_ball(tx, a, NT, eps, false, "pgd max-average");
    float lmax = mean_exit_ce(two, a);
    ck_assert_msg(lmax >= 0.99f * lsum,
                  "max-average mean loss %g < sum attack %g",
                  (double)lmax, (double)lsum);
    free(a);
}
END_TEST

Suite *advc_suite_attack(void)
{
    Suite *s = suite_create("attack");
    TCase *basic = tcase_create("basic");
    tcase_set_timeout(basic, 120);
    tcase_add_test(basic, test_names_defaults);
    tcase_add_test(basic, test_bad_args);
    tcase_add_test(basic, test_ball_cnn);
    tcase_add_test(basic, test_ball_mlp);
    tcase_add_test(basic, test_ball_two_exits);
    tcase_add_test(basic, test_state_resnet);
    tcase_add_test(basic, test_state_msdnet);
    tcase_add_test(basic, test_input_const);
    suite_add_tcase(s, basic);

    TCase *trained = tcase_create("trained");
    tcase_set_timeout(trained, 300);
    tcase_add_unchecked_fixture(trained, trained_setup, trained_teardown);
    tcase_add_test(trained, test_clean_accuracy);
    tcase_add_test(trained, test_determinism);
    tcase_add_test(trained, test_early_stop);
    tcase_add_test(trained, test_pgd_beats_fgsm);
    tcase_add_test(trained, test_restarts_monotone);
    tcase_add_test(trained, test_apgd_vs_pgd);
    tcase_add_test(trained, test_targeted_pgd);
    tcase_add_test(trained, test_cw_dlr_noise);
    tcase_add_test(trained, test_eps_one);
    tcase_add_test(trained, test_multi_exit);
    suite_add_tcase(s, trained);
    return s;
}
