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
#include <string.h>

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

static float pgd_step_size(const advc_attack_config *cfg)
{
    return cfg->step_size > 0.0f ? cfg->step_size
                                 : 2.5f * cfg->eps / (float)cfg->steps;
}

/* PGD-k, per restart: evaluate x_0, ..., x_k (k gradients and one last
 * forward); the first x_t that fools is the sample's result, else the x_t
 * with the highest objective.  Restarts re-run only the samples no earlier
 * restart fooled, from a fresh random start.  Without a random start every
 * restart would repeat the first, so there is one. */
advc_status atk_pgd(const atk_ctx *c, atk_out *o)
{
    const advc_attack_config *cfg = c->cfg;
    atk_ws *w = c->ws;
    bool l2 = cfg->kind == ADVC_ATK_PGD_L2;
    size_t d = c->d;
    float eps = cfg->eps, lo = cfg->lo, hi = cfg->hi;
    float a = pgd_step_size(cfg);
    int R = cfg->random_start ? cfg->restarts : 1;
    float *cur = w->row[0], *best = w->row[1]; /* (n, d) */
    float *obj = w->vec[0], *bobj = w->vec[1]; /* (n)    */
    int *idx = w->ivec[0];
    unsigned char *fooled = w->flag;

    atk_out_reset(c, o);
    for (int r = 0; r < R; r++) {
        int m = atk_unfooled(c, o, idx);
        if (m == 0) break;
        for (int j = 0; j < m; j++) {
            int i = idx[j];
            float *p = cur + (size_t)i * d;
            advc_rng rng;
            atk_rng(c, (uint64_t)r, i, &rng);
            if (!cfg->random_start)
                memcpy(p, c->x + (size_t)i * d, d * sizeof *p);
            else if (l2)
                l2_start(c, &rng, i, p);
            else
                atk_linf_start(c, &rng, i, p);
        }
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
            for (int j = 0; j < m; j++) {
                int i = idx[j];
                float *p = cur + (size_t)i * d;
                const float *xi = c->x + (size_t)i * d;
                const float *gj = gr + (size_t)j * d;
                if (l2) {
                    advc_l2_step(d, p, gj, a);
                    l2_project(d, p, xi, eps, lo, hi);
                } else {
                    advc_sign_step_proj(d, p, gj, xi, a, eps, lo, hi);
                }
            }
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

/* One step from x (or from a random start) of eps (1.25 eps from a random
 * start, Wong et al.'s FGSM-RS), projected.  With one restart the result
 * is x' itself and nothing more is evaluated (the attack costs one forward
 * and one backward, as in training); with several, each x' is evaluated
 * and the first fooling one, else the highest-loss one, is kept. */
advc_status atk_fgsm(const atk_ctx *c, atk_out *o)
{
    const advc_attack_config *cfg = c->cfg;
    atk_ws *w = c->ws;
    size_t d = c->d;
    float eps = cfg->eps;
    float a = cfg->step_size > 0.0f ? cfg->step_size
                                    : (cfg->random_start ? 1.25f * eps : eps);
    int R = cfg->random_start ? cfg->restarts : 1;
    float *cur = w->row[0], *obj = w->vec[0];
    int *idx = w->ivec[0];
    unsigned char *fooled = w->flag;

    atk_out_reset(c, o);
    for (int r = 0; r < R; r++) {
        int m = atk_unfooled(c, o, idx);
        if (m == 0) break;
        for (int j = 0; j < m; j++) {
            int i = idx[j];
            float *p = cur + (size_t)i * d;
            if (cfg->random_start) {
                advc_rng rng;
                atk_rng(c, (uint64_t)r, i, &rng);
                atk_linf_start(c, &rng, i, p);
            } else {
                memcpy(p, c->x + (size_t)i * d, d * sizeof *p);
            }
        }
        const float *gr = atk_eval(c, cur, idx, m, NULL, NULL, true);
        for (int j = 0; j < m; j++) {
            int i = idx[j];
            advc_sign_step_proj(d, cur + (size_t)i * d, gr + (size_t)j * d,
                                c->x + (size_t)i * d, a, eps, cfg->lo,
                                cfg->hi);
        }
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
    atk_ws *w = c->ws;
    size_t d = c->d;
    float *cur = w->row[0], *obj = w->vec[0];
    int *idx = w->ivec[0];
    unsigned char *fooled = w->flag;

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
