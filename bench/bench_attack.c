/* bench_attack.c: attack throughput, images per second, for one model.
 *   advc-bench attack --model SPEC [--attack pgd|fgsm|apgd-ce|cw]
 *                     [--steps K] [--eps E] [--batch B] [--threads T]
 *                     [--reps R]
 * The model (init=trained50): random init from seed 1, then 50 Adam steps
 * (lr 1e-3, batch 32, one thread, so every run attacks the same weights)
 * on the committed MNIST sample, so the gradients the attack follows look
 * like a real model's and its batch-norm statistics are real.  Without the
 * sample (init=random): seeded random images and labels, no training.
 * The attacked batch: the first B images of the sample's test split.
 * Verification before timing: every x_adv lies in the eps-ball around x
 * and in [0, 1]; accuracy under attack <= clean accuracy; two runs give
 * identical bits.  Timed: advc_attack_run with early_stop off, so every
 * sample takes every step (the fixed work of a PyTorch loop, the figure
 * bench/compare/adv_torch.py is compared with); es_img_per_s is the same
 * attack with the library's default early stopping, which skips samples
 * already fooled (its speed depends on how robust the model is).
 * Reported: medians over --reps.  Not here: attack quality (advc eval).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "advc/attack.h"
#include "advc/data.h"
#include "advc/loss.h"
#include "bench.h"

#define TRAIN_STEPS 50
#define TRAIN_BATCH 32

/* n rows of d floats and labels, drawn cyclically from d's rows. */
static void take_rows(const advc_dataset *ds, int first, int n, size_t d,
                      float *x, int *y)
{
    for (int i = 0; i < n; i++) {
        int r = (first + i) % ds->n;
        memcpy(x + (size_t)i * d, ds->x + (size_t)r * d, d * sizeof *x);
        y[i] = ds->y[r];
    }
}

/* TRAIN_STEPS Adam steps on the training split, batches taken in order.
 * The graph must be compiled for TRAIN_BATCH. */
static void pretrain(advc_graph *g, const advc_dataset *train, size_t d,
                     float *x, int *y)
{
    advc_opt_config oc = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_optimizer *opt = advc_optimizer_new(g, &oc);
    int C = advc_graph_classes(g), E = advc_graph_num_exits(g);
    for (int s = 0; s < TRAIN_STEPS; s++) {
        take_rows(train, s * TRAIN_BATCH, TRAIN_BATCH, d, x, y);
        advc_graph_forward(g, x, TRAIN_BATCH, ADVC_MODE_TRAIN);
        for (int e = 0; e < E; e++) {
            float *dz = advc_graph_dlogits(g, e);
            memset(dz, 0, (size_t)TRAIN_BATCH * C * sizeof *dz);
            advc_loss_xent(TRAIN_BATCH, C, advc_graph_logits(g, e), y, NULL,
                           dz, 1.0f / TRAIN_BATCH);
        }
        advc_graph_zero_grads(g);
        advc_graph_backward(g, ADVC_PASS_UPDATE);
        advc_optimizer_step(opt, 1e-3f);
    }
    advc_optimizer_free(opt);
}

/* Final-exit accuracy on (x, y) in eval mode; pred is (n) scratch. */
static double accuracy(advc_graph *g, const float *x, const int *y, int n,
                       int *pred)
{
    advc_graph_forward(g, x, n, ADVC_MODE_EVAL);
    int E = advc_graph_num_exits(g);
    advc_argmax_rows(n, advc_graph_classes(g), advc_graph_logits(g, E - 1),
                     pred);
    int ok = 0;
    for (int i = 0; i < n; i++) ok += pred[i] == y[i];
    return (double)ok / n;
}

/* Every x_adv within [x - eps, x + eps] (computed in float, as the
 * projection does) and within [lo, hi]. */
static int in_ball(const float *x, const float *xa, size_t count,
                   const advc_attack_config *c)
{
    for (size_t k = 0; k < count; k++) {
        float v = xa[k];
        if (!(v >= x[k] - c->eps && v <= x[k] + c->eps && v >= c->lo &&
              v <= c->hi))
            return 0;
    }
    return 1;
}

typedef struct {
    advc_graph *g;
    const advc_attack_config *cfg;
    const float *x;
    const int *y;
    int n;
    float *xa;
    advc_status st;
} attack_ctx;

static void run_attack(void *v)
{
    attack_ctx *a = v;
    advc_status s = advc_attack_run(a->g, a->cfg, a->x, a->y, a->n, a->xa);
    if (s != ADVC_OK) a->st = s;
}

/* Median seconds of reps runs (no warm-up: the verification runs were). */
static double time_reps(attack_ctx *a, int reps)
{
    double t[101];
    if (reps > 101) reps = 101;
    for (int r = 0; r < reps; r++) {
        double t0 = advc_now();
        run_attack(a);
        t[r] = advc_now() - t0;
    }
    return bench_median(t, reps);
}

/* What every case of one run shares: the model's name, the attack's
 * settings, the attacked batch and the buffers. */
typedef struct {
    const char *spec;
    advc_attack_kind kind;
    advc_attack_config cfg;    /* early stopping off: the timed attack    */
    advc_attack_config cfg_es; /* the same with the library's default on */
    int B, reps;
    size_t d;                  /* floats per image                        */
    int have;                  /* the sample was there: trained50        */
    float *x, *xa, *xb;        /* (max(B, TRAIN_BATCH), d); (B, d) each  */
    int *y, *pred;             /* (max(B, TRAIN_BATCH)); (B)             */
} attack_bench;

/* The attack's settings from the flags (eps 0.3, 20 steps, seed 1). */
static void attack_settings(const bench_opts *o, attack_bench *ab)
{
    advc_attack_config cfg = advc_attack_defaults(ab->kind);
    cfg.eps = o->eps > 0 ? o->eps : 0.3f;
    if (ab->kind != ADVC_ATK_FGSM && ab->kind != ADVC_ATK_NOISE)
        cfg.steps = o->steps > 0 ? o->steps : 20;
    cfg.step_size = 0.0f; /* the attack's rule: PGD/CW 2.5 eps / steps */
    cfg.seed = 1;
    cfg.early_stop = false;
    ab->cfg = cfg;
    ab->cfg_es = cfg;
    ab->cfg_es.early_stop = true;
}

/* Data: the sample's train split (pre-training) and test split; returns
 * whether both are there with images of d floats. */
static int load_sample(size_t d, advc_dataset *train, advc_dataset *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    return advc_dataset_load_dir("data/mnist-sample", true, train) ==
               ADVC_OK &&
           advc_dataset_load_dir("data/mnist-sample", false, test) ==
               ADVC_OK &&
           (size_t)train->c * train->h * train->w == d &&
           (size_t)test->c * test->h * test->w == d;
}

/* The model: built and (if there is data) trained once, on one thread
 * (pool), and the attacked batch into x, y.  Returns 1 (said on stderr)
 * if the model cannot be built. */
static int make_model(attack_bench *ab, advc_shape in,
                      const advc_dataset *train, const advc_dataset *test,
                      advc_pool *pool, advc_graph **g)
{
    advc_act_spec act = { ADVC_ACT_RELU, 0 };
    if (advc_model_build(ab->spec, in, 10, act, g) != ADVC_OK ||
        advc_graph_compile(*g, TRAIN_BATCH, pool) != ADVC_OK) {
        fprintf(stderr, "advc-bench attack: %s\n", advc_last_error());
        return 1;
    }
    advc_graph_init_params(*g, 1);
    if (ab->have) {
        pretrain(*g, train, ab->d, ab->x, ab->y);
        take_rows(test, 0, ab->B, ab->d, ab->x, ab->y);
    } else {
        advc_rng r;
        advc_rng_seed(&r, 3, 0);
        for (size_t k = 0; k < (size_t)ab->B * ab->d; k++)
            ab->x[k] = advc_rng_uniform(&r);
        for (int i = 0; i < ab->B; i++) ab->y[i] = (int)advc_rng_below(&r, 10);
    }
    return 0;
}

/* One case on g, compiled for B on `threads` threads: verify (two runs,
 * bitwise equal, inside the ball, not better than clean), time, print
 * the line.  Returns 1 if it failed. */
static int attack_case(const attack_bench *ab, advc_graph *g, int threads)
{
    int B = ab->B;
    double clean = accuracy(g, ab->x, ab->y, B, ab->pred);
    attack_ctx a = { g, &ab->cfg, ab->x, ab->y, B, ab->xa, ADVC_OK };
    run_attack(&a);
    a.xa = ab->xb;
    run_attack(&a);
    int same = memcmp(ab->xa, ab->xb, (size_t)B * ab->d * sizeof *ab->xa) == 0;
    int ball = in_ball(ab->x, ab->xa, (size_t)B * ab->d, &ab->cfg);
    double adv = accuracy(g, ab->xa, ab->y, B, ab->pred);
    int pass = a.st == ADVC_OK && same && ball && adv <= clean;
    if (a.st != ADVC_OK)
        fprintf(stderr, "advc-bench attack: %s\n", advc_last_error());

    double sec = time_reps(&a, ab->reps);
    attack_ctx es = { g, &ab->cfg_es, ab->x, ab->y, B, ab->xb, ADVC_OK };
    run_attack(&es); /* warm-up */
    double sec_es = time_reps(&es, ab->reps);
    pass = pass && a.st == ADVC_OK && es.st == ADVC_OK;

    printf("bench=attack model=%s attack=%s steps=%d eps=%.4g "
           "init=%s isa=%s threads=%d batch=%d img_per_s=%.1f "
           "ms_per_batch=%.1f es_img_per_s=%.1f clean_acc=%.4f "
           "adv_acc=%.4f in_ball=%d deterministic=%d max_rss_mb=%.1f "
           "status=%s\n",
           ab->spec, advc_attack_name(ab->kind), ab->cfg.steps,
           (double)ab->cfg.eps, ab->have ? "trained50" : "random",
           advc_isa_name(), threads, B, B / sec, sec * 1e3, B / sec_es,
           clean, adv, ball, same, bench_max_rss_mb(), pass ? "PASS" : "FAIL");
    return !pass;
}

/* The cases: g recompiled for B on each of the nth thread counts th[],
 * its pool replacing *pool.  Returns the number that failed. */
static int attack_cases(const attack_bench *ab, advc_graph *g,
                        const int *th, int nth, advc_pool **pool)
{
    int failed = 0;
    for (int ti = 0; ti < nth; ti++) {
        advc_pool *p = advc_pool_create(th[ti]);
        if (advc_graph_compile(g, ab->B, p) != ADVC_OK) {
            fprintf(stderr, "advc-bench attack: %s\n", advc_last_error());
            advc_pool_destroy(p);
            failed++;
            break;
        }
        advc_pool_destroy(*pool);
        *pool = p;
        failed += attack_case(ab, g, th[ti]);
    }
    return failed;
}

int bench_attack(const bench_opts *o)
{
    attack_bench ab;
    memset(&ab, 0, sizeof ab);
    ab.spec = o->model ? o->model : "cnn";
    const char *aname = o->attack ? o->attack : "pgd";
    ab.kind = advc_attack_parse(aname);
    if (ab.kind == ADVC_ATK_COUNT) {
        fprintf(stderr, "advc-bench attack: unknown attack '%s'\n", aname);
        return 1;
    }
    int th[2];
    ab.B = o->batch > 0 ? o->batch : 128;
    ab.reps = o->reps;
    int nth = bench_thread_list(o, th);
    advc_shape in = { 1, 28, 28 };
    ab.d = advc_shape_size(in);
    attack_settings(o, &ab);

    advc_dataset train, test;
    ab.have = load_sample(ab.d, &train, &test);
    int nx = ab.B > TRAIN_BATCH ? ab.B : TRAIN_BATCH;
    ab.x = advc_alloc((size_t)nx * ab.d * sizeof *ab.x);
    ab.xa = advc_alloc((size_t)ab.B * ab.d * sizeof *ab.xa);
    ab.xb = advc_alloc((size_t)ab.B * ab.d * sizeof *ab.xb);
    ab.y = malloc((size_t)nx * sizeof *ab.y);
    ab.pred = malloc((size_t)ab.B * sizeof *ab.pred);

    /* Built and trained once on one thread, then recompiled for B on
     * each timed thread count. */
    advc_graph *g = NULL;
    advc_pool *pool = advc_pool_create(1);
    int failed = make_model(&ab, in, &train, &test, pool, &g);
    if (!failed) failed = attack_cases(&ab, g, th, nth, &pool);

    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&train);
    advc_dataset_free(&test);
    advc_free(ab.x);
    advc_free(ab.xa);
    advc_free(ab.xb);
    free(ab.y);
    free(ab.pred);
    return failed;
}
