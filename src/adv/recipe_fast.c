/* recipe_fast.c: advc's recommended single-step recipe (issue 13's study,
 * bench/repro/results/fastat.md, says why each part is there):
 *   fast  FGSM-RS (Wong, Rice, Kolter, ICLR 2020),
 *         x' = Pi(x + delta + a sign(g)), delta ~ U(-eps, eps), a = 1.25 eps,
 *         with ReLU's derivative replaced by the parametric softplus's,
 *         sigmoid(10 z), in the attack's and the update's backward passes
 *         (the SAT ablation of Xie et al. 2020, applied to a ReLU network
 *         whose forward pass stays ReLU), and eps ramped linearly from 0
 *         over the first 3 epochs; CE(x').
 * The smooth backward is what stops the FGSM-only collapse that ends
 * plain FGSM-RS on some seeds; the ramp is what lets every seed start
 * learning (at the full eps from the first batch, a seed can stay at
 * chance).  The training settings it recommends (10 epochs, batch 100,
 * Adam with a cyclic rate peaking at 5e-3) are those of Wong et al.'s
 * MNIST recipe, which the study used. */
#include "train_internal.h"

#include <stddef.h>

/* The smooth derivative both passes use unless --attack-grad or
 * --update-grad says otherwise: d/dz log(1 + e^(10 z)) / 10. */
#define FAST_RULE_ALPHA 10.0f

static void fast_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    const advc_act_spec rule = { ADVC_ACT_PSOFTPLUS, FAST_RULE_ALPHA };
    if (!(c->step_size > 0)) c->step_size = 1.25f * c->eps;
    if (c->attack_grad.f == ADVC_ACT_COUNT) c->attack_grad = rule;
    if (c->update_grad.f == ADVC_ACT_COUNT) c->update_grad = rule;
}

/* As RCP_ROW_RULE, with psoftplus:10 for a default (relu: ReLU's own). */
#define FAST_ROW_RULE(flag, field, whose)                                    \
    { flag, "R", ADVC_PARAM_CUSTOM, offsetof(advc_recipe_config, field), 0, \
      0, 0, "psoftplus:10", "ReLU's derivative in " whose " backward "       \
      "passes (relu: ReLU's own)", "a backward rule: psoftplus:A, "          \
      "softplus, silu, gelu, elu, sigmoid, tanh or relu", 0, 0,             \
      recipe_parse_rule, recipe_format_rule }

static const advc_param fast_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("1.25*eps"),
    RCP_ROW_ADV_MODE,
    FAST_ROW_RULE("attack-grad", attack_grad, "the training attack's"),
    FAST_ROW_RULE("update-grad", update_grad, "the parameter update's"),
};

const recipe_def recipe_fast_def = {
    { "fast", "FGSM-RS with a smooth ReLU derivative in both backward "
      "passes and an eps ramp: single-step cost, no collapse",
      "advc's study (bench/repro/results/fastat.md) of Wong et al. 2020, "
      "Xie et al. 2020", fast_params, RCP_NPARAMS(fast_params),
      "epochs=10 batch=100 lr=5e-3 schedule=cyclic eps-ramp=3" },
    fast_resolve, ADVC_ATK_FGSM, recipe_attack_batch_mean,
    recipe_input_fgsm_rs, recipe_loss_adv, false, true
};
