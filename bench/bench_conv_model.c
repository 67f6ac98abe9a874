/* bench_conv_model.c: every convolution layer of a model, alone, with each
 * algorithm that can compute it (advc_conv_algo), at the model's shapes:
 *   advc-bench conv --model SPEC [--batch B] [--threads T] [--reps R]
 * For each layer and algorithm: a one-layer graph (input, conv, flatten)
 * at batch B; verified on 2 images against the direct references
 * (forward, input gradient, weight gradient, within the algorithm's bound)
 * before timing the forward, the input-gradient-only backward (an attack
 * step) and the full backward (a training step's).  Then one line per
 * layer with the choice the model's compile made (chosen=) and the
 * fastest measured (fastest=), and a total per algorithm choice.
 * Input 1x28x28 (MNIST), as advc-bench train. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static const advc_conv_algo algos[] = { ADVC_CONV_GEMM, ADVC_CONV_IMPLICIT,
                                        ADVC_CONV_WINOGRAD };
#define NALGOS ((int)(sizeof algos / sizeof algos[0]))

/* Allowed error in units of 2^-24 sum|w||x| (the bounds tests/test_conv.c
 * holds): a GEMM's fp32 sum over K terms, or Winograd's 512. */
static double tolerance(advc_conv_algo a, int kterms)
{
    return a == ADVC_CONV_WINOGRAD ? 512.0 : 4.0 * kterms;
}

typedef struct {
    advc_graph *g;
    float *x;
    int n;
    advc_pass pass;
} layer_run;

static void run_forward(void *v)
{
    layer_run *r = v;
    advc_graph_forward(r->g, r->x, r->n, ADVC_MODE_TRAIN);
}

static void run_backward(void *v)
{
    layer_run *r = v;
    if (r->pass == ADVC_PASS_UPDATE) advc_graph_zero_grads(r->g);
    advc_graph_backward(r->g, r->pass);
}

static float *rand_floats(size_t n, uint64_t seed)
{
    float *x = advc_alloc((n ? n : 1) * sizeof *x);
    advc_rng r;
    advc_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * advc_rng_uniform(&r) - 1.0f;
    return x;
}

/* max_k |a_k - ref_k| / (2^-24 s_k) */
static double scaled_err(const float *a, const float *ref, const float *s,
                         size_t n)
{
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs((double)a[k] - ref[k]) / (0x1p-24 * (s[k] + 1e-30));
        if (e > worst || e != e) worst = e;
    }
    return worst;
}

/* Worst scaled error of the layer graph g on 2 images: outputs, input
 * gradients and the weight gradient against the references. */
static double verify_layer(advc_graph *g, const advc_conv_layer *L,
                           const float *x, const float *dyv)
{
    const advc_conv_geom *gm = &L->geom;
    int n = 2, kk = gm->kh * gm->kw;
    size_t nx = (size_t)gm->c * gm->h * gm->w, ny = (size_t)L->cout * gm->oh *
                                                    gm->ow;
    size_t nw = (size_t)L->cout * gm->c * kk;
    const float *w = advc_graph_params(g, NULL);
    const float *b = L->bias ? w + nw : NULL;
    advc_graph_forward(g, x, n, ADVC_MODE_TRAIN);
    memcpy(advc_graph_dlogits(g, 0), dyv, n * ny * sizeof *dyv);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    float *ref = calloc(nx > ny ? nx : ny, sizeof *ref);
    float *s = calloc(nx > ny ? nx : ny, sizeof *s);
    float *aw = malloc(nw * sizeof *aw), *ax = malloc(nx * sizeof *ax);
    float *ady = malloc(ny * sizeof *ady);
    float *rw = calloc(nw, sizeof *rw), *sw = calloc(nw, sizeof *sw);
    for (size_t k = 0; k < nw; k++) aw[k] = fabsf(w[k]);
    double worst = 0, e;
    for (int i = 0; i < n; i++) {
        const float *xi = x + i * nx, *dyi = dyv + i * ny;
        for (size_t k = 0; k < nx; k++) ax[k] = fabsf(xi[k]);
        for (size_t k = 0; k < ny; k++) ady[k] = fabsf(dyi[k]);
        advc_conv2d_ref(gm, L->cout, xi, w, b, ref);
        advc_conv2d_ref(gm, L->cout, ax, aw, NULL, s);
        e = scaled_err(advc_graph_logits(g, 0) + i * ny, ref, s, ny);
        if (e > worst) worst = e;
        memset(ref, 0, nx * sizeof *ref), memset(s, 0, nx * sizeof *s);
        advc_conv2d_input_grad_ref(gm, L->cout, dyi, w, ref);
        advc_conv2d_input_grad_ref(gm, L->cout, ady, aw, s);
        e = scaled_err(advc_graph_input_grad(g) + i * nx, ref, s, nx);
        if (e > worst) worst = e;
        advc_conv2d_weight_grad_ref(gm, L->cout, xi, dyi, rw);
        advc_conv2d_weight_grad_ref(gm, L->cout, ax, ady, sw);
    }
    e = scaled_err(advc_graph_grads(g, NULL), rw, sw, nw);
    if (e > worst) worst = e;
    free(ref), free(s), free(aw), free(ax), free(ady), free(rw), free(sw);
    return worst;
}

typedef struct {
    double fwd, igrad, train; /* seconds: forward, attack and update backward */
    int ok;
} layer_times;

/* Builds layer L alone with algorithm a, verifies and times it. */
static layer_times bench_layer(const advc_conv_layer *L, advc_conv_algo a,
                               advc_pool *pool, int B, int reps,
                               double *err)
{
    layer_times t = { 0, 0, 0, 0 };
    const advc_conv_geom *gm = &L->geom;
    advc_graph *g = advc_graph_new((advc_shape){ gm->c, gm->h, gm->w });
    int y = advc_conv2d(g, "conv", 0, L->cout, gm->kh, gm->stride, gm->pad,
                        L->bias);
    advc_graph_add_exit(g, advc_flatten(g, y), 1.0f);
    advc_graph_set_conv_algo(g, a);
    if (advc_graph_compile(g, B, pool) != ADVC_OK) {
        fprintf(stderr, "advc-bench conv: %s\n", advc_last_error());
        advc_graph_free(g);
        return t;
    }
    advc_conv_layer got;
    advc_graph_conv_layer(g, 0, &got);
    advc_graph_init_params(g, 1);
    size_t nx = (size_t)gm->c * gm->h * gm->w;
    size_t ny = (size_t)L->cout * gm->oh * gm->ow;
    float *x = rand_floats(nx * B, 2), *dyv = rand_floats(ny * B, 3);
    *err = verify_layer(g, L, x, dyv);
    t.ok = got.algo == a && *err <= tolerance(a, gm->c * gm->kh * gm->kw);
    layer_run r = { g, x, B, ADVC_PASS_ATTACK };
    t.fwd = bench_time(run_forward, &r, reps);
    memcpy(advc_graph_dlogits(g, 0), dyv, ny * B * sizeof *dyv);
    t.igrad = bench_time(run_backward, &r, reps);
    r.pass = ADVC_PASS_UPDATE;
    t.train = bench_time(run_backward, &r, reps);
    advc_free(x), advc_free(dyv);
    advc_graph_free(g);
    return t;
}

static bool algo_fits(const advc_conv_layer *L, advc_conv_algo a)
{
    const advc_conv_geom *g = &L->geom;
    if (a != ADVC_CONV_WINOGRAD) return true;
    return g->kh == 3 && g->kw == 3 && g->stride == 1 && g->pad <= 2;
}

int bench_conv_model(const bench_opts *o)
{
    int B = o->batch > 0 ? o->batch : 128, th[2], nth = bench_thread_list(o, th);
    int failed = 0;
    double peak = bench_peak_gflops();
    for (int ti = 0; ti < nth; ti++) {
        advc_pool *pool = advc_pool_create(th[ti]);
        advc_graph *m = NULL;
        advc_act_spec act = { ADVC_ACT_RELU, 0 };
        if (advc_model_build(o->model, (advc_shape){ 1, 28, 28 }, 10, act,
                             &m) != ADVC_OK ||
            advc_graph_compile(m, B, pool) != ADVC_OK) {
            fprintf(stderr, "advc-bench conv: %s\n", advc_last_error());
            advc_graph_free(m);
            advc_pool_destroy(pool);
            return 1;
        }
        double total_chosen = 0, total_best = 0, total[NALGOS] = { 0 };
        advc_conv_layer L;
        for (int i = 0; advc_graph_conv_layer(m, i, &L); i++) {
            double best = INFINITY, chosen = 0;
            advc_conv_algo fastest = ADVC_CONV_GEMM;
            const advc_conv_geom *g = &L.geom;
            double gflop = 2e-9 * L.cout * g->c * g->kh * g->kw * g->oh *
                           g->ow * B;
            for (int ai = 0; ai < NALGOS; ai++) {
                advc_conv_algo a = algos[ai];
                if (!algo_fits(&L, a)) continue;
                double err = 0;
                layer_times t = bench_layer(&L, a, pool, B, o->reps, &err);
                double step = t.fwd + t.train; /* a training step's share */
                printf("bench=conv-layer model=%s layer=%s cin=%d h=%d w=%d "
                       "cout=%d k=%d s=%d p=%d algo=%s threads=%d batch=%d "
                       "fwd_ms=%.3f igrad_ms=%.3f wgrad_ms=%.3f "
                       "step_ms=%.3f fwd_gflops=%.1f step_pct_peak=%.0f "
                       "err=%.1f status=%s\n",
                       o->model, L.name, g->c, g->h, g->w, L.cout, g->kh,
                       g->stride, g->pad, advc_conv_algo_name(a), th[ti], B,
                       t.fwd * 1e3, t.igrad * 1e3, (t.train - t.igrad) * 1e3,
                       step * 1e3, gflop / t.fwd,
                       peak > 0 ? 100.0 * 3 * gflop / step / (peak * th[ti])
                                : 0.0,
                       err, t.ok ? "PASS" : "FAIL");
                failed += !t.ok;
                total[ai] += step;
                if (step < best) best = step, fastest = a;
                if (a == L.algo) chosen = step;
            }
            total_chosen += chosen;
            total_best += best;
            printf("bench=conv-choice model=%s layer=%s threads=%d chosen=%s "
                   "fastest=%s chosen_step_ms=%.3f fastest_step_ms=%.3f\n",
                   o->model, L.name, th[ti], advc_conv_algo_name(L.algo),
                   advc_conv_algo_name(fastest), chosen * 1e3, best * 1e3);
        }
        printf("bench=conv-model model=%s threads=%d batch=%d "
               "chosen_step_ms=%.2f fastest_step_ms=%.2f all_gemm_ms=%.2f "
               "all_implicit_ms=%.2f\n",
               o->model, th[ti], B, total_chosen * 1e3, total_best * 1e3,
               total[0] * 1e3, total[1] * 1e3);
        advc_graph_free(m);
        advc_pool_destroy(pool);
    }
    return failed;
}
