/* recipe_fgsm.c: the single-step recipes.
 *   fgsm     Goodfellow, Shlens, Szegedy (ICLR 2015):
 *            a CE(x) + (1 - a) CE(x'), x' = Pi(x + eps sign(grad_x CE(x))),
 *            a = 0.5.  The clean forward serves both the attack's and the
 *            loss's backward (2 forwards, 3 backwards).
 *   fgsm-rs  Wong, Rice, Kolter (ICLR 2020): delta ~ U(-eps, eps),
 *            x' = Pi(x + delta + a sign(grad CE(x + delta))), a = 1.25 eps;
 *            CE(x').
 *   me-fgsm  Chen et al. (Neural Networks 2022): fgsm-rs (or plain FGSM,
 *            --no-random-start) against the multi-exit loss, CE(x') summed
 *            over exits, plus per-exit L2 lambda_i on exit<i>.fc.w
 *            (gradient += lambda_i W); default lambda: 0.1 for the first
 *            three exits, 0.15 after (their CIFAR-100 list, cut to the
 *            exit count).  Needs a multi-exit model.
 * All three run the FGSM attack (attack_pgd.c) with the training choices.
 */
#include "train_internal.h"

#include <stddef.h>

/* FGSM from x.  The attack's TRAIN forward of x stays in the graph, and
 * loss_fgsm reuses it for the clean term. */
static void input_fgsm(recipe_ctx *s)
{
    s->atk.start = NULL;
    s->atk.random_start = 0;
    recipe_run_attack(s);
    s->clean_live = s->adv_mode == ADVC_MODE_TRAIN;
}

/* FGSM from the unclipped random start x + U(-eps, eps): Wong et al.'s
 * reference takes the gradient there and clips only the final step
 * (clipping the start on MNIST, where most pixels are 0, half-rectifies
 * the noise and training overfits catastrophically). */
void recipe_input_fgsm_rs(recipe_ctx *s)
{
    recipe_uniform_start(s, s->start, false);
    s->atk.start = s->start;
    recipe_run_attack(s);
}

static void input_me_fgsm(recipe_ctx *s)
{
    if (s->rc->no_random_start) input_fgsm(s);
    else recipe_input_fgsm_rs(s);
}

/* a CE(x) + (1 - a) CE(x'): the clean term reuses the attack's TRAIN
 * forward of x when there is one (a second backward of the same forward). */
static float loss_fgsm(recipe_ctx *s)
{
    float a = s->rc->alpha, l = 0;
    advc_graph_zero_grads(s->g);
    if (a > 0) {
        if (s->clean_live) {
            l = a * recipe_xent_grad(s, a);
            advc_graph_backward(s->g, ADVC_PASS_UPDATE);
        } else {
            l = recipe_ce_update(s, s->x, a, false);
        }
    }
    if (a < 1) l += recipe_ce_update(s, s->xadv, 1.0f - a, false);
    recipe_final_pred(s); /* of the last forward: x' (x if a = 1) */
    return l;
}

/* The training loss's gradient: dCE/dz of the batch mean. */
void recipe_attack_batch_mean(advc_attack_config *a)
{
    a->batch_mean = true;
}

/* fgsm: a step of eps; fgsm-rs: 1.25 eps (Wong et al.); me-fgsm: as
 * fgsm-rs, or eps without the random start, and the per-exit L2 list. */
static void fgsm_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    if (!(c->step_size > 0)) c->step_size = c->eps;
}

static void fgsm_rs_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    if (!(c->step_size > 0)) c->step_size = 1.25f * c->eps;
}

static void me_fgsm_resolve(advc_recipe_config *c, int exits)
{
    if (!(c->step_size > 0))
        c->step_size = c->no_random_start ? c->eps : 1.25f * c->eps;
    if (c->n_exit_l2 == 0 && exits > 1 && exits <= ADVC_MAX_EXIT_L2) {
        c->n_exit_l2 = exits;
        for (int e = 0; e < exits; e++) c->exit_l2[e] = e < 3 ? 0.1f : 0.15f;
    }
}

static const advc_param fgsm_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("eps"),
    RCP_ROW("alpha", "A", ADVC_PARAM_REAL, alpha, 0, 1, 0, "0.5",
            "weight of the clean loss (0: FGSM examples only)", NULL),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

static const advc_param fgsm_rs_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("1.25*eps"),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

static const advc_param me_fgsm_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("1.25*eps; eps with --no-random-start"),
    RCP_ROW("no-random-start", NULL, ADVC_PARAM_FLAG, no_random_start, 0,
            0, 0, "off", "plain FGSM from x instead of FGSM-RS", NULL),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("0.1 for the first three exits, 0.15 after"),
};

const recipe_def recipe_fgsm_def = {
    { "fgsm", "a CE(x) + (1-a) CE(x_fgsm)",
      "Goodfellow, Shlens, Szegedy, ICLR 2015", fgsm_params,
      RCP_NPARAMS(fgsm_params), NULL },
    fgsm_resolve, ADVC_ATK_FGSM, recipe_attack_batch_mean, input_fgsm, loss_fgsm, false,
    true
};

const recipe_def recipe_fgsm_rs_def = {
    { "fgsm-rs", "CE(x') with x' one FGSM step from a uniform random start",
      "Wong, Rice, Kolter, ICLR 2020", fgsm_rs_params,
      RCP_NPARAMS(fgsm_rs_params), NULL },
    fgsm_rs_resolve, ADVC_ATK_FGSM, recipe_attack_batch_mean,
    recipe_input_fgsm_rs, recipe_loss_adv, false, true
};

const recipe_def recipe_me_fgsm_def = {
    { "me-fgsm", "multi-exit FGSM-RS plus per-exit L2 on each exit's FC "
      "weights", "Chen et al., Neural Networks 2022", me_fgsm_params,
      RCP_NPARAMS(me_fgsm_params), NULL },
    me_fgsm_resolve, ADVC_ATK_FGSM, recipe_attack_batch_mean, input_me_fgsm,
    recipe_loss_adv, false, true
};
