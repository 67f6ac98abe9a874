/* optim.c: SGD (plain, momentum, Nesterov) and Adam over a compiled graph's
 * parameter slab.  The optimizer keeps one entry per trainable tensor (its
 * range of the slab and its L2 strength) and applies the flat update
 * kernels (advc_sgd_update / advc_adam_update) range by range.  Its state
 * (momentum, Adam moments) is allocated once, at creation.
 * Not here: learning-rate schedules (schedule.c), gradient computation.
 */
#include "advc/optim.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One trainable tensor: w[offset, offset + count) of the params slab. */
typedef struct {
    int tensor;     /* index in the graph's tensor table */
    size_t offset, count;
    float wd;       /* L2 strength: g' = g + wd w */
} opt_range;

struct advc_optimizer {
    advc_graph *g;
    advc_opt_config cfg;
    size_t nparams;   /* length of the params slab at creation */
    int nranges;
    opt_range *ranges;
    float *m;         /* (nparams) SGD velocity, or Adam first moment    */
    float *v;         /* (nparams) Adam second moment; NULL for SGD      */
    long steps;       /* updates made so far; Adam's t for the next is
                         steps + 1 (bias correction needs t >= 1)       */
};

advc_opt_config advc_opt_defaults(advc_opt_kind kind)
{
    advc_opt_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.momentum = kind == ADVC_OPT_SGD ? 0.9f : 0.0f;
    c.nesterov = false;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.weight_decay = 0.0f;
    return c;
}

/* True if x is finite and in [lo, hi). */
static bool in_range(float x, float lo, float hi)
{
    return isfinite(x) && x >= lo && x < hi;
}

static advc_status check_config(const advc_opt_config *c)
{
    if (c->kind != ADVC_OPT_SGD && c->kind != ADVC_OPT_ADAM)
        return advc_set_error(ADVC_ERR_ARG, "optimizer: unknown kind %d",
                              (int)c->kind);
    if (!in_range(c->weight_decay, 0.0f, INFINITY))
        return advc_set_error(ADVC_ERR_ARG,
                              "optimizer: weight decay %g must be finite "
                              "and >= 0", (double)c->weight_decay);
    if (c->kind == ADVC_OPT_SGD) {
        if (!in_range(c->momentum, 0.0f, 1.0f))
            return advc_set_error(ADVC_ERR_ARG,
                                  "optimizer: SGD momentum %g must be in "
                                  "[0, 1)", (double)c->momentum);
        return ADVC_OK;
    }
    if (!in_range(c->beta1, 0.0f, 1.0f) || !in_range(c->beta2, 0.0f, 1.0f))
        return advc_set_error(ADVC_ERR_ARG,
                              "optimizer: Adam betas (%g, %g) must be in "
                              "[0, 1)", (double)c->beta1, (double)c->beta2);
    if (!(isfinite(c->eps) && c->eps > 0.0f))
        return advc_set_error(ADVC_ERR_ARG,
                              "optimizer: Adam eps %g must be finite and > 0",
                              (double)c->eps);
    return ADVC_OK;
}

advc_optimizer *advc_optimizer_new(advc_graph *g, const advc_opt_config *c)
{
    if (!g || !c) {
        advc_set_error(ADVC_ERR_ARG, "optimizer: graph or config is NULL");
        return NULL;
    }
    if (check_config(c) != ADVC_OK) return NULL;
    size_t np = 0;
    size_t ng = 0;
    if (advc_graph_batch(g) <= 0 || !advc_graph_params(g, &np) ||
        !advc_graph_grads(g, &ng) || ng != np) {
        advc_set_error(ADVC_ERR_STATE,
                       "optimizer: the graph must be compiled first");
        return NULL;
    }

    advc_optimizer *o = calloc(1, sizeof *o);
    int nt = advc_graph_num_tensors(g);
    if (!o || !(o->ranges = calloc(nt > 0 ? (size_t)nt : 1,
                                   sizeof *o->ranges))) {
        free(o);
        advc_set_error(ADVC_ERR_NOMEM, "optimizer: out of memory");
        return NULL;
    }
    o->g = g;
    o->cfg = *c;
    o->nparams = np;
    for (int i = 0; i < nt; i++) {
        const advc_tensor_info *t = advc_graph_tensor(g, i);
        if (t->kind == ADVC_TENSOR_STATE) continue;
        if (t->offset > np || t->count > np - t->offset) {
            advc_set_error(ADVC_ERR_STATE,
                           "optimizer: tensor '%s' [%zu, +%zu) lies outside "
                           "the %zu-parameter slab", t->name, t->offset,
                           t->count, np);
            advc_optimizer_free(o);
            return NULL;
        }
        opt_range *r = &o->ranges[o->nranges++];
        r->tensor = i;
        r->offset = t->offset;
        r->count = t->count;
        r->wd = t->kind == ADVC_TENSOR_WEIGHT ? c->weight_decay : 0.0f;
    }

    size_t bytes = (np > 0 ? np : 1) * sizeof(float);
    o->m = advc_alloc(bytes);
    if (c->kind == ADVC_OPT_ADAM) o->v = advc_alloc(bytes);
    if (!o->m || (c->kind == ADVC_OPT_ADAM && !o->v)) {
        advc_optimizer_free(o);
        advc_set_error(ADVC_ERR_NOMEM,
                       "optimizer: out of memory for %zu parameters' state",
                       np);
        return NULL;
    }
    memset(o->m, 0, bytes);
    if (o->v) memset(o->v, 0, bytes);
    return o;
}

void advc_optimizer_free(advc_optimizer *o)
{
    if (!o) return;
    advc_free(o->m);
    advc_free(o->v);
    free(o->ranges);
    free(o);
}

advc_status advc_optimizer_set_wd(advc_optimizer *o, const char *prefix,
                                  float wd)
{
    if (!o || !prefix)
        return advc_set_error(ADVC_ERR_ARG,
                              "weight decay: optimizer or prefix is NULL");
    if (!in_range(wd, 0.0f, INFINITY))
        return advc_set_error(ADVC_ERR_ARG,
                              "weight decay for '%s': %g must be finite and "
                              ">= 0", prefix, (double)wd);
    size_t len = strlen(prefix);
    int hits = 0;
    for (int i = 0; i < o->nranges; i++) {
        const advc_tensor_info *t = advc_graph_tensor(o->g,
                                                      o->ranges[i].tensor);
        if (strncmp(t->name, prefix, len) == 0) {
            o->ranges[i].wd = wd;
            hits++;
        }
    }
    if (hits == 0)
        return advc_set_error(ADVC_ERR_ARG,
                              "weight decay: no trainable tensor name starts "
                              "with '%s'", prefix);
    return ADVC_OK;
}

/* Every range r: w_r, m_r (, v_r) updated from g_r with r's wd.
 * SGD:  g' = g + wd w;  v = mu v + g';  w -= lr (nesterov ? g' + mu v : v)
 * Adam: g' = g + wd w;  m, v moments;   w -= lr m^ / (sqrt(v^) + eps) */
/* One step's arguments, shared by the pool's threads. */
typedef struct {
    const advc_optimizer *o;
    float *w;
    const float *g;
    float lr;
    int t;        /* Adam's step number, >= 1 */
} step_job;

/* Thread th of nth updates its share of every range.  The updates are
 * elementwise and the shares are 16-aligned, so each element sees the same
 * kernel code path whatever the thread count: the same bits. */
static void step_task(void *p, int th, int nth)
{
    const step_job *j = p;
    const advc_optimizer *o = j->o;
    const advc_opt_config *c = &o->cfg;
    for (int i = 0; i < o->nranges; i++) {
        const opt_range *r = &o->ranges[i];
        size_t lo, hi;
        advc_split_range(r->count, th, nth, 16, &lo, &hi);
        if (hi <= lo) continue;
        size_t a = r->offset + lo, n = hi - lo;
        if (c->kind == ADVC_OPT_SGD)
            advc_sgd_update(n, j->w + a, j->g + a, o->m + a, j->lr,
                            c->momentum, r->wd, c->nesterov);
        else
            advc_adam_update(n, j->w + a, j->g + a, o->m + a, o->v + a,
                             j->lr, c->beta1, c->beta2, c->eps, r->wd, j->t);
    }
}

void advc_optimizer_step(advc_optimizer *o, float lr)
{
    enum { PAR_MIN = 1 << 16 }; /* fewer parameters: one thread is faster */
    size_t np = 0, ng = 0;
    /* Fetched each step: recompiling for another batch size may move the
     * slabs (their length stays the same). */
    float *w = advc_graph_params(o->g, &np);
    const float *g = advc_graph_grads(o->g, &ng);
    if (!w || !g || np != o->nparams || ng != o->nparams) {
        /* The graph changed under us: a caller bug that would otherwise
         * write outside the slabs.  step() has no status to return. */
        fprintf(stderr, "advc_optimizer_step: the graph's parameter slab "
                "changed (%zu parameters, optimizer made for %zu)\n", np,
                o->nparams);
        abort();
    }
    o->steps++;
    step_job j = { o, w, g, lr, o->steps > INT_MAX ? INT_MAX : (int)o->steps };
    advc_pool *pool = advc_graph_pool(o->g);
    if (np >= PAR_MIN && advc_pool_threads(pool) > 1)
        advc_pool_run(pool, step_task, &j);
    else
        step_task(&j, 0, 1);
}

long advc_optimizer_steps(const advc_optimizer *o)
{
    return o ? o->steps : 0;
}

float *advc_optimizer_state(advc_optimizer *o, int slab, size_t *count)
{
    float *p = slab == 0 ? o->m : slab == 1 ? o->v : NULL;
    if (count) *count = p ? o->nparams : 0;
    return p;
}

void advc_optimizer_set_steps(advc_optimizer *o, long steps)
{
    o->steps = steps;
}
