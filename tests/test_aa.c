/* test_aa.c: the pieces of AutoAttack (--attack aa).  FAB-T's projection
 * against a plain sort-and-scan reference; Square's square sizes against
 * the reference implementation's numbers; FAB-T and Square inside the ball
 * and the box, Square's points on the ball's vertices, both reproducible
 * and independent of the thread count; the cascade monotone, its first
 * column equal to APGD-CE alone, and independent of the batch size; and a
 * model with a deliberately masked gradient (a step-function input
 * quantiser in front of a trained MLP): the gradient attacks see a robust
 * model, Square does not, and the masking checks say so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "advc/attack.h"
#include "advc/data.h"
#include "advc/evaluate.h"
#include "advc/loss.h"
#include "advc/models.h"
#include "advc/optim.h"
#include "../src/adv/attack_internal.h"

#ifdef ADVC_SOURCE_DIR
#define DATA_DIR ADVC_SOURCE_DIR "/data/"
#else
#define DATA_DIR "data/"
#endif

#define D 784       /* 1x28x28 */
#define NT 64       /* test samples attacked                         */
#define TRAIN_B 50  /* training batch                                */
#define GRAPH_B 64  /* compiled batch of the trained models (>= NT)  */
#define LEVELS 8    /* the quantiser's grey levels                   */
/* The quantiser's slope, 2^17: a step under 1e-5 wide.  A power of two
 * (as is 1/LEVELS) keeps every product in its backward pass exact, so the
 * two halves of a step cancel to an exact 0 even through FMAs. */
#define RAMP 131072.0f

static const advc_act_spec RELU = {ADVC_ACT_RELU, 0.0f};

/* ---- FAB's projection against a reference -------------------------------- */

/* The definition, solved the slow way: with r = |<w,t> - b| and rooms p_k
 * (distance to the box side coordinate k moves toward), find lambda with
 * sum_k |w_k| min(lambda, p_k) = r by sorting the p_k and walking the
 * segments; delta_k = -+ min(lambda, p_k). */
typedef struct {
    double p, w;
} room;

static int by_p(const void *a, const void *b)
{
    double x = ((const room *)a)->p, y = ((const room *)b)->p;
    return (x > y) - (x < y);
}

static double ref_project(size_t d, const float *t, const float *w, double b,
                          float lo, float hi, double *delta, bool *reached)
{
    double r = -b;
    for (size_t k = 0; k < d; k++) r += (double)w[k] * t[k];
    double dir = r >= 0 ? 1.0 : -1.0;
    r = fabs(r);
    room *a = malloc(d * sizeof *a);
    ck_assert_ptr_nonnull(a);
    size_t m = 0;
    double slope = 0.0, reach = 0.0;
    for (size_t k = 0; k < d; k++) {
        if (w[k] == 0.0f) continue;
        a[m].p = dir * w[k] < 0 ? (double)hi - t[k] : (double)t[k] - lo;
        a[m].w = fabs((double)w[k]);
        slope += a[m].w;
        reach += a[m].w * a[m].p;
        m++;
    }
    qsort(a, m, sizeof *a, by_p);
    double lam = INFINITY, sat = 0.0, prev = 0.0;
    if (r == 0.0) lam = 0.0;
    for (size_t j = 0; j < m && isinf(lam) && r < reach; j++) {
        /* on [prev, p_j]: f = sat + lambda * slope */
        if (sat + a[j].p * slope >= r) lam = (r - sat) / slope;
        sat += a[j].w * a[j].p;
        slope -= a[j].w;
        prev = a[j].p;
    }
    (void)prev;
    *reached = r == 0.0 || r < reach;
    double mx = 0.0;
    for (size_t k = 0; k < d; k++) {
        if (w[k] == 0.0f) {
            delta[k] = 0.0;
            continue;
        }
        int up = dir * w[k] < 0;
        double p = up ? (double)hi - t[k] : (double)t[k] - lo;
        double s = p < lam ? p : lam;
        delta[k] = up ? s : -s;
        mx = s > mx ? s : mx;
    }
    free(a);
    return mx;
}

/* Random t in [0, 1] (some at the edges), w with some zeros and ties,
 * b from a random target point so the hyperplane meets the box or not. */
static void fab_case(size_t d, uint64_t seed, float *t, float *w, double *b,
                     int kind)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 3);
    for (size_t k = 0; k < d; k++) {
        uint32_t u = advc_rng_below(&r, 10);
        t[k] = u == 0 ? 0.0f : (u == 1 ? 1.0f : advc_rng_uniform(&r));
        uint32_t v = advc_rng_below(&r, 10);
        w[k] = v == 0 ? 0.0f : (v == 1 ? 0.5f : advc_rng_normal(&r));
    }
    double wt = 0.0;
    for (size_t k = 0; k < d; k++) wt += (double)w[k] * t[k];
    switch (kind) {
    case 0: *b = wt + 0.3 * advc_rng_normal(&r); break; /* near t     */
    case 1: *b = wt + 1e6; break;                        /* out of reach */
    case 2: *b = wt; break;                              /* on it: 0   */
    default: *b = wt - 2.0 * advc_rng_uniform(&r); break;
    }
}

START_TEST(test_fab_projection)
{
    const size_t sizes[] = {1, 2, 3, 7, 64, 784, 3072};
    for (size_t q = 0; q < sizeof sizes / sizeof sizes[0]; q++) {
        size_t d = sizes[q];
        float *t = malloc(d * sizeof *t), *w = malloc(d * sizeof *w);
        float *delta = malloc(d * sizeof *delta);
        double *ref = malloc(d * sizeof *ref);
        void *scratch = malloc(atk_fab_project_bytes(d));
        ck_assert(t && w && delta && ref && scratch);
        for (int kind = 0; kind < 4; kind++) {
            for (uint64_t seed = 1; seed <= 6; seed++) {
                double b;
                fab_case(d, seed * 31 + q, t, w, &b, kind);
                float mx = atk_fab_project(d, t, w, b, 0.0f, 1.0f, scratch,
                                           delta);
                bool reached;
                double rmx = ref_project(d, t, w, b, 0.0f, 1.0f, ref,
                                         &reached);
                ck_assert_msg(fabs(mx - rmx) <= 1e-5 * (1 + rmx),
                              "d %zu kind %d: |delta| %g, reference %g", d,
                              kind, (double)mx, rmx);
                double wd = 0.0, wt = 0.0;
                for (size_t k = 0; k < d; k++) {
                    ck_assert_msg(fabs(delta[k] - ref[k]) <= 1e-5,
                                  "d %zu kind %d: delta[%zu] %g, ref %g", d,
                                  kind, k, (double)delta[k], ref[k]);
                    double v = (double)t[k] + delta[k];
                    ck_assert(v >= -1e-6 && v <= 1.0 + 1e-6);
                    wd += (double)w[k] * delta[k];
                    wt += (double)w[k] * t[k];
                }
                /* reachable cases land on the hyperplane */
                if (reached)
                    ck_assert_msg(fabs(wt + wd - b) <= 1e-4 * (1 + fabs(b)),
                                  "d %zu kind %d: <w, t + delta> = %g, b %g",
                                  d, kind, wt + wd, b);
                if (kind == 2) ck_assert(mx <= 1e-6f);
                if (kind == 1) ck_assert(!reached);
            }
        }
        free(t), free(w), free(delta), free(ref), free(scratch);
    }
    /* w = 0 everywhere: nothing can move. */
    float t[4] = {0.1f, 0.5f, 0.9f, 1.0f}, w[4] = {0}, delta[4];
    char scratch[256];
    ck_assert(atk_fab_project_bytes(4) <= sizeof scratch);
    ck_assert(atk_fab_project(4, t, w, 1.0, 0.0f, 1.0f, scratch, delta) ==
              0.0f);
    for (int k = 0; k < 4; k++) ck_assert(delta[k] == 0.0f);
}
END_TEST

/* ---- FAB-T's objective --------------------------------------------------- */

START_TEST(test_logit_diff_loss)
{
    const float z[2 * 4] = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f, 0.0f, 7.0f, -1.0f};
    const int y[2] = {3, 2}, t[2] = {0, 1};
    float l[2], dz[2 * 4] = {0};
    float mean = advc_loss_logit_diff(2, 4, z, y, t, l, dz, 0.5f);
    ck_assert(l[0] == -2.0f && l[1] == -7.0f && mean == -4.5f);
    const float want[2 * 4] = {0.5f, 0, 0, -0.5f, 0, 0.5f, -0.5f, 0};
    for (int k = 0; k < 8; k++) ck_assert(dz[k] == want[k]);
}
END_TEST

/* ---- Square's schedule --------------------------------------------------- */

START_TEST(test_square_schedule)
{
    /* Computed with the reference's p_selection and
     * max(int(round(sqrt(p * n_features / c))), 1), p_init 0.8. */
    static const int its[] = {0,    10,   11,   50,   51,   200,
                              201,  500,  501,  1000, 1001, 2000,
                              2001, 4000, 4001, 4999, 6001, 8001};
    static const int s28[] = {25, 25, 18, 18, 13, 13, 9, 9, 6,
                              6,  4,  4,  3,  3,  2,  2, 2, 1};
    static const int s32[] = {29, 29, 20, 20, 14, 14, 10, 10, 7,
                              7,  5,  5,  4,  4,  3,  3,  2,  1};
    for (size_t i = 0; i < sizeof its / sizeof its[0]; i++) {
        ck_assert_int_eq(atk_square_side(0.8, its[i], 28, 28), s28[i]);
        ck_assert_int_eq(atk_square_side(0.8, its[i], 32, 32), s32[i]);
    }
    /* never larger than the image, never 0 */
    ck_assert_int_eq(atk_square_side(1.0, 0, 3, 40), 3);
    ck_assert_int_eq(atk_square_side(0.8, 9000, 2, 2), 1);
}
END_TEST

/* ---- trained models ------------------------------------------------------ */

static advc_pool *pool2;   /* made per test: Check forks each test, and a
                              pool's threads do not survive a fork      */
static advc_graph *mlp;    /* mlp:hidden=64, trained (64 so that its
                              GEMMs are split over two threads)         */
static advc_graph *masked; /* the same MLP behind a step quantiser       */
static advc_dataset te;    /* the sample's test split                    */
static const float *tx;    /* (NT, D): its first NT images               */
static int ty[NT];

/* Copies tensor `name` of src into dst (same shape). */
static void copy_tensor(advc_graph *dst, advc_graph *src, const char *name)
{
    int a = advc_graph_find_tensor(dst, name);
    int b = advc_graph_find_tensor(src, name);
    ck_assert_msg(a >= 0 && b >= 0, "tensor %s", name);
    const advc_tensor_info *ta = advc_graph_tensor(dst, a);
    const advc_tensor_info *tb = advc_graph_tensor(src, b);
    ck_assert(ta->count == tb->count);
    size_t n;
    float *pa = advc_graph_params(dst, &n), *pb = advc_graph_params(src, &n);
    memcpy(pa + ta->offset, pb + tb->offset, ta->count * sizeof *pa);
}

/* Sets tensor `name` of g to v (count values). */
static void set_tensor(advc_graph *g, const char *name, const float *v,
                       size_t count)
{
    int i = advc_graph_find_tensor(g, name);
    ck_assert(i >= 0);
    const advc_tensor_info *t = advc_graph_tensor(g, i);
    ck_assert(t->count == count);
    size_t n;
    memcpy(advc_graph_params(g, &n) + t->offset, v, count * sizeof *v);
}

/* q(x) = (1/L) sum_l clamp(RAMP (x - (l + 1/2)/L), 0, 1): x rounded to L
 * grey levels, made of two 1x1 convolutions and a ReLU:
 *   q1 channel 2l:   RAMP x - RAMP t_l          (then ReLU)
 *   q1 channel 2l+1: RAMP x - RAMP t_l - 1      (then ReLU)
 *   q2 = (1/L) sum_l (channel 2l - channel 2l+1)
 * Its derivative is 0 except on ramps 1/RAMP wide: the input gradient of
 * the whole model is 0 almost everywhere.  Then the trained MLP. */
static advc_graph *build_masked(advc_graph *trained)
{
    advc_shape in = {1, 28, 28};
    advc_graph *g = advc_graph_new(in);
    int x = advc_conv2d(g, "q1", advc_graph_input(g), 2 * LEVELS, 1, 1, 0,
                        true);
    x = advc_activation(g, x, RELU);
    x = advc_conv2d(g, "q2", x, 1, 1, 1, 0, true);
    x = advc_flatten(g, x);
    x = advc_activation(g, advc_dense(g, "fc1", x, 64, true), RELU);
    x = advc_dense(g, "fc", x, 10, true);
    advc_graph_add_exit(g, x, 1.0f);
    advc_status st = advc_graph_compile(g, GRAPH_B, NULL);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    float w1[2 * LEVELS], b1[2 * LEVELS], w2[2 * LEVELS], b2[1] = {0.0f};
    for (int l = 0; l < LEVELS; l++) {
        float tl = ((float)l + 0.5f) / LEVELS;
        w1[2 * l] = w1[2 * l + 1] = RAMP;
        b1[2 * l] = -RAMP * tl;
        b1[2 * l + 1] = -RAMP * tl - 1.0f;
        w2[2 * l] = 1.0f / LEVELS;
        w2[2 * l + 1] = -1.0f / LEVELS;
    }
    set_tensor(g, "q1.w", w1, 2 * LEVELS);
    set_tensor(g, "q1.b", b1, 2 * LEVELS);
    set_tensor(g, "q2.w", w2, 2 * LEVELS);
    set_tensor(g, "q2.b", b2, 1);
    copy_tensor(g, trained, "fc1.w");
    copy_tensor(g, trained, "fc1.b");
    copy_tensor(g, trained, "fc.w");
    copy_tensor(g, trained, "fc.b");
    return g;
}

static void setup(void)
{
    advc_dataset tr;
    advc_status st = advc_dataset_load_dir(DATA_DIR "mnist-sample", true, &tr);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    st = advc_dataset_load_dir(DATA_DIR "mnist-sample", false, &te);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    ck_assert_int_ge(te.n, NT);
    advc_shape in = {1, 28, 28};
    st = advc_model_build("mlp:hidden=64", in, 10, RELU, &mlp);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    ck_assert(advc_graph_compile(mlp, GRAPH_B, NULL) == ADVC_OK);
    advc_graph_init_params(mlp, 1);
    tu_train_mnist(mlp, &tr, TRAIN_B, 100);
    masked = build_masked(mlp);
    tx = te.x;
    for (int i = 0; i < NT; i++) ty[i] = te.y[i];
    advc_dataset_free(&tr);
}

static void teardown(void)
{
    advc_graph_free(mlp);
    advc_graph_free(masked);
    advc_dataset_free(&te);
    mlp = masked = NULL;
}

/* Per test (in the test's own process): both models on two threads. */
static void pool_setup(void)
{
    pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    ck_assert(advc_graph_compile(mlp, GRAPH_B, pool2) == ADVC_OK);
    ck_assert(advc_graph_compile(masked, GRAPH_B, pool2) == ADVC_OK);
}

static void pool_teardown(void)
{
    advc_graph_compile(mlp, GRAPH_B, NULL);
    advc_graph_compile(masked, GRAPH_B, NULL);
    advc_pool_destroy(pool2);
    pool2 = NULL;
}

/* ---- helpers ------------------------------------------------------------- */

static void run(advc_graph *g, const advc_attack_config *c, const float *x,
                const int *y, int n, float *xa)
{
    advc_status st = advc_attack_run(g, c, x, y, n, xa);
    ck_assert_msg(st == ADVC_OK, "attack %s: %s", advc_attack_name(c->kind),
                  advc_last_error());
}

static float accuracy(advc_graph *g, const float *xa, int n)
{
    int pred[NT];
    advc_graph_forward(g, xa, n, ADVC_MODE_EVAL);
    advc_argmax_rows(n, 10, advc_graph_logits(g, 0), pred);
    int ok = 0;
    for (int i = 0; i < n; i++) ok += pred[i] == ty[i];
    return (float)ok / (float)n;
}

static advc_attack_config cfg_of(advc_attack_kind k, float eps, int steps)
{
    advc_attack_config c = advc_attack_defaults(k);
    c.eps = eps;
    c.steps = steps;
    c.seed = 11;
    return c;
}

static float *rows(void)
{
    float *a = malloc(sizeof(float) * NT * D);
    ck_assert_ptr_nonnull(a);
    return a;
}

/* ---- ball, box, vertices, strength --------------------------------------- */

START_TEST(test_ball_and_vertices)
{
    float *a = rows();
    const float eps = 0.1f;
    advc_attack_kind kinds[] = {ADVC_ATK_FAB_T, ADVC_ATK_SQUARE};
    for (int q = 0; q < 2; q++) {
        advc_attack_config c = cfg_of(kinds[q], eps, q ? 300 : 30);
        c.restarts = 2;
        run(mlp, &c, tx, ty, NT, a);
        for (size_t k = 0; k < (size_t)NT * D; k++) {
            float v = a[k], x = tx[k];
            ck_assert_msg(v >= 0.0f && v <= 1.0f &&
                              fabs((double)v - x) <= eps + 1e-6,
                          "%s: pixel %zu = %g, clean %g",
                          advc_attack_name(c.kind), k, (double)v, (double)x);
            /* Square only ever writes x +- eps (or the box edge) */
            if (kinds[q] == ADVC_ATK_SQUARE)
                ck_assert_msg(v == 0.0f || v == 1.0f ||
                                  fabs(fabs((double)v - x) - eps) <= 1e-6,
                              "square: pixel %zu moved by %g, not eps", k,
                              (double)(v - x));
        }
    }
    free(a);
}
END_TEST

/* FAB-T and Square are real attacks: at eps 0.1 on the trained MLP they
 * fool far more than random noise does, and FAB-T is about as strong as
 * APGD-CE (a boundary attack; 4 samples of slack). */
START_TEST(test_strength)
{
    float *a = rows();
    const float eps = 0.1f;
    float clean = accuracy(mlp, tx, NT);
    advc_attack_config c = cfg_of(ADVC_ATK_APGD_CE, eps, 100);
    run(mlp, &c, tx, ty, NT, a);
    float apgd = accuracy(mlp, a, NT);
    c = cfg_of(ADVC_ATK_FAB_T, eps, 100);
    run(mlp, &c, tx, ty, NT, a);
    float fab = accuracy(mlp, a, NT);
    c = cfg_of(ADVC_ATK_SQUARE, eps, 1000);
    run(mlp, &c, tx, ty, NT, a);
    float sq = accuracy(mlp, a, NT);
    ck_assert_msg(clean >= 0.75f, "clean %g", (double)clean);
    ck_assert_msg(fab <= apgd + 4.0f / NT, "fab-t %g, apgd-ce %g",
                  (double)fab, (double)apgd);
    ck_assert_msg(fab <= clean - 0.4f && sq <= clean - 0.3f,
                  "clean %g: fab-t %g, square %g", (double)clean, (double)fab,
                  (double)sq);
    free(a);
}
END_TEST

/* The final search only ever adds fooled samples (the iterates are the
 * same with and without it). */
START_TEST(test_fab_final_search)
{
    float *a = rows(), *b = rows();
    advc_attack_config c = cfg_of(ADVC_ATK_FAB_T, 0.06f, 20);
    c.target_classes = 3;
    c.fab.final_search = false;
    run(mlp, &c, tx, ty, NT, a);
    c.fab.final_search = true;
    run(mlp, &c, tx, ty, NT, b);
    int pa[NT], pb[NT], more = 0;
    advc_graph_forward(mlp, a, NT, ADVC_MODE_EVAL);
    advc_argmax_rows(NT, 10, advc_graph_logits(mlp, 0), pa);
    advc_graph_forward(mlp, b, NT, ADVC_MODE_EVAL);
    advc_argmax_rows(NT, 10, advc_graph_logits(mlp, 0), pb);
    for (int i = 0; i < NT; i++) {
        ck_assert_msg(pa[i] == ty[i] || pb[i] != ty[i],
                      "sample %d: fooled without the search, not with it", i);
        more += pa[i] == ty[i] && pb[i] != ty[i];
    }
    (void)more; /* may be 0 on an easy model; the direction is the test */
    free(a), free(b);
}
END_TEST

/* ---- determinism --------------------------------------------------------- */

START_TEST(test_determinism)
{
    float *a = rows(), *b = rows();
    advc_attack_kind kinds[] = {ADVC_ATK_FAB_T, ADVC_ATK_SQUARE};
    for (int q = 0; q < 2; q++) {
        int sq_queries = tu_quick() ? 60 : 200; /* past two halvings */
        advc_attack_config c = cfg_of(kinds[q], 0.08f, q ? sq_queries : 15);
        c.restarts = 2; /* FAB-T's second restart starts at random */
        c.target_classes = 2;
        const char *nm = advc_attack_name(c.kind);
        run(mlp, &c, tx, ty, NT, a);
        run(mlp, &c, tx, ty, NT, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) == 0,
                      "%s: same seed, different x_adv", nm);
        /* one thread: the same bits (the graph is recompiled without the
         * pool; parameters are kept) */
        ck_assert(advc_graph_compile(mlp, GRAPH_B, NULL) == ADVC_OK);
        run(mlp, &c, tx, ty, NT, b);
        ck_assert(advc_graph_compile(mlp, GRAPH_B, pool2) == ADVC_OK);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) == 0,
                      "%s: 1 and 2 threads differ", nm);
        /* early_stop never changes a result */
        c.early_stop = false;
        run(mlp, &c, tx, ty, NT, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) == 0,
                      "%s: early_stop changed x_adv", nm);
        c.early_stop = true;
        if (kinds[q] == ADVC_ATK_SQUARE) {
            c.seed += 1;
            run(mlp, &c, tx, ty, NT, b);
            ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) != 0,
                          "square: another seed gave the same x_adv");
        }
    }
    free(a), free(b);
}
END_TEST

/* FAB-T takes the gradient at a point it has just tested from the test's
 * own forward (advc_graph_keep_rows).  A TRAIN-mode forward cannot be
 * narrowed, so there it evaluates those points again, the reference's
 * way; on the MLP (no batch norm, no dropout) both modes compute the same
 * values, so the two ways must give the same bits.  With 2 restarts and
 * early_stop off, so that fooled samples keep stepping beside pulled-back
 * ones. */
START_TEST(test_fab_kept_gradients)
{
    float *a = rows(), *b = rows();
    advc_attack_config c = cfg_of(ADVC_ATK_FAB_T, 0.08f, 25);
    c.restarts = 2;
    c.target_classes = 3;
    for (int es = 0; es < 2; es++) {
        c.early_stop = es;
        c.mode = ADVC_MODE_EVAL;
        run(mlp, &c, tx, ty, NT, a);
        c.mode = ADVC_MODE_TRAIN;
        run(mlp, &c, tx, ty, NT, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * NT * D) == 0,
                      "early_stop %d: kept gradients and evaluating again "
                      "differ", es);
    }
    free(a), free(b);
}
END_TEST

/* A sample's Square queries do not depend on its neighbours: attacking
 * the samples one at a time with their indices as keys gives the rows of
 * the batch run. */
START_TEST(test_square_per_sample)
{
    float *a = rows(), *b = rows();
    uint64_t keys[NT];
    for (int i = 0; i < NT; i++) keys[i] = (uint64_t)i;
    advc_attack_config c = cfg_of(ADVC_ATK_SQUARE, 0.08f, 150);
    c.sample_keys = keys;
    run(mlp, &c, tx, ty, NT, a);
    for (int i = 0; i < NT; i += 9) {
        c.sample_keys = keys + i;
        run(mlp, &c, tx + (size_t)i * D, ty + i, 1, b);
        ck_assert_msg(memcmp(a + (size_t)i * D, b, D * sizeof *b) == 0,
                      "square: sample %d alone differs from the batch", i);
    }
    free(a), free(b);
}
END_TEST

/* ---- the cascade --------------------------------------------------------- */

/* An AutoAttack list shortened for a test (fewer steps and queries). */
static int short_aa(float eps, advc_attack_config *list)
{
    int n = advc_autoattack_list(eps, 3, list);
    ck_assert_int_eq(n, ADVC_AA_ATTACKS);
    ck_assert(list[0].kind == ADVC_ATK_APGD_CE &&
              list[1].kind == ADVC_ATK_APGD_T &&
              list[2].kind == ADVC_ATK_FAB_T &&
              list[3].kind == ADVC_ATK_SQUARE);
    /* the reference's standard settings */
    ck_assert(list[0].steps == 100 && list[0].restarts == 1);
    ck_assert(list[1].steps == 100 && list[1].target_classes == 9);
    ck_assert(list[2].steps == 100 && list[2].target_classes == 9 &&
              list[2].restarts == 1);
    ck_assert(list[3].steps == 5000 && list[3].square.p_init == 0.8f);
    ck_assert(list[2].fab.alpha_max == 0.1f && list[2].fab.eta == 1.05f &&
              list[2].fab.beta == 0.9f);
    list[0].steps = list[1].steps = list[2].steps = 10;
    list[1].target_classes = list[2].target_classes = 3;
    list[3].steps = 200;
    return n;
}

/* The summed confidence of the wrong predictions attack k of a cascade
 * made (fooled_conf is their mean over the samples it turned). */
static double conf_sum(const advc_robust_report *r, int k, int n)
{
    float before = k ? r->robust_acc[0][k - 1] : r->clean_acc[0];
    long turned = lroundf((before - r->robust_acc[0][k]) * n);
    return turned ? (double)r->fooled_conf[0][k] * (double)turned : 0.0;
}

START_TEST(test_cascade)
{
    const float eps = 0.08f;
    advc_attack_config list[ADVC_AA_ATTACKS];
    int na = short_aa(eps, list);
    advc_robust_report r;
    advc_status st = advc_eval_cascade(mlp, &te, NT, list, na, &r);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    ck_assert(r.cascade && r.n == NT && r.judge == 0);
    /* monotone: no attack gives back a point an earlier one broke */
    ck_assert(r.robust_acc[0][0] <= r.clean_acc[0]);
    for (int a = 1; a < na; a++)
        ck_assert_msg(r.robust_acc[0][a] <= r.robust_acc[0][a - 1],
                      "after %s %g > before %g",
                      advc_attack_name(list[a].kind),
                      (double)r.robust_acc[0][a],
                      (double)r.robust_acc[0][a - 1]);
    ck_assert(r.worst_acc[0] == r.robust_acc[0][na - 1]);
    ck_assert_msg(r.robust_acc[0][na - 1] < r.robust_acc[0][0],
                  "the later attacks broke nothing (%g)",
                  (double)r.robust_acc[0][0]);

    /* Its first column is APGD-CE alone on every sample (same keys). */
    float *a = rows();
    uint64_t keys[NT];
    for (int i = 0; i < NT; i++) keys[i] = (uint64_t)i;
    advc_attack_config c = list[0];
    c.sample_keys = keys;
    run(mlp, &c, tx, ty, NT, a);
    ck_assert_msg(fabsf(accuracy(mlp, a, NT) - r.robust_acc[0][0]) < 1e-6f,
                  "cascade's APGD-CE %g, alone %g", (double)r.robust_acc[0][0],
                  (double)accuracy(mlp, a, NT));
    free(a);

    /* Batches of 16 give the same figures: each sample's streams follow
     * its index in the data, not its place in a batch. */
    ck_assert(advc_graph_compile(mlp, 16, pool2) == ADVC_OK);
    advc_robust_report r16;
    st = advc_eval_cascade(mlp, &te, NT, list, na, &r16);
    ck_assert(advc_graph_compile(mlp, GRAPH_B, pool2) == ADVC_OK);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    for (int k = 0; k < na; k++)
        ck_assert_msg(r16.robust_acc[0][k] == r.robust_acc[0][k],
                      "batch 16: after %s %g, batch 64: %g",
                      advc_attack_name(list[k].kind),
                      (double)r16.robust_acc[0][k],
                      (double)r.robust_acc[0][k]);

    /* Shards add up to the whole: the rows [h, NT) evaluated alone with
     * first_index h keep their random streams (eval --first). */
    const int h = NT / 3;
    advc_dataset lo, hi;
    ck_assert(advc_dataset_slice(&te, 0, h, &lo) == ADVC_OK);
    ck_assert(advc_dataset_slice(&te, h, NT, &hi) == ADVC_OK);
    advc_robust_report rl, rh;
    ck_assert(advc_eval_cascade(mlp, &lo, h, list, na, &rl) == ADVC_OK);
    for (int k = 0; k < na; k++) list[k].first_index = (uint64_t)h;
    ck_assert(advc_eval_cascade(mlp, &hi, NT - h, list, na, &rh) == ADVC_OK);
    /* The counts must add up, and so must the summed confidence of the
     * wrong predictions each attack makes, which moves with the
     * adversarial points themselves (counts alone rarely notice other
     * random streams). */
    double cw = 0, cp = 0;
    for (int k = 0; k < na; k++) {
        list[k].first_index = 0;
        long whole = lroundf(r.robust_acc[0][k] * NT);
        long parts = lroundf(rl.robust_acc[0][k] * h) +
                     lroundf(rh.robust_acc[0][k] * (NT - h));
        ck_assert_msg(whole == parts, "after %s: %ld robust in the whole, "
                      "%ld in the shards", advc_attack_name(list[k].kind),
                      whole, parts);
        cw += conf_sum(&r, k, NT);
        cp += conf_sum(&rl, k, h) + conf_sum(&rh, k, NT - h);
    }
    ck_assert_msg(cw > 0 && fabs(cw - cp) < 1e-4, "confidence of the "
                  "wrong predictions: %.6f in the whole, %.6f in the shards",
                  cw, cp);
    advc_dataset_free(&lo);
    advc_dataset_free(&hi);

    /* Mixed exit modes are refused. */
    list[2].exits = ADVC_EXITS_ONE;
    ck_assert(advc_eval_cascade(mlp, &te, NT, list, na, &r) == ADVC_ERR_ARG);
}
END_TEST

/* ---- a masked gradient --------------------------------------------------- */

START_TEST(test_masked_gradient)
{
    const float eps = 0.15f;
    float *a = rows();
    float clean = accuracy(masked, tx, NT);
    ck_assert_msg(clean >= 0.7f, "quantised model: clean accuracy %g",
                  (double)clean);
    /* the honest reference: PGD on the same MLP without the quantiser */
    advc_attack_config c = cfg_of(ADVC_ATK_APGD_CE, eps, 50);
    run(mlp, &c, tx, ty, NT, a);
    float open = accuracy(mlp, a, NT);

    advc_attack_kind grad[] = {ADVC_ATK_APGD_CE, ADVC_ATK_APGD_T,
                               ADVC_ATK_FAB_T};
    c = cfg_of(ADVC_ATK_SQUARE, eps, tu_quick() ? 500 : 1000);
    run(masked, &c, tx, ty, NT, a);
    float sq = accuracy(masked, a, NT);
    ck_assert_msg(sq <= open + 0.2f, "square %g on the masked model, "
                  "APGD-CE %g without the mask", (double)sq, (double)open);
    for (int q = 0; q < 3; q++) {
        c = cfg_of(grad[q], eps, 50);
        c.target_classes = 3;
        run(masked, &c, tx, ty, NT, a);
        float acc = accuracy(masked, a, NT);
        ck_assert_msg(acc >= sq + 0.3f, "%s %g on the masked model, square "
                      "%g: the mask should fool it",
                      advc_attack_name(grad[q]), (double)acc, (double)sq);
    }
    advc_masking_report m;
    advc_status st = advc_masking_checks(masked, &te, NT, eps, 10, 1.0f, 5,
                                         &m);
    ck_assert_msg(st == ADVC_OK, "%s", advc_last_error());
    ck_assert_msg(!m.zero_grad_ok && m.zero_grad_share > 0.9f,
                  "zero-gradient share %g not flagged",
                  (double)m.zero_grad_share);
    advc_masking_checks(mlp, &te, NT, eps, 10, 1.0f, 5, &m);
    ck_assert_msg(m.zero_grad_ok, "the plain MLP flagged for zero gradients");
    free(a);
}
END_TEST

Suite *advc_suite_aa(void)
{
    Suite *s = suite_create("aa");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, test_logit_diff_loss);
    tcase_add_test(pure, test_fab_projection);
    tcase_add_test(pure, test_square_schedule);
    suite_add_tcase(s, pure);

    TCase *trained = tcase_create("trained");
    tcase_set_timeout(trained, 600);
    tcase_add_unchecked_fixture(trained, setup, teardown);
    tcase_add_checked_fixture(trained, pool_setup, pool_teardown);
    tcase_add_test(trained, test_ball_and_vertices);
    tcase_add_test(trained, test_strength);
    tcase_add_test(trained, test_fab_final_search);
    tcase_add_test(trained, test_fab_kept_gradients);
    tcase_add_test(trained, test_determinism);
    tcase_add_test(trained, test_square_per_sample);
    tcase_add_test(trained, test_cascade);
    tcase_add_test(trained, test_masked_gradient);
    suite_add_tcase(s, trained);
    return s;
}
