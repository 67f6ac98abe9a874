/* gradcheck.c: the finite-difference checker described in gradcheck.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gradcheck.h"

gc_opts gc_defaults(void)
{
    gc_opts o = { 1e-2, 400, ADVC_MODE_EVAL, 1, false };
    return o;
}

static void fill(float *x, size_t n, float lo, float hi, advc_rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * advc_rng_uniform(r);
}

void gc_randomize(advc_graph *g, float a, uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 17);
    size_t np, ns;
    float *p = advc_graph_params(g, &np), *s = advc_graph_state(g, &ns);
    fill(p, np, -a, a, &r);
    for (int i = 0; i < advc_graph_num_tensors(g); i++) {
        const advc_tensor_info *t = advc_graph_tensor(g, i);
        if (t->kind != ADVC_TENSOR_STATE) continue;
        int var = strstr(t->name, "running_var") != NULL;
        fill(s + t->offset, t->count, var ? 0.5f : -0.5f, var ? 1.5f : 0.5f,
             &r);
    }
}

typedef struct {
    advc_graph *g;
    int n;
    const float *x;
    float **r;      /* (nexits) (n, classes) */
    const gc_opts *o;
} gc_problem;

static double loss(const gc_problem *p)
{
    if (p->o->fix_dropout) advc_graph_set_seed(p->g, p->o->seed);
    advc_graph_forward(p->g, p->x, p->n, p->o->mode);
    int c = advc_graph_classes(p->g);
    double L = 0;
    for (int e = 0; e < advc_graph_num_exits(p->g); e++) {
        const float *z = advc_graph_logits(p->g, e);
        for (int i = 0; i < p->n * c; i++) L += (double)p->r[e][i] * z[i];
    }
    return L;
}

/* Which coordinates of a vector of length len to check: all, or
 * max_coords drawn at random (repeats possible). */
static int pick(size_t len, int max_coords, advc_rng *rng, size_t *idx)
{
    if (max_coords <= 0 || len <= (size_t)max_coords) {
        for (size_t i = 0; i < len; i++) idx[i] = i;
        return (int)len;
    }
    for (int i = 0; i < max_coords; i++)
        idx[i] = advc_rng_below(rng, (uint32_t)len);
    return max_coords;
}

/* Relative error of the central differences over coordinates idx of v
 * (perturbed in place and restored) against the analytic values an. */
static double check_vector(const gc_problem *p, float *v, const float *an,
                           const size_t *idx, int m, double *norm)
{
    double h = p->o->h, dd = 0, aa = 0, ff = 0;
    for (int k = 0; k < m; k++) {
        float keep = v[idx[k]];
        v[idx[k]] = (float)(keep + h);
        double lp = loss(p);
        v[idx[k]] = (float)(keep - h);
        double lm = loss(p);
        v[idx[k]] = keep;
        /* The step actually taken, after rounding to float. */
        double step = (double)(float)(keep + h) - (double)(float)(keep - h);
        double fd = (lp - lm) / step, a = an[idx[k]];
        dd += (a - fd) * (a - fd);
        aa += a * a;
        ff += fd * fd;
    }
    *norm = sqrt(aa);
    double den = sqrt(aa > ff ? aa : ff);
    return den > 0 ? sqrt(dd) / den : sqrt(dd);
}

gc_result gc_check(advc_graph *g, int n, const float *x, const gc_opts *o)
{
    gc_result res;
    memset(&res, 0, sizeof res);
    int ne = advc_graph_num_exits(g), c = advc_graph_classes(g);
    advc_shape s = advc_graph_input_shape(g);
    size_t nx = (size_t)n * advc_shape_size(s), np;
    float *params = advc_graph_params(g, &np);
    advc_rng rng;
    advc_rng_seed(&rng, o->seed, 3);

    float **r = malloc((size_t)ne * sizeof *r);
    for (int e = 0; e < ne; e++) {
        r[e] = malloc((size_t)n * c * sizeof **r);
        fill(r[e], (size_t)n * c, -1, 1, &rng);
    }
    float *xc = malloc(nx * sizeof *xc);
    memcpy(xc, x, nx * sizeof *xc);
    gc_problem p = { g, n, xc, r, o };

    /* Analytic gradients: one forward, one UPDATE backward. */
    loss(&p);
    for (int e = 0; e < ne; e++)
        memcpy(advc_graph_dlogits(g, e), r[e], (size_t)n * c * sizeof **r);
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    float *gx = malloc(nx * sizeof *gx), *gp = malloc((np + 1) * sizeof *gp);
    memcpy(gx, advc_graph_input_grad(g), nx * sizeof *gx);
    memcpy(gp, advc_graph_grads(g, NULL), np * sizeof *gp);

    size_t most = nx > np ? nx : np;
    size_t *idx = malloc((most + 1) * sizeof *idx);
    int m = pick(nx, o->max_coords, &rng, idx);
    res.input_coords = m;
    res.input_err = check_vector(&p, xc, gx, idx, m, &res.input_norm);
    if (np > 0) {
        m = pick(np, o->max_coords, &rng, idx);
        res.param_coords = m;
        res.param_err = check_vector(&p, params, gp, idx, m,
                                     &res.param_norm);
    }
    for (int e = 0; e < ne; e++) free(r[e]);
    free(r), free(xc), free(gx), free(gp), free(idx);
    return res;
}
