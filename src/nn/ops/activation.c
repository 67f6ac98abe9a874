/* activation.c: an elementwise activation, y = f(x).
 *   forward   y = f(x)
 *   backward  dx = dy * r'(x), r = f unless the graph overrides the rule
 *             for this pass kind and f (advc_graph_set_backward_act), e.g.
 *             forward relu, backward psoftplus(a=10)' = sigmoid(10 x).
 * The kernels take the forward INPUT x, which is what makes the override
 * possible.  Threads take fixed contiguous ranges of the n*size values.
 * When the input's op applies the activation itself (batch norm, add:
 * nn_op.absorb), this node only passes through: its input's op writes y
 * and reads dy.  When y is a concat's slice (place.c), threads take whole
 * samples instead, y and dy ld apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include "../graph_internal.h"

typedef struct {
    advc_act_spec act;
    bool fused;      /* the input's op computes y and uses dy itself */
} act_op;

typedef struct {
    advc_act_spec rule;
    const float *x;  /* (n, shape) forward input  */
    float *y;        /* (n, shape) forward output, ld apart */
    float *dy, *dx;  /* (n, shape), dy ld apart             */
    bool acc;
    size_t size, ld; /* values per sample; from one y (dy) to the next */
} act_job;

/* Values per part: elementwise work is cheap, so parts are large. */
#define ACT_GRAIN ((size_t)1 << 15)

static void forward_range(void *p, size_t lo, size_t hi, int t)
{
    const act_job *j = p;
    (void)t;
    advc_act_forward(j->rule.f, j->rule.alpha, hi - lo, j->x + lo, j->y + lo);
}

/* dx (+)= dy * r'(x) over len values */
static void backward_values(const act_job *j, size_t len, const float *x,
                            float *dy, float *dx)
{
    if (!j->acc) {
        advc_act_backward(j->rule.f, j->rule.alpha, len, x, dy, dx);
        return;
    }
    /* dy is not needed after this node: scale it in place, then add. */
    advc_act_backward(j->rule.f, j->rule.alpha, len, x, dy, dy);
    advc_axpy(len, 1.0f, dy, dx);
}

static void backward_range(void *p, size_t lo, size_t hi, int t)
{
    const act_job *j = p;
    (void)t;
    backward_values(j, hi - lo, j->x + lo, j->dy + lo, j->dx + lo);
}

/* Samples [lo, hi), y and dy ld apart (a placed node). */
static void forward_samples(void *p, size_t lo, size_t hi, int t)
{
    const act_job *j = p;
    (void)t;
    for (size_t i = lo; i < hi; i++)
        advc_act_forward(j->rule.f, j->rule.alpha, j->size,
                         j->x + i * j->size, j->y + i * j->ld);
}

static void backward_samples(void *p, size_t lo, size_t hi, int t)
{
    const act_job *j = p;
    (void)t;
    for (size_t i = lo; i < hi; i++)
        backward_values(j, j->size, j->x + i * j->size, j->dy + i * j->ld,
                        j->dx + i * j->size);
}

/* Runs the job over the pass's values: contiguous ranges, or samples
 * when y is ld apart. */
static void act_run(const nn_node *v, const nn_ctx *c, act_job *j,
                    nn_range_fn values, nn_range_fn samples)
{
    j->size = nn_size(v);
    j->ld = v->ld;
    if (j->ld == j->size)
        nn_parallel(c->pool, (size_t)c->n * j->size, 16, ACT_GRAIN, values,
                    j);
    else
        nn_parallel(c->pool, (size_t)c->n, 1, 1 + ACT_GRAIN / j->size,
                    samples, j);
}

static void act_forward(nn_node *v, const nn_ctx *c)
{
    const act_op *d = v->priv;
    if (d->fused) return; /* the input's op wrote y */
    act_job j = { d->act, v->in[0]->y, v->y, NULL, NULL, false, 0, 0 };
    act_run(v, c, &j, forward_range, forward_samples);
}

advc_act_spec nn_act_rule(const nn_node *v, const nn_ctx *c)
{
    const act_op *d = v->priv;
    advc_act_spec rule = c->bact[d->act.f];
    return rule.f == ADVC_ACT_COUNT ? d->act : rule;
}

static void act_backward(nn_node *v, const nn_ctx *c)
{
    const act_op *d = v->priv;
    act_job j = { nn_act_rule(v, c), v->in[0]->y, NULL, v->dy, NULL, false,
                  0, 0 };
    j.dx = nn_input_grad(v, 0, &j.acc);
    if (d->fused) return; /* the input's op reads dy (marked live above) */
    act_run(v, c, &j, backward_range, backward_samples);
}

/* Incremental forward (forward_patch.c): y = f(x) on the same rectangle,
 * a row at a time. */
static bool act_reach(const nn_node *v, const advc_rect *in, advc_rect *out)
{
    const act_op *d = v->priv;
    *out = *in;
    return !d->fused; /* a fused node's y is written by its input's op */
}

/* Items [j, *end)'s rectangles (all channels) fit cap floats, or just
 * item j's when it alone does not. */
static size_t act_group(const nn_node *v, const nn_patch_item *it, int j,
                        int m, size_t cap, int *end)
{
    size_t c = (size_t)v->shape.c, n = c * nn_rect_pixels(&it[j].r);
    int e = j + 1;
    while (e < m && n + c * nn_rect_pixels(&it[e].r) <= cap)
        n += c * nn_rect_pixels(&it[e++].r);
    *end = e;
    return n;
}

/* The rectangles of a group of items are gathered, activated in one call
 * (the kernel's per-call set-up cost as much as a 3-float row) and put
 * back; the kernel is elementwise with the same code in every lane, so
 * the bits do not depend on where a value sits. */
static void act_patch(const nn_node *v, const nn_patch_item *it, int m,
                      float *scratch, size_t nscratch)
{
    const act_op *d = v->priv;
    for (int j = 0, e; j < m; j = e) {
        size_t n = act_group(v, it, j, m, nscratch, &e);
        float *b = scratch;
        for (int q = j; q < e; q++)
            b = nn_rect_copy((float *)it[q].x, v->shape, &it[q].r, b, true);
        advc_act_forward(d->act.f, d->act.alpha, n, scratch, scratch);
        b = scratch;
        for (int q = j; q < e; q++)
            b = nn_rect_copy(it[q].y, v->shape, &it[q].r, b, false);
    }
}

/* Room for one item's rectangle, all channels. */
static size_t act_patch_floats(const nn_node *v, size_t pixels)
{
    return (size_t)v->shape.c * pixels;
}

static void act_describe(const nn_node *v, char *buf, size_t size)
{
    const act_op *d = v->priv;
    if (d->act.f == ADVC_ACT_PSOFTPLUS)
        snprintf(buf, size, "%s a=%g%s", advc_act_name(d->act.f),
                 (double)d->act.alpha, d->fused ? " fused" : "");
    else
        snprintf(buf, size, "%s%s", advc_act_name(d->act.f),
                 d->fused ? " fused" : "");
}

static const nn_op act_vt = {
    .name = "act", .forward = act_forward, .backward = act_backward,
    .describe = act_describe, .reach = act_reach, .patch = act_patch,
    .patch_floats = act_patch_floats, .writes_strided = true,
};

bool nn_is_act(const nn_node *v) { return v->op == &act_vt; }

bool nn_act_fused(const nn_node *v)
{
    return ((const act_op *)v->priv)->fused;
}

void nn_act_fuse(nn_node *v, bool fused)
{
    ((act_op *)v->priv)->fused = fused;
}

advc_act_spec nn_act_spec(const nn_node *v)
{
    return ((const act_op *)v->priv)->act;
}

int advc_activation(advc_graph *g, int x, advc_act_spec act)
{
    nn_node *u = nn_get(g, x, "activation");
    if (!u) return -1;
    if ((int)act.f < 0 || act.f >= ADVC_ACT_COUNT)
        return nn_fail(g, "activation: unknown function %d", (int)act.f);
    if (act.f == ADVC_ACT_PSOFTPLUS && !(act.alpha > 0.0f))
        return nn_fail(g, "activation: psoftplus needs alpha > 0 (got %g)",
                       (double)act.alpha);
    act_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "activation: out of memory");
    d->act = act;
    nn_node *v = nn_add(g, &act_vt, NULL, &u, 1, u->shape, d);
    return v ? v->id : -1;
}
