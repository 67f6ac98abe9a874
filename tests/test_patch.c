/* test_patch.c: incremental forward passes (src/nn/forward_patch.c) and
 * the Square attack that uses them.  For random windows on the chains of
 * layers it patches (cnn-small, cnn, and a hand-built chain with 3 input
 * channels, smooth activations, average and max pooling and strides), the
 * patched logits are the full forward's of the same images, bit for bit,
 * over rounds of random accepts and undos, on one thread and two; graphs
 * it cannot patch are refused; and Square with patched forwards gives the
 * x_adv of Square with full ones (TRAIN mode, which cnn-small computes
 * the same way, never patches), inside the ball and the box, the same on
 * one and two threads.
 */
#include <math.h>
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

#define B 12        /* compiled batch, samples kept              */
#define ROUNDS 40   /* candidate rounds per model (10 in tu_quick()) */

static const advc_act_spec RELU = {ADVC_ACT_RELU, 0.0f};

static advc_graph *build(const char *spec, advc_shape in)
{
    advc_graph *g = NULL;
    advc_status st = advc_model_build(spec, in, 10, RELU, &g);
    ck_assert_msg(st == ADVC_OK, "%s: %s", spec, advc_last_error());
    return g;
}

/* 3x20x20 - conv 6 5x5 s1 p2 - silu - avgpool 3 s2 p1 - conv 8 3x3 s2 -
 * softplus - maxpool 3 s1 p1 - flatten - dense 10. */
static advc_graph *build_chain(void)
{
    advc_graph *g = advc_graph_new((advc_shape){3, 20, 20});
    int x = advc_conv2d(g, "c1", advc_graph_input(g), 6, 5, 1, 2, true);
    x = advc_activation(g, x, (advc_act_spec){ADVC_ACT_SILU, 0.0f});
    x = advc_avgpool(g, x, 3, 2, 1);
    x = advc_conv2d(g, "c2", x, 8, 3, 2, 0, false);
    x = advc_activation(g, x, (advc_act_spec){ADVC_ACT_SOFTPLUS, 0.0f});
    x = advc_maxpool(g, x, 3, 1, 1);
    x = advc_dense(g, "fc", advc_flatten(g, x), 10, true);
    ck_assert(advc_graph_add_exit(g, x, 1.0f) == 0);
    return g;
}

static void fill_uniform(float *v, size_t n, advc_rng *r)
{
    for (size_t k = 0; k < n; k++) v[k] = advc_rng_uniform(r);
}

/* A random window of side 1 .. max inside an h x w plane. */
static advc_rect random_window(advc_rng *r, int max, int h, int w)
{
    int s = 1 + (int)advc_rng_below(r, (uint32_t)max);
    int y = (int)advc_rng_below(r, (uint32_t)(h - s + 1));
    int x = (int)advc_rng_below(r, (uint32_t)(w - s + 1));
    return (advc_rect){ y, y + s, x, x + s };
}

/* cand row i = ref row i with window w filled with new random values. */
static void make_candidate(advc_shape s, const float *ref, float *cand,
                           const advc_rect *w, advc_rng *r)
{
    size_t d = advc_shape_size(s);
    memcpy(cand, ref, d * sizeof *cand);
    for (int ch = 0; ch < s.c; ch++)
        for (int y = w->y0; y < w->y1; y++)
            for (int x = w->x0; x < w->x1; x++)
                cand[((size_t)ch * s.h + y) * s.w + x] = advc_rng_uniform(r);
}

/* Patched logits of rounds of candidates against full forwards of the
 * same images; samples 2 and 7 sit out (kept but not running). */
static void check_model(advc_graph *g, const char *name, advc_pool *pool)
{
    ck_assert(advc_graph_compile(g, B, pool) == ADVC_OK);
    advc_graph_init_params(g, 5);
    advc_shape s = advc_graph_input_shape(g);
    size_t d = advc_shape_size(s), C = 10;
    float *ref = malloc(B * d * sizeof *ref), *cand = malloc(B * d * 4);
    float *rows = malloc(B * d * 4), *z = malloc(B * C * 4);
    ck_assert(ref && cand && rows && z);
    advc_rng r;
    advc_rng_seed(&r, 9, 1);
    fill_uniform(ref, B * d, &r);
    memcpy(cand, ref, B * d * sizeof *ref);
    advc_patch *p = NULL;
    ck_assert(advc_patch_new(g, B, &p) == ADVC_OK);
    ck_assert_msg(p != NULL, "%s: not patched", name);
    int max = advc_patch_max_side(p);
    ck_assert_msg(max >= 2, "%s: max side %d", name, max);
    int idx[B], m = 0;
    for (int i = 0; i < B; i++)
        if (i != 2 && i != 7) idx[m++] = i;
    advc_graph_forward(g, ref, B, ADVC_MODE_EVAL);
    int all[B];
    for (int i = 0; i < B; i++) all[i] = i;
    advc_patch_keep(p, all, B);
    advc_rect win[B];
    unsigned char keep[B];
    int rounds = tu_quick() ? ROUNDS / 4 : ROUNDS;
    for (int round = 0; round < rounds; round++) {
        for (int j = 0; j < m; j++) {
            win[j] = random_window(&r, max, s.h, s.w);
            make_candidate(s, ref + idx[j] * d, cand + idx[j] * d, &win[j],
                           &r);
            memcpy(rows + j * d, cand + idx[j] * d, d * sizeof *rows);
        }
        advc_patch_forward(p, cand, idx, win, m);
        memcpy(z, advc_graph_logits(g, 0), (size_t)m * C * sizeof *z);
        advc_graph_forward(g, rows, m, ADVC_MODE_EVAL);
        const float *f = advc_graph_logits(g, 0);
        for (size_t k = 0; k < (size_t)m * C; k++)
            ck_assert_msg(z[k] == f[k], "%s, round %d: patched logit %zu = "
                          "%.9g, full forward %.9g", name, round, k,
                          (double)z[k], (double)f[k]);
        for (int j = 0; j < m; j++) {
            keep[j] = advc_rng_below(&r, 3) == 0; /* mostly undone */
            float *dst = keep[j] ? ref : cand;
            const float *src = keep[j] ? cand : ref;
            memcpy(dst + idx[j] * d, src + idx[j] * d, d * sizeof *dst);
        }
        advc_patch_settle(p, keep);
    }
    advc_patch_free(p);
    free(ref), free(cand), free(rows), free(z);
}

START_TEST(test_patched_logits)
{
    advc_shape mnist = {1, 28, 28};
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    advc_graph *gs[3] = { build("cnn-small", mnist), build("cnn", mnist),
                          build_chain() };
    const char *names[3] = { "cnn-small", "cnn", "chain" };
    for (int k = 0; k < 3; k++) {
        check_model(gs[k], names[k], NULL);
        check_model(gs[k], names[k], pool2);
        advc_graph_free(gs[k]);
    }
    advc_pool_destroy(pool2);
}
END_TEST

/* ---- sparse attack passes -------------------------------------------------
 * conv_sparse.c and dense.c take attack passes over mostly-zero operands as
 * sparse products with the GEMM's bits.  On the cnn with negative biases
 * (its activations then mostly zero, as a trained one's are) and
 * mostly-zero images, the logits of an attack forward with the parameters
 * held (sparse conv2, fc1) and the input gradient of an attack backward
 * (sparse conv1, conv2 and fc1) are those of a training forward and an
 * UPDATE backward (GEMMs), bit for bit, on one thread and two. */
static void set_tensor(advc_graph *g, const char *name, float v)
{
    int t = advc_graph_find_tensor(g, name);
    ck_assert_msg(t >= 0, "no tensor %s", name);
    const advc_tensor_info *info = advc_graph_tensor(g, t);
    float *p = advc_graph_params(g, NULL) + info->offset;
    for (size_t k = 0; k < info->count; k++) p[k] = v;
}

static void check_sparse(advc_pool *pool)
{
    enum { C = 10 };
    advc_graph *g = build("cnn", (advc_shape){1, 28, 28});
    ck_assert(advc_graph_compile(g, B, pool) == ADVC_OK);
    advc_graph_init_params(g, 5);
    set_tensor(g, "conv1.b", -0.6f);
    set_tensor(g, "conv2.b", -0.3f);
    set_tensor(g, "fc1.b", -0.2f);
    size_t d = 28 * 28, nx = (size_t)B * d;
    float *x = malloc(nx * sizeof *x), *z = malloc(B * C * sizeof *z);
    float *dz = malloc(B * C * sizeof *dz), *gx = malloc(nx * sizeof *gx);
    ck_assert(x && z && dz && gx);
    advc_rng r;
    advc_rng_seed(&r, 9, 0);
    for (size_t k = 0; k < nx; k++) /* a fifth of the pixels lit */
        x[k] = advc_rng_below(&r, 5) == 0 ? advc_rng_uniform(&r) : 0.0f;
    for (int k = 0; k < B * C; k++) dz[k] = advc_rng_uniform(&r) - 0.5f;

    advc_graph_forward(g, x, B, ADVC_MODE_EVAL); /* GEMMs */
    memcpy(z, advc_graph_logits(g, 0), B * C * sizeof *z);
    memcpy(advc_graph_dlogits(g, 0), dz, B * C * sizeof *dz);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    memcpy(gx, advc_graph_input_grad(g), nx * sizeof *gx);

    advc_graph_hold_params(g, true);
    advc_graph_forward_for(g, x, B, ADVC_MODE_EVAL, ADVC_PASS_ATTACK);
    const float *zs = advc_graph_logits(g, 0);
    for (int k = 0; k < B * C; k++)
        ck_assert_msg(memcmp(&zs[k], &z[k], sizeof z[k]) == 0,
                      "logit %d: sparse %.9g, GEMM %.9g", k, (double)zs[k],
                      (double)z[k]);
    memcpy(advc_graph_dlogits(g, 0), dz, B * C * sizeof *dz);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    const float *gs = advc_graph_input_grad(g);
    size_t nonzero = 0;
    for (size_t k = 0; k < nx; k++) {
        ck_assert_msg(memcmp(&gs[k], &gx[k], sizeof gx[k]) == 0,
                      "dL/dx[%zu]: sparse %.9g, GEMM %.9g", k, (double)gs[k],
                      (double)gx[k]);
        nonzero += gx[k] != 0.0f;
    }
    ck_assert_msg(nonzero > nx / 100, "only %zu of %zu gradients nonzero",
                  nonzero, nx);
    advc_graph_hold_params(g, false);
    free(x), free(z), free(dz), free(gx);
    advc_graph_free(g);
}

START_TEST(test_sparse_passes)
{
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    check_sparse(NULL);
    check_sparse(pool2);
    advc_pool_destroy(pool2);
}
END_TEST

/* Dense layers first, branches: full forwards (NULL, no error). */
START_TEST(test_refused)
{
    advc_shape mnist = {1, 28, 28}, cifar = {3, 32, 32};
    advc_graph *gs[3] = { build("linear", mnist), build("maxout", mnist),
                          build("resnet:depth=8", cifar) };
    for (int k = 0; k < 3; k++) {
        ck_assert(advc_graph_compile(gs[k], 4, NULL) == ADVC_OK);
        advc_patch *p = (advc_patch *)&k; /* must be overwritten */
        ck_assert(advc_patch_new(gs[k], 4, &p) == ADVC_OK);
        ck_assert_msg(p == NULL, "model %d patched", k);
        advc_graph_free(gs[k]);
    }
}
END_TEST

/* ---- Square ---------------------------------------------------------------
 * A cnn-small trained for a few steps on the sample, so some points
 * survive the attack. */

#define NS 24 /* samples attacked (12 in tu_quick()) */

static int correct(advc_graph *g, const float *x, const int *y, int n)
{
    int pred[NS], ok = 0;
    advc_graph_forward(g, x, n, ADVC_MODE_EVAL);
    advc_argmax_rows(n, 10, advc_graph_logits(g, 0), pred);
    for (int i = 0; i < n; i++) ok += pred[i] == y[i];
    return ok;
}

START_TEST(test_square_patched)
{
    advc_dataset tr, te;
    ck_assert(advc_dataset_load_dir(DATA_DIR "mnist-sample", true, &tr) ==
              ADVC_OK);
    ck_assert(advc_dataset_load_dir(DATA_DIR "mnist-sample", false, &te) ==
              ADVC_OK);
    advc_graph *g = build("cnn-small", (advc_shape){1, 28, 28});
    ck_assert(advc_graph_compile(g, 64, NULL) == ADVC_OK);
    advc_graph_init_params(g, 3);
    tu_train_mnist(g, &tr, 50, tu_quick() ? 30 : 60);
    int ns = tu_quick() ? NS / 2 : NS;
    size_t n = (size_t)ns * 784;
    float *a = malloc(n * 4), *b = malloc(n * 4);
    ck_assert(a && b);
    const float eps = 0.1f;
    advc_attack_config c = advc_attack_defaults(ADVC_ATK_SQUARE);
    c.eps = eps;
    /* through the full squares (sides 25 and 18 on 28x28) and the patched
     * ones (13 from query 51, then 9, then 6 from query 501) */
    c.steps = tu_quick() ? 250 : 600;
    c.seed = 4;
    ck_assert(advc_attack_run(g, &c, te.x, te.y, ns, a) == ADVC_OK);
    c.mode = ADVC_MODE_TRAIN; /* the same forward here, never patched */
    ck_assert(advc_attack_run(g, &c, te.x, te.y, ns, b) == ADVC_OK);
    ck_assert_msg(memcmp(a, b, n * 4) == 0, "patched and full Square differ");
    c.mode = ADVC_MODE_EVAL;
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert(advc_graph_compile(g, 64, pool2) == ADVC_OK);
    ck_assert(advc_attack_run(g, &c, te.x, te.y, ns, b) == ADVC_OK);
    ck_assert_msg(memcmp(a, b, n * 4) == 0, "1 and 2 threads differ");
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(a[k] >= 0.0f && a[k] <= 1.0f &&
                          fabs((double)a[k] - te.x[k]) <= eps + 1e-6,
                      "pixel %zu = %g, clean %g", k, (double)a[k],
                      (double)te.x[k]);
    int clean = correct(g, te.x, te.y, ns), adv = correct(g, a, te.y, ns);
    ck_assert_msg(clean >= ns / 2 && adv < clean,
                  "clean %d of %d, after Square %d", clean, ns, adv);
    advc_graph_free(g);
    advc_pool_destroy(pool2);
    free(a), free(b);
    advc_dataset_free(&tr), advc_dataset_free(&te);
}
END_TEST

Suite *advc_suite_patch(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = tcase_create("patch");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_patched_logits);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_sparse_passes);
    tcase_add_test(tc, test_square_patched);
    suite_add_tcase(s, tc);
    return s;
}
