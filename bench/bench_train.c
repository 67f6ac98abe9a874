/* bench_train.c: training throughput, images per second, for one model.
 *   advc-bench train --model SPEC [--batch B] [--threads T] [--reps R]
 * Data: the committed MNIST sample (data/mnist-sample) when it is there,
 * else seeded random 1x28x28 images with random labels.  Verification
 * before timing: the loss on a fixed batch must fall after a few steps
 * (the step really trains).  Reported: median over --reps timed runs of
 * 10 steps each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "advc/data.h"
#include "advc/train.h"
#include "bench.h"

#define STEPS_PER_REP 10

typedef struct {
    advc_graph *g;
    advc_optimizer *opt;
    const float *x; /* (steps, B, in) */
    const int *y;   /* (steps, B) */
    int B;
    size_t per;
    float last_loss;
} train_ctx;

/* Peak resident memory of this process so far, in MiB (Linux: KiB). */
static double max_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static float one_step(train_ctx *t, int s)
{
    advc_graph *g = t->g;
    int classes = advc_graph_classes(g), exits = advc_graph_num_exits(g);
    const int *y = t->y + (size_t)s * t->B;
    advc_graph_forward(g, t->x + (size_t)s * t->B * t->per, t->B,
                       ADVC_MODE_TRAIN);
    float loss = 0;
    for (int e = 0; e < exits; e++) {
        float *dz = advc_graph_dlogits(g, e);
        memset(dz, 0, (size_t)t->B * classes * sizeof *dz);
        loss += advc_loss_xent(t->B, classes, advc_graph_logits(g, e), y,
                               NULL, dz, 1.0f / (float)t->B);
    }
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    advc_optimizer_step(t->opt, 1e-3f);
    return loss;
}

static void run_steps(void *v)
{
    train_ctx *t = v;
    for (int s = 0; s < STEPS_PER_REP; s++) t->last_loss = one_step(t, s);
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
        advc_opt_config oc = advc_opt_defaults(ADVC_OPT_ADAM);
        advc_optimizer *opt = advc_optimizer_new(g, &oc);
        train_ctx t = { g, opt, x, y, B, per, 0 };
        /* Verify: 8 steps on batch 0 must lower its loss. */
        float first = one_step(&t, 0), after = first;
        for (int s = 0; s < 8; s++) after = one_step(&t, 0);
        int pass = isfinite(first) && isfinite(after) && after < first;
        double sec = bench_time(run_steps, &t, o->reps);
        pass = pass && isfinite(t.last_loss);
        printf("bench=train model=%s recipe=std isa=%s threads=%d batch=%d "
               "img_per_s=%.1f ms_per_step=%.2f loss_first=%.4f "
               "loss_after8=%.4f max_rss_mb=%.1f status=%s\n",
               spec, advc_isa_name(), th[ti], B,
               STEPS_PER_REP * B / sec, sec * 1e3 / STEPS_PER_REP,
               (double)first, (double)after, max_rss_mb(),
               pass ? "PASS" : "FAIL");
        failed += !pass;
        advc_optimizer_free(opt);
        advc_graph_free(g);
        advc_pool_destroy(pool);
    }
    advc_free(x);
    free(y);
    return failed;
}
