/* add.c: elementwise sum of two nodes of the same shape (residual
 * connections).
 *   forward   y = a + b
 *   backward  da += dy,  db += dy
 */
#include "../graph_internal.h"

typedef struct {
    const float *a, *b; /* (n, shape) */
    float *y;           /* (n, shape) */
} add_job;

static void add_range(void *p, size_t lo, size_t hi, int t)
{
    const add_job *j = p;
    (void)t;
    for (size_t q = lo; q < hi; q++) j->y[q] = j->a[q] + j->b[q];
}

static void add_forward(nn_node *v, const nn_ctx *c)
{
    add_job j = { v->in[0]->y, v->in[1]->y, v->y };
    nn_parallel(c->pool, (size_t)c->n * nn_size(v), 16, (size_t)1 << 15,
                add_range, &j);
}

static void add_backward(nn_node *v, const nn_ctx *c)
{
    size_t count = (size_t)c->n * nn_size(v);
    for (int i = 0; i < 2; i++) {
        bool acc;
        float *dx = nn_input_grad(v, i, &acc);
        nn_copy_or_add(c->pool, count, v->dy, dx, acc);
    }
}

static const nn_op add_vt = {
    .name = "add", .forward = add_forward, .backward = add_backward,
};

int advc_add(advc_graph *g, int a, int b)
{
    nn_node *in[2] = { nn_get(g, a, "add"), nn_get(g, b, "add") };
    if (!in[0] || !in[1]) return -1;
    advc_shape sa = in[0]->shape, sb = in[1]->shape;
    if (sa.c != sb.c || sa.h != sb.h || sa.w != sb.w)
        return nn_fail(g, "add: shapes (%d,%d,%d) of node %d and (%d,%d,%d) "
                       "of node %d differ", sa.c, sa.h, sa.w, a, sb.c, sb.h,
                       sb.w, b);
    nn_node *v = nn_add(g, &add_vt, NULL, in, 2, sa, NULL);
    return v ? v->id : -1;
}
