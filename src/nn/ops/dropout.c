/* dropout.c: inverted dropout (Srivastava et al. 2014).
 *   train     y = x * m / (1 - p),   m ~ Bernoulli(1 - p), kept for backward
 *             dx = dy * m / (1 - p)
 *   eval      y = x,                 dx = dy
 * The mask of sample i is drawn from its own PCG stream keyed by (graph
 * seed, forward step, node id, i), so it does not depend on the thread
 * count or on which thread draws it.
 */
#include <stdio.h>
#include <stdlib.h>
#include "../graph_internal.h"

typedef struct {
    float p;
    uint8_t *mask; /* (batch, shape) 1 = kept (aux) */
} dropout_op;

typedef struct {
    const dropout_op *d;
    const nn_ctx *c;
    int id;
    size_t size;         /* values per sample */
    const float *x, *dy; /* (n, shape) */
    float *y, *dx;       /* (n, shape) */
    bool acc;
} dropout_job;

/* SplitMix64's finaliser (Steele et al. 2014): a bijective mix of 64 bits. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void forward_samples(void *p, size_t lo, size_t hi, int t)
{
    const dropout_job *j = p;
    float keep = 1.0f - j->d->p, scale = 1.0f / keep;
    uint64_t key = mix64(j->c->seed ^ mix64(j->c->step ^
                                            mix64((uint64_t)j->id)));
    (void)t;
    for (size_t i = lo; i < hi; i++) {
        advc_rng r;
        advc_rng_seed(&r, key, (uint64_t)i);
        const float *x = j->x + i * j->size;
        float *y = j->y + i * j->size;
        uint8_t *m = j->d->mask + i * j->size;
        for (size_t q = 0; q < j->size; q++) {
            m[q] = advc_rng_uniform(&r) < keep;
            y[q] = m[q] ? x[q] * scale : 0.0f;
        }
    }
}

static void backward_samples(void *p, size_t lo, size_t hi, int t)
{
    const dropout_job *j = p;
    float scale = 1.0f / (1.0f - j->d->p);
    (void)t;
    for (size_t q = lo * j->size; q < hi * j->size; q++) {
        float g = j->d->mask[q] ? j->dy[q] * scale : 0.0f;
        j->dx[q] = j->acc ? j->dx[q] + g : g;
    }
}

static void dropout_forward(nn_node *v, const nn_ctx *c)
{
    size_t size = nn_size(v);
    if (c->mode != ADVC_MODE_TRAIN) {
        nn_copy_or_add(c->pool, (size_t)c->n * size, v->in[0]->y, v->y,
                       false);
        return;
    }
    dropout_job j = { v->priv, c, v->id, size, v->in[0]->y, NULL, v->y,
                      NULL, false };
    nn_parallel(c->pool, (size_t)c->n, 1, 1 + ((size_t)1 << 14) / size,
                forward_samples, &j);
}

static void dropout_backward(nn_node *v, const nn_ctx *c)
{
    size_t size = nn_size(v);
    bool acc;
    float *dx = nn_input_grad(v, 0, &acc);
    if (c->mode != ADVC_MODE_TRAIN) {
        nn_copy_or_add(c->pool, (size_t)c->n * size, v->dy, dx, acc);
        return;
    }
    dropout_job j = { v->priv, c, v->id, size, NULL, v->dy, NULL, dx, acc };
    nn_parallel(c->pool, (size_t)c->n, 1, 1 + ((size_t)1 << 14) / size,
                backward_samples, &j);
}

static void dropout_describe(const nn_node *v, char *buf, size_t size)
{
    const dropout_op *d = v->priv;
    snprintf(buf, size, "p=%g", (double)d->p);
}

static const nn_op dropout_vt = {
    .name = "dropout", .forward = dropout_forward,
    .backward = dropout_backward, .describe = dropout_describe,
};

int advc_dropout(advc_graph *g, int x, float p)
{
    nn_node *u = nn_get(g, x, "dropout");
    if (!u) return -1;
    if (!(p >= 0.0f && p < 1.0f))
        return nn_fail(g, "dropout: p = %g is not in [0, 1)", (double)p);
    dropout_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "dropout: out of memory");
    d->p = p;
    nn_node *v = nn_add(g, &dropout_vt, NULL, &u, 1, u->shape, d);
    if (!v) return -1;
    return nn_aux_bytes(g, &d->mask, 0, nn_size(u)) ? v->id : -1;
}
