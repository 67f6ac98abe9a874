/* concat.c: channel concatenation of n inputs with equal h, w (MSDNet's
 * dense connectivity).
 *   forward   y_i = [x0_i; x1_i; ...]           per sample i
 *   backward  dxj_i += dy_i[channels of xj]
 * An input placed in the output (place.c) is already there, its gradient
 * too: both passes skip it.  The others are copied.  Threads take whole
 * samples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../graph_internal.h"

/* Up to this many inputs: the accumulate flags live on the stack. */
#define CONCAT_MAX 256

typedef struct {
    const nn_node *v;
    bool acc[CONCAT_MAX];
    float *dx[CONCAT_MAX];
} concat_job;

static void forward_samples(void *p, size_t lo, size_t hi, int t)
{
    const concat_job *j = p;
    const nn_node *v = j->v;
    (void)t;
    for (size_t i = lo; i < hi; i++) {
        float *y = nn_y_at(v, i);
        for (int k = 0; k < v->nin; k++) {
            const nn_node *u = v->in[k];
            size_t sk = nn_size(u);
            if (u->place != v) memcpy(y, nn_y_at(u, i), sk * sizeof *y);
            y += sk;
        }
    }
}

/* Within a sample the inputs are written in order, so an input listed
 * twice is overwritten by its first slice and added to by its second. */
static void backward_samples(void *p, size_t lo, size_t hi, int t)
{
    const concat_job *j = p;
    const nn_node *v = j->v;
    (void)t;
    for (size_t i = lo; i < hi; i++) {
        const float *dy = nn_dy_at(v, i);
        for (int k = 0; k < v->nin; k++) {
            size_t sk = nn_size(v->in[k]);
            if (j->dx[k]) { /* else placed: dy is dx */
                float *dx = j->dx[k] + i * v->in[k]->ld;
                if (j->acc[k]) advc_axpy(sk, 1.0f, dy, dx);
                else memcpy(dx, dy, sk * sizeof *dx);
            }
            dy += sk;
        }
    }
}

/* How many of v's inputs are placed in it. */
static int placed(const nn_node *v)
{
    int n = 0;
    for (int k = 0; k < v->nin; k++) n += v->in[k]->place == v;
    return n;
}

static size_t concat_grain(const nn_node *v)
{
    return 1 + ((size_t)1 << 14) / nn_size(v);
}

static void concat_forward(nn_node *v, const nn_ctx *c)
{
    concat_job j;
    j.v = v;
    if (placed(v) == v->nin) return; /* every input wrote its slice */
    nn_parallel(c->pool, (size_t)c->n, 1, concat_grain(v), forward_samples,
                &j);
}

static void concat_backward(nn_node *v, const nn_ctx *c)
{
    concat_job j;
    j.v = v;
    if (placed(v) == v->nin) return; /* every slice is its input's dx */
    for (int k = 0; k < v->nin; k++)
        j.dx[k] = v->in[k]->place == v ? NULL
                                       : nn_input_grad(v, k, &j.acc[k]);
    nn_parallel(c->pool, (size_t)c->n, 1, concat_grain(v), backward_samples,
                &j);
}

static void concat_describe(const nn_node *v, char *buf, size_t size)
{
    snprintf(buf, size, "inputs=%d in place=%d", v->nin, placed(v));
}

static bool concat_reads_strided(const nn_node *v)
{
    (void)v;
    return true;
}

static const nn_op concat_vt = {
    .name = "concat", .forward = concat_forward, .backward = concat_backward,
    .describe = concat_describe, .reads_strided = concat_reads_strided,
    .writes_strided = true,
};

bool nn_is_concat(const nn_node *v) { return v->op == &concat_vt; }

int advc_concat(advc_graph *g, const int *xs, int n)
{
    if (!xs || n < 1 || n > CONCAT_MAX)
        return nn_fail(g, "concat: %d inputs (need 1 to %d)", n, CONCAT_MAX);
    nn_node **in = malloc((size_t)n * sizeof *in);
    if (!in) return nn_fail(g, "concat: out of memory");
    long c = 0;
    for (int k = 0; k < n; k++) {
        in[k] = nn_get(g, xs[k], "concat");
        if (!in[k]) {
            free(in);
            return -1;
        }
        if (in[k]->shape.h != in[0]->shape.h ||
            in[k]->shape.w != in[0]->shape.w) {
            int id0 = xs[0], h0 = in[0]->shape.h, w0 = in[0]->shape.w;
            int hk = in[k]->shape.h, wk = in[k]->shape.w;
            free(in);
            return nn_fail(g, "concat: node %d is %dx%d but node %d is %dx%d",
                           xs[k], hk, wk, id0, h0, w0);
        }
        c += in[k]->shape.c;
    }
    advc_shape s = { (int)(c < (1L << 30) ? c : 0), in[0]->shape.h,
                     in[0]->shape.w };
    nn_node *v = nn_add(g, &concat_vt, NULL, in, n, s, NULL);
    free(in);
    return v ? v->id : -1;
}
