/* train_guard.c: held-out evaluation during training and the
 * catastrophic-overfitting guard.
 *
 * Guard (Wong, Rice, Kolter, ICLR 2020, section "catastrophic
 * overfitting"): their code runs PGD-5 on one training batch each epoch and
 * stops when robust accuracy falls by more than 20 points from the previous
 * epoch.  Here: a held-out batch (not trained on), FGSM and PGD-k attacks
 * in eval mode with the model's real backward rules, the drop measured
 * from the BEST epoch so far (a slow slide also counts), and both the best
 * (by PGD accuracy) and the last checkpoints kept.  An epoch whose held-out
 * clean accuracy is at chance level is never "best": a model that learned
 * nothing is also never fooled more.  Standard training has no attack to
 * overfit to, so its guard is off unless asked for.
 */
#include <stdlib.h>
#include <string.h>
#include "advc/attack.h"
#include "advc/loss.h"
#include "train_internal.h"

advc_status train_eval_rows(advc_graph *g, const float *x, const int *y,
                            int n, float *acc, float *loss)
{
    int B = advc_graph_batch(g), classes = advc_graph_classes(g);
    int exits = advc_graph_num_exits(g);
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    int *pred = malloc((size_t)B * sizeof *pred);
    long *correct = calloc((size_t)exits, sizeof *correct);
    if (!pred || !correct) {
        free(pred), free(correct);
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in evaluation");
    }
    double loss_sum = 0;
    for (int lo = 0; lo < n; lo += B) {
        int m = n - lo < B ? n - lo : B;
        const int *yb = y + lo;
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
    free(pred), free(correct);
    return ADVC_OK;
}

/* ---- the guard's split --------------------------------------------------- */

/* How many images the guard holds out: the asked count, or by default
 * min(512, a tenth of the training images) for a recipe whose guard is on
 * (std: none). */
static int guard_count(const train_run *t)
{
    int gn = t->cfg.guard.count, nval = t->cfg.val_count;
    if (gn < 0 && !t->def->guard) return 0;
    if (nval > 0) {
        if (gn < 0) return nval > 512 ? 512 : nval;
        return gn > nval ? nval : gn;
    }
    if (gn < 0) return t->ntrain / 10 < 512 ? t->ntrain / 10 : 512;
    return gn;
}

/* The front of the validation split, else the end of the training split
 * (then no longer trained on). */
advc_status guard_open(train_run *t)
{
    guard_set *gs = &t->gs;
    int gn = guard_count(t);
    const advc_dataset *d = t->data;
    if (t->cfg.val_count == 0 && gn > 0) {
        if (gn >= t->ntrain)
            return advc_set_error(ADVC_ERR_ARG,
                                  "a guard batch of %d leaves no training "
                                  "data (%d samples): use a smaller "
                                  "--guard-batch or --val", gn, t->ntrain);
        t->ntrain -= gn;
    }
    gs->x = d->x + (size_t)t->ntrain * t->per;
    gs->y = d->y + t->ntrain;
    gs->n = t->cfg.guard.steps > 0 ? gn : 0;
    t->cfg.guard.count = gs->n;
    t->res->guard_n = gs->n;
    t->guard_seed = advc_mix64(t->cfg.seed, 0x6a4d);
    gs->xadv = advc_alloc((size_t)t->B * t->per * sizeof *gs->xadv);
    gs->pred = malloc((size_t)t->B * sizeof *gs->pred);
    if (!gs->xadv || !gs->pred)
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory for the guard");
    return ADVC_OK;
}

void guard_close(train_run *t)
{
    advc_free(t->gs.xadv);
    free(t->gs.pred);
    memset(&t->gs, 0, sizeof t->gs);
}

/* ---- the guard's evaluation ----------------------------------------------- */

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

/* Clean, FGSM and PGD-k accuracy of the final exit on the guard set, with
 * the attacks' own defaults (PGD: 2.5 eps / steps, one restart). */
static advc_status guard_eval(train_run *t, advc_guard_point *pt)
{
    const guard_set *gs = &t->gs;
    advc_attack_config fg = advc_attack_defaults(ADVC_ATK_FGSM);
    advc_attack_config pg = advc_attack_defaults(ADVC_ATK_PGD);
    fg.eps = pg.eps = t->rc.eps;
    fg.seed = pg.seed = t->guard_seed;
    pg.steps = t->cfg.guard.steps;
    long right[3] = { 0, 0, 0 };
    for (int lo = 0; lo < gs->n; lo += t->B) {
        int m = gs->n - lo < t->B ? gs->n - lo : t->B;
        const float *x = gs->x + (size_t)lo * t->per;
        const int *yb = gs->y + lo;
        right[0] += count_right(t->g, x, yb, m, gs->pred);
        const advc_attack_config *cf[2] = { &fg, &pg };
        for (int k = 0; k < 2; k++) {
            advc_status st = advc_attack_run(t->g, cf[k], x, yb, m,
                                             gs->xadv);
            if (st != ADVC_OK) return st;
            right[k + 1] += count_right(t->g, gs->xadv, yb, m, gs->pred);
        }
    }
    pt->clean = (float)((double)right[0] / gs->n);
    pt->fgsm = (float)((double)right[1] / gs->n);
    pt->pgd = (float)((double)right[2] / gs->n);
    return ADVC_OK;
}

/* Held-out clean accuracy below 1.5 / classes: the model has not learned
 * (10 classes: under 15%). */
static bool at_chance(const train_run *t, float clean)
{
    return clean >= 0 && clean < 1.5f / (float)t->classes;
}

/* After the epoch: the guard point, the best epoch so far, a collapse. */
advc_status guard_epoch(train_run *t, int epoch)
{
    advc_train_result *res = t->res;
    advc_guard_point pt = { epoch + 1, -1, -1, -1 };
    t->is_best = t->stop = false;
    t->pt = pt;
    float clean = res->val_acc >= 0 ? res->val_acc : res->train_acc;
    if (t->gs.n > 0) {
        /* The guard attacks the real model: no training-only rules. */
        bool rules = t->rules_on;
        if (rules) train_set_rules(t, false);
        advc_status st = guard_eval(t, &pt);
        if (rules) train_set_rules(t, true);
        if (st != ADVC_OK) return st;
        clean = pt.clean;
    }
    t->pt = pt;
    t->chance = at_chance(t, clean);
    if (t->gs.n == 0) return ADVC_OK;
    if (!t->chance && (res->best.epoch == 0 || pt.pgd > res->best.pgd)) {
        res->best = pt;
        t->is_best = true;
    } else if (res->best.epoch > 0 &&
               res->best.pgd - pt.pgd > t->cfg.guard.co_threshold) {
        if (res->co.epoch == 0) res->co = pt;
        t->stop = !t->cfg.guard.co_warn;
        res->stopped = t->stop;
    }
    return ADVC_OK;
}
