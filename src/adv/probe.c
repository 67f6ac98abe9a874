/* probe.c: the linearity probe (advc/probe.h): the FGSM direction at one
 * image, the final exit's logits along it, and the summary (first change
 * of the prediction, straightness of each logit's curve). */
#include "advc/probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "advc/evaluate.h"
#include "advc/loss.h"

/* R^2 of the least-squares line through (x_i, y_i); 1 for a flat y or
 * fewer than 2 points. */
static double line_r2(const double *x, const double *y, int n)
{
    if (n < 2) return 1.0;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (!(syy > 0) || !(sxx > 0)) return 1.0;
    return sxy * sxy / (sxx * syy);
}

/* d = sign(grad_x CE(f(x), y)) through the final exit, eval mode. */
static void fgsm_direction(advc_graph *g, const float *x, int y, float *dir,
                           advc_probe_summary *sum)
{
    int classes = advc_graph_classes(g), exits = advc_graph_num_exits(g);
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    advc_graph_forward(g, x, 1, ADVC_MODE_EVAL);
    for (int e = 0; e < exits; e++)
        memset(advc_graph_dlogits(g, e), 0, (size_t)classes * sizeof(float));
    const float *z0 = advc_graph_logits(g, exits - 1);
    advc_argmax_rows(1, classes, z0, &sum->pred0);
    sum->ce = advc_loss_xent(1, classes, z0, &y, NULL,
                             advc_graph_dlogits(g, exits - 1), 1.0f);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    const float *gx = advc_graph_input_grad(g);
    sum->nonzero = 0;
    for (size_t i = 0; i < per; i++) {
        dir[i] = gx[i] > 0 ? 1.0f : gx[i] < 0 ? -1.0f : 0.0f;
        sum->nonzero += dir[i] != 0;
    }
}

/* The logits at every grid point, a batch of points per forward. */
static void walk(advc_graph *g, const float *x, const float *dir,
                 const advc_probe_config *cfg, const double *eps,
                 float *xs, double *logit)
{
    int classes = advc_graph_classes(g), B = advc_graph_batch(g);
    int last = advc_graph_num_exits(g) - 1, P = cfg->points;
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    for (int lo = 0; lo < P; lo += B) {
        int nb = P - lo < B ? P - lo : B;
        for (int k = 0; k < nb; k++) {
            float e = (float)eps[lo + k];
            float *xk = xs + (size_t)k * per;
            for (size_t i = 0; i < per; i++) {
                float v = x[i] + e * dir[i];
                if (cfg->clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
                xk[i] = v;
            }
        }
        advc_graph_forward(g, xs, nb, ADVC_MODE_EVAL);
        const float *z = advc_graph_logits(g, last);
        for (int k = 0; k < nb; k++)
            for (int j = 0; j < classes; j++)
                logit[(size_t)j * P + lo + k] = z[(size_t)k * classes + j];
    }
}

/* The first change of the prediction on the positive side, and the
 * straight-line fits of each logit on each side of eps = 0. */
static void summarise(int classes, int P, int y, const double *eps,
                      const double *logit, advc_probe_summary *sum)
{
    sum->flip_eps = -1;
    sum->flip_to = -1;
    for (int k = 0; k < P && sum->flip_eps < 0; k++) {
        if (eps[k] <= 0) continue;
        int p = 0;
        for (int j = 1; j < classes; j++)
            if (logit[(size_t)j * P + k] > logit[(size_t)p * P + k]) p = j;
        if (p != y) {
            sum->flip_eps = eps[k];
            sum->flip_to = p;
        }
    }
    int neg = 0; /* grid points with eps <= 0: the indices [0, neg) */
    while (neg < P && eps[neg] <= 0) neg++;
    int pos0 = neg > 0 && eps[neg - 1] == 0 ? neg - 1 : neg;
    double r2sum = 0;
    sum->r2_min = 1;
    sum->nfits = 0;
    sum->finite = true;
    for (int j = 0; j < classes; j++) {
        const double *lj = logit + (size_t)j * P;
        for (int k = 0; k < P; k++)
            if (!isfinite(lj[k])) sum->finite = false;
        double r2[2] = { line_r2(eps, lj, neg),
                         line_r2(eps + pos0, lj + pos0, P - pos0) };
        int cnt[2] = { neg, P - pos0 };
        for (int side = 0; side < 2; side++) {
            if (cnt[side] < 3) continue; /* two points always fit */
            r2sum += r2[side];
            sum->nfits++;
            if (r2[side] < sum->r2_min) sum->r2_min = r2[side];
        }
    }
    sum->r2_mean = sum->nfits ? r2sum / sum->nfits : 1.0;
}

advc_status advc_probe_line(advc_graph *g, const float *x, int y,
                            const advc_probe_config *cfg, double *eps,
                            double *logit, advc_probe_summary *sum)
{
    int P = cfg->points, classes = advc_graph_classes(g);
    int B = advc_graph_batch(g);
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    if (P < 2 || !(cfg->eps_max > 0) || B <= 0 || y < 0 || y >= classes)
        return advc_set_error(ADVC_ERR_ARG, "probe: points %d, eps_max %g, "
                              "label %d or the graph is not valid", P,
                              (double)cfg->eps_max, y);
    float *dir = malloc(per * sizeof *dir);
    float *xs = malloc((size_t)B * per * sizeof *xs);
    if (!dir || !xs) {
        free(dir), free(xs);
        return advc_set_error(ADVC_ERR_NOMEM, "probe: out of memory");
    }
    fgsm_direction(g, x, y, dir, sum);
    for (int k = 0; k < P; k++)
        eps[k] = (double)cfg->eps_max * (2.0 * k - (P - 1)) / (P - 1);
    walk(g, x, dir, cfg, eps, xs, logit);
    summarise(classes, P, y, eps, logit, sum);
    free(dir), free(xs);
    return ADVC_OK;
}

/* ---- the feature probe ------------------------------------------------------ */

/* Every exit's features of the m rows x into f[e] (m, size[e]). */
static void exit_features(advc_graph *g, const float *x, int m, float **f,
                          const size_t *size)
{
    advc_graph_forward(g, x, m, ADVC_MODE_EVAL);
    for (int e = 0; e < advc_graph_num_exits(g); e++) {
        const float *v;
        advc_graph_exit_features(g, e, &v);
        memcpy(f[e], v, (size_t)m * size[e] * sizeof *v);
    }
}

advc_status advc_probe_features(advc_graph *g, const advc_attack_config *cfg,
                                const float *x, const int *y, int n,
                                double *dist, double *rel)
{
    int B = advc_graph_batch(g), E = advc_graph_num_exits(g);
    size_t per = advc_shape_size(advc_graph_input_shape(g)), size[64];
    if (E > 64)
        return advc_set_error(ADVC_ERR_ARG, "feature probe: more than 64 "
                              "exits");
    float *clean[64] = { NULL }, *adv[64] = { NULL };
    float *xa = malloc((size_t)n * per * sizeof *xa);
    advc_status st = xa ? ADVC_OK : ADVC_ERR_NOMEM;
    for (int e = 0; e < E && st == ADVC_OK; e++) {
        size[e] = advc_shape_size(advc_graph_exit_features(g, e, NULL));
        clean[e] = malloc((size_t)B * size[e] * sizeof(float));
        adv[e] = malloc((size_t)B * size[e] * sizeof(float));
        if (!clean[e] || !adv[e]) st = ADVC_ERR_NOMEM;
        dist[e] = rel[e] = 0;
    }
    if (st == ADVC_ERR_NOMEM)
        st = advc_set_error(ADVC_ERR_NOMEM, "feature probe: out of memory");
    if (st == ADVC_OK) st = advc_attack_rows(g, cfg, x, y, n, xa);
    for (int lo = 0; lo < n && st == ADVC_OK; lo += B) {
        int m = n - lo < B ? n - lo : B;
        exit_features(g, x + (size_t)lo * per, m, clean, size);
        exit_features(g, xa + (size_t)lo * per, m, adv, size);
        for (int e = 0; e < E; e++)
            for (int i = 0; i < m; i++) {
                double dd = 0, cc = 0;
                for (size_t k = 0; k < size[e]; k++) {
                    double c = clean[e][(size_t)i * size[e] + k];
                    double a = adv[e][(size_t)i * size[e] + k];
                    dd += (a - c) * (a - c);
                    cc += c * c;
                }
                dist[e] += sqrt(dd) / n;
                rel[e] += (cc > 0 ? sqrt(dd / cc) : 0) / n;
            }
    }
    for (int e = 0; e < E; e++) free(clean[e]), free(adv[e]);
    free(xa);
    return st;
}
