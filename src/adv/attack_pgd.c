/* attack_pgd.c: the fixed-step attacks.
 *   FGSM   x' = Pi(x0 + a sign(grad J(x0))), x0 = x or x + U(-eps, eps)
 *          (Goodfellow et al., ICLR 2015; FGSM-RS: Wong et al., ICLR 2020).
 *   PGD    x_{t+1} = Pi(x_t + a sign(grad J(x_t))), random start, restarts
 *          (Madry et al., ICLR 2018); CW-inf is PGD on the CW margin;
 *          PGD-L2 steps along g / ||g||_2 and projects onto the L2 ball.
 *   NOISE  x + U(-eps, eps): the baseline PGD must beat.
 * Pi projects onto the eps-ball around x, then onto [lo, hi].
 */
#include "attack_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* The working memory of every attack in this file. */
typedef struct {
    float *cur, *best;      /* (n, d) the iterate, the best one so far    */
    float *obj, *bobj;      /* (n) J at cur, J at best                    */
    int *idx;               /* (n) the active samples                     */
    unsigned char *fooled;  /* (n) fooled at cur                          */
} pgd_ws;

static void pgd_layout(atk_carver *cv, const atk_dims *dm, void *priv)
{
    pgd_ws *w = priv;
    size_t n = (size_t)dm->n, rows = n * dm->d * sizeof(float);
    w->cur = atk_carve(cv, rows);
    w->best = atk_carve(cv, rows);
    w->obj = atk_carve(cv, n * sizeof(float));
    w->bobj = atk_carve(cv, n * sizeof(float));
    w->idx = atk_carve(cv, n * sizeof(int));
    w->fooled = atk_carve(cv, n);
}

/* The first iterate of sample i for restart r: the caller's start point,
 * x itself, or a random start (L2 or L-inf ball). */
static void first_iterate(const atk_ctx *c, int r, int i, bool l2, float *p);

/* ---- L2 geometry -------------------------------------------------------- */

/* p = clamp(x + delta * min(1, eps / ||delta||_2), lo, hi), delta = p - x.
 * The norm and the scale are taken in double; the box clamp never moves a
 * pixel farther from x (x is in the box), so the norm stays <= eps up to
 * the final rounding of each pixel. */
static void l2_project(size_t d, float *p, const float *x, float eps,
                       float lo, float hi)
{
    double ss = 0.0;
    for (size_t k = 0; k < d; k++) {
        double t = (double)p[k] - (double)x[k];
        ss += t * t;
    }
    double s = ss > (double)eps * eps ? (double)eps / sqrt(ss) : 1.0;
    for (size_t k = 0; k < d; k++) {
        float v = s == 1.0 ? p[k]
                           : (float)(x[k] + s * ((double)p[k] - x[k]));
        v = v > lo ? v : lo;
        p[k] = v < hi ? v : hi;
    }
}

/* Uniform in the L2 ball: a Gaussian direction (isotropic), radius
 * eps * u^(1/d) (the volume of a ball grows as r^d), then the box. */
static void l2_start(const atk_ctx *c, advc_rng *r, int i, float *p)
{
    const float *x = c->x + (size_t)i * c->d;
    size_t d = c->d;
    double ss = 0.0;
    for (size_t k = 0; k < d; k++) {
        p[k] = advc_rng_normal(r);
        ss += (double)p[k] * p[k];
    }
    double radius = c->cfg->eps * pow(advc_rng_uniform(r), 1.0 / (double)d);
    double s = ss > 0.0 ? radius / sqrt(ss) : 0.0;
    for (size_t k = 0; k < d; k++) p[k] = (float)(x[k] + s * p[k]);
    l2_project(d, p, x, c->cfg->eps, c->cfg->lo, c->cfg->hi);
}

/* ---- PGD (L-inf, L2, CW) ------------------------------------------------ */

/* PGD-k, per restart: evaluate x_0, ..., x_k (k gradients and one last
 * forward); the first x_t that fools is the sample's result, else the x_t
 * with the highest objective.  Restarts re-run only the samples no earlier
 * restart fooled, from a fresh random start.  Without a random start every
 * restart would repeat the first, so there is one. */
static void first_iterate(const atk_ctx *c, int r, int i, bool l2, float *p)
{
    const advc_attack_config *cfg = c->cfg;
    size_t d = c->d;
    if (cfg->start) {
        memcpy(p, cfg->start + (size_t)i * d, d * sizeof *p);
    } else if (!cfg->random_start) {
        memcpy(p, c->x + (size_t)i * d, d * sizeof *p);
    } else {
        advc_rng rng;
        atk_rng(c, (uint64_t)r, i, &rng);
        if (l2) l2_start(c, &rng, i, p);
        else atk_linf_start(c, &rng, i, p);
    }
}

/* The step of x_t -> x_t+1 for the m active samples, gradient rows gr in
 * active order. */
static void pgd_step(const atk_ctx *c, float *cur, const int *idx, int m,
                     const float *gr)
{
    const advc_attack_config *cfg = c->cfg;
    bool l2 = cfg->kind == ADVC_ATK_PGD_L2;
    size_t d = c->d;
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        float *p = cur + (size_t)i * d;
        const float *xi = c->x + (size_t)i * d;
        const float *gj = gr + (size_t)j * d;
        if (l2) {
            advc_l2_step(d, p, gj, cfg->step_size);
            l2_project(d, p, xi, cfg->eps, cfg->lo, cfg->hi);
        } else {
            advc_sign_step_proj(d, p, gj, xi, cfg->step_size, cfg->eps,
                                cfg->lo, cfg->hi);
        }
    }
}

/* last_iterate (TRADES' inner maximisation): k steps, no evaluation of
 * the iterates, the result is x_k. */
static advc_status pgd_last_iterate(const atk_ctx *c, atk_out *o)
{
    pgd_ws *w = c->ws->priv;
    bool l2 = c->cfg->kind == ADVC_ATK_PGD_L2;
    for (int i = 0; i < c->n; i++) {
        w->idx[i] = i;
        first_iterate(c, 0, i, l2, w->cur + (size_t)i * c->d);
    }
    for (int t = 0; t < c->cfg->steps; t++) {
        const float *gr = atk_eval(c, w->cur, w->idx, c->n, NULL, NULL,
                                   true);
        pgd_step(c, w->cur, w->idx, c->n, gr);
    }
    memcpy(o->x, w->cur, (size_t)c->n * c->d * sizeof *o->x);
    return ADVC_OK;
}

advc_status atk_pgd(const atk_ctx *c, atk_out *o)
{
    const advc_attack_config *cfg = c->cfg;
    pgd_ws *w = c->ws->priv;
    bool l2 = cfg->kind == ADVC_ATK_PGD_L2;
    size_t d = c->d;
    int R = cfg->random_start && !cfg->start ? cfg->restarts : 1;
    float *cur = w->cur, *best = w->best;  /* (n, d) */
    float *obj = w->obj, *bobj = w->bobj;  /* (n)    */
    int *idx = w->idx;
    unsigned char *fooled = w->fooled;

    if (cfg->last_iterate) return pgd_last_iterate(c, o);
    atk_out_reset(c, o);
    for (int r = 0; r < R; r++) {
        int m = atk_unfooled(c, o, idx);
        if (m == 0) break;
        for (int j = 0; j < m; j++)
            first_iterate(c, r, idx[j], l2, cur + (size_t)idx[j] * d);
        for (int t = 0; t <= cfg->steps && m > 0; t++) {
            bool last = t == cfg->steps;
            const float *gr = atk_eval(c, cur, idx, m, obj, fooled, !last);
            for (int j = 0; j < m; j++) {
                int i = idx[j];
                const float *p = cur + (size_t)i * d;
                if (o->fooled[i]) continue;
                if (fooled[i]) {
                    atk_take_fool(c, o, i, p, obj[i]);
                } else if (t == 0 || obj[i] > bobj[i]) {
                    bobj[i] = obj[i];
                    memcpy(best + (size_t)i * d, p, d * sizeof *p);
                }
            }
            if (last) break;
            pgd_step(c, cur, idx, m, gr);
            if (c->early_stop) m = atk_drop_fooled(o->fooled, idx, m);
        }
        /* Still in idx: every sample of this restart not fooled in it. */
        for (int j = 0; j < m; j++) {
            int i = idx[j];
            atk_take_best(c, o, i, best + (size_t)i * d, bobj[i], r == 0);
        }
    }
    return ADVC_OK;
}

/* ---- FGSM --------------------------------------------------------------- */

/* One step from x (or from a random start, or the caller's start) of eps
 * (1.25 eps from a random start, Wong et al.'s FGSM-RS), projected.  With
 * one restart the result is x' itself and nothing more is evaluated (the
 * attack costs one forward and one backward, as in training); with
 * several, each x' is evaluated and the first fooling one, else the
 * highest-loss one, is kept. */
advc_status atk_fgsm(const atk_ctx *c, atk_out *o)
{
    const advc_attack_config *cfg = c->cfg;
    pgd_ws *w = c->ws->priv;
    size_t d = c->d;
    int R = cfg->random_start && !cfg->start ? cfg->restarts : 1;
    float *cur = w->cur, *obj = w->obj;
    int *idx = w->idx;
    unsigned char *fooled = w->fooled;

    atk_out_reset(c, o);
    for (int r = 0; r < R; r++) {
        int m = atk_unfooled(c, o, idx);
        if (m == 0) break;
        for (int j = 0; j < m; j++)
            first_iterate(c, r, idx[j], false, cur + (size_t)idx[j] * d);
        const float *gr = atk_eval(c, cur, idx, m, NULL, NULL, true);
        pgd_step(c, cur, idx, m, gr);
        if (R == 1) {
            memcpy(o->x, cur, (size_t)c->n * d * sizeof *cur);
            break;
        }
        atk_eval(c, cur, idx, m, obj, fooled, false);
        for (int j = 0; j < m; j++) {
            int i = idx[j];
            const float *p = cur + (size_t)i * d;
            if (fooled[i])
                atk_take_fool(c, o, i, p, obj[i]);
            else
                atk_take_best(c, o, i, p, obj[i], r == 0);
        }
    }
    return ADVC_OK;
}

/* ---- uniform noise ------------------------------------------------------ */

/* x + U(-eps, eps), clamped; with several restarts each draw is evaluated
 * and the first fooling one, else the highest-loss one, is kept. */
advc_status atk_noise(const atk_ctx *c, atk_out *o)
{
    const advc_attack_config *cfg = c->cfg;
    pgd_ws *w = c->ws->priv;
    size_t d = c->d;
    float *cur = w->cur, *obj = w->obj;
    int *idx = w->idx;
    unsigned char *fooled = w->fooled;

    atk_out_reset(c, o);
    for (int r = 0; r < cfg->restarts; r++) {
        int m = atk_unfooled(c, o, idx);
        if (m == 0) break;
        for (int j = 0; j < m; j++) {
            advc_rng rng;
            atk_rng(c, (uint64_t)r, idx[j], &rng);
            atk_linf_start(c, &rng, idx[j], cur + (size_t)idx[j] * d);
        }
        if (cfg->restarts == 1) {
            memcpy(o->x, cur, (size_t)c->n * d * sizeof *cur);
            break;
        }
        atk_eval(c, cur, idx, m, obj, fooled, false);
        for (int j = 0; j < m; j++) {
            int i = idx[j];
            const float *p = cur + (size_t)i * d;
            if (fooled[i])
                atk_take_fool(c, o, i, p, obj[i]);
            else
                atk_take_best(c, o, i, p, obj[i], r == 0);
        }
    }
    return ADVC_OK;
}

/* ---- the descriptors ----------------------------------------------------- */

/* Defaults and default rules.  PGD, CW: 40 steps (Madry et al.'s MNIST
 * attack) of 2.5 eps / steps (their rule: enough to cross the ball and
 * back) from a random start.  PGD-L2: eps 2.0 (an L2 budget; 0.3 would be
 * tiny on 784 pixels), 40 steps of 2.5 eps / steps along g / ||g||_2.
 * FGSM: one step of eps from x, or of 1.25 eps from a random start (Wong
 * et al.'s FGSM-RS).  Noise: one uniform draw in the ball per restart. */
static void fgsm_defaults(advc_attack_config *c)
{
    c->steps = 1;
    c->random_start = 0;
}

static void fgsm_resolve(advc_attack_config *c)
{
    c->steps = 1;
    if (!(c->step_size > 0))
        c->step_size = c->random_start || c->start ? 1.25f * c->eps
                                                    : c->eps;
}

static void pgd_defaults(advc_attack_config *c) { c->steps = 40; }

static void pgd_resolve(advc_attack_config *c)
{
    if (!(c->step_size > 0) && c->steps > 0)
        c->step_size = 2.5f * c->eps / (float)c->steps;
}

static void pgd_l2_defaults(advc_attack_config *c)
{
    c->steps = 40;
    c->eps = 2.0f;
}

static void cw_defaults(advc_attack_config *c)
{
    pgd_defaults(c);
    c->loss = ADVC_LOSS_CW;
}

static void cw_resolve(advc_attack_config *c)
{
    c->loss = ADVC_LOSS_CW;
    pgd_resolve(c);
}

static void noise_resolve(advc_attack_config *c) { c->steps = 1; }

static const advc_param fgsm_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    ATK_ROW_STEP_SIZE("eps; 1.25*eps from a random start"),
    ATK_ROW_START("clean"),
    ATK_ROW_RESTARTS,
};

static const advc_param pgd_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    ATK_ROW_STEPS("40", "iterations"),
    ATK_ROW_STEP_SIZE("2.5*eps/steps"),
    ATK_ROW_START("random"),
    ATK_ROW_RESTARTS,
};

static const advc_param pgd_l2_params[] = {
    { "eps", "X", ADVC_PARAM_REAL, offsetof(advc_attack_config, eps), 0,
      1e6, 1, "2", "L2 budget (at most sqrt(c*h*w))", "2 or 0.5", 0, 0,
      NULL, NULL },
    ATK_ROW_STEPS("40", "iterations"),
    ATK_ROW_STEP_SIZE("2.5*eps/steps"),
    ATK_ROW_START("random"),
    ATK_ROW_RESTARTS,
};

static const advc_param noise_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    ATK_ROW_RESTARTS,
};

#define NPARAMS(a) ((int)(sizeof(a) / sizeof *(a)))

const atk_def atk_fgsm_def = {
    { "fgsm", "one signed gradient step: x + eps sign(grad_x loss)",
      "Goodfellow, Shlens, Szegedy, ICLR 2015", ADVC_NORM_LINF, fgsm_params,
      NPARAMS(fgsm_params) },
    fgsm_defaults, fgsm_resolve, atk_fgsm, sizeof(pgd_ws), pgd_layout
};

const atk_def atk_pgd_def = {
    { "pgd", "projected signed gradient ascent on cross-entropy, k steps",
      "Madry et al., ICLR 2018", ADVC_NORM_LINF, pgd_params,
      NPARAMS(pgd_params) },
    pgd_defaults, pgd_resolve, atk_pgd, sizeof(pgd_ws), pgd_layout
};

const atk_def atk_pgd_l2_def = {
    { "pgd-l2", "PGD in the L2 ball: steps along grad / ||grad||_2",
      "Madry et al., ICLR 2018", ADVC_NORM_L2, pgd_l2_params,
      NPARAMS(pgd_l2_params) },
    pgd_l2_defaults, pgd_resolve, atk_pgd, sizeof(pgd_ws), pgd_layout
};

const atk_def atk_cw_def = {
    { "cw", "PGD on the CW margin max_{j!=y} z_j - z_y (\"CW-inf\")",
      "Carlini, Wagner, IEEE S&P 2017", ADVC_NORM_LINF, pgd_params,
      NPARAMS(pgd_params) },
    cw_defaults, cw_resolve, atk_pgd, sizeof(pgd_ws), pgd_layout
};

const atk_def atk_noise_def = {
    { "noise", "uniform random noise in the L-inf ball (a baseline)",
      "-", ADVC_NORM_LINF, noise_params, NPARAMS(noise_params) },
    fgsm_defaults, noise_resolve, atk_noise, sizeof(pgd_ws), pgd_layout
};
