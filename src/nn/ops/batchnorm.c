/* batchnorm.c: batch normalisation per channel over (n, h, w).
 *   forward   y = gamma xhat + beta,  xhat = (x - mu) / sqrt(var + eps)
 *             train: mu, var = the batch's mean and biased variance, and
 *                    running = 0.9 running + 0.1 batch (unbiased var);
 *             eval:  mu, var = the running statistics.
 *   backward  train: dx = gamma/sigma (dy - mean(dy) - xhat mean(dy xhat))
 *             eval:  dx = gamma/sigma dy           (a per-channel scale)
 *             dgamma += sum dy xhat,  dbeta += sum dy   (UPDATE only)
 * with sigma = sqrt(var + eps) and means over the channel's N = n*h*w values.
 * Threads take whole channels, so every sum has one fixed order.
 * When the activation after it is fused here (nn_op.absorb), forward
 * writes f(y) straight to the activation's output (y is never stored) and
 * backward first turns the activation's dL/d(f(y)) into dy, recomputing
 * y from x: one pass over memory less each way, the same bits.  The
 * output (the activation's, when fused) may be a concat's slice
 * (place.c): y and its dL/dy are then ys floats from one image to the
 * next instead of c*h*w.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../graph_internal.h"

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1

typedef struct {
    int c, hw;
    float *gamma, *dgamma; /* (c)                                       */
    float *beta, *dbeta;   /* (c)                                       */
    float *rmean, *rvar;   /* (c) running statistics (state)            */
    float *mean, *invstd;  /* (c) statistics the last forward used (aux) */
    nn_node *act;          /* the activation applied here, or NULL      */
} bn_op;

typedef struct {
    const bn_op *d;
    const nn_ctx *c;
    const float *x;      /* (n, c, h, w) */
    float *dy, *y, *dx;  /* (n, c, h, w); dy is written when fused    */
    bool acc;
    /* With an activation applied here: y is the activation's output; in
     * backward dy is BN's own dL/dy, written here from ady. */
    advc_act_spec f;     /* forward function, or the pass's backward rule */
    const float *ady;    /* (n, c, h, w) dL/d(activation output)         */
    size_t ys;           /* floats from one image of y (ady) to the next */
    size_t dys;          /* of dy: the same unless an activation is fused */
} bn_job;

/* Values per block when an activation is applied here: the normalised
 * values of a block are computed into a stack buffer, then the activation
 * kernel runs on it. */
enum { ACT_BLOCK = 256 };

/* The elementwise loops run in blocks of 8 written out, on restrict
 * pointers: GCC's -O2 vectoriser takes only loops whose trip count it
 * knows (these were scalar code before), and the blocks give it one. */
enum { VB = 8 };

/* y = (x - mu) * scale + beta, n values */
static inline void bn_affine(float *restrict y, const float *restrict x,
                             int n, float mu, float scale, float beta)
{
    int q = 0;
    for (; q + VB <= n; q += VB)
        for (int k = 0; k < VB; k++)
            y[q + k] = (x[q + k] - mu) * scale + beta;
    for (; q < n; q++) y[q] = (x[q] - mu) * scale + beta;
}

/* dx (+)= scale (dy - mdy - (x - mu) istd mdyx), n values */
static inline void bn_dx(float *restrict dx, const float *restrict dy,
                         const float *restrict x, int n, float mu,
                         float istd, float scale, float mdy, float mdyx,
                         bool acc)
{
    int q = 0;
    if (acc) {
        for (; q + VB <= n; q += VB)
            for (int k = 0; k < VB; k++)
                dx[q + k] += scale * (dy[q + k] - mdy -
                                      (x[q + k] - mu) * istd * mdyx);
        for (; q < n; q++)
            dx[q] += scale * (dy[q] - mdy - (x[q] - mu) * istd * mdyx);
        return;
    }
    for (; q + VB <= n; q += VB)
        for (int k = 0; k < VB; k++)
            dx[q + k] = scale * (dy[q + k] - mdy -
                                 (x[q + k] - mu) * istd * mdyx);
    for (; q < n; q++)
        dx[q] = scale * (dy[q] - mdy - (x[q] - mu) * istd * mdyx);
}

/* Plane sums in the manner of nn_sum (graph_internal.h): LANES float
 * accumulators combined in double. */
enum { LANES = 16 };

static double lanes_total(const float *acc)
{
    double s = 0;
    for (int l = 0; l < LANES; l++) s += acc[l];
    return s;
}

/* sum_q (x_q - mu)^2 */
static double plane_sqdev(const float *x, int len, float mu)
{
    float acc[LANES] = { 0 };
    int q = 0;
    for (; q + LANES <= len; q += LANES)
        for (int l = 0; l < LANES; l++) {
            float e = x[q + l] - mu;
            acc[l] += e * e;
        }
    double s = lanes_total(acc);
    for (; q < len; q++) s += (double)(x[q] - mu) * (x[q] - mu);
    return s;
}

/* *sdy += sum_q dy_q,  *sdev += sum_q dy_q (x_q - mu) */
static void plane_dy_sums(const float *dy, const float *x, int len, float mu,
                          double *sdy, double *sdev)
{
    float a[LANES] = { 0 }, b[LANES] = { 0 };
    int q = 0;
    for (; q + LANES <= len; q += LANES)
        for (int l = 0; l < LANES; l++) {
            a[l] += dy[q + l];
            b[l] += dy[q + l] * (x[q + l] - mu);
        }
    double s = lanes_total(a), t = lanes_total(b);
    for (; q < len; q++) {
        s += dy[q];
        t += (double)dy[q] * (x[q] - mu);
    }
    *sdy += s;
    *sdev += t;
}

static void forward_channels(void *p, size_t lo, size_t hi, int t)
{
    const bn_job *j = p;
    const bn_op *d = j->d;
    int n = j->c->n, hw = d->hw;
    size_t stride = (size_t)d->c * hw; /* from one image to the next */
    (void)t;
    for (size_t ch = lo; ch < hi; ch++) {
        const float *x = j->x + ch * hw;
        float *y = j->y + ch * hw;
        if (j->c->mode == ADVC_MODE_TRAIN) {
            /* Two passes: the mean, then the squared deviations. */
            double N = (double)n * hw, s = 0, ss = 0;
            for (int i = 0; i < n; i++) s += nn_sum(x + i * stride, (size_t)hw);
            float mu = (float)(s / N);
            for (int i = 0; i < n; i++)
                ss += plane_sqdev(x + i * stride, hw, mu);
            double var = ss / N;
            d->mean[ch] = mu;
            d->invstd[ch] = (float)(1.0 / sqrt(var + BN_EPS));
            double unbiased = N > 1 ? ss / (N - 1) : var;
            d->rmean[ch] = (float)((1 - BN_MOMENTUM) * d->rmean[ch] +
                                   BN_MOMENTUM * mu);
            d->rvar[ch] = (float)((1 - BN_MOMENTUM) * d->rvar[ch] +
                                  BN_MOMENTUM * unbiased);
        } else {
            d->mean[ch] = d->rmean[ch];
            d->invstd[ch] = (float)(1.0 / sqrt((double)d->rvar[ch] + BN_EPS));
        }
        float mu = d->mean[ch], scale = d->gamma[ch] * d->invstd[ch];
        float beta = d->beta[ch];
        for (int i = 0; i < n; i++) {
            const float *xi = x + i * stride;
            float *yi = y + i * j->ys;
            if (!d->act) {
                bn_affine(yi, xi, hw, mu, scale, beta);
                continue;
            }
            for (int q0 = 0; q0 < hw; q0 += ACT_BLOCK) { /* y = f(bn(x)) */
                float t[ACT_BLOCK];
                int len = hw - q0 < ACT_BLOCK ? hw - q0 : ACT_BLOCK;
                bn_affine(t, xi + q0, len, mu, scale, beta);
                advc_act_forward(j->f.f, j->f.alpha, (size_t)len, t, yi + q0);
            }
        }
    }
}

/* dy = ady * r'(bn(x)) for one plane of len values (the fused
 * activation's backward, bn(x) recomputed from x). */
static void act_grad_plane(const bn_job *j, const float *x, const float *ady,
                           float *dy, int len, float mu, float scale,
                           float beta)
{
    for (int q0 = 0; q0 < len; q0 += ACT_BLOCK) {
        float t[ACT_BLOCK];
        int m = len - q0 < ACT_BLOCK ? len - q0 : ACT_BLOCK;
        bn_affine(t, x + q0, m, mu, scale, beta);
        advc_act_backward(j->f.f, j->f.alpha, (size_t)m, t, ady + q0,
                          dy + q0);
    }
}

static void backward_channels(void *p, size_t lo, size_t hi, int t)
{
    const bn_job *j = p;
    const bn_op *d = j->d;
    int n = j->c->n, hw = d->hw;
    size_t stride = (size_t)d->c * hw;
    bool train = j->c->mode == ADVC_MODE_TRAIN;
    (void)t;
    for (size_t ch = lo; ch < hi; ch++) {
        const float *x = j->x + ch * hw;
        float *dy = j->dy + ch * hw, *dx = j->dx + ch * hw;
        float mu = d->mean[ch], istd = d->invstd[ch];
        double sdy = 0, sdev = 0; /* sum dy, sum dy (x - mu) */
        for (int i = 0; i < n; i++) {
            size_t at = i * stride, dat = i * j->dys;
            if (d->act) /* dy = ady * r'(bn(x)), first */
                act_grad_plane(j, x + at, j->ady + ch * hw + i * j->ys,
                               dy + dat, hw, mu, d->gamma[ch] * istd,
                               d->beta[ch]);
            plane_dy_sums(dy + dat, x + at, hw, mu, &sdy, &sdev);
        }
        double sdyx = sdev * istd; /* sum dy xhat */
        if (j->c->pass == ADVC_PASS_UPDATE) {
            bool fresh = j->c->fresh_grads;
            d->dgamma[ch] = (fresh ? 0.0f : d->dgamma[ch]) + (float)sdyx;
            d->dbeta[ch] = (fresh ? 0.0f : d->dbeta[ch]) + (float)sdy;
        }
        /* Train mode: the mean and variance depend on x too. */
        double N = (double)n * hw;
        float scale = d->gamma[ch] * istd;
        float mdy = train ? (float)(sdy / N) : 0.0f;
        float mdyx = train ? (float)(sdyx / N) : 0.0f;
        for (int i = 0; i < n; i++)
            bn_dx(dx + i * stride, dy + i * j->dys, x + i * stride, hw, mu,
                  istd, scale, mdy, mdyx, j->acc);
    }
}

/* Channels per thread part: enough values that waking threads pays. */
static size_t bn_grain(const bn_op *d, int n)
{
    size_t per = (size_t)n * d->hw;
    return per >= (1 << 14) ? 1 : ((size_t)1 << 14) / per;
}

static void bn_forward(nn_node *v, const nn_ctx *c)
{
    const bn_op *d = v->priv;
    bn_job j = { d, c, v->in[0]->y, NULL, v->y, NULL, false, { 0, 0 },
                 NULL, v->ld, v->ld };
    if (d->act) {
        j.y = d->act->y;
        j.ys = d->act->ld;
        j.f = nn_act_spec(d->act);
    }
    nn_parallel(c->pool, (size_t)d->c, 1, bn_grain(d, c->n),
                forward_channels, &j);
}

static void bn_backward(nn_node *v, const nn_ctx *c)
{
    const bn_op *d = v->priv;
    bn_job j = { d, c, v->in[0]->y, v->dy, NULL, NULL, false, { 0, 0 },
                 NULL, v->ld, v->ld };
    if (d->act) {
        j.ady = d->act->dy;
        j.ys = d->act->ld;
        j.f = nn_act_rule(d->act, c);
    }
    j.dx = nn_input_grad(v, 0, &j.acc);
    nn_parallel(c->pool, (size_t)d->c, 1, bn_grain(d, c->n),
                backward_channels, &j);
}

static void bn_absorb(nn_node *v, nn_node *act)
{
    bn_op *d = v->priv;
    if (d->act) nn_act_fuse(d->act, false);
    d->act = act;
    if (act) nn_act_fuse(act, true);
    v->no_y = act != NULL; /* f(y) goes to act's output; dy is still used */
}

static void bn_describe(const nn_node *v, char *buf, size_t size)
{
    const bn_op *d = v->priv;
    snprintf(buf, size, "channels=%d", d->c);
}

static const nn_op bn_vt = {
    .name = "batchnorm", .forward = bn_forward, .backward = bn_backward,
    .describe = bn_describe, .absorb = bn_absorb, .writes_strided = true,
};

int advc_batchnorm(advc_graph *g, const char *name, int x)
{
    nn_node *u = nn_get(g, x, "batchnorm");
    if (!u) return -1;
    bn_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "batchnorm: out of memory");
    d->c = u->shape.c;
    d->hw = u->shape.h * u->shape.w;
    nn_node *v = nn_add(g, &bn_vt, name, &u, 1, u->shape, d);
    if (!v) return -1;
    int dims[1] = { d->c };
    bool ok = nn_param(g, v, "gamma", ADVC_TENSOR_BIAS, NN_INIT_ONE, 0, 1,
                       dims, &d->gamma, &d->dgamma) &&
              nn_param(g, v, "beta", ADVC_TENSOR_BIAS, NN_INIT_ZERO, 0, 1,
                       dims, &d->beta, &d->dbeta) &&
              nn_param(g, v, "running_mean", ADVC_TENSOR_STATE, NN_INIT_ZERO,
                       0, 1, dims, &d->rmean, NULL) &&
              nn_param(g, v, "running_var", ADVC_TENSOR_STATE, NN_INIT_ONE, 0,
                       1, dims, &d->rvar, NULL) &&
              nn_aux_floats(g, &d->mean, (size_t)d->c, 0) &&
              nn_aux_floats(g, &d->invstd, (size_t)d->c, 0);
    return ok ? v->id : -1;
}
