/* recipe_fast.c: advc's recommended fast recipe (issue 13's study,
 * bench/repro/results/fastat.md and fastat-few.md, says why each part is
 * there):
 *   fast  PGD-3 adversarial training (Madry et al., ICLR 2018, with three
 *         steps instead of 40): x_0 = Pi(x + U(-eps, eps)),
 *         x_{t+1} = Pi(x_t + a sign(grad CE(x_t))), a = 2.5 eps / 3,
 *         CE at the last iterate x_3, with eps (and a) ramped linearly
 *         from 0 over the first 3 epochs.
 * Why three steps and not one: every single-step recipe of the study
 * either collapsed on some seed (FGSM-RS, N-FGSM) or, made collapse-free
 * with a smooth ReLU derivative, stayed 3 points lower on average under
 * AutoAttack on cnn-small and about 20 lower on cnn; PGD-2 collapsed on
 * one seed of five.  Why the last iterate: training on each sample's
 * highest-loss iterate (--iterate max) needs a fifth forward pass per
 * batch to score x_3 and cost 2.13x FGSM-RS per epoch; x_3 itself
 * costs 1.93x (four forward and four backward passes against two and
 * two) for 0.7 points less under AutoAttack on cnn-small (86.2 against
 * 86.9, 5 seeds, worst seed 85.0), and under a tenth of PGD-40.  The ramp
 * lets every seed start learning.  Larger networks want more steps:
 * on cnn, --steps 7 gave 89.4% under AutoAttack (2 seeds) where three
 * gave 87.8%, at 0.21 times PGD-40's cost.  The training settings it
 * recommends (10 epochs, batch 100, Adam with a cyclic rate peaking at
 * 5e-3) are those of Wong et al.'s MNIST recipe, which the study used. */
#include "train_internal.h"

#include <stddef.h>

/* Three steps of 2.5 eps / 3 unless --steps / --step-size say otherwise. */
#define FAST_STEPS 3

static void fast_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    recipe_pgd_defaults(c, FAST_STEPS);
    if (c->iterate == ADVC_ITERATE_DEFAULT) c->iterate = ADVC_ITERATE_LAST;
}

static const advc_param fast_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEPS("3"),
    RCP_ROW_STEP_SIZE("2.5*eps/steps"),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ITERATE("last"),
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
};

const recipe_def recipe_fast_def = {
    { "fast", "PGD-3 from a random start, trained on the last iterate, "
      "eps ramped over 3 epochs: under twice FGSM-RS's cost, no collapse",
      "advc's study (bench/repro/results/fastat-few.md) of Wong et al. "
      "2020, Madry et al. 2018", fast_params, RCP_NPARAMS(fast_params),
      "epochs=10 batch=100 lr=5e-3 schedule=cyclic eps-ramp=3" },
    fast_resolve, ADVC_ATK_PGD, recipe_attack_pgd, recipe_input_pgd,
    recipe_loss_adv, false, true
};
