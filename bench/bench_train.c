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
 * forward's multiply-adds per image in the GEMM layers and, for std, the
 * GEMM work done per second (6 flops per forward multiply-add).  The
 * catastrophic-overfitting guard is off (it is per-epoch evaluation). */
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

int bench_train(const bench_opts *o)
{
    const char *spec = o->model ? o->model : "cnn";
    const char *rname = o->recipe ? o->recipe : "std";
    advc_recipe recipe = advc_recipe_parse(rname);
    if (recipe == ADVC_RECIPE_COUNT) {
        fprintf(stderr, "advc-bench train: unknown --recipe '%s'\n", rname);
        return 1;
    }
    int B = o->batch > 0 ? o->batch : 128, th[2], nth = bench_thread_list(o, th);
    int failed = 0;
    advc_shape in = { 1, 28, 28 };
    size_t per = advc_shape_size(in);
    int n = B * STEPS_PER_REP;
    float *x = advc_alloc((size_t)n * per * sizeof *x);
    int *y = malloc((size_t)n * sizeof *y);
    make_data(x, y, n, per);
    for (int ti = 0; ti < nth; ti++) {
        advc_pool *pool = advc_pool_create(th[ti]);
        advc_graph *g = NULL;
        advc_act_spec act = { ADVC_ACT_RELU, 0 };
        if (advc_model_build(spec, in, 10, act, &g) != ADVC_OK ||
            advc_graph_compile(g, B, pool) != ADVC_OK) {
            fprintf(stderr, "advc-bench train: %s\n", advc_last_error());
            advc_graph_free(g);
            advc_pool_destroy(pool);
            failed++;
            break;
        }
        advc_graph_init_params(g, 1);
        train_ctx t;
        memset(&t, 0, sizeof t);
        t.g = g;
        t.cfg = advc_train_defaults();
        t.cfg.batch = B;
        t.cfg.recipe = recipe;
        t.cfg.rc.eps = o->eps > 0 ? o->eps : 0.3f;
        t.cfg.rc.steps = o->steps;
        t.cfg.guard.count = 0;
        t.cfg.progress = ADVC_PROGRESS_NONE;
        if (advc_train_check(g, &t.cfg) != ADVC_OK) {
            fprintf(stderr, "advc-bench train: %s\n", advc_last_error());
            advc_graph_free(g);
            advc_pool_destroy(pool);
            failed++;
            break;
        }
        advc_recipe_config rc = advc_recipe_resolve(
            recipe, &t.cfg.rc, advc_graph_num_exits(g));
        int replays = recipe == ADVC_RECIPE_FREE ? rc.replays : 1;
        /* Verify: 8 steps on batch 0 (free: 8 replays) must lower its
         * loss.  epochs counts loop epochs times the replays. */
        t.d = (advc_dataset){ B, 1, 28, 28, 10, x, y };
        t.cfg.epochs = replays;
        run_epoch(&t);
        float first = t.res.loss;
        t.cfg.epochs = 7 * replays;
        run_epoch(&t);
        float after = t.res.loss;
        int pass = !t.failed && isfinite(first) && isfinite(after) &&
                   after < first;
        /* Time: one loop epoch over STEPS_PER_REP batches. */
        t.d.n = n;
        t.cfg.epochs = replays;
        double sec = bench_time(run_epoch, &t, o->reps);
        pass = pass && !t.failed && isfinite(t.res.loss);
        long updates = t.res.steps;
        printf("bench=train model=%s recipe=%s", spec, rname);
        if (recipe == ADVC_RECIPE_PGD || recipe == ADVC_RECIPE_TRADES)
            printf(" steps=%d", rc.steps);
        if (recipe == ADVC_RECIPE_FREE) printf(" replays=%d", rc.replays);
        if (recipe != ADVC_RECIPE_STD) printf(" eps=%g", (double)rc.eps);
        double ips = (double)updates * B / sec;
        double macs = advc_graph_forward_macs(g);
        printf(" isa=%s threads=%d batch=%d img_per_s=%.1f ms_per_step=%.2f "
               "fwd_mmac_per_img=%.2f", advc_isa_name(), th[ti], B, ips,
               sec * 1e3 / (double)updates, macs / 1e6);
        /* std: forward, input gradient and weight gradient are 3 GEMMs
         * of the forward's size, 2 flops per multiply-add. */
        if (recipe == ADVC_RECIPE_STD)
            printf(" gemm_gflops=%.1f", ips * 6.0 * macs / 1e9);
        printf(" loss_first=%.4f loss_after8=%.4f max_rss_mb=%.1f "
               "status=%s\n", (double)first, (double)after, bench_max_rss_mb(),
               pass ? "PASS" : "FAIL");
        failed += !pass;
        advc_graph_free(g);
        advc_pool_destroy(pool);
    }
    advc_free(x);
    free(y);
    return failed;
}
