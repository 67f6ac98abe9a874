/* advc/probe.h: looking at a model along a line through input space.
 *
 * The linearity probe of Goodfellow, Shlens and Szegedy (ICLR 2015, the
 * figure of logits against eps): take one image x with label y, the FGSM
 * direction d = sign(grad_x CE(f(x), y)) (eval mode, final exit), and
 * record every class's logit of f(x + eps d) for eps on an even grid over
 * [-eps_max, eps_max].  The points are NOT clipped to [0, 1] unless asked:
 * the probe asks how the network behaves along a line, not what a valid
 * attack can reach.  Summary: where the prediction first changes, and how
 * straight each logit's curve is (R^2 of a least-squares line on each side
 * of eps = 0: ReLU networks are piecewise linear, with the kink where the
 * activation pattern changes, near 0).
 */
#ifndef ADVC_PROBE_H
#define ADVC_PROBE_H

#include "advc/attack.h"
#include "advc/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int points;          /* grid points, >= 2                              */
    float eps_max;       /* the grid spans [-eps_max, eps_max]             */
    bool clip;           /* clip x + eps d to [0, 1] (not the paper's)    */
} advc_probe_config;

typedef struct {
    float ce;            /* CE(f(x), y)                                    */
    size_t nonzero;      /* entries of d that are not 0                    */
    int pred0;           /* the prediction at eps = 0                       */
    double flip_eps;     /* the smallest eps > 0 on the grid where the
                            prediction is not y; < 0 if none              */
    int flip_to;         /* the prediction there                           */
    double r2_min, r2_mean; /* over the straight-line fits of each logit,
                            each side of 0 with >= 3 points               */
    int nfits;
    bool finite;         /* every logit on the grid is finite              */
} advc_probe_summary;

/* eps (points) gets the grid, eps_k = eps_max (2k - (P-1)) / (P-1) (exact
 * 0 in the middle of an odd grid, exact +-eps_max at the ends); logit
 * (classes, points) the final exit's logits, class-major.  g must be
 * compiled; x is one image. */
advc_status advc_probe_line(advc_graph *g, const float *x, int y,
                            const advc_probe_config *cfg, double *eps,
                            double *logit, advc_probe_summary *sum);

/* The feature probe of Chen et al. (Neural Networks 2022, "deeper exits
 * react more"): for each exit, how far the features its classifier reads
 * (advc_graph_exit_features) move between a clean image and its
 * adversarial example made by cfg (on the summed loss of every exit, or as
 * cfg says), over rows [0, n) of x:
 *   dist[e] = mean_i ||f_e(x_i') - f_e(x_i)||_2,
 *   rel[e]  = mean_i ||f_e(x_i') - f_e(x_i)||_2 / ||f_e(x_i)||_2.
 * dist and rel have one slot per exit. */
advc_status advc_probe_features(advc_graph *g, const advc_attack_config *cfg,
                                const float *x, const int *y, int n,
                                double *dist, double *rel);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_PROBE_H */
