/* train.c: the one training loop (see advc/train.h) and the catastrophic-
 * overfitting guard.
 *
 * A step: gather a shuffled batch -> the recipe makes the training input
 * and accumulates d(loss)/d(params) (recipes.c, through the table in
 * train_internal.h) -> optimizer step at the scheduled rate; free training
 * replays each batch m times, one optimizer step per replay.  Everything
 * the loop needs is allocated before the first step.
 *
 * Guard (Wong, Rice, Kolter, ICLR 2020, section "catastrophic
 * overfitting"): their code runs PGD-5 on one training batch each epoch and
 * stops when robust accuracy falls by more than 20 points from the previous
 * epoch.  Here: a held-out batch (not trained on), FGSM and PGD-k attacks
 * in eval mode with the model's real backward rules, the drop measured
 * from the BEST epoch so far (a slow slide also counts), and both the best
 * (by PGD accuracy) and the last checkpoints kept.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/attack.h"
#include "advc/checkpoint.h"
#include "advc/loss.h"
#include "advc/models.h"
#include "train_internal.h"

advc_train_config advc_train_defaults(void)
{
    advc_train_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 1;
    c.batch = 128;
    c.opt = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_schedule_parse("constant", 2e-3f, &c.sched);
    c.seed = 1;
    c.recipe = ADVC_RECIPE_STD;
    c.rc.alpha = -1.0f;
    c.rc.beta = -1.0f;
    c.rc.attack_grad.f = ADVC_ACT_COUNT;
    c.rc.update_grad.f = ADVC_ACT_COUNT;
    c.guard.count = -1;
    c.guard.steps = 10;
    c.guard.co_threshold = 0.2f;
    c.act.f = ADVC_ACT_RELU;
    c.init = ADVC_INIT_COUNT;
    c.progress = ADVC_PROGRESS_EPOCH;
    return c;
}

void advc_train_best_path(const char *out, char *buf, size_t bufsz)
{
    const char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    if (dot && (!slash || dot > slash + 1))
        snprintf(buf, bufsz, "%.*s.best%s", (int)(dot - out), out, dot);
    else
        snprintf(buf, bufsz, "%s.best", out);
}

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

/* ---- the guard ----------------------------------------------------------- */

typedef struct {
    const float *x;   /* (n, d) held-out images */
    const uint8_t *y; /* (n) */
    int n;
    float *xadv;      /* (B, d) */
    int *yb, *pred;   /* (B) */
} guard_set;

static long count_right(advc_graph *g, const float *x, const int *y, int m,
                        int *pred)
{
    advc_graph_forward(g, x, m, ADVC_MODE_EVAL);
    advc_argmax_rows(m, advc_graph_classes(g),
                     advc_graph_logits(g, advc_graph_num_exits(g) - 1), pred);
    long c = 0;
    for (int i = 0; i < m; i++) c += pred[i] == y[i];
    return c;
}

/* Clean, FGSM and PGD-k accuracy of the final exit on the guard set. */
static advc_status guard_eval(advc_graph *g, const guard_set *gs, float eps,
                              int steps, uint64_t seed, advc_guard_point *pt)
{
    int B = advc_graph_batch(g);
    size_t d = advc_shape_size(advc_graph_input_shape(g));
    advc_attack_config fg = advc_attack_defaults(ADVC_ATK_FGSM);
    advc_attack_config pg = advc_attack_defaults(ADVC_ATK_PGD);
    fg.eps = pg.eps = eps;
    fg.seed = pg.seed = seed;
    pg.steps = steps;
    pg.step_size = 0; /* 2.5 eps / steps */
    pg.restarts = 1;
    long right[3] = { 0, 0, 0 };
    for (int lo = 0; lo < gs->n; lo += B) {
        int m = gs->n - lo < B ? gs->n - lo : B;
        const float *x = gs->x + (size_t)lo * d;
        gather_labels(gs->y + lo, m, gs->yb);
        right[0] += count_right(g, x, gs->yb, m, gs->pred);
        const advc_attack_config *cf[2] = { &fg, &pg };
        for (int k = 0; k < 2; k++) {
            advc_status st = advc_attack_run(g, cf[k], x, gs->yb, m,
                                             gs->xadv);
            if (st != ADVC_OK) return st;
            right[k + 1] += count_right(g, gs->xadv, gs->yb, m, gs->pred);
        }
    }
    pt->clean = (float)((double)right[0] / gs->n);
    pt->fgsm = (float)((double)right[1] / gs->n);
    pt->pgd = (float)((double)right[2] / gs->n);
    return ADVC_OK;
}

/* Installs (on) or removes the training-only backward rules. */
static void set_rules(advc_graph *g, const advc_recipe_config *rc, bool on)
{
    advc_act_spec none = { ADVC_ACT_COUNT, 0.0f };
    if (rc->attack_grad.f != ADVC_ACT_COUNT)
        advc_graph_set_backward_act(g, ADVC_PASS_ATTACK, ADVC_ACT_RELU,
                                    on ? rc->attack_grad : none);
    if (rc->update_grad.f != ADVC_ACT_COUNT)
        advc_graph_set_backward_act(g, ADVC_PASS_UPDATE, ADVC_ACT_RELU,
                                    on ? rc->update_grad : none);
}

/* ---- progress, logs, checkpoints ----------------------------------------- */

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
    fprintf(f, "epoch,lr,loss,train_acc,val_acc,clean_acc,fgsm_acc,pgd_acc,"
               "seconds\n");
    fflush(f);
    *out = f;
    return ADVC_OK;
}

/* "%.6f" of v, or "" when v < 0 (not measured). */
static const char *opt_num(float v, char *buf, size_t bufsz)
{
    if (v < 0) buf[0] = '\0';
    else snprintf(buf, bufsz, "%.6f", (double)v);
    return buf;
}

static bool params_finite(advc_graph *g)
{
    size_t n;
    const float *p = advc_graph_params(g, &n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return false;
    return true;
}

static void meta_f(char *meta, size_t sz, const char *key, double v)
{
    char b[48];
    snprintf(b, sizeof b, "%.6g", v);
    advc_meta_set(meta, sz, key, b);
}

static void meta_i(char *meta, size_t sz, const char *key, long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    advc_meta_set(meta, sz, key, b);
}

static void meta_rule(char *meta, size_t sz, const char *key,
                      advc_act_spec r)
{
    char b[48];
    if (r.f == ADVC_ACT_COUNT) snprintf(b, sizeof b, "none");
    else advc_act_spec_format(r, b, sizeof b);
    advc_meta_set(meta, sz, key, b);
}

/* Saves g to path with the run's settings and this epoch's results. */
static advc_status save_epoch(advc_graph *g, const advc_train_config *cfg,
                              const advc_recipe_config *rc, const char *path,
                              int epoch, int epochs,
                              const advc_train_result *res,
                              const advc_guard_point *pt)
{
    char meta[2048], v[256];
    size_t sz = sizeof meta;
    advc_recipe r = cfg->recipe;
    meta[0] = '\0';
    meta_i(meta, sz, "epoch", epoch);
    meta_i(meta, sz, "epochs", epochs);
    snprintf(v, sizeof v, "%llu", (unsigned long long)cfg->seed);
    advc_meta_set(meta, sz, "seed", v);
    if (cfg->init < ADVC_INIT_COUNT)
        advc_meta_set(meta, sz, "init", advc_init_name(cfg->init));
    advc_meta_set(meta, sz, "recipe", advc_recipe_name(r));
    meta_i(meta, sz, "batch", cfg->batch);
    advc_meta_set(meta, sz, "optimizer",
                  cfg->opt.kind == ADVC_OPT_ADAM ? "adam" : "sgd");
    meta_f(meta, sz, "lr", cfg->sched.lr);
    meta_f(meta, sz, "eps", rc->eps);
    if (r != ADVC_RECIPE_STD) {
        meta_f(meta, sz, "step_size", rc->step_size);
        if (r == ADVC_RECIPE_PGD || r == ADVC_RECIPE_TRADES)
            meta_i(meta, sz, "steps", rc->steps);
        if (r == ADVC_RECIPE_FGSM) meta_f(meta, sz, "alpha", rc->alpha);
        if (r == ADVC_RECIPE_TRADES) meta_f(meta, sz, "beta", rc->beta);
        if (r == ADVC_RECIPE_FREE) meta_i(meta, sz, "replays", rc->replays);
        if (r == ADVC_RECIPE_ME_FGSM)
            advc_meta_set(meta, sz, "random_start",
                          rc->no_random_start ? "0" : "1");
        advc_meta_set(meta, sz, "adv_mode",
                      rc->adv_mode == ADVC_ADV_MODE_EVAL ? "eval" : "train");
    }
    meta_rule(meta, sz, "attack_grad", rc->attack_grad);
    meta_rule(meta, sz, "update_grad", rc->update_grad);
    if (rc->n_exit_l2 > 0) {
        size_t k = 0;
        for (int e = 0; e < rc->n_exit_l2 && k < sizeof v - 16; e++)
            k += (size_t)snprintf(v + k, sizeof v - k, "%s%g", e ? "," : "",
                                  (double)rc->exit_l2[e]);
        advc_meta_set(meta, sz, "exit_l2", v);
    }
    snprintf(v, sizeof v, "%.4f", res->val_acc);
    advc_meta_set(meta, sz, "val_acc", v);
    snprintf(v, sizeof v, "%.4f", res->train_acc);
    advc_meta_set(meta, sz, "train_acc", v);
    if (res->guard_n > 0) {
        meta_i(meta, sz, "guard_n", res->guard_n);
        meta_i(meta, sz, "guard_steps", cfg->guard.steps);
        snprintf(v, sizeof v, "%.4f", pt->clean);
        advc_meta_set(meta, sz, "guard_clean_acc", v);
        snprintf(v, sizeof v, "%.4f", pt->fgsm);
        advc_meta_set(meta, sz, "guard_fgsm_acc", v);
        snprintf(v, sizeof v, "%.4f", pt->pgd);
        advc_meta_set(meta, sz, "guard_pgd_acc", v);
        meta_i(meta, sz, "best_epoch", res->best.epoch);
        snprintf(v, sizeof v, "%.4f", res->best.pgd);
        advc_meta_set(meta, sz, "best_pgd_acc", v);
    }
    return advc_model_save(path, g, cfg->spec ? cfg->spec : "?", cfg->act,
                           meta);
}

static void print_epoch(const advc_train_config *cfg, int epoch, int epochs,
                        const advc_train_result *res,
                        const advc_guard_point *pt, bool best, float lr,
                        double ips, double sec)
{
    if (cfg->progress == ADVC_PROGRESS_LIVE) fputc('\n', stderr);
    fprintf(stderr, "epoch %d/%d: loss %.4f  train_acc %.2f%%", epoch,
            epochs, res->loss, 100.0 * res->train_acc);
    if (res->val_acc >= 0)
        fprintf(stderr, "  val_acc %.2f%%", 100.0 * res->val_acc);
    if (pt)
        fprintf(stderr, "  held-out clean %.1f%% fgsm %.1f%% pgd %.1f%%%s",
                100.0 * pt->clean, 100.0 * pt->fgsm, 100.0 * pt->pgd,
                best ? " (best)" : "");
    fprintf(stderr, "  lr %.3g  %.0f img/s  %.1fs\n", (double)lr, ips, sec);
}

/* ---- the loop ------------------------------------------------------------ */

advc_status advc_train(advc_graph *g, const advc_dataset *data,
                       const advc_train_config *cfg, advc_train_result *res)
{
    memset(res, 0, sizeof *res);
    res->val_acc = -1;
    res->last.clean = res->last.fgsm = res->last.pgd = -1;
    advc_status st = advc_train_check(g, cfg);
    if (st != ADVC_OK) return st;
    int B = advc_graph_batch(g), E = advc_graph_num_exits(g);
    if (cfg->batch != B)
        return advc_set_error(ADVC_ERR_ARG,
                              "training batch %d differs from the graph's %d",
                              cfg->batch, B);
    if (cfg->epochs < 1)
        return advc_set_error(ADVC_ERR_ARG, "epochs %d: want >= 1",
                              cfg->epochs);
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
    advc_recipe_config rc = advc_recipe_resolve(cfg->recipe, &cfg->rc, E);
    const recipe_def *def = recipe_get(cfg->recipe);

    /* The guard set: the front of the validation split, else the end of
     * the training split (then no longer trained on). */
    guard_set gs = { NULL, NULL, 0, NULL, NULL, NULL };
    int gn = cfg->guard.count;
    if (cfg->val_count > 0) {
        if (gn < 0 || gn > cfg->val_count)
            gn = gn < 0 && cfg->val_count > 512 ? 512 : cfg->val_count;
        gs.x = data->x + (size_t)ntrain * per;
        gs.y = data->y + ntrain;
    } else {
        if (gn < 0) gn = ntrain / 10 < 512 ? ntrain / 10 : 512;
        if (gn >= ntrain)
            return advc_set_error(ADVC_ERR_ARG,
                                  "a guard batch of %d leaves no training "
                                  "data (%d samples): use a smaller "
                                  "--guard-batch or --val", gn, ntrain);
        ntrain -= gn;
        gs.x = data->x + (size_t)ntrain * per;
        gs.y = data->y + ntrain;
    }
    gs.n = cfg->guard.steps > 0 ? gn : 0;
    res->guard_n = gs.n;
    uint64_t guard_seed = advc_mix64(cfg->seed, 0x6a4d);
    float guard_eps = rc.eps;

    int replays = def->replays ? rc.replays : 1;
    int epochs = (cfg->epochs + replays - 1) / replays;
    /* Drop the last partial batch (batch statistics of a handful of samples
     * are noise), unless the whole split is smaller than one batch. */
    int steps = ntrain >= B ? ntrain / B : 1;
    int bsz = ntrain >= B ? B : ntrain;

    float *xb = advc_alloc((size_t)B * per * sizeof *xb);
    int *yb = malloc((size_t)B * sizeof *yb);
    int *pred = malloc((size_t)B * sizeof *pred);
    int *perm = malloc((size_t)ntrain * sizeof *perm);
    float *exit_acc = malloc((size_t)E * sizeof(float));
    gs.xadv = advc_alloc((size_t)B * per * sizeof *gs.xadv);
    gs.yb = malloc((size_t)B * sizeof *gs.yb);
    gs.pred = malloc((size_t)B * sizeof *gs.pred);
    advc_optimizer *opt = advc_optimizer_new(g, &cfg->opt);
    recipe_ctx sc;
    memset(&sc, 0, sizeof sc);
    sc.g = g;
    sc.rc = &rc;
    sc.adv_mode = rc.adv_mode == ADVC_ADV_MODE_EVAL ? ADVC_MODE_EVAL
                                                    : ADVC_MODE_TRAIN;
    sc.seed = cfg->seed;
    sc.x = xb;
    sc.y = yb;
    sc.n = bsz;
    sc.d = per;
    sc.pred = pred;
    FILE *log = NULL;
    char best_path[4096];
    bool rules_on = false;
    if (cfg->out_path)
        advc_train_best_path(cfg->out_path, best_path, sizeof best_path);
    if (!xb || !yb || !pred || !perm || !exit_acc || !gs.xadv || !gs.yb ||
        !gs.pred || !opt) {
        st = opt ? advc_set_error(ADVC_ERR_NOMEM, "out of memory in training")
                 : ADVC_ERR_NOMEM;
        goto done;
    }
    if ((st = recipe_ws_alloc(&sc, cfg->recipe, B)) != ADVC_OK) goto done;
    for (int e = 0; e < rc.n_exit_l2; e++) {
        char name[32];
        snprintf(name, sizeof name, "exit%d.fc.w", e);
        if ((st = advc_optimizer_set_wd(opt, name, rc.exit_l2[e])) != ADVC_OK)
            goto done;
    }
    if ((st = open_log(cfg->log_path, &log)) != ADVC_OK) goto done;
    advc_graph_set_seed(g, cfg->seed);
    set_rules(g, &rc, true);
    rules_on = true;
    for (int i = 0; i < ntrain; i++) perm[i] = i;

    double t_train = 0;
    for (int epoch = 0; epoch < epochs; epoch++) {
        advc_rng rng;
        advc_rng_seed(&rng, cfg->seed, 1000 + (uint64_t)epoch);
        advc_rng_shuffle(&rng, perm, ntrain);
        double loss_sum = 0, t0 = advc_now(), last_draw = 0;
        long correct = 0, seen = 0, nloss = 0;
        float lr = 0;
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < bsz; i++) {
                int r = perm[s * bsz + i];
                memcpy(xb + (size_t)i * per, data->x + (size_t)r * per,
                       per * sizeof *xb);
                yb[i] = data->y[r];
            }
            for (int rep = 0; rep < replays; rep++) {
                lr = advc_schedule_lr(&cfg->sched,
                                      epoch + (s + (double)rep / replays) /
                                                  steps,
                                      epochs);
                sc.replay = rep;
                sc.clean_live = false;
                if (def->make_input) def->make_input(&sc);
                float loss = def->loss(&sc);
                if (!isfinite(loss)) {
                    st = advc_set_error(
                        ADVC_ERR_NAN,
                        "training diverged: the loss is %g at epoch %d, "
                        "batch %d (lr %g)%s%s", (double)loss, epoch + 1,
                        s + 1, (double)lr,
                        cfg->out_path && epoch > 0 ? "; the last good "
                                                     "checkpoint is kept in "
                                                   : "",
                        cfg->out_path && epoch > 0 ? cfg->out_path : "");
                    goto done;
                }
                advc_optimizer_step(opt, lr);
                res->steps++;
                loss_sum += loss;
                nloss++;
                for (int i = 0; i < bsz; i++) correct += pred[i] == yb[i];
                seen += bsz;
            }
            sc.batch_index++;
            double now = advc_now();
            if (cfg->progress == ADVC_PROGRESS_LIVE &&
                (now - last_draw > 0.2 || s == steps - 1)) {
                last_draw = now;
                double el = now - t0, bps = (s + 1) / (el > 0 ? el : 1e-9);
                char eta[32];
                format_eta(((double)(steps - s - 1) +
                            (double)(epochs - epoch - 1) * steps) / bps,
                           eta, sizeof eta);
                fprintf(stderr,
                        "\repoch %d/%d  batch %d/%d  %.0f img/s  loss %.4f  "
                        "acc %.2f%%  ETA %s ",
                        epoch + 1, epochs, s + 1, steps, bps * bsz,
                        loss_sum / nloss, 100.0 * correct / seen, eta);
                fflush(stderr);
            }
        }
        double sec = advc_now() - t0;
        t_train += sec;
        res->epochs_done = epoch + 1;
        res->loss = (float)(loss_sum / nloss);
        res->train_acc = (float)((double)correct / seen);
        if (cfg->hook) cfg->hook(g, epoch + 1, cfg->hook_ctx);
        if (cfg->val_count > 0) {
            st = eval_rows(g, data->x + (size_t)(data->n - cfg->val_count) *
                                            per,
                           data->y + (data->n - cfg->val_count),
                           cfg->val_count, exit_acc, NULL);
            if (st != ADVC_OK) goto done;
            res->val_acc = exit_acc[E - 1];
        }
        /* The guard attacks the real model: no training-only rules. */
        advc_guard_point pt = { epoch + 1, -1, -1, -1 };
        bool is_best = false, stop = false;
        if (gs.n > 0) {
            set_rules(g, &rc, false);
            st = guard_eval(g, &gs, guard_eps, cfg->guard.steps, guard_seed,
                            &pt);
            set_rules(g, &rc, true);
            if (st != ADVC_OK) goto done;
            if (res->best.epoch == 0 || pt.pgd > res->best.pgd) {
                res->best = pt;
                is_best = true;
            } else if (res->best.pgd - pt.pgd > cfg->guard.co_threshold) {
                if (res->co.epoch == 0) res->co = pt;
                stop = !cfg->guard.co_warn;
            }
        }
        if (cfg->progress != ADVC_PROGRESS_NONE)
            print_epoch(cfg, epoch + 1, epochs, res, gs.n > 0 ? &pt : NULL,
                        is_best, lr, seen / sec, sec);
        if (log) {
            char b[5][32];
            fprintf(log, "%d,%.6g,%.6f,%.6f,%s,%s,%s,%s,%.3f\n", epoch + 1,
                    (double)lr, res->loss, res->train_acc,
                    opt_num(res->val_acc, b[0], 32),
                    opt_num(pt.clean, b[1], 32), opt_num(pt.fgsm, b[2], 32),
                    opt_num(pt.pgd, b[3], 32), sec);
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
        if (gs.n > 0 && res->co.epoch == epoch + 1 &&
            cfg->progress != ADVC_PROGRESS_NONE)
            fprintf(stderr,
                    "advc train: catastrophic overfitting at epoch %d: "
                    "held-out PGD accuracy %.1f%%, best %.1f%% at epoch %d%s\n",
                    epoch + 1, 100.0 * pt.pgd, 100.0 * res->best.pgd,
                    res->best.epoch,
                    stop ? "; stopping (the last checkpoint keeps the "
                           "epoch before)" : "; going on (--co-warn)");
        if (stop) {
            res->stopped = true;
            break;
        }
        if (cfg->out_path) {
            st = save_epoch(g, cfg, &rc, cfg->out_path, epoch + 1, epochs,
                            res, &pt);
            if (st == ADVC_OK && is_best)
                st = save_epoch(g, cfg, &rc, best_path, epoch + 1, epochs,
                                res, &pt);
            if (st != ADVC_OK) goto done;
        }
        res->last = pt;
    }
    res->seconds = t_train;
done:
    if (rules_on) set_rules(g, &rc, false);
    if (log) fclose(log);
    advc_optimizer_free(opt);
    recipe_ws_free(&sc);
    advc_free(xb);
    advc_free(gs.xadv);
    free(yb), free(pred), free(perm), free(exit_acc);
    free(gs.yb), free(gs.pred);
    return st;
}
