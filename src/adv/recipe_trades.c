/* recipe_trades.c: TRADES (Zhang et al., ICML 2019):
 *   CE(x) + beta KL(f(x) || f(x')),
 * x' from k = 10 steps of a = 2.5 eps / k sign-ascent on the KL term from
 * x + 0.001 N(0, 1) (the reference's start), the last iterate; beta = 6
 * (the paper's 1/lambda; the reference's MNIST script uses 1).  The attack
 * is the evaluation PGD (attack_pgd.c) on the KL loss.
 * The graph keeps one forward, so the loss is done in three TRAIN
 * forwards: x (logits saved), x' (backward of beta dKL/dz'), x again
 * (backward of dCE/dz + beta dKL/dz), with the BatchNorm statistics
 * restored around the repeated forward and the dropout seed pinned so its
 * mask repeats: the gradient is exact and the running statistics see x and
 * x' once each, as in PyTorch.  Multi-exit: sum_e w_e (CE_e + beta KL_e).
 */
#include "train_internal.h"

#include <stddef.h>
#include <string.h>

#include "advc/loss.h"

/* Copies every exit's logits of the last forward to buf (exits, B, C). */
static void save_logits(recipe_ctx *s, float *buf)
{
    int E = advc_graph_num_exits(s->g), C = advc_graph_classes(s->g);
    int B = advc_graph_batch(s->g);
    for (int e = 0; e < E; e++)
        memcpy(buf + (size_t)e * B * C, advc_graph_logits(s->g, e),
               (size_t)s->n * C * sizeof *buf);
}

/* x' by sign ascent on sum_e w_e KL(f_e(x) || f_e(x')) from x + 0.001 N,
 * the last iterate. */
static void input_trades(recipe_ctx *s)
{
    advc_rng r;
    recipe_rng(s, 2, &r);
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++)
        s->start[k] = recipe_clamp01(s->x[k] + 0.001f * advc_rng_normal(&r));
    recipe_run_attack(s);
}

/* The loss on x and x' with the first clean pass's logits saved. */
static float trades_objective(recipe_ctx *s)
{
    advc_graph *g = s->g;
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    int B = advc_graph_batch(g), n = s->n;
    float beta = s->rc->beta, total = 0;
    for (int e = 0; e < E; e++) {
        float w = advc_graph_exit_weight(g, e), sc = w / (float)n;
        const float *zc = s->zsave + (size_t)e * B * C;
        float *dc = s->dsave + (size_t)e * B * C;
        float *dz = advc_graph_dlogits(g, e);
        memset(dz, 0, (size_t)n * C * sizeof *dz);
        memset(dc, 0, (size_t)n * C * sizeof *dc);
        total += w * advc_loss_xent(n, C, zc, s->y, NULL, dc, sc);
        total += w * beta *
                 advc_loss_kl(n, C, zc, advc_graph_logits(g, e), NULL, dc,
                              dz, beta * sc);
    }
    return total;
}

static float loss_trades(recipe_ctx *s)
{
    advc_graph *g = s->g;
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    int B = advc_graph_batch(g), n = s->n;
    /* Pin dropout: the repeated clean forward must draw the same masks. */
    uint64_t dseed = advc_mix64(s->seed, 0x7ade5000u + (uint64_t)
                                s->batch_index);
    advc_graph_set_seed(g, dseed);
    advc_graph_forward(g, s->x, n, ADVC_MODE_TRAIN);   /* dropout step 0 */
    save_logits(s, s->zsave);
    advc_graph_forward(g, s->xadv, n, ADVC_MODE_TRAIN); /* step 1 */
    recipe_final_pred(s);
    float total = trades_objective(s);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    /* The clean pass again, with its statistics side effects undone. */
    float *st = advc_graph_state(g, &s->nstate);
    if (s->nstate) memcpy(s->state, st, s->nstate * sizeof *st);
    advc_graph_set_seed(g, dseed);
    advc_graph_forward(g, s->x, n, ADVC_MODE_TRAIN);   /* step 0 again */
    if (s->nstate) memcpy(st, s->state, s->nstate * sizeof *st);
    for (int e = 0; e < E; e++)
        memcpy(advc_graph_dlogits(g, e), s->dsave + (size_t)e * B * C,
               (size_t)n * C * sizeof *s->dsave);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    return total;
}

static void trades_attack(advc_attack_config *a)
{
    a->loss = ADVC_LOSS_KL;
    a->last_iterate = true;
}

/* 10 steps of 2.5 eps / steps; the attack in eval mode (their code). */
static void trades_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    if (c->steps <= 0) c->steps = 10;
    if (!(c->step_size > 0)) c->step_size = 2.5f * c->eps / (float)c->steps;
    if (c->adv_mode == ADVC_ADV_MODE_DEFAULT) c->adv_mode = ADVC_ADV_MODE_EVAL;
}

static const advc_param trades_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEPS("10"),
    RCP_ROW_STEP_SIZE("2.5*eps/steps"),
    RCP_ROW("beta", "B", ADVC_PARAM_REAL, beta, 0, 1e4, 0, "6",
            "weight of the KL term (the paper's 1/lambda; the reference "
            "MNIST script uses 1)", NULL),
    { "adv-mode", "M", ADVC_PARAM_CHOICE,
      offsetof(advc_recipe_config, adv_mode), 0, 0, 0, "eval",
      "model mode while making training attacks (TRADES' code: eval)",
      "default|train|eval", 0, 0, NULL, NULL },
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

const recipe_def recipe_trades_def = {
    { "trades", "CE(x) + beta KL(f(x) || f(x')), x' from PGD on the KL term",
      "Zhang et al., ICML 2019", trades_params,
      RCP_NPARAMS(trades_params), NULL },
    trades_resolve, ADVC_ATK_PGD, trades_attack, input_trades, loss_trades,
    false, true
};
