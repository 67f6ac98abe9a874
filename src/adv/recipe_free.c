/* recipe_free.c: "free" adversarial training (Shafahi et al., NeurIPS
 * 2019): each batch is replayed m = 8 times; every replay is ONE forward/
 * backward (UPDATE) at x + delta that gives the parameter gradient (the
 * optimizer steps) and the input gradient: delta = clamp(delta + eps
 * sign(g), -eps, eps), with x + delta kept in [0, 1].  delta starts at 0
 * and is carried to the next batch.  The loop runs ceil(epochs / m)
 * epochs so the cost matches `epochs` plain ones.  The attack step reuses
 * the update pass's input gradient (that is the method), so it calls the
 * projected sign step the attacks use rather than an attack, takes no
 * --attack-grad, and --update-grad shapes both. */
#include "train_internal.h"

#include <stddef.h>

static void input_free(recipe_ctx *s)
{
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++)
        s->xadv[k] = recipe_clamp01(s->x[k] + s->delta[k]);
}

/* One UPDATE pass at x + delta; its input gradient moves delta. */
static float loss_free(recipe_ctx *s)
{
    size_t len = (size_t)s->n * s->d;
    float l = recipe_ce_update(s, s->xadv, 1.0f, true);
    recipe_final_pred(s);
    recipe_sign_step(s, s->xadv, advc_graph_input_grad(s->g),
                     s->rc->step_size);
    for (size_t k = 0; k < len; k++) s->delta[k] = s->xadv[k] - s->x[k];
    return l;
}

static void free_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    if (!(c->step_size > 0)) c->step_size = c->eps;
}

static const advc_param free_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("eps"),
    RCP_ROW("replays", "M", ADVC_PARAM_INT, replays, 1, 1000, 0, "8",
            "replays per batch (one update each); ceil(epochs/M) epochs "
            "are run", NULL),
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

const recipe_def recipe_free_def = {
    { "free", "each batch replayed m times, one update per replay, delta "
      "kept across batches", "Shafahi et al., NeurIPS 2019", free_params,
      RCP_NPARAMS(free_params), NULL },
    free_resolve, ADVC_ATK_COUNT, NULL, input_free, loss_free, true, true
};
