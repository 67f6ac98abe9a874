/* train.c: the one training loop (see advc/train.h).
 *
 * A step: gather a shuffled batch -> the recipe makes the training input
 * and accumulates d(loss)/d(params) -> optimizer step at the scheduled
 * rate.  Everything the loop needs is allocated before the first step.
 * Recipes plug in as a `step` function; the standard one is here, the
 * adversarial ones live in their own files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/train.h"
#include "advc/loss.h"
#include "advc/models.h"

advc_train_config advc_train_defaults(void)
{
    advc_train_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 1;
    c.batch = 128;
    c.opt = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_schedule_parse("constant", 1e-3f, &c.sched);
    c.seed = 1;
    c.recipe = ADVC_RECIPE_STD;
    c.act.f = ADVC_ACT_RELU;
    c.progress = ADVC_PROGRESS_EPOCH;
    return c;
}

static const char *const recipe_names[ADVC_RECIPE_COUNT] = { "std" };

const char *advc_recipe_name(advc_recipe r)
{
    return r >= 0 && r < ADVC_RECIPE_COUNT ? recipe_names[r] : "?";
}

advc_recipe advc_recipe_parse(const char *s)
{
    for (int r = 0; r < ADVC_RECIPE_COUNT; r++)
        if (strcmp(s, recipe_names[r]) == 0) return (advc_recipe)r;
    return ADVC_RECIPE_COUNT;
}

/* What a recipe's step sees: the batch, its labels, and scratch. */
typedef struct {
    advc_graph *g;
    const float *x; /* (n, c, h, w) clean batch */
    const int *y;   /* (n) */
    int n;
    int *pred;      /* (n) final-exit predictions on the training input */
} step_ctx;

/* Sets every exit's dlogits to the weighted cross-entropy gradient of the
 * last forward and returns the weighted loss sum_e w_e mean_i CE_ie. */
static float multi_exit_xent(advc_graph *g, const int *y, int n)
{
    int classes = advc_graph_classes(g), exits = advc_graph_num_exits(g);
    float total = 0;
    for (int e = 0; e < exits; e++) {
        float w = advc_graph_exit_weight(g, e);
        float *dz = advc_graph_dlogits(g, e);
        memset(dz, 0, (size_t)n * classes * sizeof *dz);
        total += w * advc_loss_xent(n, classes, advc_graph_logits(g, e), y,
                                    NULL, dz, w / (float)n);
    }
    return total;
}

/* Standard training: L = sum_e w_e CE(f_e(x), y). */
static float step_std(step_ctx *s)
{
    advc_graph *g = s->g;
    advc_graph_forward(g, s->x, s->n, ADVC_MODE_TRAIN);
    float loss = multi_exit_xent(g, s->y, s->n);
    int last = advc_graph_num_exits(g) - 1;
    advc_argmax_rows(s->n, advc_graph_classes(g), advc_graph_logits(g, last),
                     s->pred);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    return loss;
}

typedef float (*recipe_step_fn)(step_ctx *s);
static const recipe_step_fn recipe_steps[ADVC_RECIPE_COUNT] = { step_std };

/* ---- evaluation --------------------------------------------------------- */

static void gather_labels(const uint8_t *src, int n, int *dst)
{
    for (int i = 0; i < n; i++) dst[i] = src[i];
}

/* Accuracy per exit over rows [0, n) of (x, y); acc has one slot per exit. */
static advc_status eval_rows(advc_graph *g, const float *x, const uint8_t *y,
                             int n, float *acc, float *loss)
{
    int B = advc_graph_batch(g), classes = advc_graph_classes(g);
    int exits = advc_graph_num_exits(g);
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    int *yb = malloc((size_t)B * sizeof *yb), *pred = malloc((size_t)B * sizeof *pred);
    long *correct = calloc((size_t)exits, sizeof *correct);
    if (!yb || !pred || !correct) {
        free(yb), free(pred), free(correct);
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in evaluation");
    }
    double loss_sum = 0;
    for (int lo = 0; lo < n; lo += B) {
        int m = n - lo < B ? n - lo : B;
        gather_labels(y + lo, m, yb);
        advc_graph_forward(g, x + (size_t)lo * per, m, ADVC_MODE_EVAL);
        for (int e = 0; e < exits; e++) {
            const float *z = advc_graph_logits(g, e);
            advc_argmax_rows(m, classes, z, pred);
            for (int i = 0; i < m; i++) correct[e] += pred[i] == yb[i];
            if (e == exits - 1 && loss)
                loss_sum += (double)m *
                            advc_loss_xent(m, classes, z, yb, NULL, NULL, 1);
        }
    }
    for (int e = 0; e < exits; e++)
        acc[e] = n > 0 ? (float)((double)correct[e] / n) : 0.0f;
    if (loss) *loss = n > 0 ? (float)(loss_sum / n) : 0.0f;
    free(yb), free(pred), free(correct);
    return ADVC_OK;
}

advc_status advc_eval_clean(advc_graph *g, const advc_dataset *d, int limit,
                            float *acc, float *loss)
{
    int n = limit > 0 && limit < d->n ? limit : d->n;
    return eval_rows(g, d->x, d->y, n, acc, loss);
}

/* ---- progress and logs -------------------------------------------------- */

static void format_eta(double s, char *out, size_t outsz)
{
    if (!(s >= 0) || s > 359999) s = 0;
    int t = (int)(s + 0.5);
    snprintf(out, outsz, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

static advc_status open_log(const char *path, FILE **out)
{
    *out = NULL;
    if (!path) return ADVC_OK;
    FILE *f = fopen(path, "w");
    if (!f)
        return advc_set_error(ADVC_ERR_IO, "%s: cannot write the log",
                              path);
    fprintf(f, "epoch,lr,loss,train_acc,val_acc,seconds\n");
    fflush(f);
    *out = f;
    return ADVC_OK;
}

static bool params_finite(advc_graph *g)
{
    size_t n;
    const float *p = advc_graph_params(g, &n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return false;
    return true;
}

static advc_status save_epoch(advc_graph *g, const advc_train_config *cfg,
                              int epoch, const advc_train_result *res)
{
    char meta[1024], v[64];
    meta[0] = '\0';
    snprintf(v, sizeof v, "%d", epoch);
    advc_meta_set(meta, sizeof meta, "epoch", v);
    snprintf(v, sizeof v, "%d", cfg->epochs);
    advc_meta_set(meta, sizeof meta, "epochs", v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)cfg->seed);
    advc_meta_set(meta, sizeof meta, "seed", v);
    advc_meta_set(meta, sizeof meta, "recipe", advc_recipe_name(cfg->recipe));
    snprintf(v, sizeof v, "%d", cfg->batch);
    advc_meta_set(meta, sizeof meta, "batch", v);
    advc_meta_set(meta, sizeof meta, "optimizer",
                  cfg->opt.kind == ADVC_OPT_ADAM ? "adam" : "sgd");
    snprintf(v, sizeof v, "%g", cfg->sched.lr);
    advc_meta_set(meta, sizeof meta, "lr", v);
    snprintf(v, sizeof v, "%.4f", res->val_acc);
    advc_meta_set(meta, sizeof meta, "val_acc", v);
    snprintf(v, sizeof v, "%.4f", res->train_acc);
    advc_meta_set(meta, sizeof meta, "train_acc", v);
    return advc_model_save(cfg->out_path, g, cfg->spec ? cfg->spec : "?",
                           cfg->act, meta);
}

/* ---- the loop ------------------------------------------------------------ */

advc_status advc_train(advc_graph *g, const advc_dataset *data,
                       const advc_train_config *cfg, advc_train_result *res)
{
    memset(res, 0, sizeof *res);
    res->val_acc = -1;
    int B = advc_graph_batch(g);
    if (cfg->batch != B)
        return advc_set_error(ADVC_ERR_ARG,
                              "training batch %d differs from the graph's %d",
                              cfg->batch, B);
    if (cfg->recipe < 0 || cfg->recipe >= ADVC_RECIPE_COUNT)
        return advc_set_error(ADVC_ERR_ARG, "unknown training recipe");
    int ntrain = data->n - cfg->val_count;
    if (cfg->val_count < 0 || ntrain < 1)
        return advc_set_error(ADVC_ERR_ARG,
                              "validation split of %d leaves no training "
                              "data (%d samples)", cfg->val_count, data->n);
    advc_shape in = advc_graph_input_shape(g);
    if (in.c != data->c || in.h != data->h || in.w != data->w)
        return advc_set_error(ADVC_ERR_ARG,
                              "data are %dx%dx%d images, the model expects "
                              "%dx%dx%d", data->c, data->h, data->w, in.c,
                              in.h, in.w);
    size_t per = advc_shape_size(in);
    /* Drop the last partial batch (batch statistics of a handful of samples
     * are noise), unless the whole split is smaller than one batch. */
    int steps = ntrain >= B ? ntrain / B : 1;
    int bsz = ntrain >= B ? B : ntrain;

    float *xb = advc_alloc((size_t)B * per * sizeof *xb);
    int *yb = malloc((size_t)B * sizeof *yb);
    int *pred = malloc((size_t)B * sizeof *pred);
    int *perm = malloc((size_t)ntrain * sizeof *perm);
    float *exit_acc = malloc((size_t)advc_graph_num_exits(g) * sizeof(float));
    advc_optimizer *opt = advc_optimizer_new(g, &cfg->opt);
    FILE *log = NULL;
    advc_status st = ADVC_OK;
    if (!xb || !yb || !pred || !perm || !exit_acc || !opt) {
        st = opt ? advc_set_error(ADVC_ERR_NOMEM, "out of memory in training")
                 : ADVC_ERR_NOMEM;
        goto done;
    }
    if ((st = open_log(cfg->log_path, &log)) != ADVC_OK) goto done;
    advc_graph_set_seed(g, cfg->seed);
    for (int i = 0; i < ntrain; i++) perm[i] = i;

    step_ctx sc = { g, xb, yb, bsz, pred };
    double t_train = 0;
    for (int epoch = 0; epoch < cfg->epochs; epoch++) {
        advc_rng rng;
        advc_rng_seed(&rng, cfg->seed, 1000 + (uint64_t)epoch);
        advc_rng_shuffle(&rng, perm, ntrain);
        double loss_sum = 0, t0 = advc_now(), last_draw = 0;
        long correct = 0, seen = 0;
        float lr = 0;
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < bsz; i++) {
                int r = perm[s * bsz + i];
                memcpy(xb + (size_t)i * per, data->x + (size_t)r * per,
                       per * sizeof *xb);
                yb[i] = data->y[r];
            }
            lr = advc_schedule_lr(&cfg->sched, epoch + (double)s / steps,
                                  cfg->epochs);
            float loss = recipe_steps[cfg->recipe](&sc);
            if (!isfinite(loss)) {
                st = advc_set_error(
                    ADVC_ERR_NAN,
                    "training diverged: the loss is %g at epoch %d, batch %d "
                    "(lr %g)%s%s", (double)loss, epoch + 1, s + 1, (double)lr,
                    cfg->out_path && epoch > 0 ? "; the last good checkpoint "
                                                 "is kept in "
                                               : "",
                    cfg->out_path && epoch > 0 ? cfg->out_path : "");
                goto done;
            }
            advc_optimizer_step(opt, lr);
            res->steps++;
            loss_sum += loss;
            for (int i = 0; i < bsz; i++) correct += pred[i] == yb[i];
            seen += bsz;
            double now = advc_now();
            if (cfg->progress == ADVC_PROGRESS_LIVE &&
                (now - last_draw > 0.2 || s == steps - 1)) {
                last_draw = now;
                double el = now - t0, ips = seen / (el > 0 ? el : 1e-9);
                char eta[32];
                format_eta(((double)(steps - s - 1) * bsz +
                            (double)(cfg->epochs - epoch - 1) * steps * bsz) /
                               ips,
                           eta, sizeof eta);
                fprintf(stderr,
                        "\repoch %d/%d  batch %d/%d  %.0f img/s  loss %.4f  "
                        "acc %.2f%%  ETA %s ",
                        epoch + 1, cfg->epochs, s + 1, steps, ips,
                        loss_sum / (s + 1), 100.0 * correct / seen, eta);
                fflush(stderr);
            }
        }
        double sec = advc_now() - t0;
        t_train += sec;
        res->epochs_done = epoch + 1;
        res->loss = (float)(loss_sum / steps);
        res->train_acc = (float)((double)correct / seen);
        if (cfg->val_count > 0) {
            st = eval_rows(g, data->x + (size_t)ntrain * per,
                           data->y + ntrain, cfg->val_count, exit_acc, NULL);
            if (st != ADVC_OK) goto done;
            res->val_acc = exit_acc[advc_graph_num_exits(g) - 1];
        }
        if (cfg->progress != ADVC_PROGRESS_NONE) {
            if (cfg->progress == ADVC_PROGRESS_LIVE) fputc('\n', stderr);
            fprintf(stderr,
                    "epoch %d/%d: loss %.4f  train_acc %.2f%%", epoch + 1,
                    cfg->epochs, res->loss, 100.0 * res->train_acc);
            if (res->val_acc >= 0)
                fprintf(stderr, "  val_acc %.2f%%", 100.0 * res->val_acc);
            fprintf(stderr, "  lr %.3g  %.0f img/s  %.1fs\n", (double)lr,
                    seen / sec, sec);
        }
        if (log) {
            fprintf(log, "%d,%.6g,%.6f,%.6f,%.6f,%.3f\n", epoch + 1,
                    (double)lr, res->loss, res->train_acc, res->val_acc, sec);
            fflush(log);
        }
        if (!params_finite(g)) {
            st = advc_set_error(ADVC_ERR_NAN,
                                "training diverged: parameters are not "
                                "finite after epoch %d%s%s", epoch + 1,
                                cfg->out_path ? "; kept the last good "
                                                "checkpoint " : "",
                                cfg->out_path ? cfg->out_path : "");
            goto done;
        }
        if (cfg->out_path && (st = save_epoch(g, cfg, epoch + 1, res)))
            goto done;
    }
    res->seconds = t_train;
done:
    if (log) fclose(log);
    advc_optimizer_free(opt);
    advc_free(xb);
    free(yb), free(pred), free(perm), free(exit_acc);
    return st;
}
