/* attack_multi.c: the max-average attack on a multi-exit model (Hu, Chen,
 * Wang, Wang, "Triple Wins", ICLR 2020): run the attack against each exit
 * alone and against the mean of all exits' losses, then keep per sample
 * the candidate x_c maximising (1/E) sum_e loss_e(x_c).
 * The sub-runs are pure loss maximisations (no "fooled" shortcut: the
 * choice is by mean loss, as in the paper), each with its own seed.
 */
#include "attack_internal.h"

#include <string.h>

advc_status atk_maxavg(const atk_ctx *c, atk_run_fn run, float *x_adv)
{
    atk_ws *w = c->ws;
    int E = c->exits, n = c->n;
    size_t d = c->d;
    atk_out cand = {w->mcand, w->oobj, w->ofool};

    /* The judge of candidates: every exit's loss, no target sign tricks
     * beyond the attack's own objective. */
    atk_ctx all = *c;
    all.exit_lo = 0;
    all.exit_hi = E;
    all.judge = -1;

    for (int k = 0; k <= E; k++) {
        atk_ctx sub = *c;
        sub.judge = -1;
        sub.early_stop = false;
        sub.seed = advc_mix64(c->seed, (uint64_t)k);
        sub.exit_lo = k < E ? k : 0; /* k == E: all exits (their mean) */
        sub.exit_hi = k < E ? k + 1 : E;
        advc_status st = run(&sub, &cand);
        if (st != ADVC_OK) return st;

        atk_eval(&all, cand.x, w->midx, n, w->mmean, NULL, false);
        for (int i = 0; i < n; i++) {
            float v = w->mmean[i] / (float)E;
            if (k > 0 && !(v > w->mbest[i])) continue;
            w->mbest[i] = v;
            memcpy(x_adv + (size_t)i * d, cand.x + (size_t)i * d,
                   d * sizeof *x_adv);
        }
    }
    return ADVC_OK;
}
