/* train_guard.c: held-out evaluation during training and the
 * catastrophic-overfitting guard.
 *
 * Guard (Wong, Rice, Kolter, ICLR 2020, section "catastrophic
 * overfitting"): their code runs PGD-5 on one training batch each epoch and
 * stops when robust accuracy falls by more than 20 points from the previous
 * epoch.  Here: a held-out batch (not trained on), FGSM and PGD-k attacks
 * in eval mode with the model's real backward rules, the drop measured
 * from the BEST epoch so far (a slow slide also counts), and both the best
 * (by PGD accuracy) and the last checkpoints kept.  An epoch that resists
 * FGSM (>= 50%) but not PGD (more than --co-gap below) is never "best":
 * the model resists only the one step it trains on; a run that ends so
 * never became robust, and says so.  An epoch whose held-out
 * clean accuracy is at chance level is never "best": a model that learned
 * nothing is also never fooled more.  Standard training has no attack to
 * overfit to, so its guard is off unless asked for.
 */
#include <math.h>
#include <stdio.h>
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

/* Forward x in eval mode; right answers per exit added to right[e]. */
static void count_right(advc_graph *g, const float *x, const int *y, int m,
                        int *pred, long *right)
{
    advc_graph_forward(g, x, m, ADVC_MODE_EVAL);
    for (int e = 0; e < advc_graph_num_exits(g); e++) {
        advc_argmax_rows(m, advc_graph_classes(g), advc_graph_logits(g, e),
                         pred);
        for (int i = 0; i < m; i++) right[e] += pred[i] == y[i];
    }
}

/* ||exit<e>.fc.w||_2 of every exit (-1: no tensor by that name). */
static void fc_norms(advc_graph *g, float *out)
{
    size_t np;
    const float *p = advc_graph_params(g, &np);
    for (int e = 0; e < advc_graph_num_exits(g) && e < ADVC_MAX_EXIT_L2; e++) {
        char name[32];
        snprintf(name, sizeof name, "exit%d.fc.w", e);
        int k = advc_graph_find_tensor(g, name);
        out[e] = -1.0f;
        if (k < 0) continue;
        const advc_tensor_info *ti = advc_graph_tensor(g, k);
        double ss = 0;
        for (size_t i = 0; i < ti->count; i++)
            ss += (double)p[ti->offset + i] * p[ti->offset + i];
        out[e] = (float)sqrt(ss);
    }
}

/* Clean, FGSM and PGD-k accuracy of every exit on the guard set, with
 * the attacks' own defaults (PGD: 2.5 eps / steps, one restart; the
 * summed loss of all exits, "fooled" judged on the final exit). */
static advc_status guard_eval(train_run *t, advc_guard_point *pt)
{
    const guard_set *gs = &t->gs;
    advc_attack_config fg = advc_attack_defaults(ADVC_ATK_FGSM);
    advc_attack_config pg = advc_attack_defaults(ADVC_ATK_PGD);
    fg.eps = pg.eps = t->rc.eps;
    fg.seed = pg.seed = t->guard_seed;
    pg.steps = t->cfg.guard.steps;
    long right[3][ADVC_MAX_EXIT_L2 + 1];
    memset(right, 0, sizeof right);
    for (int lo = 0; lo < gs->n; lo += t->B) {
        int m = gs->n - lo < t->B ? gs->n - lo : t->B;
        const float *x = gs->x + (size_t)lo * t->per;
        const int *yb = gs->y + lo;
        count_right(t->g, x, yb, m, gs->pred, right[0]);
        const advc_attack_config *cf[2] = { &fg, &pg };
        for (int k = 0; k < 2; k++) {
            advc_status st = advc_attack_run(t->g, cf[k], x, yb, m,
                                             gs->xadv);
            if (st != ADVC_OK) return st;
            count_right(t->g, gs->xadv, yb, m, gs->pred, right[k + 1]);
        }
    }
    int last = t->E - 1;
    pt->clean = (float)((double)right[0][last] / gs->n);
    pt->fgsm = (float)((double)right[1][last] / gs->n);
    pt->pgd = (float)((double)right[2][last] / gs->n);
    for (int e = 0; e < t->E && e < ADVC_MAX_EXIT_L2; e++) {
        pt->exit_clean[e] = (float)((double)right[0][e] / gs->n);
        pt->exit_fgsm[e] = (float)((double)right[1][e] / gs->n);
        pt->exit_pgd[e] = (float)((double)right[2][e] / gs->n);
    }
    fc_norms(t->g, pt->exit_fc_norm);
    return ADVC_OK;
}

/* Every exit against its own best PGD accuracy: the exits that fell more
 * than the threshold below it at this epoch (Chen et al.: deeper exits
 * overfit first).  The final exit decides whether training stops. */
static void exits_epoch(train_run *t, const advc_guard_point *pt)
{
    for (int e = 0; e < t->E - 1 && e < ADVC_MAX_EXIT_L2; e++) {
        t->exit_fell[e] = false;
        if (pt->exit_pgd[e] > t->exit_best_pgd[e]) {
            t->exit_best_pgd[e] = pt->exit_pgd[e];
            t->exit_best_epoch[e] = pt->epoch;
        } else if (t->exit_best_pgd[e] - pt->exit_pgd[e] >
                   t->cfg.guard.co_threshold) {
            t->exit_fell[e] = true;
        }
    }
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
    advc_guard_point pt;
    memset(&pt, 0, sizeof pt);
    pt.epoch = epoch + 1;
    pt.clean = pt.fgsm = pt.pgd = -1;
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
    exits_epoch(t, &pt);
    /* Robust to FGSM but not to PGD: not robust (yet).  Never a best
     * epoch; a run that ends so never became robust (reported at the
     * end).  It does not stop training: early in a run robustness to PGD
     * can still come. */
    t->fgsm_only = pt.fgsm >= 0.5f && pt.fgsm - pt.pgd > t->cfg.guard.co_gap;
    bool fell = res->best.epoch > 0 &&
                res->best.pgd - pt.pgd > t->cfg.guard.co_threshold;
    if (!t->chance && !t->fgsm_only &&
        (res->best.epoch == 0 || pt.pgd > res->best.pgd)) {
        res->best = pt;
        t->is_best = true;
    } else if (fell) {
        if (res->co.epoch == 0) res->co = pt;
        t->stop = !t->cfg.guard.co_warn;
        res->stopped = t->stop;
    }
    return ADVC_OK;
}
