/* recipe_elle.c: ELLE (Abad Rocamora, Liu, Chen, Suykens, Cevher, "Efficient
 * local linearity regularization to overcome catastrophic overfitting",
 * ICLR 2024): single-step adversarial training plus a penalty on how far
 * the loss is from linear inside the ball, measured with forward passes
 * only (no second-order pass, unlike GradAlign):
 *   x_a, x_b = x + eps U(-1, 1)   (two random points of the ball),
 *   a ~ U(0, 1),  x_c = (1 - a) x_a + a x_b,
 *   r = CE(x_c) - (1 - a) CE(x_a) - a CE(x_b)   (0 if CE is linear),
 *   loss = CE(x') + lambda mean_i r_i^2,
 * with x' one FGSM step of eps from x + U(-k eps, k eps) (k = 0 by default:
 * FGSM from x; like the reference, the step is not projected back).  The
 * gradient of the penalty needs the activations of all three points, and
 * the graph holds one forward, so each point is forwarded twice (values,
 * then value and gradient, the dropout mask pinned), and the batch-norm
 * running statistics are restored after the penalty's passes: they see the
 * training input only.  The reference evaluates the three points as one
 * batch of 3n (batch-norm statistics over all of them); here each point is
 * its own batch.  Cost: about three FGSM-RS steps. */
#include "train_internal.h"

#include <stddef.h>
#include <string.h>

#include "advc/loss.h"

/* Our default weight of the penalty, chosen on MNIST (bench/repro/
 * fastat.sh); the reference code's default is 1, its paper tunes it. */
#define ELLE_DEFAULT_LAMBDA 1000.0f
#define ELLE_DEFAULT_LAMBDA_TEXT "1000"

/* The training input (FGSM from the noisy start) and the triplet. */
static void input_elle(recipe_ctx *s)
{
    size_t len = (size_t)s->n * s->d;
    float eps = s->rc->eps, amp = s->rc->noise * eps;
    advc_rng r;
    recipe_rng(s, 1, &r);
    for (size_t k = 0; k < len; k++)
        s->start[k] = amp > 0 ? recipe_clamp01(
                                    s->x[k] + amp * (2.0f *
                                    advc_rng_uniform(&r) - 1.0f))
                              : s->x[k];
    s->atk.start = s->start;
    recipe_run_attack(s);
    /* x_a, x_b, x_c (unclipped, as the reference) and a per sample. */
    float *xa = s->pts, *xb = s->pts + len, *xc = s->pts + 2 * len;
    float *alpha = s->per + 3 * (size_t)s->n;
    recipe_rng(s, 3, &r);
    for (size_t k = 0; k < len; k++) {
        xa[k] = s->x[k] + eps * (2.0f * advc_rng_uniform(&r) - 1.0f);
        xb[k] = s->x[k] + eps * (2.0f * advc_rng_uniform(&r) - 1.0f);
    }
    for (int i = 0; i < s->n; i++) {
        float a = alpha[i] = advc_rng_uniform(&r);
        for (size_t k = (size_t)i * s->d; k < (size_t)(i + 1) * s->d; k++)
            xc[k] = (1.0f - a) * xa[k] + a * xb[k];
    }
}

/* Forward p in TRAIN mode with the dropout mask of `seed`; per[i] gets
 * sum_e w_e CE_e(i); with coef, every exit's dlogits get
 * w_e coef[i] dCE_e(i)/dz and an UPDATE backward adds the gradient. */
static void point_pass(recipe_ctx *s, const float *p, uint64_t seed,
                       float *per, const float *coef)
{
    advc_graph *g = s->g;
    int n = s->n, C = advc_graph_classes(g), E = advc_graph_num_exits(g);
    float *tmp = s->per + 7 * (size_t)n;
    advc_graph_set_seed(g, seed);
    advc_graph_forward(g, p, n, ADVC_MODE_TRAIN);
    if (per) memset(per, 0, (size_t)n * sizeof *per);
    for (int e = 0; e < E; e++) {
        float w = advc_graph_exit_weight(g, e);
        float *dz = advc_graph_dlogits(g, e);
        const float *z = advc_graph_logits(g, e);
        if (per) {
            advc_loss_xent(n, C, z, s->y, tmp, NULL, 1.0f);
            for (int i = 0; i < n; i++) per[i] += w * tmp[i];
        }
        if (!coef) continue;
        memset(dz, 0, (size_t)n * C * sizeof *dz);
        advc_loss_xent(n, C, z, s->y, NULL, dz, w);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < C; j++) dz[(size_t)i * C + j] *= coef[i];
    }
    if (coef) advc_graph_backward(g, ADVC_PASS_UPDATE);
}

/* lambda mean_i r_i^2 and its parameter gradient, added to the graph's. */
static float linearity_penalty(recipe_ctx *s)
{
    int n = s->n;
    size_t len = (size_t)n * s->d;
    float *la = s->per, *lb = s->per + n, *lc = s->per + 2 * (size_t)n;
    const float *alpha = s->per + 3 * (size_t)n;
    uint64_t seed[3];
    for (int k = 0; k < 3; k++)
        seed[k] = advc_mix64(s->seed, 0xe11e0000u + (uint64_t)s->batch_index *
                                          4u + (uint64_t)k);
    float *st = advc_graph_state(s->g, &s->nstate);
    if (s->nstate) memcpy(s->state, st, s->nstate * sizeof *st);
    for (int k = 0; k < 3; k++)
        point_pass(s, s->pts + k * len, seed[k], s->per + k * (size_t)n,
                   NULL);
    /* r_i, and d(lambda mean r^2)/dCE at each point: 2 lambda r_i c_i / n
     * with c = -(1 - a), -a, 1 for x_a, x_b, x_c. */
    float lam = s->rc->lambda, pen = 0.0f;
    float *coef = s->per + 4 * (size_t)n; /* (3, n) */
    for (int i = 0; i < n; i++) {
        float a = alpha[i], r = lc[i] - (1.0f - a) * la[i] - a * lb[i];
        float gsc = 2.0f * lam * r / (float)n;
        pen += r * r;
        coef[i] = -(1.0f - a) * gsc;
        coef[n + i] = -a * gsc;
        coef[2 * n + i] = gsc;
    }
    for (int k = 0; k < 3; k++)
        point_pass(s, s->pts + k * len, seed[k], NULL, coef + k * n);
    if (s->nstate) memcpy(st, s->state, s->nstate * sizeof *st);
    return lam * pen / (float)n;
}

static float loss_elle(recipe_ctx *s)
{
    float l = recipe_ce_update(s, s->xadv, 1.0f, true);
    recipe_final_pred(s);
    return l + linearity_penalty(s);
}


/* k = 0 (FGSM from x), a step of eps, not projected back; lambda 1e3. */
static void elle_resolve(advc_recipe_config *c, int exits)
{
    (void)exits;
    if (!(c->step_size > 0)) c->step_size = c->eps;
    if (!(c->lambda > 0)) c->lambda = ELLE_DEFAULT_LAMBDA;
    float r = c->noise * c->eps + c->step_size;
    c->attack_eps = r < 1.0f ? r : 1.0f;
}

static const advc_param elle_params[] = {
    RCP_ROW_EPS,
    RCP_ROW_STEP_SIZE("eps"),
    RCP_ROW("noise", "K", ADVC_PARAM_REAL, noise, 0, 100, 0, "0",
            "the FGSM step starts from x + U(-K eps, K eps), clipped to the "
            "image", NULL),
    RCP_ROW("lambda", "L", ADVC_PARAM_REAL, lambda, 0, 1e9, 1,
            ELLE_DEFAULT_LAMBDA_TEXT, "weight of the local-linearity error",
            NULL),
    RCP_ROW_ADV_MODE,
    RCP_ROW_ATTACK_GRAD,
    RCP_ROW_UPDATE_GRAD,
    RCP_ROW_EXIT_L2("none"),
};

const recipe_def recipe_elle_def = {
    { "elle", "CE(x') + lambda (local-linearity error of CE at random "
      "points of the ball)^2, x' one FGSM step", "Abad Rocamora et al., "
      "ICLR 2024", elle_params, RCP_NPARAMS(elle_params), NULL },
    elle_resolve, ADVC_ATK_FGSM, recipe_attack_batch_mean, input_elle,
    loss_elle, false, true
};
