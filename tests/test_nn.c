/* test_nn.c: the graph engine's contract beyond single gradients (those
 * are in test_nn_grad.c): ATTACK vs UPDATE passes, backward-activation
 * overrides, seeded init, recompiling, partial batches, builder errors,
 * thread-count independence, the tensor table and describe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gradcheck.h"
#include "testutil.h"

static const advc_act_spec RELU = { ADVC_ACT_RELU, 0.0f };

/* A small conv net with everything stateful: conv, bn, relu, maxpool,
 * residual add, dropout, two exits. */
static advc_graph *small_cnn(void)
{
    advc_graph *g = advc_graph_new((advc_shape){ 2, 8, 8 });
    int h = advc_conv2d(g, "conv1", 0, 6, 3, 1, 1, true);
    h = advc_activation(g, advc_batchnorm(g, "bn1", h), RELU);
    h = advc_maxpool(g, h, 2, 2, 0);
    int r = advc_conv2d(g, "conv2", h, 6, 3, 1, 1, false);
    r = advc_batchnorm(g, "bn2", r);
    h = advc_activation(g, advc_add(g, h, r), RELU);
    int e0 = advc_dense(g, "exit0", advc_global_avgpool(g, h), 5, true);
    advc_graph_add_exit(g, e0, 0.5f);
    h = advc_conv2d(g, "conv3", h, 8, 4, 2, 1, true);
    h = advc_dropout(g, advc_flatten(g, h), 0.3f);
    int e1 = advc_dense(g, "exit1", h, 5, true);
    advc_graph_add_exit(g, e1, 1.0f);
    return g;
}

static float *random_input(const advc_graph *g, int n, uint64_t seed)
{
    size_t nx = (size_t)n * advc_shape_size(advc_graph_input_shape(g));
    float *x = malloc(nx * sizeof *x);
    tu_fill(x, nx, 0, 1, seed);
    return x;
}

/* Writes U(-1, 1) dL/dlogits for every exit. */
static void random_dlogits(advc_graph *g, int n, uint64_t seed)
{
    int c = advc_graph_classes(g);
    for (int e = 0; e < advc_graph_num_exits(g); e++)
        tu_fill(advc_graph_dlogits(g, e), (size_t)n * c, -1, 1, seed + e);
}

static size_t input_count(const advc_graph *g, int n)
{
    return (size_t)n * advc_shape_size(advc_graph_input_shape(g));
}

START_TEST(test_attack_pass_input_grad_only)
{
    advc_graph *g = small_cnn();
    ck_assert(advc_graph_compile(g, 4, NULL) == ADVC_OK);
    advc_graph_init_params(g, 1);
    float *x = random_input(g, 4, 2);
    size_t nx = input_count(g, 4), np;
    float *grads = advc_graph_grads(g, &np);
    float *gx = malloc(nx * sizeof *gx);

    advc_graph_forward(g, x, 4, ADVC_MODE_EVAL);
    random_dlogits(g, 4, 3);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    memcpy(gx, advc_graph_input_grad(g), nx * sizeof *gx);

    /* A sentinel in the grad slab must survive an ATTACK pass. */
    for (size_t i = 0; i < np; i++) grads[i] = 1234.5f;
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    for (size_t i = 0; i < np; i++) ck_assert(grads[i] == 1234.5f);
    ck_assert(memcmp(gx, advc_graph_input_grad(g), nx * sizeof *gx) == 0);

    /* UPDATE accumulates: twice gives twice the gradient. */
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    float *once = malloc(np * sizeof *once);
    memcpy(once, grads, np * sizeof *once);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    for (size_t i = 0; i < np; i++)
        ck_assert(fabsf(grads[i] - 2 * once[i]) <=
                  1e-5f * (1 + fabsf(once[i])));
    free(x), free(gx), free(once);
    advc_graph_free(g);
}
END_TEST

/* dense(4) -> relu -> exit on one sample: dL/dx = W^T (r * rule'(z)),
 * with z = W x + b, computed here in double. */
static void expected_dx(const advc_graph *g, const float *x, const float *r,
                        int rule, double *dx)
{
    const float *w = advc_graph_params((advc_graph *)g, NULL), *b = w + 20;
    for (int k = 0; k < 5; k++) dx[k] = 0;
    for (int o = 0; o < 4; o++) {
        double z = b[o];
        for (int k = 0; k < 5; k++) z += (double)w[o * 5 + k] * x[k];
        double d = rule == 0 ? (z > 0) : 1.0 / (1.0 + exp(-10.0 * z));
        for (int k = 0; k < 5; k++) dx[k] += w[o * 5 + k] * r[o] * d;
    }
}

static void assert_dx(const advc_graph *g, const double *want)
{
    const float *dx = advc_graph_input_grad(g);
    for (int k = 0; k < 5; k++)
        ck_assert_msg(fabs(dx[k] - want[k]) <= 1e-5 * (1 + fabs(want[k])),
                      "dx[%d] = %g, want %g", k, (double)dx[k], want[k]);
}

START_TEST(test_backward_act_override)
{
    advc_graph *g = advc_graph_new((advc_shape){ 5, 1, 1 });
    int y = advc_activation(g, advc_dense(g, "fc", 0, 4, true), RELU);
    advc_graph_add_exit(g, y, 1.0f);
    ck_assert(advc_graph_compile(g, 1, NULL) == ADVC_OK);
    gc_randomize(g, 1.0f, 5);
    float x[5], r[4];
    tu_fill(x, 5, -1, 1, 6);
    tu_fill(r, 4, -1, 1, 7);
    double relu_dx[5], soft_dx[5];
    advc_graph_forward(g, x, 1, ADVC_MODE_EVAL);
    expected_dx(g, x, r, 0, relu_dx);
    expected_dx(g, x, r, 1, soft_dx);
    const float *z = advc_graph_logits(g, 0);
    int positive = 0;
    for (int o = 0; o < 4; o++) positive += z[o] > 0;
    ck_assert(positive > 0 && positive < 4); /* both branches exercised */

    /* Forward relu, backward psoftplus(10)' = sigmoid(10 z) in UPDATE only. */
    advc_act_spec psp = { ADVC_ACT_PSOFTPLUS, 10.0f };
    advc_graph_set_backward_act(g, ADVC_PASS_UPDATE, ADVC_ACT_RELU, psp);
    memcpy(advc_graph_dlogits(g, 0), r, sizeof r);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    assert_dx(g, soft_dx);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    assert_dx(g, relu_dx);
    /* ADVC_ACT_COUNT as the forward: every activation node. */
    advc_graph_set_backward_act(g, ADVC_PASS_ATTACK, ADVC_ACT_COUNT, psp);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    assert_dx(g, soft_dx);
    /* Clearing restores the forward's own derivative. */
    advc_act_spec none = { ADVC_ACT_COUNT, 0.0f };
    advc_graph_set_backward_act(g, ADVC_PASS_ATTACK, ADVC_ACT_COUNT, none);
    advc_graph_set_backward_act(g, ADVC_PASS_UPDATE, ADVC_ACT_RELU, none);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    assert_dx(g, relu_dx);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    assert_dx(g, relu_dx);
    /* An override for another forward kind leaves relu alone. */
    advc_graph_set_backward_act(g, ADVC_PASS_UPDATE, ADVC_ACT_SILU, psp);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    assert_dx(g, relu_dx);
    advc_graph_free(g);
}
END_TEST

START_TEST(test_init_seeded)
{
    advc_graph *a = small_cnn(), *b = small_cnn();
    ck_assert(advc_graph_compile(a, 2, NULL) == ADVC_OK);
    ck_assert(advc_graph_compile(b, 3, NULL) == ADVC_OK);
    advc_graph_init_params(a, 42);
    advc_graph_init_params(b, 42);
    size_t np, ns;
    float *pa = advc_graph_params(a, &np), *pb = advc_graph_params(b, NULL);
    ck_assert(np == advc_graph_num_params(a) && np > 0);
    ck_assert(memcmp(pa, pb, np * sizeof *pa) == 0);
    advc_graph_init_params(b, 43);
    ck_assert(memcmp(pa, pb, np * sizeof *pa) != 0);

    /* Per kind: He weights, zero biases, BN gamma 1 / beta 0, state 0 / 1. */
    float *st = advc_graph_state(a, &ns);
    ck_assert(ns == 4 * 6);
    for (int i = 0; i < advc_graph_num_tensors(a); i++) {
        const advc_tensor_info *t = advc_graph_tensor(a, i);
        const float *v = (t->kind == ADVC_TENSOR_STATE ? st : pa) + t->offset;
        double s = 0, ss = 0;
        for (size_t j = 0; j < t->count; j++) s += v[j], ss += v[j] * v[j];
        if (t->kind == ADVC_TENSOR_WEIGHT) {
            size_t fan_in = t->count / (size_t)t->dims[0];
            double sd = sqrt(ss / t->count), want = sqrt(2.0 / fan_in);
            if (t->count >= 500)
                ck_assert_msg(fabs(sd / want - 1) < 0.1, "%s: std %g, want %g",
                              t->name, sd, want);
        } else {
            double want = strstr(t->name, "gamma") || strstr(t->name, "var")
                              ? 1.0 : 0.0;
            ck_assert_msg(s == want * t->count && ss == want * t->count,
                          "%s is not all %g", t->name, want);
        }
    }
    advc_graph_free(a);
    advc_graph_free(b);
}
END_TEST

/* The uniform scheme: every weight and layer bias in +-1/sqrt(fan_in) with
 * the uniform's variance 1/(3 fan_in); BN as under he; he is the default
 * of advc_graph_init_params; names parse both ways. */
START_TEST(test_init_uniform)
{
    advc_graph *a = small_cnn(), *b = small_cnn();
    ck_assert(advc_graph_compile(a, 2, NULL) == ADVC_OK);
    ck_assert(advc_graph_compile(b, 2, NULL) == ADVC_OK);
    advc_graph_init_params_as(a, 7, ADVC_INIT_HE);
    advc_graph_init_params(b, 7);
    size_t np;
    float *pa = advc_graph_params(a, &np), *pb = advc_graph_params(b, NULL);
    ck_assert(memcmp(pa, pb, np * sizeof *pa) == 0);
    advc_graph_init_params_as(a, 7, ADVC_INIT_UNIFORM);
    int weights = 0, biases = 0;
    for (int i = 0; i < advc_graph_num_tensors(a); i++) {
        const advc_tensor_info *t = advc_graph_tensor(a, i);
        if (t->kind == ADVC_TENSOR_STATE) continue;
        const float *v = pa + t->offset;
        bool bn = strstr(t->name, "gamma") || strstr(t->name, "beta");
        if (bn) {
            for (size_t j = 0; j < t->count; j++)
                ck_assert(v[j] == (strstr(t->name, "gamma") ? 1.0f : 0.0f));
            continue;
        }
        /* fan_in of a weight: elements per output row; a bias takes its
         * layer's, the weight declared just before it. */
        const advc_tensor_info *w =
            t->kind == ADVC_TENSOR_WEIGHT ? t : advc_graph_tensor(a, i - 1);
        ck_assert(w->kind == ADVC_TENSOR_WEIGHT);
        double bound = 1.0 / sqrt((double)(w->count / (size_t)w->dims[0]));
        double ss = 0;
        bool nonzero = false;
        for (size_t j = 0; j < t->count; j++) {
            ck_assert_msg(fabs(v[j]) <= bound * (1 + 1e-6), "%s[%zu] = %g "
                          "outside +-%g", t->name, j, (double)v[j], bound);
            ss += (double)v[j] * v[j];
            nonzero |= v[j] != 0;
        }
        ck_assert_msg(nonzero, "%s is all zero", t->name);
        if (t->count >= 500)
            ck_assert_msg(fabs(sqrt(ss / t->count) / (bound / sqrt(3.0)) - 1)
                              < 0.1, "%s: std off", t->name);
        if (t->kind == ADVC_TENSOR_WEIGHT) weights++;
        else biases++;
    }
    ck_assert(weights >= 3 && biases >= 3);
    ck_assert(advc_init_parse("uniform") == ADVC_INIT_UNIFORM);
    ck_assert(advc_init_parse("he") == ADVC_INIT_HE);
    ck_assert(advc_init_parse("xavier") == ADVC_INIT_COUNT);
    ck_assert_str_eq(advc_init_name(ADVC_INIT_UNIFORM), "uniform");
    advc_graph_free(a);
    advc_graph_free(b);
}
END_TEST

/* Copies dL/dlogits of the first n samples between the graph and buf
 * (2 exits of 5 classes). */
static void save_dlogits(advc_graph *g, int n, float *buf)
{
    for (int e = 0; e < 2; e++)
        memcpy(buf + e * n * 5, advc_graph_dlogits(g, e),
               (size_t)n * 5 * sizeof *buf);
}

static void load_dlogits(advc_graph *g, int n, const float *buf)
{
    for (int e = 0; e < 2; e++)
        memcpy(advc_graph_dlogits(g, e), buf + e * n * 5,
               (size_t)n * 5 * sizeof *buf);
}

START_TEST(test_recompile_and_partial_batch)
{
    advc_graph *g = small_cnn();
    ck_assert(advc_graph_compile(g, 8, NULL) == ADVC_OK);
    advc_graph_init_params(g, 9);
    float *x = random_input(g, 8, 10);
    size_t nx8 = input_count(g, 8), nx3 = input_count(g, 3);
    float z8[8 * 5], z3[3 * 5], dl[2 * 3 * 5];
    float *gx8 = malloc(nx8 * sizeof *gx8), *gx3 = malloc(nx3 * sizeof *gx3);

    /* Full batch. */
    advc_graph_forward(g, x, 8, ADVC_MODE_EVAL);
    memcpy(z8, advc_graph_logits(g, 1), sizeof z8);
    random_dlogits(g, 8, 11);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    memcpy(gx8, advc_graph_input_grad(g), nx8 * sizeof *gx8);
    save_dlogits(g, 3, dl);

    /* n = 3 < batch, the same first three samples (eval mode: samples are
     * independent). */
    advc_graph_forward(g, x, 3, ADVC_MODE_EVAL);
    memcpy(z3, advc_graph_logits(g, 1), sizeof z3);
    ck_assert(tu_max_abs_diff(z3, z8, 3 * 5) <= 1e-5);
    load_dlogits(g, 3, dl);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    memcpy(gx3, advc_graph_input_grad(g), nx3 * sizeof *gx3);
    ck_assert(tu_max_abs_diff(gx3, gx8, nx3) <= 1e-5);

    /* Recompile for another batch: parameters kept, results the same. */
    size_t np = advc_graph_num_params(g);
    float *before = malloc(np * sizeof *before);
    memcpy(before, advc_graph_params(g, NULL), np * sizeof *before);
    ck_assert(advc_graph_compile(g, 5, NULL) == ADVC_OK);
    ck_assert(advc_graph_batch(g) == 5);
    ck_assert(memcmp(before, advc_graph_params(g, NULL),
                     np * sizeof *before) == 0);
    advc_graph_forward(g, x, 3, ADVC_MODE_EVAL);
    ck_assert(memcmp(advc_graph_logits(g, 1), z3, sizeof z3) == 0);
    load_dlogits(g, 3, dl);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    ck_assert(memcmp(advc_graph_input_grad(g), gx3,
                     nx3 * sizeof *gx3) == 0);
    /* And train mode runs at the new size. */
    advc_graph_forward(g, x, 5, ADVC_MODE_TRAIN);
    random_dlogits(g, 5, 12);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    ck_assert(tu_all_finite(advc_graph_grads(g, NULL), np));
    free(x), free(gx8), free(gx3), free(before);
    advc_graph_free(g);
}
END_TEST

/* Builds with one bad call and expects compile to fail with a message
 * containing `needle`. */
typedef int (*bad_build)(advc_graph *g);
static int bad_conv_kernel(advc_graph *g)
{
    return advc_conv2d(g, NULL, 0, 4, 9, 1, 0, true);
}
static int bad_conv_id(advc_graph *g)
{
    return advc_conv2d(g, NULL, 7, 4, 3, 1, 1, true);
}
static int bad_dense_out(advc_graph *g)
{
    return advc_dense(g, NULL, 0, 0, true);
}
static int bad_dense_id(advc_graph *g)
{
    return advc_dense(g, NULL, -1, 3, true);
}
static int bad_add(advc_graph *g)
{
    return advc_add(g, 0, advc_conv2d(g, NULL, 0, 3, 3, 1, 1, true));
}
static int bad_concat(advc_graph *g)
{
    int xs[2] = { 0, advc_maxpool(g, 0, 2, 2, 0) };
    return advc_concat(g, xs, 2);
}
static int bad_concat_n(advc_graph *g) { return advc_concat(g, NULL, 0); }
static int bad_pool(advc_graph *g) { return advc_maxpool(g, 0, 2, 1, 2); }
static int bad_pool_size(advc_graph *g) { return advc_avgpool(g, 0, 7, 1, 0); }
static int bad_dropout(advc_graph *g) { return advc_dropout(g, 0, 1.0f); }
static int bad_act(advc_graph *g)
{
    return advc_activation(g, 0, (advc_act_spec){ ADVC_ACT_PSOFTPLUS, 0.0f });
}
static int bad_maxout(advc_graph *g) { return advc_maxout(g, NULL, 0, 3, 0); }
static int bad_exit_shape(advc_graph *g)
{
    return advc_graph_add_exit(g, 0, 1.0f);
}
static int bad_exit_classes(advc_graph *g)
{
    advc_graph_add_exit(g, advc_dense(g, NULL, 0, 3, true), 1.0f);
    return advc_graph_add_exit(g, advc_dense(g, NULL, 0, 4, true), 1.0f);
}
static int bad_names(advc_graph *g)
{
    advc_dense(g, "fc", 0, 3, true);
    return advc_dense(g, "fc", 0, 3, true);
}

START_TEST(test_builder_errors)
{
    static const struct {
        bad_build build;
        const char *needle;
    } cases[] = {
        { bad_conv_kernel, "larger than the input" },
        { bad_conv_id, "does not exist" },
        { bad_dense_out, "not positive" },
        { bad_dense_id, "does not exist" },
        { bad_add, "differ" },
        { bad_concat, "concat" },
        { bad_concat_n, "inputs" },
        { bad_pool, "pad" },
        { bad_pool_size, "larger than the input" },
        { bad_dropout, "[0, 1)" },
        { bad_act, "alpha" },
        { bad_maxout, "pieces" },
        { bad_exit_shape, "classes" },
        { bad_exit_classes, "classes" },
        { bad_names, "fc.w" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        advc_graph *g = advc_graph_new((advc_shape){ 2, 5, 5 });
        ck_assert_int_lt(cases[i].build(g), 0);
        /* Later calls go on failing quietly; the first message sticks. */
        int y = advc_dense(g, "later", 0, 3, true);
        advc_graph_add_exit(g, y, 1.0f);
        ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_ERR_ARG);
        ck_assert_msg(strstr(advc_last_error(), cases[i].needle),
                      "case %zu: message '%s' lacks '%s'", i,
                      advc_last_error(), cases[i].needle);
        advc_graph_free(g);
    }
    /* No exit, bad batch. */
    advc_graph *g = advc_graph_new((advc_shape){ 2, 5, 5 });
    int y = advc_dense(g, NULL, 0, 3, true);
    ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_ERR_ARG);
    ck_assert(strstr(advc_last_error(), "exit"));
    advc_graph_add_exit(g, y, 1.0f);
    ck_assert(advc_graph_compile(g, 0, NULL) == ADVC_ERR_ARG);
    ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_OK);
    /* A compiled graph takes no new nodes. */
    ck_assert_int_lt(advc_dense(g, NULL, 0, 3, true), 0);
    advc_graph_free(g);
    ck_assert(advc_graph_new((advc_shape){ 0, 5, 5 }) == NULL);
}
END_TEST

/* How run_step_as builds and runs small_cnn. */
typedef struct {
    int threads;
    advc_conv_algo conv;  /* the graph's convolution setting           */
    bool no_fusion;       /* advc_graph_set_fusion(g, false)           */
    advc_act_spec rule;   /* UPDATE-pass backward override (f = COUNT:
                             none)                                     */
    bool keep_nothing;    /* forward as for an ATTACK backward          */
} step_opts;

/* One training-mode step on n samples: logits, input gradient, parameter
 * gradients and BN state, concatenated into out. */
static size_t run_step_as(const step_opts *o, int n, float *out)
{
    advc_pool *pool = advc_pool_create(o->threads);
    advc_graph *g = small_cnn();
    advc_graph_set_conv_algo(g, o->conv);
    advc_graph_set_fusion(g, !o->no_fusion);
    advc_graph_set_backward_act(g, ADVC_PASS_UPDATE, ADVC_ACT_COUNT, o->rule);
    ck_assert(advc_graph_compile(g, 7, pool) == ADVC_OK);
    advc_graph_init_params(g, 3);
    advc_graph_set_seed(g, 4);
    float *x = random_input(g, n, 5);
    advc_graph_forward_for(g, x, n, ADVC_MODE_TRAIN,
                           o->keep_nothing ? ADVC_PASS_ATTACK
                                           : ADVC_PASS_UPDATE);
    random_dlogits(g, n, 6);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    size_t k = 0, np, ns, nx = input_count(g, n);
    for (int e = 0; e < 2; e++) {
        memcpy(out + k, advc_graph_logits(g, e), n * 5 * sizeof *out);
        k += (size_t)n * 5;
    }
    memcpy(out + k, advc_graph_input_grad(g), nx * sizeof *out);
    k += nx;
    float *gr = advc_graph_grads(g, &np), *st = advc_graph_state(g, &ns);
    memcpy(out + k, gr, np * sizeof *out);
    k += np;
    memcpy(out + k, st, ns * sizeof *out);
    k += ns;
    free(x);
    advc_graph_free(g);
    advc_pool_destroy(pool);
    return k;
}

static size_t run_step(int threads, int n, float *out)
{
    step_opts o = { threads, ADVC_CONV_AUTO, false,
                    { ADVC_ACT_COUNT, 0.0f }, false };
    return run_step_as(&o, n, out);
}

START_TEST(test_threads_bitwise)
{
    size_t cap = 1 << 16;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    /* n = 7 splits images over the threads; n = 2 < 3 threads runs
     * images in turn with threaded GEMMs. */
    for (int n = 2; n <= 7; n += 5) {
        size_t na = run_step(1, n, a);
        ck_assert(na < cap);
        for (int t = 2; t <= 3; t++) {
            size_t nb = run_step(t, n, b);
            ck_assert(na == nb);
            ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0,
                          "n = %d: 1 and %d threads differ", n, t);
        }
    }
    free(a), free(b);
}
END_TEST

/* Every convolution algorithm is bitwise independent of the thread count
 * (n = 7 splits chunks over threads; n = 2 runs chunks in turn with
 * threaded GEMMs), and gemm and implicit agree bit for bit. */
START_TEST(test_conv_algos_threads_bitwise)
{
    size_t cap = 1 << 16;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    float *gemm = malloc(cap * sizeof *gemm);
    for (int n = 2; n <= 7; n += 5)
        for (int al = ADVC_CONV_GEMM; al < ADVC_CONV_COUNT; al++) {
            step_opts o = { 1, (advc_conv_algo)al, false,
                            { ADVC_ACT_COUNT, 0.0f }, false };
            size_t na = run_step_as(&o, n, a);
            ck_assert(na < cap);
            for (o.threads = 2; o.threads <= 3; o.threads++) {
                ck_assert(run_step_as(&o, n, b) == na);
                ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0,
                              "%s, n = %d: 1 and %d threads differ",
                              advc_conv_algo_name(o.conv), n, o.threads);
            }
            if (al == ADVC_CONV_GEMM) memcpy(gemm, a, na * sizeof *a);
            if (al == ADVC_CONV_IMPLICIT)
                ck_assert_msg(memcmp(a, gemm, na * sizeof *a) == 0,
                              "n = %d: gemm and implicit differ", n);
        }
    free(a), free(b), free(gemm);
}
END_TEST

/* A forward that keeps nothing for the weight gradients (an attack's)
 * gives the same logits, and an UPDATE backward after it (which lowers
 * the convolutions' inputs again) the same gradients, bit for bit, for
 * every convolution algorithm and 1 or 2 threads. */
START_TEST(test_forward_for_attack_bitwise)
{
    size_t cap = 1 << 16;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    for (int al = ADVC_CONV_GEMM; al < ADVC_CONV_COUNT; al++)
        for (int t = 1; t <= 2; t++) {
            step_opts o = { t, (advc_conv_algo)al, false,
                            { ADVC_ACT_COUNT, 0.0f }, false };
            size_t na = run_step_as(&o, 7, a);
            ck_assert(na < cap);
            o.keep_nothing = true;
            ck_assert(run_step_as(&o, 7, b) == na);
            ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0,
                          "%s, %d thread(s): keeping nothing changed bits",
                          advc_conv_algo_name(o.conv), t);
        }
    free(a), free(b);
}
END_TEST

/* Narrowing a forward to some of its rows (advc_graph_keep_rows) and
 * going back through them gives the input gradients of a forward of those
 * samples alone, bit for bit: in EVAL mode through every op of small_cnn
 * (argmax and dropout masks are per sample), and through cnn-small, whose
 * convolutions put several images in one GEMM.  A TRAIN forward (batch
 * statistics) is refused. */
START_TEST(test_keep_rows_bitwise)
{
    enum { N = 13, K = 5 };
    static const int rows[K] = { 0, 3, 4, 9, 12 };
    for (int which = 0; which < 2; which++) {
        advc_graph *g = NULL;
        if (which == 0) g = small_cnn();
        else
            ck_assert(advc_model_build("cnn-small", (advc_shape){ 1, 28, 28 },
                                       10, RELU, &g) == ADVC_OK);
        ck_assert(advc_graph_compile(g, N, NULL) == ADVC_OK);
        advc_graph_init_params(g, 3);
        size_t per = input_count(g, 1);
        float *x = random_input(g, N, 5);
        float *xs = malloc(K * per * sizeof *xs);
        float *ga = malloc(K * per * sizeof *ga);
        for (int j = 0; j < K; j++)
            memcpy(xs + j * per, x + rows[j] * per, per * sizeof *x);
        advc_graph_forward_for(g, x, N, ADVC_MODE_EVAL, ADVC_PASS_ATTACK);
        ck_assert(advc_graph_keep_rows(g, rows, K));
        random_dlogits(g, K, 9);
        advc_graph_backward(g, ADVC_PASS_ATTACK);
        memcpy(ga, advc_graph_input_grad(g), K * per * sizeof *ga);
        advc_graph_forward_for(g, xs, K, ADVC_MODE_EVAL, ADVC_PASS_ATTACK);
        random_dlogits(g, K, 9);
        advc_graph_backward(g, ADVC_PASS_ATTACK);
        ck_assert_msg(memcmp(ga, advc_graph_input_grad(g),
                             K * per * sizeof *ga) == 0,
                      "model %d: narrowed and alone differ", which);
        advc_graph_forward(g, x, N, ADVC_MODE_TRAIN);
        ck_assert(!advc_graph_keep_rows(g, rows, K));
        advc_graph_free(g);
        free(x), free(xs), free(ga);
    }
}
END_TEST

/* Appends a describe line to the buffer ctx (4096 bytes). */
static void describe_append(const char *line, void *ctx)
{
    char *buf = ctx;
    size_t len = strlen(buf);
    snprintf(buf + len, 4096 - len, "%s\n", line);
}

/* Batch norm + act and add + act fused give the same bits as apart, with
 * the forward's derivative and with an overridden backward rule. */
/* An exit that is also a concat input stays where it is (its logits are
 * read as contiguous rows), while the concat's other input is placed;
 * logits and input gradient equal those with fusion off, bit for bit. */
START_TEST(test_concat_exit_not_placed)
{
    float out[2][2 * 4 * 2 + 2 * 4];
    for (int fused = 0; fused <= 1; fused++) {
        advc_graph *g = advc_graph_new((advc_shape){ 4, 1, 1 });
        advc_act_spec silu = { ADVC_ACT_SILU, 0.0f };
        advc_act_spec tanh_ = { ADVC_ACT_TANH, 0.0f };
        int a = advc_activation(g, 0, silu);
        int b = advc_activation(g, 0, tanh_);
        int xs[2] = { a, b };
        int d = advc_dense(g, "fc", advc_concat(g, xs, 2), 4, true);
        advc_graph_add_exit(g, a, 1.0f);
        advc_graph_add_exit(g, d, 1.0f);
        advc_graph_set_fusion(g, fused);
        ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_OK);
        advc_graph_init_params(g, 7);
        char buf[4096] = "";
        advc_graph_describe(g, describe_append, buf);
        ck_assert_msg(strstr(buf, fused ? "in place=1" : "in place=0"), "%s",
                      buf);
        float x[8];
        tu_fill(x, 8, -1.0f, 1.0f, 8);
        advc_graph_forward(g, x, 2, ADVC_MODE_TRAIN);
        for (int e = 0; e < 2; e++) {
            memcpy(out[fused] + e * 8, advc_graph_logits(g, e), 8 * 4);
            tu_fill(advc_graph_dlogits(g, e), 8, -1.0f, 1.0f, 9 + e);
        }
        for (int q = 0; q < 8; q++) /* exit 0 is silu(x) itself */
            ck_assert(fabsf(out[fused][q] - x[q] / (1.0f + expf(-x[q]))) <
                      1e-6f);
        advc_graph_zero_grads(g);
        advc_graph_backward(g, ADVC_PASS_UPDATE);
        memcpy(out[fused] + 16, advc_graph_input_grad(g), 8 * 4);
        advc_graph_free(g);
    }
    ck_assert(memcmp(out[0], out[1], sizeof out[0]) == 0);
}
END_TEST

START_TEST(test_fusion_bitwise)
{
    size_t cap = 1 << 16;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    advc_act_spec rules[2] = { { ADVC_ACT_COUNT, 0.0f },
                               { ADVC_ACT_PSOFTPLUS, 10.0f } };
    for (int r = 0; r < 2; r++)
        for (int t = 1; t <= 2; t++) {
            step_opts o = { t, ADVC_CONV_AUTO, false, rules[r], false };
            size_t na = run_step_as(&o, 7, a);
            o.no_fusion = true;
            ck_assert(run_step_as(&o, 7, b) == na);
            ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0,
                          "rule %d, %d threads: fused and apart differ", r, t);
        }
    /* describe says which activations are fused. */
    advc_graph *g = small_cnn();
    ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_OK);
    char buf[4096] = "";
    advc_graph_describe(g, describe_append, buf);
    ck_assert_msg(strstr(buf, "relu fused"), "%s", buf);
    advc_graph_free(g);
    free(a), free(b);
}
END_TEST

START_TEST(test_dropout_mask)
{
    advc_graph *g = advc_graph_new((advc_shape){ 1000, 1, 1 });
    int y = advc_dropout(g, 0, 0.25f);
    advc_graph_add_exit(g, y, 1.0f);
    ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_OK);
    float x[2000], y1[2000];
    for (int i = 0; i < 2000; i++) x[i] = 1.0f;
    advc_graph_forward(g, x, 2, ADVC_MODE_EVAL);
    ck_assert(memcmp(advc_graph_logits(g, 0), x, sizeof x) == 0);
    advc_graph_set_seed(g, 8);
    advc_graph_forward(g, x, 2, ADVC_MODE_TRAIN);
    memcpy(y1, advc_graph_logits(g, 0), sizeof y1);
    int dropped = 0;
    for (int i = 0; i < 2000; i++) {
        ck_assert(y1[i] == 0.0f || y1[i] == 1.0f / 0.75f);
        dropped += y1[i] == 0.0f;
    }
    ck_assert_int_gt(dropped, 400);
    ck_assert_int_lt(dropped, 600);
    /* The two samples draw different masks; the next step another one;
     * resetting the seed repeats the first. */
    ck_assert(memcmp(y1, y1 + 1000, 1000 * sizeof *y1) != 0);
    advc_graph_forward(g, x, 2, ADVC_MODE_TRAIN);
    ck_assert(memcmp(advc_graph_logits(g, 0), y1, sizeof y1) != 0);
    advc_graph_set_seed(g, 8);
    advc_graph_forward(g, x, 2, ADVC_MODE_TRAIN);
    ck_assert(memcmp(advc_graph_logits(g, 0), y1, sizeof y1) == 0);
    advc_graph_free(g);
}
END_TEST

static void count_line(const char *s, void *ctx)
{
    ck_assert(s && *s);
    ++*(int *)ctx;
}

START_TEST(test_tensor_table)
{
    advc_graph *g = small_cnn();
    ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_OK);
    /* conv1 w b, bn1 gamma beta rm rv, conv2 w, bn2 x4, exit0 w b,
     * conv3 w b, exit1 w b */
    ck_assert_int_eq(advc_graph_num_tensors(g), 17);
    int i = advc_graph_find_tensor(g, "conv1.w");
    ck_assert_int_eq(i, 0);
    const advc_tensor_info *t = advc_graph_tensor(g, i);
    ck_assert(t->kind == ADVC_TENSOR_WEIGHT && t->ndim == 4);
    ck_assert(t->dims[0] == 6 && t->dims[1] == 2 && t->dims[2] == 3 &&
              t->dims[3] == 3 && t->count == 108 && t->offset == 0);
    t = advc_graph_tensor(g, advc_graph_find_tensor(g, "bn2.running_var"));
    ck_assert(t->kind == ADVC_TENSOR_STATE && t->count == 6);
    t = advc_graph_tensor(g, advc_graph_find_tensor(g, "bn1.gamma"));
    ck_assert(t->kind == ADVC_TENSOR_BIAS);
    ck_assert_int_eq(advc_graph_find_tensor(g, "nope"), -1);
    /* Trainable tensors tile the slab in build order, no gaps. */
    size_t off = 0;
    for (i = 0; i < advc_graph_num_tensors(g); i++) {
        t = advc_graph_tensor(g, i);
        if (t->kind == ADVC_TENSOR_STATE) continue;
        ck_assert(t->offset == off);
        off += t->count;
    }
    ck_assert(off == advc_graph_num_params(g));
    ck_assert_int_eq(advc_graph_num_exits(g), 2);
    ck_assert_int_eq(advc_graph_classes(g), 5);
    ck_assert(advc_graph_exit_weight(g, 0) == 0.5f);
    ck_assert(advc_graph_input_shape(g).c == 2);
    ck_assert(advc_graph_pool(g) == NULL);
    int lines = 0;
    advc_graph_describe(g, count_line, &lines);
    ck_assert_int_ge(lines, 10);
    advc_graph_free(g);
}
END_TEST

Suite *advc_suite_nn(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("graph");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_attack_pass_input_grad_only);
    tcase_add_test(tc, test_backward_act_override);
    tcase_add_test(tc, test_init_seeded);
    tcase_add_test(tc, test_init_uniform);
    tcase_add_test(tc, test_recompile_and_partial_batch);
    tcase_add_test(tc, test_builder_errors);
    tcase_add_test(tc, test_threads_bitwise);
    tcase_add_test(tc, test_conv_algos_threads_bitwise);
    tcase_add_test(tc, test_forward_for_attack_bitwise);
    tcase_add_test(tc, test_keep_rows_bitwise);
    tcase_add_test(tc, test_fusion_bitwise);
    tcase_add_test(tc, test_concat_exit_not_placed);
    tcase_add_test(tc, test_dropout_mask);
    tcase_add_test(tc, test_tensor_table);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, nn_grad_tcase());
    return s;
}
