/* add.c: elementwise sum of two nodes of the same shape (residual
 * connections).
 *   forward   y = a + b
 *   backward  da += dy,  db += dy
 * When the activation after it is fused here (nn_op.absorb: a ResNet
 * block's final act), forward writes f(a + b) straight to the
 * activation's output, and backward computes g = dL/d(f) * r'(a + b) once
 * (a + b recomputed) and adds it to both inputs' gradients: y and dy are
 * never stored, the same bits.
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <stdlib.h>
#include "../graph_internal.h"

/* Values per block with a fused activation: a + b of a block goes to a
 * stack buffer, then the activation kernel runs on it. */
enum { ACT_BLOCK = 256 };

typedef struct {
    nn_node *act;       /* the activation applied here, or NULL */
} add_op;

typedef struct {
    const float *a, *b; /* (n, shape) */
    float *y;           /* (n, shape): the sum, or f(sum) when fused */
    advc_act_spec f;    /* fused: the forward function or backward rule */
    const float *dy;    /* fused backward: dL/d(f(sum))              */
    float *da, *db;     /* fused backward: the inputs' gradients     */
    bool acc_a, acc_b;  /* add to them (else overwrite)              */
} add_job;

/* y = a + b, n values, in blocks of 8 so the compiler vectorises them
 * (see batchnorm.c). */
static inline void sum_run(float *restrict y, const float *restrict a,
                           const float *restrict b, size_t n)
{
    size_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int k = 0; k < 8; k++) y[q + k] = a[q + k] + b[q + k];
    for (; q < n; q++) y[q] = a[q] + b[q];
}

/* d = g, or d += g when acc, n values */
static inline void put_run(float *restrict d, const float *restrict g,
                           size_t n, bool acc)
{
    size_t q = 0;
    if (acc) {
        for (; q + 8 <= n; q += 8)
            for (int k = 0; k < 8; k++) d[q + k] += g[q + k];
        for (; q < n; q++) d[q] += g[q];
        return;
    }
    for (; q + 8 <= n; q += 8)
        for (int k = 0; k < 8; k++) d[q + k] = g[q + k];
    for (; q < n; q++) d[q] = g[q];
}

static void add_range(void *p, size_t lo, size_t hi, int t)
{
    const add_job *j = p;
    (void)t;
    sum_run(j->y + lo, j->a + lo, j->b + lo, hi - lo);
}

/* y = f(a + b) over [lo, hi), a block at a time. */
static void add_act_range(void *p, size_t lo, size_t hi, int t)
{
    const add_job *j = p;
    float s[ACT_BLOCK];
    (void)t;
    for (size_t q0 = lo; q0 < hi; q0 += ACT_BLOCK) {
        size_t len = hi - q0 < ACT_BLOCK ? hi - q0 : ACT_BLOCK;
        sum_run(s, j->a + q0, j->b + q0, len);
        advc_act_forward(j->f.f, j->f.alpha, len, s, j->y + q0);
    }
}

/* g = dy * r'(a + b); da (+)= g, db (+)= g over [lo, hi).  da and db may
 * be one buffer (y = x + x): then it is written, then added to. */
static void add_act_grad_range(void *p, size_t lo, size_t hi, int t)
{
    const add_job *j = p;
    float s[ACT_BLOCK], g[ACT_BLOCK];
    (void)t;
    for (size_t q0 = lo; q0 < hi; q0 += ACT_BLOCK) {
        size_t len = hi - q0 < ACT_BLOCK ? hi - q0 : ACT_BLOCK;
        sum_run(s, j->a + q0, j->b + q0, len);
        advc_act_backward(j->f.f, j->f.alpha, len, s, j->dy + q0, g);
        put_run(j->da + q0, g, len, j->acc_a);
        put_run(j->db + q0, g, len, j->acc_b);
    }
}

static void add_forward(nn_node *v, const nn_ctx *c)
{
    const add_op *d = v->priv;
    add_job j = { v->in[0]->y, v->in[1]->y, v->y, { 0, 0 }, NULL, NULL,
                  NULL, false, false };
    size_t count = (size_t)c->n * nn_size(v);
    if (!d->act) {
        nn_parallel(c->pool, count, 16, (size_t)1 << 15, add_range, &j);
        return;
    }
    j.y = d->act->y;
    j.f = nn_act_spec(d->act);
    nn_parallel(c->pool, count, 16, (size_t)1 << 15, add_act_range, &j);
}

static void add_backward(nn_node *v, const nn_ctx *c)
{
    const add_op *d = v->priv;
    size_t count = (size_t)c->n * nn_size(v);
    if (!d->act) {
        for (int i = 0; i < 2; i++) {
            bool acc;
            float *dx = nn_input_grad(v, i, &acc);
            nn_copy_or_add(c->pool, count, v->dy, dx, acc);
        }
        return;
    }
    add_job j = { v->in[0]->y, v->in[1]->y, NULL, nn_act_rule(d->act, c),
                  d->act->dy, NULL, NULL, false, false };
    j.da = nn_input_grad(v, 0, &j.acc_a);
    j.db = nn_input_grad(v, 1, &j.acc_b);
    nn_parallel(c->pool, count, 16, (size_t)1 << 15, add_act_grad_range, &j);
}

static void add_absorb(nn_node *v, nn_node *act)
{
    add_op *d = v->priv;
    if (d->act) nn_act_fuse(d->act, false);
    d->act = act;
    if (act) nn_act_fuse(act, true);
    v->no_y = v->no_dy = act != NULL; /* act's y and dy are used instead */
}

static const nn_op add_vt = {
    .name = "add", .forward = add_forward, .backward = add_backward,
    .absorb = add_absorb,
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
    add_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "add: out of memory");
    nn_node *v = nn_add(g, &add_vt, NULL, in, 2, sa, d);
    return v ? v->id : -1;
}
