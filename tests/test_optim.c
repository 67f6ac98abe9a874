/* test_optim.c: optimizers over a real graph's parameter slab (SGD, momentum,
 * Nesterov, Adam: hand-computed values for one and several steps, and a
 * double-precision simulation over many), weight decay by tensor kind and
 * by name prefix, state tensors untouched, and the learning-rate schedules
 * with their spec parser.
 */
#include <stdlib.h>
#include "testutil.h"

/* input (4) -> fc (3) -> bn -> head (2); tensors in build order:
 *   fc.w (3,4) WEIGHT, fc.b (3) BIAS, bn.gamma, bn.beta (3) BIAS,
 *   bn.running_mean, bn.running_var (3) STATE, head.w (2,3), head.b (2) */
static advc_graph *tiny_graph(void)
{
    advc_graph *g = advc_graph_new((advc_shape){ 4, 1, 1 });
    ck_assert_ptr_nonnull(g);
    int x = advc_dense(g, "fc", advc_graph_input(g), 3, true);
    x = advc_batchnorm(g, "bn", x);
    x = advc_dense(g, "head", x, 2, true);
    ck_assert_int_ge(advc_graph_add_exit(g, x, 1.0f), 0);
    ck_assert_int_eq(advc_graph_compile(g, 2, NULL), ADVC_OK);
    advc_graph_init_params(g, 1);
    return g;
}

static const advc_tensor_info *tensor(advc_graph *g, const char *name)
{
    int i = advc_graph_find_tensor(g, name);
    ck_assert_msg(i >= 0, "no tensor %s", name);
    return advc_graph_tensor(g, i);
}

/* Every parameter = w0 and every gradient = g0. */
static void set_all(advc_graph *g, float w0, float g0)
{
    size_t n;
    float *w = advc_graph_params(g, &n), *gr = advc_graph_grads(g, NULL);
    for (size_t i = 0; i < n; i++) w[i] = w0, gr[i] = g0;
}

static float param0(advc_graph *g, const char *name)
{
    return advc_graph_params(g, NULL)[tensor(g, name)->offset];
}

START_TEST(defaults)
{
    advc_opt_config s = advc_opt_defaults(ADVC_OPT_SGD);
    ck_assert_int_eq(s.kind, ADVC_OPT_SGD);
    ck_assert_float_eq(s.momentum, 0.9f);
    ck_assert(!s.nesterov);
    ck_assert_float_eq(s.weight_decay, 0.0f);
    advc_opt_config a = advc_opt_defaults(ADVC_OPT_ADAM);
    ck_assert_float_eq(a.beta1, 0.9f);
    ck_assert_float_eq(a.beta2, 0.999f);
    ck_assert_float_eq(a.eps, 1e-8f);
    ck_assert_float_eq(a.weight_decay, 0.0f);
}
END_TEST

/* Hand-computed: w = 1, g = 0.5, lr = 0.1. */
START_TEST(sgd_hand_values)
{
    advc_graph *g = tiny_graph();
    /* plain: w = 1 - 0.1 * 0.5 = 0.95, then 0.90 */
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_SGD);
    c.momentum = 0;
    set_all(g, 1.0f, 0.5f);
    advc_optimizer *o = advc_optimizer_new(g, &c);
    ck_assert_ptr_nonnull(o);
    advc_optimizer_step(o, 0.1f);
    ck_assert_float_eq_tol(param0(g, "fc.w"), 0.95f, 1e-7f);
    advc_optimizer_step(o, 0.1f);
    ck_assert_float_eq_tol(param0(g, "head.b"), 0.90f, 1e-7f);
    ck_assert_int_eq(advc_optimizer_steps(o), 2);
    advc_optimizer_free(o);

    /* momentum 0.9: v = 0.5, w = 0.95; v = 0.95, w = 0.855;
     * v = 1.355, w = 0.7195 */
    c.momentum = 0.9f;
    set_all(g, 1.0f, 0.5f);
    o = advc_optimizer_new(g, &c);
    const float mom[3] = { 0.95f, 0.855f, 0.7195f };
    for (int k = 0; k < 3; k++) {
        advc_optimizer_step(o, 0.1f);
        ck_assert_float_eq_tol(param0(g, "fc.w"), mom[k], 1e-6f);
    }
    advc_optimizer_free(o);

    /* Nesterov: v = 0.5, w -= 0.1 (0.5 + 0.45) -> 0.905;
     * v = 0.95, w -= 0.1 (0.5 + 0.855) -> 0.7695 */
    c.nesterov = true;
    set_all(g, 1.0f, 0.5f);
    o = advc_optimizer_new(g, &c);
    advc_optimizer_step(o, 0.1f);
    ck_assert_float_eq_tol(param0(g, "fc.w"), 0.905f, 1e-6f);
    advc_optimizer_step(o, 0.1f);
    ck_assert_float_eq_tol(param0(g, "fc.w"), 0.7695f, 1e-6f);
    advc_optimizer_free(o);
    advc_graph_free(g);
}
END_TEST

/* Hand-computed Adam: with a constant gradient the bias-corrected moments
 * are m^ = g and v^ = g^2 at every step, so each step moves w by
 * lr g / (|g| + eps) = lr sign(g) (up to eps):
 *   step 1: m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25 -> w = 0.9
 *   step 2: m = 0.095, v = 0.00049975; m^ = 0.095/0.19 = 0.5,
 *           v^ = 0.00049975/0.001999 = 0.25 -> w = 0.8 */
START_TEST(adam_hand_values)
{
    advc_graph *g = tiny_graph();
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_ADAM);
    set_all(g, 1.0f, 0.5f);
    advc_optimizer *o = advc_optimizer_new(g, &c);
    ck_assert_ptr_nonnull(o);
    for (int k = 1; k <= 5; k++) {
        advc_optimizer_step(o, 0.1f);
        ck_assert_float_eq_tol(param0(g, "fc.w"), 1.0f - 0.1f * k, 2e-6f);
        ck_assert_float_eq_tol(param0(g, "head.b"), 1.0f - 0.1f * k, 2e-6f);
    }
    ck_assert_int_eq(advc_optimizer_steps(o), 5);
    advc_optimizer_free(o);

    /* a gradient that changes sign: g = +0.5 then -0.5, lr 0.1, w0 = 1:
     * step 1: w = 0.9;  step 2: m = 0.9*0.05 - 0.05 = -0.005,
     *   m^ = -0.005/0.19; v = 0.00049975, v^ = 0.25 -> w = 0.9 + 0.1 *
     *   (0.005/0.19)/0.5 = 0.9 + 0.0052631579 */
    set_all(g, 1.0f, 0.5f);
    o = advc_optimizer_new(g, &c);
    advc_optimizer_step(o, 0.1f);
    set_all(g, 0.9f, -0.5f); /* w as the step left it (0.9) */
    advc_optimizer_step(o, 0.1f);
    ck_assert_float_eq_tol(param0(g, "fc.w"), 0.9052631579f, 2e-6f);
    advc_optimizer_free(o);
    advc_graph_free(g);
}
END_TEST

/* Many steps with varying gradients against a double-precision model of
 * the same update rules (kernels.h), with per-kind weight decay. */
static void simulate(const advc_opt_config *c, int steps, uint64_t seed)
{
    advc_graph *g = tiny_graph();
    size_t n;
    float *w = advc_graph_params(g, &n), *gr = advc_graph_grads(g, NULL);
    double *W = calloc(n, sizeof *W), *M = calloc(n, sizeof *M),
           *V = calloc(n, sizeof *V), *WD = calloc(n, sizeof *WD);
    tu_fill(w, n, -1, 1, seed);
    for (size_t i = 0; i < n; i++) W[i] = w[i];
    for (int t = 0; t < advc_graph_num_tensors(g); t++) {
        const advc_tensor_info *ti = advc_graph_tensor(g, t);
        if (ti->kind == ADVC_TENSOR_WEIGHT)
            for (size_t j = 0; j < ti->count; j++)
                WD[ti->offset + j] = c->weight_decay;
    }
    advc_optimizer *o = advc_optimizer_new(g, c);
    ck_assert_ptr_nonnull(o);
    for (int s = 1; s <= steps; s++) {
        double lr = 0.01 * (1 + s % 3);
        tu_fill(gr, n, -2, 2, seed * 1000 + (uint64_t)s);
        advc_optimizer_step(o, (float)lr);
        for (size_t i = 0; i < n; i++) {
            double gi = gr[i] + WD[i] * W[i];
            if (c->kind == ADVC_OPT_SGD) {
                M[i] = c->momentum * M[i] + gi;
                W[i] -= lr * (c->nesterov ? gi + c->momentum * M[i] : M[i]);
            } else {
                M[i] = c->beta1 * M[i] + (1 - c->beta1) * gi;
                V[i] = c->beta2 * V[i] + (1 - c->beta2) * gi * gi;
                double mh = M[i] / (1 - pow(c->beta1, s));
                double vh = V[i] / (1 - pow(c->beta2, s));
                W[i] -= lr * mh / (sqrt(vh) + c->eps);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(w[i] - W[i]) < 2e-5,
                      "kind %d param %zu: %.9g, want %.9g", c->kind, i,
                      (double)w[i], W[i]);
    ck_assert_int_eq(advc_optimizer_steps(o), steps);
    advc_optimizer_free(o);
    advc_graph_free(g);
    free(W), free(M), free(V), free(WD);
}

START_TEST(many_steps_match_double_model)
{
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_SGD);
    c.momentum = 0;
    simulate(&c, 20, 1);
    c.momentum = 0.9f;
    c.weight_decay = 5e-3f;
    simulate(&c, 20, 2);
    c.nesterov = true;
    simulate(&c, 20, 3);
    advc_opt_config a = advc_opt_defaults(ADVC_OPT_ADAM);
    simulate(&a, 20, 4);
    a.weight_decay = 1e-2f;
    a.beta1 = 0.5f;
    a.beta2 = 0.9f;
    simulate(&a, 20, 5);
}
END_TEST

/* wd applies to WEIGHT tensors only; STATE is never touched.  With g = 0,
 * mu = 0 and lr = 1: w -> w - wd w. */
START_TEST(weight_decay_by_kind)
{
    advc_graph *g = tiny_graph();
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_SGD);
    c.momentum = 0;
    c.weight_decay = 0.1f;
    set_all(g, 2.0f, 0.0f);
    size_t ns;
    float *st = advc_graph_state(g, &ns);
    ck_assert_uint_eq(ns, 6);
    for (size_t i = 0; i < ns; i++) st[i] = 3.0f;
    advc_optimizer *o = advc_optimizer_new(g, &c);
    advc_optimizer_step(o, 1.0f);
    size_t np;
    const float *w = advc_graph_params(g, &np);
    for (int t = 0; t < advc_graph_num_tensors(g); t++) {
        const advc_tensor_info *ti = advc_graph_tensor(g, t);
        if (ti->kind == ADVC_TENSOR_STATE) {
            for (size_t j = 0; j < ti->count; j++)
                ck_assert_float_eq(st[ti->offset + j], 3.0f);
            continue;
        }
        float want = ti->kind == ADVC_TENSOR_WEIGHT ? 1.8f : 2.0f;
        for (size_t j = 0; j < ti->count; j++)
            ck_assert_msg(w[ti->offset + j] == want, "%s[%zu] = %g, want %g",
                          ti->name, j, (double)w[ti->offset + j],
                          (double)want);
    }
    advc_optimizer_free(o);

    /* Adam too: with g = 0 only the decayed tensors move */
    advc_opt_config a = advc_opt_defaults(ADVC_OPT_ADAM);
    a.weight_decay = 0.1f;
    set_all(g, 2.0f, 0.0f);
    o = advc_optimizer_new(g, &a);
    advc_optimizer_step(o, 0.01f);
    ck_assert_float_eq_tol(param0(g, "fc.w"), 1.99f, 1e-6f);
    ck_assert_float_eq(param0(g, "fc.b"), 2.0f);
    ck_assert_float_eq(param0(g, "bn.gamma"), 2.0f);
    advc_optimizer_free(o);
    advc_graph_free(g);
}
END_TEST

START_TEST(weight_decay_by_prefix)
{
    advc_graph *g = tiny_graph();
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_SGD);
    c.momentum = 0;
    c.weight_decay = 0.1f;
    set_all(g, 2.0f, 0.0f);
    advc_optimizer *o = advc_optimizer_new(g, &c);
    /* "head" names head.w and head.b: both get 0.5, bias included */
    ck_assert_int_eq(advc_optimizer_set_wd(o, "head", 0.5f), ADVC_OK);
    /* an exact name: fc.w off */
    ck_assert_int_eq(advc_optimizer_set_wd(o, "fc.w", 0.0f), ADVC_OK);
    advc_optimizer_step(o, 1.0f);
    ck_assert_float_eq(param0(g, "head.w"), 1.0f);
    ck_assert_float_eq(param0(g, "head.b"), 1.0f);
    ck_assert_float_eq(param0(g, "fc.w"), 2.0f);
    ck_assert_float_eq(param0(g, "fc.b"), 2.0f);
    ck_assert_float_eq(param0(g, "bn.gamma"), 2.0f);
    /* unknown prefix, state-only prefix, bad values */
    ck_assert_int_eq(advc_optimizer_set_wd(o, "exit9.", 0.1f), ADVC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), "exit9."));
    ck_assert_int_eq(advc_optimizer_set_wd(o, "bn.running", 0.1f),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_optimizer_set_wd(o, "fc", -1.0f), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_optimizer_set_wd(o, "fc", NAN), ADVC_ERR_ARG);
    advc_optimizer_free(o);
    advc_graph_free(g);
}
END_TEST

START_TEST(bad_config_and_uncompiled_graph)
{
    advc_graph *g = advc_graph_new((advc_shape){ 4, 1, 1 });
    int x = advc_dense(g, "fc", 0, 2, true);
    advc_graph_add_exit(g, x, 1);
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_SGD);
    ck_assert_ptr_null(advc_optimizer_new(g, &c)); /* not compiled */
    ck_assert_int_eq(advc_graph_compile(g, 1, NULL), ADVC_OK);
    c.momentum = 1.0f;
    ck_assert_ptr_null(advc_optimizer_new(g, &c));
    c = advc_opt_defaults(ADVC_OPT_ADAM);
    c.eps = 0;
    ck_assert_ptr_null(advc_optimizer_new(g, &c));
    c = advc_opt_defaults(ADVC_OPT_ADAM);
    c.weight_decay = -1;
    ck_assert_ptr_null(advc_optimizer_new(g, &c));
    c = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_optimizer *o = advc_optimizer_new(g, &c);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(advc_optimizer_steps(o), 0);
    advc_optimizer_free(o);
    advc_optimizer_free(NULL);
    advc_graph_free(g);
}
END_TEST

/* The optimizer follows the slabs if the graph is recompiled for another
 * batch size (parameters kept), and keeps its momentum. */
START_TEST(survives_recompile)
{
    advc_graph *g = tiny_graph();
    advc_opt_config c = advc_opt_defaults(ADVC_OPT_SGD);
    set_all(g, 1.0f, 0.5f);
    advc_optimizer *o = advc_optimizer_new(g, &c);
    advc_optimizer_step(o, 0.1f);
    ck_assert_int_eq(advc_graph_compile(g, 7, NULL), ADVC_OK);
    float *gr = advc_graph_grads(g, NULL);
    size_t n = advc_graph_num_params(g);
    for (size_t i = 0; i < n; i++) gr[i] = 0.5f;
    advc_optimizer_step(o, 0.1f);
    ck_assert_float_eq_tol(param0(g, "fc.w"), 0.855f, 1e-6f);
    advc_optimizer_free(o);
    advc_graph_free(g);
}
END_TEST

/* ---- schedules ---------------------------------------------------------- */

static advc_schedule parse_ok(const char *spec, float lr)
{
    advc_schedule s;
    advc_status st = advc_schedule_parse(spec, lr, &s);
    ck_assert_msg(st == ADVC_OK, "'%s': %s", spec, advc_last_error());
    return s;
}

START_TEST(schedule_constant_cosine)
{
    advc_schedule s = parse_ok("constant", 0.1f);
    ck_assert_int_eq(s.kind, ADVC_SCHED_CONSTANT);
    ck_assert_float_eq(advc_schedule_lr(&s, 0, 10), 0.1f);
    ck_assert_float_eq(advc_schedule_lr(&s, 9.99, 10), 0.1f);
    s = parse_ok("cosine", 0.2f);
    ck_assert_int_eq(s.kind, ADVC_SCHED_COSINE);
    ck_assert_float_eq(advc_schedule_lr(&s, 0, 10), 0.2f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 5, 10), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 2.5, 10),
                           0.2f * (1 + cosf(0.25f * 3.14159265f)) / 2, 1e-7f);
    ck_assert_float_eq(advc_schedule_lr(&s, 10, 10), 0.0f);
    ck_assert_float_eq(advc_schedule_lr(&s, 12, 10), 0.0f); /* clamped */
    /* decreasing everywhere */
    float prev = 1;
    for (int k = 0; k <= 100; k++) {
        float v = advc_schedule_lr(&s, k * 0.1, 10);
        ck_assert(v <= prev);
        prev = v;
    }
}
END_TEST

START_TEST(schedule_step)
{
    advc_schedule s = parse_ok("step:100,150", 0.1f);
    ck_assert_int_eq(s.kind, ADVC_SCHED_STEP);
    ck_assert_int_eq(s.nmilestones, 2);
    ck_assert_float_eq(s.gamma, 0.1f);
    ck_assert_float_eq(advc_schedule_lr(&s, 0, 200), 0.1f);
    ck_assert_float_eq(advc_schedule_lr(&s, 99.99, 200), 0.1f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 100, 200), 0.01f, 1e-9f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 149.5, 200), 0.01f, 1e-9f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 150, 200), 0.001f, 1e-10f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 199, 200), 0.001f, 1e-10f);
    s = parse_ok("step:2,4.5,6@0.5", 1.0f);
    ck_assert_int_eq(s.nmilestones, 3);
    ck_assert_float_eq(s.gamma, 0.5f);
    ck_assert_float_eq(advc_schedule_lr(&s, 1.9, 10), 1.0f);
    ck_assert_float_eq(advc_schedule_lr(&s, 2, 10), 0.5f);
    ck_assert_float_eq(advc_schedule_lr(&s, 4.5, 10), 0.25f);
    ck_assert_float_eq(advc_schedule_lr(&s, 7, 10), 0.125f);
    s = parse_ok("step:3", 0.4f);
    ck_assert_int_eq(s.nmilestones, 1);
    ck_assert_float_eq(s.milestones[0], 3.0f);
}
END_TEST

START_TEST(schedule_cyclic)
{
    advc_schedule s = parse_ok("cyclic", 0.2f);
    ck_assert_int_eq(s.kind, ADVC_SCHED_CYCLIC);
    ck_assert_float_eq(s.peak_frac, 0.4f);
    const double T = 10;
    ck_assert_float_eq(advc_schedule_lr(&s, 0, T), 0.0f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 4, T), 0.2f, 1e-7f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 2, T), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 7, T), 0.1f, 1e-7f);
    ck_assert_float_eq(advc_schedule_lr(&s, T, T), 0.0f);
    s = parse_ok("cyclic:0.25", 1.0f);
    ck_assert_float_eq(s.peak_frac, 0.25f);
    ck_assert_float_eq(advc_schedule_lr(&s, 0, 8), 0.0f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 1, 8), 0.5f, 1e-7f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 2, 8), 1.0f, 1e-7f);
    ck_assert_float_eq_tol(advc_schedule_lr(&s, 5, 8), 0.5f, 1e-7f);
    ck_assert_float_eq(advc_schedule_lr(&s, 8, 8), 0.0f);
    /* never negative, never above the peak */
    for (int k = -5; k <= 100; k++) {
        float v = advc_schedule_lr(&s, k * 0.1, 8);
        ck_assert(v >= 0.0f && v <= 1.0f);
    }
}
END_TEST

/* Each bad spec: ADVC_ERR_ARG and a message quoting the bad part. */
START_TEST(schedule_parse_errors)
{
    static const struct { const char *spec, *part; } bad[] = {
        { "", "unknown kind ''" },
        { "linear", "linear" },
        { "constantly", "constantly" },
        { "constant:1", ":1" },
        { "cosine:2", ":2" },
        { "step", "milestones" },
        { "step:", "milestone" },
        { "step:10,x", "'x'" },
        { "step:10,,20", "''" },
        { "step:10,", "''" },
        { "step:20,10", "'10'" },
        { "step:10,10", "'10'" },
        { "step:0", "'0'" },
        { "step:-5", "'-5'" },
        { "step:10@", "'@'" },
        { "step:10@0", "'@0'" },
        { "step:10@abc", "'@abc'" },
        { "step:10@0.1@0.2", "0.1@0.2" },
        { "step:@0.5", "milestone" },
        { "step:1e99", "1e99" },
        { "step:nan", "'nan'" },
        { "step: 5", "' 5'" },
        { "step:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "16" },
        { "cyclic:", "''" },
        { "cyclic:0", "'0'" },
        { "cyclic:1", "'1'" },
        { "cyclic:1.5", "'1.5'" },
        { "cyclic:half", "'half'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        advc_schedule s;
        advc_status st = advc_schedule_parse(bad[i].spec, 0.1f, &s);
        ck_assert_msg(st == ADVC_ERR_ARG, "'%s' accepted", bad[i].spec);
        const char *msg = advc_last_error();
        ck_assert_msg(strstr(msg, bad[i].part) != NULL,
                      "'%s': message '%s' does not name '%s'", bad[i].spec,
                      msg, bad[i].part);
        ck_assert_msg(strstr(msg, "schedule") != NULL, "%s", msg);
    }
    advc_schedule s;
    ck_assert_int_eq(advc_schedule_parse("constant", -1.0f, &s),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_schedule_parse("constant", NAN, &s), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_schedule_parse(NULL, 0.1f, &s), ADVC_ERR_ARG);
    /* exactly 16 milestones is fine */
    s = parse_ok("step:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", 1.0f);
    ck_assert_int_eq(s.nmilestones, ADVC_SCHED_MAX_MILESTONES);
}
END_TEST

/* A graph big enough for the threaded step (> 2^16 parameters, uneven
 * range lengths) gives the same bits on 1 and 2 threads, SGD and Adam, with
 * weight decay on some ranges. */
START_TEST(threaded_step_bitwise)
{
    advc_pool *pool = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool);
    for (int kind = 0; kind < 2; kind++) {
        float *out[2] = { NULL, NULL };
        size_t n = 0;
        for (int k = 0; k < 2; k++) {
            advc_graph *g = advc_graph_new((advc_shape){ 301, 1, 1 });
            int x = advc_dense(g, "fc", advc_graph_input(g), 257, true);
            x = advc_dense(g, "head", x, 7, true);
            ck_assert_int_ge(advc_graph_add_exit(g, x, 1.0f), 0);
            ck_assert_int_eq(advc_graph_compile(g, 2, k ? pool : NULL),
                             ADVC_OK);
            advc_graph_init_params(g, 3);
            float *w = advc_graph_params(g, &n);
            float *gr = advc_graph_grads(g, NULL);
            ck_assert(n > (1u << 16));
            tu_fill(gr, n, -1, 1, 77);
            advc_opt_config c = advc_opt_defaults(kind ? ADVC_OPT_ADAM
                                                       : ADVC_OPT_SGD);
            c.weight_decay = 1e-3f;
            advc_optimizer *o = advc_optimizer_new(g, &c);
            for (int s = 0; s < 3; s++) advc_optimizer_step(o, 0.01f);
            out[k] = malloc(n * sizeof *out[k]);
            memcpy(out[k], w, n * sizeof *w);
            advc_optimizer_free(o);
            advc_graph_free(g);
        }
        ck_assert(memcmp(out[0], out[1], n * sizeof *out[0]) == 0);
        free(out[0]), free(out[1]);
    }
    advc_pool_destroy(pool);
}
END_TEST

Suite *advc_suite_optim(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optimizers");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, sgd_hand_values);
    tcase_add_test(tc, adam_hand_values);
    tcase_add_test(tc, many_steps_match_double_model);
    tcase_add_test(tc, weight_decay_by_kind);
    tcase_add_test(tc, weight_decay_by_prefix);
    tcase_add_test(tc, bad_config_and_uncompiled_graph);
    tcase_add_test(tc, survives_recompile);
    tcase_add_test(tc, threaded_step_bitwise);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("schedules");
    tcase_add_test(ts, schedule_constant_cosine);
    tcase_add_test(ts, schedule_step);
    tcase_add_test(ts, schedule_cyclic);
    tcase_add_test(ts, schedule_parse_errors);
    suite_add_tcase(s, ts);
    return s;
}
