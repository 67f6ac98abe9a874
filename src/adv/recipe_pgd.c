/* recipe_pgd.c: PGD adversarial training (Madry et al., ICLR 2018):
 * x_0 = Pi(x + U(-eps, eps)), x_{t+1} = Pi(x_t + a sign(grad CE(x_t))),
 * k = 7 steps of a = 2.5 eps / k (the MNIST paper: --steps 40 --step-size
 * 0.01); CE at the per-sample highest-loss iterate x_0 .. x_k (one more
 * forward than the last iterate x_k, which --iterate last trains on).
 * The attack is the evaluation PGD (attack_pgd.c) with max_loss (or
 * last_iterate) and the recipe's own start. */
#include "train_internal.h"

#include <stddef.h>

void recipe_input_pgd(recipe_ctx *s)
{
    recipe_uniform_start(s, s->start, true);
    recipe_run_attack(s);
}

void recipe_attack_pgd(advc_attack_config *a)
{
    a->max_loss = true;   /* the highest-loss iterate */
    a->batch_mean = true; /* the training loss's gradient */
}

void recipe_pgd_defaults(advc_recipe_config *c, int steps)
{
    if (c->steps <= 0) c->steps = steps;
    if (!(c->step_size > 0)) c->step_size = 2.5f * c->eps / (float)c->steps;
}

static void pgd_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    recipe_pgd_defaults(c, 7);
}

static const advc_param pgd_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEPS("7 (Madry et al.'s MNIST recipe: 40)"),
    RCP_ROW_STEP_SIZE("2.5*eps/steps (Madry et al.'s MNIST: 0.01)"),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ITERATE("max"),
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

const recipe_def recipe_pgd_def = {
    { "pgd", "CE(x') with x' from PGD-k: random start, the highest-loss "
      "iterate (or the last)", "Madry et al., ICLR 2018", pgd_params,
      RCP_NPARAMS(pgd_params), NULL },
    pgd_resolve, ADVC_ATK_PGD, recipe_attack_pgd, recipe_input_pgd,
    recipe_loss_adv, false, true
};
