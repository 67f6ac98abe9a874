/* train.c: the one training loop (see advc/train.h).
 *
 * It reads top to bottom: open the run, then for every epoch train the
 * batches, evaluate (validation split and the overfitting guard), report
 * (progress, the epoch line, the CSV log) and save the checkpoints; close
 * the run.  A step: gather a shuffled batch -> the recipe makes the
 * training input and accumulates d(loss)/d(params) (recipe_*.c, through
 * the table in recipes.c) -> optimizer step at the scheduled rate; free
 * training replays each batch m times, one optimizer step per replay.
 * Everything the loop needs is allocated when the run opens.  The named
 * steps live beside it: train_guard.c (held-out evaluation, the guard),
 * train_log.c (what the run prints and writes), train_params.c (its
 * settings as rows).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/evaluate.h"
#include "advc/models.h"
#include "train_internal.h"

advc_train_config advc_train_defaults(void)
{
    advc_train_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 1;
    c.batch = 128;
    c.opt = advc_opt_defaults(ADVC_OPT_ADAM);
    c.opt.momentum = 0.9f; /* used only if --opt sgd is chosen later */
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
    c.guard.co_gap = ADVC_FGSM_ONLY_GAP;
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

void advc_train_epoch_path(const char *out, int epoch, char *buf,
                           size_t bufsz)
{
    char tag[32];
    snprintf(tag, sizeof tag, ".epoch%d", epoch);
    const char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    if (dot && (!slash || dot > slash + 1))
        snprintf(buf, bufsz, "%.*s%s%s", (int)(dot - out), out, tag, dot);
    else
        snprintf(buf, bufsz, "%s%s", out, tag);
}

advc_status advc_eval_clean(advc_graph *g, const advc_dataset *d, int limit,
                            float *acc, float *loss)
{
    int n = limit > 0 && limit < d->n ? limit : d->n;
    return train_eval_rows(g, d->x, d->y, n, acc, loss);
}

void train_set_rules(train_run *t, bool on)
{
    advc_act_spec none = { ADVC_ACT_COUNT, 0.0f };
    const advc_recipe_config *rc = &t->rc;
    if (rc->attack_grad.f != ADVC_ACT_COUNT)
        advc_graph_set_backward_act(t->g, ADVC_PASS_ATTACK, ADVC_ACT_RELU,
                                    on ? rc->attack_grad : none);
    if (rc->update_grad.f != ADVC_ACT_COUNT)
        advc_graph_set_backward_act(t->g, ADVC_PASS_UPDATE, ADVC_ACT_RELU,
                                    on ? rc->update_grad : none);
    t->rules_on = on;
}

/* ---- opening and closing a run ------------------------------------------- */

/* The data against the graph: batch, shape, a training split left. */
static advc_status check_run(const train_run *t)
{
    const advc_train_config *cfg = &t->cfg;
    const advc_dataset *data = t->data;
    if (cfg->batch != t->B)
        return advc_set_error(ADVC_ERR_ARG,
                              "training batch %d differs from the graph's %d",
                              cfg->batch, t->B);
    if (cfg->epochs < 1)
        return advc_set_error(ADVC_ERR_ARG, "epochs %d: want >= 1",
                              cfg->epochs);
    if (cfg->val_count < 0 || data->n - cfg->val_count < 1)
        return advc_set_error(ADVC_ERR_ARG,
                              "validation split of %d leaves no training "
                              "data (%d samples)", cfg->val_count, data->n);
    advc_shape in = advc_graph_input_shape(t->g);
    if (in.c != data->c || in.h != data->h || in.w != data->w)
        return advc_set_error(ADVC_ERR_ARG,
                              "data are %dx%dx%d images, the model expects "
                              "%dx%dx%d", data->c, data->h, data->w, in.c,
                              in.h, in.w);
    return ADVC_OK;
}

static advc_status alloc_run(train_run *t)
{
    t->xb = advc_alloc((size_t)t->B * t->per * sizeof *t->xb);
    t->yb = malloc((size_t)t->B * sizeof *t->yb);
    t->pred = malloc((size_t)t->B * sizeof *t->pred);
    t->perm = malloc((size_t)t->ntrain * sizeof *t->perm);
    t->exit_acc = malloc((size_t)t->E * sizeof *t->exit_acc);
    t->opt = advc_optimizer_new(t->g, &t->cfg.opt);
    if (!t->opt) return ADVC_ERR_NOMEM;
    if (!t->xb || !t->yb || !t->pred || !t->perm || !t->exit_acc)
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in training");
    recipe_ctx *sc = &t->sc;
    sc->g = t->g;
    t->rc_now = t->rc;
    sc->rc = &t->rc_now;
    sc->adv_mode = t->rc.adv_mode == ADVC_ADV_MODE_EVAL ? ADVC_MODE_EVAL
                                                        : ADVC_MODE_TRAIN;
    sc->seed = t->cfg.seed;
    sc->x = t->xb;
    sc->y = t->yb;
    sc->n = t->bsz;
    sc->d = t->per;
    sc->pred = t->pred;
    return recipe_ws_alloc(sc, t->cfg.recipe, t->B);
}

/* Per-exit L2 on exit<i>.fc.w (Chen et al.). */
static advc_status set_exit_l2(train_run *t)
{
    for (int e = 0; e < t->rc.n_exit_l2; e++) {
        char name[32];
        snprintf(name, sizeof name, "exit%d.fc.w", e);
        advc_status st = advc_optimizer_set_wd(t->opt, name, t->rc.exit_l2[e]);
        if (st != ADVC_OK) return st;
    }
    return ADVC_OK;
}

static advc_status run_open(train_run *t, advc_graph *g,
                            const advc_dataset *data,
                            const advc_train_config *cfg,
                            advc_train_result *res)
{
    memset(t, 0, sizeof *t);
    memset(res, 0, sizeof *res);
    res->val_acc = -1;
    res->last.clean = res->last.fgsm = res->last.pgd = -1;
    t->g = g;
    t->data = data;
    t->cfg = advc_train_resolve(cfg);
    if (t->cfg.augment == ADVC_AUGMENT_DEFAULT)
        t->cfg.augment = advc_augment_default(data);
    t->res = res;
    t->B = advc_graph_batch(g);
    t->E = advc_graph_num_exits(g);
    t->classes = advc_graph_classes(g);
    t->per = advc_shape_size(advc_graph_input_shape(g));
    advc_status st = advc_train_check(g, cfg);
    if (st == ADVC_OK) st = check_run(t);
    if (st != ADVC_OK) return st;
    t->rc = advc_recipe_resolve(cfg->recipe, &cfg->rc, t->E);
    t->def = recipe_get(cfg->recipe);
    t->ntrain = data->n - cfg->val_count;
    if ((st = guard_open(t)) != ADVC_OK) return st; /* may take images */
    t->replays = t->def->replays ? t->rc.replays : 1;
    t->epochs = (cfg->epochs + t->replays - 1) / t->replays;
    /* Drop the last partial batch (batch statistics of a handful of
     * samples are noise), unless the whole split is smaller than one. */
    t->steps = t->ntrain >= t->B ? t->ntrain / t->B : 1;
    t->bsz = t->ntrain >= t->B ? t->B : t->ntrain;
    if (cfg->out_path)
        advc_train_best_path(cfg->out_path, t->best_path,
                             sizeof t->best_path);
    if ((st = alloc_run(t)) != ADVC_OK) return st;
    if ((st = set_exit_l2(t)) != ADVC_OK) return st;
    advc_dataset_fingerprint(data, t->data_train, sizeof t->data_train);
    for (int i = 0; i < t->ntrain; i++) t->perm[i] = i;
    advc_graph_set_seed(g, cfg->seed);
    if (cfg->resume && (st = resume_open(t)) != ADVC_OK) return st;
    if ((st = log_open_csv(t)) != ADVC_OK) return st;
    train_set_rules(t, true);
    log_header(t);
    resume_note(t);
    return ADVC_OK;
}

static void run_close(train_run *t)
{
    if (t->rules_on) train_set_rules(t, false);
    if (t->log) fclose(t->log);
    free(t->log_text);
    advc_optimizer_free(t->opt);
    recipe_ws_free(&t->sc);
    guard_close(t);
    advc_free(t->xb);
    free(t->yb), free(t->pred), free(t->perm), free(t->exit_acc);
}

/* ---- one epoch of training ----------------------------------------------- */

/* Batch s of the epoch's order, each image augmented as it is copied
 * (--augment; none is a plain copy). */
static void gather_batch(train_run *t, int epoch, int s)
{
    const advc_dataset *d = t->data;
    advc_rng r;
    advc_augment_rng(&r, t->cfg.seed, epoch, s);
    for (int i = 0; i < t->bsz; i++) {
        int k = t->perm[s * t->bsz + i];
        advc_augment_image(t->cfg.augment, &r, d->x + (size_t)k * t->per,
                           t->xb + (size_t)i * t->per, d->c, d->h, d->w);
        t->yb[i] = d->y[k];
    }
}

/* --eps-ramp: eps, the step and the attack's radius at fractional epoch
 * `when` are f times their full values, f = min(1, when / ramp), counted
 * at the end of the step so that the first step's budget is not 0. */
float train_ramp_factor(double when, int steps, float ramp)
{
    if (!(ramp > 0)) return 1.0f;
    double f = (when + 1.0 / steps) / ramp;
    return f < 1 ? (float)f : 1.0f;
}

static void ramp_eps(train_run *t, double when)
{
    if (!(t->cfg.eps_ramp > 0)) return;
    float ff = train_ramp_factor(when, t->steps, t->cfg.eps_ramp);
    t->rc_now.eps = t->rc.eps * ff;
    t->rc_now.step_size = t->rc.step_size * ff;
    t->rc_now.attack_eps = t->rc.attack_eps * ff;
}

/* The recipe's step on the gathered batch, once per replay. */
static advc_status train_batch(train_run *t, int epoch, int s)
{
    for (int rep = 0; rep < t->replays; rep++) {
        double when = epoch + (s + (double)rep / t->replays) / t->steps;
        ramp_eps(t, when);
        t->lr = advc_schedule_lr(&t->cfg.sched, when, t->epochs);
        t->sc.replay = rep;
        t->sc.clean_live = false;
        if (t->def->make_input) t->def->make_input(&t->sc);
        float loss = t->def->loss(&t->sc);
        if (!isfinite(loss))
            return advc_set_error(
                ADVC_ERR_NAN, "training diverged: the loss is %g at epoch "
                "%d, batch %d (lr %g)%s%s", (double)loss, epoch + 1, s + 1,
                (double)t->lr, t->cfg.out_path && epoch > 0
                                   ? "; the last good checkpoint is kept in "
                                   : "",
                t->cfg.out_path && epoch > 0 ? t->cfg.out_path : "");
        advc_optimizer_step(t->opt, t->lr);
        t->res->steps++;
        t->loss_sum += loss;
        t->nloss++;
        for (int i = 0; i < t->bsz; i++) t->correct += t->pred[i] == t->yb[i];
        t->seen += t->bsz;
    }
    t->sc.batch_index++;
    return ADVC_OK;
}

/* Epoch e shuffles with stream SHUFFLE_STREAM + e of the seed: clear of
 * the streams 0, 1, ... that initialisation draws (one per tensor). */
#define SHUFFLE_STREAM 1000

void train_shuffle(train_run *t, int epoch)
{
    advc_rng rng;
    advc_rng_seed(&rng, t->cfg.seed, SHUFFLE_STREAM + (uint64_t)epoch);
    advc_rng_shuffle(&rng, t->perm, t->ntrain);
}

/* cfg.stop asked after batch `batch` of epoch (0: after its checkpoints). */
static bool stop_asked(const train_run *t, int epoch, int batch)
{
    return t->cfg.stop && t->cfg.stop(t->cfg.stop_ctx, epoch + 1, batch);
}

/* Ends the run after `batches` batches of epoch: the state is saved. */
static advc_status interrupt(train_run *t, int epoch, int batches)
{
    t->res->interrupted = true;
    t->res->epochs_done = epoch;
    t->res->at_batch = batches;
    return resume_save(t, epoch, batches);
}

/* The epoch's time so far (sec0 before a resume, since t0 now), and the
 * run's. */
static void add_time(train_run *t, double sec0, double t0)
{
    double dt = advc_now() - t0;
    t->sec = sec0 + dt;
    t->res->seconds += dt;
}

/* The epoch's batches (a resumed run: those not done yet). */
static advc_status train_epoch(train_run *t, int epoch)
{
    train_shuffle(t, epoch);
    int s0 = epoch == t->start_epoch ? t->start_batch : 0;
    double sec0 = s0 > 0 ? t->sec : 0; /* the part done before a resume */
    if (s0 == 0) {
        t->loss_sum = 0;
        t->correct = t->seen = t->nloss = 0;
    }
    double t0 = advc_now(), last_draw = 0;
    for (int s = s0; s < t->steps; s++) {
        gather_batch(t, epoch, s);
        advc_status st = train_batch(t, epoch, s);
        if (st != ADVC_OK) return st;
        log_progress(t, epoch, s, t0, &last_draw);
        if (stop_asked(t, epoch, s + 1)) {
            add_time(t, sec0, t0);
            return interrupt(t, epoch, s + 1);
        }
    }
    add_time(t, sec0, t0);
    t->res->epochs_done = epoch + 1;
    t->res->loss = (float)(t->loss_sum / t->nloss);
    t->res->train_acc = (float)((double)t->correct / t->seen);
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

/* Validation split and the guard, after the epoch's training. */
static advc_status epoch_evaluate(train_run *t, int epoch)
{
    if (t->cfg.hook) t->cfg.hook(t->g, epoch + 1, t->cfg.hook_ctx);
    int nval = t->cfg.val_count;
    if (nval > 0) {
        const advc_dataset *d = t->data;
        advc_status st = train_eval_rows(
            t->g, d->x + (size_t)(d->n - nval) * t->per,
            d->y + (d->n - nval), nval, t->exit_acc, NULL);
        if (st != ADVC_OK) return st;
        t->res->val_acc = t->exit_acc[t->E - 1];
    }
    return guard_epoch(t, epoch);
}

static advc_status check_finite(const train_run *t, int epoch)
{
    if (params_finite(t->g)) return ADVC_OK;
    return advc_set_error(ADVC_ERR_NAN, "training diverged: parameters are "
                          "not finite after epoch %d%s%s", epoch + 1,
                          t->cfg.out_path ? "; kept the last good checkpoint "
                                          : "",
                          t->cfg.out_path ? t->cfg.out_path : "");
}

advc_status advc_train_resume_check(advc_graph *g, const advc_dataset *data,
                                    const advc_train_config *cfg)
{
    advc_train_config c = *cfg;
    c.resume = true;
    c.progress = ADVC_PROGRESS_NONE;
    c.log_path = NULL;
    train_run t;
    advc_train_result res;
    advc_status st = run_open(&t, g, data, &c, &res);
    run_close(&t);
    return st;
}

/* ---- the loop ------------------------------------------------------------ */

advc_status advc_train(advc_graph *g, const advc_dataset *data,
                       const advc_train_config *cfg, advc_train_result *res)
{
    train_run t;
    advc_status st = run_open(&t, g, data, cfg, res);
    for (int epoch = t.start_epoch; st == ADVC_OK && epoch < t.epochs;
         epoch++) {
        st = train_epoch(&t, epoch);
        if (st != ADVC_OK || res->interrupted) break;
        st = epoch_evaluate(&t, epoch);
        if (st == ADVC_OK) log_epoch(&t, epoch);
        if (st == ADVC_OK) st = check_finite(&t, epoch);
        if (st != ADVC_OK) break;
        /* A collapse keeps the epoch before in out_path; at the first
         * epoch there is none, so that one is saved (with its verdict). */
        if (t.stop && epoch > 0) break;
        st = log_checkpoints(&t, epoch);
        if (st == ADVC_OK) st = resume_save(&t, epoch + 1, 0);
        if (st != ADVC_OK || t.stop) break;
        if (stop_asked(&t, epoch, 0)) {
            res->interrupted = true;
            break;
        }
    }
    run_close(&t);
    return st;
}
