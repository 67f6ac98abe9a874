/* recipes.c: the adversarial-training recipes plugged into the one loop of
 * train.c (see train_internal.h for the two steps each provides), their
 * names, defaults and argument checks.  CE below is the multi-exit loss
 * sum_e w_e CE(f_e(.), y) with the graph's exit weights; Pi projects onto
 * the eps-ball around x and then onto [0, 1].
 *
 *   std      CE(x).
 *   fgsm     Goodfellow, Shlens, Szegedy (ICLR 2015):
 *            a CE(x) + (1 - a) CE(x'), x' = Pi(x + eps sign(grad_x CE(x))),
 *            a = 0.5.  The clean forward serves both the attack's and the
 *            loss's backward (2 forwards, 3 backwards).
 *   fgsm-rs  Wong, Rice, Kolter (ICLR 2020): delta ~ U(-eps, eps),
 *            x' = Pi(x + delta + a sign(grad CE(x + delta))), a = 1.25 eps;
 *            CE(x').
 *   pgd      Madry et al. (ICLR 2018): x_0 = Pi(x + U(-eps, eps)),
 *            x_{t+1} = Pi(x_t + a sign(grad CE(x_t))), k = 7 steps of
 *            a = 2.5 eps / k (the MNIST paper: --steps 40 --step-size 0.01);
 *            CE at the per-sample highest-loss iterate x_0..x_k (one more
 *            forward than the last-iterate variant).
 *   free     Shafahi et al. (NeurIPS 2019): each batch is replayed m = 8
 *            times; every replay is ONE forward/backward (UPDATE) at
 *            x + delta that gives the parameter gradient (the optimizer
 *            steps) and the input gradient: delta = clamp(delta + eps
 *            sign(g), -eps, eps), with x + delta kept in [0, 1].  delta
 *            starts at 0 and is carried to the next batch.  The loop runs
 *            ceil(epochs / m) epochs so the cost matches `epochs` plain
 *            ones.  The input gradient comes from the UPDATE pass, so
 *            --attack-grad has no effect here and --update-grad shapes
 *            both.
 *   trades   Zhang et al. (ICML 2019): CE(x) + beta KL(f(x) || f(x')),
 *            x' from k = 10 steps of a = 2.5 eps / k sign-ascent on the KL
 *            term from x + 0.001 N(0, 1) (the reference's start), beta = 6
 *            (the paper's 1/lambda; the reference's MNIST script uses 1).
 *            The graph keeps one forward, so the loss is done in three
 *            TRAIN forwards: x (logits saved), x' (backward of beta
 *            dKL/dz'), x again (backward of dCE/dz + beta dKL/dz), with the
 *            BatchNorm statistics restored around the repeated forward and
 *            the dropout seed pinned so its mask repeats: the gradient is
 *            exact and the running statistics see x and x' once each, as
 *            in PyTorch.  Multi-exit: sum_e w_e (CE_e + beta KL_e).
 *   me-fgsm  Chen et al. (Neural Networks 2022): fgsm-rs (or plain FGSM,
 *            no_random_start) against the multi-exit loss, CE(x') summed
 *            over exits, plus per-exit L2 lambda_i on exit<i>.fc.w
 *            (gradient += lambda_i W); default lambda: 0.1 for the first
 *            three exits, 0.15 after (their CIFAR-100 list, cut to the
 *            exit count).  Needs a multi-exit model.
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

/* ---- names, defaults, checks ------------------------------------------- */

static const char *const recipe_names[ADVC_RECIPE_COUNT] = {
    [ADVC_RECIPE_STD] = "std",         [ADVC_RECIPE_FGSM] = "fgsm",
    [ADVC_RECIPE_FGSM_RS] = "fgsm-rs", [ADVC_RECIPE_PGD] = "pgd",
    [ADVC_RECIPE_FREE] = "free",       [ADVC_RECIPE_TRADES] = "trades",
    [ADVC_RECIPE_ME_FGSM] = "me-fgsm",
};

const char *advc_recipe_name(advc_recipe r)
{
    return (int)r >= 0 && r < ADVC_RECIPE_COUNT ? recipe_names[r] : "?";
}

advc_recipe advc_recipe_parse(const char *s)
{
    for (int r = 0; s && r < ADVC_RECIPE_COUNT; r++)
        if (strcmp(s, recipe_names[r]) == 0) return (advc_recipe)r;
    return ADVC_RECIPE_COUNT;
}

static bool is_rs(advc_recipe r, const advc_recipe_config *c)
{
    return r == ADVC_RECIPE_FGSM_RS ||
           (r == ADVC_RECIPE_ME_FGSM && !c->no_random_start);
}

advc_recipe_config advc_recipe_resolve(advc_recipe r,
                                       const advc_recipe_config *rc,
                                       int exits)
{
    advc_recipe_config c = *rc;
    if (!(c.eps > 0)) c.eps = 0.3f;
    if (c.steps <= 0) c.steps = r == ADVC_RECIPE_TRADES ? 10 : 7;
    if (c.alpha < 0) c.alpha = 0.5f;
    if (c.beta < 0) c.beta = 6.0f;
    if (c.replays <= 0) c.replays = 8;
    if (!(c.step_size > 0)) {
        if (r == ADVC_RECIPE_PGD || r == ADVC_RECIPE_TRADES)
            c.step_size = 2.5f * c.eps / (float)c.steps;
        else if (is_rs(r, &c))
            c.step_size = 1.25f * c.eps;
        else
            c.step_size = c.eps;
    }
    if (c.adv_mode == ADVC_ADV_MODE_DEFAULT)
        c.adv_mode = r == ADVC_RECIPE_TRADES ? ADVC_ADV_MODE_EVAL
                                             : ADVC_ADV_MODE_TRAIN;
    if (r == ADVC_RECIPE_ME_FGSM && c.n_exit_l2 == 0 && exits > 1 &&
        exits <= ADVC_MAX_EXIT_L2) {
        c.n_exit_l2 = exits;
        for (int e = 0; e < exits; e++) c.exit_l2[e] = e < 3 ? 0.1f : 0.15f;
    }
    return c;
}

advc_status advc_exit_l2_parse(const char *s, float *out, int max, int *n)
{
    *n = 0;
    const char *p = s;
    if (!s || !*s)
        return advc_set_error(ADVC_ERR_ARG, "--exit-l2: empty list");
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0 || v > 100)
            return advc_set_error(ADVC_ERR_ARG,
                                  "--exit-l2: bad value in '%s' (want "
                                  "comma-separated numbers >= 0)", s);
        if (*n >= max)
            return advc_set_error(ADVC_ERR_ARG,
                                  "--exit-l2: more than %d values", max);
        out[(*n)++] = (float)v;
        if (*end == '\0') return ADVC_OK;
        if (*end != ',')
            return advc_set_error(ADVC_ERR_ARG,
                                  "--exit-l2: bad list '%s' (want e.g. "
                                  "0.1,0.1,0.15)", s);
        p = end + 1;
    }
}

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

advc_status advc_train_check(const advc_graph *g, const advc_train_config *cfg)
{
    advc_recipe r = cfg->recipe;
    if ((int)r < 0 || r >= ADVC_RECIPE_COUNT)
        return advc_set_error(ADVC_ERR_ARG, "unknown training recipe");
    const advc_recipe_config *rc = &cfg->rc;
    int exits = advc_graph_num_exits(g);
    /* Explicit values are checked as given, defaults need no check. */
    if (!(rc->eps >= 0 && rc->eps <= 1))
        return advc_set_error(ADVC_ERR_ARG, "--eps %g: want 0 < eps <= 1",
                              (double)rc->eps);
    if (!(rc->step_size >= 0 && rc->step_size <= 1))
        return advc_set_error(ADVC_ERR_ARG,
                              "--step-size %g: want 0 < step <= 1",
                              (double)rc->step_size);
    if (rc->steps < 0 || rc->steps > 10000)
        return advc_set_error(ADVC_ERR_ARG, "--steps %d: want 1 to 10000",
                              rc->steps);
    if (rc->alpha > 1 || !(rc->alpha == rc->alpha))
        return advc_set_error(ADVC_ERR_ARG, "--alpha %g: want 0 <= a <= 1",
                              (double)rc->alpha);
    if (!(rc->beta <= 1e4))
        return advc_set_error(ADVC_ERR_ARG, "--beta %g: want 0 <= b <= 1e4",
                              (double)rc->beta);
    if (rc->replays < 0 || rc->replays > 1000)
        return advc_set_error(ADVC_ERR_ARG, "--replays %d: want 1 to 1000",
                              rc->replays);
    if ((int)rc->adv_mode < 0 || rc->adv_mode > ADVC_ADV_MODE_EVAL)
        return advc_set_error(ADVC_ERR_ARG, "bad attack mode");
    const advc_act_spec *rules[2] = { &rc->attack_grad, &rc->update_grad };
    const char *flags[2] = { "--attack-grad", "--update-grad" };
    for (int k = 0; k < 2; k++) {
        if (!rule_set(*rules[k])) continue;
        if ((int)rules[k]->f < 0 || rules[k]->f > ADVC_ACT_COUNT ||
            rules[k]->f == ADVC_ACT_IDENTITY ||
            (rules[k]->f == ADVC_ACT_PSOFTPLUS && !(rules[k]->alpha > 0)))
            return advc_set_error(ADVC_ERR_ARG, "%s: bad backward rule",
                                  flags[k]);
        if (cfg->act.f != ADVC_ACT_RELU)
            return advc_set_error(ADVC_ERR_ARG,
                                  "%s replaces ReLU's derivative, but the "
                                  "model's activation is %s", flags[k],
                                  advc_act_name(cfg->act.f));
    }
    if (rc->n_exit_l2 != 0) {
        if (exits < 2)
            return advc_set_error(ADVC_ERR_ARG,
                                  "--exit-l2 needs a multi-exit model (this "
                                  "one has one exit)");
        if (rc->n_exit_l2 != exits)
            return advc_set_error(ADVC_ERR_ARG,
                                  "--exit-l2 has %d values, the model has %d "
                                  "exits", rc->n_exit_l2, exits);
        for (int e = 0; e < exits; e++) {
            char name[32];
            snprintf(name, sizeof name, "exit%d.fc.w", e);
            if (!(rc->exit_l2[e] >= 0))
                return advc_set_error(ADVC_ERR_ARG,
                                      "--exit-l2: negative value");
            if (advc_graph_find_tensor(g, name) < 0)
                return advc_set_error(ADVC_ERR_ARG,
                                      "--exit-l2: the model has no tensor "
                                      "%s (exit heads are named "
                                      "exit<i>.fc by msdnet)", name);
        }
    }
    if (r == ADVC_RECIPE_ME_FGSM && exits < 2)
        return advc_set_error(ADVC_ERR_ARG,
                              "recipe me-fgsm needs a multi-exit model "
                              "(e.g. msdnet); this one has one exit");
    if (r == ADVC_RECIPE_ME_FGSM && rc->n_exit_l2 == 0 &&
        exits > ADVC_MAX_EXIT_L2)
        return advc_set_error(ADVC_ERR_ARG, "me-fgsm: more than %d exits",
                              ADVC_MAX_EXIT_L2);
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

/* The recipe's training attack, set up once: the evaluation attacks with
 * the training choices (the recipe's mode, its own start points, the
 * training loss's exit weights and batch mean). */
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
    s->zsave = zalloc(logits);
    s->dsave = zalloc(logits);
    s->state = zalloc(s->nstate);
    bool ok = s->xadv && s->start && s->delta && s->zsave && s->dsave &&
              s->state;
    /* fgsm, fgsm-rs, me-fgsm: FGSM; pgd: PGD on CE; trades: PGD on KL. */
    if (ok && r != ADVC_RECIPE_STD && r != ADVC_RECIPE_FREE) {
        bool pgd = r == ADVC_RECIPE_PGD || r == ADVC_RECIPE_TRADES;
        s->atk = training_attack(s, pgd ? ADVC_ATK_PGD : ADVC_ATK_FGSM);
        if (r == ADVC_RECIPE_PGD) {
            s->atk.max_loss = true;   /* the highest-loss iterate */
            s->atk.batch_mean = true; /* the training loss's gradient */
        } else if (r == ADVC_RECIPE_TRADES) {
            s->atk.loss = ADVC_LOSS_KL;
            s->atk.last_iterate = true;
        } else {
            s->atk.batch_mean = true;
            s->atk.start = NULL; /* set per step: fgsm-rs only */
        }
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
    advc_free(s->zsave), advc_free(s->dsave), advc_free(s->state);
    advc_attack_ws_free(s->atk_ws);
    s->xadv = s->start = s->delta = NULL;
    s->zsave = s->dsave = s->state = NULL;
    s->atk_ws = NULL;
}

/* ---- shared pieces ------------------------------------------------------- */

/* For the last forward: every exit's dlogits = mul * w_e dCE_e/dz / n;
 * returns sum_e w_e mean_i CE_ie. */
static float xent_grad(recipe_ctx *s, float mul)
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

static void final_pred(recipe_ctx *s)
{
    advc_graph *g = s->g;
    advc_argmax_rows(s->n, advc_graph_classes(g),
                     advc_graph_logits(g, advc_graph_num_exits(g) - 1),
                     s->pred);
}

/* The recipe's attack on this batch: from s->x to s->xadv, with the
 * recipe's current budget, step and mode. */
static void run_attack(recipe_ctx *s)
{
    s->atk.eps = s->rc->eps;
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
static void step_rng(const recipe_ctx *s, uint64_t purpose, advc_rng *r)
{
    advc_rng_seed(r, advc_mix64(s->seed, 0x5eed0000u + purpose),
                  (uint64_t)s->batch_index * 1024u + (uint64_t)s->replay);
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* p = x + U(-eps, eps) for the whole batch, clipped to [0, 1] when clip
 * is set.  PGD-AT starts from the clipped point (Madry et al.); FGSM-RS
 * takes its gradient at the unclipped one and clips only the final step
 * (Wong et al.'s reference).  The difference is not cosmetic: on MNIST,
 * where most pixels are 0, clipping the start half-rectifies the noise,
 * the step then acts like plain FGSM, and training overfits
 * catastrophically (held-out PGD accuracy 0% from epoch 2 at eps 0.3). */
static void uniform_start(const recipe_ctx *s, float *p, bool clip)
{
    advc_rng r;
    step_rng(s, 1, &r);
    float eps = s->rc->eps;
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++) {
        float v = s->x[k] + eps * (2.0f * advc_rng_uniform(&r) - 1.0f);
        p[k] = clip ? clamp01(v) : v;
    }
}

static void sign_step(const recipe_ctx *s, float *p, const float *grad,
                      float a)
{
    advc_sign_step_proj((size_t)s->n * s->d, p, grad, s->x, a, s->rc->eps,
                        0.0f, 1.0f);
}

/* Forward the training input in TRAIN mode, weighted CE backward (UPDATE,
 * gradients accumulated at weight mul); returns mul * CE. */
static float ce_update(recipe_ctx *s, const float *in, float mul, bool zero)
{
    advc_graph_forward(s->g, in, s->n, ADVC_MODE_TRAIN);
    float loss = xent_grad(s, mul);
    if (zero) advc_graph_zero_grads(s->g);
    advc_graph_backward(s->g, ADVC_PASS_UPDATE);
    return mul * loss;
}

/* ---- std ----------------------------------------------------------------- */

static float loss_clean(recipe_ctx *s)
{
    float l = ce_update(s, s->x, 1.0f, true);
    final_pred(s);
    return l;
}

/* ---- fgsm, fgsm-rs, me-fgsm ---------------------------------------------- */

/* FGSM from x.  The attack's TRAIN forward of x stays in the graph, and
 * loss_fgsm reuses it for the clean term. */
static void input_fgsm(recipe_ctx *s)
{
    s->atk.start = NULL;
    s->atk.random_start = 0;
    run_attack(s);
    s->clean_live = s->adv_mode == ADVC_MODE_TRAIN;
}

static void input_fgsm_rs(recipe_ctx *s)
{
    uniform_start(s, s->start, false); /* the sign step clips */
    s->atk.start = s->start;
    run_attack(s);
}

static void input_me_fgsm(recipe_ctx *s)
{
    if (s->rc->no_random_start) input_fgsm(s);
    else input_fgsm_rs(s);
}

static float loss_adv(recipe_ctx *s)
{
    float l = ce_update(s, s->xadv, 1.0f, true);
    final_pred(s);
    return l;
}

/* a CE(x) + (1 - a) CE(x'): the clean term reuses the attack's TRAIN
 * forward of x when there is one (a second backward of the same forward). */
static float loss_fgsm(recipe_ctx *s)
{
    float a = s->rc->alpha, l = 0;
    advc_graph_zero_grads(s->g);
    if (a > 0) {
        if (s->clean_live) {
            l = a * xent_grad(s, a);
            advc_graph_backward(s->g, ADVC_PASS_UPDATE);
        } else {
            l = ce_update(s, s->x, a, false);
        }
    }
    if (a < 1) l += ce_update(s, s->xadv, 1.0f - a, false);
    final_pred(s); /* of the last forward: x' (x if a = 1) */
    return l;
}

/* ---- pgd ----------------------------------------------------------------- */

/* x_0 = Pi(x + U), k sign steps; per sample the highest-loss iterate of
 * x_0 .. x_k (the PGD attack with max_loss). */
static void input_pgd(recipe_ctx *s)
{
    uniform_start(s, s->start, true);
    run_attack(s);
}

/* ---- free ---------------------------------------------------------------- */

static void input_free(recipe_ctx *s)
{
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++)
        s->xadv[k] = clamp01(s->x[k] + s->delta[k]);
}

/* One UPDATE pass at x + delta; its input gradient moves delta. */
static float loss_free(recipe_ctx *s)
{
    size_t len = (size_t)s->n * s->d;
    float l = ce_update(s, s->xadv, 1.0f, true);
    final_pred(s);
    sign_step(s, s->xadv, advc_graph_input_grad(s->g), s->rc->step_size);
    for (size_t k = 0; k < len; k++) s->delta[k] = s->xadv[k] - s->x[k];
    return l;
}

/* ---- trades -------------------------------------------------------------- */

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
 * the last iterate (the PGD attack on the KL loss). */
static void input_trades(recipe_ctx *s)
{
    advc_rng r;
    step_rng(s, 2, &r);
    size_t len = (size_t)s->n * s->d;
    for (size_t k = 0; k < len; k++)
        s->start[k] = clamp01(s->x[k] + 0.001f * advc_rng_normal(&r));
    run_attack(s);
}

static float loss_trades(recipe_ctx *s)
{
    advc_graph *g = s->g;
    int E = advc_graph_num_exits(g), C = advc_graph_classes(g);
    int B = advc_graph_batch(g), n = s->n;
    float beta = s->rc->beta, total = 0;
    /* Pin dropout: the repeated clean forward must draw the same masks. */
    uint64_t dseed = advc_mix64(s->seed, 0x7ade5000u + (uint64_t)
                                s->batch_index);
    advc_graph_set_seed(g, dseed);
    advc_graph_forward(g, s->x, n, ADVC_MODE_TRAIN);   /* dropout step 0 */
    save_logits(s, s->zsave);
    advc_graph_forward(g, s->xadv, n, ADVC_MODE_TRAIN); /* step 1 */
    final_pred(s);
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

/* ---- the table ----------------------------------------------------------- */

static const recipe_def recipes[ADVC_RECIPE_COUNT] = {
    [ADVC_RECIPE_STD] = { "std", NULL, loss_clean },
    [ADVC_RECIPE_FGSM] = { "fgsm", input_fgsm, loss_fgsm },
    [ADVC_RECIPE_FGSM_RS] = { "fgsm-rs", input_fgsm_rs, loss_adv },
    [ADVC_RECIPE_PGD] = { "pgd", input_pgd, loss_adv },
    [ADVC_RECIPE_FREE] = { "free", input_free, loss_free },
    [ADVC_RECIPE_TRADES] = { "trades", input_trades, loss_trades },
    [ADVC_RECIPE_ME_FGSM] = { "me-fgsm", input_me_fgsm, loss_adv },
};

const recipe_def *recipe_get(advc_recipe r) { return &recipes[r]; }
