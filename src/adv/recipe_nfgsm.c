/* recipe_nfgsm.c: N-FGSM (de Jorge et al., "Make some noise: reliable and
 * efficient single-step adversarial training", NeurIPS 2022):
 *   x_0 = clip01(x + U(-k eps, k eps)), k = 2,
 *   x'  = clip01(x_0 + a sign(grad CE(x_0))), a = eps,
 * CE(x'), with NO projection back onto the eps-ball: the perturbation may
 * reach (k + 1) eps before the pixel box.  Stronger noise and no clipping
 * are what keep single-step training from overfitting catastrophically at
 * the cost of FGSM-RS (two passes per batch).  It runs the FGSM attack
 * (attack_pgd.c) from the recipe's start with the projection radius set
 * to (k + 1) eps, where it never binds. */
#include "train_internal.h"

#include <stddef.h>

/* x_0 = clip01(x + U(-k eps, k eps)): the noise clipped to the image only. */
static void input_nfgsm(recipe_ctx *s)
{
    advc_rng r;
    recipe_rng(s, 1, &r);
    float amp = s->rc->noise * s->rc->eps;
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++)
        s->start[k] = recipe_clamp01(
            s->x[k] + amp * (2.0f * advc_rng_uniform(&r) - 1.0f));
    s->atk.start = s->start;
    recipe_run_attack(s);
}

/* k = 2 and a = eps (the paper's defaults); the training attack's ball is
 * widened so that it never projects (pixels stay in [0, 1], so a radius
 * of 1 already cannot bind). */
static void nfgsm_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    if (!(c->noise > 0)) c->noise = 2.0f;
    if (!(c->step_size > 0)) c->step_size = c->eps;
    float r = c->noise * c->eps + c->step_size;
    c->attack_eps = r < 1.0f ? r : 1.0f;
}

static const advc_param nfgsm_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("eps"),
    RCP_ROW("noise", "K", ADVC_PARAM_REAL, noise, 0, 100, 1, "2",
            "noise from U(-K eps, K eps), clipped to the image only", NULL),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

const recipe_def recipe_n_fgsm_def = {
    { "n-fgsm", "CE(x') with x' one FGSM step of eps from x + U(-2 eps, "
      "2 eps), not projected back", "de Jorge et al., NeurIPS 2022",
      nfgsm_params, RCP_NPARAMS(nfgsm_params), NULL },
    nfgsm_resolve, ADVC_ATK_FGSM, recipe_attack_batch_mean, input_nfgsm,
    recipe_loss_adv, false, true
};
