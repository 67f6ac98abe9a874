/* mean.c: the elementwise mean of n nodes of the same shape (an
 * ensemble's averaged logits).
 *   forward   y = (1/n) sum_i x_i
 *   backward  dx_i += dy / n
 */
#include <stdlib.h>
#include "../graph_internal.h"

typedef struct {
    int n;
} mean_op;

static void mean_forward(nn_node *v, const nn_ctx *c)
{
    const mean_op *op = v->priv;
    size_t count = (size_t)c->n * nn_size(v);
    float inv = 1.0f / (float)op->n;
    for (size_t q = 0; q < count; q++) {
        float sum = 0.0f;
        for (int i = 0; i < op->n; i++) sum += v->in[i]->y[q];
        v->y[q] = sum * inv;
    }
}

static void mean_backward(nn_node *v, const nn_ctx *c)
{
    const mean_op *op = v->priv;
    size_t count = (size_t)c->n * nn_size(v);
    float inv = 1.0f / (float)op->n;
    for (int i = 0; i < op->n; i++) {
        bool acc;
        float *dx = nn_input_grad(v, i, &acc);
        for (size_t q = 0; q < count; q++)
            dx[q] = (acc ? dx[q] : 0.0f) + v->dy[q] * inv;
    }
}

static const nn_op mean_vt = { "mean", mean_forward, mean_backward, NULL,
                               NULL, NULL };

int advc_mean(advc_graph *g, const int *xs, int n)
{
    if (n < 1) return nn_fail(g, "mean: no inputs");
    nn_node **in = malloc((size_t)n * sizeof *in);
    mean_op *op = malloc(sizeof *op);
    if (!in || !op) {
        free(in), free(op);
        return nn_fail(g, "mean: out of memory");
    }
    for (int i = 0; i < n; i++) {
        in[i] = nn_get(g, xs[i], "mean");
        if (!in[i]) {
            free(in), free(op);
            return -1;
        }
        advc_shape a = in[0]->shape, b = in[i]->shape;
        if (a.c != b.c || a.h != b.h || a.w != b.w) {
            free(in), free(op);
            return nn_fail(g, "mean: shapes of nodes %d and %d differ",
                           xs[0], xs[i]);
        }
    }
    op->n = n;
    nn_node *v = nn_add(g, &mean_vt, NULL, in, n, in[0]->shape, op);
    free(in);
    return v ? v->id : -1;
}
