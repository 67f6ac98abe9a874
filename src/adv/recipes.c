/* recipes.c: what the training recipes share: the recipe table, names,
 * default rules and argument checks, the workspace, and the pieces the
 * recipe files use (the training loss's gradient, the training attack,
 * random starts).  The recipes themselves, one descriptor each, are in
 * recipe_std.c, recipe_fgsm.c (fgsm, fgsm-rs, me-fgsm), recipe_pgd.c,
 * recipe_free.c, recipe_trades.c, recipe_nfgsm.c, recipe_elle.c and
 * recipe_fast.c; src/adv/METHODS.md says what each
 * computes and where it comes from.  CE below is the multi-exit loss
 * sum_e w_e CE(f_e(.), y) with the graph's exit weights; Pi projects onto
 * the eps-ball around x and then onto [0, 1].
 *
 * Mode of the training attacks (advc_adv_mode): Wong et al.'s and Madry et
 * al.'s code compute delta with the model in train mode (PyTorch BN uses
 * the batch statistics and updates the running ones on every forward), so
 * fgsm, fgsm-rs, pgd, free and me-fgsm do too; each TRAIN forward of the
 * attack updates BN running statistics, as there.  TRADES' code switches
 * to eval mode to make x', so trades does.  The attacks use ATTACK passes
 * (no parameter gradients) and so the --attack-grad rule; the losses use
 * UPDATE passes and the --update-grad rule.
 */
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advc/loss.h"
#include "advc/models.h"

/* ---- the table ----------------------------------------------------------- */

static const recipe_def *const recipe_defs[ADVC_RECIPE_COUNT] = {
#define RCP_ROW_OF(id, file_name) [ADVC_RECIPE_##id] = &recipe_##file_name##_def,
    ADVC_RECIPE_TABLE(RCP_ROW_OF)
#undef RCP_ROW_OF
};

const recipe_def *recipe_get(advc_recipe r) { return recipe_defs[r]; }

const advc_recipe_desc *advc_recipe_describe(advc_recipe r)
{
    return (int)r >= 0 && r < ADVC_RECIPE_COUNT ? &recipe_defs[r]->pub
                                                : NULL;
}

const char *advc_recipe_name(advc_recipe r)
{
    return (int)r >= 0 && r < ADVC_RECIPE_COUNT ? recipe_defs[r]->pub.name
                                                : "?";
}

advc_recipe advc_recipe_parse(const char *s)
{
    for (int r = 0; s && r < ADVC_RECIPE_COUNT; r++)
        if (strcmp(s, recipe_defs[r]->pub.name) == 0) return (advc_recipe)r;
    return ADVC_RECIPE_COUNT;
}

/* Common default rules: eps 0.3, steps 7, step eps (the recipe's rule
 * overrides it), the attack mode of the reference code (train), the
 * recipe's own rules afterwards. */
advc_recipe_config advc_recipe_resolve(advc_recipe r,
                                       const advc_recipe_config *rc,
                                       int exits)
{
    advc_recipe_config c = *rc;
    if (!(c.eps > 0)) c.eps = 0.3f;
    if (c.alpha < 0) c.alpha = 0.5f;
    if (c.beta < 0) c.beta = 6.0f;
    if (c.replays <= 0) c.replays = 8;
    const advc_recipe_desc *d = advc_recipe_describe(r);
    if (d) recipe_defs[r]->resolve(&c, exits);
    if (c.steps <= 0) c.steps = 7;
    if (!(c.step_size > 0)) c.step_size = c.eps;
    if (c.adv_mode == ADVC_ADV_MODE_DEFAULT) c.adv_mode = ADVC_ADV_MODE_TRAIN;
    if (c.iterate == ADVC_ITERATE_DEFAULT) c.iterate = ADVC_ITERATE_MAX;
    return c;
}

advc_status recipe_parse_rule(const char *text, void *dst)
{
    return advc_grad_rule_parse(text, dst);
}

void recipe_format_rule(const void *src, char *buf, size_t bufsz)
{
    const advc_act_spec *r = src;
    if (r->f == ADVC_ACT_COUNT) snprintf(buf, bufsz, "none");
    else advc_act_spec_format(*r, buf, bufsz);
}

/* ---- argument checks ---------------------------------------------------- */

advc_status advc_grad_rule_parse(const char *s, advc_act_spec *out)
{
    advc_act_spec a;
    if (!s || advc_act_spec_parse(s, &a) != ADVC_OK)
        return advc_set_error(ADVC_ERR_ARG,
                              "bad backward rule '%s' (want e.g. "
                              "psoftplus:10, silu, gelu, elu, softplus)",
                              s ? s : "");
    if (a.f == ADVC_ACT_IDENTITY)
        return advc_set_error(ADVC_ERR_ARG,
                              "backward rule '%s' is not a ReLU substitute",
                              s);
    *out = a;
    return ADVC_OK;
}

static bool rule_set(advc_act_spec r) { return r.f != ADVC_ACT_COUNT; }

/* --attack-grad / --update-grad: the recipe reads them, they are real
 * rules, and the model's activation is the ReLU they replace. */
static advc_status check_rules(const advc_recipe_desc *desc,
                               const advc_recipe_config *rc,
                               const advc_recipe_config *raw,
                               advc_act_spec act)
{
    const advc_act_spec *rules[2] = { &rc->attack_grad, &rc->update_grad };
    const char *flags[2] = { "attack-grad", "update-grad" };
    for (int k = 0; k < 2; k++) {
        if (!rule_set(*rules[k])) continue;
        if (advc_param_find(desc->params, desc->nparams, flags[k]) < 0)
            return advc_set_error(ADVC_ERR_ARG,
                                  "--%s does nothing with --recipe %s",
                                  flags[k], desc->name);
        if ((int)rules[k]->f < 0 || rules[k]->f > ADVC_ACT_COUNT ||
            rules[k]->f == ADVC_ACT_IDENTITY ||
            (rules[k]->f == ADVC_ACT_PSOFTPLUS && !(rules[k]->alpha > 0)))
            return advc_set_error(ADVC_ERR_ARG, "--%s: bad backward rule",
                                  flags[k]);
        bool chosen = k == 0 ? rule_set(raw->attack_grad)
                             : rule_set(raw->update_grad);
        if (act.f != ADVC_ACT_RELU && !chosen)
            return advc_set_error(ADVC_ERR_ARG, "recipe %s smooths ReLU's "
                                  "derivative, but the model's activation "
                                  "is %s (use fgsm-rs: a smooth activation "
                                  "needs no substitute)", desc->name,
                                  advc_act_name(act.f));
        if (act.f != ADVC_ACT_RELU)
            return advc_set_error(ADVC_ERR_ARG,
                                  "--%s replaces ReLU's derivative, but the "
                                  "model's activation is %s", flags[k],
                                  advc_act_name(act.f));
    }
    return ADVC_OK;
}

/* --exit-l2: a multi-exit model, one value per exit, each exit's head. */
static advc_status check_exit_l2(const advc_graph *g,
                                 const advc_recipe_config *rc)
{
    int exits = advc_graph_num_exits(g);
    if (rc->n_exit_l2 == 0) return ADVC_OK;
    if (exits < 2)
        return advc_set_error(ADVC_ERR_ARG, "--exit-l2 needs a multi-exit "
                              "model (this one has one exit)");
    if (rc->n_exit_l2 != exits)
        return advc_set_error(ADVC_ERR_ARG, "--exit-l2 has %d values, the "
                              "model has %d exits", rc->n_exit_l2, exits);
    for (int e = 0; e < exits; e++) {
        char name[32];
        snprintf(name, sizeof name, "exit%d.fc.w", e);
        if (advc_graph_find_tensor(g, name) < 0)
            return advc_set_error(ADVC_ERR_ARG, "--exit-l2: the model has no "
                                  "tensor %s (exit heads are named "
                                  "exit<i>.fc by msdnet)", name);
    }
    return ADVC_OK;
}

advc_status advc_train_check(const advc_graph *g, const advc_train_config *cfg)
{
    advc_recipe r = cfg->recipe;
    const advc_recipe_desc *desc = advc_recipe_describe(r);
    if (!desc) return advc_set_error(ADVC_ERR_ARG, "unknown training recipe");
    int exits = advc_graph_num_exits(g);
    /* 0 asks for a default (alpha, beta: a negative value); anything
     * below is a mistake, not a request for the default. */
    const advc_recipe_config *raw = &cfg->rc;
    if (!(raw->eps >= 0) || !(raw->step_size >= 0) || raw->steps < 0 ||
        raw->replays < 0 || isnan(raw->alpha) || isnan(raw->beta))
        return advc_set_error(ADVC_ERR_ARG, "recipe %s: eps %g, step size "
                              "%g, steps %d or replays %d is negative or "
                              "not a number", desc->name, (double)raw->eps,
                              (double)raw->step_size, raw->steps,
                              raw->replays);
    advc_recipe_config rc = advc_recipe_resolve(r, raw, exits);
    /* Every setting the recipe reads, against its row's range. */
    for (int i = 0; i < desc->nparams; i++)
        if (advc_param_check(&desc->params[i], &rc) != ADVC_OK)
            return ADVC_ERR_ARG;
    if ((int)rc.adv_mode < 0 || rc.adv_mode > ADVC_ADV_MODE_EVAL)
        return advc_set_error(ADVC_ERR_ARG, "bad attack mode");
    if ((int)rc.iterate < 0 || rc.iterate > ADVC_ITERATE_LAST)
        return advc_set_error(ADVC_ERR_ARG, "bad --iterate");
    advc_status st = check_rules(desc, &rc, raw, cfg->act);
    if (st == ADVC_OK) st = check_exit_l2(g, &rc);
    if (st != ADVC_OK) return st;
    if (r == ADVC_RECIPE_ME_FGSM && exits < 2)
        return advc_set_error(ADVC_ERR_ARG,
                              "recipe me-fgsm needs a multi-exit model "
                              "(e.g. msdnet); this one has one exit");
    if (r == ADVC_RECIPE_ME_FGSM && rc.n_exit_l2 == 0 &&
        exits > ADVC_MAX_EXIT_L2)
        return advc_set_error(ADVC_ERR_ARG, "me-fgsm: more than %d exits",
                              ADVC_MAX_EXIT_L2);
    if ((int)cfg->augment < 0 || cfg->augment >= ADVC_AUGMENT_COUNT)
        return advc_set_error(ADVC_ERR_ARG, "--augment: unknown "
                              "augmentation %d", (int)cfg->augment);
    const advc_guard_config *gc = &cfg->guard;
    if (gc->count < -1 || gc->steps < 0 || gc->steps > 10000 ||
        !(gc->co_threshold >= 0 && gc->co_threshold <= 1))
        return advc_set_error(ADVC_ERR_ARG,
                              "bad guard settings: --guard-batch >= 0, "
                              "--guard-steps 1..10000, --co-threshold in "
                              "[0, 1]");
    return ADVC_OK;
}

/* ---- workspace ----------------------------------------------------------- */

static float *zalloc(size_t count)
{
    float *p = advc_alloc((count ? count : 1) * sizeof *p);
    if (p) memset(p, 0, (count ? count : 1) * sizeof *p);
    return p;
}

/* The recipe's training attack, set up once: the evaluation attack with
 * the training choices (the recipe's mode, its own start points, the
 * training loss's exit weights); the recipe's setup_attack adds its own. */
static advc_attack_config training_attack(const recipe_ctx *s,
                                          advc_attack_kind kind)
{
    advc_attack_config a = advc_attack_defaults(kind);
    a.eps = s->rc->eps;
    a.step_size = s->rc->step_size;
    a.steps = kind == ADVC_ATK_FGSM ? 1 : s->rc->steps;
    a.mode = s->adv_mode;
    a.start = s->start;
    a.exit_weights = true;
    a.last_iterate = s->rc->iterate == ADVC_ITERATE_LAST; /* PGD only */
    return a;
}

advc_status recipe_ws_alloc(recipe_ctx *s, advc_recipe r, int B)
{
    size_t rows = (size_t)B * s->d;
    size_t logits = (size_t)advc_graph_num_exits(s->g) * (size_t)B *
                    (size_t)advc_graph_classes(s->g);
    advc_graph_state(s->g, &s->nstate);
    s->xadv = zalloc(rows);
    s->start = zalloc(rows);
    s->delta = zalloc(rows);
    s->pts = zalloc(3 * rows);
    s->per = zalloc(8 * (size_t)B);
    s->zsave = zalloc(logits);
    s->dsave = zalloc(logits);
    s->state = zalloc(s->nstate);
    bool ok = s->xadv && s->start && s->delta && s->pts && s->per &&
              s->zsave && s->dsave && s->state;
    const recipe_def *def = recipe_get(r);
    if (ok && def->attack != ADVC_ATK_COUNT) {
        s->atk = training_attack(s, def->attack);
        if (def->setup_attack) def->setup_attack(&s->atk);
        s->atk_ws = advc_attack_ws_new(s->g, &s->atk, B);
        ok = s->atk_ws != NULL;
    }
    if (!ok) {
        recipe_ws_free(s);
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory for the "
                              "training recipe's workspace");
    }
    return ADVC_OK;
}

void recipe_ws_free(recipe_ctx *s)
{
    advc_free(s->xadv), advc_free(s->start), advc_free(s->delta);
    advc_free(s->pts), advc_free(s->per);
    advc_free(s->zsave), advc_free(s->dsave), advc_free(s->state);
    advc_attack_ws_free(s->atk_ws);
    s->xadv = s->start = s->delta = s->pts = s->per = NULL;
    s->zsave = s->dsave = s->state = NULL;
    s->atk_ws = NULL;
}

/* ---- shared pieces ------------------------------------------------------- */

/* For the last forward: every exit's dlogits = mul * w_e dCE_e/dz / n;
 * returns sum_e w_e mean_i CE_ie. */
float recipe_xent_grad(recipe_ctx *s, float mul)
{
    advc_graph *g = s->g;
    int n = s->n, C = advc_graph_classes(g), E = advc_graph_num_exits(g);
    float total = 0;
    for (int e = 0; e < E; e++) {
        float w = advc_graph_exit_weight(g, e);
        float *dz = advc_graph_dlogits(g, e);
        memset(dz, 0, (size_t)n * (size_t)C * sizeof *dz);
        total += w * advc_loss_xent(n, C, advc_graph_logits(g, e), s->y,
                                    NULL, dz, mul * w / (float)n);
    }
    return total;
}

void recipe_final_pred(recipe_ctx *s)
{
    advc_graph *g = s->g;
    advc_argmax_rows(s->n, advc_graph_classes(g),
                     advc_graph_logits(g, advc_graph_num_exits(g) - 1),
                     s->pred);
}

/* The recipe's attack on this batch: from s->x to s->xadv, with the
 * recipe's current budget, step and mode. */
void recipe_run_attack(recipe_ctx *s)
{
    s->atk.eps = s->rc->attack_eps > 0 ? s->rc->attack_eps : s->rc->eps;
    s->atk.step_size = s->rc->step_size;
    if (s->atk.kind != ADVC_ATK_FGSM) s->atk.steps = s->rc->steps;
    s->atk.mode = s->adv_mode;
    advc_status st = advc_attack_run_ws(s->g, &s->atk, s->atk_ws, s->x, s->y,
                                        s->n, s->xadv);
    /* The settings were checked when training started; a failure here is
     * a bug, not bad input. */
    if (st != ADVC_OK) {
        fprintf(stderr, "advc: training attack failed: %s\n",
                advc_last_error());
        abort();
    }
}

/* One generator per (batch, replay, purpose): the same seed gives the same
 * starts whatever the thread count. */
void recipe_rng(const recipe_ctx *s, uint64_t purpose, advc_rng *r)
{
    advc_rng_seed(r, advc_mix64(s->seed, 0x5eed0000u + purpose),
                  (uint64_t)s->batch_index * 1024u + (uint64_t)s->replay);
}

/* p = x + U(-eps, eps) for the whole batch, clipped to [0, 1] when clip
 * is set.  PGD-AT starts from the clipped point (Madry et al.); FGSM-RS
 * takes its gradient at the unclipped one and clips only the final step
 * (Wong et al.'s reference).  The difference is not cosmetic: on MNIST,
 * where most pixels are 0, clipping the start half-rectifies the noise,
 * the step then acts like plain FGSM, and training overfits
 * catastrophically (held-out PGD accuracy 0% from epoch 2 at eps 0.3). */
void recipe_uniform_start(const recipe_ctx *s, float *p, bool clip)
{
    advc_rng r;
    recipe_rng(s, 1, &r);
    float eps = s->rc->eps;
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++) {
        float v = s->x[k] + eps * (2.0f * advc_rng_uniform(&r) - 1.0f);
        p[k] = clip ? recipe_clamp01(v) : v;
    }
}

void recipe_sign_step(const recipe_ctx *s, float *p, const float *grad,
                      float a)
{
    advc_sign_step_proj((size_t)s->n * s->d, p, grad, s->x, a, s->rc->eps,
                        0.0f, 1.0f);
}

/* Forward the training input in TRAIN mode, weighted CE backward (UPDATE,
 * gradients accumulated at weight mul); returns mul * CE. */
float recipe_ce_update(recipe_ctx *s, const float *in, float mul,
                       bool zero)
{
    advc_graph_forward(s->g, in, s->n, ADVC_MODE_TRAIN);
    float loss = recipe_xent_grad(s, mul);
    if (zero) advc_graph_zero_grads(s->g);
    advc_graph_backward(s->g, ADVC_PASS_UPDATE);
    return mul * loss;
}

float recipe_loss_adv(recipe_ctx *s)
{
    float l = recipe_ce_update(s, s->xadv, 1.0f, true);
    recipe_final_pred(s);
    return l;
}
