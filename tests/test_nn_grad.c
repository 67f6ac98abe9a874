/* test_nn_grad.c: finite-difference gradient checks (gradcheck.h) of every
 * op and of two composite blocks (a ResNet basic block and an MSDNet-like
 * two-scale layer with two exits), with respect to inputs and parameters,
 * in eval and train mode.  Each graph is tiny, its parameters random, and
 * inputs of non-smooth ops are kept away from their kinks.  The Check
 * test case is added to the nn suite by test_nn.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include "gradcheck.h"
#include "testutil.h"

/* Relative-error bound: a correct gradient measures 1e-6 to 3e-4 here in
 * fp32, a wrong one ~1 (see gradcheck.h). */

static const advc_act_spec SILU = { ADVC_ACT_SILU, 0.0f };

/* Flattens node y if needed, marks it the exit, compiles for n samples on
 * one thread and randomises every parameter. */
static void finish(advc_graph *g, int y, int n, uint64_t seed)
{
    if (advc_graph_num_exits(g) == 0) {
        y = advc_flatten(g, y);
        advc_graph_add_exit(g, y, 1.0f);
    }
    ck_assert_msg(advc_graph_compile(g, n, NULL) == ADVC_OK, "compile: %s",
                  advc_last_error());
    gc_randomize(g, 0.5f, seed);
}

/* Checks g on a random input in [lo, hi) and asserts both errors. */
static void check(advc_graph *g, int n, float lo, float hi, gc_opts o,
                  const char *what)
{
    advc_shape s = advc_graph_input_shape(g);
    size_t nx = (size_t)n * advc_shape_size(s);
    float *x = malloc(nx * sizeof *x);
    tu_fill(x, nx, lo, hi, o.seed * 7 + 1);
    gc_result r = gc_check(g, n, x, &o);
    if (getenv("ADVC_GC_VERBOSE"))
        printf("gradcheck %-28s dx err %.2e (%d, |g| %.2e)  dp err %.2e "
               "(%d, |g| %.2e)\n", what, r.input_err, r.input_coords,
               r.input_norm, r.param_err, r.param_coords, r.param_norm);
    ck_assert_msg(r.input_err < GC_TOL, "%s: input gradient error %.3g", what,
                  r.input_err);
    ck_assert_msg(r.param_err < GC_TOL, "%s: parameter gradient error %.3g",
                  what, r.param_err);
    ck_assert_msg(r.input_norm > 0, "%s: input gradient is zero", what);
    free(x);
}

START_TEST(test_grad_dense)
{
    for (int bias = 0; bias <= 1; bias++) {
        advc_graph *g = advc_graph_new((advc_shape){ 2, 3, 2 });
        int y = advc_dense(g, "fc", 0, 5, bias);
        advc_graph_add_exit(g, y, 1.0f);
        finish(g, y, 3, 11);
        check(g, 3, -1, 1, gc_defaults(), bias ? "dense" : "dense nobias");
        advc_graph_free(g);
    }
}
END_TEST

START_TEST(test_grad_conv)
{
    /* k, stride, pad, bias: every kernel size the models use, strides 1
     * and 2, padding 0..2, the pointwise path and a strided 1x1. */
    static const int cases[][4] = {
        { 1, 1, 0, 1 }, { 1, 2, 0, 1 }, { 3, 1, 1, 1 }, { 3, 2, 1, 0 },
        { 3, 1, 0, 1 }, { 4, 2, 1, 1 }, { 4, 1, 2, 0 }, { 5, 1, 2, 1 },
        { 5, 2, 2, 1 }, { 3, 3, 2, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        advc_graph *g = advc_graph_new((advc_shape){ 3, 7, 8 });
        int y = advc_conv2d(g, "conv", 0, 4, c[0], c[1], c[2], c[3] != 0);
        finish(g, y, 2, 20 + i);
        char what[64];
        snprintf(what, sizeof what, "conv k%d s%d p%d%s", c[0], c[1], c[2],
                 c[3] ? "" : " nobias");
        check(g, 2, -1, 1, gc_defaults(), what);
        advc_graph_free(g);
    }
}
END_TEST

START_TEST(test_grad_batchnorm)
{
    /* Spatial (after a conv) and flat (after a dense) inputs, both modes. */
    for (int flat = 0; flat <= 1; flat++)
        for (int train = 0; train <= 1; train++) {
            advc_graph *g = advc_graph_new((advc_shape){ 2, 4, 4 });
            int h = flat ? advc_dense(g, "fc", 0, 6, true)
                         : advc_conv2d(g, "conv", 0, 3, 3, 1, 1, true);
            int y = advc_batchnorm(g, "bn", h);
            finish(g, y, 4, 40 + flat * 2 + train);
            gc_opts o = gc_defaults();
            o.mode = train ? ADVC_MODE_TRAIN : ADVC_MODE_EVAL;
            char what[64];
            snprintf(what, sizeof what, "batchnorm %s %s", flat ? "flat" : "2d",
                     train ? "train" : "eval");
            check(g, 4, -1, 1, o, what);
            advc_graph_free(g);
        }
}
END_TEST

/* Inputs with |x| >= 0.1: no step of 1e-2 crosses relu's (or elu's) kink. */
static void fill_away_from_zero(float *x, size_t n, uint64_t seed)
{
    tu_fill(x, n, 0.1f, 2.0f, seed);
    for (size_t i = 0; i < n; i += 2) x[i] = -x[i];
}

START_TEST(test_grad_activations)
{
    for (int f = 0; f < ADVC_ACT_COUNT; f++) {
        advc_act_spec a = { (advc_act)f, f == ADVC_ACT_PSOFTPLUS ? 10.0f : 0 };
        advc_graph *g = advc_graph_new((advc_shape){ 3, 4, 5 });
        int y = advc_activation(g, 0, a);
        finish(g, y, 2, 60);
        float x[120];
        fill_away_from_zero(x, 120, 61 + f);
        gc_opts o = gc_defaults();
        if (f == ADVC_ACT_PSOFTPLUS) o.h = 2e-3; /* curvature ~ a */
        gc_result r = gc_check(g, 2, x, &o);
        ck_assert_msg(r.input_err < GC_TOL, "%s: error %.3g",
                      advc_act_name((advc_act)f), r.input_err);
        if (getenv("ADVC_GC_VERBOSE"))
            printf("gradcheck act %-22s dx err %.2e\n",
                   advc_act_name((advc_act)f), r.input_err);
        advc_graph_free(g);
    }
}
END_TEST

START_TEST(test_grad_maxout)
{
    /* Choose (deterministically) a parameter seed whose pieces are well
     * separated, so no step of h changes an argmax. */
    for (uint64_t seed = 70; seed < 170; seed++) {
        advc_graph *g = advc_graph_new((advc_shape){ 2, 2, 2 });
        int y = advc_maxout(g, "mo", 0, 3, 3);
        advc_graph_add_exit(g, y, 1.0f);
        finish(g, y, 2, seed);
        float x[16];
        tu_fill(x, 16, -1, 1, seed);
        /* Recompute the pieces in double to measure the gap. */
        const float *w = advc_graph_params(g, NULL), *b = w + 9 * 8;
        double gap = 1e9;
        for (int i = 0; i < 2; i++)
            for (int u = 0; u < 3; u++) {
                double z[3];
                for (int j = 0; j < 3; j++) {
                    z[j] = b[u * 3 + j];
                    for (int k = 0; k < 8; k++)
                        z[j] += (double)w[(u * 3 + j) * 8 + k] * x[i * 8 + k];
                }
                for (int j = 0; j < 3; j++)
                    for (int k = j + 1; k < 3; k++)
                        if (fabs(z[j] - z[k]) < gap) gap = fabs(z[j] - z[k]);
            }
        if (gap < 0.08) {
            advc_graph_free(g);
            continue;
        }
        gc_opts o = gc_defaults();
        gc_result r = gc_check(g, 2, x, &o);
        ck_assert_msg(r.input_err < GC_TOL && r.param_err < GC_TOL,
                      "maxout: errors %.3g %.3g", r.input_err, r.param_err);
        advc_graph_free(g);
        return;
    }
    ck_abort_msg("maxout: no seed with separated pieces");
}
END_TEST

START_TEST(test_grad_pool)
{
    /* kind (0 max, 1 avg, 2 global), k, stride, pad */
    static const int cases[][4] = {
        { 0, 2, 2, 0 }, { 0, 3, 2, 1 }, { 0, 3, 1, 1 }, { 0, 2, 1, 1 },
        { 1, 2, 2, 0 }, { 1, 3, 2, 1 }, { 1, 3, 1, 1 }, { 2, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        advc_graph *g = advc_graph_new((advc_shape){ 2, 5, 6 });
        int y = c[0] == 0   ? advc_maxpool(g, 0, c[1], c[2], c[3])
                : c[0] == 1 ? advc_avgpool(g, 0, c[1], c[2], c[3])
                            : advc_global_avgpool(g, 0);
        finish(g, y, 2, 80 + i);
        /* Distinct values 0.05 apart: a step of 1e-2 never changes a max. */
        float x[120];
        for (int q = 0; q < 120; q++) x[q] = 0.05f * (float)((q * 37) % 120);
        gc_result r = gc_check(g, 2, x, &(gc_opts){ 1e-2, 0, ADVC_MODE_EVAL,
                                                   5, false });
        ck_assert_msg(r.input_err < GC_TOL, "pool case %zu: error %.3g", i,
                      r.input_err);
        advc_graph_free(g);
    }
}
END_TEST

START_TEST(test_grad_add_concat_flatten)
{
    /* add(a, b), add(a, a), concat(a, b, x, a), a flatten of a flatten
     * feeding a dense: every fan-out and alias the engine handles. */
    advc_graph *g = advc_graph_new((advc_shape){ 2, 5, 5 });
    int a = advc_conv2d(g, "a", 0, 2, 3, 1, 1, true);
    int b = advc_conv2d(g, "b", 0, 2, 1, 1, 0, true);
    int s = advc_add(g, a, b);
    int d = advc_add(g, s, s);
    int x = advc_activation(g, 0, SILU);
    int xs[4] = { a, d, x, a };
    int c = advc_concat(g, xs, 4);
    int f = advc_flatten(g, advc_flatten(g, c));
    int y = advc_dense(g, "fc", f, 4, true);
    advc_graph_add_exit(g, y, 1.0f);
    finish(g, y, 3, 90);
    check(g, 3, -1, 1, gc_defaults(), "add/concat/flatten");
    advc_graph_free(g);
}
END_TEST

/* The mean of three branches, one of them repeated (fan-out into the
 * same mean), and an ensemble-style mean of two prefixed dense heads. */
START_TEST(test_grad_mean)
{
    advc_graph *g = advc_graph_new((advc_shape){ 2, 4, 4 });
    int a = advc_conv2d(g, "a", 0, 2, 3, 1, 1, true);
    int b = advc_activation(g, advc_conv2d(g, "b", 0, 2, 1, 1, 0, true),
                            SILU);
    int xs[4] = { a, b, a, 0 };
    int m = advc_mean(g, xs, 4);
    int f = advc_flatten(g, m);
    advc_graph_set_name_prefix(g, "m0.");
    int h0 = advc_dense(g, "fc", f, 3, true);
    advc_graph_add_exit(g, h0, 1.0f);
    advc_graph_set_name_prefix(g, "m1.");
    int h1 = advc_dense(g, "fc", f, 3, true);
    advc_graph_add_exit(g, h1, 1.0f);
    advc_graph_set_name_prefix(g, "");
    ck_assert_int_ge(advc_graph_mean_of_exits(g), 0);
    ck_assert_int_eq(advc_graph_num_exits(g), 1);
    ck_assert_int_ge(advc_graph_find_tensor(g, "m1.fc.w"), 0);
    finish(g, -1, 3, 91);
    check(g, 3, -1, 1, gc_defaults(), "mean");
    advc_graph_free(g);
}
END_TEST

START_TEST(test_grad_dropout)
{
    for (int train = 0; train <= 1; train++) {
        advc_graph *g = advc_graph_new((advc_shape){ 2, 3, 3 });
        int h = advc_conv2d(g, "conv", 0, 3, 3, 1, 1, true);
        int y = advc_dropout(g, h, 0.4f);
        finish(g, y, 3, 100);
        gc_opts o = gc_defaults();
        o.mode = train ? ADVC_MODE_TRAIN : ADVC_MODE_EVAL;
        o.fix_dropout = true;
        check(g, 3, -1, 1, o, train ? "dropout train" : "dropout eval");
        advc_graph_free(g);
    }
}
END_TEST

/* conv-bn-act-conv-bn + shortcut, act; the shortcut is the identity or a
 * strided 1x1 conv-bn; then global pool and a dense head. */
static int basic_block(advc_graph *g, const char *p, int x, int cin, int cout,
                       int stride)
{
    char n[32];
    snprintf(n, sizeof n, "%s.conv1", p);
    int h = advc_conv2d(g, n, x, cout, 3, stride, 1, false);
    snprintf(n, sizeof n, "%s.bn1", p);
    h = advc_activation(g, advc_batchnorm(g, n, h), SILU);
    snprintf(n, sizeof n, "%s.conv2", p);
    h = advc_conv2d(g, n, h, cout, 3, 1, 1, false);
    snprintf(n, sizeof n, "%s.bn2", p);
    h = advc_batchnorm(g, n, h);
    int sc = x;
    if (stride != 1 || cin != cout) {
        snprintf(n, sizeof n, "%s.down", p);
        sc = advc_conv2d(g, n, x, cout, 1, stride, 0, false);
        snprintf(n, sizeof n, "%s.downbn", p);
        sc = advc_batchnorm(g, n, sc);
    }
    return advc_activation(g, advc_add(g, h, sc), SILU);
}

START_TEST(test_grad_resnet_block)
{
    for (int train = 0; train <= 1; train++) {
        advc_graph *g = advc_graph_new((advc_shape){ 3, 6, 6 });
        int h = advc_conv2d(g, "stem", 0, 4, 3, 1, 1, true);
        h = basic_block(g, "b1", h, 4, 4, 1);
        h = basic_block(g, "b2", h, 4, 6, 2);
        int y = advc_dense(g, "fc", advc_global_avgpool(g, h), 3, true);
        advc_graph_add_exit(g, y, 1.0f);
        finish(g, y, 3, 110 + train);
        gc_opts o = gc_defaults();
        o.mode = train ? ADVC_MODE_TRAIN : ADVC_MODE_EVAL;
        check(g, 3, -1, 1, o, train ? "resnet train" : "resnet eval");
        advc_graph_free(g);
    }
}
END_TEST

/* MSDNet-like: a fine (6x6) and a coarse (3x3) scale.  Layer 2's coarse
 * features concatenate the previous coarse features, a strided conv of the
 * fine ones and a 1x1-bottleneck conv of the coarse ones; each layer has an
 * exit head (conv, bn, act, global pool, dense). */
static int exit_head(advc_graph *g, const char *p, int x, int classes)
{
    char n[32];
    snprintf(n, sizeof n, "%s.conv", p);
    int h = advc_conv2d(g, n, x, 4, 3, 2, 1, false);
    snprintf(n, sizeof n, "%s.bn", p);
    h = advc_activation(g, advc_batchnorm(g, n, h), SILU);
    snprintf(n, sizeof n, "%s.fc", p);
    return advc_dense(g, n, advc_global_avgpool(g, h), classes, true);
}

START_TEST(test_grad_msdnet_block)
{
    for (int train = 0; train <= 1; train++) {
        advc_graph *g = advc_graph_new((advc_shape){ 2, 6, 6 });
        int f0 = advc_activation(g, advc_conv2d(g, "f0", 0, 3, 3, 1, 1, true),
                                 SILU);
        int c0 = advc_activation(g, advc_conv2d(g, "c0", f0, 4, 3, 2, 1, true),
                                 SILU);
        advc_graph_add_exit(g, exit_head(g, "exit0", c0, 3), 0.5f);
        int bott = advc_activation(
            g, advc_batchnorm(g, "l1.bn", advc_conv2d(g, "l1.bott", c0, 4, 1,
                                                      1, 0, false)), SILU);
        int same = advc_conv2d(g, "l1.same", bott, 2, 3, 1, 1, true);
        int down = advc_conv2d(g, "l1.down", f0, 2, 3, 2, 1, true);
        int xs[3] = { c0, down, same };
        int c1 = advc_concat(g, xs, 3);
        advc_graph_add_exit(g, exit_head(g, "exit1", c1, 3), 1.0f);
        finish(g, 0, 3, 120 + train);
        gc_opts o = gc_defaults();
        o.mode = train ? ADVC_MODE_TRAIN : ADVC_MODE_EVAL;
        check(g, 3, -1, 1, o, train ? "msdnet train" : "msdnet eval");
        advc_graph_free(g);
    }
}
END_TEST

TCase *nn_grad_tcase(void)
{
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_grad_dense);
    tcase_add_test(tc, test_grad_conv);
    tcase_add_test(tc, test_grad_batchnorm);
    tcase_add_test(tc, test_grad_activations);
    tcase_add_test(tc, test_grad_maxout);
    tcase_add_test(tc, test_grad_pool);
    tcase_add_test(tc, test_grad_add_concat_flatten);
    tcase_add_test(tc, test_grad_mean);
    tcase_add_test(tc, test_grad_dropout);
    tcase_add_test(tc, test_grad_resnet_block);
    tcase_add_test(tc, test_grad_msdnet_block);
    return tc;
}
