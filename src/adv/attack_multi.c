/* attack_multi.c: the max-average attack on a multi-exit model (Hu, Chen,
 * Wang, Wang, "Triple Wins", ICLR 2020): run the attack against each exit
 * alone and against the mean of all exits' losses, then keep per sample
 * the candidate x_c maximising (1/E) sum_e loss_e(x_c).
 *
 * The run against the mean goes first and is the summed attack (its seed,
 * judged on the final exit, its early stop): a sample it fools keeps that
 * point.  Only the samples it leaves robust get the per-exit runs, pure
 * loss maximisations (no "fooled" shortcut: the choice is by mean loss, as
 * in the paper), each with its own seed; for those samples the candidates
 * are exactly the paper's.  So the attack is at least as strong as both
 * the summed attack and the paper's max-average, and costs the summed
 * attack plus E runs on the robust samples only.
 */
#include "attack_internal.h"

#include <string.h>

/* The samples idx[0..m) of c as a context of their own: their clean
 * rows, labels and targets gathered into the workspace; random starts
 * keep each sample's own stream. */
static atk_ctx gather(const atk_ctx *c, const int *idx, int m)
{
    atk_ws *w = c->ws;
    atk_ctx s = *c;
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        memcpy(w->mx + (size_t)j * c->d, c->x + (size_t)i * c->d,
               c->d * sizeof *w->mx);
        w->my[j] = c->y[i];
        if (c->loss_tgt) w->mt[j] = c->loss_tgt[i];
        w->mid[j] = c->idmap ? c->idmap[i] : i;
    }
    s.n = m;
    s.x = w->mx;
    s.y = w->my;
    s.loss_tgt = c->loss_tgt ? w->mt : NULL;
    s.succ_tgt = NULL;
    s.idmap = w->mid;
    return s;
}

advc_status atk_maxavg(const atk_ctx *c, atk_run_fn run, float *x_adv)
{
    atk_ws *w = c->ws;
    int E = c->exits;
    size_t d = c->d;

    /* 1. Against the mean (the summed loss): the summed attack itself, its
     * seed, judge and early stop. */
    atk_ctx sum = *c;
    sum.exit_lo = 0;
    sum.exit_hi = E;
    atk_out out = { x_adv, w->oobj, w->ofool };
    advc_status st = run(&sum, &out);
    if (st != ADVC_OK) return st;
    int *idx = w->midx, m = atk_unfooled(c, &out, idx);
    if (m == 0) return ADVC_OK;

    /* 2. The robust ones: every exit alone, the candidate with the highest
     * mean loss over the exits kept. */
    atk_ctx g = gather(c, idx, m);
    atk_ctx all = g;
    all.exit_lo = 0;
    all.exit_hi = E;
    all.judge = -1;
    int *jdx = w->mjdx;
    for (int j = 0; j < m; j++) jdx[j] = j;
    for (int j = 0; j < m; j++)
        memcpy(w->mcand + (size_t)j * d, x_adv + (size_t)idx[j] * d,
               d * sizeof *w->mcand);
    atk_eval(&all, w->mcand, jdx, m, w->mbest, NULL, false);
    for (int k = 0; k < E; k++) {
        atk_ctx sub = g;
        sub.judge = -1;
        sub.early_stop = false;
        sub.seed = advc_mix64(c->seed, (uint64_t)k);
        sub.exit_lo = k;
        sub.exit_hi = k + 1;
        atk_out cand = { w->mcand, w->mobj, w->mfool };
        if ((st = run(&sub, &cand)) != ADVC_OK) return st;
        atk_eval(&all, cand.x, jdx, m, w->mmean, NULL, false);
        for (int j = 0; j < m; j++) {
            if (!(w->mmean[j] > w->mbest[j])) continue;
            w->mbest[j] = w->mmean[j];
            memcpy(x_adv + (size_t)idx[j] * d, cand.x + (size_t)j * d,
                   d * sizeof *x_adv);
        }
    }
    return ADVC_OK;
}
