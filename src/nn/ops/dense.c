/* dense.c: the fully connected layer; x is flattened per sample.
 *   forward   y = x W^T + b                       (GEMM NT)
 *   backward  dx = dy W                           (GEMM NN)
 *             dW += dy^T x,  db += sum_rows dy    (GEMM TN; UPDATE only)
 * x (n, in), W (out, in), b (out), y (n, out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../graph_internal.h"

typedef struct {
    int in, out;
    float *w, *dw; /* (out, in)           */
    float *b, *db; /* (out), NULL if none */
} dense_op;

static void dense_forward(nn_node *v, const nn_ctx *c)
{
    const dense_op *d = v->priv;
    const float *x = v->in[0]->y; /* (n, in)  */
    float *y = v->y;              /* (n, out) */
    if (d->b) /* y starts as b; the GEMM adds x W^T */
        for (int i = 0; i < c->n; i++)
            memcpy(y + (size_t)i * d->out, d->b, (size_t)d->out * sizeof *y);
    advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_TRANS, c->n, d->out, d->in, x,
               d->in, d->w, d->in, d->b != NULL, y, d->out);
}

static void dense_backward(nn_node *v, const nn_ctx *c)
{
    const dense_op *d = v->priv;
    const float *x = v->in[0]->y; /* (n, in)  */
    const float *dy = v->dy;      /* (n, out) */
    if (c->pass == ADVC_PASS_UPDATE) {
        advc_sgemm(c->pool, ADVC_TRANS, ADVC_NOTRANS, d->out, d->in, c->n, dy,
                   d->out, x, d->in, !c->fresh_grads, d->dw, d->in);
        if (d->b) {
            if (c->fresh_grads)
                for (int k = 0; k < d->out; k++) d->db[k] = 0.0f;
            for (int i = 0; i < c->n; i++)
                advc_axpy((size_t)d->out, 1.0f, dy + (size_t)i * d->out,
                          d->db);
        }
    }
    bool acc;
    float *dx = nn_input_grad(v, 0, &acc); /* (n, in) */
    advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_NOTRANS, c->n, d->in, d->out, dy,
               d->out, d->w, d->in, acc, dx, d->in);
}

static void dense_describe(const nn_node *v, char *buf, size_t size)
{
    const dense_op *d = v->priv;
    snprintf(buf, size, "in=%d out=%d%s", d->in, d->out,
             d->b ? "" : " nobias");
}

static double dense_macs(const nn_node *v) /* y = W x: out * in */
{
    const dense_op *d = v->priv;
    return (double)d->out * d->in;
}

static const nn_op dense_vt = {
    .name = "dense", .forward = dense_forward, .backward = dense_backward,
    .describe = dense_describe, .macs = dense_macs,
};

int advc_dense(advc_graph *g, const char *name, int x, int out, bool bias)
{
    nn_node *u = nn_get(g, x, "dense");
    if (!u) return -1;
    if (out <= 0)
        return nn_fail(g, "dense: out = %d is not positive", out);
    size_t in = nn_size(u);
    if (in > (size_t)1 << 30)
        return nn_fail(g, "dense: %zu inputs is too many", in);
    dense_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "dense: out of memory");
    d->in = (int)in;
    d->out = out;
    nn_node *v = nn_add(g, &dense_vt, name, &u, 1, (advc_shape){ out, 1, 1 },
                        d);
    if (!v) return -1;
    int wd[2] = { out, d->in }, bd[1] = { out };
    if (!nn_param(g, v, "w", ADVC_TENSOR_WEIGHT, NN_INIT_WEIGHT, d->in, 2, wd,
                  &d->w, &d->dw))
        return -1;
    if (bias && !nn_param(g, v, "b", ADVC_TENSOR_BIAS, NN_INIT_BIAS, d->in,
                          1, bd, &d->b, &d->db))
        return -1;
    return v->id;
}
