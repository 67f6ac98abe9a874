/* recipe_std.c: standard training, CE(x) on the clean batch.  The baseline
 * every adversarial recipe is measured against; it has no training attack,
 * so the overfitting guard is off unless --guard-batch asks for it. */
#include "train_internal.h"

static void std_resolve(advc_recipe_config *c, int exits)
{
    (void)c;
    (void)exits;
}

static float loss_clean(recipe_ctx *s)
{
    float l = recipe_ce_update(s, s->x, 1.0f, true);
    recipe_final_pred(s);
    return l;
}

static const advc_param std_params[] = {
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

const recipe_def recipe_std_def = {
    { "std", "clean images: CE(x)", "-", std_params,
      RCP_NPARAMS(std_params), NULL },
    std_resolve, ADVC_ATK_COUNT, NULL, NULL, loss_clean, false, false
};
