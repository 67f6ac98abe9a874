/* bench_train.c: training throughput, images per second, for one model
 * and one recipe, through the library's training loop (advc_train).
 *   advc-bench train --model SPEC [--recipe R] [--steps K] [--eps E]
 *                    [--batch B] [--threads T] [--reps R]
 * Data: the committed MNIST sample (data/mnist-sample) when it is there,
 * else seeded random 1x28x28 images with random labels.  Verification
 * before timing: the recipe's loss on one fixed batch must be finite and
 * fall over 8 steps (the step really trains).  Reported: median over
 * --reps timed runs of one epoch of 10 batches (free: 10 batches x m
 * replays; img_per_s counts each image once per optimizer step), the
 * forward's multiply-adds per image in the GEMM layers and, for std,
 * fgsm-rs and pgd, the step's GEMM-layer work per second and as a
 * fraction of the FMA peak measured in the same run (step_pct_peak).
 * The catastrophic-overfitting guard is off (it is per-epoch
 * evaluation). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "advc/data.h"
#include "advc/train.h"
#include "bench.h"

#define STEPS_PER_REP 10

typedef struct {
    advc_graph *g;
    advc_dataset d;          /* STEPS_PER_REP batches                     */
    advc_train_config cfg;
    advc_train_result res;
    int failed;
} train_ctx;

static void run_epoch(void *v)
{
    train_ctx *t = v;
    if (advc_train(t->g, &t->d, &t->cfg, &t->res) != ADVC_OK) t->failed = 1;
}

/* Fills (x, y) for STEPS_PER_REP batches from the sample or at random. */
static void make_data(float *x, int *y, int n, size_t per)
{
    advc_dataset d;
    if (advc_dataset_load_dir("data/mnist-sample", true, &d) == ADVC_OK &&
        (size_t)d.c * d.h * d.w == per) {
        for (int i = 0; i < n; i++) {
            memcpy(x + (size_t)i * per, d.x + (size_t)(i % d.n) * per,
                   per * sizeof *x);
            y[i] = d.y[i % d.n];
        }
        advc_dataset_free(&d);
        return;
    }
    advc_rng r;
    advc_rng_seed(&r, 3, 0);
    for (size_t i = 0; i < (size_t)n * per; i++) x[i] = advc_rng_uniform(&r);
    for (int i = 0; i < n; i++) y[i] = (int)advc_rng_below(&r, 10);
}

/* What every case of one run shares. */
typedef struct {
    const char *spec, *rname;
    advc_recipe recipe;
    const bench_opts *o;
    advc_shape in;
    int B, n;      /* batch; images in STEPS_PER_REP batches     */
    float *x;      /* (n, in) */
    int *y;        /* (n)     */
    double peak;   /* one core's FMA peak, GFLOP/s, measured once */
} train_bench;

/* What one case measured. */
typedef struct {
    float first, after; /* batch 0's loss after 1 and after 8 steps */
    double sec;         /* median seconds of one loop epoch          */
    long updates;       /* optimizer steps in that epoch             */
    int pass;
} train_measure;

/* The case's model built, compiled for B on pool and initialised, and its
 * training settings (guard off, no progress line) into t; returns 1
 * (said on stderr) if any of it fails. */
static int setup_case(const train_bench *tb, advc_pool *pool, train_ctx *t)
{
    advc_act_spec act = { ADVC_ACT_RELU, 0 };
    memset(t, 0, sizeof *t);
    if (advc_model_build(tb->spec, tb->in, 10, act, &t->g) != ADVC_OK ||
        advc_graph_compile(t->g, tb->B, pool) != ADVC_OK) {
        fprintf(stderr, "advc-bench train: %s\n", advc_last_error());
        return 1;
    }
    advc_graph_init_params(t->g, 1);
    t->cfg = advc_train_defaults();
    t->cfg.batch = tb->B;
    t->cfg.recipe = tb->recipe;
    t->cfg.rc.eps = tb->o->eps > 0 ? tb->o->eps : 0.3f;
    t->cfg.rc.steps = tb->o->steps;
    t->cfg.guard.count = 0;
    t->cfg.progress = ADVC_PROGRESS_NONE;
    if (advc_train_check(t->g, &t->cfg) != ADVC_OK) {
        fprintf(stderr, "advc-bench train: %s\n", advc_last_error());
        return 1;
    }
    return 0;
}

/* The case's line: settings, speed, and for std, fgsm-rs and pgd the
 * step's GEMM-layer work against the peak. */
static void print_case(const train_bench *tb, const advc_graph *g,
                       const advc_recipe_config *rc, int threads,
                       const train_measure *m)
{
    advc_recipe recipe = tb->recipe;
    int B = tb->B;
    printf("bench=train model=%s recipe=%s", tb->spec, tb->rname);
    if (recipe == ADVC_RECIPE_PGD || recipe == ADVC_RECIPE_TRADES)
        printf(" steps=%d", rc->steps);
    if (recipe == ADVC_RECIPE_FREE) printf(" replays=%d", rc->replays);
    if (recipe != ADVC_RECIPE_STD) printf(" eps=%g", (double)rc->eps);
    double ips = (double)m->updates * B / m->sec;
    double macs = advc_graph_forward_macs(g);
    printf(" isa=%s threads=%d batch=%d params=%zu img_per_s=%.1f "
           "ms_per_step=%.2f fwd_mmac_per_img=%.2f", advc_isa_name(),
           threads, B, advc_graph_num_params(g), ips,
           m->sec * 1e3 / (double)m->updates, macs / 1e6);
    /* The step's work in the GEMM layers, as the direct convolution
     * would do it (Winograd layers do less, so more than 100% of the
     * peak is possible): per image 2 flops per multiply-add for each
     * forward, input gradient and weight gradient, i.e. 6 for the
     * update and 4 for each attack step (forward + input gradient). */
    int attack_steps = recipe == ADVC_RECIPE_STD       ? 0
                       : recipe == ADVC_RECIPE_PGD     ? rc->steps
                       : recipe == ADVC_RECIPE_FGSM_RS ? 1
                                                       : -1;
    if (attack_steps >= 0) {
        double gf = ips * macs * (6.0 + 4.0 * attack_steps) / 1e9;
        printf(" step_gflops=%.1f peak_gflops=%.1f step_pct_peak=%.0f", gf,
               tb->peak,
               tb->peak > 0 ? 100.0 * gf / (tb->peak * threads) : 0.0);
    }
    printf(" loss_first=%.4f loss_after8=%.4f max_rss_mb=%.1f "
           "status=%s\n", (double)m->first, (double)m->after,
           bench_max_rss_mb(), m->pass ? "PASS" : "FAIL");
}

/* One case on t's model: verify that 8 steps on batch 0 (free: 8
 * replays) lower its loss, time one loop epoch over STEPS_PER_REP
 * batches, print the line.  Returns 1 if it failed. */
static int train_case(const train_bench *tb, train_ctx *t, int threads)
{
    train_measure m;
    advc_recipe_config rc = advc_recipe_resolve(
        tb->recipe, &t->cfg.rc, advc_graph_num_exits(t->g));
    int replays = tb->recipe == ADVC_RECIPE_FREE ? rc.replays : 1;
    /* Verify.  epochs counts loop epochs times the replays. */
    t->d = (advc_dataset){ tb->B, 1, 28, 28, 10, tb->x, tb->y };
    t->cfg.epochs = replays;
    run_epoch(t);
    m.first = t->res.loss;
    t->cfg.epochs = 7 * replays;
    run_epoch(t);
    m.after = t->res.loss;
    m.pass = !t->failed && isfinite(m.first) && isfinite(m.after) &&
             m.after < m.first;
    /* Time. */
    t->d.n = tb->n;
    t->cfg.epochs = replays;
    m.sec = bench_time(run_epoch, t, tb->o->reps);
    m.pass = m.pass && !t->failed && isfinite(t->res.loss);
    m.updates = t->res.steps;
    print_case(tb, t->g, &rc, threads, &m);
    return !m.pass;
}

int bench_train(const bench_opts *o)
{
    train_bench tb = { .o = o, .in = { 1, 28, 28 } };
    tb.spec = o->model ? o->model : "cnn";
    tb.rname = o->recipe ? o->recipe : "std";
    tb.recipe = advc_recipe_parse(tb.rname);
    if (tb.recipe == ADVC_RECIPE_COUNT) {
        fprintf(stderr, "advc-bench train: unknown --recipe '%s'\n",
                tb.rname);
        return 1;
    }
    int th[2];
    tb.B = o->batch > 0 ? o->batch : 128;
    int nth = bench_thread_list(o, th);
    int failed = 0;
    size_t per = advc_shape_size(tb.in);
    tb.n = tb.B * STEPS_PER_REP;
    tb.x = advc_alloc((size_t)tb.n * per * sizeof *tb.x);
    tb.y = malloc((size_t)tb.n * sizeof *tb.y);
    make_data(tb.x, tb.y, tb.n, per);
    tb.peak = bench_peak_gflops(); /* one core, measured now */
    for (int ti = 0; ti < nth; ti++) {
        advc_pool *pool = advc_pool_create(th[ti]);
        train_ctx t;
        int broken = setup_case(&tb, pool, &t);
        if (!broken) failed += train_case(&tb, &t, th[ti]);
        advc_graph_free(t.g);
        advc_pool_destroy(pool);
        if (broken) {
            failed++;
            break;
        }
    }
    advc_free(tb.x);
    free(tb.y);
    return failed;
}
