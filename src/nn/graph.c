/* graph.c: the graph engine: building (nodes, named tensors, sticky
 * errors), compiling (size every buffer, then allocate each slab once),
 * running (forward in build order, backward in reverse), and the tensor
 * table the optimizers and checkpoints use.  The ops themselves live in
 * src/nn/ops/, one file each.
 *
 * Buffers, all sized at compile for `batch` samples:
 *   params, grads   (nparams)   trainable tensors, one contiguous slab each;
 *                               allocated at the first compile and kept
 *   state           (nstate)    batch-norm running statistics; kept
 *   acts, dacts                 per node (batch, shape) outputs and dL/dy,
 *                               64-byte aligned; flatten shares its input's;
 *                               none where a fused node never uses them
 *   aux                         per-node saved buffers (argmax, masks, ...)
 *   saved                       per-node buffers sized after prepare
 *                               (nn_op.saved: a conv's lowered input)
 *   ws                          one workspace, the max over nodes
 *   dlogits         (nexits, batch, classes) the caller's dL/dlogits
 *
 * Backward gradients: semantically every dL/dy is zeroed at the start of a
 * backward and each consumer adds its share.  The zeroing is lazy: a node
 * tracks whether its dL/dy has been written in this pass (grad_live); the
 * first writer overwrites, later ones add (nn_input_grad), and a node whose
 * dL/dy was never written contributes nothing and is skipped.  An input
 * placed in a concat's output (place.c) has no buffers of its own: its
 * dL/dy is also live when the concat's is (nn_grad_live).
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

typedef struct {
    advc_tensor_info info;
    nn_init init;
    int fan_in;
    float **val, **grad;    /* where to put the tensor's pointers */
} nn_tensor;

typedef struct {
    /* Exactly one slot is set; sizes are in its element type. */
    float **f;
    int32_t **i;
    uint8_t **u;
    size_t elem, fixed, per_sample;
} nn_auxdecl;

typedef struct {
    int node;
    float weight;
} nn_exit;

struct advc_graph {
    advc_shape input;
    nn_node **nodes;        /* (nnodes); nodes[0] is the input            */
    int nnodes, nodes_cap;
    nn_tensor *tensors;
    int ntensors, tensors_cap;
    int *name_slot;         /* (name_cap) hash table of tensor names:
                               tensor index + 1, 0 = empty               */
    int name_cap;           /* a power of 2 >= 2 * ntensors, or 0         */
    nn_auxdecl *aux;
    int naux, aux_cap;
    nn_exit *exits;
    int nexits, exits_cap;
    size_t nparams, nstate;

    float *params;          /* (nparams), NULL before the first compile   */
    float *grads;           /* (nparams)                                  */
    float *state;           /* (nstate)                                   */

    int batch;              /* 0 before compile                           */
    advc_pool *pool;
    float *acts, *dacts;    /* all nodes' y, dy                           */
    void *auxmem;
    float *saved;           /* every node's saved buffer (nn_op.saved)    */
    float *ws;              /* (ws_floats)                                */
    size_t ws_floats;
    float *dlogits;         /* (nexits, batch, classes)                   */

    int last_n;             /* samples in the last forward (0: none)      */
    bool grads_stale;       /* zero_grads pending: grads are semantically
                               0, their memory is not (yet)              */
    advc_mode last_mode;
    bool last_kept;         /* the last forward filled the saved buffers  */
    advc_act_spec bact[2][ADVC_ACT_COUNT]; /* per pass; f = COUNT: none  */
    advc_conv_algo conv_algo; /* how convolutions are computed          */
    bool no_fusion;         /* advc_graph_set_fusion(g, false)            */
    bool held;              /* advc_graph_hold_params(g, true) in force   */
    uint64_t seed, step;

    char prefix[16];        /* prepended to the names of new nodes      */

    advc_status err;
    char errmsg[256];
};

/* ---- errors ------------------------------------------------------------ */

int nn_fail(advc_graph *g, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g->err == ADVC_OK) {
        g->err = ADVC_ERR_ARG;
        snprintf(g->errmsg, sizeof g->errmsg, "%s", msg);
    }
    advc_set_error(ADVC_ERR_ARG, "%s", msg);
    return -1;
}

/* arr (of *cap elements of size sz) grown to hold `need`: the (possibly
 * moved) array, or NULL with arr untouched if memory runs out. */
static void *grow(void *arr, int *cap, int need, size_t sz)
{
    if (need <= *cap) return arr;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *p = realloc(arr, (size_t)nc * sz);
    if (p) *cap = nc;
    return p;
}

/* ---- building ---------------------------------------------------------- */

static void noop_pass(nn_node *v, const nn_ctx *c) { (void)v, (void)c; }
static const nn_op input_op = {
    .name = "input", .forward = noop_pass, .backward = noop_pass,
};

advc_graph *advc_graph_new(advc_shape input)
{
    if (input.c <= 0 || input.h <= 0 || input.w <= 0) {
        advc_set_error(ADVC_ERR_ARG, "graph input shape (%d,%d,%d) is not "
                       "positive", input.c, input.h, input.w);
        return NULL;
    }
    advc_graph *g = calloc(1, sizeof *g);
    if (!g) {
        advc_set_error(ADVC_ERR_NOMEM, "out of memory creating a graph");
        return NULL;
    }
    g->input = input;
    for (int p = 0; p < 2; p++)
        for (int f = 0; f < ADVC_ACT_COUNT; f++)
            g->bact[p][f] = (advc_act_spec){ ADVC_ACT_COUNT, 0.0f };
    if (!nn_add(g, &input_op, "input", NULL, 0, input, NULL)) {
        advc_graph_free(g);
        return NULL;
    }
    return g;
}

static void free_run_buffers(advc_graph *g)
{
    advc_free(g->acts), advc_free(g->dacts), advc_free(g->auxmem);
    advc_free(g->ws), advc_free(g->dlogits), advc_free(g->saved);
    g->acts = g->dacts = g->ws = g->dlogits = g->saved = NULL;
    g->auxmem = NULL;
}

void advc_graph_free(advc_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->nnodes; i++) {
        free(g->nodes[i]->priv);
        free(g->nodes[i]->in);
        free(g->nodes[i]);
    }
    free(g->nodes), free(g->tensors), free(g->aux), free(g->exits);
    free(g->name_slot);
    advc_free(g->params), advc_free(g->grads), advc_free(g->state);
    free_run_buffers(g);
    free(g);
}

int advc_graph_input(const advc_graph *g)
{
    (void)g;
    return 0;
}

nn_node *nn_get(advc_graph *g, int id, const char *op)
{
    if (id < 0 || id >= g->nnodes) {
        nn_fail(g, "%s: input node id %d does not exist (graph has %d "
                "nodes)", op, id, g->nnodes);
        return NULL;
    }
    return g->nodes[id];
}

nn_node *nn_add(advc_graph *g, const nn_op *op, const char *name,
                nn_node *const *in, int nin, advc_shape shape, void *priv)
{
    if (g->params) {
        free(priv);
        nn_fail(g, "%s: cannot add nodes to a compiled graph", op->name);
        return NULL;
    }
    if (shape.c <= 0 || shape.h <= 0 || shape.w <= 0) {
        free(priv);
        nn_fail(g, "%s: output shape (%d,%d,%d) is empty", op->name, shape.c,
                shape.h, shape.w);
        return NULL;
    }
    if (name && strlen(name) >= sizeof g->nodes[0]->name - 8) {
        free(priv);
        nn_fail(g, "%s: name '%s' is too long", op->name, name);
        return NULL;
    }
    nn_node *v = calloc(1, sizeof *v);
    nn_node **inputs = nin ? malloc((size_t)nin * sizeof *inputs) : NULL;
    nn_node **nodes = grow(g->nodes, &g->nodes_cap, g->nnodes + 1,
                           sizeof *g->nodes);
    if (nodes) g->nodes = nodes;
    if (!v || (nin && !inputs) || !nodes) {
        free(v), free(inputs), free(priv);
        nn_fail(g, "%s: out of memory", op->name);
        return NULL;
    }
    for (int i = 0; i < nin; i++) inputs[i] = in[i];
    v->id = g->nnodes;
    v->op = op;
    v->nin = nin;
    v->in = inputs;
    v->shape = shape;
    v->priv = priv;
    if (name) snprintf(v->name, sizeof v->name, "%s%s", g->prefix, name);
    else snprintf(v->name, sizeof v->name, "%s%s%d", g->prefix, op->name,
                  v->id);
    g->nodes[g->nnodes++] = v;
    return v;
}

/* ---- tensor names: a hash table, so that adding the n-th tensor checks
 * its name against the others in constant time.  A linear scan made
 * building quadratic in the tensor count: 0.19 s for a 1000-block resnet
 * (10,000 tensors), seconds under the sanitizers.  Open addressing with
 * linear probing; the table stays at most half full. */

#define NAME_SLOTS_MIN 64 /* first table size (a power of 2) */

/* FNV-1a, 32 bits: offset basis 2166136261, prime 16777619. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void name_insert(int *slot, int cap, const char *name, int index)
{
    uint32_t i = name_hash(name) & (uint32_t)(cap - 1);
    while (slot[i]) i = (i + 1) & (uint32_t)(cap - 1);
    slot[i] = index + 1;
}

/* Room for one more name: doubles and refills the table when it would
 * pass half full.  False when out of memory. */
static bool names_reserve(advc_graph *g)
{
    if (2 * (g->ntensors + 1) <= g->name_cap) return true;
    int cap = g->name_cap ? 2 * g->name_cap : NAME_SLOTS_MIN;
    int *slot = calloc((size_t)cap, sizeof *slot);
    if (!slot) return false;
    for (int i = 0; i < g->ntensors; i++)
        name_insert(slot, cap, g->tensors[i].info.name, i);
    free(g->name_slot);
    g->name_slot = slot;
    g->name_cap = cap;
    return true;
}

bool nn_param(advc_graph *g, nn_node *v, const char *suffix,
              advc_tensor_kind kind, nn_init init, int fan_in, int ndim,
              const int *dims, float **val, float **grad)
{
    nn_tensor *ts = grow(g->tensors, &g->tensors_cap, g->ntensors + 1,
                         sizeof *g->tensors);
    if (ts) g->tensors = ts;
    if (!ts || !names_reserve(g)) {
        nn_fail(g, "%s: out of memory", v->name);
        return false;
    }
    nn_tensor t;
    memset(&t, 0, sizeof t);
    int len = snprintf(t.info.name, sizeof t.info.name, "%s.%s", v->name,
                       suffix);
    if (len < 0 || (size_t)len >= sizeof t.info.name) {
        nn_fail(g, "tensor name '%s.%s' is too long", v->name, suffix);
        return false;
    }
    if (advc_graph_find_tensor(g, t.info.name) >= 0) {
        nn_fail(g, "two tensors are named '%s' (node names must be unique)",
                t.info.name);
        return false;
    }
    assert(ndim >= 1 && ndim <= 4);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        t.info.dims[d] = dims[d];
        count *= (size_t)dims[d];
    }
    t.info.kind = kind;
    t.info.ndim = ndim;
    t.info.count = count;
    if (kind == ADVC_TENSOR_STATE) {
        t.info.offset = g->nstate;
        g->nstate += count;
    } else {
        t.info.offset = g->nparams;
        if (v->nparams == 0) v->param0 = g->nparams;
        g->nparams += count;
        v->nparams += count;
    }
    t.init = init;
    t.fan_in = fan_in;
    t.val = val;
    t.grad = kind == ADVC_TENSOR_STATE ? NULL : grad;
    name_insert(g->name_slot, g->name_cap, t.info.name, g->ntensors);
    g->tensors[g->ntensors++] = t;
    return true;
}

static bool add_aux(advc_graph *g, nn_auxdecl a)
{
    nn_auxdecl *as = grow(g->aux, &g->aux_cap, g->naux + 1, sizeof *g->aux);
    if (!as) {
        nn_fail(g, "out of memory");
        return false;
    }
    g->aux = as;
    g->aux[g->naux++] = a;
    return true;
}

bool nn_aux_floats(advc_graph *g, float **slot, size_t fixed,
                   size_t per_sample)
{
    return add_aux(g, (nn_auxdecl){ slot, NULL, NULL, sizeof **slot, fixed,
                                    per_sample });
}

bool nn_aux_ints(advc_graph *g, int32_t **slot, size_t fixed,
                 size_t per_sample)
{
    return add_aux(g, (nn_auxdecl){ NULL, slot, NULL, sizeof **slot, fixed,
                                    per_sample });
}

bool nn_aux_bytes(advc_graph *g, uint8_t **slot, size_t fixed,
                  size_t per_sample)
{
    return add_aux(g, (nn_auxdecl){ NULL, NULL, slot, sizeof **slot, fixed,
                                    per_sample });
}

/* Bytes of aux buffer a for `batch` samples, rounded to 64. */
static size_t aux_bytes(const nn_auxdecl *a, int batch)
{
    size_t b = (a->fixed + (size_t)batch * a->per_sample) * a->elem;
    return (b + 63) / 64 * 64;
}

int advc_graph_add_exit(advc_graph *g, int x, float weight)
{
    nn_node *v = nn_get(g, x, "exit");
    if (!v) return -1;
    if (v->shape.h != 1 || v->shape.w != 1)
        return nn_fail(g, "exit: node %d (%s) has shape (%d,%d,%d), not "
                       "(classes,1,1)", x, v->name, v->shape.c, v->shape.h,
                       v->shape.w);
    if (g->nexits > 0 && g->nodes[g->exits[0].node]->shape.c != v->shape.c)
        return nn_fail(g, "exit: node %d (%s) has %d classes, the first exit "
                       "%d", x, v->name, v->shape.c,
                       g->nodes[g->exits[0].node]->shape.c);
    if (!isfinite(weight))
        return nn_fail(g, "exit: weight of node %d is not finite", x);
    if (g->params)
        return nn_fail(g, "exit: cannot add exits to a compiled graph");
    nn_exit *es = grow(g->exits, &g->exits_cap, g->nexits + 1,
                       sizeof *g->exits);
    if (!es) return nn_fail(g, "exit: out of memory");
    g->exits = es;
    g->exits[g->nexits] = (nn_exit){ x, weight };
    return g->nexits++;
}

void advc_graph_set_name_prefix(advc_graph *g, const char *prefix)
{
    if (strlen(prefix) >= sizeof g->prefix) {
        nn_fail(g, "name prefix '%s' is too long", prefix);
        return;
    }
    snprintf(g->prefix, sizeof g->prefix, "%s", prefix);
}

int advc_graph_mean_of_exits(advc_graph *g)
{
    if (g->nexits < 1) return nn_fail(g, "mean of exits: no exits");
    int *xs = malloc((size_t)g->nexits * sizeof *xs);
    if (!xs) return nn_fail(g, "mean of exits: out of memory");
    for (int e = 0; e < g->nexits; e++) xs[e] = g->exits[e].node;
    int n = g->nexits;
    g->nexits = 0;
    int m = advc_mean(g, xs, n);
    free(xs);
    return m < 0 ? -1 : advc_graph_add_exit(g, m, 1.0f);
}

/* ---- compile ----------------------------------------------------------- */

/* Rounds a float count up to whole 64-byte lines. */
static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static void *alloc_floats(size_t n)
{
    return advc_alloc((n ? n : 1) * sizeof(float));
}

/* The parameter slabs: sized by the build, allocated at the first compile
 * and kept by later ones. */
static advc_status alloc_params(advc_graph *g)
{
    g->params = alloc_floats(g->nparams);
    g->grads = alloc_floats(g->nparams);
    g->state = alloc_floats(g->nstate);
    if (!g->params || !g->grads || !g->state) {
        advc_free(g->params), advc_free(g->grads), advc_free(g->state);
        g->params = g->grads = g->state = NULL;
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory for %zu "
                              "parameters", g->nparams);
    }
    memset(g->params, 0, g->nparams * sizeof *g->params);
    memset(g->grads, 0, g->nparams * sizeof *g->grads);
    /* State starts as init_params leaves it: mean 0, var 1. */
    for (int i = 0; i < g->ntensors; i++) {
        const nn_tensor *t = &g->tensors[i];
        if (t->info.kind != ADVC_TENSOR_STATE) continue;
        for (size_t j = 0; j < t->info.count; j++)
            g->state[t->info.offset + j] = t->init == NN_INIT_ONE ? 1.0f
                                                                  : 0.0f;
    }
    for (int i = 0; i < g->ntensors; i++) {
        const nn_tensor *t = &g->tensors[i];
        if (t->info.kind == ADVC_TENSOR_STATE) {
            *t->val = g->state + t->info.offset;
        } else {
            *t->val = g->params + t->info.offset;
            if (t->grad) *t->grad = g->grads + t->info.offset;
        }
    }
    return ADVC_OK;
}

/* Who reads each node (nn_use), counted once per compile for the two
 * rewrites below; NULL after recording an error. */
static nn_use *count_uses(const advc_graph *g)
{
    nn_use *use = malloc((size_t)g->nnodes * sizeof *use);
    if (!use) {
        advc_set_error(ADVC_ERR_NOMEM, "out of memory compiling a graph");
        return NULL;
    }
    for (int i = 0; i < g->nnodes; i++)
        use[i] = (nn_use){ 0, g->nnodes, -1, NULL, false };
    for (int i = 0; i < g->nnodes; i++)
        for (int k = 0; k < g->nodes[i]->nin; k++) {
            nn_use *u = &use[g->nodes[i]->in[k]->id];
            u->uses++;
            if (i < u->first) u->first = i;
            u->last = i;
            u->user = g->nodes[i];
        }
    for (int e = 0; e < g->nexits; e++) use[g->exits[e].node].exit = true;
    return use;
}

/* Lets each op that can (nn_op.absorb) apply the activation that is its
 * only consumer in its own pass; undoes it where the graph no longer
 * allows it (fusion off). */
static void fuse_activations(advc_graph *g, const nn_use *use)
{
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *v = g->nodes[i];
        if (!v->op->absorb) continue;
        bool fuse = !g->no_fusion && use[i].uses == 1 && !use[i].exit &&
                    nn_is_act(use[i].user);
        v->op->absorb(v, fuse ? use[i].user : NULL);
    }
}

/* Sizes of the run buffers for one batch, floats except aux (bytes). */
typedef struct {
    size_t act, dact, aux, ws, saved;
} run_sizes;

/* Every node's activation, gradient and saved floats (64-byte lines
 * each), the aux bytes, and the largest workspace any op asks for. */
static run_sizes size_run_buffers(const advc_graph *g, int batch, int T)
{
    run_sizes z = {0, 0, 0, 0, 0};
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *v = g->nodes[i];
        size_t len = round16((size_t)batch * nn_size(v));
        bool own = !v->alias && !v->place; /* else views of another's */
        if (own && !v->no_y) z.act += len;
        if (own && !v->no_dy) z.dact += len;
        if (v->op->saved) z.saved += round16((size_t)batch * v->op->saved(v));
        if (v->op->workspace) {
            size_t w = v->op->workspace(v, batch, T);
            if (w > z.ws) z.ws = w;
        }
    }
    for (int i = 0; i < g->naux; i++) z.aux += aux_bytes(&g->aux[i], batch);
    return z;
}

/* Allocates the run buffers of sizes z at once and zeroes those a
 * mistake could read (the saved ones are written before read). */
static advc_status alloc_run_buffers(advc_graph *g, int batch,
                                     const run_sizes *z)
{
    size_t classes = (size_t)advc_graph_classes(g);
    g->acts = alloc_floats(z->act);
    g->dacts = alloc_floats(z->dact);
    g->auxmem = advc_alloc(z->aux ? z->aux : 1);
    g->ws = alloc_floats(z->ws);
    g->dlogits = alloc_floats((size_t)g->nexits * batch * classes);
    g->saved = alloc_floats(z->saved);
    if (!g->acts || !g->dacts || !g->auxmem || !g->ws || !g->dlogits ||
        !g->saved) {
        free_run_buffers(g);
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory compiling a "
                              "graph for batch %d", batch);
    }
    /* Nothing reads an unwritten buffer, but zeros make a mistake
     * reproducible. */
    memset(g->acts, 0, z->act * sizeof *g->acts);
    memset(g->dacts, 0, z->dact * sizeof *g->dacts);
    memset(g->dlogits, 0, (size_t)g->nexits * batch * classes *
                              sizeof *g->dlogits);
    return ADVC_OK;
}

/* Points every node's y, dy and saved, and every aux declaration, into
 * the run buffers, in the order size_run_buffers counted them. */
static void point_run_buffers(advc_graph *g, int batch)
{
    size_t off = 0, doff = 0;
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *v = g->nodes[i];
        if (v->alias || v->place) continue;
        size_t len = round16((size_t)batch * nn_size(v));
        v->y = v->no_y ? NULL : g->acts + off;
        v->dy = v->no_dy ? NULL : g->dacts + doff;
        off += v->no_y ? 0 : len;
        doff += v->no_dy ? 0 : len;
    }
    nn_point_placed(g->nodes, g->nnodes);
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *v = g->nodes[i];
        if (v->alias) v->y = v->alias->y, v->dy = v->alias->dy;
    }
    float *sv = g->saved; /* written before read: not zeroed */
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *v = g->nodes[i];
        size_t len = v->op->saved ? (size_t)batch * v->op->saved(v) : 0;
        v->saved = len ? sv : NULL;
        sv += round16(len);
    }
    unsigned char *a = g->auxmem;
    for (int i = 0; i < g->naux; i++) {
        const nn_auxdecl *x = &g->aux[i];
        if (x->f) *x->f = (float *)(void *)a;
        if (x->i) *x->i = (int32_t *)(void *)a;
        if (x->u) *x->u = a;
        a += aux_bytes(x, batch);
    }
}

/* Why the graph cannot be compiled for batch, or ADVC_OK. */
static advc_status check_compilable(const advc_graph *g, int batch)
{
    if (g->err != ADVC_OK)
        return advc_set_error(g->err, "%s", g->errmsg);
    if (batch <= 0)
        return advc_set_error(ADVC_ERR_ARG, "compile: batch %d is not "
                              "positive", batch);
    if (g->nexits == 0)
        return advc_set_error(ADVC_ERR_ARG, "compile: the graph has no exit "
                              "(advc_graph_add_exit)");
    return ADVC_OK;
}

advc_status advc_graph_compile(advc_graph *g, int batch, advc_pool *pool)
{
    if (g->held) advc_graph_hold_params(g, false); /* copies move */
    advc_status s = check_compilable(g, batch);
    if (s == ADVC_OK && !g->params) s = alloc_params(g);
    if (s != ADVC_OK) return s;
    free_run_buffers(g);
    g->batch = 0;
    g->last_n = 0;
    int T = advc_pool_threads(pool);

    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i]->op->prepare)
            g->nodes[i]->op->prepare(g->nodes[i], g);
    /* The rewrites fusion allows: activations into their producers,
     * concat inputs into the concat's output (place.c). */
    nn_use *use = count_uses(g);
    if (!use) return advc_last_status();
    fuse_activations(g, use);
    nn_place_concat_inputs(g->nodes, g->nnodes, use, !g->no_fusion);
    free(use);

    /* Size, allocate once, point. */
    run_sizes z = size_run_buffers(g, batch, T);
    s = alloc_run_buffers(g, batch, &z);
    if (s != ADVC_OK) return s;
    point_run_buffers(g, batch);
    g->ws_floats = z.ws;
    g->batch = batch;
    g->pool = pool;
    return ADVC_OK;
}

static const char *const init_names[ADVC_INIT_COUNT] = {
    [ADVC_INIT_HE] = "he", [ADVC_INIT_UNIFORM] = "uniform",
};

const char *advc_init_name(advc_init how)
{
    return (int)how >= 0 && how < ADVC_INIT_COUNT ? init_names[how] : "?";
}

advc_init advc_init_parse(const char *s)
{
    for (int i = 0; s && i < ADVC_INIT_COUNT; i++)
        if (strcmp(s, init_names[i]) == 0) return (advc_init)i;
    return ADVC_INIT_COUNT;
}

/* One value of tensor t under scheme how:
 *   he       weight N(0, 2/fan_in), bias 0
 *   uniform  weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
static float init_value(const nn_tensor *t, advc_init how, advc_rng *r)
{
    float fan = t->fan_in > 0 ? (float)t->fan_in : 1.0f;
    switch (t->init) {
    case NN_INIT_WEIGHT:
        if (how == ADVC_INIT_UNIFORM)
            return (2.0f * advc_rng_uniform(r) - 1.0f) / sqrtf(fan);
        return sqrtf(2.0f / fan) * advc_rng_normal(r);
    case NN_INIT_BIAS:
        if (how == ADVC_INIT_UNIFORM)
            return (2.0f * advc_rng_uniform(r) - 1.0f) / sqrtf(fan);
        return 0.0f;
    case NN_INIT_ZERO: return 0.0f;
    case NN_INIT_ONE: return 1.0f;
    }
    return 0.0f;
}

void advc_graph_init_params_as(advc_graph *g, uint64_t seed, advc_init how)
{
    if (!g->params) {
        advc_set_error(ADVC_ERR_STATE, "init_params: graph not compiled");
        return;
    }
    for (int i = 0; i < g->ntensors; i++) {
        const nn_tensor *t = &g->tensors[i];
        float *p = t->info.kind == ADVC_TENSOR_STATE ? g->state : g->params;
        p += t->info.offset;
        /* One stream per tensor: a tensor's values depend on the seed and
         * its index only. */
        advc_rng r;
        advc_rng_seed(&r, seed, (uint64_t)i);
        for (size_t j = 0; j < t->info.count; j++)
            p[j] = init_value(t, how, &r);
    }
}

void advc_graph_init_params(advc_graph *g, uint64_t seed)
{
    advc_graph_init_params_as(g, seed, ADVC_INIT_HE);
}

/* ---- queries ----------------------------------------------------------- */

int nn_num_nodes(const advc_graph *g) { return g->nnodes; }

const nn_node *nn_node_at(const advc_graph *g, int i)
{
    assert(i >= 0 && i < g->nnodes);
    return g->nodes[i];
}

int advc_graph_batch(const advc_graph *g) { return g->batch; }
advc_shape advc_graph_input_shape(const advc_graph *g) { return g->input; }
int advc_graph_num_exits(const advc_graph *g) { return g->nexits; }
advc_pool *advc_graph_pool(const advc_graph *g) { return g->pool; }
size_t advc_graph_num_params(const advc_graph *g) { return g->nparams; }
int advc_graph_num_tensors(const advc_graph *g) { return g->ntensors; }

double advc_graph_forward_macs(const advc_graph *g)
{
    double m = 0;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i]->op->macs) m += g->nodes[i]->op->macs(g->nodes[i]);
    return m;
}

int advc_graph_classes(const advc_graph *g)
{
    return g->nexits ? g->nodes[g->exits[0].node]->shape.c : 0;
}

float advc_graph_exit_weight(const advc_graph *g, int e)
{
    assert(e >= 0 && e < g->nexits);
    return g->exits[e].weight;
}

const advc_tensor_info *advc_graph_tensor(const advc_graph *g, int i)
{
    assert(i >= 0 && i < g->ntensors);
    return &g->tensors[i].info;
}

int advc_graph_find_tensor(const advc_graph *g, const char *name)
{
    if (g->name_cap == 0) return -1;
    uint32_t mask = (uint32_t)(g->name_cap - 1);
    for (uint32_t i = name_hash(name) & mask; g->name_slot[i];
         i = (i + 1) & mask)
        if (strcmp(g->tensors[g->name_slot[i] - 1].info.name, name) == 0)
            return g->name_slot[i] - 1;
    return -1;
}

float *advc_graph_params(advc_graph *g, size_t *count)
{
    if (count) *count = g->nparams;
    return g->params;
}

float *advc_graph_grads(advc_graph *g, size_t *count)
{
    if (g->grads_stale && g->grads) { /* read before any backward */
        memset(g->grads, 0, g->nparams * sizeof *g->grads);
        g->grads_stale = false;
    }
    if (count) *count = g->nparams;
    return g->grads;
}

float *advc_graph_state(advc_graph *g, size_t *count)
{
    if (count) *count = g->nstate;
    return g->state;
}

/* Lazily: the next UPDATE backward overwrites instead of adding (or
 * advc_graph_grads zeroes): a step then makes no pass over the gradient
 * slab just to clear it (13 MB for cnn). */
void advc_graph_zero_grads(advc_graph *g)
{
    if (g->grads) g->grads_stale = true;
}

static const char *const conv_names[ADVC_CONV_COUNT] = {
    [ADVC_CONV_AUTO] = "auto", [ADVC_CONV_GEMM] = "gemm",
    [ADVC_CONV_IMPLICIT] = "implicit", [ADVC_CONV_WINOGRAD] = "winograd",
};

const char *advc_conv_algo_name(advc_conv_algo a)
{
    return (int)a >= 0 && a < ADVC_CONV_COUNT ? conv_names[a] : "?";
}

advc_conv_algo advc_conv_algo_parse(const char *s)
{
    for (int i = 0; s && i < ADVC_CONV_COUNT; i++)
        if (strcmp(s, conv_names[i]) == 0) return (advc_conv_algo)i;
    return ADVC_CONV_COUNT;
}

void advc_graph_set_conv_algo(advc_graph *g, advc_conv_algo a)
{
    assert(a >= 0 && a < ADVC_CONV_COUNT);
    g->conv_algo = a;
}

advc_conv_algo advc_graph_conv_algo(const advc_graph *g)
{
    return g->conv_algo;
}

void advc_graph_set_fusion(advc_graph *g, bool on) { g->no_fusion = !on; }

void advc_graph_set_seed(advc_graph *g, uint64_t seed)
{
    g->seed = seed;
    g->step = 0;
}

void advc_graph_rng_state(const advc_graph *g, uint64_t *seed,
                          uint64_t *step)
{
    *seed = g->seed;
    *step = g->step;
}

void advc_graph_set_rng_state(advc_graph *g, uint64_t seed, uint64_t step)
{
    g->seed = seed;
    g->step = step;
}

void advc_graph_set_backward_act(advc_graph *g, advc_pass pass,
                                 advc_act forward, advc_act_spec rule)
{
    assert(pass == ADVC_PASS_ATTACK || pass == ADVC_PASS_UPDATE);
    assert(forward >= 0 && forward <= ADVC_ACT_COUNT);
    assert(rule.f >= 0 && rule.f <= ADVC_ACT_COUNT);
    assert(rule.f != ADVC_ACT_PSOFTPLUS || rule.alpha > 0.0f);
    for (int f = 0; f < ADVC_ACT_COUNT; f++)
        if (forward == ADVC_ACT_COUNT || (int)forward == f)
            g->bact[pass][f] = rule;
}

/* ---- running ----------------------------------------------------------- */

typedef struct {
    nn_range_fn fn;
    void *ctx;
    size_t n, align;
} par_job;

static void par_task(void *p, int t, int T)
{
    const par_job *j = p;
    size_t lo, hi;
    advc_split_range(j->n, t, T, j->align, &lo, &hi);
    if (lo < hi) j->fn(j->ctx, lo, hi, t);
}

void nn_parallel(advc_pool *pool, size_t n, size_t align, size_t grain,
                 nn_range_fn fn, void *ctx)
{
    if (n == 0) return;
    if (n < grain || advc_pool_threads(pool) == 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    par_job j = { fn, ctx, n, align };
    advc_pool_run(pool, par_task, &j);
}

typedef struct {
    const float *src;
    float *dst;
    bool acc;
} copy_job;

static void copy_range(void *p, size_t lo, size_t hi, int t)
{
    const copy_job *j = p;
    (void)t;
    if (j->acc) advc_axpy(hi - lo, 1.0f, j->src + lo, j->dst + lo);
    else memcpy(j->dst + lo, j->src + lo, (hi - lo) * sizeof *j->dst);
}

void nn_copy_or_add(advc_pool *pool, size_t n, const float *src, float *dst,
                    bool acc)
{
    copy_job j = { src, dst, acc };
    nn_parallel(pool, n, 16, 1 << 15, copy_range, &j);
}

double nn_sum(const float *x, size_t len)
{
    enum { LANES = 16 };
    float acc[LANES] = { 0 };
    size_t q = 0;
    for (; q + LANES <= len; q += LANES)
        for (int l = 0; l < LANES; l++) acc[l] += x[q + l];
    double s = 0;
    for (int l = 0; l < LANES; l++) s += acc[l];
    for (; q < len; q++) s += x[q];
    return s;
}

static nn_node *owner(nn_node *v) { return v->alias ? v->alias : v; }

float *nn_input_grad(nn_node *v, int i, bool *acc)
{
    nn_node *u = owner(v->in[i]);
    *acc = nn_grad_live(u);
    u->grad_live = true;
    return u->dy;
}

static nn_ctx make_ctx(advc_graph *g, int n, advc_mode mode, advc_pass pass)
{
    nn_ctx c;
    memset(&c, 0, sizeof c);
    c.pool = g->pool;
    c.nthreads = advc_pool_threads(g->pool);
    c.n = n;
    c.mode = mode;
    c.pass = pass;
    memcpy(c.bact, g->bact[pass], sizeof c.bact);
    c.ws = g->ws;
    c.seed = g->seed;
    c.step = g->step;
    return c;
}

void advc_graph_hold_params(advc_graph *g, bool on)
{
    if (!g->params || g->batch <= 0) return; /* nothing compiled yet */
    g->held = on;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i]->op->hold) g->nodes[i]->op->hold(g->nodes[i], on);
}

void advc_graph_forward_for(advc_graph *g, const float *x, int n,
                            advc_mode mode, advc_pass next)
{
    assert(g->batch > 0 && "advc_graph_forward: graph not compiled");
    assert(n >= 1 && n <= g->batch);
    nn_node *in = g->nodes[0];
    memcpy(in->y, x, (size_t)n * nn_size(in) * sizeof *x);
    nn_ctx c = make_ctx(g, n, mode, ADVC_PASS_ATTACK);
    c.keep_saved = next == ADVC_PASS_UPDATE;
    for (int i = 1; i < g->nnodes; i++)
        g->nodes[i]->op->forward(g->nodes[i], &c);
    g->last_n = n;
    g->last_mode = mode;
    g->last_kept = c.keep_saved;
    if (mode == ADVC_MODE_TRAIN) g->step++;
}

void nn_forward_from(advc_graph *g, int first, int n, advc_mode mode)
{
    assert(g->batch > 0 && n >= 1 && n <= g->batch);
    nn_ctx c = make_ctx(g, n, mode, ADVC_PASS_ATTACK);
    for (int i = first; i < g->nnodes; i++)
        g->nodes[i]->op->forward(g->nodes[i], &c);
    g->last_n = 0; /* the earlier layers do not hold this pass */
    if (mode == ADVC_MODE_TRAIN) g->step++;
}

void advc_graph_forward(advc_graph *g, const float *x, int n, advc_mode mode)
{
    advc_graph_forward_for(g, x, n, mode, ADVC_PASS_UPDATE);
}

const float *advc_graph_logits(const advc_graph *g, int e)
{
    assert(e >= 0 && e < g->nexits && g->batch > 0);
    return g->nodes[g->exits[e].node]->y;
}

advc_shape advc_graph_exit_features(const advc_graph *g, int e,
                                    const float **values)
{
    assert(e >= 0 && e < g->nexits && g->batch > 0);
    const nn_node *v = g->nodes[g->exits[e].node];
    if (v->nin > 0) v = v->in[0];
    if (values) *values = v->y;
    return v->shape;
}

float *advc_graph_dlogits(advc_graph *g, int e)
{
    assert(e >= 0 && e < g->nexits && g->batch > 0);
    return g->dlogits + (size_t)e * g->batch * advc_graph_classes(g);
}

void advc_graph_backward(advc_graph *g, advc_pass pass)
{
    assert(g->last_n > 0 && "advc_graph_backward: no forward to go back "
                            "through");
    int n = g->last_n;
    nn_ctx c = make_ctx(g, n, g->last_mode, pass);
    c.keep_saved = g->last_kept;
    for (int i = 0; i < g->nnodes; i++) g->nodes[i]->grad_live = false;

    size_t classes = (size_t)advc_graph_classes(g);
    for (int e = 0; e < g->nexits; e++) {
        nn_node *u = owner(g->nodes[g->exits[e].node]);
        const float *d = advc_graph_dlogits(g, e);
        size_t cnt = (size_t)n * classes;
        if (u->grad_live) advc_axpy(cnt, 1.0f, d, u->dy);
        else memcpy(u->dy, d, cnt * sizeof *d);
        u->grad_live = true;
    }
    c.fresh_grads = pass == ADVC_PASS_UPDATE && g->grads_stale;
    for (int i = g->nnodes - 1; i >= 1; i--) {
        nn_node *v = g->nodes[i];
        if (nn_grad_live(v)) {
            v->op->backward(v, &c);
        } else if (c.fresh_grads && v->nparams) { /* not reached: 0 */
            float *d = g->grads + v->param0;
            for (size_t k = 0; k < v->nparams; k++) d[k] = 0.0f;
        }
    }
    if (c.fresh_grads) g->grads_stale = false;
    nn_node *in = g->nodes[0];
    if (!in->grad_live)
        memset(in->dy, 0, (size_t)n * nn_size(in) * sizeof *in->dy);
}

/* buf's rows rows[0..k) of `bytes` each moved to rows 0..k-1, in place
 * (rows[j] >= j: a row is read before anything is written over it). */
static void gather_rows(void *buf, size_t bytes, const int *rows, int k)
{
    unsigned char *b = buf;
    for (int j = 0; j < k; j++)
        if (rows[j] != j)
            memcpy(b + (size_t)j * bytes, b + (size_t)rows[j] * bytes,
                   bytes);
}

bool advc_graph_keep_rows(advc_graph *g, const int *rows, int k)
{
    assert(g->last_n > 0 && "advc_graph_keep_rows: no forward to narrow");
    assert(k >= 1 && k <= g->last_n);
    for (int j = 0; j < k; j++)
        assert(rows[j] >= 0 && rows[j] < g->last_n &&
               (j == 0 || rows[j] > rows[j - 1]));
    if (g->last_mode == ADVC_MODE_TRAIN) return false;
    for (int i = 0; i < g->naux; i++)
        if (g->aux[i].fixed && g->aux[i].per_sample) return false;
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *v = g->nodes[i];
        if (!v->alias && v->y)
            gather_rows(v->y, nn_size(v) * sizeof *v->y, rows, k);
        if (v->saved && g->last_kept)
            gather_rows(v->saved, v->op->saved(v) * sizeof *v->saved, rows,
                        k);
    }
    for (int i = 0; i < g->naux; i++) {
        const nn_auxdecl *a = &g->aux[i];
        void *buf = a->f ? (void *)*a->f : a->i ? (void *)*a->i
                                                : (void *)*a->u;
        if (a->per_sample)
            gather_rows(buf, a->per_sample * a->elem, rows, k);
    }
    g->last_n = k;
    return true;
}

const float *advc_graph_input_grad(const advc_graph *g)
{
    assert(g->batch > 0);
    return g->nodes[0]->dy;
}

/* ---- describe ---------------------------------------------------------- */

void advc_graph_describe(const advc_graph *g,
                         void (*line)(const char *s, void *ctx), void *ctx)
{
    char buf[320], extra[96], ins[64];
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *v = g->nodes[i];
        extra[0] = '\0';
        if (v->op->describe) v->op->describe(v, extra, sizeof extra);
        int k = 0;
        ins[0] = '\0';
        for (int j = 0; j < v->nin && k < (int)sizeof ins - 12; j++)
            k += snprintf(ins + k, sizeof ins - (size_t)k, "%s%d",
                          j ? "," : "", v->in[j]->id);
        int len = snprintf(buf, sizeof buf, "%3d %-10s %-20s <- [%s] "
                           "(%d,%d,%d)%s%s", i, v->op->name, v->name, ins,
                           v->shape.c, v->shape.h, v->shape.w,
                           extra[0] ? " " : "", extra);
        if (v->nparams && len < (int)sizeof buf)
            len += snprintf(buf + len, sizeof buf - (size_t)len,
                            " params=%zu", v->nparams);
        for (int e = 0; e < g->nexits && len < (int)sizeof buf; e++)
            if (g->exits[e].node == i)
                len += snprintf(buf + len, sizeof buf - (size_t)len,
                                " exit%d(w=%g)", e,
                                (double)g->exits[e].weight);
        line(buf, ctx);
    }
    snprintf(buf, sizeof buf, "total: %d nodes, %zu parameters, %zu state, "
             "%d exits", g->nnodes, g->nparams, g->nstate, g->nexits);
    line(buf, ctx);
}
