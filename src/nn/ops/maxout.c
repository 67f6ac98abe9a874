/* maxout.c: a dense layer to units*pieces values, then the max over each
 * unit's pieces (Goodfellow et al. 2013).
 *   forward   z = x W^T + b,  y_u = max_j z_(u*pieces + j),  a_u = argmax
 *   backward  dz = dy scattered to the argmax pieces (0 elsewhere), then
 *             dx = dz W;  dW += dz^T x,  db += sum_rows dz  (UPDATE only)
 * x (n, in), W (units*pieces, in), b (units*pieces), y (n, units).
 * z and dz live in the workspace; only the argmax is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../graph_internal.h"

typedef struct {
    int in, units, pieces;
    float *w, *dw;  /* (units*pieces, in) */
    float *b, *db;  /* (units*pieces)     */
    int32_t *arg;   /* (batch, units) winning piece j of each unit */
} maxout_op;

static size_t maxout_workspace(const nn_node *v, int batch, int nthreads)
{
    const maxout_op *d = v->priv;
    (void)nthreads;
    return (size_t)batch * d->units * d->pieces;
}

static void maxout_forward(nn_node *v, const nn_ctx *c)
{
    maxout_op *d = v->priv;
    int m = d->units * d->pieces;
    float *z = c->ws; /* (n, units*pieces) */
    for (int i = 0; i < c->n; i++) /* z starts as b; the GEMM adds x W^T */
        memcpy(z + (size_t)i * m, d->b, (size_t)m * sizeof *z);
    advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_TRANS, c->n, m, d->in,
               v->in[0]->y, d->in, d->w, d->in, true, z, m);
    for (size_t u = 0; u < (size_t)c->n * d->units; u++) {
        const float *zu = z + u * d->pieces;
        int best = 0;
        for (int j = 1; j < d->pieces; j++)
            if (zu[j] > zu[best]) best = j;
        v->y[u] = zu[best];
        d->arg[u] = best;
    }
}

static void maxout_backward(nn_node *v, const nn_ctx *c)
{
    maxout_op *d = v->priv;
    int m = d->units * d->pieces;
    const float *x = v->in[0]->y; /* (n, in) */
    float *dz = c->ws;            /* (n, units*pieces) */
    memset(dz, 0, (size_t)c->n * m * sizeof *dz);
    for (size_t u = 0; u < (size_t)c->n * d->units; u++)
        dz[u * d->pieces + (size_t)d->arg[u]] = v->dy[u];
    if (c->pass == ADVC_PASS_UPDATE) {
        advc_sgemm(c->pool, ADVC_TRANS, ADVC_NOTRANS, m, d->in, c->n, dz, m,
                   x, d->in, !c->fresh_grads, d->dw, d->in);
        if (c->fresh_grads)
            for (int k = 0; k < m; k++) d->db[k] = 0.0f;
        for (int i = 0; i < c->n; i++)
            advc_axpy((size_t)m, 1.0f, dz + (size_t)i * m, d->db);
    }
    bool acc;
    float *dx = nn_input_grad(v, 0, &acc);
    advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_NOTRANS, c->n, d->in, m, dz, m,
               d->w, d->in, acc, dx, d->in);
}

static void maxout_describe(const nn_node *v, char *buf, size_t size)
{
    const maxout_op *d = v->priv;
    snprintf(buf, size, "in=%d units=%d pieces=%d", d->in, d->units,
             d->pieces);
}

/* z = W x for every piece: units * pieces * in */
static double maxout_macs(const nn_node *v)
{
    const maxout_op *d = v->priv;
    return (double)d->units * d->pieces * d->in;
}

static const nn_op maxout_vt = {
    .name = "maxout", .forward = maxout_forward, .backward = maxout_backward,
    .workspace = maxout_workspace, .describe = maxout_describe,
    .macs = maxout_macs,
};

int advc_maxout(advc_graph *g, const char *name, int x, int units,
                int pieces)
{
    nn_node *u = nn_get(g, x, "maxout");
    if (!u) return -1;
    if (units <= 0 || pieces <= 0)
        return nn_fail(g, "maxout: units %d and pieces %d must be positive",
                       units, pieces);
    size_t in = nn_size(u);
    if (in > (size_t)1 << 30 || (size_t)units * pieces > (size_t)1 << 30)
        return nn_fail(g, "maxout: %zu inputs x %d units x %d pieces is too "
                       "large", in, units, pieces);
    maxout_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "maxout: out of memory");
    d->in = (int)in;
    d->units = units;
    d->pieces = pieces;
    nn_node *v = nn_add(g, &maxout_vt, name, &u, 1,
                        (advc_shape){ units, 1, 1 }, d);
    if (!v) return -1;
    int wd[2] = { units * pieces, d->in }, bd[1] = { units * pieces };
    bool ok = nn_param(g, v, "w", ADVC_TENSOR_WEIGHT, NN_INIT_WEIGHT, d->in, 2,
                       wd, &d->w, &d->dw) &&
              nn_param(g, v, "b", ADVC_TENSOR_BIAS, NN_INIT_BIAS, d->in, 1,
                       bd, &d->b, &d->db) &&
              nn_aux_ints(g, &d->arg, 0, (size_t)units);
    return ok ? v->id : -1;
}
